"""`python -m health.verify`: verifies a token offline with only the published trust list (and
optionally the revocation list). Each test runs the command in a subprocess whose environment
has no database, Redis or Django settings — or points them at nothing that answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone, translation

from health import selectors, services, tokens

PROJECT = Path(__file__).resolve().parents[2]
SHANGHAI = ZoneInfo("Asia/Shanghai")
ISSUER = "51-HA-7"
KID = "51-HA-7-20261101-0a1b2c"
NUMBER = "HC202651K7M2Q9XZ"
KEY = Ed25519PrivateKey.generate()
# Nothing listens there: a command that tried to connect would fail.
UNREACHABLE = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:9/nothing",
    "REDIS_URL": "redis://127.0.0.1:9/0",
    "DJANGO_SETTINGS_MODULE": "laborlink.settings",
}


def message(code: str, language: str) -> str:
    with translation.override(language):
        return str(tokens.MESSAGES[code])


def run(*args: str, stdin: str | None = None, env: dict | None = None):
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "PYTHONPATH"}
    }
    clean["PYTHONIOENCODING"] = "utf-8"
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "health.verify", *args],
        cwd=PROJECT,
        env=clean,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def write(path: Path, data) -> str:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def current_token(**overrides) -> str:
    now = int(timezone.now().timestamp())
    claims = {
        "jti": NUMBER,
        "iss": ISSUER,
        "nid": "5116**********0021",
        "nam": "王五",
        "res": "fit",
        "iat": now - 3600,
        "nbf": now - 3600,
        "exp": int(services._end_of(timezone.localdate() + timedelta(days=30)).timestamp()),
        **overrides,
    }
    return tokens.sign(claims, private_key=KEY, kid=KID)


def tampered(token: str) -> str:
    """One character of the signature changed (away from its end, so still canonical)."""
    i = len(token) - 10
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]


@pytest.fixture
def trust_file(tmp_path) -> str:
    key = {
        **tokens.public_jwk(KEY.public_key(), kid=KID),
        "iss": ISSUER,
        "issuer_name": "四川省广安市卫生健康委员会",
        "status": "active",
        "retired_at": None,
    }
    return write(tmp_path / "trust-list.json", {"keys": [key]})


def test_a_valid_token_exits_0_with_the_chinese_message(trust_file):
    result = run(current_token(), "--trust-list", trust_file)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"valid: {message('valid', 'zh-hans')}"
    assert f"  number: {NUMBER}" in lines
    assert "  name: 王五" in lines
    assert "  issuer_name: 四川省广安市卫生健康委员会" in lines
    assert result.stderr == ""


def test_no_database_redis_or_project_settings_are_touched(trust_file):
    """With the project's settings named and the database and Redis pointed at a closed port,
    the command still answers — and never imports the settings or a database driver."""
    result = run(current_token(), "--trust-list", trust_file, env=UNREACHABLE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("valid: ")
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from health import verify\n"
            "code = verify.main(sys.argv[1:])\n"
            "loaded = [m for m in ('laborlink.settings', 'psycopg', 'redis', 'django.db.backends"
            ".postgresql.base', 'health.models') if m in sys.modules]\n"
            "print('LOADED', loaded, code)\n",
            current_token(),
            "--trust-list",
            trust_file,
        ],
        cwd=PROJECT,
        env={**os.environ, **UNREACHABLE, "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    assert probe.stdout.splitlines()[-1] == "LOADED [] 0", probe.stdout + probe.stderr


def test_english_on_request(trust_file):
    result = run(current_token(), "--trust-list", trust_file, "--lang", "en")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == (
        "valid: Valid: the certificate is genuine, in force and not revoked."
    )


def test_a_number_on_the_revocation_list_exits_1_revoked(trust_file, tmp_path):
    revocations = write(tmp_path / "revocations.json", {"revoked": ["HC2026510THER000", NUMBER]})
    result = run(current_token(), "--trust-list", trust_file, "--revocations", revocations)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == f"revoked: {message('revoked', 'zh-hans')}"
    others = write(tmp_path / "others.json", {"revoked": ["HC2026510THER000"]})
    result = run(current_token(), "--trust-list", trust_file, "--revocations", others)
    assert result.returncode == 0


def test_json_output_parses(trust_file):
    result = run(current_token(), "--trust-list", trust_file, "--json", "--lang", "en")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["code"] == "valid"
    assert data["valid"] is True
    assert data["message"] == message("valid", "en")
    assert data["certificate"]["number"] == NUMBER
    assert data["certificate"]["name"] == "王五"
    assert data["certificate"]["expires_at"].endswith("T00:00:00+08:00")
    data = json.loads(run(tampered(current_token()), "--trust-list", trust_file, "--json").stdout)
    assert data == {
        "code": "signature_invalid",
        "valid": False,
        "message": message("signature_invalid", "zh-hans"),
    }


def test_the_token_can_come_from_standard_input(trust_file):
    result = run("-", "--trust-list", trust_file, stdin=current_token() + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("valid: ")
    result = run("-", "--trust-list", trust_file, stdin="")
    assert result.returncode == 1
    assert result.stdout.startswith("malformed: ")


@pytest.mark.parametrize("problem", ["missing", "not-json", "not-a-jwks"])
def test_an_unreadable_trust_list_is_a_usage_error_not_a_traceback(problem, tmp_path):
    path = tmp_path / "trust-list.json"
    if problem == "not-json":
        path.write_text("<html>502 Bad Gateway</html>")
    elif problem == "not-a-jwks":
        write(path, [{"kid": KID}])
    result = run(current_token(), "--trust-list", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "trust list" in result.stderr
    assert str(path) in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreadable_revocation_list_is_a_usage_error(trust_file, tmp_path):
    for revocations in (tmp_path / "missing.json", Path(write(tmp_path / "r.json", ["x"]))):
        result = run(current_token(), "--trust-list", trust_file, "--revocations", str(revocations))
        assert result.returncode == 2
        assert "revocation list" in result.stderr
        assert "Traceback" not in result.stderr


def test_at_checks_expiry_in_shanghai_time(trust_file):
    issued = int(datetime(2027, 1, 2, 9, 0, tzinfo=SHANGHAI).timestamp())
    token = current_token(
        iat=issued, nbf=issued, exp=int(services._end_of(date(2027, 1, 31)).timestamp())
    )
    last_second = run(token, "--trust-list", trust_file, "--at", "2027-01-31T23:59:59+08:00")
    assert last_second.returncode == 0, last_second.stdout
    after = run(token, "--trust-list", trust_file, "--at", "2027-02-01T00:00:00+08:00")
    assert after.returncode == 1
    assert after.stdout.splitlines()[0] == f"expired: {message('expired', 'zh-hans')}"
    utc = run(token, "--trust-list", trust_file, "--at", "2027-01-31T16:00:00Z", "--lang", "en")
    assert utc.stdout.startswith("expired: Expired:")
    early = run(token, "--trust-list", trust_file, "--at", "2027-01-02T08:59:59+08:00")
    assert early.returncode == 1
    assert early.stdout.startswith("not_yet_valid: ")


@pytest.mark.parametrize("at", ["2027-02-01T00:00:00", "tomorrow"])
def test_at_without_an_offset_or_not_a_time_is_a_usage_error(trust_file, at):
    result = run(current_token(), "--trust-list", trust_file, "--at", at)
    assert result.returncode == 2
    assert "--at" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_tokens_exit_1_with_their_reason(trust_file, tmp_path):
    other = Ed25519PrivateKey.generate()
    cases = {
        "not a token": "malformed",
        tampered(current_token()): "signature_invalid",
        tokens.sign({"jti": NUMBER}, private_key=KEY, kid="51-HA-7-unknown"): "unknown_key",
        tokens.sign({"jti": NUMBER}, private_key=other, kid=KID): "signature_invalid",
        current_token(iss="52-HA-9"): "unknown_issuer",
    }
    for token, code in cases.items():
        result = run(token, "--trust-list", trust_file, "--lang", "en")
        assert result.returncode == 1, (token, result.stdout)
        assert result.stdout.splitlines()[0] == f"{code}: {message(code, 'en')}"


@pytest.mark.django_db
def test_a_certificate_issued_on_the_platform_verifies_with_the_published_lists_alone(
    health_officer, sichuan_officer, tmp_path
):
    from tests.factories import make_applicant

    today = timezone.localdate()
    certificate = services.certificate_issue(
        actor=health_officer,
        applicant=make_applicant(sichuan_officer, name="赵六"),
        examined_on=today,
        result="fit",
        valid_until=today + timedelta(days=20),
    )
    token = services.certificate_token(certificate)
    trust = write(tmp_path / "trust-list.json", selectors.trust_list())
    revocations = tmp_path / "revocations.json"
    write(revocations, {"revoked": selectors.revoked_certificate_numbers()})

    result = run(token, "--trust-list", trust, "--revocations", str(revocations), env=UNREACHABLE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == f"valid: {message('valid', 'zh-hans')}"
    assert f"  number: {certificate.number}" in result.stdout
    assert f"  issuer_name: {health_officer.organization.name}" in result.stdout

    services.certificate_revoke(actor=health_officer, certificate=certificate, reason="误发")
    write(revocations, {"revoked": selectors.revoked_certificate_numbers()})
    result = run(token, "--trust-list", trust, "--revocations", str(revocations), env=UNREACHABLE)
    assert result.returncode == 1
    assert result.stdout.startswith("revoked: ")

    expiry = services._end_of(certificate.valid_until).isoformat()
    result = run(token, "--trust-list", trust, "--at", expiry, env=UNREACHABLE)
    assert result.returncode == 1
    assert result.stdout.startswith("expired: ")
