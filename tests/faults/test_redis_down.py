"""Redis down (broker, result store and cache at once) against the real services: a Redis
of the test's own that is not running, then started; real Celery workers in subprocesses.

What must hold: pages and the API keep answering (the cache degrades, throttles fail open);
work asked for while the broker is down is committed with the change that asked for it and
the user is told it is delayed; once Redis is back the reconcilers send it, a real worker
does it, exactly once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from laborlink import cache as resilient_cache
from laborlink.models import Notification, Organization, OutboxTask
from laborlink.outbox import outbox_reconcile, send_now
from matching.models import Match, MatchRun
from matching.services import runs_reconcile
from recruitment.models import JobPosting
from recruitment.services import posting_create
from tests.factories import OrganizationFactory, posting_values, province
from tests.faults.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

EN = {"Accept-Language": "en"}


def _draft(hr_officer, targets=("51", "52")) -> JobPosting:
    return posting_create(actor=hr_officer, target_provinces=list(targets), **posting_values())


def _backdate_outbox() -> None:
    """As if the beat's minute had passed since the rows were written or last sent."""
    earlier = timezone.now() - timedelta(minutes=2)
    OutboxTask.objects.filter(done_at__isnull=True).update(created_at=earlier)
    OutboxTask.objects.filter(done_at__isnull=True, sent_at__isnull=False).update(sent_at=earlier)


def test_pages_and_the_api_answer_with_redis_down_and_say_what_is_delayed(
    own_redis, hr_officer, sichuan_officer, agreements, client, caplog
):
    assert not own_redis.answers()  # never started: nothing listens on its port
    posting = _draft(hr_officer)
    caplog.set_level(logging.INFO)

    # The cache answers as an empty cache (throttles fail open) instead of raising.
    assert cache.get("anything", "default") == "default"
    assert cache.set("anything", 1) is None
    assert cache.incr("hits") == 1

    client.force_login(hr_officer)
    assert client.get(reverse("home")).status_code == 200
    listed = client.get("/api/v1/postings/")  # throttled: the throttle reads the cache
    assert listed.status_code == 200, listed.content[:300]
    published = client.post(f"/api/v1/postings/{posting.pk}/publish/", headers=EN)
    assert published.status_code == 200
    assert published.json()["status"] == JobPosting.Status.OPEN
    assert "Notifying the bureaus is delayed" in published.json()["notice"]

    client.force_login(sichuan_officer)
    requested = client.post("/api/v1/matching/runs/", {"algorithm": "optimal"}, headers=EN)
    assert requested.status_code == 201, requested.content[:300]
    assert requested.json()["status"] == MatchRun.Status.REQUESTED
    assert "will start when the task queue is back" in requested.json()["notice"]

    # Both are committed: the posting is open with its notification pending, the run waits.
    row = OutboxTask.objects.get()
    assert (row.task, row.args) == ("recruitment.notify_posting_published", [posting.pk])
    assert row.sent_at is None and row.done_at is None and row.attempts == 1
    assert row.last_error.startswith("broker unavailable")
    assert MatchRun.objects.get().status == MatchRun.Status.REQUESTED

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("cache unavailable" in message for message in warnings)
    assert any("not sent" in message for message in warnings)
    # one warning per outage, and never a cache key (they may derive from addresses)
    assert sum("cache unavailable" in message for message in warnings) == 1
    assert not any("throttle" in message or ":1:" in message for message in warnings)

    # Redis answers again: once the short back-off is over (made to pass here), so does the
    # cache.
    own_redis.start()
    assert cache.get("back") is None and not own_redis.client().keys("faults:*")
    resilient_cache._down_until.update(dict.fromkeys(resilient_cache._down_until, 0.0))
    cache.set("back", 1)
    assert cache.get("back") == 1 and own_redis.client().keys("faults:*")


def test_a_posting_published_while_redis_is_down_notifies_each_bureau_once_it_is_back(
    own_redis,
    start_worker,
    hr_officer,
    sichuan_officer,
    sichuan_bureau,
    guizhou_bureau,
    zhejiang_bureau,
    agreements,
    client,
):
    chengdu = OrganizationFactory(
        name="成都市人力资源和社会保障局",
        province=province("51"),
        level=Organization.Level.CITY,
        city="成都市",
    )
    posting = _draft(hr_officer)
    client.force_login(hr_officer)

    page = client.post(
        reverse("recruitment:posting-publish", args=[posting.pk]), follow=True, headers=EN
    )

    assert page.status_code == 200
    assert "Notifying the bureaus is delayed; it will be sent automatically." in page.text
    posting.refresh_from_db()
    assert posting.status == JobPosting.Status.OPEN
    row = OutboxTask.objects.get(task="recruitment.notify_posting_published")
    assert row.args == [posting.pk] and row.done_at is None and row.sent_at is None
    assert not Notification.objects.exists()

    # Beat's reconciler while Redis is still down: the row stays, nothing is done.
    _backdate_outbox()
    assert outbox_reconcile() == []
    row.refresh_from_db()
    assert (row.attempts, row.done_at) == (2, None)

    own_redis.start()
    start_worker()
    assert outbox_reconcile() == [row.pk]
    wait_for(
        lambda: OutboxTask.objects.filter(pk=row.pk, done_at__isnull=False).exists(),
        60,
        what="the worker to notify the bureaus",
    )

    told = set(Notification.objects.values_list("organization_id", flat=True))
    assert told == {sichuan_bureau.pk, chengdu.pk, guizhou_bureau.pk}  # not Zhejiang's
    assert Notification.objects.count() == 3
    assert outbox_reconcile() == []  # done: nothing is sent again

    # The same message delivered once more (a redelivery) changes nothing.
    assert send_now(row.task, row.args, {"outbox_id": row.pk})
    redis_client = own_redis.client()
    wait_for(
        lambda: own_redis.queued() == 0 and redis_client.hlen("unacked") == 0,
        30,
        what="the duplicate to be consumed",
    )
    assert Notification.objects.count() == 3

    # The Sichuan bureau sees the notice on its home page, with a link to the posting.
    client.force_login(sichuan_officer)
    home = client.get(reverse("home"), headers=EN).text
    assert posting.title in home
    assert reverse("recruitment:posting-detail", args=[posting.pk]) in home


def test_a_run_requested_while_redis_is_down_is_kept_and_run_once_it_is_back(
    own_redis, start_worker, sichuan_officer, market, client
):
    client.force_login(sichuan_officer)

    page = client.post(
        reverse("matching:run-new"), {"algorithm": "optimal"}, follow=True, headers=EN
    )

    assert page.status_code == 200
    run = MatchRun.objects.get()
    assert f"Matching run #{run.pk} is recorded and will start when the task queue is back." in (
        page.text
    )
    assert (run.status, run.attempts) == (MatchRun.Status.REQUESTED, 0)

    MatchRun.objects.update(requested_at=timezone.now() - timedelta(minutes=2))
    assert runs_reconcile() == []  # still down: nothing sent, the run stays requested
    assert MatchRun.objects.get().status == MatchRun.Status.REQUESTED

    own_redis.start()
    start_worker()
    assert runs_reconcile() == [run.pk]
    wait_for(
        lambda: MatchRun.objects.filter(
            pk=run.pk, status__in=[MatchRun.Status.DONE, MatchRun.Status.FAILED]
        ).exists(),
        90,
        what="the worker to run the match",
    )

    run.refresh_from_db()
    assert run.status == MatchRun.Status.DONE, run.error
    assert run.attempts == 1
    assert run.matched_count == Match.objects.filter(run=run).count() == 3
    assert runs_reconcile() == []
