"""SVG to PNG: badge artwork for the places that take no SVG, and the share cards' drawing.

The renderer is resvg (through its Python binding ``resvg-py``, wheels for Linux, macOS and
Windows with nothing else to install): a complete SVG 1.1 renderer with its own text engine
(HarfBuzz's Rust port for shaping, the Unicode bidirectional algorithm, per-character font
fallback). It is given only the fonts bundled in ``badgekiln/data/fonts`` and never the
machine's, so the same SVG gives the same PNG bytes on every machine with the same resvg.

resvg reads files an SVG refers to (``<image href="…">``, relative to a folder or absolute), so
:func:`rasterise` refuses an SVG that refers to anything but itself (``#id``) or an embedded
``data:`` image: artwork from a pull request must not be able to copy a file of the building
machine into a published PNG.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from importlib import resources
from pathlib import Path
from xml.parsers import expat

import resvg_py  # type: ignore[import-untyped]

from badgekiln.errors import BakeError

__all__ = [
    "FONT_FILES",
    "MAX_RASTER_SIDE",
    "SCRIPTS",
    "font_dir",
    "rasterise",
    "svg_references",
    "draws_nothing",
    "font_characters",
    "undrawn",
    "undrawn_said",
]

#: The scripts whose Noto Sans Bold is bundled whole (scripts/build-fonts.py makes them).
SCRIPTS = (
    "Bengali",
    "Tamil",
    "Telugu",
    "Kannada",
    "Malayalam",
    "Gujarati",
    "Gurmukhi",
    "Oriya",
    "Sinhala",
    "Thai",
    "Lao",
    "Khmer",
    "Myanmar",
    "Georgian",
    "Armenian",
    "Ethiopic",
)
#: The bundled fonts, by file name (see data/fonts/README.md for where each comes from).
FONT_FILES = (
    "NotoSans-Regular.ttf",
    "NotoSans-Bold.ttf",
    "NotoSansArabic-Bold.ttf",
    "NotoSansHebrew-Bold.ttf",
    "NotoSansDevanagari-Bold.ttf",
    *(f"NotoSans{script}-Bold.ttf" for script in SCRIPTS),
    "NotoSansCJKjp-Bold.otf",
    "NotoEmoji-SemiBold.ttf",
)
MAX_RASTER_SIDE = 2048  # pixels: artwork is shown at a few hundred

_LOCAL = re.compile(r"\s*(#|data:image/(png|jpeg|gif|webp)[;,])", re.IGNORECASE)
_URL_FUNCTION = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)


@functools.cache
def font_dir() -> Path:
    """The folder of the bundled fonts."""
    return Path(str(resources.files("badgekiln") / "data" / "fonts"))


@functools.cache
def font_characters(name: str) -> frozenset[int]:
    """The characters the bundled font ``name`` has: those of its best character map, as HarfBuzz
    reads it (fontTools' ``getBestCmap`` gives the same for every bundled font, in 10 to 70 times
    the time: tests/test_sharecards.py compares them). The file is mapped, not copied."""
    import uharfbuzz as hb

    return frozenset(hb.Face(hb.Blob.from_file_path(str(font_dir() / name))).unicodes)


def draws_nothing(char: str) -> bool:
    """Characters that draw nothing by themselves: joiners, variation selectors, marks of
    direction, tags (they travel with the character before them)."""
    code = ord(char)
    return (
        code in (0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0x034F)
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0020 <= code <= 0xE007F
        or 0xE0100 <= code <= 0xE01EF
        or 0x202A <= code <= 0x202E
        or 0x2066 <= code <= 0x2069
    )


@functools.cache
def _drawn() -> frozenset[int]:
    """Every character some bundled font has (about 0.04 s for all of them)."""
    return frozenset().union(*(font_characters(name) for name in FONT_FILES))


def undrawn(text: str) -> list[str]:
    """The characters of ``text`` that no bundled font draws, each once, in order: a share card
    (:func:`badgekiln.pages.sharecard.coverage`) shows a box for each. Spaces, control characters
    and characters that draw nothing by themselves (:func:`draws_nothing`) are not counted."""
    if text.isascii():
        return []
    found: list[str] = []
    for char in text:
        if char in found or char.isspace() or draws_nothing(char) or unicodedata.category(char) == "Cc":
            continue
        if ord(char) not in _drawn():
            found.append(char)
    return found


def undrawn_said(chars: list[str]) -> str:
    """``ཀ (U+0F40 TIBETAN LETTER KA), …``: characters as a message names them (at most three)."""
    named = [f"{char} (U+{ord(char):04X} {unicodedata.name(char, 'unnamed')})" for char in chars[:3]]
    return ", ".join(named) + (f" and {len(chars) - 3} more" if len(chars) > 3 else "")


def svg_references(svg: bytes) -> list[str]:
    """Every reference in ``svg`` (``href`` attributes and ``url(…)`` in attributes) to
    something other than a fragment of itself or an embedded image: what resvg would read
    from the disk. An SVG that does not parse is one reference (``"(unparsable)"``)."""
    found: list[str] = []

    def start(_name: str, attributes: dict[str, str]) -> None:
        for attribute, value in attributes.items():
            local = attribute.rsplit(" ", 1)[-1].rsplit(":", 1)[-1]
            if local == "href" and value.strip() and not _LOCAL.match(value):
                found.append(value)
            for match in _URL_FUNCTION.finditer(value):
                if not _LOCAL.match(match.group(2)):
                    found.append(match.group(2))

    def text(data: str) -> None:  # <style> sheets
        for match in _URL_FUNCTION.finditer(data):
            if not _LOCAL.match(match.group(2)):
                found.append(match.group(2))

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = lambda *_: found.append("(DOCTYPE)")
    try:
        parser.Parse(svg, True)
    except expat.ExpatError:
        return ["(unparsable)"]
    return found


def rasterise(svg: bytes, *, width: int, height: int | None = None) -> bytes:
    """Draw ``svg`` as a PNG ``width`` pixels wide (and ``height`` high, or as its aspect ratio
    says), with the bundled fonts only.

    Raises:
        BakeError: the SVG refers to another file, or resvg cannot draw it.
    """
    if not 1 <= width <= MAX_RASTER_SIDE or (height is not None and not 1 <= height <= MAX_RASTER_SIDE):
        raise ValueError(f"raster size out of range: {width}x{height}")
    outside = svg_references(svg)
    if outside:
        raise BakeError(
            f"the SVG refers to {outside[0]!r}: to make a PNG of it, artwork must be self-contained "
            "(embed images as data: URLs, keep references to #ids inside the file)"
        )
    return draw(svg.decode("utf-8", errors="replace"), width=width, height=height)


def draw(svg: str, *, width: int, height: int | None = None, fonts: tuple[str, ...] = FONT_FILES) -> bytes:
    """resvg on SVG text that badgekiln wrote itself (no reference check), with ``fonts`` (names
    from :data:`FONT_FILES`): loading fewer fonts makes a drawing faster."""
    try:
        png: bytes = resvg_py.svg_to_bytes(
            svg_string=svg,
            width=width,
            height=height,
            skip_system_fonts=True,
            font_files=[str(font_dir() / name) for name in fonts],
            font_family="Noto Sans",
            sans_serif_family="Noto Sans",
            serif_family="Noto Sans",
        )
    except ValueError as e:
        raise BakeError(f"cannot draw the SVG: {e}") from e
    except BaseException as e:  # a panic in resvg arrives as pyo3's PanicException (a BaseException)
        if not type(e).__name__ == "PanicException":
            raise
        raise BakeError(f"resvg failed on the SVG: {e}") from None
    return png
