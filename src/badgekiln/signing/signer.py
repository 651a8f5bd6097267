"""Signing published documents: OB 2.0 JWS, OB 3.0 Data Integrity proofs and VC-JWTs.

A :class:`Signer` holds the site's keyring and, in development, a development keyring that
stands in for private keys that are not at hand. Signing works on the exact bytes that are
published (see :mod:`badgekiln.formats.jsonout`); nothing re-serializes a signed document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from badgekiln.crypto import jws
from badgekiln.errors import Diagnostic, KeyManagementError, SourceLocation
from badgekiln.signing import keys as keys_mod
from badgekiln.signing.keys import ED25519, RSA, KeyRecord, Keyring
from badgekiln.signing.secretscan import Secret
from badgekiln.sources.config import SourceTree


@dataclass(frozen=True)
class Signer:
    """Chooses the key that signs, and signs."""

    keyring: Keyring
    development: Keyring | None = None

    def effective_kid(self, kid: str | None, algorithm: str) -> str:
        """The key that really signs for the pinned ``kid`` (a development key stands in when allowed)."""
        if kid is not None and kid in self.keyring.private:
            return kid
        if self.development is not None:
            return self.development.active(algorithm).kid
        if kid is None:
            raise KeyManagementError(f"no {algorithm} key is configured; run 'badgekiln keys generate'")
        raise KeyManagementError(keys_mod.missing_private_key(kid))

    def private_key(self, kid: str):
        """The private key of an effective kid."""
        if self.development is not None and kid in self.development.private:
            return self.development.private[kid]
        return self.keyring.private_key(kid)

    def published_records(self) -> tuple[KeyRecord, ...]:
        """Every key to publish: the site's records, plus development keys when they may sign."""
        records = self.keyring.records
        if self.development is not None:
            records = records + self.development.records
        return records

    def secret_material(self) -> tuple[Secret, ...]:
        """Everything the output scan must find: the loaded private keys (development ones too) and
        the secrets configured in the environment (see :func:`keys.environment_secrets`)."""
        material = self.keyring.secret_material()
        if self.development is not None:
            material += self.development.secret_material()
        return material + keys_mod.environment_secrets()

    def sign_jws(self, payload: bytes, kid: str, *, header: dict | None = None) -> str:
        """RS256 JWS compact serialization of ``payload``."""
        return jws.sign_compact({"alg": "RS256", **(header or {})}, payload, self.private_key(kid))

    def add_proof(self, document: dict, kid: str, *, verification_method: str, created: str) -> dict:
        """``document`` with an eddsa-rdfc-2022 DataIntegrityProof, as a one-item ``proof`` array.

        The array form is what the OB 3.0 JSON Schema requires; verifiers accept both.
        """
        from badgekiln.crypto import (
            dataintegrity,  # pyld is slow to import, and a rebuild may sign nothing
        )

        signed = dataintegrity.add_proof(
            document, self.private_key(kid), verification_method=verification_method, created=created
        )
        signed["proof"] = [signed["proof"]]
        return signed


def open_signer(
    source: Path, output: Path | None, *, today: date, production: bool, diagnostics: list[Diagnostic]
) -> Signer:
    """The build's signer: the site's keys, with development keys standing in outside production."""
    records = keys_mod.read_records(source, diagnostics)
    if any(d.is_error for d in diagnostics):
        return Signer(Keyring(records, {}))
    private = keys_mod.load_private_keys(records, source=source, output=output, warnings=diagnostics)
    keyring = Keyring(records, private)
    missing = [r for r in records if r.published and r.kid not in private]
    has_active = all(keys_mod.active_key(records, a) is not None for a in (RSA, ED25519))
    if production:
        if not records or not has_active:
            diagnostics.append(
                Diagnostic(
                    "error",
                    "no-production-key",
                    "--production needs the site's own keys",
                    SourceLocation(SourceTree.KEYS),
                    "run 'badgekiln keys generate' and set the private keys as a CI secret",
                )
            )
        for record in missing:
            diagnostics.append(
                Diagnostic(
                    "error",
                    "missing-private-key",
                    f"the private key of {record.kid} is not available",
                    record.location,
                    f"set {keys_mod.ENV_KEYS} to the PEM text of the key(s), or put "
                    f"{record.kid}.pem in {keys_mod.keys_dir()}",
                )
            )
        return Signer(keyring)
    if records and has_active and not missing:
        return Signer(keyring)
    development = keys_mod.development_keyring(source, today)
    if not records:
        reason = "this site has no signing keys yet (site_src/keys/ is empty)"
        hint = "run 'badgekiln keys generate' for real keys; published builds use 'python build.py --production'"
    elif missing:
        reason = "the private keys of " + ", ".join(r.kid for r in missing) + " are not available here"
        hint = (
            f"to sign with the site's own keys, set {keys_mod.ENV_KEYS} to the PEM text of the key(s), or put "
            + " and ".join(f"{r.kid}.pem" for r in missing)
            + f" in {keys_mod.keys_dir()}"
        )
    else:
        reason = "site_src/keys/ has no active key of each kind (RSA and Ed25519)"
        hint = "run 'badgekiln keys generate' for new keys; published builds use 'python build.py --production'"
    diagnostics.append(
        Diagnostic(
            "warning",
            "development-keys",
            f"DEVELOPMENT KEYS: {reason}, so this build is signed with development keys kept outside the "
            f"repository. Fine for a preview; never publish it.",
            SourceLocation(SourceTree.KEYS),
            hint,
        )
    )
    return Signer(keyring, development)
