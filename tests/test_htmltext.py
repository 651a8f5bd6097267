"""formats/htmltext.py: html.unescape, without its crash on a very long decimal reference."""

from __future__ import annotations

import html

from hypothesis import given, settings
from hypothesis import strategies as st

from badgekiln.formats.htmltext import unescape

_PIECES = st.sampled_from(
    ["&", "#", "x", "X", ";", "0", "9", "1", "a", "f", "amp", "lt", "AElig", " ", "<", "\n", "é", "&#", "&#x"]
)


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=3)), max_size=30).map("".join))
def test_it_is_html_unescape_wherever_html_unescape_gives_an_answer(text):
    assert unescape(text) == html.unescape(text)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=20), st.booleans())
def test_decimal_references_of_any_size_and_leading_zeros(number, zeros, semicolon):
    reference = "&#" + "0" * zeros + str(number) + (";" if semicolon else "")
    assert unescape(f"a{reference}b") == html.unescape(f"a{reference}b")


def test_a_reference_past_python_s_digit_limit_is_a_replacement_character_not_a_crash():
    for digits in ("9" * 4400, "0" * 5000 + "65", "1" + "0" * 5000):
        expected = "A" if digits.endswith("65") and set(digits[:-2]) == {"0"} else "\ufffd"
        assert unescape(f"x&#{digits};y") == f"x{expected}y"
