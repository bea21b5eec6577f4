"""A Sichuan officer registers an applicant and approves them for Zhejiang; a Zhejiang
officer countersigns. Real Chromium, real server, real database."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from recruitment.models import WhitelistEntry
from tests.factories import TEST_PASSWORD, national_id_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page.get_by_test_id("welcome")).to_be_visible()


def log_out(page) -> None:
    page.locator("header form[action$='/logout/'] button").click()


def test_register_approve_and_countersign(
    live_server, page, sichuan_officer, zhejiang_officer, agreements, screenshot
):
    base = live_server.url
    number = national_id_for("511602", date(1990, 5, 20), 31)
    log_in(page, base, "sc_bureau")
    page.goto(f"{base}/recruitment/applicants/new/")
    page.fill("#id_name", "周大勇")
    page.fill("#id_national_id", number.lower())
    page.fill("#id_phone", "139 1234 5678")
    page.check("input[name=skills][value=assembler]")
    page.check("#id_consent")
    page.locator("form button[type=submit].primary").click()

    expect(page.get_by_test_id("applicant-name")).to_have_text("周大勇")
    masked = number[:4] + "*" * 10 + number[-4:]
    expect(page.get_by_test_id("national-id")).to_have_text(masked)
    assert number not in page.content()
    screenshot("applicant-registered")

    page.goto(f"{base}/recruitment/whitelist/review/?province=33")
    page.get_by_role("checkbox", name="周大勇").check()
    page.select_option("#id_decision", "approve")
    page.locator("#review-form fieldset button[type=submit]").click()
    expect(page.locator(".msg-success")).to_be_visible()
    expect(page.get_by_test_id("review-table")).to_have_count(0)
    log_out(page)

    log_in(page, base, "zj_bureau")
    page.goto(f"{base}/recruitment/whitelist/countersign/")
    page.get_by_role("checkbox", name="周大勇").check()
    page.locator("button[name=action][value=countersign]").click()
    expect(page.locator(".msg-success")).to_be_visible()
    expect(page.locator(".badge-countersigned").first).to_be_visible()
    screenshot("whitelist-countersigned")
    entry = WhitelistEntry.objects.get()
    assert (entry.status, entry.countersign) == ("approved", "countersigned")
