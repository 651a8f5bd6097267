"""Signing keys: generation, the committed public records, and the private keys kept elsewhere.

A site signs with two kinds of key: RSA (``RS256``, for OB 2.0 signed assertions and OB 3.0
VC-JWTs) and Ed25519 (for OB 3.0 ``eddsa-rdfc-2022`` proofs). Each key has a public record,
``site_src/keys/<kid>.yaml``, committed with the sources so that every build publishes every key
ever used, with its status:

* ``active``: signs new awards (one per algorithm);
* ``superseded``: rotated out; still published, still verifies the awards it signed;
* ``retired``: withdrawn (e.g. compromised); no longer published as valid, its awards are re-signed.

Private keys never live in the repository. They come from the environment variable
``BADGEKILN_PRIVATE_KEYS`` (one or more PEM blocks: a CI secret) or from PEM files named
``<kid>.pem`` in ``BADGEKILN_KEYS_DIR`` (default ``~/.config/badgekiln/keys``). A keys folder
inside the site's sources or output is refused. With no keys at all, a development key pair is
made in ``~/.cache/badgekiln/dev-keys/`` (outside the repository) and the build says so loudly.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from badgekiln.errors import Diagnostic, KeyManagementError, SourceError, SourceLocation
from badgekiln.formats.urls import DEVELOPMENT_KEY_IDS, DEVELOPMENT_PREFIX
from badgekiln.signing.keypaths import (  # noqa: F401 - (ENV_KEYS_DIR, keys_dir: re-exported)
    ENV_KEYS,
    ENV_KEYS_DIR,
    ENV_SMTP_PASSWORD,
    development_keys_dir,
    keys_dir,
)
from badgekiln.signing.secretscan import Secret
from badgekiln.sources import safefiles
from badgekiln.sources.config import SourceTree, source_paths
from badgekiln.sources.fields import MAX_TEXT, SLUG_RE, Fields, bad_character
from badgekiln.sources.loading import load_yaml
from badgekiln.sources.records import yaml_scalar

RSA = "RS256"
ED25519 = "Ed25519"
ALGORITHMS = (RSA, ED25519)
STATUSES = ("active", "superseded", "retired")
RSA_BITS = 3072  # bits; 2048 is the floor verifiers accept, 3072 lasts longer
MAX_PRIVATE_KEY_BYTES = 64 * 1024  # bytes: a PEM private key is a few KiB


@dataclass(frozen=True)
class KeyRecord:
    """The public record of one key."""

    kid: str
    algorithm: str
    created: date
    public_pem: str
    status: str = "active"
    superseded_on: date | None = None
    retired_on: date | None = None
    retired_reason: str | None = None
    development: bool = False
    location: SourceLocation | None = field(default=None, compare=False)

    @property
    def public_key(self):
        """The key object (RSAPublicKey or Ed25519PublicKey)."""
        return serialization.load_pem_public_key(self.public_pem.encode())

    @property
    def published(self) -> bool:
        """Active and superseded keys are published as valid; retired ones are not."""
        return self.status != "retired"


def active_key(records: Iterable[KeyRecord], algorithm: str | None = None) -> KeyRecord | None:
    """The active key of ``algorithm`` among ``records`` (any algorithm's first when None): the one
    place that decides which key signs new awards."""
    for record in records:
        if record.status == "active" and (algorithm is None or record.algorithm == algorithm):
            return record
    return None


def active_keys(records: Iterable[KeyRecord]) -> list[KeyRecord]:
    """Every active key (one per algorithm in a valid site)."""
    return [r for r in records if r.status == "active"]


@dataclass(frozen=True)
class Keyring:
    """Public records plus whichever private keys are available."""

    records: tuple[KeyRecord, ...]
    private: dict[str, object]
    development: bool = False

    def active(self, algorithm: str) -> KeyRecord:
        """The key that signs new awards."""
        record = active_key(self.records, algorithm)
        if record is None:
            raise KeyManagementError(f"there is no active {algorithm} key; run 'badgekiln keys generate'")
        return record

    def active_kid(self, algorithm: str) -> str | None:
        """The id of the key that signs new awards, if there is one."""
        record = active_key(self.records, algorithm)
        return record.kid if record is not None else None

    def record(self, kid: str) -> KeyRecord:
        """The record of ``kid``."""
        for record in self.records:
            if record.kid == kid:
                return record
        raise KeyManagementError(f"unknown key {kid!r}")

    def private_key(self, kid: str):
        """The private key of ``kid``, or an error saying where it was looked for."""
        try:
            return self.private[kid]
        except KeyError:
            raise KeyManagementError(missing_private_key(kid)) from None

    def secret_material(self) -> tuple[Secret, ...]:
        """What must never be published (for the output scan, :mod:`badgekiln.signing.secretscan`)."""
        return tuple(s for kid, key in sorted(self.private.items()) for s in key_secrets(key, f"private key {kid}"))


def key_secrets(key, label: str) -> list[Secret]:
    """The private numbers of ``key`` (the public ones are published on purpose): for RSA d, p and
    q (each alone gives the key away; the CRT values follow from them), for Ed25519 the 32-byte
    seed. Every encoding of the key (PEM, DER, JWK ``d``) holds them."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return [Secret(label, key.private_bytes_raw(), binary=True)]
    numbers = key.private_numbers()
    return [
        Secret(label, number.to_bytes((number.bit_length() + 7) // 8, "big"), binary=True)
        for number in (numbers.d, numbers.p, numbers.q)
    ]


def environment_secrets() -> tuple[Secret, ...]:
    """Secrets configured in the environment: every key in ``BADGEKILN_PRIVATE_KEYS`` (matched
    to a record or not) and the SMTP password (``BADGEKILN_SMTP_PASSWORD``, read by :mod:`.mail`)."""
    found = [s for key in _env_keys() for s in key_secrets(key, f"a private key in ${ENV_KEYS}")]
    password = os.environ.get(ENV_SMTP_PASSWORD, "")
    if password:
        found.append(Secret(f"${ENV_SMTP_PASSWORD}", password.encode("utf-8")))
    return tuple(found)


def missing_private_key(kid: str) -> str:
    """What to say when the private key of ``kid`` cannot be found."""
    return (
        f"the private key of {kid} is not available: set {ENV_KEYS} to its PEM text, or put {kid}.pem in {keys_dir()}"
    )


# -- generation and files -----------------------------------------------------------------------


def generate(algorithm: str):
    """A new private key."""
    if algorithm == RSA:
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    if algorithm == ED25519:
        return ed25519.Ed25519PrivateKey.generate()
    raise KeyManagementError(f"unknown algorithm {algorithm!r}")


def new_kid(algorithm: str, today: date) -> str:
    """A key id such as ``2026-11-22-rsa-3f9a1c``: sortable, readable, unique."""
    short = "rsa" if algorithm == RSA else "ed25519"
    return f"{today.isoformat()}-{short}-{secrets.token_hex(3)}"


def public_pem(key) -> str:
    """SubjectPublicKeyInfo PEM of a public or private key."""
    public = key.public_key() if hasattr(key, "public_key") else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def private_pem(key) -> bytes:
    """PKCS#8 PEM of a private key, unencrypted (file permissions protect it)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def reason_problem(reason: str) -> str | None:
    """Why ``reason`` cannot be a retired key's ``retired_reason`` as the build reads it back, or
    None. ``keys retire`` asks before anything is made or written: it wrote a new key and a record
    that every later build refused, in the middle of a key compromise (a hostile review)."""
    text = reason.strip()
    if not text:
        return "the reason is empty: say why the key is retired (it is kept in the public record)"
    if len(text) > MAX_TEXT:
        return f"the reason is {len(text)} characters; the limit is {MAX_TEXT}"
    bad = bad_character(text, allow_newlines=False)
    if bad is not None:
        return f"the reason contains a character that is not text on one line ({bad})"
    return None


def record_text(record: KeyRecord) -> str:
    """The YAML text of a public record."""
    lines = [
        "# A PUBLIC key of this site: safe to commit. The private key is kept outside the repository.",
        f"algorithm: {record.algorithm}",
        f"created: {record.created.isoformat()}",
        f"status: {record.status}",
    ]
    if record.superseded_on:
        lines.append(f"superseded_on: {record.superseded_on.isoformat()}")
    if record.retired_on:
        lines.append(f"retired_on: {record.retired_on.isoformat()}")
        lines.append(f"retired_reason: {yaml_scalar(record.retired_reason or '')}")
    lines.append("public_key: |")
    lines.extend("  " + line for line in record.public_pem.strip().splitlines())
    return "\n".join(lines) + "\n"


def check_private_location(path: Path, source: Path, output: Path | None) -> None:
    """Refuse a private-key path inside the site's sources or output."""
    resolved = path.expanduser().resolve()
    for forbidden in (source.resolve(), output.resolve() if output else None):
        if forbidden is not None and resolved.is_relative_to(forbidden):
            raise KeyManagementError(
                f"refusing to use private keys at {path}: it is inside {forbidden}, where git or the published site "
                f"could pick them up; keep them outside it: set {ENV_KEYS_DIR} to a folder elsewhere"
                + (
                    ""
                    if (Path.home() / ".config/badgekiln/keys").resolve().is_relative_to(forbidden)
                    else f" (e.g. {Path.home() / '.config/badgekiln/keys'}, the default)"
                )
            )


def save_private_key(key, kid: str, source: Path) -> Path:
    """Write a private key to the keys folder (mode 0600) and return its path."""
    folder = keys_dir()
    check_private_location(folder, source, None)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{kid}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem(key))
    return path


# -- loading --------------------------------------------------------------------------------------


def _private_key_in_repo(rel: str) -> Diagnostic:
    return Diagnostic(
        "error",
        "private-key-in-repo",
        "this file holds a PRIVATE key",
        SourceLocation(rel),
        "delete it from the repository (and from git history), "
        "and rotate the key: 'badgekiln keys retire' then 'keys rotate'",
    )


MAX_KEYS_DEPTH = 8  # folders below site_src/keys/ looked into for private keys
MAX_KEYS_FILES = 10_000  # files below it read, at most


def _private_keys_below(source: Path, folder: str, diagnostics: list[Diagnostic], read: list[int]) -> None:
    """Every private key in a file below ``folder`` (a folder in site_src/keys/, which holds no
    records): each one is an error, as one directly in site_src/keys/ is. A link or special file
    there is an error too, as it is directly in site_src/keys/ (a link could lead to the keys).
    ``read``: the files of site_src/keys/ read so far, counted over every folder of it."""
    try:
        entries = safefiles.walk(source, folder)
    except SourceError as exc:
        diagnostics.append(exc.diagnostic)
        return
    for name, entry in entries:
        rel = f"{folder}/{name}"
        if (entry.kind == "dir" and name.count("/") + 1 >= MAX_KEYS_DEPTH) or (
            entry.kind == "file" and read[0] >= MAX_KEYS_FILES
        ):
            # (not looked into, so not passed either: a key could be there)
            diagnostics.append(
                Diagnostic(
                    "error",
                    "keys-folder-too-large",
                    f"site_src/keys/ holds folders deeper than {MAX_KEYS_DEPTH} or more than {MAX_KEYS_FILES:,} "
                    "files, which are not checked for private keys",
                    SourceLocation(rel),
                    "site_src/keys/ holds only the public key records: move the rest out",
                )
            )
            return
        if entry.kind in ("link", "special"):
            diagnostics.append(_not_a_key_file(rel, entry.kind))
        elif entry.kind == "file":
            read[0] += 1
            try:
                raw = safefiles.read_bytes(source, rel, limit=safefiles.MAX_FILE_BYTES)
            except SourceError as exc:
                diagnostics.append(exc.diagnostic)
                continue
            if b"PRIVATE KEY" in raw:
                diagnostics.append(_private_key_in_repo(rel))
            elif not _notes(name.rpartition("/")[2]):  # (no records are read down here)
                diagnostics.append(_not_a_record(rel))


def _notes(name: str) -> bool:
    """A file site_src/keys/ may hold besides its records: a hidden one (.gitkeep) or a README."""
    return name.startswith(".") or name.lower().split(".")[0] == "readme"


def _not_a_record(rel: str) -> Diagnostic:
    """site_src/keys/ holds the public records only: any other file could be a private key in
    another encoding (DER, UTF-16, gzip, a PEM without its header lines all passed the search for
    "PRIVATE KEY": a review)."""
    return Diagnostic(
        "error",
        "not-a-key-record",
        "site_src/keys/ holds only the public key records (<kid>.yaml, as 'badgekiln keys generate' writes them): "
        "a file of another kind could be a private key",
        SourceLocation(rel),
        "move it out of site_src/keys/ (a private key belongs outside the repository; then rotate it)",
    )


def _not_a_key_file(rel: str, kind: str) -> Diagnostic:
    return Diagnostic(
        "error",
        "symlink" if kind == "link" else "not-a-file",
        f"this is {'a symbolic link' if kind == 'link' else 'not a regular file'}"
        ": site_src/keys/ holds only public key records",
        SourceLocation(rel),
        safefiles.LINK_HINT if kind == "link" else "remove it",
    )


def read_records(source: Path, diagnostics: list[Diagnostic]) -> tuple[KeyRecord, ...]:
    """Every public record under ``site_src/keys/``; private material there is an error."""
    folder = source_paths(source).keys
    records = []
    read = [0]  # files of site_src/keys/ read, in it and below it (MAX_KEYS_FILES)
    try:
        entries = safefiles.list_dir(source, SourceTree.KEYS)
    except SourceError as exc:
        diagnostics.append(exc.diagnostic)
        return ()
    for entry in entries:
        path, rel = folder / entry.name, f"{SourceTree.KEYS}/{entry.name}"
        if entry.kind in ("link", "special"):  # a link could lead to the private keys themselves
            diagnostics.append(_not_a_key_file(rel, entry.kind))
            continue
        if entry.kind == "dir":  # (a key in site_src/keys/backup/ passed, --production too: a review)
            _private_keys_below(source, rel, diagnostics, read)
            continue
        if entry.kind != "file":
            continue
        read[0] += 1
        try:
            raw = safefiles.read_bytes(source, rel)
        except SourceError as exc:
            diagnostics.append(exc.diagnostic)
            continue
        if b"PRIVATE KEY" in raw:
            diagnostics.append(_private_key_in_repo(rel))
            continue
        if path.suffix != ".yaml":
            if not _notes(entry.name):
                diagnostics.append(_not_a_record(rel))
            continue
        try:
            doc = load_yaml(path, source)
        except SourceError as exc:
            diagnostics.append(exc.diagnostic)
            continue
        if path.stem.startswith(DEVELOPMENT_PREFIX):  # (reserved: verifiers read dev-rsa as "not the issuer's")
            diagnostics.append(
                Diagnostic(
                    "error",
                    "reserved-key-id",
                    f"key ids starting with {DEVELOPMENT_PREFIX!r} are for development keys",
                    SourceLocation(path.relative_to(source).as_posix()),
                    "rename the file (its key id) or make keys with 'badgekiln keys generate'",
                )
            )
            continue
        if not SLUG_RE.match(path.stem):  # (the ledger pins it; verifiers read it in URLs and DIDs)
            diagnostics.append(
                Diagnostic(
                    "error",
                    "bad-key-id",
                    f"key id {path.stem!r} (the file's name) must be lower-case letters, digits and hyphens, "
                    "at most 64: site_src/awards.lock pins it, and it is part of every proof's key URL, "
                    "where other characters are written differently by different verifiers",
                    SourceLocation(path.relative_to(source).as_posix()),
                    "rename the file as 'badgekiln keys generate' names keys, e.g. 2026-11-22-rsa-3f9a1c.yaml",
                )
            )
            continue
        record = _record(path.stem, doc, diagnostics)
        if record is not None:
            records.append(record)
    for algorithm in ALGORITHMS:
        active = [r for r in active_keys(records) if r.algorithm == algorithm]
        if len(active) > 1:
            diagnostics.append(
                Diagnostic(
                    "error",
                    "two-active-keys",
                    f"more than one active {algorithm} key: " + ", ".join(r.kid for r in active),
                    active[1].location,
                    "mark all but one 'status: superseded'",
                )
            )
    return tuple(sorted(records, key=lambda r: (r.created, r.kid)))


def _record(kid: str, doc, diagnostics) -> KeyRecord | None:
    fields = Fields(doc.data, doc.location, diagnostics, f"key {kid!r}")
    algorithm = fields.text("algorithm", required=True, single_line=True)
    created = fields.date("created", required=True)
    status = fields.text("status", single_line=True) or "active"
    superseded_on = fields.date("superseded_on")
    retired_on = fields.date("retired_on")
    retired_reason = fields.text("retired_reason", single_line=True)
    pem = fields.text("public_key", required=True)
    fields.finish()
    if algorithm not in ALGORITHMS:
        fields.error("bad-algorithm", f"'algorithm' must be one of {', '.join(ALGORITHMS)}", fields.where("algorithm"))
        return None
    if status not in STATUSES:
        fields.error("bad-status", f"'status' must be one of {', '.join(STATUSES)}", fields.where("status"))
        return None
    if not (created and pem):
        return None
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError:
        fields.error("bad-key", "'public_key' is not a PEM public key", fields.where("public_key"))
        return None
    expected = rsa.RSAPublicKey if algorithm == RSA else ed25519.Ed25519PublicKey
    if not isinstance(key, expected) or (isinstance(key, rsa.RSAPublicKey) and key.key_size < 2048):
        fields.error(
            "bad-key",
            f"'public_key' is not a{'n RSA (2048 bits or more)' if algorithm == RSA else 'n Ed25519'} key",
            fields.where("public_key"),
        )
        return None
    return KeyRecord(
        kid=kid,
        algorithm=algorithm,
        created=created,
        public_pem=public_pem(key),
        status=status,
        superseded_on=superseded_on,
        retired_on=retired_on,
        retired_reason=retired_reason,
        location=doc.location,
    )


def load_private_keys(
    records: tuple[KeyRecord, ...], *, source: Path, output: Path | None, warnings: list[Diagnostic] | None = None
) -> dict[str, object]:
    """Private keys for ``records`` from the environment and the keys folder, matched by public
    key; a key file other users of the machine may read, or a keys folder they may write in, is
    said in ``warnings`` (ssh refuses such a key; the build signs with it and says so)."""
    by_public = {r.public_pem: r.kid for r in records}
    found: dict[str, object] = {}
    for key in _env_keys():
        kid = by_public.get(public_pem(key))
        if kid:
            found[kid] = key
    folder = keys_dir()
    if folder.is_dir():
        check_private_location(folder, source, output)
        for record in records:
            path = folder / f"{record.kid}.pem"
            if record.kid not in found and safefiles.kind(folder, path.name) is not None:
                key = _load_private(_read_private(folder, path.name), str(path))
                if public_pem(key) != record.public_pem:
                    raise KeyManagementError(f"{path} does not match the public key in site_src/keys/{record.kid}.yaml")
                found[record.kid] = key
                if warnings is not None:
                    _open_to_others(path, 0o077, "other users of this machine can read it", warnings)
        if warnings is not None and found:
            _open_to_others(folder, 0o022, "other users of this machine can replace the keys in it", warnings)
    return found


def _open_to_others(path: Path, bits: int, what: str, warnings: list[Diagnostic]) -> None:
    """A ``key-permissions`` warning when ``path``'s mode has any of ``bits``."""
    try:
        mode = os.stat(path, follow_symlinks=False).st_mode & 0o777
    except OSError:
        return
    if mode & bits:
        fix = "chmod 600" if bits == 0o077 else "chmod 700"
        warnings.append(
            Diagnostic(
                "warning",
                "key-permissions",
                f"{path} is a private key {'file' if bits == 0o077 else 'folder'} with mode {mode:o}: {what}",
                SourceLocation(SourceTree.KEYS),
                f"run '{fix} {path}' (badgekiln keys generate makes files 600 in a folder 700)",
            )
        )


def _read_private(folder: Path, name: str) -> bytes:
    """A private key file: a regular file directly in its folder, never a link (which could lead
    into the repository or output, where check_private_location cannot see), of a key's size."""
    try:
        return safefiles.read_bytes(folder, name, limit=MAX_PRIVATE_KEY_BYTES, root_shown=str(folder))
    except SourceError as exc:
        raise KeyManagementError(f"{exc}; keep the private key file itself in {folder}") from None


def _env_keys() -> list:
    text = os.environ.get(ENV_KEYS, "")
    blocks, current = [], []
    for line in text.strip().splitlines():
        current.append(line.strip())
        if line.strip().startswith("-----END"):
            blocks.append("\n".join(current) + "\n")
            current = []
    return [_load_private(block.encode(), f"${ENV_KEYS}") for block in blocks]


def _load_private(pem: bytes, where: str):
    try:
        # OpenSSL's RSA consistency check (primality of p and q) takes ~170 ms a key on every build;
        # the key must match the public key on record, and its first signature is verified (crypto/jws.py).
        key = serialization.load_pem_private_key(pem, password=None, unsafe_skip_rsa_key_validation=True)
    except (ValueError, TypeError) as exc:
        raise KeyManagementError(f"{where} is not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, (rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey)):
        raise KeyManagementError(f"{where}: only RSA and Ed25519 keys are supported")
    return key


# -- development keys -----------------------------------------------------------------------------


_made_development_keys: list[str] = []  # (development keys made by this process since it last asked)


def made_development_keys() -> bool:
    """Whether development keys were made since this was last asked (and forget it). A build that
    made them must not keep its no-op stamp: the stamp holds the key folders as they were before
    it, so removing the keys would have matched it, and the next build replayed output signed
    with keys that no longer existed (a review, 2026-12-07)."""
    made = bool(_made_development_keys)
    _made_development_keys.clear()
    return made


def development_keyring(source: Path, today: date) -> Keyring:
    """The user's development key pair, kept in their cache folder, outside every repository.

    One pair serves every site on the machine: development builds are previews, never published.
    """
    folder = development_keys_dir()
    check_private_location(folder, source, None)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    records, private = [], {}
    for algorithm in ALGORITHMS:
        kid = DEVELOPMENT_KEY_IDS[algorithm]  # (the only ids verifiers read as development keys)
        path = folder / f"{kid.removeprefix(DEVELOPMENT_PREFIX)}.pem"
        if safefiles.kind(folder, path.name) is None:
            _write_new_file(path, private_pem(generate(algorithm)))
            _made_development_keys.append(kid)
        key = _load_private(_read_private(folder, path.name), str(path))
        private[kid] = key
        records.append(
            KeyRecord(kid=kid, algorithm=algorithm, created=today, public_pem=public_pem(key), development=True)
        )
    return Keyring(records=tuple(records), private=private, development=True)


def _write_new_file(path: Path, content: bytes) -> None:
    """Create ``path`` (mode 0600) atomically; if another process made it first, keep theirs."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)  # (a leftover of a killed run; O_EXCL|O_NOFOLLOW: never through a link)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def supersede(record: KeyRecord, on: date) -> KeyRecord:
    """The record after a rotation."""
    return replace(record, status="superseded", superseded_on=on)


def retire(record: KeyRecord, on: date, reason: str) -> KeyRecord:
    """The record after retirement."""
    return replace(record, status="retired", retired_on=on, retired_reason=reason)
