"""``badgekiln serve``: build into a temporary folder and serve it on 127.0.0.1 for a preview.

With ``watch``, the sources are watched (watchfiles) and the preview is rebuilt incrementally
when they change (with a build cache of its own, in the temporary folder); the open page reloads
itself. The reload script is added to HTML responses as they are served, never written into the
build, and is a same-origin ``<script src>`` that the pages' Content-Security-Policy
(``script-src 'self'; connect-src 'self'``) already allows. A failed rebuild is reported and the
last good preview stays up.
"""

from __future__ import annotations

import contextlib
import http.server
import mimetypes
import os
import re
import shutil
import stat
import tempfile
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from badgekiln.commands.build import BuildResult, run_build
from badgekiln.engine import forking
from badgekiln.errors import BadgekilnError, ConfigError, printable
from badgekiln.formats.hosting import CONTENT_TYPES

RELOAD_JS = "/__badgekiln__/reload.js"
VERSION = "/__badgekiln__/version"
MAX_TARGET = 2048  # longer request targets are refused (the site's own URLs are far shorter)
WATCHED = ("site_src", "badges", "recipients", "templates")
RELOAD_SCRIPT = b"""// badgekiln serve --watch: reload this page when the preview is rebuilt.
(function () {
  var seen = null;
  function poll() {
    fetch("/__badgekiln__/version", {cache: "no-store"}).then(function (r) { return r.text(); }).then(function (v) {
      if (seen !== null && v !== seen) { location.reload(); }
      seen = v;
    }).catch(function () {}).then(function () { setTimeout(poll, 700); });
  }
  poll();
})();
"""
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")


def request_segments(target: str) -> tuple[list[str], bool] | None:
    """The decoded path segments of a request target and whether it ends in ``/``; None when malformed.

    Malformed: not origin-form (``/…``; absolute-form ``http://host/…`` and ``*`` included),
    longer than :data:`MAX_TARGET`, invalid percent-encoding or UTF-8, an encoded ``/``, a
    backslash or control character, or a ``.``/``..`` segment.
    """
    if len(target) > MAX_TARGET or not target.startswith("/") or target.startswith("//"):
        return None
    path = target.split("?", 1)[0].split("#", 1)[0]
    if _BAD_PERCENT.search(path):
        return None
    segments = []
    for raw in path.split("/")[1:]:
        try:
            segment = urllib.parse.unquote(raw, errors="strict")
        except UnicodeDecodeError:
            return None
        if "/" in segment or _CONTROL.search(segment) or segment in (".", ".."):
            return None
        if segment:
            segments.append(segment)
    return segments, path.endswith("/")


class _Handler(http.server.BaseHTTPRequestHandler):
    """The preview's files with the content types and CORS header of a real deployment.

    No listings, nothing outside the preview folder, the site's own 404 page for missing paths,
    and 400 for malformed request targets.
    """

    server: _Server

    def do_GET(self) -> None:  # noqa: D102, N802
        self._respond(body=True)

    def do_HEAD(self) -> None:  # noqa: D102, N802
        self._respond(body=False)

    def log_message(self, format, *args):  # noqa: A002, D102
        pass

    def _respond(self, *, body: bool) -> None:
        try:
            self._route(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # noqa: BLE001 - one line and a 500, never a traceback
            self.server.preview.report(
                f"error serving {self.path[:200]!r}: {type(exc).__name__}: {exc}; please report this"
            )
            try:
                self._send(500, b"Internal error\n", "text/plain; charset=utf-8", body, cache=False)
            except OSError:
                pass

    def _route(self, body: bool) -> None:
        preview = self.server.preview
        if not self._host_is_local():
            # A page of another site reaching this server under its own name (DNS rebinding) would
            # read the preview, earners' names not yet published among it: only this machine's names.
            self._send(421, b"This preview answers only at 127.0.0.1 or localhost\n", "text/plain; charset=utf-8", body)
            return
        parsed = request_segments(self.path)
        if parsed is None:
            self._send(400, b"Bad request path\n", "text/plain; charset=utf-8", body)
            return
        segments, slash = parsed
        path = "/" + "/".join(segments)
        if preview.watch and path == VERSION:
            self._send(200, str(preview.version).encode(), "text/plain; charset=utf-8", body, cache=False)
            return
        if preview.watch and path == RELOAD_JS:
            self._send(200, RELOAD_SCRIPT, "text/javascript; charset=utf-8", body, cache=False)
            return
        root = preview.folder
        target = root.joinpath(*segments)
        kind = _kind(target)
        if kind == "dir" and segments and not slash:
            self._redirect(path + "/")
            return
        if kind == "dir":
            target = target / "index.html"
            kind = _kind(target)
        if not _inside(target, root) or kind != "file":
            missing = root / "404.html"
            content = missing.read_bytes() if missing.is_file() else b"Not found\n"
            self._send(404, preview.inject(content), "text/html; charset=utf-8", body, cache=False)
            return
        content = target.read_bytes()
        kind = _content_type(target.name)
        if kind.startswith("text/html"):
            content = preview.inject(content)
        self._send(200, content, kind, body, cache=not preview.watch)

    def _host_is_local(self) -> bool:
        """Whether the request's Host names this machine (127.0.0.1, localhost, [::1]) at this port,
        or is absent (HTTP/1.0)."""
        host = self.headers.get("Host")
        if host is None:
            return True
        port = self.server.server_address[1]
        return host.strip().lower() in {f"{name}{at}" for name in _LOCAL_NAMES for at in ("", f":{port}")}

    def _send(self, status: int, content: bytes, kind: str, body: bool, *, cache: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(content)))
        # (no Access-Control-Allow-Origin, as a public host sends: a page of any other site open in
        # the provider's browser could read the preview, awards not yet published; its pages, and
        # its JSON too, which lists them: an earner's portfolio.json, revocations.json; two reviews)
        if not cache:
            self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if body:
            self.wfile.write(content)

    def _redirect(self, location: str) -> None:
        self.send_response(301)
        self.send_header("Location", urllib.parse.quote(location))
        self.send_header("Content-Length", "0")
        self.end_headers()


def _inside(path: Path, root: Path) -> bool:
    """Whether ``path``, with every symbolic link followed, is below ``root``."""
    return os.path.realpath(path).startswith(os.path.realpath(root) + os.sep)


def _content_type(name: str) -> str:
    for suffix, kind in CONTENT_TYPES.items():
        if name.endswith(suffix):
            return kind
    if name.endswith(".html"):
        return "text/html; charset=utf-8"
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") or kind.endswith("javascript") else kind


class _StateDamaged(Exception):
    """The preview's cache held a damaged record: its state is gone, build again."""


@dataclass
class Preview:
    """What is being served: the build folder, how often it was rebuilt, and the watcher."""

    source: Path
    folder: Path
    base_url: str
    today: date
    watch: bool = False
    report: Callable[[str], None] = lambda message: None
    version: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)
    watching: threading.Event = field(default_factory=threading.Event)  # set once the watcher is in place
    watcher: threading.Thread | None = None

    def inject(self, html: bytes) -> bytes:
        """``html`` with the reload script when watching (only in what is served, never on disk)."""
        if not self.watch:
            return html
        tag = f'<script src="{RELOAD_JS}"></script>'.encode()
        at = html.rfind(b"</body>")
        return html[:at] + tag + html[at:] if at >= 0 else html + tag

    def build(self) -> BuildResult:
        """Build the preview (incrementally, with the preview's own cache when watching)."""
        if not self.watch:
            return run_build(
                self.source,
                self.folder,
                base_url=self.base_url,
                today=self.today,
                frozen=False,
                pin=False,
                use_cache=False,
            )
        from badgekiln.commands import build as build_mod
        from badgekiln.engine.cache import BuildCache

        root = self.folder.parent / "cache"
        root.mkdir(exist_ok=True)

        def build_with_cache() -> BuildResult:
            cache = BuildCache(root, self.folder.absolute())  # (the preview's cache is outside the sources)
            try:
                return build_mod._run_build(
                    self.source,
                    self.folder,
                    base_url=self.base_url,
                    today=self.today,
                    frozen=False,
                    production=False,
                    pin=False,
                    cache=cache,
                )
            except Exception as failed:
                if build_mod.damaged_cache(cache, failed) is not None:
                    with contextlib.suppress(OSError):
                        (root / "state.json").unlink()
                    raise _StateDamaged from failed
                raise
            finally:
                cache.close()

        try:
            return build_with_cache()
        except _StateDamaged:  # (a damaged record of its cache: built again without its state, as run_build does)
            return build_with_cache()

    def rebuild(self, changed: list[str]) -> None:
        """Rebuild after ``changed`` files; a failure is reported and the last good preview stays."""
        shown = ", ".join(printable(name, newlines=False) for name in changed[:3]) + (
            f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        )
        try:
            result = self.build()
        except BadgekilnError as exc:
            if not self.stopping.is_set():  # (stopped under way, stop() ended its workers: nothing to say)
                self.report(
                    f"{shown} changed; the build failed, still serving the last good preview:\n{exc.diagnostics()}"
                )
            return
        except Exception as exc:  # noqa: BLE001 - the preview must stay up whatever the sources do
            if not self.stopping.is_set():
                self.report(
                    f"{shown} changed; the build failed unexpectedly ({type(exc).__name__}: {printable(str(exc))}); "
                    "still serving the last good preview. Please report this."
                )
            return
        self.version += 1
        for warning in result.warnings:
            self.report(warning.render())
        self.report(f"{shown} changed; rebuilt ({result.written} files written)")

    def watch_sources(self) -> None:
        """Rebuild whenever the sources change, until :attr:`stopping` is set."""
        import watchfiles

        paths = [self.source / name for name in WATCHED if (self.source / name).is_dir()]
        try:
            self._watch(watchfiles, paths)
        except Exception as exc:  # noqa: BLE001 - e.g. a link under the sources to a folder it may not read
            self.report(f"stopped watching the sources ({type(exc).__name__}: {exc}); the preview stays as it is")

    def _watch(self, watchfiles, paths: list[Path]) -> None:
        for changes in watchfiles.watch(
            *paths,
            stop_event=self.stopping,
            debounce=300,
            step=50,
            rust_timeout=200,
            yield_on_timeout=True,  # (the first yield says the watcher is in place: see start())
            raise_interrupt=False,
        ):
            self.watching.set()
            if changes:
                changed = sorted({Path(p).relative_to(self.source).as_posix() for _, p in changes})
                # (the hidden temporary files an atomic save leaves for a moment, badgekiln award's
                # ".ann.yaml.x1y2" too, are not named: the file saved is; UX walkthrough)
                visible = [name for name in changed if not any(part.startswith(".") for part in name.split("/"))]
                self.rebuild(visible or changed)


_LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")  # what a request's Host may name: this machine


def _kind(path: Path) -> str | None:
    """``"dir"`` or ``"file"`` (links followed), or None: nothing there, something else, or a name
    the file system refuses (longer than it allows: it was a 500)."""
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):
        return None
    return "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else None


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    preview: Preview


def start(
    source: Path, *, port: int, today: date, watch: bool = False, report: Callable[[str], None] = lambda message: None
) -> tuple[_Server, BuildResult, Path]:
    """Build a preview and start serving it in a background thread; returns (server, build, folder).

    With ``watch``, a second thread rebuilds when the sources change, calling ``report`` with
    what happened. The folder is a temporary one: :func:`stop` removes it.
    """
    try:
        server = _Server(("127.0.0.1", port), _Handler)
    except OSError as exc:
        raise ConfigError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror}; choose another --port") from None
    folder = Path(tempfile.mkdtemp(prefix="badgekiln-serve-")) / "site"
    base_url = f"http://127.0.0.1:{server.server_address[1]}/"
    preview = Preview(source, folder, base_url, today, watch=watch, report=report)
    server.preview = preview
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    try:
        stamp = _sources_stamp(source) if watch else ()
        result = preview.build()
        serving.start()
        if watch:
            preview.watcher = threading.Thread(target=preview.watch_sources, daemon=True)
            preview.watcher.start()
            # An edit made before the watcher is in place would be missed: wait for it (a fraction
            # of a second), then rebuild once if the sources changed since the first build.
            for _ in range(100):  # at most 10 s; not past the watcher's end (it reports why it stopped)
                if preview.watching.wait(timeout=0.1) or not preview.watcher.is_alive():
                    break
            if not preview.watching.is_set():
                report("not watching the sources: edits are not rebuilt until serve is started again")
            elif _sources_stamp(source) != stamp:
                preview.rebuild(["the sources"])
    except BaseException:  # (Ctrl-C or SIGTERM included: the folder never outlives the command)
        stop(server, folder, serving=serving.ident is not None)
        raise
    return server, result, folder


def _sources_stamp(source: Path) -> tuple[tuple[str, int, int], ...]:
    """Path, size and modification time of every file the watcher watches (walked without
    recursion and without following links: a site may hold deep trees or links anywhere)."""
    found = []
    stack = [str(source / name) for name in reversed(WATCHED)]
    while stack:  # (os.walk recurses before Python 3.12)
        top = stack.pop()
        try:
            with os.scandir(top) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            continue
        for entry in entries:
            with contextlib.suppress(OSError):
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    info = entry.stat(follow_symlinks=False)
                    found.append((entry.path, info.st_size, info.st_mtime_ns))
    return tuple(found)


def stop(server: _Server, folder: Path, *, serving: bool = True) -> None:
    """Stop watching and serving, and remove the temporary build (``serving``: whether
    :func:`start` got as far as serving; shutting down a server that never served would hang)."""
    preview = server.preview
    preview.stopping.set()
    if preview.watcher is not None:
        forking.stop_all()  # a rebuild under way: its workers end now, and it fails at once
        try:
            preview.watcher.join(timeout=30)  # (what it does in this process ends before its folder goes)
        finally:
            forking.reopen()  # (this process may build again: a test, a program that embeds serve)
    if serving:
        server.shutdown()
    server.server_close()
    shutil.rmtree(folder.parent, ignore_errors=True)
