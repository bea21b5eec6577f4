"""Matching runs: one at a time, recorded before they are sent, safe to execute twice,
stored in bulk, superseding the previous run's unanswered proposals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from laborlink.errors import Conflict, Forbidden
from matching import services
from matching.models import Match, MatchRun

pytestmark = pytest.mark.django_db


def execute(run):
    done = services.run_execute(run.pk)
    assert done is not None
    return done


def test_a_run_proposes_one_posting_per_applicant_within_capacity(sichuan_officer, market):
    applicants, postings = market
    run = execute(services.run_request(actor=sichuan_officer))
    assert run.status == MatchRun.Status.DONE, run.error
    matches = list(Match.objects.filter(run=run))
    assert sorted(m.applicant_id for m in matches) == sorted(a.pk for a in applicants)
    per_posting = {p.pk: sum(m.posting_id == p.pk for m in matches) for p in postings}
    assert per_posting == {postings[0].pk: 2, postings[1].pk: 1}
    assert all(m.breakdown and m.score > 0 for m in matches)
    # the breakdown, computed for the chosen edges only, adds up to each score
    assert all(sum(m.breakdown.values()) == m.score for m in matches)
    assert {(m.exporting_province_id, m.importing_province_id) for m in matches} == {("51", "33")}
    assert run.matched_count == 3 and run.fill_rate == pytest.approx(1.0)
    assert run.counts["removed_by_rule"] is not None
    assert run.input_fingerprint and run.phase_seconds


def test_a_second_request_is_refused_while_one_is_pending(sichuan_officer, market):
    first = services.run_request(actor=sichuan_officer)
    with pytest.raises(Conflict) as refused:
        services.run_request(actor=sichuan_officer)
    assert str(first.pk) in str(refused.value.message)
    execute(first)
    assert services.run_request(actor=sichuan_officer).pk != first.pk


def test_executing_twice_gives_the_same_matches_once(sichuan_officer, market):
    run = execute(services.run_request(actor=sichuan_officer))
    first = sorted(Match.objects.filter(run=run).values_list("applicant_id", "posting_id"))
    # a redelivered task after a worker died mid-run: the row is still "running"
    MatchRun.objects.filter(pk=run.pk).update(status=MatchRun.Status.RUNNING)
    again = execute(run)
    assert again.status == MatchRun.Status.DONE and again.attempts == 2
    second = sorted(Match.objects.filter(run=run).values_list("applicant_id", "posting_id"))
    assert second == first
    assert Match.objects.filter(run=run).count() == len(first)
    # a finished run is not executed again
    assert services.run_execute(run.pk) is None


def test_a_new_run_supersedes_unanswered_proposals(sichuan_officer, market):
    first = execute(services.run_request(actor=sichuan_officer))
    second = execute(services.run_request(actor=sichuan_officer))
    assert not Match.objects.filter(run=first, status=Match.Status.PROPOSED).exists()
    assert Match.objects.filter(run=second, status=Match.Status.PROPOSED).count() == 3
    first.refresh_from_db()
    assert first.status == MatchRun.Status.SUPERSEDED


def test_same_input_gives_the_same_fingerprint_and_matches(sichuan_officer, market):
    first = execute(services.run_request(actor=sichuan_officer))
    pairs = sorted(Match.objects.filter(run=first).values_list("applicant_id", "posting_id"))
    second = execute(services.run_request(actor=sichuan_officer))
    assert second.input_fingerprint == first.input_fingerprint
    assert (
        sorted(Match.objects.filter(run=second).values_list("applicant_id", "posting_id")) == pairs
    )


def test_an_hr_officer_cannot_request_a_run(hr_officer):
    with pytest.raises(Forbidden):
        services.run_request(actor=hr_officer)


def test_a_request_made_while_the_broker_is_down_is_kept_and_reconciled(
    sichuan_officer, market, monkeypatch, django_capture_on_commit_callbacks
):
    from matching import tasks

    sent: list[int] = []

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis unreachable")

    monkeypatch.setattr(tasks.execute_run, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_request(actor=sichuan_officer)
    assert MatchRun.objects.get(pk=run.pk).status == MatchRun.Status.REQUESTED

    monkeypatch.setattr(tasks.execute_run, "apply_async", lambda args, **kw: sent.append(args[0]))
    assert services.runs_reconcile() == []  # too recent: it may still be on its way
    MatchRun.objects.filter(pk=run.pk).update(requested_at=timezone.now() - timedelta(minutes=5))
    assert services.runs_reconcile() == [run.pk]
    assert sent == [run.pk]


@pytest.mark.django_db(transaction=True)
def test_a_requested_run_is_executed_by_a_real_worker(sichuan_officer, market):
    from celery.contrib.testing.worker import start_worker

    from laborlink.celery import app

    with start_worker(app, perform_ping_check=False, pool="solo", concurrency=1):
        run = services.run_request(actor=sichuan_officer)  # sent to Redis at commit
        deadline = timezone.now() + timedelta(seconds=60)
        while timezone.now() < deadline:
            run.refresh_from_db()
            if run.status in (MatchRun.Status.DONE, MatchRun.Status.FAILED):
                break
            import time

            time.sleep(0.2)
    assert run.status == MatchRun.Status.DONE, run.error
    assert Match.objects.filter(run=run).count() == 3
