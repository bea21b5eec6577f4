"""An OAuth2 client-credentials client sees only its province, read-only."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import AccessToken
from rest_framework.test import APIClient

from laborlink import authentication
from laborlink.authentication import ProvinceOAuth2Validator
from laborlink.models import User
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


def _bearer(sichuan_client) -> APIClient:
    application, secret = sichuan_client
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {_token(application.client_id, secret)}")
    return api


def test_a_bearer_token_is_checked_in_one_query_with_its_account_and_bureau(sichuan_client):
    api = _bearer(sichuan_client)
    with CaptureQueriesContext(connection) as queries:
        me = api.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["organization"]["province"] == "51"
    token_queries = [q["sql"] for q in queries if "oauth2_provider_accesstoken" in q["sql"]]
    assert len(token_queries) == 1
    assert '"laborlink_organization"' in token_queries[0]
    # no second look-up of the machine account or its bureau
    assert not [q for q in queries if q["sql"].startswith('SELECT "laborlink_user"')]


def test_an_expired_token_is_refused(sichuan_client):
    api = _bearer(sichuan_client)
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"authentication_failed", "not_authenticated"}


def test_a_revoked_token_is_refused_at_once(sichuan_client):
    api = _bearer(sichuan_client)
    assert api.get("/api/v1/me/").status_code == 200
    AccessToken.objects.all().delete()
    assert api.get("/api/v1/me/").status_code == 401


def test_a_token_of_a_deactivated_machine_account_is_refused(sichuan_client):
    application, _secret = sichuan_client
    api = _bearer(sichuan_client)
    User.objects.filter(pk=application.user_id).update(is_active=False)
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_the_token_row_becomes_the_instances_the_orm_builds(sichuan_client):
    application, secret = sichuan_client
    raw = _token(application.client_id, secret)
    loaded = ProvinceOAuth2Validator()._load_access_token(raw)
    orm = AccessToken.objects.select_related("application__user__organization").get()
    assert (loaded.pk, loaded.expires, loaded.scope, loaded.resource, loaded.user_id) == (
        orm.pk,
        orm.expires,
        orm.scope,
        orm.resource,
        orm.user_id,
    )
    assert loaded.is_valid(["read"])
    machine, bureau = loaded.application.user, loaded.application.user.organization
    for field in User._meta.concrete_fields:
        assert getattr(machine, field.attname) == getattr(orm.application.user, field.attname)
    for field in type(bureau)._meta.concrete_fields:
        assert getattr(bureau, field.attname) == getattr(
            orm.application.user.organization, field.attname
        )
    # what the statement does not read is loaded when asked for, not wrong
    assert loaded.application.client_id == application.client_id
    assert ProvinceOAuth2Validator()._load_access_token("not-a-token") is None


def test_without_the_statement_the_orm_query_checks_the_token(sichuan_client, monkeypatch):
    monkeypatch.setattr(authentication, "_token_statement", lambda: None)
    me = _bearer(sichuan_client).get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["organization"]["province"] == "51"
