"""Reading ``site_src/notified.lock``: which awards' earners ``notify`` has emailed, and when.

The file is one ``award id<TAB>YYYY-MM-DD`` line per email sent, appended by ``notify`` and read
by ``notify`` and ``export``; a reminder before expiry is a line with a third column,
``award id<TAB>YYYY-MM-DD<TAB>reminder P60D 2027-01-15`` (the point, and the expiry date the
reminder was for; earlier versions wrote no expiry date), which readers of the two-column lines
skip, and
the news that an award is suspended or valid again is ``award id<TAB>YYYY-MM-DD<TAB>suspended
2026-05-01`` or ``…<TAB>reinstated 2026-05-01`` (the suspension's ``on``; readers of reminder
lines skip these).
It comes from the repository like every source, so it is read
without following a link, only when it is a regular file, and only up to a size cap.
"""

from __future__ import annotations

import os
import stat
from datetime import date
from pathlib import Path

from badgekiln.errors import OutputError
from badgekiln.sources.config import SourceTree

NOTIFIED = SourceTree.NOTIFIED
MAX_LOCK_BYTES = 256 * 1024 * 1024  # bytes: the notified lock of a very large site


def read_lock(path: Path) -> str:
    """The lock file's text ("" when there is none), never through a link or from a special file.

    Raises:
        OutputError: it is a link, not a regular file, or too large.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise OutputError(f"{NOTIFIED} cannot be read ({exc.strerror}); it must be a plain file, not a link") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_LOCK_BYTES:
            raise OutputError(f"{NOTIFIED} must be a plain file of at most {MAX_LOCK_BYTES} bytes")
        return handle.read().decode("utf-8", errors="replace")


def read_records(path: Path) -> dict[str, str]:
    """Award id → the second column of its first complete line (comments and broken lines skipped)."""
    records: dict[str, str] = {}
    for line in read_lock(path).split("\n")[:-1]:  # the part after the last newline is unfinished
        parts = line.split("\t")
        if line.startswith("#") or len(parts) != 2 or not parts[0] or not parts[1].strip():
            continue
        records.setdefault(parts[0], parts[1])
    return records


def read_dates(path: Path) -> dict[str, str]:
    """Award id → the day its earner was emailed (``YYYY-MM-DD``); values that are not such a date are left out."""
    dates = {}
    for award_id, value in read_records(path).items():
        value = value.strip()
        try:
            day = date.fromisoformat(value)
        except ValueError:
            continue
        if day.isoformat() == value:  # fromisoformat also takes 20261202 and 2026-W49-3
            dates[award_id] = value
    return dates


REMINDER = "reminder "  # the third column of a reminder's line: "reminder P60D 2027-01-15"


def read_reminders(path: Path) -> dict[tuple[str, str, str], str]:
    """(award id, reminder point as written, e.g. ``P60D``, the expiry date it was sent for) → the
    day it was sent, from the three-column lines (comments, broken lines and other values skipped).

    The expiry date is "" on the lines of earlier badgekiln versions (``reminder P60D``), which did
    not write it: :func:`badgekiln.commands.reminders.sent_on` decides which expiry those count for.
    """
    sent: dict[tuple[str, str, str], str] = {}
    for line in read_lock(path).split("\n")[:-1]:  # the part after the last newline is unfinished
        parts = [part.strip() for part in line.split("\t")]  # (a checkout may add CR, an editor spaces)
        if line.startswith("#") or len(parts) != 3 or not parts[0] or not parts[2].startswith(REMINDER):
            continue
        words, day = parts[2].split()[1:], parts[1]
        if not 1 <= len(words) <= 2 or not _is_day(day) or (len(words) == 2 and not _is_day(words[1])):
            continue
        sent.setdefault((parts[0], words[0], words[1] if len(words) == 2 else ""), day)
    return sent


SUSPENDED = "suspended"  # the third column of a suspension notice's line: "suspended 2026-05-01"
REINSTATED = "reinstated"  # and of the notice that it was lifted: "reinstated 2026-05-01"


def read_suspension_notices(path: Path) -> dict[tuple[str, str, str], str]:
    """(award id, ``suspended`` or ``reinstated``, the suspension's ``on`` day) → the last day such a
    message was sent, from the three-column lines (comments, broken lines and other values skipped),
    ordered by the last line of each: the file is appended to, so the later of ``suspended X`` and
    ``reinstated X`` says whether that suspension is still announced as open."""
    sent: dict[tuple[str, str, str], str] = {}
    for line in read_lock(path).split("\n")[:-1]:  # the part after the last newline is unfinished
        parts = [part.strip() for part in line.split("\t")]  # (a checkout may add CR, an editor spaces)
        if line.startswith("#") or len(parts) != 3 or not parts[0]:
            continue
        words = parts[2].split()
        if len(words) != 2 or words[0] not in (SUSPENDED, REINSTATED):
            continue
        if _is_day(parts[1]) and _is_day(words[1]):
            key = (parts[0], words[0], words[1])
            sent.pop(key, None)  # (the dict's order is that of each key's last line: a hold may come back)
            sent[key] = parts[1]
    return sent


def _is_day(value: str) -> bool:
    try:
        return date.fromisoformat(value).isoformat() == value  # fromisoformat also takes 20261202
    except ValueError:
        return False
