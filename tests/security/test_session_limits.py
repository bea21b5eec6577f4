"""A session ends after 30 idle minutes and 8 hours after log-in."""

from __future__ import annotations

import time

from django.db import connection
from django.test.utils import CaptureQueriesContext

from laborlink.accounts import LAST_SEEN_SESSION_KEY, LOGIN_AT_SESSION_KEY


def _set_clocks(client, *, login_ago: int, seen_ago: int) -> None:
    session = client.session
    now = int(time.time())
    session[LOGIN_AT_SESSION_KEY] = now - login_ago
    session[LAST_SEEN_SESSION_KEY] = now - seen_ago
    session.save()


def test_log_in_starts_both_clocks(client, hr_officer):
    client.force_login(hr_officer)
    session = client.session
    assert isinstance(session[LOGIN_AT_SESSION_KEY], int)
    assert session[LAST_SEEN_SESSION_KEY] == session[LOGIN_AT_SESSION_KEY]


def test_an_idle_session_is_logged_out(client, hr_officer, settings):
    settings.SESSION_IDLE_MINUTES = 30
    client.force_login(hr_officer)
    _set_clocks(client, login_ago=31 * 60, seen_ago=31 * 60)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "logged out after 30 minutes without activity" in page


def test_an_active_session_stays_and_its_idle_clock_moves(client, hr_officer, settings):
    settings.SESSION_IDLE_MINUTES = 30
    client.force_login(hr_officer)
    _set_clocks(client, login_ago=29 * 60, seen_ago=29 * 60)
    assert client.get("/").status_code == 200
    seen = client.session[LAST_SEEN_SESSION_KEY]
    assert int(time.time()) - seen < 60
    # 29 more minutes later the session is still alive: the request above counted.
    session = client.session
    session[LAST_SEEN_SESSION_KEY] = seen - 29 * 60
    session.save()
    assert client.get("/").status_code == 200


def test_a_session_ends_eight_hours_after_log_in_however_active(client, hr_officer, settings):
    settings.SESSION_COOKIE_AGE = 8 * 3600
    client.force_login(hr_officer)
    _set_clocks(client, login_ago=8 * 3600 + 1, seen_ago=10)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "ended 8 hours after you logged in" in page


def test_a_recent_request_does_not_write_the_session(client, hr_officer):
    """The idle clock is written at most once a minute, not on every page."""
    client.force_login(hr_officer)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    assert any('FROM "django_session"' in q for q in sql)  # the capture works
    assert not any('UPDATE "django_session"' in q for q in sql)
