"""The canonicalization templates a build learnt, kept in its cache for the next build (issue 15).

Each OB 3.0 credential is canonicalized through the template of its shape
(:mod:`badgekiln.crypto.fastcanon`); a shape met for the first time in a process is expanded
once by pyld, and loading pyld alone is about 0.1 s. The shapes of a site's credentials are its
own (its badge classes' fields, its awards' evidence), so they cannot ship with badgekiln as the
status lists' do: a rebuild that adds or edits one award loaded pyld to make the template of a
shape the last build had made already. So the templates a build made (in its workers too) are
kept in ``.badgekiln/cache/canon-templates.json``, and the next build that makes credentials
starts with them.

Trust: a template decides the N-Quads the site's Ed25519 key signs, so a template planted in
the file would make the key sign what its writer chose (a valid proof over someone else's
statement). The file is therefore authenticated: the state records its inode, size and an
HMAC-SHA256 of its bytes under a key derived from the site's private keys (:func:`mac_key`),
which a build that signs holds and a writer of the cache (a pull request's build whose cache CI
restored, a planted file) does not: anyone who could forge the HMAC could sign with the key
itself. A build without private keys of its own keeps no file. It is never read from a cache
restored from an archive (``BADGEKILN_CACHE_RESTORED=1``), nor of another version of badgekiln
or pyld, nor in any other form (the shapes are then made by pyld again). No secret is in a
template: its constants are the texts of the documents' shapes (contexts, types, keys), never
the values signed.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from badgekiln.engine import jsonread
from badgekiln.errors import SourceError
from badgekiln.signing.secretscan import Secret
from badgekiln.sources import safefiles

FILE = "canon-templates.json"  # in the cache's folder
FORMAT = 1
MAX_BYTES = 32 * 1024 * 1024  # (fastcanon keeps at most 2,048 templates; a credential's is a few KB)
CANON_MODULE = "badgekiln.crypto.canon"  # what a unit that canonicalizes credentials preloads (Unit.preload)


# What the cache's state records of the file it was saved with: [inode, size, HMAC-SHA256 (hex)].
Record = list[Any]


class Kept:
    """The templates of one cache folder: read before the groups are made, written after.

    ``record``: what the state the last build saved says of the file (:data:`Record`); the file is
    read only if it is still that file (its inode and size) and its bytes have that HMAC under
    ``key`` (see the module's text). :attr:`record` is then the file's as this build leaves it."""

    def __init__(self, root: Path, fingerprint: str, *, restored: bool, record: Any = None, key: bytes | None = None):
        """``key``: :func:`mac_key` of the build's secrets (None: no private key of its own, no file)."""
        from badgekiln.crypto import fastcanon  # (only for a build that makes credentials)

        self.root, self.fingerprint, self.key = root, fingerprint, key
        self.record: Record | None = record if record_ok(record) else None
        self._read: bytes | None = None  # the file as read (not written again unchanged)
        if restored or self.record is None or key is None or not fastcanon.default().can_learn:
            return
        try:
            found = os.lstat(root / FILE)
            data = safefiles.read_bytes(root, FILE, limit=MAX_BYTES)
        except (OSError, SourceError):
            return
        mac = _mac(key, data)
        if [found.st_ino, found.st_size] != self.record[:2] or not hmac.compare_digest(mac, self.record[2]):
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

        if self.key is None or not fastcanon.default().can_learn:
            return  # (with another pyld the templates could never be read back)
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
            self.record = [found.st_ino, found.st_size, _mac(self.key, data)]
            self._read = data


def mac_key(secrets: Iterable[Secret]) -> bytes | None:
    """The key of the file's HMAC, from the private key numbers among ``secrets`` (the build
    signer's :meth:`~badgekiln.signing.signer.Signer.secret_material`; each once, so keys given in
    ``BADGEKILN_PRIVATE_KEYS`` give the key the keys folder gives), or None when there are none.
    It authenticates the kept share-card bases too (engine/sharedkeep.py, under a prefix of their
    own); nothing the cache keeps is derived from it otherwise (the unit keys' secrets digest is
    another function of the same numbers: keys.secrets_digest)."""
    values = sorted({secret.value for secret in secrets if secret.binary})
    if not values:
        return None
    return hashlib.sha256(
        b"badgekiln canon-templates mac v1\0" + b"".join(len(v).to_bytes(4, "big") + v for v in values)
    ).digest()


def _mac(key: bytes, data: bytes) -> str:
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def record_ok(record: Any) -> bool:
    """Whether ``record`` is one :meth:`Kept.save` makes (:data:`Record`): anything else in a
    state is not carried into the next (a damaged one could not even be written back)."""
    return (
        type(record) is list
        and len(record) == 3
        and type(record[0]) is int
        and type(record[1]) is int
        and 0 <= record[0] < 2**63
        and 0 <= record[1] < 2**63
        and type(record[2]) is str
        and len(record[2]) == 64
        and record[2].isascii()  # (hmac.compare_digest refuses a text of other characters)
    )


def wanted(preloads: set[str]) -> bool:
    """Whether groups whose units preload ``preloads`` canonicalize documents of the site's shapes."""
    return CANON_MODULE in preloads
