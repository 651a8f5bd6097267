"""Inputs at the edges of the calendar and of numbers (a fuzz test, session 29): each was a
traceback, or a failed build that had already changed output/."""

from __future__ import annotations

import pytest
from conftest import TODAY, build, write_site

BADGE = """
    name: First Badge
    description: The first badge.
    image: assets/badge.svg
    criteria: Did the thing.
"""


def snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "extra",
    [
        "valid_for: P9000Y\n",  # (an expiry past 9999-12-31)
        "valid_for: P100000D\n",
        "valid_for: P3Y\nremind_before: [P9999Y]\n",
        "cpd: {points: 1, within: P9999Y}\n",
    ],
)
def test_durations_past_the_calendar_are_no_traceback(minimal_site, run, extra):
    write_site(minimal_site, {"badges/first-badge.yaml": BADGE + "    " + extra.replace("\n", "\n    ")})
    for command in (("check",), ("build",), ("report", "eligible"), ("report", "expiring", "--within", "5y")):
        result = run(*command, "--source", str(minimal_site), "--today", TODAY)
        assert result.code in (0, 1) and "Traceback" not in result.err and "internal error" not in result.err, (
            command,
            result.err,
        )


def test_a_duration_of_thousands_of_digits_is_a_located_error(minimal_site, run):
    write_site(minimal_site, {"badges/first-badge.yaml": BADGE + f"    valid_for: P{'9' * 5000}Y\n"})
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "badges/first-badge.yaml:" in result.err and "error[bad-duration]" in result.err


def test_report_within_a_huge_span_is_no_traceback(minimal_site, run):
    for within in ("99999999y", "9999999y"):
        result = run("report", "expiring", "--within", within, "--source", str(minimal_site), "--today", TODAY)
        assert result.code in (0, 1, 2) and "internal error" not in result.err and "Traceback" not in result.err, (
            result.err
        )


@pytest.mark.parametrize("day", ["9999-12-02", "9001-01-01", "0001-01-01"])
def test_a_day_outside_the_range_is_refused_before_anything_is_written(minimal_site, run, day):
    build(run, minimal_site)
    before = snapshot(minimal_site / "output")
    result = run("build", "--source", str(minimal_site), "--today", day)
    assert result.code == 2 and "is not a day between 1971-01-01 and 9000-12-31" in result.err
    assert snapshot(minimal_site / "output") == before


def test_a_source_date_epoch_past_the_range_is_a_usage_error(minimal_site, run, monkeypatch):
    for epoch in ("99999999999999999999", "253402300800"):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
        result = run("build", "--source", str(minimal_site))
        assert result.code == 2 and "SOURCE_DATE_EPOCH" in result.err and "internal error" not in result.err


def test_a_character_reference_of_thousands_of_digits_is_text_not_an_internal_error(minimal_site, run):
    """A review (2026-12-07): '&#' and 4,400 nines in a narrative or a page ended `check` and every
    build in "internal error: ValueError: Exceeds the limit (4300 digits)" (html.unescape's int())."""
    huge = "&#" + "9" * 4400 + ";"
    ann = minimal_site / "recipients/ann.yaml"
    ann.write_text(ann.read_text() + f"    narrative: 'Passed {huge} well'\n")
    write_site(minimal_site, {"site_src/pages/about.md": f"---\ntitle: About\n---\nWe are {huge} here.\n"})
    for command in ("check", "build"):
        result = run(command, "--source", str(minimal_site), "--today", TODAY)
        assert result.code == 0 and "internal error" not in result.err, result.err
    page = (minimal_site / "output/awards/ann-first-1/index.html").read_text()
    assert "&amp;#" + "9" * 4400 + ";" in page  # (no character has that number: shown as the text it is)
    assert "&amp;#" + "9" * 4400 in (minimal_site / "output/pages/about/index.html").read_text()
