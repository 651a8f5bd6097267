"""A badge class: its OB 2.0 BadgeClass, OB 3.0 Achievement, artwork and page."""

from __future__ import annotations

from badgekiln.formats import endorsements, ob2, ob3, urls
from badgekiln.formats.jsonout import dumps_hosted
from badgekiln.models import BadgeClass
from badgekiln.outputs import BuildInputs, FileSpec, Plan, Unit, badge_image
from badgekiln.pages import context, progression, sharecard
from badgekiln.pages.render import Renderer


def produce(plan: Plan, inputs: BuildInputs, renderer: Renderer, badge: BadgeClass) -> None:
    """badges/<slug>/: badge.json, achievement.json, image.<ext> and index.html."""
    config = inputs.config
    endorsed = endorsements.of_badge(inputs.project.endorsements, badge.slug)
    badge_class, achievement = ob2.badge_class(config, badge), ob3.achievement_document(config, badge)
    if endorsements.ob2_links(endorsed):
        badge_class["endorsement"] = endorsements.ob2_links(endorsed)
    if endorsed:
        achievement["endorsement"] = endorsements.ob3_embedded(endorsed)
    plan.add(urls.badge_json(badge.slug), dumps_hosted(badge_class))
    plan.add(urls.achievement_json(badge.slug), dumps_hosted(achievement))
    plan.add(urls.badge_image(badge.slug, badge.image), badge_image(inputs, badge.image))
    page = urls.badge_dir(badge.slug)
    plan.add(
        page + "index.html",
        renderer.render(
            "badge.html",
            site=context.site_context(config, inputs.project),
            meta=context.meta(
                config,
                page,
                f"{badge.name} · {config.issuer.name}",
                badge.description,
                urls.badge_share_card(badge.slug),
                UNIT.links(config, slug=badge.slug),
                image_alt=sharecard.card_alt(badge.name, config.issuer.name),
                image_size=(sharecard.WIDTH, sharecard.HEIGHT),
            ),
            root=urls.relative(page, ""),
            issuer=context.issuer_context(config),
            badge=context.badge_context(badge),
            dev_keys=inputs.development_keys,
            pathway=progression.pathway_context(inputs.project.badges, badge),
            cpd=progression.cpd_context(badge),
            endorsements=endorsements.page_context(
                config, endorsed + endorsements.of_badge(inputs.project.endorsements, None), page
            ),
        ),
    )


UNIT = Unit(
    "badge-class",
    "badge",
    (
        FileSpec(
            "badges/{slug}/badge.json", "application/ld+json", rel="alternate", title="Open Badges 2.0 BadgeClass"
        ),
        FileSpec("badges/{slug}/achievement.json", "application/ld+json"),
        FileSpec("badges/{slug}/image.{ext}", "image/*"),
        FileSpec("badges/{slug}/index.html", "text/html"),
    ),
    reads=("config", "badge-templates", "site", "badge", "endorsements", "development-keys", "pathway"),
    produce=produce,
)
