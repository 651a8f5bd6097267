"""This process's children, as Linux's /proc lists them (for tests that a forked process ended)."""

from __future__ import annotations

import os
from pathlib import Path


def children() -> list[int]:
    """The processes whose parent is this one (zombies too: a child not reaped shows here)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == str(os.getpid()):
                found.append(int(entry))
    return found
