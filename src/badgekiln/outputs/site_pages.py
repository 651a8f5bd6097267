"""The home page with the badge catalogue, the extra pages, 404 and the sitemap (which lists the
"Check a badge file" page of :mod:`.check_page` too)."""

from __future__ import annotations

from badgekiln.formats import urls
from badgekiln.models import held_counts
from badgekiln.outputs import BuildInputs, FileSpec, Plan, Unit, unit
from badgekiln.pages import context, sharecard
from badgekiln.pages.render import Renderer


def produce(plan: Plan, inputs: BuildInputs, renderer: Renderer, item: None) -> None:
    """index.html, pages/<slug>/index.html, 404.html and sitemap.xml."""
    config, project = inputs.config, inputs.project
    site = context.site_context(config, project)
    counts = held_counts(project.award_rows)  # (keys.UnitKeys._catalogue keys the page with the same counts)
    badges = [
        dict(context.badge_context(b), count=counts.get(b.slug, 0))
        for b in sorted(project.badges.values(), key=lambda b: b.name.casefold())
    ]
    # (every page of the site's own previews with the home page's card: a shared link to an extra
    # page, or a mistyped one, shows the site's picture rather than none)
    alt, size = sharecard.home_card_alt(config.title, config.issuer.name), (sharecard.WIDTH, sharecard.HEIGHT)
    dev_keys = inputs.development_keys  # (the preview banner: every page of a preview says it)
    plan.add(
        "index.html",
        renderer.render(
            "index.html",
            site=site,
            root="",
            meta=context.meta(
                config,
                "",
                config.title,
                config.issuer.description or config.title,
                urls.home_share_card(),
                unit("issuer").links(config),
                image_alt=alt,
                image_size=size,
            ),
            issuer=context.issuer_context(config),
            badges=badges,
            dev_keys=dev_keys,
        ),
    )
    for page in project.pages:
        path = urls.page(page.slug)
        plan.add(
            path + "index.html",
            renderer.render(
                "page.html",
                site=site,
                root=urls.relative(path, ""),
                meta=context.meta(
                    config,
                    path,
                    f"{page.title} · {config.issuer.name}",
                    page.description or page.title,
                    urls.home_share_card(),
                    image_alt=alt,
                    image_size=size,
                ),
                page=context.page_context(page),
                dev_keys=dev_keys,
            ),
        )
    plan.add(
        "404.html",
        renderer.render(
            "404.html",
            site=site,
            root=config.base_path,
            meta=context.meta(
                config,
                "404.html",
                "Page not found",
                "There is no page at this address.",
                urls.home_share_card(),
                image_alt=alt,
                image_size=size,
            ),
            dev_keys=dev_keys,
        ),
    )
    pages = [""] + [urls.badge_dir(s) for s in sorted(project.badges)]
    pages += [urls.pathway_page(s) for s in sorted(project.badges) if project.badges[s].requires]
    pages += [urls.page(p.slug) for p in project.pages] + [urls.CHECK_PAGE]
    # Award pages are not listed: earners choose where to share them.
    plan.add("sitemap.xml", renderer.render("sitemap.xml", urls=[config.url(p) for p in pages]))


UNIT = Unit(
    "site-pages",
    "site",
    (
        FileSpec("index.html", "text/html"),
        FileSpec("pages/{slug}/index.html", "text/html"),
        FileSpec("404.html", "text/html"),
        FileSpec("sitemap.xml", "application/xml"),
    ),
    reads=("config", "site-templates", "site", "catalogue", "development-keys"),
    produce=produce,
)
