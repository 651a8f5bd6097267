"""What ``output/`` holds, found in another process while the build validates its sources.

A rebuild reuses a group of files only if ``output/`` still holds them (see
:mod:`badgekiln.engine.cache`). Listing and stat-ing the 70,000 files of a 10,000-award site takes most
of a second, so :func:`start` forks a process to do it as soon as the command starts, before the
build has even imported its modules. That process reads the cache's ``state.json`` itself and
compares the folder with the files the last build recorded there: when they agree (*intact*),
it answers with one word instead of sending the listing back.

Only the standard library (and bundletexts, jsonread, outputstamp: the standard library and orjson) is imported here, so that the
fork happens early.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import stat
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from badgekiln.engine import bundletexts, jsonread, outputstamp
from badgekiln.errors import SourceError
from badgekiln.sources import safefiles

MAX_STATE_BYTES = 1024 * 1024 * 1024  # bytes: about 2 KiB an award, so ~500,000 awards; larger is not read
MARKER = ".badgekiln-site"  # (badgekiln.engine.site.MARKER; not imported, to keep this module light)
STATE = Path(".badgekiln") / "cache" / "state.json"

# path in the site -> (inode, size); None for anything but a plain file
Listing = dict[str, "tuple[int, int] | None"]


@dataclass(frozen=True)
class Scan:
    """What the scanning process found."""

    state_sha: str | None  # SHA-256 of the state.json it compared against (None: there was none)
    intact: bool  # output/ holds exactly the files that state recorded, by inode and size
    listing: Listing | None  # every file, unless intact
    marker: tuple[int, int] | None  # the marker file's (inode, size)
    folders: list[str] | None = None  # every folder, when intact by their times (outputstamp.py)
    lines: list[str] | None = None  # and their outputstamp.lines, as found


class CacheLock:
    """An exclusive lock on the cache for one build (two builds at once would mix their files)."""

    def __init__(self, path: Path):
        # Never through a link left at that name, and never a FIFO or device (O_NONBLOCK: no wait).
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0), 0o644)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise OSError(f"{path} is not a regular file")
        self._handle = open(fd, "a+b")  # noqa: SIM115 - held until close()
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; builds there run one at a time anyway
            return
        fcntl.flock(self._handle, fcntl.LOCK_EX)

    def close(self) -> None:
        self._handle.close()


class Scanner:
    """A scan under way; :meth:`result` waits for it (once).

    ``lock``: the cache's lock, when the scan was started before the cache was opened
    (:func:`start`); the cache then holds it for the rest of the build.
    """

    def __init__(self, state_path: Path, output: Path, lock: CacheLock | None = None):
        self.lock = lock
        self._args = (state_path.absolute(), output.absolute())
        self._pool = None
        self._future = None
        self._result: Scan | None = None
        if "fork" in multiprocessing.get_all_start_methods():
            self._pool = ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("fork"), initializer=_ignore_interrupts
            )
            self._future = self._pool.submit(scan, *self._args)

    def result(self) -> Scan:
        if self._result is None:
            if self._future is None:
                self._result = scan(*self._args)
            else:
                try:
                    self._result = self._future.result()
                finally:
                    if self._pool is not None:
                        self._pool.shutdown()
        return self._result

    def discard(self) -> None:
        """End the scan without its answer (a build with nothing to reuse does not need it): the
        process is stopped, never waited for, and what it found never received (at 100,000
        awards a listing of 1.3 million files, which ``close`` would have kept to the end).
        ``lock`` stays held."""
        if self._pool is not None:
            # (SIGKILL: the scan only reads, and a SIGTERM that came before its initializer ran
            # reached the handler it inherited, so the scan went on and shutdown waited for it; a
            # scan cut off while it sent its answer left the pool waiting for the rest of it.
            # Imported here: the fork at the command's start comes before forking's imports.)
            from badgekiln.engine.forking import kill_pool

            kill_pool(self._pool)
        self._pool = self._future = None
        self._result = Scan(None, False, None, None)

    def close(self) -> None:
        """Wait for the process to end (its answer may never be asked for); a failed scan is
        not this caller's error."""
        try:
            self.result()
        except Exception:  # noqa: BLE001 - whoever needs the listing makes it again
            pass


def _ignore_interrupts() -> None:
    """In the scanning process: Ctrl-C is the command's to handle (it reached the whole process
    group; a KeyboardInterrupt here printed a trace above "interrupted"), SIGTERM ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def start(source: Path, output: Path) -> Scanner | None:
    """Take the cache's lock and begin scanning ``output`` against the state below ``source``.

    The lock comes first: another build must not change ``output/`` or the state between this
    scan and this build's use of it. None when there is no state to compare with (the cache then
    scans for itself) or the lock cannot be taken here (a read-only tree: no cache at all).
    """
    state = source / STATE
    if safefiles.kind(source, STATE.as_posix()) != "file":
        return None  # (none, or a link on the way: the cache does not use it, and BuildCache.open says why)
    try:
        lock = CacheLock(state.parent / "lock")
    except OSError:
        return None
    return Scanner(state, output, lock)


def state_sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def scan(state_path: Path, output: Path) -> Scan:
    """Compare ``output`` with the files recorded in ``state_path``: by its folders' times when the
    last build recorded them (:mod:`badgekiln.engine.outputstamp`), else file by file."""
    try:
        data = safefiles.read_bytes(state_path.parent, state_path.name, limit=MAX_STATE_BYTES)
    except (OSError, SourceError):
        data = None
    if data is not None:
        sha = state_sha(data)
        matched = outputstamp.matches(state_path.parent, output, sha)
        if matched is not None:
            marker = _plain_file(output / MARKER)
            if marker is not None:
                return Scan(sha, True, None, marker, *matched)
    groups, recorded_sha = _recorded(data, state_path.parent)
    data = None  # (let go before the listing is made: 41 MB at 100,000 awards)
    listing = list_files(output)
    marker = listing.get(MARKER)
    if recorded_sha is not None and marker is not None and _matches(listing, groups):
        return Scan(recorded_sha, True, None, marker)
    return Scan(recorded_sha, False, listing, marker)


def _plain_file(path: Path) -> tuple[int, int] | None:
    """(inode, size) of ``path`` if it is a plain file (not followed if a link)."""
    try:
        found = os.lstat(path)
    except OSError:
        return None
    return (found.st_ino, found.st_size) if stat.S_ISREG(found.st_mode) else None


def _recorded(data: bytes | None, root: Path) -> tuple[list[str], str | None]:
    """The packed files of every group the state ``data`` records ("path sha size inode;..."),
    its bundles' in the shard files of the cache folder ``root`` included, and the state's
    SHA-256 (its record of validated sources is let go before the listing is made); nothing
    when a shard is damaged (then output/ is not as the state records)."""
    if data is None:
        return [], None
    try:
        state = jsonread.loads(data)
        packed = [group[1] for group in (state.get("groups") or {}).values()]
        # (each shard file holds only its own bundles: the cache reads a bundle's text from its
        # shard alone, and so must this, or the two could be shown different texts)
        texts = bundletexts.Texts(root, state.get("shards") or {})
        for bundle in state.get("bundles") or {}:  # its text: lines of "name TAB key TAB packed"
            text = texts.text(bundle)
            if text is None:
                return [], None
            packed.extend(line.rpartition("\t")[2] for line in text.split("\n"))
        return packed, state_sha(data)
    except (ValueError, AttributeError, RecursionError, TypeError, IndexError, KeyError):
        return [], None


def _matches(listing: Listing, groups: list[str]) -> bool:
    """Whether ``listing`` is the marker plus exactly the files of ``groups`` ("path sha size inode;...")."""
    count = 1  # the marker
    try:
        for packed in groups:
            if not packed:
                continue
            for part in packed.split(";"):
                rel, _, size, ino = part.split(" ")
                if listing.get(rel) != (int(ino), int(size)):
                    return False
                count += 1
    except (TypeError, ValueError, AttributeError):  # a damaged state (the cache says so, and does not use it)
        return False
    return count == len(listing)


def list_files(output: Path) -> Listing:
    """Every file below ``output``: relative path -> (inode, size); None for anything but a plain file.

    The size is what notices a file edited in place (being a hard link, that edits its blob too).
    """
    found: Listing = {}
    if not output.is_dir():
        return found
    stack = [("", str(output))]
    while stack:
        prefix, folder = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                rel = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append((rel + "/", entry.path))
                elif entry.is_file(follow_symlinks=False):
                    stat = entry.stat(follow_symlinks=False)
                    found[rel] = (stat.st_ino, stat.st_size)
                else:
                    found[rel] = None  # a symlink or a special file: only a fresh site replaces it safely
    return found
