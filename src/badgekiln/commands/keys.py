"""``badgekiln keys generate | list | rotate | retire``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from badgekiln.errors import KeyManagementError, ValidationFailed
from badgekiln.signing import keys as keys_mod
from badgekiln.signing.keys import ALGORITHMS, KeyRecord
from badgekiln.sources.config import source_paths
from badgekiln.sources.records import atomic_write_text


@dataclass(frozen=True)
class NewKey:
    """A key made by generate or rotate."""

    record: KeyRecord
    private_path: Path


def _records(source: Path) -> tuple[KeyRecord, ...]:
    if not source_paths(source).site_yaml.is_file():
        raise KeyManagementError(
            f"{source} is not a badge site (no site_src/site.yaml): run this in your site's folder or pass --source"
        )
    diagnostics: list = []
    records = keys_mod.read_records(source, diagnostics)
    if any(d.is_error for d in diagnostics):
        raise ValidationFailed(diagnostics)
    return records


def _folder(source: Path) -> Path:
    folder = source_paths(source).keys
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write(source: Path, record: KeyRecord) -> None:
    atomic_write_text(_folder(source) / f"{record.kid}.yaml", keys_mod.record_text(record))


def _make(source: Path, algorithm: str, today: date) -> NewKey:
    key = keys_mod.generate(algorithm)
    kid = keys_mod.new_kid(algorithm, today)
    path = keys_mod.save_private_key(key, kid, source)
    record = KeyRecord(kid=kid, algorithm=algorithm, created=today, public_pem=keys_mod.public_pem(key))
    _write(source, record)
    return NewKey(record, path)


def generate(source: Path, today: date) -> list[NewKey]:
    """The site's first key pair (RSA and Ed25519)."""
    active = keys_mod.active_keys(_records(source))
    if active:
        raise KeyManagementError(
            f"this site already has active keys ({', '.join(r.kid for r in active)}); "
            "use 'badgekiln keys rotate' to replace them"
        )
    return [_make(source, algorithm, today) for algorithm in ALGORITHMS]


def rotate(source: Path, today: date) -> tuple[list[NewKey], list[KeyRecord]]:
    """New active keys; the old active keys become superseded (still published, still verifying)."""
    records = _records(source)
    old = keys_mod.active_keys(records)
    if not old:
        raise KeyManagementError("this site has no active keys to rotate; run 'badgekiln keys generate'")
    new = [_make(source, algorithm, today) for algorithm in ALGORITHMS]
    superseded = []
    for record in old:
        updated = keys_mod.supersede(record, today)
        _write(source, updated)
        superseded.append(updated)
    return new, superseded


def retire(source: Path, kid: str, reason: str, today: date) -> tuple[KeyRecord, list[NewKey]]:
    """Withdraw a key: verifiers stop accepting it and its awards are re-signed at the next build.

    Retiring an active key rotates first, so that the site always has a key to sign with.
    """
    problem = keys_mod.reason_problem(reason)
    if problem is not None:
        raise KeyManagementError(problem)
    reason = reason.strip()
    records = {r.kid: r for r in _records(source)}
    if kid not in records:
        raise KeyManagementError(f"there is no key {kid!r}; 'badgekiln keys list' shows them")
    record = records[kid]
    if record.status == "retired":
        raise KeyManagementError(f"{kid} is already retired")
    new: list[NewKey] = []
    if record.status == "active":
        new = [_make(source, record.algorithm, today)]
    updated = keys_mod.retire(record, today, reason)
    _write(source, updated)
    return updated, new


def listing(source: Path) -> list[tuple[KeyRecord, bool]]:
    """Every key with whether its private key is available here."""
    records = _records(source)
    private = keys_mod.load_private_keys(records, source=source, output=None)
    return [(r, r.kid in private) for r in records]
