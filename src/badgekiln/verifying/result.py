"""What a verification reports: named checks, a verdict, and a summary of the badge.

:class:`Recorder` collects :class:`Check` values while a verification runs. A check that makes
the rest meaningless (the document cannot be fetched, the signature does not verify) ends the
run with :meth:`Recorder.stop`; every other failure is recorded and the run goes on, so that a
report lists every problem found (the 1EdTech validator's good idea: a report, not an
exception on the first problem).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NoReturn

from badgekiln.errors import BakeError, VerifyError

KIND_TITLES = {
    "ob2-hosted": "Open Badges 2.0 hosted assertion",
    "ob2-signed": "Open Badges 2.0 signed assertion (JWS)",
    "ob3-credential": "Open Badges 3.0 credential (embedded eddsa-rdfc-2022 proof)",
    "ob3-jwt": "Open Badges 3.0 credential (VC-JWT)",
    "ob3-endorsement": "Open Badges 3.0 EndorsementCredential (embedded eddsa-rdfc-2022 proof)",
    "unknown": "Unrecognised input",
}

# Check names whose failure alone gives a more precise verdict than "invalid".
_EXPIRY_CHECKS = frozenset({"not expired"})
_EARLY_CHECKS = frozenset({"issued", "valid from"})


@dataclass(frozen=True)
class Check:
    """One verification step: a short stable ``name``, whether it passed, and what was found."""

    name: str
    ok: bool
    detail: str = ""
    unchecked: bool = False  # failed because it could not be checked (a document could not be fetched)
    not_a_badge: bool = False  # what was given is no badge at all (a web page, a plain image): nothing to check


@dataclass(frozen=True)
class FetchRecord:
    """One URL that verification asked for, and what became of it.

    Attributes:
        url: The URL (each redirect hop is a record of its own).
        outcome: ``fetched`` (a 2xx body was read), ``redirect``, ``error`` (an HTTP error status
            or a network failure), ``refused`` (by policy, before any connection: address,
            scheme, redirect limit, deadline), ``cut`` (stopped during the transfer: size cap or
            deadline) or ``offline`` (read from an ``--offline-root`` folder).
        status: The HTTP status, when a server answered.
        size: Body bytes read.
        detail: The address connected to, the redirect target, the file, or why it failed.
    """

    url: str
    outcome: str
    status: int | None = None
    size: int = 0
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "url": self.url,
            "outcome": self.outcome,
            "status": self.status,
            "bytes": self.size,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class VerificationResult:
    """The outcome of verifying one badge.

    Attributes:
        kind: ``ob2-hosted``, ``ob2-signed``, ``ob3-credential``, ``ob3-jwt`` or ``unknown``.
        valid: True only when there was at least one check and every check passed.
        checks: Every check made, in order.
        subject: What the badge says, for display: ids, names, dates, recipient identity.
        fetches: Every URL asked for, in order (filled in by the caller that owns the fetch).
    """

    kind: str
    valid: bool
    checks: list[Check]
    subject: dict[str, Any] = field(default_factory=dict)
    fetches: tuple[FetchRecord, ...] = ()

    def __bool__(self) -> bool:
        return self.valid

    @property
    def failed(self) -> list[Check]:
        """The checks that did not pass."""
        return [c for c in self.checks if not c.ok]

    @property
    def status(self) -> str:
        """``valid``, ``revoked``, ``suspended``, ``expired``, ``not yet valid``, ``invalid``,
        ``unchecked``: nothing checked was wrong, but a check could not be made (a document it
        needs could not be fetched): not a verdict on the badge, and not "valid" either; or ``not a
        badge``: what was given holds none (a web page, such as a badge's own page, or an image
        with no badge baked in), so nothing was verified."""
        if self.valid:
            return "valid"
        if any(c.not_a_badge for c in self.failed):
            return "not a badge"
        names = {c.name for c in self.failed if not c.unchecked}
        if "not revoked" in names:
            return "revoked"
        if "not suspended" in names:
            return "suspended"
        if not names:
            return "unchecked"
        if names <= _EXPIRY_CHECKS:
            return "expired"
        if names <= _EARLY_CHECKS:
            return "not yet valid"
        return "invalid"

    @property
    def title(self) -> str:
        """A human name for :attr:`kind`."""
        return KIND_TITLES.get(self.kind, self.kind)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (for ``badgekiln verify --json``)."""
        return {
            "kind": self.kind,
            "valid": self.valid,
            "status": self.status,
            "checks": [
                {"name": c.name, "ok": c.ok, "unchecked": c.unchecked, "not_a_badge": c.not_a_badge, "detail": c.detail}
                for c in self.checks
            ],
            "subject": self.subject,
            "fetches": [f.to_dict() for f in self.fetches],
        }


class StopVerification(Exception):
    """Raised by :meth:`Recorder.stop`: the failed check makes further checks meaningless."""


class Recorder:
    """Collects checks while one verification runs."""

    def __init__(self) -> None:
        self.kind = "unknown"
        self.checks: list[Check] = []
        self.subject: dict[str, Any] = {}
        self.input_url: str | None = None  # the URL given to verify, when one was (its document is what it serves)

    def ok(self, name: str, detail: str = "") -> None:
        """Record a passed check."""
        self.checks.append(Check(name, True, detail))

    def fail(self, name: str, detail: str, *, unchecked: bool = False) -> None:
        """Record a failed check and carry on; ``unchecked``: it could not be made."""
        self.checks.append(Check(name, False, detail, unchecked))

    def check(self, name: str, ok: bool, detail: str) -> bool:
        """Record a check that passed when ``ok``; returns ``ok``."""
        self.checks.append(Check(name, ok, detail))
        return ok

    def stop(self, name: str, detail: str, *, unchecked: bool = False, not_a_badge: bool = False) -> NoReturn:
        """Record a failed check and end the verification (``not_a_badge``: what was given is
        no badge at all, see :attr:`VerificationResult.status`)."""
        self.checks.append(Check(name, False, detail, unchecked, not_a_badge))
        raise StopVerification(name)

    @contextlib.contextmanager
    def guard(self, name: str) -> Iterator[None]:
        """Turn a :class:`VerifyError` or :class:`BakeError` inside the block into :meth:`stop`.

        Even a document that could not be fetched fails the check here: the URLs fetched before
        the signature is verified (keys, badge class, issuer) are the badge's own choice, so a
        forger could make one fail on purpose and turn "not valid" into "could not check"
        (hostile review). Only the few checks made once the signature holds (status and
        revocation lists), or the fetch of the URL the user gave, say "unchecked", themselves.
        """
        try:
            yield
        except (VerifyError, BakeError) as e:
            self.stop(name, str(e))

    def result(self) -> VerificationResult:
        """The verdict: valid when something was checked and nothing failed."""
        valid = bool(self.checks) and all(c.ok for c in self.checks)
        return VerificationResult(self.kind, valid, list(self.checks), dict(self.subject))


def unfetched(error: BaseException) -> bool:
    """Whether ``error`` says a document could not be fetched (:class:`~.fetching.FetchError`), as
    opposed to a document that was fetched and is wrong."""
    return bool(getattr(error, "unfetched", False))
