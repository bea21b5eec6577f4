"""An API test client that fails a test as soon as a response carries a full ID number or a
full mobile phone number. Only the audited `reveal` answer may carry one."""

from __future__ import annotations

import re

from rest_framework.test import APIClient

FULL_NATIONAL_ID = re.compile(r"(?<![0-9A-Za-z])[1-8]\d{16}[\dXx](?![0-9A-Za-z])")
FULL_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
REVEAL_PATH = re.compile(r"/applicants/\d+/reveal/$")


def assert_no_personal_data(text: str) -> None:
    ids = FULL_NATIONAL_ID.findall(text)
    phones = FULL_MOBILE.findall(text)
    assert not ids, f"a full ID number is in the response: {ids}"
    assert not phones, f"a full phone number is in the response: {phones}"


class MaskCheckingClient(APIClient):
    def request(self, **kwargs):
        response = super().request(**kwargs)
        if not REVEAL_PATH.search(kwargs.get("PATH_INFO", "")):
            assert_no_personal_data(response.content.decode())
        return response


def api_as(user=None) -> MaskCheckingClient:
    client = MaskCheckingClient()
    if user is not None:
        client.force_authenticate(user)
    return client
