"""Markdown as markup for templates: the sanitized HTML of :mod:`badgekiln.formats.markdown`,
wrapped in :class:`markupsafe.Markup` here and nowhere else."""

from __future__ import annotations

from markupsafe import Markup

from badgekiln.formats.markdown import (
    MAX_MARKDOWN_CHARS,
    MAX_TABLE_ROWS,
    MarkdownLimitError,
    markdown_problem,
    sanitized_html,
)

__all__ = ["MAX_MARKDOWN_CHARS", "MAX_TABLE_ROWS", "MarkdownLimitError", "markdown_problem", "render_markdown"]


def render_markdown(text: str) -> Markup:
    """Markdown ``text`` to sanitized HTML, as markup.

    Raises:
        MarkdownLimitError: when the text is over a limit (see :func:`markdown_problem`).
    """
    return Markup(sanitized_html(text))
