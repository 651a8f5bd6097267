"""Fixed signing keys for the golden-output tests, derived from a public seed.

TEST-ONLY. NOT FOR REAL USE. Anyone can recompute these private keys from the seed below, which
is the point: the golden tree (``tests/golden/``) is signed with the same keys on every machine,
yet no private key is committed to git (the project's rule; ``.gitignore`` has ``*.pem``).
A site signed with these keys proves nothing about who signed it.

* Ed25519: the private key is ``sha256(SEED + b"/ed25519")`` (32 bytes, RFC 8032 seed).
* RSA-3072, e = 65537: two 1536-bit primes found by a deterministic search: candidates from
  ``random.Random(SEED + b"/rsa/p").getrandbits`` (then ``/rsa/q``), sieved by small primes,
  then Miller-Rabin with the first 16 primes as bases (fixed bases are fine for candidates
  nobody chose; for random 1536-bit numbers the error is far below 2^-100: Damgard, Landrock
  and Pomerance 1993); OpenSSL then checks the finished key again. ``random.Random`` is not a
  cryptographic generator; here it only has to repeat, and its seeding (SHA-512 of the bytes)
  and ``getrandbits`` (MT19937) are stable across Python versions.

The keys go into a site as the ``badgekiln keys`` command lays them out: public records in
``site_src/keys/<kid>.yaml`` (:meth:`FixedKeys.install`) and the private keys as PEM text in
``BADGEKILN_PRIVATE_KEYS`` (:attr:`FixedKeys.private_pem`), as CI passes them.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

SEED = b"badgekiln golden-output test keys; public seed, NOT SECRET, never use for real signing"
CREATED = "2024-09-01"  # before the example's first award (2024-09-02)
RSA_BITS = 3072
PUBLIC_EXPONENT = 65537
MILLER_RABIN_ROUNDS = 16
_SMALL_PRIMES = [n for n in range(3, 2000) if all(n % d for d in range(2, math.isqrt(n) + 1))]


def _miller_rabin_rounds(n: int) -> int:
    """Miller-Rabin with the bases ``_SMALL_PRIMES[:MILLER_RABIN_ROUNDS]``: the number of rounds
    run, negative when ``n`` is composite (0 when a small prime divides it)."""
    if any(n % p == 0 for p in _SMALL_PRIMES):
        return 0
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for rounds, base in enumerate([2, *_SMALL_PRIMES][:MILLER_RABIN_ROUNDS], start=1):
        x = pow(base, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return -rounds
    return MILLER_RABIN_ROUNDS


def search_prime(label: bytes, bits: int) -> tuple[int, int]:
    """The first probable prime of ``bits`` bits (top two bits set, so p*q has 2*bits bits) with
    gcd(e, p - 1) = 1 among the candidates of the generator seeded with ``SEED + label``, and the
    number of Miller-Rabin rounds the search ran (its cost: one modular exponentiation each)."""
    rng = random.Random(SEED + label)
    spent = 0
    while True:
        candidate = rng.getrandbits(bits) | (0b11 << (bits - 2)) | 1
        if math.gcd(PUBLIC_EXPONENT, candidate - 1) != 1:
            continue
        rounds = _miller_rabin_rounds(candidate)
        spent += abs(rounds)
        if rounds == MILLER_RABIN_ROUNDS:
            return candidate, spent


def derive_rsa() -> tuple[rsa.RSAPrivateKey, int]:
    """The fixed RSA-3072 key (the same on every run and machine), and the number of
    Miller-Rabin rounds its prime search ran."""
    (p, p_rounds), (q, q_rounds) = search_prime(b"/rsa/p", RSA_BITS // 2), search_prime(b"/rsa/q", RSA_BITS // 2)
    assert p != q
    n = p * q
    assert n.bit_length() == RSA_BITS
    d = pow(PUBLIC_EXPONENT, -1, math.lcm(p - 1, q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=rsa.rsa_crt_dmp1(d, p),
        dmq1=rsa.rsa_crt_dmq1(d, q),
        iqmp=rsa.rsa_crt_iqmp(p, q),
        public_numbers=rsa.RSAPublicNumbers(PUBLIC_EXPONENT, n),
    )
    return numbers.private_key(), p_rounds + q_rounds  # private_key(): OpenSSL checks the key


def derive_ed25519() -> ed25519.Ed25519PrivateKey:
    """The fixed Ed25519 key."""
    return ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(SEED + b"/ed25519").digest())


def _public_pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _private_pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _kid(algorithm_short: str, key) -> str:
    """A key id in the form ``badgekiln keys generate`` makes (``<created>-rsa-<6 hex>``); the hex
    part comes from the public key instead of a random generator."""
    return f"{CREATED}-{algorithm_short}-{hashlib.sha256(_public_pem(key).encode()).hexdigest()[:6]}"


@dataclass(frozen=True)
class FixedKeys:
    """The fixed key pair of each algorithm, as PEM text."""

    rsa_kid: str
    rsa_public_pem: str = field(repr=False)
    ed25519_kid: str
    ed25519_public_pem: str = field(repr=False)
    # Both private keys (PKCS#8 PEM blocks): the value of BADGEKILN_PRIVATE_KEYS.
    private_pem: str = field(repr=False)
    search_rounds: int  # Miller-Rabin rounds the RSA prime search ran: its cost, a modular exponentiation each

    def records(self) -> dict[str, str]:
        """``site_src/keys/<kid>.yaml`` → its text, as ``badgekiln keys generate`` writes it."""
        return {
            f"{self.rsa_kid}.yaml": _record_text("RS256", self.rsa_public_pem),
            f"{self.ed25519_kid}.yaml": _record_text("Ed25519", self.ed25519_public_pem),
        }

    def install(self, site: Path) -> None:
        """Write the public records into ``site``'s ``site_src/keys/`` (a copy, never the repository)."""
        folder = site / "site_src" / "keys"
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in self.records().items():
            (folder / name).write_text(text, encoding="utf-8")


def _record_text(algorithm: str, public_pem: str) -> str:
    lines = [
        "# A PUBLIC key of this site: safe to commit. The private key is kept outside the repository.",
        "# TEST KEY derived from a public seed (tests/support/fixed_keys.py): NEVER USE FOR REAL.",
        f"algorithm: {algorithm}",
        f"created: {CREATED}",
        "status: active",
        "public_key: |",
    ]
    lines.extend("  " + line for line in public_pem.strip().splitlines())
    return "\n".join(lines) + "\n"


def fixed_keys() -> FixedKeys:
    """Derive the fixed keys (about a second, most of it the RSA prime search)."""
    (rsa_key, rounds), ed_key = derive_rsa(), derive_ed25519()
    return FixedKeys(
        rsa_kid=_kid("rsa", rsa_key),
        rsa_public_pem=_public_pem(rsa_key),
        ed25519_kid=_kid("ed25519", ed_key),
        ed25519_public_pem=_public_pem(ed_key),
        private_pem=_private_pem(rsa_key) + _private_pem(ed_key),
        search_rounds=rounds,
    )
