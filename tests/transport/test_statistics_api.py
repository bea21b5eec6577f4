"""Statistics over REST: the same selectors as the page, scoped to the caller's province
(API clients included) or to the employer's own postings; 404 for anyone else."""

from __future__ import annotations

from datetime import date

import pytest

from laborlink.services import api_client_create
from tests.api.masked_client import api_as
from tests.transport.test_statistics import (  # noqa: F401 - fixtures used here
    FEB,
    JAN,
    TODAY,
    charters,
    guangdong,
    market,
    other_employer,
    postings,
    workers,
)

pytestmark = pytest.mark.django_db

BASE = "/api/v1/transport/statistics/"
FEB_QUERY = {"start": FEB["start"].isoformat(), "end": FEB["end"].isoformat()}


def machine_of(bureau):
    machine, _app, _secret = api_client_create(actor=None, bureau=bureau, name=f"{bureau} 系统")
    return machine


def test_arrivals_for_a_bureau_and_a_provinces_api_client(
    charters,  # noqa: F811
    zhejiang_officer,
    sichuan_bureau,
):
    body = api_as(zhejiang_officer).get(f"{BASE}arrivals/", FEB_QUERY).json()
    assert body["total"] == 5 and body["start"] == "2020-02-10"
    assert body["by_mode"] == {"bus": 4, "train": 1, "flight": 0}
    assert [(d["day"], d["total"], d["cumulative"]) for d in body["by_day"]] == [
        ("2020-02-11", 3, 3),
        ("2020-02-12", 2, 5),
    ]
    client = api_as(machine_of(sichuan_bureau))
    assert client.get(f"{BASE}arrivals/", FEB_QUERY).json()["total"] == 4
    assert client.post(f"{BASE}arrivals/", {}).status_code in (403, 405)


def test_guizhou_sees_nothing_of_zhejiang_sichuan(charters, guizhou_bureau, guizhou_officer):  # noqa: F811
    for user in (guizhou_officer, machine_of(guizhou_bureau)):
        body = api_as(user).get(f"{BASE}pipeline/", FEB_QUERY).json()
        assert [(p["origin"], p["destination"]) for p in body["by_pair"]] == [("52", "33")]
        arrivals = api_as(user).get(f"{BASE}arrivals/", FEB_QUERY).json()
        assert [p["province"] for p in arrivals["by_province"]] == ["52"]


def test_pipeline_totals(charters, zhejiang_officer):  # noqa: F811
    body = api_as(zhejiang_officer).get(f"{BASE}pipeline/", FEB_QUERY).json()
    assert body["totals"] == {
        "booked": 9,
        "boarded": 6,
        "arrived": 5,
        "no_show": 1,
        "refused": 1,
        "waitlisted": 1,
    }


def test_fill_rates_and_postings(postings, zhejiang_officer, hr_officer):  # noqa: F811
    query = {"start": JAN["start"].isoformat(), "end": JAN["end"].isoformat()}
    body = api_as(zhejiang_officer).get(f"{BASE}fill-rates/", query).json()
    assert body["totals"]["fill_percent"] == 31.4 and body["totals"]["held"] == 3
    listed = api_as(zhejiang_officer).get(f"{BASE}postings/", query).json()
    assert [p["fill_percent"] for p in listed["results"]] == [10.0, 40.0, 100.0]
    assert listed["results"][1]["held"] == 3
    own = api_as(hr_officer).get(f"{BASE}postings/", query).json()["results"]
    assert [p["fill_percent"] for p in own] == [40.0, 100.0]


def test_retention_and_spring_festival(workers, zhejiang_officer, guizhou_officer):  # noqa: F811
    api = api_as(zhejiang_officer)
    body = api.get(f"{BASE}retention/", {"start": "2025-07-01", "end": "2026-06-30"}).json()
    assert [c["cohort"] for c in body["cohorts"]] == [
        "2025-12-01",
        "2026-01-01",
        "2026-02-01",
        "2026-06-01",
    ]
    january = body["cohorts"][1]
    assert january["arrived"] == 5 and [h["days"] for h in january["horizons"]] == [7, 30, 90, 180]
    festival = api.get(f"{BASE}spring-festival/", {"year": 2026}).json()
    assert festival["new_year"] == "2026-02-17" and festival["period_end"] == "2026-03-03"
    assert (festival["on_post"], festival["stayed"], festival["share"]) == (4, 3, 75.0)
    other = api_as(guizhou_officer).get(f"{BASE}spring-festival/", {"year": 2026}).json()
    assert other["on_post"] == 0 and other["by_pair"] == []
    assert date(2027, 1, 1) > TODAY


def test_supply_and_demand(market, sichuan_officer, hr_officer):  # noqa: F811
    rows = api_as(sichuan_officer).get(f"{BASE}supply-demand/").json()["results"]
    assert {(r["exporting"], r["occupation"], r["demand"], r["supply"]) for r in rows} == {
        ("51", "assembler", 6, 1),
        ("51", "cook", 0, 1),
        ("51", "welder", 0, 1),
    }
    own = api_as(hr_officer).get(f"{BASE}supply-demand/").json()["results"]
    assert {r["supply"] for r in own} == {None} and len(own) == 2


def test_others_get_404_and_bad_ranges_400(health_officer, zhejiang_officer):
    for figure in ("arrivals", "pipeline", "fill-rates", "postings", "retention",
                   "spring-festival", "supply-demand"):  # fmt: skip
        assert api_as(health_officer).get(f"{BASE}{figure}/").status_code == 404
        assert api_as().get(f"{BASE}{figure}/").status_code in (401, 403)
    bad = api_as(zhejiang_officer).get(
        f"{BASE}arrivals/", {"start": "2026-02-10", "end": "2026-01-01"}
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"
    long = api_as(zhejiang_officer).get(
        f"{BASE}pipeline/", {"start": "2024-01-01", "end": "2026-01-01"}
    )
    assert long.status_code == 400


def test_the_schema_documents_the_statistics():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for figure in ("arrivals", "pipeline", "fill-rates", "postings", "retention",
                   "spring-festival", "supply-demand"):  # fmt: skip
        assert f"/api/v1/transport/statistics/{figure}/" in schema["paths"]
    assert "SupplyDemandRow" in schema["components"]["schemas"]
