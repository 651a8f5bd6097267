"""Reading a site's endorsement folders: those it gives (``site_src/endorsing/*.yaml``), those it
received (``site_src/endorsements/*.json``, each verified here, before anything is published) and
the endorsers' pinned DID documents (``site_src/endorsers/*.json``).

See :mod:`badgekiln.formats.endorsements` for the documents and :mod:`badgekiln.verifying.endorsement`
for the verification and why the endorser's DID document is pinned rather than fetched.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from badgekiln.errors import Diagnostic, SourceError, SourceLocation, VerifyError
from badgekiln.formats import urls
from badgekiln.models import BadgeClass, Endorsement, Endorsing
from badgekiln.sources import safefiles
from badgekiln.sources.config import SourceTree
from badgekiln.sources.fields import SLUG_RE, Fields
from badgekiln.sources.loading import decode_utf8, load_yaml, read_source_bytes

if TYPE_CHECKING:
    from badgekiln.sources.config import SiteConfig

RECEIVED_FOLDER = SourceTree.ENDORSEMENTS
ENDORSERS_FOLDER = f"{SourceTree.SITE_SRC}/endorsers"
GIVING_FOLDER = f"{SourceTree.SITE_SRC}/endorsing"
MAX_ENDORSEMENT_BYTES = 256 * 1024  # a credential with a proof is a few KB
MAX_COMMENT = 5000
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
    giving = tuple(_giving(source, path, diagnostics) for path in _files(source, GIVING_FOLDER, ".yaml", diagnostics))
    received: list[Endorsement] = []
    paths = _files(source, RECEIVED_FOLDER, ".json", diagnostics)
    if paths and config is not None:
        pinned = _pinned(source, diagnostics)
        targets = _targets(config, badges)
        for path in paths:
            found = _received(source, path, pinned, targets, today, diagnostics)
            if found is not None:
                received.append(found)
    return tuple(received), tuple(g for g in giving if g is not None)


def _files(source: Path, folder: str, suffix: str, diagnostics: list[Diagnostic]) -> list[Path]:
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


def _read_json(source: Path, path: Path) -> tuple[str, Any]:
    rel = path.relative_to(source).as_posix()
    text = decode_utf8(read_source_bytes(path, rel, limit=MAX_ENDORSEMENT_BYTES, root=source), rel)
    try:
        return text, json.loads(text)
    except json.JSONDecodeError as e:
        raise SourceError(f"not valid JSON: {e.msg}", SourceLocation(rel, e.lineno, e.colno)) from None
    except RecursionError:
        raise SourceError("the JSON is nested too deeply", SourceLocation(rel)) from None


def _line_of(text: str, key: str) -> int:
    """The line where ``"key"`` first appears in a JSON text (0: nowhere): enough to point at a field."""
    at = text.find(f'"{key}"')
    return text.count("\n", 0, at) + 1 if at >= 0 else 0


def _pinned(source: Path, diagnostics: list[Diagnostic]) -> dict[str, dict[str, Any]]:
    from badgekiln.verifying.endorsement import check_did_document

    pinned: dict[str, dict[str, Any]] = {}
    for path in _files(source, ENDORSERS_FOLDER, ".json", diagnostics):
        rel = path.relative_to(source).as_posix()
        try:
            _, document = _read_json(source, path)
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
        text, document = _read_json(source, path)
    except SourceError as e:
        diagnostics.append(e.diagnostic)
        return None
    try:
        verify_endorsement(document, pinned, today=today)
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
    name = profile.get("name")
    name = name if isinstance(name, str) else str(endorser_id)
    url = profile.get("url") if isinstance(profile.get("url"), str) and profile["url"].startswith("https://") else None
    given = _GIVEN_ID.match(document["id"]) if isinstance(document["id"], str) else None
    base = web_base(endorser_id)
    ob2_url = given.group(1) + "endorsement.json" if given and base and given.group(1).startswith(base) else None
    comment = subject.get("endorsementComment")
    return Endorsement(
        name=path.stem,
        target=targets[subject["id"]],
        subject_id=subject["id"],
        endorser_id=endorser_id,
        endorser_name=name[:200],
        endorser_url=url,
        comment=comment[:MAX_COMMENT] if isinstance(comment, str) else "",
        issued_on=document["validFrom"],
        credential_id=document["id"],
        ob2_url=ob2_url,
        text=text,
        location=SourceLocation(rel),
    )


def _giving(source: Path, path: Path, diagnostics: list[Diagnostic]) -> Endorsing | None:
    try:
        doc = load_yaml(path, source)
    except SourceError as e:
        diagnostics.append(e.diagnostic)
        return None
    fields = Fields(doc.data, doc.location, diagnostics, f"endorsement {path.stem!r}")
    target = fields.text("target", required=True, single_line=True, max_len=2000)
    if target and not target.startswith(("https://", "did:web:")):
        fields.error(
            "bad-target",
            f"the target {target!r} is not an https URL or a did:web",
            fields.where("target"),
            "the endorsed badge class's badge.json URL, or the issuer's profile URL or DID",
        )
        target = None
    comment = fields.text("comment", required=True, max_len=MAX_COMMENT)
    issued_on = fields.date("issued_on", required=True)
    fields.finish()
    if not (target and comment and issued_on):
        return None
    return Endorsing(slug=path.stem, target=target, comment=comment, issued_on=issued_on, location=doc.location)
