"""How the build cache keeps validated sources: JSON that only ever becomes the model's own values.

:func:`encode`/:func:`decode` take any model value (validated files, badge classes, recipients,
diagnostics). The layout of a model class is derived from its dataclass fields, and every value
read back is checked against the field's annotation, so adding a field to the model is all the
codec needs. It cannot make anything but the model's classes, ``date`` and plain data; data it
did not write raises ``ValueError``, ``TypeError``, ``KeyError`` or ``IndexError``, and the
cache then validates the file again.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from datetime import date
from typing import Any

from badgekiln import models
from badgekiln.errors import Diagnostic, SourceLocation
from badgekiln.sources.validate import FileResult

# -- a safe codec for validated records (JSON, only the model's own classes) --------------------

_CLASSES = {
    cls.__name__: cls
    for cls in (
        models.Recipient,
        models.Award,
        models.Evidence,
        models.Revocation,
        models.Suspension,
        models.BadgeClass,
        models.Alignment,
        models.Duration,
        models.CpdActivity,
        models.CpdRequirement,
        models.Pathway,
        Diagnostic,
        SourceLocation,
        FileResult,
    )
}


# Compact: a list's first item says what it is ("§t" tuple, "§l" list, "§<class>"), a date is
# "§d<iso date>", and a text that starts with "§" gets one more. It is read on every build.
_MARK = "§"


def encode(value: Any) -> Any:
    """Model values as JSON data that :func:`decode` turns back into equal values."""
    kind = type(value)
    if value is None or kind in (int, bool, float):
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
    if kind is not list:
        return data
    head = data[0]
    if head == "§t":
        return tuple([_item(v) for v in data[1:]])
    if head == "§l":
        return [_item(v) for v in data[1:]]
    return _maker(head[1:])(data)


def _item(value: Any) -> Any:
    kind = type(value)
    return decode(value) if kind is list or (kind is str and value.startswith(_MARK)) else value


@functools.cache
def _decoder(name: str) -> Callable[[list[Any]], Any]:
    """A function that makes the model class ``name`` from its encoded fields, checking each
    against the field's annotation, the items of tuples included. Written out from the
    dataclass's fields (and compiled) once: every build reads thousands of records back."""
    cls = _CLASSES[name]
    allowed = _field_types(cls)
    namespace: dict[str, Any] = {
        "cls": cls,
        "decode": decode,
        "mark": _MARK,
        "new": object.__new__,
        "put": object.__setattr__,
    }
    lines = [
        "def make(data):",
        f"    if len(data) != {len(allowed) + 1}:",
        f"        raise TypeError('a {name} has {len(allowed)} fields')",
    ]
    for number, shape in enumerate(allowed, 1):
        namespace[f"allowed{number}"] = shape
        lines += [
            f"    v{number} = data[{number}]",
            f"    kind = type(v{number})",
            f"    if kind is list or (kind is str and v{number}.startswith(mark)):",
            f"        v{number} = decode(v{number})",
            f"        kind = type(v{number})",
            f"    if kind not in allowed{number}:",
            f"        raise TypeError('a {name} field holds a ' + kind.__name__)",
        ]
        for container, check in shape.items():  # a container: its items are checked too
            if check is None:
                continue
            namespace[f"check{number}"], namespace[f"container{number}"] = check, container
            lines += [f"    if kind is container{number} and v{number}:"]
            if hasattr(check, "plain"):  # written out: the common case (tuples of model values), and fast
                namespace[f"items{number}"] = check.plain
                namespace["type"] = type
                lines += [
                    f"        if not items{number}.issuperset(map(type, v{number})):",
                    f"            raise TypeError('an item of a {name} field has the wrong type')",
                ]
            else:
                lines += [f"        check{number}(v{number})"]
    # Made as its __init__ would make it, without the call: a frozen dataclass's __init__ sets each
    # field through object.__setattr__, which was half of reading a site's sources back. (The
    # model classes have no __post_init__, no __slots__ and no InitVar: _check_plain_init says.)
    _check_plain_init(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    fields = ", ".join(f"{name!r}: v{n}" for n, name in enumerate(names, 1))
    lines += ["    made = new(cls)", f"    put(made, '__dict__', {{{fields}}})", "    return made"]
    exec("\n".join(lines), namespace)  # noqa: S102 - code written here from the dataclass's own fields
    make: Callable[[list[Any]], Any] = namespace["make"]
    return make


@functools.cache
def _maker(name: str) -> Callable[[list[Any]], Any]:
    """How :func:`decode` makes the model class ``name``: :func:`_fast_decoder`'s function when
    every field of the class has a shape it writes out, else :func:`_decoder`'s."""
    if name in _WRITING:  # (a class that holds itself: read by the general decoder)
        return _decoder(name)
    _WRITING.add(name)
    try:
        return _fast_decoder(name) or _decoder(name)
    finally:
        _WRITING.discard(name)


_WRITING: set[str] = set()  # the classes whose fast decoder is being written


class _Unusual(Exception):
    """A record not as :func:`encode` writes it for its class: the general decoder reads it."""


def _fast_decoder(name: str) -> Callable[[list[Any]], Any] | None:
    """A function that makes the model class ``name`` from its fields as :func:`encode` writes
    them, without the general :func:`decode` of each field: each field in its place, a text that
    does not start with the mark, a date as "§d" and its ISO form, a model value or a tuple of
    model values of the class the annotation names (read by that class's own function). Anything
    else, and any error, and the whole record goes to the general decoder (:func:`_decoder`),
    which reads it, or refuses it, as it always did: this one only ever gives back what that one
    gives back (tests/test_cachecodec.py compares them; a review's fuzzing of 320,000 changed
    records found no difference). One exception: using fewer stack frames, it reads a value nested
    more deeply than the general decoder can (which raises ``RecursionError``) — never inside a
    cached record, whose ``FileResult`` the general decoder reads, refusing any deep list in it. A rebuild of 100,000 awards reads about
    27,000 records: the general decoder alone took 1.0 s of it.

    Only ever called with a record whose first item names the class (as :func:`decode` and the
    functions written here call it). None when a field's shape is not one written out here."""
    cls = _CLASSES[name]
    _check_plain_init(cls)
    namespace: dict[str, Any] = {
        "cls": cls,
        "new": object.__new__,
        "put": object.__setattr__,
        "slow": _decoder(name),
        "Unusual": _Unusual,
        "fromiso": date.fromisoformat,
    }
    allowed = _field_types(cls)
    lines = ["def make(data):", "    try:", f"        if len(data) != {len(allowed) + 1}:", "            raise Unusual"]
    for number, shape in enumerate(allowed, 1):
        code = _fast_field(f"v{number}", shape, namespace)
        if code is None:
            return None
        lines += [f"        v{number} = data[{number}]", *(f"        {line}" for line in code)]
    names = [f.name for f in dataclasses.fields(cls)]
    fields = ", ".join(f"{name!r}: v{n}" for n, name in enumerate(names, 1))
    lines += [
        "        made = new(cls)",
        f"        put(made, '__dict__', {{{fields}}})",
        "        return made",
        "    except Exception:",  # (an unusual record, or a damaged one: the general decoder says which)
        "        return slow(data)",
    ]
    exec("\n".join(lines), namespace)  # noqa: S102 - code written here from the dataclass's own fields
    make: Callable[[list[Any]], Any] = namespace["make"]
    return make


def _fast_field(var: str, shape: Shape, namespace: dict[str, Any]) -> list[str] | None:
    """Lines that check ``var`` (a field as read from JSON) against ``shape`` and turn it into
    the model's value, raising ``Unusual`` for anything but the usual encodings; None when the
    shape is not one written out here. Names the lines use go into ``namespace``."""
    kinds = set(shape)
    optional = type(None) in kinds
    kinds.discard(type(None))
    if len(kinds) != 1:
        return None
    (kind,) = kinds
    lines: list[str]
    if kind is str:
        lines = [f"if type({var}) is not str or {var}[:1] == {_MARK!r}:", "    raise Unusual"]
    elif kind in (bool, int, float):
        lines = [f"if type({var}) is not {kind.__name__}:", "    raise Unusual"]
    elif kind is date:
        lines = [
            f"if type({var}) is not str or {var}[:2] != {_MARK + 'd'!r}:",
            "    raise Unusual",
            f"{var} = fromiso({var}[2:])",
        ]
    elif _CLASSES.get(kind.__name__) is kind:
        namespace[f"make_{var}"] = _maker(kind.__name__)
        lines = [
            f"if type({var}) is not list or not {var} or {var}[0] != {_MARK + kind.__name__!r}:",
            "    raise Unusual",
            f"{var} = make_{var}({var})",
        ]
    elif kind is tuple and not optional and len(getattr(shape[tuple], "plain", ())) == 1:
        plain: frozenset[type] = shape[tuple].plain  # type: ignore[union-attr]
        (item,) = plain
        if _CLASSES.get(item.__name__) is not item:
            return None
        namespace[f"make_{var}"] = _maker(item.__name__)
        return [
            f"if type({var}) is not list or not {var} or {var}[0] != {_MARK + 't'!r}:",
            "    raise Unusual",
            "items = []",
            f"for item in {var}[1:]:",
            f"    if type(item) is not list or not item or item[0] != {_MARK + item.__name__!r}:",
            "        raise Unusual",
            f"    items.append(make_{var}(item))",
            f"{var} = tuple(items)",
        ]
    else:
        return None
    if optional:
        return [f"if {var} is not None:", *(f"    {line}" for line in lines)]
    return lines


def _check_plain_init(cls: type) -> None:
    """Refuse a class whose ``__init__`` does more than set its fields (the decoder skips it)."""
    if (
        hasattr(cls, "__post_init__")
        or hasattr(cls, "__slots__")
        or not hasattr(cls, "__dataclass_fields__")
        or any(f._field_type is not dataclasses._FIELD for f in cls.__dataclass_fields__.values())  # type: ignore[attr-defined]
    ):
        raise TypeError(f"{cls.__name__}: the codec makes it without __init__, which it must not need")


# What a value of a field may be: each exact type its annotation admits, with the check of the
# items inside a value of that type (None: nothing inside to check).
Shape = dict[type, Callable[[Any], None] | None]


@functools.cache
def _field_types(kind: type) -> tuple[Shape, ...]:
    """For each field of ``kind``, the shape its annotation admits (derived, never kept by hand)."""
    hints = typing.get_type_hints(kind)
    return tuple(_shape(hints[f.name]) for f in dataclasses.fields(kind))


def _shape(hint: Any) -> Shape:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        merged: Shape = {}
        for arg in args:
            merged.update(_shape(arg))
        return merged
    if origin is typing.Literal:
        return dict.fromkeys({type(arg) for arg in args})
    if origin in (tuple, list) and args:
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return {tuple: _fixed_items([_shape(arg) for arg in args])}
        return {origin: _items(_shape(args[0]))}
    if origin is not None:  # dict[...] (never written by encode: a dict read back is refused by its items)
        return {origin: _refuse}
    return {type(None): None} if hint is None else {hint: None}


def _refuse(value: Any) -> None:
    raise TypeError(f"a {type(value).__name__} is never cached")


def _items(shape: Shape) -> Callable[[Any], None]:
    """The check of a ``tuple[X, ...]`` (or ``list[X]``): every item is of ``shape``."""
    if not any(shape.values()):  # items of plain types or model classes (checked when they were made)
        plain = frozenset(shape)

        def check_plain(value: Any) -> None:
            for item in value:
                if type(item) not in plain:
                    raise TypeError(f"an item holds a {type(item).__name__}")

        check_plain.plain = plain  # type: ignore[attr-defined]  # (for _decoder to write the loop out)
        return check_plain

    def check(value: Any) -> None:
        for item in value:
            _check(shape, item)

    return check


def _fixed_items(shapes: list[Shape]) -> Callable[[Any], None]:
    """The check of a ``tuple[A, B]``: that many items, each of its own shape."""

    def check(value: Any) -> None:
        if len(value) != len(shapes):
            raise TypeError(f"a tuple of {len(value)} items where {len(shapes)} belong")
        for shape, item in zip(shapes, value):
            _check(shape, item)

    return check


def _check(shape: Shape, value: Any) -> None:
    kind = type(value)
    if kind not in shape:
        raise TypeError(f"an item holds a {kind.__name__}")
    inner = shape[kind]
    if inner is not None:
        inner(value)
