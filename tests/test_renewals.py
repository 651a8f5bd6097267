"""Renewals (issue 12): ``renews:`` in YAML and its rules, ``award --renew``, the links between the
two award pages, and the statuses and links in ``export`` and ``report``. Through the command line,
on real files."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from conftest import TODAY, build, write_site

BADGE = """
    name: First Badge
    description: The first badge.
    image: assets/badge.svg
    criteria: Did the thing.
    valid_for: P1Y
"""

ANN = """
    name: Ann Example
    email: ann@example.com
    awards:
      - id: ann-first-1
        badge: first-badge
        issued_on: 2026-01-15
"""


@pytest.fixture
def site(minimal_site):
    return write_site(
        minimal_site,
        {
            "badges/first-badge.yaml": BADGE,
            "badges/other-badge.yaml": BADGE.replace("First Badge", "Other Badge"),
            "recipients/ann.yaml": ANN,
            "recipients/bo.yaml": """
                name: Bo Example
                email: bo@example.com
                awards:
                  - id: bo-first-1
                    badge: first-badge
                    issued_on: 2026-02-01
            """,
        },
    )


def with_awards(site, *awards: str) -> None:
    """Ann's file with ``awards`` (YAML list items, without the dash's indentation) after her first."""
    text = ANN + "".join("      - " + "\n        ".join(a.strip().splitlines()) + "\n" for a in awards)
    write_site(site, {"recipients/ann.yaml": text})


def check(run, site):
    return run("check", "--source", str(site), "--today", TODAY)


RENEWAL = "id: ann-first-2\nbadge: first-badge\nissued_on: 2026-11-20\nrenews: ann-first-1"


def test_a_valid_renewal_passes_check(site, run):
    with_awards(site, RENEWAL)
    result = check(run, site)
    assert result.code == 0, result.err


@pytest.mark.parametrize(
    "awards, message, line",
    [
        ((RENEWAL.replace("renews: ann-first-1", "renews: ann-frist-1"),), "there is no award 'ann-frist-1'", 7),
        ((RENEWAL.replace("renews: ann-first-1", "renews: ann-first-2"),), "cannot renew itself", 10),
        ((RENEWAL.replace("renews: ann-first-1", "renews: bo-first-1"),), "an award of another earner", 7),
        ((RENEWAL.replace("badge: first-badge", "badge: other-badge"),), "an award of another badge", 10),
        ((RENEWAL.replace("2026-11-20", "2026-01-01"),), "before the award it renews", 10),
        (
            (RENEWAL, RENEWAL.replace("ann-first-2", "ann-first-3").replace("2026-11-20", "2026-11-21")),
            "already renewed by 'ann-first-2'",
            14,
        ),
        (
            (
                "id: ann-a\nbadge: first-badge\nissued_on: 2026-03-01\nrenews: ann-b",
                "id: ann-b\nbadge: first-badge\nissued_on: 2026-03-01\nrenews: ann-a",
            ),
            "cycle of renewals",
            10,
        ),
    ],
    ids=["unknown id", "itself", "other earner", "other badge", "issued before", "renewed twice", "cycle"],
)
def test_bad_renewals_are_located_errors(site, run, awards, message, line):
    with_awards(site, *awards)
    result = check(run, site)
    assert result.code == 1 and message in result.err, result.err
    assert f"recipients/ann.yaml:{line}:" in result.err
    assert "Traceback" not in result.err


def test_a_revoked_award_cannot_be_renewed(site, run):
    write_site(
        site,
        {
            "recipients/ann.yaml": ANN
            + "        revoked: {on: 2026-02-01, reason: Issued in error}\n      - "
            + "\n        ".join(RENEWAL.splitlines())
            + "\n"
        },
    )
    result = check(run, site)
    assert result.code == 1 and "'ann-first-1' was revoked on 2026-02-01 and cannot be renewed" in result.err
    # Revoked after it was renewed: allowed (revoking an old award must not break the build).
    path = site / "recipients/ann.yaml"
    path.write_text(path.read_text().replace("on: 2026-02-01", "on: 2026-11-21"))
    assert check(run, site).code == 0
    rows = json.loads(run("export", "--format", "json", "--source", str(site), "--today", TODAY).out)
    assert {r["award_id"]: r["status"] for r in rows}["ann-first-1"] == "revoked"  # revoked comes first


def test_award_renew_appends_a_minimal_renewal_and_refuses_what_cannot_be_renewed(site, run):
    before = (site / "recipients/ann.yaml").read_text()
    args = ("award", "--source", str(site), "--today", TODAY)
    result = run(*args, "--renew", "https://badges.example.org/awards/ANN-FIRST-1/", "--issued-on", "2026-11-20")
    assert result.code == 0, result.err  # (any case, or the page's URL, as revoke takes it: UX review)
    after = (site / "recipients/ann.yaml").read_text()
    assert after.startswith(before)  # nothing above it changed
    added = after[len(before) :]
    new_id = re.search(r"added (\S+) to recipients/ann.yaml", result.out).group(1)
    assert added == f"  - id: {new_id}\n    badge: first-badge\n    issued_on: 2026-11-20\n    renews: ann-first-1\n"
    assert check(run, site).code == 0
    # the renewal's expiry comes from the badge class's valid_for
    export = json.loads(run("export", "--format", "json", "--source", str(site), "--today", TODAY).out)
    assert next(r for r in export if r["award_id"] == new_id)["expires"] == "2027-11-20"
    again = run(*args, "--renew", "ann-first-1")
    assert again.code == 1 and f"already renewed by '{new_id}'" in again.err
    assert run(*args, "--renew", "ann-frist-1").err.count("did you mean 'ann-first-1'") == 1
    same_day = run(*args, "--renew", "bo-first-1", "--issued-on", "2026-02-01")
    assert same_day.code == 1 and "must be after the renewed award's issue date" in same_day.err
    future = run(*args, "--renew", "bo-first-1", "--issued-on", "2026-12-01")
    assert future.code == 1 and "in the future" in future.err
    mixed = run(*args, "--renew", "bo-first-1", "--badge", "other-badge")
    assert mixed.code == 2 and "--renew takes only --issued-on" in mixed.err
    assert (site / "recipients/bo.yaml").read_text().count("- id:") == 1  # nothing written by the refusals


def test_both_pages_link_each_other_and_the_earlier_award_stays_valid(site, run):
    with_awards(site, RENEWAL)
    build(run, site)
    earlier = (site / "output/awards/ann-first-1/index.html").read_text()
    later = (site / "output/awards/ann-first-2/index.html").read_text()
    assert re.search(
        r'Renewed on <time datetime="2026-11-20">20 November 2026</time> by <a href="../../awards/ann-first-2/">a newer award</a>',
        earlier,
    )
    assert 'data-status="valid"' in earlier and "stays valid until its own expiry" in earlier
    assert re.search(r'Renews <a href="../../awards/ann-first-1/">the award of <time datetime="2026-01-15">', later)
    assert "Renewed on" not in later and "Renews" not in earlier
    assert (site / "output/awards/ann-first-1/assertion.json").exists()  # the earlier award keeps its URLs


def test_a_revoked_renewal_renews_nothing(site, run):
    with_awards(site, RENEWAL + "\nrevoked: {on: 2026-11-21, reason: Issued in error}")
    build(run, site)
    assert "Renewed on" not in (site / "output/awards/ann-first-1/index.html").read_text()
    rows = json.loads(run("export", "--format", "json", "--source", str(site), "--today", TODAY).out)
    assert next(r for r in rows if r["award_id"] == "ann-first-1")["status"] == "active"


def test_export_statuses_include_suspended_and_renewed():
    """Suspensions are written by another part of badgekiln (membership, ``badgekiln suspend``);
    whatever makes one, the export reads it as 'suspended', before 'renewed'."""
    from dataclasses import replace
    from datetime import date

    from badgekiln.commands.export import award_status, stats
    from badgekiln.models import Award, Revocation, Suspension

    day = date(2026, 11, 22)
    award = Award("ann-first-1", "first-badge", "ann", date(2026, 1, 15), expires=date(2027, 1, 15))
    suspended = replace(award, suspended=Suspension(date(2026, 4, 1), "Membership lapsed"))
    revoked = replace(award, revoked=Revocation(date(2026, 4, 1), "Error"))
    expired = replace(award, expires=date(2026, 2, 1))
    renewed = frozenset({"ann-first-1"})
    assert award_status(award, day) == "active"
    assert award_status(award, day, renewed=renewed) == "renewed"
    assert award_status(expired, day, renewed=renewed) == "renewed"
    assert award_status(suspended, day, renewed=renewed) == "suspended"
    assert award_status(revoked, day, renewed=renewed) == "revoked"
    rows = [
        {"badge": "b", "badge_name": "B", "status": s, "issued_on": "2026-01-15", "notified_on": ""}
        for s in ("suspended", "renewed", "active")
    ]
    assert stats(rows)["by_status"] == {"active": 1, "expired": 0, "revoked": 0, "suspended": 1, "renewed": 1}


def test_export_status_renewed_and_links(site, run):
    with_awards(site, RENEWAL)
    rows = json.loads(run("export", "--format", "json", "--source", str(site), "--today", TODAY).out)
    by_id = {r["award_id"]: r for r in rows}
    assert by_id["ann-first-1"]["status"] == "renewed"
    assert by_id["ann-first-1"]["renewed_by"] == "https://badges.example.org/awards/ann-first-2/"
    assert by_id["ann-first-2"]["renews"] == "https://badges.example.org/awards/ann-first-1/"
    assert by_id["bo-first-1"]["renews"] == by_id["bo-first-1"]["renewed_by"] == ""
    table = csv.DictReader(io.StringIO(run("export", "--source", str(site), "--today", TODAY).out))
    assert table.fieldnames[15:19] == ["renews", "renewed_by", "cpd_points", "cpd_points_last_year"]
    assert {r["award_id"]: r["status"] for r in table}["ann-first-1"] == "renewed"
    stats = json.loads(run("report", "stats", "--format", "json", "--source", str(site), "--today", TODAY).out)
    assert stats["by_status"] == {"active": 2, "expired": 0, "revoked": 0, "suspended": 0, "renewed": 1}


def test_report_expiring_leaves_out_renewed_awards(site, run):
    args = ("report", "expiring", "--format", "json", "--within", "90d", "--source", str(site), "--today", TODAY)
    assert [r["award_id"] for r in json.loads(run(*args).out)] == ["ann-first-1", "bo-first-1"]
    with_awards(site, RENEWAL)
    assert [r["award_id"] for r in json.loads(run(*args).out)] == ["bo-first-1"]


def test_an_award_suspended_by_hand_is_not_renewed_until_the_suspension_is_lifted(site, run, tmp_path):
    # (a membership body's review: renewing a suspended award published a valid one beside it, and
    # the earner was emailed "Your badge", undoing a disciplinary hold without a word)
    args = ("--source", str(site), "--today", TODAY)
    assert run("suspend", "ann-first-1", "--reason", "Under investigation", "--on", "2026-11-01", *args).code == 0
    before = (site / "recipients/ann.yaml").read_text()
    renew = run("award", "--renew", "ann-first-1", "--issued-on", "2026-11-20", *args)
    assert renew.code == 1
    assert "award 'ann-first-1' is suspended since 2026-11-01: Under investigation;" in renew.err
    assert "lift the suspension first (badgekiln unsuspend ann-first-1)" in renew.err
    sheet = tmp_path / "renewals.csv"
    sheet.write_text("name,email,badge,issued_on\nAnn Example,ann@example.com,first-badge,2026-11-20\n")
    row = run("award", "--csv", str(sheet), *args)
    assert row.code == 1
    assert (
        f"{sheet}:2: error[renews-suspended]: ann@example.com's new first-badge award would renew award "
        "ann-first-1, which is suspended since 2026-11-01: Under investigation"
    ) in row.err
    single = run("award", "--email", "ann@example.com", "--badge", "first-badge", "--issued-on", "2026-11-20", *args)
    assert single.code == 1 and "error[renews-suspended]" in single.err
    assert (site / "recipients/ann.yaml").read_text() == before  # nothing written
    # written by hand (or published before this rule), the build says so and goes on: its URL stays
    held = ANN + "        suspended: {on: 2026-11-01, reason: Under investigation}\n"
    write_site(site, {"recipients/ann.yaml": held + "      - " + "\n        ".join(RENEWAL.splitlines()) + "\n"})
    written = check(run, site)
    assert (
        written.code == 0
        and (
            "warning[renews-suspended]: award 'ann-first-2' renews 'ann-first-1', which a suspension held when it was "
            "issued (since 2026-11-01: Under investigation): the renewal is valid beside it"
        )
        in written.err
    )
    assert "badgekiln suspend ann-first-2" in written.err
    # a renewal issued before the hold began renews it (the hold came later: 'suspend' says so)
    (site / "recipients/ann.yaml").write_text(before)
    earlier = run("award", "--renew", "ann-first-1", "--issued-on", "2026-10-20", *args)
    assert earlier.code == 0, earlier.err
    (site / "recipients/ann.yaml").write_text(before)
    assert run("unsuspend", "ann-first-1", *args).code == 0
    assert run("award", "--renew", "ann-first-1", "--issued-on", "2026-11-20", *args).code == 0


def test_a_hold_on_an_award_that_had_expired_does_not_stop_its_renewal(site, run):
    # (a review: a suspension written on an award that expired years ago blocked the badge for good)
    args = ("--source", str(site), "--today", TODAY)
    held = ANN.replace(
        "issued_on: 2026-01-15", "issued_on: 2024-01-15\n        suspended: {on: 2024-06-01, reason: Held}"
    )
    write_site(site, {"recipients/ann.yaml": held})
    renewed = run("award", "--renew", "ann-first-1", "--issued-on", "2026-11-20", *args)
    assert renewed.code == 0, renewed.err
    assert check(run, site).code == 0


def test_suspending_a_renewed_award_says_its_renewal_stays_valid(site, run):
    args = ("--source", str(site), "--today", TODAY)
    with_awards(site, RENEWAL)
    held = run("suspend", "ann-first-1", "--reason", "Under investigation", *args)
    assert held.code == 0
    assert "award ann-first-1 is renewed by ann-first-2, which stays valid" in held.err
    assert "badgekiln suspend ann-first-2" in held.err
    assert check(run, site).code == 0  # (suspended after it was renewed: allowed)
