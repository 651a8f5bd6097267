"""Work on every core: forked worker processes that inherit what they work on.

Workers are forked (Linux), so they inherit the caller's data (the build's inputs, renderer and
keys); a task is only a range of indexes into a list (or, for many items that are large together,
the items themselves: see :func:`fork_map`'s ``send``). Results come back pickled, in order, so
nothing depends on scheduling. A task that fails in a worker is done again in the parent, which
raises the real exception.

A forked worker shares the parent's memory until it writes to it, and CPython's cyclic garbage
collector writes to every object it looks at: a worker's first full collection would copy most of
the parent (the project, the plan, the cache's records), once per worker. :func:`pool` therefore
moves everything that exists at the fork out of the collector's sight (``gc.freeze``) while the
workers run.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from badgekiln.engine import timings

MIN_PARALLEL = 200  # tasks; below this, starting workers costs more than it saves
ENV_JOBS = "BADGEKILN_JOBS"  # worker processes; 1 does everything in the build's own process

_JOB: dict[str, Any] = {}  # what the forked workers work on, inherited
_FROZEN = [0, False]  # freezes open now (they nest), and whether the outermost gives its objects back


def jobs() -> int:
    """How many processes make groups: ``$BADGEKILN_JOBS``, else one per usable core."""
    configured = os.environ.get(ENV_JOBS, "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@contextmanager
def frozen() -> Iterator[None]:
    """Keep every object that exists now out of the cyclic garbage collector's sight for the
    block (``gc.freeze``): what a build holds for its whole length (a full collection walked it
    again and again), what forked workers inherit (see the module docstring).

    Blocks nest (the build's, then each pool's): each freezes what was made since, and the
    outermost gives everything back when it ends (``serve`` builds again and again in one
    process), unless objects were frozen before it by someone else (that would be undone).
    """
    if _FROZEN[0] == 0:
        _FROZEN[1] = gc.get_freeze_count() == 0
    gc.freeze()
    _FROZEN[0] += 1
    try:
        yield
    finally:
        _FROZEN[0] -= 1
        if _FROZEN[0] == 0 and _FROZEN[1]:
            gc.unfreeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection in the block (as it was, after), and what the block made
    frozen (:func:`frozen`, which the block must be inside): for reading the sources and the
    cache's state, which make millions of objects that live as long as the build and form no
    cycles. The collector ran again and again over the growing heap meanwhile (at 100,000
    awards, more than half of decoding the cached sources, 0.8 s of 1.3, and of parsing the
    state), and once more over all of it, young, just after the block, had it not been frozen."""
    if _FROZEN[0] == 0:
        raise RuntimeError("collector_paused() is used inside frozen(), which gives the objects back")
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


@contextmanager
def pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """``workers`` forked processes, forked with every object of this process frozen (:func:`frozen`).

    Workers do not run the handlers of stop signals the build's process installed: inherited, a
    handler that raises would be caught as one task's failure and the worker would go on with
    the next. A worker dies of SIGTERM or SIGHUP as a plain process does, and ignores SIGINT
    (Ctrl-C reaches the whole process group: the build's process hears it and stops them, so the
    command says "interrupted" rather than that its workers died).

    When the block ends with an exception (Ctrl-C, a signal, an error), the workers are stopped
    and reaped before it goes on: nothing of theirs runs, or writes, once the caller cleans up
    (``serve`` removes its folder). They are asked (:func:`check_stop`, between items) rather than
    killed: a worker killed while it sends a result leaves half a message in the pipe, which the
    pool's own thread then waits for forever (the command hung after "interrupted"). Only one
    that does not stop within :data:`STOP_WAIT` seconds is killed.
    """
    with frozen():
        context = multiprocessing.get_context("fork")
        stop = context.Event()
        with _LIVE_LOCK:
            if _CLOSED[0]:
                raise Stopped("the process is stopping: no new worker processes")
            forked = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_start, initargs=(stop,))
            _LIVE[forked] = stop
        try:
            yield forked
            forked.shutdown(wait=True)
        except BaseException:
            _stop_workers(forked, stop)
            raise
        finally:
            with _LIVE_LOCK:
                _LIVE.pop(forked, None)


class Beside:
    """``function()`` run in one forked process while this one goes on; :meth:`result` waits for
    its answer. The process inherits what ``function`` reads (nothing is sent to it), writes its
    result (pickled) into a file without a name that it shares with this process, and ends at
    once: it never waits for more work (a pool's idle worker, orphaned by a build killed with
    SIGKILL, waited for ever and held the pipes of whoever ran the build), nor for this process to
    read its answer (blocked on a full pipe, it lived through the whole build, holding a copy of
    every page the build wrote meanwhile). Without fork (not Linux), or when the process cannot
    be made, nothing is started: :attr:`started` is False, and the caller does the work itself.
    """

    def __init__(self, function: Callable[[], Any]):
        self._pid: int | None = None
        self._answer: Any = None
        if not hasattr(os, "fork"):
            return
        try:
            answer = tempfile.TemporaryFile()  # (no name: O_TMPFILE, or removed at once)
        except OSError:  # (out of file descriptors or room)
            return
        with frozen():  # (what the process inherits stays out of the collector's sight: see the module's text)
            held = _hold_stops()  # (a stop signal reaches the new process only once it has its own handlers)
            try:
                pid = os.fork()
            except OSError:  # (out of processes or memory)
                _release_stops(held)
                answer.close()
                return
            if pid == 0:  # pragma: no cover - the forked process (its work is tested through the parent)
                try:
                    _run_beside(function, answer.fileno(), held)
                finally:
                    os._exit(1)  # (whatever happened: never the caller's code, in this process)
            self._pid, self._answer = pid, answer
            try:
                _release_stops(held)  # (Ctrl-C held back until now is raised here)
            except BaseException:
                self.discard()
                raise

    @property
    def started(self) -> bool:
        return self._pid is not None

    def result(self) -> Any:
        """The function's result, its timings added to this process's; raises what it raised, or
        :class:`BesideFailed` when the process ended without an answer. Interrupted while it
        waits (Ctrl-C), the process is killed, not waited for."""
        if self._pid is None:
            raise BesideFailed("nothing runs beside this process")
        answer = self._answer
        try:
            self._end(kill=False)
        except BaseException:
            self.discard()
            raise
        self._answer = None
        try:
            answer.seek(0)
            data = answer.read()
        except OSError as exc:
            raise BesideFailed("the answer of the process beside could not be read") from exc
        finally:
            answer.close()
        try:
            done, value, record = pickle.loads(data)
        except Exception as exc:  # noqa: BLE001 - cut short (the process died) or not ours
            raise BesideFailed("the process beside ended without an answer") from exc
        if not done:
            raise value
        timings.merge(record)
        return value

    def discard(self) -> None:
        """End the process now, its answer unread (the build failed, or is stopping)."""
        self._end(kill=True)

    def _end(self, *, kill: bool) -> None:
        """Wait for the process (killed first if ``kill``); its answer's file is closed when it
        was killed (else :meth:`result` reads it)."""
        pid = self._pid
        if pid is not None:
            if kill:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)  # (interrupted, it raises: the caller kills the process, see result)
            self._pid = None
        if kill and self._answer is not None:
            self._answer.close()
            self._answer = None


class BesideFailed(RuntimeError):
    """The process of a :class:`Beside` ended without an answer."""


def _hold_stops() -> Any:
    """Hold back the stop signals in this thread (see :class:`Beside`); returns the mask before."""
    return signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS) if hasattr(signal, "pthread_sigmask") else None


def _release_stops(held: Any) -> None:
    """Deliver the stop signals :func:`_hold_stops` held back (``held``: the mask before)."""
    if held is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _run_beside(function: Callable[[], Any], answer: int, held: Any) -> None:  # pragma: no cover - forked
    """In the process of a :class:`Beside`: write ``(done, result or exception, timings)`` into
    the file ``answer`` and end (never returns: ``os._exit``, so nothing of the parent's runs
    here, its buffered output not flushed twice and no exit handler run). Stop signals: Ctrl-C
    is the build's to handle (ignored here), SIGTERM and SIGHUP end this process. Without the
    cyclic collector: the process ends at once (parsing a snapshot with it took 2.4 times as long)."""
    code = 0
    try:
        gc.disable()
        for number in STOP_SIGNALS:
            signal.signal(number, signal.SIG_IGN if number == signal.SIGINT else signal.SIG_DFL)
        _release_stops(held)
        timings.take()  # (what the parent had recorded before the fork is the parent's)
        try:
            reply = (True, function(), timings.take())
        except Exception as exc:  # noqa: BLE001 - sent back: the parent decides
            reply = (False, exc, {})
        try:
            payload = pickle.dumps(reply)
        except Exception as exc:  # noqa: BLE001 - a result or exception that does not pickle
            payload = pickle.dumps((False, BesideFailed(f"its answer could not be sent: {exc!r}"), {}))
        view = memoryview(payload)
        while view:
            view = view[os.write(answer, view) :]
    except BaseException:  # noqa: BLE001 - whatever happens, this process ends here
        code = 1
    finally:
        os._exit(code)


class Stopped(RuntimeError):
    """The pool is being stopped (in a worker, between items), or a pool was asked for after
    :func:`stop_all` (the process is stopping)."""


STOP_WAIT = 10.0  # seconds for the workers to finish the item they are making, once asked to stop
_LIVE: dict[ProcessPoolExecutor, Any] = {}  # pools open now, in any thread, with their stop events
_LIVE_LOCK = threading.Lock()
_CLOSED = [False]
_WORKER_STOP: list[Any] = [None]  # in a worker: its pool's stop event
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def _worker_start(stop: Any) -> None:
    """In a worker, first: SIGTERM and SIGHUP end it, SIGINT is left to the build's process (see
    :func:`pool`); ``stop`` is the event that asks it to stop."""
    for number in STOP_SIGNALS:
        signal.signal(number, signal.SIG_IGN if number == signal.SIGINT else signal.SIG_DFL)
    _WORKER_STOP[0] = stop


def check_stop() -> None:
    """In a worker, between items: raise :class:`Stopped` when its pool is being stopped."""
    event = _WORKER_STOP[0]
    if event is not None and event.is_set():
        raise Stopped("the build is stopping")


def _stop_workers(forked: ProcessPoolExecutor, stop: Any, *, wait: float = STOP_WAIT) -> None:
    """Ask the pool's workers to stop (``stop``: their event, if any), drop what is queued, and wait
    until they are gone, killing those that have not stopped within ``wait`` seconds."""
    if stop is not None:
        stop.set()
    processes = list((getattr(forked, "_processes", None) or {}).values())
    # (taken now: shutdown() lets go of the result queue, even without waiting)
    writer = getattr(getattr(forked, "_result_queue", None), "_writer", None)
    manager = getattr(forked, "_executor_manager_thread", None)
    forked.shutdown(wait=False, cancel_futures=True)
    # A worker already ended by a signal leaves a pool that cannot end by itself (its thread may
    # wait for the rest of a message, and the others for work that never comes): end it now.
    deadline = time.monotonic() + (0 if _killed(processes) else wait)
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            process.join(timeout=max(0.0, deadline - time.monotonic()))
    late = [process for process in processes if process.exitcode is None]
    for process in late:
        with contextlib.suppress(OSError, ValueError):
            process.kill()
    for process in late:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            process.join(timeout=5)
    if _killed(processes):
        _close(writer)
    # The pool's own thread reaps the workers too: until it has noted what it reaped, a worker
    # it took from under our join still reads as running (and would be counted as alive).
    if manager is not None:
        manager.join(timeout=5)


def _killed(processes: list[Any]) -> bool:
    """Whether a worker ended by a signal (ours, or one sent to the group): it may have been cut
    off in the middle of sending a result, which the pool's thread would wait for forever."""
    return any(process.exitcode is not None and process.exitcode < 0 for process in processes)


def kill_pool(forked: ProcessPoolExecutor) -> None:
    """End ``forked`` now, its work unfinished and unread: every worker killed (SIGKILL), and the
    pool's thread, which may wait for the rest of a message a worker was cut off in the middle
    of, let go (see :func:`_close`)."""
    _stop_workers(forked, None, wait=0)


def _close(writer: Any) -> None:
    """Close this process's end of the results pipe: with the workers' ends gone, the pool's
    thread then reads the end of the pipe instead of waiting for the rest of a message."""
    if writer is not None:
        with contextlib.suppress(OSError):
            writer.close()


def stop_all() -> None:
    """Stop the workers of every pool open now, in whichever thread it runs, and refuse new pools
    until :func:`reopen` (``serve`` stopping while its watcher rebuilds: the rebuild then fails
    at once, instead of placing files in a folder about to be removed)."""
    with _LIVE_LOCK:
        _CLOSED[0] = True
        events = list(_LIVE.values())
    for stop in events:
        stop.set()


def reopen() -> None:
    """Allow pools again after :func:`stop_all`."""
    with _LIVE_LOCK:
        _CLOSED[0] = False


def fork_map(
    function: Callable[[Any], Any],
    items: list[Any],
    *,
    min_items: int = MIN_PARALLEL,
    phase: str = "workers",
    send: bool = False,
) -> list[Any]:
    """``[function(item) for item in items]``, on every core when there are at least ``min_items``.

    ``phase``: the name under which workers record their time (:mod:`badgekiln.engine.timings`).
    ``function`` and ``items`` reach the forked workers by inheritance; results come back pickled,
    in order. An item whose call fails in a worker is called again here (with the ones after it in
    its chunk), so its exception is raised as it is.

    ``send``: each chunk's items are sent to the worker (pickled) instead of inherited. For many
    items that are large together: a worker that reads an inherited object writes its reference
    count, and so copies the memory page that holds it. The 400,000 records of stored groups a
    clean build of 100,000 awards writes (about 125 MB of text) were copied by the two workers
    that placed them, half each, at the end of the build: its peak.
    """
    workers = min(jobs(), len(items) // 2 or 1)
    if len(items) < min_items or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [function(item) for item in items]
    size = max(4, min(64, len(items) // (workers * 16)))
    chunks = [(start, min(start + size, len(items))) for start in range(0, len(items), size)]
    _JOB.update(function=function, items=None if send else items, phase=phase)
    tasks = ((start, stop, items[start:stop] if send else None) for start, stop in chunks)
    results: list[Any] = []
    try:
        with pool(workers) as forked:
            for (_, stop), (done, failed, record) in zip(chunks, forked.map(_map_chunk, tasks)):
                timings.merge(record)
                results += done
                if failed is not None:
                    results += [function(item) for item in items[failed:stop]]
    finally:
        _JOB.clear()
    return results


def _map_chunk(task: tuple[int, int, list[Any] | None]) -> tuple[list[Any], int | None, timings.Record]:
    """In a worker: call the function on items ``start`` to ``stop`` (those sent, or else the
    inherited ones); returns the results, the index that failed, and the worker's timings of
    this chunk."""
    function = _JOB["function"]
    start, stop, sent = task
    items, offset = (_JOB["items"], 0) if sent is None else (sent, start)
    done: list[Any] = []
    failed = None
    timings.take()  # (what the parent had recorded before the fork is the parent's)
    with timings.phase(_JOB["phase"]):
        for index in range(start, stop):
            check_stop()
            try:
                done.append(function(items[index - offset]))
            except Exception:  # noqa: BLE001 - the parent calls it again and raises the real error
                failed = index
                break
    return done, failed, timings.take()
