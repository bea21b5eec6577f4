"""The transport API: trips, bookings, boarding, arrivals, departures, absences and flags,
scoped as DESIGN.md's "Who may see what" says, in the one error shape, with workers masked.

Every client here is a MaskCheckingClient: a response carrying a full 18-character ID number
or an 11-digit mobile number fails the test on the spot."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from health.models import ArrivalCheck, HealthCertificate
from health.services import certificate_token
from laborlink.models import Organization, User
from laborlink.services import api_client_create
from recruitment.models import Absence, Flag, JobPosting, Placement, PlacementEvent
from tests.api.masked_client import MaskCheckingClient, api_as
from tests.factories import OrganizationFactory, UserFactory, make_applicant, province
from tests.transport.conftest import accept, trip_values
from transport import services
from transport.models import Booking, Trip

pytestmark = pytest.mark.django_db

BASE = "/api/v1/transport"
SECRET = "a-very-long-client-secret-for-tests-0123456789"


# --- Cast -----------------------------------------------------------------------------------------


@pytest.fixture
def zhejiang_client(zhejiang_bureau) -> MaskCheckingClient:
    """Zhejiang's own system over OAuth2 client credentials: read-only."""
    _machine, application, secret = api_client_create(
        actor=None, bureau=zhejiang_bureau, name="浙江省就业信息系统", client_secret=SECRET
    )
    basic = base64.b64encode(f"{application.client_id}:{secret}".encode()).decode()
    response = MaskCheckingClient().post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        format="multipart",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 200, response.content
    client = MaskCheckingClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
    return client


@pytest.fixture
def other_hr_officer(db) -> User:
    """An HR officer of another Zhejiang employer, with no worker of its own."""
    employer = OrganizationFactory(
        name="宁波精工机械有限公司",
        kind=Organization.Kind.EMPLOYER,
        province=province("33"),
        level=Organization.Level.COUNTY,
        city="宁波市",
    )
    return UserFactory(username="hr_ningbo", role=User.Role.HR_OFFICER, organization=employer)


def token_of(placement: Placement) -> str:
    return certificate_token(HealthCertificate.objects.get(applicant=placement.applicant))


def book(actor, trip, placements, **kwargs):
    return services.booking_create(actor=actor, trip=trip, placements=placements, **kwargs)


def departed(zhejiang_officer, trip, placements) -> None:
    """Book, board and send off the workers on the trip."""
    book(zhejiang_officer, trip, placements)
    services.trip_start_boarding(actor=zhejiang_officer, trip=trip)
    for placement in placements:
        assert services.boarding_check(
            actor=zhejiang_officer, trip=trip, certificate=token_of(placement)
        ).boarded
    services.trip_depart(actor=zhejiang_officer, trip=trip)


def on_post(hr_officer, placement, *, days_ago: int = 0) -> Placement:
    """Confirm a worker who travelled on their own; backdate the arrival by `days_ago`."""
    services.arrival_confirm(actor=hr_officer, placement=placement, result="pass")
    Placement.objects.filter(pk=placement.pk).update(
        arrived_at=timezone.now() - timedelta(days=days_ago)
    )
    return Placement.objects.get(pk=placement.pk)


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    if field is not None:
        assert field in error["details"], error
    return error


def ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


# --- Trips --------------------------------------------------------------------------------------


def test_bureau_lists_trips_with_seat_counts_and_filters(zhejiang_officer, accepted, trip):
    book(zhejiang_officer, trip, accepted[:2])
    api = api_as(zhejiang_officer)

    listed = api.get(f"{BASE}/trips/")
    assert listed.status_code == 200
    (row,) = listed.json()["results"]
    assert row["id"] == trip.pk
    assert (row["seats"], row["seats_taken"], row["seats_free"]) == (45, 2, 43)
    assert row["boarded_count"] == 0 and row["waitlisted_count"] == 0
    assert row["can_manage"] is True
    assert (row["origin_province"], row["destination_province"]) == ("51", "33")

    later = (timezone.now() + timedelta(days=3)).isoformat()
    matching = [
        {"status": "planned"},
        {"mode": "bus"},
        {"origin_province": "51"},
        {"destination_province": "33"},
        {"departure_before": later},
        {"managed": "true"},
    ]
    for query in matching:
        assert ids(api.get(f"{BASE}/trips/", query)) == {trip.pk}, query
    missing = [
        {"status": "cancelled"},
        {"mode": "train"},
        {"origin_province": "52"},
        {"departure_after": later},
        {"managed": "false"},
    ]
    for query in missing:
        assert ids(api.get(f"{BASE}/trips/", query)) == set(), query

    detail = api.get(f"{BASE}/trips/{trip.pk}/")
    assert detail.status_code == 200
    assert detail.json()["seats_taken"] == 2


def test_trip_filters_refuse_bad_values_in_the_error_shape(zhejiang_officer, trip):
    response = api_as(zhejiang_officer).get(f"{BASE}/trips/", {"status": "flying"})
    assert_error(response, 400, "invalid", "status")


def test_bureau_charters_a_trip(zhejiang_officer, agreements):
    values = trip_values(vehicle_number="川X54321")
    response = api_as(zhejiang_officer).post(f"{BASE}/trips/", values)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["vehicle_number"] == "川X54321"
    assert body["organiser"]["id"] == zhejiang_officer.organization_id
    assert body["status"] == "planned" and body["seats_free"] == 45
    assert Trip.objects.filter(pk=body["id"], created_by=zhejiang_officer).exists()


def test_charter_validation_errors_use_the_one_error_shape(zhejiang_officer, agreements):
    api = api_as(zhejiang_officer)
    incomplete = trip_values()
    del incomplete["vehicle_number"]
    assert_error(api.post(f"{BASE}/trips/", incomplete), 400, "invalid", "vehicle_number")
    # business rules come from the service, with the field named
    elsewhere = api.post(f"{BASE}/trips/", trip_values(destination_province="44"))
    assert_error(elsewhere, 400, "invalid", "destination_province")
    no_seats = api.post(f"{BASE}/trips/", trip_values(seats=0))
    assert_error(no_seats, 400, "invalid", "seats")
    past = trip_values(departure_at=timezone.now() - timedelta(hours=1))
    past["arrival_expected_at"] = timezone.now() + timedelta(hours=20)
    assert_error(api.post(f"{BASE}/trips/", past), 400, "invalid", "departure_at")
    assert not Trip.objects.exists()


def test_exporting_bureau_cannot_charter_a_trip_into_its_neighbour(sichuan_officer, agreements):
    response = api_as(sichuan_officer).post(f"{BASE}/trips/", trip_values())
    assert_error(response, 400, "invalid", "destination_province")


def test_organiser_changes_a_planned_trip(zhejiang_officer, accepted, trip):
    api = api_as(zhejiang_officer)
    response = api.patch(f"{BASE}/trips/{trip.pk}/", {"seats": 50, "notes": "带好身份证"})
    assert response.status_code == 200, response.content
    assert response.json()["seats"] == 50 and response.json()["notes"] == "带好身份证"

    book(zhejiang_officer, trip, accepted)
    too_few = api.patch(f"{BASE}/trips/{trip.pk}/", {"seats": 2})
    assert_error(too_few, 409, "seats_in_use", "seats")
    assert_error(api.patch(f"{BASE}/trips/{trip.pk}/", {"seats": "many"}), 400, "invalid", "seats")


def test_trip_scoping(
    zhejiang_officer, sichuan_officer, guizhou_officer, hr_officer, other_hr_officer, accepted, trip
):
    url = f"{BASE}/trips/{trip.pk}/"
    # Sichuan (the origin) sees the trip but cannot change or book it
    sichuan = api_as(sichuan_officer)
    assert sichuan.get(url).status_code == 200
    assert sichuan.get(url).json()["can_manage"] is False
    assert_error(sichuan.patch(url, {"seats": 10}), 403, "forbidden")
    assert_error(sichuan.post(f"{url}cancel/", {"reason": "x"}), 403, "forbidden")
    booking = sichuan.post(f"{url}bookings/", {"placements": [accepted[0].pk]})
    assert_error(booking, 403, "forbidden")

    # Guizhou has nothing to do with it: it does not exist for Guizhou
    guizhou = api_as(guizhou_officer)
    assert ids(guizhou.get(f"{BASE}/trips/")) == set()
    assert_error(guizhou.get(url), 404, "not_found")
    assert_error(guizhou.patch(url, {"seats": 10}), 404, "not_found")
    assert_error(
        guizhou.post(f"{url}bookings/", {"placements": [accepted[0].pk]}), 404, "not_found"
    )
    assert_error(guizhou.get(f"{url}manifest/"), 404, "not_found")
    assert_error(guizhou.post(f"{url}start-boarding/"), 404, "not_found")

    # an employer sees a trip once its own workers are booked on it, not before
    employer = api_as(hr_officer)
    assert_error(employer.get(url), 404, "not_found")
    book(zhejiang_officer, trip, accepted[:1])
    assert employer.get(url).status_code == 200
    assert_error(employer.post(f"{url}cancel/", {"reason": "x"}), 403, "forbidden")
    assert_error(api_as(other_hr_officer).get(url), 404, "not_found")
    assert ids(api_as(other_hr_officer).get(f"{BASE}/trips/")) == set()
    assert Booking.objects.count() == 1


def test_employer_charters_its_own_trip_and_books_its_own_workers(
    hr_officer, zhejiang_officer, accepted, agreements
):
    api = api_as(hr_officer)
    created = api.post(f"{BASE}/trips/", trip_values(vehicle_number="浙J11111"))
    assert created.status_code == 201, created.content
    trip_id = created.json()["id"]
    booked = api.post(f"{BASE}/trips/{trip_id}/bookings/", {"placements": [p.pk for p in accepted]})
    assert booked.status_code == 201, booked.content
    assert [b["seat"] for b in booked.json()["booked"]] == [1, 2, 3]
    # the destination's bureau sees the employer's trip, but does not run it
    assert_error(
        api_as(zhejiang_officer).post(f"{BASE}/trips/{trip_id}/cancel/", {"reason": "x"}),
        403,
        "forbidden",
    )


# --- Booking a trip -----------------------------------------------------------------------------


def test_organiser_books_workers_in_adjacent_seats(zhejiang_officer, accepted, trip):
    api = api_as(zhejiang_officer)
    url = f"{BASE}/trips/{trip.pk}/bookings/"
    response = api.post(
        url,
        {"placements": [accepted[0].pk, accepted[1].pk], "together": True, "group_label": "广安"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["waitlisted"] == []
    assert [b["seat"] for b in body["booked"]] == [1, 2]
    first = body["booked"][0]
    assert first["status"] == "booked" and first["group_label"] == "广安"
    assert first["placement"] == {"id": accepted[0].pk, "status": "booked"}
    assert first["applicant"]["name"] == "甲工"
    assert "*" in first["applicant"]["national_id_masked"]
    assert "*" in first["applicant"]["phone_masked"]

    again = api.post(url, {"placements": [accepted[0].pk]})
    assert_error(again, 409, "not_bookable")

    by_posting = api.post(url, {"posting": accepted[2].posting_id})
    assert by_posting.status_code == 201, by_posting.content
    assert [b["placement"]["id"] for b in by_posting.json()["booked"]] == [accepted[2].pk]
    assert Booking.objects.filter(trip=trip, status="booked").count() == 3


def test_organiser_books_a_whole_county(zhejiang_officer, accepted, trip):
    api = api_as(zhejiang_officer)
    url = f"{BASE}/trips/{trip.pk}/bookings/"
    assert_error(api.post(url, {"region_code": "5101"}), 400, "invalid", "region_code")
    response = api.post(url, {"region_code": accepted[0].applicant.region_code})
    assert response.status_code == 201, response.content
    assert len(response.json()["booked"]) == 3


def test_booking_request_validation(zhejiang_officer, accepted, trip):
    api = api_as(zhejiang_officer)
    url = f"{BASE}/trips/{trip.pk}/bookings/"
    both = api.post(url, {"placements": [accepted[0].pk], "posting": accepted[0].posting_id})
    assert_error(both, 400, "invalid", "non_field_errors")
    assert_error(api.post(url, {}), 400, "invalid", "non_field_errors")
    assert_error(api.post(url, {"placements": []}), 400, "invalid", "placements")
    assert_error(api.post(url, {"placements": ["abc"]}), 400, "invalid", "placements")
    assert_error(api.post(url, {"placements": [999999]}), 404, "not_found")
    assert not Booking.objects.exists()


def test_a_full_trip_answers_409_full_unless_waitlisted(zhejiang_officer, accepted, make_trip):
    small = make_trip(seats=1, vehicle_number="川X00001")
    api = api_as(zhejiang_officer)
    url = f"{BASE}/trips/{small.pk}/bookings/"
    assert api.post(url, {"placements": [accepted[0].pk]}).status_code == 201
    full = assert_error(api.post(url, {"placements": [accepted[1].pk]}), 409, "full")
    assert full["details"]["free_seats"] == 0
    waiting = api.post(url, {"placements": [accepted[1].pk], "waitlist": True})
    assert waiting.status_code == 201
    assert waiting.json()["booked"] == []
    assert waiting.json()["waitlisted"][0]["status"] == "waitlisted"
    assert waiting.json()["waitlisted"][0]["seat"] is None


def test_booking_a_posting_or_county_on_a_visible_trip_is_forbidden(
    sichuan_officer, accepted, trip
):
    api = api_as(sichuan_officer)
    url = f"{BASE}/trips/{trip.pk}/bookings/"
    assert_error(api.post(url, {"posting": accepted[0].posting_id}), 403, "forbidden")
    county = accepted[0].applicant.region_code
    assert_error(api.post(url, {"region_code": county}), 403, "forbidden")
    assert not Booking.objects.exists()


# --- Boarding and the trip's life ---------------------------------------------------------------


def test_boarding_departure_and_arrival_of_a_trip(
    zhejiang_officer, sichuan_officer, hr_officer, guizhou_officer, accepted, trip
):
    first, second, third = accepted
    book(zhejiang_officer, trip, accepted)
    url = f"{BASE}/trips/{trip.pk}/"
    api = api_as(zhejiang_officer)

    assert_error(
        api.post(f"{url}boarding-check/", {"certificate": token_of(first)}), 409, "not_boarding"
    )
    started = api.post(f"{url}start-boarding/")
    assert started.status_code == 200
    assert started.json()["status"] == "boarding" and started.json()["boarding_started_at"]
    assert_error(api.post(f"{url}start-boarding/"), 409, "not_planned")

    check = api.post(f"{url}boarding-check/", {"certificate": token_of(first)})
    assert check.status_code == 200, check.content
    body = check.json()
    assert body["boarded"] is True and body["code"] == "boarded"
    assert body["certificate_code"] == "valid"
    assert body["booking"]["seat"] == 1 and body["booking"]["status"] == "boarded"
    again = api.post(f"{url}boarding-check/", {"certificate": token_of(first)}).json()
    assert again["boarded"] is True and again["code"] == "already_boarded"

    # the origin province's bureau checks at the pickup point too, by certificate number
    number = HealthCertificate.objects.get(applicant=second.applicant).number
    sichuan = api_as(sichuan_officer).post(f"{url}boarding-check/", {"certificate": number})
    assert sichuan.status_code == 200 and sichuan.json()["boarded"] is True

    unknown = api.post(f"{url}boarding-check/", {"certificate": "ZZ999999"}).json()
    assert unknown["boarded"] is False and unknown["code"] == "not_on_trip"
    assert unknown["booking"] is None
    assert_error(
        api.post(f"{url}boarding-check/", {"certificate": ""}), 400, "invalid", "certificate"
    )
    assert_error(api.post(f"{url}boarding-check/", {}), 400, "invalid", "certificate")
    # an employer sees the trip (its workers are on it) but does not run boarding
    employer = api_as(hr_officer).post(f"{url}boarding-check/", {"certificate": number})
    assert_error(employer, 403, "forbidden")
    guizhou = api_as(guizhou_officer).post(f"{url}boarding-check/", {"certificate": number})
    assert_error(guizhou, 404, "not_found")

    assert_error(api.post(f"{url}arrive/"), 409, "not_departed")
    gone = api.post(f"{url}depart/")
    assert gone.status_code == 200
    assert gone.json()["status"] == "departed" and gone.json()["boarded_count"] == 2
    assert dict(Booking.objects.values_list("placement_id", "status")) == {
        first.pk: "boarded",
        second.pk: "boarded",
        third.pk: "no_show",
    }
    assert_error(api.post(f"{url}depart/"), 409, "not_open")
    arrived = api.post(f"{url}arrive/")
    assert arrived.status_code == 200 and arrived.json()["status"] == "arrived"


def test_organiser_cancels_a_trip_with_a_reason(zhejiang_officer, accepted, trip):
    book(zhejiang_officer, trip, accepted[:2])
    api = api_as(zhejiang_officer)
    url = f"{BASE}/trips/{trip.pk}/cancel/"
    assert_error(api.post(url, {"reason": "  "}), 400, "invalid", "reason")
    assert_error(api.post(url, {}), 400, "invalid", "reason")
    response = api.post(url, {"reason": "高速封路"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "高速封路"
    assert response.json()["seats_taken"] == 0
    assert set(Booking.objects.values_list("status", flat=True)) == {"cancelled"}
    assert set(Placement.objects.values_list("status", flat=True)) == {"accepted"}
    assert_error(api.post(url, {"reason": "again"}), 409, "not_open")


# --- Manifest and bookings ----------------------------------------------------------------------


@pytest.fixture
def two_employers_on_a_trip(zhejiang_officer, sichuan_officer, other_hr_officer, accepted, trip):
    """The trip carries the three workers of the Yuhuan employer and one of Ningbo's."""
    posting = JobPosting.objects.get(pk=accepted[0].posting_id)
    from tests.factories import make_posting

    ningbo_posting = make_posting(other_hr_officer, title="数控车工", target_provinces=["51"])
    worker = make_applicant(sichuan_officer, name="丁工")
    ningbo = accept(worker, ningbo_posting)
    book(zhejiang_officer, trip, [*accepted, ningbo])
    return posting, ningbo


def test_manifest_lists_the_bookings_by_seat_and_each_employer_its_own(
    zhejiang_officer, sichuan_officer, hr_officer, other_hr_officer, two_employers_on_a_trip, trip
):
    _posting, ningbo = two_employers_on_a_trip
    url = f"{BASE}/trips/{trip.pk}/manifest/"
    for officer in (zhejiang_officer, sichuan_officer):
        manifest = api_as(officer).get(url)
        assert manifest.status_code == 200
        assert manifest.json()["trip"]["id"] == trip.pk
        assert manifest.json()["trip"]["seats_taken"] == 4
        rows = manifest.json()["bookings"]
        assert [r["seat"] for r in rows] == [1, 2, 3, 4]
        assert rows[3]["applicant"]["name"] == "丁工"

    yuhuan = api_as(hr_officer).get(url).json()["bookings"]
    assert len(yuhuan) == 3 and ningbo.pk not in {r["placement"]["id"] for r in yuhuan}
    assert {r["applicant"]["name"] for r in yuhuan} == {"甲工", "乙工", "丙工"}
    only_own = api_as(other_hr_officer).get(url).json()["bookings"]
    assert [r["placement"]["id"] for r in only_own] == [ningbo.pk]


def test_bookings_list_and_retrieve_are_scoped(
    zhejiang_officer,
    sichuan_officer,
    guizhou_officer,
    hr_officer,
    other_hr_officer,
    two_employers_on_a_trip,
    trip,
):
    _posting, ningbo = two_employers_on_a_trip
    everyone = set(Booking.objects.values_list("pk", flat=True))
    ningbo_booking = Booking.objects.get(placement=ningbo)
    for officer in (zhejiang_officer, sichuan_officer):
        listed = api_as(officer).get(f"{BASE}/bookings/")
        assert listed.status_code == 200
        assert ids(listed) == everyone
        assert "next" in listed.json() and "count" not in listed.json()  # cursor paging
    assert ids(api_as(hr_officer).get(f"{BASE}/bookings/")) == everyone - {ningbo_booking.pk}
    assert ids(api_as(other_hr_officer).get(f"{BASE}/bookings/")) == {ningbo_booking.pk}
    assert ids(api_as(guizhou_officer).get(f"{BASE}/bookings/")) == set()

    api = api_as(zhejiang_officer)
    assert ids(api.get(f"{BASE}/bookings/", {"trip": trip.pk, "status": "booked"})) == everyone
    assert ids(api.get(f"{BASE}/bookings/", {"status": "cancelled"})) == set()
    assert ids(api.get(f"{BASE}/bookings/", {"placement": ningbo.pk})) == {ningbo_booking.pk}

    detail = f"{BASE}/bookings/{ningbo_booking.pk}/"
    assert api.get(detail).json()["employer"]["name"] == "宁波精工机械有限公司"
    assert_error(api_as(hr_officer).get(detail), 404, "not_found")
    assert_error(api_as(guizhou_officer).get(detail), 404, "not_found")


def test_booking_cancel_gives_the_seat_to_the_waitlist(
    zhejiang_officer, sichuan_officer, guizhou_officer, hr_officer, accepted, make_trip
):
    small = make_trip(seats=2, vehicle_number="川X00002")
    result = book(zhejiang_officer, small, accepted, waitlist=True)
    seated, waiting = result.booked[0], result.waitlisted[0]
    url = f"{BASE}/bookings/{seated.pk}/cancel/"

    assert_error(api_as(sichuan_officer).post(url, {"reason": "x"}), 403, "forbidden")
    assert_error(api_as(hr_officer).post(url, {"reason": "x"}), 403, "forbidden")
    assert_error(api_as(guizhou_officer).post(url, {"reason": "x"}), 404, "not_found")
    api = api_as(zhejiang_officer)
    assert_error(api.post(url, {"reason": ""}), 400, "invalid", "reason")

    response = api.post(url, {"reason": "家中有事"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "家中有事"
    promoted = api.get(f"{BASE}/bookings/{waiting.pk}/").json()
    assert promoted["status"] == "booked" and promoted["seat"] == seated.seat
    assert_error(api.post(url, {"reason": "again"}), 409, "not_booked")


def test_organiser_moves_a_worker_to_another_seat(
    zhejiang_officer, sichuan_officer, accepted, trip
):
    first, second = book(zhejiang_officer, trip, accepted[:2]).booked
    api = api_as(zhejiang_officer)
    url = f"{BASE}/bookings/{first.pk}/change-seat/"
    moved = api.post(url, {"seat": 10, "reason": "晕车，坐前排"})
    assert moved.status_code == 200, moved.content
    assert moved.json()["seat"] == 10
    assert_error(api.post(url, {"seat": second.seat, "reason": "x"}), 409, "seat_taken")
    assert_error(api.post(url, {"seat": 99, "reason": "x"}), 400, "invalid", "seat")
    assert_error(api.post(url, {"seat": "front", "reason": "x"}), 400, "invalid", "seat")
    assert_error(api.post(url, {"seat": 11}), 400, "invalid", "reason")
    assert_error(api_as(sichuan_officer).post(url, {"seat": 12, "reason": "x"}), 403, "forbidden")
    assert Booking.objects.get(pk=first.pk).seat == 10


# --- API clients: read-only -------------------------------------------------------------------


def test_province_api_client_reads_but_never_writes(
    zhejiang_client, zhejiang_officer, accepted, trip
):
    booking = book(zhejiang_officer, trip, accepted[:1]).booked[0]
    flag = Flag.objects.create(
        kind=Flag.Kind.ABSENT,
        placement=accepted[1],
        importing_province_id="33",
        exporting_province_id="51",
    )
    for url in (
        f"{BASE}/trips/",
        f"{BASE}/trips/{trip.pk}/",
        f"{BASE}/trips/{trip.pk}/manifest/",
        f"{BASE}/bookings/",
        f"{BASE}/bookings/{booking.pk}/",
        f"{BASE}/flags/",
        f"{BASE}/flags/{flag.pk}/",
    ):
        assert zhejiang_client.get(url).status_code == 200, url
    assert ids(zhejiang_client.get(f"{BASE}/trips/")) == {trip.pk}

    writes = [
        ("post", f"{BASE}/trips/", trip_values()),
        ("patch", f"{BASE}/trips/{trip.pk}/", {"seats": 10}),
        ("post", f"{BASE}/trips/{trip.pk}/bookings/", {"placements": [accepted[2].pk]}),
        ("post", f"{BASE}/trips/{trip.pk}/cancel/", {"reason": "x"}),
        ("post", f"{BASE}/trips/{trip.pk}/start-boarding/", {}),
        ("post", f"{BASE}/bookings/{booking.pk}/cancel/", {"reason": "x"}),
        ("post", f"{BASE}/flags/{flag.pk}/resolve/", {"resolution": "x"}),
        ("post", f"{BASE}/arrivals/", {"placement": accepted[2].pk, "result": "pass"}),
    ]
    for method, url, data in writes:
        response = getattr(zhejiang_client, method)(url, data, format="json")
        assert_error(response, 403, "permission_denied")
    assert Trip.objects.count() == 1 and Booking.objects.count() == 1
    assert Flag.objects.get(pk=flag.pk).resolved_at is None


# --- Arrivals -----------------------------------------------------------------------------------


def test_employer_sees_the_workers_awaiting_arrival(
    hr_officer, other_hr_officer, zhejiang_officer, accepted, trip
):
    first, second, third = accepted
    departed(zhejiang_officer, trip, [first])
    response = api_as(hr_officer).get(f"{BASE}/arrivals/")
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["results"]}
    # on their way by the trip, or travelling on their own (accepted, not booked)
    assert set(rows) == {first.pk, second.pk, third.pk}
    assert rows[first.pk]["status"] == "departed"
    assert rows[first.pk]["trip"]["id"] == trip.pk
    assert rows[second.pk]["trip"] is None
    assert rows[first.pk]["applicant"]["name"] == "甲工"
    assert ids(api_as(other_hr_officer).get(f"{BASE}/arrivals/")) == set()
    assert ids(api_as(zhejiang_officer).get(f"{BASE}/arrivals/")) == set()


def test_arrival_with_an_idempotency_key_is_recorded_once(
    hr_officer, zhejiang_officer, accepted, trip
):
    first = accepted[0]
    departed(zhejiang_officer, trip, [first])
    api = api_as(hr_officer)
    payload = {"placement": first.pk, "result": "pass", "notes": "体温正常"}

    created = api.post(f"{BASE}/arrivals/", payload, HTTP_IDEMPOTENCY_KEY="arrival-0001")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["created"] is True
    assert body["placement"]["status"] == "arrived" and body["placement"]["arrived_at"]
    assert body["check"]["result"] == "pass" and body["check"]["notes"] == "体温正常"
    events = PlacementEvent.objects.filter(placement=first).count()

    retried = api.post(f"{BASE}/arrivals/", payload, HTTP_IDEMPOTENCY_KEY="arrival-0001")
    assert retried.status_code == 200, retried.content
    assert retried.json()["created"] is False
    assert retried.json()["check"]["id"] == body["check"]["id"]
    assert retried.json()["placement"]["status"] == "arrived"
    assert ArrivalCheck.objects.filter(placement=first).count() == 1
    assert PlacementEvent.objects.filter(placement=first).count() == events
    assert JobPosting.objects.get(pk=first.posting_id).positions_filled == 1

    # a key is the caller's own: someone else presenting it is told so
    stolen = api_as(zhejiang_officer).post(
        f"{BASE}/arrivals/", payload, HTTP_IDEMPOTENCY_KEY="arrival-0001"
    )
    assert_error(stolen, 409, "key_reused")


def test_arrival_validation_and_scoping(
    hr_officer, other_hr_officer, zhejiang_officer, guizhou_officer, accepted
):
    first = accepted[0]
    api = api_as(hr_officer)
    url = f"{BASE}/arrivals/"
    too_long = api.post(
        url, {"placement": first.pk, "result": "pass"}, HTTP_IDEMPOTENCY_KEY="k" * 65
    )
    assert_error(too_long, 400, "invalid", "Idempotency-Key")
    assert_error(
        api.post(url, {"placement": first.pk, "result": "maybe"}), 400, "invalid", "result"
    )
    assert_error(api.post(url, {"result": "pass"}), 400, "invalid", "placement")
    assert_error(
        api_as(other_hr_officer).post(url, {"placement": first.pk, "result": "pass"}),
        404,
        "not_found",
    )
    assert_error(
        api_as(zhejiang_officer).post(url, {"placement": first.pk, "result": "pass"}),
        403,
        "forbidden",
    )
    assert_error(
        api_as(guizhou_officer).post(url, {"placement": first.pk, "result": "pass"}),
        403,
        "forbidden",
    )
    assert not ArrivalCheck.objects.exists()

    # a worker who travelled on their own, confirmed without a key; refer holds the position
    referred = api.post(url, {"placement": first.pk, "result": "refer"})
    assert referred.status_code == 201
    assert referred.json()["placement"]["status"] == "referred"


# --- The employer's placements: departures and absences ---------------------------------------


def test_employer_lists_its_placements(hr_officer, other_hr_officer, zhejiang_officer, accepted):
    api = api_as(hr_officer)
    listed = api.get(f"{BASE}/placements/")
    assert listed.status_code == 200
    assert ids(listed) == {p.pk for p in accepted}
    assert ids(api.get(f"{BASE}/placements/", {"posting": accepted[2].posting_id})) == {
        accepted[2].pk
    }
    assert ids(api_as(other_hr_officer).get(f"{BASE}/placements/")) == set()
    assert ids(api_as(zhejiang_officer).get(f"{BASE}/placements/")) == set()
    url = f"{BASE}/placements/{accepted[0].pk}/"
    assert api.get(url).json()["applicant"]["name"] == "甲工"
    assert_error(api_as(other_hr_officer).get(url), 404, "not_found")


def test_employer_reports_that_a_worker_left(
    hr_officer, other_hr_officer, zhejiang_officer, accepted
):
    first, second = accepted[0], accepted[1]
    on_post(hr_officer, first, days_ago=3)
    api = api_as(hr_officer)
    url = f"{BASE}/placements/{first.pk}/departure/"
    today = timezone.localdate()

    tomorrow = api.post(
        url, {"left_on": (today + timedelta(days=1)).isoformat(), "reason": "resigned"}
    )
    assert_error(tomorrow, 400, "invalid", "left_on")
    assert_error(
        api.post(url, {"left_on": today.isoformat(), "reason": "bored"}), 400, "invalid", "reason"
    )
    assert_error(api.post(url, {"reason": "resigned"}), 400, "invalid", "left_on")
    not_yet = api.post(
        f"{BASE}/placements/{second.pk}/departure/",
        {"left_on": today.isoformat(), "reason": "resigned"},
    )
    assert_error(not_yet, 409, "not_on_post")
    for outsider in (other_hr_officer, zhejiang_officer):
        response = api_as(outsider).post(url, {"left_on": today.isoformat(), "reason": "resigned"})
        assert_error(response, 404, "not_found")

    left = api.post(url, {"left_on": today.isoformat(), "reason": "family", "note": "回乡照顾老人"})
    assert left.status_code == 200, left.content
    body = left.json()
    assert body["status"] == "left" and body["left_reason"] == "family"
    assert body["left_on"] == today.isoformat() and body["left_note"] == "回乡照顾老人"
    assert JobPosting.objects.get(pk=first.posting_id).positions_filled == 0


def _recent_days(count: int) -> list[str]:
    today = timezone.localdate()
    return [(today - timedelta(days=n)).isoformat() for n in range(count)]


def test_absences_raise_a_flag_that_the_bureaus_see_and_resolve(
    hr_officer,
    zhejiang_officer,
    sichuan_officer,
    guizhou_officer,
    other_hr_officer,
    zhejiang_client,
    accepted,
):
    first = on_post(hr_officer, accepted[0], days_ago=40)
    api = api_as(hr_officer)
    url = f"{BASE}/placements/{first.pk}/absences/"
    assert_error(api.post(url, {"days": []}), 400, "invalid", "days")
    assert_error(api.post(url, {"days": ["yesterday"]}), 400, "invalid", "days")
    future = (timezone.localdate() + timedelta(days=2)).isoformat()
    assert_error(api.post(url, {"days": [future]}), 400, "invalid", "days")
    assert_error(api.post(url, {"days": _recent_days(32)}), 400, "invalid", "days")
    assert_error(api_as(other_hr_officer).post(url, {"days": _recent_days(1)}), 404, "not_found")

    reported = api.post(url, {"days": _recent_days(20)})
    assert reported.status_code == 200, reported.content
    assert reported.json()["recorded"] == 20
    assert reported.json()["placement"]["id"] == first.pk
    assert api.post(url, {"days": _recent_days(3)}).json()["recorded"] == 0
    assert Absence.objects.filter(placement=first).count() == 20
    flag = Flag.objects.get(placement=first)

    for bureau in (zhejiang_officer, sichuan_officer):
        listed = api_as(bureau).get(f"{BASE}/flags/")
        assert listed.status_code == 200
        (row,) = listed.json()["results"]
        assert row["id"] == flag.pk and row["kind"] == "absent" and row["is_open"] is True
        assert row["applicant"]["name"] == "甲工"
        assert row["placement"] == {"id": first.pk, "status": "arrived"}
    assert ids(api_as(guizhou_officer).get(f"{BASE}/flags/")) == set()
    assert ids(api_as(hr_officer).get(f"{BASE}/flags/")) == set()

    resolve = f"{BASE}/flags/{flag.pk}/resolve/"
    assert_error(api_as(guizhou_officer).post(resolve, {"resolution": "x"}), 404, "not_found")
    assert_error(api_as(hr_officer).post(resolve, {"resolution": "x"}), 404, "not_found")
    assert_error(zhejiang_client.post(resolve, {"resolution": "x"}), 403, "permission_denied")
    bureau = api_as(zhejiang_officer)
    assert_error(bureau.post(resolve, {"resolution": " "}), 400, "invalid", "resolution")
    assert_error(bureau.post(resolve, {}), 400, "invalid", "resolution")
    resolved = bureau.post(resolve, {"resolution": "已电话联系，工人病假"})
    assert resolved.status_code == 200, resolved.content
    assert resolved.json()["is_open"] is False
    assert resolved.json()["resolution"] == "已电话联系，工人病假"
    assert resolved.json()["resolved_by"] == zhejiang_officer.full_name
    assert_error(bureau.post(resolve, {"resolution": "again"}), 409, "resolved")

    assert ids(bureau.get(f"{BASE}/flags/", {"open": "true"})) == set()
    assert ids(bureau.get(f"{BASE}/flags/", {"open": "false", "kind": "absent"})) == {flag.pk}
    assert_error(bureau.get(f"{BASE}/flags/", {"kind": "late"}), 400, "invalid", "kind")


# --- Masked everywhere --------------------------------------------------------------------------


def test_no_full_id_or_phone_in_any_response(
    zhejiang_officer, sichuan_officer, hr_officer, zhejiang_client, accepted, trip
):
    """MaskCheckingClient fails on a full ID number or mobile; check what each shows."""
    first, second, _third = accepted
    departed(zhejiang_officer, trip, [first, second])
    on_post(hr_officer, first, days_ago=10)
    services.arrival_confirm(actor=hr_officer, placement=second, result="pass", request_key="m1")
    Flag.objects.create(
        kind=Flag.Kind.ABSENT,
        placement=first,
        importing_province_id="33",
        exporting_province_id="51",
    )
    booking = Booking.objects.filter(placement=first).first()
    urls = [
        f"{BASE}/trips/",
        f"{BASE}/trips/{trip.pk}/",
        f"{BASE}/trips/{trip.pk}/manifest/",
        f"{BASE}/bookings/",
        f"{BASE}/bookings/{booking.pk}/",
        f"{BASE}/flags/",
    ]
    employer_urls = [f"{BASE}/arrivals/", f"{BASE}/placements/", f"{BASE}/placements/{first.pk}/"]
    seen = 0
    for client, paths in (
        (api_as(zhejiang_officer), urls),
        (api_as(sichuan_officer), urls),
        (zhejiang_client, urls),
        (api_as(hr_officer), employer_urls + urls[:5]),
    ):
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (path, response.content)
            text = response.content.decode()
            for key in ('"national_id"', '"phone"', "national_id_encrypted", "phone_encrypted"):
                assert key not in text
            seen += text.count("national_id_masked")
    assert seen > 20
    # the arrival's answer is masked too (MaskCheckingClient checks the body)
    retried = api_as(hr_officer).post(
        f"{BASE}/arrivals/", {"placement": second.pk, "result": "pass"}, HTTP_IDEMPOTENCY_KEY="m1"
    )
    assert retried.status_code == 200
    assert "*" in retried.json()["placement"]["applicant"]["national_id_masked"]


# --- Query counts do not grow with rows --------------------------------------------------------


def _queries(client, url: str) -> int:
    client.get(url)  # warm the user's organisation and the like
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


def _more_workers(sichuan_officer, posting, names: list[str]) -> list[Placement]:
    return [accept(make_applicant(sichuan_officer, name=name), posting) for name in names]


def test_list_query_counts_do_not_grow_with_rows(
    zhejiang_officer, sichuan_officer, hr_officer, accepted, make_trip
):
    posting = JobPosting.objects.get(pk=accepted[0].posting_id)
    JobPosting.objects.filter(pk=posting.pk).update(positions=20)
    first_trip = make_trip()
    book(zhejiang_officer, first_trip, accepted[:1])
    Flag.objects.create(
        kind=Flag.Kind.ABSENT,
        placement=accepted[0],
        importing_province_id="33",
        exporting_province_id="51",
    )
    bureau, employer = api_as(zhejiang_officer), api_as(hr_officer)
    manifest = f"{BASE}/trips/{first_trip.pk}/manifest/"
    urls = {
        bureau: [f"{BASE}/trips/", f"{BASE}/bookings/", f"{BASE}/flags/", manifest],
        employer: [
            f"{BASE}/trips/",
            f"{BASE}/bookings/",
            f"{BASE}/arrivals/",
            f"{BASE}/placements/",
            manifest,
        ],
    }
    before = {(c, u): _queries(c, u) for c, paths in urls.items() for u in paths}

    workers = _more_workers(sichuan_officer, posting, ["赵工", "钱工", "孙工", "李工"])
    book(zhejiang_officer, first_trip, [*accepted[1:], *workers[:2]])
    book(zhejiang_officer, make_trip(vehicle_number="川X20001"), workers[2:3])
    book(zhejiang_officer, make_trip(vehicle_number="川X20002"), workers[3:4])
    make_trip(vehicle_number="川X20003")
    for placement in [*accepted[1:], *workers]:
        Flag.objects.create(
            kind=Flag.Kind.ABSENT,
            placement=placement,
            importing_province_id="33",
            exporting_province_id="51",
        )
    _more_workers(
        sichuan_officer, posting, ["周工", "吴工", "郑工"]
    )  # travelling on their own: awaiting arrival
    assert Trip.objects.count() == 4 and Booking.objects.count() == 7

    after = {(c, u): _queries(c, u) for c, paths in urls.items() for u in paths}
    assert after == before
