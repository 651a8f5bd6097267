"""Benchmark badgekiln builds of synthetic sites, next to the floor measured in the same run.

    python benchmarks/bench.py                      # 1,000 awards (a few minutes on 2 cores)
    python benchmarks/bench.py --sizes 1k,10k,100k  # the issue's sizes, in one run
    python benchmarks/bench.py --sizes 1M --scenarios clean --no-floor
    python benchmarks/bench.py --profile 1000       # cProfile of one clean build, serial

For each size it generates a site (``sitegen.py``: real keys in a temporary keys folder, a
temporary ``XDG_CACHE_HOME``), then times, each build in its own ``badgekiln build`` process:

* ``clean``: no output/ and no .badgekiln/ cache;
* ``noop``: the same sources again;
* ``add``: one more award in one recipient file;
* ``revoke``: one award revoked;
* ``suspend``: one award suspended (skipped, with a line saying so, where the sources cannot
  say ``suspended:`` yet);
* ``edit-badge``: one badge class's description edited (every award of that badge changes);

recording wall time, CPU time (user + system, the build's worker processes included), the
cores used (CPU / wall), the peak RSS of the largest process, the peak proportional set size of
the whole process tree (sampled every 20 ms: what the build really holds in memory), the
output's files and bytes, and the build's own record of its phases (``$BADGEKILN_TIMINGS``, see
``src/badgekiln/engine/timings.py``). After the clean build it measures the floor (``floor.py``)
on the same machine. It prints tables and writes ``benchmarks/results/<time>.json``
(git-ignored). A scenario is one entry of :data:`EDITS`: a function that edits the site.
"""

from __future__ import annotations

import argparse
import compileall
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

ISSUE_REBUILDS = ("noop", "add", "revoke", "suspend", "edit-badge")
SCENARIOS = ("clean", "noop", "add", "revoke", "suspend", "edit-badge", "edit-footer", "edit-home-template")
TODAY = sitegen.TODAY.isoformat()
BUILD = "import sys; from badgekiln.cli import run; run(sys.argv[1:])"
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
    # Compiled once, as an installed package is (pip compiles what it installs): a build run with
    # PYTHONDONTWRITEBYTECODE set would otherwise compile badgekiln's modules again each time.
    compileall.compile_dir(target, quiet=1)
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
    """Samples the proportional set size (PSS) of a process and its descendants.

    A sample reads /proc (every process's parent, each of the tree's smaps_rollup): several
    milliseconds of CPU once the build's processes are large. Sampling every 20 ms took a third of
    a core from a clean build of 10,000 awards on 2 cores (a quarter more wall time than without
    it), so the pause after a sample is 50 times what the sample cost, never under 20 ms: the
    sampler keeps to about 2% of a core (its CPU time is reported as ``sampler_cpu_s``)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_kib, self.done, self.cpu_s = pid, 0, threading.Event(), 0.0

    def run(self) -> None:
        pause = 0.02
        while not self.done.wait(pause):
            start = time.thread_time()
            self.peak_kib = max(self.peak_kib, sum(_pss(p) for p in _tree(self.pid)))
            cost = time.thread_time() - start
            self.cpu_s += cost
            pause = max(0.02, 50 * cost)

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


class BuildFailed(RuntimeError):
    """A build of a scenario failed; ``stderr`` is what it said."""

    def __init__(self, code: int, stderr: str):
        super().__init__(f"build failed ({code}):\n{stderr[-3000:]}")
        self.stderr = stderr


def run_build(site: Path, env: dict[str, str], *, profile: Path | None = None) -> dict:
    """One ``badgekiln build`` in its own process: times, memory, its phases and what it printed."""
    args = ["build", "--source", str(site), "--today", TODAY]
    command = [sys.executable, "-c", PROFILE, str(profile), *args] if profile else [sys.executable, "-c", BUILD, *args]
    phases_file = site.parent / f".timings-{site.name}.json"
    phases_file.unlink(missing_ok=True)
    env = {**env, "BADGEKILN_TIMINGS": str(phases_file)}
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
        raise BuildFailed(process.returncode, stderr.decode(errors="replace"))
    match = re.search(rb"built (\d+) files .*\((\d+) written, (\d+) unchanged\)", stdout)
    files, size = _output_size(site / "output")
    phases = json.loads(phases_file.read_text(encoding="utf-8")) if phases_file.exists() else {}
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "cores_used": cpu / wall if wall else 0.0,
        "phases": phases,
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "peak_tree_pss_mib": peak_pss / 1024,
        "sampler_cpu_s": sampler.cpu_s,
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


def edit_suspend(site: Path) -> None:
    """Suspend the first award of the third recipient file."""
    path = sorted((site / "recipients").iterdir())[2]
    lines = path.read_text(encoding="utf-8").splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("  - id:"))
    block_end = next((i for i in range(first + 1, len(lines)) if lines[i].startswith("  - ")), len(lines))
    if any("revoked:" in line or "suspended:" in line for line in lines[first:block_end]):
        raise RuntimeError(f"{path.name}: the award to suspend is revoked or suspended already")
    lines[block_end:block_end] = ["    suspended:", "      on: 2026-11-21", "      reason: Benchmark suspension"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def edit_badge(site: Path) -> None:
    """Edit the description of the first badge class."""
    path = sorted((site / "badges").iterdir())[0]
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("description: Holder can", "description: The holder can", 1), encoding="utf-8")


def edit_footer(site: Path) -> None:
    """Edit the site's footer: every page shows it, no share card or signed document does."""
    path = site / "site_src" / "site.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("footer: Bench Training Ltd", "footer: Bench Training Limited", 1), encoding="utf-8")


def edit_home_template(site: Path) -> None:
    """Override the home page's template (templates/index.html): only the site's pages are made from it."""
    folder = site / "templates"
    folder.mkdir(exist_ok=True)
    (folder / "index.html").write_text(
        "{% extends '!builtin/index.html' %}{% block main %}<p>Open days every Friday.</p>{{ super() }}{% endblock %}\n",
        encoding="utf-8",
    )


# Each scenario after the clean build: how it edits the site (applied in the order of the run).
EDITS = {
    "noop": lambda site: None,
    "add": edit_add,
    "revoke": edit_revoke,
    "suspend": edit_suspend,
    "edit-badge": edit_badge,
    "edit-footer": edit_footer,
    "edit-home-template": edit_home_template,
}
# Scenarios that need a source field this version may not read: skipped, with a line, when the
# build refuses the field (the edit is undone so that the next scenarios run on a valid site).
OPTIONAL = {"suspend": "suspended"}


def bench_size(awards: int, work: Path, scenarios: list[str], *, with_floor: bool, artwork: str = "example") -> dict:
    """Generate a site of ``awards`` awards and run the scenarios on it."""
    env = _environment(work)
    site = work / f"site-{awards}"
    os.environ.update({k: env[k] for k in ("BADGEKILN_KEYS_DIR", "XDG_CACHE_HOME")})
    start = time.perf_counter()
    summary = sitegen.generate_site(site, awards, artwork=artwork)
    summary["generate_s"] = time.perf_counter() - start
    result: dict = {"awards": awards, "artwork": artwork, "site": summary, "scenarios": {}}
    for scenario in scenarios:
        backup = _backup(site / "recipients")
        if scenario == "clean":
            shutil.rmtree(site / "output", ignore_errors=True)
            shutil.rmtree(site / ".badgekiln", ignore_errors=True)
        else:
            EDITS[scenario](site)
        print(f"  {awards:>7,} awards: {scenario} ...", file=sys.stderr, flush=True)
        settle()
        try:
            result["scenarios"][scenario] = run_build(site, env)
        except BuildFailed as exc:
            field = OPTIONAL.get(scenario)
            if field is None or field not in exc.stderr:
                raise
            _restore(site / "recipients", backup)
            result.setdefault("skipped", {})[scenario] = f"this version does not read '{field}:' yet"
            print(f"  {awards:>7,} awards: {scenario}: skipped ({field}: not read)", file=sys.stderr, flush=True)
            continue
        print(
            f"  {awards:>7,} awards: {scenario}: {result['scenarios'][scenario]['wall_s']:.1f} s",
            file=sys.stderr,
            flush=True,
        )
        if scenario == "clean" and with_floor:
            print(f"  {awards:>7,} awards: floor ...", file=sys.stderr, flush=True)
            settle()
            result["floor"] = floor.measure_floor(site, work / "keys", awards, keep=True)
            _LEFTOVERS.append(Path(result["floor"]["scratch"]))
    if "floor" in result:  # (once more, last: was the machine as fast at the end? see settle)
        print(f"  {awards:>7,} awards: floor again ...", file=sys.stderr, flush=True)
        settle()
        result["floor_again"] = floor.measure_floor(site, work / "keys", awards, keep=True)
        _LEFTOVERS.append(Path(result["floor_again"]["scratch"]))
    return result


_LEFTOVERS: list[Path] = []  # what the run wrote and no longer needs, removed when it ends (see settle)
REMOVED_AT = HERE / "results" / ".removed-at"  # when the last run removed its files (see wait_after_removal)
RECENT_S = 310.0  # how long ext4 without a journal passes over a removed file's inode (300 s at most), and a little


def settle() -> None:
    """Write every dirty page to the disk before a measurement, so that a run does not wait on the
    writeback of the previous one's files (a clean build writes 1.4 GB at 10,000 awards) in its
    own writes.

    Nothing is removed before a measurement, either, until the whole run has ended (the floor's
    files are kept, ``_LEFTOVERS``): on this machine's ext4 file system, which has no journal, the
    kernel does not give a file the inode of one removed less than 60 s before (300 s while the
    inode's table block is dirty), and finds each new file's inode by reading past the recently
    removed ones (``recently_deleted`` in ``find_inode_bit``, seen by ``perf record`` in session
    33): for minutes after many files are removed, creating one costs 300-800 us of kernel CPU
    instead of 25-45. The floor used to remove its 100,000 files (at 10,000 awards) as it ended,
    and its second run then took 2.4 times the first's wall and CPU time, which earlier sessions
    read as this machine's speed varying twofold within the hour."""
    os.sync()


def wait_after_removal() -> None:
    """Wait until the files the last run removed as it ended are :data:`RECENT_S` old (see
    :func:`settle`): a run started at once would measure its first builds at a fraction of the speed."""
    try:
        removed = float(REMOVED_AT.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    wait = removed + RECENT_S - time.time()
    if wait > 0:
        print(f"waiting {wait:.0f} s: the last run removed its files less than {RECENT_S:.0f} s ago", file=sys.stderr)
        time.sleep(wait)


def _removed() -> None:
    REMOVED_AT.parent.mkdir(exist_ok=True)
    REMOVED_AT.write_text(f"{time.time():.0f}\n", encoding="utf-8")


def _backup(folder: Path) -> dict[str, bytes]:
    """The first few files of ``folder`` (the ones scenarios edit), to undo a skipped edit."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())[:4]}


def _restore(folder: Path, backup: dict[str, bytes]) -> None:
    for name, data in backup.items():
        (folder / name).write_bytes(data)


def targets(results: list[dict]) -> list[tuple[str, str, bool | None]]:
    """The targets of issue 15 ("Speed II"), judged on these results (None: not measured)."""
    by_size = {r["awards"]: r for r in results}
    checks: list[tuple[str, str, bool | None]] = []

    def wall(size: int, scenario: str) -> float | None:
        found = by_size.get(size, {}).get("scenarios", {}).get(scenario)
        return found["wall_s"] if found else None

    def check(label: str, value: float | None, limit: float, unit: str = "s") -> None:
        shown = "-" if value is None else (f"{value:.2f}x" if unit == "x" else f"{value:.2f} {unit}")
        checks.append((label, shown, None if value is None else value < limit))

    for size, limit in ((10_000, 1.5), (100_000, 2.0)):
        # Judged against the faster of the floor's two runs (after the clean build, and after the
        # rebuilds): the ratio to the slower one is shown too.
        clean, found = wall(size, "clean"), by_size.get(size, {})
        floors = sorted(found[k]["wall_s"] for k in ("floor", "floor_again") if k in found)
        ratio = clean / floors[0] if clean and floors else None
        check(f"{size // 1000}k clean build within {limit}x the floor", ratio, limit + 1e-9, "x")
        if ratio is not None and len(floors) == 2:
            label, shown, ok = checks[-1]
            checks[-1] = (label, f"{shown} ({clean / floors[1]:.2f}x the slower floor run)", ok)
    check("10k no-op rebuild under 0.5 s", wall(10_000, "noop"), 0.5)
    check("100k no-op rebuild under 3 s", wall(100_000, "noop"), 3)
    for scenario in ("add", "revoke", "suspend"):
        check(f"100k {scenario} one award under 3 s", wall(100_000, scenario), 3)
    hundred = by_size.get(100_000)
    peak = max((s["peak_tree_pss_mib"] for s in hundred["scenarios"].values()), default=None) if hundred else None
    check("100k peak memory (process tree) under 1 GiB", peak, 1024, "MiB")
    rebuilds = {  # (the rebuilds issue 15 names: a new footer or template renders every page, as a clean build does)
        size: max((v["peak_tree_pss_mib"] for k, v in r["scenarios"].items() if k in ISSUE_REBUILDS), default=0)
        for size, r in by_size.items()
    }
    if rebuilds.get(10_000) and rebuilds.get(100_000):
        ratio = rebuilds[100_000] / rebuilds[10_000]
        checks.append(("rebuild memory flat (peak at 100k / at 10k)", f"{ratio:.2f}x", ratio < 2))
    million = by_size.get(1_000_000, {}).get("scenarios", {}).get("clean")
    checks.append(
        (
            "1M clean build completes",
            f"{million['wall_s'] / 60:.1f} min, {million['peak_tree_pss_mib']:.0f} MiB" if million else "-",
            True if million else None,
        )
    )
    return checks


# Phases shown in the breakdown table (see src/badgekiln/engine/timings.py); CPU seconds.
PHASES = (
    "other",
    "cache open",
    "sources",
    "keys",
    "plan",
    "units",
    "write",
    "cache save",
    "summary",
    "total",
    "workers",
)


def _phase_cpu(phases: dict, name: str) -> float | None:
    if name in phases:
        return phases[name][0]
    parts = [v[0] for k, v in phases.items() if k.startswith(name + "/") and "/" not in k[len(name) + 1 :]]
    return sum(parts) if parts else None


def table(results: list[dict]) -> str:
    """The results as Markdown tables: the runs, the phases of each, the floor and the targets."""
    rows = [
        "| awards | scenario | wall s | CPU s | cores used | ms/award (wall) | peak RSS MiB | peak tree PSS MiB | files | output MiB | written |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        for name, s in r["scenarios"].items():
            rows.append(
                f"| {r['awards']:,} | {name} | {s['wall_s']:.2f} | {s['cpu_s']:.2f} | {s.get('cores_used', 0):.2f} | "
                f"{s['wall_s'] / r['awards'] * 1000:.2f} | {s['peak_rss_mib']:.0f} | {s['peak_tree_pss_mib']:.0f} | "
                f"{s['files']:,} | {s['bytes'] / 2**20:.0f} | {s['written'] if s['written'] is not None else '-'} |"
            )
        for key, shown in (("floor", "floor"), ("floor_again", "floor again")):
            if key in r:
                f = r[key]
                rows.append(
                    f"| {r['awards']:,} | {shown} ({f['workers']} cores) | {f['wall_s']:.2f} | {f['cpu_s']:.2f} | "
                    f"{f['cpu_s'] / f['wall_s']:.2f} | {f['wall_s'] / r['awards'] * 1000:.2f} | | | | | |"
                )
        for name, why in r.get("skipped", {}).items():
            rows.append(f"| {r['awards']:,} | {name} | skipped: {why} | | | | | | | | |")
    lines = ["\n".join(rows), ""]
    lines += [
        "Phases (CPU s, every process; `units` is the work of making groups of files, in workers when parallel):",
        "",
        "| awards | scenario | " + " | ".join(PHASES) + " |",
        "|---:|---|" + "---:|" * len(PHASES),
    ]
    for r in results:
        for name, s in r["scenarios"].items():
            cells = [_phase_cpu(s.get("phases", {}), phase) for phase in PHASES]
            lines.append(
                f"| {r['awards']:,} | {name} | " + " | ".join("-" if c is None else f"{c:.2f}" for c in cells) + " |"
            )
    lines.append("")
    for r in results:
        clean = r["scenarios"].get("clean", {}).get("phases", {})
        parts = {k.split("/", 1)[1]: v[0] for k, v in clean.items() if k.startswith("units/")}
        if parts:
            shown = ", ".join(
                f"{k} {v / r['awards'] * 1000:.2f}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1])
            )
            lines.append(f"clean build at {r['awards']:,}, CPU ms per award by unit: {shown}")
        if "floor" in r:
            shown = ", ".join(f"{k} {v:.3f}" for k, v in r["floor"]["per_award_ms_single_core"].items())
            lines.append(f"floor per award at {r['awards']:,}, one core, ms: {shown}")
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
    parser.add_argument("--sizes", default="1000", help="comma-separated award counts, 1000 or 1k, 1M (default: 1000)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"subset of {','.join(SCENARIOS)}")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor measurement")
    parser.add_argument("--workdir", type=Path, help="where to put the sites (default: a temporary folder, removed)")
    parser.add_argument("--keep", action="store_true", help="keep the sites (and keys) in the work folder")
    parser.add_argument(
        "--artwork",
        choices=("example", "small"),
        default="example",
        help="badge artwork: the example site's (default) or one plain SVG disc (for 1M on a small disk)",
    )
    parser.add_argument("--profile", type=int, metavar="AWARDS", help="profile one clean build instead")
    args = parser.parse_args(argv)
    unknown = set(args.scenarios.split(",")) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(sorted(unknown))}; known: {', '.join(SCENARIOS)}")
    load_at_start = os.getloadavg()
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)  # (a folder to be made, as --help says "where to put")
    wait_after_removal()
    work = Path(tempfile.mkdtemp(prefix="badgekiln-bench-", dir=args.workdir))
    snapshot_code(work)
    try:
        if args.profile:
            print(f"profile written to {profile(args.profile, work)}")
            return
        results = []
        for size in [parse_size(s) for s in args.sizes.split(",")]:
            results.append(
                bench_size(size, work, args.scenarios.split(","), with_floor=not args.no_floor, artwork=args.artwork)
            )
    finally:
        for leftover in _LEFTOVERS:
            shutil.rmtree(leftover, ignore_errors=True)
        if args.keep:
            print(f"sites kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
        _removed()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    report = {
        "when": stamp,
        "machine": {
            "cpus": len(os.sched_getaffinity(0)),
            "python": sys.version.split()[0],
            "load_average_at_start": load_at_start,
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
    print(f"\nload average at the start {load_at_start}, at the end {os.getloadavg()}")
    print(f"results written to {path}")


def parse_size(text: str) -> int:
    """``10000``, ``10_000``, ``10k`` or ``1M`` as a number of awards."""
    text = text.strip().replace("_", "")
    factor = {"k": 1_000, "K": 1_000, "m": 1_000_000, "M": 1_000_000}.get(text[-1:], 1)
    return int(text[:-1] if factor > 1 else text) * factor


def _git_revision() -> str | None:
    try:
        return subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


if __name__ == "__main__":
    main()
