"""What a build changed since the previous one: awards added, changed, revoked, suspended or
reinstated, expiring soon.

The previous build's view is a small file beside the build cache (``.badgekiln/last-build.json``:
award id → a hash of what is published about it, and its status). It is written only by builds
that keep a cache in the sources (never by ``serve``), and a missing or damaged file only means
the next summary counts every award as new.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import orjson

from badgekiln.models import Project

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


def snapshot(project: Project, today: date) -> dict[str, list[str]]:
    """Award id → [hash of its published content, status] for every award."""
    state = {}
    for recipient in project.recipients:
        for a in recipient.awards:
            seen = (a.badge, a.issued_on, a.expires, a.narrative, a.evidence, a.revoked, recipient.public_name)
            state[a.id] = [hashlib.sha256(repr(seen).encode()).hexdigest()[:16], a.status(today)]
    return state


def summarize(project: Project, today: date, previous: dict | None) -> tuple[Summary, dict[str, list[str]]]:
    """The summary against ``previous`` (a :func:`snapshot`, or None) and this build's snapshot."""
    now = snapshot(project, today)
    before = previous or {}
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
    return summary, now


def read_state(source: Path) -> dict | None:
    """The previous build's snapshot, or None when there is none (or it is damaged)."""
    path = source / STATE
    try:
        if path.is_symlink() or path.stat().st_size > 64 * 1024 * 1024:
            return None
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not all(isinstance(v, list) and len(v) == 2 for v in data.values()):
        return None
    return data


def write_state(source: Path, state: dict[str, list[str]]) -> None:
    """Record this build's snapshot (atomically; a failure to write only loses the next summary)."""
    path = source / STATE
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(orjson.dumps(state, option=orjson.OPT_SORT_KEYS))
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
