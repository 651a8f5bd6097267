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

import contextlib
import functools
import hashlib
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

from badgekiln.engine import forking, jsonread, timings
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
    expiring: tuple[str, ...]  # valid or suspended today, expiring within EXPIRING_WITHIN, not renewed
    total: int
    first: bool  # no previous build was recorded: every award counts as added
    suspended: tuple[str, ...] = ()  # suspended now (by hand or by a lapsed membership), not at the last build
    reinstated: tuple[str, ...] = ()  # suspended at the last build, no longer (and not revoked)
    unrevoked: tuple[str, ...] = ()  # revoked at the last build, no longer: a revocation undone
    removed: int = 0  # awards of the last build that this one has not (their pages are gone from output/)

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
        ) + (f", {self.removed:,} removed" if self.removed else "")
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
    unrevoked: list[str] = []
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
            if then[1] == "revoked":
                unrevoked.append(i)
    # Awards of the last build not in this one: its count less those it shares with this one (a
    # count of each file's view, not a pass over every award; a provider's review: 5,000 imported
    # awards undone with git went from output/ without a word)
    removed = 0
    if previous is not None:
        removed = max(
            0, len(previous.loose) + sum(len(view[1]) for view in previous.files.values()) - (total - len(added))
        )
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
        tuple(unrevoked),
        removed,
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
            if status in _RUNNING and row[ROW_EXPIRES] is not None and day < row[ROW_EXPIRES] <= until:
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
        if status in _RUNNING and a.expires is not None and today < a.expires <= soon:
            expiring.append(a.id)
    return awards, expiring


# The awards counted as expiring soon, as `report expiring` lists them: a suspended one too (it
# says so there; a membership body's review found the two counts apart), not one already expired.
_RUNNING = frozenset(("valid", "suspended"))

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
    staged = new_stage(source)
    if staged is not None and stage_state(staged, state):
        keep_state(source, staged)


def new_stage(source: Path) -> Path | None:
    """An empty file beside ``last-build.json`` (``mkstemp``: created anew, under a name no one can
    have planted), to stage a snapshot in; None if it cannot be made."""
    path = source / STATE
    _drop_staged(path)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError:
        return None
    os.close(fd)
    return Path(name)


def _drop_staged(path: Path) -> None:
    """Remove the snapshots staged beside ``path`` and never put in place: a build killed (SIGTERM,
    SIGKILL) while its summary was made beside it leaves one, the whole snapshot (73 MB at a
    million awards), which the process beside goes on to write. Only a build holding the cache's
    lock stages one, and the process beside holds that lock (inherited) until it ends: none of
    them is in use. Links are removed, never followed."""
    try:
        with os.scandir(path.parent) as entries:
            names = [entry.name for entry in entries]
    except OSError:
        return
    for name in names:
        if name.startswith(f".{path.name}.") and name.endswith(".tmp"):
            with contextlib.suppress(OSError):
                if not (path.parent / name).is_dir() or (path.parent / name).is_symlink():
                    os.unlink(path.parent / name)


def stage_state(staged: Path, state: Snapshot) -> bool:
    """Write ``state`` into the file ``staged`` (:func:`new_stage`), for :func:`keep_state` to put
    in place; False (and the file removed) if it could not be written."""
    data = {"format": FORMAT, "today": state.today, "loose": state.loose, "files": state.files}
    try:
        flags = os.O_WRONLY | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(staged, flags)  # (never through a link, nor blocked by a FIFO put in its place)
        with os.fdopen(fd, "wb") as handle:
            handle.write(orjson.dumps(data, option=orjson.OPT_SORT_KEYS))
    except OSError:
        drop_state(staged)
        return False
    return True


def keep_state(source: Path, staged: Path) -> None:
    """Put the snapshot staged in ``staged`` in place (a failure only loses the next summary)."""
    try:
        os.replace(staged, source / STATE)
    except OSError:
        drop_state(staged)


def blocked(source: Path) -> bool:
    """Whether a folder stands where the snapshot is kept (``.badgekiln/last-build.json``): no
    snapshot can replace it, so every build's summary would say "first build" (a link, a FIFO or
    a file is replaced by the next snapshot, never followed)."""
    try:  # (.badgekiln a link: the cache is refused, and what it leads to is not looked at)
        return stat.S_ISDIR(os.lstat(source / STATE.parent).st_mode) and stat.S_ISDIR(os.lstat(source / STATE).st_mode)
    except OSError:
        return False


def drop_state(staged: Path) -> None:
    """Remove a staged snapshot that is not to be kept."""
    with contextlib.suppress(OSError):
        os.unlink(staged)


# A rebuild's summary is made beside it, in a forked process, when the site has this many awards
# (the summary of 100,000 awards is 0.16 s of a 3 s rebuild; of 10,000, about what forking costs).
AHEAD_AWARDS = 20_000


def made_beside(
    source: Path, project: Project, today: date, identity: Identity | None, staged: Path | None
) -> tuple[Summary, bool]:
    """In the process beside a build (:class:`Beside`): the summary, and whether this build's
    snapshot was written into ``staged`` for the build to keep once it has succeeded."""
    with timings.phase("summary/read"):
        previous = read_state(source)
    with timings.phase("summary/compare"):
        summary, snapshot = summarize(project, today, previous, identity)
    with timings.phase("summary/write"):
        return summary, staged is not None and stage_state(staged, snapshot)


class Beside:
    """A rebuild's summary, made in a forked process (:class:`badgekiln.engine.forking.Beside`)
    while the build makes and writes its files: what the summary reads (the sources, the
    identities of their cached records) is settled before the build plans, and is what it would
    read at the end. The process writes the snapshot into a staged file, which :meth:`summary`
    puts in place once the build has succeeded; :meth:`close` ends it all otherwise."""

    def __init__(self, source: Path, project: Project, today: date, identity: Identity | None):
        self._source = source
        self._staged = new_stage(source)
        try:
            self._run = forking.Beside(functools.partial(made_beside, source, project, today, identity, self._staged))
        except BaseException:
            if self._staged is not None:
                drop_state(self._staged)
            raise
        if not self._run.started:
            self.close()

    def summary(self, *, keep: bool) -> Summary | None:
        """The summary made beside the build, its snapshot kept when ``keep``; None if it was not
        made there (not started, failed, or the process died): the build makes it itself, and
        raises what that raises (a damaged record of the cache, say)."""
        if not self._run.started:
            return None
        try:
            summary, staged = self._run.result()
        except Exception:  # noqa: BLE001 - made again in the build's process, which says what is wrong
            self.close()
            return None
        if keep and staged and self._staged is not None:
            keep_state(self._source, self._staged)
            self._staged = None
        self.close()
        return summary  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop the process if it still runs, and remove a snapshot staged and not kept."""
        self._run.discard()
        if self._staged is not None:
            drop_state(self._staged)
            self._staged = None
