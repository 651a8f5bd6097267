"""Open Badges 2.0 verification: hosted assertions and signed (JWS) assertions.

Follows the spec's checklists (Open Badges 2.0, "Verification", and the 1EdTech validator's checks). Only
the copy of a hosted assertion fetched from its own ``id`` is trusted; a copy that came with the
input (a file, a baked image) must be identical to it.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from badgekiln.crypto import jws
from badgekiln.errors import VerifyError
from badgekiln.formats.ob2 import SUSPENDED_PREFIX
from badgekiln.verifying.common import (
    VerifyOptions,
    as_list,
    check_own_key,
    check_window,
    fetch_json,
    identity_matches,
    is_development_key,
    is_web_url,
    load_json,
    node_id,
    one_of,
    parse_jws,
    recipient_detail,
    short,
)
from badgekiln.verifying.fetching import FetchError
from badgekiln.verifying.result import Recorder, unfetched

OB2_PREFIX = "https://w3id.org/openbadges#"
HOSTED_TYPES = frozenset({"HostedBadge", "hosted"})
SIGNED_TYPES = frozenset({"SignedBadge", "signed"})
_ASSERTION_FIELDS = ("id", "type", "recipient", "badge", "verification", "issuedOn")
_BADGE_FIELDS = ("id", "type", "name", "description", "image", "criteria", "issuer")
_ISSUER_FIELDS = ("id", "type", "name", "url", "email")


def has_type(node: dict[str, Any], name: str) -> bool:
    """Whether an OB 2.0 node's ``type`` (one or many, short or full IRI) includes ``name``."""
    return any(t in (name, OB2_PREFIX + name) for t in as_list(node.get("type")))


def verification_of(assertion: dict[str, Any]) -> dict[str, Any]:
    """The assertion's VerificationObject (``verification``, or its alias ``verify``)."""
    value = assertion.get("verification", assertion.get("verify"))
    return value if isinstance(value, dict) else {}


def verify_hosted(rec: Recorder, opts: VerifyOptions, url: str, given: dict[str, Any] | None) -> None:
    """Verify the hosted assertion served at ``url``; ``given`` is a copy that came with the input."""
    rec.kind = "ob2-hosted"
    try:
        data = opts.fetch(url)
    except FetchError as e:
        if e.status == 410:
            rec.stop("not revoked", f"{url} answers 410 Gone: the issuer has withdrawn it")
        rec.stop("fetch assertion", str(e), unchecked=unfetched(e))
    with rec.guard("fetch assertion"):
        assertion = load_json(data, f"the assertion at {url}")
    if assertion.get("id") != url:
        rec.stop("fetch assertion", f"the document at {url} declares id {short(assertion.get('id'))}, not its URL")
    rec.ok("fetch assertion", f"fetched {url}")
    if given is not None and rec.input_url != url:  # (given by its URL, the copy is the hosted one: nothing to compare)
        differ = sorted(k for k in set(given) | set(assertion) if given.get(k) != assertion.get(k))
        rec.check(
            "matches hosted copy",
            not differ,
            "the copy given is the one the issuer hosts"
            if not differ
            else f"the copy given differs from the hosted one in: {', '.join(differ)}",
        )
    _summarize(rec, assertion)
    if assertion.get("revoked") is True:
        reason = assertion.get("revocationReason") or "no reason given"
        if _is_suspension(reason):
            rec.subject["suspended"] = True
            rec.stop("not suspended", f"the issuer marks it revoked for now: {reason}{_SUSPENSION_NOTE}")
        rec.subject["revoked"] = True
        rec.stop("not revoked", f"the issuer marks it revoked: {reason}")
    rec.ok("not revoked", "the hosted assertion is not marked revoked")
    _check_fields(rec, assertion, HOSTED_TYPES)
    issuer = _badge_and_issuer(rec, opts, assertion)
    _check_policy(rec, url, issuer)
    _check_issuer_keys(rec, issuer)
    _check_dates_and_recipient(rec, opts, assertion)


def verify_signed(rec: Recorder, opts: VerifyOptions, token: str) -> None:
    """Verify an OB 2.0 signed assertion (JWS compact serialization)."""
    rec.kind = "ob2-signed"
    with rec.guard("JWS"):
        header, payload, _, _ = parse_jws(token)
        if header.get("alg") != jws.ALGORITHM:
            raise VerifyError(f"JWS alg is {short(header.get('alg'))}; Open Badges 2.0 uses RS256")
        assertion = load_json(payload, "the JWS payload")
    rec.ok("JWS", "RS256 compact JWS")
    _summarize(rec, assertion)
    _check_fields(rec, assertion, SIGNED_TYPES)
    issuer = _badge_and_issuer(rec, opts, assertion)
    creator = verification_of(assertion).get("creator")
    with rec.guard("signing key"):
        key = _signing_key(opts, creator, issuer)
    rec.ok("signing key", f"{creator} is owned by and listed in the issuer profile")
    with rec.guard("signature"):
        jws.verify_compact(token, key)
    rec.ok("signature", f"verifies with {creator}")
    check_own_key(rec, creator)
    _check_revocation_list(rec, opts, assertion, issuer)
    _check_dates_and_recipient(rec, opts, assertion)


def _summarize(rec: Recorder, assertion: dict[str, Any]) -> None:
    recipient = assertion.get("recipient")
    rec.subject.update(
        {
            "id": assertion.get("id"),
            "badge": node_id(assertion.get("badge")),
            "issued": assertion.get("issuedOn"),
            "expires": assertion.get("expires"),
            "recipient": {k: recipient.get(k) for k in ("type", "hashed", "identity", "salt") if k in recipient}
            if isinstance(recipient, dict)
            else None,
        }
    )


def _check_fields(rec: Recorder, assertion: dict[str, Any], verification_types: frozenset[str]) -> None:
    missing = [
        f
        for f in _ASSERTION_FIELDS
        if (assertion.get(f) if f != "verification" else verification_of(assertion)) in (None, "", {}, [])
    ]
    problems = [f"missing {', '.join(missing)}"] if missing else []
    if "type" not in missing and not has_type(assertion, "Assertion"):
        problems.append(f"type {short(assertion.get('type'))} is not Assertion")
    vtype = verification_of(assertion).get("type")
    if not one_of(vtype, verification_types):
        problems.append(f"verification type is {short(vtype)}, expected {' or '.join(sorted(verification_types))}")
    if one_of(vtype, SIGNED_TYPES) and not is_web_url(verification_of(assertion).get("creator")):
        problems.append("verification.creator is not the URL of a key")
    recipient = assertion.get("recipient")
    if isinstance(recipient, dict):
        if not isinstance(recipient.get("hashed"), bool) or not recipient.get("identity"):
            problems.append("recipient needs 'identity' and a boolean 'hashed'")
    elif recipient is not None:
        problems.append("recipient is not an IdentityObject")
    if problems:
        rec.stop("assertion fields", "; ".join(problems))
    rec.ok("assertion fields", "has every required field")


def _node(
    rec: Recorder,
    opts: VerifyOptions,
    ref: Any,
    check: str,
    what: str,
    type_names: tuple[str, ...],
    fields: tuple[str, ...],
) -> dict[str, Any]:
    """A BadgeClass or Profile: fetched when ``ref`` is its URL, else the embedded object."""
    with rec.guard(check):
        if isinstance(ref, str):
            if not is_web_url(ref):
                raise VerifyError(f"the {what} {short(ref)} is not an http(s) URL")
            node = fetch_json(opts, ref, f"the {what}")
            if node.get("id") != ref:
                raise VerifyError(f"the {what} at {ref} declares id {short(node.get('id'))}")
        elif isinstance(ref, dict):
            node = ref
        else:
            raise VerifyError(f"the {what} is {short(ref)}, not a URL or an object")
    missing = [f for f in fields if node.get(f) in (None, "", [], {})]
    if missing:
        rec.stop(check, f"the {what} {short(node.get('id'))} lacks {', '.join(missing)}")
    if not any(has_type(node, t) for t in type_names):
        rec.stop(check, f"the {what}'s type {short(node.get('type'))} is not {' or '.join(type_names)}")
    name = node.get("name")
    rec.ok(check, f"{node.get('id')} ({name})" if isinstance(name, str) else str(node.get("id")))
    return node


def _badge_and_issuer(rec: Recorder, opts: VerifyOptions, assertion: dict[str, Any]) -> dict[str, Any]:
    badge = _node(rec, opts, assertion.get("badge"), "badge class", "badge class", ("BadgeClass",), _BADGE_FIELDS)
    # The issuer profile is the one its id serves, never a copy embedded in the badge: what links a
    # badge to an issuer (its keys, its verification policy) must come from the issuer's own site,
    # else a badge could embed a profile claiming another issuer's id with keys or a policy of its own.
    issuer_ref = badge.get("issuer")
    if isinstance(issuer_ref, dict):
        issuer_ref = issuer_ref.get("id")
        if not is_web_url(issuer_ref):
            rec.stop(
                "issuer profile",
                f"the embedded issuer profile's id {short(issuer_ref)} is not an http(s) URL: "
                "nothing links it to an issuer's site",
            )
    issuer = _node(rec, opts, issuer_ref, "issuer profile", "issuer profile", ("Issuer", "Profile"), _ISSUER_FIELDS)
    rec.subject.update(
        {
            "badge": badge.get("id"),
            "badge_name": badge.get("name"),
            "issuer": issuer.get("id"),
            "issuer_name": issuer.get("name"),
        }
    )
    return issuer


def _check_policy(rec: Recorder, assertion_id: str, issuer: dict[str, Any]) -> None:
    """The assertion's URL must be one the issuer vouches for (spec 2.1 step 4)."""
    policy = issuer.get("verification", issuer.get("verify"))
    policy = policy if isinstance(policy, dict) else {}
    starts = [s for s in as_list(policy.get("startsWith")) if isinstance(s, str)]
    origins = [o.lower() for o in as_list(policy.get("allowedOrigins")) if isinstance(o, str)]
    where = urllib.parse.urlsplit(assertion_id)
    if starts or origins:
        problems = []
        if starts and not any(assertion_id.startswith(s) for s in starts):
            problems.append(f"does not start with {' or '.join(starts)}")
        if origins and where.netloc.lower() not in origins and (where.hostname or "") not in origins:
            problems.append(f"is not on {' or '.join(origins)}")
        rec.check(
            "verification policy",
            not problems,
            f"{assertion_id} " + ("; ".join(problems) if problems else "is within the issuer's verification policy"),
        )
        return
    issuer_id = issuer.get("id")
    issuer_host = urllib.parse.urlsplit(issuer_id).netloc.lower() if isinstance(issuer_id, str) else ""
    same = where.netloc.lower() == issuer_host
    rec.check(
        "verification policy",
        same,
        f"assertion host {where.netloc} "
        + (
            "is the issuer's host"
            if same
            else f"differs from the issuer's {issuer_host or short(issuer_id)} "
            "and the issuer states no verification policy allowing it"
        ),
    )


def _check_issuer_keys(rec: Recorder, issuer: dict[str, Any]) -> None:
    """A hosted assertion is not signed, but a preview build's issuer profile shows what it is: every
    key it lists is a development key. Fail then, as a signed badge of the same build fails; an
    issuer that lists no keys, or any key of its own, is not judged. Only a failure is recorded."""
    listed = [node_id(k) for k in as_list(issuer.get("publicKey"))]
    if listed and all(is_development_key(k) for k in listed):
        rec.fail(
            "issuer's own key",
            f"the issuer profile lists only development keys ({', '.join(map(short, listed))}): "
            "this is a preview build's badge, not one the issuer published with its own keys",
        )


def _signing_key(opts: VerifyOptions, creator: Any, issuer: dict[str, Any]) -> RSAPublicKey:
    if not is_web_url(creator):
        raise VerifyError(f"verification.creator {short(creator)} is not the URL of a key")
    listed = [node_id(k) for k in as_list(issuer.get("publicKey"))]
    if creator not in listed:
        raise VerifyError(f"the issuer profile does not list {creator} in publicKey")
    key_doc = fetch_json(opts, creator, "the signing key")
    if key_doc.get("id") != creator:
        raise VerifyError(f"the key at {creator} declares id {short(key_doc.get('id'))}")
    if key_doc.get("owner") != issuer.get("id"):
        raise VerifyError(f"the key's owner is {short(key_doc.get('owner'))}, not the issuer {issuer.get('id')}")
    pem = key_doc.get("publicKeyPem")
    try:
        key = load_pem_public_key(pem.encode("ascii")) if isinstance(pem, str) else None
    except (ValueError, UnicodeEncodeError) as e:
        raise VerifyError(f"publicKeyPem of {creator} is not a PEM public key: {e}") from e
    if not isinstance(key, RSAPublicKey):
        raise VerifyError(f"{creator} has no RSA publicKeyPem (RS256 needs one)")
    return key


def _check_revocation_list(
    rec: Recorder, opts: VerifyOptions, assertion: dict[str, Any], issuer: dict[str, Any]
) -> None:
    url = node_id(issuer.get("revocationList"))
    if url is None:
        rec.ok("not revoked", "the issuer publishes no revocation list")
        return
    try:  # (a failure here is recorded and the dates and recipient are still checked: hostile review)
        if not is_web_url(url):
            raise VerifyError(f"the issuer's revocationList {short(url)} is not an http(s) URL")
        listing = fetch_json(opts, url, "the revocation list")
        if not has_type(listing, "RevocationList"):
            raise VerifyError(f"{url} is not a RevocationList")
    except VerifyError as e:
        rec.fail("not revoked", str(e), unchecked=unfetched(e))
        return
    ids = {assertion.get("id"), assertion.get("uid")} - {None}
    for entry in as_list(listing.get("revokedAssertions")):
        entry_id = entry.get("id", entry.get("uid")) if isinstance(entry, dict) else entry
        if isinstance(entry_id, str) and entry_id in ids:
            reason = entry.get("revocationReason") if isinstance(entry, dict) else None
            if _is_suspension(reason):
                rec.subject["suspended"] = True
                rec.fail("not suspended", f"listed in the revocation list {url} for now: {reason}{_SUSPENSION_NOTE}")
                return
            rec.subject["revoked"] = True
            rec.fail("not revoked", f"listed in the revocation list {url}: {reason or 'no reason given'}")
            return
    rec.ok("not revoked", f"not listed in {url}")


# OB 2.0 has no suspension: badgekiln publishes a suspended award as revoked with a reason that
# starts "Suspended: " (formats/ob2.py, withdrawal_reason), and takes it back when it is lifted.
_SUSPENSION_NOTE = " (a suspension, published as a revocation because Open Badges 2.0 has no suspension)"


def _is_suspension(reason: Any) -> bool:
    return isinstance(reason, str) and reason.startswith(SUSPENDED_PREFIX) and len(reason) > len(SUSPENDED_PREFIX)


def _check_dates_and_recipient(rec: Recorder, opts: VerifyOptions, assertion: dict[str, Any]) -> None:
    check_window(
        rec,
        opts,
        assertion.get("issuedOn"),
        assertion.get("expires"),
        start_name="issued",
        start_field="issuedOn",
        end_field="expires",
    )
    if opts.recipient is None:
        return
    recipient = assertion.get("recipient") or {}
    kind = recipient.get("type", "email")
    if kind != "email":
        rec.fail("recipient", f"the badge names its recipient by {short(kind)}, not by email")
        return
    with rec.guard("recipient"):
        match = identity_matches(
            opts.recipient,
            hashed=recipient.get("hashed"),
            identity=recipient.get("identity"),
            salt=recipient.get("salt"),
        )
    rec.check(
        "recipient",
        match is not None,
        recipient_detail(match)
        if match
        else f"not awarded to {opts.recipient.strip()} (the recipient hash does not match)",
    )
