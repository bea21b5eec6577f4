"""The employer's arrivals page (confirm with the arrival check, report departures and
absences) and the bureaus' flags page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext, override

from health.models import ArrivalCheck
from recruitment.models import Absence, Flag, Placement
from tests.transport.test_trip_pages import crew  # noqa: F401 - a fixture used here
from transport import services

pytestmark = pytest.mark.django_db

ARRIVALS = reverse("transport:arrival-list")
FLAGS = reverse("transport:flag-list")


def url(name: str, obj) -> str:
    return reverse(f"transport:{name}", args=[obj.pk])


def zh(message: str) -> str:
    with override("zh-hans"):
        return gettext(message)


@pytest.fixture
def hr_client(client, hr_officer):
    client.force_login(hr_officer)
    return client


def request_key(response, placement) -> str:
    (row,) = [p for p in response.context["awaiting"] if p.pk == placement.pk]
    return row.arrival_form.initial["request_key"]


def arrive(hr_officer, placement, *, days_ago: int = 0) -> Placement:
    services.arrival_confirm(actor=hr_officer, placement=placement, result="pass")
    if days_ago:
        Placement.objects.filter(pk=placement.pk).update(
            arrived_at=timezone.now() - timedelta(days=days_ago)
        )
    placement.refresh_from_db()
    return placement


# --- Arrivals --------------------------------------------------------------------------------


def test_the_employer_sees_its_departed_workers_each_with_a_form(hr_client, departed, accepted):
    response = hr_client.get(ARRIVALS)
    assert response.status_code == 200
    rows = list(response.context["awaiting"])
    assert {p.pk for p in rows} == {p.pk for p in accepted}
    assert {p.status for p in rows} == {"departed"}
    keys = {request_key(response, p) for p in accepted}
    assert len(keys) == 3  # one fresh key per form
    html = response.content.decode()
    assert departed.vehicle_number in html
    assert html.count('name="request_key"') == 3


def test_confirm_an_arrival_with_a_pass_check_once(hr_client, departed, accepted):
    page = hr_client.get(ARRIVALS)
    data = {"result": "pass", "notes": "体温正常", "request_key": request_key(page, accepted[0])}
    response = hr_client.post(url("arrival-confirm", accepted[0]), data)
    assert response.status_code == 302 and response["Location"] == ARRIVALS
    again = hr_client.post(url("arrival-confirm", accepted[0]), data, follow=True)
    assert again.status_code == 200
    assert ArrivalCheck.objects.filter(placement=accepted[0]).count() == 1
    accepted[0].refresh_from_db()
    assert accepted[0].status == "arrived"
    assert accepted[0].pk not in {p.pk for p in again.context["awaiting"]}
    assert accepted[0].pk in {p.pk for p in again.context["on_post"].object_list}
    assert "msg-info" in again.content.decode()  # "already recorded"


def test_refer_and_fail(hr_client, departed, accepted):
    page = hr_client.get(ARRIVALS)
    for placement, result in ((accepted[1], "refer"), (accepted[2], "fail")):
        data = {"result": result, "request_key": request_key(page, placement)}
        assert hr_client.post(url("arrival-confirm", placement), data).status_code == 302
    statuses = dict(Placement.objects.values_list("pk", "status"))
    assert statuses[accepted[1].pk] == "referred" and statuses[accepted[2].pk] == "returned"
    page = hr_client.get(ARRIVALS)
    assert accepted[1].pk in {p.pk for p in page.context["awaiting"]}  # check again later


def test_a_missing_result_is_shown_in_place(hr_client, departed, accepted):
    response = hr_client.post(url("arrival-confirm", accepted[0]), {"request_key": "k-missing"})
    assert response.status_code == 400
    (row,) = [p for p in response.context["awaiting"] if p.pk == accepted[0].pk]
    assert row.arrival_form.errors["result"]
    assert not ArrivalCheck.objects.exists()


def test_a_worker_whose_trip_has_not_left_cannot_arrive(
    hr_client, zhejiang_officer, trip, accepted
):
    services.booking_create(actor=zhejiang_officer, trip=trip, placements=accepted[:1])
    response = hr_client.post(
        url("arrival-confirm", accepted[0]), {"result": "pass", "request_key": "k-early"}
    )
    assert response.status_code == 409
    assert escape(zh("This worker's trip has not left yet.")) in response.content.decode()


def test_an_employer_sees_and_confirms_only_its_own_workers(
    client, other_hr_officer, departed, accepted
):
    client.force_login(other_hr_officer)
    response = client.get(ARRIVALS)
    assert list(response.context["awaiting"]) == []
    assert "甲工" not in response.content.decode()
    data = {"result": "pass", "request_key": "k-other"}
    assert client.post(url("arrival-confirm", accepted[0]), data).status_code == 404
    assert not ArrivalCheck.objects.exists()


def test_the_arrivals_page_is_for_employers(client, zhejiang_officer, departed, accepted):
    client.force_login(zhejiang_officer)
    assert client.get(ARRIVALS).status_code == 403
    data = {"result": "pass", "request_key": "k-bureau"}
    assert client.post(url("arrival-confirm", accepted[0]), data).status_code == 403


def test_arrivals_query_count_does_not_grow_with_workers(
    hr_client,
    hr_officer,
    departed,
    accepted,
    crew,  # noqa: F811 - the fixture imported above
    django_assert_max_num_queries,
):
    arrive(hr_officer, accepted[0])
    crew(2)  # travelling on their own
    with django_assert_max_num_queries(20) as few:
        response = hr_client.get(ARRIVALS)
    assert len(response.context["awaiting"]) == 4
    for placement in crew(10):
        arrive(hr_officer, placement)
    crew(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = hr_client.get(ARRIVALS)
    assert len(response.context["awaiting"]) == 14
    assert len(response.context["on_post"].object_list) == 11


# --- Departures and absences -----------------------------------------------------------------


def test_report_that_a_worker_has_left(hr_client, hr_officer, departed, accepted):
    placement = arrive(hr_officer, accepted[0])
    future = {
        "left_on": (timezone.localdate() + timedelta(days=3)).isoformat(),
        "reason": "resigned",
    }
    response = hr_client.post(url("placement-departure", placement), future)
    assert response.status_code == 400
    assert escape(zh("The date of leaving cannot be in the future.")) in response.content.decode()
    data = {"left_on": timezone.localdate().isoformat(), "reason": "resigned", "note": "回乡"}
    response = hr_client.post(url("placement-departure", placement), data)
    assert response.status_code == 302
    placement.refresh_from_db()
    assert (placement.status, placement.left_reason, placement.left_note) == (
        "left",
        "resigned",
        "回乡",
    )
    # no longer on post: a second report finds nothing
    assert hr_client.post(url("placement-departure", placement), data).status_code == 404


def test_departure_and_absence_need_a_worker_on_post(hr_client, departed, accepted):
    data = {"left_on": timezone.localdate().isoformat(), "reason": "resigned"}
    assert hr_client.post(url("placement-departure", accepted[0]), data).status_code == 404
    data = {"first_day": timezone.localdate().isoformat()}
    assert hr_client.post(url("placement-absence", accepted[0]), data).status_code == 404


def test_absences_over_five_working_days_raise_a_flag_that_a_bureau_resolves(
    client, hr_officer, zhejiang_officer, sichuan_officer, guizhou_officer, departed, accepted
):
    placement = arrive(hr_officer, accepted[0], days_ago=25)
    client.force_login(hr_officer)
    today = timezone.localdate()
    one_day = {"first_day": (today - timedelta(days=30)).isoformat()}
    response = client.post(url("placement-absence", placement), one_day)  # before the arrival
    assert response.status_code == 400
    data = {
        "first_day": (today - timedelta(days=20)).isoformat(),
        "last_day": today.isoformat(),
    }
    assert client.post(url("placement-absence", placement), data).status_code == 302
    assert Absence.objects.filter(placement=placement).count() == 21
    flag = Flag.objects.get(placement=placement, kind="absent")
    backwards = {"first_day": today.isoformat(), "last_day": (today - timedelta(1)).isoformat()}
    assert client.post(url("placement-absence", placement), backwards).status_code == 400
    assert client.get(FLAGS).status_code == 403  # flags are the bureaus'

    client.force_login(sichuan_officer)  # the worker's home bureau sees absence flags too
    assert [f.pk for f in client.get(FLAGS).context["flags"]] == [flag.pk]
    client.force_login(guizhou_officer)
    assert list(client.get(FLAGS).context["flags"]) == []
    assert client.post(url("flag-resolve", flag), {"resolution": "x"}).status_code == 404

    client.force_login(zhejiang_officer)
    response = client.get(FLAGS)
    assert [f.pk for f in response.context["flags"]] == [flag.pk]
    assert placement.applicant.national_id_masked in response.content.decode()
    assert client.post(url("flag-resolve", flag), {"resolution": " "}).status_code == 400
    response = client.post(url("flag-resolve", flag), {"resolution": "已电话联系，病假"})
    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.resolution == "已电话联系，病假" and flag.resolved_by == zhejiang_officer
    assert list(client.get(FLAGS).context["flags"]) == []
    resolved = client.get(FLAGS, {"state": "resolved"})
    assert [f.pk for f in resolved.context["flags"]] == [flag.pk]
    again = client.post(url("flag-resolve", flag), {"resolution": "再次"})
    assert again.status_code == 409


def test_flags_query_count_does_not_grow_with_flags(
    client,
    zhejiang_officer,
    hr_officer,
    crew,  # noqa: F811 - the fixture imported above
    django_assert_max_num_queries,
):
    from recruitment.placements import flag_raise

    def raise_flags(n):
        for placement in crew(n):
            placement = arrive(hr_officer, placement)
            flag_raise(kind="absent", placement=placement, detail={"working_days": 5})

    raise_flags(2)
    client.force_login(zhejiang_officer)
    with django_assert_max_num_queries(15) as few:
        assert len(client.get(FLAGS).context["flags"]) == 2
    raise_flags(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(FLAGS).context["flags"]) == 12
