"""New awards recorded in ``site_src/awards.lock`` by the command that adds them.

A production build (``--production``, as the publish workflow runs) never writes the ledger: it
refuses sources whose awards it does not record yet (``ledger-stale``), so that every published
award keeps its status-list slot and its signing keys whoever builds next. The commands that add
awards (``award``, from options, a sheet, a renewal or ``--eligible``, and ``github-issue`` for
the issue form) therefore record them as they write them, exactly as the next build would: the
change they make is then whole, and a pull request of it publishes when merged (a first-time
provider's badge from the issue form failed to publish until someone built it on a computer).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from badgekiln.errors import Diagnostic, SourceLocation, ValidationFailed
from badgekiln.signing import keys as keys_mod
from badgekiln.signing.keys import ED25519, RSA
from badgekiln.sources import ledger as ledger_mod
from badgekiln.sources.config import source_paths
from badgekiln.sources.records import atomic_write_text
from badgekiln.sources.validate import load_project


def record_new_awards(source: Path, today: date, warnings: list[Diagnostic]) -> int:
    """Add the awards of the sources that the ledger lacks, with their status-list indices and the
    site's active keys (as ``build`` does: :func:`ledger_mod.reconcile`, :func:`ledger_mod.assign_keys`);
    returns how many. Nothing is written while the sources or the ledger have an error (git's
    conflict markers in the ledger, say), when an award of the sources has no ``id`` yet, or when
    an entry already there would change (a published award's badge, its keys): each says why in
    a ``not-recorded`` warning added to ``warnings`` (the award was written, and a production
    build would refuse it until the ledger records it: a provider told nothing committed it so);
    nothing is said when nothing is new."""
    diagnostics: list[Diagnostic] = []
    try:
        project = load_project(source, today=today).project
    except ValidationFailed as failed:
        _not_recorded(warnings, next((d for d in failed.items if d.is_error), None))
        return 0
    unpinned = next((award for award in project.awards if not award.id_pinned), None)
    if unpinned is not None:  # (an award without its 'id' line: the build pins it first, then records it)
        where = f" at {unpinned.location}" if unpinned.location else ""
        _not_recorded(warnings, None, f"the award{where} has no 'id' line yet")
        return 0
    path = source_paths(source).ledger
    old = ledger_mod.read_ledger(path, diagnostics)
    new = ledger_mod.reconcile(old, project, diagnostics)
    records = keys_mod.read_records(source, diagnostics)
    new, _ = ledger_mod.assign_keys(
        new,
        rsa_kid=_active(records, RSA),
        ed_kid=_active(records, ED25519),
        published={record.kid for record in records if record.published},
    )
    error = next((d for d in diagnostics if d.is_error), None)
    if error is not None:
        _not_recorded(warnings, error)
        return 0
    if new.entries == old.entries:
        return 0
    # (only new entries are appended here: a changed one is the build's to say, badge-changed or re-signed)
    changed = next((entry_id for entry_id, entry in old.entries.items() if new.entries.get(entry_id) != entry), None)
    if changed is not None:
        _not_recorded(warnings, None, f"the entry of award {changed!r} in site_src/awards.lock would change")
        return 0
    try:
        atomic_write_text(path, new.to_text())
    except OSError as exc:  # (the awards are written: say that the ledger is not, and why)
        _not_recorded(warnings, None, f"it could not be written ({exc.strerror or exc})")
        return 0
    return len(new.entries) - len(old.entries)


def _not_recorded(warnings: list[Diagnostic], error: Diagnostic | None, why: str = "") -> None:
    commit = (
        "a production build (the publish workflow) refuses awards the ledger lacks, so commit awards.lock with them"
    )
    then = f"then run `python build.py`, which records them; {commit}"
    warnings.append(
        Diagnostic(
            "warning",
            "not-recorded",
            f"the new award(s) are not recorded in site_src/awards.lock yet: {error.message if error else why}",
            error.location if error and error.location else SourceLocation("site_src/awards.lock"),
            hint=f"{error.hint}; {commit}" if error and error.hint else f"fix that, {then}",
        )
    )


def _active(records, algorithm: str) -> str | None:
    record = keys_mod.active_key(records, algorithm)
    return record.kid if record is not None else None
