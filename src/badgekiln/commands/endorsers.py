"""``badgekiln endorsers pin`` and ``endorsers check``: the endorsers' DID documents a site pins.

A received endorsement is verified offline, against the endorser's DID document pinned in
``site_src/endorsers/`` (see :mod:`badgekiln.sources.endorsements`). The pin is what makes the page
say who signed it, and a pull request can add one as easily as an endorsement: one that pins a
made-up document for ``did:web:royalsociety.org`` gets an endorsement signed with the author's own
key shown as the Royal Society's (a hostile review). These commands tie a pin to what the
endorser's host publishes: ``pin`` fetches the document from the address its DID names (under
the same network policy as ``badgekiln verify``) and saves it byte for byte; ``check`` fetches
every pinned document again and says which are no longer (or never were) what the host publishes.
Run ``check`` when reviewing a change to ``site_src/endorsers/``, or on a schedule in CI.
"""

from __future__ import annotations

import json
import re
import shlex
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from badgekiln.errors import BadgekilnError, SourceError, VerifyError
from badgekiln.sources import safefiles
from badgekiln.sources.config import SourceTree
from badgekiln.sources.endorsements import ENDORSERS_FOLDER, MAX_ENDORSEMENT_BYTES, folder_files, read_json, same_site
from badgekiln.sources.fields import SLUG_RE
from badgekiln.verifying.common import as_list, load_json
from badgekiln.verifying.endorsement import check_did_document
from badgekiln.verifying.fetching import FetchError
from badgekiln.verifying.methods import did_web_url

Fetch = Callable[[str], bytes]


@dataclass(frozen=True)
class PinCheck:
    """What ``check`` found for one pinned DID document."""

    file: str  # site_src/endorsers/<name>.json
    did: str | None  # the pinned document's id (None: the file is not a pinnable document)
    url: str | None  # where that DID's document is published
    outcome: str  # "same", "differs", "unreachable" or "unreadable"
    detail: str = ""


def _document_url(did_or_url: str) -> str:
    """The URL of the DID document that ``did_or_url`` names (a did:web, or that URL itself).

    Raises:
        BadgekilnError: Neither a did:web nor an https URL of a did.json.
    """
    text = did_or_url.strip()
    if text.startswith("did:web:"):
        try:
            return did_web_url(text)
        except VerifyError as e:
            raise BadgekilnError(str(e)) from None
    try:
        parts = urllib.parse.urlsplit(text)
        parts.port  # noqa: B018 - (raises for a port or an IPv6 host that is not one)
    except ValueError:
        parts = urllib.parse.urlsplit("")
    if parts.scheme == "https" and parts.netloc and parts.path.endswith("did.json") and not parts.query:
        return urllib.parse.urlunsplit(parts._replace(fragment=""))
    raise BadgekilnError(
        f"{text!r} is neither a did:web nor the https address of a did.json "
        "(e.g. did:web:skills-council.example or https://skills-council.example/.well-known/did.json)"
    )


def _fetch_document(fetch: Fetch, url: str) -> tuple[bytes, dict[str, Any], str]:
    """The bytes at ``url``, their value and its did:web, which must be the one published there.

    Raises:
        BadgekilnError: Not fetched, not a strict JSON DID document, or a document of another DID.
    """
    try:
        data = fetch(url)
    except FetchError as e:
        raise BadgekilnError(f"could not fetch {url}: {e}") from None
    if len(data) > MAX_ENDORSEMENT_BYTES:
        raise BadgekilnError(f"{url} is {len(data):,} bytes: more than a DID document ({MAX_ENDORSEMENT_BYTES:,})")
    try:
        document = load_json(data, f"the document at {url}")
        did = check_did_document(document)
    except VerifyError as e:
        raise BadgekilnError(str(e)) from None
    if did_web_url(did) != url:
        raise BadgekilnError(f"the document at {url} is of {did}, whose DID document is at {did_web_url(did)}")
    return data, document, did


def pin(
    source: Path, did_or_url: str, *, own_did: str, fetch: Fetch, name: str | None = None, replace: bool = False
) -> tuple[Path, str, bool]:
    """Fetch an endorser's DID document and save it as ``site_src/endorsers/<name>.json``.

    Returns:
        The file, the DID, and whether the file changed (False: it held those bytes already).

    Raises:
        BadgekilnError: The document could not be fetched or is not the DID's; it is this site's
            own; the name is not a slug; the DID is pinned under another name; the file is a link
            (or is reached through one), or holds another endorser's document, or another document
            of this DID and ``replace`` is not set.
    """
    url = _document_url(did_or_url)
    data, _document, did = _fetch_document(fetch, url)
    if same_site(did, own_did):
        raise BadgekilnError(f"{did} is this site's own DID (or a location under it): pin other sites' documents")
    name = name or _name_for(did)
    if not SLUG_RE.match(name) or name == "readme":
        raise BadgekilnError(f"--name {name!r} is not a file name the build reads (a-z, 0-9 and '-', not readme)")
    rel = f"{ENDORSERS_FOLDER}/{name}.json"
    for where in (ENDORSERS_FOLDER, rel):  # (never written through a link a pull request put there)
        found = safefiles.kind(source, where)
        if found == "link":
            raise BadgekilnError(
                f"{where} is a symbolic link, or is reached through one: badgekiln does not write through links"
            )
        if found not in (None, "dir" if where == ENDORSERS_FOLDER else "file"):
            raise BadgekilnError(f"{where} is not a {'folder' if where == ENDORSERS_FOLDER else 'regular file'}")
    pinned = _pins(source)
    elsewhere = [other for other, pinned_did in pinned.items() if pinned_did == did and other != rel]
    if elsewhere:
        stem = Path(elsewhere[0]).stem
        raise BadgekilnError(
            f"{did} is pinned already, as {elsewhere[0]}: to take what it publishes now, {pin_command(did, stem)}"
        )
    path = source / rel
    if rel in pinned or safefiles.kind(source, rel) == "file":
        if safefiles.read_bytes(source, rel, limit=MAX_ENDORSEMENT_BYTES + 1) == data:
            return path, did, False
        if pinned.get(rel) != did:
            raise BadgekilnError(
                f"{rel} holds another pin ({pinned.get(rel) or 'not a DID document'}): choose another --name"
            )
        if not replace:
            raise BadgekilnError(
                f"{rel} holds another document of {did}: pass --replace to replace it with what it publishes now"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    safefiles.replace_file(path.parent, path.name, data)  # (the bytes as published, in one rename)
    return path, did, True


def pin_command(did: str, name: str) -> str:
    """The command that replaces the pin ``name`` with what ``did`` publishes, quoted for a shell
    (a did:web may hold ; $ ' ( ): pasted as it was printed, one ran a command of its own: a review)."""
    return shlex.join(["badgekiln", "endorsers", "pin", did, "--name", name, "--replace"])


def _pins(source: Path) -> dict[str, str | None]:
    """Each pinned file of ``site_src/endorsers/`` with the DID its document claims (None: unreadable)."""
    pins: dict[str, str | None] = {}
    for path in folder_files(source, ENDORSERS_FOLDER, ".json", []):
        rel = path.relative_to(source).as_posix()
        try:
            pins[rel] = check_did_document(read_json(source, path)[1])
        except (SourceError, VerifyError):
            pins[rel] = None
    return pins


def _name_for(did: str) -> str:
    """A file name for the pin of ``did``: its host and path, made a slug."""
    text = did.removeprefix("did:web:").replace("%3A", "-").replace("%3a", "-").replace(":", "-").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:64].rstrip("-") or "endorser"


MAX_CHECK_SECONDS = 600  # for every pin together: past it, the pins left are not fetched (and not confirmed)


def check(source: Path, *, fetcher: Callable[[], Fetch]) -> list[PinCheck]:
    """Every pinned DID document compared with what its DID's address publishes now; each fetched
    with a fetch of its own from ``fetcher`` (one slow host, or many pins, spent a budget shared by
    all, and every pin after it was "not confirmed": a review)."""
    checks: list[PinCheck] = []
    problems: list[Any] = []
    started = time.monotonic()
    for path in folder_files(source, ENDORSERS_FOLDER, ".json", problems):
        rel = path.relative_to(source).as_posix()
        try:
            _text, pinned = read_json(source, path)
            did = check_did_document(pinned)
        except (SourceError, VerifyError) as e:
            checks.append(PinCheck(rel, None, None, "unreadable", str(e)))
            continue
        url = did_web_url(did)
        if time.monotonic() - started > MAX_CHECK_SECONDS:
            checks.append(
                PinCheck(rel, did, url, "unreachable", f"not fetched: the check ran past {MAX_CHECK_SECONDS} s")
            )
            continue
        try:
            _data, live, live_did = _fetch_document(fetcher(), url)
        except BadgekilnError as e:
            checks.append(PinCheck(rel, did, url, "unreachable", str(e)))
            continue
        if live_did != did:  # (did:web:Skills.Example pinned: its host publishes did:web:skills.example's)
            checks.append(
                PinCheck(rel, did, url, "unreachable", f"{url} publishes the document of {live_did}, not {did}")
            )
            continue
        if _exactly(live) == _exactly(pinned):  # (not ==: Python's 1 == 1.0 == True)
            checks.append(PinCheck(rel, did, url, "same"))
        else:
            checks.append(PinCheck(rel, did, url, "differs", _differences(pinned, live)))
    for problem in problems:  # (a link or a misnamed file: the build refuses them too)
        checks.append(
            PinCheck(
                problem.location.path if problem.location else SourceTree.SITE_SRC,
                None,
                None,
                "unreadable",
                problem.message,
            )
        )
    return checks


def _exactly(value: Any) -> str:
    """A JSON value as text that tells every value and type apart (keys sorted)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _differences(pinned: dict[str, Any], live: dict[str, Any]) -> str:
    """How the keys of two DID documents of one DID differ, in a few words."""

    def keys(document: dict[str, Any]) -> dict[str, Any]:
        return {
            str(m.get("id")): m.get("publicKeyMultibase") or m.get("publicKeyJwk")
            for m in as_list(document.get("verificationMethod"))
            if isinstance(m, dict)
        }

    def assertion(document: dict[str, Any]) -> set[str]:
        return {str(m.get("id") if isinstance(m, dict) else m) for m in as_list(document.get("assertionMethod"))}

    old, new = keys(pinned), keys(live)
    said = []
    if added := sorted(new.keys() - old.keys()):
        said.append("keys published now and not pinned: " + ", ".join(added))
    if gone := sorted(old.keys() - new.keys()):
        said.append("keys pinned and no longer published: " + ", ".join(gone))
    if changed := sorted(k for k in old.keys() & new.keys() if old[k] != new[k]):
        said.append("keys whose value differs: " + ", ".join(changed))
    if assertion(pinned) != assertion(live):
        said.append("its assertionMethod differs")
    return "; ".join(said) or "the documents differ (not in their keys)"
