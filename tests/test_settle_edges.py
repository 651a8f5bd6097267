"""BuildCache._settle (the stat of a source too recent when read, kept at the save) against a
source replaced, removed or changed around the save: never a stat that stands for other bytes."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest
from conftest import TODAY, build, tree_bytes
from test_incremental import _recipients_read, _settling_at_save, clean_build, edit

from badgekiln.engine import cache as cache_mod
from badgekiln.engine import outputstamp
from badgekiln.sources import safefiles

REL = "recipients/jane-doe.yaml"


def _state_stat(site):
    state = json.loads((site / ".badgekiln/cache/state.json").read_text())
    return state["sources"][REL][5]


def _then_plain_rebuild(keyed_site, run, monkeypatch, tmp_path):
    """The patches undone, a build that trusts any stat kept (SETTLED_NS 0)."""
    monkeypatch.undo()
    monkeypatch.setattr(cache_mod, "SETTLED_NS", 0)
    read = _recipients_read(monkeypatch)
    result = run("build", "--source", str(keyed_site), "--today", TODAY)
    return read, result


def _kept_and_not_read_again(keyed_site, run, monkeypatch, tmp_path):
    """The state keeps the file's stat as it is now (inode and change time), and a plain rebuild
    does not read the file and builds what a clean build does."""
    now, kept = (keyed_site / REL).stat(), _state_stat(keyed_site)
    assert kept is not None and (kept[2], kept[3]) == (now.st_ctime_ns, now.st_ino)
    read, result = _then_plain_rebuild(keyed_site, run, monkeypatch, tmp_path)
    assert result.code == 0 and "jane-doe.yaml" not in read
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def _prep(keyed_site):
    (keyed_site / ".badgekiln/cache/stamp.json").unlink(missing_ok=True)


def test_a_source_replaced_by_the_same_bytes_before_the_save_keeps_its_new_stat(keyed_site, run, monkeypatch, tmp_path):
    path = keyed_site / REL
    _prep(keyed_site)

    def swap():
        tmp = path.with_suffix(".tmp")
        shutil.copyfile(path, tmp)
        os.replace(tmp, path)

    _settling_at_save(monkeypatch, swap)
    build(run, keyed_site)
    _kept_and_not_read_again(keyed_site, run, monkeypatch, tmp_path)


def test_a_source_replaced_by_other_bytes_before_the_save_keeps_no_stat_and_is_built_next(
    keyed_site, run, monkeypatch, tmp_path
):
    path = keyed_site / REL
    _prep(keyed_site)

    def swap():
        tmp = path.with_suffix(".tmp")
        tmp.write_text(path.read_text().replace("Jane", "Jana", 1))
        os.replace(tmp, path)

    _settling_at_save(monkeypatch, swap)
    build(run, keyed_site)
    assert _state_stat(keyed_site) is None
    read, result = _then_plain_rebuild(keyed_site, run, monkeypatch, tmp_path)
    assert result.code == 0
    out = tree_bytes(keyed_site / "output")
    assert any(b"Jana Doe" in d for d in out.values())
    assert out == clean_build(run, keyed_site, tmp_path)


def test_a_source_removed_before_the_save_keeps_no_stat(keyed_site, run, monkeypatch, tmp_path):
    path = keyed_site / REL
    _prep(keyed_site)
    _settling_at_save(monkeypatch, lambda: path.unlink())
    build(run, keyed_site)
    assert _state_stat(keyed_site) is None


@pytest.mark.parametrize("what", ["symlink", "fifo", "dir"])
def test_a_source_turned_into_a_link_fifo_or_folder_before_the_save_keeps_no_stat(
    keyed_site, run, monkeypatch, tmp_path, what
):
    path = keyed_site / REL
    _prep(keyed_site)

    def swap():
        other = keyed_site / "elsewhere.yaml"
        shutil.copyfile(path, other)
        path.unlink()
        if what == "symlink":
            path.symlink_to(other)
        elif what == "fifo":
            os.mkfifo(path)
        else:
            path.mkdir()

    _settling_at_save(monkeypatch, swap)
    build(run, keyed_site)
    assert _state_stat(keyed_site) is None


def test_a_source_changed_and_changed_back_before_the_save_keeps_its_current_stat(
    keyed_site, run, monkeypatch, tmp_path
):
    path = keyed_site / REL
    _prep(keyed_site)

    def aba():
        edit(path, "Jane", "Jana")
        time.sleep(0.02)
        edit(path, "Jana", "Jane")

    _settling_at_save(monkeypatch, aba)
    build(run, keyed_site)
    _kept_and_not_read_again(keyed_site, run, monkeypatch, tmp_path)


def test_a_source_changed_back_between_the_saves_stat_and_read_is_read_by_the_next_build(
    keyed_site, run, monkeypatch, tmp_path
):
    """At the save, the file is B' (settled) when stat-ed and B again (the validated bytes) when
    read: the state keeps the stat of B' with B's SHA-256, a stat the file never has again (its
    ctime moved), so the next build reads it."""
    path = keyed_site / REL
    _prep(keyed_site)
    state = {"armed": False, "done": False}

    def before():
        edit(path, "Jane", "Jana")
        time.sleep(0.02)
        state["armed"] = True

    _settling_at_save(monkeypatch, before)
    original = safefiles.Folder.read_bytes

    def reading(self, name, **kw):
        if state["armed"] and not state["done"] and name == "jane-doe.yaml":
            state["done"] = True
            edit(path, "Jana", "Jane")
        return original(self, name, **kw)

    monkeypatch.setattr(safefiles.Folder, "read_bytes", reading)
    build(run, keyed_site)
    assert state["done"]
    read, result = _then_plain_rebuild(keyed_site, run, monkeypatch, tmp_path)
    assert result.code == 0 and "jane-doe.yaml" in read
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def test_a_clock_that_cannot_be_read_at_the_save_settles_nothing(keyed_site, run, monkeypatch, tmp_path):
    _prep(keyed_site)
    calls = []
    real = outputstamp.clock

    def clock(folder):
        calls.append(1)
        return None if calls and getattr(clock, "late", False) else real(folder)

    monkeypatch.setattr(outputstamp, "clock", clock)
    _settling_at_save(monkeypatch, lambda: setattr(clock, "late", True))
    build(run, keyed_site)
    assert _state_stat(keyed_site) is None


def test_a_build_from_a_restored_cache_reads_nothing_again_at_the_save(keyed_site, run, monkeypatch, tmp_path):
    _prep(keyed_site)
    monkeypatch.setenv("BADGEKILN_CACHE_RESTORED", "1")
    _settling_at_save(monkeypatch)
    build(run, keyed_site)
    read = _recipients_read(monkeypatch)
    _prep(keyed_site)
    build(run, keyed_site)
    # (a restored cache trusts no stat: every file hashed, once; the next build, restored too
    # in CI, would not trust a stat kept at the save)
    names = sorted(p.name for p in (keyed_site / "recipients").glob("*.yaml"))
    assert sorted(read) == names
