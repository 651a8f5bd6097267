"""The one JSON serializer (formats/jsonout.py): its bytes are json.dumps's, whichever way it makes them."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from badgekiln.formats import jsonout

# Text with what JSON escapes (quotes, backslashes, control characters), non-ASCII and astral
# characters, U+2028/9 and lone surrogates (which UTF-8 cannot carry: both ways must refuse them).
_TEXT = st.text(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(['"', "\\", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f", "\u2028", "é", "😀"]),
    )
) | st.text(st.characters(), max_size=3)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),  # past 64 bits too
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    _TEXT,
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(_TEXT, inner, max_size=4),
        st.dictionaries(st.integers(-5, 5), inner, max_size=2),  # keys json.dumps turns into text
    ),
    max_leaves=25,
)


def _expected(data, **options):
    try:
        return json.dumps(data, sort_keys=True, ensure_ascii=False, **options).encode("utf-8")
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        return type(exc)


def _actual(dumps, data):
    try:
        return dumps(data)
    except (TypeError, ValueError) as exc:
        return type(exc)


@settings(max_examples=400, deadline=None)
@given(_JSON)
def test_hosted_and_compact_bytes_are_json_dumps_bytes(data):
    hosted = _expected(data, indent=2)
    assert _actual(jsonout.dumps_hosted, data) == (hosted + b"\n" if isinstance(hosted, bytes) else hosted)
    assert _actual(jsonout.dumps_compact, data) == _expected(data, separators=(",", ":"))


def test_a_credential_goes_the_fast_way_and_a_float_the_general_one():
    credential = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:uuid:1", "n": 3, "ok": True}
    assert jsonout._plain(credential)
    assert not jsonout._plain({"points": 2.5})
    assert jsonout.dumps_compact({2: "a", 1: [3]}) == b'{"1":[3],"2":"a"}'  # (orjson refuses the keys)
    for data in ({"x": 1e16, "y": [1e-7, 0.1]}, {"big": 2**70}, {"a": float("nan")}):
        assert jsonout.dumps_hosted(data) == (json.dumps(data, sort_keys=True, indent=2) + "\n").encode()
