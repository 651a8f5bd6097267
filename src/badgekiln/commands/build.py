"""``badgekiln build``: load, validate, plan, write atomically, then pin new award ids."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from pathlib import Path

from badgekiln.commands import buildsummary
from badgekiln.commands.buildsummary import Beside, Summary, read_state, summarize, write_state
from badgekiln.commands.progress import Progress
from badgekiln.engine import forking, outputscan, stamp, timings, views
from badgekiln.engine.cache import BuildCache, CacheRecordDamaged
from badgekiln.engine.cache import committed as cache_committed
from badgekiln.engine.plan import BuildInputs, build
from badgekiln.engine.site import check_output_dir, remove_leftovers, write_site
from badgekiln.engine.workers import FastSigner
from badgekiln.errors import (
    Diagnostic,
    OutputError,
    SourceError,
    SourceLocation,
    ValidationFailed,
)
from badgekiln.models import ROW_PINNED, Award, Project, Recipient
from badgekiln.pages.markdown import markdown_problem
from badgekiln.pages.render import Renderer
from badgekiln.pages.templateerrors import located_template_errors
from badgekiln.signing import keys as keys_mod
from badgekiln.signing.keys import ED25519, RSA
from badgekiln.signing.signer import Signer, open_signer
from badgekiln.sources import ledger as ledger_mod
from badgekiln.sources import safefiles
from badgekiln.sources.config import SourceTree, source_paths
from badgekiln.sources.editlock import editing
from badgekiln.sources.loading import MAX_FILE_BYTES
from badgekiln.sources.records import FileChanged, atomic_write_text, pin_award_ids
from badgekiln.sources.validate import Loaded, load_project

WRITE_ERRNOS = frozenset((errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS))


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
    summary: Summary | None = None  # what changed since the previous build
    leftovers: tuple[Path, ...] = ()  # staging folders of killed builds, removed
    cached: bool = False  # built with the cache in the sources (then a stamp may be kept: engine/stamp.py)
    ledger_written: bool = False  # site_src/awards.lock was written (new awards, keys pinned)


@dataclass(frozen=True)
class Prepared:
    """Validated sources, the ledger before and after this build, and the signer."""

    loaded: Loaded
    old_ledger: ledger_mod.Ledger
    ledger: ledger_mod.Ledger
    signer: Signer
    resigned: tuple[ledger_mod.Entry, ...]
    warnings: tuple[Diagnostic, ...]


def prepare(
    source: Path,
    *,
    base_url: str | None,
    today: date,
    frozen: bool,
    production: bool = False,
    output: Path | None = None,
    cache: BuildCache | None = None,
    listed: stamp.Inputs | None = None,
) -> Prepared:
    """Load and validate the sources (reusing a ``cache``'s unchanged files), open the keys and
    reconcile the ledger. ``listed``: the stamp's inputs, whose listings of the source folders
    the ``cache`` uses instead of listing them again.

    Raises:
        ValidationFailed: with every error (and warning) found.
    """
    with timings.phase("sources"):
        if cache is not None:
            loaded = cache.load_project(
                source,
                base_url=base_url,
                today=today,
                listings=listed.listings if listed else None,
                clock=listed.clock if listed else None,
            )
        else:
            loaded = load_project(source, base_url=base_url, today=today)
    diagnostics: list[Diagnostic] = list(loaded.warnings)
    with timings.phase("keys"):
        signer = open_signer(source, output, today=today, production=production, diagnostics=diagnostics)
    path = source_paths(source).ledger
    saved_digest = _saved_ledger_digest(source) if cache else None
    with timings.phase("ledger"):
        old = ledger_mod.read_ledger(path, diagnostics, trusted=saved_digest)
        new = ledger_mod.reconcile(old, loaded.project, diagnostics)
    keyring = signer.keyring
    new, resigned = ledger_mod.assign_keys(
        new,
        rsa_kid=keyring.active_kid(RSA),
        ed_kid=keyring.active_kid(ED25519),
        published={r.kid for r in keyring.records if r.published},
    )
    for entry in resigned:
        diagnostics.append(
            Diagnostic(
                "warning",
                "re-signed",
                f"award {entry.id} was signed with a retired key and is re-signed with the active key",
                SourceLocation(ledger_mod.REL),
            )
        )
    if not frozen and cache is not None and (saved_digest is None or old.digest != saved_digest):
        # (a ledger of the very bytes the last build saved only grows at its end: nothing moved)
        diagnostics.extend(moved_indices(source, new, present_only=True))
    if frozen:
        if cache is not None:  # (a cache the build trusts: not one committed to the repository)
            diagnostics.extend(moved_indices(source, new))
        elif cache_committed(source):  # (committing any file there would switch the check off: review)
            diagnostics.append(
                Diagnostic(
                    "error",
                    "cache-committed",
                    "git tracks files in .badgekiln/, the build's cache: a frozen build does not trust it, and "
                    "cannot check that the status-list indices of published awards stayed where they were",
                    SourceLocation(".badgekiln"),
                    "remove it from git ('git rm -r --cached .badgekiln') and commit; .gitignore lists it",
                )
            )
        for award in _unpinned(loaded.project):
            diagnostics.append(
                Diagnostic(
                    "error",
                    "unpinned-id",
                    f"this award has no 'id' yet (it would get {award.id})",
                    award.location,
                    "run 'python build.py' locally, which writes the ids and site_src/awards.lock, and commit them",
                )
            )
        if new.entries != old.entries:
            diagnostics.append(
                Diagnostic(
                    "error",
                    "ledger-stale",
                    "site_src/awards.lock is not up to date (new awards, or keys to pin)",
                    SourceLocation(ledger_mod.REL),
                    "run 'python build.py' locally and commit site_src/awards.lock",
                )
            )
    diagnostics.extend(_markdown_limits(source, loaded))
    if production:
        diagnostics.extend(placeholder_addresses(loaded.config))
        diagnostics.extend(starter_texts(loaded))
    if any(d.is_error for d in diagnostics):
        raise ValidationFailed(diagnostics)
    warnings = tuple(sorted((d for d in diagnostics if not d.is_error), key=Diagnostic.sort_key))
    return Prepared(loaded, old, new, signer, tuple(resigned), warnings)


def run_build(
    source: Path,
    output: Path,
    *,
    base_url: str | None,
    today: date,
    frozen: bool = False,
    production: bool = False,
    pin: bool = True,
    use_cache: bool = True,
    scanner: outputscan.Scanner | None = None,
    progress: Progress | None = None,
    stamp_inputs: stamp.Inputs | None = None,
) -> BuildResult:
    """Build the site from ``source`` into ``output``. ``production`` implies ``frozen``.

    ``scanner``: a scan of ``output`` begun earlier (see :mod:`badgekiln.engine.outputscan`).
    ``progress``: where to report the stages (and groups of files made) as they happen.
    ``stamp_inputs``: the inputs as stat-ed before the build (:func:`badgekiln.engine.stamp.inputs`):
    a build that changes nothing it read then keeps its stamp, for the next one to replay.

    With ``pin`` (the default, outside ``frozen``) new award ids are written into the recipient
    files and the ledger is saved; a preview (``serve``) leaves the sources alone.
    """
    source = source.resolve()
    try:
        output = check_output_dir(output, source)  # before anything looks inside it (and where it was checked)
    except OutputError:
        _release(scanner)
        raise
    leftovers = remove_leftovers(output)
    keys_mod.made_development_keys()  # (forget keys made before this build: only its own count, see _keep_stamp)
    if safefiles.kind(source, SourceTree.SITE_YAML) != "file":
        use_cache = False  # (not a site: the build fails, and leaves no .badgekiln/ where it was run)
    notes: list[Diagnostic] = []  # a damaged cache, not used: said as warnings
    # (the cache state and the sources a build reads live as long as it: frozen out of the
    # collector's sight, see engine/forking.py)
    with forking.frozen():
        with timings.phase("cache open"), forking.collector_paused():
            cache = BuildCache.open(source, output, scanner, warnings=notes) if use_cache else None
        if cache is None:  # the cache is not to be used after all: let the scan go
            _release(scanner)
        stamp.forget(source)  # (under the cache's lock: this build changes what the stamp describes)
        try:
            build_once = partial(
                _run_build,
                source,
                output,
                base_url=base_url,
                today=today,
                frozen=frozen or production,
                production=production,
                pin=pin,
                progress=progress,
                listed=stamp_inputs,
            )
            try:
                result = build_once(cache=cache)
            except Exception as failed:  # noqa: BLE001 - re-raised unless the cache's damage explains it
                damaged = damaged_cache(cache, failed)
                if damaged is None:
                    raise
                assert cache is not None
                with contextlib.suppress(OSError):  # (under the lock, which close() lets go)
                    (cache.root / "state.json").unlink()
                cache.close()
                cache = BuildCache.open(source, output, None, warnings=notes)
                notes.append(
                    Diagnostic(
                        "warning",
                        "cache-damaged",
                        f"the build cache is damaged and is not used: the record of {damaged[:80]!r} is damaged",
                        SourceLocation(".badgekiln/cache/state.json"),
                        "this build started afresh",
                    )
                )
                result = build_once(cache=cache)
            notes.extend(cache.warnings if cache else ())
            if notes:
                result.warnings = tuple(sorted((*result.warnings, *notes), key=Diagnostic.sort_key))
            result.leftovers, result.cached = tuple(leftovers), cache is not None
            if stamp_inputs is not None and cache is not None:
                _keep_stamp(source, output, stamp_inputs, result, cache.output_folders(), cache.untouched_folders())
        except OSError as exc:
            if exc.errno not in WRITE_ERRNOS:
                raise
            # the cache's folder (output/ has its own message) is full, read-only or over a size limit
            what = (
                exc.filename2
                or exc.filename
                or (f"into {output} or its build cache {cache.root}" if cache else f"into {output}")
            )
            if cache is not None and cache.output_written:  # (the cache's record, after output/ was updated)
                raise OutputError(
                    f"the build updated {output} but could not write {what}: {exc.strerror or exc}; "
                    "make room and build again"
                ) from None
            raise OutputError(
                f"the build could not write {what}: {exc.strerror or exc}; the previous output is unchanged"
            ) from None
        finally:
            if cache is not None:
                cache.close()
        return result


def damaged_cache(cache: BuildCache | None, failed: Exception) -> str | None:
    """The source file whose record in ``cache`` is damaged, when that is why a build ``failed``
    (it then starts again without the cache's state), else None.

    A damaged bundle says so (:class:`CacheRecordDamaged`), and so does a recipient's record read
    lazily (:class:`views.Damaged`), wherever it is read: before output/ changes, or after (the
    build summary). A summary altered so that it no longer says what its record says may make
    the build fail another way (a date that is no date, an award gone from the ledger's view):
    a build that fails for any other reason decodes every recipient it read lazily and checks."""
    if isinstance(failed, (CacheRecordDamaged, views.Damaged)):
        return failed.bundle
    if cache is None or isinstance(failed, forking.Stopped):
        return None
    found = cache.damaged_record()
    return found.bundle if found is not None else None


def _keep_stamp(
    source: Path,
    output: Path,
    before: stamp.Inputs,
    result: BuildResult,
    folders: list[str] | None = None,
    known: dict[str, str] | None = None,
) -> None:
    """Keep the stamp of this build (under the cache's lock), unless what it did or said happens
    once: it changed its own sources, removed leftovers, or found the cache damaged. ``folders``:
    the folders of ``output/``, when the build knows them (else they are listed); ``known``: the
    times of those it did not write in (:meth:`BuildCache.untouched_folders`)."""
    if keys_mod.made_development_keys():  # (its stamp would hold the key folders as they were before)
        return
    if result.pinned or result.ledger_written or result.leftovers:
        return
    if any(w.code == "cache-damaged" for w in result.warnings):
        return
    summary = (result.summary.unchanged().line(),) if result.summary is not None else ()
    with timings.phase("stamp"):
        stamp.record(
            source,
            output,
            before,
            stamp.Report(tuple(w.render() for w in result.warnings), result.files, summary),
            folders=folders,
            known=known,
        )


def _release(scanner: outputscan.Scanner | None) -> None:
    """End a scan of the output folder that nobody will use, and free the lock it took."""
    if scanner is not None:
        scanner.close()
        if scanner.lock is not None:
            scanner.lock.close()


def _run_build(
    source: Path,
    output: Path,
    *,
    base_url: str | None,
    today: date,
    frozen: bool,
    production: bool,
    pin: bool,
    cache: BuildCache | None,
    progress: Progress | None = None,
    listed: stamp.Inputs | None = None,
) -> BuildResult:
    progress = progress or Progress(enabled=False)
    progress.stage("reading the sources")
    # (millions of objects that live as long as the build: see engine/forking.py)
    with forking.frozen(), forking.collector_paused():
        prepared = prepare(
            source,
            base_url=base_url,
            today=today,
            frozen=frozen,
            production=production,
            output=output,
            cache=cache,
            listed=listed,
        )
    # (the sources and the cache's state, read: they live as long as the build; a full collection
    # walked them all again, 0.17 s of a 1.5 s rebuild at 10,000 awards)
    with forking.frozen():
        loaded, old_ledger, new_ledger = prepared.loaded, prepared.old_ledger, prepared.ledger
        renderer = Renderer(source_paths(source).templates)
        inputs = BuildInputs(
            config=loaded.config,
            project=loaded.project,
            ledger=new_ledger,
            signer=FastSigner.of(prepared.signer),
            source=source,
            today=today,
        )
        progress.stage("signing and rendering")
        beside = None
        try:
            beside = _summary_beside(source, loaded.project, today, cache, pin=pin, awards=len(new_ledger.entries))
            with located_template_errors(source), _counting_groups(cache, progress), timings.phase("plan"):
                plan = build(inputs, renderer, cache)
            progress.stage(f"writing {plan.count()} files")
            with timings.phase("write"):
                counts = cache.write(plan) if cache else dict(write_site(plan, output), files=plan.count())
            del plan  # (its records' texts, 100 MB at 100,000 awards, are let go with the cache's: see let_go)
            if cache:
                with timings.phase("cache save"):
                    cache.save()
                with timings.phase("output stamp"):
                    cache.stamp_output()
            from badgekiln.commands.github import repository_warnings  # (only here: not on every command's path)

            result = BuildResult(
                output=output,
                files=counts["files"],
                written=counts["written"],
                linked=counts["linked"],
                warnings=prepared.warnings + repository_warnings(source, loaded.project.badges),
            )
            with timings.phase("summary"), forking.collector_paused():
                summary = beside.summary(keep=True) if beside is not None else None
                if summary is None:
                    if cache:
                        # (made here: the last build's view is read into the memory the cache's
                        # records held. Not when it was made beside: freeing them cost 0.03 s
                        # of a rebuild at 100,000 awards, and the process ends without freeing)
                        cache.let_go()
                    with timings.phase("summary/read"):
                        previous = read_state(source)
                    with timings.phase("summary/compare"):
                        summary, snapshot = summarize(
                            loaded.project, today, previous, partial(_record_of, cache) if cache else None
                        )
                    if pin and cache is not None:  # a build of the site (not a preview) with its cache in the sources
                        with timings.phase("summary/write"):
                            write_state(source, snapshot)
                result.summary = summary
                if pin and cache is not None and buildsummary.blocked(source):
                    result.warnings += (_summary_blocked(),)
                if pin and cache is not None:
                    with timings.phase("summary/ledger"):
                        _save_ledger(source, new_ledger, old_ledger)
        finally:
            if beside is not None:
                beside.close()
        if pin and not frozen:
            # (under the sources' edit lock: an award added meanwhile keeps its lines, see editlock.py)
            with timings.phase("pin ids and ledger"), editing(source):
                deferred: list[Diagnostic] = []
                result.pinned = _pin_ids(source, loaded, deferred)
                result.warnings += tuple(deferred)
                if new_ledger.entries != old_ledger.entries and _ledger_digest(source) != old_ledger.digest:
                    result.warnings += (_ledger_changed(),)
                    # (the copy kept with the cache holds this build's ledger, not the one written:
                    # the next build would take the indices it gave for moved ones, a review)
                    with contextlib.suppress(OSError):
                        (source / BUILT_LEDGER).unlink()
                elif new_ledger.entries != old_ledger.entries:
                    atomic_write_text(source_paths(source).ledger, new_ledger.to_text())
                    result.ledger_added = len(new_ledger.entries) - len(old_ledger.entries)
                    result.ledger_written = True
        return result


def _ledger_changed() -> Diagnostic:
    return Diagnostic(
        "warning",
        "ledger-changed",
        "site_src/awards.lock changed while this build ran (another command recorded awards in it), "
        "so the build did not write it over that",
        SourceLocation(ledger_mod.REL),
        "build again: the next build records what this one would have",
    )


def _summary_blocked() -> Diagnostic:
    """The warning for a folder where the build keeps its summary's snapshot (see :func:`buildsummary.blocked`)."""
    where = buildsummary.STATE.as_posix()
    return Diagnostic(
        "warning",
        "summary-not-kept",
        f"{where} is a folder: the build cannot keep what it published there, so its summary "
        "cannot say what changed since this build",
        SourceLocation(where),
        f"remove the folder (rm -r {where}); the next build keeps the file again",
    )


def run_check(source: Path, *, base_url: str | None, today: date, frozen: bool) -> Prepared:
    """``badgekiln check``: validate the sources and compile the site's templates; write nothing.

    Raises:
        ValidationFailed: with every error (and warning) found in the sources.
        ConfigError: for a template that does not compile (its file and line).
    """
    source = source.resolve()
    prepared = prepare(source, base_url=base_url, today=today, frozen=frozen)
    with located_template_errors(source):
        renderer = Renderer(source_paths(source).templates)
        renderer.compile_used()
        renderer.template_sources()  # every file of templates/ is read by a build (its cache keys): as it would be
    from badgekiln.commands.github import repository_warnings

    return replace(prepared, warnings=prepared.warnings + repository_warnings(source, prepared.loaded.project.badges))


@contextmanager
def _counting_groups(cache: BuildCache | None, progress: Progress) -> Iterator[None]:
    """Count each group of files the cache records as made (once per group, not per file)."""
    if cache is None or not progress.enabled:
        yield
        return
    cache.on_made = progress.advance
    try:
        yield
    finally:
        cache.on_made = None


def _markdown_limits(source: Path, loaded: Loaded) -> list[Diagnostic]:
    """An error for each page or criteria text that is too large to render (see markdown.py)."""
    found = []
    for badge in loaded.project.badges.values():
        problem = markdown_problem(badge.criteria)
        if problem is not None:
            found.append(
                Diagnostic(
                    "error",
                    "markdown-too-large",
                    f"'criteria': {problem[0]}",
                    badge.location,
                    "shorten it, or link to a page with the details",
                )
            )
    pages = source_paths(source).pages
    for page in loaded.project.pages:
        problem = markdown_problem(page.body)
        if problem is not None:
            rel = (pages / f"{page.slug}.md").relative_to(source).as_posix()
            line = problem[1] + _front_matter_lines(source / rel, page.body)
            found.append(
                Diagnostic(
                    "error",
                    "markdown-too-large",
                    problem[0],
                    SourceLocation(rel, line),
                    "split the page into several pages",
                )
            )
    return found


def _front_matter_lines(path: Path, body: str) -> int:
    """How many lines of the page file come before its Markdown body (0 when that cannot be told)."""
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
            return 0  # (the loader read it as a plain file; it changed since: no line then)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            text = handle.read(MAX_FILE_BYTES).decode("utf-8").replace("\r\n", "\n")
    except (OSError, UnicodeDecodeError):
        return 0
    body = body.replace("\r\n", "\n")
    return text[: len(text) - len(body)].count("\n") if text.endswith(body) else 0


def _unpinned(project: Project) -> list[Award]:
    """The awards whose ids this build gave them (not yet written in their files), in id order;
    only the recipients that have one are looked at (by their :attr:`~Recipient.rows`)."""
    return sorted(
        (
            a
            for r in project.recipients
            if not all(row[ROW_PINNED] for row in r.rows)
            for a in r.awards
            if not a.id_pinned
        ),
        key=lambda a: a.id,
    )


def _pin_ids(source: Path, loaded: Loaded, warnings: list[Diagnostic]) -> dict[str, list[str]]:
    """Write derived ids into the recipient files that lack them; a file another command changed
    while the build ran is left to the next build, with a warning in ``warnings``."""
    pinned: dict[str, list[str]] = {}
    for recipient in loaded.project.recipients:
        if all(row[ROW_PINNED] for row in recipient.rows):
            continue  # (the usual file: no award's model is made)
        pins = [(a.location, a.id) for a in recipient.awards if not a.id_pinned and a.location is not None]
        if pins and recipient.location is not None:
            rel = recipient.location.path
            try:
                pin_award_ids(source / rel, rel, pins)
            except FileChanged as changed:  # (ids are derived: the next build pins the same ones)
                warnings.append(
                    Diagnostic(
                        "warning",
                        "pin-deferred",
                        f"{changed}: its new awards' ids are written by the next build",
                        changed.diagnostic.location,
                        "build again",
                    )
                )
                continue
            pinned[rel] = [award_id for _, award_id in pins]
    return pinned


# The domains reserved for examples in documentation (RFC 2606 section 3), which starter files
# and copied examples use: no site is published there. (The top-level names .example and .test
# are left alone: nobody types them by mistake, and the bundled example site is .example.)
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")


def placeholder_addresses(config) -> list[Diagnostic]:
    """For a production build: a ``base_url`` on a domain reserved for examples is an error (every
    badge, QR code and signature would name it for ever: a starter site's ``badges.example.org``
    published as it was), and an issuer ``url`` or ``email`` there is a warning."""

    def reserved(host: str | None) -> bool:
        import unicodedata

        host = unicodedata.normalize("NFKC", host or "").lower().rstrip(".").replace("\u3002", ".")  # (ｅｘａｍｐｌｅ)
        return any(host == domain or host.endswith("." + domain) for domain in RESERVED_DOMAINS)

    from urllib.parse import urlsplit

    where = SourceLocation("site_src/site.yaml")
    found = []
    base_url = config.published.base_url
    if reserved(urlsplit(base_url).hostname):
        found.append(
            Diagnostic(
                "error",
                "placeholder-address",
                f"'base_url' {base_url!r} is an example address: every badge, QR code and signature of "
                "this build would point there for ever",
                where,
                "set 'base_url' in site_src/site.yaml to the address the site is published at "
                "(on GitHub Pages: https://<user>.github.io/<repository>/)",
            )
        )
    for key, value, host in (
        ("issuer.url", config.issuer.url, urlsplit(config.issuer.url).hostname),
        ("issuer.email", config.issuer.email, config.issuer.email.rpartition("@")[2]),
    ):
        if reserved(host):
            found.append(
                Diagnostic(
                    "warning",
                    "placeholder-address",
                    f"'{key}' {value!r} is an example address, published in the issuer profile and on every page",
                    where,
                    f"set '{key}' in site_src/site.yaml to your own",
                )
            )
    return found


def starter_texts(loaded: Loaded) -> list[Diagnostic]:
    """For a production build: a warning for each text of ``badgekiln init``'s starter still
    there, which every visitor would read (UX walkthrough: "What we assess and why our badges
    matter." was published on the home page without a word)."""
    from badgekiln.commands import scaffold

    config, project = loaded.config, loaded.project
    found = []
    if config.issuer.description.strip() == scaffold.STARTER_DESCRIPTION:
        found.append(("site_src/site.yaml", "the issuer's 'description' is the starter's", "say what you assess"))
    for page in project.pages:
        if page.slug == "how-to-verify" and page.body.strip() == scaffold.STARTER_HOW_TO_VERIFY:
            found.append(
                (
                    "site_src/pages/how-to-verify.md",
                    "the page 'How to verify a badge' is the starter's one sentence",
                    "tell employers how to check a badge of yours, and whom to ask",
                )
            )
    for slug, badge in sorted(project.badges.items()):
        if badge.description.strip() == scaffold.STARTER_BADGE_DESCRIPTION:
            found.append(
                (
                    badge.location.path if badge.location else f"badges/{slug}.yaml",
                    f"the badge {badge.name!r} has the starter badge's 'description'",
                    "describe what its holders can do",
                )
            )
    return [
        Diagnostic("warning", "starter-text", f"{what}: it is published as it is", SourceLocation(where), hint)
        for where, what, hint in found
    ]


# The ledger of the last build that completed here, kept with the cache. In CI the cache comes
# from the last publishing run, so it is the published site's ledger: see moved_indices.
BUILT_LEDGER = Path(".badgekiln/built-awards.lock")


def moved_indices(source: Path, ledger: ledger_mod.Ledger, *, present_only: bool = False) -> list[Diagnostic]:
    """An error for each award whose status-list index differs from the one the last build here
    gave it. Earners hold copies of credentials naming that index: a ledger reordered in a pull
    request would make the revoked badge of one read as another's, valid one (hostile review),
    and the frozen build only checked that the ledger agrees with the sources. Nothing is said
    without a saved ledger (a first build, no cache restored).

    ``present_only`` (a build that writes the ledger, on a computer): a warning, not an error,
    for the awards ``ledger`` holds (those of the sources). A line lost in a merge, or the file
    removed, gave a published award a new index and its old one to a new award, and the build
    wrote it without a word (a review, 2026-12-07); but the last build here is not the published
    site: after a rebase onto the published branch, this branch's own awards move, as they must
    (a second review), and only the published ledger, which a frozen build has, can tell the two
    apart. An award removed with its line is the frozen build's to judge too."""
    path = source / BUILT_LEDGER
    try:
        saved = path.read_text(encoding="utf-8") if path.is_file() and not path.is_symlink() else None
    except (OSError, UnicodeDecodeError):
        saved = None
    if not saved or ledger.to_text().startswith(saved):  # (the usual case: new lines appended)
        return []
    ignored: list[Diagnostic] = []
    before = ledger_mod.parse_ledger(saved, ignored)
    moved = sorted(
        (entry.index, entry.id, ledger.entries[entry.id].index if entry.id in ledger.entries else None)
        for entry in before.entries.values()
        if (entry.id not in ledger.entries and not present_only)
        or (entry.id in ledger.entries and ledger.entries[entry.id].index != entry.index)
    )
    if present_only:
        return [
            Diagnostic(
                "warning",
                "ledger-index-moved",
                f"award {award_id} had status-list index {was} in the last build here, and site_src/awards.lock "
                f"now gives it {now}: if it was published, copies of its credential that earners hold would "
                "read another award's status",
                SourceLocation(ledger_mod.REL),
                "if it was published (its line is in the published branch's awards.lock), put the published "
                "lines back (git checkout <published branch> -- site_src/awards.lock) and build again; if it "
                "was not (this branch's own award, after a rebase or merge), nothing is wrong",
            )
            for was, award_id, now in moved[:20]
        ]
    return [
        Diagnostic(
            "error",
            "ledger-index-changed",
            f"award {award_id} had status-list index {was} in the last build, and site_src/awards.lock now "
            + (f"gives it {now}" if now is not None else "has no line for it (its index may go to a new award)")
            + ": copies of its credential that earners hold would read another award's status",
            SourceLocation(ledger_mod.REL),
            "put back the lines of site_src/awards.lock as they were published (git checkout <published "
            "commit> -- site_src/awards.lock) and keep new awards below them; revoke an award, never remove it",
        )
        for was, award_id, now in moved[:20]
    ]


def _summary_beside(
    source: Path, project: Project, today: date, cache: BuildCache | None, *, pin: bool, awards: int
) -> Beside | None:
    """The build summary made in a process beside this build (:class:`buildsummary.Beside`), or
    None: for a build of a large site, with its cache in the sources, that reuses ``output/`` (a
    rebuild). A build afresh makes every award's view: its process would copy the memory of every
    award, through the make."""
    if not pin or cache is None or awards < buildsummary.AHEAD_AWARDS or forking.jobs() < 2 or not cache.intact:
        return None
    return Beside(source, project, today, partial(_record_of, cache))


def _record_of(cache: BuildCache, recipient: Recipient) -> tuple[str, str] | None:
    """A recipient's file and the identity of the cached record its model is, if it is one."""
    if recipient.location is None:
        return None
    found = cache.source_identity(recipient.location.path, recipient)
    return (recipient.location.path, found) if found is not None else None


def _saved_ledger_digest(source: Path) -> str | None:
    """The SHA-256 of the ledger the last build here saved (:data:`BUILT_LEDGER`), or None."""
    return _ledger_digest(source, BUILT_LEDGER.as_posix())


def _ledger_digest(source: Path, rel: str = ledger_mod.REL) -> str | None:
    """The SHA-256 of a ledger's bytes as they are now (``site_src/awards.lock``, or the copy at
    ``rel``), or None when it is not there or not readable."""
    try:  # (a regular file reached without a link, of a bounded size)
        data = safefiles.read_bytes(source, rel, limit=ledger_mod.MAX_LEDGER_BYTES)
    except (OSError, SourceError):
        return None
    return hashlib.sha256(data).hexdigest()


def _save_ledger(source: Path, ledger: ledger_mod.Ledger, read: ledger_mod.Ledger) -> None:
    """Keep this build's ledger with the cache (a failure to write only loses the check above).

    Not written again when it is there already: when the ledger this build ``read`` has the same
    entries and the saved file has the same bytes (which :meth:`~ledger_mod.Ledger.to_text`
    wrote, so they are the text of those entries). Making and writing the text of 100,000 awards
    took 0.07 s of every rebuild."""
    path = source / BUILT_LEDGER
    with contextlib.suppress(OSError):
        if path.is_symlink():
            return
        if read.digest is not None and ledger.entries == read.entries and _saved_ledger_digest(source) == read.digest:
            return  # (read safely: a FIFO or a huge file there is not read, and is replaced)
        atomic_write_text(path, ledger.to_text())
