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


def _row_counts() -> dict[str, int]:
    from health.models import HealthCertificate, IssuingKey
    from laborlink.models import CooperationAgreement, Organization, SmsMessage, User
    from matching.models import Match, MatchRun
    from recruitment.models import Applicant, JobPosting, WhitelistEntry

    models = (HealthCertificate, IssuingKey, CooperationAgreement, Organization, SmsMessage,
              User, Match, MatchRun, Applicant, JobPosting, WhitelistEntry)  # fmt: skip
    counts = {model.__name__: model.objects.count() for model in models}
    counts["targets"] = JobPosting.target_provinces.through.objects.count()
    return counts


@pytest.mark.django_db
def test_through_db_runs_the_nightly_pipeline_on_a_generated_market_and_removes_it(settings):
    settings.DEBUG = True  # pytest-django turns it off; the command refuses without it
    before = _row_counts()
    out = io.StringIO()
    call_command(
        "benchmark_matching",
        through_db=True,
        applicants=300,
        postings=20,
        edges=5,
        seed=2,
        stdout=out,
    )
    text = out.getvalue()
    assert "generate: 300 applicants, 20 postings" in text
    phases = re.search(
        r"load_and_score ([\d.]+)s, solve ([\d.]+)s, store ([\d.]+)s, "
        r"offers ([\d.]+)s \((\d+) sent\); total ([\d.]+)s",
        text,
    )
    assert phases, text
    counts = re.search(r"counts: (\d+) edges, (\d+) matches, removed by rule \{", text)
    edges, matches = int(counts.group(1)), int(counts.group(2))
    # about 5 candidates each: the postings of the applicant's cell
    assert 4 * 300 <= edges <= 5 * 300
    matched = re.search(r"matched (\d+), fill ([\d.]+)%; peak RSS \d+ MB", text)
    assert int(matched.group(1)) == matches > 0
    assert int(phases.group(5)) == matches  # every match offered by SMS
    assert 0 < float(matched.group(2)) <= 100
    assert "clean-up: deleted" in text
    assert _row_counts() == before


def test_through_db_is_refused_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("benchmark_matching", through_db=True, stdout=io.StringIO())


def test_an_unknown_algorithm_is_refused():
    with pytest.raises(CommandError, match="greedy"):
        call_command("benchmark_matching", algorithms="greedy", stdout=io.StringIO())
