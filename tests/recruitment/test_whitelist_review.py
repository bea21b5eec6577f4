"""Two-key whitelist review: the exporting bureau decides, the importing bureau countersigns."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from laborlink.errors import Conflict, DomainError, NotFound
from recruitment import selectors
from recruitment.models import WhitelistDecision, WhitelistEntry
from recruitment.services import (
    applicant_update,
    whitelist_approve,
    whitelist_countersign,
    whitelist_reject,
    whitelist_return,
    whitelist_revoke,
)
from tests.factories import make_applicant

pytestmark = pytest.mark.django_db


def in_days(days: int):
    return timezone.localdate() + timedelta(days=days)


@pytest.fixture
def applicants(sichuan_officer, agreements):
    return [make_applicant(sichuan_officer, name=f"申请人{c}") for c in "甲乙丙"]


def approve(officer, applicants, province="33", days=90):
    return whitelist_approve(
        actor=officer,
        applicants=[a.pk for a in applicants],
        importing_province=province,
        expires_on=in_days(days),
    )


def test_only_approved_and_countersigned_unexpired_entries_are_effective(
    sichuan_officer, zhejiang_officer, applicants
):
    entries = approve(sichuan_officer, applicants)
    assert not selectors.whitelist_effective().exists()
    whitelist_countersign(actor=zhejiang_officer, entries=[e.pk for e in entries])
    assert selectors.whitelist_effective().count() == 3
    assert not selectors.whitelist_effective(on=in_days(91)).exists()


def test_bulk_approval_is_all_or_nothing_without_consent(sichuan_officer, applicants):
    no_consent = make_applicant(sichuan_officer, consent=False, name="未同意")
    with pytest.raises(DomainError) as info:
        approve(sichuan_officer, [*applicants, no_consent])
    assert "未同意" in str(info.value.message)
    assert not WhitelistEntry.objects.filter(status="approved").exists()


def test_approval_needs_an_agreement_in_force(sichuan_officer, applicants):
    with pytest.raises(DomainError) as info:
        approve(sichuan_officer, applicants, province="44")
    assert info.value.code == "no_agreement"


def test_approval_must_expire_in_the_future_and_within_a_year(sichuan_officer, applicants):
    with pytest.raises(DomainError):
        approve(sichuan_officer, applicants, days=0)
    with pytest.raises(DomainError):
        approve(sichuan_officer, applicants, days=400)


def test_reject_and_revoke_need_a_reason(sichuan_officer, applicants):
    with pytest.raises(DomainError):
        whitelist_reject(
            actor=sichuan_officer,
            applicants=[applicants[0].pk],
            importing_province="33",
            reason=" ",
        )
    whitelist_reject(
        actor=sichuan_officer,
        applicants=[applicants[0].pk],
        importing_province="33",
        reason="体检未通过",
    )
    entries = approve(sichuan_officer, applicants[1:])
    with pytest.raises(DomainError):
        whitelist_revoke(actor=sichuan_officer, entries=[entries[0].pk], reason="")
    whitelist_revoke(actor=sichuan_officer, entries=[entries[0].pk], reason="本人放弃外出")
    statuses = dict(WhitelistEntry.objects.values_list("applicant__name", "status"))
    assert statuses == {"申请人甲": "rejected", "申请人乙": "revoked", "申请人丙": "approved"}


def test_a_decided_applicant_cannot_be_approved_again(sichuan_officer, applicants):
    approve(sichuan_officer, applicants[:1])
    with pytest.raises(Conflict):
        approve(sichuan_officer, applicants[:1])


def test_return_sends_the_entry_back_to_the_review_queue(
    sichuan_officer, zhejiang_officer, applicants
):
    entries = approve(sichuan_officer, applicants)
    queue = selectors.applicants_for_review(sichuan_officer, province="33")
    assert queue.count() == 0
    with pytest.raises(DomainError):
        whitelist_return(actor=zhejiang_officer, entries=[entries[0].pk], reason="")
    whitelist_return(actor=zhejiang_officer, entries=[entries[0].pk], reason="电话号码有误")
    assert list(queue.values_list("pk", flat=True)) == [applicants[0].pk]
    entry = WhitelistEntry.objects.get(pk=entries[0].pk)
    assert (entry.status, entry.countersign, entry.countersign_reason) == (
        "pending",
        "returned",
        "电话号码有误",
    )
    # corrected and approved again: it awaits a new countersignature
    approve(sichuan_officer, applicants[:1])
    entry.refresh_from_db()
    assert (entry.status, entry.countersign) == ("approved", "awaiting")


def test_only_the_importing_province_countersigns(sichuan_officer, guizhou_officer, applicants):
    entries = approve(sichuan_officer, applicants)
    with pytest.raises(NotFound):
        whitelist_countersign(actor=guizhou_officer, entries=[entries[0].pk])
    with pytest.raises(NotFound):
        whitelist_countersign(actor=sichuan_officer, entries=[entries[0].pk])


def test_an_expired_approval_cannot_be_countersigned(sichuan_officer, zhejiang_officer, applicants):
    entries = approve(sichuan_officer, applicants[:1])
    WhitelistEntry.objects.filter(pk=entries[0].pk).update(expires_on=in_days(-1))
    with pytest.raises(Conflict):
        whitelist_countersign(actor=zhejiang_officer, entries=[entries[0].pk])


def test_guizhou_cannot_decide_on_sichuan_applicants(guizhou_officer, applicants):
    with pytest.raises(NotFound):
        approve(guizhou_officer, applicants)
    assert not WhitelistEntry.objects.exists()


def test_every_decision_is_in_the_history_with_who_when_why(
    sichuan_officer, zhejiang_officer, applicants
):
    entries = approve(sichuan_officer, applicants[:1])
    whitelist_return(actor=zhejiang_officer, entries=[entries[0].pk], reason="请核对技能")
    approve(sichuan_officer, applicants[:1])
    whitelist_countersign(actor=zhejiang_officer, entries=[entries[0].pk])
    history = list(selectors.whitelist_history(sichuan_officer, applicants[0]))
    assert [(d.action, d.actor, d.reason) for d in history] == [
        ("approve", sichuan_officer, ""),
        ("return", zhejiang_officer, "请核对技能"),
        ("approve", sichuan_officer, ""),
        ("countersign", zhejiang_officer, ""),
    ]
    assert all(d.decided_at for d in history)
    assert WhitelistDecision.objects.count() == 4


def test_the_importing_bureau_sees_only_entries_shared_with_it(
    sichuan_officer, zhejiang_officer, guizhou_officer, applicants
):
    approve(sichuan_officer, applicants[:2])
    whitelist_reject(
        actor=sichuan_officer,
        applicants=[applicants[2].pk],
        importing_province="33",
        reason="不符合",
    )
    visible = selectors.whitelist_entries_visible_to(zhejiang_officer)
    assert visible.count() == 2
    assert selectors.applicants_visible_to(zhejiang_officer).count() == 2
    assert not selectors.whitelist_entries_visible_to(guizhou_officer).exists()
    assert not selectors.applicants_visible_to(guizhou_officer).exists()


def test_without_consent_an_applicant_stays_off_the_whitelist(sichuan_officer, applicants):
    applicant_update(actor=sichuan_officer, applicant=applicants[0], consent=False)
    with pytest.raises(DomainError) as info:
        approve(sichuan_officer, applicants[:1])
    assert info.value.code == "no_consent"


def test_a_revoked_or_lapsed_approval_can_be_renewed(sichuan_officer, zhejiang_officer, applicants):
    entry = approve(sichuan_officer, applicants[:1])[0]
    whitelist_countersign(actor=zhejiang_officer, entries=[entry.pk])
    whitelist_revoke(actor=sichuan_officer, entries=[entry.pk], reason="暂缓外出")
    queue = selectors.applicants_for_review(sichuan_officer, province="33").filter(
        pk=applicants[0].pk
    )
    assert not queue.exists()
    assert (
        selectors.applicants_for_review(sichuan_officer, province="33", include_decided=True)
        .filter(pk=applicants[0].pk)
        .exists()
    )
    renewed = approve(sichuan_officer, applicants[:1])[0]
    assert (renewed.pk, renewed.status, renewed.countersign) == (entry.pk, "approved", "awaiting")
    # a lapsed approval comes back to the queue and can be approved again
    WhitelistEntry.objects.filter(pk=entry.pk).update(expires_on=in_days(-1))
    assert list(queue) == [applicants[0]]
    approve(sichuan_officer, applicants[:1])
    assert WhitelistEntry.objects.get(pk=entry.pk).expires_on == in_days(90)
    actions = list(WhitelistDecision.objects.values_list("action", flat=True))
    assert actions == ["approve", "countersign", "revoke", "approve", "approve"]


def test_a_returned_then_rejected_applicant_is_no_longer_shared(
    sichuan_officer, zhejiang_officer, applicants
):
    entry = approve(sichuan_officer, applicants[:1])[0]
    whitelist_return(actor=zhejiang_officer, entries=[entry.pk], reason="材料不全")
    assert selectors.applicants_visible_to(zhejiang_officer).exists()
    whitelist_reject(
        actor=sichuan_officer,
        applicants=[applicants[0].pk],
        importing_province="33",
        reason="不符合",
    )
    assert not selectors.applicants_visible_to(zhejiang_officer).exists()
    assert not selectors.whitelist_entries_visible_to(zhejiang_officer).exists()
