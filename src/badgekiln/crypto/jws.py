"""JWS compact serialization (RFC 7515) with RS256 only.

RS256 is RSASSA-PKCS1-v1_5 with SHA-256: deterministic, so a signed token is byte-stable for a
given key, header and payload (golden tests rely on that), and it is the one algorithm the
Open Badges 2.0 validator and the OB 3.0 VC-JWT conformance suite both accept. Every other
``alg`` -- ``none`` above all -- is refused, whatever the token claims.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from badgekiln.errors import SigningError, VerifyError

ALGORITHM = "RS256"
MIN_RSA_BITS = 2048

_B64URL_CHARS = re.compile(r"[A-Za-z0-9_-]*")

# RSA keys whose signatures were checked against their public keys, by id (the keys are kept, so
# that an id is never reused while it is here). A process checks each key once: see sign_compact.
_CHECKED: dict[int, RSAPrivateKey] = {}


def b64url_encode(data: bytes) -> str:
    """Encode bytes as unpadded base64url (RFC 7515 section 2).

    Args:
        data: The bytes to encode.

    Returns:
        The base64url text without ``=`` padding.
    """
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url strictly.

    Padding, whitespace, characters outside ``A-Z a-z 0-9 - _``, impossible lengths and
    non-canonical encodings (unused trailing bits set) are all rejected, so that exactly one
    text decodes to a given byte string and a token cannot be altered without changing bytes.

    Args:
        text: The base64url text.

    Returns:
        The decoded bytes.

    Raises:
        VerifyError: ``text`` is not canonical unpadded base64url.
    """
    if not isinstance(text, str) or not _B64URL_CHARS.fullmatch(text):
        raise VerifyError("invalid base64url: only A-Z a-z 0-9 - _ are allowed, without padding")
    if len(text) % 4 == 1:
        raise VerifyError(f"invalid base64url: impossible length {len(text)}")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as e:  # pragma: no cover - excluded by the checks above
        raise VerifyError(f"invalid base64url: {e}") from e
    if b64url_encode(data) != text:
        raise VerifyError("invalid base64url: non-canonical encoding (unused bits are set)")
    return data


def _serialize_header(header: dict[str, Any]) -> bytes:
    # One deterministic form: sorted keys, no whitespace, UTF-8.
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def sign_compact(header: dict[str, Any], payload: bytes, private_key: RSAPrivateKey) -> str:
    """Sign ``payload`` and return the JWS compact serialization.

    Args:
        header: The protected JOSE header; ``alg`` must be ``"RS256"``. It is serialized with
            sorted keys and no whitespace, so equal headers give equal tokens.
        payload: The payload bytes (for badges: UTF-8 JSON).
        private_key: An RSA private key of at least 2048 bits.

    Returns:
        ``b64url(header).b64url(payload).b64url(signature)``.

    Raises:
        SigningError: The header asks for another algorithm, has ``crit``, or the key is not an
            RSA key of at least 2048 bits.
    """
    if header.get("alg") != ALGORITHM:
        raise SigningError(f"JWS header alg must be {ALGORITHM!r}, got {header.get('alg')!r}")
    if "crit" in header:
        raise SigningError("JWS header parameter 'crit' is not supported")
    if not isinstance(private_key, RSAPrivateKey):
        raise SigningError(f"RS256 needs an RSA private key, got {type(private_key).__name__}")
    if private_key.key_size < MIN_RSA_BITS:
        raise SigningError(f"RSA key has {private_key.key_size} bits; {MIN_RSA_BITS} are required")
    header_b64 = b64url_encode(_serialize_header(header))
    signing_input = f"{header_b64}.{b64url_encode(payload)}".encode("ascii")
    signature = private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    if id(private_key) not in _CHECKED:
        _check_first_signature(private_key, signature, signing_input)
    return f"{signing_input.decode('ascii')}.{b64url_encode(signature)}"


def _check_first_signature(private_key: RSAPrivateKey, signature: bytes, signed: bytes) -> None:
    """Refuse a damaged RSA key: check its first signature against its public key.

    Keys are loaded without OpenSSL's slow consistency check (:mod:`badgekiln.signing.keys`), so a
    key whose private values do not belong together would sign wrongly, and a wrong CRT signature
    published next to a right one gives away the key's factors. A damaged key signs every message
    wrongly, so checking the first signature of each key (once per process, about 0.1 ms) keeps
    every bad signature out; checking every one cost 0.1 ms per signature.
    """
    try:
        private_key.public_key().verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise SigningError(
            "the RSA private key is damaged: its signature does not verify with its public key"
        ) from None
    _CHECKED[id(private_key)] = private_key


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # RFC 7515 section 4: parsers must reject duplicate header names (or keep the last).
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise VerifyError(f"JWS header has duplicate parameter {key!r}")
        result[key] = value
    return result


def parse_compact(token: str) -> tuple[dict[str, Any], bytes, bytes, bytes]:
    """Split and decode a JWS compact serialization without checking the signature.

    Args:
        token: The compact JWS (no surrounding whitespace).

    Returns:
        ``(header, payload, signing_input, signature)``, where ``signing_input`` is the ASCII
        bytes ``b64url(header).b64url(payload)`` exactly as they appear in the token.

    Raises:
        VerifyError: The token does not have three parts, a part is not base64url, or the header
            is not a UTF-8 JSON object with unique names.
    """
    if not isinstance(token, str):
        raise VerifyError(f"JWS must be text, got {type(token).__name__}")
    parts = token.split(".")
    if len(parts) != 3:
        raise VerifyError(f"JWS compact serialization has 3 dot-separated parts, not {len(parts)}")
    header_b64, payload_b64, signature_b64 = parts
    try:
        header_bytes = b64url_decode(header_b64)
        payload = b64url_decode(payload_b64)
        signature = b64url_decode(signature_b64)
    except VerifyError as e:
        raise VerifyError(f"malformed JWS: {e}") from e
    try:
        header = json.loads(header_bytes.decode("utf-8"), object_pairs_hook=_reject_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise VerifyError(f"malformed JWS: header is not UTF-8 JSON ({e})") from e
    if not isinstance(header, dict):
        raise VerifyError(f"malformed JWS: header is a JSON {type(header).__name__}, not an object")
    return header, payload, f"{header_b64}.{payload_b64}".encode("ascii"), signature


def verify_compact(token: str, public_key: RSAPublicKey) -> tuple[dict[str, Any], bytes]:
    """Verify an RS256 JWS compact serialization.

    Args:
        token: The compact JWS.
        public_key: The RSA public key (at least 2048 bits) that must have made the signature.

    Returns:
        ``(header, payload)`` once the signature has verified.

    Raises:
        VerifyError: The token is malformed, its ``alg`` is not RS256 (``none`` included), it has
            ``crit``, the key is unsuitable, or the signature does not verify.
    """
    header, payload, signing_input, signature = parse_compact(token)
    alg = header.get("alg")
    if alg != ALGORITHM:
        raise VerifyError(f"JWS alg {alg!r} is not accepted; only {ALGORITHM} is")
    if "crit" in header:
        raise VerifyError(f"JWS has critical header parameters {header['crit']!r} (unsupported)")
    if not isinstance(public_key, RSAPublicKey):
        raise VerifyError(f"RS256 needs an RSA public key, got {type(public_key).__name__}")
    if public_key.key_size < MIN_RSA_BITS:
        raise VerifyError(f"RSA key has {public_key.key_size} bits; {MIN_RSA_BITS} are required")
    try:
        public_key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as e:
        raise VerifyError("JWS signature does not verify: the token was altered or signed with another key") from e
    return header, payload
