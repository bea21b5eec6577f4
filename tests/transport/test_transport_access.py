"""Who sees, manages and boards which trip, and who sees which booking.

The cast: a Zhejiang-bureau charter from Sichuan carrying the Zhejiang employer's three
workers and the other employer's two; the Sichuan bureau (origin) sees it and may board it,
Guizhou sees nothing, each employer sees only its own workers, the health officer nothing."""

from __future__ import annotations

import pytest

from laborlink.errors import Forbidden, NotFound
from laborlink.models import User
from tests.factories import UserFactory
from tests.transport.conftest import token_of
from transport import selectors, services
from transport.models import Booking

pytestmark = pytest.mark.django_db


@pytest.fixture
def charter(zhejiang_officer, trip, accepted, other_accepted):
    """The Zhejiang bureau's trip with five workers of two employers booked."""
    services.booking_create(
        actor=zhejiang_officer, trip=trip, placements=[*accepted, *other_accepted]
    )
    return trip


@pytest.fixture
def employer_trip(hr_officer, make_trip):
    """A bus the Zhejiang employer charters itself, empty."""
    return make_trip(actor=hr_officer, vehicle_number="浙J88888")


def ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def own_bookings(trip, employer) -> set[int]:
    return ids(Booking.objects.filter(trip=trip, placement__posting__employer=employer))


def test_the_importing_bureau_sees_manages_and_boards_its_charter(
    zhejiang_officer, charter, employer_trip
):
    assert ids(selectors.trips_visible_to(zhejiang_officer)) == {charter.pk, employer_trip.pk}
    assert ids(selectors.trips_managed_by(zhejiang_officer)) == {charter.pk}
    assert ids(selectors.trips_boardable_by(zhejiang_officer)) == {charter.pk}
    assert ids(selectors.bookings_visible_to(zhejiang_officer)) == ids(Booking.objects.all())
    assert len(ids(selectors.bookings_visible_to(zhejiang_officer, charter))) == 5


def test_the_origin_bureau_sees_and_boards_but_does_not_book(
    sichuan_officer, zhejiang_officer, charter, employer_trip, accepted, workers
):
    assert ids(selectors.trips_visible_to(sichuan_officer)) == {charter.pk, employer_trip.pk}
    assert ids(selectors.trips_managed_by(sichuan_officer)) == set()
    assert ids(selectors.trips_boardable_by(sichuan_officer)) == {charter.pk, employer_trip.pk}
    assert len(ids(selectors.bookings_visible_to(sichuan_officer, charter))) == 5

    booking = Booking.objects.filter(trip=charter).first()
    (extra,) = workers(1)
    with pytest.raises(Forbidden):
        services.booking_create(actor=sichuan_officer, trip=charter, placements=[extra])
    with pytest.raises(Forbidden):
        services.booking_cancel(actor=sichuan_officer, booking=booking, reason="x")
    with pytest.raises(Forbidden):
        services.booking_change_seat(actor=sichuan_officer, booking=booking, seat=30, reason="x")
    with pytest.raises(Forbidden):
        services.trip_update(actor=sichuan_officer, trip=charter, seats=50)
    with pytest.raises(Forbidden):
        services.trip_cancel(actor=sichuan_officer, trip=charter, reason="x")
    assert Booking.objects.filter(trip=charter, status="booked").count() == 5

    # at the pickup point in Sichuan, the origin bureau runs boarding
    services.trip_start_boarding(actor=sichuan_officer, trip=charter)
    result = services.boarding_check(
        actor=sichuan_officer, trip=charter, certificate=token_of(accepted[0])
    )
    assert result.boarded and result.booking.checked_by == sichuan_officer
    services.trip_depart(actor=sichuan_officer, trip=charter)
    charter.refresh_from_db()
    assert charter.status == "departed"


def test_another_province_finds_nothing(guizhou_officer, charter, employer_trip, accepted):
    assert not selectors.trips_visible_to(guizhou_officer).exists()
    assert not selectors.trips_managed_by(guizhou_officer).exists()
    assert not selectors.trips_boardable_by(guizhou_officer).exists()
    assert not selectors.bookings_visible_to(guizhou_officer).exists()

    booking = Booking.objects.filter(trip=charter).first()
    attempts = [
        lambda: services.trip_update(actor=guizhou_officer, trip=charter, seats=50),
        lambda: services.trip_cancel(actor=guizhou_officer, trip=charter, reason="x"),
        lambda: services.trip_start_boarding(actor=guizhou_officer, trip=charter),
        lambda: services.trip_depart(actor=guizhou_officer, trip=charter),
        lambda: services.trip_arrive(actor=guizhou_officer, trip=charter),
        lambda: services.booking_create(
            actor=guizhou_officer, trip=employer_trip, placements=accepted
        ),
        lambda: services.booking_create_for_county(
            actor=guizhou_officer, trip=charter, region_code="510104"
        ),
        lambda: services.booking_cancel(actor=guizhou_officer, booking=booking, reason="x"),
        lambda: services.booking_change_seat(
            actor=guizhou_officer, booking=booking, seat=30, reason="x"
        ),
        lambda: services.boarding_check(
            actor=guizhou_officer, trip=charter, certificate=token_of(accepted[0])
        ),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound):
            attempt()


def test_an_employer_sees_only_trips_carrying_its_workers_and_only_its_own_bookings(
    hr_officer,
    other_hr_officer,
    zhejiang_employer,
    other_employer,
    zhejiang_officer,
    make_trip,
    employer_trip,
    accepted,
    other_accepted,
):
    charter = make_trip()
    assert ids(selectors.trips_visible_to(hr_officer)) == {employer_trip.pk}
    assert not selectors.trips_visible_to(other_hr_officer).exists()

    services.booking_create(actor=zhejiang_officer, trip=charter, placements=accepted)
    assert ids(selectors.trips_visible_to(hr_officer)) == {charter.pk, employer_trip.pk}
    assert not selectors.trips_visible_to(other_hr_officer).exists()

    services.booking_create(actor=zhejiang_officer, trip=charter, placements=other_accepted)
    assert ids(selectors.trips_visible_to(other_hr_officer)) == {charter.pk}
    assert ids(selectors.bookings_visible_to(hr_officer)) == own_bookings(
        charter, zhejiang_employer
    )
    assert ids(selectors.bookings_visible_to(other_hr_officer)) == own_bookings(
        charter, other_employer
    )
    assert len(own_bookings(charter, other_employer)) == 2

    # neither manages the bureau's charter; each manages (and boards) only its own
    assert ids(selectors.trips_managed_by(hr_officer)) == {employer_trip.pk}
    assert ids(selectors.trips_boardable_by(hr_officer)) == {employer_trip.pk}
    assert not selectors.trips_managed_by(other_hr_officer).exists()
    own = Booking.objects.filter(trip=charter, placement=accepted[0]).get()
    with pytest.raises(Forbidden):
        services.booking_cancel(actor=hr_officer, booking=own, reason="x")
    foreign = Booking.objects.filter(trip=charter, placement=other_accepted[0]).get()
    with pytest.raises(NotFound):
        services.booking_cancel(actor=hr_officer, booking=foreign, reason="x")
    with pytest.raises(Forbidden):
        services.trip_start_boarding(actor=hr_officer, trip=charter)


def test_an_employer_organiser_sees_every_booking_on_its_own_charter(
    hr_officer, zhejiang_officer, sichuan_officer, guizhou_officer, employer_trip, accepted
):
    services.booking_create(actor=hr_officer, trip=employer_trip, placements=accepted)
    assert len(ids(selectors.bookings_visible_to(hr_officer, employer_trip))) == 3
    assert len(ids(selectors.bookings_visible_to(zhejiang_officer, employer_trip))) == 3
    assert len(ids(selectors.bookings_visible_to(sichuan_officer, employer_trip))) == 3
    assert not selectors.bookings_visible_to(guizhou_officer, employer_trip).exists()
    # the importing bureau sees the employer's charter but does not run it
    with pytest.raises(Forbidden):
        services.trip_cancel(actor=zhejiang_officer, trip=employer_trip, reason="x")


def test_a_health_officer_sees_and_does_nothing(health_officer, charter, accepted):
    assert not selectors.trips_visible_to(health_officer).exists()
    assert not selectors.trips_managed_by(health_officer).exists()
    assert not selectors.trips_boardable_by(health_officer).exists()
    assert not selectors.bookings_visible_to(health_officer).exists()
    booking = Booking.objects.filter(trip=charter).first()
    for attempt in (
        lambda: services.booking_cancel(actor=health_officer, booking=booking, reason="x"),
        lambda: services.trip_start_boarding(actor=health_officer, trip=charter),
        lambda: services.boarding_check(
            actor=health_officer, trip=charter, certificate=token_of(accepted[0])
        ),
    ):
        with pytest.raises((Forbidden, NotFound)):
            attempt()


def test_an_api_client_reads_what_its_bureau_sees_and_changes_nothing(
    sichuan_bureau, charter, accepted
):
    client = UserFactory(role=User.Role.API_CLIENT, organization=sichuan_bureau)
    assert ids(selectors.trips_visible_to(client)) == {charter.pk}
    assert len(ids(selectors.bookings_visible_to(client))) == 5
    assert not selectors.trips_managed_by(client).exists()
    assert not selectors.trips_boardable_by(client).exists()
    with pytest.raises(Forbidden):
        services.trip_start_boarding(actor=client, trip=charter)


def test_an_inactive_organisation_sees_nothing(zhejiang_officer, zhejiang_bureau, charter):
    zhejiang_bureau.is_active = False
    zhejiang_bureau.save(update_fields=["is_active"])
    zhejiang_officer.refresh_from_db()
    assert not selectors.trips_visible_to(zhejiang_officer).exists()
    with pytest.raises((Forbidden, NotFound)):
        services.trip_cancel(actor=zhejiang_officer, trip=charter, reason="x")
    charter.refresh_from_db()
    assert charter.status == "planned"
