"""A rebuild that would change nothing, found with ``stat`` calls only: the last build's stamp.

A build reads its sources, the private keys, a few environment variables, badgekiln's code and
the libraries it runs on, and writes ``output/``. When none of that changed since the last build
and ``output/`` is as it left it, the build would write the same bytes again: the command then
prints what that build printed and stops, without reading a source file (issue 15: a no-op
rebuild of 100,000 awards in under 3 seconds).

After a build that succeeded and changed nothing it read (no award id pinned, no ``awards.lock``
written), :func:`record` writes ``.badgekiln/cache/stamp.json``, under the cache's lock:

* the **inputs**, stat-ed *before* the build read anything (:func:`inputs`): the command's
  options (source, output, base URL, the day, ``--frozen``/``--production``); ``(kind, size,
  mtime, ctime, inode)`` of every file and folder of the folders a build reads (``site_src/``,
  ``badges/``, ``recipients/``, ``templates/``, ``.github/``), of the entries at the top of the
  source tree, of git's index (``git add`` changes whether the cache may be used), of the key
  files and of badgekiln's own files; the folders Python imports libraries from (installing or
  upgrading one changes them); the Python version; and digests of the environment variables a
  build reads (the SMTP password through scrypt, as in the cache's keys: the stamp must not make
  guessing it cheap);
* the **output**: ``(inode, mtime, ctime)`` of every folder of ``output/`` and the stat of the
  files the build keeps beside it (the cache's state, the summary of the last build), taken after
  the file systems' clocks moved past the build's last write. A file added, removed, renamed or
  replaced anywhere in ``output/`` changes its folder's times (a file edited in place does not:
  see README, "Nothing changed, nothing done");
* what the command printed: the warnings, the number of files and the summary line.

:func:`replay` compares, under the cache's lock, and answers that report, or None: build.

A file changed within the same tick of its file system's clock as the stat that recorded it
could keep its times, so a stamp is not written when an input's ctime is at or after the moment
the inputs were stat-ed (git's "racily clean" rule: on the source tree's file system by its own
clock, elsewhere within :data:`SLACK_NS` of the wall clock).

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
from dataclasses import dataclass, field
from pathlib import Path

from badgekiln.engine import jsonread, outputscan, outputstamp
from badgekiln.engine.outputstamp import clock as _clock
from badgekiln.engine.outputstamp import folders as _folders
from badgekiln.engine.outputstamp import past as _past
from badgekiln.engine.site import leftover_prefixes
from badgekiln.errors import SourceError
from badgekiln.signing import keypaths
from badgekiln.sources import safefiles  # (the standard library only, itself)

FORMAT = 3
NAME = "stamp.json"
READ = ("site_src", "badges", "recipients", "templates", ".github")  # folders of the source tree a build reads
LISTED = ("badges", "recipients")  # of them, those listed as the build's sources list them (Inputs.listings)
KEPT = (".badgekiln/last-build.json", ".badgekiln/cache/state.json")  # what a build keeps beside output/
GIT_INDEX = ".git/index"
# Environment variables a build reads (keys, their folders, the day); their values are digested.
ENVIRONMENT = (
    keypaths.ENV_KEYS_DIR,
    keypaths.ENV_KEYS,  # (private keys: hundreds of random bits, SHA-256 does)
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "HOME",
    "SOURCE_DATE_EPOCH",
    "BADGEKILN_CACHE_RESTORED",
)
MAX_STAMP_BYTES = 64 * 1024 * 1024  # bytes (a stamp lists output/'s folders: about 20 bytes an award)
SLACK_NS = 2_500_000_000  # the coarsest file times kept (FAT: 2 s), and some


@dataclass(frozen=True)
class Inputs:
    """The stat of everything a build reads, taken before it reads it.

    ``listings``: the entries of the folders of :data:`LISTED` as :func:`safefiles.list_dir` found
    them for the stamp (their stats included), which the build's sources use instead of listing
    and stat-ing every file again (two listings of 27,000 recipient files took 0.35 s at 100,000
    awards); ``clock``: the cache folder's clock and device, read before that listing (what
    ``engine/cache.py`` compares each file's ctime with). None when not listed."""

    digest: str
    racy: bool  # something changed in the clock tick of the stat (or cannot be told): keep no stamp
    listings: dict[str, list[safefiles.Entry]] | None = field(default=None, compare=False, repr=False)
    clock: tuple[int, int] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Report:
    """What a build printed: its warnings (stderr), its number of files and its summary line(s)."""

    warnings: tuple[str, ...]
    files: int
    summary: tuple[str, ...]


def cache_dir(source: Path) -> Path:
    return source / outputscan.STATE.parent


def inputs(source: Path, output: Path, options: dict[str, str | bool | None]) -> Inputs:
    """The stat of every input of a build of ``source`` into ``output`` with ``options``."""
    source, output = Path(os.path.abspath(source)), Path(os.path.abspath(output))
    from badgekiln.sources import safefiles

    # (a link there is refused by the build: nothing of a cache is made for it, as for no site)
    if safefiles.kind(source, "site_src/site.yaml") != "file" or _units_from_outside():
        return Inputs("", racy=True)  # not a site (nothing to walk), or units this stamp cannot see
    clock = _clock(cache_dir(source)) if _cache_dir_ready(source, make=True) else None
    wall = time.time_ns()
    hasher = hashlib.sha256(
        json.dumps([FORMAT, sys.version, str(source), str(output), options], sort_keys=True).encode()
    )
    for name in ENVIRONMENT:
        value = os.environ.get(name)
        shown = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest() if value is not None else "-"
        hasher.update(f"{name}={shown}\0".encode())
    password = os.environ.get(keypaths.ENV_SMTP_PASSWORD, "")
    if password:  # a text that may be weak: through the cache keys' scrypt (only then: engine.keys is slow to load)
        from badgekiln.engine.keys import secrets_digest
        from badgekiln.signing.secretscan import Secret

        hasher.update(b"password=" + secrets_digest([Secret("", password.encode("utf-8", "surrogatepass"))]).encode())
    latest: dict[int, int] = {}  # device -> the latest ctime of a file on it
    # The top of the tree: its entries, not what is in them; not what the build itself makes there.
    own = {str(output), str(source / ".badgekiln"), str(source / ".git")}
    _tree(hasher, source, latest, depth=1, skip=own)
    listings: dict[str, list[safefiles.Entry]] = {}
    for name in READ:
        listing = _listing(source, name) if name in LISTED and clock is not None else None
        if listing is None:
            _tree(hasher, source / name, latest)
        else:
            _listed(hasher, source / name, listing, latest)
            listings[name] = listing
    _one(hasher, str(source / GIT_INDEX), latest)
    for folder in _key_folders():  # (keys are read from the top of their folders)
        _tree(hasher, folder, latest, depth=1)
    _tree(hasher, Path(__file__).parents[1], latest, skip_name="__pycache__")  # badgekiln's own files
    cwd = os.getcwd()
    for number, entry in enumerate(sys.path):  # where libraries come from: installing one changes its folder
        where = os.path.abspath(entry or cwd)
        if not Path(where).is_relative_to(source) and not (number == 0 and where == cwd):
            _one(hasher, where, {})
    home = _device(cache_dir(source))
    racy = clock is None or any(
        ctime >= (clock if device == home else wall - SLACK_NS) for device, ctime in latest.items()
    )
    device = home if clock is not None else None
    return Inputs(
        hasher.hexdigest(),
        racy=racy,
        listings=listings if device is not None else None,
        clock=(clock, device) if clock is not None and device is not None else None,
    )


def _listing(source: Path, name: str) -> list[safefiles.Entry] | None:
    """The entries of the folder ``name`` of ``source`` as the build's sources list them (through
    the folder's descriptor, links not followed), or None when it cannot be listed that way (a
    link on the way, not a folder, missing): then the stamp walks it by path, and the build lists it."""
    try:
        if safefiles.kind(source, name) != "dir":
            return None
        return safefiles.list_dir(source, name)
    except (SourceError, OSError, ValueError):
        return None


def _listed(hasher: hashlib._Hash, root: Path, entries: list[safefiles.Entry], latest: dict[int, int]) -> None:
    """What :func:`_tree` adds for ``root``, from its listing ``entries`` (sorted by name, each with
    its stat): the folder's own stat, a line per entry, and what is below each sub-folder."""
    try:
        lines = [f"{root}\0{_fields(os.lstat(root))}\n"]
    except OSError:
        hasher.update(f"{root}\0-\n".encode("utf-8", "surrogateescape"))
        return
    below = []
    for entry in entries:
        found = entry.stat
        if found is None:  # (list_dir gives every entry its stat)
            lines.append(f"{root}/{entry.name}\0gone\n")
            continue
        lines.append(f"{root}/{entry.name}\0{_fields(found)}\n")
        if not stat.S_ISDIR(found.st_mode):
            latest[found.st_dev] = max(latest.get(found.st_dev, 0), found.st_ctime_ns)
        else:
            below.append(root / entry.name)
    hasher.update("".join(lines).encode("utf-8", "surrogateescape"))
    for folder in below:  # (never read by a build that succeeds: a sub-folder there is an error, or hidden)
        _tree(hasher, folder, latest)


def _units_from_outside() -> bool:
    """Whether output units were registered from outside badgekiln in this process (a plugin, a
    test): their code is not in the stamp."""
    units = sys.modules.get("badgekiln.outputs")
    return units is not None and (bool(getattr(units, "_EXTRA", ())) or len(getattr(units, "__path__", ())) != 1)


def _key_folders() -> list[Path]:
    """The folders the private keys and the development keys are read from."""
    return [keypaths.keys_dir(), keypaths.development_keys_dir()]


def _device(path: Path) -> int | None:
    try:
        return os.lstat(path).st_dev
    except OSError:
        return None


def _one(hasher: hashlib._Hash, path: str, latest: dict[int, int]) -> None:
    """Add ``path``'s stat (not following a link) to ``hasher``."""
    try:
        found = os.lstat(path)
    except OSError:
        hasher.update(f"{path}\0-\n".encode("utf-8", "surrogateescape"))
        return
    fields = f"{found.st_mode} {found.st_size} {found.st_mtime_ns} {found.st_ctime_ns} {found.st_ino}"
    hasher.update(f"{path}\0{fields}\n".encode("utf-8", "surrogateescape"))
    _later(latest, found)


def _later(latest: dict[int, int], found: os.stat_result) -> None:
    if not stat.S_ISDIR(found.st_mode):  # (a folder's entries are listed one by one: its own times add nothing)
        latest[found.st_dev] = max(latest.get(found.st_dev, 0), found.st_ctime_ns)


def _fields(found: os.stat_result) -> str:
    if stat.S_ISDIR(found.st_mode):
        return f"{found.st_mode} {found.st_ino} {found.st_dev}"
    return f"{found.st_mode} {found.st_size} {found.st_mtime_ns} {found.st_ctime_ns} {found.st_ino} {found.st_dev}"


def _tree(
    hasher: hashlib._Hash,
    root: Path,
    latest: dict[int, int],
    *,
    depth: int = 1 << 30,
    skip: frozenset[str] | set[str] = frozenset(),
    skip_name: str = "",
) -> None:
    """Add the stat of ``root`` and of everything below it, ``depth`` levels down (links not
    followed; the paths in ``skip`` and entries named ``skip_name`` left out), to ``hasher``, in
    a fixed order."""
    try:
        hasher.update(f"{root}\0{_fields(os.lstat(root))}\n".encode("utf-8", "surrogateescape"))
    except OSError:
        hasher.update(f"{root}\0-\n".encode("utf-8", "surrogateescape"))
        return
    stack = [(str(root), depth)]
    while stack:
        folder, left = stack.pop()
        try:
            with os.scandir(folder) as listed:
                entries = sorted(listed, key=lambda e: e.name)
        except OSError:
            hasher.update(f"{folder}\0unreadable\n".encode("utf-8", "surrogateescape"))
            continue
        for entry in entries:
            if entry.name == skip_name or entry.path in skip:
                continue
            try:
                found = entry.stat(follow_symlinks=False)
            except OSError:
                hasher.update(f"{entry.path}\0gone\n".encode("utf-8", "surrogateescape"))
                continue
            hasher.update(f"{entry.path}\0{_fields(found)}\n".encode("utf-8", "surrogateescape"))
            _later(latest, found)
            if stat.S_ISDIR(found.st_mode) and left > 1:
                stack.append((entry.path, left - 1))


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


def _stats(
    output: Path, folders: list[str], source: Path, known: dict[str, str] | None = None
) -> tuple[str, int, int] | None:
    """A digest of (inode, mtime, ctime) of each of ``folders`` (:func:`outputstamp.digest`) and of
    the files of :data:`KEPT`, with the latest ctime among the folders and among the files; None if
    a folder is gone or is not one."""
    found_folders = outputstamp.digest(output, folders, known)
    if found_folders is None:
        return None
    hasher = hashlib.sha256(found_folders[0].encode())
    kept_latest = 0
    try:
        for rel in KEPT:
            with contextlib.suppress(FileNotFoundError):
                found = os.lstat(source / rel)
                hasher.update(f"{rel}\0{_fields(found)}\n".encode())
                kept_latest = max(kept_latest, found.st_ctime_ns)
    except (OSError, ValueError):  # (ValueError: a NUL in a path)
        return None
    return hasher.hexdigest(), found_folders[1], kept_latest


def forget(source: Path) -> None:
    """Remove the stamp (a build is about to change ``output/`` or the sources)."""
    if _cache_dir_ready(source):
        with contextlib.suppress(OSError):
            os.unlink(cache_dir(source) / NAME)


def record(
    source: Path,
    output: Path,
    before: Inputs,
    report: Report,
    *,
    folders: list[str] | None = None,
    known: dict[str, str] | None = None,
) -> bool:
    """Keep the stamp of a build that just succeeded, under the cache's lock (``before``: its
    inputs, stat-ed before it read them); False when it was not kept (an input changed while it
    was stat-ed, a clock could not be read or did not move on, the cache's folder is not usable).
    ``known``: the times of folders the build did not write in (:func:`outputstamp.record`)."""
    source, output = Path(os.path.abspath(source)), Path(os.path.abspath(output))
    if before.racy or not _cache_dir_ready(source):
        return False
    try:  # (the build's own list, when it has one: walking 100,000 folders took 1.2 s)
        folders = sorted(folders) if folders is not None else _folders(output)
    except OSError:
        return False
    first = _stats(output, folders, source, known)
    if first is None or _device(output.parent) != _device(output):
        return False  # (an output folder that is a mount point: no clock of its own file system to read)
    # The build's last writes must be in an earlier tick than the stat kept: a change after it
    # then gets a later time, on the output's file system and on the source tree's.
    if not (_past(output.parent, first[1]) and _past(cache_dir(source), first[2])):
        return False
    kept = _stats(output, folders, source, known)
    if kept is None:
        return False
    data = {  # ("inputs" first: a replay compares the start of the file before it parses the rest)
        "inputs": before.digest,
        "format": FORMAT,
        "output": kept[0],
        "folders": folders,
        "warnings": list(report.warnings),
        "files": report.files,
        "summary": list(report.summary),
    }
    try:
        safefiles.replace_file(cache_dir(source), NAME, json.dumps(data, separators=(",", ":")).encode("utf-8"))
    except OSError:
        return False
    return True


def replay(source: Path, output: Path, options: dict[str, str | bool | None]) -> tuple[Report | None, Inputs]:
    """What the last build printed, when it would be built again unchanged (else None), and the
    inputs as they are now (for :func:`record` after the build that follows)."""
    from badgekiln.sources import safefiles

    source = Path(os.path.abspath(source))
    rel = f"{outputscan.STATE.parent.as_posix()}/{NAME}"
    if not _cache_dir_ready(source) or safefiles.kind(source, rel) != "file":
        return None, inputs(source, output, options)
    try:
        lock = outputscan.CacheLock(cache_dir(source) / "lock")
    except OSError:
        return None, inputs(source, output, options)
    try:  # (under the lock: a build under way is not half seen)
        now = inputs(source, output, options)
        try:
            raw = safefiles.read_bytes(source, rel, limit=MAX_STAMP_BYTES)
            # Parsed only when it starts with these inputs: a stamp from elsewhere (a committed
            # .badgekiln/) never matches them, and is never parsed.
            if now.racy or not raw.startswith(b'{"inputs":"' + now.digest.encode() + b'"'):
                return None, now
            data = jsonread.loads(raw)
        except Exception:  # noqa: BLE001 - a damaged stamp only means a full build
            return None, now
        if not _well_formed(data) or now.racy or now.digest != data["inputs"]:
            return None, now
        output = Path(os.path.abspath(output))
        found = _stats(output, data["folders"], source)
        if found is None or found[0] != data["output"] or _leftovers(output):
            return None, now
        return Report(tuple(data["warnings"]), data["files"], tuple(data["summary"])), now
    finally:
        lock.close()


def _leftovers(output: Path) -> bool:
    """Whether a build's staging (or retired) folder is next to ``output``: a full build removes
    those a killed build left (engine/site.py, remove_leftovers), a replay would not."""
    prefixes = leftover_prefixes(output)
    try:
        with os.scandir(output.parent) as entries:
            return any(entry.name.startswith(prefixes) for entry in entries)
    except OSError:
        return True


def _well_formed(data: object) -> bool:
    return (
        isinstance(data, dict)
        and data.get("format") == FORMAT
        and isinstance(data.get("inputs"), str)
        and isinstance(data.get("output"), str)
        and type(data.get("files")) is int
        and all(
            isinstance(data.get(k), list) and all(isinstance(v, str) for v in data[k])
            for k in ("folders", "warnings", "summary")
        )
        and all(rel == "" or (_DOTS.isdisjoint(rel.split("/")) and "\0" not in rel) for rel in data["folders"])
    )


_DOTS = frozenset(("", ".", ".."))
