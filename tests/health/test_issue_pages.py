"""Pages: the applicants a health officer examines, and issuing a certificate in the browser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from health import services
from health.models import HealthCertificate
from laborlink.models import Organization, User
from tests.factories import OrganizationFactory, UserFactory, make_applicant, province

pytestmark = pytest.mark.django_db

APPLICANTS = reverse("health:applicant-list")


def issue_url(applicant) -> str:
    return reverse("health:certificate-issue", args=[applicant.pk])


def field_html(html: str, name: str) -> str:
    """The rendered block of one form field (label, input, errors)."""
    start = html.index(f'data-field="{name}"')
    end = html.find('data-field="', start + 1)
    return html[start : end if end != -1 else len(html)]


def form_data(**overrides) -> dict:
    today = timezone.localdate()
    data = {
        "examined_on": (today - timedelta(days=1)).isoformat(),
        "result": "fit",
        "valid_until": (today + timedelta(days=60)).isoformat(),
        "notes": "心肺正常。",
    }
    data.update(overrides)
    return data


@pytest.fixture
def applicant(sichuan_officer):
    return make_applicant(sichuan_officer, name="李春梅")


@pytest.fixture
def guizhou_health_officer(db) -> User:
    authority = OrganizationFactory(
        name="贵州省遵义市卫生健康局",
        kind=Organization.Kind.HEALTH_AUTHORITY,
        province=province("52"),
    )
    return UserFactory(role=User.Role.HEALTH_OFFICER, organization=authority)


def test_health_officer_sees_the_applicants_of_its_province_with_status(
    client, health_officer, sichuan_officer, guizhou_officer, applicant
):
    make_applicant(guizhou_officer, name="黔东南某")
    client.force_login(health_officer)
    response = client.get(APPLICANTS, HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 200
    assert "李春梅" in page and "黔东南某" not in page
    assert 'data-certificate="none"' in page
    assert issue_url(applicant) in page

    services.certificate_issue(
        actor=health_officer,
        applicant=applicant,
        examined_on=timezone.localdate(),
        result="fit",
        valid_until=timezone.localdate() + timedelta(days=30),
    )
    page = client.get(APPLICANTS, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    until = (timezone.localdate() + timedelta(days=30)).isoformat()
    assert f"Valid until {until}" in page


def test_applicants_can_be_filtered_by_name(client, health_officer, sichuan_officer, applicant):
    make_applicant(sichuan_officer, name="王小二")
    client.force_login(health_officer)
    page = client.get(APPLICANTS, {"q": "春梅"}).content.decode()
    assert "李春梅" in page and "王小二" not in page


def test_only_health_officers_have_these_pages(client, sichuan_officer, hr_officer, applicant):
    for user in (sichuan_officer, hr_officer):
        client.force_login(user)
        assert client.get(APPLICANTS).status_code == 404
        assert client.get(issue_url(applicant)).status_code == 404
        assert client.post(issue_url(applicant), form_data()).status_code == 404
    client.logout()
    assert client.get(APPLICANTS).status_code == 302  # to the log-in page
    assert not HealthCertificate.objects.exists()


def test_the_form_proposes_today_and_ninety_days(client, health_officer, applicant):
    client.force_login(health_officer)
    html = client.get(issue_url(applicant), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    today = timezone.localdate()
    assert f'value="{today.isoformat()}"' in field_html(html, "examined_on")
    until = field_html(html, "valid_until")
    assert f'value="{(today + timedelta(days=90)).isoformat()}"' in until
    assert "At most 90 days" in until
    assert "李春梅" in html and "心肺" not in html


def test_issue_a_fit_certificate_and_see_its_page(client, health_officer, applicant):
    client.force_login(health_officer)
    response = client.post(issue_url(applicant), form_data())
    certificate = HealthCertificate.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("health:certificate-detail", args=[certificate.pk])
    assert (certificate.applicant, certificate.issued_by) == (applicant, health_officer)
    assert services.certificate_result(certificate) == "fit"
    assert services.certificate_notes(certificate) == "心肺正常。"

    page = client.get(response["Location"]).content.decode()
    assert '<svg viewBox="0 0' in page and 'class="qr-code"' in page
    assert services.certificate_token(certificate) in page
    assert certificate.number in page
    assert "心肺正常。" in page  # the issuing authority reads its notes


def test_valid_until_beyond_ninety_days_is_shown_at_its_field_in_chinese(
    client, health_officer, applicant
):
    client.force_login(health_officer)
    today = timezone.localdate()
    response = client.post(
        issue_url(applicant),
        form_data(
            examined_on=today.isoformat(), valid_until=(today + timedelta(days=91)).isoformat()
        ),
    )
    assert response.status_code == 400
    html = response.content.decode()
    with translation.override("zh-hans"):
        expected = translation.gettext(
            "A certificate is valid for at most %(days)d days after the examination."
        ) % {"days": 90}
    block = field_html(html, "valid_until")
    assert 'class="field has-error" data-field="valid_until"' in html
    assert expected in block
    assert expected not in field_html(html, "examined_on")
    assert 'lang="zh-hans"' in html
    assert not HealthCertificate.objects.exists()


def test_a_missing_result_is_refused_by_the_form(client, health_officer, applicant):
    client.force_login(health_officer)
    response = client.post(issue_url(applicant), form_data(result=""))
    assert response.status_code == 400
    assert 'class="field has-error" data-field="result"' in response.content.decode()
    assert not HealthCertificate.objects.exists()


def test_a_health_officer_of_another_province_gets_404(client, guizhou_health_officer, applicant):
    client.force_login(guizhou_health_officer)
    assert client.get(issue_url(applicant)).status_code == 404
    assert client.post(issue_url(applicant), form_data()).status_code == 404
    assert "李春梅" not in client.get(APPLICANTS).content.decode()
    assert not HealthCertificate.objects.exists()


def test_applicant_list_query_count_does_not_grow(client, health_officer, sichuan_officer):
    def measure() -> int:
        client.get(APPLICANTS)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(APPLICANTS)
        assert response.status_code == 200
        return len(ctx)

    def add(n: int) -> None:
        today = timezone.localdate()
        for _ in range(n):
            applicant = make_applicant(sichuan_officer)
            services.certificate_issue(
                actor=health_officer,
                applicant=applicant,
                examined_on=today,
                result="fit",
                valid_until=today + timedelta(days=10),
            )

    client.force_login(health_officer)
    add(2)
    before = measure()
    add(10)
    assert measure() == before
