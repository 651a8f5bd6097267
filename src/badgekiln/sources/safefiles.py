"""Reading the site's own files: inside their folder, never through a link, never a special file.

Sources come from pull requests, so a file the build reads may be a symbolic link to
``/etc/passwd`` or to a private key, a folder (``recipients/`` itself) may be a link out of the
repository, and a named pipe would block the build for ever. Every reader goes through here:

* a path is given as a *root* (the site folder, trusted: the user chose it) and a relative
  POSIX path below it, with no ``.``, ``..`` or empty segments;
* every segment is opened with ``O_NOFOLLOW`` relative to the folder before it (``dir_fd``), so
  a link anywhere on the way, a file or a folder, is refused and the path cannot leave the root;
* the last segment is looked at (``lstat``) before it is opened: anything but a regular file
  (FIFO, socket, device, folder) is refused without being opened; the opened file is checked
  again (``fstat``: still the same regular file) and its size is compared with a limit before a
  byte is read.

Refusals are :class:`~badgekiln.errors.SourceError` located at the link or file to fix, with a hint.
Only the standard library and ``errors`` are imported (``outputscan`` forks early).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from badgekiln.errors import SourceError, SourceLocation

MAX_FILE_BYTES = 2 * 1024 * 1024  # bytes: the default cap of one source file

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # (a FIFO that slipped through must not block the open)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_DIR_FD = os.open in os.supports_dir_fd and os.stat in os.supports_dir_fd and _NOFOLLOW != 0

LINK_HINT = "replace the link with the file or folder itself (badgekiln never follows links)"


@dataclass(frozen=True)
class Entry:
    """One entry of a folder, as it is (links are not followed).

    ``kind`` is ``"file"`` (regular file), ``"dir"``, ``"link"`` (a symbolic link, to anything)
    or ``"special"`` (FIFO, socket, device).
    """

    name: str
    kind: str
    size: int
    # its stat as the listing found it (list_dir), for a caller that would stat it again
    stat: os.stat_result | None = field(default=None, compare=False, repr=False)


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "link"
    return "special"


def _special_name(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _segments(rel: str | PurePosixPath, shown: str) -> list[str]:
    text = str(rel)
    parts = text.split("/")
    if not text or text.startswith("/") or "\\" in text or "\0" in text or any(p in ("", ".", "..") for p in parts):
        raise SourceError(
            f"{text!r} is not a plain path inside its folder",
            SourceLocation(shown),
            "write a relative path such as assets/logo.png, without '.', '..' or a leading '/'",
        )
    return parts


def _show(root_shown: str | None, parts: list[str], upto: int) -> str:
    rel = "/".join(parts[:upto])
    return f"{root_shown}/{rel}" if root_shown else rel


def _refuse_link(where: str) -> SourceError:
    return SourceError(
        f"'{where}' is a symbolic link; badgekiln reads the site's files only from inside their "
        "own folders, never through a link",
        SourceLocation(where),
        LINK_HINT,
        code="symlink",
    )


def _not_a_folder(where: str) -> SourceError:
    return SourceError(
        f"'{where}' is not a folder", SourceLocation(where), "it must be a folder of the site", code="not-a-folder"
    )


def _open_parent(root: Path, parts: list[str], root_shown: str | None) -> int:
    """An fd of the folder that holds the last segment, every segment opened without following links.

    Raises FileNotFoundError when a folder on the way is missing.
    """
    fd = os.open(root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    try:
        for number, part in enumerate(parts[:-1], start=1):
            found = os.stat(part, dir_fd=fd, follow_symlinks=False)
            if stat.S_ISLNK(found.st_mode):
                raise _refuse_link(_show(root_shown, parts, number))
            if not stat.S_ISDIR(found.st_mode):
                raise _not_a_folder(_show(root_shown, parts, number))
            child = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = child
        return fd
    except BaseException:
        os.close(fd)
        raise


def _lstat_portable(root: Path, parts: list[str], root_shown: str | None) -> os.stat_result:
    """Without ``dir_fd`` (Windows): ``lstat`` every segment in turn."""
    path = root
    for number, part in enumerate(parts, start=1):
        path = path / part
        found = os.lstat(path)
        if stat.S_ISLNK(found.st_mode) or (number < len(parts) and not stat.S_ISDIR(found.st_mode)):
            if stat.S_ISLNK(found.st_mode):
                raise _refuse_link(_show(root_shown, parts, number))
            raise _not_a_folder(_show(root_shown, parts, number))
    return found


def lookup(root: Path, rel: str | PurePosixPath, *, root_shown: str | None = None) -> Entry | None:
    """What ``rel`` below ``root`` is, without following links; None when it does not exist.

    Raises:
        SourceError: a folder on the way is a link or not a folder, or ``rel`` is not a plain path.
    """
    shown = _show(root_shown, [str(rel)], 1)
    parts = _segments(rel, shown)
    try:
        if not _DIR_FD:
            found = _lstat_portable(root, parts, root_shown)
        else:
            fd = _open_parent(root, parts, root_shown)
            try:
                found = os.stat(parts[-1], dir_fd=fd, follow_symlinks=False)
            finally:
                os.close(fd)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return Entry(parts[-1], _kind(found.st_mode), found.st_size)


def kind(root: Path, rel: str | PurePosixPath, *, root_shown: str | None = None) -> str | None:
    """``"file"``, ``"dir"``, ``"link"``, ``"special"`` or None (missing), never raising: a link
    on the way counts as ``"link"``."""
    try:
        entry = lookup(root, rel, root_shown=root_shown)
    except SourceError as exc:
        return "link" if exc.diagnostic.code == "symlink" else None
    except OSError:
        return None
    return entry.kind if entry else None


@contextlib.contextmanager
def open_file(
    root: Path, rel: str | PurePosixPath, *, limit: int = MAX_FILE_BYTES, root_shown: str | None = None
) -> Iterator[tuple[int, int]]:
    """Open a regular file below ``root`` safely; yields ``(fd, size)``.

    Raises:
        SourceError: a link on the way, not a regular file (not opened at all), over ``limit``
            bytes, missing, or unreadable.
    """
    shown = _show(root_shown, [str(rel)], 1)
    parts = _segments(rel, shown)
    if not _DIR_FD:
        try:
            before = _lstat_portable(root, parts, root_shown)
        except FileNotFoundError:
            raise SourceError(f"'{shown}' does not exist", SourceLocation(shown)) from None
        _check_regular(before, shown)
        with _opened(
            lambda: os.open(root.joinpath(*parts), os.O_RDONLY | _NONBLOCK | _BINARY), before, shown, limit
        ) as opened:
            yield opened
        return
    try:
        parent = _open_parent(root, parts, root_shown)
    except FileNotFoundError:
        raise SourceError(f"'{shown}' does not exist", SourceLocation(shown)) from None
    except OSError as exc:
        raise SourceError(f"cannot read '{shown}': {exc.strerror}", SourceLocation(shown)) from None
    try:
        with _open_in(parent, parts[-1], shown, limit) as opened:
            yield opened
    finally:
        os.close(parent)


_LOOKS = 10  # times a file replaced between the look and the open is looked at again


@contextlib.contextmanager
def _open_in(parent: int, name: str, shown: str, limit: int) -> Iterator[tuple[int, int]]:
    """Open the regular file ``name`` of the folder ``parent`` (an fd), looking before opening.

    A file replaced between the look and the open is looked at again, a few times: a command that
    writes a file whole (a new file renamed over it, as ``award`` does) replaces it so while
    another reads the site, which then failed with "changed while it was being opened" (a second
    review: two `award` runs at once). Each look checks again that it is a regular file."""
    flags = os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC | _BINARY
    for look in range(_LOOKS):
        try:
            before = os.stat(name, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            raise SourceError(f"'{shown}' does not exist", SourceLocation(shown)) from None
        except OSError as exc:
            raise SourceError(f"cannot read '{shown}': {exc.strerror}", SourceLocation(shown)) from None
        _check_regular(before, shown)
        try:
            fd, size = _open_checked(lambda: os.open(name, flags, dir_fd=parent), before, shown, limit)
        except _Swapped:
            if look == _LOOKS - 1:
                raise
            continue
        try:
            yield fd, size
        finally:
            os.close(fd)
        return


@contextlib.contextmanager
def _opened(opener, before: os.stat_result, shown: str, limit: int) -> Iterator[tuple[int, int]]:
    """Open with ``opener``, check it is still the regular file ``before`` was, and its size."""
    fd, size = _open_checked(opener, before, shown, limit)
    try:
        yield fd, size
    finally:
        os.close(fd)


def _open_checked(opener, before: os.stat_result, shown: str, limit: int) -> tuple[int, int]:
    """The descriptor ``opener`` gives and its size, checked as :func:`_opened` says (closed when
    a check fails)."""
    try:
        fd = opener()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _refuse_link(shown) from None
        raise SourceError(f"cannot read '{shown}': {exc.strerror}", SourceLocation(shown)) from None
    try:
        after = os.fstat(fd)
        if (after.st_ino, after.st_dev) != (before.st_ino, before.st_dev):  # swapped between the two looks
            raise _Swapped(
                f"'{shown}' changed while it was being opened", SourceLocation(shown), "run the command again"
            )
        _check_regular(after, shown)
        if after.st_size > limit:
            raise SourceError(
                f"'{shown}' is {after.st_size} bytes, more than the limit of {limit}",
                SourceLocation(shown),
                "make it smaller, or split it into smaller files",
                code="file-too-large",
            )
    except BaseException:
        os.close(fd)
        raise
    return fd, after.st_size


class _Swapped(SourceError):
    """The file opened is not the one looked at: it was replaced in between."""


def _check_regular(found: os.stat_result, shown: str) -> None:
    mode = found.st_mode
    if stat.S_ISLNK(mode):
        raise _refuse_link(shown)
    if stat.S_ISDIR(mode):
        raise SourceError(f"'{shown}' is a folder, not a file", SourceLocation(shown), code="not-a-file")
    if not stat.S_ISREG(mode):
        raise SourceError(
            f"'{shown}' is {_special_name(mode)}, not a regular file; it was not opened",
            SourceLocation(shown),
            "remove it: the site's folders hold only plain files",
            code="not-a-file",
        )


def _read_all(opened: tuple[int, int], limit: int, shown: str) -> bytes:
    fd, size = opened
    chunks, total = [], 0
    while total <= limit:
        try:
            chunk = os.read(fd, max(size - total, 0) + 65536)
        except OSError as exc:
            raise SourceError(f"cannot read '{shown}': {exc.strerror}", SourceLocation(shown)) from None
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > limit:  # it grew after it was measured
        raise SourceError(
            f"'{shown}' is more than the limit of {limit} bytes",
            SourceLocation(shown),
            "make it smaller",
            code="file-too-large",
        )
    return b"".join(chunks)


def replace_file(folder: Path, name: str, data: bytes) -> None:
    """Put ``data`` at ``folder/name`` in one rename: written first to a temporary file created
    anew under a name no one can have planted (``mkstemp``: never through a link, never onto a
    folder), then renamed over ``name`` (a link there is replaced, not followed; so is a folder,
    removed without following anything in it). The temporary file does not outlive a failure."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        target = folder / name
        if target.is_dir() and not target.is_symlink():  # (a rename cannot replace a folder)
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_bytes(
    root: Path, rel: str | PurePosixPath, *, limit: int = MAX_FILE_BYTES, root_shown: str | None = None
) -> bytes:
    """The bytes of the regular file ``rel`` below ``root`` (see :func:`open_file`)."""
    with open_file(root, rel, limit=limit, root_shown=root_shown) as opened:
        return _read_all(opened, limit, _show(root_shown, [str(rel)], 1))


def sha256(root: Path, rel: str | PurePosixPath, *, limit: int = MAX_FILE_BYTES, root_shown: str | None = None) -> str:
    """The SHA-256 (hex) of the regular file ``rel`` below ``root``, its size checked first."""
    return hashlib.sha256(read_bytes(root, rel, limit=limit, root_shown=root_shown)).hexdigest()


class Folder:
    """A folder below ``root``, opened once (safely), to read many of its files: a rebuild hashes
    every recipient file, and opening the whole path again for each would cost a third more."""

    def __init__(self, root: Path, rel: str, *, root_shown: str | None = None):
        self.root, self.rel, self.root_shown = root, rel, root_shown
        self._fd = (
            _open_parent(root, [*_segments(rel, _show(root_shown, [rel], 1)), "."], root_shown) if _DIR_FD else None
        )

    def read_bytes(self, name: str, *, limit: int = MAX_FILE_BYTES) -> bytes:
        """The bytes of the regular file ``name`` directly in this folder."""
        if self._fd is None or "/" in name or name in (".", "..", ""):
            return read_bytes(self.root, f"{self.rel}/{name}", limit=limit, root_shown=self.root_shown)
        shown = _show(self.root_shown, [f"{self.rel}/{name}"], 1)
        with _open_in(self._fd, name, shown, limit) as opened:
            return _read_all(opened, limit, shown)

    def stat(self, name: str) -> os.stat_result | None:
        """The stat of ``name`` directly in this folder, not followed if a link; None if it cannot be had."""
        try:
            if self._fd is None or "/" in name or name in (".", "..", ""):
                return os.lstat(self.root / self.rel / name)
            return os.stat(name, dir_fd=self._fd, follow_symlinks=False)
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Folder:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def list_dir(root: Path, rel: str | PurePosixPath, *, root_shown: str | None = None) -> list[Entry]:
    """The entries of the folder ``rel`` below ``root``, sorted by name, links not followed.

    A missing folder has no entries.

    Raises:
        SourceError: the folder, or one on the way, is a link, or it is not a folder.
    """
    shown = _show(root_shown, [str(rel)], 1)
    entry = lookup(root, rel, root_shown=root_shown)
    if entry is None:
        return []
    if entry.kind == "link":
        raise _refuse_link(shown)
    if entry.kind != "dir":
        raise _not_a_folder(shown)
    parts = _segments(rel, shown)
    found = []
    if _DIR_FD:
        parent = _open_parent(root, [*parts, "."], root_shown)  # opens every segment of rel
        try:
            with os.scandir(parent) as entries:
                for item in entries:
                    info = item.stat(follow_symlinks=False)
                    found.append(Entry(item.name, _kind(info.st_mode), info.st_size, info))
        finally:
            os.close(parent)
    else:
        with os.scandir(root.joinpath(*parts)) as entries:
            for item in entries:
                info = item.stat(follow_symlinks=False)
                found.append(Entry(item.name, _kind(info.st_mode), info.st_size, info))
    return sorted(found, key=lambda e: e.name)


def walk(root: Path, rel: str | PurePosixPath, *, root_shown: str | None = None) -> list[tuple[str, Entry]]:
    """Every entry below the folder ``rel`` (relative path from ``rel``, entry), sorted, folders
    entered but links never followed."""
    result: list[tuple[str, Entry]] = []
    todo = [""]
    while todo:
        prefix = todo.pop()
        for entry in list_dir(root, f"{rel}/{prefix}".rstrip("/"), root_shown=root_shown):
            result.append((prefix + entry.name, entry))
            if entry.kind == "dir":
                todo.append(prefix + entry.name + "/")
    return sorted(result, key=lambda item: item[0])
