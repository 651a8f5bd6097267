"""``badgekiln serve``: build into a temporary folder and serve it on 127.0.0.1 for a preview."""

from __future__ import annotations

import functools
import shutil
import http.server
import tempfile
import threading
from datetime import date
from pathlib import Path

from ..errors import ConfigError
from ..hosting import CONTENT_TYPES
from .build import BuildResult, run_build



class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files with the content types and CORS header of a real deployment; no listings."""

    def guess_type(self, path):  # noqa: D102
        for suffix, kind in CONTENT_TYPES.items():
            if str(path).endswith(suffix):
                return kind
        return super().guess_type(path)

    def end_headers(self):  # noqa: D102
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def list_directory(self, path):  # noqa: D102
        self.send_error(404)
        return None

    def log_message(self, format, *args):  # noqa: A002, D102
        pass


def start(source: Path, *, port: int, today: date) -> tuple[http.server.ThreadingHTTPServer, BuildResult, Path]:
    """Build a preview and start serving it in a background thread; returns (server, build, folder).

    The folder is a temporary one: :func:`stop` removes it.
    """
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    except OSError as exc:
        raise ConfigError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror}; choose another --port") from None
    folder = Path(tempfile.mkdtemp(prefix="badgekiln-serve-")) / "site"
    base_url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        result = run_build(source, folder, base_url=base_url, today=today, frozen=False, pin=False, use_cache=False)
    except BaseException:
        server.server_close()
        shutil.rmtree(folder.parent, ignore_errors=True)
        raise
    server.RequestHandlerClass = functools.partial(_Handler, directory=str(folder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, result, folder


def stop(server: http.server.ThreadingHTTPServer, folder: Path) -> None:
    """Stop serving and remove the temporary build."""
    server.shutdown()
    server.server_close()
    shutil.rmtree(folder.parent, ignore_errors=True)
