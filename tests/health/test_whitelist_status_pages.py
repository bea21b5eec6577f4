"""The whitelist pages show each applicant's certificate status (status only), one query
for the whole page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from health import services
from recruitment.services import whitelist_approve
from tests.factories import make_applicant

pytestmark = pytest.mark.django_db

REVIEW = reverse("recruitment:whitelist-review") + "?province=33"
DECIDED = reverse("recruitment:whitelist-decided")
COUNTERSIGN = reverse("recruitment:whitelist-countersign")
NOTES = "仅卫健委可见的备注"


def issue(officer, applicant, *, days: int = 40, result: str = "fit"):
    today = timezone.localdate()
    return services.certificate_issue(
        actor=officer,
        applicant=applicant,
        examined_on=today,
        result=result,
        valid_until=today + timedelta(days=days),
        notes=NOTES,
    )


def status_cells(html: str) -> list[str]:
    parts = html.split('data-testid="certificate-status">')[1:]
    return [part.split("</td>", 1)[0] for part in parts]


def cell_of(html: str, name: str) -> str:
    row = html[html.index(f">{name}</a>") :]
    return status_cells(row)[0]


def test_review_queue_shows_valid_until_or_no_certificate(
    client, sichuan_officer, health_officer, agreements
):
    fit = make_applicant(sichuan_officer, name="持证人")
    make_applicant(sichuan_officer, name="无证人")
    unfit = make_applicant(sichuan_officer, name="不合格人")
    certificate = issue(health_officer, fit)
    issue(health_officer, unfit, result="not_fit")
    client.force_login(sichuan_officer)
    html = client.get(REVIEW, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Valid until {certificate.valid_until:%Y-%m-%d}" in cell_of(html, "持证人")
    assert "No certificate" in cell_of(html, "无证人")
    assert "Not fit" in cell_of(html, "不合格人")
    assert NOTES not in html


def test_entries_tables_show_the_status_on_both_sides(
    client, sichuan_officer, zhejiang_officer, health_officer, agreements
):
    fit = make_applicant(sichuan_officer, name="持证人")
    revoked = make_applicant(sichuan_officer, name="被撤证人")
    issue(health_officer, fit, days=20)
    services.certificate_revoke(
        actor=health_officer, certificate=issue(health_officer, revoked), reason="错误"
    )
    whitelist_approve(
        actor=sichuan_officer,
        applicants=[fit.pk, revoked.pk],
        importing_province="33",
        expires_on=timezone.localdate() + timedelta(days=30),
    )
    until = f"{timezone.localdate() + timedelta(days=20):%Y-%m-%d}"
    for user, url in ((sichuan_officer, DECIDED), (zhejiang_officer, COUNTERSIGN)):
        client.force_login(user)
        html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert f"Valid until {until}" in cell_of(html, "持证人")
        assert "Certificate revoked" in cell_of(html, "被撤证人")
        assert NOTES not in html and "错误" not in html


def test_status_column_costs_one_query_whatever_the_rows(
    client, sichuan_officer, zhejiang_officer, health_officer, agreements
):
    def measure(user, url) -> int:
        client.force_login(user)
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        return len(ctx)

    def add(n: int) -> None:
        applicants = [make_applicant(sichuan_officer) for _ in range(n)]
        for applicant in applicants:
            issue(health_officer, applicant)
        whitelist_approve(
            actor=sichuan_officer,
            applicants=[a.pk for a in applicants[: n // 2]],
            importing_province="33",
            expires_on=timezone.localdate() + timedelta(days=30),
        )

    cases = [(sichuan_officer, REVIEW), (sichuan_officer, DECIDED), (zhejiang_officer, COUNTERSIGN)]
    add(2)
    before = [measure(user, url) for user, url in cases]
    add(12)
    assert [measure(user, url) for user, url in cases] == before
