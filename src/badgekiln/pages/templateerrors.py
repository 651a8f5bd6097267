"""A template's failure as an error naming the template file and line (builds, ``check`` and
``notify``, which renders the email templates)."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jinja2

from badgekiln.errors import ConfigError, SourceLocation, printable
from badgekiln.pages.markdown import MarkdownLimitError


@contextmanager
def located_template_errors(source: Path) -> Iterator[None]:
    """Template errors as a ConfigError that names the template file and line."""
    try:
        yield
    except jinja2.TemplateSyntaxError as exc:
        where = SourceLocation(_shown(exc.name, source), exc.lineno or 0)
        raise ConfigError(f"{where}: template error: {_one_line(exc.message or '')}") from None
    except jinja2.TemplateNotFound as exc:  # (Jinja's message is the name alone: check says this)
        names = exc.templates if isinstance(exc, jinja2.TemplatesNotFound) else [exc.name]  # (a list's names)
        said = (
            f"there is no template {' nor '.join(repr(name) for name in names)} (in templates/ or built in)"
            if names and all(isinstance(name, str) and name for name in names)
            else f"this names no template ({exc.message or 'none given'})"  # ([] or none, known only as it renders)
        )
        raise ConfigError(f"{template_frame(exc, source)}template error: {_one_line(said)}") from None
    except jinja2.TemplateError as exc:
        raise ConfigError(f"{template_frame(exc, source)}template error: {_one_line(str(exc))}") from None
    except MarkdownLimitError as exc:  # a template gave the markdown filter a huge text
        raise ConfigError(f"{template_frame(exc, source)}template error: {_one_line(str(exc))}") from None


def _shown(name: str | None, source: Path) -> str:
    """``templates/award.html``: where a syntax error is. Jinja's lexer gives the file's path as
    the template's name ("Missing end of raw directive": a review saw
    ``templates//home/.../templates/award.html``)."""
    if not name:
        return "templates"
    path = Path(name)
    if path.is_absolute():
        return path.relative_to(source).as_posix() if path.is_relative_to(source) else f"(built-in) {path.name}"
    return f"templates/{name}"


def _one_line(message: str) -> str:
    """A template's message on one line: it may quote what the template made (``"x".encode("\\n::error::")``
    said "unknown encoding: " and then a line of the template's own, which a GitHub Actions log
    reads as a command)."""
    return printable(message, newlines=False)


def template_frame(exc: BaseException, source: Path) -> str:
    """``templates/award.html:12: `` for the innermost template line of a rendering error, or ``""``.
    When that line is in a built-in template that one of the site's own templates reached (an
    include, an import, a macro it called), the site's innermost line is said too:
    ``(built-in) award.html:4 (reached from templates/check.html:3): ``: the mistake is in the
    site's file, most often, and the built-in one alone does not say which."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith((".html", ".xml", ".txt"))]
    if not frames:
        return ""
    said = f"{_frame_file(frames[-1].filename, source)}:{frames[-1].lineno}"
    if not Path(frames[-1].filename).is_relative_to(source):
        own = [f for f in frames if Path(f.filename).is_relative_to(source)]
        if own:
            said += f" (reached from {_frame_file(own[-1].filename, source)}:{own[-1].lineno})"
    return f"{printable(said, newlines=False)}: "  # (a file's name may hold a line break)


def _frame_file(filename: str, source: Path) -> str:
    path = Path(filename)
    return path.relative_to(source).as_posix() if path.is_relative_to(source) else f"(built-in) {path.name}"
