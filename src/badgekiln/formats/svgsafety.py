"""Is an SVG safe to serve from the provider's own domain?

A badge site lives on the training provider's domain. An SVG opened there (a link to
``badges/<slug>/image.svg`` or to a baked ``awards/<id>/badge.svg``) is a document of that
origin: a ``<script>`` in it could read nothing secret, but it could show a convincing login
form and phish earners. The ``_headers`` CSP for ``*.svg`` blocks scripts on Netlify and
Cloudflare Pages, but GitHub Pages and S3 ignore ``_headers``, so artwork must be safe by
itself. :func:`find_active_content` lists every reason an SVG is not.

The check is an allow-what-art-needs scan over one pass of expat:

* the parser refuses any DOCTYPE before its internal subset is read, so no entity is ever
  declared or expanded (no billion laughs, no external entities), and it never touches the
  network or the file system;
* anything that cannot be parsed is unsafe (the browser's parser might see what ours did not);
* elements that run code or embed documents, event-handler attributes, ``javascript:`` and
  non-image ``data:`` URLs, external references (``http(s):``, ``//``, ``@import``,
  ``url(http…)``) and animations that rewrite links are reported with their line number.

Relative references (``#gradient``, ``other.svg#shape``) stay on the site and are allowed, as
are ``data:image/png|jpeg|gif|webp`` URLs (raster art embedded by drawing programs).
"""

from __future__ import annotations

import functools
import re
from typing import Any
from xml.parsers import expat

import tinycss2  # type: ignore[import-untyped]

from badgekiln.errors import Diagnostic, SourceLocation

__all__ = ["find_active_content", "unsafe_svg_diagnostics"]

_XHTML = "http://www.w3.org/1999/xhtml"
_XINCLUDE = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")

# Local names (compared case-insensitively, in any namespace) of elements that run code or
# load and show another document.
MAX_DEPTH = 64  # elements inside one another

# Filters whose cost grows with an attribute, drawn by resvg for the badge's PNGs and cards: a
# 160-byte SVG with <feMorphology radius="100"> held a build for minutes (a fuzz test); a radius
# of 5 already takes seconds at 1024 pixels (its cost is the radius squared, per pixel).
MAX_CONVOLVE_ORDER = 5
MAX_OCTAVES = 4  # (8 over a large region took 5.6 s)
MAX_USES = 64
MAX_FILTERED = 8


def _numbers(text: str | None) -> list[float]:
    found = []
    for part in (text or "").replace(",", " ").split():
        try:
            found.append(float(part))
        except ValueError:
            found.append(float("inf"))  # (what resvg makes of it is not known: taken as too much)
    return found


def _morphology(attributes: dict[str, str]) -> str | None:
    return "(dilate or erode) takes a drawing program minutes: draw the outline as a path instead"


def _convolve(attributes: dict[str, str]) -> str | None:
    order = _numbers(attributes.get("order"))
    if any(not n <= MAX_CONVOLVE_ORDER for n in order):
        return f"has order {attributes.get('order')!r}, more than {MAX_CONVOLVE_ORDER} (its cost grows with its square)"
    return None


def _turbulence(attributes: dict[str, str]) -> str | None:
    octaves = _numbers(attributes.get("numOctaves"))
    if any(not n <= MAX_OCTAVES for n in octaves):
        return f"has numOctaves {attributes.get('numOctaves')!r}, more than {MAX_OCTAVES}"
    return None


_COSTLY_FILTERS = {"femorphology": _morphology, "feconvolvematrix": _convolve, "feturbulence": _turbulence}

_ACTIVE_ELEMENTS = {
    "script": "runs code",
    "foreignobject": "embeds HTML",
    "iframe": "embeds another page",
    "frame": "embeds another page",
    "frameset": "embeds other pages",
    "embed": "embeds external content",
    "object": "embeds external content",
    "applet": "runs code",
    "handler": "runs code (SVG Tiny event handler)",
    "listener": "attaches an event handler (XML Events)",
    "base": "changes where links point",
    "meta": "can redirect or change the page's policy",
    "link": "loads an external resource",
}
_ANIMATIONS = {"set", "animate", "animatemotion", "animatetransform", "animatecolor", "discard"}
_URL_ATTRIBUTES = {"href", "src", "base", "action", "formaction", "data", "codebase", "background"}
_SCRIPT_SCHEMES = ("javascript", "vbscript", "livescript", "mocha")
_SAFE_DATA_IMAGE = re.compile(r"^data:image/(?:png|jpeg|gif|webp)(?:;[a-z0-9=._+-]*)*,", re.IGNORECASE)
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
_URL_NOISE = re.compile(r"[\t\n\r]")  # browsers drop these anywhere in a URL
_SCRIPT_URL_ANYWHERE = re.compile(r"(?:java|vb|live)script:|mocha:", re.IGNORECASE)
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.DOTALL)
_CSS_HEX_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})[ \t\n\r\f]?")
_CSS_CHAR_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_CSS_NAMESPACE_RULE = re.compile(r"@namespace\b[^;]*;", re.IGNORECASE)
# url(...) up to its ')' or, unterminated, to the end (CSS closes it at the end of the sheet).
_CSS_URL = re.compile(r"url\(\s*(?:\"([^\"]*)\"?|'([^']*)'?|([^)]*?))\s*(?:\)|\Z)", re.IGNORECASE)
# Quoted strings are URLs too in image-set("…"), src("…") and @import "…".
_CSS_STRING = re.compile(r"\"([^\"]*)\"?|'([^']*)'?")
_CSS_EXPRESSION = re.compile(r"expression\s*\(")
_CSS_BINDING = re.compile(r"-moz-binding")
_CSS_BEHAVIOR = re.compile(r"\bbehavior\s*:")
# Without one of these (in lower case) neither reading of a CSS text can find a problem: a url(),
# @import, expression() or script URL is spelled out, or hidden by an escape, a comment or a string.
_CSS_NEEDLES = (
    "\\",
    "/*",
    '"',
    "'",
    "@",
    "url(",
    "expression",
    "script:",
    "mocha:",
    "-moz-binding",
    "behavior",
    "image",
    "src(",
)
_CSS_URL_FUNCTIONS = frozenset({"url", "src", "image-set", "-webkit-image-set", "image"})
_FETCHING_SCHEMES = {"http", "https", "ftp", "file", "data", *_SCRIPT_SCHEMES}


class _Stop(Exception):
    """Raised inside an expat handler to stop parsing (the reason is already recorded)."""


def find_active_content(svg: bytes) -> list[str]:
    """Every reason ``svg`` is unsafe to serve from the provider's domain; empty when safe.

    Args:
        svg: The SVG file's bytes.

    Returns:
        Human-readable reasons, each starting with ``line N:`` where the parser knows the
        line, in document order. An empty list means the SVG holds no script, event
        handler, script or non-image data URL, external reference, embedded document,
        DOCTYPE or entity.
    """
    return _Scan(svg).reasons


def unsafe_svg_diagnostics(svg: bytes, rel: str, location: SourceLocation) -> list[Diagnostic]:
    """One located ``error[unsafe-svg]`` per reason ``svg`` (the file ``rel``) is unsafe.

    Args:
        svg: The SVG file's bytes.
        rel: The image path as the sources give it (shown in the message).
        location: Where the sources refer to the image (or the image file itself).

    Returns:
        Diagnostics to add to validation's list; empty when the SVG is safe.
    """
    return [
        Diagnostic(
            "error",
            "unsafe-svg",
            f"image {rel!r} is not safe to publish on your domain: {reason}",
            location,
            "export the artwork again as plain SVG (no scripts, links, embedded HTML or web fonts), or use a PNG",
        )
        for reason in find_active_content(svg)
    ]


class _Scan:
    """One pass of expat over an SVG, collecting reasons it is unsafe."""

    def __init__(self, svg: bytes) -> None:
        self.reasons: list[str] = []
        self._depth = 0
        self._style_depth = 0  # > 0 inside a <style> element
        self._style_text: list[str] = []
        self._style_line = 0
        self._seen_root = False
        self._open_ids: list[str | None] = []  # the id of each element not yet ended
        self._holds_use: set[str] = set()  # ids of elements that are or hold a <use>
        self._use_targets: list[tuple[str, int]] = []  # (#id a <use> draws, its line)
        self._uses = 0
        self._filtered = 0  # elements drawn through a filter
        if svg.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")):
            self.reasons.append("line 1: the SVG is not UTF-8 (a UTF-16/32 byte-order mark); re-save it as UTF-8")
        parser = self._parser = expat.ParserCreate(None, " ")
        parser.buffer_text = True
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.XmlDeclHandler = self._xml_declaration
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._entity
        parser.UnparsedEntityDeclHandler = self._entity
        parser.NotationDeclHandler = self._entity
        parser.ExternalEntityRefHandler = self._external_entity
        parser.SkippedEntityHandler = self._skipped_entity
        parser.ProcessingInstructionHandler = self._processing_instruction
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        try:
            parser.Parse(svg, True)
        except _Stop:
            pass
        except expat.ExpatError as exc:
            self.reasons.append(
                f"line {exc.lineno}: the file is not well-formed XML "
                f"({expat.ErrorString(exc.code)}), so it cannot be checked"
            )
        except (ValueError, LookupError) as exc:  # e.g. encoding="UTF-7": expat cannot decode it
            self.reasons.append(f"line 1: the file cannot be read as XML ({exc}); re-save it as UTF-8")
        if not self.reasons and not self._seen_root:
            self.reasons.append("line 1: the file has no <svg> element")
        for target, line in self._use_targets:
            if target in self._holds_use:
                self._add(
                    f"a <use> draws #{target}, which holds a <use> itself (each draws its target again: "
                    "chains multiply the nesting and the cost of drawing)",
                    line,
                )

    # -- reporting --------------------------------------------------------------------------

    def _add(self, reason: str, line: int | None = None) -> None:
        self.reasons.append(f"line {line or self._parser.CurrentLineNumber}: {reason}")

    # -- declarations -----------------------------------------------------------------------

    def _xml_declaration(self, _version: str, encoding: str | None, _standalone: int) -> None:
        if encoding is not None and encoding.lower().replace("_", "-") not in ("utf-8", "utf8", "us-ascii", "ascii"):
            self._add(f"the SVG declares the encoding {encoding!r}; only UTF-8 is accepted")

    def _doctype(self, name: str, *_: object) -> None:
        # Stop before expat reads the internal subset: nothing declared there can take effect.
        self._add(
            f"the SVG has a DOCTYPE (<!DOCTYPE {name} …>), which can declare entities; delete it, SVG does not need one"
        )
        raise _Stop

    def _entity(self, name: str, *_: object) -> None:
        self._add(f"the SVG declares the entity or notation {name!r}")
        raise _Stop

    def _external_entity(self, *_: object) -> int:
        self._add("the SVG refers to an external entity")
        raise _Stop

    def _skipped_entity(self, name: str, *_: object) -> None:
        self._add(f"the SVG uses the undeclared entity &{name};")
        raise _Stop

    def _processing_instruction(self, target: str, data: str) -> None:
        if target.lower() == "xml-stylesheet":
            self._add(f"an <?xml-stylesheet {data}?> instruction loads a stylesheet")

    # -- elements ---------------------------------------------------------------------------

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        uri, local = _split(name)
        lower = local.lower()
        if self._depth == 0:
            self._seen_root = True
            if lower != "svg":
                self._add(f"the root element is <{local}>, not <svg>")
        self._depth += 1
        self._counted(lower, attributes)
        if self._depth == MAX_DEPTH + 1:  # (resvg overflowed its stack on 300 nested groups: a fuzz test)
            self._add(f"elements are nested more than {MAX_DEPTH} deep (a drawing program writes a few levels)")
        if lower in _COSTLY_FILTERS:
            problem = _COSTLY_FILTERS[lower](attributes)
            if problem:
                self._add(f"a <{local}> filter {problem}")
        if lower in _ACTIVE_ELEMENTS:
            self._add(f"a <{local}> element {_ACTIVE_ELEMENTS[lower]}")
        elif uri == _XHTML:
            self._add(f"an HTML <{local}> element (XHTML namespace) is not artwork")
        elif uri in _XINCLUDE:
            self._add(f"an XInclude <{local}> element pulls in another document")
        if lower == "style":
            self._style_depth += 1
            self._style_line = self._parser.CurrentLineNumber
        for attribute, value in attributes.items():
            self._attribute(local, attribute, value)
        if lower in _ANIMATIONS:
            target = _split(attributes.get("attributeName", "").strip().replace(":", " "))[1].lower()
            if target in _URL_ATTRIBUTES or target.startswith("on") or target == "style":
                self._add(f"a <{local}> element rewrites the '{attributes['attributeName']}' attribute")

    def _counted(self, lower: str, attributes: dict[str, str]) -> None:
        """What makes drawing cost grow past the file's size: <use> (each draws its target again:
        chained, 5 uses of 50 nested groups crashed resvg) and filtered elements (a review)."""
        local = {_split(key)[1].lower(): value for key, value in attributes.items()}
        self._open_ids.append(local.get("id"))
        if lower == "use":
            self._uses += 1
            if self._uses == MAX_USES + 1:
                self._add(f"more than {MAX_USES} <use> elements (each draws its target again)")
            self._holds_use.update(i for i in self._open_ids if i)
            href = local.get("href", "").strip()
            if href.startswith("#"):
                self._use_targets.append((href[1:], self._parser.CurrentLineNumber))
        if "filter" in local or "filter" in local.get("style", "").lower():
            self._filtered += 1
            if self._filtered == MAX_FILTERED + 1:
                self._add(f"more than {MAX_FILTERED} elements are drawn through a filter (each filter is drawn again)")

    def _end(self, name: str) -> None:
        self._depth -= 1
        self._open_ids.pop()
        if _split(name)[1].lower() == "style":
            self._style_depth -= 1
            if self._style_depth == 0:
                for problem in _css_problems("".join(self._style_text)):
                    self._add(f"the <style> element {problem}", self._style_line)
                self._style_text = []

    def _text(self, data: str) -> None:
        if self._style_depth:
            self._style_text.append(data)

    def _attribute(self, element: str, name: str, value: str) -> None:
        local = _split(name)[1]
        lower = local.lower()
        if lower.startswith("on"):
            self._add(f"the event-handler attribute {local}= on <{element}> runs code")
            return
        if lower in _URL_ATTRIBUTES:
            problem = _url_problem(value)
            if problem:
                self._add(f"<{element} {local}=…> {problem}")
                return
        elif _SCRIPT_URL_ANYWHERE.search(_URL_NOISE.sub("", value)):
            self._add(f"the attribute {local}= on <{element}> holds a script URL")
            return
        # Presentation attributes (fill=, filter=, an animation's to=, …) are CSS values too,
        # escapes and all, so every attribute is read as CSS.
        for problem in _css_problems(value):
            self._add(f"the {local}= attribute on <{element}> {problem}")


def _split(name: str) -> tuple[str, str]:
    """``(namespace URI, local name)`` from expat's ``"uri local"`` form."""
    parts = name.split(" ")
    return (parts[0], parts[1]) if len(parts) > 1 else ("", parts[0])


def _url_problem(value: str) -> str | None:
    """Why the URL ``value`` is unsafe in an SVG, or None for a fragment, relative or image data URL."""
    url = _URL_NOISE.sub("", value).strip(
        "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14"
        "\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "
    )
    if url.startswith(("//", "\\\\", "/\\", "\\/")):
        return f"refers to another site ({_short(url)})"
    match = _SCHEME.match(url)
    if match is None:
        return None  # '#id' or a path on the same site
    scheme = match.group(1).lower()
    if scheme in _SCRIPT_SCHEMES:
        return f"is a {scheme}: URL, which runs code"
    if scheme == "data":
        if _SAFE_DATA_IMAGE.match(url):
            return None
        return f"is a data: URL that is not a PNG/JPEG/GIF/WebP image ({_short(url)})"
    return f"refers to an external resource ({_short(url)})"


# Drawing programs repeat the same style and presentation values thousands of times.
@functools.lru_cache(maxsize=4096)
def _css_problems(css: str) -> tuple[str, ...]:
    """What is unsafe in a stylesheet, a ``style`` attribute or a presentation attribute.

    Two readings, and a problem either finds counts: tinycss2 tokenizes the text as a browser
    does (CSS Syntax Level 3: escapes undone in names and URLs, comments dropped, but not
    inside strings), and a conservative text pass undoes every escape and drops every comment
    first, so that a trick the tokenizer reads differently from some browser is still caught.
    The text given is what the browser's CSS parser gets: XML character references are
    already decoded by expat, CDATA sections are not.
    """
    lower = css.lower()
    if not any(needle in lower for needle in _CSS_NEEDLES):
        return ()
    problems = dict.fromkeys(_token_problems(css) + _text_problems(css))  # in order, without repeats
    return tuple(problems)


def _token_problems(css: str) -> list[str]:
    """Problems found by walking tinycss2's tokens."""
    problems: list[str] = []
    stack = list(reversed(tinycss2.parse_component_value_list(css, skip_comments=True)))  # next token last
    in_namespace_rule = False  # its url() or string names a namespace: nothing is fetched
    while stack:
        token = stack.pop()
        kind = token.type
        if in_namespace_rule:
            if kind in ("whitespace", "ident", "url", "string") or (kind == "function" and token.lower_name == "url"):
                continue
            in_namespace_rule = False
            if kind == "literal" and token.value == ";":
                continue
        if kind == "at-keyword":
            if token.lower_value == "import":
                problems.append("imports a stylesheet with @import")
            in_namespace_rule = token.lower_value == "namespace"
        elif kind == "url":
            problem = _url_problem(token.value)
            if problem:
                problems.append(f"has url({_short(token.value)}) that {problem}")
        elif kind == "error" and token.kind == "bad-url":
            problems.append("has a malformed url(…), which browsers may read in different ways")
        elif kind == "string":
            problem = _string_problem(token.value)
            if problem:
                problems.append(problem)
        elif kind == "function":
            name = token.lower_name
            if name == "expression":
                problems.append("uses a CSS expression(), which can run code")
            arguments = token.arguments
            if name in _CSS_URL_FUNCTIONS:  # their strings are URLs, relative or not
                problems += _url_argument_problems(name, arguments)
                arguments = [argument for argument in arguments if argument.type != "string"]
            stack.extend(reversed(arguments))
        elif kind in ("() block", "[] block", "{} block"):
            stack.extend(reversed(token.content))
    return problems


def _url_argument_problems(function: str, arguments: list[Any]) -> list[str]:
    """Problems with the string arguments of ``url()``, ``src()``, ``image-set()`` and the like."""
    problems = []
    for argument in arguments:
        if argument.type == "string":
            target = argument.value.strip()
            problem = _url_problem(target)
            if problem and function == "url":
                problems.append(f"has url({_short(target)}) that {problem}")
            elif problem:
                problems.append(f"has the string {_short(target)!r} that {problem}")
    return problems


def _string_problem(text: str) -> str | None:
    """Why a CSS string is unsafe: it looks like a fetchable or script URL (a bare word is not)."""
    target = text.strip()
    scheme = _SCHEME.match(target)
    if target.startswith(("//", "\\")) or (scheme and scheme.group(1).lower() in _FETCHING_SCHEMES):
        problem = _url_problem(target)
        if problem:
            return f"has the string {_short(target)!r} that {problem}"
    return None


def _text_problems(css: str) -> list[str]:
    """Problems found in the text with every comment removed and every escape undone."""
    text = _CSS_COMMENT.sub("", css)
    text = _CSS_HEX_ESCAPE.sub(lambda m: _css_char(m.group(1)), text)
    text = _CSS_CHAR_ESCAPE.sub(r"\1", text)
    text = _CSS_NAMESPACE_RULE.sub("", text)
    lower = text.lower()
    problems = []
    if "@import" in lower:
        problems.append("imports a stylesheet with @import")
    for match in _CSS_URL.finditer(text):
        target = next(g for g in match.groups() if g is not None)
        problem = _url_problem(target)
        if problem:
            problems.append(f"has url({_short(target)}) that {problem}")
    for match in _CSS_STRING.finditer(_CSS_URL.sub("", text)):
        problem = _string_problem(next(g for g in match.groups() if g is not None))
        if problem:
            problems.append(problem)
    if _SCRIPT_URL_ANYWHERE.search(lower):
        problems.append("holds a script URL")
    for needle, what in (
        (_CSS_EXPRESSION, "a CSS expression()"),
        (_CSS_BINDING, "-moz-binding"),
        (_CSS_BEHAVIOR, "a behavior: property"),
    ):
        if needle.search(lower):
            problems.append(f"uses {what}, which can run code")
    return problems


def _css_char(hex_digits: str) -> str:
    code = int(hex_digits, 16)
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
