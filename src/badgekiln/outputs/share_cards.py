"""Share cards: the 1200x630 PNG each award, badge class and the home page names in ``og:image``.

Drawing is in :mod:`badgekiln.pages.sharecard`. A badge class's base (artwork, issuer, badge
name) is drawn once per worker process and reused for the class's own card and every award of
the class, so an award's card costs only its text. The units read exactly what a card shows: the site's settings (issuer,
host, accent colour), the badge class with its artwork, the award with its earner, and the
award's status on the build's day (the band).
"""

from __future__ import annotations

import functools
import hashlib
from urllib.parse import urlsplit

from badgekiln.errors import BakeError
from badgekiln.formats import urls
from badgekiln.models import Award, BadgeClass, Recipient
from badgekiln.outputs import BuildInputs, FileSpec, Plan, Unit, badge_image
from badgekiln.pages import sharecard
from badgekiln.sources.config import SiteConfig


def _host(config: SiteConfig) -> str:
    parts = urlsplit(config.base_url)
    return (parts.hostname or "") + parts.path.rstrip("/")


@functools.lru_cache(maxsize=128)  # a base holds about 0.6 MB (its middle rows, its compressed rows)
def _base(
    digest: str, artwork: bytes, is_svg: bool, badge_name: str, issuer: str, host: str, accent: str, image: str
) -> sharecard.CardBase:
    """A badge class's card base, drawn once per process (``digest`` keys the artwork's bytes)."""
    try:
        return sharecard.badge_base(
            badge_name=badge_name, issuer=issuer, host=host, accent=accent, artwork=artwork, is_svg=is_svg
        )
    except BakeError as e:
        raise BakeError(f"{image}: cannot draw the share card: {e}") from e


def base_for(inputs: BuildInputs, badge: BadgeClass) -> sharecard.CardBase:
    """The card base of ``badge`` (cached)."""
    config = inputs.config
    artwork = badge_image(inputs, badge.image)
    return _base(
        hashlib.sha256(artwork).hexdigest(),
        artwork,
        badge.image.lower().endswith(".svg"),
        badge.name,
        config.issuer.name,
        _host(config),
        config.accent_color,
        badge.image,
    )


def produce_award(plan: Plan, inputs: BuildInputs, renderer: object, item: tuple[Recipient, Award]) -> None:
    """awards/<id>/share.png."""
    recipient, award = item
    badge = inputs.project.badges[award.badge]
    plan.add(
        urls.award_share_card(award.id),
        sharecard.award_card(
            base_for(inputs, badge),
            earner=recipient.public_name,
            issued_on=award.issued_on,
            status=award.status(inputs.today),
        ),
    )


def produce_badge(plan: Plan, inputs: BuildInputs, renderer: object, badge: BadgeClass) -> None:
    """badges/<slug>/share.png: the base of the class's award cards, with its description."""
    plan.add(urls.badge_share_card(badge.slug), sharecard.badge_card(base_for(inputs, badge), badge.description))


def produce_home(plan: Plan, inputs: BuildInputs, renderer: object, item: None) -> None:
    """share.png."""
    config = inputs.config
    logo = badge_image(inputs, config.issuer.image) if config.issuer.image else None
    try:
        card = sharecard.home_card(
            title=config.title,
            issuer=config.issuer.name,
            description=config.issuer.description or "",
            host=_host(config),
            accent=config.accent_color,
            logo=logo,
            is_svg=bool(config.issuer.image and config.issuer.image.lower().endswith(".svg")),
        )
    except BakeError as e:
        raise BakeError(f"{config.issuer.image}: cannot draw the home page's share card: {e}") from e
    plan.add(urls.home_share_card(), card)


UNITS = (
    Unit(
        "award-share-card",
        "award",
        (FileSpec("awards/{id}/share.png", "image/png"),),
        reads=("config", "badge", "award", "status"),
        produce=produce_award,
    ),
    Unit(
        "badge-share-card",
        "badge",
        (FileSpec("badges/{slug}/share.png", "image/png"),),
        reads=("config", "badge"),
        produce=produce_badge,
    ),
    Unit(
        "home-share-card",
        "site",
        (FileSpec("share.png", "image/png"),),
        reads=("config", "assets"),
        produce=produce_home,
    ),
)
