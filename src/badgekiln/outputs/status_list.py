"""The signed OB 3.0 Bitstring status lists: revocations and suspensions (one permanent bit per
award, at the same index in both lists)."""

from __future__ import annotations

from datetime import date

from badgekiln.formats import ob2, ob3, statuslist, urls
from badgekiln.formats.jsonout import dumps_hosted
from badgekiln.models import ROW_ID, ROW_ISSUED, ROW_REVOKED, ROW_SUSPENDED
from badgekiln.outputs import BuildInputs, FileSpec, Plan, Unit


def produce(plan: Plan, inputs: BuildInputs, renderer: object, item: None) -> None:
    """status/revocation.json and status/suspension.json."""
    rows = inputs.project.award_rows  # (every award, without its model: see Project.award_rows)
    revoked = [(r[ROW_ID], r[ROW_REVOKED][0]) for r in rows if r[ROW_REVOKED] is not None]
    suspended = [(r[ROW_ID], r[ROW_SUSPENDED][0]) for r in rows if r[ROW_SUSPENDED] is not None]
    _status_list(plan, inputs, statuslist.STATUS_PURPOSE, revoked)
    _status_list(plan, inputs, statuslist.SUSPENSION_PURPOSE, suspended)


def _status_list(plan: Plan, inputs: BuildInputs, purpose: str, marked: list[tuple[str, str]]) -> None:
    """One list; ``marked``: the ids of the awards it marks, each with the ISO date it was marked on."""
    config, project = inputs.config, inputs.project
    indexes = {inputs.ledger.entries[award_id].index for award_id, _ in marked}
    # validFrom is the newest event the list reflects, so that it comes from the sources, not the clock.
    days = [on for _, on in marked] or [row[ROW_ISSUED] for row in project.award_rows]
    valid_from = ob2.timestamp(date.fromisoformat(max(days))) if days else "2000-01-01T00:00:00Z"
    unsigned = statuslist.status_list_credential(config, indexes, valid_from=valid_from, purpose=purpose)
    kid = inputs.status_list_kid
    signed = inputs.signer.add_proof(
        unsigned, kid, verification_method=ob3.verification_method(config, kid), created=valid_from
    )
    plan.add(statuslist.STATUS_LISTS[purpose], dumps_hosted(signed))


UNIT = Unit(
    "status-list",
    "site",
    (
        FileSpec(urls.STATUS_LIST, "application/ld+json"),
        FileSpec(urls.SUSPENSION_LIST, "application/ld+json"),
    ),
    reads=("documents-config", "signing", "awards"),
    produce=produce,
)
