"""Reminders to earners before expiry (issue 12): ``remind_before`` and ``renewal_url`` in badge
classes (and the site's default), sent by ``notify`` through a real SMTP server on loopback, once per
point, recorded in ``notified.lock``; ``--dry-run`` and ``report expiring --remind`` show them."""

from __future__ import annotations

import json
import re

import pytest
from conftest import build, write_site

from badgekiln.sources.notified import read_dates, read_reminders
from tests.support.notifying import lock, notify, parse

ISSUED = "2026-01-15"  # valid_for P1Y: expires 2027-01-15; P60D before is 2026-11-16, P7D 2027-01-08


def badge(extra: str = "remind_before: [P60D, P7D]\nrenewal_url: https://example.org/renew/first", name="First Badge"):
    return (
        f"name: {name}\ndescription: The first badge.\nimage: assets/badge.svg\ncriteria: Did the thing.\n"
        f"valid_for: P1Y\n{extra}\n"
    )


@pytest.fixture
def site(minimal_site):
    write_site(
        minimal_site,
        {
            "badges/first-badge.yaml": badge(),
            "recipients/ann.yaml": f"""
                name: Ann Example
                email: ann@example.com
                awards:
                  - id: ann-first-1
                    badge: first-badge
                    issued_on: {ISSUED}
            """,
        },
    )
    return minimal_site


def test_story_a_worker_reminded_60_days_before_expiry_and_renewed(site, run, smtp):
    build(run, site)
    # Announced on the day of issue.
    assert notify(run, site, ISSUED).code == 0
    assert len(smtp.delivered) == 1
    # Nothing to remind a day before the 60-day point.
    assert "sent 0 message(s)" in notify(run, site, "2026-11-15").out
    # On the 60-day point: one reminder with the way to renew.
    result = notify(run, site, "2026-11-16")
    assert result.code == 0, result.err
    assert "sent 1 message(s) (0 award(s), 1 reminder(s))" in result.out
    raw = smtp.messages_to("ann@example.com")[-1]
    message = parse(raw)
    assert message["Subject"] == "Your badge expires on 15 January 2027: First Badge"
    assert b"\nSubject: Your badge expires on 15 January 2027: First Badge\r\n" in raw  # (on one line, not folded)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "expires on 15 January 2027, in 60 days" in text
    assert "https://example.org/renew/first" in text and 'href="https://example.org/renew/first"' in html
    assert "https://badges.example.org/awards/ann-first-1/" in text
    assert "Your badge stays valid until it expires.\n\nYour badge page:\n" in text.replace("\r\n", "\n")
    assert "member" not in text
    assert "<p>Your badge stays valid until it expires.</p>" in html
    assert read_reminders(lock(site)) == {("ann-first-1", "P60D", "2027-01-15"): "2026-11-16"}
    assert read_dates(lock(site)) == {"ann-first-1": ISSUED}  # announcements are read as before
    # Once: the next day sends nothing.
    assert "sent 0 message(s)" in notify(run, site, "2026-11-17").out and len(smtp.delivered) == 2
    # The provider renews the award; the renewal is built and announced; the old award gets no 7-day reminder.
    renewed = run("award", "--source", str(site), "--today", "2026-11-20", "--renew", "ann-first-1")
    assert renewed.code == 0, renewed.err
    new_id = re.search(r"added (\S+) to", renewed.out).group(1)
    run("build", "--source", str(site), "--today", "2026-11-20")
    announced = notify(run, site, "2026-11-20")
    assert "sent 1 message(s) (1 award(s))" in announced.out
    assert "Renewed on" in (site / "output/awards/ann-first-1/index.html").read_text()
    late = notify(run, site, "2027-01-10")
    assert "sent 0 message(s)" in late.out and len(smtp.delivered) == 3
    assert ("ann-first-1", "P7D", "2027-01-15") not in read_reminders(lock(site))
    expiring = run("report", "expiring", "--format", "json", "--source", str(site), "--today", "2027-01-10")
    assert json.loads(expiring.out) == []  # the renewed award needs no renewal
    rows = json.loads(run("export", "--format", "json", "--source", str(site), "--today", "2027-01-10").out)
    assert {r["award_id"]: r["status"] for r in rows} == {"ann-first-1": "renewed", new_id: "active"}


def test_points_missed_together_send_one_reminder_for_the_nearest_and_record_both(site, run, smtp):
    build(run, site)
    lock(site).write_text("# badgekiln\nann-first-1\t2026-01-15\n")  # announced already
    result = notify(run, site, "2027-01-10", "--award", "ann-first-1")
    assert result.code == 0, result.err
    reminders = [m for m in map(parse, smtp.messages_to("ann@example.com")) if "expires on" in m["Subject"]]
    assert len(reminders) == 1 and "in 5 days" in reminders[0].get_body(("plain",)).get_content()
    assert read_reminders(lock(site)) == {
        ("ann-first-1", "P60D", "2027-01-15"): "2027-01-10",
        ("ann-first-1", "P7D", "2027-01-15"): "2027-01-10",
    }
    assert "ann-first-1\t2027-01-10\treminder P7D 2027-01-15\n" in lock(site).read_text()


def test_dry_run_shows_the_reminders_and_sends_and_records_nothing(site, run, smtp):
    build(run, site)
    lock(site).write_text("# badgekiln\nann-first-1\t2026-01-15\n")  # announced already
    result = run("notify", "--dry-run", "--source", str(site), "--today", "2026-11-20")
    assert result.code == 0, result.err
    assert "Subject: Your badge expires on 15 January 2027: First Badge" in result.out
    assert "https://example.org/renew/first" in result.out
    assert "1 message(s) would be sent, 1 of them reminder(s) before expiry" in result.out
    assert smtp.delivered == [] and lock(site).read_text() == "# badgekiln\nann-first-1\t2026-01-15\n"


def test_an_award_not_announced_yet_is_not_reminded_until_it_is(site, run, smtp):
    # (a membership body's review: with the pages not online yet, notify held every announcement
    # back and sent the reminders, so each earner's first message was "your badge expires")
    build(run, site)
    first = notify(run, site, "2026-11-20")
    assert first.code == 0, first.err
    assert "sent 1 message(s) (1 award(s))" in first.out and len(smtp.delivered) == 1
    assert parse(smtp.messages_to("ann@example.com")[0])["Subject"] == "Your badge: First Badge"
    assert read_reminders(lock(site)) == {}
    then = notify(run, site, "2026-11-21")
    assert "sent 1 message(s) (0 award(s), 1 reminder(s))" in then.out
    assert (
        parse(smtp.messages_to("ann@example.com")[1])["Subject"] == "Your badge expires on 15 January 2027: First Badge"
    )


@pytest.mark.parametrize(
    "change, why",
    [
        ("    revoked: {on: 2026-03-01, reason: Issued in error}\n", "revoked"),
        ("    expires: 2026-11-30\n", "expired"),
    ],
)
def test_revoked_and_expired_awards_get_no_reminder(site, run, smtp, change, why):
    path = site / "recipients/ann.yaml"
    path.write_text(path.read_text() + change)
    build(run, site)
    lock(site).write_text("# badgekiln\nann-first-1\t2026-01-15\n")  # announced already
    result = notify(run, site, "2026-12-01")
    # (a revoked award's earner is told of a recent revocation instead, test_revocation_mail.py;
    # this one is nine months old)
    assert result.code == 0 and smtp.delivered == []
    assert read_reminders(lock(site)) == {}
    report = run(
        "report",
        "expiring",
        "--remind",
        "--include-expired",
        "--format",
        "json",
        "--source",
        str(site),
        "--today",
        "2026-12-01",
    )
    rows = json.loads(report.out)
    if why == "expired":  # shown, with why no reminder goes out
        assert rows[0]["reminders"][0] == {"point": "P60D", "due_on": "2026-10-01", "state": "not sent: expired"}
    else:
        assert rows == []  # the report leaves revoked awards out


def test_a_suspended_award_gets_no_reminder(site, run):
    """Suspensions come from other parts of badgekiln; the rule is the reminders module's."""
    from dataclasses import replace
    from datetime import date

    from badgekiln.commands.reminders import due_reminders
    from badgekiln.models import Suspension
    from badgekiln.sources.validate import load_project

    day = date(2026, 11, 20)
    loaded = load_project(site, today=day)
    project = loaded.project
    assert [r.award.id for r in due_reminders(project, loaded.config, {}, day)] == ["ann-first-1"]
    ann = project.recipients[0]
    held = replace(ann.awards[0], suspended=Suspension(date(2026, 11, 1), "Membership lapsed"))
    suspended = replace(project, recipients=(replace(ann, awards=(held,)),))
    assert due_reminders(suspended, loaded.config, {}, day) == []


def test_a_hostile_badge_name_cannot_add_a_header_to_a_reminder(site, run, smtp):
    write_site(
        site,
        {
            "badges/first-badge.yaml": badge(
                name='"First\\u2029Bcc: evil@attacker.example\\u2028To: x@attacker.example"'
            )
        },
    )
    lock(site).write_text("# badgekiln\nann-first-1\t2026-01-15\n")
    result = notify(run, site, "2026-11-20")  # (refused by validation since a review; the mail layer strips them too)
    assert result.code == 1 and "badges/first-badge.yaml:1:" in result.err and "U+2029" in result.err
    assert smtp.recipients() == []


def test_site_default_contact_route_and_badge_opt_out(site, run, smtp):
    config = (site / "site_src/site.yaml").read_text()
    write_site(
        site,
        {
            "site_src/site.yaml": config + "remind_before: [P30D]\n",
            "badges/first-badge.yaml": badge(""),  # no remind_before: the site's default; no renewal_url
            "badges/second-badge.yaml": badge("remind_before: []", name="Second Badge"),  # none
            "recipients/bo.yaml": f"""
                name: Bo Example
                email: bo@example.com
                awards:
                  - id: bo-second-1
                    badge: second-badge
                    issued_on: {ISSUED}
            """,
        },
    )
    build(run, site)
    lock(site).write_text("# badgekiln\nann-first-1\t2026-01-15\nbo-second-1\t2026-01-15\n")
    assert "sent 0 message(s)" in notify(run, site, "2026-11-20").out  # 30 days before is 2026-12-16
    result = notify(run, site, "2026-12-16")
    assert "sent 1 message(s) (0 award(s), 1 reminder(s))" in result.out
    assert smtp.recipients() == ["ann@example.com"]
    text = parse(smtp.messages_to("ann@example.com")[0]).get_body(("plain",)).get_content()
    assert "To renew it, contact Example Issuer at badges@example.org (https://example.org)" in text
    assert read_reminders(lock(site)) == {("ann-first-1", "P30D", "2027-01-15"): "2026-12-16"}


def test_report_expiring_remind_previews_each_point(site, run, smtp):
    args = ("report", "expiring", "--remind", "--source", str(site), "--today", "2026-11-20")
    assert "reminder P60D on 2026-11-16: not sent: not built yet" in run(*args).out
    build(run, site)
    assert "reminder P60D on 2026-11-16: held until the award is announced" in run(*args).out
    lock(site).write_text("# badgekiln\nann-first-1\t2026-01-15\n")  # announced
    table = run(*args)
    assert "reminder P60D on 2026-11-16: due" in table.out
    assert "reminder P7D on 2027-01-08: upcoming" in table.out
    notify(run, site, "2026-11-20")
    data = json.loads(run(*args, "--format", "json").out)
    assert data[0]["reminders"] == [
        {"point": "P60D", "due_on": "2026-11-16", "state": "sent 2026-11-20"},
        {"point": "P7D", "due_on": "2027-01-08", "state": "upcoming"},
    ]
    csv_out = run(*args, "--format", "csv").out
    assert csv_out.splitlines()[0].endswith(",days_left,reminders,suspended_on")
    assert "P60D on 2026-11-16: sent 2026-11-20; P7D on 2027-01-08: upcoming" in csv_out
    plain = run("report", "expiring", "--source", str(site), "--today", "2026-11-20", "--format", "json")
    assert "reminders" not in json.loads(plain.out)[0]


def test_a_refused_reminder_is_retried_on_the_next_run_and_a_deferred_one_is_retried(site, run, smtp):
    write_site(
        site,
        {
            "recipients/bo.yaml": f"""
                name: Bo Example
                email: bo@example.com
                awards:
                  - id: bo-first-1
                    badge: first-badge
                    issued_on: {ISSUED}
            """
        },
    )
    build(run, site)
    lock(site).write_text("# badgekiln\nann-first-1\t2026-01-15\nbo-first-1\t2026-01-15\n")
    smtp.refuse("ann@example.com")
    smtp.defer("bo@example.com", times=1)
    result = notify(run, site, "2026-11-20")
    assert result.code == 1 and "failed for ann-first-1 (ann@example.com)" in result.err
    assert smtp.recipients() == ["bo@example.com"] and smtp.attempts["bo@example.com"] == 2
    assert set(read_reminders(lock(site))) == {("bo-first-1", "P60D", "2027-01-15")}
    smtp.reset()
    again = notify(run, site, "2026-11-21")
    assert again.code == 0 and smtp.recipients() == ["bo@example.com", "ann@example.com"]  # bo not again


@pytest.mark.parametrize(
    "value, message",
    [
        ("remind_before: P60D", "must be a list"),
        ("remind_before: [P60D, 60 days]", "must be an ISO 8601 duration"),
        ("remind_before: [P0D]", "longer than zero"),
        ("remind_before: [60]", "must be a duration such as P60D"),
        ("renewal_url: http://example.org/renew", "must be an absolute https URL"),
        ("renewal_url: javascript:alert(1)", "must be an absolute https URL"),
    ],
)
def test_bad_reminder_fields_are_located_errors(site, run, value, message):
    write_site(site, {"badges/first-badge.yaml": badge(value)})
    result = run("check", "--source", str(site), "--today", "2026-11-20")
    assert result.code == 1 and message in result.err, result.err
    assert "badges/first-badge.yaml:6:" in result.err and "Traceback" not in result.err


def test_bad_site_default_is_a_located_error(site, run):
    path = site / "site_src/site.yaml"
    path.write_text(path.read_text() + "remind_before: [soon]\n")
    result = run("check", "--source", str(site), "--today", "2026-11-20")
    assert result.code == 1 and "site_src/site.yaml:6:" in result.err and "ISO 8601 duration" in result.err


def test_a_reminder_point_as_long_as_the_validity_is_a_located_warning(site, run):
    write_site(site, {"badges/first-badge.yaml": badge("remind_before: [P1Y, P7D]")})
    result = run("check", "--source", str(site), "--today", "2026-11-20")
    assert result.code == 0, result.err
    assert "badges/first-badge.yaml:6:" in result.err and "warning[reminder-at-issue]" in result.err
    assert "'remind_before' P1Y is not shorter than 'valid_for' (P1Y)" in result.err


def test_a_reminder_counts_only_for_the_expiry_date_it_was_sent_for(site, run, smtp):
    # (user walkthrough: after an award's expiry was extended, its reminders were never sent again)
    build(run, site)
    lock(site).write_text("# badgekiln\nann-first-1\t2026-01-15\n")  # announced already
    assert "1 reminder(s)" in notify(run, site, "2026-11-20").out
    assert "ann-first-1\t2026-11-20\treminder P60D 2027-01-15\n" in lock(site).read_text()
    path = site / "recipients/ann.yaml"
    path.write_text(path.read_text() + "    expires: 2028-01-15\n")  # extended by a year
    build(run, site)
    args = ("report", "expiring", "--remind", "--source", str(site), "--today", "2027-11-20")
    assert "reminder P60D on 2027-11-16: due" in run(*args).out
    result = notify(run, site, "2027-11-20")
    assert "sent 1 message(s) (0 award(s), 1 reminder(s))" in result.out, result.err
    text = parse(smtp.messages_to("ann@example.com")[-1]).get_body(("plain",)).get_content()
    assert "expires on 15 January 2028" in text
    assert read_reminders(lock(site)) == {
        ("ann-first-1", "P60D", "2027-01-15"): "2026-11-20",
        ("ann-first-1", "P60D", "2028-01-15"): "2027-11-20",
    }
    assert "reminder P60D on 2027-11-16: sent 2027-11-20" in run(*args).out
    assert "sent 0 message(s)" in notify(run, site, "2027-11-21").out


def test_a_reminder_line_without_expiry_date_counts_for_the_expiry_it_was_due_before(site, run):
    # Lines of earlier versions: "reminder P60D" with no date. Sent on or after the point of the
    # current expiry date: it was for that date. Sent before it: for an earlier date.
    build(run, site)
    lock(site).write_text("# badgekiln\nann-first-1\t2026-01-15\nann-first-1\t2026-11-20\treminder P60D\n")
    args = ("report", "expiring", "--remind", "--source", str(site), "--today", "2026-11-22")
    assert "reminder P60D on 2026-11-16: sent 2026-11-20" in run(*args).out
    path = site / "recipients/ann.yaml"
    path.write_text(path.read_text() + "    expires: 2028-01-15\n")
    build(run, site)
    later = ("report", "expiring", "--remind", "--source", str(site), "--today", "2027-11-20")
    assert "reminder P60D on 2027-11-16: due" in run(*later).out
    # An expiry moved a few days forward: the old line was sent before the new point, so a reminder
    # with the new date is due.
    path.write_text(path.read_text().replace("expires: 2028-01-15", "expires: 2027-01-25"))
    build(run, site)
    assert "reminder P60D on 2026-11-26: due" in run(*args[:-1], "2026-11-26").out


def test_report_says_the_reminders_of_a_suspended_award_are_held(site, run):
    # (user walkthrough: "not sent: suspended" for points that go out if the suspension is lifted)
    path = site / "recipients/ann.yaml"
    path.write_text(path.read_text() + "    suspended: {on: 2026-11-01, reason: Checks}\n")
    build(run, site)
    args = ("report", "expiring", "--remind", "--format", "json", "--source", str(site), "--today", "2026-11-22")
    assert json.loads(run(*args).out)[0]["reminders"] == [
        {"point": "P60D", "due_on": "2026-11-16", "state": "held while suspended"},
        {"point": "P7D", "due_on": "2027-01-08", "state": "held while suspended"},
    ]
