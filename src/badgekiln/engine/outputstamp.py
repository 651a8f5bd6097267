"""``output/`` as the last build left it, told by its folders' times instead of a listing of its files.

A rebuild reuses the files of ``output/`` only if the folder holds exactly what the last build
recorded (see :mod:`badgekiln.engine.outputscan`). Listing and stat-ing every file of a
100,000-award site (nearly a million) takes seconds; its 100,000 folders are stat-ed in a fraction
of that. A file added, removed, renamed or replaced anywhere in ``output/`` changes the times
(mtime, ctime) of the folder that holds it, so after each build :func:`record` keeps, in
``.badgekiln/cache/output-stamp.json``, ``(inode, mtime, ctime)`` of every folder of ``output/``,
with the SHA-256 of the cache state that build saved. The next build's scan asks
:func:`matches`: when every folder is as recorded, the output is intact without a listing.

What a folder's times do not tell: a file edited in place (the same inode written again), as
with the no-op stamp (:mod:`badgekiln.engine.stamp`; README, "Nothing changed, nothing done").
The times are kept only once the file system's clock has moved past the build's last change, so
a change after it always gets a later time (git's "racily clean" rule).

Only the standard library is imported here: the scanning process forks before anything slow loads.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import time
from pathlib import Path

from badgekiln.sources import safefiles  # (the standard library only, itself)

NAME = "output-stamp.json"
ENV_RESTORED = "BADGEKILN_CACHE_RESTORED"  # (engine/cache.py: "1" for a cache restored from an archive)
FORMAT = 1
MAX_BYTES = 256 * 1024 * 1024  # bytes: about 30 bytes a folder
WAIT_S = 3.0  # at most, for a file system's clock to move past the build's last write


def folders(output: Path) -> list[str]:
    """Every folder of ``output`` (relative; "" is ``output`` itself), links not followed."""
    found = [""]
    stack = [("", str(output))]
    while stack:
        prefix, folder = stack.pop()
        with os.scandir(folder) as listed:
            for entry in listed:
                if entry.is_dir(follow_symlinks=False):
                    rel = prefix + entry.name
                    found.append(rel)
                    stack.append((rel + "/", entry.path))
    found.sort()
    return found


def lines(output: Path, names: list[str], known: dict[str, str] | None = None) -> list[str] | None:
    """``(inode, mtime, ctime)`` of each folder of ``names`` below ``output``, a line each (what
    a record's digest is of); None if one is gone or is not a folder. ``known``: lines already had
    for some of them (a folder this build did not touch, stat-ed by the scan, see :func:`record`)."""
    found = _lines(output, names, known)
    return found[0] if found is not None else None


def _lines(output: Path, names: list[str], known: dict[str, str] | None) -> tuple[list[str], int] | None:
    """:func:`lines`, and the latest ctime among the folders stat-ed here (those not ``known``).

    A rebuild of 100,000 awards records about 100,000 folders three times (this record and the
    no-op stamp's two looks, :mod:`badgekiln.engine.stamp`), nearly all of them ``known``: only
    the others are looked at one by one, and the known lines are taken by a lookup each."""
    base = str(output)
    missing = names if not known else [rel for rel in names if rel not in known]
    fresh: dict[str, str] = {}
    latest = 0
    try:
        for rel in missing:
            found = os.lstat(f"{base}/{rel}" if rel else base)
            if not stat.S_ISDIR(found.st_mode):
                return None
            fresh[rel] = _line(rel, found)
            latest = max(latest, found.st_ctime_ns)
    except (OSError, ValueError):  # (ValueError: a NUL in a path)
        return None
    table = {**known, **fresh} if known else fresh
    return list(map(table.__getitem__, names)), latest


def _line(rel: str, found: os.stat_result) -> str:
    """A folder's line: its name, inode and times (what a record's digest is of)."""
    return f"{rel}\0{found.st_ino} {found.st_mtime_ns} {found.st_ctime_ns}\n"


def digest(output: Path, names: list[str], known: dict[str, str] | None = None) -> tuple[str, int] | None:
    """A digest of ``(inode, mtime, ctime)`` of each folder of ``names`` below ``output``, and the
    latest ctime among them; None if one is gone or is not a folder. ``known``: as for :func:`lines`;
    their ctimes are not among those compared: they are settled (the record that had them was
    kept once the clock was past them, and the scan found them unchanged since)."""
    found = _lines(output, names, known)
    hexdigest = _digest(found[0]) if found is not None else None
    if found is None or hexdigest is None:
        return None
    return hexdigest, found[1]


def _digest(found_lines: list[str]) -> str | None:
    """The digest of folders' :func:`lines`; None for a name that is not UTF-8 (as the file
    system gave it: a record of it could not be written)."""
    try:
        return hashlib.sha256("".join(found_lines).encode()).hexdigest()
    except UnicodeEncodeError:
        return None


def clock(folder: Path) -> int | None:
    """The clock of ``folder``'s file system now (the ctime a change made now would get), from a
    probe file made and removed there; None when it cannot be read."""
    probe = folder / f".badgekiln-clock.{os.getpid()}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(probe, flags, 0o600)
    except OSError:
        return None
    try:
        return os.fstat(fd).st_ctime_ns
    except OSError:
        return None
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(probe)


def past(folder: Path, ctime: int) -> bool:
    """Wait (at most :data:`WAIT_S`) until the clock of ``folder``'s file system is past ``ctime``."""
    deadline = time.monotonic() + WAIT_S
    while True:
        now = clock(folder)
        if now is None:
            return False
        if now > ctime:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)


def _relative(name: str) -> bool:
    """Whether ``name`` is a folder below output/ as :func:`folders` writes it ("" is output/)."""
    return name == "" or not ({"", ".", ".."} & set(name.split("/")) or "\0" in name)


def forget(cache: Path) -> None:
    """Remove the record (a build is about to change ``output/``)."""
    with contextlib.suppress(OSError):
        os.unlink(cache / NAME)


def record(
    cache: Path, output: Path, state_sha: str, names: list[str] | None = None, known: dict[str, str] | None = None
) -> bool:
    """Keep the folders of ``output`` (``names``, when the build knows them; else they are listed)
    with the state the build saved; False when not kept (a clock that cannot be read or does not
    move on, an output folder on a file system of its own).

    ``known``: the :func:`lines` of folders this build did not touch, as the scan at its start
    found them when they matched the last record (then every one of them was settled: a change
    since gives a later time, and the next scan sees it). A folder wrongly said untouched costs
    only speed: its line is then not its own, and the next scan lists ``output/``.
    """
    output = Path(os.path.abspath(output))
    try:
        names = sorted(names) if names is not None else folders(output)
        if os.lstat(output.parent).st_dev != os.lstat(output).st_dev:
            return False  # (a mount point: no clock of its own file system to read)
    except OSError:
        return False
    # The clock first moves past the build's last change (made before this call), then the
    # folders are stat-ed once: a later change gets a later time than any recorded.
    now = clock(output.parent)
    if now is None or not past(output.parent, now):
        return False
    found = lines(output, names, known)
    kept = _digest(found) if found is not None else None
    if kept is None:
        return False
    data = {"format": FORMAT, "output": str(output), "state": state_sha, "digest": kept, "folders": names}
    try:
        safefiles.replace_file(cache, NAME, json.dumps(data, separators=(",", ":")).encode("utf-8"))
    except (OSError, UnicodeEncodeError):
        forget(cache)
        return False
    return True


def matches(cache: Path, output: Path, state_sha: str) -> tuple[list[str], list[str]] | None:
    """The folders of ``output`` and their :func:`lines` if it is as the build that saved the state
    ``state_sha`` left it (every folder's inode and times as recorded); else None."""
    output = Path(os.path.abspath(output))
    if os.environ.get(ENV_RESTORED, "") == "1":
        return None  # (a cache restored from an archive: its files are checked one by one, as promised)
    try:
        data = json.loads(safefiles.read_bytes(cache, NAME, limit=MAX_BYTES))
    except Exception:  # noqa: BLE001 - missing or damaged: the output is listed instead
        return None
    if not (
        isinstance(data, dict)
        and data.get("format") == FORMAT
        and data.get("output") == str(output)
        and data.get("state") == state_sha
        and isinstance(data.get("digest"), str)
        and isinstance(data.get("folders"), list)
        and all(isinstance(name, str) and _relative(name) for name in data["folders"])
        and "" in data["folders"]  # (output/ itself: a list without it would vouch for nothing)
        and len(set(data["folders"])) == len(data["folders"])  # (a build takes the list as the set it is)
    ):
        return None
    found = _closed_lines(output, data["folders"])
    return (data["folders"], found) if found is not None and _digest(found) == data["digest"] else None


def _closed_lines(output: Path, names: list[str]) -> list[str] | None:
    """The :func:`lines` of ``names`` (distinct) when they are all the folders of ``output``; else
    None. All: each one's parent is listed, and each has as many sub-folders listed as it holds.
    The link count of a folder says how many (2 + its sub-folders); where the file system does not
    keep that count it reads 1 (ext4 past 65,000 sub-folders: the ``awards/`` folder of a
    100,000-award site; btrfs, always), and the folder's sub-folders are counted in its listing
    instead. A record listing some folders only would vouch for what is below the others.
    (One ``lstat`` a folder for both: two were 200,000 calls at 100,000 awards.)"""
    children = dict.fromkeys(names, 0)
    for name in names:
        if name:
            parent = name.rpartition("/")[0]
            if parent not in children:
                return None
            children[parent] += 1
    base = str(output)
    found_lines: list[str] = []
    try:
        for name, count in children.items():
            path = f"{base}/{name}" if name else base
            found = os.lstat(path)
            if not stat.S_ISDIR(found.st_mode):
                return None
            if found.st_nlink == 1:  # (not kept: count them)
                with os.scandir(path) as entries:
                    if sum(entry.is_dir(follow_symlinks=False) for entry in entries) != count:
                        return None
            elif found.st_nlink != 2 + count:
                return None
            found_lines.append(_line(name, found))
    except (OSError, ValueError):  # (ValueError: a NUL in a path)
        return None
    return found_lines
