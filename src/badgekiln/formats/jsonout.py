"""The one place that turns published dicts into bytes.

No other module may call ``json.dumps`` on data that is published: the bytes that are signed
must be the bytes that are written (see python-tuf's single serializer).
"""

from __future__ import annotations

import json
from typing import Any


def dumps_hosted(data: Any) -> bytes:
    """Pretty, sorted, UTF-8 JSON with a trailing newline: for files people and verifiers read."""
    return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def dumps_compact(data: Any) -> bytes:
    """Compact, sorted, UTF-8 JSON: for JWS payloads and baked chunks."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def dumps_script(data: Any) -> str:
    """JSON safe to place inside an HTML ``<script type="application/ld+json">`` element."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
