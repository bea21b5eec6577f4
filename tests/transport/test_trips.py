"""Trips: what a charter must say, who may charter one, and its life from planned to arrived
(or cancelled)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from laborlink.errors import Conflict, DomainError, Forbidden, NotFound
from laborlink.models import CooperationAgreement
from recruitment.models import Placement, PlacementEvent
from tests.factories import AgreementFactory, province
from tests.transport.conftest import trip_values
from transport import services
from transport.models import Booking, BookingEvent, Trip

pytestmark = pytest.mark.django_db


# --- Validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"mode": "boat"}, "mode"),
        ({"mode": ""}, "mode"),
        ({"operator": "  "}, "operator"),
        ({"vehicle_number": ""}, "vehicle_number"),
        ({"origin_city": None}, "origin_city"),
        ({"pickup_point": ""}, "pickup_point"),
        ({"destination_city": ""}, "destination_city"),
        ({"destination_point": ""}, "destination_point"),
        ({"contact_name": ""}, "contact_name"),
        ({"contact_phone": ""}, "contact_phone"),
        ({"contact_phone": "call me"}, "contact_phone"),
        ({"seats": 0}, "seats"),
        ({"seats": -3}, "seats"),
        ({"seats": 2001}, "seats"),
        ({"seats": "many"}, "seats"),
        ({"seats": None}, "seats"),
        ({"departure_at": "tomorrow"}, "departure_at"),
        ({"arrival_expected_at": None}, "arrival_expected_at"),
        ({"origin_province": "99"}, "origin_province"),
        ({"origin_province": None}, "origin_province"),
        ({"destination_province": ""}, "destination_province"),
    ],
)
def test_an_incomplete_or_invalid_trip_is_refused_on_the_field(
    zhejiang_officer, agreements, overrides, field
):
    with pytest.raises(DomainError) as caught:
        services.trip_create(actor=zhejiang_officer, **trip_values(**overrides))
    assert caught.value.field == field
    assert field in caught.value.details["fields"]
    assert str(caught.value.message)
    assert not Trip.objects.exists()


def test_every_invalid_field_is_reported_at_once(zhejiang_officer, agreements):
    with pytest.raises(DomainError) as caught:
        services.trip_create(
            actor=zhejiang_officer, **trip_values(mode="boat", operator="", seats=0)
        )
    assert set(caught.value.details["fields"]) == {"mode", "operator", "seats"}


@pytest.mark.parametrize("seats", [1, 45, 2000])
def test_seats_between_one_and_two_thousand_are_accepted(zhejiang_officer, agreements, seats):
    trip = services.trip_create(actor=zhejiang_officer, **trip_values(seats=seats))
    assert trip.seats == seats


@pytest.mark.parametrize("hours", [0, -2])
def test_the_arrival_must_come_after_the_departure(zhejiang_officer, agreements, hours):
    values = trip_values()
    values["arrival_expected_at"] = values["departure_at"] + timedelta(hours=hours)
    with pytest.raises(DomainError) as caught:
        services.trip_create(actor=zhejiang_officer, **values)
    assert caught.value.field == "arrival_expected_at"


def test_a_trip_lasts_at_most_72_hours(zhejiang_officer, agreements):
    values = trip_values()
    values["arrival_expected_at"] = values["departure_at"] + timedelta(hours=72, minutes=1)
    with pytest.raises(DomainError) as caught:
        services.trip_create(actor=zhejiang_officer, **values)
    assert caught.value.field == "arrival_expected_at"
    assert "72" in str(caught.value.message)

    values["arrival_expected_at"] = values["departure_at"] + timedelta(hours=72)
    assert services.trip_create(actor=zhejiang_officer, **values).pk


def test_the_departure_cannot_be_in_the_past(zhejiang_officer, agreements):
    departure = timezone.now() - timedelta(minutes=5)
    values = trip_values(
        departure_at=departure, arrival_expected_at=departure + timedelta(hours=20)
    )
    with pytest.raises(DomainError) as caught:
        services.trip_create(actor=zhejiang_officer, **values)
    assert caught.value.field == "departure_at"


def test_naive_times_are_refused(zhejiang_officer, agreements):
    departure = datetime(2030, 2, 1, 8, 0)
    with pytest.raises(DomainError):
        services.trip_create(
            actor=zhejiang_officer,
            **trip_values(
                departure_at=departure, arrival_expected_at=departure + timedelta(hours=20)
            ),
        )


def test_the_destination_must_be_the_organisers_province(zhejiang_officer, agreements):
    with translation.override("en"):
        with pytest.raises(DomainError) as caught:
            services.trip_create(actor=zhejiang_officer, **trip_values(destination_province="32"))
        message = str(caught.value.message)
    assert caught.value.field == "destination_province"
    assert "Zhejiang" in message


def test_a_charter_crosses_provinces(zhejiang_officer, agreements):
    with pytest.raises(DomainError) as caught:
        services.trip_create(actor=zhejiang_officer, **trip_values(origin_province="33"))
    assert caught.value.field == "origin_province"


def test_the_origin_needs_an_agreement_in_force_and_the_message_names_both_provinces(
    zhejiang_officer, agreements
):
    # Guangxi exports to Guangdong only
    with translation.override("en"):
        with pytest.raises(DomainError) as caught:
            services.trip_create(actor=zhejiang_officer, **trip_values(origin_province="45"))
        english = str(caught.value.message)
    assert caught.value.field == "origin_province"
    assert "Guangxi" in english and "Zhejiang" in english

    with translation.override("zh-hans"):
        with pytest.raises(DomainError) as caught:
            services.trip_create(actor=zhejiang_officer, **trip_values(origin_province="45"))
        chinese = str(caught.value.message)
    assert province("45").name_zh in chinese and province("33").name_zh in chinese


def test_an_expired_or_suspended_agreement_does_not_allow_a_charter(zhejiang_officer, agreements):
    AgreementFactory(
        importing_province=province("33"),
        exporting_province=province("53"),
        valid_from=date(2023, 1, 1),
        valid_until=timezone.localdate() - timedelta(days=1),
    )
    with pytest.raises(DomainError) as caught:
        services.trip_create(actor=zhejiang_officer, **trip_values(origin_province="53"))
    assert caught.value.field == "origin_province"

    CooperationAgreement.objects.filter(pk=agreements["zj_gz"].pk).update(
        status=CooperationAgreement.Status.SUSPENDED
    )
    with pytest.raises(DomainError):
        services.trip_create(actor=zhejiang_officer, **trip_values(origin_province="52"))


def test_the_agreement_must_still_be_in_force_on_the_day_of_departure(zhejiang_officer, agreements):
    CooperationAgreement.objects.filter(pk=agreements["zj_sc"].pk).update(
        valid_until=timezone.localdate() + timedelta(days=3)
    )
    departure = timezone.now() + timedelta(days=10)
    with pytest.raises(DomainError) as caught:
        services.trip_create(
            actor=zhejiang_officer,
            **trip_values(
                departure_at=departure, arrival_expected_at=departure + timedelta(hours=26)
            ),
        )
    assert caught.value.field == "origin_province"
    assert services.trip_create(actor=zhejiang_officer, **trip_values()).pk  # in 2 days: fine


# --- Organisers --------------------------------------------------------------------------------


def test_the_importing_bureau_charters_a_trip(zhejiang_officer, zhejiang_bureau, agreements):
    trip = services.trip_create(actor=zhejiang_officer, **trip_values())
    assert trip.organiser == zhejiang_bureau
    assert trip.created_by == zhejiang_officer
    assert trip.status == Trip.Status.PLANNED
    assert (trip.origin_province_id, trip.destination_province_id) == ("51", "33")


def test_an_employer_charters_a_trip_to_its_own_province(hr_officer, zhejiang_employer, agreements):
    trip = services.trip_create(actor=hr_officer, **trip_values())
    assert trip.organiser == zhejiang_employer


def test_the_exporting_bureau_cannot_charter_into_another_province(sichuan_officer, agreements):
    with pytest.raises(DomainError) as caught:
        services.trip_create(actor=sichuan_officer, **trip_values())
    assert caught.value.field == "destination_province"
    # nor into its own province, with which no province has an export agreement
    with pytest.raises(DomainError) as caught:
        services.trip_create(
            actor=sichuan_officer,
            **trip_values(origin_province="52", destination_province="51"),
        )
    assert caught.value.field == "origin_province"
    assert not Trip.objects.exists()


def test_a_health_officer_cannot_charter(health_officer, agreements):
    with pytest.raises(Forbidden):
        services.trip_create(actor=health_officer, **trip_values())


# --- Changes -----------------------------------------------------------------------------------


def test_a_planned_trip_can_be_changed(zhejiang_officer, trip):
    changed = services.trip_update(
        actor=zhejiang_officer, trip=trip, seats=50, vehicle_number="川X99999"
    )
    trip.refresh_from_db()
    assert (
        (trip.seats, trip.vehicle_number)
        == (50, "川X99999")
        == (
            changed.seats,
            changed.vehicle_number,
        )
    )


def test_a_change_is_validated_like_a_new_trip(zhejiang_officer, trip):
    with pytest.raises(DomainError) as caught:
        services.trip_update(actor=zhejiang_officer, trip=trip, seats=0)
    assert caught.value.field == "seats"
    with pytest.raises(DomainError):
        services.trip_update(actor=zhejiang_officer, trip=trip, origin_province="45")
    trip.refresh_from_db()
    assert trip.seats == 45 and trip.origin_province_id == "51"


def test_the_departure_cannot_be_moved_into_the_past(zhejiang_officer, trip):
    earlier = timezone.now() - timedelta(hours=1)
    with pytest.raises(DomainError) as caught:
        services.trip_update(
            actor=zhejiang_officer,
            trip=trip,
            departure_at=earlier,
            arrival_expected_at=earlier + timedelta(hours=20),
        )
    assert caught.value.field == "departure_at"
    trip.refresh_from_db()
    assert trip.departure_at > timezone.now()


def test_only_a_planned_trip_can_be_changed(zhejiang_officer, trip):
    services.trip_start_boarding(actor=zhejiang_officer, trip=trip)
    with pytest.raises(Conflict) as caught:
        services.trip_update(actor=zhejiang_officer, trip=trip, seats=50)
    assert caught.value.code == "not_planned"


def test_seats_cannot_drop_below_a_booked_seat(zhejiang_officer, trip, accepted):
    services.booking_create(actor=zhejiang_officer, trip=trip, placements=accepted)  # 1, 2, 3
    with pytest.raises(Conflict) as caught:
        services.trip_update(actor=zhejiang_officer, trip=trip, seats=2)
    assert caught.value.code == "seats_in_use"
    assert "3" in str(caught.value.message)
    trip.refresh_from_db()
    assert trip.seats == 45
    assert services.trip_update(actor=zhejiang_officer, trip=trip, seats=3).seats == 3


def test_the_database_refuses_fewer_seats_than_a_booked_seat(zhejiang_officer, trip, accepted):
    services.booking_create(actor=zhejiang_officer, trip=trip, placements=accepted)
    with pytest.raises(IntegrityError), transaction.atomic():
        Trip.objects.filter(pk=trip.pk).update(seats=2)
    assert Trip.objects.get(pk=trip.pk).seats == 45
    # seats above every booked seat may go
    Trip.objects.filter(pk=trip.pk).update(seats=3)
    assert Trip.objects.get(pk=trip.pk).seats == 3


def test_the_origin_cannot_change_once_workers_are_booked(zhejiang_officer, trip, accepted):
    services.booking_create(actor=zhejiang_officer, trip=trip, placements=accepted[:1])
    with pytest.raises(Conflict) as caught:
        services.trip_update(actor=zhejiang_officer, trip=trip, origin_province="52")
    assert caught.value.code == "origin_in_use"


def test_more_seats_go_to_the_waitlist(zhejiang_officer, make_trip, accepted):
    trip = make_trip(seats=1)
    result = services.booking_create(
        actor=zhejiang_officer, trip=trip, placements=accepted, waitlist=True
    )
    assert len(result.booked) == 1 and len(result.waitlisted) == 2
    services.trip_update(actor=zhejiang_officer, trip=trip, seats=2)
    first_waiting = result.waitlisted[0]
    first_waiting.refresh_from_db()
    assert (first_waiting.status, first_waiting.seat) == ("booked", 2)
    assert first_waiting.events.filter(action=BookingEvent.Action.PROMOTED).count() == 1
    assert Booking.objects.filter(status="waitlisted").count() == 1


def test_another_organisation_cannot_change_the_trip(sichuan_officer, guizhou_officer, trip):
    with pytest.raises(Forbidden):  # Sichuan sees the trip leaving its province
        services.trip_update(actor=sichuan_officer, trip=trip, seats=50)
    with pytest.raises(NotFound):
        services.trip_update(actor=guizhou_officer, trip=trip, seats=50)


# --- State machine -----------------------------------------------------------------------------


def test_a_trip_goes_from_planned_to_boarding_to_departed_to_arrived(zhejiang_officer, trip):
    services.trip_start_boarding(actor=zhejiang_officer, trip=trip)
    trip.refresh_from_db()
    assert trip.status == "boarding" and trip.boarding_started_at is not None
    services.trip_depart(actor=zhejiang_officer, trip=trip)
    trip.refresh_from_db()
    assert trip.status == "departed" and trip.departed_at is not None
    services.trip_arrive(actor=zhejiang_officer, trip=trip)
    trip.refresh_from_db()
    assert trip.status == "arrived" and trip.arrived_at is not None


def test_steps_cannot_be_skipped_or_repeated(zhejiang_officer, trip):
    with pytest.raises(Conflict):
        services.trip_depart(actor=zhejiang_officer, trip=trip)  # boarding first
    with pytest.raises(Conflict):
        services.trip_arrive(actor=zhejiang_officer, trip=trip)
    services.trip_start_boarding(actor=zhejiang_officer, trip=trip)
    with pytest.raises(Conflict):
        services.trip_start_boarding(actor=zhejiang_officer, trip=trip)
    with pytest.raises(Conflict):
        services.trip_arrive(actor=zhejiang_officer, trip=trip)
    services.trip_depart(actor=zhejiang_officer, trip=trip)
    with pytest.raises(Conflict):
        services.trip_depart(actor=zhejiang_officer, trip=trip)
    services.trip_arrive(actor=zhejiang_officer, trip=trip)
    with pytest.raises(Conflict):
        services.trip_arrive(actor=zhejiang_officer, trip=trip)
    assert Trip.objects.get(pk=trip.pk).status == "arrived"


def test_cancelling_needs_a_reason(zhejiang_officer, trip):
    for reason in ("", "   ", None):
        with pytest.raises(DomainError) as caught:
            services.trip_cancel(actor=zhejiang_officer, trip=trip, reason=reason)
        assert caught.value.field == "reason"
    assert Trip.objects.get(pk=trip.pk).status == "planned"


def test_cancelling_a_trip_returns_its_workers_to_accepted(zhejiang_officer, trip, accepted):
    services.booking_create(actor=zhejiang_officer, trip=trip, placements=accepted)
    services.trip_start_boarding(actor=zhejiang_officer, trip=trip)
    services.trip_cancel(actor=zhejiang_officer, trip=trip, reason="大雪封路")
    trip.refresh_from_db()
    assert trip.status == "cancelled" and trip.cancel_reason == "大雪封路"
    assert trip.cancelled_at is not None
    assert set(Booking.objects.values_list("status", "cancel_reason")) == {
        ("cancelled", "大雪封路")
    }
    assert BookingEvent.objects.filter(action="cancelled", reason="大雪封路").count() == 3
    assert set(Placement.objects.values_list("status", flat=True)) == {"accepted"}
    assert PlacementEvent.objects.filter(from_status="booked", to_status="accepted").count() == 3


def test_workers_of_a_cancelled_trip_can_be_booked_on_another(
    zhejiang_officer, make_trip, accepted
):
    first = make_trip()
    services.booking_create(actor=zhejiang_officer, trip=first, placements=accepted)
    services.trip_cancel(actor=zhejiang_officer, trip=first, reason="车辆故障")
    second = make_trip(vehicle_number="川X54321")
    result = services.booking_create(actor=zhejiang_officer, trip=second, placements=accepted)
    assert [b.seat for b in result.booked] == [1, 2, 3]


def test_a_departed_trip_cannot_be_cancelled(zhejiang_officer, trip):
    services.trip_start_boarding(actor=zhejiang_officer, trip=trip)
    services.trip_depart(actor=zhejiang_officer, trip=trip)
    with pytest.raises(Conflict) as caught:
        services.trip_cancel(actor=zhejiang_officer, trip=trip, reason="too late")
    assert caught.value.code == "not_open"
    assert Trip.objects.get(pk=trip.pk).status == "departed"


def test_a_cancelled_trip_goes_nowhere(zhejiang_officer, trip):
    services.trip_cancel(actor=zhejiang_officer, trip=trip, reason="取消")
    with pytest.raises(Conflict):
        services.trip_start_boarding(actor=zhejiang_officer, trip=trip)
    with pytest.raises(Conflict):
        services.trip_cancel(actor=zhejiang_officer, trip=trip, reason="again")
    with pytest.raises(Conflict):
        services.trip_update(actor=zhejiang_officer, trip=trip, seats=50)


def test_the_database_requires_a_reason_for_a_cancelled_trip(trip):
    with pytest.raises(IntegrityError), transaction.atomic():
        Trip.objects.filter(pk=trip.pk).update(status="cancelled", cancel_reason="")
