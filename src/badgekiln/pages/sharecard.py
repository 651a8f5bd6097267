"""Share cards: the 1200x630 PNG that a post on LinkedIn, Mastodon or a chat shows for a page.

A card is drawn in two layers, so that one card per award stays cheap:

* the **base** (once per badge class, or once for the home page): background, accent bar, the
  issuer and the badge's name, drawn by resvg from an SVG that badgekiln writes, and the artwork
  (drawn at the size it is shown) laid on by Pillow; it is mapped once to an indexed image with
  a fixed palette (:class:`CardBase`), whose rows above :data:`SPLIT` are compressed once;
* the **award's text** (the earner's name, the issue date), set from coverage masks of glyphs
  drawn once, in grey on a greyscale copy of the text column and mapped to the palette's greys,
  and, when the award is no longer valid, a coloured band with the status word (drawn once per
  status): only the runs of middle rows the text is on are compressed for each award
  (:data:`RUN_ROWS`), the other runs are the base's, compressed once.

Text goes through resvg's text engine with the fonts bundled in ``badgekiln/data/fonts`` only
(never the machine's): Noto Sans (Latin, Greek, Cyrillic), Noto Sans Arabic, Hebrew and
Devanagari, Noto Sans CJK (the characters of GB 2312, JIS X 0208, Big5 level 1 and KS X 1001)
and Noto Emoji. :func:`coverage` says which font draws each character (the automated check that
no name shows a missing-glyph box uses it); lines are wrapped at spaces (and between CJK
characters) by measured advance widths and cut with an ellipsis, deterministically.

The PNG is written here, not by a library: an indexed PNG, one ``IHDR``, one ``PLTE``, one
``IDAT`` (filter type 0 on every row), ``IEND``; no time, no text chunks, so the same inputs
give the same bytes.
"""

from __future__ import annotations

import base64
import functools
import io
import math
import struct
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import uharfbuzz as hb  # type: ignore[import-untyped]
from fontTools.pens.boundsPen import BoundsPen  # type: ignore[import-untyped]
from fontTools.pens.svgPathPen import SVGPathPen  # type: ignore[import-untyped]
from PIL import Image

from badgekiln.formats import raster
from badgekiln.pages.render import clipped

__all__ = [
    "HEIGHT",
    "WIDTH",
    "CardBase",
    "award_card",
    "badge_base",
    "badge_card",
    "card_alt",
    "home_card_alt",
    "coverage",
    "fit_lines",
    "home_card",
]

DEFAULT_LANGUAGE = "en"  # the language text is shaped in (site.yaml's default; see _shaped)
WIDTH, HEIGHT = 1200, 630  # the size Open Graph consumers crop least (1.91:1)
SPLIT = 300  # rows above this are the same for every award of a badge class
# The rows compressed for each card: runs only (zlib's Z_RLE: matches at distance 1, no hash
# chains), about 0.5 ms less than level 3 over the middle rows for 1-2 KB more (issue 15; the
# rows without text are now the base's, at level 6, which more than makes up for it).
ZLIB_STRATEGY = zlib.Z_RLE
SHARED_LEVEL = 6  # the rows compressed once per badge class (or status)
ACCENT_ROWS = 14  # the accent bar at the top
TEXT_LEFT = 440  # an award's text is drawn on the columns from here (right of the artwork)
# Palette slots: greys for text (every text colour exactly, a ramp between for antialiasing),
# the accent colour, the artwork's colours and a status band's colours.
_GREYS = tuple(sorted({round(i * 255 / 58) for i in range(59)} | {0x11, 0x33, 0x55, 0x6B, 0xFF}))


def _nearest_grey(value: int) -> int:
    """The slot of the grey nearest ``value`` (the lower one on a tie)."""
    return min(range(len(_GREYS)), key=lambda i: (abs(_GREYS[i] - value), i))


_GREY_LUT = [_nearest_grey(v) for v in range(256)]
_BAND_SLOTS = 32
_ART_SLOTS = 256 - len(_GREYS) - 1 - _BAND_SLOTS
BAND_TOP = 540  # the status band: rows BAND_TOP..HEIGHT
MIDDLE_ROWS = BAND_TOP - SPLIT  # the rows an award's text is on
RUN_ROWS = 8  # the middle rows are compressed in runs: only those an award's text is on, for each card
MAX_CLEAN_RUNS = 64  # runs of a base's own middle rows kept compressed (a few KB each)
TEXT_X, TEXT_WIDTH = 480, 660  # the text column
ART_BOX = (70, 110, 360)  # x, y, side of the artwork's square
STATUS_COLOURS = {"revoked": "#b3261e", "suspended": "#a14f00", "expired": "#5f6368"}
STATUS_WORDS = {"revoked": "REVOKED", "suspended": "SUSPENDED", "expired": "EXPIRED"}
HIDDEN_EARNER = "A verified earner"  # what pages say of an earner with show_name: false
NAME_SIZES = (
    (50, 62),
    (42, 52),
    (34, 42),
)  # an earner's name: (pixels, line step), the first that holds it on two lines
ALT_SIZE = 300  # characters: og:image:alt is read out by screen readers; a sentence
MONTHS = ("January February March April May June July August September October November December").split()

# Fonts in the order a character looks for one (regular text starts with Noto Sans Regular).
_FALLBACK = tuple(name for name in raster.FONT_FILES if not name.startswith("NotoSans-"))
_ORDER = {True: ("NotoSans-Bold.ttf", *_FALLBACK), False: ("NotoSans-Regular.ttf", *_FALLBACK)}
_ELLIPSIS = "…"
_EMOJI = "NotoEmoji-SemiBold.ttf"


# The characters each bundled font has, and those that draw nothing by themselves: in
# formats/raster.py, which validation reads too (warning[font-coverage] names a name's boxes).
_cmap = raster.font_characters
_ignorable = raster.draws_nothing


def coverage(text: str, *, bold: bool = True) -> list[tuple[str, str | None]]:
    """Each character of ``text`` with the bundled font that draws it (``None``: none has it).

    A character takes the font of the one before it when that font has it (a combining mark,
    an emoji modifier), so that a cluster stays in one font; joiners and variation selectors
    (which draw nothing) take the previous character's font."""
    found: list[tuple[str, str | None]] = []
    previous: str | None = None
    for char in text:
        if _ignorable(char):
            found.append((char, previous))
            continue
        if char.isspace():  # a space keeps its run's font when it has one (not the emoji font's: a full em)
            has = previous and previous != _EMOJI and ord(char) in _cmap(previous)
            found.append((char, previous if has else _ORDER[bold][0]))
            continue
        if previous and ord(char) in _cmap(previous) and unicodedata.category(char)[0] in "MS":
            found.append((char, previous))
            continue
        font = next((name for name in _ORDER[bold] if ord(char) in _cmap(name)), None)
        found.append((char, font))
        previous = font or previous
    return found


def fonts_for(text: str, *, bold: bool = True) -> tuple[str, ...]:
    """The bundled fonts that ``text`` needs (in fallback order): resvg loads only these."""
    used = {font for _char, font in coverage(text, bold=bold) if font}
    return tuple(name for name in _ORDER[bold] if name in used) or (_ORDER[bold][0],)


def measure(text: str, size: float, *, bold: bool = True, lang: str = DEFAULT_LANGUAGE) -> float:
    """The width of ``text`` drawn at ``size`` pixels, as HarfBuzz shapes it."""
    return sum(glyph.advance for glyph in _shaped(text, bold, lang)) * size


@dataclass(frozen=True)
class _Glyph:
    font: str
    gid: int
    advance: float  # in ems
    dx: float  # offsets from the pen position, in ems
    dy: float


def load_fonts() -> None:
    """Load every bundled font that drawing text reads: done once before worker processes fork,
    they share them instead of each loading its own."""
    for name in dict.fromkeys((*_ORDER[True], *_ORDER[False])):
        _cmap(name)
        _hb_font(name)


@functools.cache
def _hb_font(name: str) -> hb.Font:
    blob = hb.Blob.from_file_path(str(raster.font_dir() / name))
    return hb.Font(hb.Face(blob))


class _Contours:
    """A fontTools pen given a glyph's outline as HarfBuzz draws it, the way fontTools' own
    drawing of the font would give it: a contour's last line back to its start is left to
    ``closePath`` (HarfBuzz draws it). Glyphs are drawn by HarfBuzz, from the font it has loaded
    anyway, instead of fontTools parsing the outlines' table and naming every glyph (0.09 s
    before the first card of a process: a rebuild's only card); every glyph of every bundled
    font gives the same path and bounds (tests/test_sharecards.py)."""

    def __init__(self, pen: Any):
        self._pen, self._start, self._line = pen, None, None

    def _flush(self) -> None:
        if self._line is not None:
            self._pen.lineTo(self._line)
            self._line = None

    def moveTo(self, point: Any) -> None:  # noqa: N802 - the pen protocol's names
        self._flush()
        self._start = point
        self._pen.moveTo(point)

    def lineTo(self, point: Any) -> None:  # noqa: N802
        self._flush()
        self._line = point

    def curveTo(self, *points: Any) -> None:  # noqa: N802
        self._flush()
        self._pen.curveTo(*points)

    def qCurveTo(self, *points: Any) -> None:  # noqa: N802
        self._flush()
        self._pen.qCurveTo(*points)

    def closePath(self) -> None:  # noqa: N802
        if self._line is not None and self._line != self._start:
            self._pen.lineTo(self._line)
        self._line = None
        self._pen.closePath()

    def endPath(self) -> None:  # noqa: N802
        self._flush()
        self._pen.endPath()


def _draw_glyph(name: str, gid: int, pen: Any) -> None:
    """Draw glyph ``gid`` of bundled font ``name`` into a fontTools ``pen`` (see :class:`_Contours`)."""
    _hb_font(name).draw_glyph_with_pen(gid, _Contours(pen))


@functools.lru_cache(maxsize=65536)
def _outline(name: str, gid: int) -> str:
    """The SVG path of one glyph, in font units, y up."""
    pen = SVGPathPen(None, ntos=lambda v: f"{v:g}" if isinstance(v, int) else f"{round(v, 1):g}")
    _draw_glyph(name, gid, pen)
    return str(pen.getCommands())


def _bidi_levels(text: str) -> list[int]:
    """The embedding level of each character (UAX #9 for a paragraph without explicit embeddings,
    which names are: P2-P3 base level, W1-W7 in short, N1-N2, I1-I2)."""
    base = 1 if _rtl(text) else 0
    kinds = [unicodedata.bidirectional(c) or "L" for c in text]
    strong: list[str] = []
    last = "R" if base else "L"
    for kind in kinds:  # W1-W3, W7: numbers take the direction of the strong text before them
        if kind in ("L", "R", "AL"):
            last = "R" if kind in ("R", "AL") else "L"
            strong.append(last)
        elif kind in ("EN", "AN"):
            strong.append("N" if last == "L" and kind == "EN" else "AN" if kind == "AN" or last == "R" else "N")
        elif kind == "NSM":
            strong.append(strong[-1] if strong else ("R" if base else "L"))
        else:
            strong.append("N")
    resolved = list(strong)
    for index, kind in enumerate(strong):  # N1-N2: neutrals between the same direction take it
        if kind != "N":
            continue
        before = next((k for k in reversed(strong[:index]) if k != "N"), "R" if base else "L")
        after = next((k for k in strong[index + 1 :] if k != "N"), "R" if base else "L")
        norm = {"AN": "R"}
        b, a = norm.get(before, before), norm.get(after, after)
        resolved[index] = b if b == a else ("R" if base else "L")
    levels = []
    for kind in resolved:  # I1-I2
        if base == 0:
            levels.append(1 if kind == "R" else 2 if kind == "AN" else 0)
        else:
            levels.append(2 if kind in ("L", "AN") else 1)
    return levels


@functools.lru_cache(maxsize=4096)
def _shaped(text: str, bold: bool, lang: str) -> tuple[_Glyph, ...]:
    """``text`` shaped and laid out left to right: split into runs of one font and one bidi
    level, each shaped by HarfBuzz in its direction and the language ``lang`` (a BCP 47 tag: the
    site's), the runs put in visual order (UAX #9 L2).

    The language picks a font's local forms (OpenType ``locl``): a Chinese site's cards draw
    Chinese forms of the characters Japanese writes otherwise (骨, 直, 写 in the CJK font). It is
    always given: left unset, HarfBuzz may take the language of the process's locale (its
    documentation says so; the build of uharfbuzz pinned here does not), and the same name would
    draw other glyphs on a machine set to Chinese than on CI."""
    if not text:
        return ()
    fonts = coverage(text, bold=bold)
    levels = _bidi_levels(text)
    runs: list[tuple[int, str, str]] = []  # (level, font, text)
    for (char, font), level in zip(fonts, levels):
        name = font or _ORDER[bold][0]
        if runs and runs[-1][0] == level and runs[-1][1] == name:
            runs[-1] = (level, name, runs[-1][2] + char)
        else:
            runs.append((level, name, char))
    for level in range(max(levels), 0, -1):  # L2: reverse every sequence at this level or higher
        index = 0
        while index < len(runs):
            if runs[index][0] >= level:
                stop = index
                while stop < len(runs) and runs[stop][0] >= level:
                    stop += 1
                runs[index:stop] = runs[index:stop][::-1]
                index = stop
            else:
                index += 1
    glyphs: list[_Glyph] = []
    for level, name, run in runs:
        buffer = hb.Buffer()
        buffer.add_str(run)
        buffer.language = lang  # (before guessing, which would take the locale's)
        buffer.guess_segment_properties()
        buffer.direction = "rtl" if level % 2 else "ltr"
        font = _hb_font(name)
        hb.shape(font, buffer, {})
        em = font.face.upem
        for info, position in zip(buffer.glyph_infos, buffer.glyph_positions):
            glyphs.append(
                _Glyph(name, info.codepoint, position.x_advance / em, position.x_offset / em, position.y_offset / em)
            )
    return tuple(glyphs)


def _paths(text: str, x: float, y: float, size: float, bold: bool, lang: str) -> str:
    """SVG paths drawing ``text`` from ``x`` on the baseline ``y``."""
    parts = []
    pen = 0.0
    for glyph in _shaped(text, bold, lang):
        d = _outline(glyph.font, glyph.gid)
        if d:
            em = _hb_font(glyph.font).face.upem
            k = size / em
            gx, gy = x + (pen + glyph.dx) * size, y - glyph.dy * size
            parts.append(f'<path transform="matrix({k:g} 0 0 {-k:g} {gx:.2f} {gy:.2f})" d="{d}"/>')
        pen += glyph.advance
    return "".join(parts)


_HYPHENS = "-\u2010"  # hyphen-minus, hyphen


def _breaks(text: str) -> list[str]:
    """``text`` cut where a line may break: after spaces, after a hyphen inside a word (a
    double-barrelled surname wraps there: a review), and around CJK characters."""
    pieces: list[str] = []
    current = ""
    for char in text:
        wide = unicodedata.east_asian_width(char) in ("W", "F") and not _is_emoji(char)
        hyphen = len(current) > 1 and current[-1] in _HYPHENS and current[-2].isalpha() and char.isalpha()
        if current and (wide or hyphen or (current[-1] == " " and char != " ")):
            pieces.append(current)
            current = ""
        current += char
        if wide:
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    return pieces


def _is_emoji(char: str) -> bool:
    return 0x1F000 <= ord(char) <= 0x1FAFF or 0x2600 <= ord(char) <= 0x27BF


def fit_lines(
    text: str, size: float, max_width: float, max_lines: int, *, bold: bool = True, lang: str = DEFAULT_LANGUAGE
) -> list[str]:
    """``text`` on at most ``max_lines`` lines no wider than ``max_width``, the last one cut with
    an ellipsis when it does not all fit. Pieces too wide for a line are cut by character."""
    text = _few_marks(" ".join(text.split()))
    lines: list[str] = []
    current = ""
    pieces = _breaks(text)
    index = 0
    while index < len(pieces):
        piece = pieces[index]
        candidate = current + piece
        if measure(candidate.rstrip(), size, bold=bold, lang=lang) <= max_width:
            current = candidate
            index += 1
            continue
        if not current:  # one piece wider than a line: split it by character
            head = _longest_prefix(piece, size, max_width, bold, lang)
            lines.append(head)
            pieces[index] = piece[len(head) :]
        else:
            lines.append(current.rstrip())
            current = ""
        if len(lines) == max_lines:
            rest = "".join(pieces[index:]).strip()
            if rest:
                lines[-1] = _with_ellipsis(lines[-1], size, max_width, bold, lang)
            return lines
    if current.strip():
        lines.append(current.rstrip())
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _with_ellipsis(lines[-1], size, max_width, bold, lang)
    return lines


MAX_MARKS = 4  # combining marks drawn on one character (writing needs up to three or so)


def _few_marks(text: str) -> str:
    """``text`` with at most :data:`MAX_MARKS` combining marks on each character: more are not
    writing but a pile (a "Zalgo" name) that would reach into the lines above and below."""
    kept, run = [], 0
    for char in text:
        if unicodedata.category(char).startswith("M"):
            run += 1
            if run > MAX_MARKS:
                continue
        else:
            run = 0
        kept.append(char)
    return "".join(kept)


def _longest_prefix(text: str, size: float, max_width: float, bold: bool, lang: str) -> str:
    clusters = _clusters(text)
    head = ""
    for cluster in clusters:
        if measure(head + cluster, size, bold=bold, lang=lang) > max_width and head:
            break
        head += cluster
    return head


def _clusters(text: str) -> list[str]:
    """Characters with the marks, joiners and modifiers that follow them (never split)."""
    clusters: list[str] = []
    for char in text:
        joins = clusters and (
            unicodedata.category(char).startswith("M")
            or _ignorable(char)
            or clusters[-1].endswith("\u200d")
            or 0x1F3FB <= ord(char) <= 0x1F3FF
        )
        if joins:
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def _with_ellipsis(line: str, size: float, max_width: float, bold: bool, lang: str) -> str:
    clusters = _clusters(line.rstrip())
    while clusters and measure("".join(clusters).rstrip() + _ELLIPSIS, size, bold=bold, lang=lang) > max_width:
        clusters.pop()
    return "".join(clusters).rstrip() + _ELLIPSIS


def _rtl(text: str) -> bool:
    """Whether the first strong character of ``text`` is right-to-left (UAX #9, P2 and P3)."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


@dataclass(frozen=True)
class _Line:
    text: str
    x: float
    y: float
    size: float
    colour: str
    bold: bool = True
    lang: str = DEFAULT_LANGUAGE


def _svg(width: int, height: int, lines: Sequence[_Line], extra: str = "") -> str:
    """An SVG of ``lines`` (each left-aligned at its ``x``) over ``extra``."""
    texts = "".join(
        f'<g fill="{line.colour}">{_paths(line.text, line.x, line.y, line.size, line.bold, line.lang)}</g>'
        for line in lines
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}">{extra}{texts}</svg>'
    )


def _draw(width: int, height: int, lines: Sequence[_Line], extra: str = "") -> Image.Image:
    """Draw ``lines`` (as glyph outlines: resvg needs no font) over ``extra``."""
    png = raster.draw(_svg(width, height, lines, extra), width=width, height=height, fonts=())
    return Image.open(io.BytesIO(png)).convert("RGBA")


def format_date(day: date) -> str:
    """``1 March 2026`` (English month names whatever the machine's locale)."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


# ---------------------------------------------------------------------------------------
# The base of a card
# ---------------------------------------------------------------------------------------


_GREY_SLOTS = [v for g in _GREYS for v in (g, g, g)]  # the first slots of every base's palette


class CardBase:
    """A card's pixels as an indexed (palette) image, with the compressed rows that every card
    drawn on it shares.

    The palette (:func:`_palette`) has fixed slots: a ramp of greys (all text is grey on white,
    so antialiased text is grey too), the accent colour, the artwork's colours (Pillow's median
    cut of the artwork's square, once per base, Floyd-Steinberg dithered) and, per card, the
    colours of its status band. An award's text is drawn on a greyscale copy of the text column
    (:meth:`middle`) and mapped to the grey slots.

    The PNG's zlib stream is made of pieces of raw deflate data, each ending on a byte
    boundary with no reference to what came before (a full flush): the rows above :data:`SPLIT`
    (compressed once), the middle rows in runs of :data:`RUN_ROWS` (those an award's text is on
    compressed for each card, the others once) and the rows from :data:`BAND_TOP` down (the
    site's host, or a status band: compressed once per status). The Adler-32 checksum is
    carried over the pieces (combined, so no piece is read twice).
    """

    def __init__(self, image: Image.Image):
        rgb = image.convert("RGB")
        # outside the artwork: greys (exact for every grey, since L of a grey is itself) and the accent bar
        indexed = rgb.convert("L").point(_GREY_LUT)
        indexed.paste(len(_GREYS), (0, 0, WIDTH, ACCENT_ROWS))
        # the artwork's square: its own colours (median cut), dithered; white stays white
        x, y, side = ART_BOX
        box = (x - 2, y - 2, x + side + 2, y + side + 2)
        art = rgb.crop(box)
        art_colours = (art.quantize(colors=_ART_SLOTS, method=Image.Quantize.MEDIANCUT).getpalette() or [])[
            : 3 * _ART_SLOTS
        ]
        mapping = Image.new("P", (1, 1))
        mapping.putpalette(art_colours)
        dithered = art.quantize(palette=mapping, dither=Image.Dither.FLOYDSTEINBERG)
        offset = len(_GREYS) + 1
        art_indices = Image.frombytes("L", art.size, dithered.tobytes()).point(
            [min(i + offset, 255) for i in range(256)]
        )
        art_indices.paste(_GREY_LUT[255], mask=art.convert("L").point([255 if v == 255 else 0 for v in range(256)]))
        indexed.paste(art_indices, box[:2])
        palette = _GREY_SLOTS + list(rgb.getpixel((WIDTH - 1, 4))) + art_colours  # type: ignore[arg-type]
        self._set(indexed.tobytes(), palette)

    @classmethod
    def from_png(cls, data: bytes) -> CardBase:
        """The base whose :meth:`png` is ``data`` (a base kept between builds: see
        :data:`badgekiln.outputs.share_cards.SHARED`); ValueError for anything else: a PNG of
        another size or kind, or whose pixels name colours its palette does not have."""
        try:
            with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
                if image.size != (WIDTH, HEIGHT) or image.mode != "P" or "transparency" in image.info:
                    raise ValueError("not a card base")
                palette = image.getpalette() or []
                indices = image.tobytes()
        except (OSError, SyntaxError, Image.DecompressionBombError) as e:  # (what Pillow raises for a damaged PNG)
            raise ValueError(f"not a card base: {e}") from None
        if (
            not len(_GREYS) * 3 < len(palette) <= 3 * (256 - _BAND_SLOTS)
            or palette[: 3 * len(_GREYS)] != _GREY_SLOTS  # (an award's text is drawn in these)
            or max(indices) >= len(palette) // 3
        ):
            raise ValueError("not a card base: its palette is not a base's")
        base = cls.__new__(cls)
        base._set(indices, palette)
        return base

    def png(self) -> bytes:
        """The base as a PNG of its palette and pixels (what :meth:`from_png` reads back)."""
        return self.finish()

    def _set(self, indices: bytes, palette: list[int]) -> None:
        """The base of these pixels (``indices`` into ``palette``, row by row)."""
        self._palette = palette
        indexed = Image.frombytes("L", (WIDTH, HEIGHT), indices)
        # greys are their own value in L: the column's palette greys as a greyscale image
        column = indexed.crop((TEXT_LEFT, SPLIT, WIDTH, BAND_TOP))
        self._column = column.point([_GREYS[i] if i < len(_GREYS) else 255 for i in range(256)])
        # the middle rows as PNG scanlines (a filter byte, then the row) in an image, to paste an award's column on
        self._middle = Image.frombytes("L", (WIDTH + 1, BAND_TOP - SPLIT), _rows(indices, SPLIT, BAND_TOP))
        top = _rows(indices, 0, SPLIT)
        self._top, self._top_adler = _deflate(top, shared=True), zlib.adler32(top)
        self._tails: dict[str, tuple[int, int, bytes, bytes]] = {}
        self._clean_runs: dict[tuple[int, int], tuple[bytes, int, int]] = {}
        self._bottom = _rows(indices, BAND_TOP, HEIGHT)  # only these rows are kept with the pieces above (0.6 MB)

    @property
    def image(self) -> Image.Image:
        """The card's pixels as it shows them (RGB)."""
        return Image.open(io.BytesIO(self.finish())).convert("RGB")

    def middle(self) -> Image.Image:
        """A greyscale copy of the text column (from :data:`TEXT_LEFT`) of rows :data:`SPLIT`
        to :data:`BAND_TOP`, to draw an award's text on in greys."""
        return self._column.copy()

    def finish(
        self, middle: Image.Image | None = None, status: str = "valid", drawn: Sequence[tuple[int, int]] | None = None
    ) -> bytes:
        """The PNG of the card, with ``middle`` (from :meth:`middle`) in place of the base's
        own text column and the status band of ``status`` (none for a valid award) at the bottom.

        ``drawn``: the rows of ``middle`` (top, bottom) that may differ from the base's (what
        :func:`_set_glyphs` returns); None: any row may. Only runs of :data:`RUN_ROWS` rows that
        hold them are compressed for this card; the others are the base's, compressed once.
        """
        runs = MIDDLE_ROWS // RUN_ROWS
        dirty = [middle is not None and drawn is None] * runs
        for top, bottom in drawn or ():
            for run in range(max(0, top // RUN_ROWS), min(runs, -(-bottom // RUN_ROWS))):
                dirty[run] = True
        adler, pieces = self._top_adler, [b"\x78\x9c", self._top]
        start = 0
        while start < runs:
            stop = start + 1
            while stop < runs and dirty[stop] == dirty[start]:
                stop += 1
            a, b = start * RUN_ROWS, stop * RUN_ROWS
            if dirty[start] and middle is not None:
                rows = self._middle.crop((0, a, WIDTH + 1, b))
                rows.paste(middle.crop((0, a, middle.width, b)).point(_GREY_LUT), (1 + TEXT_LEFT, 0))
                raw = rows.tobytes()
                compressed, run_adler, size = _deflate(raw), zlib.adler32(raw), len(raw)
            else:
                compressed, run_adler, size = self._clean(a, b)
            adler = _adler32_combine(adler, run_adler, size)
            pieces.append(compressed)
            start = stop
        tail_adler, tail_size, tail, plte = self._tail(status)
        pieces += [tail, struct.pack(">I", _adler32_combine(adler, tail_adler, tail_size))]
        header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 3, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", header)
            + _chunk(b"PLTE", plte)
            + _chunk(b"IDAT", b"".join(pieces))
            + _chunk(b"IEND", b"")
        )

    def _clean(self, start: int, stop: int) -> tuple[bytes, int, int]:
        """The base's middle rows ``start`` to ``stop`` compressed (a full flush at the end),
        their Adler-32 and size raw (kept: cards of a class leave the same runs clean)."""
        found = self._clean_runs.get((start, stop))
        if found is None:
            raw = self._middle.crop((0, start, WIDTH + 1, stop)).tobytes()
            found = (_deflate(raw, shared=True), zlib.adler32(raw), len(raw))
            if len(self._clean_runs) < MAX_CLEAN_RUNS:
                self._clean_runs[start, stop] = found
        return found

    def _tail(self, status: str) -> tuple[int, int, bytes, bytes]:
        """The bottom rows of ``status``: their Adler-32 and size raw, compressed, and the palette."""
        key = status if status in STATUS_WORDS else "valid"
        if key not in self._tails:
            palette = list(self._palette)
            if key == "valid":
                raw = self._bottom
            else:
                band, band_palette = _band_indexed(key)
                offset = len(palette) // 3
                palette += band_palette
                shifted = band.point([min(255, i + offset) for i in range(256)]).tobytes()
                raw = b"".join(b"\0" + shifted[y * WIDTH : (y + 1) * WIDTH] for y in range(HEIGHT - BAND_TOP))
            compressed = _deflate(raw, final=True, shared=True)
            self._tails[key] = (zlib.adler32(raw), len(raw), compressed, bytes(palette))
        return self._tails[key]


def _rows(indices: bytes, start: int, stop: int) -> bytes:
    """Rows of an indexed image as PNG scanlines (filter type 0, None)."""
    return b"".join(b"\0" + indices[y * WIDTH : (y + 1) * WIDTH] for y in range(start, stop))


def _deflate(raw: bytes, *, final: bool = False, shared: bool = False) -> bytes:
    """Raw deflate data of ``raw`` that ends on a byte boundary (a full flush) or, ``final``,
    ends the stream; ``shared``: rows compressed once for many cards (level 6), else
    :data:`ZLIB_STRATEGY` (with zlib's default memory level: a larger one costs a card more to
    set up than it saves)."""
    if shared:
        compressor = zlib.compressobj(SHARED_LEVEL, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY)
    else:
        compressor = zlib.compressobj(1, zlib.DEFLATED, -15, 8, ZLIB_STRATEGY)
    return compressor.compress(raw) + compressor.flush(zlib.Z_FINISH if final else zlib.Z_FULL_FLUSH)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


_ADLER_MOD = 65521


def _adler32_combine(first: int, second: int, second_size: int) -> int:
    """The Adler-32 of two pieces of data one after the other, from each one's Adler-32 and the
    second's size (zlib's ``adler32_combine``, which Python does not offer): the bottom rows'
    checksum is computed once per status, not for every card."""
    rem = second_size % _ADLER_MOD
    low = ((first & 0xFFFF) + (second & 0xFFFF) + _ADLER_MOD - 1) % _ADLER_MOD
    high = (rem * (first & 0xFFFF) + (first >> 16) + (second >> 16) + _ADLER_MOD - rem) % _ADLER_MOD
    return low | high << 16


def _artwork(artwork: bytes | None, is_svg: bool) -> str:
    """The artwork as an ``<image>`` fitted in :data:`ART_BOX` (SVG artwork rasterised first)."""
    if not artwork:
        return ""
    x, y, side = ART_BOX
    png = raster.rasterise(artwork, width=side * 2) if is_svg else artwork
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<image x="{x}" y="{y}" width="{side}" height="{side}" preserveAspectRatio="xMidYMid meet"'
        f' xlink:href="data:image/png;base64,{data}"/>'
    )


def _frame(accent: str, artwork: str) -> str:
    return f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/><rect width="{WIDTH}" height="{ACCENT_ROWS}" fill="{accent}"/>{artwork}'


def badge_base(
    *,
    badge_name: str,
    issuer: str,
    host: str,
    accent: str,
    artwork: bytes | None,
    is_svg: bool,
    lang: str = DEFAULT_LANGUAGE,
) -> CardBase:
    """The base of a badge class's cards: artwork, issuer, badge name (two lines, or three smaller
    for a long one; a one-line name and the issuer lowered by a line) and the site's host at the
    bottom."""
    size, names = name_lines(badge_name, lang)
    first, step = (195, 66) if size == 54 else (178, 53)
    # A name on one line is set where a two-line name's second line is, with the issuer above
    # it: the header then ends where it always does, just above the award's text, instead of
    # leaving a hole of a line's height under it (a visual review of the example's cards).
    drop = step if len(names) == 1 else 0
    first += drop
    lines = [
        _Line(text, TEXT_X, 120 + drop, 30, "#555555", bold=False, lang=lang)
        for text in fit_lines(issuer, 30, TEXT_WIDTH, 1, bold=False, lang=lang)
    ]
    for number, text in enumerate(names):
        lines.append(_Line(text, TEXT_X, first + number * step, size, "#111111", lang=lang))
    lines.append(_Line(host, ART_BOX[0], 600, 24, "#6b6b6b", bold=False, lang=lang))
    if artwork:  # drawn at the box's size and laid on by Pillow: cheaper than resvg scaling an embedded image
        png = raster.rasterise(artwork, width=ART_BOX[2]) if is_svg else artwork
        card = _draw_frame(lines, accent)
        if _lay_artwork(card, png):
            return CardBase(card)
    return CardBase(_draw(WIDTH, HEIGHT, lines, _frame(accent, _artwork(artwork, is_svg))))


def name_lines(badge_name: str, lang: str = DEFAULT_LANGUAGE) -> tuple[int, list[str]]:
    """The size and lines of a badge's name on its cards: two lines at 54 px, or, for a name they
    cannot hold, up to three at 44 px rather than losing its end (the name is what a preview is
    read for), still above the rows of the award's text (:data:`SPLIT`)."""
    if len(fit_lines(badge_name, 54, TEXT_WIDTH, 3, lang=lang)) <= 2:
        return 54, fit_lines(badge_name, 54, TEXT_WIDTH, 2, lang=lang)
    return 44, fit_lines(badge_name, 44, TEXT_WIDTH, 3, lang=lang)


def _draw_frame(lines: Sequence[_Line], accent: str) -> Image.Image:
    """The card without its artwork: the background and accent bar filled by Pillow, and only
    the strips of the card that ``lines`` are on drawn by resvg (where their outlines are, and
    two pixels more): the pixels of :func:`_draw` of the whole card but for the rounding of a
    few edge pixels (2 of the example site's 7 bases differ, in 2 pixels each, by a few grey
    levels), in half the time (most of it went to encoding and decoding the whole card as a PNG)."""
    card = Image.new("RGBA", (WIDTH, HEIGHT), (255, 255, 255, 255))
    card.paste(accent, (0, 0, WIDTH, ACCENT_ROWS))
    strips: list[list[Any]] = []  # [left, top, bottom, lines]
    for line in sorted(lines, key=lambda line: line.y):
        ink = _ink(line)
        if ink is None:
            continue
        left, top = max(0, math.floor(ink[0]) - 2), max(0, math.floor(ink[1]) - 2)
        bottom = min(HEIGHT, math.ceil(ink[3]) + 2)
        if top >= bottom or left >= WIDTH:
            continue
        if strips and top <= strips[-1][2]:
            strips[-1][0], strips[-1][2] = min(strips[-1][0], left), max(strips[-1][2], bottom)
            strips[-1][3].append(line)
        else:
            strips.append([left, top, bottom, [line]])
    for left, top, bottom, group in strips:
        width, height = WIDTH - left, bottom - top
        svg = _svg(width, height, group, _frame(accent, "")).replace(
            f'viewBox="0 0 {width} {height}"', f'viewBox="{left} {top} {width} {height}"', 1
        )
        png = raster.draw(svg, width=width, height=height, fonts=())
        card.paste(Image.open(io.BytesIO(png)).convert("RGBA"), (left, top))
    return card


def _ink(line: _Line) -> tuple[float, float, float, float] | None:
    """Where ``line``'s glyph outlines are (left, top, right, bottom, in pixels), or ``None``."""
    box = None
    pen = 0.0
    for glyph in _shaped(line.text, line.bold, line.lang):
        bounds = _bounds(glyph.font, glyph.gid)
        if bounds is not None:
            k = line.size / _hb_font(glyph.font).face.upem
            gx, gy = line.x + (pen + glyph.dx) * line.size, line.y - glyph.dy * line.size
            ink = (gx + bounds[0] * k, gy - bounds[3] * k, gx + bounds[2] * k, gy - bounds[1] * k)
            box = (
                ink
                if box is None
                else (min(box[0], ink[0]), min(box[1], ink[1]), max(box[2], ink[2]), max(box[3], ink[3]))
            )
        pen += glyph.advance
    return box


def _lay_artwork(card: Image.Image, png: bytes) -> bool:
    """The artwork fitted in :data:`ART_BOX` over ``card``; ``False`` (nothing drawn) for an
    image Pillow cannot read or a very large one, which resvg draws instead."""
    try:
        with Image.open(io.BytesIO(png)) as opened:
            width, height = opened.size
            if not (0 < width <= raster.MAX_RASTER_SIDE and 0 < height <= raster.MAX_RASTER_SIDE):
                return False
            if opened.mode.startswith("I"):  # 16-bit greys: RGBA would clip them all to white
                art = opened.convert("I").point(lambda v: v * (1 / 256)).convert("L").convert("RGBA")
            else:
                art = opened.convert("RGBA")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False
    x, y, side = ART_BOX
    scale = min(side / width, side / height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size != art.size:
        art = art.resize(size, Image.Resampling.LANCZOS)
    card.alpha_composite(art, (x + (side - size[0]) // 2, y + (side - size[1]) // 2))
    return True


@functools.lru_cache(maxsize=8)
def _band(status: str) -> Image.Image:
    """The status band (rows :data:`BAND_TOP` to the bottom), drawn once per status."""
    height = HEIGHT - BAND_TOP
    extra = f'<rect width="{WIDTH}" height="{height}" fill="{STATUS_COLOURS[status]}"/>'
    return _draw(WIDTH, height, [_Line(STATUS_WORDS[status], ART_BOX[0], 62, 44, "#ffffff")], extra)


@functools.lru_cache(maxsize=8)
def _band_indexed(status: str) -> tuple[Image.Image, list[int]]:
    """The status band mapped to its own colours (median cut) and those colours: the same for
    every base, which puts them after its own (once per status, not per base and status)."""
    band = _band(status).convert("RGB").quantize(colors=_BAND_SLOTS, method=Image.Quantize.MEDIANCUT)
    return band, (band.getpalette() or [])[: 3 * _BAND_SLOTS]


def award_card(
    base: CardBase, *, earner: str | None, issued_on: date, status: str, lang: str = DEFAULT_LANGUAGE
) -> bytes:
    """An award's card: the badge class's base with who earned it and when, and the status band
    when the award is revoked, suspended or expired."""
    column = base.middle()
    drawn = [_set_glyphs(column, "Awarded to", TEXT_X, 39, 28, 0x55, bold=False)]
    # (a hidden name reads as the award page says it, in a softer grey: no gap where a name would be)
    # (two lines at 50 px; a name they cannot hold at 42 px, then at 34 px before it is cut: a
    # long name kept whole, its surname last, rather than cut at the second line: a UX review)
    size, step = next(
        (
            (size, step)
            for size, step in NAME_SIZES
            if not earner or len(fit_lines(earner, size, TEXT_WIDTH, 3, lang=lang)) <= 2
        ),
        NAME_SIZES[-1],
    )
    name_lines = fit_lines(earner, size, TEXT_WIDTH, 2, lang=lang) if earner else [HIDDEN_EARNER]
    for number, text in enumerate(name_lines):
        grey = 0x11 if earner else 0x44
        drawn.append(_set_glyphs(column, text, TEXT_X, 107 + number * step, size, grey, lang=lang))
    # Under the last line of the name, and below its ink (marks stacked under a letter reach far
    # down: review), within the column (MIDDLE_ROWS; a date cut there is still read).
    ink_bottom = max(bottom for _, bottom in drawn[1:])
    issued = min(max(107 + (len(name_lines) - 1) * step + 60, ink_bottom + 30), MIDDLE_ROWS - 8)
    drawn.append(_set_glyphs(column, f"Issued {format_date(issued_on)}", TEXT_X, issued, 28, 0x33, bold=False))
    return base.finish(column, status, drawn)


_PHASES = 4  # glyph images per glyph: its origin at 0, 1/4, 1/2 and 3/4 of a pixel


def _set_glyphs(
    column: Image.Image,
    text: str,
    x: float,
    baseline: int,
    size: int,
    grey: int,
    *,
    bold: bool = True,
    lang: str = DEFAULT_LANGUAGE,
) -> tuple[int, int]:
    """Draw ``text`` in ``grey`` on the greyscale text column (its left edge is the card's
    column :data:`TEXT_LEFT`) from ``x`` on ``baseline``, through the coverage mask of the line
    (:func:`_line_mask`); returns the rows (top, bottom) it may have changed."""
    line = _line_mask(text, x, baseline, size, bold, lang)
    if line is None:
        return (0, 0)
    _paint(column, line[0], line[1], line[2], grey)
    return (line[2], line[2] + line[0].height)


@functools.lru_cache(maxsize=512)  # at most about 25 MB (a name's line is about 50 KB, a date's 10 KB)
def _line_mask(
    text: str, x: float, baseline: int, size: int, bold: bool, lang: str
) -> tuple[Image.Image, int, int] | None:
    """The coverage mask of ``text`` set from ``x`` on ``baseline`` (in the text column's
    coordinates, see :func:`_set_glyphs`) and its (left, top), or ``None`` if it draws nothing.

    It is made of coverage masks of each glyph drawn once per process (:func:`_glyph_images`):
    the names of thousands of awards share a few hundred glyphs, so an award's card draws
    nothing new. Lines are kept too: "Awarded to" and a date are on many cards, and the awards
    of one earner, made one after the other, share a name."""
    placed = []
    pen = 0.0
    for glyph in _shaped(text, bold, lang):
        gx = x - TEXT_LEFT + (pen + glyph.dx) * size
        whole = math.floor(gx)
        phase = min(_PHASES - 1, round((gx - whole) * _PHASES))
        placed.append((glyph.font, glyph.gid, phase, whole, baseline - round(glyph.dy * size)))
        pen += glyph.advance
    tiles = _glyph_images(tuple(sorted({(f, g, p) for f, g, p, _x, _y in placed})), size)
    inked = []
    for font, gid, phase, gx, gy in placed:
        tile = tiles[font, gid, phase]
        if tile is not None:
            inked.append((tile[0], tile[1] + gx, tile[2] + gy))
    if not inked:
        return None
    left = min(mask_left for _mask, mask_left, _top in inked)
    top = min(mask_top for _mask, _left, mask_top in inked)
    right = max(mask_left + mask.width for mask, mask_left, _top in inked)
    bottom = max(mask_top + mask.height for mask, _left, mask_top in inked)
    line = Image.new("L", (right - left, bottom - top), 0)
    for mask, mask_left, mask_top in inked:  # (where glyphs overlap, coverage adds up as it did painted one by one)
        line.paste(
            255, (mask_left - left, mask_top - top, mask_left - left + mask.width, mask_top - top + mask.height), mask
        )
    return line, left, top


def _paint(column: Image.Image, mask: Image.Image, left: int, top: int, grey: int) -> None:
    """``grey`` through the coverage ``mask`` over ``column`` at (left, top), clipped."""
    box = (max(left, 0), max(top, 0), min(left + mask.width, column.width), min(top + mask.height, column.height))
    if box == (left, top, left + mask.width, top + mask.height):  # inside: no clipping
        column.paste(grey, box, mask)
        return
    if box[0] >= box[2] or box[1] >= box[3]:
        return
    part = mask.crop((box[0] - left, box[1] - top, box[2] - left, box[3] - top))
    column.paste(grey, box, part)


_TILES: dict[tuple[str, int, int, int], tuple[Image.Image, int, int] | None] = {}
_MAX_TILES = 100_000  # about 50 MB at most; past it the cache starts again


def _glyph_images(
    glyphs: tuple[tuple[str, int, int], ...], size: int
) -> dict[tuple[str, int, int], tuple[Image.Image, int, int] | None]:
    """Coverage masks of glyphs at ``size``: (mask, left, top) relative to the glyph's origin on
    the baseline, or ``None`` for a glyph with no outline (a space). The missing ones are drawn
    in one resvg call, in a row, and cut apart."""
    missing = [g for g in glyphs if (*g, size) not in _TILES]
    if len(_TILES) + len(missing) > _MAX_TILES:
        _TILES.clear()
        missing = list(glyphs)
    if missing:
        cells, pad = [], 4
        cursor = pad
        for font, gid, phase in missing:
            bounds = _bounds(font, gid)
            if bounds is None:
                _TILES[font, gid, phase, size] = None
                continue
            scale = size / _hb_font(font).face.upem
            left = math.floor(bounds[0] * scale) - 1
            right = math.ceil(bounds[2] * scale) + 2
            top = -math.ceil(bounds[3] * scale) - 1
            bottom = -math.floor(bounds[1] * scale) + 1
            cells.append((font, gid, phase, cursor, left, right, top, bottom))
            cursor += right - left + pad
        if cells:
            ascent = max(-c[6] for c in cells) + pad  # the row's baseline
            height = ascent + max(c[7] for c in cells) + pad
            paths = []
            for font, gid, phase, cell_x, left, _right, _top, _bottom in cells:
                k = size / _hb_font(font).face.upem
                ox = cell_x - left + phase / _PHASES
                paths.append(f'<path transform="matrix({k:g} 0 0 {-k:g} {ox:g} {ascent})" d="{_outline(font, gid)}"/>')
            svg = (
                f'<svg xmlns="http://www.w3.org/2000/svg" width="{cursor}" height="{height}">'
                f'<g fill="#000000">{"".join(paths)}</g></svg>'
            )
            strip = Image.open(io.BytesIO(raster.draw(svg, width=cursor, height=height, fonts=()))).getchannel("A")
            for font, gid, phase, cell_x, left, right, top, bottom in cells:
                mask = strip.crop((cell_x, ascent + top, cell_x + right - left, ascent + bottom))
                _TILES[font, gid, phase, size] = (mask, left, top)
    return {g: _TILES[(*g, size)] for g in glyphs}


@functools.lru_cache(maxsize=65536)
def _bounds(name: str, gid: int) -> tuple[float, float, float, float] | None:
    """A glyph's outline bounds in font units (xMin, yMin, xMax, yMax), ``None`` if it has none."""
    pen = BoundsPen(None)
    _draw_glyph(name, gid, pen)
    return pen.bounds  # type: ignore[no-any-return]


def badge_card(base: CardBase, description: str = "", lang: str = DEFAULT_LANGUAGE) -> bytes:
    """A badge class's card: its base (the one its awards' cards are drawn on) with the start of
    ``description`` under the name (up to four lines), set like an award's text."""
    if not description.strip():
        return base.finish()
    column = base.middle()
    drawn = [
        _set_glyphs(column, text, TEXT_X, 360 - SPLIT + number * 42, 30, 0x33, bold=False, lang=lang)
        for number, text in enumerate(fit_lines(description, 30, TEXT_WIDTH, 4, bold=False, lang=lang))
    ]
    return base.finish(column, drawn=drawn)


def home_card(
    *,
    title: str,
    issuer: str,
    description: str,
    host: str,
    accent: str,
    logo: bytes | None,
    is_svg: bool,
    lang: str = DEFAULT_LANGUAGE,
) -> bytes:
    """The home page's card: the site's logo, title, issuer and description."""
    base = badge_base(badge_name=title, issuer=issuer, host=host, accent=accent, artwork=logo, is_svg=is_svg, lang=lang)
    return badge_card(base, description, lang)


def home_card_alt(title: str, issuer: str) -> str:
    """The text alternative of the site's own card (the home page's, and pages without a card of their own)."""
    return clipped(f"{title}: Open Badges issued by {issuer}", ALT_SIZE)


def card_alt(badge_name: str, issuer: str, earner: str | None = None, status: str = "valid") -> str:
    """The text alternative of a card (``og:image:alt``)."""
    text = f"{badge_name}, an Open Badge issued by {issuer}"
    if earner:
        text = f"{badge_name}, an Open Badge awarded to {earner} by {issuer}"
    status_text = f" ({status})" if status in STATUS_WORDS else ""  # (kept whole: a long name gives way)
    return clipped(text, ALT_SIZE - len(status_text)) + status_text
