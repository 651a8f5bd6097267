"""Shared fixtures: example and hand-made badge sites in temporary folders."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from badgekiln.cli import main

REPO = Path(__file__).resolve().parent.parent
TODAY = "2026-11-22"


def cli_code(*args: str) -> int:
    """Run the badgekiln command line in-process (no fixture needed); its exit status."""
    try:
        main(list(args))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


def copy_example(target: Path) -> Path:
    """A copy of the repository's example site (sources only)."""
    for name in ("site_src", "badges", "recipients", "templates"):
        if (REPO / name).exists():
            shutil.copytree(REPO / name, target / name)
    return target


def write_site(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (relative path → text, dedented, or bytes) below ``root``."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><circle cx="50" cy="50" r="40" fill="#1f5f8b"/></svg>\n'

MINIMAL = {
    "site_src/site.yaml": """
        base_url: https://badges.example.org/
        issuer:
          name: Example Issuer
          url: https://example.org
          email: badges@example.org
    """,
    "site_src/assets/badge.svg": SVG,
    "badges/first-badge.yaml": """
        name: First Badge
        description: The first badge.
        image: assets/badge.svg
        criteria: Did the thing.
    """,
    "recipients/ann.yaml": """
        name: Ann Example
        email: ann@example.com
        awards:
          - id: ann-first-1
            badge: first-badge
            issued_on: 2026-01-15
    """,
}


# A professional body: a badge that lapses with the membership, and one that does not.
MEMBER_SITE = {
    "site_src/site.yaml": """
        base_url: https://badges.example.org/
        issuer:
          name: Example Institute
          url: https://example.org
          email: badges@example.org
    """,
    "site_src/assets/badge.svg": SVG,
    "badges/chartered.yaml": """
        name: Chartered Member
        description: A member in good standing.
        image: assets/badge.svg
        criteria: Holds the institute's membership.
        requires_membership: true
    """,
    "badges/course.yaml": """
        name: Course
        description: Passed a course.
        image: assets/badge.svg
        criteria: Passed.
    """,
    "recipients/mo.yaml": """
        name: Mo Member
        email: mo@example.com
        membership: {until: 2026-10-31}
        awards:
          - id: mo-chartered
            badge: chartered
            issued_on: 2026-01-15
          - id: mo-course
            badge: course
            issued_on: 2026-02-01
    """,
}


@pytest.fixture
def example_site(tmp_path: Path) -> Path:
    """A fresh copy of the example site."""
    return copy_example(tmp_path / "site")


@pytest.fixture
def keyed_site(example_site, run):
    """The example site with real keys, built once (ids and the ledger pinned)."""
    assert run("keys", "generate", "--source", str(example_site), "--today", TODAY).code == 0
    build(run, example_site)
    return example_site


@pytest.fixture
def minimal_site(tmp_path: Path) -> Path:
    """A one-badge, one-award site."""
    return write_site(tmp_path / "site", MINIMAL)


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def run(capsys):
    """Run the badgekiln command line in-process; returns exit code, stdout and stderr."""

    def _run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return _run


def cli_child(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The command line in a process of its own (this checkout's code), so that a hang is a
    failure (``subprocess.TimeoutExpired``) and not a stuck run."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    code = "import sys; from badgekiln.cli import main; main(sys.argv[1:])"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout, env=env)


def build(run, site: Path, *extra: str) -> CliResult:
    """Build ``site`` with a fixed date; fails the test if the build fails."""
    result = run("build", "--source", str(site), "--today", TODAY, *extra)
    assert result.code == 0, result.err
    return result


def publishable(site: Path, base_url: str = "https://badges.acme-training.co.uk/") -> Path:
    """``site`` with a ``base_url`` a production build accepts (example.org is for examples only)."""
    config = site / "site_src/site.yaml"
    text = config.read_text(encoding="utf-8")
    start = text.index("base_url:")
    end = text.index("\n", start)
    config.write_text(text[:start] + f"base_url: {base_url}" + text[end:], encoding="utf-8")
    return site


def edit_bundle_texts(site: Path, change) -> None:
    """``change(texts)`` the texts of the bundles the cache of ``site`` keeps (a dict, recipient
    file -> text, edited in place), written back as the cache writes them: each shard file under
    the SHA-256 of its new bytes, and the state naming it (a record damaged or forged past the
    checks of its names)."""
    from badgekiln.engine import bundletexts

    _edit_shard_texts(site / ".badgekiln/cache", "shards", bundletexts.FOLDER, change)


def edit_record_texts(root: Path, change, state_change=None) -> None:
    """``change(texts)`` the texts of the validated sources' records that the cache folder ``root``
    keeps in shard files (source file -> text), written back as :func:`edit_bundle_texts` does;
    ``state_change(state)`` edits the state as well."""
    from badgekiln.engine import bundletexts

    _edit_shard_texts(root, "record_shards", bundletexts.RECORDS, change, state_change)


def _edit_shard_texts(root: Path, key: str, folder: str, change, state_change=None) -> None:
    import json

    from badgekiln.engine import bundletexts

    state = json.loads((root / "state.json").read_text(encoding="utf-8"))
    texts: dict[str, str] = {}
    for shard, sha in state[key].items():
        texts.update(bundletexts.read_shard(root, sha, shard, folder))
    change(texts)
    if state_change is not None:
        state_change(state)
    shards: dict[str, dict[str, str]] = {}
    for name, text in texts.items():
        shards.setdefault(bundletexts.shard_of(name), {})[name] = text
    state[key] = {shard: bundletexts.write_shard(root, part, folder) for shard, part in shards.items()}
    (root / "state.json").write_text(json.dumps(state), encoding="utf-8")


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` with its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(autouse=True)
def _isolated_key_folders(tmp_path_factory, tmp_path, monkeypatch):
    """Keys never touch the developer's real folders; development keys are made once per session."""
    shared = tmp_path_factory.getbasetemp() / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared))
    monkeypatch.setenv("BADGEKILN_KEYS_DIR", str(tmp_path / "private-keys"))
    monkeypatch.delenv("BADGEKILN_PRIVATE_KEYS", raising=False)


def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped test is a failure: every tool a test needs is installed by .ci/run, so a skip
    there means a test that silently proved nothing."""
    import os

    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if os.environ.get("CI") and skipped and exitstatus == 0:
        reporter.write_line(
            f"CI: {len(skipped)} test(s) skipped; every test must run in CI "
            "(install what they need in scripts/install-test-deps.sh)",
            red=True,
        )
        session.exitstatus = 1


@pytest.fixture
def smtp(monkeypatch):
    """A real local SMTP server (tests/support/smtp_server.py), and badgekiln's SMTP settings
    pointing at it (plain, no login, the issuer's address as sender)."""
    from tests.support.smtp_server import SmtpServer

    with SmtpServer() as server:
        monkeypatch.setenv("BADGEKILN_SMTP_HOST", server.host)
        monkeypatch.setenv("BADGEKILN_SMTP_PORT", str(server.port))
        monkeypatch.setenv("BADGEKILN_SMTP_SECURITY", "none")
        monkeypatch.delenv("BADGEKILN_SMTP_FROM", raising=False)
        monkeypatch.delenv("BADGEKILN_SMTP_USER", raising=False)
        yield server
