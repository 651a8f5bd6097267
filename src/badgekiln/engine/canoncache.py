"""The canonicalization templates a build learnt, kept in its cache for the next build (issue 15).

Each OB 3.0 credential is canonicalized through the template of its shape
(:mod:`badgekiln.crypto.fastcanon`); a shape met for the first time in a process is expanded
once by pyld, and loading pyld alone is about 0.1 s. The shapes of a site's credentials are its
own (its badge classes' fields, its awards' evidence), so they cannot ship with badgekiln as the
status lists' do: a rebuild that adds or edits one award loaded pyld to make the template of a
shape the last build had made already. So the templates a build made (in its workers too) are
kept in ``.badgekiln/cache/canon-templates.json``, and the next build that makes credentials
starts with them.

Trust: a template decides the bytes an Ed25519 proof signs, as a blob of the store decides the
bytes of a published file; both are the cache's, trusted as the build wrote them (README, "The
build cache"). As a blob is linked only when it has the inode the state recorded, the file is
read only when it is the very file the state the last build saved records (its inode, size and
SHA-256): a cache restored from an archive (a CI cache, which a pull request's build may have
written) has new inodes, and with ``BADGEKILN_CACHE_RESTORED=1`` it is never read at all (a
restored blob can be hashed against its name; a template can be checked only by pyld, the cost
this saves). Nor is the file of another version of badgekiln or pyld read, nor one of any other
form (the shapes are then made by pyld again). No secret is in a template: its constants are the
texts of the documents' shapes (contexts, types, keys), never the values signed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import Any

import orjson

from badgekiln.engine import jsonread
from badgekiln.errors import SourceError
from badgekiln.sources import safefiles

FILE = "canon-templates.json"  # in the cache's folder
FORMAT = 1
MAX_BYTES = 32 * 1024 * 1024  # (fastcanon keeps at most 2,048 templates; a credential's is a few KB)
CANON_MODULE = "badgekiln.crypto.canon"  # what a unit that canonicalizes credentials preloads (Unit.preload)


# What the cache's state records of the file it was saved with: [inode, size, SHA-256].
Record = list[Any]


class Kept:
    """The templates of one cache folder: read before the groups are made, written after.

    ``record``: what the state the last build saved says of the file (:data:`Record`); the file is
    read only if it is still that very file, as a blob is linked only if it has the inode the
    state recorded: an archive restored (a CI cache a pull request's build may have written) gives
    every file a new inode. :attr:`record` is then the file's as this build leaves it."""

    def __init__(self, root: Path, fingerprint: str, *, restored: bool, record: Any = None):
        from badgekiln.crypto import fastcanon  # (only for a build that makes credentials)

        self.root, self.fingerprint = root, fingerprint
        self.record: Record | None = record if _record_ok(record) else None
        self._read: bytes | None = None  # the file as read (not written again unchanged)
        if restored or self.record is None:
            return
        try:
            found = os.lstat(root / FILE)
            data = safefiles.read_bytes(root, FILE, limit=MAX_BYTES)
        except (OSError, SourceError):
            return
        if [found.st_ino, found.st_size, hashlib.sha256(data).hexdigest()] != self.record:
            return
        try:
            kept = jsonread.loads(data)
        except (ValueError, RecursionError):
            return
        if (
            type(kept) is dict
            and kept.get("format") == FORMAT
            and kept.get("fingerprint") == fingerprint
            and kept.get("pyld") == fastcanon._pyld_version()
            and fastcanon.default().learn(kept.get("templates"))
        ):
            self._read = data

    def save(self) -> None:
        """Keep every template this process knows besides the shipped ones (learnt from the file,
        made here, or sent by workers), when they are not what the file holds already; then
        :attr:`record` is the file's."""
        from badgekiln.crypto import fastcanon

        records = fastcanon.default().made()
        if not records:
            return
        kept = {
            "format": FORMAT,
            "fingerprint": self.fingerprint,
            "pyld": fastcanon._pyld_version(),
            "templates": records,
        }
        try:
            data = orjson.dumps(kept)
        except TypeError:  # (a lone surrogate in a shape's text: not kept)
            return
        if data == self._read:
            return
        self.record = None
        with contextlib.suppress(OSError):  # (lost, the next build makes those shapes again)
            safefiles.replace_file(self.root, FILE, data)
            found = os.lstat(self.root / FILE)
            self.record = [found.st_ino, found.st_size, hashlib.sha256(data).hexdigest()]
            self._read = data


def _record_ok(record: Any) -> bool:
    return (
        type(record) is list
        and len(record) == 3
        and type(record[0]) is int
        and type(record[1]) is int
        and type(record[2]) is str
        and len(record[2]) == 64
    )


def wanted(preloads: set[str]) -> bool:
    """Whether groups whose units preload ``preloads`` canonicalize documents of the site's shapes."""
    return CANON_MODULE in preloads
