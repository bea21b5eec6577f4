"""A real Chromium logs in, sees the home page in Chinese and switches to English."""

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_log_in_see_chinese_home_and_switch_to_english(live_server, page, hr_officer, screenshot):
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.get_by_label("用户名").fill("hr_yuhuan")
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()

    expect(page.get_by_test_id("welcome")).to_contain_text("欢迎")
    expect(page.get_by_test_id("role")).to_have_text("人事专员")
    expect(page.get_by_test_id("organization")).to_have_text("玉环康达医疗器械有限公司")
    screenshot("home-zh")

    page.select_option("#language-select", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("welcome")).to_contain_text("Welcome")
    expect(page.get_by_test_id("role")).to_have_text("HR officer")
    screenshot("home-en")


def test_wrong_password_shows_the_error_in_place(live_server, page, hr_officer):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("hr_yuhuan")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("请输入一个正确的")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
