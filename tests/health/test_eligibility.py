"""Eligibility: does an applicant hold a valid, unrevoked, fit certificate through a date?"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from health import selectors, services
from health.models import HealthCertificate
from tests.factories import make_applicant

pytestmark = pytest.mark.django_db


@pytest.fixture
def applicant(sichuan_officer):
    return make_applicant(sichuan_officer)


def issue(officer, applicant, **overrides):
    today = timezone.localdate()
    values = {
        "applicant": applicant,
        "examined_on": today - timedelta(days=2),
        "result": "fit",
        "valid_until": today + timedelta(days=40),
    }
    values.update(overrides)
    return services.certificate_issue(actor=officer, **values)


def make_expired(certificate: HealthCertificate, *, days_ago: int = 1) -> None:
    """Move a certificate into the past: examined, issued and valid until before today."""
    today = timezone.localdate()
    valid_until = today - timedelta(days=days_ago)
    HealthCertificate.objects.filter(pk=certificate.pk).update(
        examined_on=valid_until - timedelta(days=60),
        issued_at=certificate.issued_at - timedelta(days=60 + days_ago),
        valid_until=valid_until,
    )


def shanghai(day, hour=0, minute=0, second=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute, second)))


def test_fit_certificate_holds_through_its_valid_until_date_and_not_a_day_longer(
    health_officer, applicant
):
    certificate = issue(health_officer, applicant)
    last_day = certificate.valid_until

    assert selectors.holds_valid_fit_certificate(applicant, through=timezone.localdate())
    assert selectors.holds_valid_fit_certificate(applicant, through=last_day)
    assert selectors.holds_valid_fit_certificate(applicant.pk, through=last_day)
    assert not selectors.holds_valid_fit_certificate(
        applicant, through=last_day + timedelta(days=1)
    )


def test_on_the_clock_it_holds_until_midnight_in_shanghai(health_officer, applicant, monkeypatch):
    certificate = issue(health_officer, applicant)
    last_day = certificate.valid_until

    monkeypatch.setattr(timezone, "now", lambda: shanghai(last_day, 23, 59, 59))
    assert selectors.holds_valid_fit_certificate(applicant, through=last_day)
    assert selectors.certificate_statuses([applicant.pk])[applicant.pk].code == "valid"

    # 16:00 UTC on the last day is already the next day in Shanghai.
    monkeypatch.setattr(timezone, "now", lambda: shanghai(last_day + timedelta(days=1)))
    assert not selectors.holds_valid_fit_certificate(applicant, through=last_day)
    assert selectors.certificate_statuses([applicant.pk])[applicant.pk].code == "expired"


def test_not_fit_certificate_does_not_count(health_officer, applicant):
    issue(health_officer, applicant, result="not_fit")

    assert not selectors.holds_valid_fit_certificate(applicant, through=timezone.localdate())
    assert selectors.certificate_statuses([applicant.pk])[applicant.pk].code == "not_fit"


def test_revoked_certificate_does_not_count(health_officer, applicant):
    certificate = issue(health_officer, applicant)
    services.certificate_revoke(actor=health_officer, certificate=certificate, reason="作废")

    assert not selectors.holds_valid_fit_certificate(applicant, through=timezone.localdate())
    assert selectors.certificate_statuses([applicant.pk])[applicant.pk].code == "revoked"


def test_expired_certificate_does_not_count(health_officer, applicant):
    certificate = issue(health_officer, applicant)
    make_expired(certificate)

    assert not selectors.holds_valid_fit_certificate(applicant, through=timezone.localdate())
    status = selectors.certificate_statuses([applicant.pk])[applicant.pk]
    assert status.code == "expired"
    assert status.valid_until == timezone.localdate() - timedelta(days=1)


def test_no_certificate_does_not_count(applicant):
    assert not selectors.holds_valid_fit_certificate(applicant, through=timezone.localdate())
    status = selectors.certificate_statuses([applicant.pk])[applicant.pk]
    assert status.code == "none"
    assert status.valid_until is None


def test_a_later_fit_certificate_counts_after_a_revoked_one(health_officer, applicant):
    first = issue(health_officer, applicant)
    services.certificate_revoke(actor=health_officer, certificate=first, reason="作废")
    second = issue(health_officer, applicant, valid_until=timezone.localdate() + timedelta(days=20))

    assert selectors.holds_valid_fit_certificate(applicant, through=second.valid_until)
    status = selectors.certificate_statuses([applicant.pk])[applicant.pk]
    assert (status.code, status.number) == ("valid", second.number)


def test_fit_through_many_applicants_in_one_query(
    health_officer, sichuan_officer, django_assert_num_queries
):
    fit = [make_applicant(sichuan_officer) for _ in range(4)]
    not_fit = make_applicant(sichuan_officer)
    revoked = make_applicant(sichuan_officer)
    expired = make_applicant(sichuan_officer)
    short = make_applicant(sichuan_officer)
    without = make_applicant(sichuan_officer)
    for applicant in fit:
        issue(health_officer, applicant)
    issue(health_officer, not_fit, result="not_fit")
    services.certificate_revoke(
        actor=health_officer, certificate=issue(health_officer, revoked), reason="作废"
    )
    make_expired(issue(health_officer, expired))
    issue(health_officer, short, valid_until=timezone.localdate() + timedelta(days=5))
    everyone = [a.pk for a in [*fit, not_fit, revoked, expired, short, without]]
    start_date = timezone.localdate() + timedelta(days=10)

    with django_assert_num_queries(1):
        eligible = selectors.applicants_fit_through(everyone, through=start_date)

    assert eligible == {a.pk for a in fit}


def test_statuses_of_many_applicants_in_one_query(
    health_officer, sichuan_officer, django_assert_num_queries
):
    applicants = [make_applicant(sichuan_officer) for _ in range(3)]
    issue(health_officer, applicants[0])
    issue(health_officer, applicants[1], result="not_fit")

    with django_assert_num_queries(1):
        statuses = selectors.certificate_statuses([a.pk for a in applicants])

    assert [statuses[a.pk].code for a in applicants] == ["valid", "not_fit", "none"]
    assert statuses[applicants[0].pk].is_valid_fit
    assert not statuses[applicants[1].pk].is_valid_fit


@pytest.mark.parametrize("valid_first", [True, False])
def test_statuses_rank_a_valid_fit_certificate_over_an_older_expired_one(
    health_officer, applicant, valid_first
):
    if valid_first:
        valid = issue(health_officer, applicant)
        make_expired(issue(health_officer, applicant), days_ago=3)
    else:
        make_expired(issue(health_officer, applicant), days_ago=3)
        valid = issue(health_officer, applicant)

    status = selectors.certificate_statuses([applicant.pk])[applicant.pk]

    assert status.code == "valid"
    assert status.number == valid.number
    assert status.valid_until == valid.valid_until


def test_statuses_prefer_the_valid_certificate_that_lasts_longest(health_officer, applicant):
    today = timezone.localdate()
    issue(health_officer, applicant, valid_until=today + timedelta(days=10))
    longest = issue(health_officer, applicant, valid_until=today + timedelta(days=50))
    issue(health_officer, applicant, valid_until=today + timedelta(days=20))

    status = selectors.certificate_statuses([applicant.pk])[applicant.pk]

    assert (status.code, status.valid_until) == ("valid", longest.valid_until)


def test_statuses_on_a_future_day_see_the_expiry_coming(health_officer, applicant):
    certificate = issue(health_officer, applicant)

    later = selectors.certificate_statuses(
        [applicant.pk], on=certificate.valid_until + timedelta(days=1)
    )

    assert later[applicant.pk].code == "expired"
