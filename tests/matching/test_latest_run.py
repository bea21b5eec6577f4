"""The newest finished run, read by a prepared statement (selectors.latest_run_id), is the one
the ORM's selector (selectors.latest_run) finds."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from matching import selectors
from matching.models import MatchRun

pytestmark = pytest.mark.django_db


def _run(status: str, finished_minutes_ago: int | None) -> MatchRun:
    finished = None
    if finished_minutes_ago is not None:
        finished = timezone.now() - timedelta(minutes=finished_minutes_ago)
    return MatchRun.objects.create(
        trigger="nightly",
        algorithm="optimal",
        run_date=date(2026, 11, 22),
        status=status,
        finished_at=finished,
    )


def test_none_before_any_run_finished():
    _run(MatchRun.Status.RUNNING, None)
    assert selectors.latest_run_id() is None
    assert selectors.latest_run() is None


def test_the_newest_finished_run_whatever_was_created_last():
    newest = _run(MatchRun.Status.DONE, 5)
    _run(MatchRun.Status.DONE, 60)
    _run(MatchRun.Status.FAILED, 1)
    _run(MatchRun.Status.REQUESTED, None)
    for _ in range(7):  # also once prepared (after the fifth time)
        assert selectors.latest_run_id() == newest.pk == selectors.latest_run().pk
