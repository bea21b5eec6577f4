"""An applicant opens the offer link from the SMS on a phone-sized screen and accepts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from matching import offers, services
from matching.models import Match

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_applicant_accepts_an_offer_on_a_phone(
    live_server, page, sichuan_officer, market, screenshot
):
    run = services.run_execute(services.run_request(actor=sichuan_officer).pk)
    match = Match.objects.select_related("posting").get(run=run, applicant__name="甲工")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/offer/{offers.offer_token(match)}/")
    expect(page.get_by_test_id("offer-title")).to_have_text(match.posting.title)
    expect(page.get_by_text("玉环康达医疗器械有限公司")).to_be_visible()
    screenshot("offer-phone")
    page.get_by_test_id("accept").click()
    expect(page.get_by_test_id("offer-answer")).to_contain_text("您已接受该岗位")
    screenshot("offer-accepted-phone")
    match.refresh_from_db()
    assert match.status == "accepted" and match.placement is not None
