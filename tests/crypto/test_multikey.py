"""Tests for badgekiln.crypto.multikey."""

from __future__ import annotations

import base58
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from badgekiln.crypto import multikey
from badgekiln.crypto.jws import b64url_encode
from badgekiln.errors import VerifyError


def _raw(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def test_vector_public_key_multibase(vector, vector_key):
    public_key = vector_key.public_key()
    assert _raw(public_key).hex() == vector["publicKeyHex"]
    assert multikey.ed25519_to_multibase(public_key) == vector["publicKeyMultibase"]
    decoded = multikey.ed25519_from_multibase(vector["publicKeyMultibase"])
    assert _raw(decoded).hex() == vector["publicKeyHex"]


def test_round_trip_and_did_key():
    public_key = Ed25519PrivateKey.generate().public_key()
    text = multikey.ed25519_to_multibase(public_key)
    assert text.startswith("z6Mk")
    assert _raw(multikey.ed25519_from_multibase(text)) == _raw(public_key)
    assert multikey.did_key(public_key) == f"did:key:{text}"
    assert multikey.did_key_verification_method(public_key) == f"did:key:{text}#{text}"
    for did in (multikey.did_key(public_key), multikey.did_key_verification_method(public_key)):
        assert _raw(multikey.ed25519_from_did_key(did)) == _raw(public_key)


X25519_KEY = "z" + base58.b58encode(b"\xec\x01" + bytes(32)).decode()
SHORT_KEY = "z" + base58.b58encode(b"\xed\x01" + bytes(31)).decode()


@pytest.mark.parametrize(
    "text",
    [
        "6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",  # no multibase prefix
        "uZm9v",  # base64url multibase, not base58btc
        "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hw0",  # '0' is not base58
        "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi ",  # trailing space (base58 strips it)
        "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwié",
        X25519_KEY,
        SHORT_KEY,
        "",
    ],
    ids=["no-prefix", "base64url", "bad-char", "trailing-space", "non-ascii", "x25519", "short", "empty"],
)
def test_invalid_multibase_rejected(text):
    with pytest.raises(VerifyError):
        multikey.ed25519_from_multibase(text)


@pytest.mark.parametrize(
    "method",
    [
        "did:web:example.org#key-0",
        "https://example.org/issuer.json#key-0",
        "did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi#key-0",
    ],
)
def test_did_key_resolver_rejects_others(method):
    with pytest.raises(VerifyError):
        multikey.ed25519_from_did_key(method)


def test_rsa_jwk_round_trip(rsa_key):
    jwk = multikey.rsa_public_jwk(rsa_key.public_key(), "https://example.org/keys/1")
    assert set(jwk) == {"kty", "n", "e", "alg", "use", "kid"}
    assert jwk["kty"] == "RSA" and jwk["alg"] == "RS256" and jwk["use"] == "sig" and jwk["e"] == "AQAB"
    assert multikey.rsa_from_jwk(jwk).public_numbers() == rsa_key.public_key().public_numbers()


def test_rsa_jwk_refuses_private_key(rsa_key):
    with pytest.raises(TypeError):
        multikey.rsa_public_jwk(rsa_key, "k")


def _jwk_with(rsa_key, **changes):
    jwk = multikey.rsa_public_jwk(rsa_key.public_key(), "k")
    jwk.update(changes)
    return {k: v for k, v in jwk.items() if v is not None}


@pytest.mark.parametrize(
    "changes",
    [
        {"kty": "EC"},
        {"d": "AQAB"},
        {"alg": "RS512"},
        {"use": "enc"},
        {"n": None},
        {"e": "AQAB="},
        {"n": b64url_encode((2**1023 + 1).to_bytes(128, "big"))},
    ],
    ids=["kty", "private-member", "alg", "use", "missing-n", "padded-e", "1024-bit"],
)
def test_rsa_from_jwk_rejects(rsa_key, changes):
    with pytest.raises(VerifyError):
        multikey.rsa_from_jwk(_jwk_with(rsa_key, **changes))


def test_rsa_jwk_is_read_by_joserfc(rsa_key):
    joserfc_jwk = pytest.importorskip("joserfc.jwk")
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    theirs = joserfc_jwk.RSAKey.import_key(public_pem).as_dict()
    ours = multikey.rsa_public_jwk(rsa_key.public_key(), "k")
    assert (ours["n"], ours["e"]) == (theirs["n"], theirs["e"])
    assert not joserfc_jwk.RSAKey.import_key(ours).is_private


def test_small_rsa_key_not_accepted_from_jwk():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(VerifyError, match="2048"):
        multikey.rsa_from_jwk(multikey.rsa_public_jwk(small.public_key(), "k"))
