"""Every demo log-in printed by `dev.py run` works in a real browser, in Chinese."""

import pytest
from django.conf import settings
from django.utils import translation
from playwright.sync_api import expect

from laborlink.demo import demo_logins, load_demo_data
from laborlink.models import User

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_each_demo_role_logs_in_and_sees_its_role_in_chinese(live_server, page):
    load_demo_data()
    logins = demo_logins()
    assert len(logins) == 9
    for username, _role, _org in logins:
        user = User.objects.select_related("organization").get(username=username)
        with translation.override("zh-hans"):
            role_zh = str(user.get_role_display())
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(settings.DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_test_id("role")).to_have_text(role_zh)
        if user.organization:
            expect(page.get_by_test_id("organization")).to_have_text(user.organization.name)
        page.get_by_role("button", name="退出登录").click()
        expect(page).to_have_url(f"{live_server.url}/accounts/login/")
