"""Deferred work that survives a broker outage: a transactional outbox.

A service that calls for work in the background (notify the bureaus of a new posting,
import a checked file) writes an `OutboxTask` row with `outbox_enqueue` in the same
transaction as its own change: both are committed, or neither. After the commit the row is
sent to the task queue; if Redis is down the send fails fast, is logged, and the request
carries on (a page says the work is delayed: see `deliveries`). Every minute
`outbox_reconcile` (Celery beat, `laborlink.reconcile_outbox`) sends again the rows not done
a minute after their last send, so the work also survives a Redis restarted empty or a
worker that died. A task fed by the outbox runs its work through `outbox_execute`, which
skips rows done already or in hand on another worker and marks the row done afterwards, so a
repeated delivery does not do the work twice.

Matching runs keep their own ledger (`MatchRun.status`, `matching.services.runs_reconcile`)
and use only `send_now` from here.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from laborlink.models import OutboxTask

logger = logging.getLogger(__name__)

OUTBOX_LOCK_KEY = 7303  # pg advisory lock namespace: one worker per outbox row at a time
RESEND_AFTER_SECONDS = 60
KEEP_DONE_DAYS = 7
RECONCILE_BATCH = 500
# Sends from a request must fail fast when Redis is unreachable: no retries, short timeouts.
SEND_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}


@dataclass
class DeliveryReport:
    """What became of the tasks sent while it was current (see `deliveries`)."""

    sent: int = 0
    failed: int = 0

    @property
    def delayed(self) -> bool:
        return self.failed > 0


_report: ContextVar[DeliveryReport | None] = ContextVar("outbox_delivery_report", default=None)


@contextlib.contextmanager
def deliveries() -> Iterator[DeliveryReport]:
    """Count the sends made inside the block, commit callbacks included, so that a view can
    tell the user when the work it asked for waits for the task queue to come back:

        with outbox.deliveries() as report:
            services.posting_publish(...)
        if report.delayed: ...
    """
    report = DeliveryReport()
    token = _report.set(report)
    try:
        yield report
    finally:
        _report.reset(token)


def _note(*, sent: int = 0, failed: int = 0) -> None:
    report = _report.get()
    if report is not None:
        report.sent += sent
        report.failed += failed


def _tasks() -> Any:
    """The Celery app's task registry, with every app's tasks module imported (a web
    process imports them on first use only; Celery's own way would set Django up again)."""
    from django.apps import apps

    from laborlink.celery import app

    global _modules_imported
    if not _modules_imported:
        for config in apps.get_app_configs():
            if importlib.util.find_spec(f"{config.name}.tasks") is not None:
                importlib.import_module(f"{config.name}.tasks")
        _modules_imported = True
    return app.tasks


_modules_imported = False


def _publish(messages: Sequence[tuple[str, list[Any], dict[str, Any], str | None]]) -> int:
    """Hand messages to the broker on one fresh connection (a pooled one may be a dead
    connection left from before a Redis restart); returns how many were sent, raises the
    first failure."""
    from laborlink.celery import app

    count = 0
    with app.connection_for_write(transport_options=SEND_TRANSPORT_OPTIONS) as conn:
        conn.ensure_connection(max_retries=0)
        for name, args, kwargs, task_id in messages:
            # ignore_result: nobody waits on these results, and subscribing to a result
            # channel retries for a long time when Redis is down.
            _tasks()[name].apply_async(
                args=args,
                kwargs=kwargs,
                task_id=task_id,
                connection=conn,
                retry=False,
                ignore_result=True,
            )
            count += 1
    return count


def send_now(name: str, args: Sequence[Any], kwargs: dict[str, Any] | None = None) -> bool:
    """Send one task at once; True if the broker took it. A failure is logged, not raised."""
    try:
        _publish([(name, list(args), kwargs or {}, None)])
    except Exception as exc:
        logger.warning("task %s not sent: broker unavailable (%s)", name, type(exc).__name__)
        _note(failed=1)
        return False
    _note(sent=1)
    return True


def _check_args(args: Sequence[Any]) -> list[Any]:
    for value in args:
        if not isinstance(value, int | str | bool | type(None)) or (
            isinstance(value, str) and len(value) > 64
        ):
            raise TypeError("outbox task arguments are ids and short codes only")
    return list(args)


def outbox_enqueue(*, task: str, args: Sequence[Any] = ()) -> OutboxTask:
    """Record deferred work in the current transaction and send it after the commit.

    `args` are ids and short codes (never personal data: they are stored and logged). The
    task must accept an `outbox_id` keyword and run its work through `outbox_execute`."""
    if task not in _tasks():
        raise ValueError(f"unknown task {task!r}")
    row = OutboxTask.objects.create(task=task, args=_check_args(args))
    # robust: a failure here (the database gone at that moment) must not fail the request
    # whose change is committed; the reconciler finds the row anyway.
    transaction.on_commit(lambda: _send_rows([row]), robust=True)
    return row


def message_id(row: OutboxTask) -> str:
    """The task id of every message sent for the row (a resend is the same task)."""
    return f"outbox-{row.pk}"


def _send_rows(rows: Sequence[OutboxTask]) -> list[int]:
    """Send rows, record the attempt on each; returns the ids the broker took."""
    if not rows:
        return []
    messages = [(row.task, row.args, {"outbox_id": row.pk}, message_id(row)) for row in rows]
    error = ""
    try:
        taken = _publish(messages)
    except Exception as exc:
        taken = 0  # counted as failed, all of them: a second send of one is harmless
        error = f"broker unavailable: {type(exc).__name__}"
        logger.warning(
            "deferred tasks %s not sent (%s); the reconciler will send them",
            ",".join(str(row.pk) for row in rows),
            type(exc).__name__,
        )
    sent = [row.pk for row in rows[:taken]]
    failed = [row.pk for row in rows[taken:]]
    now = timezone.now()
    if sent:
        OutboxTask.objects.filter(pk__in=sent).update(
            sent_at=now, attempts=F("attempts") + 1, last_error=""
        )
    if failed:
        OutboxTask.objects.filter(pk__in=failed).update(
            attempts=F("attempts") + 1, last_error=error[:300]
        )
    _note(sent=len(sent), failed=len(failed))
    return sent


def outbox_reconcile(*, resend_after: int = RESEND_AFTER_SECONDS) -> list[int]:
    """Send again the rows not done `resend_after` seconds after their last send (or after
    they were written, if never sent); forget rows done more than a week ago. Returns the
    ids sent."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=resend_after)
    with transaction.atomic():
        rows = list(
            OutboxTask.objects.select_for_update(skip_locked=True)
            .filter(done_at__isnull=True)
            .filter(Q(sent_at__lt=cutoff) | Q(sent_at__isnull=True, created_at__lt=cutoff))
            .order_by("created_at", "id")[:RECONCILE_BATCH]
        )
        sent = _send_rows(rows)
    OutboxTask.objects.filter(done_at__lt=now - timedelta(days=KEEP_DONE_DAYS)).delete()
    if rows:
        logger.info("outbox: %d of %d pending tasks sent again", len(sent), len(rows))
    return sent


def outbox_execute(outbox_id: int | None, work: Callable[[], bool]) -> bool | None:
    """Do a task's work for its outbox row at most once at a time, and mark the row done
    when `work()` returns True (False: not finished, the reconciler will send it again).
    Returns None, doing nothing, when the row is done already or another worker holds it.
    Without an outbox id (a message from before the outbox) the work simply runs."""
    if outbox_id is None:
        return work()
    lock = [OUTBOX_LOCK_KEY, int(outbox_id) & 0x7FFFFFFF]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", lock)
        if not cursor.fetchone()[0]:
            logger.info("deferred task %s is in hand on another worker", outbox_id)
            return None
    try:
        if not OutboxTask.objects.filter(pk=outbox_id, done_at__isnull=True).exists():
            logger.info("deferred task %s is done already", outbox_id)
            return None
        try:
            finished = bool(work())
        except Exception as exc:
            OutboxTask.objects.filter(pk=outbox_id).update(last_error=type(exc).__name__[:300])
            raise
        if finished:
            OutboxTask.objects.filter(pk=outbox_id, done_at__isnull=True).update(
                done_at=timezone.now(), last_error=""
            )
        return finished
    finally:
        with contextlib.suppress(Exception), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", lock)
