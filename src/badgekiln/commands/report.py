"""``badgekiln report expiring``: awards that need renewal soon, soonest first (renewed awards are
left out: a later award renews them), and with ``--remind`` the reminders to their earners."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from badgekiln.commands.reminders import ScheduledPoint, schedule
from badgekiln.errors import BadgekilnError
from badgekiln.sources.config import source_paths
from badgekiln.sources.ledger import read_ledger
from badgekiln.sources.notified import NOTIFIED, read_records, read_reminders
from badgekiln.sources.validate import load_project


@dataclass(frozen=True)
class ExpiringRow:
    """One line of the expiry report (for the provider: it includes the earner's email)."""

    award_id: str
    recipient: str
    email: str
    badge: str  # its slug
    badge_name: str
    issued_on: date
    expires: date
    days_left: int
    reminders: tuple[ScheduledPoint, ...] | None = None  # with --remind: each reminder point and its state
    suspended_on: date | None = None  # suspended (written, or a lapsed membership) since that day

    def as_dict(self) -> dict:
        reminders = {} if self.reminders is None else {"reminders": [r.as_dict() for r in self.reminders]}
        return {
            "award_id": self.award_id,
            "recipient": self.recipient,
            "email": self.email,
            "badge": self.badge,
            "badge_name": self.badge_name,
            "issued_on": self.issued_on.isoformat(),
            "expires": self.expires.isoformat(),
            "days_left": self.days_left,
            "suspended_on": self.suspended_on.isoformat() if self.suspended_on else "",
        } | reminders


def expiring(
    source: Path, within: timedelta, today: date, *, include_expired: bool = False, remind: bool = False
) -> list[ExpiringRow]:
    """Awards that are not revoked nor renewed and expire within ``within`` of ``today`` (soonest
    first); ``remind``: with the schedule of reminders to each earner."""
    loaded = load_project(source, today=today)
    project = loaded.project
    sent = read_reminders(source / NOTIFIED) if remind else {}
    built = read_ledger(source_paths(source).ledger, []).entries if remind else {}
    announced = read_records(source / NOTIFIED) if remind else {}
    rows = []
    for recipient in project.recipients:
        for award in recipient.awards:
            if award.revoked is not None or award.expires is None or award.id in project.renewed_by:
                continue
            days_left = (award.expires - today).days
            if days_left > within.days or (days_left <= 0 and not include_expired):
                continue
            rows.append(
                ExpiringRow(
                    award.id,
                    recipient.name,
                    recipient.email,
                    award.badge,
                    project.badges[award.badge].name,
                    award.issued_on,
                    award.expires,
                    days_left,
                    tuple(
                        schedule(
                            project,
                            loaded.config,
                            award,
                            sent,
                            today,
                            built=award.id in built,
                            announced=award.id in announced,
                        )
                    )
                    if remind
                    else None,
                    award.suspended.on if award.suspended is not None else None,
                )
            )
    return sorted(rows, key=lambda r: (r.expires, r.award_id))


def parse_within(text: str) -> timedelta:
    """``90d``, ``12w``, ``6m`` (30-day months) or ``1y`` (365 days), or written as in the YAML
    files (``P90D``, ``P6M``)."""
    units = {"d": 1, "w": 7, "m": 30, "y": 365}
    given = text
    text = text.strip().lower()
    if text.startswith("p") and text[1:2].isdigit():  # (ISO 8601, as valid_for and remind_before are written)
        text = text[1:]
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit() or len(text) > 8:
        raise BadgekilnError(
            f"--within takes a number and a unit such as 90d, 12w, 6m or 1y (or P90D; up to 7 digits), not {given!r}"
        )
    return timedelta(days=min(int(text[:-1]) * units[text[-1]], MAX_WITHIN_DAYS))


MAX_WITHIN_DAYS = 3_000_000  # (about 8,000 years: any later expiry is past the calendar's end)
