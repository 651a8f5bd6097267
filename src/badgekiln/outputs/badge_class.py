"""A badge class: its OB 2.0 BadgeClass, OB 3.0 Achievement, artwork and page."""

from __future__ import annotations

from .. import context, ob2, ob3, urls
from ..jsonout import dumps_hosted
from ..models import BadgeClass
from ..render import Renderer
from . import BuildInputs, FileSpec, Plan, Unit, badge_image


def produce(plan: Plan, inputs: BuildInputs, renderer: Renderer, badge: BadgeClass) -> None:
    """badges/<slug>/: badge.json, achievement.json, image.<ext> and index.html."""
    config = inputs.config
    plan.add(urls.badge_json(badge.slug), dumps_hosted(ob2.badge_class(config, badge)))
    plan.add(urls.achievement_json(badge.slug), dumps_hosted(ob3.achievement_document(config, badge)))
    plan.add(urls.badge_image(badge.slug, badge.image), badge_image(inputs, badge.image))
    page = urls.badge_dir(badge.slug)
    plan.add(page + "index.html", renderer.render(
        "badge.html",
        site=context.site_context(config, inputs.project),
        meta=context.meta(config, page, f"{badge.name} · {config.issuer.name}", badge.description,
                          urls.badge_image(badge.slug, badge.image), UNIT.links(config, slug=badge.slug)),
        root=urls.relative(page, ""),
        issuer=context.issuer_context(config),
        badge=context.badge_context(badge),
    ))


UNIT = Unit("badge-class", "badge", (
    FileSpec("badges/{slug}/badge.json", "application/ld+json", rel="alternate", title="Open Badges 2.0 BadgeClass"),
    FileSpec("badges/{slug}/achievement.json", "application/ld+json"),
    FileSpec("badges/{slug}/image.{ext}", "image/*"),
    FileSpec("badges/{slug}/index.html", "text/html"),
), reads=("config", "templates", "site", "badge"), produce=produce)
