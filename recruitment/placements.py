"""The placement lifecycle after acceptance: transitions with their history, the position
count, departures, absences and the flags raised to the bureaus.

`placement_move` is the one place a placement changes status. It keeps the posting's
`positions_filled` equal to the number of its placements on post (arrived or employed), so a
worker who leaves frees the position again, and records a `PlacementEvent`. Callers lock the
placement (`select_for_update`) before moving it; transport's services do so for boarding,
departure and arrival.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import holidays
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from laborlink.access import acting_organization, require_role
from laborlink.errors import Conflict, DomainError, NotFound
from laborlink.history import attribute_services_to_actor
from laborlink.models import Organization, User
from recruitment.models import Absence, Flag, JobPosting, Placement, PlacementEvent

Role = User.Role
Status = Placement.Status

ABSENCE_FLAG_WORKING_DAYS = 5
MAX_ABSENCE_DAYS_PER_REPORT = 31

# Which status may follow which. Accepted → arrived/referred/returned: workers who travel on
# their own, without a charter.
TRANSITIONS: dict[str, set[str]] = {
    Status.OFFERED: {Status.ACCEPTED, Status.DECLINED, Status.EXPIRED, Status.WITHDRAWN},
    Status.ACCEPTED: {
        Status.BOOKED,
        Status.ARRIVED,
        Status.REFERRED,
        Status.RETURNED,
        Status.WITHDRAWN,
    },
    Status.BOOKED: {Status.ACCEPTED, Status.DEPARTED, Status.NO_SHOW, Status.WITHDRAWN},
    Status.DEPARTED: {Status.ARRIVED, Status.REFERRED, Status.RETURNED, Status.WITHDRAWN},
    Status.REFERRED: {Status.ARRIVED, Status.RETURNED, Status.WITHDRAWN},
    Status.ARRIVED: {Status.EMPLOYED, Status.LEFT},
    Status.EMPLOYED: {Status.LEFT},
}


def placement_move(
    *,
    placement: Placement,
    to: str,
    actor: User | None,
    reason: str = "",
    at: datetime | None = None,
    **fields: Any,
) -> Placement:
    """Move a (locked) placement to `to`, keep the posting's filled count and record it."""
    current = placement.status
    if to not in TRANSITIONS.get(current, set()):
        raise Conflict(
            _("A placement that is %(current)s cannot become %(target)s.")
            % {"current": Status(current).label, "target": Status(to).label},
            code="invalid_transition",
        )
    moment = at or timezone.now()
    was_filled = current in Placement.FILLED_STATUSES
    now_filled = to in Placement.FILLED_STATUSES
    if was_filled != now_filled:
        _count_filled(placement.posting_id, +1 if now_filled else -1)
    placement.status = to
    for name, value in fields.items():
        setattr(placement, name, value)
    placement.updated_at = moment
    placement.save(update_fields=["status", "updated_at", *fields])
    PlacementEvent.objects.create(
        placement=placement,
        from_status=current,
        to_status=to,
        actor=actor if actor is not None and actor.is_authenticated else None,
        at=moment,
        reason=reason[:300],
    )
    return placement


def placement_created(placement: Placement, *, actor: User | None) -> None:
    """Record the first status of a new placement (offer acceptance creates them)."""
    PlacementEvent.objects.create(
        placement=placement,
        from_status="",
        to_status=placement.status,
        actor=actor if actor is not None and actor.is_authenticated else None,
    )


def _count_filled(posting_id: int, delta: int) -> None:
    """Filled = placements on post. A posting whose last position is filled becomes
    "filled"; one that loses a worker while filled opens again."""
    posting = JobPosting.objects.select_for_update().get(pk=posting_id)
    filled = posting.positions_filled + delta
    if filled < 0 or filled > posting.positions:
        raise Conflict(_("All positions of this posting are already filled."), code="full")
    status = posting.status
    if filled == posting.positions and status == JobPosting.Status.OPEN:
        status = JobPosting.Status.FILLED
    elif filled < posting.positions and status == JobPosting.Status.FILLED:
        status = JobPosting.Status.OPEN
    JobPosting.objects.filter(pk=posting_id).update(
        positions_filled=F("positions_filled") + delta, status=status, updated_at=timezone.now()
    )


# --- The employer's side: placements on its own postings ------------------------------------


def _employer_of(actor: User) -> Organization:
    require_role(actor, [Role.HR_OFFICER])
    org = acting_organization(actor, [Role.HR_OFFICER], Organization.Kind.EMPLOYER)
    if org is None:
        raise NotFound()
    return org


def _own_placement_for_update(actor: User, placement: Placement | int) -> Placement:
    employer = _employer_of(actor)
    pk = placement.pk if isinstance(placement, Placement) else placement
    found = (
        Placement.objects.select_for_update(of=("self",))
        .select_related("posting", "applicant")
        .filter(pk=pk, posting__employer=employer)
        .first()
    )
    if found is None:
        raise NotFound()
    return found


@transaction.atomic
def placement_report_departure(
    *, actor: User, placement: Placement | int, left_on: date, reason: str, note: str = ""
) -> Placement:
    """The employer reports that a worker has left (date and reason)."""
    found = _own_placement_for_update(actor, placement)
    if found.status not in Placement.ON_POST_STATUSES:
        raise Conflict(
            _("Only a worker on post can be reported as having left."), code="not_on_post"
        )
    if reason not in Placement.LeftReason.values:
        raise DomainError(_("Choose a reason for leaving."), field="reason")
    today = timezone.localdate()
    arrived_on = timezone.localtime(found.arrived_at).date()
    if left_on > today:
        raise DomainError(_("The date of leaving cannot be in the future."), field="left_on")
    if left_on < arrived_on:
        raise DomainError(
            _("The date of leaving cannot be before the arrival (%(day)s).")
            % {"day": arrived_on.isoformat()},
            field="left_on",
        )
    Flag.objects.filter(placement=found, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=actor, resolution=str(_("The worker has left."))
    )
    return placement_move(
        placement=found,
        to=Status.LEFT,
        actor=actor,
        reason=Placement.LeftReason(reason).label,
        left_on=left_on,
        left_reason=reason,
        left_note=(note or "").strip()[:300],
    )


def placements_start_employment(*, today: date | None = None) -> int:
    """Daily: arrived workers whose job has started are employed from the later of the start
    date and their arrival."""
    day = today or timezone.localdate()
    moved = 0
    due = Placement.objects.filter(status=Status.ARRIVED, posting__start_date__lte=day)
    for pk in due.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            placement = (
                Placement.objects.select_for_update(of=("self",))
                .select_related("posting")
                .filter(pk=pk, status=Status.ARRIVED)
                .first()
            )
            if placement is None:
                continue
            arrived_on = timezone.localtime(placement.arrived_at).date()
            placement_move(
                placement=placement,
                to=Status.EMPLOYED,
                actor=None,
                employed_on=max(placement.posting.start_date, arrived_on),
            )
            moved += 1
    return moved


# --- Absences and flags ------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _china_calendar(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("CN", years=[year - 1, year, year + 1])


def is_working_day(day: date) -> bool:
    """A working day in mainland China: weekends and public holidays off, the weekend days
    that the State Council makes working days in exchange on."""
    return _china_calendar(day.year).is_working_day(day)


def consecutive_absent_working_days(absent: Iterable[date], *, until: date) -> int:
    """How many working days in a row, ending with the last working day on or before
    `until`, the worker was absent (days off in between neither count nor break the run)."""
    days = set(absent)
    count = 0
    day = until
    for _step in range(400):
        if is_working_day(day):
            if day not in days:
                return count
            count += 1
        day -= timedelta(days=1)
    return count


@transaction.atomic
def absence_report(*, actor: User, placement: Placement | int, days: Iterable[date]) -> int:
    """The employer reports days a worker did not come; reporting a day twice changes
    nothing. Five consecutive working days raise a flag to both bureaus. Returns how many
    new days were recorded."""
    found = _own_placement_for_update(actor, placement)
    if found.status not in Placement.ON_POST_STATUSES:
        raise Conflict(_("Absences are reported for workers on post."), code="not_on_post")
    wanted = sorted(set(days))
    if not wanted:
        raise DomainError(_("Choose at least one day."), field="days")
    if len(wanted) > MAX_ABSENCE_DAYS_PER_REPORT:
        raise DomainError(
            _("Report at most %(n)d days at a time.") % {"n": MAX_ABSENCE_DAYS_PER_REPORT},
            field="days",
        )
    today = timezone.localdate()
    arrived_on = timezone.localtime(found.arrived_at).date()
    if wanted[-1] > today or wanted[0] < arrived_on:
        raise DomainError(
            _("Absences must fall between the arrival (%(day)s) and today.")
            % {"day": arrived_on.isoformat()},
            field="days",
        )
    known = set(Absence.objects.filter(placement=found).values_list("day", flat=True))
    new = [day for day in wanted if day not in known]
    Absence.objects.bulk_create(
        [Absence(placement=found, day=day, reported_by=actor) for day in new]
    )
    # A day reported late can join runs on both sides of it: look at every run that ends on
    # or after the earliest new day, not only the one ending on the last day reported.
    absent = known | set(new)
    run, until = 0, wanted[-1]
    if new:
        for end in sorted(day for day in absent if day >= new[0]):
            length = consecutive_absent_working_days(absent, until=end)
            if length > run:
                run, until = length, end
    if run >= ABSENCE_FLAG_WORKING_DAYS:
        flag_raise(
            kind=Flag.Kind.ABSENT,
            placement=found,
            detail={"working_days": run, "until": until.isoformat()},
        )
    return len(new)


def flag_raise(*, kind: str, placement: Placement, detail: dict[str, Any]) -> Flag | None:
    """Raise a flag unless one of the kind is already open for the placement."""
    posting_province = (
        placement.posting.province_id
        if isinstance(placement.posting, JobPosting)
        else JobPosting.objects.values_list("province_id", flat=True).get(pk=placement.posting_id)
    )
    if Flag.objects.filter(placement=placement, kind=kind, resolved_at__isnull=True).exists():
        return None
    try:
        with transaction.atomic():
            return Flag.objects.create(
                kind=kind,
                placement=placement,
                importing_province_id=posting_province,
                exporting_province_id=placement.applicant.home_province_id,
                detail=detail,
            )
    except IntegrityError:  # raised a moment ago by a concurrent report
        return None


def flags_resolve_for(placement: Placement, *, kind: str, actor: User | None, note: str) -> int:
    return Flag.objects.filter(placement=placement, kind=kind, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=actor, resolution=note[:300]
    )


@transaction.atomic
def flag_resolve(*, actor: User, flag: Flag | int, resolution: str) -> Flag:
    """A bureau officer closes a flag with a note on what was done."""
    from recruitment.selectors import flags_visible_to

    require_role(actor, [Role.BUREAU_OFFICER])
    pk = flag.pk if isinstance(flag, Flag) else flag
    found = flags_visible_to(actor).select_for_update(of=("self",)).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    if found.resolved_at is not None:
        raise Conflict(_("This flag has already been resolved."), code="resolved")
    text = (resolution or "").strip()
    if not text:
        raise DomainError(_("Say what was done."), field="resolution")
    found.resolved_at = timezone.now()
    found.resolved_by = actor
    found.resolution = text[:300]
    found.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    return found


attribute_services_to_actor(globals())
