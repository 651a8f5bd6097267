"""What many groups are made from, kept in the cache from one build to the next (issue 15).

A badge class's share-card base (:data:`badgekiln.outputs.share_cards.SHARED`, a
:class:`badgekiln.outputs.Shared`) takes about 0.13 s to draw, and a rebuild that adds, revokes
or suspends one award drew it again for that award's card: a tenth of such a rebuild at 100,000
awards (and a badge's SVG artwork drawn as a PNG, :data:`badgekiln.outputs.RASTERS`, 0.03 s).
Each value a :class:`~badgekiln.outputs.Shared` can write as bytes (``dump``) is kept in
``.badgekiln/cache/shared/``, in a file named ``<key>.<mac>``: ``key`` the SHA-256 of badgekiln's
code fingerprint, the Shared's name and its ``identity`` of the value (for a base: the artwork's
digest, the badge's name, the issuer, the host, the accent colour), ``mac`` an HMAC-SHA256 of the
key and the file's bytes. The next build reads it back (``load``) instead of making it.

Trust. Everything that names a file can be computed by anyone (the code, the public sources), so
the name proves nothing of who wrote the file: the HMAC does. Its key is derived from the site's
private key numbers (:func:`badgekiln.engine.canoncache.mac_key`), which a build that signs holds
and a writer of the cache (a planted file, a pull request's build, an archive restored in CI)
does not; a build without private keys of its own keeps nothing. A file is read only as a
regular file below the cache folder, reached without a link (:mod:`badgekiln.sources.safefiles`),
of at most :data:`MAX_BYTES`, when its HMAC holds for its key and bytes and no other file claims
the key; ``load`` then refuses anything that is not what ``dump`` writes (a base: a 1200x630
PNG of a base's palette). Never from a cache restored from an archive
(``BADGEKILN_CACHE_RESTORED=1``), as the canonicalization templates (engine/canoncache.py). A
file refused is written over when the value is made again.

At most :data:`MAX_FILES` files are kept: past that, the ones this build neither read nor wrote
go, the least recently used first (a file read is touched; one dated ahead of the clock, which
no build wrote, before any); temporary files of a build killed
while it wrote one go too (the cache's lock says no other build is writing).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import stat as stat_mod
import time
from pathlib import Path

from badgekiln.errors import SourceError
from badgekiln.sources import safefiles

FOLDER = "shared"  # in the cache's folder
MAX_BYTES = 4 * 1024 * 1024  # (a base is tens of KB: its artwork's colours over white)
MAX_FILES = 2048  # (a base per badge class: a site of more classes draws the rest again)
_HEX64 = re.compile(r"[0-9a-f]{64}")  # each half of a kept file's name (anything else there is not read)


class Kept:
    """The kept values of one cache folder (``root``), for builds of the code ``fingerprint``.
    ``mac_key``: the HMAC's key (:func:`badgekiln.engine.canoncache.mac_key`); None keeps nothing."""

    def __init__(self, root: Path, fingerprint: str, *, restored: bool, mac_key: bytes | None):
        self.root, self.fingerprint, self.restored, self.mac_key = root, fingerprint, restored, mac_key
        self._files: dict[str, list[str]] | None = None  # key -> the files that claim it
        self._stale: list[str] = []  # temporary files left by a build killed while it wrote
        self._used: set[str] = set()  # files this build read or wrote (never pruned by it)
        self._refused: set[str] = set()  # keys whose file was not read (written over when made)
        self._written = False

    def key(self, name: str, identity: str) -> str:
        """The key of the value ``identity`` of the Shared named ``name``."""
        return hashlib.sha256(f"{self.fingerprint}\0{name}\0{identity}".encode()).hexdigest()

    def _mac(self, key: str, data: bytes) -> str:
        assert self.mac_key is not None
        return hmac.new(
            self.mac_key, b"badgekiln shared v1\0" + key.encode() + b"\0" + data, hashlib.sha256
        ).hexdigest()

    def get(self, name: str, identity: str) -> bytes | None:
        """The bytes kept for that value, or None (none, several, not this site's, damaged, or
        a restored cache)."""
        if self.restored or self.mac_key is None:
            return None
        key = self.key(name, identity)
        files = self._listing().get(key, [])
        if len(files) != 1:
            if files:
                self._refused.add(key)
            return None
        rel = f"{FOLDER}/{files[0]}"
        try:
            data = safefiles.read_bytes(self.root, rel, limit=MAX_BYTES)
        except (OSError, SourceError):
            data = None
        if data is None or not hmac.compare_digest(self._mac(key, data), files[0].partition(".")[2]):
            self._refused.add(key)
            return None
        self._used.add(files[0])
        with contextlib.suppress(OSError):
            os.utime(self.root / rel, follow_symlinks=False)  # (used: the last to go when pruned)
        return data

    def put(self, name: str, identity: str, data: bytes) -> None:
        """Keep ``data`` as that value (nothing is lost if it cannot be: it is made again)."""
        if self.mac_key is None or len(data) > MAX_BYTES:
            return
        key = self.key(name, identity)
        file = f"{key}.{self._mac(key, data)}"
        if self._listing().get(key) == [file] and key not in self._refused:
            self._used.add(file)
            return
        with contextlib.suppress(OSError):
            folder = self._folder()
            listing = self._listing()
            for old in listing.get(key, []):  # (another value under this key, or a file refused: replaced)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(folder / old)
            safefiles.replace_file(folder, file, data)
            listing[key] = [file]
            self._used.add(file)
            self._refused.discard(key)
            self._written = True

    def finish(self) -> None:
        """Once this build has written its own: remove what a killed build left half written,
        and keep at most :data:`MAX_FILES` files."""
        if not self._written:
            return
        for stale in self._stale:
            with contextlib.suppress(OSError):
                os.unlink(self.root / FOLDER / stale)
        self._stale = []
        if sum(len(files) for files in self._listing().values()) <= MAX_FILES:
            return
        with contextlib.suppress(OSError, SourceError):
            entries = safefiles.list_dir(self.root, FOLDER)
            files = [e for e in entries if e.kind == "file" and e.stat is not None and e.name not in self._used]
            now = time.time_ns()  # (a file dated ahead of now, which no build wrote, goes first)
            files.sort(key=lambda e: (e.stat.st_mtime_ns if e.stat and e.stat.st_mtime_ns <= now else -1, e.name))
            extra = len([e for e in entries if e.kind == "file"]) - MAX_FILES
            for entry in files[: max(0, extra)]:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.root / FOLDER / entry.name)

    def _listing(self) -> dict[str, list[str]]:
        if self._files is None:
            self._files = {}
            try:
                entries = safefiles.list_dir(self.root, FOLDER)
            except (OSError, SourceError):  # (a link or a file at the folder's name: made a folder when written)
                entries = []
            for entry in entries:
                key, dot, mac = entry.name.partition(".")
                if entry.kind == "file" and dot and _HEX64.fullmatch(key) and _HEX64.fullmatch(mac):
                    self._files.setdefault(key, []).append(entry.name)
                elif entry.name.startswith(".") and entry.name.endswith(".tmp") and entry.kind == "file":
                    self._stale.append(entry.name)  # (safefiles.replace_file's, of a build killed)
        return self._files

    def _folder(self) -> Path:
        """The folder, a real one: whatever else is at its name (a link, a file) is removed first."""
        folder = self.root / FOLDER
        try:
            found = os.lstat(folder)
        except FileNotFoundError:
            found = None
        if found is not None and not stat_mod.S_ISDIR(found.st_mode):
            os.unlink(folder)  # (a link is removed, not followed)
            found = None
        if found is None:
            folder.mkdir(parents=True)
            self._files = {}
        return folder
