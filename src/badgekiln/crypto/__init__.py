"""Cryptographic primitives for badgekiln: bytes in, bytes (or strings) out.

``jws``
    JWS compact serialization with RS256 (Open Badges 2.0 signed badges, OB 3.0 VC-JWT).
``multikey``
    Ed25519 Multikey / ``did:key`` encoding and RSA public JWKs.
``canon``
    RDFC-1.0 (URDNA2015) canonicalization with an offline, static JSON-LD document loader.
``dataintegrity``
    Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite (OB 3.0 embedded proofs).

Nothing here reads files outside the package, touches the network, or knows about badges, sites
or templates. Failures are reported as :class:`badgekiln.errors.VerifyError` (a token, proof or
key does not check out) or :class:`badgekiln.errors.SigningError` (refusing to sign).
"""
