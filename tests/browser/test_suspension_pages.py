"""The in-page Verify of a suspended award, in a real browser: it reads the credential's two
``credentialStatus`` entries and says "Suspended" with the page's reason; a valid award passes
both the revocation and the suspension step."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import MINIMAL, write_site

from .conftest import VIEWED_AT, new_page

REASON = "Under investigation"


@pytest.fixture(scope="module")
def site(site_factory):
    files = dict(MINIMAL)
    files["recipients/ann.yaml"] = f"""
        name: Ann Example
        email: ann@example.com
        awards:
          - id: ann-first-1
            badge: first-badge
            issued_on: 2026-01-15
            suspended: {{on: 2026-05-01, reason: {REASON}}}
          - id: ann-first-2
            badge: first-badge
            issued_on: 2026-02-15
    """
    # Keys of its own: a build with development keys is "Not verified" whatever its status.
    return site_factory(lambda root: write_site(root, files), own_keys=True)


@pytest.fixture
def page(browser):
    page, problems = new_page(browser, viewport={"width": 1200, "height": 900})
    page.clock.set_fixed_time(VIEWED_AT)
    yield page, problems
    page.context.close()


def _verify(page, url: str) -> dict:
    page.goto(url)
    page.click("#verify-button")
    page.wait_for_selector("#verify-verdict[data-verdict]")
    steps = page.eval_on_selector_all(
        "#verify-steps > li",
        "items => items.map(li => ({state: li.dataset.state, text: li.querySelector('.verify-text').textContent}))",
    )
    verdict = page.locator("#verify-verdict")
    return {"kind": verdict.get_attribute("data-verdict"), "text": verdict.inner_text(), "steps": steps}


def test_verify_says_suspended_with_the_reason(page, site):
    page, problems = page
    result = _verify(page, site.url("awards/ann-first-1/"))
    assert result["kind"] == "suspended", result
    assert result["text"].startswith("Not verified: suspended by Example Issuer (Under investigation). This badge")
    assert result["text"].endswith("is not valid while the suspension lasts.")
    failed = [s["text"] for s in result["steps"] if s["state"] == "fail"]
    assert len(failed) == 1 and failed[0].startswith("Suspended"), result["steps"]
    assert any(s["text"].startswith("Not revoked") for s in result["steps"] if s["state"] == "ok")
    assert page.locator(".status").inner_text() == "Suspended"
    shots = Path(os.environ.get("BADGEKILN_SCREENSHOTS") or Path(__file__).parents[2] / "test-artifacts/screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "suspended-award-verify.png"), full_page=True)
    assert problems.all() == []


def test_verify_of_a_valid_award_checks_both_lists(page, site):
    page, problems = page
    result = _verify(page, site.url("awards/ann-first-2/"))
    assert result["kind"] == "valid", result
    ok = [s["text"] for s in result["steps"] if s["state"] == "ok"]
    assert any(t.startswith("Not revoked") for t in ok) and any(t.startswith("Not suspended") for t in ok), ok
    assert problems.all() == []
