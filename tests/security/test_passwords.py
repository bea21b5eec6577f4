"""Password rules (three of four character classes) and the password change page."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from tests.factories import TEST_PASSWORD


@pytest.mark.parametrize(
    "password",
    ["lowercase-only-words", "ALLUPPER12345", "nouppercase123", "NoDigitsOrSymbols"],
)
def test_a_password_of_fewer_than_three_kinds_is_refused(password):
    with pytest.raises(ValidationError) as refused:
        validate_password(password)
    assert "password_too_uniform" in [e.code for e in refused.value.error_list]


@pytest.mark.parametrize(
    "password", ["Mixed-case-words", "Upper9lower9x", "lower-and-9-digits", "劳务协作Pass2026"]
)
def test_a_password_of_three_kinds_passes(password):
    validate_password(password)


def test_the_existing_rules_still_apply():
    with pytest.raises(ValidationError) as refused:
        validate_password("Ab1!")
    assert "password_too_short" in [e.code for e in refused.value.error_list]


def test_demo_and_test_passwords_pass_the_rules():
    validate_password(django_settings.DEMO_PASSWORD)
    validate_password(TEST_PASSWORD)


def test_the_message_is_translatable_and_clear():
    from django.utils import translation

    with translation.override("en"), pytest.raises(ValidationError) as refused:
        validate_password("onlylowercaseletters")
    assert "at least 3 of these four kinds of character" in " ".join(refused.value.messages)
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        validate_password("onlylowercaseletters")
    assert "至少包含以下四类字符中的 3 类" in " ".join(refused.value.messages)


def test_password_change_page(client, hr_officer):
    assert client.get("/accounts/password/").status_code == 302  # log-in first
    client.force_login(hr_officer)
    page = client.get("/accounts/password/")
    assert page.status_code == 200
    assert 'name="new_password1"' in page.content.decode()

    weak = client.post(
        "/accounts/password/",
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "alllowercaseletters",
            "new_password2": "alllowercaseletters",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert weak.status_code == 200
    assert "four kinds of character" in weak.content.decode()

    done = client.post(
        "/accounts/password/",
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "New-Strong-pass-77",
            "new_password2": "New-Strong-pass-77",
        },
    )
    assert done.status_code == 302
    assert done["Location"] == "/accounts/password/done/"
    assert client.get("/").status_code == 200  # still logged in
    hr_officer.refresh_from_db()
    assert hr_officer.check_password("New-Strong-pass-77")
