"""Do these two provinces cooperate on this date? Dates, status and direction."""

from datetime import date

import pytest
from django.db import IntegrityError

from laborlink import selectors
from laborlink.errors import Conflict, DomainError, Forbidden
from laborlink.models import CooperationAgreement
from laborlink.services import agreement_create, agreement_set_status
from tests.factories import AgreementFactory, province

Status = CooperationAgreement.Status


@pytest.fixture
def zj_sc(db):
    return AgreementFactory(
        importing_province=province("33"),
        exporting_province=province("51"),
        valid_from=date(2024, 2, 20),
        valid_until=date(2027, 2, 19),
    )


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 2, 19), False),  # the day before it starts
        (date(2024, 2, 20), True),  # first day
        (date(2026, 11, 22), True),
        (date(2027, 2, 19), True),  # last day
        (date(2027, 2, 20), False),  # the day after it ends
    ],
)
def test_validity_dates_are_inclusive(zj_sc, day, expected):
    assert selectors.provinces_cooperate(importing="33", exporting="51", on=day) is expected


def test_direction_matters(zj_sc):
    day = date(2025, 1, 1)
    assert selectors.provinces_cooperate(importing="33", exporting="51", on=day)
    assert not selectors.provinces_cooperate(importing="51", exporting="33", on=day)


@pytest.mark.parametrize("status", [Status.DRAFT, Status.SUSPENDED, Status.TERMINATED])
def test_only_active_agreements_count(zj_sc, status):
    zj_sc.status = status
    zj_sc.save(update_fields=["status"])
    assert not selectors.provinces_cooperate(importing="33", exporting="51", on=date(2025, 1, 1))


def test_open_ended_agreement_covers_the_future(db):
    AgreementFactory(
        importing_province=province("44"),
        exporting_province=province("45"),
        valid_from=date(2020, 3, 1),
        valid_until=None,
    )
    assert selectors.provinces_cooperate(importing="44", exporting="45", on=date(2040, 1, 1))
    assert not selectors.provinces_cooperate(importing="44", exporting="45", on=date(2020, 2, 29))


def test_today_in_shanghai_is_the_default(zj_sc, settings):
    assert selectors.provinces_cooperate(importing=province("33"), exporting=province("51"))


def test_partner_lists(zj_sc, db):
    AgreementFactory(importing_province=province("33"), exporting_province=province("52"))
    AgreementFactory(
        importing_province=province("33"),
        exporting_province=province("53"),
        status=Status.SUSPENDED,
    )
    day = date(2025, 6, 1)
    exporting = selectors.cooperating_exporting_provinces(importing="33", on=day)
    assert sorted(p.code for p in exporting) == ["51", "52"]
    importing = selectors.cooperating_importing_provinces(exporting="51", on=day)
    assert [p.code for p in importing] == ["33"]


def test_database_refuses_an_agreement_with_itself(db):
    with pytest.raises(IntegrityError):
        AgreementFactory(importing_province=province("33"), exporting_province=province("33"))


def test_service_validates_before_saving(db, platform_admin):
    with pytest.raises(DomainError):
        agreement_create(
            actor=platform_admin,
            title="x",
            importing=province("33"),
            exporting=province("51"),
            signed_on=date(2024, 1, 1),
            valid_from=date(2024, 1, 1),
            valid_until=date(2023, 1, 1),
        )
    assert not CooperationAgreement.objects.exists()


def test_duplicate_agreement_is_a_conflict(zj_sc, platform_admin):
    with pytest.raises(Conflict):
        agreement_create(
            actor=platform_admin,
            title="again",
            importing=province("33"),
            exporting=province("51"),
            signed_on=zj_sc.signed_on,
            valid_from=zj_sc.valid_from,
        )


def test_bureau_may_only_record_agreements_of_its_province(guizhou_officer, sichuan_officer):
    with pytest.raises(Forbidden):
        agreement_create(
            actor=guizhou_officer,
            title="not ours",
            importing=province("33"),
            exporting=province("51"),
            signed_on=date(2025, 1, 1),
            valid_from=date(2025, 1, 1),
        )
    agreement = agreement_create(
        actor=sichuan_officer,
        title="ours",
        importing=province("33"),
        exporting=province("51"),
        signed_on=date(2025, 1, 1),
        valid_from=date(2025, 1, 1),
    )
    assert agreement.status == Status.DRAFT
    agreement_set_status(actor=sichuan_officer, agreement=agreement, status=Status.ACTIVE)
    assert selectors.provinces_cooperate(importing="33", exporting="51", on=date(2025, 1, 2))
    with pytest.raises(Forbidden):
        agreement_set_status(actor=guizhou_officer, agreement=agreement, status=Status.SUSPENDED)


def test_agreements_visible_to_scopes_by_province(agreements, guizhou_officer, hr_officer):
    visible = set(selectors.agreements_visible_to(guizhou_officer))
    assert visible == {agreements["zj_gz"]}
    assert set(selectors.agreements_visible_to(hr_officer)) == {
        agreements["zj_sc"],
        agreements["zj_gz"],
    }
