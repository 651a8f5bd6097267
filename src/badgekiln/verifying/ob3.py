"""Open Badges 3.0 verification: credentials with an embedded ``eddsa-rdfc-2022`` proof, and VC-JWTs.

Follows the checklists of Open Badges 3.0 section 8 and VC Data Model 2.0 section 7. Contexts come
from the bundled copies only (:mod:`badgekiln.crypto.canon`); the JSON Schema is the bundled
1EdTech AchievementCredential schema, whatever ``credentialSchema`` names.
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
import json
import re
from datetime import UTC, datetime
from typing import Any

import jsonschema

from badgekiln.crypto import dataintegrity, jws
from badgekiln.errors import VerifyError
from badgekiln.formats.statuslist import bit_is_set, decode_status_list
from badgekiln.verifying.common import (
    VerifyOptions,
    as_list,
    check_own_key,
    check_window,
    fetch_json,
    identity_matches,
    is_web_url,
    load_json,
    node_id,
    one_of,
    parse_instant,
    parse_jws,
    recipient_detail,
    short,
    stamp,
)
from badgekiln.verifying.methods import ed25519_key, jwt_key, resolve_method
from badgekiln.verifying.result import Recorder, unfetched

VC2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VC1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
OB3_CONTEXT = re.compile(r"https://purl\.imsglobal\.org/spec/ob/v3p0/context(-3\.\d\.\d)*\.json")
BADGE_TYPES = frozenset({"OpenBadgeCredential", "AchievementCredential"})
JWT_CLAIMS = ("iss", "jti", "sub", "nbf", "exp", "iat", "aud")
_JWT_HEADER_MEMBERS = frozenset({"alg", "kid", "jwk", "typ"})
_JWT_TYPES = frozenset({"JWT", "vc+jwt", "vc+ld+json+jwt"})
_REVOKING_PURPOSES = {"revocation": "revoked", "suspension": "suspended"}


def is_credential(document: dict[str, Any]) -> bool:
    """Whether a JSON object claims to be a verifiable credential."""
    return "VerifiableCredential" in as_list(document.get("type"))


def verify_credential(rec: Recorder, opts: VerifyOptions, credential: dict[str, Any]) -> None:
    """Verify a credential secured with an embedded Data Integrity proof."""
    rec.kind = "ob3-credential"
    issuer_id = _check_content(rec, credential)
    check_plain_terms(rec, credential)
    _check_proof(rec, opts, credential, issuer_id)
    _check_state(rec, opts, credential, issuer_id)


def verify_vc_jwt(rec: Recorder, opts: VerifyOptions, token: str) -> None:
    """Verify a credential secured as a VC-JWT (RS256)."""
    rec.kind = "ob3-jwt"
    with rec.guard("JWT header"):
        header, payload, _, _ = parse_jws(token)
        _check_jwt_header(header)
        claims = load_json(payload, "the JWT payload")
    rec.ok("JWT header", f"RS256, key from {'kid ' + str(header['kid']) if 'kid' in header else 'an embedded jwk'}")
    credential = credential_of(claims)
    issuer_id = _check_content(rec, credential)
    with rec.guard("JWT key"):
        found = jwt_key(opts, header, issuer_id)
    rec.ok("JWT key", found.how)
    with rec.guard("signature"):
        jws.verify_compact(token, found.key)
    rec.ok("signature", "the RS256 signature verifies")
    check_own_key(rec, *found.names)  # the key that verified, however the header named it
    _check_claims(rec, claims, credential)
    if "proof" in credential:  # an embedded proof made before the JWT claims were added
        _check_proof(rec, opts, {k: v for k, v in credential.items() if k not in JWT_CLAIMS}, issuer_id)
    _check_state(rec, opts, credential, issuer_id)


def credential_of(claims: dict[str, Any]) -> dict[str, Any]:
    """The credential in a VC-JWT payload: the payload itself (VC 2.0) or its ``vc`` claim (VC 1.1),
    with VC 1.1's claims-for-properties filled in (iss → issuer, jti → id, sub → subject id,
    nbf → issuanceDate, exp → expirationDate)."""
    if not isinstance(claims.get("vc"), dict):
        return claims
    credential = copy.deepcopy(claims["vc"])
    if "issuer" not in credential and "iss" in claims:
        credential["issuer"] = claims["iss"]
    if "id" not in credential and "jti" in claims:
        credential["id"] = claims["jti"]
    subject = credential.get("credentialSubject")
    if isinstance(subject, dict) and "id" not in subject and "sub" in claims:
        subject["id"] = claims["sub"]
    for claim, old, new in (("nbf", "issuanceDate", "validFrom"), ("exp", "expirationDate", "validUntil")):
        if old not in credential and new not in credential and isinstance(claims.get(claim), int | float):
            try:
                credential[old] = stamp(datetime.fromtimestamp(claims[claim], tz=UTC))
            except (OverflowError, OSError, ValueError):  # a year past 9999: left out, and reported missing
                continue
    return credential


def _check_jwt_header(header: dict[str, Any]) -> None:
    if header.get("alg") != jws.ALGORITHM:
        raise VerifyError(f"JWT alg is {short(header.get('alg'))}; only RS256 is accepted")
    if extra := sorted(set(header) - _JWT_HEADER_MEMBERS):
        raise VerifyError(f"JWT header has members {extra}; only alg, kid, jwk and typ are allowed")
    if "typ" in header and not one_of(header["typ"], _JWT_TYPES):
        raise VerifyError(f"JWT typ is {short(header['typ'])}, not JWT")


# --- content ---------------------------------------------------------------------------------


_VALUE_KEYWORDS = frozenset(("@value", "@language", "@direction"))  # a value object's, with @value


def json_ld_aliasing(document: dict[str, Any]) -> str | None:
    """Why the JSON of ``document`` may say something other than what a Data Integrity proof
    signs, or None.

    The proof signs the RDF (the canonical N-Quads), but the checks read JSON members by name:
    ``credentialStatus``, ``validUntil``, ``issuer``. JSON-LD lets one property be written under
    another key with the same meaning: its full IRI (``"https://www.w3.org/2018/credentials#
    credentialStatus"``), a compact IRI, or a term that an inline ``@context`` object defines.
    Such a document keeps its proof while a check that looks for ``credentialStatus`` finds none
    ("cannot be revoked") or one for ``validUntil`` finds none ("does not expire"). So only the
    terms of the bundled contexts are taken: every ``@context`` entry a URL, at the top level only,
    and no key that is an IRI or a keyword (the credentials badgekiln and other issuers publish
    have none; ``@nest``, ``@included``, ``@graph`` or ``@reverse`` would carry properties too),
    but a value object's ``@value``, ``@language`` and ``@direction`` (a text in a language, VC
    Data Model 2.0 §11.1: no property can hide there)."""
    contexts = as_list(document.get("@context"))
    if any(not isinstance(c, str) for c in contexts):
        return "an @context entry is an inline object, not the URL of a known context"
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, list):
            if any(item is None for item in node):
                return (
                    f"a null in the array {short(where or '(root)')}: JSON-LD drops it, so the proof does not cover it"
                )
            stack.extend((item, where) for item in node)
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            if key == "@context" and node is document:
                continue
            if key in _VALUE_KEYWORDS and "@value" in node:
                continue
            if ":" in key or key.startswith("@"):
                return f"the member {short(key)}{' of ' + where if where else ''} is an IRI or a keyword, not a term"
            if value is None:  # (JSON-LD drops it: a null validUntil hid a signed VC 1.1 expirationDate)
                return (
                    f"the member {short(key)}{' of ' + where if where else ''} is null: JSON-LD drops it, "
                    "so the proof does not cover it"
                )
            stack.append((value, f"{where}/{key}" if where else key))
    return None


def check_plain_terms(rec: Recorder, document: dict[str, Any]) -> None:
    """Stop unless :func:`json_ld_aliasing` finds nothing: the JSON the checks read is then the
    data the proof signs."""
    problem = json_ld_aliasing(document)
    if problem is not None:
        rec.stop(
            "JSON-LD terms",
            f"{problem}: the proof would not cover what the checks read (a status or an expiry date "
            "could be hidden under another name), so it is not accepted",
        )
    rec.ok("JSON-LD terms", "only the terms of the known contexts: the checks read what the proof signs")


def _check_content(rec: Recorder, credential: dict[str, Any]) -> Any:
    """@context, type, issuer, JSON Schema and subject; returns the issuer id."""
    contexts = as_list(credential.get("@context"))
    first = contexts[0] if contexts else None
    second = contexts[1] if len(contexts) > 1 else None
    if first not in (VC2_CONTEXT, VC1_CONTEXT) or not (isinstance(second, str) and OB3_CONTEXT.fullmatch(second)):
        rec.stop(
            "@context", f"must start with the VC context and the OB 3.0 context; starts with {short(contexts[:2])}"
        )
    rec.ok("@context", f"{first}, {second}")
    types = as_list(credential.get("type"))
    if "VerifiableCredential" not in types or not any(one_of(t, BADGE_TYPES) for t in types):
        rec.stop("type", f"{short(types)} lacks VerifiableCredential and OpenBadgeCredential/AchievementCredential")
    rec.ok("type", ", ".join(map(str, types)))
    issuer = credential.get("issuer")
    issuer_id = node_id(issuer)
    if not isinstance(issuer_id, str) or not issuer_id:
        rec.stop("issuer", f"the credential's issuer {short(issuer)} has no id")
    name = issuer.get("name") if isinstance(issuer, dict) else None
    rec.ok("issuer", f"{issuer_id} ({name})" if isinstance(name, str) else issuer_id)
    _summarize(rec, credential, issuer_id, name)
    _check_schema(rec, credential, vc1=first == VC1_CONTEXT)
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict) or not (subject.get("id") or as_list(subject.get("identifier"))):
        rec.fail("credential subject", "credentialSubject must be one object with an id or an identifier")
    else:
        rec.ok("credential subject", f"names its recipient by {'id' if subject.get('id') else 'identifier'}")
    return issuer_id


def _summarize(rec: Recorder, credential: dict[str, Any], issuer_id: str, issuer_name: Any) -> None:
    subject = credential.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    achievement = subject.get("achievement")
    achievement = achievement if isinstance(achievement, dict) else {}
    identifiers = [i for i in as_list(subject.get("identifier")) if isinstance(i, dict)]
    rec.subject.update(
        {
            "id": credential.get("id"),
            "name": credential.get("name"),
            "badge": achievement.get("id"),
            "badge_name": achievement.get("name"),
            "issuer": issuer_id,
            "issuer_name": issuer_name,
            "issued": credential.get("validFrom", credential.get("issuanceDate")),
            "expires": credential.get("validUntil", credential.get("expirationDate")),
            "recipient": subject.get("id") or (identifiers[0] if identifiers else None),
        }
    )


@functools.cache
def _schema_validator() -> jsonschema.Draft201909Validator:
    path = importlib.resources.files("badgekiln") / "data/schemas/achievementcredential.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    return jsonschema.Draft201909Validator(schema, format_checker=jsonschema.Draft201909Validator.FORMAT_CHECKER)


@functools.cache
def _status_validator() -> jsonschema.Draft201909Validator:
    """The schema's ``CredentialStatus`` alone (its ``$defs``, resolved in the whole schema)."""
    whole = _schema_validator()
    return whole.evolve(schema={"$ref": whole.schema["$id"] + "#/$defs/CredentialStatus"})


def _check_schema(rec: Recorder, credential: dict[str, Any], *, vc1: bool) -> None:
    if vc1:
        rec.ok("JSON Schema", "not applicable: the bundled OB 3.0 schema describes VC 2.0 credentials")
        return
    # JSON-LD lets one value stand for a one-item array (spec 4.1): a single proof object, as
    # Digital Bazaar's libraries write it, means the same as the array the schema asks for.
    document = {k: v for k, v in credential.items() if k not in JWT_CLAIMS}
    for name in ("proof", "credentialSchema"):
        if isinstance(document.get(name), dict):
            document[name] = [document[name]]
    # VC 2.0 (section 4.10) lets credentialStatus be "a single object or a set of one or more
    # objects"; OB 3.0.3's schema allows one (1EdTech openbadges-specification#623 proposes a set
    # for 3.1). A set (badgekiln's revocation and suspension entries) passes when each of its
    # entries is a valid CredentialStatus.
    # The document is checked once, with the first entry; each other entry alone, against the
    # schema's CredentialStatus (the whole document once per entry took quadratic time: a 377 KB
    # credential of 1,000 entries and 1,000 alignments, 77 s, before any signature; a review).
    statuses = document.get("credentialStatus")
    others: list[Any] = []
    if isinstance(statuses, list) and statuses:
        document["credentialStatus"], others = statuses[0], statuses[1:]
    found = [(tuple(map(str, e.absolute_path)), e.message) for e in _schema_validator().iter_errors(document)]
    if others:
        found = [
            (("credentialStatus", "0", *path[1:]) if path[:1] == ("credentialStatus",) else path, message)
            for path, message in found
        ]
    for index, entry in enumerate(others, start=1):
        found += [
            (("credentialStatus", str(index), *map(str, e.absolute_path)), e.message)
            for e in _status_validator().iter_errors(entry)
        ]
    errors = sorted(set(found))
    if not errors:
        rec.ok("JSON Schema", "valid against the 1EdTech AchievementCredential schema")
        return
    shown = "; ".join(f"{'/'.join(path) or '(root)'}: {message[:120]}" for path, message in errors[:3])
    rec.fail("JSON Schema", f"{len(errors)} error(s): {shown}")


# --- proof, status, dates, recipient ----------------------------------------------------------


def _check_proof(rec: Recorder, opts: VerifyOptions, credential: dict[str, Any], issuer_id: str) -> None:
    proofs = as_list(credential.get("proof"))
    if len(proofs) != 1 or not isinstance(proofs[0], dict):
        rec.stop("proof", f"the credential has {len(proofs)} proofs; exactly one DataIntegrityProof is needed")
    method_id = proofs[0].get("verificationMethod")
    with rec.guard("verification method"):
        method, how = resolve_method(opts, method_id, issuer_id)
        key = ed25519_key(method)
    rec.ok("verification method", f"{method_id}: {how}")
    with rec.guard("proof"):
        proof = dataintegrity.verify_proof(credential, lambda vm: key if vm == method_id else _other(vm))
    rec.ok("proof", "the eddsa-rdfc-2022 proof verifies")
    check_own_key(rec, method_id)
    created = proof.get("created")
    if created is None:
        rec.ok("proof created", "the proof has no created date")
        return
    with rec.guard("proof created"):
        when = parse_instant(created, "proof created")
    rec.check(
        "proof created", when <= opts.clock, f"created {created}" + ("" if when <= opts.clock else " is in the future")
    )


def _other(method_id: Any) -> Any:
    raise VerifyError(f"unexpected verification method {short(method_id)}")


def _check_status(rec: Recorder, opts: VerifyOptions, credential: dict[str, Any], issuer_id: str) -> None:
    entries = as_list(credential.get("credentialStatus"))
    if not entries:
        rec.ok("not revoked", "the credential has no credentialStatus: its issuer cannot revoke it")
        return
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
            kind = entry.get("type") if isinstance(entry, dict) else entry
            rec.fail("not revoked", f"status type {short(kind)} cannot be checked (only BitstringStatusListEntry)")
            continue
        purpose, url = entry.get("statusPurpose"), entry.get("statusListCredential")
        index = entry.get("statusListIndex")
        # (ASCII digits only, as the Bitstring Status List writes an index: str.isdigit also takes
        # "²" and other scripts' digits, which int() then refused in an internal error; a review)
        if isinstance(index, str) and index.isascii() and index.isdigit() and len(index) <= 12:
            index = int(index)
        try:
            if type(index) is not int or not isinstance(url, str) or not isinstance(purpose, str):
                raise VerifyError(
                    "the status entry needs a statusListCredential URL, a statusPurpose and a statusListIndex number"
                )
            bits = _status_bits(opts, url, purpose, issuer_id)
            is_set = bit_is_set(bits, index)
        except VerifyError as e:
            rec.fail("status list", str(e), unchecked=unfetched(e))
            continue
        rec.ok("status list", f"{url}: signed by the issuer, {purpose} list")
        if one_of(purpose, _REVOKING_PURPOSES):
            word = _REVOKING_PURPOSES[purpose]
            if is_set:
                rec.subject[word] = True
            # A suspension is reversible (Bitstring Status List: "suspension ... is reversible"),
            # so it is a check of its own: the verdict says "suspended", not "revoked".
            rec.check(
                f"not {word}",
                not is_set,
                (
                    f"{word}: bit {index} of {url} is set"
                    + (
                        " (a suspension: the issuer may lift it; the list gives no reason)"
                        if word == "suspended"
                        else ""
                    )
                )
                if is_set
                else f"bit {index} of {url} is clear: not {word}",
            )


def _status_bits(opts: VerifyOptions, url: Any, purpose: Any, issuer_id: str) -> bytes:
    """Fetch and verify a BitstringStatusListCredential; returns its bitstring."""
    if not is_web_url(url):
        raise VerifyError(f"statusListCredential {short(url)} is not an http(s) URL")
    listing = fetch_json(opts, url, "the status list")
    if (aliasing := json_ld_aliasing(listing)) is not None:
        raise VerifyError(f"the status list {url}: {aliasing}")
    if "BitstringStatusListCredential" not in as_list(listing.get("type")):
        raise VerifyError(f"{url} is not a BitstringStatusListCredential")
    if node_id(listing.get("issuer")) != issuer_id:
        raise VerifyError(f"{url} is issued by {short(node_id(listing.get('issuer')))}, not by {issuer_id}")
    proofs = as_list(listing.get("proof"))
    method_id = proofs[0].get("verificationMethod") if len(proofs) == 1 and isinstance(proofs[0], dict) else None
    method, _ = resolve_method(opts, method_id, issuer_id)
    key = ed25519_key(method)
    try:
        proof = dataintegrity.verify_proof(listing, lambda vm: key if vm == method_id else _other(vm))
    except VerifyError as e:
        raise VerifyError(f"status list {url}: {e}") from e
    if "created" in proof and parse_instant(proof["created"], "status list proof created") > opts.clock:
        raise VerifyError(f"the status list's proof was created in the future ({proof['created']})")
    start, end = listing.get("validFrom", listing.get("issuanceDate")), listing.get("validUntil")
    if start is not None and parse_instant(start, "status list validFrom") > opts.clock:
        raise VerifyError(f"the status list {url} is not valid before {start}")
    if end is not None and parse_instant(end, "status list validUntil") <= opts.clock:
        raise VerifyError(f"the status list {url} expired on {end}")
    subject = listing.get("credentialSubject")
    if not isinstance(subject, dict) or purpose not in as_list(subject.get("statusPurpose")):
        raise VerifyError(f"the status list {url} is not a {short(purpose)} list")
    encoded = subject.get("encodedList")
    if not isinstance(encoded, str):
        raise VerifyError(f"the status list {url} has no encodedList")
    return decode_status_list(encoded)


def _check_claims(rec: Recorder, claims: dict[str, Any], credential: dict[str, Any]) -> None:
    """iss/jti/sub/nbf/exp must say what the credential says (OB 3.0 §8.2.6.1).

    "The JSON object MUST have the iss [jti, nbf, sub] claim": a token without iss, jti or nbf
    fails. A missing ``sub`` fails when the subject has an ``id`` to match; a subject identified
    only by ``identifier`` has nothing ``sub`` could equal, so its absence is reported, not failed.
    """
    subject = credential.get("credentialSubject")
    subject_id = subject.get("id") if isinstance(subject, dict) else None
    expected = {"iss": node_id(credential.get("issuer")), "jti": credential.get("id"), "sub": subject_id}
    problems = [
        f"{claim} is {short(claims[claim])}, the credential says {short(value)}"
        for claim, value in expected.items()
        if claim in claims and claims[claim] != value
    ]
    required = ["iss", "jti", "nbf"] + (["sub"] if subject_id is not None else [])
    problems += [f"the required claim {claim} is missing" for claim in required if claim not in claims]
    for claim, names in (("nbf", ("validFrom", "issuanceDate")), ("exp", ("validUntil", "expirationDate"))):
        if claim not in claims:
            continue
        value = next((credential[n] for n in names if n in credential), None)
        if value is None:
            problems.append(f"{claim} is set but the credential has no {names[0]}")
            continue
        try:
            if not isinstance(claims[claim], int | float) or isinstance(claims[claim], bool):
                raise VerifyError(f"{claim} {short(claims[claim])} is not a NumericDate")
            if int(claims[claim]) != int(parse_instant(value, names[0]).timestamp()):
                problems.append(f"{claim} {claims[claim]} is not {names[0]} {value}")
        except VerifyError as e:
            problems.append(str(e))
    present = ", ".join(c for c in ("iss", "jti", "sub", "nbf", "exp") if c in claims)
    rec.check(
        "JWT claims",
        not problems,
        "; ".join(problems)
        if problems
        else f"{present} agree with the credential" + ("" if "sub" in claims else " (no sub: the subject has no id)"),
    )


def _check_state(rec: Recorder, opts: VerifyOptions, credential: dict[str, Any], issuer_id: str) -> None:
    _check_status(rec, opts, credential, issuer_id)
    start = credential.get("validFrom", credential.get("issuanceDate"))
    end = credential.get("validUntil", credential.get("expirationDate"))
    check_window(
        rec,
        opts,
        start,
        end,
        start_name="valid from",
        start_field="validFrom" if "validFrom" in credential else "issuanceDate",
        end_field="validUntil" if "expirationDate" not in credential else "expirationDate",
    )
    if opts.recipient is not None:
        _check_recipient(rec, opts.recipient, credential.get("credentialSubject"))


def _check_recipient(rec: Recorder, email: str, subject: Any) -> None:
    subject = subject if isinstance(subject, dict) else {}
    subject_id = subject.get("id")
    if isinstance(subject_id, str) and subject_id.lower().startswith("mailto:"):
        match = identity_matches(email, hashed=False, identity=subject_id[len("mailto:") :], salt=None)
        if match:
            rec.ok("recipient", recipient_detail(match))
            return
    emails = [
        i for i in as_list(subject.get("identifier")) if isinstance(i, dict) and i.get("identityType") == "emailAddress"
    ]
    if not emails:
        rec.fail("recipient", "the credential names no email address (identityType emailAddress)")
        return
    with rec.guard("recipient"):
        match = next(
            (
                m
                for i in emails
                if (
                    m := identity_matches(
                        email, hashed=i.get("hashed"), identity=i.get("identityHash"), salt=i.get("salt")
                    )
                )
            ),
            None,
        )
    rec.check(
        "recipient",
        match is not None,
        recipient_detail(match) if match else f"not awarded to {email.strip()} (the identity hash does not match)",
    )
