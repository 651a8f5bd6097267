"""A rebuild with nothing changed is a replay of the last build's report (engine/stamp.py): any
change to what a build reads, or to the folders of output/, must make it a full build again."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import TODAY, build, tree_bytes

from badgekiln.commands import build as build_mod
from badgekiln.engine import stamp

STAMP = Path(".badgekiln/cache/stamp.json")


def _settle(site: Path, run) -> Path:
    """Build ``site`` until its stamp is kept (a build right after the sources were written may
    see them in the same clock tick, and then keeps none)."""
    for _ in range(4):
        if (site / STAMP).is_file():
            return site
        time.sleep(0.02)
        build(run, site)
    raise AssertionError("no stamp was kept")


@pytest.fixture
def settled(keyed_site, run):
    """The example site, built until its stamp is kept."""
    return _settle(keyed_site, run)


@pytest.fixture
def full_builds(monkeypatch):
    """How many times the build really ran (the replay does not call run_build)."""
    calls = []
    real = build_mod.run_build

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(build_mod, "run_build", counting)
    return calls


def test_a_rebuild_with_nothing_changed_replays_the_report(settled, run, full_builds):
    state = (settled / ".badgekiln/cache/state.json").stat().st_mtime_ns
    before = tree_bytes(settled / "output")
    recorded = json.loads((settled / STAMP).read_text())
    result = build(run, settled)
    assert full_builds == []
    assert "(0 written," in result.out and "since the last build: 0 added, 0 changed, 0 revoked" in result.out
    assert result.out.splitlines()[1:] == recorded["summary"] and recorded["files"] > 100
    assert tree_bytes(settled / "output") == before
    assert (settled / ".badgekiln/cache/state.json").stat().st_mtime_ns == state


def test_the_replay_says_the_same_warnings(example_site, run, full_builds):
    """Development keys: every build warns; the replay too, and says what the build would."""
    full = replayed = None
    for _ in range(5):  # (the first builds make the development keys, and may be racy)
        count = len(full_builds)
        result = build(run, example_site)
        if len(full_builds) == count:
            replayed = result
            break
        full = result
        time.sleep(0.02)
    assert full is not None and replayed is not None
    assert "development keys" in replayed.err.lower()
    assert replayed.err == full.err
    assert "(0 written, 213 unchanged)" in replayed.out and "since the last build: 0 added" in replayed.out


def _edit_recipient(site: Path) -> None:
    path = site / "recipients/jane-doe.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Jane", "Jana", 1), encoding="utf-8")  # the same size


def _touch(site: Path) -> None:
    os.utime(site / "badges/pipefitting-mji10.yaml")


def _new_page(site: Path) -> None:
    (site / "site_src/pages").mkdir(exist_ok=True)
    (site / "site_src/pages/about.md").write_text("---\ntitle: About\n---\nHello.\n", encoding="utf-8")


def _template(site: Path) -> None:
    (site / "templates").mkdir(exist_ok=True)
    (site / "templates/extra.txt").write_text("x", encoding="utf-8")


def _key_file(site: Path) -> None:
    folder = Path(os.environ["BADGEKILN_KEYS_DIR"])
    (folder / "unused.pem").write_text("not a key", encoding="utf-8")


def _remove_output_file(site: Path) -> None:
    (site / "output/awards/7q4kz2m9xw/assertion.json").unlink()


def _stray_output_file(site: Path) -> None:
    (site / "output/awards/7q4kz2m9xw/stray.txt").write_text("x", encoding="utf-8")


def _replace_output_file(site: Path) -> None:
    page = site / "output/awards/7q4kz2m9xw/index.html"
    data = page.read_bytes()
    page.unlink()
    page.write_bytes(data)


def _remove_output_folder(site: Path) -> None:
    shutil.rmtree(site / "output/awards/7q4kz2m9xw")


def _asset_in_a_cache_named_folder(site: Path) -> None:
    """(set up by the test: a published asset under a folder named like those a build skips)"""
    (site / "site_src/assets/__pycache__/brand.css").write_text("body{color:blue}", encoding="utf-8")


def _summary_gone(site: Path) -> None:
    (site / ".badgekiln/last-build.json").unlink()


def _state_damaged(site: Path) -> None:
    (site / ".badgekiln/cache/state.json").write_text("x", encoding="utf-8")


def _git_index(site: Path) -> None:
    (site / ".git").mkdir(exist_ok=True)
    (site / ".git/index").write_bytes(b"DIRC")


def _nul_in_stamp(site: Path) -> None:
    data = json.loads((site / STAMP).read_text())
    data["folders"].append("a\u0000b")
    (site / STAMP).write_text(json.dumps(data), encoding="utf-8")


def _garbage_stamp(site: Path) -> None:
    (site / STAMP).write_text("{not json", encoding="utf-8")


def _folder_stamp(site: Path) -> None:
    (site / STAMP).unlink()
    (site / STAMP).mkdir()


def _linked_stamp(site: Path) -> None:
    real = site.parent / "elsewhere.json"
    real.write_bytes((site / STAMP).read_bytes())
    (site / STAMP).unlink()
    (site / STAMP).symlink_to(real)


def _dotted_stamp(site: Path) -> None:
    data = json.loads((site / STAMP).read_text())
    data["folders"].append("../..")
    (site / STAMP).write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize(
    "change",
    [
        _edit_recipient,
        _touch,
        _new_page,
        _template,
        _key_file,
        _remove_output_file,
        _stray_output_file,
        _replace_output_file,
        _remove_output_folder,
        _asset_in_a_cache_named_folder,
        _summary_gone,
        _state_damaged,
        _git_index,
        _nul_in_stamp,
        _garbage_stamp,
        _folder_stamp,
        _linked_stamp,
        _dotted_stamp,
    ],
)
def test_any_change_makes_a_full_build(keyed_site, run, full_builds, change, tmp_path):
    if change is _asset_in_a_cache_named_folder:
        (keyed_site / "site_src/assets/__pycache__").mkdir()
        (keyed_site / "site_src/assets/__pycache__/brand.css").write_text("body{color:red}", encoding="utf-8")
    settled = _settle(keyed_site, run)
    full_builds.clear()
    change(settled)
    result = run("build", "--source", str(settled), "--today", TODAY)
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    assert len(full_builds) == 1
    if change is _asset_in_a_cache_named_folder:
        assert (settled / "output/assets/__pycache__/brand.css").read_text(encoding="utf-8") == "body{color:blue}"
    if change in (_remove_output_file, _stray_output_file, _remove_output_folder):
        assert not (settled / "output/awards/7q4kz2m9xw/stray.txt").exists()
        assert (settled / "output/awards/7q4kz2m9xw/assertion.json").is_file()


@pytest.mark.parametrize(
    "options",
    [("--today", "2026-11-23"), ("--base-url", "https://preview.example.org/"), ("--frozen",)],
)
def test_other_options_make_a_full_build(settled, run, full_builds, options):
    args = ["build", "--source", str(settled), "--today", TODAY, *options]
    if options[0] == "--today":
        args = ["build", "--source", str(settled), *options]
    assert run(*args).code == 0
    assert len(full_builds) == 1


def test_the_environment_the_build_reads_makes_a_full_build(settled, run, full_builds, monkeypatch):
    monkeypatch.setenv("BADGEKILN_SMTP_PASSWORD", "hunter2")
    build(run, settled)
    assert len(full_builds) == 1
    assert "hunter2" not in (settled / STAMP).read_text()  # (digested through scrypt)
    build(run, settled)
    assert len(full_builds) == 1  # (the same password: a replay)
    monkeypatch.setenv("BADGEKILN_SMTP_PASSWORD", "hunter3")
    build(run, settled)
    assert len(full_builds) == 2


def test_a_build_that_pins_ids_keeps_no_stamp(settled, run, full_builds):
    path = settled / "recipients/jane-doe.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").rstrip("\n") + "\n  - badge: first-aid-at-work\n    issued_on: 2026-09-01\n",
        encoding="utf-8",
    )
    result = build(run, settled)
    assert "pinned 1 new award id" in result.err
    assert not (settled / STAMP).exists()  # the build changed its own sources: the next one runs in full
    build(run, settled)
    assert len(full_builds) == 2


def test_a_source_changed_while_the_build_ran_is_seen_by_the_next(settled, run, full_builds, monkeypatch):
    """The inputs are stat-ed before the build reads them: an edit made during the build is a
    change for the next one, never part of a stamp."""
    real = full_builds  # (counting wrapper already in place)
    inner = build_mod.run_build

    def editing(*args, **kwargs):
        result = inner(*args, **kwargs)
        _edit_recipient(settled)
        return result

    monkeypatch.setattr(build_mod, "run_build", editing)
    _touch(settled)
    build(run, settled)
    monkeypatch.setattr(build_mod, "run_build", inner)
    build(run, settled)
    assert len(real) == 2
    assert any("Jana Doe" in p.read_text(encoding="utf-8") for p in (settled / "output/awards").glob("*/index.html"))


def test_a_racy_stamp_is_not_kept(settled):
    racy = stamp.Inputs("x", racy=True)
    (settled / STAMP).unlink()
    assert stamp.record(settled, settled / "output", racy, stamp.Report((), 0, ())) is False
    assert not (settled / STAMP).exists()


def test_a_warning_about_a_damaged_cache_is_not_replayed(settled, run, full_builds):
    (settled / ".badgekiln/cache/state.json").write_text("{cut short", encoding="utf-8")
    _touch(settled)
    assert "cache-damaged" in build(run, settled).err
    assert not (settled / STAMP).exists()
    assert "cache-damaged" not in build(run, settled).err
    assert len(full_builds) == 2


def test_the_replay_names_the_output_folder_as_given(settled, run, full_builds, monkeypatch):
    monkeypatch.chdir(settled.parent)
    result = build(run, settled.name)
    assert len(full_builds) == 0
    assert result.out.startswith("built ") and f"into {settled.name}/output (0 written" in result.out


def test_a_folder_that_is_not_a_site_has_no_stamp(tmp_path, run):
    (tmp_path / "nosite" / "recipients").mkdir(parents=True)
    assert stamp.inputs(tmp_path / "nosite", tmp_path / "nosite/output", {}) == stamp.Inputs("", racy=True)
    result = run("build", "--source", str(tmp_path / "nosite"), "--today", TODAY)
    assert result.code == 1 and "Traceback" not in result.err
    assert not (tmp_path / "nosite" / STAMP).exists()


def test_the_stamp_is_kept_under_the_cache_lock(settled, run, monkeypatch):
    """Another build must not change output/ between this build's writes and its stamp."""
    import fcntl

    seen = []
    real = stamp.record

    def checking(source, *args, **kwargs):
        with open(source / ".badgekiln/cache/lock", "a+b") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                seen.append("free")
            except BlockingIOError:
                seen.append("held")
        return real(source, *args, **kwargs)

    monkeypatch.setattr(stamp, "record", checking)
    _touch(settled)
    build(run, settled)
    assert seen == ["held"]


def test_the_build_after_a_clean_one_is_a_replay(keyed_site, run, full_builds):
    """A clean build makes output/ and .badgekiln/ at the top of the tree: they are not inputs."""
    shutil.rmtree(keyed_site / "output")
    shutil.rmtree(keyed_site / ".badgekiln")
    time.sleep(0.05)  # (the sources were written more than a clock tick before the build)
    build(run, keyed_site)
    build(run, keyed_site)
    assert len(full_builds) == 1


def test_a_stamp_from_elsewhere_is_never_parsed(settled, run, full_builds, monkeypatch):
    """A committed .badgekiln/cache/stamp.json (anyone's bytes, up to the size limit) does not
    start with this tree's inputs: it is compared by its first bytes and never given to the JSON
    parser (a large one would cost memory many times its size)."""
    (settled / STAMP).write_text(
        '{"inputs":"' + "0" * 64 + '","folders":[' + "{}," * 100_000 + "{}]}", encoding="utf-8"
    )
    parsed = []
    real = json.loads
    monkeypatch.setattr(
        stamp.json,
        "loads",
        lambda data, *a, **k: (
            parsed.append(data[:12] if isinstance(data, bytes) else data[:12].encode()) or real(data, *a, **k)
        ),
    )
    build(run, settled)
    assert len(full_builds) == 1
    assert b'{"inputs":"0' not in parsed


def test_folder_lines_use_the_known_and_stat_only_the_others(tmp_path):
    """A rebuild records 100,000 folders of output/ it mostly did not touch: their lines are the
    scan's (``known``), taken as they are, and only the others are stat-ed; the latest ctime a
    record waits past is of those (the known were settled when the last record was kept)."""
    from badgekiln.engine import outputstamp

    out = tmp_path / "out"
    (out / "a" / "b").mkdir(parents=True)
    (out / "c").mkdir()
    names = outputstamp.folders(out)
    assert names == ["", "a", "a/b", "c"]
    full = outputstamp.lines(out, names)
    assert full is not None and all(line.startswith(f"{name}\0") for name, line in zip(names, full))
    known = {"a": "a\0made up\n", "elsewhere": "x\n"}
    assert outputstamp.lines(out, names, known) == [full[0], known["a"], full[2], full[3]]
    every = outputstamp.digest(out, names)
    ctimes = {name: os.lstat(out / name).st_ctime_ns for name in names}
    assert every is not None and every[1] == max(ctimes.values())
    settled = {name: line for name, line in zip(names, full) if name != "c"}
    some = outputstamp.digest(out, names, settled)
    assert some == (every[0], ctimes["c"])
    assert outputstamp.digest(out, [*names, "gone"], settled) is None
    (out / "a" / "b").rmdir()
    (out / "a" / "b").write_text("not a folder")
    assert outputstamp.lines(out, names, {"": full[0]}) is None


def test_development_keys_removed_after_the_build_that_made_them_are_made_again(
    minimal_site, run, tmp_path, monkeypatch
):
    """A review (2026-12-07): the stamp held the key folders as they were before the build that made
    the development keys (none), so removing them matched it, and the next build replayed output
    signed with keys that no longer existed."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "own-cache"))  # (keys of this test alone)
    keys = tmp_path / "own-cache/badgekiln/dev-keys"
    assert run("build", "--source", str(minimal_site), "--today", TODAY).code == 0  # (writes the ledger too)
    shutil.rmtree(keys)
    assert run("build", "--source", str(minimal_site), "--today", TODAY).code == 0  # (makes the keys again)
    assert keys.is_dir() and not (minimal_site / STAMP).exists()  # (so it keeps no stamp)
    signed = (minimal_site / "output/awards/ann-first-1/credential.json").read_bytes()
    shutil.rmtree(keys)
    again = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert again.code == 0 and keys.is_dir()  # (not a replay: the keys are made again)
    assert (minimal_site / "output/awards/ann-first-1/credential.json").read_bytes() != signed  # (signed by them)
    settled = run("build", "--source", str(minimal_site), "--today", TODAY)  # (the keys stay: a stamp is kept again)
    assert settled.code == 0 and (minimal_site / STAMP).exists()
