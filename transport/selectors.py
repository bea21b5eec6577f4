"""Every read of the transport app, scoped to the user.

- A trip is visible to its organiser (the importing bureau or employer that chartered it),
  to the bureaus (and API clients) of its origin and destination provinces, and to an
  employer whose workers are booked on it.
- The bookings of a trip: all of them for the organiser and both bureaus; an employer that
  did not organise the trip sees only its own workers.
- A trip is managed (edited, booked, boarded, cancelled) by its organiser's officers; the
  origin province's bureau officers may also check boarding at the pickup point.
"""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from laborlink.access import acting_organization
from laborlink.models import Organization, User
from recruitment.models import Placement
from transport.models import Booking, Trip

Role = User.Role
Kind = Organization.Kind


def _bureau_of(user: User) -> Organization | None:
    return acting_organization(user, [Role.BUREAU_OFFICER, Role.API_CLIENT], Kind.BUREAU)


def employer_of(user: User) -> Organization | None:
    """The employer an HR officer acts for (None for everyone else)."""
    return acting_organization(user, [Role.HR_OFFICER], Kind.EMPLOYER)


def organiser_of(user: User) -> Organization | None:
    """The organisation a user charters trips for: an importing bureau or an employer."""
    return acting_organization(user, [Role.BUREAU_OFFICER], Kind.BUREAU) or employer_of(user)


def with_seat_counts(trips: QuerySet[Trip]) -> QuerySet[Trip]:
    return trips.annotate(
        seats_taken=Count("bookings", filter=Q(bookings__status__in=Booking.SEATED_STATUSES)),
        boarded_count=Count("bookings", filter=Q(bookings__status=Booking.Status.BOARDED)),
        waitlisted_count=Count("bookings", filter=Q(bookings__status=Booking.Status.WAITLISTED)),
    )


def trips_visible_to(user: User) -> QuerySet[Trip]:
    base = Trip.objects.select_related("organiser", "origin_province", "destination_province")
    bureau = _bureau_of(user)
    if bureau is not None:
        province = bureau.province_id
        return base.filter(
            Q(organiser=bureau)
            | Q(origin_province_id=province)
            | Q(destination_province_id=province)
        )
    employer = employer_of(user)
    if employer is not None:
        carries_own = Booking.objects.filter(
            trip=OuterRef("pk"), placement__posting__employer=employer
        )
        return base.filter(Q(organiser=employer) | Exists(carries_own))
    return Trip.objects.none()


def trips_managed_by(user: User) -> QuerySet[Trip]:
    """Trips the user may change and book: those its organisation organised."""
    organiser = organiser_of(user)
    if organiser is None:
        return Trip.objects.none()
    return trips_visible_to(user).filter(organiser=organiser)


def trips_boardable_by(user: User) -> QuerySet[Trip]:
    """Trips whose boarding the user may check: the organiser's, and for a bureau officer
    those leaving its province."""
    organiser = organiser_of(user)
    if organiser is None:
        return Trip.objects.none()
    scope = Q(organiser=organiser)
    if organiser.kind == Kind.BUREAU:
        scope |= Q(origin_province_id=organiser.province_id)
    return trips_visible_to(user).filter(scope)


def bookings_visible_to(user: User, trip: Trip | None = None) -> QuerySet[Booking]:
    base = Booking.objects.select_related(
        "trip",
        "placement",
        "placement__applicant",
        "placement__applicant__home_province",
        "placement__posting",
        "placement__posting__employer",
    )
    trips = trips_visible_to(user)
    if trip is not None:
        trips = trips.filter(pk=trip.pk)
    bookings = base.filter(trip__in=trips.values("pk"))
    employer = employer_of(user)
    if employer is not None:
        bookings = bookings.filter(
            Q(trip__organiser=employer) | Q(placement__posting__employer=employer)
        )
    return bookings


def placements_bookable(user: User, trip: Trip) -> QuerySet[Placement]:
    """Accepted placements the organiser may put on this trip: from the trip's origin
    province, on postings in its destination province (an employer: its own postings), not
    booked on any trip yet."""
    organiser = organiser_of(user)
    if organiser is None or trip.organiser_id != organiser.pk:
        return Placement.objects.none()
    scope = Q(
        status=Placement.Status.ACCEPTED,
        applicant__home_province_id=trip.origin_province_id,
        posting__province_id=trip.destination_province_id,
    )
    if organiser.kind == Kind.EMPLOYER:
        scope &= Q(posting__employer=organiser)
    active = Booking.objects.filter(placement=OuterRef("pk"), status__in=Booking.ACTIVE_STATUSES)
    return (
        Placement.objects.filter(scope)
        .exclude(Exists(active))
        .select_related("applicant", "posting", "posting__employer")
        .order_by("posting_id", "applicant__region_code", "id")
    )


def arrivals_awaiting(user: User) -> QuerySet[Placement]:
    """An employer's workers to confirm: on their way (departed), travelling on their own
    (accepted, not booked), or referred after a first check."""
    employer = employer_of(user)
    if employer is None:
        return Placement.objects.none()
    on_open_trip = Booking.objects.filter(
        placement=OuterRef("pk"), status__in=Booking.ACTIVE_STATUSES
    )
    return (
        Placement.objects.filter(posting__employer=employer)
        .filter(
            Q(status__in=[Placement.Status.DEPARTED, Placement.Status.REFERRED])
            | (Q(status=Placement.Status.ACCEPTED) & ~Exists(on_open_trip))
        )
        .select_related("applicant", "applicant__home_province", "posting")
        .order_by("status", "applicant__name", "id")
    )
