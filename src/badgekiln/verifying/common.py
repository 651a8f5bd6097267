"""Helpers shared by the Open Badges 2.0 and 3.0 verifiers: options, JSON, dates, recipients."""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from ..errors import VerifyError
from .fetching import Fetch, memoized
from .result import Recorder


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


def load_json(data: bytes, what: str) -> dict[str, Any]:
    """Parse a JSON object strictly (UTF-8, no duplicate names, no NaN).

    Raises:
        VerifyError: Not a UTF-8 JSON object.
    """
    try:
        text = data.decode("utf-8-sig")
        value = json.loads(text, object_pairs_hook=_unique, parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as e:
        raise VerifyError(f"{what} is not valid UTF-8 JSON: {e}") from e
    if not isinstance(value, dict):
        raise VerifyError(f"{what} is a JSON {type(value).__name__}, not an object")
    return value


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate name {key!r}")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


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
    parts = urllib.parse.urlsplit(value)
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
        ValueError: Not ISO 8601.
    """
    value = datetime.fromisoformat(text.strip())
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def stamp(moment: datetime) -> str:
    """``2026-01-02T03:04:05Z`` (UTC) for messages."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def check_window(rec: Recorder, opts: VerifyOptions, start: Any, end: Any, *, start_name: str,
                 start_field: str, end_field: str) -> None:
    """Record ``start_name`` (start ≤ now) and ``not expired`` (now < end, when there is an end)."""
    moment = stamp(opts.now)
    try:
        begins = parse_instant(start, start_field)
    except VerifyError as e:
        rec.fail(start_name, str(e))
        begins = None
    if begins is not None:
        rec.check(start_name, begins <= opts.now, f"{start_field} {start}" + (
            "" if begins <= opts.now else f" is after {moment}: not valid yet"))
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


def email_candidates(email: str) -> list[str]:
    """The address normalised (trimmed, lower case) first, then exactly as given."""
    normal = email.strip().lower()
    return [normal] if normal == email else [normal, email]


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


def identity_matches(email: str, *, hashed: Any, identity: Any, salt: Any) -> str | None:
    """The form of ``email`` that matches a (hashed or plain) identity, or None.

    Raises:
        VerifyError: The identity is hashed with an unsupported algorithm or malformed.
    """
    for candidate in email_candidates(email):
        if hashed is True:
            if hash_matches(identity, salt, candidate):
                return candidate
        elif isinstance(identity, str) and identity.strip().lower() == candidate.strip().lower():
            return candidate
    return None
