"""HTML character references undone as ``html.unescape`` undoes them, without its one crash.

``html.unescape`` reads a decimal reference with ``int()``, which refuses more than 4,300 digits
(CPython's guard against quadratic conversions): ``&#`` and 4,400 nines in a narrative, a page
or a badge's criteria ended every build and ``check`` in an internal error (a review,
2026-12-07). A decimal reference longer than any character's number (more than seven digits
once its leading zeros are dropped) is what ``html.unescape`` makes of any number past U+10FFFF,
U+FFFD; every other reference is handed to it alone, in its place.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

# html.unescape's own pattern of a character reference (Lib/html/__init__.py): each match is
# replaced by what html.unescape makes of the match alone, which is what it makes of it in its
# place (a match ends where its pattern stops, whatever follows).
CHARREF = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")
_LARGEST_DIGITS = len(str(0x10FFFF))  # (7: a longer number names no character)


@lru_cache(maxsize=4096)
def reference_text(reference: str) -> str:
    """What ``html.unescape`` makes of one character reference (a match of :data:`CHARREF`)."""
    if reference.startswith("&#") and reference[2:3].isdigit():
        digits = reference[2:].rstrip(";").lstrip("0")
        if len(digits) > _LARGEST_DIGITS:
            return "\ufffd"
        reference = f"&#{digits or '0'}{';' if reference.endswith(';') else ''}"  # (the zeros count too)
    return html.unescape(reference)


def unescape(text: str) -> str:
    """``html.unescape(text)``, but for the crash on a very long decimal reference."""
    if "&" not in text:
        return text
    return CHARREF.sub(_reference, text)


def _reference(match: re.Match[str]) -> str:
    return reference_text(match.group())
