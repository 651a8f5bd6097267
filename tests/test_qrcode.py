"""The award pages' QR codes (pages/qrcode.py): they read back, and are drawn as segno drew them."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
import segno
import zxingcpp

from badgekiln.pages import qrcode
from badgekiln.pages.render import qr_svg

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _urls(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    hosts = ["badges.example.org", "x.io", "training.example.co.uk/sub/path", "org.github.io/badges", "例え.jp"]
    return [
        f"https://{rng.choice(hosts)}/awards/{''.join(rng.choices(ALPHABET, k=rng.choice([10, 12, 26])))}/"
        for _ in range(count)
    ]


def _image(rows: list[bytes], border: int = 4, scale: int = 3) -> np.ndarray:
    """A picture of the code as a scanner would see it: light quiet zone, each module 3x3 pixels."""
    array = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), len(rows[0]))
    array = np.kron(array, np.ones((scale, scale), dtype=np.uint8))
    return np.pad(array, border * scale, constant_values=255)


@pytest.mark.parametrize("url", _urls(40))
def test_every_code_reads_back_as_its_url_with_segnos_version_level_and_mask(url):
    rows = qrcode.modules(url)
    found = zxingcpp.read_barcode(_image(rows), formats=zxingcpp.BarcodeFormat.QRCode)
    assert found is not None and found.text == url
    # segno (mask 0, error "m" boosted as far as the version allows) chose the same symbol.
    theirs = segno.make(url, error="m", micro=False, mask=0)
    assert found.extra["Version"] == str(theirs.version)
    assert found.extra["ECLevel"] == theirs.error
    assert found.extra["DataMask"] == 0
    assert len(rows) == len(theirs.matrix)


def test_the_svg_is_segnos_for_the_same_modules():
    for url in _urls(60, seed=11):
        theirs = segno.make(url, error="m", micro=False, mask=0)
        rows = [bytes(0 if dark else 255 for dark in row) for row in theirs.matrix]
        svg = theirs.svg_inline(scale=4, border=4, dark="#000", light="#fff", omitsize=True)
        size = theirs.symbol_size(scale=4, border=4)[0]
        expected = svg.replace(
            "<svg ", f'<svg width="{size}" height="{size}" role="img" aria-label="QR code of this page" ', 1
        )
        assert qrcode.svg(rows, label="QR code of this page") == expected


def test_the_svg_draws_exactly_the_modules():
    """Parse the path back into modules: every dark module, and nothing else."""
    url = "https://badges.example.org/awards/7q4kz2m9xw/"
    rows = qrcode.modules(url)
    path = re.search(r'class="qrline" stroke="#000" d="([^"]+)"', str(qr_svg(url)))[1]
    drawn = np.zeros((len(rows) + 8, len(rows) + 8), dtype=bool)
    x = y = 0.0
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            drawn[int(y), int(x) : int(x) + int(a)] = True
            x += int(a)
    expected = np.pad(np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), -1) == 0, 4)
    assert (drawn == expected).all()


def test_codes_are_deterministic():
    url = "https://badges.example.org/awards/7q4kz2m9xw/"
    assert len({str(qr_svg(url)) for _ in range(5)}) == 1


def _path_run_by_run(rows: list[bytes]) -> str:
    """segno's path, written one dark run at a time (the way svg() made it before it was made faster)."""
    steps, x_end, last_row = [], -1, -1
    for number, row in enumerate(rows):
        for run in re.finditer(rb"\x00+", row):
            start, end = run.span()
            if last_row < 0:
                steps.append(f"M{start + 4} {number + 4}.5h{end - start}")
            else:
                steps.append(f"m{start - x_end} {number - last_row}h{end - start}")
            x_end, last_row = end, number
    return "".join(steps)


@pytest.mark.parametrize("seed", range(30))
def test_the_path_is_the_run_by_run_one_for_any_modules(seed):
    """Rows with no dark module, runs touching both edges, rows of all dark: steps over several rows."""
    rng = random.Random(seed)
    width = rng.choice([1, 2, 21, 25, 57])
    density = rng.choice([0.0, 0.05, 0.5, 0.95, 1.0])
    rows = [bytes(0 if rng.random() < density else 255 for _ in range(width)) for _ in range(width)]
    if seed % 3 == 0:
        rows[rng.randrange(width)] = bytes([255]) * width
    path = re.search(r'class="qrline" stroke="#000" d="([^"]*)"', qrcode.svg(rows, label="x"))[1]
    assert path == _path_run_by_run(rows)


def _modules_trying_h_first(text: str) -> list[bytes]:
    """The version M needs, then H if it fits there, else Q if it fits, else M (segno's boost_error)."""
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M", data_mask=0)
    version = (code.to_image(scale=1, add_quiet_zones=False).shape[0] - 17) // 4
    for level in ("H", "Q"):
        try:
            code = zxingcpp.create_barcode(
                text, zxingcpp.BarcodeFormat.QRCode, ec_level=level, data_mask=0, version=version
            )
        except ValueError:
            continue
        break
    image = code.to_image(scale=1, add_quiet_zones=False)
    data = bytes(image)
    return [data[row : row + image.shape[1]] for row in range(0, len(data), image.shape[1])]


def test_the_level_is_the_best_that_fits_at_every_length():
    """Q is tried before H (H holds less): the codes are those of trying H first, across the
    lengths where the version and the levels that fit change."""
    rng = random.Random(5)
    for length in range(1, 160):
        for alphabet in (ALPHABET, "0123456789", "HTTPS://X.IO/ABC", "é田/"):
            text = "".join(rng.choice(alphabet) for _ in range(length))
            assert qrcode.modules(text) == _modules_trying_h_first(text), text
