"""Every write of the transport app: trips, bookings, boarding, arrival.

Lock order: the trip row first (bookings of one trip queue on it), then placements by
primary key. Booking services lock the trip with `select_for_update`, so concurrent requests
for the last seat are served one after the other and the losers are told the trip is full;
the database refuses overbooking and double booking on its own as well (see models).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from laborlink.access import require_role
from laborlink.errors import Conflict, DomainError, Forbidden, NotFound
from laborlink.history import attribute_services_to_actor
from laborlink.models import Organization, Province, User
from laborlink.selectors import provinces_cooperate
from recruitment.models import Flag, Placement
from recruitment.placements import flag_raise, flags_resolve_for, placement_move
from recruitment.services import reason_required
from transport import selectors
from transport.models import Booking, BookingEvent, Trip

Role = User.Role
Kind = Organization.Kind

MAX_SEATS = 2000  # a chartered train
MAX_TRIP_HOURS = 72
UNCONFIRMED_AFTER = timedelta(hours=24)
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 \-]{5,19}$")
CERTIFICATE_NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9\-]{6,24}$")

TRIP_FIELDS = (
    "mode",
    "operator",
    "vehicle_number",
    "origin_province",
    "origin_city",
    "pickup_point",
    "destination_province",
    "destination_city",
    "destination_point",
    "departure_at",
    "arrival_expected_at",
    "seats",
    "contact_name",
    "contact_phone",
    "notes",
)
REQUIRED_TEXT = (
    "operator",
    "vehicle_number",
    "origin_city",
    "pickup_point",
    "destination_city",
    "destination_point",
    "contact_name",
    "contact_phone",
)


# --- Trips -------------------------------------------------------------------------------------


def _organiser(actor: User) -> Organization:
    require_role(actor, [Role.BUREAU_OFFICER, Role.HR_OFFICER])
    organiser = selectors.organiser_of(actor)
    if organiser is None:
        raise Forbidden(_("Only an importing bureau or an employer charters trips."))
    return organiser


def _province(value: Province | str | None, field_name: str) -> Province:
    code = value.pk if isinstance(value, Province) else value
    found = Province.objects.filter(pk=code).first() if code else None
    if found is None:
        raise DomainError(_("Choose a province."), field=field_name)
    return found


def _travel_day(departure: Any) -> date:
    """The day the agreement must be in force: the departure's (today when it is unknown)."""
    if isinstance(departure, datetime) and not timezone.is_naive(departure):
        return max(timezone.localdate(departure), timezone.localdate())
    return timezone.localdate()


def _clean_trip(organiser: Organization, values: dict[str, Any]) -> dict[str, Any]:
    clean = dict(values)
    errors: dict[str, str] = {}
    if clean.get("mode") not in Trip.Mode.values:
        errors["mode"] = str(_("Choose bus, train or flight."))
    for name in REQUIRED_TEXT:
        clean[name] = str(clean.get(name) or "").strip()
        if not clean[name]:
            errors[name] = str(_("This field is required."))
    clean["notes"] = str(clean.get("notes") or "").strip()
    if clean["contact_phone"] and not PHONE_PATTERN.match(clean["contact_phone"]):
        errors["contact_phone"] = str(_("Enter a phone number of digits, spaces or dashes."))
    try:
        seats = int(clean.get("seats") or 0)
    except (TypeError, ValueError):
        seats = 0
    if not 1 <= seats <= MAX_SEATS:
        errors["seats"] = str(_("Seats must be between 1 and %(max)d.") % {"max": MAX_SEATS})
    clean["seats"] = seats
    departure, arrival = clean.get("departure_at"), clean.get("arrival_expected_at")
    if not isinstance(departure, datetime):
        errors["departure_at"] = str(_("Enter the departure date and time."))
    if not isinstance(arrival, datetime):
        errors["arrival_expected_at"] = str(_("Enter the expected arrival date and time."))
    if isinstance(departure, datetime) and isinstance(arrival, datetime):
        if timezone.is_naive(departure) or timezone.is_naive(arrival):
            raise DomainError(_("Times must carry their time zone."))
        if arrival <= departure:
            errors["arrival_expected_at"] = str(_("The arrival must be after the departure."))
        elif arrival - departure > timedelta(hours=MAX_TRIP_HOURS):
            errors["arrival_expected_at"] = str(
                _("A trip cannot last longer than %(h)d hours.") % {"h": MAX_TRIP_HOURS}
            )
    try:
        origin = _province(clean.get("origin_province"), "origin_province")
        destination = _province(clean.get("destination_province"), "destination_province")
    except DomainError as exc:
        errors[exc.field or "origin_province"] = str(exc.message)
        origin = destination = None
    if origin is not None and destination is not None:
        if destination.pk != organiser.province_id:
            errors["destination_province"] = str(
                _("A trip you charter must arrive in your province (%(province)s).")
                % {"province": organiser.province.name}
            )
        elif origin.pk == destination.pk:
            errors["origin_province"] = str(_("A charter crosses provinces."))
        elif not provinces_cooperate(
            importing=destination.pk, exporting=origin.pk, on=_travel_day(departure)
        ):
            errors["origin_province"] = str(
                _("%(origin)s has no labour-cooperation agreement in force with %(destination)s.")
                % {"origin": origin.name, "destination": destination.name}
            )
        clean["origin_province"], clean["destination_province"] = origin, destination
    if errors:
        first = next(iter(errors))
        raise DomainError(errors[first], field=first, details={"fields": errors})
    return clean


@transaction.atomic
def trip_create(*, actor: User, **values: Any) -> Trip:
    """An importing bureau or an employer charters a trip into its province."""
    organiser = _organiser(actor)
    clean = _clean_trip(organiser, {name: values.get(name) for name in TRIP_FIELDS})
    if clean["departure_at"] < timezone.now():
        raise DomainError(_("The departure cannot be in the past."), field="departure_at")
    return Trip.objects.create(organiser=organiser, created_by=actor, **clean)


def _managed_trip_for_update(actor: User, trip: Trip | int) -> Trip:
    pk = trip.pk if isinstance(trip, Trip) else trip
    found = selectors.trips_managed_by(actor).select_for_update(of=("self",)).filter(pk=pk).first()
    if found is None:
        if selectors.trips_visible_to(actor).filter(pk=pk).exists():
            raise Forbidden(_("Only the trip's organiser can change it."))
        raise NotFound()
    return found


@transaction.atomic
def trip_update(*, actor: User, trip: Trip | int, **changes: Any) -> Trip:
    """Change a planned trip. Its seats cannot drop below a seat already booked."""
    found = _managed_trip_for_update(actor, trip)
    if found.status != Trip.Status.PLANNED:
        raise Conflict(_("Only a planned trip can be changed."), code="not_planned")
    values = {name: getattr(found, name) for name in TRIP_FIELDS}
    values.update({k: v for k, v in changes.items() if k in TRIP_FIELDS})
    clean = _clean_trip(found.organiser, values)
    if clean["departure_at"] != found.departure_at and clean["departure_at"] < timezone.now():
        raise DomainError(_("The departure cannot be in the past."), field="departure_at")
    highest = (
        found.bookings.filter(status__in=Booking.SEATED_STATUSES)
        .order_by("-seat")
        .values_list("seat", flat=True)
        .first()
    )
    if highest is not None and clean["seats"] < highest:
        raise Conflict(
            _("Seat %(seat)d is booked: the trip cannot have fewer seats.") % {"seat": highest},
            code="seats_in_use",
            field="seats",
        )
    if (
        clean["origin_province"].pk != found.origin_province_id
        and found.bookings.filter(status__in=Booking.ACTIVE_STATUSES).exists()
    ):
        raise Conflict(
            _("Workers are booked on this trip: its origin cannot change."),
            code="origin_in_use",
            field="origin_province",
        )
    more_seats = clean["seats"] > found.seats
    for name, value in clean.items():
        setattr(found, name, value)
    found.save(update_fields=[*TRIP_FIELDS, "updated_at"])
    if more_seats:
        _promote_waitlist(found, actor)
    return found


@transaction.atomic
def trip_start_boarding(*, actor: User, trip: Trip | int) -> Trip:
    found = _boardable_trip_for_update(actor, trip)
    if found.status != Trip.Status.PLANNED:
        raise Conflict(_("Boarding can only start on a planned trip."), code="not_planned")
    found.status = Trip.Status.BOARDING
    found.boarding_started_at = timezone.now()
    found.save(update_fields=["status", "boarding_started_at", "updated_at"])
    return found


@transaction.atomic
def trip_depart(*, actor: User, trip: Trip | int) -> Trip:
    """The trip leaves: boarded workers have departed; booked workers who did not board are
    no-shows (or refused, when their certificate was refused) and free their positions."""
    found = _boardable_trip_for_update(actor, trip)
    if found.status != Trip.Status.BOARDING:
        if found.status == Trip.Status.PLANNED:
            raise Conflict(_("Start boarding before the trip leaves."), code="not_boarding")
        raise Conflict(_("This trip has already left or was cancelled."), code="not_open")
    now = timezone.now()
    bookings = list(
        found.bookings.select_for_update(of=("self",))
        .filter(status__in=Booking.ACTIVE_STATUSES)
        .order_by("placement_id")
    )
    placements = _lock_placements([b.placement_id for b in bookings])
    for booking in bookings:
        placement = placements[booking.placement_id]
        if booking.status == Booking.Status.BOARDED:
            placement_move(placement=placement, to=Placement.Status.DEPARTED, actor=actor, at=now)
            continue
        if booking.status == Booking.Status.WAITLISTED:
            _set_booking(
                booking,
                actor,
                BookingEvent.Action.CANCELLED,
                status=Booking.Status.CANCELLED,
                cancel_reason=str(_("The trip left without a free seat.")),
            )
            continue
        refused = bool(booking.refusal_reason)
        _set_booking(
            booking,
            actor,
            BookingEvent.Action.REFUSED if refused else BookingEvent.Action.NO_SHOW,
            status=Booking.Status.REFUSED if refused else Booking.Status.NO_SHOW,
            reason=booking.refusal_reason,
        )
        placement_move(
            placement=placement,
            to=Placement.Status.NO_SHOW,
            actor=actor,
            reason=booking.refusal_reason or str(_("Did not board the trip.")),
            at=now,
        )
    found.status = Trip.Status.DEPARTED
    found.departed_at = now
    found.save(update_fields=["status", "departed_at", "updated_at"])
    return found


@transaction.atomic
def trip_arrive(*, actor: User, trip: Trip | int) -> Trip:
    found = _boardable_trip_for_update(actor, trip)
    if found.status != Trip.Status.DEPARTED:
        raise Conflict(_("Only a trip under way can arrive."), code="not_departed")
    found.status = Trip.Status.ARRIVED
    found.arrived_at = timezone.now()
    found.save(update_fields=["status", "arrived_at", "updated_at"])
    return found


@transaction.atomic
def trip_cancel(*, actor: User, trip: Trip | int, reason: str) -> Trip:
    """Cancel a trip that has not left: every booking is cancelled and its worker can be
    booked on another trip."""
    text = reason_required(reason)
    found = _managed_trip_for_update(actor, trip)
    if found.status not in Trip.OPEN_STATUSES:
        raise Conflict(_("This trip has already left or was cancelled."), code="not_open")
    bookings = list(
        found.bookings.select_for_update(of=("self",))
        .filter(status__in=Booking.ACTIVE_STATUSES)
        .order_by("placement_id")
    )
    placements = _lock_placements([b.placement_id for b in bookings])
    for booking in bookings:
        was_seated = booking.status in Booking.SEATED_STATUSES
        _set_booking(
            booking,
            actor,
            BookingEvent.Action.CANCELLED,
            status=Booking.Status.CANCELLED,
            cancel_reason=text,
            reason=text,
        )
        if was_seated:
            placement_move(
                placement=placements[booking.placement_id],
                to=Placement.Status.ACCEPTED,
                actor=actor,
                reason=text,
            )
    found.status = Trip.Status.CANCELLED
    found.cancelled_at = timezone.now()
    found.cancel_reason = text
    found.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
    return found


def _boardable_trip_for_update(actor: User, trip: Trip | int) -> Trip:
    require_role(actor, [Role.BUREAU_OFFICER, Role.HR_OFFICER])
    pk = trip.pk if isinstance(trip, Trip) else trip
    found = (
        selectors.trips_boardable_by(actor).select_for_update(of=("self",)).filter(pk=pk).first()
    )
    if found is None:
        if selectors.trips_visible_to(actor).filter(pk=pk).exists():
            raise Forbidden(_("Only the organiser or the origin bureau runs boarding."))
        raise NotFound()
    return found


# --- Bookings ----------------------------------------------------------------------------------


def _lock_placements(ids: Iterable[int]) -> dict[int, Placement]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = (
        Placement.objects.select_for_update(of=("self",))
        .select_related("applicant", "posting")
        .filter(pk__in=wanted)
        .order_by("pk")
    )
    return {p.pk: p for p in rows}


def _set_booking(
    booking: Booking, actor: User | None, action: str, *, reason: str = "", **fields: Any
) -> Booking:
    seat_before = booking.seat
    if fields.get("status") in (Booking.Status.CANCELLED,) and "seat" not in fields:
        fields["seat"] = booking.seat  # kept for the record; the seat is free again
    for name, value in fields.items():
        setattr(booking, name, value)
    booking.save(update_fields=[*fields, "updated_at"])
    BookingEvent.objects.create(
        booking=booking,
        action=action,
        seat_before=seat_before,
        seat_after=booking.seat,
        actor=actor if actor is not None and actor.is_authenticated else None,
        reason=(reason or "")[:300],
    )
    return booking


def _taken_seats(trip: Trip) -> set[int]:
    return set(
        trip.bookings.filter(status__in=Booking.SEATED_STATUSES).values_list("seat", flat=True)
    )


def free_seats(trip: Trip) -> list[int]:
    taken = _taken_seats(trip)
    return [seat for seat in range(1, trip.seats + 1) if seat not in taken]


def adjacent_block(free: Sequence[int], size: int) -> list[int] | None:
    """The first run of `size` consecutive free seats, preferring one that starts on an odd
    seat (a row's window seat on a bus numbered in pairs); None when there is none."""
    free_set = set(free)
    starts = [s for s in free if all(s + i in free_set for i in range(size))]
    if not starts:
        return None
    preferred = [s for s in starts if s % 2 == 1] or starts
    return list(range(preferred[0], preferred[0] + size))


def _full(trip: Trip, wanted: int, free: int) -> Conflict:
    if free == 0:
        message = _("Trip %(trip)s is full: no seat is left.") % {"trip": trip.vehicle_number}
    else:
        message = _("Trip %(trip)s has only %(free)d free seats for %(wanted)d workers.") % {
            "trip": trip.vehicle_number,
            "free": free,
            "wanted": wanted,
        }
    return Conflict(message, code="full", details={"free_seats": free, "wanted": wanted})


@dataclass
class BookingResult:
    booked: list[Booking] = field(default_factory=list)
    waitlisted: list[Booking] = field(default_factory=list)


@transaction.atomic
def booking_create(
    *,
    actor: User,
    trip: Trip | int,
    placements: Iterable[Placement | int],
    together: bool = False,
    waitlist: bool = False,
    group_label: str = "",
) -> BookingResult:
    """Book accepted workers on a trip, all or none. `together` seats them in adjacent
    seats; with `waitlist`, those who find no seat wait for one instead of the request
    being refused."""
    ids = sorted({p.pk if isinstance(p, Placement) else int(p) for p in placements})
    if not ids:
        raise DomainError(_("Choose at least one worker."), field="placements")
    found = _managed_trip_for_update(actor, trip)
    if found.status not in Trip.OPEN_STATUSES:
        raise Conflict(_("This trip has already left or was cancelled."), code="not_open")
    allowed = set(
        selectors.placements_bookable(actor, found).filter(pk__in=ids).values_list("pk", flat=True)
    )
    if len(allowed) != len(ids):
        _explain_unbookable(actor, found, [pk for pk in ids if pk not in allowed])
    locked = _lock_placements(ids)
    if any(p.status != Placement.Status.ACCEPTED for p in locked.values()):
        raise Conflict(_("A worker's placement changed meanwhile; reload and try again."))

    free = free_seats(found)
    label = (group_label or "").strip()[:40]
    if together and len(ids) > 1:
        label = label or f"G{uuid.uuid4().hex[:6].upper()}"
        seats = adjacent_block(free, len(ids))
        if seats is None:
            if not waitlist:
                raise Conflict(
                    _("Trip %(trip)s has no %(n)d adjacent free seats.")
                    % {"trip": found.vehicle_number, "n": len(ids)},
                    code="full",
                    details={"free_seats": len(free), "wanted": len(ids)},
                )
            seats = []
    else:
        seats = free[: len(ids)]
        if len(seats) < len(ids) and not waitlist:
            raise _full(found, len(ids), len(free))

    result = BookingResult()
    now = timezone.now()
    try:
        with transaction.atomic():
            for index, pk in enumerate(ids):
                placement = locked[pk]
                if index < len(seats):
                    booking = Booking.objects.create(
                        trip=found,
                        placement=placement,
                        seat=seats[index],
                        group_label=label,
                        status=Booking.Status.BOOKED,
                        created_by=actor,
                        created_at=now,
                    )
                    BookingEvent.objects.create(
                        booking=booking,
                        action=BookingEvent.Action.BOOKED,
                        seat_after=booking.seat,
                        actor=actor,
                    )
                    placement_move(placement=placement, to=Placement.Status.BOOKED, actor=actor)
                    result.booked.append(booking)
                else:
                    booking = Booking.objects.create(
                        trip=found,
                        placement=placement,
                        group_label=label,
                        status=Booking.Status.WAITLISTED,
                        created_by=actor,
                        created_at=now,
                    )
                    BookingEvent.objects.create(
                        booking=booking, action=BookingEvent.Action.WAITLISTED, actor=actor
                    )
                    result.waitlisted.append(booking)
    except IntegrityError as exc:  # the database's own guard; the trip lock makes it rare
        raise _full(found, len(ids), len(free_seats(found))) from exc
    return result


def _explain_unbookable(actor: User, trip: Trip, ids: list[int]) -> None:
    visible = Placement.objects.filter(
        pk__in=ids, posting__province_id=trip.destination_province_id
    )
    organiser = selectors.organiser_of(actor)
    if organiser is not None and organiser.kind == Kind.EMPLOYER:
        visible = visible.filter(posting__employer=organiser)
    placements = list(visible.select_related("applicant"))
    if len(placements) != len(ids):
        raise NotFound(_("One of the chosen workers was not found."))
    booked_elsewhere = set(
        Booking.objects.filter(
            placement__in=placements, status__in=Booking.ACTIVE_STATUSES
        ).values_list("placement_id", flat=True)
    )
    for placement in placements:
        name = placement.applicant.name
        if placement.pk in booked_elsewhere or placement.status == Placement.Status.BOOKED:
            message = _("%(name)s is already booked on a trip.") % {"name": name}
        elif placement.status != Placement.Status.ACCEPTED:
            message = _("%(name)s is %(status)s, not accepted.") % {
                "name": name,
                "status": placement.get_status_display(),
            }
        elif placement.applicant.home_province_id != trip.origin_province_id:
            message = _("%(name)s does not live in the trip's origin province.") % {"name": name}
        else:
            continue
        raise Conflict(message, code="not_bookable", details={"placement": placement.pk})
    raise Conflict(
        _("One of the chosen workers cannot be booked on this trip."), code="not_bookable"
    )


@transaction.atomic
def booking_create_for_posting(
    *,
    actor: User,
    trip: Trip | int,
    posting: Any,
    together: bool = False,
    waitlist: bool = False,
) -> BookingResult:
    """Book every accepted worker of a posting who is not booked yet."""
    found = _managed_trip_for_update(actor, trip)
    ids = list(
        selectors.placements_bookable(actor, found)
        .filter(posting_id=getattr(posting, "pk", posting))
        .values_list("pk", flat=True)
    )
    if not ids:
        raise DomainError(_("No accepted worker of this posting is waiting for a seat."))
    return booking_create(
        actor=actor, trip=found, placements=ids, together=together, waitlist=waitlist
    )


@transaction.atomic
def booking_create_for_county(
    *,
    actor: User,
    trip: Trip | int,
    region_code: str,
    together: bool = False,
    waitlist: bool = False,
) -> BookingResult:
    """Book every accepted worker from one exporting county (the ID number's region)."""
    found = _managed_trip_for_update(actor, trip)
    if not re.fullmatch(r"\d{6}", region_code or ""):
        raise DomainError(_("Enter a six-digit county code."), field="region_code")
    ids = list(
        selectors.placements_bookable(actor, found)
        .filter(applicant__region_code=region_code)
        .values_list("pk", flat=True)
    )
    if not ids:
        raise DomainError(_("No accepted worker from this county is waiting for a seat."))
    return booking_create(
        actor=actor, trip=found, placements=ids, together=together, waitlist=waitlist
    )


def _managed_booking(actor: User, booking: Booking | int) -> tuple[Trip, Booking]:
    pk = booking.pk if isinstance(booking, Booking) else booking
    trip_id = (
        selectors.bookings_visible_to(actor).filter(pk=pk).values_list("trip_id", flat=True).first()
    )
    if trip_id is None:
        raise NotFound()
    trip = _managed_trip_for_update(actor, trip_id)
    locked = Booking.objects.select_for_update().get(pk=pk)
    return trip, locked


def _promote_waitlist(trip: Trip, actor: User | None, freed: int | None = None) -> list[Booking]:
    """Give free seats to the waitlist, first come first served: the seat just freed to the
    first in line, then any other free seat. A waitlisted worker whose placement is no longer
    accepted (arrived on their own meanwhile) leaves the waitlist instead of blocking it."""
    free = free_seats(trip)
    if not free:
        return []
    if freed in free:
        free.remove(freed)
        free.insert(0, freed)
    waiting = list(
        trip.bookings.select_for_update(of=("self",))
        .filter(status=Booking.Status.WAITLISTED)
        .order_by("created_at", "id")
    )
    placements = _lock_placements([b.placement_id for b in waiting])
    promoted: list[Booking] = []
    for booking in waiting:
        if not free:
            break
        placement = placements[booking.placement_id]
        if placement.status != Placement.Status.ACCEPTED:
            text = str(_("The worker no longer needs a seat."))
            _set_booking(
                booking,
                actor,
                BookingEvent.Action.CANCELLED,
                status=Booking.Status.CANCELLED,
                cancel_reason=text,
                reason=text,
            )
            continue
        _set_booking(
            booking,
            actor,
            BookingEvent.Action.PROMOTED,
            status=Booking.Status.BOOKED,
            seat=free.pop(0),
        )
        placement_move(placement=placement, to=Placement.Status.BOOKED, actor=actor)
        promoted.append(booking)
    return promoted


@transaction.atomic
def booking_cancel(*, actor: User, booking: Booking | int, reason: str) -> Booking:
    """Cancel a booking (a reason is required); the first on the waitlist takes the seat."""
    text = reason_required(reason)
    trip, found = _managed_booking(actor, booking)
    if trip.status not in Trip.OPEN_STATUSES:
        raise Conflict(_("This trip has already left or was cancelled."), code="not_open")
    if found.status not in (Booking.Status.BOOKED, Booking.Status.WAITLISTED):
        raise Conflict(_("Only a booked or waitlisted seat can be cancelled."), code="not_booked")
    seat = found.seat if found.status == Booking.Status.BOOKED else None
    placement = _lock_placements([found.placement_id])[found.placement_id]
    _set_booking(
        found,
        actor,
        BookingEvent.Action.CANCELLED,
        status=Booking.Status.CANCELLED,
        cancel_reason=text,
        reason=text,
    )
    if seat is not None:
        placement_move(placement=placement, to=Placement.Status.ACCEPTED, actor=actor, reason=text)
        _promote_waitlist(trip, actor, freed=seat)
    return found


@transaction.atomic
def booking_change_seat(*, actor: User, booking: Booking | int, seat: int, reason: str) -> Booking:
    """Move a booked worker to another free seat (a reason is required)."""
    text = reason_required(reason)
    trip, found = _managed_booking(actor, booking)
    if trip.status not in Trip.OPEN_STATUSES:
        raise Conflict(_("This trip has already left or was cancelled."), code="not_open")
    if found.status != Booking.Status.BOOKED:
        raise Conflict(_("Only a booked seat can be changed."), code="not_booked")
    if not isinstance(seat, int) or not 1 <= seat <= trip.seats:
        raise DomainError(_("Choose a seat between 1 and %(n)d.") % {"n": trip.seats}, field="seat")
    if seat == found.seat:
        return found
    if seat in _taken_seats(trip):
        raise Conflict(_("Seat %(seat)d is taken.") % {"seat": seat}, code="seat_taken")
    old_seat = found.seat
    _set_booking(found, actor, BookingEvent.Action.SEAT_CHANGED, seat=seat, reason=text)
    _promote_waitlist(trip, actor, freed=old_seat)
    return found


# --- Boarding ----------------------------------------------------------------------------------


@dataclass
class BoardingCheck:
    boarded: bool
    code: str  # boarded, already_boarded, or why not
    message: str
    booking: Booking | None = None
    certificate_code: str = ""


def _certificate_token(text: str, trip: Trip) -> tuple[str, str]:
    """The token to verify: what was scanned or pasted, or the stored token of a certificate
    number typed in (looked up among the workers booked on this trip only)."""
    from health.models import HealthCertificate
    from health.services import certificate_token

    value = (text or "").strip()
    if not value:
        raise DomainError(_("Scan or enter the worker's certificate."), field="certificate")
    if "." in value:
        return value, ""
    if not CERTIFICATE_NUMBER_PATTERN.match(value):
        raise DomainError(_("This is neither a certificate token nor a certificate number."))
    booked_applicants = trip.bookings.filter(status__in=Booking.ACTIVE_STATUSES).values(
        "placement__applicant_id"
    )
    certificate = HealthCertificate.objects.filter(
        number=value.upper(), applicant_id__in=booked_applicants
    ).first()
    if certificate is None:
        return "", value.upper()
    return certificate_token(certificate), certificate.number


def _claimed_number(token: str) -> str:
    """The certificate number a token claims, read without trusting it: a forged or altered
    token verifies no claim, but its refusal is still noted on the booking of the worker it
    names (who can board with a genuine certificate all the same)."""
    from health.tokens import b64url_decode_canonical

    try:
        payload = json.loads(b64url_decode_canonical(token.split(".")[1]))
    except (IndexError, ValueError):
        return ""
    value = payload.get("jti") if isinstance(payload, dict) else None
    return value[:64] if isinstance(value, str) else ""


@transaction.atomic
def boarding_check(*, actor: User, trip: Trip | int, certificate: str) -> BoardingCheck:
    """Verify a worker's certificate at the door and board the worker if it is valid, fit
    and the worker is booked on this trip; otherwise say why not (and note it on the
    booking, which becomes "refused" if the worker has not boarded when the trip leaves)."""
    from health.models import HealthCertificate
    from health.services import certificate_verify

    found = _boardable_trip_for_update(actor, trip)
    if found.status != Trip.Status.BOARDING:
        raise Conflict(_("Start boarding first."), code="not_boarding")
    token, number = _certificate_token(certificate, found)
    if not token:
        return BoardingCheck(
            False,
            "not_on_trip",
            str(_("No worker booked on this trip holds certificate %(n)s.") % {"n": number}),
        )
    outcome = certificate_verify(actor=actor, token=token, channel="boarding")
    number = outcome.certificate_number or _claimed_number(token)
    cert = HealthCertificate.objects.filter(number=number).first() if number else None
    booking = None
    if cert is not None:
        booking = (
            found.bookings.select_for_update(of=("self",))
            .select_related("placement__applicant")
            .filter(placement__applicant_id=cert.applicant_id, status__in=Booking.ACTIVE_STATUSES)
            .first()
        )
    now = timezone.now()
    if booking is None:
        if not outcome.ok and not number:  # not even a certificate number could be read
            return BoardingCheck(
                False, outcome.code, outcome.message, certificate_code=outcome.code
            )
        return BoardingCheck(
            False,
            "not_on_trip",
            str(_("The certificate's holder is not booked on this trip.")),
            certificate_code=outcome.code,
        )
    if booking.status == Booking.Status.BOARDED:
        return BoardingCheck(
            True,
            "already_boarded",
            str(_("Already boarded, seat %(seat)s.") % {"seat": booking.seat}),
            booking,
            outcome.code,
        )
    refusal = ""
    if not outcome.ok:
        refusal = str(outcome.message)
    elif outcome.claims.get("res") != HealthCertificate.Result.FIT:
        refusal = str(_("The certificate says the worker is not fit to travel for work."))
    elif booking.status == Booking.Status.WAITLISTED:
        refusal = str(_("The worker is on the waitlist and has no seat yet."))
    if refusal:
        _set_booking(
            booking,
            actor,
            BookingEvent.Action.REFUSED,
            checked_at=now,
            checked_by=actor,
            certificate_number=number[:64],
            check_outcome=outcome.code,
            refusal_reason=refusal[:300],
            reason=refusal,
        )
        return BoardingCheck(
            False, outcome.code if not outcome.ok else "refused", refusal, booking, outcome.code
        )
    _set_booking(
        booking,
        actor,
        BookingEvent.Action.BOARDED,
        status=Booking.Status.BOARDED,
        checked_at=now,
        checked_by=actor,
        certificate_number=outcome.certificate_number[:64],
        check_outcome=outcome.code,
        refusal_reason="",
    )
    return BoardingCheck(
        True,
        "boarded",
        str(
            _("%(name)s boarded, seat %(seat)s.")
            % {"name": booking.placement.applicant.name, "seat": booking.seat}
        ),
        booking,
        outcome.code,
    )


# --- Arrival -----------------------------------------------------------------------------------


@dataclass
class ArrivalResult:
    placement: Placement
    check: Any
    created: bool


@transaction.atomic
def arrival_confirm(
    *,
    actor: User,
    placement: Placement | int,
    result: str,
    notes: str = "",
    request_key: str | None = None,
) -> ArrivalResult:
    """The employer confirms that a worker arrived and records the arrival health check.

    Idempotent: the same `request_key` (the form's hidden key, or the API's Idempotency-Key)
    records one check, and a worker already on post is not confirmed twice. pass → arrived
    (the position counts as filled); refer → referred (position held, check again later);
    fail → returned home (the position is free again)."""
    from health.models import ArrivalCheck
    from health.services import arrival_check_record

    key = (request_key or uuid.uuid4().hex).strip()[:64]
    if not key:
        raise DomainError(_("The request key is empty."))
    from recruitment.placements import _own_placement_for_update

    def replayed() -> ArrivalResult | None:
        existing = ArrivalCheck.objects.filter(request_key=key).select_related("placement").first()
        if existing is None:
            return None
        pk = placement.pk if isinstance(placement, Placement) else placement
        if existing.checked_by_id != actor.pk or str(existing.placement_id) != str(pk):
            raise Conflict(_("This request key was already used."), code="key_reused")
        return ArrivalResult(existing.placement, existing, False)

    earlier = replayed()
    if earlier is not None:
        return earlier
    found = _own_placement_for_update(actor, placement)
    earlier = replayed()  # a double submission that waited for the lock
    if earlier is not None:
        return earlier
    if result not in ArrivalCheck.Result.values:
        raise DomainError(_("Choose pass, refer or fail."), field="result")
    if found.status in Placement.ON_POST_STATUSES:
        last = found.arrival_checks.order_by("-checked_at", "-id").first()
        return ArrivalResult(found, last, False)
    allowed = (Placement.Status.DEPARTED, Placement.Status.REFERRED, Placement.Status.ACCEPTED)
    if found.status not in allowed:
        if found.status == Placement.Status.BOOKED:
            raise Conflict(_("This worker's trip has not left yet."), code="not_departed")
        raise Conflict(
            _("A worker who is %(status)s cannot arrive.") % {"status": found.get_status_display()},
            code="invalid_transition",
        )
    now = timezone.now()
    check = arrival_check_record(
        actor=actor,
        placement=found,
        result=result,
        notes=(notes or "").strip()[:1000],
        request_key=key,
    )
    target = {
        ArrivalCheck.Result.PASS: Placement.Status.ARRIVED,
        ArrivalCheck.Result.REFER: Placement.Status.REFERRED,
        ArrivalCheck.Result.FAIL: Placement.Status.RETURNED,
    }[result]
    extra = {"arrived_at": found.arrived_at or now} if target != Placement.Status.RETURNED else {}
    placement_move(
        placement=found,
        to=target,
        actor=actor,
        reason=ArrivalCheck.Result(result).label,
        at=now,
        **extra,
    )
    flags_resolve_for(
        found,
        kind=Flag.Kind.ARRIVAL_UNCONFIRMED,
        actor=actor,
        note=str(_("Arrival confirmed by the employer.")),
    )
    return ArrivalResult(found, check, True)


def flags_raise_unconfirmed_arrivals(*, now: datetime | None = None) -> int:
    """Hourly: workers who boarded a trip that arrived (or was due) more than 24 hours ago
    and whose employer has not confirmed them are flagged to the importing bureau, once."""
    moment = now or timezone.now()
    cutoff = moment - UNCONFIRMED_AFTER
    # A placement departs once, so one flag of the kind is enough: a flag the bureau has
    # resolved (it phoned the employer, say) is not raised again an hour later.
    flagged = Flag.objects.filter(
        placement=OuterRef("placement"), kind=Flag.Kind.ARRIVAL_UNCONFIRMED
    )
    late = (
        Booking.objects.filter(
            status=Booking.Status.BOARDED, placement__status=Placement.Status.DEPARTED
        )
        .filter(trip__status__in=[Trip.Status.DEPARTED, Trip.Status.ARRIVED])
        .alias(due=Coalesce("trip__arrived_at", "trip__arrival_expected_at"))
        .filter(due__lte=cutoff)
        .exclude(Exists(flagged))
        .select_related("trip", "placement", "placement__applicant", "placement__posting")
        .order_by("pk")
    )
    raised = 0
    for booking in late.iterator(chunk_size=500):
        trip = booking.trip
        arrived = trip.arrived_at or trip.arrival_expected_at
        flag = flag_raise(
            kind=Flag.Kind.ARRIVAL_UNCONFIRMED,
            placement=booking.placement,
            detail={
                "trip": trip.pk,
                "vehicle": trip.vehicle_number,
                "arrived_at": arrived.isoformat(),
            },
        )
        raised += flag is not None
    return raised


attribute_services_to_actor(globals())
