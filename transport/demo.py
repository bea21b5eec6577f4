"""Transport demo data: the Zhejiang bureau's chartered bus from Guang'an (Sichuan) to Yuhuan
(Zhejiang), planned, with the demo workers who accepted an offer booked on it; and an earlier
bus that has arrived, whose worker the employer confirmed (arrival check passed) and who is
now employed. Idempotent; never for production.

It needs accepted offers, which exist only after matching's demo run: `laborlink.demo` calls
every app's `load_demo_data()` in INSTALLED_APPS order, where transport comes after matching.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from laborlink.errors import DomainError
from laborlink.models import User
from recruitment.models import Placement
from transport.models import Booking, Trip

PLANNED_VEHICLE = "川X·A2051"
ARRIVED_VEHICLE = "川X·A1988"
ORGANISER = "zj_bureau"
EXPORTING_OFFICER = "sc_bureau"
EMPLOYER_OFFICER = "hr_yuhuan"


def load_demo_data() -> dict[str, int]:
    """Called by laborlink.demo after matching's demo run."""
    return load()


def _trip_values(*, vehicle: str, departure) -> dict:
    return {
        "mode": Trip.Mode.BUS,
        "operator": "川渝客运集团有限公司",
        "vehicle_number": vehicle,
        "origin_province": "51",
        "origin_city": "广安市",
        "pickup_point": "广安市汽车客运中心站",
        "destination_province": "33",
        "destination_city": "台州市",
        "destination_point": "玉环市人力资源市场",
        "departure_at": departure,
        "arrival_expected_at": departure + timedelta(hours=26),
        "seats": 45,
        "contact_name": "王师傅",
        "contact_phone": "0826-2345678",
        "notes": "“点对点”返岗专车：上车前请出示健康证明二维码。",
    }


def _accept_offers(exporting_officer: User) -> int:
    """The Sichuan bureau records, by phone, that its workers matched to Zhejiang jobs said
    yes (the demo has nobody to tap the SMS link)."""
    from matching.models import Match
    from matching.offers import offer_answer_by_phone

    accepted = 0
    proposed = Match.objects.filter(
        status=Match.Status.PROPOSED,
        applicant__home_province_id="51",
        posting__province_id="33",
    ).order_by("applicant__name", "id")
    for match in proposed:
        try:
            offer_answer_by_phone(actor=exporting_officer, match=match, accept=True)
        except DomainError:  # the position or the applicant was taken meanwhile
            continue
        accepted += 1
    return accepted


def _certified(placements: list[Placement]) -> list[Placement]:
    """Those whose health certificate lets them board (fit, valid, not revoked)."""
    from health.selectors import certificate_statuses

    statuses = certificate_statuses({p.applicant_id for p in placements})
    return [p for p in placements if getattr(statuses.get(p.applicant_id), "code", "") == "valid"]


def _arrived_trip(organiser: User, employer: User, placement: Placement) -> Trip:
    """A bus that left three days ago with one worker, who arrived, passed the arrival check
    and started work."""
    from health.models import HealthCertificate
    from health.services import certificate_token
    from recruitment.placements import placement_move
    from transport import services

    trip = services.trip_create(
        actor=organiser,
        **_trip_values(vehicle=ARRIVED_VEHICLE, departure=timezone.now() + timedelta(minutes=5)),
    )
    services.booking_create(actor=organiser, trip=trip, placements=[placement])
    services.trip_start_boarding(actor=organiser, trip=trip)
    certificate = HealthCertificate.objects.filter(applicant_id=placement.applicant_id).latest("id")
    services.boarding_check(actor=organiser, trip=trip, certificate=certificate_token(certificate))
    services.trip_depart(actor=organiser, trip=trip)
    services.trip_arrive(actor=organiser, trip=trip)
    services.arrival_confirm(
        actor=employer,
        placement=placement,
        result="pass",
        notes="体温正常，无不适。",
        request_key=f"demo-arrival-{placement.pk}",
    )
    # The demo's past: the bus left three days ago and the worker started the next day.
    now = timezone.now()
    departed = now - timedelta(days=3)
    Trip.objects.filter(pk=trip.pk).update(
        departure_at=departed,
        arrival_expected_at=departed + timedelta(hours=26),
        boarding_started_at=departed - timedelta(minutes=40),
        departed_at=departed,
        arrived_at=departed + timedelta(hours=25),
    )
    arrived_at = departed + timedelta(hours=25, minutes=30)
    with transaction.atomic():
        locked = Placement.objects.select_for_update().get(pk=placement.pk)
        Placement.objects.filter(pk=locked.pk).update(arrived_at=arrived_at)
        locked.arrived_at = arrived_at
        placement_move(
            placement=locked,
            to=Placement.Status.EMPLOYED,
            actor=None,
            employed_on=timezone.localdate(arrived_at) + timedelta(days=1),
        )
    return trip


@transaction.atomic
def load() -> dict[str, int]:
    """Create the two demo trips (or leave them as they are)."""
    from transport import services

    users = {
        u.username: u
        for u in User.objects.filter(username__in=[ORGANISER, EXPORTING_OFFICER, EMPLOYER_OFFICER])
    }
    if len(users) < 3:
        return {}
    if Trip.objects.filter(vehicle_number__in=[PLANNED_VEHICLE, ARRIVED_VEHICLE]).exists():
        return {"trips": 0}
    organiser, employer = users[ORGANISER], users[EMPLOYER_OFFICER]
    accepted_offers = _accept_offers(users[EXPORTING_OFFICER])

    waiting = list(
        Placement.objects.filter(
            status=Placement.Status.ACCEPTED,
            applicant__home_province_id="51",
            posting__province_id="33",
        )
        .exclude(bookings__status__in=Booking.ACTIVE_STATUSES)
        .select_related("applicant", "posting")
        .order_by("applicant__name", "id")
    )
    created = {"trips": 0, "bookings": 0, "arrivals": 0, "offers_accepted": accepted_offers}
    certified = _certified(waiting)
    if len(waiting) >= 2 and certified:
        # one worker went ahead on the earlier bus; the others take the planned one
        first = certified[0]
        _arrived_trip(organiser, employer, first)
        waiting.remove(first)
        created["trips"] += 1
        created["bookings"] += 1
        created["arrivals"] += 1

    departure = timezone.localtime().replace(hour=7, minute=30, second=0, microsecond=0)
    planned = services.trip_create(
        actor=organiser,
        **_trip_values(vehicle=PLANNED_VEHICLE, departure=departure + timedelta(days=3)),
    )
    created["trips"] += 1
    if waiting:
        result = services.booking_create(
            actor=organiser, trip=planned, placements=waiting, together=True, waitlist=True
        )
        created["bookings"] += len(result.booked) + len(result.waitlisted)
    return created
