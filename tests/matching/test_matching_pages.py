"""Matching pages: runs (request, detail with rule counts and province pairs), matches."""

from __future__ import annotations

import pytest
from django.urls import reverse

from matching import services
from matching.models import MatchRun

pytestmark = pytest.mark.django_db


def test_a_bureau_officer_runs_matching_and_reads_why(client, sichuan_officer, market):
    client.force_login(sichuan_officer)
    response = client.post(reverse("matching:run-new"), {"algorithm": "optimal"})
    run = MatchRun.objects.get()
    assert response["Location"] == reverse("matching:run-detail", args=[run.pk])
    assert client.get(reverse("matching:run-new")).status_code == 405
    services.run_execute(run.pk)
    page = client.get(reverse("matching:run-detail", args=[run.pk])).content.decode()
    assert "四川省" in page and "浙江省" in page
    assert 'data-testid="rule-counts"' in page
    matches = client.get(reverse("matching:match-list")).content.decode()
    assert "甲工" in matches
    assert "技能" in matches  # the score breakdown, in Chinese
    progress = client.get(reverse("matching:run-progress", args=[run.pk])).json()
    assert progress["status"] == "done" and progress["percent"] == 100


def test_a_second_run_while_one_is_pending_is_refused_with_a_message(
    client, sichuan_officer, market
):
    client.force_login(sichuan_officer)
    client.post(reverse("matching:run-new"), {"algorithm": "optimal"})
    response = client.post(reverse("matching:run-new"), {"algorithm": "optimal"}, follow=True)
    assert MatchRun.objects.count() == 1
    assert "#" in response.content.decode()


def test_other_roles_have_no_run_pages(client, hr_officer, health_officer):
    for user in (hr_officer, health_officer):
        client.force_login(user)
        assert client.get(reverse("matching:run-list")).status_code == 404
