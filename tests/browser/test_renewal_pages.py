"""Renewal links between two award pages, followed in a real Chromium (issue 12).

Screenshots of both pages go to test-artifacts/screenshots/ (not committed) for review.
"""

from __future__ import annotations

from pathlib import Path

from conftest import MINIMAL, write_site

from .conftest import REPO, new_page

SHOTS = REPO / "test-artifacts" / "screenshots"


def _renewed_site(root: Path) -> Path:
    return write_site(
        root,
        {
            **MINIMAL,
            "badges/first-badge.yaml": MINIMAL["badges/first-badge.yaml"].rstrip(" ") + "        valid_for: P1Y\n",
            "recipients/ann.yaml": """
                name: Ann Example
                email: ann@example.com
                awards:
                  - id: ann-first-1
                    badge: first-badge
                    issued_on: 2026-01-15
                  - id: ann-first-2
                    badge: first-badge
                    issued_on: 2026-11-20
                    renews: ann-first-1
            """,
        },
    )


def test_the_renewal_links_lead_from_one_award_page_to_the_other_and_back(site_factory, browser):
    site = site_factory(_renewed_site)
    page, problems = new_page(browser, viewport={"width": 1200, "height": 900})
    page.goto(site.url("awards/ann-first-1/"))
    section = page.locator("section.renewal")
    assert "Renewed on 20 November 2026 by a newer award." in section.inner_text()
    assert page.locator("dd.status").inner_text() == "Valid"  # valid until its own expiry
    SHOTS.mkdir(parents=True, exist_ok=True)
    section.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "renewal-earlier-award.png"), full_page=True)
    section.get_by_role("link", name="a newer award").click()
    page.wait_for_url(site.url("awards/ann-first-2/"))
    assert "Renews the award of 15 January 2026." in page.locator("section.renewal").inner_text()
    page.screenshot(path=str(SHOTS / "renewal-later-award.png"), full_page=True)
    page.locator("section.renewal").get_by_role("link").click()
    page.wait_for_url(site.url("awards/ann-first-1/"))
    assert problems.all() == []
    page.context.close()
