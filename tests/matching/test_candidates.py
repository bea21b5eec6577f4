"""Building the instance from the database: exactly the expected edges and removal counts on a
small market, a query count that does not grow with the rows, and a stable fingerprint."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from health import services as health_services
from laborlink.models import Organization, User
from matching.candidates import (
    breakdown_for,
    build_instance,
    input_fingerprint,
    instance_from_candidates,
    load_candidates,
)
from recruitment.models import JobPosting, Placement
from recruitment.services import whitelist_approve, whitelist_countersign
from tests.factories import (
    OrganizationFactory,
    UserFactory,
    make_applicant,
    make_posting,
    national_id_for,
    province,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def guizhou_health_officer(db) -> User:
    authority = OrganizationFactory(
        name="贵州省遵义市卫生健康委员会",
        kind=Organization.Kind.HEALTH_AUTHORITY,
        province=province("52"),
        level=Organization.Level.CITY,
    )
    return UserFactory(role=User.Role.HEALTH_OFFICER, organization=authority)


@pytest.fixture
def guangxi_officer(db) -> User:
    return UserFactory(organization=OrganizationFactory(province=province("45")))


class Market:
    """Sichuan and Guizhou export to Zhejiang; one Guangxi applicant has no agreement there."""

    def __init__(self, cast):
        (
            self.sichuan,
            self.guizhou,
            self.guangxi,
            self.zhejiang,
            self.sichuan_health,
            self.guizhou_health,
            self.hr,
        ) = cast
        self.today = timezone.localdate()

    def applicant(self, officer, *, whitelisted=True, fit=True, birth=date(1992, 2, 2), **values):
        region = f"{officer.organization.province_id}0104"
        person = make_applicant(officer, national_id=national_id_for(region, birth=birth), **values)
        if whitelisted:
            entries = whitelist_approve(
                actor=officer,
                applicants=[person.pk],
                importing_province="33",
                expires_on=self.today + timedelta(days=100),
            )
            whitelist_countersign(actor=self.zhejiang, entries=[e.pk for e in entries])
        if fit:
            health = self.sichuan_health if person.home_province_id == "51" else self.guizhou_health
            health_services.certificate_issue(
                actor=health,
                applicant=person,
                examined_on=self.today,
                result="fit",
                valid_until=self.today + timedelta(days=80),
            )
        return person


@pytest.fixture
def market(
    agreements,
    sichuan_officer,
    guizhou_officer,
    guangxi_officer,
    zhejiang_officer,
    health_officer,
    guizhou_health_officer,
    hr_officer,
):
    m = Market(
        (
            sichuan_officer,
            guizhou_officer,
            guangxi_officer,
            zhejiang_officer,
            health_officer,
            guizhou_health_officer,
            hr_officer,
        )
    )
    sc, gz = sichuan_officer, guizhou_officer
    mda = ["medical_device_assembler"]
    m.p1 = make_posting(
        hr_officer, title="P1", positions=2, wage_max=7000, target_provinces=["51", "52"]
    )
    m.p2 = make_posting(
        hr_officer,
        title="P2",
        occupation="general_worker",
        wage_min=4000,
        wage_max=4500,
        target_provinces=["51"],
        urgency="critical",
    )
    m.p3 = make_posting(hr_officer, title="P3", occupation="welder", target_provinces=["52"])
    # not loaded: a draft, and a posting with every position filled
    make_posting(hr_officer, title="draft", publish=False, target_provinces=["51"])
    full = make_posting(hr_officer, title="full", positions=1, target_provinces=["51"])
    JobPosting.objects.filter(pk=full.pk).update(positions_filled=1)

    m.s1 = m.applicant(
        sc,
        name="甲",
        skills=[*mda, "assembler"],
        minimum_wage=5000,
        preferred_provinces=["33", "44"],
    )
    m.s2 = m.applicant(sc, name="乙", skills=["welder"], minimum_wage=4000, key_groups=["veteran"])
    m.s3 = m.applicant(sc, name="丙", skills=mda, fit=False)
    m.s4 = m.applicant(sc, name="丁", skills=mda, whitelisted=False)
    m.s5 = m.applicant(sc, name="戊", skills=mda)
    Placement.objects.create(applicant=m.s5, posting=m.p1, status="booked")
    m.s6 = m.applicant(
        sc, name="己", skills=["packer"], minimum_wage=3000, preferred_provinces=["44"]
    )
    m.g1 = m.applicant(gz, name="庚", skills=mda, birth=date(1965, 1, 1))
    m.x1 = m.applicant(guangxi_officer, name="辛", skills=mda, whitelisted=False, fit=False)
    # not loaded: no consent to cross-province sharing
    make_applicant(sc, name="壬", skills=mda, consent=False)
    return m


def edge_set(instance) -> set[tuple[int, int]]:
    return {
        (int(instance.applicant_ids[a]), int(instance.posting_ids[p]))
        for a, p in zip(instance.edge_applicant, instance.edge_posting, strict=True)
    }


def test_expected_edges_and_removal_counts(market):
    instance, counts = build_instance(run_date=timezone.localdate(), weights={})
    m = market
    assert edge_set(instance) == {(m.s1.pk, m.p1.pk), (m.s2.pk, m.p2.pk)}
    assert counts == {
        "applicants": 8,
        "postings": 3,
        "pairs_considered": 24,
        "removed_by_rule": {
            "agreement_in_force": 3,  # Guangxi → Zhejiang: no agreement
            "published_to_home_province": 7,  # P3 only in Guizhou, P2 only in Sichuan
            "whitelisted_for_province": 2,  # 丁 on P1, P2
            "fit_certificate_through_start": 2,  # 丙 on P1, P2
            "no_active_placement": 2,  # 戊 on P1, P2
            "skill_fit": 3,  # 乙 and 己 on P1, 庚 on P3
            "wage_meets_minimum": 1,  # 甲 on P2
            "age_in_range": 1,  # 庚 is over 55
            "preferred_province": 1,  # 己 on P2: prefers Guangdong only
        },
        "edges": 2,
    }


def test_instance_is_numbered_by_ascending_id_with_remaining_positions(market):
    instance, _counts = build_instance(run_date=timezone.localdate(), weights={})
    assert list(instance.posting_ids) == sorted([market.p1.pk, market.p2.pk, market.p3.pk])
    assert np.all(np.diff(instance.applicant_ids) > 0)
    by_id = dict(zip(instance.posting_ids.tolist(), instance.capacity.tolist(), strict=True))
    assert by_id[market.p1.pk] == 2
    assert instance.edge_applicant.dtype == np.int32
    assert instance.edge_score.dtype == np.int64
    assert set(instance.breakdown) == {
        "skill",
        "urgency",
        "wage",
        "waiting",
        "key_group",
        "preferred_province",
    }
    total = sum(instance.breakdown.values())
    assert np.array_equal(total, instance.edge_score)


def test_scores_of_the_built_edges(market):
    instance, _counts = build_instance(run_date=timezone.localdate(), weights={})
    pairs = zip(instance.edge_applicant, instance.edge_posting, strict=True)
    index = {
        (int(instance.applicant_ids[a]), int(instance.posting_ids[p])): k
        for k, (a, p) in enumerate(pairs)
    }
    s2_p2 = index[(market.s2.pk, market.p2.pk)]
    parts = {name: int(values[s2_p2]) for name, values in instance.breakdown.items()}
    assert parts["skill"] == 15_000  # general-worker posting
    assert parts["urgency"] == 10_000  # critical
    assert parts["wage"] == 20_000 * 500 // 3000  # 4,500 against a 4,000 minimum
    assert parts["waiting"] == 0  # registered today
    assert parts["key_group"] == 15_000  # veteran
    assert parts["preferred_province"] == 0


def test_query_count_does_not_grow_with_rows(market, sichuan_officer, hr_officer):
    with CaptureQueriesContext(connection) as small:
        build_instance(run_date=timezone.localdate(), weights={})
    for name in ("新甲", "新乙", "新丙", "新丁"):
        market.applicant(sichuan_officer, name=name, skills=["medical_device_assembler"])
        make_posting(hr_officer, title=name, target_provinces=["51", "52"])
    with CaptureQueriesContext(connection) as large:
        instance, counts = build_instance(run_date=timezone.localdate(), weights={})
    assert counts["applicants"] == 12 and counts["postings"] == 7
    assert instance.n_edges > 2
    assert len(large.captured_queries) == len(small.captured_queries) <= 10


def test_fingerprint_is_stable_and_sensitive(market):
    today = timezone.localdate()
    first, _ = build_instance(run_date=today, weights={})
    again, _ = build_instance(run_date=today, weights={})
    print_ = input_fingerprint(first, {}, "optimal")
    assert len(print_) == 64
    assert input_fingerprint(again, {}, "optimal") == print_
    # the defaults written out are the same weights
    assert input_fingerprint(first, {"skill": 30}, "optimal") == print_
    assert input_fingerprint(first, {"skill": 31}, "optimal") != print_
    assert input_fingerprint(first, {}, "stable") != print_
    JobPosting.objects.filter(pk=market.p1.pk).update(wage_max=7100)
    changed, _ = build_instance(run_date=today, weights={})
    assert input_fingerprint(changed, {}, "optimal") != print_


def test_empty_database_gives_an_empty_instance(db):
    instance, counts = build_instance(run_date=timezone.localdate(), weights=None)
    assert instance.n_applicants == instance.n_postings == instance.n_edges == 0
    assert counts["pairs_considered"] == 0
    assert len(input_fingerprint(instance, None, "optimal")) == 64


def test_breakdown_of_chosen_edges_only_equals_the_full_breakdown(market):
    today = timezone.localdate()
    full, _ = build_instance(run_date=today, weights={"wage": 40})
    candidates = load_candidates(run_date=today)
    lean, counts = instance_from_candidates(candidates, weights={"wage": 40}, keep_breakdown=False)
    assert lean.breakdown == {}
    assert np.array_equal(lean.edge_score, full.edge_score)
    chosen = np.array([lean.n_edges - 1])
    parts = breakdown_for(candidates, lean, chosen, weights={"wage": 40})
    assert {name: int(v[0]) for name, v in parts.items()} == {
        name: int(v[-1]) for name, v in full.breakdown.items()
    }
    assert counts["edges"] == full.n_edges == 2
