"""Random sequences of a provider's edits: after each, the incremental build's output/ is byte for
byte a clean build's of the same sources on the same day.

tests/test_units.py holds every unit key to each single edit; this holds the caches together
(bundles, stats, the summary's views, the status lists' digests) over edits one after another,
as a provider makes them: revoke, suspend, reinstate, award, rename an earner, touch a file, days
passing across expiry dates, a badge class edited or made to require membership, memberships in
site_src/members.csv and CPD in site_src/cpd.csv coming and going, a page and the site's settings
edited, and a broken file (the build fails and output/ is left as it was) then put right. (A
helper's longer fuzzing of the same kind, 390 edits on sites of 184 and 312 awards, found no
difference on 2026-12-04; this keeps a short one in the suite.)
"""

from __future__ import annotations

import random
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import TODAY, tree_bytes

KINDS = (
    "revoke", "suspend", "unsuspend", "award", "rename", "touch", "days",
    "badge", "membership", "cpd", "page", "settings", "broken",
)  # fmt: skip


def _email(earner: Path) -> str:
    found = re.search(r"^email: (.+)$", earner.read_text(encoding="utf-8"), re.M)
    assert found is not None
    return found.group(1).strip()


def _append(path: Path, header: str, row: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else header + "\n"
    path.write_text(text + row + "\n", encoding="utf-8")


def _edit(path: Path, pattern: str, replacement: str) -> None:
    text = path.read_text(encoding="utf-8")
    edited = re.sub(pattern, replacement, text, count=1, flags=re.M)
    assert edited != text, (path, pattern)
    path.write_text(edited, encoding="utf-8")


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
            issued = day - timedelta(days=rng.randrange(0, 60))
            result = run(
                "award", "--source", str(site), "--today", day.isoformat(), "--email", _email(earner),
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
        elif kind == "badge":  # (every award of the badge changes; a stacked badge's pages show it)
            badge = site / "badges" / f"{rng.choice(badges)}.yaml"
            _edit(badge, r"^description: (.*)$", rf"description: \1 Edit {step}.")
        elif kind == "membership":  # (a badge that lapses with membership; members.csv rows come and go)
            earner = rng.choice(sorted((site / "recipients").glob("*.yaml")))
            held = re.findall(r"^\s+badge: (\S+)$", earner.read_text(encoding="utf-8"), re.M)
            badge = site / "badges" / f"{rng.choice(held)}.yaml"  # (a badge this earner holds)
            if "requires_membership" not in badge.read_text(encoding="utf-8"):
                badge.write_text(badge.read_text(encoding="utf-8") + "requires_membership: true\n", encoding="utf-8")
            until = day + timedelta(days=rng.choice([-400, -30, -1, 0, 1, 90]))
            _append(site / "site_src/members.csv", "email,until", f"{_email(earner)},{until.isoformat()}")
        elif kind == "cpd":
            earner = rng.choice(sorted((site / "recipients").glob("*.yaml")))
            logged = day - timedelta(days=rng.randrange(0, 400))
            row = f"{_email(earner)},{logged.isoformat()},{rng.choice(['1', '2.5', '8'])},Toolbox talk {step}"
            _append(site / "site_src/cpd.csv", "email,date,points,activity", row)
        elif kind == "page":
            page = site / "site_src/pages/about.md"
            page.write_text(page.read_text(encoding="utf-8") + f"\nEdited at step {step}.\n", encoding="utf-8")
        elif kind == "settings":  # (every page shows the footer)
            _edit(site / "site_src/site.yaml", r"^footer: (.*)$", rf"footer: \1 Step {step}.")
        elif kind == "broken":  # (the build fails with the file and line; output/ stays as it was)
            earner = rng.choice(sorted((site / "recipients").glob("*.yaml")))
            good, before = earner.read_bytes(), tree_bytes(site / "output")
            earner.write_text(good.decode("utf-8") + "  - badge: no-such-badge\n    issued_on: 2026-01-01\n")
            failed = run("build", "--source", str(site), "--today", day.isoformat())
            assert failed.code == 1 and f"recipients/{earner.name}:" in failed.err, failed.err
            assert tree_bytes(site / "output") == before
            earner.write_bytes(good)
        else:  # (days pass: awards expire, a suspension's or membership's day comes)
            day += timedelta(days=rng.choice([1, 30, 200, 400, 1200]))
        done.append(kind)
        result = run("build", "--source", str(site), "--today", day.isoformat())
        assert result.code == 0, (done, result.err)
        incremental, clean = tree_bytes(site / "output"), _clean_build_output(site, tmp_path, day.isoformat(), run)
        differ = sorted(rel for rel in incremental.keys() | clean.keys() if incremental.get(rel) != clean.get(rel))
        assert not differ, (done, differ[:10])
