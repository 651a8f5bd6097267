"""A rebuild takes an unchanged recipient file's bundle key from the last build, without computing
it, when everything else that key holds is as it was (keys.UnitKeys.same_bundle_context): the
same site-wide parts, day and badge classes, and a ledger that only grew at its end. Each case
below is checked against a clean build of the same sources, and by which bundle keys were
computed."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import TODAY, build, tree_bytes
from test_incremental import append, clean_build, edit

from badgekiln.engine import keys as keys_mod
from badgekiln.sources.ledger import HEADER


@pytest.fixture
def computed(monkeypatch):
    """The recipient files whose bundle key each build computed, in order."""
    seen: list[str] = []
    real = keys_mod.UnitKeys.bundle

    def bundle(self, recipient, record):
        seen.append(recipient.location.path)
        return real(self, recipient, record)

    monkeypatch.setattr(keys_mod.UnitKeys, "bundle", bundle)
    return seen


def _recipients(site: Path) -> list[str]:
    return sorted(f"recipients/{path.name}" for path in (site / "recipients").glob("*.yaml"))


def _rebuild(run, site: Path, computed: list[str], *extra: str) -> list[str]:
    computed.clear()
    build(run, site, *extra)
    return sorted(computed)


def test_an_edit_computes_the_key_of_its_own_file_only(keyed_site, run, tmp_path, computed):
    build(run, keyed_site)  # (its state now holds this build's context)
    jane = keyed_site / "recipients/jane-doe.yaml"
    edit(jane, "issued_on: 2026-03-01", "issued_on: 2026-03-02")
    assert _rebuild(run, keyed_site, computed) == ["recipients/jane-doe.yaml"]
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def test_a_new_award_adds_to_the_ledger_and_computes_its_files_key_only(keyed_site, run, tmp_path, computed):
    build(run, keyed_site)
    ledger = (keyed_site / "site_src/awards.lock").read_text()
    append(keyed_site / "recipients/priya-patel.yaml", "  - badge: first-aid-at-work\n    issued_on: 2026-11-01\n")
    assert _rebuild(run, keyed_site, computed) == ["recipients/priya-patel.yaml"]
    assert (keyed_site / "site_src/awards.lock").read_text().startswith(ledger)  # (a line added at its end)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)
    # (the build wrote the new award's id into the file: the next build validates it again)
    assert _rebuild(run, keyed_site, computed) == ["recipients/priya-patel.yaml"]


def test_another_day_computes_every_key(keyed_site, run, tmp_path, computed):
    build(run, keyed_site)
    later = (date.fromisoformat(TODAY) + timedelta(days=400)).isoformat()  # (past expiry dates)
    computed.clear()
    assert run("build", "--source", str(keyed_site), "--today", later).code == 0
    assert sorted(computed) == _recipients(keyed_site)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path, "--today", later)


def test_an_edited_badge_class_computes_every_key(keyed_site, run, tmp_path, computed):
    build(run, keyed_site)
    edit(keyed_site / "badges/network-cabling.yaml", "description: ", "description: Edited. ")
    assert _rebuild(run, keyed_site, computed) == _recipients(keyed_site)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def test_a_ledger_changed_before_its_end_computes_every_key(keyed_site, run, tmp_path, computed):
    """awards.lock edited by hand (a merge gone wrong): two entries swap their status-list indexes.
    The ledger no longer begins with the last build's: no key is taken from that build."""
    build(run, keyed_site)
    _swap_first_two_indexes(keyed_site / "site_src/awards.lock")
    # (the last build's ledger, against which the build warns of the indexes that moved, is taken
    # away: the keys are what this test is about; tests/test_keys.py has that check)
    (keyed_site / ".badgekiln/built-awards.lock").unlink()
    assert _rebuild(run, keyed_site, computed) == _recipients(keyed_site)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def test_a_context_the_state_does_not_hold_computes_every_key(keyed_site, run, computed):
    """A state saved before the context was kept (or with a damaged one): every key computed."""
    import orjson

    build(run, keyed_site)
    state = keyed_site / ".badgekiln/cache/state.json"
    data = orjson.loads(state.read_bytes())
    assert isinstance(data.get("bundle_context"), list)
    data["bundle_context"] = ["x", "not a length", "y"]
    state.write_bytes(orjson.dumps(data))
    edit(keyed_site / "recipients/jane-doe.yaml", "issued_on: 2026-03-01", "issued_on: 2026-03-02")
    assert _rebuild(run, keyed_site, computed) == _recipients(keyed_site)


def test_a_ledger_length_inside_a_line_computes_every_key(keyed_site, run, computed):
    """A state whose ledger length ends inside a line (no build writes one: a forged or damaged
    state.json), with the right digest of that many bytes: not taken, since a later change to the
    rest of that line would pass for a line added at the end."""
    import hashlib

    import orjson

    build(run, keyed_site)
    state = keyed_site / ".badgekiln/cache/state.json"
    data = orjson.loads(state.read_bytes())
    text = (keyed_site / "site_src/awards.lock").read_bytes()
    assert data["bundle_context"][1:] == [len(text), hashlib.sha256(text).hexdigest()]
    inside = len(text) - 3
    data["bundle_context"][1:] = [inside, hashlib.sha256(text[:inside]).hexdigest()]
    state.write_bytes(orjson.dumps(data))
    edit(keyed_site / "recipients/jane-doe.yaml", "issued_on: 2026-03-01", "issued_on: 2026-03-02")
    assert _rebuild(run, keyed_site, computed) == _recipients(keyed_site)
    # (and a length at the end of a line is taken: the next build's own state holds one)
    edit(keyed_site / "recipients/jane-doe.yaml", "issued_on: 2026-03-02", "issued_on: 2026-03-03")
    assert _rebuild(run, keyed_site, computed) == ["recipients/jane-doe.yaml"]


def _swap_first_two_indexes(path: Path) -> None:
    """awards.lock edited by hand (a merge gone wrong): its first two entries swap their indexes."""
    lines = path.read_text().splitlines(keepends=True)
    body = [i for i, line in enumerate(lines) if not line.startswith("#")]
    first, second = (lines[i].split("\t") for i in body[:2])
    first[1], second[1] = second[1], first[1]
    lines[body[0]], lines[body[1]] = "\t".join(second), "\t".join(first)
    path.write_text("".join(lines))


@pytest.mark.parametrize("length", [0, HEADER.index("\n") + 1])
def test_a_ledger_length_inside_the_header_computes_every_key(keyed_site, run, tmp_path, computed, length):
    """Every ledger's text begins with its header, so a length inside it (0, or the header's first
    line: no build saves one) would let any ledger pass for one that only grew at its end (found
    by review): a ledger changed before its end then kept stale keys."""
    import hashlib

    import orjson

    build(run, keyed_site)
    state = keyed_site / ".badgekiln/cache/state.json"
    data = orjson.loads(state.read_bytes())
    data["bundle_context"][1:] = [length, hashlib.sha256(HEADER[:length].encode()).hexdigest()]
    state.write_bytes(orjson.dumps(data))
    _swap_first_two_indexes(keyed_site / "site_src/awards.lock")
    (keyed_site / ".badgekiln/built-awards.lock").unlink()  # (as in the test above)
    assert _rebuild(run, keyed_site, computed) == _recipients(keyed_site)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def test_a_shorter_ledger_length_vouches_only_for_the_entries_within_it(keyed_site, run, tmp_path, computed):
    """A state.json (its digest forged too) whose ledger length ends at a line past the header but
    before the ledger's end, with the digest of that much of the ledger as it now is, and two
    entries after it swapped by hand: the files of the awards after it compute their keys (a
    stranger-PR review: they kept stale credentials)."""
    import hashlib

    import orjson

    build(run, keyed_site)
    path = keyed_site / "site_src/awards.lock"
    lines = path.read_text().splitlines(keepends=True)
    body = [i for i, line in enumerate(lines) if not line.startswith("#")]
    assert len(body) >= 3
    second, third = (lines[i].split("\t") for i in body[1:3])
    second[1], third[1] = third[1], second[1]
    lines[body[1]], lines[body[2]] = "\t".join(third), "\t".join(second)
    path.write_text("".join(lines))
    text = path.read_bytes()
    length = len("".join(lines[: body[0] + 1]).encode())  # (the header and the first entry)
    cache = keyed_site / ".badgekiln/cache"
    data = orjson.loads((cache / "state.json").read_bytes())
    data["bundle_context"][1:] = [length, hashlib.sha256(text[:length]).hexdigest()]
    (cache / "state.json").write_bytes(orjson.dumps(data))
    (cache / "state.sha256").write_text(hashlib.sha256((cache / "state.json").read_bytes()).hexdigest())
    (keyed_site / ".badgekiln/built-awards.lock").unlink()  # (as in the tests above)
    _rebuild(run, keyed_site, computed)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def test_a_restored_cache_lends_no_bundle_key(keyed_site, run, computed, monkeypatch):
    """A cache restored from an archive (CI) is checked whole: every bundle key is computed."""
    build(run, keyed_site)
    edit(keyed_site / "recipients/jane-doe.yaml", "issued_on: 2026-03-01", "issued_on: 2026-03-02")
    monkeypatch.setenv("BADGEKILN_CACHE_RESTORED", "1")
    assert _rebuild(run, keyed_site, computed) == _recipients(keyed_site)


def test_a_rebuild_hashes_the_ledgers_text_once(keyed_site, run, monkeypatch):
    """The bundle context's check and the "awards" part take their digests from one pass over the
    ledger's text (found by review: the status lists' key asked first, and the text was encoded
    and hashed twice)."""
    passes: list = []
    real = keys_mod.UnitKeys._ledger_digest

    def counting(self, prefix):
        if prefix is not None or "_ledger_digests" not in self.__dict__:
            passes.append(prefix)
        return real(self, prefix)

    monkeypatch.setattr(keys_mod.UnitKeys, "_ledger_digest", counting)
    build(run, keyed_site)
    edit(keyed_site / "recipients/jane-doe.yaml", "issued_on: 2026-03-01", "issued_on: 2026-03-02")
    passes.clear()
    build(run, keyed_site)
    assert len(passes) == 1 and passes[0] is not None, passes


def test_a_key_rotation_computes_every_key(keyed_site, run, tmp_path, computed):
    """(the "signing" part of every key changes)"""
    build(run, keyed_site)
    assert run("keys", "rotate", "--source", str(keyed_site), "--today", TODAY).code == 0
    assert _rebuild(run, keyed_site, computed) == _recipients(keyed_site)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)


def _preview(site: Path) -> None:
    """A build that leaves the sources alone (``serve``'s, pin=False), with the sources' cache:
    its new awards' ledger lines are only in its memory, awards.lock stays as it was."""
    from badgekiln.commands.build import run_build

    run_build(site, site / "output", base_url=None, today=date.fromisoformat(TODAY), pin=False)


@pytest.mark.parametrize("second", ["aaaa-new-2", "zzzz-new-2"])
def test_previews_whose_new_awards_take_other_indexes_compute_the_keys_that_change(
    keyed_site, run, tmp_path, computed, second
):
    """Two previews, each adding an award: awards.lock is never written, so the second preview's
    new lines are made again from the files', in id order. An award sorting before the first
    preview's new one takes its index: that ledger no longer begins with the first preview's,
    and every key is computed; one sorting after it only adds a line, and only its file's key
    is computed (the first award's file kept under its key)."""
    ledger = (keyed_site / "site_src/awards.lock").read_bytes()
    append(
        keyed_site / "recipients/priya-patel.yaml",
        "  - id: mmmm-new-1\n    badge: first-aid-at-work\n    issued_on: 2026-11-01\n",
    )
    _preview(keyed_site)
    append(
        keyed_site / "recipients/jane-doe.yaml",
        f"  - id: {second}\n    badge: first-aid-at-work\n    issued_on: 2026-11-02\n",
    )
    computed.clear()
    _preview(keyed_site)
    expected = _recipients(keyed_site) if second < "mmmm-new-1" else ["recipients/jane-doe.yaml"]
    assert sorted(computed) == expected
    assert (keyed_site / "site_src/awards.lock").read_bytes() == ledger  # (a preview writes no source)
    assert tree_bytes(keyed_site / "output") == clean_build(run, keyed_site, tmp_path)
