"""Property tests: random valid sites build safely; random broken sites fail with located errors.

Three properties back promises of docs/security.md:

* any valid site (random Unicode text, slugs, dates, Markdown-ish criteria) builds, and every
  hosted assertion is JSON whose hashed recipient matches the earner while the address itself
  appears nowhere in ``output/``;
* any single mistake made on a valid site (a dropped or misspelt key, a wrong type, an
  impossible date, a bad email, an unknown badge) makes ``badgekiln check`` exit 1 with at least
  one ``path:line:col: error[code]: …`` line and no traceback;
* the YAML reader, fed any text or bytes, returns data or raises ``SourceError``, nothing else.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
import tempfile
from datetime import date, timedelta
from pathlib import Path

import yaml
from conftest import SVG, TODAY
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from badgekiln.cli import main
from badgekiln.errors import SourceError
from badgekiln.formats.ids import identity_hash
from badgekiln.sources.fields import email_in_text, shows_nothing
from badgekiln.sources.loading import decode_utf8, parse_yaml

SLOW = settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)
LOCATED = re.compile(r"^[^:\n]+:\d+(:\d+)?: error\[[a-z-]+\]: ", re.MULTILINE)


def invoke(*args: str) -> tuple[int, str, str]:
    """Run the command line in-process (no pytest fixture: hypothesis runs many examples per test)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def write_tree(root: Path, files: dict[str, object]) -> None:
    """Write dicts as YAML (the way a careful tool would), bytes and text as they are."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False, width=10**9), encoding="utf-8")


# -- strategies for valid sites -------------------------------------------------------------------

# Everything a person can type or paste, minus what validation refuses on purpose (control
# characters, bidi overrides) and what no text file can hold (surrogates, unassigned points).
CHARS = st.characters(
    blacklist_categories=("Cc", "Cs", "Cn", "Zl", "Zp"),
    blacklist_characters="\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
)
# (a line that shows something: U+00AD alone is an empty name, which validation refuses on purpose)
LINE = st.text(CHARS, min_size=1, max_size=50).filter(lambda s: s.strip() and not shows_nothing(s))
SLUG = st.from_regex(r"[a-z0-9][a-z0-9-]{0,15}", fullmatch=True)
AWARD_ID = st.from_regex(r"[a-z0-9][a-z0-9-]{3,15}", fullmatch=True)
MARKDOWN_BITS = st.sampled_from(
    [
        "# ",
        "## ",
        "*",
        "**",
        "_",
        "`",
        "```\n",
        "[",
        "](",
        ")",
        "https://example.org/a?b=1&c=<2>",
        "mailto:a@b.c",
        "javascript:alert(1)",
        "<script>",
        "</p>",
        "<",
        ">",
        "&amp;",
        "&",
        "\n",
        "\n\n",
        "- ",
        "1. ",
        "> ",
        "| a | b |\n",
        "|---|---|\n",
        "---\n",
        " ",
        "word",
        "é",
        "日本語",
        "{{ 7*7 }}",
        "{%",
        "\\",
        "![i](x.png)",
        "<!-- c -->",
        "\t",
    ]
)
MARKDOWN = st.lists(st.one_of(MARKDOWN_BITS, LINE), min_size=1, max_size=30).map("".join).filter(lambda s: s.strip())
EMAIL = st.builds(
    lambda local, domain, tld, shout: f"{local}@{domain}.{tld}".upper() if shout else f"{local}@{domain}.{tld}",
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._%+-]{0,15}", fullmatch=True),
    st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True),
    st.sampled_from(["com", "org", "co.uk", "example"]),
    st.booleans(),
)
DAY = st.dates(min_value=date(2000, 1, 1), max_value=date.fromisoformat(TODAY))  # issuing in the future is an error


# Texts of recipient files hold no email address (the build refuses one: every text there is public).
PUBLIC_LINE = LINE.filter(lambda text: not email_in_text(text))
PUBLIC_MARKDOWN = MARKDOWN.filter(lambda text: not email_in_text(text))


@st.composite
def valid_sites(draw):
    """A random valid site: (files, {award id: normalised email})."""
    badge_slugs = draw(st.lists(SLUG, min_size=1, max_size=3, unique=True))
    files: dict[str, object] = {
        "site_src/site.yaml": {
            "base_url": "https://badges.example.org/",
            "title": draw(LINE),
            "footer": draw(MARKDOWN),
            "issuer": {
                "name": draw(LINE),
                "url": "https://example.org",
                "email": "badges@example.org",
                "description": draw(MARKDOWN),
            },
        },
        "site_src/assets/badge.svg": SVG,
    }
    for slug in badge_slugs:
        badge = {
            "name": draw(LINE),
            "description": draw(MARKDOWN),
            "image": "assets/badge.svg",
            "criteria": draw(MARKDOWN),
        }
        if draw(st.booleans()):
            badge["tags"] = draw(st.lists(LINE, max_size=3))
        if draw(st.booleans()):
            badge["alignment"] = [{"name": draw(LINE), "url": "https://example.org/framework", "code": draw(LINE)}]
        files[f"badges/{slug}.yaml"] = badge
    recipient_slugs = draw(st.lists(SLUG, min_size=1, max_size=3, unique=True))
    award_ids = iter(draw(st.lists(AWARD_ID, min_size=9, max_size=9, unique=True)))
    emails: dict[str, str] = {}
    for slug in recipient_slugs:
        email = draw(EMAIL)
        awards = []
        for _ in range(draw(st.integers(1, 3))):
            issued = draw(DAY)
            award = {
                "id": next(award_ids),
                "badge": draw(st.sampled_from(badge_slugs)),
                "issued_on": issued.isoformat(),
            }
            if draw(st.booleans()):
                award["expires"] = (issued + timedelta(days=draw(st.integers(1, 4000)))).isoformat()
            if draw(st.booleans()):
                award["narrative"] = draw(PUBLIC_MARKDOWN)
            if draw(st.booleans()):
                award["evidence"] = [
                    {
                        "url": "https://example.org/evidence/1",
                        "name": draw(PUBLIC_LINE),
                        "narrative": draw(PUBLIC_MARKDOWN),
                    }
                ]
            if draw(st.integers(0, 4)) == 0:
                revoked_on = min(issued + timedelta(days=draw(st.integers(0, 400))), date.fromisoformat(TODAY))
                award["revoked"] = {"on": revoked_on.isoformat(), "reason": draw(PUBLIC_LINE)}
            emails[award["id"]] = email.strip().lower()
            awards.append(award)
        files[f"recipients/{slug}.yaml"] = {
            "name": draw(PUBLIC_LINE),
            "email": email,
            "show_name": draw(st.booleans()),
            "awards": awards,
        }
    if draw(st.booleans()):
        files[f"site_src/pages/{draw(SLUG)}.md"] = (
            "---\n" + yaml.safe_dump({"title": draw(LINE)}, allow_unicode=True, width=10**9) + "---\n" + draw(MARKDOWN)
        )
    return files, emails


ALLOWED_SCRIPT = re.compile(
    r'<script (?:type="application/ld\+json">|src="(?:\.\./)*assets/(?:badgekiln|verify|check)\.js" defer>)'
)


@settings(SLOW, max_examples=20)
@given(valid_sites())
def test_any_valid_site_builds_with_matching_hashes_and_no_email(site):
    files, emails = site
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        write_tree(root, files)
        code, _, err = invoke("build", "--source", str(root), "--today", TODAY)
        assert code == 0, err
        assert "Traceback" not in err
        out = root / "output"
        for award_id, email in emails.items():
            assertion = json.loads((out / "awards" / award_id / "assertion.json").read_text(encoding="utf-8"))
            identity = assertion["recipient"]
            assert identity["hashed"] is True and identity["type"] == "email"
            assert identity["identity"] == identity_hash(email, identity["salt"])
        addresses = {e.encode() for e in emails.values()}
        for path in out.rglob("*"):
            rel = path.relative_to(out).as_posix().lower()
            assert not any(e.decode() in rel for e in addresses)
            if path.is_file():
                content = path.read_bytes().lower()
                assert not any(e in content for e in addresses), rel
                if path.suffix == ".json":
                    json.loads(content)
                if path.suffix == ".html":
                    text = content.decode("utf-8")
                    assert text.count("<script") == len(ALLOWED_SCRIPT.findall(text)), rel


# -- strategies for broken sites ------------------------------------------------------------------

BASE = {
    "site_src/site.yaml": {
        "base_url": "https://badges.example.org/",
        "issuer": {"name": "Example Issuer", "url": "https://example.org", "email": "badges@example.org"},
    },
    "badges/first-badge.yaml": {
        "name": "First Badge",
        "description": "The first badge.",
        "image": "assets/badge.svg",
        "criteria": "Did the thing.",
        "valid_for": "P3Y",
        "alignment": [{"name": "Role", "url": "https://example.org/role"}],
    },
    "recipients/ann.yaml": {
        "name": "Ann Example",
        "email": "ann@example.com",
        "show_name": True,
        "awards": [
            {
                "id": "ann-first-1",
                "badge": "first-badge",
                "issued_on": "2026-01-15",
                "expires": "2027-01-15",
                "narrative": "Well done.",
                "evidence": [{"url": "https://example.org/e/1", "name": "Record"}],
                "revoked": {"on": "2026-03-01", "reason": "Issued in error"},
            }
        ],
    },
}
# (file, path to a key) of every key validation requires
REQUIRED = [
    ("site_src/site.yaml", ("base_url",)),
    ("site_src/site.yaml", ("issuer",)),
    ("site_src/site.yaml", ("issuer", "name")),
    ("site_src/site.yaml", ("issuer", "url")),
    ("site_src/site.yaml", ("issuer", "email")),
    ("badges/first-badge.yaml", ("name",)),
    ("badges/first-badge.yaml", ("description",)),
    ("badges/first-badge.yaml", ("image",)),
    ("badges/first-badge.yaml", ("criteria",)),
    ("badges/first-badge.yaml", ("alignment", 0, "name")),
    ("badges/first-badge.yaml", ("alignment", 0, "url")),
    ("recipients/ann.yaml", ("name",)),
    ("recipients/ann.yaml", ("email",)),
    ("recipients/ann.yaml", ("awards",)),
    ("recipients/ann.yaml", ("awards", 0, "badge")),
    ("recipients/ann.yaml", ("awards", 0, "issued_on")),
    ("recipients/ann.yaml", ("awards", 0, "revoked", "on")),
    ("recipients/ann.yaml", ("awards", 0, "revoked", "reason")),
]
OPTIONAL = [
    ("badges/first-badge.yaml", ("valid_for",)),
    ("badges/first-badge.yaml", ("alignment",)),
    ("recipients/ann.yaml", ("show_name",)),
    ("recipients/ann.yaml", ("awards", 0, "id")),
    ("recipients/ann.yaml", ("awards", 0, "expires")),
    ("recipients/ann.yaml", ("awards", 0, "narrative")),
    ("recipients/ann.yaml", ("awards", 0, "evidence", 0, "name")),
]
TEXT_KEYS = [
    k
    for k in REQUIRED
    if k[1][-1] in {"name", "description", "criteria", "reason", "base_url", "url", "email", "image"}
]
DATE_KEYS = [("recipients/ann.yaml", ("awards", 0, k)) for k in ("issued_on", "expires")] + [
    ("recipients/ann.yaml", ("awards", 0, "revoked", "on"))
]
IMPOSSIBLE_DATES = [
    "2026-02-30",
    "2025-02-29",
    "2026-13-01",
    "2026-00-10",
    "2026-04-31",
    "2026-01-32",
    "26-01-15",
    "2026/01/15",
    "2026-1-5",
    "15/01/2026",
    "2026-01-15T10:00",
    "tomorrow",
    "",
]
BAD_EMAILS = [
    "ann",
    "ann@",
    "@example.com",
    "ann@example",
    "ann example@example.com",
    "ann@exa mple.com",
    "<ann@example.com>",
    "ann@@example.com",
    "ann@example..com",
    "Ann Example <ann@example.com>",
    "ann@example.com; bob@example.com",
    "ann@-example.com",
]


def _get(data, path):
    for part in path:
        data = data[part]
    return data


def _parent(files, rel, path):
    return _get(files[rel], path[:-1])


def drop_key(files, choice):
    rel, path = choice
    del _parent(files, rel, path)[path[-1]]
    return rel


def _typo(draw, word: str) -> str:
    i = draw(st.integers(0, len(word) - 1))
    kind = draw(st.sampled_from(["swap", "double", "drop", "upper", "dash", "space", "plural"]))
    if kind == "swap" and len(word) > 1:
        j = min(i + 1, len(word) - 1)
        i = j - 1
        return word[:i] + word[j] + word[i] + word[j + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "drop" and len(word) > 1:
        return word[:i] + word[i + 1 :]
    if kind == "upper":
        return word[:i] + word[i].upper() + word[i + 1 :]
    if kind == "dash":
        return word.replace("_", "-") if "_" in word else word + "-"
    if kind == "space":
        return word + " "
    return word + "s"


@st.composite
def broken_sites(draw):
    """BASE with exactly one mistake: (files, the file that holds it, what was done)."""
    files = copy.deepcopy(BASE)
    kind = draw(st.sampled_from(["drop", "misspell", "wrong-type", "date", "order", "email", "badge", "not-a-list"]))
    if kind == "drop":
        rel = drop_key(files, draw(st.sampled_from(REQUIRED)))
    elif kind == "misspell":
        rel, path = draw(st.sampled_from(REQUIRED + OPTIONAL))
        parent = _parent(files, rel, path)
        new = _typo(draw, path[-1])
        assume(new != path[-1] and new not in parent)
        parent[new] = parent.pop(path[-1])
    elif kind == "wrong-type":
        rel, path = draw(st.sampled_from(TEXT_KEYS))
        _parent(files, rel, path)[path[-1]] = draw(st.sampled_from([["a", "b"], {"x": "y"}, 42, 3.5, True, False]))
    elif kind == "date":
        rel, path = draw(st.sampled_from(DATE_KEYS))
        _parent(files, rel, path)[path[-1]] = draw(st.sampled_from(IMPOSSIBLE_DATES + [20260115, True, ["2026-01-15"]]))
    elif kind == "order":
        rel, award = "recipients/ann.yaml", files["recipients/ann.yaml"]["awards"][0]
        issued = date(2026, 1, 15)
        target = draw(st.sampled_from(["expires", "revoked"]))
        earlier = (issued - timedelta(days=draw(st.integers(0 if target == "expires" else 1, 3000)))).isoformat()
        if target == "expires":
            award["expires"] = earlier
        else:
            award["revoked"]["on"] = earlier
    elif kind == "email":
        rel = draw(st.sampled_from(["recipients/ann.yaml", "site_src/site.yaml"]))
        target = files[rel] if rel.startswith("recipients") else files[rel]["issuer"]
        target["email"] = draw(st.sampled_from(BAD_EMAILS))
    elif kind == "badge":
        rel = "recipients/ann.yaml"
        slug = draw(
            st.one_of(
                st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True),
                st.sampled_from(["First-Badge", "first_badge", "../first-badge", "first badge"]),
            )
        )
        assume(slug != "first-badge")
        files[rel]["awards"][0]["badge"] = slug
    else:  # a mapping or list where the other is expected
        rel, path = draw(
            st.sampled_from(
                [
                    ("recipients/ann.yaml", ("awards",)),
                    ("recipients/ann.yaml", ("awards", 0)),
                    ("recipients/ann.yaml", ("awards", 0, "evidence")),
                    ("badges/first-badge.yaml", ("alignment",)),
                    ("site_src/site.yaml", ("issuer",)),
                ]
            )
        )
        _parent(files, rel, path)[path[-1]] = draw(st.sampled_from(["text", 7, {"a": "b"}, [["x"]]]))
    return files, rel, kind


def test_the_unbroken_base_site_is_valid(tmp_path):
    write_tree(tmp_path, {**BASE, "site_src/assets/badge.svg": SVG})
    code, _, err = invoke("check", "--source", str(tmp_path), "--today", TODAY)
    assert code == 0, err


@settings(SLOW, max_examples=40)
@given(broken_sites())
def test_any_single_mistake_is_a_located_error(broken):
    files, rel, kind = broken
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_tree(root, {**files, "site_src/assets/badge.svg": SVG})
        code, out, err = invoke("check", "--source", str(root), "--today", TODAY)
    assert code == 1, (kind, rel, out, err)
    assert "Traceback" not in err
    lines = [m.group(0) for m in LOCATED.finditer(err)]
    assert lines, (kind, rel, err)
    assert any(line.startswith(rel + ":") for line in lines), (kind, rel, err)


# -- the YAML reader never fails in an unplanned way ----------------------------------------------

YAML_BITS = st.sampled_from(
    [
        "a: ",
        "- ",
        "? ",
        ": ",
        "&x ",
        "*x",
        "!!python/object/apply:os.system ",
        "!tag ",
        "!!binary ",
        "<<: ",
        "{",
        "}",
        "[",
        "]",
        ",",
        "|",
        ">",
        "|-",
        "'",
        '"',
        "#",
        "\n",
        "  ",
        "\t",
        "---\n",
        "...\n",
        "%YAML 1.1\n",
        "%TAG ! x\n",
        "2026-02-30",
        "0x1F",
        "0o17",
        "1e999",
        ".nan",
        "~",
        "null",
        "yes",
        "no",
        "on",
        "true",
        "1:20:30",
        "\\",
        "\\u0000",
        "\\x85",
        "\ufeff",
        "\u2028",
        "é",
        "\x85",
        "\x00",
        "=",
        "name",
        "email",
        "awards",
    ]
)


@settings(max_examples=300, deadline=None)
@example("name: Ann\x0bExample\n")  # Word's manual line break, pasted
@given(st.one_of(st.text(max_size=300), st.lists(YAML_BITS, max_size=40).map("".join)))
def test_parse_yaml_returns_data_or_raises_source_error(text):
    try:
        parse_yaml(text, "fuzz.yaml")
    except SourceError as exc:
        assert exc.diagnostic.location is not None and exc.diagnostic.location.path == "fuzz.yaml"


@settings(max_examples=150, deadline=None)
@example(b"name: Ann\x00\n")
@given(st.binary(max_size=300))
def test_bytes_to_data_raises_only_source_error(raw):
    try:
        parse_yaml(decode_utf8(raw, "fuzz.yaml"), "fuzz.yaml")
    except SourceError:
        pass
