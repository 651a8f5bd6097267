"""Markdown from the sources to sanitized HTML: the one way source text becomes markup.

Markdown is rendered by markdown-it-py with raw HTML disabled, then cleaned by nh3 (the Ammonia
sanitizer) with an allow-list of tags and only ``http``, ``https`` and ``mailto`` links. The
result is wrapped in :class:`markupsafe.Markup` by :mod:`badgekiln.pages.markdown` and nowhere
else; validation reads the HTML too (:func:`sanitized_html`: an email address in an award's
narrative, spelled so that only its rendering shows it, is refused before it is published).

Rendering is bounded. markdown-it-py's time and memory grow with the text (measured on a 2-core
machine: about 1 second and 80 MB for 100,000 characters of the worst shapes found: tables
thousands of columns wide, hundreds of small tables, ``[`` runs; 10 seconds and 780 MB for a
1 MB wide table), so a text longer than :data:`MAX_MARKDOWN_CHARS` or with more than
:data:`MAX_TABLE_ROWS` lines holding ``|`` is refused with the line where the limit is crossed
(:func:`markdown_problem`, which the build runs on every page and criteria before rendering).
"""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

from badgekiln.errors import BadgekilnError

MAX_MARKDOWN_CHARS = 100_000  # characters in one Markdown text (a long page of prose is 30,000)
MAX_TABLE_ROWS = 2_000  # lines holding '|' (table rows) in one Markdown text
_CACHED_CHARS = 20_000  # longer texts (pages, each rendered once) are not kept in the cache

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "em",
    "strong",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "del",
    "s",  # (markdown-it's strikethrough: "~~Not~~ competent" read "Not competent" without it)
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
# Each block of text in its own direction (a Hebrew or Arabic paragraph, list item or quote right to
# left, its list marker on its right: README "Texts in any script"); set on every such block, whatever
# the text wrote (it cannot write attributes: raw HTML is off).
_OWN_DIRECTION = {tag: {"dir": "auto"} for tag in ("p", "li", "blockquote", "h2", "h3", "h4", "h5", "h6", "th", "td")}


class _Parser(MarkdownIt):
    def normalizeLinkText(self, link: str) -> str:  # noqa: N802 - markdown-it's name
        """An autolink's text as written. markdown-it decodes a punycode host for it, so that
        ``<mailto:xn--janeexamplecom-v711f9h>`` showed ``jane＠example．com`` (an address the
        source does not hold, past the check of what is published), a lone surrogate (a crash in
        nh3) or a bidi override (a review): the text is shown as the source spells it."""
        return link


_parser = (
    _Parser("commonmark", {"html": False, "linkify": False, "typographer": False})
    .enable("table")
    .enable("strikethrough")
)


_HEADING = re.compile(r"<(/?)h([1-6])>")  # (markdown-it's headings have no attributes; text has no "<")
HEADING_LEVELS = range(2, 7)  # where a text's headings may start: pages have one h1, their title


def _headings_down(html: str, top: int = 2) -> str:
    """The text's headings from level ``top`` on: its highest heading becomes ``<h{top}>`` and the
    others keep their distance from it (h6 at the most). A page written with ``## Questions``
    under its title (the page's h1) had an h3 straight after the h1, a level skipped (axe's
    heading-order, on the example site's About page): ``#`` and ``##`` alike start at ``top``."""
    levels = [int(m[2]) for m in _HEADING.finditer(html) if not m[1]]
    if not levels:
        return html
    shift = top - min(levels)
    return _HEADING.sub(lambda m: f"<{m[1]}h{min(int(m[2]) + shift, 6)}>", html)


class MarkdownLimitError(BadgekilnError):
    """A Markdown text is over one of the limits (:func:`markdown_problem` says which and where)."""


def markdown_problem(text: str) -> tuple[str, int] | None:
    """Why ``text`` is too large to render, and the line (from 1) where it crosses the limit; or None.

    Cheap (one pass over the text): it runs before markdown-it does.
    """
    if text.count("|") > MAX_TABLE_ROWS:
        rows = 0
        for number, line in enumerate(text.splitlines(), start=1):
            if "|" in line:
                rows += 1
                if rows > MAX_TABLE_ROWS:
                    return (f"the Markdown has more than {MAX_TABLE_ROWS:,} table rows (lines with '|')", number)
    if len(text) > MAX_MARKDOWN_CHARS:
        at_line = text.count("\n", 0, MAX_MARKDOWN_CHARS) + 1
        return (f"the Markdown is {len(text):,} characters long; the limit is {MAX_MARKDOWN_CHARS:,}", at_line)
    return None


def sanitized_html(text: str, top: int = 2) -> str:
    """Markdown ``text`` to sanitized HTML, its headings from level ``top`` on (2: under a page's
    title; 3: a text shown in a section of its own, an award's narrative).

    Raises:
        MarkdownLimitError: when the text is over a limit (see :func:`markdown_problem`).
        ValueError: ``top`` is not a heading level from 2 to 6.
    """
    if type(top) is not int or top not in HEADING_LEVELS:
        raise ValueError(f"a heading level from 2 to 6 is needed, not {top!r}")
    problem = markdown_problem(text)
    if problem is not None:
        message, line = problem
        raise MarkdownLimitError(f"{message} (line {line} of the text)")
    return _render_cached(text, top) if len(text) <= _CACHED_CHARS else _render(text, top)


@lru_cache(maxsize=4096)
def _render_cached(text: str, top: int) -> str:
    """:func:`_render`, cached: the same criteria render once per build."""
    return _render(text, top)


def _render(text: str, top: int) -> str:
    html = _headings_down(_parser.render(text), top)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
        set_tag_attribute_values=_OWN_DIRECTION,
    )
