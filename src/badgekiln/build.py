"""Validated project → :class:`~badgekiln.site.SitePlan`. Reads like a table of contents.

``build()`` gathers every artifact of the site (two-phase, as Pelican does: plan everything,
then the writer alone touches disk). Each helper makes one kind of artifact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path, PurePosixPath

from . import baking, context, hosting, ob2, ob3, safefiles, statuslist, urls
from .cache import BuildCache
from .config import SiteConfig
from .crypto.multikey import rsa_public_jwk
from .jsonout import dumps_compact, dumps_hosted
from .keys import ED25519, RSA
from .ledger import Ledger
from .models import Award, BadgeClass, Project, Recipient
from .parallel import Groups
from .render import Renderer
from .signing import Signer
from .site import SitePlan
from .validate import MAX_ASSET_BYTES, MAX_IMAGE_BYTES, PUBLISHED_ASSET_SUFFIXES


@dataclass(frozen=True)
class BuildInputs:
    """Everything a build reads besides the project itself."""

    config: SiteConfig
    project: Project
    ledger: Ledger
    signer: Signer
    source: Path
    today: date

    def rsa_kid(self, award: Award) -> str:
        """The RSA key that signs this award's VC-JWT (pinned in the ledger)."""
        return self.signer.effective_kid(self.ledger.entries[award.id].rsa_kid, RSA)

    @property
    def ob2_kid(self) -> str:
        """The RSA key of every OB 2.0 signed assertion: the active one (see add_issuer)."""
        return self.signer.effective_kid(_active_kid(self, RSA), RSA)

    def ed_kid(self, award: Award) -> str:
        """The Ed25519 key that signs this award's Data Integrity proof."""
        return self.signer.effective_kid(self.ledger.entries[award.id].ed_kid, ED25519)


def build(inputs: BuildInputs, renderer: Renderer, cache: BuildCache | None = None) -> SitePlan:
    """Plan every file of the site.

    With a ``cache``, each group of files whose inputs did not change is reused instead of signed
    and rendered again, and the rest are made on every core (see :mod:`badgekiln.parallel`).
    """
    plan = SitePlan(secrets=inputs.signer.secret_material())
    groups = Groups(inputs, renderer, cache)
    add_static_files(plan, inputs)
    add_issuer(plan, inputs)
    add_keys(plan, inputs)
    for badge in inputs.project.badges.values():
        groups.badge_class(plan, badge, add_badge_class)
    groups.awards(plan, add_award_documents, add_award_page)
    add_revocation_list(plan, inputs)
    groups.status_list(plan, add_status_list)
    groups.site_pages(plan, add_site_pages)
    hosting.add_hosting_files(plan, inputs.config)
    return plan


def add_static_files(plan: SitePlan, inputs: BuildInputs) -> None:
    """The stylesheet (with the site's accent colour), the script and site_src/assets/ (with the
    site's own ``site.css``, which every page links after badgekiln's)."""
    static = resources.files("badgekiln") / "static"
    css = f":root {{ --accent: {inputs.config.accent_color}; }}\n".encode() + (static / "badgekiln.css").read_bytes()
    plan.add("assets/badgekiln.css", css)
    plan.add("assets/badgekiln.js", (static / "badgekiln.js").read_bytes())
    # Links and special files are never read (validate warned about them); sizes were checked there.
    for name, entry in safefiles.walk(inputs.source, "site_src/assets"):
        if entry.kind == "file" and PurePosixPath(name).suffix.lower() in PUBLISHED_ASSET_SUFFIXES:
            plan.add(urls.asset(name), safefiles.read_bytes(inputs.source, f"site_src/assets/{name}",
                                                            limit=MAX_ASSET_BYTES))


def add_issuer(plan: SitePlan, inputs: BuildInputs) -> None:
    """The OB 2.0 issuer Profile. Its ``publicKey`` names one key, the active RSA key: the 1EdTech
    validator rejects a profile that lists several, so OB 2.0 JWS are always signed by it."""
    profile = ob2.issuer_profile(inputs.config, key_ids=(inputs.ob2_kid,), with_revocation_list=True)
    plan.add(urls.ISSUER, dumps_hosted(profile))


def add_keys(plan: SitePlan, inputs: BuildInputs) -> None:
    """Public keys: OB 2.0 CryptographicKeys and JWKs (retired ones too: URLs never vanish), the
    JWKS and the did:web document of the keys in use."""
    config, records = inputs.config, inputs.signer.published_records()
    for record in records:
        if record.algorithm == RSA:
            plan.add(urls.key_json(record.kid), dumps_hosted(ob2.cryptographic_key(config, record.kid,
                                                                                    record.public_pem)))
            plan.add(urls.key_jwk(record.kid),
                     dumps_hosted(rsa_public_jwk(record.public_key, ob3.jwk_kid(config, record.kid))))
    key_set = dumps_hosted(ob3.jwks(config, records))
    plan.add(urls.JWKS, key_set)
    if config.base_path == "/":  # the well-known place, where the site owns the host root
        plan.add(".well-known/jwks.json", key_set)
    plan.add(config.did_document_path, dumps_hosted(ob3.did_document(config, records)))


def add_badge_class(plan: SitePlan, inputs: BuildInputs, renderer: Renderer, badge: BadgeClass) -> None:
    """A badge class: OB 2.0 BadgeClass, its image and its page."""
    config = inputs.config
    plan.add(urls.badge_json(badge.slug), dumps_hosted(ob2.badge_class(config, badge)))
    plan.add(urls.achievement_json(badge.slug), dumps_hosted(ob3.achievement_document(config, badge)))
    plan.add(urls.badge_image(badge.slug, badge.image), _badge_image(inputs, badge))
    page = urls.badge_dir(badge.slug)
    plan.add(page + "index.html", renderer.render(
        "badge.html",
        site=context.site_context(config, inputs.project),
        meta=context.meta(config, page, f"{badge.name} · {config.issuer.name}", badge.description,
                          urls.badge_image(badge.slug, badge.image),
                          [{"type": "application/ld+json", "href": config.url(urls.badge_json(badge.slug)),
                            "title": "Open Badges 2.0 BadgeClass"}]),
        root=urls.relative(page, ""),
        issuer=context.issuer_context(config),
        badge=context.badge_context(badge),
    ))


def _badge_image(inputs: BuildInputs, badge: BadgeClass) -> bytes:
    return safefiles.read_bytes(inputs.source, f"site_src/{badge.image}", limit=MAX_IMAGE_BYTES)


def add_award(plan: SitePlan, inputs: BuildInputs, renderer: Renderer, recipient: Recipient, award: Award) -> None:
    """One award: hosted assertion, baked image and permanent page."""
    add_award_documents(plan, inputs, recipient, award)
    add_award_page(plan, inputs, renderer, recipient, award)


def add_award_documents(plan: SitePlan, inputs: BuildInputs, recipient: Recipient, award: Award) -> None:
    """An award's hosted and signed OB 2.0 assertions, OB 3.0 credential and VC-JWT, and baked images."""
    config = inputs.config
    badge = inputs.project.badges[award.badge]
    assertion = ob2.assertion(config, badge, recipient, award)
    assertion_bytes = dumps_hosted(assertion)
    plan.add(urls.assertion_json(award.id), assertion_bytes)
    signed = ob2.assertion(config, badge, recipient, award, signed_by=config.url(urls.key_json(inputs.ob2_kid)))
    plan.add(urls.assertion_jws(award.id),
             inputs.signer.sign_jws(dumps_compact(signed), inputs.ob2_kid).encode("ascii"))
    add_credential(plan, inputs, badge, recipient, award)
    plan.add(urls.baked_ob2(award.id, badge.image), _bake_ob2(inputs, badge, award, assertion_bytes))


def add_award_page(plan: SitePlan, inputs: BuildInputs, renderer: Renderer, recipient: Recipient, award: Award) -> None:
    """An award's permanent page."""
    config = inputs.config
    badge = inputs.project.badges[award.badge]
    page = urls.award_dir(award.id)
    earner = recipient.public_name
    title = f"{badge.name} · {earner}" if earner else badge.name
    plan.add(page + "index.html", renderer.render(
        "award.html",
        site=context.site_context(config, inputs.project),
        meta=context.meta(config, page, title, f"{config.issuer.name} awarded this badge: {badge.description}",
                          urls.badge_image(badge.slug, badge.image),
                          [{"type": "application/ld+json", "href": config.url(urls.assertion_json(award.id)),
                            "title": "Open Badges 2.0 assertion"}]),
        root=urls.relative(page, ""),
        issuer=context.issuer_context(config),
        badge=context.badge_context(badge),
        award=context.award_context(config, badge, recipient, award, inputs.today, signed=True, has_ob3=True),
    ))


def add_credential(plan: SitePlan, inputs: BuildInputs, badge: BadgeClass, recipient: Recipient, award: Award) -> None:
    """The OB 3.0 credential: embedded eddsa-rdfc-2022 proof, VC-JWT, and a baked image."""
    config = inputs.config
    unsigned = ob3.credential(config, badge, recipient, award, status_index=inputs.ledger.entries[award.id].index)
    ed_kid = inputs.ed_kid(award)
    signed = inputs.signer.add_proof(unsigned, ed_kid, verification_method=ob3.verification_method(config, ed_kid),
                                     created=ob2.timestamp(award.issued_on))
    credential_bytes = dumps_hosted(signed)
    plan.add(urls.credential_json(award.id), credential_bytes)
    rsa_kid = inputs.rsa_kid(award)
    header = {"kid": ob3.jwk_kid(config, rsa_kid), "typ": "JWT"}
    plan.add(urls.credential_jwt(award.id),
             inputs.signer.sign_jws(dumps_compact(ob3.jwt_claims(unsigned)), rsa_kid, header=header).encode("ascii"))
    image = _badge_image(inputs, badge)
    text = credential_bytes.decode("utf-8")
    if badge.image.lower().endswith(".png"):
        baked = baking.bake_png(image, text, keyword=baking.OB3_PNG_KEYWORD)
    else:
        baked = baking.bake_svg(image, assertion_json=text, version=3)
    plan.add(urls.baked_ob3(award.id, badge.image), baked)


def _bake_ob2(inputs: BuildInputs, badge: BadgeClass, award: Award, assertion_bytes: bytes) -> bytes:
    image = _badge_image(inputs, badge)
    text = assertion_bytes.decode("utf-8")
    if badge.image.lower().endswith(".png"):
        return baking.bake_png(image, text, keyword="openbadges")
    return baking.bake_svg(image, assertion_json=text, verify=inputs.config.url(urls.assertion_json(award.id)))


def add_revocation_list(plan: SitePlan, inputs: BuildInputs) -> None:
    """The OB 2.0 RevocationList of every revoked award, under both of its ids: the signed
    assertion's ``urn:uuid`` and the hosted assertion's URL. (Listing both is also what makes the
    1EdTech validator see a revocation when only one award is revoked: it skips one-entry lists.)"""
    config = inputs.config
    revoked = [(assertion_id, a.revoked.reason) for a in inputs.project.awards if a.revoked is not None
               for assertion_id in (ob2.signed_urn(config, a.id), config.url(urls.assertion_json(a.id)))]
    plan.add(urls.REVOCATION_LIST, dumps_hosted(ob2.revocation_list(inputs.config, revoked)))


def add_status_list(plan: SitePlan, inputs: BuildInputs) -> None:
    """The signed Bitstring status list of OB 3.0 revocations (one permanent bit per award)."""
    config, project = inputs.config, inputs.project
    revoked = {inputs.ledger.entries[a.id].index for a in project.awards if a.revoked is not None}
    # validFrom is the newest event the list reflects, so that it comes from the sources, not the clock.
    days = [a.revoked.on for a in project.awards if a.revoked is not None] or [a.issued_on for a in project.awards]
    valid_from = ob2.timestamp(max(days)) if days else "2000-01-01T00:00:00Z"
    unsigned = statuslist.status_list_credential(config, revoked, valid_from=valid_from)
    kid = inputs.signer.effective_kid(_active_kid(inputs, ED25519), ED25519)
    signed = inputs.signer.add_proof(unsigned, kid, verification_method=ob3.verification_method(config, kid),
                                     created=valid_from)
    plan.add(urls.STATUS_LIST, dumps_hosted(signed))


def _active_kid(inputs: BuildInputs, algorithm: str) -> str | None:
    for record in inputs.signer.keyring.records:
        if record.algorithm == algorithm and record.status == "active":
            return record.kid
    return None


def add_site_pages(plan: SitePlan, inputs: BuildInputs, renderer: Renderer) -> None:
    """Home page with the catalogue, extra pages, 404 and sitemap."""
    config, project = inputs.config, inputs.project
    site = context.site_context(config, project)
    counts: dict[str, int] = {}
    for award in project.awards:
        counts[award.badge] = counts.get(award.badge, 0) + 1
    badges = [dict(context.badge_context(b), count=counts.get(b.slug, 0))
              for b in sorted(project.badges.values(), key=lambda b: b.name.casefold())]
    plan.add("index.html", renderer.render(
        "index.html", site=site, root="",
        meta=context.meta(config, "", config.title, config.issuer.description or config.title, site["logo"],
                          [{"type": "application/ld+json", "href": config.url(urls.ISSUER), "title": "Issuer profile"}]),
        issuer=context.issuer_context(config), badges=badges,
    ))
    for page in project.pages:
        path = urls.page(page.slug)
        plan.add(path + "index.html", renderer.render(
            "page.html", site=site, root=urls.relative(path, ""),
            meta=context.meta(config, path, f"{page.title} · {config.issuer.name}", page.description or page.title),
            page=context.page_context(page),
        ))
    plan.add("404.html", renderer.render(
        "404.html", site=site, root=config.base_path,
        meta=context.meta(config, "404.html", "Page not found", "There is no page at this address."),
    ))
    pages = [""] + [urls.badge_dir(s) for s in sorted(project.badges)]
    pages += [urls.page(p.slug) for p in project.pages]
    # Award pages are not listed: earners choose where to share them.
    plan.add("sitemap.xml", renderer.render("sitemap.xml", urls=[config.url(p) for p in pages]))
