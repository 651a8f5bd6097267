"""``badgekiln verify PATH_OR_URL``: check a badge (ours or anyone's) and report every check."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from badgekiln.errors import BadgekilnError, printable
from badgekiln.verifying import (
    Fetch,
    FetchPolicy,
    FetchRecord,
    VerificationResult,
    VerifyOptions,
    WebFetcher,
    looks_like_jws,
    offline_fetcher,
    parse_now,
    parse_offline_root,
    verify_bytes,
    verify_url,
)

MAX_FILE_BYTES = 64 * 1024 * 1024  # a baked image is a few hundred KB; refuse to slurp anything huge


def run_verify(
    target: str,
    *,
    now: str | None = None,
    recipient: str | None = None,
    offline_roots: Sequence[str] = (),
    clock: datetime | None = None,
    allow_local: bool = False,
    policy: FetchPolicy | None = None,
) -> VerificationResult:
    """Verify ``target``: an http(s) URL, a file (JSON, JWS, PNG, SVG) or a JWS given as text.

    Args:
        target: What to verify.
        now: ``--now``: when to check validity (ISO date or date-time); default the clock.
        recipient: ``--recipient``: an email address the badge must be awarded to.
        offline_roots: ``--offline-root`` values, ``URL=DIR``.
        clock: The real current time (tests pass one in); default now in UTC.
        allow_local: ``--allow-local``: also fetch from this machine (loopback), over http too.
        policy: The network limits (tests pass shorter ones); ``allow_local`` is applied to it.

    Returns:
        The verification result, with every URL asked for in ``fetches``.

    Raises:
        BadgekilnError: A bad option, or a target that is neither a URL, a file nor a JWS.
    """
    clock = clock or datetime.now(tz=UTC)
    try:
        moment = parse_now(now) if now else clock
    except ValueError as e:
        why = str(e) if str(e).startswith("is outside") else "is not an ISO 8601 date or date-time (e.g. 2026-01-31)"
        raise BadgekilnError(f"--now {now!r} {why}") from None
    log: list[FetchRecord] = []
    options = VerifyOptions(
        fetch=network_fetch(offline_roots, allow_local=allow_local, policy=policy, log=log),
        now=moment,
        clock=clock,
        recipient=recipient,
    )
    result = _verify_target(target, options)
    return dataclasses.replace(result, fetches=tuple(log))


def network_fetch(
    offline_roots: Sequence[str],
    *,
    allow_local: bool = False,
    policy: FetchPolicy | None = None,
    log: list[FetchRecord] | None = None,
) -> Fetch:
    """What ``--offline-root`` and ``--allow-local`` make of the network: URLs under a root read
    from its folder, the rest fetched under the network policy (:mod:`badgekiln.verifying.fetching`),
    whose deadline starts now.

    Raises:
        BadgekilnError: A bad ``--offline-root``.
    """
    roots = {}
    for text in offline_roots:
        try:
            prefix, folder = parse_offline_root(text)
        except ValueError as e:
            raise BadgekilnError(f"--offline-root {e}; write URL=DIR, e.g. https://badges.example.org/=output") from e
        if not folder.is_dir():
            raise BadgekilnError(f"--offline-root {text!r}: {folder} is not a folder")
        roots[prefix] = folder
    for prefix, folder in list(roots.items()):  # (a site built for http://127.0.0.1:8000/ names its
        # did:web, which is always read over https, with the same host: the same files answer both.
        # Not the other way: an https root does not serve http URLs, which the network refuses.)
        if prefix[:7].lower() == "http://":
            roots.setdefault("https://" + prefix[7:], folder)
    policy = dataclasses.replace(policy or FetchPolicy(), allow_local=allow_local)
    web = WebFetcher(policy, log=log)  # its deadline starts now, for the whole verification
    return offline_fetcher(roots, web, log=log) if roots else web


def _verify_target(target: str, options: VerifyOptions) -> VerificationResult:
    if target.startswith(("http://", "https://")):
        return verify_url(target, options)
    path = Path(target)
    try:
        is_file = path.is_file()
    except (OSError, ValueError):  # e.g. a JWS given as text is too long to be a file name
        is_file = False
    if is_file:
        try:
            with path.open("rb") as handle:  # read at most one byte more than allowed, whatever stat said
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as e:
            raise BadgekilnError(f"cannot read {target}: {e.strerror or e}") from e
        if len(data) > MAX_FILE_BYTES:
            raise BadgekilnError(f"{target} is larger than {MAX_FILE_BYTES} bytes: not a badge")
        return verify_bytes(data, options)
    if looks_like_jws(target):
        return verify_bytes(target.strip().encode("ascii"), options)
    raise BadgekilnError(
        f"{target!r} is not an http(s) URL, a file or a JWS; give the badge's URL, its "
        "assertion/credential file or its baked image"
    )


# Characters a hostile badge could use to move the cursor, retitle or clear the terminal, or
# reorder what is shown (bidi controls): printed as \uXXXX instead.
_SHOWN_MAX = 300  # characters of one value from the badge in the text report


def _safe(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    if len(text) > _SHOWN_MAX:
        text = text[: _SHOWN_MAX - 1] + "…"
    return printable(text, newlines=False)


def _fetch_line(record: FetchRecord) -> str:
    what = {
        "fetched": "fetched",
        "redirect": "redirect",
        "error": "failed",
        "refused": "REFUSED",
        "cut": "CUT",
        "offline": "offline",
    }.get(record.outcome, record.outcome)
    status = f"HTTP {record.status}, " if record.status is not None else ""
    return f"    {what} {_safe(record.url)} ({status}{record.size} bytes): {_safe(record.detail)}"


def render_text(result: VerificationResult) -> str:
    """The human report: one ✔/✘ line per check, a summary, what was fetched, and the verdict."""
    lines = [result.title]
    lines += [
        f"  {_mark(c)} {c.name}: {_safe(c.detail)}" if c.detail else f"  {_mark(c)} {c.name}" for c in result.checks
    ]
    subject = result.subject
    facts = [
        ("badge", subject.get("badge_name") or subject.get("name")),
        ("issuer", _issuer_fact(subject.get("issuer_name"), subject.get("issuer"))),
        ("issued", subject.get("issued")),
        ("expires", subject.get("expires")),
    ]
    shown = [f"{k}: {_safe(v)}" for k, v in facts if v]
    if shown:  # (what a forged badge says is not a fact: verifier review)
        lines.append(("  " if result.valid else "  as the badge says (not verified): ") + "; ".join(shown))
    if result.fetches:
        lines.append("  network:")
        lines += [_fetch_line(record) for record in result.fetches]
    else:
        lines.append("  network: nothing fetched")
    if result.valid:
        lines.append("✔ VALID")
    elif result.status == "not a badge":  # (UX walkthrough: a badge's own page read "NOT VALID")
        lines.append(
            "? NOT A BADGE: nothing was verified; give the badge itself (its assertion.json or credential.json)"
        )
    elif result.status == "unchecked":
        missed = ", ".join(c.name for c in result.failed if c.unchecked)
        lines.append(f"? NOT CHECKED: could not fetch what it needs ({missed}), so it is not known to be valid")
    else:
        failed = ", ".join(c.name for c in result.failed) or "nothing could be checked"
        lines.append(f"✘ NOT VALID ({result.status}): failed {failed}")
    return "\n".join(lines)


def _issuer_fact(name: Any, issuer_id: Any) -> str | None:
    """The issuer as the summary says it: the name it gives itself, with its id, which is what the
    checks tie the badge to (a name alone let a badge signed by anyone's did:key read "issuer:
    Northwind Training" under VALID, a review); a did:key is said to be a key alone."""
    if not isinstance(issuer_id, str) or not issuer_id:
        return name if isinstance(name, str) and name else None
    where = issuer_id
    if issuer_id.startswith("did:key:"):
        where = f"{issuer_id[:24]}…, a key alone: tied to no web site, its name is its own word"
    return f"{name} ({where})" if isinstance(name, str) and name and name != issuer_id else where


def _mark(check) -> str:
    """✔ passed, ✘ failed, ? could not be checked."""
    return "✔" if check.ok else "?" if check.unchecked or check.not_a_badge else "✘"


def render_json(result: VerificationResult) -> str:
    """The machine report (``--json``), in ASCII: what the badge says goes through as ``\\u`` escapes,
    so that its control, bidirectional and line-separating characters (U+009B, U+202E, U+2028)
    reach no terminal or log that shows the report (a review: the text report escaped them, this
    one did not)."""
    return json.dumps(result.to_dict(), ensure_ascii=True, indent=2, sort_keys=True)
