"""Browser fixtures: built sites served over loopback, and ONE headless Chromium per test module.

Needs the Python ``playwright`` package (in the ``test`` extras) and Debian's Chromium at
``/usr/bin/chromium`` (``scripts/install-test-deps.sh`` installs it; override the path with
``BADGEKILN_CHROMIUM``). Playwright's own browser downloads are never used. Without either,
these tests are skipped with the reason shown by ``-ra``.

Sites are built ONCE per module (a 2-core machine is shared): the real CLI builds the example
site with ``--base-url`` set to the URL of the loopback server that then serves it, so every
absolute URL in the credentials (key ids, status list, did:web) points at that server.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import badgekiln

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from conftest import TODAY, build  # noqa: E402

from tests.support.cli import run_cli  # noqa: E402
from tests.support.static_server import StaticServer  # noqa: E402

CHROMIUM = os.environ.get("BADGEKILN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The day the pages are viewed, pinned so that verdicts do not depend on when the suite runs:
# noon of the build day.
VIEWED_AT = f"{TODAY}T12:00:00Z"


@pytest.fixture(scope="session", autouse=True)
def _badgekiln_from_this_checkout() -> None:
    """Page tests check templates and static files: they must be this checkout's, not another install's."""
    here = Path(badgekiln.__file__).resolve().parent
    if here != REPO / "src" / "badgekiln":
        pytest.fail(
            f"badgekiln is imported from {here}, not from this checkout ({REPO / 'src'}): "
            f"run 'pip install -e .' here, or set PYTHONPATH={REPO / 'src'}",
            pytrace=False,
        )


@dataclass
class ServedSite:
    """A built site and the loopback server that serves it at its ``base_url``; ``keys_dir``
    holds its private keys when it has keys of its own."""

    source: Path
    output: Path
    server: StaticServer
    base_url: str
    keys_dir: Path

    def url(self, path: str = "") -> str:
        return self.base_url + path.lstrip("/")


@contextlib.contextmanager
def served_site(
    source: Path, keys_dir: Path, cache_dir: Path, sub_path: str = "", *, own_keys: bool = False
) -> Iterator[ServedSite]:
    """Serve an empty folder, build ``source`` into it (or into ``sub_path`` below it) with the
    server's URL as base URL, and yield it.

    With ``own_keys``, ``badgekiln keys generate`` first gives the site keys of its own (private
    keys in ``keys_dir``), as a published site has; otherwise the build signs with the session's
    development keys, as a preview does, and the in-page Verify says "Not verified".
    """
    www = source.parent / "www"
    www.mkdir()
    output = www / sub_path if sub_path else www
    with StaticServer(www) as server, pytest.MonkeyPatch.context() as mp:
        # The same isolation as conftest's autouse fixture (which is per test): keys never
        # touch the developer's folders, and development keys are shared by the session.
        mp.setenv("XDG_CACHE_HOME", str(cache_dir))
        mp.setenv("BADGEKILN_KEYS_DIR", str(keys_dir))
        mp.delenv("BADGEKILN_PRIVATE_KEYS", raising=False)
        base_url = server.base_url + (sub_path.strip("/") + "/" if sub_path else "")
        if own_keys:
            generated = run_cli("keys", "generate", "--source", str(source), "--today", TODAY)
            assert generated.code == 0, generated.err
        build(run_cli, source, "--output", str(output), "--base-url", base_url)
        yield ServedSite(source, output, server, base_url, keys_dir)


@pytest.fixture(scope="module")
def site_factory(tmp_path_factory):
    """Build and serve sites for this module; servers stop when the module ends. ``own_keys``:
    see ``served_site`` (a site's private keys are in ``<root>/private-keys``)."""
    with contextlib.ExitStack() as stack:

        def make(prepare, sub_path: str = "", *, own_keys: bool = False) -> ServedSite:
            root = tmp_path_factory.mktemp("browser-site")
            source = prepare(root / "site")
            cache = tmp_path_factory.getbasetemp() / "xdg-cache"
            return stack.enter_context(served_site(source, root / "private-keys", cache, sub_path, own_keys=own_keys))

        yield make


@pytest.fixture(scope="module")
def browser():
    """One headless Debian Chromium for the whole module."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the 'test' extras)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (scripts/install-test-deps.sh installs Debian's)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageProblems:
    """Console errors, page errors, CSP violations and failed requests seen by a page."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.console.clear()
        self.errors.clear()
        self.failed.clear()

    def all(self) -> list[str]:
        return self.console + self.errors + self.failed


# Runs before any page script (Playwright injects it through the DevTools protocol, outside the
# page's CSP): records every CSP violation, including ones Chromium would not print.
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
    " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


def watch(page) -> PageProblems:
    """Record what a clean page must not produce."""
    problems = PageProblems()

    def on_console(message) -> None:
        where = (message.location or {}).get("url", "")
        # (a site without a logo names an empty icon: Chromium asked for /favicon.ico, a 404 in the console)
        if message.type in ("error", "warning"):
            problems.console.append(f"console.{message.type}: {message.text} ({where})")

    page.on("console", on_console)
    page.on("pageerror", lambda e: problems.errors.append(f"pageerror: {e}"))
    page.on("requestfailed", lambda r: problems.failed.append(f"request failed: {r.url} {r.failure}"))
    page.on("response", lambda r: problems.failed.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.add_init_script(CSP_RECORDER)
    return problems


LOAD_EVERY_IMAGE = """async () => {
  for (const img of document.images) {
    if (img.complete) continue;
    img.scrollIntoView();
    await new Promise(done => {  // (at most 15 s: an image that never loads, hidden say, is reported)
      if (img.complete) return done();
      img.addEventListener("load", done); img.addEventListener("error", done); setTimeout(done, 15000);
    });
  }
  window.scrollTo(0, 0);
  return [...document.images].filter(img => !img.naturalWidth).map(img => img.currentSrc || img.src);
}"""


def load_every_image(page) -> None:
    """Load the page's lazy images now, as a reader scrolling down would, and check each one drew. A
    full-page screenshot brings them into view, starts their requests and ends before they finish:
    Chromium then reports them aborted (a CI failure), and the picture showed them blank. Making them
    eager instead restarts a request already under way, which Chromium also reports aborted."""
    broken = page.evaluate(LOAD_EVERY_IMAGE)
    page.wait_for_load_state("networkidle")
    assert broken == [], f"images that did not load: {broken}"


def new_page(browser, **context_options):
    """A page in a fresh context, its clock pinned to ``VIEWED_AT``, with its problems recorded."""
    context = browser.new_context(**context_options)
    context.set_default_timeout(20_000)
    page = context.new_page()
    if context_options.get("java_script_enabled", True):
        page.clock.set_fixed_time(VIEWED_AT)
    return page, watch(page)
