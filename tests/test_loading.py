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


# -- libyaml reads the events; PyYAML's own parser is the reference ----------------------------


def _located(node):
    """A node with every location and written text the loader recorded, for comparison."""
    from badgekiln.sources.loading import LocatedDict, LocatedList

    if isinstance(node, LocatedDict):
        return (
            "map",
            node.location,
            dict(node.key_locations),
            dict(node.value_locations),
            dict(node.scalar_texts),
            {key: _located(value) for key, value in node.items()},
        )
    if isinstance(node, LocatedList):
        return ("seq", node.location, list(node.item_locations), [_located(value) for value in node])
    return (type(node).__name__, node)


def _both(text):
    from badgekiln.sources import loading

    results = []
    for parse in (loading.parse_yaml, loading._parse_python):
        try:
            results.append(("ok", _located(parse(text, "t.yaml"))))
        except SourceError as exc:
            results.append(("error", exc.diagnostics()))
    return results


def test_libyaml_reads_the_events_when_it_is_there():
    from badgekiln.sources import loading

    assert loading._CParser is not None  # (PyYAML's wheels are built with libyaml)
    assert isinstance(loading._CLoader("a: 1\n"), loading._CParser)


def test_the_fast_path_reads_every_example_file_as_pyyaml_does():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    files = sorted([*root.glob("recipients/*.yaml"), *root.glob("badges/*.yaml"), *root.glob("site_src/*.yaml")])
    assert len(files) > 10
    for path in files:
        fast, reference = _both(path.read_text(encoding="utf-8"))
        assert fast == reference, path


def test_the_fast_path_agrees_with_pyyaml_on_mutated_sources():
    """Random edits of real sources (Unicode, tabs, byte order marks, line separators, flow and
    block syntax, anchors, tags, documents): the same data and locations, or the same error."""
    import random
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    texts = [
        p.read_text(encoding="utf-8") for p in sorted([*root.glob("recipients/*.yaml"), *root.glob("badges/*.yaml")])
    ]
    pieces = [*" \t\n\r:-#'\"{}[],&*!|>?%@`\\é中\u2028\u2029\x85\ufeffa0.", "---\n", "...\n", "%YAML 1.1\n", "? "]
    pieces += ["\r\n", "\u2028x: 1\n", "x:\n    - 1\n   - 2\n", "  ", "\n  - ", ": ", "a: &x 1\nb: *x\n", "!!str x"]
    rng = random.Random(2026)
    for _ in range(1500):
        text = list(rng.choice(texts))
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(text) + 1)
            if rng.random() < 0.7:
                text[at:at] = list(rng.choice(pieces))
            elif text:
                del text[min(at, len(text) - 1)]
        text = "".join(text)
        fast, reference = _both(text)
        assert fast == reference, repr(text)


@pytest.mark.parametrize(
    "text",
    [
        "name: Ann\nawards:\n  - id: a1\n\tbadge: x\n",  # a tab where the indentation is
        "name: Ann\nawards:\n\t- id: a1\n",
    ],
)
def test_a_tab_in_the_indentation_is_named_as_the_cause(text):
    # (UX review: "found character '\t' that cannot start any token" with advice about quoting)
    with pytest.raises(SourceError) as caught:
        parse_yaml(text, "r.yaml")
    assert "YAML indents with spaces, not tabs" in caught.value.diagnostics()


def test_other_syntax_errors_keep_the_general_hint():
    with pytest.raises(SourceError) as caught:
        parse_yaml("a: [1, 2\n", "r.yaml")
    assert "not tabs" not in caught.value.diagnostics() and "check the indentation" in caught.value.diagnostics()


@pytest.mark.parametrize(
    "text, message, hint",
    [
        (
            "name: Liam\nawards:\n  - badge: first\n   issued_on: 2026-01-01\n",
            "t.yaml:4:4: error[source]: YAML syntax error: line 4 does not line up with the lines above it "
            "(it belongs to the list or mapping that starts at line 3, column 3)",
            "the lines of one list or mapping start in the same column",
        ),
        (
            "name: X\ncriteria: |\n  Passed:\n- one\n",
            "line 4 does not line up with the lines above it",
            "the lines of a text after '|' or '>' are indented further than its key",
        ),
        ("name: Liam: the best\n", "line 1 has a ': ' where a value was expected", 'name: "Liam: the best"'),
    ],
)
def test_yaml_syntax_errors_are_said_in_plain_words(text, message, hint):
    # (first-time provider review: "expected <block end>, but found '?'", with no '?' in the file)
    with pytest.raises(SourceError) as caught:
        parse_yaml(text, "t.yaml")
    rendered = caught.value.diagnostics()
    assert message in rendered and hint in rendered and "<block" not in rendered, rendered
