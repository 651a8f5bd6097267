"""Interop: every OB 3.0 artifact of two sites checked by DCC's @digitalcredentials/verifier-core.

verifier-core is what the Learner Credential Wallet and VerifierPlus use; tests/oracles/js/vcore.mjs
runs it offline (its fetches answered from the built site and our bundled contexts, anything else
refused). It verifies JSON-LD credentials (Data Integrity proof, expiry with the real clock,
Bitstring Status List revocation); it has no VC-JWT or OB 2.0 support, so those artifacts are
left to the other verifiers (README, "Independent verifiers"). The baked and tampered copies
also go through the Digital Bazaar verifier (real clock here; test_ob3_verifiers.py covers the
credential.json files with a fixed date).

Sites (tests/interop/interop_sites.py): the example (14 awards, one revoked, one expired) and an
unusual one under a sub-path did:web with a rotated key (one valid, one revoked, one expired).
Every credential.json, every baked credential.png/.svg (read back with the standard library) and
tampered copies of each kind.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from interop_sites import build_sites, unbake_ob3
from oracles.vc_verifier import verify_many


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    example, unusual = build_sites(tmp_path_factory.mktemp("verifier-core"))
    return {"example": example, "unusual": unusual}


MODES = ["verifier-core", "digitalbazaar"]


def _verify(site, paths: list[Path], mode: str = "verifier-core") -> list[dict]:
    results = verify_many(paths, site.output, site.base, mode=mode)
    for result in results:
        assert not any("offline: not allowed" in e for e in result["errors"]), result["errors"]
    return results


EXPIRED = {"verifier-core": "expiration: credential is expired", "digitalbazaar": 'after "validUntil"'}


def _assert_verdict(site, award: str, result: dict) -> None:
    what = (award, result["credential"], result["errors"])
    if award in site.revoked:
        assert result["statusChecked"] and result["revoked"] is True and not result["verified"], what
        assert result["proofVerified"], what
    elif award in site.expired:
        assert not result["verified"], what
        assert any(EXPIRED[result["mode"]] in e for e in result["errors"]), what
        if result["mode"] == "verifier-core":  # the Digital Bazaar verifier stops at validUntil
            assert result["proofVerified"] and result["statusChecked"] and result["revoked"] is False, what
    else:
        assert result["statusChecked"] and result["verified"] and result["revoked"] is False, what


@pytest.mark.parametrize("name", ["example", "unusual"])
def test_every_credential(sites, name):
    site = sites[name]
    awards = site.awards
    results = _verify(site, [site.output / f"awards/{a}/credential.json" for a in awards])
    for award, result in zip(awards, results):
        _assert_verdict(site, award, result)
    assert len(awards) == (14 if name == "example" else 3)
    assert site.revoked and site.expired and site.valid


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["example", "unusual"])
def test_every_baked_credential(sites, name, mode, tmp_path):
    site = sites[name]
    jobs = []
    for award in site.awards:
        for image in site.baked_ob3(award):
            text = unbake_ob3(image)
            assert json.loads(text) == site.json(f"awards/{award}/credential.json"), image
            extracted = tmp_path / f"{award}{image.suffix}.json"
            extracted.write_text(text, encoding="utf-8")
            jobs.append((award, image.suffix, extracted))
    assert {suffix for _, suffix, _ in jobs} == {".png", ".svg"}  # (SVG artwork is baked into a PNG too)
    for (award, _, _), result in zip(jobs, _verify(site, [path for _, _, path in jobs], mode)):
        _assert_verdict(site, award, result)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["example", "unusual"])
def test_tampered_copies_are_rejected(sites, name, mode, tmp_path):
    """A changed achievement name, a stripped status (un-revoking), an extended validUntil
    (un-expiring), a moved subject: each copy fails on its proof."""
    site = sites[name]
    valid, revoked, expired = min(site.valid), min(site.revoked), min(site.expired)
    edits = {
        "renamed": (valid, lambda c: c["credentialSubject"]["achievement"].update(name="Master Pipefitter")),
        "unrevoked": (revoked, lambda c: c.pop("credentialStatus")),
        "unexpired": (expired, lambda c: c.update(validUntil="2099-01-01T00:00:00Z")),
        "reissued": (valid, lambda c: c.update(validFrom="2020-01-01T00:00:00Z")),
    }
    paths = []
    for label, (award, edit) in edits.items():
        credential = site.json(f"awards/{award}/credential.json")
        edit(credential)
        paths.append(tmp_path / f"{label}.json")
        paths[-1].write_text(json.dumps(credential, ensure_ascii=False), encoding="utf-8")
    for label, result in zip(edits, _verify(site, paths, mode)):
        assert not result["verified"] and not result["proofVerified"], (label, result["errors"])
