"""Open Badges 3.0 output checked by tools we did not write.

The Digital Bazaar verifier (@digitalbazaar/vc with the eddsa-rdfc-2022 cryptosuite and the
Bitstring status list library) and DCC verifier-core run offline on the built files; the
official 1EdTech JSON Schema validates every credential.
"""

from __future__ import annotations

import importlib.resources
import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from conftest import TODAY, copy_example, write_site
from oracles.vc_verifier import verify_many

from badgekiln.crypto.jws import parse_compact
from badgekiln.formats.baking import OB3_PNG_KEYWORD, unbake_png, unbake_svg

BASE = "https://badges.northwind.example/"
SUB_BASE = "https://org.github.io/badges/"
NOW = "2026-11-22T12:00:00Z"


def _schema_validator():
    schema = json.loads(
        (importlib.resources.files("badgekiln") / "data/schemas/achievementcredential.json").read_text()
    )
    return jsonschema.Draft201909Validator(schema, format_checker=jsonschema.Draft201909Validator.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    root = tmp_path_factory.mktemp("ob3-example")
    site = copy_example(root / "site")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(root / "cache"))
        patch.setenv("BADGEKILN_KEYS_DIR", str(root / "keys"))
        from badgekiln.cli import main

        for args in (["keys", "generate"], ["build"]):
            with pytest.raises(SystemExit) as done:
                main([*args, "--source", str(site), "--today", TODAY])
            assert done.value.code == 0
    return site


def _credentials(site: Path) -> list[Path]:
    return sorted((site / "output/awards").glob("*/credential.json"))


def _by_id(results: list[dict]) -> dict[str, dict]:
    return {Path(r["credential"]).parent.name: r for r in results}


def test_digital_bazaar_verifies_every_credential_and_sees_the_revocation(example):
    paths = _credentials(example)
    assert len(paths) >= 12
    results = _by_id(verify_many(paths, example / "output", BASE, now=NOW))
    for award_id, result in results.items():
        if award_id == "r9t4y1u6ep":  # Zofia's expired award: rejected now, valid while it was valid
            assert not result["verified"] and any('after "validUntil"' in e for e in result["errors"]), result
            [then] = verify_many(
                [example / f"output/awards/{award_id}/credential.json"],
                example / "output",
                BASE,
                now="2025-01-01T00:00:00Z",
            )
            assert then["verified"], then
            continue
        assert result["proofVerified"], (award_id, result["errors"])
        assert result["statusChecked"], award_id
        if award_id == "d3f4g5h6jk":  # Marcus's revoked award
            assert result["revoked"] is True and not result["verified"]
        else:
            assert result["verified"], (award_id, result["errors"])
            assert result["revoked"] is False and not result["warnings"], result


def test_verifier_core_agrees(example):
    paths = [p for p in _credentials(example) if p.parent.name in ("7q4kz2m9xw", "d3f4g5h6jk", "t1a2n3k4ax")]
    results = _by_id(verify_many(paths, example / "output", BASE, mode="verifier-core"))
    assert results["7q4kz2m9xw"]["verified"], results["7q4kz2m9xw"]
    assert results["t1a2n3k4ax"]["verified"], results["t1a2n3k4ax"]
    assert results["d3f4g5h6jk"]["revoked"] is True


def _status_variants(credential: dict) -> list[dict]:
    """The credential once per ``credentialStatus`` entry: VC 2.0 (4.10) allows a set, OB 3.0.3's
    schema one object (README, "Suspension and memberships"); each entry must pass on its own,
    and the set is the only thing the schema as written reports."""
    statuses = credential["credentialStatus"]
    assert [e["statusPurpose"] for e in statuses] == ["revocation", "suspension"]
    return [{**credential, "credentialStatus": entry} for entry in statuses]


def test_every_credential_validates_against_the_official_schema(example):
    validator = _schema_validator()
    for path in _credentials(example):
        credential = json.loads(path.read_text())
        errors = sorted((e for v in _status_variants(credential) for e in validator.iter_errors(v)), key=str)
        assert not errors, (path, [e.message for e in errors])
        as_written = list(validator.iter_errors(credential))
        assert [(list(e.path), e.validator) for e in as_written] == [(["credentialStatus"], "type")], path


def test_tampering_is_caught(example, tmp_path):
    site = tmp_path / "tampered"
    shutil.copytree(example / "output", site)
    path = site / "awards/7q4kz2m9xw/credential.json"
    credential = json.loads(path.read_text())
    credential["credentialSubject"]["achievement"]["name"] = "Master Pipefitter"
    path.write_text(json.dumps(credential))
    other = site / "awards/t1a2n3k4ax/credential.json"
    credential = json.loads(other.read_text())
    credential["validUntil"] = "2099-01-01T00:00:00Z"
    other.write_text(json.dumps(credential))
    results = _by_id(verify_many([path, other], site, BASE, now=NOW))
    assert not results["7q4kz2m9xw"]["verified"] and not results["7q4kz2m9xw"]["proofVerified"]
    assert not results["t1a2n3k4ax"]["verified"]


def test_baked_ob3_images_carry_the_signed_credential(example):
    out = example / "output/awards"
    png = unbake_png((out / "g5m2n8b3va/credential.png").read_bytes(), keyword=OB3_PNG_KEYWORD)
    assert json.loads(png) == json.loads((out / "g5m2n8b3va/credential.json").read_text())
    svg = unbake_svg((out / "7q4kz2m9xw/credential.svg").read_bytes())
    assert svg["version"] == 3
    assert json.loads(svg["body"]) == json.loads((out / "7q4kz2m9xw/credential.json").read_text())


def test_vc_jwt_is_signed_by_a_published_rsa_key(example):
    from badgekiln.crypto.jws import verify_compact
    from badgekiln.crypto.multikey import rsa_from_jwk

    out = example / "output"
    token = (out / "awards/7q4kz2m9xw/credential.jwt").read_text()
    header, _, _, _ = parse_compact(token)
    assert header["alg"] == "RS256" and header["typ"] == "JWT"
    # the kid is the DID URL of the key's JsonWebKey method; its JWK is also at keys/<key id>.jwk.json
    did_id, _, key_id = header["kid"].partition("#")
    assert did_id == "did:web:badges.northwind.example" and key_id
    jwk = json.loads((out / f"keys/{key_id}.jwk.json").read_text())
    assert jwk["kid"] == header["kid"]
    assert jwk in json.loads((out / "keys/jwks.json").read_text())["keys"]
    assert (out / ".well-known/jwks.json").read_bytes() == (out / "keys/jwks.json").read_bytes()
    _, payload = verify_compact(token, rsa_from_jwk(jwk))
    claims = json.loads(payload)
    credential = json.loads((out / "awards/7q4kz2m9xw/credential.json").read_text())
    assert claims["iss"] == credential["issuer"]["id"] == "did:web:badges.northwind.example"
    assert claims["jti"] == credential["id"]
    assert claims["nbf"] == 1772323200 and claims["exp"] == 1867017600  # 2026-03-01, 2029-03-01
    assert claims["sub"] == credential["credentialSubject"]["id"]
    # OB 3.0 §8.2: "If a Linked Data Proof is also provided, it MUST be created before the JSON Web
    # Token Proof Format is created": the payload carries the same proof as credential.json.
    assert claims["proof"] == credential["proof"]
    # The same key is published in did.json, so a verifier resolving the issuer's DID finds it too.
    did = json.loads((out / ".well-known/did.json").read_text())
    methods = [m for m in did["verificationMethod"] if m["id"] in did["assertionMethod"]]
    assert [(m["id"], m["type"]) for m in methods if m.get("publicKeyJwk") == jwk] == [(header["kid"], "JsonWebKey")]


def test_digital_bazaar_verifies_the_proof_inside_the_vc_jwt(example, tmp_path):
    """The Data Integrity proof travels in the JWT payload (OB 3.0 §8.2) and still verifies there."""
    out = example / "output"
    _, payload, _, _ = parse_compact((out / "awards/7q4kz2m9xw/credential.jwt").read_text())
    claims = json.loads(payload)
    inner = {k: v for k, v in claims.items() if k not in ("iss", "jti", "sub", "nbf", "exp")}
    (tmp_path / "inner.json").write_text(json.dumps(inner))
    tampered = {**inner, "name": "Another badge"}
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    results = {
        Path(r["credential"]).name: r
        for r in verify_many([tmp_path / "inner.json", tmp_path / "tampered.json"], out, BASE, now=NOW)
    }
    assert results["inner.json"]["verified"] is True, results["inner.json"]
    assert results["tampered.json"]["verified"] is False


@pytest.fixture(scope="module")
def unusual(tmp_path_factory):
    """A site not designed by us: sub-path did:web, unicode, awards without ids, rotated keys."""
    root = tmp_path_factory.mktemp("ob3-unusual")
    site = write_site(
        root / "site",
        {
            "site_src/site.yaml": f"""
            base_url: {SUB_BASE}
            issuer:
              name: Ünïcødé Akademie — 技能
              url: https://example.org
              email: badges@example.org
        """,
            "site_src/assets/b.svg": (
                copy_example(root / "ex") / "site_src/assets/badges/network-cabling.svg"
            ).read_bytes(),
            "badges/weld.yaml": """
            name: Schweißen ✓ «MAG»
            description: "Kann MAG-schweißen: <sicher>."
            image: assets/b.svg
            criteria: |
              | Teil | Note |
              |---|---|
              | A | 1 |
            valid_for: P18M
            achievement_type: micro-credential
            alignment:
              - {name: ESCO welder, url: "https://esco.example/occupation/1", code: "7212.1"}
        """,
            "recipients/zoe.yaml": """
            name: Zoë 🙂 O'Neil
            email: ZOE@Example.org
            show_name: false
            awards:
              - badge: weld
                issued_on: 2024-02-29
                expires: 2030-01-01
              - badge: weld
                issued_on: 2025-06-01
                evidence:
                  - {url: "https://example.org/e?a=1&b=%3C2%3E&c=é", narrative: "Prüfstück \\"A\\""}
        """,
        },
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(root / "cache"))
        patch.setenv("BADGEKILN_KEYS_DIR", str(root / "keys"))
        from badgekiln.cli import main

        for args in (["keys", "generate"], ["build"], ["keys", "rotate"], ["revoke", None], ["build"]):
            if args[0] == "revoke":
                first = (site / "recipients/zoe.yaml").read_text().split("id: ")[1].split()[0]
                args = ["revoke", first, "--reason", "Test revocation"]
            with pytest.raises(SystemExit) as done:
                main([*args, "--source", str(site), "--today", TODAY])
            assert done.value.code == 0
    return site


def test_unusual_site_verifies_with_sub_path_did_web(unusual):
    out = unusual / "output"
    did = json.loads((out / "did.json").read_text())
    assert did["id"] == "did:web:org.github.io:badges"
    # The rotated-out keys still verify their awards: two Ed25519 keys (Data Integrity proofs) and
    # two RSA keys (VC-JWTs), all authorized for assertionMethod.
    types = {m["id"]: m["type"] for m in did["verificationMethod"]}
    assert sorted(types[i] for i in did["assertionMethod"]) == ["JsonWebKey", "JsonWebKey", "Multikey", "Multikey"]
    paths = _credentials(unusual)
    assert len(paths) == 2
    results = verify_many(paths, out, SUB_BASE, now=NOW)
    revoked = [r for r in results if r["revoked"]]
    valid = [r for r in results if r["verified"]]
    assert len(revoked) == 1 and len(valid) == 1, results
    assert all(r["proofVerified"] for r in results)
    validator = _schema_validator()
    for path in paths:
        credential = json.loads(path.read_text())
        assert not [e for v in _status_variants(credential) for e in validator.iter_errors(v)]
        assert credential["credentialSubject"]["achievement"]["achievementType"] == "MicroCredential"
        text = path.read_text().lower()
        assert "zoe@example.org" not in text and "zoë" not in text
