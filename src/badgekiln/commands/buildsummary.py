"""What a build changed since the previous one: awards added, changed, revoked, suspended or
reinstated, expiring soon.

The previous build's view is a small file beside the build cache (``.badgekiln/last-build.json``):
for each award, a hash of what is published about it and its status, by recipient file when the
file's model was the build cache's (with the identity of the cached record it was made from,
and the awards valid and expiring soon), and the day it was made on. It is written only by
builds that keep a cache in the sources (never by ``serve``), and a missing or damaged file only
means the next summary counts every award as new.

A file whose cached record is the one the previous view recorded keeps its view: whole on the
same day, its hashes on another (a status follows from the day). At 100,000 awards a pass over
every award, on every rebuild, was most of the summary's time. (An equal record is an equal
model, and the view follows from the model and the day alone.)
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

from badgekiln.engine import jsonread
from badgekiln.errors import SourceError
from badgekiln.models import ROW_EXPIRES, ROW_ID, Project, Recipient, row_status
from badgekiln.sources import safefiles

STATE = Path(".badgekiln/last-build.json")
MAX_STATE_BYTES = 256 * 1024 * 1024  # about 3.5 million awards (some 73 bytes an award; 64 MB held 900,000)
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

    today: str  # the day it was made on (ISO)
    loose: dict[str, list[str]]  # award id → [hash of its published content, status], for the awards of
    # recipient files whose model was not the cache's (a membership or CPD log changed it)
    files: dict[str, list[Any]]  # recipient file → [identity of its cached record, {award id → [hash,
    # status]}, [ids of its awards valid and expiring within EXPIRING_WITHIN]]

    @functools.cached_property
    def awards(self) -> dict[str, list[str]]:
        """Award id → [hash, status], for every award."""
        every = dict(self.loose)
        for view in self.files.values():
            every.update(view[1])
        return every


Identity = Callable[[Recipient], "tuple[str, str] | None"]  # a recipient → (its file, its record's identity)


def summarize(
    project: Project, today: date, previous: Snapshot | None, identity: Identity | None = None
) -> tuple[Summary, Snapshot]:
    """The summary against ``previous`` (the last build's snapshot, or None) and this build's
    snapshot. ``identity``: the cached record a recipient's model is, if it is one.

    A recipient file whose cached record is the one ``previous`` recorded for it, on the same day,
    has the same view (its awards' hashes, their status, those expiring soon): it is taken whole,
    and none of its awards is looked at. Of a file whose record is the same on another day, only
    the hashes are taken (a status follows from the day).
    """
    day, soon = today.isoformat(), today + EXPIRING_WITHIN
    earlier = previous.files if previous is not None else {}
    same_day = earlier if previous is not None and previous.today == day else {}
    loose: dict[str, list[str]] = {}
    files: dict[str, list[Any]] = {}
    fresh: dict[str, list[str]] = {}  # the awards of the views made in this build, compared one by one
    candidates: list[str] = []  # valid and expiring soon (renewed or not)
    total = 0
    for recipient in project.recipients:
        known = identity(recipient) if identity is not None else None
        if known is not None and (kept := same_day.get(known[0])) is not None and kept[0] == known[1]:
            files[known[0]] = kept
            total += len(kept[1])
            candidates.extend(kept[2])
            continue
        if known is None:
            awards, expiring = _view(recipient, today, soon, None)
            loose.update(awards)
        else:
            old = earlier.get(known[0])
            awards, expiring = _view(recipient, today, soon, old[1] if old is not None and old[0] == known[1] else None)
            files[known[0]] = [known[1], awards, expiring]
        fresh.update(awards)
        total += len(awards)
        candidates.extend(expiring)
    before = previous.awards if previous is not None and fresh else {}
    added: list[str] = []
    changed: list[str] = []
    revoked: list[str] = []
    suspended: list[str] = []
    reinstated: list[str] = []
    for i, (digest, status) in fresh.items():
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
    renewed = project.renewals if candidates else {}  # (a renewed award is not one to renew: report
    # expiring leaves it out too)
    summary = Summary(
        tuple(added),
        tuple(changed),
        tuple(revoked),
        tuple(i for i in candidates if i not in renewed),
        total,
        previous is None,
        tuple(suspended),
        tuple(reinstated),
    )
    return summary, Snapshot(day, loose, files)


def _view(
    recipient: Recipient, today: date, soon: date, hashes: dict[str, list[str]] | None
) -> tuple[dict[str, list[str]], list[str]]:
    """Each award of ``recipient`` → [hash, status] (the hash taken from ``hashes`` when it holds
    one), and the ids of those valid and expiring by ``soon``. When ``hashes`` holds every award's,
    only the recipient's rows are read (no award's model is made: the first build of a day takes
    the statuses of a whole site's unchanged files so)."""
    awards: dict[str, list[str]] = {}
    expiring: list[str] = []
    rows = recipient.rows
    if hashes is not None and all(row[ROW_ID] in hashes for row in rows):
        day, until = today.isoformat(), soon.isoformat()
        for row in rows:
            status = row_status(row, day)
            awards[row[ROW_ID]] = [hashes[row[ROW_ID]][0], status]
            if status == "valid" and row[ROW_EXPIRES] is not None and row[ROW_EXPIRES] <= until:
                expiring.append(row[ROW_ID])
        return awards, expiring
    for a in recipient.awards:
        known = hashes.get(a.id) if hashes is not None else None
        if known is not None:
            digest = known[0]
        else:
            seen = (a.badge, a.issued_on, a.expires, a.narrative, a.evidence, a.revoked, recipient.public_name)
            digest = hashlib.sha256(repr(seen).encode()).hexdigest()[:16]
        status = a.status(today)
        awards[a.id] = [digest, status]
        if status == "valid" and a.expires is not None and a.expires <= soon:
            expiring.append(a.id)
    return awards, expiring


FORMAT = 2  # of last-build.json; format 1 (before 2026-12-03) was the awards' object alone


def read_state(source: Path) -> Snapshot | None:
    """The previous build's snapshot, or None when there is none (or it is damaged)."""
    try:  # (a regular file reached without a link, of a bounded size: a FIFO put there would block)
        data = jsonread.loads(safefiles.read_bytes(source, STATE.as_posix(), limit=MAX_STATE_BYTES))
    except (OSError, SourceError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    if data.get("format") != FORMAT:  # format 1: the awards alone (hashed as this format does)
        return Snapshot("", data, {}) if _hashes(data) else None
    today, loose, files = data.get("today"), data.get("loose"), data.get("files")
    if not (type(today) is str and isinstance(loose, dict) and _hashes(loose) and isinstance(files, dict)):
        return None
    for view in files.values():
        if not (
            type(view) is list
            and len(view) == 3
            and type(view[0]) is str
            and _hashes(view[1])
            and type(view[2]) is list
            and all(type(i) is str for i in view[2])
        ):
            return None
    return Snapshot(today, loose, files)


def _hashes(data: Any) -> bool:
    """Whether ``data`` is award id → [hash, status], as a snapshot keeps them."""
    return type(data) is dict and all(
        type(v) is list and len(v) == 2 and type(v[0]) is str and type(v[1]) is str for v in data.values()
    )


def write_state(source: Path, state: Snapshot) -> None:
    """Record this build's snapshot (atomically; a failure to write only loses the next summary)."""
    path = source / STATE
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    data = {"format": FORMAT, "today": state.today, "loose": state.loose, "files": state.files}
    try:
        tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_SORT_KEYS))
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
