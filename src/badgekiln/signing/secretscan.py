"""Finding secrets in what is about to be published, also when a template has transformed them.

A template from a pull request can turn a secret it got hold of into another text: reverse it,
change its case, split it across lines or between HTML tags, escape it for HTML, URLs or JSON,
or print it as hex or base64. So every published text is *normalised* before it is searched:
JSON, HTML and URL escapes are undone, a page's tags are also dropped in a second reading, and what
remains is lower-cased down to its letters and digits. Each secret is normalised the same way
in every form it can take (itself, reversed, hex, base64 at each of the three byte alignments,
and for key numbers their decimal form).

Searching each text for every form would cost too much on a site of 70,000 files, so each form
is cut into every window of :data:`WINDOW` characters (a set), and each text is sampled only
every :data:`STRIDE` characters: any run of ``WINDOW + STRIDE - 1`` characters of a form
(36 here: every whole form of a key, or any 144 bits of one in hex) contains a sampled window.
Shorter forms (a password's) are searched whole. What is not caught: a secret re-encoded by arbitrary computation (ROT13, XOR,
every other character). Templates never see a secret in the first place (see :mod:`.render`);
this scan is the second line.
"""

from __future__ import annotations

import base64
import re
import struct
import zlib
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import unquote_to_bytes

from badgekiln.formats import htmltext

WINDOW = 16  # characters of a normalised form that identify it (about 80 bits at the least)
STRIDE = 21  # a text is sampled every STRIDE characters: runs of WINDOW + STRIDE - 1 (36) are found,
# which is every whole form of a key (the shortest, an Ed25519 seed in base64, keeps 38 characters
# or more once its symbols are dropped)
MIN_SHORT = 8  # a normalised form shorter than this is too common to search for
RAW_MIN = 16  # raw key bytes are searched for byte for byte in binary files from this length

_KEEP = b"0123456789abcdefghijklmnopqrstuvwxyz"
# squeeze() in one pass: delete what is not a letter or digit, then lower-case the capitals that remain
_DELETE = bytes(b for b in range(256) if b not in _KEEP + _KEEP[10:].upper())
_LOWER = bytes.maketrans(_KEEP[10:].upper(), _KEEP[10:])
_JSON_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|(.))", re.DOTALL)
_JSON_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
_TAG = re.compile(rb"<[^<>]*>")
# html.unescape's own pattern of a character reference (formats/htmltext.py; the tests compare
# with html.unescape): each match replaced by what html.unescape makes of it alone, remembered: a
# page repeats the same few (&#34;, &lt;, &amp;), each then one look-up.
_CHARREF = htmltext.CHARREF
_charref_text = htmltext.reference_text
_PERCENT_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Chunks that hold only an image's pixels and how to show them: numbers, never text. Each is
# skipped only at a length its kind can have (PNG 1.2 §4.1): any other length, and its bytes are read.
PIXEL_CHUNKS = frozenset((b"IHDR", b"PLTE", b"IDAT", b"tRNS", b"IEND"))
_PIXEL_LENGTH = {
    b"IHDR": lambda n: n == 13,
    b"IEND": lambda n: n == 0,
    b"PLTE": lambda n: n % 3 == 0 and n <= 3 * 256,
    b"tRNS": lambda n: n <= 256,
    b"IDAT": lambda n: True,  # (compressed pixels)
}
# Bytes of compressed text inflated in one file, at most (a "zip bomb" of many small chunks must
# not cost gigabytes): past it, a compressed chunk is searched as it is, as it was before inflating.
MAX_INFLATED = 4 * 1024 * 1024


class Secret(NamedTuple):
    """Something that must never be published."""

    label: str  # how an error names it, e.g. "private key 2026-11-22-rsa-3f9a1c" (never the value)
    value: bytes
    binary: bool = False  # key bytes (a number): searched raw in binary files; else a text (password)


def squeeze(data: bytes) -> bytes:
    """Lower-case letters and digits only: what is left of a text whatever separates its characters."""
    return data.translate(_LOWER, _DELETE)


def unescape(text: str) -> str:
    """``text`` with JSON, HTML and URL escapes undone (three rounds, for escapes of escapes)."""
    for _ in range(3):
        before = text
        if "\\" in text:
            text = _JSON_ESCAPE.sub(_json_char, text)
        if "&" in text:
            text = _CHARREF.sub(_html_char, text)  # html.unescape(text), in 3/5 of its time on a page
        if "%" in text and _PERCENT_ESCAPE.search(text):
            text = _url_unescape(text)
        if text == before:
            break
    return text


def _url_unescape(text: str) -> str:
    """``text`` with its %XX escapes undone as ``urllib.parse.unquote`` does (UTF-8, what does
    not decode replaced), but in one pass over its bytes: ``unquote`` cuts a text at every
    character outside ASCII and decodes each piece alone, several times slower on a page."""
    return unquote_to_bytes(text.encode("utf-8", "surrogatepass")).decode("utf-8", "replace")


def _html_char(match: re.Match) -> str:
    return _charref_text(match.group())


def _json_char(match: re.Match) -> str:
    if match.group(1):
        return chr(int(match.group(1), 16))
    return _JSON_SIMPLE.get(match.group(2), match.group(2))


def _base64_forms(data: bytes) -> list[bytes]:
    """Base64 of ``data`` as it appears inside a longer encoded text, at each byte alignment:
    only the characters that depend on ``data`` alone (URL-safe base64 differs only in symbols)."""
    forms = []
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + data + b"\0\0")
        start, stop = -(-8 * pad // 6), (8 * pad + 8 * len(data)) // 6
        forms.append(encoded[start:stop])
    return forms


def _forms(secret: Secret) -> list[bytes]:
    """Every normalised form of ``secret`` that a published text might hold."""
    value = secret.value
    forms: list[bytes] = []
    if secret.binary:  # a big-endian number
        forms.append(value.hex().encode())
        forms.extend(_base64_forms(value))
        forms.append(str(int.from_bytes(value, "big")).encode())
        squeezed = [squeeze(f) for f in forms]
        return squeezed + [f[::-1] for f in squeezed]
    # A text (a password): itself, read unescaped if it looks escaped, in hex, each either way
    # round, and its base64 (a shorter password's forms are searched whole: few is faster).
    text = value.decode("utf-8", "replace")
    forms = [value, unescape(text).encode("utf-8", "surrogatepass"), value.hex().encode()]
    unique = {squeeze(f) for f in forms}
    return sorted(unique | {f[::-1] for f in unique} | {squeeze(_base64_forms(value)[0])})


def readable_parts(content: bytes) -> list[bytes]:
    """What of a file can hold a secret's text: for a PNG, the data of its chunks other than
    :data:`PIXEL_CHUNKS` (text chunks, compressed ones also inflated, and any chunk unknown
    here); for any other file, or a PNG that is not whole chunks from ``IHDR`` to ``IEND``
    (data after ``IEND``, a chunk cut short), all of it.

    A PNG of pixels only (a share card, an artwork without metadata) has no part to search:
    docs/security.md, "The output scan", says why that is safe.
    """
    if not content.startswith(PNG_SIGNATURE):
        return [content]
    parts: list[bytes] = []
    offset, end = len(PNG_SIGNATURE), len(content)
    kind = b""
    budget = MAX_INFLATED
    while offset + 12 <= end and kind != b"IEND":
        length, kind = struct.unpack_from(">I4s", content, offset)
        start = offset + 8
        offset = start + length + 4  # (the data, then its CRC)
        if offset > end or (kind == b"IHDR") != (start == len(PNG_SIGNATURE) + 8):
            return [content]  # cut short, or IHDR not first (or twice): searched whole
        if kind not in PIXEL_CHUNKS or not _PIXEL_LENGTH[kind](length):
            data = content[start : offset - 4]
            parts.append(data)
            inflated = _inflated_text(kind, data, budget)
            budget -= sum(len(text) for text in inflated)
            parts.extend(inflated)
    if kind != b"IEND" or offset != end:  # no IEND, or bytes after it
        return [content]
    return parts


def _inflated_text(kind: bytes, data: bytes, budget: int) -> list[bytes]:
    """The text of a compressed text chunk (``zTXt``, or ``iTXt`` with its compression flag
    set), inflated, at most ``budget`` bytes of it; nothing for any other chunk or data that does
    not inflate."""
    if budget <= 0:
        return []
    keyword_end = data.find(b"\0")
    if keyword_end < 0:
        return []
    if kind == b"zTXt":
        compressed = data[keyword_end + 2 :]
    elif kind == b"iTXt" and data[keyword_end + 1 : keyword_end + 2] == b"\1":
        language_end = data.find(b"\0", keyword_end + 3)
        translated_end = data.find(b"\0", language_end + 1) if language_end >= 0 else -1
        if translated_end < 0:
            return []
        compressed = data[translated_end + 1 :]
    else:
        return []
    try:
        return [zlib.decompressobj().decompress(compressed, budget)]
    except zlib.error:
        return []


class Scanner:
    """Searches published files for a fixed set of secrets."""

    def __init__(self, secrets: Iterable[Secret]):
        self.windows: dict[bytes, str] = {}
        self.short: list[tuple[bytes, str]] = []
        self.raw: list[tuple[bytes, str]] = []
        for secret in secrets:
            if secret.binary and len(secret.value) >= RAW_MIN and secret.label not in {label for _, label in self.raw}:
                self.raw.append((secret.value, secret.label))  # one number of each key (RSA d, Ed25519 seed) is enough
            for form in _forms(secret):
                if len(form) >= WINDOW + STRIDE - 1:
                    for start in range(len(form) - WINDOW + 1):
                        self.windows.setdefault(form[start : start + WINDOW], secret.label)
                elif len(form) >= MIN_SHORT:
                    self.short.append((form, secret.label))
        self.short = sorted(set(self.short), key=lambda item: (-len(item[0]), item))

    def __bool__(self) -> bool:
        return bool(self.windows or self.short or self.raw)

    def find(self, content: bytes, *, page: bool = True, raw: bool = False) -> str | None:
        """The label of a secret that ``content`` holds in some form, or None.

        ``page``: ``content`` may be a page a template made, so it is also read without its tags
        (characters interleaved with markup); artwork and documents are not read twice.
        ``raw``: also search the key bytes as they are when ``content`` reads as text (a part
        of a binary file, see :func:`readable_parts`); binary content is always searched so.
        """
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:  # an image: its raw bytes, and the letters and digits of its text chunks
            return self._find_raw(content) or self._find_squeezed(squeeze(content))
        if raw:
            found = self._find_raw(content)
            if found is not None:
                return found
        plain = unescape(text).encode("utf-8", "surrogatepass")
        found = self._find_squeezed(squeeze(plain))
        if found is None and page and b"<" in plain:  # characters interleaved with tags: read the text without them
            found = self._find_squeezed(squeeze(_TAG.sub(b"", plain)))
        return found

    def _find_raw(self, content: bytes) -> str | None:
        for raw, label in self.raw:
            if raw in content:
                return label
        return None

    def _find_squeezed(self, data: bytes) -> str | None:
        windows = self.windows
        if windows:
            # The samples data[i : i + WINDOW] for i in range(0, len(data) - WINDOW + 1, STRIDE),
            # cut in C by a struct, _CHUNK of them at a time (a list comprehension of slices was
            # a sixth of the scan's time), in order: the first one found names the secret.
            count = (len(data) - WINDOW) // STRIDE + 1 if len(data) >= WINDOW else 0
            keys = windows.keys()
            for first in range(0, count, _CHUNK):
                samples = _sampler(min(_CHUNK, count - first)).unpack_from(data, first * STRIDE)
                if not keys.isdisjoint(samples):
                    return next(windows[s] for s in samples if s in windows)
        for form, label in self.short:
            if form in data:
                return label
        return None


_CHUNK = 64  # samples cut by one struct (the 64 structs: 66 KB, whatever the size of a file)


@lru_cache(maxsize=_CHUNK)
def _sampler(count: int) -> struct.Struct:
    """Unpacks ``count`` samples from the offset given: WINDOW bytes, STRIDE - WINDOW skipped, and so on
    (STRIDE must not be less than WINDOW); the last sample needs no bytes after it."""
    return struct.Struct(f"{WINDOW}s{STRIDE - WINDOW}x" * (count - 1) + f"{WINDOW}s")


@lru_cache(maxsize=4)
def scanner(secrets: tuple[Secret, ...]) -> Scanner:
    """The scanner of ``secrets`` (made once per process: a build checks many plans with the same secrets)."""
    return Scanner(secrets)
