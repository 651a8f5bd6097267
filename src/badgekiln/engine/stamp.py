"""A rebuild that would change nothing, found with ``stat`` calls only: the last build's stamp.

A build reads its sources, the private keys, a few environment variables, badgekiln's code and
the libraries it runs on, and writes ``output/``. When none of that changed since the last build
and ``output/`` is as it left it, the build would write the same bytes again: the command then
prints what that build printed and stops, without reading a source file (issue 15: a no-op
rebuild of 100,000 awards in under 3 seconds).

After a build that succeeded and changed nothing it read (no award id pinned, no ``awards.lock``
written), :func:`record` writes ``.badgekiln/cache/stamp.json``:

* the **inputs**, stat-ed *before* the build read anything (:func:`inputs`): the command's
  options (source, output, base URL, the day, ``--frozen``/``--production``), ``(kind, size,
  mtime, ctime, inode)`` of every file and folder of the source tree (but ``output/``,
  ``.badgekiln/`` and ``.git/``), of the key folders and of badgekiln's own files, the folders
  Python imports libraries from (installing or upgrading one changes them), the Python version,
  and digests of the environment variables a build reads (the SMTP password through scrypt, as
  in the cache's keys: the stamp must not make guessing it cheap);
* the **output**: ``(inode, mtime, ctime)`` of every folder of ``output/``, taken after the file
  system's clock moved past the build's last write. A file added, removed, renamed or replaced
  anywhere in ``output/`` changes its folder's times (a file edited in place does not: see
  README, "Incremental builds");
* what the command printed: the warnings, and the report of a build that changes nothing.

:func:`replay` compares, under the cache's lock, and answers that report, or None: build.

A file changed within the same tick of the file system's clock as the stat that recorded it
could keep its times, so a stamp is not written when any input's ctime is at or after the moment
the inputs were stat-ed (git's "racily clean" rule); the next build then runs in full.

Only the standard library is imported here: the stamp is checked before anything slow is loaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from badgekiln.engine import outputscan

FORMAT = 1
NAME = "stamp.json"
SKIPPED = frozenset((".badgekiln", ".git"))  # folders of the source tree a build never reads
# Environment variables a build reads (keys, their folders, the day); their values are digested.
ENVIRONMENT = (
    "BADGEKILN_KEYS_DIR",
    "BADGEKILN_PRIVATE_KEYS",  # (private keys: hundreds of random bits, SHA-256 does)
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "HOME",
    "SOURCE_DATE_EPOCH",
    "BADGEKILN_CACHE_RESTORED",
)
PASSWORD = "BADGEKILN_SMTP_PASSWORD"  # a text that may be weak: through scrypt (see engine/keys.py)
MAX_STAMP_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Inputs:
    """The stat of everything a build reads, taken before it reads it."""

    digest: str
    racy: bool  # something changed in the clock tick of the stat: do not trust the stamp


@dataclass(frozen=True)
class Report:
    """What a build printed: warnings (stderr) and the lines of a build that changes nothing."""

    warnings: tuple[str, ...]
    lines: tuple[str, ...]


def cache_dir(source: Path) -> Path:
    return source / outputscan.STATE.parent


def inputs(source: Path, output: Path, options: dict[str, str | bool | None]) -> Inputs:
    """The stat of every input of a build of ``source`` into ``output`` with ``options``."""
    source, output = Path(os.path.abspath(source)), Path(os.path.abspath(output))
    now = _clock(cache_dir(source)) if _cache_dir_ready(source, make=True) else None
    hasher = hashlib.sha256(
        json.dumps([FORMAT, sys.version, str(source), str(output), options], sort_keys=True).encode()
    )
    latest = 0
    for name in ENVIRONMENT:
        value = os.environ.get(name)
        hasher.update(
            f"{name}={hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest() if value is not None else '-'}\0".encode()
        )
    password = os.environ.get(PASSWORD, "")
    if password:
        from badgekiln.engine.keys import SCRYPT_N, SCRYPT_P, SCRYPT_R, SCRYPT_SALT  # noqa: PLC0415 - only then

        stretched = hashlib.scrypt(
            password.encode("utf-8", "surrogatepass"), salt=SCRYPT_SALT, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
        )
        hasher.update(b"password=" + stretched.hex().encode())
    roots = [(source, {str(output)})]
    roots += [(Path(p), set()) for p in _key_folders()]
    roots += [(Path(__file__).parents[1], set())]  # badgekiln's own files (an edit changes the build)
    for root, skip in roots:
        latest = max(latest, _tree(hasher, root, skip))
    for entry in sys.path:  # where libraries come from: installing one changes its folder
        if entry and not Path(os.path.abspath(entry)).is_relative_to(source):
            _one(hasher, entry)
    return Inputs(hasher.hexdigest(), racy=now is None or latest >= now)


def _key_folders() -> list[str]:
    """The folders the private keys and the development keys are read from (signing/keys.py)."""
    home = os.environ.get("HOME") or os.path.expanduser("~")
    keys = os.environ.get("BADGEKILN_KEYS_DIR")
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    return [
        os.path.expanduser(keys) if keys else os.path.join(config, "badgekiln", "keys"),
        os.path.join(cache, "badgekiln", "dev-keys"),
    ]


def _one(hasher: hashlib._Hash, path: str) -> int:
    """Add ``path``'s stat (not following a link) to ``hasher``; returns its ctime."""
    try:
        found = os.lstat(path)
    except OSError:
        hasher.update(f"{path}\0-\n".encode("utf-8", "surrogateescape"))
        return 0
    hasher.update(
        f"{path}\0{found.st_mode} {found.st_mtime_ns} {found.st_ctime_ns} {found.st_ino}\n".encode(
            "utf-8", "surrogateescape"
        )
    )
    return found.st_ctime_ns


def _fields(found: os.stat_result) -> str:
    if stat.S_ISDIR(found.st_mode):  # (its entries are listed one by one: its own times add nothing)
        return f"{found.st_mode} {found.st_ino} {found.st_dev}"
    return f"{found.st_mode} {found.st_size} {found.st_mtime_ns} {found.st_ctime_ns} {found.st_ino} {found.st_dev}"


def _tree(hasher: hashlib._Hash, root: Path, skip: set[str]) -> int:
    """Add the stat of ``root`` and of everything below it (links not followed; ``skip``: absolute
    paths left out, with :data:`SKIPPED` names) to ``hasher``, in a fixed order; returns the latest ctime."""
    try:
        hasher.update(f"{root}\0{_fields(os.lstat(root))}\n".encode("utf-8", "surrogateescape"))
    except OSError:
        hasher.update(f"{root}\0-\n".encode("utf-8", "surrogateescape"))
        return 0
    latest = 0
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as listed:
                entries = sorted(listed, key=lambda e: e.name)
        except OSError:
            hasher.update(f"{folder}\0unreadable\n".encode("utf-8", "surrogateescape"))
            continue
        for entry in entries:
            if entry.name in SKIPPED or entry.path in skip or entry.name == "__pycache__":
                continue
            try:
                found = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            hasher.update(f"{entry.path}\0{_fields(found)}\n".encode("utf-8", "surrogateescape"))
            if stat.S_ISDIR(found.st_mode):
                stack.append(entry.path)
            else:
                latest = max(latest, found.st_ctime_ns)
    return latest


def _cache_dir_ready(source: Path, *, make: bool = False) -> bool:
    """Whether ``.badgekiln/cache/`` is there as real folders (never a link: nothing is written
    through one); ``make``: make what is missing first (a first build: its stamp needs the clock)."""
    from badgekiln.sources import safefiles

    where = ""
    for part in outputscan.STATE.parent.parts:
        where = f"{where}/{part}".lstrip("/")
        found = safefiles.kind(source, where)
        if found is None and make:
            with contextlib.suppress(OSError):
                os.mkdir(source / where, 0o755)
            found = safefiles.kind(source, where)
        if found != "dir":
            return False
    return True


def _clock(folder: Path) -> int | None:
    """The file system's clock now (the ctime a change made now would get), from a probe file in
    the cache's folder; None when it cannot be read (then no stamp is trusted)."""
    try:
        fd = os.open(
            folder / "clock",
            os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0),
            0o600,
        )
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        os.utime(fd)
        return os.fstat(fd).st_ctime_ns
    except OSError:
        return None
    finally:
        os.close(fd)


def _folders(output: Path) -> list[str]:
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


def _output_digest(output: Path, folders: list[str]) -> str | None:
    """A digest of (inode, mtime, ctime) of each of ``folders``; None if one is gone or not a folder."""
    hasher = hashlib.sha256()
    base = str(output)
    for rel in folders:
        try:
            found = os.lstat(f"{base}/{rel}" if rel else base)
        except OSError:
            return None
        if not stat.S_ISDIR(found.st_mode):
            return None
        hasher.update(f"{rel}\0{found.st_ino} {found.st_mtime_ns} {found.st_ctime_ns}\n".encode())
    return hasher.hexdigest()


def forget(source: Path) -> None:
    """Remove the stamp (a build is about to change ``output/`` or the sources)."""
    if _cache_dir_ready(source):
        with contextlib.suppress(OSError):
            os.unlink(cache_dir(source) / NAME)


def record(source: Path, output: Path, before: Inputs, report: Report) -> bool:
    """Keep the stamp of a build that just succeeded (``before``: its inputs, stat-ed before it
    read them); False when it was not kept (an input changed while it was stat-ed, or the cache's
    folder cannot be written)."""
    folder = cache_dir(source)
    if before.racy or not _cache_dir_ready(source):
        return False
    output = Path(os.path.abspath(output))
    start = _clock(folder)
    if start is None:
        return False
    deadline = time.monotonic() + 1.0
    while (_clock(folder) or 0) <= start:  # the build's last write is in an earlier tick than what is stat-ed next
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    try:
        folders = _folders(output)
    except OSError:
        return False
    digest = _output_digest(output, folders)
    if digest is None:
        return False
    data = {
        "format": FORMAT,
        "inputs": before.digest,
        "output": digest,
        "folders": folders,
        "warnings": list(report.warnings),
        "lines": list(report.lines),
    }
    tmp = folder / f".{NAME}.{os.getpid()}.tmp"
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        with open(tmp, "x", encoding="utf-8") as handle:  # (x: never through a link left at that name)
            handle.write(json.dumps(data, separators=(",", ":")))
        os.replace(tmp, folder / NAME)
    except OSError:
        return False
    return True


def replay(source: Path, output: Path, options: dict[str, str | bool | None]) -> tuple[Report | None, Inputs]:
    """What the last build printed, when it would be built again unchanged (else None), and the
    inputs as they are now (for :func:`record` after the build that follows)."""
    from badgekiln.sources import safefiles

    folder = cache_dir(source)
    rel = f"{outputscan.STATE.parent.as_posix()}/{NAME}"
    if not _cache_dir_ready(source) or safefiles.kind(source, rel) != "file":
        return None, inputs(source, output, options)
    try:
        lock = outputscan.CacheLock(folder / "lock")
    except OSError:
        return None, inputs(source, output, options)
    try:  # (under the lock: a build under way is not half seen)
        now = inputs(source, output, options)
        try:
            data = json.loads(safefiles.read_bytes(source, rel, limit=MAX_STAMP_BYTES))
        except Exception:  # noqa: BLE001 - a damaged stamp only means a full build
            return None, now
        if not _well_formed(data) or now.racy or now.digest != data["inputs"]:
            return None, now
        if _output_digest(Path(os.path.abspath(output)), data["folders"]) != data["output"]:
            return None, now
        return Report(tuple(data["warnings"]), tuple(data["lines"])), now
    finally:
        lock.close()


def _well_formed(data: object) -> bool:
    return (
        isinstance(data, dict)
        and data.get("format") == FORMAT
        and isinstance(data.get("inputs"), str)
        and isinstance(data.get("output"), str)
        and all(
            isinstance(data.get(k), list) and all(isinstance(v, str) for v in data[k])
            for k in ("folders", "warnings", "lines")
        )
        and all(rel == "" or _DOTS.isdisjoint(rel.split("/")) for rel in data["folders"])
    )


_DOTS = frozenset(("", ".", ".."))
