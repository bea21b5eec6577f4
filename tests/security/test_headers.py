"""Security headers: the Content-Security-Policy everywhere, and under production settings
HSTS, frame and type protection and Secure/HttpOnly cookies."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import TEST_PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parents[2]
VALID_DATA_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # 32 bytes, base64
PRODUCTION_UNSET = {"DJANGO_SECRET_KEY", "DATA_ENCRYPTION_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}

# Runs in a fresh interpreter under DJANGO_DEBUG=false. Only the static-files storage is
# swapped (the production one needs `collectstatic` to have run).
PROBE = r"""
import json, sys
import django
django.setup()
from django.test import Client
from django.test.utils import override_settings

plain_storage = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
with override_settings(STORAGES=plain_storage):
    client = Client(HTTP_HOST="laborlink.example.org")
    insecure = client.get("/accounts/login/")
    page = client.get("/accounts/login/", secure=True)
    login = client.post(
        "/accounts/login/", {"username": sys.argv[1], "password": sys.argv[2]}, secure=True
    )
    cookies = {}
    for response in (page, login):
        for name, morsel in response.cookies.items():
            cookies[name] = {"secure": bool(morsel["secure"]), "httponly": bool(morsel["httponly"])}
    print(json.dumps({
        "insecure": [insecure.status_code, insecure.get("Location", "")],
        "login": login.status_code,
        "headers": dict(page.headers),
        "cookies": cookies,
    }))
"""


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in policy.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


@pytest.mark.django_db(transaction=True)
def test_production_headers_and_cookies(settings):
    # The probe checks the password with the production hasher, so store it with that one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    user = UserFactory(username="prod_probe")
    db = connection.settings_dict
    env = {key: value for key, value in os.environ.items() if key not in PRODUCTION_UNSET}
    env.update(
        DJANGO_SETTINGS_MODULE="laborlink.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DATA_ENCRYPTION_KEY=VALID_DATA_KEY,
        DJANGO_ALLOWED_HOSTS="laborlink.example.org",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE, user.username, TEST_PASSWORD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])

    assert probe["insecure"] == [301, "https://laborlink.example.org/accounts/login/"]
    headers = probe["headers"]
    hsts = dict(
        item.strip().partition("=")[::2] for item in headers["Strict-Transport-Security"].split(";")
    )
    assert int(hsts["max-age"]) >= 31536000
    assert "includeSubDomains" in hsts
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    policy = _directives(headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]

    assert probe["login"] == 302
    assert probe["cookies"]["csrftoken"]["secure"] is True
    assert probe["cookies"]["sessionid"] == {"secure": True, "httponly": True}


def test_every_page_carries_the_policy(client, sichuan_officer):
    pages = ["/accounts/login/", "/health/verify/"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        policy = _directives(response["Content-Security-Policy"])
        assert policy == {
            "default-src": ["'self'"],
            "script-src": ["'self'"],
            "style-src": ["'self'"],
            "img-src": ["'self'", "data:"],
            "font-src": ["'self'"],
            "connect-src": ["'self'"],
            "object-src": ["'none'"],
            "base-uri": ["'self'"],
            "form-action": ["'self'"],
            "frame-ancestors": ["'none'"],
        }, path
    client.force_login(sichuan_officer)
    for path in ["/", "/recruitment/postings/", "/admin/login/"]:
        response = client.get(path)
        assert "Content-Security-Policy" in response, path
        assert "'unsafe-inline'" not in response["Content-Security-Policy"], path


def test_the_api_docs_run_no_inline_script(client, sichuan_officer):
    client.force_login(sichuan_officer)
    for path in ["/api/docs/", "/api/redoc/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        policy = _directives(response["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"], path
        html = response.content.decode()
        assert "<script>" not in html, path
    # Swagger UI's start-up script is a file of its own, from this site.
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")


def test_the_chart_svg_keeps_its_own_stricter_policy(client, zhejiang_officer):
    client.force_login(zhejiang_officer)
    response = client.get("/transport/statistics/chart/arrivals.svg")
    assert response.status_code == 200
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
