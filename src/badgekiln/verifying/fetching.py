"""The network edge of verification: a bounded ``fetch(url) -> bytes``, and stand-ins for it.

Verification code never opens a socket itself: it is handed a :data:`Fetch` callable. The real
one is a :class:`WebFetcher`, one per verification, which holds every URL a stranger's badge can
make it ask for to these rules (README "Verifying a badge", docs/security.md T11):

* https only; http (and loopback) only with ``allow_local`` (``--allow-local``);
* no credentials in URLs; the host is a DNS name or an IP literal in standard form;
* the host is resolved once, every address is checked (:mod:`.netpolicy`), and the connection
  goes to a checked address, with the name in the Host header and TLS SNI/certificate check;
* redirects are followed by hand, at most :data:`MAX_REDIRECTS`, each target checked the same
  way, never from https down to http, never in a loop, never to another site (:func:`same_site`:
  a document read through a redirect would stand for the address asked for, so an open redirect
  on the issuer's site would let it vouch for anyone's document);
* bodies are read in pieces and counted (``Content-Length`` is not trusted): at most
  :data:`MAX_BYTES` a response and :data:`MAX_TOTAL_BYTES`, :data:`MAX_FETCHES` requests for the
  whole verification;
* one deadline (:data:`DEADLINE`) covers every request of the verification: resolving,
  connecting, TLS and reading. A watchdog shuts the socket when it passes, so a server that
  trickles a byte a second is cut at the deadline, not after the last per-read timeout;
* no proxies from the environment (a proxy would connect to addresses nobody checked), no
  ``Accept-Encoding`` (nothing to decompress), no cookies.

It uses the standard library's ``http.client``: the check must sit between resolving the name
and ``connect()``, and ``http.client`` lets a subclass own ``connect()`` in a few lines, whereas
urllib3 and httpx resolve and connect inside their pools. Every URL asked for is logged as a
:class:`~.result.FetchRecord` (``verify`` prints them). :func:`offline_fetcher` serves URLs
under given prefixes from local folders, to verify a freshly built ``output/`` before it is
deployed, and in tests. JSON-LD contexts are never fetched (see :mod:`badgekiln.crypto.canon`).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from badgekiln.errors import VerifyError
from badgekiln.verifying.netpolicy import (
    AddressRefused,
    Endpoint,
    check_host_name,
    literal_address,
    resolve,
)
from badgekiln.verifying.result import FetchRecord

Fetch = Callable[[str], bytes]

DEADLINE = 30.0  # seconds for all the network access of one verification
TIMEOUT = 10.0  # seconds, per connect and per read (within the deadline)
MAX_BYTES = 5 * 1024 * 1024  # bytes a response; a badge document or baked image is far smaller
MAX_TOTAL_BYTES = 20 * 1024 * 1024  # bytes for the whole verification
MAX_FETCHES = 40  # URLs asked for (redirect hops and refusals included) in the whole verification
MAX_REDIRECTS = 5
ACCEPT = "application/ld+json, application/json"
USER_AGENT = "badgekiln-verify (+https://pypi.org/project/badgekiln/)"
_WEB_SCHEMES = ("http", "https")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


class FetchError(VerifyError):
    """A document could not be fetched; ``status`` is the HTTP status when there was one."""

    unfetched = True  # (result.unfetched: the check it was for could not be made)

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def has_space_or_control(url: str) -> bool:
    """Whether ``url`` holds a space or a control character, which no URL that is fetched may
    (urlsplit drops tabs and newlines, so the URL it reads is not the one given)."""
    return any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url)


def check_web_url(url: str) -> None:
    """Refuse anything but an absolute http(s) URL with a host.

    Raises:
        FetchError: ``url`` is not one.
    """
    try:
        parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
        ok = parts is not None and parts.scheme in _WEB_SCHEMES and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        raise FetchError(f"{url!r} is not an http(s) URL; nothing else is fetched")


@dataclass(frozen=True)
class FetchPolicy:
    """The limits of one verification's network access (defaults: the module constants).

    Attributes:
        allow_local: Also fetch from loopback (127.0.0.0/8, ::1), and over plain http from there.
        deadline: Seconds for all requests together, from the fetcher's creation.
        timeout: Seconds per connect or read.
        max_bytes: Bytes a response.
        max_total_bytes: Bytes for all responses together.
        max_fetches: URLs asked for (redirect hops and refusals included).
        max_redirects: Redirects followed for one URL.
        ssl_context: TLS settings (tests pass one trusting their own CA); default the system's.
    """

    allow_local: bool = False
    deadline: float = DEADLINE
    timeout: float = TIMEOUT
    max_bytes: int = MAX_BYTES
    max_total_bytes: int = MAX_TOTAL_BYTES
    max_fetches: int = MAX_FETCHES
    max_redirects: int = MAX_REDIRECTS
    ssl_context: ssl.SSLContext | None = None


class _Refused(FetchError):
    """Refused by policy before a connection (logged as ``refused``): the check it was for fails,
    it is not "could not be checked" (a badge that needs a private address, plain http or too many
    requests is never verified), except when the verification's deadline passed (``transient``)."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.unfetched = transient


class _Watchdog:
    """Shuts the watched socket when the deadline passes, ending any read or handshake at once."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
            if self.fired:
                self._shut()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            self._shut()

    def _shut(self) -> None:
        if self._sock is not None:
            try:  # the plain socket's shutdown, also for an SSLSocket: no TLS state is touched
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def cancel(self) -> None:
        self._timer.cancel()


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to one checked address; ``host`` stays the name (Host header, SNI)."""

    def __init__(
        self,
        host: str,
        port: int,
        endpoint: Endpoint,
        *,
        timeout: float,
        watchdog: _Watchdog,
        tls: ssl.SSLContext | None,
    ) -> None:
        super().__init__(host, port, timeout=timeout)
        self._endpoint, self._watchdog, self._tls = endpoint, watchdog, tls

    def connect(self) -> None:  # replaces http.client's, which would resolve the name again
        sock = socket.socket(self._endpoint.family, socket.SOCK_STREAM)
        self._watchdog.watch(sock)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._endpoint.sockaddr)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=self.host, do_handshake_on_connect=False)
                self._watchdog.watch(sock)
                sock.do_handshake()
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class WebFetcher:
    """The real :data:`Fetch`: GET over the network within a :class:`FetchPolicy`.

    Make one per verification: the deadline and the byte and request budgets start at its
    creation and are shared by every URL it fetches. ``log`` receives a record per request.
    """

    def __init__(self, policy: FetchPolicy | None = None, *, log: list[FetchRecord] | None = None) -> None:
        self.policy = policy or FetchPolicy()
        self.log: list[FetchRecord] = log if log is not None else []
        self._ends = time.monotonic() + self.policy.deadline
        self._total = 0
        self._requests = 0
        self._last_size = 0
        self._tls = self.policy.ssl_context or ssl.create_default_context()

    def __call__(self, url: str) -> bytes:
        """GET ``url``, following safe redirects; returns the body.

        Raises:
            FetchError: Refused by policy, an HTTP error status (``status`` set), a network
                error, the size cap or the deadline.
        """
        if not isinstance(url, str):
            raise FetchError(f"{url!r} is not an http(s) URL; nothing else is fetched")
        try:
            url = urllib.parse.urldefrag(url).url
        except ValueError as e:
            self._refuse(url, f"malformed URL ({e})")
        seen = {url}
        for hop in range(self.policy.max_redirects + 1):
            _, location, body = self._get(url, first=hop == 0)
            if location is None:
                return body
            target = urllib.parse.urljoin(url, location)
            if hop == self.policy.max_redirects:
                self._refuse(target, f"more than {self.policy.max_redirects} redirects (from {url})")
            if target in seen:
                self._refuse(target, f"redirect loop: {url} sends back to {target}")
            if urllib.parse.urlsplit(url).scheme == "https" and target.lower().startswith("http:"):
                self._refuse(target, f"{url} redirects from https down to http: refused")
            if target.lower().startswith(("http:", "https:")) and not same_site(url, target):  # (else: refused below)
                self._refuse(
                    target,
                    f"{url} redirects to another site: a badge's documents are read only from the site "
                    "their address names (a redirect there would vouch for another site's document)",
                )
            seen.add(target)
            url = target
        raise AssertionError("unreachable")  # pragma: no cover

    # -- one request ------------------------------------------------------------------------

    def _remaining(self) -> float:
        return self._ends - time.monotonic()

    def _record(self, url: str, outcome: str, status: int | None = None, size: int = 0, detail: str = "") -> None:
        self.log.append(FetchRecord(url, outcome, status, size, detail))

    def _refuse(self, url: str, why: str, *, transient: bool = False) -> None:
        self._record(url, "refused", detail=why)
        raise _Refused(f"refused to fetch {url}: {why}", transient=transient)

    def _target(self, url: str) -> tuple[str, str, int, str]:
        """(scheme, host, port, request target) of ``url``, or a refusal."""
        try:
            parts = urllib.parse.urlsplit(url)
            port = parts.port
        except ValueError as e:
            self._refuse(url, f"malformed URL ({e})")
        if parts.scheme not in _WEB_SCHEMES or not parts.hostname:
            self._refuse(url, "not an http(s) URL; nothing else is fetched")
        if parts.scheme == "http" and not self.policy.allow_local:
            self._refuse(
                url,
                "plain http is not fetched: anyone on the way could change the answer; verify "
                "uses https (http only from this machine, with --allow-local)",
            )
        if parts.username is not None or parts.password is not None:
            self._refuse(url, "a URL with a user name or password is not fetched")
        if has_space_or_control(url):
            self._refuse(url, "the URL contains spaces or control characters")
        path = urllib.parse.quote(parts.path or "/", safe=_PATH_SAFE)
        if parts.query:
            path += "?" + urllib.parse.quote(parts.query, safe=_PATH_SAFE + "?")
        return parts.scheme, parts.hostname or "", port or (443 if parts.scheme == "https" else 80), path

    def _get(self, url: str, *, first: bool = True) -> tuple[int, str | None, bytes]:
        """One request: (status, redirect location or None, body). ``first``: the URL asked
        for, not a redirect's (only it may be read over plain http: see :meth:`_local_plain_http`)."""
        if self._requests >= self.policy.max_fetches:
            if self._requests > self.policy.max_fetches:  # logged once: a badge may name thousands of URLs
                raise _Refused(f"refused to fetch {url}: more than {self.policy.max_fetches} requests")
            self._requests += 1
            self._refuse(
                url, f"more than {self.policy.max_fetches} requests for one verification; the rest are refused unlisted"
            )
        self._requests += 1  # refused URLs count too, up to the limit
        if self._remaining() <= 0:
            self._refuse(
                url, f"the {self.policy.deadline:g} s deadline for the whole verification has passed", transient=True
            )
        scheme, host, port, path = self._target(url)
        try:
            if ":" not in host:  # a name: ASCII for the Host header and SNI (IDNA)
                host = check_host_name(host) if literal_address(host) is None else host
            endpoints = resolve(
                host, port, allow_local=self.policy.allow_local, timeout=min(self.policy.timeout, self._remaining())
            )
        except AddressRefused as e:
            self._refuse(url, str(e))
        except OSError as e:
            self._record(url, "error", detail=str(e))
            raise FetchError(f"cannot fetch {url}: {e}") from e
        if scheme == "http" and not all(e.address in ("::1",) or e.address.startswith("127.") for e in endpoints):
            self._refuse(url, "plain http is fetched only from this machine (loopback); use https")
        watchdog = _Watchdog(self._remaining())
        try:
            return self._exchange(url, scheme, host, port, path, endpoints, watchdog, first=first)
        finally:
            watchdog.cancel()

    def _exchange(
        self,
        url: str,
        scheme: str,
        host: str,
        port: int,
        path: str,
        endpoints: list[Endpoint],
        watchdog: _Watchdog,
        *,
        first: bool = True,
    ) -> tuple[int, str | None, bytes]:
        endpoint, status = endpoints[0], None
        self._last_size = 0
        plain = ""  # (said in the record when https on this machine was answered over http)

        def pinned(endpoint: Endpoint, tls: ssl.SSLContext | None) -> _PinnedConnection:
            timeout = max(min(self.policy.timeout, self._remaining()), 0.001)
            return _PinnedConnection(host, port, endpoint, watchdog=watchdog, timeout=timeout, tls=tls)

        try:
            connection = None
            for endpoint in endpoints:  # the first checked address that answers
                connection = pinned(endpoint, self._tls if scheme == "https" else None)
                try:
                    connection.connect()
                    break
                except ssl.SSLError as e:
                    connection.close()
                    if not (first and self._local_plain_http(scheme, host, endpoint, e)):
                        if endpoint is endpoints[-1] or watchdog.fired:
                            raise
                        continue
                    # A local preview ('badgekiln serve' speaks http) of a site whose did:web,
                    # which is always https, names this machine: read over http, and said.
                    connection = pinned(endpoint, None)
                    connection.connect()
                    plain = ", over plain http: this machine's server does not speak https (--allow-local)"
                    break
                except OSError:
                    connection.close()
                    if endpoint is endpoints[-1] or watchdog.fired:
                        raise
            assert connection is not None
            try:
                connection.request(
                    "GET",
                    path,
                    headers={
                        "Accept": ACCEPT,
                        "User-Agent": USER_AGENT,
                        "Accept-Encoding": "identity",
                        "Connection": "close",
                    },
                )
                response = connection.getresponse()
                status = response.status
                if status in _REDIRECTS and response.getheader("Location"):
                    location = response.getheader("Location", "")
                    self._record(url, "redirect", status, 0, f"to {location} (from {endpoint.address})")
                    return status, location, b""
                if status >= 400:
                    self._record(url, "error", status, 0, f"HTTP {status} {response.reason} (from {endpoint.address})")
                    raise FetchError(f"{url} answered HTTP {status} {response.reason}", status=status)
                if not 200 <= status < 300:
                    self._record(url, "error", status, 0, f"HTTP {status} {response.reason}: not a document")
                    raise FetchError(f"{url} answered HTTP {status} {response.reason}, not a document", status=status)
                body = self._read_body(url, response, watchdog)
            finally:
                connection.close()
        except FetchError:
            raise
        except (OSError, http.client.HTTPException, ValueError) as e:
            if watchdog.fired:
                self._record(url, "cut", status, self._last_size, f"the {self.policy.deadline:g} s deadline passed")
                raise FetchError(
                    f"{url}: the {self.policy.deadline:g} s deadline for the whole verification passed"
                ) from e
            self._record(url, "error", status, self._last_size, f"{type(e).__name__}: {e}")
            raise FetchError(f"cannot fetch {url}: {e}") from e
        self._record(url, "fetched", status, len(body), f"from {endpoint.address}{plain}")
        return status, None, body

    def _local_plain_http(self, scheme: str, host: str, endpoint: Endpoint, error: ssl.SSLError) -> bool:
        """Whether an https request that failed with ``error`` goes again over http: only with
        ``allow_local``, only to this machine named as such (``localhost``, ``127.x``, ``::1``:
        not another name that resolves there, which TLS alone vouches for), never for a
        redirect's target (see ``first`` in :meth:`_get`), and only when the server answered the
        TLS greeting as plain http does (OpenSSL's WRONG_VERSION_NUMBER)."""
        loopback = endpoint.address == "::1" or endpoint.address.startswith("127.")
        try:
            literal = literal_address(host)
        except AddressRefused:
            literal = None
        named_so = host.lower() == "localhost" or (literal is not None and literal.is_loopback)
        return (
            scheme == "https"
            and self.policy.allow_local
            and loopback
            and named_so
            and getattr(error, "reason", None) == "WRONG_VERSION_NUMBER"
        )

    def _read_body(self, url: str, response: http.client.HTTPResponse, watchdog: _Watchdog) -> bytes:
        limit = min(self.policy.max_bytes, self.policy.max_total_bytes - self._total)
        declared = response.getheader("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:  # a shortcut only; the count below decides
            self._cut(url, response.status, 0, f"announces {int(declared)} bytes; the limit is {limit}")
        chunks, size = [], 0
        while True:
            chunk = response.read1(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            self._total += len(chunk)
            self._last_size = size
            if size > limit:
                self._cut(url, response.status, size, f"larger than the {limit}-byte limit")
            chunks.append(chunk)
        if watchdog.fired:  # the socket was shut: what was read may be any prefix
            raise TimeoutError("deadline")
        if response.length:  # fewer bytes than Content-Length: the server closed early
            raise http.client.IncompleteRead(b"".join(chunks), response.length)
        return b"".join(chunks)

    def _cut(self, url: str, status: int, size: int, why: str) -> None:
        self._record(url, "cut", status, size, why)
        raise FetchError(f"{url} {why}")


def same_site(url: str, target: str) -> bool:
    """Whether a redirect from ``url`` to ``target`` stays on the site ``url`` names: the same
    scheme, host (case aside) and port, or the same host moving from http to https (each on its
    scheme's default port). Every trust decision of verification (a hosted assertion at its own
    id, a key on the issuer's site, the issuer's host) reads the address asked for; a document
    fetched from another site through a redirect must not pass for that address's."""
    try:
        a, b = urllib.parse.urlsplit(url), urllib.parse.urlsplit(target)
        ends = [(part.scheme.lower(), part.port or _DEFAULT_PORTS.get(part.scheme.lower())) for part in (a, b)]
    except ValueError:
        return False
    if a.hostname is None or a.hostname != b.hostname:
        return False
    return ends[0] == ends[1] or ends == [("http", 80), ("https", 443)]


_DEFAULT_PORTS = {"http": 80, "https": 443}


def fetch(url: str, *, allow_local: bool = False) -> bytes:
    """GET ``url`` with a fresh :class:`WebFetcher` (its own deadline and budgets).

    Args:
        url: An absolute https URL (http and loopback too with ``allow_local``).
        allow_local: See :class:`FetchPolicy`.

    Returns:
        The response body.

    Raises:
        FetchError: See :meth:`WebFetcher.__call__`.
    """
    return WebFetcher(FetchPolicy(allow_local=allow_local))(url)


def parse_offline_root(text: str) -> tuple[str, Path]:
    """Parse ``URL=DIR`` (the ``--offline-root`` option).

    Returns:
        ``(url prefix ending in '/', folder)``.

    Raises:
        ValueError: Not ``URL=DIR`` with an http(s) URL.
    """
    # A URL may hold "=" (a site's path can), and so may a folder: the first split whose folder is
    # one, else the first split (whose folder is then refused by the caller).
    splits = [(text[:i], text[i + 1 :]) for i, char in enumerate(text) if char == "="]
    url, folder = next(((u, f) for u, f in splits if f and Path(f).is_dir()), splits[0] if splits else ("", ""))
    if not folder:
        raise ValueError(f"{text!r} is not URL=DIR")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in _WEB_SCHEMES or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"{url!r} is not an http(s) URL prefix without query or fragment")
    return (url if url.endswith("/") else url + "/"), Path(folder)


def _comparable(url: str) -> str:
    """``url`` with its scheme and host in lower case and its path's escapes made one way (each
    character percent-decoded, then encoded again where RFC 3986 says it must be): a prefix given
    as ``https://host/a'b/`` serves the URL ``https://host/a%27b/did.json`` a did:web resolves to
    (an interop review found the two compared as different texts, RFC 3986 section 6.2.2)."""
    parts = urllib.parse.urlsplit(url)
    path = urllib.parse.quote(urllib.parse.unquote(parts.path), safe="/!$&'()*+,;=:@-._~", errors="surrogatepass")
    return parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower(), path=path).geturl()


def offline_fetcher(
    roots: Mapping[str, Path], fallback: Fetch | None = fetch, *, log: list[FetchRecord] | None = None
) -> Fetch:
    """A :data:`Fetch` serving URLs under each prefix from a local folder.

    ``https://host/base/a/b.json`` with the root ``https://host/base/`` → ``DIR/a/b.json``
    (percent-decoded; a URL ending in ``/`` gives ``index.html``, as static hosts do). URLs
    under no prefix go to ``fallback`` (the network by default; None refuses them).

    Args:
        roots: URL prefix (ending in ``/``) → folder.
        fallback: What fetches other URLs.
        log: Receives an ``offline`` record per file read (or refused).

    Returns:
        The fetch function.
    """
    mounts = sorted(
        ((_comparable(prefix), Path(folder).resolve()) for prefix, folder in roots.items()),
        key=lambda item: -len(item[0]),
    )

    def _fetch(url: str) -> bytes:
        try:
            check_web_url(url)
        except FetchError:
            if fallback is not None:
                return fallback(url)  # which refuses it, and logs why
            if log is not None:
                log.append(FetchRecord(str(url), "refused", None, 0, "not an http(s) URL"))
            raise
        if has_space_or_control(url) or not urllib.parse.urlsplit(url).netloc.isascii():
            # (as the network fetcher refuses the first; lower-casing a host outside ASCII folds,
            # e.g., the Kelvin sign into a k)
            why = "a space or a control character, or a host not in ASCII"
            if log is not None:
                log.append(FetchRecord(str(url)[:200], "refused", None, 0, why))
            raise FetchError(f"{url!r} is not a URL that is fetched: it holds {why}")
        bare = _comparable(urllib.parse.urlsplit(urllib.parse.urldefrag(url).url)._replace(query="").geturl())
        for prefix, folder in mounts:
            if bare.startswith(prefix):
                try:
                    data, path = _read_below(folder, urllib.parse.unquote(bare[len(prefix) :]), url)
                except FetchError as e:
                    if log is not None:
                        log.append(FetchRecord(url, "offline", e.status, 0, str(e)))
                    raise
                if log is not None:
                    log.append(FetchRecord(url, "offline", None, len(data), f"read {path}"))
                return data
        if fallback is None:
            if log is not None:
                log.append(FetchRecord(url, "refused", None, 0, "under no --offline-root"))
            raise FetchError(f"{url} is under no --offline-root, and the network is not used")
        return fallback(url)

    return _fetch


def _read_below(folder: Path, rel: str, url: str) -> tuple[bytes, Path]:
    if rel == "" or rel.endswith("/"):
        rel += "index.html"
    try:  # (a stranger's URL: a NUL, a name too long for the file system, a folder where a file was)
        if "\0" in rel:
            raise ValueError("a NUL in the path")
        path = (folder / rel).resolve()
        if not path.is_relative_to(folder):
            raise FetchError(f"{url} points outside its offline root", status=404)
        if not path.is_file():
            raise FetchError(f"{url} answered HTTP 404 Not Found (no file {path})", status=404)
        if path.stat().st_size > MAX_BYTES:
            raise FetchError(f"{url} is larger than the {MAX_BYTES}-byte limit")
        return path.read_bytes(), path
    except (OSError, ValueError) as e:
        raise FetchError(f"{url} answered HTTP 404 Not Found (no such file: {e})", status=404) from None


def memoized(fetch_: Fetch) -> Fetch:
    """``fetch_`` remembering what it fetched (or why it could not), so one verification asks
    for each URL once."""
    cache: dict[str, bytes | FetchError] = {}

    def _fetch(url: str) -> bytes:
        if not isinstance(url, str):
            raise FetchError(f"{url!r} is not an http(s) URL; nothing else is fetched")
        try:
            key = urllib.parse.urldefrag(url).url
        except ValueError:
            key = url
        if key not in cache:
            try:
                cache[key] = fetch_(key)
            except FetchError as e:
                cache[key] = e
        found = cache[key]
        if isinstance(found, FetchError):
            again = FetchError(str(found), status=found.status)
            again.unfetched = found.unfetched  # (a refusal stays one: see _Refused)
            raise again
        return found

    return _fetch
