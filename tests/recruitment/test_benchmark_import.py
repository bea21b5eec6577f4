"""The import benchmark command runs end to end on a small file and cleans up after itself."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from recruitment.management.commands.benchmark_import import OFFICER_USERNAME, sichuan_counties
from recruitment.models import Applicant, ImportBatch


def test_benchmark_ids_come_from_many_real_sichuan_counties():
    counties = sichuan_counties()
    assert len(counties) > 150
    assert all(code.startswith("51") and len(code) == 6 for code in counties)
    assert "510104" in counties  # 成都市锦江区


@pytest.mark.django_db(transaction=True)
def test_benchmark_prints_its_table_beside_the_raw_baseline_and_removes_its_rows():
    out = io.StringIO()
    call_command("benchmark_import", rows=300, bad_ratio=0.05, seed=3, stdout=out)
    text = out.getvalue()

    for phase in ("dry run, full file", "import (import_run)", "raw baseline (COPY)"):
        assert re.search(rf"^{re.escape(phase)}\s+[\d,]+\s+[\d.]+\s+[\d,]+\s+\d+$", text, re.M)
    assert re.search(r"^Machine: \d+ CPUs, Python 3\.\d+\.\d+, PostgreSQL \d+", text, re.M)
    assert re.search(r"import / raw baseline: \d+\.\d\dx", text)
    bad = int(re.search(r"Bad rows reported by the dry run: (\d+) of 300", text).group(1))
    generated = int(re.search(r"Generated 300 rows \((\d+) bad", text).group(1))
    assert bad == generated > 0
    assert Applicant.objects.count() == 0
    assert ImportBatch.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_benchmark_keeps_its_applicants_when_asked():
    call_command("benchmark_import", rows=50, bad_ratio=0, keep=True, stdout=io.StringIO())
    assert Applicant.objects.filter(registered_by__username=OFFICER_USERNAME).count() == 50


def test_benchmark_refuses_a_row_count_beyond_the_import_limit():
    with pytest.raises(CommandError):
        call_command("benchmark_import", rows=0, stdout=io.StringIO())
