"""An OAuth2 client-credentials client sees only its province, read-only."""

from __future__ import annotations

import base64

import pytest
from oauth2_provider.models import AccessToken
from rest_framework.test import APIClient

from laborlink.services import api_client_create

SECRET = "a-very-long-client-secret-for-tests-0123456789"


@pytest.fixture
def sichuan_client(sichuan_bureau):
    _machine, application, secret = api_client_create(
        actor=None, bureau=sichuan_bureau, name="四川省就业信息系统", client_secret=SECRET
    )
    return application, secret


def _token(client_id: str, secret: str) -> str:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = APIClient().post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        format="multipart",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def test_token_is_stored_hashed(sichuan_client):
    application, secret = sichuan_client
    raw = _token(application.client_id, secret)
    stored = AccessToken.objects.get(application=application)
    assert stored.token == ""
    assert raw not in stored.token_checksum
    assert len(stored.token_checksum) == 64
    # the client secret is hashed too
    application.refresh_from_db()
    assert application.client_secret != secret


def test_client_sees_only_agreements_of_its_province(sichuan_client, agreements):
    application, secret = sichuan_client
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {_token(application.client_id, secret)}")

    me = api.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["role"] == "api_client"
    assert me.json()["organization"]["province"] == "51"

    listed = api.get("/api/v1/agreements/")
    assert listed.status_code == 200
    ids = {row["id"] for row in listed.json()["results"]}
    assert ids == {agreements["zj_sc"].id}

    other = api.get(f"/api/v1/agreements/{agreements['gd_gx'].id}/")
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "not_found"

    filtered = api.get("/api/v1/agreements/", {"importing_province": "44"})
    assert filtered.json()["results"] == []


def test_client_cannot_write(sichuan_client):
    application, secret = sichuan_client
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {_token(application.client_id, secret)}")
    response = api.post("/api/v1/agreements/", {"title": "x"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_wrong_secret_gets_no_token(sichuan_client):
    application, _secret = sichuan_client
    basic = base64.b64encode(f"{application.client_id}:wrong".encode()).decode()
    response = APIClient().post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        format="multipart",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 401


def test_unknown_bearer_token_is_refused_in_the_one_error_shape(db):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = api.get("/api/v1/agreements/")
    assert response.status_code == 401
    assert set(response.json()) == {"error"}
    assert response.json()["error"]["code"] in {"authentication_failed", "not_authenticated"}
