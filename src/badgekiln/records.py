"""Small, reviewable edits to recipient YAML files: pinning ids and recording revocations.

Edits are made on the text, line by line, so comments, order and formatting stay as the
provider wrote them; the result is parsed again and must say what was intended, or nothing is
written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import SourceError, SourceLocation
from .loading import parse_yaml


def insert_first_key(text: str, location: SourceLocation, line_to_add: str) -> str:
    """Insert ``key: value`` as the first key of the mapping that starts at ``location``."""
    lines = text.splitlines(keepends=True)
    index, col = location.line - 1, location.col - 1
    line = lines[index]
    if line[col:col + 1] == "{":
        lines[index] = line[: col + 1] + line_to_add + ", " + line[col + 1:]
    else:
        lines[index] = line[:col] + line_to_add + "\n" + " " * col + line[col:]
    return "".join(lines)


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one rename (the file is never half-written)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def pin_award_ids(path: Path, rel: str, pins: list[tuple[SourceLocation, str]]) -> None:
    """Write ``id: <id>`` into each award mapping of one recipient file.

    ``pins`` are (start of the award mapping, id). Later lines are edited first so that earlier
    locations stay true. The result must parse and carry exactly those ids.
    """
    text = path.read_text(encoding="utf-8")
    edited = text
    for location, award_id in sorted(pins, key=lambda p: (p[0].line, p[0].col), reverse=True):
        edited = insert_first_key(edited, location, f"id: {award_id}")
    data = parse_yaml(edited, rel)
    found = {a.get("id") for a in (data.get("awards") or []) if isinstance(a, dict)}
    missing = {award_id for _, award_id in pins} - found
    if missing:
        raise SourceError(f"could not pin award ids {sorted(missing)} automatically", SourceLocation(rel),
                          "add them by hand as 'id: …' under each award")
    atomic_write_text(path, edited)
