"""The award page's text: titles and share cards that say the status, noindex, the share links,
the embed code, "Is this badge yours?", the schema.org JSON-LD, the development-key warning and
the certificate's signatory (site.yaml ``certificate:``).

Browser behaviour (copying, Web Share, hashing, axe, print) is in tests/browser/test_award_page.py.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import MINIMAL, build, copy_example, write_site

from badgekiln.models import Award, BadgeClass, Issuer, Recipient, Revocation, Suspension
from badgekiln.pages import context
from badgekiln.pages.render import Renderer
from badgekiln.sources.config import Signatory, SiteConfig

VALID = "7q4kz2m9xw"  # Jane Doe
REVOKED = "d3f4g5h6jk"  # Marcus Johnson, revoked on 1 May 2026
EXPIRED = "r9t4y1u6ep"  # Zofia Wiśniewska, expired on 2 September 2025
HIDDEN_NAME = "w8e7r6t5yq"  # Priya Patel, show_name: false


class Page(HTMLParser):
    """The parts of a page these tests read: meta tags, title, JSON-LD scripts, elements by class."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self.scripts: list[tuple[dict, str]] = []
        self.classes: list[str] = []
        self.tags: list[str] = []
        self._in: str | None = None
        self._attrs: dict = {}
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.classes.extend((attrs.get("class") or "").split())
        if tag == "meta" and ("name" in attrs or "property" in attrs):
            self.meta[attrs.get("name") or attrs["property"]] = attrs.get("content", "")
        if tag in ("title", "script"):
            self._in, self._attrs = tag, attrs
            if tag == "script":
                self.scripts.append((attrs, ""))

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in == "script":
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None


@pytest.fixture(scope="module")
def example_output(tmp_path_factory) -> Path:
    """The example site, built once for this module (with development keys)."""
    from tests.browser.conftest import run_cli

    root = tmp_path_factory.mktemp("award-page")
    site = copy_example(root / "site")
    with pytest.MonkeyPatch.context() as mp:  # (conftest's key isolation, for the whole module)
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))
        mp.setenv("BADGEKILN_KEYS_DIR", str(root / "private-keys"))
        mp.delenv("BADGEKILN_PRIVATE_KEYS", raising=False)
        build(run_cli, site)
    return site / "output"


def award_page(output: Path, award_id: str) -> tuple[str, Page]:
    text = (output / "awards" / award_id / "index.html").read_text(encoding="utf-8")
    return text, Page(text)


# --- Status in titles, descriptions and robots --------------------------------------------------


def test_valid_page_is_indexed_and_titled_plainly(example_output):
    text, page = award_page(example_output, VALID)
    assert page.title == "Pipefitting - MJI10 Base Competence · Jane Doe"
    assert page.meta["og:title"] == page.title == page.meta["twitter:title"]
    assert "robots" not in page.meta
    assert "share" in page.classes and "ownership" in page.classes


@pytest.mark.parametrize(
    ("award_id", "title", "description"),
    [
        (
            REVOKED,
            "Revoked: Pipefitting - MJI10 Base Competence · Marcus Johnson",
            "Northwind Training revoked this badge on 1 May 2026:",
        ),
        (EXPIRED, "Expired: ", "This badge expired on 2 September 2025."),
    ],
)
def test_titles_and_share_card_text_say_the_status(example_output, award_id, title, description):
    _, page = award_page(example_output, award_id)
    for key in ("og:title", "twitter:title"):
        assert page.meta[key].startswith(title)
    assert page.title.startswith(title)
    for key in ("description", "og:description", "twitter:description"):
        assert page.meta[key].startswith(description), page.meta[key]


def test_revoked_page_is_noindex_and_offers_no_sharing(example_output):
    text, page = award_page(example_output, REVOKED)
    # (an earner review: a revoked certificate printed with the signatory's signature on it)
    assert '<p class="signatory-name"><bdi>Dr Amira Okafor</bdi></p>' in text and 'class="signature"' not in text
    assert page.meta["robots"] == "noindex"
    assert "has earned" not in text and "Expires on" not in text
    assert "share" not in page.classes and "embed-code" not in page.classes
    assert " download>" not in text  # neither the wallet download nor the baked image
    assert "linkedin.com/profile/add" not in text
    assert not [s for s in page.scripts if s[0].get("type") == "application/ld+json"]


def test_page_of_an_earner_who_hides_their_name_is_noindex(example_output):
    text, page = award_page(example_output, HIDDEN_NAME)
    assert page.meta["robots"] == "noindex"
    assert "Priya" not in text


def test_development_keys_are_announced_on_every_page(example_output):
    # (the check page, the extra pages and 404 said nothing of it before session 42: a preview's
    # badge file was "found" there with no word that the preview's keys signed it)
    pages = ["index.html", "badges/pipefitting-mji10/index.html", f"awards/{VALID}/index.html", "check/index.html"]
    pages += ["404.html", "pages/about/index.html", "pages/how-to-verify/index.html"]
    pages += ["badges/maintenance-technician/pathway/index.html", "earners/sean-obrien/index.html"]
    for path in pages:
        page = Page((example_output / path).read_text(encoding="utf-8"))
        assert "banner-dev" in page.classes, path


def test_json_ld_is_a_schema_org_credential(example_output):
    _, page = award_page(example_output, VALID)
    (data,) = [json.loads(text) for attrs, text in page.scripts if attrs.get("type") == "application/ld+json"]
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "EducationalOccupationalCredential"
    assert data["url"] == f"https://badges.northwind.example/awards/{VALID}/"
    assert data["dateCreated"] == "2026-03-01" and data["expires"] == "2029-03-01"
    assert data["competencyRequired"][0]["termCode"] == "MMT-01"
    assert data["keywords"] == "pipefitting, mechanical, joint integrity"


def test_is_this_yours_carries_the_badges_own_identity_hash(example_output):
    text, _ = award_page(example_output, VALID)
    salt = re.search(r'data-salt="([0-9a-f]+)"', text).group(1)
    identity = re.search(r'data-identity="(sha256\$[0-9a-f]+)"', text).group(1)
    assertion = json.loads((example_output / "awards" / VALID / "assertion.json").read_text())
    assert assertion["recipient"] == {"type": "email", "hashed": True, "salt": salt, "identity": identity}
    assert identity == "sha256$" + hashlib.sha256(("jane.doe@example.com" + salt).encode()).hexdigest()
    assert "jane.doe@example.com" not in text


def test_signatory_is_on_the_certificate(example_output):
    text, page = award_page(example_output, VALID)
    assert '<p class="signatory-name"><bdi>Dr Amira Okafor</bdi></p>' in text
    assert '<p class="signatory-title"><bdi>Head of Assessment</bdi></p>' in text
    assert 'src="../../assets/signature.svg"' in text
    assert (example_output / "assets" / "signature.svg").is_file()
    assert "Scan to verify" in text


# --- Rendering with hostile text and a suspended award -----------------------------------------

EVIL = 'Evil "quoted" </script><script>alert(1)</script> & <!-- more\nsecond line'


def config() -> SiteConfig:
    return SiteConfig(
        base_url="https://badges.example.org/",
        issuer=Issuer(name=f"Issuer {EVIL}", url="https://example.org", email="b@example.org"),
        title="Badges",
        signatory=Signatory(name=f"Signer {EVIL}", title=EVIL),
    )


def render_award(award: Award, *, badge_name: str = f"Badge {EVIL}", show_name: bool = True) -> tuple[str, Page]:
    cfg = config()
    badge = BadgeClass(
        slug="b",
        name=badge_name,
        description=f"About {EVIL}",
        image="assets/b.svg",
        criteria="Did it.",
        tags=(f"tag {EVIL}",),
        achievement_type="ext:Workshop",
    )
    recipient = Recipient(slug="r", name=f"Ann {EVIL}", email="ann@example.com", show_name=show_name)
    today = date(2026, 11, 22)
    title, description = context.award_page_text(cfg, badge, recipient, award, today)
    ctx = context.award_context(cfg, badge, recipient, award, today)
    rendered = Renderer(None).render(
        "award.html",
        site={
            "title": "Badges",
            "language": "en",
            "issuer_name": cfg.issuer.name,
            "issuer_url": cfg.issuer.url,
            "footer": "",
            "logo": None,
            "stylesheet": None,
            "pages": [],
            "csp": "default-src 'none'",
        },
        meta=context.meta(cfg, "awards/x/", title, description, noindex=ctx["noindex"]),
        root="../../",
        issuer=context.issuer_context(cfg),
        badge=context.badge_context(badge),
        award=ctx,
        renewal=None,
        endorsements=[],
    )
    text = rendered.decode("utf-8")
    return text, Page(text)


AWARD = Award(id="evil-1", badge="b", recipient="r", issued_on=date(2026, 1, 15), expires=date(2029, 1, 15))


def test_json_ld_cannot_be_closed_by_yaml_text():
    text, page = render_award(AWARD)
    ld = [t for attrs, t in page.scripts if attrs.get("type") == "application/ld+json"]
    assert len(ld) == 1  # the </script> in the names did not end it early
    assert [attrs for attrs, _ in page.scripts if "src" not in attrs] == [{"type": "application/ld+json"}]
    assert "<" not in ld[0] and ">" not in ld[0] and "&" not in ld[0]
    data = json.loads(ld[0])
    assert data["name"] == f"Badge {EVIL}"
    assert data["recognizedBy"]["name"] == f"Issuer {EVIL}"
    assert "<script>alert(1)</script>" not in text


def test_share_links_encode_every_character_of_the_text():
    links = context.share_links(
        config(), BadgeClass("b", f"Badge {EVIL}", "d", "assets/b.svg", "c"), "https://x.test/a/"
    )
    expected = "I earned Badge " + " ".join(EVIL.split()) + " from Issuer " + " ".join(EVIL.split()) + "."
    for name in ("x", "email", "linkedin", "facebook"):
        assert not set(links[name]) & set(' "<>\n'), (name, links[name])  # nothing left unencoded
    assert parse_qs(urlsplit(links["x"]).query)["text"] == [expected]
    body = parse_qs(urlsplit(links["email"]).query)["body"]
    assert body == [f"{expected}\n\nhttps://x.test/a/"]
    assert "\n" not in links["text"]


@pytest.mark.parametrize("organization", [None, "12345"])
@pytest.mark.parametrize("expires", [None, date(2029, 1, 15)])
def test_share_and_linkedin_links_are_what_urlencode_makes(organization, expires):
    """The links are made from parts quoted once per badge class: the same bytes as urlencode's."""
    from dataclasses import replace
    from urllib.parse import quote, urlencode

    site = replace(config(), linkedin_organization_id=organization)
    badge = BadgeClass("b", f"Bädge + {EVIL} 😀 100%", "d", "assets/b.svg", "c")
    award = replace(AWARD, id="a b+c/é", expires=expires)
    page_url = "https://x.test/awards/a b+c/é/?q=1&r=2#f"
    text = " ".join(f"I earned {badge.name} from {site.issuer.name}.".split())
    subject = " ".join(f"{badge.name}, from {site.issuer.name}".split())
    assert context.share_links(site, badge, page_url) == {
        "text": text,
        "linkedin": "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": page_url}, quote_via=quote),
        "x": "https://twitter.com/intent/tweet?" + urlencode({"text": text, "url": page_url}, quote_via=quote),
        "facebook": "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": page_url}, quote_via=quote),
        "email": "mailto:?" + urlencode({"subject": subject, "body": f"{text}\n\n{page_url}"}, quote_via=quote),
    }
    params = {"startTask": "CERTIFICATION_NAME", "name": badge.name}
    params.update({"organizationId": organization} if organization else {"organizationName": site.issuer.name})
    params.update({"issueYear": "2026", "issueMonth": "1"})
    if expires:
        params.update({"expirationYear": "2029", "expirationMonth": "1"})
    params.update({"certUrl": page_url, "certId": award.id})
    assert context.linkedin_url(site, badge, award, page_url) == "https://www.linkedin.com/profile/add?" + urlencode(
        params
    )


def test_embed_snippet_escapes_names_and_has_no_script():
    snippet = context.embed_snippet(
        config(),
        BadgeClass("b", f"Badge {EVIL}", "d", "assets/b.svg", "c"),
        Recipient(slug="r", name=f"Ann {EVIL}", email="ann@example.com"),
        AWARD,
    )
    page = Page(snippet)
    assert page.tags == ["a", "img", "span", "strong", "span", "bdi", "span"]  # (bdi: the name)
    assert "<script" not in snippet and "<!--" not in snippet and "</script" not in snippet
    assert html.unescape(snippet).count(f"Badge {' '.join(EVIL.split())}") == 1


def test_embed_snippet_leaves_out_a_hidden_name():
    snippet = context.embed_snippet(
        config(),
        BadgeClass("b", "Badge", "d", "assets/b.svg", "c"),
        Recipient(slug="r", name="Secret Name", email="s@example.com", show_name=False),
        AWARD,
    )
    assert "Secret" not in snippet


def test_hostile_text_is_escaped_everywhere_on_the_page():
    text, page = render_award(AWARD)
    assert "<script>alert(1)</script>" not in text
    assert page.tags.count("script") == 3  # the JSON-LD, badgekiln.js and verify.js
    assert page.meta["og:title"].startswith('Badge Evil "quoted" </script>')  # (as text, in an attribute)
    assert "Workshop" in text  # the achievement type, shown in words


def test_suspended_award_is_shown_suspended_and_not_shareable():
    award = Award(
        id="evil-1",
        badge="b",
        recipient="r",
        issued_on=date(2026, 1, 15),
        expires=date(2029, 1, 15),
        suspended=Suspension(on=date(2026, 7, 1), reason="Membership lapsed"),
    )
    text, page = render_award(award, badge_name="Pipefitting")
    assert page.title.startswith("Suspended: Pipefitting")
    assert (
        page.meta["og:description"].startswith("Issuer ")
        and "suspended this badge on 1 July 2026" in page.meta["og:description"]
    )
    assert page.meta["robots"] == "noindex"
    assert "banner-suspended" in page.classes
    assert "Suspended</strong> since 1 July 2026: <bdi>Membership lapsed</bdi>." in text
    assert "share" not in page.classes and "embed-code" not in page.classes
    assert "download>" not in text and "Expires on" not in text and "has earned" not in text
    # (UX walkthrough: "was awarded, now suspended, Pipefitting" read awkwardly; the status follows the badge)
    heading = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text.split("<h1>", 1)[1].split("</h1>", 1)[0])).strip()
    assert heading.endswith("was awarded Pipefitting now suspended"), heading


def test_revoked_award_rendered_directly():
    award = Award(
        id="evil-1",
        badge="b",
        recipient="r",
        issued_on=date(2026, 1, 15),
        revoked=Revocation(on=date(2026, 5, 1), reason="Issued in error"),
    )
    text, page = render_award(award, badge_name="Pipefitting")
    assert page.title.startswith("Revoked: Pipefitting")
    heading = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text.split("<h1>", 1)[1].split("</h1>", 1)[0])).strip()
    assert heading.endswith("was awarded Pipefitting since revoked"), heading
    assert page.meta["robots"] == "noindex"
    assert "Expires on" not in text and "has earned" not in text


def test_hidden_name_makes_a_valid_page_noindex():
    _, page = render_award(AWARD, show_name=False)
    assert page.meta["robots"] == "noindex"
    assert "share" in page.classes  # (still shareable: the page shows no name)


# --- site.yaml certificate: ---------------------------------------------------------------------

SITE_HEAD = """
    base_url: https://badges.example.org/
    issuer:
      name: Example Issuer
      url: https://example.org
      email: badges@example.org
"""


@pytest.mark.parametrize(
    ("certificate", "code", "line", "needle"),
    [
        ("certificate:\n  signatory:\n    title: Head\n", "missing-key", 8, "needs 'name'"),
        ("certificate:\n  signatory:\n    name: A\n    signature: ../secret.png\n", "bad-image", 9, "site_src/assets/"),
        (
            "certificate:\n  signatory:\n    name: A\n    signature: assets/none.png\n",
            "missing-image",
            9,
            "does not exist",
        ),
        (
            "certificate:\n  signatory:\n    name: A\n    signature: assets/badge.svg.txt\n",
            "bad-image",
            9,
            ".png or .svg",
        ),
        ("certificate:\n  signatory:\n    name: A\n    titel: B\n", "unknown-key", 9, "'titel' in signatory"),
        ("certificate:\n  signer:\n    name: A\n", "unknown-key", 7, "signer"),
        ("certificate: yes\n", "not-a-mapping", 6, "mapping"),
        ("certificate:\n  signatory:\n    name: [A]\n", "wrong-type", 8, "must be text"),
    ],
)
def test_bad_certificate_settings_are_located_errors(tmp_path, run, certificate, code, line, needle):
    import textwrap

    files = dict(MINIMAL)
    files["site_src/site.yaml"] = textwrap.dedent(SITE_HEAD).lstrip("\n") + certificate
    site = write_site(tmp_path / "site", files)
    result = run("check", "--source", str(site))
    assert result.code != 0
    located = [ln for ln in result.err.splitlines() if f"error[{code}]" in ln]
    assert located, result.err
    assert any(ln.startswith(f"site_src/site.yaml:{line}:") and needle in ln for ln in located), result.err


def test_signature_image_through_a_link_is_refused(tmp_path, run):
    import textwrap

    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    files = dict(MINIMAL)
    files["site_src/site.yaml"] = textwrap.dedent(SITE_HEAD).lstrip("\n") + (
        "certificate:\n  signatory:\n    name: A\n    signature: assets/sig.png\n"
    )
    site = write_site(tmp_path / "site", files)
    (site / "site_src" / "assets" / "sig.png").symlink_to(secret)
    result = run("check", "--source", str(site))
    assert result.code != 0
    assert "site_src/site.yaml:9:" in result.err and "error[bad-image]" in result.err, result.err


def test_a_signatory_without_a_signature_image_is_printed_by_name(tmp_path, run):
    import textwrap

    files = dict(MINIMAL)
    files["site_src/site.yaml"] = textwrap.dedent(SITE_HEAD).lstrip("\n") + (
        "certificate:\n  signatory:\n    name: Jo Bloggs\n    title: Director\n"
    )
    site = write_site(tmp_path / "site", files)
    build(run, site)
    text = (site / "output" / "awards" / "ann-first-1" / "index.html").read_text(encoding="utf-8")
    assert '<p class="signatory-name"><bdi>Jo Bloggs</bdi></p>' in text
    assert 'class="signature"' not in text


def test_the_check_is_reachable_from_the_certificate_and_the_issuer_can_be_contacted(example_output):
    # (verifier review: the Verify button was 3.7 screens down on a phone, under a "Status: Valid" a
    # copy of the page shows just as well; the page named no one to contact when something is wrong)
    page = (example_output / "awards/7q4kz2m9xw/index.html").read_text()
    facts_end = page.index("</dl>", page.index('<dl class="facts">'))
    link = '<p class="check-link no-print"><a href="#for-verifiers">Check that this badge is genuine</a></p>'
    assert page.index(link) == facts_end + len("</dl>\n  ")
    assert '<section class="machine" id="for-verifiers">' in page
    assert (
        'Contact <bdi>Northwind Training</bdi> at\n  <a href="mailto:badges@northwind.example">badges@northwind.example</a>.'
        in page
    )


@pytest.mark.parametrize(
    ("reason", "shown"),
    [
        ("Issued in error", "<bdi>Issued in error</bdi>. This badge"),
        ("See the appeals process.", "<bdi>See the appeals process.</bdi> This badge"),  # (it read "process.. This")
        ("Why?", "<bdi>Why?</bdi> This badge"),
    ],
)
def test_a_withdrawal_reason_ends_in_one_full_stop(reason, shown):
    for withdrawn in (
        {"revoked": Revocation(on=date(2026, 5, 1), reason=reason)},
        {"suspended": Suspension(on=date(2026, 7, 1), reason=reason)},
    ):
        award = Award(id="x-1", badge="b", recipient="r", issued_on=date(2026, 1, 15), **withdrawn)
        text, _ = render_award(award, badge_name="Pipefitting")
        banner = re.search(r'<p class="banner banner-(?:revoked|suspended)".*?</p>', text).group()
        assert shown in banner and ".." not in banner and "?." not in banner


def test_preview_texts_are_cut_after_a_word_with_an_ellipsis():
    # (a review: og:description and og:image:alt were cut at 300 characters mid-word, "...Instr")
    from badgekiln.pages import sharecard
    from badgekiln.pages.render import clipped

    long_issuer = "The Worshipful Guild of Industrial Pipefitting, Instrumentation and Control " * 5
    alt = sharecard.card_alt("Pipefitting", long_issuer, "Ann Example", "revoked")
    assert len(alt) <= sharecard.ALT_SIZE and alt.endswith("… (revoked)"), alt
    assert alt.removesuffix("… (revoked)").endswith(
        ("Guild", "Pipefitting", "Instrumentation", "Control", "of", "The", "and")
    )
    description = context.meta(config(), "awards/x/", "Title", "Holder can " + "calibrate transmitters " * 30)[
        "description"
    ]
    assert len(description) <= 300 and description.endswith("…") and not description.endswith(" …")
    assert clipped("short", 300) == "short" and clipped("a" * 400, 300) == "a" * 299 + "…"


def test_an_award_without_an_expiry_date_says_so_without_a_valid_until(example_output):
    # ("Valid until: Does not expire" read as a contradiction on the printed certificate)
    text, _page = award_page(example_output, "gprhxxb3dq")  # Network Cabling: no expiry date
    facts = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))
    assert "Expiry date Does not expire" in facts
    assert "Expires on" not in facts


def test_the_wallet_download_says_how_a_wallet_app_takes_it(example_output):
    # (the Learner Credential Wallet's Add Credential screen offers "Add from file" and "Paste JSON
    # or URL": app/screens/AddScreen/AddScreen.tsx, app/lib/decode.ts credentialsFrom)
    text, _page = award_page(example_output, VALID)
    facts = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text.replace("<wbr>", "")))
    assert "choose Add Credential , then Add from file and pick the credential you downloaded" in facts
    assert f"https://badges.northwind.example/awards/{VALID}/credential.json" in facts
    held, _ = award_page(example_output, REVOKED)
    assert "wallet-hint" not in held and "cannot be downloaded for a wallet" in held


def test_the_badge_class_page_says_its_achievement_type_in_words_as_award_pages_do(tmp_path, run):
    import textwrap

    files = dict(MINIMAL)
    files["badges/first-badge.yaml"] = (
        textwrap.dedent(MINIMAL["badges/first-badge.yaml"]) + "achievement_type: MicroCredential\n"
    )
    site = write_site(tmp_path / "site", files)
    build(run, site)
    line = '<p class="achievement-type"><span class="label">Type:</span> <bdi>Micro credential</bdi></p>'
    assert line in (site / "output/badges/first-badge/index.html").read_text(encoding="utf-8")
    assert line in (site / "output/awards/ann-first-1/index.html").read_text(encoding="utf-8")
