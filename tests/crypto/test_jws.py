"""Tests for badgekiln.crypto.jws (RS256 JWS compact serialization)."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from badgekiln.crypto import jws
from badgekiln.crypto.jws import b64url_decode, b64url_encode
from badgekiln.errors import SigningError, VerifyError

PAYLOAD = json.dumps({"id": "urn:uuid:1", "type": "Assertion", "name": "Zoë"}, ensure_ascii=False).encode()
HEADER = {"alg": "RS256", "kid": "https://example.org/keys/1"}


def _segment(obj) -> str:
    return b64url_encode(json.dumps(obj, separators=(",", ":")).encode())


def _rs256_token(private_key, header: dict, payload: bytes = PAYLOAD) -> str:
    """A token signed without sign_compact's checks (to feed verify_compact odd headers)."""
    signing_input = f"{_segment(header)}.{b64url_encode(payload)}"
    signature = private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url_encode(signature)}"


NOT_JSON = b64url_encode(b"not json")
JSON_ARRAY = b64url_encode(b"[1,2]")
NOT_UTF8 = b64url_encode(b"\xff")
DUPLICATE_ALG = b64url_encode(b'{"alg":"RS256","alg":"none"}')


@pytest.mark.parametrize("data", [b"", b"f", b"fo", b"foo", b"\xff\xfe\xfd", bytes(range(256))])
def test_b64url_round_trip(data):
    text = b64url_encode(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert b64url_decode(text) == data


@pytest.mark.parametrize(
    "text",
    ["Zm8=", "Zm+v", "Zm/v", "Zm 9v", "Zm9v\n", "Zm9vY", "QR", "Zm9é", b"Zm9v"],
    ids=["padding", "plus", "slash", "space", "newline", "bad-length", "non-canonical", "non-ascii", "bytes"],
)
def test_b64url_decode_is_strict(text):
    with pytest.raises(VerifyError):
        b64url_decode(text)


def test_round_trip_and_determinism(rsa_key):
    token = jws.sign_compact(HEADER, PAYLOAD, rsa_key)
    assert token == jws.sign_compact(dict(reversed(list(HEADER.items()))), PAYLOAD, rsa_key)
    header_b64 = token.split(".")[0]
    assert b64url_decode(header_b64) == b'{"alg":"RS256","kid":"https://example.org/keys/1"}'
    assert jws.verify_compact(token, rsa_key.public_key()) == (HEADER, PAYLOAD)
    header, payload, signing_input, signature = jws.parse_compact(token)
    assert (header, payload) == (HEADER, PAYLOAD)
    assert signing_input == token.rsplit(".", 1)[0].encode()
    assert len(signature) == 256


def _tamper(token: str, part: int) -> str:
    parts = token.split(".")
    if part == 0:
        parts[0] = _segment({"alg": "RS256", "kid": "https://evil.example/key"})
    elif part == 1:
        parts[1] = b64url_encode(PAYLOAD.replace(b"urn:uuid:1", b"urn:uuid:2"))
    else:
        sig = bytearray(b64url_decode(parts[2]))
        sig[-1] ^= 1
        parts[2] = b64url_encode(bytes(sig))
    return ".".join(parts)


@pytest.mark.parametrize("part", [0, 1, 2], ids=["header", "payload", "signature"])
def test_tampered_token_fails(rsa_key, part):
    token = jws.sign_compact(HEADER, PAYLOAD, rsa_key)
    with pytest.raises(VerifyError, match="does not verify"):
        jws.verify_compact(_tamper(token, part), rsa_key.public_key())


def test_wrong_key_fails(rsa_key, other_rsa_key):
    token = jws.sign_compact(HEADER, PAYLOAD, rsa_key)
    with pytest.raises(VerifyError, match="does not verify"):
        jws.verify_compact(token, other_rsa_key.public_key())


def test_alg_none_rejected(rsa_key):
    token = f"{_segment({'alg': 'none'})}.{b64url_encode(PAYLOAD)}."
    assert jws.parse_compact(token)[3] == b""
    with pytest.raises(VerifyError, match="'none' is not accepted"):
        jws.verify_compact(token, rsa_key.public_key())


def test_hs256_with_public_key_as_secret_rejected(rsa_key):
    # The classic algorithm-confusion attack: HMAC keyed with the (public) PEM.
    pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{_segment({'alg': 'HS256'})}.{b64url_encode(PAYLOAD)}"
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(VerifyError, match="only RS256"):
        jws.verify_compact(f"{signing_input}.{b64url_encode(mac)}", rsa_key.public_key())


def test_crit_rejected(rsa_key):
    with pytest.raises(SigningError):
        jws.sign_compact({"alg": "RS256", "crit": ["b64"], "b64": False}, PAYLOAD, rsa_key)
    token = _rs256_token(rsa_key, {"alg": "RS256", "crit": ["exp"], "exp": 1})
    with pytest.raises(VerifyError, match="critical"):
        jws.verify_compact(token, rsa_key.public_key())


@pytest.mark.parametrize("header", [{"alg": "none"}, {"alg": "HS256"}, {"alg": "PS256"}, {}])
def test_sign_refuses_other_algorithms(rsa_key, header):
    with pytest.raises(SigningError):
        jws.sign_compact(header, PAYLOAD, rsa_key)


def test_small_rsa_key_refused():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(SigningError, match="2048"):
        jws.sign_compact({"alg": "RS256"}, PAYLOAD, small)
    with pytest.raises(VerifyError, match="2048"):
        jws.verify_compact(_rs256_token(small, {"alg": "RS256"}), small.public_key())


@pytest.mark.parametrize(
    "token",
    [
        "abc.def",
        "a.b.c.d",
        "e30.e30.e30.",
        "eyJ@.e30.e30",
        f"{NOT_JSON}.e30.e30",
        f"{JSON_ARRAY}.e30.e30",
        f"{NOT_UTF8}.e30.e30",
        f"{DUPLICATE_ALG}.e30.e30",
        f" {_segment({'alg': 'RS256'})}.e30.e30",
    ],
    ids=[
        "two-parts",
        "four-parts",
        "trailing-dot",
        "bad-base64",
        "not-json",
        "json-array",
        "not-utf8",
        "duplicate-alg",
        "whitespace",
    ],
)
def test_parse_rejects_malformed(token):
    with pytest.raises(VerifyError, match="JWS"):
        jws.parse_compact(token)


# Interoperability with an independent implementation (joserfc).


def test_joserfc_verifies_our_token(rsa_key):
    joserfc_jws = pytest.importorskip("joserfc.jws")
    from joserfc.jwk import RSAKey

    token = jws.sign_compact(HEADER, PAYLOAD, rsa_key)
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    result = joserfc_jws.deserialize_compact(token, RSAKey.import_key(public_pem), algorithms=["RS256"])
    assert result.payload == PAYLOAD
    assert result.headers() == HEADER


def test_we_verify_joserfc_token(rsa_key):
    joserfc_jws = pytest.importorskip("joserfc.jws")
    from joserfc.jwk import RSAKey

    private_pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    theirs = joserfc_jws.serialize_compact(HEADER, PAYLOAD, RSAKey.import_key(private_pem), algorithms=["RS256"])
    assert jws.verify_compact(theirs, rsa_key.public_key()) == (HEADER, PAYLOAD)
    # RS256 is deterministic and both serialize this (sorted) header compactly: same bytes.
    assert theirs == jws.sign_compact(HEADER, PAYLOAD, rsa_key)


def test_damaged_private_key_never_publishes_a_bad_signature(rsa_key):
    """Keys are loaded without OpenSSL's consistency check, so signing checks its own result."""
    numbers = rsa_key.private_numbers()
    damaged = rsa.RSAPrivateNumbers(
        p=numbers.p,
        q=numbers.q,
        d=numbers.d + 2,
        dmp1=numbers.dmp1 + 2,
        dmq1=numbers.dmq1,
        iqmp=numbers.iqmp,
        public_numbers=numbers.public_numbers,
    )
    key = damaged.private_key(unsafe_skip_rsa_key_validation=True)
    with pytest.raises(SigningError, match="damaged"):
        jws.sign_compact({"alg": "RS256"}, b"{}", key)


def test_each_key_is_checked_once(rsa_key):
    """The first signature of each key object is verified (a damaged key signs everything
    wrongly); the key is then remembered, and later signatures are not verified again."""
    fresh = rsa.RSAPrivateNumbers(
        **{name: getattr(rsa_key.private_numbers(), name) for name in ("p", "q", "d", "dmp1", "dmq1", "iqmp")},
        public_numbers=rsa_key.public_key().public_numbers(),
    ).private_key(unsafe_skip_rsa_key_validation=True)
    assert id(fresh) not in jws._CHECKED
    token = jws.sign_compact({"alg": "RS256"}, b"{}", fresh)
    assert jws._CHECKED.get(id(fresh)) is fresh
    assert jws.verify_compact(token, fresh.public_key()) == ({"alg": "RS256"}, b"{}")
