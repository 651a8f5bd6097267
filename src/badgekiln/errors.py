"""Errors that badgekiln reports to people.

Every exception raised on purpose by badgekiln derives from :class:`BadgekilnError`, and every
name ends in ``Error`` (``ValidationFailed`` is the one exception: it carries many diagnostics).
User mistakes are reported as :class:`Diagnostic` values that name the file, the line and the
column, say what is wrong and how to fix it. The command line prints ``diagnostics()`` and exits
non-zero; no traceback is shown for a user mistake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# What a terminal (or a CI log) would act on instead of showing: C0 controls but the line break,
# DEL, C1 controls, and the bidirectional marks, embeddings, overrides and isolates (they reorder
# what a reader sees). A file name from a pull request may hold any of them.
_UNPRINTABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str, *, newlines: bool = True) -> str:
    """``text`` fit to print to a terminal: each character of :data:`_UNPRINTABLE` (and the line
    break too, unless ``newlines``) as a visible escape (``\\x1b``, ``\\u202e``), so that no
    file name or value from the sources can colour, move, retitle or rewrite what is shown."""
    pattern = _UNPRINTABLE if newlines else _UNPRINTABLE_LINE
    return pattern.sub(_escape, text) if pattern.search(text) else text


_UNPRINTABLE_LINE = re.compile(_UNPRINTABLE.pattern[:-1] + "\n]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


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
