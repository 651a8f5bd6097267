"""What ``output/`` holds of a plan, found without listing it (engine/outputcompare.py): held to
the answer of comparing the full listing (outputscan.list_files), as the cache did before, on
random trees with links, FIFOs, folders in the way and stale files."""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import sys
import threading
import time
from pathlib import Path

from conftest import build
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from badgekiln.engine import outputcompare, outputscan
from badgekiln.engine.site import MARKER, SitePlan, pack_files

NAMES = ("a", "b", "index.html")
PATHS = st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map("/".join)
# what output/ holds at a path: the planned file itself (a link to its blob), a file of other
# bytes, a folder, a symbolic link, a FIFO
KINDS = ("same", "other", "folder", "link", "fifo")


def _plannable(paths: list[str]) -> list[str]:
    """``paths`` without duplicates and without a path that is a folder of another (no plan has both)."""
    unique = sorted(set(paths))
    return [p for p in unique if not any(q.startswith(p + "/") for q in unique)]


def _make(output: Path, rel: str, kind: str, blob: Path) -> None:
    """Put ``kind`` at ``rel`` below ``output`` (nothing, if something is in the way)."""
    target = output / rel
    if os.path.lexists(target):
        return  # (writing into a FIFO put there before would wait forever)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if kind == "same":
            os.link(blob, target)
        elif kind == "other":
            target.write_bytes(b"other bytes")
        elif kind == "folder":
            target.mkdir()
        elif kind == "link":
            target.symlink_to(output / "a" if rel != "a" else blob)
        else:
            os.mkfifo(target)
    except OSError:
        pass


def _by_listing(plan: SitePlan, output: Path, entries: list[tuple[str, int, int]]) -> dict:
    """The answer of the listing, as BuildCache._write compared it before outputcompare.py."""
    present = outputscan.list_files(output)
    paths = {rel for rel, _, _ in entries}
    unchanged = {rel for rel, ino, size in entries if present.get(rel) == (ino, size)}
    every_folder = set()
    for rel in present:
        parts = rel.split("/")[:-1]
        every_folder |= {"/".join(parts[: i + 1]) for i in range(len(parts))}
    return {
        "unchanged": unchanged,
        "changed": paths - unchanged,
        "stale": set(present) - paths - {MARKER},
        "in_place": MARKER in present and None not in present.values() and every_folder.isdisjoint(paths),
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    planned=st.lists(st.tuples(PATHS, st.booleans()), max_size=12),
    found=st.lists(st.tuples(PATHS, st.sampled_from(KINDS)), max_size=12),
    marker=st.sampled_from(("file", "none", "link")),
    limit=st.integers(0, 12),
)
# (a planned file missing, a stale one beside it: the folder's count is right, its names are not)
@example(planned=[("b", True)], found=[("a", "other")], marker="file", limit=5)
def test_the_comparison_finds_what_the_listing_found(tmp_path, planned, found, marker, limit):
    work = tmp_path / "work"
    shutil.rmtree(work, ignore_errors=True)
    output, blob = work / "output", work / "blob"
    output.mkdir(parents=True)
    blob.write_bytes(b"the planned bytes")
    stored = dict(planned)
    paths = _plannable([rel for rel, _ in planned])
    for rel, kind in found:
        _make(output, rel, "other" if kind == "same" and rel not in paths else kind, blob)
    if marker == "file":
        (output / MARKER).write_bytes(b"marker")
    elif marker == "link":
        (output / MARKER).symlink_to(blob)
    st_blob = blob.stat()
    plan = SitePlan()
    entries = []
    kept = []
    for rel in paths:
        if stored[rel]:  # a file kept in the blob store: its inode and size are the blob's
            kept.append((rel, "ab" * 32, st_blob.st_size, st_blob.st_ino))
            entries.append((rel, st_blob.st_ino, st_blob.st_size))
        else:  # made here: never in output/ yet
            plan.add(rel, b"new bytes")
            entries.append((rel, -1, -1))
    if kept:
        plan.add_stored(str(work / "blobs") + os.sep, pack_files(kept))

    got = outputcompare.compare(plan, output, limit)
    want = _by_listing(plan, output, entries)

    assert got.total == len(paths)
    in_place = got.marker and not got.fresh
    if in_place:
        assert want["in_place"]  # never in place where the listing would restage
    elif want["in_place"]:  # the one difference meant: an (empty) folder where a file is planned
        assert any((output / rel).is_dir() and not (output / rel).is_symlink() for rel in paths)
    if want["in_place"] and in_place:
        assert got.unchanged == len(want["unchanged"])
        assert set(got.stale) == want["stale"] and len(got.stale) == len(set(got.stale))
        if len(want["changed"]) <= limit:
            assert got.changed is not None and set(got.changed) == want["changed"]
        else:
            assert got.changed is None
    assert got.marker == (marker == "file")


def test_a_site_without_output_has_every_file_changed_and_nothing_stale(tmp_path):
    plan = SitePlan()
    plan.add("awards/a/index.html", b"x")
    plan.add("index.html", b"y")
    got = outputcompare.compare(plan, tmp_path / "missing", 10)
    assert (got.total, got.unchanged, got.stale, got.marker) == (2, 0, [], False)
    assert sorted(got.changed or ()) == ["awards/a/index.html", "index.html"]


def test_a_file_system_blind_to_case_is_told_by_the_marker(tmp_path):
    output = tmp_path / "output"
    output.mkdir()
    (output / MARKER).write_bytes(b"marker")
    assert not outputcompare.case_blind(output)
    # (this file system sees case: the marker's name in capitals is another file, as a stray
    # file of that name would be; a case-blind one finds the marker itself under it)
    (output / MARKER.upper()).write_bytes(b"marker")
    assert outputcompare.case_blind(output)
    assert not outputcompare.case_blind(tmp_path / "missing")


def _never_ending_scan(state_path: Path, output: Path) -> outputscan.Scan:
    time.sleep(60)
    raise AssertionError("the scan was not stopped")


def test_a_discarded_scan_is_stopped_not_waited_for(tmp_path, monkeypatch):
    """Scanner.discard ends the scanning process (SIGKILL) instead of waiting for its answer."""
    # (a handler that ignores SIGTERM, as a process may hold one when the scan forks: a SIGTERM
    # sent before the scan's initializer ran reached it, and the scan went on; CI found that.
    # Here the initializer never restores the default: the scan must be stopped all the same)
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    monkeypatch.setattr(outputscan, "_ignore_interrupts", lambda: None)
    try:
        _discard_a_never_ending_scan(tmp_path, monkeypatch)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _discard_a_never_ending_scan(tmp_path, monkeypatch):
    monkeypatch.setattr(outputscan, "scan", _never_ending_scan)
    scanner = outputscan.Scanner(tmp_path / "state.json", tmp_path / "output")
    deadline = time.monotonic() + 30
    while not scanner._pool._processes and time.monotonic() < deadline:  # (started when submitted)
        time.sleep(0.05)
    processes = list(scanner._pool._processes.values())
    assert processes and all(p.is_alive() for p in processes)
    begun = time.monotonic()
    scanner.discard()
    assert time.monotonic() - begun < 30  # (not the 60 s the scan would take)
    assert not any(p.is_alive() for p in processes)
    assert scanner.result() == outputscan.Scan(None, False, None, None)
    scanner.close()  # (nothing left to wait for)


def test_after_an_upgrade_a_stale_file_goes_and_a_link_restages_the_site(keyed_site, run):
    """End to end: a state of another version (nothing reused, so output/ is compared at the
    write, engine/outputcompare.py): a stale file is removed in place; a link anywhere in output/
    makes the site staged afresh, nothing written through it."""
    out = keyed_site / "output"
    state_path = keyed_site / ".badgekiln/cache/state.json"

    def upgrade() -> None:
        state = json.loads(state_path.read_bytes())
        state["fingerprint"] = "0" * 64
        state_path.write_text(json.dumps(state))

    before = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (out / "awards" / "stale.html").write_text("left by hand")
    upgrade()
    result = build(run, keyed_site)
    assert " (0 written, " in result.out  # (updated in place: the stale file removed, nothing written)
    assert not (out / "awards" / "stale.html").exists()

    outside = keyed_site.parent / "outside"
    outside.mkdir()
    page = next(out.glob("awards/*/index.html"))
    page.unlink()
    page.symlink_to(outside / "page.html")
    upgrade()
    build(run, keyed_site)
    assert not page.is_symlink() and not list(outside.iterdir())
    after = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before


def _scan_cut_off_while_it_answers(state_path: Path, output: Path) -> outputscan.Scan:
    """A scan that has sent the first bytes of a long answer (at 100,000 awards a listing of
    about 70 MB) into the pool's result pipe, and goes on."""
    frame = sys._getframe()
    while frame is not None and "result_queue" not in frame.f_locals:
        frame = frame.f_back
    assert frame is not None
    writer = frame.f_locals["result_queue"]._writer
    os.write(writer.fileno(), struct.pack("!i", 1 << 20) + b"x" * 1000)
    (state_path.parent / "begun").touch()  # (the test waits for it: on a busy machine a worker starts late)
    time.sleep(60)
    raise AssertionError("the scan was not stopped")


def test_a_scan_discarded_in_the_middle_of_its_answer_does_not_hang_the_build(tmp_path, monkeypatch):
    # (review: the pool's thread waited forever for the rest of the message, this process holding
    # the pipe's other end; forking.kill_pool closes it)
    monkeypatch.setattr(outputscan, "scan", _scan_cut_off_while_it_answers)
    scanner = outputscan.Scanner(tmp_path / "state.json", tmp_path / "output")
    waited = time.monotonic()
    while not (tmp_path / "begun").exists():  # (the message begun)
        assert time.monotonic() - waited < 30, "the scan never began its answer"
        time.sleep(0.05)
    stopper = threading.Thread(target=scanner.discard, daemon=True)
    stopper.start()
    stopper.join(20)
    assert not stopper.is_alive()
    assert scanner.result() == outputscan.Scan(None, False, None, None)


def test_a_folder_of_output_that_cannot_be_read_stages_the_site_afresh(tmp_path):
    """A folder the walk cannot open (here a path too long for the system; a folder without read
    permission is the same error) is no reason to fail the build: output/ is written afresh."""
    output = tmp_path / "output"
    output.mkdir()
    (output / MARKER).write_bytes(b"marker")
    deep = os.open(output, os.O_RDONLY)
    try:
        for _ in range(30):  # (each folder made relative to the last: the whole path is never given)
            os.mkdir("d" * 200, dir_fd=deep)
            inner = os.open("d" * 200, os.O_RDONLY, dir_fd=deep)
            os.close(deep)
            deep = inner
    finally:
        os.close(deep)
    plan = SitePlan()
    plan.add("index.html", b"home")
    got = outputcompare.compare(plan, output, 10)
    assert got.fresh and got.marker
