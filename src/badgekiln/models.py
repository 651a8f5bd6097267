"""The validated model of a badge site: pure, frozen values.

Nothing here does IO or reads the clock. ``validate`` builds these from the sources; everything
downstream (OB 2.0, OB 3.0, pages) reads only these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from typing import Any

from badgekiln.errors import SourceLocation


@dataclass(frozen=True)
class Issuer:
    """The organisation that issues the badges."""

    name: str
    url: str
    email: str
    description: str = ""
    image: str | None = None  # path relative to site_src/
    telephone: str | None = None


@dataclass(frozen=True)
class Alignment:
    """An alignment of a badge class to a framework, standard or role."""

    name: str
    url: str
    framework: str | None = None
    code: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 calendar duration of years, months and days (``P3Y``, ``P18M``, ``P90D``)."""

    years: int = 0
    months: int = 0
    days: int = 0
    text: str = ""

    def after(self, start: date) -> date:
        """The date this long after ``start``; 29 February clamps to 28 February, and a date past
        the calendar's last day (9999-12-31) is that day (a fuzz test: P9000Y was a traceback)."""
        import calendar
        from datetime import timedelta

        try:
            month_index = start.month - 1 + self.months + 12 * self.years
            year, month = start.year + month_index // 12, month_index % 12 + 1
            day = min(start.day, calendar.monthrange(year, month)[1])
            return date(year, month, day) + timedelta(days=self.days)
        except (ValueError, OverflowError):
            return date.max

    def before(self, end: date) -> date:
        """The date this long before ``end`` (a reminder point before an expiry); 29 February clamps
        to 28 February, and a date before the calendar's first day is that day."""
        import calendar
        from datetime import timedelta

        try:
            month_index = end.month - 1 - self.months - 12 * self.years
            year, month = end.year + month_index // 12, month_index % 12 + 1
            day = min(end.day, calendar.monthrange(year, month)[1])
            return date(year, month, day) - timedelta(days=self.days)
        except (ValueError, OverflowError):
            return date.min


@dataclass(frozen=True)
class CpdRequirement:
    """A badge class earned by CPD: ``points`` logged within ``within`` (or ever, when None)."""

    points: float
    within: Duration | None = None
    location: SourceLocation | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Pathway:
    """A stacked badge's components: ``needed`` of the badges ``of`` (in the order written).

    ``all`` says the YAML asked for every one (``requires: {all: [...]}``); ``current`` that a
    component counts only while its award is valid (not expired, revoked or suspended).
    """

    of: tuple[str, ...]
    needed: int
    all: bool = True
    current: bool = False
    location: SourceLocation | None = field(default=None, compare=False)
    item_locations: tuple[SourceLocation, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class BadgeClass:
    """One kind of badge (``badges/<slug>.yaml``)."""

    slug: str
    name: str
    description: str
    image: str  # path relative to site_src/
    criteria: str  # Markdown
    tags: tuple[str, ...] = ()
    valid_for: Duration | None = None
    alignment: tuple[Alignment, ...] = ()
    achievement_type: str | None = None
    # Reminders to earners before expiry; None: the site's default (site.yaml), () : none.
    remind_before: tuple[Duration, ...] | None = None
    renewal_url: str | None = None  # where an earner renews this badge (https)
    requires_membership: bool = False  # awards are suspended while the earner's membership has lapsed
    location: SourceLocation | None = field(default=None, compare=False)
    cpd: CpdRequirement | None = None  # earned by logging CPD points
    requires: Pathway | None = None  # a stacked badge: earned by holding other badges


@dataclass(frozen=True)
class Evidence:
    """Evidence supporting an award."""

    url: str | None = None
    narrative: str | None = None
    name: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Revocation:
    """The revocation of an award: when and why."""

    on: date
    reason: str


@dataclass(frozen=True)
class Suspension:
    """A reversible hold on an award: since when and why. ``computed`` marks a suspension the build
    derived (a lapsed membership) rather than one written in the recipient's YAML."""

    on: date
    reason: str
    computed: bool = False


@dataclass(frozen=True)
class Award:
    """One badge awarded to one recipient. ``id`` is permanent and names its URLs."""

    id: str
    badge: str  # slug of a BadgeClass
    recipient: str  # slug of a Recipient
    issued_on: date
    expires: date | None = None
    narrative: str | None = None
    evidence: tuple[Evidence, ...] = ()
    revoked: Revocation | None = None
    suspended: Suspension | None = None
    renews: str | None = None  # id of the earlier award this one renews
    id_pinned: bool = True  # False when the id was assigned by this build
    location: SourceLocation | None = field(default=None, compare=False)

    def is_expired(self, at: date) -> bool:
        """True when the award has an expiry date on or before ``at``."""
        return self.expires is not None and self.expires <= at

    def held_by_hand(self, day: date) -> bool:
        """Whether a suspension written in the award's file (not a lapsed membership's) holds it on
        ``day``: begun by then, on an award not expired by then. A renewal issued that day would be a
        valid award beside the one held (a membership body's review), so it may not renew it."""
        held = self.suspended
        return held is not None and not held.computed and held.on <= day and not self.is_expired(day)

    def as_issued(self) -> Award:
        """The award without its revocation and suspension: what its credentials state (a
        revocation or a suspension is published by the status lists and the OB 2.0 assertion and
        revocation list, never in the OB 3.0 credential, which keeps its bytes and signatures)."""
        if self.revoked is None and self.suspended is None:
            return self
        return replace(self, revoked=None, suspended=None)

    def status(self, at: date) -> str:
        """``revoked``, ``suspended``, ``expired`` or ``valid`` as of ``at`` (in that precedence)."""
        if self.revoked is not None:
            return "revoked"
        if self.suspended is not None:
            return "suspended"
        return "expired" if self.is_expired(at) else "valid"

    def page_status(self, at: date) -> str:
        """:meth:`status`, with ``suspended, expired`` for a suspended award past its expiry date:
        what its page tells apart (it says the award expired too), and so its units' keys."""
        status = self.status(at)
        return "suspended, expired" if status == "suspended" and self.is_expired(at) else status


@dataclass(frozen=True)
class CpdActivity:
    """One CPD activity an earner logged (in their YAML's ``cpd:`` or in ``site_src/cpd.csv``)."""

    on: date
    points: float
    activity: str
    evidence: str | None = None  # an https URL
    location: SourceLocation | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Recipient:
    """A person who earned badges (``recipients/<slug>.yaml``). The email is never published."""

    slug: str
    name: str
    email: str  # normalised: trimmed and lower-cased
    show_name: bool = True
    awards: tuple[Award, ...] = ()
    membership_until: date | None = None  # the recipient file's membership: {until: …}
    location: SourceLocation | None = field(default=None, compare=False)
    cpd: tuple[CpdActivity, ...] = ()  # CPD activities logged, oldest first
    portfolio: bool = False  # opted in to a public portfolio page at earners/<handle>/
    handle: str | None = None  # the portfolio's URL segment, chosen by the earner

    @property
    def public_name(self) -> str | None:
        """The name to publish, or None when the earner chose not to show it."""
        return self.name if self.show_name else None

    @property
    def rows(self) -> list[AwardRow]:
        """Each award as the passes over the whole site read it (:data:`AwardRow`): made from the
        awards here; a recipient the build cache hands back gives them without decoding its awards
        (``engine/views.py``)."""
        return [award_row(award) for award in self.awards]


# An award as the passes over every award of a site read it (duplicate ids, renewals, the ledger,
# the status lists and the revocation list, the catalogue's counts, the bundle keys), without its
# model: [id, badge, issued on, expires or None, the id it renews or None, whether its id is
# pinned, [revoked on, reason] or None, [suspended on, reason] or None], the dates in ISO form
# (which compare as the dates do). A list, as the build cache's JSON gives it back: never changed
# by its readers.
AwardRow = list[Any]
ROW_ID, ROW_BADGE, ROW_ISSUED, ROW_EXPIRES, ROW_RENEWS, ROW_PINNED, ROW_REVOKED, ROW_SUSPENDED = range(8)


def held_counts(rows: Iterable[AwardRow]) -> dict[str, int]:
    """Badge slug -> how many of ``rows`` are held (not revoked: a suspended or expired award
    still counts): what the home page's catalogue says of each badge ("3 awarded")."""
    counts: dict[str, int] = {}
    for row in rows:
        if row[ROW_REVOKED] is None:
            counts[row[ROW_BADGE]] = counts.get(row[ROW_BADGE], 0) + 1
    return counts


def award_row(award: Award) -> AwardRow:
    """The :data:`AwardRow` of ``award``."""
    return [
        award.id,
        award.badge,
        award.issued_on.isoformat(),
        award.expires.isoformat() if award.expires is not None else None,
        award.renews,
        award.id_pinned,
        [award.revoked.on.isoformat(), award.revoked.reason] if award.revoked is not None else None,
        [award.suspended.on.isoformat(), award.suspended.reason] if award.suspended is not None else None,
    ]


def row_status(row: AwardRow, at: str) -> str:
    """:meth:`Award.status` of the award of ``row`` as of the ISO date ``at``."""
    if row[ROW_REVOKED] is not None:
        return "revoked"
    if row[ROW_SUSPENDED] is not None:
        return "suspended"
    expires = row[ROW_EXPIRES]
    return "expired" if expires is not None and expires <= at else "valid"


def row_page_status(row: AwardRow, at: str) -> str:
    """:meth:`Award.page_status` of the award of ``row`` as of the ISO date ``at``."""
    status = row_status(row, at)
    if status == "suspended" and row[ROW_EXPIRES] is not None and row[ROW_EXPIRES] <= at:
        return "suspended, expired"
    return status


@dataclass(frozen=True)
class Page:
    """An extra page from ``site_src/pages/<slug>.md``."""

    slug: str
    title: str
    body: str  # Markdown
    order: int = 100
    description: str = ""


@dataclass(frozen=True)
class Endorsement:
    """An endorsement of this site's issuer or of one of its badge classes, made by a third party
    and verified at build time (see :mod:`badgekiln.formats.endorsements`)."""

    name: str  # the file's stem in site_src/endorsements/; published at endorsements/received/<name>.json
    target: str | None  # the endorsed badge class's slug, or None for the issuer
    subject_id: str  # credentialSubject.id as written
    endorser_id: str  # the endorser's did:web
    endorser_name: str  # the name the endorser gives itself in the signed file: a claim, shown as one
    endorser_url: str | None  # the profile's url, only when it is on the did:web host
    endorser_host: str  # the did:web's host (and path): who signed, shown as the endorser
    comment: str
    issued_on: str  # the credential's validFrom
    credential_id: str
    ob2_url: str | None  # the endorser's hosted OB 2.0 Endorsement, when they publish one
    text: str  # the file exactly as supplied (published as is: it is signed)
    location: SourceLocation | None = field(default=None, compare=False)
    valid_until: str | None = None  # the credential's validUntil, when it has one


@dataclass(frozen=True)
class Endorsing:
    """An endorsement this site makes of another issuer or badge class (``site_src/endorsing/``)."""

    slug: str
    target: str  # the endorsed thing's id (a BadgeClass/Achievement/Profile URL or a DID)
    comment: str
    issued_on: date
    location: SourceLocation | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Project:
    """Everything the sources say, validated."""

    issuer: Issuer
    badges: dict[str, BadgeClass]
    recipients: tuple[Recipient, ...]
    pages: tuple[Page, ...] = ()
    endorsements: tuple[Endorsement, ...] = ()  # received, verified
    endorsing: tuple[Endorsing, ...] = ()  # given

    @cached_property
    def awards(self) -> tuple[Award, ...]:
        """Every award of every recipient, ordered by id. (The build reads :attr:`award_rows`
        instead: this makes the model of every award.)"""
        return tuple(sorted((a for r in self.recipients for a in r.awards), key=lambda a: a.id))

    @cached_property
    def award_rows(self) -> list[AwardRow]:
        """Every award of every recipient as an :data:`AwardRow`, recipient by recipient."""
        return [row for r in self.recipients for row in r.rows]

    @cached_property
    def _recipients_by_slug(self) -> dict[str, Recipient]:
        return {r.slug: r for r in self.recipients}

    def recipient(self, slug: str) -> Recipient:
        """The recipient with this slug."""
        return self._recipients_by_slug[slug]

    @cached_property
    def _owners(self) -> dict[str, Recipient]:
        """Award id → its recipient (the first, should two awards share an id: validation refuses that)."""
        owners: dict[str, Recipient] = {}
        for recipient in self.recipients:
            for row in recipient.rows:
                owners.setdefault(row[ROW_ID], recipient)
        return owners

    def row(self, award_id: str) -> AwardRow | None:
        """The :data:`AwardRow` of the award with this id, or None (no award's model is made)."""
        recipient = self._owners.get(award_id)
        if recipient is None:
            return None
        return next((row for row in recipient.rows if row[ROW_ID] == award_id), None)

    def award(self, award_id: str) -> Award | None:
        """The award with this id, or None (only its recipient's awards are looked at)."""
        recipient = self._owners.get(award_id)
        if recipient is None:
            return None
        return next((a for a in recipient.awards if a.id == award_id), None)

    @cached_property
    def renewals(self) -> dict[str, str]:
        """Award id → the id of the award that renews it. A revoked renewal renews nothing
        (validation allows one renewal per award)."""
        return {
            row[ROW_RENEWS]: row[ROW_ID]
            for row in self.award_rows
            if row[ROW_RENEWS] is not None and row[ROW_REVOKED] is None
        }

    def renewal_of(self, award_id: str) -> Award | None:
        """The award that renews the award ``award_id``, or None (see :attr:`renewals`)."""
        renewal = self.renewals.get(award_id)
        return self.award(renewal) if renewal is not None else None

    @cached_property
    def renewed_by(self) -> dict[str, Award]:
        """Award id → the award that renews it (see :attr:`renewals`; this makes their models)."""
        return {renewed: award for renewed in self.renewals if (award := self.renewal_of(renewed)) is not None}
