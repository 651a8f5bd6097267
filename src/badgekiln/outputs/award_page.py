"""An award's permanent page, the one the earner shares."""

from __future__ import annotations

from collections.abc import Callable

from badgekiln.formats import endorsements, urls
from badgekiln.models import Award, Recipient
from badgekiln.outputs import BuildInputs, FileSpec, Plan, Unit, units
from badgekiln.pages import context, progression, sharecard
from badgekiln.pages.render import Renderer


def produce(plan: Plan, inputs: BuildInputs, renderer: Renderer, item: tuple[Recipient, Award]) -> None:
    """awards/<id>/index.html."""
    recipient, award = item
    config = inputs.config
    badge = inputs.project.badges[award.badge]
    page = urls.award_dir(award.id)
    title, description = context.award_page_text(config, badge, recipient, award, inputs.today)
    award_ctx = context.award_context(config, badge, recipient, award, inputs.today)
    links = [link for unit in units() if unit.scope == "award" for link in unit.links(config, id=award.id)]
    plan.add(
        page + "index.html",
        renderer.render(
            "award.html",
            site=_once(inputs, context.site_context, config, inputs.project),
            meta=context.meta(
                config,
                page,
                title,
                description,
                urls.award_share_card(award.id),
                links,
                noindex=award_ctx["noindex"],
                image_alt=sharecard.card_alt(
                    badge.name, config.issuer.name, recipient.public_name, award.status(inputs.today)
                ),
                image_size=(sharecard.WIDTH, sharecard.HEIGHT),
            ),
            root=urls.relative(page, ""),
            issuer=context.issuer_context(config),
            badge=_once(inputs, context.badge_context, badge),
            award=award_ctx,
            renewal=context.renewal_context(config, inputs.project, award, page),
            dev_keys=signed_with_development_keys(inputs, award),
            components=progression.component_links(inputs.project, recipient, award, inputs.today),
            endorsements=endorsements.page_context(
                config,
                endorsements.of_badge(inputs.project.endorsements, badge.slug)
                + endorsements.of_badge(inputs.project.endorsements, None),
                page,
            ),
        ),
    )


# What every award page of a build (or of a badge class) shows alike, made once per build:
# function and argument ids -> (the arguments, held so that their ids stay theirs, and the value).
# Only the latest build's values are kept (a serve --watch process builds again and again).
_MADE: dict[tuple[int, ...], tuple[tuple[object, ...], dict]] = {}
_MADE_FOR: list[BuildInputs] = []


def _once(inputs: BuildInputs, make: Callable[..., dict], *args: object) -> dict:
    """``make(*args)``, made once per build for the same argument objects (frozen: the same
    values). The value is shared by the pages: templates cannot change it (the sandbox is immutable)."""
    if not _MADE_FOR or _MADE_FOR[0] is not inputs:
        _MADE.clear()
        _MADE_FOR[:] = [inputs]
    key = (id(make), *map(id, args))
    found = _MADE.get(key)
    if found is None:
        found = _MADE[key] = (args, make(*args))
    return found[1]


def signed_with_development_keys(inputs: BuildInputs, award: Award) -> bool:
    """Whether a development key signs this award's credentials (its page then says so)."""
    development = inputs.signer.development
    if development is None:
        return False
    return inputs.rsa_kid(award) in development.private or inputs.ed_kid(award) in development.private


UNIT = Unit(
    "award-page",
    "award",
    (FileSpec("awards/{id}/index.html", "text/html"),),
    reads=(
        "config",
        "award-templates",
        "site",
        "badge",
        "award",
        "status",
        "endorsements",
        "renewals",
        "signing",
        "earner",
    ),
    produce=produce,
)
