"""Under the Content-Security-Policy every page's own scripts still run and the browser
reports no violation; an officer turns on two-step verification and logs in with a code."""

from __future__ import annotations

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.e2e.test_whitelist_browser import log_in, log_out
from tests.factories import TEST_PASSWORD
from tests.transport.conftest import accepted, make_trip, trip  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


# Redoc shows its maker's logo from a CDN; the policy refuses it, as it should.
REFUSED_ON_PURPOSE = ("https://cdn.redoc.ly/",)


def watch_violations(page) -> list[str]:
    """Chromium logs every refused script, style, image or connection to the console."""
    seen: list[str] = []

    def on_console(message) -> None:
        text = message.text
        if "Content Security Policy" in text and not any(
            f"'{origin}" in text for origin in REFUSED_ON_PURPOSE
        ):
            seen.append(text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.append(str(error)))
    return seen


def test_pages_and_api_docs_work_under_the_policy(
    live_server,
    page,
    zhejiang_officer,
    trip,  # noqa: F811 - the fixture imported above
    accepted,  # noqa: F811
):
    base = live_server.url
    violations = watch_violations(page)
    log_in(page, base, "zj_bureau")
    for path in ["/", "/recruitment/postings/", "/transport/trips/", "/transport/statistics/"]:
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
    page.goto(f"{base}/transport/trips/{trip.pk}/")
    expect(page.get_by_test_id("seats-bar")).to_be_visible()
    for path in [f"/transport/trips/{trip.pk}/manifest/", "/health/verify/"]:
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")

    page.goto(f"{base}/api/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=45_000)
    page.goto(f"{base}/api/redoc/")
    expect(page.get_by_text("LaborLink API").first).to_be_visible(timeout=45_000)
    page.wait_for_load_state("networkidle")
    assert violations == []


def test_admin_works_under_the_policy(live_server, page, platform_admin, zhejiang_officer):
    base = live_server.url
    violations = watch_violations(page)
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", platform_admin.username)
    page.fill("#id_password", "Admin-pass-2026!")
    page.locator("input[type=submit]").click()
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(f"{base}/admin/laborlink/user/{zhejiang_officer.pk}/change/")
    expect(page.locator("#user_form")).to_be_visible()
    page.goto(f"{base}/admin/laborlink/cooperationagreement/add/")
    page.wait_for_load_state("networkidle")
    assert violations == []


def test_an_officer_turns_on_two_step_verification_and_logs_in_with_a_code(
    live_server, page, sichuan_officer, screenshot
):
    base = live_server.url
    violations = watch_violations(page)
    log_in(page, base, "sc_bureau")
    page.get_by_test_id("two-step-link").click()
    page.get_by_test_id("start").click()
    expect(page.get_by_test_id("otp-qr").locator("svg")).to_be_visible()
    screenshot("enrol")
    device = TOTPDevice.objects.get(user=sichuan_officer)
    page.locator("#id_token").fill(f"{totp(device.bin_key):06d}")
    page.get_by_test_id("confirm").click()
    expect(page.get_by_test_id("two-step-status")).to_be_visible()
    assert TOTPDevice.objects.get(user=sichuan_officer).confirmed

    log_out(page)
    page.fill("#id_username", "sc_bureau")
    page.fill("#id_password", TEST_PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page.locator("#id_token")).to_be_visible()
    page.goto(f"{base}/recruitment/applicants/")
    expect(page.locator("#id_token")).to_be_visible()  # sent back to the code page
    TOTPDevice.objects.filter(user=sichuan_officer).update(last_t=-1)
    page.locator("#id_token").fill(f"{totp(device.bin_key):06d}")
    page.get_by_test_id("verify").click()
    expect(page).to_have_url(f"{base}/recruitment/applicants/")
    assert violations == []
