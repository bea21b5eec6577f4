"""From the database to the in-memory matching problem.

`build_instance` loads, with a fixed number of queries whatever the number of rows:

- the open postings with positions left on the run date (`recruitment.selectors.postings_open`)
  and their target exporting provinces;
- the applicants who consented to cross-province sharing;
- the agreements in force, the effective whitelist entries, the fit certificates and the
  active placements (see `matching.eligibility`);

then applies the eligibility rules in order (counting the pairs each removed), scores the
surviving edges (`matching.scoring`) and returns an `Instance` with applicants and postings
numbered by ascending database id, edges sorted by applicant then posting.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from django.utils import timezone

from matching.eligibility import (
    ApplicantRow,
    ApplicantTable,
    PostingRow,
    PostingTable,
    ProvinceIndex,
    RuleContext,
    agreement_matrix,
    applicants_with_active_placement,
    eligible_edges,
    fit_until_by_applicant,
    whitelisted_provinces_by_applicant,
)
from matching.instance import Instance
from matching.scoring import score_edges, validate_weights

CHUNK = 20_000


def load_context(*, run_date: date) -> RuleContext:
    from laborlink.selectors import agreements_in_force

    pairs = agreements_in_force(on=run_date).values_list(
        "importing_province_id", "exporting_province_id"
    )
    return RuleContext(run_date=run_date, agreements=frozenset(pairs))


def load_postings(*, run_date: date) -> list[PostingRow]:
    """Open postings with positions left on the run date (two queries)."""
    from recruitment.models import JobPosting
    from recruitment.selectors import postings_open

    open_postings = postings_open(on=run_date)
    targets: dict[int, set[str]] = {}
    through = JobPosting.target_provinces.through.objects.filter(
        jobposting_id__in=open_postings.values("pk")
    ).values_list("jobposting_id", "province_id")
    for posting_id, code in through.iterator(chunk_size=CHUNK):
        targets.setdefault(posting_id, set()).add(code)
    rows = open_postings.order_by("pk").values_list(
        "pk",
        "province_id",
        "occupation",
        "wage_max",
        "start_date",
        "age_min",
        "age_max",
        "positions",
        "positions_filled",
        "urgency",
        "caring_job",
        "housing_provided",
        "housing_subsidy",
        "transport_subsidy",
    )
    return [
        PostingRow(
            id=pk,
            province=province,
            occupation=occupation,
            target_provinces=frozenset(targets.get(pk, ())),
            wage_max=wage_max,
            start_date=start_date,
            age_min=age_min,
            age_max=age_max,
            capacity=positions - filled,
            urgency=urgency,
            caring_job=caring_job,
            housing_provided=housing_provided,
            housing_subsidy=housing_subsidy,
            transport_subsidy=transport_subsidy,
        )
        for (
            pk,
            province,
            occupation,
            wage_max,
            start_date,
            age_min,
            age_max,
            positions,
            filled,
            urgency,
            caring_job,
            housing_provided,
            housing_subsidy,
            transport_subsidy,
        ) in rows.iterator(chunk_size=CHUNK)
    ]


def load_applicants(*, run_date: date) -> list[ApplicantRow]:
    """Applicants who consented to cross-province sharing, with the facts the rules need
    (four queries: applicants, whitelist entries, certificates, active placements)."""
    from recruitment.models import Applicant

    whitelisted = whitelisted_provinces_by_applicant(run_date=run_date)
    fit_until = fit_until_by_applicant(run_date=run_date)
    placed = applicants_with_active_placement()
    rows = (
        Applicant.objects.filter(consent_cross_province=True)
        .order_by("pk")
        .values_list(
            "pk",
            "home_province_id",
            "birth_date",
            "minimum_wage",
            "skills",
            "preferred_provinces",
            "available_from",
            "created_at",
            "key_groups",
        )
    )
    empty: frozenset[str] = frozenset()
    return [
        ApplicantRow(
            id=pk,
            home_province=home,
            birth_date=birth_date,
            minimum_wage=minimum_wage,
            skills=frozenset(skills),
            preferred_provinces=frozenset(preferred),
            whitelisted_provinces=frozenset(whitelisted[pk]) if pk in whitelisted else empty,
            fit_until=fit_until.get(pk),
            has_active_placement=pk in placed,
            waiting_since=available_from or timezone.localdate(created_at),
            key_groups=frozenset(key_groups),
        )
        for (
            pk,
            home,
            birth_date,
            minimum_wage,
            skills,
            preferred,
            available_from,
            created_at,
            key_groups,
        ) in rows.iterator(chunk_size=CHUNK)
    ]


@dataclass
class Candidates:
    """Everything the rules and the score read, as column arrays (index = position in the
    instance: applicants and postings by ascending id)."""

    ctx: RuleContext
    provinces: ProvinceIndex
    applicants: ApplicantTable
    postings: PostingTable


def candidates_from_rows(
    applicants: list[ApplicantRow], postings: list[PostingRow], ctx: RuleContext
) -> Candidates:
    codes: set[str] = {a.home_province for a in applicants} | {p.province for p in postings}
    for pair in ctx.agreements:
        codes.update(pair)
    provinces = ProvinceIndex(codes)
    return Candidates(
        ctx=ctx,
        provinces=provinces,
        applicants=ApplicantTable.from_rows(applicants, provinces),
        postings=PostingTable.from_rows(postings, provinces),
    )


def load_candidates(*, run_date: date) -> Candidates:
    """The run's postings and applicants from the database (a fixed number of queries)."""
    ctx = load_context(run_date=run_date)
    return candidates_from_rows(
        load_applicants(run_date=run_date), load_postings(run_date=run_date), ctx
    )


def instance_from_candidates(
    candidates: Candidates,
    *,
    weights: Mapping[str, Any] | None = None,
    keep_breakdown: bool = True,
) -> tuple[Instance, dict[str, Any]]:
    """Rules and scores on loaded candidates (the database-free half of `build_instance`)."""
    a_table, p_table = candidates.applicants, candidates.postings
    edge_a, edge_p, removed = eligible_edges(
        a_table, p_table, agreement_matrix(candidates.ctx, candidates.provinces)
    )
    scores = score_edges(
        a_table,
        p_table,
        edge_a,
        edge_p,
        run_date=candidates.ctx.run_date,
        weights=weights,
        keep_breakdown=keep_breakdown,
    )
    instance = Instance(
        applicant_ids=a_table.ids,
        posting_ids=p_table.ids,
        capacity=p_table.capacity.astype(np.int32),
        edge_applicant=edge_a,
        edge_posting=edge_p,
        edge_score=scores.edge_score,
        applicant_utility=scores.applicant_utility,
        posting_priority=scores.posting_priority,
        breakdown=scores.breakdown,
    )
    counts = {
        "applicants": a_table.n,
        "postings": p_table.n,
        "pairs_considered": a_table.n * p_table.n,
        "removed_by_rule": removed,
        "edges": instance.n_edges,
    }
    return instance, counts


def instance_from_rows(
    applicants: list[ApplicantRow],
    postings: list[PostingRow],
    ctx: RuleContext,
    *,
    weights: Mapping[str, Any] | None = None,
) -> tuple[Instance, dict[str, Any]]:
    return instance_from_candidates(
        candidates_from_rows(applicants, postings, ctx), weights=weights
    )


def breakdown_for(
    candidates: Candidates,
    instance: Instance,
    edges: np.ndarray,
    *,
    weights: Mapping[str, Any] | None = None,
) -> dict[str, np.ndarray]:
    """The score parts of some edges only (e.g. the chosen ones), for an instance built with
    `keep_breakdown=False`: a national run's full breakdown would take six int64 arrays of a
    hundred million edges."""
    return score_edges(
        candidates.applicants,
        candidates.postings,
        instance.edge_applicant[edges],
        instance.edge_posting[edges],
        run_date=candidates.ctx.run_date,
        weights=weights,
    ).breakdown


def build_instance(
    *,
    run_date: date,
    weights: Mapping[str, Any] | None = None,
    keep_breakdown: bool = True,
) -> tuple[Instance, dict[str, Any]]:
    """Load the run's postings and applicants, apply the rules, score the edges.

    Returns the instance and the counts a run records: {"applicants", "postings",
    "pairs_considered", "removed_by_rule": {rule: pairs removed}, "edges"}."""
    weights = validate_weights(weights)
    return instance_from_candidates(
        load_candidates(run_date=run_date), weights=weights, keep_breakdown=keep_breakdown
    )


def input_fingerprint(instance: Instance, weights: Mapping[str, Any] | None, algorithm: str) -> str:
    """sha256 over the instance's arrays, the (completed) weights and the algorithm: the same
    input gives the same fingerprint on every run and every machine."""
    digest = hashlib.sha256()
    header = {
        "algorithm": algorithm,
        "weights": validate_weights(weights),
        "breakdown": sorted(instance.breakdown),
    }
    digest.update(json.dumps(header, sort_keys=True).encode())
    arrays = [
        ("applicant_ids", instance.applicant_ids),
        ("posting_ids", instance.posting_ids),
        ("capacity", instance.capacity),
        ("edge_applicant", instance.edge_applicant),
        ("edge_posting", instance.edge_posting),
        ("edge_score", instance.edge_score),
        ("applicant_utility", instance.applicant_utility),
        ("posting_priority", instance.posting_priority),
    ] + [(f"breakdown.{name}", instance.breakdown[name]) for name in sorted(instance.breakdown)]
    for name, array in arrays:
        values = np.ascontiguousarray(array, dtype="<i8")
        digest.update(f"{name}:{values.shape[0]};".encode())
        digest.update(values.tobytes())
    return digest.hexdigest()
