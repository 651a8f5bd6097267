"""``badgekiln award``: add awards to recipient files, one at a time or from a CSV file.

New awards get their permanent id at once (written into the YAML), so what is committed is what
will be published. A CSV import is checked completely before any file is touched: one bad row
and nothing is written.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .. import ids
from ..config import source_paths
from ..errors import Diagnostic, SourceLocation, ValidationFailed
from ..fields import Fields, did_you_mean
from ..records import append_award, atomic_write_text, new_recipient_text, yaml_plain, yaml_scalar
from ..validate import load_project

CSV_COLUMNS = ("name", "email", "badge", "issued_on", "expires", "narrative", "evidence_url", "evidence_narrative")
REQUIRED = ("name", "email", "badge", "issued_on")


@dataclass
class NewAward:
    """One award to add, checked."""

    name: str
    email: str
    badge: str
    issued_on: date
    expires: date | None = None
    narrative: str | None = None
    evidence_url: str | None = None
    evidence_narrative: str | None = None
    location: SourceLocation | None = None
    id: str = ""

    def yaml_fields(self) -> list[tuple[str, str]]:
        fields = [("id", yaml_plain(self.id)), ("badge", yaml_plain(self.badge)),
                  ("issued_on", self.issued_on.isoformat())]  # a date, read as one: written plain
        if self.expires:
            fields.append(("expires", self.expires.isoformat()))
        if self.narrative:
            fields.append(("narrative", yaml_scalar(self.narrative)))
        if self.evidence_url or self.evidence_narrative:
            parts = []
            if self.evidence_url:
                parts.append(f"url: {yaml_scalar(self.evidence_url)}")
            if self.evidence_narrative:
                parts.append(f"narrative: {yaml_scalar(self.evidence_narrative)}")
            fields.append(("evidence", "[{" + ", ".join(parts) + "}]"))
        return fields


@dataclass
class AwardResult:
    """What ``award`` did."""

    added: list[tuple[str, str]] = field(default_factory=list)  # (award id, recipient file)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (existing award id, reason)
    created_files: list[str] = field(default_factory=list)


def slugify(name: str) -> str:
    """An ASCII file slug for a person's name: ``Zoë O'Neil`` → ``zoe-oneil``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower().replace("'", "")).strip("-")
    return slug[:48] or "recipient"


def check_row(row: dict[str, str], location: SourceLocation, badges, diagnostics: list[Diagnostic],
              today: date) -> NewAward | None:
    """Check one CSV row (or command-line award); problems go to ``diagnostics``."""
    data = {k: (v or "").strip() for k, v in row.items() if k is not None}
    fields = Fields(_Located({k: v for k, v in data.items() if v}, location), location, diagnostics, "row")
    name = fields.text("name", required=True, single_line=True, max_len=200)
    email = fields.email("email", required=True)
    badge = fields.slug("badge", required=True)
    issued_on = fields.date("issued_on", required=True)
    expires = fields.date("expires")
    narrative = fields.text("narrative", max_len=5000)
    evidence_url = fields.url("evidence_url")
    evidence_narrative = fields.text("evidence_narrative", max_len=5000)
    fields.finish()
    if badge and badge not in badges:
        fields.error("unknown-badge", f"there is no badge {badge!r}", location,
                     did_you_mean(badge, badges) or f"badges are: {', '.join(sorted(badges))}")
        return None
    if issued_on and issued_on > today:
        fields.error("future-date", f"'issued_on' ({issued_on}) is in the future", location)
        return None
    if issued_on and expires and expires <= issued_on:
        fields.error("bad-dates", f"'expires' ({expires}) must be after 'issued_on' ({issued_on})", location)
        return None
    if not (name and email and badge and issued_on):
        return None
    return NewAward(name, email, badge, issued_on, expires, narrative, evidence_url, evidence_narrative, location)


class _Located(dict):
    """A CSV row as a mapping whose every value is located at its row."""

    def __init__(self, data: dict, location: SourceLocation):
        super().__init__(data)
        self.location = location
        self.key_locations = {k: location for k in data}
        self.value_locations = dict(self.key_locations)


def read_csv(text: str, rel: str, badges, today: date) -> list[NewAward]:
    """Every row of an award CSV, checked; raises ValidationFailed listing every bad row."""
    diagnostics: list[Diagnostic] = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if missing or unknown:
        diagnostics.append(Diagnostic("error", "bad-csv-header",
                                      f"the header must name the columns {', '.join(CSV_COLUMNS[:4])} (and optionally "
                                      f"{', '.join(CSV_COLUMNS[4:])}); missing: {missing or 'none'}, unknown: {unknown or 'none'}",
                                      SourceLocation(rel, 1, 1)))
        raise ValidationFailed(diagnostics)
    awards = []
    for row in reader:
        award = check_row(row, SourceLocation(rel, reader.line_num, 1), badges, diagnostics, today)
        if award is not None:
            awards.append(award)
    if any(d.is_error for d in diagnostics):
        raise ValidationFailed(diagnostics)
    if not awards:
        raise ValidationFailed([Diagnostic("error", "empty-csv", "the file has no award rows", SourceLocation(rel))])
    return awards


def add_awards(source: Path, awards: list[NewAward], today: date) -> AwardResult:
    """Add checked awards to the recipient files (matched by email), creating files for new earners.

    An award equal to one already there (same earner, badge and issue date) is skipped, so
    importing the same CSV twice adds nothing.
    """
    project = load_project(source, today=today).project
    by_email = {r.email: r for r in project.recipients}
    taken_ids = {a.id for a in project.awards}
    taken_slugs = {r.slug for r in project.recipients}
    result = AwardResult()
    new_files: dict[str, tuple[str, str, list[NewAward]]] = {}
    existing: dict[str, list[NewAward]] = {}
    seen: set[tuple[str, str, date]] = set()
    for award in awards:
        key = (award.email, award.badge, award.issued_on)
        recipient = by_email.get(award.email)
        duplicate = recipient and next((a for a in recipient.awards if (a.badge, a.issued_on) == key[1:]), None)
        if duplicate or key in seen:
            result.skipped.append((duplicate.id if duplicate else "-", f"{award.email} already has {award.badge} "
                                   f"issued on {award.issued_on}"))
            continue
        seen.add(key)
        rank = 0
        while True:
            award.id = ids.derive_award_id(award.email, award.badge, award.issued_on.isoformat(), rank)
            if award.id not in taken_ids:
                break
            rank += 1
        taken_ids.add(award.id)
        if recipient is not None:
            existing.setdefault(recipient.location.path, []).append(award)
        elif award.email in new_files:
            new_files[award.email][2].append(award)
        else:
            slug = slugify(award.name)
            base, n = slug, 2
            while slug in taken_slugs:
                slug, n = f"{base}-{n}", n + 1
            taken_slugs.add(slug)
            new_files[award.email] = (slug, award.name, [award])
    recipients_dir = source_paths(source)["recipients"]
    recipients_dir.mkdir(parents=True, exist_ok=True)
    for rel, added in sorted(existing.items()):
        for award in added:
            append_award(source / rel, rel, award.yaml_fields(), award.id)
            result.added.append((award.id, rel))
    for email, (slug, name, added) in sorted(new_files.items(), key=lambda item: item[1][0]):
        rel = f"recipients/{slug}.yaml"
        atomic_write_text(source / rel, new_recipient_text(name, email, [a.yaml_fields() for a in added]))
        result.created_files.append(rel)
        result.added.extend((a.id, rel) for a in added)
    return result


def check_single(source: Path, row: dict[str, str], today: date) -> NewAward:
    """Check an award given on the command line."""
    project = load_project(source, today=today).project
    diagnostics: list[Diagnostic] = []
    award = check_row(row, SourceLocation("<command line>"), project.badges, diagnostics, today)
    if award is None or any(d.is_error for d in diagnostics):
        raise ValidationFailed(diagnostics)
    return award


def import_csv(source: Path, path: Path, today: date) -> AwardResult:
    """Import an award CSV (see CSV_COLUMNS)."""
    project = load_project(source, today=today).project
    from ..loading import decode_utf8, read_source_bytes

    rel = path.name
    text = decode_utf8(read_source_bytes(path, rel), rel)
    return add_awards(source, read_csv(text, rel, project.badges, today), today)


