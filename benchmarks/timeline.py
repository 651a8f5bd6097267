"""Where a build's memory goes over time: one ``badgekiln build`` of a site, the proportional set
(PSS) and private memory of each of its processes sampled every second, with the phases the
build's process enters (``timings.phase``) on the same clock.

    python benchmarks/timeline.py SITE [--interval 1.0] [--out FILE] [-- options of the build]

``bench.py`` reports a build's peak; this says when it happens and which process holds it (the
build's own, or the workers it forks: a worker's PSS counts its share of the pages it still shares
with the build's process, its private memory what it made or copied). Keys and cache come from
the environment as for any build (``BADGEKILN_KEYS_DIR``, ``XDG_CACHE_HOME``); the build's
options default to ``--today`` of the synthetic sites (benchmarks/sitegen.py).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sitegen  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"

# The build, with each phase's start and end written to the file named by argv[1].
CHILD = r"""
import contextlib, sys, time
from badgekiln.engine import timings
log = open(sys.argv[1], "w", buffering=1)
phase = timings.phase
@contextlib.contextmanager
def logged(name):
    if not name.startswith("units/"):
        log.write(f"{time.time():.2f} start {name}\n")
    with phase(name):
        yield
    if not name.startswith("units/"):
        log.write(f"{time.time():.2f} end {name}\n")
timings.phase = logged
from badgekiln.cli import run
run(sys.argv[2:])
"""


def tree(root: int) -> list[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def memory(pid: int) -> tuple[int, int] | None:
    """(PSS, private) of ``pid`` in MiB, or None if it is gone."""
    pss = private = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith(("Private_Dirty:", "Private_Clean:")):
                    private += int(line.split()[1])
    except (OSError, ValueError):
        return None
    return pss // 1024, private // 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between samples (default 1)")
    parser.add_argument(
        "--out",
        type=Path,
        default=RESULTS / "timeline.txt",
        help="default: benchmarks/results/timeline.txt (git-ignored)",
    )
    argv = sys.argv[1:] if argv is None else argv
    ours, build = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    args = parser.parse_args(ours)
    options = build or ["--today", sitegen.TODAY.isoformat()]
    with tempfile.NamedTemporaryFile("r", suffix=".phases") as phases:
        command = [sys.executable, "-c", CHILD, phases.name, "build", "--source", str(args.site), *options]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        start, samples = time.time(), []
        while process.poll() is None:
            now = time.time() - start
            parts = [(pid, found) for pid in tree(process.pid) if (found := memory(pid)) is not None]
            samples.append((now, parts))
            time.sleep(args.interval)
        first: dict[str, float] = {}  # (a phase entered many times, per chunk of a wave: its first start, last end)
        last: dict[str, float] = {}
        for line in phases:
            stamp, what, name = line.rstrip("\n").split(" ", 2)
            if what == "start":
                first.setdefault(name, float(stamp) - start)
            else:
                last[name] = float(stamp) - start
        events = [(at, "end", name) for name, at in last.items()] + [(at, "start", name) for name, at in first.items()]
    lines = [(now, f"{what} {name}") for now, what, name in events]
    for now, parts in samples:
        each = " ".join(f"{pid}:{pss}/{private}" for pid, (pss, private) in parts)
        lines.append((now, f"tree PSS {sum(found[0] for _pid, found in parts):6d} MiB  pid:PSS/private {each}"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as out:
        out.writelines(f"{now:8.2f} s  {text}\n" for now, text in sorted(lines, key=lambda line: line[0]))
    peak = max(samples, key=lambda sample: sum(found[0] for _pid, found in sample[1]), default=None)
    if peak is not None:
        print(f"peak {sum(found[0] for _pid, found in peak[1])} MiB at {peak[0]:.1f} s; every sample in {args.out}")
    if process.returncode:
        sys.exit(f"the build failed ({process.returncode})")


if __name__ == "__main__":
    main()
