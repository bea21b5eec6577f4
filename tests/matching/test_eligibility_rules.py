"""The eligibility rules: each one on its own (true and false, boundary dates), the vectorised
path against the per-pair specification, and the facts loaded from the database."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest
from django.utils import timezone

from health import services as health_services
from laborlink.models import CooperationAgreement
from matching import eligibility as rules
from matching.candidates import build_instance, instance_from_rows, load_applicants
from matching.eligibility import (
    ApplicantRow,
    ApplicantTable,
    PostingRow,
    PostingTable,
    RuleContext,
    agreement_matrix,
    eligible_edges,
    eligible_pairs_by_rows,
    province_index_for,
)
from recruitment.models import Placement
from recruitment.services import whitelist_approve, whitelist_countersign
from tests.factories import make_applicant, make_posting, national_id_for

RUN = date(2026, 3, 1)
START = date(2026, 4, 1)
CTX = RuleContext(run_date=RUN, agreements=frozenset({("33", "51"), ("33", "52")}))


def applicant_row(**overrides) -> ApplicantRow:
    values = {
        "id": 1,
        "home_province": "51",
        "birth_date": date(1990, 6, 15),
        "minimum_wage": 4000,
        "skills": frozenset({"assembler"}),
        "preferred_provinces": frozenset(),
        "whitelisted_provinces": frozenset({"33"}),
        "fit_until": date(2026, 6, 1),
        "has_active_placement": False,
        "waiting_since": date(2026, 1, 1),
        "key_groups": frozenset(),
    }
    values.update(overrides)
    return ApplicantRow(**values)


def posting_row(**overrides) -> PostingRow:
    values = {
        "id": 10,
        "province": "33",
        "occupation": "assembler",
        "target_provinces": frozenset({"51", "52"}),
        "wage_max": 6000,
        "start_date": START,
        "age_min": 18,
        "age_max": 45,
        "capacity": 3,
    }
    values.update(overrides)
    return PostingRow(**values)


# --- Each rule on its own ----------------------------------------------------------------------


def test_every_rule_holds_for_the_reference_pair():
    assert rules.first_failed_rule(applicant_row(), posting_row(), CTX) is None


def test_rules_are_applied_in_the_documented_order():
    assert rules.RULE_NAMES == (
        "agreement_in_force",
        "published_to_home_province",
        "whitelisted_for_province",
        "fit_certificate_through_start",
        "no_active_placement",
        "skill_fit",
        "wage_meets_minimum",
        "age_in_range",
        "preferred_province",
    )


def test_agreement_in_force_needs_the_direction_home_to_posting_province():
    assert rules.agreement_in_force(applicant_row(), posting_row(), CTX)
    assert not rules.agreement_in_force(applicant_row(home_province="45"), posting_row(), CTX)
    # Sichuan → Zhejiang cooperates; Zhejiang → Sichuan does not.
    reverse = applicant_row(home_province="33")
    assert not rules.agreement_in_force(reverse, posting_row(province="51"), CTX)


def test_posting_must_be_published_into_the_home_province():
    assert rules.published_to_home_province(applicant_row(), posting_row(), CTX)
    only_guizhou = posting_row(target_provinces=frozenset({"52"}))
    assert not rules.published_to_home_province(applicant_row(), only_guizhou, CTX)


def test_whitelist_entry_must_be_for_the_posting_province():
    assert rules.whitelisted_for_province(applicant_row(), posting_row(), CTX)
    elsewhere = applicant_row(whitelisted_provinces=frozenset({"44"}))
    assert not rules.whitelisted_for_province(elsewhere, posting_row(), CTX)


def test_certificate_must_last_through_the_start_date():
    assert rules.fit_certificate_through_start(applicant_row(fit_until=START), posting_row(), CTX)
    day_before = applicant_row(fit_until=START - timedelta(days=1))
    assert not rules.fit_certificate_through_start(day_before, posting_row(), CTX)
    assert not rules.fit_certificate_through_start(
        applicant_row(fit_until=None), posting_row(), CTX
    )


def test_active_placement_excludes():
    assert rules.no_active_placement(applicant_row(), posting_row(), CTX)
    assert not rules.no_active_placement(
        applicant_row(has_active_placement=True), posting_row(), CTX
    )


def test_skill_fit_or_general_worker_posting():
    assert rules.skill_fit(applicant_row(), posting_row(), CTX)
    assert not rules.skill_fit(applicant_row(), posting_row(occupation="welder"), CTX)
    assert rules.skill_fit(applicant_row(), posting_row(occupation="general_worker"), CTX)
    assert rules.skill_fit(
        applicant_row(skills=frozenset()), posting_row(occupation="general_worker"), CTX
    )


def test_wage_must_reach_the_applicant_minimum_inclusive():
    assert rules.wage_meets_minimum(applicant_row(minimum_wage=6000), posting_row(), CTX)
    assert not rules.wage_meets_minimum(applicant_row(minimum_wage=6001), posting_row(), CTX)


def test_age_on_start_date_with_birthday_boundaries():
    posting = posting_row(age_min=18, age_max=45)
    # turns 18 on the start date: in; turns 18 the day after: out
    assert rules.age_in_range(applicant_row(birth_date=date(2008, 4, 1)), posting, CTX)
    assert not rules.age_in_range(applicant_row(birth_date=date(2008, 4, 2)), posting, CTX)
    # 45 until the day before the 46th birthday
    assert rules.age_in_range(applicant_row(birth_date=date(1980, 4, 2)), posting, CTX)
    assert not rules.age_in_range(applicant_row(birth_date=date(1980, 4, 1)), posting, CTX)


def test_preferred_provinces_when_given():
    assert rules.preferred_province(applicant_row(), posting_row(), CTX)
    likes_zhejiang = applicant_row(preferred_provinces=frozenset({"33", "44"}))
    assert rules.preferred_province(likes_zhejiang, posting_row(), CTX)
    likes_guangdong = applicant_row(preferred_provinces=frozenset({"44"}))
    assert not rules.preferred_province(likes_guangdong, posting_row(), CTX)


def test_a_pair_is_counted_against_the_first_rule_it_fails():
    both = applicant_row(whitelisted_provinces=frozenset(), minimum_wage=9000)
    assert rules.first_failed_rule(both, posting_row(), CTX) == "whitelisted_for_province"


# --- The vectorised path agrees with the specification ----------------------------------------


def random_market(seed: int) -> tuple[list[ApplicantRow], list[PostingRow], RuleContext]:
    rng = random.Random(seed)
    provinces = ["33", "44", "51", "52", "45"]
    occupations = ["assembler", "welder", "general_worker", "cook", "packer"]
    ctx = RuleContext(
        run_date=RUN,
        agreements=frozenset(
            (i, e) for i in provinces for e in provinces if i != e and rng.random() < 0.5
        ),
    )

    def some(values: list[str], p: float) -> frozenset[str]:
        return frozenset(v for v in values if rng.random() < p)

    applicants = [
        ApplicantRow(
            id=i * 3 + 1,
            home_province=rng.choice(provinces),
            birth_date=date(1970, 1, 1) + timedelta(days=rng.randrange(40 * 365)),
            minimum_wage=rng.choice([0, 3000, 4500, 6000]),
            skills=some(occupations, 0.4),
            preferred_provinces=some(provinces, 0.2) if rng.random() < 0.4 else frozenset(),
            whitelisted_provinces=some(provinces, 0.6),
            fit_until=rng.choice([None, START, START - timedelta(days=1), date(2026, 12, 31)]),
            has_active_placement=rng.random() < 0.1,
            waiting_since=RUN - timedelta(days=rng.randrange(200)),
            key_groups=frozenset({"veteran"}) if rng.random() < 0.3 else frozenset(),
        )
        for i in range(rng.randrange(1, 60))
    ]
    postings = [
        PostingRow(
            id=j * 7 + 2,
            province=rng.choice(provinces),
            occupation=rng.choice(occupations),
            target_provinces=some(provinces, 0.7),
            wage_max=rng.choice([3000, 4500, 5000, 8000]),
            start_date=START + timedelta(days=rng.choice([-1, 0, 1, 30])),
            age_min=rng.choice([16, 18, 25]),
            age_max=rng.choice([35, 45, 55]),
            capacity=rng.randrange(1, 5),
            urgency=rng.choice(["normal", "urgent", "critical"]),
            caring_job=rng.random() < 0.2,
        )
        for j in range(rng.randrange(1, 25))
    ]
    return applicants, postings, ctx


@pytest.mark.parametrize("seed", range(25))
def test_vectorised_rules_agree_with_the_per_pair_specification(seed):
    applicants, postings, ctx = random_market(seed)
    expected_pairs, expected_removed = eligible_pairs_by_rows(applicants, postings, ctx)
    provinces = province_index_for(applicants, postings, ctx)
    a_table = ApplicantTable.from_rows(applicants, provinces)
    p_table = PostingTable.from_rows(postings, provinces)
    # a tiny chunk size also exercises the chunked evaluation
    edge_a, edge_p, removed = eligible_edges(
        a_table, p_table, agreement_matrix(ctx, provinces), chunk_pairs=1 + seed % 7
    )
    found = list(zip(edge_a.tolist(), edge_p.tolist(), strict=True))
    assert len(found) == len(set(found))
    assert sorted(found) == sorted(expected_pairs)
    assert removed == expected_removed
    assert sum(removed.values()) + len(expected_pairs) == len(applicants) * len(postings)


def test_random_markets_do_produce_edges_and_exercise_every_rule():
    """Guards the agreement test above against vacuous inputs."""
    totals = dict.fromkeys(rules.RULE_NAMES, 0)
    edges = 0
    for seed in range(25):
        pairs, removed = eligible_pairs_by_rows(*random_market(seed))
        edges += len(pairs)
        for name, count in removed.items():
            totals[name] += count
    assert edges > 50
    assert all(count > 0 for count in totals.values()), totals


def test_unindexed_preferred_province_still_counts_as_a_preference():
    applicant = applicant_row(preferred_provinces=frozenset({"65"}))  # Xinjiang: not indexed
    instance, counts = instance_from_rows([applicant], [posting_row()], CTX)
    assert instance.n_edges == 0
    assert counts["removed_by_rule"]["preferred_province"] == 1


# --- Facts from the database: boundary dates ---------------------------------------------------


pytest_db = pytest.mark.django_db


def _whitelist(sichuan_officer, zhejiang_officer, applicant, *, expires_on):
    entries = whitelist_approve(
        actor=sichuan_officer,
        applicants=[applicant.pk],
        importing_province="33",
        expires_on=expires_on,
    )
    whitelist_countersign(actor=zhejiang_officer, entries=[e.pk for e in entries])


def _certify(health_officer, applicant, *, valid_until):
    return health_services.certificate_issue(
        actor=health_officer,
        applicant=applicant,
        examined_on=timezone.localdate(),
        result="fit",
        valid_until=valid_until,
    )


@pytest.fixture
def eligible(agreements, sichuan_officer, zhejiang_officer, health_officer, hr_officer):
    """One Sichuan applicant who meets every rule for one Zhejiang posting."""
    today = timezone.localdate()
    applicant = make_applicant(
        sichuan_officer,
        national_id=national_id_for("510104", birth=date(1995, 5, 5)),
        skills=["medical_device_assembler"],
        minimum_wage=5000,
    )
    posting = make_posting(hr_officer, target_provinces=["51"])
    _whitelist(sichuan_officer, zhejiang_officer, applicant, expires_on=today + timedelta(60))
    _certify(health_officer, applicant, valid_until=posting.start_date)
    return applicant, posting


def _edges(run_date=None):
    instance, counts = build_instance(run_date=run_date or timezone.localdate(), weights={})
    pairs = {
        (int(instance.applicant_ids[a]), int(instance.posting_ids[p]))
        for a, p in zip(instance.edge_applicant, instance.edge_posting, strict=True)
    }
    return pairs, counts["removed_by_rule"]


@pytest_db
def test_fully_eligible_pair_is_an_edge(eligible):
    applicant, posting = eligible
    pairs, removed = _edges()
    assert pairs == {(applicant.pk, posting.pk)}
    assert sum(removed.values()) == 0


@pytest_db
def test_whitelist_expiring_on_the_run_date_still_counts(eligible):
    applicant, posting = eligible
    run_date = timezone.localdate() + timedelta(days=5)
    applicant.whitelist_entries.update(expires_on=run_date)
    pairs, _removed = _edges(run_date)
    assert (applicant.pk, posting.pk) in pairs


@pytest_db
def test_whitelist_expired_the_day_before_the_run_date_excludes(eligible):
    applicant, _posting = eligible
    run_date = timezone.localdate() + timedelta(days=5)
    applicant.whitelist_entries.update(expires_on=run_date - timedelta(days=1))
    pairs, removed = _edges(run_date)
    assert pairs == set()
    assert removed["whitelisted_for_province"] == 1


@pytest_db
def test_unsigned_whitelist_entry_excludes(agreements, sichuan_officer, health_officer, hr_officer):
    applicant = make_applicant(sichuan_officer, skills=["medical_device_assembler"])
    posting = make_posting(hr_officer, target_provinces=["51"])
    whitelist_approve(
        actor=sichuan_officer,
        applicants=[applicant.pk],
        importing_province="33",
        expires_on=timezone.localdate() + timedelta(days=60),
    )  # approved but never countersigned
    _certify(health_officer, applicant, valid_until=posting.start_date)
    pairs, removed = _edges()
    assert pairs == set()
    assert removed["whitelisted_for_province"] == 1


@pytest_db
def test_certificate_valid_until_the_day_before_the_start_excludes(eligible):
    applicant, posting = eligible
    applicant.health_certificates.update(valid_until=posting.start_date - timedelta(days=1))
    pairs, removed = _edges()
    assert pairs == set()
    assert removed["fit_certificate_through_start"] == 1


@pytest_db
def test_loaded_certificate_date_agrees_with_the_health_selector(eligible):
    from health.selectors import holds_valid_fit_certificate

    applicant, posting = eligible
    (row,) = load_applicants(run_date=timezone.localdate())
    for through in (posting.start_date, posting.start_date + timedelta(days=1)):
        assert rules.fit_certificate_through_start(
            row, posting_row(start_date=through), CTX
        ) == holds_valid_fit_certificate(applicant, through=through)


@pytest_db
def test_unfit_certificate_excludes(eligible, health_officer):
    applicant, _posting = eligible
    applicant.health_certificates.all().delete()
    health_services.certificate_issue(
        actor=health_officer,
        applicant=applicant,
        examined_on=timezone.localdate(),
        result="not_fit",
        valid_until=timezone.localdate() + timedelta(days=60),
    )
    pairs, removed = _edges()
    assert pairs == set()
    assert removed["fit_certificate_through_start"] == 1


@pytest_db
def test_suspended_agreement_excludes(eligible):
    CooperationAgreement.objects.filter(
        importing_province_id="33", exporting_province_id="51"
    ).update(status=CooperationAgreement.Status.SUSPENDED)
    pairs, removed = _edges()
    assert pairs == set()
    assert removed["agreement_in_force"] == 1


@pytest_db
def test_active_placement_excludes_and_a_declined_one_does_not(eligible, hr_officer):
    applicant, posting = eligible
    other = make_posting(hr_officer, target_provinces=["51"], occupation="welder")
    placement = Placement.objects.create(applicant=applicant, posting=other, status="accepted")
    pairs, removed = _edges()
    assert pairs == set()
    # both postings: the placement rule comes before the skill rule the welder job fails
    assert removed["no_active_placement"] == 2
    Placement.objects.filter(pk=placement.pk).update(status="declined")
    pairs, _removed = _edges()
    assert pairs == {(applicant.pk, posting.pk)}


@pytest_db
def test_applicant_without_consent_is_not_loaded(eligible):
    applicant, _posting = eligible
    type(applicant).objects.filter(pk=applicant.pk).update(consent_cross_province=False)
    instance, counts = build_instance(run_date=timezone.localdate(), weights={})
    assert counts["applicants"] == 0
    assert instance.n_edges == 0


def test_rows_are_hashable_values():
    # rows are frozen: the spec cannot be altered by the code under test
    row = applicant_row()
    assert replace(row, id=2) != row
    assert np.int64(rules.OCCUPATION_INDEX["general_worker"]) == rules.GENERAL_WORKER_INDEX


def test_vectorised_age_arithmetic_matches_birthdays_including_29_february():
    births = [date(2000, 2, 29), date(1990, 3, 1), date(1985, 12, 31), date(1970, 1, 1)]
    days = [date(2027, 2, 28), date(2027, 3, 1), date(2028, 2, 29), date(2026, 12, 31)]
    for birth in births:
        for day in days:
            vectorised = (rules._ymd(day) - rules._ymd(birth)) // 10000
            assert vectorised == rules.age_on(birth, day), (birth, day)
