"""What a build keeps in memory, and what its forked workers copy of it (issue 15, peak memory)."""

from __future__ import annotations

import gc
import io
import json

import pytest
from conftest import build

from badgekiln.engine import cache as cache_mod
from badgekiln.engine import forking


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
        shards = {"0a": "c" * 64, "07": "d" * 64}
        cache_mod._write_state(handle, state_groups, bundles, state_sources, shards)
        assert json.loads(handle.getvalue()) == {
            "format": cache_mod.FORMAT,
            "fingerprint": cache_mod.code_fingerprint(),
            "shards": shards,
            "groups": state_groups,
            "bundles": bundles,
            "sources": state_sources,
        }


def test_the_state_a_build_saves_is_read_by_the_next(minimal_site, run):
    build(run, minimal_site)
    state, sha, problem = cache_mod._read_state(minimal_site / ".badgekiln/cache/state.json")
    assert problem is None and sha is not None and state["groups"] and state["sources"]
    # not a replay: a build that reads the state
    (minimal_site / ".badgekiln/cache/stamp.json").unlink(missing_ok=True)
    again = build(run, minimal_site)
    assert "(0 written," in again.out


def test_the_plans_refs_to_blobs_share_their_folders(tmp_path):
    """A plan names a million blobs at 100,000 awards: a ref holds its name, and a folder string
    shared by every ref into that folder (not a whole path of its own)."""
    store = cache_mod.BlobStore(tmp_path / "blobs")
    first, second, other = "ab" + "0" * 62, "ab" + "1" * 62, "cd" + "0" * 62
    assert store.ref(first).folder is store.ref(second).folder
    assert store.ref(first).folder != store.ref(other).folder
    assert [store.ref(sha).path for sha in (first, second, other)] == [
        store.path(sha) for sha in (first, second, other)
    ]


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
