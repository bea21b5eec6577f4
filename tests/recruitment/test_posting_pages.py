"""The job-posting pages: list with filters and paging, detail, create/edit form, actions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, override

from laborlink.models import Organization, User
from recruitment.models import JobPosting
from tests.factories import OrganizationFactory, UserFactory, make_posting, posting_values, province

Status = JobPosting.Status
LIST = reverse("recruitment:posting-list")
NEW = reverse("recruitment:posting-new")


def detail_url(posting: JobPosting) -> str:
    return reverse("recruitment:posting-detail", args=[posting.pk])


def action_url(name: str, posting: JobPosting) -> str:
    return reverse(f"recruitment:posting-{name}", args=[posting.pk])


def zh(message: str) -> str:
    """A message as the Chinese (default) page shows it."""
    with override("zh-hans"):
        return gettext(message)


def field_html(html: str, name: str) -> str:
    """The rendered block of one form field (label, input, errors)."""
    start = html.index(f'data-field="{name}"')
    end = html.find('data-field="', start + 1)
    return html[start : end if end != -1 else len(html)]


def listed_titles(response) -> set[str]:
    return {posting.title for posting in response.context["postings"]}


def form_data(**overrides) -> dict:
    """What a browser posts for a posting that passes every check."""
    values = posting_values()
    data = {
        **values,
        "start_date": values["start_date"].isoformat(),
        "deadline": values["deadline"].isoformat(),
        "age_min": 18,
        "age_max": 55,
        "housing_subsidy": 0,
        "transport_subsidy": 0,
        "target_provinces": ["51", "52"],
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def other_employer_officer(db) -> User:
    employer = OrganizationFactory(
        name="宁波某服装有限公司",
        kind=Organization.Kind.EMPLOYER,
        province=province("33"),
        city="宁波市",
    )
    return UserFactory(role=User.Role.HR_OFFICER, organization=employer)


@pytest.fixture
def guangdong_officer(db) -> User:
    employer = OrganizationFactory(
        name="东莞某电子厂", kind=Organization.Kind.EMPLOYER, province=province("44")
    )
    return UserFactory(role=User.Role.HR_OFFICER, organization=employer)


@pytest.fixture
def hr_client(client, hr_officer):
    client.force_login(hr_officer)
    return client


# --- List -----------------------------------------------------------------------------------


def test_list_requires_login(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_list_shows_own_postings_with_fill_bar_and_badges(
    hr_client, hr_officer, other_employer_officer, agreements
):
    mine = make_posting(hr_officer, positions=20, urgency="critical")
    JobPosting.objects.filter(pk=mine.pk).update(positions_filled=5)
    make_posting(other_employer_officer, title="服装缝纫工")

    response = hr_client.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert listed_titles(response) == {"医疗器械装配工"}
    assert "服装缝纫工" not in html
    assert 'class="progress"' in html
    assert 'aria-valuenow="25"' in html and 'value="25"' in html
    assert "badge badge-critical" in html
    assert "badge badge-open" in html
    assert f'href="{detail_url(mine)}"' in html
    assert f'href="{NEW}"' in html


def test_expired_posting_is_labelled_expired(hr_client, hr_officer, agreements):
    posting = make_posting(hr_officer)
    JobPosting.objects.filter(pk=posting.pk).update(
        deadline=timezone.localdate() - timedelta(days=1)
    )
    html = hr_client.get(LIST).content.decode()
    assert "badge badge-expired" in html
    assert zh("Expired") in html
    assert "badge badge-open" not in html


def test_status_filter_distinguishes_draft_open_and_expired(hr_client, hr_officer, agreements):
    make_posting(hr_officer, title="草稿岗位", publish=False)
    make_posting(hr_officer, title="开放岗位")
    expired = make_posting(hr_officer, title="过期岗位")
    JobPosting.objects.filter(pk=expired.pk).update(
        deadline=timezone.localdate() - timedelta(days=1)
    )
    assert listed_titles(hr_client.get(LIST, {"status": "draft"})) == {"草稿岗位"}
    assert listed_titles(hr_client.get(LIST, {"status": "open"})) == {"开放岗位"}
    assert listed_titles(hr_client.get(LIST, {"status": "expired"})) == {"过期岗位"}
    assert len(listed_titles(hr_client.get(LIST))) == 3


def test_urgency_occupation_and_city_filters(hr_client, hr_officer, agreements):
    make_posting(hr_officer, title="焊工", occupation="welder", urgency="critical", city="宁波市")
    make_posting(hr_officer, title="包装工", occupation="packer", urgency="normal", city="台州市")
    assert listed_titles(hr_client.get(LIST, {"urgency": "critical"})) == {"焊工"}
    assert listed_titles(hr_client.get(LIST, {"occupation": "packer"})) == {"包装工"}
    assert listed_titles(hr_client.get(LIST, {"city": "宁波"})) == {"焊工"}


def test_search_matches_title_employer_and_city(
    client, platform_admin, hr_officer, guangdong_officer, agreements
):
    make_posting(hr_officer, title="医疗器械装配工", city="台州市")
    make_posting(guangdong_officer, title="电子装配工", city="东莞市", target_provinces=["45"])
    client.force_login(platform_admin)
    assert listed_titles(client.get(LIST, {"q": "器械"})) == {"医疗器械装配工"}
    assert listed_titles(client.get(LIST, {"q": "东莞某电子厂"})) == {"电子装配工"}
    assert listed_titles(client.get(LIST, {"q": "台州"})) == {"医疗器械装配工"}
    assert listed_titles(client.get(LIST, {"q": "装配工"})) == {"医疗器械装配工", "电子装配工"}


def test_province_and_target_filters(
    client, platform_admin, hr_officer, guangdong_officer, agreements
):
    make_posting(hr_officer, title="浙江四川岗", target_provinces=["51"])
    make_posting(hr_officer, title="浙江贵州岗", target_provinces=["52"])
    make_posting(guangdong_officer, title="广东广西岗", target_provinces=["45"])
    client.force_login(platform_admin)
    assert listed_titles(client.get(LIST, {"province": "44"})) == {"广东广西岗"}
    assert listed_titles(client.get(LIST, {"province": "33"})) == {"浙江四川岗", "浙江贵州岗"}
    assert listed_titles(client.get(LIST, {"target": "52"})) == {"浙江贵州岗"}
    assert listed_titles(client.get(LIST, {"province": "33", "target": "45"})) == set()


def test_hr_officer_has_no_province_filter_but_bureau_has(
    client, hr_officer, zhejiang_officer, agreements
):
    client.force_login(hr_officer)
    assert 'name="province"' not in client.get(LIST).content.decode()
    client.force_login(zhejiang_officer)
    assert 'name="province"' in client.get(LIST).content.decode()


def test_paging_25_a_page_keeps_the_filters(hr_client, hr_officer, agreements):
    for number in range(30):
        make_posting(hr_officer, title=f"岗位{number:02d}", publish=False)
    make_posting(hr_officer, title="已发布岗位")

    first = hr_client.get(LIST, {"status": "draft"})
    assert len(first.context["postings"]) == 25
    assert first.context["page_obj"].paginator.num_pages == 2
    assert "status=draft&amp;page=2" in first.content.decode()

    second = hr_client.get(LIST, {"status": "draft", "page": 2})
    assert len(second.context["postings"]) == 5
    assert "已发布岗位" not in listed_titles(second)
    assert listed_titles(first).isdisjoint(listed_titles(second))


def test_list_query_count_does_not_grow_with_postings(
    hr_client, hr_officer, agreements, django_assert_max_num_queries
):
    for _ in range(2):
        make_posting(hr_officer)
    with django_assert_max_num_queries(20) as few:
        response = hr_client.get(LIST)
    assert len(response.context["postings"]) == 2
    for _ in range(10):
        make_posting(hr_officer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = hr_client.get(LIST, {"urgency": "urgent", "q": "装配"})
    assert len(response.context["postings"]) == 12


def test_health_officer_sees_no_postings(client, health_officer, hr_officer, agreements):
    posting = make_posting(hr_officer)
    client.force_login(health_officer)
    response = client.get(LIST)
    assert response.status_code == 200
    assert listed_titles(response) == set()
    assert f'href="{NEW}"' not in response.content.decode()
    assert client.get(detail_url(posting)).status_code == 404


def test_guizhou_bureau_sees_a_posting_targeted_at_it_once_open(
    client, guizhou_officer, hr_officer, agreements
):
    draft = make_posting(hr_officer, title="贵州定向岗", publish=False, target_provinces=["52"])
    elsewhere = make_posting(hr_officer, title="四川定向岗", target_provinces=["51"])
    client.force_login(guizhou_officer)
    assert listed_titles(client.get(LIST)) == set()
    assert client.get(detail_url(draft)).status_code == 404

    client.force_login(hr_officer)
    client.post(action_url("publish", draft))
    client.force_login(guizhou_officer)
    assert listed_titles(client.get(LIST)) == {"贵州定向岗"}
    page = client.get(detail_url(draft))
    assert page.status_code == 200
    assert page.context["actions"] == {}
    assert action_url("publish", draft) not in page.content.decode()
    assert client.get(detail_url(elsewhere)).status_code == 404


# --- Detail ---------------------------------------------------------------------------------


def test_detail_shows_fields_targets_and_actions_for_the_status(hr_client, hr_officer, agreements):
    posting = make_posting(hr_officer, publish=False, housing_subsidy=300)
    html = hr_client.get(detail_url(posting)).content.decode()
    assert "医疗器械装配工" in html and "5000–7000" in html and "300" in html
    assert "四川省" in html and "贵州省" in html
    assert action_url("edit", posting) in html
    assert action_url("publish", posting) in html
    assert action_url("pause", posting) not in html
    assert action_url("close", posting) in html

    hr_client.post(action_url("publish", posting))
    html = hr_client.get(detail_url(posting)).content.decode()
    assert action_url("publish", posting) not in html
    assert action_url("pause", posting) in html


def test_another_employers_posting_is_404_everywhere(
    client, hr_officer, other_employer_officer, agreements
):
    posting = make_posting(hr_officer, publish=False)
    client.force_login(other_employer_officer)
    assert client.get(detail_url(posting)).status_code == 404
    assert client.get(action_url("edit", posting)).status_code == 404
    assert client.post(action_url("edit", posting), form_data(title="改")).status_code == 404
    assert client.post(action_url("publish", posting)).status_code == 404
    assert client.post(action_url("close", posting), {"confirm": "yes"}).status_code == 404
    posting.refresh_from_db()
    assert posting.status == Status.DRAFT
    assert posting.title == "医疗器械装配工"


# --- Create ---------------------------------------------------------------------------------


def test_new_form_ticks_every_cooperating_province(hr_client, agreements):
    response = hr_client.get(NEW)
    assert response.status_code == 200
    targets = field_html(response.content.decode(), "target_provinces")
    assert re.search(r'value="51"[^>]*checked', targets)
    assert re.search(r'value="52"[^>]*checked', targets)
    assert 'value="45"' not in targets
    html = response.content.decode()
    assert 'type="date"' in field_html(html, "start_date")
    assert 'min="1"' in field_html(html, "positions")


def test_new_posting_is_for_hr_officers_only(client, sichuan_officer, health_officer):
    for user in (sichuan_officer, health_officer):
        client.force_login(user)
        assert client.get(NEW).status_code == 403
        assert client.post(NEW, form_data()).status_code == 403
    assert not JobPosting.objects.exists()


def test_save_draft_creates_a_draft_with_the_ticked_targets(hr_client, agreements):
    response = hr_client.post(NEW, form_data(target_provinces=["52"], draft=""))
    posting = JobPosting.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(posting)
    assert posting.status == Status.DRAFT
    assert set(posting.target_provinces.values_list("code", flat=True)) == {"52"}
    assert posting.start_date == posting_values()["start_date"]


def test_save_and_publish_opens_the_posting(hr_client, agreements):
    response = hr_client.post(NEW, form_data(publish=""), follow=True)
    posting = JobPosting.objects.get()
    assert posting.status == Status.OPEN
    assert response.redirect_chain[-1][0] == detail_url(posting)
    assert "msg-success" in response.content.decode()


def test_save_and_publish_refused_saves_nothing(hr_client, agreements):
    data = form_data(publish="")
    del data["target_provinces"]
    response = hr_client.post(NEW, data)
    assert response.status_code == 400
    assert "target_provinces" in response.context["form"].errors
    assert not JobPosting.objects.exists()


def test_create_form_errors_are_chinese_and_next_to_their_field(hr_client, agreements):
    response = hr_client.post(NEW, form_data(title="", positions="很多"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "该字段是必填项。" in field_html(html, "title")
    assert "输入整数。" in field_html(html, "positions")
    assert 'value="台州市"' in field_html(html, "city")
    assert not JobPosting.objects.exists()


def test_service_refusal_shows_next_to_its_field_and_keeps_input(hr_client, agreements):
    response = hr_client.post(NEW, form_data(wage_min=8000, wage_max=6000, title="夜班装配工"))
    assert response.status_code == 400
    html = response.content.decode()
    expected = zh("The maximum wage must be at least the minimum wage and at most %(max)d yuan.")
    assert expected % {"max": 100_000} in field_html(html, "wage_max")
    assert 'class="field has-error" data-field="wage_max"' in html
    assert 'value="夜班装配工"' in field_html(html, "title")
    assert 'value="8000"' in field_html(html, "wage_min")
    assert not JobPosting.objects.exists()


def test_target_outside_the_cooperating_provinces_is_refused(hr_client, agreements):
    # Another province can only be posted by tampering with the form; it is still refused.
    response = hr_client.post(NEW, form_data(target_provinces=["51", "45"]))
    assert response.status_code == 400
    assert "target_provinces" in response.context["form"].errors
    assert not JobPosting.objects.exists()


def test_form_errors_in_english_when_english_is_chosen(hr_client, agreements):
    hr_client.cookies["django_language"] = "en"
    response = hr_client.post(NEW, form_data(title="", deadline="2099-01-01"))
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "This field is required." in field_html(html, "title")

    response = hr_client.post(NEW, form_data(deadline="2099-01-01"))
    assert "The application deadline cannot be after the start date." in field_html(
        response.content.decode(), "deadline"
    )
    assert not JobPosting.objects.exists()


# --- Edit -----------------------------------------------------------------------------------


def test_edit_form_is_prefilled_and_saves(hr_client, hr_officer, agreements):
    posting = make_posting(hr_officer, target_provinces=["51"])
    html = hr_client.get(action_url("edit", posting)).content.decode()
    assert 'value="医疗器械装配工"' in field_html(html, "title")
    assert f'value="{posting.deadline.isoformat()}"' in field_html(html, "deadline")
    assert re.search(r'value="51"[^>]*checked', field_html(html, "target_provinces"))
    assert not re.search(r'value="52"[^>]*checked', field_html(html, "target_provinces"))

    response = hr_client.post(
        action_url("edit", posting),
        form_data(title="急招装配工", positions=40, target_provinces=["51", "52"]),
    )
    assert response.status_code == 302
    posting.refresh_from_db()
    assert posting.title == "急招装配工"
    assert posting.positions == 40
    assert set(posting.target_provinces.values_list("code", flat=True)) == {"51", "52"}


def test_edit_refuses_fewer_positions_than_filled(hr_client, hr_officer, agreements):
    posting = make_posting(hr_officer, positions=20)
    JobPosting.objects.filter(pk=posting.pk).update(positions_filled=12)
    response = hr_client.post(action_url("edit", posting), form_data(positions=10))
    assert response.status_code == 400
    assert "positions" in response.context["form"].errors
    assert 'value="10"' in field_html(response.content.decode(), "positions")
    posting.refresh_from_db()
    assert posting.positions == 20


def test_closed_posting_cannot_be_edited(hr_client, hr_officer, agreements):
    posting = make_posting(hr_officer)
    hr_client.post(action_url("close", posting), {"confirm": "yes"})
    response = hr_client.get(action_url("edit", posting))
    assert response.status_code == 302
    assert response["Location"] == detail_url(posting)


def test_bureau_cannot_edit_a_posting_it_can_see(client, zhejiang_officer, hr_officer, agreements):
    posting = make_posting(hr_officer)
    client.force_login(zhejiang_officer)
    assert client.get(detail_url(posting)).status_code == 200
    assert client.get(action_url("edit", posting)).status_code == 403


# --- Publish / pause / close ----------------------------------------------------------------


def test_publish_pause_close_from_the_detail_page(hr_client, hr_officer, agreements):
    posting = make_posting(hr_officer, publish=False)
    assert hr_client.get(action_url("publish", posting)).status_code == 405

    response = hr_client.post(action_url("publish", posting), follow=True)
    assert response.redirect_chain[-1][0] == detail_url(posting)
    assert "msg-success" in response.content.decode()
    posting.refresh_from_db()
    assert posting.status == Status.OPEN

    hr_client.post(action_url("pause", posting))
    posting.refresh_from_db()
    assert posting.status == Status.PAUSED

    hr_client.post(action_url("close", posting))
    posting.refresh_from_db()
    assert posting.status == Status.PAUSED, "closing needs the confirmation box"

    hr_client.post(action_url("close", posting), {"confirm": "yes"})
    posting.refresh_from_db()
    assert posting.status == Status.CLOSED


def test_refused_action_shows_the_services_message(hr_client, hr_officer, agreements):
    posting = make_posting(hr_officer)
    response = hr_client.post(action_url("publish", posting), follow=True)
    html = response.content.decode()
    assert "msg-error" in html
    assert zh("Only a draft or paused posting can be published.") in html
    posting.refresh_from_db()
    assert posting.status == Status.OPEN


def test_actions_need_the_csrf_token(client, hr_officer, agreements):
    from django.test import Client

    posting = make_posting(hr_officer, publish=False)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(hr_officer)
    assert strict.post(action_url("publish", posting)).status_code == 403
    posting.refresh_from_db()
    assert posting.status == Status.DRAFT
