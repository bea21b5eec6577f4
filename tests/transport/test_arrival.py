"""Arrival: the employer confirms that a worker arrived and records the arrival health check
(pass, refer, fail), once per request key, and the posting's filled count follows."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from health.models import ArrivalCheck
from health.services import arrival_check_result
from laborlink.errors import Conflict, DomainError, Forbidden, NotFound
from laborlink.models import User
from recruitment.models import JobPosting, Placement, PlacementEvent
from transport import selectors, services

pytestmark = pytest.mark.django_db


def confirm(actor, placement, result="pass", key=None, **kwargs):
    return services.arrival_confirm(
        actor=actor, placement=placement, result=result, request_key=key, **kwargs
    )


def posting_of(placement) -> JobPosting:
    return JobPosting.objects.get(pk=placement.posting_id)


def test_a_passed_check_means_arrived_and_fills_a_position(hr_officer, departed, accepted):
    worker = accepted[0]
    result = confirm(hr_officer, worker, "pass", "form-1", notes="体温正常")
    assert result.created
    worker.refresh_from_db()
    assert worker.status == "arrived" and worker.arrived_at is not None
    assert posting_of(worker).positions_filled == 1
    assert posting_of(worker).status == "open"  # 1 of 2
    check = ArrivalCheck.objects.get(placement=worker)
    assert check.checked_by == hr_officer and check.request_key == "form-1"
    assert arrival_check_result(check) == "pass"
    event = PlacementEvent.objects.get(placement=worker, to_status="arrived")
    assert (event.from_status, event.actor) == ("departed", hr_officer)


def test_the_last_position_filled_fills_the_posting(hr_officer, departed, accepted):
    confirm(hr_officer, accepted[2], "pass")  # the second posting has one position
    posting = posting_of(accepted[2])
    assert (posting.positions_filled, posting.status) == (1, "filled")
    confirm(hr_officer, accepted[0], "pass")
    confirm(hr_officer, accepted[1], "pass")
    posting = posting_of(accepted[0])
    assert (posting.positions_filled, posting.status) == (2, "filled")


def test_a_referred_worker_arrives_after_a_later_pass(hr_officer, departed, accepted):
    worker = accepted[0]
    confirm(hr_officer, worker, "refer", "k-refer")
    worker.refresh_from_db()
    assert worker.status == "referred"
    assert posting_of(worker).positions_filled == 0
    assert worker in selectors.arrivals_awaiting(hr_officer)

    confirm(hr_officer, worker, "pass", "k-pass")
    worker.refresh_from_db()
    assert worker.status == "arrived"
    assert posting_of(worker).positions_filled == 1
    assert ArrivalCheck.objects.filter(placement=worker).count() == 2
    assert list(
        PlacementEvent.objects.filter(placement=worker).values_list("to_status", flat=True)
    )[-2:] == ["referred", "arrived"]


def test_a_failed_check_sends_the_worker_home_and_frees_the_position(
    hr_officer, departed, accepted
):
    worker = accepted[2]
    confirm(hr_officer, worker, "fail")
    worker.refresh_from_db()
    assert worker.status == "returned"
    assert worker.status not in Placement.HOLDING_POSITION_STATUSES
    posting = posting_of(worker)
    assert (posting.positions_filled, posting.status) == (0, "open")
    assert worker not in selectors.arrivals_awaiting(hr_officer)
    with pytest.raises(Conflict):
        confirm(hr_officer, worker, "pass")


def test_a_referred_worker_can_still_fail(hr_officer, departed, accepted):
    confirm(hr_officer, accepted[0], "refer")
    confirm(hr_officer, accepted[0], "fail")
    accepted[0].refresh_from_db()
    assert accepted[0].status == "returned"
    assert posting_of(accepted[0]).positions_filled == 0


def test_the_same_request_twice_records_one_check(hr_officer, departed, accepted):
    worker = accepted[0]
    first = confirm(hr_officer, worker, "pass", "double-tap")
    second = confirm(hr_officer, worker, "pass", "double-tap")
    assert first.created and not second.created
    assert second.check.pk == first.check.pk
    assert ArrivalCheck.objects.filter(placement=worker).count() == 1
    assert PlacementEvent.objects.filter(placement=worker, to_status="arrived").count() == 1
    assert posting_of(worker).positions_filled == 1


def test_a_repeated_referral_is_recorded_once(hr_officer, departed, accepted):
    worker = accepted[0]
    confirm(hr_officer, worker, "refer", "refer-once")
    again = confirm(hr_officer, worker, "refer", "refer-once")
    assert not again.created
    assert ArrivalCheck.objects.filter(placement=worker).count() == 1
    assert PlacementEvent.objects.filter(placement=worker, to_status="referred").count() == 1


def test_a_new_key_for_a_worker_already_on_post_records_nothing(hr_officer, departed, accepted):
    worker = accepted[0]
    confirm(hr_officer, worker, "pass", "first")
    later = confirm(hr_officer, worker, "pass", "second")
    assert not later.created
    assert ArrivalCheck.objects.filter(placement=worker).count() == 1
    assert posting_of(worker).positions_filled == 1


def test_a_request_key_cannot_be_reused_for_another_worker(
    hr_officer, other_hr_officer, departed, accepted
):
    confirm(hr_officer, accepted[0], "pass", "shared-key")
    with pytest.raises(Conflict) as caught:
        confirm(hr_officer, accepted[1], "pass", "shared-key")
    assert caught.value.code == "key_reused"
    accepted[1].refresh_from_db()
    assert accepted[1].status == "departed"
    with pytest.raises(Conflict):
        confirm(other_hr_officer, accepted[0], "pass", "shared-key")


def test_a_worker_whose_trip_has_not_left_cannot_arrive(
    hr_officer, zhejiang_officer, trip, accepted
):
    services.booking_create(actor=zhejiang_officer, trip=trip, placements=accepted[:1])
    with pytest.raises(Conflict) as caught:
        confirm(hr_officer, accepted[0], "pass")
    assert caught.value.code == "not_departed"
    assert not ArrivalCheck.objects.exists()


def test_a_no_show_cannot_arrive(hr_officer, zhejiang_officer, trip, accepted):
    services.booking_create(actor=zhejiang_officer, trip=trip, placements=accepted[:1])
    services.trip_start_boarding(actor=zhejiang_officer, trip=trip)
    services.trip_depart(actor=zhejiang_officer, trip=trip)
    with pytest.raises(Conflict) as caught:
        confirm(hr_officer, accepted[0], "pass")
    assert caught.value.code == "invalid_transition"


def test_a_worker_travelling_on_their_own_can_arrive(hr_officer, accepted):
    confirm(hr_officer, accepted[0], "pass")
    accepted[0].refresh_from_db()
    assert accepted[0].status == "arrived"


def test_only_the_employer_of_the_posting_confirms(
    hr_officer, other_hr_officer, zhejiang_officer, departed, accepted
):
    with pytest.raises(NotFound):
        confirm(other_hr_officer, accepted[0], "pass")
    with pytest.raises(NotFound):
        confirm(hr_officer, 10**9, "pass")
    with pytest.raises(Forbidden):
        confirm(zhejiang_officer, accepted[0], "pass")
    accepted[0].refresh_from_db()
    assert accepted[0].status == "departed"
    assert not ArrivalCheck.objects.exists()


def test_the_result_must_be_pass_refer_or_fail(hr_officer, departed, accepted):
    with pytest.raises(DomainError) as caught:
        confirm(hr_officer, accepted[0], "ok")
    assert caught.value.field == "result"
    assert not ArrivalCheck.objects.exists()


def test_the_check_result_is_stored_encrypted(hr_officer, departed, accepted):
    confirm(hr_officer, accepted[0], "pass", "enc-1", notes="血压偏高但可上岗")
    check = ArrivalCheck.objects.get(request_key="enc-1")
    assert "pass" not in check.result_encrypted
    assert "血压" not in check.notes_encrypted
    assert arrival_check_result(check) == "pass"


@pytest.mark.django_db(transaction=True)
def test_a_double_submission_at_the_same_moment_records_one_check(hr_officer, departed, accepted):
    worker = accepted[0]
    barrier = threading.Barrier(6)
    outcomes = []

    def submit(result: str) -> None:
        try:
            actor = User.objects.select_related("organization").get(pk=hr_officer.pk)
            barrier.wait(timeout=30)
            outcomes.append(confirm(actor, worker.pk, result, "same-tap"))
        except BaseException as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=("refer",)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(o, services.ArrivalResult) for o in outcomes), outcomes
    assert sum(o.created for o in outcomes) == 1
    assert ArrivalCheck.objects.filter(placement=worker).count() == 1
    assert PlacementEvent.objects.filter(placement=worker, to_status="referred").count() == 1
