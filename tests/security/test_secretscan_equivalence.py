"""The output scan finds what it found before it was made faster, and names the same secret.

``Scanner.find`` cuts its samples with a struct, squeezes in one ``translate`` and undoes HTML
references through a cache (see :mod:`badgekiln.signing.secretscan`). The reference below is the
scan as it was before (commit 01dc50c), kept small: the tests give both the same secrets and the
same texts (secrets transformed every way a template can, at every offset near the end, split by
tags, in PNG chunks, in bytes that are not UTF-8, shorter than a window) and compare the labels.
"""

from __future__ import annotations

import base64
import html
import json
import re
import struct
import zlib
from urllib.parse import quote

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from badgekiln.signing import secretscan
from badgekiln.signing.secretscan import STRIDE, WINDOW, Scanner, Secret, readable_parts

# ---- the reference: the scan before it was made faster ------------------------------------------

_REF_DELETE = bytes(b for b in range(256) if b not in b"0123456789abcdefghijklmnopqrstuvwxyz")


def ref_squeeze(data: bytes) -> bytes:
    return data.lower().translate(None, _REF_DELETE)


def ref_unescape(text: str) -> str:
    for _ in range(3):
        before = text
        if "\\" in text:
            text = secretscan._JSON_ESCAPE.sub(secretscan._json_char, text)
        if "&" in text:
            text = html.unescape(text)
        if "%" in text and secretscan._PERCENT_ESCAPE.search(text):
            text = secretscan._url_unescape(text)
        if text == before:
            break
    return text


def ref_forms(secret: Secret) -> list[bytes]:
    value = secret.value
    if secret.binary:
        forms = [value.hex().encode(), *secretscan._base64_forms(value), str(int.from_bytes(value, "big")).encode()]
        squeezed = [ref_squeeze(f) for f in forms]
        return squeezed + [f[::-1] for f in squeezed]
    text = value.decode("utf-8", "replace")
    forms = [value, ref_unescape(text).encode("utf-8", "surrogatepass"), value.hex().encode()]
    unique = {ref_squeeze(f) for f in forms}
    return sorted(unique | {f[::-1] for f in unique} | {ref_squeeze(secretscan._base64_forms(value)[0])})


class RefScanner:
    def __init__(self, secrets):
        self.windows: dict[bytes, str] = {}
        self.short: list[tuple[bytes, str]] = []
        self.raw: list[tuple[bytes, str]] = []
        for secret in secrets:
            if secret.binary and len(secret.value) >= 16 and secret.label not in {label for _, label in self.raw}:
                self.raw.append((secret.value, secret.label))
            for form in ref_forms(secret):
                if len(form) >= WINDOW + STRIDE - 1:
                    for start in range(len(form) - WINDOW + 1):
                        self.windows.setdefault(form[start : start + WINDOW], secret.label)
                elif len(form) >= 8:
                    self.short.append((form, secret.label))
        self.short = sorted(set(self.short), key=lambda item: (-len(item[0]), item))

    def find(self, content: bytes, *, page: bool = True, raw: bool = False) -> str | None:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            return self._find_raw(content) or self._find_squeezed(ref_squeeze(content))
        if raw:
            found = self._find_raw(content)
            if found is not None:
                return found
        plain = ref_unescape(text).encode("utf-8", "surrogatepass")
        found = self._find_squeezed(ref_squeeze(plain))
        if found is None and page and b"<" in plain:
            found = self._find_squeezed(ref_squeeze(re.sub(rb"<[^<>]*>", b"", plain)))
        return found

    def _find_raw(self, content: bytes) -> str | None:
        for raw, label in self.raw:
            if raw in content:
                return label
        return None

    def _find_squeezed(self, data: bytes) -> str | None:
        if self.windows:
            samples = [data[i : i + WINDOW] for i in range(0, len(data) - WINDOW + 1, STRIDE)]
            if not self.windows.keys().isdisjoint(samples):
                return next(self.windows[s] for s in samples if s in self.windows)
        for form, label in self.short:
            if form in data:
                return label
        return None


# ---- secrets and the texts that hold them -------------------------------------------------------

SEED = bytes(range(40, 72))  # an Ed25519 seed
NUMBER = bytes(range(200, 256)) + bytes(range(1, 90))  # a key number of 145 bytes
PASSWORD = "c0rrect-H0rse&amp;b%41ttery"  # (it looks escaped: its unescaped form is one of its forms)
SECRETS = (
    Secret("private key ed", SEED, binary=True),
    Secret("private key rsa", NUMBER, binary=True),
    Secret("$BADGEKILN_SMTP_PASSWORD", PASSWORD.encode()),
)
NEW, REF = Scanner(SECRETS), RefScanner(SECRETS)


def _json_escaped(text: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in text)


def _split_by_tags(text: str, every: int) -> str:
    return "<b>".join(text[i : i + every] for i in range(0, len(text), every))


# How a template may print a secret (as text) before a page holds it.
TRANSFORMS = {
    "hex": lambda v: v.hex(),
    "HEX": lambda v: v.hex().upper(),
    "base64": lambda v: base64.b64encode(v).decode(),
    "base64url at offset 1": lambda v: base64.urlsafe_b64encode(b"\0" + v).decode(),
    "base64 at offset 2": lambda v: base64.b64encode(b"\0\0" + v).decode(),
    "decimal": lambda v: str(int.from_bytes(v, "big")),
    "reversed hex": lambda v: v.hex()[::-1],
    "spaced hex": lambda v: " ".join(v.hex()),
    "html escaped": lambda v: html.escape(" ".join(v.hex()), quote=True).replace(" ", "&nbsp;"),
    "numeric references": lambda v: "".join(f"&#{ord(c)};" for c in v.hex()),
    "hex references, no semicolons": lambda v: "".join(f"&#x{ord(c):x}" for c in v.hex()),
    "escaped twice": lambda v: html.escape(html.escape(f"<{v.hex()}>")),
    "json escaped": lambda v: _json_escaped(v.hex()),
    "json string": lambda v: json.dumps({"k": " ".join(base64.b64encode(v).decode())}),
    "url quoted": lambda v: quote(" ".join(v.hex()), safe=""),
    "url quoted twice": lambda v: quote(quote(v.hex(), safe=""), safe="").replace("2", "%2532"),
    "split by tags": lambda v: _split_by_tags(v.hex(), 5),
    "split by tags, one each": lambda v: _split_by_tags(base64.b64encode(v).decode(), 1),
    "tags and entities": lambda v: _split_by_tags(html.escape(" ".join(v.hex())), 3),
    "unclosed tag": lambda v: "<" + _split_by_tags(v.hex(), 7).replace("<b>", "<i", 1),
}


def _same(content: bytes, *, page: bool = True, raw: bool = False) -> str | None:
    """The label the scan gives ``content``, checked to be the one the reference gives."""
    found = NEW.find(content, page=page, raw=raw)
    assert found == REF.find(content, page=page, raw=raw), content[:200]
    return found


def test_the_tables_are_the_reference_tables():
    assert NEW.windows == REF.windows
    assert NEW.short == REF.short
    assert NEW.raw == REF.raw


@pytest.mark.parametrize("how", TRANSFORMS)
@pytest.mark.parametrize("value", [SEED, NUMBER], ids=["seed", "number"])
def test_a_transformed_key_is_found_as_before(how, value):
    text = TRANSFORMS[how](value)
    for filler in ("", "x", "Lorem ipsum &amp; dolor, <em>sit</em> 100% amet. "):
        for page in (True, False):
            assert _same(f"{filler}{text}{filler}".encode(), page=page) is not None or not page


@pytest.mark.parametrize("value", [SEED, NUMBER], ids=["seed", "number"])
def test_every_offset_near_the_end_and_every_length_near_the_threshold(value):
    """A piece of a form ends the text, or nearly: the last sample must be the one it was."""
    for form in (value.hex(), base64.b64encode(value).decode(), value.hex()[::-1]):
        for length in (WINDOW - 1, WINDOW, WINDOW + 1, WINDOW + STRIDE - 2, WINDOW + STRIDE - 1, len(form)):
            for before in range(2 * STRIDE + 1):
                for after in range(STRIDE + 2):
                    _same(("a" * before + form[:length] + "-" * after).encode())
                    _same(("a" * before + form[-length:] + "z" * after).encode(), page=False)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"a",
        b"0123456789abcde",  # one short of a window
        b"0123456789abcdef",  # one window, one sample
        SEED.hex()[:WINDOW].encode(),
        SEED.hex()[: WINDOW + STRIDE].encode(),
        b"<" * 40,
        b"<>" * 40,
        b"&&&&;;;;&#;&#x;&#xZ;&;",
        PASSWORD.encode(),
        html.escape(PASSWORD).encode(),
        html.unescape(PASSWORD).encode(),
        PASSWORD[::-1].encode(),
        PASSWORD.encode().hex().encode(),
        base64.b64encode(PASSWORD.encode()),
        b"\xff" + SEED,  # not UTF-8: the raw bytes
        b"\xff" + SEED.hex().encode(),  # not UTF-8: the letters and digits
        b"\xff" + base64.b64encode(NUMBER),
        b"\xc3" + NUMBER.hex()[::-1].encode(),
        b"\xed\xa0\x80" + SEED.hex().encode(),  # an encoded surrogate: not UTF-8
        SEED,  # raw bytes that happen to be UTF-8 (40..71: ASCII)
        "\\ud83d\\ude00 é €".encode() + _json_escaped(SEED.hex()).encode(),
        b"&#xD800;&#0;&#x110000;&#128;&#12345678901234567890;" + SEED.hex().encode(),
        b"&notit; &notin; &amp &ampx &CounterClockwiseContourIntegral; &" + b"a" * 40 + b";",
        b"&" + "é".encode() * 40 + b";&\xc3\xa9amp;",
        ("%C3%A9 %C3 %ZZ %% %2" + SEED.hex()).encode(),
        (SEED.hex() + "%C3").encode(),
    ],
)
def test_hand_made_texts_read_as_before(content):
    for page in (True, False):
        for raw in (True, False):
            _same(content, page=page, raw=raw)


@pytest.mark.parametrize("gap", [0, 1, STRIDE, 64 * STRIDE, 64 * STRIDE + 5])
def test_the_first_of_two_secrets_names_it(gap):
    """Two keys in one text: the one found first is named, as before (and in either order)."""
    for first, second in ((SEED, NUMBER), (NUMBER, SEED)):
        for before in range(0, 3 * STRIDE, 4):
            content = ("-" * before + first.hex() + "z" * gap + second.hex()[::-1]).encode()
            assert _same(content) == ("private key ed" if first == SEED else "private key rsa")


@pytest.mark.parametrize(
    "text",
    [
        "&CounterClockwiseContourIntegral; &CounterClockwiseContourIntegral &Counter;",
        "&" + "a" * 31 + ";&" + "a" * 32 + ";&" + "a" * 33 + ";&amp" + "x" * 40 + ";",
        "&notit; &notin; &not &amp &ampx &AMP; &Amp; &lt&gt&quot&QUOT",
        "&#x26;lt; &#38;#60; &amp;amp;amp;lt; &amp;#x3c;",
        "&#xD800; &#0; &#x110000; &#128; &#x80; &#1; &#12345678901234567890; &#x; &#;",
        "&#x1F600; \\ud83d\\ude00 \\u0026lt; %26lt; %2526lt; %C3%A9 %C3 %e9 %%41",
        "&\t&\n&\f& &é&\ud800amp;&amp\ud800",
        "\\\\u0041 \\/ \\x \\",
    ],
)
def test_hand_made_texts_unescape_as_before(text):
    assert secretscan.unescape(text) == ref_unescape(text)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@pytest.mark.parametrize(
    "chunk",
    [
        _chunk(b"iTXt", b"openbadges\0\0\0\0\0" + SEED.hex().encode()),
        _chunk(b"iTXt", b"openbadges\0\1\0\0\0" + zlib.compress(html.escape(_split_by_tags(SEED.hex(), 4)).encode())),
        _chunk(b"zTXt", b"Comment\0\0" + zlib.compress(base64.b64encode(NUMBER))),
        _chunk(b"tEXt", b"Comment\0" + SEED),
        _chunk(b"tEXt", b"Comment\0" + b"\xff" + NUMBER[::-1]),
        _chunk(b"tEXt", b"Comment\0nothing to see"),
    ],
)
def test_png_parts_read_as_before(chunk):
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    pixels = _chunk(b"IDAT", zlib.compress(b"\0\0"))
    png = secretscan.PNG_SIGNATURE + header + chunk + pixels + _chunk(b"IEND", b"")
    parts = readable_parts(png)
    assert parts
    for part in parts:
        _same(part, page=False, raw=True)
    _same(png, page=False)  # (a PNG read whole, as a damaged one is)


# ---- properties ---------------------------------------------------------------------------------

# Pieces of texts that exercise every step of the reading: escapes of each kind, whole and broken,
# tags, characters outside ASCII, and the letters of the secrets' forms.
BITS = st.sampled_from(
    [
        "&",
        "#",
        "x",
        ";",
        "amp",
        "lt;",
        "not",
        "notin;",
        "CounterClockwiseContourIntegral;",
        "&#34;",
        "&#x3c;",
        "%",
        "%25",
        "%3C",
        "%C3",
        "%A9",
        "\\",
        "\\u00",
        "\\ud83d",
        "\\n",
        "\\u0026",
        "<",
        ">",
        "<b>",
        "</p>\n",
        " ",
        "é",
        "\ud800",
        "€",
        "0",
        "a",
        "F",
        "=",
    ]
)
FORMS = [form.decode() for form in ref_forms(SECRETS[0]) + ref_forms(SECRETS[1])] + [PASSWORD]


@st.composite
def texts(draw) -> bytes:
    """A text of escape-like pieces with a piece of a secret's form, transformed, somewhere."""
    text = "".join(draw(st.lists(BITS, max_size=30)))
    form = draw(st.sampled_from(FORMS))
    start = draw(st.integers(0, len(form)))
    piece = form[start : start + draw(st.integers(0, 2 * (WINDOW + STRIDE)))]
    how = draw(st.sampled_from([None, *TRANSFORMS]))
    if how is not None:
        piece = TRANSFORMS[how](piece.encode())
    at = draw(st.integers(0, len(text)))
    return (text[:at] + piece + text[at:] + "".join(draw(st.lists(BITS, max_size=5)))).encode("utf-8", "surrogatepass")


PROPERTY = settings(max_examples=150, deadline=None, database=None)


@PROPERTY
@example(b"", True, True)
@example(b"&#34;&lt;&amp;lt;&amp", True, False)
@given(st.one_of(texts(), st.binary(max_size=200)), st.booleans(), st.booleans())
def test_any_text_reads_as_before(content, page, raw):
    _same(content, page=page, raw=raw)


@PROPERTY
@example("&notit;&amp;&#x26;amp;")
@given(st.lists(BITS, max_size=40).map("".join))
def test_unescape_is_the_reference(text):
    assert secretscan.unescape(text) == ref_unescape(text)


@PROPERTY
@given(st.binary(max_size=300))
def test_squeeze_is_the_reference(data):
    assert secretscan.squeeze(data) == ref_squeeze(data)


@settings(max_examples=40, deadline=None, database=None)
@given(
    st.lists(
        st.builds(
            Secret,
            st.sampled_from(["a", "b", "c"]),
            st.binary(min_size=1, max_size=40),
            st.booleans(),
        ),
        max_size=3,
    ),
    st.binary(max_size=120),
    st.integers(0, 60),
)
def test_other_secrets_read_as_before(secrets, filler, at):
    """Secrets of any value and length (passwords of any bytes included), in a text."""
    new, ref = Scanner(secrets), RefScanner(secrets)
    assert (new.windows, new.short, new.raw) == (ref.windows, ref.short, ref.raw)
    for secret in secrets:
        for form in (secret.value, secret.value.hex().encode(), base64.b64encode(secret.value)):
            content = filler[:at] + form + filler[at:]
            for page in (True, False):
                assert new.find(content, page=page) == ref.find(content, page=page)
