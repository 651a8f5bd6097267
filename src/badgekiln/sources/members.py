"""``site_src/members.csv``: who is a member until when, as a membership system exports it.

The file is optional. Its first row names the columns; ``email`` and ``until`` are read (in any
case and spacing, ``Until`` or `` EMAIL ``), every other column is ignored: it is never published
and nothing of it reaches the output. Emails are normalised as recipients' are (trimmed,
lower-cased); ``until`` is the last day of the membership, written ``YYYY-MM-DD``. Several rows
for one address (a renewal exported as a new row) mean the latest ``until``. Separators: comma,
semicolon or tab (read from the header line, or from Excel's ``sep=;`` line above it). UTF-8, with or without a byte order mark.

Every problem is a :class:`~badgekiln.errors.Diagnostic` at ``site_src/members.csv:LINE``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from badgekiln.errors import Diagnostic, SourceError, SourceLocation
from badgekiln.models import Recipient
from badgekiln.sources import safefiles
from badgekiln.sources.config import SourceTree
from badgekiln.sources.fields import DATE_RE, EMAIL_RE, bad_character, email_hint, iso_hint, meant_address
from badgekiln.sources.sheets import ALIASES, TOTALS_ROW, is_separator_line, separator

MAX_MEMBERS_BYTES = 64 * 1024 * 1024  # bytes: an export of a few hundred thousand members
MAX_CELL = 1024  # characters of one email or date cell


class Members(dict[str, date]):
    """Normalised email -> the last day of the membership; ``unread``: the emails of rows whose
    date is wrong (an error already names each: the earner is not said to have no membership)."""

    unread: frozenset[str] = frozenset()
    unreadable: bool = False  # the file is there but could not be read (an error says why)


def _unreadable() -> Members:
    """The members of a file that could not be read: none known, none said to have no membership."""
    members = Members()
    members.unreadable = True
    return members


# Names a members file is given by mistake (one read on a laptop that ignores case, never on Linux)
_STEMS = ("members", "member", "membership", "memberships")
_NEAR_NAMES = frozenset(f"{stem}.{ext}" for stem in _STEMS for ext in ("csv", "txt", "xlsx"))


def read_members(source: Path, diagnostics: list[Diagnostic]) -> dict[str, date]:
    """The members of ``site_src/members.csv`` (normalised email -> last day, a :class:`Members`),
    or {} without the file.

    Problems are appended to ``diagnostics``; a row with a problem is left out.
    """
    rel = SourceTree.MEMBERS
    if safefiles.kind(source, rel) is None:
        return {}
    try:
        data = safefiles.read_bytes(source, rel, limit=MAX_MEMBERS_BYTES)
    except SourceError as exc:
        diagnostics.append(exc.diagnostic)
        return _unreadable()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        diagnostics.append(
            Diagnostic(
                "error",
                "bad-encoding",
                f"members.csv is not UTF-8 (byte {exc.start})",
                SourceLocation(rel, line),
                "export it again as CSV UTF-8",
            )
        )
        return _unreadable()
    return _parse(text, rel, diagnostics)


def misnamed_members(source: Path) -> list[Diagnostic]:
    """A warning for each file of ``site_src`` named as a members file but not ``members.csv``
    (``Members.csv``, ``member.csv``, ``members.xlsx``): it is not read, so no membership it lists
    lapses, and a laptop that ignores case may have read it where CI does not (a review). Beside a
    ``members.csv``, only a name that differs from it by case (the others, a workbook it was exported
    from, are the provider's own). Only regular files: a folder or a link of that name is nothing a
    membership system exports."""
    try:
        entries = safefiles.list_dir(source, "site_src")
    except SourceError:
        return []
    there = any(entry.name == "members.csv" for entry in entries)
    found = []
    for entry in entries:
        if entry.name == "members.csv" or entry.name.lower() not in _NEAR_NAMES or entry.kind != "file":
            continue
        if there and entry.name.lower() != "members.csv":
            continue
        what = "export it as a CSV named" if entry.name.lower().endswith(".xlsx") else "rename it"
        found.append(
            Diagnostic(
                "warning",
                "members-file-name",
                f"site_src/{entry.name} is not read (where names are told by case, as on Linux CI): memberships "
                "are read from site_src/members.csv only, in small letters, so no membership it lists lapses",
                SourceLocation(f"site_src/{entry.name}"),
                f"{what} members.csv, with the columns email,until",
            )
        )
    return found


def _parse(text: str, rel: str, diagnostics: list[Diagnostic]) -> dict[str, date]:
    def error(line: int, code: str, message: str, hint: str | None = None) -> None:
        diagnostics.append(Diagnostic("error", code, message, SourceLocation(rel, line), hint))

    if "\0" in text:
        error(text[: text.index("\0")].count("\n") + 1, "bad-csv", "members.csv contains a NUL byte")
        return _unreadable()
    delimiter, declared = separator(text)  # (Excel's 'sep=;' line, as award sheets read it)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    members = Members()
    unread: set[str] = set()
    try:
        header = _first_row(reader)  # (blank lines above it skipped, as award sheets skip them)
        if declared and header is not None and is_separator_line(header):
            header = _first_row(reader)
        if header is None:
            error(1, "bad-csv", "members.csv is empty", "the first line names the columns: email,until")
            return _unreadable()
        at = reader.line_num  # the header's line (2 below a sep= line)
        names = ["_".join(cell.strip().lower().replace("-", " ").split()) for cell in header]
        if "email" not in names:  # (E-mail, Email address: read as award sheets read them)
            names = [ALIASES.get(name, name) for name in names]
        if names.count("email") > 1 or names.count("until") > 1:  # (as award sheets: never one of two at random)
            error(at, "bad-csv", f"members.csv has two columns of one name (columns: {', '.join(names)})", "delete one")
            return _unreadable()
        missing = [name for name in ("email", "until") if name not in names]
        if missing:
            error(
                at,
                "bad-csv",
                f"members.csv has no column {' or '.join(repr(m) for m in missing)} (columns: {', '.join(names)})",
                "the first line names the columns: email,until (other columns are ignored)",
            )
            return _unreadable()
        email_at, until_at = names.index("email"), names.index("until")
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # the empty rows spreadsheets leave below the data
            if len(row) <= max(email_at, until_at):
                error(
                    line,
                    "bad-csv",
                    f"this row has {len(row)} cell(s); 'email' and 'until' are columns "
                    f"{email_at + 1} and {until_at + 1}",
                )
                continue
            email, until = row[email_at].strip(), row[until_at].strip()
            if len(email) > MAX_CELL or len(until) > MAX_CELL:
                error(line, "too-long", "an email or until cell is longer than 1024 characters")
                continue
            bad = bad_character(email, allow_newlines=False) or bad_character(until, allow_newlines=False)
            if bad is not None:
                error(line, "control-character", f"this row contains a character that is not text ({bad})")
                continue
            if not EMAIL_RE.match(email):
                first = next(cell.strip() for cell in row if cell.strip())
                if _totals_row(row, first):  # (as award sheets say it)
                    error(
                        line,
                        "totals-row",
                        f"this row looks like a totals row ({first[:40]!r}), not a member",
                        "delete it from the file, or export the members' rows alone",
                    )
                else:
                    error(line, "bad-email", f"{email!r} is not a valid email address", email_hint(email))
                    if meant := meant_address(email):  # (its earner is not also said to have no membership)
                        unread.add(meant[0].lower())
                continue
            day = _date(until)
            if day is None:
                error(
                    line,
                    "bad-date",
                    f"'until' must be a real date written YYYY-MM-DD, not {until!r}",
                    iso_hint(until, "until", lambda _, value: value)
                    or "the last day of the membership, e.g. 2027-06-30",
                )
                unread.add(email.lower())
                continue
            key = email.lower()
            members[key] = max(day, members.get(key, day))
    except csv.Error as exc:
        error(reader.line_num or 1, "bad-csv", f"members.csv cannot be read as CSV: {exc}", "export it again as CSV")
        return _unreadable()
    members.unread = frozenset(unread)
    return members


def _first_row(reader: Iterable[list[str]]) -> list[str] | None:
    """The next row of ``reader`` that holds something, or None at the end."""
    return next((row for row in reader if any(cell.strip() for cell in row)), None)


def _totals_row(row: list[str], first: str) -> bool:
    """Whether a row whose address is wrong is the totals row a spreadsheet adds below the data: its
    first cell begins "Total", "Sum" or "Count", and no cell of it is an address or a date ("Total
    members: 2", "Sum of members,2"; a member "Total Fitness Ltd" or "Count Basie" with an address or
    a date is a member to put right, not a row to delete: a review)."""
    return bool(TOTALS_ROW.match(first)) and not any("@" in cell or DATE_RE.match(cell.strip()) for cell in row)


def _date(text: str) -> date | None:
    match = DATE_RE.match(text)
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def last_days(recipients: Iterable[Recipient], members: dict[str, date]) -> dict[str, date]:
    """Recipient slug → the last day of their membership, for each earner with one on record: the
    later of their file's ``membership: {until}`` and their ``members.csv`` row (as the build
    decides whether a membership lapsed)."""
    days = {}
    for recipient in recipients:
        known = [d for d in (recipient.membership_until, members.get(recipient.email)) if d is not None]
        if known:
            days[recipient.slug] = max(known)
    return days
