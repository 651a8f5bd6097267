"""Telling earners that an award of theirs was revoked.

``badgekiln notify`` sends one message per revoked award, recorded in ``site_src/notified.lock``
as ``award id<TAB>date sent<TAB>revoked 2026-05-01`` (the revocation's ``on``); a revocation is for
good, so it is sent once whatever date that line names. As for suspensions
(:mod:`badgekiln.commands.suspension_mail`), only an award that was built (it is in ``awards.lock``:
its page exists and now says it is revoked) and announced to its earner is told: the earner's
first message about a badge must not be that it was taken back. ``notify_revocations: false`` in
``site.yaml`` turns these messages off, for a provider who tells earners in person.

When the revoked award renews an earlier one that is still valid, the message says so: that
earlier award is no longer "renewed", so its reminders before expiry go out again, and the earner
should know why (:mod:`badgekiln.commands.reminders`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage

from badgekiln.delivery.mail import build_message, mailbox
from badgekiln.formats import urls
from badgekiln.models import Award, BadgeClass, Project, Recipient, Revocation
from badgekiln.pages import context
from badgekiln.pages.render import Renderer
from badgekiln.sources.config import SiteConfig
from badgekiln.sources.notified import REVOKED


@dataclass(frozen=True)
class RevocationNotice:
    """One message: ``award`` was revoked. ``earlier``: the still-valid award it renewed, if any."""

    recipient: Recipient
    badge: BadgeClass
    award: Award
    earlier: Award | None = None

    @property
    def revocation(self) -> Revocation:
        assert self.award.revoked is not None  # (only revoked awards get one)
        return self.award.revoked

    @property
    def records(self) -> tuple[str, ...]:
        """The third column of its line in the lock file: ``revoked 2026-05-01``."""
        return (f"{REVOKED} {self.revocation.on.isoformat()}",)


# How old a revocation may be (by its date, which ``revoke --on`` may set in the past) and still
# be told by a plain ``notify`` (``--award ID`` tells an older one): notify runs at least daily
# where it is scheduled, so a new one is told within a day; a revocation dated back a month or two
# is still told; and upgrading a site with revocations of years ago does not email them all.
RECENT = timedelta(days=90)


def due_revocations(
    project: Project,
    sent: dict[str, str] | set[str],
    today: date,
    *,
    built: set[str] | dict | None = None,
    announced: set[str] | dict | None = None,
    only: tuple[str, ...] = (),
) -> list[RevocationNotice]:
    """The revocation notices to send on ``today``, in award order.

    Args:
        sent: the ids of awards whose earners were told of the revocation
            (:func:`~badgekiln.sources.notified.read_revocation_notices`).
        built: the ids of awards that were built (their pages exist); None: all.
        announced: the ids of awards whose earners were told of them; None: all.
        only: only these awards (empty: all).
    """
    awards = {a.id: a for a in project.awards}
    notices = []
    for award in project.awards:
        if award.revoked is None or award.id in sent or (only and award.id not in only):
            continue
        if not only and award.revoked.on < today - RECENT:
            continue  # (an old revocation: a site upgraded to this would have emailed them all at once)
        if (built is not None and award.id not in built) or (announced is not None and award.id not in announced):
            continue
        earlier = awards.get(award.renews) if award.renews else None
        if earlier is not None and earlier.status(today) != "valid":
            earlier = None
        notices.append(
            RevocationNotice(project.recipient(award.recipient), project.badges[award.badge], award, earlier)
        )
    return notices


def compose_revocation(
    renderer: Renderer,
    config: SiteConfig,
    notice: RevocationNotice,
    today: date,
    *,
    sender: Address,
    reply_to: Address,
    now: datetime,
) -> tuple[EmailMessage, str]:
    """The message of ``notice`` and its envelope recipient. Every header is built by the mail
    library from values (the reason is only ever in the bodies, ``email-revoked.txt`` and
    ``email-revoked.html``).

    Raises:
        MailAddressError: the earner's address is not one plain mailbox.
    """
    recipient, badge, award, earlier = notice.recipient, notice.badge, notice.award, notice.earlier
    to = mailbox(recipient.name, recipient.email)
    values = dict(
        earner=recipient.name,
        issuer=context.issuer_context(config) | {"email": config.issuer.email},
        badge=context.badge_context(badge),
        award=context.award_context(config, badge, recipient, award, today),
        revocation={"on": notice.revocation.on, "reason": notice.revocation.reason},
        earlier=None
        if earlier is None
        else {
            "issued_on": earlier.issued_on,
            "expires": earlier.expires,
            "page_url": config.url(urls.award_dir(earlier.id)),
        },
        page_url=config.url(urls.award_dir(award.id)),
        language=config.language,
        accent=config.accent_color,
    )
    text = renderer.render("email-revoked.txt", **values).decode("utf-8")
    html = renderer.render("email-revoked.html", **values).decode("utf-8")
    subject = f"Your badge has been revoked: {badge.name}"  # (no quotes: see suspension_mail)
    message = build_message(sender=sender, to=to, reply_to=reply_to, subject=subject, text=text, html=html, now=now)
    return message, to.addr_spec
