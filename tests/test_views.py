"""Recipients the build cache hands back without decoding their awards (engine/views.py): each is
the recipient its record makes, and a rebuild decodes only the recipients it reads."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import pickle
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import MINIMAL, SVG, TODAY, build, edit_record_texts, tree_bytes, write_site
from hypothesis import given, settings
from hypothesis import strategies as st

from badgekiln import models
from badgekiln.engine import awardtext, jsonread, views, workers
from badgekiln.engine import cache as cache_mod
from badgekiln.engine.cache import BuildCache
from badgekiln.sources.validate import load_project

STATE = Path(".badgekiln/cache/state.json")


def _cached_project(site: Path, today: str = TODAY) -> models.Project:
    cache = BuildCache.open(site, site / "output", None, warnings=[])
    assert cache is not None
    try:
        return cache.load_project(site, base_url=None, today=date.fromisoformat(today)).project
    finally:
        cache.close()


@pytest.fixture
def decoded(monkeypatch) -> list[str]:
    """The slugs of the recipients decoded from their records, in order."""
    found: list[str] = []
    real = views.LazyRecipient.model

    def counting(self):
        if "_model" not in self.__dict__:
            found.append(self.slug)
        return real(self)

    monkeypatch.setattr(views.LazyRecipient, "model", counting)
    return found


def test_a_reused_record_is_the_recipient_it_makes(keyed_site, decoded):
    plain = {r.slug: r for r in load_project(keyed_site, today=date.fromisoformat(TODAY)).project.recipients}
    lazy = _cached_project(keyed_site).recipients
    assert len(lazy) == len(plain) and all(type(r) is views.LazyRecipient for r in lazy)
    for recipient in lazy:  # (what the summary gives: read without decoding)
        other = plain[recipient.slug]
        assert recipient.rows == other.rows and recipient.rows == [models.award_row(a) for a in other.awards]
        for name in views._EAGER:
            assert getattr(recipient, name) == getattr(other, name)
        # (what the awards' keys read of them: see engine/awardtext.py)
        assert views.award_digests(recipient) == awardtext.digests(other)
        assert len(views.award_digests(recipient)) == awardtext.length(other.rows)
    assert decoded == []
    for recipient in lazy:
        other = plain[recipient.slug]
        for field in dataclasses.fields(models.Recipient):
            assert getattr(recipient, field.name) == getattr(other, field.name)
        assert recipient == other and other == recipient and hash(recipient) == hash(other)
        assert repr(recipient) == repr(other) and recipient.public_name == other.public_name
        assert type(dataclasses.replace(recipient, name="X")) is models.Recipient
        assert dataclasses.replace(recipient, name="X") == dataclasses.replace(other, name="X")
        for copied in (pickle.loads(pickle.dumps(recipient)), copy.copy(recipient), copy.deepcopy(recipient)):
            assert type(copied) is models.Recipient and copied == other
    assert sorted(decoded) == sorted(plain)  # (each once)


def _many(count: int, *, expires: str = "2027-02-01") -> dict[str, str | bytes]:
    """A site of ``count`` recipient files of two awards each (the second expiring on ``expires``);
    every third earner has a portfolio."""
    files: dict[str, str | bytes] = {k: v for k, v in MINIMAL.items() if not k.startswith("recipients/")}
    for n in range(count):
        portfolio = f"portfolio: true\n            handle: person-{n:02d}\n            " if n % 3 == 0 else ""
        files[f"recipients/p{n:02d}.yaml"] = f"""
            name: Person {n}
            email: p{n}@example.com
            {portfolio}awards:
              - id: p{n:02d}-first-1
                badge: first-badge
                issued_on: 2026-01-{1 + n % 28:02d}
              - id: p{n:02d}-first-2
                badge: first-badge
                issued_on: 2026-02-{1 + n % 28:02d}
                expires: {expires}
        """
    return files


def _revoke(site: Path, person: int, award: int = 1, on: str = "2026-11-01") -> None:
    path = site / f"recipients/p{person:02d}.yaml"
    text = path.read_text(encoding="utf-8")
    marker = f"id: p{person:02d}-first-{award}\n"
    path.write_text(text.replace(marker, marker + f"    revoked: {{on: {on}, reason: Issued in error}}\n"))


def test_a_rebuild_that_changes_one_file_decodes_no_other(tmp_path, run, decoded):
    """Adding, revoking and suspending an award in one recipient file: none of the 30 others is
    decoded (every pass over the site reads their summaries), and the output is a clean build's.
    (Of earners without a portfolio: see the next test.)"""
    site = write_site(tmp_path / "site", _many(30))
    build(run, site)
    _revoke(site, 4)
    build(run, site)
    assert decoded == []
    path = site / "recipients/p05.yaml"
    path.write_text(path.read_text() + "  - badge: first-badge\n    issued_on: 2026-03-01\n")
    build(run, site)  # (an award added: its id pinned, the ledger written)
    path = site / "recipients/p07.yaml"
    text = path.read_text()
    path.write_text(
        text.replace("id: p07-first-2\n", "id: p07-first-2\n    suspended: {on: 2026-11-02, reason: Audit}\n")
    )
    build(run, site)
    assert decoded == []
    assert "p04-first-1" in (site / "output/revocations.json").read_text()
    assert tree_bytes(site / "output") == _clean_build(run, site, tmp_path / "clean")
    assert (site / "output/earners/person-03/index.html").is_file()


def _new_footer(site: Path) -> None:
    """A change the pages alone show: every award's page is made again, no credential."""
    path = site / "site_src/site.yaml"
    text = path.read_text()
    path.write_text(text + f"footer: A footer of {len(text)} characters.\n")


def _said_damaged_and_made_as_without_it(run, site: Path, tmp_path: Path, edit) -> None:
    """After ``edit``, a build says p02's record is damaged, and makes what a build without the cache makes."""
    edit(site)
    result = build(run, site)
    assert "cache-damaged" in result.err and "recipients/p02.yaml" in result.err, result.err
    first = tree_bytes(site / "output")
    (site / ".badgekiln").rename(tmp_path / "old-cache")
    build(run, site)
    assert tree_bytes(site / "output") == first


def _clean_build(run, site: Path, clean: Path) -> dict:
    """The output of a clean build of ``site``'s sources (in ``clean``)."""
    for folder in ("site_src", "badges", "recipients"):
        shutil.copytree(site / folder, clean / folder)
    build(run, clean)
    return tree_bytes(clean / "output")


@pytest.mark.parametrize("edit", ["footer", "issuer name"])
def test_a_change_every_award_shows_decodes_few_recipients_in_the_builds_process(
    tmp_path, run, decoded, monkeypatch, edit
):
    """Every page (a new footer), or every credential, card and page (a new issuer name), is made
    again, keyed from each award's row and digests (engine/awardtext.py): the workers that make
    the groups decode their recipients, and the output is a clean build's. The build's own
    process decodes only the opted-in earners, every third (their portfolio pages, one site-wide
    unit, show both edits), and for the credentials and cards, one award of each class, whose
    shared pieces (a badge PNG, a card's base) are asked for once per class (Shared.by_badge):
    p00's, an opted-in earner too."""
    monkeypatch.setenv("BADGEKILN_JOBS", "2")
    monkeypatch.setattr(workers, "WAVE_GROUPS", 70)  # (in several waves, a recipient's awards across two)
    site = write_site(tmp_path / "site", _many(110))  # (220 awards: made by workers, see MIN_PARALLEL)
    build(run, site)
    (_new_footer if edit == "footer" else _retitle)(site)
    build(run, site)
    assert sorted(decoded) == sorted(f"p{n:02d}" for n in range(0, 110, 3))
    assert tree_bytes(site / "output") == _clean_build(run, site, tmp_path / "clean")
    page = (site / "output/awards/p07-first-1/index.html").read_text()
    assert "Person 7" in page and ("A footer of" in page if edit == "footer" else "Example Issuers" in page)


def test_texts_read_ahead_are_let_go_but_a_recipient_the_next_wave_makes(tmp_path, run, decoded):
    """views.prefetch reads the record texts of a wave's recipients without decoding them;
    views.let_go lets them go after it, but the one whose awards' tasks go on in the next wave."""
    site = write_site(tmp_path / "site", _many(6))
    build(run, site)
    found = {r.slug: r for r in _cached_project(site).recipients}
    first, second = found["p01"], found["p02"]
    fetched = views.prefetch([first, second, first])
    assert len(fetched) == 2 and all(type(s._fetched) is str for s in fetched) and decoded == []
    kept = views.let_go(fetched, keep=second)
    assert kept == [second.__dict__["_source"]] and first.__dict__["_source"]._fetched is None
    assert views.prefetch([second]) == []  # (still read: not read again)
    assert second.name == "Person 2" and first.name == "Person 1"  # (decoded: the first read again)
    assert sorted(decoded) == ["p01", "p02"]


def test_an_awards_digests_altered_in_its_summary_are_found_when_it_is_decoded(tmp_path, run):
    """A summary whose award digests are not its record's (well formed, so read lazily): the keys
    made from them are not the last build's, the award's groups are made, its record decoded and
    found not to be what the summary says; the build starts again without the cache."""
    site = write_site(tmp_path / "site", _many(6))
    build(run, site)
    state = json.loads((site / STATE).read_text(encoding="utf-8"))
    summary = json.loads(state["sources"]["recipients/p02.yaml"][7])
    assert len(summary[2][0][7]) == 2 * awardtext.DIGEST  # (two awards, neither revoked nor suspended)
    summary[2][0][7] = "0" * awardtext.DIGEST + summary[2][0][7][awardtext.DIGEST :]
    _damage(site, "recipients/p02.yaml", 7, json.dumps(summary))
    _said_damaged_and_made_as_without_it(run, site, tmp_path, _new_footer)


def test_a_change_to_a_portfolio_earner_decodes_the_other_portfolios(tmp_path, run, decoded):
    """The portfolio pages are one site-wide unit: a change that any one shows remakes all of them,
    from the opted-in earners' awards (a limit of today's design, kept here so that it is seen)."""
    site = write_site(tmp_path / "site", _many(12))
    build(run, site)
    _revoke(site, 3)
    build(run, site)
    assert sorted(decoded) == ["p00", "p06", "p09"]


def test_the_summary_of_another_day_takes_the_statuses_from_the_rows(tmp_path, run, decoded):
    """The build summary of the first build of a day: each unchanged file's statuses on the day
    (and what expires soon) from its rows, the same as from its awards."""
    from functools import partial

    from badgekiln.commands import build as build_mod
    from badgekiln.commands.buildsummary import read_state, summarize

    site = write_site(tmp_path / "site", _many(9, expires="2026-06-01"))  # (records whose dates are all past)
    _revoke(site, 4, on="2026-10-01")
    build(run, site, "--today", "2026-11-01")
    day = date(2026, 11, 30)
    cache = BuildCache.open(site, site / "output", None, warnings=[])
    assert cache is not None
    try:
        project = cache.load_project(site, base_url=None, today=day).project
        assert all(type(r) is views.LazyRecipient for r in project.recipients)
        lazily, _ = summarize(project, day, read_state(site), partial(build_mod._record_of, cache))
    finally:
        cache.close()
    assert decoded == []
    plain = load_project(site, today=day).project
    found, _ = summarize(plain, day, read_state(site))
    assert lazily == found and lazily.revoked == () and lazily.total == 18
    assert read_state(site).files["recipients/p04.yaml"][1]["p04-first-1"][1] == "revoked"


def test_the_revocation_list_reads_the_reasons_from_the_rows(tmp_path, run, decoded):
    site = write_site(tmp_path / "site", _many(12))
    _revoke(site, 7)
    build(run, site)
    _revoke(site, 2)
    path = site / "recipients/p10.yaml"
    path.write_text(
        path.read_text().replace(
            "id: p10-first-2\n", "id: p10-first-2\n    suspended: {on: 2026-11-02, reason: Audit}\n"
        )
    )
    build(run, site)
    assert decoded == []  # (p07's reason came from its row: its record was not decoded)
    listed = json.loads((site / "output/revocations.json").read_text())["revokedAssertions"]
    reasons = {
        entry["id"].rsplit("/", 2)[-2]: entry["revocationReason"] for entry in listed if "/awards/" in entry["id"]
    }
    assert reasons == {
        "p02-first-1": "Issued in error",
        "p07-first-1": "Issued in error",
        "p10-first-2": "Suspended: Audit",
    }


def _damage(site: Path, rel: str, item: int, value: object) -> None:
    state = json.loads((site / STATE).read_text(encoding="utf-8"))
    state["sources"][rel][item] = value
    (site / STATE).write_text(json.dumps(state), encoding="utf-8")


def _retitle(site: Path) -> None:
    """A change every award's page shows: every recipient's groups are made again (so decoded)."""
    path = site / "site_src/site.yaml"
    path.write_text(path.read_text().replace("name: Example Issuer", "name: Example Issuers"))


@pytest.mark.parametrize(
    "damage",
    [
        '["§FileResult"]',  # (cut short)
        "not json",
        "[1, 2, 3]",
    ],
)
def test_a_damaged_record_read_lazily_starts_the_build_afresh(tmp_path, run, damage):
    site = write_site(tmp_path / "site", _many(6))
    build(run, site)
    edit_record_texts(site / ".badgekiln/cache", lambda texts: texts.update({"recipients/p02.yaml": damage}))
    _said_damaged_and_made_as_without_it(run, site, tmp_path, _retitle)


def test_a_record_that_is_not_its_summarys_recipient_is_damaged(tmp_path, run):
    """A summary that says something else than its record (an award revoked in one, not the
    other): found when the record is decoded, never published as the summary says."""
    site = write_site(tmp_path / "site", _many(6))
    build(run, site)
    state = json.loads((site / STATE).read_text(encoding="utf-8"))
    summary = json.loads(state["sources"]["recipients/p02.yaml"][7])
    summary[2][0][6][0][models.ROW_REVOKED] = ["2026-11-01", "Issued in error"]
    digests = summary[2][0][7]  # (a revoked award has a second digest: well formed, so read lazily)
    summary[2][0][7] = digests[: awardtext.DIGEST] + "0" * awardtext.DIGEST + digests[awardtext.DIGEST :]
    _damage(site, "recipients/p02.yaml", 7, json.dumps(summary))
    _retitle(site)
    result = build(run, site)
    assert "cache-damaged" in result.err and "recipients/p02.yaml" in result.err
    assert "p02-first-1" not in (site / "output/revocations.json").read_text()


# p02's summary as the build writes it, with its rows (%s) and its award's digests (any will do:
# the rows are damaged); GOOD_ROW is its first award's
BAD_ROW = (
    '[3,["§t"],[["p02","p2@example.com",null,["§SourceLocation","recipients/p02.yaml",1,1],false,null,[%s],"'
    + "0" * 64
    + '"]]]'
)
GOOD_ROW = '["p02-first-1","first-badge","2026-01-03",null,null,true,null,null]'
BAD_ROWS = (
    '["p02-first-1","first-badge","2026-01-03",5,null,true,null,null]',  # (an expiry that is a number)
    '["p02-first-1","first-badge","2026-01-03",null,null,true,["2026-11-01",5],null]',
    '["p02-first-1","first-badge","2026-01-03",null,null,true,null,[]]',
    '{"id":"p02-first-1"}',
)


@pytest.mark.parametrize(
    "summary",
    [
        "not json",
        "[3, [], []]",
        '[3, [], [["p02"]]]',
        "[3, [], 5]",
        BAD_ROW.replace("[3,", "[1,", 1) % GOOD_ROW,  # (the layout before the digests)
        BAD_ROW.replace("[3,", "[2,", 1) % GOOD_ROW,  # (the layout of two digests an award)
        BAD_ROW.replace("0" * 64, "0" * 63) % GOOD_ROW,  # (digests of the wrong length)
        BAD_ROW.replace("0" * 64, "0" * 128) % GOOD_ROW,  # (two digests for an award neither revoked nor suspended)
        BAD_ROW.replace("0" * 64, "g" * 64) % GOOD_ROW,  # (not hexadecimal)
        None,
        *(BAD_ROW % row for row in BAD_ROWS),
    ],
)
def test_a_damaged_summary_means_the_record_is_read_whole(tmp_path, run, summary, decoded):
    site = write_site(tmp_path / "site", _many(6))
    build(run, site)
    first = tree_bytes(site / "output")
    _damage(site, "recipients/p02.yaml", 7, summary)
    project = _cached_project(site)
    found = {r.slug: r for r in project.recipients}
    assert type(found["p02"]) is models.Recipient and type(found["p03"]) is views.LazyRecipient
    (site / ".badgekiln/cache/stamp.json").unlink(missing_ok=True)
    result = build(run, site)
    assert "cache-damaged" not in result.err
    assert tree_bytes(site / "output") == first


def _seal(site: Path) -> None:
    """Write the digest of the state as the build keeps it: the state is then read as the one the
    last build saved, its records and rows not checked one by one (engine/cache.py, _state_problem)."""
    digest = hashlib.sha256((site / STATE).read_bytes()).hexdigest()
    (site / STATE).with_name("state.sha256").write_text(digest, encoding="ascii")


@pytest.mark.parametrize("summary", [BAD_ROW % row for row in BAD_ROWS])
def test_a_summary_altered_with_the_states_digest_ends_in_a_clean_build(tmp_path, run, summary):
    """A state altered and its digest with it is read unchecked (as the last build's own); rows of
    the wrong types then fail the build somewhere, or are read as they are: either way, once the
    record is decoded it is found not to be what the summary says, and the build starts afresh.
    (A change every page shows decodes every record.) Never a traceback."""
    site = write_site(tmp_path / "site", _many(6))
    build(run, site)
    _damage(site, "recipients/p02.yaml", 7, summary)
    _seal(site)
    assert cache_mod._read_state(site / STATE)[3] is True
    _said_damaged_and_made_as_without_it(run, site, tmp_path, _retitle)


def test_an_altered_state_is_checked_record_by_record(tmp_path, run, decoded):
    """The state the last build saved is read unchecked only while it has the bytes it was saved
    with: altered (its digest not), every record and row is checked, and a damaged summary only
    means its file's record is read whole."""
    site = write_site(tmp_path / "site", _many(6))
    build(run, site)
    assert cache_mod._read_state(site / STATE)[3] is True
    _damage(site, "recipients/p02.yaml", 7, BAD_ROW % GOOD_ROW)  # (well formed: read lazily, and p02 has one award)
    found = {r.slug: r for r in _cached_project(site).recipients}
    assert type(found["p02"]) is views.LazyRecipient and found["p02"].rows == [json.loads(GOOD_ROW)]
    for row in BAD_ROWS:
        _damage(site, "recipients/p02.yaml", 7, BAD_ROW % row)
        assert cache_mod._read_state(site / STATE)[3] is False
        found = {r.slug: r for r in _cached_project(site).recipients}
        assert type(found["p02"]) is models.Recipient and type(found["p03"]) is views.LazyRecipient
        _seal(site)  # (the same state, as the last build's own: its rows are not checked)
        assert cache_mod._read_state(site / STATE)[3] is True
        if row.startswith("["):  # (a row that is no list fails validation's pass over the rows: see above)
            found = {r.slug: r for r in _cached_project(site).recipients}
            assert type(found["p02"]) is views.LazyRecipient


DAYS = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))


@settings(deadline=None)  # (a pause of the machine must not fail an example: CI is a busy VM)
@given(
    issued=DAYS,
    expires=st.none() | DAYS,
    revoked=st.none() | DAYS,
    suspended=st.none() | DAYS,
    at=DAYS,
    renews=st.none() | st.just("abcd-1"),
    pinned=st.booleans(),
)
def test_a_rows_status_is_its_awards(issued, expires, revoked, suspended, at, renews, pinned):
    award = models.Award(
        id="abcd-2",
        badge="first-badge",
        recipient="ann",
        issued_on=issued,
        expires=expires,
        revoked=models.Revocation(revoked, "r") if revoked else None,
        suspended=models.Suspension(suspended, "s") if suspended else None,
        renews=renews,
        id_pinned=pinned,
    )
    row = models.award_row(award)
    assert models.row_status(row, at.isoformat()) == award.status(at)
    for day in (
        at - timedelta(days=1) if at > date(1, 1, 1) else at,
        at + timedelta(days=1) if at < date(9999, 12, 31) else at,
    ):
        assert models.row_status(row, day.isoformat()) == award.status(day)
    assert row[models.ROW_ID] == award.id and row[models.ROW_PINNED] is pinned and row[models.ROW_RENEWS] == renews


def test_the_summary_keeps_an_email_only_the_json_module_writes_back(tmp_path):
    """A text orjson cannot write back as it was (a lone surrogate) is written by the json module."""
    recipient = models.Recipient(slug="ann", name="Ann", email="a\udc80@example.com")
    from badgekiln.sources.validate import FileResult

    text = views.summary_text(FileResult((recipient,), ()))
    assert text is not None and text.startswith(jsonread.JSON_MODULE)
    result = views.lazy_result("recipients/ann.yaml", text, "[]", json.loads, ())
    assert result is not None and result.values[0].email == recipient.email


def test_an_award_revoked_or_suspended_has_a_second_digest_as_issued():
    """What the credentials' keys read (the award as issued) is kept beside what the page's read
    only for an award whose two differ (engine/awardtext.py)."""
    day = date(2026, 1, 2)
    plain = models.Award(id="a-1", badge="b", recipient="ann", issued_on=day)
    revoked = dataclasses.replace(plain, id="a-2", revoked=models.Revocation(day, "Issued in error"))
    suspended = dataclasses.replace(plain, id="a-3", suspended=models.Suspension(day, "Audit"))
    recipient = models.Recipient(slug="ann", name="Ann", email="a@example.com", awards=(plain, revoked, suspended))
    found = awardtext.digests(recipient)
    assert len(found) == awardtext.length(recipient.rows) == 5 * awardtext.DIGEST
    pairs = awardtext.pairs(found, recipient.rows)
    issued = models.Recipient(
        slug="ann", name="Ann", email="a@example.com", awards=(plain, revoked.as_issued(), suspended.as_issued())
    )
    again = awardtext.pairs(awardtext.digests(issued), issued.rows)
    assert pairs[0] == again[0] and pairs[0][0] == pairs[0][1]
    for index in (1, 2):
        assert pairs[index][1] == again[index][0] != pairs[index][0]  # (as issued: the award without it)


def test_no_summary_for_a_file_without_recipients():
    from badgekiln.sources.validate import FileResult

    assert views.summary_text(FileResult((), ())) is None
    badge = models.BadgeClass(slug="b", name="B", description="", image="x.svg", criteria="")
    assert views.summary_text(FileResult((badge,), ())) is None


_ = SVG  # (the sites here use MINIMAL's artwork)


def test_a_summary_altered_to_fail_the_build_starts_it_afresh(tmp_path, run):
    """A summary that no longer says what its record says can fail a build in other ways than a
    decode (a revocation date that is no date, read by the status lists; an award gone from the
    rows, which the ledger then misses): the build checks every recipient it read lazily, finds
    the record damaged, and starts again without the cache."""
    for change in ("date", "award"):
        site = write_site(tmp_path / change, _many(6))
        build(run, site)
        state = json.loads((site / STATE).read_text(encoding="utf-8"))
        summary = json.loads(state["sources"]["recipients/p02.yaml"][7])
        digests, one = summary[2][0][7], awardtext.DIGEST
        if change == "date":  # (with a second digest, as a revoked award has: well formed)
            summary[2][0][6][0][models.ROW_REVOKED] = ["zzzz", "Issued in error"]
            summary[2][0][7] = digests[:one] + "0" * one + digests[one:]
        else:
            del summary[2][0][6][1]
            summary[2][0][7] = digests[:one]  # (and its digest: a summary of one award fewer)
        _damage(site, "recipients/p02.yaml", 7, json.dumps(summary))
        _revoke(site, 4)  # (the status lists are made again)
        result = build(run, site)
        assert "cache-damaged" in result.err and "recipients/p02.yaml" in result.err, result.err
        assert "p02-first-1" not in (site / "output/revocations.json").read_text()


def test_a_damaged_record_in_the_previews_cache_is_built_again(tmp_path):
    from badgekiln.commands.serve import Preview

    site = write_site(tmp_path / "site", _many(6))
    folder = tmp_path / "preview" / "site"
    folder.parent.mkdir()
    preview = Preview(site, folder, "http://127.0.0.1:8000/", date.fromisoformat(TODAY), watch=True)
    preview.build()
    edit_record_texts(folder.parent / "cache", lambda texts: texts.update({"recipients/p02.yaml": "not json"}))
    _retitle(site)
    result = preview.build()
    assert result.files > 0 and "Example Issuers" in (folder / "index.html").read_text()


def test_a_damaged_error_is_pickled_back():
    found = pickle.loads(pickle.dumps(views.Damaged("recipients/a.yaml", "its text does not decode")))
    assert found.bundle == "recipients/a.yaml" and str(found) == "recipients/a.yaml: its text does not decode"


def test_a_rebuild_writes_only_the_shard_of_the_records_text_that_changed(tmp_path, run, monkeypatch):
    """The recipients' records' texts are in 256 shard files (engine/bundletexts.py): a rebuild
    that validates one file again reads and writes its shard only, and the state names the same
    files for the others. A badge class's text (read on every rebuild) is in the state."""
    from badgekiln.engine import bundletexts

    site = write_site(tmp_path / "site", _many(40))
    build(run, site)
    folder = site / ".badgekiln/cache/records"
    before = {p.name for p in folder.iterdir()}
    sources = json.loads((site / STATE).read_text())["sources"]
    assert len(before) > 20 and sources["recipients/p01.yaml"][1] is None
    assert type(sources["badges/first-badge.yaml"][1]) is str
    read: list[str] = []
    real = bundletexts.read_shard
    monkeypatch.setattr(bundletexts, "read_shard", lambda *a: read.append(a[-1]) or real(*a))
    _revoke(site, 4)
    build(run, site)
    assert read.count(bundletexts.RECORDS) == 1  # (p04's shard, for the texts of the others in it)
    after = {p.name for p in folder.iterdir()}
    assert len(after - before) == 1 and len(before - after) == 1


def test_records_texts_lost_with_their_shards_are_made_again(tmp_path, run):
    site = write_site(tmp_path / "site", _many(6))
    build(run, site)
    first = tree_bytes(site / "output")
    for path in (site / ".badgekiln/cache/records").iterdir():
        path.write_bytes(b"{}")  # (no longer the bytes its name is the SHA-256 of)
    _retitle(site)  # (every recipient's groups are made again: every record is read)
    result = build(run, site)
    assert "cache-damaged" in result.err
    rebuilt = tree_bytes(site / "output")
    (site / ".badgekiln").rename(tmp_path / "old-cache")
    assert "cache-damaged" not in build(run, site).err
    assert tree_bytes(site / "output") == rebuilt != first
