"""What a build keeps in memory, and what its forked workers copy of it (issue 15, peak memory)."""

from __future__ import annotations

import errno
import gc
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MINIMAL, build, write_site

from badgekiln.engine import cache as cache_mod
from badgekiln.engine import forking, heap, workers
from badgekiln.errors import OutputError


def _frozen_here(_item: int) -> int:
    return gc.get_freeze_count()


def test_workers_fork_with_the_build_frozen_out_of_the_collector(monkeypatch):
    """A worker's garbage collector must not walk (and so copy) what it inherited; the build's own
    collector sees its objects again once the workers are gone."""
    monkeypatch.setenv(forking.ENV_JOBS, "2")
    before = gc.get_freeze_count()
    counts = forking.fork_map(_frozen_here, list(range(8)), min_items=2)
    assert all(count > 0 for count in counts)
    assert gc.get_freeze_count() == before == 0


def test_a_pool_inside_a_pool_keeps_the_objects_frozen_until_the_last_ends(monkeypatch):
    monkeypatch.setenv(forking.ENV_JOBS, "2")
    with forking.pool(2):
        assert gc.get_freeze_count() > 0
        assert all(count > 0 for count in forking.fork_map(_frozen_here, list(range(8)), min_items=2))
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_a_pool_leaves_what_the_build_froze_before_it_frozen(monkeypatch):
    # (the build freezes its long-lived objects until it ends: a pool ending must not undo that)
    monkeypatch.setenv(forking.ENV_JOBS, "2")
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        forking.fork_map(_frozen_here, list(range(8)), min_items=2)
        assert gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()
    forking.fork_map(_frozen_here, list(range(8)), min_items=2)
    assert gc.get_freeze_count() == 0  # (and a pool after it unfreezes as before)


def test_the_state_is_written_in_pieces_that_read_back_whole(monkeypatch):
    monkeypatch.setattr(cache_mod, "STATE_PIECE", 2)
    groups = {f"award/a{n}/page": [f"k{n}", f"awards/a{n}/index.html {'0' * 64} {n} {n + 7}"] for n in range(5)}
    groups["site-pages"] = [None, ""]
    # a recipient file named with bytes that are not UTF-8 holds surrogates: orjson refuses them
    sources = {
        "recipients/ok.yaml": ["k", "enc", "2026-11-22", None, []],
        "recipients/\udcff.yaml": ["k", "e", "d", "d", []],
    }
    for state_groups, state_sources in ((groups, sources), ({}, {}), (groups, {})):
        handle = io.BytesIO()
        bundles = {f"recipients/{n}.yaml": ["b" * 64, 0] for n in range(len(state_groups))}
        shards, record_shards = {"0a": "c" * 64, "07": "d" * 64}, {"1f": "e" * 64}
        cache_mod._write_state(handle, state_groups, bundles, state_sources, shards, record_shards)
        assert json.loads(handle.getvalue()) == {
            "format": cache_mod.FORMAT,
            "fingerprint": cache_mod.code_fingerprint(),
            "shards": shards,
            "record_shards": record_shards,
            "groups": state_groups,
            "bundles": bundles,
            "sources": state_sources,
        }


def test_the_state_a_build_saves_is_read_by_the_next(minimal_site, run):
    build(run, minimal_site)
    state, sha, problem, saved = cache_mod._read_state(minimal_site / ".badgekiln/cache/state.json")
    assert problem is None and sha is not None and saved and state["groups"] and state["sources"]
    # not a replay: a build that reads the state
    (minimal_site / ".badgekiln/cache/stamp.json").unlink(missing_ok=True)
    again = build(run, minimal_site)
    assert "(0 written," in again.out


def test_the_build_summary_reads_the_last_view_after_the_records_are_let_go(keyed_site, run, monkeypatch):
    """The build summary reads the last build's view (40 MB at 100,000 awards) after the cache has
    let go of the records of both builds and the plan is gone, so that it reuses their memory
    instead of adding to the build's peak; the summary is still told from the records' identities."""
    import weakref

    from badgekiln.commands import build as build_mod

    caches, plans, seen = [], [], []
    real_open, real_build, real_read = cache_mod.BuildCache.open.__func__, build_mod.build, build_mod.read_state

    def opening(cls, *args, **kwargs):
        caches.append(real_open(cls, *args, **kwargs))
        return caches[-1]

    def planning(*args, **kwargs):
        plan = real_build(*args, **kwargs)
        plans.append(weakref.ref(plan))
        return plan

    def reading(source):
        seen.append([(len(c._sources), len(c.new_sources), len(c.new_groups), len(c._bundles)) for c in caches])
        seen.append([ref() for ref in plans])
        return real_read(source)

    monkeypatch.setattr(cache_mod.BuildCache, "open", classmethod(opening))
    monkeypatch.setattr(build_mod, "build", planning)
    monkeypatch.setattr(build_mod, "read_state", reading)
    edit = keyed_site / "recipients/jane-doe.yaml"
    edit.write_text(
        edit.read_text(encoding="utf-8").replace("issued_on: 2026-03-01", "issued_on: 2026-03-02"), encoding="utf-8"
    )
    result = build(run, keyed_site)
    assert seen[0] == [(0, 0, 0, 0)]  # (the cache's records let go)
    assert seen[1] == [None]  # (the plan gone)
    assert "since the last build: 0 added, 1 changed" in result.out


def test_the_plan_names_a_made_groups_files_by_the_caches_own_record(tmp_path):
    """A plan names a million files at 100,000 awards: a group made (or kept) is one text in it,
    the very string the cache records, not a path and a ref per file."""
    (tmp_path / "cache").mkdir()
    cache = cache_mod.BuildCache(tmp_path / "cache", tmp_path / "output")
    plan = cache_mod.SitePlan()
    first, second = ("awards/a/x.json", "ab" + "0" * 62, 5, 11), ("awards/a/y.png", "cd" + "1" * 62, 7, 12)
    cache.record(plan, "award/a/unit", "k" * 64, [first, second])
    assert plan.files == {} and plan.stored == [cache.new_groups["award/a/unit"][1]]
    assert plan.stored[0] is cache.new_groups["award/a/unit"][1]
    assert plan.count() == 2 and list(plan.paths()) == ["awards/a/x.json", "awards/a/y.png"]
    refs = dict(plan.items())
    assert refs["awards/a/x.json"].path == cache.store.path(first[1])
    assert refs["awards/a/y.png"].path == cache.store.path(second[1])
    cache.close()


def test_a_build_with_nothing_to_reuse_lists_output_only_when_it_writes(tmp_path):
    """With no group recorded (a first build, or after an upgrade), output/ is not listed in the
    build's process as groups are recorded: the workers forked after that would copy the listing
    (a million files at 100,000 awards); it is listed when the site is written."""
    (tmp_path / "cache").mkdir()
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "x.json").write_text("{}")
    cache = cache_mod.BuildCache(tmp_path / "cache", tmp_path / "output")
    plan = cache_mod.SitePlan()
    cache.record(plan, "award/a/unit", "k" * 64, [("awards/a/x.json", "ab" + "0" * 62, 5, 11)])
    assert cache._present is None and cache._intact is None  # (not scanned, not listed)
    cache.close()


def test_the_collector_is_paused_for_the_block_and_what_it_made_is_frozen_until_the_build_ends():
    import gc

    from badgekiln.engine.forking import collector_paused, frozen

    with pytest.raises(RuntimeError):  # (outside frozen(), nothing would give the objects back)
        with collector_paused():
            pass
    assert gc.isenabled() and gc.get_freeze_count() == 0
    with frozen():
        with collector_paused():
            assert not gc.isenabled()
            made = [[n] for n in range(1000)]
        assert gc.isenabled() and gc.is_tracked(made[0]) and gc.get_freeze_count() >= 1000
        gc.disable()
        try:
            with collector_paused():
                pass
            assert not gc.isenabled()  # (someone else's choice is kept)
        finally:
            gc.enable()
    assert gc.get_freeze_count() == 0  # (given back)


@pytest.mark.parametrize("groups", [1, 9_999, 10_000, 25_000, 400_000, 4_000_000])
def test_the_groups_are_made_in_waves_of_workers_each_about_the_same_size(groups):
    """Each wave of groups is made by workers forked for it (what a worker copies of what it
    inherits grows with the groups it makes): about WAVE_GROUPS groups each, at most MAX_WAVES."""
    size = max(4, min(64, groups // 32))
    chunks = [(start, min(start + size, groups)) for start in range(0, groups, size)]
    waves = workers._waves(chunks, groups)
    assert [chunk for wave in waves for chunk in wave] == chunks  # every chunk, once, in order
    assert len(waves) == min(workers.MAX_WAVES, max(1, round(groups / workers.WAVE_GROUPS)))
    sizes = [sum(stop - start for start, stop in wave) for wave in waves]
    assert max(sizes) - min(sizes) <= size  # (a chunk, at most)


@pytest.mark.parametrize(
    "files, stored",
    [
        ({"awards/a/x.json": b"{}"}, ["awards/a/x.json"]),  # made here and stored
        ({}, ["awards/a/x.json", "awards/a/x.json"]),  # two stored groups
        ({}, ["awards/a/y.png;awards/a/x.json", "awards/b/x.json;awards/a/x.json"]),
    ],
)
@pytest.mark.parametrize("writer", ["restage", "in place"])
def test_a_path_planned_twice_is_refused_before_output_changes(tmp_path, files, stored, writer):
    """``SitePlan.add`` refuses a path planned twice among the files made here; a stored group's
    paths are checked by the writers, before anything is written."""
    from badgekiln.engine import site
    from badgekiln.errors import OutputError

    store = cache_mod.BlobStore(tmp_path / "blobs")
    sha, size, ino = store.put(b"blob")
    plan = site.SitePlan(files=dict(files))
    for group in stored:
        plan.add_stored(store.blobs, ";".join(f"{path} {sha} {size} {ino}" for path in group.split(";")))
    output = tmp_path / "output"
    site.write_site(site.SitePlan(files={"index.html": b"before"}), output)
    before = {p.relative_to(output): p.read_bytes() for p in output.rglob("*") if p.is_file()}
    with pytest.raises(OutputError, match="two outputs want the same path: awards/a/x.json"):
        if writer == "restage":
            site.write_site(plan, output)
        else:
            site.update_site(plan, output, unchanged=(), stale=())
    assert {p.relative_to(output): p.read_bytes() for p in output.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blobs", "output"]  # (no staging folder left)


@pytest.mark.parametrize("failing", [1, 2, 3])
def test_an_update_in_place_that_fails_undoes_every_step(tmp_path, monkeypatch, failing):
    """A failed update in place puts back what it moved aside, removes what it added and the
    folders it made, whichever rename failed (the steps are kept as small tuples, not closures)."""
    from badgekiln.engine import site

    output = tmp_path / "output"
    site.write_site(site.SitePlan(files={"index.html": b"before", "old/gone.txt": b"stale", "keep.txt": b"k"}), output)
    before = {p.relative_to(output).as_posix(): p.read_bytes() for p in output.rglob("*") if p.is_file()}
    folders = sorted(p.relative_to(output).as_posix() for p in output.rglob("*") if p.is_dir())
    plan = site.SitePlan(files={"index.html": b"after", "a/b/new.txt": b"new", "keep.txt": b"k"})
    replace, calls = os.replace, []

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == failing:
            raise OSError("disk trouble")
        return replace(src, dst)

    monkeypatch.setattr(site.os, "replace", failing_replace)
    with pytest.raises(OutputError, match="disk trouble"):
        site.update_site(plan, output, unchanged={"keep.txt"}, stale=["old/gone.txt"])
    monkeypatch.setattr(site.os, "replace", replace)
    assert len(calls) >= failing
    assert {p.relative_to(output).as_posix(): p.read_bytes() for p in output.rglob("*") if p.is_file()} == before
    assert sorted(p.relative_to(output).as_posix() for p in output.rglob("*") if p.is_dir()) == folders
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output"]  # (no staging folder left)
    site.update_site(plan, output, unchanged={"keep.txt"}, stale=["old/gone.txt"])  # (and it can be done after)
    assert (output / "a/b/new.txt").read_bytes() == b"new" and not (output / "old").exists()


def test_an_update_in_place_of_an_output_folder_gone_meanwhile_fails_and_makes_nothing(tmp_path):
    """output/ removed while the build ran: the update in place fails (it made output/ again,
    with only the files that changed, and said it had updated the site)."""
    from badgekiln.engine import site

    output = tmp_path / "output"
    site.write_site(site.SitePlan(files={"index.html": b"before", "keep.txt": b"k"}), output)
    shutil.rmtree(output)
    plan = site.SitePlan(files={"index.html": b"after", "a/new.txt": b"new", "keep.txt": b"k"})
    with pytest.raises(OutputError):
        site.update_site(plan, output, unchanged={"keep.txt"}, stale=[])
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("cores", ["1", "2"])
def test_a_plan_of_stored_groups_is_written_as_a_plan_of_refs(tmp_path, monkeypatch, cores):
    """write_site places a stored group's files as it places refs (hard links to the blobs), on
    every core: groups of one folder placed by two processes at once."""
    from badgekiln.engine import site

    monkeypatch.setenv(forking.ENV_JOBS, cores)
    tasks = []

    def fork_map(function, items, **kw):
        tasks.append((len(items), kw.get("send")))
        return forking.fork_map(function, items, **kw)

    monkeypatch.setattr(site, "fork_map", fork_map)
    store = cache_mod.BlobStore(tmp_path / "blobs")
    entries = [(f"awards/{n % 7}/deep/f{n}.json", *store.put(f"file {n}".encode())) for n in range(3000)]
    plan = site.SitePlan(files={"index.html": b"home", "awards/3/page.html": b"page"})
    for start in range(0, 3000, 3):
        plan.add_stored(store.blobs, cache_mod.pack_files(entries[start : start + 3]))
    output = tmp_path / "output"
    counts = site.write_site(plan, output)
    assert counts == {"written": 2, "linked": 3000}
    assert plan.count() == 3002 == len([p for p in output.rglob("*") if p.is_file()]) - 1  # (and the marker)
    for rel, sha, _size, ino in entries:
        assert (output / rel).read_bytes() == Path(store.path(sha)).read_bytes()
        assert (output / rel).stat().st_ino == ino  # linked, not copied
    assert (output / "awards/3/page.html").read_bytes() == b"page"
    # a task per stored group, one per folder of the files made here: enough for fork_map to use
    # every core from MIN_PARALLEL groups up; sent to the workers, not inherited (see fork_map)
    assert tasks == [(1000 + 2, True)]


def _sent_or_inherited(item: int) -> tuple[int, bool]:
    if item == 77:
        raise ValueError("item 77")
    return item * 2, forking._JOB["items"] is None and os.getpid() != _PARENT[0]


_PARENT = [os.getpid()]


@pytest.mark.parametrize("send", [False, True])
def test_items_sent_to_the_workers_give_what_inherited_ones_give(monkeypatch, send):
    """fork_map(send=True): each chunk's items reach the worker pickled, not by inheritance (a
    worker that reads an inherited object copies its memory page); the results, their order and
    the error of a failing item are the same."""
    monkeypatch.setenv(forking.ENV_JOBS, "2")
    _PARENT[0] = os.getpid()
    got = forking.fork_map(_sent_or_inherited, list(range(100, 600)), min_items=2, send=send)
    assert [value for value, _ in got] == [n * 2 for n in range(100, 600)]
    assert all(sent is send for _, sent in got)
    with pytest.raises(ValueError, match="item 77"):
        forking.fork_map(_sent_or_inherited, list(range(500)), min_items=2, send=send)


@pytest.mark.parametrize("linked", [True, False])
def test_a_file_placed_again_replaces_what_the_failed_try_placed(tmp_path, monkeypatch, linked):
    """A task that fails in a worker is done again in the build's process (fork_map): the files
    the worker placed, linked or copied (output/ on another file system), are there already, and
    the retry must get past them to the error that stopped it; a file linked from the previous
    output/ is replaced, never written through."""
    from badgekiln.engine import site

    store = cache_mod.BlobStore(tmp_path / "blobs")
    sha, _size, ino = store.put(b"blob")
    (ref,) = [ref for _path, ref in site.stored_files(store.blobs, f"a {sha} 4 {ino}")]
    if not linked:
        real_link = os.link

        def no_link(src, dst, *args, **kw):
            if str(src).startswith(str(tmp_path / "blobs")):
                raise OSError(errno.EXDEV, "Invalid cross-device link")
            return real_link(src, dst, *args, **kw)

        monkeypatch.setattr(os, "link", no_link)
    staging, output = tmp_path / "staging", tmp_path / "output"
    staging.mkdir()
    output.mkdir()
    site._place(ref, staging / "placed")
    site._place(ref, staging / "placed")
    assert (staging / "placed").read_bytes() == b"blob"
    assert ((staging / "placed").stat().st_ino == ino) is linked
    (output / "page.html").write_bytes(b"same")
    before = (output / "page.html").stat().st_mtime_ns
    files = {"page.html": b"same", "new.html": b"new"}
    for _try in range(2):
        assert site._place_folder(files, staging, output, ["page.html", "new.html"]) == (1, 1)
    assert (staging / "page.html").stat().st_ino == (output / "page.html").stat().st_ino
    assert (output / "page.html").stat().st_mtime_ns == before  # (not opened for writing)
    assert (staging / "new.html").read_bytes() == b"new"


def test_the_files_a_plan_skips_are_not_listed():
    from badgekiln.engine import site

    plan = site.SitePlan(files={"index.html": b"x"})
    plan.add_stored("/b/", ";".join(f"awards/{n}/f.json {n:064x} 1 {n}" for n in range(3)))
    assert [rel for rel, _ in plan.items(skip={"awards/1/f.json", "index.html"})] == [
        "awards/0/f.json",
        "awards/2/f.json",
    ]
    assert plan.count() == 4


# A heap with holes: texts of about 5 KB (a bundle's) freed between smaller ones that stay, as a
# rebuild that opens many bundles leaves it (engine/heap.py). Run in a process of its own.
_HOLES = """
import sys
from badgekiln.engine import heap
def rss():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) // 1024
big, small = [], []
for n in range(20_000):
    big.append(("x" * 5_000) + str(n))
    small.append(("y" * 600) + str(n))
del big
before = rss()
print(heap.give_back(), before, rss(), len(small))
"""


def test_the_memory_a_build_freed_is_given_back_to_the_system():
    """About 100 MB of texts freed between texts that stay: the C library keeps the pages until
    they are given back (glibc here: the build's machine and CI)."""
    found = subprocess.run([sys.executable, "-c", _HOLES], capture_output=True, text=True, check=True, env=_env())
    given, before, after, _ = found.stdout.split()
    assert given == "True"
    assert int(before) - int(after) > 60, found.stdout  # (MiB: the freed texts' whole pages)


def test_the_heap_is_given_back_each_time_so_many_bytes_are_let_go(monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(heap, "give_back", lambda: calls.append(1) or True)
    budget = heap.Budget(100)
    for _ in range(10):
        budget.spent(45)
    assert len(calls) == 3 and budget.total == 450  # (at 135, 270 and 405 bytes: each 100 or more)


def test_a_rebuild_that_opens_many_bundles_gives_the_freed_memory_back(tmp_path, run, monkeypatch):
    """Each time TRIM_BYTES of bundle texts are let go, and once after the plan (before the workers
    fork) when TRIM_AFTER_PLAN were in all."""
    monkeypatch.setattr(cache_mod, "TRIM_BYTES", 1)
    monkeypatch.setattr(cache_mod, "TRIM_AFTER_PLAN", 1)
    calls: list[int] = []
    monkeypatch.setattr(heap, "give_back", lambda: calls.append(1) or True)
    site = write_site(tmp_path / "site", {**MINIMAL, **_recipients(10)})
    build(run, site)
    assert calls == []  # (a clean build opens no bundle)
    config = site / "site_src/site.yaml"
    config.write_text(config.read_text() + "footer: A new footer.\n")
    build(run, site)
    assert len(calls) == 11 + 1  # (eleven bundles opened, ann.yaml's and the ten; then the plan's end)
    assert "A new footer." in (site / "output/awards/p03-first-1/index.html").read_text()


def _recipients(count: int) -> dict[str, str]:
    return {
        f"recipients/p{n:02d}.yaml": f"""
            name: Person {n}
            email: p{n}@example.com
            awards:
              - id: p{n:02d}-first-1
                badge: first-badge
                issued_on: 2026-01-02
        """
        for n in range(count)
    }


def _env() -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
