"""What a screen reader or keyboard user meets on award pages, portfolios and the Verify panel
(an accessibility review): live regions that exist before they speak, focus that stays where the
user is, names of any script isolated, one Tab stop per portfolio card, and step states in words.

Chromium's accessibility tree is read through the DevTools protocol (``ax_node``), as a screen
reader would get it; see conftest.py for the browser and the served sites.
"""

from __future__ import annotations

import pytest
import yaml
from conftest import MINIMAL, copy_example, write_site

from .conftest import new_page
from .test_pages import DESKTOP, REVOKED, VALID, _jwt_kid, _resigned_jwt

JANE = "jane.doe@example.com"  # the earner of VALID
ARABIC = "ليلى حداد"  # (Layla Haddad, written right to left)


@pytest.fixture(scope="module")
def example(site_factory):
    """The example site with keys of its own, so that a genuine badge reads "Verified"."""
    return site_factory(copy_example, own_keys=True)


@pytest.fixture(scope="module")
def arabic(site_factory):
    """A one-award site whose earner's name is Arabic, with a portfolio."""
    files = dict(MINIMAL)
    files["recipients/ann.yaml"] = f"""
        name: {ARABIC}
        email: layla@example.com
        portfolio: true
        handle: layla-h
        awards:
          - id: ann-first-1
            badge: first-badge
            issued_on: 2026-01-15
    """
    return site_factory(lambda root: write_site(root, files), own_keys=True)


@pytest.fixture
def page(browser):
    page, problems = new_page(browser, viewport=DESKTOP)
    page.problems = problems
    yield page
    page.context.close()


def ax_node(page, selector: str) -> dict:
    """The accessibility-tree node (Chromium's, through the DevTools protocol) of the element
    ``selector`` finds: ``ignored`` is true for an element a screen reader does not get."""
    cdp = page.context.new_cdp_session(page)
    try:
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        assert node, f"no element {selector}"
        return cdp.send("Accessibility.getPartialAXTree", {"nodeId": node, "fetchRelatives": False})["nodes"][0]
    finally:
        cdp.detach()


def assert_silent_live_region(page, selector: str) -> None:
    """``selector`` is an empty status region a screen reader already has: one that is added to the
    tree with its text in it is not announced (WCAG 4.1.3)."""
    node = ax_node(page, selector)
    assert not node["ignored"], f"{selector} is not in the accessibility tree: {node.get('ignoredReasons')}"
    assert node["role"]["value"] == "status", node["role"]
    assert page.text_content(selector) == ""


# Records, in order, when the panel becomes busy or not ("busy", "not busy") and when text is
# written into the verdict's line ("written"): what changes in a busy region is not announced.
WATCH_VERDICT = """() => {
  window.__verdictEvents = [];
  const line = document.getElementById("verify-verdict"), panel = document.getElementById("verify");
  const observer = new MutationObserver(records => records.forEach(r => window.__verdictEvents.push(
    r.type === "attributes" ? (r.oldValue === null ? "busy" : "not busy")
      : r.addedNodes.length ? "written" : "cleared")));
  observer.observe(panel, {attributes: true, attributeFilter: ["aria-busy"], attributeOldValue: true});
  observer.observe(line, {childList: true});
}"""


# The Verify button's state at each change of it.
WATCH_BUTTON = """() => {
  window.__buttonStates = [];
  const button = document.getElementById("verify-button");
  new MutationObserver(() => window.__buttonStates.push({
    ariaDisabled: button.getAttribute("aria-disabled"), disabled: button.disabled, text: button.textContent,
  })).observe(button, {attributes: true, childList: true, characterData: true, subtree: true});
}"""


# --- Status messages (WCAG 4.1.3) -------------------------------------------------------------


def test_the_verdict_is_written_into_a_live_region_already_there_and_no_longer_busy(page, example):
    page.goto(example.url(f"awards/{VALID}/"))
    assert_silent_live_region(page, "#verify-verdict")
    page.evaluate(WATCH_VERDICT)
    page.click("#verify-button")
    page.wait_for_selector("#verify-verdict[data-verdict]")

    assert page.get_attribute("#verify-verdict", "data-verdict") == "valid"
    assert page.inner_text("#verify-verdict").startswith("Verified: ")
    events = page.evaluate("window.__verdictEvents")
    assert events[0] == "busy" and "written" in events, events
    assert [e for e in events[: events.index("written")] if e != "cleared"][-1] == "not busy", events
    assert not ax_node(page, "#verify-verdict")["ignored"]
    assert page.locator("#verify-verdict").bounding_box()["height"] > 20  # (shown, its text in full)
    assert page.problems.all() == []


def test_the_ownership_answer_is_a_live_region_before_it_answers(page, example):
    page.goto(example.url(f"awards/{VALID}/"))
    assert_silent_live_region(page, ".ownership-result")
    assert page.locator(".ownership-result").bounding_box()["height"] <= 1  # (no empty box on screen)
    page.fill("#ownership-email", JANE)
    page.click("#is-this-yours .ownership-check")
    page.wait_for_selector(".ownership-result[data-match]")
    assert page.inner_text(".ownership-result") == f"Yes: this badge was issued to {JANE}."
    assert page.locator(".ownership-result").bounding_box()["height"] > 20


def test_the_copy_messages_are_live_regions_before_they_speak(page, example):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(example.url(f"awards/{VALID}/"))
    assert_silent_live_region(page, ".share-status")
    page.click("button[data-copy]")
    page.wait_for_selector(".share-status:has-text('Link copied.')")
    page.click(".embed summary")
    assert_silent_live_region(page, ".embed-status")
    page.click("button[data-copy-from]")
    page.wait_for_selector(".embed-status:has-text('Embed code copied.')")
    assert page.problems.all() == []


# --- Focus (WCAG 2.4.3) -----------------------------------------------------------------------


def test_verify_pressed_with_the_keyboard_keeps_the_focus_on_its_button(page, example):
    page.goto(example.url(f"awards/{VALID}/"))
    page.evaluate(WATCH_BUTTON)
    page.focus("#verify-button")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # (while it runs: ignored, one check at a time)
    page.wait_for_selector("#verify-verdict[data-verdict]")

    assert page.evaluate("document.activeElement.id") == "verify-button"
    assert page.inner_text("#verify-button") == "Verify again"
    states = page.evaluate("window.__buttonStates")
    assert {"ariaDisabled": "true", "disabled": False, "text": "Checking…"} in states, states
    assert page.get_attribute("#verify-button", "aria-disabled") is None
    page.keyboard.press("Enter")  # and again, still from the keyboard
    page.wait_for_selector("#verify:not([aria-busy]) #verify-verdict[data-verdict]")
    assert page.evaluate("document.activeElement.id") == "verify-button"
    assert page.problems.all() == []


# --- Names of any script ----------------------------------------------------------------------


def test_an_earners_name_is_isolated_wherever_a_page_shows_it(page, arabic):
    page.goto(arabic.url("awards/ann-first-1/"))
    assert page.eval_on_selector_all(".earner bdi", "els => els.map(e => e.textContent)") == [ARABIC]
    assert page.title() == f"First Badge · {ARABIC}"  # (the badge's name first: it sets the direction)
    assert f"<bdi>{ARABIC}</bdi> · Example Issuer" in page.input_value("#embed-code")
    page.click("#verify-button")
    page.wait_for_selector("#verify-verdict[data-verdict]")
    # (the Verify panel takes the name from the page: it still says whom it was issued to)
    assert page.get_attribute("#verify-verdict", "data-verdict") == "valid"
    assert page.inner_text("#verify-verdict").startswith(f"Verified: issued by Example Issuer to {ARABIC} on ")
    assert page.eval_on_selector_all("#verify-verdict bdi", "els => els.map(e => e.textContent)") == [ARABIC]
    assert page.eval_on_selector_all("#verify-steps bdi", "els => els.map(e => e.textContent)") == [ARABIC]

    page.goto(arabic.url("earners/layla-h/"))
    assert page.eval_on_selector("h1", "h => h.firstElementChild.outerHTML") == f"<bdi>{ARABIC}</bdi>"
    assert page.inner_text("h1") == f"{ARABIC}: badges from Example Issuer"
    # Plain-text titles cannot hold a <bdi>: the name, first, is isolated by U+2068 ... U+2069, so
    # a link preview takes the title's direction from ": badges", not from the name.
    title = f"\u2068{ARABIC}\u2069: badges · Example Issuer"
    assert page.title() == title
    for meta in ("meta[property='og:title']", "meta[name='twitter:title']"):
        assert page.get_attribute(meta, "content") == title, meta
    assert page.problems.all() == []


# --- Portfolio cards --------------------------------------------------------------------------


# The focused element: the portfolio card it is in (-1: none), and whether its focus ring is drawn
# and shown whole: not cut by a box that clips what overflows it (the card's overflow:hidden cut
# the picture link's ring to a line). Chromium draws an "auto" outline about 2px wide.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el), box = el.getBoundingClientRect();
  const grow = Math.max(parseFloat(style.outlineWidth) || 0, 2) + (parseFloat(style.outlineOffset) || 0);
  const ring = {left: box.left - grow, top: box.top - grow, right: box.right + grow, bottom: box.bottom + grow};
  let clippedBy = null;
  for (let up = el.parentElement; up && up !== document.body && !clippedBy; up = up.parentElement) {
    const s = getComputedStyle(up);
    if (s.overflowX === "visible" && s.overflowY === "visible") continue;
    const r = up.getBoundingClientRect(), left = r.left + up.clientLeft, top = r.top + up.clientTop;
    if (ring.left < left || ring.top < top || ring.right > left + up.clientWidth || ring.bottom > top + up.clientHeight) {
      clippedBy = up.className || up.tagName;
    }
  }
  const card = el.closest(".portfolio-award");
  return {
    card: card ? [...document.querySelectorAll(".portfolio-award")].indexOf(card) : -1,
    what: el.tagName.toLowerCase() + (el.className ? "." + el.className : "") + " " + (el.getAttribute("href") || ""),
    title: !!el.closest(".portfolio-award p"), outline: style.outlineStyle, clippedBy: clippedBy,
  };
}"""


@pytest.mark.parametrize("width", [390, 1280])
def test_a_portfolio_card_is_one_tab_stop_whose_focus_ring_shows_whole(page, example, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(example.url("earners/sean-obrien/"))
    cards = page.locator(".portfolio-award").count()
    assert cards >= 2
    stops: list[dict] = []
    for _ in range(40):  # (Tab through the whole page, to the browser's own controls)
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUSED)
        if stop is None or stop in stops:
            break
        stops.append(stop)

    in_cards = [s for s in stops if s["card"] >= 0]
    assert [s["card"] for s in in_cards] == list(range(cards)), in_cards  # (the picture is no second stop)
    assert all(s["title"] for s in in_cards), in_cards
    for stop in stops:
        assert stop["outline"] != "none" and stop["clippedBy"] is None, stop
    # One link per card, which a click on the picture follows too; nothing takes the focus by a
    # click but that link (a review: a picture link hidden from screen readers took it)
    assert page.locator(".portfolio-award a").count() == cards
    title = page.locator(".portfolio-award .card-link").first
    href = title.get_attribute("href")
    picture = page.locator(".portfolio-award .share-card").first
    picture.scroll_into_view_if_needed()
    box = picture.bounding_box()  # (a click where the picture is shown: the title's link covers it)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(f"**/{href.lstrip('./')}")


# --- The Verify panel's steps (WCAG 1.1.1, 1.4.11) --------------------------------------------


def contrast(rgb: str, background: str) -> float:
    """The WCAG contrast ratio of two CSS colours written rgb(r, g, b)."""

    def luminance(color: str) -> float:
        channels = [int(v) / 255 for v in color[color.index("(") + 1 : color.index(")")].split(",")[:3]]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(rgb), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def heard_steps(page) -> list[str]:
    """Each step of the Verify panel as a screen reader gets it (its accessibility tree: the
    icons are aria-hidden)."""
    tree = page.locator("#verify-steps").aria_snapshot()  # (YAML: a text with ": " in it is quoted)
    return [
        str(yaml.safe_load(line.split("- listitem: ", 1)[1])) for line in tree.splitlines() if "- listitem: " in line
    ]


def verify_steps(page, url: str) -> list[dict]:
    page.goto(url)
    page.click("#verify-button")
    page.wait_for_selector("#verify-verdict[data-verdict]")
    return page.eval_on_selector_all(
        "#verify-steps > li",
        """items => items.map(li => ({state: li.dataset.state, text: li.querySelector(".verify-text").textContent,
          color: getComputedStyle(li.querySelector(".verify-icon")).color}))""",
    )


def test_verify_steps_say_their_state_in_words_and_a_key_not_confirmed_says_so(page, example):
    # (an accessibility review: with keys/jwks.json not served, the first step's icon was an amber
    # "–" of 2.87:1 on white, aria-hidden with no words, over a text that began "Signature is valid")
    example.server.routes["/keys/jwks.json"] = (404, {"Content-Type": "text/plain"}, b"gone")
    try:
        steps = verify_steps(page, example.url(f"awards/{VALID}/"))
    finally:
        del example.server.routes["/keys/jwks.json"]
    assert page.get_attribute("#verify-verdict", "data-verdict") == "incomplete"
    first = steps[0]
    assert first["state"] == "unchecked", steps
    assert first["text"].startswith("Not fully checked: the signature holds for the key did:web:"), first
    assert ", but keys/jwks.json could not be downloaded, so whether it still lists that key" in first["text"]
    heard = heard_steps(page)
    assert heard[0] == first["text"], heard  # (it says its state itself: nothing added)
    assert heard[1:] == ["Passed: " + s["text"] for s in steps[1:]], heard
    assert {s["state"] for s in steps[1:]} == {"ok"}

    background = page.evaluate("getComputedStyle(document.getElementById('verify')).backgroundColor")
    assert contrast(first["color"], background) >= 4.5, first["color"]
    passed = steps[1]["color"]
    assert contrast(passed, background) >= 4.5

    steps = verify_steps(page, example.url(f"awards/{REVOKED}/"))
    failed = [s for s in steps if s["state"] == "fail"]
    assert failed and [h for h in heard_steps(page) if h.startswith("Failed: ")] == [
        "Failed: " + s["text"] for s in failed
    ]
    assert contrast(failed[0]["color"], background) >= 4.5
    assert len({first["color"], passed, failed[0]["color"]}) == 3  # (amber, green and red)


def test_an_older_badges_key_not_confirmed_says_what_was_and_was_not_confirmed(page, example):
    # (a badge signed before key ids were DID URLs names its key file; did.json confirmed the key)
    key_file = f"keys/{_jwt_kid(example).partition('#')[2]}.jwk.json"
    routes = {
        f"/awards/{VALID}/credential.jwt": (200, {}, _resigned_jwt(example, example.url(key_file))),
        "/keys/jwks.json": (404, {}, b"gone"),
    }
    example.server.routes.update(routes)
    try:
        steps = verify_steps(page, example.url(f"awards/{VALID}/"))
    finally:
        for path in routes:
            del example.server.routes[path]
    assert steps[0]["state"] == "unchecked"
    assert steps[0]["text"] == (
        f"Not fully checked: the signature holds for the key {example.url(key_file)} ({key_file}, named in "
        ".well-known/did.json), but keys/jwks.json could not be downloaded, so whether it still lists that key "
        "(a key the issuer retires is taken out of it) is not confirmed."
    )


def test_a_step_left_unchecked_says_so_in_words_once(page, example):
    routes = {"/keys/jwks.json": (404, {}, b"gone"), "/.well-known/did.json": (404, {}, b"gone")}
    example.server.routes.update(routes)
    try:
        steps = verify_steps(page, example.url(f"awards/{VALID}/"))
    finally:
        for path in routes:
            del example.server.routes[path]
    assert [s["state"] for s in steps] == ["unchecked"]
    assert steps[0]["text"].startswith("Signature not checked: ")
    assert heard_steps(page) == ["Not fully checked: " + steps[0]["text"]]

    example.server.routes["/status/revocation.json"] = (404, {}, b"gone")
    try:
        steps = verify_steps(page, example.url(f"awards/{VALID}/?no-revocation-list"))
    finally:
        del example.server.routes["/status/revocation.json"]
    unchecked = [s["text"] for s in steps if s["state"] == "unchecked"]
    assert len(unchecked) == 1 and unchecked[0].startswith("Not checked: "), steps
    assert unchecked[0] in heard_steps(page)  # (not "Not fully checked: Not checked: …")


# --- Print certificate (WCAG 4.1.2) -----------------------------------------------------------


def test_print_certificate_is_a_button_that_space_and_enter_press(page, example):
    # (an accessibility review: it was a link to #print, which Space scrolled past instead of printing)
    page.add_init_script("window.print = () => { window.__printed = (window.__printed || 0) + 1; };")
    page.goto(example.url(f"awards/{VALID}/"))
    button = page.get_by_role("button", name="Print certificate")
    assert button.count() == 1 and button.is_visible()
    assert ax_node(page, ".print-button")["role"]["value"] == "button"
    assert button.evaluate("b => b.type") == "button"
    button.focus()
    scrolled = page.evaluate("scrollY")
    page.keyboard.press("Space")
    assert page.evaluate("window.__printed") == 1
    assert page.evaluate("scrollY") == scrolled
    page.keyboard.press("Enter")
    assert page.evaluate("window.__printed") == 2
    assert page.evaluate("location.hash") == ""
    page.emulate_media(media="print")
    assert button.is_hidden()  # (not on the printed certificate)
    assert page.problems.all() == []
