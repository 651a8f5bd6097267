"""A real SMTP server on loopback (aiosmtpd) whose misbehaviour tests can choose, per recipient.

    from tests.support.smtp_server import SmtpServer

    with SmtpServer() as server:                     # 127.0.0.1 on a free port
        server.refuse("bad@example.com")             # 550 at RCPT, every time
        server.defer("grey@example.com", times=2)    # 451 at RCPT, the first two times
        server.drop("flaky@example.com", times=1)    # hangs up after the whole message, before answering
        server.drop_early("gone@example.com", times=1)  # hangs up at RCPT, before any of the message
        server.stall("slow@example.com", seconds=5)  # says nothing for 5 s after DATA, then 250
        server.trickle("drip@example.com", seconds=20)  # "250-" lines every 0.2 s for 20 s, then 250
        server.hold("held@example.com")              # waits after DATA until server.release()
        ... send to server.host, server.port ...
        server.delivered                             # [(recipient, raw message bytes)], 250 only

Only messages the server answered 250 after DATA count as delivered, one entry per recipient.
Every attempt (accepted or not) is counted in ``server.attempts[recipient]``. Behaviours are read
at each transaction, so a test may change them while a client is connected.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import Counter

from aiosmtpd.controller import Controller

__all__ = ["SmtpServer"]


class _Handler:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd hook
        owner = self.server
        with owner.lock:
            owner.attempts[address] += 1
            early = owner.dropped_early.get(address, 0) > 0
            if early:
                owner.dropped_early[address] -= 1
        if early:
            server.transport.close()  # before the message: certainly not delivered
            return "421 closing"  # never reaches the client
        with owner.lock:
            if address in owner.refused:
                return f"550 5.1.1 <{address}>: no such user here"
            if owner.deferred.get(address, 0) > 0:
                owner.deferred[address] -= 1
                return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        owner = self.server
        recipients = list(envelope.rcpt_tos)
        with owner.lock:
            drop = next((r for r in recipients if owner.dropped.get(r, 0) > 0), None)
            if drop is not None:
                owner.dropped[drop] -= 1
            stall = max((owner.stalled.get(r, 0.0) for r in recipients), default=0.0)
            trickle = max((owner.trickled.get(r, 0.0) for r in recipients), default=0.0)
            held = any(r in owner.held for r in recipients)
        if drop is not None:
            if drop in owner.kept_on_drop:
                with owner.lock:
                    owner.delivered.append((drop, envelope.original_content or envelope.content))
                    owner.mail_from.append(envelope.mail_from)
            server.transport.close()  # mid-transaction: the client never hears back
            return "421 closing"  # never reaches the client
        if held:
            owner.holding.set()
            while not owner.released.is_set():
                await asyncio.sleep(0.02)
            if server.transport is None or server.transport.is_closing():
                return "421 gone"  # the client went away while held: not delivered
        if stall:
            await asyncio.sleep(stall)
        if trickle:
            loop = asyncio.get_running_loop()
            end = loop.time() + trickle
            while loop.time() < end:
                if server.transport is None or server.transport.is_closing():
                    return "421 gone"
                server.transport.write(b"250-still working\r\n")
                await asyncio.sleep(0.2)
        if server.transport is None or server.transport.is_closing():
            return "421 gone"
        with owner.lock:
            for recipient in recipients:
                owner.delivered.append((recipient, envelope.original_content or envelope.content))
            owner.mail_from.append(envelope.mail_from)
        return "250 OK: queued"


class _Login:
    """An aiosmtpd authenticator that takes one user name and password."""

    def __init__(self, user: str, password: str):
        self.user, self.password = user.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            self.user,
            self.password,
        )
        return AuthResult(success=ok)


class SmtpServer:
    """aiosmtpd on 127.0.0.1, with behaviours chosen per recipient (see the module docstring)."""

    def __init__(self, *, smtputf8: bool = False, login: tuple[str, str] | None = None) -> None:
        """``smtputf8``: offer SMTPUTF8 (as Postfix, Exim and Gmail do): smtplib then sends a message
        to a non-ASCII address with its headers as UTF-8, folded otherwise. ``login``: offer AUTH
        (PLAIN, LOGIN; without TLS, on loopback) and take only this user name and password."""
        self.lock = threading.Lock()
        self.delivered: list[tuple[str, bytes]] = []
        self.mail_from: list[str] = []
        self.attempts: Counter[str] = Counter()
        self.refused: set[str] = set()
        self.deferred: dict[str, int] = {}
        self.dropped: dict[str, int] = {}
        self.dropped_early: dict[str, int] = {}
        self.kept_on_drop: set[str] = set()
        self.stalled: dict[str, float] = {}
        self.trickled: dict[str, float] = {}
        self.held: set[str] = set()
        self.holding = threading.Event()  # set when a held message is waiting
        self.released = threading.Event()
        self.host = "127.0.0.1"
        with socket.socket() as probe:  # a free port: aiosmtpd's start-up check cannot use port 0
            probe.bind((self.host, 0))
            self.port = probe.getsockname()[1]
        auth = {} if login is None else {"authenticator": _Login(*login), "auth_require_tls": False}
        self._controller = Controller(
            _Handler(self), hostname=self.host, port=self.port, enable_SMTPUTF8=smtputf8, **auth
        )

    # -- behaviours ----------------------------------------------------------
    def refuse(self, address: str) -> None:
        self.refused.add(address)

    def defer(self, address: str, *, times: int) -> None:
        self.deferred[address] = times

    def drop(self, address: str, *, times: int, keep: bool = False) -> None:
        """Hang up after the whole message, before answering it; ``keep``: having stored it (a
        server that crashes, or a filter that times out, after queueing the message)."""
        self.dropped[address] = times
        if keep:
            self.kept_on_drop.add(address)
        else:
            self.kept_on_drop.discard(address)

    def drop_early(self, address: str, *, times: int) -> None:
        self.dropped_early[address] = times

    def stall(self, address: str, *, seconds: float) -> None:
        self.stalled[address] = seconds

    def trickle(self, address: str, *, seconds: float) -> None:
        self.trickled[address] = seconds

    def hold(self, address: str) -> None:
        self.held.add(address)

    def release(self) -> None:
        self.released.set()

    def reset(self) -> None:
        """Well-behaved again (what was delivered is kept)."""
        with self.lock:
            self.refused.clear()
            self.deferred.clear()
            self.dropped.clear()
            self.dropped_early.clear()
            self.stalled.clear()
            self.trickled.clear()
            self.held.clear()

    # -- results -------------------------------------------------------------
    def recipients(self) -> list[str]:
        """Who received a message, in order (one entry per delivered message and recipient)."""
        with self.lock:
            return [recipient for recipient, _ in self.delivered]

    def messages_to(self, address: str) -> list[bytes]:
        with self.lock:
            return [raw for recipient, raw in self.delivered if recipient == address]

    # -- life ----------------------------------------------------------------
    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self._controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
