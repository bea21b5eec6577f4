"""Pages: the certificates list and the certificate page (notes, printing, revocation)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from health import services
from health.models import HealthCertificate
from laborlink.models import Organization, User
from tests.factories import OrganizationFactory, UserFactory, make_applicant, province

pytestmark = pytest.mark.django_db

CERTIFICATES = reverse("health:certificate-list")
NOTES = "左耳听力下降，复查。"


def detail_url(certificate) -> str:
    return reverse("health:certificate-detail", args=[certificate.pk])


def issue(officer, applicant, **overrides) -> HealthCertificate:
    today = timezone.localdate()
    values = {
        "applicant": applicant,
        "examined_on": today - timedelta(days=1),
        "result": "fit",
        "valid_until": today + timedelta(days=60),
        "notes": NOTES,
    }
    values.update(overrides)
    return services.certificate_issue(actor=officer, **values)


def listed_numbers(response) -> set[str]:
    return {certificate.number for certificate in response.context["page_obj"]}


@pytest.fixture
def certificate(health_officer, sichuan_officer):
    return issue(health_officer, make_applicant(sichuan_officer, name="赵建国"))


@pytest.fixture
def other_sichuan_authority_officer(db) -> User:
    """A second health authority of the same province (Chengdu): sees none of Guang'an's."""
    authority = OrganizationFactory(
        name="成都市卫生健康委员会",
        kind=Organization.Kind.HEALTH_AUTHORITY,
        province=province("51"),
    )
    return UserFactory(role=User.Role.HEALTH_OFFICER, organization=authority)


# --- The certificate page -----------------------------------------------------------------------


def test_issuing_authority_sees_everything_but_prints_no_notes(client, health_officer, certificate):
    client.force_login(health_officer)
    response = client.get(detail_url(certificate), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    for fact in (
        certificate.number,
        "赵建国",
        certificate.applicant.national_id_masked,
        certificate.key.kid,
        certificate.authority.name,
        certificate.valid_until.isoformat(),
        services.certificate_token(certificate),
        reverse("health:verify"),
    ):
        assert fact in html
    assert 'class="qr-code"' in html
    notes = html[html.index('data-testid="examiner-notes"') :]
    assert NOTES in notes
    assert "no-print" in html[: html.index('data-testid="examiner-notes"')].rsplit("<", 1)[-1]
    assert "css/health.css" in html and "js/health.js" in html
    assert "data-print hidden" in html  # the button appears with the script only
    assert 'data-testid="revoke-form"' in html


def test_labels_are_in_chinese_and_english(client, health_officer, certificate):
    client.force_login(health_officer)
    html = client.get(detail_url(certificate)).content.decode()
    assert '<span class="en" lang="en">Valid until</span>' in html
    assert '<span lang="zh-Hans">有效期至</span>' in html
    assert "Health certificate" in html


def test_exporting_bureau_sees_the_certificate_without_notes(client, sichuan_officer, certificate):
    client.force_login(sichuan_officer)
    response = client.get(detail_url(certificate))
    html = response.content.decode()
    assert response.status_code == 200
    assert certificate.number in html and "赵建国" in html
    assert NOTES not in html
    assert 'data-testid="examiner-notes"' not in html
    assert 'data-testid="revoke-form"' not in html
    refused = client.post(detail_url(certificate), {"reason": "试图撤销"})
    assert refused.status_code == 404
    certificate.refresh_from_db()
    assert certificate.status == "valid"


@pytest.mark.parametrize(
    "who", ["guizhou_officer", "hr_officer", "other_sichuan_authority_officer"]
)
def test_others_get_404(client, request, who, certificate):
    client.force_login(request.getfixturevalue(who))
    assert client.get(detail_url(certificate)).status_code == 404
    assert certificate.number not in client.get(CERTIFICATES).content.decode()


def test_anonymous_is_sent_to_log_in(client, certificate):
    response = client.get(detail_url(certificate))
    assert response.status_code == 302
    assert certificate.number not in response["Location"]


def test_revoke_with_reason_and_verification_says_revoked(client, health_officer, certificate):
    client.force_login(health_officer)
    refused = client.post(detail_url(certificate), {"reason": "  "})
    assert refused.status_code == 400
    assert 'class="field has-error" data-field="reason"' in refused.content.decode()
    certificate.refresh_from_db()
    assert certificate.status == "valid"

    response = client.post(detail_url(certificate), {"reason": "体检报告有误"})
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert (certificate.status, certificate.revoke_reason) == ("revoked", "体检报告有误")
    assert certificate.revoked_by == health_officer

    html = client.get(detail_url(certificate), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="revoked"' in html and "REVOKED" in html and "体检报告有误" in html
    assert 'data-testid="revoke-form"' not in html

    again = client.post(detail_url(certificate), {"reason": "再撤一次"})
    assert again.status_code == 409

    client.logout()
    token = services.certificate_token(certificate)
    verdict = client.post(reverse("health:verify"), {"token": token}, HTTP_ACCEPT_LANGUAGE="en")
    page = verdict.content.decode()
    assert 'data-code="revoked"' in page
    assert "Revoked: the issuing authority has withdrawn this certificate." in page


# --- The list --------------------------------------------------------------------------------


def test_health_officer_filters_by_status_result_and_name(client, health_officer, sichuan_officer):
    today = timezone.localdate()
    fit = issue(health_officer, make_applicant(sichuan_officer, name="甲健康"))
    unfit = issue(health_officer, make_applicant(sichuan_officer, name="乙待查"), result="not_fit")
    revoked = issue(health_officer, make_applicant(sichuan_officer, name="丙撤销"))
    services.certificate_revoke(actor=health_officer, certificate=revoked, reason="录入错误")
    expired = issue(
        health_officer,
        make_applicant(sichuan_officer, name="丁过期"),
        examined_on=today - timedelta(days=20),
        valid_until=today,
    )
    HealthCertificate.objects.filter(pk=expired.pk).update(valid_until=today - timedelta(days=1))
    client.force_login(health_officer)

    everything = client.get(CERTIFICATES)
    assert listed_numbers(everything) == {c.number for c in (fit, unfit, revoked, expired)}
    assert listed_numbers(client.get(CERTIFICATES, {"status": "valid"})) == {
        fit.number,
        unfit.number,
    }
    assert listed_numbers(client.get(CERTIFICATES, {"status": "revoked"})) == {revoked.number}
    assert listed_numbers(client.get(CERTIFICATES, {"status": "expired"})) == {expired.number}
    assert listed_numbers(client.get(CERTIFICATES, {"result": "not_fit"})) == {unfit.number}
    assert listed_numbers(client.get(CERTIFICATES, {"status": "valid", "result": "fit"})) == {
        fit.number
    }
    assert listed_numbers(client.get(CERTIFICATES, {"q": "健康"})) == {fit.number}
    assert listed_numbers(client.get(CERTIFICATES, {"q": revoked.number})) == {revoked.number}
    assert NOTES not in everything.content.decode()


def test_exporting_bureau_lists_its_applicants_certificates_without_result_filter(
    client, health_officer, sichuan_officer, guizhou_officer, certificate
):
    client.force_login(sichuan_officer)
    response = client.get(CERTIFICATES)
    assert listed_numbers(response) == {certificate.number}
    assert 'name="result"' not in response.content.decode()
    # a result filter in the URL is ignored for the bureau
    assert listed_numbers(client.get(CERTIFICATES, {"result": "not_fit"})) == {certificate.number}

    client.force_login(guizhou_officer)
    assert listed_numbers(client.get(CERTIFICATES)) == set()


def test_certificate_list_query_count_does_not_grow(client, health_officer, sichuan_officer):
    def measure(user, query=None) -> int:
        client.force_login(user)
        client.get(CERTIFICATES, query or {})
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(CERTIFICATES, query or {})
        assert response.status_code == 200
        return len(ctx)

    def add(n: int) -> None:
        for _ in range(n):
            issue(health_officer, make_applicant(sichuan_officer))

    add(2)
    cases = [(health_officer, None), (health_officer, {"result": "fit"}), (sichuan_officer, None)]
    before = [measure(user, query) for user, query in cases]
    add(10)
    assert [measure(user, query) for user, query in cases] == before
