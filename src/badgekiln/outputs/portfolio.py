"""Earners' portfolios (opt-in: ``portfolio: true`` and a ``handle``): a page and a JSON list.

Each lists the earner's own awards that are valid on the build's day (never revoked, suspended
or expired ones, never another earner's), with their share cards, and their progress towards
pathway badges. One site-wide unit: its key covers every portfolio earner's awards and statuses.
"""

from __future__ import annotations

from badgekiln.formats import urls
from badgekiln.formats.jsonout import dumps_hosted
from badgekiln.outputs import BuildInputs, FileSpec, Plan, Unit
from badgekiln.pages import context, progression, sharecard
from badgekiln.pages.render import Renderer


def produce(plan: Plan, inputs: BuildInputs, renderer: Renderer, item: None) -> None:
    """earners/<handle>/index.html and earners/<handle>/portfolio.json for every earner who opted in."""
    config, project = inputs.config, inputs.project
    site = context.site_context(config, project)
    for recipient in project.recipients:
        if not (recipient.portfolio and recipient.handle):
            continue
        portfolio = progression.portfolio_context(config, project, recipient, inputs.today)
        page = urls.portfolio_dir(recipient.handle)
        named = context.isolated(portfolio["name"]) if portfolio["name"] else recipient.handle  # (first in the title)
        title = f"{named}: badges · {config.issuer.name}"
        first = portfolio["awards"][0] if portfolio["awards"] else None  # (its card previews the page)
        plan.add(
            page + "index.html",
            renderer.render(
                "portfolio.html",
                site=site,
                meta=context.meta(
                    config,
                    page,
                    title,
                    f"Badges from {config.issuer.name}, each verifiable.",
                    first["share_card"] if first else urls.home_share_card(),
                    image_alt=(
                        sharecard.card_alt(first["badge"], config.issuer.name, portfolio["name"])
                        if first
                        else sharecard.home_card_alt(config.title, config.issuer.name)
                    ),
                    image_size=(sharecard.WIDTH, sharecard.HEIGHT),
                ),
                root=urls.relative(page, ""),
                issuer=context.issuer_context(config),
                portfolio=portfolio,
                dev_keys=inputs.development_keys,  # (the preview banner: see base.html)
            ),
        )
        plan.add(urls.portfolio_json(recipient.handle), dumps_hosted(progression.portfolio_document(config, portfolio)))


UNIT = Unit(
    "portfolio",
    "site",
    (
        FileSpec("earners/{slug}/index.html", "text/html"),
        FileSpec("earners/{slug}/portfolio.json", "application/json"),
    ),
    reads=("config", "portfolio-templates", "site", "portfolios", "development-keys"),
    produce=produce,
)
