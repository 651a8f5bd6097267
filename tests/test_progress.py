"""Progress on a terminal (and only there) and the summary at the end of build and award --csv."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from datetime import date
from pathlib import Path

import orjson
from conftest import MEMBER_SITE, REPO, TODAY, build, write_site

from badgekiln.commands import buildsummary
from badgekiln.commands.buildsummary import read_state, summarize
from badgekiln.engine import stamp
from badgekiln.sources.validate import load_project


def test_build_ends_with_what_changed_since_the_last_build(minimal_site, run):
    assert (
        "awards: 1 (first build: 1 added, 0 changed, 0 revoked; 0 expire within 30 days)"
        in build(run, minimal_site).out
    )
    assert "(since the last build: 0 added, 0 changed, 0 revoked; 0 expire" in build(run, minimal_site).out
    write_site(
        minimal_site,
        {
            "recipients/bo.yaml": """
        name: Bo
        email: bo@example.com
        awards:
          - id: bo-first-1
            badge: first-badge
            issued_on: 2026-01-02
            expires: 2026-12-10
    """
        },
    )
    ann = minimal_site / "recipients/ann.yaml"
    ann.write_text(ann.read_text() + "    narrative: Did it well.\n")
    assert (
        "(since the last build: 1 added, 1 changed, 0 revoked; 1 expire within 30 days)" in build(run, minimal_site).out
    )
    assert (
        run(
            "revoke", "ann-first-1", "--reason", "Issued in error", "--source", str(minimal_site), "--today", TODAY
        ).code
        == 0
    )
    assert (
        "(since the last build: 0 added, 1 changed, 1 revoked; 1 expire within 30 days)" in build(run, minimal_site).out
    )
    suspend = ["--source", str(minimal_site), "--today", TODAY]
    assert run("suspend", "bo-first-1", "--reason", "Under investigation", *suspend).code == 0
    assert (
        "(since the last build: 0 added, 0 changed, 0 revoked, 1 suspended; 1 expire within 30 days)"
        in build(run, minimal_site).out
    )  # (suspended, it is still one to renew, as `report expiring` lists it: a review found them apart)
    listed = run("report", "expiring", "--within", "30d", *suspend)
    assert "bo-first-1" in listed.out and "suspended since" in listed.out
    assert run("unsuspend", "bo-first-1", *suspend).code == 0
    assert (
        "(since the last build: 0 added, 0 changed, 0 revoked, 1 reinstated; 1 expire within 30 days)"
        in build(run, minimal_site).out
    )
    bo = minimal_site / "recipients/bo.yaml"  # renewed: no longer one to renew (as report expiring says)
    bo.write_text(bo.read_text() + "  - badge: first-badge\n    issued_on: 2026-11-20\n    renews: bo-first-1\n")
    assert "1 added, 0 changed, 0 revoked; 0 expire within 30 days)" in build(run, minimal_site).out
    (minimal_site / ".badgekiln/last-build.json").write_text("[not a snapshot")
    assert "awards: 3 (first build: 3 added" in build(run, minimal_site).out  # damaged: counts afresh


def _fresh_hashes(site: Path) -> dict[str, list[str]]:
    """Every award's [hash, status] as a build's summary computes them without any memo."""
    loaded = load_project(site, base_url=None, today=date.fromisoformat(TODAY))
    return summarize(loaded.project, date.fromisoformat(TODAY), None)[1].awards


def _recorded(state: Path) -> tuple[dict, dict[str, list[str]]]:
    """last-build.json, and every award's [hash, status] in it."""
    data = orjson.loads(state.read_bytes())
    every = dict(data["loose"])
    for view in data["files"].values():
        every.update(view[1])
    return data, every


def test_summary_views_taken_from_the_last_build_equal_views_made_afresh(example_site, run):
    """The view of an unchanged recipient file (its awards' hashes and status) comes from
    last-build.json, when its cached record is the one recorded there; it must be what a build
    without the memo makes, edit after edit."""
    state = example_site / ".badgekiln/last-build.json"
    build(run, example_site)
    recorded, every = _recorded(state)
    assert recorded["format"] == 2 and recorded["today"] == TODAY and recorded["files"]
    assert every == _fresh_hashes(example_site)
    first, other = sorted((example_site / "recipients").glob("*.yaml"))[:2]
    first.write_text(first.read_text() + "    narrative: Edited.\n")
    assert "0 added, 1 changed" in build(run, example_site).out
    assert _recorded(state)[1] == _fresh_hashes(example_site)
    # A view that lies about an unchanged file is taken as it is (proof that it was used: no
    # award of it was looked at) on the same day ...
    recorded, every = _recorded(state)
    rel = f"recipients/{other.name}"
    award = next(iter(recorded["files"][rel][1]))
    assert every[award][1] == "valid"
    recorded["files"][rel][1][award] = ["0" * 16, "suspended"]
    state.write_bytes(orjson.dumps(recorded))
    stamp.forget(example_site)  # (else the build replays the last one's report)
    out = build(run, example_site).out
    assert "0 added, 0 changed, 0 revoked;" in out  # (no "reinstated": the status was not made again)
    assert _recorded(state)[1][award] == ["0" * 16, "suspended"]
    # ... on another day only its hashes are: each status is made again.
    recorded = orjson.loads(state.read_bytes())
    recorded["today"] = "2020-01-01"
    state.write_bytes(orjson.dumps(recorded))
    stamp.forget(example_site)
    assert "0 added, 0 changed, 0 revoked, 1 reinstated;" in build(run, example_site).out
    assert _recorded(state)[1][award] == ["0" * 16, "valid"]
    # A file that changed since is seen afresh, whatever the view says.
    other.write_text(other.read_text() + "\n")
    assert "0 added, 1 changed" in build(run, example_site).out
    assert _recorded(state)[1] == _fresh_hashes(example_site)


def test_same_day_rebuilds_count_what_a_summary_made_afresh_counts(tmp_path, run, monkeypatch):
    """Edits on one day that change an award's expiry or status without touching its earner's file
    (a badge's valid_for, members.csv) or with it (a renewal): each rebuild's summary, made from
    the kept views of unchanged records, is the one made afresh against the same last build."""
    site = write_site(tmp_path / "site", MEMBER_SITE)
    mo, badge, members = site / "recipients/mo.yaml", site / "badges/chartered.yaml", site / "site_src/members.csv"
    mo.write_text(mo.read_text().replace("membership: {until: 2026-10-31}\n", ""))
    members.write_text("email,until\nmo@example.com,2026-12-31\n")
    write_site(  # (expiring soon, in a file no edit touches: its view is kept)
        site,
        {
            "recipients/al.yaml": """
        name: Al
        email: al@example.com
        awards:
          - id: al-course
            badge: course
            issued_on: 2026-02-01
            expires: 2026-12-01
    """
        },
    )
    al = site / "recipients/al.yaml"
    day = date.fromisoformat(TODAY)
    viewed: list[str] = []
    real = buildsummary._view

    def view(recipient, *rest):
        viewed.append(recipient.slug)
        return real(recipient, *rest)

    monkeypatch.setattr(buildsummary, "_view", view)

    def rebuilt() -> str:
        previous = read_state(site)
        afresh = summarize(load_project(site, base_url=None, today=day).project, day, previous, None)[0]
        viewed.clear()
        line = build(run, site).out.splitlines()[-1]
        assert line == afresh.line()
        return line

    assert "; 1 expire" in rebuilt()
    badge.write_text(badge.read_text() + "valid_for: P11M\n")  # (mo-chartered now expires on 2026-12-15)
    assert "0 added, 1 changed, 0 revoked; 2 expire" in rebuilt()
    members.write_text("email,until\nmo@example.com,2026-11-01\n")  # (lapsed: suspended, still to renew)
    assert "0 changed, 0 revoked, 1 suspended; 2 expire" in rebuilt()
    mo.write_text(mo.read_text() + "  - badge: chartered\n    issued_on: 2026-11-22\n    renews: mo-chartered\n")
    assert "1 added, 0 changed, 0 revoked; 1 expire" in rebuilt()
    members.write_text("email,until\nmo@example.com,2026-12-31\n")
    assert "0 added, 0 changed, 0 revoked, 2 reinstated; 1 expire" in rebuilt()
    al.write_text(al.read_text() + "    narrative: Passed.\n")
    assert "0 added, 1 changed, 0 revoked; 1 expire" in rebuilt()
    assert viewed == ["al"]  # (mo's view was the last build's: none of its awards was looked at)
    badge.write_text(badge.read_text().replace("valid_for: P11M\n", ""))
    assert "0 added, 2 changed, 0 revoked; 1 expire" in rebuilt()


def test_summary_reads_the_last_build_file_of_the_first_format(minimal_site, run):
    """last-build.json as builds before format 2 wrote it (the awards alone) still gives a summary."""
    build(run, minimal_site)
    state = minimal_site / ".badgekiln/last-build.json"
    state.write_bytes(orjson.dumps(_recorded(state)[1]))
    stamp.forget(minimal_site)
    assert "(since the last build: 0 added, 0 changed, 0 revoked" in build(run, minimal_site).out
    assert orjson.loads(state.read_bytes())["format"] == 2
    for damaged in (
        {"format": 2, "today": TODAY, "loose": {}, "files": {"recipients/ann.yaml": ["x", {"a": [1, 2]}, []]}},
        {"format": 2, "today": TODAY, "loose": {}, "files": {"recipients/ann.yaml": ["x", {}, [5]]}},
        {"format": 2, "today": None, "loose": {}, "files": {}},
        {"format": 2, "today": TODAY, "loose": {"a": ["x"]}, "files": {}},
    ):
        state.write_bytes(orjson.dumps(damaged))
        stamp.forget(minimal_site)
        assert "awards: 1 (first build: 1 added" in build(run, minimal_site).out  # damaged: counts afresh


def test_a_fifo_or_a_link_at_the_last_build_file_is_not_read(minimal_site, run, tmp_path):
    """A FIFO there blocked every build (stranger review); a link may lead anywhere."""
    build(run, minimal_site)
    state = minimal_site / ".badgekiln/last-build.json"
    state.unlink()
    os.mkfifo(state)
    stamp.forget(minimal_site)
    done = subprocess.run(  # (in a process of its own: a build that blocks is ended, not waited on for ever)
        [sys.executable, "-c", "import sys; from badgekiln.cli import run; run(sys.argv[1:])", "build"]
        + ["--source", str(minimal_site), "--today", TODAY],
        env=dict(os.environ, PYTHONPATH=str(REPO / "src")),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "awards: 1 (first build: 1 added" in done.stdout  # (not read: counted afresh)
    state.write_bytes(b"[" * 300000 + b"]" * 300000)  # (made into objects by orjson: a segfault, stranger review)
    stamp.forget(minimal_site)
    assert "awards: 1 (first build: 1 added" in build(run, minimal_site).out
    assert state.is_file() and not state.is_symlink()  # (the build wrote its own in place of the FIFO)
    (tmp_path / "elsewhere.json").write_bytes(state.read_bytes())  # (a good record, behind a link)
    state.unlink()
    state.symlink_to(tmp_path / "elsewhere.json")
    stamp.forget(minimal_site)
    assert "awards: 1 (first build: 1 added" in build(run, minimal_site).out


def test_a_folder_at_the_last_build_file_is_named_in_a_warning_and_left_alone(minimal_site, run):
    """No snapshot can take a folder's place: every summary would say "first build" quietly. The
    build says why, and leaves the folder (never removes what it did not make)."""
    build(run, minimal_site)
    state = minimal_site / ".badgekiln/last-build.json"
    state.unlink()
    state.mkdir()
    (state / "kept.txt").write_text("mine")
    stamp.forget(minimal_site)
    built = build(run, minimal_site)
    assert "awards: 1 (first build: 1 added" in built.out
    assert "summary-not-kept" in built.err and "rm -r .badgekiln/last-build.json" in built.err
    assert (state / "kept.txt").read_text() == "mine"
    assert "summary-not-kept" in build(run, minimal_site).err  # (and on every build until it is removed)
    (state / "kept.txt").unlink()
    state.rmdir()
    built = build(run, minimal_site)
    assert "summary-not-kept" not in built.err and "first build" in built.out  # (the file kept again)
    assert "first build" not in build(run, minimal_site).out


def test_a_folder_behind_a_linked_cache_folder_is_not_looked_at(minimal_site, run, tmp_path):
    """.badgekiln a link (the cache is refused): what it leads to is not looked at, and no hint
    tells anyone to remove a folder outside the site (a stranger-PR review)."""
    outside = tmp_path / "elsewhere"
    (outside / "last-build.json").mkdir(parents=True)
    (minimal_site / ".badgekiln").symlink_to(outside, target_is_directory=True)
    from badgekiln.commands import buildsummary

    assert not buildsummary.blocked(minimal_site)  # (it looks at neither the link nor what it leads to)
    built = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert "cache-damaged" in built.err and "summary-not-kept" not in built.err
    assert (outside / "last-build.json").is_dir() and not any((outside / "last-build.json").iterdir())


def test_award_csv_ends_with_a_summary(minimal_site, run, tmp_path):
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "name,email,badge,issued_on\nCy,cy@example.com,first-badge,2026-03-01\n"
        "Di,di@example.com,first-badge,2026-03-01\nAnn Example,ann@example.com,first-badge,2026-03-02\n"
    )
    result = run("award", "--csv", str(sheet), "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err
    assert "2 new earner(s), each with a new file in recipients/" in result.out
    assert "3 award(s) added, 0 skipped" in result.out


def _build_on(site: Path, *, terminal: bool, ci: bool, args: tuple[str, ...] = ("build",)) -> tuple[int, bytes, bytes]:
    """Build (or run ``args``) in a subprocess whose stderr is a pseudo-terminal (or a pipe);
    returns (code, out, err)."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), TERM="xterm", COLUMNS="100")
    env.pop("CI", None)
    if ci:
        env["CI"] = "true"
    command = [
        sys.executable,
        "-c",
        "import sys; from badgekiln.cli import main; main(sys.argv[1:])",
        *args,
        "--source",
        str(site),
        "--today",
        TODAY,
    ]
    if not terminal:
        done = subprocess.run(command, env=env, capture_output=True, timeout=300)
        return done.returncode, done.stdout, done.stderr
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    err = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the build has ended
            break
        if not chunk:
            break
        err += chunk
    os.close(leader)
    out = process.stdout.read()
    return process.wait(timeout=300), out, err


def test_progress_shows_on_a_terminal_only(example_site):
    code, out, err = _build_on(example_site, terminal=True, ci=False)
    assert code == 0, err
    assert b"signing and rendering" in err and b"reading the sources" in err
    assert b"awards: 14 (first build: 14 added" in out  # the summary is on stdout, not in the live line
    for terminal, ci in ((True, True), (False, False)):
        code, out, err = _build_on(example_site, terminal=terminal, ci=ci)
        assert code == 0 and b"signing and rendering" not in err and b"\x1b[" not in err
        assert b"(since the last build: 0 added, 0 changed, 0 revoked" in out


def test_the_live_line_shows_a_spreadsheets_name_as_text(minimal_site, tmp_path):
    """``award --csv`` names the sheet in its live line: a name with a terminal escape and rich
    markup is shown escaped and as it is written, never acted on or styled."""
    sheet = tmp_path / "s[red]x\x1b]0;PWNED\x07.csv"
    sheet.write_text("name,email,badge,issued_on\nCy,cy@example.com,first-badge,2026-03-01\n")
    code, out, err = _build_on(minimal_site, terminal=True, ci=False, args=("award", "--csv", str(sheet)))
    assert code == 0, err
    assert b"checking and importing s[red]x\\x1b]0;PWNED\\x07.csv" in err, err
    assert b"\x1b]0;" not in err and b"\x07" not in err


def test_an_expired_award_whose_suspension_ends_is_not_reinstated(minimal_site, run):
    # (hostile review: the summary said "1 reinstated" for an award that went from suspended to expired)
    ann = minimal_site / "recipients/ann.yaml"
    ann.write_text(ann.read_text().replace("issued_on: 2026-01-15", "issued_on: 2026-01-15\n    expires: 2026-06-01"))
    source = ["--source", str(minimal_site), "--today", TODAY]
    build(run, minimal_site)
    assert run("suspend", "ann-first-1", "--reason", "Audit", *source).code == 0
    assert "1 suspended" in build(run, minimal_site).out
    assert run("unsuspend", "ann-first-1", *source).code == 0
    assert "reinstated" not in build(run, minimal_site).out


def test_a_revocation_undone_is_a_warning(minimal_site, run):
    # (a review: a revert of a published revocation cleared the bit, and the summary said "1 changed")
    ann = minimal_site / "recipients/ann.yaml"
    before = ann.read_text()
    build(run, minimal_site)
    assert run("revoke", "ann-first-1", "--reason", "Fraud", "--source", str(minimal_site), "--today", TODAY).code == 0
    revoked = build(run, minimal_site)
    assert "warning[unrevoked]" not in revoked.err
    ann.write_text(before)  # (the revert)
    undone = build(run, minimal_site)
    assert "warning[unrevoked]: award ann-first-1 was revoked at the last build and is not now" in undone.err
    assert "warning[unrevoked]" not in build(run, minimal_site).err  # (said once: the last build has it valid)


def test_awards_a_build_no_longer_has_are_counted_as_removed(minimal_site, run):
    # (a provider's review: 5,000 imported awards, built, then undone with git (the recipient files
    # and awards.lock): the next build took their pages out of output/ and said "0 added, 0 changed")
    build(run, minimal_site)
    ann, ledger = minimal_site / "recipients/ann.yaml", minimal_site / "site_src/awards.lock"
    before = ann.read_text(), ledger.read_text()
    src = ["--source", str(minimal_site), "--today", TODAY]
    for day in ("2026-02-01", "2026-02-02"):
        assert run("award", "--email", "ann@example.com", "--badge", "first-badge", "--issued-on", day, *src).code == 0
    assert "awards: 3 (since the last build: 2 added" in build(run, minimal_site).out
    ann.write_text(before[0])
    ledger.write_text(before[1])
    result = build(run, minimal_site)
    assert "awards: 1 (since the last build: 0 added, 0 changed, 0 revoked, 2 removed; 0 expire" in result.out
    assert "(since the last build: 0 added, 0 changed, 0 revoked; 0 expire" in build(run, minimal_site).out
