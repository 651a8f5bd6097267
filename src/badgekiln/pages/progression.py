"""What pages show of CPD requirements, pathways and portfolios: plain values only.

The earner's email is never put here; their name only when they agreed to show it (a portfolio
of an earner with ``show_name: false`` is titled by their handle).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from badgekiln.formats import urls
from badgekiln.models import Award, BadgeClass, Project, Recipient
from badgekiln.pages.context import STATUS_TEXT, badge_context, describe_duration
from badgekiln.sources import eligibility
from badgekiln.sources.config import SiteConfig


def cpd_context(badge: BadgeClass) -> dict | None:
    """A badge's CPD requirement in words, or None."""
    if badge.cpd is None:
        return None
    return {
        "points": eligibility.show_points(badge.cpd.points),
        "within": describe_duration(badge.cpd.within) if badge.cpd.within else None,
    }


def pathway_context(badges: dict[str, BadgeClass], badge: BadgeClass) -> dict | None:
    """A stacked badge's pathway: its rule in words and its component badges in order, or None."""
    if badge.requires is None:
        return None
    pathway = badge.requires
    count = len(pathway.of)
    rule = f"All {count} of these badges" if pathway.all else f"Any {pathway.needed} of these {count} badges"
    if count == 1:
        rule = "This badge"
    return {
        "rule": rule,
        "ordered": bool(pathway.all) and count > 1,  # ("all, in this order"; "any N of" has no order)
        "current": pathway.current,
        "needed": pathway.needed,
        "components": [badge_context(badges[slug]) for slug in pathway.of if slug in badges],
        "page": urls.pathway_page(badge.slug),
    }


def component_links(project: Project, recipient: Recipient, award: Award, today: date) -> list[dict] | None:
    """The component awards of a pathway award, or None: per component badge (in the pathway's
    order), the earner's latest award of it issued by the day this one was, the one that counted
    if any did; shown with its status today (a component revoked since then says so)."""
    badge = project.badges[award.badge]
    if badge.requires is None:
        return None
    counted = {a.badge: a for a in eligibility.component_awards(project, recipient, badge, award.issued_on)}
    found = []
    for slug in badge.requires.of:
        earlier = [a for a in recipient.awards if a.badge == slug and a.issued_on <= award.issued_on]
        if slug in counted or earlier:
            found.append(counted.get(slug) or max(earlier, key=lambda a: (a.issued_on, a.id)))
    return [
        {
            "id": a.id,
            "path": urls.award_dir(a.id),
            "badge": project.badges[a.badge].name,
            "issued_on": a.issued_on,
            "status": a.status(today),
            "status_text": STATUS_TEXT[a.status(today)],
        }
        for a in found
    ]


def portfolio_awards(project: Project, recipient: Recipient, today: date) -> list[Award]:
    """The awards a portfolio lists: the earner's own that are valid today (never revoked,
    suspended, expired or renewed ones), newest first."""
    return sorted(
        (
            a
            for a in recipient.awards
            if a.status(today) == "valid" and a.issued_on <= today and a.id not in project.renewals
        ),  # (a renewed award is listed as its renewal)
        key=lambda a: (a.issued_on, a.id),
        reverse=True,
    )


def portfolio_context(config: SiteConfig, project: Project, recipient: Recipient, today: date) -> dict[str, Any]:
    """An earner's portfolio page: their current public awards (with share cards) and pathway progress."""
    assert recipient.handle is not None  # (only earners who opted in with a handle have a portfolio)
    awards = []
    for award in portfolio_awards(project, recipient, today):
        badge = project.badges[award.badge]
        awards.append(
            {
                "id": award.id,
                "path": urls.award_dir(award.id),
                "url": config.url(urls.award_dir(award.id)),
                "share_card": urls.award_share_card(award.id),
                "image": urls.badge_image(badge.slug, badge.image),
                "badge": badge.name,
                "badge_slug": badge.slug,
                "issued_on": award.issued_on,
                "expires": award.expires,
            }
        )
    progress = []
    for check in eligibility.progress(project, recipient, today):
        pathway = check.badge.requires
        assert pathway is not None
        have = {a.badge for a in check.components}
        progress.append(
            {
                "badge": badge_context(check.badge),
                "pathway": urls.pathway_page(check.badge.slug),
                "have": len(check.components),
                "needed": pathway.needed,
                "done": check.held is not None,
                "steps": [
                    {"name": project.badges[slug].name, "path": urls.badge_dir(slug), "done": slug in have}
                    for slug in pathway.of
                    if slug in project.badges
                ],
            }
        )
    return {
        "handle": recipient.handle,
        "name": recipient.public_name,
        "awards": awards,
        "progress": [p for p in progress if p["have"] or p["done"]],
        "json": urls.portfolio_json(recipient.handle),
    }


def portfolio_document(config: SiteConfig, context: dict[str, Any]) -> dict[str, Any]:
    """The portfolio for machines: the earner's handle, name (if shown) and current awards' URLs."""
    document: dict[str, Any] = {
        "handle": context["handle"],
        "url": config.url(urls.portfolio_dir(context["handle"])),
        "awards": [
            {
                "id": a["id"],
                "badge": a["badge"],
                "badgeClass": config.url(urls.badge_json(a["badge_slug"])),
                "achievement": config.url(urls.achievement_json(a["badge_slug"])),
                "issuedOn": a["issued_on"].isoformat(),
                "expires": a["expires"].isoformat() if a["expires"] else None,
                "page": a["url"],
                "assertion": config.url(urls.assertion_json(a["id"])),
                "credential": config.url(urls.credential_json(a["id"])),
                "shareCard": config.url(a["share_card"]),
            }
            for a in context["awards"]
        ],
    }
    if context["name"]:
        document["name"] = context["name"]
    return document
