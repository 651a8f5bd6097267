"""The signed OB 3.0 Bitstring status list of revocations (one permanent bit per award)."""

from __future__ import annotations

from badgekiln.formats import ob2, ob3, statuslist, urls
from badgekiln.formats.jsonout import dumps_hosted
from badgekiln.outputs import BuildInputs, FileSpec, Plan, Unit


def produce(plan: Plan, inputs: BuildInputs, renderer: object, item: None) -> None:
    """status/revocation.json."""
    config, project = inputs.config, inputs.project
    revoked = {inputs.ledger.entries[a.id].index for a in project.awards if a.revoked is not None}
    # validFrom is the newest event the list reflects, so that it comes from the sources, not the clock.
    days = [a.revoked.on for a in project.awards if a.revoked is not None] or [a.issued_on for a in project.awards]
    valid_from = ob2.timestamp(max(days)) if days else "2000-01-01T00:00:00Z"
    unsigned = statuslist.status_list_credential(config, revoked, valid_from=valid_from)
    kid = inputs.status_list_kid
    signed = inputs.signer.add_proof(
        unsigned, kid, verification_method=ob3.verification_method(config, kid), created=valid_from
    )
    plan.add(urls.STATUS_LIST, dumps_hosted(signed))


UNIT = Unit(
    "status-list",
    "site",
    (FileSpec(urls.STATUS_LIST, "application/ld+json"),),
    reads=("documents-config", "signing", "awards"),
    produce=produce,
)
