"""Emails to earners: building the message (pure) and delivering it over SMTP (the IO edge).

SMTP settings come from the environment, never from the repository:
``BADGEKILN_SMTP_HOST`` (required), ``BADGEKILN_SMTP_PORT`` (default 587 with STARTTLS, 465 with
SSL, else 25), ``BADGEKILN_SMTP_SECURITY`` (``starttls``, ``ssl`` or ``none``; default ``starttls``
unless the host is local), ``BADGEKILN_SMTP_USER``/``BADGEKILN_SMTP_PASSWORD`` (optional) and
``BADGEKILN_SMTP_FROM`` (default: the issuer's email).
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from .errors import ConfigError

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the provider's mail server."""

    host: str
    port: int
    security: str  # starttls | ssl | none
    user: str | None
    password: str | None
    sender: str

    @classmethod
    def from_environment(cls, default_sender: str) -> "SmtpSettings":
        """Read the ``BADGEKILN_SMTP_*`` variables."""
        env = os.environ
        host = env.get("BADGEKILN_SMTP_HOST", "").strip()
        if not host:
            raise ConfigError("set BADGEKILN_SMTP_HOST (and BADGEKILN_SMTP_USER/PASSWORD if your server needs them) "
                              "to send email, or use --dry-run to see the messages")
        security = env.get("BADGEKILN_SMTP_SECURITY", "none" if host in LOCAL_HOSTS else "starttls").lower()
        if security not in ("starttls", "ssl", "none"):
            raise ConfigError("BADGEKILN_SMTP_SECURITY must be starttls, ssl or none")
        default_port = {"starttls": 587, "ssl": 465, "none": 25}[security]
        try:
            port = int(env.get("BADGEKILN_SMTP_PORT", default_port))
        except ValueError:
            raise ConfigError("BADGEKILN_SMTP_PORT must be a number") from None
        return cls(host, port, security, env.get("BADGEKILN_SMTP_USER") or None,
                   env.get("BADGEKILN_SMTP_PASSWORD") or None, env.get("BADGEKILN_SMTP_FROM") or default_sender)


def build_message(*, sender_name: str, sender: str, to_name: str, to: str, subject: str, text: str, html: str,
                  domain: str) -> EmailMessage:
    """A multipart (plain text + HTML) message."""
    message = EmailMessage()
    message["From"] = formataddr((sender_name, sender))
    message["To"] = formataddr((to_name, to))
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


class Mailer:
    """An open SMTP connection; use as a context manager."""

    def __init__(self, settings: SmtpSettings, *, timeout: float = 30.0):
        self.settings = settings
        self.timeout = timeout
        self.client: smtplib.SMTP | None = None

    def __enter__(self) -> "Mailer":
        s = self.settings
        try:
            if s.security == "ssl":
                self.client = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout,
                                               context=ssl.create_default_context())
            else:
                self.client = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
                if s.security == "starttls":
                    self.client.starttls(context=ssl.create_default_context())
            if s.user:
                self.client.login(s.user, s.password or "")
        except (OSError, smtplib.SMTPException) as exc:
            raise ConfigError(f"cannot connect to the mail server {s.host}:{s.port}: {exc}") from None
        return self

    def send(self, message: EmailMessage) -> None:
        """Send one message; raises ConfigError with the server's answer when it is refused."""
        assert self.client is not None
        try:
            self.client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise ConfigError(f"the mail server refused the message to {message['To']}: {exc}") from None

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            try:
                self.client.quit()
            except (OSError, smtplib.SMTPException):
                self.client.close()
