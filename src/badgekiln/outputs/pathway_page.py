"""The pathway page of a stacked badge (``requires:``): its component badges, in order."""

from __future__ import annotations

from badgekiln.formats import urls
from badgekiln.models import BadgeClass
from badgekiln.outputs import BuildInputs, FileSpec, Plan, Unit
from badgekiln.pages import context, progression, sharecard
from badgekiln.pages.render import Renderer


def produce(plan: Plan, inputs: BuildInputs, renderer: Renderer, badge: BadgeClass) -> None:
    """badges/<slug>/pathway/index.html, for a badge with ``requires`` (nothing for the others)."""
    pathway = progression.pathway_context(inputs.project.badges, badge)
    if pathway is None:
        return
    config = inputs.config
    page = urls.pathway_page(badge.slug)
    plan.add(
        page + "index.html",
        renderer.render(
            "pathway.html",
            site=context.site_context(config, inputs.project),
            meta=context.meta(
                config,
                page,
                f"The pathway to {badge.name} · {config.issuer.name}",
                f"{pathway['rule']} earn {badge.name}.",
                urls.badge_share_card(badge.slug),  # (the artwork may be an SVG: no site previews one)
                image_alt=sharecard.card_alt(badge.name, config.issuer.name),
                image_size=(sharecard.WIDTH, sharecard.HEIGHT),
            ),
            root=urls.relative(page, ""),
            issuer=context.issuer_context(config),
            badge=context.badge_context(badge),
            pathway=pathway,
            cpd=progression.cpd_context(badge),
            dev_keys=inputs.development_keys,  # (the preview banner: see base.html)
        ),
    )


UNIT = Unit(
    "pathway-page",
    "badge",
    (FileSpec("badges/{slug}/pathway/index.html", "text/html"),),
    reads=("config", "pathway-templates", "site", "badge", "pathway", "development-keys"),
    produce=produce,
)
