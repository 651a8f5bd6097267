"""notify: real SMTP delivery to a real local SMTP server (aiosmtpd), once per award, never stalling.

The server (tests/support/smtp_server.py) refuses, defers, drops, stalls and trickles on demand.
"""

import base64
import email
import email.policy
import io
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from conftest import SVG, TODAY, build, publishable, write_site
from PIL import Image

import badgekiln
from badgekiln.commands.notify import progress_wanted, read_notified
from badgekiln.errors import ConfigError
from tests.support.notifying import FAST, parse
from tests.support.smtp_server import SmtpServer
from tests.support.static_server import StaticServer


def _site_with_two_earners(site):
    write_site(
        site,
        {
            "recipients/bo.yaml": """
        name: Bo O'Brien <Esq>
        email: Bo@Example.com
        show_name: false
        awards:
          - id: bo-first-1
            badge: first-badge
            issued_on: 2026-03-01
          - id: bo-revoked-1
            badge: first-badge
            issued_on: 2026-03-02
            revoked: {on: 2026-04-01, reason: Error}
    """
        },
    )
    return site


def _site_with_earners(site, names):
    """One earner per name (``<name>@example.com``), one award each (``<name>-1``)."""
    for name in names:
        write_site(
            site,
            {
                f"recipients/{name}.yaml": f"""
            name: {name.title()} Person
            email: {name}@example.com
            awards:
              - id: {name}-1
                badge: first-badge
                issued_on: 2026-03-01
        """
            },
        )
    return site


def test_notify_sends_one_message_per_new_award_then_none(minimal_site, run, smtp):
    _site_with_two_earners(minimal_site)
    build(run, minimal_site)
    result = run("notify", "--source", str(minimal_site), "--today", TODAY, "--skip-online-check")
    assert result.code == 0, result.err
    assert "sent 2 message(s)" in result.out
    # A revoked award is never to be announced: not reported (nor counted) on every run.
    assert "bo-revoked-1" not in result.err and "0 skipped" in result.out
    assert sorted(smtp.recipients()) == ["ann@example.com", "bo@example.com"]
    assert smtp.mail_from == ["badges@example.org", "badges@example.org"]
    message = parse(smtp.messages_to("bo@example.com")[0])
    assert message["Subject"] == "Your badge: First Badge"
    assert message["From"].addresses[0].addr_spec == "badges@example.org"
    assert message["From"].addresses[0].display_name == "Example Issuer"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "https://badges.example.org/awards/bo-first-1/" in text
    assert "Hello Bo O'Brien <Esq>," in text  # plain text is not HTML-escaped
    assert "Bo O&#39;Brien &lt;Esq&gt;" in html  # HTML is
    assert "your name is not shown on the page" in text
    assert "linkedin.com/profile/add" in text
    lock = (minimal_site / "site_src/notified.lock").read_text()
    assert "ann-first-1\t2026-11-22" in lock and "bo-first-1\t2026-11-22" in lock
    again = run("notify", "--source", str(minimal_site), "--today", TODAY, "--skip-online-check")
    assert "sent 0 message(s)" in again.out and len(smtp.delivered) == 2
    assert "0 skipped" in again.out and again.err == ""
    # Asked for by name, it says why it is not sent.
    named = run(
        "notify", "--source", str(minimal_site), "--today", TODAY, "--skip-online-check", "--award", "bo-revoked-1"
    )
    assert "not sent for bo-revoked-1: revoked" in named.err and "1 skipped" in named.out
    # An id in capitals, or the page's URL, names the award as it does for revoke (a README audit).
    for given in ("BO-FIRST-1", " https://badges.example.org/awards/bo-first-1/ "):
        again = run("notify", "--source", str(minimal_site), "--today", TODAY, "--skip-online-check", "--award", given)
        assert again.code == 0 and "sent 1 message(s)" in again.out, (given, again.err)


def test_an_award_renewed_before_it_was_announced_is_not_announced_its_renewal_is(minimal_site, run, smtp):
    # (provider UX review: two "Your badge: First Badge" messages, for an award and its renewal)
    assert run("award", "--renew", "ann-first-1", "--source", str(minimal_site), "--today", TODAY).code == 0
    build(run, minimal_site)
    result = run("notify", "--source", str(minimal_site), "--today", TODAY, "--skip-online-check")
    assert result.code == 0, result.err
    assert "sent 1 message(s)" in result.out and "not sent for ann-first-1: renewed by " in result.err
    (message,) = [parse(raw) for raw in smtp.messages_to("ann@example.com")]
    # (a membership body's review: a renewal was announced word for word as a new award)
    assert message["Subject"] == "Your renewed badge: First Badge"
    text = message.get_body(("plain",)).get_content()
    assert "ann-first-1" not in text and 'Example Issuer has renewed your badge "First Badge" (issued' in text
    assert "has renewed your badge <strong><bdi>First Badge</bdi></strong>" in message.get_body(("html",)).get_content()
    assert "and print a certificate." in text  # (the plain text says what the HTML says)


def test_an_award_whose_renewal_was_revoked_is_still_announced(minimal_site, run, smtp):
    # (review: a renewal made by mistake, then revoked, left the award it renewed never announced)
    assert run("award", "--renew", "ann-first-1", "--source", str(minimal_site), "--today", TODAY).code == 0
    renewal = next(
        line.split(":", 1)[1].strip()
        for line in (minimal_site / "recipients/ann.yaml").read_text().splitlines()[::-1]
        if line.strip().startswith("- id:")
    )
    revoked = run("revoke", renewal, "--reason", "Made by mistake", "--source", str(minimal_site), "--today", TODAY)
    assert revoked.code == 0, revoked.err
    build(run, minimal_site)
    result = run("notify", "--source", str(minimal_site), "--today", TODAY, "--skip-online-check")
    assert result.code == 0, result.err
    assert "sent 1 message(s)" in result.out and "renewed by" not in result.err
    assert "ann-first-1" in parse(smtp.messages_to("ann@example.com")[0]).get_body(("plain",)).get_content()


def test_headers_date_message_id_reply_to_and_auto_submitted(minimal_site, run, smtp, monkeypatch):
    build(run, minimal_site)
    monkeypatch.setenv("BADGEKILN_SMTP_FROM", "noreply@mail.example.net")
    result = run("notify", "--source", str(minimal_site), "--today", TODAY, "--skip-online-check")
    assert result.code == 0, result.err
    assert smtp.mail_from == ["noreply@mail.example.net"]  # the envelope sender is the configured one
    message = parse(smtp.messages_to("ann@example.com")[0])
    assert message["From"].addresses[0].addr_spec == "noreply@mail.example.net"
    assert message["Reply-To"].addresses[0].addr_spec == "badges@example.org"  # the issuer
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@mail.example.net>")
    assert message["Date"].datetime is not None and abs(time.time() - message["Date"].datetime.timestamp()) < 120


def test_awards_not_built_yet_are_not_announced(minimal_site, run, smtp):
    result = run("notify", "--source", str(minimal_site), "--today", TODAY)
    assert "not sent for ann-first-1: not built yet" in result.err
    assert smtp.delivered == [] and result.code == 0


def test_dry_run_sends_nothing_and_records_nothing(minimal_site, run, smtp):
    build(run, minimal_site)
    result = run("notify", "--dry-run", "--source", str(minimal_site), "--today", TODAY)
    assert "To: Ann Example <ann@example.com>" in result.out and "1 message(s) would be sent" in result.out
    assert smtp.delivered == [] and smtp.attempts == {}
    assert not (minimal_site / "site_src/notified.lock").exists()


def test_a_dry_run_names_what_the_html_part_links_to_and_loads(minimal_site, run, smtp):
    # (a review: a pull request's templates/email.html with a tracking image and a link elsewhere
    # passed check, and the dry run, which prints the plain part, showed neither)
    build(run, minimal_site)
    result = run("notify", "--dry-run", "--source", str(minimal_site), "--today", TODAY)
    assert "HTML part (what most mail programs show):" in result.out
    assert "  loads or names: cid:" in result.out and "not this site's" not in result.out, result.out  # (the built-in)
    write_site(
        minimal_site,
        {
            "templates/email.html": '<p>Hi</p><img src="https://tracker.evil.example/p.gif?a={{ award.id }}">'
            '<a href="https://evil.example/login">Claim</a><a href="{{ award.url }}">Yours</a>'
            "<!--[if mso]><v:fill src='https://evil.example/outlook.png'/><![endif]-->"
            "<style>@import \"https://evil.example/x.css\"; p { background: url(' \\68 ttps://evil.example/esc.png') }</style>"
        },
    )
    result = run("notify", "--dry-run", "--source", str(minimal_site), "--today", TODAY)
    assert "  links to: https://evil.example/login  (not this site's: check it)" in result.out, result.out
    assert (
        "  loads or names: https://tracker.evil.example/p.gif?a=ann-first-1  (not this site's: check it)" in result.out
    )
    assert "/awards/ann-first-1/\n" in result.out  # (the award's own page: not marked)
    for hidden in ("outlook.png", "x.css", "esc.png"):  # (in a comment Outlook reads, an @import, a CSS escape)
        assert f"  loads or names: https://evil.example/{hidden}  (not this site's: check it)" in result.out, result.out


def test_a_dry_run_can_save_the_messages_to_open_in_a_mail_program(minimal_site, run, smtp, tmp_path):
    # (provider UX review: a dry run printed only the plain text; the HTML could not be looked at)
    build(run, minimal_site)
    saved = tmp_path / "preview"
    result = run("notify", "--dry-run", "--save", str(saved), "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err
    assert "From: " in result.out and "Reply-To: " in result.out
    (eml,) = sorted(saved.glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["To"] == "Ann Example <ann@example.com>"
    assert "https://badges.example.org/awards/ann-first-1/" in message.get_body(("html",)).get_content()
    assert eml.stat().st_mode & 0o077 == 0  # (an earner's address: the owner's only)
    assert smtp.delivered == [] and not (minimal_site / "site_src/notified.lock").exists()
    inside = run("notify", "--dry-run", "--save", str(minimal_site / "output/mail"), "--source", str(minimal_site))
    assert inside.code == 1 and "must never be published" in inside.err and not (minimal_site / "output/mail").exists()
    sending = run("notify", "--save", str(saved), "--source", str(minimal_site), "--today", TODAY)
    assert sending.code == 2 and "--save is for --dry-run" in sending.err
    again = run("notify", "--dry-run", "--save", str(saved), "--source", str(minimal_site), "--today", TODAY)
    assert again.code == 1 and "is not empty" in again.err  # (never over a file, nor beside one)
    # (a README audit: a folder holding something else was written into, and with 005.eml there, 001-004 were)
    other = tmp_path / "notes"
    other.mkdir()
    (other / "notes.txt").write_text("keep")
    beside = run("notify", "--dry-run", "--save", str(other), "--source", str(minimal_site), "--today", TODAY)
    assert (
        beside.code == 1 and "is not empty" in beside.err and sorted(p.name for p in other.iterdir()) == ["notes.txt"]
    )


def test_saved_messages_never_go_through_a_link_or_into_the_sources(minimal_site, run, tmp_path):
    # (attack review: a pull request's previews/001.eml -> site_src/assets/site.css had the
    # messages, earners' addresses and all, written into a published file)
    build(run, minimal_site)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    outside = tmp_path / "previews"
    outside.mkdir()
    (outside / "001.eml").symlink_to(victim)
    linked = run("notify", "--dry-run", "--save", str(outside), "--source", str(minimal_site), "--today", TODAY)
    assert linked.code == 1 and victim.read_text() == "keep me"
    (tmp_path / "link-folder").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    folder = run("notify", "--dry-run", "--save", str(tmp_path / "link-folder"), "--source", str(minimal_site))
    assert folder.code == 1 and "symbolic link" in folder.err and not (tmp_path / "elsewhere").exists()
    inside = run("notify", "--dry-run", "--save", str(minimal_site / "previews"), "--source", str(minimal_site))
    assert inside.code == 2 and "outside the site's sources" in inside.err
    assert not (minimal_site / "previews").exists()


@pytest.mark.parametrize(
    ("host", "port", "security"), [("smtp.example.net", 587, "starttls"), ("127.0.0.1", 25, "none")]
)
def test_settings_left_empty_are_settings_not_given(monkeypatch, host, port, security):
    """GitHub Actions passes a secret that is not set as an empty text: the generated publish
    workflow gives every BADGEKILN_SMTP_* secret, and an empty port was "must be a number" (an
    audit of the README, 2026-12-04), so a site needed every optional secret to send any email."""
    from badgekiln.delivery.mail import SmtpSettings

    for name in ("PORT", "SECURITY", "USER", "PASSWORD", "FROM"):
        monkeypatch.setenv(f"BADGEKILN_SMTP_{name}", " " if name == "USER" else "")  # (a space is no login name)
    monkeypatch.setenv("BADGEKILN_SMTP_HOST", host)
    settings = SmtpSettings.from_environment("badges@example.org")
    assert (settings.port, settings.security, settings.user, settings.password) == (port, security, None, None)
    assert settings.sender == "badges@example.org"
    monkeypatch.setenv("BADGEKILN_SMTP_SECURITY", " SSL ")
    assert SmtpSettings.from_environment("badges@example.org").port == 465


@pytest.mark.parametrize("host", ["192.0.2.1", "smtp.example.net", "::ffff:192.0.2.1"])
def test_a_login_over_a_plain_connection_to_another_machine_is_refused(minimal_site, run, monkeypatch, host):
    """SECURITY=none with a login sent the password across the network in base64 without a word
    (smtplib does not refuse): a hostile review of 2026-12-07 found it; now refused before any
    connection is made (192.0.2.1 answers nothing: a connection would time out, not say this)."""
    build(run, minimal_site)
    monkeypatch.setenv("BADGEKILN_SMTP_HOST", host)
    monkeypatch.setenv("BADGEKILN_SMTP_SECURITY", "none")
    monkeypatch.setenv("BADGEKILN_SMTP_USER", "office")
    monkeypatch.setenv("BADGEKILN_SMTP_PASSWORD", "s3cret-pass")
    result = run("notify", "--source", str(minimal_site), "--today", TODAY, *FAST)
    assert result.code == 1 and "Traceback" not in result.err
    assert f"the login to {host} would send the password unencrypted" in result.err
    assert "s3cret-pass" not in result.err + result.out
    assert "ann-first-1" not in read_notified(minimal_site / "site_src/notified.lock")


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST.", "127.0.0.2", "::1", "[::1]"])
def test_a_plain_login_on_this_machine_is_allowed_and_plain_by_default(monkeypatch, host):
    from badgekiln.delivery.mail import SmtpSettings

    monkeypatch.setenv("BADGEKILN_SMTP_HOST", host)
    monkeypatch.delenv("BADGEKILN_SMTP_SECURITY", raising=False)
    monkeypatch.setenv("BADGEKILN_SMTP_USER", "office")
    settings = SmtpSettings.from_environment("badges@example.org")
    assert (settings.security, settings.port, settings.user) == ("none", 25, "office")


def test_a_login_with_tls_to_another_machine_is_still_allowed(monkeypatch):
    from badgekiln.delivery.mail import SmtpSettings

    monkeypatch.setenv("BADGEKILN_SMTP_HOST", "smtp.example.net")
    monkeypatch.setenv("BADGEKILN_SMTP_USER", "office")
    for security in ("starttls", "ssl"):
        monkeypatch.setenv("BADGEKILN_SMTP_SECURITY", security)
        assert SmtpSettings.from_environment("badges@example.org").user == "office"


@pytest.mark.parametrize("port", ["abc", "5 87", "٥٨٧", "0", "65536", "9" * 5000])
def test_a_port_that_is_not_one_is_a_clear_error(minimal_site, run, monkeypatch, port):
    build(run, minimal_site)
    monkeypatch.setenv("BADGEKILN_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("BADGEKILN_SMTP_PORT", port)
    result = run("notify", "--source", str(minimal_site), "--today", TODAY, *FAST)
    assert result.code == 1 and "BADGEKILN_SMTP_PORT must be" in result.err and "Traceback" not in result.err


def test_unreachable_mail_server_is_a_clear_error(minimal_site, run, monkeypatch):
    build(run, minimal_site)
    monkeypatch.setenv("BADGEKILN_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("BADGEKILN_SMTP_PORT", "1")
    monkeypatch.setenv("BADGEKILN_SMTP_SECURITY", "none")
    result = run("notify", "--source", str(minimal_site), "--today", TODAY, *FAST)
    assert result.code == 1 and "cannot connect to the mail server 127.0.0.1:1" in result.err
    assert "Traceback" not in result.err
    assert "ann-first-1" not in read_notified(minimal_site / "site_src/notified.lock")


def test_a_refused_recipient_does_not_stop_the_batch(minimal_site, run, smtp):
    _site_with_earners(minimal_site, ["cat", "dan", "eve"])
    build(run, minimal_site)
    smtp.refuse("dan@example.com")
    result = run("notify", "--source", str(minimal_site), "--today", TODAY, *FAST)
    assert result.code == 1  # something failed
    assert sorted(smtp.recipients()) == ["ann@example.com", "cat@example.com", "eve@example.com"]
    assert smtp.attempts["dan@example.com"] == 1  # a 5xx is final: not retried
    assert "failed for dan-1 (dan@example.com): the server refused dan@example.com: 550" in result.err
    assert (
        "the server refused this address permanently: check the earner's email in recipients/dan.yaml "
        "(notify tries it again on each run" in result.err
    )
    assert "sent 3 message(s)" in result.out and "1 failed" in result.out
    assert read_notified(minimal_site / "site_src/notified.lock") == {"ann-first-1", "cat-1", "eve-1"}
    # Next run (the address was fixed on the server's side): only dan is written to.
    smtp.reset()
    again = run("notify", "--source", str(minimal_site), "--today", TODAY, *FAST)
    assert again.code == 0, again.err
    assert sorted(smtp.recipients()) == ["ann@example.com", "cat@example.com", "dan@example.com", "eve@example.com"]


def test_temporary_failures_are_retried_while_the_others_are_sent(minimal_site, run, smtp):
    _site_with_earners(minimal_site, ["cat", "dan"])
    build(run, minimal_site)
    smtp.defer("ann@example.com", times=2)  # greylisted twice (451)
    smtp.drop_early("cat@example.com", times=1)  # the connection dies before the message once
    result = run("notify", "--source", str(minimal_site), "--today", TODAY, *FAST)
    assert result.code == 0, result.err
    assert sorted(smtp.recipients()) == ["ann@example.com", "cat@example.com", "dan@example.com"]
    assert smtp.recipients()[0] != "ann@example.com"  # the others did not wait for ann's retries
    assert smtp.attempts["ann@example.com"] == 3
    assert "3 retry(ies)" in result.out
    assert read_notified(minimal_site / "site_src/notified.lock") == {"ann-first-1", "cat-1", "dan-1"}


@pytest.mark.parametrize("keep", [True, False])
def test_a_message_the_server_may_have_taken_is_never_sent_again(minimal_site, run, smtp, keep):
    """(session 43's review: a server that stored the message and hung up before its answer got it
    four times in one run, once per attempt, and again on every later run, each said "failed")"""
    _site_with_earners(minimal_site, ["cat"])
    build(run, minimal_site)
    smtp.drop("ann@example.com", times=5, keep=keep)
    result = run("notify", "--source", str(minimal_site), "--today", TODAY, *FAST)
    assert result.code == 1  # (something to look at)
    assert smtp.attempts["ann@example.com"] == 1  # (not tried again)
    assert sorted(smtp.recipients()) == (["ann@example.com", "cat@example.com"] if keep else ["cat@example.com"])
    assert (
        "maybe sent for ann-first-1 (ann@example.com): connection lost after the whole message was sent" in result.err
    )
    assert "if ann@example.com did not get it, send it again with notify --award ann-first-1" in result.err
    assert "1 maybe sent, 0 failed" in result.out and "commit site_src/notified.lock" in result.out
    assert read_notified(minimal_site / "site_src/notified.lock") == {"ann-first-1", "cat-1"}
    again = run("notify", "--source", str(minimal_site), "--today", TODAY, *FAST)
    assert again.code == 0 and smtp.attempts["ann@example.com"] == 1, again.err


def test_a_connection_lost_before_the_message_is_retried(minimal_site, run, smtp):
    build(run, minimal_site)
    smtp.drop_early("ann@example.com", times=1)
    result = run("notify", "--source", str(minimal_site), "--today", TODAY, *FAST)
    assert result.code == 0, result.err
    assert smtp.attempts["ann@example.com"] == 2 and smtp.recipients() == ["ann@example.com"]
    assert "maybe sent" not in result.err + result.out


def test_retries_are_bounded(minimal_site, run, smtp):
    _site_with_earners(minimal_site, ["cat"])
    build(run, minimal_site)
    smtp.defer("ann@example.com", times=100)
    result = run("notify", "--source", str(minimal_site), "--today", TODAY, *FAST, "--retries", "2")
    assert result.code == 1
    assert smtp.attempts["ann@example.com"] == 3
    assert "failed for ann-first-1 (ann@example.com): the server refused ann@example.com: 451" in result.err
    assert "(gave up after 3 attempts)" in result.err and "permanently" not in result.err  # (a 4xx)
    assert smtp.recipients() == ["cat@example.com"]
    assert "ann-first-1" not in read_notified(minimal_site / "site_src/notified.lock")


@pytest.mark.parametrize("behaviour", ["stall", "trickle"])
def test_a_server_that_stalls_or_trickles_is_cut_at_the_deadline(minimal_site, run, smtp, behaviour):
    """A trickle ("250-" lines every 0.2 s) never trips a socket timeout: only the deadline cuts it."""
    _site_with_earners(minimal_site, ["cat"])
    build(run, minimal_site)
    getattr(smtp, behaviour)("ann@example.com", seconds=30)
    started = time.monotonic()
    result = run("notify", "--source", str(minimal_site), "--today", TODAY, *FAST, "--retries", "0", "--timeout", "1.5")
    elapsed = time.monotonic() - started
    assert elapsed < 10, elapsed
    assert result.code == 1
    # (the server had the whole message: it may have taken it, so it is not sent again)
    assert (
        "maybe sent for ann-first-1 (ann@example.com): connection lost after the whole message was sent, "
        "before the server said whether it took it: no answer within 1.5 s" in result.err
    )
    assert smtp.recipients() == ["cat@example.com"]  # the next message went out on a new connection


def test_digest_sends_one_message_per_earner(minimal_site, run, smtp):
    write_site(
        minimal_site,
        {
            "badges/second-badge.yaml": """
            name: Second Badge
            description: The second badge.
            image: assets/badge.svg
            criteria: Did more.
        """,
            "recipients/ann.yaml": """
            name: Ann Example
            email: ann@example.com
            awards:
              - id: ann-first-1
                badge: first-badge
                issued_on: 2026-01-15
              - id: ann-second-1
                badge: second-badge
                issued_on: 2026-02-15
        """,
        },
    )
    _site_with_earners(minimal_site, ["cat"])
    build(run, minimal_site)
    result = run("notify", "--digest", "--source", str(minimal_site), "--today", TODAY, *FAST)
    assert result.code == 0, result.err
    assert "sent 2 message(s) (3 award(s))" in result.out
    assert sorted(smtp.recipients()) == ["ann@example.com", "cat@example.com"]
    message = parse(smtp.messages_to("ann@example.com")[0])
    assert message["Subject"] == "Your 2 new badges from Example Issuer"
    text = message.get_body(("plain",)).get_content()
    assert "awards/ann-first-1/" in text and "awards/ann-second-1/" in text and '"Second Badge"' in text
    assert parse(smtp.messages_to("cat@example.com")[0])["Subject"] == "Your badge: First Badge"
    assert read_notified(minimal_site / "site_src/notified.lock") == {"ann-first-1", "ann-second-1", "cat-1"}


def test_the_expiry_date_is_said_as_the_day_the_badge_expires(minimal_site, run, smtp):
    # ("valid until 1 March 2029" read as valid through that day: the badge expires as it begins,
    # and a membership's "runs until" in the same emails is the last day of it)
    write_site(
        minimal_site,
        {
            "recipients/ann.yaml": """
            name: Ann Example
            email: ann@example.com
            awards:
              - id: ann-first-1
                badge: first-badge
                issued_on: 2026-03-01
                expires: 2029-03-01
        """
        },
    )
    build(run, minimal_site)
    result = run("notify", "--source", str(minimal_site), "--today", TODAY, *FAST)
    assert result.code == 0, result.err
    message = parse(smtp.messages_to("ann@example.com")[0])
    said = "(issued 1 March 2026, expires on 1 March 2029)"
    assert said in message.get_body(("plain",)).get_content()
    assert said in message.get_body(("html",)).get_content().replace("\n", " ")
    assert "until" not in message.get_body(("plain",)).get_content()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (31, 95, 139)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_badge_art_is_inline_in_the_html_as_a_png_svg_art_drawn_as_one(minimal_site, run, smtp):
    png = _png()
    write_site(
        minimal_site,
        {
            "site_src/assets/round.png": png,
            "badges/png-badge.yaml": """
        name: Png Badge
        description: A PNG badge.
        image: assets/round.png
        criteria: Did it.
    """,
            "recipients/cat.yaml": """
        name: Cat Person
        email: cat@example.com
        awards:
          - id: cat-png-1
            badge: png-badge
            issued_on: 2026-03-01
    """,
        },
    )
    build(run, minimal_site)
    result = run("notify", "--source", str(minimal_site), "--today", TODAY, *FAST)
    assert result.code == 0, result.err
    message = parse(smtp.messages_to("cat@example.com")[0])
    assert message.get_content_type() == "multipart/alternative"
    related = message.get_payload()[1]
    assert related.get_content_type() == "multipart/related"
    html_part, image_part = related.get_payload()
    assert image_part.get_content_type() == "image/png" and image_part.get_content() == png
    cid = image_part["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html_part.get_content()
    # SVG art (the starter site's): most mail programs show no SVG, so it goes as a PNG drawn from it
    svg_message = parse(smtp.messages_to("ann@example.com")[0])
    html_part, image_part = svg_message.get_payload()[1].get_payload()
    assert image_part.get_content_type() == "image/png"
    drawn = Image.open(io.BytesIO(image_part.get_content()))
    assert drawn.format == "PNG" and drawn.width == 240
    assert f'src="cid:{image_part["Content-ID"].strip("<>")}"' in html_part.get_content()


def test_pages_are_checked_online_before_sending(tmp_path, run, smtp):
    site = tmp_path / "site"
    with StaticServer(tmp_path) as pages:
        base = f"{pages.base_url}site/output/"
        write_site(
            site,
            {
                "site_src/site.yaml": f"""
            base_url: {base}
            issuer:
              name: Example Issuer
              url: https://example.org
              email: badges@example.org
        """,
                "site_src/assets/badge.svg": SVG,
                "badges/first-badge.yaml": """
            name: First Badge
            description: The first badge.
            image: assets/badge.svg
            criteria: Did the thing.
        """,
            },
        )
        _site_with_earners(site, ["ann", "cat"])
        build(run, site)
        pages.routes["/site/output/awards/cat-1/"] = (404, {}, b"not found")  # not deployed (yet)
        result = run("notify", "--source", str(site), "--today", TODAY, "--retry-delay", "0.01")
    assert result.code == 1
    assert smtp.recipients() == ["ann@example.com"]
    assert f"not sent for cat-1: the page {base}awards/cat-1/ is not online (HTTP 404)" in result.err
    assert read_notified(site / "site_src/notified.lock") == {"ann-1"}
    assert "deploy first, or use --skip-online-check" in result.err


def test_a_starter_sites_example_address_is_named_not_the_network(minimal_site):
    """A page at the starter's badges.example.org is never online, whatever is deployed: the reason
    says to set base_url (a UX review: "Name or service not known" read as a network fault)."""
    from badgekiln.commands.notify import _offline_hint
    from badgekiln.sources.validate import load_project

    def read_site_config(site):
        return load_project(site, today=date.fromisoformat(TODAY)).config

    hint = _offline_hint(read_site_config(minimal_site))
    assert hint == (
        "'base_url' in site_src/site.yaml is still an example address (https://badges.example.org/): "
        "set it to where the site is published"
    )
    assert _offline_hint(read_site_config(publishable(minimal_site))) == "deploy first, or use --skip-online-check"


def test_progress_line_only_on_a_terminal_and_never_in_ci():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert progress_wanted(Tty(), {}) is True
    assert progress_wanted(Tty(), {"CI": "true"}) is False
    assert progress_wanted(io.StringIO(), {}) is False


def _run_in_a_terminal(command: list[str], env: dict[str, str]) -> bytes:
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: stdin, stdout and stderr are the terminal
        os.execvpe(command[0], command, env)
    output = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the terminal closed: the child is done
            break
        if not chunk:
            break
        output += chunk
    os.waitpid(pid, 0)
    os.close(fd)
    return output


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs a pseudo-terminal")
@pytest.mark.parametrize("ci", [False, True])
def test_a_terminal_shows_the_progress_line_but_not_in_ci(minimal_site, run, smtp, ci):
    _site_with_earners(minimal_site, ["cat", "dan"])
    build(run, minimal_site)
    env = _subprocess_env(smtp)
    env.pop("CI", None)
    if ci:
        env["CI"] = "true"
    command = [
        sys.executable,
        "-c",
        "from badgekiln.cli import main; main()",
        "notify",
        "--source",
        str(minimal_site),
        "--today",
        TODAY,
        *FAST,
    ]
    output = _run_in_a_terminal(command, env)
    assert b"sent 3 message(s)" in output
    assert (b"3/3" in output) is not ci  # rich's "done/total" column
    assert len(smtp.delivered) == 3


def _subprocess_env(server: SmtpServer) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(Path(badgekiln.__file__).resolve().parents[1]),
        BADGEKILN_SMTP_HOST=server.host,
        BADGEKILN_SMTP_PORT=str(server.port),
        BADGEKILN_SMTP_SECURITY="none",
    )
    return env


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT])
def test_killed_or_interrupted_mid_batch_never_sends_twice(minimal_site, run, smtp, how):
    names = ["cat", "dan", "eve", "fay", "gus"]
    _site_with_earners(minimal_site, names)
    build(run, minimal_site)
    smtp.hold("eve@example.com")  # the server says nothing about eve's message until released
    command = [
        sys.executable,
        "-c",
        "from badgekiln.cli import main; main()",
        "notify",
        "--source",
        str(minimal_site),
        "--today",
        TODAY,
        *FAST,
        "--timeout",
        "3",
    ]
    process = subprocess.Popen(command, env=_subprocess_env(smtp), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert smtp.holding.wait(60), process.communicate(timeout=5)
        before = sorted(smtp.recipients())
        process.send_signal(how)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    smtp.release()
    assert len(before) == 3 and "eve@example.com" not in before  # ann, cat, dan (in file order)
    recorded = read_notified(minimal_site / "site_src/notified.lock")
    # (a clean stop waits for the message being sent: eve's whole message was with the server,
    # which said nothing before the deadline, so it may have been delivered: recorded, and said)
    maybe = {"eve-1"} if how == signal.SIGINT else set()
    assert {
        f"{address.split('@')[0]}-1" if address != "ann@example.com" else "ann-first-1" for address in before
    } | maybe == recorded
    if how == signal.SIGINT:  # a clean stop: summary, and what is left is pending
        assert process.returncode == 130, err
        assert b"still pending" in err and b"sent 3 message(s)" in out
        assert b"maybe sent for eve-1 (eve@example.com)" in err and b"1 maybe sent" in out
    smtp.reset()
    again = run("notify", "--source", str(minimal_site), "--today", TODAY, *FAST)
    assert again.code == 0, again.err
    received = smtp.recipients()
    expected = ["ann@example.com"] + [f"{n}@example.com" for n in names if f"{n}-1" not in maybe]
    assert sorted(received) == sorted(expected)  # each once


def test_a_lock_line_cut_short_by_a_crash_does_not_count_and_is_repaired(tmp_path):
    from datetime import date

    from badgekiln.sources.notified import HEADER, NotifiedLock

    path = tmp_path / "notified.lock"
    path.write_text(HEADER + "ann-first-1\t2026-11-01\nbo-fi", encoding="utf-8")  # power cut mid-line
    assert read_notified(path) == {"ann-first-1"}
    with NotifiedLock(path) as lock:
        assert path.read_text(encoding="utf-8") == HEADER + "ann-first-1\t2026-11-01\n"  # repaired first
        lock.record(("bo-first-1", "bo-second-1"), date(2026, 11, 22))
    assert path.read_text(encoding="utf-8").endswith("bo-first-1\t2026-11-22\nbo-second-1\t2026-11-22\n")
    assert read_notified(path) == {"ann-first-1", "bo-first-1", "bo-second-1"}
    assert [p.name for p in tmp_path.iterdir()] == ["notified.lock"]  # no temporary file left


@pytest.mark.parametrize(
    ("tail", "counted"),
    [
        ("bo-first-1\t2026-11-21", {"bo-first-1"}),  # whole: an editor or a merge dropped its newline
        ("bo-first-1\t2026-11-21\r", {"bo-first-1"}),
        ("bo-first-1\t2026-11-2", set()),  # cut inside the day
        ("bo-first-1\t2026-11-21\treminder P60D 2027-0", set()),  # cut inside a longer line
        ("bo-first-1\t2026-11-21\treminder P60D", set()),  # (an old reminder's form, but it may be cut)
        ("bo-first-1\t2026-11-21\trevoked", set()),
        ("# a comment", set()),
    ],
)
def test_a_whole_last_line_without_its_newline_counts_and_is_kept(tmp_path, tail, counted):
    """A review (2026-12-07): a last line whose newline was dropped was taken for one a crash cut
    short, left out when repairing the file, and its earner emailed again on the next run."""
    from datetime import date

    from badgekiln.sources.notified import HEADER, NotifiedLock, read_reminders, read_revocation_notices

    path = tmp_path / "notified.lock"
    path.write_text(HEADER + "ann-first-1\t2026-11-01\n" + tail, encoding="utf-8", newline="")
    assert read_notified(path) == {"ann-first-1", *counted}
    assert read_reminders(path) == {} and read_revocation_notices(path) == {}
    with NotifiedLock(path) as lock:
        lock.record(("cy-first-1",), date(2026, 11, 22))
    assert read_notified(path) == {"ann-first-1", "cy-first-1", *counted}
    kept = "bo-first-1\t2026-11-21\n" if counted else ""
    assert path.read_text(encoding="utf-8").endswith("ann-first-1\t2026-11-01\n" + kept + "cy-first-1\t2026-11-22\n")


def test_whole_last_lines_of_news_count_without_their_newline(tmp_path):
    from badgekiln.sources.notified import read_reminders, read_revocation_notices, read_suspension_notices

    path = tmp_path / "notified.lock"
    for tail, reader, expected in [
        ("a\t2026-11-02\treminder P60D 2027-01-15", read_reminders, {("a", "P60D", "2027-01-15"): "2026-11-02"}),
        (
            "a\t2026-11-03\tsuspended 2026-11-01",
            read_suspension_notices,
            {("a", "suspended", "2026-11-01"): "2026-11-03"},
        ),
        ("a\t2026-11-04\trevoked 2026-11-02", read_revocation_notices, {"a": "2026-11-04"}),
    ]:
        path.write_text("# badgekiln\n" + tail, encoding="utf-8")
        assert reader(path) == expected


def test_the_page_check_has_an_overall_deadline_and_follows_no_redirect():
    """A host that answers a header line every 0.2 s never trips a socket timeout; the check
    still ends at its deadline."""
    import socket
    import threading

    from badgekiln.commands.notify import check_pages_online

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(connection,), daemon=True).start()

    def answer(connection):
        with connection:
            request = connection.recv(65536)
            try:
                if b"/moved/" in request:
                    connection.sendall(
                        b"HTTP/1.1 301 Moved\r\nLocation: https://elsewhere.example/\r\nContent-Length: 0\r\n\r\n"
                    )
                    return
                connection.sendall(b"HTTP/1.1 200 OK\r\n")
                while not stop.is_set():
                    connection.sendall(b"X-Still: working\r\n")
                    time.sleep(0.2)
            except OSError:
                return

    threading.Thread(target=serve, daemon=True).start()
    try:
        started = time.monotonic()
        problems = check_pages_online(
            [f"http://127.0.0.1:{port}/awards/a/", f"http://127.0.0.1:{port}/moved/"], timeout=1.0
        )
        assert time.monotonic() - started < 5
    finally:
        stop.set()
        listener.close()
    assert problems == {
        f"http://127.0.0.1:{port}/awards/a/": "no answer within 1 s",
        f"http://127.0.0.1:{port}/moved/": "HTTP 301 (redirects to https://elsewhere.example/)",
    }


@pytest.mark.parametrize("target", ["outside-file", "fifo"])
def test_a_notified_lock_that_is_a_link_or_special_file_is_never_read_or_written(
    minimal_site, run, smtp, tmp_path, target
):
    """A pull request replacing site_src/notified.lock with a link (say to ~/.bashrc) must not make
    notify append to that file, nor a FIFO make it hang."""
    build(run, minimal_site)
    lock = minimal_site / "site_src/notified.lock"
    outside = tmp_path / "victim.txt"
    outside.write_text("precious\n")
    if target == "fifo":
        os.mkfifo(lock)
    else:
        lock.symlink_to(outside)
    result = run("notify", "--source", str(minimal_site), "--today", TODAY, "--skip-online-check")
    assert result.code != 0 and "notified.lock" in result.err
    assert outside.read_text() == "precious\n"
    assert smtp.recipients() == []


def test_a_socket_timeout_that_comes_before_the_watchdog_is_the_deadline_too(smtp, monkeypatch):
    # (CI on a busy machine: the watchdog's thread ran after the socket's own timeout, which is the
    # deadline, and a stalled server was reported "Connection unexpectedly closed: timed out")
    from email.message import EmailMessage

    from badgekiln.delivery import mail

    monkeypatch.setattr(mail.Watchdog, "_fire", lambda self: None)  # (a timer thread that never runs)
    smtp.stall("ann@example.com", seconds=30)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "badges@example.org", "ann@example.com", "x"
    message.set_content("x")
    settings = mail.SmtpSettings(smtp.host, smtp.port, "none", None, None, "badges@example.org")
    with mail.Mailer(settings, deadline=1.0) as mailer, pytest.raises(mail.DeliveryFailure) as failed:
        mailer.send(message, to="ann@example.com")
    assert str(failed.value).endswith(": no answer within 1 s") and failed.value.maybe_sent


def test_a_password_that_is_not_ascii_is_said_so_without_showing_it(monkeypatch):
    # (a review: "'ascii' codec can't encode character '\\xe4' in position 4", a character of the
    # password and its place, in CI's log)
    from badgekiln.delivery import mail

    with SmtpServer(login=("badges", "geheim")) as server:
        settings = mail.SmtpSettings(server.host, server.port, "none", "badges", "gäheim", "badges@example.org")
        with mail.Mailer(settings, deadline=5) as mailer, pytest.raises(ConfigError) as refused:
            mailer.connect()
        assert (
            "not ASCII" in str(refused.value) and "ä" not in str(refused.value) and "position" not in str(refused.value)
        )
        right = mail.SmtpSettings(server.host, server.port, "none", "badges", "geheim", "badges@example.org")
        with mail.Mailer(right, deadline=5) as mailer:
            mailer.connect()


def test_a_server_that_echoes_the_login_does_not_put_the_password_in_the_log():
    from badgekiln.delivery import mail

    settings = mail.SmtpSettings("mail.example.org", 587, "starttls", "badges", "s3cr3t-pass", "badges@example.org")
    mailer = mail.Mailer(settings)
    plain = base64.b64encode(b"\0badges\0s3cr3t-pass").decode()
    login = base64.b64encode(b"s3cr3t-pass").decode()
    echoed = mailer._scrubbed(f"535 bad credentials: {plain} / {login.rstrip('=')} / s3cr3t-pass")
    assert "s3cr3t" not in echoed and plain not in echoed and login.rstrip("=") not in echoed
    assert echoed.count("[hidden]") == 3


@pytest.mark.parametrize("option", ["--timeout", "--retry-delay"])
@pytest.mark.parametrize("value", ["nan", "inf"])
def test_seconds_that_are_not_a_number_are_a_usage_error(minimal_site, run, option, value):
    # (a review: --timeout nan made "no answer within nan s" of a refused connection; --retry-delay nan waited 600 s)
    result = run("notify", "--dry-run", "--source", str(minimal_site), "--today", TODAY, option, value)
    assert result.code == 2 and "is not a number of seconds" in result.err or "not in the range" in result.err, (
        result.err
    )


@pytest.mark.parametrize("password, pad", [("S3cretPassw0rdLong", 258), ("abc  def=?ghi", 10)])
def test_a_refused_login_that_echoes_the_password_shows_none_of_it(password, pad):
    # (the second review: the answer was cut at 300 characters and its spaces folded before the
    # password was looked for, so 16 of 18 characters, or a password with two spaces, went through)
    import socket
    import threading

    from badgekiln.delivery import mail

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def answer() -> None:
        conn, _ = server.accept()
        lines = conn.makefile("rb")
        conn.sendall(b"220 hi\r\n")
        while line := lines.readline():
            if line[:4].upper() == b"EHLO":
                conn.sendall(b"250-hi\r\n250 AUTH PLAIN\r\n")
            elif line[:4].upper() == b"AUTH":
                login = base64.b64decode(line.split()[-1]).replace(b"\0", b" ")
                conn.sendall(b"535 " + b"x" * pad + b" bad credentials " + login + b"\r\n")
            else:
                conn.sendall(b"250 ok\r\n")
        conn.close()

    threading.Thread(target=answer, daemon=True).start()
    settings = mail.SmtpSettings("127.0.0.1", server.getsockname()[1], "none", "bob", password, "from@example.org")
    with pytest.raises(ConfigError) as refused:
        mail.Mailer(settings, deadline=5).connect()
    server.close()
    shown = str(refused.value)
    assert "refused the login" in shown
    assert password[:8] not in shown and password[-8:] not in shown and "def" not in shown.split("credentials")[-1], (
        shown
    )


@pytest.mark.parametrize(
    "html, hidden",
    [
        ('<img src="https:evil.example/noslash.png">', "https:evil.example/noslash.png"),
        ('<img src="https:\\evil.example/back.png">', "evil.example/back.png"),  # (a backslash: read as a slash)
        (
            '<img src="https://badges.example.org&#9;.evil.example/tab.png">',
            "https://badges.example.org.evil.example/tab.png",
        ),
        (
            '<style>p{background:url("https://badges.example.org\\\n.evil.example/c.png")}</style>',
            "https://badges.example.org.evil.example/c.png",
        ),
    ],
)
def test_the_dry_runs_list_reads_addresses_as_a_browser_does(html, hidden):
    # (a second review: a tab or CSS line continuation inside an address made a foreign one pass as
    # the site's; "https:evil", "https:\\evil" were not found at all)
    from email.message import EmailMessage

    from badgekiln.commands.notify import html_references

    message = EmailMessage()
    message.set_content("x")
    message.add_alternative(html, subtype="html")
    lines = html_references(message, ("https://badges.example.org/",))
    assert any(hidden in line and line.endswith("  (not this site's: check it)") for line in lines), lines


def test_the_dry_run_takes_the_sites_host_in_any_case_and_its_path_as_written():
    # (a review, 2026-12-07: 'HTTPS://Badges.Example.org/…' was marked "not this site's", a false
    # alarm; the host and scheme are read in any case, the path is not)
    from email.message import EmailMessage

    from badgekiln.commands.notify import html_references

    message = EmailMessage()
    message.set_content("x")
    message.add_alternative(
        '<a href="HTTPS://Badges.Example.ORG/awards/a/">a</a> <a href="https://badges.example.org/Awards/b/">b</a>'
        '<a href="https://BADGES.example.org.evil.example/c/">c</a>',
        subtype="html",
    )
    lines = html_references(message, ("https://badges.example.org/awards/",))
    assert "  links to: HTTPS://Badges.Example.ORG/awards/a/" in lines
    assert "  links to: https://badges.example.org/Awards/b/  (not this site's: check it)" in lines
    assert "  links to: https://BADGES.example.org.evil.example/c/  (not this site's: check it)" in lines
