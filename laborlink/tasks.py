"""Platform-level tasks. Tasks are thin: they take ids and call one service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task(name="laborlink.ping")
def ping() -> str:
    """Answers with the worker's time; used by the health tests and operators."""
    return timezone.now().isoformat()


@shared_task(name="laborlink.reconcile_outbox")
def reconcile_outbox() -> list[int]:
    """Every minute: send again the deferred tasks not done (broker down when they were
    written, a Redis restarted empty, a worker that died)."""
    from laborlink.outbox import outbox_reconcile

    return outbox_reconcile()
