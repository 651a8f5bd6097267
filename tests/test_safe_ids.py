"""Ids, slugs and dates that badgekiln writes into YAML read back as the same text (issue 13.3)."""

from __future__ import annotations

import string

import yaml
from conftest import TODAY, build, write_site
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from badgekiln.errors import Diagnostic, SourceLocation
from badgekiln.formats.ids import ALPHABET
from badgekiln.sources.fields import AWARD_ID_RE, Fields
from badgekiln.sources.loading import parse_yaml
from badgekiln.sources.records import (
    add_revocation,
    append_award,
    new_recipient_text,
    pin_award_ids,
    yaml_plain,
)

# What YAML 1.1 and 1.2 readers turn into something other than text, if written plain.
RISKY = [
    "1234567890",
    "0012345670",
    "0123456789",
    "1e5",
    "1e10",
    "0x1f",
    "0o17",
    "0b101",
    "1_000",
    "true",
    "no",
    "yes",
    "off",
    "null",
    "~",
    "2026-03-01",
    "1.5",
    "123.",
    ".inf",
    "-1",
    "+1",
    "12e45",
    "0777",
    "nan",
]

ids = st.one_of(
    st.text(ALPHABET, min_size=10, max_size=10),  # what ids.derive_award_id makes
    st.text("0123456789", min_size=4, max_size=12),  # the all-digit ones (1 in 100,000 derived ids)
    st.from_regex(r"\A[0-9]{1,4}e[0-9]{1,6}\Z"),
    st.from_regex(AWARD_ID_RE, fullmatch=True, alphabet=string.ascii_lowercase + string.digits + "-"),
    st.sampled_from(RISKY),
).filter(lambda value: AWARD_ID_RE.match(value) is not None)


def read_back_id(text: str, rel: str = "recipients/x.yaml") -> list[str]:
    """The award ids of a recipient file as ``badgekiln build`` reads them (errors fail the test)."""
    data = parse_yaml(text, rel)
    diagnostics: list[Diagnostic] = []
    found = []
    for award in data["awards"]:
        fields = Fields(award, SourceLocation(rel), diagnostics, "award")
        found.append(fields.slug("id", pattern=AWARD_ID_RE))
    assert not diagnostics, [d.render() for d in diagnostics]
    return found


@settings(deadline=None)
@given(st.sampled_from(RISKY) | st.text(string.ascii_letters + string.digits + "._-", min_size=1, max_size=12))
@example("0012345670")
def test_yaml_plain_reads_back_as_the_same_text_in_every_reader(value):
    written = f"key: {yaml_plain(value)}\n"
    assert yaml.safe_load(written)["key"] == value  # PyYAML's YAML 1.1 resolver
    assert parse_yaml(written, "x.yaml")["key"] == value  # badgekiln's own loader
    if yaml_plain(value) == value:  # written plain: not a number in YAML 1.2 either
        for number in (float, lambda text: int(text, 0)):
            try:
                number(value)
            except ValueError:
                continue
            raise AssertionError(f"{value} is a YAML 1.2 number but was written plain")


def test_risky_values_are_quoted_and_plain_ones_are_not():
    assert all(yaml_plain(v).startswith('"') for v in RISKY)
    assert yaml_plain("7q4kz2m9xw") == "7q4kz2m9xw"
    assert yaml_plain("first-badge") == "first-badge"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(award_id=ids)
def test_every_way_an_id_is_written_reads_back_the_same(tmp_path, award_id):
    rel = "recipients/x.yaml"
    path = tmp_path / "x.yaml"
    # a new recipient file (badgekiln award)
    fields = [("id", yaml_plain(award_id)), ("badge", "b"), ("issued_on", "2026-01-01")]
    text = new_recipient_text("X", "x@example.org", [fields])
    assert read_back_id(text) == [award_id]
    # an award appended to an existing file (badgekiln award)
    path.write_text(
        "name: X\nemail: x@example.org\nawards:\n  - id: first-one\n    badge: b\n    issued_on: 2026-01-01\n"
    )
    append_award(path, rel, fields, award_id)
    assert read_back_id(path.read_text()) == ["first-one", award_id]
    # an id pinned by the build
    path.write_text("name: X\nemail: x@example.org\nawards:\n  - badge: b\n    issued_on: 2026-01-01\n")
    pin_award_ids(path, rel, [(SourceLocation(rel, 4, 5), award_id)])
    assert read_back_id(path.read_text()) == [award_id]
    # an id pinned by revoke, with its date
    path.write_text("name: X\nemail: x@example.org\nawards:\n  - badge: b\n    issued_on: 2026-01-01\n")
    add_revocation(
        path, rel, SourceLocation(rel, 4, 5), award_id, on="2026-02-01", reason="Issued in error", pin_id=True
    )
    assert read_back_id(path.read_text()) == [award_id]
    assert parse_yaml(path.read_text(), rel)["awards"][0]["revoked"]["on"] == "2026-02-01"


def test_an_unquoted_numeric_id_gets_a_hint_that_quotes_what_the_file_says(minimal_site, run):
    path = minimal_site / "recipients/ann.yaml"
    path.write_text(path.read_text().replace("id: ann-first-1", "id: 0012345670"))
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1
    assert (
        "recipients/ann.yaml:4:9: error[wrong-type]: 'id' must be text, but YAML reads 0012345670 as the "
        "number 2739128; quote it"
    ) in result.err
    assert 'hint: write it in double quotes: id: "0012345670"' in result.err  # not the number YAML made of it
    path.write_text(path.read_text().replace("id: 0012345670", 'id: "0012345670"'))
    assert run("check", "--source", str(minimal_site), "--today", TODAY).code == 0


def test_a_text_field_hint_quotes_the_value_as_written(minimal_site, run):
    path = minimal_site / "recipients/ann.yaml"
    path.write_text(path.read_text().replace("name: Ann Example", "name: 0x1f"))
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert 'put the value in quotes: name: "0x1f"' in result.err


def test_an_all_digit_badge_slug_is_quoted_by_award_and_the_site_builds(minimal_site, run):
    write_site(minimal_site, {"badges/2026.yaml": (minimal_site / "badges/first-badge.yaml").read_text()})
    result = run(
        "award",
        "--name",
        "Bo",
        "--email",
        "bo@example.org",
        "--badge",
        "2026",
        "--issued-on",
        "2026-06-01",
        "--source",
        str(minimal_site),
        "--today",
        TODAY,
    )
    assert result.code == 0, result.err
    assert '    badge: "2026"\n' in (minimal_site / "recipients/bo.yaml").read_text()
    build(run, minimal_site)
    from badgekiln.formats import urls

    assert (minimal_site / "output" / urls.badge_json("2026")).is_file()  # the build read the award back


def test_a_derived_all_digit_id_is_pinned_quoted_and_the_next_build_reads_it(minimal_site, run):
    from badgekiln.formats.ids import derive_award_id

    n, award_id = 0, ""
    while not award_id.isdigit():  # about one derived id in 110,000 is all digits
        n += 1
        award_id = derive_award_id(f"e{n}@example.org", "first-badge", "2026-01-15", 0)
    write_site(
        minimal_site,
        {
            "recipients/digits.yaml": f"""
        name: Dee Gits
        email: e{n}@example.org
        awards:
          - badge: first-badge
            issued_on: 2026-01-15
    """
        },
    )
    first = build(run, minimal_site)
    assert award_id in first.err  # "pinned 1 new award id(s) in recipients/digits.yaml: ..."
    assert f'  - id: "{award_id}"\n' in (minimal_site / "recipients/digits.yaml").read_text()
    second = build(run, minimal_site, "--frozen")
    assert "pinned" not in second.err
    from badgekiln.formats import urls

    assert (minimal_site / "output" / urls.award_dir(award_id)).is_dir()
