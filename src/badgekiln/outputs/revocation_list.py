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
    config, project = inputs.config, inputs.project
    withdrawn = sorted(  # (by their rows: only these awards' models are made)
        row[ROW_ID] for row in project.award_rows if row[ROW_REVOKED] is not None or row[ROW_SUSPENDED] is not None
    )
    revoked = [
        (assertion_id, reason)
        for award_id in withdrawn
        if (award := project.award(award_id)) is not None
        and (reason := ob2.withdrawal_reason(award)) is not None  # suspended awards too, while suspended
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
