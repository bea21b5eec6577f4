"""Redis killed and started again empty while work waits in its queue (no worker was
consuming): the messages are gone, the database still knows the work; the reconcilers send
it again and a real worker does each piece exactly once, a further delivery nothing more."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from laborlink.models import Notification, OutboxTask
from laborlink.outbox import outbox_reconcile, send_now
from matching import services as matching
from matching.models import Match, MatchRun
from recruitment.imports import import_check, import_start
from recruitment.models import Applicant, ImportBatch
from recruitment.services import posting_create, posting_publish
from tests.factories import posting_values
from tests.faults.conftest import wait_for
from tests.recruitment.import_files import csv_upload, row

pytestmark = pytest.mark.django_db(transaction=True)


def test_work_lost_with_a_redis_restarted_empty_is_sent_again_and_done_once(
    own_redis, start_worker, hr_officer, sichuan_officer, guizhou_bureau, market
):
    own_redis.start()
    assert own_redis.queued() == 0  # (the market's postings were published before Redis ran)

    posting = posting_create(actor=hr_officer, target_provinces=["51", "52"], **posting_values())
    posting = posting_publish(actor=hr_officer, posting=posting)  # autocommit: sent at once
    run = matching.run_request(actor=sichuan_officer)
    checked = import_check(actor=sichuan_officer, upload=csv_upload([row(), row(), row()]))
    batch = import_start(actor=sichuan_officer, batch=checked)

    # Three messages wait in Redis, nobody consumes them; then Redis dies and comes back empty.
    assert own_redis.queued() == 3
    own_redis.kill()
    own_redis.start()
    assert own_redis.queued() == 0
    start_worker()

    # A minute later (beat's schedule), the reconcilers send again what is not done.
    earlier = timezone.now() - timedelta(minutes=2)
    OutboxTask.objects.update(created_at=earlier, sent_at=earlier)
    MatchRun.objects.update(requested_at=earlier)
    pending = set(OutboxTask.objects.values_list("pk", flat=True))
    assert len(pending) == 4  # this posting's notice, the import, the market's two notices
    assert set(outbox_reconcile()) == pending
    assert matching.runs_reconcile() == [run.pk]

    wait_for(
        lambda: (
            not OutboxTask.objects.filter(done_at__isnull=True).exists()
            and MatchRun.objects.filter(pk=run.pk, status=MatchRun.Status.DONE).exists()
        ),
        90,
        what="the worker to do all the work",
    )

    def outcome():
        return (
            Notification.objects.filter(object_id=posting.pk).count(),
            Notification.objects.count(),
            Applicant.objects.filter(import_batch=batch).count(),
            Match.objects.filter(run=run).count(),
        )

    batch.refresh_from_db()
    assert (batch.status, batch.created_count) == (ImportBatch.Status.DONE, 3)
    run.refresh_from_db()
    assert (run.status, run.attempts) == (MatchRun.Status.DONE, 1)
    # Sichuan's and Guizhou's bureaus for this posting, Sichuan's for each market posting.
    assert outcome() == (2, 4, 3, run.matched_count)
    assert outbox_reconcile() == []
    assert matching.runs_reconcile() == []

    # Every message delivered once more (as a redelivery would): nothing is done twice.
    for deferred in OutboxTask.objects.all():
        assert send_now(deferred.task, deferred.args, {"outbox_id": deferred.pk})
    assert send_now("matching.execute_run", [run.pk])
    redis_client = own_redis.client()
    wait_for(
        lambda: own_redis.queued() == 0 and redis_client.hlen("unacked") == 0,
        30,
        what="the duplicates to be consumed",
    )
    assert outcome() == (2, 4, 3, run.matched_count)
    run.refresh_from_db()
    assert (run.status, run.attempts) == (MatchRun.Status.DONE, 1)
