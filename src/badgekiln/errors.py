"""Errors that badgekiln reports to people.

Every exception raised on purpose by badgekiln derives from :class:`BadgekilnError`, and every
name ends in ``Error`` (``ValidationFailed`` is the one exception: it carries many diagnostics).
User mistakes are reported as :class:`Diagnostic` values that name the file, the line and the
column, say what is wrong and how to fix it. The command line prints ``diagnostics()`` and exits
non-zero; no traceback is shown for a user mistake.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class SourceLocation:
    """A place in a source file. Lines and columns count from 1; 0 means unknown."""

    path: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line and self.col:
            return f"{self.path}:{self.line}:{self.col}"
        if self.line:
            return f"{self.path}:{self.line}"
        return self.path


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
        text = f"{where}{self.level}[{self.code}]: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def sort_key(self) -> tuple:
        loc = self.location or SourceLocation("")
        return (loc.path, loc.line, loc.col, self.code, self.message)


class BadgekilnError(Exception):
    """Base of every error badgekiln raises on purpose."""

    def diagnostics(self) -> str:
        """A human-readable account of the error, fit to print as it is."""
        return f"error: {self}"


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
