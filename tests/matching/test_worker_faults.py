"""Matching runs against the real broker and real worker processes: a worker killed with
SIGKILL in the middle of a run, the run taken up again, duplicate deliveries, and two
nightly runs sent at once.

The workers are `celery -A laborlink worker` subprocesses, connected to this test's
PostgreSQL database and Redis; the test freezes the worker (SIGSTOP) the moment the run is
`running`, checks that it is still mid-run, and kills its whole process group (SIGKILL),
as a machine or container dying would.
"""

from __future__ import annotations

import signal

import pytest
from django.conf import settings

from laborlink.models import SmsMessage
from matching import services
from matching.management.commands.benchmark_matching import SyntheticMarket
from matching.models import Match, MatchRun
from matching.offers import SMS_PURPOSE
from tests.celery_workers import CeleryWorker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def workers():
    started: list[CeleryWorker] = []

    def start(name: str, concurrency: int = 1) -> CeleryWorker:
        worker = CeleryWorker(
            name,
            redis_url=settings.CELERY_BROKER_URL,
            result_backend=settings.CELERY_RESULT_BACKEND,
            concurrency=concurrency,
            log_name=f"test-worker-{name}",
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.kill()


@pytest.fixture
def synthetic_market():
    """About 3,000 applicants and 150 postings (a run lasts a second or two)."""
    market = SyntheticMarket(3000, 150, 20, seed=11)
    market.generate()
    return market


def status_of(run_id: int) -> str:
    return MatchRun.objects.filter(pk=run_id).values_list("status", flat=True).get()


def pairs_of(run_id: int) -> list[tuple[int, int]]:
    return sorted(Match.objects.filter(run_id=run_id).values_list("applicant_id", "posting_id"))


def finished(run_id: int) -> bool:
    return status_of(run_id) in (MatchRun.Status.DONE, MatchRun.Status.FAILED)


def test_a_worker_killed_mid_run_is_replaced_and_the_run_gives_the_same_matches_once(
    synthetic_market, workers
):
    first = workers("first")
    run = services.run_request(actor=None, trigger=MatchRun.Trigger.NIGHTLY)  # to Redis

    # Freeze the worker as soon as it has claimed the run, make sure it is mid-run, kill it.
    wait_for(lambda: status_of(run.pk) == MatchRun.Status.RUNNING, 90, what="the run to start")
    first.signal(signal.SIGSTOP)
    assert status_of(run.pk) == MatchRun.Status.RUNNING
    assert not Match.objects.filter(run=run).exists()
    first.kill()

    # PostgreSQL releases the dead worker's lock and rolls back whatever it had begun;
    # the reconciler sees a running run with nobody holding it and sends it again.
    wait_for(lambda: not services._lock_is_held(run.pk), 30, what="the lock to be released")
    assert status_of(run.pk) == MatchRun.Status.RUNNING
    second = workers("second", concurrency=2)
    assert services.runs_reconcile() == [run.pk]
    wait_for(lambda: finished(run.pk), 120, interval=0.1, what="the retried run")

    run.refresh_from_db()
    assert run.status == MatchRun.Status.DONE, run.error
    assert run.attempts == 2
    retried = pairs_of(run.pk)
    assert retried and len(retried) == run.matched_count
    # no duplicate rows: one match per applicant, capacities respected
    assert len({applicant for applicant, _ in retried}) == len(retried)
    # every proposal got exactly one SMS
    wait_for(
        lambda: Match.objects.filter(run=run, offered_at__isnull=True).count() == 0,
        60,
        interval=0.1,
        what="the offers",
    )
    sms = SmsMessage.objects.filter(purpose=SMS_PURPOSE)
    assert sms.count() == len(retried)

    # A duplicate delivery of the finished run does nothing.
    from matching.tasks import execute_run, nightly_run

    assert execute_run.apply_async((run.pk,)).get(timeout=60) is None
    assert pairs_of(run.pk) == retried

    # The same input run again from scratch, as two nightly runs sent at once: one is
    # recorded, the other refused; it gives exactly the matches of the retried run.
    sent = [nightly_run.apply_async(), nightly_run.apply_async()]
    recorded = [result.get(timeout=60) for result in sent]
    assert recorded.count(None) == 1, recorded
    again = next(pk for pk in recorded if pk is not None)
    wait_for(lambda: finished(again), 120, interval=0.1, what="the second run")
    control = MatchRun.objects.get(pk=again)
    assert control.status == MatchRun.Status.DONE, control.error
    assert control.attempts == 1
    assert MatchRun.objects.count() == 2
    assert pairs_of(again) == retried
    assert control.input_fingerprint == run.input_fingerprint
    # ... and supersedes the first run's unanswered proposals
    run.refresh_from_db()
    assert run.status == MatchRun.Status.SUPERSEDED
    assert not Match.objects.filter(run=run, status=Match.Status.PROPOSED).exists()
    second.stop()
