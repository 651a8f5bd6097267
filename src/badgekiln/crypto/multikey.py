"""Public key encodings: Ed25519 Multikey / ``did:key``, and RSA public JWKs.

An Ed25519 Multikey is ``"z" + base58btc(0xed 0x01 || raw 32-byte key)``: ``z`` is the
multibase prefix of base58btc and ``0xed 0x01`` the multicodec varint of ``ed25519-pub``,
which is why every such key starts with ``z6Mk``.
"""

from __future__ import annotations

from typing import Any

import base58
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey, RSAPublicNumbers

from badgekiln.crypto.jws import ALGORITHM, MIN_RSA_BITS, b64url_decode, b64url_encode
from badgekiln.errors import VerifyError

MULTIBASE_BASE58BTC = "z"
ED25519_PUB_MULTICODEC = b"\xed\x01"
DID_KEY_PREFIX = "did:key:"

# JWK members that only a private key has (RFC 7518 section 6.3.2); never published or accepted.
_RSA_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth"})


def multibase_encode(data: bytes) -> str:
    """Encode bytes as base58btc multibase (``"z" + base58btc(data)``).

    Args:
        data: The bytes to encode.

    Returns:
        The multibase text.
    """
    return MULTIBASE_BASE58BTC + base58.b58encode(data).decode("ascii")


def multibase_decode(text: str) -> bytes:
    """Decode base58btc multibase text strictly.

    The ``base58`` package quietly strips trailing whitespace; here any text that is not the
    exact encoding of its bytes is refused, so one value has exactly one spelling.

    Args:
        text: ``"z"`` followed by base58btc characters.

    Returns:
        The decoded bytes.

    Raises:
        VerifyError: Not base58btc multibase, or not in canonical form.
    """
    if not isinstance(text, str) or not text.startswith(MULTIBASE_BASE58BTC):
        raise VerifyError(f"expected base58btc multibase text starting with 'z': {text!r}")
    try:
        data = base58.b58decode(text[1:].encode("ascii"))
    except ValueError as e:  # UnicodeEncodeError is a ValueError too
        raise VerifyError(f"{text!r} is not valid base58btc") from e
    if multibase_encode(data) != text:
        raise VerifyError(f"{text!r} is not canonical base58btc")
    return data


def ed25519_to_multibase(public_key: Ed25519PublicKey) -> str:
    """Encode an Ed25519 public key as a Multikey ``publicKeyMultibase`` value.

    Args:
        public_key: The Ed25519 public key.

    Returns:
        The ``z6Mk…`` string.
    """
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return multibase_encode(ED25519_PUB_MULTICODEC + raw)


def ed25519_from_multibase(text: str) -> Ed25519PublicKey:
    """Decode a Multikey ``publicKeyMultibase`` value into an Ed25519 public key.

    Args:
        text: The ``z6Mk…`` string.

    Returns:
        The Ed25519 public key.

    Raises:
        VerifyError: The text is not base58btc multibase, not an ``ed25519-pub`` multicodec, or
            not 32 key bytes.
    """
    try:
        data = multibase_decode(text)
    except VerifyError as e:
        raise VerifyError(f"invalid Multikey: {e}") from e
    if not data.startswith(ED25519_PUB_MULTICODEC):
        raise VerifyError(f"Multikey {text!r} is not an Ed25519 public key (multicodec 0xed01)")
    raw = data[len(ED25519_PUB_MULTICODEC) :]
    if len(raw) != 32:
        raise VerifyError(f"Multikey {text!r} holds {len(raw)} key bytes; Ed25519 keys have 32")
    return Ed25519PublicKey.from_public_bytes(raw)


def did_key(public_key: Ed25519PublicKey) -> str:
    """The ``did:key`` identifier of an Ed25519 public key.

    Args:
        public_key: The Ed25519 public key.

    Returns:
        ``"did:key:z6Mk…"``.
    """
    return DID_KEY_PREFIX + ed25519_to_multibase(public_key)


def did_key_verification_method(public_key: Ed25519PublicKey) -> str:
    """The verification method id of an Ed25519 ``did:key``.

    Args:
        public_key: The Ed25519 public key.

    Returns:
        ``"did:key:z6Mk…#z6Mk…"`` (the fragment repeats the key, as did:key defines).
    """
    multibase = ed25519_to_multibase(public_key)
    return f"{DID_KEY_PREFIX}{multibase}#{multibase}"


def ed25519_from_did_key(verification_method: str) -> Ed25519PublicKey:
    """Resolve a ``did:key`` (or its ``#z6Mk…`` verification method) offline.

    Suitable as the ``resolve_method`` of :func:`badgekiln.crypto.dataintegrity.verify_proof`
    for ``did:key`` issuers.

    Args:
        verification_method: ``"did:key:z6Mk…"`` or ``"did:key:z6Mk…#z6Mk…"``.

    Returns:
        The Ed25519 public key the identifier embeds.

    Raises:
        VerifyError: Not a ``did:key``, the fragment differs from the key, or the key is invalid.
    """
    if not isinstance(verification_method, str) or not verification_method.startswith("did:key:"):
        raise VerifyError(f"not a did:key identifier: {verification_method!r}")
    multibase, _, fragment = verification_method[len(DID_KEY_PREFIX) :].partition("#")
    if fragment and fragment != multibase:
        raise VerifyError(f"did:key fragment must repeat the key: {verification_method!r}")
    return ed25519_from_multibase(multibase)


def _int_to_b64url(value: int) -> str:
    # JWK integers are unsigned big-endian in the fewest octets (RFC 7518 section 6.3.1).
    return b64url_encode(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def rsa_public_jwk(public_key: RSAPublicKey, kid: str) -> dict[str, str]:
    """Export an RSA public key as a JWK for RS256 signatures.

    Args:
        public_key: The RSA public key. A private key is refused, so private members can never
            leak into a published document.
        kid: The key id to publish (for VC-JWT, the URL or DID URL the ``kid`` header names).

    Returns:
        ``{"kty", "n", "e", "alg", "use", "kid"}``.

    Raises:
        TypeError: ``public_key`` is not an RSA public key.
    """
    if not isinstance(public_key, RSAPublicKey):
        raise TypeError(f"rsa_public_jwk needs an RSAPublicKey, got {type(public_key).__name__}")
    numbers = public_key.public_numbers()
    return {
        "kty": "RSA",
        "n": _int_to_b64url(numbers.n),
        "e": _int_to_b64url(numbers.e),
        "alg": ALGORITHM,
        "use": "sig",
        "kid": kid,
    }


def rsa_from_jwk(jwk: dict[str, Any]) -> RSAPublicKey:
    """Import an RSA public key from a JWK, refusing anything unfit for RS256 verification.

    Args:
        jwk: A JSON Web Key object.

    Returns:
        The RSA public key.

    Raises:
        VerifyError: Not an RSA JWK, carries private members, names another ``alg`` or ``use``,
            has malformed ``n``/``e``, or is shorter than 2048 bits.
    """
    if not isinstance(jwk, dict) or jwk.get("kty") != "RSA":
        raise VerifyError("JWK is not an RSA key (kty must be 'RSA')")
    if private := sorted(_RSA_PRIVATE_MEMBERS & jwk.keys()):
        raise VerifyError(f"JWK contains private key members {private}; only public keys will do")
    if jwk.get("alg", ALGORITHM) != ALGORITHM:
        raise VerifyError(f"JWK alg is {jwk['alg']!r}; only {ALGORITHM} is accepted")
    if jwk.get("use", "sig") != "sig":
        raise VerifyError(f"JWK use is {jwk['use']!r}, not 'sig'")
    if not isinstance(jwk.get("n"), str) or not isinstance(jwk.get("e"), str):
        raise VerifyError("RSA JWK needs string members 'n' and 'e'")
    n = int.from_bytes(b64url_decode(jwk["n"]), "big")
    e = int.from_bytes(b64url_decode(jwk["e"]), "big")
    if n.bit_length() < MIN_RSA_BITS:
        raise VerifyError(f"RSA JWK has {n.bit_length()} bits; {MIN_RSA_BITS} are required")
    try:
        return RSAPublicNumbers(e, n).public_key()
    except ValueError as exc:
        raise VerifyError(f"RSA JWK is not a valid public key: {exc}") from exc
