"""An award in Open Badges 2.0: the hosted assertion, the signed assertion (JWS) and the badge
image with the hosted assertion baked in."""

from __future__ import annotations

from badgekiln.formats import baking, ob2, urls
from badgekiln.formats.jsonout import dumps_compact, dumps_hosted
from badgekiln.models import Award, Recipient
from badgekiln.outputs import RASTERS, BuildInputs, FileSpec, Plan, Unit, badge_image, badge_png


def produce(plan: Plan, inputs: BuildInputs, renderer: object, item: tuple[Recipient, Award]) -> None:
    """awards/<id>/assertion.json, assertion.jws and badge.<ext> (and badge.png for SVG artwork)."""
    recipient, award = item
    config = inputs.config
    badge = inputs.project.badges[award.badge]
    assertion_bytes = dumps_hosted(ob2.assertion(config, badge, recipient, award))
    plan.add(urls.assertion_json(award.id), assertion_bytes)
    signed = ob2.assertion(config, badge, recipient, award, signed_by=config.url(urls.key_json(inputs.ob2_kid)))
    plan.add(
        urls.assertion_jws(award.id), inputs.signer.sign_jws(dumps_compact(signed), inputs.ob2_kid).encode("ascii")
    )
    image, text = badge_image(inputs, badge.image), assertion_bytes.decode("utf-8")
    if badge.image.lower().endswith(".png"):
        baked = baking.bake_png(image, text, keyword="openbadges")
    else:
        baked = baking.bake_svg(image, assertion_json=text, verify=config.url(urls.assertion_json(award.id)))
    plan.add(urls.baked_ob2(award.id, badge.image), baked)
    if not badge.image.lower().endswith(".png"):  # a PNG of SVG artwork, for places that take no SVG
        plan.add(
            urls.baked_ob2_png(award.id), baking.bake_png(badge_png(inputs, badge.image), text, keyword="openbadges")
        )


UNIT = Unit(
    "ob2-assertion",
    "award",
    (
        FileSpec(
            "awards/{id}/assertion.json", "application/ld+json", rel="alternate", title="Open Badges 2.0 assertion"
        ),
        FileSpec("awards/{id}/assertion.jws", "text/plain"),
        FileSpec("awards/{id}/badge.{ext}", "image/*"),
    ),
    reads=("documents-config", "signing", "badge", "award"),
    produce=produce,
    shared=RASTERS,  # (its badge PNG: see outputs.RASTERS)
)
