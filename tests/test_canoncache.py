"""The canonicalization templates a build learnt, kept in its cache (engine/canoncache.py): a rebuild
that adds an award of a shape the site has signed before does not load pyld, and a file the
cache did not write as it is (damaged, another version's, restored from an archive) is not read."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import copy_example, tree_bytes
from test_incremental import clean_build

from badgekiln.engine import canoncache

TODAY = "2026-11-22"
ANCHOR = "    badge: confined-space-entry\n    issued_on: 2026-04-14\n"
ADDED = "  - id: jane-added-2\n    badge: confined-space-entry\n    issued_on: 2026-05-02\n"  # (the shape of the award above)
PROBE = (
    "import sys\nfrom badgekiln.cli import main\nfrom badgekiln.engine import workers\n"
    "if sys.argv[1] == 'forked':\n    workers.MIN_PARALLEL = 1\n"
    "try:\n    main(sys.argv[2:])\nexcept SystemExit as e:\n"
    "    assert not e.code, e.code\nprint('pyld' in sys.modules)\n"
)


def _build(site: Path, *, forked: bool = False, **env: str) -> bool:
    """Build ``site`` in a child process; whether it loaded pyld."""
    command = [sys.executable, "-c", PROBE, "forked" if forked else "here", "build", "--source", str(site)]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "BADGEKILN_JOBS": "2", **env}
    done = subprocess.run([*command, "--today", TODAY], env=environment, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().endswith("True")


def _add(site: Path) -> None:
    path = site / "recipients/jane-doe.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.endswith(ANCHOR)
    path.write_text(text + ADDED, encoding="utf-8")


def _kept(site: Path) -> Path:
    return site / ".badgekiln/cache" / canoncache.FILE


def _replace_kept(site: Path, data: bytes) -> None:
    """Put ``data`` in the kept file, and its inode, size and digest in the state (as if this
    machine's last build had written it): only its form then keeps it from being read."""
    _kept(site).write_bytes(data)
    found = _kept(site).stat()
    state_path = site / ".badgekiln/cache/state.json"
    state = json.loads(state_path.read_bytes())
    assert state["canon"][:2] != [found.st_ino, found.st_size] or state["canon"][2] != hashlib.sha256(data).hexdigest()
    state["canon"] = [found.st_ino, found.st_size, hashlib.sha256(data).hexdigest()]
    state_path.write_text(json.dumps(state))


@pytest.mark.parametrize("forked", [False, True], ids=["made here", "made by workers"])
def test_an_award_of_a_shape_signed_before_is_added_without_pyld(tmp_path, run, forked):
    site = copy_example(tmp_path / "site")
    assert _build(site, forked=forked)  # (a first build makes every shape: pyld)
    kept = json.loads(_kept(site).read_bytes())
    assert kept["templates"] and kept["format"] == canoncache.FORMAT  # (from the workers too)
    _add(site)
    assert not _build(site)
    assert tree_bytes(site / "output") == clean_build(run, site, tmp_path)  # (the bytes pyld's templates give)
    assert (site / "output/awards/jane-added-2/credential.json").is_file()


def test_a_restored_cache_does_not_lend_its_templates(tmp_path):
    site = copy_example(tmp_path / "site")
    _build(site)
    _add(site)
    assert _build(site, BADGEKILN_CACHE_RESTORED="1")  # (a pull request's build may have written it)


def test_a_kept_file_that_is_not_the_one_the_state_records_is_not_read(tmp_path):
    """Restored from an archive without saying so, a file has another inode: not this machine's
    (a pull request's build may have written it), so not read, as a blob would not be linked."""
    site = copy_example(tmp_path / "site")
    _build(site)
    copy = _kept(site).with_suffix(".copy")
    copy.write_bytes(_kept(site).read_bytes())
    before = _kept(site).stat().st_ino
    os.replace(copy, _kept(site))  # (the same bytes, another inode)
    assert _kept(site).stat().st_ino != before
    _add(site)
    assert _build(site)
    state = json.loads((site / ".badgekiln/cache/state.json").read_bytes())
    assert state["canon"][0] == _kept(site).stat().st_ino  # (the file written again is recorded)
    _add_again(site)
    assert not _build(site)  # (and read by the next build)


def _add_again(site: Path) -> None:
    path = site / "recipients/jane-doe.yaml"
    path.write_text(path.read_text(encoding="utf-8") + ADDED.replace("jane-added-2", "jane-added-3"), encoding="utf-8")


def _other_fingerprint(kept: dict) -> dict:
    return {**kept, "fingerprint": "0" * 64}


def _other_pyld(kept: dict) -> dict:
    return {**kept, "pyld": "0.0.1"}


def _other_format(kept: dict) -> dict:
    return {**kept, "format": 0}


def _shape_of_an_object(kept: dict) -> dict:
    return {**kept, "templates": [{**kept["templates"][0], "shape": {"d": 1}}]}


def _a_term_of_no_form(kept: dict) -> dict:
    record = next(r for r in kept["templates"] if "quads" in r)
    return {**kept, "templates": [{**record, "quads": [[["x", 1, 2], "<a>", "<b>"]]}]}


def _a_negative_leaf(kept: dict) -> dict:
    record = next(r for r in kept["templates"] if "quads" in r)
    return {**kept, "templates": [{**record, "iri_leaves": [-1]}]}


@pytest.mark.parametrize(
    "alter",
    [_other_fingerprint, _other_pyld, _other_format, _shape_of_an_object, _a_term_of_no_form, _a_negative_leaf],
)
def test_a_kept_file_of_another_form_is_not_read(tmp_path, run, alter):
    site = copy_example(tmp_path / "site")
    _build(site)
    _replace_kept(site, json.dumps(alter(json.loads(_kept(site).read_bytes()))).encode())
    _add(site)
    assert _build(site)  # (pyld made the shapes again)
    assert tree_bytes(site / "output") == clean_build(run, site, tmp_path)
    assert json.loads(_kept(site).read_bytes())["fingerprint"] != "0" * 64  # (written again, as this build knows them)


@pytest.mark.parametrize("junk", [b"", b"not json", b"[]", b'{"format": 1}', b"\xff\xfe"])
def test_a_kept_file_that_is_not_a_record_is_not_read(tmp_path, junk):
    site = copy_example(tmp_path / "site")
    _build(site)
    _replace_kept(site, junk)
    _add(site)
    assert _build(site)
    assert json.loads(_kept(site).read_bytes())["templates"]


def test_a_link_at_the_kept_files_name_is_not_followed(tmp_path):
    site = copy_example(tmp_path / "site")
    _build(site)
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes(_kept(site).read_bytes())
    _kept(site).unlink()
    _kept(site).symlink_to(elsewhere)
    _add(site)
    assert _build(site)  # (not read through the link)
    assert not _kept(site).is_symlink() and elsewhere.read_bytes() != b""  # (replaced, not written through)
