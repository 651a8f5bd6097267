"""``badgekiln notify``: email earners the link to each new badge, once.

Which awards were announced is recorded in ``site_src/notified.lock`` (commit it), so running
notify again after the next deploy only writes to the earners of new awards. Revoked and expired
awards, and awards never built (not in ``awards.lock``), are not announced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

from .. import context
from ..config import source_paths
from ..errors import BadgekilnError
from ..ledger import read_ledger
from ..mail import Mailer, SmtpSettings, build_message
from ..render import Renderer
from ..validate import load_project

NOTIFIED = "site_src/notified.lock"
HEADER = "# badgekiln: awards whose earners were emailed (award id, date). Commit it; do not edit by hand.\n"


@dataclass
class NotifyResult:
    """What notify did (or, in a dry run, would do)."""

    sender: str = ""
    messages: list[EmailMessage] = field(default_factory=list)
    award_ids: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def read_notified(path: Path) -> set[str]:
    """Award ids already announced."""
    if not path.exists():
        return set()
    return {line.split("\t")[0] for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")}


def plan_messages(source: Path, today: date, *, only: tuple[str, ...] = ()) -> NotifyResult:
    """The messages to send: one per award not yet announced (or the awards named in ``only``)."""
    loaded = load_project(source, today=today)
    config, project = loaded.config, loaded.project
    published = read_ledger(source_paths(source)["ledger"], []).entries
    done = read_notified(source / NOTIFIED)
    renderer = Renderer(source_paths(source)["templates"])
    known = {a.id for a in project.awards}
    unknown = [award_id for award_id in only if award_id not in known]
    if unknown:
        raise BadgekilnError(f"there is no award {', '.join(unknown)}")
    result = NotifyResult(sender=config.issuer.email)
    domain = urlsplit(config.base_url).hostname or "localhost"
    for recipient in project.recipients:
        for award in recipient.awards:
            if only and award.id not in only:
                continue
            reason = None
            if award.id in done and not only:
                continue
            if award.id not in published:
                reason = "not built yet: run 'python build.py', deploy, then notify"
            elif award.status(today) != "valid":
                reason = f"{award.status(today)}"
            if reason:
                result.skipped.append((award.id, reason))
                continue
            badge = project.badges[award.badge]
            award_ctx = context.award_context(config, badge, recipient, award, today, signed=True, has_ob3=True)
            award_ctx["shows_name"] = recipient.show_name
            values = dict(earner=recipient.name, issuer=context.issuer_context(config), badge=context.badge_context(badge),
                          award=award_ctx, language=config.language, accent=config.accent_color)
            text = renderer.render("email.txt", **values).decode("utf-8")
            html = renderer.render("email.html", **values).decode("utf-8")
            result.messages.append(build_message(
                sender_name=config.issuer.name, sender=config.issuer.email, to_name=recipient.name, to=recipient.email,
                subject=f"Your badge: {badge.name}", text=text, html=html, domain=domain))
            result.award_ids.append(award.id)
    return result


def send(source: Path, result: NotifyResult, today: date, settings: SmtpSettings) -> None:
    """Send the planned messages, recording each announced award as soon as it is sent."""
    path = source / NOTIFIED
    if not path.exists():
        path.write_text(HEADER, encoding="utf-8")
    with Mailer(settings) as mailer, open(path, "a", encoding="utf-8") as ledger:
        for message, award_id in zip(result.messages, result.award_ids):
            if settings.sender != message["From"].addresses[0].addr_spec:
                message.replace_header("From", message["From"].addresses[0].display_name + f" <{settings.sender}>")
            mailer.send(message)
            ledger.write(f"{award_id}\t{today.isoformat()}\n")
            ledger.flush()
