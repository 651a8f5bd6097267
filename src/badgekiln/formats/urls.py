"""The site's URL scheme: where every published thing lives, relative to the site root.

These paths are a public promise. Once a site is published, verifiers, wallets, LinkedIn posts
and printed QR codes point at them, so they must never change. Change nothing here without a
redirect plan.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import PurePosixPath

ISSUER = "issuer.json"
REVOCATION_LIST = "revocations.json"
STATUS_LIST = "status/revocation.json"
SUSPENSION_LIST = "status/suspension.json"  # the OB 3.0 suspension status list (reversible)
JWKS = "keys/jwks.json"
CHECK_PAGE = "check/"  # "Check a badge file": a verifier opens a badge image or credential there

# A preview build signs with development keys (signing/keys.py development_keyring), one per
# algorithm, with exactly these ids; "dev-" starts no site key's id (keys.py refuses it). Their
# keys are published as any key is: a DID URL fragment (did:web:host#dev-rsa) and the key files
# keys/dev-rsa.json and keys/dev-rsa.jwk.json (key_json, key_jwk). Verifiers recognise exactly
# these ids in those shapes: verifying/common.py is_development_key and verify.js
# isDevelopmentKey (tests/test_development_keys.py runs both on one table).
DEVELOPMENT_PREFIX = "dev-"
DEVELOPMENT_KEY_IDS = {"RS256": "dev-rsa", "Ed25519": "dev-ed25519"}


def badge_dir(slug: str) -> str:
    """Folder of a badge class."""
    return f"badges/{slug}/"


def badge_json(slug: str) -> str:
    """OB 2.0 BadgeClass."""
    return f"badges/{slug}/badge.json"


def achievement_json(slug: str) -> str:
    """OB 3.0 Achievement."""
    return f"badges/{slug}/achievement.json"


def badge_image(slug: str, source_image: str) -> str:
    """The badge class image, unbaked, with the source file's extension."""
    return f"badges/{slug}/image{_suffix(source_image)}"


@lru_cache(maxsize=1024)
def _suffix(source_image: str) -> str:
    """The artwork's extension, lower-cased (``.png``, ``.svg``): a few files, asked about for every award."""
    return PurePosixPath(source_image).suffix.lower()


def award_dir(award_id: str) -> str:
    """Folder of an award: its permanent page."""
    return f"awards/{award_id}/"


def assertion_json(award_id: str) -> str:
    """OB 2.0 hosted Assertion."""
    return f"awards/{award_id}/assertion.json"


def assertion_jws(award_id: str) -> str:
    """OB 2.0 signed Assertion (JWS compact)."""
    return f"awards/{award_id}/assertion.jws"


def credential_json(award_id: str) -> str:
    """OB 3.0 credential with an embedded eddsa-rdfc-2022 proof."""
    return f"awards/{award_id}/credential.json"


def credential_jwt(award_id: str) -> str:
    """OB 3.0 credential as a VC-JWT."""
    return f"awards/{award_id}/credential.jwt"


def baked_ob2(award_id: str, source_image: str) -> str:
    """Badge image baked with the OB 2.0 hosted assertion."""
    return f"awards/{award_id}/badge{_suffix(source_image)}"


def baked_ob3(award_id: str, source_image: str) -> str:
    """Badge image baked with the OB 3.0 credential."""
    return f"awards/{award_id}/credential{_suffix(source_image)}"


def baked_ob2_png(award_id: str) -> str:
    """Badge image baked with the OB 2.0 hosted assertion, as PNG (SVG artwork rasterised)."""
    return f"awards/{award_id}/badge.png"


def baked_ob3_png(award_id: str) -> str:
    """Badge image baked with the OB 3.0 credential, as PNG (SVG artwork rasterised)."""
    return f"awards/{award_id}/credential.png"


def award_share_card(award_id: str) -> str:
    """The award's share card (the 1200x630 PNG its page names in og:image)."""
    return f"awards/{award_id}/share.png"


def badge_share_card(slug: str) -> str:
    """A badge class's share card."""
    return f"badges/{slug}/share.png"


def home_share_card() -> str:
    """The home page's share card."""
    return "share.png"


def key_json(key_id: str) -> str:
    """OB 2.0 CryptographicKey of one key."""
    return f"keys/{key_id}.json"


def key_jwk(key_id: str) -> str:
    """Public JWK of one RSA key (the ``kid`` of VC-JWTs points here)."""
    return f"keys/{key_id}.jwk.json"


def page(slug: str) -> str:
    """An extra page from site_src/pages/."""
    return f"pages/{slug}/"


def asset(rel: str) -> str:
    """A file copied from site_src/ (logo, images)."""
    return f"assets/{PurePosixPath(rel).as_posix().removeprefix('assets/')}"


def relative(from_dir: str, target: str) -> str:
    """A relative link from the folder ``from_dir`` (ends in '/' or is '') to ``target``."""
    depth = from_dir.count("/")
    return "../" * depth + target if target or depth else "./"


def pathway_page(slug: str) -> str:
    """The pathway page of a stacked badge: its component badges, in order."""
    return f"badges/{slug}/pathway/"


def portfolio_dir(handle: str) -> str:
    """An earner's portfolio page (opt-in), named by the handle they chose."""
    return f"earners/{handle}/"


def portfolio_json(handle: str) -> str:
    """An earner's portfolio as JSON, for machines."""
    return f"earners/{handle}/portfolio.json"
