"""Open Badges 3.0 to the letter: published contexts, the VC-JWT of §8.2, keys in did.json.

Checked on the golden output tree (the example site built with fixed keys and date), so every
assertion is about files a verifier really gets. Each §8.2 rule is quoted from the OB 3.0
specification (1EdTech, "8.2 JSON Web Token Proof Format") next to the test that checks it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from badgekiln.crypto import jws
from badgekiln.crypto.canon import CONTEXT_FILES
from badgekiln.crypto.dataintegrity import verify_proof
from badgekiln.crypto.multikey import ed25519_from_multibase, rsa_from_jwk
from badgekiln.errors import VerifyError
from badgekiln.formats import ob3
from tests.support import golden
from tests.support.fixed_keys import fixed_keys

OUT = golden.GOLDEN
BASE = "https://badges.northwind.example/"
NOW = f"{golden.TODAY}T12:00:00Z"
AWARD = "7q4kz2m9xw"  # Jane's award: has validUntil
CLAIMS = ("iss", "jti", "sub", "nbf", "exp")


def _json(path: str) -> dict:
    return json.loads((OUT / path).read_text())


def _token(award: str = AWARD) -> tuple[dict, dict]:
    header, payload, _, _ = jws.parse_compact((OUT / f"awards/{award}/credential.jwt").read_text())
    return header, json.loads(payload)


def _awards() -> list[str]:
    return sorted(p.name for p in (OUT / "awards").iterdir() if (p / "credential.jwt").is_file())


def _numeric(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC).timestamp())


def _did() -> dict:
    return _json(".well-known/did.json")


# --- 1. contexts -----------------------------------------------------------------------------


def _documents() -> list[Path]:
    """Every published JSON-LD document (not the copies of the contexts themselves that the in-page
    Verify reads from assets/contexts/)."""
    contexts = OUT / "assets/contexts"
    return sorted(
        p for p in OUT.rglob("*.json") if contexts not in p.parents and "@context" in json.loads(p.read_text())
    )


def test_every_published_context_is_a_bundled_url_never_an_inline_object():
    """Only published context URLs (openbadgeslib refuses inline ones), each bundled: nothing is fetched."""
    documents = _documents()
    kinds = {p.name for p in documents}
    assert {"credential.json", "achievement.json", "did.json", "revocation.json"} <= kinds, kinds
    for path in documents:
        contexts = json.loads(path.read_text())["@context"]
        for context in contexts if isinstance(contexts, list) else [contexts]:
            assert isinstance(context, str), f"{path.relative_to(OUT)} has an inline @context {context!r}"
            assert context in CONTEXT_FILES, f"{path.relative_to(OUT)}: {context} is not bundled"


def test_credentials_use_the_official_extensions_context_for_the_schema_validator_type():
    credential = _json(f"awards/{AWARD}/credential.json")
    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
    ]
    assert credential["credentialSchema"][0]["type"] == "1EdTechJsonSchemaValidator2019"


# --- 2. VC-JWT, OB 3.0 §8.2 --------------------------------------------------------------------


@pytest.mark.parametrize("award", _awards())
def test_jose_header(award):
    """§8.2.3: "The JOSE Header is a JSON object with the following properties (also called JOSE
    Headers). Additional JOSE Headers are NOT allowed."
    alg: "The signing algorithm MUST be "RS256" as a minimum as defined in [RFC7518]."
    kid: "A URI that can be dereferenced to an object of type JWK representing the public key used
    to verify the signature." ... "The JWK MUST never contain "d"."
    typ: "If present, MUST be set to "JWT"."

    Our kid is a DID URL of the issuer (did:web:host#<key id>): it dereferences, through the
    issuer's did.json, to the publicKeyJwk of the JsonWebKey method with that id (next test).
    """
    header, _ = _token(award)
    assert set(header) == {"alg", "kid", "typ"}
    assert header["alg"] == "RS256" and header["typ"] == "JWT"
    did, _, fragment = header["kid"].partition("#")
    assert did == _did()["id"] == "did:web:badges.northwind.example" and fragment
    jwk = json.loads((OUT / f"keys/{fragment}.jwk.json").read_text())
    assert jwk["kty"] == "RSA" and "d" not in jwk and jwk["kid"] == header["kid"]


@pytest.mark.parametrize("award", _awards())
def test_jwt_payload_claims(award):
    """§8.2.4.1: "The JWT Payload is the JSON object of the OpenBadgeCredential with the following
    properties (JWT Claims)."
    exp: "The validUntil property of the OpenBadgeCredential. Do not include this property if the
    OpenBadgeCredential does not have an validUntil."
    iss: "The issuer.id property of the OpenBadgeCredential." (required)
    jti: "The id property of the OpenBadgeCredential." (required)
    nbf: "The validFrom property of the OpenBadgeCredential." (required)
    sub: "The credentialSubject.id property of the OpenBadgeCredential." (required)
    """
    _, claims = _token(award)
    credential = _json(f"awards/{award}/credential.json")
    assert claims["iss"] == credential["issuer"]["id"]
    assert claims["jti"] == credential["id"]
    assert claims["nbf"] == _numeric(credential["validFrom"])
    assert claims["sub"] == credential["credentialSubject"]["id"]
    if "validUntil" in credential:
        assert claims["exp"] == _numeric(credential["validUntil"])
    else:
        assert "exp" not in claims
    # "The JWT Payload is the JSON object of the OpenBadgeCredential": the credential itself
    # (VC 2.0, no "vc" wrapper), member for member, proof included (next test).
    assert {k: v for k, v in claims.items() if k not in CLAIMS} == credential


def test_the_example_has_awards_with_and_without_valid_until():
    with_exp = [a for a in _awards() if "exp" in _token(a)[1]]
    assert 0 < len(with_exp) < len(_awards())


@pytest.mark.parametrize("award", _awards())
def test_the_data_integrity_proof_is_made_first_and_travels_in_the_payload(award):
    """§8.2.2: "When using the JSON Web Token Proof Format, the proof property MAY be omitted from
    the OpenBadgeCredential. If a Linked Data Proof is also provided, it MUST be created before the
    JSON Web Token Proof Format is created."
    §8.2.4: "If you are going to use both external and embedded proof formats, add the embedded
    proofs prior to creating the JWT Payload."
    §9.1 note: "the Linked Data proofs will be attached to the OpenBadgeCredential in the signed
    JWT Payload."
    """
    _, claims = _token(award)
    did = _did()
    inner = {k: v for k, v in claims.items() if k not in CLAIMS}

    def resolve(method: str):
        [vm] = [m for m in did["verificationMethod"] if m["id"] == method and method in did["assertionMethod"]]
        return ed25519_from_multibase(vm["publicKeyMultibase"])

    assert verify_proof(inner, resolve)["cryptosuite"] == "eddsa-rdfc-2022"
    with pytest.raises(VerifyError):
        verify_proof({**inner, "name": "Another badge"}, resolve)


@pytest.mark.parametrize("award", _awards())
def test_the_jwt_key_resolves_through_the_issuer_did_and_through_the_jwks(award):
    """§8.2.6: "If the header includes a kid property, Dereference the kid value to retrieve the
    public key JWK." The kid is the id of a JsonWebKey method authorized for assertionMethod in
    the issuer's did:web document (dereferencing the DID URL), and the kid of the same key in the
    JWKS and in its own keys/<id>.jwk.json, so any of the three routes finds it."""
    token = (OUT / f"awards/{award}/credential.jwt").read_text()
    header, claims = _token(award)
    did = _did()
    assert claims["iss"] == did["id"]
    by_did = [
        m["publicKeyJwk"]
        for m in did["verificationMethod"]
        if m["id"] == header["kid"]
        and m["type"] == "JsonWebKey"
        and m["controller"] == did["id"]
        and m["id"] in did["assertionMethod"]
    ]
    by_jwks = [k for k in _json("keys/jwks.json")["keys"] if k["kid"] == header["kid"]]
    by_well_known = [k for k in _json(".well-known/jwks.json")["keys"] if k["kid"] == header["kid"]]
    by_file = json.loads((OUT / f"keys/{header['kid'].partition('#')[2]}.jwk.json").read_text())
    assert by_did == by_jwks == by_well_known == [by_file]
    assert by_did[0]["kid"] == header["kid"]
    jws.verify_compact(token, rsa_from_jwk(by_did[0]))


def test_subject_id_is_stable_per_award_and_reveals_nothing():
    """Our decision for sub (README, "Open Badges 3.0"): every subject gets a urn:uuid: computed from
    the award id and its salt (both already published): stable, one per award, no personal data."""
    ids = {}
    for award in _awards():
        credential = _json(f"awards/{award}/credential.json")
        subject = credential["credentialSubject"]
        ids[award] = subject["id"]
        assert subject["id"] == ob3.subject_id(award)
        assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", subject["id"])
        assert subject["identifier"][0]["identityHash"].removeprefix("sha256$") not in subject["id"]
    assert len(set(ids.values())) == len(ids)  # does not link one earner's awards


# --- our verifier holds tokens to the same rules ------------------------------------------------


@pytest.fixture(scope="module")
def rsa_private():
    blocks = re.findall(
        r"-----BEGIN PRIVATE KEY-----.*?-----END PRIVATE KEY-----\n", fixed_keys().private_pem, re.DOTALL
    )
    keys = [serialization.load_pem_private_key(b.encode(), password=None) for b in blocks]
    return next(k for k in keys if hasattr(k, "key_size"))


def _verify(run, path: Path) -> tuple[int, dict]:
    result = run("verify", str(path), "--json", "--offline-root", f"{BASE}={OUT}", "--now", NOW)
    assert result.out, result.err
    return result.code, json.loads(result.out)


@pytest.mark.parametrize("missing", [None, "iss", "jti", "nbf", "sub"])
def test_verify_requires_the_claims_the_spec_requires(run, tmp_path, rsa_private, missing):
    """§8.2.6.1: "The JSON object MUST have the iss claim", "... MUST have the sub claim", "... MUST
    have the nbf claim", "... MUST have the jti claim"."""
    header, claims = _token()
    if missing:
        del claims[missing]
    token = jws.sign_compact(header, json.dumps(claims).encode(), rsa_private)
    (tmp_path / "c.jwt").write_text(token)
    code, report = _verify(run, tmp_path / "c.jwt")
    failed = [c["name"] for c in report["checks"] if not c["ok"]]
    if missing is None:
        assert (code, failed) == (0, []), report
        [check] = [c for c in report["checks"] if c["name"] == "JWT claims"]
        assert check["detail"] == "iss, jti, sub, nbf, exp agree with the credential"
    else:
        assert (code, failed) == (1, ["JWT claims"]), report
        [check] = [c for c in report["checks"] if c["name"] == "JWT claims"]
        assert f"the required claim {missing} is missing" in check["detail"]


def test_verify_rejects_a_sub_that_is_not_the_subject_id(run, tmp_path, rsa_private):
    """§8.2.6.1: "the value MUST match the credentialSubject.id ... If they do not match, the
    credential is not valid." """
    header, claims = _token()
    claims["sub"] = "urn:uuid:00000000-0000-5000-8000-000000000000"
    (tmp_path / "c.jwt").write_text(jws.sign_compact(header, json.dumps(claims).encode(), rsa_private))
    code, report = _verify(run, tmp_path / "c.jwt")
    assert code == 1 and [c["name"] for c in report["checks"] if not c["ok"]] == ["JWT claims"], report
