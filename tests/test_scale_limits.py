"""Every size limit on a file the build keeps for itself holds a site of 1,000,000 awards.

A file over its limit is not read (a hostile or damaged file must not fill the memory), and the
build then does more work, or says less, than it could: a ``last-build.json`` over its limit made
every rebuild of a million-award site report all its awards as added. The rates are measured on
a built synthetic site (``benchmarks/sitegen.py``, the benchmarks' sites); each limit must hold
twice what a million awards take at that rate.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from conftest import TODAY, build

from badgekiln.cli import main
from badgekiln.commands import buildsummary
from badgekiln.engine import bundletexts, outputscan, outputstamp, stamp
from badgekiln.sources import ledger

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import sitegen  # noqa: E402

AWARDS = 300
MILLION = 1_000_000


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A synthetic site of AWARDS awards (its keys in a folder beside it), built until its stamp is kept."""
    site = tmp_path_factory.mktemp("scale") / "site"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BADGEKILN_KEYS_DIR", str(site.parent / "keys"))
        patch.setenv("XDG_CACHE_HOME", str(site.parent / "xdg-cache"))
        assert sitegen.generate_site(site, AWARDS, badges=8)["awards"] == AWARDS
        for _ in range(5):
            try:
                main(["build", "--source", str(site), "--today", TODAY])
            except SystemExit as exc:
                assert exc.code in (0, None)
            if (site / ".badgekiln/cache/stamp.json").is_file():
                return site
            time.sleep(0.05)
    raise AssertionError("no stamp was kept")


def _at_a_million(path: Path) -> int:
    """The bytes of ``path`` for a site of a million awards, at its rate per award here."""
    return path.stat().st_size * MILLION // AWARDS


@pytest.mark.parametrize(
    ("rel", "limit"),
    [
        (".badgekiln/last-build.json", buildsummary.MAX_STATE_BYTES),
        (".badgekiln/cache/state.json", outputscan.MAX_STATE_BYTES),
        (".badgekiln/cache/output-stamp.json", outputstamp.MAX_BYTES),
        (".badgekiln/cache/stamp.json", stamp.MAX_STAMP_BYTES),
        ("site_src/awards.lock", ledger.MAX_LEDGER_BYTES),
        (".badgekiln/built-awards.lock", ledger.MAX_LEDGER_BYTES),
    ],
)
def test_a_file_the_build_keeps_stays_within_its_limit_at_a_million_awards(built, rel, limit):
    at_a_million = _at_a_million(built / rel)
    assert at_a_million > 0
    assert 2 * at_a_million <= limit, f"{rel}: {at_a_million:,} bytes at a million awards, limit {limit:,}"


@pytest.mark.parametrize("folder", [bundletexts.FOLDER, bundletexts.RECORDS])
def test_a_shard_file_stays_within_its_limit_at_a_million_awards(built, folder):
    """Shard files spread a site's texts over SHARDS files: at a million awards each holds a
    SHARDS-th of them (four times that is allowed for, names do not spread evenly)."""
    total = sum(path.stat().st_size for path in (built / ".badgekiln/cache" / folder).iterdir())
    per_shard = total * MILLION // AWARDS // bundletexts.SHARDS
    assert per_shard > 0
    assert 4 * per_shard <= bundletexts.MAX_SHARD_BYTES, f"{folder}: {per_shard:,} bytes a shard at a million awards"


def test_a_rebuild_reads_the_last_builds_view(built, run, monkeypatch):
    """What the limit of last-build.json is for: the summary of a rebuild compares with it."""
    monkeypatch.setenv("BADGEKILN_KEYS_DIR", str(built.parent / "keys"))
    result = build(run, built)
    assert "since the last build: 0 added, 0 changed, 0 revoked" in result.out
