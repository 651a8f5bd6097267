"""Markdown as markup for templates: the sanitized HTML of :mod:`badgekiln.formats.markdown`,
wrapped in :class:`markupsafe.Markup` here and nowhere else."""

from __future__ import annotations

from jinja2 import Undefined
from markupsafe import Markup

from badgekiln.formats.markdown import (
    MAX_MARKDOWN_CHARS,
    MAX_TABLE_ROWS,
    MarkdownLimitError,
    markdown_problem,
    sanitized_html,
)

__all__ = ["MAX_MARKDOWN_CHARS", "MAX_TABLE_ROWS", "MarkdownLimitError", "markdown_problem", "render_markdown"]


def render_markdown(text: str, top: int = 2) -> Markup:
    """Markdown ``text`` to sanitized HTML, as markup, its headings from level ``top`` on
    (``|markdown(3)`` in a template: a text in a section of its own).

    Raises:
        MarkdownLimitError: when the text is over a limit (see :func:`markdown_problem`).
        ValueError: ``top`` is not a heading level from 2 to 6.
    """
    if isinstance(top, Undefined):  # (a misspelt variable: Jinja's "'x' is undefined", not "not Undefined")
        str(top)  # (StrictUndefined, the sandbox's, raises its own error)
    return Markup(sanitized_html(text, top))
