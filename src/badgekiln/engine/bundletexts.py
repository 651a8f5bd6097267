"""The texts of the cache's bundles, and of its validated sources, kept in shard files beside its state.

A bundle's text (the groups of one recipient file's awards, see ``cache.bundle_text``) is most of
what the cache remembers: about 150 MB at 100,000 awards. Kept inside ``state.json``, every
rebuild read and wrote all of it to change one recipient's. So the texts live in at most
:data:`SHARDS` shard files, ``.badgekiln/cache/bundles/<sha256>.json``, each a JSON object
{recipient file: text}; a recipient file's shard is the first two hex digits of the SHA-256 of its
name. A rebuild reads only the shards of the bundles it opens and writes only the shards that
change (issue 15).

A shard file is named by the SHA-256 of its bytes and never changed in place. The state names
the shard files it was saved with, so a build killed while it wrote them leaves the previous
state and its shards whole; a shard file that does not hash to its name, or is not a regular
file, is damaged: its bundles' groups are made again (the cache says so).

The texts of the validated source files' records (``cache._record_text``: 27 MB at 100,000
awards, read back only for a file whose recipients are decoded, see ``engine/views.py``) are kept
the same way in :data:`RECORDS`, by the source file's name.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
from collections.abc import Collection
from pathlib import Path

import orjson

from badgekiln.engine import jsonread
from badgekiln.errors import SourceError
from badgekiln.sources import safefiles

FOLDER = "bundles"  # below the cache's folder
RECORDS = "records"  # the folder of the validated sources' texts
SHARDS = 256  # bundles' names spread over this many shard files (two hex digits of a SHA-256)
MAX_SHARD_BYTES = 256 * 1024 * 1024  # a shard of a 1,000,000-award site is about 6 MB; larger is damaged
SHARD_RE = re.compile(r"[0-9a-f]{2}")
SHA_RE = re.compile(r"[0-9a-f]{64}")


def shard_of(bundle: str) -> str:
    """The shard that keeps ``bundle``'s text."""
    return hashlib.sha256(bundle.encode("utf-8", "surrogatepass")).hexdigest()[:2]


def read_shard(root: Path, sha: str, shard: str, folder: str = FOLDER) -> dict[str, str] | None:
    """The texts of the shard file ``sha`` in the cache folder ``root``, the file of ``shard``; None
    if it is missing, damaged (its bytes do not hash to its name, it is not a JSON object of texts,
    it holds a bundle of another shard) or not a regular file (never read through a link)."""
    if not SHA_RE.fullmatch(sha):
        return None
    try:
        data = safefiles.read_bytes(root, f"{folder}/{sha}.json", limit=MAX_SHARD_BYTES)
    except (OSError, SourceError):
        return None
    if hashlib.sha256(data).hexdigest() != sha:
        return None
    try:
        texts = jsonread.loads(data)
    except (ValueError, RecursionError):
        return None
    if type(texts) is not dict or not all(type(text) is str for text in texts.values()):
        return None
    if any(shard_of(bundle) != shard for bundle in texts):  # (each bundle has one place: see outputscan)
        return None
    return texts


def write_shard(root: Path, texts: dict[str, str], folder: str = FOLDER) -> str:
    """Write the shard file of ``texts`` (bundle -> text) into the cache folder ``root``; its SHA-256."""
    data = _dumps(texts)
    sha = hashlib.sha256(data).hexdigest()
    (root / folder).mkdir(exist_ok=True)
    safefiles.replace_file(root / folder, f"{sha}.json", data)
    return sha


def remove_unused(root: Path, used: Collection[str], folder: str = FOLDER) -> None:
    """Delete the files of the cache's shard folder that are not the shards ``used`` (SHA-256s):
    shards of earlier states, and what a killed build left half written."""
    keep = {f"{sha}.json" for sha in used}
    try:
        entries = list(os.scandir(root / folder))
    except OSError:
        return
    for entry in entries:
        if entry.name not in keep:
            with contextlib.suppress(OSError):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)


class Texts:
    """The bundle texts of one saved state, each shard read when one of its bundles is first asked for."""

    def __init__(self, root: Path, shards: dict[str, str], folder: str = FOLDER):
        self.root, self.shards, self.folder = root, shards, folder
        self._read: dict[str, dict[str, str] | None] = {}
        self._taken: set[str] = set()  # bundles whose text was let go (see take)
        self._again: dict[str, dict[str, str] | None] = {}  # shards read again for a text let go

    def text(self, bundle: str) -> str | None:
        """``bundle``'s text as the state was saved with it; None if its shard is missing or damaged."""
        shard = shard_of(bundle)
        if shard not in self._read:
            self._read[shard] = self._read_shard(shard)
        texts = self._read[shard]
        if texts is not None and bundle in self._taken:  # (let go: its shard file is read again, once)
            if shard not in self._again:
                self._again[shard] = self._read_shard(shard)
            texts = self._again[shard]
        return None if texts is None else texts.get(bundle)

    def take(self, bundle: str) -> str | None:
        """:meth:`text`, and the text let go of: for a text read once and then held only as what
        it was read into. (A rebuild that opens every bundle held every shard's texts to its
        end beside the groups read from them: about 140 MB at 100,000 awards, and the records' 34 MB.)
        Asked for again, the text is read again from its shard file (each shard once: the
        save reads back the records of the shards it writes, see ``cache._save_record_shards``)."""
        text = self.text(bundle)
        texts = self._read.get(shard_of(bundle))
        if texts is not None and texts.pop(bundle, None) is not None:
            self._taken.add(bundle)
        return text

    def _read_shard(self, shard: str) -> dict[str, str] | None:
        sha = self.shards.get(shard)
        return read_shard(self.root, sha, shard, self.folder) if sha is not None else None


def _dumps(texts: dict[str, str]) -> bytes:
    """``texts`` as JSON, sorted by name (the same texts give the same bytes, and the same name);
    by the json module when orjson refuses it (a recipient file named with a lone surrogate)."""
    try:
        return orjson.dumps(texts, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps(texts, sort_keys=True, separators=(",", ":")).encode("ascii")
