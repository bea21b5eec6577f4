"""Health-certificate tokens: compact JWS (RFC 7515) signed with EdDSA over Ed25519 (RFC 8037).

This module needs no database, so that `python -m health.verify` can check a token with only
the published trust list (a JWKS, RFC 7517) and, optionally, the revocation list.

Token header:  {"alg": "EdDSA", "typ": "JWT", "kid": "<key id>"}
Token payload (only what a checker needs):
    jti  certificate number          iss  issuing authority id (as in the trust list)
    nid  masked ID number            nam  name
    res  "fit" or "not_fit"          iat  issued at (Unix time)
    nbf  valid from (Unix time)      exp  valid until (Unix time, exclusive)

Verification order: header readable (else malformed) → algorithm → payload and signature
readable (else malformed) → key known → signature → claims complete → issuer of the key →
key retired before signing → revoked → not yet valid → expired → valid. Every changed byte
of a token is refused: base64url segments must be canonical, so that changing the unused
bits of a segment's last character (which decodes to the same bytes) is refused too. Header
and payload must be UTF-8 JSON objects without repeated members; a token of any other type,
of more than MAX_TOKEN_LENGTH characters, or with times outside years 1970-9999 is malformed.
Each trust-list key must carry the issuer ("iss") it belongs to; a key without one verifies
no certificate (unknown issuer).
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
MAX_TOKEN_LENGTH = 4096
# Unix times a claim may hold: 1970-01-01 to 9999-12-31 (so that every one can be displayed).
_MAX_TIMESTAMP = 253402300799

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

OUTCOME_CHOICES = [
    VALID,
    EXPIRED,
    NOT_YET_VALID,
    REVOKED,
    SIGNATURE_INVALID,
    UNKNOWN_KEY,
    UNKNOWN_ISSUER,
    KEY_RETIRED,
    ALGORITHM_NOT_ALLOWED,
    MALFORMED,
]

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
        if self.claims and self.code not in {
            MALFORMED,
            SIGNATURE_INVALID,
            UNKNOWN_KEY,
            UNKNOWN_ISSUER,
        }:
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
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    from zoneinfo import ZoneInfo

    try:
        return datetime.fromtimestamp(value, tz=ZoneInfo("Asia/Shanghai")).isoformat()
    except (OverflowError, OSError, ValueError):
        return None


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
    if jwk.get("alg", ALGORITHM) != ALGORITHM or jwk.get("use", "sig") != "sig":
        return None
    try:
        return Ed25519PublicKey.from_public_bytes(b64url_decode_canonical(str(jwk.get("x", ""))))
    except ValueError:
        return None


def _claims_complete(claims: Any) -> bool:
    if not isinstance(claims, dict) or any(name not in claims for name in REQUIRED_CLAIMS):
        return False
    numbers_ok = all(
        isinstance(claims[name], int)
        and not isinstance(claims[name], bool)
        and 0 <= claims[name] <= _MAX_TIMESTAMP
        for name in ("iat", "nbf", "exp")
    )
    texts_ok = all(isinstance(claims[name], str) for name in ("jti", "iss", "nid", "nam"))
    return numbers_ok and texts_ok and claims["res"] in RESULTS


def _json_object(data: bytes) -> dict[str, Any]:
    """A JSON object from UTF-8 bytes; repeated members, NaN/Infinity and deep nesting are
    refused (ValueError), so that two readers of the same token cannot see different things."""

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            raise ValueError("repeated member")
        return obj

    def no_constant(name: str) -> Any:
        raise ValueError(f"not JSON: {name}")

    try:
        value = json.loads(
            data.decode("utf-8"), object_pairs_hook=unique, parse_constant=no_constant
        )
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _retired_at(jwk: Mapping[str, Any]) -> int | float | None:
    value = jwk.get("retired_at")
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def verify(
    token: str,
    *,
    trust_list: Mapping[str, Any],
    revoked: Collection[str] = (),
    now: datetime | None = None,
) -> Verification:
    """Check a token against a trust list (JWKS) and a set of revoked certificate numbers.

    `now` must be time-zone aware (default: the current time)."""
    if now is not None and now.utcoffset() is None:
        raise ValueError("verify() needs an aware `now`, e.g. django.utils.timezone.now()")
    if isinstance(revoked, str):
        raise TypeError("`revoked` is a collection of certificate numbers, not one string")
    moment = (now or datetime.now(UTC)).timestamp()
    if not isinstance(token, str):
        return Verification(MALFORMED)
    token = token.strip()
    parts = token.split(".")
    if len(parts) != 3 or len(token) > MAX_TOKEN_LENGTH:
        return Verification(MALFORMED)
    try:
        header = _json_object(b64url_decode_canonical(parts[0]))
    except (ValueError, binascii.Error):
        return Verification(MALFORMED)
    # Before the other segments are read: an unsecured ("none") token has no signature.
    if header.get("alg") != ALGORITHM:
        return Verification(ALGORITHM_NOT_ALLOWED)
    if set(header) - {"alg", "kid", "typ"} or header.get("typ", TOKEN_TYPE) != TOKEN_TYPE:
        return Verification(MALFORMED)
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        return Verification(MALFORMED)
    try:
        payload_bytes = b64url_decode_canonical(parts[1])
        signature = b64url_decode_canonical(parts[2])
    except (ValueError, binascii.Error):
        return Verification(MALFORMED)
    jwk = _keys_by_kid(trust_list).get(kid) if kid is not None else None
    public_key = _public_key(jwk) if jwk is not None else None
    if jwk is None or public_key is None:
        return Verification(UNKNOWN_KEY)
    try:
        public_key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except InvalidSignature:
        return Verification(SIGNATURE_INVALID)
    try:
        claims = _json_object(payload_bytes)
    except ValueError:
        return Verification(MALFORMED)
    if not _claims_complete(claims):
        return Verification(MALFORMED)
    issuer = jwk.get("iss")
    if not isinstance(issuer, str) or issuer != claims["iss"]:
        return Verification(UNKNOWN_ISSUER, claims)
    issuer_name = str(jwk.get("issuer_name", ""))
    retired_at = _retired_at(jwk)
    if retired_at is not None and claims["iat"] > retired_at:
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
