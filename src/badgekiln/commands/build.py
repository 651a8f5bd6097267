"""``badgekiln build``: load, validate, plan, write atomically, then pin new award ids."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import jinja2

from .. import ledger as ledger_mod
from .. import outputscan
from ..build import BuildInputs, build
from ..cache import BuildCache
from ..parallel import FastSigner
from ..config import source_paths
from ..errors import ConfigError, Diagnostic, SourceLocation, ValidationFailed
from ..keys import ED25519, RSA
from ..records import atomic_write_text, pin_award_ids
from ..render import Renderer
from ..signing import Signer, open_signer
from ..site import check_output_dir, write_site
from ..validate import Loaded, load_project


@dataclass
class BuildResult:
    """What a build did, for the command line to report."""

    output: Path
    files: int
    written: int
    linked: int
    warnings: tuple[Diagnostic, ...]
    pinned: dict[str, list[str]] = field(default_factory=dict)  # recipient file → ids pinned
    ledger_added: int = 0


@dataclass(frozen=True)
class Prepared:
    """Validated sources, the ledger before and after this build, and the signer."""

    loaded: Loaded
    old_ledger: ledger_mod.Ledger
    ledger: ledger_mod.Ledger
    signer: Signer
    resigned: tuple[ledger_mod.Entry, ...]
    warnings: tuple[Diagnostic, ...]


def prepare(source: Path, *, base_url: str | None, today: date, frozen: bool, production: bool = False,
            output: Path | None = None, cache: BuildCache | None = None) -> Prepared:
    """Load and validate the sources (reusing a ``cache``'s unchanged files), open the keys and
    reconcile the ledger.

    Raises:
        ValidationFailed: with every error (and warning) found.
    """
    loaded = (cache.load_project if cache else load_project)(source, base_url=base_url, today=today)
    diagnostics: list[Diagnostic] = list(loaded.warnings)
    signer = open_signer(source, output, today=today, production=production, diagnostics=diagnostics)
    path = source_paths(source)["ledger"]
    old = ledger_mod.read_ledger(path, diagnostics)
    new = ledger_mod.reconcile(old, loaded.project.awards, diagnostics)
    records = signer.keyring.records
    active = {r.algorithm: r.kid for r in records if r.status == "active"}
    new, resigned = ledger_mod.assign_keys(new, rsa_kid=active.get(RSA), ed_kid=active.get(ED25519),
                                           published={r.kid for r in records if r.published})
    for entry in resigned:
        diagnostics.append(Diagnostic("warning", "re-signed", f"award {entry.id} was signed with a retired key and is "
                                      "re-signed with the active key", SourceLocation(ledger_mod.REL)))
    if frozen:
        for award in loaded.project.awards:
            if not award.id_pinned:
                diagnostics.append(Diagnostic(
                    "error", "unpinned-id", f"this award has no 'id' yet (it would get {award.id})", award.location,
                    "run 'python build.py' locally, which writes the ids and site_src/awards.lock, and commit them"))
        if new.entries != old.entries:
            diagnostics.append(Diagnostic("error", "ledger-stale",
                                          "site_src/awards.lock is not up to date (new awards, or keys to pin)",
                                          SourceLocation(ledger_mod.REL),
                                          "run 'python build.py' locally and commit site_src/awards.lock"))
    if any(d.is_error for d in diagnostics):
        raise ValidationFailed(diagnostics)
    warnings = tuple(sorted((d for d in diagnostics if not d.is_error), key=Diagnostic.sort_key))
    return Prepared(loaded, old, new, signer, tuple(resigned), warnings)


def run_build(source: Path, output: Path, *, base_url: str | None, today: date, frozen: bool = False,
              production: bool = False, pin: bool = True, use_cache: bool = True,
              scanner: outputscan.Scanner | None = None) -> BuildResult:
    """Build the site from ``source`` into ``output``. ``production`` implies ``frozen``.

    ``scanner``: a scan of ``output`` begun earlier (see :mod:`badgekiln.outputscan`).

    With ``pin`` (the default, outside ``frozen``) new award ids are written into the recipient
    files and the ledger is saved; a preview (``serve``) leaves the sources alone.
    """
    source = source.resolve()
    notes: list[Diagnostic] = []  # a damaged cache, not used: said as warnings
    cache = BuildCache.open(source, output, scanner, warnings=notes) if use_cache else None
    if cache is None and scanner is not None:  # the cache is not to be used after all: let it go
        scanner.close()
        if scanner.lock is not None:
            scanner.lock.close()
    try:
        result = _run_build(source, output, base_url=base_url, today=today, frozen=frozen or production,
                            production=production, pin=pin, cache=cache)
        notes.extend(cache.warnings if cache else ())
        if notes:
            result.warnings = tuple(sorted((*result.warnings, *notes), key=Diagnostic.sort_key))
        return result
    finally:
        if cache is not None:
            cache.close()


def _run_build(source: Path, output: Path, *, base_url: str | None, today: date, frozen: bool, production: bool,
               pin: bool, cache: BuildCache | None) -> BuildResult:
    prepared = prepare(source, base_url=base_url, today=today, frozen=frozen, production=production, output=output,
                       cache=cache)
    loaded, old_ledger, new_ledger = prepared.loaded, prepared.old_ledger, prepared.ledger
    check_output_dir(output, source)
    renderer = Renderer(source_paths(source)["templates"])
    inputs = BuildInputs(config=loaded.config, project=loaded.project, ledger=new_ledger,
                         signer=FastSigner.of(prepared.signer), source=source, today=today)
    with _located_template_errors(source):
        plan = build(inputs, renderer, cache)
    counts = cache.write(plan) if cache else dict(write_site(plan, output), files=len(plan.files))
    if cache:
        cache.save()
    result = BuildResult(output=output, files=counts["files"], written=counts["written"], linked=counts["linked"],
                         warnings=prepared.warnings)
    if pin and not frozen:
        result.pinned = _pin_ids(source, loaded)
        if new_ledger.entries != old_ledger.entries:
            atomic_write_text(source_paths(source)["ledger"], new_ledger.to_text())
            result.ledger_added = len(new_ledger.entries) - len(old_ledger.entries)
    return result


def run_check(source: Path, *, base_url: str | None, today: date, frozen: bool) -> Prepared:
    """``badgekiln check``: validate the sources and compile the site's templates; write nothing.

    Raises:
        ValidationFailed: with every error (and warning) found in the sources.
        ConfigError: for a template that does not compile (its file and line).
    """
    source = source.resolve()
    prepared = prepare(source, base_url=base_url, today=today, frozen=frozen)
    with _located_template_errors(source):
        renderer = Renderer(source_paths(source)["templates"])
        renderer.compile_used()
        renderer.template_sources()  # every file of templates/ is read by a build (its cache keys): as it would be
    return prepared


@contextmanager
def _located_template_errors(source: Path) -> Iterator[None]:
    """Template errors as a ConfigError that names the template file and line."""
    try:
        yield
    except jinja2.TemplateSyntaxError as exc:
        where = SourceLocation(f"templates/{exc.name}" if exc.name else "templates", exc.lineno or 0)
        raise ConfigError(f"{where}: template error: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise ConfigError(f"{_template_frame(exc, source)}template error: {exc}") from None


def _pin_ids(source: Path, loaded: Loaded) -> dict[str, list[str]]:
    """Write derived ids into the recipient files that lack them."""
    pinned: dict[str, list[str]] = {}
    for recipient in loaded.project.recipients:
        pins = [(a.location, a.id) for a in recipient.awards if not a.id_pinned]
        if pins:
            rel = recipient.location.path
            pin_award_ids(source / rel, rel, pins)
            pinned[rel] = [award_id for _, award_id in pins]
    return pinned


def _template_frame(exc: BaseException, source: Path) -> str:
    """``templates/award.html:12: `` for the innermost template line of a rendering error, or ``""``."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith((".html", ".xml", ".txt"))]
    if not frames:
        return ""
    path = Path(frames[-1].filename)
    shown = path.relative_to(source).as_posix() if path.is_relative_to(source) else f"(built-in) {path.name}"
    return f"{shown}:{frames[-1].lineno}: "
