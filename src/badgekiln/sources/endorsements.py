"""Reading a site's endorsement folders: those it gives (``site_src/endorsing/*.yaml``), those it
received (``site_src/endorsements/*.json``, each verified here, before anything is published) and
the endorsers' pinned DID documents (``site_src/endorsers/*.json``).

See :mod:`badgekiln.formats.endorsements` for the documents and :mod:`badgekiln.verifying.endorsement`
for the verification and why the endorser's DID document is pinned rather than fetched.
"""

from __future__ import annotations

import json
import posixpath
import re
import urllib.parse
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from badgekiln.errors import Diagnostic, SourceError, SourceLocation, VerifyError
from badgekiln.formats import urls
from badgekiln.models import BadgeClass, Endorsement, Endorsing
from badgekiln.sources import safefiles
from badgekiln.sources.config import SourceTree
from badgekiln.sources.fields import SLUG_RE, Fields, _has_control, invisible_character, shows_nothing, url_problem
from badgekiln.sources.loading import decode_utf8, load_yaml, read_source_bytes

if TYPE_CHECKING:
    from badgekiln.sources.config import SiteConfig

RECEIVED_FOLDER = SourceTree.ENDORSEMENTS
ENDORSERS_FOLDER = f"{SourceTree.SITE_SRC}/endorsers"
GIVING_FOLDER = f"{SourceTree.SITE_SRC}/endorsing"
MAX_ENDORSEMENT_BYTES = 256 * 1024  # a credential with a proof is a few KB
MAX_COMMENT = 5000
MAX_NAME = 200  # an endorser's name, as pages show it
# Where a badgekiln endorser publishes an endorsement; its OB 2.0 twin sits next to it.
_GIVEN_ID = re.compile(r"(https://[^?#]+/endorsements/given/[a-z0-9][a-z0-9-]*/)credential\.json\Z")


def read_sources(
    source: Path,
    config: SiteConfig | None,
    badges: dict[str, BadgeClass],
    today: date | None,
    diagnostics: list[Diagnostic],
) -> tuple[tuple[Endorsement, ...], tuple[Endorsing, ...]]:
    """The site's received endorsements (each verified) and the ones it gives; problems go to ``diagnostics``."""
    giving = tuple(
        _giving(source, path, diagnostics) for path in folder_files(source, GIVING_FOLDER, ".yaml", diagnostics)
    )
    received: list[Endorsement] = []
    paths = folder_files(source, RECEIVED_FOLDER, ".json", diagnostics)
    if paths and config is not None:
        # What others sign names the published site (site.yaml's base_url and DID), not a preview URL.
        published = config.published
        pinned = _pinned(source, published.did, diagnostics)
        targets = _targets(published, badges)
        for path in paths:
            found = _received(source, path, pinned, targets, today, diagnostics)
            if found is not None:
                received.append(found)
    return tuple(received), tuple(g for g in giving if g is not None)


def folder_files(source: Path, folder: str, suffix: str, diagnostics: list[Diagnostic]) -> list[Path]:
    """The ``<slug><suffix>`` files directly in ``folder`` (links and special files refused, see safefiles)."""
    try:
        entries = safefiles.list_dir(source, folder)
    except SourceError as e:
        diagnostics.append(e.diagnostic)
        return []
    found = []
    for entry in entries:
        path, rel = source / folder / entry.name, f"{folder}/{entry.name}"
        if entry.kind in ("link", "special"):
            diagnostics.append(
                Diagnostic(
                    "error",
                    "symlink" if entry.kind == "link" else "not-a-file",
                    "this is a symbolic link or not a regular file: badgekiln does not read it",
                    SourceLocation(rel),
                    safefiles.LINK_HINT,
                )
            )
        elif entry.name.startswith(".") or entry.name.lower().split(".")[0] == "readme":
            continue
        elif path.suffix != suffix or entry.kind != "file":
            diagnostics.append(
                Diagnostic(
                    "error",
                    "unexpected-file",
                    f"this is not read: {folder}/ holds <name>{suffix} files",
                    SourceLocation(rel),
                    "rename or move it",
                )
            )
        elif not SLUG_RE.match(path.stem):
            diagnostics.append(
                Diagnostic(
                    "error",
                    "bad-file-name",
                    f"the file name {entry.name!r} is not a valid slug",
                    SourceLocation(rel),
                    "use only a-z, 0-9 and '-' in file names",
                )
            )
        else:
            found.append(path)
    return found


def read_json(source: Path, path: Path) -> tuple[str, Any]:
    """The file's text and value, read as strictly as ``badgekiln verify`` reads what it is given
    (:func:`badgekiln.verifying.common.load_json`): the value checked and shown is the one every
    JSON reader sees. A duplicate name let a second, unsigned ``endorsementComment`` into a
    published file whose proof still verified (Python keeps the last one); a NaN that an endorser
    signed went into the site's own achievement.json; a lone surrogate, deep nesting or a number
    of 5,000 digits ended the build in a traceback (a hostile review)."""
    from badgekiln.verifying.common import load_json

    rel = path.relative_to(source).as_posix()
    data = read_source_bytes(path, rel, limit=MAX_ENDORSEMENT_BYTES, root=source)
    text = decode_utf8(data, rel)
    try:
        json.loads(text)  # (where plain JSON goes wrong, by line and column)
    except json.JSONDecodeError as e:
        raise SourceError(f"not valid JSON: {e.msg}", SourceLocation(rel, e.lineno, e.colno)) from None
    except (RecursionError, ValueError):
        pass  # (load_json says what)
    try:
        return text, load_json(data, "the file")
    except VerifyError as e:
        raise SourceError(str(e), SourceLocation(rel), "ask for the file again, exactly as it was published") from None


def _line_of(text: str, key: str) -> int:
    """The line where ``"key"`` first appears in a JSON text (0: nowhere): enough to point at a field."""
    at = text.find(f'"{key}"')
    return text.count("\n", 0, at) + 1 if at >= 0 else 0


def _pinned(source: Path, own_did: str, diagnostics: list[Diagnostic]) -> dict[str, dict[str, Any]]:
    from badgekiln.verifying.endorsement import check_did_document

    pinned: dict[str, dict[str, Any]] = {}
    for path in folder_files(source, ENDORSERS_FOLDER, ".json", diagnostics):
        rel = path.relative_to(source).as_posix()
        try:
            text, document = read_json(source, path)
            did = check_did_document(document)
        except SourceError as e:
            diagnostics.append(e.diagnostic)
            continue
        except VerifyError as e:
            diagnostics.append(
                Diagnostic(
                    "error",
                    "bad-did-document",
                    str(e),
                    SourceLocation(rel),
                    "save the endorser's did.json here exactly as they publish it",
                )
            )
            continue
        if same_site(did, own_did):
            diagnostics.append(
                Diagnostic(
                    "error",
                    "own-did-pinned",
                    f"this DID document claims {did}, this site's own DID or a location under it: an "
                    "endorsement checked against it would be shown as signed by this site",
                    SourceLocation(rel, _line_of(text, "id")),
                    "pin only other sites' did.json files here; remove this one",
                )
            )
            continue
        if did in pinned:
            diagnostics.append(
                Diagnostic(
                    "error",
                    "duplicate-endorser",
                    f"a second DID document of {did}",
                    SourceLocation(rel),
                    "keep one file per endorser",
                )
            )
        pinned[did] = document
    return pinned


def same_site(did: str, own_did: str) -> bool:
    """Whether the did:web ``did`` names this site's own location or one below it (which pages
    would show as this site's host and a path under it): the host compared as it is reached (any
    letter case, a final dot, any port), then the path. The exact string was
    compared: ``did:web:Badges.Northwind.example`` was pinned and shown as this site. A location
    above this site's (a university's host, for a department's site under a path of it) is
    another signer, shown as that host."""
    mine, theirs = _location(own_did), _location(did)
    return did == own_did or theirs.startswith(mine)


def _location(did: str) -> str:
    """``host/path/`` of a did:web as it is reached, for comparing two."""
    from badgekiln.verifying.methods import web_base

    try:
        base = web_base(did) or did
    except VerifyError:
        return did
    parts = urllib.parse.urlsplit(base)  # (the port is left out: a page shows host:8443 as this host too)
    # The path as it is reached: escapes decoded and '.' and '..' resolved (RFC 3986 5.2.4), or
    # did:web:uni.example:x:..:dept and …:%64ept passed as other than did:web:uni.example:dept.
    path = posixpath.normpath(urllib.parse.unquote(parts.path) or "/").lstrip("/").rstrip("/")
    # Compared as a reader sees it: in any letter case, a segment's final dots and what is not
    # text left out (uni.example/DEPT, /dept. and /dept%00 read as this site's /dept)
    segments = ["".join(c for c in part if c.isprintable()).rstrip(".").lower() for part in path.split("/") if part]
    path = "".join(f"/{segment}" for segment in segments)
    return f"{(parts.hostname or '').rstrip('.')}{path}/"


def _targets(config: SiteConfig, badges: dict[str, BadgeClass]) -> dict[str, str | None]:
    """Every id an endorsement of this site may name: the badge classes' and the issuer's."""
    targets: dict[str, str | None] = {config.url(urls.ISSUER): None, config.did: None}
    for slug in badges:
        for path in (urls.badge_json(slug), urls.achievement_json(slug), urls.badge_dir(slug)):
            targets[config.url(path)] = slug
    return targets


def _received(
    source: Path,
    path: Path,
    pinned: dict[str, dict[str, Any]],
    targets: dict[str, str | None],
    today: date | None,
    diagnostics: list[Diagnostic],
) -> Endorsement | None:
    from badgekiln.verifying.endorsement import verify_endorsement
    from badgekiln.verifying.methods import web_base

    rel = path.relative_to(source).as_posix()
    try:
        text, document = read_json(source, path)
    except SourceError as e:
        diagnostics.append(e.diagnostic)
        return None
    try:
        verify_endorsement(document, pinned, today=None)
    except VerifyError as e:
        message = str(e)
        field = next(
            (k for k in ("proof", "issuer", "validFrom", "validUntil", "credentialSubject", "type") if k in message),
            "proof",
        )
        hint = (
            "the endorsement must be the endorser's signed file exactly as they sent it; ask them for it again"
            if "signature" in message or "proof" in message
            else f"pin the endorser's DID document: save their did.json in {ENDORSERS_FOLDER}/ after checking it"
            if "pinned" in message
            else None
        )
        diagnostics.append(
            Diagnostic(
                "error",
                "endorsement-not-verified",
                f"the endorsement does not verify: {message}",
                SourceLocation(rel, _line_of(text, field)),
                hint,
            )
        )
        return None
    subject = document["credentialSubject"]
    if subject["id"] not in targets:
        diagnostics.append(
            Diagnostic(
                "error",
                "endorsement-wrong-target",
                f"the endorsement is of {subject['id']!r}, which is not this site's issuer or one of its badge classes",
                SourceLocation(rel, _line_of(text, "credentialSubject")),
                "an endorsement names the endorsed badge class by its badge.json or achievement.json URL, or the "
                "issuer by issuer.json or the site's DID; ask the endorser for one that names yours",
            )
        )
        return None
    issuer = document["issuer"]
    profile = issuer if isinstance(issuer, dict) else {"id": issuer}
    endorser_id = profile["id"]
    base = web_base(endorser_id) or ""
    # Who signed is the pinned did:web, so its host is what pages show as the endorser; the name in
    # the file is the endorser's own claim (any organisation's), shown only as that.
    host = urllib.parse.urlsplit(base).netloc
    label = host + urllib.parse.urlsplit(base).path.rstrip("/")
    name = profile.get("name")
    name = name.strip() if isinstance(name, str) else ""
    comment = subject.get("endorsementComment")
    comment = comment if isinstance(comment, str) else ""
    for key, value, newlines in (("issuer", name, False), ("endorsementComment", comment, True)):
        if _has_control(value, allow_newlines=newlines) or (
            key == "issuer" and (invisible_character(value) or (value and shows_nothing(value)))
        ):
            what = "the endorser's name" if key == "issuer" else "the endorsement comment"
            diagnostics.append(
                Diagnostic(
                    "error",
                    "control-character",
                    f"{what} contains a control character (such as a right-to-left override)",
                    SourceLocation(rel, _line_of(text, key)),
                    "ask the endorser for an endorsement without invisible characters",
                )
            )
            return None
    for key, value, limit in (("issuer", name, MAX_NAME), ("endorsementComment", comment, MAX_COMMENT)):
        if len(value) > limit:  # (cut, a comment could say the opposite of what was signed)
            what = "the endorser's name" if key == "issuer" else "the endorsement comment"
            diagnostics.append(
                Diagnostic(
                    "error",
                    "too-long",
                    f"{what} has {len(value)} characters; pages show at most {limit}",
                    SourceLocation(rel, _line_of(text, key)),
                    "ask the endorser for a shorter endorsement",
                )
            )
            return None
    not_current = _not_current(document, today)
    if not_current is not None:
        # (a warning: a date the endorser chose must not stop this site's builds, its revocations
        # among them; the endorsement is left out of the pages and documents until it is valid.
        # Checked last: one that would fail any other check fails now, not on its validFrom day)
        diagnostics.append(
            Diagnostic(
                "warning",
                "endorsement-not-current",
                f"the endorsement is not shown: {not_current}",
                SourceLocation(rel, _line_of(text, "validUntil" if "expired" in not_current else "validFrom")),
                "remove the file, or ask the endorser for a current endorsement",
            )
        )
        return None
    url = profile.get("url")
    url = url if isinstance(url, str) and _same_host(url, host) else None
    given = _GIVEN_ID.match(document["id"]) if isinstance(document["id"], str) else None
    ob2_url = given.group(1) + "endorsement.json" if given and base and given.group(1).startswith(base) else None
    return Endorsement(
        name=path.stem,
        target=targets[subject["id"]],
        subject_id=subject["id"],
        endorser_id=endorser_id,
        endorser_name=name,
        endorser_url=url,
        endorser_host=label,
        comment=comment,
        issued_on=document["validFrom"],
        valid_until=document.get("validUntil"),
        credential_id=document["id"],
        ob2_url=ob2_url,
        text=text,
        location=SourceLocation(rel),
    )


def _not_current(document: dict[str, Any], today: date | None) -> str | None:
    """Why a verified endorsement is not valid on ``today`` (not yet, or no longer), or None."""
    from badgekiln.verifying.endorsement import valid_on

    if today is None:
        return None
    try:
        valid_on(document, today)
    except VerifyError as e:
        return str(e)
    return None


def _same_host(url: str, host: str) -> bool:
    """Whether ``url`` is an https URL on exactly ``host`` (the endorser's did:web host; no subdomain)."""
    if url_problem(url, ("https",)) is not None:
        return False
    return bool(host) and urllib.parse.urlsplit(url).netloc.lower() == host.lower()


def _giving(source: Path, path: Path, diagnostics: list[Diagnostic]) -> Endorsing | None:
    try:
        doc = load_yaml(path, source)
    except SourceError as e:
        diagnostics.append(e.diagnostic)
        return None
    return check_giving(path.stem, doc.data, doc.location, diagnostics)


def check_giving(
    slug: str, data: Any, location: SourceLocation, diagnostics: list[Diagnostic], *, options: bool = False
) -> Endorsing | None:
    """An endorsement this site gives, from a ``site_src/endorsing/<slug>.yaml`` mapping (or what
    ``badgekiln endorse`` is about to write there: ``options``, messages name its options, --target);
    problems go to ``diagnostics``."""
    named = (lambda key: f"--{key.replace('_', '-')}") if options else None
    fields = Fields(data, location, diagnostics, f"endorsement {slug!r}", named=named)
    target = fields.text("target", required=True, single_line=True, max_len=2000)
    problem = _target_problem(target) if target else None
    if target and problem:
        fields.error(
            "bad-target",
            f"{'--target' if options else 'the target'} {target!r} is not an https URL or a did:web: {problem}",
            fields.where("target"),
            "the endorsed badge class's badge.json URL, or the issuer's profile URL or DID",
        )
        target = None
    comment = fields.text("comment", required=True, max_len=MAX_COMMENT)
    issued_on = fields.date("issued_on", required=True)
    fields.finish()
    if not (target and comment and issued_on):
        return None
    return Endorsing(slug=slug, target=target, comment=comment, issued_on=issued_on, location=fields.location)


def _target_problem(target: str) -> str | None:
    """Why ``target`` cannot be what an endorsement names ("it …"), or None."""
    from badgekiln.verifying.methods import did_web_url

    if target.startswith("did:web:"):
        try:
            did_web_url(target)
        except VerifyError:
            return "it is not a well-formed did:web (did:web:host or did:web:host:path)"
        return None
    return url_problem(target, ("https",))
