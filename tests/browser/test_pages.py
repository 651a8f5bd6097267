"""The generated pages in a real browser: the Verify button, CSP cleanliness, phone width, print,
no-JavaScript use and XSS.

One headless Chromium for the module, one shared page for the JavaScript tests (see conftest.py).
The viewer's clock is pinned to ``VIEWED_AT`` (the build day), so verdicts do not depend on the day
the suite runs; one test moves it on to show that expiry follows the viewer's clock.

Set ``BADGEKILN_SCREENSHOTS=/some/folder`` to keep screenshots of award pages at 1200 px, at
375 px and in print emulation, and their printed PDFs.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from conftest import MINIMAL, copy_example, write_site
from cryptography.hazmat.primitives import serialization

from badgekiln.crypto import dataintegrity, jws

from .conftest import VIEWED_AT, new_page

VALID = "7q4kz2m9xw"  # Jane Doe, Pipefitting MJI10, valid until 1 March 2029
REVOKED = "d3f4g5h6jk"  # Marcus Johnson, revoked on 1 May 2026
EXPIRED = "r9t4y1u6ep"  # Zofia Wiśniewska, a one-year badge that expired on 2 September 2025
CJK = "t1a2n3k4ax"  # 田中 明
PHONE = {"width": 375, "height": 667}  # iPhone SE
DESKTOP = {"width": 1200, "height": 900}
SCREENSHOTS = os.environ.get("BADGEKILN_SCREENSHOTS")

IMG = "<img src=x onerror=window.__xss=1>"
SCRIPT = "<script>window.__xss=1</script>"


# --- Fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example(site_factory):
    """The repository's example site with keys of its own (as published: a build with
    development keys is "Not verified"), built for and served by a loopback server."""
    return site_factory(copy_example, own_keys=True)


@pytest.fixture(scope="module")
def hostile(site_factory):
    """A site whose names, descriptions, criteria and narrative are HTML and script."""
    files = dict(MINIMAL)
    files["site_src/site.yaml"] = f"""
        base_url: https://badges.example.org/
        issuer:
          name: "Issuer {IMG}"
          url: https://example.org
          email: badges@example.org
          description: "About {SCRIPT}"
    """
    files["badges/first-badge.yaml"] = f"""
        name: "Badge {IMG} {SCRIPT}"
        description: "Described {IMG} {SCRIPT}"
        image: assets/badge.svg
        criteria: |
          Did the thing {IMG} {SCRIPT}
          [click me](javascript:window.__xss=1)
    """
    files["recipients/ann.yaml"] = f"""
        name: "Ann {IMG} {SCRIPT}"
        email: ann@example.com
        awards:
          - id: ann-first-1
            badge: first-badge
            issued_on: 2026-01-15
            narrative: "Narrative {IMG} {SCRIPT}"
            evidence:
              - name: "Evidence {IMG}"
                url: https://example.org/evidence
                narrative: "{SCRIPT}"
    """
    return site_factory(lambda root: write_site(root, files), own_keys=True)


@pytest.fixture(scope="module")
def sub_path_site(site_factory):
    """A one-award site published under a sub-path, as on GitHub Pages: http://127.0.0.1:<port>/org/badges/."""
    return site_factory(lambda root: write_site(root, MINIMAL), sub_path="org/badges", own_keys=True)


@pytest.fixture(scope="module")
def shared(browser):
    """The page the JavaScript tests share (desktop width, screen media) and its problem log."""
    page, problems = new_page(browser, viewport=DESKTOP)
    yield page, problems
    page.context.close()


@pytest.fixture
def page(shared):
    """The shared page, reset to desktop width, screen media and the pinned clock."""
    page, problems = shared
    # Leave the previous test's page first: its still-pending requests (lazy images) are aborted
    # now, and their "request failed" events land before the log is cleared, not in this test.
    page.goto("about:blank")
    page.set_viewport_size(DESKTOP)
    page.emulate_media(media="screen")
    page.clock.set_fixed_time(VIEWED_AT)
    problems.clear()
    return page


@pytest.fixture
def problems(shared):
    return shared[1]


# --- Helpers ---------------------------------------------------------------------------------


def scan_qr(png: bytes) -> list[str]:
    """The texts of the QR codes zxing-cpp finds in a PNG screenshot."""
    import io

    import zxingcpp
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    return [result.text for result in zxingcpp.read_barcodes(image) if result.format == zxingcpp.BarcodeFormat.QRCode]


def verify(page, url: str) -> dict:
    """Open ``url``, press Verify, wait for the verdict; the steps and verdict as shown."""
    page.goto(url)
    panel = page.locator("#verify")
    assert panel.is_visible(), "the script did not show the verify panel"
    page.click("#verify-button")
    page.wait_for_selector("#verify-verdict[data-verdict]")
    steps = page.eval_on_selector_all(
        "#verify-steps > li",
        "items => items.map(li => ({state: li.dataset.state, icon: li.querySelector('.verify-icon').textContent,"
        " text: li.querySelector('.verify-text').textContent}))",
    )
    verdict = page.locator("#verify-verdict")
    return {"kind": verdict.get_attribute("data-verdict"), "text": verdict.inner_text(), "steps": steps}


def step_texts(result: dict, state: str) -> list[str]:
    return [s["text"] for s in result["steps"] if s["state"] == state]


def tampered_jwt(jwt: str) -> str:
    """``jwt`` with one character in the middle of its payload changed."""
    header, payload, signature = jwt.strip().split(".")
    i = len(payload) // 2
    flipped = "B" if payload[i] == "A" else "A"
    return ".".join([header, payload[:i] + flipped + payload[i + 1 :], signature])


def screenshot(page, name: str, **options) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / name), **options)


# Every visible element must be inside the viewport, and no text may be clipped by an
# overflow:hidden box or an ellipsis.
LAYOUT_PROBLEMS = """() => {
  const width = document.documentElement.clientWidth;
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "");
  const problems = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest(".skip")) continue;  // the skip link waits off-screen until focused
    if (el.matches(".visually-hidden")) continue;  // words for screen readers, cut to 1px on purpose
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.visibility === "hidden" || (box.width === 0 && box.height === 0)) continue;
    if (box.left < -1 || box.right > width + 1) {
      problems.push(name(el) + " spans " + Math.round(box.left) + ".." + Math.round(box.right) + "px");
    }
    const clips = ["hidden", "clip"].includes(style.overflowX) || style.textOverflow === "ellipsis";
    if (clips && el.scrollWidth > el.clientWidth + 1) {
      problems.push(name(el) + " cuts off its content (" + el.scrollWidth + " > " + el.clientWidth + "px)");
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, problems: problems};
}"""


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """(width, height) in points of every page of a PDF written by Chromium."""
    count = len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf))
    boxes = [
        tuple(float(v) for v in m)
        for m in re.findall(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    ]
    sizes = [(x1 - x0, y1 - y0) for x0, y0, x1, y1 in boxes]
    assert count >= 1 and len(sizes) in (1, count), (count, sizes)
    return sizes * count if len(sizes) == 1 and count > 1 else sizes


# --- The Verify button -----------------------------------------------------------------------


def test_verify_valid_award_passes_every_step(page, problems, example):
    result = verify(page, example.url(f"awards/{VALID}/"))

    assert result["kind"] == "valid", result
    assert result["text"].startswith(
        "Verified: issued by Northwind Training to Jane Doe on 1 March 2026. This page is at "
    )
    assert result["text"].endswith(", the site that signed it: make sure that is Northwind Training's own address.")
    assert len(result["steps"]) >= 6
    assert all(s["state"] == "ok" and s["icon"] == "✔" for s in result["steps"]), result["steps"]
    texts = "\n".join(step_texts(result, "ok"))
    did = "did:web:" + example.base_url.split("//")[1].rstrip("/").replace(":", "%3A")
    kids = own_kids(example)  # verified because the site's own keys signed it, not development keys
    # the kid is the DID URL of the key's JsonWebKey method, found in the site's did.json
    assert f"Signature is valid: signed by Northwind Training's key {did}#{kids['rsa']} " in texts
    assert f"(.well-known/did.json#{kids['rsa']}, listed in keys/jwks.json)" in texts
    assert f"Issued by Northwind Training ({did})" in texts
    assert (
        f"The Data Integrity proof (eddsa-rdfc-2022) of awards/{VALID}/credential.json is valid: "
        f"signed by Northwind Training's key {did}#{kids['ed25519']} " in texts
    )
    assert "dev-" not in texts and "development" not in texts
    assert "Not revoked" in texts
    assert "Not expired: its expiry date is 1 March 2029." in texts
    assert page.locator("#verify-button").is_enabled()
    assert problems.all() == []
    assert page.evaluate("window.__cspViolations") == []


def test_verify_revoked_award_says_revoked(page, problems, example):
    result = verify(page, example.url(f"awards/{REVOKED}/"))

    assert result["kind"] == "revoked", result
    assert result["text"].startswith(  # (with the reason the page gives: verifier review)
        "Not verified: revoked by Northwind Training (Issued in error - the assessment was for MJI12, not MJI10)."
    )
    assert not any("Valid until" in t for t in step_texts(result, "ok"))  # (a revoked badge is not "valid until")
    failed = step_texts(result, "fail")
    assert len(failed) == 1 and failed[0].startswith("Revoked"), result["steps"]
    assert any(t.startswith("Signature is valid") for t in step_texts(result, "ok"))
    assert problems.all() == []


def test_verify_expired_award_says_expired(page, problems, example):
    result = verify(page, example.url(f"awards/{EXPIRED}/"))

    assert result["kind"] == "expired", result
    assert result["text"].startswith("Not verified: expired on 2 September 2025.")
    assert step_texts(result, "fail") == ["Expired on 2 September 2025."]
    assert any(t.startswith("Not revoked") for t in step_texts(result, "ok"))
    assert problems.all() == []


def test_verify_tampered_credential_says_signature_invalid(page, example):
    path = f"/awards/{VALID}/credential.jwt"
    original = (example.output / path.lstrip("/")).read_text(encoding="ascii")
    example.server.routes[path] = (200, {"Content-Type": "text/plain"}, tampered_jwt(original).encode())
    try:
        result = verify(page, example.url(f"awards/{VALID}/"))
    finally:
        del example.server.routes[path]

    assert result["kind"] == "invalid", result
    assert "signature is invalid" in result["text"]
    assert result["steps"][0]["state"] == "fail"
    assert result["steps"][0]["text"].startswith("Signature is invalid")
    assert len(result["steps"]) == 1, "nothing after a bad signature may look checked"


def test_verify_refuses_a_key_the_site_does_not_list(page, example):
    # A retired key stays at its URL but leaves keys/jwks.json: what it signed is not accepted.
    example.server.routes["/keys/jwks.json"] = (200, {"Content-Type": "application/json"}, b'{"keys": []}')
    try:
        result = verify(page, example.url(f"awards/{VALID}/"))
    finally:
        del example.server.routes["/keys/jwks.json"]

    assert result["kind"] == "invalid", result
    assert result["steps"][0]["state"] == "fail"
    assert "is not listed in this site's key set" in result["steps"][0]["text"]


def _verify_with(page, example, routes: dict, query: str = "") -> dict:
    """Verify the valid award with ``routes`` (path -> (status, body)) served instead of its files.
    ``query``: for a page served otherwise (the shared page's cache holds the page as built)."""
    for path, (status, body) in routes.items():
        kind = "text/html; charset=utf-8" if path.endswith("/") else "application/json"
        example.server.routes[path] = (status, {"Content-Type": kind}, body)
    try:
        return verify(page, example.url(f"awards/{VALID}/{query}"))
    finally:
        for path in routes:
            del example.server.routes[path]


def _page_showing(example, original: str, shown: str) -> dict:
    """The valid award's page with ``original`` (which it must hold) replaced by ``shown``, as a route."""
    html = (example.output / f"awards/{VALID}/index.html").read_text(encoding="utf-8")
    assert original in html, original
    return {f"/awards/{VALID}/": (200, html.replace(original, shown).encode())}


DID, JWKS, JWT = "/.well-known/did.json", "/keys/jwks.json", f"/awards/{VALID}/credential.jwt"


@pytest.mark.parametrize(("missing", "status"), [(DID, 404), (JWKS, 503)])
def test_verify_that_cannot_download_one_of_the_sites_key_files_checks_with_the_other(page, example, missing, status):
    """A visual audit (2026-12-04): a did.json the host does not serve (a deploy that skips
    dot-folders) or a key set it fails to send made every genuine badge read "the key … is not one
    this issuer publishes". The signature is checked with the key the other file gives; the verdict
    says what could not be confirmed, never "Verified"."""
    result = _verify_with(page, example, {missing: (status, b"gone")})
    assert result["kind"] == "incomplete", result
    assert result["text"].startswith("Could not fully check. Not checked: ") and "Verified" not in result["text"]
    assert f"Not checked: whether {missing.lstrip('/')} lists the key (it could not be downloaded)" in result["text"]
    # (a verifier's review: the step of a key confirmed in one file only was ✔; it is –, not checked)
    assert result["steps"][0]["state"] == "unchecked"
    # (an accessibility review: the – step read "Signature is valid: signed by …'s key", more than was checked)
    text = result["steps"][0]["text"]
    assert text.startswith("Not fully checked: the signature holds for the key "), text
    assert f"but {missing.lstrip('/')} could not be downloaded, so whether it still lists that key" in text


def test_verify_that_cannot_download_either_key_file_says_nothing_was_checked(page, example):
    result = _verify_with(page, example, {DID: (404, b"gone"), JWKS: (404, b"gone")})
    assert result["kind"] == "incomplete", result
    assert result["text"].startswith("Could not fully check: this site's published keys could not be downloaded")
    assert result["steps"][0]["state"] == "unchecked" and len(result["steps"]) == 1


@pytest.mark.parametrize("missing", [DID, JWKS])
@pytest.mark.parametrize("forgery", ["changed", "own key", "unlisted kid"])
def test_a_forged_badge_is_not_verified_when_a_key_file_is_missing(page, example, missing, forgery):
    """(a hostile review: with a key file missing, a changed badge, one signed with the forger's own
    key, or one naming a key id the site never had was "Could not fully check", not "Not verified")"""
    original = (example.output / JWT.lstrip("/")).read_text(encoding="ascii")
    if forgery == "changed":
        jwt = tampered_jwt(original).encode()
    else:
        from cryptography.hazmat.primitives.asymmetric import rsa

        header, payload, _, _ = jws.parse_compact(original)
        kid = header["kid"] if forgery == "own key" else header["kid"].partition("#")[0] + "#2020-01-01-rsa-forged"
        forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwt = jws.sign_compact({"alg": "RS256", "kid": kid, "typ": "JWT"}, payload, forger).encode()
    result = _verify_with(page, example, {missing: (404, b"gone"), JWT: (200, jwt)})
    assert result["kind"] == "invalid", result
    assert result["steps"][0]["state"] == "fail", result["steps"]


def test_a_retired_keys_url_is_not_trusted_alone_when_the_key_set_is_missing(page, example):
    """(an attack review: a retired key's keys/<id>.jwk.json stays published; with keys/jwks.json
    not served, a badge naming it by that URL was "Could not fully check". did.json must name it.)"""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from badgekiln.crypto.multikey import rsa_public_jwk

    retired = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    url = example.url("keys/2020-01-01-rsa-retired.jwk.json")
    _, payload, _, _ = jws.parse_compact((example.output / JWT.lstrip("/")).read_text())
    jwt = jws.sign_compact({"alg": "RS256", "kid": url, "typ": "JWT"}, payload, retired).encode()
    key_file = json.dumps(rsa_public_jwk(retired.public_key(), url)).encode()
    routes = {"/keys/2020-01-01-rsa-retired.jwk.json": (200, key_file), JWT: (200, jwt)}
    assert _verify_with(page, example, routes)["kind"] == "invalid"  # (not in the key set)
    result = _verify_with(page, example, {**routes, JWKS: (503, b"down")})
    assert result["kind"] == "invalid", result
    assert "is not one of this site's keys in" in result["steps"][0]["text"], result["steps"]


def test_another_sites_name_is_shown_short_and_without_controls(page, example):
    # (an attack review: the DID a badge names went into the verdict whole: 200,000 characters, or a
    # right-to-left override turning text round)
    did = "did:web:" + "\u202e" + "a" * 300 + ".example"
    result = _verify_with(page, example, {JWT: (200, _resigned_jwt(example, did + "#k"))})
    assert result["kind"] == "invalid" and "\u202e" not in result["text"], result
    shown = result["text"].split("another site (", 1)[1].split(")", 1)[0]
    assert len(shown) == 100 and shown.endswith("…"), shown


def test_verify_of_a_key_address_the_badge_names_that_is_not_there_is_not_verified(page, example):
    # (the badge's own claim: a forger's key address that answers 404 must not make it "not checked")
    gone = example.url(f"keys/{_jwt_kid(example).partition('#')[2]}-gone.jwk.json")
    result = _verify_with(page, example, {JWT: (200, _resigned_jwt(example, gone))})
    assert result["kind"] == "invalid" and "is not one this issuer publishes" in result["text"], result


@pytest.mark.parametrize(
    ("shown", "expected"),
    [
        ('<time datetime="2026-03-01">1 March 2020</time>', "it was issued on 2026-03-01"),
        (
            '<time datetime="2029-03-01" class="expiry" data-expires="2029-03-01">1 March 2039</time>',
            "it expires on 2029-03-01",
        ),
    ],
)
def test_verify_compares_the_dates_the_page_shows_not_only_their_attributes(page, example, shown, expected):
    # (a visual audit: a page showing "1 March 2020" over datetime="2026-03-01" was "This page shows
    # the badge name and dates of the signed credential")
    original = re.sub(r"1 March 20(20|39)", lambda m: "1 March 2026" if m.group(1) == "20" else "1 March 2029", shown)
    result = _verify_with(page, example, _page_showing(example, original, shown), "?shown-dates")
    assert result["kind"] == "invalid", result
    assert f"This page does not show what the signed credential says: {expected}." in step_texts(result, "fail")


def test_verify_does_not_compare_a_date_a_sites_template_writes_its_own_way(page, example):
    # (a review: a template showing "1. März 2026" over datetime="2026-03-01" made every genuine badge
    # "Not verified"; only a date written the build's way is compared as shown)
    original = '<time datetime="2026-03-01">1 March 2026</time>'
    shown = _page_showing(example, original, '<time datetime="2026-03-01">1. März 2026</time>')
    assert _verify_with(page, example, shown, "?own-dates")["kind"] == "valid"


def _resigned_jwt(site, kid: str) -> bytes:
    """The valid award's VC-JWT signed again with the site's own RSA key, its header naming ``kid``."""
    _, payload, _, _ = jws.parse_compact((site.output / f"awards/{VALID}/credential.jwt").read_text())
    return jws.sign_compact({"alg": "RS256", "kid": kid, "typ": "JWT"}, payload, site_private_key(site, "rsa")).encode()


def _jwt_kid(site) -> str:
    return jws.parse_compact((site.output / f"awards/{VALID}/credential.jwt").read_text())[0]["kid"]


def test_verify_accepts_an_older_badge_whose_kid_is_the_jwk_url(page, problems, example):
    # Badges signed before the kid became a DID URL name https://site/keys/<id>.jwk.json.
    kid = _jwt_kid(example)
    assert kid.startswith("did:web:") and kid.endswith("#" + own_kids(example)["rsa"])
    path = f"/awards/{VALID}/credential.jwt"
    example.server.routes[path] = (
        200,
        {"Content-Type": "text/plain"},
        _resigned_jwt(example, example.url(f"keys/{kid.partition('#')[2]}.jwk.json")),
    )
    try:
        result = verify(page, example.url(f"awards/{VALID}/"))
    finally:
        del example.server.routes[path]

    assert result["kind"] == "valid", result
    assert f"(keys/{kid.partition('#')[2]}.jwk.json, listed in keys/jwks.json)" in result["steps"][0]["text"]
    assert problems.all() == []


@pytest.mark.parametrize("where", ["did.json", "another site"])
def test_verify_refuses_a_did_kid_this_site_does_not_authorize(page, example, where):
    kid = _jwt_kid(example)
    if where == "did.json":  # a retired key leaves did.json: the kid no longer resolves
        document = json.loads((example.output / ".well-known/did.json").read_text())
        document["assertionMethod"] = [m for m in document["assertionMethod"] if m != kid]
        route, body = "/.well-known/did.json", json.dumps(document).encode()
        expected = f"the key {kid} is not a JsonWebKey listed under assertionMethod in"
    else:  # a key of another did:web, even one that signed this very token
        route, body = (
            f"/awards/{VALID}/credential.jwt",
            _resigned_jwt(example, "did:web:elsewhere.example#k"),
        )
        expected = "the signing key did:web:elsewhere.example#k is not a key of this site"
    example.server.routes[route] = (200, {"Content-Type": "application/json"}, body)
    try:
        result = verify(page, example.url(f"awards/{VALID}/"))
    finally:
        del example.server.routes[route]

    assert result["kind"] == "invalid", result
    assert result["steps"][0]["state"] == "fail" and expected in result["steps"][0]["text"], result["steps"]
    if where == "another site":  # (the verdict says so, and that nothing of it was checked here)
        assert "names a signing key of another site (elsewhere.example)" in result["text"], result["text"]
        assert "its signature was not checked here" in result["text"]


def site_private_key(site, kind: str):
    """The private key of ``kind`` ("rsa" or "ed25519") of a site with keys of its own (never a
    development key: what it signs must verify for the site's own key)."""
    found = [
        key
        for p in sorted(site.keys_dir.glob("*.pem"))
        if hasattr(key := serialization.load_pem_private_key(p.read_bytes(), password=None), "key_size")
        == (kind == "rsa")
    ]
    assert len(found) == 1, f"{site.source} has {len(found)} {kind} private keys in {site.keys_dir}, not one"
    return found[0]


def own_kids(site) -> dict[str, str]:
    """The ids of a site's own active keys, by kind ("rsa", "ed25519"), from site_src/keys/."""
    return {kid.split("-")[3]: kid for kid in (p.stem for p in (site.source / "site_src/keys").glob("*.yaml"))}


def test_verify_notices_a_hosted_credential_that_differs_from_the_signed_one(page, example):
    # credential.json changed AND given a valid proof by the issuer's own Ed25519 key: its proof
    # checks out, but it is not the credential the VC-JWT signed.
    path = f"/awards/{VALID}/credential.json"
    credential = json.loads((example.output / path.lstrip("/")).read_text(encoding="utf-8"))
    proof = credential.pop("proof")[0]
    credential["awardedDate"] = "2026-03-02T00:00:00Z"
    key = site_private_key(example, "ed25519")
    resigned = dataintegrity.add_proof(
        credential, key, verification_method=proof["verificationMethod"], created=proof["created"]
    )
    resigned["proof"] = [resigned["proof"]]
    example.server.routes[path] = (200, {"Content-Type": "application/json"}, json.dumps(resigned).encode())
    try:
        result = verify(page, example.url(f"awards/{VALID}/"))
    finally:
        del example.server.routes[path]

    assert result["kind"] == "invalid", result
    assert any("Data Integrity proof (eddsa-rdfc-2022)" in t and "is valid" in t for t in step_texts(result, "ok"))
    assert any("differs from the signed credential at awardedDate" in t for t in step_texts(result, "fail"))
    assert (
        result["text"]
        == f"Not verified: awards/{VALID}/credential.json differs from the credential signed in the VC-JWT."
    )


def test_verify_works_on_a_site_under_a_sub_path(page, problems, sub_path_site):
    result = verify(page, sub_path_site.url("awards/ann-first-1/"))

    assert result["kind"] == "valid", result
    assert all(s["state"] == "ok" for s in result["steps"]), result["steps"]
    assert any(
        t.startswith("Issued by Example Issuer (did:web:127.0.0.1%3A") and t.endswith(":org:badges).")
        for t in step_texts(result, "ok")
    ), result["steps"]
    assert any("Issued on 15 January 2026; does not expire" in t for t in step_texts(result, "ok"))
    assert problems.all() == []


def test_expiry_follows_the_viewers_clock(page, example):
    page.clock.set_fixed_time("2029-03-02T09:00:00Z")
    result = verify(page, example.url(f"awards/{VALID}/"))

    assert result["kind"] == "expired", result
    assert step_texts(result, "fail") == ["Expired on 1 March 2029."]
    # The page itself says so too, although it was built when the award was valid.
    assert page.inner_text(".facts .status") == "Expired"
    assert page.locator("body.status-expired").count() == 1


# --- Console, page errors and CSP ------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "",
        "badges/pipefitting-mji10/",
        f"awards/{VALID}/",
        f"awards/{REVOKED}/",
        "pages/about/",
        "pages/how-to-verify/",
        "404.html",
    ],
)
def test_no_console_errors_or_csp_violations(page, problems, example, path):
    page.goto(example.url(path))
    page.wait_for_load_state("networkidle")  # lazy images too: each must load, not just start
    if path.startswith("awards/"):
        page.click("#verify-button")  # the check's fetches and WebCrypto must pass the CSP too
        page.wait_for_selector("#verify-verdict[data-verdict]")
        assert page.get_attribute("#verify-verdict", "data-verdict") in ("valid", "revoked")
    assert problems.all() == []
    assert page.evaluate("window.__cspViolations") == []
    assert page.evaluate("document.querySelector('link[rel=stylesheet]').sheet.cssRules.length") > 10


# --- Phone width -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "",
        "badges/pipefitting-mji10/",
        f"awards/{VALID}/",
        f"awards/{REVOKED}/",
        f"awards/{CJK}/",
        "pages/how-to-verify/",
    ],
)
def test_phone_width_has_no_horizontal_overflow(page, example, path):
    page.set_viewport_size(PHONE)
    page.goto(example.url(path))
    if path.startswith("awards/"):
        page.click("#verify-button")  # the steps quote long URLs: they must wrap too
        page.wait_for_selector("#verify-verdict[data-verdict]")
    if path.startswith("awards/"):
        screenshot(page, f"{path.strip('/').replace('/', '-')}-375.png", full_page=True)
    layout = page.evaluate(LAYOUT_PROBLEMS)

    assert layout["scrollWidth"] <= PHONE["width"], layout
    assert layout["problems"] == []


def test_the_wallet_links_file_name_is_never_cut_on_a_phone(page, example):
    # (UX walkthrough: the link wrapped as "credential.jso" then "n" at 375 px)
    page.set_viewport_size(PHONE)
    page.goto(example.url(f"awards/{VALID}/"))
    lines = page.evaluate(
        """() => {
          const span = document.querySelector(".wallet-hint .url");
          const node = [...span.childNodes].find(n => n.nodeType === 3 && n.data.includes("credential.json"));
          const range = document.createRange();
          const at = node.data.indexOf("credential.json");
          range.setStart(node, at);
          range.setEnd(node, at + "credential.json".length);
          return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
        }"""
    )
    assert lines == 1
    assert page.inner_text(".wallet-hint .url") == example.url(f"awards/{VALID}/credential.json")  # (copied whole)


def test_the_badges_tags_are_centred_under_the_centred_text_on_a_phone(page, example):
    # (UX walkthrough: the tags were left-aligned under the centred name and description)
    page.set_viewport_size(PHONE)
    page.goto(example.url(f"awards/{VALID}/"))
    gaps = page.evaluate(
        """() => {
          const list = document.querySelector(".certificate-head .tags").getBoundingClientRect();
          const items = [...document.querySelectorAll(".certificate-head .tags li")].map(li => li.getBoundingClientRect());
          const top = Math.min(...items.map(r => r.top));
          const first = items.filter(r => r.top === top);
          return [Math.min(...first.map(r => r.left)) - list.left, list.right - Math.max(...first.map(r => r.right))];
        }"""
    )
    assert abs(gaps[0] - gaps[1]) <= 2, gaps


def test_award_page_at_desktop_width(page, example):
    page.goto(example.url(f"awards/{VALID}/"))
    page.click("#verify-button")
    page.wait_for_selector("#verify-verdict[data-verdict]")
    layout = page.evaluate(LAYOUT_PROBLEMS)

    assert layout["scrollWidth"] <= DESKTOP["width"], layout
    assert layout["problems"] == []
    screenshot(page, f"awards-{VALID}-1200.png", full_page=True)


# --- Print -----------------------------------------------------------------------------------


@pytest.mark.parametrize("award", [VALID, REVOKED, EXPIRED, CJK])
def test_award_prints_as_a_one_page_a4_landscape_certificate(page, example, award):
    page.goto(example.url(f"awards/{award}/"))
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 1032, "height": 703})  # A4 landscape inside 12 mm margins, at 96 dpi
    screenshot(page, f"awards-{award}-print.png", full_page=True)
    pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)  # (the stylesheet asks for landscape)
    if SCREENSHOTS:
        (Path(SCREENSHOTS) / f"awards-{award}-print.pdf").write_bytes(pdf)

    assert page.locator(".qr svg").is_visible()
    assert page.locator(".qr svg").bounding_box()["width"] * 25.4 / 96 >= 20, "a QR code under 2 cm is hard to scan"
    assert example.url(f"awards/{award}/") in page.inner_text(".qr")
    # Scanned as a phone would, by an independent decoder (zxing-cpp) from the printed rendering.
    assert scan_qr(page.locator(".qr svg").screenshot()) == [example.url(f"awards/{award}/")]
    for hidden in (
        ".site-header nav",
        ".site-footer",
        ".actions",
        ".actions .buttons",
        ".share",
        "#is-this-yours",
        "#verify",
        "#verify-button",
        ".machine",
    ):
        assert not page.locator(hidden).is_visible(), f"{hidden} is printed"
    certificate = page.locator(".certificate")
    for shown in (".kicker", ".earner", ".badge-name", ".facts"):
        assert certificate.locator(shown).is_visible(), f"{shown} is not printed"
    if award == REVOKED:
        assert page.locator(".banner-revoked").is_visible()
    if award == EXPIRED:
        assert page.locator(".banner-expired").is_visible()

    sizes = pdf_pages(pdf)
    assert len(sizes) == 1, f"prints on {len(sizes)} pages"
    width, height = sizes[0]
    assert abs(width - 841.89) < 2 and abs(height - 595.28) < 2, sizes  # A4 landscape, in points


# --- Without JavaScript ----------------------------------------------------------------------


def test_the_notes_for_pages_without_javascript_are_not_shown_with_it(page, example):
    page.goto(example.url(f"awards/{VALID}/"))
    assert page.locator("noscript p").count() == 0  # (with scripts on, <noscript> holds text, not elements)
    assert page.locator(".print-button").is_visible()


def test_award_page_works_without_javascript(browser, example):
    page, problems = new_page(browser, java_script_enabled=False, viewport=DESKTOP)
    try:
        page.goto(example.url(f"awards/{VALID}/"))

        facts = dict(zip(page.locator(".facts dt").all_text_contents(), page.locator(".facts dd").all_text_contents()))
        assert facts["Issued by"] == "Northwind Training"
        assert facts["Issued on"] == "1 March 2026"
        assert facts["Expires on"] == "1 March 2029"
        assert facts["Status"] == "Valid"
        assert facts["Badge ID"] == VALID
        criteria = page.locator("section", has=page.locator("h2", has_text="Criteria"))
        assert "MJI10 practical assessment" in criteria.inner_text()
        downloads = page.locator("a[download]").all_inner_texts()
        assert "Download badge image" in downloads
        assert "Download credential for a wallet (Open Badges 3.0)" in downloads
        links = page.locator("a[download], .machine a").evaluate_all("links => links.map(a => a.href)")
        local = [href for href in links if href.startswith(example.base_url)]
        assert len(local) >= 6  # the two downloads, the OB 2.0 and OB 3.0 files, the baked image
        for href in local:
            assert page.request.get(href).ok, href
        assert page.locator("#verify").is_hidden()
        assert page.locator(".print-button").is_hidden(), "a Print button that cannot work is shown"
        # (a review: a "Print" heading with no button under it, a "Check that this badge is genuine"
        # link to a section with no check in it, and no word why)
        # (Playwright's text search skips <noscript>: the notes are found by their element)
        notes = page.locator("noscript p")
        assert notes.nth(0).is_visible() and "use your browser's Print command" in notes.nth(0).inner_text()
        assert notes.nth(1).is_visible() and "(Verify this badge) needs JavaScript" in notes.nth(1).inner_text()
        assert problems.all() == []
    finally:
        page.context.close()


# --- XSS -------------------------------------------------------------------------------------


def test_markup_in_names_and_narrative_is_shown_as_text(browser, hostile):
    # bypass_csp: the CSP would block inline script anyway; this checks the escaping on its own.
    page, _ = new_page(browser, bypass_csp=True, viewport=DESKTOP)
    try:
        for path in ("", "badges/first-badge/", "awards/ann-first-1/"):
            page.goto(hostile.url(path))
            page.wait_for_load_state("load")
            if path.startswith("awards/"):
                page.click("#verify-button")  # the steps and verdict quote names
                page.wait_for_selector("#verify-verdict[data-verdict]")
                assert page.get_attribute("#verify-verdict", "data-verdict") == "valid"
                assert IMG in page.text_content("#verify-steps")  # folded in a <details>
                verdict = page.inner_text("#verify-verdict")  # the issuer's and earner's names
                assert verdict.startswith("Verified: issued by Issuer " + IMG + " to Ann " + IMG), verdict
                assert IMG in page.inner_text(".earner") and SCRIPT in page.inner_text(".earner")
                assert SCRIPT in page.inner_text("main")
            assert page.evaluate("typeof window.__xss") == "undefined", path
            assert page.locator("img[src='x']").count() == 0, path
            assert (
                page.evaluate(
                    "[...document.scripts].filter(s => s.text.includes('__xss=1') && "
                    "s.type !== 'application/ld+json').length"
                )
                == 0
            ), path
            assert page.locator("a[href^='javascript:']").count() == 0, path
    finally:
        page.context.close()


@pytest.fixture(scope="module")
def restyled(site_factory):
    """A one-award site with its own site_src/assets/site.css and a web font beside it."""
    files = dict(MINIMAL)
    files["site_src/assets/site.css"] = """
        @font-face { font-family: "Brand"; src: url("fonts/brand.woff2") format("woff2"); }
        :root { --accent: rgb(176, 58, 46); }
        h1 { color: rgb(1, 2, 3); font-family: "Brand", serif; }
    """
    # Not a real font: the browser fetches it (the CSP must allow that) and then falls back.
    files["site_src/assets/fonts/brand.woff2"] = b"wOF2"
    return site_factory(lambda root: write_site(root, files))


def test_site_css_overrides_the_built_in_styles_under_the_csp(browser, restyled):
    page, problems = new_page(browser, viewport=DESKTOP)
    try:
        font_requests = []
        page.on("request", lambda r: font_requests.append(r.url) if r.url.endswith(".woff2") else None)
        page.goto(restyled.url("awards/ann-first-1/"))
        page.wait_for_load_state("networkidle")
        assert page.evaluate("getComputedStyle(document.querySelector('h1')).color") == "rgb(1, 2, 3)"
        accent = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent')")
        assert accent.strip() == "rgb(176, 58, 46)"  # later than badgekiln.css: the site's value wins
        assert page.evaluate("window.__cspViolations") == []
        assert font_requests and font_requests[0].endswith("/assets/fonts/brand.woff2")
        assert not [p for p in problems.all() if "site.css" in p]
    finally:
        page.context.close()
