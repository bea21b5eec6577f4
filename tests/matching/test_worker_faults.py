"""Matching runs against the real broker and real worker processes: a worker killed with
SIGKILL in the middle of a run, the run taken up again, duplicate deliveries, and two
nightly runs sent at once.

The workers are `celery -A laborlink worker` subprocesses, connected to this test's
PostgreSQL database and Redis; the test freezes the worker (SIGSTOP) the moment the run is
`running`, checks that it is still mid-run, and kills its whole process group (SIGKILL),
as a machine or container dying would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from laborlink.models import SmsMessage
from matching import services
from matching.management.commands.benchmark_matching import SyntheticMarket
from matching.models import Match, MatchRun
from matching.offers import SMS_PURPOSE

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


def _test_database_url() -> str:
    db = connection.settings_dict
    host = quote(str(db.get("HOST") or "127.0.0.1"), safe="")
    user = quote(str(db.get("USER") or "postgres"), safe="")
    password = f":{quote(str(db['PASSWORD']), safe='')}" if db.get("PASSWORD") else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{db['NAME']}"


class Worker:
    """A Celery worker in its own process group."""

    def __init__(self, name: str, concurrency: int = 1) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": _test_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
            "DJANGO_SETTINGS_MODULE": "laborlink.settings",
        }
        self.log = open(ROOT / "var" / f"test-worker-{name}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "laborlink",
                "worker",
                "--pool=prefork",
                f"--concurrency={concurrency}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname={name}@%h",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def signal(self, signum: int) -> None:
        os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once."""
        if self.process.poll() is None:
            self.signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()

    def stop(self) -> None:
        """Warm shutdown, as `docker stop` does."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # warm shutdown: running tasks finish
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.process.wait(timeout=30)
        self.log.close()


@pytest.fixture
def workers():
    (ROOT / "var").mkdir(exist_ok=True)
    started: list[Worker] = []

    def start(name: str, concurrency: int = 1) -> Worker:
        worker = Worker(name, concurrency)
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


def wait_for(predicate, timeout: float, interval: float = 0.02, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


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
