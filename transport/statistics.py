"""Statistics for bureaus and employers, every figure aggregated by PostgreSQL.

Each selector takes the user and scopes what it counts (`StatisticsScope`):

- a bureau officer or a province's API client counts what touches its province, as the
  importing side (trip destination, posting province, whitelist province) or as the exporting
  side (trip origin, applicant's home province, targeted province);
- an employer's HR officer counts only its own postings (and the bookings of their workers);
- anyone else counts nothing.

The selectors group and count in the database (`GROUP BY`, `COUNT(*) FILTER (WHERE …)`,
dates truncated in Asia/Shanghai) and return at most one row per day, month, province pair
or occupation; Python only reshapes those few rows (running totals, shares, merging demand
with supply). Days are Shanghai calendar days; a date range is `[start 00:00, end + 1 00:00)`
in Shanghai time so that the indexes on the timestamps are used.

Definitions:

- *charter arrival*: a booking that boarded whose placement has an arrival time; counted on
  the Shanghai day of the placement's arrival, by the trip's mode and origin (exporting)
  province;
- *pipeline* of the trips departing in the range: booked = bookings that held a seat and were
  not cancelled (booked, boarded, refused at boarding, no-show); boarded; arrived = boarded and
  arrived; no-show; refused; waitlisted;
- *fill rate* of a posting: positions filled (on post) / positions; held = placements that
  hold a position without filling it yet (accepted, booked, departed, referred);
- *retention*: see `retention_cohorts` and `spring_festival_retention`;
- *supply and demand*: see `supply_and_demand`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from django.db.models import (
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Round, TruncDate, TruncMonth
from django.utils import timezone, translation

from laborlink.access import acting_organization
from laborlink.models import Organization, User
from recruitment.models import JobPosting, Placement, WhitelistEntry
from recruitment.occupations import Occupation, occupation_label
from transport.models import Booking, Trip

Role = User.Role
Kind = Organization.Kind

HORIZONS = (7, 30, 90, 180)
# Placements that started work: the population of the retention figures.
WORKED_STATUSES = ("arrived", "employed", "left")
# Placements that hold a position without filling it yet.
HELD_STATUSES = tuple(
    s for s in Placement.HOLDING_POSITION_STATUSES if s not in Placement.FILLED_STATUSES
)
# Bookings that held a seat and were not cancelled.
BOOKED_STATUSES = ("booked", "boarded", "refused", "no_show")
MODES = tuple(Trip.Mode.values)
SPRING_FESTIVAL_HOLIDAY = "Chinese New Year (Spring Festival)"
DAYS_BEFORE_NEW_YEAR = 7
LANTERN_FESTIVAL_OFFSET = 14  # day 15 of the first lunar month


@dataclass(frozen=True)
class StatisticsScope:
    """What a user's figures count: one province (both sides) or one employer's postings."""

    province_id: str | None = None
    employer_id: int | None = None

    @property
    def is_employer(self) -> bool:
        return self.employer_id is not None


def statistics_scope(user: User) -> StatisticsScope | None:
    """The scope of a bureau officer or API client (its province), an HR officer (its
    employer), or None for anyone else."""
    bureau = acting_organization(user, [Role.BUREAU_OFFICER, Role.API_CLIENT], Kind.BUREAU)
    if bureau is not None:
        return StatisticsScope(province_id=bureau.province_id)
    employer = acting_organization(user, [Role.HR_OFFICER], Kind.EMPLOYER)
    if employer is not None:
        return StatisticsScope(employer_id=employer.pk)
    return None


# --- Helpers ------------------------------------------------------------------------------


def _tz():
    return timezone.get_default_timezone()


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end + 1 day 00:00) in Shanghai time."""
    tz = _tz()
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _name(zh: str | None, en: str | None) -> str:
    language = translation.get_language() or "zh-hans"
    return (zh if language.startswith("zh") else en) or ""


def _booking_scope(scope: StatisticsScope) -> Q:
    if scope.is_employer:
        return Q(placement__posting__employer_id=scope.employer_id)
    return Q(trip__origin_province_id=scope.province_id) | Q(
        trip__destination_province_id=scope.province_id
    )


def _placement_scope(scope: StatisticsScope) -> Q:
    if scope.is_employer:
        return Q(posting__employer_id=scope.employer_id)
    return Q(posting__province_id=scope.province_id) | Q(
        applicant__home_province_id=scope.province_id
    )


def _posting_scope(scope: StatisticsScope) -> Q:
    if scope.is_employer:
        return Q(employer_id=scope.employer_id)
    targeted = JobPosting.target_provinces.through.objects.filter(
        jobposting_id=OuterRef("pk"), province_id=scope.province_id
    )
    return Q(province_id=scope.province_id) | Exists(targeted)


# --- Charter arrivals ---------------------------------------------------------------------


def charter_arrivals(user: User, *, start: date, end: date) -> dict[str, Any]:
    """Workers who boarded a charter and arrived, per Shanghai day of arrival (with one
    column per mode and a running total) and per exporting (origin) province.

    {"total", "by_mode": {mode: n}, "by_day": [{"day", "total", "cumulative", <mode>: n}],
     "by_province": [{"province", "province_name", "total", <mode>: n}]}"""
    scope = statistics_scope(user)
    result: dict[str, Any] = {
        "total": 0,
        "by_mode": dict.fromkeys(MODES, 0),
        "by_day": [],
        "by_province": [],
    }
    if scope is None:
        return result
    since, until = day_bounds(start, end)
    arrivals = Booking.objects.filter(
        _booking_scope(scope),
        status=Booking.Status.BOARDED,
        placement__arrived_at__gte=since,
        placement__arrived_at__lt=until,
    )
    per_mode = {mode: Count("id", filter=Q(trip__mode=mode)) for mode in MODES}
    by_day = (
        arrivals.annotate(day=TruncDate("placement__arrived_at", tzinfo=_tz()))
        .values("day")
        .annotate(total=Count("id"), **per_mode)
        .order_by("day")
    )
    by_province = (
        arrivals.values(
            "trip__origin_province_id",
            "trip__origin_province__name_zh",
            "trip__origin_province__name_en",
        )
        .annotate(total=Count("id"), **per_mode)
        .order_by("-total", "trip__origin_province_id")
    )
    running = 0
    for row in by_day:
        running += row["total"]
        result["by_day"].append({**row, "cumulative": running})
        for mode in MODES:
            result["by_mode"][mode] += row[mode]
    result["total"] = running
    result["by_province"] = [
        {
            "province": row["trip__origin_province_id"],
            "province_name": _name(
                row["trip__origin_province__name_zh"], row["trip__origin_province__name_en"]
            ),
            "total": row["total"],
            **{mode: row[mode] for mode in MODES},
        }
        for row in by_province
    ]
    return result


# --- Pipeline -----------------------------------------------------------------------------

_PIPELINE_COUNTS = {
    "booked": Q(status__in=BOOKED_STATUSES),
    "boarded": Q(status=Booking.Status.BOARDED),
    "arrived": Q(status=Booking.Status.BOARDED, placement__arrived_at__isnull=False),
    "no_show": Q(status=Booking.Status.NO_SHOW),
    "refused": Q(status=Booking.Status.REFUSED),
    "waitlisted": Q(status=Booking.Status.WAITLISTED),
}
PIPELINE_STAGES = tuple(_PIPELINE_COUNTS)


def _pipeline_counts() -> dict[str, Count]:
    return {name: Count("id", filter=condition) for name, condition in _PIPELINE_COUNTS.items()}


def charter_pipeline(user: User, *, start: date, end: date) -> dict[str, Any]:
    """Booked vs boarded vs arrived vs no-show of the trips departing in the range, per
    Shanghai departure day and per province pair (origin → destination).

    {"totals": {stage: n}, "by_day": [{"day", "trips", <stage>: n}],
     "by_pair": [{"origin", "origin_name", "destination", "destination_name", "trips",
                  <stage>: n}]}"""
    scope = statistics_scope(user)
    result: dict[str, Any] = {
        "totals": dict.fromkeys(PIPELINE_STAGES, 0),
        "by_day": [],
        "by_pair": [],
    }
    if scope is None:
        return result
    since, until = day_bounds(start, end)
    bookings = Booking.objects.filter(
        _booking_scope(scope), trip__departure_at__gte=since, trip__departure_at__lt=until
    )
    trips = Count("trip_id", distinct=True)
    by_day = (
        bookings.annotate(day=TruncDate("trip__departure_at", tzinfo=_tz()))
        .values("day")
        .annotate(trips=trips, **_pipeline_counts())
        .order_by("day")
    )
    by_pair = (
        bookings.values(
            "trip__origin_province_id",
            "trip__origin_province__name_zh",
            "trip__origin_province__name_en",
            "trip__destination_province_id",
            "trip__destination_province__name_zh",
            "trip__destination_province__name_en",
        )
        .annotate(trips=trips, **_pipeline_counts())
        .order_by("-booked", "trip__origin_province_id", "trip__destination_province_id")
    )
    for row in by_day:
        result["by_day"].append(row)
        for stage in PIPELINE_STAGES:
            result["totals"][stage] += row[stage]
    result["by_pair"] = [
        {
            "origin": row["trip__origin_province_id"],
            "origin_name": _name(
                row["trip__origin_province__name_zh"], row["trip__origin_province__name_en"]
            ),
            "destination": row["trip__destination_province_id"],
            "destination_name": _name(
                row["trip__destination_province__name_zh"],
                row["trip__destination_province__name_en"],
            ),
            "trips": row["trips"],
            **{stage: row[stage] for stage in PIPELINE_STAGES},
        }
        for row in by_pair
    ]
    return result


# --- Posting fill rates -------------------------------------------------------------------


def postings_fill(user: User, *, start: date, end: date) -> QuerySet[JobPosting]:
    """The postings in scope that were open at some time in the range (published before its
    end, not closed before its start), each annotated in the same query with `held` and
    `fill_rate_percent` (`JobPosting.fill_percent` is a rounded property); the least filled
    first."""
    scope = statistics_scope(user)
    if scope is None:
        return JobPosting.objects.none()
    since, until = day_bounds(start, end)
    held = (
        Placement.objects.filter(posting_id=OuterRef("pk"), status__in=HELD_STATUSES)
        .order_by()
        .values("posting_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        JobPosting.objects.filter(_posting_scope(scope))
        .exclude(status=JobPosting.Status.DRAFT)
        .filter(published_at__lt=until)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=since))
        .select_related("employer", "province")
        .annotate(
            held=Coalesce(Subquery(held, output_field=IntegerField()), 0),
            fill_rate_percent=Round(
                Cast(F("positions_filled"), FloatField()) * 100.0 / F("positions"), 1
            ),
        )
        .order_by("fill_rate_percent", "deadline", "id")
    )


def posting_fill_rates(user: User, *, start: date, end: date) -> dict[str, Any]:
    """Positions, filled, held and fill % per occupation and in total over `postings_fill`.

    {"totals": {"postings", "positions", "filled", "held", "fill_percent"},
     "by_occupation": [{"occupation", "occupation_label", "postings", "positions", "filled",
                        "held", "fill_percent"}]}"""
    rows = (
        postings_fill(user, start=start, end=end)
        .select_related(None)
        .order_by()
        .values("occupation")
        .annotate(
            postings=Count("id"),
            positions_total=Sum("positions"),
            filled_total=Sum("positions_filled"),
            held_total=Sum("held"),
        )
        .order_by("-positions_total", "occupation")
    )
    totals = {"postings": 0, "positions": 0, "filled": 0, "held": 0}
    by_occupation = []
    for row in rows:
        item = {
            "occupation": row["occupation"],
            "occupation_label": occupation_label(row["occupation"]),
            "postings": row["postings"],
            "positions": row["positions_total"] or 0,
            "filled": row["filled_total"] or 0,
            "held": row["held_total"] or 0,
        }
        item["fill_percent"] = _share(item["filled"], item["positions"])
        by_occupation.append(item)
        for key in totals:
            totals[key] += item[key]
    return {
        "totals": {**totals, "fill_percent": _share(totals["filled"], totals["positions"])},
        "by_occupation": by_occupation,
    }


# --- Retention ----------------------------------------------------------------------------


def _worked_placements(scope: StatisticsScope) -> QuerySet[Placement]:
    return Placement.objects.filter(
        _placement_scope(scope), status__in=WORKED_STATUSES, arrived_at__isnull=False
    ).annotate(arrival_day=TruncDate("arrived_at", tzinfo=_tz()))


def _day_plus(days: int) -> ExpressionWrapper:
    """The Shanghai arrival day + `days` (PostgreSQL: date + integer = date)."""
    return ExpressionWrapper(F("arrival_day") + Value(days), output_field=DateField())


def retention_cohorts(
    user: User, *, start: date, end: date, today: date | None = None
) -> list[dict[str, Any]]:
    """Monthly cohorts of the workers who arrived in the range (Shanghai days), and for each
    horizon h of 7, 30, 90 and 180 days the share still on post h days after arrival.

    Population: placements that started work (arrived, employed or left) with an arrival
    time. For horizon h, only the workers who arrived at least h days before `today` count
    (`eligible`); of those, a worker is still on post (`retained`) unless the placement left
    before arrival day + h (status left with `left_on` < arrival day + h).

    [{"cohort": first day of the month, "arrived",
      "horizons": [{"days", "eligible", "retained", "share"}]}]"""
    scope = statistics_scope(user)
    if scope is None:
        return []
    today = today or timezone.localdate()
    since, until = day_bounds(start, end)
    counts: dict[str, Count] = {}
    for h in HORIZONS:
        eligible = Q(arrival_day__lte=today - timedelta(days=h))
        left_early = Q(status=Placement.Status.LEFT, left_on__lt=_day_plus(h))
        counts[f"eligible_{h}"] = Count("id", filter=eligible)
        counts[f"retained_{h}"] = Count("id", filter=eligible & ~left_early)
    rows = (
        _worked_placements(scope)
        .filter(arrived_at__gte=since, arrived_at__lt=until)
        .annotate(cohort=TruncMonth("arrived_at", tzinfo=_tz()))
        .values("cohort")
        .annotate(arrived=Count("id"), **counts)
        .order_by("cohort")
    )
    cohorts = []
    for row in rows:
        cohort = row["cohort"]
        if isinstance(cohort, datetime):
            cohort = timezone.localtime(cohort).date()
        horizons = [
            {
                "days": h,
                "eligible": row[f"eligible_{h}"],
                "retained": row[f"retained_{h}"],
                "share": _share(row[f"retained_{h}"], row[f"eligible_{h}"]),
            }
            for h in HORIZONS
        ]
        cohorts.append({"cohort": cohort, "arrived": row["arrived"], "horizons": horizons})
    return cohorts


@lru_cache(maxsize=64)
def chinese_new_year(year: int) -> date:
    """New Year's day of the lunar calendar in `year`: the earliest day that the `holidays`
    package's Chinese calendar names "Chinese New Year (Spring Festival)"."""
    import holidays

    calendar = holidays.country_holidays("CN", years=year, language="en_US")
    days = calendar.get_named(SPRING_FESTIVAL_HOLIDAY, lookup="exact")
    if not days:
        raise ValueError(f"no Spring Festival known for {year}")
    return min(days)


@dataclass(frozen=True)
class SpringFestivalPeriod:
    year: int
    new_year: date
    start: date  # 7 days before New Year's day
    end: date  # the Lantern Festival, New Year's day + 14
    eve: date  # the day before the period starts


def spring_festival_period(year: int) -> SpringFestivalPeriod:
    """The Spring Festival period of `year`: from 7 days before Chinese New Year's day to the
    Lantern Festival (day 15 of the first lunar month = New Year's day + 14), both included.
    For 2026 (New Year's day 17 February): 10 February to 3 March, eve 9 February."""
    new_year = chinese_new_year(year)
    start = new_year - timedelta(days=DAYS_BEFORE_NEW_YEAR)
    return SpringFestivalPeriod(
        year=year,
        new_year=new_year,
        start=start,
        end=new_year + timedelta(days=LANTERN_FESTIVAL_OFFSET),
        eve=start - timedelta(days=1),
    )


def latest_spring_festival_year(today: date | None = None) -> int:
    """The year of the latest Spring Festival period that has begun."""
    today = today or timezone.localdate()
    period = spring_festival_period(today.year)
    return today.year if today >= period.start else today.year - 1


def spring_festival_retention(
    user: User, *, year: int, today: date | None = None
) -> dict[str, Any]:
    """Who stayed through the Spring Festival of `year`.

    The rule: the period runs from 7 days before Chinese New Year's day to the Lantern
    Festival (New Year's day + 14), New Year's day being the earliest day named "Chinese New
    Year (Spring Festival)" by `holidays.country_holidays("CN")`. A worker is on post on a
    day d when the placement started work (arrived, employed or left) on or before d and had
    not left on or before d. The base is the workers on post on the eve of the period (the
    day before it starts); those who stayed are still on post after the period (not left on or
    before the Lantern Festival). `complete` is False while the period is not over yet.

    {"year", "new_year", "period_start", "period_end", "eve", "complete", "on_post", "stayed",
     "share", "by_pair": [{"importing", "importing_name", "exporting", "exporting_name",
                           "on_post", "stayed", "share"}]}"""
    period = spring_festival_period(year)
    today = today or timezone.localdate()
    result: dict[str, Any] = {
        "year": year,
        "new_year": period.new_year,
        "period_start": period.start,
        "period_end": period.end,
        "eve": period.eve,
        "complete": today > period.end,
        "on_post": 0,
        "stayed": 0,
        "share": None,
        "by_pair": [],
    }
    scope = statistics_scope(user)
    if scope is None:
        return result
    left = Q(status=Placement.Status.LEFT)
    on_post = Q(arrival_day__lte=period.eve) & ~(left & Q(left_on__lte=period.eve))
    stayed = on_post & ~(left & Q(left_on__lte=period.end))
    _, eve_end = day_bounds(period.eve, period.eve)
    rows = (
        _worked_placements(scope)
        .filter(arrived_at__lt=eve_end)
        .values(
            "posting__province_id",
            "posting__province__name_zh",
            "posting__province__name_en",
            "applicant__home_province_id",
            "applicant__home_province__name_zh",
            "applicant__home_province__name_en",
        )
        .annotate(on_post=Count("id", filter=on_post), stayed=Count("id", filter=stayed))
        .filter(on_post__gt=0)
        .order_by("-on_post", "posting__province_id", "applicant__home_province_id")
    )
    for row in rows:
        result["on_post"] += row["on_post"]
        result["stayed"] += row["stayed"]
        result["by_pair"].append(
            {
                "importing": row["posting__province_id"],
                "importing_name": _name(
                    row["posting__province__name_zh"], row["posting__province__name_en"]
                ),
                "exporting": row["applicant__home_province_id"],
                "exporting_name": _name(
                    row["applicant__home_province__name_zh"],
                    row["applicant__home_province__name_en"],
                ),
                "on_post": row["on_post"],
                "stayed": row["stayed"],
                "share": _share(row["stayed"], row["on_post"]),
            }
        )
    result["share"] = _share(result["stayed"], result["on_post"])
    return result


# --- Supply and demand --------------------------------------------------------------------


def supply_and_demand(user: User, *, today: date | None = None) -> list[dict[str, Any]]:
    """Today's demand and supply per (importing, exporting) province pair and occupation.

    Demand: the positions still open (positions − filled) of open postings whose deadline has
    not passed, counted for each exporting province the posting targets (a posting targeted
    at two provinces counts in both pairs). Supply: applicants with an effective whitelist
    entry for the importing province (approved, countersigned, not expired), consenting to
    cross-province sharing and without an active placement, counted under each occupation
    among their skills. A bureau sees the pairs where its province is either side; an
    employer sees the demand of its own postings and no supply (`supply` is None).

    [{"importing", "importing_name", "exporting", "exporting_name", "occupation",
      "occupation_label", "postings", "demand", "supply", "gap"}] (gap = demand − supply)"""
    scope = statistics_scope(user)
    if scope is None:
        return []
    today = today or timezone.localdate()
    Target = JobPosting.target_provinces.through
    if scope.is_employer:
        demand_scope = Q(jobposting__employer_id=scope.employer_id)
    else:
        demand_scope = Q(jobposting__province_id=scope.province_id) | Q(
            province_id=scope.province_id
        )
    demand_rows = (
        Target.objects.filter(
            demand_scope,
            jobposting__status=JobPosting.Status.OPEN,
            jobposting__deadline__gte=today,
            jobposting__positions_filled__lt=F("jobposting__positions"),
        )
        .values(
            "jobposting__province_id",
            "jobposting__province__name_zh",
            "jobposting__province__name_en",
            "province_id",
            "province__name_zh",
            "province__name_en",
            "jobposting__occupation",
        )
        .annotate(
            postings=Count("jobposting_id"),
            demand=Sum(F("jobposting__positions") - F("jobposting__positions_filled")),
        )
        .order_by()
    )
    table: dict[tuple[str, str, str], dict[str, Any]] = {}
    employer = scope.is_employer

    def entry(imp, imp_zh, imp_en, exp, exp_zh, exp_en, occupation) -> dict[str, Any]:
        key = (imp, exp, occupation)
        if key not in table:
            table[key] = {
                "importing": imp,
                "importing_name": _name(imp_zh, imp_en),
                "exporting": exp,
                "exporting_name": _name(exp_zh, exp_en),
                "occupation": occupation,
                "occupation_label": occupation_label(occupation),
                "postings": 0,
                "demand": 0,
                "supply": None if employer else 0,
            }
        return table[key]

    for row in demand_rows:
        item = entry(
            row["jobposting__province_id"],
            row["jobposting__province__name_zh"],
            row["jobposting__province__name_en"],
            row["province_id"],
            row["province__name_zh"],
            row["province__name_en"],
            row["jobposting__occupation"],
        )
        item["postings"] = row["postings"]
        item["demand"] = row["demand"] or 0

    if not employer:
        active = Placement.objects.filter(
            applicant_id=OuterRef("applicant_id"), status__in=Placement.ACTIVE_STATUSES
        )
        per_skill = {
            f"skill_{code}": Count("id", filter=Q(applicant__skills__contains=[code]))
            for code in Occupation.values
        }
        supply_rows = (
            WhitelistEntry.objects.filter(
                Q(importing_province_id=scope.province_id)
                | Q(applicant__home_province_id=scope.province_id),
                status=WhitelistEntry.Status.APPROVED,
                countersign=WhitelistEntry.Countersign.COUNTERSIGNED,
                expires_on__gte=today,
                applicant__consent_cross_province=True,
            )
            .exclude(Exists(active))
            .values(
                "importing_province_id",
                "importing_province__name_zh",
                "importing_province__name_en",
                "applicant__home_province_id",
                "applicant__home_province__name_zh",
                "applicant__home_province__name_en",
            )
            .annotate(**per_skill)
            .order_by()
        )
        for row in supply_rows:
            for code in Occupation.values:
                count = row[f"skill_{code}"]
                if not count:
                    continue
                item = entry(
                    row["importing_province_id"],
                    row["importing_province__name_zh"],
                    row["importing_province__name_en"],
                    row["applicant__home_province_id"],
                    row["applicant__home_province__name_zh"],
                    row["applicant__home_province__name_en"],
                    code,
                )
                item["supply"] = count
    rows = list(table.values())
    for item in rows:
        item["gap"] = item["demand"] - (item["supply"] or 0)
    rows.sort(
        key=lambda r: (
            -r["demand"],
            -(r["supply"] or 0),
            r["importing"],
            r["exporting"],
            r["occupation"],
        )
    )
    return rows
