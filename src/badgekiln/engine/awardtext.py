"""What an award's cache keys read of the award and its earner, as exact text and as digests.

Each award's groups of files are keyed by, among other parts, the award as written and as issued
(without its revocation and suspension, which its credentials never state), with its earner's
slug, name, email and whether the name is shown (:meth:`badgekiln.engine.keys.UnitKeys.award_parts`).
Those two texts' SHA-256 are made here: from the models, or, for a recipient the build cache
handed back without decoding its record (``engine/views.py``), read from the summary the record
keeps beside it, made by :func:`digests` when the file was validated. A rebuild that keys every
award again (a new footer) then decodes no recipient: the workers that make the pages do.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import operator
from collections.abc import Callable
from typing import Any

from badgekiln import models

_FIELDS: dict[type, tuple[str, ...] | None] = {}  # dataclass -> the fields that go into keys


def key_fields(kind: type) -> tuple[str, ...] | None:
    """A dataclass's fields that go into keys (not where in the sources it was written)."""
    if kind not in _FIELDS:
        _FIELDS[kind] = (
            tuple(f.name for f in dataclasses.fields(kind) if f.name not in ("location", "id_pinned"))
            if dataclasses.is_dataclass(kind)
            else None
        )
    return _FIELDS[kind]


def fields_text(value: Any) -> str:
    """The ``repr`` of a dataclass value's fields (those :func:`key_fields` names) as a tuple:
    exact, and cheaper than the dataclass's own ``repr`` (once per award).

    (Dataclass, ``date``, ``str`` and tuple reprs are stable; the Python version is in the code
    fingerprint all the same.)"""
    kind: Any = type(value)  # (a class is hashable: mypy cannot tell for type[Any])
    return repr(_fields_of(kind)(value))


@functools.cache
def _fields_of(kind: type) -> Callable[[Any], tuple[Any, ...]]:
    names = key_fields(kind) or ()
    if len(names) < 2:  # (attrgetter of one name gives the value, not a tuple; of none, it raises)
        return lambda value: tuple(getattr(value, name) for name in names)
    return operator.attrgetter(*names)


def person_text(recipient: models.Recipient) -> str:
    """What every award's keys read of its earner: slug, name, email, whether the name is shown."""
    return repr((recipient.slug, recipient.name, recipient.email, recipient.show_name))


DIGEST = 64  # characters of one digest (SHA-256 in hex)


def digests(recipient: models.Recipient) -> str:
    """Per award of ``recipient`` (in the order of its awards and rows), the SHA-256 in hex of its
    earner's text (:func:`person_text`) and its own (:func:`fields_text`) as written, followed,
    for an award revoked or suspended, by the same as issued (:meth:`badgekiln.models.Award.as_issued`:
    the same award otherwise), in one text (a rebuild keeps one for each recipient of the site:
    not two strings per award)."""
    person = person_text(recipient)
    found = []
    for award in recipient.awards:
        found.append(_sha(person + fields_text(award)))
        issued = award.as_issued()
        if issued is not award:
            found.append(_sha(person + fields_text(issued)))
    return "".join(found)


def withdrawn(row: models.AwardRow) -> bool:
    """Whether the award of ``row`` is revoked or suspended: :func:`digests` then gives it two digests."""
    return row[models.ROW_REVOKED] is not None or row[models.ROW_SUSPENDED] is not None


def length(rows: list[models.AwardRow]) -> int:
    """How long :func:`digests` is for awards of these rows."""
    return DIGEST * (len(rows) + sum(map(withdrawn, rows)))


def pairs(found: str, rows: list[models.AwardRow]) -> list[tuple[str, str]]:
    """Each award's digests in ``found`` (:func:`digests` of the recipient of ``rows``), as written
    and as issued. A text of another length (a damaged cache) gives digests that are no award's:
    its keys are then new, its groups are made, and decoding its record finds the damage."""
    made, at = [], 0
    for row in rows:
        written = found[at : at + DIGEST]
        at += DIGEST
        if withdrawn(row):
            made.append((written, found[at : at + DIGEST]))
            at += DIGEST
        else:
            made.append((written, written))
    return made


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
