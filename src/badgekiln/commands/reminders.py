"""Reminders to earners before their badges expire: which are due, and their messages.

A badge class's ``remind_before`` (else ``site.yaml``'s) lists the points before expiry, such as
``[P60D, P7D]``. On or after each point, ``badgekiln notify`` sends the earner one reminder with
the way to renew (the badge class's ``renewal_url``, else the issuer's contact), and records it in
``site_src/notified.lock`` as ``award id<TAB>date<TAB>reminder P60D 2027-01-15``, with the expiry
date it was sent for: when the expiry moves (a longer ``expires``), the points of the new date are
sent again. An award is reminded only while it is valid: never once it is revoked, suspended,
expired or renewed (a later award ``renews`` it). When several points are due at once (notify was
not run for a while), one message goes out, for the nearest point, and every due point is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage

from badgekiln.delivery.mail import build_message, mailbox
from badgekiln.formats import urls
from badgekiln.models import Award, BadgeClass, Duration, Project, Recipient
from badgekiln.pages import context
from badgekiln.pages.render import Renderer, long_date
from badgekiln.sources.config import SiteConfig
from badgekiln.sources.notified import REMINDER


@dataclass(frozen=True)
class Reminder:
    """One reminder message to send: for the nearest due point, covering every due point."""

    recipient: Recipient
    badge: BadgeClass
    award: Award
    point: Duration  # the nearest point due: what the message says
    due_on: date  # the day that point was reached
    covers: tuple[str, ...]  # the points (as written, P60D) this message records as sent

    @property
    def records(self) -> tuple[str, ...]:
        """The third columns of its lines in the lock file: ``reminder P60D 2027-01-15``."""
        assert self.award.expires is not None  # (only awards that expire are reminded)
        return tuple(f"{REMINDER}{point} {self.award.expires.isoformat()}" for point in self.covers)


@dataclass(frozen=True)
class ScheduledPoint:
    """One reminder point of one award, for ``report expiring --remind``."""

    point: str
    due_on: date
    state: str  # "sent YYYY-MM-DD", "due" (next notify sends it), "upcoming", "held while suspended", "not sent: <why>"

    def as_dict(self) -> dict:
        return {"point": self.point, "due_on": self.due_on.isoformat(), "state": self.state}

    def text(self) -> str:
        return f"{self.point} on {self.due_on.isoformat()}: {self.state}"


def points_of(config: SiteConfig, badge: BadgeClass) -> tuple[Duration, ...]:
    """The reminder points of ``badge``, longest first: its own, else the site's default."""
    return badge.remind_before if badge.remind_before is not None else config.remind_before


def sent_on(sent: dict[tuple[str, str, str], str], award: Award, point: Duration) -> str | None:
    """The day the reminder at ``point`` went out for ``award``'s current expiry date, or None.

    A line of an earlier badgekiln version names no expiry date. It counts for the current one
    when it was sent on or after that date's point: a reminder is never sent before its point, so
    a line sent earlier than that was for an earlier expiry (the award was extended since).
    """
    assert award.expires is not None
    day = sent.get((award.id, point.text, award.expires.isoformat()))
    if day is None:
        old = sent.get((award.id, point.text, ""))
        if old is not None and old >= point.before(award.expires).isoformat():
            day = old
    return day


def not_reminded(project: Project, award: Award, today: date) -> str | None:
    """Why ``award`` gets no reminder on ``today`` (revoked, suspended, expired, renewed), or None."""
    status = award.status(today)
    if status != "valid":
        return status
    if award.id in project.renewed_by:
        return "renewed"
    return None


def due_reminders(
    project: Project,
    config: SiteConfig,
    sent: dict[tuple[str, str, str], str],
    today: date,
    *,
    built: set[str] | dict | None = None,
    announced: set[str] | dict | None = None,
    only: tuple[str, ...] = (),
) -> list[Reminder]:
    """The reminders to send on ``today`` (one per award at most), ordered by award id.

    Args:
        sent: (award id, point, expiry date) → the day its reminder went out
            (:func:`~badgekiln.sources.notified.read_reminders`).
        built: the ids of awards that were built (their pages exist); None: all.
        announced: the ids of awards whose earners were told of them; None: all. An award not
            announced yet (its page not online, its message refused) is not reminded: an earner's
            first message about a badge would be that it expires (a membership body's review).
        only: only these awards (empty: all).
    """
    reminders = []
    for award in project.awards:
        if award.expires is None or (only and award.id not in only) or (built is not None and award.id not in built):
            continue
        if announced is not None and award.id not in announced:
            continue
        badge = project.badges[award.badge]
        due = [
            p for p in points_of(config, badge) if p.before(award.expires) <= today and sent_on(sent, award, p) is None
        ]
        if not due or not_reminded(project, award, today) is not None:
            continue
        nearest = max(due, key=lambda p: p.before(award.expires or today))
        reminders.append(
            Reminder(
                project.recipient(award.recipient),
                badge,
                award,
                nearest,
                nearest.before(award.expires),
                tuple(p.text for p in due),
            )
        )
    return reminders


def schedule(
    project: Project,
    config: SiteConfig,
    award: Award,
    sent: dict[tuple[str, str, str], str],
    today: date,
    *,
    built: bool = True,
    announced: bool = True,
) -> list[ScheduledPoint]:
    """Every reminder point of ``award`` with its day and what became or will become of it
    (``built``: whether the award was built, which a reminder's link needs; ``announced``:
    whether its earner was told of it, which a reminder waits for)."""
    if award.expires is None:
        return []
    why_not = (
        not_reminded(project, award, today)
        or (None if built else "not built yet")
        or (None if announced else "not announced yet")
    )
    rows = []
    for point in points_of(config, project.badges[award.badge]):
        due_on = point.before(award.expires)
        day = sent_on(sent, award, point)
        if day is not None:
            state = f"sent {day}"
        elif why_not == "suspended":  # (sent if the suspension ends before the award expires)
            state = "held while suspended"
        elif why_not == "not announced yet":  # (sent once 'notify' has announced the award)
            state = "held until the award is announced"
        elif why_not is not None:
            state = f"not sent: {why_not}"
        else:
            state = "due" if due_on <= today else "upcoming"
        rows.append(ScheduledPoint(point.text, due_on, state))
    return sorted(rows, key=lambda r: r.due_on)


def renewal_route(config: SiteConfig, badge: BadgeClass) -> dict:
    """How the earner renews: the badge class's ``renewal_url``, else the issuer's address and site."""
    return {"url": badge.renewal_url, "email": config.issuer.email, "contact_url": config.issuer.url}


def compose_reminder(
    renderer: Renderer,
    config: SiteConfig,
    reminder: Reminder,
    today: date,
    *,
    sender: Address,
    reply_to: Address,
    now: datetime,
    membership_until: date | None = None,
) -> tuple[EmailMessage, str]:
    """The message of ``reminder`` and its envelope recipient. Every header is built by the mail
    library from values (never from template text); the bodies come from ``email-reminder.txt``
    and ``email-reminder.html``. ``membership_until``: the last day of the earner's membership,
    which a badge that requires membership is valid only as long as.

    Raises:
        MailAddressError: the earner's address is not one plain mailbox.
    """
    recipient, badge, award = reminder.recipient, reminder.badge, reminder.award
    to = mailbox(recipient.name, recipient.email)
    award_ctx = context.award_context(config, badge, recipient, award, today)
    assert award.expires is not None  # (only awards that expire are reminded)
    values = dict(
        earner=recipient.name,
        issuer=context.issuer_context(config) | {"email": config.issuer.email},
        badge=context.badge_context(badge),
        award=award_ctx,
        days_left=(award.expires - today).days,
        renewal=renewal_route(config, badge),
        page_url=config.url(urls.award_dir(award.id)),
        membership={"until": membership_until} if badge.requires_membership else None,
        language=config.language,
        accent=config.accent_color,
    )
    text = renderer.render("email-reminder.txt", **values).decode("utf-8")
    html = renderer.render("email-reminder.html", **values).decode("utf-8")
    subject = f"Your badge expires on {long_date(award.expires)}: {badge.name}"  # (no quotes: see suspension_mail)
    message = build_message(sender=sender, to=to, reply_to=reply_to, subject=subject, text=text, html=html, now=now)
    return message, to.addr_spec
