"""The matching benchmark: a reproducible market and a run of every solver beside the
exact reference."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from matching import solvers
from matching.management.commands.benchmark_matching import synthetic_instance


def test_the_synthetic_market_is_reproducible_and_clustered():
    first = synthetic_instance(3000, 400, 20, seed=5)
    again = synthetic_instance(3000, 400, 20, seed=5)
    other = synthetic_instance(3000, 400, 20, seed=6)

    for name in ("capacity", "edge_applicant", "edge_posting", "edge_score", "posting_priority"):
        assert np.array_equal(getattr(first, name), getattr(again, name))
    assert not np.array_equal(first.edge_score, other.edge_score)
    assert first.n_applicants == 3000 and first.n_postings == 400
    assert (first.capacity >= 1).all()
    # a few large employers, many small ones
    assert first.capacity.max() >= 10 * np.median(first.capacity)
    # about 20 distinct candidates per applicant, within clusters that form components
    assert 15 <= first.n_edges / 3000 <= 20
    assert len(solvers.components(first)) >= 4
    # the score is the sum of its explained parts
    assert np.array_equal(sum(first.breakdown.values()), first.edge_score)


@pytest.mark.django_db
def test_the_benchmark_prints_every_solver_against_the_reference():
    out = io.StringIO()
    call_command(
        "benchmark_matching",
        applicants=2000,
        postings=300,
        edges=15,
        seed=1,
        workers=1,
        stdout=out,
    )
    text = out.getvalue()
    assert "machine:" in text and "cores" in text
    lines = {m.group(1): m.group(0) for m in re.finditer(r"^\s*(\w+): \d+ edges.*$", text, re.M)}
    assert set(lines) == {"generate", "reference", "optimal", "stable"}
    assert "share 100.0000%" in lines["reference"]
    share = float(re.search(r"share ([\d.]+)%", lines["optimal"]).group(1))
    assert 99.0 <= share <= 100.0
    assert re.search(r"blocking pairs 0$", lines["stable"])
    assert re.search(r"peak \d+ MB", lines["optimal"])


def test_through_db_is_refused_until_the_pipeline_exists():
    with pytest.raises(CommandError, match="through-db"):
        call_command("benchmark_matching", through_db=True, stdout=io.StringIO())


def test_an_unknown_algorithm_is_refused():
    with pytest.raises(CommandError, match="greedy"):
        call_command("benchmark_matching", algorithms="greedy", stdout=io.StringIO())
