"""Reading site_src/awards.lock: every line to_text writes reads back; any other line is an error
at its line (never a crash, never an entry)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from badgekiln.errors import Diagnostic, SourceLocation
from badgekiln.models import ROW_BADGE, ROW_ID, Project
from badgekiln.sources.ledger import HEADER, REL, Entry, Ledger, read_ledger
from badgekiln.sources.records import yaml_plain

GOOD = "abcd-1\t0\tfirst-badge\trsa-1\ted-1\n"


def _read(tmp_path: Path, text: str) -> tuple[dict[str, Entry], list[tuple[str, int | None]]]:
    path = tmp_path / REL
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    diagnostics: list = []
    entries = read_ledger(path, diagnostics).entries
    return entries, [(d.code, d.location.line) for d in diagnostics]


def test_what_to_text_writes_reads_back(tmp_path):
    ledger = Ledger(
        {
            "abcd-1": Entry("abcd-1", 0, "first-badge", "rsa-1", "ed-1"),
            "efgh": Entry("efgh", 1, "b", None, "ed-1"),
            "ijkl-2": Entry("ijkl-2", 12, "first-badge"),
        }
    )
    assert _read(tmp_path, ledger.to_text()) == (ledger.entries, [])


def test_the_largest_index_reads(tmp_path):
    assert _read(tmp_path, HEADER + "abcd\t99999999\tb\t-\t-\n")[0]["abcd"].index == 99_999_999


def test_a_line_of_three_fields_has_no_keys_pinned(tmp_path):
    assert _read(tmp_path, HEADER + "abcd-1\t0\tfirst-badge\n") == ({"abcd-1": Entry("abcd-1", 0, "first-badge")}, [])


@pytest.mark.parametrize(
    "line",
    [
        "abc\t1\tb\t-\t-",  # an id too short
        "Abcd\t1\tb\t-\t-",  # upper case
        "abcd\t-1\tb\t-\t-",
        "abcd\t1²\tb\t-\t-",  # (a digit str.isdigit accepts and int refuses)
        "abcd\t١٢\tb\t-\t-",  # Arabic-Indic digits: int() reads 12, but the ledger is written in ASCII
        "abcd\t\tb\t-\t-",
        "abcd\t1\t-b\t-\t-",
        "abcd\t1\tb\t-",
        "abcd\t1\tb\t-\t-\t-",
        "abcd\t1\tb\tKID\t-",
        "abcd 1 b - -",
        "abcd\t1\tb\t-\t-x" + "y" * 70,
        "abcd-1\t5\tb\t-\t-",  # the id of the line before
        "wxyz\t0\tb\t-\t-",  # the index of the line before
        "abcd\t" + "9" * 4301 + "\tb\t-\t-",  # (past int()'s digits: a crash before)
        "abcd\t123456789\tb\t-\t-",  # (a status list of a gigabit would be allocated)
        "abcd\t123456789\tb",
    ],
)
def test_any_other_line_is_an_error_at_its_line(tmp_path, line):
    entries, problems = _read(tmp_path, HEADER + GOOD + line + "\n")
    assert list(entries) == ["abcd-1"]
    assert problems == [("bad-ledger", 4)]


def test_merge_conflict_markers_are_one_error_that_says_how_to_resolve(tmp_path):
    # (UX review: three "malformed" errors, each advising to restore the file, which loses a branch's awards)
    text = (
        HEADER
        + GOOD
        + "<<<<<<< HEAD\nefgh-2\t1\tfirst-badge\t-\t-\n=======\nijkl-3\t1\tfirst-badge\t-\t-\n>>>>>>> feature\n"
    )
    path = tmp_path / REL
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    diagnostics: list = []
    read_ledger(path, diagnostics)
    assert [(d.code, d.location.line) for d in diagnostics] == [("ledger-conflict", 4)]
    assert "git checkout --ours" in diagnostics[0].hint and "python build.py" in diagnostics[0].hint


# Pieces of ledger lines, well formed and not: the fast path (one regular expression over the
# whole text) must read exactly what the line-by-line checks read, or leave the text to them.
_PIECES = st.sampled_from(
    ["abcd-1", "efgh", "0", "12", "123456789", "b", "first-badge", "rsa-1", "-", "", " ", "A", "é", "١٢", "x\r", "#"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_PIECES, min_size=1, max_size=6).map("\t".join), max_size=6))
def test_the_fast_path_reads_what_the_line_checks_read(lines):
    from badgekiln.sources import ledger as ledger_mod

    text = HEADER + "\n".join(lines) + "\n"
    fast: list = []
    read = ledger_mod.parse_ledger(text, fast)
    slow: list = []
    original = ledger_mod._well_formed
    try:
        ledger_mod._well_formed = lambda lines: None
        assert ledger_mod.parse_ledger(text, slow) == read
    finally:
        ledger_mod._well_formed = original
    assert fast == slow


_KID = st.sampled_from([None, "rsa-1", "rsa-2", "ed-1", "ed-2"])


@settings(max_examples=300, deadline=None)
@given(
    kids=st.lists(st.tuples(_KID, _KID), max_size=6),
    published=st.sets(st.sampled_from(["rsa-1", "rsa-2", "ed-1", "ed-2"])),
    active=st.tuples(_KID, _KID),
)
def test_pinning_keys_gives_what_pinning_each_entry_gives(kids, published, active):
    """assign_keys returns the ledger as it is when every pinned key is still published (a
    shortcut: no pass over 100,000 entries); the result is always what pinning the keys of each
    entry in turn gives (the rule, written out here once more)."""
    from badgekiln.sources.ledger import assign_keys

    ledger = Ledger({f"abcd-{n}": Entry(f"abcd-{n}", n, "b", rsa, ed) for n, (rsa, ed) in enumerate(kids)})
    new, resigned = assign_keys(ledger, rsa_kid=active[0], ed_kid=active[1], published=published)
    expected, expected_resigned = {}, []
    for entry in ledger.entries.values():
        rsa = entry.rsa_kid if entry.rsa_kid in published else active[0]
        ed = entry.ed_kid if entry.ed_kid in published else active[1]
        if (entry.rsa_kid and entry.rsa_kid != rsa) or (entry.ed_kid and entry.ed_kid != ed):
            expected_resigned.append(entry)
        expected[entry.id] = Entry(entry.id, entry.index, entry.badge, rsa, ed)
    assert new.entries == expected
    assert resigned == expected_resigned
    assert all(type(entry) is Entry for entry in new.entries.values())


_IDS = st.from_regex(r"[a-z0-9][a-z0-9-]{3,20}", fullmatch=True)
_KIDS = st.none() | st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_IDS, st.tuples(st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True), _KIDS, _KIDS)))
def test_a_ledger_the_build_saved_is_read_as_the_checked_reader_reads_it(written):
    """A ledger file whose bytes are those of the ledger the last build saved is read by splitting
    its lines: the very ledger the checking reader gives, in the same order."""
    from badgekiln.sources import ledger as ledger_mod

    ledger = Ledger(
        {award: Entry(award, n, badge, rsa, ed) for n, (award, (badge, rsa, ed)) in enumerate(sorted(written.items()))}
    )
    text = ledger.to_text()
    fast = ledger_mod._written(text)
    checked = ledger_mod.parse_ledger(text, [])
    assert fast is not None and list(fast.entries.items()) == list(checked.entries.items())
    assert all(type(entry) is Entry and entry.id == award for award, entry in fast.entries.items())


def test_a_trusted_ledger_is_read_without_the_line_checks_and_anything_else_is_checked(tmp_path, monkeypatch):
    import hashlib

    from badgekiln.sources import ledger as ledger_mod

    site = tmp_path / "site"
    (site / "site_src").mkdir(parents=True)
    path = site / REL
    good = Ledger({"abcd-1": Entry("abcd-1", 0, "first", "k-rsa", None), "abcd-2": Entry("abcd-2", 1, "first")})
    path.write_text(good.to_text(), encoding="utf-8")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    checks = []
    real = ledger_mod._well_formed
    monkeypatch.setattr(ledger_mod, "_well_formed", lambda lines: checks.append(1) or real(lines))
    assert read_ledger(path, [], trusted=digest).entries == good.entries and checks == []
    assert read_ledger(path, [], trusted="0" * 64).entries == good.entries and checks == [1]
    assert read_ledger(path, [], trusted=digest).text == good.to_text()  # (its text is the file's: not made again)
    assert read_ledger(path, [], trusted="0" * 64).text is None
    # The same bytes, trusted, yet not what to_text writes (an id repeated): read and judged line by line.
    repeated = HEADER + "abcd-1\t0\tfirst\t-\t-\nabcd-1\t1\tfirst\t-\t-\n"
    path.write_text(repeated, encoding="utf-8")
    problems: list = []
    found = read_ledger(path, problems, trusted=hashlib.sha256(repeated.encode()).hexdigest())
    assert [d.code for d in problems] == ["bad-ledger"] and list(found.entries) == ["abcd-1"]
    for bad in ("abcd-1\tx\tfirst\t-\t-\n", "abcd-1\t0\tfirst\n", "abcd-1\t0\tfirst\t-\t-\tmore\n"):
        text = HEADER + bad
        path.write_text(text, encoding="utf-8")
        assert ledger_mod._written(text) is None
        read_ledger(path, [], trusted=hashlib.sha256(text.encode()).hexdigest())  # (no exception: judged)


@pytest.mark.parametrize(
    "lines",
    [
        "abcd-2\t1\tfirst\t-\t-\nabcd-1\t0\tfirst\t-\t-\n",  # (not in index order)
        "abcd-1\t07\tfirst\t-\t-\n",  # (a leading zero)
        "abcd-1\t+7\tfirst\t-\t-\n",
        "abcd-1\t1_0\tfirst\t-\t-\n",
        "abcd-1\t0\tfirst\t-\t-\r\n",
        "abcd-1\t0\tfirst\t\t-\n",  # (an empty field)
        "abcd-1\t0\tfirst\t-\t\n",
        "abcd-1\t0\tfirst\t-\t-",  # (no last line break)
        "abcd-1\t0\tfirst\t-\t-\nabcd-1\t1\tfirst\t-\t-",  # (an id repeated, no last line break)
        "abcd-1\t0\tfirst\t-\t-\x0babcd-1\t1\tfirst\t-\t-\n",  # (another line break, an id repeated)
        "abcd-1\t0\tfirst\t-\t-\u2028abcd-1\t1\tfirst\t-\t-\n",
        "abcd-1\t0\tfirst\t-\t-\nabcd-1\t1\tfirst\t-\t",  # (an empty last field, no last line break)
        "abcd-1\t 7\tfirst\t-\t-\n",
        "abcd-1\t\u0667\tfirst\t-\t-\n",  # (an Arabic-Indic seven: int() reads it)
        "abcd-1\t-0\tfirst\t-\t-\n",
        "abcd-1\t5\x0c\tfirst\t-\t-\n",
        "abcd-1\t\x0b13\tfirst\t-\t-\n",
        "abcd-1\t" + "9" * 21 + "\tfirst\t-\t-\n",  # (past MAX_INDEX_DIGITS: a status list of 10^21 bits)
    ],
)
def test_a_trusted_text_that_to_text_would_not_write_is_not_carried(lines):
    """The text of a trusted ledger is carried into the next (Ledger.text, written as awards.lock):
    only a text that to_text makes of the entries it holds is read by splitting its lines."""
    from badgekiln.sources import ledger as ledger_mod

    text = HEADER + lines
    assert ledger_mod._written(text) is None
    found = ledger_mod.parse_ledger(text, [])
    assert found.text is None


# The reconcile of 2026-12-04 (a loop over every row), kept to hold the set-based one to it.


def _reconcile_row_by_row(ledger: Ledger, project: Project, diagnostics: list[Diagnostic]) -> Ledger:
    """The ledger after this build: new awards appended in id order; removed awards reported.

    The awards of ``project`` have distinct ids: validation refuses two awards of one id
    (``duplicate-id``). One pass over their rows (:attr:`Project.award_rows`: no award's model is
    made but to say where one whose badge changed is), a lookup in the ledger each; the set of
    their ids is made only when fewer of them are in the ledger than it holds (an award removed:
    rare, and an error).
    """
    published_entries = ledger.entries
    rebadged: dict[str, Entry] = {}
    changed: list[tuple[str, Diagnostic]] = []
    added: list[tuple[str, str]] = []  # (id, badge)
    found = 0
    rows = project.award_rows
    for row in rows:
        award_id, badge = row[ROW_ID], row[ROW_BADGE]
        published = published_entries.get(award_id)
        if published is None:
            added.append((award_id, badge))
            continue
        found += 1
        if published.badge != badge:
            award = project.award(award_id)
            # Its credential, its pages and the badge class URL it names were published for the
            # other badge, and earners may hold copies: said loudly, at the build that makes the
            # change (the ledger then records the new badge, and a frozen CI build stops until the
            # ledger is committed). Not refused: a renamed badge file, or a site upgraded from a
            # version that did not say it, must still build.
            changed.append(
                (
                    award_id,
                    Diagnostic(
                        "warning",
                        "badge-changed",
                        f"award {award_id} was published as a {published.badge!r} badge ({REL}) and is now a "
                        f"{badge!r} badge: its pages and files for {published.badge!r} change or go, "
                        "and copies earners already hold still name the first badge",
                        (award.location if award is not None else None) or SourceLocation(REL),
                        f"if that is a mistake, put back 'badge: {yaml_plain(published.badge)}'; to give the other "
                        f"badge as well, revoke this award ('badgekiln revoke {award_id} --reason …') and add a "
                        "new award without an id",
                    ),
                )
            )
            rebadged[award_id] = published._replace(badge=badge)
    if found != len(published_entries):  # (ids are distinct, see above: fewer found means some are gone)
        present = {row[ROW_ID] for row in rows}
        removed = [published_entries[i] for i in published_entries.keys() - present]  # (few: sorted, not all)
        from badgekiln.sources.ledger import _Renames  # (since session 34: an edited id is said at its award)

        renames = _Renames(removed, added, project)
        for entry in sorted(removed, key=lambda e: e.index):
            if renamed := renames.said(entry):
                diagnostics.append(renamed)
                continue
            diagnostics.append(
                Diagnostic(
                    "error",
                    "award-removed",
                    f"award {entry.id} ({entry.badge}) is recorded as published in {REL} but is no longer in the sources",
                    SourceLocation(REL),
                    f"a published badge must stay: put it back and revoke it with 'badgekiln revoke {entry.id} --reason …' "
                    f"(if you edited it, keep 'id: {yaml_plain(entry.id)}' on the award); if it was never published "
                    f"(added by mistake, not yet pushed: 'git diff origin/HEAD -- {REL}' shows its line as added), "
                    f"delete the line that starts with {entry.id} from {REL} too",
                )
            )
    diagnostics.extend(diagnostic for _, diagnostic in sorted(changed, key=lambda c: c[0]))  # (in id order)
    entries = dict(published_entries) | rebadged
    index = ledger.next_index
    for award_id, badge in sorted(added):
        if award_id not in entries:  # (two awards of one id: refused by validation, kept as before)
            entries[award_id] = Entry(award_id, index, badge)
            index += 1
    return Ledger(entries)


_AWARD_IDS = st.sampled_from([f"aw{n:02d}-x" for n in range(12)])
_BADGES = st.sampled_from(["first", "second", "third"])


@settings(max_examples=300, deadline=None)
@given(
    published=st.dictionaries(_AWARD_IDS, _BADGES, max_size=10),
    now=st.dictionaries(_AWARD_IDS, st.tuples(_BADGES, st.integers(0, 3)), max_size=10),
)
def test_reconcile_by_sets_is_the_row_by_row_reconcile(published, now):
    """The ledger after a build, and what it says (awards added, removed, given another badge),
    are those of the loop over every row it replaced, for any ledger and sources (``now``: each
    award's badge and earner; ids are distinct, as validation has them before any reconcile: with
    an id in two files the loop missed a removed award, not generated here)."""

    from badgekiln.sources import ledger as ledger_mod

    ledger = Ledger(
        {award: Entry(award, n * 3, badge, "k1", None) for n, (award, badge) in enumerate(published.items())}
    )
    project = _project(now)
    by_sets: list[Diagnostic] = []
    by_rows: list[Diagnostic] = []
    assert ledger_mod.reconcile(ledger, project, by_sets) == _reconcile_row_by_row(ledger, project, by_rows)
    assert by_sets == by_rows
    # A ledger read from the text to_text wrote carries it, and the ledger after the build the
    # same text with the new awards' lines appended: the text made afresh from its entries.
    read = Ledger(ledger.entries, text=ledger.to_text())
    after = ledger_mod.reconcile(read, project, [])
    assert after.to_text() == Ledger(dict(after.entries)).to_text()


_PAIRS = st.sampled_from([(None, None), ("r0", "e0"), ("r1", "e1"), ("r1", None)])


@settings(max_examples=300, deadline=None)
@given(
    published=st.dictionaries(_AWARD_IDS, st.tuples(_BADGES, _PAIRS), max_size=10),
    now=st.dictionaries(_AWARD_IDS, st.tuples(_BADGES, st.integers(0, 3)), max_size=10),
    active=st.sampled_from([(None, None), ("r1", "e1"), ("r2", "e2")]),
    live=st.sampled_from([set(), {"r1", "e1"}, {"r0", "e0", "r1", "e1"}, {"r1", "e1", "r2", "e2"}]),
)
def test_keys_pinned_after_a_reconcile_are_those_of_a_pass_over_every_entry(published, now, active, live):
    """After a build that only appends awards, their keys are pinned without a pass over every
    entry and the text keeps all but its last lines: the same ledger, text and re-signed awards as
    the pass over every entry gives (the path of any other ledger)."""
    from badgekiln.sources import ledger as ledger_mod

    ledger = Ledger(
        {award: Entry(award, n * 2, badge, *pair) for n, (award, (badge, pair)) in enumerate(published.items())}
    )
    after = ledger_mod.reconcile(Ledger(ledger.entries, text=ledger.to_text()), _project(now), [])
    keys = {"rsa_kid": active[0], "ed_kid": active[1], "published": live}
    fast, fast_resigned = ledger_mod.assign_keys(after, **keys)
    slow, slow_resigned = ledger_mod.assign_keys(Ledger(dict(after.entries)), **keys)  # (nothing appended)
    assert list(fast.entries.items()) == list(slow.entries.items()) and fast_resigned == slow_resigned
    assert fast.to_text() == Ledger(dict(fast.entries)).to_text()


def _project(now: dict) -> Project:
    """A project of four earners whose awards are ``now`` (id -> (badge, earner))."""
    from datetime import date

    from badgekiln import models

    recipients = tuple(
        models.Recipient(
            slug=f"p{n}",
            name=f"P {n}",
            email=f"p{n}@example.org",
            awards=tuple(
                models.Award(
                    id=award,
                    badge=badge,
                    recipient=f"p{n}",
                    issued_on=date(2026, 1, 1),
                    location=SourceLocation(f"recipients/p{n}.yaml", 3),
                )
                for award, (badge, owner) in sorted(now.items())
                if owner == n
            ),
        )
        for n in range(4)
    )
    return models.Project(models.Issuer("I", "https://example.org", "i@example.org"), {}, recipients)


@pytest.mark.parametrize("trusted", [True, False])
def test_entries_share_one_string_for_each_badge_and_key_id(tmp_path, trusted):
    """Both readers (the saved ledger's and the checking one) give every entry of a badge the same
    string, and every entry pinned to a key the same key id: a ledger of 100,000 awards is held by
    every build (and every process it forks), and a string per line was 20 MB of it."""
    import hashlib

    entries = {
        f"award-{n:04d}": Entry(f"award-{n:04d}", n, f"badge-{n % 3}", "rsa-1", "ed-1" if n % 2 else None)
        for n in range(40)
    }
    path = tmp_path / REL
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(Ledger(entries).to_text(), encoding="utf-8")
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if trusted else None
    read = read_ledger(path, [], trusted=digest).entries
    assert read == entries
    assert len({id(entry.badge) for entry in read.values()}) == 3
    assert len({id(entry.rsa_kid) for entry in read.values()}) == 1
    assert len({id(entry.ed_kid) for entry in read.values() if entry.ed_kid is not None}) == 1


def test_edited_ids_are_found_in_one_pass_over_the_new_awards(monkeypatch):
    # (a review: each removed entry derived the ids of every new award of its badge again, and an
    # undone import of 1,500 awards took 39 s before it said anything)
    from badgekiln.formats import ids
    from badgekiln.sources import ledger as ledger_mod

    published = {f"old{n:04d}": "first" for n in range(300)}
    now = {f"new{n:04d}": ("first", n % 4) for n in range(300)}
    ledger = Ledger({award: Entry(award, n, badge, None, None) for n, (award, badge) in enumerate(published.items())})
    calls = []
    real = ids.derive_award_id
    monkeypatch.setattr(ids, "derive_award_id", lambda *a: calls.append(a) or real(*a))
    diagnostics: list[Diagnostic] = []
    ledger_mod.reconcile(ledger, _project(now), diagnostics)
    assert len(calls) <= ledger_mod._Renames.RANKS * len(now)  # (not removed x added)
    assert sum(d.code == "award-removed" for d in diagnostics) == 300  # (none of them is a new award)
