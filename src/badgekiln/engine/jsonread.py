"""Reading back JSON the build wrote, which anyone may have replaced since.

The cache's state, its shard files, the last build's summary and the stamps are read by orjson,
several times as fast as the json module, and by the json module when orjson refuses them (what
the build wrote with json: a name holding a lone surrogate, a NaN). orjson refuses nesting past
1,024 levels (``JSONDecodeError``, a ``ValueError``) since 3.9.15; older releases overflowed the C
stack (CVE-2024-27454), a segfault on every build, on a 600 KB file of 300,000 nested arrays.
``pyproject.toml`` asks for 3.11.5 or later, and :func:`_deep_refused` keeps an older one at hand
(pip may have been told to keep what is installed) from reading anything.
orjson reads a whole number past 64 bits as a float: none of these files holds one (the texts of
validated sources, which may, say which reader they need: see ``cache._record_text``).

Only the standard library and orjson are imported here: the scanning process forks before
anything slow loads (see :mod:`badgekiln.engine.outputscan`).
"""

from __future__ import annotations

import functools
import json
from typing import Any

import orjson


@functools.cache
def _deep_refused() -> bool:
    """Whether this orjson refuses deep nesting rather than overflowing the stack (3.10 or later:
    a little more than needed, see the module's text)."""
    version = tuple(int(part) for part in orjson.__version__.split(".")[:2] if part.isdigit())
    return version >= (3, 10)


def loads(data: bytes | str) -> Any:
    """The value of ``data``, JSON the build wrote (see the module's text).

    Raises:
        ValueError: not JSON (orjson's and json's errors are ValueErrors).
        RecursionError: nested too deep for the json module.
    """
    if _deep_refused():
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # (what json reads and orjson does not; deep nesting then raises RecursionError below)
    return json.loads(data)


JSON_MODULE = " "  # the first character of a text (exact_text) that only the json module reads back exactly


def exact_text(value: Any) -> str:
    """``value`` (plain JSON data) as JSON text that :func:`exact_value` reads back as the very value.

    orjson writes it, and reads it back in about half the time of the json module, when orjson
    gives back the very value: not for a float such as NaN (orjson writes null), a whole number
    past 64 bits (orjson refuses it; reading one, it would make a float) or a lone surrogate.
    Those the json module writes, after a space that tells the reader so (:data:`JSON_MODULE`)."""
    try:
        text = orjson.dumps(value)
        if orjson.loads(text) == value:  # (a NaN is not equal to itself: the json module keeps it)
            return text.decode()
    except orjson.JSONEncodeError:
        pass
    return JSON_MODULE + json.dumps(value, separators=(",", ":"))


def exact_value(text: str) -> Any:
    """The value of an :func:`exact_text`, by the reader it names.

    Raises:
        ValueError: not JSON. RecursionError: nested too deep for the json module.
    """
    return json.loads(text) if text.startswith(JSON_MODULE) else loads(text)
