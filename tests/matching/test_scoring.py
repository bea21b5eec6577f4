"""The score formula on hand-made pairs, weight overrides and validation, and explain()."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from django.utils import translation

from laborlink.errors import DomainError
from matching.eligibility import (
    ApplicantRow,
    ApplicantTable,
    PostingRow,
    PostingTable,
    ProvinceIndex,
)
from matching.scoring import DEFAULT_WEIGHTS, explain, score_edges, validate_weights

RUN = date(2026, 3, 1)


def applicant(**overrides) -> ApplicantRow:
    values = {
        "id": 1,
        "home_province": "51",
        "birth_date": date(1990, 6, 15),
        "minimum_wage": 4000,
        "skills": frozenset({"assembler"}),
        "preferred_provinces": frozenset({"33"}),
        "whitelisted_provinces": frozenset({"33"}),
        "fit_until": date(2026, 6, 1),
        "has_active_placement": False,
        "waiting_since": RUN - timedelta(days=45),
        "key_groups": frozenset({"veteran"}),
    }
    values.update(overrides)
    return ApplicantRow(**values)


def posting(**overrides) -> PostingRow:
    values = {
        "id": 10,
        "province": "33",
        "occupation": "assembler",
        "target_provinces": frozenset({"51"}),
        "wage_max": 5500,
        "start_date": date(2026, 4, 1),
        "age_min": 18,
        "age_max": 45,
        "capacity": 3,
        "urgency": "urgent",
        "caring_job": False,
        "housing_provided": True,
        "housing_subsidy": 0,
        "transport_subsidy": 1200,
    }
    values.update(overrides)
    return PostingRow(**values)


def score_one(a: ApplicantRow, p: PostingRow, weights=None):
    provinces = ProvinceIndex(["33", "51"])
    scores = score_edges(
        ApplicantTable.from_rows([a], provinces),
        PostingTable.from_rows([p], provinces),
        np.zeros(1, dtype=np.int32),
        np.zeros(1, dtype=np.int32),
        run_date=RUN,
        weights=weights,
    )
    parts = {name: int(values[0]) for name, values in scores.breakdown.items()}
    return (
        int(scores.edge_score[0]),
        parts,
        int(scores.applicant_utility[0]),
        int(scores.posting_priority[0]),
    )


def test_known_numbers_for_a_hand_made_pair():
    score, parts, utility, priority = score_one(applicant(), posting())
    assert parts == {
        "skill": 30_000,  # exact occupation
        "urgency": 5_000,  # urgent: half of 10
        "wage": 10_000,  # 1,500 CNY above the minimum: half of the 3,000 cap
        "waiting": 7_500,  # 45 of 90 days
        "key_group": 15_000,  # veteran, ordinary job
        "preferred_province": 10_000,  # Zhejiang is preferred
    }
    assert score == 77_500 == sum(parts.values())
    assert utility == 5500 + 600 + 1200 // 12 + 1000
    assert priority == 30_000 + 15_000 + 7_500


def test_general_worker_caring_critical_posting():
    a = applicant(waiting_since=RUN - timedelta(days=400), preferred_provinces=frozenset())
    p = posting(occupation="general_worker", urgency="critical", caring_job=True, wage_max=9000)
    _score, parts, utility, _priority = score_one(a, p)
    assert parts["skill"] == 15_000  # general-worker posting: half
    assert parts["urgency"] == 10_000
    assert parts["wage"] == 20_000  # capped
    assert parts["waiting"] == 15_000  # capped at 90 days
    assert parts["key_group"] == 30_000  # doubled on a caring job
    assert parts["preferred_province"] == 0  # no preference given: no bonus
    assert utility == 9000 + 600 + 100


def test_not_yet_available_applicant_has_no_waiting_points():
    _score, parts, _u, _p = score_one(applicant(waiting_since=RUN + timedelta(days=3)), posting())
    assert parts["waiting"] == 0


def test_weights_override_some_parts_and_keep_the_others():
    score, parts, _u, priority = score_one(
        applicant(), posting(), weights={"skill": 50, "wage": 0, "waiting": 7.5}
    )
    assert parts["skill"] == 50_000
    assert parts["wage"] == 0
    assert parts["waiting"] == 3_750
    assert parts["urgency"] == 5_000  # default kept
    assert score == 50_000 + 5_000 + 0 + 3_750 + 15_000 + 10_000
    assert priority == 50_000 + 15_000 + 3_750


def test_validate_weights_completes_with_defaults():
    assert validate_weights(None) == DEFAULT_WEIGHTS
    assert validate_weights({"urgency": 100})["urgency"] == 100


@pytest.mark.parametrize(
    "weights", [{"skil": 10}, {"skill": -1}, {"skill": 101}, {"skill": "30"}, {"skill": True}]
)
def test_invalid_weights_are_refused(weights):
    with pytest.raises(DomainError) as caught:
        validate_weights(weights)
    assert caught.value.code == "invalid_weights"
    assert caught.value.field == "weights"


def test_invalid_weight_message_is_translated_text():
    with translation.override("en"), pytest.raises(DomainError) as caught:
        validate_weights({"speed": 10})
    assert str(caught.value) == (
        "Unknown score weight: speed. Known weights: skill, urgency, wage, waiting, "
        "key_group, preferred_province."
    )
    with translation.override("en"), pytest.raises(DomainError) as caught:
        validate_weights({"wage": 500})
    assert str(caught.value) == "The weight wage must be a number from 0 to 100."


def test_invalid_weight_message_in_chinese():
    with translation.override("zh-hans"), pytest.raises(DomainError) as caught:
        validate_weights({"wage": 500})
    assert str(caught.value) == "权重 wage 必须是 0 到 100 之间的数字。"


def test_explain_in_english():
    _score, parts, _u, _p = score_one(applicant(), posting())
    assert explain(parts, language="en") == [
        "Skill fit: exact match (+30.0)",
        "Urgency: urgent (+5.0)",
        "Wage: 50% of the wage bonus (+10.0)",
        "Days waiting: 50% of the waiting bonus (+7.5)",
        "Key-group priority: key group (+15.0)",
        "Preferred province: a preferred province (+10.0)",
    ]


def test_explain_reads_levels_against_the_run_weights():
    _score, parts, _u, _p = score_one(applicant(), posting(), weights={"skill": 60})
    assert explain(parts, weights={"skill": 60}, language="en")[0] == (
        "Skill fit: exact match (+60.0)"
    )
    general = posting(occupation="general_worker", caring_job=True)
    _score, parts, _u, _p = score_one(applicant(), general)
    lines = explain(parts, language="en")
    assert lines[0] == "Skill fit: general-worker posting (+15.0)"
    assert lines[4] == "Key-group priority: key group, caring job (+30.0)"


def test_explain_in_chinese_by_default():
    _score, parts, _u, _p = score_one(applicant(), posting())
    lines = explain(parts)
    assert lines[0] == "技能匹配：完全符合（+30.0）"
    assert lines[1] == "紧急程度：急招（+5.0）"
    assert lines[4] == "重点群体优先：重点群体（+15.0）"
    assert lines[5] == "意向省份：在意向省份内（+10.0）"
