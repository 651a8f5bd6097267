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
LEVELS = ("H", "Q")  # tried, in this order, at the version level M needs
_QR = zxingcpp.BarcodeFormat.QRCode
_DARK_RUN = re.compile(rb"\x00+")  # (zxing-cpp's image: 0 is a dark module)


def modules(text: str) -> list[bytes]:
    """The rows of the QR code of ``text``: one byte per module, 0 for dark, 255 for light."""
    code = zxingcpp.create_barcode(text, _QR, ec_level="M", data_mask=0)
    image = code.to_image(scale=1, add_quiet_zones=False)
    version = (image.shape[0] - 17) // 4
    for level in LEVELS:
        try:
            code = zxingcpp.create_barcode(text, _QR, ec_level=level, data_mask=0, version=version)
        except ValueError:  # does not fit at this level in this version
            continue
        image = code.to_image(scale=1, add_quiet_zones=False)
        break
    data = bytes(image)  # type: ignore[call-overload]  # (a buffer, which the stubs do not say)
    width = image.shape[1]
    return [data[row : row + width] for row in range(0, len(data), width)]


def svg(rows: list[bytes], *, label: str) -> str:
    """An inline SVG of ``rows`` (from :func:`modules`): a white square and one path of dark runs,
    ``SCALE`` pixels a module, ``BORDER`` modules of quiet zone, sized by a viewBox."""
    steps = []
    x_end = last_row = -1  # where the pen is, after the previous run (-1: no run yet)
    for number, row in enumerate(rows):
        for run in _DARK_RUN.finditer(row):
            start, end = run.span()
            if last_row < 0:  # the first run: absolute, at the middle of its row
                steps.append(f"M{start + BORDER} {number + BORDER}.5h{end - start}")
            else:  # then relative to where the previous run ended
                steps.append(f"m{start - x_end} {number - last_row}h{end - start}")
            x_end, last_row = end, number
    wide = len(rows) + 2 * BORDER
    size = wide * SCALE
    return (
        f'<svg width="{size}" height="{size}" role="img" aria-label="{label}" viewBox="0 0 {size} {size}" '
        f'class="segno"><g transform="scale({SCALE})"><path fill="#fff" d="M0 0h{wide}v{wide}h-{wide}z"/>'
        f'<path class="qrline" stroke="#000" d="{"".join(steps)}"/></g></svg>'
    )
