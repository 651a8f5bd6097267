"""Rebuild the fonts share cards are drawn with (src/badgekiln/data/fonts/) from their sources.

Not run by builds or tests: the subsetted files are committed (about 8.4 MB), so that a fresh
``pip install`` draws the same cards on any machine without system fonts. Run it only to change
the set; it needs fontTools (``pip install fonttools``) and the sources below:

* Noto Sans, Noto Sans Arabic, Hebrew, Devanagari and the scripts of ``badgekiln.formats.raster.SCRIPTS``: Debian's ``fonts-noto-core``
  (/usr/share/fonts/truetype/noto/);
* Noto Sans CJK (Japanese face of the collection): Debian's ``fonts-noto-cjk``
  (/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc);
* Noto Emoji (the monochrome outline font, variable): its ``NotoEmoji[wght].ttf`` release
  (pass its path as the first argument).

All are under the SIL Open Font License 1.1 (data/fonts/OFL.txt), which allows subsetting and
bundling; the fonts keep their names (the licence's Reserved Font Names apply to modified
versions distributed under the same name: Noto has none).
"""

from __future__ import annotations

import codecs
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from badgekiln.formats.raster import SCRIPTS  # noqa: E402 - the scripts bundled whole (each font in full)

NOTO = Path("/usr/share/fonts/truetype/noto")
CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
OUT = Path(__file__).resolve().parent.parent / "src" / "badgekiln" / "data" / "fonts"

# Latin (with every extension in use for names), IPA, spacing modifiers, combining marks, Greek,
# Cyrillic, Latin Extended Additional, Greek Extended, punctuation, currency, letterlike, arrows.
LATIN = [
    *range(0x20, 0x250),
    *range(0x250, 0x2B0),
    *range(0x2B0, 0x370),
    *range(0x370, 0x400),
    *range(0x400, 0x530),
    *range(0x1AB0, 0x1B00),
    *range(0x1C80, 0x1C90),
    *range(0x1D00, 0x1DC0),
    *range(0x1DC0, 0x1E00),
    *range(0x1E00, 0x2000),
    *range(0x2000, 0x2070),
    *range(0x20A0, 0x20C1),
    *range(0x2100, 0x2150),
    *range(0x2C60, 0x2C80),
    *range(0x2DE0, 0x2E00),
    *range(0xA640, 0xA6A0),
    *range(0xA720, 0xA800),
    *range(0xAB30, 0xAB70),
    0xFFFD,
]


def _two_byte(codec: str, lead: range, trail: range) -> set[str]:
    found = set()
    decoder = codecs.getdecoder(codec)
    for a in lead:
        for b in trail:
            try:
                text = decoder(bytes([a, b]))[0]
            except UnicodeDecodeError:
                continue
            if len(text) == 1:
                found.add(text)
    return found


def cjk_characters() -> list[int]:
    """Every character of GB 2312, JIS X 0208 (Shift_JIS), Big5 level 1 and KS X 1001 (EUC-KR):
    the characters names are written in, in China, Japan, Taiwan/Hong Kong and Korea; with the
    CJK punctuation, kana and full-width forms."""
    chars = _two_byte("gb2312", range(0xA1, 0xF8), range(0xA1, 0xFF))
    chars |= _two_byte("shift_jis", [*range(0x81, 0xA0), *range(0xE0, 0xEB)], range(0x40, 0xFD))
    chars |= _two_byte("big5", range(0xA4, 0xC7), range(0x40, 0xFF))
    chars |= _two_byte("euc_kr", range(0xA1, 0xFF), range(0xA1, 0xFF))
    codes = {ord(c) for c in chars} | set(range(0x3000, 0x3100)) | set(range(0xFF00, 0xFFF0))
    return sorted(codes)


def options() -> subset.Options:
    opts = subset.Options()
    opts.hinting = False  # cards are drawn at large sizes, anti-aliased: hints only cost bytes
    opts.layout_features = ["*"]  # keep shaping (Arabic joining, Devanagari conjuncts, ligatures)
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    opts.glyph_names = False
    opts.drop_tables += ["DSIG"]
    return opts


def save(font: TTFont, name: str, unicodes: list[int] | None) -> None:
    sub = subset.Subsetter(options())
    if unicodes is None:
        unicodes = sorted(font.getBestCmap())
    sub.populate(unicodes=unicodes)
    sub.subset(font)
    font.save(OUT / name)
    print(name, (OUT / name).stat().st_size)


def main(emoji: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    save(TTFont(NOTO / "NotoSans-Regular.ttf"), "NotoSans-Regular.ttf", LATIN)
    save(TTFont(NOTO / "NotoSans-Bold.ttf"), "NotoSans-Bold.ttf", LATIN)
    for script in ("Arabic", "Hebrew", "Devanagari", *SCRIPTS):
        save(TTFont(NOTO / f"NotoSans{script}-Bold.ttf"), f"NotoSans{script}-Bold.ttf", None)
    save(TTFont(CJK, fontNumber=0), "NotoSansCJKjp-Bold.otf", cjk_characters())
    variable = TTFont(emoji)
    save(instancer.instantiateVariableFont(variable, {"wght": 600}), "NotoEmoji-SemiBold.ttf", None)


if __name__ == "__main__":
    main(sys.argv[1])
