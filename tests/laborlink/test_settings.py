"""Production refuses to start without its secrets."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETUP = "import django; django.setup(); print('started')"
# Set by the browser-test harness for its own thread; never part of a deployment.
PRODUCTION_UNSET = {
    "DJANGO_SECRET_KEY",
    "DATA_ENCRYPTION_KEY",
    "DJANGO_DEBUG",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}
VALID_DATA_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # 32 bytes, base64


def _start(**overrides: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in PRODUCTION_UNSET}
    env["DJANGO_SETTINGS_MODULE"] = "laborlink.settings"
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "-c", SETUP], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_development_starts_with_defaults():
    result = _start()
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        ({"DATA_ENCRYPTION_KEY": VALID_DATA_KEY}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "s" * 60}, "DATA_ENCRYPTION_KEY"),
    ],
)
def test_production_refuses_a_missing_secret(present, missing):
    result = _start(DJANGO_DEBUG="false", DJANGO_ALLOWED_HOSTS="example.org", **present)
    assert result.returncode != 0
    assert f"{missing} is not set" in result.stderr
    assert "started" not in result.stdout


def test_production_refuses_the_development_placeholder():
    from laborlink import settings as dev_settings

    result = _start(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=dev_settings._DEV_SECRET_KEY,
        DATA_ENCRYPTION_KEY=VALID_DATA_KEY,
    )
    assert result.returncode != 0
    assert "development placeholder" in result.stderr


def test_production_starts_with_its_secrets():
    result = _start(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="s" * 60,
        DATA_ENCRYPTION_KEY=VALID_DATA_KEY,
        DJANGO_ALLOWED_HOSTS="example.org",
    )
    assert result.returncode == 0, result.stderr


def test_a_non_postgres_database_is_refused():
    result = _start(DATABASE_URL="sqlite:///var/db.sqlite3")
    assert result.returncode != 0
    assert "must point to PostgreSQL" in result.stderr


def test_time_and_language_defaults(settings):
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _ in settings.LANGUAGES] == ["zh-hans", "en"]


def test_deploy_check_passes_under_production_settings():
    env = {key: value for key, value in os.environ.items() if key not in PRODUCTION_UNSET}
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DATA_ENCRYPTION_KEY=VALID_DATA_KEY,
        DJANGO_ALLOWED_HOSTS="laborlink.example.org",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("bad_key", ["not base64!", "c2hvcnQ="])
def test_a_malformed_encryption_key_stops_start_up(bad_key):
    result = _start(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DATA_ENCRYPTION_KEY=bad_key,
        DJANGO_ALLOWED_HOSTS="example.org",
    )
    assert result.returncode != 0
    assert "DATA_ENCRYPTION_KEY must" in result.stderr
