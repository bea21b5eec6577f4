"""Recruitment tasks. Thin: they take ids and call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="recruitment.import_batch")
def import_batch(batch_id: int) -> str | None:
    """Import a queued applicant file (`imports.import_run`, safe to run twice)."""
    from recruitment.imports import import_run

    batch = import_run(batch_id)
    return batch.status if batch is not None else None


@shared_task(name="recruitment.purge_import_uploads")
def purge_import_uploads() -> int:
    """Discard uploaded files that were checked but never imported (hourly, Celery beat)."""
    from recruitment.imports import import_uploads_purge

    return import_uploads_purge()
