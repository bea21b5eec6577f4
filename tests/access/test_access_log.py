"""Denied attempts are logged: who (user id, role), method, path and status, nothing else."""

from __future__ import annotations

import logging

import pytest

pytestmark = pytest.mark.django_db


def _denials(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "laborlink.access"]


def test_a_denied_read_is_logged_without_its_query_string(client, sichuan_officer, caplog):
    caplog.set_level(logging.WARNING, logger="laborlink.access")
    client.force_login(sichuan_officer)
    response = client.get("/recruitment/applicants/987654/", {"tab": "history"})
    assert response.status_code == 404
    assert _denials(caplog) == [
        f"access denied: status=404 method=GET path=/recruitment/applicants/987654/ "
        f"user={sichuan_officer.pk} role=bureau_officer"
    ]


def test_a_refused_api_write_is_logged_for_the_api_client(sichuan_bureau, caplog):
    from rest_framework.test import APIClient

    from laborlink.services import api_client_create
    from tests.api.test_api_client import SECRET, _token

    machine, application, _secret = api_client_create(
        actor=None, bureau=sichuan_bureau, name="四川省就业信息系统", client_secret=SECRET
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {_token(application.client_id, SECRET)}")
    caplog.set_level(logging.WARNING, logger="laborlink.access")
    assert api.post("/api/v1/postings/", {}, format="json").status_code == 403
    assert _denials(caplog) == [
        f"access denied: status=403 method=POST path=/api/v1/postings/ "
        f"user={machine.pk} role=api_client"
    ]


def test_anonymous_visitors_and_successes_are_not_logged(client, sichuan_officer, caplog):
    caplog.set_level(logging.WARNING, logger="laborlink.access")
    assert client.get("/recruitment/applicants/987654/").status_code == 302  # to log in
    assert client.get("/api/v1/applicants/987654/").status_code in {401, 403}
    client.force_login(sichuan_officer)
    assert client.get("/recruitment/applicants/").status_code == 200
    assert _denials(caplog) == []
