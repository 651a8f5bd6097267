"""``badgekiln notify``: email earners the link to each new badge, once.

Which awards were announced is recorded in ``site_src/notified.lock`` (commit it), so running
notify again after the next deploy only writes to the earners of new awards. Revoked and expired
awards, and awards never built (not in ``awards.lock``), are not announced. Reminders before expiry
(``remind_before``) go out in the same run, once per point (:mod:`badgekiln.commands.reminders`), and
so does the news that an award is suspended or valid again (:mod:`badgekiln.commands.suspension_mail`)
or was revoked (:mod:`badgekiln.commands.revocation_mail`).

A batch never stops at one recipient: refused addresses are reported and passed over, temporary
failures are retried with a growing delay while the rest are sent (:func:`badgekiln.delivery.mail.deliver`),
and each delivery is recorded in the lock file before the next message goes out, so neither a
crash nor Ctrl-C ever sends an award's message twice.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import ssl
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from email.message import EmailMessage
from functools import partial
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from badgekiln.commands.reminders import Reminder, compose_reminder, due_reminders
from badgekiln.commands.revocation_mail import RevocationNotice, compose_revocation, due_revocations
from badgekiln.commands.suspension_mail import SuspensionNotice, compose_notice, due_notices
from badgekiln.delivery.mail import (
    ConnectFailure,
    DeliveryReport,
    InlineImage,
    MailAddressError,
    Mailer,
    RetryPolicy,
    SmtpSettings,
    Watchdog,
    build_message,
    deliver,
    header_text,
    mailbox,
    sender_address,
)
from badgekiln.errors import BadgekilnError, BakeError, ConfigError
from badgekiln.formats import htmltext, raster, urls
from badgekiln.models import Award, BadgeClass, Recipient
from badgekiln.pages import context
from badgekiln.pages.render import Renderer
from badgekiln.pages.templateerrors import located_template_errors
from badgekiln.sources.config import SiteConfig, SourceTree, source_paths
from badgekiln.sources.ledger import read_ledger
from badgekiln.sources.members import last_days, read_members
from badgekiln.sources.notified import (
    REINSTATED,
    REVOKED,
    SUSPENDED,
    NotifiedLock,
    read_records,
    read_reminders,
    read_revocation_notices,
    read_suspension_notices,
)
from badgekiln.sources.validate import load_project

NOTIFIED = SourceTree.NOTIFIED
MAX_INLINE_IMAGE = 1_000_000  # bytes: a larger PNG is not put in the message (the page shows it)
PAGE_CHECK_TIMEOUT = 10.0  # seconds per award page in the online check
PAGE_CHECK_WORKERS = 8


@dataclass(frozen=True)
class Announcement:
    """One award to announce, with what its message needs."""

    recipient: Recipient
    badge: BadgeClass
    award: Award
    page_url: str


@dataclass(frozen=True)
class Outgoing:
    """One message and the awards it announces (several with ``--digest``)."""

    message: EmailMessage
    to: str  # the envelope recipient: the earner's address, and nothing else
    award_ids: tuple[str, ...]
    reminders: tuple[str, ...] = ()  # a reminder before expiry: its lines' third columns ("reminder P60D 2027-01-15")
    # news of a suspension, its end or a revocation: its lines' third columns ("suspended 2026-05-01", "revoked …")
    notices: tuple[str, ...] = ()
    recipient_file: str = ""  # where the earner's address is written: recipients/<slug>.yaml


@dataclass
class NotifyResult:
    """What notify did (or, in a dry run, would do)."""

    sender: str = ""
    outgoing: list[Outgoing] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (award id, reason)
    offline: list[tuple[str, str]] = field(default_factory=list)  # (award id, reason): pages not online
    delivery: DeliveryReport[Outgoing] | None = None
    own: tuple[str, ...] = ()  # the site's and the issuer's addresses, each ending in "/" (see html_references)

    @property
    def messages(self) -> list[EmailMessage]:
        return [item.message for item in self.outgoing]

    @property
    def award_ids(self) -> list[str]:
        """The awards announced (reminders and suspension or revocation news are not announcements:
        see ``reminded`` and ``suspension_news``)."""
        return [
            award_id for item in self.outgoing if not item.reminders and not item.notices for award_id in item.award_ids
        ]

    @property
    def reminded(self) -> list[str]:
        """The awards whose earners are reminded that they expire."""
        return [award_id for item in self.outgoing if item.reminders for award_id in item.award_ids]

    @property
    def suspension_news(self) -> list[tuple[str, str]]:
        """(award id, ``suspended``, ``reinstated`` or ``revoked``) of each message telling an earner so."""
        return [(item.award_ids[0], item.notices[0].split(" ")[0]) for item in self.outgoing if item.notices]

    @property
    def ok(self) -> bool:
        """Nothing failed, nothing was left pending and every page was online."""
        delivery = self.delivery
        return not self.offline and (
            delivery is None or not (delivery.failed or delivery.pending or delivery.maybe_sent)
        )


# -- the lock file --------------------------------------------------------------------------------


def read_notified(path: Path) -> set[str]:
    """Award ids already announced (a line cut short by a crash does not count)."""
    return set(read_records(path))


# -- what to announce -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """The awards to announce and those passed over, before any message is built."""

    config: SiteConfig
    today: date
    announcements: list[Announcement]
    skipped: list[tuple[str, str]]
    reminders: list[Reminder] = field(default_factory=list)  # reminders before expiry now due
    notices: list[SuspensionNotice] = field(default_factory=list)  # suspensions and their ends to tell
    covered: dict[str, tuple[str, ...]] = field(default_factory=dict)  # award id -> notices its announcement makes
    memberships: dict[str, date] = field(default_factory=dict)  # recipient slug -> last day of their membership
    revocations: list[RevocationNotice] = field(default_factory=list)  # revocations to tell
    renewal_urls: tuple[str, ...] = ()  # where earners renew badges (the badge classes' renewal_url)


def plan_announcements(source: Path, today: date, *, only: tuple[str, ...] = ()) -> Plan:
    """The awards not yet announced (or the awards named in ``only``), and those passed over."""
    loaded = load_project(source, today=today)
    config, project = loaded.config, loaded.project
    published = read_ledger(source_paths(source).ledger, []).entries
    done = read_notified(source / NOTIFIED)
    known = {a.id for a in project.awards}
    unknown = [award_id for award_id in only if award_id not in known]
    if unknown:
        raise BadgekilnError(f"there is no award {', '.join(unknown)}")
    announcements, skipped = [], []
    revocations = []
    if config.notify_revocations:
        revocations = due_revocations(
            project, read_revocation_notices(source / NOTIFIED), today, built=published, announced=done, only=only
        )
    telling = {n.award.id for n in revocations}
    # (a renewal counts once it is published and valid: a renewal revoked as a mistake, or not
    # built yet, leaves the award it renews to be announced)
    renewed = {a.renews: a.id for a in project.awards if a.renews and a.id in published and a.status(today) == "valid"}
    for recipient in project.recipients:
        for award in recipient.awards:
            if only and award.id not in only:
                continue
            if award.id in done and not only:
                continue
            reason = None
            if award.revoked is not None and not only:
                continue  # (never to be sent: not reported on every run; --award ID says why)
            if award.id in telling:
                continue  # (--award ID of a revoked award: its revocation notice is what is sent)
            if award.id not in published:
                reason = "not built yet: run 'python build.py', deploy, then notify"
            elif award.status(today) != "valid":
                reason = f"{award.status(today)}"
            elif award.id in renewed and not only:  # (its renewal is the news: one message, not two)
                reason = f"renewed by {renewed[award.id]}"
            if reason:
                skipped.append((award.id, reason))
                continue
            announcements.append(
                Announcement(recipient, project.badges[award.badge], award, config.url(urls.award_dir(award.id)))
            )
    reminders = due_reminders(
        project, config, read_reminders(source / NOTIFIED), today, built=published, announced=done, only=only
    )
    notices = due_notices(
        project, read_suspension_notices(source / NOTIFIED), today, built=published, announced=done, only=only
    )
    # An award announced now is told as valid: "valid again" would repeat it. That notice is
    # recorded with the announcement instead (when it is sent), so it does not come up again.
    announced = {a.award.id for a in announcements}
    covered = {n.award.id: n.records for n in notices if n.kind == "reinstated" and n.award.id in announced}
    notices = [n for n in notices if n.award.id not in covered or n.kind != "reinstated"]
    memberships = last_days(project.recipients, read_members(source, []))
    renewal = tuple(sorted({b.renewal_url for b in project.badges.values() if b.renewal_url}))
    return Plan(config, today, announcements, skipped, reminders, notices, covered, memberships, revocations, renewal)


def check_pages_online(urls: list[str], *, timeout: float = PAGE_CHECK_TIMEOUT) -> dict[str, str]:
    """URL → why it is not online, for each page that does not answer ``200`` within ``timeout``
    seconds in all (connecting included, however slowly the server answers). Redirects are not
    followed (a page that moved is not where the message would send the earner) and no body is read.
    """
    unique = sorted(set(urls))
    with ThreadPoolExecutor(max_workers=PAGE_CHECK_WORKERS) as pool:
        answers = dict(zip(unique, pool.map(lambda url: _page_problem(url, timeout), unique)))
    return {url: reason for url, reason in answers.items() if reason is not None}


def _page_problem(url: str, timeout: float) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "not an http(s) URL"
    try:
        port = parts.port
    except ValueError:
        return "bad port"
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            parts.hostname, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
    with Watchdog(timeout, lambda: _shut(connection.sock)) as watchdog:
        try:
            connection.request("GET", parts.path or "/", headers={"User-Agent": "badgekiln-notify"})
            response = connection.getresponse()
            status, location = response.status, response.getheader("Location")
        except Exception as exc:  # noqa: BLE001 - a shut socket fails in many ways
            return f"no answer within {timeout:g} s" if watchdog.fired else header_text(str(exc) or type(exc).__name__)
        finally:
            connection.close()
    if watchdog.fired:  # a shut socket can also look like the end of the headers
        return f"no answer within {timeout:g} s"
    if status == 200:
        return None
    return f"HTTP {status}" + (f" (redirects to {header_text(location)})" if location and 300 <= status < 400 else "")


def _shut(sock) -> None:
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


# -- the messages ---------------------------------------------------------------------------------


def compose(
    source: Path, plan: Plan, *, sender: str, now: datetime, digest: bool = False
) -> tuple[list[Outgoing], list[tuple[str, str]]]:
    """The messages for ``plan`` (one per award, or one per earner with ``digest``), and the
    awards that cannot be sent (an address that is not one plain mailbox).

    Raises:
        ConfigError: ``sender`` is not one plain address.
    """
    config = plan.config
    renderer = Renderer(source_paths(source).templates)
    try:
        from_ = mailbox(config.issuer.name, sender)
        reply_to = mailbox(config.issuer.name, config.issuer.email)
    except MailAddressError as exc:
        raise ConfigError(f"cannot send as {sender!r}: {exc}") from None
    groups: dict[str, list[Announcement]] = {}
    for item in plan.announcements:
        key = item.recipient.email if digest else item.award.id
        groups.setdefault(key, []).append(item)
    outgoing: list[Outgoing] = []
    refused: list[tuple[str, str]] = []
    for group in groups.values():
        recipient = group[0].recipient
        try:
            to = mailbox(recipient.name, recipient.email)
        except MailAddressError as exc:
            refused.extend((item.award.id, f"cannot be sent: {exc}") for item in group)
            continue
        images = _images(source, group)
        values = _template_values(config, plan.today, group, images)
        text = renderer.render("email.txt", **values).decode("utf-8")
        html = renderer.render("email.html", **values).decode("utf-8")
        if len(group) == 1:
            renewed = "renewed " if group[0].award.renews is not None else ""
            subject = f"Your {renewed}badge: {group[0].badge.name}"
        else:
            subject = f"Your {len(group)} new badges from {config.issuer.name}"
        message = build_message(
            sender=from_,
            to=to,
            reply_to=reply_to,
            subject=subject,
            text=text,
            html=html,
            now=now,
            images=list(images.values()),
        )
        outgoing.append(
            Outgoing(message, to.addr_spec, tuple(item.award.id for item in group), recipient_file=_file_of(recipient))
        )
    # A revocation goes before a reminder (the reminder of an award whose renewal was revoked
    # follows the message that explains it), and news of a suspension too ("valid again", then
    # "expires on").
    common: dict[str, Any] = {"sender": from_, "reply_to": reply_to, "now": now}

    def member(item: Any) -> dict[str, Any]:
        return {"membership_until": plan.memberships.get(item.recipient.slug)}

    news: list[tuple[Any, str, Callable[[], tuple[EmailMessage, str]], bool]] = [
        *(
            (r, "revocation notice", partial(compose_revocation, renderer, config, r, plan.today, **common), False)
            for r in plan.revocations
        ),
        *(
            (
                n,
                f"{n.kind} notice",
                partial(compose_notice, renderer, config, n, plan.today, **common, **member(n)),
                False,
            )
            for n in plan.notices
        ),
        *(
            (r, "reminder", partial(compose_reminder, renderer, config, r, plan.today, **common, **member(r)), True)
            for r in plan.reminders
        ),
    ]
    for item, what, compose, is_reminder in news:
        try:
            message, to_address = compose()
        except MailAddressError as exc:
            refused.append((item.award.id, f"{what} cannot be sent: {exc}"))
            continue
        records = dict(reminders=item.records) if is_reminder else dict(notices=item.records)
        outgoing.append(
            Outgoing(message, to_address, (item.award.id,), **records, recipient_file=_file_of(item.recipient))
        )
    return outgoing, refused


def _file_of(recipient: Recipient) -> str:
    """The source file that holds ``recipient``'s address."""
    return recipient.location.path if recipient.location else f"{SourceTree.RECIPIENTS}/{recipient.slug}.yaml"


def _template_values(
    config: SiteConfig, today: date, group: list[Announcement], images: dict[str, InlineImage]
) -> dict:
    items = []
    for item in group:
        award_ctx = context.award_context(config, item.badge, item.recipient, item.award, today)
        award_ctx["shows_name"] = item.recipient.show_name
        award_ctx["renews"] = item.award.renews is not None  # (said: "has renewed your badge", a review)
        image = images.get(item.badge.slug)
        items.append(
            {"badge": context.badge_context(item.badge), "award": award_ctx, "image_cid": image.cid if image else None}
        )
    first = items[0]
    # badge, award and image_cid are the first (usually only) award, for templates that predate digests.
    return dict(
        earner=group[0].recipient.name,
        issuer=context.issuer_context(config),
        items=items,
        badge=first["badge"],
        award=first["award"],
        image_cid=first["image_cid"],
        language=config.language,
        accent=config.accent_color,
    )


def _offline_hint(config: SiteConfig) -> str:
    """What to do about pages that are not online: deploy them, unless the site's ``base_url`` is
    still an example address (a starter site's ``badges.example.org``), which no deploy makes answer."""
    from badgekiln.commands.build import placeholder_addresses  # (only when a page is not online)

    if any(d.is_error for d in placeholder_addresses(config)):
        return (
            f"'base_url' in {SourceTree.SITE_YAML} is still an example address ({config.published.base_url}): "
            "set it to where the site is published"
        )
    return "deploy first, or use --skip-online-check"


def _images(source: Path, group: list[Announcement]) -> dict[str, InlineImage]:
    """Badge slug → the badge's art as a PNG, for each badge in ``group``: PNG art as it is, SVG
    art drawn as a PNG (:data:`INLINE_SVG_WIDTH` wide, with the bundled fonts, as the build draws
    ``badge.png``): most mail programs show no SVG."""
    images = {}
    for number, item in enumerate(group):
        slug = item.badge.slug
        if slug in images:
            continue
        data = _art_png(source_paths(source).site_src, item.badge.image)
        if data is not None:
            images[slug] = InlineImage(f"badge-{number}@badgekiln", data, f"{slug}.png")
    return images


INLINE_SVG_WIDTH = 240  # pixels: twice the 120 the message shows it at, for sharp screens


def _art_png(folder: Path, relative: str) -> bytes | None:
    """A badge's art as PNG bytes for a message, or None (the message goes without it)."""
    if relative.lower().endswith(".png"):
        return _read_png(folder, relative)
    if not relative.lower().endswith(".svg"):
        return None
    svg = _read_png(folder, relative, signature=b"")
    if svg is None:
        return None
    try:
        png = raster.rasterise(svg, width=INLINE_SVG_WIDTH)
    except (BakeError, ValueError):
        return None  # (the build reports artwork it cannot draw)
    return png if len(png) <= MAX_INLINE_IMAGE else None


def _read_png(folder: Path, relative: str, *, signature: bytes = b"\x89PNG\r\n\x1a\n") -> bytes | None:
    """The bytes of a PNG inside ``folder`` (or, with ``signature=b""``, of any file there): a
    regular file reached without a symlink, at most MAX_INLINE_IMAGE bytes, with the PNG signature;
    otherwise None (the message goes without it)."""
    path = folder
    try:
        for part in Path(relative).parts:
            if part in ("", ".", "..") or os.sep in part:
                return None
            path = path / part
            if stat.S_ISLNK(os.lstat(path).st_mode):
                return None
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_INLINE_IMAGE:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    return data if data.startswith(signature) and len(data) <= MAX_INLINE_IMAGE else None


# -- the whole command ----------------------------------------------------------------------------


def notify(
    source: Path,
    today: date,
    *,
    now: datetime,
    only: tuple[str, ...] = (),
    digest: bool = False,
    dry_run: bool = False,
    check_online: bool = True,
    policy: RetryPolicy | None = None,
    on_start: Callable[[int], None] = lambda total: None,
    on_event: Callable[[str, Outgoing, str], None] = lambda kind, item, reason: None,
) -> NotifyResult:
    """Plan, check that the pages are online, compose and (unless ``dry_run``) send.

    Raises:
        ConfigError: the mail settings are missing or wrong, the server cannot be reached at
            the start, or it refuses the login.
    """
    policy = policy or RetryPolicy()
    plan = plan_announcements(source, today, only=only)
    settings = None
    if not dry_run and (plan.announcements or plan.reminders or plan.notices or plan.revocations):
        settings = SmtpSettings.from_environment(plan.config.issuer.email)  # before any network use
    sender = settings.sender if settings else sender_address(plan.config.issuer.email)
    known = (plan.config.base_url, plan.config.issuer.url, *plan.renewal_urls)
    own = (*(url if url.endswith("/") else url + "/" for url in known), LINKEDIN_ADD)
    result = NotifyResult(sender=sender, skipped=list(plan.skipped), own=own)
    if check_online and plan.announcements:
        offline = check_pages_online([item.page_url for item in plan.announcements])
        todo = _offline_hint(plan.config) if offline else ""
        result.offline = [
            (
                item.award.id,
                f"the page {item.page_url} is not online ({offline[item.page_url]}); {todo}",
            )
            for item in plan.announcements
            if item.page_url in offline
        ]
        plan = replace(plan, announcements=[item for item in plan.announcements if item.page_url not in offline])
    with located_template_errors(source):  # (an email template that fails names its file and line)
        result.outgoing, refused = compose(source, plan, sender=sender, now=now, digest=digest)
    result.skipped.extend(refused)
    if settings is None or not result.outgoing:
        return result
    on_start(len(result.outgoing))
    with (
        Mailer(settings, deadline=policy.deadline) as mailer,
        NotifiedLock(source / NOTIFIED) as lock,
        _stop_on_signal() as stop,
    ):
        try:
            mailer.connect()
        except ConnectFailure as exc:
            raise ConfigError(exc.reason) from None
        result.delivery = deliver(
            mailer,
            result.outgoing,
            policy=policy,
            should_stop=stop.is_set,
            on_sent=lambda item: (
                lock.record_news(item.award_ids[0], item.reminders or item.notices, today)
                if item.reminders or item.notices
                else _record_announced(lock, item.award_ids, plan.covered, today)
            ),
            on_event=on_event,
        )
    return result


class _Links(HTMLParser):
    """The addresses an HTML text links to (``href``)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [value.strip() for name, value in attrs if name == "href" and value]


LINKEDIN_ADD = "https://www.linkedin.com/profile/add?"  # (the "add to your profile" link the built-in emails give)
# An address anywhere in a text (an attribute, CSS, a comment Outlook reads, a meta refresh), with a
# scheme or scheme-relative, once its HTML and CSS escapes are undone; and cid: parts of the message.
_ADDRESS = re.compile(
    r"""(?i)\b(?:https?|ftp|wss?|file):[/\\]*[^\s"'<>()`]+|(?<![\w:])[/\\]{2}[^\s"'<>()`/\\][^\s"'<>()`]*"""
    r"""|\bcid:[^\s"'<>()]+"""
)
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})\s?|\\(.)", re.DOTALL)


def html_references(message: EmailMessage, own: tuple[str, ...]) -> list[str]:
    """What a dry run says of a message's HTML part, which it does not print: every address it
    links to, and every other address it holds anywhere (what it loads: images, styles, a
    background, in attributes, CSS or comments), those outside ``own`` (the site's, the issuer's
    and the badges' renewal addresses) marked. A site's own ``templates/email.html`` (from a pull
    request) could hold a tracking image or a link elsewhere that its plain part, which the dry run
    prints, does not show (a review; a second one found loads in comments, ``@import``,
    ``image-set``, ``meta refresh`` that a list of attributes missed: every address is listed)."""
    body = message.get_body(("html",))
    if body is None:
        return []
    text = str(body.get_content())
    found = _Links()
    found.feed(text)
    found.close()
    plain = htmltext.unescape(text)
    # (browsers drop tabs and line breaks inside an address, and CSS a line continuation: so are
    # they here, before addresses are looked for; a review)
    plain = re.sub(r"\\\r?\n|[\t\r\n]", "", plain)
    css = _CSS_ESCAPE.sub(  # (read as CSS too: an attribute's backslash is no escape, a style's is)
        lambda m: chr(int(m.group(1), 16)) if m.group(1) and int(m.group(1), 16) < 0x110000 else (m.group(2) or ""),
        plain,
    )
    links = list(dict.fromkeys(found.links))
    found_in = [m.group().rstrip(".,;") for text in (plain, css) for m in _ADDRESS.finditer(text)]
    others = [a for a in dict.fromkeys(found_in) if a not in links]

    mine_lowered = tuple(_origin_lowered(prefix) for prefix in own)

    def said(address: str) -> str:
        inline = address.lower().startswith("cid:")
        # (own: prefixes ending in "/"; an address is the site's only as written so, with "//" and
        # never a backslash, which browsers read as a slash: "https:\\evil" is no address of the site)
        # The scheme and host are read in any case (RFC 3986, 3.1 and 3.2.2); the path as written.
        at = _origin_lowered(address)
        mine = "\\" not in address and (at.startswith(mine_lowered) or (at + "/").startswith(mine_lowered))
        return address + ("" if inline or mine else "  (not this site's: check it)")

    lines = [f"  links to: {said(address)}" for address in links]
    lines += [f"  loads or names: {said(address)}" for address in others]
    return ["HTML part (what most mail programs show):", *lines] if lines else ["HTML part: no addresses"]


_ORIGIN = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")


def _origin_lowered(address: str) -> str:
    """``address`` with its scheme and host (and any port) in small letters, its path as it was."""
    match = _ORIGIN.match(address)
    return match.group().lower() + address[match.end() :] if match else address


def _record_announced(lock: NotifiedLock, award_ids: tuple[str, ...], covered: dict, day: date) -> None:
    """Record awards announced on ``day``, with the "valid again" notices their announcement made."""
    lock.record(award_ids, day)
    for award_id in award_ids:
        if award_id in covered:
            lock.record_news(award_id, covered[award_id], day)


def summary_lines(result: NotifyResult, *, dry_run: bool = False) -> list[tuple[str, bool]]:
    """What was sent, failed, skipped and left pending, as ``(line, for_stderr)``: the details
    for stderr, the totals last, for stdout."""
    lines = [(f"not sent for {award_id}: {reason}", True) for award_id, reason in result.skipped + result.offline]
    if dry_run:
        reminders, news = len(result.reminded), _news_counts(result.outgoing)
        return lines + [
            (
                f"{len(result.outgoing)} message(s) would be sent"
                + (f", {reminders} of them reminder(s) before expiry" if reminders else "")
                + (f", {news}" if news else "")
                + " (dry run: nothing sent)",
                False,
            )
        ]
    delivery: DeliveryReport[Outgoing] = result.delivery or DeliveryReport()
    lines += [
        (
            f"failed for {', '.join(item.award_ids)} ({item.to}): {reason}"
            + (_REFUSED_HINT.format(file=item.recipient_file) if item.to in delivery.refused_addresses else ""),
            True,
        )
        for item, reason in delivery.failed
    ]
    lines += [
        (
            f"maybe sent for {', '.join(item.award_ids)} ({item.to}): {reason}; recorded in site_src/notified.lock "
            f"as sent, so that it is not sent twice: if {item.to} did not get it, "
            + (
                f"delete the line of {item.award_ids[0]} this run added there and run notify again"
                if item.reminders or item.notices
                else f"send it again with notify --award {' --award '.join(item.award_ids)}"
            ),
            True,
        )
        for item, reason in delivery.maybe_sent
    ]
    lines += [
        (f"still pending for {', '.join(item.award_ids)} ({item.to}): {reason}", True)
        for item, reason in delivery.pending
    ]
    if delivery.stopped:
        lines.append((f"stopped early: {delivery.stopped}; run notify again to send the rest", True))
    sent = delivery.sent
    lines.append(
        (
            f"sent {len(sent)} message(s) "
            f"({sum(len(item.award_ids) for item in sent if not item.reminders and not item.notices)} award(s)"
            + (f", {sum(1 for item in sent if item.reminders)} reminder(s)" if any(i.reminders for i in sent) else "")
            + (f", {_news_counts(sent)}" if _news_counts(sent) else "")
            + "); "
            + (f"{len(delivery.maybe_sent)} maybe sent, " if delivery.maybe_sent else "")
            + f"{len(delivery.failed)} failed, {len(result.skipped) + len(result.offline)} skipped, "
            f"{len(delivery.pending)} still pending, {delivery.retried} retry(ies)"
            + ("; commit site_src/notified.lock" if sent or delivery.maybe_sent else ""),
            False,
        )
    )
    return lines


_REFUSED_HINT = (
    "; the server refused this address permanently: check the earner's email in {file} "
    "(notify tries it again on each run, in case the address is fixed on the server's side)"
)


def _news_counts(items: list[Outgoing]) -> str:
    """``1 suspended, 2 reinstated, 1 revoked``: the suspension and revocation news among ``items``
    ("" when none)."""
    kinds = [item.notices[0].split(" ")[0] for item in items if item.notices]
    return ", ".join(f"{kinds.count(kind)} {kind}" for kind in (SUSPENDED, REINSTATED, REVOKED) if kind in kinds)


class _Progress:
    """A progress line on the terminal (rich), or nothing."""

    def __init__(self, progress=None):
        self._progress = progress
        self._task = None

    def start(self, total: int) -> None:
        if self._progress is not None:
            self._task = self._progress.add_task("sending", total=total, status="")

    def update(self, kind: str, item: Outgoing, reason: str) -> None:
        if self._progress is None or self._task is None:
            return
        if kind == "retry":
            self._progress.update(self._task, status=f"will retry {item.to}")
        else:
            self._progress.update(self._task, advance=1, status=f"{kind} {item.to}")


def progress_wanted(stream=None, environ=None) -> bool:
    """A progress line only on a terminal, and never in CI (``CI`` set)."""
    stream = stream if stream is not None else sys.stdout
    environ = environ if environ is not None else os.environ
    return not environ.get("CI") and hasattr(stream, "isatty") and stream.isatty()


@contextmanager
def progress_display() -> Iterator[_Progress]:
    """A :class:`_Progress` that shows on a terminal and stays quiet elsewhere."""
    if not progress_wanted():
        yield _Progress()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("notify"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        yield _Progress(progress)


@contextmanager
def _stop_on_signal() -> Iterator[threading.Event]:
    """The first Ctrl-C (or SIGTERM) asks the batch to stop after the message in flight, so that
    what was delivered is recorded; a second one stops at once."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}

    def handler(number, frame):
        stop.set()
        for each, action in previous.items():
            signal.signal(each, action if action is not None else signal.SIG_DFL)

    for number in previous:
        signal.signal(number, handler)
    try:
        yield stop
    finally:
        for number, action in previous.items():
            signal.signal(number, action if action is not None else signal.SIG_DFL)


def save_messages(folder: Path, messages: list[EmailMessage]) -> None:
    """Write ``messages`` as ``001.eml``… into ``folder`` (made private if new): each file new,
    never through a link or over a file already there (they hold earners' addresses).

    Raises:
        BadgekilnError: the folder is a link or not a folder, or not empty, or a file is in the way.
    """
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise BadgekilnError(f"{folder} is a symbolic link or not a folder: give a folder of its own to --save")
    if folder.is_dir() and next(folder.iterdir(), None) is not None:  # (checked before any file is written:
        # a folder of earlier previews, or of anything else, is not mixed with these)
        raise BadgekilnError(f"{folder} is not empty: give --save a new or empty folder")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for number, message in enumerate(messages, 1):
        target = folder / f"{number:03d}.eml"
        try:
            fd = os.open(target, flags, 0o600)
        except FileExistsError:
            raise BadgekilnError(f"{target} is already there: give --save an empty folder") from None
        with os.fdopen(fd, "wb") as handle:
            handle.write(message.as_bytes())
