"""The summary of a large site's rebuild is made in a process beside the build
(``buildsummary.Beside``): the same summary and the same ``last-build.json`` as a build that makes
it itself, nothing kept of it when the build fails, and the build's own summary when that process
fails."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import TODAY, build, tree_bytes, write_site

from badgekiln.commands import build as build_mod
from badgekiln.commands import buildsummary
from badgekiln.engine import stamp
from tests.support.processes import children

STATE = Path(".badgekiln/last-build.json")


@pytest.fixture
def made_in(monkeypatch, tmp_path):
    """Each summary's process id, as a list (the process beside writes into a file)."""
    where = tmp_path / "made-in"
    real = buildsummary.summarize

    def summarize(*args, **kwargs):
        with open(where, "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(buildsummary, "summarize", summarize)
    monkeypatch.setattr(build_mod, "summarize", summarize)

    def made() -> list[int]:
        found = [int(line) for line in where.read_text().split()] if where.exists() else []
        where.unlink(missing_ok=True)
        return found

    return made


def _steps(site: Path, run) -> list[tuple[str, bytes]]:
    """Each build's summary line and last-build.json, edit after edit."""
    seen = []

    def step() -> None:
        out = build(run, site).out
        seen.append((out.splitlines()[-1], (site / STATE).read_bytes()))

    step()
    step()
    write_site(
        site,
        {
            "recipients/bo.yaml": """
        name: Bo
        email: bo@example.com
        awards:
          - id: bo-first-1
            badge: first-badge
            issued_on: 2026-01-02
            expires: 2026-12-10
    """
        },
    )
    ann = site / "recipients/ann.yaml"
    ann.write_text(ann.read_text() + "    narrative: Did it well.\n")
    step()
    assert (
        run("revoke", "ann-first-1", "--reason", "Issued in error", "--source", str(site), "--today", TODAY).code == 0
    )
    step()
    assert run("suspend", "bo-first-1", "--reason", "Checking", "--source", str(site), "--today", TODAY).code == 0
    step()
    return seen


def test_a_summary_made_beside_is_the_one_the_build_makes(minimal_site, tmp_path, run, monkeypatch, made_in):
    import shutil

    other = tmp_path / "other"
    shutil.copytree(minimal_site, other)
    here = _steps(minimal_site, run)
    assert set(made_in()) == {os.getpid()}  # (the site is too small: every summary made here)
    monkeypatch.setattr(buildsummary, "AHEAD_AWARDS", 0)
    beside = _steps(other, run)
    pids = made_in()
    # The first build makes output/ afresh: its summary is made here; every rebuild's beside.
    # (the second build may be a replay of the first's report: no summary made)
    assert pids[0] == os.getpid() and len(pids) >= len(beside) - 1 and os.getpid() not in pids[1:]
    assert [line for line, _ in beside] == [line for line, _ in here]
    assert "1 added, 1 changed" in beside[2][0] and "1 revoked" in beside[3][0] and "1 suspended" in beside[4][0]
    assert [state for _, state in beside] == [state for _, state in here]
    assert not list((other / ".badgekiln").glob(".last-build.json.*"))  # (nothing staged left behind)


def test_a_build_that_fails_keeps_nothing_of_the_summary_made_beside(minimal_site, run, monkeypatch):
    monkeypatch.setattr(buildsummary, "AHEAD_AWARDS", 0)
    build(run, minimal_site)
    before = (minimal_site / STATE).read_bytes()
    real, begun = build_mod.build, []

    class Watched(buildsummary.Beside):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            begun.append(self._run.started)

    def failing(*args, **kwargs):
        real(*args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(build_mod, "Beside", Watched)
    monkeypatch.setattr(build_mod, "build", failing)
    ann = minimal_site / "recipients/ann.yaml"
    ann.write_text(ann.read_text() + "    narrative: Did it well.\n")
    stamp.forget(minimal_site)
    before_children = set(children())
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code != 0 and "No space left on device" in result.err
    assert begun == [True]  # (a summary was begun beside the build) ...
    assert (minimal_site / STATE).read_bytes() == before  # ... and nothing of it kept
    assert not list((minimal_site / ".badgekiln").glob(".last-build.json.*"))
    assert set(children()) <= before_children  # (the process beside ended and reaped)


def test_when_the_process_beside_fails_the_build_makes_the_summary(minimal_site, run, monkeypatch):
    monkeypatch.setattr(buildsummary, "AHEAD_AWARDS", 0)
    build(run, minimal_site)
    parent, real = os.getpid(), buildsummary.summarize

    def summarize(*args, **kwargs):
        if os.getpid() != parent:
            raise MemoryError("the process beside ran out of memory")
        return real(*args, **kwargs)

    monkeypatch.setattr(buildsummary, "summarize", summarize)
    monkeypatch.setattr(build_mod, "summarize", summarize)
    ann = minimal_site / "recipients/ann.yaml"
    ann.write_text(ann.read_text() + "    narrative: Did it well.\n")
    assert "(since the last build: 0 added, 1 changed, 0 revoked;" in build(run, minimal_site).out
    assert '"today"' in (minimal_site / STATE).read_text()
    assert not list((minimal_site / ".badgekiln").glob(".last-build.json.*"))
    assert "(since the last build: 0 added, 0 changed, 0 revoked;" in build(run, minimal_site).out  # (kept)


def test_a_snapshot_staged_by_a_build_killed_meanwhile_is_removed_by_the_next(minimal_site, run, tmp_path):
    """A build killed while its summary was made beside it leaves the staged snapshot (the process
    beside goes on to write it): the next build removes it, and a link of that name without
    following it."""
    build(run, minimal_site)
    folder = minimal_site / ".badgekiln"
    (folder / ".last-build.json.k1ll3d.tmp").write_text("{}")
    target = tmp_path / "elsewhere.txt"
    target.write_text("kept")
    (folder / ".last-build.json.l1nk.tmp").symlink_to(target)
    ann = minimal_site / "recipients/ann.yaml"
    ann.write_text(ann.read_text() + "    narrative: Did it well.\n")
    build(run, minimal_site)
    assert not list(folder.glob(".last-build.json.*")) and target.read_text() == "kept"


def test_a_damaged_record_the_summary_beside_finds_still_starts_the_build_afresh(tmp_path, run, monkeypatch):
    """A record only the summary decodes (its file's view is missing from last-build.json, and no
    group of it is made again): the process beside finds it damaged, the build makes the summary
    itself, finds the same, and starts afresh without the cache, as when the summary was made in
    the build's own process (tests/test_views.py)."""
    from conftest import edit_record_texts, write_site
    from test_views import _many

    monkeypatch.setattr(buildsummary, "AHEAD_AWARDS", 0)
    site = write_site(tmp_path / "site", _many(6))
    build(run, site)
    edit_record_texts(site / ".badgekiln/cache", lambda texts: texts.update({"recipients/p02.yaml": "not json"}))
    (site / STATE).unlink()  # (every file's view is made again: each recipient decoded)
    path = site / "recipients/p04.yaml"
    path.write_text(path.read_text().replace("issued_on: 2026-01-05", "issued_on: 2026-01-06"))
    begun = []

    class Watched(buildsummary.Beside):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            begun.append(self._run.started)

    monkeypatch.setattr(build_mod, "Beside", Watched)
    result = build(run, site)
    assert begun and begun[0] is True  # (the summary was begun beside the build)
    assert "cache-damaged" in result.err and "recipients/p02.yaml" in result.err
    first = tree_bytes(site / "output")
    (site / ".badgekiln").rename(tmp_path / "old-cache")
    build(run, site)
    assert tree_bytes(site / "output") == first


def test_the_records_are_let_go_only_for_a_summary_made_here(minimal_site, run, monkeypatch):
    """The cache lets go of its records (``BuildCache.let_go``) so that a summary made in the
    build's own process reads the last build's view into their memory; when the summary is made
    beside, nothing reads it there, and freeing them was 0.03 s of a rebuild at 100,000 awards
    (the process ends without freeing)."""
    from badgekiln.engine import cache as cache_mod

    calls: list[int] = []
    real = cache_mod.BuildCache.let_go

    def let_go(self):
        calls.append(os.getpid())
        real(self)

    monkeypatch.setattr(cache_mod.BuildCache, "let_go", let_go)
    monkeypatch.setattr(buildsummary, "AHEAD_AWARDS", 0)
    build(run, minimal_site)  # (afresh: its summary is made here)
    assert calls == [os.getpid()]
    ann = minimal_site / "recipients/ann.yaml"
    ann.write_text(ann.read_text() + "    narrative: Did it well.\n")
    assert "(since the last build: 0 added, 1 changed, 0 revoked;" in build(run, minimal_site).out
    assert calls == [os.getpid()]  # (made beside: not let go)
