"""Health-certificate tokens: compact JWS (RFC 7515) signed with EdDSA over Ed25519 (RFC 8037).

This module needs no database, so that `python -m health.verify` can check a token with only
the published trust list (a JWKS, RFC 7517) and, optionally, the revocation list.

Token header:  {"alg": "EdDSA", "typ": "JWT", "kid": "<key id>"}
Token payload (only what a checker needs):
    jti  certificate number          iss  issuing authority id (as in the trust list)
    nid  masked ID number            nam  name
    res  "fit" or "not_fit"          iat  issued at (Unix time)
    nbf  valid from (Unix time)      exp  valid until (Unix time, exclusive)

Verification order: malformed → algorithm → key known → signature → issuer of the key →
key retired before signing → revoked → not yet valid → expired → valid. Every changed byte
of a token is refused: base64url segments must be canonical, so that changing the unused
bits of a segment's last character (which decodes to the same bytes) is refused too.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.utils.translation import gettext_lazy as _

ALGORITHM = "EdDSA"
TOKEN_TYPE = "JWT"  # noqa: S105 - the JOSE "typ" header value
REQUIRED_CLAIMS = ("jti", "iss", "nid", "nam", "res", "iat", "nbf", "exp")
RESULTS = ("fit", "not_fit")

VALID = "valid"
EXPIRED = "expired"
NOT_YET_VALID = "not_yet_valid"
REVOKED = "revoked"
SIGNATURE_INVALID = "signature_invalid"
UNKNOWN_KEY = "unknown_key"
UNKNOWN_ISSUER = "unknown_issuer"
KEY_RETIRED = "key_retired"
ALGORITHM_NOT_ALLOWED = "algorithm_not_allowed"
MALFORMED = "malformed"

MESSAGES = {
    VALID: _("Valid: the certificate is genuine, in force and not revoked."),
    EXPIRED: _("Expired: the certificate is no longer valid."),
    NOT_YET_VALID: _("Not yet valid: the certificate's validity has not started."),
    REVOKED: _("Revoked: the issuing authority has withdrawn this certificate."),
    SIGNATURE_INVALID: _("Signature invalid: the certificate has been altered or forged."),
    UNKNOWN_KEY: _("Unknown key: the certificate was not signed by a published key."),
    UNKNOWN_ISSUER: _(
        "Unknown issuer: the key that signed this certificate belongs to another authority."
    ),
    KEY_RETIRED: _("Key retired: the certificate was signed after its key was retired."),
    ALGORITHM_NOT_ALLOWED: _("Algorithm not allowed: only EdDSA (Ed25519) signatures count."),
    MALFORMED: _("Malformed: this is not a health-certificate token."),
}


@dataclass(frozen=True)
class Verification:
    """The outcome of checking one token: a reason code, its translated message, and the
    claims when the token could be read (they are shown only when `ok`)."""

    code: str
    claims: dict[str, Any] = field(default_factory=dict)
    issuer_name: str = ""

    @property
    def ok(self) -> bool:
        return self.code == VALID

    @property
    def message(self) -> str:
        return str(MESSAGES[self.code])

    @property
    def certificate_number(self) -> str:
        value = self.claims.get("jti")
        return value if isinstance(value, str) else ""

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "valid": self.ok, "message": self.message}
        if self.claims and self.code not in {MALFORMED, SIGNATURE_INVALID, UNKNOWN_KEY}:
            data["certificate"] = {
                "number": self.claims.get("jti"),
                "issuer": self.claims.get("iss"),
                "issuer_name": self.issuer_name,
                "name": self.claims.get("nam"),
                "national_id_masked": self.claims.get("nid"),
                "result": self.claims.get("res"),
                "issued_at": _iso(self.claims.get("iat")),
                "valid_from": _iso(self.claims.get("nbf")),
                "expires_at": _iso(self.claims.get("exp")),
            }
        return data


def _iso(value: Any) -> str | None:
    if not isinstance(value, int | float):
        return None
    from zoneinfo import ZoneInfo

    return datetime.fromtimestamp(value, tz=ZoneInfo("Asia/Shanghai")).isoformat()


# --- Encoding ---------------------------------------------------------------------------------


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode_canonical(segment: str) -> bytes:
    """Decode base64url without padding; refuse any other spelling of the same bytes."""
    if not segment or any(c not in _B64URL for c in segment):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if b64url_encode(data) != segment:
        raise ValueError("not canonical base64url")
    return data


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def public_jwk(public_key: Ed25519PublicKey, *, kid: str) -> dict[str, str]:
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw), "kid": kid}


def sign(claims: Mapping[str, Any], *, private_key: Ed25519PrivateKey, kid: str) -> str:
    """The compact JWS of `claims` (keys sorted, no spaces: the token stays short)."""
    header = {"alg": ALGORITHM, "kid": kid, "typ": TOKEN_TYPE}
    signing_input = ".".join(
        b64url_encode(json.dumps(part, separators=(",", ":"), sort_keys=True).encode())
        for part in (header, dict(claims))
    )
    signature = private_key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


# --- Verification -----------------------------------------------------------------------------


def _keys_by_kid(trust_list: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    keys = trust_list.get("keys") if isinstance(trust_list, Mapping) else None
    if not isinstance(keys, list):
        return {}
    return {
        key["kid"]: key
        for key in keys
        if isinstance(key, Mapping) and isinstance(key.get("kid"), str)
    }


def _public_key(jwk: Mapping[str, Any]) -> Ed25519PublicKey | None:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        return None
    try:
        return Ed25519PublicKey.from_public_bytes(b64url_decode_canonical(str(jwk.get("x", ""))))
    except ValueError:
        return None


def _claims_complete(claims: Any) -> bool:
    if not isinstance(claims, dict) or any(name not in claims for name in REQUIRED_CLAIMS):
        return False
    numbers_ok = all(
        isinstance(claims[name], int) and not isinstance(claims[name], bool)
        for name in ("iat", "nbf", "exp")
    )
    texts_ok = all(isinstance(claims[name], str) for name in ("jti", "iss", "nid", "nam"))
    return numbers_ok and texts_ok and claims["res"] in RESULTS


def verify(
    token: str,
    *,
    trust_list: Mapping[str, Any],
    revoked: Collection[str] = (),
    now: datetime | None = None,
) -> Verification:
    """Check a token against a trust list (JWKS) and a set of revoked certificate numbers."""
    moment = (now or datetime.now(UTC)).timestamp()
    token = (token or "").strip()
    parts = token.split(".")
    if len(parts) != 3 or len(token) > 4096:
        return Verification(MALFORMED)
    try:
        header = json.loads(b64url_decode_canonical(parts[0]))
        payload_bytes = b64url_decode_canonical(parts[1])
        signature = b64url_decode_canonical(parts[2])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return Verification(MALFORMED)
    if not isinstance(header, dict):
        return Verification(MALFORMED)
    if header.get("alg") != ALGORITHM:
        return Verification(ALGORITHM_NOT_ALLOWED)
    if set(header) - {"alg", "kid", "typ"} or header.get("typ", TOKEN_TYPE) != TOKEN_TYPE:
        return Verification(MALFORMED)
    jwk = _keys_by_kid(trust_list).get(header.get("kid"))  # type: ignore[arg-type]
    public_key = _public_key(jwk) if jwk is not None else None
    if public_key is None:
        return Verification(UNKNOWN_KEY)
    try:
        public_key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except InvalidSignature:
        return Verification(SIGNATURE_INVALID)
    try:
        claims = json.loads(payload_bytes)
    except (ValueError, UnicodeDecodeError):
        return Verification(MALFORMED)
    if not _claims_complete(claims):
        return Verification(MALFORMED)
    issuer_name = str(jwk.get("issuer_name", ""))
    if jwk.get("iss") != claims["iss"]:
        return Verification(UNKNOWN_ISSUER, claims)
    retired_at = jwk.get("retired_at")
    if isinstance(retired_at, int) and claims["iat"] > retired_at:
        return Verification(KEY_RETIRED, claims, issuer_name)
    if claims["jti"] in revoked:
        return Verification(REVOKED, claims, issuer_name)
    if moment < claims["nbf"]:
        return Verification(NOT_YET_VALID, claims, issuer_name)
    if moment >= claims["exp"]:
        return Verification(EXPIRED, claims, issuer_name)
    return Verification(VALID, claims, issuer_name)


def revoked_numbers(revocation_list: Mapping[str, Any] | None) -> frozenset[str]:
    """The certificate numbers of a published revocation list."""
    if not isinstance(revocation_list, Mapping):
        return frozenset()
    numbers = revocation_list.get("revoked", [])
    return (
        frozenset(n for n in numbers if isinstance(n, str))
        if isinstance(numbers, list)
        else frozenset()
    )
