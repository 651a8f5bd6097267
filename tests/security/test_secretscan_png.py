"""The output scan skips a PNG's pixels, never its text (docs/security.md, "The output scan").

A PNG made only of IHDR, PLTE, IDAT, tRNS and IEND chunks (a share card) holds numbers, not text,
so the scan does not read it; every other chunk (a baked assertion, a text chunk, a chunk unknown
here) is read, compressed text inflated first, and a PNG that is not whole chunks from IHDR to
IEND is read whole. Each test below puts a secret where a reader of the file would find it and
checks that the build refuses to publish it.
"""

from __future__ import annotations

import json
import struct
import zlib
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from badgekiln.engine.site import SitePlan
from badgekiln.errors import OutputError
from badgekiln.formats import baking
from badgekiln.pages import sharecard
from badgekiln.signing.keys import key_secrets
from badgekiln.signing.secretscan import Secret, readable_parts

ED_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(40, 72)))
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PASSWORD = "c0rrect-H0rse&battery"
SECRETS = (
    *key_secrets(ED_KEY, "private key ed"),
    *key_secrets(RSA_KEY, "private key rsa"),
    Secret("$BADGEKILN_SMTP_PASSWORD", PASSWORD.encode()),
)
D = RSA_KEY.private_numbers().d
RSA_D_HEX = D.to_bytes((D.bit_length() + 7) // 8, "big").hex().upper().encode()
SEED = ED_KEY.private_bytes_raw()


@pytest.fixture(scope="module")
def card() -> bytes:
    base = sharecard.badge_base(
        badge_name="Pipefitting",
        issuer="Northwind Training",
        host="badges.example.org",
        accent="#1f5f8b",
        artwork=None,
        is_svg=False,
    )
    return sharecard.award_card(base, earner="Jane Doe", issued_on=date(2026, 3, 1), status="valid")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _with_chunk(png: bytes, chunk: bytes, *, before: bytes = b"IEND") -> bytes:
    """``png`` with ``chunk`` inserted before its first chunk of type ``before``."""
    at = png.index(before) - 4
    return png[:at] + chunk + png[at:]


def _refused(path: str, content: bytes) -> str:
    plan = SitePlan(secrets=SECRETS)
    plan.add(path, content)
    with pytest.raises(OutputError) as caught:
        plan.check_no_secrets()
    return str(caught.value)


def test_a_card_is_pixels_only_and_is_published(card):
    assert readable_parts(card) == []
    plan = SitePlan(secrets=SECRETS)
    plan.add("awards/x/share.png", card)
    plan.check_no_secrets()


# (the chunk that carries the secret, the label the scan must name)
CARRIERS = {
    "text-chunk-hex": (_chunk(b"tEXt", b"Comment\0" + RSA_D_HEX), "private key rsa"),
    "text-chunk-pem-marker": (_chunk(b"tEXt", b"Comment\0-----BEGIN PRIVATE KEY-----"), "private key"),
    "itxt-json-escaped": (
        _chunk(
            b"iTXt", b"openbadges\0\0\0\0\0" + json.dumps({"x": "".join(f"\\u{ord(c):04x}" for c in PASSWORD)}).encode()
        ),
        "SMTP",
    ),
    "itxt-compressed": (
        _chunk(b"iTXt", b"Comment\0\1\0en\0\0" + zlib.compress(RSA_D_HEX.lower())),
        "private key rsa",
    ),
    "ztxt": (_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(PASSWORD[::-1].encode())), "SMTP"),
    "unknown-chunk-raw-seed": (_chunk(b"sKey", b"\0" * 7 + SEED + b"\0" * 7), "private key ed"),
}


@pytest.mark.parametrize("carrier", CARRIERS)
def test_a_secret_in_any_chunk_but_the_pixels_is_found(card, carrier):
    chunk, label = CARRIERS[carrier]
    assert label in _refused("awards/x/share.png", _with_chunk(card, chunk))
    assert label in _refused("awards/x/share.png", _with_chunk(card, chunk, before=b"IDAT"))


def test_a_baked_image_is_still_read(card):
    baked = baking.bake_png(card, json.dumps({"recipient": PASSWORD}))
    assert readable_parts(baked) != []
    assert "SMTP" in _refused("awards/x/badge.png", baked)


@pytest.mark.parametrize(
    "damage",
    ["after-iend", "cut-short", "no-iend", "chunk-before-ihdr", "two-ihdr", "length-past-the-end"],
)
def test_a_png_that_is_not_whole_chunks_is_read_whole(card, damage):
    secret = b"tEXtComment\0" + RSA_D_HEX
    ihdr_end = 8 + 25
    damaged = {
        "after-iend": card + secret,
        "cut-short": _with_chunk(card, _chunk(b"tEXt", secret))[:-20],
        "no-iend": card[:-12] + secret,
        "chunk-before-ihdr": card[:8] + _chunk(b"IDAT", secret) + card[8:],
        "two-ihdr": card[:ihdr_end] + _chunk(b"IHDR", secret) + card[ihdr_end:],
        "length-past-the-end": card[:ihdr_end] + struct.pack(">I", 1 << 30) + b"IDAT" + secret + card[ihdr_end:],
    }[damage]
    assert readable_parts(damaged) == [damaged]
    assert "private key rsa" in _refused("awards/x/share.png", damaged)


def _replace_chunk(png: bytes, kind: bytes, data: bytes) -> bytes:
    """``png`` with its (first) chunk of type ``kind`` holding ``data`` instead."""
    at = png.index(kind) - 4
    (length,) = struct.unpack_from(">I", png, at)
    return png[:at] + _chunk(kind, data) + png[at + 12 + length :]


@pytest.mark.parametrize(
    "kind, make",
    [
        ("IEND", lambda card, text: _replace_chunk(card, b"IEND", text)),  # IEND holds nothing
        ("IHDR", lambda card, text: _replace_chunk(card, b"IHDR", card[16:29] + text)),  # 13 bytes, not more
        ("PLTE", lambda card, text: _replace_chunk(card, b"PLTE", text + b"x" * (3 - len(text) % 3 + 1))),
        ("tRNS", lambda card, text: _with_chunk(card, _chunk(b"tRNS", text * 20))),  # at most 256
    ],
)
def test_a_pixel_chunk_of_a_length_its_kind_cannot_have_is_read(card, kind, make):
    assert "SMTP" in _refused("awards/x/share.png", make(card, PASSWORD.encode()))


def test_compressed_text_is_inflated_within_one_budget_per_file(card):
    """Many small chunks that inflate to 64 MB each (a "zip bomb" from a pull request's artwork)
    cost at most MAX_INFLATED bytes of text in all; a secret in the first ones is still found."""
    from badgekiln.signing import secretscan

    bomb = zlib.compress(b"\0" * (64 * 1024 * 1024), 9)
    chunks = b"".join(_chunk(b"zTXt", b"k\0\0" + bomb) for _ in range(12))
    parts = readable_parts(_with_chunk(card, chunks))
    inflated = sum(len(p) for p in parts) - 12 * (3 + len(bomb))
    assert 0 < inflated <= secretscan.MAX_INFLATED
    hidden = _chunk(b"zTXt", b"k\0\0" + zlib.compress(PASSWORD.encode() * 3))
    assert "SMTP" in _refused("awards/x/share.png", _with_chunk(card, hidden + chunks))
