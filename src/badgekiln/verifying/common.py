"""Helpers shared by the Open Badges 2.0 and 3.0 verifiers: options, JSON, dates, recipients."""

from __future__ import annotations

import hashlib
import json
import math
import re
import urllib.parse
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from badgekiln.crypto import jws
from badgekiln.errors import VerifyError
from badgekiln.formats.urls import DEVELOPMENT_KEY_IDS
from badgekiln.verifying.fetching import Fetch, memoized
from badgekiln.verifying.result import Recorder


@dataclass(frozen=True)
class VerifyOptions:
    """How to verify.

    Attributes:
        fetch: Gets the bytes at a URL (the only IO; see :mod:`.fetching`).
        now: The instant validity is checked at (``--now``): issue dates, validFrom/validUntil,
            expires.
        clock: The real current time. Documents fetched now (status lists) and proof
            ``created`` stamps are checked against it, whatever ``now`` says.
        recipient: An email address the badge must have been awarded to, or None.
    """

    fetch: Fetch
    now: datetime
    clock: datetime
    recipient: str | None = None

    def memoized(self) -> VerifyOptions:
        """A copy whose fetch reads each URL at most once."""
        return replace(self, fetch=memoized(self.fetch))


MAX_DEPTH = 64  # nesting of arrays and objects; badge documents need about 10
MAX_NUMBER_CHARS = 100  # characters of one JSON number; badge documents need about 20


def load_json(data: bytes, what: str) -> dict[str, Any]:
    """Parse a JSON object strictly: UTF-8, no duplicate names, no NaN or Infinity, no number that
    overflows or runs to more than :data:`MAX_NUMBER_CHARS` characters, no lone surrogate, nested at
    most :data:`MAX_DEPTH` deep.

    Raises:
        VerifyError: Not such a JSON object.
    """
    try:
        text = data.decode("utf-8-sig")
        value = json.loads(
            text, object_pairs_hook=_unique, parse_constant=_no_constant, parse_int=_int, parse_float=_float
        )
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as e:
        raise VerifyError(f"{what} is not valid UTF-8 JSON: {e}") from e
    except RecursionError:
        raise VerifyError(f"{what} is nested more than {MAX_DEPTH} levels deep") from None
    if not isinstance(value, dict):
        raise VerifyError(f"{what} is a JSON {type(value).__name__}, not an object")
    _check_tree(value, what)
    return value


def _check_tree(value: Any, what: str) -> None:
    """Depth and text of a parsed JSON value (iteratively: the depth is what is being checked)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise VerifyError(f"{what} is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, dict):
            for key, item in node.items():
                _check_text(key, what)
                stack.append((item, depth + 1))
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)
        elif isinstance(node, str):
            _check_text(node, what)


def _check_text(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:  # "\ud800": valid JSON, but no character
        raise VerifyError(f"{what} contains an escaped lone surrogate ({text[e.start : e.end]!a}), not text") from None


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate name {key!r}")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(f"a number of {len(text)} digits (at most {MAX_NUMBER_CHARS})")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(f"a number of {len(text)} characters (at most {MAX_NUMBER_CHARS})")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is too large")
    return value


def parse_jws(token: Any) -> tuple[dict[str, Any], bytes, bytes, bytes]:
    """:func:`badgekiln.crypto.jws.parse_compact`, after checking the header as strictly as
    :func:`load_json` checks documents (the payload is the caller's, through :func:`load_json`).

    Raises:
        VerifyError: Not a compact JWS with a strict JSON object as header.
    """
    if isinstance(token, str) and token.count(".") == 2:
        header_b64 = token.partition(".")[0]
        if len(header_b64) > MAX_HEADER_CHARS:
            raise VerifyError(
                f"malformed JWS: the header has {len(header_b64)} characters (at most {MAX_HEADER_CHARS})"
            )
        load_json(jws.b64url_decode(header_b64), "the JWS header")
    return jws.parse_compact(token)


MAX_HEADER_CHARS = 16 * 1024  # a JWS header with an embedded RSA jwk is under 1 KB


def fetch_json(opts: VerifyOptions, url: str, what: str) -> dict[str, Any]:
    """Fetch ``url`` and parse it as a JSON object (errors name ``what``)."""
    return load_json(opts.fetch(url), f"{what} at {url}")


def as_list(value: Any) -> list[Any]:
    """JSON-LD's "one or many": None → [], a list as is, anything else → [value]."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def node_id(value: Any) -> Any:
    """The id of a reference that is either a string or an object with ``id``."""
    return value.get("id") if isinstance(value, dict) else value


def one_of(value: Any, choices: frozenset[str] | dict[str, Any]) -> bool:
    """``value in choices`` for a value from untrusted JSON (which may be a list or an object)."""
    return isinstance(value, str) and value in choices


def is_web_url(value: Any) -> bool:
    """An absolute http(s) URL with a host."""
    if not isinstance(value, str):
        return False
    try:
        parts = urllib.parse.urlsplit(value)
    except ValueError:  # ("https://[host/…": an unclosed IPv6 bracket, found by the fuzz test)
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def short(value: Any, limit: int = 80) -> str:
    """``repr`` of a value, cut to ``limit`` characters for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- dates ----------------------------------------------------------------------------------

# A date-time with a time zone, as Open Badges requires (seconds and fractions optional).
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|z|[+-]\d\d(:?\d\d)?)")


def parse_instant(value: Any, what: str) -> datetime:
    """Parse an ISO 8601 date-time that carries a time zone.

    Raises:
        VerifyError: Missing, not a string, or without a time zone.
    """
    if not isinstance(value, str) or not _STAMP.fullmatch(value):
        raise VerifyError(f"{what} {short(value)} is not a date-time with a time zone")
    try:
        return datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError as e:
        raise VerifyError(f"{what} {value!r} is not a valid date-time: {e}") from e


def parse_now(text: str) -> datetime:
    """Parse ``--now``: a date (midnight UTC) or a date-time (UTC when no zone is given).

    Raises:
        ValueError: Not ISO 8601, or a moment UTC cannot hold (``0001-01-01T00:00:00+01:00`` is
            in year 0 in UTC, which Python has not: every check would fail on it, a review).
    """
    value = datetime.fromisoformat(text.strip())
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        stamp(value)
    except OverflowError:
        raise ValueError("is outside the years 1 to 9999 in UTC") from None
    return value


def stamp(moment: datetime) -> str:
    """``2026-01-02T03:04:05Z`` (UTC) for messages."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def check_window(
    rec: Recorder, opts: VerifyOptions, start: Any, end: Any, *, start_name: str, start_field: str, end_field: str
) -> None:
    """Record ``start_name`` (start ≤ now) and ``not expired`` (now < end, when there is an end)."""
    moment = stamp(opts.now)
    try:
        begins = parse_instant(start, start_field)
    except VerifyError as e:
        rec.fail(start_name, str(e))
        begins = None
    if begins is not None:
        rec.check(
            start_name,
            begins <= opts.now,
            f"{start_field} {start}" + ("" if begins <= opts.now else f" is after {moment}: not valid yet"),
        )
    if end is None:
        rec.ok("not expired", f"no {end_field}: it does not expire")
        return
    try:
        ends = parse_instant(end, end_field)
    except VerifyError as e:
        rec.fail("not expired", str(e))
        return
    if begins is not None and ends < begins:
        rec.fail("not expired", f"{end_field} {end} is before {start_field} {start}")
    elif opts.now >= ends:
        rec.fail("not expired", f"expired on {end} (checked at {moment})")
    else:
        rec.ok("not expired", f"{end_field} {end}")


# --- recipients -----------------------------------------------------------------------------


AS_TYPED = "as typed"
NORMALISED = "normalised, trimmed and lower-cased"


def email_candidates(email: str) -> list[tuple[str, str]]:
    """``(address, form)`` pairs to try: exactly as given, then normalised (trimmed, lower case).

    badgekiln hashes the normalised address; other issuers may hash it as the earner typed it.
    """
    normal = email.strip().lower()
    return [(email, AS_TYPED)] if normal == email else [(email, AS_TYPED), (normal, NORMALISED)]


def recipient_detail(match: tuple[str, str]) -> str:
    """What ``verify --recipient`` says of a match: the address and the form that matched."""
    address, form = match
    return f"awarded to {address} (matched the address {form})"


def hash_matches(identity: Any, salt: Any, candidate: str) -> bool:
    """Whether ``sha256$…`` / ``md5$…`` ``identity`` is the hash of ``candidate + salt``.

    Raises:
        VerifyError: The identity is not a supported hash.
    """
    if not isinstance(identity, str) or "$" not in identity:
        raise VerifyError(f"hashed identity {short(identity)} is not written 'sha256$<hex>'")
    algorithm, _, digest = identity.partition("$")
    algorithm = algorithm.lower()
    if algorithm not in ("sha256", "md5"):
        raise VerifyError(f"identity hash algorithm {algorithm!r} is not sha256 or md5")
    salt_text = salt if isinstance(salt, str) else ""
    computed = hashlib.new(algorithm, (candidate + salt_text).encode("utf-8"), usedforsecurity=False)
    return computed.hexdigest() == digest.lower()


def identity_matches(email: str, *, hashed: Any, identity: Any, salt: Any) -> tuple[str, str] | None:
    """``(address, form)`` of the first form of ``email`` (:func:`email_candidates`) that matches a
    (hashed or plain) identity, or None.

    Raises:
        VerifyError: The identity is hashed with an unsupported algorithm or malformed.
    """
    for candidate, form in email_candidates(email):
        if hashed is True:
            if hash_matches(identity, salt, candidate):
                return candidate, form
        elif isinstance(identity, str) and identity.strip().lower() == candidate.strip().lower():
            return candidate, form
    return None


def check_own_key(rec: Recorder, *key_ids: Any) -> None:
    """Fail the verification when any of ``key_ids`` (the names of the key that signed) names a
    development key (:func:`is_development_key`): badgekiln's preview builds sign with throwaway
    keys, so such a badge is a preview, not the issuer's. Only a failure is recorded: the page's
    "Verify" panel says the same (verify.js)."""
    development = list(dict.fromkeys(k for k in key_ids if is_development_key(k)))
    if development and not any(check.name == "issuer's own key" for check in rec.checks):
        rec.fail(
            "issuer's own key",
            f"signed with a development key ({', '.join(map(short, development))}): "
            "this is a preview build, not signed with the issuer's own key",
        )


def is_development_key(key_id: Any) -> bool:
    """Whether ``key_id`` names one of badgekiln's development keys (``DEVELOPMENT_KEY_IDS``), in
    one of the shapes a build publishes a key under, and in no other:

    * a DID URL whose fragment is the id: ``did:web:host#dev-rsa``;
    * an http(s) URL whose last path segment is the id's key file, whatever query or fragment
      follows: ``https://host/keys/dev-rsa.json`` (OB 2.0) or ``…/keys/dev-rsa.jwk.json``.

    A foreign issuer's ``#dev-team-2024`` or ``dev-relations.json`` is not one. verify.js
    ``isDevelopmentKey`` is the same rule, written with the same string operations."""
    if not isinstance(key_id, str):
        return False
    if key_id.startswith("did:"):
        return key_id.partition("#")[2] in DEVELOPMENT_KEY_IDS.values()
    if not key_id.startswith(("https://", "http://")):
        return False
    address = key_id.partition("#")[0].partition("?")[0].partition("://")[2]
    _, slash, path = address.partition("/")
    name = path.rpartition("/")[2]
    return bool(slash) and any(name in (f"{kid}.json", f"{kid}.jwk.json") for kid in DEVELOPMENT_KEY_IDS.values())
