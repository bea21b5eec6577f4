"""The whitelist endpoint: the exporting bureau approves, rejects and revokes in bulk, the
importing bureau countersigns or returns, each through the services; the review queue;
history; filters; constant query count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from recruitment.models import WhitelistEntry
from recruitment.services import whitelist_approve, whitelist_countersign
from tests.api.masked_client import api_as
from tests.factories import make_applicant

pytestmark = pytest.mark.django_db

URL = "/api/v1/whitelist/"
QUEUE = f"{URL}review-queue/"


def _expiry(days: int = 90) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_approval_countersigned_by_the_importing_bureau_becomes_effective(
    sichuan_officer, zhejiang_officer, agreements
):
    applicant = make_applicant(sichuan_officer, name="周八")
    approved = api_as(sichuan_officer).post(
        f"{URL}approve/",
        {
            "applicants": [applicant.pk],
            "importing_province": "33",
            "expires_on": _expiry(),
            "reason": "体检合格",
        },
    )
    assert approved.status_code == 200, approved.content
    [entry] = approved.json()
    assert entry["status"] == "approved" and entry["countersign"] == "awaiting"
    assert entry["is_effective"] is False
    assert entry["decided_by"] == sichuan_officer.full_name
    assert entry["applicant"]["name"] == "周八"
    assert entry["applicant"]["national_id_masked"] == applicant.national_id_masked

    importing = api_as(zhejiang_officer)
    assert _ids(importing.get(URL, {"countersign": "awaiting"})) == {entry["id"]}
    signed = importing.post(f"{URL}countersign/", {"entries": [entry["id"]]})
    assert signed.status_code == 200, signed.content
    [entry] = signed.json()
    assert entry["countersign"] == "countersigned"
    assert entry["countersigned_by"] == zhejiang_officer.full_name
    assert entry["is_effective"] is True
    assert [(h["action"], h["actor"]) for h in entry["history"]] == [
        ("approve", sichuan_officer.full_name),
        ("countersign", zhejiang_officer.full_name),
    ]
    assert entry["history"][0]["reason"] == "体检合格"
    detail = api_as(sichuan_officer).get(f"{URL}{entry['id']}/").json()
    assert detail["is_effective"] is True and len(detail["history"]) == 2


def test_returned_entry_goes_back_to_the_review_queue(
    sichuan_officer, zhejiang_officer, agreements
):
    applicant = make_applicant(sichuan_officer)
    exporting = api_as(sichuan_officer)
    assert _ids(exporting.get(QUEUE, {"province": "33"})) == {applicant.pk}
    [entry] = whitelist_approve(
        actor=sichuan_officer,
        applicants=[applicant.pk],
        importing_province="33",
        expires_on=timezone.localdate() + timedelta(days=60),
    )
    assert _ids(exporting.get(QUEUE, {"province": "33"})) == set()
    # A province without an agreement in force has no queue.
    refused = exporting.get(QUEUE, {"province": "44"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "no_agreement"

    returned = api_as(zhejiang_officer).post(
        f"{URL}return/", {"entries": [entry.pk], "reason": "照片不清晰"}
    )
    assert returned.status_code == 200, returned.content
    [shown] = returned.json()
    assert (shown["status"], shown["countersign"]) == ("pending", "returned")
    assert shown["countersign_reason"] == "照片不清晰"
    assert shown["history"][-1]["action"] == "return"
    assert _ids(exporting.get(QUEUE, {"province": "33"})) == {applicant.pk}
    assert exporting.get(QUEUE, {"province": "33"}).json()["results"][0]["name"] == "张三"


def test_return_needs_a_reason(sichuan_officer, zhejiang_officer, agreements):
    applicant = make_applicant(sichuan_officer)
    [entry] = whitelist_approve(
        actor=sichuan_officer,
        applicants=[applicant.pk],
        importing_province="33",
        expires_on=timezone.localdate() + timedelta(days=60),
    )
    response = api_as(zhejiang_officer).post(f"{URL}return/", {"entries": [entry.pk]})
    assert response.status_code == 400
    assert "reason" in response.json()["error"]["details"]
    entry.refresh_from_db()
    assert entry.countersign == "awaiting"


def test_bulk_approval_of_three_applicants(sichuan_officer, agreements):
    applicants = [make_applicant(sichuan_officer) for _ in range(3)]
    response = api_as(sichuan_officer).post(
        f"{URL}approve/",
        {
            "applicants": [a.pk for a in applicants],
            "importing_province": "33",
            "expires_on": _expiry(),
        },
    )
    assert response.status_code == 200, response.content
    rows = response.json()
    assert sorted(r["applicant"]["id"] for r in rows) == sorted(a.pk for a in applicants)
    assert {r["status"] for r in rows} == {"approved"}
    assert WhitelistEntry.objects.filter(status="approved", importing_province="33").count() == 3


def test_bulk_approval_is_all_or_nothing(sichuan_officer, agreements):
    with_consent = make_applicant(sichuan_officer)
    without = make_applicant(sichuan_officer, name="吴九", consent=False)
    response = api_as(sichuan_officer).post(
        f"{URL}approve/",
        {
            "applicants": [with_consent.pk, without.pk],
            "importing_province": "33",
            "expires_on": _expiry(),
        },
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "no_consent"
    assert "吴九" in response.json()["error"]["message"]
    assert not WhitelistEntry.objects.filter(status="approved").exists()


def test_approval_for_a_province_without_agreement_is_refused(sichuan_officer, agreements):
    applicant = make_applicant(sichuan_officer)
    response = api_as(sichuan_officer).post(
        f"{URL}approve/",
        {"applicants": [applicant.pk], "importing_province": "44", "expires_on": _expiry()},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "no_agreement"


def test_reject_without_reason_is_refused_with_a_message(sichuan_officer, agreements):
    applicant = make_applicant(sichuan_officer)
    api = api_as(sichuan_officer)
    response = api.post(f"{URL}reject/", {"applicants": [applicant.pk], "importing_province": "33"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"]
    assert error["details"]["reason"] == [error["message"]]
    assert not WhitelistEntry.objects.filter(status="rejected").exists()

    rejected = api.post(
        f"{URL}reject/",
        {"applicants": [applicant.pk], "importing_province": "33", "reason": "未通过面试"},
    )
    assert rejected.status_code == 200, rejected.content
    assert rejected.json()[0]["status"] == "rejected"
    assert rejected.json()[0]["reason"] == "未通过面试"


def test_revoke_withdraws_an_approval(sichuan_officer, zhejiang_officer, agreements):
    applicant = make_applicant(sichuan_officer)
    [entry] = whitelist_approve(
        actor=sichuan_officer,
        applicants=[applicant.pk],
        importing_province="33",
        expires_on=timezone.localdate() + timedelta(days=60),
    )
    whitelist_countersign(actor=zhejiang_officer, entries=[entry.pk])
    api = api_as(sichuan_officer)
    assert api.post(f"{URL}revoke/", {"entries": [entry.pk]}).status_code == 400
    response = api.post(f"{URL}revoke/", {"entries": [entry.pk], "reason": "本人放弃"})
    assert response.status_code == 200, response.content
    [shown] = response.json()
    assert shown["status"] == "revoked" and shown["is_effective"] is False
    # A revoked entry is no longer shared with the importing bureau.
    assert api_as(zhejiang_officer).get(f"{URL}{entry.pk}/").status_code == 404


def test_only_the_right_side_may_decide(
    sichuan_officer, guizhou_officer, zhejiang_officer, agreements
):
    applicant = make_applicant(sichuan_officer)
    body = {"applicants": [applicant.pk], "importing_province": "33", "expires_on": _expiry()}
    assert api_as(guizhou_officer).post(f"{URL}approve/", body).status_code == 404
    assert api_as(zhejiang_officer).post(f"{URL}approve/", body).status_code == 404
    assert not WhitelistEntry.objects.exists()

    [entry] = whitelist_approve(
        actor=sichuan_officer,
        applicants=[applicant.pk],
        importing_province="33",
        expires_on=timezone.localdate() + timedelta(days=60),
    )
    # The exporting bureau cannot countersign its own approval; Guizhou sees nothing.
    assert (
        api_as(sichuan_officer).post(f"{URL}countersign/", {"entries": [entry.pk]}).status_code
        == 404
    )
    guizhou = api_as(guizhou_officer)
    assert guizhou.get(URL).json()["results"] == []
    assert guizhou.get(f"{URL}{entry.pk}/").status_code == 404
    assert guizhou.post(f"{URL}countersign/", {"entries": [entry.pk]}).status_code == 404
    assert guizhou.get(QUEUE, {"province": "33"}).json()["results"] == []
    entry.refresh_from_db()
    assert entry.countersign == "awaiting"


def test_importing_bureau_sees_only_approvals_for_its_province_and_filters_work(
    sichuan_officer, guizhou_officer, zhejiang_officer, agreements
):
    today = timezone.localdate()
    soon, later, pending, rejected = (make_applicant(sichuan_officer) for _ in range(4))
    gz = make_applicant(guizhou_officer, region="520102")
    [soon_entry] = whitelist_approve(
        actor=sichuan_officer,
        applicants=[soon.pk],
        importing_province="33",
        expires_on=today + timedelta(days=10),
    )
    [later_entry] = whitelist_approve(
        actor=sichuan_officer,
        applicants=[later.pk],
        importing_province="33",
        expires_on=today + timedelta(days=200),
    )
    [gz_entry] = whitelist_approve(
        actor=guizhou_officer,
        applicants=[gz.pk],
        importing_province="33",
        expires_on=today + timedelta(days=30),
    )
    WhitelistEntry.objects.create(applicant=pending, importing_province_id="33")
    api_as(sichuan_officer).post(
        f"{URL}reject/",
        {"applicants": [rejected.pk], "importing_province": "33", "reason": "不符合条件"},
    )
    importing = api_as(zhejiang_officer)
    assert _ids(importing.get(URL)) == {soon_entry.pk, later_entry.pk, gz_entry.pk}
    cutoff = (today + timedelta(days=60)).isoformat()
    assert _ids(importing.get(URL, {"expires_before": cutoff})) == {soon_entry.pk, gz_entry.pk}
    assert _ids(importing.get(URL, {"expires_after": cutoff})) == {later_entry.pk}
    assert _ids(importing.get(URL, {"applicant": later.pk})) == {later_entry.pk}

    exporting = api_as(sichuan_officer)
    assert len(_ids(exporting.get(URL))) == 4
    assert len(_ids(exporting.get(URL, {"status": "rejected"}))) == 1
    assert len(_ids(exporting.get(URL, {"status": "pending", "importing_province": "33"}))) == 1
    assert _ids(exporting.get(URL, {"importing_province": "44"})) == set()


def test_review_queue_needs_a_province(sichuan_officer):
    response = api_as(sichuan_officer).get(QUEUE)
    assert response.status_code == 400
    assert "province" in response.json()["error"]["details"]


def test_review_queue_is_paged(sichuan_officer, agreements):
    for _ in range(3):
        make_applicant(sichuan_officer)
    page = api_as(sichuan_officer).get(QUEUE, {"province": "33", "page_size": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]


# --- Query count -------------------------------------------------------------------------


def _list_queries(api, url: str = URL, params: dict | None = None) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url, params or {})
    assert response.status_code == 200
    return len(queries.captured_queries), response.json()["count"]


def _approve_and_countersign(exporting, importing, n: int) -> None:
    applicants = [make_applicant(exporting) for _ in range(n)]
    entries = whitelist_approve(
        actor=exporting,
        applicants=[a.pk for a in applicants],
        importing_province="33",
        expires_on=timezone.localdate() + timedelta(days=60),
    )
    whitelist_countersign(actor=importing, entries=[e.pk for e in entries])


def test_list_query_count_does_not_grow_with_rows(sichuan_officer, zhejiang_officer, agreements):
    exporting, importing = api_as(sichuan_officer), api_as(zhejiang_officer)
    _approve_and_countersign(sichuan_officer, zhejiang_officer, 2)
    few = _list_queries(exporting), _list_queries(importing)
    assert few[0][1] == few[1][1] == 2
    _approve_and_countersign(sichuan_officer, zhejiang_officer, 10)
    assert _list_queries(exporting) == (few[0][0], 12)
    assert _list_queries(importing) == (few[1][0], 12)


def test_review_queue_query_count_does_not_grow_with_rows(sichuan_officer, agreements):
    api = api_as(sichuan_officer)
    for _ in range(2):
        make_applicant(sichuan_officer)
    few, count = _list_queries(api, QUEUE, {"province": "33"})
    assert count == 2
    for _ in range(10):
        make_applicant(sichuan_officer)
    assert _list_queries(api, QUEUE, {"province": "33"}) == (few, 12)


def test_bulk_actions_with_nothing_ticked_are_a_clear_400(sichuan_officer, agreements):
    api = api_as(sichuan_officer)
    for action, body in [
        ("revoke", {"entries": [], "reason": "x"}),
        ("approve", {"applicants": [], "importing_province": "33", "expires_on": _expiry()}),
    ]:
        response = api.post(f"{URL}{action}/", body)
        assert response.status_code == 400, action
        assert response.json()["error"]["code"] == "invalid"


def test_the_queue_leaves_out_applicants_without_consent(sichuan_officer, agreements):
    with_consent = make_applicant(sichuan_officer)
    make_applicant(sichuan_officer, consent=False)
    assert _ids(api_as(sichuan_officer).get(QUEUE, {"province": "33"})) == {with_consent.pk}
