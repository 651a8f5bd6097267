"""Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite (W3C VC DI EdDSA 1.0).

hashData = sha256(RDFC-1.0(proof options with the document's ``@context``))
           || sha256(RDFC-1.0(document without ``proof``)),
signed with Ed25519; ``proofValue = "z" + base58btc(signature)``. Reproduced byte for byte
against the Open Badges 3.0 test vector (tests/crypto/test_dataintegrity.py).

Only one proof per document is handled (no proof sets or chains).
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from badgekiln.crypto.multikey import multibase_decode, multibase_encode
from badgekiln.errors import SigningError, VerifyError

if TYPE_CHECKING:  # (crypto.canon loads pyld, which a build that signs only known shapes never needs)
    from badgekiln.crypto.canon import StaticDocumentLoader

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
ASSERTION_METHOD = "assertionMethod"

# XML Schema dateTimeStamp: a dateTime that must carry a time zone.
_DATETIME_STAMP = re.compile(r"-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def proof_options(*, verification_method: str, created: str, proof_purpose: str = ASSERTION_METHOD) -> dict[str, str]:
    """The proof configuration to sign (a proof without ``proofValue``).

    Args:
        verification_method: The key id, e.g. ``did:key:z6Mk…#z6Mk…`` or
            ``https://host/issuer.json#key-0``.
        created: When the proof is made, an XML Schema dateTimeStamp (``2024-01-01T00:00:00Z``).
        proof_purpose: The proof purpose; credentials use ``assertionMethod``.

    Returns:
        ``{type, cryptosuite, created, verificationMethod, proofPurpose}``.

    Raises:
        SigningError: ``created`` is not a date-time with a time zone.
    """
    if not isinstance(created, str) or not _DATETIME_STAMP.fullmatch(created):
        raise SigningError(f"proof 'created' must be a date-time with a time zone, got {created!r}")
    return {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }


def hash_data(
    document: dict[str, Any],
    options: dict[str, Any],
    *,
    loader: StaticDocumentLoader | None = None,
    canonizer: Callable[[dict[str, Any]], str] | None = None,
    check_order: bool = False,
) -> bytes:
    """Compute the 64 bytes that an ``eddsa-rdfc-2022`` signature covers.

    Args:
        document: The credential; its ``proof``, if any, is left out.
        options: The proof options; ``proofValue`` is left out and the document's ``@context``
            is used, as the cryptosuite specifies.
        loader: Where contexts come from (default: the bundled contexts only).
        canonizer: What canonicalizes a document; :func:`canonize` with ``loader`` unless given
            (``crypto/fastcanon.py`` gives a faster one with equal results).
        check_order: Refuse a document whose canonical form JavaScript verifiers sort otherwise
            (:func:`utf16_order_problem`): for signing.

    Returns:
        ``sha256(canonical options) || sha256(canonical document)``.

    Raises:
        VerifyError: Either part cannot be canonicalized (undefined terms, unknown context...).
    """
    if "@context" not in document:
        raise VerifyError("document has no @context")
    config = {k: v for k, v in options.items() if k != "proofValue"}
    config["@context"] = document["@context"]
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    if canonizer is None:
        from badgekiln.crypto.canon import canonize

        canonical: Callable[[dict[str, Any]], str] = lambda data: canonize(data, loader=loader)  # noqa: E731
    else:
        canonical = canonizer
    try:
        canonical_options = canonical(config)
    except VerifyError as e:
        raise VerifyError(f"proof options: {e}") from e
    canonical_document = canonical(unsecured)
    if check_order:
        for text in (canonical_options, canonical_document):
            problem = utf16_order_problem(text)
            if problem is not None:
                raise VerifyError(problem)
    return _sha256(canonical_options) + _sha256(canonical_document)


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def utf16_order_problem(canonical: str) -> str | None:
    """Why verifiers written in JavaScript would not accept a proof over ``canonical`` (N-Quads in
    RDFC-1.0's order), or None.

    RDFC-1.0 sorts N-Quads by Unicode code point (w3c/rdf-canon#18); rdf-canonize, under Digital
    Bazaar's and the DCC verifiers (and the Learner Credential Wallet), sorts JavaScript strings,
    by UTF-16 code unit. The two orders differ only where one line has a character past U+FFFF (an
    emoji) where another has one from U+E000 to U+FFFF (a full-width letter): such a document's
    canonical form, and so its signature, differs there (an interop review found it with a badge
    tagged "😀" and "Ａ"). Refused rather than signed for some verifiers only.
    """
    if _ASTRAL.search(canonical) is None:
        return None
    lines = canonical.split("\n")
    for before, after in zip(lines, lines[1:]):
        if before and after and before.encode("utf-16-be") > after.encode("utf-16-be"):
            return (
                "two of its values are ordered one way by the standard and the other by verifiers built on "
                "JavaScript (Digital Bazaar, the DCC verifier, the Learner Credential Wallet), which would "
                f"reject its proof: {_shown(before)} and {_shown(after)}; change one of them (a character past "
                "U+FFFF, such as an emoji, where the other has one from U+E000 to U+FFFF, such as a full-width letter)"
            )
    return None


def _shown(line: str) -> str:
    """The object of an N-Quads line (a value from the sources), shortened."""
    value = line.split(" ", 2)[-1].rsplit(" ", 1)[0] if line.count(" ") >= 3 else line
    return repr(value if len(value) <= 80 else value[:77] + "...")


def _sha256(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def add_proof(
    document: dict[str, Any],
    private_key: Ed25519PrivateKey,
    *,
    verification_method: str,
    created: str,
    canonizer: Callable[[dict[str, Any]], str] | None = None,
) -> dict[str, Any]:
    """Return a copy of ``document`` with an ``eddsa-rdfc-2022`` proof added.

    Args:
        document: The unsigned credential (with ``@context``, without ``proof``). Not modified.
        private_key: The Ed25519 signing key.
        verification_method: The id of the matching public key (Multikey) to put in the proof.
        created: The proof's creation time (dateTimeStamp); pass it in, never ``now()`` here.
        canonizer: As for :func:`hash_data`.

    Returns:
        A new dict: a deep copy of ``document`` plus ``proof`` (with ``proofValue``).

    Raises:
        SigningError: The document already has a proof, has no ``@context``, cannot be
            canonicalized strictly, or the key is not an Ed25519 private key.
    """
    signed = copy.deepcopy(document)
    signed["proof"] = make_proof(
        document, private_key, verification_method=verification_method, created=created, canonizer=canonizer
    )
    return signed


def make_proof(
    document: dict[str, Any],
    private_key: Ed25519PrivateKey,
    *,
    verification_method: str,
    created: str,
    canonizer: Callable[[dict[str, Any]], str] | None = None,
) -> dict[str, Any]:
    """The ``eddsa-rdfc-2022`` proof that :func:`add_proof` adds to ``document`` (not modified).

    Raises:
        SigningError: as :func:`add_proof`.
    """
    if "proof" in document:
        raise SigningError("document already has a proof; badgekiln adds exactly one")
    if not isinstance(private_key, Ed25519PrivateKey):
        got = type(private_key).__name__
        raise SigningError(f"eddsa-rdfc-2022 needs an Ed25519 private key, got {got}")
    options = proof_options(verification_method=verification_method, created=created)
    try:
        data = hash_data(document, options, canonizer=canonizer, check_order=True)
    except VerifyError as e:
        raise SigningError(f"cannot sign document: {e}") from e
    return {**options, "proofValue": multibase_encode(private_key.sign(data))}


def _single_proof(document: dict[str, Any]) -> dict[str, Any]:
    proof = document.get("proof")
    if isinstance(proof, list):
        if len(proof) != 1:
            raise VerifyError(f"document has {len(proof)} proofs; exactly one is supported")
        proof = proof[0]
    if proof is None:
        raise VerifyError("document has no proof")
    if not isinstance(proof, dict):
        raise VerifyError("proof must be a JSON object")
    return proof


def _check_proof_fields(proof: dict[str, Any], proof_purpose: str) -> None:
    expected = {"type": PROOF_TYPE, "cryptosuite": CRYPTOSUITE, "proofPurpose": proof_purpose}
    for name, value in expected.items():
        if proof.get(name) != value:
            raise VerifyError(f"proof {name} is {proof.get(name)!r}; expected {value!r}")
    if not isinstance(proof.get("verificationMethod"), str) or not proof["verificationMethod"]:
        raise VerifyError("proof has no verificationMethod")
    created = proof.get("created")
    valid_created = isinstance(created, str) and _DATETIME_STAMP.fullmatch(created)
    if created is not None and not valid_created:
        raise VerifyError(f"proof created {created!r} is not a date-time with a time zone")
    if not isinstance(proof.get("proofValue"), str):
        raise VerifyError("proof has no proofValue")


def verify_proof(
    document: dict[str, Any],
    resolve_method: Callable[[str], Ed25519PublicKey],
    *,
    proof_purpose: str = ASSERTION_METHOD,
    loader: StaticDocumentLoader | None = None,
) -> dict[str, Any]:
    """Verify the document's ``eddsa-rdfc-2022`` Data Integrity proof.

    Checks the proof's shape, then the Ed25519 signature over the recomputed hash. Whether the
    verification method is authorized by the issuer, and whether ``created`` lies in the past,
    are left to the caller (``resolve_method`` is the natural place for the former).

    Args:
        document: The secured credential; ``proof`` is one object or a list of one.
        resolve_method: Maps the proof's ``verificationMethod`` to its public key; should
            raise :class:`VerifyError` for methods it does not trust.
        proof_purpose: The purpose the proof must state.
        loader: Where contexts come from (default: the bundled contexts only); see
            :func:`badgekiln.crypto.canon.static_document_loader` to add extension contexts.

    Returns:
        A copy of the verified proof.

    Raises:
        VerifyError: With the precise reason: no or several proofs, wrong type, cryptosuite or
            purpose, malformed proofValue, proof ``@context`` not a prefix of the document's,
            canonicalization failure, key of the wrong type, or a signature that does not verify.
    """
    proof = _single_proof(document)
    _check_proof_fields(proof, proof_purpose)
    try:
        signature = multibase_decode(proof["proofValue"])
    except VerifyError as e:
        raise VerifyError(f"proofValue is malformed: {e}") from e
    if len(signature) != 64:
        raise VerifyError(f"proofValue holds {len(signature)} bytes; an Ed25519 signature has 64")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in options:
        # VC DI EdDSA 1.0, verify step 4: the proof context must prefix the document's.
        proof_ctx, doc_ctx = _as_list(options.pop("@context")), _as_list(document.get("@context"))
        if doc_ctx[: len(proof_ctx)] != proof_ctx:
            raise VerifyError("proof @context is not a prefix of the document @context")
        unsecured["@context"] = proof_ctx
    public_key = resolve_method(proof["verificationMethod"])
    if not isinstance(public_key, Ed25519PublicKey):
        raise VerifyError(f"{proof['verificationMethod']!r} did not resolve to an Ed25519 key")
    data = hash_data(unsecured, options, loader=loader)
    try:
        public_key.verify(signature, data)
    except InvalidSignature as e:
        raise VerifyError(
            "proof signature does not verify: the credential or its proof was changed after "
            f"signing, or {proof['verificationMethod']!r} is not the key that signed it"
        ) from e
    return copy.deepcopy(proof)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
