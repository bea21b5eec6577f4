"""The public verification page: paste a token, upload a picture of the QR code; every
verification is logged; tokens never travel in URLs; anonymous use is throttled."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import segno
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from PIL import Image

from health import services, tokens
from health.models import VerificationLog
from tests.factories import make_applicant

pytestmark = pytest.mark.django_db

VERIFY = reverse("health:verify")


@pytest.fixture
def certificate(health_officer, sichuan_officer):
    today = timezone.localdate()
    return services.certificate_issue(
        actor=health_officer,
        applicant=make_applicant(sichuan_officer, name="孙丽华"),
        examined_on=today,
        result="fit",
        valid_until=today + timedelta(days=45),
        notes="不应出现在核验页",
    )


@pytest.fixture
def token(certificate) -> str:
    return services.certificate_token(certificate)


def message(code: str) -> str:
    with translation.override("zh-hans"):
        return escape(str(tokens.MESSAGES[code]))


def png_of_qr(text: str, *, scale: int = 4) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale)
    return buffer.getvalue()


def upload(content: bytes, name: str = "qr.png", content_type: str = "image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def verdict(response) -> str:
    return response.content.decode().split('data-code="', 1)[1].split('"', 1)[0]


def test_the_page_is_public_and_offers_the_three_ways(client):
    response = client.get(VERIFY)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="token"' in html and 'name="image"' in html
    assert 'enctype="multipart/form-data"' in html
    assert "data-scanner hidden" in html  # shown by health-verify.js where a camera can scan
    assert "js/health-verify.js" in html


def test_a_pasted_valid_token_is_valid_and_logged_with_its_actor(
    client, sichuan_officer, certificate, token
):
    client.force_login(sichuan_officer)
    response = client.post(VERIFY, {"token": token})
    html = response.content.decode()
    assert response.status_code == 200
    assert verdict(response) == "valid"
    assert "verdict-valid" in html and message("valid") in html
    for fact in (certificate.number, "孙丽华", certificate.applicant.national_id_masked):
        assert fact in html
    assert certificate.valid_until.isoformat() in html
    assert certificate.authority.name in html
    assert "不应出现在核验页" not in html
    assert token not in html  # not echoed back into the form
    log = VerificationLog.objects.get()
    assert (log.actor, log.channel, log.certificate_number, log.outcome) == (
        sichuan_officer,
        "page",
        certificate.number,
        "valid",
    )


def test_anonymous_verification_is_logged_without_actor(client, certificate, token):
    response = client.post(VERIFY, {"token": f"  {token[:200]}\n{token[200:]}  "})
    assert verdict(response) == "valid"
    log = VerificationLog.objects.get()
    assert (log.actor, log.outcome, log.certificate_number) == (None, "valid", certificate.number)


def test_a_changed_token_is_refused_as_signature_invalid(client, token):
    header, payload, signature = token.split(".")
    middle = len(signature) // 2
    changed = signature[:middle] + ("B" if signature[middle] == "A" else "A")
    changed += signature[middle + 1 :]
    response = client.post(VERIFY, {"token": f"{header}.{payload}.{changed}"})
    html = response.content.decode()
    assert verdict(response) == "signature_invalid"
    assert "verdict-invalid" in html and message("signature_invalid") in html
    assert 'data-testid="verdict-facts"' not in html
    assert VerificationLog.objects.get().outcome == "signature_invalid"


def test_rubbish_is_malformed(client):
    response = client.post(VERIFY, {"token": "hello world"})
    assert verdict(response) == "malformed"
    assert VerificationLog.objects.get().outcome == "malformed"


def test_an_uploaded_picture_of_the_qr_code_is_verified(client, certificate, token):
    response = client.post(VERIFY, {"image": upload(png_of_qr(token))})
    assert response.status_code == 200
    assert verdict(response) == "valid"
    assert certificate.number in response.content.decode()
    assert VerificationLog.objects.get().outcome == "valid"


def test_a_jpeg_photo_with_margins_is_read_too(client, token):
    qr = Image.open(io.BytesIO(png_of_qr(token, scale=5))).convert("RGB")
    photo = Image.new("RGB", (qr.width + 300, qr.height + 200), (200, 190, 170))
    photo.paste(qr, (150, 80))
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=90)
    response = client.post(VERIFY, {"image": upload(buffer.getvalue(), "photo.jpg", "image/jpeg")})
    assert verdict(response) == "valid"


def test_a_file_that_is_not_a_picture_is_refused_clearly(client, token):
    response = client.post(
        VERIFY, {"image": upload(b"%PDF-1.7 not a picture", "qr.png", "image/png")}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'class="field has-error" data-field="image"' in html
    with translation.override("zh-hans"):
        expected = translation.gettext(
            "This file is not a picture. Upload a photo or screenshot (PNG, JPEG, GIF, WebP, BMP)."
        )
    assert escape(expected) in html
    assert not VerificationLog.objects.exists()


def test_a_picture_without_a_qr_code_is_refused(client):
    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), "white").save(buffer, format="PNG")
    response = client.post(VERIFY, {"image": upload(buffer.getvalue())})
    assert response.status_code == 400
    assert 'data-field="image"' in response.content.decode()
    assert not VerificationLog.objects.exists()


def test_a_decompression_bomb_is_refused_before_decoding(client):
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000), 1).save(buffer, format="PNG", optimize=True)
    assert len(buffer.getvalue()) < 200_000  # small file, 100 million pixels
    response = client.post(VERIFY, {"image": upload(buffer.getvalue())})
    assert response.status_code == 400
    assert 'class="field has-error" data-field="image"' in response.content.decode()
    assert not VerificationLog.objects.exists()


def test_a_picture_over_five_megabytes_is_refused(client):
    response = client.post(VERIFY, {"image": upload(b"\x89PNG" + b"0" * (5 * 1024 * 1024))})
    assert response.status_code == 400
    assert 'class="field has-error" data-field="image"' in response.content.decode()


def test_nothing_to_verify_asks_for_a_token_or_a_picture(client):
    response = client.post(VERIFY, {"token": "   "})
    assert response.status_code == 400
    assert 'data-testid="form-errors"' in response.content.decode()
    assert not VerificationLog.objects.exists()


def test_a_token_in_the_query_string_is_ignored(client, token):
    response = client.get(VERIFY, {"token": token})
    assert response.status_code == 302
    assert response["Location"] == VERIFY
    followed = client.get(VERIFY, {"token": token}, follow=True)
    assert 'data-testid="verdict"' not in followed.content.decode()
    assert token not in followed.content.decode()
    assert not VerificationLog.objects.exists()


def test_anonymous_use_is_throttled_per_address(client, sichuan_officer, token):
    for _ in range(30):
        assert client.post(VERIFY, {"token": "x.y.z"}).status_code == 200
    response = client.post(VERIFY, {"token": token})
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert 'data-testid="throttled"' in response.content.decode()
    assert VerificationLog.objects.count() == 30
    other = client.post(VERIFY, {"token": token}, REMOTE_ADDR="10.1.2.3")
    assert verdict(other) == "valid"
    client.force_login(sichuan_officer)  # signed-in officers at a boarding gate are not limited
    assert verdict(client.post(VERIFY, {"token": token})) == "valid"
