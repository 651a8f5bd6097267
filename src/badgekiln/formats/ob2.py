"""Models to Open Badges 2.0 JSON-LD dicts (Profile, BadgeClass, Assertion, keys, revocations).

Pure functions: no signing, no bytes, no files. Every object carries the OB 2.0 context and an
``id`` that is the absolute URL where it is published (see :mod:`badgekiln.formats.urls`).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from badgekiln.formats import ids, urls
from badgekiln.models import Alignment, Award, BadgeClass, Recipient

if TYPE_CHECKING:  # (a type only: formats sit below the sources layer)
    from badgekiln.sources.config import SiteConfig

CONTEXT = "https://w3id.org/openbadges/v2"


def timestamp(day: date) -> str:
    """An ISO 8601 date-time at midnight UTC, as OB 2.0 and 3.0 expect."""
    return f"{day.isoformat()}T00:00:00Z"


def issuer_profile(
    config: SiteConfig, *, key_ids: tuple[str, ...] = (), with_revocation_list: bool = False
) -> dict[str, Any]:
    """The issuer Profile, published at ``issuer.json``."""
    issuer = config.issuer
    profile: dict[str, Any] = {
        "@context": CONTEXT,
        "id": config.url(urls.ISSUER),
        "type": "Issuer",
        "name": issuer.name,
        "url": issuer.url,
        "email": issuer.email,
    }
    if issuer.description:
        profile["description"] = issuer.description
    if issuer.image:
        profile["image"] = config.url(urls.asset(issuer.image))
    if issuer.telephone:
        profile["telephone"] = issuer.telephone
    if key_ids:
        profile["publicKey"] = [config.url(urls.key_json(k)) for k in key_ids]
    if with_revocation_list:
        profile["revocationList"] = config.url(urls.REVOCATION_LIST)
    return profile


def badge_class(config: SiteConfig, badge: BadgeClass) -> dict[str, Any]:
    """The BadgeClass of ``badge``, published at ``badges/<slug>/badge.json``."""
    data: dict[str, Any] = {
        "@context": CONTEXT,
        "id": config.url(urls.badge_json(badge.slug)),
        "type": "BadgeClass",
        "name": badge.name,
        "description": badge.description,
        "image": config.url(urls.badge_image(badge.slug, badge.image)),
        "criteria": {"id": config.url(urls.badge_dir(badge.slug)), "narrative": badge.criteria},
        "issuer": config.url(urls.ISSUER),
    }
    if badge.tags:
        data["tags"] = list(badge.tags)
    if badge.alignment:
        data["alignment"] = [_alignment(a) for a in badge.alignment]
    return data


def _alignment(alignment: Alignment) -> dict[str, Any]:
    data = {"targetName": alignment.name, "targetUrl": alignment.url}
    if alignment.description:
        data["targetDescription"] = alignment.description
    if alignment.framework:
        data["targetFramework"] = alignment.framework
    if alignment.code:
        data["targetCode"] = alignment.code
    return data


def recipient_identity(recipient: Recipient, award: Award) -> dict[str, Any]:
    """The hashed, salted email IdentityObject of an award (the email itself is never published)."""
    salt = ids.award_salt(award.id)
    return {"type": "email", "hashed": True, "salt": salt, "identity": ids.identity_hash(recipient.email, salt)}


def evidence_list(award: Award) -> list[dict[str, Any]]:
    """OB 2.0 Evidence objects."""
    result = []
    for item in award.evidence:
        entry: dict[str, Any] = {"type": "Evidence"}
        if item.url:
            entry["id"] = item.url
        for key in ("narrative", "name", "description"):
            if getattr(item, key):
                entry[key] = getattr(item, key)
        result.append(entry)
    return result


def assertion(
    config: SiteConfig, badge: BadgeClass, recipient: Recipient, award: Award, *, signed_by: str | None = None
) -> dict[str, Any]:
    """The Assertion of ``award``.

    Hosted (``signed_by`` None): ``id`` is its own URL. Signed: ``id`` is a ``urn:uuid:`` derived
    from the award id, and ``verification.creator`` is the key URL ``signed_by``.
    """
    data: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "Assertion",
        "recipient": recipient_identity(recipient, award),
        "badge": config.url(urls.badge_json(badge.slug)),
        "issuedOn": timestamp(award.issued_on),
        "image": config.url(urls.baked_ob2(award.id, badge.image)),
    }
    if signed_by is None:
        data["id"] = config.url(urls.assertion_json(award.id))
        data["verification"] = {"type": "HostedBadge"}
    else:
        data["id"] = signed_urn(config, award.id)
        data["verification"] = {"type": "SignedBadge", "creator": signed_by}
    if award.expires:
        data["expires"] = timestamp(award.expires)
    if award.narrative:
        data["narrative"] = award.narrative
    evidence = evidence_list(award)
    if evidence:
        data["evidence"] = evidence
    reason = withdrawal_reason(award)
    if reason is not None and signed_by is None:
        data["revoked"] = True
        data["revocationReason"] = reason
    return data


SUSPENDED_PREFIX = "Suspended: "


def withdrawal_reason(award: Award) -> str | None:
    """Why an OB 2.0 verifier must refuse ``award`` today, or None: the revocation's reason, else
    ``Suspended: <reason>`` while it is suspended.

    OB 2.0 knows only revocation (Assertion ``revoked``/``revocationReason``, RevocationList
    ``revokedAssertions``); a suspended award is published as revoked, with the reason saying
    it is a suspension, and the hosted assertion and the list go back when it is lifted.
    """
    return withdrawn_because(
        award.revoked.reason if award.revoked is not None else None,
        award.suspended.reason if award.suspended is not None else None,
    )


def withdrawn_because(revoked: str | None, suspended: str | None) -> str | None:
    """:func:`withdrawal_reason` of an award revoked for the reason ``revoked`` (or not: None) and
    suspended for ``suspended`` (or not)."""
    if revoked is not None:
        # (a revocation reason that starts as a suspension's would be read back as one: reversible)
        return "Revoked: " + revoked if revoked.startswith(SUSPENDED_PREFIX) else revoked
    if suspended is not None:
        return SUSPENDED_PREFIX + suspended
    return None


def signed_urn(config: SiteConfig, award_id: str) -> str:
    """The ``urn:uuid:`` of a signed assertion: a name-based UUID of its hosted URL."""
    import uuid

    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, config.url(urls.assertion_json(award_id))))


def cryptographic_key(config: SiteConfig, key_id: str, public_pem: str) -> dict[str, Any]:
    """The CryptographicKey document of one public key, owned by the issuer."""
    return {
        "@context": CONTEXT,
        "id": config.url(urls.key_json(key_id)),
        "type": "CryptographicKey",
        "owner": config.url(urls.ISSUER),
        "publicKeyPem": public_pem,
    }


def revocation_list(config: SiteConfig, revoked: list[tuple[str, str]]) -> dict[str, Any]:
    """The issuer's RevocationList: ``(assertion id, reason)`` pairs, sorted."""
    return {
        "@context": CONTEXT,
        "id": config.url(urls.REVOCATION_LIST),
        "type": "RevocationList",
        "issuer": config.url(urls.ISSUER),
        "revokedAssertions": [{"id": i, "revocationReason": r} for i, r in sorted(revoked)],
    }
