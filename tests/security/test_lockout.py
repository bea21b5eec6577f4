"""Repeated failed log-ins lock the account and the address (django-axes, in PostgreSQL)."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.db.models import F
from django.test import Client
from rest_framework.test import APIClient

from laborlink.services import api_client_create
from tests.factories import TEST_PASSWORD, UserFactory

LOGIN = "/accounts/login/"
LOCKED_EN = "Too many failed log-in attempts"


def _log_in(client, username, password, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def _fail(client, username, times, **extra):
    return [_log_in(client, username, "wrong-password", **extra) for _ in range(times)]


def test_five_wrong_passwords_lock_the_account_even_for_the_right_password(client, hr_officer):
    responses = _fail(client, "hr_yuhuan", 5, HTTP_ACCEPT_LANGUAGE="en")
    assert [r.status_code for r in responses[:4]] == [200] * 4
    assert "Please enter a correct username and password" in responses[3].content.decode()
    locked = responses[4]
    assert locked.status_code == 429
    assert locked["Retry-After"] == str(15 * 60)
    assert LOCKED_EN in locked.content.decode()
    assert "15 minutes" in locked.content.decode()

    right = _log_in(client, "hr_yuhuan", TEST_PASSWORD, HTTP_ACCEPT_LANGUAGE="en")
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_out_page_is_in_the_default_language(client, hr_officer):
    locked = _fail(client, "hr_yuhuan", 5)[-1]
    assert locked.status_code == 429
    html = locked.content.decode()
    assert '<html lang="zh-hans">' in html
    assert 'data-testid="locked-out"' in html


def test_an_unknown_account_is_locked_the_same_way(client, hr_officer):
    """The answers do not tell whether an account exists."""
    known = _fail(client, "hr_yuhuan", 5, HTTP_ACCEPT_LANGUAGE="en")
    unknown = _fail(client, "no_such_user", 5, HTTP_ACCEPT_LANGUAGE="en")
    assert [r.status_code for r in known] == [r.status_code for r in unknown]
    for a, b in zip(known, unknown, strict=True):
        assert a.content.decode().count("Please enter a correct") == b.content.decode().count(
            "Please enter a correct"
        )
    assert "no_such_user" not in unknown[-1].content.decode()
    assert "hr_yuhuan" not in known[-1].content.decode()


def test_log_in_works_again_after_the_cool_off(client, hr_officer):
    _fail(client, "hr_yuhuan", 5)
    assert _log_in(client, "hr_yuhuan", TEST_PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))
    response = _log_in(client, "hr_yuhuan", TEST_PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(hr_officer.pk)


def test_attempts_while_locked_do_not_extend_the_lock(client, hr_officer):
    _fail(client, "hr_yuhuan", 5)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=14))
    _fail(client, "hr_yuhuan", 3)  # refused while locked, not counted
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=2))
    assert _log_in(client, "hr_yuhuan", TEST_PASSWORD).status_code == 302


def test_axes_reset_username_unlocks_the_account(client, hr_officer):
    _fail(client, "hr_yuhuan", 5)
    call_command("axes_reset_username", "hr_yuhuan", verbosity=0)
    assert _log_in(client, "hr_yuhuan", TEST_PASSWORD).status_code == 302


def test_an_address_is_locked_after_its_own_higher_limit(client, hr_officer, settings):
    """Twenty failures from one address over many accounts lock the address, not others."""
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 20
    statuses = []
    for n in range(5):
        statuses += [
            r.status_code for r in _fail(client, f"guess{n}", 4, REMOTE_ADDR="203.0.113.7")
        ]
    # The 20th failure from 203.0.113.7 (at most 4 per account) locks the address.
    assert statuses == [200] * 19 + [429]
    blocked = _log_in(client, "hr_yuhuan", TEST_PASSWORD, REMOTE_ADDR="203.0.113.7")
    assert blocked.status_code == 429
    elsewhere = _log_in(client, "hr_yuhuan", TEST_PASSWORD, REMOTE_ADDR="198.51.100.9")
    assert elsewhere.status_code == 302


def test_failures_from_many_addresses_still_lock_the_account(client, hr_officer):
    for n in range(5):
        _log_in(client, "hr_yuhuan", "wrong-password", REMOTE_ADDR=f"198.51.100.{n + 1}")
    other_address = _log_in(client, "hr_yuhuan", TEST_PASSWORD, REMOTE_ADDR="192.0.2.50")
    assert other_address.status_code == 429
    UserFactory(username="colleague")
    # the address is not locked for a colleague (5 < 20)
    assert (
        _log_in(client, "colleague", TEST_PASSWORD, REMOTE_ADDR="198.51.100.1").status_code == 302
    )


def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, hr_officer, settings):
    settings.LOGIN_TRUSTED_PROXIES = 1
    for n in range(5):
        _fail(client, f"guess{n}", 4, HTTP_X_FORWARDED_FOR="203.0.113.7", REMOTE_ADDR="10.0.0.2")
    # Another client behind the same proxy is not locked out.
    ok = _log_in(
        client,
        "hr_yuhuan",
        TEST_PASSWORD,
        HTTP_X_FORWARDED_FOR="198.51.100.9",
        REMOTE_ADDR="10.0.0.2",
    )
    assert ok.status_code == 302
    # A forged left-most entry does not escape: the proxy appends the real address.
    blocked = Client().post(
        LOGIN,
        {"username": "x", "password": "y"},
        HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.7",
        REMOTE_ADDR="10.0.0.2",
    )
    assert blocked.status_code == 429


def test_log_in_works_while_redis_is_down(client, hr_officer, settings):
    """Attempts are counted in PostgreSQL: a dead cache changes nothing."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    assert _log_in(client, "hr_yuhuan", "wrong-password").status_code == 200
    assert AccessAttempt.objects.filter(username="hr_yuhuan").exists()
    assert _log_in(client, "hr_yuhuan", TEST_PASSWORD).status_code == 302


# --- The OAuth2 token endpoint ---------------------------------------------------------------

SECRET = "a-very-long-client-secret-for-tests-0123456789"


@pytest.fixture
def application(sichuan_bureau):
    _machine, app, _secret = api_client_create(
        actor=None, bureau=sichuan_bureau, name="四川省就业信息系统", client_secret=SECRET
    )
    return app


def _token_request(client_id, secret, address="127.0.0.1"):
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return APIClient().post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        format="multipart",
        HTTP_AUTHORIZATION=f"Basic {basic}",
        REMOTE_ADDR=address,
    )


def test_token_endpoint_locks_a_client_id_after_five_wrong_secrets(application):
    answers = [_token_request(application.client_id, "wrong") for _ in range(5)]
    assert [a.status_code for a in answers[:4]] == [401] * 4
    assert answers[4].status_code == 429
    assert answers[4].json()["error"] == "access_denied"
    refused = _token_request(application.client_id, SECRET)
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(15 * 60)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))
    assert _token_request(application.client_id, SECRET).status_code == 200


def test_token_endpoint_guessing_client_ids_locks_the_address(application, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 20
    for n in range(20):
        assert _token_request(f"guessed-{n}", "wrong", "203.0.113.7").status_code in (401, 429)
    assert _token_request(application.client_id, SECRET, "203.0.113.7").status_code == 429
    assert _token_request(application.client_id, SECRET, "198.51.100.9").status_code == 200
