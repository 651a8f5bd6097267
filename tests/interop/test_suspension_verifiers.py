"""Interop: independent verifiers see a suspended credential as suspended and a lifted one as valid.

The example site, built with the real CLI, with one award suspended by ``badgekiln suspend`` and
one whose earner's membership lapsed (``requires_membership: true``, ``membership: {until}``
in the past). Both OB 3.0 verifiers of tests/oracles/js read the credential's two
``credentialStatus`` entries: Digital Bazaar's ``@digitalbazaar/vc`` with
``@digitalbazaar/vc-bitstring-status-list`` (``suspended`` from the ``suspension`` entry's result)
and DCC's ``@digitalcredentials/verifier-core`` (its log step ``suspension_status`` with
``valid: false``). Then ``badgekiln unsuspend`` and a renewed membership: both verify again.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import TODAY, copy_example
from oracles.vc_verifier import verify_many

BASE = "https://badges.northwind.example/"
NOW = "2026-11-22T12:00:00Z"
WRITTEN, LAPSED, PLAIN = "7q4kz2m9xw", "t1a2n3k4ax", "k3v8n0d2rt"  # jane-doe, akira-tanaka (network-cabling), valid


def _cli(site: Path, root: Path, *args: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(root / "cache"))
        patch.setenv("BADGEKILN_KEYS_DIR", str(root / "keys"))
        patch.delenv("BADGEKILN_PRIVATE_KEYS", raising=False)
        from badgekiln.cli import main

        with pytest.raises(SystemExit) as done:
            main([*args, "--source", str(site), "--today", TODAY])
        assert done.value.code == 0, args


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    root = tmp_path_factory.mktemp("suspension")
    site = copy_example(root / "example")
    badge = site / "badges/network-cabling.yaml"
    badge.write_text(badge.read_text() + "requires_membership: true\n")
    akira = site / "recipients/akira-tanaka.yaml"
    akira.write_text(akira.read_text().replace("awards:", "membership: {until: 2026-06-30}\nawards:", 1))
    _cli(site, root, "keys", "generate")
    _cli(site, root, "suspend", WRITTEN, "--reason", "Under investigation", "--on", "2026-11-01")
    _cli(site, root, "build", "--output", str(root / "suspended"))
    _cli(site, root, "unsuspend", WRITTEN)
    akira.write_text(akira.read_text().replace("until: 2026-06-30", "until: 2027-06-30"))
    shutil.rmtree(site / ".badgekiln", ignore_errors=True)
    _cli(site, root, "build", "--output", str(root / "lifted"))
    return root / "suspended", root / "lifted"


@pytest.mark.parametrize("mode", ["digitalbazaar", "verifier-core"])
def test_suspended_credentials_are_suspended_and_lifted_ones_valid(sites, mode):
    suspended_site, lifted_site = sites
    awards = [WRITTEN, LAPSED, PLAIN]
    now = NOW if mode == "digitalbazaar" else None  # verifier-core uses the real clock
    before = verify_many(
        [suspended_site / f"awards/{a}/credential.json" for a in awards], suspended_site, BASE, now=now, mode=mode
    )
    for award, result in zip(awards, before):
        what = (mode, award, result["errors"])
        assert result["proofVerified"] and result["statusChecked"] and result["revoked"] is False, what
        if award == PLAIN:
            assert result["verified"] and result["suspended"] is False, what
        else:
            assert result["suspended"] is True and not result["verified"], what
            assert any("suspended" in e for e in result["errors"]), what
    after = verify_many(
        [lifted_site / f"awards/{a}/credential.json" for a in awards], lifted_site, BASE, now=now, mode=mode
    )
    for award, result in zip(awards, after):
        what = (mode, award, result["errors"])
        assert result["verified"] and result["suspended"] is False and result["revoked"] is False, what
        if mode == "verifier-core":  # its schema check applies OB 3.0.3's [0..1] as written: a warning only
            assert result["warnings"] == [SCHEMA_WARNING], result["warnings"]
        else:
            assert not result["warnings"], result["warnings"]


SCHEMA_WARNING = (
    "schema_check https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json:"
    " /credentialStatus must be object"
)


def test_the_revoked_award_stays_revoked_not_suspended(sites):
    suspended_site, _ = sites
    [result] = verify_many([suspended_site / "awards/d3f4g5h6jk/credential.json"], suspended_site, BASE, now=NOW)
    assert result["revoked"] is True and result["suspended"] is False and not result["verified"], result["errors"]


def test_openbadgeslib_sees_a_suspended_ob2_assertion_as_revoked_and_a_lifted_one_as_valid(sites):
    """OB 2.0 has no suspension: badgekiln publishes it as a revocation ("Suspended: …")."""
    from oracles.openbadgeslib_oracle import verify_batch
    from support.static_server import StaticServer

    suspended_site, lifted_site = sites
    with StaticServer(suspended_site.parent) as server:
        for site, expect_valid in ((suspended_site, False), (lifted_site, True)):
            jobs = [{"kind": "ob2", "input": f"{BASE}awards/{award}/assertion.json"} for award in (WRITTEN, LAPSED)] + [
                {"kind": "ob2", "input": str(site / f"awards/{award}/assertion.jws")} for award in (WRITTEN, LAPSED)
            ]
            results = verify_batch(jobs, {BASE: server.url(f"{site.name}/")})
            for job, result in zip(jobs, results):
                what = (site.name, job["input"], result.get("reason"))
                assert "crash" not in result and not result["refused"], what
                if expect_valid:
                    assert result["valid"], what
                else:
                    assert not result["valid"] and "has been revoked" in (result["reason"] or ""), what
