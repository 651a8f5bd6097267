"""Share cards: the 1200x630 PNG each award, badge class and the home page names in ``og:image``.

Drawing is in :mod:`badgekiln.pages.sharecard`. A badge class's base (artwork, issuer, badge
name) is drawn once and reused for its own card and every award's card of the class, so an
award's card costs only its text. When groups are made on several cores, the engine draws the
bases the groups need once, before its workers fork (:class:`badgekiln.outputs.Shared`), and the
workers inherit them; otherwise each process draws a base the first time it needs it. A base
drawn is kept in the build cache (``.badgekiln/cache/shared/``, see
:mod:`badgekiln.engine.sharedkeep`) and read back by the next build that needs it: a rebuild
that changes one award's card does not draw its class's base again. The units
read exactly what a card shows: the site's settings (issuer, host, accent colour, and the
language its text is shaped in), the badge
class with its artwork, the award with its earner, and the award's status on the build's day
(the band).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable
from typing import Any
from urllib.parse import urlsplit

from badgekiln.errors import BakeError
from badgekiln.formats import urls
from badgekiln.models import Award, BadgeClass, Recipient
from badgekiln.outputs import BuildInputs, FileSpec, Plan, Shared, Unit, badge_image
from badgekiln.pages import sharecard
from badgekiln.sources.config import SiteConfig

MAX_BASES = 128  # bases kept in a process: about 0.6 MB each (middle and bottom rows, compressed rows)
# Drawn bases, by everything that shapes their pixels (the artwork by its digest) and the
# artwork's file name (named by an error): exact, so a base is never used for another badge class.
_BASES: dict[tuple[str, ...], sharecard.CardBase] = {}


def _host(config: SiteConfig) -> str:
    parts = urlsplit(config.base_url)
    return (parts.hostname or "") + parts.path.rstrip("/")


def _base_key(inputs: BuildInputs, badge: BadgeClass) -> tuple[str, ...]:
    config = inputs.config
    artwork = badge_image(inputs, badge.image)
    return (
        hashlib.sha256(artwork).hexdigest(),
        str(badge.image.lower().endswith(".svg")),
        badge.name,
        config.issuer.name,
        _host(config),
        config.accent_color,
        config.language,
        badge.image,
    )


def _draw_base(inputs: BuildInputs, badge: BadgeClass) -> sharecard.CardBase:
    config = inputs.config
    try:
        return sharecard.badge_base(
            badge_name=badge.name,
            issuer=config.issuer.name,
            host=_host(config),
            accent=config.accent_color,
            artwork=badge_image(inputs, badge.image),
            is_svg=badge.image.lower().endswith(".svg"),
            lang=config.language,
        )
    except BakeError as e:
        raise BakeError(f"{badge.image}: cannot draw the share card: {e}") from e


def _keep(key: tuple[str, ...], base: sharecard.CardBase) -> None:
    if len(_BASES) >= MAX_BASES:
        del _BASES[next(iter(_BASES))]  # the oldest
    _BASES[key] = base


def base_for(inputs: BuildInputs, badge: BadgeClass) -> sharecard.CardBase:
    """The card base of ``badge``: drawn once per process, or inherited (see :data:`SHARED`)."""
    key = _base_key(inputs, badge)
    base = _BASES.get(key)
    if base is None:
        base = _draw_base(inputs, badge)
        _keep(key, base)
    return base


def _badge_of(inputs: BuildInputs, item: Any) -> Hashable:
    """The slug of the badge class whose base the card of ``item`` (a badge class, or a
    recipient and an award) is drawn on."""
    return item.slug if isinstance(item, BadgeClass) else inputs.project.badges[item[1].badge].slug


def _make_base(inputs: BuildInputs, slug: Hashable) -> sharecard.CardBase:
    return _draw_base(inputs, inputs.project.badges[str(slug)])


def _keep_base(inputs: BuildInputs, slug: Hashable, base: sharecard.CardBase) -> None:
    _keep(_base_key(inputs, inputs.project.badges[str(slug)]), base)


def _base_identity(inputs: BuildInputs, slug: Hashable) -> str:
    return json.dumps(_base_key(inputs, inputs.project.badges[str(slug)]))  # (unambiguous, whatever the texts hold)


SHARED = Shared(
    "share-card bases",
    _badge_of,
    _make_base,
    _keep_base,
    limit=MAX_BASES,
    by_badge=True,
    warm=sharecard.load_fonts,
    identity=_base_identity,
    dump=sharecard.CardBase.png,
    load=sharecard.CardBase.from_png,
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
            lang=inputs.config.language,
        ),
    )


def produce_badge(plan: Plan, inputs: BuildInputs, renderer: object, badge: BadgeClass) -> None:
    """badges/<slug>/share.png: the base of the class's award cards, with its description."""
    card = sharecard.badge_card(base_for(inputs, badge), badge.description, inputs.config.language)
    plan.add(urls.badge_share_card(badge.slug), card)


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
            lang=config.language,
        )
    except BakeError as e:
        raise BakeError(f"{config.issuer.image}: cannot draw the home page's share card: {e}") from e
    plan.add(urls.home_share_card(), card)


UNITS = (
    Unit(
        "award-share-card",
        "award",
        (FileSpec("awards/{id}/share.png", "image/png"),),
        reads=("card-config", "badge", "award", "status"),
        produce=produce_award,
        shared=SHARED,
    ),
    Unit(
        "badge-share-card",
        "badge",
        (FileSpec("badges/{slug}/share.png", "image/png"),),
        reads=("card-config", "badge"),
        produce=produce_badge,
        shared=SHARED,
    ),
    Unit(
        "home-share-card",
        "site",
        (FileSpec("share.png", "image/png"),),
        reads=("config", "assets"),
        produce=produce_home,
    ),
)
