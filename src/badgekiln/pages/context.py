"""Template contexts: the plain values each HTML page is rendered from.

Only values that are safe to show go in: the earner's email is never put in a context, and the
earner's name only when they agreed to show it.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from badgekiln.formats import urls
from badgekiln.formats.hosting import CSP
from badgekiln.models import Award, BadgeClass, Page, Project, Recipient
from badgekiln.sources.config import SiteConfig


def site_context(config: SiteConfig, project: Project) -> dict:
    """What every page needs: titles, issuer, navigation."""
    return {
        "title": config.title,
        "language": config.language,
        "issuer_name": config.issuer.name,
        "issuer_url": config.issuer.url,
        "footer": config.footer,
        "logo": urls.asset(config.issuer.image) if config.issuer.image else None,
        "stylesheet": urls.asset(config.stylesheet) if config.stylesheet else None,
        "pages": [{"path": urls.page(p.slug), "title": p.title} for p in project.pages],
        "csp": CSP,
    }


def meta(
    config: SiteConfig,
    path: str,
    title: str,
    description: str,
    image: str | None = None,
    alternates: list[dict] | None = None,
) -> dict:
    """Page metadata for <title>, Open Graph and Twitter cards (absolute URLs)."""
    return {
        "title": title,
        "description": " ".join(description.split())[:300],
        "url": config.url(path),
        "image": config.url(image) if image else None,
        "alternates": alternates or [],
    }


def issuer_context(config: SiteConfig) -> dict:
    """The issuer as pages show it."""
    issuer = config.issuer
    return {"name": issuer.name, "url": issuer.url, "description": issuer.description}


def badge_context(badge: BadgeClass) -> dict:
    """A badge class as pages show it (paths relative to the site root)."""
    return {
        "slug": badge.slug,
        "name": badge.name,
        "description": badge.description,
        "criteria": badge.criteria,
        "image": urls.badge_image(badge.slug, badge.image),
        "path": urls.badge_dir(badge.slug),
        "json": urls.badge_json(badge.slug),
        "achievement": urls.achievement_json(badge.slug),
        "tags": list(badge.tags),
        "valid_for": describe_duration(badge.valid_for) if badge.valid_for else None,
        "alignment": [
            {"name": a.name, "url": a.url, "framework": a.framework, "code": a.code, "description": a.description}
            for a in badge.alignment
        ],
    }


STATUS_TEXT = {"valid": "Valid", "expired": "Expired", "revoked": "Revoked", "suspended": "Suspended"}


def award_context(config: SiteConfig, badge: BadgeClass, recipient: Recipient, award: Award, today: date) -> dict:
    """An award as its permanent page shows it."""
    status = award.status(today)
    page_url = config.url(urls.award_dir(award.id))
    return {
        "id": award.id,
        "url": page_url,
        "status": status,
        "status_text": STATUS_TEXT[status],
        "earner": recipient.public_name,
        "issued_on": award.issued_on,
        "expires": award.expires,
        "revoked_on": award.revoked.on if award.revoked else None,
        "revoked_reason": award.revoked.reason if award.revoked else None,
        "suspended_on": award.suspended.on if award.suspended else None,
        "suspended_reason": award.suspended.reason if award.suspended else None,
        "narrative": award.narrative,
        "evidence": [
            {"url": e.url, "name": e.name, "narrative": e.narrative, "description": e.description}
            for e in award.evidence
        ],
        "assertion": urls.assertion_json(award.id),
        "jws": urls.assertion_jws(award.id),
        "credential": urls.credential_json(award.id),
        "jwt": urls.credential_jwt(award.id),
        "has_ob3": True,  # (every award has one; kept for templates written for earlier versions)
        "baked_ob2": urls.baked_ob2(award.id, badge.image),
        "baked_ob3": urls.baked_ob3(award.id, badge.image),
        "linkedin_url": linkedin_url(config, badge, award, page_url) if status != "revoked" else None,
        "summary": {
            "id": award.id,
            "badge": badge.name,
            "issuer": config.issuer.name,
            "issuedOn": award.issued_on.isoformat(),
            "expires": award.expires.isoformat() if award.expires else None,
            "status": status,
            # (the in-page Verify's verdict quotes it: the status list gives no reason)
            **({"suspendedReason": award.suspended.reason} if status == "suspended" and award.suspended else {}),
            "assertion": config.url(urls.assertion_json(award.id)),
            "credential": config.url(urls.credential_json(award.id)),
        },
    }


def renewal_context(project: Project, award: Award, page: str) -> dict | None:
    """The renewal links of an award's page: the award it renews and the award that renews it
    (links relative to ``page``), or None when neither."""

    def other(found: Award | None) -> dict | None:
        if found is None:
            return None
        return {"id": found.id, "issued_on": found.issued_on, "path": urls.relative(page, urls.award_dir(found.id))}

    renews = other(project.award(award.renews) if award.renews else None)
    renewed_by = other(project.renewed_by.get(award.id))
    return {"renews": renews, "renewed_by": renewed_by} if renews or renewed_by else None


def renewal_part(project: Project, award: Award) -> str:
    """What of other awards an award's page shows (for its cache key): see :func:`renewal_context`."""
    renews = project.award(award.renews) if award.renews else None
    renewed_by = project.renewed_by.get(award.id)
    return repr([(a.id, a.issued_on) if a else None for a in (renews, renewed_by)])


def linkedin_url(config: SiteConfig, badge: BadgeClass, award: Award, page_url: str) -> str:
    """LinkedIn's 'Add license or certification' link, pre-filled."""
    params = {"startTask": "CERTIFICATION_NAME", "name": badge.name}
    if config.linkedin_organization_id:
        params["organizationId"] = config.linkedin_organization_id
    else:
        params["organizationName"] = config.issuer.name
    params.update({"issueYear": str(award.issued_on.year), "issueMonth": str(award.issued_on.month)})
    if award.expires:
        params.update({"expirationYear": str(award.expires.year), "expirationMonth": str(award.expires.month)})
    params.update({"certUrl": page_url, "certId": award.id})
    return "https://www.linkedin.com/profile/add?" + urlencode(params)


def describe_duration(duration) -> str:
    """``3 years``, ``18 months``, ``1 year 6 months``, ``90 days``."""
    parts = []
    for amount, unit in ((duration.years, "year"), (duration.months, "month"), (duration.days, "day")):
        if amount:
            parts.append(f"{amount} {unit}{'s' if amount != 1 else ''}")
    return " ".join(parts)


def page_context(page: Page) -> dict:
    """An extra page."""
    return {"slug": page.slug, "title": page.title, "body": page.body}
