"""Self-check of the openbadgeslib oracle (tests/oracles/openbadgeslib_*.py): it fails loudly when
absent, stays on loopback, and tells a good signature from a bad one on inputs we make here."""

from __future__ import annotations

import json
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from oracles import openbadgeslib_oracle as oracle
from support.static_server import StaticServer


def test_missing_oracle_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("BADGEKILN_ORACLES", str(tmp_path))
    with pytest.raises(oracle.OracleMissingError, match=r"install_openbadgeslib\.sh"):
        oracle.verify_batch([], {})


def test_stale_oracle_is_a_clear_error(monkeypatch, tmp_path):
    venv = tmp_path / "openbadgeslib-venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")
    (venv / ".badgekiln-openbadgeslib-stamp").write_text("0" * 64 + " CPython 3.11.7\n")
    monkeypatch.setenv("BADGEKILN_ORACLES", str(tmp_path))
    with pytest.raises(oracle.OracleMissingError, match="built by another"):
        oracle.verify_batch([], {})


def test_map_must_point_at_loopback():
    proc = subprocess.run(
        [str(oracle.oracle_python()), str(oracle.RUNNER), "--map", "https://a.example/=https://b.example/"],
        input="[]",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2 and "127.0.0.1" in proc.stderr, proc.stderr


def _did_web_credential(served, key, issuer: str) -> dict:
    """A minimal OB 3.0 credential signed with eddsa-rdfc-2022 by openbadgeslib itself, whose
    issuer's did.json (published in ``served``) lists ``key``."""
    did = "did:web:issuer.example"
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number, multikey = int.from_bytes(b"\xed\x01" + public, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        multikey = alphabet[digit] + multikey
    (served / ".well-known").mkdir(parents=True, exist_ok=True)
    (served / ".well-known/did.json").write_text(
        json.dumps(
            {
                "@context": ["https://www.w3.org/ns/did/v1"],
                "id": did,
                "verificationMethod": [
                    {"id": did + "#k", "type": "Multikey", "controller": did, "publicKeyMultibase": "z" + multikey}
                ],
                "assertionMethod": [did + "#k"],
            }
        )
    )
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:6a8e4f0e-1f8d-4d39-9c3e-0d3c3a1f2b4c",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Issuer"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:earner",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://issuer.example/a",
                "type": ["Achievement"],
                "name": "A",
                "description": "A.",
                "criteria": {"narrative": "Do A."},
            },
        },
    }


def test_verdicts_on_a_credential_signed_by_the_library(tmp_path):
    served = tmp_path / "served"
    key = Ed25519PrivateKey.generate()
    credential = _did_web_credential(served, key, "did:web:issuer.example")
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    # sign with the library itself, in its own venv
    sign = (
        "import json, sys\nfrom openbadgeslib.ob3.ldp import add_data_integrity_proof\n"
        "doc, pem = json.load(sys.stdin)\n"
        "print(json.dumps(add_data_integrity_proof(doc, pem.encode(), 'did:web:issuer.example#k')))"
    )
    proc = subprocess.run(
        [str(oracle.oracle_python()), "-c", sign],
        input=json.dumps([credential, private]),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    good = tmp_path / "good.json"
    good.write_text(proc.stdout)
    bad = json.loads(proc.stdout)
    bad["credentialSubject"]["achievement"]["name"] = "B"
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with StaticServer(served) as server:
        mapping = {"https://issuer.example/": server.url("")}
        ok, tampered, unmapped = oracle.verify_batch(
            [{"kind": "ob3", "input": good}, {"kind": "ob3", "input": tmp_path / "bad.json"}], mapping
        ) + oracle.verify_batch([{"kind": "ob3", "input": good}], {})
    assert ok["valid"] and ok["fetched"] == ["https://issuer.example/.well-known/did.json"], ok
    assert not tampered["valid"] and "signature" in tampered["reason"].lower(), tampered
    assert not unmapped["valid"] and unmapped["refused"] == ["https://issuer.example/.well-known/did.json"], unmapped


def test_sockets_outside_loopback_are_refused():
    """The second fence: even a fetch that bypassed the driver's ``download`` cannot leave loopback."""
    probe = (
        "import socket, sys\nsys.path.insert(0, sys.argv[1])\nimport openbadgeslib_verify as v\n"
        "v._guard_sockets()\n"
        "try:\n    socket.create_connection(('192.0.2.1', 443), timeout=1)\n"
        "except OSError as exc:\n    print(exc)\n"
    )
    proc = subprocess.run(
        [str(oracle.oracle_python()), "-c", probe, str(oracle.HERE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "offline: not allowed" in proc.stdout, proc.stdout + proc.stderr
