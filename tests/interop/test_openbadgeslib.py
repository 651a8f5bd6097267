"""Interop: every artifact of two sites checked by openbadgeslib 4.6.3, a verifier we did not write.

openbadgeslib (PyPI; OB 2.0 signed and hosted, OB 3.0 Data Integrity and VC-JWT, did:web,
Bitstring Status List) runs in its own venv (``bash tests/oracles/install_openbadgeslib.sh``;
without it these tests FAIL, never skip), driven by tests/oracles/openbadgeslib_verify.py. The
sites are built with the real CLI for their published https addresses and served by the loopback
static server; the driver's ``download`` maps those addresses onto it and refuses everything
else, and JSON-LD contexts come from the library's own pinned copies (it never fetches one).

Two sites: the example (14 awards, one revoked, one expired) and an unusual one published under a
sub-path (did:web:org.github.io:badges), with unicode, a rotated key, a revoked and an expired
award. The library uses the real clock: the expired awards expired in 2025 and 2024.

No known failures: the Data Integrity credentials carry only published context URLs (issue
14.1), and a VC-JWT's ``kid`` is the DID URL of a ``JsonWebKey`` method in the issuer's did.json,
the only kind of ``kid`` openbadgeslib resolves (issue 14.2).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from interop_sites import BASE, SUB_BASE, build_sites
from oracles.openbadgeslib_oracle import verify_batch
from support.static_server import StaticServer

OFFLINE = "offline: not allowed"


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """The example and the unusual site, built once, served over loopback; the address map."""
    served = tmp_path_factory.mktemp("openbadgeslib")
    example, unusual = build_sites(served)
    with StaticServer(served) as server:
        yield {
            "example": example,
            "unusual": unusual,
            "map": {BASE: server.url("example/"), SUB_BASE: server.url("unusual/")},
        }


def test_site_premises(sites):
    example, unusual = sites["example"], sites["unusual"]
    assert len(example.awards) == 14 and len(example.revoked) == 1 and len(example.expired) == 1
    assert len(unusual.awards) == 3 and len(unusual.revoked) == 1 and len(unusual.expired) == 1
    assert unusual.json("did.json")["id"] == "did:web:org.github.io:badges"
    # rotated: both generations published, each an Ed25519 Multikey and an RSA JsonWebKey (VC-JWT)
    methods = unusual.json("did.json")["verificationMethod"]
    assert sorted(m["type"] for m in methods) == ["JsonWebKey", "JsonWebKey", "Multikey", "Multikey"]
    assert len(unusual.json("did.json")["assertionMethod"]) == 4


def _run(sites, jobs: list[dict]) -> list[dict]:
    results = verify_batch(jobs, sites["map"])
    for job, result in zip(jobs, results):
        assert "crash" not in result, (job, result["crash"])
        assert not result["refused"], (job, result["refused"])  # nothing but the sites was asked for
    return results


def _verdicts(sites, kind: str, inputs: dict[tuple[str, str], Path | str]) -> dict[tuple[str, str], dict]:
    keys = list(inputs)
    results = _run(sites, [{"kind": kind, "input": str(inputs[k])} for k in keys])
    return dict(zip(keys, results))


def _assert_site_verdicts(sites, verdicts: dict[tuple[str, str], dict], revoked: str, expired: str) -> None:
    """valid awards accepted, revoked ones reported revoked, expired ones reported expired."""
    assert verdicts
    for (name, award), result in verdicts.items():
        site = sites[name]
        what = (name, award, result.get("format"), result["reason"])
        if award in site.revoked:
            assert not result["valid"] and revoked in (result["reason"] or ""), what
        elif award in site.expired:
            assert not result["valid"] and expired in (result["reason"] or ""), what
        else:
            assert result["valid"], what
        assert result["fetched"], what


# ------------------------------------------------------------------------------ OB 2.0
OB2_REVOKED, OB2_EXPIRED = "has been revoked", "Assertion has expired"


def test_ob2_hosted_signed_and_baked_assertions(sites):
    inputs = {}
    for name in ("example", "unusual"):
        site = sites[name]
        for award in site.awards:
            inputs[(name, award), "hosted"] = f"{site.base}awards/{award}/assertion.json"
            inputs[(name, award), "signed"] = site.output / f"awards/{award}/assertion.jws"
            for path in site.baked_ob2(award):  # PNG artwork: its PNG; SVG artwork: the SVG and its PNG
                inputs[(name, award), "baked" + path.suffix] = path
    results = _run(sites, [{"kind": "ob2", "input": str(v)} for v in inputs.values()])
    by_form: dict[str, dict] = {}
    for (key, form), result in zip(inputs, results):
        by_form.setdefault(form, {})[key] = result
    for verdicts in by_form.values():
        _assert_site_verdicts(sites, verdicts, OB2_REVOKED, OB2_EXPIRED)
    assert {r["format"] for r in by_form["hosted"].values()} == {"hosted-url+hosted-json"}
    assert {r["format"] for r in by_form["signed"].values()} == {"text+jws"}
    # both image kinds were read (the example bakes PNG and SVG badge images, and PNGs of the SVG ones)
    assert {r["format"].split("+")[0] for r in by_form["baked.svg"].values()} == {"svg"}
    assert {r["format"].split("+")[0] for r in by_form["baked.png"].values()} == {"png"}
    svg_awards = {key for key in by_form["baked.svg"]}
    assert svg_awards and svg_awards <= set(by_form["baked.png"])  # every SVG award has its PNG too


def test_ob2_recipient_is_checked(sites):
    site = sites["example"]
    award = min(site.valid)
    jws = site.output / f"awards/{award}/assertion.jws"
    right, wrong = _run(
        sites,
        [
            {"kind": "ob2", "input": str(jws), "recipient": site.email(award)},
            {"kind": "ob2", "input": str(jws), "recipient": "someone.else@example.org"},
        ],
    )
    assert right["valid"], right
    assert not wrong["valid"] and "Recipient mismatch" in wrong["reason"], wrong


def test_ob2_tampering_is_rejected(sites, tmp_path):
    site = sites["example"]
    award = min(site.valid)
    header, payload, signature = (site.output / f"awards/{award}/assertion.jws").read_text().strip().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["issuedOn"] = "2020-01-01T00:00:00Z"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    (tmp_path / "forged.jws").write_text(f"{header}.{forged}.{signature}")
    local = site.json(f"awards/{award}/assertion.json")
    local["badge"] = site.base + "badges/another/class.json"
    (tmp_path / "hosted.json").write_text(json.dumps(local))
    signed, hosted = _run(
        sites,
        [
            {"kind": "ob2", "input": str(tmp_path / "forged.jws")},
            {"kind": "ob2", "input": str(tmp_path / "hosted.json")},
        ],
    )
    assert not signed["valid"] and "Invalid signature" in signed["reason"], signed
    assert not hosted["valid"] and "does not match" in hosted["reason"], hosted


# ------------------------------------------------------------------------------ OB 3.0
OB3_REVOKED, OB3_EXPIRED = "Credential status 'revocation' is set", "expired"


def test_status_lists_are_signed_by_their_issuer(sites, tmp_path):
    inputs = {
        (name, p.name): p
        for name in ("example", "unusual")
        for p in sorted((sites[name].output / "status").glob("*.json"))
    }
    assert len(inputs) >= 2
    doc = json.loads(next(iter(inputs.values())).read_text())
    doc["credentialSubject"]["encodedList"] = doc["credentialSubject"]["encodedList"][:-4] + "AAAA"
    (tmp_path / "tampered.json").write_text(json.dumps(doc))
    results = _run(
        sites,
        [{"kind": "ob3-status-list", "input": str(p)} for p in inputs.values()]
        + [{"kind": "ob3-status-list", "input": str(tmp_path / "tampered.json")}],
    )
    for key, result in zip(inputs, results):
        assert result["valid"], (key, result)
    assert not results[-1]["valid"], results[-1]


def _ob3_inputs(sites, pattern: str) -> dict[tuple[str, str], Path]:
    return {
        (name, award): sites[name].output / f"awards/{award}/{pattern}"
        for name in ("example", "unusual")
        for award in sites[name].awards
    }


def test_ob3_data_integrity_credentials(sites):
    verdicts = _verdicts(sites, "ob3", _ob3_inputs(sites, "credential.json"))
    _assert_site_verdicts(sites, verdicts, OB3_REVOKED, OB3_EXPIRED)


def test_ob3_baked_credentials(sites):
    inputs = {
        (name, award, path.suffix): path
        for name in ("example", "unusual")
        for award in sites[name].awards
        for path in sites[name].baked_ob3(award)
    }
    assert {k[2] for k in inputs} == {".png", ".svg"}
    results = _run(sites, [{"kind": "ob3", "input": str(p)} for p in inputs.values()])
    _assert_site_verdicts(sites, {(k[0], k[1]): r for k, r in zip(inputs, results)}, OB3_REVOKED, OB3_EXPIRED)


def test_ob3_vc_jwts_through_did_web(sites):
    verdicts = _verdicts(sites, "ob3", _ob3_inputs(sites, "credential.jwt"))
    _assert_site_verdicts(sites, verdicts, OB3_REVOKED, OB3_EXPIRED)
    assert {r["issuer_did"] for r in verdicts.values()} == {
        "did:web:badges.northwind.example",
        "did:web:org.github.io:badges",
    }


def _tampered_credentials(sites, tmp_path) -> list[Path]:
    site = sites["example"]
    award = min(site.valid)
    credential = site.json(f"awards/{award}/credential.json")
    credential["credentialSubject"]["achievement"]["name"] = "Master Pipefitter"
    renamed = tmp_path / "renamed.json"
    renamed.write_text(json.dumps(credential))
    revoked = site.json(f"awards/{min(site.revoked)}/credential.json")
    del revoked["credentialStatus"]
    unrevoked = tmp_path / "unrevoked.json"
    unrevoked.write_text(json.dumps(revoked))
    return [renamed, unrevoked]


def test_ob3_tampered_data_integrity_credentials_fail_on_the_proof(sites, tmp_path):
    results = _run(sites, [{"kind": "ob3", "input": str(p)} for p in _tampered_credentials(sites, tmp_path)])
    for result in results:  # rejected because the proof does not match, not for another reason
        assert not result["valid"] and "inline @context" not in result["reason"], result
        assert "signature" in result["reason"].lower() or "proof" in result["reason"].lower(), result


def test_ob3_tampered_data_integrity_credentials_are_rejected(sites, tmp_path):
    results = _run(sites, [{"kind": "ob3", "input": str(p)} for p in _tampered_credentials(sites, tmp_path)])
    assert not any(r["valid"] for r in results), results


def _tampered_jwt(sites, tmp_path) -> Path:
    site = sites["example"]
    award = min(site.valid)
    header, payload, signature = (site.output / f"awards/{award}/credential.jwt").read_text().strip().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["credentialSubject"]["achievement"]["name"] = "Master Pipefitter"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    path = tmp_path / "forged.jwt"
    path.write_text(f"{header}.{forged}.{signature}")
    return path


def test_ob3_tampered_vc_jwt_fails_on_the_signature(sites, tmp_path):
    [result] = _run(sites, [{"kind": "ob3", "input": str(_tampered_jwt(sites, tmp_path))}])
    assert not result["valid"] and result["reason"].endswith("Invalid signature"), result


def test_ob3_tampered_vc_jwt_is_rejected(sites, tmp_path):
    [result] = _run(sites, [{"kind": "ob3", "input": str(_tampered_jwt(sites, tmp_path))}])
    assert not result["valid"], result


def test_the_oracle_stays_on_loopback(sites, tmp_path):
    """The driver refuses an address outside the served sites (and says so)."""
    credential = sites["example"].json(f"awards/{min(sites['example'].valid)}/assertion.json")
    credential["id"] = "https://elsewhere.example/a.json"
    (tmp_path / "elsewhere.json").write_text(json.dumps(credential))
    [result] = verify_batch([{"kind": "ob2", "input": str(tmp_path / "elsewhere.json")}], sites["map"])
    assert not result["valid"] and OFFLINE in result["reason"], result
    assert result["refused"] == ["https://elsewhere.example/a.json"], result
