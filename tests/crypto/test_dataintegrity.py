"""Tests for badgekiln.crypto.dataintegrity (eddsa-rdfc-2022), anchored on the 1EdTech vector."""

from __future__ import annotations

import copy

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from badgekiln.crypto import dataintegrity, multikey
from badgekiln.errors import SigningError, VerifyError


@pytest.fixture()
def signed(vector, vector_key):
    """The vector credential signed as the vector prescribes."""
    return dataintegrity.add_proof(
        vector["unsignedCredential"],
        vector_key,
        verification_method=vector["proofOptions"]["verificationMethod"],
        created=vector["proofOptions"]["created"],
    )


@pytest.fixture()
def resolve(vector):
    """Resolves the vector's verification method, and nothing else."""
    keys = {vector["verificationMethod"]["id"]: vector["verificationMethod"]["publicKeyMultibase"]}

    def resolve_method(method: str):
        if method not in keys:
            raise VerifyError(f"unknown verification method {method!r}")
        return multikey.ed25519_from_multibase(keys[method])

    return resolve_method


def test_proof_options_match_vector(vector):
    options = dataintegrity.proof_options(
        verification_method=vector["proofOptions"]["verificationMethod"], created=vector["proofOptions"]["created"]
    )
    assert options == vector["proofOptions"]


def test_hash_data_matches_vector(vector):
    data = dataintegrity.hash_data(vector["unsignedCredential"], vector["proofOptions"])
    assert data.hex() == vector["dataToSignHex"]
    assert data[:32].hex() == vector["proofHashHex"]
    assert data[32:].hex() == vector["documentHashHex"]


def test_signature_and_proof_value_match_vector(vector, signed):
    assert signed["proof"] == {**vector["proofOptions"], "proofValue": vector["proofValue"]}
    assert base58.b58decode(signed["proof"]["proofValue"][1:]).hex() == vector["signatureHex"]


def test_add_proof_returns_a_new_document(vector, signed):
    assert "proof" not in vector["unsignedCredential"]
    assert {k: v for k, v in signed.items() if k != "proof"} == vector["unsignedCredential"]
    signed["credentialSubject"]["achievement"]["name"] = "changed"
    assert vector["unsignedCredential"]["credentialSubject"]["achievement"]["name"] == "Teamwork"


def test_verify_vector_proof(vector, signed, resolve):
    assert dataintegrity.verify_proof(signed, resolve) == signed["proof"]
    assert dataintegrity.verify_proof({**signed, "proof": [signed["proof"]]}, resolve) == signed["proof"]
    # a proof @context equal to the document's changes nothing (VC DI EdDSA verify step 4)
    with_ctx = {**signed, "proof": {**signed["proof"], "@context": signed["@context"]}}
    assert dataintegrity.verify_proof(with_ctx, resolve)["@context"] == signed["@context"]


def _tampered(document, change):
    document = copy.deepcopy(document)
    change(document)
    return document


def _flip_proof_value(d):
    value = d["proof"]["proofValue"]
    d["proof"]["proofValue"] = value[:-1] + ("r" if value[-1] != "r" else "s")


TAMPERING = {
    "credential name": lambda d: d.update(name="Leadership Badge"),
    "achievement name": lambda d: d["credentialSubject"]["achievement"].update(name="Leadership"),
    "subject id": lambda d: d["credentialSubject"].update(id="did:example:someone-else"),
    "validFrom": lambda d: d.update(validFrom="2011-01-01T00:00:00Z"),
    "type removed": lambda d: d["type"].remove("OpenBadgeCredential"),
    "field removed": lambda d: d.pop("name"),
    "proof created": lambda d: d["proof"].update(created="2010-01-02T19:23:24Z"),
    "proofValue": _flip_proof_value,
}


@pytest.mark.parametrize("change", TAMPERING.values(), ids=TAMPERING.keys())
def test_tampering_is_detected(signed, resolve, change):
    with pytest.raises(VerifyError, match="does not verify"):
        dataintegrity.verify_proof(_tampered(signed, change), resolve)


def test_wrong_key_fails(signed):
    other = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(VerifyError, match="does not verify"):
        dataintegrity.verify_proof(signed, lambda method: other)


def test_resolver_refusal_propagates(signed, resolve):
    document = _tampered(signed, lambda d: d["proof"].update(verificationMethod="https://evil.example/key"))
    with pytest.raises(VerifyError, match="unknown verification method"):
        dataintegrity.verify_proof(document, resolve)


def test_undefined_term_added_after_signing_is_an_error(signed, resolve):
    document = _tampered(signed, lambda d: d.update(grade="A+"))
    with pytest.raises(VerifyError, match="'grade' is not defined"):
        dataintegrity.verify_proof(document, resolve)


def test_undefined_term_in_proof_is_an_error(signed, resolve):
    document = _tampered(signed, lambda d: d["proof"].update(note="trust me"))
    with pytest.raises(VerifyError, match="proof options: .*'note' is not defined"):
        dataintegrity.verify_proof(document, resolve)


def test_signing_refuses_undefined_terms(vector, vector_key):
    document = {**vector["unsignedCredential"], "grade": "A+"}
    with pytest.raises(SigningError, match="'grade' is not defined"):
        dataintegrity.add_proof(
            document, vector_key, verification_method="did:example:k#1", created="2024-01-01T00:00:00Z"
        )


@pytest.mark.parametrize(
    "document_change, created",
    [
        (lambda d: d.update(proof={}), "2024-01-01T00:00:00Z"),
        (lambda d: d.pop("@context"), "2024-01-01T00:00:00Z"),
        (lambda d: None, "2024-01-01T00:00:00"),  # no time zone
        (lambda d: None, "yesterday"),
    ],
    ids=["already-signed", "no-context", "created-without-zone", "created-not-a-date"],
)
def test_signing_refusals(vector, vector_key, document_change, created):
    document = _tampered(vector["unsignedCredential"], document_change)
    with pytest.raises(SigningError):
        dataintegrity.add_proof(document, vector_key, verification_method="did:example:k#1", created=created)


MALFORMED = {
    "no proof": (lambda d: d.pop("proof"), "no proof"),
    "two proofs": (lambda d: d.update(proof=[d["proof"], d["proof"]]), "2 proofs"),
    "proof not an object": (lambda d: d.update(proof="z123"), "JSON object"),
    "wrong type": (lambda d: d["proof"].update(type="Ed25519Signature2020"), "proof type"),
    "wrong cryptosuite": (lambda d: d["proof"].update(cryptosuite="ecdsa-rdfc-2019"), "cryptosuite"),
    "wrong purpose": (lambda d: d["proof"].update(proofPurpose="authentication"), "proofPurpose"),
    "no verificationMethod": (lambda d: d["proof"].pop("verificationMethod"), "verificationMethod"),
    "created without zone": (lambda d: d["proof"].update(created="2010-01-01T19:23:24"), "created"),
    "no proofValue": (lambda d: d["proof"].pop("proofValue"), "no proofValue"),
    "proofValue not base58btc": (
        lambda d: d["proof"].update(proofValue="u" + d["proof"]["proofValue"][1:]),
        "malformed",
    ),
    "proofValue too short": (lambda d: d["proof"].update(proofValue=d["proof"]["proofValue"][:-5]), "64"),
    "proof context not a prefix": (lambda d: d["proof"].update({"@context": ["https://example.org/x"]}), "prefix"),
}


@pytest.mark.parametrize("change, reason", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_proofs_give_a_precise_reason(signed, resolve, change, reason):
    with pytest.raises(VerifyError, match=reason):
        dataintegrity.verify_proof(_tampered(signed, change), resolve)


def test_did_key_round_trip(vector):
    key = Ed25519PrivateKey.generate()
    method = multikey.did_key_verification_method(key.public_key())
    signed = dataintegrity.add_proof(
        vector["unsignedCredential"], key, verification_method=method, created="2024-05-01T12:00:00Z"
    )
    proof = dataintegrity.verify_proof(signed, multikey.ed25519_from_did_key)
    assert proof["verificationMethod"] == method


def test_verify_with_extension_context(vector):
    from badgekiln.crypto.canon import static_document_loader

    url = "https://example.org/contexts/grades.jsonld"
    loader = static_document_loader({url: {"@context": {"grade": "https://example.org/vocab#grade"}}})
    document = {**vector["unsignedCredential"], "grade": "A+"}
    document["@context"] = [*document["@context"], url]
    key = Ed25519PrivateKey.generate()
    proof = dataintegrity.proof_options(verification_method="did:example:k#1", created="2024-01-01T00:00:00Z")
    data = dataintegrity.hash_data(document, proof, loader=loader)
    signed = {**document, "proof": {**proof, "proofValue": multikey.multibase_encode(key.sign(data))}}
    assert dataintegrity.verify_proof(signed, lambda m: key.public_key(), loader=loader)
    with pytest.raises(VerifyError, match="never fetches"):
        dataintegrity.verify_proof(signed, lambda m: key.public_key())


def _utf16(line: str) -> bytes:
    return line.encode("utf-16-be", "surrogatepass")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(st.characters(exclude_categories=("Cs",)), max_size=4), max_size=6))
def test_an_order_javascript_sorts_otherwise_is_found(values):
    """Lines in RDFC-1.0's order (by code point) are refused exactly when sorting them by UTF-16
    code unit, as rdf-canonize does, would give another order."""
    lines = sorted({f'<urn:x> <urn:p> "{v}" .' for v in values if "\n" not in v})
    canonical = "".join(line + "\n" for line in lines)
    problem = dataintegrity.utf16_order_problem(canonical)
    assert (problem is None) == (lines == sorted(lines, key=_utf16))


@pytest.mark.parametrize(("tags", "refused"), [(["😀", "Ａ"], True), (["𠜎", "ｶ"], True), (["😀", "한"], False)])
def test_a_credential_javascript_verifiers_would_canonicalize_otherwise_is_not_signed(
    vector, vector_key, tags, refused
):
    """rdf-canonize (Digital Bazaar, the DCC verifier, the Learner Credential Wallet) sorts N-Quads
    by UTF-16 code unit, RDFC-1.0 by code point (an interop review: a badge tagged "😀" and "Ａ" was
    signed, and its proof failed in both JavaScript verifiers). Such a document is refused."""
    document = copy.deepcopy(vector["unsignedCredential"])
    document["credentialSubject"]["achievement"]["tag"] = tags
    sign = lambda: dataintegrity.add_proof(  # noqa: E731
        document,
        vector_key,
        verification_method=vector["proofOptions"]["verificationMethod"],
        created="2026-01-01T00:00:00Z",
    )
    if refused:
        with pytest.raises(SigningError, match="verifiers built on JavaScript"):
            sign()
    else:
        assert "proof" in sign()
