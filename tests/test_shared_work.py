"""What many groups share is made once per build, before the workers fork (outputs.Shared).

A badge class's share-card base is drawn once, on every core, and the workers that make the
cards inherit it: each worker used to draw every base again. The cards must not depend on where
the base was drawn.
"""

from __future__ import annotations

import os
from datetime import date

import pytest

from badgekiln.engine import forking, workers
from badgekiln.outputs import FileSpec, Shared, Unit, share_cards
from badgekiln.pages import sharecard

KEPT: list[tuple[object, object, int]] = []


def _need(inputs, item):
    return item["badge"]


def _make(inputs, key):
    if key == "broken":
        raise ValueError("cannot draw it")
    return (key.upper(), os.getpid())


def _keep(inputs, key, made):
    KEPT.append((key, made, os.getpid()))


WARMED: list[int] = []


def _warm():
    WARMED.append(os.getpid())


def _make_warm(inputs, key):
    return (key.upper(), os.getpid(), list(WARMED))


SHARED = Shared("test pieces", _need, _make, _keep, limit=6)
WARM = Shared("warm pieces", _need, _make_warm, _keep, warm=_warm)
UNIT = Unit("test-unit", "award", (FileSpec("x/{id}.txt", "text/plain"),), ("award",), lambda *a: None, shared=SHARED)
OTHER = Unit("test-other", "award", (FileSpec("y/{id}.txt", "text/plain"),), ("award",), lambda *a: None)


def _todo(badges: list[str]) -> list[workers.Task]:
    return [(f"g{n}", "k", UNIT if n % 3 else OTHER, {"badge": b}) for n, b in enumerate(badges)]


def test_each_shared_piece_is_made_once_in_a_worker_and_kept_here(monkeypatch):
    monkeypatch.setenv(forking.ENV_JOBS, "2")
    KEPT.clear()
    todo = _todo(["a", "b", "a", "b", "c", "a", "c", "broken", "b", "a", "a", "d", "e", "f", "g", "h", "f"])
    workers._make_shared(None, todo)
    kept = {key: made for key, made, _pid in KEPT}
    # once per distinct key of the groups whose unit shares it, at most `limit`, in order;
    # what raises is left to the groups (not kept, nothing raised here)
    needed = [item["badge"] for _n, _k, unit, item in todo if unit is UNIT]
    first = list(dict.fromkeys(needed))[: SHARED.limit]
    assert "broken" in first and len(KEPT) == len(kept) == len(first) - 1
    assert all(kept[key][0] == key.upper() for key in kept)
    assert all(pid == os.getpid() for _key, _made, pid in KEPT)  # kept in the build's process
    assert all(made[1] != os.getpid() for made in kept.values())  # made in workers


def test_on_one_core_the_pieces_are_made_here(monkeypatch):
    monkeypatch.setenv(forking.ENV_JOBS, "1")
    KEPT.clear()
    workers._make_shared(None, _todo(["a", "b", "c"]))
    assert sorted(key for key, _made, _pid in KEPT) == ["b", "c"]  # (the first group's unit shares nothing)
    assert all(made[1] == os.getpid() for _key, made, _pid in KEPT)  # one core: made here


@pytest.mark.parametrize("cores", ["1", "2"])
def test_what_every_group_reads_is_loaded_once_here_before_the_pieces_are_made(monkeypatch, cores):
    monkeypatch.setenv(forking.ENV_JOBS, cores)
    KEPT.clear()
    WARMED.clear()
    warm_unit = Unit(
        "test-warm", "award", (FileSpec("w/{id}.txt", "text/plain"),), ("award",), lambda *a: None, shared=WARM
    )
    todo = [(f"g{n}", "k", warm_unit if n % 2 else UNIT, {"badge": "ab"[n % 2]}) for n in range(12)]
    workers._make_shared(None, todo)
    assert WARMED == [os.getpid()]  # once, in the build's process
    made = {key: made for key, made, _pid in KEPT}
    assert made["b"][2] == [os.getpid()]  # the piece was made after it, by a process that inherited it
    WARMED.clear()
    workers._make_shared(None, [t for t in todo if t[2] is UNIT])
    assert WARMED == []  # no group needs it: not loaded
    workers._make_shared(None, todo, parallel=False)
    assert WARMED == []  # the groups are made here, each loads what it reads


def test_the_share_cards_load_every_font_before_the_workers_fork():
    assert share_cards.SHARED.warm is sharecard.load_fonts
    loaders = (sharecard._cmap, sharecard._hb_font)
    for loader in loaders:
        loader.cache_clear()
    sharecard.load_fonts()
    names = dict.fromkeys((*sharecard._ORDER[True], *sharecard._ORDER[False]))
    assert [loader.cache_info().currsize for loader in loaders] == [len(names)] * 2


def _pickled(base: sharecard.CardBase) -> sharecard.CardBase:
    import pickle

    return pickle.loads(pickle.dumps(base))


def _as_png(base: sharecard.CardBase) -> sharecard.CardBase:
    again = sharecard.CardBase.from_png(base.png())
    assert again.png() == base.png()
    return again


@pytest.mark.parametrize("status", ["valid", "revoked", "suspended", "expired"])
@pytest.mark.parametrize("kept", [_pickled, _as_png], ids=["pickled", "png"])
def test_a_card_drawn_on_a_kept_base_is_the_card_drawn_on_a_fresh_one(status, kept):
    """The base comes back pickled from a worker, or read back from the PNG the last build kept
    in the cache (engine/sharedkeep.py): the cards it makes are byte for byte the same."""
    base = sharecard.badge_base(
        badge_name="Pipefitting",
        issuer="Northwind Training",
        host="badges.example.org",
        accent="#1f5f8b",
        artwork=None,
        is_svg=False,
    )
    again = kept(base)
    args = {"earner": "Zoë Ó Briain", "issued_on": date(2026, 3, 1), "status": status}
    assert sharecard.award_card(again, **args) == sharecard.award_card(base, **args)
    assert sharecard.badge_card(again, "A description") == sharecard.badge_card(base, "A description")


def test_both_card_units_share_the_bases():
    units = {unit.name: unit for unit in share_cards.UNITS}
    assert units["award-share-card"].shared is units["badge-share-card"].shared is share_cards.SHARED
