"""An award in Open Badges 3.0: the credential with its eddsa-rdfc-2022 proof, the same
credential as a VC-JWT, and the badge image with the credential baked in."""

from __future__ import annotations

from badgekiln.formats import baking, ob2, ob3, urls
from badgekiln.formats.jsonout import dumps_compact, dumps_hosted
from badgekiln.models import Award, Recipient
from badgekiln.outputs import RASTERS, BuildInputs, FileSpec, Plan, Unit, badge_image, badge_png, signing_named


def produce(plan: Plan, inputs: BuildInputs, renderer: object, item: tuple[Recipient, Award]) -> None:
    """awards/<id>/credential.json, credential.jwt and credential.<ext> (and credential.png for SVG artwork)."""
    recipient, award = item
    award = award.as_issued()  # (its revocation and suspension are the status lists': not read, not keyed)
    config = inputs.config
    badge = inputs.project.badges[award.badge]
    unsigned = ob3.credential(config, badge, recipient, award, status_index=inputs.ledger.entries[award.id].index)
    ed_kid = inputs.ed_kid(award)
    with signing_named(award.location, f"award {award.id} ({award.badge})"):
        signed = inputs.signer.add_proof(
            unsigned,
            ed_kid,
            verification_method=ob3.verification_method(config, ed_kid),
            created=ob2.timestamp(award.issued_on),
        )
    credential_bytes = dumps_hosted(signed)
    plan.add(urls.credential_json(award.id), credential_bytes)
    rsa_kid = inputs.rsa_kid(award)
    # OB 3.0 §8.2: the Data Integrity proof is made first and travels inside the JWT payload.
    header = ob3.jwt_header(config, rsa_kid)
    plan.add(
        urls.credential_jwt(award.id),
        inputs.signer.sign_jws(dumps_compact(ob3.jwt_claims(signed)), rsa_kid, header=header).encode("ascii"),
    )
    image, text = badge_image(inputs, badge.image), credential_bytes.decode("utf-8")
    if badge.image.lower().endswith(".png"):
        baked = baking.bake_png(image, text, keyword=baking.OB3_PNG_KEYWORD)
    else:
        baked = baking.bake_svg(image, assertion_json=text, version=3)
    plan.add(urls.baked_ob3(award.id, badge.image), baked)
    if not badge.image.lower().endswith(".png"):  # a PNG of SVG artwork, for places that take no SVG
        plan.add(
            urls.baked_ob3_png(award.id),
            baking.bake_png(badge_png(inputs, badge.image), text, keyword=baking.OB3_PNG_KEYWORD),
        )


UNIT = Unit(
    "ob3-credential",
    "award",
    (
        FileSpec("awards/{id}/credential.json", "application/ld+json"),
        FileSpec("awards/{id}/credential.jwt", "text/plain"),
        FileSpec("awards/{id}/credential.{ext}", "image/*"),
    ),
    reads=("documents-config", "signing", "badge", "award-as-issued"),
    produce=produce,
    shared=RASTERS,  # (its badge PNG: see outputs.RASTERS)
    preload=("badgekiln.crypto.canon",),  # (each credential's shape is the site's own: pyld makes its template)
)
