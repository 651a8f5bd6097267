"""Template contexts: the plain values each HTML page is rendered from.

Only values that are safe to show go in: the earner's email is never put in a context (only its
salted hash, which the badge itself publishes), and the earner's name only when they agreed to
show it.
"""

from __future__ import annotations

import html
import re
from datetime import date
from functools import lru_cache
from urllib.parse import quote, quote_plus, urlencode

from badgekiln.formats import ids, urls
from badgekiln.formats.hosting import CSP
from badgekiln.models import ROW_ID, ROW_ISSUED, ROW_RENEWS, Award, AwardRow, BadgeClass, Page, Project, Recipient
from badgekiln.pages.render import clipped, long_date
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
    *,
    noindex: bool = False,
    image_alt: str | None = None,
    image_size: tuple[int, int] | None = None,
) -> dict:
    """Page metadata for <title>, Open Graph and Twitter cards (absolute URLs).

    ``noindex``: ask search engines not to index the page (``<meta name="robots">``).
    ``image_size`` (width, height) is given for share cards: pages with one ask for a large card.
    """
    return {
        "title": title,
        "description": clipped(" ".join(description.split()), 300),
        "url": config.url(path),
        "image": config.url(image) if image else None,
        "image_alt": " ".join((image_alt or "").split()) or None,
        "image_width": image_size[0] if image_size else None,
        "image_height": image_size[1] if image_size else None,
        "alternates": alternates or [],
        "noindex": noindex,
    }


def issuer_context(config: SiteConfig) -> dict:
    """The issuer as pages show it."""
    issuer = config.issuer
    return {"name": issuer.name, "url": issuer.url, "email": issuer.email, "description": issuer.description}


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
        "achievement_type": describe_achievement_type(badge.achievement_type),
        "valid_for": describe_duration(badge.valid_for) if badge.valid_for else None,
        "requires_membership": badge.requires_membership,
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
    held = status in ("revoked", "suspended")  # not to be shared or put in a wallet
    salt = ids.award_salt(award.id)
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
        # (as its units' keys tell it: the page is made again the day it changes)
        "expired_too": award.page_status(today) == "suspended, expired",
        "held": held,
        "url_parts": url_parts(page_url),
        "noindex": held or not recipient.show_name,
        "share": None if held else share_links(config, badge, page_url),
        "embed": None if held else embed_snippet(config, badge, recipient, award),
        "salt": salt,
        "identity": ids.identity_hash(recipient.email, salt),
        "signatory": signatory_context(config),
        "jsonld": None if held else credential_jsonld(config, badge, award, page_url),
        "narrative": award.narrative,
        "evidence": [
            {"url": e.url, "name": e.name, "narrative": e.narrative, "description": e.description}
            for e in award.evidence
        ],
        "assertion": urls.assertion_json(award.id),
        "jws": urls.assertion_jws(award.id),
        "credential": urls.credential_json(award.id),
        "credential_url": config.url(urls.credential_json(award.id)),  # (what a wallet app is given to fetch)
        "credential_url_parts": url_parts(config.url(urls.credential_json(award.id))),
        "jwt": urls.credential_jwt(award.id),
        "has_ob3": True,  # (every award has one; kept for templates written for earlier versions)
        "baked_ob2": urls.baked_ob2(award.id, badge.image),
        "baked_ob3": urls.baked_ob3(award.id, badge.image),
        # PNGs (SVG artwork rasterised) for the download button; the SVGs stay linked
        "baked_ob2_png": urls.baked_ob2_png(award.id),
        "baked_ob3_png": urls.baked_ob3_png(award.id),
        "svg_artwork": badge.image.lower().endswith(".svg"),
        "download_name": f"{badge.slug}-{award.id}",
        "share_card": urls.award_share_card(award.id),  # (the picture with the earner's name, for a post)
        "linkedin_url": linkedin_url(config, badge, award, page_url) if not held else None,
    }


def renewal_context(config: SiteConfig, project: Project, award: Award, page: str) -> dict | None:
    """The renewal links of an award's page: the award it renews and the award that renews it
    (links relative to ``page``, and each page's address, which a printed certificate shows), or
    None when neither."""

    def other(found: Award | None) -> dict | None:
        if found is None:
            return None
        return {
            "id": found.id,
            "issued_on": found.issued_on,
            "path": urls.relative(page, urls.award_dir(found.id)),
            "url": config.url(urls.award_dir(found.id)),
        }

    renews = other(project.award(award.renews) if award.renews else None)
    renewed_by = other(project.renewal_of(award.id))
    return {"renews": renews, "renewed_by": renewed_by} if renews or renewed_by else None


def renewal_part(project: Project, row: AwardRow) -> str:
    """What of other awards the page of the award of ``row`` shows (for its cache key): see
    :func:`renewal_context`. From their rows: no award's model is made."""
    renews = project.row(row[ROW_RENEWS]) if row[ROW_RENEWS] else None
    renewal = project.renewals.get(row[ROW_ID])
    renewed_by = project.row(renewal) if renewal is not None else None
    return repr([(r[ROW_ID], r[ROW_ISSUED]) if r else None for r in (renews, renewed_by)])


def award_page_text(
    config: SiteConfig, badge: BadgeClass, recipient: Recipient, award: Award, today: date
) -> tuple[str, str]:
    """The title and description of an award's page (``<title>``, Open Graph, Twitter), which say
    when the award is revoked, suspended or expired: a shared link must not present it as valid."""
    earner = recipient.public_name
    title = f"{badge.name} · {earner}" if earner else badge.name
    issuer = config.issuer.name
    status = award.status(today)
    if status == "revoked" and award.revoked is not None:
        return (
            f"Revoked: {title}",
            f"{issuer} revoked this badge on {long_date(award.revoked.on)}: {award.revoked.reason.rstrip('.')}. "
            "It is no longer valid.",
        )
    if status == "suspended" and award.suspended is not None:
        return (
            f"Suspended: {title}",
            f"{issuer} suspended this badge on {long_date(award.suspended.on)}: {award.suspended.reason.rstrip('.')}. "
            "It is not valid while suspended.",
        )
    if status == "expired" and award.expires is not None:
        return (
            f"Expired: {title}",
            f"This badge expired on {long_date(award.expires)}. {issuer} awarded it: {badge.description}",
        )
    return title, f"{issuer} awarded this badge: {badge.description}"


def isolated(name: str) -> str:
    """``name`` between U+2068 FIRST STRONG ISOLATE and U+2069 POP DIRECTIONAL ISOLATE, for a plain
    text that starts with it (a ``<title>``, which cannot hold a ``<bdi>``): a link preview that
    takes a title's direction from its first letter then takes it from the words after an Arabic
    or Hebrew name, and does not turn them round. (The build refuses these characters in names.)"""
    return f"\u2068{name}\u2069"


def url_parts(url: str) -> list[str]:
    """``url`` cut after each ``/`` and each ``.`` before the last ``/``: where a shown URL may
    wrap (never inside a word, nor inside its file's name: "credential.jso" then "n" on a phone)."""
    return [part for part in re.split(r"(?<=/)(?!/)|(?<=\.)(?=[^/]*/)", url) if part]


def share_text(config: SiteConfig, badge: BadgeClass) -> str:
    """What a share link suggests the earner says (one line: YAML text may hold newlines)."""
    return " ".join(f"I earned {badge.name} from {config.issuer.name}.".split())


def share_links(config: SiteConfig, badge: BadgeClass, page_url: str) -> dict:
    """Plain links to the networks' own share pages (no script of theirs runs on ours).

    Every value is URL-encoded here; the template escapes the links again as attributes.
    """
    text, quoted_text, quoted_subject = _share_parts(badge.name, config.issuer.name)
    # What urlencode(..., quote_via=quote) makes, with each text quoted once: quote() works byte by
    # byte, so the quoted parts of a text are the parts of the quoted text.
    url = quote(page_url, safe="")
    return {
        "text": text,
        "linkedin": "https://www.linkedin.com/sharing/share-offsite/?url=" + url,
        "x": "https://twitter.com/intent/tweet?text=" + quoted_text + "&url=" + url,
        "facebook": "https://www.facebook.com/sharer/sharer.php?u=" + url,
        # mailto: %20 for spaces (a '+' would stay a '+'), %0A for the line breaks
        "email": "mailto:?subject=" + quoted_subject + "&body=" + quoted_text + "%0A%0A" + url,
    }


@lru_cache(maxsize=1024)
def _share_parts(badge_name: str, issuer_name: str) -> tuple[str, str, str]:
    """The share text, and it and the email subject URL-encoded: the same for every award of a badge."""
    text = " ".join(f"I earned {badge_name} from {issuer_name}.".split())
    subject = " ".join(f"{badge_name}, from {issuer_name}".split())
    return text, quote(text, safe=""), quote(subject, safe="")


def embed_snippet(config: SiteConfig, badge: BadgeClass, recipient: Recipient, award: Award) -> str:
    """A small HTML card linking to the award's page, for the earner's own site or blog.

    Self-contained (inline styles, absolute URLs), with no script and no iframe: it shows the
    same on any page that allows images. Every text from the sources is escaped here; the
    template escapes the whole snippet again to show it as text.
    """

    def e(text: str) -> str:
        return html.escape(" ".join(text.split()), quote=True)

    url = config.url(urls.award_dir(award.id))
    image = config.url(urls.badge_image(badge.slug, badge.image))
    earner = recipient.public_name
    # (<bdi>: a name in any script keeps its own direction, and does not turn round what follows it)
    line = (f"<bdi>{e(earner)}</bdi> · " if earner else "") + f"{e(config.issuer.name)}, {long_date(award.issued_on)}"
    return (
        f'<a href="{e(url)}" style="display:inline-flex;align-items:center;gap:12px;max-width:380px;'
        "padding:12px 16px;border:1px solid #d0d7de;border-radius:12px;background:#fff;color:#1d2430;"
        'font:15px/1.4 system-ui,sans-serif;text-decoration:none">'
        f'<img src="{e(image)}" alt="" width="64" height="64" style="flex:none;width:64px;height:64px">'
        f'<span><strong style="display:block">{e(badge.name)}</strong>'
        f'<span style="display:block;color:#5a6576;font-size:13px">{line}</span>'
        '<span style="display:block;font-size:13px;text-decoration:underline">Verify this badge</span></span></a>'
    )


def signatory_context(config: SiteConfig) -> dict | None:
    """Who signs printed certificates, if site.yaml names someone."""
    person = config.signatory
    if person is None:
        return None
    return {
        "name": person.name,
        "title": person.title,
        "signature": urls.asset(person.signature) if person.signature else None,
    }


def credential_jsonld(config: SiteConfig, badge: BadgeClass, award: Award, page_url: str) -> dict:
    """schema.org ``EducationalOccupationalCredential`` of an award, for search engines.

    The earner is not named (pages of earners who hide their name show none either).
    """
    issuer = {"@type": "Organization", "name": config.issuer.name, "url": config.issuer.url}
    data: dict = {
        "@context": "https://schema.org",
        "@type": "EducationalOccupationalCredential",
        "@id": page_url,
        "url": page_url,
        "identifier": award.id,
        "name": badge.name,
        "description": badge.description,
        "image": config.url(urls.badge_image(badge.slug, badge.image)),
        "credentialCategory": describe_achievement_type(badge.achievement_type) or "Badge",
        "recognizedBy": issuer,
        "creator": issuer,
        "dateCreated": award.issued_on.isoformat(),
    }
    if award.expires:
        data["expires"] = award.expires.isoformat()
    if badge.tags:
        data["keywords"] = ", ".join(badge.tags)
    if badge.alignment:
        data["competencyRequired"] = [
            {
                "@type": "DefinedTerm",
                "name": a.name,
                "url": a.url,
                **({"termCode": a.code} if a.code else {}),
                **({"inDefinedTermSet": a.framework} if a.framework else {}),
            }
            for a in badge.alignment
        ]
    return data


def describe_achievement_type(term: str | None) -> str | None:
    """``MicroCredential`` -> ``Micro credential``; ``ext:Workshop`` -> ``Workshop``."""
    if not term:
        return None
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", term.removeprefix("ext:"))
    words = [w if i == 0 or not re.fullmatch(r"[A-Z][a-z]+", w) else w.lower() for i, w in enumerate(words)]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else None


def linkedin_url(config: SiteConfig, badge: BadgeClass, award: Award, page_url: str) -> str:
    """LinkedIn's 'Add license or certification' link, pre-filled."""
    # What urlencode() makes of the rest (quote_plus; the numbers need no quoting), made directly.
    issued, expires = award.issued_on, award.expires
    expiry = f"&expirationYear={expires.year}&expirationMonth={expires.month}" if expires else ""
    return (
        f"{_linkedin_start(badge.name, config.linkedin_organization_id, config.issuer.name)}"
        f"&issueYear={issued.year}&issueMonth={issued.month}{expiry}"
        f"&certUrl={quote_plus(page_url)}&certId={quote_plus(award.id)}"
    )


@lru_cache(maxsize=1024)
def _linkedin_start(badge_name: str, organization_id: str | None, issuer_name: str) -> str:
    """The LinkedIn link up to its award's own parameters (urlencode joins its pairs with '&')."""
    params = {"startTask": "CERTIFICATION_NAME", "name": badge_name}
    if organization_id:
        params["organizationId"] = organization_id
    else:
        params["organizationName"] = issuer_name
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
