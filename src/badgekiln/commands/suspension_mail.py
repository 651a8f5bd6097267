"""Telling earners that an award of theirs is suspended, and that the suspension was lifted.

``badgekiln notify`` sends one message per suspension (an award's ``suspended: {on, reason}``, or
the ``membership lapsed`` suspension the build computes) and, once that suspension is no longer in
force, one message saying the award is valid again. Each is recorded in ``site_src/notified.lock``
as ``award id<TAB>date sent<TAB>suspended 2026-05-01`` or ``…<TAB>reinstated 2026-05-01``, where
the last date is the suspension's ``on``: a later suspension of the same award (another ``on``) is
announced again, and only an announced suspension is ever said to be lifted. Revoked awards get
neither, nor do awards never built; an award already expired is not told it is suspended, and an
award whose suspension ended is told only while it is valid. An award never announced is not told
it is suspended either: the earner's first message about it would be bad news about a badge they
never heard of; it is announced when it is valid again (:mod:`badgekiln.commands.notify`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage

from badgekiln.delivery.mail import build_message, mailbox
from badgekiln.formats import urls
from badgekiln.models import Award, BadgeClass, Project, Recipient
from badgekiln.pages import context
from badgekiln.pages.render import Renderer
from badgekiln.sources.config import SiteConfig
from badgekiln.sources.notified import REINSTATED, SUSPENDED
from badgekiln.sources.validate import LAPSED_REASON


@dataclass(frozen=True)
class SuspensionNotice:
    """One message: ``award`` is suspended (``kind`` "suspended") or valid again ("reinstated")."""

    recipient: Recipient
    badge: BadgeClass
    award: Award
    kind: str  # SUSPENDED or REINSTATED
    covers: tuple[str, ...]  # the suspensions' ``on`` days (YYYY-MM-DD) this message records

    @property
    def records(self) -> tuple[str, ...]:
        """The third columns of its lines in the lock file: ``suspended 2026-05-01``."""
        return tuple(f"{self.kind} {on}" for on in self.covers)


def due_notices(
    project: Project,
    sent: dict[tuple[str, str, str], str],
    today: date,
    *,
    built: set[str] | dict | None = None,
    announced: set[str] | dict | None = None,
    only: tuple[str, ...] = (),
) -> list[SuspensionNotice]:
    """The suspension and reinstatement messages to send on ``today``, in award order.

    Args:
        sent: (award id, kind, suspension's on) → the day it was sent
            (:func:`~badgekiln.sources.notified.read_suspension_notices`).
        built: the ids of awards that were built (their pages exist); None: all.
        announced: the ids of awards whose earners were told of them; None: all.
        only: only these awards (empty: all).
    """
    # Only lines that can be true: sent by today, about a suspension that had begun when sent (a
    # hand-made line must not tell an earner that a suspension they never had was lifted). The
    # later line of "suspended X" and "reinstated X" (``sent`` is in file order) gives X's state.
    state: dict[tuple[str, str], str] = {}
    for (award_id, kind, on), day in sent.items():
        if on <= day <= today.isoformat():
            state[(award_id, on)] = kind

    def still_open(award_id: str, on: str) -> bool:
        """A suspension from ``on`` was announced and not announced lifted since."""
        return state.get((award_id, on)) == SUSPENDED

    told: dict[str, list[str]] = {}
    for award_id, on in state:
        told.setdefault(award_id, []).append(on)

    notices = []
    for award in project.awards:
        if award.revoked is not None or (only and award.id not in only):
            continue
        if built is not None and award.id not in built:
            continue
        recipient, badge = project.recipient(award.recipient), project.badges[award.badge]
        if award.suspended is not None:
            on = award.suspended.on.isoformat()
            never_announced = announced is not None and award.id not in announced
            if not still_open(award.id, on) and not award.is_expired(today) and not never_announced:
                notices.append(SuspensionNotice(recipient, badge, award, SUSPENDED, (on,)))
            continue
        open_ = sorted(on for on in told.get(award.id, []) if still_open(award.id, on))
        if open_ and award.status(today) == "valid":
            notices.append(SuspensionNotice(recipient, badge, award, REINSTATED, tuple(open_)))
    return notices


def compose_notice(
    renderer: Renderer,
    config: SiteConfig,
    notice: SuspensionNotice,
    today: date,
    *,
    sender: Address,
    reply_to: Address,
    now: datetime,
    membership_until: date | None = None,
) -> tuple[EmailMessage, str]:
    """The message of ``notice`` and its envelope recipient. Every header is built by the mail
    library from values (the reason is only ever in the bodies, ``email-suspended.*`` and
    ``email-reinstated.*``). ``membership_until``: the last day of the earner's membership, which
    the message about a lapsed membership gives.

    Raises:
        MailAddressError: the earner's address is not one plain mailbox.
    """
    recipient, badge, award = notice.recipient, notice.badge, notice.award
    to = mailbox(recipient.name, recipient.email)
    suspension = award.suspended
    values = dict(
        earner=recipient.name,
        issuer=context.issuer_context(config) | {"email": config.issuer.email},
        badge=context.badge_context(badge),
        award=context.award_context(config, badge, recipient, award, today),
        suspension=None
        if suspension is None
        else {
            "on": suspension.on,
            "reason": suspension.reason,
            "membership": suspension.computed and suspension.reason == LAPSED_REASON,
            "membership_until": membership_until,
        },
        page_url=config.url(urls.award_dir(award.id)),
        language=config.language,
        accent=config.accent_color,
    )
    name = f"email-{notice.kind}"
    text = renderer.render(f"{name}.txt", **values).decode("utf-8")
    html = renderer.render(f"{name}.html", **values).decode("utf-8")
    # What happened first (where a phone shows it), then the badge's name; no quotation marks around it: the email
    # package treats a quoted name as one word and folds the whole subject onto a second line.
    if notice.kind == SUSPENDED:
        subject = f"Your badge is suspended: {badge.name}"
    else:
        subject = f"Your badge is valid again: {badge.name}"
    message = build_message(sender=sender, to=to, reply_to=reply_to, subject=subject, text=text, html=html, now=now)
    return message, to.addr_spec
