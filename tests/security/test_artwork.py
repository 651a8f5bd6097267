"""Hostile artwork: malformed PNGs and SVGs and ones carrying someone else's credential.

Artwork comes from pull requests, and baked badges given to ``verify`` come from strangers. Each
class of malformed image must end in a located error naming the badge YAML line that refers to
it, never a traceback; a fuzz target then mutates the example site's real artwork and feeds it to
every reader (validation, baking, stripping, unbaking, ``verify``), which must each give a clean
result or a :class:`~badgekiln.errors.BadgekilnError`.
"""

from __future__ import annotations

import struct
import tempfile
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import MINIMAL, REPO, write_site
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from badgekiln.errors import BakeError, Diagnostic, SourceLocation, ValidationFailed
from badgekiln.formats import baking
from badgekiln.formats.svgsafety import find_active_content
from badgekiln.sources import validate
from badgekiln.verifying.common import VerifyOptions
from badgekiln.verifying.detect import verify_bytes
from badgekiln.verifying.fetching import FetchError

EXAMPLE_PNG = (REPO / "site_src" / "assets" / "badges" / "first-aid-at-work.png").read_bytes()
EXAMPLE_SVG = (REPO / "site_src" / "assets" / "badges" / "pipefitting-mji10.svg").read_bytes()
BADGE_YAML = "badges/first-badge.yaml"
IMAGE_LINE = 3  # "image: ..." in MINIMAL's badge


def chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


def with_ihdr(width: int, height: int) -> bytes:
    return EXAMPLE_PNG[:8] + chunk(b"IHDR", struct.pack(">II", width, height) + EXAMPLE_PNG[24:29]) + EXAMPLE_PNG[33:]


def site_with_png(root: Path, image: bytes) -> Path:
    files = dict(MINIMAL)
    files["badges/first-badge.yaml"] = MINIMAL["badges/first-badge.yaml"].replace(
        "assets/badge.svg", "assets/badge.png"
    )
    files["site_src/assets/badge.png"] = image
    del files["site_src/assets/badge.svg"]
    return write_site(root, files)


# One per class of malformed PNG artwork.
BAD_PNGS = {
    "truncated": (EXAMPLE_PNG[: len(EXAMPLE_PNG) // 2], "truncated PNG"),
    "bad CRC": (EXAMPLE_PNG[:100] + bytes([EXAMPLE_PNG[100] ^ 0xFF]) + EXAMPLE_PNG[101:], "bad CRC"),
    "huge declared length": (EXAMPLE_PNG[:33] + b"\x7f\xff\xff\xffIDAT" + EXAMPLE_PNG[41:], "declares 2147483647"),
    "chunk after IEND": (EXAMPLE_PNG + chunk(b"tEXt", b"Comment\x00late"), "after the IEND"),
    "zero width": (with_ihdr(0, 400), "neither side may be 0"),
    "over the size cap": (with_ihdr(20000, 20000), "at most 4096x4096"),
    "not a PNG at all": (b"GIF89a" + EXAMPLE_PNG[6:], "not a PNG"),
}


@pytest.mark.parametrize("image, says", BAD_PNGS.values(), ids=BAD_PNGS.keys())
def test_malformed_png_artwork_is_refused_at_the_yaml_line(tmp_path, image, says):
    site = site_with_png(tmp_path / "site", image)
    with pytest.raises(ValidationFailed) as caught:
        validate.load_project(site)
    errors = [d for d in caught.value.items if d.is_error]
    assert [(d.code, d.location.path, d.location.line) for d in errors] == [("bad-image", BADGE_YAML, IMAGE_LINE)]
    assert says in errors[0].message and "assets/badge.png" in errors[0].message


def test_malformed_png_gives_no_traceback_on_the_command_line(tmp_path, run):
    site = site_with_png(tmp_path / "site", BAD_PNGS["huge declared length"][0])
    result = run("check", "--source", str(site))
    assert result.code != 0
    assert "Traceback" not in result.out + result.err
    assert f"{BADGE_YAML}:{IMAGE_LINE}:" in result.err and "error[bad-image]" in result.err


def test_good_png_artwork_passes(tmp_path):
    validate.load_project(site_with_png(tmp_path / "site", EXAMPLE_PNG))


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_artwork_carrying_a_credential_is_refused(tmp_path, kind):
    # Baking would drop it, but the artwork is also published as-is under assets/.
    if kind == "png":
        site = site_with_png(tmp_path / "site", baking.bake_png(EXAMPLE_PNG, '{"id": "https://evil.example/a"}'))
    else:
        foreign = baking.bake_svg(EXAMPLE_SVG, verify="https://evil.example/a.json")
        site = write_site(tmp_path / "site", {**MINIMAL, "site_src/assets/badge.svg": foreign})
    with pytest.raises(ValidationFailed) as caught:
        validate.load_project(site)
    errors = [d for d in caught.value.items if d.is_error]
    assert [(d.code, d.location.path, d.location.line) for d in errors] == [("baked-image", BADGE_YAML, IMAGE_LINE)]


# --- fuzz: mutated real artwork into every reader ------------------------------------------------

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def _no_network(url: str) -> bytes:
    raise FetchError(f"the fuzz test fetches nothing ({url})")


OPTIONS = VerifyOptions(fetch=_no_network, now=NOW, clock=NOW)


def _png_chunks(image: bytes) -> list[tuple[bytes, bytes]]:
    pos, found = 8, []
    while pos < len(image):
        (length,) = struct.unpack_from(">I", image, pos)
        found.append((image[pos + 4 : pos + 8], image[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return found


EXAMPLE_CHUNKS = _png_chunks(EXAMPLE_PNG)
_KEYWORDS = st.sampled_from([b"openbadges", b"openbadgecredential", b"OpenBadges", b" openbadges", b"Comment"])
_PAYLOADS = st.sampled_from(
    [
        b"",
        b"{}",
        b'{"id": "https://evil.example/a"}',
        b"eyJ.eyJ.sig",
        b"\xff\xfe",
        b"https://127.0.0.1/a.json",
        b"{" * 300,
    ]
)


@st.composite
def mutated_pngs(draw) -> bytes:
    """The example PNG, changed at the byte level or (with CRCs fixed) at the chunk level."""
    how = draw(st.sampled_from(["flip", "truncate", "insert", "length", "chunks", "chunks", "chunks", "chunks"]))
    image = EXAMPLE_PNG
    if how == "flip":
        data = bytearray(image)
        for _ in range(draw(st.integers(1, 6))):
            data[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
        return bytes(data)
    if how == "truncate":
        return image[: draw(st.integers(0, len(image) - 1))]
    if how == "insert":
        at = draw(st.integers(0, len(image)))
        return image[:at] + draw(st.binary(min_size=1, max_size=40)) + image[at:]
    if how == "length":  # a lying length field on one chunk
        chunks, pos = [], 8
        for _ctype, data in EXAMPLE_CHUNKS:
            chunks.append(pos)
            pos += 12 + len(data)
        at = draw(st.sampled_from(chunks))
        value = (
            draw(st.sampled_from([0, 1, 13, 2**31 - 1, 2**31, 2**32 - 1]))
            if draw(st.booleans())
            else draw(st.integers(0, 2**32 - 1))
        )
        return image[:at] + struct.pack(">I", value) + image[at + 4 :]
    chunks = list(EXAMPLE_CHUNKS)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["drop", "duplicate", "swap", "rewrite", "ihdr", "text", "after-iend"]))
        i = draw(st.integers(0, len(chunks) - 1))
        if op == "drop" and len(chunks) > 1:
            del chunks[i]
        elif op == "duplicate":
            chunks.insert(i, chunks[i])
        elif op == "swap":
            j = draw(st.integers(0, len(chunks) - 1))
            chunks[i], chunks[j] = chunks[j], chunks[i]
        elif op == "rewrite":
            chunks[i] = (
                draw(st.sampled_from([chunks[i][0], b"IDAT", b"PLTE", b"CRIT", b"iTXt", b"zTXt"])),
                draw(st.binary(max_size=64)),
            )
        elif op == "ihdr":
            fields = struct.pack(
                ">IIBBBBB",
                draw(st.sampled_from([0, 1, 400, 4096, 4097, 2**31 - 1, 2**32 - 1])),
                draw(st.sampled_from([0, 1, 400, 4097])),
                draw(st.sampled_from([1, 4, 8, 16, 3])),
                draw(st.sampled_from([0, 2, 3, 4, 6, 7])),
                draw(st.integers(0, 1)),
                draw(st.integers(0, 1)),
                draw(st.integers(0, 2)),
            )
            chunks[0] = (b"IHDR", fields)
        elif op in ("text", "after-iend"):
            ctype = draw(st.sampled_from([b"iTXt", b"tEXt", b"zTXt"]))
            body = draw(_PAYLOADS)
            if ctype == b"iTXt":
                compressed = draw(st.booleans())
                body = (b"\x01\x00\x00\x00" + zlib.compress(body)) if compressed else b"\x00\x00\x00\x00" + body
            elif ctype == b"zTXt":
                body = b"\x00" + zlib.compress(body)
            new = (ctype, draw(_KEYWORDS) + b"\x00" + body)
            chunks.insert(len(chunks) if op == "after-iend" else draw(st.integers(1, len(chunks))), new)
    return EXAMPLE_PNG[:8] + b"".join(chunk(t, d) for t, d in chunks)


_SVG_PIECES = st.sampled_from(
    [
        "<openbadges:assertion verify='https://127.0.0.1/a'/>",
        "<ob:credential xmlns:ob='https://purl.imsglobal.org/ob/v3p0'><![CDATA[{\"a\": 1}]]></ob:credential>",
        " xmlns:openbadges='http://openbadges.org'",
        " xmlns:openbadges='urn:x'",
        "<g xmlns:o='http://openbadges.org/' o:verify='x'>",
        "</g>",
        "<g>",
        "<rect/>",
        "<![CDATA[",
        "]]>",
        "&#x6a;",
        "&amp;",
        "&bogus;",
        "<!DOCTYPE svg>",
        "<style>",
        "</style>",
        "u\\72l(",
        "/*",
        "*/",
        "@import",
        "'",
        '"',
        "<",
        ">",
        "\x00",
        "é",
        "<script>",
        "</script>",
        "<!--",
        "-->",
        "<?xml version='1.0'?>",
    ]
)


@st.composite
def mutated_svgs(draw) -> bytes:
    """The example SVG with pieces of markup spliced in, or bytes flipped, or cut."""
    svg = EXAMPLE_SVG
    how = draw(st.sampled_from(["splice", "splice", "flip", "truncate"]))
    if how == "truncate":
        return svg[: draw(st.integers(0, len(svg) - 1))]
    if how == "flip":
        data = bytearray(svg)
        for _ in range(draw(st.integers(1, 4))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(svg)))
        svg = svg[:at] + draw(_SVG_PIECES).encode("utf-8", "surrogatepass") + svg[at:]
    return svg


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "site_src" / "assets").mkdir(parents=True)
        yield Path(folder)


def _validation_diagnostics(scratch: Path, image: bytes, suffix: str) -> list[Diagnostic]:
    rel = f"assets/fuzz{suffix}"
    (scratch / "site_src" / rel).write_bytes(image)
    diagnostics: list[Diagnostic] = []
    validate._check_image(scratch, rel, SourceLocation(BADGE_YAML, IMAGE_LINE, 8), diagnostics)
    assert all(d.location == SourceLocation(BADGE_YAML, IMAGE_LINE, 8) and rel in d.message for d in diagnostics)
    return diagnostics


def _clean(reader, image):
    """What ``reader`` returns for ``image``, or None when it raised BakeError (with a message)."""
    try:
        return reader(image)
    except BakeError as e:
        assert str(e)
        return None


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_pngs())
def test_fuzz_png_readers(scratch, image):
    accepted = not _validation_diagnostics(scratch, image, ".png")
    event(f"validation {'accepts' if accepted else 'refuses'}")
    _clean(baking.strip_png, image)
    _clean(baking.unbake_png, image)
    _clean(lambda i: baking.unbake_png(i, keyword="openbadgecredential"), image)
    assert not verify_bytes(image, OPTIONS).valid  # it ran to a verdict; nothing is fetched or trusted
    baked = _clean(lambda i: baking.bake_png(i, "ours", keyword="openbadgecredential"), image)
    event(f"bakes: {baked is not None}")
    assert (baked is not None) or not accepted  # what validation accepts, the build can bake
    if baked is not None:  # and ours is the only Open Badges chunk left, in any spelling
        assert baking.unbake_png(baked, keyword="openbadgecredential") == "ours"
        assert baking.strip_png(baked) == baking.strip_png(image)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_svgs())
def test_fuzz_svg_readers(scratch, svg):
    accepted = not _validation_diagnostics(scratch, svg, ".svg")
    event(f"validation {'accepts' if accepted else 'refuses'}")
    assert isinstance(find_active_content(svg), list)
    _clean(baking.strip_svg, svg)
    _clean(baking.unbake_svg, svg)
    assert not verify_bytes(svg, OPTIONS).valid
    baked = _clean(lambda i: baking.bake_svg(i, assertion_json="{}", version=3), svg)
    event(f"bakes: {baked is not None}")
    assert (baked is not None) or not accepted
    if baked is not None:  # ours is the only Open Badges element, attribute or declaration left
        assert baking.unbake_svg(baked) == {"version": 3, "verify": None, "body": "{}"}
        plan = baking._svg_edit_plan(baked)
        assert len(plan.ob_spans) == 1 and not plan.tag_edits and plan.root_drop <= {b"xmlns:openbadges"}
    if accepted:
        assert find_active_content(baked) == []
