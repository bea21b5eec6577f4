"""The posting services: create, update, publish, pause, close, and what counts as open."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import override

from laborlink.errors import Conflict, DomainError, Forbidden, NotFound
from laborlink.models import Organization, User
from recruitment import selectors, services
from recruitment.models import JobPosting
from tests.factories import OrganizationFactory, UserFactory, make_posting, posting_values, province

Status = JobPosting.Status


@pytest.fixture
def other_hr_officer(db) -> User:
    employer = OrganizationFactory(
        name="宁波某服装有限公司", kind=Organization.Kind.EMPLOYER, province=province("33")
    )
    return UserFactory(role=User.Role.HR_OFFICER, organization=employer)


def _targets(posting: JobPosting) -> set[str]:
    return set(posting.target_provinces.values_list("code", flat=True))


def test_create_targets_every_cooperating_province_by_default(hr_officer, agreements):
    posting = services.posting_create(actor=hr_officer, **posting_values())
    assert posting.status == Status.DRAFT
    assert posting.province_id == "33"
    assert posting.employer == hr_officer.organization
    assert _targets(posting) == {"51", "52"}


def test_create_with_chosen_targets_keeps_only_those(hr_officer, agreements):
    posting = services.posting_create(actor=hr_officer, target_provinces=["52"], **posting_values())
    assert _targets(posting) == {"52"}


def test_create_refuses_a_province_without_agreement_by_name(hr_officer, agreements):
    with pytest.raises(DomainError) as caught, override("zh-hans"):
        services.posting_create(actor=hr_officer, target_provinces=["51", "45"], **posting_values())
    assert caught.value.field == "target_provinces"
    with override("zh-hans"):
        assert "广西壮族自治区" in str(caught.value.message)
    assert not JobPosting.objects.exists()


def test_create_refuses_minimum_wage_above_maximum(hr_officer, agreements):
    with pytest.raises(DomainError) as caught:
        services.posting_create(actor=hr_officer, **posting_values(wage_min=8000, wage_max=6000))
    assert caught.value.field == "wage_max"
    assert not JobPosting.objects.exists()


def test_create_refuses_deadline_after_start(hr_officer, agreements):
    today = timezone.localdate()
    values = posting_values(start_date=today + timedelta(days=5), deadline=today + timedelta(6))
    with pytest.raises(DomainError) as caught:
        services.posting_create(actor=hr_officer, **values)
    assert caught.value.field == "deadline"


def test_create_is_for_hr_officers_only(sichuan_officer, agreements):
    with pytest.raises(Forbidden):
        services.posting_create(actor=sichuan_officer, **posting_values())


def test_update_refuses_fewer_positions_than_filled(hr_officer, agreements):
    posting = make_posting(hr_officer, positions=20)
    JobPosting.objects.filter(pk=posting.pk).update(positions_filled=12)
    with pytest.raises(DomainError) as caught:
        services.posting_update(actor=hr_officer, posting=posting, positions=10)
    assert caught.value.field == "positions"
    assert "12" in str(caught.value.message)
    posting.refresh_from_db()
    assert posting.positions == 20
    services.posting_update(actor=hr_officer, posting=posting, positions=12)
    posting.refresh_from_db()
    assert posting.positions == 12


def test_database_refuses_more_filled_than_positions_even_by_raw_update(hr_officer, agreements):
    posting = make_posting(hr_officer, positions=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        JobPosting.objects.filter(pk=posting.pk).update(positions_filled=6)
    posting.refresh_from_db()
    assert posting.positions_filled == 0


def test_update_changes_targets_but_not_to_none(hr_officer, agreements):
    posting = make_posting(hr_officer, publish=False)
    services.posting_update(actor=hr_officer, posting=posting, target_provinces=["51"])
    assert _targets(posting) == {"51"}
    with pytest.raises(DomainError) as caught:
        services.posting_update(actor=hr_officer, posting=posting, target_provinces=[])
    assert caught.value.field == "target_provinces"
    assert _targets(posting) == {"51"}


def test_publish_pause_and_close_follow_the_status_rules(hr_officer, agreements):
    posting = make_posting(hr_officer, publish=False)
    with pytest.raises(Conflict):
        services.posting_pause(actor=hr_officer, posting=posting)

    posting = services.posting_publish(actor=hr_officer, posting=posting)
    assert posting.status == Status.OPEN
    assert posting.published_at is not None
    with pytest.raises(Conflict):
        services.posting_publish(actor=hr_officer, posting=posting)

    posting = services.posting_pause(actor=hr_officer, posting=posting)
    assert posting.status == Status.PAUSED
    posting = services.posting_publish(actor=hr_officer, posting=posting)
    assert posting.status == Status.OPEN

    posting = services.posting_close(actor=hr_officer, posting=posting)
    assert posting.status == Status.CLOSED
    assert posting.closed_at is not None
    for service in (services.posting_close, services.posting_publish, services.posting_pause):
        with pytest.raises(Conflict):
            service(actor=hr_officer, posting=posting)
    with pytest.raises(Conflict):
        services.posting_update(actor=hr_officer, posting=posting, title="再开")


def test_an_explicitly_empty_target_list_is_refused(hr_officer, agreements):
    with pytest.raises(DomainError) as caught:
        services.posting_create(actor=hr_officer, target_provinces=[], **posting_values())
    assert caught.value.field == "target_provinces"


def test_publish_refuses_a_posting_without_targets(hr_officer):
    # No agreement is in force for Zhejiang: the draft is kept, with no target.
    posting = services.posting_create(actor=hr_officer, **posting_values())
    assert not posting.target_provinces.exists()
    with pytest.raises(DomainError) as caught:
        services.posting_publish(actor=hr_officer, posting=posting)
    assert caught.value.field == "target_provinces"
    posting.refresh_from_db()
    assert posting.status == Status.DRAFT


def test_publish_refuses_a_target_whose_agreement_ended(hr_officer, agreements):
    posting = make_posting(hr_officer, publish=False)
    agreements["zj_gz"].valid_until = timezone.localdate() - timedelta(days=1)
    agreements["zj_gz"].save()
    with pytest.raises(DomainError) as caught, override("zh-hans"):
        services.posting_publish(actor=hr_officer, posting=posting)
    with override("zh-hans"):
        assert "贵州省" in str(caught.value.message)


def test_expired_posting_shows_as_expired_and_is_not_open(hr_officer, agreements):
    posting = make_posting(hr_officer)
    assert posting in selectors.postings_open()
    JobPosting.objects.filter(pk=posting.pk).update(
        deadline=timezone.localdate() - timedelta(days=1)
    )
    posting.refresh_from_db()
    assert posting.status == Status.OPEN
    assert posting.is_expired
    with override("en"):
        assert posting.display_status == "Expired"
    assert posting not in selectors.postings_open()


def test_publish_refuses_a_paused_posting_past_its_deadline(hr_officer, agreements):
    posting = make_posting(hr_officer)
    services.posting_pause(actor=hr_officer, posting=posting)
    JobPosting.objects.filter(pk=posting.pk).update(
        deadline=timezone.localdate() - timedelta(days=1)
    )
    with pytest.raises(DomainError) as caught:
        services.posting_publish(actor=hr_officer, posting=posting)
    assert caught.value.field == "deadline"


@pytest.mark.parametrize(
    "action",
    [
        lambda actor, posting: services.posting_update(actor=actor, posting=posting, title="x"),
        lambda actor, posting: services.posting_publish(actor=actor, posting=posting),
        lambda actor, posting: services.posting_pause(actor=actor, posting=posting),
        lambda actor, posting: services.posting_close(actor=actor, posting=posting),
    ],
    ids=["update", "publish", "pause", "close"],
)
def test_another_employers_officer_gets_not_found(hr_officer, other_hr_officer, agreements, action):
    posting = make_posting(hr_officer)
    with pytest.raises(NotFound):
        action(other_hr_officer, posting)
    posting.refresh_from_db()
    assert posting.title == "医疗器械装配工"
    assert posting.status == Status.OPEN


def test_a_targeted_province_stops_seeing_postings_when_the_agreement_lapses(
    hr_officer, sichuan_officer, agreements
):
    from recruitment import selectors as recruitment_selectors

    posting = make_posting(hr_officer)
    assert recruitment_selectors.postings_visible_to(sichuan_officer).filter(pk=posting.pk).exists()
    agreements["zj_sc"].status = "suspended"
    agreements["zj_sc"].save()
    assert (
        not recruitment_selectors.postings_visible_to(sichuan_officer)
        .filter(pk=posting.pk)
        .exists()
    )
