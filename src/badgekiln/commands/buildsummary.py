"""What a build changed since the previous one: awards added, changed, revoked, suspended or
reinstated, expiring soon.

The previous build's view is a small file beside the build cache (``.badgekiln/last-build.json``:
award id → a hash of what is published about it, and its status; and, for each recipient file
whose model was the build cache's, the identity of the cached record it was made from). It is
written only by builds that keep a cache in the sources (never by ``serve``), and a missing or
damaged file only means the next summary counts every award as new.

The hashes of a file whose cached record is the one the previous build hashed are taken from the
previous view, not computed again: at 100,000 awards that was most of the summary's time, on
every rebuild. (An equal record is an equal model, and the hash follows from the model alone.)
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import orjson

from badgekiln.models import Project, Recipient

STATE = Path(".badgekiln/last-build.json")
EXPIRING_WITHIN = timedelta(days=30)


@dataclass(frozen=True)
class Summary:
    """Award ids by what happened to them in this build, as seen from the previous build."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    revoked: tuple[str, ...]
    expiring: tuple[str, ...]  # valid today, expiring within EXPIRING_WITHIN
    total: int
    first: bool  # no previous build was recorded: every award counts as added
    suspended: tuple[str, ...] = ()  # suspended now (by hand or by a lapsed membership), not at the last build
    reinstated: tuple[str, ...] = ()  # suspended at the last build, no longer (and not revoked)

    def unchanged(self) -> Summary:
        """The summary of a build right after this one, with nothing changed in between."""
        return Summary((), (), (), self.expiring, self.total, first=False)

    def line(self) -> str:
        """One line for the terminal, e.g. ``awards: 12 (3 added, 1 changed, 0 revoked; 2 expire within
        30 days)``; suspensions and reinstatements are named when there are some."""
        since = "first build" if self.first else "since the last build"
        more = "".join(
            f", {len(ids)} {word}"
            for ids, word in ((self.suspended, "suspended"), (self.reinstated, "reinstated"))
            if ids
        )
        return (
            f"awards: {self.total} ({since}: {len(self.added)} added, {len(self.changed)} changed, "
            f"{len(self.revoked)} revoked{more}; {len(self.expiring)} expire within {EXPIRING_WITHIN.days} days)"
        )


@dataclass(frozen=True)
class Snapshot:
    """A build's view of its awards (see the module's docstring)."""

    awards: dict[str, list[str]]  # award id → [hash of its published content, status]
    files: dict[str, str]  # recipient file → identity of the cached record its model was


Identity = Callable[[Recipient], "tuple[str, str] | None"]  # a recipient → (its file, its record's identity)


def snapshot(
    project: Project, today: date, identity: Identity | None = None, previous: Snapshot | None = None
) -> Snapshot:
    """This build's view of every award; the hashes of a recipient whose cached record (by
    ``identity``) is the one ``previous`` recorded are taken from ``previous``."""
    awards: dict[str, list[str]] = {}
    files: dict[str, str] = {}
    before = previous.awards if previous is not None else {}
    for recipient in project.recipients:
        known = identity(recipient) if identity is not None else None
        if known is not None:
            files[known[0]] = known[1]
            if previous is not None and previous.files.get(known[0]) == known[1]:
                hashes = [before.get(a.id) for a in recipient.awards]
                if all(type(h) is list and type(h[0]) is str for h in hashes):
                    for a, h in zip(recipient.awards, hashes):
                        awards[a.id] = [h[0], a.status(today)]  # type: ignore[index]
                    continue
        for a in recipient.awards:
            seen = (a.badge, a.issued_on, a.expires, a.narrative, a.evidence, a.revoked, recipient.public_name)
            awards[a.id] = [hashlib.sha256(repr(seen).encode()).hexdigest()[:16], a.status(today)]
    return Snapshot(awards, files)


def summarize(
    project: Project, today: date, previous: Snapshot | None, identity: Identity | None = None
) -> tuple[Summary, Snapshot]:
    """The summary against ``previous`` (the last build's :func:`snapshot`, or None) and this
    build's snapshot. ``identity``: the cached record a recipient's model is, if it is one."""
    made = snapshot(project, today, identity, previous)
    now = made.awards
    before = previous.awards if previous is not None else {}
    added: list[str] = []
    changed: list[str] = []
    revoked: list[str] = []
    suspended: list[str] = []
    reinstated: list[str] = []
    for i, (digest, status) in now.items():  # (one pass: a site may have 100,000 awards)
        then = before.get(i)
        if then is None:
            added.append(i)
            if status == "revoked" and previous is not None:
                revoked.append(i)
            continue
        if then[0] != digest:
            changed.append(i)
        if status != then[1]:
            if status == "revoked":
                revoked.append(i)
            elif status == "suspended":
                suspended.append(i)
            elif status == "valid" and then[1] == "suspended":
                reinstated.append(i)
    soon = today + EXPIRING_WITHIN
    renewed = project.renewed_by  # (a renewed award is not one to renew: report expiring leaves it out too)
    expiring = tuple(
        a.id
        for a in project.awards
        if a.expires is not None and a.expires <= soon and a.id not in renewed and now[a.id][1] == "valid"
    )
    summary = Summary(
        tuple(added),
        tuple(changed),
        tuple(revoked),
        expiring,
        len(now),
        previous is None,
        tuple(suspended),
        tuple(reinstated),
    )
    return summary, made


FORMAT = 2  # of last-build.json; format 1 (before 2026-12-03) was the awards' object alone


def read_state(source: Path) -> Snapshot | None:
    """The previous build's snapshot, or None when there is none (or it is damaged)."""
    path = source / STATE
    try:
        if path.is_symlink() or path.stat().st_size > 64 * 1024 * 1024:
            return None
        data = orjson.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    if data.get("format") == FORMAT:
        awards, files = data.get("awards"), data.get("files")
    else:  # format 1: the awards alone (its hashes are this format's: only the files are not known)
        awards, files = data, {}
    if not isinstance(awards, dict) or not all(isinstance(v, list) and len(v) == 2 for v in awards.values()):
        return None
    if not isinstance(files, dict) or not all(type(v) is str for v in files.values()):
        return None
    return Snapshot(awards, files)


def write_state(source: Path, state: Snapshot) -> None:
    """Record this build's snapshot (atomically; a failure to write only loses the next summary)."""
    path = source / STATE
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    data = {"format": FORMAT, "awards": state.awards, "files": state.files}
    try:
        tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_SORT_KEYS))
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
