"""The one place that turns published dicts into bytes.

No other module may call ``json.dumps`` on data that is published: the bytes that are signed
must be the bytes that are written (see python-tuf's single serializer).

The bytes are those of :func:`json.dumps` (sorted keys, UTF-8 text, no ASCII escapes). Python's
pretty-printing runs in Python (its C encoder has no ``indent``): about 0.15 ms for a credential,
made twice per award. orjson writes the same bytes for JSON made only of text, whole numbers,
booleans, None, lists and dicts with text keys, in a twentieth of the time, so such data goes
through orjson, and anything else (a float, whose exponent orjson writes its own way, a number
past 64 bits, a subclass, a lone surrogate) through :func:`json.dumps` as before.
``tests/test_jsonout.py`` checks the two agree on generated data.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_HOSTED = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE
_COMPACT = orjson.OPT_SORT_KEYS


def dumps_hosted(data: Any) -> bytes:
    """Pretty, sorted, UTF-8 JSON with a trailing newline: for files people and verifiers read."""
    if _plain(data):
        try:
            return orjson.dumps(data, option=_HOSTED)
        except orjson.JSONEncodeError:  # (a number past 64 bits, text that is not Unicode)
            pass
    return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def dumps_compact(data: Any) -> bytes:
    """Compact, sorted, UTF-8 JSON: for JWS payloads and baked chunks."""
    if _plain(data):
        try:
            return orjson.dumps(data, option=_COMPACT)
        except orjson.JSONEncodeError:
            pass
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def dumps_script(data: Any) -> str:
    """JSON safe to place inside an HTML ``<script type="application/ld+json">`` element."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_SCALARS = frozenset({str, int, bool, type(None)})


def _plain(value: Any) -> bool:
    """Whether ``value`` holds only what orjson writes exactly as :func:`json.dumps` does (a dict
    key that is not text makes orjson raise, and the caller fall back)."""
    kind = type(value)
    if kind is dict:
        value = value.values()
    elif kind is not list and kind is not tuple:
        return kind in _SCALARS
    for item in value:
        if type(item) is not str and not _plain(item):
            return False
    return True
