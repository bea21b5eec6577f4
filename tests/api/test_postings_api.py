"""The postings endpoint: an employer manages its postings through the services; bureaus see
their province's and the open ones targeted at them; filters; constant query count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from laborlink.models import Organization, User
from recruitment.models import JobPosting
from tests.api.masked_client import api_as
from tests.factories import OrganizationFactory, UserFactory, make_posting, posting_values, province

pytestmark = pytest.mark.django_db

URL = "/api/v1/postings/"


def _body(**overrides) -> dict:
    values = posting_values(**overrides)
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in values.items()}


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def other_hr_officer(db) -> User:
    employer = OrganizationFactory(
        name="宁波某电子有限公司", kind=Organization.Kind.EMPLOYER, province=province("33")
    )
    return UserFactory(role=User.Role.HR_OFFICER, organization=employer)


def test_hr_officer_creates_edits_publishes_pauses_and_closes_a_posting(hr_officer, agreements):
    api = api_as(hr_officer)

    created = api.post(URL, _body(title="  装配工  ", housing_provided=True))
    assert created.status_code == 201, created.content
    posting = created.json()
    assert posting["status"] == "draft"
    assert posting["title"] == "装配工"
    assert posting["employer"] == {
        "id": hr_officer.organization_id,
        "name": "玉环康达医疗器械有限公司",
    }
    assert posting["province"] == "33"
    assert sorted(posting["target_provinces"]) == ["51", "52"]
    assert posting["housing_provided"] is True
    assert posting["positions_remaining"] == 20 and posting["fill_percent"] == 0
    assert posting["occupation_label"]
    url = f"{URL}{posting['id']}/"

    edited = api.patch(url, {"positions": 30, "target_provinces": ["51"]})
    assert edited.status_code == 200, edited.content
    assert edited.json()["positions"] == 30
    assert edited.json()["target_provinces"] == ["51"]
    assert edited.json()["title"] == "装配工"

    published = api.post(f"{url}publish/")
    assert published.status_code == 200, published.content
    assert published.json()["status"] == "open"
    assert published.json()["published_at"] is not None

    assert api.post(f"{url}pause/").json()["status"] == "paused"
    assert api.post(f"{url}publish/").json()["status"] == "open"
    closed = api.post(f"{url}close/")
    assert closed.json()["status"] == "closed"

    refused = api.patch(url, {"title": "新标题"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "closed"
    assert JobPosting.objects.get(pk=posting["id"]).title == "装配工"


def test_full_update_replaces_the_fields(hr_officer, agreements):
    posting = make_posting(hr_officer, publish=False)
    api = api_as(hr_officer)
    response = api.put(f"{URL}{posting.pk}/", _body(title="电子装配工", wage_max=8000))
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "电子装配工"
    assert response.json()["wage_max"] == 8000


def test_posting_targeted_at_a_province_without_agreement_is_refused_in_chinese(
    hr_officer, agreements
):
    response = api_as(hr_officer).post(URL, _body(target_provinces=["51", "44"]))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "no_agreement"
    assert "广东省" in error["message"]
    assert "四川" not in error["message"]
    assert "target_provinces" in error["details"]
    assert not JobPosting.objects.exists()


def test_positions_cannot_drop_below_those_filled(hr_officer, agreements):
    posting = make_posting(hr_officer)
    JobPosting.objects.filter(pk=posting.pk).update(positions_filled=5)
    response = api_as(hr_officer).patch(f"{URL}{posting.pk}/", {"positions": 3})
    assert response.status_code == 400
    error = response.json()["error"]
    assert "positions" in error["details"]
    assert "5" in error["message"]
    posting.refresh_from_db()
    assert posting.positions == 20


def test_malformed_input_is_refused_with_field_details(hr_officer, agreements):
    body = _body(start_date="next week")
    del body["title"]
    response = api_as(hr_officer).post(URL, body)
    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert {"title", "start_date"} <= set(details)


def test_a_bureau_cannot_create_or_publish_postings(sichuan_officer, hr_officer, agreements):
    posting = make_posting(hr_officer, publish=False)
    api = api_as(sichuan_officer)
    assert api.post(URL, _body()).status_code == 403
    # A draft of another province is not even visible.
    assert api.post(f"{URL}{posting.pk}/publish/").status_code == 404
    posting.refresh_from_db()
    assert posting.status == "draft"


def test_another_employer_neither_sees_nor_changes_a_posting(
    hr_officer, other_hr_officer, agreements
):
    posting = make_posting(hr_officer)
    api = api_as(other_hr_officer)
    assert api.get(URL).json()["results"] == []
    assert api.get(f"{URL}{posting.pk}/").status_code == 404
    assert api.patch(f"{URL}{posting.pk}/", {"title": "x"}).status_code == 404
    assert api.post(f"{URL}{posting.pk}/close/").status_code == 404
    posting.refresh_from_db()
    assert posting.status == "open"


def test_exporting_bureau_sees_only_open_postings_targeted_at_its_province(
    hr_officer, sichuan_officer, guizhou_officer, zhejiang_officer, agreements
):
    for_sichuan = make_posting(hr_officer, target_provinces=["51"])
    for_guizhou = make_posting(hr_officer, target_provinces=["52"])
    draft = make_posting(hr_officer, publish=False, target_provinces=["51"])

    assert _ids(api_as(sichuan_officer).get(URL)) == {for_sichuan.pk}
    assert _ids(api_as(guizhou_officer).get(URL)) == {for_guizhou.pk}
    assert api_as(guizhou_officer).get(f"{URL}{for_sichuan.pk}/").status_code == 404
    assert api_as(sichuan_officer).get(f"{URL}{draft.pk}/").status_code == 404
    # The employer's own province sees all of its postings, drafts included.
    assert _ids(api_as(zhejiang_officer).get(URL)) == {for_sichuan.pk, for_guizhou.pk, draft.pk}


def test_postings_are_filtered_searched_and_ordered(hr_officer, agreements):
    today = timezone.localdate()
    urgent = make_posting(hr_officer, title="注塑工", urgency="critical", caring_job=True)
    later = make_posting(
        hr_officer,
        title="包装工",
        occupation="packer",
        city="宁波市",
        urgency="normal",
        start_date=today + timedelta(days=60),
        target_provinces=["52"],
    )
    draft = make_posting(hr_officer, publish=False, title="仓管员")
    expired = make_posting(hr_officer, title="叉车司机")
    JobPosting.objects.filter(pk=expired.pk).update(deadline=today - timedelta(days=1))
    api = api_as(hr_officer)

    assert _ids(api.get(URL, {"status": "draft"})) == {draft.pk}
    assert _ids(api.get(URL, {"open": "true"})) == {urgent.pk, later.pk}
    assert _ids(api.get(URL, {"open": "false"})) == {draft.pk, expired.pk}
    assert _ids(api.get(URL, {"expired": "true"})) == {expired.pk}
    assert _ids(api.get(URL, {"urgency": "critical"})) == {urgent.pk}
    assert _ids(api.get(URL, {"occupation": "packer"})) == {later.pk}
    assert _ids(api.get(URL, {"city": "宁波市"})) == {later.pk}
    assert _ids(api.get(URL, {"caring_job": "true"})) == {urgent.pk}
    assert _ids(api.get(URL, {"target_province": "52"})) == {
        urgent.pk,
        later.pk,
        draft.pk,
        expired.pk,
    }
    # as on the pages, "open" leaves out postings past their deadline ("expired")
    assert _ids(api.get(URL, {"target_province": "51", "status": "open"})) == {urgent.pk}
    assert _ids(api.get(URL, {"province": "51"})) == set()
    after = (today + timedelta(days=45)).isoformat()
    assert _ids(api.get(URL, {"start_date_after": after})) == {later.pk}
    assert _ids(api.get(URL, {"search": "包装"})) == {later.pk}
    assert _ids(api.get(URL, {"search": "康达"})) == {urgent.pk, later.pk, draft.pk, expired.pk}
    ordered = api.get(URL, {"ordering": "-start_date"}).json()["results"]
    assert ordered[0]["id"] == later.pk
    shown = api.get(f"{URL}{expired.pk}/").json()
    assert shown["status"] == "open" and shown["is_expired"] is True
    assert shown["status_display"] != shown["status"]


def test_bad_filter_value_is_a_400_in_the_one_error_shape(hr_officer):
    response = api_as(hr_officer).get(URL, {"status": "nonsense"})
    assert response.status_code == 400
    assert "status" in response.json()["error"]["details"]


def _list_queries(api) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(URL)
    assert response.status_code == 200
    return len(queries.captured_queries), response.json()["count"]


def test_list_query_count_does_not_grow_with_rows(hr_officer, sichuan_officer, agreements):
    employer, bureau = api_as(hr_officer), api_as(sichuan_officer)
    for _ in range(2):
        make_posting(hr_officer, target_provinces=["51", "52"])
    employer_few, count = _list_queries(employer)
    bureau_few, bureau_count = _list_queries(bureau)
    assert (count, bureau_count) == (2, 2)
    for _ in range(10):
        make_posting(hr_officer, target_provinces=["51", "52"])
    assert _list_queries(employer) == (employer_few, 12)
    assert _list_queries(bureau) == (bureau_few, 12)
