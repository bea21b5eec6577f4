"""Bookings: seats one by one, by posting and by county, groups in adjacent seats, the
waitlist, cancellations and seat changes with their reasons, and the database's own guard
against overbooking and double booking."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from laborlink.errors import Conflict, DomainError, Forbidden, NotFound
from recruitment.models import Placement, PlacementEvent
from tests.factories import make_posting
from tests.transport.conftest import accept
from transport import services
from transport.models import Booking, BookingEvent

pytestmark = pytest.mark.django_db


def seats_of(trip) -> dict[int, int]:
    """placement id → seat of the seated bookings of a trip"""
    return dict(
        Booking.objects.filter(trip=trip, status__in=Booking.SEATED_STATUSES).values_list(
            "placement_id", "seat"
        )
    )


# --- Booking -----------------------------------------------------------------------------------


def test_booking_one_worker_takes_the_lowest_free_seat_and_records_it(
    zhejiang_officer, trip, accepted
):
    first, second, _third = accepted
    result = services.booking_create(actor=zhejiang_officer, trip=trip, placements=[first])
    assert [b.seat for b in result.booked] == [1] and not result.waitlisted
    booking = result.booked[0]
    assert booking.status == "booked" and booking.created_by == zhejiang_officer
    event = BookingEvent.objects.get(booking=booking)
    assert (event.action, event.seat_before, event.seat_after, event.actor) == (
        "booked",
        None,
        1,
        zhejiang_officer,
    )
    first.refresh_from_db()
    assert first.status == "booked"
    assert PlacementEvent.objects.filter(placement=first, to_status="booked").count() == 1

    services.booking_create(actor=zhejiang_officer, trip=trip, placements=[second.pk])
    assert seats_of(trip) == {first.pk: 1, second.pk: 2}


def test_a_cancelled_seat_is_the_next_one_given(zhejiang_officer, trip, accepted):
    first, second, third = accepted
    result = services.booking_create(actor=zhejiang_officer, trip=trip, placements=[first, second])
    services.booking_cancel(actor=zhejiang_officer, booking=result.booked[0], reason="改乘火车")
    services.booking_create(actor=zhejiang_officer, trip=trip, placements=[third])
    assert seats_of(trip) == {second.pk: 2, third.pk: 1}


def test_booking_nobody_is_refused(zhejiang_officer, trip):
    with pytest.raises(DomainError) as caught:
        services.booking_create(actor=zhejiang_officer, trip=trip, placements=[])
    assert caught.value.field == "placements"


def test_all_accepted_workers_of_a_posting_are_booked_at_once(
    zhejiang_officer, trip, accepted, market
):
    _applicants, postings = market
    result = services.booking_create_for_posting(
        actor=zhejiang_officer, trip=trip, posting=postings[0].pk
    )
    assert {b.placement_id for b in result.booked} == {accepted[0].pk, accepted[1].pk}
    accepted[2].refresh_from_db()
    assert accepted[2].status == "accepted"
    with pytest.raises(DomainError):  # nobody of that posting is waiting any more
        services.booking_create_for_posting(actor=zhejiang_officer, trip=trip, posting=postings[0])


def test_all_accepted_workers_of_a_county_are_booked_at_once(
    zhejiang_officer, trip, accepted, workers
):
    guang_an = workers(3, region="511602")
    result = services.booking_create_for_county(
        actor=zhejiang_officer, trip=trip, region_code="511602"
    )
    assert {b.placement_id for b in result.booked} == {p.pk for p in guang_an}
    assert set(
        Placement.objects.filter(pk__in=[p.pk for p in accepted]).values_list("status", flat=True)
    ) == {"accepted"}
    with pytest.raises(DomainError) as caught:
        services.booking_create_for_county(actor=zhejiang_officer, trip=trip, region_code="51")
    assert caught.value.field == "region_code"
    with pytest.raises(DomainError):
        services.booking_create_for_county(actor=zhejiang_officer, trip=trip, region_code="511602")


def test_a_group_travels_in_adjacent_seats(zhejiang_officer, trip, accepted, workers):
    services.booking_create(actor=zhejiang_officer, trip=trip, placements=[accepted[0]])  # 1
    result = services.booking_create(
        actor=zhejiang_officer, trip=trip, placements=accepted[1:], together=True
    )
    seats = sorted(b.seat for b in result.booked)
    assert seats == [3, 4]  # a pair starting on a window seat, not 2-3
    labels = {b.group_label for b in result.booked}
    assert len(labels) == 1 and labels != {""}

    family = workers(3)
    result = services.booking_create(
        actor=zhejiang_officer, trip=trip, placements=family, together=True, group_label="王家"
    )
    seats = sorted(b.seat for b in result.booked)
    assert seats == list(range(seats[0], seats[0] + 3))
    assert {b.group_label for b in result.booked} == {"王家"}


def test_a_group_without_adjacent_seats_is_refused_or_waits(
    zhejiang_officer, make_trip, accepted, workers
):
    trip = make_trip(seats=4)
    four = workers(4)
    result = services.booking_create(actor=zhejiang_officer, trip=trip, placements=four)
    for booking in (result.booked[0], result.booked[2]):  # seats 1 and 3 free again
        services.booking_cancel(actor=zhejiang_officer, booking=booking, reason="不去了")
    pair = accepted[:2]
    with pytest.raises(Conflict) as caught:
        services.booking_create(actor=zhejiang_officer, trip=trip, placements=pair, together=True)
    assert caught.value.code == "full"
    assert not Booking.objects.filter(placement__in=pair).exists()

    result = services.booking_create(
        actor=zhejiang_officer, trip=trip, placements=pair, together=True, waitlist=True
    )
    assert not result.booked and len(result.waitlisted) == 2
    assert all(b.seat is None and b.status == "waitlisted" for b in result.waitlisted)
    # the same two, not together, would have fitted
    assert services.free_seats(trip) == [1, 3]


def test_adjacent_block():
    assert services.adjacent_block([2, 3, 4, 5], 2) == [3, 4]
    assert services.adjacent_block([2, 3, 4], 2) == [3, 4]
    assert services.adjacent_block([2, 3], 2) == [2, 3]
    assert services.adjacent_block([1, 3, 5], 2) is None
    assert services.adjacent_block([7, 8, 9, 10, 11], 4) == [7, 8, 9, 10]


# --- The waitlist ------------------------------------------------------------------------------


def test_a_full_trip_refuses_a_booking_all_or_none(zhejiang_officer, make_trip, accepted):
    trip = make_trip(seats=2)
    with pytest.raises(Conflict) as caught:
        services.booking_create(actor=zhejiang_officer, trip=trip, placements=accepted)
    assert caught.value.code == "full"
    assert caught.value.details == {"free_seats": 2, "wanted": 3}
    assert not Booking.objects.exists()
    assert set(Placement.objects.values_list("status", flat=True)) == {"accepted"}


def test_those_without_a_seat_wait_when_asked(zhejiang_officer, make_trip, accepted):
    trip = make_trip(seats=2)
    result = services.booking_create(
        actor=zhejiang_officer, trip=trip, placements=accepted, waitlist=True
    )
    assert [b.seat for b in result.booked] == [1, 2]
    (waiting,) = result.waitlisted
    assert waiting.seat is None and waiting.status == "waitlisted"
    assert BookingEvent.objects.get(booking=waiting).action == "waitlisted"
    waiting.placement.refresh_from_db()
    assert waiting.placement.status == "accepted"  # no seat yet
    with pytest.raises(Conflict) as caught:
        services.booking_create(actor=zhejiang_officer, trip=trip, placements=[waiting.placement])
    assert caught.value.code == "not_bookable"  # already waiting on this trip


def test_the_first_waiting_takes_a_cancelled_seat(zhejiang_officer, make_trip, accepted, workers):
    trip = make_trip(seats=2)
    later = workers(1)
    result = services.booking_create(
        actor=zhejiang_officer, trip=trip, placements=accepted, waitlist=True
    )
    services.booking_create(actor=zhejiang_officer, trip=trip, placements=later, waitlist=True)
    first_waiting = result.waitlisted[0]
    seat_two = result.booked[1]

    services.booking_cancel(actor=zhejiang_officer, booking=seat_two, reason="生病")
    seat_two.refresh_from_db()
    assert (seat_two.status, seat_two.cancel_reason) == ("cancelled", "生病")
    first_waiting.refresh_from_db()
    assert (first_waiting.status, first_waiting.seat) == ("booked", 2)
    promoted = BookingEvent.objects.get(booking=first_waiting, action="promoted")
    assert (promoted.seat_before, promoted.seat_after) == (None, 2)
    first_waiting.placement.refresh_from_db()
    assert first_waiting.placement.status == "booked"
    seat_two.placement.refresh_from_db()
    assert seat_two.placement.status == "accepted"
    assert Booking.objects.get(placement=later[0]).status == "waitlisted"
    assert Booking.objects.filter(trip=trip, status__in=Booking.SEATED_STATUSES).count() == 2


def test_a_waiting_worker_who_arrived_on_their_own_does_not_block_the_waitlist(
    zhejiang_officer, hr_officer, make_trip, accepted, workers
):
    trip = make_trip(seats=1)
    result = services.booking_create(
        actor=zhejiang_officer, trip=trip, placements=accepted, waitlist=True
    )
    gone, still_waiting = result.waitlisted
    services.arrival_confirm(actor=hr_officer, placement=gone.placement, result="pass")
    services.booking_cancel(actor=zhejiang_officer, booking=result.booked[0], reason="改期")
    gone.refresh_from_db()
    still_waiting.refresh_from_db()
    assert gone.status == "cancelled"
    assert (still_waiting.status, still_waiting.seat) == ("booked", 1)


def test_cancelling_a_waitlisted_booking_frees_no_seat(zhejiang_officer, make_trip, accepted):
    trip = make_trip(seats=2)
    result = services.booking_create(
        actor=zhejiang_officer, trip=trip, placements=accepted, waitlist=True
    )
    (waiting,) = result.waitlisted
    services.booking_cancel(actor=zhejiang_officer, booking=waiting, reason="不等了")
    waiting.refresh_from_db()
    assert waiting.status == "cancelled" and waiting.seat is None
    assert seats_of(trip) == {accepted[0].pk: 1, accepted[1].pk: 2}


def test_a_seat_change_gives_the_old_seat_to_the_waitlist(
    zhejiang_officer, make_trip, accepted, workers
):
    trip = make_trip(seats=4)
    four = workers(4)
    booked = services.booking_create(actor=zhejiang_officer, trip=trip, placements=four).booked
    for booking in (booked[0], booked[2]):
        services.booking_cancel(actor=zhejiang_officer, booking=booking, reason="不去了")
    # no two adjacent seats among 1 and 3: the pair waits
    pair = services.booking_create(
        actor=zhejiang_officer, trip=trip, placements=accepted[:2], together=True, waitlist=True
    ).waitlisted

    services.booking_change_seat(actor=zhejiang_officer, booking=booked[1], seat=1, reason="晕车")
    booked[1].refresh_from_db()
    assert booked[1].seat == 1
    change = BookingEvent.objects.get(booking=booked[1], action="seat_changed")
    assert (change.seat_before, change.seat_after, change.reason) == (2, 1, "晕车")
    first, second = (Booking.objects.get(pk=b.pk) for b in pair)
    assert (first.status, first.seat) == ("booked", 2)  # the old seat
    assert (second.status, second.seat) == ("booked", 3)  # and the other free one


# --- Cancellations and seat changes ------------------------------------------------------------


def test_cancelling_and_changing_seats_need_a_reason(zhejiang_officer, trip, accepted):
    booking = services.booking_create(
        actor=zhejiang_officer, trip=trip, placements=accepted[:1]
    ).booked[0]
    for reason in ("", "  ", None):
        with pytest.raises(DomainError) as caught:
            services.booking_cancel(actor=zhejiang_officer, booking=booking, reason=reason)
        assert caught.value.field == "reason"
        with pytest.raises(DomainError) as caught:
            services.booking_change_seat(
                actor=zhejiang_officer, booking=booking, seat=5, reason=reason
            )
        assert caught.value.field == "reason"
    booking.refresh_from_db()
    assert (booking.status, booking.seat) == ("booked", 1)
    assert list(booking.events.values_list("action", flat=True)) == ["booked"]


def test_cancelling_a_booking_records_who_and_why(zhejiang_officer, trip, accepted):
    booking = services.booking_create(
        actor=zhejiang_officer, trip=trip, placements=accepted[:1]
    ).booked[0]
    services.booking_cancel(actor=zhejiang_officer, booking=booking.pk, reason="家中有事")
    event = BookingEvent.objects.get(booking=booking, action="cancelled")
    assert (event.actor, event.reason, event.seat_before) == (zhejiang_officer, "家中有事", 1)
    assert PlacementEvent.objects.get(
        placement=accepted[0], from_status="booked", to_status="accepted"
    ).reason == ("家中有事")
    with pytest.raises(Conflict):
        services.booking_cancel(actor=zhejiang_officer, booking=booking, reason="again")


def test_a_seat_change_must_go_to_a_free_seat_on_the_trip(zhejiang_officer, trip, accepted):
    first, _second = services.booking_create(
        actor=zhejiang_officer, trip=trip, placements=accepted[:2]
    ).booked
    with pytest.raises(Conflict) as caught:
        services.booking_change_seat(actor=zhejiang_officer, booking=first, seat=2, reason="x")
    assert caught.value.code == "seat_taken"
    for seat in (0, 46, "7"):
        with pytest.raises(DomainError) as caught:
            services.booking_change_seat(
                actor=zhejiang_officer, booking=first, seat=seat, reason="x"
            )
        assert caught.value.field == "seat"
    services.booking_change_seat(actor=zhejiang_officer, booking=first, seat=45, reason="靠窗")
    assert seats_of(trip)[accepted[0].pk] == 45


def test_a_boarded_booking_can_neither_be_cancelled_nor_moved(zhejiang_officer, trip, accepted):
    from tests.transport.conftest import token_of

    booking = services.booking_create(
        actor=zhejiang_officer, trip=trip, placements=accepted[:1]
    ).booked[0]
    services.trip_start_boarding(actor=zhejiang_officer, trip=trip)
    services.boarding_check(actor=zhejiang_officer, trip=trip, certificate=token_of(accepted[0]))
    with pytest.raises(Conflict):
        services.booking_cancel(actor=zhejiang_officer, booking=booking, reason="x")
    with pytest.raises(Conflict):
        services.booking_change_seat(actor=zhejiang_officer, booking=booking, seat=9, reason="x")


def test_nothing_is_booked_on_a_trip_that_has_left(zhejiang_officer, trip, accepted):
    booking = services.booking_create(
        actor=zhejiang_officer, trip=trip, placements=accepted[:1]
    ).booked[0]
    services.trip_start_boarding(actor=zhejiang_officer, trip=trip)
    services.trip_depart(actor=zhejiang_officer, trip=trip)
    with pytest.raises(Conflict) as caught:
        services.booking_create(actor=zhejiang_officer, trip=trip, placements=accepted[1:])
    assert caught.value.code == "not_open"
    with pytest.raises(Conflict):
        services.booking_cancel(actor=zhejiang_officer, booking=booking, reason="x")


# --- Who can be booked -------------------------------------------------------------------------


def test_a_worker_who_has_not_accepted_is_refused_by_name(zhejiang_officer, trip, market, accepted):
    applicants, _postings = market
    Placement.objects.filter(pk=accepted[0].pk).update(status="declined")
    with translation.override("en"):
        with pytest.raises(Conflict) as caught:
            services.booking_create(actor=zhejiang_officer, trip=trip, placements=accepted)
        message = str(caught.value.message)
    assert caught.value.code == "not_bookable"
    assert applicants[0].name in message and "Declined" in message
    assert not Booking.objects.exists()  # all or none


def test_a_worker_from_another_province_is_refused(
    zhejiang_officer, guizhou_officer, trip, workers
):
    (guizhou_worker,) = workers(1, officer=guizhou_officer)
    with translation.override("en"):
        with pytest.raises(Conflict) as caught:
            services.booking_create(actor=zhejiang_officer, trip=trip, placements=[guizhou_worker])
        assert "origin province" in str(caught.value.message)
    assert guizhou_worker.applicant.name in str(caught.value.message)


def test_a_worker_booked_elsewhere_is_refused(zhejiang_officer, make_trip, accepted):
    first = make_trip()
    second = make_trip(vehicle_number="川X00001")
    services.booking_create(actor=zhejiang_officer, trip=first, placements=accepted[:1])
    with translation.override("en"):
        with pytest.raises(Conflict) as caught:
            services.booking_create(actor=zhejiang_officer, trip=second, placements=accepted[:1])
        assert "already booked" in str(caught.value.message)


def test_an_employer_books_only_the_workers_of_its_own_postings(
    hr_officer, zhejiang_officer, accepted, other_accepted, make_trip
):
    own_trip = make_trip(actor=hr_officer)
    with pytest.raises(NotFound):
        services.booking_create(actor=hr_officer, trip=own_trip, placements=other_accepted[:1])
    with pytest.raises(NotFound):
        services.booking_create(
            actor=hr_officer, trip=own_trip, placements=[accepted[0], other_accepted[0]]
        )
    assert not Booking.objects.exists()
    result = services.booking_create(actor=hr_officer, trip=own_trip, placements=accepted)
    assert len(result.booked) == 3
    # the importing bureau books the workers of every employer of its province
    bureau_trip = make_trip()
    result = services.booking_create(
        actor=zhejiang_officer, trip=bureau_trip, placements=other_accepted
    )
    assert len(result.booked) == 2


def test_a_worker_on_a_posting_of_another_province_is_not_found(
    zhejiang_officer, trip, workers, agreements
):
    from laborlink.models import Organization, User
    from tests.factories import AgreementFactory, OrganizationFactory, UserFactory, province

    AgreementFactory(importing_province=province("32"), exporting_province=province("51"))
    jiangsu = OrganizationFactory(
        kind=Organization.Kind.EMPLOYER, province=province("32"), city="苏州市"
    )
    jiangsu_hr = UserFactory(role=User.Role.HR_OFFICER, organization=jiangsu)
    posting = make_posting(jiangsu_hr, city="苏州市", target_provinces=["51"])
    (worker,) = workers(1, posting=posting)
    with pytest.raises(NotFound):
        services.booking_create(actor=zhejiang_officer, trip=trip, placements=[worker])


def test_the_origin_bureau_cannot_book(sichuan_officer, trip, accepted, market):
    _applicants, postings = market
    with pytest.raises(Forbidden):
        services.booking_create(actor=sichuan_officer, trip=trip, placements=accepted)
    with pytest.raises(Forbidden):
        services.booking_create_for_posting(actor=sichuan_officer, trip=trip, posting=postings[0])
    with pytest.raises(Forbidden):
        services.booking_create_for_county(actor=sichuan_officer, trip=trip, region_code="510104")
    assert not Booking.objects.exists()


# --- The database's own guard ------------------------------------------------------------------


def test_the_database_refuses_a_seat_beyond_the_trip(zhejiang_officer, make_trip, accepted):
    trip = make_trip(seats=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            trip=trip, placement=accepted[0], seat=3, status="booked", created_by=zhejiang_officer
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            trip=trip, placement=accepted[0], seat=0, status="booked", created_by=zhejiang_officer
        )
    booking = Booking.objects.create(
        trip=trip, placement=accepted[0], seat=2, status="booked", created_by=zhejiang_officer
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.filter(pk=booking.pk).update(seat=5)


def test_the_database_refuses_two_seated_bookings_on_one_seat(zhejiang_officer, trip, accepted):
    Booking.objects.create(
        trip=trip, placement=accepted[0], seat=7, status="booked", created_by=zhejiang_officer
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            trip=trip, placement=accepted[1], seat=7, status="boarded", created_by=zhejiang_officer
        )
    # a cancelled booking keeps its seat number for the record without holding it
    Booking.objects.create(
        trip=trip,
        placement=accepted[2],
        seat=7,
        status="cancelled",
        cancel_reason="x",
        created_by=zhejiang_officer,
    )


def test_the_database_refuses_one_placement_on_two_active_trips(
    zhejiang_officer, make_trip, accepted
):
    first, second = make_trip(), make_trip(vehicle_number="川X77777")
    Booking.objects.create(
        trip=first, placement=accepted[0], seat=1, status="booked", created_by=zhejiang_officer
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            trip=second, placement=accepted[0], seat=1, status="booked", created_by=zhejiang_officer
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            trip=second, placement=accepted[0], status="waitlisted", created_by=zhejiang_officer
        )


def test_the_database_ties_seats_to_status(zhejiang_officer, trip, accepted):
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            trip=trip, placement=accepted[0], status="booked", created_by=zhejiang_officer
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            trip=trip,
            placement=accepted[0],
            seat=3,
            status="waitlisted",
            created_by=zhejiang_officer,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            trip=trip,
            placement=accepted[0],
            seat=3,
            status="cancelled",
            created_by=zhejiang_officer,
        )


def test_never_more_bookings_than_seats(zhejiang_officer, make_trip, workers):
    trip = make_trip(seats=5)
    many = workers(8)
    for placement in many:
        try:
            services.booking_create(actor=zhejiang_officer, trip=trip, placements=[placement])
        except Conflict as exc:
            assert exc.code == "full"
    assert Booking.objects.filter(trip=trip, status__in=Booking.SEATED_STATUSES).count() == 5
    assert sorted(seats_of(trip).values()) == [1, 2, 3, 4, 5]
    assert Placement.objects.filter(pk__in=[p.pk for p in many], status="booked").count() == 5


def test_a_placement_made_directly_can_be_booked(zhejiang_officer, trip, market, workers):
    """A worker accepted on a posting without a match (made by hand) books like any other."""
    _applicants, postings = market
    (worker,) = workers(1)
    Placement.objects.filter(pk=worker.pk).update(status="withdrawn")
    placement = accept(worker.applicant, postings[1])
    assert services.booking_create(actor=zhejiang_officer, trip=trip, placements=[placement])
