"""Errors that badgekiln reports to people.

Every exception raised on purpose by badgekiln derives from :class:`BadgekilnError`, and every
name ends in ``Error`` (``ValidationFailed`` is the one exception: it carries many diagnostics).
User mistakes are reported as :class:`Diagnostic` values that name the file, the line and the
column, say what is wrong and how to fix it. The command line prints ``diagnostics()`` and exits
non-zero; no traceback is shown for a user mistake.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Characters never printed as they are (Unicode general categories): controls (Cc: C0, DEL, C1),
# format characters (Cf: bidi marks, embeddings, overrides and isolates, zero-width spaces and
# joiners, the byte-order mark, soft hyphen, tag characters), line and paragraph separators (Zl,
# Zp) and lone surrogates (Cs). A terminal or a CI log acts on the first (a new title, colours, a
# cleared screen), the others reorder, hide or break what a reader sees: "bob<U+200B>.yaml" reads
# as "bob.yaml". A file name from a pull request may hold any of them.
HIDDEN_CATEGORIES = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs"))
_ASCII_HIDDEN = re.compile("[\x00-\x1f\x7f]")


def printable(text: str, *, newlines: bool = True) -> str:
    """``text`` fit to print to a terminal: each character of :data:`HIDDEN_CATEGORIES` (the line
    break too, unless ``newlines``) as a visible escape (``\\x1b``, ``\\u202e``, ``\\U000e0041``),
    so that no file name or value from the sources can colour, move, retitle, reorder or hide
    what is shown, or fake another line of it. Backslashes are left as they are."""
    if text.isascii() and not _ASCII_HIDDEN.search(text):
        return text
    return "".join(
        _escape(char) if unicodedata.category(char) in HIDDEN_CATEGORIES and (char != "\n" or not newlines) else char
        for char in text
    )


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


@dataclass(frozen=True, order=True)
class SourceLocation:
    """A place in a source file. Lines and columns count from 1; 0 means unknown."""

    path: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        path = printable(self.path, newlines=False)  # (a file's name is as a pull request gave it)
        if self.line and self.col:
            return f"{path}:{self.line}:{self.col}"
        if self.line:
            return f"{path}:{self.line}"
        return path


def column_letters(number: int) -> str:
    """``D``: the letters a spreadsheet names its column ``number`` by (A is 1, AA is 27)."""
    letters = ""
    while number > 0:
        number, left = divmod(number - 1, 26)
        letters = chr(65 + left) + letters
    return letters


@dataclass(frozen=True, order=True)
class CellLocation(SourceLocation):
    """A cell of a spreadsheet: ``line`` its row, ``col`` its column's number (A is 1), printed
    ``awards.xlsx:7:4 (cell D7)``. ``sheet_row``: ``line`` is the sheet's own row number (an .xlsx);
    a CSV's is a line of its text, which a quoted cell spanning lines puts below the row a
    spreadsheet shows, so only the column is named (``awards.csv:7:4 (column D)``)."""

    sheet_row: bool = False

    def __str__(self) -> str:
        letters = column_letters(self.col)
        cell = f"cell {letters}{self.line}" if self.sheet_row else f"column {letters}"
        return f"{SourceLocation.__str__(self)} ({cell})"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in the sources: ``path:line:col: error[code]: message``."""

    level: str  # "error" or "warning"
    code: str  # short kebab-case identifier, e.g. "unknown-key"
    message: str
    location: SourceLocation | None = None
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.level == "error"

    def render(self) -> str:
        where = f"{self.location}: " if self.location else ""
        text = f"{where}{self.level}[{self.code}]: {printable(self.message, newlines=False)}"
        if self.hint:
            text += f"\n  hint: {printable(self.hint, newlines=False)}"
        return text

    def sort_key(self) -> tuple:
        loc = self.location or SourceLocation("")
        return (loc.path, loc.line, loc.col, self.code, self.message)


class BadgekilnError(Exception):
    """Base of every error badgekiln raises on purpose."""

    def diagnostics(self) -> str:
        """A human-readable account of the error, fit to print as it is."""
        return f"error: {printable(str(self))}"


class ConfigError(BadgekilnError):
    """A setting (site.yaml, command-line option, environment) is unusable."""


class SourceError(BadgekilnError):
    """A source file cannot be read or parsed at all."""

    def __init__(
        self, message: str, location: SourceLocation | None = None, hint: str | None = None, *, code: str = "source"
    ):
        super().__init__(message)
        self.diagnostic = Diagnostic("error", code, message, location, hint)

    def diagnostics(self) -> str:
        return self.diagnostic.render()


class ValidationFailed(BadgekilnError):
    """The sources have one or more errors; all of them are carried here."""

    def __init__(self, diagnostics: list[Diagnostic], *, written: tuple[str, ...] = ()):
        self.items = sorted(dict.fromkeys(diagnostics), key=Diagnostic.sort_key)  # (one link, read twice: once)
        self.written = written  # files a command had already changed before the sources failed
        errors = sum(1 for d in self.items if d.is_error)
        super().__init__(f"{errors} error(s) in the sources")

    def diagnostics(self) -> str:
        lines = [d.render() for d in self.items]
        errors = sum(1 for d in self.items if d.is_error)
        warnings = len(self.items) - errors
        if self.written:
            lines.append(
                f"{errors} error(s), {warnings} warning(s); already changed before the errors were found "
                f"(review them, or undo with 'git checkout -- FILE'): {', '.join(self.written)}"
            )
        else:
            lines.append(f"{errors} error(s), {warnings} warning(s); nothing was written.")
        return "\n".join(lines)


class KeyManagementError(BadgekilnError):
    """A signing key is missing, unreadable, in a forbidden place or retired."""


class SigningError(BadgekilnError):
    """A document could not be signed."""


class BakeError(BadgekilnError):
    """An image could not be baked or unbaked."""


class VerifyError(BadgekilnError):
    """A signature, proof or credential does not verify."""


class OutputError(BadgekilnError):
    """The site could not be written (or what would be written is unsafe)."""
