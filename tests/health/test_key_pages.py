"""The signing keys page: public facts only, and rotation with a confirmation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from health import services
from health.models import IssuingKey

pytestmark = pytest.mark.django_db

KEYS = reverse("health:key-list")


def test_the_page_lists_keys_without_private_material(client, health_officer, sichuan_officer):
    from tests.factories import make_applicant

    today = timezone.localdate()
    services.certificate_issue(
        actor=health_officer,
        applicant=make_applicant(sichuan_officer),
        examined_on=today,
        result="fit",
        valid_until=today + timedelta(days=10),
    )
    key = IssuingKey.objects.get()
    client.force_login(health_officer)
    html = client.get(KEYS).content.decode()
    assert key.kid in html
    assert key.private_key_encrypted not in html
    assert key.private_key_encrypted[:24] not in html
    assert 'data-testid="rotate-form"' in html


def test_rotation_needs_the_confirmation_then_retires_the_active_key(client, health_officer):
    old = services.issuing_key_rotate(actor=health_officer)
    client.force_login(health_officer)

    refused = client.post(KEYS, {})
    assert refused.status_code == 400
    assert 'class="field has-error" data-field="confirm"' in refused.content.decode()
    assert IssuingKey.objects.get(status="active") == old

    response = client.post(KEYS, {"confirm": "on"})
    assert response.status_code == 302
    old.refresh_from_db()
    new = IssuingKey.objects.get(status="active")
    assert old.status == "retired" and old.retired_at is not None
    assert new != old and new.authority == health_officer.organization
    page = client.get(KEYS).content.decode()
    assert new.kid in page and old.kid in page


def test_only_health_officers_have_the_keys_page(client, sichuan_officer, platform_admin):
    for user in (sichuan_officer, platform_admin):
        client.force_login(user)
        assert client.get(KEYS).status_code == 404
        assert client.post(KEYS, {"confirm": "on"}).status_code == 404
    assert not IssuingKey.objects.exists()
