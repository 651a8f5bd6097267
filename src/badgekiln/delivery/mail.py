"""Emails to earners: building the message (pure) and delivering it over SMTP (the IO edge).

SMTP settings come from the environment, never from the repository:
``BADGEKILN_SMTP_HOST`` (required), ``BADGEKILN_SMTP_PORT`` (default 587 with STARTTLS, 465 with
SSL, else 25), ``BADGEKILN_SMTP_SECURITY`` (``starttls``, ``ssl`` or ``none``; default ``starttls``
unless the host is local), ``BADGEKILN_SMTP_USER``/``BADGEKILN_SMTP_PASSWORD`` (optional) and
``BADGEKILN_SMTP_FROM`` (default: the issuer's email).

Headers are built by the standard library's header registry, never by joining strings: every
text that reaches a header (issuer, badge and earner names, the subject) first goes through
:func:`header_text`, which turns control characters, line and paragraph separators (CR, LF, NUL,
U+0085, U+2028, U+2029, ...) and invisible formatting characters into spaces and caps the length,
and addresses go through :func:`mailbox`, which accepts exactly one plain ``local@domain``. The
envelope (``MAIL FROM`` and ``RCPT TO``) is given to the server explicitly: the configured sender
and the one earner, whatever the headers say.
"""

from __future__ import annotations

import base64
import heapq
import ipaddress
import os
import smtplib
import socket
import ssl
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_string
from email import policy as email_policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Generic, Protocol, TypeVar

from badgekiln.errors import ConfigError

NAME_LIMIT = 100  # characters of a display name in From/To/Reply-To
SUBJECT_LIMIT = 200  # characters of a subject
REASON_LIMIT = 300  # characters of a server's answer quoted in a report
# Joiners kept in names: they are part of emoji and of some scripts' spelling, and harmless.
_KEPT_FORMAT_CHARACTERS = {"\u200c", "\u200d"}


class MailAddressError(ValueError):
    """An address that is not exactly one plain ``local@domain``."""


def header_text(value: str, *, limit: int = SUBJECT_LIMIT) -> str:
    """``value`` made safe for a header: one line of visible text, at most ``limit`` characters.

    Every control character (C0 and C1: CR, LF, NUL, U+0085, ...), line and paragraph separator
    (U+2028, U+2029), other whitespace and invisible formatting character (bidirectional
    overrides, ...) becomes a space; runs of spaces become one; ``=?`` (the start of an RFC 2047
    encoded word, which the library would decode) becomes ``= ?``; longer text is cut with an
    ellipsis.
    """
    spaced = "".join(" " if _invisible(c) else c for c in value)
    # The library decodes RFC 2047 encoded words ("=?utf-8?q?...=0D=0A...?=") found in a value,
    # even inside a quoted display name, and writes what they decode to (CR LF included) when it
    # folds the header: text must never look like one.
    text = " ".join(spaced.split()).replace("=?", "= ?")
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _invisible(character: str) -> bool:
    if character.isspace():
        return True
    category = unicodedata.category(character)
    if category == "Cf":
        return character not in _KEPT_FORMAT_CHARACTERS
    return category in ("Cc", "Cs", "Co", "Cn", "Zl", "Zp")


def mailbox(name: str | None, address: str) -> Address:
    """A mailbox whose display name the library encodes (RFC 2047 and quoting as needed).

    Raises:
        MailAddressError: ``address`` is not exactly one plain ``local@domain`` (no display name,
            no list, no comment, no space or control character, at most 254 characters).
    """
    if (
        not isinstance(address, str)
        or not 3 <= len(address) <= 254
        or address.count("@") != 1
        or "=?" in address
        or any(_invisible(c) or c in '<>()[],;:"\\' for c in address)
    ):
        raise MailAddressError(f"not a plain email address: {address!r}")
    try:
        parsed = Address(addr_spec=address)
    except (ValueError, IndexError, HeaderParseError) as exc:
        raise MailAddressError(f"not a plain email address: {address!r} ({exc})") from None
    if parsed.addr_spec != address or not parsed.username or not parsed.domain:
        raise MailAddressError(f"not a plain email address: {address!r}")
    return Address(
        display_name=header_text(name or "", limit=NAME_LIMIT), username=parsed.username, domain=parsed.domain
    )


_ADDRESS_SPECIALS = str.maketrans({c: " " for c in '()<>@,;:\\"[]'})


def _reads_back_as(name: str, address: Address) -> bool:
    """Whether header ``name`` set to ``address``, folded as it will be sent, parses back as that
    one mailbox and nothing else."""
    # Folded both ways it can be sent: smtplib.send_message serializes with utf8=True (non-ASCII
    # left as is, not RFC 2047 encoded) when an envelope address is not ASCII (an IDN domain) and
    # the server offers SMTPUTF8, and that folds otherwise.
    for utf8 in (False, True):
        probe = EmailMessage(policy=email_policy.default.clone(utf8=utf8))  # (build_message's policy: the default)
        probe[name] = address
        try:
            parsed = message_from_string(probe.as_string(), policy=email_policy.default)[name]  # (folded as sent)
            found: tuple[Address, ...] = getattr(parsed, "addresses", ())
            if not (len(found) == 1 and found[0].addr_spec == address.addr_spec):
                return False
        except Exception:  # noqa: BLE001 - the library's parser fails on some folded names (AttributeError, IndexError...)
            return False
    return True


def _folded_safely(name: str, address: Address) -> Address:
    """``address``, or the same mailbox with a plainer display name, such that the header reads
    back as that one mailbox. The library's folding of a long display name drops the quotes that
    its specials need (``Ann:evil(x)@host,Ann …`` then reads as a group holding a second address,
    CPython 3.11-3.13), so what a name would add is checked rather than trusted."""
    if _reads_back_as(name, address):
        return address
    plainer = Address(
        display_name=" ".join(address.display_name.translate(_ADDRESS_SPECIALS).split()),
        username=address.username,
        domain=address.domain,
    )
    if _reads_back_as(name, plainer):
        return plainer
    return Address(username=address.username, domain=address.domain)


def message_id_domain(sender: Address) -> str:
    """The sender's domain as ASCII (IDNA), for ``Message-ID``."""
    try:
        return sender.domain.encode("idna").decode("ascii")
    except UnicodeError:
        return "localhost"


@dataclass(frozen=True)
class InlineImage:
    """A PNG shown inside the HTML part (``<img src="cid:...">``)."""

    cid: str  # without the angle brackets
    data: bytes
    filename: str = "badge.png"


def build_message(
    *,
    sender: Address,
    to: Address,
    reply_to: Address | None,
    subject: str,
    text: str,
    html: str,
    now: datetime,
    images: Sequence[InlineImage] = (),
) -> EmailMessage:
    """A multipart message: plain text, and HTML with its inline images (multipart/related).

    Args:
        sender: ``From`` (built by :func:`mailbox`); ``Message-ID`` uses its domain.
        to: ``To`` (built by :func:`mailbox`).
        reply_to: ``Reply-To`` (the issuer), or None.
        subject: any text; made safe by :func:`header_text`.
        now: the ``Date`` (timezone-aware).
        images: PNGs attached only when the HTML refers to them as ``cid:``.
    """
    message = EmailMessage()
    message["From"] = _folded_safely("From", sender)
    message["To"] = _folded_safely("To", to)
    if reply_to is not None:
        message["Reply-To"] = _folded_safely("Reply-To", reply_to)
    message["Subject"] = header_text(subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=message_id_domain(sender))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    used = [image for image in images if f"cid:{image.cid}" in html]
    if used:
        html_part = list(message.iter_parts())[1]
        assert isinstance(html_part, EmailMessage)  # (add_alternative made it)
        for image in used:
            html_part.add_related(
                image.data, "image", "png", cid=f"<{image.cid}>", disposition="inline", filename=image.filename
            )
    return message


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
    def from_environment(cls, default_sender: str) -> SmtpSettings:
        """Read the ``BADGEKILN_SMTP_*`` variables."""
        env = os.environ
        host = env.get("BADGEKILN_SMTP_HOST", "").strip()
        if not host:
            raise ConfigError(
                "set BADGEKILN_SMTP_HOST (and BADGEKILN_SMTP_USER/PASSWORD if your server needs them) "
                "to send email, or use --dry-run to see the messages"
            )
        # (An empty variable is an unset one: GitHub Actions passes a secret that is not set as "".)
        security = env.get("BADGEKILN_SMTP_SECURITY", "").strip().lower()
        security = security or ("none" if on_this_machine(host) else "starttls")
        if security not in ("starttls", "ssl", "none"):
            raise ConfigError("BADGEKILN_SMTP_SECURITY must be starttls, ssl or none")
        user = env.get("BADGEKILN_SMTP_USER", "").strip() or None
        if security == "none" and user and not on_this_machine(host):
            # smtplib logs in over a plain connection without a word: the password would cross the
            # network as base64, readable by anyone on the way.
            raise ConfigError(
                f"BADGEKILN_SMTP_SECURITY is none, so the login to {host} would send the password "
                "unencrypted over the network: use starttls (port 587) or ssl (port 465), or leave "
                "BADGEKILN_SMTP_USER and BADGEKILN_SMTP_PASSWORD unset for a server that needs no login"
            )
        default_port = {"starttls": 587, "ssl": 465, "none": 25}[security]
        port_text = env.get("BADGEKILN_SMTP_PORT", "").strip() or str(default_port)
        if not (port_text.isascii() and port_text.isdigit()):
            raise ConfigError("BADGEKILN_SMTP_PORT must be a number")
        port = int(port_text) if len(port_text) <= 5 else 0  # (int() refuses past 4,300 digits)
        if not 0 < port < 65536:
            raise ConfigError("BADGEKILN_SMTP_PORT must be between 1 and 65535")
        return cls(
            host,
            port,
            security,
            user,
            env.get("BADGEKILN_SMTP_PASSWORD") or None,
            sender_address(default_sender),
        )


def on_this_machine(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost`` or a loopback address), where a plain
    connection crosses no network."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def sender_address(default: str) -> str:
    """The envelope sender: ``BADGEKILN_SMTP_FROM`` or ``default`` (the issuer's email), checked.

    Raises:
        ConfigError: it is not one plain address.
    """
    value = os.environ.get("BADGEKILN_SMTP_FROM", "").strip() or default
    try:
        mailbox(None, value)
    except MailAddressError:
        raise ConfigError(
            f"the sender {value!r} (BADGEKILN_SMTP_FROM or the issuer's email) is not one plain "
            "email address such as badges@example.org"
        ) from None
    return value


class DeliveryFailure(Exception):
    """A message was not delivered; ``temporary`` says whether trying again later may work, and
    ``address_refused`` whether the server refused the recipient's address for good (a 5xx
    answer to it: an address that does not exist there, or that it will not take).
    ``maybe_sent``: not known to be delivered or not, the connection lost (or the deadline
    reached) after the whole message was sent, before the server's answer to it (RFC 1047: the
    server may have taken it; sent again, the earner may get it twice)."""

    def __init__(self, reason: str, *, temporary: bool, address_refused: bool = False, maybe_sent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.temporary = temporary
        self.address_refused = address_refused
        self.maybe_sent = maybe_sent


class ConnectFailure(DeliveryFailure):
    """The server could not be reached at all (always temporary)."""

    def __init__(self, reason: str):
        super().__init__(reason, temporary=True)


def _reset(exc: BaseException) -> bool:
    """Whether the connection was reset (or the pipe broken) rather than closed: a server whose
    socket closed with the message unread is reset when it arrives, while one that read it all
    and then hung up (or crashed) closes cleanly, and may have taken it. A server that answered
    354 and then closed without reading was said to have maybe taken the message (a review)."""
    seen: BaseException | None = exc
    for _ in range(5):  # (smtplib wraps the socket's error: the cause and context are looked at)
        if seen is None:
            return False
        if isinstance(seen, (ConnectionResetError, BrokenPipeError)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _decoded(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else text


def _answer(code: int, text: bytes | str) -> str:
    return header_text(f"{code} {_decoded(text)}", limit=REASON_LIMIT)


class _EndTracking:
    """An SMTP client that says whether the end of the message being sent (the line "." that
    ends its data) went out: after that, a lost connection leaves it not known whether the
    server took the message (see :class:`DeliveryFailure`)."""

    message_ended = False
    _in_data = False

    def data(self, msg: Any) -> tuple[int, bytes]:
        self._in_data = True
        try:
            return super().data(msg)  # type: ignore[misc]
        finally:
            self._in_data = False

    def send(self, s: Any) -> None:
        super().send(s)  # type: ignore[misc]
        if self._in_data and isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):  # (the message, sent whole)
            self.message_ended = True


class _Smtp(_EndTracking, smtplib.SMTP):
    pass


class _SmtpSsl(_EndTracking, smtplib.SMTP_SSL):
    pass


class Mailer:
    """A connection to the mail server, opened when needed; use as a context manager.

    Each :meth:`send` (connecting included) must finish within ``deadline`` seconds: a watchdog
    shuts the socket down at the deadline, so a server that accepts and then stalls or trickles
    its answer a byte at a time cannot hold a message longer, however short each read is.
    """

    def __init__(self, settings: SmtpSettings, *, deadline: float = 60.0):
        self.settings = settings
        self.deadline = deadline
        self.client: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def connect(self) -> None:
        """Connect (and log in) now, within the deadline.

        Raises:
            ConnectFailure: the server cannot be reached or did not answer in time.
            ConfigError: the server refused the user name and password.
        """
        with Watchdog(self.deadline, self._abort) as watchdog:
            try:
                self._connect()
            except smtplib.SMTPAuthenticationError as exc:
                self.close()
                raise ConfigError(
                    f"the mail server {self._where} refused the login of BADGEKILN_SMTP_USER: "
                    f"{_answer(exc.smtp_code, self._scrubbed(_decoded(exc.smtp_error)))}"
                ) from None
            except UnicodeEncodeError:  # (smtplib sends the login in ASCII; its message names a character)
                self.close()
                raise ConfigError(
                    "BADGEKILN_SMTP_USER or BADGEKILN_SMTP_PASSWORD holds a character that is not ASCII, which "
                    "the SMTP login cannot send: use a password (an app password) of ASCII characters"
                ) from None
            except Exception as exc:  # noqa: BLE001 - the socket may fail in any way once the watchdog shut it
                self.close()
                reason = (
                    f"no answer within {self.deadline:g} s" if self._past_deadline(watchdog, exc) else _describe(exc)
                )
                raise ConnectFailure(f"cannot connect to the mail server {self._where}: {reason}") from None

    def send(self, message: EmailMessage, *, to: str) -> None:
        """Send ``message`` to the envelope recipient ``to`` (only), from the configured sender.

        Raises:
            DeliveryFailure: refused (``temporary`` for 4xx answers, dropped connections and the
                deadline; permanent for 5xx answers and addresses the server cannot take).
            ConfigError: the server refused the login.
        """
        started = time.monotonic()
        if self.client is None:
            self.connect()
        assert self.client is not None
        remaining = max(0.1, self.deadline - (time.monotonic() - started))
        client = self.client
        client.message_ended = False  # type: ignore[attr-defined]
        with Watchdog(remaining, self._abort) as watchdog:
            try:
                client.send_message(message, from_addr=self.settings.sender, to_addrs=[to])
                return
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = exc.recipients.get(to, (550, b"refused"))
                failure = DeliveryFailure(
                    f"the server refused {to}: {_answer(code, text)}", temporary=code < 500, address_refused=code >= 500
                )
                self._reset()
            except smtplib.SMTPSenderRefused as exc:
                failure = DeliveryFailure(
                    f"the server refused the sender {self.settings.sender}: {_answer(exc.smtp_code, exc.smtp_error)}",
                    temporary=exc.smtp_code < 500,
                )
                self._reset()
            except smtplib.SMTPNotSupportedError as exc:
                failure = DeliveryFailure(f"the server cannot take this address: {exc}", temporary=False)
                self._reset()
            except smtplib.SMTPResponseException as exc:
                if exc.smtp_code == -1 and getattr(client, "message_ended", False):  # (an answer smtplib cannot read)
                    failure = DeliveryFailure(
                        "the server's answer to the whole message could not be read, so whether it took it is "
                        f"not known: {_answer(exc.smtp_code, exc.smtp_error)}",
                        temporary=False,
                        maybe_sent=True,
                    )
                else:
                    failure = DeliveryFailure(
                        f"the server answered {_answer(exc.smtp_code, exc.smtp_error)}", temporary=exc.smtp_code < 500
                    )
                self.close()
            except Exception as exc:  # noqa: BLE001 - a shut socket (watchdog) or a dropped one fails in many ways
                reason = (
                    f"no answer within {self.deadline:g} s" if self._past_deadline(watchdog, exc) else _describe(exc)
                )
                if getattr(client, "message_ended", False) and not _reset(exc):  # (the server had the whole message)
                    failure = DeliveryFailure(
                        f"connection lost after the whole message was sent, before the server said whether it "
                        f"took it: {reason}",
                        temporary=False,
                        maybe_sent=True,
                    )
                else:
                    failure = DeliveryFailure(f"connection lost: {reason}", temporary=True)
                self.close()
        raise failure

    @staticmethod
    def _past_deadline(watchdog: Watchdog, exc: BaseException) -> bool:
        """Whether the deadline ended the exchange: the watchdog shut the socket, or the socket's
        own timeout, which is the deadline, ran out first (on a busy machine the watchdog's thread
        may run after it: CI saw "timed out" for a stalled server)."""
        timed_out = (exc, exc.__cause__, exc.__context__)  # (smtplib says a read's timeout as a lost connection)
        return watchdog.fired or any(isinstance(e, (TimeoutError, socket.timeout)) for e in timed_out)

    def close(self) -> None:
        """Say goodbye (briefly) and close; safe to call at any time."""
        client, self.client = self.client, None
        if client is None:
            return
        try:
            if client.sock is not None:
                client.sock.settimeout(min(self.deadline, 5.0))
                client.quit()
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        finally:
            client.close()

    @property
    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def _scrubbed(self, text: str) -> str:
        """``text`` (a server's answer, as it came: before it is cut short or its spaces folded,
        which would leave a password no longer found whole) without the password in any form the
        login sent it (a server that echoes what it was given would otherwise put it in CI's log,
        where GitHub's masking knows the password but not its base64)."""
        secret = self.settings.password
        if not secret:
            return text
        user = self.settings.user or ""
        forms = {secret, *_base64_forms(secret), *_base64_forms(f"\0{user}\0{secret}")}
        for form in sorted(forms, key=len, reverse=True):
            if len(form) >= 4:
                text = text.replace(form, "[hidden]")
        return text

    def _connect(self) -> None:
        s = self.settings
        # The client object exists before connecting, so that the watchdog can reach its socket
        # while the greeting is read.
        if s.security == "ssl":
            self.client = _SmtpSsl(timeout=self.deadline, context=ssl.create_default_context())
        else:
            self.client = _Smtp(timeout=self.deadline)
        self.client.connect(s.host, s.port)
        if s.security == "starttls":
            self.client.starttls(context=ssl.create_default_context())
        if s.user:
            self.client.login(s.user, s.password or "")

    def _reset(self) -> None:
        # smtplib already sent RSET after a refusal; a connection that failed even that is closed.
        if self.client is not None and self.client.sock is None:
            self.close()

    def _abort(self) -> None:
        client = self.client
        sock = getattr(client, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _base64_forms(text: str) -> set[str]:
    """``text`` in base64 as a login sends it (AUTH PLAIN, AUTH LOGIN), padded or not."""
    try:
        encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
    except UnicodeEncodeError:
        return set()
    return {encoded, encoded.rstrip("=")}


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, (TimeoutError, socket.timeout)):
        text = f"timed out ({text})"
    return header_text(text, limit=REASON_LIMIT)


class Watchdog:
    """Calls ``abort`` from a timer thread if the block has not finished after ``seconds``
    (an overall deadline: ``abort`` shuts the socket, which ends any read in progress)."""

    def __init__(self, seconds: float, abort: Callable[[], None]):
        self.fired = False
        self._abort = abort
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        self._abort()

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()


# -- delivering a batch ------------------------------------------------------------------------


class Sendable(Protocol):
    """What :func:`deliver` sends: a message and its one envelope recipient."""

    @property
    def message(self) -> EmailMessage:
        """The message."""

    @property
    def to(self) -> str:
        """Its one envelope recipient."""


S = TypeVar("S", bound=Sendable)


@dataclass(frozen=True)
class RetryPolicy:
    """How temporary failures are retried.

    Args:
        retries: further attempts after the first (0: never retry).
        delay: seconds before the first retry; each later retry waits twice as long.
        max_delay: the longest wait between two attempts, in seconds.
        deadline: seconds one attempt (connecting included) may take.
        max_connect_failures: consecutive failures to connect after which the rest of the
            batch is left pending (the server is down: no point in trying every message).
    """

    retries: int = 3
    delay: float = 30.0
    max_delay: float = 600.0
    deadline: float = 60.0
    max_connect_failures: int = 4

    def wait(self, attempt: int) -> float:
        """Seconds before attempt number ``attempt + 1`` (``attempt`` >= 1 attempts made)."""
        return min(self.max_delay, self.delay * 2 ** (attempt - 1))


@dataclass
class DeliveryReport(Generic[S]):
    """What happened to each message of a batch."""

    sent: list[S] = field(default_factory=list)
    # (item, reason): the connection lost after the whole message went out (DeliveryFailure.maybe_sent):
    # recorded as sent by on_sent, never sent again, and said
    maybe_sent: list[tuple[S, str]] = field(default_factory=list)
    failed: list[tuple[S, str]] = field(default_factory=list)  # (item, reason)
    pending: list[tuple[S, str]] = field(default_factory=list)  # (item, reason)
    retried: int = 0
    stopped: str | None = None  # why the batch stopped early
    refused_addresses: set[str] = field(default_factory=set)  # envelope recipients the server refused for good


def deliver(
    mailer: Mailer,
    items: Iterable[S],
    *,
    policy: RetryPolicy,
    on_sent: Callable[[S], None],
    on_event: Callable[[str, S, str], None] = lambda kind, item, reason: None,
    should_stop: Callable[[], bool] = lambda: False,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryReport[S]:
    """Send every item, never stopping at one recipient: permanent failures are reported and
    skipped, temporary ones go back in the queue with a growing delay while the others are sent.

    ``on_sent(item)`` runs right after the server accepted an item (record it there), before the
    next one is sent; also for an item that may have been delivered (the connection lost after the
    whole message went out: :attr:`DeliveryFailure.maybe_sent`), which is not sent again (a
    server that takes messages and then hangs up was sent the same message once per attempt, a
    review). ``on_event(kind, item, reason)`` reports ``sent``, ``maybe sent``, ``failed``, ``retry``.
    ``should_stop()`` is asked between attempts (Ctrl-C): what is left is reported as pending.

    Raises:
        ConfigError: the server refused the login (nothing else would work either).
    """
    report: DeliveryReport[S] = DeliveryReport()
    queue = [(0.0, number, 0, item, "") for number, item in enumerate(items)]
    heapq.heapify(queue)
    connect_failures = 0
    while queue:
        due, number, attempts, item, last = queue[0]
        while not should_stop() and clock() < due:
            sleep(min(0.2, due - clock()))
        if should_stop():
            report.stopped = "interrupted"
            break
        heapq.heappop(queue)
        try:
            mailer.send(item.message, to=item.to)
        except DeliveryFailure as failure:
            attempts += 1
            if failure.maybe_sent:
                connect_failures = 0
                on_sent(item)
                report.maybe_sent.append((item, failure.reason))
                on_event("maybe sent", item, failure.reason)
                continue
            connect_failures = connect_failures + 1 if isinstance(failure, ConnectFailure) else 0
            if connect_failures >= policy.max_connect_failures:
                report.pending.append((item, failure.reason))
                report.stopped = failure.reason
                break
            if failure.temporary and attempts <= policy.retries:
                report.retried += 1
                on_event("retry", item, failure.reason)
                heapq.heappush(queue, (clock() + policy.wait(attempts), number, attempts, item, failure.reason))
                continue
            if failure.temporary:
                reason = f"{failure.reason} (gave up after {attempts} attempts)"
            else:
                reason = failure.reason
            report.failed.append((item, reason))
            if failure.address_refused:
                report.refused_addresses.add(item.to)
            on_event("failed", item, reason)
            continue
        connect_failures = 0
        on_sent(item)
        report.sent.append(item)
        on_event("sent", item, "")
    report.pending.extend((item, last or "not tried yet") for _, _, _, item, last in sorted(queue))
    return report
