"""Match results over REST: scoped to the caller's province, cursor-paged, filterable."""

from __future__ import annotations

import pytest

from laborlink.services import api_client_create
from matching import services
from matching.models import Match
from tests.api.masked_client import api_as
from tests.factories import OrganizationFactory, province

pytestmark = pytest.mark.django_db

RUNS = "/api/v1/matching/runs/"
MATCHES = "/api/v1/matching/matches/"


@pytest.fixture
def run(sichuan_officer, market):
    done = services.run_execute(services.run_request(actor=sichuan_officer).pk)
    assert done.status == "done", done.error
    return done


def client_of(bureau):
    machine, _app, _secret = api_client_create(actor=None, bureau=bureau, name=f"{bureau} 系统")
    return machine


def test_each_api_client_sees_only_its_province(run, sichuan_bureau, zhejiang_bureau):
    sichuan, zhejiang = client_of(sichuan_bureau), client_of(zhejiang_bureau)
    henan = client_of(OrganizationFactory(name="河南省人社厅", province=province("41")))
    assert len(api_as(sichuan).get(MATCHES).json()["results"]) == 3
    assert len(api_as(zhejiang).get(MATCHES).json()["results"]) == 3
    assert api_as(henan).get(MATCHES).json()["results"] == []
    match = Match.objects.filter(run=run).first()
    assert api_as(henan).get(f"{MATCHES}{match.pk}/").status_code == 404
    assert api_as(sichuan).post(RUNS, {}).status_code == 403  # clients only read


def test_matches_are_cursor_paged_and_filtered(run, sichuan_officer):
    api = api_as(sichuan_officer)
    first = api.get(MATCHES, {"page_size": 2, "latest": "true"}).json()
    assert len(first["results"]) == 2 and first["next"]
    rest = api.get(first["next"]).json()
    ids = [row["id"] for row in first["results"] + rest["results"]]
    assert len(ids) == 3 == len(set(ids))
    row = first["results"][0]
    assert row["explanation"] and row["breakdown"] and row["score"] > 0
    posting = row["posting"]["id"]
    filtered = api.get(MATCHES, {"posting": posting}).json()["results"]
    assert {r["posting"]["id"] for r in filtered} == {posting}
    assert api.get(MATCHES, {"exporting_province": "52"}).json()["results"] == []
    assert api.get(MATCHES, {"changed_since": "2999-01-01T00:00:00+08:00"}).json()["results"] == []


def test_an_employer_sees_matches_on_its_postings_without_names(run, hr_officer):
    rows = api_as(hr_officer).get(MATCHES).json()["results"]
    assert len(rows) == 3
    assert all(r["applicant"]["name"] is None for r in rows)
    assert all("*" in r["applicant"]["national_id_masked"] for r in rows)


def test_a_bureau_officer_requests_a_run_and_reads_it(sichuan_officer, market):
    api = api_as(sichuan_officer)
    created = api.post(RUNS, {"algorithm": "stable"}, format="json")
    assert created.status_code == 201, created.content
    second = api.post(RUNS, {}, format="json")
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "run_in_progress"
    run_id = created.json()["id"]
    services.run_execute(run_id)
    shown = api.get(f"{RUNS}{run_id}/").json()
    assert shown["status"] == "done" and shown["matched_count"] == 3
    assert shown["blocking_pairs"] == 0
    assert api.get(f"{RUNS}latest/").json()["id"] == run_id
