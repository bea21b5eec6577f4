"""The optional TOTP second factor of bureau and health officers."""

from __future__ import annotations

import base64

from axes.models import AccessAttempt
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import TEST_PASSWORD

SETTINGS_URL = "/accounts/two-step/"
VERIFY_URL = "/accounts/verify/"


def code_for(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or `steps_ahead` 30-second steps later)."""
    device.refresh_from_db()
    value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift + steps_ahead)
    return f"{value:0{device.digits}d}"


def fresh(device: TOTPDevice) -> TOTPDevice:
    """Forget the last used time step and the wrong-code delay (as time passing would)."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
    )
    device.refresh_from_db()
    return device


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def log_in(client, user):
    return client.post("/accounts/login/", {"username": user.username, "password": TEST_PASSWORD})


def test_an_officer_enrols_with_the_qr_code_and_a_code(client, sichuan_officer):
    client.force_login(sichuan_officer)
    page = client.get(SETTINGS_URL)
    assert page.status_code == 200
    assert 'data-testid="start"' in page.content.decode()

    assert client.post(SETTINGS_URL, {"action": "start"}).status_code == 302
    device = TOTPDevice.objects.get(user=sichuan_officer)
    assert device.confirmed is False
    html = client.get(SETTINGS_URL).content.decode()
    assert "<svg viewBox=" in html and 'class="qr-code"' in html
    assert 'data-testid="otp-secret"' in html
    secret = html.split('data-testid="otp-secret">')[1].split("<")[0].replace(" ", "")
    assert base64.b32decode(secret) == device.bin_key
    assert page["Cache-Control"].startswith("max-age=0")

    wrong = client.post(SETTINGS_URL, {"action": "confirm", "token": "000000"})
    assert wrong.status_code == 400
    device = fresh(device)
    right = client.post(SETTINGS_URL, {"action": "confirm", "token": code_for(device)})
    assert right.status_code == 302
    device.refresh_from_db()
    assert device.confirmed is True
    # This session is verified by the confirming code: the pages stay usable.
    assert client.get("/").status_code == 200


def test_other_roles_do_not_get_the_enrol_page(client, hr_officer, platform_admin):
    for user in (hr_officer, platform_admin):
        client.force_login(user)
        assert client.get(SETTINGS_URL).status_code == 404
        assert client.post(SETTINGS_URL, {"action": "start"}).status_code == 404
    assert not TOTPDevice.objects.exists()


def test_the_nav_links_the_enrol_page_for_officers_only(client, health_officer, hr_officer):
    client.force_login(health_officer)
    html = client.get("/").content.decode()
    assert f'href="{SETTINGS_URL}"' in html
    assert 'href="/accounts/password/"' in html
    client.force_login(hr_officer)
    html = client.get("/").content.decode()
    assert f'href="{SETTINGS_URL}"' not in html
    assert 'href="/accounts/password/"' in html


def test_log_in_asks_for_the_code_and_nothing_else_works_until_it_is_given(client, health_officer):
    device = enrolled(health_officer)
    response = log_in(client, health_officer)
    assert response.status_code == 302
    # Every page leads to the code page; the API refuses.
    for path in ("/", "/health/certificates/", "/recruitment/applicants/", "/admin/"):
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert answer["Location"].startswith(f"{VERIFY_URL}?next="), path
    api = client.get("/api/v1/me/")
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "second_factor_required"

    page = client.get(f"{VERIFY_URL}?next=/health/certificates/")
    assert page.status_code == 200
    wrong = client.post(VERIFY_URL, {"token": "123456", "next": "/health/certificates/"})
    assert wrong.status_code == 400
    assert client.get("/").status_code == 302

    device = fresh(device)
    right = client.post(VERIFY_URL, {"token": code_for(device), "next": "/health/certificates/"})
    assert right.status_code == 302
    assert right["Location"] == "/health/certificates/"
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200


def test_a_code_is_not_accepted_twice(client, health_officer):
    device = enrolled(health_officer)
    log_in(client, health_officer)
    code = code_for(device)
    assert client.post(VERIFY_URL, {"token": code}).status_code == 302
    client.post("/accounts/logout/")
    log_in(client, health_officer)
    assert client.post(VERIFY_URL, {"token": code}).status_code == 400


def test_next_never_leaves_the_site(client, health_officer):
    device = enrolled(health_officer)
    log_in(client, health_officer)
    answer = client.post(VERIFY_URL, {"token": code_for(device), "next": "https://evil.example/"})
    assert answer["Location"] == reverse("home")


def test_wrong_codes_count_toward_the_lock_out(client, health_officer):
    device = enrolled(health_officer)
    log_in(client, health_officer)
    statuses = []
    for _ in range(5):
        fresh(device)  # no wait between tries: the lock-out, not the device delay, stops them
        statuses.append(client.post(VERIFY_URL, {"token": "000000"}).status_code)
    assert statuses == [400, 400, 400, 400, 429]
    assert AccessAttempt.objects.get(username=health_officer.username).failures_since_start == 5
    # The half-logged-in session is gone, and the password alone does not get back in.
    assert "_auth_user_id" not in client.session
    assert log_in(client, health_officer).status_code == 429


def test_a_wrong_code_delays_the_next_try(client, health_officer):
    device = enrolled(health_officer)
    log_in(client, health_officer)
    client.post(VERIFY_URL, {"token": "000000"})
    delayed = client.post(VERIFY_URL, {"token": code_for(device)}, HTTP_ACCEPT_LANGUAGE="en")
    assert delayed.status_code == 400
    assert "Too many wrong codes in a row" in delayed.content.decode()
    assert client.get("/").status_code == 302


def test_turning_it_off_needs_a_current_code(client, sichuan_officer):
    device = enrolled(sichuan_officer)
    log_in(client, sichuan_officer)
    client.post(VERIFY_URL, {"token": code_for(device)})
    html = client.get(SETTINGS_URL).content.decode()
    assert 'data-testid="remove"' in html

    refused = client.post(SETTINGS_URL, {"action": "remove", "token": "000000"})
    assert refused.status_code == 400
    assert TOTPDevice.objects.filter(user=sichuan_officer).exists()
    fresh(device)
    removed = client.post(
        SETTINGS_URL, {"action": "remove", "token": code_for(device, steps_ahead=1)}
    )
    assert removed.status_code == 302
    assert not TOTPDevice.objects.filter(user=sichuan_officer).exists()

    client.post("/accounts/logout/")
    assert log_in(client, sichuan_officer).status_code == 302
    assert client.get("/").status_code == 200  # no code asked any more


def test_an_unconfirmed_device_does_not_ask_for_a_code(client, sichuan_officer):
    TOTPDevice.objects.create(user=sichuan_officer, name="app", confirmed=False)
    log_in(client, sichuan_officer)
    assert client.get("/").status_code == 200
