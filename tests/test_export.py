"""``badgekiln export`` for HR (CSV, Excel CSV, JSON, xlsx; filters) and ``badgekiln report stats``."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from datetime import datetime

import openpyxl
import pytest
from conftest import TODAY


def export(run, site, *extra):
    result = run("export", "--source", str(site), "--today", TODAY, *extra)
    assert result.code == 0, result.err
    return result


def notified(site, *lines):
    (site / "site_src/notified.lock").write_text(
        "# badgekiln: awards whose earners were emailed\n" + "".join(f"{line}\n" for line in lines), encoding="utf-8"
    )


def test_every_column_hr_asks_for(example_site, run):
    notified(example_site, "7q4kz2m9xw\t2026-03-02")
    rows = {r["award_id"]: r for r in csv.DictReader(io.StringIO(export(run, example_site).out))}
    first = rows["7q4kz2m9xw"]
    assert first["badge"] == "pipefitting-mji10" and first["badge_name"] == "Pipefitting - MJI10 Base Competence"
    assert first["status"] == "active" and first["notified_on"] == "2026-03-02"
    assert first["skills"] == "pipefitting; mechanical; joint integrity"
    assert first["credential_url"] == "https://badges.northwind.example/awards/7q4kz2m9xw/credential.json"
    revoked = rows["d3f4g5h6jk"]
    assert revoked["status"] == "revoked" and revoked["revoked_on"] == "2026-05-01"
    assert revoked["revoked_reason"].startswith("Issued in error")
    # (expired, and renewed since by z3k7q2w9hd: HR reads 'renewed', with the renewing award's page)
    assert rows["r9t4y1u6ep"]["status"] == "renewed" and rows["r9t4y1u6ep"]["notified_on"] == ""
    assert rows["r9t4y1u6ep"]["renewed_by"] == "https://badges.northwind.example/awards/z3k7q2w9hd/"
    assert {r["status"] for r in rows.values()} == {"active", "renewed", "revoked"}


def test_filters_by_badge_status_and_dates(example_site, run):
    def ids(*options):
        return sorted(r["award_id"] for r in json.loads(export(run, example_site, "--format", "json", *options).out))

    everything = ids()
    assert len(everything) == 14
    pipefitting = ids("--badge", "pipefitting-mji10")
    assert len(pipefitting) == 3 and "d3f4g5h6jk" in pipefitting
    assert ids("--badge", "pipefitting-mji10", "--status", "active") == sorted(set(pipefitting) - {"d3f4g5h6jk"})
    assert ids("--status", "revoked", "--status", "renewed") == ["d3f4g5h6jk", "r9t4y1u6ep"]
    assert ids("--status", "expired") == []
    spring = json.loads(export(run, example_site, "--format", "json", "--from", "2026-02-01", "--to", "2026-03-31").out)
    assert spring and all("2026-02-01" <= r["issued_on"] <= "2026-03-31" for r in spring)
    assert len(spring) == 4  # (2 in February, 7q4kz2m9xw and c8x2v5n7fa in March)
    bad = run("export", "--source", str(example_site), "--today", TODAY, "--badge", "pipefiting-mji10")
    assert bad.code == 1 and "there is no badge 'pipefiting-mji10'" in bad.err
    backwards = run(
        "export", "--source", str(example_site), "--today", TODAY, "--from", "2026-05-01", "--to", "2026-01-01"
    )
    assert backwards.code != 0 and "--to (2026-01-01) is before --from (2026-05-01)" in backwards.err


def test_excel_csv_has_a_bom_crlf_and_no_formulas(example_site, run, tmp_path):
    recipient = example_site / "recipients/elena-garcia.yaml"
    recipient.write_text(
        recipient.read_text(encoding="utf-8").replace("name: ", 'name: "=HYPERLINK(1)" #', 1), encoding="utf-8"
    )
    target = tmp_path / "awards.csv"
    export(run, example_site, "--excel", "--output", str(target))
    data = target.read_bytes()
    assert (
        data.startswith(b"\xef\xbb\xbfaward_id,recipient,")
        and b"\r\n" in data
        and b"\n" not in data.replace(b"\r\n", b"")
    )
    assert b",'=HYPERLINK(1)," in data
    plain = export(run, example_site).out
    assert not plain.startswith("\ufeff") and "\r\n" not in plain


@pytest.mark.parametrize("separator", [";", "\t", ",", "|"])
def test_no_part_of_a_csv_cell_starts_a_formula_when_read_with_another_separator(example_site, run, separator):
    """A spreadsheet whose list separator is ';' (much of Europe) splits 'Ann;=HYPERLINK(…)' at
    the ';' when it opens a CSV, and read the second part as a formula (a review, 2026-12-07)."""
    import csv
    import io

    recipient = example_site / "recipients/elena-garcia.yaml"
    hostile = f"Ann{separator} =HYPERLINK(1){separator}+1{separator}@SUM(1)"
    text = recipient.read_text(encoding="utf-8").replace("name: ", f"name: {json.dumps(hostile)} #", 1)
    recipient.write_text(text, encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(export(run, example_site).out)))
    cell = next(row["recipient"] for row in rows if row["recipient"].startswith("Ann"))
    assert cell == f"Ann{separator} '=HYPERLINK(1){separator}'+1{separator}'@SUM(1)"
    for row in rows:
        for value in row.values():
            for part in re.split(r"[,;\t|]", value):
                assert not part.lstrip(" ").startswith(("=", "+", "-", "@")), value


def test_xlsx_export_has_typed_cells_text_never_formulas_and_is_deterministic(example_site, run, tmp_path):
    recipient = example_site / "recipients/elena-garcia.yaml"
    recipient.write_text(
        recipient.read_text(encoding="utf-8").replace("name: ", 'name: "=HYPERLINK(1)" #', 1), encoding="utf-8"
    )
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    export(run, example_site, "--format", "xlsx", "--output", str(first))
    export(run, example_site, "--format", "xlsx", "--output", str(second))
    assert first.read_bytes() == second.read_bytes()
    assert first.stat().st_mode & 0o077 == 0  # personal data: the owner's only
    sheet = openpyxl.load_workbook(first).worksheets[0]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:U15"  # header in view, filters on
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows[0]
    assert header[:3] == ["award_id", "recipient", "email"] and "skills" in header
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert len(by_id) == 14
    assert by_id["7q4kz2m9xw"]["issued_on"] == datetime(2026, 3, 1)  # a date cell, sortable in Excel
    formula_cells = [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert formula_cells == []
    assert "=HYPERLINK(1)" in [r["recipient"] for r in by_id.values()]
    as_json = json.loads(export(run, example_site, "--format", "json").out)
    for row in as_json:
        got = by_id[row["award_id"]]
        assert got["email"] == row["email"] and got["status"] == row["status"]
        assert (got["expires"].date().isoformat() if got["expires"] else "") == row["expires"]


def test_an_export_is_never_written_into_the_published_site(example_site, run):
    (example_site / "output").mkdir()
    result = run(
        "export", "--source", str(example_site), "--today", TODAY, "--output", str(example_site / "output/awards.csv")
    )
    assert result.code == 1 and "must never be published" in result.err
    assert not (example_site / "output/awards.csv").exists()
    nowhere = run(
        "export",
        "--source",
        str(example_site),
        "--today",
        TODAY,
        "--output",
        str(example_site / "no/such/folder/awards.csv"),
    )
    assert nowhere.code == 1 and "cannot write" in nowhere.err and "Traceback" not in nowhere.err


def test_an_export_inside_the_sources_is_written_with_a_warning_unless_git_ignores_it(example_site, run, tmp_path):
    # (a membership body's review: the README's "--output awards.xlsx" left the workbook where the
    # site's "git add ." committed it)
    args = ("export", "--source", str(example_site), "--today", TODAY, "--output")
    inside = run(*args, str(example_site / "my awards.csv"))
    assert inside.code == 0 and (example_site / "my awards.csv").exists()
    assert "my awards.csv is inside the site's folder, where it is kept with the sources" in inside.err  # (no git)
    assert inside.err.rstrip().endswith("(--output ~/'my awards.csv')")  # (no .gitignore without git)
    outside = run(*args, str(tmp_path / "awards.csv"))
    assert outside.code == 0 and "warning" not in outside.err
    subprocess.run(["git", "init", "-q", str(example_site)], check=True)
    (example_site / ".gitignore").write_text("/exports/\n")
    (example_site / "exports").mkdir()
    ignored = run(*args, str(example_site / "exports/awards.csv"))
    assert ignored.code == 0 and "warning" not in ignored.err
    committed = run(*args, str(example_site / "awards.csv"))  # (in the repository, not ignored)
    assert "awards.csv is inside the site's folder, where the next 'git add .' commits it" in committed.err
    assert "or add it to .gitignore" in committed.err


def test_report_stats(example_site, run):
    notified(example_site, "7q4kz2m9xw\t2026-03-02", "r9t4y1u6ep\t2025-01-01")
    result = run("report", "stats", "--format", "json", "--source", str(example_site), "--today", TODAY)
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["awards"] == 14
    assert summary["by_status"] == {"active": 12, "expired": 0, "revoked": 1, "suspended": 0, "renewed": 1}
    assert summary["by_badge"]["pipefitting-mji10"] == {
        "name": "Pipefitting - MJI10 Base Competence",
        "awards": 3,
        "active": 2,
        "expired": 0,
        "revoked": 1,
        "suspended": 0,
        "renewed": 0,
    }
    assert sum(summary["by_month"].values()) == 14 and summary["by_month"]["2026-02"] == 2
    assert summary["emails"] == {"sent": 2, "not_sent_active": 11}
    table = run("report", "stats", "--source", str(example_site), "--today", TODAY, "--badge", "first-aid-at-work")
    assert "2 award(s)" in table.out and "awards announced by email: 0; active awards not yet announced: 2" in table.out


def test_the_command_line_offers_every_status_the_export_knows():
    from badgekiln.cli import EXPORT_STATUSES
    from badgekiln.commands.export import STATUSES

    assert EXPORT_STATUSES == STATUSES


def test_the_format_follows_the_file_name_and_a_mismatch_is_refused(example_site, run, tmp_path):
    # (provider UX review: --output report.xlsx without --format wrote CSV text that Excel refused)
    source = ["--source", str(example_site), "--today", "2026-12-03"]
    assert run("export", *source, "--output", str(tmp_path / "report.xlsx")).code == 0
    assert (tmp_path / "report.xlsx").read_bytes().startswith(b"PK")  # a workbook (a zip), not CSV text
    (tmp_path / "mine.xlsx").write_bytes(b"PK keep me")
    result = run("export", *source, "--format", "csv", "--output", str(tmp_path / "mine.xlsx"))
    assert result.code == 2 and "does not match the file name mine.xlsx" in result.err
    assert (tmp_path / "mine.xlsx").read_bytes() == b"PK keep me"
    assert run("export", *source, "--output", str(tmp_path / "r.csv")).code == 0
    assert (tmp_path / "r.csv").read_text(encoding="utf-8").startswith("award_id,")


def test_a_badge_filter_takes_the_badges_name_too(example_site, run):
    # (provider UX review: import takes "First Aid at Work", export refused it)
    source = ["--source", str(example_site), "--today", "2026-12-03", "--format", "json"]
    by_name = run("export", *source, "--badge", "first aid at work")
    by_slug = run("export", *source, "--badge", "first-aid-at-work")
    assert by_name.code == 0 and by_name.out == by_slug.out and '"badge": "first-aid-at-work"' in by_name.out


def test_a_badge_filter_naming_two_badges_is_refused(example_site, run):
    # (review: a name two badges share picked neither, and said there was no such badge)
    first = (example_site / "badges/first-aid-at-work.yaml").read_text()
    (example_site / "badges/first-aid-at-work-2.yaml").write_text(first)
    result = run("export", "--source", str(example_site), "--today", "2026-12-03", "--badge", "First Aid at Work")
    assert result.code != 0 and "is the name of several badges: give --badge the slug" in result.err, result.err
    assert "Traceback" not in result.err


def test_status_valid_as_pages_say_it_means_active(example_site, run):
    # (UX review: --status valid was refused; pages and verify say "Valid", the export says "active")
    source = ["--source", str(example_site), "--today", "2026-12-03", "--format", "json"]
    valid = run("export", *source, "--status", "valid")
    assert valid.code == 0 and valid.out == run("export", *source, "--status", "active").out
    assert '"status": "active"' in valid.out and '"status": "revoked"' not in valid.out


def test_a_formula_after_a_separator_and_a_wide_or_no_break_space_is_neutralised_too():
    from badgekiln.commands.export import spreadsheet_text

    assert spreadsheet_text("Ann;\u00a0=1+1") == "Ann;\u00a0'=1+1"
    assert spreadsheet_text("Ann,\u3000@SUM(1)") == "Ann,\u3000'@SUM(1)"
    assert spreadsheet_text("Smith-Jones") == "Smith-Jones"  # (a hyphen inside a word starts nothing)
