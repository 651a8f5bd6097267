"""Where a build's time goes: its phases, timed as it runs.

Always on: a phase costs two clock reads at each end (a microsecond or so), and there are a few
per group of files made. Each phase records CPU time (this process's), wall time and a count.
Names with a ``/`` are parts of the phase before it (``units/award-page`` is inside ``units``),
so the top-level phases do not overlap. Forked workers time their own work and send it back with
their results (:func:`take`), so the parent's record covers every process of the build.

``badgekiln build --timings`` prints the record; ``$BADGEKILN_TIMINGS`` names a file to write it
to as JSON (what ``benchmarks/bench.py`` reads).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENV_TIMINGS = "BADGEKILN_TIMINGS"  # a file to write the build's timings to, as JSON

# phase name -> [CPU seconds, wall seconds, count]; in the order phases first ran
Record = dict[str, list[float]]

_RECORD: Record = {}


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Time the block as the phase ``name`` (added to earlier runs of the same phase)."""
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        yield
    finally:
        add(name, time.process_time() - cpu, time.perf_counter() - wall)


def add(name: str, cpu: float, wall: float, count: int = 1) -> None:
    """Add a measurement of the phase ``name``."""
    entry = _RECORD.get(name)
    if entry is None:
        _RECORD[name] = [cpu, wall, count]
    else:
        entry[0] += cpu
        entry[1] += wall
        entry[2] += count


def take() -> Record:
    """This process's record, emptied (a worker's record, sent back with its results)."""
    taken = dict(_RECORD)
    _RECORD.clear()
    return taken


def merge(record: Record) -> None:
    """Add a worker's record (from :func:`take`) to this process's."""
    for name, (cpu, wall, count) in record.items():
        add(name, cpu, wall, int(count))


def snapshot() -> Record:
    """A copy of this process's record, with ``other`` (this process's CPU time outside every
    phase: start-up, imports), ``total`` (its CPU time since it started) and ``workers`` (the CPU
    time of the worker processes it waited for)."""
    record = {name: list(values) for name, values in _RECORD.items()}
    times = os.times()
    total = time.process_time()
    record["other"] = [total - sum(values[0] for name, values in record.items() if "/" not in name), 0.0, 1]
    record["total"] = [total, 0.0, 1]
    record["workers"] = [times.children_user + times.children_system, 0.0, 1]
    return record


def table(record: Record) -> str:
    """The record as a text table: each top-level phase, then its parts indented below it (a
    phase known only by its parts, such as ``units``, shows their sum)."""
    children: dict[str, list[str]] = {}
    for name in record:
        parent = name.rsplit("/", 1)[0] if "/" in name else ""
        while True:  # (a part whose parent never ran as a phase of its own hangs from the nearest one)
            children.setdefault(parent, [])
            if name not in children[parent]:
                children[parent].append(name)
            if parent == "" or parent in record:
                break
            name, parent = parent, parent.rsplit("/", 1)[0] if "/" in parent else ""
    lines = [f"{'phase':<36} {'CPU s':>8} {'wall s':>8} {'count':>8}"]

    def show(name: str, depth: int) -> None:
        cpu, wall, count = record.get(name) or _sum(record, name)
        label = "  " * depth + name.rsplit("/", 1)[-1]
        lines.append(f"{label:<36} {cpu:>8.3f} {wall:>8.3f} {int(count):>8}")
        for child in children.get(name, []):
            show(child, depth + 1)

    for name in children[""]:
        show(name, 0)
    return "\n".join(lines)


def _sum(record: Record, prefix: str) -> list[float]:
    parts = [
        values
        for name, values in record.items()
        if name.startswith(prefix + "/") and "/" not in name[len(prefix) + 1 :]
    ]
    return [sum(p[0] for p in parts), sum(p[1] for p in parts), max((p[2] for p in parts), default=0)]


def write(path: Path, record: Record) -> None:
    """Write the record as JSON to ``path``."""
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
