"""Running the site's output units: each group of files reused from the cache, or made, on every core.

:func:`run_units` takes every unit of :mod:`badgekiln.outputs` (site-wide, per badge class, per
award). Without a cache it makes each. With one, it asks :class:`badgekiln.engine.keys.UnitKeys`
for each group's key and reuses the files made under that key last time; the groups left to
make are made here, in worker processes when there are more than :data:`MIN_PARALLEL` of them.

Workers are forked (Linux), so they inherit the build's inputs, renderer and signer (each has
its own copy of the keys); a task is only a range of indexes into the list of groups to make.
The groups are made in waves, each by workers forked for it (see :func:`_waves`): what a worker
copies of what it inherits grows with the groups it makes.
What many groups are made from (a badge class's share-card base, see
:class:`badgekiln.outputs.Shared`) is made once, on every core, just before they fork, so they
inherit it too instead of each making its own (and kept in the cache for the next build: see
engine/sharedkeep.py). The groups of the site (some read every award) and of each badge class
are made here before the workers fork (see :func:`_make_site_here`).
Each worker puts the files it makes in the cache's blob store and returns their names (small
tuples), so the parent never holds the site's bytes. Results are taken in task order, so the
plan, and the output, do not depend on scheduling. A task that fails in a worker is made again
in the parent, which raises the real exception (template errors keep their line numbers).
"""

from __future__ import annotations

import importlib
import multiprocessing
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import partial
from typing import Any

from badgekiln import models
from badgekiln.engine import canoncache, heap, sharedkeep, timings, views
from badgekiln.engine.cache import BlobStore, BuildCache, code_fingerprint
from badgekiln.engine.forking import _JOB, ENV_JOBS, MIN_PARALLEL, check_stop, fork_map, jobs, pool  # noqa: F401 - (fork_map, ENV_JOBS: re-exported)
from badgekiln.engine.keys import UnitKeys
from badgekiln.engine.site import Entry, SitePlan
from badgekiln.errors import OutputError
from badgekiln.outputs import PAGE_TEMPLATES, BuildInputs, Shared, Unit, units
from badgekiln.signing.signer import Signer


@dataclass(frozen=True)
class FastSigner(Signer):
    """The build's signer, whose Data Integrity proofs canonicalize through
    :mod:`badgekiln.crypto.fastcanon`: the same bytes as :class:`Signer`'s, made faster."""

    def add_proof(
        self, document: dict[str, Any], kid: str, *, verification_method: str, created: str
    ) -> dict[str, Any]:
        """As :meth:`Signer.add_proof` (tests/crypto/test_fastcanon.py checks they agree)."""
        from badgekiln.crypto import (
            fastcanon,  # pyld is slow to import, and a rebuild may sign nothing
        )

        signed = fastcanon.add_proof(
            document, self.private_key(kid), verification_method=verification_method, created=created
        )
        signed["proof"] = [signed["proof"]]
        return signed

    @classmethod
    def of(cls, signer: Signer) -> FastSigner:
        """The same keys as ``signer``."""
        return cls(keyring=signer.keyring, development=signer.development)


# One group to make: (name, key, unit, item). (No function of its own: a closure per group was a
# few hundred bytes, half a million times over at 100,000 awards, and each worker inherits them.)
Task = tuple[str, str, Unit, Any]
_DONE: Any = None  # what a task made and recorded is replaced with in the list of tasks

WAVE_GROUPS = 10_000  # groups (about 2,500 awards) made by one set of forked workers (see _waves)
MAX_WAVES = 16  # (each set of workers starts cold: its fonts' glyphs and its caches are made again)


def run_units(plan: SitePlan, inputs: BuildInputs, renderer: Any, cache: BuildCache | None) -> None:
    """Make (or reuse) the files of every unit of :mod:`badgekiln.outputs` into ``plan``.

    A site-wide unit makes one group of files, a per-badge unit one per badge class, a per-award
    unit one per award. With a ``cache``, a group whose key is unchanged is reused; the others
    are made, on every core when there are many. Without one, everything is made here.
    """
    with timings.phase("plan/keys setup"):
        keys = UnitKeys(
            inputs,
            renderer,
            cache.source_statuses if cache is not None else None,
            cache.source_identity if cache is not None else None,
        )
    with timings.phase("plan/keys and reuse"):
        todo = _plan_groups(plan, inputs, renderer, cache, keys)
        if cache is not None:
            cache.bundle_context = keys.bundle_context  # (kept with the state: see keys.same_bundle_context)
            if cache.opened_many():
                heap.give_back()  # (before the workers fork: see engine/heap.py)
    if todo and cache is not None:
        with timings.phase("plan/make"):
            # (the templates of the site's credential shapes the last build made: see canoncache)
            kept = (
                canoncache.Kept(
                    cache.root,
                    code_fingerprint(),
                    restored=cache.restored,
                    record=cache.canon_record,
                    key=canoncache.mac_key(inputs.signer.secret_material()),
                )
                if canoncache.wanted({module for task in todo for module in task[2].preload})
                else None
            )
            _make(plan, inputs, renderer, cache, todo)
            if kept is not None:
                kept.save()
                cache.canon_record = kept.record


def _plan_groups(
    plan: SitePlan, inputs: BuildInputs, renderer: Any, cache: BuildCache | None, keys: UnitKeys
) -> list[Task]:
    """Reuse (or, without a cache, make) every group of files; returns the groups left to make."""
    todo: list[Task] = []
    every = units()
    award_units = [unit for unit in every if unit.scope == "award"]
    # An unchanged recipient file's bundle key is the last build's when the rest of what it holds
    # is the same (most rebuilds: keys.UnitKeys.same_bundle_context), and is not computed again.
    # (Asked before the site units are keyed: its pass over the ledger's text also gives the
    # digest the "awards" part holds, which the status lists read.)
    # (Never from a cache restored from an archive: it is checked whole, as promised.)
    same_context = cache is not None and not cache.restored and keys.same_bundle_context(cache.bundle_context_read)
    for unit in every:
        if unit.scope == "site":
            _plan_one(plan, cache, todo, unit, None, unit.name, partial(keys.site, unit), inputs, renderer)
        elif unit.scope == "badge":
            for badge in inputs.project.badges.values():
                _plan_one(
                    plan,
                    cache,
                    todo,
                    unit,
                    badge,
                    f"{unit.name}/{badge.slug}",
                    partial(keys.badge, unit, badge),
                    inputs,
                    renderer,
                )
    # (the loop that runs for every award of the site: written out, no callable made per group)
    uncached = [unit for unit in award_units if not unit.cached]
    for recipient in inputs.project.recipients:
        bundle = None
        if cache is not None and recipient.location is not None:
            # A recipient file's groups are kept whole when its bundle key is unchanged (most of a
            # rebuild's files: see BuildCache.keep_bundle); else planned one by one, as below.
            bundle = recipient.location.path
            record = cache.source_identity(bundle, recipient)
            bundle_key = None
            if record is not None:
                bundle_key = (same_context and keys.covers(recipient) and cache.kept_bundle_key(bundle)) or keys.bundle(
                    recipient, record
                )
            if cache.keep_bundle(bundle, bundle_key):
                for award in recipient.awards if uncached else ():  # (no award unit is uncached today)
                    for unit in uncached:
                        _make_now(plan, unit, (recipient, award), inputs, renderer)
                continue
            cache.open_bundle(bundle, bundle_key)
        # (an award by its place among its recipient's: see _award_item. A recipient the cache
        # handed back is not decoded here, but in the workers that make its groups)
        rows = keys.recipient_rows(recipient) if cache is not None else None
        for index in range(len(rows) if rows is not None else len(recipient.awards)):
            item = (recipient, index)  # (one tuple for the award's groups)
            parts = keys.award_parts(recipient, index) if rows is not None else {}
            for unit in award_units:
                if cache is None or rows is None or not unit.cached:
                    _make_now(plan, unit, item, inputs, renderer)
                    continue
                name, key = f"award/{rows[index][models.ROW_ID]}/{unit.name}", keys.award(unit, parts)
                if not cache.reuse(plan, name, key, bundle):
                    todo.append((name, key, unit, item))
    return todo


def _plan_one(
    plan: SitePlan,
    cache: BuildCache | None,
    todo: list[Task],
    unit: Unit,
    item: Any,
    name: str,
    key: Callable[[], str],
    inputs: BuildInputs,
    renderer: Any,
) -> None:
    if cache is None or not unit.cached:
        _make_now(plan, unit, item, inputs, renderer)
        return
    group_key = key()
    if not cache.reuse(plan, name, group_key):
        todo.append((name, group_key, unit, item))


def _make_now(plan: SitePlan, unit: Unit, item: Any, inputs: BuildInputs, renderer: Any) -> None:
    """Make a group here and add its files to ``plan`` (no cache, or a unit that is never cached)."""
    made = SitePlan(secrets=plan.secrets)
    _produce(made, unit, inputs, renderer, item)
    for rel, content in made.files.items():
        plan.add(rel, content)


def _award_item(unit: Unit, item: Any) -> Any:
    """The item a unit is given: for an award unit, (recipient, award), from the (recipient, index
    of the award) a task holds (the award's model is made where its groups are)."""
    if unit.scope == "award" and type(item) is tuple and type(item[1]) is int:
        recipient, index = item
        return recipient, recipient.awards[index]
    return item


def _produce(plan: SitePlan, unit: Unit, inputs: BuildInputs, renderer: Any, item: Any) -> None:
    """Make the files of ``unit`` for ``item`` into ``plan``; only the files the unit declares,
    and, for a unit the cache keeps, from only the templates its key reads (a page made from
    another template would not be made again when that template is edited: the rebuild would
    keep a page a clean build changes). Only what ``renderer.render`` is asked for is seen: a
    unit that renders by other means (its own environment) is not checked."""
    rendered = getattr(renderer, "rendered", None)
    if rendered is not None:
        rendered.clear()
    with timings.phase(f"units/{unit.name}"):
        unit.produce(plan, inputs, renderer, _award_item(unit, item))
    undeclared = [rel for rel in plan.files if not unit.declares(rel)]
    if undeclared:
        raise OutputError(f"the {unit.name} output made files it does not declare: {', '.join(undeclared)}")
    if rendered and unit.cached and "templates" not in unit.reads:  # (a unit not cached is made on every build)
        unread = sorted(rendered.difference(*(PAGE_TEMPLATES[part] for part in unit.reads if part in PAGE_TEMPLATES)))
        if unread:
            raise OutputError(f"the {unit.name} output renders templates its key does not read: {', '.join(unread)}")


def _make(plan: SitePlan, inputs: BuildInputs, renderer: Any, cache: BuildCache, todo: list[Task]) -> None:
    """Make every group of ``todo`` and add its files to ``plan``, in order."""
    workers = min(jobs(), len(todo) // 2 or 1)
    kept = sharedkeep.Kept(
        cache.root,
        code_fingerprint(),
        restored=cache.restored,
        mac_key=canoncache.mac_key(inputs.signer.secret_material()),
    )
    if len(todo) < MIN_PARALLEL or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        _make_shared(inputs, todo, kept, parallel=False)
        _make_here(plan, inputs, renderer, cache, todo)
        return
    from badgekiln.crypto import fastcanon  # (imported once here, inherited by every worker)

    for module in sorted({module for task in todo for module in task[2].preload}):
        importlib.import_module(module)  # (what the units to make need: pyld for the credentials)

    _make_shared(inputs, todo, kept)
    _make_site_here(plan, inputs, renderer, cache, todo)
    size = max(4, min(64, len(todo) // (workers * 16)))
    chunks = [(start, min(start + size, len(todo))) for start in range(0, len(todo), size)]
    _JOB.update(todo=todo, inputs=inputs, renderer=renderer, store=cache.store, secrets=plan.secrets)
    try:
        carried: list[Any] = []  # (the text of a recipient whose awards' tasks go on in the next wave)
        for wave in _waves(chunks, len(todo)):
            # (the texts of the recipients this wave's workers decode, read here once, and let go
            # after it: see views.prefetch)
            last = todo[wave[-1][1] - 1]
            boundary = last[3][0] if last[2].scope == "award" else None
            wanted = todo[wave[0][0] : wave[-1][1]]
            fetched = carried + views.prefetch(task[3][0] for task in wanted if task[2].scope == "award")
            with pool(workers) as forked:
                for (start, stop), (made, failed, record, damaged, learnt) in zip(wave, forked.map(_make_chunk, wave)):
                    timings.merge(record)
                    if learnt:  # (templates of new shapes: the next waves fork with them, the cache keeps them)
                        fastcanon.default().learn(learnt)
                    cache.store.damaged.update(damaged)  # (blobs a worker found damaged: the build says so)
                    with timings.phase("plan/make/record"):
                        for offset, entries in enumerate(made):
                            name, key = todo[start + offset][:2]
                            cache.record(plan, name, key, entries)
                            # (a task recorded is not read again here, and the next waves fork
                            # without it: 400,000 tuples at 100,000 awards)
                            todo[start + offset] = _DONE
                    if failed is not None:  # make the rest here, where an exception is raised as it is
                        _make_here(plan, inputs, renderer, cache, todo[failed:stop])
            carried = views.let_go(fetched, keep=boundary)
        views.let_go(carried)
    finally:
        _JOB.clear()


def _make_site_here(plan: SitePlan, inputs: BuildInputs, renderer: Any, cache: BuildCache, todo: list[Task]) -> None:
    """Make the groups of the site and of each badge class (the first of ``todo``: see
    :func:`_plan_groups`) here, before any worker forks, and take them out of it.

    The site-wide ones read every award of the site (the status lists, the revocation list, the
    catalogue's counts, the portfolios), and a worker that made one wrote the reference count of
    every model it read: it copied the pages of the whole site's recipients, awards and ledger
    entries (about 80 MB for each worker of the first wave at 100,000 awards). Here the pages are
    this process's own. The badge classes' groups, which come before them, are made here too, so
    that the groups are made in the order one core makes them (the first that fails is the error
    the build reports, whatever the cores). They are few and quick: 0.3-0.5 s at 100,000 awards
    of 100 classes, most of it the classes' share cards."""
    lead = 0
    while lead < len(todo) and todo[lead][2].scope != "award":
        lead += 1
    if lead:
        _make_here(plan, inputs, renderer, cache, todo[:lead])
        del todo[:lead]  # (in place: the caller's list holds them too)


def _waves(chunks: list[tuple[int, int]], groups: int) -> list[list[tuple[int, int]]]:
    """``chunks`` in waves of about :data:`WAVE_GROUPS` groups (at most :data:`MAX_WAVES`), each
    made by workers forked for it: a worker copies each page of what it inherits that it touches
    (the models of the awards it makes: CPython writes every object's reference count), so one
    pool for a whole site of 100,000 awards grew each worker by hundreds of MB."""
    count = min(MAX_WAVES, len(chunks), max(1, round(groups / WAVE_GROUPS)))
    return [chunks[len(chunks) * wave // count : len(chunks) * (wave + 1) // count] for wave in range(count)]


def _make_shared(
    inputs: BuildInputs, todo: list[Task], kept: sharedkeep.Kept | None = None, *, parallel: bool = True
) -> None:
    """Make what the groups of ``todo`` share (:class:`badgekiln.outputs.Shared`) once, on every
    core (``parallel``) or here, and keep it here, before the workers that make the groups fork
    and inherit it; what the last build kept in the cache (``kept``) is read back instead of made,
    and what is made is kept there for the next."""
    wanted: dict[tuple[int, Hashable], Shared] = {}
    counts: dict[int, int] = {}
    warmed: set[int] = set()
    by_badge: dict[tuple[int, str], Hashable] = {}  # (a Shared's need per class, see Shared.by_badge)
    for _name, _key, unit, item in todo:
        shared = unit.shared
        if shared is None:
            continue
        if parallel and shared.warm is not None and id(shared) not in warmed:  # (here, each loads what it needs)
            warmed.add(id(shared))
            with timings.phase(f"units/{shared.name}"):
                shared.warm()
        if shared.by_badge and type(item) is tuple and type(item[0]) is views.LazyRecipient and type(item[1]) is int:
            # (a recipient the cache handed back: its award's class from its row, not its model)
            asked = (id(shared), item[0].rows[item[1]][models.ROW_BADGE])
            if asked not in by_badge:
                by_badge[asked] = shared.need(inputs, _award_item(unit, item))
            need = (id(shared), by_badge[asked])
        else:
            need = (id(shared), shared.need(inputs, _award_item(unit, item)))
        if need not in wanted and counts.get(id(shared), 0) < shared.limit:
            wanted[need] = shared
            counts[id(shared)] = counts.get(id(shared), 0) + 1
    if not wanted:
        return
    pieces: list[tuple[Shared, Hashable, str | None]] = []
    with timings.phase("plan/make/shared kept"):
        for (_, key), shared in wanted.items():
            identity = _identity(inputs, shared, key) if kept is not None else None
            if (
                kept is not None
                and identity is not None
                and _load_kept(inputs, shared, key, kept.get(shared.name, identity))
            ):
                continue
            pieces.append((shared, key, identity))
    if not pieces:
        return
    make = partial(_make_one_shared, inputs)
    if parallel:
        made = fork_map(make, pieces, min_items=2, phase="plan/make/shared")
    else:
        made = [make(piece) for piece in pieces]
    for (shared, key, identity), (ok, value, data) in zip(pieces, made):
        if ok:
            shared.keep(inputs, key, value)
            if kept is not None and identity is not None and data is not None:
                kept.put(shared.name, identity, data)
    if kept is not None:
        kept.finish()


def _identity(inputs: BuildInputs, shared: Shared, key: Hashable) -> str | None:
    """What names ``shared``'s value for ``key`` among those kept, or None (not kept: it has no
    identity, or it cannot be told, and the group that needs it raises where it should)."""
    if shared.identity is None or shared.dump is None or shared.load is None:
        return None
    try:
        return shared.identity(inputs, key)
    except Exception:  # noqa: BLE001 - see the docstring
        return None


def _load_kept(inputs: BuildInputs, shared: Shared, key: Hashable, data: bytes | None) -> bool:
    """Keep the value ``data`` holds (what the cache kept for ``key``); False if there is none to keep."""
    if data is None or shared.load is None:
        return False
    try:
        value = shared.load(data)
    except Exception:  # noqa: BLE001 - (not what dump writes, however it fails: made again, and written over)
        return False
    shared.keep(inputs, key, value)
    return True


def _make_one_shared(inputs: BuildInputs, job: tuple[Shared, Hashable, str | None]) -> tuple[bool, Any, bytes | None]:
    """(True, what ``job`` makes, its bytes to keep in the cache or None), or (False, None, None)
    if it raises: the groups that need it then make it themselves, and raise where a unit's error
    is expected."""
    shared, key, identity = job
    try:
        with timings.phase(f"units/{shared.name}"):
            value = shared.make(inputs, key)
    except Exception:  # noqa: BLE001 - see the docstring
        return False, None, None
    try:
        data = shared.dump(value) if identity is not None and shared.dump is not None else None
    except Exception:  # noqa: BLE001 - (not kept: made again next time)
        data = None
    return True, value, data


def _make_here(plan: SitePlan, inputs: BuildInputs, renderer: Any, cache: BuildCache, todo: list[Task]) -> None:
    for name, key, unit, item in todo:
        made = SitePlan(secrets=plan.secrets)
        _produce(made, unit, inputs, renderer, item)
        cache.store_group(plan, name, key, made)


def _make_chunk(
    bounds: tuple[int, int],
) -> tuple[list[list[Entry]], int | None, timings.Record, list[str], list[dict[str, Any]]]:
    """In a worker: make groups ``bounds``; returns their stored files, the index that failed, the
    worker's timings of this chunk, the blobs it found damaged (the parent reports them) and the
    canonicalization templates it made (the parent keeps them: see engine/canoncache.py)."""
    todo, inputs, renderer = _JOB["todo"], _JOB["inputs"], _JOB["renderer"]
    store, secrets = _JOB["store"], _JOB["secrets"]
    results: list[list[Entry]] = []
    timings.take()  # (what the parent had recorded before the fork is the parent's)
    for index in range(*bounds):
        check_stop()  # (the build is stopping: this chunk's results would never be read)
        try:
            made = SitePlan(secrets=secrets)
            _name, _key, unit, item = todo[index]
            _produce(made, unit, inputs, renderer, item)
            with timings.phase("units/secret scan"):
                made.check_no_secrets()
            with timings.phase("units/store"):
                results.append([(rel, *store.put(content)) for rel, content in made.files.items()])
        except Exception:  # noqa: BLE001 - the parent makes it again and raises the real error
            return results, index, timings.take(), _damaged_here(store), _learnt_here()
    return results, None, timings.take(), _damaged_here(store), _learnt_here()


def _learnt_here() -> list[dict[str, Any]]:
    """The canonicalization templates this worker made since it last said (none made: none)."""
    from badgekiln.crypto import fastcanon  # (loaded before the fork: see _make)

    return fastcanon.take_new()


def _damaged_here(store: BlobStore) -> list[str]:
    """The blobs this worker found damaged since it last said (each said once)."""
    found = sorted(store.damaged)
    store.damaged.clear()
    return found
