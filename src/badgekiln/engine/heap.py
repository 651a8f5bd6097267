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
import functools
from typing import Any


@functools.cache
def _malloc_trim() -> Any | None:
    """glibc's ``malloc_trim`` in this process (its own C library's symbol: ``dlopen(NULL)``, no
    search for a library file), or None where there is none."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):  # (no such symbol: musl, macOS; no CDLL(None): Windows)
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


class Budget:
    """Calls :func:`give_back` each time ``size`` more have been let go (:meth:`spent`: bytes, or
    the characters of texts, most of them ASCII): a
    call costs about as much as the heap is large (8-12 ms with 50,000 holes), so it follows
    what was freed, not the steps that freed it (a call every so many steps would cost in
    proportion to the square of a pass that opens a million awards' bundles)."""

    def __init__(self, size: int):
        self.size, self.total, self._left = size, 0, size

    def spent(self, size: int) -> None:
        self.total += size
        self._left -= size
        if self._left <= 0:
            self._left = self.size
            give_back()
