"""Helpers of the tests that send mail with `badgekiln notify` (to the local SMTP server of
tests/support/smtp_server.py)."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

FAST = ("--skip-online-check", "--retry-delay", "0.01")  # no check of the published site, no wait between tries


def notify(run, site: Path, day: str, *extra: str):
    """Run `badgekiln notify` on ``site`` for ``day``."""
    return run("notify", "--source", str(site), "--today", day, *FAST, *extra)


def parse(raw: bytes) -> EmailMessage:
    """A message as the SMTP server received it."""
    return message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def lock(site: Path) -> Path:
    """The site's record of the mail it sent."""
    return site / "site_src/notified.lock"
