"""Settings that would publish a secret or break the site, output folders a build must not
replace, staging folders left by killed builds, full and read-only disks, huge Markdown, and the
command line's safety net (issue 9, points 6 to 8).

Everything runs through the real command line on real files; a full disk is a real tmpfs when
this machine lets the test mount one (root), else a real file-size limit (RLIMIT_FSIZE).
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import MINIMAL, TODAY, build, tree_bytes, write_site

import badgekiln
from badgekiln.engine import site as site_mod
from badgekiln.errors import OutputError
from badgekiln.pages.markdown import (
    MAX_MARKDOWN_CHARS,
    MAX_TABLE_ROWS,
    MarkdownLimitError,
    render_markdown,
)

SITE_YAML = MINIMAL["site_src/site.yaml"]


def _env() -> dict[str, str]:
    """The environment for a child Python that imports the badgekiln under test."""
    env = dict(os.environ)
    root = str(Path(badgekiln.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env


def _snapshot(root: Path) -> dict[str, tuple]:
    found: dict[str, tuple] = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[rel] = ("link", os.readlink(path))
        elif path.is_file():
            found[rel] = ("file", path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
        else:
            found[rel] = ("dir",)
    return found


def _no_traceback(result) -> None:
    assert "Traceback" not in result.err + result.out, result.err


# ============================================================================================
# 6. Settings: base_url and the other URLs of site.yaml, and --base-url
# ============================================================================================

BAD_BASE_URLS = {
    "credentials": ("https://deploy:hunter2@badges.example.org/", "user name or password"),
    "user only": ("https://deploy@badges.example.org/", "user name or password"),
    "port out of range": ("https://x.org:80800/", "port '80800'"),
    "port not a number": ("https://x.org:abc/", "port 'abc'"),
    "port zero": ("https://x.org:0/", "port '0'"),
    "empty port": ("https://x.org:/", "port ''"),
    "ftp": ("ftp://x.org/", "does not start with https://"),
    "javascript": ("javascript://x.org/%0aalert(1)", "does not start with https://"),
    "no slashes": ("https:x.org/", "does not start with https://"),
    "query": ("https://x.org/?utm=1", "query"),
    "fragment": ("https://x.org/#top", "fragment"),
    "empty host": ("https:///badges/", "no host name"),
    "percent in host": ("https://x%2eorg/", "host name"),
    "space": ("https://x.org/my badges/", "percent-encoded"),
}


@pytest.mark.parametrize("case", sorted(BAD_BASE_URLS))
def test_base_url_that_would_publish_a_secret_or_break_the_site_is_refused(minimal_site, run, case):
    url, fragment = BAD_BASE_URLS[case]
    build(run, minimal_site)
    before = tree_bytes(minimal_site / "output")
    write_site(minimal_site, {"site_src/site.yaml": SITE_YAML.replace("https://badges.example.org/", url)})
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    _no_traceback(result)
    assert result.code == 1
    assert (
        f"site_src/site.yaml:1:11: error[bad-url]: 'base_url' must be an absolute https URL, not {url!r}" in result.err
    )
    assert fragment in result.err
    assert tree_bytes(minimal_site / "output") == before


@pytest.mark.parametrize("case", sorted(BAD_BASE_URLS))
def test_base_url_option_gets_the_same_checks(minimal_site, run, case):
    url, fragment = BAD_BASE_URLS[case]
    for command in ("build", "check"):
        result = run(command, "--source", str(minimal_site), "--today", TODAY, "--base-url", url)
        _no_traceback(result)
        assert result.code == 1
        assert f"--base-url: error[bad-url]: 'base_url' must be an absolute https URL, not {url!r}" in result.err
        assert fragment in result.err
    assert not (minimal_site / "output").exists()


def test_init_checks_its_base_url_too(run, tmp_path):
    result = run("init", str(tmp_path / "new"), "--base-url", "https://deploy:hunter2@badges.example.org/")
    _no_traceback(result)
    assert result.code == 1 and "--base-url: error[bad-url]" in result.err and "user name or password" in result.err
    assert not (tmp_path / "new").exists()


def test_good_base_urls_still_build(minimal_site, run):
    for url in (
        "https://Badges.Example.org",
        "https://x.org:8443/badges",
        "http://127.0.0.1:8000/",
        "https://[2001:db8::1]:8443/",
    ):
        result = build(run, minimal_site, "--base-url", url)
        _no_traceback(result)


@pytest.mark.parametrize(
    "url, fragment",
    [
        ("https://admin:s3cret@northwind.example/", "user name or password"),
        ("https://northwind.example:99999/", "port '99999'"),
        ("file:///etc/passwd", "does not start with"),
    ],
)
def test_issuer_url_gets_the_same_checks(minimal_site, run, url, fragment):
    write_site(minimal_site, {"site_src/site.yaml": SITE_YAML.replace("url: https://example.org", f"url: {url}")})
    result = run("check", "--source", str(minimal_site))
    _no_traceback(result)
    assert result.code == 1
    assert "site_src/site.yaml:4:8: error[bad-url]: 'url' must be an absolute https or http URL" in result.err
    assert fragment in result.err


def test_evidence_url_with_credentials_is_refused(minimal_site, run):
    text = (minimal_site / "recipients/ann.yaml").read_text()
    write_site(
        minimal_site,
        {"recipients/ann.yaml": text + "    evidence:\n      - url: https://assessor:pw@example.org/record/1\n"},
    )
    result = run("check", "--source", str(minimal_site))
    assert result.code == 1 and "recipients/ann.yaml:8:14: error[bad-url]" in result.err
    assert "user name or password" in result.err


# ============================================================================================
# 6. --output: never the sources, a parent, /, $HOME, or a folder badgekiln did not write
# ============================================================================================

# A child Python that lists (audit events) every folder the build reads the entries of.
LISTING_PROBE = """
import os, sys
log = open(sys.argv[1], "a")
def hook(event, args):
    if event in ("os.scandir", "os.listdir", "os.walk", "glob.glob", "os.fwalk"):
        log.write(repr(os.fsdecode(args[0]) if args and args[0] is not None else ".") + "\\n")
        log.flush()
sys.addaudithook(hook)
from badgekiln.cli import main
main(sys.argv[2:])
"""


def _listed_below(log: Path, folder: Path) -> list[str]:
    """Folders strictly inside ``folder`` whose entries the build listed."""
    if not log.exists():
        return []
    inside = []
    for line in log.read_text().splitlines():
        path = Path(eval(line))  # noqa: S307 - our own repr() lines
        if path.is_absolute() and path != folder and path.is_relative_to(folder):
            inside.append(line)
    return inside


def _refused_output(tmp_path: Path, site: Path, output: str, *, cwd: Path | None = None):
    """Build into ``output`` in a child process that logs every folder listing."""
    log = tmp_path / "listings.log"
    log.unlink(missing_ok=True)
    started = time.monotonic()
    # -P: the working folder is not put on sys.path (imports would list it).
    proc = subprocess.run(
        [
            sys.executable,
            "-P",
            "-c",
            LISTING_PROBE,
            str(log),
            "build",
            "--source",
            str(site),
            "--today",
            TODAY,
            "--output",
            output,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
        cwd=cwd or tmp_path,
    )
    return proc, time.monotonic() - started, log


@pytest.mark.parametrize(
    "output, says",
    [
        ("badges", "inside the sources (badges)"),
        ("site_src/out", "inside the sources (site_src)"),
        ("templates", "inside the sources (templates)"),
        (".git", "inside the sources (.git)"),
        (".badgekiln/out", "inside the sources (.badgekiln)"),
        (".", "would contain the sources"),
        ("..", "would contain the sources"),
        ("/", "root of the file system"),
    ],
)
def test_output_inside_or_above_the_sources_is_refused_at_once(minimal_site, run, tmp_path, output, says):
    build(run, minimal_site)  # the build cache now has a state: a scan of output/ would start early
    (minimal_site / ".git").mkdir()
    before = _snapshot(tmp_path)
    proc, _, log = _refused_output(tmp_path, minimal_site, output, cwd=minimal_site)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"error: the output folder {output} ") and says in proc.stderr, proc.stderr
    if output != "/":  # (below /, Python's own imports list folders)
        assert _listed_below(log, (minimal_site / output).resolve()) == []
    before.pop("listings.log", None)
    after = _snapshot(tmp_path)
    after.pop("listings.log", None)
    assert before == after


def test_home_folder_is_refused_even_with_a_marker(minimal_site, run, tmp_path, monkeypatch):
    home = tmp_path / "home"
    write_site(home, {".bashrc": "alias ls='ls -F'\n", site_mod.MARKER: site_mod.MARKER_TEXT})
    monkeypatch.setenv("HOME", str(home))
    for output in (home, tmp_path):  # the home folder, and a folder that holds it
        result = run("build", "--source", str(minimal_site), "--today", TODAY, "--output", str(output))
        _no_traceback(result)
        assert result.code == 1 and "is your home folder or holds it" in result.err
    assert (home / ".bashrc").is_file()


def test_a_huge_foreign_folder_is_refused_without_being_walked(minimal_site, run, tmp_path):
    build(run, minimal_site)
    foreign = tmp_path / "my-documents"
    for number in range(200):
        write_site(foreign / f"year-{number}", {f"notes-{n}.txt": "work\n" for n in range(20)})
    os.mkfifo(foreign / "year-7" / "pipe")
    (foreign / "locked").mkdir(mode=0)
    before = _snapshot(foreign)
    proc, seconds, log = _refused_output(tmp_path, minimal_site, str(foreign))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"the folder {foreign} is not empty and was not made by badgekiln" in proc.stderr
    assert _listed_below(log, foreign) == []
    assert seconds < 30  # (an import-bound child on a busy 2-core machine; the refusal itself is instant)
    assert _snapshot(foreign) == before


def test_the_listing_probe_would_notice_a_walk(tmp_path):
    # The probe above is only worth something if it sees a walk below the folder.
    log = tmp_path / "listings.log"
    code = LISTING_PROBE.replace(
        "from badgekiln.cli import main\nmain(sys.argv[2:])", f"list(os.walk({str(tmp_path)!r}))"
    )
    (tmp_path / "a" / "b").mkdir(parents=True)
    subprocess.run([sys.executable, "-c", code, str(log)], check=True, timeout=60)
    assert _listed_below(log, tmp_path)


def test_a_symlinked_output_folder_is_refused(minimal_site, run, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (minimal_site / "output").symlink_to(elsewhere)  # e.g. committed in a pull request
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    _no_traceback(result)
    assert result.code == 1 and "is a symbolic link" in result.err
    assert list(elsewhere.iterdir()) == [] and (minimal_site / "output").is_symlink()


@pytest.mark.parametrize("depth", [1, 2])
def test_an_output_folder_under_a_symlinked_folder_of_the_sources_is_refused(minimal_site, run, tmp_path, depth):
    # e.g. a pull request commits public -> ../../somewhere while CI builds with --output public/site
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if depth == 1:
        (minimal_site / "public").symlink_to(elsewhere)
        given = minimal_site / "public" / "site"
    else:
        (minimal_site / "public").mkdir()
        (minimal_site / "public" / "deploy").symlink_to(elsewhere)
        given = minimal_site / "public" / "deploy" / "site"
    result = run("build", "--source", str(minimal_site), "--today", TODAY, "--output", str(given))
    _no_traceback(result)
    assert result.code == 1 and "a symbolic link in the sources" in result.err, result.err
    assert list(elsewhere.iterdir()) == []


def test_dot_dot_after_a_link_in_the_sources_is_refused_and_nothing_is_replaced(minimal_site, run, tmp_path):
    # public -> ../elsewhere/x: 'public/../victim' is elsewhere/victim to the file system, not
    # <site>/victim as its text reads (review: someone's folder there was replaced)
    (tmp_path / "elsewhere" / "x").mkdir(parents=True)
    victim = tmp_path / "elsewhere" / "victim"
    write_site(victim, {"data.txt": "keep me\n"})
    (minimal_site / "public").symlink_to(tmp_path / "elsewhere" / "x")
    given = f"{minimal_site}/public/../victim"
    result = run("build", "--source", str(minimal_site), "--today", TODAY, "--output", given)
    _no_traceback(result)
    assert result.code == 1 and "a symbolic link in the sources" in result.err, result.err
    assert (victim / "data.txt").read_text() == "keep me\n" and list(victim.iterdir()) == [victim / "data.txt"]


@pytest.mark.parametrize("where", ["output-under-loop", "output-dot-dot-after-loop", "source-is-loop"])
def test_a_symbolic_link_loop_on_the_way_is_a_clear_error(minimal_site, run, tmp_path, where):
    # review: a loop outside the sources ended in "internal error: RuntimeError: Symlink loop"
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    if where == "source-is-loop":
        args = ["--source", str(tmp_path / "loop1")]
    else:
        given = tmp_path / "loop1" / "out" if where == "output-under-loop" else f"{tmp_path}/loop1/../x"
        args = ["--source", str(minimal_site), "--output", str(given)]
    result = run("build", *args, "--today", TODAY)
    _no_traceback(result)
    assert "internal error" not in result.err
    assert result.code in (1, 2) and "loop" in result.err, result.err
    assert not (tmp_path / "x").exists()


def test_the_engine_refuses_an_output_under_a_loop_itself(minimal_site, tmp_path):
    # (the command line checks its paths first; the engine does not rely on it)
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    with pytest.raises(OutputError, match="leads back to itself"):
        site_mod.check_output_dir(tmp_path / "loop1" / "out", minimal_site)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(OutputError, match="leads to a folder that does not exist"):
        site_mod.check_output_dir(tmp_path / "dangling" / "out", minimal_site)


def test_dot_dot_is_taken_as_the_file_system_takes_it(minimal_site, run, tmp_path):
    # a link outside the sources, then '..': the folder checked (and refused: not badgekiln's) is
    # the one the build would replace, next to the link's target
    (tmp_path / "far" / "deep").mkdir(parents=True)
    victim = tmp_path / "far" / "victim"
    write_site(victim, {"data.txt": "keep me\n"})
    (tmp_path / "near").symlink_to(tmp_path / "far" / "deep")
    (tmp_path / "victim").mkdir()  # what the text 'near/../victim' names: empty, would be accepted
    result = run("build", "--source", str(minimal_site), "--today", TODAY, "--output", f"{tmp_path}/near/../victim")
    _no_traceback(result)
    assert result.code == 1 and "not empty and was not made by badgekiln" in result.err, result.err
    assert (victim / "data.txt").read_text() == "keep me\n"
    assert list((tmp_path / "victim").iterdir()) == []


def test_a_link_in_the_sources_is_found_when_the_sources_are_named_through_another_link(minimal_site, run, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (minimal_site / "public").symlink_to(elsewhere)
    alias = tmp_path / "alias"
    alias.symlink_to(minimal_site)  # the same sources, spelled another way
    for source, given in ((minimal_site, alias / "public" / "site"), (alias, minimal_site / "public" / "site")):
        result = run("build", "--source", str(source), "--today", TODAY, "--output", str(given))
        _no_traceback(result)
        assert result.code == 1 and "a symbolic link in the sources" in result.err, result.err
    assert list(elsewhere.iterdir()) == []


def test_an_output_folder_reached_through_a_link_outside_the_sources_is_built(minimal_site, run, tmp_path):
    # (the operator's own links, outside the sources, are theirs to use: e.g. /var/www -> /srv/www)
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "www").symlink_to(real)
    result = run("build", "--source", str(minimal_site), "--today", TODAY, "--output", str(tmp_path / "www" / "site"))
    assert result.code == 0, result.err
    assert (real / "site" / site_mod.MARKER).is_file()


@pytest.mark.parametrize("fake", ["link", "other text", "folder", "fifo"])
def test_a_look_alike_marker_does_not_make_a_folder_ours(minimal_site, run, tmp_path, fake):
    foreign = tmp_path / "my-documents"
    write_site(foreign, {"thesis.txt": "five years of work\n"})
    marker = foreign / site_mod.MARKER
    if fake == "link":
        real = tmp_path / "real-marker"
        real.write_bytes(site_mod.MARKER_TEXT)
        marker.symlink_to(real)
    elif fake == "other text":
        marker.write_bytes(site_mod.MARKER_TEXT.upper())
    elif fake == "folder":
        marker.mkdir()
    else:
        os.mkfifo(marker)  # never opened: a FIFO would block the build
    result = run("build", "--source", str(minimal_site), "--today", TODAY, "--output", str(foreign))
    _no_traceback(result)
    assert result.code == 1 and "was not made by badgekiln" in result.err
    assert (foreign / "thesis.txt").read_text() == "five years of work\n"


def test_a_folder_of_the_source_root_that_is_not_a_source_folder_may_be_the_output(minimal_site, run):
    build(run, minimal_site, "--output", str(minimal_site / "public"))
    assert (minimal_site / "public" / "index.html").is_file()


# ============================================================================================
# 7. Full disk, read-only output folder
# ============================================================================================


def _mount_tmpfs(folder: Path, size: str) -> bool:
    """Mount a small tmpfs at ``folder`` (needs root); False when this machine does not allow it."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, timeout=30
    )
    return proc.returncode == 0


def _umount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


def _fill(disk: Path, leave: int) -> None:
    """Fill the file system of ``disk`` with a ballast file, leaving about ``leave`` bytes free."""
    ballast = disk / "ballast"
    with open(ballast, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    with open(ballast, "r+b") as handle:  # now give back a little
        handle.truncate(max(0, ballast.stat().st_size - leave))


def _staging_left(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".staging-" in p.name or ".old-" in p.name]


def test_a_full_disk_keeps_the_previous_output_and_leaves_no_staging(minimal_site, run, tmp_path):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "4m"):
        pytest.skip("cannot mount a tmpfs here (not root); test_a_file_size_limit_… covers a failed write")
    try:
        output = disk / "site"
        build(run, minimal_site, "--output", str(output))
        before = tree_bytes(output)
        _fill(disk, 4096)
        write_site(
            minimal_site,
            {
                f"recipients/r{n}.yaml": MINIMAL["recipients/ann.yaml"]
                .replace("ann@example.com", f"r{n}@example.com")
                .replace("ann-first-1", f"r{n}-first-1")
                for n in range(30)
            },
        )
        result = run("build", "--source", str(minimal_site), "--today", TODAY, "--output", str(output))
        _no_traceback(result)
        assert result.code == 1
        assert result.err.startswith(f"error: could not write the site to {output}: No space left on device")
        assert f"({disk}/.site.staging-" in result.err  # the file it could not write
        assert "the previous output is unchanged" in result.err
        assert tree_bytes(output) == before
        assert _staging_left(disk) == []
        (disk / "ballast").unlink()  # room again: the next build works
        build(run, minimal_site, "--output", str(output))
        assert (output / "awards" / "r29-first-1").is_dir()
    finally:
        _umount(disk)


def test_a_read_only_output_parent_is_a_clear_error(minimal_site, run, tmp_path):
    disk = tmp_path / "disk"
    if os.geteuid() == 0:
        if not _mount_tmpfs(disk, "1m"):
            pytest.skip("root, but cannot mount a read-only tmpfs here")
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True, timeout=30)
    else:
        disk.mkdir()
        disk.chmod(0o555)
    try:
        result = run("build", "--source", str(minimal_site), "--today", TODAY, "--output", str(disk / "site"))
        _no_traceback(result)
        assert result.code == 1
        assert result.err.startswith(f"error: could not write the site to {disk / 'site'}: ")
        assert ("Read-only file system" in result.err) or ("Permission denied" in result.err)
        assert list(disk.iterdir()) == []
    finally:
        if os.geteuid() == 0:
            _umount(disk)
        else:
            disk.chmod(0o755)


FSIZE_CHILD = """
import resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # Python ignores SIGXFSZ: writes fail with EFBIG
from badgekiln.cli import main
main(sys.argv[2:])
"""


def test_a_file_size_limit_keeps_the_previous_output_and_leaves_no_staging(minimal_site, run, tmp_path):
    build(run, minimal_site)
    output = minimal_site / "output"
    before = tree_bytes(output)
    write_site(minimal_site, {"site_src/pages/about.md": "---\ntitle: About\n---\n" + "Long text. " * 8000})
    proc = subprocess.run(
        [sys.executable, "-c", FSIZE_CHILD, "20000", "build", "--source", str(minimal_site), "--today", TODAY],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "File too large" in proc.stderr and "the previous output is unchanged" in proc.stderr
    assert proc.stderr.startswith("error: ") and len(proc.stderr.strip().splitlines()) <= 3
    assert tree_bytes(output) == before
    assert _staging_left(minimal_site) == []


def test_a_full_disk_after_the_output_was_updated_says_so_and_the_next_build_mends_it(
    minimal_site, run, tmp_path, monkeypatch
):
    # (stranger review: a cache that could not be saved after output/ was updated was reported as
    # "the previous output is unchanged")
    import errno

    from badgekiln.engine import cache as cache_mod

    build(run, minimal_site)
    write_site(minimal_site, {"recipients/bob.yaml": MINIMAL["recipients/ann.yaml"].replace("ann", "bob")})

    def full(self):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.root / "state.json"))

    monkeypatch.setattr(cache_mod.BuildCache, "save", full)
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    _no_traceback(result)
    assert result.code == 1
    assert f"the build updated {minimal_site / 'output'} but could not write" in result.err, result.err
    assert "No space left on device" in result.err and "previous output is unchanged" not in result.err
    assert (minimal_site / "output/awards/bob-first-1").is_dir()
    monkeypatch.undo()
    again = build(run, minimal_site)
    assert "cache-damaged" not in again.err
    clean = tmp_path / "clean"
    shutil.copytree(minimal_site, clean, ignore=shutil.ignore_patterns("output", ".badgekiln"))
    build(run, clean)
    assert tree_bytes(minimal_site / "output") == tree_bytes(clean / "output")


# ============================================================================================
# 8. Staging folders left by a killed build
# ============================================================================================

KILLED_BUILD = """
import os, signal, sys
from badgekiln.engine import site
where = sys.argv[1]
output = os.path.join(sys.argv[4], "output")  # (argv: where build --source SITE ...)
if where == "swap":  # killed after the whole site was staged, before it was swapped in
    site._swap_in = lambda staging, output: os.kill(os.getpid(), signal.SIGKILL)
else:  # killed in the middle of an in-place update's renames into output/
    real, calls = os.replace, []
    def replace(src, dst):
        if os.fspath(dst).startswith(output + os.sep):
            calls.append(dst)
            if len(calls) == 2:
                os.kill(os.getpid(), signal.SIGKILL)
        return real(src, dst)
    site.os.replace = replace
from badgekiln.cli import main
main(sys.argv[2:])
"""


@pytest.mark.parametrize("where", ["swap", "update"])
def test_staging_folders_of_a_killed_build_are_removed_by_the_next(minimal_site, run, tmp_path, where):
    build(run, minimal_site)
    if where == "swap":
        shutil.rmtree(minimal_site / "output")  # the next build stages a whole site
    write_site(
        minimal_site,
        {"recipients/bob.yaml": MINIMAL["recipients/ann.yaml"].replace("Ann", "Bob").replace("ann", "bob")},
    )
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_BUILD, where, "build", "--source", str(minimal_site), "--today", TODAY],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    left = _staging_left(minimal_site)
    assert len(left) == 1 and left[0].startswith(".output.staging-")
    # Look-alikes that badgekiln did not make stay: no marker, a link, another output's name.
    write_site(
        minimal_site,
        {".output.staging-mine/notes.txt": "mine\n", ".public.staging-x/" + site_mod.MARKER: site_mod.MARKER_TEXT},
    )
    (minimal_site / ".output.staging-link").symlink_to(minimal_site / left[0])
    result = build(run, minimal_site)
    assert f"removed {minimal_site / left[0]}, left behind by an interrupted build" in result.err
    assert sorted(_staging_left(minimal_site)) == [".output.staging-link", ".output.staging-mine", ".public.staging-x"]
    assert "Bob Example" in (minimal_site / "output/awards/bob-first-1/index.html").read_text()
    (minimal_site / ".output.staging-link").unlink()
    repaired = tree_bytes(minimal_site / "output")
    shutil.rmtree(minimal_site / "output")
    shutil.rmtree(minimal_site / ".badgekiln")
    build(run, minimal_site)  # a clean build gives the same site: the killed one left nothing wrong
    assert tree_bytes(minimal_site / "output") == repaired
    assert (minimal_site / ".output.staging-mine" / "notes.txt").is_file()


def test_a_running_builds_staging_folder_is_left_alone(minimal_site, run):
    build(run, minimal_site)
    staging, lock = site_mod._make_staging((minimal_site / "output").absolute())  # as a build in progress
    try:
        build(run, minimal_site)
        assert staging.is_dir() and (staging / site_mod.MARKER).is_file()
    finally:
        lock.close()
    build(run, minimal_site)
    assert not staging.exists()


def test_an_empty_staging_folder_goes_once_it_is_old(minimal_site, run):
    build(run, minimal_site)
    young, old = minimal_site / ".output.staging-young", minimal_site / ".output.staging-old"
    young.mkdir()
    old.mkdir()
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    build(run, minimal_site)
    assert young.is_dir() and not old.exists()


# ============================================================================================
# 8. Huge Markdown
# ============================================================================================


def _page(body: str) -> dict[str, str]:
    return {"site_src/pages/about.md": "---\ntitle: About\n---\n" + body}


def test_a_page_with_50000_table_rows_is_a_quick_located_error(minimal_site, run):
    body = "Intro\n\n| a | b |\n|---|---|\n" + "| x | y |\n" * 50_000
    write_site(minimal_site, _page(body))
    started = time.monotonic()
    result = run("check", "--source", str(minimal_site))
    assert time.monotonic() - started < 20
    _no_traceback(result)
    assert result.code == 1
    row = 3 + 2 + MAX_TABLE_ROWS + 1  # front matter, intro and blank line, then the rows
    assert (
        f"site_src/pages/about.md:{row}: error[markdown-too-large]: the Markdown has more than "
        f"{MAX_TABLE_ROWS:,} table rows" in result.err
    )


def test_a_page_of_pipes_is_a_quick_located_error(minimal_site, run):
    write_site(minimal_site, _page("|" * (1024 * 1024 + 1)))  # 5 MB is refused by the file size limit already
    started = time.monotonic()
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert time.monotonic() - started < 20
    _no_traceback(result)
    assert result.code == 1
    assert (
        f"site_src/pages/about.md:4: error[markdown-too-large]: the Markdown is 1,048,577 characters long; "
        f"the limit is {MAX_MARKDOWN_CHARS:,}" in result.err
    )
    write_site(minimal_site, _page("|" * (5 * 1024 * 1024)))
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    _no_traceback(result)
    assert result.code == 1 and "site_src/pages/about.md: error[" in result.err


def test_criteria_with_too_many_table_rows_is_located(minimal_site, run):
    write_site(
        minimal_site,
        {
            "badges/first-badge.yaml": MINIMAL["badges/first-badge.yaml"].replace(
                "criteria: Did the thing.", 'criteria: "' + "|x|\\n" * (MAX_TABLE_ROWS + 1) + '"'
            )
        },
    )
    result = run("check", "--source", str(minimal_site))
    _no_traceback(result)
    assert result.code == 1 and "badges/first-badge.yaml:1:1: error[markdown-too-large]: 'criteria'" in result.err


def test_the_markdown_filter_itself_is_bounded(minimal_site, run):
    assert "<table>" in render_markdown("|a|\n|-|\n" + "|x|\n" * (MAX_TABLE_ROWS - 2))
    with pytest.raises(MarkdownLimitError, match="table rows"):
        render_markdown("|a|\n|-|\n" + "|x|\n" * MAX_TABLE_ROWS)
    # A template that feeds the filter a huge text: a located template error, not a hang.
    write_site(
        minimal_site,
        {
            "templates/page.html": '{% extends "!builtin/page.html" %}'
            '{% block main %}{{ ((page.body ~ "\\n") * 30) | markdown }}{% endblock %}',
            **_page("| x |\n" * 100),
        },
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    _no_traceback(result)
    assert result.code == 1
    assert "templates/page.html:1: template error: the Markdown has more than" in result.err


def test_a_long_page_within_the_limits_renders(minimal_site, run):
    write_site(
        minimal_site, _page("| a | b |\n|---|---|\n" + "| x | y |\n" * (MAX_TABLE_ROWS - 10) + "\n" + "Prose. " * 5000)
    )
    build(run, minimal_site)
    assert (minimal_site / "output/pages/about/index.html").read_text().count("<tr>") == 1 + MAX_TABLE_ROWS - 10


# ============================================================================================
# 7. The safety net
# ============================================================================================


def _broken_build(monkeypatch) -> None:
    """Make the build raise what no input should ever cause: a bug."""
    from badgekiln.commands import build as build_mod

    def run_build(*args, **kwargs):
        return {}["no such key"]

    monkeypatch.setattr(build_mod, "run_build", run_build)


def test_an_internal_error_is_one_line_with_a_report_hint(minimal_site, run, monkeypatch):
    _broken_build(monkeypatch)
    monkeypatch.delenv("BADGEKILN_VERBOSE", raising=False)
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 2
    assert result.err.splitlines() == [
        "badgekiln: internal error: KeyError: 'no such key' — please report this at the badgekiln issue tracker "
        "(run with --verbose for the full trace)"
    ]


@pytest.mark.parametrize(
    "raised",
    [
        PermissionError(13, "Permission denied", "/srv/x\x1b]0;PWNED\x07\u202e.txt"),
        RuntimeError("x\x1b]0;PWNED\x07\u202e"),
    ],
    ids=["environment", "internal"],
)
def test_an_os_or_internal_error_names_a_path_with_its_control_characters_escaped(
    minimal_site, run, monkeypatch, raised
):
    """A path or text in an error the build did not expect (a file it may not write, a bug) is
    shown with its control characters escaped: a name from a pull request cannot retitle the terminal."""
    from badgekiln.commands import build as build_mod

    def run_build(*args, **kwargs):
        raise raised

    monkeypatch.setattr(build_mod, "run_build", run_build)
    monkeypatch.delenv("BADGEKILN_VERBOSE", raising=False)
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == (1 if isinstance(raised, OSError) else 2), result.err
    assert "x\\x1b]0;PWNED\\x07\\u202e" in result.err, result.err
    assert not any(c in result.err for c in "\x1b\x07\u202e"), result.err


def test_init_into_a_path_through_a_file_is_an_error_not_a_bug(run, tmp_path):
    """``badgekiln init notes.txt/site`` (a path through a file): the error names the path, with
    no "internal error" and no request to report a bug."""
    (tmp_path / "notes.txt").write_text("x")
    result = run("init", str(tmp_path / "notes.txt" / "site"))
    assert result.code == 1, result.err
    assert result.err.startswith(f"error: {tmp_path / 'notes.txt' / 'site'}") and "Not a directory" in result.err
    assert "internal error" not in result.err and "report" not in result.err


@pytest.mark.parametrize("how", ["--verbose", "build --verbose", "BADGEKILN_VERBOSE=1"])
def test_verbose_shows_the_full_trace(minimal_site, run, monkeypatch, how):
    _broken_build(monkeypatch)
    args = ["build", "--source", str(minimal_site), "--today", TODAY]
    if how == "--verbose":
        args.insert(0, "--verbose")
    elif how == "build --verbose":
        args.append("--verbose")
    else:
        monkeypatch.setenv("BADGEKILN_VERBOSE", "1")
    result = run(*args)
    assert result.code == 2
    assert result.err.startswith("Traceback (most recent call last):")
    assert 'return {}["no such key"]' in result.err
    assert result.err.strip().splitlines()[-1] == (
        "badgekiln: internal error: KeyError: 'no such key' — please report this at the badgekiln issue tracker"
    )


def test_ctrl_c_says_interrupted_and_exits_130(minimal_site, tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "badgekiln.cli",
            "serve",
            "--source",
            str(minimal_site),
            "--today",
            TODAY,
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(_env(), PYTHONUNBUFFERED="1"),
    )
    watchdog = threading.Timer(240, proc.kill)  # (readline below must not wait forever)
    watchdog.start()
    try:
        line = proc.stdout.readline()  # "serving N files at http://127.0.0.1:PORT/"
        assert line.startswith("serving "), proc.stderr.read() if proc.poll() is not None else line
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == "interrupted"
    assert "Traceback" not in err


def test_markdown_heading_levels_are_bounded():
    from badgekiln.formats.markdown import sanitized_html

    assert sanitized_html("# A\n\n###### F") == '<h2 dir="auto">A</h2>\n<h6 dir="auto">F</h6>\n'
    assert sanitized_html("# A\n\n##### E", 3) == '<h3 dir="auto">A</h3>\n<h6 dir="auto">E</h6>\n'
    # A text's highest heading starts at ``top``, whatever it is written with: "## Questions"
    # under a page's title was an h3 straight after the h1 (axe: heading-order, the About page).
    assert sanitized_html("## Questions\n\n### Write") == '<h2 dir="auto">Questions</h2>\n<h3 dir="auto">Write</h3>\n'
    assert sanitized_html("### Steps", 3) == '<h3 dir="auto">Steps</h3>\n'
    assert sanitized_html("A `<h1>` in code") == '<p dir="auto">A <code>&lt;h1&gt;</code> in code</p>\n'
    for top in (1, 7, "3", True, 2.0):  # (a site's template may pass anything to |markdown(top))
        with pytest.raises(ValueError, match="a heading level from 2 to 6"):
            sanitized_html("# A", top)


@pytest.mark.parametrize(
    "link",
    [
        "mailto:jane.xn--doeexample-rl99c.com",  # (jane.doe＠example.com once decoded: an address)
        "mailto:xn--ab-zd9k",  # (a lone surrogate once decoded: nh3 failed, a traceback)
        "https://xn--ab-zd9k/",
        "mailto:xn--dessap-9l0c",  # (a right-to-left override once decoded)
    ],
)
def test_an_autolinks_text_is_shown_as_the_source_spells_it(link):
    # (a stranger's-PR review: markdown-it decodes a punycode host for an autolink's text)
    from badgekiln.formats.markdown import sanitized_html

    html = sanitized_html(f"Write to <{link}> please")
    assert f">{link}</a>" in html
    assert "\uff20" not in html and "\u202e" not in html and "\ud800" not in html


def test_a_punycode_autolink_in_a_narrative_publishes_no_address(minimal_site, run):
    ann = minimal_site / "recipients/ann.yaml"
    ann.write_text(
        ann.read_text() + '    narrative: "Me: <mailto:jane.xn--doeexample-rl99c.com> <mailto:xn--ab-zd9k>"\n'
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err
    page = (minimal_site / "output/awards/ann-first-1/index.html").read_text()
    assert ">mailto:jane.xn--doeexample-rl99c.com</a>" in page and "\uff20" not in page
