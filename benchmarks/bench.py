"""Benchmark badgekiln builds of synthetic sites, next to the floor measured in the same run.

    python benchmarks/bench.py                      # 1,000 awards (a few minutes on 2 cores)
    python benchmarks/bench.py --sizes 1000,10000   # and 10,000
    python benchmarks/bench.py --sizes 100000 --scenarios clean,noop
    python benchmarks/bench.py --profile 1000       # cProfile of one clean build, serial

For each size it generates a site (``sitegen.py``: real keys in a temporary keys folder, a
temporary ``XDG_CACHE_HOME``), then times, each build in its own ``badgekiln build`` process:

* ``clean``: no output/ and no .badgekiln/ cache;
* ``noop``: the same sources again;
* ``add``: one more award in one recipient file;
* ``revoke``: one award revoked;
* ``edit-badge``: one badge class's description edited (every award of that badge changes);

recording wall time, CPU time (user + system, the build's worker processes included), the
peak RSS of the largest process, the peak proportional set size of the whole process tree
(sampled every 20 ms: what the build really holds in memory), and the output's files and bytes.
After the clean build it measures the floor (``floor.py``) on the same machine. It prints a
table and writes ``benchmarks/results/<time>.json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO / "src"), str(HERE)]

import floor  # noqa: E402
import sitegen  # noqa: E402

SCENARIOS = ("clean", "noop", "add", "revoke", "edit-badge")
TODAY = sitegen.TODAY.isoformat()
BUILD = "import sys; from badgekiln.cli import main; main(sys.argv[1:])"
PROFILE = (
    "import cProfile, sys; from badgekiln.cli import main\n"
    "try:\n    cProfile.run('main(sys.argv[2:])', sys.argv[1])\nexcept SystemExit:\n    pass\n"
)


def snapshot_code(work: Path) -> Path:
    """A copy of src/badgekiln to build with: edits made to the tree during a run change nothing.

    (The cache keys on badgekiln's own files, so an edit mid-run would make every build a clean one.)
    """
    target = work / "src"
    shutil.copytree(
        REPO / "src" / "badgekiln", target / "badgekiln", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    return target


def _environment(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(work / "src"), env.get("PYTHONPATH")]))
    env["BADGEKILN_KEYS_DIR"] = str(work / "keys")
    env["XDG_CACHE_HOME"] = str(work / "xdg-cache")
    env.pop("BADGEKILN_PRIVATE_KEYS", None)
    env.pop("SOURCE_DATE_EPOCH", None)
    return env


class TreeMemory(threading.Thread):
    """Samples the proportional set size (PSS) of a process and its descendants."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_kib, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.peak_kib = max(self.peak_kib, sum(_pss(p) for p in _tree(self.pid)))

    def stop(self) -> int:
        self.done.set()
        self.join()
        return self.peak_kib


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _pss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_build(site: Path, env: dict[str, str], *, profile: Path | None = None) -> dict:
    """One ``badgekiln build`` in its own process: times, memory and what it printed."""
    args = ["build", "--source", str(site), "--today", TODAY]
    command = [sys.executable, "-c", PROFILE, str(profile), *args] if profile else [sys.executable, "-c", BUILD, *args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        sampler = TreeMemory(process.pid)
        sampler.start()
        # wait4, not Popen.wait: its rusage covers the build and the worker processes it reaped.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        peak_pss = sampler.stop()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise RuntimeError(f"build failed ({process.returncode}):\n{stderr.decode()[-3000:]}")
    match = re.search(rb"built (\d+) files .*\((\d+) written, (\d+) unchanged\)", stdout)
    files, size = _output_size(site / "output")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "peak_tree_pss_mib": peak_pss / 1024,
        "files": files,
        "bytes": size,
        "written": int(match[2]) if match else None,
        "unchanged": int(match[3]) if match else None,
    }


def _output_size(output: Path) -> tuple[int, int]:
    files = size = 0
    for folder, _, names in os.walk(output):
        for name in names:
            files += 1
            size += os.lstat(os.path.join(folder, name)).st_size
    return files, size


# --- the edits of each scenario ---------------------------------------------------------------


def edit_add(site: Path) -> None:
    """Append one award (with its id) to the first recipient file."""
    path = sorted((site / "recipients").iterdir())[0]
    badge = sorted((site / "badges").iterdir())[0].stem
    text = path.read_text(encoding="utf-8").rstrip("\n")
    path.write_text(
        text + f"\n  - id: bench-added-1\n    badge: {badge}\n    issued_on: 2026-11-01\n", encoding="utf-8"
    )


def edit_revoke(site: Path) -> None:
    """Revoke the first award of the second recipient file (unless it is revoked already)."""
    path = sorted((site / "recipients").iterdir())[1]
    lines = path.read_text(encoding="utf-8").splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("  - id:"))
    block_end = next((i for i in range(first + 1, len(lines)) if lines[i].startswith("  - ")), len(lines))
    if any("revoked:" in line for line in lines[first:block_end]):
        raise RuntimeError(f"{path.name}: the award to revoke is revoked already")
    lines[block_end:block_end] = ["    revoked:", "      on: 2026-11-20", "      reason: Benchmark revocation"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def edit_badge(site: Path) -> None:
    """Edit the description of the first badge class."""
    path = sorted((site / "badges").iterdir())[0]
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("description: Holder can", "description: The holder can", 1), encoding="utf-8")


EDITS = {"add": edit_add, "revoke": edit_revoke, "edit-badge": edit_badge}


def bench_size(awards: int, work: Path, scenarios: list[str], *, with_floor: bool) -> dict:
    """Generate a site of ``awards`` awards and run the scenarios on it."""
    env = _environment(work)
    site = work / f"site-{awards}"
    os.environ.update({k: env[k] for k in ("BADGEKILN_KEYS_DIR", "XDG_CACHE_HOME")})
    start = time.perf_counter()
    summary = sitegen.generate_site(site, awards)
    summary["generate_s"] = time.perf_counter() - start
    result: dict = {"awards": awards, "site": summary, "scenarios": {}}
    for scenario in scenarios:
        if scenario == "clean":
            shutil.rmtree(site / "output", ignore_errors=True)
            shutil.rmtree(site / ".badgekiln", ignore_errors=True)
        else:
            EDITS.get(scenario, lambda s: None)(site)
        print(f"  {awards:>7,} awards: {scenario} ...", file=sys.stderr, flush=True)
        result["scenarios"][scenario] = run_build(site, env)
        print(
            f"  {awards:>7,} awards: {scenario}: {result['scenarios'][scenario]['wall_s']:.1f} s",
            file=sys.stderr,
            flush=True,
        )
        if scenario == "clean" and with_floor:
            print(f"  {awards:>7,} awards: floor ...", file=sys.stderr, flush=True)
            result["floor"] = floor.measure_floor(site, work / "keys", awards)
    return result


def targets(results: list[dict]) -> list[tuple[str, str, bool | None]]:
    """The issue's targets, judged on these results (None: not measured)."""
    by_size = {r["awards"]: r for r in results}
    checks: list[tuple[str, str, bool | None]] = []
    ten = by_size.get(10_000)
    if ten and "clean" in ten["scenarios"] and "floor" in ten:
        ratio = ten["scenarios"]["clean"]["wall_s"] / ten["floor"]["wall_s"]
        checks.append(("10k full build <= 3x floor", f"{ratio:.2f}x", ratio <= 3))
    for scenario, label in (
        ("noop", "10k no-op rebuild < 3 s"),
        ("add", "10k add one award < 3 s"),
        ("revoke", "10k revoke one award < 3 s"),
    ):
        wall = ten["scenarios"].get(scenario, {}).get("wall_s") if ten else None
        checks.append((label, f"{wall:.2f} s" if wall is not None else "-", wall < 3 if wall is not None else None))
    hundred = by_size.get(100_000)
    peak = max((s["peak_tree_pss_mib"] for s in hundred["scenarios"].values()), default=None) if hundred else None
    checks.append(("100k peak memory < 2 GB", f"{peak:.0f} MiB" if peak else "-", peak < 2048 if peak else None))
    checks.append(
        (
            "100k full build completes",
            "yes" if hundred and "clean" in hundred["scenarios"] else "-",
            True if hundred and "clean" in hundred["scenarios"] else None,
        )
    )
    return checks


def table(results: list[dict]) -> str:
    """The results as a Markdown table."""
    rows = [
        "| awards | scenario | wall s | CPU s | ms/award (wall) | peak RSS MiB | peak tree PSS MiB | files | output MiB | written |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        for name, s in r["scenarios"].items():
            rows.append(
                f"| {r['awards']:,} | {name} | {s['wall_s']:.2f} | {s['cpu_s']:.2f} | "
                f"{s['wall_s'] / r['awards'] * 1000:.2f} | {s['peak_rss_mib']:.0f} | {s['peak_tree_pss_mib']:.0f} | "
                f"{s['files']:,} | {s['bytes'] / 2**20:.0f} | {s['written'] if s['written'] is not None else '-'} |"
            )
        if "floor" in r:
            f = r["floor"]
            rows.append(
                f"| {r['awards']:,} | floor ({f['workers']} cores) | {f['wall_s']:.2f} | {f['cpu_s']:.2f} | "
                f"{f['wall_s'] / r['awards'] * 1000:.2f} | | | | | |"
            )
    lines = ["\n".join(rows), ""]
    for r in results:
        if "floor" in r:
            parts = ", ".join(f"{k} {v:.3f}" for k, v in r["floor"]["per_award_ms_single_core"].items())
            lines.append(f"floor per award at {r['awards']:,}, one core, ms: {parts}")
    lines.append("")
    lines += ["| target | measured | met |", "|---|---|---|"]
    lines += [
        f"| {label} | {value} | {'-' if ok is None else ('yes' if ok else 'NO')} |"
        for label, value, ok in targets(results)
    ]
    return "\n".join(lines)


def profile(awards: int, work: Path) -> Path:
    """cProfile one clean, serial build (BADGEKILN_JOBS=1) and print the top costs."""
    import pstats

    env = _environment(work)
    env["BADGEKILN_JOBS"] = "1"
    os.environ.update({k: env[k] for k in ("BADGEKILN_KEYS_DIR", "XDG_CACHE_HOME")})
    site = work / f"profile-{awards}"
    sitegen.generate_site(site, awards)
    out = HERE / "results" / f"profile-{awards}.prof"
    out.parent.mkdir(exist_ok=True)
    run_build(site, env, profile=out)
    stats = pstats.Stats(str(out))
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000", help="comma-separated award counts (default: 1000)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"subset of {','.join(SCENARIOS)}")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor measurement")
    parser.add_argument("--workdir", type=Path, help="where to put the sites (default: a temporary folder, removed)")
    parser.add_argument("--keep", action="store_true", help="keep the sites (and keys) in the work folder")
    parser.add_argument("--profile", type=int, metavar="AWARDS", help="profile one clean build instead")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="badgekiln-bench-", dir=args.workdir))
    snapshot_code(work)
    try:
        if args.profile:
            print(f"profile written to {profile(args.profile, work)}")
            return
        results = []
        for size in [int(s.replace("_", "")) for s in args.sizes.split(",")]:
            results.append(bench_size(size, work, args.scenarios.split(","), with_floor=not args.no_floor))
    finally:
        if args.keep:
            print(f"sites kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    report = {
        "when": stamp,
        "machine": {
            "cpus": len(os.sched_getaffinity(0)),
            "python": sys.version.split()[0],
            "load_average_at_end": os.getloadavg(),
        },
        "git": _git_revision(),
        "results": results,
        "targets": [{"target": t, "measured": m, "met": ok} for t, m, ok in targets(results)],
    }
    folder = HERE / "results"
    folder.mkdir(exist_ok=True)
    path = folder / f"{stamp}-{args.sizes.replace(',', '_')}.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(table(results))
    print(f"\nresults written to {path}")


def _git_revision() -> str | None:
    try:
        return subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


if __name__ == "__main__":
    main()
