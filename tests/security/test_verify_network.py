"""T11: a badge given to ``verify`` cannot make it connect where it should not, or hang.

Every server here listens on loopback (127.0.0.1) and is reached with ``--allow-local`` where the
test needs a first hop; nothing ever connects elsewhere: ``no_foreign_connections`` records every
``connect()`` and fails on any address but loopback. Refusals of non-loopback addresses happen
before a connection, which the recorder proves (and the time taken: well under a second).
"""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from badgekiln.commands.verify import render_text, run_verify
from badgekiln.verifying import FetchError, FetchPolicy, WebFetcher, fetch
from badgekiln.verifying.fetching import same_site
from badgekiln.verifying.netpolicy import (
    AddressRefused,
    check_host_name,
    literal_address,
    refusal,
)

DOC = json.dumps({"@context": "https://w3id.org/openbadges/v2", "id": "x"}).encode()


# ------------------------------------------------------------------------- a scriptable server
@dataclass
class Server:
    """A loopback HTTP server whose paths are Python functions; it counts what it is asked."""

    routes: dict[str, Callable[[http.server.BaseHTTPRequestHandler], None]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, Host header)
    port: int = 0
    tls: ssl.SSLContext | None = None

    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/"


def _handler(server: Server) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            server.requests.append((self.path, self.headers.get("Host", "")))
            route = server.routes.get(self.path)
            try:
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    route(self)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                pass  # the client cut us off: that is what several tests want

        def log_message(self, *args) -> None:
            pass

    return Handler


@pytest.fixture
def server() -> Iterator[Server]:
    yield from _serve(Server())


def _serve(state: Server) -> Iterator[Server]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    httpd.handle_error = lambda *a: None  # type: ignore[method-assign]
    if state.tls is not None:
        httpd.socket = state.tls.wrap_socket(httpd.socket, server_side=True)
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def document(body: bytes = DOC, *, status: int = 200, headers: dict | None = None):
    def route(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        for k, v in (headers or {"Content-Length": str(len(body))}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    return route


def redirect(location: str, status: int = 302):
    return document(b"", status=status, headers={"Location": location, "Content-Length": "0"})


@pytest.fixture(autouse=True)
def no_foreign_connections(monkeypatch) -> list[str]:
    """Every connect() of the test, recorded; anything but loopback fails the test at once."""
    seen: list[str] = []
    real = socket.socket.connect

    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        seen.append(host)
        if not ipaddress.ip_address(host).is_loopback:
            pytest.fail(f"connection attempted to {address}")
        return real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


def local(**limits) -> WebFetcher:
    return WebFetcher(FetchPolicy(allow_local=True, **limits))


# ------------------------------------------------------------------------------ the address rule
@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "10.0.0.1",
        "172.16.5.4",
        "172.31.255.255",
        "192.168.1.1",
        "100.64.0.1",
        "169.254.169.254",
        "169.254.0.1",
        "0.0.0.0",
        "0.1.2.3",
        "224.0.0.251",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "198.18.0.1",
        "::",
        "fe80::1",
        "fe80::1%1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "ff0e::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:8.8.8.8",
        "::127.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b::808:808",
        "2002:7f00:1::1",
        "2001::1",
        "2001:db8::1",
        "fec0::1",
    ],
)
def test_non_public_addresses_are_refused(address):
    ip = ipaddress.ip_address(address)
    assert refusal(ip) is not None
    if address not in ("127.0.0.1", "127.8.9.10", "::1"):
        assert refusal(ip, allow_local=True) is not None, "--allow-local allows loopback, nothing else"
    else:
        assert refusal(ip, allow_local=True) is None


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "2a00:1450:4001:82b::200e"]
)
def test_public_addresses_are_allowed(address):
    assert refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "host", ["2130706433", "0x7f.1", "0x7f000001", "0177.0.0.1", "017700000001", "127.1", "10.1", "0251.0376.0251.0376"]
)
def test_ipv4_addresses_in_odd_spellings_are_refused(host):
    with pytest.raises(AddressRefused, match="unusual spelling"):
        literal_address(host)


@pytest.mark.parametrize("host", ["1.2.3.4.5", "exa mple.org", "-bad.example", "a..b", "%31%32%37.0.0.1", "x" * 64])
def test_malformed_host_names_are_refused(host):
    with pytest.raises(AddressRefused):
        check_host_name(host)


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("http://2130706433/a.json", "unusual spelling"),
        ("http://0x7f.1/a.json", "unusual spelling"),
        ("https://[::ffff:127.0.0.1]/a.json", "IPv4-mapped"),
        ("https://[::ffff:7f00:1]/a.json", "IPv4-mapped"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://[fe80::1%25eth0]/a.json", "scoped"),
        ("https://10.0.0.1/a.json", "private"),
        ("https://[fd00::1]/a.json", "unique local"),
        ("https://100.100.100.200/a.json", "carrier-grade NAT"),
        ("https://0.0.0.0/a.json", "unspecified"),
        ("https://[::]/a.json", "unspecified"),
        ("https://224.0.0.1/a.json", "multicast"),
        ("https://user:secret@example.org/a.json", "user name or password"),
        ("https://example.org:99999/a.json", "malformed URL"),
        ("ftp://example.org/a.json", "not an http"),
    ],
)
def test_urls_to_non_public_hosts_are_refused_before_any_connection(url, needle, no_foreign_connections, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: pytest.fail("the resolver was asked"))
    fetcher = local()
    started = time.monotonic()
    with pytest.raises(FetchError, match=needle):
        fetcher(url)
    assert time.monotonic() - started < 1
    assert no_foreign_connections == []
    assert [(r.url, r.outcome) for r in fetcher.log] == [(url.partition("#")[0], "refused")]


def test_plain_http_is_refused_without_allow_local_before_resolving(monkeypatch, no_foreign_connections):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: pytest.fail("the resolver was asked"))
    with pytest.raises(FetchError, match="plain http is not fetched"):
        fetch("http://badges.example.org/a.json")
    assert no_foreign_connections == []


# ------------------------------------------------------------------- names that resolve inward
def test_localhost_is_refused_without_allow_local_and_fetched_with_it(server, run, no_foreign_connections):
    server.routes["/a.json"] = document()
    url = f"https://localhost:{server.port}/a.json"
    result = run("verify", url, "--json")
    report = json.loads(result.out)
    assert result.code == 1 and report["checks"][-1]["name"] == "fetch"
    assert "localhost resolves to 127.0.0.1, a loopback address" in report["checks"][-1]["detail"]
    assert report["fetches"] == [
        {"url": url, "outcome": "refused", "status": None, "bytes": 0, "detail": report["fetches"][0]["detail"]}
    ]
    assert "--allow-local" in report["fetches"][0]["detail"]
    assert server.requests == [] and no_foreign_connections == []
    text = run("verify", url)
    assert "    REFUSED " + url in text.out and text.out.splitlines()[-1].startswith("✘ NOT VALID")
    body = local()(f"http://localhost:{server.port}/a.json")
    assert body == DOC and server.requests == [("/a.json", f"localhost:{server.port}")]


@pytest.mark.parametrize(
    "answers",
    [
        ["10.0.0.7"],
        ["93.184.215.14", "10.0.0.7"],
        ["169.254.169.254"],
        ["2606:4700::1", "fd00::5"],
        ["::ffff:192.168.0.1"],
    ],
)
def test_a_name_with_any_non_public_address_is_refused(monkeypatch, answers, no_foreign_connections):
    """A resolver's answer is faked here (no DNS in tests): one bad address among good ones refuses the name."""

    def getaddrinfo(host, port, *args, **kwargs):
        assert host == "intranet.example"
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port, 0, 0) if ":" in a else (a, port),
            )
            for a in answers
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(
        FetchError, match="intranet.example resolves to .*(private|link-local|unique local|IPv4-mapped)"
    ):
        fetch("https://intranet.example/a.json")
    assert no_foreign_connections == []


def test_the_name_is_resolved_once_and_the_checked_address_is_the_one_connected(
    server, monkeypatch, no_foreign_connections
):
    """DNS rebinding: a resolver that answers 127.0.0.1 first and 10.0.0.1 afterwards gains nothing."""
    server.routes["/a.json"] = document()
    real, calls = socket.getaddrinfo, []

    def rebinding(host, port, *args, **kwargs):
        calls.append(host)
        if host != "rebind.example":
            return real(host, port, *args, **kwargs)
        address = "127.0.0.1" if len(calls) == 1 else "10.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    fetcher = local()
    assert fetcher(f"http://rebind.example:{server.port}/a.json") == DOC
    assert calls == ["rebind.example"] and no_foreign_connections == ["127.0.0.1"]
    assert server.requests == [("/a.json", f"rebind.example:{server.port}")]  # the name, not the address
    assert fetcher.log[0].outcome == "fetched" and fetcher.log[0].detail == "from 127.0.0.1"


# --------------------------------------------------------------------------------- redirects
@pytest.mark.parametrize(
    "target",
    [
        "http://10.0.0.1/latest",
        "https://10.0.0.1/latest",
        "https://169.254.169.254/latest/meta-data/",
        "http://192.168.0.1/",
        "http://[::ffff:10.0.0.1]/",
        "http://2130706433/",
        "https://[fd00::1]/x",
    ],
)
def test_a_redirect_to_a_non_public_address_is_refused_before_connecting(server, target, no_foreign_connections):
    server.routes["/a.json"] = redirect(target)
    fetcher = local()
    started = time.monotonic()
    with pytest.raises(FetchError, match="refused to fetch"):
        fetcher(server.base + "a.json")
    assert time.monotonic() - started < 1
    assert no_foreign_connections == ["127.0.0.1"]  # the first hop only
    assert [r.outcome for r in fetcher.log] == ["redirect", "refused"]
    assert fetcher.log[1].url == target


def test_redirect_loops_and_long_chains_stop(server, no_foreign_connections):
    server.routes["/a"] = redirect("/b")
    server.routes["/b"] = redirect(server.base + "a")
    for i in range(10):
        server.routes[f"/chain{i}"] = redirect(f"/chain{i + 1}", status=(301, 302, 303, 307, 308)[i % 5])
    server.routes["/chain10"] = document()
    with pytest.raises(FetchError, match="redirect loop"):
        local()(server.base + "a")
    assert [p for p, _ in server.requests] == ["/a", "/b"]
    server.requests.clear()
    fetcher = local()
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetcher(server.base + "chain0")
    assert len(server.requests) == 6 and [r.outcome for r in fetcher.log] == ["redirect"] * 6 + ["refused"]
    server.routes["/five"] = redirect("/chain6")
    assert local()(server.base + "five") == DOC  # five redirects are followed


def test_a_redirect_to_another_scheme_is_refused(server):
    for path, location in (("/file", "file:///etc/passwd"), ("/gopher", "gopher://127.0.0.1/x"), ("/data", "data:,x")):
        server.routes[path] = redirect(location)
        with pytest.raises(FetchError, match="not an http"):
            local()(server.base + path.lstrip("/"))


# ------------------------------------------------------------------------------ size and time
def test_oversized_bodies_are_cut_whatever_content_length_says(server):
    big = b"x" * 300_000

    def no_length(h):
        h.send_response(200)
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(big)

    def chunked(h):
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for i in range(0, len(big), 50_000):
            h.wfile.write(b"%x\r\n%s\r\n" % (50_000, big[i : i + 50_000]))
        h.wfile.write(b"0\r\n\r\n")

    server.routes["/no-length"] = no_length
    server.routes["/chunked"] = chunked
    server.routes["/announced"] = document(big)
    for path in ("no-length", "chunked", "announced"):
        fetcher = local(max_bytes=100_000)
        with pytest.raises(FetchError, match="100000-byte limit|limit is 100000"):
            fetcher(server.base + path)
        record = fetcher.log[-1]
        assert record.outcome == "cut" and record.size <= 100_000 + 64 * 1024, record
    fetcher = local(max_bytes=400_000, max_total_bytes=500_000)
    fetcher(server.base + "chunked")
    with pytest.raises(FetchError, match="limit"):  # the budget of the whole verification
        fetcher(server.base + "no-length")


def _trickle(h, *, headers_first: bool):
    if headers_first:
        h.send_response(200)
        h.send_header("Content-Length", "100000")
        h.end_headers()
        h.wfile.flush()
        data = b"x" * 100_000
    else:
        data = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 10_000
    for byte in data:  # one byte at a time, each well within any per-read timeout
        h.wfile.write(bytes([byte]))
        h.wfile.flush()
        time.sleep(0.05)


@pytest.mark.parametrize("where", ["body", "headers"])
def test_the_deadline_cuts_a_trickling_server(server, where):
    server.routes["/slow"] = lambda h: _trickle(h, headers_first=where == "body")
    started = time.monotonic()  # (before the fetcher, whose deadline starts when it is made)
    fetcher = local(deadline=1.5, timeout=5)
    with pytest.raises(FetchError, match="deadline"):
        fetcher(server.base + "slow")
    assert 1.3 < time.monotonic() - started < 3
    assert fetcher.log[-1].outcome == "cut"
    with pytest.raises(FetchError, match="deadline for the whole verification has passed"):
        fetcher(server.base + "slow")  # the deadline is the verification's, not the request's
    assert fetcher.log[-1].outcome == "refused"


def test_the_deadline_covers_the_whole_verify_command(server, tmp_path):
    server.routes["/slow"] = lambda h: _trickle(h, headers_first=True)
    started = time.monotonic()
    result = run_verify(server.base + "slow", allow_local=True, policy=FetchPolicy(deadline=1.0, timeout=5))
    assert time.monotonic() - started < 2.5
    assert not result.valid and result.failed[0].name == "fetch" and "deadline" in result.failed[0].detail
    assert [(f.outcome, f.status) for f in result.fetches] == [("cut", 200)]
    assert "    CUT " + server.base + "slow (HTTP 200, " in render_text(result)


# -------------------------------------------------------------------------- did:web and https
def test_did_web_hosts_are_checked_too(tmp_path, run, no_foreign_connections):
    """A credential whose issuer is did:web:10.0.0.1 (or :localhost) cannot make verify fetch it."""
    for did in ("did:web:10.0.0.1", "did:web:169.254.169.254", "did:web:localhost%3A8443:x"):
        credential = {
            "@context": [
                "https://www.w3.org/ns/credentials/v2",
                "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            ],
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "id": "urn:uuid:1",
            "issuer": {"id": did, "type": ["Profile"], "name": "X"},
            "validFrom": "2024-01-01T00:00:00Z",
            "credentialSubject": {
                "type": ["AchievementSubject"],
                "id": "did:example:1",
                "achievement": {
                    "id": "urn:uuid:2",
                    "type": ["Achievement"],
                    "name": "A",
                    "description": "A",
                    "criteria": {"narrative": "A"},
                },
            },
            "proof": {
                "type": "DataIntegrityProof",
                "cryptosuite": "eddsa-rdfc-2022",
                "proofPurpose": "assertionMethod",
                "verificationMethod": did + "#key-1",
                "proofValue": "z111",
            },
        }
        path = tmp_path / "credential.json"
        path.write_text(json.dumps(credential))
        result = run("verify", str(path), "--json")
        report = json.loads(result.out)
        assert result.code == 1 and report["fetches"][0]["outcome"] == "refused", report
        assert report["fetches"][0]["url"].endswith("did.json")
        assert "refused to fetch" in next(c for c in report["checks"] if c["name"] == "verification method")["detail"]
    assert no_foreign_connections == []


@pytest.fixture
def tls_server() -> Iterator[tuple[Server, ssl.SSLContext]]:
    """An https server on 127.0.0.1 with a certificate for the name ``localhost`` only."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = Path(__import__("tempfile").mkdtemp())
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    client_tls = ssl.create_default_context(cafile=str(folder / "cert.pem"))
    for state in _serve(Server(tls=server_tls)):
        yield state, client_tls


def test_https_goes_to_the_checked_address_with_the_name_for_sni_and_certificate(tls_server):
    server, client_tls = tls_server
    server.routes["/a.json"] = document()
    fetcher = WebFetcher(FetchPolicy(allow_local=True, ssl_context=client_tls))
    assert fetcher(f"https://localhost:{server.port}/a.json") == DOC
    assert server.requests == [("/a.json", f"localhost:{server.port}")]
    with pytest.raises(FetchError, match="certificate"):  # the certificate names localhost, not 127.0.0.1
        fetcher(f"https://127.0.0.1:{server.port}/a.json")
    server.routes["/down"] = redirect(f"http://localhost:{server.port}/a.json")
    with pytest.raises(FetchError, match="from https down to http"):
        fetcher(f"https://localhost:{server.port}/down")


def test_https_to_a_plain_http_server_on_this_machine_is_read_over_http_only_with_allow_local(server):
    # ('badgekiln serve' speaks http; a preview's did:web is always https: UX walkthrough)
    server.routes["/a.json"] = document()
    fetcher = local()
    assert fetcher(f"https://127.0.0.1:{server.port}/a.json") == DOC
    assert fetcher.log[-1].outcome == "fetched"
    assert "over plain http: this machine's server does not speak https (--allow-local)" in fetcher.log[-1].detail
    with pytest.raises(FetchError, match="loopback"):  # (without --allow-local, this machine is never fetched)
        WebFetcher(FetchPolicy())(f"https://127.0.0.1:{server.port}/a.json")


def test_a_name_that_resolves_to_this_machine_is_still_held_to_tls(server, monkeypatch):
    # (review: a real issuer's name pointed at loopback, by /etc/hosts or a spoofed answer, was
    # answered over plain http by any listener there; only localhost and 127.x/::1 are)
    server.routes["/a.json"] = document()
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))],
    )
    fetcher = local()
    with pytest.raises(FetchError, match="WRONG_VERSION_NUMBER"):
        fetcher(f"https://issuer.example.org:{server.port}/a.json")
    assert fetcher.log[-1].outcome == "error" and server.requests == []


def test_a_redirect_is_never_read_over_plain_http(tls_server, server):
    # (review: a TLS server redirecting to https://127.0.0.1:<a plain port> went down to http;
    # since session 43 a redirect to another site, another port included, is refused before it)
    secure, client_tls = tls_server
    server.routes["/a.json"] = document()
    secure.routes["/down"] = redirect(f"https://127.0.0.1:{server.port}/a.json")
    fetcher = WebFetcher(FetchPolicy(allow_local=True, ssl_context=client_tls))
    with pytest.raises(FetchError, match="redirects to another site"):
        fetcher(f"https://localhost:{secure.port}/down")
    assert server.requests == []


@pytest.mark.parametrize(
    "location",
    [
        "http://localhost:{port}/a.json",  # (another host name for the same machine: another site)
        "http://127.0.0.1:{other}/a.json",  # (another port)
        "https://127.0.0.1:{port}/a.json",  # (another scheme on the same port)
    ],
)
def test_a_redirect_to_another_site_is_refused(server, location):
    # (session 43's review: an open redirect on the issuer's site made a stranger's assertion, whose
    # id was that redirect, pass as hosted on the issuer's site: VALID)
    server.routes["/go"] = redirect(location.format(port=server.port, other=server.port + 1))
    server.routes["/a.json"] = document()
    fetcher = local()
    with pytest.raises(FetchError, match="redirects to another site"):
        fetcher(server.base + "go")
    assert [r.outcome for r in fetcher.log] == ["redirect", "refused"]
    assert [p for p, _ in server.requests] == ["/go"]


def test_a_redirect_on_the_same_site_is_followed(server):
    server.routes["/go"] = redirect(f"http://127.0.0.1:{server.port}/a.json")
    server.routes["/a.json"] = document()
    assert local()(server.base + "go") == DOC


@pytest.mark.parametrize(
    "url, target, same",
    [
        ("https://Example.org/a", "https://example.org:443/b", True),
        ("http://example.org/a", "https://example.org/b", True),  # (the same host, moved to https)
        ("http://example.org:8080/a", "https://example.org/b", False),
        ("https://example.org/a", "https://www.example.org/b", False),
        ("https://example.org/a", "https://example.org.evil.example/b", False),
        ("https://example.org/a", "https://example.org:8443/b", False),
        ("https://example.org/a", "https://example.org:99999/b", False),  # (a port that does not parse)
    ],
)
def test_same_site(url, target, same):
    assert same_site(url, target) is same


def test_a_badge_naming_many_urls_is_cut_off_at_the_request_limit(server, no_foreign_connections):
    server.routes["/a.json"] = document()
    fetcher = local(max_fetches=5)
    assert fetcher(server.base + "a.json") == DOC
    for i in range(200):
        with pytest.raises(FetchError):
            fetcher(f"https://10.0.0.{i}/status.json")
    assert len(fetcher.log) == 6 and fetcher.log[-1].detail.startswith("more than 5 requests")
    with pytest.raises(FetchError, match="more than 5 requests"):
        fetcher(server.base + "a.json")
    assert len(server.requests) == 1 and no_foreign_connections == ["127.0.0.1"]
