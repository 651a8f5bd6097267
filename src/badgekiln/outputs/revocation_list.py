"""The OB 2.0 RevocationList (``revocations.json``)."""

from __future__ import annotations

from badgekiln.formats import ob2, urls
from badgekiln.formats.jsonout import dumps_hosted
from badgekiln.models import ROW_ID, ROW_REVOKED, ROW_SUSPENDED
from badgekiln.outputs import BuildInputs, FileSpec, Plan, Unit


def produce(plan: Plan, inputs: BuildInputs, renderer: object, item: None) -> None:
    """Every revoked award, and every suspended one while it is (OB 2.0 has no suspension: see
    :func:`badgekiln.formats.ob2.withdrawal_reason`), under both of its ids: the signed assertion's ``urn:uuid`` and the
    hosted assertion's URL. (Listing both is also what makes the 1EdTech validator see a
    revocation when only one award is revoked: it skips one-entry lists.)"""
    config = inputs.config
    withdrawn = sorted(  # (by their rows: no award's model is made)
        (row[ROW_ID], reason)
        for row in inputs.project.award_rows
        if (
            reason := ob2.withdrawn_because(
                row[ROW_REVOKED][1] if row[ROW_REVOKED] is not None else None,
                row[ROW_SUSPENDED][1] if row[ROW_SUSPENDED] is not None else None,
            )
        )
        is not None  # suspended awards too, while suspended
    )
    revoked = [
        (assertion_id, reason)
        for award_id, reason in withdrawn
        for assertion_id in (ob2.signed_urn(config, award_id), config.url(urls.assertion_json(award_id)))
    ]
    plan.add(urls.REVOCATION_LIST, dumps_hosted(ob2.revocation_list(config, revoked)))


UNIT = Unit(
    "revocation-list",
    "site",
    (FileSpec(urls.REVOCATION_LIST, "application/ld+json"),),
    reads=("documents-config", "awards"),  # (kept while they are the same: a pass over every award is not free)
    produce=produce,
)
