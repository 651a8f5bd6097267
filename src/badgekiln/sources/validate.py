"""Sources to a validated :class:`~badgekiln.models.Project`, reporting every problem at once.

``load_project`` reads ``site.yaml``, every ``badges/*.yaml``, ``recipients/*.yaml`` and
``site_src/pages/*.md``, checks types, identifiers, dates, cross-references and duplicates, and
raises one :class:`~badgekiln.errors.ValidationFailed` listing all the errors. Warnings are
returned beside the project.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from badgekiln.errors import (
    BakeError,
    Diagnostic,
    SourceError,
    SourceLocation,
    ValidationFailed,
)
from badgekiln.formats import baking, ids, pngcheck, raster, svgsafety
from badgekiln.formats.ob3 import ACHIEVEMENT_TYPES, normalize_achievement_type
from badgekiln.models import (
    ROW_BADGE,
    ROW_ID,
    ROW_ISSUED,
    ROW_RENEWS,
    Alignment,
    Award,
    AwardRow,
    BadgeClass,
    Evidence,
    Page,
    Project,
    Recipient,
    Revocation,
    Suspension,
)
from badgekiln.sources import credentialsize, learning, safefiles
from badgekiln.sources import ledger as ledger_mod
from badgekiln.sources.config import SiteConfig, SourceTree, read_site_config, source_paths
from badgekiln.sources.endorsements import read_sources as read_endorsements
from badgekiln.sources.fields import (
    AWARD_ID_RE,
    MAX_ALIGNMENTS,
    MAX_EVIDENCE,
    MAX_TAGS,
    SLUG_RE,
    Fields,
    did_you_mean,
    email_in_text,
    emails_in_text,
    font_coverage,
    invisible_character,
    markdown_as_shown,
    markdown_limit,
    plain_text,
    slugify,
)
from badgekiln.sources.loading import load_markdown_page, load_yaml
from badgekiln.sources.members import misnamed_members, read_members

MAX_REASON = 500  # characters of a revocation's or suspension's reason (published with the badge)
LAPSED_REASON = "membership lapsed"  # the reason of a suspension computed from a lapsed membership
IMAGE_TYPES = {".png": b"\x89PNG\r\n\x1a\n", ".svg": None}
ASSET_NAME_RE = re.compile(r"^(?:[A-Za-z0-9_.-]+/)*[A-Za-z0-9_.-]+\Z")
MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_ASSET_BYTES = 10 * 1024 * 1024  # bytes: any one file published from site_src/assets/ (fonts, CSS, images)
SITE_STYLESHEET = "assets/site.css"  # relative to site_src/: the site's own CSS, linked from every page
# What site_src/assets/ may publish: images, stylesheets and their fonts.
PUBLISHED_ASSET_SUFFIXES = frozenset(
    (".png", ".svg", ".jpg", ".jpeg", ".webp", ".gif", ".ico", ".css", ".woff", ".woff2")
)


@dataclass(frozen=True)
class Loaded:
    """The result of a successful validation."""

    config: SiteConfig
    project: Project
    warnings: tuple[Diagnostic, ...]


@dataclass(frozen=True)
class FileResult:
    """What validating one source file gave: its models and problems, and what else it depended on."""

    values: tuple[BadgeClass | Recipient, ...]  # the model values read from the file
    diagnostics: tuple[Diagnostic, ...]
    # Other source files (relative to the site) it read, each with the SHA-256 of the very bytes it
    # validated (None if it could not read them): a file saved during validation is not trusted later.
    reads: tuple[tuple[str, str | None], ...] = ()
    latest_day: date | None = None  # the latest date of the file that was compared with 'today'


class SourceMemo(Protocol):
    """How a build reuses the validation of unchanged files (:class:`badgekiln.engine.cache.BuildCache`).

    ``files`` returns ``[validate_one(folder / name) for name in names]``, or results kept from an
    earlier call whose file bytes, ``context`` and ``reads`` were the same and whose date
    comparisons with ``today`` come out the same. (Files by name: a ``Path`` made, hashed and
    named for each of 27,000 recipient files was 0.1-0.15 s of a rebuild.)
    """

    def files(
        self,
        kind: str,
        folder: Path,
        names: list[str],
        context: Any,
        validate_one: Callable[[Path], FileResult],
        today: date | None,
        listed: dict[str, os.stat_result] | None = None,
    ) -> list[FileResult]: ...


class _NoMemo:
    def files(self, kind, folder, names, context, validate_one, today, listed=None):  # noqa: D102 - SourceMemo
        return [validate_one(folder / name) for name in names]


def load_project(
    source: Path,
    *,
    base_url: str | None = None,
    today: date | None = None,
    memo: SourceMemo | None = None,
    listings: Mapping[str, list[safefiles.Entry]] | None = None,
) -> Loaded:
    """Read and validate every source file below ``source``: the one validation path.

    ``memo``: a build's cache, which may hand back the results of files validated before
    (badge and recipient files, the bulk of a site) instead of validating them again.
    ``listings``: the ``badges`` and ``recipients`` folders as :func:`safefiles.list_dir` listed
    them before the build (for its stamp), used instead of listing them again.

    Raises:
        ValidationFailed: with every error found (and the warnings).
    """
    memo = memo or _NoMemo()
    source = source.resolve()
    paths = source_paths(source)
    diagnostics: list[Diagnostic] = []
    config = _load_config(source, paths, diagnostics, base_url)
    listings = listings or {}
    badge_names, listed = _yaml_files(paths["badges"], source, diagnostics, "badge", listings.get("badges"))
    badges: dict[str, BadgeClass] = {}
    validate_badge = partial(_badge_file, source)
    for result in memo.files("badges", paths["badges"], badge_names, None, validate_badge, today, listed):
        badges.update((badge.slug, badge) for badge in result.values if isinstance(badge, BadgeClass))
        diagnostics.extend(result.diagnostics)
    badge_files = {name[:-5] for name in badge_names}
    recipient_names, listed = _yaml_files(
        paths["recipients"], source, diagnostics, "recipient", listings.get("recipients")
    )
    # A recipient file's result depends on the badge classes it can refer to, and on nothing else
    # of them (and of the issuer) but their validity and the shared part of their credentials'
    # size, rounded up to a step (credentialsize: it changes when a badge grows past a step).
    shared = {
        slug: credentialsize.shared_part(badge, config.issuer if config else None, config.base_url if config else "")
        for slug, badge in badges.items()
    }
    context = [sorted((slug, badge.valid_for, shared[slug]) for slug, badge in badges.items()), sorted(badge_files)]
    _check_badge_credential_sizes(badges, shared, diagnostics)
    recipients: list[Recipient] = []
    validate_recipient = partial(_recipient_file, source, badges, badge_files, today, shared)
    for result in memo.files(
        "recipients", paths["recipients"], recipient_names, context, validate_recipient, today, listed
    ):
        recipients.extend(value for value in result.values if isinstance(value, Recipient))
        diagnostics.extend(result.diagnostics)
    if any(d.code == "unknown-badge" for d in diagnostics):
        diagnostics[:] = _published_badges_named(source, diagnostics)
    pages = _load_pages(source, paths, diagnostics)
    _check_assets(source, config, badges, diagnostics)
    _check_duplicates(recipients, diagnostics)
    _check_earners_addresses_unpublished(recipients, badges, pages, config, diagnostics)
    _check_renewed_elsewhere(recipients, diagnostics)
    # Memberships are applied to the validated files here, on every build (not memoised): a
    # lapse follows from today's date and site_src/members.csv, which no recipient file holds.
    recipients = apply_memberships(recipients, badges, read_members(source, diagnostics), today, diagnostics)
    if any(badge.requires_membership for badge in badges.values()):
        diagnostics.extend(misnamed_members(source))
    learning.check_pathways(badges, badge_files, diagnostics)  # (needs every badge: not memoized per file)
    learning.check_handles(recipients, diagnostics)
    recipients = learning.add_cpd_csv(source, recipients, today, diagnostics)
    endorsements, endorsing = read_endorsements(source, config, badges, today, diagnostics)
    errors = [d for d in diagnostics if d.is_error]
    if errors or config is None:
        raise ValidationFailed(diagnostics)
    project = Project(
        issuer=config.issuer,
        badges=badges,
        recipients=tuple(recipients),
        pages=tuple(pages),
        endorsements=endorsements,
        endorsing=endorsing,
    )
    return Loaded(config=config, project=project, warnings=tuple(sorted(diagnostics, key=Diagnostic.sort_key)))


def _parse(path: Path, source: Path, diagnostics: list[Diagnostic]) -> Any:
    try:
        return load_yaml(path, source)
    except SourceError as exc:
        diagnostics.append(exc.diagnostic)
        return None


def _yaml_files(
    folder: Path,
    source: Path,
    diagnostics: list[Diagnostic],
    what: str,
    entries: list[safefiles.Entry] | None = None,
) -> tuple[list[str], dict[str, os.stat_result]]:
    """The names of the ``<slug>.yaml`` files directly in ``folder``, and each one's stat as the
    listing found it (links not followed); everything else there is reported. ``entries``: the
    folder's listing (:func:`safefiles.list_dir`) when it was taken already.

    Hidden files and READMEs are skipped quietly, other plain files (``notes.txt``) with a
    warning. What looks like a record that would be lost (``.yml``, ``.YAML``, ``ann.yaml.txt``,
    a sub-folder) or could be an attack (a symbolic link, a FIFO or device) is an error.
    """
    rel_folder = folder.relative_to(source).as_posix()
    if entries is None:
        try:
            entries = safefiles.list_dir(source, rel_folder)
        except SourceError as exc:
            diagnostics.append(exc.diagnostic)
            return [], {}
    found: list[str] = []
    listed: dict[str, os.stat_result] = {}
    for entry in entries:
        name = entry.name
        if entry.kind == "file" and name.endswith(".yaml") and SLUG_RE.match(name[:-5]):
            # (the usual entry, in short: a regular file named <slug>.yaml, as the last branch but one takes it)
            found.append(name)
            if entry.stat is not None:
                listed[name] = entry.stat
            continue
        rel = f"{rel_folder}/{name}"
        dot = name.rfind(".")  # (the suffix and stem as pathlib gives them, without making a Path per entry)
        suffix, stem = (name[dot:], name[:dot]) if 0 < dot < len(name) - 1 else ("", name)
        if entry.kind in ("link", "special"):
            what_it_is = "a symbolic link" if entry.kind == "link" else "not a regular file (a FIFO, socket or device)"
            diagnostics.append(
                Diagnostic(
                    "error",
                    "symlink" if entry.kind == "link" else "not-a-file",
                    f"this is {what_it_is}: badgekiln does not read it",
                    SourceLocation(rel),
                    safefiles.LINK_HINT if entry.kind == "link" else "remove it",
                )
            )
        elif suffix not in (".yaml", ".yml") and (name.startswith(".") or name.lower().split(".")[0] == "readme"):
            continue  # .gitkeep, .DS_Store, .git/, a README: not records
        elif entry.kind == "dir":
            diagnostics.append(
                Diagnostic(
                    "error",
                    "unexpected-folder",
                    f"this folder is not read: {what} files are <slug>.yaml directly in {rel_folder}/",
                    SourceLocation(rel),
                    f"move its .yaml files up into {rel_folder}/ (their records are not "
                    "published from a sub-folder), or move the folder out",
                )
            )
        elif suffix == ".yaml":
            if not SLUG_RE.match(stem):
                diagnostics.append(
                    Diagnostic(
                        "error",
                        "bad-file-name",
                        f"the file name {name!r} is not a valid slug",
                        SourceLocation(rel),
                        f"rename it to {slugify(stem)}.yaml (file names use only a-z, 0-9 and '-')",
                    )
                )
            else:
                found.append(name)
                if entry.stat is not None:
                    listed[name] = entry.stat
        elif suffix == ".yml":
            diagnostics.append(
                Diagnostic(
                    "error",
                    "bad-extension",
                    f"{what} files end in .yaml, not .yml",
                    SourceLocation(rel),
                    f"rename it to {stem}.yaml",
                )
            )
        elif ".yaml" in name.lower() or ".yml" in name.lower():
            diagnostics.append(
                Diagnostic(
                    "error",
                    "unexpected-file",
                    f"this file is not read: {what} files are named <slug>.yaml",
                    SourceLocation(rel),
                    f"rename it to {name.split('.')[0].lower()}.yaml; until then its records are not published",
                )
            )
        else:
            diagnostics.append(
                Diagnostic(
                    "warning",
                    "not-a-record",
                    f"this file is not a {what} record and is ignored ({what} records are <slug>.yaml files)",
                    SourceLocation(rel),
                    f"move it out of {rel_folder}/ to silence this warning",
                )
            )
    return found, listed


def load_site_config(source: Path) -> SiteConfig:
    """The site's settings alone (``site_src/site.yaml``), for a command that needs no more.

    Raises:
        ValidationFailed: site.yaml is missing or has errors.
    """
    diagnostics: list[Diagnostic] = []
    config = _load_config(source, source_paths(source), diagnostics, None)
    if config is None or any(d.is_error for d in diagnostics):
        raise ValidationFailed([d for d in diagnostics if d.is_error])
    return config


def _load_config(source: Path, paths, diagnostics, base_url) -> SiteConfig | None:
    site_yaml = paths["site_yaml"]
    if safefiles.kind(source, SourceTree.SITE_YAML) is None:
        diagnostics.append(
            Diagnostic(
                "error",
                "missing-file",
                "site_src/site.yaml is missing",
                SourceLocation(SourceTree.SITE_YAML),
                f"run the command in the site's folder (the one holding site_src/), or name it with --source; "
                f"'badgekiln init' creates a new site (looked in {source})",
            )
        )
        return None
    doc = _parse(site_yaml, source, diagnostics)
    if doc is None:
        return None
    config = read_site_config(doc.data, doc.rel, diagnostics, base_url_override=base_url)
    if (
        config is not None and safefiles.kind(source, SourceTree.image(SITE_STYLESHEET)) == "file"
    ):  # (links are not published)
        config = replace(config, stylesheet=SITE_STYLESHEET)  # every page links it after badgekiln.css
    if config is not None and config.issuer.image:
        issuer = doc.data.get("issuer")
        where = getattr(issuer, "value_locations", {}).get("image", doc.location)
        if not config.issuer.image.startswith("assets/"):
            diagnostics.append(
                Diagnostic(
                    "error",
                    "bad-image",
                    f"the issuer image {config.issuer.image!r} must be in "
                    "site_src/assets/ (it is published from there)",
                    where,
                    f"write image: {config.issuer.image.replace(chr(92), '/')}, with '/' between folder and file"
                    if "\\" in config.issuer.image and config.issuer.image.replace("\\", "/").startswith("assets/")
                    else "move it to site_src/assets/ and write image: assets/<name>",
                )
            )
        else:
            _check_image(source, config.issuer.image, where, diagnostics)
    if config is not None and config.signatory is not None and config.signatory.signature:
        config = _check_signature_image(source, config, doc, diagnostics)
    return config


def _check_signature_image(source: Path, config: SiteConfig, doc, diagnostics: list[Diagnostic]) -> SiteConfig:
    """The signatory's signature image, checked as the issuer's logo is (PNG or SVG in
    site_src/assets/, a regular file reached without a link, safe SVG). A bad one is dropped."""
    assert config.signatory is not None and config.signatory.signature
    rel = config.signatory.signature
    certificate = doc.data.get("certificate")
    signatory = certificate.get("signatory") if isinstance(certificate, dict) else None
    where = getattr(signatory, "value_locations", {}).get("signature", doc.location)
    before = len(diagnostics)
    if not rel.startswith("assets/"):
        diagnostics.append(
            Diagnostic(
                "error",
                "bad-image",
                f"the signature image {rel!r} must be in site_src/assets/ (it is published from there)",
                where,
                "move it to site_src/assets/ and write signature: assets/<name>",
            )
        )
    else:
        _check_image(source, rel, where, diagnostics)
    if any(d.is_error for d in diagnostics[before:]):
        return replace(config, signatory=replace(config.signatory, signature=None))
    return config


def _badge_file(source: Path, path: Path) -> FileResult:
    """One ``badges/<slug>.yaml``: its badge class (if valid) and its problems."""
    diagnostics: list[Diagnostic] = []
    doc = _parse(path, source, diagnostics)
    if doc is None:
        return FileResult((), tuple(diagnostics))
    fields = Fields(doc.data, doc.location, diagnostics, f"badge {path.stem!r}")
    name = fields.text("name", required=True, single_line=True, max_len=200)
    description = fields.text("description", required=True, max_len=2000)
    image = fields.text("image", required=True, single_line=True)
    criteria = fields.text("criteria", required=True)
    tags = fields.text_list("tags", most=MAX_TAGS)
    valid_for = fields.duration("valid_for")
    requires_membership = fields.boolean("requires_membership", False)
    achievement_type = fields.text("achievement_type", single_line=True, max_len=60)
    if achievement_type is not None:
        try:
            achievement_type = normalize_achievement_type(achievement_type)
        except ValueError as exc:
            fields.error(
                "bad-achievement-type",
                str(exc),
                fields.where("achievement_type"),
                did_you_mean(achievement_type, ACHIEVEMENT_TYPES) or "or write an extension as ext:Name",
            )
            achievement_type = None
    alignment = tuple(
        _alignment(item, loc, diagnostics) for item, loc in fields.items("alignment", most=MAX_ALIGNMENTS)
    )
    remind_before = fields.durations("remind_before")
    renewal_url = fields.url("renewal_url", schemes=("https",))
    cpd = learning.cpd_requirement(fields)
    requires = learning.pathway(fields)
    fields.finish()
    if valid_for is not None and remind_before:
        too_early = [d.text for d in remind_before if d.before(valid_for.after(date(2000, 1, 1))) <= date(2000, 1, 1)]
        if too_early:
            fields.warning(
                "reminder-at-issue",
                f"'remind_before' {', '.join(too_early)} is not shorter than 'valid_for' ({valid_for.text}): "
                "that reminder would go out as soon as a badge is awarded",
                fields.where("remind_before"),
                "remind earners a little before expiry, e.g. [P60D, P7D]",
            )
    reads: tuple[tuple[str, str | None], ...] = ()
    if image:
        checked = _check_image(source, image, fields.where("image"), diagnostics)
        reads = ((SourceTree.image(image), checked),)
    aligned = tuple(a for a in alignment if a is not None)
    if name and description and image and criteria and len(aligned) == len(alignment):
        badge = BadgeClass(
            slug=path.stem,
            name=name,
            description=description,
            image=image,
            criteria=criteria,
            tags=tags,
            valid_for=valid_for,
            alignment=aligned,
            achievement_type=achievement_type,
            remind_before=remind_before,
            renewal_url=renewal_url,
            requires_membership=requires_membership,
            location=SourceLocation(doc.rel, 1, 1),
            cpd=cpd,
            requires=requires,
        )
        return FileResult((badge,), tuple(diagnostics), reads)
    return FileResult((), tuple(diagnostics), reads)


def _alignment(data, location, diagnostics) -> Alignment | None:
    fields = Fields(data, location, diagnostics, "alignment")
    name = fields.text("name", required=True, single_line=True, max_len=300)
    url = fields.url("url", required=True)
    framework = fields.text("framework", single_line=True, max_len=300)
    code = fields.text("code", single_line=True, max_len=100)
    description = fields.text("description", max_len=2000)
    fields.finish()
    if not (name and url):
        return None
    return Alignment(name=name, url=url, framework=framework, code=code, description=description)


def _recipient_file(
    source: Path,
    badges: dict[str, BadgeClass],
    badge_files: set[str],
    today: date | None,
    shared: dict[str, int],
    path: Path,
) -> FileResult:
    """One ``recipients/<slug>.yaml``: the earner with their awards (if valid) and its problems."""
    diagnostics: list[Diagnostic] = []
    doc = _parse(path, source, diagnostics)
    if doc is None:
        return FileResult((), tuple(diagnostics))
    fields = Fields(doc.data, doc.location, diagnostics, f"recipient {path.stem!r}")
    name = fields.text("name", required=True, single_line=True, max_len=200)
    if name and (invisible := invisible_character(name)):
        fields.warning(
            "invisible-character",
            f"the name holds an invisible character ({invisible}), which would be signed into its badges",
            fields.where("name"),
            "delete it if it came with the name when it was pasted",
        )
    email = fields.email("email", required=True)
    show_name = fields.boolean("show_name", True)
    if show_name and (boxes := font_coverage(name, fields.where("name"))):
        diagnostics.append(boxes)
    membership_until = _membership(fields)
    items = fields.items("awards", required=True)
    cpd = learning.cpd_log(fields, today)
    portfolio, handle = learning.portfolio(fields)
    fields.finish()
    awards, written = [], []
    for item, location in items:
        award = _award(item, location, diagnostics, badges, badge_files, path.stem, today, shared)
        if award is not None:
            awards.append(award)
            written.append(item)
    if email:
        _check_email_not_published(doc.data, email, diagnostics)
    # Only the dates validation compares with 'today' (_award): an expiry date is not one of them.
    days = [
        d
        for a in awards
        for d in (a.issued_on, a.revoked.on if a.revoked else None, a.suspended.on if a.suspended else None)
        if d
    ]
    days += [activity.on for activity in cpd]  # (a future CPD date is an error too)
    latest = max(days) if days else None
    if not (name and email):
        return FileResult((), tuple(diagnostics), latest_day=latest)
    awards = ids.assign_missing(awards, email)
    _check_renewals(awards, written, diagnostics)
    _check_repeated(awards, diagnostics)
    recipient = Recipient(
        slug=path.stem,
        name=name,
        email=email,
        show_name=show_name,
        awards=tuple(awards),
        membership_until=membership_until,
        location=SourceLocation(doc.rel, 1, 1),
        cpd=cpd,
        portfolio=portfolio,
        handle=handle,
    )
    return FileResult((recipient,), tuple(diagnostics), latest_day=latest)


_UNKNOWN_BADGE = re.compile(r"there is no badge '([a-z0-9-]+)' ")


def _published_badges_named(source: Path, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """``diagnostics`` with the hint of each unknown badge that published awards are of (the
    ledger says so) telling to give its file its name back: the "did you mean" a renamed badge
    file gets would move every credential of it to another badge class (a provider's review)."""
    published = collections.Counter(
        entry.badge for entry in ledger_mod.read_ledger(source / ledger_mod.REL, []).entries.values()
    )
    result = []
    for diagnostic in diagnostics:
        found = _UNKNOWN_BADGE.match(diagnostic.message) if diagnostic.code == "unknown-badge" else None
        if found and (count := published[found.group(1)]):
            slug = found.group(1)
            diagnostic = replace(
                diagnostic,
                hint=f"{count:,} published award(s) are {slug!r} badges ({ledger_mod.REL}), and a badge's file name "
                f"is in their credentials and pages: if you renamed or moved badges/{slug}.yaml, give it that "
                "name again",
            )
        result.append(diagnostic)
    return result


def _check_repeated(awards: list[Award], diagnostics: list[Diagnostic]) -> None:
    """Warn of an award that repeats an earlier one of the file: the same badge, issued the same
    day, neither revoked (an item pasted twice is published twice, under two ids; ``award`` and
    spreadsheets skip such a row, a hand edit did not say a word)."""
    first: dict[tuple[str, date], Award] = {}
    for award in awards:
        if award.revoked is not None:
            continue
        earlier = first.setdefault((award.badge, award.issued_on), award)
        if earlier is not award:
            line = earlier.location.line if earlier.location else "?"
            diagnostics.append(
                Diagnostic(
                    "warning",
                    "repeated-award",
                    f"this award repeats the one at line {line} ({award.badge}, issued on {award.issued_on}): "
                    "both are published, under two ids",
                    award.location,
                    "if it was pasted twice, delete this one before it is published (once published, revoke "
                    "it: badgekiln revoke ID --reason ...); if it was earned twice that day, nothing needs doing",
                )
            )


def _badge_by_name(given: Any, badges) -> str | None:
    """The slug of the one badge ``given`` (not a slug) names by its name or its slug in another
    case or spacing ("Sea Survival", "Sea-Survival"), or None."""
    if not isinstance(given, str) or SLUG_RE.match(given):
        return None
    plain = " ".join(given.split()).casefold()
    found = {slug for slug, badge in badges.items() if " ".join(badge.name.split()).casefold() == plain} | (
        {plain.replace(" ", "-")} & set(badges)
    )
    return next(iter(found)) if len(found) == 1 else None


def _award(data, location, diagnostics, badges, badge_files, recipient, today, shared) -> Award | None:
    fields = Fields(data, location, diagnostics, "award")
    meant = _badge_by_name(data.get("badge") if isinstance(data, dict) else None, badges)
    if meant is not None:  # (a badge written by its name, as sheets and 'award --badge' take it: UX review)
        fields.raw("badge")
        fields.error(
            "bad-identifier",
            f"'badge' names a badge by its file name, not its name (got {data['badge']!r})",
            fields.where("badge"),
            f"write 'badge: {meant}'",
        )
        badge = None
    else:
        badge = fields.slug("badge", required=True)
    if badge is not None and badge in badge_files and badge not in badges:
        pass  # the badge file has errors of its own, reported there
    elif badge is not None and badge not in badges:
        fields.error(
            "unknown-badge",
            f"there is no badge {badge!r} (no file badges/{badge}.yaml)",
            fields.where("badge"),
            did_you_mean(badge, badges) or f"badges are: {', '.join(sorted(badges)) or 'none yet'}",
        )
    issued_on = fields.date("issued_on", required=True)
    award_id = fields.slug("id", pattern=AWARD_ID_RE)
    expires = fields.date("expires")
    narrative = _narrative(fields)
    evidence = tuple(_evidence(item, loc, diagnostics) for item, loc in fields.items("evidence", most=MAX_EVIDENCE))
    revoked = _revocation(fields)
    renews = fields.slug("renews", pattern=AWARD_ID_RE)
    suspended = _suspension(fields)
    fields.finish()
    if issued_on and expires and expires <= issued_on:
        fields.error(
            "bad-dates", f"'expires' ({expires}) must be after 'issued_on' ({issued_on})", fields.where("expires")
        )
    if issued_on and revoked and revoked.on < issued_on:
        fields.error(
            "bad-dates",
            f"the revocation date ({revoked.on}) is before 'issued_on' ({issued_on})",
            fields.where("revoked"),
        )
    if revoked and today and revoked.on > today:
        fields.error(
            "future-date",
            f"the revocation date ({revoked.on}) is in the future",
            fields.where("revoked"),
            "record a revocation on or after its date; until then the badge is valid",
        )
    if issued_on and suspended and suspended.on < issued_on:
        fields.error(
            "bad-dates",
            f"the suspension date ({suspended.on}) is before 'issued_on' ({issued_on})",
            fields.where("suspended"),
        )
    if suspended and today and suspended.on > today:
        fields.error(
            "future-date",
            f"the suspension date ({suspended.on}) is in the future",
            fields.where("suspended"),
            "record a suspension on or after its date; until then the badge is valid",
        )
    if issued_on and today and issued_on > today:
        fields.error(
            "future-date",
            f"'issued_on' ({issued_on}) is in the future",
            fields.where("issued_on"),
            "verifiers reject a badge issued in the future: add the award on or after its date",
        )
    shown = len(narrative or "") + sum(len(item.narrative or "") for item in evidence if item is not None)
    if shown > MAX_AWARD_MARKDOWN:  # (with criteria, within what a page may render: LimitedSandbox.metered)
        fields.error(
            "markdown-too-large",
            f"the narratives of this award (its own and its evidence's) are {shown:,} characters; "
            f"its page shows at most {MAX_AWARD_MARKDOWN:,}",
            fields.where("evidence") if evidence else fields.where("narrative"),
            "link to long evidence (its url) instead of pasting it",
        )
    if badge is None or issued_on is None or not all(evidence) or badge not in badges:
        return None
    if expires is None and badges[badge].valid_for is not None:
        expires = badges[badge].valid_for.after(issued_on)
    _check_credential_size(fields, shared[badge], narrative, evidence)
    return Award(
        id=award_id or "",
        badge=badge,
        recipient=recipient,
        issued_on=issued_on,
        expires=expires,
        narrative=narrative,
        evidence=tuple(e for e in evidence if e is not None),
        revoked=revoked,
        renews=renews,
        suspended=suspended,
        id_pinned=award_id is not None,
        location=fields.location,
    )


def _check_badge_credential_sizes(badges: dict[str, BadgeClass], shared: dict[str, int], diagnostics) -> None:
    """Warn of each badge class whose every credential a verifier may refuse for its size (its
    texts with the issuer's: once, at the badge's file, not at each of its awards)."""
    for slug, badge in sorted(badges.items()):
        if (size := credentialsize.badge_estimate(shared[slug])) > credentialsize.LIMIT:
            diagnostics.append(
                Diagnostic(
                    "warning",
                    "large-credential",
                    f"every Open Badges 3.0 credential of this badge (credential.json) will be about "
                    f"{size // 1024:,} KiB with the issuer's profile: verifiers may refuse one over "
                    f"{credentialsize.LIMIT // 1024} KiB (openbadgeslib does); their VC-JWT and Open Badges 2.0 "
                    "files are not affected",
                    badge.location,
                    "shorten the criteria (link to a page with the details), the tags, the alignments or the "
                    "issuer's description in site_src/site.yaml",
                )
            )


def _check_credential_size(fields: Fields, shared: int, narrative: str | None, evidence) -> None:
    """Warn of an award whose credential.json a verifier may refuse for its size (one that is
    too large whatever its awards say is reported at its badge class instead)."""
    size = credentialsize.award_estimate(shared, narrative, evidence)
    if size <= credentialsize.LIMIT or credentialsize.badge_estimate(shared) > credentialsize.LIMIT:
        return
    fields.warning(
        "large-credential",
        f"this award's Open Badges 3.0 credential (credential.json) will be about {-(-size // 1024):,} KiB: "
        f"verifiers may refuse one over {credentialsize.LIMIT // 1024} KiB (openbadgeslib does); "
        "its VC-JWT and Open Badges 2.0 files are not affected",
        fields.where("evidence") if evidence else fields.where("narrative"),
        "link to long evidence (its url) instead of pasting it",
    )


MAX_AWARD_MARKDOWN = 100_000  # characters of an award's narratives in all (criteria may add 100,000 on its page)


def _narrative(fields: Fields) -> str | None:
    """An award's or evidence's ``narrative``: Markdown (OB 2.0 and 3.0 say so; its page renders
    it), within what a page may render (:func:`badgekiln.formats.markdown.markdown_problem`)."""
    narrative = fields.text("narrative", max_len=5000)
    if too_large := markdown_limit(narrative):
        fields.error("markdown-too-large", f"the narrative cannot be shown: {too_large}", fields.where("narrative"))
        return None
    return narrative


def _evidence(data, location, diagnostics) -> Evidence | None:
    fields = Fields(data, location, diagnostics, "evidence")
    url = fields.url("url")
    narrative = _narrative(fields)
    name = fields.text("name", single_line=True, max_len=300)
    description = fields.text("description", max_len=2000)
    fields.finish()
    if not fields.ok:
        return None
    if not (url or narrative):
        fields.error("empty-evidence", "evidence needs a 'url' or a 'narrative'", fields.location)
        return None
    return Evidence(url=url, narrative=narrative, name=name, description=description)


def _revocation(fields: Fields) -> Revocation | None:
    found = _dated_reason(fields, "revoked")
    return Revocation(on=found[0], reason=found[1]) if found else None


def _suspension(fields: Fields) -> Suspension | None:
    """``suspended: {on, reason}``: written by ``badgekiln suspend`` (the same rules as ``revoked``)."""
    found = _dated_reason(fields, "suspended")
    return Suspension(on=found[0], reason=found[1]) if found else None


def _dated_reason(fields: Fields, key: str) -> tuple[date, str] | None:
    """``<key>: {on, reason}`` (a date and a one-line reason, both required), or None when absent."""
    data = fields.raw(key)
    if data is None:
        return None
    sub = Fields(data, fields.where(key), fields.diagnostics, key)
    on = sub.date("on", required=True)
    reason = sub.text("reason", required=True, single_line=True, max_len=MAX_REASON)
    sub.finish()
    return (on, reason) if on and reason else None


def _membership(fields: Fields) -> date | None:
    """``membership: {until: YYYY-MM-DD}``: the last day of the earner's membership."""
    data = fields.raw("membership")
    if data is None:
        return None
    before = len(fields.diagnostics)
    sub = Fields(data, fields.where("membership"), fields.diagnostics, "membership")
    until = sub.date("until", required=True)
    sub.finish()
    # Each of its problems says so where _about_membership looks (`membership: 'until' must be a
    # date …`, `membership needs 'until'`, `unknown key 'x' in membership`), by which
    # apply_memberships tells them from the file's others.
    for index in range(before, len(fields.diagnostics)):
        found = fields.diagnostics[index]
        if not _about_membership(found.message):
            fields.diagnostics[index] = replace(found, message=f"membership: {found.message}")
    return until


def _about_membership(message: str) -> bool:
    """Whether a problem is one of a file's ``membership:`` (as :func:`_membership` words them)."""
    return message.startswith("membership") or message.endswith(" in membership")


def apply_memberships(
    recipients: list[Recipient],
    badges: dict[str, BadgeClass],
    members: dict[str, date],
    today: date | None,
    diagnostics: list[Diagnostic],
) -> list[Recipient]:
    """Suspend the awards of badges that require membership whose earner's membership lapsed.

    The membership's last day is the later of the recipient file's ``membership: {until}`` and
    the earner's ``site_src/members.csv`` row. When ``today`` is past it, every award of a badge
    class with ``requires_membership: true`` that carries no written suspension gets a computed
    one (``on`` the day after ``until``, or the issue date if later; reason
    :data:`LAPSED_REASON`). An award that had expired by then is left expired (it was not valid when
    the membership lapsed: UX review). Moving ``until`` forward lifts it at the next build. An earner of
    such a badge with no membership on record is a warning, and their awards stay valid.
    """
    result = []
    # (files whose 'membership:' is an error: "no membership on record" would contradict it, a review)
    wrong_files = {
        d.location.path for d in diagnostics if d.is_error and d.location is not None and _about_membership(d.message)
    }
    for recipient in recipients:
        needing = {
            row[ROW_ID]
            for row in recipient.rows
            if row[ROW_BADGE] in badges and badges[row[ROW_BADGE]].requires_membership
        }
        if not needing:
            result.append(recipient)
            continue
        known = [d for d in (recipient.membership_until, members.get(recipient.email)) if d is not None]
        if not known and (
            recipient.email.lower() in getattr(members, "unread", ())
            or getattr(members, "unreadable", False)
            or (recipient.location is not None and recipient.location.path in wrong_files)
        ):
            # (its members.csv row, members.csv or its own 'membership:' is an error already: not "no
            # membership", whose hint would say to add it: a review)
            result.append(recipient)
            continue
        if not known:
            diagnostics.append(
                Diagnostic(
                    "warning",
                    "no-membership",
                    f"{len(needing)} award(s) of badges that require membership, but this earner has no "
                    "membership on record: the awards stay valid",
                    recipient.location,
                    "add 'membership: {until: YYYY-MM-DD}' to this file, or the earner's email to site_src/members.csv",
                )
            )
            result.append(recipient)
            continue
        until = max(known)
        if today is None or today <= until:
            result.append(recipient)
            continue
        lapsed = until + timedelta(days=1)
        awards = tuple(
            replace(
                award,
                suspended=Suspension(on=max(lapsed, award.issued_on), reason=LAPSED_REASON, computed=True),
            )
            if award.id in needing and award.suspended is None and not award.is_expired(lapsed)
            else award
            for award in recipient.awards
        )
        result.append(replace(recipient, awards=awards))
    return result


def _load_pages(source, paths, diagnostics) -> list[Page]:
    folder = paths["pages"]
    pages: list[Page] = []
    try:
        entries = safefiles.list_dir(source, SourceTree.PAGES)
    except SourceError as exc:
        diagnostics.append(exc.diagnostic)
        return pages
    names = {entry.name for entry in entries}
    for entry in entries:
        path, rel = folder / entry.name, f"{SourceTree.PAGES}/{entry.name}"
        if entry.name.startswith(".") or entry.name.partition(".")[0].lower() == "readme":
            continue  # (hidden files, an editor's lock file .#about.md, a README: not pages)
        if path.suffix != ".md" or entry.kind == "dir":
            try:
                markdown_inside = entry.kind == "dir" and any(
                    item.name.lower().endswith(".md") for item in safefiles.list_dir(source, rel)
                )
            except (SourceError, OSError):  # (a folder it cannot list, by name or by rights: not read, not said)
                markdown_inside = False
            if unread := _unread_page(entry.name, entry.kind, rel, names, markdown_inside):
                diagnostics.append(unread)  # (a review: skipped without a word)
            continue
        if not SLUG_RE.match(path.stem):
            diagnostics.append(
                Diagnostic(
                    "error",
                    "bad-file-name",
                    f"the page name {path.name!r} is not a valid slug",
                    SourceLocation(rel),
                    f"rename it to {slugify(path.stem)}.md (page names use only a-z, 0-9 and '-')",
                )
            )
            continue
        try:
            doc, body = load_markdown_page(path, source)
        except SourceError as exc:
            diagnostics.append(exc.diagnostic)
            continue
        fields = Fields(doc.data, doc.location, diagnostics, f"page {path.stem!r} front matter")
        title = fields.text("title", required=True, single_line=True, max_len=200)
        order = fields.integer("order", 100)
        description = fields.text("description", single_line=True, max_len=300) or ""
        fields.finish()
        if title:
            pages.append(Page(slug=path.stem, title=title, body=body, order=order, description=description))
    return sorted(pages, key=lambda p: (p.order, p.slug))


def _unread_page(name: str, kind: str, rel: str, names: set[str], markdown_inside: bool) -> Diagnostic | None:
    """A warning for what in ``site_src/pages/`` looks like a page but is not read: a folder of
    Markdown, or Markdown named otherwise than ``<slug>.md`` (``About.MD``, ``faq.markdown``); None
    for anything else (a folder of pictures, the pictures a page's author keeps beside it).
    ``names``: the folder's entries (a rename onto one of them is not hinted)."""
    stem, _, suffix = name.partition(".")
    if kind == "dir":
        if not markdown_inside:
            return None
        return Diagnostic(
            "warning",
            "unexpected-folder",
            "this folder is not read: pages are <slug>.md files directly in site_src/pages/",
            SourceLocation(rel),
            "move its pages up into site_src/pages/, or the folder out",
        )
    if suffix.lower() in ("md", "markdown", "mdown", "mkd"):
        target = f"{slugify(stem)}.md"
        return Diagnostic(
            "warning",
            "unexpected-file",
            "this page is not read: pages are named <slug>.md (in small letters)",
            SourceLocation(rel),
            f"{target} is a page already: merge the two, or delete this one"
            if target in names
            else f"rename it to {target}",
        )
    return None


def _check_duplicates(recipients: list[Recipient], diagnostics: list[Diagnostic]) -> None:
    ids = [row[ROW_ID] for recipient in recipients for row in recipient.rows]
    if len(set(ids)) == len(ids) and len({r.email for r in recipients}) == len(recipients):
        return  # (the usual site: one set of ids and one of emails; the loop below says where each repeat is)
    seen: dict[str, tuple[Recipient, int]] = {}
    emails: dict[str, Recipient] = {}
    for recipient in recipients:
        # (the ids only: an award's model is made only to say where it is, rows being in the awards' order)
        for index, row in enumerate(recipient.rows):
            award_id = row[ROW_ID]
            if award_id in seen:
                first, at = seen[award_id]
                copy, original = (recipient, index), (first, at)
                if not _derived_for(first, first.rows[at]) and _derived_for(recipient, row):
                    copy, original = original, copy  # (the first one met is the copy: the error goes there)
                diagnostics.append(
                    Diagnostic(
                        "error",
                        "duplicate-id",
                        f"award id {award_id!r} is also used at {original[0].awards[original[1]].location}",
                        copy[0].awards[copy[1]].location,
                        "every award needs its own id: if this one was copied from another, remove its "
                        "'id: ...' (keep the '- ' that starts the award) and the build gives it a new one",
                    )
                )
            else:
                seen[award_id] = (recipient, index)
        if recipient.email in emails:
            diagnostics.append(
                Diagnostic(
                    "warning",
                    "duplicate-recipient",
                    f"the same email address is used by {emails[recipient.email].location}",
                    recipient.location,
                    "keep one file per person",
                )
            )
        else:
            emails[recipient.email] = recipient


_DERIVED_RANKS = 8  # the ranks an id derived for a recipient's award is looked for in (ids.assign_missing)


def _derived_for(recipient: Recipient, row: AwardRow) -> bool:
    """Whether the award's id is one the build derives for this earner's award of that badge on that
    day (:func:`~badgekiln.formats.ids.derive_award_id`): an id copied from another earner's award
    is not, so of two awards with one id the copy is the one whose id is not its own."""
    return any(
        ids.derive_award_id(recipient.email, row[ROW_BADGE], row[ROW_ISSUED], rank) == row[ROW_ID]
        for rank in range(_DERIVED_RANKS)
    )


def _check_renewals(awards: list[Award], written: list[Any], diagnostics: list[Diagnostic]) -> None:
    """The rules of ``renews:`` within one earner's file (a renewal is always the same earner's).

    A renewal names an earlier award of the same badge class, issued on or before it, that was not
    revoked by then (one held by a suspension written in its file then, :meth:`Award.held_by_hand`, is
    a warning), not itself, renewed by no other award, and not part of a cycle. An id that is not in
    this file is checked against the other files by :func:`_check_renewed_elsewhere`.
    """
    by_id = {a.id: a for a in awards}
    first_renewal: dict[str, Award] = {}
    for award, item in zip(awards, written):
        if award.renews is None:
            continue
        where = getattr(item, "value_locations", {}).get("renews", award.location)

        def error(code: str, message: str, hint: str | None = None, where: SourceLocation | None = where) -> None:
            diagnostics.append(Diagnostic("error", code, message, where, hint))

        earlier = by_id.get(award.renews)
        if award.renews == award.id:
            error("bad-renewal", f"award {award.id!r} cannot renew itself", "name the earlier award's id")
            continue
        if earlier is None:
            continue  # another earner's award, or none: _check_renewed_elsewhere says which
        if earlier.badge != award.badge:
            error(
                "bad-renewal",
                f"award {award.id!r} ({award.badge}) renews {earlier.id!r}, an award of another badge "
                f"({earlier.badge})",
                "a renewal is of the same badge class; award a different badge without 'renews'",
            )
        if award.issued_on < earlier.issued_on:
            error(
                "bad-renewal",
                f"award {award.id!r} is issued on {award.issued_on}, before the award it renews "
                f"({earlier.id!r}, issued on {earlier.issued_on})",
                "a renewal is issued on or after the award it renews",
            )
        if earlier.revoked is not None and earlier.revoked.on <= award.issued_on:
            # (revoking an award after it was renewed is allowed: the renewal stands on its own)
            error(
                "bad-renewal",
                f"award {earlier.id!r} was revoked on {earlier.revoked.on} and cannot be renewed",
                "award the badge again without 'renews'",
            )
        if earlier.held_by_hand(award.issued_on) and earlier.suspended is not None and award.suspended is None:
            # A warning, not an error: a renewal written so and published before this rule must go on
            # building (its URL stays); 'award' refuses to write one (error[renews-suspended]), and
            # suspending an award after it was renewed is allowed ('suspend' says its renewal stays valid).
            diagnostics.append(
                Diagnostic(
                    "warning",
                    "renews-suspended",
                    f"award {award.id!r} renews {earlier.id!r}, which a suspension held when it was issued "
                    f"(since {earlier.suspended.on}: {earlier.suspended.reason}): the renewal is valid beside it",
                    where,
                    f"if the hold is on the earner, suspend {award.id!r} too (badgekiln suspend {award.id}); if the "
                    f"renewal is meant, lift the suspension (badgekiln unsuspend {earlier.id})",
                )
            )
        if award.renews in first_renewal:
            error(
                "bad-renewal",
                f"award {award.renews!r} is already renewed by {first_renewal[award.renews].id!r}",
                "an award is renewed once; renew the latest award instead",
            )
        else:
            first_renewal[award.renews] = award
        seen: set[str] = {award.id}
        step: Award | None = earlier
        while step is not None and step.renews is not None:
            if step.renews in seen:
                error("bad-renewal", f"award {award.id!r} is part of a cycle of renewals", "remove one 'renews'")
                break
            seen.add(step.id)
            step = by_id.get(step.renews)


def _check_renewed_elsewhere(recipients: list[Recipient], diagnostics: list[Diagnostic]) -> None:
    """A ``renews:`` naming an id that is not in its own earner's file: another earner's, or unknown.
    (Every row is looked at, 100,000 on every rebuild: the ids of a file, and of the whole site,
    are gathered only for a file with a renewal, and a renewal that is not its own file's.)"""
    owner: dict[str, Recipient] | None = None
    for recipient in recipients:
        rows = recipient.rows
        if all(row[ROW_RENEWS] is None for row in rows):
            continue
        own = {row[ROW_ID] for row in rows}
        for index, row in enumerate(rows):
            award_id, renews = row[ROW_ID], row[ROW_RENEWS]
            if renews is None or renews in own or renews == award_id:
                continue
            if owner is None:
                owner = {row[ROW_ID]: r for r in recipients for row in r.rows}
            other = owner.get(renews)
            if other is not None:
                message = (
                    f"award {award_id!r} renews {renews!r}, an award of another earner ({other.location.path})"
                    if other.location
                    else f"award {award_id!r} renews another earner's award"
                )
                hint = "a renewal is for the same earner: add it to the file of the award it renews"
            else:
                message = f"'renews' names no award: there is no award {renews!r}"
                hint = did_you_mean(renews, own) or "write the id of the earlier award (see its page's URL)"
            diagnostics.append(Diagnostic("error", "bad-renewal", message, recipient.awards[index].location, hint))


def _check_image(source: Path, rel: str, location: SourceLocation, diagnostics: list[Diagnostic]) -> str | None:
    """The image must be a PNG or SVG file inside site_src/, reached without a link.

    Returns the SHA-256 of the bytes it checked (None if it could not read them): what a memo of
    this validation may trust, whatever the file holds by the time the check is over.
    """
    where = location
    suffix = PurePosixPath(rel).suffix.lower()
    if suffix not in IMAGE_TYPES:
        diagnostics.append(
            Diagnostic(
                "error",
                "bad-image",
                f"image {rel!r} must be a .png or .svg file",
                where,
                "save it as PNG (any image program can: File > Save As or Export; a square of 400 pixels or more)",
            )
        )
        return None
    try:
        found = safefiles.lookup(source, SourceTree.image(rel))
    except SourceError as exc:
        diagnostics.append(
            Diagnostic(
                "error",
                "bad-image",
                f"image {rel!r} must be a file inside site_src/: {exc}",
                where,
                exc.diagnostic.hint,
            )
        )
        return None
    if found is None:
        diagnostics.append(
            Diagnostic(
                "error",
                "missing-image",
                f"image {rel!r} does not exist under site_src/",
                where,
                f"write it without 'site_src/': image: {rel[len('site_src/') :]}"
                if rel.startswith("site_src/")  # (UX walkthrough: the path from the site's folder)
                else "image paths are relative to site_src/, e.g. assets/badge.png",
            )
        )
        return None
    if found.size > MAX_IMAGE_BYTES and found.kind == "file":
        diagnostics.append(
            Diagnostic(
                "error", "bad-image", f"image {rel!r} is {found.size} bytes; the limit is {MAX_IMAGE_BYTES}", where
            )
        )
        return None
    try:
        data = safefiles.read_bytes(source, SourceTree.image(rel), limit=MAX_IMAGE_BYTES)
    except SourceError as exc:
        diagnostics.append(
            Diagnostic(
                "error",
                "bad-image",
                f"image {rel!r} must be a file inside site_src/: {exc}",
                where,
                exc.diagnostic.hint,
            )
        )
        return None
    checked = hashlib.sha256(data).hexdigest()
    magic = IMAGE_TYPES[suffix]
    if magic is not None and not data.startswith(magic):
        diagnostics.append(Diagnostic("error", "bad-image", f"image {rel!r} is not a PNG file", where))
        return checked
    if magic is None and b"<svg" not in data[:4096]:
        diagnostics.append(Diagnostic("error", "bad-image", f"image {rel!r} is not an SVG file", where))
        return checked
    if magic is None:
        unsafe = svgsafety.unsafe_svg_diagnostics(data, rel, where)
        diagnostics.extend(unsafe)
        if unsafe:
            return checked
        outside = raster.svg_references(data)
        if outside:  # PNGs and share cards are drawn from it: resvg would read what it names
            diagnostics.append(
                Diagnostic(
                    "error",
                    "svg-reference",
                    f"image {rel!r} refers to {outside[0]!r}: badgekiln draws a PNG of SVG artwork, "
                    "which must then be self-contained",
                    where,
                    "embed images in the SVG as data: URLs and keep references to #ids inside the file",
                )
            )
            return checked
    try:  # every award bakes this image: find out now, with a location, if it cannot be baked
        if magic is None:
            baking.bake_svg(data, verify="https://example.org/check")
            stripped = baking.strip_svg(data)
        else:
            baking.bake_png(data, "check")  # checks the PNG's structure and size first (pngcheck)
            stripped = baking.strip_png(data)
    except BakeError as exc:
        diagnostics.append(
            Diagnostic(
                "error",
                "bad-image",
                f"image {rel!r} cannot be published or baked: {exc}",
                where,
                "export the image again (plain SVG without DOCTYPE, or a standard PNG "
                f"of at most {pngcheck.MAX_PNG_SIDE}x{pngcheck.MAX_PNG_SIDE} pixels)",
            )
        )
        return checked
    if stripped is not data:  # published as-is under assets/ too, so removing it when baking is not enough
        diagnostics.append(
            Diagnostic(
                "error",
                "baked-image",
                f"image {rel!r} carries Open Badges content (a baked "
                "credential or its namespace), which would be published with your artwork",
                where,
                "use the plain artwork, not a badge someone was awarded",
            )
        )
    return checked


def _check_assets(
    source: Path, config: SiteConfig | None, badges: dict[str, BadgeClass], diagnostics: list[Diagnostic]
) -> None:
    """Every file under site_src/assets/ may be published: names must be URL-safe, sizes bounded and
    SVGs safe to serve. Links and special files are never published (nor read)."""
    try:
        entries = safefiles.walk(source, SourceTree.ASSETS)
    except SourceError as exc:
        diagnostics.append(exc.diagnostic)
        return
    checked = {b.image for b in badges.values()}  # _check_image did these
    if config is not None and config.issuer.image:
        checked.add(config.issuer.image)
    if config is not None and config.signatory is not None and config.signatory.signature:
        checked.add(config.signatory.signature)
    for name, entry in entries:
        rel = SourceTree.asset(name)
        if entry.kind in ("link", "special"):
            if "assets/" + name not in checked:  # (a badge image or logo that is one is an error there)
                diagnostics.append(
                    Diagnostic(
                        "warning",
                        "asset-not-published",
                        f"this is {'a symbolic link' if entry.kind == 'link' else 'not a regular file'}: it is neither "
                        "read nor published",
                        SourceLocation(rel),
                        safefiles.LINK_HINT if entry.kind == "link" else "remove it",
                    )
                )
            continue
        if entry.kind != "file":
            continue
        if not ASSET_NAME_RE.match(name):
            diagnostics.append(
                Diagnostic(
                    "error",
                    "bad-file-name",
                    "this asset's name cannot be part of a URL",
                    SourceLocation(rel),
                    "use only letters, digits, '-', '_' and '.' (no spaces or brackets) in asset file and folder names",
                )
            )
            continue
        if PurePosixPath(name).suffix.lower() not in PUBLISHED_ASSET_SUFFIXES:
            if not PurePosixPath(name).name.startswith("."):
                diagnostics.append(
                    Diagnostic(
                        "warning",
                        "asset-not-published",
                        "this file is not published: site_src/assets/ publishes images, stylesheets and fonts",
                        SourceLocation(rel),
                        "allowed: " + ", ".join(sorted(PUBLISHED_ASSET_SUFFIXES)),
                    )
                )
            continue
        if entry.size > MAX_ASSET_BYTES:
            diagnostics.append(
                Diagnostic(
                    "error",
                    "file-too-large",
                    f"this file is {entry.size} bytes; a published asset may have at most {MAX_ASSET_BYTES}",
                    SourceLocation(rel),
                    "make it smaller",
                )
            )
            continue
        suffix = PurePosixPath(name).suffix.lower()
        if suffix in (".svg", ".png") and "assets/" + name not in checked:
            try:
                data = safefiles.read_bytes(source, rel, limit=MAX_ASSET_BYTES)
            except SourceError as exc:
                diagnostics.append(exc.diagnostic)
                continue
            if suffix == ".svg":
                diagnostics.extend(svgsafety.unsafe_svg_diagnostics(data, rel, SourceLocation(rel)))
            else:  # (published as it is, used or not: checked as artwork is, a review of 2026-12-07)
                diagnostics.extend(_png_asset_problems(data, rel))


def _png_asset_problems(data: bytes, rel: str) -> list[Diagnostic]:
    """A PNG of site_src/assets/ that no badge or setting names, checked as artwork is: a standard
    PNG of at most :data:`pngcheck.MAX_PNG_SIDE` pixels a side (not a decompression bomb for
    whoever opens the page), carrying no Open Badges content (a credential baked by someone else,
    published from the issuer's own site)."""
    try:
        baking.bake_png(data, "check")  # (checks the PNG's structure and size first: pngcheck)
        stripped = baking.strip_png(data)
    except BakeError as exc:
        return [
            Diagnostic(
                "error",
                "bad-image",
                f"this PNG cannot be published: {exc}",
                SourceLocation(rel),
                f"export it again as a standard PNG of at most {pngcheck.MAX_PNG_SIDE}x{pngcheck.MAX_PNG_SIDE} "
                "pixels, or remove it",
            )
        ]
    if stripped is not data:
        return [
            Diagnostic(
                "error",
                "baked-image",
                "this PNG carries Open Badges content (a baked credential or its namespace), which would "
                "be published from your site",
                SourceLocation(rel),
                "use the plain image, not a badge someone was awarded",
            )
        ]
    return []


def _narratives(data: Any) -> list[str]:
    """The narratives of a recipient file's awards and their evidence (rendered as Markdown)."""
    found = []
    awards = data.get("awards") if isinstance(data, dict) else None
    for award in awards if isinstance(awards, list) else ():
        if not isinstance(award, dict):
            continue
        found.append(award.get("narrative"))
        evidence = award.get("evidence")
        if isinstance(evidence, list):
            found.extend(item.get("narrative") for item in evidence if isinstance(item, dict))
    return [text for text in found if isinstance(text, str)]


def _check_earners_addresses_unpublished(
    recipients: list[Recipient],
    badges: dict[str, BadgeClass],
    pages: list[Page],
    config: SiteConfig | None,
    diagnostics: list[Diagnostic],
) -> None:
    """A warning for an earner's email address in a text that is not a recipient file's (a
    badge's description or criteria, a page, the site's settings): every one is published, and
    an earner's address was published without a word (a review, 2026-12-07: only the recipient
    files were checked). Not an error: the provider's coordinator may hold a badge too, and their
    address be the site's contact (a second review). Other addresses there are the provider's to
    publish; the issuer's own is public whoever holds it."""
    earners = {recipient.email.lower() for recipient in recipients}
    if config is not None:
        earners.discard(config.issuer.email.lower() if config.issuer.email else "")
    if not earners:
        return
    sources: list[tuple[Any, SourceLocation | None]] = [(badge, badge.location) for badge in badges.values()]
    sources += [(page, SourceLocation(f"site_src/pages/{page.slug}.md")) for page in pages]
    if config is not None:
        sources.append((config, SourceLocation(SourceTree.SITE_YAML)))
    for holder, where in sources:
        found = next((a for text in _published_strings(holder) if (a := _earner_address_in(text, earners))), None)
        if found:
            diagnostics.append(
                Diagnostic(
                    "warning",  # (not refused: one of the provider's own staff may be an earner too, a review)
                    "earner-email-published",
                    f"this file's text holds the email address of an earner ({found}), which is published "
                    "with it on the site",
                    where,
                    "remove it, unless it is a contact address of yours that its owner agreed to publish",
                )
            )


def _published_strings(value: Any, depth: int = 0) -> Iterator[str]:
    """Every text of a model (a badge class, a page, the site's settings), its nested ones too."""
    if isinstance(value, str):
        yield value
    elif depth > 8:
        return
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            if item.compare:  # (locations are not texts)
                yield from _published_strings(getattr(value, item.name), depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _published_strings(key, depth + 1)
            yield from _published_strings(item, depth + 1)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _published_strings(item, depth + 1)


def _earner_address_in(text: str, earners: set[str]) -> str | None:
    """An address of ``earners`` that ``text`` holds, in the forms :func:`email_in_text` reads and
    as a Markdown text's page shows it."""
    if "@" not in plain_text(text) and "%40" not in text and "&" not in text:
        return None
    for form in (text, markdown_as_shown(text)):
        for address in emails_in_text(form):
            if address.lower() in earners:
                return address
    return None


def _check_email_not_published(data: Any, email: str, diagnostics: list[Diagnostic]) -> None:
    """No email address, the earner's or anyone else's, may be pasted into a text that pages or
    badges publish (a revocation reason naming the complainant's address: UX review)."""
    plain_email = plain_text(email)
    narratives = set(_narratives(data))

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            locations = getattr(node, "value_locations", {})
            pairs = [(v, locations.get(k)) for k, v in node.items() if not (node is data and k == "email")]
        elif isinstance(node, list):
            pairs = list(zip(node, getattr(node, "item_locations", [None] * len(node))))
        else:
            return
        for value, location in pairs:
            if isinstance(value, str) and value in narratives:  # (Markdown: also as its page shows it)
                value = markdown_as_shown(value)
            if isinstance(value, str) and plain_email in plain_text(value):
                diagnostics.append(
                    Diagnostic(
                        "error",
                        "email-published",
                        "this text contains the earner's email address, which would be published",
                        location,
                        "badges carry only a salted hash of the address; remove it here",
                    )
                )
            elif isinstance(value, str) and (found := email_in_text(value)):
                diagnostics.append(
                    Diagnostic(
                        "error",
                        "email-published",
                        f"this text contains an email address ({found}), which would be published "
                        "on the badge's page and in its credentials",
                        location,
                        "name the person or their role instead (a reason, a narrative: every text here is public)",
                    )
                )
            else:
                walk(value)

    walk(data)
