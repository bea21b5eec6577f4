"""The outbox's own rules: written with the change or not at all, ids only, a row done once,
done rows forgotten after a week."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from laborlink import outbox
from laborlink.models import OutboxTask


def test_work_of_a_rolled_back_change_is_neither_written_nor_sent(
    db, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(outbox, "_publish", lambda messages: sent.extend(messages) or 0)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        outbox.outbox_enqueue(task="recruitment.import_batch", args=[1])
        raise RuntimeError("the change is refused")
    assert callbacks == [] and sent == []
    assert not OutboxTask.objects.exists()


def test_only_known_tasks_and_plain_ids_are_accepted(db):
    with pytest.raises(ValueError, match="unknown task"):
        outbox.outbox_enqueue(task="recruitment.no_such_task", args=[1])
    with pytest.raises(TypeError):
        outbox.outbox_enqueue(task="recruitment.import_batch", args=[{"phone": "13800000000"}])
    with pytest.raises(TypeError):
        outbox.outbox_enqueue(task="recruitment.import_batch", args=["x" * 65])
    assert not OutboxTask.objects.exists()


def test_a_row_is_worked_once_and_marked_done_only_when_finished(db):
    row = OutboxTask.objects.create(task="recruitment.import_batch", args=[1])
    calls = []

    def unfinished() -> bool:
        calls.append("unfinished")
        return False

    assert outbox.outbox_execute(row.pk, unfinished) is False
    row.refresh_from_db()
    assert row.done_at is None

    def failing() -> bool:
        raise LookupError("boom")

    with pytest.raises(LookupError):
        outbox.outbox_execute(row.pk, failing)
    row.refresh_from_db()
    assert (row.done_at, row.last_error) == (None, "LookupError")

    assert outbox.outbox_execute(row.pk, lambda: calls.append("finished") or True) is True
    row.refresh_from_db()
    assert row.done_at is not None and row.last_error == ""
    # delivered again: the work is not done twice
    assert outbox.outbox_execute(row.pk, lambda: calls.append("again") or True) is None
    assert calls == ["unfinished", "finished"]


def test_the_reconciler_forgets_rows_done_more_than_a_week_ago(db):
    now = timezone.now()
    old = OutboxTask.objects.create(task="recruitment.import_batch", args=[1], done_at=now)
    recent = OutboxTask.objects.create(task="recruitment.import_batch", args=[2], done_at=now)
    OutboxTask.objects.filter(pk=old.pk).update(done_at=now - timedelta(days=8))
    assert outbox.outbox_reconcile() == []
    assert list(OutboxTask.objects.values_list("pk", flat=True)) == [recent.pk]
