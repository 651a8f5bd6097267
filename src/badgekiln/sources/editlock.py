"""One command at a time edits a site's sources.

The commands that edit recipient files and ``site_src/awards.lock`` (``award``, its renewals and
``--eligible``, ``revoke``, ``suspend``, ``github-issue``, and the build where it pins ids and
records awards) each read the files, decide, and write them back. Two at once (two terminals,
two issue workflows on one runner, ``award`` beside ``serve``'s rebuild) each wrote the file as
they had read it, and the last one's award was lost without a word, its ledger line too (a
review, 2026-12-07). Each holds an exclusive ``flock`` on the site's folder itself while it reads
and writes: no file is made for it, so nothing can be planted in its place, and the lock goes
with the process however it ends. Nested holds in one process (a renewal adds an award) are one.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

try:
    import fcntl
except ImportError:  # (Windows: no advisory locks; the commands there run one at a time)
    fcntl = None  # type: ignore[assignment]

_held: dict[tuple[int, int], int] = {}  # (device, inode) of a site's folder -> holds in this process

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def editing(source: Path) -> Iterator[None]:
    """Hold the lock on editing ``source``'s sources, waiting (and saying so) while another
    process holds it. A folder that cannot be opened is left to the command to report."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        yield
        return
    info = os.fstat(fd)
    key = (info.st_dev, info.st_ino)
    if key in _held or fcntl is None:
        os.close(fd)
        _held[key] = _held.get(key, 0) + 1
        try:
            yield
        finally:
            _release(key)
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            sys.stderr.write("waiting for another badgekiln command that is changing this site's sources…\n")
            sys.stderr.flush()
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:  # (a file system without locks: NFS without lockd, some shared folders)
            sys.stderr.write(
                f"warning: this site's folder cannot be locked ({exc.strerror or exc}), so two badgekiln "
                "commands run at once could each change its sources as they read them: run one at a time\n"
            )
        _held[key] = 1
        try:
            yield
        finally:
            _release(key)
    finally:
        os.close(fd)  # (closing the folder's descriptor releases the lock)


def _release(key: tuple[int, int]) -> None:
    _held[key] -= 1
    if not _held[key]:
        del _held[key]


def editing_sources(function: Callable[P, R]) -> Callable[P, R]:
    """``function(source, …)`` run holding :func:`editing` of ``source``."""

    @functools.wraps(function)
    def locked(*args: P.args, **kwargs: P.kwargs) -> R:
        source = args[0] if args else kwargs["source"]
        assert isinstance(source, Path)
        with editing(source):
            return function(*args, **kwargs)

    return locked
