"""Making the site's groups of files: reused from the cache, or made, on every core when many.

:class:`Groups` is what :func:`badgekiln.build.build` calls for each kind of group (a badge
class, an award's signed documents, an award's page, the status list, the site pages). Without
a cache it simply calls the build's helper. With one, it asks :class:`badgekiln.cache.Keys` for
the group's key and reuses the files made under that key last time; the groups left to make are
made here, in worker processes when there are more than :data:`MIN_PARALLEL` of them.

Workers are forked (Linux), so they inherit the build's inputs, renderer and signer (each has
its own copy of the keys); a task is only a range of indexes into the list of groups to make.
Each worker puts the files it makes in the cache's blob store and returns their names (small
tuples), so the parent never holds the site's bytes. Results are taken in task order, so the
plan, and the output, do not depend on scheduling. A task that fails in a worker is made again
in the parent, which raises the real exception (template errors keep their line numbers).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from .cache import BuildCache, Entry, Keys
from .models import BadgeClass
from .signing import Signer
from .site import SitePlan

MIN_PARALLEL = 200  # groups to make; below this, starting workers costs more than it saves
ENV_JOBS = "BADGEKILN_JOBS"  # worker processes; 1 makes everything in the build's own process

_JOB: dict[str, Any] = {}  # the groups to make, inherited by the forked workers


def jobs() -> int:
    """How many processes make groups: ``$BADGEKILN_JOBS``, else one per usable core."""
    configured = os.environ.get(ENV_JOBS, "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class FastSigner(Signer):
    """The build's signer, whose Data Integrity proofs canonicalize through
    :mod:`badgekiln.crypto.fastcanon`: the same bytes as :class:`Signer`'s, made faster."""

    def add_proof(self, document: dict, kid: str, *, verification_method: str, created: str) -> dict:
        """As :meth:`Signer.add_proof` (tests/crypto/test_fastcanon.py checks they agree)."""
        from .crypto import fastcanon  # pyld is slow to import, and a rebuild may sign nothing

        signed = fastcanon.add_proof(document, self.private_key(kid), verification_method=verification_method,
                                     created=created)
        signed["proof"] = [signed["proof"]]
        return signed

    @classmethod
    def of(cls, signer: Signer) -> FastSigner:
        """The same keys as ``signer``."""
        return cls(keyring=signer.keyring, development=signer.development)


# One group to make: (name, key, producer). The producer adds the group's files to a plan.
Task = tuple[str, str, Callable[[SitePlan], None]]


class Groups:
    """Reuses or makes each group of files of one build."""

    def __init__(self, inputs: Any, renderer: Any, cache: BuildCache | None):
        self.inputs, self.renderer, self.cache = inputs, renderer, cache
        self.keys = Keys(inputs, renderer) if cache is not None else None

    def badge_class(self, plan: SitePlan, badge: BadgeClass, produce: Callable[..., None]) -> None:
        """``produce(plan, inputs, renderer, badge)``: a badge class's files."""
        self._one(plan, f"badge/{badge.slug}", lambda k: k.badge_class(badge), produce, self.renderer, badge)

    def status_list(self, plan: SitePlan, produce: Callable[..., None]) -> None:
        """``produce(plan, inputs)``: the signed status list."""
        self._one(plan, "status-list", Keys.status_list, produce)

    def site_pages(self, plan: SitePlan, produce: Callable[..., None]) -> None:
        """``produce(plan, inputs, renderer)``: the home page, extra pages, 404 and sitemap."""
        self._one(plan, "site-pages", Keys.site_pages, produce, self.renderer)

    def awards(self, plan: SitePlan, documents: Callable[..., None], page: Callable[..., None]) -> None:
        """Every award: ``documents(plan, inputs, recipient, award)`` and ``page(plan, inputs, renderer,
        recipient, award)``, on every core when many are to be made."""
        inputs, renderer = self.inputs, self.renderer
        todo: list[Task] = []
        for recipient in inputs.project.recipients:
            for award in recipient.awards:
                make_documents = _bind(documents, inputs, recipient, award)
                make_page = _bind(page, inputs, renderer, recipient, award)
                if self.cache is None or self.keys is None:
                    make_documents(plan)
                    make_page(plan)
                    continue
                documents_key, page_key = self.keys.award(recipient, award)
                for name, key, make in ((f"award/{award.id}/documents", documents_key, make_documents),
                                        (f"award/{award.id}/page", page_key, make_page)):
                    if not self.cache.reuse(plan, name, key):
                        todo.append((name, key, make))
        if todo:
            _make(plan, self.cache, todo)

    def _one(self, plan: SitePlan, name: str, key: Callable[[Keys], str], produce: Callable[..., None],
             *args: Any) -> None:
        if self.cache is None or self.keys is None:
            produce(plan, self.inputs, *args)
        else:
            self.cache.memo(plan, name, key(self.keys), produce, self.inputs, *args)


def _bind(produce: Callable[..., None], *args: Any) -> Callable[[SitePlan], None]:
    return lambda plan: produce(plan, *args)


def _make(plan: SitePlan, cache: BuildCache, todo: list[Task]) -> None:
    """Make every group of ``todo`` and add its files to ``plan``, in order."""
    workers = min(jobs(), len(todo) // 2 or 1)
    if len(todo) < MIN_PARALLEL or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        _make_here(plan, cache, todo)
        return
    size = max(4, min(64, len(todo) // (workers * 16)))
    chunks = [(start, min(start + size, len(todo))) for start in range(0, len(todo), size)]
    from .crypto import fastcanon  # noqa: F401 - imported once here, inherited by every worker
    _JOB.update(todo=todo, store=cache.store, secrets=plan.secrets)
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            for (start, stop), (made, failed) in zip(chunks, pool.map(_make_chunk, chunks)):
                for offset, entries in enumerate(made):
                    name, key, _ = todo[start + offset]
                    cache.record(plan, name, key, entries)
                if failed is not None:  # make the rest here, where an exception is raised as it is
                    _make_here(plan, cache, todo[failed:stop])
    finally:
        _JOB.clear()


def _make_here(plan: SitePlan, cache: BuildCache, todo: list[Task]) -> None:
    for name, key, make in todo:
        made = SitePlan(secrets=plan.secrets)
        make(made)
        cache.store_group(plan, name, key, made)


def fork_map(function: Callable[[Any], Any], items: list[Any], *, min_items: int = MIN_PARALLEL) -> list[Any]:
    """``[function(item) for item in items]``, on every core when there are at least ``min_items``.

    ``function`` and ``items`` reach the forked workers by inheritance; results come back pickled,
    in order. An item whose call fails in a worker is called again here (with the ones after it in
    its chunk), so its exception is raised as it is.
    """
    workers = min(jobs(), len(items) // 2 or 1)
    if len(items) < min_items or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [function(item) for item in items]
    size = max(4, min(64, len(items) // (workers * 16)))
    chunks = [(start, min(start + size, len(items))) for start in range(0, len(items), size)]
    _JOB.update(function=function, items=items)
    results: list[Any] = []
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            for (_, stop), (done, failed) in zip(chunks, pool.map(_map_chunk, chunks)):
                results += done
                if failed is not None:
                    results += [function(item) for item in items[failed:stop]]
    finally:
        _JOB.clear()
    return results


def _map_chunk(bounds: tuple[int, int]) -> tuple[list[Any], int | None]:
    function, items = _JOB["function"], _JOB["items"]
    done = []
    for index in range(*bounds):
        try:
            done.append(function(items[index]))
        except Exception:  # noqa: BLE001 - the parent calls it again and raises the real error
            return done, index
    return done, None


def _make_chunk(bounds: tuple[int, int]) -> tuple[list[list[Entry]], int | None]:
    """In a worker: make groups ``bounds``; returns their stored files, and the index that failed."""
    todo, store, secrets = _JOB["todo"], _JOB["store"], _JOB["secrets"]
    results: list[list[Entry]] = []
    for index in range(*bounds):
        try:
            made = SitePlan(secrets=secrets)
            todo[index][2](made)
            made.check_no_secrets()
            results.append([(rel, *store.put(content)) for rel, content in made.files.items()])
        except Exception:  # noqa: BLE001 - the parent makes it again and raises the real error
            return results, index
    return results, None
