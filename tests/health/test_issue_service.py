"""certificate_issue and certificate_revoke: the policy bounds, who may, encryption at rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from health import selectors, services, tokens
from health.models import HealthCertificate
from laborlink.errors import Conflict, DomainError, Forbidden, NotFound
from laborlink.models import Organization, User
from tests.factories import OrganizationFactory, UserFactory, make_applicant, province

pytestmark = pytest.mark.django_db

NOTES = "左耳听力轻度下降，建议三个月后复查。"


@pytest.fixture
def applicant(sichuan_officer):
    return make_applicant(sichuan_officer, name="李春梅")


@pytest.fixture
def guizhou_health_officer(db):
    authority = OrganizationFactory(
        name="贵州省毕节市卫生健康局",
        kind=Organization.Kind.HEALTH_AUTHORITY,
        province=province("52"),
        level=Organization.Level.CITY,
    )
    return UserFactory(role=User.Role.HEALTH_OFFICER, organization=authority)


def issue(officer, applicant, **overrides):
    today = timezone.localdate()
    values = {
        "applicant": applicant,
        "examined_on": today - timedelta(days=3),
        "result": "fit",
        "valid_until": today + timedelta(days=60),
        "notes": NOTES,
    }
    values.update(overrides)
    return services.certificate_issue(actor=officer, **values)


def field_of(excinfo) -> str | None:
    return excinfo.value.field


# --- Issue ----------------------------------------------------------------------------------


def test_issued_certificate_carries_a_verifiable_token_with_only_what_a_checker_needs(
    health_officer, applicant
):
    today = timezone.localdate()
    certificate = issue(health_officer, applicant, valid_until=today + timedelta(days=30))

    assert certificate.number.startswith(f"HC{today:%Y}51")
    assert certificate.status == HealthCertificate.Status.VALID
    assert certificate.authority == health_officer.organization
    assert certificate.issued_by == health_officer
    assert services.certificate_result(certificate) == "fit"
    assert services.certificate_notes(certificate) == NOTES
    outcome = tokens.verify(
        services.certificate_token(certificate), trust_list=selectors.trust_list()
    )
    assert outcome.code == tokens.VALID
    claims = outcome.claims
    assert set(claims) == set(tokens.REQUIRED_CLAIMS)
    assert claims["jti"] == certificate.number
    assert claims["iss"] == services.issuer_id(health_officer.organization)
    assert claims["nid"] == applicant.national_id_masked
    assert claims["nam"] == "李春梅"
    assert claims["res"] == "fit"
    # Valid through the whole valid-until day in Asia/Shanghai, not a second longer.
    end = timezone.localtime(datetime.fromtimestamp(claims["exp"], tz=UTC))
    assert (end.date(), end.hour, end.minute) == (today + timedelta(days=31), 0, 0)
    assert NOTES not in services.certificate_token(certificate)


def test_examination_in_the_future_is_refused(health_officer, applicant):
    tomorrow = timezone.localdate() + timedelta(days=1)

    with pytest.raises(DomainError) as excinfo:
        issue(health_officer, applicant, examined_on=tomorrow)

    assert field_of(excinfo) == "examined_on"
    assert not HealthCertificate.objects.exists()


def test_examination_older_than_thirty_days_is_refused(health_officer, applicant):
    today = timezone.localdate()

    with pytest.raises(DomainError) as excinfo:
        issue(health_officer, applicant, examined_on=today - timedelta(days=31))
    assert field_of(excinfo) == "examined_on"

    accepted = issue(health_officer, applicant, examined_on=today - timedelta(days=30))
    assert accepted.examined_on == today - timedelta(days=30)


def test_validity_beyond_ninety_days_after_the_examination_is_refused(health_officer, applicant):
    examined = timezone.localdate() - timedelta(days=1)

    with pytest.raises(DomainError) as excinfo:
        issue(
            health_officer,
            applicant,
            examined_on=examined,
            valid_until=examined + timedelta(days=91),
        )
    assert field_of(excinfo) == "valid_until"

    accepted = issue(
        health_officer, applicant, examined_on=examined, valid_until=examined + timedelta(days=90)
    )
    assert accepted.valid_until == examined + timedelta(days=90)


def test_valid_until_in_the_past_is_refused(health_officer, applicant):
    today = timezone.localdate()

    with pytest.raises(DomainError) as excinfo:
        issue(
            health_officer,
            applicant,
            examined_on=today - timedelta(days=10),
            valid_until=today - timedelta(days=1),
        )

    assert field_of(excinfo) == "valid_until"
    assert not HealthCertificate.objects.exists()


def test_valid_until_today_is_accepted(health_officer, applicant):
    today = timezone.localdate()

    certificate = issue(health_officer, applicant, valid_until=today)

    assert certificate.valid_until == today


@pytest.mark.parametrize("result", ["", "FIT", "unfit", "pass"])
def test_result_must_be_fit_or_not_fit(health_officer, applicant, result):
    with pytest.raises(DomainError) as excinfo:
        issue(health_officer, applicant, result=result)

    assert field_of(excinfo) == "result"


def test_not_fit_is_a_result_that_can_be_issued(health_officer, applicant):
    certificate = issue(health_officer, applicant, result="not_fit")

    assert services.certificate_result(certificate) == "not_fit"


def test_notes_longer_than_the_limit_are_refused(health_officer, applicant):
    with pytest.raises(DomainError) as excinfo:
        issue(health_officer, applicant, notes="注" * (services.MAX_NOTES_LENGTH + 1))
    assert field_of(excinfo) == "notes"

    accepted = issue(health_officer, applicant, notes="注" * services.MAX_NOTES_LENGTH)
    assert len(services.certificate_notes(accepted)) == services.MAX_NOTES_LENGTH


def test_applicant_of_another_province_is_not_found(health_officer, guizhou_officer):
    stranger = make_applicant(guizhou_officer)

    with pytest.raises(NotFound):
        issue(health_officer, stranger)


def test_unknown_applicant_is_not_found(health_officer):
    with pytest.raises(NotFound):
        issue(health_officer, 999_999)


def test_health_officer_of_another_province_cannot_issue_for_sichuan(
    guizhou_health_officer, applicant
):
    with pytest.raises(NotFound):
        issue(guizhou_health_officer, applicant)


@pytest.mark.parametrize("actor_fixture", ["hr_officer", "sichuan_officer", "zhejiang_officer"])
def test_hr_and_bureau_officers_are_forbidden(request, actor_fixture, applicant):
    actor = request.getfixturevalue(actor_fixture)

    with pytest.raises(Forbidden):
        issue(actor, applicant)

    assert not HealthCertificate.objects.exists()


def test_health_officer_role_outside_a_health_authority_is_forbidden(sichuan_bureau, applicant):
    misplaced = UserFactory(role=User.Role.HEALTH_OFFICER, organization=sichuan_bureau)

    with pytest.raises(Forbidden):
        issue(misplaced, applicant)


def test_result_notes_and_token_are_encrypted_at_rest(health_officer, applicant):
    certificate = issue(health_officer, applicant, result="not_fit")
    token = services.certificate_token(certificate)

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM health_healthcertificate WHERE id = %s", [certificate.pk])
        columns = [column.name for column in cursor.description]
        row = dict(zip(columns, cursor.fetchone(), strict=True))

    raw = " ".join(str(value) for value in row.values())
    assert NOTES not in raw
    assert token not in raw
    for segment in token.split("."):
        assert segment not in raw
    assert row["result_encrypted"] not in {"fit", "not_fit"}
    assert "not_fit" not in row["result_encrypted"]
    assert row["notes_encrypted"] and row["token_encrypted"]


# --- Revoke ---------------------------------------------------------------------------------


def test_revocation_records_who_when_and_why(health_officer, applicant):
    certificate = issue(health_officer, applicant)

    revoked = services.certificate_revoke(
        actor=health_officer, certificate=certificate.pk, reason="  体检报告有误  "
    )

    certificate.refresh_from_db()
    assert revoked.pk == certificate.pk
    assert certificate.status == HealthCertificate.Status.REVOKED
    assert certificate.revoked_by == health_officer
    assert certificate.revoked_at is not None
    assert certificate.revoke_reason == "体检报告有误"
    assert certificate.number in selectors.revoked_certificate_numbers()


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_revocation_needs_a_reason(health_officer, applicant, reason):
    certificate = issue(health_officer, applicant)

    with pytest.raises(DomainError) as excinfo:
        services.certificate_revoke(actor=health_officer, certificate=certificate, reason=reason)

    assert field_of(excinfo) == "reason"
    certificate.refresh_from_db()
    assert certificate.status == HealthCertificate.Status.VALID


def test_revoking_twice_is_a_conflict(health_officer, applicant):
    certificate = issue(health_officer, applicant)
    services.certificate_revoke(actor=health_officer, certificate=certificate, reason="作废")

    with pytest.raises(Conflict):
        services.certificate_revoke(actor=health_officer, certificate=certificate, reason="再次")

    certificate.refresh_from_db()
    assert certificate.revoke_reason == "作废"


def test_another_authority_cannot_revoke(health_officer, guizhou_health_officer, applicant):
    certificate = issue(health_officer, applicant)

    with pytest.raises(NotFound):
        services.certificate_revoke(
            actor=guizhou_health_officer, certificate=certificate, reason="越权"
        )

    certificate.refresh_from_db()
    assert certificate.status == HealthCertificate.Status.VALID


def test_another_sichuan_authority_cannot_revoke_either(health_officer, applicant):
    chengdu = OrganizationFactory(
        name="成都市卫生健康委员会",
        kind=Organization.Kind.HEALTH_AUTHORITY,
        province=province("51"),
        level=Organization.Level.CITY,
    )
    other_officer = UserFactory(role=User.Role.HEALTH_OFFICER, organization=chengdu)
    certificate = issue(health_officer, applicant)

    with pytest.raises(NotFound):
        services.certificate_revoke(actor=other_officer, certificate=certificate, reason="越权")


def test_bureau_officer_cannot_revoke(health_officer, sichuan_officer, applicant):
    certificate = issue(health_officer, applicant)

    with pytest.raises(Forbidden):
        services.certificate_revoke(actor=sichuan_officer, certificate=certificate, reason="x")
