"""Personal data at rest: authenticated encryption, keyed hashes for look-up, masking.

ID numbers, phones and health results are stored as AES-256-GCM ciphertexts (the
`cryptography` library) under keys derived with HKDF from DATA_ENCRYPTION_KEY. Each value
is bound to a context (e.g. "applicant.national_id") as associated data, so a ciphertext
copied into another column does not decrypt. Uniqueness and look-up use an HMAC-SHA256
"blind index" under a separately derived key: equal inputs give equal digests, and the
digest reveals nothing without the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = "v1"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """A stored ciphertext is damaged, was moved to another context, or the key is wrong."""


def decode_master_key(value: str) -> bytes:
    """DATA_ENCRYPTION_KEY is 32 random bytes in base64 (standard or URL-safe alphabet)."""
    try:
        raw = base64.b64decode(value.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured("DATA_ENCRYPTION_KEY must be base64.") from exc
    if len(raw) != 32:
        raise ImproperlyConfigured(
            f"DATA_ENCRYPTION_KEY must decode to 32 bytes, not {len(raw)}; generate one with "
            "python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())'"
        )
    return raw


@lru_cache(maxsize=8)
def _derived_key(master: str, purpose: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"laborlink/" + purpose
    ).derive(decode_master_key(master))


def _encryption_key() -> bytes:
    return _derived_key(settings.DATA_ENCRYPTION_KEY, b"encryption")


def _index_key() -> bytes:
    return _derived_key(settings.DATA_ENCRYPTION_KEY, b"blind-index")


def encrypt(plaintext: str, *, context: str) -> str:
    """Encrypt `plaintext` for storage; `context` names the column it belongs to."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(_encryption_key()).encrypt(nonce, plaintext.encode(), context.encode())
    return f"{VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, context: str) -> str:
    version, _, body = token.partition(":")
    if version != VERSION or not body:
        raise DecryptionError("unknown ciphertext format")
    try:
        raw = base64.urlsafe_b64decode(body.encode())
        nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
        return AESGCM(_encryption_key()).decrypt(nonce, sealed, context.encode()).decode()
    except (InvalidTag, ValueError, binascii.Error) as exc:
        raise DecryptionError("ciphertext does not verify") from exc


def encrypt_bytes(data: bytes, *, context: str) -> bytes:
    """Encrypt a file's bytes for storage (same key and scheme as `encrypt`)."""
    nonce = os.urandom(NONCE_BYTES)
    return (
        VERSION.encode() + nonce + AESGCM(_encryption_key()).encrypt(nonce, data, context.encode())
    )


def decrypt_bytes(sealed: bytes, *, context: str) -> bytes:
    prefix = VERSION.encode()
    if not sealed.startswith(prefix):
        raise DecryptionError("unknown ciphertext format")
    body = sealed[len(prefix) :]
    try:
        return AESGCM(_encryption_key()).decrypt(
            body[:NONCE_BYTES], body[NONCE_BYTES:], context.encode()
        )
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError("ciphertext does not verify") from exc


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed hash of a normalised value, for uniqueness constraints and exact look-up."""
    return hmac.new(_index_key(), f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def mask_national_id(number: str) -> str:
    """`510104199003071234` → `5101**********1234`."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(phone: str) -> str:
    """`13812345678` → `138****5678`; other lengths keep only the last four."""
    digits = phone.strip()
    if len(digits) == 11:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]
