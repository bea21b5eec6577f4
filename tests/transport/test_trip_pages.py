"""The trip pages: list with filters, create/edit form, detail with seats and bookings, the
booking forms, the trip's lifecycle, the manifest (page, CSV, XLSX) and the boarding check."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import segno
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext, override
from openpyxl import load_workbook

from health.models import HealthCertificate
from recruitment.models import Placement
from tests.factories import make_posting
from tests.transport.conftest import token_of, trip_values
from transport import services
from transport.models import Booking, Trip

pytestmark = pytest.mark.django_db

LIST = reverse("transport:trip-list")
NEW = reverse("transport:trip-new")


def url(name: str, obj) -> str:
    return reverse(f"transport:{name}", args=[obj.pk])


def zh(message: str) -> str:
    with override("zh-hans"):
        return gettext(message)


def field_html(html: str, name: str) -> str:
    start = html.index(f'data-field="{name}"')
    end = html.find('data-field="', start + 1)
    return html[start : end if end != -1 else len(html)]


def form_data(**overrides) -> dict:
    values = trip_values(**overrides)
    data = dict(values)
    for name in ("departure_at", "arrival_expected_at"):
        data[name] = timezone.localtime(values[name]).strftime("%Y-%m-%dT%H:%M")
    return {key: value for key, value in data.items() if value is not None}


def listed(response) -> set[int]:
    return {trip.pk for trip in response.context["trips"]}


@pytest.fixture
def zj_client(client, zhejiang_officer):
    client.force_login(zhejiang_officer)
    return client


SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨"
GIVEN = "一二三四五六七八九十甲乙丙丁戊己"


def plain(applicant) -> tuple[str, str]:
    """The full ID number and phone, which no page or export may show."""
    from laborlink import personal_data
    from recruitment.services import NATIONAL_ID_CONTEXT, PHONE_CONTEXT

    return (
        personal_data.decrypt(applicant.national_id_encrypted, context=NATIONAL_ID_CONTEXT),
        personal_data.decrypt(applicant.phone_encrypted, context=PHONE_CONTEXT),
    )


@pytest.fixture
def crew(hr_officer, sichuan_officer, market):
    """`crew(n)`: n more Sichuan workers accepted on a large Zhejiang posting (`posting`,
    `region` change where they go and come from)."""
    from tests.factories import make_applicant
    from tests.transport.conftest import accept

    made = {"count": 0}

    def make(n, *, posting=None, region=None):
        if posting is None:
            if "posting" not in made:
                made["posting"] = make_posting(
                    hr_officer, title="装配三线", positions=60, target_provinces=["51"]
                )
            posting = made["posting"]
        placements = []
        for _i in range(n):
            k = made["count"]
            made["count"] += 1
            name = SURNAMES[k // len(GIVEN) % len(SURNAMES)] + "工" + GIVEN[k % len(GIVEN)]
            applicant = make_applicant(sichuan_officer, name=name, region=region)
            placements.append(accept(applicant, posting))
        return placements

    return make


def book(actor, trip, placements, **kwargs):
    return services.booking_create(actor=actor, trip=trip, placements=placements, **kwargs)


# --- List ------------------------------------------------------------------------------------


def test_list_shows_trips_with_seats_taken_and_free(zj_client, zhejiang_officer, trip, accepted):
    book(zhejiang_officer, trip, accepted[:2])
    response = zj_client.get(LIST)
    assert response.status_code == 200
    assert listed(response) == {trip.pk}
    html = response.content.decode()
    assert 'aria-valuenow="4"' in html  # 2 of 45 seats
    (shown,) = response.context["trips"]
    assert (shown.seats_taken, shown.seats_free) == (2, 43)


def test_list_filters_by_status_mode_origin_and_date(
    zj_client, zhejiang_officer, make_trip, agreements
):
    bus = make_trip()
    train = make_trip(
        mode="train",
        vehicle_number="K1234",
        origin_province="52",
        departure_at=timezone.now() + timedelta(days=9),
        arrival_expected_at=timezone.now() + timedelta(days=10),
    )
    services.trip_start_boarding(actor=zhejiang_officer, trip=bus)
    assert listed(zj_client.get(LIST, {"status": "boarding"})) == {bus.pk}
    assert listed(zj_client.get(LIST, {"mode": "train"})) == {train.pk}
    assert listed(zj_client.get(LIST, {"origin_province": "52"})) == {train.pk}
    later = (timezone.localdate() + timedelta(days=5)).isoformat()
    assert listed(zj_client.get(LIST, {"departure_from": later})) == {train.pk}
    assert listed(zj_client.get(LIST, {"departure_to": later})) == {bus.pk}


def test_list_is_scoped_to_the_user(client, trip, guizhou_officer, sichuan_officer, hr_officer):
    client.force_login(guizhou_officer)
    assert listed(client.get(LIST)) == set()
    client.force_login(sichuan_officer)  # the trip leaves Sichuan
    assert listed(client.get(LIST)) == {trip.pk}
    client.force_login(hr_officer)  # none of its workers is booked yet
    assert listed(client.get(LIST)) == set()


def test_list_paginates_by_25(zj_client, make_trip):
    for _ in range(26):
        make_trip()
    assert len(zj_client.get(LIST).context["trips"]) == 25
    assert len(zj_client.get(LIST, {"page": 2}).context["trips"]) == 1


def test_list_query_count_does_not_grow_with_trips(
    zj_client, zhejiang_officer, make_trip, accepted, django_assert_max_num_queries
):
    first = make_trip()
    make_trip()
    book(zhejiang_officer, first, accepted)
    query = {"mode": "bus", "origin_province": "51"}
    with django_assert_max_num_queries(15) as few:
        response = zj_client.get(LIST, query)
    assert len(response.context["trips"]) == 2
    for _ in range(10):
        make_trip()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = zj_client.get(LIST, query)
    assert len(response.context["trips"]) == 12


# --- Create and edit -------------------------------------------------------------------------


def test_an_importing_bureau_plans_a_trip(zj_client, agreements):
    response = zj_client.get(NEW)
    assert response.status_code == 200
    assert response.context["form"].initial["destination_province"] == "33"
    response = zj_client.post(NEW, form_data())
    trip = Trip.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("trip-detail", trip)
    assert (trip.origin_province_id, trip.seats, trip.status) == ("51", 45, "planned")


def test_service_refusals_are_shown_against_their_fields(zj_client, agreements):
    response = zj_client.post(
        NEW, form_data(destination_province="44", contact_phone="call me", origin_province="52")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert escape(zh("Enter a phone number of digits, spaces or dashes.")) in field_html(
        html, "contact_phone"
    )
    destination = field_html(html, "destination_province")
    assert 'class="error"' in destination
    assert not Trip.objects.exists()


def test_arrival_before_departure_is_refused_inline(zj_client, agreements):
    departure = timezone.now() + timedelta(days=2)
    response = zj_client.post(
        NEW,
        form_data(departure_at=departure, arrival_expected_at=departure - timedelta(hours=1)),
    )
    assert response.status_code == 400
    assert escape(zh("The arrival must be after the departure.")) in field_html(
        response.content.decode(), "arrival_expected_at"
    )


def test_who_cannot_charter_gets_403(client, health_officer, sichuan_officer, agreements):
    client.force_login(health_officer)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, form_data()).status_code == 403


def test_the_organiser_edits_a_planned_trip(zj_client, trip):
    response = zj_client.get(url("trip-edit", trip))
    assert response.status_code == 200
    response = zj_client.post(url("trip-edit", trip), form_data(seats=50, operator="新运输公司"))
    assert response.status_code == 302
    trip.refresh_from_db()
    assert (trip.seats, trip.operator) == (50, "新运输公司")


def test_seats_cannot_drop_below_a_booked_seat(zj_client, zhejiang_officer, trip, accepted):
    book(zhejiang_officer, trip, accepted)
    response = zj_client.post(url("trip-edit", trip), form_data(seats=2))
    assert response.status_code == 409
    assert 'class="error"' in field_html(response.content.decode(), "seats")


def test_a_trip_no_longer_planned_cannot_be_edited(zj_client, zhejiang_officer, trip):
    services.trip_start_boarding(actor=zhejiang_officer, trip=trip)
    response = zj_client.get(url("trip-edit", trip))
    assert response.status_code == 302 and response["Location"] == url("trip-detail", trip)


# --- Scoping ---------------------------------------------------------------------------------


def test_guizhou_bureau_gets_404_on_every_trip_page(
    client, guizhou_officer, zhejiang_officer, trip, accepted
):
    booking = book(zhejiang_officer, trip, accepted[:1]).booked[0]
    client.force_login(guizhou_officer)
    for name in (
        "trip-detail",
        "trip-edit",
        "trip-manifest",
        "trip-manifest-csv",
        "trip-manifest-xlsx",
        "trip-boarding",
    ):
        assert client.get(url(name, trip)).status_code == 404, name
    for name in ("trip-book", "trip-start-boarding", "trip-depart", "trip-cancel"):
        assert client.post(url(name, trip), {"reason": "x"}).status_code == 404, name
    assert client.post(url("booking-cancel", booking), {"reason": "x"}).status_code == 404
    assert client.post(url("booking-seat", booking), {"seat": 9, "reason": "x"}).status_code == 404


def test_who_sees_but_does_not_organise_gets_403_on_writes(
    client, sichuan_officer, zhejiang_officer, trip, accepted
):
    booking = book(zhejiang_officer, trip, accepted[:1]).booked[0]
    client.force_login(sichuan_officer)
    assert client.get(url("trip-detail", trip)).status_code == 200
    assert client.get(url("trip-edit", trip)).status_code == 403
    data = {"placements": [accepted[1].pk]}
    assert client.post(url("trip-book", trip), data).status_code == 403
    assert client.post(url("trip-book-county", trip), {"region_code": "510104"}).status_code == 403
    assert client.post(url("trip-cancel", trip), {"reason": "x"}).status_code == 403
    assert client.post(url("booking-cancel", booking), {"reason": "x"}).status_code == 403
    assert client.post(url("booking-seat", booking), {"seat": 9, "reason": "x"}).status_code == 403
    assert Booking.objects.filter(status="booked").count() == 1


def test_an_employer_sees_only_its_own_workers_on_a_trip(
    client, zhejiang_officer, other_hr_officer, trip, accepted, crew
):
    posting = make_posting(other_hr_officer, title="电子装配", positions=5, target_provinces=["51"])
    other_accepted = crew(2, posting=posting)
    book(zhejiang_officer, trip, [*accepted, *other_accepted])
    client.force_login(other_hr_officer)
    response = client.get(url("trip-detail", trip))
    assert response.status_code == 200
    names = {b.placement.applicant.name for b in response.context["seated"]}
    assert names == {p.applicant.name for p in other_accepted}
    assert response.context["seat_map"] is None
    html = response.content.decode()
    assert "甲工" not in html
    assert client.post(url("trip-start-boarding", trip)).status_code == 403
    manifest = client.get(url("trip-manifest-csv", trip))
    assert "甲工" not in b"".join(manifest.streaming_content).decode("utf-8-sig")


# --- Detail and bookings ---------------------------------------------------------------------


def test_detail_shows_seats_masked_ids_groups_and_waitlist(
    zj_client, zhejiang_officer, make_trip, accepted
):
    trip = make_trip(seats=2)
    book(zhejiang_officer, trip, accepted[:2], together=True, group_label="协兴村")
    book(zhejiang_officer, trip, accepted[2:], waitlist=True)
    response = zj_client.get(url("trip-detail", trip))
    html = response.content.decode()
    assert [b.seat for b in response.context["seated"]] == [1, 2]
    assert [b.placement_id for b in response.context["waitlist"]] == [accepted[2].pk]
    assert "协兴村" in html
    assert 'data-testid="seat-map"' in html and 'class="seat seat-booked"' in html
    for placement in accepted:
        applicant = placement.applicant
        assert applicant.national_id_masked in html
        assert plain(applicant)[0] not in html


def test_book_chosen_workers_together(zj_client, trip, accepted):
    response = zj_client.post(
        url("trip-book", trip),
        {"placements": [p.pk for p in accepted[:2]], "together": "on", "group_label": "甲乙"},
    )
    assert response.status_code == 302
    bookings = Booking.objects.order_by("seat")
    assert [(b.seat, b.group_label) for b in bookings] == [(1, "甲乙"), (2, "甲乙")]
    page = zj_client.get(url("trip-detail", trip))
    assert [p.pk for p in page.context["bookable"]] == [accepted[2].pk]


def test_a_full_trip_shows_the_translated_full_message(zj_client, make_trip, accepted):
    trip = make_trip(seats=2)
    response = zj_client.post(url("trip-book", trip), {"placements": [p.pk for p in accepted]})
    assert response.status_code == 409
    message = zh("Trip %(trip)s has only %(free)d free seats for %(wanted)d workers.") % {
        "trip": trip.vehicle_number,
        "free": 2,
        "wanted": 3,
    }
    assert escape(message) in response.content.decode()
    assert not Booking.objects.exists()
    # the choice survives, and "waitlist if full" books two and waits one
    assert response.context["chosen"] == {str(p.pk) for p in accepted}
    response = zj_client.post(
        url("trip-book", trip), {"placements": [p.pk for p in accepted], "waitlist": "on"}
    )
    assert response.status_code == 302
    statuses = sorted(Booking.objects.values_list("status", flat=True))
    assert statuses == ["booked", "booked", "waitlisted"]


def test_no_worker_chosen_is_a_form_error(zj_client, trip, accepted):
    response = zj_client.post(url("trip-book", trip), {})
    assert response.status_code == 400
    assert not Booking.objects.exists()


def test_book_every_accepted_worker_of_a_posting(zj_client, trip, accepted):
    posting = accepted[0].posting
    response = zj_client.post(url("trip-book-posting", trip), {"posting": posting.pk})
    assert response.status_code == 302
    assert set(Booking.objects.values_list("placement_id", flat=True)) == {
        accepted[0].pk,
        accepted[1].pk,
    }


def test_book_every_accepted_worker_of_a_county(zj_client, trip, accepted, crew):
    from_guangan = crew(2, region="511602")
    page = zj_client.get(url("trip-detail", trip))
    assert "511602" in {c["applicant__region_code"] for c in page.context["counties"]}
    response = zj_client.post(url("trip-book-county", trip), {"region_code": "511602"})
    assert response.status_code == 302
    assert set(Booking.objects.values_list("placement_id", flat=True)) == {
        p.pk for p in from_guangan
    }
    bad = zj_client.post(url("trip-book-county", trip), {"region_code": "5116"})
    assert bad.status_code == 400
    nobody = zj_client.post(url("trip-book-county", trip), {"region_code": "522401"})
    assert nobody.status_code == 400
    assert escape(zh("No accepted worker from this county is waiting for a seat.")) in (
        nobody.content.decode()
    )


def test_cancel_and_change_seat_need_a_reason(zj_client, zhejiang_officer, trip, accepted):
    first, second = book(zhejiang_officer, trip, accepted[:2]).booked
    assert zj_client.post(url("booking-cancel", first), {"reason": ""}).status_code == 400
    assert zj_client.post(url("booking-seat", first), {"seat": 7}).status_code == 400
    response = zj_client.post(url("booking-seat", first), {"seat": 7, "reason": "晕车坐前排"})
    assert response.status_code == 302
    taken = zj_client.post(url("booking-seat", second), {"seat": 7, "reason": "想坐一起"})
    assert taken.status_code == 409
    assert escape(zh("Seat %(seat)d is taken.") % {"seat": 7}) in taken.content.decode()
    response = zj_client.post(url("booking-cancel", second), {"reason": "家中有事"})
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.seat, second.status, second.cancel_reason) == (7, "cancelled", "家中有事")


def test_lifecycle_actions(zj_client, zhejiang_officer, trip, accepted):
    book(zhejiang_officer, trip, accepted)
    response = zj_client.post(url("trip-start-boarding", trip))
    assert response["Location"] == url("trip-boarding", trip)
    again = zj_client.post(url("trip-start-boarding", trip))
    assert again.status_code == 409
    services.boarding_check(actor=zhejiang_officer, trip=trip, certificate=token_of(accepted[0]))
    assert zj_client.post(url("trip-depart", trip)).status_code == 302
    assert zj_client.post(url("trip-arrive", trip)).status_code == 302
    trip.refresh_from_db()
    assert trip.status == "arrived"
    statuses = dict(Booking.objects.values_list("placement_id", "status"))
    assert statuses[accepted[0].pk] == "boarded" and statuses[accepted[1].pk] == "no_show"


def test_cancel_a_trip_with_a_reason(zj_client, zhejiang_officer, trip, accepted):
    book(zhejiang_officer, trip, accepted)
    assert zj_client.post(url("trip-cancel", trip), {"reason": ""}).status_code == 400
    response = zj_client.post(url("trip-cancel", trip), {"reason": "大雪封路"})
    assert response.status_code == 302
    trip.refresh_from_db()
    assert (trip.status, trip.cancel_reason) == ("cancelled", "大雪封路")
    assert set(Placement.objects.values_list("status", flat=True)) == {"accepted"}


def test_detail_query_count_does_not_grow_with_bookings(
    zj_client, zhejiang_officer, trip, crew, django_assert_max_num_queries
):
    book(zhejiang_officer, trip, crew(2))
    crew(2)  # waiting for a seat: listed in the booking form
    with django_assert_max_num_queries(30) as few:
        response = zj_client.get(url("trip-detail", trip))
    assert len(response.context["seated"]) == 2
    book(zhejiang_officer, trip, crew(10))
    crew(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = zj_client.get(url("trip-detail", trip))
    assert len(response.context["seated"]) == 12
    assert len(response.context["bookable"]) == 12


# --- Manifest --------------------------------------------------------------------------------


@pytest.fixture
def risky_posting(hr_officer, market):
    """A posting whose title would run as a formula in a spreadsheet."""
    return make_posting(
        hr_officer, title='=HYPERLINK("http://evil.example","x")', target_provinces=["51"]
    )


def test_manifest_page_is_printable_with_masked_data(zj_client, zhejiang_officer, trip, accepted):
    book(zhejiang_officer, trip, accepted)
    response = zj_client.get(url("trip-manifest", trip))
    assert response.status_code == 200
    html = response.content.decode()
    assert "transport/transport.css" in html
    assert len(response.context["rows"]) == 3
    assert [row[0] for row in response.context["rows"]] == [1, 2, 3]
    for label in ("Seat", "Name", "Sex", "Age", "Home county code", "Employer", "Status"):
        assert escape(zh(label)) in html
    for placement in accepted:
        applicant = placement.applicant
        assert applicant.national_id_masked in html and applicant.phone_masked in html
        assert plain(applicant)[0] not in html and plain(applicant)[1] not in html
    assert "<script>" not in html.split("</header>", 1)[1].split("<script src=")[0]


def test_manifest_csv_and_xlsx_are_masked_and_formula_safe(
    zj_client, zhejiang_officer, trip, accepted, risky_posting, crew
):
    (risky,) = crew(1, posting=risky_posting)
    book(zhejiang_officer, trip, [*accepted, risky])
    response = zj_client.get(url("trip-manifest-csv", trip))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == zh("Seat") and len(rows) == 5
    assert {row[1] for row in rows[1:]} == {p.applicant.name for p in [*accepted, risky]}
    (risky_row,) = [row for row in rows if "HYPERLINK" in row[8]]
    assert risky_row[8].startswith("'=")
    for placement in [*accepted, risky]:
        assert plain(placement.applicant)[0] not in text
        assert plain(placement.applicant)[1] not in text
        assert placement.applicant.national_id_masked in text

    response = zj_client.get(url("trip-manifest-xlsx", trip))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][0] == zh("Seat") and len(values) == 5
    assert [row[0] for row in values[1:]] == [1, 2, 3, 4]
    assert any(str(row[8]).startswith("'=HYPERLINK") for row in values[1:])
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    flat = " ".join(str(v) for row in values for v in row)
    for placement in accepted:
        assert plain(placement.applicant)[0] not in flat


def test_manifest_query_count_does_not_grow_with_bookings(
    zj_client, zhejiang_officer, trip, crew, django_assert_max_num_queries
):
    def csv_lines() -> int:
        response = zj_client.get(url("trip-manifest-csv", trip))
        return len(b"".join(response.streaming_content).splitlines())

    book(zhejiang_officer, trip, crew(2))
    with django_assert_max_num_queries(15) as few:
        assert len(zj_client.get(url("trip-manifest", trip)).context["rows"]) == 2
    with django_assert_max_num_queries(17) as few_csv:  # + the export's audit entry
        assert csv_lines() == 3
    book(zhejiang_officer, trip, crew(10))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(zj_client.get(url("trip-manifest", trip)).context["rows"]) == 12
    with django_assert_max_num_queries(len(few_csv.captured_queries)):
        assert csv_lines() == 13


# --- Boarding --------------------------------------------------------------------------------


@pytest.fixture
def boarding(zhejiang_officer, trip, accepted):
    book(zhejiang_officer, trip, accepted[:2])
    services.trip_start_boarding(actor=zhejiang_officer, trip=trip)
    return trip


def png_of_qr(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=4)
    return buffer.getvalue()


def test_boarding_by_token_counts_the_boarded(zj_client, boarding, accepted):
    page = zj_client.get(url("trip-boarding", boarding))
    assert page.status_code == 200
    assert page.context["trip"].boarded_count == 0 and page.context["trip"].seats_taken == 2
    assert "transport/boarding.js" in page.content.decode()
    response = zj_client.post(
        url("trip-boarding", boarding), {"certificate": token_of(accepted[0])}
    )
    assert response.status_code == 200
    check = response.context["check"]
    assert check.boarded and check.code == "boarded"
    html = response.content.decode()
    assert "verdict-valid" in html and 'data-code="boarded"' in html
    assert response.context["trip"].boarded_count == 1
    assert token_of(accepted[0]) not in html  # the token is not echoed back


def test_boarding_by_certificate_number_and_by_photo(zj_client, boarding, accepted):
    number = HealthCertificate.objects.get(applicant=accepted[1].applicant).number
    response = zj_client.post(url("trip-boarding", boarding), {"certificate": number.lower()})
    assert response.context["check"].boarded
    photo = SimpleUploadedFile("qr.png", png_of_qr(token_of(accepted[0])), "image/png")
    response = zj_client.post(url("trip-boarding", boarding), {"image": photo})
    assert response.status_code == 200 and response.context["check"].boarded
    assert Booking.objects.filter(status="boarded").count() == 2


def test_boarding_refuses_who_is_not_on_the_trip(zj_client, boarding, accepted):
    response = zj_client.post(
        url("trip-boarding", boarding), {"certificate": token_of(accepted[2])}
    )
    assert response.status_code == 200
    assert not response.context["check"].boarded
    html = response.content.decode()
    assert "verdict-invalid" in html and 'data-code="not_on_trip"' in html
    response = zj_client.post(url("trip-boarding", boarding), {"certificate": "NOPE-000000"})
    assert not response.context["check"].boarded
    assert zj_client.post(url("trip-boarding", boarding), {}).status_code == 400


def test_boarding_before_it_started_is_a_conflict(zj_client, trip, accepted):
    page = zj_client.get(url("trip-boarding", trip))
    assert 'data-testid="not-boarding"' in page.content.decode()
    response = zj_client.post(url("trip-boarding", trip), {"certificate": token_of(accepted[0])})
    assert response.status_code == 409
    assert escape(zh("Start boarding first.")) in response.content.decode()


def test_boarding_scope(client, boarding, sichuan_officer, guizhou_officer, hr_officer, accepted):
    client.force_login(sichuan_officer)  # the origin's bureau checks at the pickup point
    assert client.get(url("trip-boarding", boarding)).status_code == 200
    client.force_login(hr_officer)  # its workers are on the trip, but it does not board
    assert client.get(url("trip-boarding", boarding)).status_code == 403
    token = token_of(accepted[0])
    assert client.post(url("trip-boarding", boarding), {"certificate": token}).status_code == 403
    client.force_login(guizhou_officer)
    assert client.get(url("trip-boarding", boarding)).status_code == 404


def test_boarding_page_ignores_tokens_in_the_query_string(zj_client, boarding):
    response = zj_client.get(url("trip-boarding", boarding), {"certificate": "x.y.z"})
    assert response.status_code == 302 and "?" not in response["Location"]
