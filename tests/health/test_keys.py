"""Issuing keys: created on first use, rotated, one active per authority, published in the
trust list (public halves only), and retired keys keep verifying what they signed."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.db import IntegrityError, transaction
from django.utils import timezone

from health import selectors, services, tokens
from health.models import IssuingKey
from laborlink.errors import Forbidden
from laborlink.models import Organization, User
from laborlink.services import api_client_create
from tests.api.masked_client import api_as
from tests.factories import OrganizationFactory, UserFactory, make_applicant, province

pytestmark = pytest.mark.django_db


@pytest.fixture
def applicant(sichuan_officer):
    return make_applicant(sichuan_officer)


@pytest.fixture
def guizhou_health_officer(db):
    authority = OrganizationFactory(
        name="贵州省毕节市卫生健康局",
        kind=Organization.Kind.HEALTH_AUTHORITY,
        province=province("52"),
        level=Organization.Level.CITY,
    )
    return UserFactory(role=User.Role.HEALTH_OFFICER, organization=authority)


def issue(officer, applicant, **overrides):
    today = timezone.localdate()
    values = {
        "applicant": applicant,
        "examined_on": today - timedelta(days=1),
        "result": "fit",
        "valid_until": today + timedelta(days=30),
    }
    values.update(overrides)
    return services.certificate_issue(actor=officer, **values)


def private_spellings(key: IssuingKey) -> list[str]:
    """Every way the private half could leak: raw bytes in base64 and base64url, and the
    stored ciphertext."""
    raw = services._private_key(key).private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return [
        base64.b64encode(raw).decode(),
        tokens.b64url_encode(raw),
        raw.hex(),
        key.private_key_encrypted,
    ]


def test_first_certificate_creates_the_active_key(health_officer, applicant):
    authority = health_officer.organization
    assert not IssuingKey.objects.filter(authority=authority).exists()

    certificate = issue(health_officer, applicant)

    key = IssuingKey.objects.get(authority=authority)
    assert key.status == IssuingKey.Status.ACTIVE
    assert key.retired_at is None
    assert certificate.key == key
    assert key.kid.startswith(services.issuer_id(authority))
    # A second certificate signs with the same key.
    assert issue(health_officer, applicant).key == key


def test_rotation_retires_the_active_key_and_creates_a_new_one(health_officer, applicant):
    old = issue(health_officer, applicant).key

    new = services.issuing_key_rotate(actor=health_officer)

    old.refresh_from_db()
    assert old.status == IssuingKey.Status.RETIRED
    assert old.retired_at is not None
    assert new.status == IssuingKey.Status.ACTIVE
    assert new.kid != old.kid and new.public_key != old.public_key
    assert (
        IssuingKey.objects.filter(
            authority=health_officer.organization, status=IssuingKey.Status.ACTIVE
        ).get()
        == new
    )
    assert issue(health_officer, applicant).key == new


def test_rotation_without_any_key_yet_creates_the_first(health_officer):
    key = services.issuing_key_rotate(actor=health_officer)

    assert IssuingKey.objects.get(authority=health_officer.organization) == key
    assert key.status == IssuingKey.Status.ACTIVE


def test_only_a_health_officer_rotates(sichuan_officer):
    with pytest.raises(Forbidden):
        services.issuing_key_rotate(actor=sichuan_officer)
    assert not IssuingKey.objects.exists()


def test_database_refuses_a_second_active_key(health_officer):
    authority = health_officer.organization
    services.issuing_key_rotate(actor=health_officer)

    with pytest.raises(IntegrityError), transaction.atomic():
        IssuingKey.objects.create(
            authority=authority, kid="forged-kid", public_key="x", private_key_encrypted="y"
        )

    assert IssuingKey.objects.filter(authority=authority).count() == 1


def test_database_refuses_a_retired_key_without_a_time(health_officer):
    key = services.issuing_key_rotate(actor=health_officer)

    with pytest.raises(IntegrityError), transaction.atomic():
        IssuingKey.objects.filter(pk=key.pk).update(status=IssuingKey.Status.RETIRED)


def test_each_authority_has_its_own_active_key(health_officer, guizhou_health_officer):
    sichuan = services.issuing_key_rotate(actor=health_officer)
    guizhou = services.issuing_key_rotate(actor=guizhou_health_officer)

    assert sichuan.authority != guizhou.authority
    assert IssuingKey.objects.filter(status=IssuingKey.Status.ACTIVE).count() == 2


def test_certificate_signed_with_a_retired_key_verifies_until_it_expires(health_officer, applicant):
    certificate = issue(health_officer, applicant)
    token = services.certificate_token(certificate)
    services.issuing_key_rotate(actor=health_officer)

    outcome = services.certificate_verify(actor=None, token=token, channel="api")
    assert outcome.code == tokens.VALID

    # One second before the end of the valid-until day (Asia/Shanghai): still valid; then expired.
    end = timezone.make_aware(
        datetime.combine(certificate.valid_until + timedelta(days=1), datetime.min.time())
    )
    trust = selectors.trust_list()
    last = tokens.verify(token, trust_list=trust, now=end - timedelta(seconds=1))
    after = tokens.verify(token, trust_list=trust, now=end.astimezone(UTC))
    assert last.code == tokens.VALID
    assert after.code == tokens.EXPIRED


def test_certificate_signed_after_its_key_was_retired_is_refused(health_officer, applicant):
    certificate = issue(health_officer, applicant)
    token = services.certificate_token(certificate)
    old = certificate.key
    # The key was retired a minute before this certificate says it was signed.
    IssuingKey.objects.filter(pk=old.pk).update(
        status=IssuingKey.Status.RETIRED, retired_at=certificate.issued_at - timedelta(minutes=1)
    )

    outcome = services.certificate_verify(actor=None, token=token, channel="api")

    assert outcome.code == tokens.KEY_RETIRED


def test_trust_list_publishes_active_and_retired_keys_with_status_and_issuer(
    health_officer, guizhou_health_officer, applicant
):
    old = issue(health_officer, applicant).key
    new = services.issuing_key_rotate(actor=health_officer)
    guizhou = services.issuing_key_rotate(actor=guizhou_health_officer)
    old.refresh_from_db()

    published = {key["kid"]: key for key in selectors.trust_list()["keys"]}

    assert set(published) == {old.kid, new.kid, guizhou.kid}
    sichuan_iss = services.issuer_id(health_officer.organization)
    assert published[old.kid]["status"] == "retired"
    assert published[old.kid]["retired_at"] == int(old.retired_at.timestamp())
    assert published[new.kid]["status"] == "active"
    assert published[new.kid]["retired_at"] is None
    assert published[old.kid]["iss"] == published[new.kid]["iss"] == sichuan_iss
    assert published[guizhou.kid]["iss"] == services.issuer_id(guizhou_health_officer.organization)
    for key in published.values():
        assert (key["kty"], key["crv"], key["alg"]) == ("OKP", "Ed25519", "EdDSA")
    assert published[new.kid]["x"] == new.public_key


def test_private_key_never_appears_in_the_trust_list(health_officer, applicant):
    old = issue(health_officer, applicant).key
    new = services.issuing_key_rotate(actor=health_officer)

    published = json.dumps(selectors.trust_list())

    for key in (old, new):
        for spelling in private_spellings(key):
            assert spelling not in published
    for jwk in selectors.trust_list()["keys"]:
        assert "d" not in jwk
        assert not any("private" in name for name in jwk)


# --- API ------------------------------------------------------------------------------------


def test_health_officer_lists_its_own_keys_without_private_material(
    health_officer, guizhou_health_officer, applicant
):
    old = issue(health_officer, applicant).key
    new = services.issuing_key_rotate(actor=health_officer)
    services.issuing_key_rotate(actor=guizhou_health_officer)
    old.refresh_from_db()

    response = api_as(health_officer).get("/api/v1/issuing-keys/")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["kid"] for row in rows] == [new.kid, old.kid]
    assert set(rows[0]) == {"kid", "issuer", "status", "created_at", "retired_at", "x"}
    assert rows[0]["status"] == "active" and rows[0]["retired_at"] is None
    assert rows[1]["status"] == "retired" and rows[1]["retired_at"] is not None
    assert rows[0]["x"] == new.public_key
    assert rows[0]["issuer"] == services.issuer_id(health_officer.organization)
    text = response.content.decode()
    for key in (old, new):
        for spelling in private_spellings(key):
            assert spelling not in text

    detail = api_as(health_officer).get(f"/api/v1/issuing-keys/{old.kid}/")
    assert detail.status_code == 200
    assert detail.json()["kid"] == old.kid


def test_keys_of_another_authority_are_not_found(health_officer, guizhou_health_officer):
    guizhou = services.issuing_key_rotate(actor=guizhou_health_officer)

    response = api_as(health_officer).get(f"/api/v1/issuing-keys/{guizhou.kid}/")

    assert response.status_code == 404


@pytest.mark.parametrize("actor_fixture", ["sichuan_officer", "hr_officer"])
def test_other_roles_see_no_keys(request, actor_fixture, health_officer):
    services.issuing_key_rotate(actor=health_officer)
    actor = request.getfixturevalue(actor_fixture)

    response = api_as(actor).get("/api/v1/issuing-keys/")

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_health_officer_rotates_over_the_api(health_officer, applicant):
    old = issue(health_officer, applicant).key

    response = api_as(health_officer).post("/api/v1/issuing-keys/rotate/")

    assert response.status_code == 201, response.content
    body = response.json()
    new = IssuingKey.objects.get(kid=body["kid"])
    assert body["status"] == "active"
    assert new.authority == health_officer.organization
    old.refresh_from_db()
    assert old.status == IssuingKey.Status.RETIRED
    text = response.content.decode()
    for spelling in private_spellings(new):
        assert spelling not in text


def test_bureau_officer_and_api_client_cannot_rotate(sichuan_officer, sichuan_bureau):
    machine, _application, _secret = api_client_create(
        actor=None, bureau=sichuan_bureau, name="四川省就业信息系统"
    )

    assert api_as(sichuan_officer).post("/api/v1/issuing-keys/rotate/").status_code == 403
    assert api_as(machine).post("/api/v1/issuing-keys/rotate/").status_code == 403
    assert not IssuingKey.objects.exists()


# --- Admin ----------------------------------------------------------------------------------


def test_admin_shows_keys_read_only_and_without_the_private_half(
    client, platform_admin, health_officer, applicant
):
    key = issue(health_officer, applicant).key
    client.force_login(platform_admin)

    listing = client.get("/admin/health/issuingkey/")
    detail = client.get(f"/admin/health/issuingkey/{key.pk}/change/")
    add = client.get("/admin/health/issuingkey/add/")

    assert listing.status_code == 200 and key.kid in listing.content.decode()
    assert detail.status_code == 200
    assert add.status_code == 403
    for response in (listing, detail):
        text = response.content.decode()
        for spelling in private_spellings(key):
            assert spelling not in text
    assert 'name="_save"' not in detail.content.decode()
