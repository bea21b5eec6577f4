"""Matching runs: request, execute (safe to run twice), store, supersede.

A run is first recorded in the database (`run_request`), then executed by a Celery task. If
the broker is down when the run is requested, the row stays `requested` and the periodic
reconciler (`runs_reconcile`) enqueues it when the broker is back. Execution holds a
PostgreSQL advisory lock for the whole run: a second worker handed the same run (a redelivery
after a worker died, or a duplicate) does nothing while the first lives, and takes over
cleanly if it died. A run writes its matches in one transaction after deleting any rows a
dead attempt left, so a retried run produces exactly the same matches, once.
"""

from __future__ import annotations

import io
import json
import logging
import time
from datetime import date, timedelta
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from laborlink import outbox
from laborlink.access import is_platform_admin, require_role
from laborlink.errors import Conflict, DomainError
from laborlink.history import attribute_services_to_actor
from laborlink.models import User
from matching.models import Match, MatchRun

logger = logging.getLogger(__name__)

RUN_LOCK_KEY = 7302  # pg advisory lock namespace of matching runs
STALE_REQUEST_SECONDS = 60
PROGRESS_TIMEOUT = 24 * 3600
ACTIVE = (MatchRun.Status.REQUESTED, MatchRun.Status.RUNNING)


def progress_key(run_id: int) -> str:
    return f"matching:run:{run_id}:progress"


def report_progress(run_id: int, phase: str, percent: int) -> None:
    cache.set(progress_key(run_id), {"phase": phase, "percent": percent}, PROGRESS_TIMEOUT)


def run_progress(run_id: int) -> dict[str, Any]:
    return cache.get(progress_key(run_id)) or {}


def run_delayed_message(run: MatchRun) -> str:
    """What the page and the API say when the broker was down as the run was requested."""
    return _("Matching run #%(id)s is recorded and will start when the task queue is back.") % {
        "id": run.pk
    }


def _enqueue(run: MatchRun) -> None:
    """Send the run to a worker after the commit; a broker outage is logged, not raised: the
    run stays `requested` and the reconciler sends it later. The send fails fast (no retry)
    and is counted in the current `outbox.deliveries()`, so the page can say so."""

    def send() -> None:
        if not outbox.send_now("matching.execute_run", [run.pk]):
            # the broker is down: the database row is the request
            logger.warning("matching run %s recorded; broker unavailable, will retry", run.pk)

    transaction.on_commit(send)


@transaction.atomic
def run_request(
    *,
    actor: User | None,
    trigger: str = MatchRun.Trigger.MANUAL,
    algorithm: str = MatchRun.Algorithm.OPTIMAL,
    weights: dict[str, Any] | None = None,
    run_date: date | None = None,
) -> MatchRun:
    """Record a run and send it to a worker. At most one run is requested or running at a
    time: a second request is refused with the run it would wait for."""
    from matching.scoring import validate_weights

    if actor is not None and not is_platform_admin(actor):
        require_role(actor, [User.Role.BUREAU_OFFICER])
    if algorithm not in MatchRun.Algorithm.values:
        raise DomainError(_("Unknown matching algorithm."), field="algorithm")
    if trigger not in MatchRun.Trigger.values:
        raise DomainError(_("Unknown trigger."), field="trigger")
    clean_weights = validate_weights(weights or {})
    # Serialise requests: a transaction-level lock, so two requests cannot both see "none".
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, 0)", [RUN_LOCK_KEY])
    current = MatchRun.objects.filter(status__in=ACTIVE).order_by("requested_at").first()
    if current is not None:
        raise Conflict(
            _("Matching run #%(id)s is already %(status)s; wait for it to finish.")
            % {"id": current.pk, "status": current.get_status_display()},
            code="run_in_progress",
            details={"run": current.pk},
        )
    run = MatchRun.objects.create(
        trigger=trigger,
        algorithm=algorithm,
        weights=clean_weights,
        run_date=run_date or timezone.localdate(),
        requested_by=actor if actor is not None and actor.is_authenticated else None,
    )
    report_progress(run.pk, "requested", 0)
    _enqueue(run)
    return run


def offers_send_pending() -> int:
    """Send the offers of the current run not sent yet (after a run, and by the reconciler
    should a worker have died between storing and sending)."""
    from matching.offers import offers_send
    from matching.selectors import latest_run

    run = latest_run()
    return offers_send(run) if run is not None else 0


def runs_reconcile() -> list[int]:
    """Send again the runs that were recorded but not taken up (broker down at the time, or
    a worker that died): requested for more than a minute, or running without its lock."""
    cutoff = timezone.now() - timedelta(seconds=STALE_REQUEST_SECONDS)
    sent = []
    for run in MatchRun.objects.filter(
        Q(status=MatchRun.Status.REQUESTED, requested_at__lt=cutoff)
        | Q(status=MatchRun.Status.RUNNING)
    ):
        if run.status == MatchRun.Status.RUNNING and _lock_is_held(run.pk):
            continue
        if outbox.send_now("matching.execute_run", [run.pk]):
            sent.append(run.pk)
    return sent


def _lock_is_held(run_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [RUN_LOCK_KEY, run_id])
        acquired = cursor.fetchone()[0]
        if acquired:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [RUN_LOCK_KEY, run_id])
    return not acquired


def run_execute(run_id: int, *, map_fn: Any = map) -> MatchRun | None:
    """Execute a requested run (or take over one whose worker died). Returns None when
    another worker holds the run or it is already finished."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [RUN_LOCK_KEY, run_id])
        if not cursor.fetchone()[0]:
            return None
    try:
        return _execute_locked(run_id, map_fn=map_fn)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [RUN_LOCK_KEY, run_id])


def _execute_locked(run_id: int, *, map_fn: Any) -> MatchRun | None:
    from matching.candidates import (
        breakdown_for,
        input_fingerprint,
        instance_from_candidates,
        load_candidates,
    )
    from matching.scoring import validate_weights
    from matching.solvers import solve_components

    try:
        # Claim and count the attempt in one statement: a worker killed right after the
        # claim has still counted its attempt.
        claimed = MatchRun.objects.filter(pk=run_id, status__in=ACTIVE).update(
            status=MatchRun.Status.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
        )
    except IntegrityError:  # another run is running (the one-running constraint)
        return None
    if claimed != 1:
        return None
    run = MatchRun.objects.get(pk=run_id)
    timings: dict[str, float] = {}
    try:
        started = time.perf_counter()
        report_progress(run_id, "loading", 10)
        # The full per-edge breakdown of a national run would not fit in memory: it is
        # computed below for the chosen edges only.
        candidates = load_candidates(run_date=run.run_date)
        weights = validate_weights(run.weights)
        instance, counts = instance_from_candidates(
            candidates, weights=weights, keep_breakdown=False
        )
        timings["load_and_score"] = round(time.perf_counter() - started, 3)
        fingerprint = input_fingerprint(instance, run.weights, run.algorithm)

        started = time.perf_counter()
        report_progress(run_id, "solving", 40)
        solution = solve_components(instance, run.algorithm, map_fn=map_fn)
        timings["solve"] = round(time.perf_counter() - started, 3)

        started = time.perf_counter()
        report_progress(run_id, "storing", 80)
        with transaction.atomic():
            breakdown = breakdown_for(candidates, instance, solution.edges, weights=weights)
            stored = _store_matches(run, instance, solution, breakdown)
            superseded = (
                Match.objects.filter(status=Match.Status.PROPOSED)
                .exclude(run=run)
                .update(status=Match.Status.SUPERSEDED, updated_at=timezone.now())
            )
            MatchRun.objects.filter(status=MatchRun.Status.DONE).exclude(pk=run.pk).update(
                status=MatchRun.Status.SUPERSEDED
            )
            timings["store"] = round(time.perf_counter() - started, 3)
            counts = {**counts, "matches": stored, "superseded_proposals": superseded}
            MatchRun.objects.filter(pk=run.pk).update(
                status=MatchRun.Status.DONE,
                finished_at=timezone.now(),
                input_fingerprint=fingerprint,
                phase_seconds=timings,
                counts=counts,
                total_score=int(solution.total_score),
                matched_count=int(solution.matched),
                fill_rate=float(solution.fill_rate),
                blocking_pairs=int(solution.blocking_pairs),
                error="",
            )
        report_progress(run_id, "offers", 90)
        logger.info("matching run %s: %d matches", run.pk, stored)
        offers_send_pending()
        report_progress(run_id, "done", 100)
    except Exception as exc:
        logger.exception("matching run %s failed", run.pk)
        MatchRun.objects.filter(pk=run.pk).update(
            status=MatchRun.Status.FAILED,
            finished_at=timezone.now(),
            phase_seconds=timings,
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        report_progress(run_id, "failed", 100)
    return MatchRun.objects.get(pk=run.pk)


def _store_matches(run: MatchRun, instance: Any, solution: Any, breakdown: dict[str, Any]) -> int:
    """Write the run's matches with COPY (after removing what a dead attempt left)."""
    from recruitment.models import Applicant, JobPosting

    Match.objects.filter(run=run).delete()
    edges = solution.edges
    if len(edges) == 0:
        return 0
    applicant_ids = instance.applicant_ids[instance.edge_applicant[edges]]
    posting_ids = instance.posting_ids[instance.edge_posting[edges]]
    home = dict(
        Applicant.objects.filter(pk__in=applicant_ids.tolist()).values_list(
            "pk", "home_province_id"
        )
    )
    posting_province = dict(
        JobPosting.objects.filter(pk__in=set(posting_ids.tolist())).values_list("pk", "province_id")
    )
    now = timezone.now().isoformat()
    parts = sorted(breakdown)
    buffer = io.StringIO()
    for i, edge in enumerate(edges.tolist()):
        applicant_id, posting_id = int(applicant_ids[i]), int(posting_ids[i])
        parts_of_match = {name: int(breakdown[name][i]) for name in parts}
        fields = [
            str(run.pk),
            str(applicant_id),
            str(posting_id),
            home[applicant_id],
            posting_province[posting_id],
            str(int(instance.edge_score[edge])),
            json.dumps(parts_of_match, separators=(",", ":")),
            Match.Status.PROPOSED,
            "",
            now,
            now,
        ]
        buffer.write("\t".join(fields) + "\n")
    with connection.cursor() as cursor:
        copy_sql = (
            "COPY matching_match (run_id, applicant_id, posting_id, exporting_province_id, "
            "importing_province_id, score, breakdown, status, offer_nonce, created_at, updated_at) "
            "FROM STDIN"
        )
        with cursor.cursor.copy(copy_sql) as copy:
            copy.write(buffer.getvalue())
    return len(edges)


attribute_services_to_actor(globals())
