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
        return _frame_file(name, source)
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
    # (a template's frames, by where its file is: a site's template may include any file, part.j2 or
    # style.css, which a test of the name's extension left out: a review)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if _own(f.filename, source) or _built_in(f.filename)]
    if not frames:
        return ""
    own = [_own(f.filename, source) for f in frames]
    said = f"{_frame_file(frames[-1].filename, source)}:{frames[-1].lineno}"
    if not own[-1]:
        # the innermost place where the site's own templates handed over to a built-in one (an
        # include, an import, a macro call) that is not already further up: a block of the site's
        # own base.html, which a built-in template extends, hands back to that template (a review:
        # with its own base.html, a site's check.html was said to be "reached from" base.html)
        entry = next(
            (
                i
                for i in reversed(range(1, len(frames)))
                if own[i - 1] and not own[i] and all(f.filename != frames[i].filename for f in frames[:i])
            ),
            None,
        )
        if entry is not None:
            said += f" (reached from {_frame_file(frames[entry - 1].filename, source)}:{frames[entry - 1].lineno})"
    return f"{printable(said, newlines=False)}: "  # (a file's name may hold a line break)


# badgekiln's own templates, as imported and as resolved (Jinja names a file by its loader's path,
# which may go through a link)
_BUILTIN = (Path(__file__).parent / "templates", Path(__file__).resolve().parent / "templates")


def _built_in(filename: str) -> bool:
    path = Path(filename)
    return any(path.is_relative_to(folder) for folder in _BUILTIN)


def _own(filename: str, source: Path) -> bool:
    """Whether a template file is one of the site's own (in its ``templates/``; not badgekiln's,
    even when a virtual environment inside the site's folder holds the package: a review)."""
    return Path(filename).is_relative_to(source / "templates") and not _built_in(filename)


def _frame_file(filename: str, source: Path) -> str:
    return (
        Path(filename).relative_to(source).as_posix() if _own(filename, source) else f"(built-in) {Path(filename).name}"
    )
