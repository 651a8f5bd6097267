"""A site's templates/ folder is hostile (it comes from pull requests like every other source).

Three promises, each with the tests that break without its mitigation (docs/security.md, T11):

1. No secret leaves through a template: the output scan (``badgekiln.signing.secretscan``) finds the loaded
   private keys, every key in ``$BADGEKILN_PRIVATE_KEYS`` and ``$BADGEKILN_SMTP_PASSWORD`` in
   every form a template can give them, and the build fails naming the file and the template.
2. Templates cannot reach the environment or Python internals, and get plain values only.
3. Templates cannot exhaust the machine: every limit ends in ``templates/<name>:LINE: template error``.
"""

from __future__ import annotations

import base64
import html
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from urllib.parse import quote

import jinja2
import pytest
from conftest import TODAY, build, tree_bytes, write_site
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

import badgekiln
from badgekiln.crypto.multikey import rsa_public_jwk
from badgekiln.pages.render import Renderer, check_plain, make_environment
from badgekiln.pages.sandbox import TemplateLimitError, static_problems
from badgekiln.signing.keys import key_secrets, public_pem
from badgekiln.signing.secretscan import Scanner, Secret

PASSWORD = "Tr0ub4dor&3 <horse> Battery-staple"
ED_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(7, 39)))
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SECRETS = (
    *key_secrets(ED_KEY, "private key ed"),
    *key_secrets(RSA_KEY, "private key rsa"),
    Secret("$BADGEKILN_SMTP_PASSWORD", PASSWORD.encode()),
)


def _page(text: str) -> bytes:
    """``text`` published inside an ordinary page."""
    return (
        f'<!doctype html><html lang="en"><head><title>Award</title></head><body><main><h1>Pipefitting</h1>'
        f'<p class="prose">{text}</p><a href="https://example.org/x?y=1&amp;z=2">Evidence</a></main>'
        f"</body></html>\n"
    ).encode()


def _b64(data: bytes, *, urlsafe: bool = False) -> str:
    encoded = base64.urlsafe_b64encode(data) if urlsafe else base64.b64encode(data)
    return encoded.decode().rstrip("=")


def _rsa_d() -> bytes:
    d = RSA_KEY.private_numbers().d
    return d.to_bytes((d.bit_length() + 7) // 8, "big")


def _private_pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _pem_body(key) -> str:
    return "".join(line for line in _private_pem(key).splitlines() if not line.startswith("-----"))


SEED = ED_KEY.private_bytes_raw()

# (secret as published, the label the scan must name); each transform is one template can make.
TRANSFORMS = {
    "password-plain": (PASSWORD, "SMTP"),
    "password-reversed": (PASSWORD[::-1], "SMTP"),
    "password-upper": (PASSWORD.upper(), "SMTP"),
    "password-lower": (PASSWORD.lower(), "SMTP"),
    "password-base64": (_b64(PASSWORD.encode()), "SMTP"),
    "password-base64-urlsafe": (_b64(PASSWORD.encode(), urlsafe=True), "SMTP"),
    "password-hex": (PASSWORD.encode().hex(), "SMTP"),
    "password-split-across-lines": ("\n".join(PASSWORD[i : i + 4] for i in range(0, len(PASSWORD), 4)), "SMTP"),
    "password-interleaved-whitespace": (" \t".join(PASSWORD), "SMTP"),
    "password-interleaved-html": ("".join(f"<span>{html.escape(c)}</span><br>" for c in PASSWORD), "SMTP"),
    "password-html-escaped": (html.escape(PASSWORD), "SMTP"),
    "password-html-entities": ("".join(f"&#{ord(c)};" for c in PASSWORD), "SMTP"),
    "password-url-escaped": (quote(PASSWORD, safe=""), "SMTP"),
    "password-json-escaped": ("".join(f"\\u{ord(c):04x}" for c in PASSWORD), "SMTP"),
    "password-json-in-script": (json.dumps({"x": PASSWORD}).replace("<", "\\u003c").replace("&", "\\u0026"), "SMTP"),
    "password-reversed-then-url-escaped": (quote(PASSWORD[::-1], safe=""), "SMTP"),
    "password-html-escaped-twice": (html.escape(html.escape(PASSWORD)), "SMTP"),
    "ed25519-jwk-d": (_b64(SEED, urlsafe=True), "private key ed"),
    "ed25519-hex-upper": (SEED.hex().upper(), "private key ed"),
    "ed25519-decimal": (str(int.from_bytes(SEED, "big")), "private key ed"),
    "ed25519-pem-body-reversed": (_pem_body(ED_KEY)[::-1], "private key ed"),
    "ed25519-pem-lower-split": ("\n".join(_pem_body(ED_KEY).lower()), "private key ed"),
    "rsa-jwk-d": (_b64(_rsa_d(), urlsafe=True), "private key rsa"),
    "rsa-d-hex-reversed": (_rsa_d().hex()[::-1], "private key rsa"),
    "rsa-pem-body-url-escaped": (quote(_pem_body(RSA_KEY), safe=""), "private key rsa"),
    "rsa-part-of-d-base64-offset": (_b64(b"\x01" + _rsa_d()[40:80]), "private key rsa"),
}


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner(SECRETS)


@pytest.mark.parametrize("name", TRANSFORMS)
def test_the_scan_finds_a_secret_in_every_form_a_template_can_give_it(scanner, name):
    published, label = TRANSFORMS[name]
    found = scanner.find(_page(published))
    assert found is not None and label in found, (name, found)


def test_the_scan_reads_any_text(scanner):
    """JSON escapes of lone surrogates (an emoji's halves, as JSON writes them) decode to text UTF-8 cannot hold."""
    assert scanner.find(b'{"name": "\\ud83d\\ude00 \\udc00"}') is None
    assert scanner.find(b"\xff\xfe<p>\x00&#xd800;&#0;%ff%00</p>") is None


def test_the_scan_finds_raw_key_bytes_in_a_binary_file(scanner):
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(500) + SEED + os.urandom(500)
    assert scanner.find(png) == "private key ed"
    text_chunk = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x40tEXtkey\x00" + _rsa_d().hex().upper().encode() + b"\xff\xfe"
    assert scanner.find(text_chunk) == "private key rsa"


def test_public_keys_and_ordinary_pages_are_not_mistaken_for_secrets_and_the_scan_is_cheap(scanner, example_site, run):
    """The public halves are published on purpose: the scan must not confuse them with the private numbers."""
    for key in (ED_KEY, RSA_KEY):
        pem = public_pem(key)
        assert scanner.find(_page(pem)) is None
        assert scanner.find(json.dumps({"publicKeyPem": pem}).encode()) is None
    jwk = rsa_public_jwk(RSA_KEY.public_key(), "k")
    assert scanner.find(json.dumps(jwk).encode()) is None
    build(run, example_site)
    files = tree_bytes(example_site / "output")
    for rel, content in files.items():
        assert scanner.find(content) is None, rel
    # Cheap: a 10,000-award site publishes about 70,000 files (~0.15 ms a file on an idle
    # development machine, see docs/security.md; the bound is generous for a busy CI runner).
    started, rounds = time.process_time(), 0
    while time.process_time() - started < 1.0:
        for content in files.values():
            scanner.find(content)
        rounds += 1
    per_file = (time.process_time() - started) / (rounds * len(files))
    assert per_file < 0.002, f"{per_file * 1e3:.2f} ms a file"
    # A short password is searched whole, never in parts: common words do not trip it.
    short = Scanner([Secret("$BADGEKILN_SMTP_PASSWORD", b"hunter22")])
    assert short.find(b"<p>the hunter2 and 22 hunters</p>") is None
    assert short.find(b"<p>22RETNUH</p>") == "$BADGEKILN_SMTP_PASSWORD"


# -- end to end: the build refuses, names the file and the template, and keeps output/ ------------


def _award_template(body: str) -> dict[str, str]:
    return {"templates/award.html": '{% extends "!builtin/award.html" %}{% block main %}' + body + "{% endblock %}\n"}


@pytest.mark.parametrize(
    "expression",
    [
        "{{ secret|reverse }}",
        "{{ secret|upper }}",
        "{{ secret|urlencode }}",
        "{{ secret|tojson }}",
        "{{ secret|wordwrap(3, true, '\\n') }}",
        "{% for c in secret %}{{ c }}<i></i> {% endfor %}",
        "{{ secret|batch(5)|map('join')|join('<br>\\n') }}",
    ],
    ids=["reverse", "upper", "urlencode", "tojson", "wordwrap", "interleave", "batch"],
)
def test_a_template_cannot_publish_the_smtp_password_transformed(minimal_site, run, monkeypatch, expression):
    monkeypatch.setenv("BADGEKILN_SMTP_PASSWORD", PASSWORD)
    build(run, minimal_site)
    before = tree_bytes(minimal_site / "output")
    # (The secret is written into the template itself: templates are not published, pages are.)
    write_site(minimal_site, _award_template("{% set secret = " + json.dumps(PASSWORD) + " %}" + expression))
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code != 0 and "Traceback" not in result.err
    assert "refusing to publish awards/ann-first-1/index.html" in result.err, result.err
    assert "$BADGEKILN_SMTP_PASSWORD" in result.err and "templates/award.html" in result.err
    assert PASSWORD not in result.err
    assert tree_bytes(minimal_site / "output") == before


def test_a_template_cannot_publish_a_key_from_badgekiln_private_keys(minimal_site, run, monkeypatch):
    """A key in the variable is secret even when no key record of the site matches it."""
    monkeypatch.setenv("BADGEKILN_PRIVATE_KEYS", _private_pem(RSA_KEY))
    build(run, minimal_site)
    before = tree_bytes(minimal_site / "output")
    write_site(minimal_site, _award_template("{{ " + json.dumps(_rsa_d().hex()) + "|upper|reverse }}"))
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code != 0 and "$BADGEKILN_PRIVATE_KEYS" in result.err and "templates/award.html" in result.err
    assert tree_bytes(minimal_site / "output") == before


def test_a_template_cannot_publish_the_signing_key(minimal_site, run, tmp_path_factory):
    """The key that signs the build (here the development key) as a JWK ``d``, reversed by the template."""
    build(run, minimal_site)
    before = tree_bytes(minimal_site / "output")
    pem = (Path(os.environ["XDG_CACHE_HOME"]) / "badgekiln" / "dev-keys" / "ed25519.pem").read_bytes()
    seed = serialization.load_pem_private_key(pem, password=None).private_bytes_raw()
    write_site(minimal_site, _award_template("{{ " + json.dumps(_b64(seed, urlsafe=True)) + "|reverse }}"))
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code != 0 and "private key dev-ed25519" in result.err, result.err
    assert tree_bytes(minimal_site / "output") == before


# -- no access to the environment or Python internals ---------------------------------------------

ESCAPES = [
    "{{ cycler.__init__.__globals__.os.environ }}",
    "{{ joiner.__init__.__globals__['os'].environ }}",
    "{{ namespace.__init__.__globals__.os.environ }}",
    "{{ lipsum.__globals__.os.environ }}",
    "{{ range.__self__ }}",
    "{{ qr_svg.__globals__.segno }}",
    "{{ self._TemplateReference__context }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''|attr('__class__') }}",
    "{{ '{0.__class__.__mro__}'.format('') }}",
    "{{ award.__class__ }}",
    "{{ environment }}",
    "{{ config }}",
    "{{ signer }}",
]


@pytest.mark.parametrize("expression", ESCAPES)
def test_templates_cannot_reach_the_environment_or_python(tmp_path, monkeypatch, expression):
    monkeypatch.setenv("BADGEKILN_SMTP_PASSWORD", PASSWORD)
    (tmp_path / "award.html").write_text(expression)
    with pytest.raises(jinja2.TemplateError):
        Renderer(tmp_path).render("award.html", award={"id": "x"})


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(lambda: os.environ, id="os.environ"),
        pytest.param(lambda: Path("/etc/passwd"), id="path"),
        pytest.param(lambda: open, id="callable"),
        pytest.param(lambda: badgekiln.signing.keys.Keyring((), {"k": ED_KEY}), id="keyring"),
        pytest.param(lambda: ED_KEY, id="key"),
        pytest.param(lambda: {"nested": [{"key": ED_KEY}]}, id="nested"),
    ],
)
def test_only_plain_values_reach_a_template(tmp_path, value):
    (tmp_path / "award.html").write_text("{{ value }}")
    with pytest.raises(TypeError, match="only plain values"):
        Renderer(tmp_path).render("award.html", value=value())
    check_plain({"site": {"pages": [{"title": "About"}]}, "day": __import__("datetime").date(2026, 1, 1)}, "ok")


# -- resource limits end in a located error ---------------------------------------------------------

RECURSION, TOO_LARGE, STEPS = "calls, includes or extends itself", "templates are limited to", "loop iterations"
WORK = "items gone through in one page"
MADE = "the values made in one page come to more than"
HOLDS = "counting each list in it as often as it is there"
_S = "{% set s = 'x' * 900000 %}"
_L = "{% set L = [0] * 999999 %}"
LIMITS = {  # template, line of the error, what the error says
    "recursive-macro": ("{% macro r() %}{{ r() }}{% endmacro %}\n{{ r() }}", None, RECURSION),
    "recursive-include": ("{# 1 #}\n{% include 'award.html' %}", None, RECURSION),  # (the line where Python gave up)
    "recursive-extends": ("{% extends 'award.html' %}", 1, RECURSION),
    "mutual-include": ("{% include 'a.html' %}", None, RECURSION),
    "huge-string": ("{# 1 #}\n{# 2 #}\n{{ 'x' * 10**10 }}", 3, TOO_LARGE),
    "huge-percent-format": ("{{ '%999999999s' % 'x' }}", 1, TOO_LARGE),
    "star-percent-format": ("{{ '%*d' % (10**9, 1) }}", 1, TOO_LARGE),
    "huge-brace-format": ("{{ '{:>9999999999}'.format(1) }}", 1, TOO_LARGE),
    "huge-list": ("{{ ([1] * 10**9)|length }}", 1, TOO_LARGE),
    "join-on-range": ("{{ range(100000)|join('x' * 100000) }}", 1, TOO_LARGE),
    "huge-power": ("{{ 2 ** (10**9) }}", 1, TOO_LARGE),
    "huge-range": ("{{ range(10**12)|length }}", 1, "range() of more than 100,000"),
    "nested-loops": ("{% for i in range(100000) %}\n{% for j in range(100000) %}{% endfor %}{% endfor %}", 2, STEPS),
    "doubling-concat": ("{% set s = 'x' * 600000 %}{% set s = s ~ s %}{{ s|length }}", 1, TOO_LARGE),
    "huge-center": ("{{ 'x'|center(10**10) }}", 1, TOO_LARGE),
    "huge-ljust": ("{{ 'x'.ljust(10**10) }}", 1, TOO_LARGE),
    "huge-replace": ("{{ ('x' * 100000)|replace('', 'y' * 1000) }}", 1, TOO_LARGE),
    "huge-output": (
        "{% set x = 'x' * 900000 %}{% for i in range(100000) %}{{ x }}{% endfor %}",
        1,
        "the page is longer than",
    ),
    # (each step went through a list of 500,000 items to size it: 0.15 s a step, 200,000 steps a page)
    "slow-steps": ("{% for i in range(100000) %}{{ ([0] * 499999 + [0])|length }}{% endfor %}", 1, WORK),
    "slow-comparisons": (
        "{% set a = [0] * 999999 %}{% set b = [0] * 999999 %}{% for i in range(100000) %}{{ a == b }}{% endfor %}",
        1,
        WORK,
    ),
    # (a list of 10,000 of these is 9 GB before it is a list that can be sized)
    "many-large-items": ("{{ [" + ", ".join(["'x' * 900000"] * 1000) + "]|length }}", 1, MADE),
    "slow-wordwrap": ("{% for i in range(5) %}{{ ('x' * 499999)|wordwrap(1)|length }}{% endfor %}", 1, "to |wordwrap"),
    "slow-striptags": ("{% for i in range(5) %}{{ ('<a>' * 200000)|striptags }}{% endfor %}", 1, "to |striptags"),
    "batch-fill-of-a-list": ("{% set a = ['x' * 900000] %}{{ [1]|batch(999, a)|list|length }}", 1, TOO_LARGE),
    "fromkeys-of-a-list": ("{% set a = ['x' * 900000] %}{{ {}.fromkeys(range(999), a)|string|length }}", 1, TOO_LARGE),
    "fromkeys-of-a-long-list": ("{% set a = [0] * 9999 %}{{ {}.fromkeys(range(999), a)|length }}", 1, HOLDS),
    # (from a review: each of these ran for minutes or made a gigabyte, in a few hundred bytes)
    "in-a-list-of-shared-lists": (
        "{% set x = [0] %}{% set y = [0] %}"
        + "{% set x = [x, x] %}{% set y = [y, y] %}" * 18
        + "{% set x = [x, 0] %}{% set y = [y, 1] %}{% set L = ([0]*10000)|map('default', y, true)|list %}{{ x in L }}",
        1,
        WORK,
    ),
    "unique-of-shared-tuples": (
        "{% set t = (0,) %}"
        + "{% set t = (t, t) %}" * 18
        + "{{ ([0]*15000)|map('default', t, true)|unique|list|length }}",
        1,
        WORK,
    ),
    "int-of-a-long-text": ("{% set n = ('f' * 999999)|int(base=16) %}{{ n > 0 }}", 1, "too large a number"),
    "join-by-attribute": (
        "{{ ([0] * 1900)|map('default', ['x' * 999990], true)|join(attribute=0)|length }}",
        1,
        TOO_LARGE,
    ),
    "join-of-dicts": (
        "{% set d = {'a': 'x' * 999990} %}{{ ([0] * 1000)|map('default', d, true)|join|length }}",
        1,
        TOO_LARGE,
    ),
    "expandtabs": ("{{ ('\\t' * 2500).expandtabs(999999)|length }}", 1, TOO_LARGE),
    "translate": ("{{ ('x' * 2500).translate({120: 'y' * 999990})|length }}", 1, TOO_LARGE),
    "bytes-replace": (
        "{{ ('x' * 2500).encode().replace('x'.encode(), ('y' * 999999).encode())|length }}",
        1,
        TOO_LARGE,
    ),
    # (from a second review)
    "bytes-percent": ("{{ ('%999999999d'.encode() % 1)|length }}", 1, TOO_LARGE),
    "concat-of-many": (_S + "{{ (" + "~".join(["s"] * 1200) + ")|length }}", 1, TOO_LARGE),
    "format-one-value-many-times": (_S + "{{ ('{0}' * 1200).format(s)|length }}", 1, TOO_LARGE),
    "percent-one-key-many-times": (_S + "{{ (('%(a)s' * 1200) % {'a': s})|length }}", 1, TOO_LARGE),
    "translate-by-a-list": (_S + "{{ ('x' * 2500).translate([0] * 120 + [s])|length }}", 1, TOO_LARGE),
    "replace-by-markup": (_S + "{{ ('x' * 2500).replace('x', s|safe)|length }}", 1, TOO_LARGE),
    "many-slices": (_L + "".join(f"{{% set a{i:03d} = L[1:] %}}" for i in range(150)) + "{{ a149|length }}", 1, MADE),
    "count-in-a-loop": (_L + "{% for i in range(100000) %}{{ L.count(1) }}{% endfor %}", 1, WORK),
    "text-search-in-a-loop": (
        "{% set h = 'a' * 999999 %}{% set n = 'a' * 49 ~ 'b' ~ 'a' * 49 %}"
        "{% for i in range(100000) %}{{ n in h }}{% endfor %}",
        1,
        WORK,
    ),
    "percent-format-checks-in-a-loop": (
        "{% set p = '%%' * 499999 %}{% for i in range(100000) %}{{ (p % ())|length }}{% endfor %}",
        1,
        WORK,
    ),
    # (from a third review)
    "format-map-one-value-many-times": (
        "{% set s = 'x' * 990000 %}{{ (('{a}' * 3000).format_map({'a': s}))|length }}",
        1,
        TOO_LARGE,
    ),
    "comparing-lists-of-one-long-text": (
        "{% set s = 'x' * 990000 %}{% set t = s[1:] ~ 'y' %}{% set ns = namespace(a=[s]) %}"
        "{% for i in range(19) %}{% set ns.a = ns.a + ns.a %}{% endfor %}"
        "{% for i in range(100) %}{{ t in ns.a }}{% endfor %}",
        1,
        WORK,
    ),
    "sorting-a-list-of-one-long-text": (
        "{% set s = 'x' * 990000 %}{% set ns = namespace(a=[s]) %}"
        "{% for i in range(19) %}{% set ns.a = ns.a + ns.a %}{% endfor %}{{ ns.a|sort|length }}",
        1,
        WORK,
    ),
    "a-format-field-of-5000-digits": ("{{ ('{' ~ '9' * 5000 ~ '}').format(1) }}", 1, "a field number is too long"),
    "doubling-by-minus": (
        "{% set ns = namespace(x=3) %}{% for i in range(13000) %}"
        + "{% set ns.x = ns.x - -ns.x %}" * 50
        + "{% endfor %}{{ ns.x.bit_length() }}",
        1,
        "too large a number",
    ),
    "markup-striptags-method": (
        "{% set s = ('<>' * 499999)|safe %}{% for i in range(3) %}{{ s.striptags() }}{% endfor %}",
        1,
        "given to striptags()",
    ),
    "map-default-to-a-list": (
        "{% set a = ['x' * 900000] %}{{ ([''] * 999)|map('default', a, true)|list|string|length }}",
        1,
        TOO_LARGE,
    ),
    "exponential-macro": (
        "{% macro d(n) %}{% if n %}{{ d(n-1) }}{{ d(n-1) }}{% endif %}{% endmacro %}{{ d(40) }}",
        1,
        STEPS,
    ),
    "batch-fill": ("{{ [1]|batch(10**9, 0)|list|length }}", 1, TOO_LARGE),
    # (a filter of a constant ran while compiling, where nothing is sized: 7 million characters,
    # and 800 MB a stage more; now no filter runs before the page renders)
    "filters-of-a-constant": ("{{ 'x'|center(999999)|list|batch(1)|list|batch(1)|list|string|length }}", 1, TOO_LARGE),
    # (and of one that Jinja folds first: "('x' or y)" is 'x' while compiling)
    "filters-of-a-folded-constant": (
        "{{ (y if false else ('x' or y))|center(999999)|list|batch(1)|list|batch(1)|list|string|length }}",
        1,
        TOO_LARGE,
    ),
    "division-by-zero": ("{{ 1 // 0 }}", 1, "ZeroDivisionError"),
    "slow-markdown": ("{% for i in range(1000) %}{{ ('[' * 90000)|markdown }}{% endfor %}", 1, "|markdown"),
    "markdown-heading-level": ("{{ 'x'|markdown(7) }}", 1, "a heading level from 2 to 6 is needed, not 7"),
    "markdown-undefined-level": ("{{ 'x'|markdown(heading_level) }}", 1, "'heading_level' is undefined"),
}


def _nested(times: int, around: str) -> str:
    """``around`` (with {} for what it wraps) nested ``times`` around a backslash in quotes."""
    text = "'\\\\'"
    for _ in range(times):
        text = around.format(text)
    return text


# (a list's text doubles its backslashes: nested 26 times in 250 bytes, 67 million characters
# were made while the template compiled, and 27 times 2 GB)
LIMITS["concat-of-a-lists-text"] = ("{{ (" + _nested(22, "('' ~ [{}])") + ")|length }}", 1, TOO_LARGE)
# Lists that hold one list twice, nested: 243 bytes of template stood for 3.6 GB of text, made
# when printed (or joined with ~, formatted, given to |string or |tojson): each list is sized as
# it is made, and each value as it is made text.
# (made here by |map, which no size check sees, so that each use is what is refused; a literal
# [b, b] is refused as it is made)
_SHARED = "{% set a = ['x' * 900000] %}" + "".join(
    f"{{% set {name} = ([''] * 2)|map('default', {before}, true)|list %}}"
    for before, name in zip("abcdefghijk", "bcdefghijkl")
)
LIMITS["shared-lists-literal"] = (
    "{% set a = [0] * 100000 %}{% set a = [a, a] %}{% set a = [a, a] %}{% set a = [a, a] %}{% set a = [a, a] %}",
    1,
    HOLDS,
)
for _name, _use in {
    "printed": "{{ l }}",
    "joined": "{{ (l ~ '')|length }}",
    "as-string": "{{ l|string|length }}",
    "percent": "{{ ('%s' % (l,))|length }}",
    "format": "{{ '{}'.format(l)|length }}",
    "tojson": "{{ l|tojson|length }}",
}.items():
    LIMITS[f"shared-lists-{_name}"] = (_SHARED + _use, 1, TOO_LARGE)
# The child's memory is capped only to protect this machine should a limit fail (the test then
# fails on the message: "needs too much memory" is not what it expects).
CHILD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 * 1024 ** 3, 2 * 1024 ** 3))
from badgekiln.cli import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize("case", LIMITS)
def test_template_limits_end_in_a_located_error(minimal_site, run, case):
    body, line, says = LIMITS[case]
    build(run, minimal_site)
    before = tree_bytes(minimal_site / "output")
    files = {"templates/award.html": body}
    if case == "mutual-include":
        files.update(
            {"templates/a.html": "{% include 'b.html' %}", "templates/b.html": "{# 1 #}\n{% include 'a.html' %}"}
        )
    write_site(minimal_site, files)
    env = dict(os.environ, PYTHONPATH=str(Path(badgekiln.__file__).parent.parent))
    started = time.monotonic()
    child = subprocess.run(
        [sys.executable, "-c", CHILD, "build", "--source", str(minimal_site), "--today", TODAY],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert time.monotonic() - started < 60
    assert child.returncode == 1, child.stderr
    assert "Traceback" not in child.stderr and "MemoryError" not in child.stderr
    where = "templates/award.html:" if line is None else f"templates/award.html:{line}: "
    if case == "mutual-include":  # the innermost template line: a.html or b.html, by the stack's depth
        where = "templates/b.html:2: " if "templates/b.html:2: " in child.stderr else "templates/a.html:1: "
    assert where in child.stderr and "template error" in child.stderr and says in child.stderr, child.stderr
    assert tree_bytes(minimal_site / "output") == before


@pytest.mark.parametrize(
    ("body", "commands", "says"),
    [
        ("{{ " + "9" * 5000 + " }}", ("build", "check"), "the template cannot be compiled: ValueError: "),
        ("{{ {[1]: 2}|length }}", ("build",), "TypeError: unhashable type: 'list'"),  # (found as it renders)
    ],
    ids=["number-of-5000-digits", "unhashable-key"],
)
def test_python_errors_of_a_template_are_located_errors(minimal_site, run, body, commands, says):
    """(A number of 5,000 digits, an unhashable key: Python's ValueError or TypeError while
    compiling was an internal error.)"""
    write_site(minimal_site, {"templates/award.html": body})
    for command in commands:
        result = run(command, "--source", str(minimal_site), "--today", TODAY)
        assert result.code == 1 and "internal error" not in result.err and "Traceback" not in result.err
        assert f"templates/award.html:1: template error: {says}" in result.err, result.err


def test_a_template_error_is_one_line_whatever_the_template_made(minimal_site, run):
    """A message quotes what the template made: a line break in it started a line of the
    template's own in the log, which GitHub Actions reads as a command (``::error::``)."""
    write_site(minimal_site, {"templates/award.html": '{# 1 #}\n{{ "x".encode("\\n::error::PWN") }}'})
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1, result.err
    assert "templates/award.html:2: template error: LookupError: unknown encoding: \\x0a::error::PWN" in result.err
    assert not any(line.lstrip().startswith("::") for line in result.err.splitlines()), result.err


def test_a_template_file_name_with_a_line_break_is_shown_on_one_line(minimal_site, run):
    """(A review: the innermost template's file name was printed as it is.)"""
    write_site(
        minimal_site,
        {
            "templates/p\n::error::pwned.html": "{{ 1 // 0 }}",
            "templates/award.html": '{% include "p\n::error::pwned.html" %}',
        },
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "templates/p\\x0a::error::pwned.html:1: template error: ZeroDivisionError" in result.err
    assert not any(line.lstrip().startswith("::") for line in result.err.splitlines()), result.err


@pytest.mark.parametrize("command", ["build", "check"])
def test_a_lexer_error_names_the_template_as_others_do(minimal_site, run, command):
    """(Jinja's lexer names the template by its path: "templates//tmp/.../templates/award.html:1".)"""
    write_site(minimal_site, {"templates/award.html": "{% raw %}\n{% endraw\nx %}"})
    result = run(command, "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1, result.err
    assert "error: templates/award.html:1: template error: Missing end of raw directive" in result.err, result.err


def test_deeply_nested_expressions_compile_in_linear_time():
    """Jinja's optimizer worked every level of a nested expression out again: twenty lines of 190
    minus signs (4 KB) took 20 s to compile. It is off: nothing is folded while compiling."""
    source = "\n".join(["{{ " + "-" * 190 + "y }}"] * 20)
    started = time.process_time()
    make_environment(None).from_string(source)
    assert time.process_time() - started < 2


def test_inf_and_nan_worked_out_while_compiling_render_as_python_writes_them():
    """(Jinja wrote the float's repr, ``inf``, into the compiled code: a NameError.)"""
    env = make_environment(None)
    assert env.from_string("{{ 1e999|string }} {{ 1e999 ~ '' }} {% set x = -1e999 %}{{ x }}").render() == "inf inf -inf"


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("{{ ('%(a(b)c)900000000d' % {'a(b)c': 1})|length }}", "may not hold parentheses"),
        ("{{ '{0:{1}}'.format(1, '900000000')|length }}", "given by another field is not allowed"),
    ],
)
def test_format_widths_cannot_hide(source, says):
    """(A key with parentheses hid the width after it, a nested field gave one as it formatted:
    900 MB each, a review.)"""
    with pytest.raises(TemplateLimitError, match=says):
        make_environment(None).from_string(source).render()


def test_a_format_field_named_by_a_digit_that_is_no_number_is_a_keyword():
    """("{²}": str.isdigit() is true of "²", int() refuses it: a ValueError, a review.)"""
    assert make_environment(None).from_string("{{ '{²}'.format(**{'²': 'x'}) }}").render() == "x"


def test_many_format_widths_are_refused_together():
    env = make_environment(None)
    for source in ("{{ ('%1000000d' * 300) % ((1,) * 300) }}", "{{ ('{0:1000000}' * 300).format(1) }}"):
        with pytest.raises(TemplateLimitError, match="the format makes more than 1,000,000 characters"):
            env.from_string(source).render()


def test_filters_of_constants_cost_no_steps(minimal_site, run):
    """What a filter is given is sized by a filter, not a call: a call is a step (200,000 a page)."""
    write_site(
        minimal_site,
        {
            "templates/award.html": "{% extends '!builtin/award.html' %}{% block main %}"
            "{% for i in range(70000) %}{{ 'x'|upper }}{{ '-'|safe }}{% if 3 is odd %}{% endif %}{% endfor %}"
            "{{ super() }}{% endblock %}"
        },
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err


def test_markdown_of_a_constant_is_metered_once(minimal_site, run):
    """A filter of a constant is not run while the template compiles: ``|markdown`` was charged
    to the page's 300,000 characters once there and once more (twice the text of an included
    part that compiled as the page rendered: a page under the limit failed)."""
    text = "word " * 32_000  # 160,000 characters, twice: 320,000 would be over the limit
    write_site(
        minimal_site,
        {
            "templates/part.html": f"{{{{ '{text[:80_000]}'|markdown }}}}{{{{ '{text[80_000:]}'|markdown }}}}",
            "templates/award.html": "{% extends '!builtin/award.html' %}{% block main %}{% include 'part.html' %}"
            "{{ super() }}{% endblock %}",
        },
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err


@pytest.mark.parametrize(
    "case, body, says",
    [
        (
            "recursive-macro",
            "{% macro r() %}\n{{ r() }}{% endmacro %}",
            "templates/award.html:2: template error: the macro r()",
        ),
        (
            "recursive-include",
            "{# 1 #}\n{# 2 #}\n{% include 'award.html' %}",
            "templates/award.html:3: template error: award.html includes",
        ),
        ("mutual-include", "{% include 'a.html' %}", "includes or extends itself"),
        ("huge-string", "{# 1 #}\n{{ 'x' * 10**10 }}", "templates/award.html:2: template error: repeating a value"),
        (
            "huge-range",
            "{% for i in range(10**12) %}{% endfor %}",
            "templates/award.html:1: template error: the number 1,000,000,000,000",
        ),
        ("huge-center", "{{ 'x'|center(10**10) }}", "templates/award.html:1: template error: the number"),
        (  # (check worked it out to the end: 11.7 s and 1.6 GB at 29 levels, each doubling the last)
            "nested-percent-repr",
            "{{ " + _nested(30, "('%r' % ({},))") + " }}",
            "templates/award.html:1: template error: this % makes more than 1,000,000 characters",
        ),
    ],
)
def test_check_reports_what_would_break_a_limit(minimal_site, run, case, body, says):
    files = {"templates/award.html": body}
    if case == "mutual-include":
        files.update({"templates/a.html": "{% include 'b.html' %}", "templates/b.html": "{% include 'a.html' %}"})
    write_site(minimal_site, files)
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert result.code != 0 and "Traceback" not in result.err
    assert says in result.err, result.err


def test_check_works_each_constant_expression_out_once():
    """``badgekiln check`` worked every sub-expression out again for each expression around it:
    150 ``+ []`` after a list of 100,000 items took about 3 minutes (each sum sized through the
    list); once each, they take about 2 s."""
    tree = make_environment(None).parse("{{ [0] * 100000" + " + []" * 150 + " }}")
    started = time.process_time()
    assert static_problems(tree) == []
    assert time.process_time() - started < 30


def test_check_is_bounded_for_lists_around_a_long_list():
    """(A review: ten lines of 40 lists around a list of 999,900 items, 1 KB, took more than
    100 s: each list was sized through the long one and none of it was counted.)"""
    line = "{{ " + "[" * 40 + "[0]*999900" + "]" * 40 + "+[] }}"
    started = time.process_time()
    problems = static_problems(make_environment(None).parse("\n".join([line] * 10)))
    assert time.process_time() - started < 40
    assert problems and "goes through more than 20,000,000 items" in problems[0][1]


def test_a_sitemap_of_100000_addresses_renders_within_the_limits():
    """What a site of 100,000 awards gives a sitemap template must fit the page's work: the
    limits count a text a filter goes through at C's speed an item per 8 characters (at one
    per character, ``{{ url|trim|e }}`` for each address went past them: a review)."""
    env = make_environment(None)
    urls = [f"https://training.example-provider.org/badges/awards/{i:020d}/" for i in range(100_000)]
    out = env.from_string("{% for url in urls %}<url><loc>{{ url|trim|e }}</loc></url>{% endfor %}").render(urls=urls)
    assert out.count("<url>") == 100_000
    env.start_rendering()
    out = env.from_string("{{ urls|select|map('upper')|list|length }} {{ urls[:10000]|join(' ')|length }}").render(
        urls=urls
    )
    assert out == "100000 739999"  # (10,000 addresses of 73 characters and 9,999 spaces)


def test_templates_of_a_large_site_render_within_the_limits():
    """Loops a provider writes over 2,000 badge classes (a review found each of these refused:
    ``in`` was charged the characters of the whole list, ``+`` read the growing list's text)."""
    badges = [
        {"id": f"b{i}", "name": f"Badge {i}", "tags": [f"t{i % 7}", f"t{i % 11}"], "awards": i % 37}
        for i in range(2000)
    ]
    env = make_environment(None)
    for source, expected in [
        (
            "{% set ids = badges|map(attribute='id')|list %}{% for b in badges %}{% if b.id in ids %}.{% endif %}{% endfor %}",
            "." * 2000,
        ),
        (
            "{% set featured = badges|selectattr('awards', 'gt', 30)|list %}"
            "{% for b in badges %}{% if b in featured %}*{% endif %}{% endfor %}",
            "*" * sum(1 for b in badges if b["awards"] > 30),
        ),
        (
            "{% set ns = namespace(tags=[]) %}{% for b in badges %}{% set ns.tags = ns.tags + b.tags %}{% endfor %}"
            "{{ ns.tags|unique|sort|join(' ') }}",
            " ".join(sorted({f"t{i}" for i in range(11)})),
        ),
    ]:
        env.start_rendering()
        assert env.from_string(source).render(badges=badges) == expected


def test_check_accepts_conditional_recursion(minimal_site, run):
    """A macro or include that calls itself under a condition is how trees are drawn: not an error."""
    write_site(
        minimal_site,
        {
            "templates/award.html": textwrap.dedent("""\
        {% extends "!builtin/award.html" %}
        {% macro tree(n) %}{% if n %}{{ n }}{{ tree(n - 1) }}{% endif %}{% endmacro %}
        {% block main %}{{ tree(3) }}{{ super() }}{% endblock %}
    """)
        },
    )
    assert run("check", "--source", str(minimal_site), "--today", TODAY).code == 0
    build(run, minimal_site)
    assert "321" in (minimal_site / "output/awards/ann-first-1/index.html").read_text()


@pytest.mark.parametrize(
    "body",
    [
        "{% if true %}" * 100 + "x" + "{% endif %}" * 100,  # (Python's "too many statically nested blocks")
        "{{ " + "(" * 100 + "1" + ")" * 100 + " }}",  # (a RecursionError in the compiler)
    ],
)
def test_a_template_nested_too_deep_is_a_located_error(minimal_site, run, body):
    # (a fuzz test: check and build ended in a traceback)
    write_site(
        minimal_site, {"templates/award.html": "{% extends 'base.html' %}{% block main %}" + body + "{% endblock %}"}
    )
    for command in ("check", "build"):
        result = run(command, "--source", str(minimal_site), "--today", TODAY)
        assert result.code == 1 and "templates/award.html:1: template error: the template nests" in result.err, (
            command,
            result.err,
        )


@pytest.mark.parametrize("template", ["email.txt", "email.html"])
def test_an_email_template_that_fails_names_its_file_and_line(minimal_site, run, template):
    # (a fuzz test: notify --dry-run ended in a traceback; check passes a template that fails only when rendered)
    build(run, minimal_site)
    write_site(minimal_site, {f"templates/{template}": "Hello\n{{ 1 / 0 }}\n"})
    result = run("notify", "--dry-run", "--skip-online-check", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and f"templates/{template}:2: template error: ZeroDivisionError" in result.err, result.err
