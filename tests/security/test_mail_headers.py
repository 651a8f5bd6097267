"""Email header injection (docs/security.md T11): no text from the sources can add a header or a
recipient to a message `notify` sends, or crash it. Every case goes through a real SMTP server on
loopback and checks both the envelope the server saw and the raw header block it received."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from conftest import TODAY, build, write_site

from badgekiln.delivery.mail import (
    MailAddressError,
    Mailer,
    RetryPolicy,
    SmtpSettings,
    build_message,
    header_text,
    mailbox,
)
from tests.support.smtp_server import SmtpServer

EXPECTED_HEADERS = {
    "from",
    "to",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "auto-submitted",
    "mime-version",
    "content-type",
}

# (The attacker's addresses have a domain without a dot: texts of recipient files may hold no
# email address at all, so a dotted one would be refused before it reached a message.)
ATTACKS = {
    "crlf-bcc": "Mallory\r\nBcc: evil@attacker",
    "lf-header": "Mallory\nX-Injected: yes",
    "cr-only": "Mallory\rTo: evil@attacker",
    "u2028": "Mallory\u2028Bcc: evil@attacker",
    "u2029": "Mallory\u2029Cc: evil@attacker",
    "nel-u0085": "Mallory\x85Bcc: evil@attacker",
    "nul": "Mallory\x00Bcc: evil@attacker",
    "other-controls": "Mal\x1b[31mlory\x0b\x0c\x1c\x1d\x1e\x7f\x9b",
    "bidi-override": "\u202eyrollaM\u202c",
    "address-lookalike": 'Mallory <evil@attacker>, "x" <evil2@attacker>',
    "encoded-word": "=?utf-8?q?Mallory=0D=0ABcc:_evil@attacker?=",
    "very-long": "M" * 100_000 + "\r\nBcc: evil@attacker",
}


def header_block(raw: bytes) -> list[str]:
    """The raw header lines, unfolded (continuation lines joined to their header)."""
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("ascii")  # headers are 7-bit
    lines: list[str] = []
    for line in head.split("\n"):
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += line
        else:
            lines.append(line)
    return lines


def assert_clean(server: SmtpServer, *, to: str, sender: str) -> list[str]:
    assert server.recipients() == [to]
    assert server.mail_from == [sender]
    raw = server.messages_to(to)[0]
    lines = header_block(raw)
    names = [line.split(":", 1)[0].lower() for line in lines]
    assert all(re.fullmatch(r"[a-z-]+", name) for name in names), lines
    assert set(names) == EXPECTED_HEADERS and len(names) == len(set(names)), names
    assert "attacker" not in next(line for line in lines if line.lower().startswith("to:")).lower().split("<")[-1]
    return lines


def send_and_check(server: SmtpServer, message, *, to: str) -> list[str]:
    """Send ``message`` to ``to`` through ``server`` as badgekiln's mailer does (issuer's address as
    sender) and return its header lines, checked by :func:`assert_clean`."""
    settings = SmtpSettings(server.host, server.port, "none", None, None, "badges@example.org")
    with Mailer(settings, deadline=10) as mailer:
        mailer.send(message, to=to)
    return assert_clean(server, to=to, sender="badges@example.org")


@pytest.mark.parametrize("text", ATTACKS.values(), ids=ATTACKS.keys())
@pytest.mark.parametrize("where", ["earner", "issuer", "subject"])
def test_hostile_text_cannot_add_a_header_or_a_recipient(smtp, text, where):
    """Straight through the library (CR and LF cannot get past the YAML checks; the library must
    not rely on that)."""
    names = {"earner": "Ann", "issuer": "Issuer", "subject": "Your badge"}
    names[where] = text
    message = build_message(
        sender=mailbox(names["issuer"], "badges@example.org"),
        to=mailbox(names["earner"], "ann@example.com"),
        reply_to=mailbox(names["issuer"], "badges@example.org"),
        subject=names["subject"],
        text="hello",
        html="<p>hello</p>",
        now=datetime(2026, 11, 22, tzinfo=UTC),
    )
    settings = SmtpSettings(smtp.host, smtp.port, "none", None, None, "badges@example.org")
    with Mailer(settings, deadline=10) as mailer:
        mailer.send(message, to="ann@example.com")
    lines = assert_clean(smtp, to="ann@example.com", sender="badges@example.org")
    assert max(len(line) for line in lines) < 2000  # capped, not 100,000 characters


def test_header_text_is_one_visible_line():
    for text in ATTACKS.values():
        cleaned = header_text(text)
        assert cleaned.isprintable() and len(cleaned) <= 200
        assert not any(c in cleaned for c in "\r\n\x00\x85\u2028\u2029\u202e")
    assert header_text("Zoë 👩\u200d🔬 Nguyễn") == "Zoë 👩\u200d🔬 Nguyễn"  # joiners in emoji are kept


@pytest.mark.parametrize(
    "address",
    [
        "ann@example.com\r\nBcc: evil@attacker",
        "ann@example.com\u2028",
        "ann@example.com, evil@attacker",
        "Ann <ann@example.com>",
        "ann@example.com (comment)",
        "ann@@example.com",
        "ann",
        "@example.com",
        "ann@",
        "a\x00nn@example.com",
        "ann@exam ple.com",
        "a" * 250 + "@example.com",
        "=?utf-8?q?evil=0D=0ABcc=3A_x=40y.z?=@example.com",
        "=?utf-8?q?ann?=@example.com",
    ],
)
def test_only_one_plain_address_is_accepted(address):
    with pytest.raises(MailAddressError):
        mailbox("Ann", address)


def test_hostile_names_from_the_sources_are_refused_before_notify(minimal_site, run, smtp):
    """The line separators U+2028 and U+2029 in the issuer's, the badge's and the earner's names
    (which go into From, Subject and To) are refused by validation, as U+0085 and CR/LF are, each
    at its file and line; the mail layer strips them too (above), and nothing is sent."""
    write_site(
        minimal_site,
        {
            "site_src/site.yaml": """
            base_url: https://badges.example.org/
            issuer:
              name: "Example Issuer\\u2028Bcc: evil@attacker"
              url: https://example.org
              email: badges@example.org
        """,
            "badges/first-badge.yaml": """
            name: "First Badge\\u2029Bcc: evil2@attacker"
            description: The first badge.
            image: assets/badge.svg
            criteria: Did the thing.
        """,
            "recipients/ann.yaml": """
            name: "Ann\\u2029Bcc: evil3@attacker\\u2028Cc: evil4@attacker"
            email: ann@example.com
            awards:
              - id: ann-first-1
                badge: first-badge
                issued_on: 2026-01-15
        """,
        },
    )
    built = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert built.code == 1
    for where, code in (
        ("site_src/site.yaml:3", "2028"),
        ("badges/first-badge.yaml:1", "2029"),
        ("recipients/ann.yaml:1", "2029"),
    ):
        assert f"{where}:" in built.err and f"U+{code}, a line or paragraph separator" in built.err, (where, built.err)
    result = run("notify", "--source", str(minimal_site), "--today", TODAY, "--skip-online-check")
    assert result.code == 1 and "U+2029" in result.err
    assert smtp.recipients() == []


@pytest.mark.parametrize(
    "value",
    [
        "badges@example.org\r\nBcc: evil@attacker",
        "a@b.c, evil@attacker",
        "Evil <evil@attacker>",
    ],
)
def test_a_hostile_configured_sender_is_refused_before_sending(minimal_site, run, smtp, monkeypatch, value):
    build(run, minimal_site)
    monkeypatch.setenv("BADGEKILN_SMTP_FROM", value)
    result = run("notify", "--source", str(minimal_site), "--today", TODAY, "--skip-online-check")
    assert result.code == 1 and "is not one plain email address" in result.err
    assert "Traceback" not in result.err
    assert smtp.delivered == [] and sum(smtp.attempts.values()) == 0


def test_retry_policy_waits_grow_and_are_capped():
    policy = RetryPolicy(retries=5, delay=2, max_delay=5)
    assert [policy.wait(n) for n in (1, 2, 3, 4)] == [2, 4, 5, 5]


# A long display name holding specials: the library's folding drops the quotes they need, and the
# header then reads as a group with a second mailbox (CPython 3.11-3.13). These pass the source
# checks (none holds a plain address the published-text check finds) and reach From, To, Reply-To.
FOLDING_ATTACKS = [
    "Akira Tanaka:reply(x)@evil.example,Akira Tanaka " + "x" * 48,
    'Akira:"reply"@evil.example,' + "_" * 70,
    "Akira:reply@[203.0.113.5]," + "_" * 70,
    "Akira:reply@(x)evil.example," + "_" * 70,
]


@pytest.mark.parametrize("name", FOLDING_ATTACKS)
def test_a_long_name_with_specials_cannot_add_a_mailbox_when_folded(smtp, name):
    import email
    import email.policy

    message = build_message(
        sender=mailbox(name, "badges@example.org"),
        to=mailbox(name, "ann@example.com"),
        reply_to=mailbox(name, "badges@example.org"),
        subject="Your badge",
        text="hello",
        html="<p>hello</p>",
        now=datetime(2026, 11, 22, tzinfo=UTC),
    )
    send_and_check(smtp, message, to="ann@example.com")
    received = email.message_from_bytes(smtp.messages_to("ann@example.com")[0], policy=email.policy.default)
    for header, address in (
        ("From", "badges@example.org"),
        ("To", "ann@example.com"),
        ("Reply-To", "badges@example.org"),
    ):
        assert [a.addr_spec for a in received[header].addresses] == [address], (header, str(received[header]))
    # an ordinary name with a comma or parentheses keeps them (quoted or encoded by the library)
    plain = build_message(
        sender=mailbox("Northwind Training", "badges@example.org"),
        to=mailbox("O'Brien, Zoë (Dr.)", "ann@example.com"),
        reply_to=None,
        subject="s",
        text="t",
        html="<p>t</p>",
        now=datetime(2026, 11, 22, tzinfo=UTC),
    )
    assert plain["To"].addresses[0].display_name == "O'Brien, Zoë (Dr.)"


def test_a_name_that_folds_badly_does_not_crash_notify(minimal_site, run, smtp):
    """Python's header parser fails on some folded names (AttributeError, IndexError...): the
    name is then left out of the header, and the message still goes (a review: notify stopped)."""
    name = ". Smith; " + "x" * 70
    write_site(
        minimal_site,
        {
            "recipients/ann.yaml": f"""
            name: "{name}"
            email: ann@example.com
            awards:
              - id: ann-first-1
                badge: first-badge
                issued_on: 2026-01-15
        """,
        },
    )
    build(run, minimal_site)
    result = run("notify", "--source", str(minimal_site), "--today", TODAY, "--skip-online-check")
    assert "Traceback" not in result.err and result.code == 0, (result.code, result.err[-2000:])
    assert smtp.recipients() == ["ann@example.com"]


def test_a_long_name_with_specials_cannot_add_a_mailbox_when_sent_as_smtputf8():
    """A server that offers SMTPUTF8 (Postfix, Exim, Gmail...) and an earner at an IDN domain:
    smtplib then serializes with utf8=True, which folds otherwise than as_string()."""
    import email
    import email.policy

    from badgekiln.delivery.mail import Mailer, SmtpSettings

    name = "Zoë:reply(x)@evil.example,Zoë " + "x" * 60
    to = "ann@exämple.com"
    with SmtpServer(smtputf8=True) as server:
        message = build_message(
            sender=mailbox(name, "badges@example.org"),
            to=mailbox(name, to),
            reply_to=mailbox(name, "badges@example.org"),
            subject="Your badge",
            text="hello",
            html="<p>hello</p>",
            now=datetime(2026, 11, 22, tzinfo=UTC),
        )
        settings = SmtpSettings(server.host, server.port, "none", None, None, "badges@example.org")
        with Mailer(settings, deadline=10) as mailer:
            mailer.send(message, to=to)
        raw = server.messages_to(to)[0]
    received = email.message_from_string(raw.decode("utf-8"), policy=email.policy.default)
    for header, address in (("From", "badges@example.org"), ("To", to), ("Reply-To", "badges@example.org")):
        assert [a.addr_spec for a in received[header].addresses] == [address], (header, str(received[header]))
