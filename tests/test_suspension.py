"""Suspension (reversible) and membership-dependent badges, through the commands and real files.

The story: a member whose badges lapse with the membership (the build's day passes
``membership: {until}`` or the ``site_src/members.csv`` row) and return when it is renewed, and
a provider who suspends one award by hand (``badgekiln suspend``) and lifts it (``unsuspend``).
Every output that says what an award is follows: the OB 3.0 suspension list (its own signed
``BitstringStatusListCredential``), the OB 2.0 hosted assertion and revocation list (OB 2.0 has
no suspension), the page, ``badgekiln verify`` and ``report suspended``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import MEMBER_SITE, TODAY, build, tree_bytes, write_site

from badgekiln.formats import statuslist

BASE = "https://badges.example.org/"


def _build(run, site: Path, today: str, output: Path | None = None):
    args = ["build", "--source", str(site), "--today", today]
    if output is not None:
        args += ["--output", str(output)]
    result = run(*args)
    assert result.code == 0, result.err
    return result


def _status_bit(out: Path, award: str, purpose: str) -> bool:
    """Whether ``award``'s bit is set in the published list of ``purpose`` (read as a verifier does)."""
    credential = json.loads((out / f"awards/{award}/credential.json").read_text())
    [entry] = [e for e in credential["credentialStatus"] if e["statusPurpose"] == purpose]
    rel = entry["statusListCredential"].removeprefix(BASE)
    listing = json.loads((out / rel).read_text())
    assert listing["credentialSubject"]["statusPurpose"] == purpose
    bits = statuslist.decode_status_list(listing["credentialSubject"]["encodedList"])
    return statuslist.bit_is_set(bits, int(entry["statusListIndex"]))


def _verify(run, out: Path, target: str, now: str) -> dict:
    result = run("verify", target, "--json", "--offline-root", f"{BASE}={out}", "--now", now)
    return json.loads(result.out)


def _withdrawn(out: Path) -> dict[str, str]:
    listing = json.loads((out / "revocations.json").read_text())
    return {e["id"]: e["revocationReason"] for e in listing["revokedAssertions"]}


# --- badgekiln suspend / unsuspend --------------------------------------------------------


def _own_keys(run, site: Path) -> None:
    """The site's own keys (``badgekiln verify`` says a development key's badge is a preview)."""
    assert run("keys", "generate", "--source", str(site), "--today", TODAY).code == 0


def test_suspend_and_unsuspend_round_trip_through_yaml_and_every_output(minimal_site, run):
    _own_keys(run, minimal_site)
    build(run, minimal_site)
    out = minimal_site / "output"
    before_yaml = (minimal_site / "recipients/ann.yaml").read_bytes()
    before_site = tree_bytes(out)
    assert not _status_bit(out, "ann-first-1", "suspension")

    result = run(
        "suspend", "ann-first-1", "--reason", "Under  investigation", "--on", "2026-05-01",
        "--source", str(minimal_site), "--today", TODAY,
    )  # fmt: skip
    assert result.code == 0, result.err
    after_yaml = (minimal_site / "recipients/ann.yaml").read_text()
    assert (
        after_yaml
        == before_yaml.decode() + '    suspended:\n      on: 2026-05-01\n      reason: "Under investigation"\n'
    )
    build(run, minimal_site)

    # OB 3.0: the suspension list has the bit, the revocation list does not.
    assert _status_bit(out, "ann-first-1", "suspension") and not _status_bit(out, "ann-first-1", "revocation")
    listing = json.loads((out / "status/suspension.json").read_text())
    assert listing["validFrom"] == "2026-05-01T00:00:00Z" and listing["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    # OB 2.0: published as a revocation whose reason says it is a suspension, under both ids.
    hosted = json.loads((out / "awards/ann-first-1/assertion.json").read_text())
    assert hosted["revoked"] is True and hosted["revocationReason"] == "Suspended: Under investigation"
    assert set(_withdrawn(out).values()) == {"Suspended: Under investigation"} and len(_withdrawn(out)) == 2
    page = (out / "awards/ann-first-1/index.html").read_text()
    assert "Suspended</strong> since 1 May 2026: <bdi>Under investigation</bdi>." in page
    assert 'data-suspended-reason="Under investigation"' in page  # (the in-page Verify quotes it)
    # badgekiln verify: every form says "suspended", not "revoked".
    for target in (
        str(out / "awards/ann-first-1/credential.json"),
        str(out / "awards/ann-first-1/credential.jwt"),
        str(out / "awards/ann-first-1/assertion.jws"),
        f"{BASE}awards/ann-first-1/assertion.json",
    ):
        report = _verify(run, out, target, "2026-11-22")
        assert report["status"] == "suspended" and not report["valid"], (target, report["checks"])
        assert report["subject"].get("suspended") is True and not report["subject"].get("revoked")
    ob2 = _verify(run, out, f"{BASE}awards/ann-first-1/assertion.json", "2026-11-22")
    [failed] = [c for c in ob2["checks"] if not c["ok"]]
    assert failed["name"] == "not suspended" and "Suspended: Under investigation" in failed["detail"]

    result = run("unsuspend", "ann-first-1", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err
    assert (minimal_site / "recipients/ann.yaml").read_bytes() == before_yaml
    build(run, minimal_site)
    assert tree_bytes(out) == before_site  # every file as before the suspension, byte for byte
    report = _verify(run, out, str(out / "awards/ann-first-1/credential.json"), "2026-11-22")
    assert report["valid"], report["checks"]


@pytest.mark.parametrize(
    "written",
    [
        # a block mapping, first key of the list item, and a flow mapping on one line
        "    suspended:\n      on: 2026-05-01\n      reason: x  # why\n    narrative: n\n",
        "    narrative: n\n    suspended: {on: 2026-05-01, reason: x}\n\n",
    ],
)
def test_unsuspend_removes_only_the_suspension(minimal_site, run, written):
    path = minimal_site / "recipients/ann.yaml"
    path.write_text(path.read_text() + written)
    result = run("unsuspend", "ann-first-1", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err
    assert path.read_text() == MINIMAL_ANN + "    narrative: n\n" + ("\n" if written.endswith("\n\n") else "")


MINIMAL_ANN = "name: Ann Example\nemail: ann@example.com\nawards:\n  - id: ann-first-1\n    badge: first-badge\n    issued_on: 2026-01-15\n"


def test_unsuspend_of_a_first_key_gives_its_dash_to_the_next_key(minimal_site, run):
    path = minimal_site / "recipients/ann.yaml"
    path.write_text(
        "name: Ann Example\nemail: ann@example.com\nawards:\n"
        "  - suspended:\n      on: 2026-05-01\n      reason: x\n    id: ann-first-1\n    badge: first-badge\n"
        "    issued_on: 2026-01-15\n"
    )
    assert run("unsuspend", "ann-first-1", "--source", str(minimal_site), "--today", TODAY).code == 0
    assert path.read_text() == MINIMAL_ANN.replace("  - id: ann-first-1\n", "  - id: ann-first-1\n")


def test_suspend_refuses_what_it_should(minimal_site, run):
    src = ["--source", str(minimal_site), "--today", TODAY]
    cases = [
        (["suspend", "nope-1234", "--reason", "x"], "there is no award 'nope-1234'"),
        (["suspend", "ann-first-1", "--reason", "  "], "a suspension needs a reason"),
        (["suspend", "ann-first-1", "--reason", "x", "--on", "2026-12-01"], "is in the future"),
        (["suspend", "ann-first-1", "--reason", "x", "--on", "2026-01-01"], "before the award was issued"),
        (["unsuspend", "ann-first-1"], "award ann-first-1 is not suspended"),
    ]
    before = (minimal_site / "recipients/ann.yaml").read_bytes()
    for args, message in cases:
        result = run(*args, *src)
        assert result.code == 1 and message in result.err, (args, result.err)
        assert "Traceback" not in result.err
    assert (minimal_site / "recipients/ann.yaml").read_bytes() == before
    assert run("suspend", "ann-first-1", "--reason", "x", *src).code == 0
    again = run("suspend", "ann-first-1", "--reason", "y", *src)
    assert again.code == 1 and "already suspended (since 2026-11-22: x)" in again.err
    assert run("revoke", "ann-first-1", "--reason", "wrong", *src).code == 0
    run("unsuspend", "ann-first-1", *src)
    revoked = run("suspend", "ann-first-1", "--reason", "y", *src)
    assert revoked.code == 1 and "is revoked" in revoked.err and "cannot be suspended" in revoked.err


@pytest.mark.parametrize(
    ("written", "code", "where"),
    [
        ("    suspended: {on: 2026-05-01}\n", "missing-key", ":7:16:"),
        ("    suspended: {on: 2026-02-30, reason: x}\n", "bad-date", ":7:"),
        ("    suspended: {on: 2026-12-01, reason: x}\n", "future-date", ":7:16:"),
        ("    suspended: {on: 2025-12-01, reason: x}\n", "bad-dates", ":7:16:"),
        ("    suspended: {on: 2026-05-01, reason: x, by: me}\n", "unknown-key", ":7:"),
        ('    suspended: {on: 2026-05-01, reason: "a\\u0085b"}\n', "control-character", ":7:"),
        ("    suspended: yes\n", "not-a-mapping", ":7:16:"),
    ],
)
def test_a_written_suspension_is_checked_like_a_revocation(minimal_site, run, written, code, where):
    path = minimal_site / "recipients/ann.yaml"
    path.write_text(path.read_text() + written)
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "Traceback" not in result.err
    assert f"recipients/ann.yaml{where}" in result.err and f"error[{code}]" in result.err, result.err


# --- memberships --------------------------------------------------------------------------


def test_a_member_whose_badges_lapse_with_the_membership_and_return_when_it_is_renewed(tmp_path, run):
    site = write_site(tmp_path / "site", MEMBER_SITE)
    _own_keys(run, site)
    out = site / "output"
    _build(run, site, "2026-10-31")  # the last day of the membership: valid
    valid_on_last_day = tree_bytes(out)
    assert not _status_bit(out, "mo-chartered", "suspension")

    _build(run, site, "2026-11-01")  # the day after: lapsed
    assert _status_bit(out, "mo-chartered", "suspension")
    assert not _status_bit(out, "mo-course", "suspension")  # a badge that does not require membership
    hosted = json.loads((out / "awards/mo-chartered/assertion.json").read_text())
    assert hosted["revocationReason"] == "Suspended: membership lapsed"
    assert json.loads((out / "status/suspension.json").read_text())["validFrom"] == "2026-11-01T00:00:00Z"
    report = _verify(run, out, str(out / "awards/mo-chartered/credential.json"), "2026-11-01")
    assert report["status"] == "suspended"
    assert _verify(run, out, str(out / "awards/mo-course/credential.json"), "2026-11-01")["valid"]
    listed = run("report", "suspended", "--source", str(site), "--today", "2026-11-01", "--format", "json")
    assert json.loads(listed.out) == [
        {
            "award_id": "mo-chartered",
            "recipient": "Mo Member",
            "email": "mo@example.com",
            "badge": "chartered",
            "badge_name": "Chartered Member",
            "suspended_on": "2026-11-01",
            "suspended_reason": "membership lapsed",
            "kind": "membership",
            "membership_until": "2026-10-31",
            "membership_lapsed": True,
        }
    ]
    table = run("report", "suspended", "--source", str(site), "--today", "2026-11-01")
    assert "mo-chartered" in table.out and "membership lapsed after 2026-10-31" in table.out
    refused = run("unsuspend", "mo-chartered", "--source", str(site), "--today", "2026-11-01")
    assert refused.code == 1 and "membership lapsed" in refused.err and "members.csv" in refused.err

    # Renewed: 'until' moves forward and the award returns, with the same bytes as before.
    path = site / "recipients/mo.yaml"
    path.write_text(path.read_text().replace("until: 2026-10-31", "until: 2027-10-31"))
    _build(run, site, "2026-11-01")
    assert not _status_bit(out, "mo-chartered", "suspension")
    assert _verify(run, out, str(out / "awards/mo-chartered/credential.json"), "2026-11-01")["valid"]
    assert (
        json.loads(run("report", "suspended", "--source", str(site), "--today", "2026-11-01", "--format", "json").out)
        == []
    )
    _build(run, site, "2026-10-31")
    assert tree_bytes(out) == valid_on_last_day


def test_members_csv_lapses_and_renews_and_is_never_published(tmp_path, run):
    site = write_site(tmp_path / "site", MEMBER_SITE)
    path = site / "recipients/mo.yaml"
    path.write_text(path.read_text().replace("membership: {until: 2026-10-31}\n", ""))
    members = site / "site_src/members.csv"
    # As a membership system exports it: a BOM, other columns, CRLF, upper case, two rows for Mo.
    members.write_bytes(
        "\ufeffMember No;E-mail ;Until;Name\r\n1;MO@Example.com;2026-06-30;Mo\r\n2;mo@example.com;2026-10-31;Mo\r\n;;;\r\n".encode()
    )  # ("E-mail" as award sheets read it: a review)
    out = site / "output"
    _build(run, site, "2026-11-01")
    assert _status_bit(out, "mo-chartered", "suspension")
    members.write_text("email,until\nmo@example.com,2027-10-31\n")
    _build(run, site, "2026-11-01")
    assert not _status_bit(out, "mo-chartered", "suspension")
    published = b"".join(tree_bytes(out).values())
    assert b"mo@example.com" not in published.lower() and b"members.csv" not in published
    assert not any("members" in name for name in tree_bytes(out))
    # The later of the recipient file's date and the CSV's counts.
    path.write_text(path.read_text().replace("awards:", "membership: {until: 2025-01-01}\nawards:"))
    _build(run, site, "2026-11-01")
    assert not _status_bit(out, "mo-chartered", "suspension")


@pytest.mark.parametrize(
    ("text", "where", "code"),
    [
        ("email,until\nmo@example.com,2026-02-30\n", "site_src/members.csv:2: error[bad-date]", "bad-date"),
        ("email,until\nnot an email,2026-01-01\n", "site_src/members.csv:2: error[bad-email]", "bad-email"),
        ("mail,until\nmo@example.com,2026-01-01\n", "site_src/members.csv:1: error[bad-csv]", "bad-csv"),
        ("email,until\nmo@example.com\n", "site_src/members.csv:2: error[bad-csv]", "bad-csv"),
        ('email,until\n"mo@example.com,2026-01-01\n', "site_src/members.csv:", "bad-csv"),
        ("email,until\nmo@example.com,2026-01-01\x00\n", "site_src/members.csv:2: error[bad-csv]", "bad-csv"),
        ("email,until\nmo\u202e@example.com,2026-01-01\n", "site_src/members.csv:2: error[control-character]", ""),
        ("", "site_src/members.csv:1: error[bad-csv]", "bad-csv"),
    ],
)
def test_members_csv_problems_are_located(tmp_path, run, text, where, code):
    site = write_site(tmp_path / "site", MEMBER_SITE)
    (site / "site_src/members.csv").write_text(text, encoding="utf-8")
    result = run("check", "--source", str(site), "--today", "2026-11-01")
    assert result.code == 1 and where in result.err and "Traceback" not in result.err, result.err


def test_an_earner_of_a_membership_badge_without_membership_is_a_warning(tmp_path, run):
    site = write_site(tmp_path / "site", MEMBER_SITE)
    path = site / "recipients/mo.yaml"
    path.write_text(path.read_text().replace("membership: {until: 2026-10-31}\n", ""))
    result = _build(run, site, "2026-11-01")
    assert "recipients/mo.yaml:1:1: warning[no-membership]" in result.err
    assert not _status_bit(site / "output", "mo-chartered", "suspension")


def test_membership_field_is_validated(tmp_path, run):
    site = write_site(tmp_path / "site", MEMBER_SITE)
    path = site / "recipients/mo.yaml"
    for bad, code in [
        ("{until: 2026-13-01}", "bad-date"),
        ("{}", "missing-key"),
        ("{until: 2027-01-01, x: 1}", "unknown-key"),
    ]:
        path.write_text(
            MEMBER_SITE["recipients/mo.yaml"].replace("{until: 2026-10-31}", bad).replace("\n        ", "\n").lstrip()
        )
        result = run("check", "--source", str(site), "--today", "2026-11-01")
        assert result.code == 1 and "recipients/mo.yaml:3:" in result.err and f"error[{code}]" in result.err, result.err
    (site / "badges/chartered.yaml").write_text(
        (site / "badges/chartered.yaml").read_text().replace("requires_membership: true", "requires_membership: yes")
    )
    result = run("check", "--source", str(site), "--today", "2026-11-01")
    assert "badges/chartered.yaml:5:" in result.err and "must be true or false" in result.err, result.err


# --- the build cache ----------------------------------------------------------------------


def test_incremental_builds_follow_today_and_members_csv(tmp_path, run):
    """A rebuild with the cache gives the bytes of a clean build when only --today or
    members.csv changed (neither is in a recipient file)."""
    site = write_site(tmp_path / "site", MEMBER_SITE)
    path = site / "recipients/mo.yaml"
    path.write_text(path.read_text().replace("membership: {until: 2026-10-31}\n", ""))
    members = site / "site_src/members.csv"
    members.write_text("email,until\nmo@example.com,2026-10-31\n")

    def clean(today: str) -> dict[str, bytes]:
        target = tmp_path / f"clean-{today}-{len(list(tmp_path.iterdir()))}"
        copy = write_site(target, {})
        for name in ("site_src", "badges", "recipients"):
            import shutil

            shutil.copytree(site / name, copy / name)
        _build(run, copy, today)
        return tree_bytes(copy / "output")

    out = site / "output"
    for today in ("2026-10-31", "2026-11-01", "2026-10-31"):
        _build(run, site, today)
        assert tree_bytes(out) == clean(today), today
    members.write_text("email,until\nmo@example.com,2027-10-31\n")
    _build(run, site, "2026-11-01")
    assert tree_bytes(out) == clean("2026-11-01") and not _status_bit(out, "mo-chartered", "suspension")
    members.write_text("email,until\nmo@example.com,2026-01-31\n")
    _build(run, site, "2026-11-01")
    assert tree_bytes(out) == clean("2026-11-01") and _status_bit(out, "mo-chartered", "suspension")
    # Still lapsed, from another day: the status is the same, the suspension's date is not (the
    # recipient file did not change, so a rebuild that kept its awards' files whole would be stale).
    members.write_text("email,until\nmo@example.com,2026-03-31\n")
    _build(run, site, "2026-11-01")
    assert tree_bytes(out) == clean("2026-11-01") and _status_bit(out, "mo-chartered", "suspension")
    # A written suspension dated after a first build's day: validated again on the later day.
    path.write_text(
        path.read_text().replace(
            "issued_on: 2026-02-01", "issued_on: 2026-02-01\n    suspended: {on: 2026-11-05, reason: x}"
        )
    )
    assert run("build", "--source", str(site), "--today", "2026-11-01").code == 1
    _build(run, site, "2026-11-05")
    assert tree_bytes(out) == clean("2026-11-05") and _status_bit(out, "mo-course", "suspension")
    # and back to a day before it: the memo of the 2026-11-05 validation is not trusted there
    again = run("build", "--source", str(site), "--today", "2026-11-01")
    assert again.code == 1 and "error[future-date]" in again.err and "suspension date (2026-11-05)" in again.err


def test_a_written_suspension_over_a_lapsed_membership_and_the_report_as_csv(tmp_path, run):
    site = write_site(tmp_path / "site", MEMBER_SITE)
    src = ["--source", str(site), "--today", "2026-11-01"]
    result = run("suspend", "mo-chartered", "--reason", "=HYPERLINK(1)", *src)
    assert result.code == 0, result.err
    _build(run, site, "2026-11-01")
    hosted = json.loads((site / "output/awards/mo-chartered/assertion.json").read_text())
    assert hosted["revocationReason"] == "Suspended: =HYPERLINK(1)"  # the written one wins over the lapse
    table = run("report", "suspended", "--format", "csv", *src).out.splitlines()
    assert (
        table[0]
        == "award_id,recipient,email,badge,badge_name,suspended_on,suspended_reason,kind,membership_until,membership_lapsed"
    )
    assert table[1] == (
        "mo-chartered,Mo Member,mo@example.com,chartered,Chartered Member,2026-11-01,'=HYPERLINK(1),written,"
        "2026-10-31,yes"
    )
    # (day-2 review: the report showed only the written reason, as if lifting it brought the award back)
    shown = run("report", "suspended", *src).out
    assert "=HYPERLINK(1); its membership lapsed after 2026-10-31 too: lifting this suspension leaves it suspended" in (
        shown
    ), shown
    # A written suspension of a badge that needs no membership says nothing of it
    assert run("suspend", "mo-course", "--reason", "Audit", *src).code == 0
    rows = {r["award_id"]: r for r in json.loads(run("report", "suspended", "--format", "json", *src).out)}
    assert rows["mo-course"]["membership_lapsed"] is False and rows["mo-chartered"]["membership_lapsed"] is True
    assert "Audit\n" in run("report", "suspended", *src).out + "\n"
    lifted = run("unsuspend", "mo-chartered", *src)
    assert lifted.code == 0 and "stays suspended (membership lapsed)" in lifted.err, lifted.err
    _build(run, site, "2026-11-01")
    hosted = json.loads((site / "output/awards/mo-chartered/assertion.json").read_text())
    assert hosted["revocationReason"] == "Suspended: membership lapsed"


def test_export_gives_each_suspension_its_date_and_reason(tmp_path, run):
    site = write_site(tmp_path / "site", MEMBER_SITE)
    src = ["--source", str(site), "--today", "2026-11-01"]
    rows = {row["award_id"]: row for row in json.loads(run("export", "--format", "json", *src).out)}
    lapsed = rows["mo-chartered"]  # (the build's suspension: the membership ran until 2026-10-31)
    assert lapsed["status"] == "suspended" and lapsed["suspended_reason"] == "membership lapsed"
    assert lapsed["suspended_on"] == "2026-11-01"  # (the day after the membership ran out)
    assert all(row["suspended_on"] == row["suspended_reason"] == "" for row in rows.values() if row is not lapsed)
    assert run("suspend", "mo-chartered", "--reason", "=HYPERLINK(1)", "--on", "2026-10-15", *src).code == 0
    table = run("export", *src).out.splitlines()
    assert table[0].endswith(",suspended_on,suspended_reason")
    [written] = [line for line in table if line.startswith("mo-chartered,")]
    assert written.endswith(",2026-10-15,'=HYPERLINK(1)")  # (a formula is defused, as in every column)


# --- unit keys ----------------------------------------------------------------------------


def test_a_suspension_and_a_lapse_change_the_keys_of_every_unit_whose_bytes_change(tmp_path):
    """A written suspension, and the day a membership lapses (nothing in the sources changes):
    every unit whose bytes change gets a new key (tests/test_units.py's rule)."""
    from datetime import date

    from conftest import copy_example
    from test_units import _changes, groups

    site = copy_example(tmp_path / "site")
    before = groups(site, date.fromisoformat(TODAY))
    jane = site / "recipients/jane-doe.yaml"
    jane.write_text(
        jane.read_text().replace(
            "issued_on: 2026-03-01\n", "issued_on: 2026-03-01\n    suspended: {on: 2026-11-01, reason: x}\n", 1
        )
    )
    keys, made = _changes(before, groups(site, date.fromisoformat(TODAY)))
    assert {"status-list", "award/7q4kz2m9xw/ob2-assertion", "award/7q4kz2m9xw/award-page"} <= made <= keys, sorted(
        made
    )

    badge = site / "badges/network-cabling.yaml"
    badge.write_text(badge.read_text() + "requires_membership: true\n")
    akira = site / "recipients/akira-tanaka.yaml"
    akira.write_text(akira.read_text().replace("awards:", "membership: {until: 2026-11-21}\nawards:", 1))
    on_last_day = groups(site, date(2026, 11, 21))
    keys, made = _changes(on_last_day, groups(site, date(2026, 11, 22)))
    assert {"status-list", "award/t1a2n3k4ax/ob2-assertion", "award/t1a2n3k4ax/award-page"} <= made <= keys, sorted(
        made
    )


def test_an_award_expired_before_the_membership_lapsed_stays_expired(tmp_path, run):
    # (UX review: an award that expired in 2025 read "Suspended since 2027: membership lapsed",
    # as if renewing the membership would bring it back; report suspended listed it too)
    site = write_site(tmp_path / "site", MEMBER_SITE)
    mo = site / "recipients/mo.yaml"
    mo.write_text(
        mo.read_text().replace("issued_on: 2026-01-15", "issued_on: 2026-01-15\n    expires: 2026-10-01")
        + "  - id: mo-chartered-2\n    badge: chartered\n    issued_on: 2026-09-20\n    renews: mo-chartered\n"
    )
    _build(run, site, "2026-11-01")
    out = site / "output"
    assert not _status_bit(out, "mo-chartered", "suspension")  # (expired before the lapse: expired)
    assert _status_bit(out, "mo-chartered-2", "suspension")  # (valid when it lapsed: suspended)
    listed = json.loads(
        run("report", "suspended", "--source", str(site), "--today", "2026-11-01", "--format", "json").out
    )
    assert [row["award_id"] for row in listed] == ["mo-chartered-2"]
    page = (out / "awards/mo-chartered/index.html").read_text()
    assert "membership lapsed" not in page and "Expired" in page


def test_suspending_an_expired_award_warns(minimal_site, run):
    # (UX review: suspending an award that had expired years ago was accepted without a word)
    ann = minimal_site / "recipients/ann.yaml"
    ann.write_text(ann.read_text().replace("issued_on: 2026-01-15", "issued_on: 2026-01-15\n    expires: 2026-02-01"))
    result = run("suspend", "ann-first-1", "--reason", "Audit", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err
    assert "warning: award ann-first-1 had expired on 2026-02-01: it was not valid anyway" in result.err
    quiet = run("unsuspend", "ann-first-1", "--source", str(minimal_site), "--today", TODAY)
    assert quiet.code == 0
    ann.write_text(ann.read_text().replace("\n    expires: 2026-02-01", ""))
    fresh = run("suspend", "ann-first-1", "--reason", "Audit", "--source", str(minimal_site), "--today", TODAY)
    assert fresh.code == 0 and "warning" not in fresh.err


def test_a_lapsed_award_that_then_expires_says_so_and_its_page_follows_the_day(tmp_path, run):
    # (a day-2 review: an award suspended by a lapse that then expired still read "not valid
    # while it is suspended", as if renewing the membership would bring it back)
    site = write_site(tmp_path / "site", MEMBER_SITE)
    mo = site / "recipients/mo.yaml"
    mo.write_text(mo.read_text().replace("issued_on: 2026-01-15", "issued_on: 2026-01-15\n    expires: 2027-01-01"))
    _own_keys(run, site)  # (development keys are dated the day: every page would be made again)
    out = site / "output"
    _build(run, site, "2026-12-01")  # lapsed, not yet expired
    page = (out / "awards/mo-chartered/index.html").read_text()
    assert "This badge is not valid while it is suspended." in page and "also expired" not in page
    _build(run, site, "2027-02-01")  # the same output folder, a later day: lapsed and expired
    page = (out / "awards/mo-chartered/index.html").read_text()
    assert "It also expired on 1 January 2027: lifting the suspension would not make it valid again." in page
    assert "not valid while it is suspended" not in page
    shutil.copytree(site, tmp_path / "fresh", ignore=shutil.ignore_patterns("output", ".badgekiln"))
    _build(run, tmp_path / "fresh", "2027-02-01")  # (the rebuild made what a clean build makes)
    assert tree_bytes(out) == tree_bytes(tmp_path / "fresh/output")


def test_a_membership_badge_page_says_its_awards_lapse_with_the_membership(tmp_path, run):
    # (a day-2 review: nothing on the badge's page told an employer that its awards lapse)
    site = write_site(tmp_path / "site", MEMBER_SITE)
    _build(run, site, "2026-10-31")
    said = "; an award is suspended while its earner's membership has lapsed.</p>"
    assert said in (site / "output/badges/chartered/index.html").read_text()
    assert "membership" not in (site / "output/badges/course/index.html").read_text()


def test_report_expiring_says_which_awards_are_suspended(tmp_path, run):
    # (UX walkthrough: a suspended award was listed as any other, as if it only needed renewing)
    site = write_site(tmp_path / "site", MEMBER_SITE)
    mo = site / "recipients/mo.yaml"
    mo.write_text(
        mo.read_text()
        .replace("issued_on: 2026-01-15", "issued_on: 2026-01-15\n    expires: 2027-01-15")
        .replace("issued_on: 2026-02-01", "issued_on: 2026-02-01\n    expires: 2027-02-01")
    )
    src = ["--source", str(site), "--today", "2026-11-01", "--within", "1y"]
    rows = {r["award_id"]: r for r in json.loads(run("report", "expiring", "--format", "json", *src).out)}
    assert rows["mo-chartered"]["suspended_on"] == "2026-11-01"  # (the membership lapsed)
    assert rows["mo-course"]["suspended_on"] == ""
    table = run("report", "expiring", *src).out
    assert "Chartered Member (suspended since 2026-11-01)" in table and "Course (suspended" not in table
    csv_lines = run("report", "expiring", "--format", "csv", *src).out.splitlines()
    assert csv_lines[0].endswith(",days_left,suspended_on") and csv_lines[1].endswith(",2026-11-01")


def test_a_members_csv_date_written_the_local_way_is_one_error_with_the_date_to_write(tmp_path, run):
    # (UX walkthrough: 30/06/2026 gave the error with an example date, and a warning that the same
    # earner had no membership on record, which contradicted the row just named)
    site = write_site(tmp_path / "site", MEMBER_SITE)
    path = site / "recipients/mo.yaml"
    path.write_text(path.read_text().replace("membership: {until: 2026-10-31}\n", ""))
    (site / "site_src/members.csv").write_text("email,until\nmo@example.com,30/06/2026\n")
    result = run("check", "--source", str(site), "--today", "2026-05-01")
    assert result.code == 1 and "site_src/members.csv:2:" in result.err and "error[bad-date]" in result.err
    assert "write it year-month-day: 2026-06-30" in result.err, result.err
    assert "no-membership" not in result.err
    (site / "site_src/members.csv").write_text("email,until\nsomeone@example.com,2027-06-30\n")
    assert "warning[no-membership]" in run("check", "--source", str(site), "--today", "2026-05-01").err


def test_members_csv_with_two_email_columns_is_an_error(tmp_path, run):
    # (re-review: with E-mail and Email address, the first was used without a word)
    site = write_site(tmp_path / "site", MEMBER_SITE)
    (site / "site_src/members.csv").write_text("E-mail,Email address,until\nmo@example.com,x@example.com,2027-01-01\n")
    result = run("check", "--source", str(site), "--today", "2026-05-01")
    assert (
        result.code == 1
        and "site_src/members.csv:1: error[bad-csv]: members.csv has two columns of one name" in result.err
    )


def _without_membership(site):
    path = site / "recipients/mo.yaml"
    path.write_text(path.read_text().replace("membership: {until: 2026-10-31}\n", ""))


@pytest.mark.parametrize(
    "members, said",
    [
        ("mail,until\nmo@example.com,2027-06-30\n", "error[bad-csv]: members.csv has no column 'email'"),
        ("sep=;\nmail;until\nmo@example.com;2027-06-30\n", "members.csv:2: error[bad-csv]: members.csv has no column"),
        ("email,until,until\nmo@example.com,2027-06-30,2027-06-30\n", "has two columns of one name"),
        ("email,until\n\0\n", "error[bad-csv]"),
    ],
)
def test_a_members_csv_that_cannot_be_read_says_so_once_not_once_per_earner(tmp_path, run, members, said):
    # (a membership body's review: a header error printed "this earner has no membership on record"
    # for every earner before the one real error)
    site = write_site(tmp_path / "site", MEMBER_SITE)
    _without_membership(site)
    (site / "site_src/members.csv").write_text(members)
    result = run("check", "--source", str(site), "--today", "2026-05-01")
    assert result.code == 1 and said in result.err, result.err
    assert "no-membership" not in result.err


@pytest.mark.parametrize("hint_line", ["sep=;", "SEP=;", "Sep=;\r", "\nsep=;"])  # (a blank line above: as sheets)
def test_a_members_csv_saved_by_excel_with_its_sep_line_is_read(tmp_path, run, hint_line):
    # (the 'sep=;' line Excel reads and hides, which a European export may carry: it was read as
    # the header, and every member was said to have no membership)
    site = write_site(tmp_path / "site", MEMBER_SITE)
    _without_membership(site)
    members = site / "site_src/members.csv"
    members.write_text(f"{hint_line}\nName;E-mail;Until\nMo Member;mo@example.com;2027-06-30\n")
    result = run("check", "--source", str(site), "--today", "2026-05-01")
    assert result.code == 0 and "no-membership" not in result.err, result.err
    members.write_text(f"{hint_line}\nName;E-mail;Until\nMo Member;mo@example.com;30/06/2027\n")
    result = run("check", "--source", str(site), "--today", "2026-05-01")
    line = 3 + hint_line.count("\n")
    assert f"site_src/members.csv:{line}: error[bad-date]" in result.err, result.err  # (the file's own line)


def test_a_membership_written_wrong_in_the_file_is_its_error_alone(tmp_path, run):
    # ("add 'membership: {until: YYYY-MM-DD}' to this file" under a line that has it, written 31/10/2027)
    site = write_site(tmp_path / "site", MEMBER_SITE)
    path = site / "recipients/mo.yaml"
    path.write_text(path.read_text().replace("{until: 2026-10-31}", "{until: 31/10/2027}"))
    result = run("check", "--source", str(site), "--today", "2026-05-01")
    assert result.code == 1 and "error[bad-date]" in result.err and "2027-10-31" in result.err, result.err
    assert "no-membership" not in result.err


@pytest.mark.parametrize(
    "name, hint",
    [
        ("Members.csv", "rename it members.csv"),
        ("member.csv", "rename it members.csv"),
        ("MEMBERS.CSV", "rename it members.csv"),
        ("memberships.csv", "rename it members.csv"),
        ("members.xlsx", "export it as a CSV named members.csv"),
    ],
)
def test_a_members_file_under_another_name_is_warned_of(tmp_path, run, name, hint):
    # (read on a laptop that ignores case, never on Linux CI: lapsed members stayed valid there)
    site = write_site(tmp_path / "site", MEMBER_SITE)
    (site / "site_src" / name).write_text("email,until\nmo@example.com,2027-06-30\n")
    result = run("check", "--source", str(site), "--today", "2026-05-01")
    assert f"site_src/{name}: warning[members-file-name]: site_src/{name} is not read" in result.err, result.err
    assert f"hint: {hint}, with the columns email,until" in result.err


def test_the_members_file_name_warning_is_for_files_of_sites_with_membership_badges(tmp_path, run):
    site = write_site(tmp_path / "site", MEMBER_SITE)
    (site / "site_src/members.csv").write_text("email,until\nmo@example.com,2027-06-30\n")
    (site / "site_src/Members.csv").write_text("email,until\n")  # (beside the one read: said too)
    (site / "site_src/member.csv").mkdir()  # (a folder: nothing a membership system exports)
    (site / "site_src/membership.txt").symlink_to(site / "site_src/members.csv")
    result = run("check", "--source", str(site), "--today", "2026-05-01")
    assert result.err.count("members-file-name") == 1 and "site_src/Members.csv is not read" in result.err
    chartered = site / "badges/chartered.yaml"
    chartered.write_text(chartered.read_text().replace("requires_membership: true", ""))
    assert "members-file-name" not in run("check", "--source", str(site), "--today", "2026-05-01").err


def test_another_error_in_the_earners_file_does_not_hide_that_they_have_no_membership(tmp_path, run):
    site = write_site(tmp_path / "site", MEMBER_SITE)
    path = site / "recipients/mo.yaml"
    path.write_text(
        path.read_text()
        .replace("membership: {until: 2026-10-31}\n", "")
        .replace("badge: course", "badge: course\n    narrative: 7")
    )
    result = run("check", "--source", str(site), "--today", "2026-05-01")
    assert result.code == 1 and "error[" in result.err and "warning[no-membership]" in result.err, result.err


@pytest.mark.parametrize(
    "row, said",
    [
        ("Total,,\n", "site_src/members.csv:3: error[totals-row]: this row looks like a totals row ('Total')"),
        ("Grand total:,,\n", "error[totals-row]"),
        ("Total members: 2,\n", "error[totals-row]"),
        ("Sum of members,2\n", "error[totals-row]"),
        ("Count Basie,2027-06-30\n", "error[bad-email]: 'Count Basie' is not"),  # (a member, not a totals row)
        ("bad@@example.com,2027-06-30\n", "error[bad-email]: 'bad@@example.com' is not a valid email address"),
        ("Bob Baker <bob@example.com>,2027-06-30\n", "hint: write the address alone: bob@example.com"),
        ("bob@example.com,2027/12/31\n", "hint: write it year-month-day: 2027-12-31"),
        ("bob@example.com,31-Dec-2027\n", "hint: write it year-month-day: 2027-12-31"),
    ],
)
def test_members_csv_mistakes_say_how_to_put_them_right(tmp_path, run, row, said):
    site = write_site(tmp_path / "site", MEMBER_SITE)
    (site / "site_src/members.csv").write_text("email,until\nmo@example.com,2027-06-30\n" + row)
    result = run("check", "--source", str(site), "--today", "2026-05-01")
    assert result.code == 1 and said in result.err, result.err


def test_a_members_row_with_its_address_written_another_way_is_its_error_alone(tmp_path, run):
    site = write_site(tmp_path / "site", MEMBER_SITE)
    _without_membership(site)
    (site / "site_src/members.csv").write_text("email,until\nMo Member <mo@example.com>,2027-06-30\n")
    result = run("check", "--source", str(site), "--today", "2026-05-01")
    assert result.code == 1 and "hint: write the address alone: mo@example.com" in result.err
    assert "no-membership" not in result.err


def test_members_csv_totals_row_is_only_a_row_without_an_address(tmp_path, run):
    # (a review: "Count Basie" and "Total Fitness Ltd" are members, to be put right, not deleted)
    site = write_site(tmp_path / "site", MEMBER_SITE)
    (site / "site_src/members.csv").write_text("name,email,until\nTotal Fitness Ltd,ann@@example.com,2027-01-01\n")
    result = run("check", "--source", str(site), "--today", "2026-05-01")
    assert "error[bad-email]" in result.err and "totals-row" not in result.err, result.err


@pytest.mark.parametrize(
    "change",
    [
        ("badge: course", "badge: membership"),  # (an error naming 'membership': not its own)
        ("issued_on: 2026-02-01", "issued_on: 2026-02-01\n    evidence: [{url: 'http://example.org/membership card'}]"),
    ],
)
def test_an_error_that_only_names_the_word_membership_does_not_hide_no_membership(tmp_path, run, change):
    site = write_site(tmp_path / "site", MEMBER_SITE)
    path = site / "recipients/mo.yaml"
    path.write_text(path.read_text().replace("membership: {until: 2026-10-31}\n", "").replace(*change))
    result = run("check", "--source", str(site), "--today", "2026-05-01")
    assert result.code == 1 and "warning[no-membership]" in result.err, result.err


def test_a_workbook_beside_members_csv_is_the_providers_own(tmp_path, run):
    site = write_site(tmp_path / "site", MEMBER_SITE)
    (site / "site_src/members.csv").write_text("email,until\nmo@example.com,2027-06-30\n")
    (site / "site_src/members.xlsx").write_bytes(b"PK")
    assert "members-file-name" not in run("check", "--source", str(site), "--today", "2026-05-01").err
