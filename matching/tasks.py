"""Matching tasks. Thin: they take ids and call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="matching.execute_run")
def execute_run(run_id: int) -> str | None:
    """Execute a recorded run (safe to deliver twice: see matching.services)."""
    from django.conf import settings

    from matching.parallel import celery_map
    from matching.services import run_execute

    run = run_execute(run_id, map_fn=celery_map(helpers=settings.MATCHING_HELPER_TASKS))
    return run.status if run is not None else None


@shared_task(name="matching.nightly_run")
def nightly_run() -> int | None:
    """02:00 Asia/Shanghai: record tonight's run; refused quietly when one is in progress."""
    from laborlink.errors import Conflict
    from matching.models import MatchRun
    from matching.services import run_request

    try:
        return run_request(actor=None, trigger=MatchRun.Trigger.NIGHTLY).pk
    except Conflict:
        return None


@shared_task(name="matching.reconcile_runs")
def reconcile_runs() -> list[int]:
    """Send again the runs recorded while the broker was down, or left by a dead worker."""
    from matching.offers import offers_expire
    from matching.services import offers_send_pending, runs_reconcile

    offers_expire()
    offers_send_pending()
    return runs_reconcile()


@shared_task(name="matching.solve_pool")
def solve_pool(pool: str) -> int:
    """Help a running match: solve components from its Redis pool until none is left."""
    from matching.parallel import work

    return work(pool)
