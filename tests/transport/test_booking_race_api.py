"""Many officers' requests for the last seat arrive at once, through the API, in real threads
with their own database connections and real transactions: one gets it, the others are told
the trip is full, nobody gets a server error, and the database never overbooks."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from laborlink.models import User
from recruitment.models import Placement
from tests.factories import make_applicant, make_posting
from tests.transport.conftest import accept, trip_values
from transport import services
from transport.models import Booking

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 10
NAMES = [f"{surname}工" for surname in "赵钱孙李周吴郑王冯陈褚卫蒋沈"]  # seats - 1 + THREADS


@pytest.mark.parametrize("seats", [1, 4], ids=["one-seat-trip", "last-of-four-seats"])
def test_concurrent_bookings_for_the_last_seat_give_it_to_exactly_one(
    seats, zhejiang_officer, sichuan_officer, hr_officer, agreements
):
    posting = make_posting(hr_officer, positions=len(NAMES), target_provinces=["51"])
    placements = [accept(make_applicant(sichuan_officer, name=name), posting) for name in NAMES]
    trip = services.trip_create(actor=zhejiang_officer, **trip_values(seats=seats))
    already, racing = placements[: seats - 1], placements[seats - 1 :][:THREADS]
    if already:
        services.booking_create(actor=zhejiang_officer, trip=trip, placements=already)
    assert len(racing) == THREADS

    barrier = threading.Barrier(THREADS)
    answers: list[tuple[int, int, str]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def request_seat(placement_id: int) -> None:
        try:
            officer = User.objects.select_related("organization").get(pk=zhejiang_officer.pk)
            client = APIClient()
            client.force_authenticate(officer)
            barrier.wait(timeout=30)
            response = client.post(
                f"/api/v1/transport/trips/{trip.pk}/bookings/",
                {"placements": [placement_id]},
                format="json",
            )
            code = response.json().get("error", {}).get("code", "") if response.content else ""
            with lock:
                answers.append((placement_id, response.status_code, code))
        except BaseException as exc:  # reported below; a thread must not die silently
            with lock:
                failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=request_seat, args=(p.pk,)) for p in racing]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []

    statuses = sorted(status for _pk, status, _code in answers)
    assert len(answers) == THREADS
    assert 500 not in statuses
    assert statuses == [201] + [409] * (THREADS - 1), answers
    assert {code for _pk, status, code in answers if status == 409} == {"full"}

    winner = next(pk for pk, status, _code in answers if status == 201)
    seated = Booking.objects.filter(trip=trip, status__in=Booking.SEATED_STATUSES)
    assert seated.count() == seats
    assert sorted(seated.values_list("seat", flat=True)) == list(range(1, seats + 1))
    assert Booking.objects.filter(trip=trip).count() == seats  # no stray waitlist or leftovers
    booked = set(Placement.objects.filter(status="booked").values_list("pk", flat=True))
    assert booked == {p.pk for p in already} | {winner}
