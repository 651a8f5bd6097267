"""Small, reviewable edits to recipient YAML files: pinning ids and recording revocations.

Edits are made on the text, line by line, so comments, order and formatting stay as the
provider wrote them; the result is parsed again and must say what was intended, or nothing is
written.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import yaml

from badgekiln.errors import OutputError, SourceError, SourceLocation
from badgekiln.sources import safefiles
from badgekiln.sources.loading import LocatedDict, LocatedList, parse_yaml

# Candidates for a plain (unquoted) scalar: ids, slugs and ISO dates. Anything else is quoted.
_PLAIN_CANDIDATE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")


def insert_first_key(text: str, location: SourceLocation, line_to_add: str) -> str:
    """Insert ``key: value`` as the first key of the mapping that starts at ``location``."""
    lines = text.splitlines(keepends=True)
    index, col = location.line - 1, location.col - 1
    line = lines[index]
    if line[col : col + 1] == "{":
        lines[index] = line[: col + 1] + line_to_add + ", " + line[col + 1 :]
    else:
        lines[index] = line[:col] + line_to_add + "\n" + " " * col + line[col:]
    return "".join(lines)


def read_text_keeping_newlines(path: Path) -> tuple[str, str]:
    """The text of ``path`` with ``\n`` line ends, and the line end the file uses (``\r\n`` or ``\n``)."""
    # (Only a file the build just validated is edited; still, never through a link or a FIFO.)
    raw = safefiles.read_bytes(path.parent, path.name, limit=safefiles.MAX_FILE_BYTES).decode("utf-8")
    newline = "\r\n" if "\r\n" in raw else "\n"
    return raw.replace("\r\n", "\n"), newline


def atomic_write_text(path: Path, text: str, *, newline: str = "\n") -> None:
    """Replace ``path`` with ``text`` in one rename (the file is never half-written).

    The file keeps its permissions (a new file gets the usual ones, 0666 less the umask), and
    ``newline`` is written for every line end, so a Windows-edited file stays CRLF.

    Raises:
        OSError: it could not be written (named by ``path``, not by the temporary file, which is
            removed); the file is as it was.
    """
    temporary = _staged(path, text, newline)
    try:
        os.replace(temporary, path)
    except OSError as exc:
        _discard([temporary])
        raise OSError(exc.errno, exc.strerror, str(path)) from None


def write_together(files: Sequence[tuple[Path, str, str]], *, where: Path) -> None:
    """Write each ``(path, text, newline)`` as :func:`atomic_write_text` does, all or none: every
    text goes to a temporary file beside its path first, and the files are renamed into place
    only when all are written (an import of many earners stopped by a full disk changed some of
    their files and named a temporary file: a review, 2026-12-07).

    Raises:
        OutputError: a text could not be written (nothing was changed), or, far less likely, a
            rename failed (the files renamed before it are named).
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for path, text, newline in files:
            staged.append((_staged(path, text, newline), path))
    except OSError as exc:
        _discard([temporary for temporary, _ in staged])
        name = _relative(Path(exc.filename or ""), where)
        raise OutputError(f"{name}: cannot write it ({exc.strerror or exc}); no file was changed") from None
    except BaseException:
        _discard([temporary for temporary, _ in staged])
        raise
    for done, (temporary, path) in enumerate(staged):
        try:
            os.replace(temporary, path)
        except OSError as exc:
            _discard([temporary for temporary, _ in staged[done:]])
            written = ", ".join(_relative(p, where) for _, p in staged[:done]) or "none"
            raise OutputError(
                f"{_relative(path, where)}: cannot write it ({exc.strerror or exc}); already written: {written}"
            ) from None


def _staged(path: Path, text: str, newline: str) -> Path:
    """A temporary file beside ``path`` holding ``text``, with ``path``'s permissions.

    Raises:
        OSError: naming ``path``; no temporary file is left.
    """
    umask = os.umask(0)
    os.umask(umask)
    try:
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~umask
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text.replace("\n", newline) if newline != "\n" else text)
        os.chmod(tmp, mode)
    except OSError as exc:
        _discard([Path(tmp)])
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    except BaseException:
        _discard([Path(tmp)])
        raise
    return Path(tmp)


def _discard(paths: Sequence[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _relative(path: Path, where: Path) -> str:
    try:
        return path.relative_to(where).as_posix()
    except ValueError:
        return str(path)


def pin_award_ids(path: Path, rel: str, pins: list[tuple[SourceLocation, str]]) -> None:
    """Write ``id: <id>`` into each award mapping of one recipient file.

    ``pins`` are (start of the award mapping, id). Later lines are edited first so that earlier
    locations stay true. The result must parse and carry exactly those ids.
    """
    text, newline = read_text_keeping_newlines(path)
    _check_still_unpinned(parse_yaml(text, rel), rel, pins)
    edited = text
    for location, award_id in sorted(pins, key=lambda p: (p[0].line, p[0].col), reverse=True):
        edited = insert_first_key(edited, location, f"id: {yaml_plain(award_id)}")
    data = parse_yaml(edited, rel)
    found = {a.get("id") for a in (data.get("awards") or []) if isinstance(a, dict)}
    missing = {award_id for _, award_id in pins} - found
    if missing:
        lines = ", ".join(f"id: {yaml_plain(award_id)}" for award_id in sorted(missing))
        raise SourceError(
            f"could not pin award ids {sorted(missing)} automatically",
            SourceLocation(rel),
            f"add them by hand as the first key of each award: {lines}",
        )
    atomic_write_text(path, edited, newline=newline)


class FileChanged(SourceError):
    """A recipient file is not as the build read it: an award to pin is no longer where it was."""


def _check_still_unpinned(data: object, rel: str, pins: list[tuple[SourceLocation, str]]) -> None:
    """Each pin's location starts an award mapping without an ``id``, as when the build read the
    file; else another command changed it meanwhile (a revocation above the award moves its
    lines: the id went into another mapping, a second review), and :class:`FileChanged` is raised.
    """
    awards = data.get("awards") if isinstance(data, dict) else None
    starts = {(at.line, at.col): item for at, item in zip(getattr(awards, "item_locations", []), awards or [])}
    for location, _ in pins:
        item = starts.get((location.line, location.col))
        if not isinstance(item, dict) or "id" in item:
            raise FileChanged(
                f"{rel} changed while the build ran (the award at line {location.line} moved)", SourceLocation(rel)
            )


def _award_end(lines: list[str], start: int, indent: int) -> int:
    """Index of the line after the last line of the block mapping starting at ``start``: its last
    content line, or a comment after it indented as its keys are (a comment on that award: an
    award added after the block went above it, and the comment read as the new award's)."""
    end = start + 1
    last_content = start + 1
    goes_on: tuple[int, bool] = (-1, False)  # (the next content line's index, and whether it is the award's)
    while end < len(lines):
        line = lines[end]
        stripped = line.strip()
        if stripped:
            inside = len(line) - len(line.lstrip(" ")) >= indent
            if not inside and stripped.startswith("#") and goes_on[0] < end:
                goes_on = _next_content(lines, end + 1, indent)
            # A comment less indented ends the award, unless the award's keys go on below it: one at
            # the margin between two of its keys is inside it; "# ---- archived ----" after it is not.
            if not inside and (not stripped.startswith("#") or not goes_on[1]):
                break
            if inside:
                last_content = end + 1
        end += 1
    return last_content


def _next_content(lines: list[str], start: int, indent: int) -> tuple[int, bool]:
    """The index of the first line from ``start`` that is neither blank nor a comment, and whether
    it is indented at least ``indent`` (a key of the same award); (len(lines), False) if none. Found
    once for a run of comments, not once for each (a file of margin comments took minutes)."""
    for at in range(start, len(lines)):
        stripped = lines[at].strip()
        if stripped and not stripped.startswith("#"):
            return at, len(lines[at]) - len(lines[at].lstrip(" ")) >= indent
    return len(lines), False


def add_revocation(
    path: Path, rel: str, location: SourceLocation, award_id: str, *, on: str, reason: str, pin_id: bool
) -> None:
    """Record the revocation of the award whose mapping starts at ``location``; minimal diff."""
    _add_dated_reason(path, rel, location, award_id, "revoked", on=on, reason=reason, pin_id=pin_id)


def add_suspension(
    path: Path, rel: str, location: SourceLocation, award_id: str, *, on: str, reason: str, pin_id: bool
) -> None:
    """Record the suspension of the award whose mapping starts at ``location``; minimal diff."""
    _add_dated_reason(path, rel, location, award_id, "suspended", on=on, reason=reason, pin_id=pin_id)


def _add_dated_reason(
    path: Path, rel: str, location: SourceLocation, award_id: str, key: str, *, on: str, reason: str, pin_id: bool
) -> None:
    """Add ``key: {on, reason}`` to the award mapping that starts at ``location``."""
    text, newline = read_text_keeping_newlines(path)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    start, col = location.line - 1, location.col - 1
    quoted = json.dumps(reason, ensure_ascii=False)
    if lines[start][col : col + 1] == "{":
        edited = insert_first_key("".join(lines), location, f"{key}: {{on: {on}, reason: {quoted}}}")
    else:
        end = _award_end(lines, start, col)
        pad = " " * col
        lines[end:end] = [f"{pad}{key}:\n", f"{pad}  on: {on}\n", f"{pad}  reason: {quoted}\n"]
        edited = "".join(lines)
    if pin_id:
        edited = insert_first_key(edited, location, f"id: {yaml_plain(award_id)}")
    data = parse_yaml(edited, rel)
    matches = [a for a in (data.get("awards") or []) if isinstance(a, dict) and a.get("id") == award_id]
    if len(matches) != 1 or (matches[0].get(key) or {}).get("reason") != reason:
        what = "revocation" if key == "revoked" else "suspension"
        raise SourceError(
            f"could not add the {what} of {award_id} automatically",
            SourceLocation(rel),
            f"add it by hand under the award:\n    {key}:\n      on: {on}\n      reason: {quoted}",
        )
    atomic_write_text(path, edited, newline=newline)


def remove_suspension(path: Path, rel: str, award_id: str) -> None:
    """Delete the ``suspended:`` entry (its line, or its block) of award ``award_id``; minimal diff.

    The file must read back as before but for that entry, or nothing is written.
    """
    text, newline = read_text_keeping_newlines(path)
    data = parse_yaml(text, rel)
    matches = [a for a in (data.get("awards") or []) if isinstance(a, LocatedDict) and a.get("id") == award_id]
    hint = f"delete the 'suspended:' entry of award {award_id} by hand"
    if len(matches) != 1 or "suspended" not in matches[0]:
        raise SourceError(f"award {award_id} has no written suspension to lift", SourceLocation(rel), hint)
    award = matches[0]
    key_at = award.key_locations["suspended"]
    lines = text.splitlines(keepends=True)
    start, col = key_at.line - 1, key_at.col - 1
    before = lines[start][:col]
    if before.strip() not in ("", "-") or any(
        k for k, at in award.key_locations.items() if k != "suspended" and at.line == key_at.line
    ):
        raise SourceError(
            f"the award {award_id} is written as a {{flow, mapping}}: its suspension cannot be lifted automatically",
            SourceLocation(rel, key_at.line, key_at.col),
            hint,
        )
    end = start + 1
    while end < len(lines):  # the block under 'suspended:' (more indented lines, blank lines, comments)
        stripped = lines[end].strip()
        if stripped and not stripped.startswith("#") and len(lines[end]) - len(lines[end].lstrip(" ")) <= col:
            break
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # keep the blank lines that separate it from what follows
    if before.strip() == "-":  # the first key of the list item: the next key takes its dash
        rest = lines[end] if end < len(lines) else ""
        if len(rest) - len(rest.lstrip(" ")) != col or not rest.strip() or rest.strip().startswith("#"):
            raise SourceError(f"could not lift the suspension of {award_id} automatically", SourceLocation(rel), hint)
        lines[end] = before + rest[col:]
    del lines[start:end]
    edited = "".join(lines)
    expected = {k: v for k, v in award.items() if k != "suspended"}
    check = parse_yaml(edited, rel)
    found = [a for a in (check.get("awards") or []) if isinstance(a, dict) and a.get("id") == award_id]
    others = lambda d: {k: v for k, v in d.items() if k != "awards"}  # noqa: E731
    same_awards = [a for a in data["awards"] if a is not award] == [
        a for a in check.get("awards") or [] if not (isinstance(a, dict) and a.get("id") == award_id)
    ]
    if len(found) != 1 or dict(found[0]) != expected or others(check) != others(data) or not same_awards:
        raise SourceError(f"could not lift the suspension of {award_id} automatically", SourceLocation(rel), hint)
    atomic_write_text(path, edited, newline=newline)


def reads_back_as_text(value: str) -> bool:
    """True when every YAML reader we know reads the plain scalar ``value`` as this same text.

    Asks the resolvers themselves instead of keeping a list of risky spellings: PyYAML's standard
    YAML 1.1 resolver (``0x1f``, ``0777``, ``1_000``, ``no``, ``~``, ``.inf``, dates), badgekiln's
    own loader, and, for YAML 1.2 readers (``1e5``, ``0o17``, ``0123`` are numbers there), Python's
    number syntax, which accepts the same spellings.
    """
    try:
        if yaml.safe_load(value) != value or parse_yaml(value, "<value>") != value:
            return False
    except (yaml.YAMLError, SourceError):
        return False
    for number in (float, lambda text: int(text, 0)):
        try:
            number(value)
        except ValueError:
            continue
        return False
    return True


def yaml_plain(value: str) -> str:
    """``value`` written plain (``id: 7q4kz2m9xw``) when YAML reads it back as the same text, else quoted.

    For ids and slugs, whose YAML must stay readable and diff-friendly: ``1234567890``,
    ``0012345670``, ``1e5`` or ``true`` come out in double quotes.
    """
    if _PLAIN_CANDIDATE.match(value) and reads_back_as_text(value):
        return value
    return yaml_scalar(value)


def yaml_scalar(value: str) -> str:
    """``value`` as a YAML scalar that reads back as the same text (JSON-style double quotes)."""
    return json.dumps(value, ensure_ascii=False)


# One field of an award to write: its key and its YAML value, or a list of items (the evidence).
Field = tuple[str, str | list[list[tuple[str, str]]]]


def award_lines(fields: Sequence[Field], pad: str) -> list[str]:
    """Lines of one award list item: ``- key: value`` then ``  key: value``, values already YAML;
    a value that is a list of items (each a list of ``(key, value)``) is written as a block list,
    an item's keys one under another (as a person would write the evidence)."""
    lines = []
    for number, (key, value) in enumerate(fields):
        lead = f"{pad}{'- ' if number == 0 else '  '}{key}:"
        if isinstance(value, str):
            lines.append(f"{lead} {value}\n")
            continue
        lines.append(lead + "\n")
        for item in value:
            lines += [f"{pad}    {'- ' if at == 0 else '  '}{k}: {v}\n" for at, (k, v) in enumerate(item)]
    return lines


def append_award(path: Path, rel: str, fields: Sequence[Field], award_id: str) -> None:
    """Append one award to the ``awards:`` list of a recipient file; minimal diff."""
    text, newline = read_text_keeping_newlines(path)
    atomic_write_text(path, appended(text, rel, fields, award_id), newline=newline)


_EMPTY_AWARDS = re.compile(r"awards:[ \t]*(?:\[[ \t]*\]|~|null|Null|NULL)?[ \t]*(#.*)?\n?\Z")


def appended(text: str, rel: str, fields: Sequence[Field], award_id: str) -> str:
    """``text`` (a recipient file's, ``\n`` line ends) with one award appended to its ``awards:``
    list, or a :class:`SourceError` saying why it cannot be done by a minimal edit.

    The result must read back as the file did, every key and every award as it was, plus the one
    award at the end of the list: an edit that would lose or change anything (a record written as
    one ``{flow, mapping}`` line, a ``|+`` text whose blank lines end the list) is refused, never
    written."""
    data = parse_yaml(text, rel)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    awards = data.get("awards")
    key_at = data.key_locations["awards"]
    key_line = key_at.line - 1
    by_hand = SourceError(
        "this file is not written one key per line (awards:, then '- badge: ...' under it), so the "
        "award cannot be added without rewriting it",
        SourceLocation(rel, key_line + 1),
        "write the file as badgekiln writes one (name:, email:, awards: on lines of their own), or add the award by hand",
    )
    if key_at.col != 1:  # (a {flow, mapping}, or a record indented as a whole)
        raise by_hand
    if isinstance(awards, LocatedList) and awards and lines[awards.location.line - 1][awards.location.col - 1] != "[":
        col = awards.item_locations[0].col - 1  # column of the first key, after "- "
        candidates = [_award_end(lines, awards.item_locations[-1].line - 1, col)]
        candidates.append(_block_end(lines, candidates[0]))  # (after blank lines that a '|+' text keeps)
        # (the new item's dash goes under the list's: '-   badge:' puts the first key further right)
        at = awards.item_locations[0].line - 1
        dash = lines[at].rfind("-", 0, col)
        if dash < 0 and at > 0 and lines[at - 1].strip() == "-":  # (a dash alone, the keys below it)
            dash = lines[at - 1].index("-")
        pad = " " * (dash if dash >= 0 else col - 2)
    elif not awards and (empty := _EMPTY_AWARDS.match(lines[key_line])):
        comment = empty.group(1)
        lines[key_line] = "awards:" + (f"  {comment}" if comment else "") + "\n"
        candidates, pad = [key_line + 1], "  "
    else:
        raise by_hand
    for end in candidates:
        edited = "".join(lines[:end] + award_lines(fields, pad) + lines[end:])
        try:
            after = parse_yaml(edited, rel)
        except SourceError:  # (an edit that does not read: never said as the file's own syntax error)
            continue
        if _adds_only(data, after, award_id):
            return edited
    raise by_hand


def _block_end(lines: list[str], start: int) -> int:
    """Index of the first line from ``start`` on that is not blank (or the end of the file)."""
    while start < len(lines) and not lines[start].strip():
        start += 1
    return start


def _adds_only(before: object, after: object, award_id: str) -> bool:
    """Whether ``after`` is the record ``before`` with one more award, of id ``award_id``, at the
    end of its list, and nothing else changed."""
    if not (isinstance(before, dict) and isinstance(after, dict)) or before.keys() != after.keys():
        return False
    old, new = before.get("awards") or [], after.get("awards")
    return (
        all(before[k] == after[k] for k in before if k != "awards")
        and isinstance(new, list)
        and len(new) == len(old) + 1
        and new[:-1] == list(old)
        and isinstance(new[-1], dict)
        and new[-1].get("id") == award_id
    )


def new_recipient_text(name: str, email: str, awards: Sequence[Sequence[Field]]) -> str:
    """The text of a new recipient file."""
    lines = [f"name: {yaml_scalar(name)}\n", f"email: {yaml_scalar(email)}\n", "awards:\n"]
    for fields in awards:
        lines.extend(award_lines(fields, "  "))
    return "".join(lines)
