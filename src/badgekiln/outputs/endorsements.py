"""Endorsements: the verified copies of those the site received, and those it gives (signed).

Two units, so that a site which only receives endorsements never needs its signing key for them.
"""

from __future__ import annotations

from typing import Any

from badgekiln.formats import endorsements, ob2, ob3
from badgekiln.formats.jsonout import dumps_hosted
from badgekiln.models import Endorsing
from badgekiln.outputs import BuildInputs, FileSpec, Plan, Unit, signing_named
from badgekiln.signing.keys import ED25519
from badgekiln.signing.signer import Signer
from badgekiln.sources.config import SiteConfig


def produce_received(plan: Plan, inputs: BuildInputs, renderer: object, item: None) -> None:
    """endorsements/received/<name>.json: each received endorsement exactly as the endorser signed it
    (verified by validation before the build got here)."""
    for endorsement in inputs.project.endorsements:
        plan.add(endorsements.received_json(endorsement.name), endorsement.text.encode("utf-8"))


def produce_given(plan: Plan, inputs: BuildInputs, renderer: object, item: None) -> None:
    """endorsements/given/<slug>/: the signed EndorsementCredential and the hosted OB 2.0 Endorsement."""
    for endorsing in inputs.project.endorsing:
        signed = signed_credential(inputs.config, inputs.signer, endorsing)
        plan.add(endorsements.given_credential_json(endorsing.slug), dumps_hosted(signed))
        plan.add(
            endorsements.given_endorsement_json(endorsing.slug),
            dumps_hosted(endorsements.ob2_endorsement(inputs.config, endorsing)),
        )


UNITS = (
    Unit(
        "endorsements-received",
        "site",
        (FileSpec("endorsements/received/{slug}.json", "application/ld+json"),),
        reads=("endorsements",),
        produce=produce_received,
    ),
    Unit(
        "endorsements-given",
        "site",
        (
            FileSpec("endorsements/given/{slug}/credential.json", "application/ld+json"),
            FileSpec("endorsements/given/{slug}/endorsement.json", "application/ld+json"),
        ),
        reads=("documents-config", "signing", "endorsements"),
        produce=produce_given,
        preload=("badgekiln.crypto.canon",),  # (see Unit.preload)
    ),
)


def signed_credential(config: SiteConfig, signer: Signer, endorsing: Endorsing) -> dict[str, Any]:
    """:func:`credential` with an eddsa-rdfc-2022 proof by the site's active Ed25519 key.

    ``created`` is the endorsement's date, so the bytes are the same on every build.
    """
    kid = signer.effective_kid(signer.keyring.active_kid(ED25519), ED25519)
    with signing_named(endorsing.location, f"endorsement {endorsing.slug}"):
        return signer.add_proof(
            endorsements.credential(config, endorsing),
            kid,
            verification_method=ob3.verification_method(config, kid),
            created=ob2.timestamp(endorsing.issued_on),
        )
