"""Concurrent bookings with real threads and real transactions: the last seat goes to exactly
one of many simultaneous requests, the others are told the trip is full."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from laborlink.errors import Conflict
from laborlink.models import User
from recruitment.models import Placement
from transport import services
from transport.models import Booking

CONTENDERS = 10


def run_at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread, all released together; return each call's result or
    the exception it raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index] = calls[index]()
        except BaseException as exc:
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a booking hung"
    return outcomes


def officer(pk: int) -> User:
    """A fresh copy of the user for each thread (no model instance shared across threads)."""
    return User.objects.select_related("organization").get(pk=pk)


@pytest.mark.django_db(transaction=True)
def test_the_last_seat_goes_to_exactly_one_of_many_simultaneous_bookings(
    zhejiang_officer, make_trip, workers
):
    trip = make_trip(seats=3)
    services.booking_create(actor=zhejiang_officer, trip=trip, placements=workers(2))
    contenders = workers(CONTENDERS)

    def book(placement_id: int) -> Callable[[], Any]:
        return lambda: services.booking_create(
            actor=officer(zhejiang_officer.pk), trip=trip.pk, placements=[placement_id]
        )

    outcomes = run_at_once([book(p.pk) for p in contenders])

    won = [o for o in outcomes if isinstance(o, services.BookingResult)]
    lost = [o for o in outcomes if not isinstance(o, services.BookingResult)]
    assert len(won) == 1, outcomes
    assert won[0].booked[0].seat == 3
    assert len(lost) == CONTENDERS - 1
    for exc in lost:
        assert type(exc) is Conflict, repr(exc)
        assert exc.code == "full" and exc.status_code == 409
    seated = Booking.objects.filter(trip=trip, status__in=Booking.SEATED_STATUSES)
    assert seated.count() == trip.seats == 3
    assert sorted(seated.values_list("seat", flat=True)) == [1, 2, 3]
    assert Placement.objects.filter(pk__in=[p.pk for p in contenders], status="booked").count() == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_bookings_with_a_waitlist_never_overbook(zhejiang_officer, make_trip, workers):
    trip = make_trip(seats=4)
    contenders = workers(CONTENDERS)

    def book(placement_id: int) -> Callable[[], Any]:
        return lambda: services.booking_create(
            actor=officer(zhejiang_officer.pk),
            trip=trip.pk,
            placements=[placement_id],
            waitlist=True,
        )

    outcomes = run_at_once([book(p.pk) for p in contenders])

    assert all(isinstance(o, services.BookingResult) for o in outcomes), outcomes
    assert sum(len(o.booked) for o in outcomes) == 4
    assert sum(len(o.waitlisted) for o in outcomes) == CONTENDERS - 4
    seats = Booking.objects.filter(trip=trip, status="booked").values_list("seat", flat=True)
    assert sorted(seats) == [1, 2, 3, 4]
    assert Booking.objects.filter(trip=trip, status="waitlisted", seat__isnull=True).count() == 6


@pytest.mark.django_db(transaction=True)
def test_one_worker_booked_on_two_trips_at_once_gets_one_seat(zhejiang_officer, make_trip, workers):
    first, second = make_trip(), make_trip(vehicle_number="川X22222")
    (worker,) = workers(1)

    def book(trip_id: int) -> Callable[[], Any]:
        return lambda: services.booking_create(
            actor=officer(zhejiang_officer.pk), trip=trip_id, placements=[worker.pk]
        )

    outcomes = run_at_once([book(first.pk), book(second.pk)] * 3)

    won = [o for o in outcomes if isinstance(o, services.BookingResult)]
    assert len(won) == 1, outcomes
    for exc in (o for o in outcomes if not isinstance(o, services.BookingResult)):
        assert isinstance(exc, Conflict), repr(exc)
    assert Booking.objects.filter(placement=worker).count() == 1
    worker.refresh_from_db()
    assert worker.status == "booked"
