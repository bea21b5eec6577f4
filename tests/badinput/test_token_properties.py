"""Property tests (hypothesis) of the health-certificate token verifier (health.tokens): a
genuine token verifies; arbitrary text, changed tokens and tokens carrying odd claims or a
junk trust list never verify by accident and never raise.

Derandomised, with bounded example counts: the same examples on every run."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from health import tokens

# A fixed key: the examples, and so the tokens, are the same on every run.
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
KID = "51-HA-1-20270102-a1b2c3"
ISSUER = "51-HA-1"
TRUST = {"keys": [{**tokens.public_jwk(KEY.public_key(), kid=KID), "iss": ISSUER}]}
NOW = datetime(2027, 1, 10, 4, 0, tzinfo=UTC)
START, END = int(NOW.timestamp()) - 86400 * 30, int(NOW.timestamp()) + 86400 * 30

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def valid_claims(draw) -> dict:
    issued = draw(st.integers(START, int(NOW.timestamp())))
    return {
        "jti": draw(st.text(min_size=1, max_size=24)),
        "iss": ISSUER,
        "nid": draw(st.text(max_size=18)),
        "nam": draw(st.text(max_size=20)),
        "res": draw(st.sampled_from(tokens.RESULTS)),
        "iat": issued,
        "nbf": issued,
        "exp": draw(st.integers(int(NOW.timestamp()) + 1, END)),
    }


def verify(token, *, trust=TRUST, revoked=()) -> tokens.Verification:
    outcome = tokens.verify(token, trust_list=trust, revoked=revoked, now=NOW)
    assert outcome.code in tokens.OUTCOME_CHOICES
    assert outcome.message
    outcome.as_dict()  # what the API and the pages show: must render for every outcome
    return outcome


@PROPERTY
@given(valid_claims())
def test_genuine_tokens_verify_with_their_claims(claims):
    outcome = verify(tokens.sign(claims, private_key=KEY, kid=KID))
    assert outcome.code == tokens.VALID
    assert outcome.claims == claims
    assert verify(tokens.sign(claims, private_key=KEY, kid=KID), revoked={claims["jti"]}).code == (
        tokens.REVOKED
    )


@PROPERTY
@given(
    st.one_of(
        st.text(), st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    )
)
def test_arbitrary_text_never_verifies_and_never_raises(text):
    assert verify(text).code != tokens.VALID


@st.composite
def changed_tokens(draw) -> tuple[str, str]:
    token = tokens.sign(draw(valid_claims()), private_key=KEY, kid=KID)
    position = draw(st.integers(0, len(token) - 1))
    how = draw(st.sampled_from(["replace", "insert", "delete", "truncate", "swap"]))
    if how == "replace":
        changed = token[:position] + draw(st.characters()) + token[position + 1 :]
    elif how == "insert":
        changed = token[:position] + draw(st.characters()) + token[position:]
    elif how == "delete":
        changed = token[:position] + token[position + 1 :]
    elif how == "truncate":
        changed = token[:position]
    else:
        other = draw(st.integers(0, len(token) - 1))
        chars = list(token)
        chars[position], chars[other] = chars[other], chars[position]
        changed = "".join(chars)
    return token, changed


@PROPERTY
@given(changed_tokens())
def test_a_changed_token_never_verifies_and_never_raises(pair):
    token, changed = pair
    # Surrounding whitespace is trimmed (a token pasted with a line break is the same token).
    assume(changed.strip() != token)
    assert verify(changed).code != tokens.VALID


@PROPERTY
@given(st.dictionaries(st.text(max_size=6), json_values, max_size=10), st.data())
def test_tokens_signed_over_odd_claims_never_raise(claims, data):
    """Signed by a trusted key, yet claims of any shape: valid only when complete."""
    if data.draw(st.booleans()):
        claims = {**data.draw(valid_claims()), **claims}
    outcome = verify(tokens.sign(claims, private_key=KEY, kid=KID))
    if outcome.code == tokens.VALID:
        assert set(tokens.REQUIRED_CLAIMS) <= set(claims)


@PROPERTY
@given(valid_claims(), json_values)
def test_a_junk_trust_list_never_verifies_and_never_raises(claims, junk):
    token = tokens.sign(claims, private_key=KEY, kid=KID)
    assert verify(token, trust=junk).code != tokens.VALID
    assert verify(token, trust={"keys": [junk]}).code != tokens.VALID


@PROPERTY
@given(valid_claims())
def test_another_keys_signature_never_verifies(claims):
    assert verify(tokens.sign(claims, private_key=OTHER_KEY, kid=KID)).code == (
        tokens.SIGNATURE_INVALID
    )
