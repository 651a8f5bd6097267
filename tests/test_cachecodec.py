"""The build cache's codec for validated sources gives back equal values, locations included."""

from __future__ import annotations

import json
from datetime import date

import pytest

from badgekiln import models
from badgekiln.engine.codec import decode, encode
from badgekiln.errors import Diagnostic, SourceLocation
from badgekiln.sources.validate import FileResult

PATH = "recipients/x.yaml"


def _recipient() -> models.Recipient:
    awards = (
        models.Award(
            "a-1",
            "b",
            "x",
            date(2020, 2, 29),
            date(2021, 2, 28),
            "§ starts with the mark",
            (models.Evidence("https://e.example/1", None, "n", None), models.Evidence(None, "t", None, "d")),
            models.Revocation(date(2020, 3, 1), "why"),
            suspended=models.Suspension(date(2020, 3, 1), "membership lapsed", computed=True),
            renews="a-0",
            id_pinned=False,
            location=SourceLocation(PATH, 5, 5),
        ),
        models.Award("a-2", "b", "x", date(1, 1, 1), None, None, (), None, location=SourceLocation(PATH, 9, 3)),
    )
    cpd = (
        models.CpdActivity(date(2020, 1, 2), 7.5, "Webinar §", None, SourceLocation(PATH, 12, 5)),
        models.CpdActivity(date(2020, 1, 3), 3.0, "Course", "https://e.example/c"),
    )
    return models.Recipient(
        "x",
        "Name §",
        "e@x.example",
        False,
        awards,
        membership_until=date(2027, 6, 30),
        location=SourceLocation(PATH, 1, 1),
        cpd=cpd,
        portfolio=True,
        handle="x-1",
    )


def test_recipients_round_trip_through_json_with_their_locations():
    recipient = _recipient()
    back = decode(json.loads(json.dumps(encode([recipient]))))
    assert back == [recipient]
    assert back[0].location == recipient.location  # (locations are not part of ==)
    assert [a.location for a in back[0].awards] == [a.location for a in recipient.awards]


def test_generic_codec_round_trips_diagnostics_and_badges():
    values = [
        Diagnostic("warning", "w", "§ text", SourceLocation("badges/b.yaml", 2, 3), None),
        models.BadgeClass(
            "b",
            "B",
            "d",
            "assets/b.png",
            "c",
            ("t",),
            models.Duration(1, 0, 0, "P1Y"),
            (models.Alignment("a", "https://a.example"),),
            "Certificate",
            remind_before=(models.Duration(0, 0, 60, "P60D"),),
            renewal_url="https://example.org/renew",
            requires_membership=True,
            location=SourceLocation("badges/b.yaml", 1, 1),
        ),
    ]
    assert decode(json.loads(json.dumps(encode(values)))) == values


def test_cpd_requirements_and_pathways_round_trip():
    badge = models.BadgeClass(
        "p",
        "P",
        "d",
        "assets/p.svg",
        "c",
        cpd=models.CpdRequirement(20.0, models.Duration(years=1, text="P1Y"), SourceLocation(PATH, 3, 6)),
        requires=models.Pathway(
            ("a", "b"), 1, False, True, SourceLocation(PATH, 4, 11), (SourceLocation(PATH, 4, 20),)
        ),
    )
    back = decode(json.loads(json.dumps(encode([badge]))))
    assert back == [badge] and back[0].requires.item_locations == badge.requires.item_locations
    assert type(back[0].cpd.points) is float


def test_a_validated_file_round_trips_with_what_it_depended_on():
    result = FileResult(
        (_recipient(),),
        (Diagnostic("warning", "w", "m", SourceLocation(PATH, 1, 1), None),),
        (("site_src/assets/b.png", "ab" * 32),),
        date(2021, 2, 28),
    )
    assert decode(json.loads(json.dumps(encode(result)))) == result


def test_a_field_added_to_the_model_needs_no_change_to_the_codec():
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Grown:
        name: str
        added: date | None = None

    from badgekiln.engine import codec as cachecodec

    cachecodec._CLASSES["Grown"] = Grown
    try:
        assert decode(json.loads(json.dumps(encode(Grown("x", date(2026, 1, 2)))))) == Grown("x", date(2026, 1, 2))
    finally:
        del cachecodec._CLASSES["Grown"]


def test_decoded_values_are_whole_dataclasses_and_a_class_that_needs_its_init_is_refused():
    """The decoder makes values without calling ``__init__`` (it was half of reading a site back):
    they compare, hash and print as made ones, and a class whose ``__init__`` does more is refused."""
    import dataclasses

    from badgekiln.engine import codec as cachecodec

    made = _recipient()
    back = decode(json.loads(json.dumps(encode(made))))
    assert back == made and hash(back.awards) == hash(made.awards) and repr(back) == repr(made)
    with pytest.raises(dataclasses.FrozenInstanceError):
        back.name = "changed"  # type: ignore[misc]

    @dataclasses.dataclass(frozen=True)
    class Checked:
        name: str

        def __post_init__(self) -> None:
            raise ValueError("never skipped")

    cachecodec._CLASSES["Checked"] = Checked
    try:
        with pytest.raises(TypeError, match="without __init__"):
            decode(["§Checked", "x"])
    finally:
        del cachecodec._CLASSES["Checked"]


_GOOD = encode(_recipient())


@pytest.mark.parametrize(
    "damaged",
    [
        ["§Recipient"],
        ["§Recipient", "x", "N", "e", True, ["§t", ["§Award", "a-1"]], None],
        ["§Recipient", "x", 5, "e", True, ["§t"], None],
        ["§Nope", 1],
        ["§Recipient", *_GOOD[1:6], 7],
        ["§Award", *[None] * 10],
    ],
)
def test_damaged_records_raise_so_the_file_is_validated_again(damaged):
    with pytest.raises((ValueError, TypeError, KeyError, IndexError)):
        decode(damaged)


# -- the fast decoder gives back what the general one does, or refuses what it refuses ----------

# Values put in place of each part of a record: each kind of JSON value, texts with the mark
# (escaped, a date, a bad date, a class), and the start of each kind of encoded list.
_SWAPS = [
    None,
    True,
    False,
    0,
    7,
    1.5,
    "",
    "x",
    "§",
    "§§x",
    "§x",
    "§d2020-02-29",
    "§dnope",
    "§x2020-02-29",
    "xx2020-02-29",
    "§t",
    [],
    ["§t"],
    ["§l"],
    ["§t", "x"],
    ["§Award"],
    ["§Evidence", None, None, None, None],
    ["§SourceLocation", "p", 1, 2],
    ["§Revocation", "§d2020-01-01", "r"],
    {},
    {"a": 1},
]


def _places(value, path=()):
    """Every place in an encoded value: the path of indexes that reaches it."""
    yield path
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _places(item, (*path, index))


def _replaced(value, path, new):
    if not path:
        return new
    copy = list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copy


def _outcome(data):
    """What decoding ``data`` gives: the exact encoded form of the value (types shown by repr), or
    the kind of error."""
    try:
        return repr(encode(decode(data)))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as e:
        return type(e).__name__ if not isinstance(e, (ValueError, TypeError)) else "refused"


def _plain_recipient() -> models.Recipient:
    """A recipient whose every part the fast decoder reads (no text starting with the mark)."""
    award = models.Award(
        "a-1",
        "b",
        "x",
        date(2020, 2, 29),
        None,
        "n",
        (models.Evidence("https://e.example/1", None, "n", None),),
        models.Revocation(date(2020, 3, 1), "why"),
        renews="a-0",
        location=SourceLocation(PATH, 5, 5),
    )
    return models.Recipient("x", "N", "e@x.example", True, (award,), location=SourceLocation(PATH, 1, 1))


@pytest.mark.parametrize("made", [_plain_recipient(), _recipient()], ids=["plain", "with-marks"])
def test_the_fast_decoder_agrees_with_the_general_one_on_every_change_to_a_record(made, monkeypatch):
    """Each part of a recipient's record replaced by each of many values, a list's item dropped or
    added: the fast path (``_maker``) and the general decoder alone give the same value, or both
    refuse."""
    from badgekiln.engine import codec as cachecodec

    good = encode(made)
    cases = [good]
    for path in _places(good):
        cases.extend(_replaced(good, path, new) for new in _SWAPS)
        target = good
        for index in path:
            target = target[index]
        if isinstance(target, list) and len(target) > 1:
            cases.append(_replaced(good, path, target[:-1]))
            cases.append(_replaced(good, path, [*target, target[-1]]))
    fast = [_outcome(case) for case in cases]
    monkeypatch.setattr(cachecodec, "_maker", cachecodec._decoder)
    general = [_outcome(case) for case in cases]
    assert len(cases) > 1000
    assert fast == general
    assert fast[0] == repr(good) and sum(outcome == "refused" for outcome in fast) > len(cases) // 2


def test_the_fast_decoder_is_the_one_used_for_recipients_and_awards():
    from badgekiln.engine import codec as cachecodec

    for name in ("Recipient", "Award", "Evidence", "SourceLocation", "Revocation", "Suspension", "CpdActivity"):
        assert cachecodec._maker(name) is not cachecodec._decoder(name)
        assert cachecodec._maker(name).__globals__["slow"] is cachecodec._decoder(name)
