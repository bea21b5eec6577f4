"""Chartered transport in a real Chromium: a Zhejiang coordinator books the accepted workers
on a bus and prints the manifest; the employer's HR officer confirms an arrival on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from health.models import ArrivalCheck
from recruitment.models import Placement
from tests.e2e.test_whitelist_browser import log_in
from tests.transport.conftest import accepted, departed, make_trip, trip  # noqa: F401
from transport.models import Booking

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_coordinator_books_the_bus_and_prints_the_manifest(
    live_server,
    page,
    zhejiang_officer,
    trip,  # noqa: F811 - the fixture imported above
    accepted,  # noqa: F811
    screenshot,
):
    base = live_server.url
    log_in(page, base, "zj_bureau")
    page.goto(f"{base}/transport/trips/")
    page.locator(f'tr[data-trip="{trip.pk}"] a').first.click()
    expect(page.get_by_test_id("trip-title")).to_contain_text(trip.vehicle_number)

    for placement in accepted:
        page.get_by_role("checkbox", name=placement.applicant.name).check()
    page.locator("#id_together").check()
    page.get_by_test_id("book-submit").click()

    expect(page.locator(".msg-success")).to_be_visible()
    rows = page.get_by_test_id("bookings").locator("tbody tr")
    expect(rows).to_have_count(3)
    for seat, placement in enumerate(accepted, start=1):
        row = page.locator(f'tr[data-seat="{seat}"]')
        expect(row.get_by_test_id("booking-name")).to_have_text(placement.applicant.name)
        expect(row).to_contain_text(placement.applicant.national_id_masked)
    expect(page.locator('.seat-map [data-seat="1"]')).to_have_class("seat seat-booked")
    expect(page.get_by_test_id("seats-label")).to_contain_text("3")
    expect(page.get_by_test_id("nobody-bookable")).to_be_visible()
    screenshot("trip-booked")
    assert Booking.objects.filter(trip=trip, status="booked").count() == 3

    page.get_by_test_id("manifest-link").click()
    table = page.get_by_test_id("manifest-table")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table.locator("tbody tr").first.locator("td").first).to_have_text("1")
    expect(page.locator("[data-print]")).to_be_visible()  # shown by the page's own script

    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.locator("[data-print]")).to_be_hidden()
    expect(page.get_by_test_id("manifest")).to_be_visible()
    border = table.locator("td").first.evaluate("td => getComputedStyle(td).borderTopStyle")
    assert border == "solid"  # the print style sheet's ruled table
    screenshot("manifest-print")
    pdf = page.pdf(format="A4", print_background=False)
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000


def test_an_employer_confirms_an_arrival_on_a_phone_once(
    live_server,
    page,
    hr_officer,
    departed,  # noqa: F811 - the fixture imported above
    accepted,  # noqa: F811
    screenshot,
):
    base = live_server.url
    worker = accepted[0]
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, base, "hr_yuhuan")
    page.goto(f"{base}/transport/arrivals/")
    row = page.locator(f'.arrival-row[data-placement="{worker.pk}"]')
    expect(row.get_by_test_id("arrival-name")).to_have_text(worker.applicant.name)
    screenshot("arrivals-phone")

    form = row.get_by_test_id("arrival-form")
    form.locator('input[name=result][value="pass"]').check()
    form.locator("input[name=notes]").fill("体温36.5℃，无不适")
    fields = {
        "request_key": form.locator("input[name=request_key]").input_value(),
        "csrfmiddlewaretoken": form.locator("input[name=csrfmiddlewaretoken]").input_value(),
        "result": "pass",
        "notes": "体温36.5℃，无不适",
    }
    action = form.get_attribute("action")
    form.get_by_test_id("confirm-arrival").dblclick()  # a double tap

    expect(page.locator(".msg-success, .msg-info").first).to_be_visible()
    expect(page.get_by_test_id("on-post")).to_contain_text(worker.applicant.name)
    screenshot("arrival-confirmed-phone")

    # the same form sent once more (a resent request): still one arrival
    response = page.request.post(f"{base}{action}", form=fields, max_redirects=0)
    assert response.status == 302
    assert ArrivalCheck.objects.filter(placement=worker).count() == 1
    worker.refresh_from_db()
    assert worker.status == Placement.Status.ARRIVED
    page.reload()
    expect(page.locator(".msg-info")).to_be_visible()  # "already recorded"
    expect(page.locator(f'[data-testid=awaiting] [data-placement="{worker.pk}"]')).to_have_count(0)
