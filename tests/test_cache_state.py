"""The cache's state file as the rebuild path writes and reads it: the same data back whichever
JSON library wrote a part of it, and a blob store that holds exactly what the state names."""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest
from conftest import TODAY, build, cli_child, tree_bytes

from badgekiln.engine import bundletexts, jsonread
from badgekiln.engine import cache as cache_mod

SHA = "ab" * 32


def _state_bytes(groups, sources, bundles=None, shards=None, record_shards=None) -> bytes:
    """What the cache writes as ``state.json`` for ``groups``, ``bundles``, ``sources`` and shards."""
    written = io.BytesIO()
    cache_mod._write_state(written, groups, bundles or {}, sources, shards, record_shards)
    return written.getvalue()


def test_the_state_reads_back_as_it_was_written(tmp_path):
    groups = {"award/a/page": ["k" * 64, f"awards/a/index.html {SHA} 10 7"], "loose-files": [None, ""]}
    sources = {
        "recipients/é.yaml": [
            "key",
            None,  # (its text is in its shard file)
            "2026-01-01",
            None,
            [],
            [1, 2, 3, 4, 5, SHA],
            SHA,
            '[1,[],[["zoe","zoe@example.org",null,null,false,null,[]]]]',  # (a summary: engine/views.py)
        ]
    }
    bundles = {"recipients/a.yaml": ["b" * 64, 1]}
    shards = {bundletexts.shard_of("recipients/a.yaml"): "c" * 64}
    text = " " + json.dumps(["§Recipient", "Zoë", 1.5, 10**30, float("nan"), None])  # (as _record_text writes it)
    record_shards = {
        bundletexts.shard_of("recipients/é.yaml"): bundletexts.write_shard(
            tmp_path, {"recipients/é.yaml": text}, bundletexts.RECORDS
        )
    }
    state = json.loads(_state_bytes(groups, sources, bundles, shards, record_shards))
    assert state == {
        "format": cache_mod.FORMAT,
        "fingerprint": cache_mod.code_fingerprint(),
        "shards": shards,
        "record_shards": record_shards,
        "groups": groups,
        "bundles": bundles,
        "sources": sources,
    }
    assert cache_mod._state_problem(state) is None
    assert cache_mod.bundle_groups(cache_mod.bundle_text(groups.items())) is None  # (not all award groups)
    award = {"award/a/page": ["c" * 64, groups["award/a/page"][1]], "award/b/page": [None, ""]}
    assert cache_mod.bundle_groups(cache_mod.bundle_text(award.items())) == award
    texts = bundletexts.Texts(tmp_path, record_shards, bundletexts.RECORDS)
    values = cache_mod._record_value(texts.text("recipients/é.yaml"))
    assert type(values[3]) is int and math.isnan(values[4])  # (the text of its own: json wrote and reads it)
    assert (
        jsonread.loads(_state_bytes(groups, sources, bundles, shards, record_shards)) == state
    )  # (as the build reads it)


def test_a_shard_reads_back_as_it_was_written_and_is_named_by_its_bytes(tmp_path):
    shard = bundletexts.shard_of("recipients/a.yaml")
    names = [n for n in (f"recipients/{i}\udcff.yaml" for i in range(5000)) if bundletexts.shard_of(n) == shard]
    texts = {"recipients/a.yaml": "award/a/page\t\t", names[0]: "", names[1]: "x"}
    sha = bundletexts.write_shard(tmp_path, texts)
    assert sha == hashlib.sha256((tmp_path / "bundles" / f"{sha}.json").read_bytes()).hexdigest()
    assert bundletexts.read_shard(tmp_path, sha, shard) == texts
    assert bundletexts.write_shard(tmp_path, dict(reversed(texts.items()))) == sha  # (the same texts, the same bytes)
    assert bundletexts.read_shard(tmp_path, "0" * 64, shard) is None  # (missing)
    other = next(f"{n:02x}" for n in range(256) if f"{n:02x}" != shard)
    assert bundletexts.read_shard(tmp_path, sha, other) is None  # (its bundles are another shard's)
    (tmp_path / "bundles" / f"{sha}.json").write_bytes(b"{}")
    assert bundletexts.read_shard(tmp_path, sha, shard) is None  # (not its name's bytes)
    (tmp_path / "bundles" / f"{sha}.json").unlink()
    (tmp_path / "bundles" / f"{sha}.json").mkdir()  # (a folder at a shard file's name is replaced)
    (tmp_path / "bundles" / f"{sha}.json" / "x").write_text("x")
    assert bundletexts.write_shard(tmp_path, texts) == sha
    assert bundletexts.read_shard(tmp_path, sha, shard) == texts
    (tmp_path / "bundles" / "stray").mkdir()
    bundletexts.remove_unused(tmp_path, [])
    assert list((tmp_path / "bundles").iterdir()) == []


def test_a_bundle_text_taken_is_let_go_and_read_again_from_its_file_if_asked_for(tmp_path, monkeypatch):
    """A rebuild that opens every bundle reads each text once (``take``): the shards' texts are
    not held to the end of the build beside the groups read from them; one asked for again (a
    record's text the save writes back) is read again from its shard file, not lost."""
    shard = bundletexts.shard_of("recipients/a.yaml")
    other = next(n for n in (f"recipients/{i}.yaml" for i in range(5000)) if bundletexts.shard_of(n) == shard)
    texts = {"recipients/a.yaml": "award/a/page\t\t", other: "award/b/page\t\t"}
    sha = bundletexts.write_shard(tmp_path, texts)
    read = bundletexts.Texts(tmp_path, {shard: sha})
    assert read.take("recipients/a.yaml") == texts["recipients/a.yaml"]
    assert "recipients/a.yaml" not in read._read[shard]  # (let go)
    assert read.text(other) == texts[other]
    assert read.text("recipients/a.yaml") == read.take("recipients/a.yaml") == texts["recipients/a.yaml"]
    read.take(other)
    real, shards_read = bundletexts.read_shard, []
    monkeypatch.setattr(bundletexts, "read_shard", lambda *args: shards_read.append(args) or real(*args))
    assert read.text(other) == texts[other] and read.text("recipients/a.yaml") == texts["recipients/a.yaml"]
    assert shards_read == []  # (the shard is read again once for all its texts let go, not once each)
    read = bundletexts.Texts(tmp_path, {shard: sha})
    read.take("recipients/a.yaml")
    (tmp_path / "bundles" / f"{sha}.json").write_bytes(b"{}")  # (damaged since: not its name's bytes)
    assert read.text("recipients/a.yaml") is None and read.text(other) == texts[other]
    assert len(shards_read) == 2


def test_what_orjson_cannot_write_goes_through_json():
    groups = {"award/\ud800/page": [None, ""]}  # a lone surrogate: orjson refuses it
    sources = {"recipients/\udcff.yaml": ["key", None, "", None, [], None, None, "[1,[],[]]"]}
    state = json.loads(_state_bytes(groups, sources))
    assert state["groups"] == groups and state["sources"] == sources


def test_the_output_scan_reads_what_orjson_refuses():
    data = _state_bytes({"g": [None, ""]}, {"r": [float("nan")]})
    assert jsonread.loads(data)["groups"] == {"g": [None, ""]}
    assert jsonread.loads(_state_bytes({"award/\ud800/page": [None, ""]}, {}))["groups"] == {
        "award/\ud800/page": [None, ""]
    }


@pytest.mark.parametrize("depth", [1025, 300_000])
def test_deep_nesting_raises_and_never_overflows_the_stack(depth):
    # (orjson before 3.10 made the objects of 300,000 nested arrays on the C stack: a segfault)
    assert jsonread._deep_refused()  # (pyproject.toml asks for orjson 3.10 or later)
    with pytest.raises((ValueError, RecursionError)):
        jsonread.loads(b"[" * depth + b"]" * depth)
    assert jsonread.loads(b"[" * 1000 + b"]" * 1000) is not None  # (the limit is orjson's 1,024, json's deeper)


@pytest.mark.parametrize(
    "values",
    [
        ["§Recipient", "Zoë", 1.5, -0.0, 2**63 - 1, -(2**63), None, True, ["§t"]],  # orjson's, exactly
        ["§Recipient", 10**30],  # past 64 bits: orjson refuses to write it (and would read it as a float)
        ["§Recipient", float("nan"), float("inf")],  # orjson writes them as null
        ["§Recipient", "\ud800"],  # a lone surrogate: orjson refuses it
    ],
)
def test_a_record_text_reads_back_the_very_value(monkeypatch, values):
    monkeypatch.setattr(cache_mod, "encode", lambda result: result)
    text = cache_mod._record_text(values)
    back = cache_mod._record_value(text)
    assert repr(back) == repr(values) and [type(v) for v in back] == [type(v) for v in values]
    by_json = text.startswith(jsonread.JSON_MODULE)
    assert by_json == (values[1] != "Zoë")  # (only what orjson cannot give back goes through json)
    if not by_json:
        assert text == orjson.dumps(values).decode()


def _blob_names(site: Path) -> set[str]:
    return {p.parent.name + p.name for p in (site / ".badgekiln/cache/blobs").rglob("*") if p.is_file()}


def _recorded(site: Path) -> set[str]:
    groups = cache_mod.recorded_groups(site / ".badgekiln/cache")
    return {entry[1] for _, packed in groups.values() for entry in cache_mod.unpack_files(packed)}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_store_holds_exactly_the_blobs_the_state_names(keyed_site, run, monkeypatch):
    """A rebuild deletes the blobs of the files it replaced, and only those."""
    assert _blob_names(keyed_site) == _recorded(keyed_site)
    recipient = keyed_site / "recipients/jane-doe.yaml"
    badge = keyed_site / "badges/pipefitting-mji10.yaml"
    for path, old, new in [
        (recipient, "issued_on: 2026-04-14\n", "issued_on: 2026-04-14\n    narrative: New.\n"),  # one award
        (badge, "small-bore", "small-bore steel"),  # every award of a badge
        (recipient, "    narrative: New.\n", ""),
        (badge, "small-bore steel", "small-bore"),
    ]:
        _edit(path, old, new)
        before = _blob_names(keyed_site)
        build(run, keyed_site)
        assert _blob_names(keyed_site) == _recorded(keyed_site)
        assert before - _blob_names(keyed_site)  # (blobs were deleted: the edit changed files)


def test_a_replaced_files_blob_that_another_group_still_uses_is_kept(keyed_site, run):
    """Two badge classes drawn with the same artwork share its blob; when one gets its own artwork
    back, the blob it no longer uses stays for the other (each group's record searched in turn)."""
    badge = keyed_site / "badges/pipefitting-mji10.yaml"
    own = "image: assets/badges/pipefitting-mji10.svg"
    shared = keyed_site / "output/badges/confined-space-entry/image.svg"
    _edit(badge, own, "image: assets/badges/confined-space-entry.svg")
    build(run, keyed_site)
    mine = keyed_site / "output/badges/pipefitting-mji10/image.svg"
    assert mine.read_bytes() == shared.read_bytes()  # (one blob, named by both groups)
    sha = hashlib.sha256(shared.read_bytes()).hexdigest()
    _edit(badge, "image: assets/badges/confined-space-entry.svg", own)
    build(run, keyed_site)
    assert mine.read_bytes() != shared.read_bytes()
    assert sha in _blob_names(keyed_site)
    assert _blob_names(keyed_site) == _recorded(keyed_site)


@pytest.mark.parametrize(
    "edit",
    [
        ("site_src/site.yaml", "base_url: https://badges.northwind.example/", "base_url: https://b.northwind.example/"),
        ("site_src/site.yaml", "footer: Northwind Training Ltd, Teesside.", "footer: Restyled."),
    ],
)
def test_a_rebuild_that_opens_every_bundle_reads_each_shard_file_once(keyed_site, run, monkeypatch, edit):
    """A bundle's text is let go once its groups are read; nothing reads it again (the list of
    what output/ holds, made when the site's address changes, takes an opened bundle's groups
    from those read: a shard read again per bundle, about 20 s at 100,000 awards)."""
    reads: list[str] = []
    real = bundletexts.read_shard
    monkeypatch.setattr(bundletexts, "read_shard", lambda root, sha, *rest: reads.append(sha) or real(root, sha, *rest))
    path, old, new = edit
    _edit(keyed_site / path, old, new)
    build(run, keyed_site)
    assert reads and len(reads) == len(set(reads))


def test_a_group_named_in_two_bundles_is_a_damaged_record_and_hides_no_stale_file(keyed_site, run):
    """No build records a group in two bundles; a state that does (altered) would hide the first
    bundle's files of that name from what output/ is known to hold, and a file to remove would
    stay published. It is a damaged record (said; output/ is then listed as for any other, see
    test_a_damaged_bundle_of_a_changed_file_leaves_no_stale_file) and the site is a clean build's."""
    root = keyed_site / ".badgekiln/cache"
    state = json.loads((root / "state.json").read_bytes())
    jane, priya = "recipients/jane-doe.yaml", "recipients/priya-patel.yaml"
    texts = {}
    for bundle in (jane, priya):
        shard = bundletexts.shard_of(bundle)
        texts[bundle] = bundletexts.read_shard(root, state["shards"][shard], shard)[bundle]
    name = texts[jane].split("\n")[0].split("\t")[0]  # (one of Jane's award groups, also in Priya's)
    texts[priya] += "\n" + name + "\t\tawards/x/index.html " + "ab" * 32 + " 1 1"
    for bundle in (jane, priya):
        shard = bundletexts.shard_of(bundle)
        held = bundletexts.read_shard(root, state["shards"][shard], shard)
        state["shards"][shard] = bundletexts.write_shard(root, {**held, bundle: texts[bundle]})
    (root / "state.json").write_text(json.dumps(state))
    for bundle in (jane, priya):
        (keyed_site / bundle).write_text((keyed_site / bundle).read_text() + "# edited\n")
    _edit(
        keyed_site / jane,
        "issued_on: 2026-04-14\n",
        "issued_on: 2026-04-14\n    revoked:\n      on: 2026-11-20\n      reason: Test.\n",
    )
    result = build(run, keyed_site)
    assert "cache-damaged" in result.err
    made = tree_bytes(keyed_site / "output")
    (keyed_site / "output").rename(keyed_site.parent / "output-before")
    shutil.rmtree(root)
    build(run, keyed_site)
    assert made == tree_bytes(keyed_site / "output")


def _inodes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_ino for p in folder.rglob("*") if p.is_file()}


def test_a_state_of_another_version_makes_everything_and_keeps_what_output_holds(keyed_site, run):
    """A build after an upgrade (a state of another version: nothing to reuse) compares the files
    it made with output/ only when it writes them (not while its workers run): files of the same
    bytes are not written again; then every blob no group names is deleted, and only those."""
    out, blobs = keyed_site / "output", keyed_site / ".badgekiln/cache/blobs"
    before = _inodes(out)
    stale = hashlib.sha256(b"a file of an earlier version").hexdigest()
    (blobs / stale[:2]).mkdir(exist_ok=True)
    (blobs / stale[:2] / stale[2:]).write_bytes(b"a file of an earlier version")
    (blobs / "ff" / ("f" * 62)).mkdir(parents=True)  # (a folder at a blob's name: left, never a traceback)
    (blobs / "ff" / ("z" * 62)).write_bytes(b"junk")  # (a name that is no SHA-256: deleted)
    state_path = keyed_site / ".badgekiln/cache/state.json"
    state = json.loads(state_path.read_bytes())
    state["fingerprint"] = "0" * 64  # (written by another version of badgekiln)
    state_path.write_text(json.dumps(state))
    result = build(run, keyed_site)
    assert result.code == 0, result.err
    assert " (0 written, " in result.out  # every file made again had the bytes output/ holds
    assert _inodes(out) == before
    names = _blob_names(keyed_site)
    assert names == _recorded(keyed_site)
    assert stale not in names and not (blobs / "ff" / ("z" * 62)).exists()
    assert (blobs / "ff" / ("f" * 62)).is_dir()


def test_a_state_of_another_version_rewrites_the_files_whose_bytes_changed(keyed_site, run):
    out = keyed_site / "output"
    page = next(out.glob("awards/*/index.html"))
    page.unlink()
    page.write_text("edited by hand")  # (another inode: not the blob of the page the build makes)
    state_path = keyed_site / ".badgekiln/cache/state.json"
    state = json.loads(state_path.read_bytes())
    state["fingerprint"] = "0" * 64
    state_path.write_text(json.dumps(state))
    result = build(run, keyed_site)
    assert result.code == 0, result.err
    assert " (1 written, " in result.out
    assert page.read_text() != "edited by hand" and _blob_names(keyed_site) == _recorded(keyed_site)


def test_a_blob_cut_short_is_replaced_from_output_not_published(keyed_site, run):
    # (review: what a worker killed in BlobStore.put leaves, a blob's name holding a part of its
    # bytes, was linked into a site restaged from scratch)
    import hashlib

    assert build(run, keyed_site).code == 0
    out = keyed_site / "output"
    page = next(out.glob("awards/*/index.html"))
    whole = page.read_bytes()
    sha = hashlib.sha256(whole).hexdigest()
    blob = keyed_site / ".badgekiln/cache/blobs" / sha[:2] / sha[2:]
    blob.unlink()
    blob.write_bytes(whole[:100])
    (out / "junk-link").symlink_to("/etc/hostname")  # (a site to restage, not to update in place)
    result = build(run, keyed_site)
    assert result.code == 0, result.err
    assert page.read_bytes() == whole
    assert blob.read_bytes() == whole and not (out / "junk-link").exists()


def test_the_example_sites_validated_sources_are_written_and_read_by_orjson(example_site):
    from datetime import date

    from badgekiln.sources import validate

    project = validate.load_project(example_site, today=date(2026, 11, 1)).project
    for values in (project.recipients, tuple(project.badges.values())):
        result = validate.FileResult(tuple(values), ())
        text = cache_mod._record_text(result)
        assert not text.startswith(jsonread.JSON_MODULE)  # (dates, texts, tuples: nothing orjson gets wrong)
        assert cache_mod.decode(cache_mod._record_value(text)) == result


def _digest_file(site: Path) -> Path:
    return site / ".badgekiln/cache" / cache_mod.STATE_DIGEST


def test_the_state_is_kept_with_its_digest_and_read_as_saved(minimal_site, run):
    """A build keeps the SHA-256 of the state it saved beside it; the next reads that state as
    its own (its records unchecked), and a state of other bytes, or no digest, as one to check."""
    build(run, minimal_site)
    state = minimal_site / ".badgekiln/cache/state.json"
    assert _digest_file(minimal_site).read_text() == hashlib.sha256(state.read_bytes()).hexdigest()
    assert cache_mod._read_state(state)[3] is True
    data = state.read_bytes()
    state.write_bytes(data.replace(b'"format":', b'"format" :', 1))  # (the same state, other bytes)
    assert cache_mod._read_state(state)[2] is None and cache_mod._read_state(state)[3] is False
    state.write_bytes(data)
    _digest_file(minimal_site).unlink()
    assert cache_mod._read_state(state)[3] is False


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("fifo", marks=pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")),
        "link",
        "folder",
        "long junk",
        "short junk",
        "another digest",
        "digest and newline",
    ],
)
def test_an_odd_digest_file_is_not_trusted_and_is_replaced(minimal_site, run, tmp_path, kind):
    """The digest beside the state is read safely (a FIFO would block the build: never opened; a
    link not followed): anything but the state's digest means its records are checked, and the
    build writes the digest again, even when the state itself does not change."""
    build(run, minimal_site)
    path = _digest_file(minimal_site)
    state = minimal_site / ".badgekiln/cache/state.json"
    real = path.read_text()
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "link":
        (tmp_path / "elsewhere").write_text(real)
        path.symlink_to(tmp_path / "elsewhere")
    elif kind == "folder":
        path.mkdir()
    elif kind == "long junk":
        path.write_text("not a digest \x00" * 10)  # (past the 64 bytes a digest has: not read)
    elif kind == "short junk":
        path.write_bytes(b"\xff" * 64)
    elif kind == "another digest":
        path.write_text("0" * 64)
    else:
        path.write_text(real + "\n")
    assert cache_mod._read_state(state)[3] is False
    (minimal_site / ".badgekiln/cache/stamp.json").unlink(missing_ok=True)  # (a build, not a replay)
    try:
        result = cli_child("build", "--source", str(minimal_site), "--today", TODAY, timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the build hung on a {kind} in place of the state's digest")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "(0 written," in result.stdout
    assert not path.is_symlink() and path.is_file() and path.read_text() == real
    assert cache_mod._read_state(state)[3] is True


@pytest.mark.parametrize(
    "record",
    [5, None, [], ["key"], "text", {"a": 1}, "int date", "int stat digest", "reads not a list", "reads elsewhere"],
)
def test_a_saved_state_altered_with_its_digest_is_damaged_not_a_traceback(minimal_site, run, record):
    """A state read as the one the last build saved is not checked record by record, but each
    record's types are: altered with its digest into a shape a rebuild cannot read, it is a
    damaged cache (a warning, a build afresh), never a traceback (a hostile review)."""
    build(run, minimal_site)
    path = minimal_site / ".badgekiln/cache/state.json"
    state = json.loads(path.read_text(encoding="utf-8"))
    rel = next(name for name in state["sources"] if name.startswith("recipients/"))
    good = state["sources"][rel]
    altered = {
        "int date": [*good[:2], 5, *good[3:]],
        "int stat digest": [*good[:5], [1, 2, 3, 4, 5, 6], *good[6:]],
        "reads not a list": [*good[:4], 5, *good[5:]],
        "reads elsewhere": [*good[:4], [["../../etc/passwd", None]], *good[5:]],
    }
    state["sources"][rel] = altered.get(record, record) if isinstance(record, str) else record
    data = json.dumps(state).encode()
    path.write_bytes(data)
    _digest_file(minimal_site).write_text(hashlib.sha256(data).hexdigest())
    read, _, problem, saved = cache_mod._read_state(path)
    assert read == {} and problem and "is damaged" in problem and saved is False
    (minimal_site / ".badgekiln/cache/stamp.json").unlink(missing_ok=True)
    result = build(run, minimal_site)
    assert "warning[cache-damaged]" in result.err and "Traceback" not in result.err


def test_a_restored_cache_is_checked_whatever_its_digest(minimal_site, run, monkeypatch):
    """A cache restored from an archive (CI) is checked as promised, its digest archived with it."""
    build(run, minimal_site)
    state = minimal_site / ".badgekiln/cache/state.json"
    assert cache_mod._read_state(state)[3] is True
    monkeypatch.setenv(cache_mod.ENV_RESTORED, "1")
    found = cache_mod._read_state(state)
    assert found[2] is None and found[0] and found[3] is False


def test_a_build_afresh_keeps_every_blob_a_used_name_s_first_128_bits_name(tmp_path):
    """_remove_unused_blobs keeps a blob of the store exactly when the first 128 bits of its name,
    read as hex, are a used blob's, whatever the case the folder is listed in (a file system blind
    to case may list "5F" for the store's "5f") and whatever else the records hold: a record whose
    name is shorter than 32 digits (no blob of the store has that name) must not shift the names
    gathered after it."""
    import types

    shas = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(40)]
    lettered = next(s for s in shas if not s[:2].isdigit())
    records = ";".join(f"f{i}.html {s} 1 {i}" for i, s in enumerate(shas))
    groups = {
        "short first": [None, f"a.html {lettered[:4]} 1 1;{records}"],
        "upper": [None, f"b.html {shas[1].upper()} 1 1"],
        "empty": [None, ""],
    }
    root = tmp_path / "blobs"
    planted = (
        {f"{s[:2]}/{s[2:]}" for s in shas}
        | {
            f"{lettered[:2].upper()}/{lettered[2:]}",  # (the same folder, listed in upper case)
            f"{lettered[:2]}/{lettered[2:32]}{'0' * 32}",  # (the same 128 bits: kept)
            f"{lettered[:2]}/{lettered[2:].upper()}",
            f"{lettered[:2]}/{'0' * 62}",  # (not used)
            "zz/" + "0" * 62,
            f"{lettered[:2]}/{lettered[2:]}x",  # (not a blob's name: left alone)
        }
    )
    for rel in planted:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")
    used = {bytes.fromhex(s[:32]) for s in shas}
    cache = types.SimpleNamespace(store=types.SimpleNamespace(root=root), new_groups=groups)
    cache_mod.BuildCache._remove_unused_blobs(cache)
    left = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    expected = {rel for rel in planted if len(rel) != 65 or cache_mod._hex_prefix(rel.replace("/", "")) in used}
    assert left == expected
    assert all(f"{s[:2]}/{s[2:]}" in left for s in shas)
