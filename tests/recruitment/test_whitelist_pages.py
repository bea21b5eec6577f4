"""Whitelist pages: the exporting review queue, decisions taken, the importing countersignature."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from recruitment.models import WhitelistEntry
from tests.factories import make_applicant

pytestmark = pytest.mark.django_db

REVIEW = reverse("recruitment:whitelist-review")
DECIDED = reverse("recruitment:whitelist-decided")
COUNTERSIGN = reverse("recruitment:whitelist-countersign")


def expiry(days=90):
    return (timezone.localdate() + timedelta(days=days)).isoformat()


@pytest.fixture
def queue(sichuan_officer, agreements):
    return [make_applicant(sichuan_officer, name=f"待审{c}") for c in "甲乙丙"]


def test_the_queue_lists_each_cooperating_importing_province(client, sichuan_officer, queue):
    client.force_login(sichuan_officer)
    page = client.get(REVIEW).content.decode()
    assert "浙江省" in page
    assert all(a.name in page for a in queue)


def test_bulk_approve_then_countersign_makes_entries_effective(
    client, sichuan_officer, zhejiang_officer, queue
):
    client.force_login(sichuan_officer)
    response = client.post(
        f"{REVIEW}?province=33",
        {"applicants": [a.pk for a in queue], "decision": "approve", "expires_on": expiry()},
    )
    assert response.status_code == 302
    assert WhitelistEntry.objects.filter(status="approved").count() == 3
    assert "待审甲" not in client.get(f"{REVIEW}?province=33").content.decode()

    client.force_login(zhejiang_officer)
    page = client.get(COUNTERSIGN).content.decode()
    assert all(a.name in page for a in queue)
    ids = list(WhitelistEntry.objects.values_list("pk", flat=True))
    response = client.post(COUNTERSIGN, {"entries": ids, "action": "countersign"})
    assert response.status_code == 302
    assert WhitelistEntry.objects.filter(countersign="countersigned").count() == 3


def test_reject_without_reason_is_refused_with_a_message(client, sichuan_officer, queue):
    client.force_login(sichuan_officer)
    response = client.post(
        f"{REVIEW}?province=33", {"applicants": [queue[0].pk], "decision": "reject", "reason": ""}
    )
    assert response.status_code == 400
    assert "原因" in response.content.decode() or "reason" in response.content.decode()
    assert not WhitelistEntry.objects.exclude(status="pending").exists()


def test_return_with_reason_puts_the_applicant_back_in_the_queue(
    client, sichuan_officer, zhejiang_officer, queue
):
    client.force_login(sichuan_officer)
    client.post(
        f"{REVIEW}?province=33",
        {"applicants": [queue[0].pk], "decision": "approve", "expires_on": expiry()},
    )
    entry = WhitelistEntry.objects.get()
    client.force_login(zhejiang_officer)
    refused = client.post(COUNTERSIGN, {"entries": [entry.pk], "action": "return", "reason": ""})
    assert refused.status_code == 400
    client.post(
        COUNTERSIGN, {"entries": [entry.pk], "action": "return", "reason": "技能与岗位不符"}
    )
    client.force_login(sichuan_officer)
    page = client.get(f"{REVIEW}?province=33").content.decode()
    assert "待审甲" in page and "技能与岗位不符" in page
    history = client.get(reverse("recruitment:applicant-detail", args=[queue[0].pk]))
    assert "技能与岗位不符" in history.content.decode()


def test_revoke_from_decisions_page(client, sichuan_officer, queue):
    client.force_login(sichuan_officer)
    client.post(
        f"{REVIEW}?province=33",
        {"applicants": [queue[0].pk], "decision": "approve", "expires_on": expiry()},
    )
    entry = WhitelistEntry.objects.get()
    response = client.post(
        DECIDED, {"entries": [entry.pk], "action": "revoke", "reason": "本人放弃"}
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.status, entry.reason) == ("revoked", "本人放弃")


def test_another_province_cannot_act_on_entries(client, sichuan_officer, guizhou_officer, queue):
    client.force_login(sichuan_officer)
    client.post(
        f"{REVIEW}?province=33",
        {"applicants": [queue[0].pk], "decision": "approve", "expires_on": expiry()},
    )
    entry = WhitelistEntry.objects.get()
    client.force_login(guizhou_officer)
    assert "待审甲" not in client.get(COUNTERSIGN).content.decode()
    response = client.post(COUNTERSIGN, {"entries": [entry.pk], "action": "countersign"})
    assert response.status_code == 404
    entry.refresh_from_db()
    assert entry.countersign == "awaiting"
    # Guizhou cannot approve Sichuan applicants through its own queue either
    response = client.post(
        f"{REVIEW}?province=33",
        {"applicants": [queue[1].pk], "decision": "approve", "expires_on": expiry()},
    )
    assert response.status_code == 404


def test_an_employer_has_no_whitelist_pages(client, hr_officer):
    client.force_login(hr_officer)
    for url in (REVIEW, DECIDED, COUNTERSIGN):
        assert client.get(url).status_code == 404


def test_queue_and_countersign_query_counts_do_not_grow(
    client, sichuan_officer, zhejiang_officer, agreements
):
    def measure(user, url):
        client.force_login(user)
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        return len(ctx)

    def add(n):
        applicants = [make_applicant(sichuan_officer) for _ in range(n)]
        from recruitment.services import whitelist_approve

        whitelist_approve(
            actor=sichuan_officer,
            applicants=[a.pk for a in applicants[: n // 2]],
            importing_province="33",
            expires_on=timezone.localdate() + timedelta(days=30),
        )

    add(2)
    before = [measure(sichuan_officer, f"{REVIEW}?province=33"), measure(sichuan_officer, DECIDED)]
    before.append(measure(zhejiang_officer, COUNTERSIGN))
    add(12)
    after = [measure(sichuan_officer, f"{REVIEW}?province=33"), measure(sichuan_officer, DECIDED)]
    after.append(measure(zhejiang_officer, COUNTERSIGN))
    assert after == before


def test_a_queue_longer_than_the_count_limit_is_not_counted_in_full(
    client, sichuan_officer, queue, monkeypatch
):
    from recruitment.views import whitelist as pages

    client.force_login(sichuan_officer)
    full = client.get(f"{REVIEW}?province=33", HTTP_ACCEPT_LANGUAGE="en")
    assert full.context["page_obj"].paginator.count == len(queue)
    monkeypatch.setattr(pages, "REVIEW_COUNT_LIMIT", len(queue) - 1)
    capped = client.get(f"{REVIEW}?province=33", HTTP_ACCEPT_LANGUAGE="en")
    paginator = capped.context["page_obj"].paginator
    assert (paginator.count, paginator.count_capped) == (len(queue) - 1, True)
    assert len(capped.context["page_obj"].object_list) == len(queue) - 1
    assert f"More than {len(queue) - 1} applicants await a decision" in capped.content.decode()
