"""An award's permanent page, the one the earner shares."""

from __future__ import annotations

from badgekiln.formats import endorsements, urls
from badgekiln.models import Award, Recipient
from badgekiln.outputs import BuildInputs, FileSpec, Plan, Unit, units
from badgekiln.pages import context, progression
from badgekiln.pages.render import Renderer


def produce(plan: Plan, inputs: BuildInputs, renderer: Renderer, item: tuple[Recipient, Award]) -> None:
    """awards/<id>/index.html."""
    recipient, award = item
    config = inputs.config
    badge = inputs.project.badges[award.badge]
    page = urls.award_dir(award.id)
    earner = recipient.public_name
    title = f"{badge.name} · {earner}" if earner else badge.name
    links = [link for unit in units() if unit.scope == "award" for link in unit.links(config, id=award.id)]
    plan.add(
        page + "index.html",
        renderer.render(
            "award.html",
            site=context.site_context(config, inputs.project),
            meta=context.meta(
                config,
                page,
                title,
                f"{config.issuer.name} awarded this badge: {badge.description}",
                urls.badge_image(badge.slug, badge.image),
                links,
            ),
            root=urls.relative(page, ""),
            issuer=context.issuer_context(config),
            badge=context.badge_context(badge),
            award=context.award_context(config, badge, recipient, award, inputs.today),
            components=progression.component_links(inputs.project, recipient, award, inputs.today),
            endorsements=endorsements.page_context(
                config,
                endorsements.of_badge(inputs.project.endorsements, badge.slug)
                + endorsements.of_badge(inputs.project.endorsements, None),
                page,
            ),
        ),
    )


UNIT = Unit(
    "award-page",
    "award",
    (FileSpec("awards/{id}/index.html", "text/html"),),
    reads=("config", "templates", "site", "badge", "award", "status", "endorsements", "earner"),
    produce=produce,
)
