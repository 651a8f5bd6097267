"""``badgekiln suspend`` / ``unsuspend``: a reversible hold written into the earner's YAML, and
``badgekiln report suspended``: every suspended award and every lapsed membership."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from badgekiln.commands.revoke import find_award, published_reason
from badgekiln.errors import BadgekilnError
from badgekiln.sources.editlock import editing_sources
from badgekiln.sources.records import add_suspension, remove_suspension
from badgekiln.sources.validate import load_project


@editing_sources
def suspend(source: Path, award_id: str, reason: str, on: date, today: date) -> tuple[Path, str | None]:
    """Write ``suspended: {on, reason}`` into the recipient's YAML; returns the file edited and a
    warning for the provider, or None."""
    reason = published_reason(reason, "suspension")
    loaded = load_project(source, today=today)
    recipient, award = find_award(loaded.project, award_id)
    award_id = award.id
    if award.revoked is not None:
        raise BadgekilnError(
            f"award {award_id} is revoked (on {award.revoked.on}: {award.revoked.reason}); "
            "a revoked award cannot be suspended"
        )
    if award.suspended is not None and not award.suspended.computed:
        raise BadgekilnError(
            f"award {award_id} is already suspended (since {award.suspended.on}: {award.suspended.reason})"
        )
    if on > today:
        raise BadgekilnError(
            f"the suspension date {on} is in the future; give today's date or an earlier one with --on, or suspend on that day"
        )
    if on < award.issued_on:
        raise BadgekilnError(f"the suspension date {on} is before the award was issued ({award.issued_on})")
    assert recipient.location is not None and award.location is not None  # (validated records know where)
    rel = recipient.location.path
    add_suspension(
        source / rel, rel, award.location, award_id, on=on.isoformat(), reason=reason, pin_id=not award.id_pinned
    )
    warning = None
    renewal = loaded.project.renewed_by.get(award_id)
    if award.is_expired(on):  # (UX review: accepted without a word)
        warning = (
            f"award {award_id} had expired on {award.expires}: it was not valid anyway, and its page now says "
            "'Suspended' instead of 'Expired'"
            + (f"; its renewal is {renewal.id}, which this does not suspend" if renewal else "")
        )
    elif renewal is not None and renewal.revoked is None and renewal.suspended is None:
        # (a review: a hold on the earner left their renewal valid without a word)
        warning = (
            f"award {award_id} is renewed by {renewal.id}, which stays valid: if the hold is on the earner, "
            f"suspend that one too (badgekiln suspend {renewal.id})"
        )
    return source / rel, warning


@editing_sources
def unsuspend(source: Path, award_id: str, today: date) -> tuple[Path, str | None]:
    """Delete the award's written suspension; returns the file edited and, when the award stays
    suspended because the earner's membership has lapsed, why."""
    loaded = load_project(source, today=today)
    recipient, award = find_award(loaded.project, award_id)
    award_id = award.id
    if award.suspended is None:
        raise BadgekilnError(f"award {award_id} is not suspended")
    if award.suspended.computed:
        raise BadgekilnError(
            f"award {award_id} is suspended because the earner's membership lapsed (on {award.suspended.on}); "
            "it returns by itself at the next build once the membership's 'until' date is moved forward: "
            f"update 'membership: {{until: …}}' in {recipient.location.path if recipient.location else 'the file'} "
            "or the earner's row in site_src/members.csv"
        )
    assert recipient.location is not None
    rel = recipient.location.path
    remove_suspension(source / rel, rel, award_id)
    after = load_project(source, today=today).project
    _, now = find_award(after, award_id)
    still = now.suspended.reason if now.suspended is not None else None
    return source / rel, still


@dataclass(frozen=True)
class SuspendedRow:
    """One suspended award (for the provider: it includes the earner's email)."""

    award_id: str
    recipient: str
    email: str
    badge: str  # its slug
    badge_name: str
    since: date
    reason: str
    kind: str  # "written" (badgekiln suspend) or "membership" (computed from a lapsed membership)
    membership_until: date | None
    membership_lapsed: bool = False  # also for a written one: lifting it leaves the award suspended

    def as_dict(self) -> dict:
        """Plain JSON data."""
        return {
            "award_id": self.award_id,
            "recipient": self.recipient,
            "email": self.email,
            "badge": self.badge,
            "badge_name": self.badge_name,
            # (named as export names them: a review found "since" here and "suspended_on" there)
            "suspended_on": self.since.isoformat(),
            "suspended_reason": self.reason,
            "kind": self.kind,
            "membership_until": self.membership_until.isoformat() if self.membership_until else "",
            "membership_lapsed": self.membership_lapsed,
        }

    def why(self) -> str:
        """The reason as the report's table says it."""
        lapsed = f"membership lapsed after {self.membership_until}"
        if self.kind == "membership":
            return lapsed
        if self.membership_lapsed:  # (day-2 review: lifting it would not bring the award back)
            return f"{self.reason}; its {lapsed} too: lifting this suspension leaves it suspended"
        return self.reason


def suspended(source: Path, today: date) -> list[SuspendedRow]:
    """Every award suspended on ``today`` and not revoked (written and lapsed memberships), by date."""
    from badgekiln.sources.members import read_members

    project = load_project(source, today=today).project
    members = read_members(source, [])
    rows = []
    for recipient in project.recipients:
        known = [d for d in (recipient.membership_until, members.get(recipient.email)) if d is not None]
        until = max(known) if known else None
        for award in recipient.awards:
            if award.suspended is None or award.revoked is not None:
                continue
            # (as sources/validate.py suspends for a lapse, which a written suspension hides)
            lapsed = (
                until is not None
                and today > until
                and project.badges[award.badge].requires_membership
                and not award.is_expired(until + timedelta(days=1))
            )
            rows.append(
                SuspendedRow(
                    award.id,
                    recipient.name,
                    recipient.email,
                    award.badge,
                    project.badges[award.badge].name,
                    award.suspended.on,
                    award.suspended.reason,
                    "membership" if award.suspended.computed else "written",
                    until,
                    award.suspended.computed or lapsed,
                )
            )
    return sorted(rows, key=lambda r: (r.since, r.award_id))
