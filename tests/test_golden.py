"""The golden output tree: the example site built with fixed keys and date, byte for byte.

Every change to what badgekiln publishes shows up here as a failing comparison; if the change
is intended, ``python3 scripts/regenerate-golden.py`` rewrites ``tests/golden/example/`` and the
reviewer reads the diff (as python-tuf does with its generated metadata and Pelican with its
functional-test output). How the tree is built: ``tests/support/golden.py``.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from tests.support import golden
from tests.support.fixed_keys import CREATED, FixedKeys, fixed_keys

# The RSA prime search of the fixed seed runs 106 Miller-Rabin rounds (one 1536-bit modular
# exponentiation each, ~10-20 ms here): about 1-3 s. A seed or search change that makes it much
# slower fails here, deterministically, instead of slowing every session.
MAX_SEARCH_ROUNDS = 200


@pytest.fixture(scope="session")
def golden_keys() -> FixedKeys:
    """The fixed keys, derived once per session."""
    return fixed_keys()


def build_golden(run, monkeypatch, work: Path, keys: FixedKeys) -> Path:
    """The example site built the golden way into ``work``, through the command line."""
    for name, value in golden.environment(keys, work).items():
        monkeypatch.setenv(name, value)

    def invoke(*args: str) -> tuple[int, str, str]:
        result = run(*args)
        return result.code, result.out, result.err

    return golden.build_example(work, keys, invoke)


def test_fixed_keys_are_valid_public_derivations(golden_keys):
    rsa_key, ed_key = private_keys(golden_keys)
    assert rsa_key.key_size == 3072 and rsa_key.private_numbers().public_numbers.e == 65537
    for key, public in ((rsa_key, golden_keys.rsa_public_pem), (ed_key, golden_keys.ed25519_public_pem)):
        assert (
            key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
            == public
        )
    assert re.fullmatch(rf"{CREATED}-rsa-[0-9a-f]{{6}}", golden_keys.rsa_kid)
    assert re.fullmatch(rf"{CREATED}-ed25519-[0-9a-f]{{6}}", golden_keys.ed25519_kid)
    assert 0 < golden_keys.search_rounds <= MAX_SEARCH_ROUNDS


def test_example_builds_to_the_golden_tree(run, monkeypatch, tmp_path, golden_keys):
    assert golden.GOLDEN.is_dir(), f"{golden.GOLDEN} is missing: run {golden.REGENERATE}"
    built = golden.tree_bytes(build_golden(run, monkeypatch, tmp_path, golden_keys))
    report = golden.describe(golden.tree_bytes(golden.GOLDEN), built)
    assert not report, (
        f"the example site's output differs from tests/golden/example/:\n{report}\n\n"
        f"If the change is intended, run `{golden.REGENERATE}` and review `git status tests/golden` and "
        "`git diff tests/golden` before committing the new tree with the change that made it."
    )


def test_golden_build_is_deterministic(run, monkeypatch, tmp_path, golden_keys):
    first = build_golden(run, monkeypatch, tmp_path / "a", golden_keys)
    second = build_golden(run, monkeypatch, tmp_path / "b", golden_keys)
    first_files = golden.tree_bytes(first)
    assert len(first_files) > 100
    assert not golden.describe(first_files, golden.tree_bytes(second)), "two builds of the same sources differ"
    # The maintainer's local build (a clean build) publishes what CI's --production build does.
    local = golden.tree_bytes(tmp_path / "a" / "local-output")
    assert not golden.describe(local, first_files), "the local and the production build differ"


def test_golden_tree_holds_no_private_key(golden_keys):
    """The tree is committed to git: no private key material in it, in any encoding."""
    rsa_key, ed_key = private_keys(golden_keys)
    d = rsa_key.private_numbers().d
    raw = {"rsa d": d.to_bytes((d.bit_length() + 7) // 8, "big"), "ed25519 seed": ed_key.private_bytes_raw()}
    secrets = {"PEM label": b"PRIVATE KEY"}
    for name, value in raw.items():
        secrets[name] = value
        secrets[f"{name} (base64url, as a JWK 'd')"] = base64.urlsafe_b64encode(value).rstrip(b"=")
        secrets[f"{name} (base64)"] = base64.b64encode(value).rstrip(b"=")
        secrets[f"{name} (hex)"] = value.hex().encode()
    for block in re.findall(r"-----BEGIN PRIVATE KEY-----\n(.*?)\n", golden_keys.private_pem):
        secrets["first line of a PEM body"] = block.encode()
    files = golden.tree_bytes(golden.GOLDEN)
    assert files
    leaks = [(path, name) for path, content in files.items() for name, secret in secrets.items() if secret in content]
    assert not leaks


def private_keys(keys: FixedKeys) -> tuple[rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey]:
    """The two private keys of ``BADGEKILN_PRIVATE_KEYS``, checked by OpenSSL as they load."""
    blocks = re.findall(r"-----BEGIN PRIVATE KEY-----.*?-----END PRIVATE KEY-----\n", keys.private_pem, re.DOTALL)
    assert len(blocks) == 2
    rsa_key, ed_key = (serialization.load_pem_private_key(block.encode(), password=None) for block in blocks)
    assert isinstance(rsa_key, rsa.RSAPrivateKey) and isinstance(ed_key, ed25519.Ed25519PrivateKey)
    return rsa_key, ed_key
