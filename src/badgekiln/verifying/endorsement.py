"""Verifying an OB 3.0 ``EndorsementCredential`` offline, against a DID document the site pinned.

A build must not use the network, and a did:web document shipped inside the endorsement file
itself would prove nothing (anyone can make a key and write ``did:web:industry.example`` next
to it). So the endorsed site commits the endorser's DID document (``site_src/endorsers/``),
reviewed like code, and the build checks the proof against exactly that document: the
endorser's key is trusted on first use, as SSH's ``known_hosts`` does. Anyone checking the
published copy later resolves the did:web live (``badgekiln verify``), so a stale pin cannot
make a forgery pass for them.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from datetime import UTC, date, datetime
from typing import Any

import jsonschema

from badgekiln.crypto import dataintegrity
from badgekiln.errors import VerifyError
from badgekiln.verifying.common import VerifyOptions, as_list, check_window, is_development_key, short
from badgekiln.verifying.methods import did_web_url, ed25519_key
from badgekiln.verifying.result import Recorder

ENDORSEMENT_TYPE = "EndorsementCredential"
VC2_CONTEXT = "https://www.w3.org/ns/credentials/v2"


@functools.cache
def _schema_validator() -> jsonschema.Draft201909Validator:
    path = importlib.resources.files("badgekiln") / "data/schemas/endorsementcredential.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    return jsonschema.Draft201909Validator(schema, format_checker=jsonschema.Draft201909Validator.FORMAT_CHECKER)


def schema_errors(credential: dict[str, Any]) -> list[str]:
    """Where ``credential`` breaks the bundled 1EdTech EndorsementCredential JSON Schema (empty: valid)."""
    document = dict(credential)
    if isinstance(document.get("proof"), dict):  # one proof stands for a one-item array (JSON-LD)
        document["proof"] = [document["proof"]]
    errors = sorted(_schema_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:160]}" for e in errors]


def check_did_document(document: Any) -> str:
    """The ``id`` of a pinned did:web DID document, after checking its shape.

    Raises:
        VerifyError: Not a JSON object with a did:web ``id`` and a ``verificationMethod`` list.
    """
    if not isinstance(document, dict):
        raise VerifyError("a DID document must be a JSON object")
    did = document.get("id")
    if not isinstance(did, str):
        raise VerifyError("a DID document needs an id")
    did_web_url(did)  # a well-formed did:web, or VerifyError
    if not isinstance(document.get("verificationMethod"), list):
        raise VerifyError(f"the DID document of {did} has no verificationMethod list")
    return did


def _absolute(ref: Any, base: str) -> Any:
    return base + ref if isinstance(ref, str) and ref.startswith("#") else ref


def _pinned_key(document: dict[str, Any], method_id: Any, issuer_id: str):
    """The Ed25519 key of ``method_id``: in the pinned document, controlled by the issuer, an assertionMethod."""
    if not isinstance(method_id, str) or method_id.partition("#")[0] != issuer_id:
        raise VerifyError(f"the proof's verificationMethod {short(method_id)} is not a key of the endorser {issuer_id}")
    methods = [
        m
        for m in as_list(document.get("verificationMethod")) + as_list(document.get("assertionMethod"))
        if isinstance(m, dict) and _absolute(m.get("id"), issuer_id) == method_id
    ]
    if not methods:
        raise VerifyError(
            f"the pinned DID document of {issuer_id} has no key {method_id} (did the endorser rotate "
            "their keys? fetch their did.json again)"
        )
    if _absolute(methods[0].get("controller"), issuer_id) != issuer_id:
        raise VerifyError(f"{method_id} is controlled by {short(methods[0].get('controller'))}, not {issuer_id}")
    authorized = [
        _absolute(m.get("id") if isinstance(m, dict) else m, issuer_id)
        for m in as_list(document.get("assertionMethod"))
    ]
    if method_id not in authorized:
        raise VerifyError(f"{issuer_id} does not list {method_id} under assertionMethod")
    return ed25519_key(methods[0])


def _day(stamp: Any, what: str) -> date:
    try:
        when = datetime.fromisoformat(str(stamp))
    except ValueError:
        raise VerifyError(f"{what} {short(stamp)} is not a date-time") from None
    if when.tzinfo is None:
        raise VerifyError(f"{what} {short(stamp)} has no time zone")
    try:
        return when.astimezone(UTC).date()
    except OverflowError:  # (9999-12-31T23:59:59-23:59 is past the last day Python has)
        raise VerifyError(f"{what} {short(stamp)} is past the year 9999") from None


def verify_endorsement(
    credential: Any, did_documents: dict[str, dict[str, Any]], *, today: date | None
) -> dict[str, Any]:
    """Verify a supplied EndorsementCredential against the pinned DID documents.

    Checks, in order: it is an ``EndorsementCredential`` with the VC 2.0 and OB 3.0 contexts; it
    is valid against the bundled JSON Schema; its issuer is a did:web whose document is pinned;
    its one ``eddsa-rdfc-2022`` proof verifies with a key that document lists under
    ``assertionMethod``; it is valid on ``today`` (``validFrom``/``validUntil``).

    Args:
        credential: The parsed JSON.
        did_documents: Pinned DID documents by their ``id``.
        today: The build's day (None: the validity dates are not checked).

    Returns:
        The credential (unchanged).

    Raises:
        VerifyError: With the reason; its message names the failing field.
    """
    if not isinstance(credential, dict):
        raise VerifyError("an endorsement must be a JSON object (an EndorsementCredential)")
    types = as_list(credential.get("type"))
    if "VerifiableCredential" not in types or ENDORSEMENT_TYPE not in types:
        raise VerifyError(f"type {short(types)} is not VerifiableCredential + EndorsementCredential")
    contexts = as_list(credential.get("@context"))
    if contexts[:1] != [VC2_CONTEXT]:
        raise VerifyError(f"@context must start with {VC2_CONTEXT} (a VC 2.0 credential)")
    errors = schema_errors(credential)
    if errors:
        raise VerifyError(f"not valid against the EndorsementCredential JSON Schema: {'; '.join(errors[:3])}")
    issuer = credential["issuer"]
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(issuer_id, str) or not issuer_id.startswith("did:web:"):
        raise VerifyError(f"the endorser {short(issuer_id)} is not a did:web: only did:web endorsers are accepted")
    document = did_documents.get(issuer_id)
    if document is None:
        raise VerifyError(f"no DID document of the endorser {issuer_id} is pinned in site_src/endorsers/")
    proofs = as_list(credential.get("proof"))
    if len(proofs) != 1 or not isinstance(proofs[0], dict):
        raise VerifyError(f"the endorsement has {len(proofs)} proofs; exactly one DataIntegrityProof is needed")
    method_id = proofs[0].get("verificationMethod")
    if is_development_key(method_id):  # (as verify refuses it: a preview build of the endorser's site signed it)
        raise VerifyError(
            f"the proof is by {short(method_id)}, a development key of the endorser's (a preview build, "
            "not their own key)"
        )
    key = _pinned_key(document, method_id, issuer_id)
    from badgekiln.verifying import ob3  # (ob3 imports this module)

    aliasing = ob3.json_ld_aliasing(credential)  # (else its validUntil could be written under another name)
    if aliasing is not None:
        raise VerifyError(f"{aliasing}: the proof would not cover the dates read from it")
    dataintegrity.verify_proof(credential, lambda vm: key if vm == method_id else _unexpected(vm))
    for field in ("validFrom", "validUntil"):  # (dates that are no dates fail here, not as "not current")
        if field in credential:
            _day(credential[field], field)
    if today is not None:
        valid_on(credential, today)
    return credential


def valid_on(credential: dict[str, Any], today: date) -> None:
    """Check that a verified endorsement is valid on ``today`` (``validFrom``, ``validUntil``).

    Raises:
        VerifyError: It is not valid yet, or no longer.
    """
    if _day(credential["validFrom"], "validFrom") > today:
        raise VerifyError(f"it is valid from {credential['validFrom']}, after the build's day {today}")
    if "validUntil" in credential and _day(credential["validUntil"], "validUntil") <= today:
        raise VerifyError(f"it expired on {credential['validUntil']}")


def _unexpected(method_id: Any) -> Any:
    raise VerifyError(f"unexpected verification method {short(method_id)}")


# --- badgekiln verify: an endorsement handed in by anyone, its did:web resolved live ------------


def is_endorsement(document: dict[str, Any]) -> bool:
    """Whether a JSON object claims to be an OB 3.0 EndorsementCredential."""
    return ENDORSEMENT_TYPE in as_list(document.get("type")) and "VerifiableCredential" in as_list(document.get("type"))


def verify_endorsement_credential(rec: Recorder, opts: VerifyOptions, credential: dict[str, Any]) -> None:
    """``badgekiln verify`` of an EndorsementCredential: content, JSON Schema, the proof through the
    endorser's DID (fetched, as for any credential), status if any, and validity dates."""
    from badgekiln.verifying import ob3

    rec.kind = "ob3-endorsement"
    contexts = as_list(credential.get("@context"))
    second = contexts[1] if len(contexts) > 1 else None
    if contexts[:1] != [VC2_CONTEXT] or not (isinstance(second, str) and ob3.OB3_CONTEXT.fullmatch(second)):
        rec.stop("@context", f"must start with the VC 2.0 and OB 3.0 contexts; starts with {short(contexts[:2])}")
    rec.ok("@context", f"{contexts[0]}, {second}")
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(issuer_id, str) or not issuer_id:
        rec.stop("issuer", f"the endorsement's issuer {short(issuer)} has no id")
    name = issuer.get("name") if isinstance(issuer, dict) else None
    rec.ok("issuer", f"{issuer_id} ({name})" if isinstance(name, str) else issuer_id)
    subject = credential.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    rec.subject.update(
        {
            "id": credential.get("id"),
            "name": credential.get("name"),
            "issuer": issuer_id,
            "issuer_name": name,
            "issued": credential.get("validFrom"),
            "expires": credential.get("validUntil"),
            "endorsed": subject.get("id"),
            "comment": subject.get("endorsementComment"),
        }
    )
    errors = schema_errors(credential)
    rec.check(
        "JSON Schema",
        not errors,
        "; ".join(errors[:3]) if errors else "valid against the 1EdTech EndorsementCredential schema",
    )
    endorsed = subject.get("id")
    rec.check(
        "endorsed",
        isinstance(endorsed, str) and bool(endorsed),
        endorsed if isinstance(endorsed, str) and endorsed else "credentialSubject has no id",
    )
    ob3.check_plain_terms(rec, credential)
    ob3._check_proof(rec, opts, credential, issuer_id)
    ob3._check_status(rec, opts, credential, issuer_id)
    check_window(
        rec,
        opts,
        credential.get("validFrom"),
        credential.get("validUntil"),
        start_name="valid from",
        start_field="validFrom",
        end_field="validUntil",
    )
    if opts.recipient is not None:  # (an endorsement names no earner: --recipient cannot hold)
        rec.fail(
            "recipient",
            f"an EndorsementCredential endorses {short(endorsed)} and is awarded to no one: "
            f"it is not a badge of {opts.recipient.strip()}",
        )
