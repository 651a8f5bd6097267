"""Who qualifies for which badge, and why: CPD points and pathways (stacked badges).

The one place these rules live; ``report eligible``, ``award --eligible``, the award page's
component links and the portfolio's progress all ask here.

Rules (README, "CPD points and pathways"):

- A badge with ``cpd: {points: N, within: P1Y}`` is earned once the activities the earner logged
  in the window add up to N points. The window is ``within`` ending on the day asked about, both
  ends included: on 2026-03-01, ``P1Y`` counts activities dated 2025-03-01 to 2026-03-01. Without
  ``within`` every activity logged up to that day counts.
- A badge with ``requires`` is earned once the earner holds ``needed`` of its component badges:
  an award that is not revoked (and, with ``current: true``, one that is valid that day: not
  expired, revoked or suspended).
- A badge with both is earned when both hold. A badge with neither is never "eligible".
- An earner who already holds a valid award of the badge is not eligible again; one whose award
  expired (or was revoked or suspended) is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from badgekiln.models import Award, BadgeClass, CpdActivity, Project, Recipient


@dataclass(frozen=True)
class Check:
    """How one earner stands towards one badge with rules, on one day."""

    recipient: Recipient
    badge: BadgeClass
    met: bool  # every rule of the badge holds
    held: Award | None  # a valid or suspended award of this badge the earner already has
    points: float  # CPD points counted (0 without a CPD rule)
    activities: tuple[CpdActivity, ...]  # the activities counted, oldest first
    components: tuple[Award, ...]  # the earner's awards that count as components, in pathway order
    window: tuple[date | None, date]  # the CPD window (start None: all time), ends included
    reasons: tuple[str, ...]  # why, in words, one per rule

    @property
    def eligible(self) -> bool:
        """The rules hold and the earner does not hold a valid (or suspended) award of the badge already."""
        return self.met and self.held is None


def has_rules(badge: BadgeClass) -> bool:
    """Whether ``badge`` is earned by rules (CPD points, a pathway) that this module checks."""
    return badge.cpd is not None or badge.requires is not None


def window_start(badge: BadgeClass, today: date) -> date | None:
    """The first day of the CPD window ending on ``today`` (None: no window, every day counts)."""
    if badge.cpd is None or badge.cpd.within is None:
        return None
    within = badge.cpd.within
    # The earliest day d with d + within >= today (Duration.after clamps month ends, so search near).
    back = within.years * 366 + within.months * 31 + within.days + 2
    if back >= today.toordinal():  # (a window longer than the calendar: every day counts)
        return date.min
    guess = date.fromordinal(today.toordinal() - back)
    while within.after(guess) < today:
        guess = date.fromordinal(guess.toordinal() + 1)
    return guess


def hundredths(points: float) -> int:
    """``points`` in hundredths, exactly (points have at most two decimals)."""
    return round(points * 100)


def show_points(points: float) -> str:
    """``20``, ``7.5``."""
    return f"{hundredths(points) / 100:g}"


def component_awards(project: Project, recipient: Recipient, badge: BadgeClass, today: date) -> tuple[Award, ...]:
    """The earner's awards that count towards ``badge``'s pathway: per component (in order), the
    latest that counts on ``today``."""
    if badge.requires is None:
        return ()
    found = []
    for slug in badge.requires.of:
        counting = [a for a in recipient.awards if a.badge == slug and _counts(a, badge, today)]
        if counting:
            found.append(max(counting, key=lambda a: (a.issued_on, a.id)))
    return tuple(found)


def _counts(award: Award, badge: BadgeClass, today: date) -> bool:
    if award.issued_on > today:
        return False
    status = award.status(today)
    return status == "valid" if badge.requires and badge.requires.current else status != "revoked"


def check(
    project: Project, recipient: Recipient, badge: BadgeClass, today: date, memberships: dict[str, date] | None = None
) -> Check:
    """How ``recipient`` stands towards ``badge`` on ``today``; ``memberships``: recipient slug ->
    the last day of their membership (``members.last_days``), for a badge that requires one."""
    reasons = []
    met = True
    last_day = (memberships or {}).get(recipient.slug)
    if badge.requires_membership and last_day is not None and today > last_day:
        # (an award made now would be suspended at once, by the build's lapse rule, and the next
        # round of 'award --eligible' would award it again, for ever: a review)
        met = False
        reasons.append(f"membership lapsed after {last_day}: not a member on {today}")
    start = window_start(badge, today)
    activities: tuple[CpdActivity, ...] = ()
    points = 0.0
    if badge.cpd is not None:
        activities = tuple(a for a in recipient.cpd if a.on <= today and (start is None or a.on >= start))
        total = sum(hundredths(a.points) for a in activities)
        points = total / 100
        since = f"since {start}" if start else "in all"
        enough = total >= hundredths(badge.cpd.points)
        met = met and enough
        reasons.append(
            f"{show_points(points)} of {show_points(badge.cpd.points)} CPD points {since} "
            f"({len(activities)} activit{'y' if len(activities) == 1 else 'ies'})"
        )
    components: tuple[Award, ...] = ()
    if badge.requires is not None:
        components = component_awards(project, recipient, badge, today)
        have = {a.badge for a in components}
        enough = len(components) >= badge.requires.needed
        met = met and enough
        rule = "all" if badge.requires.all else f"{badge.requires.needed} of {len(badge.requires.of)}"
        missing = [slug for slug in badge.requires.of if slug not in have]
        reasons.append(
            f"holds {len(components)} of the {len(badge.requires.of)} component badges ({rule} needed"
            + ("; current awards only" if badge.requires.current else "")
            + (f"; missing: {', '.join(missing)}" if missing and not enough else "")
            + ")"
        )
    held = next(
        (
            a
            for a in sorted(recipient.awards, key=lambda a: (a.issued_on, a.id), reverse=True)
            if a.badge == badge.slug and a.status(today) in ("valid", "suspended")
        ),
        None,
    )
    # A suspended award is held too: a suspension is the issuer's hold on that badge, which a fresh
    # copy from the same CPD activities would undo (a review); an expired or revoked one is not.
    if held is not None:
        reasons.append(f"already holds {held.id}, {held.status(today)}")
    return Check(recipient, badge, met, held, points, activities, components, (start, today), tuple(reasons))


def eligible(
    project: Project, today: date, *, badge: str | None = None, memberships: dict[str, date] | None = None
) -> list[Check]:
    """Every (earner, badge with rules) pair that qualifies on ``today``, by badge then earner file
    (``memberships``: see :func:`check`)."""
    found = []
    for slug in sorted(project.badges):
        target = project.badges[slug]
        if (badge is not None and slug != badge) or not has_rules(target):
            continue
        for recipient in sorted(project.recipients, key=lambda r: r.slug):
            result = check(project, recipient, target, today, memberships)
            if result.eligible:
                found.append(result)
    return found


def progress(project: Project, recipient: Recipient, today: date) -> list[Check]:
    """How ``recipient`` stands towards every pathway badge (for their portfolio), by badge slug."""
    return [
        check(project, recipient, badge, today)
        for slug, badge in sorted(project.badges.items())
        if badge.requires is not None
    ]
