"""T11: a hostile badge given to ``verify`` gets a verdict ("not valid: …", exit status 1), never a
traceback: absurd JSON, absurd JWS, wrong types in every field; and a fuzz target that mutates the
example site's real credentials, JWS and assertions.

The verifier has a last-resort net (a check named ``verifier error``) that turns an unexpected
exception into a verdict; these tests fail when it is needed, so they find the bugs it would hide.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import TODAY, copy_example
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from badgekiln.cli import main
from badgekiln.commands.verify import render_json, render_text
from badgekiln.formats.jsonout import dumps_hosted
from badgekiln.verifying import VerifyOptions, offline_fetcher, verify_bytes
from badgekiln.verifying.detect import INTERNAL_CHECK

BASE = "https://badges.northwind.example/"
AWARD = "7q4kz2m9xw"
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The example site with real keys, built once; returns output/."""
    source = copy_example(tmp_path_factory.mktemp("hostile-example"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))
        mp.setenv("BADGEKILN_KEYS_DIR", str(tmp_path_factory.mktemp("hostile-keys")))
        mp.delenv("BADGEKILN_PRIVATE_KEYS", raising=False)
        for args in (["keys", "generate"], ["build"]):
            with pytest.raises(SystemExit) as done:
                main([*args, "--source", str(source), "--today", TODAY])
            assert done.value.code == 0
    return source / "output"


def _verify(data: bytes, output: Path):
    options = VerifyOptions(fetch=offline_fetcher({BASE: output}, fallback=None), now=NOW, clock=NOW)
    return verify_bytes(data, options)


def _assert_verdict(result) -> None:
    """A verdict with no unexpected exception behind it, which both reports can show."""
    assert INTERNAL_CHECK not in [c.name for c in result.checks], result.checks
    render_text(result)
    json.loads(render_json(result))
    dumps_hosted(result.to_dict())


# ------------------------------------------------------------------------------- hostile cases
def _jws(header: Any, payload: Any, signature: bytes = b"\x00" * 256) -> str:
    def part(value: Any) -> str:
        return _b64(value if isinstance(value, bytes) else json.dumps(value).encode())

    return f"{part(header)}.{part(payload)}.{_b64(signature)}"


RAW = {
    "100,000 [": b"[" * 100_000,
    "100,000 {": b'{"a":' * 100_000,
    "deep but parseable": b'{"a":' + b"[" * 500 + b"]" * 500 + b"}",
    "1e999999": b'{"@context": 1e999999}',
    "5000-digit int": b'{"n": ' + b"9" * 5000 + b"}",
    "10**5000 in a credential": b'{"type": ["VerifiableCredential"], "validFrom": 1' + b"0" * 5000 + b"}",
    "NaN": b'{"n": NaN}',
    "-Infinity": b'{"n": -Infinity}',
    "duplicate keys": b'{"id": "https://a.example/", "id": "https://b.example/"}',
    "not UTF-8": b'{"name": "\xff\xfe\xfd"}',
    "UTF-16": '{"name": "x"}'.encode("utf-16"),
    "lone surrogate": b'{"type": ["VerifiableCredential"], "name": "\\ud800"}',
    "control characters": b'{"type": "Assertion", "badge": "\x1b]0;pwned\x07", "recipient": {}}',
    "empty": b"",
    "a JSON string": b'"https://badges.northwind.example/"',
    "a JSON array": b"[1, 2, 3]",
    "null": b"null",
    "huge base64 JWS": b"A" * 3_000_000 + b"." + b"A" * 10 + b".AA",
    "absurd JWS segments": b"a.b.c",
    "JWS header NaN": _jws(b'{"alg": "RS256", "x": NaN}', {"vc": {}}).encode(),
    "JWS header 1e999": _jws(b'{"alg": "RS256", "x": 1e999}', {"vc": {}}).encode(),
    "JWS header deep": _jws(b"[" * 50_000, {"vc": {}}).encode(),
    "JWS header array": _jws([1], {"vc": {}}).encode(),
    "JWS payload deep": _jws({"alg": "RS256"}, b'{"a":' * 50_000).encode(),
    "JWS payload huge int": _jws({"alg": "RS256"}, b'{"vc": {}, "exp": ' + b"9" * 4000 + b"}").encode(),
    "JWT exp 1e300": _jws(
        {"alg": "RS256", "kid": "https://x.example/k"},
        b'{"vc": {"type": ["VerifiableCredential"]}, "exp": 1e300, "nbf": -1e300}',
    ).encode(),
    "JWT jwk absurd": _jws(
        {"alg": "RS256", "jwk": {"kty": "RSA", "n": "A" * 100_000, "e": "A" * 5000}},
        {"vc": {"type": ["VerifiableCredential", "OpenBadgeCredential"], "issuer": "did:key:z"}},
    ).encode(),
    "JWT jwk wrong types": _jws(
        {"alg": "RS256", "jwk": {"kty": 5, "n": [], "e": {}}}, {"type": ["VerifiableCredential"], "issuer": {"id": 3}}
    ).encode(),
}


@pytest.mark.parametrize("name", list(RAW))
def test_absurd_input_gets_a_verdict_from_the_command_line(site, run, tmp_path, name):
    path = tmp_path / "badge.txt"
    path.write_bytes(RAW[name])
    result = run("verify", str(path), "--json", "--offline-root", f"{BASE}={site}")
    assert result.code == 1 and "Traceback" not in result.err, result.err
    report = json.loads(result.out)
    assert report["valid"] is False and report["checks"], report
    assert INTERNAL_CHECK not in [c["name"] for c in report["checks"]], report["checks"]
    assert report["checks"][-1]["detail"] or report["checks"][-1]["name"]
    text = run("verify", str(path), "--offline-root", f"{BASE}={site}")
    assert text.code == 1 and text.out.splitlines()[-1].startswith("✘ NOT VALID"), text.out
    assert "\x1b" not in text.out and "\x07" not in text.out


def test_numbers_and_nesting_are_named_in_the_verdict(site, run, tmp_path):
    for raw, needle in (
        (b"[" * 100_000, "nested"),
        (b'{"n": 1e999999}', "too large"),
        (b'{"n": ' + b"9" * 5000 + b"}", "5000 digits"),
        (b'{"n": NaN}', "NaN is not JSON"),
        (b'{"a": 1, "a": 2}', "duplicate name 'a'"),
        (b'{"a": "\\udfff"}', "lone surrogate"),
    ):
        (tmp_path / "b.json").write_bytes(raw)
        result = run("verify", str(tmp_path / "b.json"), "--json")
        report = json.loads(result.out)
        assert result.code == 1 and needle in report["checks"][-1]["detail"], (raw[:20], report)


WRONG_TYPES: list[Any] = [
    5,
    -1,
    1.5,
    True,
    None,
    "",
    "x",
    [],
    [5],
    {},
    {"id": 3},
    [{}],
    [[]],
    "\x00",
    "https://10.0.0.1/",
    {"id": ["a"]},
]


def _credential(site: Path) -> dict:
    return json.loads((site / "awards" / AWARD / "credential.json").read_text())


def _assertion(site: Path) -> dict:
    return json.loads((site / "awards" / AWARD / "assertion.json").read_text())


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replace(document: Any, path: tuple, value: Any) -> Any:
    copy = json.loads(json.dumps(document))
    node = copy
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copy


@pytest.mark.parametrize("which", ["credential", "assertion"])
def test_wrong_types_in_every_field_give_a_verdict(site, which):
    """Every field of a real credential and assertion, replaced by wrong types (3 a field, taking
    turns through WRONG_TYPES, so that every wrong type meets many fields)."""
    document = _credential(site) if which == "credential" else _assertion(site)
    count = 0
    for number, path in enumerate(_paths(document)):
        for wrong in (WRONG_TYPES[(3 * number + k) % len(WRONG_TYPES)] for k in range(3)):
            result = _verify(json.dumps(_replace(document, path, wrong)).encode(), site)
            _assert_verdict(result)
            if document_value(document, path) != wrong:
                assert not result.valid, (path, wrong)
            count += 1
    assert count > 50


def document_value(document: Any, path: tuple) -> Any:
    for step in path:
        document = document[step]
    return document


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("proof", 5),
        ("credentialSubject", []),
        ("issuer", {"id": 3}),
        ("@context", 5),
        ("type", {}),
        ("credentialStatus", "x"),
        ("validFrom", 10**30),
        ("proof", [{"verificationMethod": "did:key:" + "z" * 100_000}]),
    ],
)
def test_the_issue_examples_of_wrong_types(site, field, value):
    result = _verify(json.dumps({**_credential(site), field: value}).encode(), site)
    _assert_verdict(result)
    assert not result.valid and result.failed


# ----------------------------------------------------------------------------------- fuzzing
@pytest.fixture(scope="module")
def seeds(site) -> list[bytes]:
    """Real documents of the example site: credentials (embedded proof and VC-JWT), assertions, JWS."""
    folder = site / "awards" / AWARD
    return [
        (folder / name).read_bytes().strip()
        for name in ("credential.json", "credential.jwt", "assertion.json", "assertion.jws")
    ]


HOSTILE_VALUES = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.booleans(),
    st.none(),
    st.just([]),
    st.just({}),
    st.recursive(
        st.one_of(st.integers(), st.text(max_size=5)),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(st.sampled_from(["id", "type", "@context", "proof"]), inner, max_size=3),
        ),
        max_leaves=8,
    ),
    st.sampled_from(
        [
            "did:web:10.0.0.1",
            "did:key:z6Mk",
            "https://127.0.0.1/x",
            "urn:uuid:1",
            "#key-0",
            "2026-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "sha256$00",
            "u" + "A" * 40,
        ]
    ),
)
PLACEHOLDER = "\u0000raw value\u0000"
RAW_VALUES = st.sampled_from(
    [
        b"1e999",
        b"-1e999",
        b"1e308",
        b"-1e308",
        b"NaN",
        b"Infinity",
        b"9" * 5000,
        b"9" * 99,
        b"[" * 3000 + b"]" * 3000,
        b'{"a":' * 3000 + b"1" + b"}" * 3000,
        b'"\\ud800"',
        b'"\\u0000"',
        b"1" + b"0" * 40,
        b"-0.0",
        b"5e-324",
    ]
)
TOKENS = st.sampled_from(
    [
        b"[",
        b"]",
        b"{",
        b"}",
        b",",
        b":",
        b'"',
        b"\\",
        b"1e999",
        b"NaN",
        b"-0",
        b"\x00",
        b"\xff",
        b"\\ud800",
        b"9" * 500,
        b"[" * 200,
        b".",
        b"=",
        b"null",
        b"true",
    ]
)


def _split_jws(seed: bytes) -> list[bytes] | None:
    parts = seed.split(b".")
    return parts if len(parts) == 3 and not seed.startswith(b"{") else None


@st.composite
def mutated(draw, seeds: list[bytes]) -> bytes:
    seed = draw(st.sampled_from(seeds))
    how = draw(st.sampled_from(["structure", "bytes", "tokens", "segments"]))
    parts = _split_jws(seed)
    if how == "structure":  # a field replaced by any JSON value, or deleted; signatures left as they were
        if parts:
            payload = json.loads(base64.urlsafe_b64decode(parts[1] + b"=" * (-len(parts[1]) % 4)))
        else:
            payload = json.loads(seed)
        paths = _paths(payload)
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["value", "raw", "delete"]))
        if action == "delete":
            payload = json.loads(json.dumps(payload))
            parent = document_value(payload, path[:-1])
            del parent[path[-1]]
        else:
            payload = _replace(payload, path, PLACEHOLDER if action == "raw" else draw(HOSTILE_VALUES))
        text = json.dumps(payload).encode().replace(json.dumps(PLACEHOLDER).encode(), draw(RAW_VALUES), 1)
        return b".".join([parts[0], _b64(text).encode(), parts[2]]) if parts else text
    if how == "segments" and parts:  # one JWS segment replaced by base64url of anything
        index = draw(st.integers(0, 2))
        parts = list(parts)
        parts[index] = _b64(draw(st.binary(max_size=200) | TOKENS.map(lambda t: t * 50))).encode()
        return b".".join(parts)
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):  # flips, insertions, deletions, tokens
        at = draw(st.integers(0, len(data)))
        if how == "tokens":
            data[at:at] = draw(TOKENS)
        elif draw(st.booleans()) and at < len(data):
            data[at] = draw(st.integers(0, 255))
        else:
            del data[at : at + draw(st.integers(0, 40))]
    return bytes(data)


def test_fuzz_mutated_real_documents_always_get_a_verdict(site, seeds):
    for seed in seeds:  # the seeds themselves verify: mutations start from the real thing
        assert _verify(seed, site).valid

    @settings(
        max_examples=400,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    )
    @given(mutated(seeds))
    def run(data: bytes) -> None:
        _assert_verdict(_verify(data, site))

    run()


def test_an_unclosed_ipv6_bracket_in_an_id_gets_a_verdict(site):
    # (found by the fuzz test above: "https://[host/…" made urlsplit raise inside is_web_url)
    data = (
        (site / "awards" / AWARD / "assertion.json")
        .read_bytes()
        .replace(b'"id": "https://badges.', b'"id": "https://[badges.', 1)
    )
    assert b"https://[badges." in data
    result = _verify(data, site)
    _assert_verdict(result)
    assert not result.valid


def test_targets_that_are_not_files_urls_or_jws_are_errors_not_tracebacks(run, tmp_path):
    import os

    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    for target in ("a\x00b.json", str(tmp_path), str(fifo), "x" * 5000, "ht\ttp://x"):
        result = run("verify", target)
        if any(ord(c) < 32 and c not in "\t\n\r" for c in target):  # refused by the command line: a usage error
            assert result.code == 2 and "is not text" in result.err, (target, result.err)
        else:
            assert result.code == 2 and "is not an http(s) URL, a file or a JWS" in result.err, (target, result.err)
