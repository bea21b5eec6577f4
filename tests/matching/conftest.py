"""A small market for the matching tests: certified, whitelisted Sichuan applicants and
Zhejiang postings targeted at Sichuan."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from health import services as health_services
from recruitment.services import whitelist_approve, whitelist_countersign
from tests.factories import make_applicant, make_posting


@pytest.fixture
def market(hr_officer, sichuan_officer, zhejiang_officer, health_officer, agreements):
    """Three whitelisted, certified Sichuan applicants and two Zhejiang postings."""
    today = timezone.localdate()
    applicants = [
        make_applicant(sichuan_officer, name=name, skills=["medical_device_assembler"])
        for name in ("甲工", "乙工", "丙工")
    ]
    entries = whitelist_approve(
        actor=sichuan_officer,
        applicants=[a.pk for a in applicants],
        importing_province="33",
        expires_on=today + timedelta(days=120),
    )
    whitelist_countersign(actor=zhejiang_officer, entries=[e.pk for e in entries])
    for applicant in applicants:
        health_services.certificate_issue(
            actor=health_officer,
            applicant=applicant,
            examined_on=today,
            result="fit",
            valid_until=today + timedelta(days=80),
        )
    postings = [
        make_posting(hr_officer, title="装配一线", positions=2, target_provinces=["51"]),
        make_posting(hr_officer, title="装配二线", positions=1, target_provinces=["51"]),
    ]
    return applicants, postings
