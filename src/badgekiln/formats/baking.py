"""Baking: put an Open Badges credential into a PNG or SVG image, and take it out again.

The names follow the Open Badges Baking specification (2.0 section "Baking"; 3.0 section 5.3):

* PNG: one ``iTXt`` chunk right after ``IHDR``, keyword ``openbadges`` (OB 2.0) or
  ``openbadgecredential`` (OB 3.0), compression flag 0, empty language tag and
  translated keyword, UTF-8 text.
* SVG: ``<openbadges:assertion verify="…">`` (OB 2.0, namespace ``http://openbadges.org``)
  or ``<openbadges:credential>`` (OB 3.0, namespace
  ``https://purl.imsglobal.org/ob/v3p0``) as the first child of the root element.

Every function here takes bytes and returns bytes (or text): no files, no network, no
clock. The artwork is never re-encoded. A PNG is edited chunk by chunk and an SVG is
edited as text after one safe parse, so everything except the baked part stays byte
for byte as the artist made it, and baking the same payload twice gives the same bytes.

Errors in the image or the payload raise :class:`~badgekiln.errors.BakeError`. Calling a
function with arguments that make no sense (an unknown OB version, an invalid PNG
keyword) raises :class:`ValueError`: that is a bug in the caller, not a user mistake.
"""

from __future__ import annotations

import functools
import re
import struct
import zlib
from dataclasses import dataclass, field
from typing import Literal, NoReturn, TypedDict
from xml.parsers import expat

from badgekiln.errors import BakeError
from badgekiln.formats.pngcheck import PngChunk, check_png_artwork, png_chunks

__all__ = [
    "OB2_PNG_KEYWORD",
    "OB2_SVG_NAMESPACE",
    "OB3_PNG_KEYWORD",
    "OB3_SVG_NAMESPACE",
    "SvgPayload",
    "bake_png",
    "bake_svg",
    "strip_png",
    "strip_svg",
    "unbake_png",
    "unbake_svg",
]

OB2_PNG_KEYWORD = "openbadges"
OB3_PNG_KEYWORD = "openbadgecredential"
OB2_SVG_NAMESPACE = "http://openbadges.org"
OB3_SVG_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"

# ---------------------------------------------------------------------------------------
# PNG
# ---------------------------------------------------------------------------------------

_TEXT_CHUNK_TYPES = frozenset({b"tEXt", b"zTXt", b"iTXt"})
_MAX_CHUNK_LENGTH = 2**31 - 1  # PNG spec 5.3
# Keywords of the chunks baking removes, lower-cased (see strip_png).
_OB_PNG_KEYWORDS = frozenset({b"openbadges", b"openbadgecredential"})
# A credential is a few KB; a compressed iTXt that inflates past this is hostile.
_MAX_INFLATED_TEXT = 16 * 1024 * 1024  # bytes


def bake_png(image: bytes, text: str, *, keyword: str = OB2_PNG_KEYWORD) -> bytes:
    """Return ``image`` with ``text`` baked into it as an ``iTXt`` chunk.

    The new chunk goes right after ``IHDR``. Every Open Badges chunk already in the image
    is removed first (see :func:`strip_png`), so baking twice leaves one chunk and no
    foreign credential survives. All other chunks are copied unchanged; the image is not
    decoded, but its structure is checked first (:func:`~badgekiln.formats.pngcheck.check_png_artwork`).

    Every chunk's CRC is checked, which costs about as much as copying the file, once
    per image: to bake one artwork for many awards, pass the same ``bytes`` object each
    time and the walk is reused.

    Args:
        image: A complete PNG file.
        text: What to bake: a JWS or JSON document, as text.
        keyword: ``"openbadges"`` for OB 2.0, ``"openbadgecredential"`` for OB 3.0.

    Returns:
        The baked PNG file.

    Raises:
        BakeError: ``image`` is not a well-formed PNG (bad signature, truncated, a chunk
            with a bad CRC, data after ``IEND``, no image data, a bad ``IHDR``, larger than
            4096x4096 pixels), or ``text`` cannot be stored (it holds a NUL character or a
            lone surrogate).
        ValueError: ``keyword`` is not a valid PNG keyword.
    """
    key = _png_keyword(keyword)
    chunk = _itxt_chunk(key, text)
    image = bytes(image)  # the same object when it is bytes already (the cache needs bytes)
    return _replace_png_payloads(image, chunk, key)


def strip_png(image: bytes) -> bytes:
    """Return ``image`` without any Open Badges chunk, after the same checks as :func:`bake_png`.

    An Open Badges chunk is any ancillary chunk (``iTXt``, ``tEXt``, ``zTXt`` or another)
    whose keyword is ``openbadges`` or ``openbadgecredential`` in any case, with or without
    surrounding spaces: a superset of what the spec names and what openbadges-bakery reads
    (and removes: any chunk whose data starts with ``openbadges\\0``). An image without one
    is returned unchanged (the same bytes).

    Args:
        image: A complete PNG file.

    Returns:
        The PNG without Open Badges chunks.

    Raises:
        BakeError: As :func:`bake_png`.
    """
    return _replace_png_payloads(bytes(image), b"", None)


def _replace_png_payloads(image: bytes, chunk: bytes, key: bytes | None) -> bytes:
    """``image`` with every Open Badges chunk (and any with ``key``) dropped, ``chunk`` after IHDR."""
    _, chunks = check_png_artwork(image)
    keys = _OB_PNG_KEYWORDS | {key.lower()} if key else _OB_PNG_KEYWORDS
    drop = [c for c in chunks[1:] if _is_payload_chunk(image, c, keys)]
    if not chunk and not drop:
        return image
    view = memoryview(image)
    ihdr_end = chunks[0].stop
    parts: list[bytes | memoryview] = [view[:ihdr_end], chunk]
    keep_from = ihdr_end
    for c in drop:
        parts.append(view[keep_from : c.start])
        keep_from = c.stop
    parts.append(view[keep_from:])
    return b"".join(parts)


def _is_payload_chunk(image: bytes, chunk: PngChunk, keys: frozenset[bytes]) -> bool:
    """Whether ``chunk`` is ancillary and its keyword (any case, spaces trimmed) is one of ``keys``."""
    if not chunk.type[:1].islower():
        return False
    head = image[chunk.data_start : min(chunk.data_stop, chunk.data_start + 81)]
    return head.split(b"\x00", 1)[0].strip(b" ").lower() in keys


def unbake_png(image: bytes, *, keyword: str = OB2_PNG_KEYWORD) -> str | None:
    """Return the text baked into a PNG under ``keyword``, or ``None`` if there is none.

    The first ``iTXt`` chunk with the keyword wins (compressed ones are inflated). For
    OB 2.0 (``keyword="openbadges"``) a legacy ``tEXt`` chunk is read when there is no
    ``iTXt`` one; its text is decoded as UTF-8, or as Latin-1 (what the PNG spec says
    ``tEXt`` holds) when it is not valid UTF-8. The keyword must match exactly, as the
    spec says; the image's structure is checked (:func:`~badgekiln.formats.pngcheck.png_chunks`)
    but not its size, since a verifier reads badges it did not make.

    Args:
        image: A complete PNG file.
        keyword: ``"openbadges"`` for OB 2.0, ``"openbadgecredential"`` for OB 3.0.

    Returns:
        The baked text, or ``None``.

    Raises:
        BakeError: ``image`` is not a well-formed PNG, or the matching chunk is malformed
            (bad header, bad compression, not UTF-8, inflates beyond 16 MiB).
        ValueError: ``keyword`` is not a valid PNG keyword.
    """
    key = _png_keyword(keyword)
    prefix_len = len(key) + 1
    legacy: bytes | None = None
    image = bytes(image)
    for chunk in png_chunks(image):
        ctype, start, stop = chunk.type, chunk.start, chunk.stop
        if not _is_text_chunk_with_key(image, ctype, start, stop, key):
            continue
        data = image[start + 8 + prefix_len : stop - 4]
        if ctype == b"iTXt":
            return _itxt_text(data, keyword)
        if ctype == b"tEXt" and keyword == OB2_PNG_KEYWORD and legacy is None:
            legacy = data
    if legacy is None:
        return None
    try:
        return legacy.decode("utf-8")
    except UnicodeDecodeError:
        return legacy.decode("latin-1")


def _png_keyword(keyword: str) -> bytes:
    """The keyword as Latin-1 bytes, checked against PNG spec 11.3.4.2."""
    try:
        key = keyword.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"PNG keyword {keyword!r} is not Latin-1") from None
    printable = all(32 <= b <= 126 or b >= 161 for b in key)
    if not (1 <= len(key) <= 79 and printable) or key != key.strip(b" ") or b"  " in key:
        raise ValueError(f"{keyword!r} is not a valid PNG keyword")
    return key


def _itxt_chunk(key: bytes, text: str) -> bytes:
    """A complete uncompressed ``iTXt`` chunk (length, type, data, CRC)."""
    if "\x00" in text:
        raise BakeError("cannot bake text that contains a NUL character into a PNG")
    try:
        body = text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise BakeError(f"cannot bake text that is not valid Unicode: {e}") from e
    # keyword NUL, compression flag 0, method 0, empty language tag NUL, empty
    # translated keyword NUL, then the text (not NUL-terminated).
    data = key + b"\x00\x00\x00\x00\x00" + body
    if len(data) > _MAX_CHUNK_LENGTH:
        raise BakeError("text is too long for one PNG chunk")
    head = struct.pack(">I", len(data)) + b"iTXt"
    crc = zlib.crc32(data, zlib.crc32(b"iTXt"))
    return head + data + struct.pack(">I", crc)


def _is_text_chunk_with_key(image: bytes, ctype: bytes, start: int, stop: int, key: bytes) -> bool:
    """Whether the chunk at ``start`` is a text chunk whose keyword is ``key``."""
    return ctype in _TEXT_CHUNK_TYPES and image.startswith(key + b"\x00", start + 8, stop - 4)


def _itxt_text(data: bytes, keyword: str) -> str:
    """The text of an ``iTXt`` chunk, given its data after ``keyword NUL``."""
    where = f"the {keyword!r} iTXt chunk"
    if len(data) < 4:
        raise BakeError(f"corrupt PNG: {where} is too short")
    flag, method = data[0], data[1]
    lang_end = data.find(b"\x00", 2)
    tkey_end = data.find(b"\x00", lang_end + 1) if lang_end >= 0 else -1
    if flag not in (0, 1) or (flag == 1 and method != 0) or tkey_end < 0:
        raise BakeError(f"corrupt PNG: {where} has an invalid header")
    raw = data[tkey_end + 1 :]
    if flag == 1:
        inflater = zlib.decompressobj()
        try:
            raw = inflater.decompress(raw, _MAX_INFLATED_TEXT)
        except zlib.error as e:
            raise BakeError(f"corrupt PNG: {where} does not decompress: {e}") from e
        if inflater.unconsumed_tail or not inflater.eof:
            raise BakeError(f"corrupt PNG: {where} is cut off or inflates to more than 16 MiB")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BakeError(f"corrupt PNG: {where} is not UTF-8: {e}") from e


# ---------------------------------------------------------------------------------------
# SVG
# ---------------------------------------------------------------------------------------

_OB_ELEMENTS: dict[int, tuple[str, str]] = {
    2: (OB2_SVG_NAMESPACE, "assertion"),
    3: (OB3_SVG_NAMESPACE, "credential"),
}
_OB_VERSIONS: dict[tuple[str, str], Literal[2, 3]] = {
    (OB2_SVG_NAMESPACE, "assertion"): 2,
    (OB3_SVG_NAMESPACE, "credential"): 3,
}
_OB_NAMESPACES = frozenset(ns for ns, _ in _OB_ELEMENTS.values())
# What strip_svg removes, compared without scheme, case or trailing slash (see _is_ob_namespace).
_OB_NAMESPACE_VARIANTS = frozenset({"openbadges.org", "purl.imsglobal.org/ob/v3p0", "purl.imsglobal.org/spec/ob/v3p0"})
_SVG_NAMESPACE = "http://www.w3.org/2000/svg"

# A start or end tag at a given offset. Attribute values may hold ">" but never a quote of
# their own kind, so matching quoted runs as units finds the real end of the tag.
_TAG = re.compile(rb"""<[^"'>]*(?:(?:"[^"]*"|'[^']*')[^"'>]*)*>""")
_TAG_NAME = re.compile(rb"<([^\s/>]+)")
_ATTRIBUTE = re.compile(rb"""\s([^\s=/>]+)\s*=\s*("[^"]*"|'[^']*')""")
# Characters XML 1.0 cannot carry at all (section 2.2).
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class SvgPayload(TypedDict):
    """What :func:`unbake_svg` found in a baked SVG.

    ``version`` is 2 for ``<openbadges:assertion>`` (``http://openbadges.org``) and 3 for
    ``<openbadges:credential>`` (``https://purl.imsglobal.org/ob/v3p0``). ``verify`` is
    the ``verify`` attribute (OB 2.0: assertion URL or JWS; OB 3.0: VC-JWT) and ``body``
    the element's text, CDATA sections joined (OB 2.0 hosted: assertion JSON; OB 3.0:
    credential JSON). Either is ``None`` when absent.
    """

    version: Literal[2, 3]
    verify: str | None
    body: str | None


def bake_svg(
    svg: bytes,
    *,
    assertion_json: str | None = None,
    verify: str | None = None,
    version: int = 2,
) -> bytes:
    """Return ``svg`` with an Open Badges element inserted as the root's first child.

    OB 2.0 (``version=2``) needs ``verify``: the assertion URL for a hosted assertion,
    given together with ``assertion_json``, or the JWS for a signed one, given alone
    (the element is then empty). OB 3.0 (``version=3``) needs exactly one of them:
    ``verify`` for a VC-JWT, ``assertion_json`` for a credential with an embedded proof.

    The root element gets ``xmlns:openbadges`` for the version's namespace. Every
    existing OB 2.0 or 3.0 element is removed first, so baking twice leaves one. Apart
    from that the SVG's bytes are kept as they are. JSON text goes into CDATA; a
    ``]]>`` inside it is split across two CDATA sections. As with :func:`bake_png`, the
    parse is reused when the same ``bytes`` object is baked again.

    Args:
        svg: A UTF-8 SVG document without a DOCTYPE.
        assertion_json: The assertion or credential JSON, as text.
        verify: The ``verify`` attribute: assertion URL or JWS (OB 2.0), VC-JWT (OB 3.0).
        version: 2 or 3.

    Returns:
        The baked SVG document.

    Raises:
        BakeError: ``svg`` is not a well-formed UTF-8 SVG, has a DOCTYPE or entity
            declarations, or binds the ``openbadges`` prefix to another namespace; or
            a payload holds characters XML cannot carry.
        ValueError: The version is not 2 or 3, or the payload does not fit it.
    """
    element = _ob_element(version, assertion_json, verify)
    svg = bytes(svg)  # the same object when it is bytes already (the cache needs bytes)
    plan = _svg_edit_plan(svg)
    start, end = plan.root_span
    root_tag = _root_start_tag(svg[start:end], _OB_ELEMENTS[version][0], plan.root_drop)
    if root_tag.endswith(b"/>"):  # <svg .../> has no children yet
        qname = _TAG_NAME.match(root_tag).group(1)  # type: ignore[union-attr]
        replacement = root_tag[:-2] + b">" + element + b"</" + qname + b">"
    else:
        replacement = root_tag + element
    return _apply_edits(svg, [(start, end, replacement), *_payload_edits(svg, plan)])


def strip_svg(svg: bytes) -> bytes:
    """Return ``svg`` without any Open Badges element, attribute or namespace declaration.

    Removed, wherever they sit: every element in an Open Badges namespace (under any
    prefix, or the default namespace) and every element whose prefix is ``openbadges``
    in any case (openbadges-bakery finds ``openbadges:assertion`` by name, whatever the
    namespace); every attribute in an Open Badges namespace; every ``xmlns`` declaration
    binding a prefix to one. Open Badges namespaces are ``http://openbadges.org`` and
    ``https://purl.imsglobal.org/ob/v3p0`` with either scheme, in any case, with or
    without a trailing slash (and ``…/spec/ob/v3p0``). An SVG without any is returned
    unchanged (the same bytes); otherwise the rest is kept byte for byte.

    Args:
        svg: A UTF-8 SVG document without a DOCTYPE.

    Returns:
        The SVG without Open Badges content.

    Raises:
        BakeError: As :func:`unbake_svg`.
    """
    svg = bytes(svg)
    plan = _svg_edit_plan(svg)
    start, end = plan.root_span
    edits = _payload_edits(svg, plan)
    if plan.root_drop:
        edits.append((start, end, _drop_attributes(svg[start:end], plan.root_drop)))
    return _apply_edits(svg, edits) if edits else svg


def _payload_edits(svg: bytes, plan: _SvgEditPlan) -> list[tuple[int, int, bytes]]:
    """Edits removing Open Badges elements, and attributes below the root (not the root's)."""
    edits = [(s, e, b"") for s, e in plan.ob_spans]
    edits += [(s, e, _drop_attributes(svg[s:e], names)) for s, e, names in plan.tag_edits]
    return edits


def _apply_edits(svg: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """``svg`` with each ``(start, end)`` span replaced; the spans do not overlap."""
    parts: list[bytes] = []
    pos = 0
    for s, e, new in sorted(edits):
        parts += [svg[pos:s], new]
        pos = e
    parts.append(svg[pos:])
    return b"".join(parts)


def unbake_svg(svg: bytes) -> SvgPayload | None:
    """Return the first Open Badges element baked into an SVG, or ``None``.

    Both OB 2.0 ``<openbadges:assertion>`` and OB 3.0 ``<openbadges:credential>`` are
    recognised by namespace, wherever they sit. Whitespace around the CDATA sections is
    dropped; the text inside them is returned exactly.

    Args:
        svg: An SVG document (UTF-8, no DOCTYPE).

    Returns:
        ``{"version": 2 | 3, "verify": str | None, "body": str | None}``, or ``None``.

    Raises:
        BakeError: ``svg`` is not a well-formed UTF-8 SVG or has a DOCTYPE.
    """
    found = _SvgScan(svg).first
    if found is None:
        return None
    return SvgPayload(version=found.version, verify=found.verify, body=found.body())


@dataclass(frozen=True)
class _SvgEditPlan:
    """Where baking edits an SVG: the root start tag, the Open Badges content to remove."""

    root_span: tuple[int, int]
    root_drop: frozenset[bytes]  # attribute names to remove from the root start tag
    ob_spans: tuple[tuple[int, int], ...]  # outermost Open Badges elements
    tag_edits: tuple[tuple[int, int, frozenset[bytes]], ...]  # other start tags, names to remove


# Parsing costs about 100 µs for a small SVG, far more than the edit. A build bakes the
# same artwork for every award of a badge, so the plan is memoized per bytes value
# (see pngcheck.png_chunks). Errors are not cached.
@functools.lru_cache(maxsize=16)
def _svg_edit_plan(svg: bytes) -> _SvgEditPlan:
    """Parse ``svg`` once and say what baking or stripping changes."""
    scan = _SvgScan(svg)
    return _SvgEditPlan(scan.root_span, scan.root_drop, tuple(scan.ob_spans), tuple(scan.tag_edits))


def _is_ob_namespace(uri: str) -> bool:
    """Whether ``uri`` is, or looks meant to be, an Open Badges SVG namespace."""
    bare = uri.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    return bare in _OB_NAMESPACE_VARIANTS


def _ob_element(version: int, body: str | None, verify: str | None) -> bytes:
    """The serialized ``openbadges:`` element for this version and payload."""
    if version not in _OB_ELEMENTS:
        raise ValueError(f"Open Badges version must be 2 or 3, not {version!r}")
    if version == 2 and verify is None:
        raise ValueError("OB 2.0 SVG baking needs verify (the assertion URL or the JWS)")
    if version == 3 and (verify is None) == (body is None):
        raise ValueError("OB 3.0 SVG baking needs exactly one of verify (VC-JWT) or assertion_json")
    qname = b"openbadges:" + _OB_ELEMENTS[version][1].encode("ascii")
    tag = b"<" + qname
    if verify is not None:
        tag += b' verify="' + _xml_attribute(verify) + b'"'
    if body is None:
        return tag + b"/>"
    return tag + b">" + _xml_cdata(body) + b"</" + qname + b">"


def _xml_attribute(value: str) -> bytes:
    """``value`` escaped for a double-quoted attribute, whitespace kept exact."""
    _check_xml_text(value, "the verify value")
    for char, ref in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        value = value.replace(char, ref)
    # Parsers turn literal tabs and newlines in attributes into spaces; references survive.
    for char, ref in (("\t", "&#9;"), ("\n", "&#10;"), ("\r", "&#13;")):
        value = value.replace(char, ref)
    return value.encode("utf-8")


def _xml_cdata(text: str) -> bytes:
    """``text`` as CDATA sections, starting and ending with one."""
    _check_xml_text(text, "the JSON")
    # "]]>" would end the section: close it after "]]" and reopen before ">". A CR would
    # be read back as LF (XML 2.11), so it goes between sections as a character reference.
    text = text.replace("]]>", "]]]]><![CDATA[>").replace("\r", "]]>&#13;<![CDATA[")
    return b"<![CDATA[" + text.encode("utf-8") + b"]]>"


def _check_xml_text(text: str, what: str) -> None:
    """Refuse characters that no XML 1.0 document can hold."""
    bad = _NOT_XML_CHAR.search(text)
    if bad:
        raise BakeError(f"{what} holds U+{ord(bad.group()):04X}, which XML cannot carry")


def _root_start_tag(tag: bytes, namespace: str, drop: frozenset[bytes]) -> bytes:
    """The root start tag with ``xmlns:openbadges`` bound to ``namespace``, ``drop`` removed.

    An existing ``xmlns:openbadges`` declaration is replaced where it stands; otherwise the
    new one goes after the last attribute.
    """
    declaration = b' xmlns:openbadges="' + namespace.encode("ascii") + b'"'
    last_end = _TAG_NAME.match(tag).end()  # type: ignore[union-attr]
    for attribute in _ATTRIBUTE.finditer(tag):
        if attribute.group(1) != b"xmlns:openbadges":
            last_end = attribute.end()
            continue
        current = attribute.group(2)[1:-1].decode("utf-8")
        if not _is_ob_namespace(current):
            raise BakeError(
                f"the SVG root binds the prefix 'openbadges' to {current!r}, not to an Open Badges namespace"
            )
        start, end = attribute.span()
        return _drop_attributes(tag[:start], drop) + declaration + _drop_attributes(tag[end:], drop)
    tag = tag[:last_end] + declaration + tag[last_end:]
    return _drop_attributes(tag, drop - {b"xmlns:openbadges"})


def _drop_attributes(tag: bytes, names: frozenset[bytes]) -> bytes:
    """A start tag (or a piece of one) without the attributes named ``names``."""
    if not names:
        return tag
    return _ATTRIBUTE.sub(lambda m: b"" if m.group(1) in names else m.group(0), tag)


@dataclass
class _Found:
    """The first Open Badges element of an SVG, as the parser saw it."""

    version: Literal[2, 3]
    verify: str | None
    texts: list[tuple[bool, str]] = field(default_factory=list)  # (in CDATA, text)

    def body(self) -> str | None:
        texts = self.texts
        # Drop whitespace-only runs outside CDATA at both ends (indentation), but keep
        # the ones between sections: bake_svg writes a CR there as "&#13;".
        while texts and not texts[0][0] and not texts[0][1].strip():
            texts = texts[1:]
        while texts and not texts[-1][0] and not texts[-1][1].strip():
            texts = texts[:-1]
        return "".join(text for _, text in texts) if texts else None


class _SvgScan:
    """One safe pass of expat over an SVG, keeping the byte spans that baking edits.

    expat is set up to refuse any DOCTYPE (so no entity can be declared: no billion
    laughs, no external entities) and to read the document as UTF-8 only, because the
    text-level edits of :func:`bake_svg` write UTF-8.

    Attributes:
        root_span: Start and end offsets of the root element's start tag.
        ob_spans: Spans of the outermost elements in an Open Badges namespace.
        first: The first ``assertion`` or ``credential`` element, if any.
    """

    def __init__(self, svg: bytes) -> None:
        if svg.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise BakeError("the SVG is UTF-16; only UTF-8 SVG files can be baked")
        self.svg = svg
        self.root_span = (0, 0)
        self.root_drop: frozenset[bytes] = frozenset()
        self.ob_spans: list[tuple[int, int]] = []
        self.tag_edits: list[tuple[int, int, frozenset[bytes]]] = []
        self.first: _Found | None = None
        self._declared: list[bytes] = []  # xmlns attributes of the next start tag that bind an OB namespace
        self._depth = 0
        self._ob_depth = 0  # depth inside an Open Badges element, 0 when outside
        self._ob_start = 0
        self._collecting = False  # inside the first Open Badges element
        self._in_cdata = False
        parser = self._parser = expat.ParserCreate("UTF-8", " ")
        parser.namespace_prefixes = True
        parser.buffer_text = True  # one text event per run instead of one per line
        parser.XmlDeclHandler = self._xml_declaration
        parser.StartDoctypeDeclHandler = self._refuse_doctype
        parser.EntityDeclHandler = self._refuse_entity
        parser.UnparsedEntityDeclHandler = self._refuse_entity
        parser.ExternalEntityRefHandler = self._refuse_entity
        parser.SkippedEntityHandler = self._refuse_entity
        parser.StartNamespaceDeclHandler = self._namespace_declaration
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        parser.StartCdataSectionHandler = self._start_cdata
        parser.EndCdataSectionHandler = self._end_cdata
        try:
            parser.Parse(svg, True)
        except expat.ExpatError as e:
            raise BakeError(f"the SVG is not well-formed XML: {e}") from e

    @staticmethod
    def _refuse_doctype(*_: object) -> NoReturn:
        raise BakeError(
            "the SVG has a DOCTYPE, which baking refuses (it could declare entities); "
            "delete the <!DOCTYPE …> line, SVG does not need it"
        )

    @staticmethod
    def _refuse_entity(*_: object) -> NoReturn:
        raise BakeError("the SVG declares or references an entity, which baking refuses")

    @staticmethod
    def _xml_declaration(_version: str, encoding: str | None, _standalone: int) -> None:
        if encoding is not None and encoding.lower() not in ("utf-8", "utf8"):
            raise BakeError(f"the SVG is encoded as {encoding}; re-save it as UTF-8")

    def _namespace_declaration(self, prefix: str | None, uri: str) -> None:
        if _is_ob_namespace(uri):
            self._declared.append(b"xmlns:" + prefix.encode() if prefix else b"xmlns")

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        uri, local, prefix = _split_name(name)
        offset = self._parser.CurrentByteIndex
        drop = frozenset(
            self._declared
            + [
                f"{a_prefix}:{a_local}".encode()
                for a_uri, a_local, a_prefix in map(_split_name, attributes)
                if a_prefix and _is_ob_namespace(a_uri)
            ]
        )
        self._declared = []
        if self._depth == 0:
            if local != "svg" or uri not in (_SVG_NAMESPACE, ""):
                raise BakeError(f"the root element is <{local}>, not <svg>")
            self.root_span = (offset, _tag_end(self.svg, offset))
            self.root_drop = drop
        elif self._ob_depth:
            self._ob_depth += 1
        elif _is_ob_namespace(uri) or prefix.lower() == "openbadges":
            self._ob_depth, self._ob_start = 1, offset
            version = _OB_VERSIONS.get((uri, local))
            if self.first is None and version is not None:
                self.first = _Found(version, attributes.get("verify"))
                self._collecting = True
        elif drop:
            self.tag_edits.append((offset, _tag_end(self.svg, offset), drop))
        self._depth += 1

    def _end(self, _name: str) -> None:
        self._depth -= 1
        if self._ob_depth:
            self._ob_depth -= 1
            if not self._ob_depth:
                end = _element_end(self.svg, self._ob_start, self._parser.CurrentByteIndex)
                self.ob_spans.append((self._ob_start, end))
                self._collecting = False

    def _text(self, data: str) -> None:
        if self._collecting and self.first is not None:
            texts = self.first.texts
            if texts and texts[-1][0] == self._in_cdata:
                texts[-1] = (self._in_cdata, texts[-1][1] + data)
            else:
                texts.append((self._in_cdata, data))

    def _start_cdata(self) -> None:
        self._in_cdata = True
        if self._collecting and self.first is not None:
            self.first.texts.append((True, ""))  # so that an empty section still counts

    def _end_cdata(self) -> None:
        self._in_cdata = False


def _split_name(name: str) -> tuple[str, str, str]:
    """``(namespace URI, local name, prefix)`` from expat's ``"uri local prefix"`` form."""
    parts = name.split(" ")
    if len(parts) == 1:
        return "", parts[0], ""
    return parts[0], parts[1], parts[2] if len(parts) > 2 else ""


def _tag_end(svg: bytes, offset: int) -> int:
    """One past the ``>`` of the tag that starts at ``offset``."""
    match = _TAG.match(svg, offset)
    if match is None:  # expat has accepted the tag, so this cannot happen
        raise BakeError(f"cannot find the end of the tag at byte {offset}")
    return match.end()


def _element_end(svg: bytes, start: int, end_event: int) -> int:
    """One past an element that starts at ``start``; ``end_event`` is expat's end offset."""
    start_tag_end = _tag_end(svg, start)
    if svg[start_tag_end - 2 : start_tag_end] == b"/>":
        return start_tag_end
    return _tag_end(svg, end_event)
