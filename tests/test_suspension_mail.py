"""Telling earners that an award is suspended and that the suspension was lifted (issue 12,
point 8): ``notify`` sends each through a real SMTP server on loopback, once per suspension,
records it in ``notified.lock`` (``suspended 2026-11-01`` / ``reinstated 2026-11-01``), lists it
with ``--dry-run``, limits it with ``--award``, and never writes to the earner of a revoked award."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from conftest import MEMBER_SITE, write_site

from badgekiln.sources.notified import read_dates, read_records, read_reminders, read_suspension_notices
from tests.support.notifying import lock, notify, parse


@pytest.fixture
def site(tmp_path):
    return write_site(tmp_path / "site", MEMBER_SITE)


def build(run, site, day):
    result = run("build", "--source", str(site), "--today", day)
    assert result.code == 0, result.err


def set_membership(site, until: str) -> None:
    path = site / "recipients/mo.yaml"
    text = path.read_text()
    start = text.index("until: ") + len("until: ")
    path.write_text(text[:start] + until + text[start + 10 :])


def add_to_award(site, award_id: str, lines: str) -> None:
    """Append YAML ``lines`` (already indented for an award) under ``award_id``."""
    path = site / "recipients/mo.yaml"
    text = path.read_text()
    anchor = f"  - id: {award_id}\n"
    head, tail = text.split(anchor)
    first, _, rest = tail.partition("\n")
    second, _, rest = rest.partition("\n")
    path.write_text(head + anchor + first + "\n" + second + "\n" + lines + rest)


def test_story_a_member_is_told_of_the_lapse_once_and_of_the_renewal_once(site, run, smtp):
    build(run, site, "2026-10-31")
    assert notify(run, site, "2026-10-31").code == 0  # the two awards announced
    assert len(smtp.delivered) == 2
    # The membership lapses: one message, with the reason, the way back and the contact.
    result = notify(run, site, "2026-11-01")
    assert result.code == 0, result.err
    assert "sent 1 message(s) (0 award(s), 1 suspended)" in result.out
    message = parse(smtp.messages_to("mo@example.com")[-1])
    assert message["Subject"] == "Your badge is suspended: Chartered Member"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "has been suspended since 1 November 2026" in text and "Reason: membership lapsed" in text
    assert "because your membership ended on 31 October 2026. Renewing your membership lifts" in text
    assert "because your membership ended on 31 October 2026. Renewing your membership lifts" in html
    assert "see that it is suspended.\n\nIt is suspended because" in text.replace("\r\n", "\n")
    assert "the badge becomes valid again.\n\nYour badge page:\n" in text.replace("\r\n", "\n")
    assert "badges@example.org" in text and 'href="mailto:badges@example.org"' in html
    assert "https://badges.example.org/awards/mo-chartered/" in text
    assert "mo-chartered\t2026-11-01\tsuspended 2026-11-01\n" in lock(site).read_text()
    # Once: the next runs send nothing.
    assert "sent 0 message(s)" in notify(run, site, "2026-11-02").out
    assert "sent 0 message(s)" in notify(run, site, "2026-11-03").out and len(smtp.delivered) == 3
    # Older readers of the lock see the announcements as before and no reminder.
    assert read_dates(lock(site)) == {"mo-chartered": "2026-10-31", "mo-course": "2026-10-31"}
    assert read_reminders(lock(site)) == {}
    # Renewed: "valid again", once.
    set_membership(site, "2027-10-31")
    renewed = notify(run, site, "2026-11-05")
    assert renewed.code == 0, renewed.err
    assert "sent 1 message(s) (0 award(s), 1 reinstated)" in renewed.out
    message = parse(smtp.messages_to("mo@example.com")[-1])
    assert message["Subject"] == "Your badge is valid again: Chartered Member"
    assert "has been lifted: the badge is valid again" in message.get_body(("plain",)).get_content()
    assert "mo-chartered\t2026-11-05\treinstated 2026-11-01\n" in lock(site).read_text()
    assert "sent 0 message(s)" in notify(run, site, "2026-11-06").out and len(smtp.delivered) == 4
    assert read_suspension_notices(lock(site)) == {
        ("mo-chartered", "suspended", "2026-11-01"): "2026-11-01",
        ("mo-chartered", "reinstated", "2026-11-01"): "2026-11-05",
    }
    # A later lapse is a new suspension (another 'on'): told again.
    set_membership(site, "2026-11-10")
    again = notify(run, site, "2026-11-20")
    assert "sent 1 message(s) (0 award(s), 1 suspended)" in again.out
    assert (
        "has been suspended since 11 November 2026"
        in parse(smtp.messages_to("mo@example.com")[-1]).get_body(("plain",)).get_content()
    )


def test_a_hand_suspension_says_no_membership_and_dry_run_and_award_limit_it(site, run, smtp):
    set_membership(site, "2027-10-31")
    add_to_award(site, "mo-course", "    suspended: {on: 2026-11-01, reason: Under investigation}\n")
    build(run, site, "2026-11-02")
    lock(site).write_text("# badgekiln\nmo-chartered\t2026-10-31\nmo-course\t2026-10-31\n")
    dry = run("notify", "--dry-run", "--source", str(site), "--today", "2026-11-02")
    assert dry.code == 0, dry.err
    assert "Subject: Your badge is suspended: Course" in dry.out and "Reason: Under investigation" in dry.out
    assert "see that it is suspended.\n\nYour badge page:\n" in dry.out  # (a blank line before the link)
    assert "Renewing your membership" not in dry.out
    assert "1 message(s) would be sent, 1 suspended (dry run: nothing sent)" in dry.out
    assert smtp.delivered == [] and read_suspension_notices(lock(site)) == {}
    other = notify(run, site, "2026-11-02", "--award", "mo-chartered")  # (announced again: --award does)
    assert "sent 1 message(s) (1 award(s))" in other.out and "suspended" not in other.out
    assert [parse(raw)["Subject"] for raw in smtp.messages_to("mo@example.com")] == ["Your badge: Chartered Member"]
    sent = notify(run, site, "2026-11-02", "--award", "mo-course")
    assert "sent 1 message(s) (0 award(s), 1 suspended)" in sent.out
    assert "sent 0 message(s)" in notify(run, site, "2026-11-03", "--award", "mo-course").out  # once
    # unsuspend: valid again.
    assert run("unsuspend", "mo-course", "--source", str(site), "--today", "2026-11-04").code == 0
    lifted = notify(run, site, "2026-11-04")
    assert "sent 1 message(s) (0 award(s), 1 reinstated)" in lifted.out


def test_revoked_awards_get_no_suspension_news(site, run, smtp):
    build(run, site, "2026-10-31")
    notify(run, site, "2026-10-31")
    # Revoked while the membership lapsed: not "suspended", only the revocation (test_revocation_mail.py).
    add_to_award(site, "mo-chartered", "    revoked: {on: 2026-11-01, reason: Issued in error}\n")
    assert "sent 1 message(s) (0 award(s), 1 revoked)" in notify(run, site, "2026-11-02").out
    # Suspended, told, then revoked: no "valid again", only the revocation.
    add_to_award(site, "mo-course", "    suspended: {on: 2026-11-01, reason: Under investigation}\n")
    assert "1 suspended" in notify(run, site, "2026-11-02").out
    path = site / "recipients/mo.yaml"
    path.write_text(
        path.read_text().replace(
            "suspended: {on: 2026-11-01, reason: Under investigation}", "revoked: {on: 2026-11-03, reason: Fraud}"
        )
    )
    assert "sent 1 message(s) (0 award(s), 1 revoked)" in notify(run, site, "2026-11-04").out
    assert "sent 0 message(s)" in notify(run, site, "2026-11-05").out
    assert len(smtp.delivered) == 5 and read_records(lock(site)).keys() == {"mo-chartered", "mo-course"}
    assert read_suspension_notices(lock(site)) == {("mo-course", "suspended", "2026-11-01"): "2026-11-02"}


def test_a_hostile_reason_stays_in_the_body(site, run, smtp):
    from tests.security.test_mail_headers import assert_clean

    set_membership(site, "2027-10-31")
    reason = "=?utf-8?q?x=0D=0ABcc:_evil@attacker?= Bcc: evil2@attacker"  # (U+2028 refused by validation)
    add_to_award(site, "mo-course", f'    suspended: {{on: 2026-11-01, reason: "{reason}"}}\n')
    build(run, site, "2026-11-02")
    lock(site).write_text("# badgekiln\nmo-chartered\t2026-10-31\nmo-course\t2026-10-31\n")
    result = notify(run, site, "2026-11-02")
    assert result.code == 0, result.err
    lines = assert_clean(smtp, to="mo@example.com", sender="badges@example.org")
    assert not any("attacker" in line for line in lines)
    message = parse(smtp.messages_to("mo@example.com")[0])
    assert message["Subject"] == "Your badge is suspended: Course"
    assert "=?utf-8?q?x=0D=0ABcc:_evil@attacker?=" in message.get_body(("plain",)).get_content()


def test_a_reason_with_cr_lf_cannot_add_a_header(site, run, smtp):
    """CR and LF cannot get past the YAML checks; the message must not rely on that."""
    from badgekiln.commands.suspension_mail import compose_notice, due_notices
    from badgekiln.delivery.mail import mailbox
    from badgekiln.models import Suspension
    from badgekiln.pages.render import Renderer
    from badgekiln.sources.validate import load_project
    from tests.security.test_mail_headers import send_and_check

    loaded = load_project(site, today=date(2026, 10, 31))
    project = loaded.project
    mo = project.recipients[0]
    held = replace(mo.awards[1], suspended=Suspension(date(2026, 10, 1), "Fraud\r\nBcc: evil@attacker\r\n"))
    project = replace(project, recipients=(replace(mo, awards=(mo.awards[0], held)),))
    [notice] = due_notices(project, {}, date(2026, 10, 31))
    issuer = mailbox("Example Institute", "badges@example.org")
    message, to = compose_notice(
        Renderer(None),
        loaded.config,
        notice,
        date(2026, 10, 31),
        sender=issuer,
        reply_to=issuer,
        now=datetime(2026, 10, 31, tzinfo=UTC),
    )
    lines = send_and_check(smtp, message, to=to)
    assert not any(line.lower().startswith("bcc") or "attacker" in line for line in lines), lines


def test_a_refused_notice_is_sent_on_the_next_run_and_a_deferred_one_is_retried(site, run, smtp):
    write_site(
        site,
        {
            "recipients/bo.yaml": """
                name: Bo Member
                email: bo@example.com
                membership: {until: 2026-10-31}
                awards:
                  - id: bo-chartered
                    badge: chartered
                    issued_on: 2026-01-15
            """
        },
    )
    build(run, site, "2026-11-01")
    lock(site).write_text("# badgekiln\nmo-chartered\t2026-10-31\nmo-course\t2026-10-31\nbo-chartered\t2026-10-31\n")
    smtp.refuse("mo@example.com")
    smtp.defer("bo@example.com", times=1)
    result = notify(run, site, "2026-11-01")
    assert result.code == 1 and "failed for mo-chartered (mo@example.com)" in result.err
    assert smtp.recipients() == ["bo@example.com"] and smtp.attempts["bo@example.com"] == 2
    assert set(read_suspension_notices(lock(site))) == {("bo-chartered", "suspended", "2026-11-01")}
    smtp.reset()
    again = notify(run, site, "2026-11-02")
    assert again.code == 0 and smtp.recipients() == ["bo@example.com", "mo@example.com"]  # bo not again
    assert "mo-chartered\t2026-11-02\tsuspended 2026-11-01\n" in lock(site).read_text()


def test_the_lock_reader_skips_what_it_does_not_know(tmp_path):
    path = tmp_path / "notified.lock"
    path.write_text(
        "# badgekiln\n"
        "a\t2026-11-01\n"
        "a\t2026-11-02\treminder P60D\n"
        "a\t2026-11-03\tsuspended 2026-11-01\n"
        "a\t2026-11-04\treinstated 2026-11-01\n"
        "b\t2026-11-05\tsuspended 20261101\n"  # not a plain date
        "b\t2026-11-05\tsuspended\n"
        "b\t2026-11-05\tsuspended 2026-11-01 extra\n"
        "b\tyesterday\tsuspended 2026-11-01\n"
        "c\t2026-11-06\tsuspended 2026-11-0"  # cut short: no newline, and not whole
    )
    assert read_suspension_notices(path) == {
        ("a", "suspended", "2026-11-01"): "2026-11-03",
        ("a", "reinstated", "2026-11-01"): "2026-11-04",
    }
    assert read_records(path) == {"a": "2026-11-01"} and read_reminders(path) == {("a", "P60D", ""): "2026-11-02"}


def test_an_expired_award_is_not_told_it_is_suspended_nor_valid_again(site):
    from badgekiln.commands.suspension_mail import due_notices
    from badgekiln.models import Suspension
    from badgekiln.sources.validate import load_project

    project = load_project(site, today=date(2026, 10, 31)).project
    mo = project.recipients[0]
    course = replace(mo.awards[1], expires=date(2026, 10, 15))
    held = replace(course, suspended=Suspension(date(2026, 10, 1), "Under investigation"))
    for award, sent in ((held, {}), (course, {("mo-course", "suspended", "2026-10-01"): "2026-10-01"})):
        changed = replace(project, recipients=(replace(mo, awards=(mo.awards[0], award)),))
        assert [n.award.id for n in due_notices(changed, sent, date(2026, 10, 31))] == []
    # Before it expired, both would have been sent.
    for award, sent in ((held, {}), (course, {("mo-course", "suspended", "2026-10-01"): "2026-10-01"})):
        changed = replace(project, recipients=(replace(mo, awards=(mo.awards[0], award)),))
        assert [n.kind for n in due_notices(changed, sent, date(2026, 10, 10))] == [
            "suspended" if award is held else "reinstated"
        ]


def test_the_lock_is_read_through_crlf_and_stray_spaces_and_a_hold_that_comes_back_is_told_again(tmp_path):

    path = tmp_path / "notified.lock"
    path.write_bytes(b"a\t2026-11-03\tsuspended 2026-11-01\r\nb\t2026-11-03 \tsuspended  2026-11-01 \n")
    assert read_suspension_notices(path) == {
        ("a", "suspended", "2026-11-01"): "2026-11-03",
        ("b", "suspended", "2026-11-01"): "2026-11-03",
    }
    # suspended X, reinstated X, then suspended X again (an unsuspend reverted): the last line counts.
    path.write_text(
        "a\t2026-11-03\tsuspended 2026-11-01\na\t2026-11-04\treinstated 2026-11-01\n"
        "a\t2026-11-04\tsuspended 2026-11-01\n"
    )
    assert list(read_suspension_notices(path))[-1] == ("a", "suspended", "2026-11-01")


def test_a_forged_or_reopened_lock_line_gives_no_false_news_and_a_hold_that_comes_back_is_told(site):
    from badgekiln.commands.suspension_mail import due_notices
    from badgekiln.models import Suspension
    from badgekiln.sources.validate import load_project

    today = date(2026, 11, 10)
    project = load_project(site, today=today).project
    mo = project.recipients[0]
    course = mo.awards[1]
    # A hand-made line about a suspension that never began before it was "sent", or sent in the
    # future: no "valid again" for an award that was never suspended.
    for forged in (
        {(course.id, "suspended", "2026-12-01"): "2026-11-02"},
        {(course.id, "suspended", "2026-11-01"): "2099-01-01"},
    ):
        assert [n.kind for n in due_notices(project, forged, today) if n.award.id == course.id] == []
    # Suspended again from the same day after the lift was announced: told again.
    held = replace(course, suspended=Suspension(date(2026, 11, 1), "Under investigation"))
    changed = replace(project, recipients=(replace(mo, awards=(mo.awards[0], held)),))
    sent = {(course.id, "suspended", "2026-11-01"): "2026-11-02", (course.id, "reinstated", "2026-11-01"): "2026-11-05"}
    assert [n.kind for n in due_notices(changed, sent, today) if n.award.id == course.id] == ["suspended"]
    # ... and not again once that is recorded (the suspended line is now the last).
    sent = {(course.id, "reinstated", "2026-11-01"): "2026-11-05", (course.id, "suspended", "2026-11-01"): "2026-11-06"}
    assert [n.kind for n in due_notices(changed, sent, today) if n.award.id == course.id] == []


def test_an_award_first_announced_after_its_suspension_ended_gets_one_message(site, run, smtp):
    # (provider UX review: "Your badge: Course" and "Course is valid again" in one run, for an
    # award the earner had never been told of)
    set_membership(site, "2027-10-31")
    add_to_award(site, "mo-course", "    suspended: {on: 2026-11-01, reason: Under investigation}\n")
    build(run, site, "2026-11-02")
    lock(site).write_text("# badgekiln\nmo-chartered\t2026-10-31\nmo-course-x\t2026-10-31\n")
    held = notify(run, site, "2026-11-02")  # (not announced while suspended, nor told it is)
    assert held.code == 0, held.err
    assert run("unsuspend", "mo-course", "--source", str(site), "--today", "2026-11-04").code == 0
    build(run, site, "2026-11-04")
    before = len(smtp.messages_to("mo@example.com"))
    lifted = notify(run, site, "2026-11-04")
    subjects = [parse(raw)["Subject"] for raw in smtp.messages_to("mo@example.com")[before:]]
    assert subjects == ["Your badge: Course"], (lifted.out, subjects)
    assert "sent 0 message(s)" in notify(run, site, "2026-11-05").out  # (the notice was recorded with it)


def test_an_award_never_announced_is_not_told_it_is_suspended_and_is_announced_once_valid(site, run, smtp):
    # (user walkthrough: an earner's first email about a badge said it was suspended)
    build(run, site, "2026-11-01")  # the membership lapsed on 2026-10-31, before any notify
    first = notify(run, site, "2026-11-01")
    assert first.code == 0, first.err
    assert "sent 1 message(s) (1 award(s))" in first.out  # the course; the chartered award waits
    assert [parse(raw)["Subject"] for raw in smtp.messages_to("mo@example.com")] == ["Your badge: Course"]
    assert read_suspension_notices(lock(site)) == {}
    set_membership(site, "2027-10-31")
    build(run, site, "2026-11-05")
    renewed = notify(run, site, "2026-11-05")
    assert "sent 1 message(s) (1 award(s))" in renewed.out and "reinstated" not in renewed.out
    assert parse(smtp.messages_to("mo@example.com")[-1])["Subject"] == "Your badge: Chartered Member"


def test_valid_again_goes_before_a_reminder_about_the_same_award(site, run, smtp):
    config = site / "site_src/site.yaml"
    config.write_text(config.read_text() + "remind_before: [P60D]\n")
    set_membership(site, "2027-10-31")
    add_to_award(
        site, "mo-course", "    expires: 2026-12-31\n    suspended: {on: 2026-11-01, reason: Under investigation}\n"
    )
    build(run, site, "2026-11-02")
    lock(site).write_text("# badgekiln\nmo-chartered\t2026-10-31\nmo-course\t2026-10-31\n")
    assert "1 suspended" in notify(run, site, "2026-11-02").out  # (no reminder while suspended)
    assert run("unsuspend", "mo-course", "--source", str(site), "--today", "2026-11-04").code == 0
    build(run, site, "2026-11-04")
    lifted = notify(run, site, "2026-11-04")
    assert "sent 2 message(s) (0 award(s), 1 reminder(s), 1 reinstated)" in lifted.out, lifted.err
    subjects = [parse(raw)["Subject"] for raw in smtp.messages_to("mo@example.com")[1:]]
    assert len(subjects) == 2 and "is valid again" in subjects[0] and "expires on" in subjects[1], subjects


def test_valid_again_restates_the_expiry_and_a_reminder_of_a_membership_badge_says_it_needs_membership(site, run, smtp):
    # (user walkthrough: "Your badge page stays valid until then" was not true of a badge that
    # requires membership, and "valid again" did not say until when)
    chartered = site / "badges/chartered.yaml"
    chartered.write_text(chartered.read_text() + "valid_for: P1Y\nremind_before: [P90D]\n")
    add_to_award(site, "mo-course", "    expires: 2027-06-30\n    suspended: {on: 2026-11-01, reason: Checks}\n")
    set_membership(site, "2027-10-31")
    build(run, site, "2026-11-02")
    lock(site).write_text(
        "# badgekiln\nmo-chartered\t2026-10-31\nmo-course\t2026-10-31\nmo-course\t2026-11-02\tsuspended 2026-11-01\n"
    )
    assert run("unsuspend", "mo-course", "--source", str(site), "--today", "2026-11-04").code == 0
    build(run, site, "2026-11-04")
    result = notify(run, site, "2026-11-04")
    assert "sent 2 message(s) (0 award(s), 1 reminder(s), 1 reinstated)" in result.out, result.err
    lifted, reminder = (parse(raw) for raw in smtp.messages_to("mo@example.com"))
    text = lifted.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "the badge is valid again. It expires on 30 June 2027.\n" in text
    assert "It expires on 30 June 2027." in lifted.get_body(("html",)).get_content()
    assert reminder["Subject"] == "Your badge expires on 15 January 2027: Chartered Member"
    stays = "Your badge stays valid until it expires, as long as you are a member: the last day of your membership is 31 October 2027."
    assert stays in reminder.get_body(("plain",)).get_content()
    assert stays in reminder.get_body(("html",)).get_content()
