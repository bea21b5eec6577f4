"""health.tokens: compact JWS/EdDSA certificates, checked with only a trust list (JWKS) and a
revocation list. Most tests need no database: keys come from `cryptography`, the trust list is
built by hand. One test runs the whole path through the services and the published trust list.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.utils import timezone, translation
from django.utils.translation import gettext

from health import selectors, services, tokens

SHANGHAI = ZoneInfo("Asia/Shanghai")
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
ISSUER_A = "51-HA-1"
ISSUER_B = "52-HA-2"
KID_A = "51-HA-1-20270102-a1b2c3"
KID_B = "52-HA-2-20270102-d4e5f6"
# A moment inside the test certificate's validity (issued 2027-01-02, valid until 2027-01-31).
NOW = datetime(2027, 1, 10, 12, 0, tzinfo=SHANGHAI)
CJK = re.compile(r"[\u4e00-\u9fff]")

KEY_A = Ed25519PrivateKey.generate()
KEY_B = Ed25519PrivateKey.generate()


def jwk(private_key: Ed25519PrivateKey, *, kid: str, iss: str, **extra) -> dict:
    return {**tokens.public_jwk(private_key.public_key(), kid=kid), "iss": iss, **extra}


def trust_list(*keys: dict) -> dict:
    """The given keys, or by default authority A's and authority B's."""
    default = [jwk(KEY_A, kid=KID_A, iss=ISSUER_A), jwk(KEY_B, kid=KID_B, iss=ISSUER_B)]
    return {"keys": list(keys) or default}


def claims_for(
    *,
    valid_until: date = date(2027, 1, 31),
    issued: datetime = datetime(2027, 1, 2, 9, 30, tzinfo=SHANGHAI),
    **overrides,
) -> dict:
    """Claims as services.certificate_issue builds them (exp = the first instant after
    `valid_until` in Asia/Shanghai)."""
    claims = {
        "jti": "HC202751ABCDEFGH",
        "iss": ISSUER_A,
        "nid": "5101**********123X",
        "nam": "张三",
        "res": "fit",
        "iat": int(issued.timestamp()),
        "nbf": int(issued.timestamp()),
        "exp": int(services._end_of(valid_until).timestamp()),
    }
    claims.update(overrides)
    return claims


def signed(claims: dict | None = None, *, key=KEY_A, kid: str = KID_A) -> str:
    return tokens.sign(claims if claims is not None else claims_for(), private_key=key, kid=kid)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_raw(header: bytes | dict, payload: bytes | dict, *, key=KEY_A) -> str:
    """A token whose header and payload bytes are exactly as given, properly signed."""
    parts = [
        b64(part if isinstance(part, bytes) else json.dumps(part).encode())
        for part in (header, payload)
    ]
    signing_input = ".".join(parts)
    return f"{signing_input}.{b64(key.sign(signing_input.encode()))}"


def check(token, *, trust: dict | None = None, revoked=(), now: datetime = NOW) -> str:
    trust = trust if trust is not None else trust_list()
    return tokens.verify(token, trust_list=trust, revoked=revoked, now=now).code


def unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def canonical(segment: str) -> bool:
    """An independent check that a base64url segment is the one spelling of its bytes."""
    return b64(unb64(segment)) == segment


def aliases(segment: str) -> list[str]:
    """The other spellings of `segment`: its last character changed in unused bits only."""
    return [
        segment[:-1] + c
        for c in B64URL
        if c != segment[-1] and unb64(segment[:-1] + c) == unb64(segment)
    ]


# --- Round trip -------------------------------------------------------------------------------


def test_signed_token_verifies_valid_with_its_claims():
    claims = claims_for()
    outcome = tokens.verify(signed(claims), trust_list=trust_list(), now=NOW)
    assert outcome.code == tokens.VALID
    assert outcome.ok
    assert outcome.claims == claims
    assert outcome.certificate_number == "HC202751ABCDEFGH"
    header = json.loads(base64.urlsafe_b64decode(signed().split(".")[0] + "=="))
    assert header == {"alg": "EdDSA", "kid": KID_A, "typ": "JWT"}


def test_pyjwt_decodes_our_token_and_we_verify_pyjwts():
    """A second, independent JWS implementation agrees: the token is standard JWS/EdDSA."""
    now = datetime.now(UTC).replace(microsecond=0)
    claims = claims_for(
        iat=int(now.timestamp()) - 60,
        nbf=int(now.timestamp()) - 60,
        exp=int((now + timedelta(days=30)).timestamp()),
    )
    token = signed(claims)
    decoded = jwt.decode(
        token,
        KEY_A.public_key(),
        algorithms=["EdDSA"],
        issuer=ISSUER_A,
        options={"require": list(tokens.REQUIRED_CLAIMS)},
    )
    assert decoded == claims
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": KID_A, "typ": "JWT"}
    # And the other way round: a token PyJWT signs with the authority's key verifies here.
    theirs = jwt.encode(claims, KEY_A, algorithm="EdDSA", headers={"kid": KID_A})
    assert tokens.verify(theirs, trust_list=trust_list()).code == tokens.VALID
    # PyJWT refuses the token under another key, as we do.
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, KEY_B.public_key(), algorithms=["EdDSA"])


def test_as_dict_shows_the_facts_in_shanghai_time_only_for_a_readable_token():
    data = tokens.verify(signed(), trust_list=trust_list(), now=NOW).as_dict()
    assert data["code"] == "valid" and data["valid"] is True
    assert data["certificate"]["number"] == "HC202751ABCDEFGH"
    assert data["certificate"]["issued_at"] == "2027-01-02T09:30:00+08:00"
    assert data["certificate"]["expires_at"] == "2027-02-01T00:00:00+08:00"
    assert data["certificate"]["result"] == "fit"
    forged = tokens.verify(signed(key=KEY_B), trust_list=trust_list(), now=NOW).as_dict()
    assert forged["code"] == "signature_invalid" and "certificate" not in forged


# --- Any changed byte is refused --------------------------------------------------------------

# Characters that are never part of a base64url segment: the separator, padding, standard
# base64's two, whitespace, NUL, non-ASCII (Latin, CJK, a zero-width space, an emoji).
NOT_B64URL = [".", "=", "+", "/", " ", "\n", "\x00", "é", "中", "\u200b", "😀"]


def flip_token() -> str:
    # Claims chosen so that no segment's length is a multiple of 4: the last character of
    # each segment then has unused bits, and the unused-bit test below is not vacuous.
    for name in ("张三", "Zhang San", "Zhang Sanfeng"):
        token = signed(claims_for(nam=name))
        if all(len(segment) % 4 for segment in token.split(".")):
            return token
    raise AssertionError("no test token with unused bits in every segment")


def segment_of(token: str, position: int) -> int:
    return token[:position].count(".")


@pytest.mark.parametrize("segment", [0, 1, 2], ids=["header", "payload", "signature"])
def test_changing_any_character_of_a_segment_is_refused(segment):
    """Every position of the segment, every other base64url character and every character
    that is not base64url. What each kind of change yields:

    - header: malformed (not canonical, not JSON, an unknown member or typ), algorithm not
      allowed (the "alg" value changed) or unknown key (the "kid" value changed);
    - payload and signature: signature invalid, or malformed when the new last character of
      the segment spells its bytes non-canonically;
    - any non-base64url character, anywhere: malformed.
    """
    token = flip_token()
    trust = trust_list()
    assert check(token, trust=trust) == tokens.VALID
    start = sum(len(s) + 1 for s in token.split(".")[:segment])
    end = start + len(token.split(".")[segment])
    header_outcomes = set()
    for position in range(start, end):
        for replacement in B64URL:
            if replacement == token[position]:
                continue
            changed = token[:position] + replacement + token[position + 1 :]
            outcome = check(changed, trust=trust)
            if segment == 0:
                header_outcomes.add(outcome)
                assert outcome in {
                    tokens.MALFORMED,
                    tokens.ALGORITHM_NOT_ALLOWED,
                    tokens.UNKNOWN_KEY,
                }, (position, replacement, outcome)
            else:
                new_segment = changed.split(".")[segment]
                expected = tokens.SIGNATURE_INVALID if canonical(new_segment) else tokens.MALFORMED
                assert outcome == expected, (position, replacement, outcome)
        for replacement in NOT_B64URL:
            changed = token[:position] + replacement + token[position + 1 :]
            assert check(changed, trust=trust) == tokens.MALFORMED, (position, replacement)
    if segment == 0:
        assert header_outcomes == {
            tokens.MALFORMED,
            tokens.ALGORITHM_NOT_ALLOWED,
            tokens.UNKNOWN_KEY,
        }


def test_inserting_or_deleting_a_character_is_refused():
    token = flip_token()
    trust = trust_list()
    for position in range(len(token) + 1):
        for extra in ("A", "."):
            inserted = token[:position] + extra + token[position:]
            assert check(inserted, trust=trust) != tokens.VALID, (position, extra)
    for position in range(len(token)):
        deleted = token[:position] + token[position + 1 :]
        assert check(deleted, trust=trust) != tokens.VALID, position


@pytest.mark.parametrize("segment", [0, 1, 2], ids=["header", "payload", "signature"])
def test_flipping_any_bit_of_the_decoded_bytes_is_refused(segment):
    """The same bytes re-encoded canonically: the signature must catch it."""
    token = flip_token()
    parts = token.split(".")
    data = base64.urlsafe_b64decode(parts[segment] + "==")
    trust = trust_list()
    for index in range(len(data)):
        for bit in (0x01, 0x80):
            changed_bytes = bytearray(data)
            changed_bytes[index] ^= bit
            changed = list(parts)
            changed[segment] = b64(bytes(changed_bytes))
            outcome = check(".".join(changed), trust=trust)
            if segment == 0:
                assert outcome in {
                    tokens.MALFORMED,
                    tokens.ALGORITHM_NOT_ALLOWED,
                    tokens.UNKNOWN_KEY,
                }, (index, bit, outcome)
            else:
                assert outcome == tokens.SIGNATURE_INVALID, (index, bit, outcome)


@pytest.mark.parametrize("segment", [0, 1, 2], ids=["header", "payload", "signature"])
def test_another_spelling_of_a_segments_last_character_is_refused(segment):
    """Changing only the unused low bits of a segment's last character decodes to the same
    bytes (a lenient decoder would accept the token); it must be refused as malformed."""
    token = flip_token()
    parts = token.split(".")
    spellings = aliases(parts[segment])
    unused_bits = {2: 4, 3: 2}[len(parts[segment]) % 4]
    assert len(spellings) == 2**unused_bits - 1
    for spelling in spellings:
        changed = list(parts)
        changed[segment] = spelling
        assert check(".".join(changed)) == tokens.MALFORMED, spelling


# --- Expiry boundaries, in Asia/Shanghai time -------------------------------------------------


def test_valid_until_is_the_whole_day_in_shanghai():
    claims = claims_for(valid_until=date(2027, 1, 31))
    assert claims["exp"] == int(datetime(2027, 2, 1, 0, 0, tzinfo=SHANGHAI).timestamp())
    token = signed(claims)
    assert check(token, now=datetime(2027, 1, 31, 23, 59, 59, tzinfo=SHANGHAI)) == tokens.VALID
    assert check(token, now=datetime(2027, 2, 1, 0, 0, 0, tzinfo=SHANGHAI)) == tokens.EXPIRED
    # The same instants written in UTC: still 31 January there, yet expired from 16:00 UTC.
    assert check(token, now=datetime(2027, 1, 31, 15, 59, 59, tzinfo=UTC)) == tokens.VALID
    assert check(token, now=datetime(2027, 1, 31, 16, 0, 0, tzinfo=UTC)) == tokens.EXPIRED


def test_not_yet_valid_until_the_second_of_issue():
    issued = datetime(2027, 1, 2, 9, 30, tzinfo=SHANGHAI)
    token = signed(claims_for(issued=issued))
    assert check(token, now=issued - timedelta(seconds=1)) == tokens.NOT_YET_VALID
    assert check(token, now=issued) == tokens.VALID


def test_verify_defaults_to_the_current_time_and_refuses_a_naive_one():
    now = timezone.now()
    current = claims_for(nbf=int(now.timestamp()) - 5, exp=int(now.timestamp()) + 3600)
    assert tokens.verify(signed(current), trust_list=trust_list()).code == tokens.VALID
    ended = claims_for(nbf=int(now.timestamp()) - 3600, exp=int(now.timestamp()) - 5)
    assert tokens.verify(signed(ended), trust_list=trust_list()).code == tokens.EXPIRED
    with pytest.raises(ValueError, match="aware"):
        tokens.verify(signed(), trust_list=trust_list(), now=datetime(2027, 1, 10, 12, 0))


# --- Revocation -------------------------------------------------------------------------------


def test_a_revoked_number_is_refused_whatever_the_time():
    token = signed()
    assert check(token, revoked={"HC202751ABCDEFGH"}) == tokens.REVOKED
    assert check(token, revoked=["HC202751OTHER000"]) == tokens.VALID
    after_expiry = datetime(2027, 3, 1, tzinfo=SHANGHAI)
    assert check(token, revoked={"HC202751ABCDEFGH"}, now=after_expiry) == tokens.REVOKED


def test_revoked_numbers_reads_a_published_revocation_list():
    published = {"revoked": ["HC202751ABCDEFGH", "HC202751ZZZZZZZZ", 42, None]}
    numbers = tokens.revoked_numbers(published)
    assert numbers == frozenset({"HC202751ABCDEFGH", "HC202751ZZZZZZZZ"})
    assert check(signed(), revoked=numbers) == tokens.REVOKED
    for broken in (None, [], {"revoked": "HC202751ABCDEFGH"}, {"numbers": ["HC202751ABCDEFGH"]}):
        assert tokens.revoked_numbers(broken) == frozenset()


def test_revoked_must_be_a_collection_not_one_number():
    """A string would match any certificate number it contains ("in" on str is a substring)."""
    with pytest.raises(TypeError):
        tokens.verify(signed(), trust_list=trust_list(), revoked="HC202751ABCDEFGH0", now=NOW)


# --- Key rotation and unknown keys ------------------------------------------------------------


def test_a_retired_key_verifies_what_it_signed_before_retirement():
    old, new = KEY_A, Ed25519PrivateKey.generate()
    retired_at = int(datetime(2027, 1, 5, 8, 0, tzinfo=SHANGHAI).timestamp())
    trust = trust_list(
        jwk(old, kid="old", iss=ISSUER_A, status="retired", retired_at=retired_at),
        jwk(new, kid="new", iss=ISSUER_A, status="active", retired_at=None),
    )

    def with_old(iat: int) -> str:
        return signed(claims_for(iat=iat, nbf=iat), key=old, kid="old")

    assert check(with_old(retired_at - 86400), trust=trust) == tokens.VALID
    assert check(with_old(retired_at), trust=trust) == tokens.VALID
    assert check(with_old(retired_at + 1), trust=trust) == tokens.KEY_RETIRED
    after_expiry = datetime(2027, 2, 1, tzinfo=SHANGHAI)
    assert check(with_old(retired_at - 86400), trust=trust, now=after_expiry) == tokens.EXPIRED
    assert check(signed(key=new, kid="new"), trust=trust) == tokens.VALID
    # The new key cannot stand in for the old one under the old key id.
    assert check(signed(key=new, kid="old"), trust=trust) == tokens.SIGNATURE_INVALID


def test_a_key_absent_from_the_trust_list_is_unknown():
    assert check(signed(kid="51-HA-1-unpublished")) == tokens.UNKNOWN_KEY
    no_kid = signed_raw({"alg": "EdDSA", "typ": "JWT"}, claims_for())
    assert check(no_kid) == tokens.UNKNOWN_KEY
    assert check(signed(), trust={"keys": []}) == tokens.UNKNOWN_KEY
    for broken_trust in ({"keys": "all"}, {"keys": [None, 3]}, {}):
        assert check(signed(), trust=broken_trust) == tokens.UNKNOWN_KEY
    # Signed by an unpublished key under a published key id: the signature gives it away.
    assert check(signed(key=Ed25519PrivateKey.generate())) == tokens.SIGNATURE_INVALID


def test_a_key_id_that_is_not_text_is_malformed():
    for kid in ([KID_A], {"id": KID_A}, 7):
        token = signed_raw({"alg": "EdDSA", "kid": kid, "typ": "JWT"}, claims_for())
        assert check(token) == tokens.MALFORMED, kid


def _ec_jwk(kid: str) -> dict:
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64(numbers.x.to_bytes(32, "big")),
        "y": b64(numbers.y.to_bytes(32, "big")),
        "kid": kid,
        "iss": ISSUER_A,
    }


def test_a_trust_list_key_of_another_kind_is_unknown():
    ed = jwk(KEY_A, kid=KID_A, iss=ISSUER_A)
    raw_x = KEY_A.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    others = [
        _ec_jwk(KID_A),
        {**ed, "crv": "X25519"},
        {**ed, "crv": "Ed448"},
        {**ed, "kty": "EC"},
        {"kty": "oct", "k": b64(raw_x), "kid": KID_A, "iss": ISSUER_A},
        {**ed, "alg": "ES256"},
        {**ed, "use": "enc"},
        {**ed, "x": b64(raw_x[:31])},
        {**ed, "x": aliases(ed["x"])[0]},  # the same bytes, spelt otherwise
        {**ed, "x": base64.urlsafe_b64encode(raw_x).decode()},  # padded
        {key: value for key, value in ed.items() if key != "x"},
    ]
    assert check(signed(), trust=trust_list(ed)) == tokens.VALID
    for other in others:
        assert check(signed(), trust=trust_list(other)) == tokens.UNKNOWN_KEY, other


# --- Issuer -----------------------------------------------------------------------------------


def test_a_key_of_another_authority_cannot_sign_for_this_one():
    """Authority B's genuine key signs a certificate claiming to be issued by A."""
    forged = signed(claims_for(iss=ISSUER_A), key=KEY_B, kid=KID_B)
    outcome = tokens.verify(forged, trust_list=trust_list(), now=NOW)
    assert outcome.code == tokens.UNKNOWN_ISSUER
    assert outcome.issuer_name == ""
    # B signing in its own name is fine.
    assert check(signed(claims_for(iss=ISSUER_B), key=KEY_B, kid=KID_B)) == tokens.VALID


def test_a_trust_list_key_without_an_issuer_verifies_nothing():
    bare = jwk(KEY_A, kid=KID_A, iss=ISSUER_A)
    del bare["iss"]
    assert check(signed(), trust=trust_list(bare)) == tokens.UNKNOWN_ISSUER
    assert check(signed(), trust=trust_list({**bare, "iss": 51})) == tokens.UNKNOWN_ISSUER


# --- Algorithms -------------------------------------------------------------------------------


def test_unsecured_tokens_are_refused():
    payload = b64(json.dumps(claims_for()).encode())
    for alg in ("none", "None", "NONE"):
        header = b64(json.dumps({"alg": alg, "kid": KID_A, "typ": "JWT"}).encode())
        assert check(f"{header}.{payload}.") == tokens.ALGORITHM_NOT_ALLOWED, alg
        assert check(f"{header}.{payload}.{b64(b'x' * 64)}") == tokens.ALGORITHM_NOT_ALLOWED
    pyjwt_none = jwt.encode(claims_for(), None, algorithm="none", headers={"kid": KID_A})
    assert check(pyjwt_none) == tokens.ALGORITHM_NOT_ALLOWED


NO_TIME_CHECKS = {"verify_exp": False, "verify_nbf": False, "verify_iat": False}


def test_hmac_with_the_public_key_as_secret_is_refused():
    """The classic confusion: a verifier that lets the token choose HS256 would check the
    HMAC against the published key bytes, which anyone can compute."""
    public_bytes = KEY_A.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    claims = claims_for()
    confused = jwt.encode(claims, public_bytes, algorithm="HS256", headers={"kid": KID_A})
    # A naive verifier accepts it ...
    assert (
        jwt.decode(confused, public_bytes, algorithms=["HS256"], options=NO_TIME_CHECKS) == claims
    )
    # ... ours does not, whether the header says HS256 or claims EdDSA.
    assert check(confused) == tokens.ALGORITHM_NOT_ALLOWED
    relabelled = confused.split(".")
    relabelled[0] = b64(json.dumps({"alg": "EdDSA", "kid": KID_A, "typ": "JWT"}).encode())
    assert check(".".join(relabelled)) == tokens.SIGNATURE_INVALID
    for alg in ("HS384", "HS512"):
        token = jwt.encode(claims, public_bytes * 2, algorithm=alg, headers={"kid": KID_A})
        assert check(token) == tokens.ALGORITHM_NOT_ALLOWED


def test_other_signature_algorithms_are_refused():
    es256 = jwt.encode(
        claims_for(),
        ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
        headers={"kid": KID_A},
    )
    assert check(es256) == tokens.ALGORITHM_NOT_ALLOWED
    for alg in ("eddsa", "Ed25519", "RS256", "", None, ["EdDSA"], {"alg": "EdDSA"}):
        token = signed_raw({"alg": alg, "kid": KID_A, "typ": "JWT"}, claims_for())
        assert check(token) == tokens.ALGORITHM_NOT_ALLOWED, alg
    assert check(signed_raw({"kid": KID_A, "typ": "JWT"}, claims_for())) == (
        tokens.ALGORITHM_NOT_ALLOWED
    )


# --- Malformed --------------------------------------------------------------------------------


def _without(name: str) -> dict:
    claims = claims_for()
    del claims[name]
    return claims


@pytest.mark.parametrize(
    "claims",
    [
        *(pytest.param(_without(name), id=f"no-{name}") for name in tokens.REQUIRED_CLAIMS),
        pytest.param(claims_for(iat="1798853400"), id="iat-text"),
        pytest.param(claims_for(nbf=True), id="nbf-bool"),
        pytest.param(claims_for(exp=1801584000.0), id="exp-float"),
        pytest.param(claims_for(exp=None), id="exp-null"),
        pytest.param(claims_for(exp=-1), id="exp-before-1970"),
        pytest.param(claims_for(exp=10**20), id="exp-after-9999"),
        pytest.param(claims_for(res="maybe"), id="res-unknown"),
        pytest.param(claims_for(res=["fit"]), id="res-list"),
        pytest.param(claims_for(nam=123), id="nam-number"),
        pytest.param(claims_for(jti=None), id="jti-null"),
        pytest.param(claims_for(iss=[ISSUER_A]), id="iss-list"),
        pytest.param(claims_for(nid={"masked": "5101"}), id="nid-object"),
    ],
)
def test_missing_or_ill_typed_claims_are_malformed(claims):
    outcome = tokens.verify(signed(claims), trust_list=trust_list(), now=NOW)
    assert outcome.code == tokens.MALFORMED
    assert "certificate" not in outcome.as_dict()


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[1, 2, 3]",
        b'"a string"',
        b"\xff\xfe{}",
        json.dumps(claims_for()).encode("utf-16"),
        json.dumps(claims_for()).replace("{", '{"res": "not_fit", ', 1).encode(),
        json.dumps(claims_for()).replace("{", '{"x": NaN, ', 1).encode(),
        b"[" * 2000,  # deeper than Python's recursion limit, and under MAX_TOKEN_LENGTH
    ],
    ids=["text", "array", "string", "not-utf8", "utf16", "repeated-member", "nan", "deep"],
)
def test_a_signed_payload_that_is_not_a_utf8_json_object_is_malformed(payload):
    token = signed_raw({"alg": "EdDSA", "kid": KID_A, "typ": "JWT"}, payload)
    assert len(token) <= tokens.MAX_TOKEN_LENGTH
    assert check(token) == tokens.MALFORMED


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "EdDSA", "kid": KID_A, "typ": "JWT", "crit": ["exp"]},
        {"alg": "EdDSA", "kid": KID_A, "typ": "JWT", "jku": "https://evil.example/jwks"},
        {"alg": "EdDSA", "kid": KID_A, "typ": "JWT", "x5u": "https://evil.example/cert"},
        {"alg": "EdDSA", "kid": KID_A, "typ": "JWT", "b64": False},
        {"alg": "EdDSA", "kid": KID_A, "typ": "JOSE+JSON"},
        f'{{"alg":"EdDSA","kid":"{KID_A}","kid":"{KID_B}"}}'.encode(),
        b'["EdDSA"]',
        b"[" * 2500,  # regression: RecursionError escaped verify()
        b'{"alg": "EdDSA", "kid": "\xff"}',
    ],
    ids=["crit", "jku", "x5u", "b64", "typ", "repeated-kid", "array", "deep", "not-utf8"],
)
def test_an_unexpected_header_is_malformed(header):
    assert len(signed_raw(header, claims_for())) <= tokens.MAX_TOKEN_LENGTH
    assert check(signed_raw(header, claims_for())) == tokens.MALFORMED


def test_a_header_without_typ_is_accepted():
    """typ is optional in JWS; the signature still covers the header as written."""
    assert check(signed_raw({"alg": "EdDSA", "kid": KID_A}, claims_for())) == tokens.VALID


@pytest.mark.parametrize(
    "token",
    ["", "   ", None, 123, b"a.b.c", "..", "a.b", "a.b.c.d", "not a token", "A.A.A"],
)
def test_things_that_are_not_tokens_are_malformed(token):
    assert check(token) == tokens.MALFORMED


def test_a_huge_token_is_malformed_even_when_genuinely_signed():
    huge = signed(claims_for(nam="张" * 2000))
    assert len(huge) > tokens.MAX_TOKEN_LENGTH
    assert check(huge) == tokens.MALFORMED
    assert check(signed() + "." + signed()) == tokens.MALFORMED
    assert check(signed() * 2) == tokens.MALFORMED


def test_surrounding_whitespace_from_a_scanner_is_ignored():
    assert check(f"  {signed()}\r\n") == tokens.VALID


def test_absurd_times_never_break_the_report():
    """Regression: exp beyond year 9999 made as_dict() raise OverflowError."""
    outcome = tokens.verify(signed(claims_for(exp=10**30)), trust_list=trust_list(), now=NOW)
    assert outcome.code == tokens.MALFORMED
    assert outcome.as_dict()["code"] == "malformed"


# --- Messages ---------------------------------------------------------------------------------

ENGLISH_START = {
    tokens.VALID: "Valid:",
    tokens.EXPIRED: "Expired:",
    tokens.NOT_YET_VALID: "Not yet valid:",
    tokens.REVOKED: "Revoked:",
    tokens.SIGNATURE_INVALID: "Signature invalid:",
    tokens.UNKNOWN_KEY: "Unknown key:",
    tokens.UNKNOWN_ISSUER: "Unknown issuer:",
    tokens.KEY_RETIRED: "Key retired:",
    tokens.ALGORITHM_NOT_ALLOWED: "Algorithm not allowed:",
    tokens.MALFORMED: "Malformed:",
}


def test_every_outcome_has_its_own_message():
    assert set(tokens.MESSAGES) == set(ENGLISH_START)
    with translation.override("en"):
        texts = [str(message) for message in tokens.MESSAGES.values()]
    assert len(set(texts)) == len(texts)


@pytest.mark.parametrize("code", sorted(ENGLISH_START))
def test_the_message_follows_the_active_language(code):
    outcome = tokens.Verification(code)
    with translation.override("en"):
        english = outcome.message
        assert english.startswith(ENGLISH_START[code])
        assert outcome.as_dict()["message"] == english
    # The same object, read under zh-hans, gives the zh-hans catalogue's text (lazy, not
    # frozen when the module or the outcome was made).
    with translation.override("zh-hans"):
        assert outcome.message == gettext(english)
        assert outcome.message == str(tokens.MESSAGES[code])


def test_every_message_is_chinese_under_zh_hans():
    for code in tokens.MESSAGES:
        with translation.override("en"):
            english = tokens.Verification(code).message
        with translation.override("zh-hans"):
            chinese = tokens.Verification(code).message
        assert chinese != english, code
        assert CJK.search(chinese), code


# --- The whole path through the services ------------------------------------------------------


@pytest.mark.django_db
def test_round_trip_through_services_and_the_published_trust_list(health_officer, sichuan_officer):
    from laborlink.models import Organization, User
    from tests.factories import OrganizationFactory, UserFactory, make_applicant, province

    applicant = make_applicant(sichuan_officer, name="李四")
    today = timezone.localdate()
    certificate = services.certificate_issue(
        actor=health_officer,
        applicant=applicant,
        examined_on=today,
        result="fit",
        valid_until=today + timedelta(days=30),
    )
    token = services.certificate_token(certificate)
    published = json.loads(json.dumps(selectors.trust_list()))  # as a verifier downloads it
    outcome = tokens.verify(token, trust_list=published)
    assert outcome.code == tokens.VALID
    assert outcome.claims["jti"] == certificate.number
    assert outcome.claims["iss"] == services.issuer_id(health_officer.organization)
    assert outcome.claims["nam"] == "李四"
    assert outcome.claims["nid"] == applicant.national_id_masked
    assert outcome.claims["exp"] == int(services._end_of(certificate.valid_until).timestamp())
    assert outcome.issuer_name == health_officer.organization.name
    expiry = services._end_of(certificate.valid_until)
    assert tokens.verify(token, trust_list=published, now=expiry).code == tokens.EXPIRED
    assert (
        tokens.verify(token, trust_list=published, now=expiry - timedelta(seconds=1)).code
        == tokens.VALID
    )

    # Rotation: the old key is retired but still published; both certificates verify.
    services.issuing_key_rotate(actor=health_officer)
    second = services.certificate_issue(
        actor=health_officer,
        applicant=applicant,
        examined_on=today,
        result="fit",
        valid_until=today + timedelta(days=60),
    )
    published = selectors.trust_list()
    assert {key["status"] for key in published["keys"]} == {"active", "retired"}
    assert tokens.verify(token, trust_list=published).code == tokens.VALID
    assert tokens.verify(services.certificate_token(second), trust_list=published).ok

    # Guizhou's genuine key signs a certificate in Sichuan's name.
    guizhou = OrganizationFactory(
        kind=Organization.Kind.HEALTH_AUTHORITY, province=province("52"), name="贵州省卫健委"
    )
    guizhou_officer = UserFactory(role=User.Role.HEALTH_OFFICER, organization=guizhou)
    guizhou_key = services.issuing_key_rotate(actor=guizhou_officer)
    forged = tokens.sign(
        outcome.claims, private_key=services._private_key(guizhou_key), kid=guizhou_key.kid
    )
    assert tokens.verify(forged, trust_list=selectors.trust_list()).code == tokens.UNKNOWN_ISSUER

    # Revocation: refused from that moment, through the published list.
    services.certificate_revoke(actor=health_officer, certificate=certificate, reason="复检不合格")
    revoked = tokens.revoked_numbers({"revoked": selectors.revoked_certificate_numbers()})
    outcome = tokens.verify(token, trust_list=selectors.trust_list(), revoked=revoked)
    assert outcome.code == tokens.REVOKED
    assert services.certificate_verify(actor=None, token=token, channel="api").code == "revoked"
