"""Open Badges 3.0 dicts: schema-valid, strictly canonicalizable, signable, private."""

from __future__ import annotations

import base64
import dataclasses
import gzip
import importlib.resources
import json
import random
import re
import zlib
from datetime import date
from typing import Any

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from badgekiln.crypto.canon import canonize
from badgekiln.crypto.dataintegrity import add_proof, verify_proof
from badgekiln.crypto.multikey import ed25519_from_multibase, rsa_from_jwk
from badgekiln.errors import SourceError, VerifyError
from badgekiln.formats import ids, ob3, statuslist
from badgekiln.formats.jsonout import dumps_hosted
from badgekiln.models import Alignment, Award, BadgeClass, Evidence, Issuer, Recipient
from badgekiln.sources.config import SiteConfig

SCHEMA_FILE = importlib.resources.files("badgekiln") / "data/schemas/achievementcredential.json"
CREATED = "2026-02-01T00:00:00Z"
EMAIL_RE = re.compile(r"[^\s\"@]+@[^\s\"@]+\.[^\s\"@]+")

ISSUER = Issuer(
    name="Example Issuer",
    url="https://example.org",
    email="badges@example.org",
    description="We teach plumbing.",
    image="assets/logo.png",
    telephone="+1 555 0100",
)
BADGE = BadgeClass(
    slug="first-badge",
    name="First Badge",
    description="The first badge.",
    image="assets/badge.svg",
    criteria="Did **the** thing.",
)
RICH_BADGE = dataclasses.replace(
    BADGE,
    tags=("plumbing", "safety"),
    achievement_type="micro-credential",
    alignment=(
        Alignment(
            name="Pipe fitting",
            url="https://framework.example/pf",
            framework="Trades",
            code="PF-1",
            description="Fits pipes.",
        ),
        Alignment(name="Only required fields", url="https://framework.example/min"),
    ),
)
RECIPIENT = Recipient(slug="ann", name="Ann Example", email="ann.recipient@example.com")
AWARD = Award(id="ann-first-1", badge="first-badge", recipient="ann", issued_on=date(2026, 1, 15))


def site(base_url: str = "https://badges.example.org/", issuer: Issuer = ISSUER) -> SiteConfig:
    return SiteConfig(base_url=base_url, issuer=issuer, title="Badges")


CASES: dict[str, dict[str, Any]] = {
    "plain": dict(
        config=site(issuer=Issuer(name="Bare", url="https://bare.example", email="b@bare.example")),
        badge=BADGE,
        recipient=RECIPIENT,
        award=AWARD,
        status_index=None,
    ),
    "expiry": dict(
        config=site(),
        badge=BADGE,
        recipient=RECIPIENT,
        status_index=None,
        award=dataclasses.replace(AWARD, expires=date(2029, 1, 15), narrative="Renew in 2029."),
    ),
    "evidence-alignment": dict(
        config=site(),
        badge=RICH_BADGE,
        recipient=RECIPIENT,
        status_index=None,
        award=dataclasses.replace(
            AWARD,
            evidence=(
                Evidence(url="https://portfolio.example/ann/1", name="Portfolio", description="Photos"),
                Evidence(narrative="Observed fitting a valve."),
            ),
        ),
    ),
    "status": dict(config=site(), badge=BADGE, recipient=RECIPIENT, award=AWARD, status_index=200_000),
    "unicode": dict(
        config=site(issuer=dataclasses.replace(ISSUER, name="Écoles Ünïes 学校")),
        badge=dataclasses.replace(
            RICH_BADGE,
            name="Soudure ✓ 焊接",
            description="Ça marche — 好",
            criteria="Naïve “quotes” 🔧",
            tags=("ünïcode", "标签"),
        ),
        recipient=dataclasses.replace(RECIPIENT, name="Zoë Ångström 张伟", email="zoë@exämple.org"),
        award=dataclasses.replace(AWARD, id="zoe-1", narrative="Très bien 👍"),
        status_index=0,
    ),
    "subpath": dict(
        config=site("https://org.github.io/badges/"), badge=RICH_BADGE, recipient=RECIPIENT, award=AWARD, status_index=7
    ),
}


def make(case: str) -> dict:
    c = CASES[case]
    return ob3.credential(c["config"], c["badge"], c["recipient"], c["award"], status_index=c["status_index"])


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft201909Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft201909Validator.check_schema(schema)
    # The schema only refers to its own $defs, so no registry (and no network) is needed.
    return jsonschema.Draft201909Validator(schema, format_checker=jsonschema.Draft201909Validator.FORMAT_CHECKER)


@dataclasses.dataclass(frozen=True)
class Key:
    kid: str
    algorithm: str
    public_key: Any
    published: bool = True


@pytest.fixture(scope="module")
def ed_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def resolver_from(did_doc: dict, issuer_id: str):
    """A resolve_method that only trusts assertion keys the DID document lists for the issuer."""

    def resolve(method: str):
        for vm in did_doc["verificationMethod"]:
            if vm["id"] == method and vm["controller"] == issuer_id and method in did_doc["assertionMethod"]:
                return ed25519_from_multibase(vm["publicKeyMultibase"])
        raise VerifyError(f"{method} is not an assertion method of {issuer_id}")

    return resolve


# --- credentials ---------------------------------------------------------------------------


def status_variants(credential: dict) -> list[dict]:
    """The credential once per ``credentialStatus`` entry. VC 2.0 (4.10) lets credentialStatus be
    "a set of one or more objects"; OB 3.0.3's schema takes one object (1EdTech
    openbadges-specification#623): badgekiln's two entries must each be a valid CredentialStatus."""
    statuses = credential.get("credentialStatus")
    if not isinstance(statuses, list):
        return [credential]
    assert [e["statusPurpose"] for e in statuses] == ["revocation", "suspension"], statuses
    return [{**credential, "credentialStatus": entry} for entry in statuses]


@pytest.mark.parametrize("case", CASES)
def test_credential_matches_the_official_schema(case, validator):
    for variant in status_variants(make(case)):
        errors = sorted(validator.iter_errors(variant), key=lambda e: list(e.path))
        assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_the_status_set_is_the_only_departure_from_the_official_schema(validator):
    """Without the set the credential passes as it is; with it, the one error is its type."""
    credential = make("status")
    errors = list(validator.iter_errors(credential))
    assert [(list(e.path), e.validator) for e in errors] == [(["credentialStatus"], "type")]
    assert not list(validator.iter_errors({**credential, "credentialStatus": credential["credentialStatus"][1]}))


@pytest.mark.parametrize("case", CASES)
def test_credential_canonicalizes_strictly(case):
    nquads = canonize(make(case))
    assert "OpenBadgeCredential" in nquads
    assert "1EdTechJsonSchemaValidator2019" in nquads  # the credentialSchema type survived


@pytest.mark.parametrize("case", CASES)
def test_credential_proof_verifies_against_the_did_document(case, ed_key, validator):
    config = CASES[case]["config"]
    vm = ob3.verification_method(config, "ed25519-2026")
    doc = ob3.did_document(config, [Key("ed25519-2026", "Ed25519", ed_key.public_key())])
    signed = add_proof(make(case), ed_key, verification_method=vm, created=CREATED)
    assert verify_proof(signed, resolver_from(doc, config.did))["verificationMethod"] == vm
    # The schema wants "proof" as an array; a one-item list verifies just the same.
    listed = {**signed, "proof": [signed["proof"]]}
    assert not [e for v in status_variants(listed) for e in validator.iter_errors(v)]
    verify_proof(listed, resolver_from(doc, config.did))
    tampered = {**signed, "name": "Other Badge"}
    with pytest.raises(VerifyError):
        verify_proof(tampered, resolver_from(doc, config.did))


@pytest.mark.parametrize("case", CASES)
def test_credential_never_publishes_the_recipient(case):
    c = CASES[case]
    cred = make(case)
    text = dumps_hosted(cred).decode("utf-8")
    email, name = c["recipient"].email, c["recipient"].name
    assert email not in text and email.split("@")[0] not in text
    assert name not in text and name.split()[0] not in text
    assert set(EMAIL_RE.findall(text)) <= {c["config"].issuer.email}
    identity = cred["credentialSubject"]["identifier"][0]
    assert identity["identityHash"] == ids.identity_hash(email, identity["salt"])
    assert identity["salt"] == ids.award_salt(c["award"].id)
    # The subject's id (needed for the VC-JWT's sub, OB 3.0 §8.2.4) is a name-based urn:uuid:
    # computed from the award id and salt only: stable, and saying nothing about the earner.
    assert cred["credentialSubject"]["id"] == ob3.subject_id(c["award"].id)
    assert re.fullmatch(
        r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", cred["credentialSubject"]["id"]
    )


@pytest.mark.parametrize("case", CASES)
def test_credential_is_plain_json_and_deterministic(case):
    cred = make(case)
    assert json.loads(dumps_hosted(cred)) == cred  # only JSON types: no tuples, sets, dates
    assert dumps_hosted(make(case)) == dumps_hosted(cred)


def test_credential_fields():
    cred = make("expiry")
    assert cred["@context"][:2] == [ob3.VC_CONTEXT, ob3.OB_CONTEXT]
    assert cred["id"] == "https://badges.example.org/awards/ann-first-1/credential.json"
    assert cred["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert cred["validFrom"] == cred["awardedDate"] == "2026-01-15T00:00:00Z"
    assert cred["validUntil"] == "2029-01-15T00:00:00Z"
    assert cred["image"] == {"id": "https://badges.example.org/badges/first-badge/image.svg", "type": "Image"}
    assert cred["issuer"] == {
        "id": "did:web:badges.example.org",
        "type": ["Profile"],
        "name": "Example Issuer",
        "url": "https://example.org",
        "email": "badges@example.org",
        "description": "We teach plumbing.",
        "image": {"id": "https://badges.example.org/assets/logo.png", "type": "Image"},
        "phone": "+1 555 0100",
    }
    assert cred["credentialSubject"]["narrative"] == "Renew in 2029."
    assert cred["credentialSchema"] == [
        {"id": ob3.ACHIEVEMENT_CREDENTIAL_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}
    ]
    assert "credentialStatus" not in cred and "evidence" not in cred
    plain = make("plain")
    assert "validUntil" not in plain and "narrative" not in plain["credentialSubject"]
    assert set(plain["issuer"]) == {"id", "type", "name", "url", "email"}


def test_credential_status_entry_and_subpath_did():
    cred = make("subpath")
    assert cred["id"] == "https://org.github.io/badges/awards/ann-first-1/credential.json"
    assert cred["issuer"]["id"] == "did:web:org.github.io:badges"
    assert cred["credentialStatus"] == [
        {
            "id": "https://org.github.io/badges/status/revocation.json#7",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "7",
            "statusListCredential": "https://org.github.io/badges/status/revocation.json",
        },
        {  # the same index in the suspension list (reversible)
            "id": "https://org.github.io/badges/status/suspension.json#7",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "suspension",
            "statusListIndex": "7",
            "statusListCredential": "https://org.github.io/badges/status/suspension.json",
        },
    ]
    assert [e["statusListIndex"] for e in make("unicode")["credentialStatus"]] == ["0", "0"]
    with pytest.raises(ValueError):
        ob3.credential(site(), BADGE, RECIPIENT, AWARD, status_index=-1)


def test_evidence_and_alignment():
    cred = make("evidence-alignment")
    assert cred["evidence"] == [
        {"type": ["Evidence"], "id": "https://portfolio.example/ann/1", "name": "Portfolio", "description": "Photos"},
        {"type": ["Evidence"], "narrative": "Observed fitting a valve."},
    ]
    ach = cred["credentialSubject"]["achievement"]
    assert ach["alignment"] == [
        {
            "type": ["Alignment"],
            "targetName": "Pipe fitting",
            "targetUrl": "https://framework.example/pf",
            "targetCode": "PF-1",
            "targetDescription": "Fits pipes.",
            "targetFramework": "Trades",
        },
        {"type": ["Alignment"], "targetName": "Only required fields", "targetUrl": "https://framework.example/min"},
    ]
    assert ach["tag"] == ["plumbing", "safety"]
    assert ach["achievementType"] == "MicroCredential"


# --- achievements --------------------------------------------------------------------------


def test_achievement_document():
    config = site("https://org.github.io/badges/")
    doc = ob3.achievement_document(config, RICH_BADGE)
    assert doc["@context"] == [ob3.VC_CONTEXT, ob3.OB_CONTEXT]
    assert doc["id"] == "https://org.github.io/badges/badges/first-badge/achievement.json"
    assert doc["criteria"] == {
        "id": "https://org.github.io/badges/badges/first-badge/",
        "narrative": "Did **the** thing.",
    }
    assert doc["creator"] == ob3.issuer_profile(config)
    assert {k: v for k, v in doc.items() if k != "@context"} == ob3.achievement(config, RICH_BADGE)
    assert "Achievement" in canonize(doc)


def test_schema_and_code_agree_on_achievement_types():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    enum = schema["$defs"]["Achievement"]["properties"]["achievementType"]["oneOf"][0]["enum"]
    assert sorted(enum) == sorted(ob3.ACHIEVEMENT_TYPES)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Badge", "Badge"),
        ("badge", "Badge"),
        ("micro-credential", "MicroCredential"),
        ("Bachelor degree", "BachelorDegree"),
        ("certificate_of_completion", "CertificateOfCompletion"),
        ("ext:Workshop", "ext:Workshop"),
        ("ext:acme.Short-course_2", "ext:acme.Short-course_2"),
    ],
)
def test_achievement_type_normalization(given, expected, validator):
    assert ob3.normalize_achievement_type(given) == expected
    badge = dataclasses.replace(BADGE, achievement_type=given)
    cred = ob3.credential(site(), badge, RECIPIENT, AWARD, status_index=None)
    assert cred["credentialSubject"]["achievement"]["achievementType"] == expected
    assert not list(validator.iter_errors(cred))


@pytest.mark.parametrize("given", ["Workshop", "Certficate", "ext:", "ext:-x", "ext:a b", "EXT:Workshop", " "])
def test_achievement_type_rejects_what_the_schema_would_not_take(given):
    with pytest.raises(ValueError):
        ob3.normalize_achievement_type(given)
    badge = dataclasses.replace(BADGE, achievement_type=given)
    with pytest.raises(SourceError):
        ob3.achievement(site(), badge)


# --- status list ---------------------------------------------------------------------------

INDEXES = {0, 7, 8, 131_071, 200_000}


def test_status_list_sets_the_right_bits():
    bits = statuslist.decode_status_list(statuslist.encode_status_list(INDEXES))
    assert len(bits) * 8 == 2 * statuslist.STATUS_LIST_MIN_BITS  # 200,000 needs a second block
    assert bits[0] == 0b1000_0001 and bits[1] == 0b1000_0000  # bit 0 = MSB of byte 0
    assert {i for i in range(len(bits) * 8) if statuslist.bit_is_set(bits, i)} == INDEXES


@pytest.mark.parametrize(
    ("indexes", "bits"),
    [
        (set(), 131_072),
        ({131_071}, 131_072),
        ({131_072}, 262_144),
        ({400_000}, 524_288),
    ],
)
def test_status_list_size(indexes, bits):
    assert len(statuslist.decode_status_list(statuslist.encode_status_list(indexes))) * 8 == bits


def test_status_list_gzip_is_deterministic_and_standard():
    first = statuslist.encode_status_list(INDEXES)
    assert statuslist.encode_status_list(sorted(INDEXES, reverse=True)) == first
    assert first.startswith("u") and "=" not in first
    raw = statuslist._gzip(bytes(16384))
    # ID1 ID2 CM=deflate FLG=0 (no name) MTIME=0 XFL=0 OS=255, whatever the Python version.
    assert raw[:10] == bytes.fromhex("1f8b08000000000000ff")
    assert gzip.decompress(raw) == bytes(16384)
    assert len(raw) < 200


def test_status_list_deflate_round_trips_any_bytes():
    rng = random.Random(20260115)
    samples = [
        bytes(rng.randrange(256) for _ in range(3000)),
        bytes(rng.choice((0, 0, 0, 255, rng.randrange(256))) for _ in range(50_000)),
        *(b"\x05" * n for n in range(0, 600, 7)),
        bytes(range(256)) * 3,
    ]
    for data in samples:
        assert zlib.decompress(statuslist._deflate_runs(data), wbits=-15) == data
        assert gzip.decompress(statuslist._gzip(data)) == data


def test_status_list_random_indexes_round_trip():
    rng = random.Random(7)
    wanted = {i for i in range(8192) if rng.random() < 0.5} | {rng.randrange(300_000) for _ in range(50)}
    bits = statuslist.decode_status_list(statuslist.encode_status_list(wanted))
    assert {i for i in range(len(bits) * 8) if statuslist.bit_is_set(bits, i)} == wanted


def test_status_list_credential(ed_key):
    config = site("https://org.github.io/badges/")
    cred = statuslist.status_list_credential(config, INDEXES, valid_from=CREATED)
    assert cred["id"] == "https://org.github.io/badges/status/revocation.json"
    assert cred["issuer"] == "did:web:org.github.io:badges"
    assert cred["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert cred["validFrom"] == CREATED
    subject = cred["credentialSubject"]
    assert subject["id"] == cred["id"] + "#list"
    assert (subject["type"], subject["statusPurpose"]) == ("BitstringStatusList", "revocation")
    assert statuslist.bit_is_set(statuslist.decode_status_list(subject["encodedList"]), 200_000)
    assert "<https://www.w3.org/ns/credentials/status#encodedList>" in canonize(cred)
    vm = ob3.verification_method(config, "k1")
    doc = ob3.did_document(config, [Key("k1", "Ed25519", ed_key.public_key())])
    verify_proof(add_proof(cred, ed_key, verification_method=vm, created=CREATED), resolver_from(doc, config.did))
    assert statuslist.status_list_credential(config, set(INDEXES), valid_from=CREATED) == cred


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_status_list_refuses_bad_indexes(bad):
    with pytest.raises(ValueError):
        statuslist.encode_status_list({bad})


def _encode(raw: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("encoded", "reason"),
    [
        ("z" + statuslist.encode_status_list(set())[1:], "starting with 'u'"),
        ("u!!!", "base64url"),
        ("uAAAA=", "base64url"),
        (_encode(b"not gzip at all"), "GZIP"),
        (_encode(gzip.compress(bytes(1024), mtime=0)), "minimum"),
        (_encode(gzip.compress(bytes(16384), mtime=0) * 2), "exactly one"),
        (_encode(gzip.compress(bytes(16384), mtime=0)[:-4]), "exactly one"),
    ],
)
def test_decode_status_list_refuses_malformed_lists(encoded, reason):
    with pytest.raises(VerifyError, match=reason):
        statuslist.decode_status_list(encoded)


def test_decode_status_list_limits_decompressed_size(monkeypatch):
    monkeypatch.setattr(statuslist, "STATUS_LIST_MAX_BYTES", 20_000)
    with pytest.raises(VerifyError, match="larger than"):
        statuslist.decode_status_list(statuslist.encode_status_list({200_000}))


def test_decode_status_list_reads_other_encoders():
    data = bytearray(16384)
    data[2] = 0b0010_0000  # index 18
    bits = statuslist.decode_status_list(_encode(gzip.compress(bytes(data), mtime=1234)))
    assert statuslist.bit_is_set(bits, 18) and not statuslist.bit_is_set(bits, 17)


@pytest.mark.parametrize("index", [-1, 131_072, "5", True])
def test_bit_is_set_refuses_out_of_range(index):
    with pytest.raises(VerifyError):
        statuslist.bit_is_set(bytes(16384), index)


# --- keys ----------------------------------------------------------------------------------


def test_did_document(ed_key, rsa_key):
    """RSA (VC-JWT) keys are JsonWebKey methods under assertionMethod, next to the Ed25519 Multikeys,
    so a verifier can resolve a JWT's key through the issuer's DID as well as through the JWKS;
    retired keys are left out of both."""
    config = site("https://org.github.io/badges/")
    retired = ed25519.Ed25519PrivateKey.generate().public_key()
    retired_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    keys = [
        Key("ed-old", "Ed25519", retired, published=False),
        Key("rsa-1", "RS256", rsa_key.public_key()),
        Key("rsa-0", "RS256", retired_rsa, published=False),
        Key("ed-new", "Ed25519", ed_key.public_key()),
    ]
    doc = ob3.did_document(config, keys)
    jwk = ob3.jwks(config, keys)["keys"][0]
    assert doc == {
        "@context": [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/multikey/v1",
            "https://w3id.org/security/jwk/v1",
        ],
        "id": "did:web:org.github.io:badges",
        "verificationMethod": [
            {
                "id": "did:web:org.github.io:badges#rsa-1",
                "type": "JsonWebKey",
                "controller": "did:web:org.github.io:badges",
                "publicKeyJwk": jwk,
            },
            {
                "id": "did:web:org.github.io:badges#ed-new",
                "type": "Multikey",
                "controller": "did:web:org.github.io:badges",
                "publicKeyMultibase": doc["verificationMethod"][1]["publicKeyMultibase"],
            },
        ],
        "assertionMethod": ["did:web:org.github.io:badges#rsa-1", "did:web:org.github.io:badges#ed-new"],
    }
    # The JWT header's kid is the method's id (a DID URL of the issuer), and the JWK's own kid:
    # the same key whichever way a verifier looks it up.
    assert jwk["kid"] == ob3.jwt_header(config, "rsa-1")["kid"] == "did:web:org.github.io:badges#rsa-1"
    assert "d" not in jwk
    assert ed25519_from_multibase(doc["verificationMethod"][1]["publicKeyMultibase"]) == ed_key.public_key()
    assert (
        rsa_from_jwk(doc["verificationMethod"][0]["publicKeyJwk"]).public_numbers()
        == rsa_key.public_key().public_numbers()
    )
    # Only published context URLs, and every term is defined by them (strict canonicalization).
    assert all(isinstance(c, str) for c in doc["@context"])
    nquads = canonize(doc)
    assert "https://w3id.org/security#JsonWebKey" in nquads and "Multikey" in nquads


def test_jwks(ed_key, rsa_key):
    old = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    keys = [
        Key("rsa-1", "RS256", rsa_key.public_key()),
        Key("rsa-0", "RS256", old, published=False),
        Key("ed-1", "Ed25519", ed_key.public_key()),
    ]
    result = ob3.jwks(site(), keys)
    # the kid a VC-JWT header carries: the DID URL of the key's JsonWebKey method in did.json
    assert [k["kid"] for k in result["keys"]] == ["did:web:badges.example.org#rsa-1"]
    assert result["keys"][0]["kid"] == ob3.jwt_header(site(), "rsa-1")["kid"]
    jwk = result["keys"][0]
    assert set(jwk) == {"kty", "n", "e", "alg", "use", "kid"}
    assert rsa_from_jwk(jwk).public_numbers() == rsa_key.public_key().public_numbers()
    assert ob3.jwks(site(), []) == {"keys": []}


def test_verification_method():
    assert ob3.verification_method(site(), "key-0") == "did:web:badges.example.org#key-0"
    assert ob3.verification_method(site("https://localhost:8443/a/b/"), "k") == "did:web:localhost%3A8443:a:b#k"
