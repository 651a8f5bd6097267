"""``award`` (by hand, from a sheet, from an issue form) edits recipient files without losing
anything: a file it cannot edit exactly is refused before any file is written (a hostile review
of issuing from spreadsheets and issue forms, session 29)."""

from __future__ import annotations

import openpyxl
import pytest
import yaml
from conftest import TODAY, write_site


def award_by_hand(run, site, email, name, issued_on="2026-03-01", badge="first-badge"):
    return run(
        "award",
        "--source",
        str(site),
        "--today",
        TODAY,
        "--email",
        email,
        "--name",
        name,
        "--badge",
        badge,
        "--issued-on",
        issued_on,
    )


def award_into(run, site, stem: str, text: str) -> str:
    """Write ``recipients/<stem>.yaml`` as ``text``, award that earner first-badge by hand (on
    2026-03-01), and return the file's new text."""
    name = stem.capitalize()
    (site / f"recipients/{stem}.yaml").write_text(f"name: {name}\nemail: {stem}@example.com\nawards:\n" + text)
    assert award_by_hand(run, site, f"{stem}@example.com", name).code == 0
    return (site / f"recipients/{stem}.yaml").read_text()


def snapshot(site):
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "Cat Example", "email": "cat@example.com", "awards": []}\n',  # (one-line JSON, as scripts write)
        "{name: Cat Example, email: cat@example.com, awards: []}\n",
        "  name: Cat Example\n  email: cat@example.com\n  awards: []\n",  # (indented as a whole)
    ],
)
def test_a_record_not_written_key_per_line_is_refused_not_emptied(minimal_site, run, text):
    # (the line holding 'awards' was replaced by 'awards:': a one-line record lost its name and email)
    (minimal_site / "recipients/cat.yaml").write_text(text)
    before = snapshot(minimal_site)
    result = award_by_hand(run, minimal_site, "cat@example.com", "Cat Example")
    assert result.code == 1
    assert (
        "recipients/cat.yaml:" in result.err
        and "error[source]: this file is not written one key per line" in result.err
    )
    assert snapshot(minimal_site) == before


def test_an_empty_list_keeps_its_comment(minimal_site, run):
    (minimal_site / "recipients/dee.yaml").write_text("name: Dee\nemail: dee@example.com\nawards: []   # none yet\n")
    assert award_by_hand(run, minimal_site, "dee@example.com", "Dee").code == 0
    text = (minimal_site / "recipients/dee.yaml").read_text()
    assert text.startswith("name: Dee\nemail: dee@example.com\nawards:  # none yet\n  - id: ")
    assert yaml.safe_load(text)["awards"][0]["badge"] == "first-badge"


def test_a_kept_text_at_the_end_of_the_list_keeps_its_blank_lines(minimal_site, run):
    # (the new award went after the last line with text: the '|+' narrative lost its blank lines)
    (minimal_site / "recipients/bob.yaml").write_text(
        "name: Bob\nemail: bob@example.com\nawards:\n  - id: bob-first-1\n    badge: first-badge\n"
        "    issued_on: 2026-01-01\n    narrative: |+\n      Line one.\n\n\n"
    )
    assert award_by_hand(run, minimal_site, "bob@example.com", "Bob").code == 0
    awards = yaml.safe_load((minimal_site / "recipients/bob.yaml").read_text())["awards"]
    assert awards[0]["narrative"] == "Line one.\n\n\n"
    assert [a["issued_on"].isoformat() for a in awards] == ["2026-01-01", "2026-03-01"]


def test_a_sheet_changes_no_file_when_one_cannot_be_edited(minimal_site, run, tmp_path):
    # (README: "one bad row and nothing changes"; ann.yaml was rewritten before dan.yaml failed)
    write_site(
        minimal_site,
        {
            "recipients/dan.yaml": "name: Dan\nemail: dan@example.com\nawards: [{badge: first-badge, issued_on: 2026-01-01}]\n"
        },
    )
    assert run("build", "--source", str(minimal_site), "--today", TODAY).code == 0
    before = snapshot(minimal_site)
    sheet = tmp_path / "two.csv"
    sheet.write_text(
        "name,email,badge,issued_on\nAnn Example,ann@example.com,first-badge,2026-03-01\n"
        "Dan,dan@example.com,first-badge,2026-03-02\nZed New,zed@example.com,first-badge,2026-03-02\n"
    )
    result = run("award", "--csv", str(sheet), "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "recipients/dan.yaml:3: error" in result.err
    assert snapshot(minimal_site) == before


def test_hidden_and_hairline_columns_are_refused(minimal_site, run, tmp_path):
    # (a hidden 'email' column was read in place of the visible "E-mail address": the badge went elsewhere)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Name", "E-mail address", "Badge", "Issued on", "email", "narrative"])
    sheet.append(["Vera", "vera@example.com", "first-badge", "2026-03-01", "mallory@evil.example", "x"])
    sheet.column_dimensions["E"].hidden = True
    sheet.column_dimensions["F"].width = 0.1
    sheet.column_dimensions["H"].hidden = True  # (hidden and empty: nothing unseen)
    path = tmp_path / "hidden.xlsx"
    book.save(path)
    before = snapshot(minimal_site)
    result = run("award", "--csv", str(path), "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1
    assert (
        "hidden.xlsx:1:5 (cell E1): error[hidden-columns]: columns E, F of the sheet 'Sheet' are hidden" in result.err
    )
    assert snapshot(minimal_site) == before
    sheet.column_dimensions["E"].hidden = False
    sheet.column_dimensions["F"].width = 12
    book.save(path)
    result = run(
        "award", "--csv", str(path), "--source", str(minimal_site), "--today", TODAY, "--map", "E-mail address="
    )
    assert "hidden-columns" not in result.err


def test_a_narrow_default_width_hides_the_columns_without_one_of_their_own(tmp_path):
    from badgekiln.sources.sheets import _hidden_parts

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["name", "email"])
    sheet.column_dimensions["A"].width = 20
    sheet.sheet_format.defaultColWidth = 0.5
    path = tmp_path / "narrow.xlsx"
    book.save(path)
    scan = _hidden_parts(path.read_bytes(), "xl/worksheets/sheet1.xml")
    assert scan.hidden() == set() and scan.hidden_columns(3) == {2, 3}


def test_a_column_without_a_name_that_holds_text_is_warned_about(minimal_site, run, tmp_path):
    sheet = tmp_path / "blank.csv"
    sheet.write_text("name,email,badge,issued_on,\nZoe,zoe@example.org,first-badge,2026-03-05,FAILED - do not award\n")
    result = run("award", "--csv", str(sheet), "--source", str(minimal_site), "--today", TODAY)
    assert (
        "blank.csv:2:5 (cell E2): warning[unnamed-column]: column E has no name in the header, so it is not read; "
        "row 2 has 'FAILED - do not award' in it"
    ) in result.err


@pytest.mark.parametrize("day", ["1900-01-01", "1899-12-30"])
def test_the_date_of_an_empty_date_cell_is_refused(minimal_site, run, tmp_path, day):
    sheet = tmp_path / "zero.csv"
    sheet.write_text(f"name,email,badge,issued_on\nZoe,zoe@example.org,first-badge,{day}\n")
    result = run("award", "--csv", str(sheet), "--source", str(minimal_site), "--today", TODAY)
    assert (
        result.code == 1
        and "zero.csv:2:4 (cell D2): error[bad-date]" in result.err
        and "empty or zero cell" in result.err
    )


def test_awarding_again_what_was_revoked_says_so(minimal_site, run):
    assert (
        run(
            "revoke", "ann-first-1", "--reason", "Issued in error", "--source", str(minimal_site), "--today", TODAY
        ).code
        == 0
    )
    result = award_by_hand(run, minimal_site, "ann@example.com", "Ann Example", issued_on="2026-01-15")
    assert (
        "already has first-badge issued on 2026-01-15 (award ann-first-1), but it is REVOKED (Issued in error)"
        in result.out
    )
    assert "give the new award a later issue date" in result.out


RENEWABLE = """
    name: First Badge
    description: The first badge.
    image: assets/badge.svg
    criteria: Did the thing.
    valid_for: P3Y
"""


def test_a_later_award_of_a_badge_to_renew_renews_the_earlier_one(minimal_site, run, tmp_path):
    # (a cohort renewed from a sheet kept being told to renew: only 'award --renew' wrote 'renews')
    write_site(minimal_site, {"badges/first-badge.yaml": RENEWABLE})
    sheet = tmp_path / "renewed.csv"
    sheet.write_text("name,email,badge,issued_on\nAnn Example,ann@example.com,first-badge,2026-11-01\n")
    result = run("award", "--csv", str(sheet), "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err
    assert "warning[renewal]: ann@example.com's new first-badge award renews award ann-first-1" in result.err
    awards = yaml.safe_load((minimal_site / "recipients/ann.yaml").read_text())["awards"]
    assert awards[1]["renews"] == "ann-first-1"
    expiring = run("report", "expiring", "--within", "5y", "--source", str(minimal_site), "--today", TODAY)
    assert "ann-first-1" not in expiring.out and awards[1]["id"] in expiring.out


def test_no_renewal_is_assumed_for_a_badge_that_does_not_expire_or_an_earlier_date(minimal_site, run):
    assert award_by_hand(run, minimal_site, "ann@example.com", "Ann Example", issued_on="2026-11-01").code == 0
    write_site(minimal_site, {"badges/first-badge.yaml": RENEWABLE})
    result = award_by_hand(run, minimal_site, "ann@example.com", "Ann Example", issued_on="2025-06-01")
    assert result.code == 0 and "renewal" not in result.err
    awards = yaml.safe_load((minimal_site / "recipients/ann.yaml").read_text())["awards"]
    assert all("renews" not in a for a in awards)


def test_many_col_entries_are_cut_to_the_columns_read(tmp_path):
    # (a review: 100,000 <col> of the whole width took 41 s; each is now cut to the columns read)
    import time
    import zipfile

    from badgekiln.sources.sheets import _hidden_parts

    book = openpyxl.Workbook()
    book.active.append(["name", "email"])
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    crafted = tmp_path / "cols.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(crafted, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(
                    b"<sheetData>",
                    b"<cols>" + b'<col min="1" max="16384" width="9"/>' * 100_000 + b"</cols><sheetData>",
                )
            target.writestr(info.filename, data)
    start = time.process_time()
    scan = _hidden_parts(crafted.read_bytes(), "xl/worksheets/sheet1.xml")
    assert scan.hidden_columns(2) == set()
    assert time.process_time() - start < 10  # (a guard against the hang, not a speed target: 41 s before, 0.5 s now)


def test_a_comment_on_the_last_award_stays_with_it(minimal_site, run):
    # (the new award went above the comment, which then read as the new award's)
    text = award_into(
        run,
        minimal_site,
        "eve",
        "  - id: eve-first-1\n    badge: first-badge\n"
        "    issued_on: 2026-01-01\n    # assessed on site by Bob\n# the file's own last line\n",
    )
    assert "    issued_on: 2026-01-01\n    # assessed on site by Bob\n  - id: " in text
    assert text.endswith("# the file's own last line\n")
    assert [a["issued_on"].isoformat() for a in yaml.safe_load(text)["awards"]] == ["2026-01-01", "2026-03-01"]


def test_a_new_award_goes_above_a_comment_at_the_margin_that_follows_the_last_award(minimal_site, run):
    # (a review: it went under "# ---- archived ----", among commented-out awards)
    text = award_into(
        run,
        minimal_site,
        "eve",
        "  - id: eve-first-1\n    badge: first-badge\n"
        "    issued_on: 2026-01-01\n\n# ---- archived (do not restore) ----\n    # - id: eve-old\n",
    )
    assert text.index("  - id: ", text.index("eve-first-1")) < text.index("# ---- archived")
    assert text.endswith("# ---- archived (do not restore) ----\n    # - id: eve-old\n")


def test_a_comment_at_the_margin_between_an_awards_keys_stays_inside_it(minimal_site, run):
    text = award_into(
        run,
        minimal_site,
        "fay",
        "  - id: fay-first-1\n# checked by Bob\n    badge: first-badge\n    issued_on: 2026-01-01\n",
    )
    awards = yaml.safe_load(text)["awards"]
    assert [a["issued_on"].isoformat() for a in awards] == ["2026-01-01", "2026-03-01"]


def test_a_run_of_margin_comments_is_looked_past_once(monkeypatch):
    """(a review) Each comment at the margin looked ahead to the next key on its own: a file of a
    few thousand of them between two keys of its last award took `award` 25 s (quadratic)."""
    from badgekiln.sources import records

    calls = []
    real = records._next_content
    monkeypatch.setattr(records, "_next_content", lambda *a: calls.append(1) or real(*a))
    text = (
        "name: Gus\nemail: gus@example.com\nawards:\n  - id: gus-first-1\n"
        + "# a note\n" * 5000
        + "    badge: first-badge\n    issued_on: 2026-01-01\n"
    )
    edited = records.appended(text, "recipients/gus.yaml", [("id", "gus-new-1"), ("badge", "first-badge")], "gus-new-1")
    assert edited.endswith("    issued_on: 2026-01-01\n  - id: gus-new-1\n    badge: first-badge\n")
    assert len(calls) <= 2


def test_a_zero_cell_formatted_as_a_date_in_a_workbook_is_an_empty_date_cell(minimal_site, run, tmp_path):
    # (a provider's review: openpyxl reads it as the time 00:00:00, and the error quoted '00:00:00')
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["name", "email", "badge", "issued_on"])
    book.active.append(["Zoe", "zoe@example.org", "first-badge", 0])
    book.active["D2"].number_format = "dd/mm/yyyy"
    book.save(tmp_path / "zero.xlsx")
    result = run("award", "--csv", str(tmp_path / "zero.xlsx"), "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1
    assert (
        "zero.xlsx:2:4 (cell D2): error[bad-date]: 'issued_on' (1899-12-30) is the date a spreadsheet shows for an "
        "empty or zero cell formatted as a date"
    ) in result.err, result.err
    assert "00:00:00" not in result.err


@pytest.mark.parametrize(
    "text",
    [
        "  -   id: bea-first-1\n      badge: first-badge\n      issued_on: 2026-01-01\n",  # (spaces after the dash)
        "-   id: bea-first-1\n    badge: first-badge\n    issued_on: 2026-01-01\n",  # (a list at the margin)
        "    - id: bea-first-1\n      badge: first-badge\n      issued_on: 2026-01-01\n",  # (indented further)
    ],
)
def test_an_award_is_added_under_a_list_whose_dash_is_followed_by_several_spaces(minimal_site, run, text):
    # (a review, 2026-12-07: '-   badge:' put the new item's dash under the first key, and the
    # edit was said to be the file's own YAML error, 'line N does not line up', at a line it lacks)
    edited = award_into(run, minimal_site, "bea", text)
    assert edited.startswith("name: Bea\nemail: bea@example.com\nawards:\n" + text)
    dash = text.index("-")
    assert edited[len("name: Bea\nemail: bea@example.com\nawards:\n" + text) :].startswith(" " * dash + "- id: ")
    awards = yaml.safe_load(edited)["awards"]
    assert [a["issued_on"].isoformat() for a in awards] == ["2026-01-01", "2026-03-01"]


def test_an_award_is_added_under_a_list_whose_dashes_stand_alone(minimal_site, run):
    # (the dash alone on its line, the award's keys under it)
    text = "  -\n      id: cy-first-1\n      badge: first-badge\n      issued_on: 2026-01-01\n"
    edited = award_into(run, minimal_site, "cy", text)
    assert edited.startswith("name: Cy\nemail: cy@example.com\nawards:\n" + text + "  - id: ")
    awards = yaml.safe_load(edited)["awards"]
    assert [a["issued_on"].isoformat() for a in awards] == ["2026-01-01", "2026-03-01"]


def test_an_edit_that_would_not_read_is_refused_as_one_not_as_the_files_syntax_error(monkeypatch):
    # (an edit whose text does not parse was said to be the file's own YAML error, at a line it lacks)
    from badgekiln.errors import SourceError
    from badgekiln.sources import records

    text = "name: Cy\nemail: cy@example.com\nawards:\n  - id: cy-first-1\n    badge: first-badge\n"
    monkeypatch.setattr(records, "award_lines", lambda fields, pad: [" " + pad + "- id: x\n", pad + "  badge: y\n"])
    with pytest.raises(SourceError) as refused:
        records.appended(text, "recipients/cy.yaml", [("id", "x")], "x")
    assert "this file is not written one key per line" in str(refused.value)
