"""How the build cache keeps validated sources: JSON that only ever becomes the model's own values.

Two codecs. :func:`encode`/:func:`decode` take any model value (badge classes, diagnostics).
:func:`encode_recipients`/:func:`decode_recipients` are the compact, fixed layout of the bulk
of a site, its recipient files: 10,000 awards are read back on every build, and this layout
reads about three times faster. Neither can make anything but the model's classes, ``date``
and plain data; data they did not write raises ``ValueError``, ``TypeError``, ``KeyError`` or
``IndexError``, and the cache then validates the file again.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from . import models
from .errors import Diagnostic, SourceLocation

# -- a safe codec for validated records (JSON, only the model's own classes) --------------------

_CLASSES = {cls.__name__: cls for cls in (models.Recipient, models.Award, models.Evidence, models.Revocation,
                                          models.BadgeClass, models.Alignment, models.Duration, Diagnostic,
                                          SourceLocation)}


# Compact: a list's first item says what it is ("§t" tuple, "§l" list, "§<class>"), a date is
# "§d<iso date>", and a text that starts with "§" gets one more. It is read on every build.
_MARK = "§"


def encode(value: Any) -> Any:
    """Model values as JSON data that :func:`decode` turns back into equal values."""
    kind = type(value)
    if value is None or kind in (int, bool):
        return value
    if kind is str:
        return _MARK + value if value.startswith(_MARK) else value
    if kind.__name__ in _CLASSES and _CLASSES[kind.__name__] is kind:
        return [_MARK + kind.__name__, *[encode(getattr(value, f.name)) for f in dataclasses.fields(kind)]]
    if kind is date:
        return _MARK + "d" + value.isoformat()
    if kind in (tuple, list):
        return [_MARK + ("t" if kind is tuple else "l"), *[encode(v) for v in value]]
    raise TypeError(f"cannot cache a {kind.__name__}")


def decode(data: Any) -> Any:
    """The inverse of :func:`encode`; refuses anything it did not write."""
    kind = type(data)
    if kind is str:
        if data.startswith(_MARK):
            return date.fromisoformat(data[2:]) if data[1] == "d" else data[1:]
        return data
    if kind is list:
        head = data[0]
        items = [decode(v) if type(v) is list or (type(v) is str and v.startswith(_MARK)) else v for v in data[1:]]
        if head == "§t":
            return tuple(items)
        if head == "§l":
            return items
        return _CLASSES[head[1:]](*items)
    return data


def encode_recipients(recipients: list[models.Recipient]) -> list:
    """The recipients of one file in the compact layout (the file's path is not repeated)."""
    return [[r.slug, r.name, r.email, r.show_name, r.location.line, r.location.col,
             [_encode_award(a) for a in r.awards]] for r in recipients]


def _encode_award(award: models.Award) -> list:
    revoked = award.revoked
    return [award.id, award.badge, award.issued_on.toordinal(), award.expires.toordinal() if award.expires else None,
            award.narrative, [[e.url, e.narrative, e.name, e.description] for e in award.evidence],
            [revoked.on.toordinal(), revoked.reason] if revoked else None, award.id_pinned,
            award.location.line, award.location.col]


def decode_recipients(data: list, path: str) -> list[models.Recipient]:
    """The inverse of :func:`encode_recipients` for the file at ``path``."""
    day = date.fromordinal
    recipients = []
    for slug, name, email, show_name, line, col, awards in data:
        recipients.append(models.Recipient(slug, _text(name), _text(email), show_name is True, tuple(
            models.Award(_text(award_id), _text(badge), slug, day(issued),
                         day(expires) if expires is not None else None,
                         narrative if narrative is None else _text(narrative),
                         tuple(models.Evidence(*(v if v is None else _text(v) for v in e)) for e in evidence),
                         models.Revocation(day(revoked[0]), _text(revoked[1])) if revoked is not None else None,
                         pinned is True, SourceLocation(path, at_line, at_col))
            for award_id, badge, issued, expires, narrative, evidence, revoked, pinned, at_line, at_col in awards),
            SourceLocation(path, line, col)))
    return recipients


def _text(value: Any) -> str:
    if type(value) is not str:
        raise TypeError("a text was expected")
    return value
