"""A Sichuan health officer issues a certificate in the browser and prints it; a phone
verifies a screenshot of its QR code. Real Chromium, real server, real database."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from health import services
from health.models import HealthCertificate, VerificationLog
from tests.factories import TEST_PASSWORD, make_applicant

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page.get_by_test_id("welcome")).to_be_visible()


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_issue_print_and_verify_on_a_phone(
    live_server, page, health_officer, sichuan_officer, screenshot
):
    base = live_server.url
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    applicant = make_applicant(sichuan_officer, name="周小梅")
    log_in(page, base, "sc_health")

    page.goto(f"{base}/health/applicants/")
    row = page.get_by_test_id("examine-table").locator("tr", has_text="周小梅")
    expect(row.locator("[data-certificate=none]")).to_be_visible()
    screenshot("applicants-to-examine")
    row.locator(f"a[href$='/health/applicants/{applicant.pk}/issue/']").click()

    form = page.get_by_test_id("issue-form")
    expect(form.locator("#id_examined_on")).not_to_have_value("")
    expect(form.locator("#id_valid_until")).not_to_have_value("")
    form.locator("input[name=result][value=fit]").check()
    form.locator("#id_notes").fill("血常规正常。")
    form.locator("button[type=submit]").click()

    expect(page.get_by_test_id("certificate")).to_be_visible()
    certificate = HealthCertificate.objects.get()
    expect(page.get_by_test_id("certificate-number")).to_have_text(certificate.number)
    expect(page.get_by_test_id("certificate-name")).to_have_text("周小梅")
    qr = page.get_by_test_id("certificate-qr").locator("svg")
    expect(qr).to_be_visible()
    expect(page.get_by_test_id("token")).to_contain_text(".")
    expect(page.locator("button[data-print]")).to_be_visible()  # shown by health.js
    expect(page.get_by_test_id("examiner-notes")).to_contain_text("血常规正常。")
    screenshot("certificate-screen")
    qr_png = qr.screenshot()

    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.locator("footer.footer")).to_be_hidden()
    expect(page.locator("button[data-print]")).to_be_hidden()
    expect(page.get_by_test_id("examiner-notes")).to_be_hidden()
    expect(page.get_by_test_id("revoke-form")).to_be_hidden()
    expect(qr).to_be_visible()
    screenshot("certificate-print")
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1  # one A4 sheet
    page.emulate_media(media="screen")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(qr).to_be_visible()
    assert fits_the_width(page)
    screenshot("certificate-phone")

    page.locator("header form[action$='/logout/'] button").click()
    page.goto(f"{base}/health/verify/")
    assert fits_the_width(page)
    page.set_input_files(
        "input[name=image]", files=[{"name": "qr.png", "mimeType": "image/png", "buffer": qr_png}]
    )
    page.get_by_test_id("verify-form").locator("button[type=submit]").click()
    verdict = page.get_by_test_id("verdict")
    expect(verdict).to_have_attribute("data-code", "valid")
    expect(verdict).to_contain_text(certificate.number)
    expect(verdict).to_contain_text("周小梅")
    assert fits_the_width(page)
    screenshot("verify-phone")
    log = VerificationLog.objects.get()
    assert (log.actor, log.channel, log.outcome) == (None, "page", "valid")
    assert errors == []


# A stand-in for a phone browser's barcode detector and camera (desktop Linux Chromium has
# neither): the camera is a blank canvas stream, the detector "sees" the given text.
FAKE_CAMERA = """
window.BarcodeDetector = class {
  static async getSupportedFormats() { return ["qr_code"]; }
  constructor(options) { window.__detectorFormats = options.formats; }
  async detect() { return [{ rawValue: %s, format: "qr_code" }]; }
};
navigator.mediaDevices.getUserMedia = async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 320; canvas.height = 240;
  canvas.getContext("2d").fillRect(0, 0, 320, 240);
  return canvas.captureStream(5);
};
"""


def test_scan_with_the_camera_where_the_browser_can(
    live_server, browser, health_officer, sichuan_officer
):
    today = timezone.localdate()
    certificate = services.certificate_issue(
        actor=health_officer,
        applicant=make_applicant(sichuan_officer, name="钱多多"),
        examined_on=today,
        result="fit",
        valid_until=today + timedelta(days=30),
    )
    token = services.certificate_token(certificate)
    verify_url = f"{live_server.url}/health/verify/"

    plain = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = plain.new_page()
    page.goto(verify_url)
    if not page.evaluate("'BarcodeDetector' in window"):
        expect(page.locator("[data-scan-start]")).to_be_hidden()
    plain.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    phone.add_init_script(FAKE_CAMERA % json.dumps(token))
    page = phone.new_page()
    page.goto(verify_url)
    page.locator("[data-scan-start]").click()
    verdict = page.get_by_test_id("verdict")
    expect(verdict).to_have_attribute("data-code", "valid")
    expect(verdict).to_contain_text("钱多多")
    assert page.url == verify_url  # posted: the token is in no URL
    phone.close()
    assert VerificationLog.objects.get().outcome == "valid"
