"""Encryption at rest, keyed hashes and masking of personal data."""

import pytest

from laborlink import personal_data
from laborlink.personal_data import (
    DecryptionError,
    blind_index,
    decrypt,
    encrypt,
    mask_national_id,
    mask_phone,
)

ID = "510104199003071237"


def test_round_trip_and_fresh_nonce():
    first = encrypt(ID, context="applicant.national_id")
    second = encrypt(ID, context="applicant.national_id")
    assert first != second  # a new nonce each time: equal values do not look equal
    assert ID not in first
    assert decrypt(first, context="applicant.national_id") == ID


def test_ciphertext_is_bound_to_its_column():
    token = encrypt(ID, context="applicant.national_id")
    with pytest.raises(DecryptionError):
        decrypt(token, context="applicant.phone")


def test_any_changed_byte_is_detected():
    token = encrypt("13812345678", context="applicant.phone")
    prefix, body = token.split(":")
    for i in range(len(body)):
        flipped = body[:i] + ("A" if body[i] != "A" else "B") + body[i + 1 :]
        with pytest.raises(DecryptionError):
            decrypt(f"{prefix}:{flipped}", context="applicant.phone")


def test_another_key_cannot_decrypt(settings):
    token = encrypt(ID, context="c")
    settings.DATA_ENCRYPTION_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
    with pytest.raises(DecryptionError):
        decrypt(token, context="c")


def test_blind_index_is_stable_keyed_and_purpose_bound(settings):
    digest = blind_index(ID, purpose="national_id")
    assert digest == blind_index(ID, purpose="national_id")
    assert digest != blind_index(ID, purpose="phone")
    assert ID not in digest and len(digest) == 64
    settings.DATA_ENCRYPTION_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
    assert blind_index(ID, purpose="national_id") != digest


def test_masks():
    assert mask_national_id(ID) == "5101**********1237"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0571-8888") == "*****8888"


def test_malformed_master_key_is_refused():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        personal_data.decode_master_key("c2hvcnQ=")


def test_file_bytes_round_trip_and_are_bound_to_their_context():
    sealed = personal_data.encrypt_bytes(b"510104199003071234,13812345678", context="file:a")
    assert b"510104199003071234" not in sealed
    assert personal_data.decrypt_bytes(sealed, context="file:a").startswith(b"510104")
    with pytest.raises(personal_data.DecryptionError):
        personal_data.decrypt_bytes(sealed, context="file:b")
    with pytest.raises(personal_data.DecryptionError):
        personal_data.decrypt_bytes(sealed[:-1] + bytes([sealed[-1] ^ 1]), context="file:a")
