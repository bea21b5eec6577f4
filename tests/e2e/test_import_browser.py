"""A bureau officer uploads a file in a real Chromium, sees the dry run, starts the import,
and the page follows it (polling script) until a real Celery worker has finished."""

import pytest
from playwright.sync_api import expect

from recruitment.models import Applicant
from tests.factories import TEST_PASSWORD
from tests.recruitment.import_files import csv_bytes, row

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("whoami")).to_be_visible()


def _upload(page, live_server, content: bytes) -> None:
    page.goto(f"{live_server.url}/recruitment/imports/new/")
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "名单.csv", "mimeType": "text/csv", "buffer": content}],
    )
    page.locator("form button.primary").click()


def test_dry_run_shows_the_bad_rows_in_chinese(live_server, page, sichuan_officer, screenshot):
    _log_in(page, live_server, sichuan_officer.username)
    _upload(page, live_server, csv_bytes([row(), row(national_id="510104199003071230")]))

    table = page.get_by_test_id("error-table")
    expect(table).to_contain_text("身份证号码校验位不正确，请与身份证原件核对。")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("start")).to_have_count(0)
    screenshot("import-errors")


def test_import_runs_on_a_worker_and_the_page_follows_it(
    live_server, page, sichuan_officer, screenshot
):
    from celery.contrib.testing.worker import start_worker

    from laborlink.celery import app

    _log_in(page, live_server, sichuan_officer.username)
    _upload(page, live_server, csv_bytes([row(), row(), row()]))
    expect(page.get_by_test_id("total-rows")).to_have_text("3")

    page.get_by_test_id("start").click()
    # Queued, no worker yet: the bar and the no-script refresh link are shown.
    expect(page.get_by_test_id("import-progress")).to_have_attribute("aria-valuenow", "0")
    expect(page.get_by_test_id("refresh")).to_be_visible()
    screenshot("import-queued")
    with start_worker(app, perform_ping_check=False, pool="solo", concurrency=1):
        # The script polls the progress endpoint and reloads the page once the import ends.
        expect(page.get_by_test_id("created")).to_have_text("3", timeout=30_000)
    expect(page.get_by_test_id("refresh")).to_have_count(0)
    expect(page.get_by_test_id("import-progress")).to_have_attribute("aria-valuenow", "100")
    assert Applicant.objects.filter(registering_bureau=sichuan_officer.organization).count() == 3
    screenshot("import-done")
