"""Endorsements: OB 3.0 ``EndorsementCredential`` and OB 2.0 ``Endorsement`` documents, and the
site folders they come from.

A site *gives* endorsements (``site_src/endorsing/<slug>.yaml``, written by ``badgekiln endorse``):
the build signs each as an EndorsementCredential with the site's own Ed25519 key and did:web, and
publishes it with its OB 2.0 twin under ``endorsements/given/<slug>/``.

A site *receives* endorsements (``site_src/endorsements/<name>.json``, a signed credential from
the endorser): the build verifies each against the endorser's DID document pinned in
``site_src/endorsers/`` (see :mod:`badgekiln.verifying.endorsement` for why it is pinned) before
it publishes a copy at ``endorsements/received/<name>.json``, lists it in the endorsed badge
class's (or issuer profile's) ``endorsement`` and shows it on the pages. A tampered,
unverifiable or wrongly targeted file fails the build at its path.

Pure builders: no clock, no files. The folders are read by :mod:`badgekiln.sources.endorsements`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from badgekiln.formats import ob2, ob3, urls
from badgekiln.models import Endorsement, Endorsing

if TYPE_CHECKING:
    from badgekiln.sources.config import SiteConfig


# --- where they are published -------------------------------------------------------------


def received_json(name: str) -> str:
    """The verified copy of a received endorsement."""
    return f"endorsements/received/{name}.json"


def given_credential_json(slug: str) -> str:
    """An endorsement this site gives, as an OB 3.0 EndorsementCredential."""
    return f"endorsements/given/{slug}/credential.json"


def given_endorsement_json(slug: str) -> str:
    """An endorsement this site gives, as a hosted OB 2.0 Endorsement."""
    return f"endorsements/given/{slug}/endorsement.json"


# --- documents ----------------------------------------------------------------------------


def credential(config: SiteConfig, endorsing: Endorsing) -> dict[str, Any]:
    """The unsigned OB 3.0 ``EndorsementCredential`` of an endorsement this site gives.

    Only the published context URLs (VC 2.0, OB 3.0), which define every term used here.
    """
    return {
        "@context": list(ob3.CONTEXTS),
        "id": config.url(given_credential_json(endorsing.slug)),
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": f"Endorsement by {config.issuer.name}",
        "issuer": ob3.issuer_profile(config),
        "validFrom": ob2.timestamp(endorsing.issued_on),
        "credentialSubject": {
            "id": endorsing.target,
            "type": ["EndorsementSubject"],
            "endorsementComment": endorsing.comment,
        },
    }


def ob2_endorsement(config: SiteConfig, endorsing: Endorsing) -> dict[str, Any]:
    """The hosted OB 2.0 ``Endorsement`` of an endorsement this site gives (verified by fetching its id)."""
    return {
        "@context": ob2.CONTEXT,
        "id": config.url(given_endorsement_json(endorsing.slug)),
        "type": "Endorsement",
        "claim": {"id": endorsing.target, "endorsementComment": endorsing.comment},
        "issuer": config.url(urls.ISSUER),
        "issuedOn": ob2.timestamp(endorsing.issued_on),
        "verification": {"type": "HostedBadge"},
    }


def ob2_links(endorsements: tuple[Endorsement, ...]) -> list[str]:
    """What an OB 2.0 BadgeClass or Profile lists as ``endorsement``: the endorsers' hosted
    OB 2.0 Endorsements (an IRI in the OB 2.0 context), where they publish one."""
    return sorted(e.ob2_url for e in endorsements if e.ob2_url)


def ob3_embedded(endorsements: tuple[Endorsement, ...]) -> list[dict[str, Any]]:
    """What an OB 3.0 Achievement lists as ``endorsement``: the signed credentials themselves."""
    return [json.loads(e.text) for e in sorted(endorsements, key=lambda e: e.name)]


def of_badge(endorsements: tuple[Endorsement, ...], slug: str | None) -> tuple[Endorsement, ...]:
    """The endorsements of one badge class (``slug``) or of the issuer (None)."""
    return tuple(e for e in endorsements if e.target == slug)


def page_context(config: SiteConfig, endorsements: tuple[Endorsement, ...], page: str) -> list[dict[str, Any]]:
    """What the "Endorsed by" block of a page shows (links relative to ``page``)."""
    return [
        {
            "endorser": e.endorser_host,
            "endorser_name": e.endorser_name,
            "endorser_url": e.endorser_url,
            "endorser_id": e.endorser_id,
            "comment": e.comment,
            "issued_on": _utc_day(e.issued_on),
            "valid_until": _utc_day(e.valid_until) if e.valid_until else None,
            "of_issuer": e.target is None,
            "href": urls.relative(page, received_json(e.name)),
        }
        for e in sorted(endorsements, key=lambda e: (e.target is not None, e.issued_on, e.name))
    ]


def _utc_day(stamp: str) -> str:
    """The UTC day of a verified endorsement's date-time (YYYY-MM-DD), the day the build checks
    it against: its first ten characters were shown, a day off for 2027-01-01T00:30+05:00."""
    try:
        return datetime.fromisoformat(stamp).astimezone(UTC).date().isoformat()
    except (ValueError, OverflowError):  # (not reached: the build checked the dates)
        return stamp[:10]
