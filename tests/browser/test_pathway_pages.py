"""Pathway pages, the pathway section of a badge page, component awards and portfolios in Chromium:
no console errors or CSP violations, no horizontal overflow at phone width, and screenshots for
review in test-artifacts/screenshots/ (never committed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_site

from .conftest import load_every_image, new_page
from .test_pages import LAYOUT_PROBLEMS

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-artifacts" / "screenshots"
PHONE = {"width": 375, "height": 667}
DESKTOP = {"width": 1200, "height": 900}


@pytest.fixture(scope="module")
def stacked(site_factory):
    """The site of tests/test_cpd_pathways.py with Ann's pathway complete and her portfolio on."""
    from tests.test_cpd_pathways import SITE

    def prepare(root: Path) -> Path:
        site = write_site(root, SITE)
        ann = site / "recipients/ann.yaml"
        text = ann.read_text().replace("cpd:", "portfolio: true\nhandle: ann-e\ncpd:", 1)
        text += "  - {id: ann-permit, badge: permit-to-work, issued_on: 2026-04-01}\n"
        text += "  - {id: ann-lead, badge: site-lead, issued_on: 2026-04-02}\n"
        ann.write_text(text)
        bob = site / "recipients/bob.yaml"
        bob.write_text(
            "name: Bob Example\nemail: bob@example.com\nportfolio: true\nhandle: bob-the-fitter\n"
            "awards:\n  - {id: bob-rigging, badge: rigging, issued_on: 2026-05-01}\n"
        )
        return site

    return site_factory(prepare)


@pytest.mark.parametrize(
    "path",
    ["badges/site-lead/", "badges/site-lead/pathway/", "awards/ann-lead/", "earners/ann-e/", "earners/bob-the-fitter/"],
)
def test_pathway_and_portfolio_pages_are_clean_at_phone_and_desktop_width(browser, stacked, path):
    name = path.strip("/").replace("/", "-")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, label in ((PHONE, "375"), (DESKTOP, "1200")):
        page, problems = new_page(browser, viewport=size)
        try:
            page.goto(stacked.url(path))
            load_every_image(page)
            page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
            # Share cards are made by their own unit (awards/<id>/share.png); the rest must load.
            assert [p for p in problems.all() if "share.png" not in p] == []
            assert page.evaluate("window.__cspViolations") == []
            layout = page.evaluate(LAYOUT_PROBLEMS)
            assert layout["scrollWidth"] <= size["width"], layout
            assert layout["problems"] == []
        finally:
            page.context.close()


def test_portfolio_links_lead_to_the_earners_award_pages(browser, stacked):
    page, _ = new_page(browser, viewport=DESKTOP)
    try:
        page.goto(stacked.url("earners/ann-e/"))
        hrefs = page.eval_on_selector_all(".portfolio-award a", "els => els.map(e => e.href)")
        assert stacked.url("awards/ann-lead/") in hrefs and stacked.url("awards/ann-first-aid/") in hrefs
        assert not any("bob" in h for h in hrefs)
        page.click("text=Site Lead >> nth=0")
        assert page.url == stacked.url("awards/ann-lead/")
        components = page.eval_on_selector_all("section.component-awards a", "els => els.map(e => e.href)")
        assert components == [stacked.url(f"awards/{i}/") for i in ("ann-first-aid", "ann-rigging", "ann-permit")]
        # A plain list of links, each with its date on its line (a visual audit: the badge page's pathway
        # cards' rules reached it, putting each name on a line of its own above a stray comma)
        shown = page.eval_on_selector_all(
            "section.component-awards a",
            "els => els.map(e => [getComputedStyle(e).display, getComputedStyle(e).textDecorationLine])",
        )
        assert shown == [["inline", "underline"]] * 3, shown
    finally:
        page.context.close()
