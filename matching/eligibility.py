"""Who may be matched with which posting: the eligibility rules, in the order they are applied.

An applicant and an open posting with remaining positions form a candidate *edge* when every
rule below holds. A run records how many candidate pairs each rule removed: a pair is counted
against the FIRST rule (in this order) that it fails.

1. `agreement_in_force` — a cooperation agreement in force on the run date lets the
   applicant's home province send workers to the posting's province;
2. `published_to_home_province` — the posting is published into the applicant's home province
   (one of its target exporting provinces; bureaus only ever see such postings);
3. `whitelisted_for_province` — an approved, countersigned, unexpired whitelist entry for the
   posting's province (`recruitment.selectors.whitelist_effective`);
4. `fit_certificate_through_start` — a fit, unrevoked health certificate in force on the run
   date and valid through the posting's start date (`health.selectors.applicants_fit_through`);
5. `no_active_placement` — no placement in an active status (`Placement.ACTIVE_STATUSES`);
6. `skill_fit` — the posting's occupation is among the applicant's skills, or the posting is
   for general workers;
7. `wage_meets_minimum` — the posting's maximum wage reaches the applicant's minimum;
8. `age_in_range` — the applicant's age on the posting's start date is within its age range;
9. `preferred_province` — when the applicant listed preferred provinces, the posting's
   province is one of them.

Each rule exists twice:

- a per-pair form, `rule(applicant_row, posting_row, ctx) -> bool`, on plain rows — the
  specification, short enough to read at a glance;
- the vectorised form in `eligible_edges`, which works on the column arrays of
  `ApplicantTable` / `PostingTable` one (importing province, occupation, home province)
  block at a time: rules on applicants alone or postings alone filter index arrays and count
  removed pairs as products; the certificate rule is counted with a sorted search; the
  remaining pair rules are evaluated with numpy broadcasting over the block, in chunks.

The tests check that both forms give the same edges and the same removal counts.

The facts that need the database (effective whitelist entries, certificates, active
placements) are loaded once per run for all applicants, with one query each, by the
`*_by_applicant` / `applicants_with_active_placement` functions below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np
from django.utils import timezone

from recruitment.occupations import Occupation

GENERAL_WORKER = Occupation.GENERAL_WORKER.value
OCCUPATION_INDEX: dict[str, int] = {code: i for i, code in enumerate(Occupation.values)}
GENERAL_WORKER_INDEX = OCCUPATION_INDEX[GENERAL_WORKER]


# --- Rows: what the per-pair rules (the specification) read ----------------------------------


@dataclass(frozen=True, slots=True)
class ApplicantRow:
    id: int
    home_province: str
    birth_date: date
    minimum_wage: int
    skills: frozenset[str]
    preferred_provinces: frozenset[str]
    whitelisted_provinces: frozenset[str]  # provinces with an effective whitelist entry
    fit_until: date | None  # latest valid-until of a fit certificate in force on the run date
    has_active_placement: bool
    waiting_since: date  # available_from, or the registration date
    key_groups: frozenset[str]


@dataclass(frozen=True, slots=True)
class PostingRow:
    id: int
    province: str
    occupation: str
    target_provinces: frozenset[str]
    wage_max: int
    start_date: date
    age_min: int
    age_max: int
    capacity: int  # remaining positions
    urgency: str = "normal"
    caring_job: bool = False
    housing_provided: bool = False
    housing_subsidy: int = 0
    transport_subsidy: int = 0


@dataclass(frozen=True, slots=True)
class RuleContext:
    run_date: date
    # (importing province, exporting province) pairs with an agreement in force on run_date
    agreements: frozenset[tuple[str, str]]


def age_on(birth_date: date, day: date) -> int:
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def agreement_in_force(a: ApplicantRow, p: PostingRow, ctx: RuleContext) -> bool:
    """An agreement in force on the run date lets the home province send workers there."""
    return (p.province, a.home_province) in ctx.agreements


def published_to_home_province(a: ApplicantRow, p: PostingRow, ctx: RuleContext) -> bool:
    """The posting targets the applicant's home province."""
    return a.home_province in p.target_provinces


def whitelisted_for_province(a: ApplicantRow, p: PostingRow, ctx: RuleContext) -> bool:
    """An approved, countersigned, unexpired whitelist entry for the posting's province."""
    return p.province in a.whitelisted_provinces


def fit_certificate_through_start(a: ApplicantRow, p: PostingRow, ctx: RuleContext) -> bool:
    """A fit certificate, in force on the run date, still valid on the start date."""
    return a.fit_until is not None and a.fit_until >= p.start_date


def no_active_placement(a: ApplicantRow, p: PostingRow, ctx: RuleContext) -> bool:
    """Not already offered, accepted, travelling or employed elsewhere."""
    return not a.has_active_placement


def skill_fit(a: ApplicantRow, p: PostingRow, ctx: RuleContext) -> bool:
    """The applicant has the posting's occupation, or the posting needs no skill."""
    return p.occupation in a.skills or p.occupation == GENERAL_WORKER


def wage_meets_minimum(a: ApplicantRow, p: PostingRow, ctx: RuleContext) -> bool:
    """The posting's maximum wage reaches the applicant's minimum."""
    return p.wage_max >= a.minimum_wage


def age_in_range(a: ApplicantRow, p: PostingRow, ctx: RuleContext) -> bool:
    """Age on the start date within the posting's range (both ends included)."""
    return p.age_min <= age_on(a.birth_date, p.start_date) <= p.age_max


def preferred_province(a: ApplicantRow, p: PostingRow, ctx: RuleContext) -> bool:
    """No preference given, or the posting's province is among the preferred ones."""
    return not a.preferred_provinces or p.province in a.preferred_provinces


Rule = Callable[[ApplicantRow, PostingRow, RuleContext], bool]

RULES: tuple[tuple[str, Rule], ...] = (
    ("agreement_in_force", agreement_in_force),
    ("published_to_home_province", published_to_home_province),
    ("whitelisted_for_province", whitelisted_for_province),
    ("fit_certificate_through_start", fit_certificate_through_start),
    ("no_active_placement", no_active_placement),
    ("skill_fit", skill_fit),
    ("wage_meets_minimum", wage_meets_minimum),
    ("age_in_range", age_in_range),
    ("preferred_province", preferred_province),
)
RULE_NAMES: tuple[str, ...] = tuple(name for name, _rule in RULES)


def first_failed_rule(a: ApplicantRow, p: PostingRow, ctx: RuleContext) -> str | None:
    """The name of the first rule the pair fails, or None when the pair is eligible."""
    for name, rule in RULES:
        if not rule(a, p, ctx):
            return name
    return None


def eligible_pairs_by_rows(
    applicants: Sequence[ApplicantRow], postings: Sequence[PostingRow], ctx: RuleContext
) -> tuple[list[tuple[int, int]], dict[str, int]]:
    """The specification: every pair, every rule. Returns (applicant index, posting index)
    pairs and removal counts per rule. Quadratic — for tests and small instances only."""
    removed = dict.fromkeys(RULE_NAMES, 0)
    pairs = []
    for i, a in enumerate(applicants):
        for j, p in enumerate(postings):
            failed = first_failed_rule(a, p, ctx)
            if failed is None:
                pairs.append((i, j))
            else:
                removed[failed] += 1
    return pairs, removed


# --- Facts from the database, loaded once per run ----------------------------------------------


def whitelisted_provinces_by_applicant(*, run_date: date) -> dict[int, set[str]]:
    """Applicant id → importing provinces with an effective whitelist entry (one query)."""
    from recruitment.selectors import whitelist_effective

    result: dict[int, set[str]] = {}
    rows = whitelist_effective(on=run_date).values_list("applicant_id", "importing_province_id")
    for applicant_id, province_code in rows.iterator(chunk_size=20_000):
        result.setdefault(applicant_id, set()).add(province_code)
    return result


def fit_until_by_applicant(*, run_date: date) -> dict[int, date]:
    """Applicant id → the latest valid-until among their fit, unrevoked certificates in force on
    the run date (one query; results decrypted in memory). The same conditions as
    `health.selectors.applicants_fit_through`, with the run date for "today", so that an
    applicant is fit through a start date exactly when that date ≤ the value returned."""
    from health.models import HealthCertificate
    from health.services import certificate_result

    issued_by = timezone.make_aware(datetime.combine(run_date, time.max))
    if run_date == timezone.localdate():
        issued_by = min(issued_by, timezone.now())
    certificates = (
        HealthCertificate.objects.filter(
            status=HealthCertificate.Status.VALID,
            valid_until__gte=run_date,
            issued_at__lte=issued_by,
            applicant__consent_cross_province=True,
        )
        .only("pk", "number", "applicant_id", "valid_until", "result_encrypted")
        .order_by("applicant_id", "-valid_until", "pk")
    )
    result: dict[int, date] = {}
    for cert in certificates.iterator(chunk_size=20_000):
        if cert.applicant_id in result:
            continue  # a later-valid fit certificate was already found
        if certificate_result(cert) == HealthCertificate.Result.FIT:
            result[cert.applicant_id] = cert.valid_until
    return result


def applicants_with_active_placement() -> set[int]:
    """Ids of applicants holding a placement in an active status (one query)."""
    from recruitment.models import Placement

    rows = Placement.objects.filter(status__in=Placement.ACTIVE_STATUSES).values_list(
        "applicant_id", flat=True
    )
    return set(rows.iterator(chunk_size=20_000))


# --- Column arrays and the vectorised rules ----------------------------------------------------


class ProvinceIndex:
    """Province codes ↔ small integers (bit positions of the province masks)."""

    def __init__(self, codes: Iterable[str]) -> None:
        self.codes: list[str] = sorted(set(codes))
        if len(self.codes) > 62:
            raise ValueError("at most 62 provinces fit a mask")
        self.index: dict[str, int] = {code: i for i, code in enumerate(self.codes)}

    def mask(self, codes: Iterable[str]) -> int:
        bits = 0
        for code in codes:
            i = self.index.get(code)
            if i is not None:
                bits |= 1 << i
        return bits


# Set in a preference mask whenever preferences were given, even for provinces not indexed.
HAS_PREFERENCE = 1 << 62


def preference_mask(codes: Iterable[str], provinces: ProvinceIndex) -> int:
    codes = list(codes)
    return provinces.mask(codes) | HAS_PREFERENCE if codes else 0


def occupation_mask(codes: Iterable[str]) -> int:
    bits = 0
    for code in codes:
        i = OCCUPATION_INDEX.get(code)
        if i is not None:
            bits |= 1 << i
    return bits


def _ymd(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


URGENCY_LEVEL = {"normal": 0, "urgent": 1, "critical": 2}


@dataclass
class ApplicantTable:
    ids: np.ndarray  # int64, ascending
    home: np.ndarray  # int64 province index
    birth_ymd: np.ndarray  # int64 yyyymmdd: (start_ymd - birth_ymd) // 10000 is the age
    minimum_wage: np.ndarray  # int64
    skills: np.ndarray  # int64 occupation bit mask
    preferred: np.ndarray  # int64 province bit mask, HAS_PREFERENCE set (0: no preference)
    whitelisted: np.ndarray  # int64 province bit mask
    fit_until: np.ndarray  # int64 date ordinal (0: no fit certificate)
    active_placement: np.ndarray  # bool
    waiting_since: np.ndarray  # int64 date ordinal
    key_groups: np.ndarray  # int64: number of key groups the applicant belongs to

    @property
    def n(self) -> int:
        return int(self.ids.shape[0])

    @classmethod
    def from_rows(cls, rows: Sequence[ApplicantRow], provinces: ProvinceIndex) -> ApplicantTable:
        rows = sorted(rows, key=lambda r: r.id)

        def col(values: Iterable[int], dtype: type = np.int64) -> np.ndarray:
            return np.fromiter(values, dtype=dtype, count=len(rows))

        return cls(
            ids=col(r.id for r in rows),
            home=col(provinces.index[r.home_province] for r in rows),
            birth_ymd=col(_ymd(r.birth_date) for r in rows),
            minimum_wage=col(r.minimum_wage for r in rows),
            skills=col(occupation_mask(r.skills) for r in rows),
            preferred=col(preference_mask(r.preferred_provinces, provinces) for r in rows),
            whitelisted=col(provinces.mask(r.whitelisted_provinces) for r in rows),
            fit_until=col(r.fit_until.toordinal() if r.fit_until else 0 for r in rows),
            active_placement=col((r.has_active_placement for r in rows), bool),
            waiting_since=col(r.waiting_since.toordinal() for r in rows),
            key_groups=col(len(r.key_groups) for r in rows),
        )


@dataclass
class PostingTable:
    ids: np.ndarray  # int64, ascending
    province: np.ndarray  # int64 province index
    occupation: np.ndarray  # int64 occupation index
    targets: np.ndarray  # int64 province bit mask
    wage_max: np.ndarray  # int64
    start: np.ndarray  # int64 date ordinal
    start_ymd: np.ndarray  # int64 yyyymmdd
    age_min: np.ndarray  # int64
    age_max: np.ndarray  # int64
    capacity: np.ndarray  # int64 remaining positions
    urgency: np.ndarray  # int64: 0 normal, 1 urgent, 2 critical
    caring_job: np.ndarray  # bool
    housing_provided: np.ndarray  # bool
    housing_subsidy: np.ndarray  # int64 CNY/month
    transport_subsidy: np.ndarray  # int64 CNY, once

    @property
    def n(self) -> int:
        return int(self.ids.shape[0])

    @classmethod
    def from_rows(cls, rows: Sequence[PostingRow], provinces: ProvinceIndex) -> PostingTable:
        rows = sorted(rows, key=lambda r: r.id)

        def col(values: Iterable[int], dtype: type = np.int64) -> np.ndarray:
            return np.fromiter(values, dtype=dtype, count=len(rows))

        return cls(
            ids=col(r.id for r in rows),
            province=col(provinces.index[r.province] for r in rows),
            occupation=col(OCCUPATION_INDEX[r.occupation] for r in rows),
            targets=col(provinces.mask(r.target_provinces) for r in rows),
            wage_max=col(r.wage_max for r in rows),
            start=col(r.start_date.toordinal() for r in rows),
            start_ymd=col(_ymd(r.start_date) for r in rows),
            age_min=col(r.age_min for r in rows),
            age_max=col(r.age_max for r in rows),
            capacity=col(r.capacity for r in rows),
            urgency=col(URGENCY_LEVEL.get(r.urgency, 0) for r in rows),
            caring_job=col((r.caring_job for r in rows), bool),
            housing_provided=col((r.housing_provided for r in rows), bool),
            housing_subsidy=col(r.housing_subsidy for r in rows),
            transport_subsidy=col(r.transport_subsidy for r in rows),
        )


def agreement_matrix(ctx: RuleContext, provinces: ProvinceIndex) -> np.ndarray:
    """bool [importing index, exporting index]: an agreement is in force on the run date."""
    size = len(provinces.codes)
    matrix = np.zeros((size, size), dtype=bool)
    for importing, exporting in ctx.agreements:
        if importing in provinces.index and exporting in provinces.index:
            matrix[provinces.index[importing], provinces.index[exporting]] = True
    return matrix


def province_index_for(
    applicants: Iterable[ApplicantRow], postings: Iterable[PostingRow], ctx: RuleContext
) -> ProvinceIndex:
    codes: set[str] = set()
    for a in applicants:
        codes.add(a.home_province)
    for p in postings:
        codes.add(p.province)
    for importing, exporting in ctx.agreements:
        codes.update((importing, exporting))
    return ProvinceIndex(codes)


def _groups(keys: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(key, ascending indices with that key) for each distinct key, keys ascending."""
    if keys.shape[0] == 0:
        return []
    order = np.argsort(keys, kind="stable")
    distinct, starts = np.unique(keys[order], return_index=True)
    return list(zip(distinct.tolist(), np.split(order, starts[1:]), strict=True))


def _has_bit(masks: np.ndarray, bit: int) -> np.ndarray:
    return ((masks >> np.int64(bit)) & 1).astype(bool)


def eligible_edges(
    applicants: ApplicantTable,
    postings: PostingTable,
    agreements: np.ndarray,
    *,
    chunk_pairs: int = 4_000_000,
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Every rule on whole arrays. Returns (edge applicant indices, edge posting indices) and
    the removal counts per rule (the same as the specification's).

    Edges come in a deterministic order — by (importing province, occupation) block, then
    home province, then applicant, then posting — not sorted globally: a sort of a hundred
    million edges costs more than the rules, and the solvers order edges as they need."""
    removed = dict.fromkeys(RULE_NAMES, 0)
    found_a: list[np.ndarray] = []
    found_p: list[np.ndarray] = []
    home_groups = _groups(applicants.home)
    block_keys = postings.province * 64 + postings.occupation
    for key, block in _groups(block_keys):
        importing, occupation = divmod(key, 64)
        for home, group in home_groups:
            n_group, n_block = group.shape[0], block.shape[0]
            if not agreements[importing, home]:
                removed["agreement_in_force"] += n_group * n_block
                continue
            posts = block[_has_bit(postings.targets[block], home)]
            removed["published_to_home_province"] += n_group * (n_block - posts.shape[0])
            if posts.shape[0] == 0:
                continue
            n_posts = posts.shape[0]
            people = group[_has_bit(applicants.whitelisted[group], importing)]
            removed["whitelisted_for_province"] += (n_group - people.shape[0]) * n_posts
            if people.shape[0] == 0:
                continue
            # postings of the block each applicant's certificate lasts through
            starts = np.sort(postings.start[posts])
            lasting = np.searchsorted(starts, applicants.fit_until[people], side="right")
            removed["fit_certificate_through_start"] += int(
                people.shape[0] * n_posts - lasting.sum()
            )
            active = applicants.active_placement[people]
            removed["no_active_placement"] += int(lasting[active].sum())
            people, lasting = people[~active], lasting[~active]
            if occupation != GENERAL_WORKER_INDEX:
                skilled = _has_bit(applicants.skills[people], occupation)
                removed["skill_fit"] += int(lasting[~skilled].sum())
                people = people[skilled]
            if people.shape[0] == 0:
                continue
            step = max(1, chunk_pairs // n_posts)
            for begin in range(0, people.shape[0], step):
                chunk = people[begin : begin + step]
                ok = applicants.fit_until[chunk][:, None] >= postings.start[posts][None, :]
                wage = postings.wage_max[posts][None, :] >= applicants.minimum_wage[chunk][:, None]
                removed["wage_meets_minimum"] += int(np.count_nonzero(ok & ~wage))
                ok &= wage
                start_ymd = postings.start_ymd[posts][None, :]
                age = (start_ymd - applicants.birth_ymd[chunk][:, None]) // 10000
                in_range = (age >= postings.age_min[posts][None, :]) & (
                    age <= postings.age_max[posts][None, :]
                )
                removed["age_in_range"] += int(np.count_nonzero(ok & ~in_range))
                ok &= in_range
                preferences = applicants.preferred[chunk]
                preferred = (preferences == 0) | _has_bit(preferences, importing)
                removed["preferred_province"] += int(np.count_nonzero(ok[~preferred]))
                ok &= preferred[:, None]
                rows, cols = np.nonzero(ok)
                found_a.append(chunk[rows].astype(np.int32))
                found_p.append(posts[cols].astype(np.int32))
    if not found_a:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32), removed
    edge_a = np.concatenate(found_a)
    found_a.clear()
    edge_p = np.concatenate(found_p)
    return edge_a, edge_p, removed
