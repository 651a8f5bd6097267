"""Attack tests: files are read only from where they belong (docs/security.md, T2 and T10).

A pull request can add a symbolic link anywhere (a file, or a whole folder such as
``recipients/``), a named pipe that blocks whoever opens it for reading, a file of gigabytes, or
leave stray files where records live; a CI cache can come back damaged. Each class of attack is
one test here, played against the real command line; each fails without its mitigation
(``badgekiln.sources.safefiles`` and its callers, ``validate._yaml_files``, ``cache._read_state`` and
the blob store's checks).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import MINIMAL, TODAY, build, cli_child, edit_bundle_texts, tree_bytes, write_site
from test_attacks import assert_refused, build_then_break, located_errors

SECRET = b"HOST-SECRET-7d1f"  # what an attacker's link would publish


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    """A host file outside the repository that every attack tries to publish."""
    path = tmp_path / "host" / "secret.txt"
    path.parent.mkdir()
    path.write_bytes(b"name: " + SECRET + b"\n" + SECRET + b"\n")
    return path


def assert_nothing_leaked(result, site: Path) -> None:
    assert SECRET.decode() not in result.err + result.out
    if (site / "output").exists():
        for rel, content in tree_bytes(site / "output").items():
            assert SECRET not in content, rel


# Each source file the build reads, and what to write there for the site to stay valid.
SOURCE_FILES = {
    "recipients/ann.yaml": None,
    "badges/first-badge.yaml": None,
    "site_src/site.yaml": None,
    "site_src/pages/about.md": "---\ntitle: About\n---\nHello.\n",
    "site_src/keys/k1.yaml": None,
    "site_src/awards.lock": None,
    "templates/award.html": "{% extends '!builtin/award.html' %}\n",
}


# -- 1. a file that is a symbolic link ------------------------------------------------------------


@pytest.mark.parametrize("rel", SOURCE_FILES)
def test_a_source_file_that_is_a_link_is_refused(minimal_site, run, secret_file, rel):
    def link(site: Path) -> None:
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        path.symlink_to(secret_file)

    result = build_then_break(run, minimal_site, {}, before_break=link)
    assert_refused(result, rel, "symbolic link")
    assert_nothing_leaked(result, minimal_site)
    check = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert check.code != 0 and "Traceback" not in check.err and located_errors(check.err, rel)


def test_a_private_key_file_that_is_a_link_is_refused(minimal_site, run, tmp_path, secret_file):
    # The keys folder is outside the repository; a link in it could lead back inside, or to a FIFO.
    assert run("keys", "generate", "--source", str(minimal_site), "--today", TODAY).code == 0
    pem = next((tmp_path / "private-keys").glob("*.pem"))
    pem.unlink()
    pem.symlink_to(secret_file)
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "Traceback" not in result.err
    assert "symbolic link" in result.err and pem.name in result.err
    assert_nothing_leaked(result, minimal_site)


def test_a_linked_stylesheet_or_asset_is_not_read_or_published(minimal_site, run, secret_file):
    (minimal_site / "site_src/assets/site.css").symlink_to(secret_file)
    (minimal_site / "site_src/assets/font.woff2").symlink_to(secret_file)
    result = build(run, minimal_site)
    assert "site_src/assets/site.css: warning[asset-not-published]" in result.err
    assert not (minimal_site / "output/assets/site.css").exists()
    assert b"site.css" not in (minimal_site / "output/index.html").read_bytes()  # not linked either
    assert_nothing_leaked(result, minimal_site)


# -- 2. a folder that is a symbolic link ----------------------------------------------------------


@pytest.mark.parametrize(
    "folder", ["recipients", "badges", "site_src", "site_src/assets", "site_src/pages", "site_src/keys", "templates"]
)
def test_a_source_folder_that_is_a_link_is_refused(minimal_site, run, tmp_path, folder):
    write_site(
        minimal_site,
        {
            "site_src/pages/about.md": SOURCE_FILES["site_src/pages/about.md"],
            "templates/award.html": SOURCE_FILES["templates/award.html"],
        },
    )
    assert run("keys", "generate", "--source", str(minimal_site), "--today", TODAY).code == 0
    outside = tmp_path / "elsewhere" / folder.replace("/", "-")

    def link(site: Path) -> None:
        outside.parent.mkdir(exist_ok=True)
        (site / folder).rename(outside)
        (site / folder).symlink_to(outside, target_is_directory=True)

    result = build_then_break(run, minimal_site, {}, before_break=link)
    assert_refused(result, folder, "symbolic link")
    before = {p: p.stat().st_mtime_ns for p in outside.rglob("*")}
    assert run("check", "--source", str(minimal_site), "--today", TODAY).code == 1
    assert {p: p.stat().st_mtime_ns for p in outside.rglob("*")} == before  # nothing written there


# -- 3. templates: a link, also reached through {% include %} or {% extends %} -----------------------


@pytest.mark.parametrize("how", ["include", "extends", "import", "unused"])
def test_a_template_reaching_a_linked_file_is_refused(minimal_site, run, secret_file, how):
    # An unused link is refused too: build and check read every file of templates/ alike.
    text = {
        "include": "{% extends '!builtin/award.html' %}{% block main %}{% include 'part.html' %}{% endblock %}",
        "extends": "{% extends 'part.html' %}",
        "import": "{% import 'part.html' as part %}{% extends '!builtin/award.html' %}",
        "unused": "{% extends '!builtin/award.html' %}",
    }[how]

    def link(site: Path) -> None:
        (site / "templates/part.html").symlink_to(secret_file)

    result = build_then_break(run, minimal_site, {"templates/award.html": text}, before_break=link)
    assert_refused(result, "templates/part.html", "symbolic link")
    assert_nothing_leaked(result, minimal_site)
    check = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert check.code == 1 and located_errors(check.err, "templates/part.html")


def test_a_template_name_cannot_climb_out_of_templates(minimal_site, run, secret_file):
    write_site(
        minimal_site,
        {
            "templates/award.html": (
                "{% extends '!builtin/award.html' %}{% block main %}{% include '../../host/secret.txt' %}{% endblock %}"
            )
        },
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "Traceback" not in result.err
    assert_nothing_leaked(result, minimal_site)


# -- 4. special files: a FIFO would block the build for ever -----------------------------------------

FIFO_PLACES = [
    "recipients/bob.yaml",
    "site_src/site.yaml",
    "templates/award.html",
    "site_src/awards.lock",
    "site_src/keys/k1.yaml",
    "site_src/pages/about.md",
    "site_src/assets/badge.svg",
    "site_src/assets/site.css",
    ".badgekiln/cache/state.json",
    ".badgekiln/cache/lock",
]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
@pytest.mark.parametrize("rel", FIFO_PLACES)
def test_a_fifo_is_never_opened_and_the_build_does_not_hang(minimal_site, run, rel):
    build(run, minimal_site)
    path = minimal_site / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    for command in ("build", "check"):
        try:
            result = cli_child(command, "--source", str(minimal_site), "--today", TODAY, timeout=90)
        except subprocess.TimeoutExpired:
            pytest.fail(f"'badgekiln {command}' hung on the FIFO {rel}")
        assert "Traceback" not in result.stderr, result.stderr
        if rel.startswith(".badgekiln"):  # the cache is not the sources: it is ignored, with a warning
            assert result.returncode == 0, result.stderr
            assert command == "check" or "warning[cache-damaged]" in result.stderr
        elif rel == "site_src/assets/site.css":  # not referenced: not read, not published, said
            assert result.returncode == 0 and "warning[asset-not-published]" in result.stderr
        else:
            assert result.returncode == 1
            where = "badges/first-badge.yaml" if rel.endswith("badge.svg") else rel
            assert located_errors(result.stderr, where), result.stderr
            assert "named pipe" in result.stderr or "not a regular file" in result.stderr


# -- 5. sizes are checked before anything is read or hashed ---------------------------------------------


def _sparse(path: Path, size: int) -> None:
    """A file of ``size`` bytes that takes no room on disk (reading it would still take time and memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.truncate(size)


@pytest.mark.parametrize(
    "rel, size, says",
    [
        ("templates/award.html", 3 * 2**20, "limit"),
        ("site_src/assets/huge.woff2", 11 * 2**20, "at most"),
        ("site_src/awards.lock", 300 * 2**20, "limit"),
        ("site_src/keys/k1.yaml", 3 * 2**20, "limit"),
        ("site_src/pages/big.md", 3 * 2**20, "limit"),
    ],
)
def test_an_oversized_file_is_refused_before_it_is_read(minimal_site, run, rel, size, says):
    result = build_then_break(run, minimal_site, {}, before_break=lambda site: _sparse(site / rel, size))
    assert_refused(result, rel, says)


def test_an_oversized_private_key_file_is_refused_before_it_is_read(minimal_site, run, tmp_path):
    assert run("keys", "generate", "--source", str(minimal_site), "--today", TODAY).code == 0
    pem = next((tmp_path / "private-keys").glob("*.pem"))
    _sparse(pem, 2**30)
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "Traceback" not in result.err and "limit" in result.err


# -- 6. stray files where records live: clear, never a traceback -------------------------------------

STRAYS = {  # name: (kind, expected level or None for silence, code)
    "notes.txt": ("file", "warning", "not-a-record"),
    "awards.csv": ("file", "warning", "not-a-record"),
    ".DS_Store": ("file", None, None),
    "README.md": ("file", None, None),
    ".git-folder": ("dir", None, None),
    "2026": ("dir", "error", "unexpected-folder"),
    "bob.yml": ("file", "error", "bad-extension"),
    "bob.YAML": ("file", "error", "unexpected-file"),
    "bob.yaml.txt": ("file", "error", "unexpected-file"),
}


@pytest.mark.parametrize("folder", ["recipients", "badges"])
@pytest.mark.parametrize("name", STRAYS)
@pytest.mark.parametrize("cached", [True, False], ids=["build", "check"])
def test_stray_files_in_record_folders_get_a_clear_message(minimal_site, run, folder, name, cached):
    kind, level, code = STRAYS[name]
    if cached:
        build(run, minimal_site)  # so the second build goes through the cache's loading
    path = minimal_site / folder / (".git" if name == ".git-folder" else name)
    if kind == "dir":
        path.mkdir()
        (path / "zed.yaml").write_text("name: Zed\n", encoding="utf-8")
    else:
        path.write_text("name: Zed\n", encoding="utf-8")
    result = run("build" if cached else "check", "--source", str(minimal_site), "--today", TODAY)
    assert "Traceback" not in result.err
    rel = f"{folder}/{path.name}"
    if level is None:
        assert result.code == 0 and rel not in result.err, result.err
    else:
        assert f"{rel}: {level}[{code}]" in result.err, result.err
        assert result.code == (1 if level == "error" else 0), result.err


# A file name is whatever a pull request gave it: a terminal escape (here, one that sets the
# window's title: click strips colours, not these), a bell, a right-to-left override.
HOSTILE_NAMES = {
    "evil\x1b]0;pwned\x07.yml": "evil\\x1b]0;pwned\\x07.yml",
    "x\u202egpj.yaml": "x\\u202egpj.yaml",
    "line\nbreak.yml": "line\\x0abreak.yml",
}


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_file_name_with_control_characters_is_printed_escaped(minimal_site, run, name):
    """The error that names a hostile file shows its control characters as escapes: nothing a
    terminal or a CI log would act on (a new title, colours, reordered text, a faked line)."""
    (minimal_site / "recipients" / name).write_text("name: Zed\n", encoding="utf-8")
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "Traceback" not in result.err
    assert f"recipients/{HOSTILE_NAMES[name]}: error[" in result.err, result.err
    shown = result.err + result.out
    assert not any(c in shown for c in "\x1b\x07\u202e"), shown
    assert "\nbreak" not in shown


def test_printable_escapes_what_a_terminal_acts_on_or_hides_and_nothing_else():
    from badgekiln.errors import printable

    hidden = [*map(chr, [*range(0x00, 0x0A), *range(0x0B, 0x20), *range(0x7F, 0xA0)]), "\u00ad", "\u061c"]
    hidden += ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2028", "\u2029", "\u2060", "\u2064"]
    hidden += [*map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]), "\ufeff", "\ufff9", "\udcff"]
    hidden += ["\U000e0001", "\U000e0041", "\U000e007f"]  # (tag characters: invisible ASCII)
    for char in hidden:
        shown = printable(f"a{char}b")
        assert shown.startswith("a\\") and shown.endswith("b") and char not in shown and shown.isprintable(), repr(char)
    assert printable("x\U000e0041") == "x\\U000e0041" and printable("x\x1b") == "x\\x1b"
    assert printable("one\ntwo") == "one\ntwo" and printable("one\ntwo", newlines=False) == "one\\x0atwo"
    plain = "Zoë Ñandú 明 שלום 👍🏽 — recipients/ok-1.yaml: \\x1b is text"
    assert printable(plain) == plain


# -- 7. a damaged build cache is ignored with a warning; the build is as a clean one -----------------


def _state(site: Path) -> Path:
    return site / ".badgekiln/cache/state.json"


def _edit_state(site: Path, change) -> None:
    data = json.loads(_state(site).read_text(encoding="utf-8"))
    change(data)
    _state(site).write_text(json.dumps(data), encoding="utf-8")


def _shards(site: Path) -> list[Path]:
    return sorted((site / ".badgekiln/cache/bundles").glob("*.json"))


def _rename_to_sha(site: Path, data: bytes) -> None:
    """Put ``data`` in place of every shard file, each named (and recorded) as the SHA-256 of ``data``."""
    sha = hashlib.sha256(data).hexdigest()
    for path in _shards(site):
        path.unlink()
    (site / ".badgekiln/cache/bundles" / f"{sha}.json").write_bytes(data)
    _edit_state(site, lambda d: d["shards"].update(dict.fromkeys(d["shards"], sha)))


def _blobs(site: Path) -> list[Path]:
    return sorted(p for p in (site / ".badgekiln/cache/blobs").rglob("*") if p.is_file())


def _into_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()
    (path / "x").write_text("x")


def _into_link(path: Path, target: Path) -> None:
    size = path.stat().st_size
    target.write_bytes(b"<script>" * (size // 8 + 1))
    path.unlink()
    path.symlink_to(target)


CACHE_DAMAGE = {
    "truncated": lambda site, tmp: _state(site).write_bytes(_state(site).read_bytes()[:100]),
    "groups-a-list": lambda site, tmp: _edit_state(site, lambda d: d.update(groups=[1, 2])),
    "group-not-a-pair": lambda site, tmp: _edit_state(
        site, lambda d: d["groups"].update({k: [1, 2] for k in d["groups"]})
    ),
    "group-bad-entry": lambda site, tmp: _edit_state(
        site, lambda d: d["groups"].update({k: [v[0], "../../x " + "0" * 64 + " 1 2"] for k, v in d["groups"].items()})
    ),
    "bundle-not-a-pair": lambda site, tmp: _edit_state(
        site, lambda d: d["bundles"].update({k: [1, 2] for k in d["bundles"]})
    ),
    # (a bundle's text is read when a rebuild plans its groups one by one: the output was removed)
    "bundle-bad-entry": lambda site, tmp: edit_bundle_texts(
        site, lambda texts: texts.update({k: v.replace("awards/", "../../awards/") for k, v in texts.items()})
    ),
    "bundle-not-lines": lambda site, tmp: edit_bundle_texts(
        site, lambda texts: texts.update(dict.fromkeys(texts, "award/x/page\tzz"))
    ),
    "shard-not-its-sha": lambda site, tmp: [p.write_text("{}") for p in _shards(site)],
    "shard-not-json": lambda site, tmp: _rename_to_sha(site, b"[" * 100000),
    "shard-deeply-nested": lambda site, tmp: _rename_to_sha(
        site, b"[" * 300000 + b"]" * 300000
    ),  # (orjson: a segfault)
    "shard-not-texts": lambda site, tmp: _rename_to_sha(site, b'{"recipients/jane-doe.yaml": [1]}'),
    "shard-a-link": lambda site, tmp: [(p.rename(tmp / p.name), p.symlink_to(tmp / p.name)) for p in _shards(site)],
    "shard-missing": lambda site, tmp: [p.unlink() for p in _shards(site)],
    "shard-a-folder": lambda site, tmp: [(p.unlink(), p.mkdir()) for p in _shards(site)],
    "shard-bad-name": lambda site, tmp: _edit_state(site, lambda d: d["shards"].update({"../x": "0" * 64})),
    "shards-a-list": lambda site, tmp: _edit_state(site, lambda d: d.update(shards=[])),
    "source-record-wrong": lambda site, tmp: _edit_state(
        site, lambda d: d["sources"].update({k: ["x", 1, 2, 3] for k in d["sources"]})
    ),
    "source-image-climbs": lambda site, tmp: _edit_state(
        site,
        lambda d: [  # (a file the record says it read)
            v.__setitem__(4, [["site_src/../../../dev/zero", None]])
            for k, v in d["sources"].items()
            if k.startswith("badges/")
        ],
    ),
    "deeply-nested": lambda site, tmp: _state(site).write_text("[" * 300000 + "]" * 300000),  # (orjson: a segfault)
    "huge": lambda site, tmp: _sparse(_state(site), 2**30 + 1),
    "state-a-link": lambda site, tmp: (_state(site).unlink(), _state(site).symlink_to("/dev/zero")),
    "blob-a-folder": lambda site, tmp: [_into_folder(p) for p in _blobs(site)],
    "blob-a-link": lambda site, tmp: [_into_link(p, tmp / f"evil-{n}") for n, p in enumerate(_blobs(site))],
}


@pytest.mark.parametrize("damage", CACHE_DAMAGE)
def test_a_damaged_cache_is_ignored_with_a_warning(example_site, run, tmp_path, damage):
    clean = tmp_path / "clean"
    shutil.copytree(example_site, clean)
    build(run, clean)
    build(run, example_site)
    shutil.rmtree(example_site / "output")  # so that nothing is reused from output/ either
    CACHE_DAMAGE[damage](example_site, tmp_path)
    result = run("build", "--source", str(example_site), "--today", TODAY)
    assert result.code == 0 and "Traceback" not in result.err, result.err
    assert "warning[cache-damaged]" in result.err
    assert tree_bytes(example_site / "output") == tree_bytes(clean / "output")
    again = build(run, example_site)  # the cache was made anew
    assert "cache-damaged" not in again.err
    assert tree_bytes(example_site / "output") == tree_bytes(clean / "output")


def test_a_blob_a_worker_finds_damaged_is_reported(example_site, run, monkeypatch):
    # Without a state every group is made again, in worker processes; each worker's store finds
    # the folders put where its blobs go, replaces them, and the parent must say so.
    from badgekiln.engine import workers

    monkeypatch.setattr(workers, "MIN_PARALLEL", 2)
    monkeypatch.setenv(workers.ENV_JOBS, "2")
    clean = build(run, example_site)
    assert "cache-damaged" not in clean.err
    before = tree_bytes(example_site / "output")
    blobs = _blobs(example_site)  # (every one of them is made again below: the same bytes)
    for blob in blobs:
        _into_folder(blob)
    _state(example_site).unlink()
    shutil.rmtree(example_site / "output")
    result = run("build", "--source", str(example_site), "--today", TODAY)
    assert result.code == 0 and "Traceback" not in result.err, result.err
    # (all of them: most were found by the workers, a few by the build's own process)
    assert f"{len(blobs)} cached file(s) were replaced by a link, folder" in result.err, result.err
    assert tree_bytes(example_site / "output") == before


@pytest.mark.parametrize(
    "where",
    [
        ".badgekiln",
        ".badgekiln/cache",
        ".badgekiln/cache/blobs",
        ".badgekiln/cache/bundles",
        ".badgekiln/cache/records",
        "blob-folder",
    ],
)
def test_a_linked_cache_folder_is_not_written_through(minimal_site, run, tmp_path, where):
    build(run, minimal_site)
    outside = tmp_path / "outside"
    if where == "blob-folder":
        where = next(p for p in (minimal_site / ".badgekiln/cache/blobs").iterdir()).relative_to(minimal_site)
    shutil.move(minimal_site / where, outside)
    (minimal_site / where).symlink_to(outside, target_is_directory=True)
    before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in outside.rglob("*")}
    write_site(
        minimal_site,
        {"recipients/bob.yaml": MINIMAL["recipients/ann.yaml"].replace("Ann", "Bob").replace("ann", "bob")},
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0 and "Traceback" not in result.err, result.err
    assert "warning[cache-damaged]" in result.err and "symbolic link" in result.err
    assert {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in outside.rglob("*")} == before
    assert (minimal_site / "output/awards/bob-first-1/index.html").is_file()


@pytest.mark.parametrize("folder", ["bundles", "records"])
def test_a_file_where_a_cache_folder_belongs_is_said_not_a_crash(minimal_site, run, folder):
    build(run, minimal_site)
    where = minimal_site / ".badgekiln/cache" / folder
    shutil.rmtree(where)
    where.write_text("not a folder")
    write_site(
        minimal_site,
        {"recipients/bob.yaml": MINIMAL["recipients/ann.yaml"].replace("Ann", "Bob").replace("ann", "bob")},
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0 and "Traceback" not in result.err and "internal error" not in result.err, result.err
    assert "warning[cache-damaged]" in result.err and "not a folder" in result.err
    assert (minimal_site / "output/awards/bob-first-1/index.html").is_file()
