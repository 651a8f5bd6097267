"""``badgekiln verify`` given a badge's web page (the address an earner shares, the QR code's):
it says that a page is not a badge and names the page's badge files, never "the SVG is not
well-formed XML"; it does not follow them (a page anyone wrote may link to another's badge)."""

from __future__ import annotations

from datetime import UTC, datetime

from badgekiln.verifying.common import VerifyOptions
from badgekiln.verifying.detect import verify_bytes

PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<link rel="alternate" type="application/ld+json" href="https://badges.example.org/awards/7q4kz2m9xw/assertion.json">
</head><body><h1>Jane Doe</h1></body></html>"""


def _options(fetched: list[str]) -> VerifyOptions:
    def fetch(url: str) -> bytes:
        fetched.append(url)
        raise AssertionError("nothing is fetched for a web page")

    now = datetime(2026, 12, 6, tzinfo=UTC)
    return VerifyOptions(fetch=fetch, now=now, clock=now)


def test_a_badge_page_is_said_to_be_a_page_with_its_badge_files_named():
    fetched: list[str] = []
    result = verify_bytes(PAGE, _options(fetched))
    [check] = [c for c in result.checks if not c.ok]
    assert check.name == "input"
    assert "web page (HTML), not a badge" in check.detail
    assert "https://badges.example.org/awards/7q4kz2m9xw/assertion.json" in check.detail
    assert "SVG" not in check.detail
    assert fetched == []
    # (UX walkthrough: a badge's own page read "✘ NOT VALID (invalid)", which a verifier reads as "fake")
    assert result.status == "not a badge" and not result.valid


def test_verify_given_a_badges_page_or_a_plain_image_says_it_is_no_badge_and_exits_2(tmp_path, run):
    from PIL import Image

    (tmp_path / "page.html").write_bytes(PAGE)
    Image.new("RGB", (8, 8), "white").save(tmp_path / "plain.png")
    for name in ("page.html", "plain.png"):
        result = run("verify", str(tmp_path / name))
        assert result.code == 2, (name, result.out, result.err)
        assert "? NOT A BADGE: nothing was verified" in result.out and "NOT VALID" not in result.out
    (tmp_path / "forged.json").write_text('{"@context": "https://w3id.org/openbadges/v2", "type": "Assertion"}')
    forged = run("verify", str(tmp_path / "forged.json"))
    assert forged.code == 1 and "NOT VALID" in forged.out  # (a badge that fails is still called not valid)


def test_any_html_page_is_recognised_and_an_svg_still_goes_to_the_svg_reader():
    for page in (b"  <html><body>hello</body></html>", b"\xef\xbb\xbf<!doctype HTML><p>x"):
        [check] = [c for c in verify_bytes(page, _options([])).checks if not c.ok]
        assert "web page (HTML), not a badge" in check.detail and "names" not in check.detail
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"/>'
    [check] = [c for c in verify_bytes(svg, _options([])).checks if not c.ok]
    assert check.name == "unbake" and "not a baked badge" in check.detail


def test_a_page_made_to_backtrack_is_answered_at_once(tmp_path):
    import time

    from badgekiln.verifying.detect import _html_page

    started = time.monotonic()
    _html_page(b"<html>" + b"<link rel=alternate " * 3000)  # (61 s with one pattern for the tag and its rel)
    assert time.monotonic() - started < 2


def _png_with(kind: bytes, data: bytes) -> bytes:
    import io
    import struct
    import zlib

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, "PNG")
    png = buffer.getvalue()
    chunk = struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return png[:-12] + chunk + png[-12:]


def _big_png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (5000, 10), 255).save(buffer, "PNG")  # (re-review: called "holds Open Badges content")
    return buffer.getvalue()


def test_what_holds_badge_content_in_another_form_is_not_valid_and_what_holds_none_is_no_badge():
    # (hostile review: a zTXt 'openbadges' chunk or an <openbadges:Assertion> read "not a badge",
    # though the build strips exactly these from artwork as a badge someone was awarded; and a
    # page after a comment, or an Illustrator SVG with a DOCTYPE, read "NOT VALID")
    import zlib

    text = b'{"@context": "https://w3id.org/openbadges/v2", "type": "Assertion", "id": "https://x.example/a"}'
    unreadable = {
        "zTXt": _png_with(b"zTXt", b"openbadges\0\0" + zlib.compress(text)),
        "tEXt": _png_with(b"tEXt", b"openbadgecredential\0" + text),
        "iTXt case": _png_with(b"iTXt", b"OpenBadges\0\0\0\0\0" + text),
        "SVG case": b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">'
        b'<openbadges:Assertion verify="https://x.example/a"></openbadges:Assertion></svg>',
        # (re-review: an OB 3.0 element under another prefix, cut short or behind a DOCTYPE, read
        # "not a badge"; so did a namespace spelled with a character reference)
        "OB 3.0 SVG cut short": b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:ob="https://purl.imsglobal.org/ob/v3p0">'
        b"<ob:credential>{",
        "OB 3.0 SVG behind a DOCTYPE": b'<!DOCTYPE svg><svg xmlns="http://www.w3.org/2000/svg" '
        b'xmlns:ob="https://purl.imsglobal.org/ob/v3p0"><ob:credential>{}</ob:credential></svg>',
        "namespace by reference": b'<!DOCTYPE svg><svg xmlns="http://www.w3.org/2000/svg" '
        b'xmlns:x="http://&#111;penbadges.org"><x:assertion verify="https://x.example/a"/></svg>',
        "keyword with a tab": _png_with(b"iTXt", b"openbadges\t\0\0\0\0\0" + text),
    }
    for name, data in unreadable.items():
        result = verify_bytes(data, _options([]))
        assert result.status == "invalid", (name, result.checks)
    none = {
        "page after a comment": b"<!-- saved from a browser -->\n<!DOCTYPE html><html><body>x</body></html>",
        "XHTML": b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
        "SVG with a DOCTYPE": b'<?xml version="1.0"?>\n<!-- Illustrator -->\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg xmlns="http://www.w3.org/2000/svg"/>',
        "plain PNG": _png_with(b"tEXt", b"Software\0paint"),
        "a PNG wider than artwork may be": _big_png(),
    }
    for name, data in none.items():
        result = verify_bytes(data, _options([]))
        assert result.status == "not a badge", (name, result.checks)
        assert result.to_dict()["checks"][-1]["not_a_badge"] is True
