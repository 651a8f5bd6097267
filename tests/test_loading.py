"""The safe YAML loader: located values, no tags, aliases or duplicate keys, strict dates."""

import pytest

from badgekiln.errors import SourceError
from badgekiln.sources.loading import decode_utf8, parse_yaml


def test_values_remember_their_line_and_column():
    data = parse_yaml("name: Ann\nawards:\n  - badge: x\n", "r.yaml")
    assert str(data.value_locations["name"]) == "r.yaml:1:7"
    assert str(data["awards"].item_locations[0]) == "r.yaml:3:5"


@pytest.mark.parametrize(
    "text, message, where",
    [
        ("a: &x 1\nb: *x\n", "anchors", "t.yaml:1:4"),
        ("a: !!python/object:os.system 1\n", "tags", "t.yaml:1:4"),
        ("a: 1\nb: 2\na: 3\n", "duplicate key 'a'", "t.yaml:3:1"),
        ("a: [1, 2\n", "YAML syntax error", "t.yaml:2:1"),
        ("a:\n" + "".join("  " * i + "- \n" for i in range(1, 20)), "nested", None),
    ],
)
def test_unsafe_or_broken_yaml_is_refused_with_a_location(text, message, where):
    with pytest.raises(SourceError) as caught:
        parse_yaml(text, "t.yaml")
    rendered = caught.value.diagnostics()
    assert message in rendered
    if where:
        assert rendered.startswith(where)


def test_dates_stay_text_and_only_true_false_are_booleans():
    data = parse_yaml("d: 2026-02-30\nn: no\nt: true\ny: yes\n", "t.yaml")
    assert data == {"d": "2026-02-30", "n": "no", "t": True, "y": "yes"}


def test_invalid_utf8_names_the_line_and_column():
    with pytest.raises(SourceError) as caught:
        decode_utf8(b"name: ok\nemail: caf\xe9@example.com\n", "r.yaml")
    assert caught.value.diagnostics().startswith("r.yaml:2:11: error[source]: the file is not valid UTF-8")


def test_a_byte_order_mark_is_accepted():
    assert decode_utf8(b"\xef\xbb\xbfname: x", "r.yaml") == "name: x"
