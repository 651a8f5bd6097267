"""Fixtures for the crypto tests: the OB 3.0 eddsa-rdfc-2022 test vector and fixed keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

VECTORS = Path(__file__).parent / "vectors"


@pytest.fixture(scope="session")
def vector() -> dict[str, Any]:
    """The 1EdTech OB 3.0 Linked Data Proof test vector (see vectors/eddsa-rdfc-2022-vector.json)."""
    return json.loads((VECTORS / "eddsa-rdfc-2022-vector.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def vector_nquads() -> dict[str, str]:
    """The vector's canonical N-Quads: ``document`` and ``proof`` (options)."""
    return {
        "document": (VECTORS / "document-canon.nq").read_text(encoding="utf-8"),
        "proof": (VECTORS / "proof-canon.nq").read_text(encoding="utf-8"),
    }


@pytest.fixture(scope="session")
def vector_key(vector: dict[str, Any]) -> Ed25519PrivateKey:
    """The vector's Ed25519 key (privateKeyHex is seed || public key)."""
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(vector["privateKeyHex"])[:32])


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    """A 2048-bit RSA key, generated once per session."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_rsa_key() -> rsa.RSAPrivateKey:
    """A second 2048-bit RSA key (the wrong key)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)
