"""check/ ("Check a badge file") in Chromium: a verifier opens a badge image or credential file
someone gave them; the page reads it in the browser and compares it with what the site publishes
at the address it names, and never fetches another site."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from pathlib import Path

import pytest
from conftest import copy_example

from badgekiln.formats import baking

from .conftest import new_page

AWARD = "7q4kz2m9xw"  # Jane Doe's pipefitting award in the example site (SVG artwork)
PNG_AWARD = "s1d2f3g4hm"  # Marcus Johnson's first aid award (PNG artwork)


@pytest.fixture(scope="module")
def example(site_factory):
    return site_factory(copy_example)


@pytest.fixture
def page(browser):
    page, problems = new_page(browser, viewport={"width": 1000, "height": 900})
    page.problems = problems
    yield page
    page.context.close()


def check(page, site, path: Path) -> tuple[str, str, list[str]]:
    """The verdict, the text and the requests of the check page given the file ``path``."""
    seen: list[str] = []
    page.goto(site.url("check/"))
    page.on("request", lambda r: seen.append(r.url))
    page.set_input_files("#check-file-input", str(path))
    page.wait_for_selector("#check-result[data-verdict]")
    return page.get_attribute("#check-result", "data-verdict"), page.inner_text("#check-result"), seen


@pytest.mark.parametrize(
    "award, name, carries",
    [
        (AWARD, "credential.png", "Open Badges 3.0 credential published at"),
        (AWARD, "badge.png", "Open Badges 2.0 assertion published at"),
        (AWARD, "credential.svg", "Open Badges 3.0 credential published at"),
        (AWARD, "badge.svg", "Open Badges 2.0 assertion published at"),
        (AWARD, "credential.json", "Open Badges 3.0 credential published at"),
        (AWARD, "credential.jwt", "Open Badges 3.0 credential (VC-JWT) published at"),
        (AWARD, "assertion.json", "Open Badges 2.0 assertion published at"),
        (AWARD, "assertion.jws", "signed Open Badges 2.0 assertion published at"),
        (PNG_AWARD, "badge.png", "Open Badges 2.0 assertion published at"),
        (PNG_AWARD, "credential.png", "Open Badges 3.0 credential published at"),
    ],
)
def test_every_file_a_badge_page_offers_is_found_to_be_the_published_badge(page, example, award, name, carries):
    verdict, text, seen = check(page, example, example.output / "awards" / award / name)
    assert verdict == "ok", text
    assert "This file is a badge this site publishes." in text and carries in text, text
    assert "checks its signatures and whether it is still valid" in text  # (what it did not check, said)
    assert all(url.startswith(example.base_url) for url in seen), seen
    link = page.get_attribute("#check-result a", "href")
    assert link == example.url(f"awards/{award}/#verify")
    assert not page.problems.all(), page.problems.all()


def test_the_badge_page_it_leads_to_verifies_at_once(page, example):
    check(page, example, example.output / "awards" / AWARD / "credential.png")
    page.click("#check-result a")
    page.wait_for_selector("#verify-verdict[data-verdict]", timeout=30000)
    assert page.url == example.url(f"awards/{AWARD}/#verify")
    # (the example site is a preview signed with development keys: the page says so)
    assert "development key" in page.inner_text("#verify-verdict")
    assert page.eval_on_selector("#verify", "e => e.getBoundingClientRect().top < innerHeight")


def _changed_json(text: str, change) -> str:
    value = json.loads(text)
    change(value)
    return json.dumps(value, indent=2)


def test_a_credential_changed_after_it_was_issued_is_not_genuine(page, example, tmp_path):
    published = (example.output / "awards" / AWARD / "credential.json").read_text(encoding="utf-8")

    def later_expiry(value):
        value["validUntil"] = "2099-03-01T00:00:00Z"

    forged = tmp_path / "credential.json"
    forged.write_text(_changed_json(published, later_expiry), encoding="utf-8")
    verdict, text, _ = check(page, example, forged)
    assert verdict == "invalid" and "Not genuine" in text and "(at validUntil)" in text, text
    assert "Do not rely on it." in text


def test_an_image_baked_with_a_changed_credential_is_not_genuine(page, example, tmp_path):
    award = example.output / "awards" / PNG_AWARD
    published = (award / "credential.json").read_text(encoding="utf-8")

    def other_achievement(value):
        value["credentialSubject"]["achievement"]["name"] = "Chartered Engineer"

    forged = tmp_path / "credential.png"
    image = baking.strip_png((award / "credential.png").read_bytes())
    forged.write_bytes(
        baking.bake_png(image, _changed_json(published, other_achievement), keyword="openbadgecredential")
    )
    verdict, text, _ = check(page, example, forged)
    assert verdict == "invalid" and "(at credentialSubject.achievement.name)" in text, text


def test_a_credential_signed_again_is_said_to_be_the_same_badge_with_another_signature(page, example, tmp_path):
    published = (example.output / "awards" / AWARD / "credential.json").read_text(encoding="utf-8")

    def other_proof(value):
        proofs = value["proof"] if isinstance(value["proof"], list) else [value["proof"]]
        proofs[0]["proofValue"] = "z" + "1" * 86

    older = tmp_path / "credential.json"
    older.write_text(_changed_json(published, other_proof), encoding="utf-8")
    verdict, text, _ = check(page, example, older)
    assert verdict == "incomplete" and "Same badge, signed again since." in text, text


def test_a_jwt_with_a_changed_payload_is_not_genuine(page, example, tmp_path):
    header, payload, signature = (example.output / "awards" / AWARD / "credential.jwt").read_text().strip().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] = claims.get("exp", 0) + 10**8
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    forged = tmp_path / "credential.jwt"
    forged.write_text(f"{header}.{forged_payload}.{signature}")
    verdict, text, _ = check(page, example, forged)
    assert verdict == "invalid" and "(at exp)" in text, text


def test_a_badge_of_another_site_is_not_fetched(page, example, tmp_path):
    published = (example.output / "awards" / AWARD / "credential.json").read_text(encoding="utf-8")

    def elsewhere(value):
        value["id"] = "https://badges.elsewhere.example/awards/abcd1234/credential.json"

    other = tmp_path / "credential.json"
    other.write_text(_changed_json(published, elsewhere), encoding="utf-8")
    verdict, text, seen = check(page, example, other)
    assert verdict == "invalid" and "This badge was not issued on this site." in text, text
    assert "https://badges.elsewhere.example/awards/abcd1234/credential.json" in text
    assert not [url for url in seen if "elsewhere" in url or "/awards/" in url], seen


@pytest.mark.parametrize(
    "address",
    [
        "awards/../keys/jwks.json",  # (a path out of the award's folder)
        "awards/abcd1234/credential.json?x=1",
        "awards/ABCD/credential.json",
        "keys/credential.json",
    ],
)
def test_an_address_on_this_site_that_is_no_award_file_is_not_fetched(page, example, tmp_path, address):
    published = (example.output / "awards" / AWARD / "credential.json").read_text(encoding="utf-8")

    def there(value):
        value["id"] = example.url(address)

    odd = tmp_path / "credential.json"
    odd.write_text(_changed_json(published, there), encoding="utf-8")
    verdict, text, seen = check(page, example, odd)
    assert verdict == "invalid" and "This badge was not issued on this site." in text, text
    assert not [url for url in seen if "/awards/" in url or "/keys/" in url], seen


def test_an_award_this_site_never_issued_is_said_to_be_missing(page, example, tmp_path):
    published = (example.output / "awards" / AWARD / "credential.json").read_text(encoding="utf-8")

    def unknown(value):
        value["id"] = example.url("awards/zzzz9999/credential.json")

    forged = tmp_path / "credential.json"
    forged.write_text(_changed_json(published, unknown), encoding="utf-8")
    verdict, text, _ = check(page, example, forged)
    assert verdict == "invalid" and "Not issued here: this site publishes no such badge." in text, text


@pytest.mark.parametrize(
    "name, content, said",
    [
        ("logo.svg", None, "No badge was found in logo.svg."),
        ("photo.png", "plain-png", "No badge was found in photo.png."),
        ("notes.txt", b"Jane Doe, pipefitting, 2026", "No badge was found in notes.txt."),
        ("cut.png", "cut-png", "No badge could be read from cut.png."),
        ("bad.json", b'{"type": "Assertion", "id": ', "The badge in bad.json cannot be read."),
        ("list.json", b'{"type": ["Thing"]}', "neither an Open Badges 2.0 assertion nor"),
        ("two.png", "two-badges", "carries 2 badges"),
    ],
)
def test_a_file_without_a_badge_says_so(page, example, tmp_path, name, content, said):
    path = tmp_path / name
    baked = (example.output / "awards" / PNG_AWARD / "credential.png").read_bytes()
    if content is None:
        path.write_bytes((example.source / "site_src/assets/logo.svg").read_bytes())
    elif content == "plain-png":
        path.write_bytes(baking.strip_png(baked))
    elif content == "cut-png":
        path.write_bytes(baked[: len(baked) // 2])
    elif content == "two-badges":
        badge = (example.output / "awards" / PNG_AWARD / "badge.png").read_bytes()
        assertion = (example.output / "awards" / PNG_AWARD / "assertion.json").read_text(encoding="utf-8")
        # (a second chunk put in by hand, after IHDR: bake_png itself replaces the one there)
        data = b"openbadges\x00\x00\x00\x00\x00" + assertion.encode()
        chunk = struct.pack(">I", len(data)) + b"iTXt" + data + struct.pack(">I", zlib.crc32(b"iTXt" + data))
        path.write_bytes(badge[:33] + chunk + badge[33:])
    else:
        path.write_bytes(content)
    verdict, text, _ = check(page, example, path)
    assert verdict == "invalid" and said in text, text
    assert "Traceback" not in text and "undefined" not in text


def test_a_file_is_also_taken_by_dropping_it(page, example):
    page.goto(example.url("check/"))
    data = (example.output / "awards" / AWARD / "credential.png").read_bytes()
    transfer = page.evaluate_handle(
        """bytes => { const t = new DataTransfer();
          t.items.add(new File([new Uint8Array(bytes)], "credential.png", {type: "image/png"})); return t; }""",
        list(data),
    )
    page.dispatch_event(".drop-zone", "drop", {"dataTransfer": transfer})
    page.wait_for_selector("#check-result[data-verdict]")
    assert page.get_attribute("#check-result", "data-verdict") == "ok"


def test_names_in_a_file_stay_text(page, example, tmp_path):
    hostile = tmp_path / "x.json"
    hostile.write_text(json.dumps({"type": "Assertion", "id": "<img src=x onerror=window.__xss=1>"}))
    verdict, text, _ = check(page, example, hostile)
    assert verdict == "invalid" and "<img src=x onerror=window.__xss=1>" in text
    assert page.evaluate("window.__xss") is None and page.locator("#check-result img").count() == 0


def test_the_page_is_linked_from_the_home_page_and_every_footer(page, example):
    page.goto(example.url(""))
    assert page.get_attribute(".verify-help a[href$='check/']", "href") == "check/"
    page.goto(example.url(f"awards/{AWARD}/"))
    page.click(".site-footer a[href$='check/']")
    assert page.url == example.url("check/") and page.is_visible("#check-file")
