"""notify: real SMTP delivery to a real local SMTP server (aiosmtpd), once per award."""

import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink

from conftest import TODAY, build, write_site


class Recorder(Sink):
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp(monkeypatch):
    handler = Recorder()
    with socket.socket() as probe:  # a free port: aiosmtpd's start-up check cannot use port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("BADGEKILN_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("BADGEKILN_SMTP_PORT", str(port))
    monkeypatch.setenv("BADGEKILN_SMTP_SECURITY", "none")
    yield handler
    controller.stop()


def _site_with_two_earners(site):
    write_site(site, {"recipients/bo.yaml": """
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
    """})
    return site


def test_notify_sends_one_message_per_new_award_then_none(minimal_site, run, smtp):
    _site_with_two_earners(minimal_site)
    build(run, minimal_site)
    result = run("notify", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err
    assert "sent 2 message(s)" in result.out
    assert "not sent for bo-revoked-1: revoked" in result.err
    assert sorted(rcpt for e in smtp.envelopes for rcpt in e.rcpt_tos) == ["ann@example.com", "bo@example.com"]
    bo = next(e for e in smtp.envelopes if e.rcpt_tos == ["bo@example.com"])
    message = message_from_bytes(bo.content, policy=policy.default)
    assert message["Subject"] == "Your badge: First Badge"
    assert message["From"].addresses[0].addr_spec == "badges@example.org"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "https://badges.example.org/awards/bo-first-1/" in text
    assert "Hello Bo O'Brien <Esq>," in text  # plain text is not HTML-escaped
    assert "Bo O&#39;Brien &lt;Esq&gt;" in html  # HTML is
    assert "your name is not shown on the page" in text
    assert "linkedin.com/profile/add" in text
    lock = (minimal_site / "site_src/notified.lock").read_text()
    assert "ann-first-1\t2026-11-22" in lock and "bo-first-1\t2026-11-22" in lock
    again = run("notify", "--source", str(minimal_site), "--today", TODAY)
    assert "sent 0 message(s)" in again.out and len(smtp.envelopes) == 2


def test_awards_not_built_yet_are_not_announced(minimal_site, run, smtp):
    result = run("notify", "--source", str(minimal_site), "--today", TODAY)
    assert "not sent for ann-first-1: not built yet" in result.err
    assert smtp.envelopes == []


def test_dry_run_sends_nothing_and_records_nothing(minimal_site, run, smtp):
    build(run, minimal_site)
    result = run("notify", "--dry-run", "--source", str(minimal_site), "--today", TODAY)
    assert "To: Ann Example <ann@example.com>" in result.out and "1 message(s) would be sent" in result.out
    assert smtp.envelopes == [] and not (minimal_site / "site_src/notified.lock").exists()


def test_unreachable_mail_server_is_a_clear_error(minimal_site, run, monkeypatch):
    build(run, minimal_site)
    monkeypatch.setenv("BADGEKILN_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("BADGEKILN_SMTP_PORT", "1")
    monkeypatch.setenv("BADGEKILN_SMTP_SECURITY", "none")
    result = run("notify", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "cannot connect to the mail server 127.0.0.1:1" in result.err
    assert "Traceback" not in result.err
    lock = minimal_site / "site_src/notified.lock"
    assert not lock.exists() or "ann-first-1" not in lock.read_text()
