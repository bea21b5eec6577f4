"""The published trust list and revocation list: public, cacheable, with a strong ETag
(If-None-Match → 304) and an RFC 9530 Content-Digest of the body."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from health import services, tokens
from tests.factories import make_applicant

pytestmark = pytest.mark.django_db

TRUST_LIST = reverse("health:trust-list")
REVOCATIONS = reverse("health:revocations")


@pytest.fixture
def certificate(health_officer, sichuan_officer):
    today = timezone.localdate()
    return services.certificate_issue(
        actor=health_officer,
        applicant=make_applicant(sichuan_officer),
        examined_on=today,
        result="fit",
        valid_until=today + timedelta(days=30),
    )


def check_integrity(response) -> str:
    body = response.content
    digest = hashlib.sha256(body).digest()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Cache-Control"] == "public, max-age=300"
    assert response["ETag"] == f'"{digest.hex()}"'
    assert response["Content-Digest"] == f"sha-256=:{base64.b64encode(digest).decode()}:"
    assert response["Repr-Digest"] == response["Content-Digest"]
    assert response["Access-Control-Allow-Origin"] == "*"
    return response["ETag"]


@pytest.mark.parametrize("url", [TRUST_LIST, REVOCATIONS])
def test_lists_are_public_with_integrity_headers_and_304(client, url, certificate):
    response = client.get(url)
    etag = check_integrity(response)
    assert "Set-Cookie" not in response.headers  # nothing personal, cacheable by proxies

    same = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert same.status_code == 304
    assert same.content == b""
    assert same["ETag"] == etag
    assert same["Cache-Control"] == "public, max-age=300"
    assert client.get(url, HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200
    assert client.get(url, HTTP_IF_NONE_MATCH="*").status_code == 304
    assert client.post(url).status_code == 405
    head = client.head(url)
    assert head.status_code == 200 and head["ETag"] == etag and "Content-Digest" not in head


def test_trust_list_verifies_a_token_offline(client, certificate):
    trust_list = json.loads(client.get(TRUST_LIST).content)
    kid = certificate.key.kid
    [key] = [k for k in trust_list["keys"] if k["kid"] == kid]
    assert key["iss"] == services.issuer_id(certificate.authority)
    assert set(key) >= {"kty", "crv", "x", "kid"} and "d" not in key
    outcome = tokens.verify(services.certificate_token(certificate), trust_list=trust_list)
    assert outcome.code == "valid"


def test_revocation_changes_the_list_and_its_etag(client, health_officer, certificate):
    before = client.get(REVOCATIONS)
    assert json.loads(before.content) == {"revoked": [], "generated_at": None}
    services.certificate_revoke(actor=health_officer, certificate=certificate, reason="复检不合格")
    after = client.get(REVOCATIONS, HTTP_IF_NONE_MATCH=before["ETag"])
    etag = check_integrity(after)
    assert etag != before["ETag"]
    body = json.loads(after.content)
    assert body["revoked"] == [certificate.number]
    certificate.refresh_from_db()
    assert body["generated_at"] == timezone.localtime(certificate.revoked_at).isoformat()
    # the body depends on the data only: asked again, it is byte for byte the same
    assert client.get(REVOCATIONS).content == after.content
    outcome = tokens.verify(
        services.certificate_token(certificate),
        trust_list=json.loads(client.get(TRUST_LIST).content),
        revoked=tokens.revoked_numbers(body),
    )
    assert outcome.code == "revoked"


def test_key_rotation_changes_the_trust_list(client, health_officer, certificate):
    before = client.get(TRUST_LIST)
    services.issuing_key_rotate(actor=health_officer)
    after = client.get(TRUST_LIST, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    statuses = {k["kid"]: k["status"] for k in json.loads(after.content)["keys"]}
    assert statuses[certificate.key.kid] == "retired"
    assert sorted(statuses.values()) == ["active", "retired"]
