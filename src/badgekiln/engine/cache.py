"""Incremental builds: content-hash keys, a store of the files they produced, and reuse.

A build is split into *groups* of files with known inputs: an award's signed documents, an
award's page, a badge class, the site pages, the signed status list. A group's key is the
SHA-256 of everything its files are made from (the sources it reads, the template texts, the
keys and key ids, the ledger entry, the date-derived status, badgekiln's own code and the
versions of the libraries that shape the bytes). Never file times: a key matches only when
every input is the same, and then the group's files are reused instead of signed and rendered
again, byte for byte what they were.

The files live in a content-addressed store, ``<source>/.badgekiln/cache/blobs/``, and the site
in ``output/`` is made of hard links to them. That makes the unchanged check cheap: an output
file whose inode and size are those of the blob it should be *is* that blob, so a rebuild reads
no file back and writes only the files whose bytes change (:func:`badgekiln.engine.site.update_site`).

Recipient files are the bulk of the sources, and parsing YAML is slow, so each one's validated
result is kept too, keyed on its bytes, the badge classes it can refer to and badgekiln's code
(:meth:`BuildCache.load_project`). ``rm -rf .badgekiln`` forgets everything: the next build is a
clean one, with the same bytes.

The groups of one recipient file's awards are kept together, as one *bundle* with one key (see
:meth:`BuildCache.keep_bundle`): a rebuild that finds a file's bundle key unchanged keeps every
group of it without computing, or even reading, the groups' own keys. At 100,000 awards that is
most of a rebuild's work when one award changes (issue 15).
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import hashlib
import itertools
import json
import os
import re
import shutil
import stat as stat_mod
import subprocess
import sys
from collections.abc import Callable, Iterable
from datetime import date
from functools import partial
from importlib import metadata, resources
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from badgekiln import models
from badgekiln.engine import (
    awardtext,
    bundletexts,
    canoncache,
    heap,
    jsonread,
    outputcompare,
    outputscan,
    outputstamp,
    timings,
    views,
)
from badgekiln.engine.codec import decode, encode
from badgekiln.engine.forking import fork_map
from badgekiln.engine.site import MARKER, Entry, FileRef, SitePlan, pack_files, unpack_files, update_site, write_site
from badgekiln.errors import Diagnostic, SourceError, SourceLocation
from badgekiln.sources import safefiles, validate

# 7: a record's text says which JSON reader reads it back exactly (_record_text); 8: summaries
# (engine/views.py); 9: the records' texts in shard files (engine/bundletexts.py)
FORMAT = 9
CACHE_DIR = outputscan.STATE.parent  # .badgekiln/cache
# Libraries whose versions shape the output bytes (or, for PyYAML, the validated sources).
LIBRARIES = (
    "PyLD",
    "Jinja2",
    "markdown-it-py",
    "nh3",
    "zxing-cpp",
    "cryptography",
    "PyYAML",
    "MarkupSafe",
    "tinycss2",
    "resvg-py",
    "uharfbuzz",
    "fonttools",
    "pillow",
    "orjson",
)  # (tinycss2: the SVG safety verdicts kept with validated badge classes; resvg-py to pillow draw share cards
# and PNGs; orjson writes published JSON)
# An in-place update touches each changed file; past this share a fresh staged site is as cheap.
IN_PLACE_MAX_SHARE = 0.5
ENV_RESTORED = "BADGEKILN_CACHE_RESTORED"  # "1": trust blobs whose bytes match their names, whatever their inodes
# A source file's stat is kept (to skip reading it next time) only when its last change is this
# long before the build: a file written through a shared mmap changes its bytes without new times
# while its page stays dirty (until written back, 30 s by Linux's default), and a write() sets the
# times before it copies the bytes.
SETTLED_NS = 120 * 1_000_000_000
MAX_BLOB_BYTES = 512 * 1024 * 1024  # bytes: no file of a site comes near; a larger "blob" is not hashed
LOOSE = "loose-files"  # a pseudo group: the few small files made on every build


@functools.cache
def code_fingerprint() -> str:
    """A digest of badgekiln's own files (code, templates, contexts) and of the libraries' versions."""
    hasher = hashlib.sha256(f"badgekiln-cache-v{FORMAT}".encode())
    root = resources.files("badgekiln")
    for path in sorted(Path(str(root)).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            # (read in pieces: the fonts, read whole and joined, kept 16 MB more of every build's memory)
            hasher.update(path.relative_to(str(root)).as_posix().encode() + b"\0")
            with path.open("rb") as handle:
                while piece := handle.read(1 << 18):
                    hasher.update(piece)
            hasher.update(b"\0")
    hasher.update(sys.version.encode())
    for name in LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            hasher.update(f"{name}={metadata.version(name)}\0".encode())
    return hasher.hexdigest()


def plain(value: Any) -> Any:
    """``value`` as JSON data for a key: dataclasses by field, without source locations."""
    kind = type(value)
    if value is None or kind in (str, int, bool, float):
        return value
    if kind in (list, tuple):
        return [plain(v) for v in value]
    if kind is dict:
        return {str(k): plain(v) for k, v in value.items()}
    names = awardtext.key_fields(kind)
    if names is not None:
        return {name: plain(getattr(value, name)) for name in names}
    if isinstance(value, (date, Path)):
        return str(value)
    return value


def digest(*parts: Any) -> str:
    """SHA-256 of ``parts`` as canonical JSON: a cache key."""
    return _sha(_json([plain(p) for p in parts]))


def _json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _sha(*texts: str) -> str:
    # JSON escapes control characters, so NUL separates the texts unambiguously.
    return hashlib.sha256("\0".join(texts).encode("utf-8", "surrogatepass")).hexdigest()


def _open_blob(path: str) -> int:
    """An fd of the blob at ``path`` if it is a regular file (a link, a FIFO or a folder put in
    its place is never followed or read)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    if not stat_mod.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path} is not a regular file")
    return fd


def _holds_bytes(path: str, content: bytes) -> bool:
    try:
        with open(_open_blob(path), "rb") as handle:
            return handle.read(len(content) + 1) == content
    except OSError:
        return False


# A new blob: created, never opened through a link or over a file already at its name.
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


def _write_all(fd: int, content: bytes) -> None:
    """Write all of ``content`` to ``fd`` (os.write may write less than it is given)."""
    view = memoryview(content)
    while view:
        view = view[os.write(fd, view) :]


class BlobStore:
    """Files named by the SHA-256 of their bytes. A blob is written once and never modified."""

    def __init__(self, root: Path):
        self.root = root
        self.blobs = self._prefix = str(root) + os.sep  # (what a plan's stored files name: see SitePlan)
        self._folders: set[str] = set()
        self.damaged: set[str] = set()  # blobs found replaced by something that is not a regular file

    def path(self, sha: str) -> str:
        """Where the blob ``sha`` is kept (a string: there are many)."""
        return f"{self._prefix}{sha[:2]}{os.sep}{sha[2:]}"

    def put(self, content: bytes) -> tuple[str, int, int]:
        """Store ``content``; returns its (sha256, size, inode)."""
        sha = hashlib.sha256(content).hexdigest()
        path = self.path(sha)
        if sha[:2] not in self._folders:
            os.makedirs(self._prefix + sha[:2], exist_ok=True)
            self._folders.add(sha[:2])
        try:  # most blobs are new: create it (O_EXCL: never through a link or over what is at that name)
            fd = os.open(path, _CREATE, 0o666)
        except FileExistsError:
            return self._put_again(sha, path, content)
        try:  # (a blob cut short, the build killed here, has the wrong size: inode() then ignores it)
            _write_all(fd, content)
            return sha, len(content), os.fstat(fd).st_ino
        finally:
            os.close(fd)

    def _put_again(self, sha: str, path: str, content: bytes) -> tuple[str, int, int]:
        """Store ``content`` whose name is taken: kept if the blob there holds those bytes, else replaced."""
        ino = self.inode(sha, len(content))
        if ino is not None and _holds_bytes(path, content):  # (compared: the store may have been tampered with)
            return sha, len(content), ino
        tmp = f"{path}.{os.getpid()}.tmp"  # a damaged blob: replace it whole
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        with open(tmp, "xb") as handle:  # (x: never through a link left at that name)
            handle.write(content)
        if stat_mod.S_ISDIR(os.lstat(path).st_mode):  # a folder where the blob should be
            self.damaged.add(sha)
            shutil.rmtree(path)  # (does not follow links inside it)
        os.replace(tmp, path)
        return sha, len(content), os.lstat(path).st_ino

    def inode(self, sha: str, size: int) -> int | None:
        """The blob's inode if it is there, a regular file, with the expected size."""
        try:
            stat = os.lstat(self.path(sha))
        except OSError:
            return None
        if not stat_mod.S_ISREG(stat.st_mode):  # a link, a folder or a FIFO put there: never used
            self.damaged.add(sha)
            return None
        return stat.st_ino if stat.st_size == size else None

    def holds(self, sha: str) -> bool:
        """Whether the blob ``sha`` really has those bytes (read and hashed: for a restored cache)."""
        try:
            with open(_open_blob(self.path(sha)), "rb") as handle:
                if os.fstat(handle.fileno()).st_size > MAX_BLOB_BYTES:  # (size first: never hash a huge file)
                    return False
                return hashlib.file_digest(handle, "sha256").hexdigest() == sha
        except OSError:
            return False

    def adopt(self, sha: str, existing: Path, size: int) -> None:
        """Make ``existing`` (an output file known to hold these bytes, ``size`` of them) the blob
        ``sha`` again, in place of whatever is at its name (a blob cut short, the build that
        wrote it killed, must not be linked into the site)."""
        os.makedirs(self._prefix + sha[:2], exist_ok=True)
        path = self.path(sha)
        tmp = f"{path}.{os.getpid()}.adopt"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        os.link(existing, tmp)
        with contextlib.suppress(FileNotFoundError):
            if stat_mod.S_ISDIR(os.lstat(path).st_mode):  # a folder where the blob should be
                self.damaged.add(sha)
                shutil.rmtree(path)
        os.replace(tmp, path)

    def remove(self, shas: Iterable[str]) -> None:
        """Delete blobs no longer used (a file of output/ linked to one keeps its bytes)."""
        for sha in shas:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path(sha))


_HEX64 = re.compile(r"[0-9a-f]{64}")


def bundle_text(groups: Iterable[tuple[str, list[Any]]]) -> str:
    """Groups (name, [key, packed]) as a bundle's text: a line each, "name TAB key TAB packed"."""
    return "\n".join(f"{name}\t{group[0] or ''}\t{group[1]}" for name, group in groups)


def bundle_groups(text: str | None) -> dict[str, list[Any]] | None:
    """The groups of a bundle's text, each checked as the state's groups are; None if any is
    damaged, or the text could not be read (None)."""
    if text is None:
        return None
    groups: dict[str, list[Any]] = {}
    if not text:
        return groups
    for line in text.split("\n"):
        parts = line.split("\t")
        if len(parts) != 3:
            return None
        name, key, packed = parts
        if (
            not name.startswith("award/")
            or not (key == "" or _HEX64.fullmatch(key))
            or not _PACKED_RE.fullmatch(packed)
        ):
            return None
        groups[name] = [key or None, packed]
    return groups


def recorded_groups(root: Path) -> dict[str, list[Any]]:
    """Every group the state in the cache folder ``root`` records (name -> [key, packed]), those
    kept in bundles included (a bundle whose text is damaged records none)."""
    state = jsonread.loads((root / "state.json").read_bytes())
    groups = dict(state.get("groups", {}))
    texts = bundletexts.Texts(root, state.get("shards", {}))
    for bundle in state.get("bundles", {}):
        groups.update(bundle_groups(texts.text(bundle)) or {})
    return groups


def bundle_files(text: str) -> int:
    """How many files a bundle's text records (counted, not parsed)."""
    if not text:
        return 0
    lines = text.count("\n") + 1
    empty = text.count("\t\n") + text.endswith("\t")  # (a group that made no file)
    return text.count(";") + lines - empty


TRIM_BYTES = 32 << 20  # characters of bundle texts let go between two returns of the freed heap (engine/heap.py)
TRIM_AFTER_PLAN = 4 << 20  # ... let go in all for one more return after the plan, before the workers fork


class CacheRecordDamaged(Exception):
    """A bundle kept without reading it turned out damaged when its files were needed: the build
    starts again without the cache's state (see ``commands/build.py``)."""

    def __init__(self, bundle: str):
        super().__init__(bundle)
        self.bundle = bundle


class BuildCache:
    """The cache of one source tree, opened (and locked) for one build into one output folder."""

    def __init__(self, root: Path, output: Path, scanner: outputscan.Scanner | None = None):
        self.root, self.output = root, output
        # A cache restored from an archive (CI): its files have new inodes, so each blob a build
        # reuses is read and hashed once instead (see README, "Incremental builds in CI").
        self.restored = os.environ.get(ENV_RESTORED, "") == "1"
        self.store = BlobStore(root / "blobs")
        # The scanner, when the command started one, took the lock before it looked at output/.
        early_lock = scanner.lock if scanner is not None else None
        self._lock = early_lock or outputscan.CacheLock(root / "lock")
        self.warnings: list[Diagnostic] = []  # the cache was damaged: said once, then built without it
        state, self._state_sha, problem, self._saved = _read_state(root / "state.json")
        if problem:
            self.warnings.append(_damaged(f"{CACHE_DIR.as_posix()}/state.json", problem))
        self._groups: dict[str, list[Any]] = state.get("groups", {})
        self._plain = dict(self._groups)  # the groups the state keeps outside bundles
        # recipient file -> [bundle key, files]: its awards' groups' key and how many files they made
        # (see keep_bundle); the groups themselves are kept in shard files (engine/bundletexts.py)
        self._bundles: dict[str, list[Any]] = state.get("bundles", {})
        self._shards: dict[str, str] = state.get("shards", {})
        self._texts = bundletexts.Texts(root, self._shards)
        self._sources: dict[str, list[Any]] = state.get("sources", {})
        # the texts of the sources' records (_record_text), in shard files as the bundles' are
        self._record_shards: dict[str, str] = state.get("record_shards", {})
        self._record_texts = bundletexts.Texts(root, self._record_shards, bundletexts.RECORDS)
        # the file of canonicalization templates the state was saved with (engine/canoncache.py)
        self._canon_read: Any = state.get("canon") if canoncache.record_ok(state.get("canon")) else None
        self.canon_record: Any = None if self.restored else self._canon_read  # (a restored one is not this machine's)
        # What every bundle key of the build that saved the state held but its file's record
        # (keys.UnitKeys.bundle_context), and this build's, set by the plan
        self._bundle_context_read: list[Any] | None = _bundle_context(state.get("bundle_context"))
        self.bundle_context: list[Any] | None = None
        self._reused_sources: set[str] = set()  # source files whose record this build took as it was
        self._new_texts: dict[str, str] = {}  # the texts of the records of the files validated in this build
        self.new_groups: dict[str, list[Any]] = {}
        self.new_bundles: dict[str, list[Any]] = {}  # bundles kept whole
        self._bundle_keys: dict[str, str | None] = {}  # bundles made again (some groups reused): their new keys
        self._in_bundle: dict[str, str] = {}  # group -> the bundle it is kept in
        self._opened: set[str] = set()  # bundles whose groups were read into _groups
        self._trim = heap.Budget(TRIM_BYTES)
        # recipient file -> (its record's identity, its values, the digest of its awards' statuses)
        self._identity: dict[str, tuple[str, tuple[Any, ...], str | None]] = {}
        self._lazy: list[views.LazyRecipient] = []  # the recipients handed back from their summaries
        self.on_made: Callable[[], None] | None = None  # called for each group made (progress on a terminal)
        self.new_sources: dict[str, list[Any]] = {}
        # Source files read too soon after their last change for their stat to be kept (see
        # _file_keys), to be read once more when this build saves, if settled by then (_settle):
        # (the site, the folder, the keys' context, the folder's prefix in the site; file -> its ctime)
        self._unsettled: list[tuple[Path, Path, str, str, dict[str, int]]] = []
        self._fresh = not state or bool(problem)  # no usable record: blobs of older versions may be lying around
        # ... unless the store holds nothing yet (a first build): then every blob is this build's.
        self._store_was_empty = self._fresh and _no_entries(self.store.root)
        # No group recorded, so none to reuse: the files made are compared with output/ when it is
        # written (_write), not as they are recorded. Listed in this process during the make, the
        # 1.3 million files of a 100,000-award site (about 0.4 GB) were copied into every worker
        # forked after it (a full rebuild after an upgrade peaked at 1.75 GB); listed at write, they
        # were its peak (1.29 GB): outputcompare.py compares without a listing.
        self._compare_at_write = not self._groups and not self._bundles
        self.stats = {"reused": 0, "made": 0, "badges_reused": 0, "recipients_reused": 0}
        self._unchanged: list[str] = []  # planned files that output/ already holds
        self._kept: list[str] = []  # groups reused without listing their files (output/ is intact)
        self._kept_bundles: list[str] = []  # bundles kept the same way
        # Scanning output/ waits on the file system: another process does it while the sources are
        # validated here, and compares it with what the last build left there (outputscan.py).
        self._present: dict[str, tuple[int, int] | None] | None = None
        self._intact: bool | None = None
        # (with nothing to reuse, the scan's answer is not needed: a scan begun by the command is
        # stopped now, unread, its process, 70 MB at 100,000 awards, having lived through the make)
        self._scanner: outputscan.Scanner | None = None
        if not self._compare_at_write:
            self._scanner = scanner or outputscan.Scanner(root / "state.json", output)
        elif scanner is not None:
            scanner.discard()
        self._folders: set[str] | None = None  # the folders of output/, when the scan knew them
        self._folder_lines: dict[str, str] = {}  # and their outputstamp.lines, as the scan found them
        self._folder_list: list[str] | None = None  # the folders as the scan listed them (sorted)
        self._touched: set[str] = set()  # folders of output/ this build wrote in (see stamp_output)
        self._saved_sha: str | None = None  # the SHA-256 of the state this build saved (see stamp_output)
        self._damaged_bundle = False  # a bundle's text was found damaged (see _open)
        self.output_written = False  # write() has updated output/

    def _scanned(self) -> None:
        if self._intact is not None:
            return
        if self._scanner is None:  # compared with output/ at write (outputcompare.py), not listed
            self._intact, self._present, self._marker = False, None, None
            return
        try:
            with timings.phase("output scan (wait)"):
                found = self._scanner.result()
        except OSError:  # the folder changed under the scan (the lock keeps other builds out): list it here
            found = outputscan.Scan(None, False, None, None)
        # Intact means: as the state this build read records (the scan read it under the same lock).
        self._intact = found.intact and bool(self._groups) and found.state_sha == self._state_sha
        self._present, self._marker = found.listing, found.marker
        self._folders = set(found.folders) if self._intact and found.folders is not None else None
        self._folder_list = found.folders if self._folders is not None else None  # (sorted: see output_folders)
        if self._folders is not None and found.lines is not None and len(found.lines) == len(found.folders or ()):
            self._folder_lines = dict(zip(found.folders or (), found.lines))
        if self._present is None and not self._intact and not self._compare_at_write:
            self._present = outputscan.list_files(self.output)  # (compared at write: outputcompare.py)

    @property
    def intact(self) -> bool:
        """Whether ``output/`` holds exactly the files the last build recorded (by inode and size).

        Then a group whose key did not change is in ``output/`` already, file for file, and is
        reused without looking at its files: a rebuild's cost follows what changed, not the size
        of the site.
        """
        self._scanned()
        return bool(self._intact)

    @property
    def present(self) -> dict[str, tuple[int, int] | None]:
        """What the output folder holds now: relative path -> (inode, size); None: not a plain file."""
        self._scanned()
        if self._present is None:  # intact, so the scanner did not send it: it is the last build's record
            self._present = {
                rel: (ino, size) for group in self._groups.values() for rel, _, size, ino in unpack_files(group[1])
            }
            for bundle in self._bundles.keys() - self._opened:  # (an opened one's groups are in _groups)
                for group in (bundle_groups(self._texts.text(bundle)) or {}).values():
                    self._present.update((rel, (ino, size)) for rel, _, size, ino in unpack_files(group[1]))
            self._present[MARKER] = self._marker
        return self._present

    @classmethod
    def open(
        cls,
        source: Path,
        output: Path,
        scanner: outputscan.Scanner | None = None,
        *,
        warnings: list[Diagnostic] | None = None,
    ) -> BuildCache | None:
        """The cache below ``source``, or None when it must not be trusted (committed to git) or
        cannot be used safely (a link or a file where its folders are: said in ``warnings``).

        ``scanner``: a scan of ``output`` started earlier (:func:`badgekiln.engine.outputscan.start`).
        """
        root = source / CACHE_DIR
        if _tracked_by_git(source, CACHE_DIR.parts[0]):
            return None
        problem = _folder_problem(source)
        if problem is None:
            _remove_odd_files(source, warnings)
            try:
                root.mkdir(parents=True, exist_ok=True)
                problem = _folder_problem(source)  # (mkdir follows a link made in the meantime: look again)
                if problem is None:
                    return cls(root, output.absolute(), scanner)
            except OSError:  # a read-only source tree: build without a cache
                return None
        if warnings is not None:  # never write through a link or into a damaged store: build without it
            warnings.append(_damaged(problem[0], problem[1]))
        return None

    def close(self) -> None:
        """Release the lock."""
        if self._scanner is not None:
            self._scanner.close()  # ends the scanning process
        self._lock.close()

    # -- bundles: the groups of one recipient file -------------------------------------------------

    def source_identity(self, rel: str, value: Any) -> str | None:
        """What names the validated record of source file ``rel`` that this build used, if ``value``
        is the very model this cache handed back or kept for it (a model changed afterwards, by
        ``site_src/members.csv`` or a CPD log, is not): the same record means an equal model."""
        found = self._kept_for(rel, value)
        return found[0] if found is not None else None

    def damaged_record(self) -> views.Damaged | None:
        """A record that this build handed back from its summary and that is not what the summary
        says (every such recipient is decoded: see :func:`views.damaged`), or None."""
        return views.damaged(self._lazy)

    def source_statuses(self, rel: str, value: Any) -> str | None:
        """The digest of the awards of recipient file ``rel`` as the "awards" part of the unit
        keys reads them (:func:`statuses_text`), kept in its record, under the same rule as
        :meth:`source_identity`; else None."""
        found = self._kept_for(rel, value)
        return found[2] if found is not None else None

    def _kept_for(self, rel: str, value: Any) -> tuple[str, tuple[Any, ...], str | None] | None:
        """What this build knows of recipient file ``rel``'s record, if ``value`` is one of the very
        models made from it."""
        found = self._identity.get(rel)
        if found is None or not found[1]:
            return None
        return found if found[1][0] is value or any(v is value for v in found[1]) else None

    def keep_bundle(self, bundle: str, key: str | None) -> bool:
        """Keep every group of ``bundle`` (a recipient file's awards) as the last build left them,
        when its key is the same and ``output/`` is intact; False: plan its groups one by one.

        The key (:meth:`badgekiln.engine.keys.UnitKeys.bundle`) covers everything the groups' own
        keys cover, so an unchanged bundle key means unchanged group keys. The groups' text is not
        even read: it goes back into the state as it was.
        """
        old = self._bundles.get(bundle)
        if key is None or old is None or old[0] != key or bundle in self._opened or not self.intact:
            return False
        self.new_bundles[bundle] = old
        self._kept_bundles.append(bundle)
        self.stats["bundles_kept"] = self.stats.get("bundles_kept", 0) + 1
        return True

    @property
    def bundle_context_read(self) -> list[Any] | None:
        """The ``bundle_context`` of the build that saved the state this build read, if any."""
        return self._bundle_context_read

    def kept_bundle_key(self, bundle: str) -> str | None:
        """The key the last build gave ``bundle``, when this build took its file's record as that
        build left it and the file holds one recipient: then its key is the same, if the rest of
        what it holds is (:meth:`badgekiln.engine.keys.UnitKeys.same_bundle_context`, which the
        caller asks). None otherwise: the key is computed."""
        if bundle not in self._reused_sources:
            return None
        found, old = self._identity.get(bundle), self._bundles.get(bundle)
        if found is None or len(found[1]) != 1 or old is None or type(old[0]) is not str:
            return None
        return old[0]

    def opened_many(self) -> bool:
        """Whether this build let go of at least :data:`TRIM_AFTER_PLAN` of bundle texts (see engine/heap.py)."""
        return self._trim.total >= TRIM_AFTER_PLAN

    def open_bundle(self, bundle: str, key: str | None) -> None:
        """Plan ``bundle``'s groups one by one (:meth:`reuse`, :meth:`record` with ``bundle``); it is
        kept under ``key`` with the groups this build gives it."""
        self._bundle_keys[bundle] = key
        self._groups.update(self._open(bundle))

    def _open(self, bundle: str) -> dict[str, list[Any]]:
        """The groups of the last build's ``bundle`` (each read once); none if it is damaged (said)."""
        old = self._bundles.get(bundle)
        if old is None or bundle in self._opened:
            return {}
        self._opened.add(bundle)
        text = self._texts.take(bundle)  # (read once: the groups hold it from here)
        groups = bundle_groups(text)
        if text is not None:  # (let go once parsed: its holes in the heap are given back, see engine/heap.py)
            self._trim.spent(len(text))
        del text
        # (a group named in two bundles, which no build records: merged, one would hide the
        # other's files from `present`, which takes an opened bundle's groups from _groups)
        if groups is None or not self._groups.keys().isdisjoint(groups):
            self._say_damaged(bundle)
            return {}
        return groups

    def _say_damaged(self, bundle: str) -> None:
        """``bundle``'s record is damaged: its groups are made again. A file of it that no group
        makes stays in output/ until the next build, which lists output/ (this one records no
        folder times: see stamp_output) and removes every file no record names."""
        self._damaged_bundle = True
        self.warnings.append(
            Diagnostic(
                "warning",
                "cache-damaged",
                f"the build cache's record of {bundle[:80]!r} is damaged: its files are made again",
                SourceLocation(f"{CACHE_DIR.as_posix()}/{bundletexts.FOLDER}"),
                "the next build also looks at every file of the output folder; "
                "delete .badgekiln/ if this warning comes back",
            )
        )

    # -- groups ----------------------------------------------------------------------------------

    def reuse(self, plan: SitePlan, name: str, key: str, bundle: str | None = None) -> bool:
        """Add the files group ``name`` made under ``key`` to ``plan``; False when they must be made.

        ``bundle``: the bundle the group is kept in (opened with :meth:`open_bundle`), made or not.
        """
        if bundle is not None:
            self._in_bundle[name] = bundle
        old = self._groups.get(name)
        if old is None or old[0] != key:
            return False
        if self.intact:
            self._kept.append(name)
            self.new_groups[name] = old
            self.stats["reused"] += 1
            return True
        present = self.present
        in_output = []
        files = unpack_files(old[1])
        moved = False  # blobs found with other inodes (a cache restored from an archive) and re-hashed
        for number, (rel, sha, size, ino) in enumerate(files):
            # The output file, or else the blob, must be the very file made then (same inode).
            if present.get(rel) == (ino, size):
                in_output.append(rel)
                continue
            blob = self.store.inode(sha, size)
            if blob != ino:
                if blob is None or not self.restored or not self.store.holds(sha):
                    return False
                files[number], moved = (rel, sha, size, blob), True
                if present.get(rel) == (blob, size):  # restored with its hard link to the blob
                    in_output.append(rel)
        self.new_groups[name] = group = [key, pack_files(files)] if moved else old
        plan.add_stored(self.store.blobs, group[1])
        self._unchanged.extend(in_output)
        self.stats["reused"] += 1
        return True

    def store_group(self, plan: SitePlan, name: str, key: str | None, made: SitePlan) -> None:
        """Put the files of ``made`` (a group just produced) in the store and in ``plan``."""
        with timings.phase("units/secret scan"):
            made.check_no_secrets()
        entries = []
        with timings.phase("units/store"):
            for rel, content in made.files.items():
                if isinstance(content, FileRef):  # (a unit's plan holds bytes it made)
                    raise TypeError(f"{rel}: a group just made refers to a cached file")
                entries.append((rel, *self.store.put(content)))
        with timings.phase("plan/make/record"):
            self.record(plan, name, key, entries)

    def record(self, plan: SitePlan, name: str, key: str | None, entries: list[Entry]) -> None:
        """Add stored files (from :meth:`store_group`, maybe in another process) to ``plan``."""
        packed = pack_files(entries)
        plan.add_stored(self.store.blobs, packed)  # (the record's own text: see SitePlan)
        old = self._groups.get(name)
        self.new_groups[name] = [key, packed]
        if self._compare_at_write:
            pass
        elif self.intact:  # output/ holds the files of the group's last version
            before = set(unpack_files(old[1])) if old else set()
            self._unchanged.extend(entry[0] for entry in entries if entry in before)
        else:
            present = self.present
            self._unchanged.extend(rel for rel, _, size, ino in entries if present.get(rel) == (ino, size))
        self.stats["made"] += 1
        if self.on_made is not None:
            self.on_made()

    def memo(self, plan: SitePlan, name: str, key: str, produce: Callable[..., None], *args: Any) -> None:
        """``produce(plan, *args)``, or the files it made last time under the same ``key``."""
        if not self.reuse(plan, name, key):
            made = SitePlan(secrets=plan.secrets)
            produce(made, *args)
            self.store_group(plan, name, key, made)

    # -- writing ---------------------------------------------------------------------------------

    def write(self, plan: SitePlan) -> dict[str, int]:
        """Write ``plan`` to the output folder, touching only the files whose bytes change."""
        counts = self._write(plan)
        self.output_written = True  # (from here on a failure to save leaves output/ new, its record old)
        return counts

    def _write(self, plan: SitePlan) -> dict[str, int]:
        loose = SitePlan(secrets=plan.secrets)
        for rel, content in list(plan.files.items()):
            if not isinstance(content, FileRef):
                loose.files[rel] = content
                del plan.files[rel]
        self.store_group(plan, LOOSE, None, loose)
        plan.check_paths()  # (before output/ or its record changes; the writers find it checked)
        self._scanned()  # (the scan has read the folders' record: it goes before output/ changes)
        outputstamp.forget(self.root)
        self._open_dropped()
        # A record found damaged: which files of output/ it named is not known, so output/ is
        # listed, and every file no group of this build makes is removed (as after a failed scan).
        damaged = self._damaged_bundle and self._present is None
        if damaged:
            self._present = outputscan.list_files(self.output)
        if self._kept or self._kept_bundles:
            counts = None if damaged else self._write_around_kept(plan)
            if counts is not None:
                return counts
            self._unkeep_bundles()
            for name in self._kept:  # too much changed to update in place: list every file after all
                packed = self._groups[name][1]
                plan.add_stored(self.store.blobs, packed)
                self._unchanged.extend(entry[0] for entry in unpack_files(packed))
            self._kept.clear()
        if self._compare_at_write and not damaged:  # (no group was reused: every file was made now)
            if not outputcompare.case_blind(self.output):
                return self._write_compared(plan)
            # A file system that finds a name in any case (macOS's, Windows' by default): a file
            # whose name changed only in case would be found under its old name and kept so.
            # Compared with the listing, name for name, as before outputcompare.py.
            self._present = outputscan.list_files(self.output)
            for group in self.new_groups.values():
                self._unchanged.extend(
                    rel for rel, _, size, ino in unpack_files(group[1]) if self._present.get(rel) == (ino, size)
                )
        present = self.present
        unchanged = set(self._unchanged)  # files output/ holds already: their inode and size are the blob's
        paths = set(plan.paths()) if present else set()
        stale = present.keys() - paths - {MARKER}
        total = plan.count()
        if len(unchanged) == total and not stale and MARKER in present:
            return {"files": total, "written": 0, "linked": total}  # output/ is the site already
        in_place = (
            MARKER in present
            and None not in present.values()
            and total - len(unchanged) <= IN_PLACE_MAX_SHARE * total
            and _folders(present).isdisjoint(paths)
        )  # a file where a folder is: start afresh
        # (let go of the listing before the files are written and the state saved: at 100,000
        # awards it is 1.3 million files, and no later step of a build reads it)
        del paths, present
        self._present = None
        if in_place:
            update_site(
                plan, self.output, unchanged=unchanged, stale=stale, folders=self._folders, touched=self._touched
            )
        else:
            self._folders = None  # (restaged: listed when the record is made)
            if unchanged:  # linked from the blobs: a blob deleted by hand comes back from output/
                # (each group unpacked in turn, only the unchanged files kept: all of them at once
                # were the largest thing a clean build held, a third of a GB at 100,000 awards)
                for group in self.new_groups.values():
                    for rel, sha, size, _ in unpack_files(group[1]):
                        if rel in unchanged and self.store.inode(sha, size) is None:
                            self.store.adopt(sha, self.output / rel, size)
            write_site(plan, self.output)
        return {"files": total, "written": total - len(unchanged), "linked": len(unchanged)}

    def _write_compared(self, plan: SitePlan) -> dict[str, int]:
        """Write ``plan``, every file of it made by this build, comparing it with ``output/`` file
        by file without listing it (:mod:`badgekiln.engine.outputcompare`)."""
        self._present = None  # (a listing the scan sent, output/ not being as a record says: not needed)
        total = plan.count()
        found = outputcompare.compare(plan, self.output, int(IN_PLACE_MAX_SHARE * total))
        in_place = found.marker and not found.fresh
        if in_place and found.unchanged == total and not found.stale:
            return {"files": total, "written": 0, "linked": total}  # output/ is the site already
        if in_place and found.changed is not None:
            # (the marker is in no plan's changed files, so update_site keeps it as it is: output/
            # was accepted only with the marker's exact text, see site.check_output_dir)
            changed = frozenset(found.changed)
            update_site(
                plan,
                self.output,
                unchanged=_AllBut(changed),
                stale=found.stale,
                folders=self._folders,
                touched=self._touched,
            )
        else:
            self._folders = None  # (restaged: listed when the record is made)
            write_site(plan, self.output)
        return {"files": total, "written": total - found.unchanged, "linked": found.unchanged}

    def _open_dropped(self) -> None:
        """Read the groups of the last build's bundles that this build neither kept nor opened (their
        recipient file is gone): their files are stale. (Under names of their own: a group of the
        same name in another bundle, an award moved between files, is another record.)"""
        for bundle in self._bundles.keys() - self.new_bundles.keys() - self._opened:
            for name, group in self._open(bundle).items():
                self._groups[f"{bundle}\0{name}"] = group

    def _unkeep_bundles(self) -> None:
        """Turn the kept bundles into bundles planned group by group, each group kept as it was."""
        for bundle in self._kept_bundles:
            key = self._bundles[bundle][0]
            groups = bundle_groups(self._texts.text(bundle))
            if groups is None:  # (kept unread: its files cannot be told now; the build starts afresh)
                raise CacheRecordDamaged(bundle)
            del self.new_bundles[bundle]
            self._opened.add(bundle)
            self._bundle_keys[bundle] = key
            for name, group in groups.items():
                self._groups[name] = self.new_groups[name] = group
                self._in_bundle[name] = bundle
                self._kept.append(name)
        self._kept_bundles.clear()

    def _write_around_kept(self, plan: SitePlan) -> dict[str, int] | None:
        """Update an intact ``output/`` in place, knowing the kept groups' files by count only;
        None when that is not the way (too much changed, or a file goes where a folder is)."""
        kept = sum(self._groups[name][1].count(";") + 1 for name in self._kept if self._groups[name][1])
        kept += sum(self._bundles[bundle][1] for bundle in self._kept_bundles)
        unchanged = set(self._unchanged)
        made = set(plan.paths())
        changed = made - unchanged
        # The files of the groups not kept (made again, or gone) that this build does not make.
        stale = {
            entry[0]
            for name, group in self._groups.items()
            if self.new_groups.get(name) is not group
            for entry in unpack_files(group[1])
        } - made
        total = kept + len(made)
        if not changed and not stale:
            return {"files": total, "written": 0, "linked": total}  # output/ is the site already
        if len(changed) > IN_PLACE_MAX_SHARE * total or any(os.path.isdir(self.output / rel) for rel in changed):
            return None
        update_site(plan, self.output, unchanged=unchanged, stale=stale, folders=self._folders, touched=self._touched)
        return {"files": total, "written": len(changed), "linked": total - len(changed)}

    def save(self) -> None:
        """Remember this build's groups and sources; delete the blobs nothing uses any more."""
        if self.store.damaged:
            self.warnings.append(
                _damaged(
                    f"{CACHE_DIR.as_posix()}/blobs",
                    f"{len(self.store.damaged)} cached file(s) "
                    "were replaced by a link, folder or special file; they were made again",
                )
            )
        self._open_dropped()
        with timings.phase("cache save/settle sources"):
            self._settle()
        plain: dict[str, list[Any]] = {}
        lines: dict[str, list[tuple[str, list[Any]]]] = {}
        for name, group in self.new_groups.items():
            bundle = self._in_bundle.get(name)
            if bundle is None:
                plain[name] = group
            else:
                lines.setdefault(bundle, []).append((name, group))
        bundles = dict(self.new_bundles)
        shards = self._save_shards(bundles, lines)
        record_shards = self._save_record_shards()
        if (
            not self._fresh
            and plain == self._plain
            and bundles == self._bundles
            and shards == self._shards
            and record_shards == self._record_shards
            and self.new_sources == self._sources
            and self.canon_record == self._canon_read
            and self.bundle_context == self._bundle_context_read
        ):
            self._saved_sha = self._state_sha
            if not self._saved and self._state_sha is not None:  # (its digest lost, or not this state's)
                self._save_digest(self._state_sha)
            bundletexts.remove_unused(self.root, shards.values())  # (what a build killed after its save left)
            bundletexts.remove_unused(self.root, record_shards.values(), bundletexts.RECORDS)
            return  # nothing new to remember, no blob to delete
        tmp = self.root / f".state.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        with open(tmp, "xb") as handle:  # (x: never through a link left at that name)
            hashing = _Hashing(handle)
            _write_state(
                hashing,
                plain,
                bundles,
                self.new_sources,
                shards,
                record_shards,
                canon=self.canon_record,
                bundle_context=self.bundle_context,
            )
        os.replace(tmp, self.root / "state.json")
        self._saved_sha = hashing.hasher.hexdigest()
        self._save_digest(self._saved_sha)
        bundletexts.remove_unused(self.root, shards.values())
        bundletexts.remove_unused(self.root, record_shards.values(), bundletexts.RECORDS)
        if self._store_was_empty:  # every blob was made by this build, for a group it records
            stale = set()
        elif self._fresh:  # blobs of earlier versions, or of builds that failed, may be lying around
            self._remove_unused_blobs()
            return
        else:  # the blobs of the groups made again, or gone, but those the same groups hold now
            changed = [name for name, group in self._groups.items() if self.new_groups.get(name) is not group]
            stale = {e[1] for name in changed for e in unpack_files(self._groups[name][1])}
            stale -= {
                e[1] for name in changed if name in self.new_groups for e in unpack_files(self.new_groups[name][1])
            }
        if stale:
            # (the kept bundles' texts are not searched: reading them is what keeping them saves. A
            # blob of a changed group is another's only when the two files have the same bytes, and
            # a build that needs a blob deleted while output/ holds its file adopts it back, as it
            # does a blob deleted by hand; see write)
            # Every sha is a whole word of a record ("path sha size inode;..."), so a blob still
            # used is never deleted (a path that happened to read as a sha would only keep one).
            # Record by record: the records joined into one text and split into a set of its
            # words were the peak of a rebuild that makes every page again (about 450 MB at
            # 100,000 awards).
            for group in self.new_groups.values():
                if group[1]:
                    stale.difference_update(group[1].split(" "))
                    if not stale:
                        break
            self.store.remove(stale)

    def _settle(self) -> None:
        """Keep the stat of the source files that were too recent to trust when this build read
        them (:data:`SETTLED_NS`) and have settled since: each is read once more, now, under the
        same rule with the clock of now, and its stat kept if its bytes are still those this build
        validated. Without it the next build reads them all again (at 100,000 awards, the first
        rebuild after a clean build of sources written just before it read 27,000 files, cold
        from disk after the 14 GB of output: 2.6 s). A short build settles nothing, and a build
        from a restored cache neither: the next one is restored too (CI), and trusts no stat."""
        if not self._unsettled or self.restored:
            return
        now, device = outputstamp.clock(self.root), self._clock[1] if self._clock else None
        if now is None or device is None:  # (none is unsettled without a clock: see _file_keys)
            return
        for root, folder, base, prefix, unsettled in self._unsettled:
            names = [name for name, ctime in unsettled.items() if ctime < now - SETTLED_NS]
            if not names:
                continue
            stats: dict[str, list[Any] | None] = {}
            keys = _file_keys(root, folder, names, base, stats=stats, clock=(now, device))
            for name in names:
                rel = prefix + name
                record, settled = self.new_sources.get(rel), stats.get(name)
                if settled is not None and type(record) is list and len(record) == 8 and record[5] is None:
                    if keys[name] != record[0]:
                        continue  # (changed since it was validated: the next build reads it)
                    self.new_sources[rel] = [*record[:5], settled, *record[6:]]
        self._unsettled = []

    def _remove_unused_blobs(self) -> None:
        """After a build that started afresh (no record of the last build's groups, or a damaged
        one): delete every blob of the store that no group of this build names, folder by folder.

        A blob is known by the first 128 bits of its SHA-256: two blobs that share them are both
        kept (a stale blob kept costs only its disk). The names used are gathered by folder (their
        first byte, the folder's two digits), 16 bytes each in one buffer per folder, and each
        folder's are made a set only while that folder is looked at: a set of every name was 77 MB
        at the end of the full rebuild an upgrade brings to a 100,000-award site, its peak (the
        buffers: 15 MB); before that, the store's names and the records' words, each as a set,
        were 1 GB."""
        # (by the first byte of the names, not the two digits as written: a file system blind to
        # case, macOS's or Windows', may list as "5F" the folder the store reaches as "5f"; only
        # whole prefixes, 16 bytes: one shorter would shift every later name of its buffer)
        used: dict[int, bytearray] = {}
        for group in self.new_groups.values():
            if group[1]:
                for part in group[1].split(";"):
                    prefix = bytes.fromhex(part.split(" ", 2)[1][:32])
                    if len(prefix) == 16:
                        names = used.get(prefix[0])
                        if names is None:
                            used[prefix[0]] = names = bytearray()
                        names += prefix
        for folder in _entries(self.store.root):
            if not (len(folder.name) == 2 and folder.is_dir(follow_symlinks=False)):
                continue
            first = _hex_prefix(folder.name)  # (not popped: a case-sensitive one may hold "5f" and "5F")
            packed = bytes(used.get(first[0], b"")) if first else b""
            kept = {packed[start : start + 16] for start in range(0, len(packed), 16)}
            for blob in _entries(Path(folder.path)):
                name = folder.name + blob.name
                if len(name) == 64 and _hex_prefix(name) not in kept:
                    with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
                        os.unlink(blob.path)

    def _save_digest(self, sha: str) -> None:
        """Keep the SHA-256 of the state just saved beside it (:data:`STATE_DIGEST`): the next
        build reads a state of those bytes without checking its records one by one (see
        :func:`_state_problem`). Written after the state: a build killed between the two leaves a
        digest that is not the state's, and the next build checks it all."""
        with contextlib.suppress(OSError):  # (lost, the next build only checks the state's records one by one)
            safefiles.replace_file(self.root, STATE_DIGEST, sha.encode("ascii"))

    def _save_record_shards(self) -> dict[str, str]:
        """Write the shard files of the sources' texts that change: those of the files validated in
        this build, or gone; returns every shard of the state to save (shard -> SHA-256). A record
        whose text was lost with a damaged shard is forgotten (its file is validated again)."""
        shard_of = bundletexts.shard_of
        gone = self._sources.keys() - self.new_sources.keys()
        touched = {shard_of(rel) for rel in (*self._new_texts, *gone)}
        shards = {shard: sha for shard, sha in self._record_shards.items() if shard not in touched}
        if not touched:
            return shards
        members: dict[str, dict[str, str]] = {shard: {} for shard in touched}
        for rel, record in list(self.new_sources.items()):  # (27,000 names hashed, when a file changed: 0.03 s)
            if record[1] is not None:
                continue  # (a badge class's text: kept in the state)
            shard = shard_of(rel)
            if shard not in members:
                continue
            text = self._new_texts.get(rel)
            if text is None:
                text = self._record_texts.text(rel)
            if text is None:  # (its shard is damaged or lacks it)
                del self.new_sources[rel]
                self.warnings.append(
                    Diagnostic(
                        "warning",
                        "cache-damaged",
                        f"the build cache's record of {rel[:80]!r} is damaged: the file is validated again",
                        SourceLocation(f"{CACHE_DIR.as_posix()}/{bundletexts.RECORDS}"),
                        "delete .badgekiln/ if this warning comes back",
                    )
                )
                continue
            members[shard][rel] = text
        for shard, texts in sorted(members.items()):
            if texts:
                shards[shard] = bundletexts.write_shard(self.root, texts, bundletexts.RECORDS)
        return shards

    def _save_shards(
        self, bundles: dict[str, list[Any]], lines: dict[str, list[tuple[str, list[Any]]]]
    ) -> dict[str, str]:
        """Write the shard files that change: those of the bundles made again (their groups in
        ``lines``), added or gone; returns every shard of the state to save (shard -> SHA-256).
        ``bundles`` (the records kept whole) gains the records of the bundles made again."""
        shard_of = bundletexts.shard_of
        gone = self._bundles.keys() - self.new_bundles.keys() - self._bundle_keys.keys()
        members: dict[str, list[str]] = {shard_of(bundle): [] for bundle in (*self._bundle_keys, *gone)}
        shards = {shard: sha for shard, sha in self._shards.items() if shard not in members}
        if members:
            for bundle in (*self.new_bundles, *self._bundle_keys):
                shard = shard_of(bundle)
                if shard in members:
                    members[shard].append(bundle)
        for shard, names in sorted(members.items()):
            # (a shard's texts are made and written in turn: all of them at once were 150 MB at 100,000 awards)
            texts: dict[str, str] = {}
            for bundle in names:
                text: str | None
                if bundle in self._bundle_keys:
                    text = bundle_text(lines.get(bundle, ()))
                    bundles[bundle] = [self._bundle_keys[bundle], bundle_files(text)]
                else:  # kept whole: its text as the last build saved it
                    text = self._texts.text(bundle)
                    if text is None:  # (its shard is damaged: forget the bundle, its files are made again)
                        del bundles[bundle]
                        self._say_damaged(bundle)
                        continue
                texts[bundle] = text
            if texts:
                shards[shard] = bundletexts.write_shard(self.root, texts)
        return shards

    def output_folders(self) -> list[str] | None:
        """The folders of ``output/`` as this build left them (relative, "" itself), when it knows
        them (an in-place update of an output whose folders were recorded); else None."""
        if self._folders is None or self._damaged_bundle:
            return None
        listed = self._folder_list  # (the scan's sorted list: the folders before this build wrote)
        if listed is not None and "" in self._folders:
            # Only folders the update wrote in (touched: each above a file written or removed)
            # can have been made or removed: the scan's list with those put right, instead of
            # sorting 100,000 names (0.05 s of a rebuild that adds an award at 100,000 awards).
            found = _with_changes(listed, self._folders, self._touched)
            if len(found) == len(self._folders) and self._folders.issuperset(found):
                return found
        return sorted(self._folders | {""})

    def stamp_output(self) -> None:
        """Record the folders of ``output/`` with the state just saved, for the next build's scan
        (:mod:`badgekiln.engine.outputstamp`); after :meth:`save`. Not after a build that found a
        record damaged: the next one lists output/ and removes what no record names."""
        if self._damaged_bundle:
            outputstamp.forget(self.root)
            return
        if self._saved_sha is not None:
            outputstamp.record(self.root, self.output, self._saved_sha, self.output_folders(), self.untouched_folders())

    def let_go(self) -> None:
        """After :meth:`save` and :meth:`stamp_output`: drop the records of the last build and of
        this one. What the end of the build still reads is kept: the identities of the sources'
        records (the build summary), the lazy recipients (a damaged record is still told), the
        folders of ``output/`` (the stamp). The build summary then reads the last build's view
        (about 40 MB at 100,000 awards) into the memory the records held instead of adding it to
        the build's peak."""
        self._groups, self._plain, self._bundles = {}, {}, {}
        self.new_groups, self.new_bundles, self._bundle_keys, self._in_bundle = {}, {}, {}, {}
        self._sources, self.new_sources, self._new_texts = {}, {}, {}
        self._unchanged, self._kept, self._kept_bundles = [], [], []
        self._reused_sources = set()

    def untouched_folders(self) -> dict[str, str] | None:
        """The :func:`outputstamp.lines` of the folders of ``output/`` this build did not write in,
        as the scan at its start found them (when they were as the last record had them)."""
        if self._folders is None or self._damaged_bundle or not self._folder_lines:  # (as output_folders)
            return None
        known = dict(self._folder_lines)  # (a copy, less the few touched: not a pass over 100,000 folders)
        for name in self._touched:
            known.pop(name, None)
        return known

    # -- sources ---------------------------------------------------------------------------------

    def load_project(
        self,
        source: Path,
        *,
        base_url: str | None,
        today: date,
        listings: dict[str, list[safefiles.Entry]] | None = None,
        clock: tuple[int, int] | None = None,
    ) -> validate.Loaded:
        """:func:`badgekiln.sources.validate.load_project` with this cache as its memo of validated files.

        ``listings``: folders of the sources as listed before the build (by the stamp,
        :class:`badgekiln.engine.stamp.Inputs`), used instead of listing them again, when
        ``clock`` is the clock of this cache's folder read before that listing."""
        if listings and clock is not None and "_clock" not in self.__dict__:
            self.__dict__["_clock"] = clock  # (the cached property's value: the listing's stats were taken after it)
        else:
            listings = None
        _ = self._clock  # (read before any source file is stat-ed, the listing's stats included: see _file_keys)
        return validate.load_project(source, base_url=base_url, today=today, memo=self, listings=listings)

    def files(
        self,
        kind: str,
        folder: Path,
        names: list[str],
        context: Any,
        validate_one: Callable[[Path], validate.FileResult],
        today: date | None,
        listed: dict[str, os.stat_result] | None = None,
    ) -> list[validate.FileResult]:
        """The validation of each file ``names`` names in ``folder``, a folder of the sources
        (:class:`badgekiln.sources.validate.SourceMemo`). ``listed``: stats of some of them as
        their folder's listing found them (not taken again).

        A file's result is reused when its bytes, the ``context`` it was validated in, badgekiln's
        code and the files it read are the same, and every date of it compares with ``today`` as it
        did with the day it was validated on. The rest are validated, on every core when many
        (parsing YAML is the slow part of a clean build's start). Results with errors are not kept.
        """
        base = digest(code_fingerprint(), kind, context)
        day = today.isoformat() if today else ""
        results: list[validate.FileResult | None] = []
        fresh: list[tuple[int, str, str | None]] = []
        root = folder.parent
        prefix = folder.name + "/"  # (a folder at the top of the sources: see _file_keys)
        stats: dict[str, list[Any] | None] = {}
        unsettled: dict[str, int] = {}
        with timings.phase(f"sources/{kind}: hash"):
            if names:
                sources = self._sources
                known = None if self.restored else {name: sources.get(prefix + name) for name in names}
                keys = _file_keys(
                    root,
                    folder,
                    names,
                    base,
                    known=known,
                    stats=stats,
                    clock=self._clock,
                    listed=listed,
                    unsettled=unsettled,
                )
            else:
                keys = {}
        if unsettled:
            self._unsettled.append((root, folder, base, prefix, unsettled))
        lazy, reused_count = self._lazy, 0
        for name in names:
            rel = prefix + name
            key = keys[name]
            reused = _reuse(
                self._sources.get(rel),
                key,
                day,
                root,
                _KINDS.get(kind),
                rel,
                self._record_texts.take,  # (read once, when a recipient is decoded; see views)
                saved=self._saved,
            )
            if reused is not None:
                results.append(reused)
                self._reused_sources.add(rel)
                old = self._sources[rel]
                # (the record as it was; with the file's stat of this build when that changed, its bytes not)
                self.new_sources[rel] = (
                    old if _stat_of(old) == stats.get(name) else [*old[:5], stats.get(name), *old[6:]]
                )
                if kind == "recipients":
                    self._identity[rel] = (_record_identity(old), reused.values, old[6])
                    for value in reused.values:
                        if type(value) is views.LazyRecipient:
                            lazy.append(value)
                reused_count += 1
            else:
                results.append(None)
                fresh.append((len(results) - 1, rel, key))
        self.stats[f"{kind}_reused"] = self.stats.get(f"{kind}_reused", 0) + reused_count
        with timings.phase(f"sources/{kind}: validate"):
            made = fork_map(
                validate_one,
                [folder / names[index] for index, _, _ in fresh],
                phase=f"sources/{kind}: validate (workers)",
            )
        # Keys of the files again, after validation: a file saved meanwhile was perhaps validated
        # in one version and hashed in another, so its result is not kept.
        after = _file_keys(root, folder, [names[index] for index, _, _ in fresh], base) if fresh else {}
        for (index, rel, key), result in zip(fresh, made):
            results[index] = result
            if key is not None and after.get(names[index]) == key and not any(d.is_error for d in result.diagnostics):
                # The files it read, with the SHA-256 of the very bytes validation checked.
                # (a recipient file's text is kept in its shard file, read only to decode it: see
                # _save_record_shards; a badge class's, read on every rebuild, in the state)
                text = _record_text(result)
                if kind == "recipients":
                    self._new_texts[rel] = text
                self.new_sources[rel] = [
                    key,
                    None if kind == "recipients" else text,
                    day,
                    result.latest_day.isoformat() if result.latest_day else None,
                    [[read, sha] for read, sha in result.reads],
                    stats.get(names[index]),
                    _sha(statuses_text(result.values)) if kind == "recipients" else None,
                    views.summary_text(result) if kind == "recipients" else None,
                ]
                if kind == "recipients":
                    self._identity[rel] = (
                        _record_identity(self.new_sources[rel]),
                        result.values,
                        self.new_sources[rel][6],
                    )
        return [result for result in results if result is not None]

    @functools.cached_property
    def _clock(self) -> tuple[int, int] | None:
        """The clock of the cache folder's file system and its device, read once per build, before
        the first source file is stat-ed (see :func:`_file_keys`); None if it cannot be read."""
        now = outputstamp.clock(self.root)
        try:
            return (now, os.lstat(self.root).st_dev) if now is not None else None
        except OSError:
            return None


def _bundle_context(found: Any) -> list[Any] | None:
    """A state's ``bundle_context`` (:meth:`badgekiln.engine.keys.UnitKeys.bundle_context`) when it
    is one: a digest, a length and a digest; None for anything else (then no bundle key is taken
    from the state without being computed)."""
    if (
        type(found) is list
        and len(found) == 3
        and type(found[0]) is str
        and type(found[1]) is int
        and found[1] >= 0
        and type(found[2]) is str
    ):
        return found
    return None


def _stat_of(record: Any) -> list[Any] | None:
    """The file's stat and bytes' SHA-256 a record of the state keeps (see :func:`_file_keys`), or None."""
    return record[5] if type(record) is list and len(record) == 8 else None


def statuses_text(values: Iterable[Any]) -> str:
    """What the "awards" part of the unit keys (:meth:`badgekiln.engine.keys.UnitKeys._awards`)
    reads of each award of the recipients among ``values``, a line each: its id, issue date,
    revocation and suspension. Exact: the id as ``repr``, the date in ISO, the ``repr`` of the
    revocation and the suspension (or None), which quote their texts."""
    return "\n".join(
        f"award {a.id!r} {a.issued_on.isoformat()} {a.revoked!r} {a.suspended!r}"
        for value in values
        if isinstance(value, models.Recipient)
        for a in value.awards
    )


def _record_identity(record: list[Any]) -> str:
    """What makes a validated record the one it is, but its encoded values (which follow from it):
    the file's key, the day it was validated on, its latest date, the files it read."""
    return _sha(record[0], record[2], str(record[3]), repr(record[4]))


_KINDS = {"badges": models.BadgeClass, "recipients": models.Recipient}  # what each kind of file's values are


def _record_text(result: validate.FileResult) -> str:
    """A validated file's result as JSON text (:func:`encode`, then :func:`jsonread.exact_text`),
    kept as one string (in its shard file, or a badge class's in its record): a rebuild keeps the
    records of unchanged files as they were, instead of encoding every value of them again."""
    return jsonread.exact_text(encode(result))


_record_value = jsonread.exact_value  # (a record's text, read back by the reader it names)


def _reuse(
    old: Any,
    key: str | None,
    day: str,
    root: Path,
    kind: type | None,
    rel: str = "",
    text_of: Callable[[str], str | None] = lambda rel: None,
    *,
    saved: bool = False,
) -> validate.FileResult | None:
    """The result kept in ``old`` (a record of ``state.json``) if it may be used again, else None.
    ``text_of``: the record's text (:func:`_record_text`) by its file ``rel``, from its shard file.

    A recipient file's result is handed back from its summary (:func:`views.lazy_result`): its
    recipients read and decode the record's text only when something reads their awards. Every
    read of the record is guarded: a damaged one (cut short, of the wrong types, too deep, its
    text lost with its shard) only means the file is validated again. ``saved``: the state is
    the one the last build saved (see :func:`_state_problem`): the summary's rows are as written.
    """
    if key is None or old is None:
        return None
    try:
        if not (
            old[0] == key
            and _same_dates(old[2], old[3], day)
            and all(_file_sha(root, read) == sha for read, sha in old[4])
        ):
            return None
        if kind is models.Recipient and type(old[7]) is str:
            reads = tuple((read, sha) for read, sha in old[4])
            lazy = views.lazy_result(rel, old[7], partial(text_of, rel), _record_value, reads, saved=saved)
            if lazy is not None:
                return lazy
        text = old[1] if type(old[1]) is str else text_of(rel)
        if text is None:
            return None
        reused = decode(_record_value(text))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError):
        return None
    if type(reused) is not validate.FileResult or any(type(value) is not kind for value in reused.values):
        return None
    return reused


class _Hashing:
    """A file being written, and the SHA-256 of what was written to it."""

    def __init__(self, handle: BinaryIO):
        self.handle, self.hasher = handle, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.hasher.update(data)
        return self.handle.write(data)


STATE_PIECE = 4096  # records per piece of state.json written at once


def _write_state(
    handle: BinaryIO | _Hashing,
    groups: dict[str, Any],
    bundles: dict[str, Any],
    sources: dict[str, Any],
    shards: dict[str, str] | None = None,
    record_shards: dict[str, str] | None = None,
    *,
    canon: Any = None,
    bundle_context: list[Any] | None = None,
) -> None:
    """Write the state (the JSON object ``_read_state`` reads) a few thousand records at a time.

    The state of a 100,000-award site is about 41 MB (its bundles' texts are in shard files, see
    engine/bundletexts.py; with them it was 200 MB, and made as one text, encoded once more to be
    written, it was the largest thing a build held at its end). It goes through orjson, which
    writes what :func:`json.loads` reads back the same, several times as fast. The records of
    validated sources keep their results' texts (:func:`_record_text`, 27 MB at 100,000 awards)
    in shard files (see :meth:`BuildCache._save_record_shards`), and their summaries here
    (``engine/views.py``), which every rebuild reads.
    """
    head = {
        "format": FORMAT,
        "fingerprint": code_fingerprint(),
        "shards": dict(sorted((shards or {}).items())),
        "record_shards": dict(sorted((record_shards or {}).items())),
    }
    if canon is not None:  # (the canonicalization templates' file: see engine/canoncache.py)
        head["canon"] = canon
    if bundle_context is not None:  # (see keys.UnitKeys.bundle_context)
        head["bundle_context"] = bundle_context
    handle.write(orjson.dumps(head)[:-1])
    for name, records, dumps in (
        ("groups", groups, _dumps),
        ("bundles", bundles, _dumps),
        ("sources", sources, _sources_dumps),
    ):
        handle.write(b',"' + name.encode() + b'":{')
        items = iter(records.items())
        separator = b""
        while piece := dict(itertools.islice(items, STATE_PIECE)):
            handle.write(separator + dumps(piece)[1:-1])
            separator = b","
        handle.write(b"}")
    handle.write(b"}")


def _dumps(data: dict[str, Any]) -> bytes:
    """``data`` (texts only) as compact JSON; by the json module when orjson refuses it (a file
    name that is not UTF-8 holds surrogates, which JSON can only escape)."""
    try:
        return orjson.dumps(data)
    except TypeError:  # (orjson.JSONEncodeError is one)
        return _json_dumps(data)


def _sources_dumps(records: dict[str, Any]) -> bytes:
    """Records of validated sources as compact JSON (texts, 64-bit numbers, None and lists of
    them: their results' texts are in shard files), by orjson; by the json module when orjson
    refuses it (a lone surrogate in a name; a number past 64 bits in a damaged record)."""
    return _dumps(records)


def _json_dumps(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    """The entries of ``folder`` (none if it cannot be listed)."""
    try:
        with os.scandir(folder) as found:
            return list(found)
    except OSError:
        return []


def _hex_prefix(name: str) -> bytes | None:
    """The first 128 bits of a blob's name (a SHA-256 in hex), or None for a name that is not hex."""
    try:
        return bytes.fromhex(name[:32])
    except ValueError:
        return None


def _no_entries(folder: Path) -> bool:
    """Whether ``folder`` is missing or empty (one entry read, never the whole listing)."""
    try:
        with os.scandir(folder) as entries:
            return next(entries, None) is None
    except OSError:
        return not os.path.lexists(folder)


def _file_sha(source: Path, rel: str) -> str | None:
    """The SHA-256 of a source file (safely: no link, regular, size checked first); None if unreadable."""
    try:
        return safefiles.sha256(source, rel, limit=validate.MAX_ASSET_BYTES)
    except (SourceError, OSError, TypeError):
        return None


def _file_keys(
    source: Path,
    folder: Path,
    files: list[str],
    context: str,
    *,
    known: dict[str, Any] | None = None,
    stats: dict[str, list[Any] | None] | None = None,
    clock: tuple[int, int] | None = None,
    listed: dict[str, os.stat_result] | None = None,
    unsettled: dict[str, int] | None = None,
) -> dict[str, str | None]:
    """Each file's key, by name (``files``: names of files in ``folder``): ``context`` and the
    SHA-256 of its bytes (read safely, the folder opened once); None for a file that cannot be
    read (validation reports it).

    ``known``: each file's record in the last build's state. A file whose stat (size, mtime,
    ctime, inode, device) is the one its record keeps is not read: the SHA-256 kept with it is
    its bytes' (git's index does the same). ``stats`` gets, for each file, its stat (taken before
    it was read) and SHA-256 for the next build, or None when its ctime is not :data:`SETTLED_NS`
    before ``clock`` (the file system's clock when this build began, and its device: a change
    within the same tick could keep every time the same, git's "racily clean" rule, and a change
    through a shared mmap can keep them for as long as its page stays dirty), or it is not a
    regular file on the clock's file system, or ``clock`` is None. ``listed``: stats already
    taken (the folder's listing, after ``clock`` was read), used instead of taking them again.
    ``unsettled`` gets the ctime of each file read whose stat was not kept only for being too
    recent (a regular file on the clock's file system).
    """
    keys: dict[str, str | None] = dict.fromkeys(files)
    if not files:
        return keys
    try:
        opened = safefiles.Folder(source, folder.relative_to(source).as_posix())
    except (SourceError, OSError):
        return keys
    with opened:
        for name in files:
            found = ((listed.get(name) if listed else None) or opened.stat(name)) if stats is not None else None
            now = _stat_fields(found) if found is not None else None
            kept = _stat_of(known.get(name)) if known is not None and now is not None else None
            if stats is not None and kept is not None and kept[:5] == now:  # (kept[5]: a SHA-256, see _state_problem)
                keys[name] = _sha(context, kept[5])  # (its bytes as recorded: not read)
                stats[name] = kept
                continue
            with contextlib.suppress(SourceError, OSError):
                data = opened.read_bytes(name, limit=validate.MAX_ASSET_BYTES)
                sha = hashlib.sha256(data).hexdigest()
                keys[name] = _sha(context, sha)
                if stats is not None:
                    trusted = (
                        found is not None
                        and clock is not None
                        and found.st_dev == clock[1]
                        and found.st_ctime_ns < clock[0] - SETTLED_NS
                    )
                    stats[name] = [*now, sha] if trusted and now is not None else None
                    if not trusted and now is not None and unsettled is not None and found is not None:
                        if clock is not None and found.st_dev == clock[1]:
                            unsettled[name] = found.st_ctime_ns
    return keys


def _stat_fields(found: os.stat_result) -> list[int] | None:
    """What a record keeps of a file's stat; None when it is not a regular file."""
    if not stat_mod.S_ISREG(found.st_mode):
        return None
    return [found.st_size, found.st_mtime_ns, found.st_ctime_ns, found.st_ino, found.st_dev]


def _same_dates(then: str, latest: str | None, today: str) -> bool:
    """Whether every comparison of a file's dates (the latest is ``latest``) with ``today`` comes out
    as it did on the day ``then`` it was validated."""
    return then == today or latest is None or (latest < then and latest < today)


# -- files ---------------------------------------------------------------------------------------

MAX_STATE_BYTES = outputscan.MAX_STATE_BYTES
_SEGMENT = r"(?!\.\.?[/ ])[A-Za-z0-9_.@-]+"  # a path segment of the site, never '.' or '..'
_ENTRY = rf"{_SEGMENT}(?:/{_SEGMENT})* [0-9a-f]{{64}} [0-9]{{1,15}} [0-9]{{1,20}}"
_PACKED_RE = re.compile(rf"(?:{_ENTRY}(?:;{_ENTRY})*)?")  # what site.pack_files writes


STATE_DIGEST = "state.sha256"  # beside state.json: the SHA-256 of the state the last build saved


def _read_state(path: Path) -> tuple[dict[str, Any], str | None, str | None, bool]:
    """The state of the last build, if this version of badgekiln wrote it, the file's SHA-256, why
    it was not used when it is damaged (a warning: the build then starts afresh), and whether it
    is the very state the last build saved (:func:`_saved_digest`: then its records are not
    checked one by one, see :func:`_state_problem`)."""
    try:
        data = safefiles.read_bytes(path.parent, path.name, limit=MAX_STATE_BYTES)
    except SourceError as exc:
        if safefiles.kind(path.parent, path.name) is None:
            return {}, None, None, False  # no state yet: a first build
        return {}, None, str(exc), False
    try:
        state = jsonread.loads(data)
    except (ValueError, RecursionError):
        return {}, None, "it is not valid JSON (cut short?)", False
    if not isinstance(state, dict):  # (every version wrote an object)
        return {}, None, "it is not a JSON object", False
    if state.get("format") != FORMAT or state.get("fingerprint") != code_fingerprint():
        return {}, None, None, False  # written by another version of badgekiln: not an error
    sha = outputscan.state_sha(data)
    # (a cache restored from an archive is checked as promised, the digest archived with it too)
    saved = sha == _saved_digest(path.parent) and os.environ.get(ENV_RESTORED, "") != "1"
    problem = _state_problem(state, saved=saved)
    if problem:
        return {}, None, problem, False
    return state, sha, None, saved


def _saved_digest(root: Path) -> str | None:
    """The SHA-256 of the state the last build saved, as it kept it beside the state (see
    :meth:`BuildCache.save`), or None."""
    try:  # (a regular file reached without a link, of a bounded size)
        return safefiles.read_bytes(root, STATE_DIGEST, limit=64).decode("ascii")
    except (OSError, SourceError, UnicodeDecodeError):
        return None


def _state_problem(state: dict[str, Any], *, saved: bool = False) -> str | None:
    """What is wrong with the shape of a state this version wrote, or None.

    ``saved``: the state's bytes are those the last build saved (their SHA-256 is the one it kept
    beside them). Then the records of its sources are as that build wrote them (the checks below
    are for a state damaged since, or cut short): each is only looked at as a whole (a list of
    its length) and for the files it says it read (a rebuild reads them): at 100,000 awards the
    full checks of 27,000 records took 0.1 s of every rebuild. The cache is trusted as the build wrote
    it (README, "The build cache"); a state altered and its digest with it is no longer that."""
    groups, bundles, sources = state.get("groups"), state.get("bundles"), state.get("sources")
    shards, record_shards = state.get("shards"), state.get("record_shards")
    if not (
        isinstance(groups, dict)
        and isinstance(bundles, dict)
        and isinstance(sources, dict)
        and isinstance(shards, dict)
        and isinstance(record_shards, dict)
    ):
        return "'groups', 'bundles', 'sources', 'shards' and 'record_shards' must be objects"
    for shard, sha in (*shards.items(), *record_shards.items()):  # (the files are checked when read: bundletexts)
        if not (bundletexts.SHARD_RE.fullmatch(shard) and isinstance(sha, str) and bundletexts.SHA_RE.fullmatch(sha)):
            return f"the record of shard {shard[:80]!r} is damaged"
    for rel, record in sources.items() if saved else ():
        if not _saved_record_ok(record):
            return f"the record of {rel[:80]!r} is damaged"
    for name, bundle in bundles.items():  # (their texts are checked when read: see bundle_groups)
        if not (
            isinstance(bundle, list)
            and len(bundle) == 2
            and (bundle[0] is None or isinstance(bundle[0], str))
            and type(bundle[1]) is int
            and bundle[1] >= 0
        ):
            return f"the record of {name[:80]!r} is damaged"
    for name, group in groups.items():
        if not (
            isinstance(group, list)
            and len(group) == 2
            and (group[0] is None or isinstance(group[0], str))
            and isinstance(group[1], str)
            and _PACKED_RE.fullmatch(group[1])
        ):
            return f"the record of group {name[:80]!r} is damaged"
    for rel, record in sources.items() if not saved else ():
        if not (isinstance(record, list) and record and isinstance(record[0], str)):
            return f"the record of {rel[:80]!r} is damaged"
        # [key, the encoded FileResult as JSON text (None: in its shard file), the day it was validated, its latest date,
        #  [[file read, sha], ...], the file's [size, mtime, ctime, inode, device, sha256] or None,
        #  the SHA-256 of its awards' statuses_text (None for a badge class's file), its summary
        #  (views.summary_text; None for a badge class's file, or when it has none)]
        if not (
            len(record) == 8
            and (record[1] is None or isinstance(record[1], str))
            and (record[7] is None or isinstance(record[7], str))
            and (record[6] is None or (isinstance(record[6], str) and _HEX64.fullmatch(record[6])))
            and (
                record[5] is None
                or (
                    type(record[5]) is list
                    and len(record[5]) == 6
                    and all(type(n) is int for n in record[5][:5])
                    and type(record[5][5]) is str
                    and _HEX64.fullmatch(record[5][5])
                )
            )
            and isinstance(record[2], str)
            and (record[3] is None or isinstance(record[3], str))
            and isinstance(record[4], list)
            and _reads_ok(record[4])
        ):
            return f"the record of {rel[:80]!r} is damaged"
    return None


def _saved_record_ok(record: Any) -> bool:
    """The types a source's record in a saved state must have for a rebuild to read it without a
    traceback (a state altered with its digest: see :func:`_state_problem`), and the files it
    read: what the full check looks at but its texts' patterns, in a few looks."""
    return (
        type(record) is list
        and len(record) == 8
        and type(record[0]) is str
        and type(record[2]) is str
        and type(record[4]) is list
        and (not record[4] or _reads_ok(record[4]))
        and (record[5] is None or (type(record[5]) is list and len(record[5]) == 6 and type(record[5][5]) is str))
    )


def _reads_ok(reads: list[Any]) -> bool:
    """Whether a source's record names, as the files it read, [file of site_src/, SHA-256 or None] pairs."""
    return all(
        isinstance(read, list)
        and len(read) == 2
        and isinstance(read[0], str)
        and read[0].startswith("site_src/")
        and not {".", "..", ""} & set(read[0].split("/"))
        and (read[1] is None or isinstance(read[1], str))
        for read in reads
    )


def _damaged(where: str, problem: str) -> Diagnostic:
    return Diagnostic(
        "warning",
        "cache-damaged",
        f"the build cache is damaged and is not used: {problem}",
        SourceLocation(where),
        "this build starts afresh; delete .badgekiln/ to silence this warning",
    )


def _folder_problem(source: Path) -> tuple[str, str] | None:
    """Why the cache's folders cannot be written safely (a link or a file where a folder must be,
    in ``blobs/`` too), as (where, what); None when they are fine or not there yet."""
    where = ""
    for part in CACHE_DIR.parts:
        where = f"{where}/{part}".lstrip("/")
        found = safefiles.kind(source, where)
        if found is None:
            return None
        if found != "dir":
            return where, f"'{where}' is {'a symbolic link' if found == 'link' else 'not a folder'}"
    for part in (bundletexts.FOLDER, bundletexts.RECORDS, "blobs"):  # (each made when first written)
        found = safefiles.kind(source, f"{where}/{part}")
        if found not in (None, "dir"):
            return f"{where}/{part}", f"'{where}/{part}' is {'a symbolic link' if found == 'link' else 'not a folder'}"
    where = f"{where}/blobs"
    if found is None:  # (found: what blobs/ is)
        return None
    try:
        entries = safefiles.list_dir(source, where)
    except (SourceError, OSError) as exc:
        return where, str(exc)
    for entry in entries:
        if entry.kind != "dir" or len(entry.name) != 2:
            what = "a symbolic link" if entry.kind == "link" else "not one of its folders"
            return f"{where}/{entry.name}", f"'{where}/{entry.name}' is {what}"
    return None


def _remove_odd_files(source: Path, warnings: list[Diagnostic] | None) -> None:
    """A link, FIFO or folder in place of the cache's lock or state (a FIFO would block whoever
    opens it) is removed: it is inside the cache's own folder, and unlinking follows nothing."""
    for name in ("lock", "state.json"):
        where = f"{CACHE_DIR.as_posix()}/{name}"
        found = safefiles.kind(source, where)
        if found in (None, "file"):
            continue
        with contextlib.suppress(OSError):
            if found == "dir":
                shutil.rmtree(source / where)
            else:
                os.unlink(source / where)
        if warnings is not None:
            warnings.append(
                _damaged(
                    where, f"'{where}' was {'a symbolic link' if found == 'link' else 'not a regular file'} (removed)"
                )
            )


class _AllBut:
    """Every path but those of a set (what update_site may skip: all but the files that changed)."""

    def __init__(self, paths: frozenset[str]):
        self._paths = paths

    def __contains__(self, path: object) -> bool:
        return path not in self._paths


def _with_changes(listed: list[str], now: set[str], touched: Iterable[str]) -> list[str]:
    """``listed`` (sorted) with each of ``touched`` that is in ``now`` and not in it put in its
    place, and each that is in it and not in ``now`` taken out: still sorted."""
    found = list(listed)
    for name in sorted(touched):
        at = bisect.bisect_left(found, name)
        there = at < len(found) and found[at] == name
        if name in now and not there:
            found.insert(at, name)
        elif there and name not in now:
            del found[at]
    return found


def _folders(paths: Iterable[str]) -> set[str]:
    """Every folder (relative path) that holds one of ``paths``."""
    folders: set[str] = set()
    for rel in paths:
        while "/" in rel:
            rel = rel.rsplit("/", 1)[0]
            if rel in folders:
                break
            folders.add(rel)
    return folders


def committed(source: Path) -> bool:
    """Whether git tracks files of the cache folder (``.badgekiln``): then it is not used."""
    return _tracked_by_git(source, CACHE_DIR.parts[0])


def _tracked_by_git(source: Path, name: str) -> bool:
    """Whether git tracks files under ``name``: a committed cache could hold anyone's bytes."""
    if not (source / name).exists():
        return False
    try:
        listed = subprocess.run(["git", "-C", str(source), "ls-files", "--", name], capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return listed.returncode == 0 and bool(listed.stdout.strip())
