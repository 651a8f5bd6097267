"""Permanent award ids and recipient salts.

An award without an ``id`` in its YAML gets one derived from what identifies it (the earner's
normalised email, the badge, the issue date and its rank among equal awards). The derivation is
deterministic, so two builds of the same sources agree; ``badgekiln build`` then writes the id
into the recipient file (see :mod:`badgekiln.sources.records`) so that later corrections keep it.
"""

from __future__ import annotations

import dataclasses
import hashlib

from badgekiln.models import Award

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case: no i, l, o, u
ID_LENGTH = 10  # characters: 50 bits


def _base32(digest: bytes, length: int) -> str:
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        number, rest = divmod(number, 32)
        chars.append(ALPHABET[rest])
    return "".join(chars)


def derive_award_id(email: str, badge: str, issued_on: str, rank: int) -> str:
    """A stable 10-character id for an award that has none in its YAML."""
    material = "\0".join(["badgekiln-award-id-v1", email, badge, issued_on, str(rank)])
    return _base32(hashlib.sha256(material.encode("utf-8")).digest(), ID_LENGTH)


def assign_missing(awards: list[Award], email: str) -> list[Award]:
    """Give every award without an id a derived one, avoiding the ids already present."""
    taken = {a.id for a in awards if a.id}
    ranks: dict[tuple[str, str], int] = {}
    result = []
    for award in awards:
        if award.id:
            result.append(award)
            continue
        key = (award.badge, award.issued_on.isoformat())
        rank = ranks.get(key, 0)
        new_id = derive_award_id(email, award.badge, award.issued_on.isoformat(), rank)
        while new_id in taken:
            rank += 1
            new_id = derive_award_id(email, award.badge, award.issued_on.isoformat(), rank)
        ranks[key] = rank + 1
        taken.add(new_id)
        result.append(dataclasses.replace(award, id=new_id, id_pinned=False))
    return result


def award_salt(award_id: str) -> str:
    """The salt of an award's recipient hash: 128 bits, unique per award, stable across builds."""
    return hashlib.sha256(f"badgekiln-salt-v1\0{award_id}".encode()).hexdigest()[:32]


def identity_hash(email: str, salt: str) -> str:
    """Open Badges identity hash: ``sha256$`` + hex(sha256(email + salt))."""
    return "sha256$" + hashlib.sha256((email + salt).encode("utf-8")).hexdigest()
