"""A real Chromium: the HR officer posts an urgent job, fixes a refused wage range, publishes
it and finds it in the list with its fill-progress bar."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.translation import gettext, override
from playwright.sync_api import expect

from recruitment.models import JobPosting
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WAGE_RANGE_MESSAGE = "The maximum wage must be at least the minimum wage and at most %(max)d yuan."


def test_hr_officer_creates_fixes_and_publishes_a_posting(
    live_server, page, hr_officer, agreements, screenshot
):
    today = timezone.localdate()
    with override("zh-hans"):
        wage_error = gettext(WAGE_RANGE_MESSAGE) % {"max": 100_000}

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("hr_yuhuan")
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("welcome")).to_be_visible()

    page.goto(f"{live_server.url}/recruitment/postings/new/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.fill("#id_title", "医疗器械装配工（急招）")
    page.select_option("#id_occupation", "medical_device_assembler")
    page.select_option("#id_urgency", "critical")
    page.fill("#id_positions", "30")
    page.fill("#id_wage_min", "8000")
    page.fill("#id_wage_max", "6000")
    page.fill("#id_start_date", (today + timedelta(days=30)).isoformat())
    page.fill("#id_deadline", (today + timedelta(days=20)).isoformat())
    page.fill("#id_city", "台州市")
    expect(page.locator('input[name="target_provinces"][value="51"]')).to_be_checked()
    expect(page.locator('input[name="target_provinces"][value="52"]')).to_be_checked()
    page.locator('button[name="publish"]').click()

    wage_max = page.locator('[data-field="wage_max"]')
    expect(wage_max).to_have_class("field has-error")
    expect(wage_max.locator(".error")).to_have_text(wage_error)
    expect(page.locator("#id_title")).to_have_value("医疗器械装配工（急招）")
    expect(page.locator("#id_wage_min")).to_have_value("8000")
    screenshot("wage-error")
    assert not JobPosting.objects.exists()

    page.fill("#id_wage_max", "9000")
    page.locator('button[name="publish"]').click()

    expect(page.locator("h1")).to_have_text("医疗器械装配工（急招）")
    expect(page.get_by_test_id("status")).to_have_class("badge badge-open")
    expect(page.get_by_test_id("targets")).to_have_text("四川省、贵州省")
    posting = JobPosting.objects.get()
    assert posting.status == JobPosting.Status.OPEN
    assert (posting.wage_min, posting.wage_max) == (8000, 9000)

    page.goto(f"{live_server.url}/recruitment/postings/")
    row = page.locator(f'tr[data-posting="{posting.pk}"]')
    expect(row.get_by_role("link", name="医疗器械装配工（急招）")).to_be_visible()
    expect(row.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "0")
    expect(row.locator(".progress-label")).to_contain_text("30")
    expect(row.get_by_test_id("urgency")).to_have_class("badge badge-critical")
    screenshot("list")
