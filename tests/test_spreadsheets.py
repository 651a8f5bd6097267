"""``badgekiln award --csv``: spreadsheets as providers really save them (CSV dialects, .xlsx, local dates)."""

from __future__ import annotations

import re
import time
import zipfile
from datetime import date, datetime

import openpyxl
import pytest
from conftest import TODAY


def award_sheet(run, site, sheet, *extra):
    return run("award", "--csv", str(sheet), "--source", str(site), "--today", TODAY, *extra)


def awards_of(site, rel):
    from badgekiln.sources.loading import parse_yaml

    return parse_yaml((site / rel).read_text(encoding="utf-8"), rel)["awards"]


def test_semicolons_bom_crlf_loose_headers_and_local_dates(minimal_site, run, tmp_path):
    sheet = tmp_path / "awards.csv"
    sheet.write_bytes(
        "\ufeff Name ;EMAIL;Badge;Issued On;  expires\r\n"
        "Zoë O'Neil;zoe@example.org;first-badge;01/03/2026;01/03/2029\r\n"
        "Bob Stone;BOB@example.org;first-badge;2026-04-02;\r\n"
        ";;;;\r\n;;;;\r\n".encode()
    )  # Excel leaves separator-only rows below the data
    result = award_sheet(run, minimal_site, sheet, "--date-format", "%d/%m/%Y")
    assert result.code == 0, result.err
    assert "2 award(s) added" in result.out
    zoe = awards_of(minimal_site, "recipients/zoe-oneil.yaml")
    assert zoe[0]["issued_on"] == "2026-03-01" and zoe[0]["expires"] == "2029-03-01"
    assert awards_of(minimal_site, "recipients/bob-stone.yaml")[0]["issued_on"] == "2026-04-02"
    assert run("check", "--source", str(minimal_site), "--today", TODAY).code == 0


@pytest.mark.parametrize(
    ("value", "suggested"),
    [
        ("13/03/2026", '--date-format "%d/%m/%Y"'),
        ("03/13/2026", '--date-format "%m/%d/%Y"'),
        ("01.03.2026", '--date-format "%d.%m.%Y" (day first'),
        ("3 Dec 2025", '--date-format "%d %b %Y"'),  # (named months had no hint: provider UX review)
        ("December 3 2025", '--date-format "%B %d %Y"'),
    ],
)
def test_a_local_date_without_date_format_gets_a_hint(minimal_site, run, tmp_path, value, suggested):
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        f"name,email,badge,issued_on\nZoe,zoe@example.org,first-badge,{value}\n"
        f"Zed,zed@example.org,first-badge,{value}\n"
    )
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 1
    assert "awards.csv:2:4 (cell D2): error[bad-date]: 'issued_on' must be a date written YYYY-MM-DD" in result.err
    assert suggested in result.err
    assert result.err.count("hint:") == 1  # the hint once, not on every row
    assert not (minimal_site / "recipients/zoe.yaml").exists()


def test_each_kind_of_local_date_gets_its_hint_once(minimal_site, run, tmp_path):
    """(a README audit: only the first bad date of a sheet had a hint, so a month-first date below a
    day-first one got none, and the sheet's mix of both went unsaid)"""
    sheet = tmp_path / "awards.csv"
    rows = ["13/03/2026", "14/03/2026", "03/13/2026"]
    sheet.write_text(
        "name,email,badge,issued_on\n"
        + "".join(f"E{n},e{n}@example.org,first-badge,{value}\n" for n, value in enumerate(rows))
    )
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 1 and result.err.count("error[bad-date]") == 3
    assert result.err.count("hint:") == 2
    assert "awards.csv:2:4 (cell D2): error[bad-date]" in result.err and '--date-format "%d/%m/%Y"' in result.err
    assert "awards.csv:4:4 (cell D4): error[bad-date]" in result.err and '--date-format "%m/%d/%Y"' in result.err


def test_a_wrong_date_format_is_located(minimal_site, run, tmp_path):
    sheet = tmp_path / "awards.csv"
    sheet.write_text("name,email,badge,issued_on\nZoe,zoe@example.org,first-badge,31/02/2026\n")
    result = award_sheet(run, minimal_site, sheet, "--date-format", "%d/%m/%Y")
    assert result.code == 1
    assert "awards.csv:2:4 (cell D2): error[bad-date]: 'issued_on' is not a date written %d/%m/%Y" in result.err
    for nonsense in ("%Q", "%d/%m", "dd/mm/yyyy"):
        refused = award_sheet(run, minimal_site, sheet, "--date-format", nonsense)
        assert refused.code == 1 and f"--date-format {nonsense!r} is not a date format" in refused.err


def test_excel_sep_line_and_date_serial_numbers(minimal_site, run, tmp_path):
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "sep=;\nname;email;badge;issued_on;note\nZoe, Jr;zoe@example.org;first-badge;2026-03-01;\n"
        "Bob;bob@example.org;first-badge;46082;\n"
    )
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 1
    assert "awards.csv:4:4 (column D): error[bad-date]: 'issued_on' is the number 46082, not a date" in result.err
    assert "format the column as a date in the spreadsheet and save the CSV from it again" in result.err
    assert (
        "awards.csv:2:5 (column E): warning[unused-column]: column E, 'note', is not used" in result.err
    )  # the header's line
    # (Excel hides the sep= line: the header is its row 1, so a CSV with one names no row)
    sheet.write_text(sheet.read_text().replace("46082", "2026-03-02"))
    assert award_sheet(run, minimal_site, sheet).code == 0
    assert (minimal_site / "recipients/zoe-jr.yaml").read_text().startswith('name: "Zoe, Jr"')


def test_an_excel_sep_line_in_capitals_is_read_as_the_hint_it_is(minimal_site, run, tmp_path):
    # (Excel reads 'SEP=;' as it reads 'sep=;': it was taken for the header, whose columns were missing)
    sheet = tmp_path / "awards.csv"
    sheet.write_text("SEP=;\nname;email;badge;issued_on\nZoe, Jr;zoe@example.org;first-badge;2026-02-30\n")
    result = award_sheet(run, minimal_site, sheet)
    # (Excel hides the line: the file's line 3 is the sheet's row 2, so no row is named)
    assert "awards.csv:3:4 (column D): error[bad-date]" in result.err and "row" not in result.err, result.err
    sheet.write_text(sheet.read_text().replace("2026-02-30", "2026-03-01"))
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 0, result.err
    assert (minimal_site / "recipients/zoe-jr.yaml").read_text().startswith('name: "Zoe, Jr"')


def test_tabs_and_a_column_map_and_badge_names(minimal_site, run, tmp_path):
    sheet = tmp_path / "export.tsv"
    sheet.write_text(
        "Full name\tMail\tCourse\tDate\tScore\nAnn Example\tann@example.com\tFirst Badge\t2026-06-01\t93\n"
    )
    result = award_sheet(run, minimal_site, sheet, "--map", "Mail=email, Course=badge,date=Issued On,full name=name")
    assert result.code == 0, result.err
    assert "export.tsv:1:5 (cell E1): warning[unused-column]: column E, 'Score', is not used" in result.err
    assert [a["issued_on"] for a in awards_of(minimal_site, "recipients/ann.yaml")] == ["2026-01-15", "2026-06-01"]
    bad = award_sheet(run, minimal_site, sheet, "--map", "Mail=e-mail-address")
    assert bad.code == 1 and "--map takes SHEET_COLUMN=COLUMN pairs" in bad.err


def test_thousands_of_stray_headings_give_ten_warnings_not_thousands(minimal_site, run, tmp_path):
    # (a hostile review: 20,000 headed columns nobody imports printed 20,000 lines)
    sheet = tmp_path / "awards.csv"
    extra = ",".join(f"x{n}" for n in range(20_000))
    sheet.write_text(f"name,email,badge,issued_on,{extra}\nAnn Example,ann@example.com,first-badge,2026-06-01\n")
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 0, result.err
    assert result.err.count("warning[unused-column]") == 10
    assert "awards.csv:1:13 (cell M1): warning[unused-column]: column M, 'x8', is not used" in result.err
    assert (
        "awards.csv:1:14 (cell N1): warning[unused-column]: 19991 more columns are not used (columns N to ACOJ)"
        in result.err
    )
    assert "'x9'" not in result.err
    # a required column missing as well: the error lists 30 headings, then counts the rest
    sheet.write_text(f"name,email,issued_on,{extra}\nAnn Example,ann@example.com,2026-06-01\n")
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 1 and "error[bad-header]" in result.err
    assert "'x26' and 19,973 more" in result.err and len(result.err) < 20_000


def test_a_missing_column_says_what_was_found_and_how_to_map_it(minimal_site, run, tmp_path):
    sheet = tmp_path / "awards.csv"
    sheet.write_text("Name,Contact,Badge,Issued on\nAnn,ann@example.com,first-badge,2026-06-01\n")
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 1
    assert (
        "awards.csv:1: error[bad-header]: the first row must name the columns name, email, badge, issued_on"
        in result.err
    )
    assert "missing: email; found: 'Name', 'Contact'" in result.err
    assert '--map "Contact=email"' in result.err  # (the one column not read, for the one missing)


def test_common_headings_are_read_and_a_missing_columns_hint_maps_the_likely_ones(minimal_site, run, tmp_path):
    # (UX walkthrough: "E-mail" was refused, and "Name,Email,Course,Date,Score,Notes" was told
    # --map "YOUR NAME=badge", which an office manager read as a person's name)
    sheet = tmp_path / "awards.csv"
    sheet.write_text("Name,E-mail,Badge,Issued on\nAnn,ann@example.com,first-badge,2026-06-01\n")
    assert award_sheet(run, minimal_site, sheet).code == 0
    sheet.write_text("Name,Email address,Course,Date,Score,Notes\nBo,bo@example.com,first-badge,2026-06-01,9,-\n")
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 1 and "missing: badge, issued_on" in result.err
    assert '--map "Course=badge,Date=issued_on"' in result.err and "YOUR" not in result.err, result.err
    assert award_sheet(run, minimal_site, sheet, "--map", "Course=badge,Date=issued_on").code == 0
    sheet.write_text("Name,Email,Thing,Score\nCy,cy@example.com,first-badge,9\n")
    result = award_sheet(run, minimal_site, sheet)
    assert (
        '--map "YOUR HEADING=badge,YOUR HEADING=issued_on" (write your own column\'s heading before each =)'
        in result.err
    ), result.err


def test_a_different_name_for_the_same_email_is_reported(minimal_site, run, tmp_path):
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "name,email,badge,issued_on\n"
        "Ann Exemple,ann@example.com,first-badge,2026-06-01\n"
        "ANN  EXAMPLE,ann@example.com,first-badge,2026-06-02\n"  # case and spacing: the same name
        "Kim Lee,kim@example.org,first-badge,2026-06-01\n"
        "Kim Li,kim@example.org,first-badge,2026-06-03\n"
    )
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 0, result.err
    assert (
        "awards.csv:2: warning[name-differs]: this row names ann@example.com 'Ann Exemple', but "
        "recipients/ann.yaml says 'Ann Example'"
    ) in result.err
    assert (
        "awards.csv:5: warning[name-differs]: this row names kim@example.org 'Kim Li', but row 4 of this sheet "
        "says 'Kim Lee'" in result.err
    )
    assert result.err.count("name-differs") == 2
    assert "4 award(s) added" in result.out


def test_non_latin_names_get_readable_unique_file_names(minimal_site, run, tmp_path):
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "name,email,badge,issued_on\n"
        "Дмитрий Орлов,dmitri@example.org,first-badge,2026-06-01\n"
        "王小明,wang1@example.org,first-badge,2026-06-01\n"
        "王小明,wang2@example.org,first-badge,2026-06-01\n"
        "Σωκράτης Παππάς,sokratis@example.org,first-badge,2026-06-01\n",
        encoding="utf-8",
    )
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 0, result.err
    names = sorted(p.name for p in (minimal_site / "recipients").iterdir())
    assert names == [
        "ann.yaml",
        "dmitriy-orlov.yaml",
        "sokratis-pappas.yaml",
        "wangxiaoming-2.yaml",
        "wangxiaoming.yaml",
    ]
    assert (
        (minimal_site / "recipients/dmitriy-orlov.yaml")
        .read_text(encoding="utf-8")
        .startswith('name: "Дмитрий Орлов"\n')
    )


def xlsx(path, rows, *, sheet_title="Awards"):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = sheet_title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def with_cached_formula_values(path, values: dict[str, str]):
    """Give formula cells the values Excel would have cached when saving (openpyxl writes none)."""
    data = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            data[name] = archive.read(name)
    sheet = data["xl/worksheets/sheet1.xml"].decode()
    for ref, value in values.items():
        sheet, n = re.subn(
            rf'<c r="{ref}"([^>]*)><f>([^<]*)</f><v\s*/?>(</v>)?</c>',
            rf'<c r="{ref}" t="str"><f>\2</f><v>{value}</v></c>',
            sheet,
        )
        assert n == 1, sheet
    data["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in data.items():
            archive.writestr(name, content)


def test_xlsx_with_date_cells_and_formulas(minimal_site, run, tmp_path):
    sheet = xlsx(
        tmp_path / "Awards.xlsx",
        [
            ["Name", "Email", "Badge", "Issued on", "Expires"],
            ["Zoë O'Neil", "zoe@example.org", "first-badge", datetime(2026, 3, 1), date(2029, 3, 1)],
            ["Bob Stone", '=LOWER("BOB@EXAMPLE.ORG")', "first-badge", "2026-04-02", None],
            [None, None, None, None, None],
        ],
    )
    with_cached_formula_values(sheet, {"B3": "bob@example.org"})
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 0, result.err
    zoe = awards_of(minimal_site, "recipients/zoe-oneil.yaml")
    assert (zoe[0]["issued_on"], zoe[0]["expires"]) == ("2026-03-01", "2029-03-01")
    assert 'email: "bob@example.org"' in (minimal_site / "recipients/bob-stone.yaml").read_text()


@pytest.mark.parametrize("numbered", [True, False], ids=["cells-with-r", "cells-without-r"])
def test_a_formula_whose_result_is_not_saved_is_named_not_read_as_empty(minimal_site, run, tmp_path, numbered):
    # (a review: a workbook written by a program holds formulas without their results; Excel
    # shows the name, and the import said "fill in its 'name' cell")
    sheet = xlsx(
        tmp_path / "awards.xlsx",
        [
            ["name", "email", "badge", "issued_on", "notes"],
            ["Zoe", "zoe@example.org", "first-badge", "2026-03-01", '=CONCAT("a","b")'],
            ['=CONCAT("Bo"," ","Lee")', "bo@example.org", "first-badge", "2026-03-01", None],
            ["Cy", '=LOWER("CY@EXAMPLE.ORG")', "first-badge", "2026-03-01", None],
        ],
    )
    if not numbered:
        with zipfile.ZipFile(sheet) as archive:
            data = {name: archive.read(name) for name in archive.namelist()}
        data["xl/worksheets/sheet1.xml"] = re.sub(rb'<c r="[A-Z]+[0-9]+"', b"<c", data["xl/worksheets/sheet1.xml"])
        with zipfile.ZipFile(sheet, "w") as archive:
            for name, content in data.items():
                archive.writestr(name, content)
    before = sorted(p.name for p in (minimal_site / "recipients").iterdir())
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 1
    assert (
        "awards.xlsx:3:1 (cell A3): error[unsaved-formula]: cells A3, B4 hold a formula whose result is not saved in the file"
        in result.err
    ), result.err
    assert "E2" not in result.err  # (a column not read: its formula is no matter)
    assert "open the workbook in Excel or LibreOffice and save it" in result.err
    assert sorted(p.name for p in (minimal_site / "recipients").iterdir()) == before
    if numbered:  # (saved by Excel: the results are read)
        with_cached_formula_values(sheet, {"A3": "Bo Lee", "B4": "cy@example.org"})
        assert award_sheet(run, minimal_site, sheet).code == 0
        assert 'name: "Bo Lee"' in (minimal_site / "recipients/bo-lee.yaml").read_text()


def _rewritten(path, rewrite):
    """The workbook at ``path`` with its sheet's XML rewritten by ``rewrite``."""
    with zipfile.ZipFile(path) as archive:
        data = {name: archive.read(name) for name in archive.namelist()}
    data["xl/worksheets/sheet1.xml"] = rewrite(data["xl/worksheets/sheet1.xml"])
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in data.items():
            archive.writestr(name, content)
    return path


def test_unsaved_formulas_are_found_past_a_thousand_elsewhere_and_in_the_header(minimal_site, run, tmp_path):
    # (a review: 1,200 formulas in a column not read filled what the scan kept, and a later one in
    # 'expires' was read as empty, the badge's valid_for silently used; a header cell of a formula
    # was "missing: name", or "extra-cells")
    rows = [["name", "email", "badge", "issued_on", "expires", "notes"]]
    rows += [[f"P{n}", f"p{n}@example.org", "first-badge", "2026-03-01", None, f'=A{n}&"x"'] for n in range(2, 1202)]
    rows[1100][4] = "=DATE(2029,3,1)"  # (row 1101)
    result = award_sheet(run, minimal_site, xlsx(tmp_path / "many.xlsx", rows))
    assert (
        result.code == 1
        and "many.xlsx:1101:5 (cell E1101): error[unsaved-formula]: cell E1101 holds a formula" in result.err
    )
    header = xlsx(
        tmp_path / "head.xlsx",
        [['=LOWER("NAME")', "email", "badge", "issued_on"], ["Zoe", "z@e.org", "first-badge", "2026-03-01"]],
    )
    result = award_sheet(run, minimal_site, header)
    assert result.code == 1 and "head.xlsx:1:1 (cell A1): error[unsaved-formula]: cell A1 holds" in result.err, (
        result.err
    )
    last = xlsx(
        tmp_path / "last.xlsx",
        [
            ["name", "email", "badge", "issued_on", '=LOWER("EXPIRES")'],
            ["Zoe", "z@e.org", "first-badge", "2026-03-01", "2029-03-01"],
        ],
    )
    result = award_sheet(run, minimal_site, last)
    assert result.code == 1 and "last.xlsx:1:5 (cell E1): error[unsaved-formula]: cell E1 holds" in result.err, (
        result.err
    )
    assert "extra-cells" not in result.err


@pytest.mark.parametrize(
    ("rewrite", "refused"),
    [
        # (openpyxl's reader places a cell in the row that holds it, by its column alone)
        (lambda xml: xml.replace(b'<c r="E2" t="inlineStr"><is><t>x</t></is></c>', b'<c r="E99"><f>DATE(2029,3,1)</f><v></v></c>'), "E2"),
        # (and reads the first <v> only)
        (lambda xml: xml.replace(b'<c r="E2" t="inlineStr"><is><t>x</t></is></c>', b'<c r="E2"><f>DATE(2029,3,1)</f><v></v><v>47000</v></c>'), "E2"),
        # (an inline string is read whatever formula the cell holds)
        (lambda xml: xml.replace(b'<c r="E2" t="inlineStr"><is><t>x</t></is></c>', b'<c r="E2" t="inlineStr"><f>X()</f><is><t>2029-03-01</t></is></c>'), None),
        # (a stranger's-PR review: a text formula with no <v> at all; a <v> not the cell's own; a <c>
        # inside the cell; a column letter openpyxl reads in any case, "ı" as I)
        (lambda xml: xml.replace(b'<c r="E2" t="inlineStr"><is><t>x</t></is></c>', b'<c r="E2" t="str"><f>TEXT(1,"0")</f></c>'), "E2"),
        (lambda xml: xml.replace(b'<c r="E2" t="inlineStr"><is><t>x</t></is></c>', b'<c r="E2"><f>X()</f><extLst><ext uri="x"><v>1</v></ext></extLst></c>'), "E2"),
        (lambda xml: xml.replace(b'<c r="E2" t="inlineStr"><is><t>x</t></is></c>', b'<c r="E2"><f>X()</f><c/></c>'), "E2"),
        (lambda xml: xml.replace(b'<c r="E2" t="inlineStr"><is><t>x</t></is></c>', b'<c r="\xc4\xb12"><f>X()</f></c>').replace(b'<c r="E1" t="inlineStr"><is><t>expires</t></is></c>', b'<c r="E1" t="inlineStr"><is><t>notes</t></is></c><c r="I1" t="inlineStr"><is><t>expires</t></is></c>').replace(b'<dimension ref="A1:E2"/>', b""), "I2"),
    ],
    ids=["cell-r-of-another-row", "second-value", "inline-string", "text-without-value", "value-not-its-own", "cell-in-cell", "dotless-i"],
)  # fmt: skip
def test_unsaved_formulas_are_placed_as_openpyxl_reads_them(minimal_site, run, tmp_path, rewrite, refused):
    sheet = xlsx(
        tmp_path / "a.xlsx",
        [
            ["name", "email", "badge", "issued_on", "expires"],
            ["Zoe", "zoe@example.org", "first-badge", "2026-03-01", "x"],
        ],
    )
    result = award_sheet(run, minimal_site, _rewritten(sheet, rewrite))
    if refused:
        assert result.code == 1 and f"error[unsaved-formula]: cell {refused} holds" in result.err, result.err
    else:
        assert result.code == 0, result.err
        assert "expires: 2029-03-01" in (minimal_site / "recipients/zoe.yaml").read_text()


def test_a_true_or_false_cell_reads_as_excel_shows_it(minimal_site, run, tmp_path):
    # (a review: a boolean cell became "True", not the "TRUE" the sheet shows)
    sheet = xlsx(
        tmp_path / "awards.xlsx",
        [
            ["name", "email", "badge", "issued_on", "narrative"],
            ["Zoe", "zoe@example.org", "first-badge", "2026-03-01", True],
        ],
    )
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 0, result.err
    assert 'narrative: "TRUE"' in (minimal_site / "recipients/zoe.yaml").read_text()


def test_xlsx_rows_are_located_by_row_number(minimal_site, run, tmp_path):
    sheet = xlsx(
        tmp_path / "awards.xlsx",
        [
            ["name", "email", "badge", "issued_on"],
            ["Zoe", "zoe@example.org", "first-badge", datetime(2026, 3, 1)],
            ["Bad", "not-an-email", "first-badge", datetime(2026, 3, 1)],
        ],
    )
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 1
    assert "awards.xlsx:3:2 (cell B3): error[bad-email]" in result.err


def test_each_error_names_the_cell_it_is_about_under_the_sheets_own_headings(minimal_site, run, tmp_path):
    # (an office manager finds "cell C3" in Excel; "column 1" named every row's first cell)
    sheet = xlsx(
        tmp_path / "course.xlsx",
        [
            ["Learner", "Course", "Mail", "Date"],
            ["Zoe", "first-badge", "zoe@example.org", datetime(2026, 3, 1)],
            ["Bo", "frist-badge", "", "2026-02-30"],
            ["Cy", "first-badge", "cy@example.org", "2026-03-01"],
            ["Di", "first-badge", "di@example", "2099-01-01"],
        ],
    )
    result = award_sheet(run, minimal_site, sheet, "--map", "Learner=name,Course=badge,Mail=email,Date=issued_on")
    assert result.code == 1
    assert "course.xlsx:3:2 (cell B3): error[unknown-badge]: there is no badge 'frist-badge'" in result.err
    assert "course.xlsx:3:3 (cell C3): error[missing-key]: row needs 'email'" in result.err  # (an empty cell)
    assert "course.xlsx:3:4 (cell D3): error[bad-date]" in result.err
    assert "course.xlsx:5:3 (cell C5): error[bad-email]" in result.err
    assert "course.xlsx:4" not in result.err


def test_a_csv_names_a_row_only_while_its_lines_are_the_rows_a_spreadsheet_shows(minimal_site, run, tmp_path):
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "name,email,badge,issued_on,narrative\n"
        "Zoe,zoe@example,first-badge,2026-03-01,one line\n"
        'Bo,bo@example.org,first-badge,2026-03-01,"two\nlines"\n'
        "Cy,cy@example,first-badge,2026-03-01,\n"
    )
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 1
    # (the quoted cell spans lines 3 and 4: Cy is on line 5 of the text, row 4 of the sheet)
    assert "awards.csv:2:2 (column B): error[bad-email]" in result.err
    assert "awards.csv:5:2 (column B): error[bad-email]" in result.err
    assert "(cell" not in result.err


def test_a_csv_whose_lines_are_not_its_rows_says_line_not_row(minimal_site, run, tmp_path):
    # (hostile review: "sep=<tab>" was not read as Excel's line, and messages said "row 3" of a
    # CSV whose location named no row)
    tabs = tmp_path / "tabs.csv"
    tabs.write_text("sep=\t\nname\temail\tbadge\tissued_on\nAna\ta@example.org\tfirst-badge\t03/01/2026\n")
    result = award_sheet(run, minimal_site, tabs)
    assert result.code == 1 and "tabs.csv:3:4 (column D): error[bad-date]" in result.err, result.err
    assert "header-below" not in result.err
    sheet = tmp_path / "lines.csv"
    sheet.write_text(
        "sep=,\nname,email,badge,issued_on,\n"
        "Ana,ana@example.org,first-badge,2026-01-02,FAILED\nAna,ana@example.org,first-badge,2026-01-02,\n"
    )
    result = award_sheet(run, minimal_site, sheet)
    assert (
        "lines.csv:3:5 (column E): warning[unnamed-column]: column E has no name in the header, so it is not read; line 3 has 'FAILED' in it"
        in result.err
    )
    assert (
        "lines.csv:4: ana@example.org already has first-badge issued on 2026-01-02 (line 3 of this sheet)" in result.out
    )


def test_a_header_under_a_title_names_its_cells_in_a_workbook(minimal_site, run, tmp_path):
    book = openpyxl.Workbook()
    for row in (["Q3 awards"], [], ["name", "email", "E-mail", "Course"]):
        book.active.append(row)
    book.active.append(["Zoe", "zoe@example.org", "zoe@example.org", "first-badge"])
    path = tmp_path / "title.xlsx"
    book.save(path)
    result = award_sheet(run, minimal_site, path)
    assert result.code == 1 and "title.xlsx:3:3 (cell C3): error[duplicate-column]" in result.err, result.err


def test_hidden_or_filtered_out_rows_are_refused_not_awarded(minimal_site, run, tmp_path):
    # (provider UX review: a sheet filtered to "Passed" awarded those filtered out too, silently)
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (
        ["name", "email", "badge", "issued_on"],
        ["Zoe", "zoe@example.org", "first-badge", datetime(2026, 3, 1)],
        ["Bo Li", "bo@example.org", "first-badge", datetime(2026, 3, 1)],
        ["Cy", "cy@example.org", "first-badge", datetime(2026, 3, 1)],
    ):
        sheet.append(row)
    sheet.row_dimensions[3].hidden = True
    book.save(tmp_path / "passed.xlsx")
    result = award_sheet(run, minimal_site, tmp_path / "passed.xlsx")
    assert result.code == 1
    assert "passed.xlsx:3: error[hidden-rows]: row 3 of the sheet 'Sheet' is hidden (filtered out?)" in result.err
    assert not (minimal_site / "recipients/bo-li.yaml").exists() and not (minimal_site / "recipients/zoe.yaml").exists()


def test_a_workbook_whose_first_sheet_is_not_the_awards_names_its_other_sheets(minimal_site, run, tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "Instructions"
    book.active.append(["Fill in the Awards sheet"])
    awards = book.create_sheet("Awards")
    awards.append(["name", "email", "badge", "issued_on"])
    book.save(tmp_path / "two.xlsx")
    result = award_sheet(run, minimal_site, tmp_path / "two.xlsx")
    assert result.code == 1
    assert "only the first sheet, 'Instructions', is read; the workbook also has 'Awards'" in result.err
    assert "--sheet 'NAME'" in result.err
    awards.append(["Zoe", "zoe@example.org", "first-badge", "2026-03-01"])
    book.save(tmp_path / "two.xlsx")
    chosen = award_sheet(run, minimal_site, tmp_path / "two.xlsx", "--sheet", "Awards")
    assert chosen.code == 0, chosen.err
    assert awards_of(minimal_site, "recipients/zoe.yaml")[0]["badge"] == "first-badge"
    missing = award_sheet(run, minimal_site, tmp_path / "two.xlsx", "--sheet", "Awardz")
    assert missing.code == 1 and "no sheet 'Awardz'" in missing.err and "'Instructions', 'Awards'" in missing.err


def test_5000_rows_from_excel_in_seconds(minimal_site, run, tmp_path):
    rows = [["Name", "Email", "Badge", "Issued On"]]
    rows += [
        [f"Earner {n}", f"earner{n}@example.org", "first-badge", datetime(2026, 1 + n % 10, 1 + n % 28)]
        for n in range(5000)
    ]
    sheet = xlsx(tmp_path / "big.xlsx", rows)
    started = time.monotonic()
    result = award_sheet(run, minimal_site, sheet)
    elapsed = time.monotonic() - started
    assert result.code == 0, result.err[:2000]
    assert "5000 award(s) added, 0 skipped" in result.out
    assert len(list((minimal_site / "recipients").iterdir())) == 5001
    assert elapsed < 60, elapsed  # about 5 s on one core; generous for a shared CI machine
    again = award_sheet(run, minimal_site, sheet)
    assert "0 award(s) added, 5000 skipped" in again.out


# -- hostile and broken files (issue 9.7): a located error, never a traceback -------------------------


def _ods() -> bytes:
    """A LibreOffice .ods file's start: a zip whose first member names its type."""
    import io

    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    return data.getvalue()


def broken(kind: str, tmp_path):
    header = b"name,email,badge,issued_on\n"
    good = b"Ann,ann@example.com,first-badge,2026-06-01\n"
    files = {
        "huge-field": (
            "awards.csv",
            header + good + b'"' + b"x" * 300_000 + b'",b@example.org,first-badge,2026-06-01\n',
        ),
        "extra-cells": ("awards.csv", header + good + b"Smith, Jo,jo@example.org,first-badge,2026-06-01\n" * 2),
        "nul": ("awards.csv", header + good + b"Jo\x00,jo@example.org,first-badge,2026-06-01\n"),
        "cp1252": ("awards.csv", header + "Zoë,zoe@example.org,first-badge,2026-06-01\n".encode("cp1252")),
        "empty": ("awards.csv", b""),
        "header-only": ("awards.csv", header),
        "old-xls": ("awards.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
        "not-a-workbook": ("awards.xlsx", b"PK\x03\x04" + b"\x00" * 100),
        "unclosed-quote": ("awards.csv", header + b'"Ann,ann@example.com,first-badge,2026-06-01\n' * 2),
        "ods": ("awards.ods", _ods()),
    }
    name, content = files[kind]
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("huge-field", "awards.csv:3: error[bad-csv]: the CSV cannot be read here: field larger than field limit"),
        ("extra-cells", "awards.csv:4: error[extra-cells]: this row has 5 cells but the header names 4 columns"),
        ("nul", "awards.csv:3: error[nul-byte]: the file contains a NUL byte"),
        ("cp1252", "awards.csv:2:3: error[not-utf8]: the file is not valid utf-8 (byte 0xeb)"),
        ("empty", "awards.csv: error[empty-sheet]: the file is empty"),
        ("header-only", "awards.csv:1: error[empty-sheet]: the file has no rows below its header"),
        ("old-xls", "awards.xls: error[old-xls]: this is an old-style Excel .xls file"),
        ("not-a-workbook", "awards.xlsx: error[bad-xlsx]: cannot read this Excel workbook"),
        ("unclosed-quote", "awards.csv:2: error[bad-csv]: the CSV cannot be read here: ',' expected after '\"'"),
        ("ods", "awards.ods: error[bad-xlsx]: this is an OpenDocument file (.ods, LibreOffice's own format)"),
    ],
)
def test_broken_files_get_a_located_error(minimal_site, run, tmp_path, kind, expected):
    before = (minimal_site / "recipients/ann.yaml").read_bytes()
    result = award_sheet(run, minimal_site, broken(kind, tmp_path))
    assert result.code == 1, result.out
    assert expected in result.err
    assert "Traceback" not in result.err
    assert sorted(p.name for p in (minimal_site / "recipients").iterdir()) == ["ann.yaml"]
    assert (minimal_site / "recipients/ann.yaml").read_bytes() == before


def test_a_windows_1252_file_is_read_when_asked(minimal_site, run, tmp_path):
    sheet = broken("cp1252", tmp_path)
    refused = award_sheet(run, minimal_site, sheet)
    assert "save it again as 'CSV UTF-8'" in refused.err and "'Zoë,zoe@example.org" in refused.err
    assert "--encoding cp1252" in refused.err
    result = award_sheet(run, minimal_site, sheet, "--encoding", "cp1252")
    assert result.code == 0, result.err
    assert (minimal_site / "recipients/zoe.yaml").read_text(encoding="utf-8").startswith('name: "Zoë"')


def test_utf16_tab_separated_unicode_text_is_read(minimal_site, run, tmp_path):
    sheet = tmp_path / "awards.txt"
    sheet.write_bytes(
        "name\temail\tbadge\tissued_on\r\nZoë\tzoe@example.org\tfirst-badge\t2026-06-01\r\n".encode("utf-16")
    )
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 0, result.err
    assert (minimal_site / "recipients/zoe.yaml").exists()


def test_a_badge_may_be_written_as_its_name_or_slug_in_any_case_and_an_unknown_one_lists_them(
    minimal_site, run, tmp_path
):
    # (provider UX review: "FIRST-AID-AT-WORK" or "first badge" got a slug syntax error, no list)
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "name,email,badge,issued_on\n"
        "Bo,bo@example.org,FIRST-BADGE,2026-03-01\n"
        "Cy,cy@example.org,first  badge,2026-03-01\n"
        "Di,di@example.org, First Badge ,2026-03-01\n"
    )
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 0, result.err
    for who in ("bo", "cy", "di"):
        assert awards_of(minimal_site, f"recipients/{who}.yaml")[0]["badge"] == "first-badge"
    sheet.write_text("name,email,badge,issued_on\nEd,ed@example.org,Forklift basics,2026-03-01\n")
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 1
    assert "error[unknown-badge]: there is no badge 'Forklift basics'" in result.err
    assert "badges are: first-badge (First Badge)" in result.err


def test_an_excel_serial_number_keeps_its_hint_with_a_date_format(minimal_site, run, tmp_path):
    sheet = tmp_path / "awards.csv"
    sheet.write_text("name,email,badge,issued_on\nZoe,zoe@example.org,first-badge,46357\n")
    result = award_sheet(run, minimal_site, sheet, "--date-format", "%d/%m/%Y")
    assert result.code == 1 and "looks like an Excel date shown as a number" in result.err


def test_a_badge_cell_that_names_one_badge_and_spells_another_is_not_guessed():
    # (review: "First Aid" resolved to the slug first-aid although that is the badge named
    # "Emergency First Aid", and first-aid-basic is the one named "First Aid")
    from types import SimpleNamespace

    from badgekiln.commands.award import badge_names, badge_slug

    badges = {
        "first-aid": SimpleNamespace(name="Emergency First Aid"),
        "first-aid-basic": SimpleNamespace(name="First  Aid"),
    }
    names = badge_names(badges)
    assert badge_slug("First Aid", badges, names) == "First Aid"  # (then: "there is no badge", with the list)
    assert badge_slug("emergency first aid", badges, names) == "first-aid"
    assert badge_slug("FIRST-AID-BASIC", badges, names) == "first-aid-basic"


@pytest.mark.parametrize(
    "rewrite",
    [
        lambda xml: xml.replace(b'hidden="1"', b"hidden='1'"),
        lambda xml: xml.replace(b'hidden="1"', b'hidden = "true"'),
        lambda xml: xml.replace(b'<row r="3" hidden="1"', b'<row hidden="1"'),
        lambda xml: xml.replace(b'<row r="3"', b'<row ht="15" note="a>b" r="3"'),
        lambda xml: xml.replace(b'hidden="1"', b'hidden="&#49;"'),
        lambda xml: xml.replace(b'hidden="1"', b'ht="0" customHeight="1"'),
        lambda xml: xml.replace(b'hidden="1"', b'hidden="\n  true "'),
    ],
    ids=["single-quotes", "spaces", "no-r", "gt-in-a-value", "character-reference", "zero-high", "whitespace"],
)
def test_hidden_rows_are_found_however_the_xml_spells_them(minimal_site, run, tmp_path, rewrite):
    # (review: a hand-made or third-party file could hide a row from a check that read only one spelling)
    crafted = crafted_workbook(tmp_path, rewrite, hide_row=3)
    result = award_sheet(run, minimal_site, crafted)
    assert result.code == 1 and "error[hidden-rows]: row 3 of the sheet" in result.err, result.err


def crafted_workbook(tmp_path, rewrite, *, hide_row: int | None = None):
    """Zoe (row 2) and Bo (row 3) as openpyxl saves them, then its worksheet XML rewritten."""
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (
        ["name", "email", "badge", "issued_on"],
        ["Zoe", "zoe@example.org", "first-badge", "2026-03-01"],
        ["Bo", "bo@example.org", "first-badge", "2026-03-01"],
    ):
        sheet.append(row)
    if hide_row:
        sheet.row_dimensions[hide_row].hidden = True
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    crafted = tmp_path / "crafted.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(crafted, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                rewritten = rewrite(data)
                assert rewritten != data
                data = rewritten
            target.writestr(info, data)
    return crafted


def _unnumbered(xml: bytes) -> bytes:
    """The rows without ``r`` and the sheet without its dimension (openpyxl then reads every row)."""
    return re.sub(rb"<dimension [^>]*/>", b"", re.sub(rb'<row r="\d+"', b"<row", xml))


@pytest.mark.parametrize(
    ("rewrite", "row"),
    [
        (lambda xml: _unnumbered(xml).replace(b"<sheetData>", b'<sheetData><x:row xmlns:x="urn:x" r="50"/>'), 3),
        (lambda xml: _unnumbered(xml).replace(b"<sheetData>", b'<sheetData><row xmlns="urn:x" r="50"/>'), 3),
        (lambda xml: _unnumbered(xml).replace(b"</is></c></row>", b"</is><row/></c></row>", 1), 4),
        (lambda xml: _unnumbered(xml).replace(b"<sheetData>", b'<extLst><row r="6"/></extLst><sheetData>'), 9),
        (lambda xml: _unnumbered(xml).replace(b"<t>Bo</t></is>", b"<t>Bo</t></is><row/>"), 4),
        (lambda xml: re.sub(rb"<dimension [^>]*/>", b"", xml).replace(b'<row r="3"', b'<row r="+5"'), 5),
        (lambda xml: re.sub(rb"<dimension [^>]*/>", b"", xml).replace(b'<row r="3"', b'<row r=" 5.0 "'), 5),
    ],
    ids=[
        "prefixed-other-namespace",
        "default-other-namespace",
        "row-in-a-cell",
        "row-outside-sheetdata",
        "row-in-the-hidden-row",  # (it ends first, so openpyxl numbers it first)
        "plus",
        "float",
    ],
)
def test_hidden_rows_are_numbered_as_openpyxl_numbers_them(minimal_site, run, tmp_path, rewrite, row):
    # (hostile review: the scan counted a <row> of any namespace, and read r="+5" as no number,
    # so it numbered Bo's hidden row otherwise than openpyxl, which read the cells; Bo was awarded)
    crafted = crafted_workbook(tmp_path, rewrite, hide_row=3)
    rows = list(openpyxl.load_workbook(crafted, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert rows[row - 1][0] == "Bo"  # (where openpyxl reads Bo's row: the scan must say the same)
    result = award_sheet(run, minimal_site, crafted)
    assert result.code == 1 and f"error[hidden-rows]: row {row} of the sheet" in result.err, result.err
    assert not (minimal_site / "recipients/bo.yaml").exists()


def _rows_hidden_by_default(xml: bytes) -> bytes:
    return xml.replace(b"<sheetFormatPr ", b'<sheetFormatPr zeroHeight="1" ')


def _shown(*numbers: int):
    def rewrite(xml: bytes) -> bytes:
        for number in numbers:
            xml = xml.replace(f'<row r="{number}"'.encode(), f'<row r="{number}" ht="15" customHeight="1"'.encode())
        return xml

    return rewrite


@pytest.mark.parametrize(
    ("rewrite", "refused"),
    [
        (_rows_hidden_by_default, "rows 2, 3 of the sheet"),
        (lambda xml: _shown(1, 2)(_rows_hidden_by_default(xml)), "row 3 of the sheet"),
        (
            lambda xml: _shown(1, 2, 3)(_rows_hidden_by_default(xml)).replace(b'r="3" ht="15"', b'r="3" ht="2.9"'),
            "row 3",
        ),
        (lambda xml: _shown(1, 2, 3)(_rows_hidden_by_default(xml)).replace(b'r="3" ht="15" c', b'r="3" c'), "row 3"),
        (lambda xml: _shown(1, 2)(_rows_hidden_by_default(xml)).replace(b'<row r="3"', b'<row r="3" ht="15"'), "row 3"),
        (lambda xml: xml.replace(b'<row r="3"', b'<row r="3" ht="2.5" customHeight="1"'), "row 3 of the sheet"),
        (lambda xml: xml.replace(b'<row r="3"', b'<row r="3" ht="NaN"'), "row 3 of the sheet"),
        (
            lambda xml: _shown(1, 2)(xml).replace(b"</worksheet>", b'<sheetFormatPr zeroHeight="true"/></worksheet>'),
            "row 3",
        ),
        (_shown(1, 2, 3), None),
        (lambda xml: _shown(1, 2, 3)(_rows_hidden_by_default(xml)), None),
        (lambda xml: xml.replace(b'<row r="3"', b'<row r="3" ht="3" customHeight="1"'), None),
    ],
    ids=[
        "hidden-by-default",
        "one-not-shown",
        "shown-too-thin",
        "custom-height-without-a-height",
        "a-height-not-set-by-hand",
        "too-thin-to-read",
        "not-a-number",
        "format-after-the-rows",
        "control-heights",
        "control-shown-under-zero-height",
        "control-three-points",
    ],
)
def test_rows_hidden_by_default_or_too_thin_to_read_are_refused(minimal_site, run, tmp_path, rewrite, refused):
    # (hostile review: <sheetFormatPr zeroHeight="1"/> hides every row not shown by a height of its
    # own, and a row of 2 points shows nothing legible; both were awarded)
    result = award_sheet(run, minimal_site, crafted_workbook(tmp_path, rewrite))
    if refused is None:
        assert result.code == 0, result.err
        assert (minimal_site / "recipients/bo.yaml").exists()
    else:
        assert result.code == 1 and "error[hidden-rows]: " + refused in result.err, result.err
        assert not (minimal_site / "recipients/bo.yaml").exists()


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_a_hidden_sheet_is_refused_first_or_named(minimal_site, run, tmp_path, state):
    # (hostile review: a workbook whose first sheet was hidden was imported whole, unseen)
    book = openpyxl.Workbook()
    secret = book.active
    secret.title = "Old list"
    secret.append(["name", "email", "badge", "issued_on"])
    secret.append(["Bo", "bo@example.org", "first-badge", "2026-03-01"])
    secret.sheet_state = state
    awards = book.create_sheet("Awards")
    awards.append(["name", "email", "badge", "issued_on"])
    awards.append(["Zoe", "zoe@example.org", "first-badge", "2026-03-01"])
    book.create_sheet("Notes")
    book.active = 1
    book.save(tmp_path / "book.xlsx")
    first = award_sheet(run, minimal_site, tmp_path / "book.xlsx")
    assert first.code == 1 and "Traceback" not in first.err
    assert (
        "book.xlsx: error[hidden-sheet]: the first sheet, 'Old list', is hidden, and would be awarded unseen; "
        "the visible sheets are 'Awards', 'Notes'" in first.err
    ), first.err
    assert "--sheet 'NAME'" in first.err and "Unhide" in first.err
    named = award_sheet(run, minimal_site, tmp_path / "book.xlsx", "--sheet", "Old list")
    assert named.code == 1 and "error[hidden-sheet]: the sheet named by --sheet, 'Old list', is hidden" in named.err
    assert not (minimal_site / "recipients/bo.yaml").exists() and not (minimal_site / "recipients/zoe.yaml").exists()
    missing = award_sheet(run, minimal_site, tmp_path / "book.xlsx", "--sheet", "Award")
    assert "its sheets are: 'Old list' (hidden), 'Awards', 'Notes'" in missing.err, missing.err
    chosen = award_sheet(run, minimal_site, tmp_path / "book.xlsx", "--sheet", "Awards")
    assert chosen.code == 0, chosen.err
    assert (minimal_site / "recipients/zoe.yaml").exists() and not (minimal_site / "recipients/bo.yaml").exists()


def test_an_invisible_character_in_a_name_is_said(minimal_site, run, tmp_path):
    # (provider UX review: "Li\u200bsa Ray", pasted from a web page, was signed into a badge unseen)
    sheet = tmp_path / "awards.csv"
    sheet.write_text("name,email,badge,issued_on\nLi\u200bsa Ray,lisa@example.org,first-badge,2026-03-01\n")
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 0, result.err
    assert "warning[invisible-character]: the name holds an invisible character (U+200B ZERO WIDTH SPACE)" in result.err
    check = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert "recipients/lisa-ray.yaml:1:7: warning[invisible-character]" in check.err
    from badgekiln.sources.fields import invisible_character

    assert invisible_character("क्‍ष and 👩‍💻") is None  # (joiners are writing: kept)


def test_a_row_tag_that_never_closes_costs_what_it_spans():
    # (attack review: "<row " repeated in a comment, never closed, made the scan quadratic: a
    # 5 KB workbook took seconds, a larger one hours)
    import io
    import subprocess
    import sys

    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("sheet.xml", b"<worksheet><!--" + b"<row " * 40000 + b"'--></worksheet>")
    code = (
        "import sys; from badgekiln.sources.sheets import _hidden_rows; "
        "print(len(_hidden_rows(sys.stdin.buffer.read(), 'sheet.xml')))"
    )
    done = subprocess.run([sys.executable, "-c", code], input=data.getvalue(), capture_output=True, timeout=30)
    assert done.returncode == 0 and done.stdout == b"0\n", done.stderr


def test_a_worksheet_declaring_entities_is_refused(minimal_site, run, tmp_path):
    # (review: a document type could define what an attribute reads as; Excel never writes one)
    crafted = crafted_workbook(
        tmp_path, lambda xml: xml.replace(b"<worksheet", b'<!DOCTYPE worksheet [<!ENTITY h "1">]><worksheet', 1)
    )
    result = award_sheet(run, minimal_site, crafted)  # (openpyxl refuses it first)
    assert result.code == 1 and "error[bad-xlsx]" in result.err and "Traceback" not in result.err, result.err
    from badgekiln.sources.sheets import _hidden_rows

    with pytest.raises(ValueError, match="declares a document type"):  # (and so does the scan, on its own)
        _hidden_rows(crafted.read_bytes(), "xl/worksheets/sheet1.xml")


def test_a_name_two_badges_share_is_not_guessed(minimal_site, run, tmp_path):
    # (review: two badges named alike, and the import picked one of them silently)
    first = (minimal_site / "badges/first-badge.yaml").read_text()
    (minimal_site / "badges/first-badge-renamed.yaml").write_text(first)  # (the same name, another slug)
    name = next(line.split(":", 1)[1].strip() for line in first.splitlines() if line.startswith("name:"))
    sheet = tmp_path / "awards.csv"
    sheet.write_text(f"name,email,badge,issued_on\nZoe,zoe@example.org,{name.upper()},2026-03-01\n")
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 1
    assert (
        f"error[ambiguous-badge]: '{name.upper()}' is the name of 2 badges (first-badge, first-badge-renamed)"
        in result.err
    )
    assert "write the badge you mean by its slug" in result.err
    sheet.write_text("name,email,badge,issued_on\nZoe,zoe@example.org,First-Badge-Renamed,2026-03-01\n")
    assert award_sheet(run, minimal_site, sheet).code == 0  # (its slug, in any case, is not ambiguous)


def test_an_office_sheet_with_a_title_row_and_a_totals_row(minimal_site, run, tmp_path):
    # (first-time provider review: a title above the header was "the first row must name the
    # columns … --map"; a "Total" row below the data got three "fill in its cell" errors)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Harbour Safety Training – Course results November 2026"])
    sheet.merge_cells("A1:D1")
    sheet.append([])
    for row in (
        ["Name", "Email", "Badge", "Issued on"],
        ["Zoe", "zoe@example.org", "first-badge", "2026-03-01"],
        ["Bo", "bo@example.org", "first-badge", "2026-03-01"],
    ):
        sheet.append(row)
    path = tmp_path / "results.xlsx"
    book.save(path)
    result = award_sheet(run, minimal_site, path)
    assert result.code == 0, result.err
    assert "results.xlsx:3: warning[header-below]: the columns are named in row 3: the rows above it " in result.err
    assert "'Harbour Safety Training – Course results November 2026'" in result.err
    assert "unused-column" not in result.err  # (the title is not a column: an audit found "use --map" for it)
    assert "2 award(s) added" in result.out
    sheet.append(["Total", "", "", "", 2])
    book.save(path)
    result = award_sheet(run, minimal_site, path)
    assert result.code == 1 and result.err.count("error[") == 1, result.err
    assert "results.xlsx:6: error[totals-row]: this row looks like a totals row ('Total'), not an award" in result.err


def test_a_header_under_a_title_that_misses_a_column_is_the_row_the_error_names(minimal_site, run, tmp_path):
    # (UX review: the error named the title, row 1, and its hint mapped "YOUR NAME")
    book = openpyxl.Workbook()
    for row in (["Course results Nov 2026"], [], ["Name", "Email", "Badge", "Date"]):
        book.active.append(row)
    book.active.append(["Zoe", "zoe@example.org", "first-badge", "2026-03-01"])
    path = tmp_path / "results.xlsx"
    book.save(path)
    result = award_sheet(run, minimal_site, path)
    assert result.code == 1 and result.err.count("error[") == 1, result.err
    assert (
        "results.xlsx:3: error[bad-header]: row 3 must name the columns name, email, badge, issued_on "
        "(in any order, any case); missing: issued_on; found: 'Name', 'Email', 'Badge', 'Date'"
    ) in result.err
    assert '--map "Date=issued_on"' in result.err
    result = award_sheet(run, minimal_site, path, "--map", "Date=issued_on")
    assert result.code == 0, result.err


def test_an_award_above_the_header_is_refused_not_dropped(minimal_site, run, tmp_path):
    # (hostile review: a row with an earner above the header row was dropped with a warning that
    # quoted only the title)
    book = openpyxl.Workbook()
    for row in (
        ["Course awards March 2026"],
        ["Cy Three", "cy@example.com", "first-badge", "2026-03-01"],
        ["name", "email", "badge", "issued_on"],
        ["Bo", "bo@example.org", "first-badge", "2026-03-01"],
    ):
        book.active.append(row)
    path = tmp_path / "above.xlsx"
    book.save(path)
    result = award_sheet(run, minimal_site, path)
    assert result.code == 1 and "above.xlsx:2: error[row-above-header]: row 2 holds an email address" in result.err
    assert not (minimal_site / "recipients/bo.yaml").exists()


@pytest.mark.parametrize(
    ("header", "hint"),
    [
        ("Name,Email,Course,Date of birth,Completed", '--map "Course=badge,Completed=issued_on"'),
        ("Name,Email,Course,Date of birth", '--map "Course=badge,YOUR HEADING=issued_on"'),
        ("Name,Email,Candidate ID,Qualification,Date", '--map "Qualification=badge,Date=issued_on"'),
        ("Email,Course name,Date", '--map "YOUR HEADING=name,YOUR HEADING=badge,Date=issued_on"'),
        ("Name,Email,Badge,Date of birth", '--map "YOUR HEADING=issued_on"'),
        # (re-review: words split only on spaces, "-" and "_"; a word of a column read elsewhere)
        ("Name,Email,Course,Date of birth:,Score", '--map "Course=badge,YOUR HEADING=issued_on"'),
        ("Name,Email,Badge,D.O.B.", '--map "YOUR HEADING=issued_on"'),
        ("Email,Student No.,Course,Date", '--map "YOUR HEADING=name,Course=badge,Date=issued_on"'),
        ("Email,Course name,Participant,Badge,Date", '--map "Participant=name,Date=issued_on"'),
    ],
)
def test_a_missing_columns_hint_never_guesses_a_heading_that_says_it_is_something_else(
    minimal_site, run, tmp_path, header, hint
):
    # (hostile review: "Date of birth" was offered for issued_on, which would issue badges dated on
    # birthdays; "Candidate ID" for issued_on ("date" inside "candidate"); "Course name" for name)
    sheet = tmp_path / "awards.csv"
    sheet.write_text(header + "\n" + ",".join("x" for _ in header.split(",")) + "\n")
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 1 and hint in result.err, result.err


def test_a_header_under_a_title_is_found_by_its_e_mail_heading_too(minimal_site, run, tmp_path):
    # (hostile review: the partial header's search did not read "E-mail" as email, and named the title)
    sheet = tmp_path / "awards.csv"
    sheet.write_text("Training record 2026\nE-mail,Badge,Date,Learner\nann@example.com,first-badge,2026-06-01,Ann\n")
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 1 and "awards.csv:2: error[bad-header]: row 2 must name the columns" in result.err, result.err


def test_a_new_earner_named_as_one_on_file_is_warned_of(minimal_site, run, tmp_path):
    # (a provider's review: a mistyped address silently made recipients/ann-example-2.yaml, and the
    # badge went to an address nobody reads)
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "name,email,badge,issued_on\n"
        "ann  EXAMPLE,ann@exmaple.com,first-badge,2026-06-01\n"
        "Bo Li,bo@example.com,first-badge,2026-06-01\n"
        "Bo Li,bo.li@example.com,first-badge,2026-06-02\n"
    )
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 0, result.err
    assert (
        "awards.csv:2: warning[same-name]: ann@exmaple.com is a new earner, recipients/ann-example.yaml, but "
        "recipients/ann.yaml has an earner of the same name, 'Ann Example', at ann@example.com"
    ) in result.err
    assert "hint: if it is the same person, write ann@example.com (or correct the address on file)" in result.err
    assert (
        "awards.csv:4: warning[same-name]: bo.li@example.com is a new earner, recipients/bo-li-2.yaml, but "
        "row 3 of this sheet has an earner of the same name, 'Bo Li', at bo@example.com"
    ) in result.err
    assert result.err.count("warning[same-name]") == 2
    assert (minimal_site / "recipients/ann-example.yaml").exists()  # (namesakes are allowed: a warning only)


def test_the_same_name_at_the_same_address_or_a_new_name_is_not_warned_of(minimal_site, run, tmp_path):
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "name,email,badge,issued_on\nAnn Example,ann@example.com,first-badge,2026-06-01\n"
        "Cy Young,cy@example.com,first-badge,2026-06-01\n"
    )
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 0, result.err
    assert "same-name" not in result.err


def test_a_bad_date_does_not_hide_the_rows_other_problems(minimal_site, run, tmp_path):
    # (a provider's review: the bad email of a row with a bad date was said only once the date was right)
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "name,email,badge,issued_on,expires\n"
        "Eve Fay,eve@example .com,first-badge,46082,\n"
        "Al Bo,al@example.com,no-such-badge,03/04/2026,2020-01-01\n"
    )
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 1
    assert "awards.csv:2:4 (cell D2): error[bad-date]: 'issued_on' is the number 46082, not a date" in result.err
    assert "awards.csv:2:2 (cell B2): error[bad-email]" in result.err
    assert "awards.csv:3:4 (cell D3): error[bad-date]" in result.err
    assert "awards.csv:3:3 (cell C3): error[unknown-badge]" in result.err
    # each date is spoken of once: no second error about a date put aside (expiry before issue)
    assert result.err.count("error[bad-date") == 2 and "bad-dates" not in result.err
    assert not (minimal_site / "recipients/eve-fay.yaml").exists()


def test_a_renewal_a_day_after_the_award_it_renews_is_said_to_be_a_likely_repeat(minimal_site, run, tmp_path):
    # (a provider's review: two rows of one award with the dates one day apart became an award and
    # its renewal, with only the usual renewal warning)
    badge = minimal_site / "badges/first-badge.yaml"
    badge.write_text(badge.read_text() + "valid_for: P1Y\n")
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "name,email,badge,issued_on\nLo Ma,lo@example.com,first-badge,2026-11-12\n"
        "Lo Ma,lo@example.com,first-badge,2026-11-13\nLo Ma,lo@example.com,first-badge,2027-11-01\n"
    )
    result = award_sheet(run, minimal_site, sheet, "--today", "2027-11-02")
    assert result.code == 0, result.err
    assert "awards.csv:3: warning[renewal]" in result.err
    assert "; it comes only 1 day after it: if it was entered twice, delete the new award instead" in result.err
    assert result.err.count("it comes only") == 1  # (a renewal a year on is a renewal)


def test_a_short_badge_renewed_at_its_end_is_a_renewal_not_a_repeat(minimal_site, run, tmp_path):
    # (a review: a badge valid for 14 days renewed on its last day was called "a row given twice")
    badge = minimal_site / "badges/first-badge.yaml"
    badge.write_text(badge.read_text() + "valid_for: P14D\n")
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "name,email,badge,issued_on\nLo Ma,lo@example.com,first-badge,2026-11-01\nLo Ma,lo@example.com,first-badge,2026-11-15\n"
    )
    result = award_sheet(run, minimal_site, sheet, "--today", "2026-11-20")
    assert result.code == 0, result.err
    assert "awards.csv:3: warning[renewal]" in result.err and "it comes only" not in result.err


def test_a_number_date_in_a_workbook_says_to_format_the_column_not_to_save_a_csv(minimal_site, run, tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["name", "email", "badge", "issued_on"])
    book.active.append(["Zoe", "zoe@example.org", "first-badge", 46082])
    book.save(tmp_path / "awards.xlsx")
    result = award_sheet(run, minimal_site, tmp_path / "awards.xlsx")
    assert result.code == 1
    assert "format the column as a date in the sheet, or write the dates as YYYY-MM-DD" in result.err, result.err


@pytest.mark.parametrize(
    "address, said",
    [
        ("jane.doe\u200b@example.com", "an invisible character (U+200B, ZERO WIDTH SPACE)"),
        ("jane\u00addoe@example.com", "an invisible character (U+00AD, SOFT HYPHEN)"),
        ("\uff4aane@example.com", "a form of 'j': write 'j'"),
    ],
)
def test_an_address_with_a_hidden_or_wide_character_is_refused_at_its_cell(minimal_site, run, tmp_path, address, said):
    # (a review: jane.doe<ZWSP>@example.com made a second earner, whose badge's hash is of an
    # address nobody has; a name gets a warning for such a character, an address got nothing)
    sheet = tmp_path / "awards.csv"
    sheet.write_text(f"name,email,badge,issued_on\nJane Doe,{address},first-badge,2026-03-01\n", encoding="utf-8")
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 1
    assert (
        "awards.csv:2:2 (cell B2): error[bad-email]" in result.err and "is not the address it looks like" in result.err
    )
    assert said in result.err, result.err
    assert not any(path.name.startswith("jane") for path in (minimal_site / "recipients").iterdir())


def test_an_address_in_another_script_is_still_taken(minimal_site, run, tmp_path):
    sheet = tmp_path / "awards.csv"
    sheet.write_text("name,email,badge,issued_on\nJöhn Ö,jöhn@example.com,first-badge,2026-03-01\n", encoding="utf-8")
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 0, result.err


def test_a_formula_error_is_refused_at_its_cell(minimal_site, run, tmp_path):
    # (a review: a name cell whose lookup failed, <c t="e"><f>VLOOKUP(…)</f><v>#N/A</v></c>, made
    # recipients/na.yaml with name "#N/A", to be signed into the badge; a CSV's "#REF!" the same)
    sheet = xlsx(
        tmp_path / "a.xlsx",
        [
            ["name", "email", "badge", "issued_on", "narrative"],
            ["x", "zoe@example.org", "first-badge", "2026-03-01", "Well done"],
        ],
    )
    error_cell = lambda xml: xml.replace(  # noqa: E731
        b'<c r="A2" t="inlineStr"><is><t>x</t></is></c>',
        b'<c r="A2" t="e"><f>VLOOKUP(B2,People!A:B,2,0)</f><v>#N/A</v></c>',
    )
    result = award_sheet(run, minimal_site, _rewritten(sheet, error_cell))
    assert result.code == 1 and "a.xlsx:2:1 (cell A2): error[formula-error]: the name is '#N/A'" in result.err, (
        result.err
    )
    assert not (minimal_site / "recipients/na.yaml").exists()
    csv = tmp_path / "awards.csv"
    csv.write_text("name,email,badge,issued_on\nZoe,#REF!,first-badge,2026-03-01\n", encoding="utf-8")
    result = award_sheet(run, minimal_site, csv)
    assert result.code == 1 and "awards.csv:2:2 (cell B2): error[formula-error]: the email is '#REF!'" in result.err, (
        result.err
    )


def test_a_workbook_that_declares_a_huge_sheet_is_read_at_its_size(minimal_site, run, tmp_path):
    # (a review: a 4 KB workbook declaring A1:XFD20000, with a cell at row 20000, took two minutes
    # and 2.7 GB: every row, the empty ones between too, was read 16,384 cells long)
    sheet = xlsx(
        tmp_path / "a.xlsx",
        [["name", "email", "badge", "issued_on"], ["Zoe", "zoe@example.org", "first-badge", "2026-03-01"]],
    )
    far = lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD20000"/>', xml).replace(  # noqa: E731
        b"</sheetData>", b'<row r="20000"><c r="A20000" t="inlineStr"><is><t>late</t></is></c></row></sheetData>'
    )
    started = time.monotonic()
    result = award_sheet(run, minimal_site, _rewritten(sheet, far))
    assert time.monotonic() - started < 20
    assert "a.xlsx:20000" in result.err and "issued_on" in result.err, result.err  # (the late row, read, is incomplete)


def test_a_sheet_of_too_many_cells_is_refused(minimal_site, run, tmp_path, monkeypatch):
    from badgekiln.sources import sheets

    monkeypatch.setattr(sheets, "MAX_CELLS", 10)
    sheet = xlsx(
        tmp_path / "a.xlsx",
        [["name", "email", "badge", "issued_on"], *[["Zoe", "zoe@example.org", "first-badge", "2026-03-01"]] * 3],
    )
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 1 and "error[too-many-cells]: the sheet has more than 10 cells" in result.err, result.err


def test_a_header_of_many_stray_headings_is_read_in_linear_time(minimal_site, run, tmp_path):
    # (a review: 200,000 unknown headings took 210 s: each looked for among those before it, and a
    # did-you-mean for each, though ten warnings are shown)
    sheet = tmp_path / "wide.csv"
    header = ",".join(["name", "email", "badge", "issued_on"] + [f"x{i}" for i in range(200_000)])
    sheet.write_text(header + "\nZoe,zoe@example.org,first-badge,2026-03-01\n", encoding="utf-8")
    started = time.monotonic()
    result = award_sheet(run, minimal_site, sheet)
    assert time.monotonic() - started < 30
    assert result.code == 0 and "200000 more columns are not used" not in result.err, result.err
    assert "more columns are not used" in result.err


def _two_sheets(path, active: int):
    book = openpyxl.Workbook()
    first = book.active
    first.title = "All candidates"
    for row in (
        ["name", "email", "badge", "issued_on"],
        ["Passed One", "one@example.org", "first-badge", "2026-03-01"],
        ["Failed Two", "two@example.org", "first-badge", "2026-03-01"],
    ):
        first.append(row)
    second = book.create_sheet("Passed")
    for row in (
        ["name", "email", "badge", "issued_on"],
        ["Passed One", "one@example.org", "first-badge", "2026-03-01"],
    ):
        second.append(row)
    book.active = active
    book.save(path)
    return path


def test_a_workbook_that_opens_on_another_sheet_than_the_first_names_it(minimal_site, run, tmp_path):
    # (a review: saved on its "Passed" tab, a workbook awarded "Failed Two" of its first sheet, silently)
    sheet = _two_sheets(tmp_path / "results.xlsx", active=1)
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 1 and "error[which-sheet]: the workbook opens on its sheet 'Passed'" in result.err, result.err
    assert "--sheet 'Passed'" in result.err and not (minimal_site / "recipients/failed-two.yaml").exists()
    result = run("award", "--source", str(minimal_site), "--csv", str(sheet), "--sheet", "Passed", "--today", TODAY)
    assert result.code == 0 and "1 award(s) added" in result.out, result.err
    assert not (minimal_site / "recipients/failed-two.yaml").exists()


def test_a_workbook_of_several_sheets_says_which_is_read(minimal_site, run, tmp_path):
    result = award_sheet(run, minimal_site, _two_sheets(tmp_path / "results.xlsx", active=0))
    assert result.code == 0, result.err
    assert (
        "warning[other-sheets]: only the first sheet, 'All candidates', is read; the workbook also has 'Passed'"
        in result.err
    )


@pytest.mark.parametrize("name, file", [("Con", "con-2.yaml"), ("Nul", "nul-2.yaml"), ("Com1", "com1-2.yaml")])
def test_an_earner_named_as_a_windows_device_gets_another_file_name(minimal_site, run, tmp_path, name, file):
    # (a review: "Con" became recipients/con.yaml, which git for Windows cannot check out)
    sheet = tmp_path / "awards.csv"
    sheet.write_text(f"name,email,badge,issued_on\n{name},x@example.org,first-badge,2026-03-01\n", encoding="utf-8")
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 0, result.err
    assert (minimal_site / "recipients" / file).is_file()
    assert not (minimal_site / "recipients" / f"{name.lower()}.yaml").exists()


@pytest.mark.parametrize(
    "address",
    [
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645@example.com",
        "\u0915\u094d\u200d\u0937@example.com",
        "m\u00b5ller@example.com",
    ],
)
def test_addresses_that_spell_with_joiners_or_hold_a_micro_sign_are_taken(minimal_site, run, tmp_path, address):
    # (the second review: Persian and Devanagari spell words with ZWNJ/ZWJ, which are format
    # characters; µ is not a form of an ASCII letter: "write 'μ'" named another mailbox)
    sheet = tmp_path / "awards.csv"
    sheet.write_text(f"name,email,badge,issued_on\nRa Min,{address},first-badge,2026-03-01\n", encoding="utf-8")
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 0, result.err


def test_an_empty_formatted_cell_far_right_does_not_widen_the_sheet(minimal_site, run, tmp_path):
    # (the second review: one coloured empty cell at column 3,000 made 2,000 rows "too many cells")
    from openpyxl.styles import PatternFill

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["name", "email", "badge", "issued_on"])
    for n in range(2000):
        sheet.append([f"Earner {n}", f"e{n}@example.org", "first-badge", "2026-03-01"])
    sheet.cell(row=5, column=3000).fill = PatternFill("solid", fgColor="FFFF00")
    path = tmp_path / "styled.xlsx"
    book.save(path)
    result = award_sheet(run, minimal_site, path)
    assert result.code == 0 and "2000 award(s) added" in result.out, result.err


@pytest.mark.parametrize(
    "address",
    ["mu\u0301\u200cnoz@example.com", "\u0438\u0432\u0430\u043d\u200c\u043e\u0432@example.ru", "\u2126@example.com"],
)
def test_a_joiner_in_latin_or_cyrillic_and_the_ohm_sign_are_refused(minimal_site, run, tmp_path, address):
    # (a second review: a joiner between any two non-ASCII letters, and forms of non-ASCII letters, passed)
    sheet = tmp_path / "awards.csv"
    sheet.write_text(f"name,email,badge,issued_on\nIvan,{address},first-badge,2026-03-01\n", encoding="utf-8")
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 1 and "is not the address it looks like" in result.err, result.err


def test_an_import_stopped_by_a_write_error_changes_no_file(minimal_site, run, tmp_path):
    """A review (2026-12-07): an import whose writing failed part way (a full disk) had changed
    the files written before it, and the error named a temporary file. A real write error here:
    the import runs with a file-size limit (RLIMIT_FSIZE) that the second file's text passes."""
    import os
    import resource
    import signal
    import subprocess
    import sys
    from pathlib import Path

    import badgekiln

    first = (minimal_site / "badges/first-badge.yaml").read_text()
    (minimal_site / "badges/second-badge.yaml").write_text(first.replace("First Badge", "Second Badge"))
    assert run("build", "--source", str(minimal_site), "--today", TODAY).code == 0
    big = minimal_site / "recipients/zed.yaml"
    big.write_text(
        "name: Zed\nemail: zed@example.org\nawards:\n  - id: zed-first-1\n    badge: first-badge\n"
        "    issued_on: 2026-01-01\n" + "# notes kept by the office\n" * 2_000
    )
    before = {p.name: p.read_bytes() for p in (minimal_site / "recipients").iterdir()}
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "name,email,badge,issued_on\n"
        "Ann,ann@example.com,second-badge,2026-03-01\n"  # (ann.yaml, written first, is small)
        "Zed,zed@example.org,second-badge,2026-03-01\n"  # (zed.yaml passes the limit)
    )
    assert "second-badge" not in (minimal_site / "recipients/ann.yaml").read_text()

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # (write() then fails with EFBIG)
        resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "badgekiln",
            "award",
            "--csv",
            str(sheet),
            "--source",
            str(minimal_site),
            "--today",
            TODAY,
        ],
        preexec_fn=limited,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(badgekiln.__file__).resolve().parents[1])},
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "error: recipients/zed.yaml: cannot write it (File too large); no file was changed" in result.stderr
    assert "Traceback" not in result.stderr and ".zed.yaml." not in result.stderr
    assert {p.name: p.read_bytes() for p in (minimal_site / "recipients").iterdir()} == before  # no temporary file left


def test_text_garbled_by_the_wrong_encoding_is_refused_with_what_it_meant(minimal_site, run, tmp_path):
    """A review (2026-12-07): a UTF-8 sheet imported with --encoding cp1252 signed 'JosÃ©' into a
    badge for good, without a word; so did a sheet that already held the garbled text."""
    sheet = tmp_path / "awards.csv"
    sheet.write_bytes("name,email,badge,issued_on\nJosé Müller,jose@example.org,first-badge,2026-03-01\n".encode())
    before = sorted(p.name for p in (minimal_site / "recipients").iterdir())
    result = award_sheet(run, minimal_site, sheet, "--encoding", "cp1252")
    assert result.code == 1 and "Traceback" not in result.err
    assert (
        "awards.csv:2:1 (cell A2): error[garbled-text]: the name 'JosÃ© MÃ¼ller' looks like 'José Müller' read in the"
        in result.err
    )
    assert "import it again without --encoding" in result.err
    assert sorted(p.name for p in (minimal_site / "recipients").iterdir()) == before
    assert award_sheet(run, minimal_site, sheet).code == 0  # (read as UTF-8: as the sheet shows it)

    book = openpyxl.Workbook()
    book.active.append(["name", "email", "badge", "issued_on", "narrative"])
    book.active.append(["Bo", "bo@example.org", "first-badge", "2026-03-01", "Itâ€™s done"])
    book.save(tmp_path / "garbled.xlsx")
    result = award_sheet(run, minimal_site, tmp_path / "garbled.xlsx")
    assert (
        result.code == 1
        and "garbled.xlsx:2:5 (cell E2): error[garbled-text]: the narrative 'Itâ€™s done' looks like" in result.err
    )
    assert "correct the cell to read 'It’s done', if that is what it meant" in result.err


@pytest.mark.parametrize(
    "name",
    [
        "SÃO PAULO Silva",
        "JOSÉ\xa0GARCÍA",
        "Åsa Ångström",
        "Nguyễn Đức",
        "Zoë Ó Briain",
        # (a second review: an accented capital or letter, then a sign, is text, not garbling)
        "NESTLÉ® Trainee",
        "“CAFÉ” Barista",
        "ANDRÉ’S Ward",
        "Irmã IRMÃ\xa0MARIA",
        "Jo vom „Fluß“",
        "the café…” Team",
        "C’EST L’ÉTÉ… Lee",
    ],
)
def test_names_that_only_look_unusual_are_not_called_garbled(minimal_site, run, tmp_path, name):
    sheet = tmp_path / "awards.csv"
    sheet.write_text(f"name,email,badge,issued_on\n{name},x@example.org,first-badge,2026-03-01\n", encoding="utf-8")
    result = award_sheet(run, minimal_site, sheet)
    assert result.code == 0 and "garbled" not in result.err, result.err


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (45, "(1900-02-14) is day 45 of a spreadsheet's calendar: a number in a cell formatted as a date, or a"),
        ("0206-05-01", "(0206-05-01) is in the year 206: a year typed wrong?"),
        (18263, "(1949-12-31) is day 18263 of"),
        ("1949-12-31", "(1949-12-31) is day 18263 of"),
        ("1899-12-31", "(1899-12-31) is the date a spreadsheet shows for an empty or zero cell"),
    ],
)
def test_an_issue_date_no_award_can_have_says_what_it_likely_is(minimal_site, run, tmp_path, value, said):
    """A review (2026-12-07): a date cell holding 45 (1900-02-13) was imported, and a year typed
    0206 was called an empty cell."""
    book = openpyxl.Workbook()
    book.active.append(["name", "email", "badge", "issued_on"])
    book.active.append(["Bo", "bo@example.org", "first-badge", value])
    book.active["D2"].number_format = "yyyy-mm-dd"
    book.save(tmp_path / "dates.xlsx")
    result = award_sheet(run, minimal_site, tmp_path / "dates.xlsx")
    assert result.code == 1 and f"error[bad-date]: 'issued_on' {said}" in result.err, result.err
    assert not (minimal_site / "recipients/bo.yaml").exists()
    if value != "1949-12-31":
        return
    book.active["D2"] = "1950-01-01"  # (the first day an import takes)
    book.save(tmp_path / "dates.xlsx")
    assert award_sheet(run, minimal_site, tmp_path / "dates.xlsx").code == 0


def test_a_workbook_saved_with_a_password_is_called_that_not_an_old_xls(minimal_site, run, tmp_path):
    """A review (2026-12-07): Excel keeps a workbook saved with a password in the old format's
    container, so it was refused as 'an old-style Excel .xls file', and saving it as .xlsx again
    (with its password) changed nothing. The workbook is encrypted as Excel does (msoffcrypto-tool)."""
    import io

    from msoffcrypto.format.ooxml import OOXMLFile

    book = openpyxl.Workbook()
    book.active.append(["name", "email", "badge", "issued_on"])
    book.active.append(["Bo", "bo@example.org", "first-badge", "2026-03-01"])
    plain = io.BytesIO()
    book.save(plain)
    plain.seek(0)
    with open(tmp_path / "locked.xlsx", "wb") as locked:
        OOXMLFile(plain).encrypt("office-2026", locked)
    result = award_sheet(run, minimal_site, tmp_path / "locked.xlsx")
    assert result.code == 1 and "Traceback" not in result.err
    assert "locked.xlsx: error[protected-workbook]: this workbook is protected by a password" in result.err
    assert "remove the password" in result.err and ".xls file" not in result.err


@pytest.mark.parametrize(
    ("garbled", "meant"),
    [
        ("JosÃ© MÃ¼ller", "José Müller"),
        ("YÄ±lmaz", "Yılmaz"),
        ("Itâ€™s â€œdoneâ€\x9d", "It’s “done”"),
        ("ÐŸÑ€Ð¸Ð²ÐµÑ‚", "Привет"),
        ("æ—¥æœ¬", "日本"),
        ("Well done ðŸŽ‰", "Well done 🎉"),
    ],
)
def test_the_forms_garbling_leaves_are_read_back(garbled, meant):
    from badgekiln.sources.fields import mojibake

    assert mojibake(garbled) == meant
    assert mojibake(meant) is None  # (and what they meant is not garbled)
