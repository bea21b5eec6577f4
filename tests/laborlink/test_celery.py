"""Celery runs on the real Redis broker: JSON only, late acks, enqueued after commit."""

from __future__ import annotations

import pytest
from celery.contrib.testing.worker import start_worker
from celery.result import AsyncResult
from celery.signals import before_task_publish

from laborlink.celery import app
from laborlink.tasks import ping


def test_configuration_is_safe_for_lost_workers():
    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert conf.broker_url.startswith(("redis://", "rediss://"))
    assert conf.timezone == "Asia/Shanghai"
    assert isinstance(conf.beat_schedule, dict)


@pytest.fixture
def published():
    """Ids of the task messages actually handed to the broker."""
    ids: list[str] = []

    def record(sender=None, headers=None, **kwargs):
        ids.append(headers["id"])

    before_task_publish.connect(record, weak=False)
    yield ids
    before_task_publish.disconnect(record)


@pytest.mark.django_db(transaction=True)
def test_task_is_enqueued_only_after_commit_and_runs_on_a_real_worker(published):
    from django.db import transaction

    with start_worker(app, perform_ping_check=False, pool="solo", concurrency=1):
        with transaction.atomic():
            ping.delay_on_commit()
            assert published == []  # held back while the transaction is open
        assert len(published) == 1  # handed to Redis at commit
        answer = AsyncResult(published[0], app=app).get(timeout=20)
    assert answer[:4].isdigit() and "T" in answer


@pytest.mark.django_db(transaction=True)
def test_rolled_back_transaction_enqueues_nothing(published):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        ping.delay_on_commit()
        raise RuntimeError("roll back")
    assert published == []
