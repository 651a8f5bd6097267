"""Threaded loopback static HTTP server for tests (stdlib only).

    from tests.support.static_server import serve_directory

    with serve_directory(tmp_path) as base_url:      # "http://127.0.0.1:<port>/"
        requests.get(base_url + "badges/a.json")

Behaviour (a stand-in for a plain static host such as GitHub Pages):

* binds 127.0.0.1 on a free port; one thread per request; stopped on exit;
* Content-Type by extension (``CONTENT_TYPES``; ``extra_types`` overrides/extends):
  ``.json``/``.jsonld`` -> ``application/ld+json``, ``.jws``/``.jwt`` -> ``text/plain``,
  ``.png`` -> ``image/png``, ``.svg`` -> ``image/svg+xml``, ``.html`` -> ``text/html; charset=utf-8``;
* ``Access-Control-Allow-Origin: *`` on every response (errors and redirects too);
* ``/dir/`` serves ``dir/index.html``; ``/dir`` redirects (301) to ``/dir/``;
  a directory without ``index.html`` is 404 (no listings);
* ``routes`` maps a URL path (e.g. ``"/a/1.json"``) to a fixed ``(status, headers, body)``
  response, e.g. ``(410, {}, b"")`` to simulate what a static host cannot do; a ``body`` that is
  a function is called for each request, and the pieces it yields are sent as they come, with no
  ``Content-Length`` (the connection closed after them, or when the client hangs up);
* no request logging, and no tracebacks for clients that hang up.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import posixpath
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

__all__ = ["CONTENT_TYPES", "serve_directory", "StaticServer"]

CONTENT_TYPES: dict[str, str] = {
    ".json": "application/ld+json",
    ".jsonld": "application/ld+json",
    ".jws": "text/plain",
    ".jwt": "text/plain",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".pem": "application/x-pem-file",
    ".ico": "image/x-icon",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".webmanifest": "application/manifest+json",
    "": "application/octet-stream",
}

Route = tuple[int, Mapping[str, str], "bytes | Callable[[], Iterable[bytes]]"]


def _make_handler(
    root: str, content_types: Mapping[str, str], routes: Mapping[str, Route]
) -> type[http.server.SimpleHTTPRequestHandler]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = dict(content_types)
        protocol_version = "HTTP/1.1"

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=root, **kwargs)

        # -- fixed responses -------------------------------------------------
        def _route(self) -> Route | None:
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            return routes.get(path)

        def _send_route(self, route: Route, head_only: bool) -> None:
            status, headers, body = route
            self.send_response(status)
            lower = {k.lower() for k in headers}
            for k, v in headers.items():
                self.send_header(k, v)
            if callable(body):  # (streamed: as long as the function yields, or the client listens)
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                if not head_only:
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        for piece in body():
                            self.wfile.write(piece)
                return
            if "content-length" not in lower:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head_only and body:
                self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            route = self._route()
            if route is not None:
                self._send_route(route, head_only=False)
                return
            super().do_GET()

        def do_HEAD(self) -> None:  # noqa: N802
            route = self._route()
            if route is not None:
                self._send_route(route, head_only=True)
                return
            super().do_HEAD()

        def do_OPTIONS(self) -> None:  # noqa: N802  (CORS preflight)
            self.send_response(204)
            self.send_header("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "*")
            self.send_header("Content-Length", "0")
            self.end_headers()

        # -- static files ----------------------------------------------------
        def guess_type(self, path: str) -> str:
            ext = posixpath.splitext(str(path))[1].lower()
            if ext in self.extensions_map:
                return self.extensions_map[ext]
            return super().guess_type(path)

        def list_directory(self, path):  # static hosts do not list directories
            self.send_error(404, "File not found")
            return None

        def end_headers(self) -> None:
            self.send_header("Access-Control-Allow-Origin", "*")
            super().end_headers()

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            pass

    return Handler


class _QuietThreadingHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        pass  # client went away (BrokenPipe/ConnectionReset): not interesting in tests


class StaticServer:
    """The running server; ``serve_directory`` yields its ``base_url``."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        extra_types: Mapping[str, str] | None = None,
        routes: Mapping[str, Route] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        root = Path(path).resolve()
        if not root.is_dir():
            raise NotADirectoryError(str(root))
        self.root = root
        types = dict(CONTENT_TYPES)
        types.update({k.lower(): v for k, v in (extra_types or {}).items()})
        # Kept by reference: a test may add or change routes while the server runs.
        self.routes: dict[str, Route] = routes if routes is not None else {}  # type: ignore[assignment]
        handler = _make_handler(str(root), types, self.routes)
        self._httpd = _QuietThreadingHTTPServer((host, 0), handler)
        self.host, self.port = self._httpd.server_address[:2]
        self.base_url = f"http://{host}:{self.port}/"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"static-server-{self.port}",
            daemon=True,
        )

    def url(self, relpath: str = "") -> str:
        return self.base_url + relpath.lstrip("/")

    def start(self) -> StaticServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> StaticServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@contextlib.contextmanager
def serve_directory(
    path: str | os.PathLike[str],
    *,
    extra_types: Mapping[str, str] | None = None,
    routes: Mapping[str, Route] | None = None,
) -> Iterator[str]:
    """Serve ``path`` on 127.0.0.1; yields ``"http://127.0.0.1:<port>/"``."""
    with StaticServer(path, extra_types=extra_types, routes=routes) as server:
        yield server.base_url
