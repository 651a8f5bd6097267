"""Endorsements: the verified copies of those the site received, and those it gives (signed).

Two units, so that a site which only receives endorsements never needs its signing key for them.
"""

from __future__ import annotations

from .. import endorsements
from ..jsonout import dumps_hosted
from . import BuildInputs, FileSpec, Plan, Unit


def produce_received(plan: Plan, inputs: BuildInputs, renderer: object, item: None) -> None:
    """endorsements/received/<name>.json: each received endorsement exactly as the endorser signed it
    (verified by validation before the build got here)."""
    for endorsement in inputs.project.endorsements:
        plan.add(endorsements.received_json(endorsement.name), endorsement.text.encode("utf-8"))


def produce_given(plan: Plan, inputs: BuildInputs, renderer: object, item: None) -> None:
    """endorsements/given/<slug>/: the signed EndorsementCredential and the hosted OB 2.0 Endorsement."""
    for endorsing in inputs.project.endorsing:
        signed = endorsements.signed_credential(inputs.config, inputs.signer, endorsing)
        plan.add(endorsements.given_credential_json(endorsing.slug), dumps_hosted(signed))
        plan.add(endorsements.given_endorsement_json(endorsing.slug),
                 dumps_hosted(endorsements.ob2_endorsement(inputs.config, endorsing)))


UNITS = (
    Unit("endorsements-received", "site", (FileSpec("endorsements/received/{slug}.json", "application/ld+json"),),
         reads=("endorsements",), produce=produce_received),
    Unit("endorsements-given", "site", (
        FileSpec("endorsements/given/{slug}/credential.json", "application/ld+json"),
        FileSpec("endorsements/given/{slug}/endorsement.json", "application/ld+json"),
    ), reads=("documents-config", "signing", "endorsements"), produce=produce_given),
)
