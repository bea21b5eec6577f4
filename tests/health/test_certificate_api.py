"""Certificates over the API: issue, revoke, filter, and verify a token (anyone may)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from health import services, tokens
from health.models import HealthCertificate, VerificationLog
from laborlink.services import api_client_create
from laborlink.throttling import AnonThrottle as AnonRateThrottle
from tests.api.masked_client import api_as
from tests.factories import make_applicant

pytestmark = pytest.mark.django_db

VERIFY = "/api/v1/certificates/verify/"


@pytest.fixture
def applicant(sichuan_officer):
    return make_applicant(sichuan_officer, name="王德华")


def issue(officer, applicant, **overrides):
    today = timezone.localdate()
    values = {
        "applicant": applicant,
        "examined_on": today - timedelta(days=2),
        "result": "fit",
        "valid_until": today + timedelta(days=60),
        "notes": "血压偏高，建议复查。",
    }
    values.update(overrides)
    return services.certificate_issue(actor=officer, **values)


def issue_body(applicant, **overrides):
    today = timezone.localdate()
    body = {
        "applicant": applicant.pk,
        "examined_on": str(today - timedelta(days=1)),
        "result": "fit",
        "valid_until": str(today + timedelta(days=80)),
        "notes": "听力正常。",
    }
    body.update(overrides)
    return body


def change_one_character(segment: str, at: int) -> str:
    replacement = "B" if segment[at] == "A" else "A"
    return segment[:at] + replacement + segment[at + 1 :]


# --- Issue and revoke -----------------------------------------------------------------------


def test_health_officer_issues_a_certificate_over_the_api(health_officer, applicant):
    response = api_as(health_officer).post("/api/v1/certificates/", issue_body(applicant))

    assert response.status_code == 201, response.content
    body = response.json()
    certificate = HealthCertificate.objects.get(number=body["number"])
    assert body["applicant"] == {
        "id": applicant.pk,
        "name": "王德华",
        "national_id_masked": applicant.national_id_masked,
    }
    assert body["authority"]["id"] == health_officer.organization_id
    assert body["key_id"] == certificate.key.kid
    assert body["status"] == "valid"
    assert body["in_force"] is True
    assert body["result"] == "fit"
    assert body["notes"] == "听力正常。"
    assert certificate.issued_by == health_officer
    # The answered token is the signed one and names the applicant, masked.
    outcome = services.certificate_verify(actor=None, token=body["token"], channel="api")
    assert outcome.code == tokens.VALID
    assert outcome.claims["jti"] == body["number"]
    assert outcome.claims["nid"] == applicant.national_id_masked


def test_issuing_breaking_a_policy_rule_answers_400_on_the_field(health_officer, applicant):
    tomorrow = str(timezone.localdate() + timedelta(days=1))
    response = api_as(health_officer).post(
        "/api/v1/certificates/", issue_body(applicant, examined_on=tomorrow)
    )

    assert response.status_code == 400
    assert "examined_on" in response.json()["error"]["details"]
    assert not HealthCertificate.objects.exists()


def test_issuing_with_a_result_outside_the_choices_answers_400(health_officer, applicant):
    response = api_as(health_officer).post(
        "/api/v1/certificates/", issue_body(applicant, result="probably")
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "result" in response.json()["error"]["details"]


def test_issuing_for_an_applicant_of_another_province_answers_404(health_officer, guizhou_officer):
    stranger = make_applicant(guizhou_officer)

    response = api_as(health_officer).post("/api/v1/certificates/", issue_body(stranger))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_bureau_officer_cannot_issue(sichuan_officer, applicant):
    response = api_as(sichuan_officer).post("/api/v1/certificates/", issue_body(applicant))

    assert response.status_code == 403
    assert not HealthCertificate.objects.exists()


def test_health_officer_revokes_over_the_api(health_officer, applicant):
    certificate = issue(health_officer, applicant)
    api = api_as(health_officer)

    response = api.post(
        f"/api/v1/certificates/{certificate.pk}/revoke/", {"reason": "检查报告有误"}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "revoked"
    assert body["revoke_reason"] == "检查报告有误"
    assert body["revoked_at"] is not None
    assert body["in_force"] is False
    certificate.refresh_from_db()
    assert certificate.revoked_by == health_officer

    again = api.post(f"/api/v1/certificates/{certificate.pk}/revoke/", {"reason": "再次"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "revoked"


def test_revoking_without_a_reason_answers_400(health_officer, applicant):
    certificate = issue(health_officer, applicant)

    response = api_as(health_officer).post(
        f"/api/v1/certificates/{certificate.pk}/revoke/", {"reason": ""}
    )

    assert response.status_code == 400
    assert "reason" in response.json()["error"]["details"]
    certificate.refresh_from_db()
    assert certificate.status == HealthCertificate.Status.VALID


def test_list_filters_by_status_applicant_and_dates(health_officer, sichuan_officer, applicant):
    other = make_applicant(sichuan_officer, name="李春梅")
    today = timezone.localdate()
    short = issue(health_officer, applicant, valid_until=today + timedelta(days=10))
    long = issue(health_officer, other, valid_until=today + timedelta(days=80))
    services.certificate_revoke(actor=health_officer, certificate=short, reason="作废")
    api = api_as(health_officer)

    def numbers(**params):
        response = api.get("/api/v1/certificates/", params)
        assert response.status_code == 200, response.content
        return [row["number"] for row in response.json()["results"]]

    assert numbers(status="revoked") == [short.number]
    assert numbers(status="valid") == [long.number]
    assert numbers(applicant=other.pk) == [long.number]
    assert numbers(valid_until_after=str(today + timedelta(days=30))) == [long.number]
    assert numbers(valid_until_before=str(today + timedelta(days=30))) == [short.number]
    assert set(numbers(issued_after=str(today), issued_before=str(today))) == {
        short.number,
        long.number,
    }
    assert numbers(issued_after=str(today + timedelta(days=1))) == []
    assert numbers(ordering="valid_until") == [short.number, long.number]
    assert numbers(ordering="-valid_until") == [long.number, short.number]


# --- Verify ---------------------------------------------------------------------------------


def test_verify_answers_valid_for_a_fresh_token(health_officer, sichuan_officer, applicant):
    certificate = issue(health_officer, applicant)
    token = services.certificate_token(certificate)

    response = api_as(sichuan_officer).post(VERIFY, {"token": token})

    assert response.status_code == 200
    body = response.json()
    assert body["code"] == "valid"
    assert body["valid"] is True
    assert body["message"]
    assert body["certificate"]["number"] == certificate.number
    assert body["certificate"]["issuer"] == services.issuer_id(health_officer.organization)
    assert body["certificate"]["issuer_name"] == health_officer.organization.name
    assert body["certificate"]["national_id_masked"] == applicant.national_id_masked
    assert response["Cache-Control"] == "no-store"


def test_verify_answers_revoked_after_revocation(health_officer, applicant):
    certificate = issue(health_officer, applicant)
    token = services.certificate_token(certificate)
    api = APIClient()
    assert api.post(VERIFY, {"token": token}).json()["code"] == "valid"

    services.certificate_revoke(actor=health_officer, certificate=certificate, reason="复查不合格")
    response = api.post(VERIFY, {"token": token})

    assert response.status_code == 200
    assert response.json()["code"] == "revoked"
    assert response.json()["valid"] is False


@pytest.mark.parametrize("segment", [0, 1, 2])
def test_verify_refuses_a_token_with_one_changed_character(health_officer, applicant, segment):
    token = services.certificate_token(issue(health_officer, applicant))
    parts = token.split(".")
    parts[segment] = change_one_character(parts[segment], len(parts[segment]) // 2)

    response = APIClient().post(VERIFY, {"token": ".".join(parts)})

    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False
    # A changed header no longer decodes to the header that was signed.
    assert body["code"] in {"signature_invalid", "malformed"}
    if segment != 0:
        assert body["code"] == "signature_invalid"
    assert "certificate" not in body


@pytest.mark.parametrize("garbage", ["hello", "a.b.c", "...", "eyJ.eyJ.x" * 3, "é.ü.ß"])
def test_verify_answers_malformed_for_garbage(garbage):
    response = APIClient().post(VERIFY, {"token": garbage})

    assert response.status_code == 200
    assert response.json()["code"] == "malformed"
    assert response.json()["valid"] is False


@pytest.mark.parametrize(
    "body",
    [{}, {"token": ""}, {"token": "   "}, {"token": None}, {"token": 12345}, {"token": ["x"]}],
    ids=["missing", "empty", "blank", "null", "number", "list"],
)
def test_verify_without_a_text_token_answers_400_in_the_one_error_shape(body):
    response = APIClient().post(VERIFY, body, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "token" in error["details"]
    assert not VerificationLog.objects.exists()


def test_verify_refuses_a_huge_token_with_400():
    response = APIClient().post(VERIFY, {"token": "A" * 100_000}, format="json")

    assert response.status_code == 400
    assert "token" in response.json()["error"]["details"]


def test_verify_refuses_a_body_that_is_not_an_object():
    response = APIClient().post(VERIFY, ["token"], format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_verify_refuses_a_body_that_is_not_json():
    response = APIClient().post(VERIFY, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert "error" in response.json()


def test_verify_refuses_a_deeply_nested_body_without_a_server_error():
    response = APIClient().post(VERIFY, "[" * 100_000, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_anonymous_verification_is_allowed_and_logged_without_an_actor(health_officer, applicant):
    certificate = issue(health_officer, applicant)

    response = APIClient().post(VERIFY, {"token": services.certificate_token(certificate)})

    assert response.status_code == 200
    log = VerificationLog.objects.get()
    assert log.actor is None
    assert log.channel == "api"
    assert log.outcome == "valid"
    assert log.certificate_number == certificate.number


def test_every_verification_is_logged_with_actor_and_outcome(health_officer, hr_officer, applicant):
    certificate = issue(health_officer, applicant)
    token = services.certificate_token(certificate)
    api = api_as(hr_officer)

    api.post(VERIFY, {"token": token})
    api.post(VERIFY, {"token": "garbage"})
    services.certificate_revoke(actor=health_officer, certificate=certificate, reason="作废")
    api.post(VERIFY, {"token": token})

    logs = list(VerificationLog.objects.order_by("id"))
    assert [log.outcome for log in logs] == ["valid", "malformed", "revoked"]
    assert all(log.actor == hr_officer and log.channel == "api" for log in logs)
    assert [log.certificate_number for log in logs] == [certificate.number, "", certificate.number]


def test_api_client_may_verify_although_it_only_reads(sichuan_bureau, health_officer, applicant):
    machine, _application, _secret = api_client_create(
        actor=None, bureau=sichuan_bureau, name="四川省就业信息系统"
    )
    token = services.certificate_token(issue(health_officer, applicant))

    response = api_as(machine).post(VERIFY, {"token": token})

    assert response.status_code == 200
    assert response.json()["code"] == "valid"
    assert VerificationLog.objects.get().actor == machine


def test_anonymous_verification_is_throttled(monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": None})
    api = APIClient()

    codes = [api.post(VERIFY, {"token": "x.y.z"}).status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]
    assert VerificationLog.objects.count() == 3


def test_verify_is_documented_in_the_schema():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    schema = response.json()

    operation = schema["paths"]["/api/v1/certificates/verify/"]["post"]
    request_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    response_ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    request_schema = schema["components"]["schemas"][request_ref.rsplit("/", 1)[1]]
    response_schema = schema["components"]["schemas"][response_ref.rsplit("/", 1)[1]]
    assert request_schema["required"] == ["token"]
    assert set(response_schema["properties"]) >= {"code", "valid", "message", "certificate"}
    code_ref = response_schema["properties"]["code"]["allOf"][0]["$ref"]
    assert (
        "signature_invalid" in schema["components"]["schemas"][code_ref.rsplit("/", 1)[1]]["enum"]
    )
    assert {} in operation["security"]  # anonymous callers are allowed
