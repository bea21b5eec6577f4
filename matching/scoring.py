"""How good a candidate pair is: the score formula, its weights, and why a match was made.

Each eligible edge (applicant *a*, posting *p*) gets six parts. A part is its weight (in
points, 0–100, `DEFAULT_WEIGHTS` unless the run overrides it) times a factor between 0 and 1
(2 for key groups on caring jobs):

- `skill` (default weight 30): 1 when the posting's occupation is one of *a*'s skills;
  0.5 when it is not and the posting is for general workers;
- `urgency` (10): normal 0, urgent 0.5, critical 1;
- `wage` (20): (wage_max − *a*'s minimum wage) / 3,000 CNY, capped at 1;
- `waiting` (15): days from the date *a* became available (available-from, else the
  registration date) to the run date / 90, capped at 1 (0 when not yet available);
- `key_group` (15): 1 when *a* belongs to a key group (lifted out of poverty, relocated,
  disabled, veteran, unemployed aged 40+, recent graduate), 2 when, in addition, the posting
  is a caring job;
- `preferred_province` (10): 1 when *a* listed preferred provinces and the posting's
  province is one of them.

The score of an edge is the sum of its parts. Everything is kept in integers of points × 1000
(`edge_score`, and each part in the breakdown), computed as `weight×1000 × numerator //
denominator`, so the same input always gives the same numbers on every machine.

The `stable` solver and the blocking-pair count also need each side's own preferences:

- `applicant_utility` (what the applicant gains, CNY per month): wage_max + housing subsidy
  + 600 if housing is provided + travel subsidy / 12 + 1,000 when the posting is in a
  preferred province. Urgency does not matter to the applicant.
- `posting_priority` (whom the employer's side prefers, points × 1000): the `skill`,
  `key_group` and `waiting` parts.

Ties in any of these are broken by the smaller database id (the solvers do this).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from numbers import Real
from typing import Any

import numpy as np
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from laborlink.errors import DomainError
from matching.eligibility import ApplicantTable, PostingTable

DEFAULT_WEIGHTS: dict[str, float] = {
    "skill": 30,
    "urgency": 10,
    "wage": 20,
    "waiting": 15,
    "key_group": 15,
    "preferred_province": 10,
}
PARTS: tuple[str, ...] = tuple(DEFAULT_WEIGHTS)
MAX_WEIGHT = 100

WAGE_CAP_CNY = 3000
WAITING_CAP_DAYS = 90
HOUSING_PROVIDED_CNY = 600
PREFERRED_PROVINCE_CNY = 1000
TRANSPORT_SUBSIDY_MONTHS = 12


def validate_weights(weights: Mapping[str, Any] | None = None) -> dict[str, float]:
    """The defaults with a run's overrides; refuses unknown names and values outside 0..100."""
    merged = {name: float(value) for name, value in DEFAULT_WEIGHTS.items()}
    for name, value in (weights or {}).items():
        if name not in DEFAULT_WEIGHTS:
            raise DomainError(
                _("Unknown score weight: %(name)s. Known weights: %(known)s.")
                % {"name": name, "known": ", ".join(PARTS)},
                code="invalid_weights",
                field="weights",
            )
        if (
            isinstance(value, bool)
            or not isinstance(value, Real)
            or not 0 <= value <= MAX_WEIGHT
            or value != value  # NaN
        ):
            raise DomainError(
                _("The weight %(name)s must be a number from 0 to %(max)d.")
                % {"name": name, "max": MAX_WEIGHT},
                code="invalid_weights",
                field="weights",
            )
        merged[name] = float(value)
    return merged


def _milli(weight: float) -> np.int64:
    return np.int64(round(weight * 1000))


@dataclass
class Scores:
    edge_score: np.ndarray  # int64, points × 1000
    breakdown: dict[str, np.ndarray]  # part → int64, points × 1000
    applicant_utility: np.ndarray  # int64, CNY / month
    posting_priority: np.ndarray  # int64, points × 1000


def score_edges(
    applicants: ApplicantTable,
    postings: PostingTable,
    edge_applicant: np.ndarray,
    edge_posting: np.ndarray,
    *,
    run_date: date,
    weights: Mapping[str, Any] | None = None,
    keep_breakdown: bool = True,
    chunk: int = 2_000_000,
) -> Scores:
    """The parts, the score and both sides' preferences of every edge (see the docstring).
    Computed in chunks of edges into preallocated arrays, so that the temporary arrays stay
    small beside the result. `keep_breakdown=False` leaves the breakdown empty (recompute it
    for the chosen edges only with `score_edges` on those edges)."""
    w = {name: _milli(value) for name, value in validate_weights(weights).items()}
    k = int(edge_applicant.shape[0])
    edge_score = np.empty(k, dtype=np.int64)
    utility = np.empty(k, dtype=np.int64)
    priority = np.empty(k, dtype=np.int64)
    breakdown = {part: np.empty(k, dtype=np.int64) for part in PARTS} if keep_breakdown else {}
    # what depends on one side only is computed once per applicant or posting, then gathered
    days = np.clip(run_date.toordinal() - applicants.waiting_since, 0, WAITING_CAP_DAYS)
    waiting_of = w["waiting"] * days // WAITING_CAP_DAYS
    key_group_of = np.where(applicants.key_groups > 0, w["key_group"], 0)
    urgency_of = w["urgency"] * postings.urgency // 2
    key_group_factor = np.where(postings.caring_job, 2, 1)
    posting_utility = (
        postings.wage_max
        + postings.housing_subsidy
        + np.where(postings.housing_provided, HOUSING_PROVIDED_CNY, 0)
        + postings.transport_subsidy // TRANSPORT_SUBSIDY_MONTHS
    )
    for begin in range(0, k, chunk):
        end = min(k, begin + chunk)
        a = edge_applicant[begin:end]
        p = edge_posting[begin:end]
        province = postings.province[p]
        preferences = applicants.preferred[a]
        in_preferred = (preferences != 0) & (((preferences >> province) & 1) == 1)
        in_skills = ((applicants.skills[a] >> postings.occupation[p]) & 1) == 1
        surplus = np.clip(postings.wage_max[p] - applicants.minimum_wage[a], 0, WAGE_CAP_CNY)
        parts = {
            # not among the skills: the posting is for general workers, half the points
            "skill": np.where(in_skills, w["skill"], w["skill"] // 2),
            "urgency": urgency_of[p],
            "wage": w["wage"] * surplus // WAGE_CAP_CNY,
            "waiting": waiting_of[a],
            "key_group": key_group_of[a] * key_group_factor[p],
            "preferred_province": np.where(in_preferred, w["preferred_province"], 0),
        }
        edge_score[begin:end] = sum(parts.values())
        priority[begin:end] = parts["skill"] + parts["key_group"] + parts["waiting"]
        for part, values in breakdown.items():
            values[begin:end] = parts[part]
        utility[begin:end] = posting_utility[p] + np.where(in_preferred, PREFERRED_PROVINCE_CNY, 0)
    return Scores(edge_score, breakdown, utility, priority)


# --- Explaining a match ------------------------------------------------------------------------

LABELS = {
    "skill": _("Skill fit"),
    "urgency": _("Urgency"),
    "wage": _("Wage"),
    "waiting": _("Days waiting"),
    "key_group": _("Key-group priority"),
    "preferred_province": _("Preferred province"),
}


def _describe(part: str, value: int, weight: float) -> Any:
    """A few words on the part's level, read from the value and the run's weight."""
    if weight <= 0:
        return None
    ratio = value / (weight * 1000)
    if part == "skill":
        return _("exact match") if ratio > 0.75 else _("general-worker posting")
    if part == "urgency":
        if ratio > 0.75:
            return _("critical")
        return _("urgent") if ratio > 0.25 else _("normal")
    if part == "key_group":
        if ratio > 1.5:
            return _("key group, caring job")
        return _("key group") if ratio > 0 else _("none")
    if part == "preferred_province":
        return _("a preferred province") if ratio > 0 else _("no bonus")
    if part == "wage":
        return _("%(percent)d%% of the wage bonus") % {"percent": round(ratio * 100)}
    if part == "waiting":
        return _("%(percent)d%% of the waiting bonus") % {"percent": round(ratio * 100)}
    return None


def explain(
    breakdown: Mapping[str, int],
    *,
    weights: Mapping[str, Any] | None = None,
    language: str = "zh-hans",
) -> list[str]:
    """A match's breakdown as sentences a bureau officer reads, one per part in the formula's
    order, e.g. "技能匹配：完全符合（+30.0）". Pass the run's weights (the defaults otherwise):
    they tell the level each value stands for (exact match or general-worker posting …)."""
    return explainer(weights, language=language)(breakdown)


def explainer(
    weights: Mapping[str, Any] | None = None, *, language: str = "zh-hans"
) -> Callable[[Mapping[str, int]], list[str]]:
    """`explain` for many matches of one run: the weights are checked once."""
    known = validate_weights(weights)
    # (part, value) → sentence, for this explainer's matches: a page of 200 repeats few
    seen: dict[tuple[str, int], str] = {}

    def sentences(breakdown: Mapping[str, int]) -> list[str]:
        out = []
        for part in PARTS:
            if part in breakdown:
                key = (part, breakdown[part])
                text = seen.get(key)
                if text is None:
                    text = seen[key] = _sentence(part, int(key[1]), known[part], language)
                out.append(text)
        return out

    return sentences


@lru_cache(maxsize=16384)
def _sentence(part: str, value: int, weight: float, language: str) -> str:
    """One part's sentence; a page of 200 matches repeats the same few (cached per process:
    the sentence depends only on these arguments and the translation catalogue)."""
    points = f"{value / 1000:+.1f}"
    with translation.override(language):
        level = _describe(part, value, weight)
        if level is None:
            sentence = _("%(label)s (%(points)s)") % {"label": LABELS[part], "points": points}
        else:
            sentence = _("%(label)s: %(level)s (%(points)s)") % {
                "label": LABELS[part],
                "level": level,
                "points": points,
            }
        return str(sentence)
