"""Which files of a plan ``output/`` holds already, and which of its files are stale, found
without listing ``output/`` into memory.

A build with no record of the last one (the first, or the first after an upgrade: see
``BuildCache._compare_at_write``) makes every file again and compares each with ``output/``: a
file is unchanged when ``output/`` holds, at its path, a plain file with its blob's inode and
size (a hard link to the very bytes). Listing ``output/`` for that was a dict of 1.3 million paths
at 100,000 awards, beside a set of every planned path and one of the unchanged ones: about
0.5 GB, the peak of such a build. Here each planned file is looked up where it should be
(``lstat``, as the listing stat-ed each file), and ``output/`` is walked folder by folder only to
count what each holds: a folder with as many plain files as are planned in it, none of them
missing, holds no stale file. Only the folders where the counts differ are compared name by name.

On a file system that finds a name in any case, a file renamed only in case would be found
under its old name: there the listing is compared, as before (:func:`case_blind`).

What it finds is what comparing the full listing with the plan found (``tests/test_outputcompare.py``
holds the two to each other on random trees).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from badgekiln.engine.site import MARKER, SitePlan, unpack_files


@dataclass
class Comparison:
    """What ``output/`` holds of a plan."""

    total: int = 0  # files planned
    unchanged: int = 0  # planned files output/ holds already (a plain file, their blob's inode and size)
    changed: list[str] | None = field(default_factory=list)  # the others (None: more than the limit)
    stale: list[str] = field(default_factory=list)  # plain files of output/ the plan does not have
    marker: bool = False  # output/ holds the marker file, a plain file
    # output/ must be staged afresh, not updated in place: it holds something other than plain
    # files and folders (a link, a FIFO: only a fresh site replaces it safely), or a folder
    # where the plan has a file
    fresh: bool = False


def compare(plan: SitePlan, output: Path, limit: int) -> Comparison:
    """Compare ``plan`` with ``output`` (see the module's text); ``changed`` is kept while it has
    at most ``limit`` paths (past that the site is staged afresh, and which changed is not needed)."""
    found = Comparison()
    root = str(output) + os.sep
    planned: dict[str, int] = {}  # folder -> how many planned files it holds itself
    short: set[str] = set()  # folders a planned file is missing from
    changed: list[str] | None = []
    for rel, inode, size in _planned(plan):
        found.total += 1
        folder = rel.rpartition("/")[0]
        planned[folder] = planned.get(folder, 0) + 1
        try:
            st = os.lstat(root + rel)
        except OSError:  # (missing, or a file where a folder of its path should be)
            short.add(folder)
            st = None
        if st is not None and stat.S_ISREG(st.st_mode) and (st.st_ino, st.st_size) == (inode, size):
            found.unchanged += 1
            continue
        if st is not None and not stat.S_ISREG(st.st_mode):
            found.fresh = True  # a folder, a link or a special file where the plan has a file
        if changed is not None:
            changed.append(rel)
            if len(changed) > limit:
                changed = None
    found.changed = changed
    if not output.is_dir():
        return found
    known = _with_parents(planned)
    counted: dict[str, list[str]] = {}  # planned folder whose count differs -> the plain files found in it
    stack = [""]
    while stack:
        folder = stack.pop()
        names = []
        try:
            entries = os.scandir(root + folder if folder else output)
        except OSError:  # (unreadable, a name too long: whatever it holds, the site is staged afresh)
            found.fresh = True
            continue
        with entries:
            for entry in entries:
                rel = f"{folder}/{entry.name}" if folder else entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append(rel)
                elif entry.is_file(follow_symlinks=False):
                    if rel == MARKER:
                        found.marker = True
                    else:
                        names.append(entry.name)
                else:
                    found.fresh = True  # (a link, a FIFO)
        if folder not in known:
            found.stale += [f"{folder}/{name}" if folder else name for name in names]
        elif len(names) != planned.get(folder, 0) or folder in short:
            counted[folder] = names
    if counted:
        found.stale += _stale_in(plan, counted)
    return found


def case_blind(output: Path) -> bool:
    """Whether ``output`` is on a file system that finds a name in any case (macOS's and
    Windows' by default), told by its marker: there :func:`compare` would take a file renamed only
    in case for the planned one (``lstat`` finds it), and the listing is compared instead. (A
    stray file of the marker's name in capitals on another file system only costs that listing.)"""
    return os.path.lexists(output / MARKER) and os.path.lexists(output / MARKER.upper())


def _planned(plan: SitePlan) -> Iterator[tuple[str, int, int]]:
    """(path, inode, size) of every planned file: a file made here (not stored) is never in
    output/ yet (inode -1)."""
    for rel in plan.files:
        yield rel, -1, -1
    for packed in plan.stored:
        for rel, _, size, inode in unpack_files(packed):
            yield rel, inode, size


def _with_parents(folders: dict[str, int]) -> set[str]:
    """``folders`` and every folder above them ("" the top)."""
    known = {""}
    for folder in folders:
        while folder not in known:
            known.add(folder)
            folder = folder.rpartition("/")[0]
    return known


def _stale_in(plan: SitePlan, counted: dict[str, list[str]]) -> list[str]:
    """The files found in the folders of ``counted`` that the plan does not have there."""
    names: dict[str, set[str]] = {folder: set() for folder in counted}
    for rel in plan.paths():
        folder, _, name = rel.rpartition("/")
        if folder in names:
            names[folder].add(name)
    return [
        f"{folder}/{name}" if folder else name
        for folder, found in counted.items()
        for name in found
        if name not in names[folder]
    ]
