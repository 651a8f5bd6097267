"""``badgekiln export``: every award with its status and public URLs, as CSV or JSON.

For the provider's records and mail merges: it includes earners' email addresses, so it is
printed, never published.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from .. import urls
from ..validate import load_project

COLUMNS = ("award_id", "recipient", "email", "badge", "issued_on", "expires", "status", "revoked_reason",
           "page_url", "assertion_url", "credential_url")


def export_rows(source: Path, today: date, *, base_url: str | None = None) -> list[dict[str, str]]:
    """One row per award, ordered by recipient file then issue date."""
    loaded = load_project(source, base_url=base_url, today=today)
    config, project = loaded.config, loaded.project
    rows = []
    for recipient in project.recipients:
        for award in sorted(recipient.awards, key=lambda a: (a.issued_on, a.id)):
            rows.append({
                "award_id": award.id,
                "recipient": recipient.name,
                "email": recipient.email,
                "badge": award.badge,
                "issued_on": award.issued_on.isoformat(),
                "expires": award.expires.isoformat() if award.expires else "",
                "status": award.status(today),
                "revoked_reason": award.revoked.reason if award.revoked else "",
                "page_url": config.url(urls.award_dir(award.id)),
                "assertion_url": config.url(urls.assertion_json(award.id)),
                "credential_url": config.url(urls.credential_json(award.id)),
            })
    return rows
