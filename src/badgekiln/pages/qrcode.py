"""The QR code printed on every award page, encoded natively (zxing-cpp) and drawn as SVG here.

A QR code is made for every award, so its cost is paid 100,000 times on a large site: segno
(pure Python) took about 1.8 ms for the code and its SVG, zxing-cpp's encoder about 0.2 ms.
The module pattern comes from zxing-cpp; the SVG, one path of horizontal runs, is written here
in segno's form (``tests/test_qrcode.py`` checks that for the same modules the text is segno's,
and that every code reads back, decoded by zxing-cpp's reader and by segno's module matrix).

The code is deterministic: byte mode as zxing-cpp segments it, mask pattern 0 (every mask
gives a valid code; choosing the best of eight is the slow part of encoding), and the error
correction level raised from M to Q or H when the text fits in the same version at that level,
as segno does ("boost_error").
"""

from __future__ import annotations

import re

import zxingcpp

SCALE = 4  # pixels per module
BORDER = 4  # modules of quiet zone, the standard's minimum: scanners look for it
LEVELS = ("H", "Q")  # the levels above M, best first: the best that fits in the version M needs
_QR = zxingcpp.BarcodeFormat.QRCode
_ROW_END = b"\n"  # between rows when they are joined (neither dark nor light: never part of a code)
# Light modules (and row ends), then a run of dark ones (zxing-cpp's image: 0 is a dark module).
_GAP_AND_RUN = re.compile(rb"[^\x00]*\x00+")
_MAX_STEPS = 100_000  # step texts kept per process (a code of the largest version has ~30,000 runs)


class _Steps(dict[bytes, str]):
    """Path steps of the codes ``width`` modules wide, by a run's bytes (with what comes before it).

    A run ``dy`` row ends after the previous one (``dy`` is 0 in the same row) starts ``dx`` modules
    right of where that one ended (negative: left), and ``len(gap) = dx + dy * (width + 1)``. The
    same few gaps and runs come back in every code, so each step's text is made once.
    """

    def __init__(self, width: int):
        super().__init__()
        self.width = width

    def __missing__(self, run: bytes) -> str:
        if len(self) >= _MAX_STEPS:
            self.clear()
        gap = run.index(0)
        rows_down = run.count(_ROW_END, 0, gap)
        text = self[run] = f"m{gap - rows_down * (self.width + 1)} {rows_down}h{len(run) - gap}"
        return text


_STEPS: dict[int, _Steps] = {}


def _steps(width: int) -> _Steps:
    found = _STEPS.get(width)
    if found is None:
        found = _STEPS[width] = _Steps(width)
    return found


def modules(text: str) -> list[bytes]:
    """The rows of the QR code of ``text``: one byte per module, 0 for dark, 255 for light."""
    code = zxingcpp.create_barcode(text, _QR, ec_level="M", data_mask=0)
    image = code.to_image(scale=1, add_quiet_zones=False)
    version = (image.shape[0] - 17) // 4
    # The highest of LEVELS that fits in this version. A level holds less than the one below it in
    # every version (H < Q < M), so they are tried from the bottom: where Q does not fit (most
    # award URLs), H is not tried, and a failed try costs about what a code does.
    for level in reversed(LEVELS):
        try:
            code = zxingcpp.create_barcode(text, _QR, ec_level=level, data_mask=0, version=version)
        except ValueError:  # does not fit at this level in this version (nor at a higher one)
            break
        image = code.to_image(scale=1, add_quiet_zones=False)
    data = bytes(image)  # type: ignore[call-overload]  # (a buffer, which the stubs do not say)
    width = image.shape[1]
    return [data[row : row + width] for row in range(0, len(data), width)]


def svg(rows: list[bytes], *, label: str) -> str:
    """An inline SVG of ``rows`` (from :func:`modules`): a white square and one path of dark runs,
    ``SCALE`` pixels a module, ``BORDER`` modules of quiet zone, sized by a viewBox.

    The path is segno's: the first run absolute, at the middle of its row, then each run relative
    to where the previous one ended. It is made from the code's runs in one pass: each run, with
    the light modules (and row ends) before it, gives its step alone once the width is known.
    """
    width = len(rows[0]) if rows else 0
    runs = _GAP_AND_RUN.findall(_ROW_END.join(rows))
    path = ""
    if runs:
        first = runs[0]
        gap, row = first.index(0), first.count(_ROW_END)
        path = f"M{gap - row * (width + 1) + BORDER} {row + BORDER}.5h{len(first) - gap}"
        path += "".join(map(_steps(width).__getitem__, runs[1:]))
    wide = len(rows) + 2 * BORDER
    size = wide * SCALE
    return (
        f'<svg width="{size}" height="{size}" role="img" aria-label="{label}" viewBox="0 0 {size} {size}" '
        f'class="segno"><g transform="scale({SCALE})"><path fill="#fff" d="M0 0h{wide}v{wide}h-{wide}z"/>'
        f'<path class="qrline" stroke="#000" d="{path}"/></g></svg>'
    )
