"""Share cards in a real browser: every page's og:image is an absolute URL of a 1200x630 PNG that
the site serves, with its width, height and alt declared, and a large Twitter card.

Copies of the cards (as Chromium shows them) land in test-artifacts/screenshots/ for review.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from conftest import copy_example
from PIL import Image

from .conftest import new_page

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "screenshots"
VALID = "7q4kz2m9xw"  # Jane Doe, Pipefitting MJI10
REVOKED = "d3f4g5h6jk"  # Marcus Johnson, revoked

META = """() => {
  const get = (attr, name) => {
    const el = document.querySelector(`meta[${attr}="${name}"]`);
    return el ? el.getAttribute("content") : null;
  };
  return {
    image: get("property", "og:image"),
    width: get("property", "og:image:width"),
    height: get("property", "og:image:height"),
    alt: get("property", "og:image:alt"),
    card: get("name", "twitter:card"),
    twitterImage: get("name", "twitter:image"),
  };
}"""


@pytest.fixture(scope="module")
def example(site_factory):
    return site_factory(copy_example)


@pytest.fixture(scope="module")
def page(browser):
    page, _problems = new_page(browser, viewport={"width": 1200, "height": 630})
    yield page
    page.context.close()


def _pages(example) -> list[str]:
    awards = sorted(p.parent.name for p in example.output.glob("awards/*/index.html"))
    badges = sorted(p.parent.name for p in example.output.glob("badges/*/index.html"))
    return ["", *[f"badges/{b}/" for b in badges], *[f"awards/{a}/" for a in awards]]


def test_every_page_names_a_1200x630_png_share_card(page, example):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pages = _pages(example)
    assert len(pages) == 1 + 6 + 14
    for path in pages:
        page.goto(example.url(path))
        meta = page.evaluate(META)
        assert meta["image"] and meta["image"].startswith(example.base_url), (path, meta)  # absolute
        assert meta["image"].endswith("share.png"), (path, meta)
        assert (meta["width"], meta["height"]) == ("1200", "630"), (path, meta)
        assert meta["alt"] and len(meta["alt"]) > 20, (path, meta)
        assert meta["card"] == "summary_large_image" and meta["twitterImage"] == meta["image"], (path, meta)
        response = page.goto(meta["image"])
        assert response.status == 200 and response.headers["content-type"] == "image/png", path
        png = response.body()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (1200, 630), path
        # Chromium decodes it as a 1200x630 image
        size = page.evaluate("() => [document.images[0].naturalWidth, document.images[0].naturalHeight]")
        assert size == [1200, 630], path
        name = path.strip("/").replace("/", "-") or "home"
        (ARTIFACTS / f"browser-share-card-{name}.png").write_bytes(png)
        page.screenshot(path=str(ARTIFACTS / f"browser-share-card-{name}-as-shown.png"))


def test_the_award_card_alt_names_the_earner_and_a_revoked_status(page, example):
    page.goto(example.url(f"awards/{VALID}/"))
    assert "Jane Doe" in page.evaluate(META)["alt"]
    page.goto(example.url(f"awards/{REVOKED}/"))
    assert page.evaluate(META)["alt"].endswith("(revoked)")


def test_downloads_have_descriptive_names(page, example):
    page.goto(example.url(f"awards/{VALID}/"))
    names = page.eval_on_selector_all("a[download]", "links => links.map(a => [a.getAttribute('download'), a.href])")
    by_name = dict(names)
    png = f"pipefitting-mji10-{VALID}.png"
    assert by_name[png].endswith(f"/awards/{VALID}/badge.png")
    assert by_name[f"pipefitting-mji10-{VALID}-credential.json"].endswith(f"/awards/{VALID}/credential.json")
    # the SVG stays available
    assert by_name[f"pipefitting-mji10-{VALID}.svg"].endswith(f"/awards/{VALID}/badge.svg")
    with page.expect_download() as download:
        page.click(f'a[download="{png}"]')
    assert download.value.suggested_filename == png
    # The picture with the earner's name, for a post (a review: only the artwork, the same for
    # every earner, could be downloaded)
    card = f"pipefitting-mji10-{VALID}-share.png"
    assert by_name[card].endswith(f"/awards/{VALID}/share.png")
    with page.expect_download() as download:
        page.click(f'a[download="{card}"]')
    assert download.value.suggested_filename == card
    with Image.open(download.value.path()) as picture:
        assert picture.size == (1200, 630)
