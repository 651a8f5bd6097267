"""Models to Open Badges 3.0 dicts: credentials, achievements, status list, DID document, JWKS.

Pure functions: no proofs, no files, no clock. Every dict is plain JSON data (dicts, lists,
strings, booleans) whose content depends only on the arguments, so two builds agree byte for
byte once :mod:`badgekiln.formats.jsonout` serializes them. Signing happens in :mod:`badgekiln.signing.signer`.

Every ``@context`` is a list of published context URLs, never an inline object (verifiers
such as openbadgeslib refuse inline contexts). Strict canonicalization
(:mod:`badgekiln.crypto.canon`) refuses any term the ``@context`` does not define, so:

* ``credentialSchema`` names the type ``1EdTechJsonSchemaValidator2019``, which neither the
  VC 2.0 nor the OB 3.0 context defines: credentials add 1EdTech's official extensions context
  (:data:`EXTENSIONS_CONTEXT`) after the two required ones.
* ``did.json`` publishes the RSA (VC-JWT) keys as ``JsonWebKey`` methods with ``publicKeyJwk``,
  terms of the ``https://w3id.org/security/jwk/v1`` context it adds (:data:`DID_CONTEXTS`).

Every context is bundled in ``badgekiln/data/contexts``; nothing is fetched.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from badgekiln.crypto.multikey import ed25519_to_multibase, rsa_public_jwk
from badgekiln.errors import SourceError
from badgekiln.formats import ids, urls
from badgekiln.formats.ob2 import timestamp
from badgekiln.formats.statuslist import STATUS_PURPOSE, SUSPENSION_PURPOSE, status_entry
from badgekiln.models import Alignment, Award, BadgeClass, Evidence, Recipient

if TYPE_CHECKING:  # (a type only: formats sit below the sources layer)
    from badgekiln.sources.config import SiteConfig

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CONTEXTS = (VC_CONTEXT, OB_CONTEXT)  # in this order; extra contexts only after these two

# 1EdTech's extensions context: defines 1EdTechJsonSchemaValidator2019 (and 1EdTechRevocationList,
# 1EdTechCredentialRefresh), which the OB 3.0 context lacks.
EXTENSIONS_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
CREDENTIAL_CONTEXTS = (*CONTEXTS, EXTENSIONS_CONTEXT)
SCHEMA_VALIDATOR_TYPE = "1EdTechJsonSchemaValidator2019"
ACHIEVEMENT_CREDENTIAL_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)

JWK_CONTEXT = "https://w3id.org/security/jwk/v1"  # JsonWebKey, publicKeyJwk
DID_CONTEXTS = ("https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1", JWK_CONTEXT)


# The AchievementType vocabulary of the OB 3.0 JSON Schema (tests check the two agree).
ACHIEVEMENT_TYPES = (
    "Achievement",
    "ApprenticeshipCertificate",
    "Assessment",
    "Assignment",
    "AssociateDegree",
    "Award",
    "Badge",
    "BachelorDegree",
    "Certificate",
    "CertificateOfCompletion",
    "Certification",
    "CommunityService",
    "Competency",
    "Course",
    "CoCurricular",
    "Degree",
    "Diploma",
    "DoctoralDegree",
    "Fieldwork",
    "GeneralEducationDevelopment",
    "JourneymanCertificate",
    "LearningProgram",
    "License",
    "Membership",
    "ProfessionalDoctorate",
    "QualityAssuranceCredential",
    "MasterCertificate",
    "MasterDegree",
    "MicroCredential",
    "ResearchDoctorate",
    "SecondarySchoolDiploma",
)
_ACHIEVEMENT_TYPE_KEYS = {t.casefold(): t for t in ACHIEVEMENT_TYPES}
# Stricter than the schema's unanchored "(ext:)[a-z|A-Z|0-9|.|-|_]+", whose character class
# does not even contain '-': a value this accepts always passes the schema.
_EXT_TYPE = re.compile(r"ext:[A-Za-z0-9][A-Za-z0-9._-]*")
_SEPARATORS = re.compile(r"[\s_-]+")


class PublicKeyRecord(Protocol):
    """What :func:`did_document` and :func:`jwks` read from a key (e.g. ``keys.KeyRecord``)."""

    @property
    def kid(self) -> str:
        """The key's id."""

    @property
    def algorithm(self) -> str:
        """ "Ed25519" or "RS256"."""

    @property
    def public_key(self) -> Any:
        """The public key object (``Ed25519PublicKey`` or ``RSAPublicKey``)."""

    @property
    def published(self) -> bool:
        """False for keys withdrawn from publication."""


# --- Profile, Achievement, credential ------------------------------------------------------


def issuer_profile(config: SiteConfig) -> dict[str, Any]:
    """The issuer's OB 3.0 ``Profile``, identified by the site's ``did:web``.

    Args:
        config: The site settings.

    Returns:
        The Profile, to embed as ``issuer`` (and as an achievement's ``creator``).
    """
    issuer = config.issuer
    profile: dict[str, Any] = {
        "id": config.did,
        "type": ["Profile"],
        "name": issuer.name,
        "url": issuer.url,
        "email": issuer.email,
    }
    if issuer.description:
        profile["description"] = issuer.description
    if issuer.image:
        profile["image"] = _image(config.url(urls.asset(issuer.image)))
    if issuer.telephone:
        profile["phone"] = issuer.telephone
    return profile


def normalize_achievement_type(value: str) -> str:
    """Map a badge's ``achievement_type`` to a value the OB 3.0 schema accepts.

    A term of the OB 3.0 vocabulary is matched ignoring case, spaces, ``-`` and ``_``
    (``micro-credential`` gives ``MicroCredential``). An extension is written ``ext:Name``
    (letters, digits, ``.``, ``-``, ``_``; starting with a letter or digit) and kept as it is.
    Anything else is refused rather than guessed: a typo must not become an extension type.

    Args:
        value: The text from the badge's YAML.

    Returns:
        The vocabulary term or the ``ext:`` value.

    Raises:
        ValueError: The value is neither; the message lists what is allowed.
    """
    if value.startswith("ext:"):
        if _EXT_TYPE.fullmatch(value):
            return value
        raise ValueError(
            f"achievement type {value!r} is not a valid extension: after 'ext:' use letters, "
            "digits, '.', '-' or '_', starting with a letter or digit"
        )
    term = _ACHIEVEMENT_TYPE_KEYS.get(_SEPARATORS.sub("", value).casefold())
    if term is None:
        raise ValueError(
            f"unknown achievement type {value!r}; use one of {', '.join(ACHIEVEMENT_TYPES)}, "
            "or an extension such as 'ext:Workshop'"
        )
    return term


def achievement(config: SiteConfig, badge: BadgeClass) -> dict[str, Any]:
    """The OB 3.0 ``Achievement`` of a badge class, as embedded in its credentials.

    Args:
        config: The site settings.
        badge: The badge class.

    Returns:
        The Achievement; ``id`` is the URL of its published ``achievement.json``.

    Raises:
        SourceError: The badge's ``achievement_type`` is not allowed (see
            :func:`normalize_achievement_type`); reported at the badge's file.
    """
    data: dict[str, Any] = {
        "id": config.url(urls.achievement_json(badge.slug)),
        "type": ["Achievement"],
        "name": badge.name,
        "description": badge.description,
        "criteria": {"id": config.url(urls.badge_dir(badge.slug)), "narrative": badge.criteria},
        "image": _image(config.url(urls.badge_image(badge.slug, badge.image))),
        "creator": issuer_profile(config),
    }
    if badge.achievement_type:
        try:
            data["achievementType"] = normalize_achievement_type(badge.achievement_type)
        except ValueError as e:
            raise SourceError(str(e), badge.location) from e
    if badge.tags:
        data["tag"] = list(badge.tags)
    if badge.alignment:
        data["alignment"] = [_alignment(a) for a in badge.alignment]
    if badge.requires:
        # A stacked badge names its components. OB 3.0 has no "requires"; its Achievement has
        # "related" (Related[]), whose schema says "Identifies a related achievement" with "id":
        # "The related achievement". Both terms are in the OB 3.0 context (3.0.3): nothing invented.
        data["related"] = [
            {"id": config.url(urls.achievement_json(slug)), "type": ["Related"]} for slug in badge.requires.of
        ]
    return data


def achievement_document(config: SiteConfig, badge: BadgeClass) -> dict[str, Any]:
    """The standalone Achievement published at ``badges/<slug>/achievement.json``.

    Args:
        config: The site settings.
        badge: The badge class.

    Returns:
        :func:`achievement` with the OB 3.0 ``@context``.
    """
    return {"@context": list(CONTEXTS), **achievement(config, badge)}


def credential(
    config: SiteConfig, badge: BadgeClass, recipient: Recipient, award: Award, *, status_index: int | None
) -> dict[str, Any]:
    """The unsigned ``OpenBadgeCredential`` of an award.

    The recipient is named only by a salted hash of their email (trimmed and lower-cased before
    hashing) and by :func:`subject_id`, which reveals nothing. Their name is never put in the
    credential, whatever ``show_name`` says: pages may show it, a signed file lives forever.

    Args:
        config: The site settings.
        badge: The awarded badge class.
        recipient: The earner.
        award: The award.
        status_index: The award's position in the revocation and suspension status lists, or
            None for a credential without ``credentialStatus``.

    Returns:
        The credential; ``id`` is the URL of its published ``credential.json``.

    Raises:
        SourceError: The badge's achievement type is not allowed.
        ValueError: ``status_index`` is negative.
    """
    data: dict[str, Any] = {
        "@context": list(CREDENTIAL_CONTEXTS),
        "id": config.url(urls.credential_json(award.id)),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": badge.name,
        "description": badge.description,
        "image": _image(config.url(urls.badge_image(badge.slug, badge.image))),
        "issuer": issuer_profile(config),
        "validFrom": timestamp(award.issued_on),
        "awardedDate": timestamp(award.issued_on),
        "credentialSubject": _subject(config, badge, recipient, award),
        "credentialSchema": [{"id": ACHIEVEMENT_CREDENTIAL_SCHEMA, "type": SCHEMA_VALIDATOR_TYPE}],
    }
    if award.expires:
        data["validUntil"] = timestamp(award.expires)
    if award.evidence:
        data["evidence"] = [_evidence(e) for e in award.evidence]
    if status_index is not None:
        # Two entries at the same index (VC 2.0 §4.10: "a single object or a set of one or more
        # objects"): revocation, for good, and suspension, reversible (Bitstring Status List §2.1).
        data["credentialStatus"] = [
            status_entry(config, status_index, STATUS_PURPOSE),
            status_entry(config, status_index, SUSPENSION_PURPOSE),
        ]
    return data


def _subject(config: SiteConfig, badge: BadgeClass, recipient: Recipient, award: Award) -> dict[str, Any]:
    salt = ids.award_salt(award.id)
    subject: dict[str, Any] = {
        "id": subject_id(award.id),
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityHash": ids.identity_hash(recipient.email, salt),
                "identityType": "emailAddress",
                "hashed": True,
                "salt": salt,
            }
        ],
        "achievement": achievement(config, badge),
    }
    if award.narrative:
        subject["narrative"] = award.narrative
    return subject


def subject_id(award_id: str) -> str:
    """The ``credentialSubject.id`` of an award: a ``urn:uuid:`` that reveals nothing.

    OB 3.0 §8.2.4 makes the VC-JWT claim ``sub`` required and equal to ``credentialSubject.id``,
    and §8.2.6.1 rejects a token whose ``sub`` does not match it, so every subject needs an id.
    The earner has no identifier of their own here (no DID), and their email must not be
    published, so the id is a name-based UUID (version 5) of the award id and its salt: stable
    across builds, different for each award (it does not link one person's awards) and computed
    only from values the credential already publishes. It identifies the subject of this one
    credential; the earner is recognised by the hashed ``identifier``.
    """
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"badgekiln:subject:{award_id}:{ids.award_salt(award_id)}"))


def _image(url: str) -> dict[str, Any]:
    return {"id": url, "type": "Image"}


def _alignment(alignment: Alignment) -> dict[str, Any]:
    data: dict[str, Any] = {"type": ["Alignment"], "targetName": alignment.name, "targetUrl": alignment.url}
    if alignment.code:
        data["targetCode"] = alignment.code
    if alignment.description:
        data["targetDescription"] = alignment.description
    if alignment.framework:
        data["targetFramework"] = alignment.framework
    return data


def _evidence(evidence: Evidence) -> dict[str, Any]:
    data: dict[str, Any] = {"type": ["Evidence"]}
    if evidence.url:
        data["id"] = evidence.url
    for key in ("narrative", "name", "description"):
        if value := getattr(evidence, key):
            data[key] = value
    return data


# --- Bitstring Status List ----------------------------------------------------------------


def verification_method(config: SiteConfig, kid: str) -> str:
    """The DID URL of a key in the site's DID document (a proof's ``verificationMethod``).

    Args:
        config: The site settings.
        kid: The key id.

    Returns:
        ``"did:web:host[:path]#<kid>"``.
    """
    return f"{config.did}#{kid}"


def did_document(config: SiteConfig, keys: Sequence[PublicKeyRecord]) -> dict[str, Any]:
    """The ``did:web`` DID document, published at ``config.did_document_path``.

    Lists every published Ed25519 key as a ``Multikey`` and every published RSA (VC-JWT) key as a
    ``JsonWebKey``, each authorized for ``assertionMethod``, in the order given. A JsonWebKey's
    ``id`` is the ``kid`` that VC-JWT headers name, and its ``publicKeyJwk`` carries the same
    ``kid`` (:func:`jwk_kid`), so a verifier that resolves the issuer's DID finds the key of a
    token as one that looks the ``kid`` up in the JWKS does. Retired keys are left out of all three.

    Args:
        config: The site settings.
        keys: The site's keys; unpublished (retired) ones are skipped.

    Returns:
        The DID document.
    """
    did = config.did
    methods: list[dict[str, Any]] = []
    for key in keys:
        if not key.published:
            continue
        if key.algorithm == "Ed25519":
            methods.append(
                {
                    "id": verification_method(config, key.kid),
                    "type": "Multikey",
                    "controller": did,
                    "publicKeyMultibase": ed25519_to_multibase(key.public_key),
                }
            )
        elif key.algorithm == "RS256":
            methods.append(
                {
                    "id": verification_method(config, key.kid),
                    "type": "JsonWebKey",
                    "controller": did,
                    "publicKeyJwk": rsa_public_jwk(key.public_key, jwk_kid(config, key.kid)),
                }
            )
    return {
        "@context": list(DID_CONTEXTS),
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
    }


def jwk_kid(config: SiteConfig, kid: str) -> str:
    """The ``kid`` of an RSA key in JWTs and JWK sets: the DID URL of its ``JsonWebKey``
    verification method in the site's DID document (:func:`verification_method`).

    OB 3.0 §8.2.3 lets ``kid`` be "A URI that can be dereferenced to an object of type JWK
    representing the public key"; a ``did:web`` URL dereferences through ``did.json`` to the
    method's ``publicKeyJwk``, and the JWK sets carry the same ``kid`` so a JWKS consumer
    matches the header against them.
    """
    return verification_method(config, kid)


def jwks(config: SiteConfig, keys: Sequence[PublicKeyRecord]) -> dict[str, Any]:
    """The JSON Web Key Set of the published RSA keys (VC-JWT signatures).

    Each key's ``kid`` is the DID URL of its verification method (:func:`jwk_kid`), the same
    string VC-JWT headers carry, so a verifier can match a token to its key either by resolving
    the ``kid`` through the issuer's DID or in this set.

    Args:
        config: The site settings.
        keys: The site's keys; unpublished ones and non-RSA ones are skipped.

    Returns:
        ``{"keys": [public JWK, …]}`` in the order given.
    """
    return {
        "keys": [
            rsa_public_jwk(k.public_key, jwk_kid(config, k.kid)) for k in keys if k.published and k.algorithm == "RS256"
        ]
    }


def jwt_header(config: SiteConfig, kid: str) -> dict[str, str]:
    """The JOSE header of a VC-JWT (OB 3.0 §8.2.3): ``alg``, ``kid`` and ``typ``, nothing else.

    ``kid`` is the DID URL of the key's ``JsonWebKey`` method in ``did.json`` (:func:`jwk_kid`),
    also the ``kid`` of the key in the JWKS and in its ``keys/<kid>.jwk.json``.
    """
    return {"alg": "RS256", "kid": jwk_kid(config, kid), "typ": "JWT"}


def jwt_claims(credential: dict[str, Any]) -> dict[str, Any]:
    """VC-JWT payload (OB 3.0 §8.2.4): the credential, with its embedded proof if it has one,
    plus the claims iss, jti, nbf, sub (and exp when it has ``validUntil``).

    Pass the credential *after* its Data Integrity proof was added: "If a Linked Data Proof is
    also provided, it MUST be created before the JSON Web Token Proof Format is created."
    """

    def numeric(stamp: str) -> int:
        return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())

    claims = dict(credential)
    claims.update(
        {
            "iss": credential["issuer"]["id"],
            "jti": credential["id"],
            "nbf": numeric(credential["validFrom"]),
            "sub": credential["credentialSubject"]["id"],
        }
    )
    if "validUntil" in credential:
        claims["exp"] = numeric(credential["validUntil"])
    return claims
