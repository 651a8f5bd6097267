"""The "Check a badge file" page, ``check/``: where an employer handed a badge as a file finds out
whether this site publishes it (the checking is ``pages/static/check.js``, in the browser).

A unit of its own: it shows nothing of the awards, so adding, revoking or suspending one leaves it
as it is (in the site pages' unit it was made again with the home page's counts). It reads
``signing`` for the development keys' banner only.
"""

from __future__ import annotations

from badgekiln.formats import urls
from badgekiln.outputs import BuildInputs, FileSpec, Plan, Unit
from badgekiln.pages import context, sharecard
from badgekiln.pages.render import Renderer


def produce(plan: Plan, inputs: BuildInputs, renderer: Renderer, item: None) -> None:
    """check/index.html."""
    config = inputs.config
    plan.add(
        urls.CHECK_PAGE + "index.html",
        renderer.render(
            "check.html",
            site=context.site_context(config, inputs.project),
            root=urls.relative(urls.CHECK_PAGE, ""),
            # (the address its badges name; the page also takes the one it is viewed at, an alias)
            addresses=config.base_url,
            meta=context.meta(
                config,
                urls.CHECK_PAGE,
                f"Check a badge file · {config.issuer.name}",
                f"Check that a badge image or credential file of {config.issuer.name} is a badge this site publishes.",
                urls.home_share_card(),
                image_alt=sharecard.home_card_alt(config.title, config.issuer.name),
                image_size=(sharecard.WIDTH, sharecard.HEIGHT),
            ),
            # (a preview's badges are "found" here as the files it publishes: the banner says they
            # are a preview's, signed with a development key)
            dev_keys=inputs.development_keys,
        ),
    )


UNIT = Unit(
    "check-page",
    "site",
    (FileSpec("check/index.html", "text/html"),),
    reads=("config", "check-templates", "site", "development-keys"),
    produce=produce,
)
