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
    """Put ``data`` in the kept file, and its inode, size and SHA-256 in the state: all that a
    writer of the cache can record without the site's private keys."""
    _kept(site).write_bytes(data)
    found = _kept(site).stat()
    state_path = site / ".badgekiln/cache/state.json"
    state = json.loads(state_path.read_bytes())
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


def test_a_forged_file_recorded_with_its_inode_size_and_digest_is_not_read(tmp_path):
    """Whoever writes the cache (a restored archive, a planted file) can record any file's inode,
    size and SHA-256 in the state: not its HMAC under the site's keys. A template it planted
    would have the site's key sign N-Quads of its choosing."""
    site = copy_example(tmp_path / "site")
    _build(site)
    kept = json.loads(_kept(site).read_bytes())
    record = next(r for r in kept["templates"] if "quads" in r)
    forged = [{**record, "quads": [["<https://evil.example/c>", "<https://evil.example/says>", '"anything"']]}]
    _replace_kept(site, json.dumps({**kept, "templates": forged}).encode())
    _add(site)
    assert _build(site)  # (pyld made the shape: the forged template was not read)
    assert b"evil.example" not in _kept(site).read_bytes()


# -- the file's form, read with a known key (the site's is derived from its private keys) -------

KEY = b"k" * 32


@pytest.fixture
def fresh_canonicalizer(monkeypatch):
    from badgekiln.crypto import fastcanon

    monkeypatch.setattr(fastcanon, "_DEFAULT", fastcanon.FastCanonicalizer())
    return fastcanon


@pytest.fixture(scope="module")
def credentials(tmp_path_factory) -> list[dict]:
    """The example site's credentials, unsigned."""
    site = copy_example(tmp_path_factory.mktemp("example") / "site")
    _build(site)
    documents = [json.loads(path.read_bytes()) for path in sorted(site.glob("output/awards/*/credential.json"))]
    assert documents
    return [{k: v for k, v in document.items() if k != "proof"} for document in documents]


def _learnt_file(fastcanon, credentials: list[dict]) -> dict:
    """The file a build keeps, made here from the example site's credentials."""
    from badgekiln.engine.cache import code_fingerprint

    maker = fastcanon.FastCanonicalizer()
    for document in credentials:
        maker.canonize(document)
    templates = maker.made()
    return {
        "format": canoncache.FORMAT,
        "fingerprint": code_fingerprint(),
        "pyld": fastcanon._pyld_version(),
        "templates": templates,
    }


def _kept_with(tmp_path: Path, data: bytes, key: bytes = KEY) -> canoncache.Kept:
    import hmac

    root = tmp_path / "cache"
    root.mkdir(exist_ok=True)
    (root / canoncache.FILE).write_bytes(data)
    found = (root / canoncache.FILE).stat()
    record = [found.st_ino, found.st_size, hmac.new(KEY, data, hashlib.sha256).hexdigest()]
    from badgekiln.engine.cache import code_fingerprint

    return canoncache.Kept(root, code_fingerprint(), restored=False, record=record, key=key)


def test_a_file_of_the_right_hmac_is_read(tmp_path, fresh_canonicalizer, credentials):
    kept = _kept_with(tmp_path, json.dumps(_learnt_file(fresh_canonicalizer, credentials)).encode())
    assert kept._read is not None and fresh_canonicalizer.default().made()


def test_a_file_is_not_read_under_another_key_or_when_restored(tmp_path, fresh_canonicalizer, credentials):
    data = json.dumps(_learnt_file(fresh_canonicalizer, credentials)).encode()
    assert _kept_with(tmp_path, data, key=b"o" * 32)._read is None
    assert _kept_with(tmp_path, data, key=None)._read is None  # (no private key of its own: no file)
    record = _kept_with(tmp_path, data).record
    restored = canoncache.Kept(
        tmp_path / "cache", json.loads(data)["fingerprint"], restored=True, record=record, key=KEY
    )
    assert restored._read is None


@pytest.mark.parametrize(
    "alter",
    [
        lambda kept: {**kept, "fingerprint": "0" * 64},
        lambda kept: {**kept, "pyld": "0.0.1"},
        lambda kept: {**kept, "format": 0},
        lambda kept: {**kept, "templates": [{**kept["templates"][0], "shape": {"d": 1}}]},
        lambda kept: {**kept, "templates": "none"},
        lambda kept: [kept],
    ],
    ids=["fingerprint", "pyld", "format", "shape of an object", "templates not a list", "not an object"],
)
def test_a_file_of_another_form_is_not_read(tmp_path, fresh_canonicalizer, credentials, alter):
    data = json.dumps(alter(_learnt_file(fresh_canonicalizer, credentials))).encode()
    assert _kept_with(tmp_path, data)._read is None
    assert fresh_canonicalizer.default().made() == []


@pytest.mark.parametrize("junk", [b"", b"not json", b"[]", b'{"format": 1}', b"\xff\xfe"])
def test_a_file_that_is_not_json_of_templates_is_not_read(tmp_path, fresh_canonicalizer, junk):
    assert _kept_with(tmp_path, junk)._read is None


@pytest.mark.parametrize(
    "record", [[1, 2], [1, 2, "é" * 64], [1, 2, "ab" * 31], ["1", 2, "ab" * 32], {"ino": 1}, "x", None]
)
def test_a_record_of_another_form_in_the_state_reads_nothing_and_raises_nothing(tmp_path, fresh_canonicalizer, record):
    (tmp_path / canoncache.FILE).write_bytes(b"{}")
    kept = canoncache.Kept(tmp_path, "f" * 64, restored=False, record=record, key=KEY)
    assert kept._read is None and kept.record is None


def test_a_record_of_the_files_inode_and_size_with_a_mac_of_other_characters_raises_nothing(
    tmp_path, fresh_canonicalizer
):
    (tmp_path / canoncache.FILE).write_bytes(b"{}")
    found = (tmp_path / canoncache.FILE).stat()
    kept = canoncache.Kept(tmp_path, "f" * 64, restored=False, record=[found.st_ino, found.st_size, "é" * 64], key=KEY)
    assert kept._read is None


@pytest.mark.parametrize(
    "canon",
    ['"\\ud800"', '[1180591620717411303424, 0, "%s"]' % ("a" * 64), "[" * 300 + "]" * 300],
    ids=["lone surrogate", "past 64 bits", "nested past orjson's limit"],
)
def test_a_record_the_state_could_not_be_written_with_is_dropped(tmp_path, run, canon):
    """A damaged record of the templates' file in the state is not carried into the next state
    (written back, it ended every later build in a traceback)."""
    from conftest import build

    site = copy_example(tmp_path / "site")
    assert build(run, site).code == 0
    state_path = site / ".badgekiln/cache/state.json"
    text = state_path.read_text(encoding="utf-8")
    state = json.loads(text)
    del state["groups"]["revocation-list"]  # (so that the state is saved again)
    state_path.write_text(json.dumps({**state, "canon": 0}).replace('"canon": 0', '"canon": ' + canon))
    assert build(run, site).code == 0
    assert canoncache.record_ok(json.loads(state_path.read_bytes()).get("canon")) or "canon" not in json.loads(
        state_path.read_bytes()
    )
    assert build(run, site).code == 0


def test_with_another_pyld_no_file_is_read_or_written(tmp_path, monkeypatch):
    from badgekiln.crypto import fastcanon

    monkeypatch.setattr(fastcanon, "_DEFAULT", fastcanon.FastCanonicalizer(seeded=False))
    kept = canoncache.Kept(tmp_path, "f" * 64, restored=False, record=None, key=KEY)
    kept.save()
    assert not (tmp_path / canoncache.FILE).exists() and kept.record is None


def test_a_restored_cache_forgets_the_record_of_its_file(tmp_path, monkeypatch):
    """A state restored from an archive is not this machine's: the record of the templates' file
    it holds is not carried into the next state."""
    from badgekiln.engine import cache as cache_mod

    root = tmp_path / "cache"
    root.mkdir()
    state = {
        "format": cache_mod.FORMAT,
        "fingerprint": cache_mod.code_fingerprint(),
        "shards": {},
        "record_shards": {},
        "groups": {},
        "bundles": {},
        "sources": {},
        "canon": [1, 2, "ab" * 32],
    }
    (root / "state.json").write_text(json.dumps(state))
    monkeypatch.setenv("BADGEKILN_CACHE_RESTORED", "1")
    opened = cache_mod.BuildCache(root, tmp_path / "output")
    assert opened.canon_record is None
    opened.close()
    monkeypatch.delenv("BADGEKILN_CACHE_RESTORED")
    opened = cache_mod.BuildCache(root, tmp_path / "output")
    assert opened.canon_record == [1, 2, "ab" * 32]
    opened.close()


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


def test_the_mac_key_counts_each_private_number_once():
    """Keys given in BADGEKILN_PRIVATE_KEYS are in the keyring and among the environment's secrets:
    the key must be the one the keys folder gives, or each such build rewrites every kept file."""
    from badgekiln.signing.secretscan import Secret

    rsa, ed = Secret("rsa", b"\x01" * 32, binary=True), Secret("ed", b"\x02" * 32, binary=True)
    password = Secret("smtp", b"hunter2")
    assert canoncache.mac_key([rsa, ed, password]) == canoncache.mac_key([ed, rsa, rsa, ed])
    assert canoncache.mac_key([rsa]) != canoncache.mac_key([rsa, ed])
    assert canoncache.mac_key([password]) is None
