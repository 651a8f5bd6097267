"""Giving the memory a build has freed back to the system (glibc's ``malloc_trim``).

A rebuild that opens many recipient files' bundles reads each shard file of bundle texts (about
5 KB a text), parses each text into its groups and lets the text go (``engine/bundletexts.py``).
The texts freed leave holes in the C heap that Python's later, smaller objects only partly fill,
and the C library keeps them: at 100,000 awards a new footer's rebuild held about 140 MiB of
freed memory in its build's process through the make, which each worker forked then shares.
:func:`give_back` hands the free pages back (``malloc_trim(0)``: the pages of free chunks inside
the heap as well as at its top). Nothing else changes: the same objects stay where they are.
Elsewhere than glibc (musl, macOS) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any


@functools.cache
def _malloc_trim() -> Any | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def give_back() -> bool:
    """Return the C heap's free pages to the system; False where that cannot be done here."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


class Every:
    """Calls :func:`give_back` once every ``count`` calls of :meth:`tick` (a pass that frees as
    it goes: each call costs about as much as the heap is large, so not on every step)."""

    def __init__(self, count: int):
        self.count, self._left = count, count

    def tick(self) -> None:
        self._left -= 1
        if self._left <= 0:
            self._left = self.count
            give_back()
