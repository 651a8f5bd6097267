"""badgekiln.sources.safefiles: reading inside a folder, never through a link, never a special file."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from badgekiln.errors import SourceError
from badgekiln.sources import safefiles

pytestmark = pytest.mark.skipif(
    not hasattr(os, "mkfifo") or not hasattr(signal, "SIGALRM"), reason="needs named pipes and SIGALRM (POSIX)"
)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """root/a/b/f.txt, and outside/secret.txt with links to it from inside."""
    root = tmp_path / "root"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "f.txt").write_bytes(b"hello")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    (root / "a" / "file-link").symlink_to(outside / "secret.txt")
    (root / "a" / "dir-link").symlink_to(outside, target_is_directory=True)
    (root / "a" / "inside-link").symlink_to(root / "a" / "b" / "f.txt")
    os.mkfifo(root / "a" / "fifo")
    return root


@pytest.fixture(autouse=True)
def _no_hang():
    """A FIFO opened for reading would block for ever: fail after 10 s instead."""

    def hung(*_):
        raise TimeoutError("blocked: a FIFO was opened for reading")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_a_regular_file_is_read(tree):
    assert safefiles.read_bytes(tree, "a/b/f.txt") == b"hello"
    assert safefiles.sha256(tree, "a/b/f.txt") == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert safefiles.kind(tree, "a/b/f.txt") == "file" and safefiles.kind(tree, "a/b") == "dir"
    assert safefiles.kind(tree, "a/missing") is None and safefiles.lookup(tree, "a/missing/x") is None


@pytest.mark.parametrize(
    "rel, code, where",
    [
        ("a/file-link", "symlink", "a/file-link"),
        ("a/inside-link", "symlink", "a/inside-link"),  # even a link that stays inside: never followed
        ("a/dir-link/secret.txt", "symlink", "a/dir-link"),
        ("a/fifo", "not-a-file", "a/fifo"),
        ("a/b", "not-a-file", "a/b"),
        ("a/b/f.txt/x", "not-a-folder", "a/b/f.txt"),
        ("a/../a/b/f.txt", "source", "a/../a/b/f.txt"),
        ("/etc/passwd", "source", "/etc/passwd"),
        ("a//b/f.txt", "source", "a//b/f.txt"),
        ("a/nothing", "source", "a/nothing"),
    ],
)
def test_anything_else_is_a_located_source_error(tree, rel, code, where):
    with pytest.raises(SourceError) as caught:
        safefiles.read_bytes(tree, rel)
    assert caught.value.diagnostic.code == code
    assert caught.value.diagnostic.location.path == where
    assert b"secret" not in str(caught.value).encode()


def test_the_size_is_checked_before_reading(tree):
    with open(tree / "a" / "big", "wb") as handle:
        handle.truncate(2**40)  # sparse: a terabyte that reading would never finish
    with pytest.raises(SourceError) as caught:
        safefiles.read_bytes(tree, "a/big", limit=1000)
    assert caught.value.diagnostic.code == "file-too-large"
    with pytest.raises(SourceError):
        safefiles.sha256(tree, "a/big", limit=1000)


def test_listing_does_not_follow_links(tree):
    kinds = {e.name: e.kind for e in safefiles.list_dir(tree, "a")}
    assert kinds == {"b": "dir", "file-link": "link", "dir-link": "link", "inside-link": "link", "fifo": "special"}
    assert [name for name, _ in safefiles.walk(tree, "a")] == [
        "b",
        "b/f.txt",
        "dir-link",
        "fifo",
        "file-link",
        "inside-link",
    ]
    assert safefiles.list_dir(tree, "nothing") == []
    with pytest.raises(SourceError, match="symbolic link"):
        safefiles.list_dir(tree, "a/dir-link")


def test_replace_file_never_writes_through_a_link(tmp_path):
    outside = tmp_path / "outside"
    outside.write_bytes(b"theirs")
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "state.json").symlink_to(outside)  # (a link at the name: replaced, not followed)
    (folder / f".state.json.{os.getpid()}.tmp").mkdir()  # (a folder at a name a temporary file once had)
    safefiles.replace_file(folder, "state.json", b"ours")
    assert outside.read_bytes() == b"theirs"
    assert not (folder / "state.json").is_symlink() and (folder / "state.json").read_bytes() == b"ours"
    (folder / "state.json").unlink()
    (folder / "state.json").mkdir()  # (a folder at the name: removed, nothing in it followed)
    (folder / "state.json" / "link").symlink_to(outside)
    safefiles.replace_file(folder, "state.json", b"ours again")
    assert (folder / "state.json").read_bytes() == b"ours again" and outside.read_bytes() == b"theirs"
    assert sorted(p.name for p in folder.iterdir()) == [f".state.json.{os.getpid()}.tmp", "state.json"]


def test_replace_file_leaves_no_temporary_file_when_it_fails(tmp_path, monkeypatch):
    def refused(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safefiles.os, "replace", refused)
    with pytest.raises(OSError):
        safefiles.replace_file(tmp_path, "state.json", b"ours")
    assert list(tmp_path.iterdir()) == []


def test_a_file_replaced_while_it_is_read_is_read_again_not_refused(tmp_path, monkeypatch):
    """A second review (2026-12-07): two `award` runs at once, and one failed reading a recipient
    file the other had just replaced (a new file renamed over it), "changed while it was being
    opened". Another process replaces the file as fast as it can while this one reads it."""
    import subprocess
    import sys

    from badgekiln.errors import SourceError
    from badgekiln.sources import safefiles

    (tmp_path / "f.yaml").write_bytes(b"a: 0\n")
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, sys, time\n"
            "end = time.time() + 30\n"
            "n = 0\n"
            "while time.time() < end and not os.path.exists(sys.argv[1] + '/stop'):\n"
            "    n += 1\n"
            "    open(sys.argv[1] + '/t', 'wb').write(b'a: %d\\n' % n)\n"
            "    os.replace(sys.argv[1] + '/t', sys.argv[1] + '/f.yaml')\n",
            str(tmp_path),
        ]
    )
    try:

        def read() -> bool:
            try:
                assert safefiles.read_bytes(tmp_path, "f.yaml", limit=100).startswith(b"a: ")
            except SourceError as exc:
                assert "changed while it was being opened" in str(exc)
                return False
            return True

        import time

        monkeypatch.setattr(safefiles, "_LOOKS", 1)  # (one look: the race is real, and is met)
        deadline = time.monotonic() + 20
        while read() and time.monotonic() < deadline:
            pass
        assert time.monotonic() < deadline, "the file was never replaced between a look and an open"
        monkeypatch.setattr(safefiles, "_LOOKS", 10)
        assert all(read() for _ in range(3000))
    finally:
        (tmp_path / "stop").write_bytes(b"")
        writer.wait(timeout=60)
