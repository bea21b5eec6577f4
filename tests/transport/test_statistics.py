"""Statistics: every aggregate against a small hand-built dataset with known answers, the
scoping (a Guizhou bureau sees nothing of Zhejiang–Sichuan, an employer only its own), the
retention horizons and the Spring Festival rule, and the statistics pages (charts, XLSX)."""

from __future__ import annotations

import io
import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from laborlink.models import Organization
from recruitment.models import Applicant, JobPosting, Placement, WhitelistEntry
from tests.factories import OrganizationFactory, UserFactory, province
from transport import statistics
from transport.models import Booking, Trip

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
_serial = itertools.count(1)


def at(year, month, day, hour=10, minute=0) -> datetime:
    """A moment in Shanghai time."""
    return datetime(year, month, day, hour, minute, tzinfo=SH)


# --- Builders (straight through the ORM, respecting the database's constraints) ------------


def applicant(bureau_user, code: str, *, skills=("assembler",), consent=True) -> Applicant:
    n = next(_serial)
    return Applicant.objects.create(
        registering_bureau=bureau_user.organization,
        registered_by=bureau_user,
        home_province_id=code,
        national_id_encrypted="-",
        national_id_hash=f"stat-id-{n}",
        national_id_masked=f"{code}****{n:04d}",
        region_code=f"{code}0104",
        name=f"工人{n}",
        sex="male",
        birth_date=date(1990, 1, 1),
        phone_encrypted="-",
        phone_hash=f"stat-phone-{n}",
        phone_masked="138****0000",
        skills=list(skills),
        consent_cross_province=consent,
        consent_recorded_at=timezone.now() if consent else None,
    )


def posting(
    employer: Organization,
    creator,
    *,
    occupation="assembler",
    positions=10,
    filled=0,
    status="open",
    targets=("51",),
    published_at=None,
    closed_at=None,
    deadline=None,
) -> JobPosting:
    deadline = deadline or timezone.localdate() + timedelta(days=20)
    made = JobPosting.objects.create(
        employer=employer,
        province_id=employer.province_id,
        created_by=creator,
        title=f"{occupation} ×{positions}",
        occupation=occupation,
        positions=positions,
        positions_filled=filled,
        wage_min=5000,
        wage_max=7000,
        city="台州市",
        start_date=deadline + timedelta(days=10),
        deadline=deadline,
        status=status,
        published_at=published_at or at(2025, 12, 15),
        closed_at=closed_at,
    )
    made.target_provinces.set(list(targets))
    return made


def placement(who: Applicant, on: JobPosting, status: str, **fields) -> Placement:
    if status == "left":
        fields.setdefault("left_reason", "resigned")
    return Placement.objects.create(applicant=who, posting=on, status=status, **fields)


def trip(organiser_user, mode: str, origin: str, destination: str, departure: datetime) -> Trip:
    return Trip.objects.create(
        organiser=organiser_user.organization,
        created_by=organiser_user,
        mode=mode,
        operator="运输公司",
        vehicle_number=f"X{next(_serial)}",
        origin_province_id=origin,
        origin_city="某市",
        pickup_point="车站",
        destination_province_id=destination,
        destination_city="某市",
        destination_point="人社局",
        departure_at=departure,
        arrival_expected_at=departure + timedelta(hours=30),
        seats=45,
        contact_name="王师傅",
        contact_phone="0826-1234567",
    )


def book(on: Trip, to: Placement, status: str, seat: int | None, by) -> Booking:
    extra = {}
    if status == "cancelled":
        extra["cancel_reason"] = "改期"
    if status == "refused":
        extra["refusal_reason"] = "证明无效"
    return Booking.objects.create(
        trip=on, placement=to, seat=seat, status=status, created_by=by, **extra
    )


# --- The cast ------------------------------------------------------------------------------


@pytest.fixture
def other_employer(db):
    return OrganizationFactory(
        name="温州鞋业有限公司",
        kind=Organization.Kind.EMPLOYER,
        province=province("33"),
        level=Organization.Level.COUNTY,
    )


@pytest.fixture
def guangdong(db):
    """A Guangdong employer and its HR officer, a Guangdong bureau officer and a Guangxi one."""
    employer = OrganizationFactory(
        name="东莞电子厂", kind=Organization.Kind.EMPLOYER, province=province("44")
    )
    return {
        "employer": employer,
        "hr": UserFactory(role="hr_officer", organization=employer),
        "bureau": UserFactory(organization=OrganizationFactory(province=province("44"))),
        "guangxi": UserFactory(organization=OrganizationFactory(province=province("45"))),
    }


@pytest.fixture
def charters(
    zhejiang_employer,
    hr_officer,
    other_employer,
    zhejiang_officer,
    sichuan_officer,
    guizhou_officer,
    guangdong,
):
    """Four trips in February 2020 (Shanghai days):

    T1 bus Sichuan→Zhejiang departs 10 Feb: 3 boarded and arrived (one of them at 00:30 on
    11 Feb, i.e. 10 Feb in UTC), 1 no-show, 1 booked, 1 cancelled, 1 waitlisted.
    T2 train Sichuan→Zhejiang departs 11 Feb 01:00 (10 Feb in UTC): 2 boarded, of whom 1
    arrived on 12 Feb, 1 refused.
    T3 bus Guizhou→Zhejiang departs 11 Feb: 1 boarded, arrived 12 Feb (another employer).
    T4 bus Guangxi→Guangdong departs 11 Feb: 2 boarded and arrived 12 Feb."""
    own = posting(zhejiang_employer, hr_officer, positions=40, targets=("51",))
    other = posting(other_employer, hr_officer, positions=10, targets=("52",))
    gd = posting(guangdong["employer"], guangdong["hr"], targets=("45",))
    t1 = trip(zhejiang_officer, "bus", "51", "33", at(2020, 2, 10, 8))
    t2 = trip(zhejiang_officer, "train", "51", "33", at(2020, 2, 11, 1))
    t3 = trip(zhejiang_officer, "bus", "52", "33", at(2020, 2, 11, 9))
    t4 = trip(guangdong["bureau"], "bus", "45", "44", at(2020, 2, 11, 9))
    seat = itertools.count(1)

    def add(on_trip, on_posting, exporter, booking_status, placement_status, arrived=None):
        person = applicant(exporter, on_trip.origin_province_id)
        fields = {"arrived_at": arrived} if arrived else {}
        placed = placement(person, on_posting, placement_status, **fields)
        seated = booking_status in ("booked", "boarded")
        book(on_trip, placed, booking_status, next(seat) if seated else None, zhejiang_officer)

    add(t1, own, sichuan_officer, "boarded", "arrived", at(2020, 2, 11, 0, 30))
    add(t1, own, sichuan_officer, "boarded", "employed", at(2020, 2, 11, 10))
    add(t1, own, sichuan_officer, "boarded", "arrived", at(2020, 2, 11, 18))
    add(t1, own, sichuan_officer, "no_show", "no_show")
    add(t1, own, sichuan_officer, "booked", "booked")
    add(t1, own, sichuan_officer, "cancelled", "accepted")
    add(t1, own, sichuan_officer, "waitlisted", "accepted")
    add(t2, own, sichuan_officer, "boarded", "arrived", at(2020, 2, 12, 6))
    add(t2, own, sichuan_officer, "boarded", "departed")
    add(t2, own, sichuan_officer, "refused", "accepted")
    add(t3, other, guizhou_officer, "boarded", "arrived", at(2020, 2, 12, 9))
    add(t4, gd, guangdong["guangxi"], "boarded", "arrived", at(2020, 2, 12, 9))
    add(t4, gd, guangdong["guangxi"], "boarded", "arrived", at(2020, 2, 12, 9))
    return {"trips": [t1, t2, t3, t4]}


FEB = {"start": date(2020, 2, 10), "end": date(2020, 2, 16)}


# --- Charter arrivals ----------------------------------------------------------------------


def test_arrivals_per_shanghai_day_by_mode_and_exporting_province(charters, zhejiang_officer):
    figure = statistics.charter_arrivals(zhejiang_officer, **FEB)
    assert figure["total"] == 5
    assert figure["by_mode"] == {"bus": 4, "train": 1, "flight": 0}
    days = [(r["day"], r["bus"], r["train"], r["total"], r["cumulative"]) for r in figure["by_day"]]
    assert days == [(date(2020, 2, 11), 3, 0, 3, 3), (date(2020, 2, 12), 1, 1, 2, 5)]
    provinces = [(r["province"], r["total"], r["bus"], r["train"]) for r in figure["by_province"]]
    assert provinces == [("51", 4, 3, 1), ("52", 1, 1, 0)]
    assert figure["by_province"][0]["province_name"] == "四川省"


def test_arrivals_are_scoped_to_the_province_and_the_employer(
    charters, sichuan_officer, guizhou_officer, hr_officer, health_officer, guangdong
):
    assert statistics.charter_arrivals(sichuan_officer, **FEB)["total"] == 4
    guizhou = statistics.charter_arrivals(guizhou_officer, **FEB)
    assert guizhou["total"] == 1
    assert [r["province"] for r in guizhou["by_province"]] == ["52"]
    # the employer: its own posting's workers only (not the other employer's Guizhou worker)
    own = statistics.charter_arrivals(hr_officer, **FEB)
    assert own["total"] == 4 and [r["province"] for r in own["by_province"]] == ["51"]
    assert statistics.charter_arrivals(guangdong["hr"], **FEB)["total"] == 2
    assert statistics.charter_arrivals(health_officer, **FEB)["total"] == 0
    # outside the range
    later = statistics.charter_arrivals(sichuan_officer, start=date(2020, 2, 12), end=FEB["end"])
    assert later["total"] == 1


def test_pipeline_per_departure_day_and_province_pair(charters, zhejiang_officer):
    figure = statistics.charter_pipeline(zhejiang_officer, **FEB)
    assert figure["totals"] == {
        "booked": 9,
        "boarded": 6,
        "arrived": 5,
        "no_show": 1,
        "refused": 1,
        "waitlisted": 1,
    }
    first, second = figure["by_day"]
    assert first["day"] == date(2020, 2, 10) and first["trips"] == 1
    assert (first["booked"], first["boarded"], first["arrived"], first["no_show"]) == (5, 3, 3, 1)
    assert second["day"] == date(2020, 2, 11) and second["trips"] == 2
    assert (second["booked"], second["boarded"], second["arrived"], second["refused"]) == (
        4,
        3,
        2,
        1,
    )
    pairs = {(r["origin"], r["destination"]): r for r in figure["by_pair"]}
    assert set(pairs) == {("51", "33"), ("52", "33")}
    sc = pairs[("51", "33")]
    assert (sc["trips"], sc["booked"], sc["boarded"], sc["arrived"], sc["waitlisted"]) == (
        2,
        8,
        5,
        4,
        1,
    )


def test_guizhou_sees_nothing_of_zhejiang_sichuan_trips(charters, guizhou_officer):
    figure = statistics.charter_pipeline(guizhou_officer, **FEB)
    assert [(r["origin"], r["destination"]) for r in figure["by_pair"]] == [("52", "33")]
    assert figure["totals"]["booked"] == 1


# --- Fill rates ----------------------------------------------------------------------------


@pytest.fixture
def postings(zhejiang_employer, hr_officer, other_employer, sichuan_officer, guangdong):
    p1 = posting(zhejiang_employer, hr_officer, positions=10, filled=4, targets=("51", "52"))
    for status in ("accepted", "accepted", "booked", "declined"):
        placement(applicant(sichuan_officer, "51"), p1, status)
    placement(applicant(sichuan_officer, "51"), p1, "arrived", arrived_at=at(2026, 1, 5))
    p2 = posting(zhejiang_employer, hr_officer, positions=5, filled=5, status="filled")
    p3 = posting(
        other_employer, hr_officer, occupation="welder", positions=20, filled=2, targets=("52",)
    )
    p4 = posting(
        guangdong["employer"], guangdong["hr"], occupation="cook", positions=8, targets=("45",)
    )
    posting(zhejiang_employer, hr_officer, status="draft", published_at=None)
    posting(zhejiang_employer, hr_officer, status="closed", closed_at=at(2025, 12, 1))
    JobPosting.objects.filter(status="draft").update(published_at=None)
    return p1, p2, p3, p4


JAN = {"start": date(2026, 1, 1), "end": date(2026, 1, 31)}


def test_fill_rates_by_occupation_with_held_positions(postings, zhejiang_officer):
    figure = statistics.posting_fill_rates(zhejiang_officer, **JAN)
    rows = [
        (r["occupation"], r["postings"], r["positions"], r["filled"], r["held"], r["fill_percent"])
        for r in figure["by_occupation"]
    ]
    assert rows == [("welder", 1, 20, 2, 0, 10.0), ("assembler", 2, 15, 9, 3, 60.0)]
    assert figure["totals"] == {
        "postings": 3,
        "positions": 35,
        "filled": 11,
        "held": 3,
        "fill_percent": 31.4,
    }
    listed = list(statistics.postings_fill(zhejiang_officer, **JAN))
    assert [(p.pk, p.held, p.fill_rate_percent) for p in listed] == [
        (postings[2].pk, 0, 10.0),
        (postings[0].pk, 3, 40.0),
        (postings[1].pk, 0, 100.0),
    ]


def test_fill_rates_scoping(postings, hr_officer, sichuan_officer, guizhou_officer):
    own = statistics.posting_fill_rates(hr_officer, **JAN)["totals"]
    assert (own["postings"], own["positions"], own["filled"], own["held"]) == (2, 15, 9, 3)
    # Sichuan: the postings targeted at it; Guizhou: p1 and p3 target it
    assert statistics.posting_fill_rates(sichuan_officer, **JAN)["totals"]["postings"] == 2
    guizhou = statistics.posting_fill_rates(guizhou_officer, **JAN)["by_occupation"]
    assert {r["occupation"]: r["postings"] for r in guizhou} == {"welder": 1, "assembler": 1}


# --- Retention -----------------------------------------------------------------------------


@pytest.fixture
def workers(zhejiang_employer, hr_officer, sichuan_officer, guangdong):
    """Zhejiang placements of Sichuan workers (arrival, leaving day):
    F 2025-12-31 23:30 (Shanghai; still on post), A 01-05 (on post), B 01-10 left 01-15,
    C 01-20 left 03-01, G 01-02 left 03-04, H 01-03 left 02-09, D 02-20 left 02-27 (day 7),
    E 06-25 (on post); plus one returned home and one Guangdong placement, never counted."""
    job = posting(zhejiang_employer, hr_officer, positions=40)

    def worker(arrived, left_on=None, status=None):
        status = status or ("left" if left_on else "employed")
        return placement(
            applicant(sichuan_officer, "51"), job, status, arrived_at=arrived, left_on=left_on
        )

    worker(at(2025, 12, 31, 23, 30))
    worker(at(2026, 1, 5))
    worker(at(2026, 1, 10), date(2026, 1, 15))
    worker(at(2026, 1, 20), date(2026, 3, 1))
    worker(at(2026, 1, 2), date(2026, 3, 4))
    worker(at(2026, 1, 3), date(2026, 2, 9))
    worker(at(2026, 2, 20), date(2026, 2, 27))
    worker(at(2026, 6, 25), status="arrived")
    worker(at(2026, 1, 5), status="returned")
    gd = posting(guangdong["employer"], guangdong["hr"], targets=("45",))
    placement(applicant(guangdong["guangxi"], "45"), gd, "employed", arrived_at=at(2026, 1, 5))


TODAY = date(2026, 6, 30)


def test_retention_cohorts_by_month_and_horizon(workers, zhejiang_officer):
    cohorts = statistics.retention_cohorts(
        zhejiang_officer, start=date(2025, 7, 1), end=TODAY, today=TODAY
    )
    table = {
        c["cohort"]: (
            c["arrived"],
            [(h["eligible"], h["retained"], h["share"]) for h in c["horizons"]],
        )
        for c in cohorts
    }
    assert list(table) == [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1), date(2026, 6, 1)]
    assert table[date(2025, 12, 1)] == (1, [(1, 1, 100.0)] * 4)
    # A, B, C, G, H: B left on day 5; at 90 days only A is still there; 180 days not reached
    assert table[date(2026, 1, 1)] == (
        5,
        [(5, 4, 80.0), (5, 4, 80.0), (5, 1, 20.0), (0, 0, None)],
    )
    # D left on arrival day + 7: still counted at 7 days, gone at 30
    assert table[date(2026, 2, 1)] == (1, [(1, 1, 100.0), (1, 0, 0.0), (1, 0, 0.0), (0, 0, None)])
    assert table[date(2026, 6, 1)] == (1, [(0, 0, None)] * 4)


def test_retention_scoping(workers, hr_officer, sichuan_officer, guizhou_officer, guangdong):
    window = {"start": date(2025, 7, 1), "end": TODAY, "today": TODAY}
    assert sum(c["arrived"] for c in statistics.retention_cohorts(hr_officer, **window)) == 8
    assert sum(c["arrived"] for c in statistics.retention_cohorts(sichuan_officer, **window)) == 8
    assert statistics.retention_cohorts(guizhou_officer, **window) == []
    gd = statistics.retention_cohorts(guangdong["bureau"], **window)
    assert [c["arrived"] for c in gd] == [1]


def test_chinese_new_year_and_the_festival_period():
    assert statistics.chinese_new_year(2026) == date(2026, 2, 17)
    assert statistics.chinese_new_year(2020) == date(2020, 1, 25)
    period = statistics.spring_festival_period(2026)
    assert (period.start, period.end, period.eve) == (
        date(2026, 2, 10),
        date(2026, 3, 3),
        date(2026, 2, 9),
    )
    assert statistics.latest_spring_festival_year(date(2026, 2, 9)) == 2025
    assert statistics.latest_spring_festival_year(date(2026, 2, 10)) == 2026


def test_spring_festival_retention(workers, zhejiang_officer, guizhou_officer):
    figure = statistics.spring_festival_retention(zhejiang_officer, year=2026, today=TODAY)
    # on post on the eve (9 Feb): F, A, C, G (H left on the 9th); after 3 March: F, A, G
    assert (figure["on_post"], figure["stayed"], figure["share"]) == (4, 3, 75.0)
    assert figure["complete"] is True and figure["new_year"] == date(2026, 2, 17)
    assert [
        (r["importing"], r["exporting"], r["on_post"], r["stayed"]) for r in figure["by_pair"]
    ] == [("33", "51", 4, 3)]
    during = statistics.spring_festival_retention(
        zhejiang_officer, year=2026, today=date(2026, 2, 20)
    )
    assert during["complete"] is False
    nothing = statistics.spring_festival_retention(guizhou_officer, year=2026, today=TODAY)
    assert (nothing["on_post"], nothing["share"], nothing["by_pair"]) == (0, None, [])


# --- Supply and demand ---------------------------------------------------------------------


@pytest.fixture
def market(
    zhejiang_employer, hr_officer, other_employer, sichuan_officer, guizhou_officer, guangdong
):
    today = timezone.localdate()
    posting(zhejiang_employer, hr_officer, positions=10, filled=4, targets=("51", "52"))
    posting(
        other_employer, hr_officer, occupation="welder", positions=20, filled=2, targets=("52",)
    )
    posting(guangdong["employer"], guangdong["hr"], occupation="cook", positions=8, targets=("45",))
    posting(zhejiang_employer, hr_officer, positions=5, filled=5, status="filled")
    posting(zhejiang_employer, hr_officer, deadline=today - timedelta(days=1))

    def whitelisted(who, importing, *, countersign="countersigned", expires=30):
        WhitelistEntry.objects.create(
            applicant=who,
            importing_province_id=importing,
            status="approved",
            countersign=countersign,
            expires_on=today + timedelta(days=expires),
        )
        return who

    whitelisted(applicant(sichuan_officer, "51", skills=("assembler", "welder")), "33")
    whitelisted(applicant(sichuan_officer, "51", consent=False), "33")
    whitelisted(applicant(sichuan_officer, "51"), "33", countersign="awaiting")
    busy = whitelisted(applicant(sichuan_officer, "51"), "33")
    placement(busy, JobPosting.objects.filter(occupation="welder").first(), "accepted")
    whitelisted(applicant(sichuan_officer, "51"), "33", expires=-1)
    whitelisted(applicant(guizhou_officer, "52", skills=("welder",)), "33")
    whitelisted(applicant(sichuan_officer, "51", skills=("cook",)), "33")
    whitelisted(applicant(guangdong["guangxi"], "45", skills=("cook",)), "44")


def _pairs(rows):
    return [
        (r["importing"], r["exporting"], r["occupation"], r["demand"], r["supply"]) for r in rows
    ]


def test_supply_and_demand_by_pair_and_occupation(market, zhejiang_officer):
    rows = statistics.supply_and_demand(zhejiang_officer)
    assert _pairs(rows) == [
        ("33", "52", "welder", 18, 1),
        ("33", "51", "assembler", 6, 1),
        ("33", "52", "assembler", 6, 0),
        ("33", "51", "cook", 0, 1),
        ("33", "51", "welder", 0, 1),
    ]
    assert rows[0]["gap"] == 17 and rows[0]["postings"] == 1
    assert rows[0]["importing_name"] == "浙江省" and rows[0]["occupation_label"]


def test_supply_and_demand_scoping(market, sichuan_officer, guizhou_officer, hr_officer):
    assert {r["exporting"] for r in statistics.supply_and_demand(sichuan_officer)} == {"51"}
    guizhou = statistics.supply_and_demand(guizhou_officer)
    assert {(r["exporting"], r["occupation"]) for r in guizhou} == {
        ("52", "welder"),
        ("52", "assembler"),
    }
    # the employer: the demand of its own postings, no supply
    assert _pairs(statistics.supply_and_demand(hr_officer)) == [
        ("33", "51", "assembler", 6, None),
        ("33", "52", "assembler", 6, None),
    ]


# --- Pages ---------------------------------------------------------------------------------

PAGE = "/transport/statistics/"


def test_the_page_is_for_bureau_and_hr_officers_only(
    client, zhejiang_officer, hr_officer, health_officer, sichuan_bureau
):
    from laborlink.services import api_client_create

    machine, _app, _secret = api_client_create(actor=None, bureau=sichuan_bureau, name="川系统")
    assert reverse("transport:statistics") == PAGE
    for user in (health_officer, machine):
        client.force_login(user)
        assert client.get(PAGE).status_code == 404
        assert (
            client.get(reverse("transport:statistics-chart", args=["arrivals"])).status_code == 404
        )
        assert client.get(reverse("transport:statistics-export")).status_code == 404
    for user in (zhejiang_officer, hr_officer):
        client.force_login(user)
        page = client.get(PAGE)
        assert page.status_code == 200
        today = timezone.localdate()
        text = page.content.decode()
        assert f'value="{today - timedelta(days=29):%Y-%m-%d}"' not in text  # unbound form
        assert page.context["period"].start == today - timedelta(days=29)
        assert page.context["period"].end == today
    client.logout()
    assert client.get(PAGE).status_code == 302


def test_the_page_shows_charts_and_tables(client, charters, zhejiang_officer):
    client.force_login(zhejiang_officer)
    page = client.get(PAGE, {"start": "2020-02-10", "end": "2020-02-16", "year": "2020"})
    assert page.status_code == 200
    html = page.content.decode()
    chart = reverse("transport:statistics-chart", args=["arrivals"])
    assert f'<img src="{chart}?start=2020-02-10&amp;end=2020-02-16&amp;year=2020"' in html
    for key in (
        "arrivals",
        "pipeline",
        "fill-rates",
        "retention",
        "spring-festival",
        "supply-demand",
    ):
        assert f'data-testid="table-{key}"' in html
    assert "四川省" in html and "浙江省" in html
    bad = client.get(PAGE, {"start": "2020-02-16", "end": "2020-02-10"})
    assert bad.status_code == 400


def test_the_page_query_count_does_not_grow_with_trips(
    client, zhejiang_officer, hr_officer, sichuan_officer, zhejiang_employer
):
    job = posting(zhejiang_employer, hr_officer, positions=100)
    day = timezone.localtime() - timedelta(days=3)

    def add_trips(n):
        for _ in range(n):
            t = trip(zhejiang_officer, "bus", "51", "33", day)
            placed = placement(applicant(sichuan_officer, "51"), job, "arrived", arrived_at=day)
            book(t, placed, "boarded", 1, zhejiang_officer)

    client.force_login(zhejiang_officer)
    add_trips(2)
    client.get(PAGE)  # warm caches (sessions, content types)
    with CaptureQueriesContext(connection) as two:
        page = client.get(PAGE)
    assert page.context["tables"][0].rows[-1][-1] == 2
    add_trips(10)
    with CaptureQueriesContext(connection) as twelve:
        page = client.get(PAGE)
    assert page.context["tables"][0].rows[-1][-1] == 12
    assert len(twelve) == len(two)


def test_the_chart_is_a_plain_svg_image(client, charters, zhejiang_officer):
    client.force_login(zhejiang_officer)
    for name in statistics_views().CHARTS:
        response = client.get(
            reverse("transport:statistics-chart", args=[name]),
            {"start": "2020-02-10", "end": "2020-02-16", "year": "2026"},
        )
        assert response.status_code == 200, name
        assert response["Content-Type"] == "image/svg+xml"
        svg = response.content.decode()
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
        assert "<script" not in svg
        assert 'href="http' not in svg and "src=" not in svg and "@import" not in svg
    arrivals = client.get(
        reverse("transport:statistics-chart", args=["arrivals"]),
        {"start": "2020-02-10", "end": "2020-02-16"},
    ).content.decode()
    assert "02-11" in arrivals
    assert client.get(reverse("transport:statistics-chart", args=["nope"])).status_code == 404


def statistics_views():
    from transport.views import statistics as views

    return views


def test_the_export_has_one_sheet_per_figure(client, charters, zhejiang_officer):
    from openpyxl import load_workbook

    client.force_login(zhejiang_officer)
    response = client.get(
        reverse("transport:statistics-export"), {"start": "2020-02-10", "end": "2020-02-16"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    book_ = load_workbook(io.BytesIO(response.content))
    assert len(book_.sheetnames) == 8
    first = book_.worksheets[0]
    rows = list(first.iter_rows(values_only=True))
    assert rows[2][0] is not None and rows[-1][-1] == 5  # cumulative arrivals
    tables = statistics_views()._all_tables(
        zhejiang_officer,
        statistics_views().Period(
            statistics_views().StatisticsFilter({"start": "2020-02-10", "end": "2020-02-16"})
        ),
    )
    assert [t.key for t in tables][:2] == ["arrivals", "arrivals-by-province"]


def test_export_cells_are_formula_safe():
    from openpyxl import load_workbook

    views = statistics_views()
    table = views.Table("x", "=evil", ['=HYPERLINK("http://x")'], [["@SUM(1)", 3]])
    sheet = load_workbook(io.BytesIO(views.workbook_bytes([table]))).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "'=evil"
    assert rows[1][0].startswith("'=")
    assert rows[2] == ("'@SUM(1)", 3)
