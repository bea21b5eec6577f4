"""What the fuzzing found, pinned down: Django's own 404 under /api/ in the one error shape,
and ISO 8601 times whose offset PostgreSQL refuses (beyond ±15:59) read instead of a 500."""

from __future__ import annotations

import pytest

from tests.api.masked_client import api_as

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/applicants/1.5/", "/api/v1/no-such-thing/"])
def test_a_url_no_api_route_matches_is_a_404_in_the_error_shape(sichuan_officer, path):
    response = api_as(sichuan_officer).get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


def test_pages_outside_the_api_keep_djangos_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/transport/trips/", "departure_before"),
        ("/api/v1/transport/trips/", "departure_after"),
        ("/api/v1/matching/matches/", "changed_since"),
    ],
)
def test_a_time_with_a_large_utc_offset_is_read(zhejiang_officer, path, parameter):
    response = api_as(zhejiang_officer).get(path, {parameter: "2027-03-31T21:34:49+18:14"})
    assert response.status_code == 200


def test_a_time_that_leaves_the_calendar_in_utc_is_a_400(zhejiang_officer):
    response = api_as(zhejiang_officer).get(
        "/api/v1/transport/trips/", {"departure_after": "0001-01-01T00:00:00+05:00"}
    )
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid"
    assert "departure_after" in body["details"]
