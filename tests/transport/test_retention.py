"""After arrival: employment starts, departures are reported, absences over China's working
days raise flags to both bureaus, and arrivals left unconfirmed for a day are flagged."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from laborlink.errors import Conflict, DomainError, Forbidden, NotFound
from recruitment.models import Absence, Flag, JobPosting, Placement
from recruitment.placements import (
    absence_report,
    consecutive_absent_working_days,
    flag_resolve,
    is_working_day,
    placement_report_departure,
    placements_start_employment,
)
from recruitment.selectors import flags_visible_to
from transport import services
from transport.models import Trip

pytestmark = pytest.mark.django_db

ARRIVAL_DAY = date(2026, 11, 2)  # a Monday


def arrive(hr_officer, placement, *, on: date | None = None) -> Placement:
    services.arrival_confirm(actor=hr_officer, placement=placement, result="pass")
    if on is not None:
        moment = timezone.make_aware(datetime.combine(on, time(9, 0)))
        Placement.objects.filter(pk=placement.pk).update(arrived_at=moment)
    placement.refresh_from_db()
    return placement


@pytest.fixture
def on_post(hr_officer, departed, accepted):
    """甲工, arrived on Monday 2 November 2026."""
    return arrive(hr_officer, accepted[0], on=ARRIVAL_DAY)


# --- Employment --------------------------------------------------------------------------------


def test_employment_starts_on_the_start_date_after_an_early_arrival(hr_officer, departed, accepted):
    worker = arrive(hr_officer, accepted[0])
    start = JobPosting.objects.get(pk=worker.posting_id).start_date
    assert placements_start_employment(today=start - timedelta(days=1)) == 0
    assert placements_start_employment(today=start) == 1
    worker.refresh_from_db()
    assert (worker.status, worker.employed_on) == ("employed", start)
    assert placements_start_employment(today=start) == 0  # safe to run twice
    assert JobPosting.objects.get(pk=worker.posting_id).positions_filled == 1


def test_employment_starts_on_the_arrival_after_a_late_arrival(hr_officer, departed, accepted):
    today = timezone.localdate()
    JobPosting.objects.filter(pk=accepted[0].posting_id).update(
        start_date=today - timedelta(days=10), deadline=today - timedelta(days=20)
    )
    worker = arrive(hr_officer, accepted[0], on=today - timedelta(days=3))
    assert placements_start_employment(today=today) == 1
    worker.refresh_from_db()
    assert worker.employed_on == today - timedelta(days=3)


# --- Departures --------------------------------------------------------------------------------


def test_a_departure_frees_the_position_and_reopens_a_filled_posting(
    hr_officer, departed, accepted
):
    worker = arrive(hr_officer, accepted[2], on=ARRIVAL_DAY)  # the one-position posting
    assert JobPosting.objects.get(pk=worker.posting_id).status == "filled"
    placement_report_departure(
        actor=hr_officer,
        placement=worker,
        left_on=date(2026, 11, 20),
        reason="family",
        note=" 回家照顾老人 ",
    )
    worker.refresh_from_db()
    assert (worker.status, worker.left_on, worker.left_reason, worker.left_note) == (
        "left",
        date(2026, 11, 20),
        "family",
        "回家照顾老人",
    )
    posting = JobPosting.objects.get(pk=worker.posting_id)
    assert (posting.positions_filled, posting.status) == (0, "open")


@pytest.mark.parametrize(
    ("left_on", "reason", "field"),
    [
        (lambda: timezone.localdate() + timedelta(days=1), "resigned", "left_on"),
        (lambda: ARRIVAL_DAY - timedelta(days=1), "resigned", "left_on"),
        (lambda: ARRIVAL_DAY, "bored", "reason"),
        (lambda: ARRIVAL_DAY, "", "reason"),
    ],
)
def test_a_departure_report_is_validated(hr_officer, on_post, left_on, reason, field):
    with pytest.raises(DomainError) as caught:
        placement_report_departure(
            actor=hr_officer, placement=on_post, left_on=left_on(), reason=reason
        )
    assert caught.value.field == field
    on_post.refresh_from_db()
    assert on_post.status == "arrived"
    assert JobPosting.objects.get(pk=on_post.posting_id).positions_filled == 1


def test_only_a_worker_on_post_can_leave(hr_officer, departed, accepted):
    with pytest.raises(Conflict) as caught:
        placement_report_departure(
            actor=hr_officer, placement=accepted[1], left_on=timezone.localdate(), reason="other"
        )
    assert caught.value.code == "not_on_post"


def test_another_employer_cannot_report_a_departure(other_hr_officer, on_post):
    with pytest.raises(NotFound):
        placement_report_departure(
            actor=other_hr_officer, placement=on_post, left_on=ARRIVAL_DAY, reason="other"
        )


def test_leaving_resolves_the_open_flags(hr_officer, on_post):
    absence_report(
        actor=hr_officer, placement=on_post, days=[date(2026, 11, d) for d in (9, 10, 11, 12, 13)]
    )
    flag = Flag.objects.get(placement=on_post)
    placement_report_departure(
        actor=hr_officer, placement=on_post, left_on=date(2026, 11, 13), reason="absconded"
    )
    flag.refresh_from_db()
    assert flag.resolved_at is not None and flag.resolution


# --- Absences ----------------------------------------------------------------------------------


def test_four_working_days_absent_raise_no_flag(hr_officer, on_post):
    days = [date(2026, 11, 12), date(2026, 11, 13), date(2026, 11, 16), date(2026, 11, 17)]
    assert absence_report(actor=hr_officer, placement=on_post, days=days) == 4
    assert Absence.objects.filter(placement=on_post).count() == 4
    assert not Flag.objects.exists()


def test_five_working_days_across_a_weekend_flag_both_bureaus(
    hr_officer, zhejiang_officer, sichuan_officer, guizhou_officer, on_post
):
    # Thursday, Friday, (weekend), Monday, Tuesday, Wednesday
    days = [date(2026, 11, d) for d in (12, 13, 14, 15, 16, 17, 18)]
    absence_report(actor=hr_officer, placement=on_post, days=days)
    flag = Flag.objects.get(placement=on_post)
    assert flag.kind == "absent" and flag.resolved_at is None
    assert flag.detail["working_days"] == 5
    assert (flag.importing_province_id, flag.exporting_province_id) == ("33", "51")
    assert flag in flags_visible_to(zhejiang_officer)
    assert flag in flags_visible_to(sichuan_officer)
    assert flag not in flags_visible_to(guizhou_officer)


def test_a_present_day_breaks_the_run(hr_officer, on_post):
    days = [date(2026, 11, d) for d in (9, 10, 12, 13, 16)]  # present on Wednesday 11th
    absence_report(actor=hr_officer, placement=on_post, days=days)
    assert not Flag.objects.exists()


def test_a_day_reported_late_completes_the_run(hr_officer, on_post):
    absence_report(
        actor=hr_officer, placement=on_post, days=[date(2026, 11, d) for d in (12, 13, 16, 17)]
    )
    assert not Flag.objects.exists()
    # the employer forgot Wednesday the 11th: 11, 12, 13, 16, 17 are five in a row
    absence_report(actor=hr_officer, placement=on_post, days=[date(2026, 11, 11)])
    assert Flag.objects.filter(placement=on_post, kind="absent").count() == 1


def test_reporting_the_same_day_twice_adds_nothing(hr_officer, on_post):
    days = [date(2026, 11, 16), date(2026, 11, 17)]
    assert absence_report(actor=hr_officer, placement=on_post, days=days) == 2
    assert absence_report(actor=hr_officer, placement=on_post, days=days + days) == 0
    assert Absence.objects.filter(placement=on_post).count() == 2


def test_a_flag_is_raised_once_while_open(hr_officer, on_post):
    absence_report(
        actor=hr_officer, placement=on_post, days=[date(2026, 11, d) for d in range(9, 14)]
    )
    absence_report(actor=hr_officer, placement=on_post, days=[date(2026, 11, 16)])
    assert Flag.objects.filter(placement=on_post).count() == 1


@pytest.mark.parametrize(
    "days",
    [
        [],
        [ARRIVAL_DAY - timedelta(days=1)],
        [timezone.localdate() + timedelta(days=1)],
        [ARRIVAL_DAY + timedelta(days=i) for i in range(32)],
    ],
)
def test_absences_fall_between_the_arrival_and_today(hr_officer, on_post, days):
    with pytest.raises(DomainError):
        absence_report(actor=hr_officer, placement=on_post, days=days)
    assert not Absence.objects.exists()


def test_absences_are_reported_for_workers_on_post_only(
    hr_officer, other_hr_officer, departed, accepted, on_post
):
    with pytest.raises(Conflict):
        absence_report(actor=hr_officer, placement=accepted[1], days=[timezone.localdate()])
    with pytest.raises(NotFound):
        absence_report(actor=other_hr_officer, placement=on_post, days=[date(2026, 11, 16)])


def test_chinas_holidays_and_exchanged_working_days():
    assert is_working_day(date(2026, 2, 14))  # a Saturday worked in exchange for a day off
    assert not is_working_day(date(2026, 2, 17))  # Spring Festival
    assert not is_working_day(date(2026, 2, 20))  # the Friday given off for the 14th
    assert is_working_day(date(2026, 2, 28))  # Saturday worked for Monday the 23rd
    assert not is_working_day(date(2026, 10, 7))  # National Day week
    assert is_working_day(date(2026, 10, 10))
    assert not is_working_day(date(2026, 11, 21))  # an ordinary Saturday


def test_the_spring_festival_neither_counts_nor_breaks_a_run():
    # Thu 12, Fri 13, Sat 14 (worked) before the holiday; Tue 24, Wed 25 after it
    absent = {date(2026, 2, 12), date(2026, 2, 13), date(2026, 2, 14)}
    absent |= {date(2026, 2, 24), date(2026, 2, 25)}
    assert consecutive_absent_working_days(absent, until=date(2026, 2, 25)) == 5
    # coming to work on the exchanged Saturday breaks it
    assert (
        consecutive_absent_working_days(absent - {date(2026, 2, 14)}, until=date(2026, 2, 25)) == 2
    )
    # holidays reported as absences do not count
    holiday = {date(2026, 2, 16) + timedelta(days=i) for i in range(8)}
    assert consecutive_absent_working_days(holiday | absent, until=date(2026, 2, 25)) == 5
    # ending on a holiday: the run is the one before it
    assert consecutive_absent_working_days(absent, until=date(2026, 2, 18)) == 3


# --- Resolving flags ---------------------------------------------------------------------------


@pytest.fixture
def absence_flag(hr_officer, on_post) -> Flag:
    absence_report(
        actor=hr_officer, placement=on_post, days=[date(2026, 11, d) for d in range(9, 14)]
    )
    return Flag.objects.get(placement=on_post)


def test_resolving_a_flag_needs_a_note(sichuan_officer, absence_flag):
    for note in ("", "   "):
        with pytest.raises(DomainError) as caught:
            flag_resolve(actor=sichuan_officer, flag=absence_flag, resolution=note)
        assert caught.value.field == "resolution"
    flag_resolve(actor=sichuan_officer, flag=absence_flag.pk, resolution="已电话联系，工人生病")
    absence_flag.refresh_from_db()
    assert absence_flag.resolved_by == sichuan_officer
    assert absence_flag.resolution == "已电话联系，工人生病"
    with pytest.raises(Conflict):
        flag_resolve(actor=sichuan_officer, flag=absence_flag, resolution="again")


def test_only_the_two_bureaus_resolve_a_flag(hr_officer, guizhou_officer, absence_flag):
    with pytest.raises(NotFound):
        flag_resolve(actor=guizhou_officer, flag=absence_flag, resolution="x")
    with pytest.raises(Forbidden):
        flag_resolve(actor=hr_officer, flag=absence_flag, resolution="x")
    absence_flag.refresh_from_db()
    assert absence_flag.resolved_at is None


# --- Unconfirmed arrivals ----------------------------------------------------------------------


def test_an_arrival_unconfirmed_for_a_day_is_flagged_once(
    hr_officer, zhejiang_officer, sichuan_officer, guizhou_officer, departed, accepted
):
    late, confirmed, _third = accepted
    services.arrival_confirm(actor=hr_officer, placement=confirmed, result="pass")
    services.arrival_confirm(actor=hr_officer, placement=_third, result="refer")
    arrived_at = timezone.now() - timedelta(hours=25)
    Trip.objects.filter(pk=departed.pk).update(status="arrived", arrived_at=arrived_at)

    assert services.flags_raise_unconfirmed_arrivals(now=arrived_at + timedelta(hours=23)) == 0
    assert services.flags_raise_unconfirmed_arrivals() == 1
    assert services.flags_raise_unconfirmed_arrivals() == 0
    flag = Flag.objects.get()
    assert (flag.placement_id, flag.kind) == (late.pk, "arrival_unconfirmed")
    assert flag.detail["trip"] == departed.pk
    assert flag in flags_visible_to(zhejiang_officer)
    assert flag not in flags_visible_to(guizhou_officer)

    services.arrival_confirm(actor=hr_officer, placement=late, result="pass")
    flag.refresh_from_db()
    assert flag.resolved_at is not None and flag.resolved_by == hr_officer
    assert services.flags_raise_unconfirmed_arrivals() == 0


def test_a_trip_not_marked_arrived_counts_from_its_expected_arrival(departed):
    expected = timezone.now() - timedelta(hours=25)
    Trip.objects.filter(pk=departed.pk).update(
        departure_at=expected - timedelta(hours=20), arrival_expected_at=expected
    )
    assert services.flags_raise_unconfirmed_arrivals() == 3


def test_a_trip_that_arrived_23_hours_ago_raises_nothing(departed):
    Trip.objects.filter(pk=departed.pk).update(
        status="arrived", arrived_at=timezone.now() - timedelta(hours=23)
    )
    assert services.flags_raise_unconfirmed_arrivals() == 0
    assert not Flag.objects.exists()


def test_a_flag_resolved_by_the_bureau_is_not_raised_again(zhejiang_officer, departed):
    Trip.objects.filter(pk=departed.pk).update(
        status="arrived", arrived_at=timezone.now() - timedelta(hours=30)
    )
    assert services.flags_raise_unconfirmed_arrivals() == 3
    for flag in Flag.objects.all():
        flag_resolve(actor=zhejiang_officer, flag=flag, resolution="已催促企业确认")
    assert services.flags_raise_unconfirmed_arrivals() == 0
    assert Flag.objects.filter(resolved_at__isnull=True).count() == 0


def test_no_shows_and_workers_not_boarded_are_not_flagged(zhejiang_officer, trip, accepted):
    services.booking_create(actor=zhejiang_officer, trip=trip, placements=accepted)
    services.trip_start_boarding(actor=zhejiang_officer, trip=trip)
    services.trip_depart(actor=zhejiang_officer, trip=trip)
    Trip.objects.filter(pk=trip.pk).update(
        status="arrived", arrived_at=timezone.now() - timedelta(hours=48)
    )
    assert services.flags_raise_unconfirmed_arrivals() == 0
