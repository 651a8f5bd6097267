"""``badgekiln revoke`` and ``badgekiln report expiring``: acting on awards in the sources."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from ..errors import BadgekilnError
from ..models import Award, Project, Recipient
from ..records import add_revocation
from ..validate import load_project


def find_award(project: Project, award_id: str) -> tuple[Recipient, Award]:
    """The award with ``award_id`` and its recipient."""
    for recipient in project.recipients:
        for award in recipient.awards:
            if award.id == award_id:
                return recipient, award
    raise BadgekilnError(f"there is no award {award_id!r}; award ids are the last part of badge page URLs "
                         "(…/awards/<id>/)")


def revoke(source: Path, award_id: str, reason: str, on: date, today: date) -> Path:
    """Write the revocation into the recipient's YAML; returns the file edited."""
    reason = " ".join(reason.split())
    if not reason:
        raise BadgekilnError("a revocation needs a reason (--reason \"…\"); it is published with the badge")
    loaded = load_project(source, today=today)
    recipient, award = find_award(loaded.project, award_id)
    if award.revoked is not None:
        raise BadgekilnError(f"award {award_id} is already revoked (on {award.revoked.on}: {award.revoked.reason})")
    if on > today:
        raise BadgekilnError(f"the revocation date {on} is in the future; revoke on or after that day")
    if on < award.issued_on:
        raise BadgekilnError(f"the revocation date {on} is before the award was issued ({award.issued_on})")
    assert recipient.location is not None and award.location is not None  # (validated records know where they were written)
    rel = recipient.location.path
    add_revocation(source / rel, rel, award.location, award_id, on=on.isoformat(), reason=reason,
                   pin_id=not award.id_pinned)
    return source / rel


@dataclass(frozen=True)
class ExpiringRow:
    """One line of the expiry report (for the provider: it includes the earner's email)."""

    award_id: str
    recipient: str
    email: str
    badge: str
    issued_on: date
    expires: date
    days_left: int

    def as_dict(self) -> dict:
        return {"award_id": self.award_id, "recipient": self.recipient, "email": self.email, "badge": self.badge,
                "issued_on": self.issued_on.isoformat(), "expires": self.expires.isoformat(),
                "days_left": self.days_left}


def expiring(source: Path, within: timedelta, today: date, *, include_expired: bool = False) -> list[ExpiringRow]:
    """Awards that are not revoked and expire within ``within`` of ``today`` (soonest first)."""
    project = load_project(source, today=today).project
    rows = []
    for recipient in project.recipients:
        for award in recipient.awards:
            if award.revoked is not None or award.expires is None:
                continue
            days_left = (award.expires - today).days
            if days_left > within.days or (days_left <= 0 and not include_expired):
                continue
            rows.append(ExpiringRow(award.id, recipient.name, recipient.email, project.badges[award.badge].name,
                                    award.issued_on, award.expires, days_left))
    return sorted(rows, key=lambda r: (r.expires, r.award_id))


def parse_within(text: str) -> timedelta:
    """``90d``, ``12w``, ``6m`` (30-day months) or ``1y`` (365 days)."""
    units = {"d": 1, "w": 7, "m": 30, "y": 365}
    text = text.strip().lower()
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise BadgekilnError(f"--within takes a number and a unit such as 90d, 12w, 6m or 1y, not {text!r}")
    return timedelta(days=int(text[:-1]) * units[text[-1]])
