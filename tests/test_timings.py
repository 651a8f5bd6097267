"""The build's record of its phases (engine/timings.py): `build --timings` and $BADGEKILN_TIMINGS."""

from __future__ import annotations

import json

import pytest
from conftest import build

from badgekiln.engine import timings, workers


@pytest.fixture(autouse=True)
def _fresh_record():
    timings.take()  # (an in-process build adds to this process's record)
    yield
    timings.take()


def _awards(site) -> int:
    return sum(1 for folder in (site / "output" / "awards").iterdir() if folder.is_dir())


@pytest.mark.parametrize("parallel", [False, True])
def test_the_build_records_its_phases_and_every_unit(example_site, run, tmp_path, monkeypatch, parallel):
    target = tmp_path / "timings.json"
    monkeypatch.setenv("BADGEKILN_TIMINGS", str(target))
    if parallel:  # forked workers even for this small site: their timings come back with their results
        monkeypatch.setattr(workers, "MIN_PARALLEL", 2)
        monkeypatch.setenv("BADGEKILN_JOBS", "2")
    else:
        monkeypatch.setenv("BADGEKILN_JOBS", "1")
    result = build(run, example_site, "--timings")
    record = json.loads(target.read_text())
    awards = _awards(example_site)
    for phase in ("cache open", "sources", "keys", "ledger", "plan", "plan/make", "write", "cache save", "other"):
        assert phase in record, phase
    for unit in ("award-page", "ob2-assertion", "ob3-credential"):
        cpu, wall, count = record[f"units/{unit}"]
        assert count == awards and cpu > 0 and wall > 0, unit
    assert record["units/store"][2] >= 3 * awards  # every group made was stored (by whichever process made it)
    assert record["total"][0] >= record["plan"][0]
    # The table on stderr: each phase, its parts indented below it.
    assert "phase" in result.err and "\n  award-page " in result.err and "\nplan " in result.err


def test_without_the_option_nothing_is_printed(minimal_site, run, monkeypatch):
    monkeypatch.delenv("BADGEKILN_TIMINGS", raising=False)
    result = build(run, minimal_site)
    assert "CPU s" not in result.err and "award-page" not in result.err


def test_the_table_shows_parts_under_their_phase():
    record = {"plan": [1.0, 2.0, 1], "plan/make": [0.5, 1.5, 1], "units/award-page": [0.25, 0.5, 4]}
    lines = timings.table(record).splitlines()
    assert lines[1].startswith("plan ") and lines[2].startswith("  make ")
    assert lines[3].startswith("units ") and "0.250" in lines[3]  # (a phase known by its parts: their sum)
    assert lines[4].startswith("  award-page ") and lines[4].split()[-1] == "4"
