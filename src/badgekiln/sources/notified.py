"""``site_src/notified.lock``: which awards' earners ``notify`` has emailed, and when (read here,
and appended by :class:`NotifiedLock`).

The file is one ``award id<TAB>YYYY-MM-DD`` line per email sent, appended by ``notify`` and read
by ``notify`` and ``export``; a reminder before expiry is a line with a third column,
``award id<TAB>YYYY-MM-DD<TAB>reminder P60D 2027-01-15`` (the point, and the expiry date the
reminder was for; earlier versions wrote no expiry date), which readers of the two-column lines
skip, and the news that an award is suspended or valid again is ``award id<TAB>YYYY-MM-DD<TAB>
suspended 2026-05-01`` or ``…<TAB>reinstated 2026-05-01`` (the suspension's ``on``; readers of
reminder lines skip these), and the news that it was revoked ``…<TAB>revoked 2026-05-01`` (the
revocation's ``on``; readers of the other lines skip it). It comes from the repository like every source, so it is read without
following a link, only when it is a regular file, and only up to a size cap.
"""

from __future__ import annotations

import contextlib
import os
import stat
from datetime import date
from pathlib import Path

from badgekiln.errors import OutputError
from badgekiln.sources.config import SourceTree

NOTIFIED = SourceTree.NOTIFIED
MAX_LOCK_BYTES = 256 * 1024 * 1024  # bytes: the notified lock of a very large site
HEADER = (
    "# badgekiln: awards whose earners were emailed (award id, date[, reminder point or suspension news]). "
    "Commit it; do not edit by hand.\n"
)


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


def _lines(text: str) -> list[str]:
    """The lines of ``text``: each ended by a newline, and the last one without it when it is whole
    (:func:`_whole`). A line a crash cut short is left out; one whose newline an editor or a tool
    dropped counts (it was dropped, and its message sent again, until 2026-12-08)."""
    lines = text.split("\n")
    return lines if _whole(lines[-1]) else lines[:-1]


def _whole(line: str) -> bool:
    """Whether ``line`` is a whole record: an id and a day, or an id, a day and news of one of the
    known kinds, each ending in a day (so that no part of a longer line reads as a whole one, but
    one cut just before its third column: a write of one short line, which is not cut there)."""
    parts = [part.strip() for part in line.split("\t")]
    if line.startswith("#") or len(parts) not in (2, 3) or not parts[0] or not _is_day(parts[1]):
        return False
    if len(parts) == 2:
        return True
    words = parts[2].split()
    if words[:1] == [REMINDER.strip()]:
        return len(words) == 3 and _is_day(words[2])
    return len(words) == 2 and words[0] in (SUSPENDED, REINSTATED, REVOKED) and _is_day(words[1])


def read_records(path: Path) -> dict[str, str]:
    """Award id → the second column of its first complete line (comments and broken lines skipped)."""
    records: dict[str, str] = {}
    for line in _lines(read_lock(path)):
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
    for line in _lines(read_lock(path)):
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
    for line in _lines(read_lock(path)):
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


REVOKED = "revoked"  # the third column of a revocation notice's line: "revoked 2026-05-01"


def read_revocation_notices(path: Path) -> dict[str, str]:
    """Award id → the first day its earner was told it was revoked, from the three-column lines
    (comments, broken lines and other values skipped). A revocation is for good, so one line
    settles it, whatever revocation date it names (a date corrected later is not news)."""
    sent: dict[str, str] = {}
    for line in _lines(read_lock(path)):
        parts = [part.strip() for part in line.split("\t")]  # (a checkout may add CR, an editor spaces)
        if line.startswith("#") or len(parts) != 3 or not parts[0]:
            continue
        words = parts[2].split()
        if len(words) == 2 and words[0] == REVOKED and _is_day(parts[1]) and _is_day(words[1]):
            sent.setdefault(parts[0], parts[1])
    return sent


def _is_day(value: str) -> bool:
    try:
        return date.fromisoformat(value).isoformat() == value  # fromisoformat also takes 20261202
    except ValueError:
        return False


class NotifiedLock:
    """``site_src/notified.lock``, appended one complete line per announced award (and per reminder
    point or suspension news).

    Each record is one ``write()`` of whole lines followed by ``fsync``, before the next message is
    sent. A line that a power cut left unfinished is ignored by the readers above, and the file
    is repaired (rewritten to a temporary file, then renamed over it) when it is next opened.
    """

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> NotifiedLock:
        """Open for appending (nothing is sent when this fails).

        Raises:
            OutputError: the file cannot be read, repaired or opened for writing.
        """
        try:
            text = read_lock(self.path)
            if not text.startswith("#") or not text.endswith("\n"):
                kept = "".join(f"{line}\n" for line in _lines(text) if line)
                _replace_atomically(self.path, (kept if kept.startswith("#") else HEADER + kept))
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
        except OSError as exc:
            raise OutputError(f"{NOTIFIED}: cannot write it ({exc.strerror or exc}); nothing was sent") from None
        return self

    def record(self, award_ids: tuple[str, ...], day: date) -> None:
        """Record ``award_ids`` as announced on ``day``, durably.

        Raises:
            OutputError: the record could not be written (the batch stops, so as not to send twice).
        """
        self._write("".join(f"{award_id}\t{day.isoformat()}\n" for award_id in award_ids), award_ids)

    def record_news(self, award_id: str, records: tuple[str, ...], day: date) -> None:
        """Record a reminder or suspension news of ``award_id`` sent on ``day``, durably: one line per
        third column in ``records`` (``reminder P60D 2027-01-15``, ``suspended 2026-05-01``).

        Raises:
            OutputError: as :meth:`record`.
        """
        self._write("".join(f"{award_id}\t{day.isoformat()}\t{record}\n" for record in records), (award_id,))

    def _write(self, lines: str, award_ids: tuple[str, ...]) -> None:
        assert self._fd is not None
        try:
            os.write(self._fd, lines.encode("utf-8"))
            os.fsync(self._fd)
        except OSError as exc:
            raise OutputError(
                f"{NOTIFIED}: cannot record the message just sent for {', '.join(award_ids)} "
                f"({exc.strerror or exc}); notify stopped so that nothing is sent twice: add these "
                f"lines to the file by hand before running it again:\n{lines.rstrip()}"
            ) from None

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _replace_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)  # (a leftover, or a link planted there: never written through)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with open(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
