"""``badgekiln award``: add awards to recipient files, one at a time or from a spreadsheet.

New awards get their permanent id at once (written into the YAML), so what is committed is what
will be published. An import (CSV or .xlsx, read by :mod:`badgekiln.sources.sheets`) is checked
completely before any file is touched: one bad row and nothing is written.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from badgekiln.commands.awardledger import record_new_awards
from badgekiln.errors import BadgekilnError, Diagnostic, SourceError, SourceLocation, ValidationFailed
from badgekiln.formats import ids
from badgekiln.models import Award, Project, Recipient
from badgekiln.sources.config import source_paths
from badgekiln.sources.editlock import editing_sources
from badgekiln.sources.fields import (
    DATE_RE,
    Fields,
    did_you_mean,
    email_in_text,
    font_coverage,
    invisible_character,
    markdown_as_shown,
    markdown_limit,
    mojibake,
    slugify,
)
from badgekiln.sources.records import (
    appended,
    new_recipient_text,
    read_text_keeping_newlines,
    write_together,
    yaml_plain,
    yaml_scalar,
)
from badgekiln.sources.sheets import TOTALS_ROW, Table, parse_map, read_table
from badgekiln.sources.validate import load_project

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
    row: str = ""  # how messages name its row of a sheet ("row 7", or "line 7" of a CSV whose lines are not its rows)
    renews: str | None = None  # the id of the award this one renews

    def yaml_fields(self) -> list[tuple[str, str]]:
        fields = [
            ("id", yaml_plain(self.id)),
            ("badge", yaml_plain(self.badge)),
            ("issued_on", self.issued_on.isoformat()),
        ]  # a date, read as one: written plain
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
        if self.renews:
            fields.append(("renews", yaml_plain(self.renews)))
        return fields


@dataclass
class AwardResult:
    """What ``award`` did."""

    added: list[tuple[str, str]] = field(default_factory=list)  # (award id, recipient file)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (existing award id, reason)
    created_files: list[str] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    recorded: int = 0  # awards added to site_src/awards.lock
    errors: list[Diagnostic] = field(default_factory=list)  # (any, and nothing is written)


def name_key(name: str) -> str:
    """``name`` but for case, spacing and Unicode normalisation (what :func:`same_name` compares)."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def same_name(a: str, b: str) -> bool:
    """Names equal but for case, spacing and Unicode normalisation."""
    return name_key(a) == name_key(b)


def shorten(text: str, meant: str, limit: int = 60) -> tuple[str, str]:
    """``text`` and ``meant`` cut to the part around their first difference, when they are long."""
    if len(text) <= limit:
        return text, meant
    start = max(0, next((i for i, (a, b) in enumerate(zip(text, meant)) if a != b), 0) - 20)
    return "…" + text[start : start + limit] + "…", "…" + meant[start : start + limit] + "…"


def check_row(
    row: dict[str, str],
    location: SourceLocation,
    badges,
    diagnostics: list[Diagnostic],
    today: date,
    cells: dict[str, SourceLocation] | None = None,
) -> NewAward | None:
    """Check one CSV row (or command-line award); problems go to ``diagnostics``, each at the cell
    of ``cells`` (column -> where its cell is) that it is about, else at ``location``. On the
    command line a message names the option (``--evidence-url``), not the column (a review)."""
    data = {k: (v or "").strip() for k, v in row.items() if k is not None}
    by_hand = _source_noun(location) == "award"
    from_issue = _source_noun(location) == "issue"  # (an issue form's answers: no cells, no rows)
    fields = Fields(
        _Located({k: v for k, v in data.items() if v}, location, cells or {}),
        location,
        diagnostics,
        "the award" if by_hand else "the issue" if from_issue else "row",
        missing_hint=(lambda key: f"add --{key.replace('_', '-')} …")
        if by_hand
        else (lambda key: f"answer '{key}' in the issue")
        if from_issue
        else (lambda key: f"fill in its '{key}' cell"),
        spelled=(lambda key, value: f"--{key.replace('_', '-')} {value}") if by_hand else None,
        named=(lambda key: f"--{key.replace('_', '-')}") if by_hand else None,
    )
    name = fields.text("name", required=True, single_line=True, max_len=200)
    if name and (invisible := invisible_character(name)):
        fields.warning(
            "invisible-character",
            f"the name holds an invisible character ({invisible}), which would be signed into its badges",
            fields.where("name"),
            "delete it from the sheet if it came with the name when it was pasted",
        )
    email = fields.email("email", required=True)
    given = data.get("badge", "")
    sharing = [slug for slug, badge in sorted(badges.items()) if _plain_name(badge.name) == _plain_name(given)]
    if given and given not in badges and len(sharing) > 1:  # (a name two badges have: never guessed)
        fields.raw("badge")
        fields.error(
            "ambiguous-badge",
            f"{given!r} is the name of {len(sharing)} badges ({', '.join(sharing)})",
            fields.where("badge"),
            "write the badge you mean by its slug",
        )
        badge = None
    elif given and given not in badges:  # (a badge's name, or a mistyped slug: the list says which exist)
        fields.raw("badge")
        fields.error(
            "unknown-badge",
            f"there is no badge {given!r}",
            fields.where("badge"),
            did_you_mean(given.lower(), badges) or "badges are: " + _badge_list(badges),
        )
        badge = None
    else:
        badge = fields.slug("badge", required=True)
    issued_on = fields.date("issued_on", required=True)
    expires = fields.date("expires")
    narrative = fields.text("narrative", max_len=5000)
    evidence_url = fields.url("evidence_url")
    evidence_narrative = fields.text("evidence_narrative", max_len=5000)
    fields.finish()
    for key, text in (("narrative", narrative), ("evidence_narrative", evidence_narrative)):
        if too_large := markdown_limit(text):  # (refused before anything is written, as the build would: a review)
            fields.error("markdown-too-large", f"the {key} cannot be shown: {too_large}", fields.where(key))
            return None
    for key, text in (("name", name), ("narrative", narrative), ("evidence_narrative", evidence_narrative)):
        if text and (meant := mojibake(text)) is not None:  # (signed into a badge for good: a review)
            shown = shorten(text, meant)
            fields.error(
                "garbled-text",
                f"the {key} {shown[0]!r} looks like {shown[1]!r} read in the wrong encoding",
                fields.where(key),
                f"write {shown[1]!r} if that is what you meant"
                if by_hand or from_issue
                else f"correct the cell to read {shown[1]!r}, if that is what it meant"
                if location.path.lower().endswith((".xlsx", ".xlsm"))
                else f"if the sheet shows {shown[1]!r}, import it again without --encoding (or with "
                f"--encoding utf-8); if it shows {shown[0]!r}, correct the cell",
            )
            return None
    for key, text in (
        ("name", name or ""),
        ("narrative", markdown_as_shown(narrative or "")),  # (Markdown: also as its page shows it)
        ("evidence_narrative", markdown_as_shown(evidence_narrative or "")),
    ):
        found = email_in_text(text)
        if found:  # (refused before anything is written: the build would refuse it after)
            fields.error(
                "email-published",
                f"the {key} holds an email address ({found}), which would be published on the badge's page",
                fields.where(key),
                "name the person or their role instead",
            )
            return None
    if given and badge is None:
        return None
    if issued_on and issued_on > today:
        fields.error(
            "future-date", f"{fields.named('issued_on')} ({issued_on}) is in the future", fields.where("issued_on")
        )
        return None
    if issued_on and issued_on < FIRST_PLAUSIBLE_DAY:
        if DAY_ZERO <= issued_on <= EMPTY_DATE_CELL:
            why = "is the date a spreadsheet shows for an empty or zero cell formatted as a date"
        elif issued_on.year < DAY_ZERO.year:
            why = f"is in the year {issued_on.year}: a year typed wrong?"
        else:  # (a review: a cell holding 45, formatted as a date, read as 1900-02-14, passed)
            # (Excel's calendar has a 1900-02-29, so its days before March 1900 start a day later)
            serial = (issued_on - DAY_ZERO).days - (issued_on < date(1900, 3, 1))
            why = (
                f"is day {serial} of a spreadsheet's calendar: a number in a cell formatted as a date, "
                f"or a year typed wrong? (no award is imported from before {FIRST_PLAUSIBLE_DAY.year})"
            )
        fields.error(
            "bad-date",
            f"{fields.named('issued_on')} ({issued_on}) {why}",
            fields.where("issued_on"),
            "fill in the real date of the award"
            + (
                ""
                if issued_on <= EMPTY_DATE_CELL
                else "; one really issued then can be written in its recipient file by hand"
            ),
        )
        return None
    if issued_on and expires and expires <= issued_on:
        fields.error(
            "bad-dates",
            f"{fields.named('expires')} ({expires}) must be after {fields.named('issued_on')} ({issued_on})",
            fields.where("expires"),
        )
        return None
    if not (name and email and badge and issued_on):
        return None
    return NewAward(name, email, badge, issued_on, expires, narrative, evidence_url, evidence_narrative, location)


class _Located(dict):
    """A CSV row as a mapping whose every value is located at its cell in ``cells``, else at its row."""

    def __init__(self, data: dict, location: SourceLocation, cells: dict[str, SourceLocation]):
        super().__init__(data)
        self.location = location
        self.key_locations = {k: cells.get(k, location) for k in data}
        self.value_locations = {**self.key_locations, **cells}  # (an empty cell of a column is where it is missing)


DATE_COLUMNS = ("issued_on", "expires")
# Excel's day 1 (a cell holding 0 or 1 shown as a date reads 1900-01-00/01; LibreOffice's day 0 is
# 1899-12-30): no badge was issued then, every such date is a cell left empty by mistake (a review).
EMPTY_DATE_CELL = date(1900, 1, 1)
DAY_ZERO = date(1899, 12, 30)  # what a spreadsheet's day 0 reads as (LibreOffice; Excel shows 1900-01-00)
FIRST_PLAUSIBLE_DAY = date(1950, 1, 1)  # (day 18,264 of a spreadsheet's calendar: an import's earliest)
LOCAL_DATE_RE = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{2}|\d{4})$")


def local_date_hint(value: str) -> str | None:
    """For ``01/03/2026``: the ``--date-format`` to add (day or month first, when the date tells)."""
    match = LOCAL_DATE_RE.match(value)
    if not match:
        return None
    first, sep, second, year = match.groups()
    y = "%Y" if len(year) == 4 else "%y"
    day_first, month_first = f"%d{sep}%m{sep}{y}", f"%m{sep}%d{sep}{y}"
    if int(first) > 12:
        return f'this looks like a day-first date: add --date-format "{day_first}"'
    if int(second) > 12:
        return f'this looks like a month-first date: add --date-format "{month_first}"'
    return (
        f'is it day first or month first? add --date-format "{day_first}" (day first, as in most of '
        f'Europe) or --date-format "{month_first}" (month first, as in the US)'
    )


def check_date_format(text: str) -> None:
    """Refuse a ``--date-format`` that cannot write and read back a date."""
    sample = date(2026, 3, 14)
    try:
        if datetime.strptime(sample.strftime(text), text).date() != sample:
            raise ValueError("it loses the day, month or year")
    except ValueError as exc:
        raise SourceError(
            f"--date-format {text!r} is not a date format ({exc})",
            None,
            "use strptime codes, e.g. %d/%m/%Y for 14/03/2026 or %m/%d/%Y for 03/14/2026",
        ) from None


_DATE_CODES = frozenset({"bad-date", "bad-dates", "future-date"})  # (of a row's dates, said once)


def _sheet_dates(
    row: dict,
    cells: dict[str, SourceLocation],
    date_format: str | None,
    diagnostics: list[Diagnostic],
    hinted: set[str],
    text: bool = False,
) -> bool:
    """Turn the date cells of ``row`` into ``YYYY-MM-DD`` in place; False (and a diagnostic at the
    cell, of ``cells``) when one is not a date. ``text``: the sheet is a CSV (its hints say so)."""
    ok = True
    for key in DATE_COLUMNS:
        value = row.get(key)
        location = cells.get(key)
        if isinstance(value, date):
            row[key] = value.isoformat()
        elif isinstance(value, str) and not DATE_RE.match(value):
            serial = value.isdigit() and 20000 < int(value) < 80000  # (an Excel date shown as a number)
            if date_format and not serial:
                try:
                    row[key] = datetime.strptime(value, date_format).date().isoformat()
                    continue
                except ValueError:
                    message = f"'{key}' is not a date written {date_format} (nor YYYY-MM-DD): {value!r}"
                    diagnostics.append(Diagnostic("error", "bad-date", message, location))
                    ok = False
            elif serial:
                diagnostics.append(
                    Diagnostic(
                        "error",
                        "bad-date",
                        f"'{key}' is the number {value}, not a date",
                        location,
                        "this looks like an Excel date shown as a number: format the column as a date in the "
                        + ("spreadsheet and save the CSV from it again" if text else "sheet")
                        + ", or write the dates as YYYY-MM-DD",
                    )
                )
                ok = False
            elif LOCAL_DATE_RE.match(value) or _named_month_format(value):
                named = _named_month_format(value)
                hint = f'add --date-format "{named}"' if named else local_date_hint(value)
                if hint in hinted:  # (each hint once, at its first row: not on every row of a long sheet)
                    hint = None
                elif hint is not None:
                    hinted.add(hint)
                diagnostics.append(
                    Diagnostic(
                        "error",
                        "bad-date",
                        f"'{key}' must be a date written YYYY-MM-DD, or say how the sheet writes dates; got {value!r}",
                        location,
                        hint,
                    )
                )
                ok = False
    return ok


NAMED_MONTH_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%b %d, %Y", "%B %d, %Y", "%d-%b-%Y", "%d-%b-%y")


def _named_month_format(value: str) -> str | None:
    """The ``--date-format`` that reads a date written with its month's name (``3 Dec 2026``,
    ``December 3, 2026``, ``03-Dec-2026``), or None."""
    for pattern in NAMED_MONTH_FORMATS:
        try:
            datetime.strptime(" ".join(value.split()), pattern)
        except ValueError:
            continue
        return pattern
    return None


def _badge_list(badges) -> str:
    """``first-aid (First Aid at Work), …``: the slugs a sheet may use, with the names it may use too."""
    return ", ".join(f"{slug} ({badge.name})" for slug, badge in sorted(badges.items()))


def badge_slug(text: str, badges, by_name: dict[str, str]) -> str:
    """The badge a cell means: its slug, its name in any case and spacing ("network cabling"), or
    its slug in any case or with spaces for hyphens ("FIRST-AID-AT-WORK"); else the text as it is
    (then an unknown badge, listed with the site's badges). A text that would name one badge by
    name and another by slug is left as it is, to be reported: a badge is never guessed."""
    spaced = " ".join(text.split())
    if not spaced or spaced in badges:
        return spaced or text
    named = by_name.get(spaced.casefold())
    slugged = next((c for c in (spaced.lower(), spaced.lower().replace(" ", "-")) if c in badges), None)
    if named is not None and slugged and named != slugged:
        return spaced
    return named or slugged or spaced


def badge_names(badges) -> dict[str, str]:
    """A badge's name (case and spacing aside) -> its slug; "" for a name several badges have."""
    names: dict[str, str] = {}
    for slug, badge in sorted(badges.items()):
        name = _plain_name(badge.name)
        names[name] = "" if name in names else slug
    return names


def _plain_name(name: str) -> str:
    """A badge's name with case and spacing aside (as sheets may write it)."""
    return " ".join(name.split()).casefold()


def awards_from_table(
    table: Table, badges, today: date, *, date_format: str | None = None
) -> tuple[list[NewAward], list[Diagnostic]]:
    """Every row of a sheet as a checked award, and the warnings; raises ValidationFailed listing every bad row."""
    diagnostics: list[Diagnostic] = list(table.warnings)
    by_name = badge_names(badges)
    awards = []
    hinted: set[str] = set()
    for line, row in table.rows:
        location, cells = SourceLocation(table.rel, line), table.cells(line)
        first = next((str(value).strip() for value in row.values() if str(value).strip()), "")
        if TOTALS_ROW.match(first) and not row.get("email"):  # (one error, not one per empty cell: UX review)
            diagnostics.append(
                Diagnostic(
                    "error",
                    "totals-row",
                    f"this row looks like a totals row ({first[:40]!r}), not an award",
                    location,
                    "delete it from the sheet, or save the awards' rows alone",
                )
            )
            continue
        dated = _sheet_dates(row, cells, date_format, diagnostics, hinted, not table.rel.lower().endswith(".xlsx"))
        texts = {k: v if isinstance(v, str) else str(v) for k, v in row.items()}
        texts["badge"] = badge_slug(texts.get("badge", ""), badges, by_name)
        if not dated:
            # The rest of the row is checked too (a provider's review: a bad date hid a bad email
            # until the next run), with its dates put aside: what is said of them is said already.
            for key in DATE_COLUMNS:
                texts.pop(key, None)
            texts["issued_on"] = today.isoformat()
            others: list[Diagnostic] = []
            check_row(texts, location, badges, others, today, cells)
            diagnostics.extend(d for d in others if d.code not in _DATE_CODES)
            continue
        award = check_row(texts, location, badges, diagnostics, today, cells)
        if award is not None:
            award.row = table.row_name(line)
            awards.append(award)
    if any(d.is_error for d in diagnostics):
        raise ValidationFailed(diagnostics)
    return awards, diagnostics


# Names Windows keeps for devices, with any extension (recipients/con.yaml is one): git for Windows
# cannot check such a file out, so an earner named "Con" or "Nul" gets con-2.yaml (a review).
WINDOWS_DEVICE_NAMES = frozenset(
    ("con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10)))
)


@editing_sources
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
    seen: dict[tuple[str, str, date], str] = {}  # award -> the row of the sheet it came from
    added_now: dict[str, list[NewAward]] = {}  # email -> the awards of this run so far
    recipients_dir = source_paths(source).recipients
    namesakes: dict[str, tuple[str, str, str]] | None = None  # name_key -> (email, where, name) of an earner
    for award in awards:
        key = (award.email, award.badge, award.issued_on)
        recipient = by_email.get(award.email)
        _check_name(award, recipient, new_files, result.warnings)
        duplicate = recipient and next((a for a in recipient.awards if (a.badge, a.issued_on) == key[1:]), None)
        if duplicate or key in seen:
            where = f"{award.location}: " if award.location and award.location.line else ""
            result.skipped.append(
                (
                    duplicate.id if duplicate else "-",
                    f"{where}{award.email} already has {award.badge} issued on {award.issued_on}"
                    + (f" (award {duplicate.id})" if duplicate else f" ({seen[key] or 'an earlier row'} of this sheet)")
                    + (
                        f", but it is REVOKED ({duplicate.revoked.reason}): to award the badge again, "
                        "give the new award a later issue date"
                        if duplicate and duplicate.revoked is not None
                        else ""
                    ),
                )
            )
            continue
        seen[key] = award.row
        earlier_now = [a for a in added_now.get(award.email, []) if a.badge == award.badge]
        if award.renews is None and earlier_now:  # (a row before this one of the run gave the badge)
            award.renews = _renews_in_this_run(award, earlier_now, project, result)
            if award.renews is None:
                _held_in_this_run(award, earlier_now, result)
        elif recipient is not None and award.renews is None:
            award.renews = _renewed(award, recipient, project, result)
            if award.renews is None:
                _already_held(award, recipient, result)
        added_now.setdefault(award.email, []).append(award)
        rank = 0
        while True:
            award.id = ids.derive_award_id(award.email, award.badge, award.issued_on.isoformat(), rank)
            if award.id not in taken_ids:
                break
            rank += 1
        taken_ids.add(award.id)
        if recipient is not None:
            assert recipient.location is not None  # (validated records know where they were written)
            existing.setdefault(recipient.location.path, []).append(award)
        elif award.email in new_files:
            new_files[award.email][2].append(award)
        else:
            # (said only of a name this writes: an earner on file keeps their file's name and show_name,
            # which the build checks: a review)
            if boxes := font_coverage(award.name, award.location):
                result.warnings.append(boxes)
            slug = slugify(award.name)
            base, n = slug, 2
            while (
                slug in taken_slugs
                or slug in WINDOWS_DEVICE_NAMES
                or any((recipients_dir / f"{slug}{ext}").exists() for ext in (".yaml", ".yml"))
            ):
                slug, n = f"{base}-{n}", n + 1
            taken_slugs.add(slug)
            if namesakes is None:  # (made at the first new earner: the names of every earner on file)
                namesakes = {}
                for known in project.recipients:
                    where = known.location.path if known.location else "a recipient file"
                    namesakes.setdefault(name_key(known.name), (known.email, where, known.name))
            if twin := namesakes.get(name_key(award.name)):
                result.warnings.append(_namesake(award, twin, f"recipients/{slug}.yaml"))
            namesakes.setdefault(name_key(award.name), (award.email, _earlier(award), award.name))
            new_files[award.email] = (slug, award.name, [award])
    if result.errors:
        raise ValidationFailed(result.errors + result.warnings)
    # Every file's new text is made before any is written: one that cannot be edited (an error
    # naming it) and nothing changes, as for a bad row.
    writes: list[tuple[str, str, str]] = []  # (file, new text, its line ends)
    for rel, added in sorted(existing.items()):
        text, newline = read_text_keeping_newlines(source / rel)
        for award in added:
            text = appended(text, rel, award.yaml_fields(), award.id)
            result.added.append((award.id, rel))
        writes.append((rel, text, newline))
    for email, (slug, name, added) in sorted(new_files.items(), key=lambda item: item[1][0]):
        rel = f"recipients/{slug}.yaml"
        writes.append((rel, new_recipient_text(name, email, [a.yaml_fields() for a in added]), "\n"))
        result.created_files.append(rel)
        result.added.extend((a.id, rel) for a in added)
    recipients_dir.mkdir(parents=True, exist_ok=True)
    write_together([(source / rel, text, newline) for rel, text, newline in writes], where=source)
    if result.added:
        result.recorded = record_new_awards(source, today, result.warnings)
    return result


def _renewed(award: NewAward, recipient: Recipient, project: Project, result: AwardResult) -> str | None:
    """The id of the award that ``award`` renews, if it is a renewal: the earner's latest award of
    a badge that must be renewed (``valid_for``), issued before it, neither revoked nor renewed.
    A renewal imported from a sheet or given with ``award`` (not ``award --renew``) was a second
    award beside the first, whose reminders to renew went on (a review). Said in a warning."""
    latest = renewed_award(project, recipient, award.badge, award.issued_on)
    if latest is None:
        return None
    if held := _held_by_hand(latest, award.issued_on):
        result.errors.append(
            Diagnostic(
                "error",
                "renews-suspended",
                f"{award.email}'s new {award.badge} award would renew award {latest.id}, which is {held}",
                award.location,
                _LIFT_FIRST.format(id=latest.id),
            )
        )
        return latest.id
    result.warnings.append(
        Diagnostic(
            "warning",
            "renewal",
            f"{award.email}'s new {award.badge} award renews award {latest.id} (issued on {latest.issued_on}"
            + (f", expires {latest.expires}" if latest.expires else "")
            + "): it says 'renews', so the earlier award is no longer reminded"
            + _soon_after(award.issued_on, latest.issued_on, latest.expires),
            award.location,
            "if it is not a renewal, delete its 'renews:' line before you commit",
        )
    )
    return latest.id


_LIFT_FIRST = (
    "a renewal is a valid award of the badge while the suspension holds (a membership's lapse "
    "would suspend it too; a suspension written by hand does not carry over): if the renewal is "
    "meant, lift the suspension first (badgekiln unsuspend {id}) and run this again"
)


def _held_by_hand(award: Award, day: date) -> str | None:
    """``suspended since 2026-11-01: <reason>`` for an award a suspension written in its file holds
    on ``day`` (:meth:`Award.held_by_hand`; a membership's lapse suspends the renewal too), else None."""
    if not award.held_by_hand(day) or award.suspended is None:
        return None
    return f"suspended since {award.suspended.on}: {award.suspended.reason}"


RENEWED_SOON = 30  # days: a renewal this soon after the award it renews is more often a row given twice


def _soon_after(issued_on: date, renewed_on: date, renewed_until: date | None) -> str:
    """What a renewal warning adds when the renewal comes within :data:`RENEWED_SOON` days of the
    award it renews and in the first quarter of its term (a provider's review: a row entered twice
    with its date one day off became a renewal, said like any other; a review: a badge valid for
    14 days renewed on its last day is a renewal)."""
    days = (issued_on - renewed_on).days
    term = (renewed_until - renewed_on).days if renewed_until else None
    if days > RENEWED_SOON or (term is not None and days * 4 >= term):
        return ""
    return (
        f"; it comes only {days} day{'s' if days != 1 else ''} after it: if it was entered twice, "
        "delete the new award instead"
    )


def _already_held(award: NewAward, recipient: Recipient, result: AwardResult) -> bool:
    """Warn when the earner already holds the badge on the new award's day, or from a later day:
    a second award of it is most often a mistake (a wrong date, the wrong earner) that the
    provider should see before committing (UX walkthrough: it was added without a word)."""
    held = [
        a
        for a in recipient.awards
        if a.badge == award.badge
        and a.revoked is None
        and (a.issued_on > award.issued_on or a.expires is None or a.expires > award.issued_on)
    ]
    if not held:
        return False
    other = max(held, key=lambda a: (a.issued_on, a.id))
    assert recipient.location is not None  # (validated records know where they were written)
    result.warnings.append(
        Diagnostic(
            "warning",
            "already-held",
            f"{award.email} already holds {award.badge}: award {other.id}, issued on {other.issued_on}"
            + (f", expires {other.expires}" if other.expires else "")
            + f"; this adds a second award of it, issued on {award.issued_on}",
            award.location,
            f"if that is a mistake, delete the new award from {recipient.location.path} and its line from "
            "site_src/awards.lock before you commit",
        )
    )
    return True


def _renews_in_this_run(award: NewAward, earlier: list[NewAward], project: Project, result: AwardResult) -> str | None:
    """The id of the award of this run that ``award`` renews: the latest earlier one of the same
    badge, when the badge must be renewed and no other award of the run renews it (re-review: two
    rows both renewed the award on file, which the build then refused)."""
    badge_class = project.badges.get(award.badge)
    latest = max(earlier, key=lambda a: (a.issued_on, a.id))
    if badge_class is None or badge_class.valid_for is None or latest.issued_on >= award.issued_on:
        return None
    row = f"{latest.row} of this sheet" if latest.row else "this run"
    result.warnings.append(
        Diagnostic(
            "warning",
            "renewal",
            f"{award.email}'s new {award.badge} award renews the one of {row} (award {latest.id}, issued on "
            f"{latest.issued_on}): it says 'renews', so the earlier award is no longer reminded"
            + _soon_after(
                award.issued_on, latest.issued_on, latest.expires or badge_class.valid_for.after(latest.issued_on)
            ),
            award.location,
            "if it is not a renewal, delete its 'renews:' line before you commit",
        )
    )
    return latest.id


def _held_in_this_run(award: NewAward, earlier: list[NewAward], result: AwardResult) -> None:
    """Warn when a row before this one of the same run gave the earner the badge (two rows of one
    sheet; review: only awards already on file were looked at)."""
    other = max(earlier, key=lambda a: (a.issued_on, a.id), default=None)
    if other is None:
        return
    row = f"{other.row} of this sheet" if other.row else "this run"
    result.warnings.append(
        Diagnostic(
            "warning",
            "already-held",
            f"{award.email} is given {award.badge} twice: in {row}, issued on {other.issued_on}, and here, "
            f"issued on {award.issued_on}",
            award.location,
            "if one of them is a mistake, delete that award from the earner's file and its line from "
            "site_src/awards.lock before you commit",
        )
    )


def renewed_award(project: Project, recipient: Recipient, badge: str, issued_on: date) -> Award | None:
    """The award that a new award of ``badge`` to ``recipient``, issued on ``issued_on``, renews:
    their latest earlier award of that badge, if the badge must be renewed (``valid_for``) and
    that award is neither revoked nor renewed already; else None."""
    badge_class = project.badges.get(badge)
    if badge_class is None or badge_class.valid_for is None:
        return None
    earlier = [a for a in recipient.awards if a.badge == badge and a.issued_on < issued_on]
    if not earlier:
        return None
    latest = max(earlier, key=lambda a: (a.issued_on, a.id))
    # (renewed by any award, a revoked one too: validation allows one 'renews' of an award)
    if latest.revoked is not None or any(a.renews == latest.id for a in recipient.awards):
        return None
    return latest


def check_single(source: Path, row: dict[str, str], today: date) -> NewAward:
    """Check an award given on the command line."""
    project = load_project(source, today=today).project
    diagnostics: list[Diagnostic] = []
    row = dict(row, badge=badge_slug(row.get("badge", ""), project.badges, badge_names(project.badges)))
    email = row.get("email", "").strip().lower()
    if not row.get("name", "").strip() and email:  # (an earner on file: their name is the file's)
        on_file = next((r for r in project.recipients if r.email == email), None)
        if on_file is not None:
            row["name"] = on_file.name
    award = check_row(row, SourceLocation("<command line>"), project.badges, diagnostics, today)
    if email and not row.get("name", "").strip():  # (UX walkthrough: it did not say why a name was asked for)
        diagnostics = [
            replace(d, hint=f'{email} is not on file yet (no recipient file has it): add --name "Their Name"')
            if d.code == "missing-key" and "--name" in d.message
            else d
            for d in diagnostics
        ]
    if award is None or any(d.is_error for d in diagnostics):
        raise ValidationFailed(diagnostics)
    return award


@editing_sources
def renew(source: Path, award_id: str, issued_on: date, today: date) -> AwardResult:
    """Add the renewal of award ``award_id``: the same earner and badge, issued on ``issued_on``,
    ``renews: award_id``, its expiry from the badge class's ``valid_for`` (computed at build).

    Raises:
        BadgekilnError: there is no such award, it is revoked or already renewed, or the date is
            not after its issue date (or is in the future).
    """
    project = load_project(source, today=today).project
    earlier = project.award(award_id)
    if earlier is None:
        hint = did_you_mean(award_id, [a.id for a in project.awards])
        raise BadgekilnError(f"there is no award {award_id!r}" + (f"; {hint}" if hint else ""))
    if earlier.revoked is not None:
        raise BadgekilnError(f"award {award_id!r} is revoked and cannot be renewed: award the badge again instead")
    renewal = next((a for a in project.awards if a.renews == award_id), None)
    if renewal is not None:
        raise BadgekilnError(f"award {award_id!r} is already renewed by {renewal.id!r}; renew that one instead")
    if held := _held_by_hand(earlier, issued_on):
        raise BadgekilnError(f"award {award_id!r} is {held}; " + _LIFT_FIRST.format(id=award_id))
    if issued_on <= earlier.issued_on:
        raise BadgekilnError(
            f"--issued-on ({issued_on}) must be after the renewed award's issue date ({earlier.issued_on})"
        )
    if issued_on > today:
        raise BadgekilnError(f"--issued-on ({issued_on}) is in the future")
    recipient = project.recipient(earlier.recipient)
    new = NewAward(
        recipient.name,
        recipient.email,
        earlier.badge,
        issued_on,
        location=SourceLocation("<command line>"),
        renews=award_id,
    )
    return add_awards(source, [new], today)


def _namesake(award: NewAward, twin: tuple[str, str, str], new_file: str) -> Diagnostic:
    """The warning for a new earner whose name an earner of another address already has (a
    mistyped address makes a second earner, and the badge goes to an address nobody reads)."""
    email, where, name = twin
    return Diagnostic(
        "warning",
        "same-name",
        f"{award.email} is a new earner, {new_file}, but {where} has an earner of the same name, {name!r}, at {email}",
        award.location,
        f"if it is the same person, write {email} (or correct the address on file) and run it again; "
        "two people of one name need nothing",
    )


def _earlier(award: NewAward) -> str:
    """How a message names the row of ``award``, earlier than the one it is about: ``row 3 of
    this sheet`` (the sheet's own path is at the start of the message, as the user gave it)."""
    return f"{award.row} of this sheet" if award.row else "an earlier row"


def _check_name(award: NewAward, recipient, new_files: dict, warnings: list[Diagnostic]) -> None:
    """Warn when a row names the earner of an email otherwise than the file (or an earlier row) does."""
    if recipient is not None:
        on_file, where = recipient.name, f"{recipient.location.path}"
    elif award.email in new_files:
        first = new_files[award.email][2][0]
        on_file, where = first.name, _earlier(first)
    else:
        return
    if not same_name(award.name, on_file):
        warnings.append(
            Diagnostic(
                "warning",
                "name-differs",
                f"this {_source_noun(award.location)} names {award.email} {award.name!r}, but {where} says "
                f"{on_file!r}; the award goes to {on_file!r}",
                award.location,
                f"correct the {_source_noun(award.location)}, or, if the earner's name has changed, edit the name "
                "in their recipient file",
            )
        )


def _source_noun(location: SourceLocation | None) -> str:
    """What an award came from, as a message names it: the award (given on the command line), the
    issue (a form's answers) or the row (of a sheet)."""
    where = location.path if location else ""
    return "award" if where == "<command line>" else "issue" if where.startswith("issue #") else "row"


def import_sheet(
    source: Path,
    path: Path,
    today: date,
    *,
    column_map: str | None = None,
    date_format: str | None = None,
    encoding: str = "utf-8",
    sheet: str | None = None,
) -> AwardResult:
    """Import awards from a CSV or .xlsx file (columns: CSV_COLUMNS, matched in any case and spacing).

    Args:
        column_map: ``--map`` text, e.g. ``"Mail=email,Course=badge"``.
        date_format: how the sheet writes dates as text, e.g. ``%d/%m/%Y`` (ISO dates and real
            date cells are always understood).
        encoding: of a CSV that is not UTF-8 (UTF-8 with or without BOM and UTF-16 are detected).
    """
    if date_format is not None:
        check_date_format(date_format)
    project = load_project(source, today=today).project
    table = read_table(
        path,
        known=CSV_COLUMNS,
        required=REQUIRED,
        mapping=parse_map(column_map, CSV_COLUMNS),
        encoding=encoding,
        sheet=sheet,
    )
    awards, warnings = awards_from_table(table, project.badges, today, date_format=date_format)
    result = add_awards(source, awards, today)
    result.warnings[:0] = warnings
    return result


import_csv = import_sheet  # the name before .xlsx files were read too
