"""Finding the public key behind a proof's ``verificationMethod`` or a VC-JWT's ``kid``/``jwk``.

A key is only accepted when its issuer vouches for it:

* ``did:key`` — the identifier is the key; the issuer must be that DID.
* ``did:web`` — ``did:web:host[:a:b]`` is fetched from ``https://host/.well-known/did.json``
  (or ``https://host/a/b/did.json``; ``%3A`` in the host is a port). The method must be in the
  document, controlled by the issuer, and listed under ``assertionMethod``.
* an https controller document — the method's document is fetched, and its ``controller``
  (the issuer) must list it under ``assertionMethod``.
* a VC-JWT ``kid`` is a DID URL of the issuer (resolved as a did:web method above: badgekiln's
  own tokens), or an http(s) URL on the issuer's own web location (older or foreign tokens); an
  embedded ``jwk`` must be one the issuer publishes, else anyone could have signed the token.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from badgekiln.crypto import multikey
from badgekiln.errors import VerifyError
from badgekiln.verifying.common import VerifyOptions, as_list, fetch_json, one_of, short
from badgekiln.verifying.fetching import FetchError

_HOST = re.compile(r"[A-Za-z0-9.-]+(%3[Aa]\d{1,5})?")
_SEGMENT = re.compile(r"[A-Za-z0-9._~%!$&'()*+,;=@-]+")
MAX_ID_CHARS = 2048  # a did:key, did:web or key URL; an Ed25519 did:key has 56 characters
_ED25519_METHOD_TYPES = frozenset({"Multikey", "Ed25519VerificationKey2020"})


def did_web_url(did: str) -> str:
    """The URL of a ``did:web`` DID document, per the did:web method.

    Raises:
        VerifyError: Not a well-formed ``did:web`` identifier.
    """
    if not isinstance(did, str) or not did.startswith("did:web:"):
        raise VerifyError(f"not a did:web identifier: {short(did)}")
    host, *segments = did[len("did:web:") :].split(":")
    if not _HOST.fullmatch(host) or not all(_SEGMENT.fullmatch(s) for s in segments):
        raise VerifyError(f"malformed did:web identifier {did!r}")
    authority = re.sub(r"%3[Aa]", ":", host).lower()
    if segments:
        return f"https://{authority}/{'/'.join(segments)}/did.json"
    return f"https://{authority}/.well-known/did.json"


def web_base(issuer_id: Any) -> str | None:
    """The web location an issuer controls: ``https://host/a/b/`` for ``did:web:host:a:b``,
    ``scheme://authority/`` for an http(s) issuer id, else None."""
    if isinstance(issuer_id, str) and issuer_id.startswith("did:web:"):
        return did_web_url(issuer_id).removesuffix(".well-known/did.json").removesuffix("did.json")
    parts = urllib.parse.urlsplit(issuer_id) if isinstance(issuer_id, str) else None
    if parts and parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc.lower()}/"
    return None


def _controller_document(opts: VerifyOptions, controller: str) -> dict[str, Any]:
    """Fetch a DID document (did:web) or an https controller document; its id must match."""
    if controller.startswith("did:web:"):
        url = did_web_url(controller)
    elif controller.startswith("https://"):
        url = urllib.parse.urldefrag(controller).url
    else:
        raise VerifyError(f"cannot resolve controller {short(controller)}: only did:web, did:key and https")
    document = fetch_json(opts, url, "the controller document")
    if document.get("id") != controller:
        raise VerifyError(f"the document at {url} declares id {short(document.get('id'))}, not {controller}")
    return document


def _absolute(ref: Any, base: Any) -> Any:
    return base + ref if isinstance(ref, str) and ref.startswith("#") and isinstance(base, str) else ref


def _find_method(document: dict[str, Any], method_id: str) -> dict[str, Any]:
    base = document.get("id", "")
    for item in as_list(document.get("verificationMethod")) + as_list(document.get("assertionMethod")):
        if isinstance(item, dict) and _absolute(item.get("id"), base) == method_id:
            return item
    raise VerifyError(f"{document.get('id')} has no verification method {method_id}")


def _authorized(document: dict[str, Any], method_id: str) -> bool:
    base = document.get("id", "")
    return any(
        _absolute(item.get("id") if isinstance(item, dict) else item, base) == method_id
        for item in as_list(document.get("assertionMethod"))
    )


def resolve_method(opts: VerifyOptions, method_id: Any, issuer_id: Any) -> tuple[dict[str, Any], str]:
    """The verification method ``method_id``, checked to be the issuer's for assertions.

    Returns:
        ``(method object, how it was found)``.

    Raises:
        VerifyError: Unresolvable, not controlled by the issuer, or not an assertionMethod.
    """
    if not isinstance(method_id, str) or not method_id:
        raise VerifyError(f"verification method {short(method_id)} is not an identifier")
    if len(method_id) > MAX_ID_CHARS:  # base58 decoding of a did:key is quadratic in its length
        raise VerifyError(f"verification method {short(method_id)} is longer than {MAX_ID_CHARS} characters")
    if method_id.startswith("did:key:"):
        did = method_id.partition("#")[0]
        multikey.ed25519_from_did_key(method_id)
        if did != issuer_id:
            raise VerifyError(f"{did} signed it, but the issuer is {short(issuer_id)}")
        fragment = method_id.partition("#")[2] or did[len("did:key:") :]
        method = {"id": method_id, "type": "Multikey", "controller": did, "publicKeyMultibase": fragment}
        return method, "did:key (the identifier is the key)"
    controller: Any
    if method_id.startswith("did:web:"):
        controller = method_id.partition("#")[0]
        document = _controller_document(opts, controller)
        where = did_web_url(controller)
    elif method_id.startswith("https://"):
        url = urllib.parse.urldefrag(method_id).url
        document = fetch_json(opts, url, "the verification method's document")
        if document.get("id") not in (url, method_id):
            raise VerifyError(f"the document at {url} declares id {short(document.get('id'))}, not its URL")
        controller = document.get("controller") if document.get("id") == method_id else document.get("id")
        where = url
    else:
        raise VerifyError(f"cannot resolve verification method {short(method_id)}: only did:key, did:web, https")
    method = document if document.get("id") == method_id else _find_method(document, method_id)
    if method.get("controller") != issuer_id:
        raise VerifyError(
            f"{method_id} is controlled by {short(method.get('controller'))}, not the issuer {short(issuer_id)}"
        )
    if controller != issuer_id:
        raise VerifyError(f"{method_id} comes from {short(controller)}, not the issuer {short(issuer_id)}")
    if document.get("id") != issuer_id:
        document = _controller_document(opts, issuer_id)
    if not _authorized(document, method_id):
        raise VerifyError(f"{issuer_id} does not list {method_id} under assertionMethod")
    return method, f"listed under assertionMethod of {issuer_id} ({where})"


def ed25519_key(method: dict[str, Any]) -> Ed25519PublicKey:
    """The Ed25519 key of a Multikey (or Ed25519VerificationKey2020) method.

    Raises:
        VerifyError: Another key type, or a malformed key.
    """
    if not one_of(method.get("type"), _ED25519_METHOD_TYPES):
        raise VerifyError(f"verification method type {short(method.get('type'))} is not Multikey")
    text = method.get("publicKeyMultibase")
    if not isinstance(text, str) or len(text) > MAX_ID_CHARS:
        raise VerifyError(f"publicKeyMultibase {short(text)} is not a multibase key")
    return multikey.ed25519_from_multibase(text)


def _jwk_from(document: dict[str, Any], kid: str, fragment: str) -> dict[str, Any]:
    if isinstance(document.get("keys"), list):
        keys = [k for k in document["keys"] if isinstance(k, dict)]
        chosen = [k for k in keys if k.get("kid") in (fragment, kid)] if fragment else keys
        if len(chosen) != 1:
            raise VerifyError(f"the JWKS at {kid} has {len(chosen)} keys matching {fragment or 'it'}; need one")
        return chosen[0]
    if isinstance(document.get("publicKeyJwk"), dict):
        return document["publicKeyJwk"]
    return document


@dataclass(frozen=True)
class JwtKey:
    """The RSA key that verifies a VC-JWT, as :func:`jwt_key` found it.

    Attributes:
        key: The public key.
        how: Where it was found, for the report.
        names: The ids the issuer publishes that key under: the verification method's id or the
            URL the ``kid`` names, and the JWK's own ``kid``. What the key *is* (a development
            key, say) is read from these, not from the token's header, which may name it
            indirectly (a JWKS URL) or not at all (an embedded ``jwk``).
    """

    key: RSAPublicKey
    how: str
    names: tuple[str, ...]


def _names(*ids: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in ids if isinstance(i, str) and i))


def jwt_key(opts: VerifyOptions, header: dict[str, Any], issuer_id: Any) -> JwtKey:
    """The RSA key of a VC-JWT, from ``kid`` or ``jwk``, checked to belong to the issuer.

    Raises:
        VerifyError: Both or neither of kid/jwk, an unusable key, or a key the issuer does not publish.
    """
    kid, jwk = header.get("kid"), header.get("jwk")
    if (kid is None) == (jwk is None):
        raise VerifyError("the JWT header needs exactly one of 'kid' and 'jwk'")
    if jwk is not None:
        key = multikey.rsa_from_jwk(jwk) if isinstance(jwk, dict) else None
        if key is None:
            raise VerifyError("the JWT header's jwk is not a JSON object")
        how, names = _published_jwk(opts, key, issuer_id)
        return JwtKey(key, how, names)
    if not isinstance(kid, str):
        raise VerifyError(f"kid {short(kid)} is not a string")
    if kid.startswith("did:web:"):  # a JsonWebKey method of the issuer's DID (what badgekiln signs with)
        if kid.partition("#")[0] != issuer_id:  # checked before fetching anything the kid names
            raise VerifyError(f"kid {short(kid)} is not a key of the issuer {short(issuer_id)}")
        method, how = resolve_method(opts, kid, issuer_id)
        found = method.get("publicKeyJwk")
        if not isinstance(found, dict):
            raise VerifyError(f"{kid} has no publicKeyJwk")
        return JwtKey(multikey.rsa_from_jwk(found), how, _names(kid, found.get("kid")))
    base = web_base(issuer_id)
    if not kid.startswith(("https://", "http://")):
        raise VerifyError(f"kid {short(kid)} is neither an http(s) URL nor a did:web URL")
    if base is None or not kid.startswith(base):
        raise VerifyError(f"kid {kid} is not on the issuer's site ({base or short(issuer_id)})")
    url, _, fragment = kid.partition("#")
    found = _jwk_from(fetch_json(opts, url, "the JWT key"), kid, fragment)
    key = multikey.rsa_from_jwk(found)
    if isinstance(issuer_id, str) and issuer_id.startswith("did:web:"):
        # A key's file stays at its URL after the key is retired (README, "keys retire"): only
        # the DID document (or the JWKS) says which keys the issuer still stands by.
        try:
            _published_jwk(opts, key, issuer_id)
        except VerifyError:
            raise VerifyError(
                f"the key at {kid} is not published by the issuer {issuer_id} (not in its DID document "
                "or JWKS): a retired key, or one it never listed"
            ) from None
    return JwtKey(key, f"{kid}, on the issuer's site {base}", _names(kid, found.get("kid")))


def _published_jwk(opts: VerifyOptions, key: RSAPublicKey, issuer_id: Any) -> tuple[str, tuple[str, ...]]:
    """Where the issuer publishes an embedded ``jwk`` (its DID document or /.well-known/jwks.json),
    and the names it publishes it under (:attr:`JwtKey.names`)."""
    wanted = key.public_numbers()
    # (where, [(the id of the entry, its JWK)]) for each place the issuer publishes keys
    places: list[tuple[str, list[tuple[Any, Any]]]] = []
    base = web_base(issuer_id)
    try:
        if isinstance(issuer_id, str) and issuer_id.startswith("did:web:"):
            document = _controller_document(opts, issuer_id)
            methods = [
                (method_id, m.get("publicKeyJwk"))
                for m in as_list(document.get("verificationMethod"))
                if isinstance(m, dict) and _authorized(document, method_id := _absolute(m.get("id"), issuer_id))
            ]
            places.append((did_web_url(issuer_id), methods))
    except FetchError:
        pass
    if base is not None:
        root = urllib.parse.urlsplit(base)
        url = f"{root.scheme}://{root.netloc}/.well-known/jwks.json"
        try:
            keys = as_list(fetch_json(opts, url, "the issuer's JWKS").get("keys"))
            places.append((url, [(k.get("kid") if isinstance(k, dict) else None, k) for k in keys]))
        except FetchError:
            pass
    for where, candidates in places:
        for entry_id, candidate in candidates:
            try:
                if isinstance(candidate, dict) and multikey.rsa_from_jwk(candidate).public_numbers() == wanted:
                    return f"embedded jwk, published by the issuer at {where}", _names(entry_id, candidate.get("kid"))
            except VerifyError:
                continue
    raise VerifyError(
        f"the embedded jwk is not published by the issuer {short(issuer_id)} (looked in "
        f"{', '.join(w for w, _ in places) or 'nowhere reachable'}): anyone could have signed this"
    )


__all__ = ["JwtKey", "did_web_url", "ed25519_key", "jwt_key", "resolve_method", "web_base"]
