"""Recruitment tasks. Thin: they take ids and call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="recruitment.import_batch")
def import_batch(batch_id: int, outbox_id: int | None = None) -> str | None:
    """Import a queued applicant file (`imports.import_run`, safe to run twice). Sent by the
    outbox: its row is done once the batch is imported or failed."""
    import pghistory

    from laborlink.outbox import outbox_execute
    from recruitment.imports import import_run
    from recruitment.models import ImportBatch

    # The applicants it writes are attributed to the officer who uploaded the file.
    uploader = (
        ImportBatch.objects.filter(pk=batch_id).values_list("uploaded_by_id", flat=True).first()
    )
    outcome: list[str] = []

    def work() -> bool:
        with pghistory.context(user=uploader, import_batch=batch_id):
            batch = import_run(batch_id)
        if batch is not None:
            outcome.append(batch.status)
        # Not claimed: finished already, or another worker is importing it (then the row
        # stays pending until that import ends, and a later send finds it finished).
        status = ImportBatch.objects.filter(pk=batch_id).values_list("status", flat=True).first()
        return status not in (ImportBatch.Status.QUEUED, ImportBatch.Status.IMPORTING)

    outbox_execute(outbox_id, work)
    return outcome[0] if outcome else None


@shared_task(name="recruitment.notify_posting_published")
def notify_posting_published(posting_id: int, outbox_id: int | None = None) -> int | None:
    """Tell the target provinces' bureaus that a posting is open (sent by the outbox)."""
    from laborlink.outbox import outbox_execute
    from recruitment.notices import posting_notify_bureaus

    told: list[int] = []

    def work() -> bool:
        told.append(posting_notify_bureaus(posting_id=posting_id))
        return True

    outbox_execute(outbox_id, work)
    return told[0] if told else None


@shared_task(name="recruitment.purge_import_uploads")
def purge_import_uploads() -> int:
    """Discard uploaded files that were checked but never imported (hourly, Celery beat)."""
    from recruitment.imports import import_uploads_purge

    return import_uploads_purge()
