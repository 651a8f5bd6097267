"""``badgekiln serve``: real HTTP on loopback; --watch rebuilds and reloads; malformed paths and
signals (a real subprocess) are handled."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date

import pytest
from conftest import REPO, TODAY

from badgekiln.commands.serve import RELOAD_JS, request_segments, start, stop

DAY = date.fromisoformat(TODAY)


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _raw(port: int, target: str) -> bytes:
    """Send a request line as is (no client-side checks) and return the whole response."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode("latin-1"))
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _wait_for(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def preview(minimal_site):
    server, _, folder = start(minimal_site, port=0, today=DAY)
    yield f"http://127.0.0.1:{server.server_address[1]}", server.server_address[1], folder
    stop(server, folder)


def test_missing_paths_get_the_sites_own_404_page(preview):
    base, _, folder = preview
    status, body = _get(base + "/no/such/page/")
    assert status == 404 and body == (folder / "404.html").read_bytes()
    assert _get(base + "/")[0] == 200
    status, _ = _get(base + "/awards/ann-first-1")  # a folder without its slash: redirected to it
    assert status == 200
    assert _get(base + RELOAD_JS)[0] == 404  # no reload script without --watch
    assert b"__badgekiln__" not in _get(base + "/")[1]


@pytest.mark.parametrize(
    "target",
    [
        "/%00",
        "/index.html%00.png",
        "/..%2f..%2fetc/passwd",
        "/" + "..%2f" * 20 + "etc/passwd",
        "/" + "../" * 20 + "etc/passwd",
        "/" + "%2e%2e/" * 20 + "etc/passwd",
        "/awards/..%5c..%5cetc",
        "/%zz",
        "/%",
        "/%c3%28",
        "/" + "a" * 5000,
        "/" + "a" * 300,  # (longer than a file name may be: a 500 and "please report this", a review)
        "/awards/" + "b" * 300 + "/",
        "http://127.0.0.1/index.html",
        "*",
        "//etc/passwd",
        "/\x7f",
    ],
)
def test_malformed_paths_are_refused_without_leaving_the_preview(preview, target, capfd):
    _, port, _ = preview
    response = _raw(port, target)
    status = int(response.split(b" ", 2)[1])
    assert status in (400, 404), response[:200]
    assert b"root:" not in response and b"Traceback" not in response
    assert "Traceback" not in capfd.readouterr().err  # nor on the server's side


def _with_host(port: int, host: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(f"GET /index.html HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_no_other_site_may_read_the_preview(preview):
    # (a review: every answer said Access-Control-Allow-Origin: *, so a page of any site open in
    # the provider's browser could fetch the preview's pages and files, awards not yet published)
    _, port, _ = preview
    for path in ("/index.html", "/awards/ann-first-1/", "/awards/ann-first-1/assertion.json", "/no/such/page"):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://evil.example\r\nConnection: close\r\n\r\n".encode()
            )
            response = b"".join(iter(lambda: conn.recv(65536), b""))
        head = response.split(b"\r\n\r\n", 1)[0].lower()
        assert head.startswith(b"http/1.") and b"access-control-allow-origin" not in head, head


def test_only_this_machines_names_are_answered(preview):
    # (a page of another site, its name rebound to 127.0.0.1, read the preview: a review)
    _, port, _ = preview
    for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1.evil.example:{port}", f"localhost:{port + 1}"):
        response = _with_host(port, host)
        assert response.startswith(b"HTTP/1.0 421 ") and b"First Badge" not in response, host
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", "127.0.0.1", f"[::1]:{port}"):
        assert _with_host(port, host).startswith(b"HTTP/1.0 200 "), host


def test_a_symlink_out_of_the_preview_is_not_followed(preview, tmp_path):
    base, _, folder = preview
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    (folder / "leak.txt").symlink_to(secret)
    status, body = _get(base + "/leak.txt")
    assert status == 404 and b"top secret" not in body


def test_request_segments():
    assert request_segments("/awards/x/?q=1") == (["awards", "x"], True)
    assert request_segments("/a%20b") == (["a b"], False)
    assert request_segments("/a/%2e%2e") is None


def test_watch_rebuilds_reloads_and_keeps_the_last_good_preview(minimal_site):
    reports: list[str] = []
    server, _, folder = start(minimal_site, port=0, today=DAY, watch=True, report=reports.append)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert server.preview.watching.is_set()  # (an edit right after start() is never missed)
        status, page = _get(base + "/badges/first-badge/")
        assert status == 200 and f'<script src="{RELOAD_JS}"></script></body>'.encode() in page
        assert b"__badgekiln__" not in (folder / "badges/first-badge/index.html").read_bytes()  # only served
        status, script = _get(base + RELOAD_JS)
        assert status == 200 and b"/__badgekiln__/version" in script
        assert _get(base + "/__badgekiln__/version")[1] == b"0"
        assert b"__badgekiln__" in _get(base + "/missing")[1]  # the 404 page reloads too

        badge = minimal_site / "badges/first-badge.yaml"
        badge.write_text(badge.read_text().replace("name: First Badge", "name: Renamed Badge"))
        assert _wait_for(lambda: _get(base + "/__badgekiln__/version")[1] == b"1"), reports
        assert b"Renamed Badge" in _get(base + "/badges/first-badge/")[1]
        assert any("badges/first-badge.yaml changed; rebuilt" in r for r in reports)

        # Saved as editors and 'badgekiln award' save: a hidden temporary file, renamed over it
        reports.clear()
        saved = minimal_site / "badges/.first-badge.yaml.x1y2z3"
        saved.write_text(badge.read_text() + "# saved again\n")
        saved.replace(badge)
        assert _wait_for(lambda: any("changed; rebuilt" in r for r in reports)), reports
        assert any(r.startswith("badges/first-badge.yaml changed; rebuilt") for r in reports), reports
        assert not any(".first-badge" in r for r in reports), reports

        badge.write_text("name: [unclosed\n")
        assert _wait_for(lambda: any("build failed" in r for r in reports)), reports
        failure = next(r for r in reports if "build failed" in r)
        assert "badges/first-badge.yaml" in failure and "Traceback" not in failure
        status, page = _get(base + "/badges/first-badge/")
        assert status == 200 and b"Renamed Badge" in page
        assert (
            _get(base + "/__badgekiln__/version")[1] == b"2"
        )  # (the failed build kept the version of the last good one)
    finally:
        stop(server, folder)
    assert not folder.parent.exists()
    assert not (minimal_site / ".badgekiln").exists()


def test_watch_names_a_changed_file_with_its_control_characters_escaped(minimal_site):
    """A file a pull request named with a terminal escape (here, one that retitles the window):
    the line that says it changed shows the escape, it does not send it to the terminal."""
    reports: list[str] = []
    server, _, folder = start(minimal_site, port=0, today=DAY, watch=True, report=reports.append)
    try:
        assert server.preview.watching.is_set()
        (minimal_site / "site_src/note\x1b]0;PWNED\x07.txt").write_text("x")
        assert _wait_for(lambda: any("PWNED" in r for r in reports)), reports
        line = next(r for r in reports if "PWNED" in r)
        assert "site_src/note\\x1b]0;PWNED\\x07.txt changed" in line, reports
        assert not any("\x1b" in r or "\x07" in r for r in reports), reports
    finally:
        stop(server, folder)


def _place_slowly(target: str) -> None:
    """(A long rebuild's worker: places a file into the preview's folder.)"""
    time.sleep(0.05)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w") as handle:
        handle.write("x")


def test_stopping_during_a_long_rebuild_ends_its_workers_before_the_folder_goes(minimal_site, monkeypatch):
    # A --watch rebuild with many files (workers placing them) when serve is stopped: the workers
    # must end before the folder is removed (they recreated it after serve exited), and at once.
    import multiprocessing

    from badgekiln.engine import forking

    monkeypatch.setenv(forking.ENV_JOBS, "2")
    reports: list[str] = []
    before = set(multiprocessing.active_children())  # (other tests' processes: not this preview's)
    server, _, folder = start(minimal_site, port=0, today=DAY, watch=True, report=reports.append)
    preview = server.preview

    def long_build():  # (as a build of thousands of awards: the workers write into the folder)
        targets = [str(folder / "slow" / f"{n // 50}" / f"{n}.txt") for n in range(2000)]
        forking.fork_map(_place_slowly, targets, min_items=1)
        raise AssertionError("the rebuild was not stopped")

    try:
        monkeypatch.setattr(preview, "build", long_build)
        badge = minimal_site / "badges/first-badge.yaml"
        badge.write_text(badge.read_text().replace("name: First Badge", "name: Renamed Badge"))
        assert _wait_for(
            lambda: len(list((folder / "slow").rglob("*.txt"))) > 20 if (folder / "slow").exists() else False
        )
    finally:
        started = time.monotonic()
        stop(server, folder)
        took = time.monotonic() - started
    time.sleep(1.0)  # (a worker still running would place files, and make the folder again)
    assert not folder.parent.exists()
    assert took < 10  # (unstopped, the rebuild had about 50 s of work left)
    assert set(multiprocessing.active_children()) - before == set()
    assert not any("failed" in r for r in reports), reports  # stopped, not failed


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
@pytest.mark.parametrize(
    "at_once", [False, True, "twice"], ids=["after-a-page", "as-the-line-is-printed", "and-again-while-stopping"]
)
def test_serve_removes_its_preview_when_stopped_by_a_signal(minimal_site, tmp_path, signum, at_once):
    # (at once: the signal arrives while serve may still be printing its first lines; a CI run
    # under load once left the folder behind when it landed between the print and the clean-up)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(
        os.environ,
        TMPDIR=str(tmp),
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]),
    )
    command = [
        sys.executable,
        "-c",
        "import sys; from badgekiln.cli import main; main(sys.argv[1:])",
        "serve",
        "--source",
        str(minimal_site),
        "--port",
        "0",
        "--today",
        TODAY,
        "--watch",
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", line).group(1))
        if at_once is False:
            assert _get(f"http://127.0.0.1:{port}/")[0] == 200
        assert [p.name[:15] for p in tmp.iterdir()] == ["badgekiln-serve"]
        process.send_signal(signum)
        if at_once == "twice":  # (Ctrl-C pressed again, or a SIGTERM after it, while serve cleans up)
            time.sleep(0.05)
            again = signal.SIGTERM if signum == signal.SIGINT else signal.SIGINT
            process.send_signal(again)
        process.wait(timeout=30)
    finally:
        process.kill()
    # (twice: on a busy machine both may be pending when Python runs its handlers, lowest number first)
    sent = [signum, again] if at_once == "twice" else [signum]
    assert process.returncode in {128 + s for s in sent} | ({130} if signal.SIGINT in sent else set())
    assert list(tmp.iterdir()) == []
    assert "Traceback" not in process.stderr.read()


def test_watch_over_a_deep_tree_and_a_link_to_the_root_serves_without_a_traceback(minimal_site):
    deep = minimal_site / "site_src/assets"
    for _ in range(1100):  # deeper than Python's recursion limit
        deep = deep / "d"
        deep.mkdir()
    (minimal_site / "site_src/root").symlink_to("/")  # the watcher may not read all of it
    reports: list[str] = []
    server, _, folder = start(minimal_site, port=0, today=DAY, watch=True, report=reports.append)
    try:
        assert _get(f"http://127.0.0.1:{server.server_address[1]}/badges/first-badge/")[0] == 200
        assert server.preview.watching.is_set() or any("not watching" in r for r in reports), reports
    finally:
        stop(server, folder)
        while deep != minimal_site / "site_src/assets":  # (rmtree recurses: pytest's clean-up would fail)
            deep.rmdir()
            deep = deep.parent
    assert not folder.parent.exists()


@pytest.mark.parametrize("port", ["99999", "-1", "65536"])
def test_a_port_out_of_range_is_a_usage_error(run, example_site, port):
    # (a provider's review: "badgekiln: internal error: OverflowError: bind(): port must be 0-65535")
    result = run("serve", "--source", str(example_site), "--port", port)
    assert result.code == 2, result.err
    assert "Invalid value for '--port'" in result.err and "0<=x<=65535" in result.err
    assert "internal error" not in result.err
