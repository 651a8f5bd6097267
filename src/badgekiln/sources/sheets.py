"""Reading spreadsheets as providers really save them, and writing them for HR.

:func:`read_table` reads a CSV (comma, semicolon or tab separated; UTF-8 with or without a BOM,
or UTF-16 as Excel's "Unicode text"; any line ends) or an ``.xlsx`` workbook (its first sheet,
through openpyxl in read-only mode) into a header and located rows. Header names are matched in
any case and spacing (``Issued On`` is ``issued_on``). Every problem is a located
:class:`~badgekiln.errors.Diagnostic` (``awards.csv:LINE:1``), never a traceback.

:func:`xlsx_bytes` writes rows as a deterministic workbook (same rows and date, same bytes).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from badgekiln.errors import CellLocation, Diagnostic, SourceError, SourceLocation, ValidationFailed, column_letters
from badgekiln.sources.fields import did_you_mean
from badgekiln.sources.loading import read_source_bytes

MAX_SHEET_BYTES = 64 * 1024 * 1024  # a 100,000-row award sheet is about 15 MB as CSV
MAX_UNPACKED_BYTES = 512 * 1024 * 1024  # what an .xlsx (a zip) may unpack to: no zip bombs
MAX_ROWS = 100_000
MAX_CELLS = 5_000_000  # cells of a sheet read, empty ones within a row included (100,000 rows of 50)
DELIMITERS = (",", ";", "\t")
ENCODINGS = ("utf-8", "utf-16", "cp1252")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls format


@dataclass
class Table:
    """The rows of one sheet: column names (normalised) and, per row, its line and cells."""

    rel: str
    columns: list[str]
    rows: list[tuple[int, dict[str, str | date]]] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    sheet_rows: bool = False  # each row's line is the row a spreadsheet shows it on (see _csv_rows)

    def row_name(self, line: int) -> str:
        """How a message names the row at ``line``: ``row 7``, or ``line 7`` of a CSV whose lines are
        not the rows a spreadsheet shows (see :func:`_csv_rows`)."""
        return _row_name(line, self.sheet_rows)

    def cells(self, line: int) -> dict[str, SourceLocation]:
        """Where each of our columns' cells of the row at ``line`` is (see :class:`CellLocation`)."""
        return {
            name: CellLocation(self.rel, line, number, sheet_row=self.sheet_rows)
            for number, name in enumerate(self.columns, 1)
            if name
        }


# Headings spreadsheets commonly give a column, read as ours without a --map (UX walkthrough:
# "E-mail" was refused); only where nothing else could be meant.
ALIASES = {"e_mail": "email", "email_address": "email", "e_mail_address": "email"}
# Words of a heading that say which of our columns it may hold: the hint of a missing column maps
# it, when one heading alone fits (whole words; a heading that fits two columns, or says it is
# something else, is never guessed: "Date of birth" for issued_on would issue badges on birthdays).
_HINT_WORDS = {
    "name": frozenset(
        {
            "name",
            "learner",
            "delegate",
            "candidate",
            "student",
            "trainee",
            "person",
            "earner",
            "participant",
            "attendee",
        }
    ),
    "email": frozenset({"mail", "email"}),
    "badge": frozenset({"badge", "course", "qualification", "certificate", "certification", "module", "award"}),
    "issued_on": frozenset({"date", "issued", "completed", "passed", "awarded"}),
}
_NOT_HINTED = frozenset(
    {"birth", "dob", "born", "dateofbirth", "expiry", "expires", "expiring", "due", "id", "number", "no", "code"}
)


# The first cell of a row a spreadsheet adds below the data: "Total", "Grand total", "Sum", "Count"
TOTALS_ROW = re.compile(r"(?:grand\s+|sub)?(?:totals?|sum|count)\b", re.IGNORECASE)


def column_key(name: str) -> str:
    """A header name as a key: ``' Issued On '`` and ``issued-on`` are ``issued_on``."""
    return "_".join(re.split(r"[\s\-_]+", name.replace("\ufeff", "").strip().casefold())).strip("_")


def parse_map(text: str | None, known: tuple[str, ...]) -> dict[str, str]:
    """``--map "Mail=email,Course=badge"`` as {sheet column key: our column}."""
    mapping: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        theirs, sep, ours = part.partition("=")
        ours_key = column_key(ours)
        if not sep or not column_key(theirs) or ours_key not in known:
            hint = did_you_mean(ours_key, known) if sep else None
            raise SourceError(
                f"--map takes SHEET_COLUMN=COLUMN pairs separated by commas, and COLUMN one of "
                f"{', '.join(known)}; {part.strip()!r} is not one",
                None,
                hint or 'for example --map "Mail=email,Course=badge,Date=issued_on"',
            )
        mapping[column_key(theirs)] = ours_key
    return mapping


def read_table(
    path: Path,
    *,
    known: tuple[str, ...],
    required: tuple[str, ...],
    mapping: dict[str, str] | None = None,
    encoding: str = "utf-8",
    sheet: str | None = None,
) -> Table:
    """Read a CSV or .xlsx file of ``known`` columns; raises ValidationFailed with located problems."""
    rel = str(path)  # (as the user gave it: an editor or terminal opens it from the message)
    raw = read_source_bytes(path, rel, limit=MAX_SHEET_BYTES)
    if raw.startswith(_OLE_MAGIC) and "EncryptedPackage".encode("utf-16-le") in raw:
        # (an .xlsx saved with a password is kept in the old format's container: it was called an .xls)
        raise sheet_error(
            "protected-workbook",
            "this workbook is protected by a password, so it cannot be read",
            SourceLocation(rel),
            "open it in Excel or LibreOffice, remove the password (Excel: File > Info > Protect "
            "Workbook > Encrypt with Password, and clear it), save it, and import it again",
        )
    if raw.startswith(_OLE_MAGIC):
        raise sheet_error(
            "old-xls",
            "this is an old-style Excel .xls file",
            SourceLocation(rel),
            "open it in Excel or LibreOffice and save it as .xlsx or as 'CSV UTF-8'",
        )
    note = None
    unsaved: dict[int, _Unsaved] = {}  # (formulas without their results, by column: .xlsx only)
    exact = True  # (an .xlsx row's number is its row's)
    if raw.startswith(_ZIP_MAGIC):
        header_line, header, rows, note, unsaved = _xlsx_rows(raw, rel, sheet)
    elif sheet is not None:
        raise sheet_error("no-sheets", "--sheet is for .xlsx workbooks; this file is a CSV", SourceLocation(rel))
    else:
        header_line, header, rows, exact = _csv_rows(_decode(raw, rel, encoding), rel)
    table = Table(rel, [], sheet_rows=exact)
    # The header's own formulas, and those of the rows above it (they read as empty: a header of
    # formulas alone is one), before the header is read: it would lack a column, or be too short.
    _refuse_unsaved_formulas(unsaved, rel, from_row=1, to_row=header_line)
    first: list[Diagnostic] = []  # (the first row's warnings count only if it is the header, not a title: an audit)
    try:
        table.columns = _columns(
            header, SourceLocation(rel, header_line), known, required, mapping or {}, first, exact=table.sheet_rows
        )
        table.warnings.extend(first)
    except ValidationFailed as exc:
        below = _header_below(rows, known, required, mapping or {})
        if below is not None:  # (a title row above the header, as office sheets have: UX review)
            line, cells = below
            for upper, cells_above in [(header_line, header), *((n, r) for n, r in rows if n < line)]:
                if any(isinstance(cell, str) and "@" in cell for cell in cells_above):  # (an award above its header)
                    raise sheet_error(
                        "row-above-header",
                        f"{_row_name(upper, exact)} holds an email address, but the columns are named in "
                        f"{_row_name(line, exact)}, below it",
                        SourceLocation(rel, upper),
                        "move the header to the top of the sheet, or that row below the header",
                    ) from None
            above = [*header, *(cell for number, row in rows if number < line for cell in row)]
            title = next((str(cell).strip() for cell in above if not _blank(cell)), "")
            table.warnings.append(
                Diagnostic(
                    "warning",
                    "header-below",
                    f"the columns are named in {_row_name(line, exact)}: the rows above it ({title[:60]!r}) are not read",
                    SourceLocation(rel, line),
                    "if a row above it is an award, move it below the header",
                )
            )
            header, header_line, rows = cells, line, [(n, r) for n, r in rows if n > line]
            table.columns = _columns(
                header,
                SourceLocation(rel, header_line),
                known,
                required,
                mapping or {},
                table.warnings,
                exact=table.sheet_rows,
            )
        elif note is None:
            partial = _partial_header_below(rows, header, known, required, mapping or {})
            if partial is None:
                raise
            line, cells = partial  # (a title above a header that misses a column: say so of that row)
            _columns(
                cells,
                SourceLocation(rel, line),
                known,
                required,
                mapping or {},
                [],
                row=_row_name(line, exact),
                exact=exact,
            )
            raise  # (not reached: that row lacks a column)
        else:
            other = Diagnostic(
                "warning",
                "other-sheets",
                note,
                SourceLocation(rel),
                "name the sheet with the awards: --sheet 'NAME' (or move its tab first and save)",
            )
            raise ValidationFailed([*exc.items, other]) from None
    if note is not None:  # (the first sheet is read, and it is the one the workbook opens on: said all the same)
        table.warnings.append(
            Diagnostic(
                "warning", "other-sheets", note, SourceLocation(rel), "to import another, name it: --sheet 'NAME'"
            )
        )
    too_wide = []
    unnamed: dict[int, tuple[int, str]] = {}  # column without a header -> its first filled cell (row, text)
    for line, cells in rows:
        if len(cells) > len(header) and any(not _blank(c) for c in cells[len(header) :]):
            too_wide.append(
                Diagnostic(
                    "error",
                    "extra-cells",
                    f"this row has {len(cells)} cells but the header names {len(header)} columns",
                    SourceLocation(rel, line),
                    "a value probably contains the separator: put that value in double quotes, or save the sheet again",
                )
            )
            continue
        if all(_blank(c) for c in cells):
            continue  # blank lines, and the ';;;;' rows spreadsheets leave below the data
        row = {}
        for number, (name, cell) in enumerate(
            zip(table.columns, cells, strict=False), 1
        ):  # (a short row: the rest is empty)
            if name and not _blank(cell):
                row[name] = cell.strip() if isinstance(cell, str) else cell
                if isinstance(cell, str) and cell.strip().upper() in SPREADSHEET_ERRORS:
                    too_wide.append(
                        Diagnostic(
                            "error",
                            "formula-error",
                            f"the {name} is {cell.strip()!r}, what a spreadsheet shows where a formula failed "
                            "(a lookup that found nothing, a reference to a deleted cell), not a value",
                            CellLocation(rel, line, number, sheet_row=table.sheet_rows),
                            "put the formula right in the sheet, or type the value, and save it again",
                        )
                    )
            elif not name and _blank(header[number - 1]) and not _blank(cell) and number not in unnamed:
                unnamed[number] = (line, str(cell).strip())
        table.rows.append((line, row))
        if len(table.rows) > MAX_ROWS:
            raise sheet_error(
                "too-many-rows",
                f"the sheet has more than {MAX_ROWS} rows",
                SourceLocation(rel, line),
                "split it into several files",
            )
    if too_wide:
        raise ValidationFailed(too_wide)
    read = {number for number, name in enumerate(table.columns, 1) if name}
    _refuse_unsaved_formulas(unsaved, rel, from_row=header_line, columns=read)
    for number, (line, text) in sorted(unnamed.items()):  # (a note such as "FAILED - do not award": a review)
        table.warnings.append(
            Diagnostic(
                "warning",
                "unnamed-column",
                f"column {column_letters(number)} has no name in the header, so it is not read; "
                f"{table.row_name(line)} has {text[:60]!r} in it",
                CellLocation(rel, line, number, sheet_row=table.sheet_rows),
                "if it says a row must not be awarded, delete that row; else name the column or clear it",
            )
        )
    if not table.rows:
        raise ValidationFailed(
            [
                Diagnostic(
                    "error", "empty-sheet", "the file has no rows below its header", SourceLocation(rel, header_line)
                )
            ]
        )
    return table


FOUND_SHOWN = 30  # headings a missing-column error lists
UNUSED_SHOWN = 10  # unused columns warned of one by one; past them, one warning counts the rest
HEADER_SEARCH = 10  # rows below the first where the header may be (under a title, a date, a blank row)


def _header_below(rows, known, required, mapping: dict[str, str]) -> tuple[int, list] | None:
    """The first of the next :data:`HEADER_SEARCH` rows that names every required column, or None."""
    for line, cells in rows[:HEADER_SEARCH]:
        try:
            _columns(cells, SourceLocation(""), known, required, mapping, [])
        except ValidationFailed:
            continue
        return line, cells
    return None


def _partial_header_below(rows, header, known, required, mapping: dict[str, str]) -> tuple[int, list] | None:
    """The row of the next :data:`HEADER_SEARCH` that names the most required columns, if it names
    at least two and more than the first row does (the header under a title, one of its columns
    named otherwise): the error then says what that row lacks, not what a title lacks."""

    def named(cells: list) -> int:
        keys = {mapping.get(key, key) for key in (column_key(str(c)) for c in cells if c is not None)}
        keys |= {ALIASES[key] for key in keys if key in ALIASES}  # (as _columns reads them)
        return len(keys & set(required))

    best = max(rows[:HEADER_SEARCH], key=lambda row: (named(row[1]), -row[0]), default=None)
    if best is None or named(best[1]) < 2 or named(best[1]) <= named(header):
        return None
    return best


def _row_name(line: int, exact: bool) -> str:
    return f"row {line}" if exact else f"line {line}"


def sheet_error(code: str, message: str, location: SourceLocation, hint: str | None = None) -> ValidationFailed:
    """A located error about a sheet, to raise."""
    return ValidationFailed([Diagnostic("error", code, message, location, hint)])


def _fewer_unused(unused: list[Diagnostic]) -> list[Diagnostic]:
    """The first :data:`UNUSED_SHOWN` unused-column warnings, then one that counts the rest (a
    sheet may carry thousands of stray headings: a warning each would bury every other line)."""
    if len(unused) <= UNUSED_SHOWN:
        return unused
    shown, rest = unused[: UNUSED_SHOWN - 1], unused[UNUSED_SHOWN - 1 :]
    first, last = rest[0].location, rest[-1].location
    span = (
        f"columns {column_letters(first.col)} to {column_letters(last.col)}"
        if isinstance(first, CellLocation) and isinstance(last, CellLocation)
        else "the columns after them"
    )
    summary = Diagnostic(
        "warning",
        "unused-column",
        f"{len(rest)} more columns are not used ({span})",
        first,
        "delete the columns you do not mean to import, or map them with --map",
    )
    return [*shown, summary]


def _blank(cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _columns(
    header: list,
    where: SourceLocation,
    known,
    required,
    mapping: dict[str, str],
    warnings: list[Diagnostic],
    *,
    row: str = "the first row",
    exact: bool = False,
) -> list[str]:
    """Our column name for each header cell ('' for a column that is ignored); ``where``: the header
    row, ``row``: what the error calls it, ``exact``: its line is the sheet's row (see :class:`CellLocation`)."""
    columns: list[str] = []
    taken: set[str] = set()  # (a set: a header of 200,000 stray headings was read in quadratic time, a review)
    stray: list[Diagnostic] = []
    for number, cell in enumerate(header, 1):
        at = CellLocation(where.path, where.line, number, sheet_row=exact) if where.line else where
        key = column_key(str(cell)) if cell is not None else ""
        name = mapping.get(key, key)
        if name not in known and ALIASES.get(name) in known and ALIASES[name] not in mapping.values():
            name = ALIASES[name]
        if name in taken:
            raise ValidationFailed(
                [
                    Diagnostic(
                        "error",
                        "duplicate-column",
                        f"two columns are named {name!r} (the second is column {column_letters(number)})",
                        at,
                        "rename or delete one of them",
                    )
                ]
            )
        if name:
            taken.add(name)
        if name and name not in known:
            stray.append(
                Diagnostic(
                    "warning",
                    "unused-column",
                    f"column {column_letters(number)}, {str(cell).strip()!r}, is not used",
                    at,
                    # (a hint for the warnings shown only: _fewer_unused counts the rest)
                    (did_you_mean(name, known) if len(stray) < UNUSED_SHOWN else None)
                    or f"known columns: {', '.join(known)}; "
                    f'use --map "{str(cell).strip()}=COLUMN" to read it as one of them',
                )
            )
            name = ""
        columns.append(name)
    warnings.extend(_fewer_unused(stray))
    missing = [c for c in required if c not in columns]
    if missing:
        named = [repr(str(c).strip()) for c in header if not _blank(c)]
        found = ", ".join(named[:FOUND_SHOWN]) or "nothing"
        if len(named) > FOUND_SHOWN:  # (a review: 20,000 stray headings made one line of 289 KB)
            found += f" and {len(named) - FOUND_SHOWN:,} more"
        unused = [str(c).strip() for c, name in zip(header, columns, strict=False) if not name and not _blank(c)]
        pairs = [f"{heading}={ours}" for ours, heading in _guesses(missing, unused).items()]
        raise ValidationFailed(
            [
                Diagnostic(
                    "error",
                    "bad-header",
                    f"{row} must name the columns {', '.join(required)} (in any order, any "
                    f"case); missing: {', '.join(missing)}; found: {found}",
                    where,
                    f'rename the columns, or map yours: --map "{",".join(pairs)}"'
                    + (
                        ""
                        if all(heading in unused for heading in _guesses(missing, unused).values())
                        else " (write your own column's heading before each =)"
                    ),
                )
            ]
        )
    return columns


def _words(heading: str) -> set[str]:
    """The words of a heading (letters and digits; "D.O.B." is also "dob")."""
    folded = heading.casefold()
    return set(re.findall(r"[a-z0-9]+", folded)) | {re.sub(r"[^a-z0-9]", "", folded)}


def _guesses(missing: list[str], unused: list[str]) -> dict[str, str]:
    """For each missing column, the heading of a column not read that may hold it: the one such
    column for the one missing, else the one heading whose words say so and fit no other column
    we read, else a placeholder (see :data:`_HINT_WORDS`). A heading that says it is something
    else is never offered."""
    plausible = [h for h in unused if not _words(h) & _NOT_HINTED]
    if len(unused) == 1 and len(missing) == 1:
        return {missing[0]: plausible[0] if plausible else "YOUR HEADING"}

    def fits(heading: str) -> set[str]:
        words = _words(heading)
        return {ours for ours, hints in _HINT_WORDS.items() if words & hints} | (
            {ours for ours in missing if ours in words}
        )

    guesses: dict[str, str] = {}
    for ours in missing:
        found = [h for h in plausible if fits(h) == {ours}]
        guesses[ours] = found[0] if len(found) == 1 else "YOUR HEADING"
    return guesses


# -- CSV --------------------------------------------------------------------------------------


def _decode(raw: bytes, rel: str, encoding: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"  # Excel's "Unicode text" (tab separated)
    elif raw.startswith(b"\xef\xbb\xbf"):
        raw, encoding = raw[3:], "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        hint = "save it again as 'CSV UTF-8' (Excel: File > Save As > CSV UTF-8)"
        if encoding == "utf-8":
            sample = raw[raw.rfind(b"\n", 0, exc.start) + 1 :].split(b"\n", 1)[0][:80].decode("cp1252", "replace")
            hint += f", or, if the line reads right as Windows-1252 ({sample.strip()!r}), add --encoding cp1252"
        raise sheet_error(
            "not-utf8",
            f"the file is not valid {encoding} (byte 0x{raw[exc.start]:02x})",
            SourceLocation(rel, line, col),
            hint,
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise sheet_error(
            "nul-byte",
            "the file contains a NUL byte: it is not a text file",
            SourceLocation(rel, line),
            "save the sheet as 'CSV UTF-8' or as .xlsx",
        )
    return text


def detect_delimiter(first_line: str) -> str:
    """The separator of a CSV: whichever of , ; and tab the header line has most of (outside quotes)."""
    bare = re.sub(r'"[^"]*"', "", first_line)
    return max(DELIMITERS, key=lambda d: (bare.count(d), -DELIMITERS.index(d)))


def separator(text: str) -> tuple[str, bool]:
    """The separator of the CSV ``text`` and whether its first line is Excel's hint line naming
    it (``sep=;``, in any case: Excel reads ``SEP=;`` too, and hides the line), which is not a row.
    A tab is a separator too: not stripped as a space."""
    lines = text.lstrip("\r\n").splitlines()
    first_line = lines[0] if lines else ""
    declared = re.fullmatch(r'sep=([^"])', first_line.strip(" \r\n"), re.IGNORECASE)  # (a quote separates nothing)
    return (declared.group(1), True) if declared else (detect_delimiter(first_line), False)


def is_separator_line(cells: list[str]) -> bool:
    """Whether a CSV row is Excel's ``sep=`` hint line as the csv module reads it."""
    return bool(cells) and cells[0].strip().lower().startswith("sep=")


def _csv_rows(text: str, rel: str) -> tuple[int, list, list[tuple[int, list]], bool]:
    """The header's line, the header, each row below it with its line, and whether every line is the
    row a spreadsheet shows it on: no ``sep=`` line (which Excel hides) and no quoted cell spanning
    lines anywhere in the file (then no row is named, only columns)."""
    if not text.strip():
        raise ValidationFailed([Diagnostic("error", "empty-sheet", "the file is empty", SourceLocation(rel))])
    delimiter, declared = separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list]] = []
    header = None
    header_line = start = 1
    spans = False
    try:
        for cells in reader:
            spans = spans or reader.line_num != start
            if declared and header is None and is_separator_line(cells):
                pass
            elif header is None and cells and any(c.strip() for c in cells):
                header, header_line = cells, start
            elif header is not None:
                rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise sheet_error(
            "bad-csv",
            f"the CSV cannot be read here: {exc}",
            SourceLocation(rel, start),
            "a value is too long or a double quote is not closed; check this row",
        ) from None
    return header_line, header or [], rows, not (declared or spans)


# -- xlsx -------------------------------------------------------------------------------------


def _xlsx_rows(
    raw: bytes, rel: str, wanted: str | None = None
) -> tuple[int, list, list[tuple[int, list]], str | None, dict[int, _Unsaved]]:
    import openpyxl  # imported here: only imports and exports need it

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise sheet_error(
                    "bad-xlsx", f"the workbook unpacks to more than {MAX_UNPACKED_BYTES} bytes", SourceLocation(rel)
                )
            if "mimetype" in archive.namelist() and b"opendocument" in archive.open("mimetype").read(200):
                raise sheet_error(
                    "bad-xlsx",
                    "this is an OpenDocument file (.ods, LibreOffice's own format), not an Excel workbook",
                    SourceLocation(rel),
                    "in LibreOffice, save it as 'Excel 2007-365 (.xlsx)' or as CSV (UTF-8)",
                )
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except ValidationFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a damaged or foreign zip
        raise sheet_error(
            "bad-xlsx",
            f"cannot read this Excel workbook ({type(exc).__name__}: {exc})",
            SourceLocation(rel),
            "open it in Excel or LibreOffice and save it again as .xlsx, or save it as 'CSV UTF-8'",
        ) from None
    try:
        sheet = _chosen_sheet(book.worksheets, rel, wanted, active=_active_title(book))
    except ValidationFailed:
        book.close()
        raise
    names = [other.title for other in book.worksheets]
    try:
        scan = _hidden_parts(raw, getattr(sheet, "_worksheet_path", None))
        hidden = scan.hidden()
        # Rows as long as their last cell, not as the size the file declares: a 4 KB workbook that
        # declares A1:XFD20000 made every row, the empty ones between too, 16,384 cells long
        # (2.7 GB and two minutes; a review).
        sheet.reset_dimensions()
        header = None
        header_line = 1
        rows: list[tuple[int, list]] = []
        read = 0
        for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
            read += len(values)
            if read > MAX_CELLS:
                raise sheet_error(
                    "too-many-cells",
                    f"the sheet has more than {MAX_CELLS:,} cells (counting the empty ones before each row's last)",
                    SourceLocation(rel, number),
                    "copy the award rows alone into a new sheet (or save them as CSV), and import that",
                )
            cells = [_xlsx_cell(v) for v in values]
            while cells and cells[-1] is None:  # (a formatted empty cell far right is no column: a review)
                cells.pop()
            if header is None:
                if any(not _blank(c) for c in cells):
                    header, header_line = cells, number
            else:
                rows.append((number, cells))
            if number >= _LAST_READ_ROW:
                break
    except ValidationFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - as above, while streaming the sheet
        raise sheet_error(
            "bad-xlsx",
            f"cannot read this Excel workbook ({type(exc).__name__}: {exc})",
            SourceLocation(rel),
            "open it in Excel or LibreOffice and save it again",
        ) from None
    finally:
        book.close()
    # Every row as wide as the widest read (as the size a sheet declares made them, where it is
    # the size of what the sheet holds, as Excel writes it): a "Total" below a header found under
    # a title is then that row, not cells past the header.
    width = max([len(header or [])] + [len(cells) for _, cells in rows])
    if width * (len(rows) + 1) > MAX_CELLS:
        raise sheet_error(
            "too-many-cells",
            f"the sheet has more than {MAX_CELLS:,} cells ({len(rows) + 1:,} rows of {width:,} columns, counting the empty ones)",
            SourceLocation(rel),
            "copy the award rows alone into a new sheet (or save them as CSV), and import that",
        )
    for _, cells in rows:
        cells.extend([None] * (width - len(cells)))
    if header is not None:
        header.extend([None] * (width - len(header)))
    while header and _blank(header[-1]):
        header.pop()  # read-only sheets often report empty columns to the right
    numbers = sorted(number for number, cells in rows if number in hidden and not all(_blank(c) for c in cells))
    if numbers:  # (a sheet filtered to "Passed" must not award those filtered out: UX review)
        raise sheet_error(
            "hidden-rows",
            f"row{'s' if len(numbers) > 1 else ''} {', '.join(map(str, numbers[:10]))}"
            f"{' and more' if len(numbers) > 10 else ''} of the sheet {sheet.title!r} "
            f"{'are' if len(numbers) > 1 else 'is'} hidden (filtered out?), and would be awarded too",
            SourceLocation(rel, numbers[0]),
            "badgekiln reads every row: delete the rows you do not want to award, or show them all "
            "(clear the filter) and check them, then import again",
        )
    widest = max((len(cells) for cells in [header or [], *(cells for _, cells in rows)]), default=0)
    _refuse_hidden_columns(scan.hidden_columns(widest), header_line, header or [], rows, sheet.title, rel)
    others = _sheet_names(book.worksheets[1:])
    note = (
        f"only the first sheet, {names[0]!r}, is read; the workbook also has {others}"
        if others and wanted is None
        else None
    )
    return header_line, header or [], rows, note, scan.unsaved


def _refuse_unsaved_formulas(
    unsaved: dict[int, _Unsaved], rel: str, *, from_row: int, to_row: int | None = None, columns: set[int] | None = None
) -> None:
    """Refuse a workbook with a formula whose result the file does not hold (it reads as an empty
    cell: "fill in its cell" of a cell that Excel shows filled, a header that lacks a column, an
    expiry date silently left out) in a row from ``from_row`` on (to ``to_row``) and, when
    ``columns`` is given, one of those columns (the columns read)."""
    cells: list[tuple[int, int]] = []
    for column, kept in unsaved.items():
        if columns is None or column in columns:
            cells.extend((row, column) for row in kept.within(from_row, to_row))
    if not cells:
        return
    cells.sort()
    named = ", ".join(_cell_name(row, column) for row, column in cells[:5]) + (" and more" if len(cells) > 5 else "")
    raise sheet_error(
        "unsaved-formula",
        f"cell{'s' if len(cells) > 1 else ''} {named} hold{'' if len(cells) > 1 else 's'} a formula whose result "
        "is not saved in the file (a program wrote the workbook without computing it), so "
        f"{'they read' if len(cells) > 1 else 'it reads'} as empty",
        CellLocation(rel, cells[0][0], cells[0][1], sheet_row=True),
        "open the workbook in Excel or LibreOffice and save it (that computes the formulas), "
        "or save it as 'CSV UTF-8', then import again",
    )


def _cell_name(row: int, column: int) -> str:
    """``B7``: a cell as a spreadsheet names it."""
    return f"{column_letters(column)}{row}"


def _refuse_hidden_columns(
    hidden: set[int], header_line: int, header: list, rows: list[tuple[int, list]], title: str, rel: str
) -> None:
    """Refuse a sheet with a hidden column that holds something: like a hidden row, it is what the
    person who checks the sheet before the import cannot see (a hidden 'email' column read in
    place of the visible address would send the badge elsewhere: a review)."""
    if not hidden:
        return
    sheet = [header, *(cells for _, cells in rows)]
    widest = max(len(cells) for cells in sheet)
    used = sorted(
        number
        for number in hidden
        if number <= widest and any(number <= len(cells) and not _blank(cells[number - 1]) for cells in sheet)
    )
    if used:
        letters = ", ".join(column_letters(number) for number in used[:10]) + (" and more" if len(used) > 10 else "")
        raise sheet_error(
            "hidden-columns",
            f"column{'s' if len(used) > 1 else ''} {letters} of the sheet {title!r} "
            f"{'are' if len(used) > 1 else 'is'} hidden (or too narrow to read) and would be imported unseen",
            CellLocation(rel, header_line, used[0], sheet_row=True),
            "unhide the column (select the columns around it, right-click, Unhide) and check it, or delete it, then import again",
        )


def _active_title(book) -> str | None:
    """The title of the sheet the workbook opens on (its tab chosen when it was saved), or None."""
    try:
        active = book.active
    except Exception:  # noqa: BLE001 - (a workbook view that names no sheet: openpyxl may raise)
        return None
    return getattr(active, "title", None)


def _chosen_sheet(sheets: list, rel: str, wanted: str | None, *, active: str | None = None):
    """The sheet to read: ``wanted``, or the first; a missing or hidden one is refused.

    Without ``wanted``, a workbook that opens on another visible sheet than the first (``active``)
    is refused: whoever checked it saw that sheet, and the first would be awarded (a review: a
    workbook saved on its "Passed" tab awarded the "All candidates" of its first).

    A hidden sheet (``hidden``, or ``veryHidden``, which Excel's Unhide does not even list) is
    refused even when --sheet names it: like a hidden row, it is what the person who checks the
    workbook before the import cannot see, and it is usually scratch or old data. Whoever means it
    can unhide it, look at it and import it then.
    """
    names = [sheet.title for sheet in sheets]
    if wanted is not None and wanted not in names:
        raise sheet_error(
            "no-such-sheet",
            f"the workbook has no sheet {wanted!r}",
            SourceLocation(rel),
            f"its sheets are: {_sheet_names(sheets)}",
        )
    sheet = sheets[names.index(wanted) if wanted is not None else 0]
    state = getattr(sheet, "sheet_state", "visible")
    if wanted is None and state == "visible" and active is not None and active != names[0] and active in names:
        raise sheet_error(
            "which-sheet",
            f"the workbook opens on its sheet {active!r}, but the first sheet, {names[0]!r}, is the one read",
            SourceLocation(rel),
            f"name the sheet with the awards: --sheet {active!r} (or --sheet {names[0]!r})",
        )
    if state == "visible":
        return sheet
    visible = [other for other in sheets if getattr(other, "sheet_state", "visible") == "visible"]
    how = "in Excel: right-click a sheet tab > Unhide"
    if state == "veryHidden":
        how = (
            "it is 'very hidden', so Excel's Unhide does not list it: Developer > Visual Basic, select it, set Visible"
        )
    which = "the sheet named by --sheet" if wanted is not None else "the first sheet"
    raise sheet_error(
        "hidden-sheet",
        f"{which}, {sheet.title!r}, is hidden, and would be awarded unseen; "
        + (f"the visible sheets are {_sheet_names(visible)}" if visible else "no sheet is visible"),
        SourceLocation(rel),
        ("name the sheet with the awards: --sheet 'NAME'; or, if " if visible else "if ")
        + f"{sheet.title!r} holds them, unhide it ({how}), check it and import again",
    )


def _sheet_names(sheets: list) -> str:
    """``'Awards', 'Old' (hidden)``: the titles, each hidden sheet said."""
    return ", ".join(
        repr(sheet.title) + ("" if getattr(sheet, "sheet_state", "visible") == "visible" else " (hidden)")
        for sheet in sheets
    )


_PIECE = 1 << 20  # bytes of the worksheet read at a time
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"  # (expat names: "NAMESPACE local")
_LAST_READ_ROW = MAX_ROWS + 1001  # _xlsx_rows stops after this row: a higher one is never imported
# A row under 3 points high (4 pixels at 100% zoom) shows no line of text: the smallest font people
# read on screen, 8 points, needs a row of about 11, and Excel's default row is 15. Between 3 points
# and that, clipped glyphs still show that the row holds something; under 3 it looks like a border.
# A row of data is made that thin only to put it out of sight: refusing it costs a real sheet nothing.
_LEGIBLE_POINTS = 3.0
# A column narrower than one character (Excel's width unit) shows no text: only a sliver of its
# first letter, which reads as a border. Excel's default is 8.43.
_LEGIBLE_WIDTH = 1.0
_LAST_READ_COLUMN = 16384  # Excel's last column (XFD): a <col> past it is cut there


def _hidden_rows(raw: bytes, worksheet: str | None) -> set[int]:
    """The numbers of the rows the sheet at ``worksheet`` hides (see :func:`_hidden_parts`)."""
    return _hidden_parts(raw, worksheet).hidden()


def _hidden_parts(raw: bytes, worksheet: str | None) -> _RowScan:
    """The scan of the sheet at ``worksheet``: the rows it hides (``hidden()``) and the columns
    (``hidden_columns(upto)``: ``hidden``, or narrower than ``_LEGIBLE_WIDTH``, their own width or
    the sheet's default). The numbers of the rows the sheet at ``worksheet`` (its part in the zip) hides: by hand, or
    filtered out (Excel marks both ``hidden``), or too thin to read (``ht`` under
    ``_LEGIBLE_POINTS``), or hidden by default (``zeroHeight``). Read by an XML parser, a piece at
    a time, so every spelling of the XML counts as Excel reads it (quotes, spaces, character
    references, namespace prefixes). Rows are counted and numbered exactly as openpyxl (which
    reads the cells) numbers them: see :class:`_RowScan`. A worksheet with a document type declaration
    (where entities are declared) is refused. Unknown (no such part): none."""
    from xml.parsers import expat

    scan = _RowScan()
    if not worksheet:
        return scan

    def refuse_dtd(*_: object) -> None:
        raise ValueError("the worksheet declares a document type (entities), which Excel never writes")

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.CharacterDataHandler = scan.text
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:  # (its size was checked before openpyxl read it)
        try:
            stream = archive.open(worksheet.lstrip("/"))
        except KeyError:
            return scan
        with stream:
            while piece := stream.read(_PIECE):
                parser.Parse(piece, False)
            parser.Parse(b"", True)
    return scan


class _RowScan:
    """Expat handlers that number rows as openpyxl's ``WorkSheetParser`` does, and sort them.

    openpyxl (``worksheet/_reader.py``) iterates the end of every element named ``row`` in the
    spreadsheetml namespace, wherever it is, and numbers it by its ``r`` (``int``, else an integral
    ``float``, else an error) or, without ``r``, as the one after the last. A row of another
    namespace is not counted, and a ``row`` nested in another one ends, so counts, first: this
    does the same, keeping the attributes of the rows not yet ended on a stack.
    """

    def __init__(self) -> None:
        self.number = 0
        self.open: list[tuple[str | None, ...]] = []
        self.always: set[int] = set()  # hidden whatever the sheet's default
        self.unshown: set[int] = set()  # not shown by a height of their own: hidden under zeroHeight
        self.zero_height = False
        self.columns: list[tuple[int, int, bool]] = []  # (first, last, shown) of each <col>
        self.narrow_default = False  # columns without a <col> of their own are too narrow to read
        # Formula cells whose result the file does not hold (openpyxl and other programs write
        # formulas without computing them; Excel computes them when it opens the file, so the
        # person who checks the sheet sees a value that reads as empty here), by column: a column
        # of thousands of them costs no more than one (see _Unsaved).
        self.unsaved: dict[int, _Unsaved] = {}
        self._column = 0  # the column of the last cell read in the open row (as openpyxl counts)
        self._path: list[str] = []  # the open elements: openpyxl reads a row's own cells and their own <f> and <v>
        self._cell: _Cell | None = None  # the open cell of a row
        self._pending: list[list[int]] = []  # per open row: the columns of its unsaved cells

    def start(self, name: str, attributes: dict[str, str]) -> None:
        parent = self._path[-1] if self._path else None
        self._path.append(name)
        cell = self._cell
        if name == f"{_MAIN} c" and parent == f"{_MAIN} row":
            self._column = _cell_column(attributes.get("r"), self._column)
            self._cell = _Cell(self._column, attributes.get("t", "n"), len(self._path))
        elif cell is not None and len(self._path) == cell.depth + 1 and name in (f"{_MAIN} f", f"{_MAIN} v"):
            if name == f"{_MAIN} f":
                cell.formula = True
            else:
                cell.values += 1  # (openpyxl reads the first <v> only)
        elif name == f"{_MAIN} row":
            self.open.append(tuple(attributes.get(key) for key in ("r", "hidden", "ht", "customHeight")))
            self._pending.append([])
            self._column = 0
        elif name == f"{_MAIN} sheetFormatPr":
            if _true(attributes.get("zeroHeight")):
                # ECMA-376 18.3.1.81: "rows are hidden by default", "only not hidden if specified".
                # (Read wherever it stands: a sheetFormatPr after the rows still applies to them.)
                self.zero_height = True
            default = _points(attributes.get("defaultColWidth"))
            self.narrow_default = default is not None and not default >= _LEGIBLE_WIDTH
        elif name == f"{_MAIN} col":  # ECMA-376 18.3.1.13: columns min..max, a width in characters
            try:
                first, last = int(attributes.get("min", "")), int(attributes.get("max", ""))
            except ValueError:
                return
            width = _points(attributes.get("width"))
            shown = not _true(attributes.get("hidden")) and (width is None or width >= _LEGIBLE_WIDTH)
            self.columns.append((max(first, 1), min(last, _LAST_READ_COLUMN), shown))

    def text(self, data: str) -> None:
        cell = self._cell
        if cell is not None and cell.values == 1 and len(self._path) == cell.depth + 1 and len(cell.value) < 16:
            if self._path[-1] == f"{_MAIN} v":
                cell.value += data

    def end(self, name: str) -> None:
        self._path.pop()
        cell = self._cell
        if name == f"{_MAIN} c" and cell is not None and len(self._path) == cell.depth - 1:
            self._cell = None
            if cell.unsaved() and self._pending:  # (placed in the row that holds it, as openpyxl's reader does)
                self._pending[-1].append(cell.column)
            return
        if name != f"{_MAIN} row":
            return
        given, hidden, ht, custom = self.open.pop()
        self.number = _row_number(given, self.number)
        pending = self._pending.pop() if self._pending else []
        if self.number <= _LAST_READ_ROW:
            for column in pending:
                self.unsaved.setdefault(column, _Unsaved()).add(self.number)
        if self.number > _LAST_READ_ROW:
            return  # (so the sets stay small however many rows the file holds)
        height = _points(ht)
        if _true(hidden) or (height is not None and not height >= _LEGIBLE_POINTS):  # (NaN: hidden)
            self.always.add(self.number)
        elif height is None or not _true(custom):
            # Under zeroHeight a row is shown when "specified": a height of its own, set by hand
            # (customHeight), as Excel writes the rows it shows. Anything less stays hidden.
            self.unshown.add(self.number)

    def hidden(self) -> set[int]:
        """The hidden rows, once the whole worksheet (and so its sheetFormatPr) has been read."""
        return self.always | self.unshown if self.zero_height else self.always

    def hidden_columns(self, upto: int) -> set[int]:
        """The hidden columns (numbered from 1) among the first ``upto``: each <col> is cut to
        them first (a review: 100,000 <col> of the whole width made a set of 16,384 numbers each)."""
        hidden: set[int] = set()
        given: set[int] = set()
        for first, last, shown in self.columns:
            span = range(first, min(last, upto) + 1)
            given.update(span)
            if not shown:
                hidden.update(span)
        if self.narrow_default:
            hidden.update(set(range(1, upto + 1)) - given)
        return hidden


_UNSAVED_KEPT = 16  # rows of formula cells without a saved value kept per column (an error names a few)


@dataclass
class _Unsaved:
    """The rows of one column's formula cells without a saved result: the first few, and the last."""

    rows: list[int] = field(default_factory=list)
    count: int = 0
    last: int = 0

    def add(self, row: int) -> None:
        if len(self.rows) < _UNSAVED_KEPT:
            self.rows.append(row)
        self.count += 1
        self.last = max(self.last, row)

    def within(self, first: int, last: int | None) -> list[int]:
        """Its rows from ``first`` to ``last`` (None: to the end), the last one of all standing
        for those not kept when no kept one is there."""
        found = [row for row in self.rows if first <= row and (last is None or row <= last)]
        if not found and self.count > len(self.rows) and self.last >= first and last is None:
            found = [self.last]
        return found


@dataclass
class _Cell:
    """A row's cell as the scan reads it (see :meth:`unsaved`)."""

    column: int
    kind: str  # its t: "n" (a number), "str" (a formula's text), "inlineStr", "s", "b", "e", ...
    depth: int  # where it is among the open elements
    formula: bool = False  # it holds an <f> of its own
    values: int = 0  # <v> of its own
    value: str = ""  # the first one's text (its start)

    def unsaved(self) -> bool:
        """A formula whose result the file does not hold: no value of its own, or an empty one,
        except a formula that gives an empty text (t="str", computed, with its <v>) and an inline
        string (openpyxl reads its <is> whatever the formula)."""
        if not self.formula or self.kind == "inlineStr" or self.value.strip():
            return False
        return not (self.kind == "str" and self.values)


def _cell_column(ref: str | None, previous: int) -> int:
    """The column of a cell as openpyxl's reader places it: by its ``r`` ("B7": 2, read by
    openpyxl's own function: "ı2" is I2), else the column after the last in the open row."""
    from openpyxl.utils.cell import coordinate_to_tuple

    if ref:
        try:
            return coordinate_to_tuple(ref)[1]
        except (ValueError, KeyError, IndexError):  # (openpyxl refuses the file: bad-xlsx)
            pass
    return previous + 1


def _row_number(given: str | None, previous: int) -> int:
    """A row's number as openpyxl reads ``r`` (``'+7'``, ``' 7.0 '`` and ``'7'`` are all 7)."""
    if given is None:
        return previous + 1
    try:
        return int(given)
    except ValueError:
        value = float(given)  # (a ValueError: openpyxl refuses the file too)
        if not value.is_integer():
            raise ValueError(f"{given} is not a valid row number") from None
        return int(value)


def _true(value: str | None) -> bool:
    """An XML Schema boolean attribute (``1``, ``true``, with spaces) as Excel reads it."""
    return value is not None and value.strip().lower() in ("1", "true")


def _points(height: str | None) -> float | None:
    """A row's ``ht`` in points; None when it has none (or none a reader could use)."""
    try:
        return float(height) if height is not None else None
    except ValueError:
        return None


_DAY_ZERO = date(1899, 12, 30)  # the day a date cell's 0 stands for (Excel's 1900 system as LibreOffice reads it)


# What Excel and LibreOffice show in a cell whose formula failed (an .xlsx error cell reads as
# this text; a CSV holds it as text): a name "#N/A" or an email "#REF!" would be signed into a
# badge (a review).
SPREADSHEET_ERRORS = frozenset(
    (
        "#N/A",
        "#REF!",
        "#VALUE!",
        "#DIV/0!",
        "#NAME?",
        "#NUM!",
        "#NULL!",
        "#SPILL!",
        "#CALC!",
        "#GETTING_DATA",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
        "ERR:502",
        "ERR:504",
        "ERR:508",
        "ERR:522",
        "ERR:523",
    )
)


def _xlsx_cell(value) -> str | date | None:
    """A cell as text, or a date for a real date cell (Excel stores dates as date-times)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, time):  # a date cell under 1 (openpyxl reads 0 as 00:00:00): day 0, 1899-12-30
        return _DAY_ZERO  # (which the award's checks call a cell left empty: a review saw '00:00:00')
    if isinstance(value, bool):  # (as Excel shows it: Python's str() gave "True")
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value is None or isinstance(value, str):
        return value
    return str(value)


def xlsx_bytes(columns: list[str], rows: list[list], *, title: str, when: date) -> bytes:
    """A one-sheet workbook of ``rows`` under a bold header; the same input gives the same bytes.

    Every cell is written as text, a number or a date, never as a formula (a value starting with
    ``=`` stays text). The document properties and zip entry times are set to ``when``.
    """
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = openpyxl.Workbook(write_only=True)
    moment = datetime(when.year, when.month, when.day)
    book.properties.created = book.properties.modified = moment
    book.properties.creator = "badgekiln"
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"  # the header stays in view
    for number, name in enumerate(columns, 1):
        widest = max([len(name)] + [len(str(row[number - 1])) for row in rows[:200] if row[number - 1] is not None])
        sheet.column_dimensions[get_column_letter(number)].width = min(max(widest, 10), 60) + 2
    bold = Font(bold=True)
    header = []
    for name in columns:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    if rows:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"  # sort and filter at once
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return _fixed_zip_times(buffer.getvalue(), moment)


def _fixed_zip_times(data: bytes, moment: datetime) -> bytes:
    """The same zip with every entry dated ``moment`` (openpyxl stamps them with the clock)."""
    out = io.BytesIO()
    stamp = (max(moment.year, 1980), moment.month, moment.day, 0, 0, 0)
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl sets 'modified' to the clock on save
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(<)",
                    rb"\g<1>" + moment.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>",
                    content,
                )
            target.writestr(entry, content)
    return out.getvalue()
