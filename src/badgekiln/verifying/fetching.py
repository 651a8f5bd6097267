"""The network edge of verification: ``fetch(url) -> bytes``, and stand-ins for it.

Verification code never opens a socket itself: it is handed a :data:`Fetch` callable. The real
one, :func:`fetch`, is deliberately small (stdlib ``urllib``; http and https only; 15 s timeout;
5 MB cap; redirects only to http(s), never from https down to http). :func:`offline_fetcher`
serves URLs under given prefixes from local folders, to verify a freshly built ``output/``
before it is deployed, and in tests. JSON-LD contexts are never fetched (see
:mod:`badgekiln.crypto.canon`).
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

from ..errors import VerifyError

Fetch = Callable[[str], bytes]

TIMEOUT = 15.0  # seconds, per network operation
MAX_BYTES = 5 * 1024 * 1024  # bytes; a badge document or baked image is far smaller
MAX_REDIRECTS = 5
ACCEPT = "application/ld+json, application/json"
USER_AGENT = "badgekiln-verify (+https://pypi.org/project/badgekiln/)"
_WEB_SCHEMES = ("http", "https")


class FetchError(VerifyError):
    """A document could not be fetched; ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _SafeRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) only, never from https down to http, at most MAX_REDIRECTS."""

    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, D102
        new = urllib.parse.urlsplit(urllib.parse.urljoin(req.full_url, newurl))
        if new.scheme not in _WEB_SCHEMES:
            raise FetchError(f"{req.full_url} redirects to {newurl!r}: only http(s) redirects are followed")
        if urllib.parse.urlsplit(req.full_url).scheme == "https" and new.scheme == "http":
            raise FetchError(f"{req.full_url} redirects from https down to http ({newurl}): refused")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    # Built by hand rather than with build_opener(), which would add file:, ftp: and data:.
    opener = urllib.request.OpenerDirector()
    for handler in (urllib.request.ProxyHandler(), urllib.request.HTTPHandler(), urllib.request.HTTPSHandler(),
                    _SafeRedirects(), urllib.request.HTTPDefaultErrorHandler(),
                    urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener


def check_web_url(url: str) -> None:
    """Refuse anything but an absolute http(s) URL with a host.

    Raises:
        FetchError: ``url`` is not one.
    """
    parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in _WEB_SCHEMES or not parts.hostname:
        raise FetchError(f"{url!r} is not an http(s) URL; nothing else is fetched")


def fetch(url: str) -> bytes:
    """GET ``url`` and return the body (the only network access of verification).

    Args:
        url: An absolute http(s) URL; a ``#fragment`` is ignored.

    Returns:
        The response body, at most :data:`MAX_BYTES`.

    Raises:
        FetchError: Not an http(s) URL, an unsafe redirect, an HTTP error status (``status`` set),
            a network error or timeout, or a body over the size cap.
    """
    check_web_url(url)
    url = urllib.parse.urldefrag(url).url
    request = urllib.request.Request(url, headers={"Accept": ACCEPT, "User-Agent": USER_AGENT})
    try:
        with _opener().open(request, timeout=TIMEOUT) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > MAX_BYTES:
                raise FetchError(f"{url} is {int(length)} bytes; the limit is {MAX_BYTES}")
            body = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as e:
        if 300 <= e.code < 400:  # urllib refuses redirects to file:, data: and the like itself
            raise FetchError(f"{url} redirects elsewhere than http(s), refused: {e.reason}", status=e.code) from e
        raise FetchError(f"{url} answered HTTP {e.code} {e.reason}", status=e.code) from e
    except urllib.error.URLError as e:
        raise FetchError(f"cannot fetch {url}: {e.reason}") from e
    except (TimeoutError, OSError, ValueError) as e:
        raise FetchError(f"cannot fetch {url}: {e}") from e
    if len(body) > MAX_BYTES:
        raise FetchError(f"{url} is larger than the {MAX_BYTES}-byte limit")
    return body


def parse_offline_root(text: str) -> tuple[str, Path]:
    """Parse ``URL=DIR`` (the ``--offline-root`` option).

    Returns:
        ``(url prefix ending in '/', folder)``.

    Raises:
        ValueError: Not ``URL=DIR`` with an http(s) URL.
    """
    url, sep, folder = text.partition("=")
    if not sep or not folder:
        raise ValueError(f"{text!r} is not URL=DIR")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in _WEB_SCHEMES or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"{url!r} is not an http(s) URL prefix without query or fragment")
    return (url if url.endswith("/") else url + "/"), Path(folder)


def offline_fetcher(roots: Mapping[str, Path], fallback: Fetch | None = fetch) -> Fetch:
    """A :data:`Fetch` serving URLs under each prefix from a local folder.

    ``https://host/base/a/b.json`` with the root ``https://host/base/`` → ``DIR/a/b.json``
    (percent-decoded; a URL ending in ``/`` gives ``index.html``, as static hosts do). URLs
    under no prefix go to ``fallback`` (the network by default; None refuses them).

    Args:
        roots: URL prefix (ending in ``/``) → folder.
        fallback: What fetches other URLs.

    Returns:
        The fetch function.
    """
    mounts = sorted(((prefix, Path(folder).resolve()) for prefix, folder in roots.items()),
                    key=lambda item: -len(item[0]))

    def _fetch(url: str) -> bytes:
        check_web_url(url)
        bare = urllib.parse.urlsplit(urllib.parse.urldefrag(url).url)._replace(query="").geturl()
        for prefix, folder in mounts:
            if bare.startswith(prefix):
                return _read_below(folder, urllib.parse.unquote(bare[len(prefix):]), url)
        if fallback is None:
            raise FetchError(f"{url} is under no --offline-root, and the network is not used")
        return fallback(url)

    return _fetch


def _read_below(folder: Path, rel: str, url: str) -> bytes:
    if rel == "" or rel.endswith("/"):
        rel += "index.html"
    path = (folder / rel).resolve()
    if not path.is_relative_to(folder):
        raise FetchError(f"{url} points outside its offline root", status=404)
    if not path.is_file():
        raise FetchError(f"{url} answered HTTP 404 Not Found (no file {path})", status=404)
    data = path.read_bytes()
    if len(data) > MAX_BYTES:
        raise FetchError(f"{url} is larger than the {MAX_BYTES}-byte limit")
    return data


def memoized(fetch_: Fetch) -> Fetch:
    """``fetch_`` remembering what it fetched, so one verification reads each URL once."""
    cache: dict[str, bytes] = {}

    def _fetch(url: str) -> bytes:
        key = urllib.parse.urldefrag(url).url if isinstance(url, str) else url
        if key not in cache:
            cache[key] = fetch_(key)
        return cache[key]

    return _fetch
