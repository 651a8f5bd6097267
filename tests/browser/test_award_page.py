"""The award page's sharing, "Is this badge yours?", status display, accessibility and
certificate, in a real browser (Debian's Chromium through Playwright; see conftest.py).

Screenshots for review are written to test-artifacts/screenshots/ (git-ignored): the award page at
375 px and at 1200 px, and the printed certificate on A4 and on US Letter.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import MINIMAL, copy_example, write_site

from .conftest import load_every_image, new_page
from .test_pages import DESKTOP, EXPIRED, PHONE, REVOKED, VALID, pdf_pages, scan_qr

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
JANE = "jane.doe@example.com"  # the earner of VALID (recipients/jane-doe.yaml)
SHARE_TEXT = "I earned Pipefitting - MJI10 Base Competence from Northwind Training."
# Paper sizes (landscape, in points) and the printable area inside the 12 mm margins at 96 px/in.
PAPERS = {
    "A4": {"points": (841.89, 595.28), "viewport": {"width": 1032, "height": 703}},
    "Letter": {"points": (792.0, 612.0), "viewport": {"width": 965, "height": 725}},
}
HOSTILE_NAME = 'Ann "Quotes" <script>window.__xss=1</script> & Co'


def snap(page, name: str, **options) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), **options)


@pytest.fixture(scope="module")
def example(site_factory):
    return site_factory(copy_example)


@pytest.fixture(scope="module")
def hostile(site_factory):
    """Names with quotes, markup and ampersands, which share links and the embed code carry."""
    files = dict(MINIMAL)
    files["site_src/site.yaml"] = """
        base_url: https://badges.example.org/
        issuer:
          name: "Issuer & <b>Sons</b> \\"Ltd\\""
          url: https://example.org
          email: badges@example.org
    """
    files["badges/first-badge.yaml"] = """
        name: "Badge \\"One\\" & <script>window.__xss=1</script>"
        description: "Line one\\nline two & <i>more</i>"
        image: assets/badge.svg
        criteria: Did the thing.
    """
    files["recipients/ann.yaml"] = f"""
        name: '{HOSTILE_NAME}'
        email: ann@example.com
        awards:
          - id: ann-first-1
            badge: first-badge
            issued_on: 2026-01-15
    """
    return site_factory(lambda root: write_site(root, files))


LONG_DESCRIPTION = " ".join(
    f"Part {n}: the holder can prepare, fit, pressure-test and document small-bore pipework to the site's "
    "written procedures, under supervision and then alone."
    for n in range(1, 13)
)  # (about 1,500 characters: real descriptions of 600-800 cut the QR code off the printed page)


@pytest.fixture(scope="module")
def wordy(site_factory):
    """The example site with a very long description on every badge."""

    def prepare(root):
        site = copy_example(root)
        for badge in (site / "badges").glob("*.yaml"):
            lines = badge.read_text().splitlines(keepends=True)
            badge.write_text(
                "".join(
                    f"description: {json.dumps(LONG_DESCRIPTION)}\n" if line.startswith("description:") else line
                    for line in lines
                )
            )
        return site

    return site_factory(prepare)


@pytest.fixture
def page(browser):
    page, problems = new_page(browser, viewport=DESKTOP)
    page.problems = problems
    yield page
    page.context.close()


def requests_during(page, action) -> list[str]:
    """The URLs the page requests while ``action()`` runs."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    action()
    page.wait_for_timeout(300)  # (a request the page would send after the result is shown)
    return seen


# --- Share row -------------------------------------------------------------------------------


def share_links(page) -> dict[str, str]:
    return dict(
        page.eval_on_selector_all(
            ".share-links a[data-network]", "links => links.map(a => [a.dataset.network, a.href])"
        )
    )


def test_share_links_carry_the_page_url_and_text(page, example):
    url = example.url(f"awards/{VALID}/")
    page.goto(url)
    links = share_links(page)

    assert set(links) == {"linkedin", "x", "facebook", "email"}
    linkedin = urlsplit(links["linkedin"])
    assert (linkedin.netloc, linkedin.path) == ("www.linkedin.com", "/sharing/share-offsite/")
    assert parse_qs(linkedin.query) == {"url": [url]}
    x = urlsplit(links["x"])
    assert (x.netloc, x.path) == ("twitter.com", "/intent/tweet")
    assert parse_qs(x.query) == {"text": [SHARE_TEXT], "url": [url]}
    facebook = urlsplit(links["facebook"])
    assert (facebook.netloc, facebook.path) == ("www.facebook.com", "/sharer/sharer.php")
    assert parse_qs(facebook.query) == {"u": [url]}
    mail = urlsplit(links["email"])
    assert mail.scheme == "mailto" and "+" not in mail.query  # mail clients read '+' as a plus sign
    assert parse_qs(mail.query) == {
        "subject": ["Pipefitting - MJI10 Base Competence, from Northwind Training"],
        "body": [f"{SHARE_TEXT}\n\n{url}"],
    }
    # The add-to-profile button is still there, and no share link runs script of the networks.
    assert page.locator("a", has_text="Add to LinkedIn profile").count() == 1
    origins = page.evaluate("[...document.scripts].filter(s => s.src).map(s => new URL(s.src).origin)")
    assert origins and set(origins) == {example.base_url.rstrip("/")}


def test_copy_link_and_web_share(browser, example):
    page, problems = new_page(browser, viewport=PHONE)
    try:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        # A phone's Web Share API, recorded instead of opening a share sheet.
        page.add_init_script("navigator.share = d => { window.__shared = d; return Promise.resolve(); };")
        url = example.url(f"awards/{VALID}/")
        page.goto(url)
        page.click("button.share-native")
        assert page.evaluate("window.__shared") == {
            "title": "Pipefitting - MJI10 Base Competence",
            "text": SHARE_TEXT,
            "url": url,
        }
        page.click("button[data-copy]")
        page.wait_for_selector(".share-status:has-text('Link copied.')")
        assert page.evaluate("navigator.clipboard.readText()") == url
        page.click(".embed summary")
        page.click("button[data-copy-from]")
        page.wait_for_selector(".embed .embed-status:has-text('Embed code copied.')")  # (under its button)
        assert page.inner_text(".share-status") == "Link copied."
        assert page.evaluate("navigator.clipboard.readText()") == page.input_value("#embed-code")
        assert problems.all() == []
    finally:
        page.context.close()


def test_share_button_stays_hidden_without_the_web_share_api(page, example):
    page.add_init_script("delete Navigator.prototype.share; delete navigator.share;")  # (desktop Chromium)
    page.goto(example.url(f"awards/{VALID}/"))
    assert page.evaluate("typeof navigator.share") == "undefined"
    assert page.locator("button.share-native").is_hidden()
    assert page.locator("button[data-copy]").is_visible()


def test_embed_code_is_a_self_contained_link_card(page, example):
    url = example.url(f"awards/{VALID}/")
    page.goto(url)
    snippet = page.input_value("#embed-code")
    # Pasted into a page of another site, it is one link back with the badge's artwork.
    page.set_content(f"<main>{snippet}</main>")
    card = page.locator("main > a")
    assert card.count() == 1 and card.get_attribute("href") == url
    assert page.locator("main img").get_attribute("src") == example.url("badges/pipefitting-mji10/image.svg")
    assert page.locator("main script, main iframe, main link, main style").count() == 0
    assert "Pipefitting - MJI10 Base Competence" in card.inner_text()
    assert "Jane Doe" in card.inner_text()


def test_hostile_names_stay_text_in_share_links_and_embed_code(browser, hostile):
    page, _ = new_page(browser, bypass_csp=True, viewport=DESKTOP)
    try:
        url = hostile.url("awards/ann-first-1/")
        page.goto(url)
        badge = 'Badge "One" & <script>window.__xss=1</script>'
        issuer = 'Issuer & <b>Sons</b> "Ltd"'
        x = parse_qs(urlsplit(share_links(page)["x"]).query)
        assert x == {"text": [f"I earned {badge} from {issuer}."], "url": [url]}
        assert page.get_attribute("button.share-native", "data-text") == f"I earned {badge} from {issuer}."
        snippet = page.input_value("#embed-code")
        page.set_content(f"<main>{snippet}</main>")
        assert page.locator("main script, main b").count() == 0
        assert page.locator("main > a").count() == 1
        assert badge in page.inner_text("main")
        assert HOSTILE_NAME in page.inner_text("main")
        assert page.evaluate("window.__xss") is None
    finally:
        page.context.close()


# --- Is this badge yours? --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "match"),
    [
        (JANE, True),
        ("  Jane.Doe@Example.COM ", True),  # normalised as the build normalises the earner's address
        ("jane.doe@example.org", False),
        ("someone@example.com", False),
    ],
)
def test_is_this_yours_checks_in_the_browser_without_a_request(page, example, typed, match):
    page.goto(example.url(f"awards/{VALID}/"))
    page.wait_for_load_state("networkidle")
    box = page.locator("#is-this-yours")
    assert box.is_visible()

    def check() -> None:
        page.fill("#ownership-email", typed)
        if typed == JANE:
            page.press("#ownership-email", "Enter")
        else:
            page.click("#is-this-yours .ownership-check")
        page.wait_for_selector(".ownership-result[data-match]")

    assert requests_during(page, check) == []
    assert page.get_attribute(".ownership-result", "data-match") == ("yes" if match else "no")
    text = page.inner_text(".ownership-result")
    assert text.startswith("Yes: this badge was issued to" if match else "No: this badge was not issued to")
    assert "not sent anywhere" in box.inner_text()
    assert page.problems.all() == []


def test_is_this_yours_says_a_name_is_not_an_address(page, example):
    # (verifier review: "Jane Doe" was hashed and answered "No: this badge was not issued to jane doe")
    page.goto(example.url(f"awards/{VALID}/"))
    page.fill("#ownership-email", "Jane Doe")
    page.click("#is-this-yours .ownership-check")
    assert page.inner_text(".ownership-result").startswith("That is not an email address")
    assert page.get_attribute(".ownership-result", "data-match") is None


def test_is_this_yours_is_hidden_without_javascript(browser, example):
    page, _ = new_page(browser, java_script_enabled=False, viewport=DESKTOP)
    try:
        page.goto(example.url(f"awards/{VALID}/"))
        assert page.locator("#is-this-yours").is_hidden()
        assert page.locator("button.share-copy").first.is_hidden()
    finally:
        page.context.close()


# --- Status ----------------------------------------------------------------------------------


def test_page_viewed_after_expiry_shows_the_built_expired_banner(page, example):
    page.goto(example.url(f"awards/{EXPIRED}/"))  # built expired (2 September 2025)
    built = page.eval_on_selector(".banner-expired", "b => b.outerHTML")
    assert page.locator(".banner-expired").is_visible()

    page.clock.set_fixed_time("2029-03-02T09:00:00Z")
    page.goto(example.url(f"awards/{VALID}/"))  # valid until 1 March 2029
    banner = page.locator(".banner-expired")
    assert banner.is_visible()
    shown = banner.evaluate("b => b.outerHTML")
    assert shown == (  # (the markup a page built after the expiry has)
        '<p class="banner banner-expired" role="alert"><strong>Expired</strong> on 1 March 2029. '
        "This badge is no longer current.</p>"
    )
    assert built == (  # (one that was renewed says so in its banner: UX review, the link was far below)
        '<p class="banner banner-expired" role="alert"><strong>Expired</strong> on 2 September 2025. '
        'It was renewed on 28 September 2026: <a href="../../awards/z3k7q2w9hd/">see the current award</a>'
        f'<span class="print-only"> at {example.url("awards/z3k7q2w9hd/")}</span>.</p>'
    )
    assert banner.inner_text() == "Expired on 1 March 2029. This badge is no longer current."
    assert page.title().startswith("Expired: ")  # (as a page built after the expiry is titled: UX review)
    page.reload()
    assert page.title().startswith("Expired: ") and not page.title().startswith("Expired: Expired")


def test_a_portfolio_viewed_after_a_badges_expiry_marks_it_expired(page, example):
    """(a visual audit: "Every badge listed here is currently valid" above "valid until 10 February
    2028", viewed in March 2028, when the site's daily rebuild had stopped)"""
    page.goto(example.url("earners/sean-obrien/"))
    assert page.locator(".portfolio-award.expired").count() == 0
    lead = page.inner_text(".portfolio-lead")
    assert lead.startswith("Every badge listed here is currently valid")
    expiring = page.eval_on_selector_all(".portfolio-award[data-expires]", "els => els.map(e => e.dataset.expires)")
    assert expiring, "the example portfolio lists a badge that expires"
    page.clock.set_fixed_time(
        f"{max(expiring)}T09:00:00Z"
    )  # (on the day of the last expiry: expired, as on award pages)
    page.reload()
    assert page.locator(".portfolio-award.expired").count() == len(expiring)
    assert page.locator(".portfolio-award.expired .validity").all_inner_texts() == ["expired on"] * len(expiring)
    assert page.inner_text(".portfolio-lead").startswith("The badges listed here were valid when this page was made")


@pytest.mark.parametrize(("width", "shown"), [(1100, "share.png"), (390, "badges/")])
def test_a_portfolio_on_a_phone_shows_each_badges_artwork_beside_its_facts(page, example, width, shown):
    # (an earner review: on a phone the share cards' text was 6 pixels high)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(example.url("earners/sean-obrien/"))
    load_every_image(page)
    pictures = page.locator(".portfolio-award .share-card")
    assert pictures.count() >= 1
    for number in range(pictures.count()):
        picture = pictures.nth(number)
        assert shown in picture.evaluate("e => e.currentSrc"), picture.evaluate("e => e.currentSrc")
        assert picture.evaluate("e => e.complete && e.naturalWidth > 0")
        box = picture.bounding_box()
        if width < 500:  # (a small square beside the text, on the same row)
            assert 60 <= box["width"] <= 80 and 60 <= box["height"] <= 80, box
            facts = page.locator(".portfolio-award p").nth(number).bounding_box()
            assert facts["x"] >= box["x"] + box["width"] and facts["y"] < box["y"] + box["height"], (box, facts)
    snap(page, f"portfolio-{width}.png")


def test_an_expired_renewed_certificate_gives_the_current_awards_address_on_paper(page, example):
    # (an earner review: the printed notice said "see the current award", a link paper cannot follow)
    page.goto(example.url(f"awards/{EXPIRED}/"))
    current = example.url("awards/z3k7q2w9hd/")
    assert page.inner_text(".banner-expired").endswith("see the current award.")  # (on screen: the link)
    page.emulate_media(media="print")
    assert page.inner_text(".banner-expired").endswith(f"see the current award at {current}.")
    snap(page, "certificate-expired-renewed.png")


def test_banner_stays_hidden_before_expiry(page, example):
    page.goto(example.url(f"awards/{VALID}/"))
    assert page.locator(".banner-expired").is_hidden()
    assert page.inner_text(".facts .status") == "Valid"
    assert not page.title().startswith("Expired")


def test_revoked_page_hides_sharing_and_wallet_download(page, example):
    page.goto(example.url(f"awards/{REVOKED}/"))
    text = page.inner_text(".certificate").lower()  # (labels are shown in capitals)
    assert "has earned" not in text and "expires on" not in text
    assert "revoked on\n1 may 2026" in text
    assert page.locator(".share, #embed-code").count() == 0
    assert page.locator("a[download]").count() == 0
    assert page.locator("a", has_text="Add to LinkedIn profile").count() == 0
    assert page.get_attribute("meta[name=robots]", "content") == "noindex"
    assert page.title().startswith("Revoked: ")
    assert page.get_attribute("meta[property='og:title']", "content").startswith("Revoked: ")
    assert "revoked" in page.get_attribute("meta[property='og:description']", "content")
    assert page.locator("script[type='application/ld+json']").count() == 0


# --- Richer page -----------------------------------------------------------------------------


def test_award_page_shows_tags_type_alignment_and_json_ld(page, example):
    page.goto(example.url(f"awards/{VALID}/"))
    assert page.locator(".certificate .tags li").all_inner_texts() == ["pipefitting", "mechanical", "joint integrity"]
    assert "Mechanical Maintenance Technician" in page.inner_text(".alignment")
    data = json.loads(page.text_content("script[type='application/ld+json']"))
    assert data["@type"] == "EducationalOccupationalCredential"
    assert data["url"] == example.url(f"awards/{VALID}/")
    assert data["recognizedBy"]["name"] == "Northwind Training"
    # Development keys sign the browser tests' builds: every page says so.
    assert "development keys" in page.inner_text(".banner-dev")
    art = page.locator(".certificate .badge-image").bounding_box()
    assert art["width"] >= 250, "the artwork is small on a desktop screen"


# --- Accessibility ---------------------------------------------------------------------------


AXE = None


def axe_violations(page) -> list[dict]:
    """axe-core's violations of every impact (the engine that axe-playwright-python ships)."""
    global AXE
    if AXE is None:
        axe_module = pytest.importorskip("axe_playwright_python", reason="pip install axe-playwright-python")
        AXE = (Path(axe_module.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
    page.evaluate(AXE)  # (evaluated through DevTools: the page's CSP does not apply)
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in results["violations"]
    ]


def test_axe_reports_a_violation_it_is_shown(page):
    page.set_content('<html lang="en"><title>t</title><main><img src="data:,"></main></html>')
    assert "image-alt" in [v["id"] for v in axe_violations(page)]


@pytest.mark.parametrize(
    "path",
    [
        "",
        "badges/pipefitting-mji10/",
        f"awards/{VALID}/",
        f"awards/{REVOKED}/",
        f"awards/{EXPIRED}/",
        # (every other kind of page the example has: the About page's "## Questions" was an h3
        # straight after its h1, axe's heading-order)
        "pages/about/",
        "pages/how-to-verify/",
        "badges/maintenance-technician/pathway/",
        "earners/sean-obrien/",
        "404.html",
    ],
)
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_finds_no_violations(page, example, path, viewport):
    page.set_viewport_size(viewport)
    page.goto(example.url(path))
    page.wait_for_load_state("networkidle")
    if path == f"awards/{VALID}/":
        page.click(".embed summary")  # the embed code's label and field too
        page.fill("#ownership-email", JANE)
        page.click("#is-this-yours .ownership-check")
        page.wait_for_selector(".ownership-result[data-match]")
    assert axe_violations(page) == []


# --- Screenshots and print -------------------------------------------------------------------


def test_award_page_screenshots(page, example):
    page.goto(example.url(f"awards/{VALID}/"))
    page.wait_for_load_state("networkidle")
    page.click(".embed summary")  # shown open, with an answer in "Is this badge yours?"
    page.fill("#ownership-email", JANE)
    page.click("#is-this-yours .ownership-check")
    page.wait_for_selector(".ownership-result[data-match]")
    snap(page, "award-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(100)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    snap(page, "award-375.png", full_page=True)
    page.goto(example.url(f"awards/{REVOKED}/"))
    snap(page, "award-revoked-375.png", full_page=True)


@pytest.mark.parametrize("paper", sorted(PAPERS))
@pytest.mark.parametrize("award", [VALID, REVOKED])
def test_a_long_description_gives_way_on_the_printed_certificate(page, wordy, paper, award):
    # (a review: the description was printed whole, and the page's bottom, the QR code and the
    # signatory with it, was clipped: one page, nothing to scan)
    url = wordy.url(f"awards/{award}/")
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.emulate_media(media="print")
    page.set_viewport_size(PAPERS[paper]["viewport"])
    snap(page, f"certificate-long-{award}-{paper}.png")
    assert len(pdf_pages(page.pdf(format=paper, prefer_css_page_size=True, print_background=True))) == 1
    box = page.eval_on_selector(".certificate", "e => e.getBoundingClientRect().toJSON()")
    assert box["bottom"] <= PAPERS[paper]["viewport"]["height"] + 1, box
    for part in (".qr svg", ".qr-url", ".signatory-name", ".signatory-title", ".facts"):
        inner = page.eval_on_selector(part, "e => e.getBoundingClientRect().toJSON()")
        assert box["top"] <= inner["top"] and inner["bottom"] <= box["bottom"] - 4, (part, inner, box)
    assert scan_qr(page.locator(".qr svg").screenshot()) == [url]
    lead = page.eval_on_selector(".award .lead", "e => [e.scrollHeight, e.clientHeight]")
    assert lead[0] > lead[1], "the description is not cut: this test needs a longer one"


@pytest.mark.parametrize("paper", sorted(PAPERS))
@pytest.mark.parametrize("award", [VALID, REVOKED])
def test_certificate_prints_on_one_page_of_the_browsers_paper(page, example, paper, award):
    url = example.url(f"awards/{award}/")
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.emulate_media(media="print")
    page.set_viewport_size(PAPERS[paper]["viewport"])
    snap(page, f"certificate-{award}-{paper}.png")

    # The paper is the browser's (the stylesheet asks only for landscape): one page of it.
    pdf = page.pdf(format=paper, prefer_css_page_size=True, print_background=True)
    sizes = pdf_pages(pdf)
    assert len(sizes) == 1, f"prints on {len(sizes)} pages"
    width, height = sizes[0]
    want_w, want_h = PAPERS[paper]["points"]
    assert abs(width - want_w) < 2 and abs(height - want_h) < 2, sizes

    foot = page.locator(".qr")
    assert foot.is_visible() and "Scan to verify" in foot.inner_text()
    assert scan_qr(page.locator(".qr svg").screenshot()) == [url]
    # The URL wraps only after '/' or '.', never inside a word.
    assert page.eval_on_selector(".qr-url", "e => getComputedStyle(e).overflowWrap") == "normal"
    parts = page.eval_on_selector(
        ".qr-url",
        """e => [...e.childNodes].filter(n => n.nodeType === 3).map(n => {
          const r = document.createRange(); r.selectNodeContents(n);
          return {text: n.textContent, lines: new Set([...r.getClientRects()].map(b => Math.round(b.top))).size};
        })""",
    )
    assert "".join(p["text"] for p in parts) == url
    assert [p["text"] for p in parts if p["lines"] != 1] == [], "a part of the URL is cut mid-word"
    assert all(p["text"].endswith(("/", ".")) for p in parts[:-1]), parts
    # The signatory from site.yaml, beside the QR code.
    assert page.inner_text(".signatory-name") == "Dr Amira Okafor"
    # (its signature only on a certificate of a valid award: a revoked one printed signed was misused)
    assert page.locator(".signature").count() == (award == VALID)
    if award == VALID:
        assert page.locator(".signature").is_visible()
    # No empty band: the certificate reaches the bottom of the printable area.
    bottom = page.eval_on_selector(".certificate", "e => e.getBoundingClientRect().bottom")
    assert PAPERS[paper]["viewport"]["height"] - bottom < 8, bottom


# --- Right-to-left texts -----------------------------------------------------------------------

HEBREW_DESCRIPTION = "המחזיק יכול להעניק עזרה ראשונה בחירום."
HEBREW_CRITERIA = "השתתף בקורס ועבר את המבחנים."


@pytest.fixture(scope="module")
def hebrew(site_factory):
    """A badge named and described in Hebrew, on an English site, its award revoked with a Hebrew reason.
    (Each text ends in a full stop: a neutral character, which takes the direction around it.)"""
    files = dict(MINIMAL)
    files["badges/first-badge.yaml"] = f"""
        name: עזרה ראשונה (מתקדם).
        description: {HEBREW_DESCRIPTION}
        image: assets/badge.svg
        criteria: {HEBREW_CRITERIA}
        tags: [בטיחות.]
    """
    files["recipients/ann.yaml"] = """
        name: דוד כהן.
        email: ann@example.com
        awards:
          - id: ann-first-1
            badge: first-badge
            issued_on: 2026-01-15
            revoked: {on: 2026-02-01, reason: הונפק בטעות}
    """
    return site_factory(lambda root: write_site(root, files))


def drawn_first_and_last(page, selector: str) -> tuple[float, float]:
    """The horizontal middles of the first and the last character of the text of ``selector``
    as drawn: right to left, the last is left of the first."""
    return tuple(
        page.eval_on_selector(
            selector,
            """(e, at) => {
              const walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
              const texts = [];
              for (let n = walker.nextNode(); n; n = walker.nextNode()) if (n.textContent.trim()) texts.push(n);
              const node = at === 0 ? texts[0] : texts[texts.length - 1];
              const text = node.textContent.replace(/\\s+$/, "");
              const i = at === 0 ? text.search(/\\S/) : text.length - 1;
              const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
              const box = r.getBoundingClientRect();
              return box.left + box.width / 2;
            }""",
            at,
        )
        for at in (0, 1)
    )


@pytest.mark.parametrize(
    "selector",
    [
        ".certificate .lead",
        ".certificate .badge-name",
        ".certificate .earner",
        ".tags li",
        ".prose p",
        ".banner-revoked bdi",
    ],
)
def test_hebrew_texts_read_right_to_left_on_an_english_page(page, hebrew, selector):
    # (a Hebrew description on a left-to-right page drew its full stop at the right, its start)
    page.goto(hebrew.url("awards/ann-first-1/"))
    first, last = drawn_first_and_last(page, selector)
    assert last < first, (selector, first, last)
    # Its own direction, and the page's stays: the English around it reads left to right.
    assert page.eval_on_selector("html", "e => getComputedStyle(e).direction") == "ltr"
    english_first, english_last = drawn_first_and_last(page, ".issuer-contact")
    assert english_first < english_last


def test_a_hebrew_paragraph_is_aligned_to_its_own_start(page, hebrew):
    page.goto(hebrew.url("badges/first-badge/"))
    for selector in (".lead", ".prose p"):
        text_right = page.eval_on_selector(
            selector,
            "e => { const r = document.createRange(); r.selectNodeContents(e); return r.getBoundingClientRect().right; }",
        )
        box_right = page.eval_on_selector(selector, "e => e.getBoundingClientRect().right")
        assert box_right - text_right < 2, (selector, text_right, box_right)
