"""Recipients the build cache hands back without making their awards' models (issue 15).

A rebuild reuses the validated record of every unchanged recipient file. Decoding every record
into models (about 100,000 awards, 27,000 files) was 0.7 s of a rebuild that changes one award,
and the passes over the whole site read little of them: an award's id, badge, dates, renewal,
pin, revocation and suspension (:data:`badgekiln.models.AwardRow`), and a recipient's slug, email,
membership, location, portfolio and handle. That much of each recipient is kept beside its record
(:func:`summary_text`, made when the file is validated), and a reused record is handed back as a
:class:`LazyRecipient`: those fields at once, its rows, and the rest (its name, awards and CPD log)
decoded from the record's text when something first reads them: the groups of a recipient file
whose bundle key changed, an error that names where an award is, a membership that lapsed.

A :class:`LazyRecipient` is a :class:`~badgekiln.models.Recipient` to everything that reads one:
equal to the recipient its record makes, hashed, printed, pickled and copied as that one, and
:func:`dataclasses.replace` gives a plain ``Recipient``. Nothing is ever computed from the
summary that the record would not give: tests/test_views.py holds every field and row to the
decoded model's. A summary that does not say what its record says (a damaged or altered cache)
is caught when the record is decoded (:class:`Damaged`), and a build that fails any other way
decodes every recipient it read lazily to check (``commands/build.damaged_cache``); one altered
so that it still reads well and fails nothing changes the output unseen, as an altered record
could before: the cache is trusted as the build wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from badgekiln import models
from badgekiln.engine import awardtext, jsonread
from badgekiln.engine.codec import decode, encode
from badgekiln.errors import Diagnostic, SourceLocation
from badgekiln.sources.validate import FileResult

SUMMARY = 3  # the layout of a summary (its first item)


class Damaged(Exception):
    """A record's text does not decode to the recipient its summary describes (a damaged cache:
    the build starts again without it, as for ``cache.CacheRecordDamaged``). ``bundle``: the file."""

    def __init__(self, bundle: str, why: str):
        super().__init__(bundle, why)  # (as it is pickled back)
        self.bundle, self.why = bundle, why

    def __str__(self) -> str:
        return f"{self.bundle}: {self.why}"


def summary_text(result: FileResult) -> str | None:
    """What a rebuild reads of a validated recipient file's ``result`` without decoding it, as JSON
    text: the file's diagnostics (encoded: usually none), and per recipient its slug, email,
    membership date, location (encoded), portfolio flag, handle, rows and its awards' digests
    (:func:`badgekiln.engine.awardtext.digests`: what their keys read of them; a state saved by
    the last build is read without checking them, see :func:`lazy_result`). None when a value
    is not a recipient (nothing of it is then handed back lazily)."""
    if not result.values or any(type(value) is not models.Recipient for value in result.values):
        return None
    recipients = [value for value in result.values if type(value) is models.Recipient]
    data = [
        SUMMARY,
        encode(result.diagnostics),
        [
            [
                r.slug,
                r.email,
                r.membership_until.isoformat() if r.membership_until is not None else None,
                encode(r.location),
                r.portfolio,
                r.handle,
                r.rows,
                awardtext.digests(r),
            ]
            for r in recipients
        ],
    ]
    return jsonread.exact_text(data)  # (a lone surrogate in an email: the json module writes it)


def lazy_result(
    rel: str,
    summary: str,
    record: Callable[[], str | None],
    read_record: Callable[[str], Any],
    reads: tuple[tuple[str, str | None], ...],
    *,
    saved: bool = False,
) -> FileResult | None:
    """The validated result of a recipient file, from its record's ``summary``: the recipients
    are :class:`LazyRecipient` values decoding the text ``record`` gives (None: lost with its shard
    file) by ``read_record``, when first read.
    ``rel``: the file (named if its record turns out damaged); ``reads``: the files it read;
    ``saved``: the summary is in the very state the last build saved (its digest says so, see
    ``engine/cache.py``): its rows are as :func:`summary_text` wrote them, and are not checked
    one by one (100,000 rows, 0.05 s of a rebuild). None when the summary is damaged (the record
    is then read as a whole, or the file validated)."""
    try:
        data = jsonread.exact_value(summary)
        if type(data) is not list or len(data) != 3 or data[0] != SUMMARY or type(data[2]) is not list or not data[2]:
            return None
        diagnostics = decode(data[1])
        if type(diagnostics) is not tuple or not all(type(d) is Diagnostic for d in diagnostics):
            return None
        source = _Source(rel, record, read_record, diagnostics, len(data[2]))
        values = tuple(_lazy(item, index, source, saved) for index, item in enumerate(data[2]))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
        return None
    return FileResult(values, diagnostics, reads)


class _Source:
    """A record's text and how to read it: decoded once, for every recipient of the file."""

    def __init__(
        self,
        rel: str,
        text: Callable[[], str | None],
        read: Callable[[str], Any],
        diagnostics: tuple[Any, ...],
        count: int,
    ):
        self.rel, self.text, self.read = rel, text, read
        self.diagnostics, self.count = diagnostics, count  # (what the summary says: checked against the record)
        self.result: FileResult | None = None
        self._fetched: str | None = None

    def fetch(self) -> bool:
        """Read the record's text now (it is decoded when first needed: see :meth:`values`);
        whether it was read here."""
        if self.result is not None or self._fetched is not None:
            return False
        self._fetched = self.text()
        return self._fetched is not None

    def unfetch(self) -> None:
        """Let go of a text :meth:`fetch` read (asked for again, it is read again from its shard)."""
        self._fetched = None

    def values(self) -> tuple[Any, ...]:
        if self.result is None:
            text, self._fetched = (self._fetched or self.text()), None
            if text is None:
                raise Damaged(self.rel, "its text is missing from the cache")
            try:
                result = decode(self.read(text))
            except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError):
                raise Damaged(self.rel, "its text does not decode") from None
            if type(result) is not FileResult:
                raise Damaged(self.rel, "its text is not a validated file's")
            if len(result.values) != self.count or result.diagnostics != self.diagnostics:
                raise Damaged(self.rel, "its text is not the file its summary describes")
            self.result = result
        return self.result.values


def _lazy(item: Any, index: int, source: _Source, saved: bool = False) -> LazyRecipient:
    """A :class:`LazyRecipient` from a recipient's part of a summary; refuses anything else
    (``saved``: as :func:`summary_text` wrote it, its rows are not checked)."""
    slug, email, until, location, portfolio, handle, rows, digests = item
    location = decode(location)
    if not (
        type(slug) is str
        and type(email) is str
        and (until is None or type(until) is str)
        and (location is None or type(location) is SourceLocation)
        and type(portfolio) is bool
        and (handle is None or type(handle) is str)
        and type(rows) is list
        and (saved or all(_row_ok(row) for row in rows))
        and type(digests) is str
        and (saved or (len(digests) == awardtext.length(rows) and _HEX.fullmatch(digests) is not None))
    ):
        raise TypeError("not a recipient's summary")
    return LazyRecipient.of(
        slug=slug,
        email=email,
        membership_until=date.fromisoformat(until) if until is not None else None,
        location=location,
        portfolio=portfolio,
        handle=handle,
        rows=rows,
        digests=digests,
        source=source,
        index=index,
    )


_HEX = re.compile(r"[0-9a-f]*")  # (the awards' digests: see awardtext.digests)


# The types of a row's items as summary_text writes them: the expiry and the renewal a text or
# None, the revocation and the suspension a list or None (a row's check is one lookup: 100,000
# rows are read on every rebuild).
_ROW_SIGNATURES = frozenset(
    (str, str, str, expires, renews, bool, revoked, suspended)
    for expires in (str, type(None))
    for renews in (str, type(None))
    for revoked in (list, type(None))
    for suspended in (list, type(None))
)


def _row_ok(row: Any) -> bool:
    """Whether ``row`` is an :data:`~badgekiln.models.AwardRow` as :func:`summary_text` writes one."""
    return (
        type(row) is list
        and tuple(map(type, row)) in _ROW_SIGNATURES
        and (row[models.ROW_REVOKED] is None or _withdrawal_ok(row[models.ROW_REVOKED]))
        and (row[models.ROW_SUSPENDED] is None or _withdrawal_ok(row[models.ROW_SUSPENDED]))
    )


def _withdrawal_ok(value: Any) -> bool:
    """A row's revocation or suspension: None, or [ISO date, reason]."""
    return value is None or (len(value) == 2 and type(value[0]) is str and type(value[1]) is str)


_EAGER = ("slug", "email", "membership_until", "location", "portfolio", "handle")  # given by the summary


class LazyRecipient(models.Recipient):
    """A recipient handed back by the build cache: the fields of :data:`_EAGER` and its rows at
    once, the others (name, show_name, awards, cpd) from its record when first read (see the
    module's text). Made only by :meth:`of`; calling the class makes a plain ``Recipient``."""

    def __new__(cls, *args: Any, **kwargs: Any) -> models.Recipient:  # type: ignore[misc]
        return models.Recipient(*args, **kwargs)  # (as dataclasses.replace calls it: a plain model)

    @classmethod
    def of(cls, *, rows: list[Any], digests: str, source: _Source, index: int, **fields: Any) -> LazyRecipient:
        made = object.__new__(cls)
        object.__setattr__(
            made, "__dict__", {**fields, "_rows": rows, "_digests": digests, "_source": source, "_index": index}
        )
        return made

    def model(self) -> models.Recipient:
        """The recipient its record makes (decoded once).

        Raises:
            Damaged: the record does not decode, or not to a recipient the summary describes.
        """
        found = self.__dict__.get("_model")
        if found is None:
            source: _Source = self.__dict__["_source"]
            values = source.values()
            index: int = self.__dict__["_index"]
            found = values[index] if index < len(values) else None
            if type(found) is not models.Recipient or any(
                getattr(found, name) != self.__dict__[name] for name in _EAGER
            ):
                raise Damaged(source.rel, "its text is not the recipient its summary describes")
            if found.rows != self.__dict__["_rows"] or awardtext.digests(found) != self.__dict__["_digests"]:
                raise Damaged(source.rel, "its awards are not those its summary describes")
            self.__dict__["_model"] = found
        return found

    @property
    def rows(self) -> list[models.AwardRow]:
        return self.__dict__["_rows"]  # type: ignore[no-any-return]

    @property  # type: ignore[misc]
    def name(self) -> str:
        return self.model().name

    @property  # type: ignore[misc]
    def show_name(self) -> bool:
        return self.model().show_name

    @property  # type: ignore[misc]
    def awards(self) -> tuple[models.Award, ...]:
        return self.model().awards

    @property  # type: ignore[misc]
    def cpd(self) -> tuple[models.CpdActivity, ...]:
        return self.model().cpd

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyRecipient):
            return self.model() == other.model()
        return self.model() == other if isinstance(other, models.Recipient) else NotImplemented

    def __hash__(self) -> int:
        return hash(self.model())

    def __repr__(self) -> str:
        return repr(self.model())

    def __reduce_ex__(self, protocol: Any) -> Any:  # (pickled and copied as the plain model)
        return (_plain, (self.model(),))


def award_digests(recipient: models.Recipient) -> str:
    """:func:`badgekiln.engine.awardtext.digests` of ``recipient``: for a :class:`LazyRecipient`,
    as its summary says, without decoding it (checked against its model when that is decoded)."""
    if type(recipient) is LazyRecipient:
        return recipient.__dict__["_digests"]  # type: ignore[no-any-return]
    return awardtext.digests(recipient)


def prefetch(recipients: Iterable[Any]) -> list[_Source]:
    """Read the record texts of the :class:`LazyRecipient` among ``recipients`` that are not
    decoded yet, without decoding them: before the workers that will decode them fork (each
    would otherwise read the shard files of its recipients' texts again). Returns the records
    read, for :func:`let_go` once those workers are done."""
    fetched: dict[int, _Source] = {}
    for recipient in recipients:
        if type(recipient) is LazyRecipient and "_model" not in recipient.__dict__:
            source: _Source = recipient.__dict__["_source"]
            if id(source) not in fetched and source.fetch():
                fetched[id(source)] = source
    return list(fetched.values())


def let_go(sources: Iterable[_Source], *, keep: Any = None) -> list[_Source]:
    """Let go of the texts :func:`prefetch` read and nothing here decoded (read again if needed),
    but ``keep``'s (a recipient whose awards the next workers make too); returns those kept."""
    kept_source = keep.__dict__.get("_source") if type(keep) is LazyRecipient else None
    kept = []
    for source in sources:
        if source is kept_source:
            kept.append(source)
        else:
            source.unfetch()
    return kept


def _plain(recipient: models.Recipient) -> models.Recipient:
    """What a pickled or copied :class:`LazyRecipient` becomes: its plain model."""
    return recipient


def damaged(recipients: Iterable[Any]) -> Damaged | None:
    """The first of ``recipients`` whose record is not what its summary says (each
    :class:`LazyRecipient` is decoded: a build that failed checks that the failure did not come
    from a damaged or altered cache), or None."""
    for recipient in recipients:
        if isinstance(recipient, LazyRecipient):
            try:
                recipient.model()
            except Damaged as found:
                return found
    return None
