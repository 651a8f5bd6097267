"""Markdown from the sources to sanitized HTML: the one way source text becomes markup.

Markdown is rendered by markdown-it-py with raw HTML disabled, then cleaned by nh3 (the Ammonia
sanitizer) with an allow-list of tags and only ``http``, ``https`` and ``mailto`` links. The
result is wrapped in :class:`markupsafe.Markup` here and nowhere else.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li",
    "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td", "del",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table").enable(
    "strikethrough")


def _headings_down(html: str) -> str:
    """Pages have one h1 (the title): Markdown headings start at h2."""
    for level in range(5, 0, -1):
        html = html.replace(f"<h{level}>", f"<h{level + 1}>").replace(f"</h{level}>", f"</h{level + 1}>")
    return html


@lru_cache(maxsize=4096)
def render_markdown(text: str) -> Markup:
    """Markdown ``text`` to sanitized HTML (cached: the same criteria render once per build)."""
    html = _headings_down(_parser.render(text))
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )
    return Markup(clean)
