"""What many groups are made from, kept in the cache from one build to the next (issue 15).

A badge class's share-card base (:data:`badgekiln.outputs.share_cards.SHARED`, a
:class:`badgekiln.outputs.Shared`) takes about 0.13 s to draw, and a rebuild that adds, revokes
or suspends one award drew it again for that award's card: a tenth of such a rebuild at 100,000
awards. Each value a :class:`~badgekiln.outputs.Shared` can write as bytes (``dump``) is kept in
``.badgekiln/cache/shared/``, in a file named ``<key>.<sha256>``: ``key`` the SHA-256 of
badgekiln's code fingerprint, the Shared's name and its ``identity`` of the value (for a base:
the artwork's digest, the badge's name, the issuer, the host, the accent colour), ``sha256``
that of the file's bytes. The next build reads it back (``load``) instead of making it.

Trust. A file is read only as a regular file below the cache folder, reached without a link
(:mod:`badgekiln.sources.safefiles`), of at most :data:`MAX_BYTES`, when its bytes hash to its
name and no other file claims the same key; ``load`` then refuses anything that is not what
``dump`` writes (a base: a 1200x630 PNG of a palette a base has). Never from a cache restored from
an archive (``BADGEKILN_CACHE_RESTORED=1``: whoever saved it could have planted one; the values
are made again). Otherwise whoever can write this machine's cache could plant a value, as they
could change any blob the cache reuses; a base is pixels that badgekiln lays into a PNG itself
(no text of it reaches a page), and the secret scan still reads every card made from it.
At most :data:`MAX_FILES` files are kept (the oldest go first).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat as stat_mod
from pathlib import Path

from badgekiln.errors import SourceError
from badgekiln.sources import safefiles

FOLDER = "shared"  # in the cache's folder
MAX_BYTES = 4 * 1024 * 1024  # (a base is tens of KB: its artwork's colours over white)
MAX_FILES = 2048  # (a base per badge class: a site of more classes draws the rest again)


class Kept:
    """The kept values of one cache folder (``root``), for builds of the code ``fingerprint``."""

    def __init__(self, root: Path, fingerprint: str, *, restored: bool):
        self.root, self.fingerprint, self.restored = root, fingerprint, restored
        self._files: dict[str, list[str]] | None = None  # key -> the files that claim it
        self._written = False

    def key(self, name: str, identity: str) -> str:
        """The key of the value ``identity`` of the Shared named ``name``."""
        return hashlib.sha256(f"{self.fingerprint}\0{name}\0{identity}".encode()).hexdigest()

    def get(self, name: str, identity: str) -> bytes | None:
        """The bytes kept for that value, or None (none, several, damaged, or a restored cache)."""
        if self.restored:
            return None
        files = self._listing().get(self.key(name, identity), [])
        if len(files) != 1:
            return None
        try:
            data = safefiles.read_bytes(self.root, f"{FOLDER}/{files[0]}", limit=MAX_BYTES)
        except (OSError, SourceError):
            return None
        return data if hashlib.sha256(data).hexdigest() == files[0].partition(".")[2] else None

    def put(self, name: str, identity: str, data: bytes) -> None:
        """Keep ``data`` as that value (nothing is lost if it cannot be: it is made again)."""
        if len(data) > MAX_BYTES:
            return
        key = self.key(name, identity)
        file = f"{key}.{hashlib.sha256(data).hexdigest()}"
        if self._listing().get(key) == [file]:
            return
        with contextlib.suppress(OSError):
            folder = self._folder()
            listing = self._listing()
            for old in listing.get(key, []):  # (another value under this key: replaced)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(folder / old)
            safefiles.replace_file(folder, file, data)
            listing[key] = [file]
            self._written = True

    def finish(self) -> None:
        """Keep the newest :data:`MAX_FILES` files, once this build has written its own."""
        if not self._written or sum(len(files) for files in self._listing().values()) <= MAX_FILES:
            return
        with contextlib.suppress(OSError, SourceError):
            entries = safefiles.list_dir(self.root, FOLDER)
            files = [entry for entry in entries if entry.kind == "file" and entry.stat is not None]
            files.sort(key=lambda entry: (entry.stat.st_mtime_ns, entry.name) if entry.stat else (0, entry.name))
            for entry in files[: len(files) - MAX_FILES]:
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
                key, dot, sha = entry.name.partition(".")
                if entry.kind == "file" and dot and len(key) == len(sha) == 64:
                    self._files.setdefault(key, []).append(entry.name)
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
