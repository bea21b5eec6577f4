"""The match list is shaped from rows (matching.api.match_rows), not serializer instances:
it must answer exactly what MatchSerializer answers, for every kind of reader."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.utils.encoders import JSONEncoder

from laborlink.services import api_client_create
from matching import selectors, services
from matching.api import MatchSerializer
from matching.models import Match
from recruitment.models import Placement
from tests.api.masked_client import api_as

pytestmark = pytest.mark.django_db

MATCHES = "/api/v1/matching/matches/"


@pytest.fixture
def run(sichuan_officer, market):
    done = services.run_execute(services.run_request(actor=sichuan_officer).pk)
    assert done.status == "done", done.error
    return done


def _serialized(user, ids):
    queryset = selectors.with_contact_visibility(user, selectors.matches_visible_to(user))
    rows = MatchSerializer(queryset.filter(pk__in=ids).order_by("id"), many=True).data
    return json.loads(json.dumps(rows, cls=JSONEncoder))


@pytest.mark.parametrize("reader", ["sichuan_officer", "zhejiang_officer", "hr_officer", "client"])
def test_list_rows_are_what_the_serializer_shows(run, request, reader, zhejiang_bureau):
    if reader == "client":
        user, _app, _secret = api_client_create(actor=None, bureau=zhejiang_bureau, name="浙江系统")
    else:
        user = request.getfixturevalue(reader)
    listed = api_as(user).get(MATCHES, {"latest": "true"}).json()["results"]
    assert listed, "the reader sees some matches"
    assert listed == _serialized(user, [row["id"] for row in listed])


def test_an_employer_sees_the_name_once_the_applicant_accepted(run, hr_officer):
    match = Match.objects.filter(run=run).order_by("id").first()
    Placement.objects.create(applicant=match.applicant, posting=match.posting, status="accepted")
    rows = api_as(hr_officer).get(MATCHES).json()["results"]
    names = {row["id"]: row["applicant"]["name"] for row in rows}
    assert names.pop(match.pk) == match.applicant.name
    assert names and all(name is None for name in names.values())
    assert rows == _serialized(hr_officer, [row["id"] for row in rows])


def test_a_page_costs_the_same_queries_whatever_its_size(run, sichuan_officer):
    api = api_as(sichuan_officer)
    counts = []
    for size in (1, 3):
        with CaptureQueriesContext(connection) as queries:
            body = api.get(MATCHES, {"page_size": size}).json()
        assert len(body["results"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
