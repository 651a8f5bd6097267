"""Telling earners that an award was revoked (user walkthrough: ``revoke`` then ``notify`` sent
nothing, and the earner of a revoked renewal next got a reminder that the old badge expires with
no explanation). ``notify`` sends each through a real SMTP server on loopback, once per award, to
the earner of an award that was built and announced, records it in ``notified.lock``
(``revoked 2026-11-01``), lists it with ``--dry-run``, limits it with ``--award``, and sends
nothing when ``site.yaml`` says ``notify_revocations: false``."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from conftest import MEMBER_SITE, write_site

from badgekiln.sources.notified import (
    read_dates,
    read_records,
    read_reminders,
    read_revocation_notices,
    read_suspension_notices,
)
from tests.support.notifying import lock, notify, parse


@pytest.fixture
def site(tmp_path):
    site = write_site(tmp_path / "site", MEMBER_SITE)
    path = site / "recipients/mo.yaml"
    path.write_text(path.read_text().replace("until: 2026-10-31", "until: 2027-10-31"))  # (no lapse here)
    return site


def build(run, site, day):
    result = run("build", "--source", str(site), "--today", day)
    assert result.code == 0, result.err


def revoke(run, site, award_id, day, reason="Issued in error"):
    result = run("revoke", award_id, "--reason", reason, "--source", str(site), "--today", day)
    assert result.code == 0, result.err


def subjects(smtp, to="mo@example.com"):
    return [parse(raw)["Subject"] for raw in smtp.messages_to(to)]


def set_site_yaml(site, extra: str) -> None:
    config = site / "site_src/site.yaml"
    config.write_text(config.read_text() + extra)


def test_story_an_announced_award_is_revoked_and_its_earner_is_told_once(site, run, smtp):
    build(run, site, "2026-10-31")
    assert "sent 2 message(s) (2 award(s))" in notify(run, site, "2026-10-31").out
    revoke(run, site, "mo-course", "2026-11-03", reason="Assessment records were falsified")
    build(run, site, "2026-11-03")
    result = notify(run, site, "2026-11-03")
    assert result.code == 0, result.err
    assert "sent 1 message(s) (0 award(s), 1 revoked)" in result.out
    raw = smtp.messages_to("mo@example.com")[-1]
    message = parse(raw)
    assert message["Subject"] == "Your badge has been revoked: Course"
    assert b"\nSubject: Your badge has been revoked: Course\r\n" in raw  # (on one line, not folded)
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(("html",)).get_content()
    for body in (text, html.replace("<bdi>", "").replace("</bdi>", "")):
        assert "was revoked on 3 November 2026" in body
        assert "Reason: Assessment records were falsified" in body
        assert "Its page now says that it is revoked, and verifiers will not accept it." in body
        assert "Contact Example Institute at" in body and "https://example.org" in body
        assert "earlier award" not in body
    assert "Reason: <bdi>Assessment records were falsified</bdi>" in html  # (its own direction: README)
    assert "badges@example.org (https://example.org)" in text and 'href="mailto:badges@example.org"' in html
    assert "The revoked badge's page:\nhttps://badges.example.org/awards/mo-course/\n" in text
    assert 'href="https://badges.example.org/awards/mo-course/"' in html
    assert "mo-course\t2026-11-03\trevoked 2026-11-03\n" in lock(site).read_text()
    # Once: the next runs send nothing (a corrected revocation date is not news either).
    assert "sent 0 message(s)" in notify(run, site, "2026-11-04").out
    path = site / "recipients/mo.yaml"
    path.write_text(path.read_text().replace("on: 2026-11-03", "on: 2026-11-02"))
    assert "sent 0 message(s)" in notify(run, site, "2026-11-05").out and len(smtp.delivered) == 3
    # Readers of the other lines do not see it.
    assert read_dates(lock(site)) == {"mo-chartered": "2026-10-31", "mo-course": "2026-10-31"}
    assert read_reminders(lock(site)) == {} and read_suspension_notices(lock(site)) == {}
    assert read_revocation_notices(lock(site)) == {"mo-course": "2026-11-03"}


def test_an_award_never_announced_or_never_built_gets_no_revocation_notice(site, run, smtp):
    build(run, site, "2026-10-31")
    revoke(run, site, "mo-course", "2026-11-01")  # revoked before anyone was told of it
    first = notify(run, site, "2026-11-01")
    assert first.code == 0, first.err
    assert "sent 1 message(s) (1 award(s))" in first.out and "revoked" not in first.out
    assert subjects(smtp) == ["Your badge: Chartered Member"]
    assert "sent 0 message(s)" in notify(run, site, "2026-11-02").out
    assert read_revocation_notices(lock(site)) == {}
    # An award in the lock but never built (not in awards.lock): nothing either.
    write_site(
        site,
        {
            "recipients/bo.yaml": """
                name: Bo Member
                email: bo@example.com
                awards:
                  - id: bo-course
                    badge: course
                    issued_on: 2026-02-01
                    revoked: {on: 2026-11-01, reason: Issued in error}
            """
        },
    )
    with lock(site).open("a") as handle:
        handle.write("bo-course\t2026-10-31\n")
    assert "sent 0 message(s)" in notify(run, site, "2026-11-02").out
    assert smtp.messages_to("bo@example.com") == []


def test_dry_run_save_and_award_limit_revocation_notices(site, run, smtp, tmp_path):
    build(run, site, "2026-10-31")
    notify(run, site, "2026-10-31")
    revoke(run, site, "mo-course", "2026-11-03")
    saved = tmp_path / "preview"
    dry = run("notify", "--dry-run", "--save", str(saved), "--source", str(site), "--today", "2026-11-03")
    assert dry.code == 0, dry.err
    assert "Subject: Your badge has been revoked: Course" in dry.out and "Reason: Issued in error" in dry.out
    assert "1 message(s) would be sent, 1 revoked (dry run: nothing sent)" in dry.out
    assert [p.name for p in saved.iterdir()] == ["001.eml"]
    assert parse((saved / "001.eml").read_bytes())["Subject"] == "Your badge has been revoked: Course"
    assert len(smtp.delivered) == 2 and read_revocation_notices(lock(site)) == {}  # (the announcements)
    other = notify(run, site, "2026-11-03", "--award", "mo-chartered")  # (announced again: --award does)
    assert "sent 1 message(s) (1 award(s))" in other.out and "revoked" not in other.out
    named = notify(run, site, "2026-11-03", "--award", "mo-course")
    assert "sent 1 message(s) (0 award(s), 1 revoked)" in named.out
    assert "not sent for mo-course" not in named.err  # (its notice is what is sent for it)
    assert subjects(smtp)[-1] == "Your badge has been revoked: Course"
    again = notify(run, site, "2026-11-04", "--award", "mo-course")  # once
    assert "sent 0 message(s)" in again.out and "not sent for mo-course: revoked" in again.err


def test_notify_revocations_false_sends_and_records_nothing(site, run, smtp):
    set_site_yaml(site, "notify_revocations: false\n")
    build(run, site, "2026-10-31")
    notify(run, site, "2026-10-31")
    revoke(run, site, "mo-course", "2026-11-03")
    for extra in ((), ("--award", "mo-course")):
        result = notify(run, site, "2026-11-03", *extra)
        assert result.code == 0, result.err
        assert "sent 0 message(s)" in result.out
    assert len(smtp.delivered) == 2 and read_revocation_notices(lock(site)) == {}
    dry = run("notify", "--dry-run", "--source", str(site), "--today", "2026-11-03")
    assert "0 message(s) would be sent" in dry.out


def test_notify_revocations_must_be_true_or_false(site, run):
    set_site_yaml(site, "notify_revocations: sometimes\n")
    result = run("check", "--source", str(site), "--today", "2026-10-31")
    assert result.code != 0
    assert "'notify_revocations' must be true or false" in result.err


def test_a_revoked_award_gets_no_reminder_nor_suspension_news_after_its_notice(site, run, smtp):
    set_site_yaml(site, "remind_before: [P60D]\n")
    path = site / "recipients/mo.yaml"
    path.write_text(
        path.read_text().replace("issued_on: 2026-02-01\n", "issued_on: 2026-02-01\n    expires: 2026-12-31\n")
    )
    build(run, site, "2026-10-20")
    notify(run, site, "2026-10-20")
    # Suspended and told; then revoked: the revocation is told, never "valid again".
    path.write_text(path.read_text() + "    suspended: {on: 2026-10-25, reason: Under investigation}\n")
    assert "1 suspended" in notify(run, site, "2026-10-26").out
    path.write_text(
        path.read_text().replace(
            "suspended: {on: 2026-10-25, reason: Under investigation}", "revoked: {on: 2026-11-03, reason: Fraud}"
        )
    )
    build(run, site, "2026-11-03")
    told = notify(run, site, "2026-11-03")  # (past the course's 60-day point, 2026-11-01)
    assert "sent 1 message(s) (0 award(s), 1 revoked)" in told.out, told.err
    # The membership lapses and the reminder points pass: nothing more about the revoked award.
    path.write_text(path.read_text().replace("until: 2027-10-31", "until: 2026-11-10"))
    later = notify(run, site, "2026-11-20")
    assert "sent 1 message(s) (0 award(s), 1 suspended)" in later.out  # (the chartered award)
    assert "sent 0 message(s)" in notify(run, site, "2026-12-20").out
    course = [s for s in subjects(smtp) if s.endswith(": Course")]
    assert course == ["Your badge: Course", "Your badge is suspended: Course", "Your badge has been revoked: Course"]
    assert read_reminders(lock(site)) == {}


def test_a_revoked_renewal_is_explained_before_the_reminder_of_the_award_it_renewed(site, run, smtp):
    write_site(
        site,
        {
            "badges/course.yaml": """
                name: Course
                description: Passed a course.
                image: assets/badge.svg
                criteria: Passed.
                valid_for: P1Y
                remind_before: [P60D]
            """,
            "recipients/ann.yaml": """
                name: Ann Example
                email: ann@example.com
                awards:
                  - id: ann-course-1
                    badge: course
                    issued_on: 2026-01-15
            """,
        },
    )
    build(run, site, "2026-10-01")
    notify(run, site, "2026-10-01")
    renewed = run("award", "--source", str(site), "--today", "2026-10-10", "--renew", "ann-course-1")
    new_id = re.search(r"added (\S+) to", renewed.out).group(1)
    build(run, site, "2026-10-10")
    assert "sent 1 message(s) (1 award(s))" in notify(run, site, "2026-10-10").out
    revoke(run, site, new_id, "2026-11-20", reason="Renewed by mistake")
    build(run, site, "2026-11-20")
    result = notify(run, site, "2026-11-20")  # (the old award's 60-day point, 2026-11-16, has passed)
    assert "sent 2 message(s) (0 award(s), 1 reminder(s), 1 revoked)" in result.out, result.err
    revoked, reminder = (parse(raw) for raw in smtp.messages_to("ann@example.com")[2:])
    assert revoked["Subject"] == "Your badge has been revoked: Course"
    assert reminder["Subject"] == "Your badge expires on 15 January 2027: Course"
    text = revoked.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = revoked.get_body(("html",)).get_content()
    said = "earlier award of this badge</a>, issued on 15 January 2026, is not affected: it stays valid and expires on 15 January 2027."
    assert said in html and 'href="https://badges.example.org/awards/ann-course-1/"' in html
    assert (
        "Your earlier award of this badge, issued on 15 January 2026, is not affected: it stays valid and expires "
        "on 15 January 2027.\nhttps://badges.example.org/awards/ann-course-1/\n" in text
    )


def test_a_hostile_reason_and_badge_name_stay_out_of_the_headers(site, run, smtp):
    from tests.security.test_mail_headers import assert_clean

    build(run, site, "2026-10-31")
    lock(site).write_text("# badgekiln\nmo-chartered\t2026-10-31\nmo-course\t2026-10-31\n")
    course = site / "badges/course.yaml"
    # (U+2028/U+2029 in them are refused by validation since a review: tests/security/test_mail_headers.py)
    course.write_text(course.read_text().replace("name: Course", 'name: "Course Bcc: evil@attacker"'))
    reason = "=?utf-8?q?x=0D=0ABcc:_evil2@attacker?= Bcc: evil3@attacker"
    path = site / "recipients/mo.yaml"
    path.write_text(path.read_text() + f'    revoked: {{on: 2026-11-01, reason: "{reason}"}}\n')
    result = notify(run, site, "2026-11-02")
    assert result.code == 0, result.err
    lines = assert_clean(smtp, to="mo@example.com", sender="badges@example.org")
    assert not any("evil2" in line or "evil3" in line for line in lines), lines
    message = parse(smtp.messages_to("mo@example.com")[0])
    assert message["Subject"] == "Your badge has been revoked: Course Bcc: evil@attacker"  # (one line, as text)
    assert "=?utf-8?q?x=0D=0ABcc:_evil2@attacker?=" in message.get_body(("plain",)).get_content()


def test_a_reason_or_name_with_cr_lf_cannot_add_a_header(site, run, smtp):
    """CR and LF cannot get past the YAML checks; the message must not rely on that."""
    from badgekiln.commands.revocation_mail import compose_revocation, due_revocations
    from badgekiln.delivery.mail import mailbox
    from badgekiln.models import Revocation
    from badgekiln.pages.render import Renderer
    from badgekiln.sources.validate import load_project
    from tests.security.test_mail_headers import send_and_check

    loaded = load_project(site, today=date(2026, 10, 31))
    project = loaded.project
    mo = project.recipients[0]
    gone = replace(mo.awards[1], revoked=Revocation(date(2026, 10, 1), "Fraud\r\nBcc: evil@attacker\r\n"))
    badges = dict(project.badges)
    badges["course"] = replace(badges["course"], name="Course\r\nBcc: evil2@attacker")
    project = replace(project, recipients=(replace(mo, awards=(mo.awards[0], gone)),), badges=badges)
    [notice] = due_revocations(project, {}, date(2026, 10, 31))
    issuer = mailbox("Example Institute", "badges@example.org")
    message, to = compose_revocation(
        Renderer(None),
        loaded.config,
        notice,
        date(2026, 10, 31),
        sender=issuer,
        reply_to=issuer,
        now=datetime(2026, 10, 31, tzinfo=UTC),
    )
    lines = send_and_check(smtp, message, to=to)
    assert [line for line in lines if "attacker" in line] == [
        "Subject: Your badge has been revoked: Course Bcc: evil2@attacker"  # (the name as text, on one line)
    ]


def test_a_refused_revocation_notice_is_sent_on_the_next_run(site, run, smtp):
    build(run, site, "2026-10-31")
    notify(run, site, "2026-10-31")
    revoke(run, site, "mo-course", "2026-11-03")
    smtp.refuse("mo@example.com")
    failed = notify(run, site, "2026-11-03")
    assert failed.code == 1 and "failed for mo-course (mo@example.com)" in failed.err
    assert read_revocation_notices(lock(site)) == {}
    smtp.reset()
    again = notify(run, site, "2026-11-04")
    assert again.code == 0 and "1 revoked" in again.out
    assert "mo-course\t2026-11-04\trevoked 2026-11-03\n" in lock(site).read_text()


def test_the_lock_reader_skips_what_it_does_not_know(tmp_path):
    path = tmp_path / "notified.lock"
    path.write_text(
        "# badgekiln\n"
        "a\t2026-11-01\n"
        "a\t2026-11-03\tsuspended 2026-11-01\n"
        "a\t2026-11-04\trevoked 2026-11-02\n"
        "a\t2026-11-05\trevoked 2026-11-02\n"  # (the first line counts)
        "b\t2026-11-05\trevoked 20261101\n"
        "b\t2026-11-05\trevoked\n"
        "b\tyesterday\trevoked 2026-11-01\n"
        "c\t2026-11-06\trevoked 2026-11"  # cut short: no newline, and not whole
    )
    assert read_revocation_notices(path) == {"a": "2026-11-04"}
    assert read_suspension_notices(path) == {("a", "suspended", "2026-11-01"): "2026-11-03"}
    assert read_records(path) == {"a": "2026-11-01"} and read_reminders(path) == {}


def test_the_templates_can_be_overridden(site, run, smtp):
    build(run, site, "2026-10-31")
    notify(run, site, "2026-10-31")
    revoke(run, site, "mo-course", "2026-11-03")
    write_site(
        site,
        {
            "templates/email-revoked.txt": "Dear {{ earner }}, {{ badge.name }} is gone ({{ revocation.reason }}).\n",
            "templates/email-revoked.html": "<p>Dear {{ earner }}, {{ badge.name }} is gone.</p>\n",
        },
    )
    dry = run("notify", "--dry-run", "--source", str(site), "--today", "2026-11-03")
    assert dry.code == 0, dry.err
    assert "Dear Mo Member, Course is gone (Issued in error)." in dry.out


def test_an_expired_award_is_told_and_only_a_still_valid_earlier_award_is_mentioned(site):
    from badgekiln.commands.revocation_mail import due_revocations
    from badgekiln.models import Revocation
    from badgekiln.sources.validate import load_project

    today = date(2027, 3, 1)
    project = load_project(site, today=date(2026, 10, 31)).project
    mo = project.recipients[0]
    revoked = Revocation(date(2027, 2, 1), "Issued in error")
    # An expired award that is revoked is told: its page goes from Expired to Revoked.
    old = replace(mo.awards[1], expires=date(2027, 1, 1), revoked=revoked)
    changed = replace(project, recipients=(replace(mo, awards=(mo.awards[0], old)),))
    [notice] = due_revocations(changed, {}, today)
    assert notice.award.id == "mo-course" and notice.earlier is None
    # A revoked renewal names the award it renews only while that one is valid.
    renewal = replace(mo.awards[1], id="mo-course-2", issued_on=date(2026, 12, 1), renews="mo-course", revoked=revoked)
    for expires, named in ((date(2027, 6, 1), "mo-course"), (date(2027, 2, 1), None)):
        earlier = replace(mo.awards[1], expires=expires)
        changed = replace(project, recipients=(replace(mo, awards=(mo.awards[0], earlier, renewal)),))
        [notice] = due_revocations(changed, {}, today)
        assert (notice.earlier.id if notice.earlier else None) == named


def test_an_old_revocation_is_told_only_when_asked(site, run, smtp):
    # (a site upgraded to a badgekiln that sends revocation notices would have emailed every earner
    # of an award revoked years ago, on its first notify)
    build(run, site, "2026-10-31")
    assert "sent 2 message(s)" in notify(run, site, "2026-10-31").out
    revoke(run, site, "mo-course", "2026-11-03")
    build(run, site, "2027-02-10")
    quiet = notify(run, site, "2027-02-10")  # (99 days later: not news any more)
    assert "sent 0 message(s)" in quiet.out and len(smtp.delivered) == 2
    asked = notify(run, site, "2027-02-10", "--award", "mo-course")
    assert "sent 1 message(s) (0 award(s), 1 revoked)" in asked.out
