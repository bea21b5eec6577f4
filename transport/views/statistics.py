"""Pages: statistics for bureau officers and employers' HR officers (404 for anyone else).

The page shows every figure of `transport.statistics` as an SVG chart, each drawn by pygal
at its own URL (`chart/<name>.svg`, embedded with <img>, no script), with the numbers in a
table under it; `export.xlsx` writes one formula-safe sheet per figure. The date range
(default: the last 30 days) applies to arrivals, trips and postings; retention cohorts cover
the twelve months up to the end of the range; supply and demand are today's.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from laborlink import audit
from laborlink.access import acting_organization
from laborlink.models import Organization, User
from recruitment.exports import XLSX_CONTENT_TYPE, attachment, sheet_title, xlsx_cell
from transport import statistics
from transport.models import Trip

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 30
MAX_DAYS = 366
RETENTION_MONTHS_DAYS = 365
CHART_ROWS = 20  # bars in the supply-and-demand and province charts


class StatisticsFilter(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    year = forms.IntegerField(
        label=gettext_lazy("Spring Festival of"), required=False, min_value=2001, max_value=2099
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", gettext_lazy("The end must not be before the start."))
            elif (end - start).days >= MAX_DAYS:
                self.add_error(
                    "end",
                    gettext_lazy("Choose a range of at most %(days)d days.") % {"days": MAX_DAYS},
                )
        return data


class Period:
    """The range, retention window and festival year a request asks for (defaults when the
    filter is empty or invalid)."""

    def __init__(self, form: StatisticsFilter):
        today = timezone.localdate()
        data = form.cleaned_data if form.is_valid() else {}
        self.end: date = data.get("end") or today
        self.start: date = data.get("start") or self.end - timedelta(days=DEFAULT_DAYS - 1)
        if self.start > self.end:
            self.start = self.end - timedelta(days=DEFAULT_DAYS - 1)
        self.retention_start: date = min(
            self.start, self.end - timedelta(days=RETENTION_MONTHS_DAYS - 1)
        )
        self.year: int = data.get("year") or statistics.latest_spring_festival_year(today)

    def query(self) -> str:
        return f"start={self.start:%Y-%m-%d}&end={self.end:%Y-%m-%d}&year={self.year}"


def _reader(user: User) -> bool:
    """Bureau officers and employers' HR officers read statistics on these pages."""
    return (
        acting_organization(user, [User.Role.BUREAU_OFFICER], Organization.Kind.BUREAU) is not None
        or acting_organization(user, [User.Role.HR_OFFICER], Organization.Kind.EMPLOYER) is not None
    )


def _period(request: HttpRequest) -> tuple[StatisticsFilter, Period]:
    if not _reader(request.user):
        raise Http404
    form = StatisticsFilter(request.GET or None)
    return form, Period(form)


# --- Figures as tables: one header and rows per figure (the page, the XLSX, the charts) ------


def _mode_labels() -> list[str]:
    return [str(label) for label in Trip.Mode.labels]


def _stage_labels() -> dict[str, str]:
    return {
        "booked": _("Booked"),
        "boarded": _("Boarded"),
        "arrived": _("Arrived"),
        "no_show": _("No-show"),
        "refused": _("Refused at boarding"),
        "waitlisted": _("Waitlisted"),
    }


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


class Table:
    def __init__(self, key: str, title: str, header: Sequence[str], rows: Iterable[Sequence]):
        self.key = key
        self.title = title
        self.header = list(header)
        self.rows = [list(row) for row in rows]


def arrivals_tables(figure: dict[str, Any]) -> list[Table]:
    modes = statistics.MODES
    by_day = Table(
        "arrivals",
        _("Workers brought back by charter, per day"),
        [_("Day"), *_mode_labels(), _("Total"), _("Cumulative")],
        (
            [row["day"], *(row[m] for m in modes), row["total"], row["cumulative"]]
            for row in figure["by_day"]
        ),
    )
    by_province = Table(
        "arrivals-by-province",
        _("Workers brought back by charter, per exporting province"),
        [_("Exporting province"), *_mode_labels(), _("Total")],
        (
            [row["province_name"], *(row[m] for m in modes), row["total"]]
            for row in figure["by_province"]
        ),
    )
    return [by_day, by_province]


def pipeline_tables(figure: dict[str, Any]) -> list[Table]:
    labels = _stage_labels()
    stages = statistics.PIPELINE_STAGES
    by_day = Table(
        "pipeline",
        _("Bookings, boarding and arrival per departure day"),
        [_("Departure day"), _("Trips"), *(labels[s] for s in stages)],
        ([row["day"], row["trips"], *(row[s] for s in stages)] for row in figure["by_day"]),
    )
    by_pair = Table(
        "pipeline-by-pair",
        _("Bookings, boarding and arrival per province pair"),
        [_("Origin"), _("Destination"), _("Trips"), *(labels[s] for s in stages)],
        (
            [row["origin_name"], row["destination_name"], row["trips"], *(row[s] for s in stages)]
            for row in figure["by_pair"]
        ),
    )
    return [by_day, by_pair]


def fill_tables(figure: dict[str, Any]) -> list[Table]:
    totals = figure["totals"]
    rows = [
        [
            row["occupation_label"],
            row["postings"],
            row["positions"],
            row["filled"],
            row["held"],
            _percent(row["fill_percent"]),
        ]
        for row in figure["by_occupation"]
    ]
    if rows:
        rows.append(
            [
                _("Total"),
                totals["postings"],
                totals["positions"],
                totals["filled"],
                totals["held"],
                _percent(totals["fill_percent"]),
            ]
        )
    return [
        Table(
            "fill-rates",
            _("Postings' fill rates by occupation"),
            [_("Occupation"), _("Postings"), _("Positions"), _("Filled"), _("Held"), _("Fill %")],
            rows,
        )
    ]


def retention_tables(cohorts: list[dict[str, Any]]) -> list[Table]:
    header = [_("Arrival month"), _("Arrived")]
    for h in statistics.HORIZONS:
        header += [_("On post at %(days)d days") % {"days": h}, _("Eligible")]
    rows = []
    for cohort in cohorts:
        row: list[Any] = [cohort["cohort"].strftime("%Y-%m"), cohort["arrived"]]
        for horizon in cohort["horizons"]:
            row += [_percent(horizon["share"]), horizon["eligible"]]
        rows.append(row)
    return [Table("retention", _("Retention by arrival month"), header, rows)]


def festival_tables(figure: dict[str, Any]) -> list[Table]:
    rows = [
        [
            row["importing_name"],
            row["exporting_name"],
            row["on_post"],
            row["stayed"],
            _percent(row["share"]),
        ]
        for row in figure["by_pair"]
    ]
    if rows:
        rows.append(
            [_("Total"), "", figure["on_post"], figure["stayed"], _percent(figure["share"])]
        )
    title = _("Retention over the Spring Festival %(year)d (%(start)s – %(end)s)") % {
        "year": figure["year"],
        "start": figure["period_start"].isoformat(),
        "end": figure["period_end"].isoformat(),
    }
    return [
        Table(
            "spring-festival",
            title,
            [
                _("Importing province"),
                _("Exporting province"),
                _("On post on the eve"),
                _("Still on post after"),
                _("Share staying"),
            ],
            rows,
        )
    ]


def supply_tables(rows: list[dict[str, Any]]) -> list[Table]:
    return [
        Table(
            "supply-demand",
            _("Supply and demand by province pair and occupation"),
            [
                _("Importing province"),
                _("Exporting province"),
                _("Occupation"),
                _("Open postings"),
                _("Open positions"),
                _("Available applicants"),
                _("Gap"),
            ],
            (
                [
                    row["importing_name"],
                    row["exporting_name"],
                    row["occupation_label"],
                    row["postings"],
                    row["demand"],
                    "—" if row["supply"] is None else row["supply"],
                    row["gap"],
                ]
                for row in rows
            ),
        )
    ]


# --- Charts -------------------------------------------------------------------------------

_SCRIPT = re.compile(rb"<script\b.*?</script>", re.S)
_COMMENT = re.compile(rb"<!--.*?-->", re.S)


def _chart_config(title: str, **options: Any) -> dict[str, Any]:
    from pygal.style import Style

    style = Style(
        font_family='"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", '
        '"PingFang SC", sans-serif',
        background="white",
        plot_background="white",
        colors=("#1f6feb", "#2da44e", "#d4a72c", "#cf222e", "#8250df", "#6e7781"),
    )
    return {
        "title": title,
        "style": style,
        "js": [],  # no script from anywhere: the chart is a plain image
        "disable_xml_declaration": False,
        "width": 900,
        "height": 420,
        "legend_at_bottom": True,
        "print_values": False,
        "show_minor_x_labels": True,
        "x_label_rotation": 30,
        "no_data_text": _("No data"),
        "truncate_legend": -1,
        **options,
    }


def render_svg(chart) -> bytes:
    """The chart as a standalone SVG document without pygal's inline script and comments."""
    svg = chart.render()
    svg = _SCRIPT.sub(b"", svg)
    return _COMMENT.sub(b"", svg)


def _days(rows: list[dict[str, Any]]) -> list[str]:
    return [row["day"].strftime("%m-%d") for row in rows]


def chart_arrivals(user: User, period: Period):
    import pygal

    figure = statistics.charter_arrivals(user, start=period.start, end=period.end)
    chart = pygal.StackedBar(**_chart_config(_("Workers brought back by charter, per day")))
    chart.x_labels = _days(figure["by_day"])
    for mode, label in Trip.Mode.choices:
        chart.add(str(label), [row[mode] for row in figure["by_day"]])
    return chart


def chart_arrivals_by_province(user: User, period: Period):
    import pygal

    figure = statistics.charter_arrivals(user, start=period.start, end=period.end)
    rows = figure["by_province"][:CHART_ROWS]
    chart = pygal.HorizontalStackedBar(
        **_chart_config(_("Workers brought back by charter, per exporting province"))
    )
    chart.x_labels = [row["province_name"] for row in rows]
    for mode, label in Trip.Mode.choices:
        chart.add(str(label), [row[mode] for row in rows])
    return chart


def chart_pipeline(user: User, period: Period):
    import pygal

    figure = statistics.charter_pipeline(user, start=period.start, end=period.end)
    chart = pygal.Bar(**_chart_config(_("Bookings, boarding and arrival per departure day")))
    chart.x_labels = _days(figure["by_day"])
    labels = _stage_labels()
    for stage in ("booked", "boarded", "arrived", "no_show"):
        chart.add(labels[stage], [row[stage] for row in figure["by_day"]])
    return chart


def chart_fill_rates(user: User, period: Period):
    import pygal

    figure = statistics.posting_fill_rates(user, start=period.start, end=period.end)
    rows = figure["by_occupation"][:CHART_ROWS]
    chart = pygal.HorizontalBar(
        **_chart_config(_("Postings' fill rates by occupation"), range=(0, 100))
    )
    chart.x_labels = [row["occupation_label"] for row in rows]
    chart.add(_("Fill %"), [row["fill_percent"] or 0 for row in rows])
    return chart


def chart_retention(user: User, period: Period):
    import pygal

    cohorts = statistics.retention_cohorts(user, start=period.retention_start, end=period.end)
    chart = pygal.Line(**_chart_config(_("Retention by arrival month"), range=(0, 100)))
    chart.x_labels = [_("%(days)d days") % {"days": h} for h in statistics.HORIZONS]
    for cohort in cohorts:
        chart.add(cohort["cohort"].strftime("%Y-%m"), [h["share"] for h in cohort["horizons"]])
    return chart


def chart_spring_festival(user: User, period: Period):
    import pygal

    figure = statistics.spring_festival_retention(user, year=period.year)
    rows = figure["by_pair"][:CHART_ROWS]
    chart = pygal.HorizontalBar(
        **_chart_config(
            _("Retention over the Spring Festival %(year)d") % {"year": figure["year"]},
            range=(0, 100),
        )
    )
    chart.x_labels = [f"{row['exporting_name']} → {row['importing_name']}" for row in rows]
    chart.add(_("Share staying"), [row["share"] or 0 for row in rows])
    return chart


def chart_supply_demand(user: User, period: Period):
    import pygal

    rows = statistics.supply_and_demand(user)[:CHART_ROWS]
    chart = pygal.HorizontalBar(
        **_chart_config(_("Supply and demand by province pair and occupation"))
    )
    chart.x_labels = [
        f"{row['exporting_name']} → {row['importing_name']} · {row['occupation_label']}"
        for row in rows
    ]
    chart.add(_("Open positions"), [row["demand"] for row in rows])
    if any(row["supply"] is not None for row in rows):
        chart.add(_("Available applicants"), [row["supply"] or 0 for row in rows])
    return chart


CHARTS: dict[str, Callable[[User, Period], Any]] = {
    "arrivals": chart_arrivals,
    "arrivals-by-province": chart_arrivals_by_province,
    "pipeline": chart_pipeline,
    "fill-rates": chart_fill_rates,
    "retention": chart_retention,
    "spring-festival": chart_spring_festival,
    "supply-demand": chart_supply_demand,
}


# --- Views --------------------------------------------------------------------------------


def _all_tables(user: User, period: Period) -> list[Table]:
    arrivals = statistics.charter_arrivals(user, start=period.start, end=period.end)
    pipeline = statistics.charter_pipeline(user, start=period.start, end=period.end)
    fill = statistics.posting_fill_rates(user, start=period.start, end=period.end)
    cohorts = statistics.retention_cohorts(user, start=period.retention_start, end=period.end)
    festival = statistics.spring_festival_retention(user, year=period.year)
    supply = statistics.supply_and_demand(user)
    return [
        *arrivals_tables(arrivals),
        *pipeline_tables(pipeline),
        *fill_tables(fill),
        *retention_tables(cohorts),
        *festival_tables(festival),
        *supply_tables(supply),
    ]


@login_required
def statistics_page(request: HttpRequest) -> HttpResponse:
    form, period = _period(request)
    tables = _all_tables(request.user, period)
    context = {
        "form": form,
        "period": period,
        "query": period.query(),
        "tables": tables,
        "charts": [table for table in tables if table.key in CHARTS],
        "festival": statistics.spring_festival_period(period.year),
    }
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "transport/statistics.html", context, status=status)


@login_required
def statistics_chart(request: HttpRequest, name: str) -> HttpResponse:
    _form, period = _period(request)
    build = CHARTS.get(name)
    if build is None:
        raise Http404
    response = HttpResponse(render_svg(build(request.user, period)), content_type="image/svg+xml")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, max-age=60"
    return response


def workbook_bytes(tables: Iterable[Table]) -> bytes:
    """One formula-safe sheet per figure: its title on the first row, then the table."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    used: set[str] = set()
    for table in tables:
        name = sheet_title(table.title)
        if name in used:  # titles cut at 31 characters may collide
            name = sheet_title(f"{name[:27]} {len(used) + 1}")
        used.add(name)
        sheet = workbook.create_sheet(title=name)
        sheet.append([xlsx_cell(table.title)])
        sheet.append([xlsx_cell(cell) for cell in table.header])
        for row in table.rows:
            sheet.append([xlsx_cell(cell) for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@login_required
def statistics_export(request: HttpRequest) -> HttpResponse:
    _form, period = _period(request)
    tables = _all_tables(request.user, period)
    logger.info(
        "statistics export by user %s for %s..%s", request.user.pk, period.start, period.end
    )
    audit.record_export(
        request,
        what="transport.statistics",
        fmt="xlsx",
        start=period.start.isoformat(),
        end=period.end.isoformat(),
    )
    response = HttpResponse(workbook_bytes(tables), content_type=XLSX_CONTENT_TYPE)
    return attachment(response, f"statistics-{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx")


urlpatterns = [
    path("statistics/", statistics_page, name="statistics"),
    path("statistics/export.xlsx", statistics_export, name="statistics-export"),
    path("statistics/chart/<slug:name>.svg", statistics_chart, name="statistics-chart"),
]
