"""Public keys: OB 2.0 CryptographicKeys and JWKs (retired ones too: URLs never vanish), the JWKS
and the issuer's did:web document of the keys in use."""

from __future__ import annotations

from badgekiln.crypto.multikey import rsa_public_jwk
from badgekiln.formats import ob2, ob3, urls
from badgekiln.formats.jsonout import dumps_hosted
from badgekiln.outputs import BuildInputs, FileSpec, Plan, Unit
from badgekiln.signing.keys import RSA


def produce(plan: Plan, inputs: BuildInputs, renderer: object, item: None) -> None:
    """keys/<kid>.json, keys/<kid>.jwk.json, keys/jwks.json and did.json."""
    config, records = inputs.config, inputs.signer.published_records()
    for record in records:
        if record.algorithm == RSA:
            plan.add(
                urls.key_json(record.kid), dumps_hosted(ob2.cryptographic_key(config, record.kid, record.public_pem))
            )
            plan.add(
                urls.key_jwk(record.kid),
                dumps_hosted(rsa_public_jwk(record.public_key, ob3.jwk_kid(config, record.kid))),
            )
    key_set = dumps_hosted(ob3.jwks(config, records))
    plan.add(urls.JWKS, key_set)
    if config.base_path == "/":  # the well-known place, where the site owns the host root
        plan.add(".well-known/jwks.json", key_set)
    plan.add(config.did_document_path, dumps_hosted(ob3.did_document(config, records)))


UNIT = Unit(
    "public-keys",
    "site",
    (
        FileSpec("keys/{kid}.json", "application/ld+json"),
        FileSpec("keys/{kid}.jwk.json", "application/json"),
        FileSpec(urls.JWKS, "application/json"),
        FileSpec(".well-known/jwks.json", "application/json"),
        FileSpec("did.json", "application/json"),
        FileSpec(".well-known/did.json", "application/json"),
    ),
    reads=("documents-config", "signing"),
    produce=produce,
    cached=False,
)
