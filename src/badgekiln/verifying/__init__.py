"""Verifying Open Badges 2.0 and 3.0 badges: ours or any other issuer's.

Public API::

    from badgekiln.verifying import VerifyOptions, fetch, verify_bytes, verify_url

    result = verify_url("https://badges.example.org/awards/x/assertion.json",
                        VerifyOptions(fetch=fetch, now=now, clock=now))
    result.valid, result.status, result.checks

Verification is pure: it works on bytes and dicts, and reaches the network only through the
``fetch`` it is given (:func:`fetch`, or :func:`offline_fetcher` to serve a local ``output/``).
Modules:

``result``    :class:`Check`, :class:`VerificationResult` and the recorder that collects checks.
``fetching``  the network edge (:class:`WebFetcher`, :func:`fetch`) and offline stand-ins.
``netpolicy``  which addresses may be connected to (public ones; loopback with --allow-local).
``detect``    what the input is (URL, JSON, JWS, baked PNG/SVG); unbaking and dispatch.
``ob2``       Open Badges 2.0 hosted and signed assertions.
``ob3``       Open Badges 3.0 credentials: embedded eddsa-rdfc-2022 proofs and VC-JWTs.
``methods``   keys: did:web, did:key, https controller documents, JWT kid/jwk.
"""

from badgekiln.verifying.common import VerifyOptions, parse_now
from badgekiln.verifying.detect import looks_like_jws, verify_bytes, verify_url
from badgekiln.verifying.fetching import (
    Fetch,
    FetchError,
    FetchPolicy,
    WebFetcher,
    fetch,
    offline_fetcher,
    parse_offline_root,
)
from badgekiln.verifying.result import Check, FetchRecord, VerificationResult

__all__ = [
    "Check",
    "Fetch",
    "FetchError",
    "FetchPolicy",
    "FetchRecord",
    "VerificationResult",
    "VerifyOptions",
    "WebFetcher",
    "fetch",
    "looks_like_jws",
    "offline_fetcher",
    "parse_now",
    "parse_offline_root",
    "verify_bytes",
    "verify_url",
]
