"""Interop: badgekiln's Open Badges 2.0 output against the official 1EdTech validator.

Every verdict here comes from ``openbadges`` 1.1.2 (``verify()``), the oracle of
tests/oracles/ (install it once: ``bash tests/oracles/install_ob2_validator.sh``; without it
these tests FAIL, they never skip). Sites are built with the real CLI and served over loopback
by tests/support/static_server.py, the way a static host would serve them.

Speed (2-core machines): each scenario builds its site ONCE in a module-scoped fixture, and its
validator inputs go through ``validate_batch`` (tests/interop/ob2_batch_runner.py: one oracle
process imports ``openbadges`` once and validates many inputs, two processes in parallel).
``test_batch_runner_agrees_with_validate_ob2`` checks that batching changes no verdict.

Validator quirks relied on (see tests/oracles/test_ob2_oracle_selfcheck.py): a RevocationList
with exactly ONE entry is not checked (badgekiln lists each revoked award under two ids, so its
lists never have one entry); hosted ``revoked: true`` is never reported; ``expires``
in the past is an error ``expired on``; an assertion must be served from its issuer's host:port.
Found here (not in the oracle's self-check):

* ``Issuer.publicKey`` is validated as SINGLE-valued: an issuer Profile listing two keys makes
  every signed assertion fail with ``Property publicKey in unknown type node <issuer> has more
  than the single allowed value.`` -- so badgekiln names only the active key and re-signs every
  OB 2.0 assertion with it after ``keys rotate`` (see the rotation tests);
* a baked SVG with a ``verify`` attribute (which badgekiln and the official bakery both write)
  cannot be read: openbadges-bakery 1.2.4 returns the attribute as ``bytes`` and input
  detection raises ``NotImplementedError: only URL, JSON, or JWS input implemented so far``;
* the recipient check hashes the profile's email exactly as given (case-sensitive); badgekiln
  hashes the lower-cased address;
* an ``issuedOn`` after the validator's clock is an ERROR (so badgekiln refuses to publish one).

Real-clock note: the validator compares dates with the machine's clock, the builds use
conftest's fixed ``TODAY``; dates here are chosen (or computed) so that verdicts do not depend
on the day the suite runs, except the example site's own data (its premise is asserted).
"""

from __future__ import annotations

import base64
import concurrent.futures
import json
import re
import shutil
import struct
import sys
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from conftest import MINIMAL, SVG, TODAY, copy_example, write_site  # noqa: E402

from tests.oracles.ob2 import (  # noqa: E402
    is_valid,
    messages_matching,
    run_batch,
    summarize,
    validate_ob2,
)
from tests.support.cli import CliResult, run_cli  # noqa: E402
from tests.support.static_server import StaticServer  # noqa: E402

BATCH_RUNNER = Path(__file__).resolve().parent / "ob2_batch_runner.py"
OFFSITE = "network access outside loopback refused"
SIGNATURE_FAILED = "failed verification :: Signature verification failed."

# Every validator result of this module, for the final "nothing left loopback" check.
_ALL_RESULTS: list[tuple[str, dict]] = []


# ------------------------------------------------------------------------------ the validator
def _run_chunk(jobs: list[dict]) -> list[dict]:
    return run_batch(jobs, BATCH_RUNNER)


def validate_batch(inputs: list) -> list[dict]:
    """Validate many inputs (URL, JWS text, file Path, or ``(input, recipient_profile)``) at once.

    Returns the validator's results in order, shaped exactly like ``validate_ob2``'s."""
    jobs = []
    for item in inputs:
        value, profile = item if isinstance(item, tuple) else (item, None)
        if isinstance(value, Path):
            value = str(value.resolve())
        jobs.append({"input": value, "recipient_profile": profile})
    if not jobs:
        return []
    half = (len(jobs) + 1) // 2
    chunks = [jobs[:half], jobs[half:]] if len(jobs) >= 4 else [jobs]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(chunks)) as pool:
        results = [r for chunk in pool.map(_run_chunk, chunks) for r in chunk]
    for job, result in zip(jobs, results):
        assert "crash" not in result, f"the validator crashed on {job['input'][:200]}:\n{result['crash']}"
        _ALL_RESULTS.append((job["input"], result))
    return results


def record(badge_input: str, result: dict) -> dict:
    """Keep a ``validate_ob2`` result for the final network check."""
    _ALL_RESULTS.append((badge_input, result))
    return result


def errors(result: dict) -> list[str]:
    return [msg for level, msg in summarize(result, levels=("ERROR",))]


def assert_offline(result: dict) -> None:
    leaks = messages_matching(result, OFFSITE)
    assert not leaks, f"the validator tried to leave loopback: {leaks}"


def assert_valid(result: dict, what: str = "") -> None:
    """Valid, with no ERROR and no WARNING message."""
    assert_offline(result)
    assert is_valid(result) and summarize(result) == [], f"{what}: {summarize(result)}"


def assert_fails_with(result: dict, needle: str, what: str = "", *, only: bool = True) -> None:
    """Invalid, with an ERROR containing ``needle`` (and, if ``only``, no other ERROR)."""
    assert_offline(result)
    found = [m for m in errors(result) if needle in m]
    assert not is_valid(result) and found, f"{what}: expected an ERROR with {needle!r}, got {summarize(result)}"
    if only:
        assert errors(result) == found, f"{what}: unexpected extra errors {summarize(result)}"


# ------------------------------------------------------------------------------ sites
def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jws_parts(token: str) -> tuple[dict, dict]:
    """(header, payload) of a compact JWS, decoded without verification."""
    header, payload, _ = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload))


@dataclass
class Site:
    """Sources in ``source``, built into ``output`` (below the served folder), served at ``base``."""

    source: Path
    output: Path
    base: str
    env: dict[str, str]
    builds: list[CliResult] = field(default_factory=list)

    def cli(self, *args: str) -> CliResult:
        """Run the badgekiln CLI in-process with this site's key folders."""
        return run_cli(*args, env=self.env)

    def ok(self, *args: str) -> CliResult:
        result = self.cli(*args, "--source", str(self.source), "--today", TODAY)
        assert result.code == 0, f"badgekiln {' '.join(args)} failed:\n{result.out}\n{result.err}"
        return result

    def build(self) -> CliResult:
        result = self.ok("build", "--output", str(self.output), "--base-url", self.base)
        self.builds.append(result)
        return result

    def url(self, rel: str) -> str:
        return self.base + rel

    def read(self, rel: str) -> str:
        return (self.output / rel).read_text(encoding="utf-8")

    def json(self, rel: str) -> dict:
        return json.loads(self.read(rel))

    def award_ids(self) -> list[str]:
        return sorted(p.name for p in (self.output / "awards").iterdir() if p.is_dir())

    def hosted_url(self, award_id: str) -> str:
        return self.url(f"awards/{award_id}/assertion.json")

    def hosted(self, award_id: str) -> dict:
        return self.json(f"awards/{award_id}/assertion.json")

    def jws(self, award_id: str) -> str:
        return self.read(f"awards/{award_id}/assertion.jws").strip()

    def rsa_kids(self) -> dict[str, str]:
        """kid -> status of the site's RSA keys (from site_src/keys/*.yaml)."""
        kids = {}
        for path in sorted((self.source / "site_src" / "keys").glob("*.yaml")):
            text = path.read_text(encoding="utf-8")
            if re.search(r"^algorithm: RS256$", text, re.M):
                kids[path.stem] = re.search(r"^status: (\w+)$", text, re.M).group(1)
        return kids


def small_png(width: int = 16, height: int = 16) -> bytes:
    """A real, decodable RGBA PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xc0\x39\x2b\xff" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def now_utc() -> datetime:
    return datetime.now(UTC)


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One loopback static server per module; each site is a folder below its root."""
    root = tmp_path_factory.mktemp("served")
    with StaticServer(root) as srv:
        yield srv


@pytest.fixture(scope="module")
def key_env(tmp_path_factory) -> dict[str, str]:
    """Key folders for this module (conftest's autouse isolation is function-scoped)."""
    return {
        "XDG_CACHE_HOME": str(tmp_path_factory.getbasetemp() / "xdg-cache"),  # shared dev keys, like conftest
        "BADGEKILN_KEYS_DIR": str(tmp_path_factory.mktemp("interop-private-keys")),
    }


def make_site(server: StaticServer, tmp_path_factory, key_env, name: str, *, served_at: str | None = None) -> Site:
    served_at = served_at or f"{name}/"
    source = tmp_path_factory.mktemp(f"{name}-src")
    output = server.root / served_at.rstrip("/")
    output.parent.mkdir(parents=True, exist_ok=True)
    return Site(source=source, output=output, base=server.url(served_at), env=dict(key_env))


# ============================================================================ 1. the example site
@dataclass
class ExampleRun:
    site: Site
    expired: str
    revoked: str
    hosted: dict[str, dict]
    signed: dict[str, dict]
    revocations_before: dict


@pytest.fixture(scope="module")
def example(server, tmp_path_factory, key_env) -> ExampleRun:
    site = make_site(server, tmp_path_factory, key_env, "example")
    shutil.rmtree(site.source)
    copy_example(site.source)
    site.build()
    ids = site.award_ids()
    hosted = {a: site.hosted(a) for a in ids}
    now = now_utc()
    expired = [a for a, doc in hosted.items() if "expires" in doc and parse_ts(doc["expires"]) < now]
    revoked = [a for a, doc in hosted.items() if doc.get("revoked") is True]
    # The premise of this scenario (README: "one revoked and one expired award").
    assert len(ids) == 14 and len(expired) == 1 and len(revoked) == 1, (ids, expired, revoked)
    results = validate_batch([site.hosted_url(a) for a in ids] + [site.jws(a) for a in ids])
    return ExampleRun(
        site,
        expired[0],
        revoked[0],
        dict(zip(ids, results[: len(ids)])),
        dict(zip(ids, results[len(ids) :])),
        site.json("revocations.json"),
    )


def test_example_hosted_assertions_validate_except_the_expired_one(example):
    """Every hosted assertion URL of the example site is valid; the expired one fails 'expired on'.

    The revoked award's hosted assertion is ALSO reported valid: the validator never reads
    ``revoked: true`` (its quirk), so it is asserted here to document that."""
    for award_id, result in example.hosted.items():
        if award_id == example.expired:
            expires = example.site.hosted(award_id)["expires"]
            assert_fails_with(result, f"Assertion {example.site.hosted_url(award_id)} expired on {expires}", award_id)
        else:
            assert_valid(result, award_id)
            assert result["report"]["validationSubject"] == example.site.hosted_url(award_id)
    revoked_doc = example.site.hosted(example.revoked)
    assert revoked_doc["revoked"] is True and revoked_doc["revocationReason"]
    assert is_valid(example.hosted[example.revoked])  # quirk: hosted revocation not reported


def test_example_png_of_svg_artwork_validates_from_the_file(example):
    """SVG artwork also gets a PNG baked with the hosted assertion (README, "PNG badge images"):
    the validator reads it from the file and accepts it."""
    site = example.site
    award_id = next(
        a
        for a in site.award_ids()
        if a not in (example.expired, example.revoked) and (site.output / "awards" / a / "badge.svg").exists()
    )
    png = site.output / "awards" / award_id / "badge.png"
    [result] = validate_batch([png])
    assert_valid(result, f"badge.png of {award_id}")
    assert result["report"]["validationSubject"] == site.hosted_url(award_id)


def test_example_signed_assertions_validate_except_the_expired_and_the_revoked_one(example):
    """Every JWS of the example site verifies (signature, issuer key list, revocation list load);
    the expired one fails as expired and the revoked one as revoked."""
    for award_id, result in example.signed.items():
        header, payload = jws_parts(example.site.jws(award_id))
        assert header["alg"] == "RS256"
        assert payload["verification"]["creator"] in example.site.json("issuer.json")["publicKey"]
        if award_id == example.expired:
            assert_fails_with(result, f"Assertion {payload['id']} expired on {payload['expires']}", award_id)
        elif award_id == example.revoked:  # (its message: test_example_single_revoked_award_is_reported)
            assert not is_valid(result)
        else:
            assert_valid(result, award_id)
            assert result["report"]["validationSubject"] == payload["id"]
    dev_warning = example.site.builds[0].err
    assert "DEVELOPMENT KEYS" in dev_warning  # the example has no site keys


def test_example_single_revoked_award_is_reported(example):
    """The validator skips a RevocationList with ONE entry (its quirk); badgekiln lists each revoked
    award under both of its ids (signed urn:uuid and hosted URL), so one revoked award is seen."""
    site = example.site
    _, payload = jws_parts(site.jws(example.revoked))
    entries = example.revocations_before["revokedAssertions"]
    assert sorted(e["id"] for e in entries) == sorted([payload["id"], site.hosted_url(example.revoked)])
    assert payload["id"].startswith("urn:uuid:")
    assert "revoked" not in payload  # the signed copy carries no revocation itself
    expected = f"Assertion {payload['id']} has been revoked in RevocationList {site.url('revocations.json')}"
    assert_fails_with(example.signed[example.revoked], expected, example.revoked)


@pytest.fixture(scope="module")
def example_two_revoked(example):
    """Revoke a second award with the CLI and rebuild: now the list has two entries."""
    site = example.site
    second = next(a for a in site.award_ids() if a not in (example.expired, example.revoked))
    reason = "Certificat retiré — l'évaluateur n'était pas habilité"
    revoked = site.ok("revoke", second, "--reason", reason)
    assert second in revoked.out
    site.build()
    still_good = next(a for a in site.award_ids() if a not in (example.expired, example.revoked, second))
    first, second_result, other, hosted_second = validate_batch(
        [site.jws(example.revoked), site.jws(second), site.jws(still_good), site.hosted_url(second)]
    )
    return {
        "second": second,
        "reason": reason,
        "first": first,
        "second_result": second_result,
        "other": other,
        "still_good": still_good,
        "hosted_second": hosted_second,
    }


def test_example_two_revocations_are_both_reported(example, example_two_revoked):
    run = example_two_revoked
    site = example.site
    rl_url = site.url("revocations.json")
    entries = site.json("revocations.json")["revokedAssertions"]
    assert len(entries) == 4  # two awards, each under its signed and its hosted id
    by_id = {e["id"]: e["revocationReason"] for e in entries}
    for award_id, result in ((example.revoked, run["first"]), (run["second"], run["second_result"])):
        _, payload = jws_parts(site.jws(award_id))
        assert payload["id"] in by_id
        expected = f"Assertion {payload['id']} has been revoked in RevocationList {rl_url}"
        assert_fails_with(result, expected, award_id)
        assert errors(result) == [f"{expected} with reason: {by_id[payload['id']]}"]
    assert by_id[jws_parts(site.jws(run["second"]))[1]["id"]] == run["reason"]
    # an award that is not revoked is untouched by the longer list
    assert_valid(run["other"], run["still_good"])
    # hosted copy of the newly revoked award: says revoked, and the validator (quirk) says valid
    assert site.hosted(run["second"])["revoked"] is True
    assert is_valid(run["hosted_second"])


# ============================================================================ 2. an unusual valid site
UNUSUAL_CRITERIA = """\
## Critères d'évaluation

| Épreuve | Seuil | 基準 |
|---|:---:|---:|
| Étanchéité | 100 % | 漏れなし |
| Aspect du cordon | ≥ 8/10 | 外観 ✅ |

Voir le [référentiel](https://atelier.example/referentiel?niveau=2&lang=fr#tig) ou
[écrivez-nous](mailto:insignes@atelier.example). Détails : **soudure** _TIG_ ~~MIG~~.
"""

# valid_for: P18M from 30 August of last year: 30 February does not exist, so it clamps to the
# end of February of next year (always after the validator's clock, whatever the year).
EIGHTEEN_FROM = date(now_utc().year - 1, 8, 30)
EIGHTEEN_UNTIL = date(now_utc().year + 1, 3, 1) - timedelta(days=1)

UNUSUAL = {
    "site_src/site.yaml": """
        base_url: https://insignes.atelier.example/org/badges/
        title: "Ateliers d'Été — 夏の工房 ☀️"
        language: fr
        accent_color: "#c0392b"
        issuer:
          name: "Atelier Cœur & Fils — 東京工房"
          url: https://atelier.example/ja/
          email: Insignes@Atelier.example
          description: "Formation « soudure » et 溶接, avec émojis 🔥🛠️ et <chevrons> & esperluettes."
          image: assets/logo.png
          telephone: "+33 1 23 45 67 89"
    """,
    "site_src/assets/logo.png": small_png(32, 32),
    "site_src/assets/badges/soudure.png": small_png(64, 64),
    "site_src/assets/badges/securite.svg": SVG,
    "badges/soudure-tig.yaml": 'name: "Soudure TIG — 溶接 🔥"\n'
    'description: "Réaliser des soudures TIG étanches sur inox ; 溶接の基本を習得。"\n'
    "image: assets/badges/soudure.png\n"
    "criteria: |\n"
    + "".join("  " + line + "\n" if line else "\n" for line in UNUSUAL_CRITERIA.splitlines())
    + 'tags: [soudure, 溶接, "ünïcödé"]\n'
    "alignment:\n"
    '  - name: "Soudeur·se qualifié·e"\n'
    "    url: https://atelier.example/rncp/12345\n"
    "    framework: RNCP\n"
    "    code: RNCP-12345\n"
    '    description: "Bloc de compétences n° 2 — 溶接"\n',
    "badges/securite-18m.yaml": """
        name: Sécurité en atelier (18 mois)
        description: "Connaît les règles de sécurité ; à renouveler tous les 18 mois. 安全第一"
        image: assets/badges/securite.svg
        criteria: |
          1. Quiz réussi (≥ 80 %)
          2. Visite commentée — voir <https://atelier.example/securite>
        valid_for: P18M
    """,
    "recipients/yamada.yaml": """
        # Hanako: two awards, no ids yet (the build pins them)
        name: "山田 花子 (Hanako) 🌸"
        email: Hanako.Yamada@Example.JP
        awards:
          - badge: soudure-tig
            issued_on: 2026-03-01
            narrative: "Épreuve réussie du premier coup 🎉 — 「完璧」 <b>sans</b> reprise & sans défaut."
            evidence:
              - url: https://atelier.example/preuves/2026/0301?id=42&vue=complète
                name: "Rapport d'essai — 試験報告書"
                narrative: "Radiographie 🩻 conforme."
              - narrative: "Observation directe par l'évaluatrice (sans lien)."
          - badge: securite-18m
            issued_on: {EIGHTEEN_FROM}
    """.replace("{EIGHTEEN_FROM}", EIGHTEEN_FROM.isoformat()),
    "recipients/zoe.yaml": """
        name: "Zoë Ø'Connell-Ñúñez"
        email: zoe@example.org
        show_name: false
        awards:
          - badge: soudure-tig
            issued_on: 2026-06-15
          - badge: soudure-tig
            issued_on: 2026-06-15
    """,
}


SVG_NS = "{http://openbadges.org}"


def svg_assertion(path: Path) -> tuple[str | None, str]:
    """(verify attribute, text) of the <openbadges:assertion> of a baked SVG, read with the stdlib."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(path.read_bytes())
    (node,) = root.iter(SVG_NS + "assertion")
    return node.get("verify"), node.text or ""


@pytest.fixture(scope="module")
def unusual(server, tmp_path_factory, key_env):
    site = make_site(server, tmp_path_factory, key_env, "unusual", served_at="org/badges/")
    write_site(site.source, UNUSUAL)
    site.build()
    ids = site.award_ids()
    baked = {a: site.output / "awards" / a / ("badge" + Path(site.hosted(a)["image"]).suffix) for a in ids}
    # the JSON baked into each SVG, extracted without badgekiln, as a file the validator reads
    svg_json = {}
    extracted = tmp_path_factory.mktemp("svg-json")
    for award_id, path in baked.items():
        if path.suffix == ".svg":
            svg_json[award_id] = extracted / f"{award_id}.json"
            svg_json[award_id].write_text(svg_assertion(path)[1], encoding="utf-8")
    results = iter(
        validate_batch(
            [site.hosted_url(a) for a in ids]
            + [site.jws(a) for a in ids]
            + list(baked.values())
            + list(svg_json.values())
        )
    )
    return {
        "site": site,
        "ids": ids,
        "hosted": {a: next(results) for a in ids},
        "signed": {a: next(results) for a in ids},
        "baked": {a: (baked[a], next(results)) for a in ids},
        "svg_json": {a: next(results) for a in svg_json},
    }


def test_unusual_site_pins_ids_and_serves_under_a_sub_path(unusual):
    site = unusual["site"]
    assert site.base.endswith("/org/badges/") and site.output.parts[-2:] == ("org", "badges")
    assert len(unusual["ids"]) == 4 and len(set(unusual["ids"])) == 4  # two same-day awards get distinct ids
    pinned = "".join((site.source / "recipients" / f).read_text(encoding="utf-8") for f in ("yamada.yaml", "zoe.yaml"))
    for award_id in unusual["ids"]:
        assert f"id: {award_id}" in pinned
        doc = site.hosted(award_id)
        assert doc["id"] == site.base + f"awards/{award_id}/assertion.json"
        assert doc["badge"].startswith(site.base + "badges/")
    issuer = site.json("issuer.json")
    assert issuer["id"] == site.base + "issuer.json"
    assert issuer["revocationList"] == site.base + "revocations.json"
    assert all(k.startswith(site.base + "keys/") for k in issuer["publicKey"])
    assert "pinned" in site.builds[0].err


def test_unusual_site_hosted_assertions_validate(unusual):
    site = unusual["site"]
    for award_id, result in unusual["hosted"].items():
        assert_valid(result, award_id)
        graph = {n["id"]: n for n in result["graph"]}
        issuer = graph[site.url("issuer.json")]
        assert issuer["name"] == "Atelier Cœur & Fils — 東京工房"
        assert issuer["telephone"] == "+33123456789"  # E.164, as badgekiln normalises it
    # text survives the trip through JSON-LD compaction
    soudure = {n["name"] for r in unusual["hosted"].values() for n in r["graph"] if n.get("type") == "BadgeClass"}
    assert soudure == {"Soudure TIG — 溶接 🔥", "Sécurité en atelier (18 mois)"}


def test_unusual_site_signed_assertions_validate(unusual):
    site = unusual["site"]
    for award_id, result in unusual["signed"].items():
        assert_valid(result, award_id)
        _, payload = jws_parts(site.jws(award_id))
        hosted = site.hosted(award_id)
        # the signed copy says what the hosted one says (but has its own urn:uuid id)
        for key in ("badge", "recipient", "issuedOn", "image", "narrative", "evidence", "expires"):
            assert payload.get(key) == hosted.get(key), (award_id, key)
        assert payload["id"].startswith("urn:uuid:") and payload["verification"]["type"] == "SignedBadge"


def test_unusual_site_narrative_evidence_and_valid_for(unusual):
    site = unusual["site"]
    docs = {a: site.hosted(a) for a in unusual["ids"]}
    with_narrative = [d for d in docs.values() if "narrative" in d]
    assert len(with_narrative) == 1
    doc = with_narrative[0]
    assert doc["narrative"].startswith("Épreuve réussie du premier coup 🎉")
    assert [e.get("id") for e in doc["evidence"]] == [
        "https://atelier.example/preuves/2026/0301?id=42&vue=complète",
        None,
    ]
    # P18M from 30 August: there is no 30 February, the expiry clamps to the end of February
    eighteen = [d for d in docs.values() if d["badge"].endswith("badges/securite-18m/badge.json")]
    assert len(eighteen) == 1
    assert eighteen[0]["issuedOn"] == f"{EIGHTEEN_FROM.isoformat()}T00:00:00Z"
    assert eighteen[0]["expires"] == f"{EIGHTEEN_UNTIL.isoformat()}T00:00:00Z"
    assert all("expires" not in d for d in docs.values() if d is not eighteen[0])
    # show_name: false is about pages; the assertion never carries a name or an email anyway
    for d in docs.values():
        blob = json.dumps(d, ensure_ascii=False)
        assert "Zoë" not in blob and "zoe@example.org" not in blob and "hanako.yamada" not in blob.lower()
    zoe_pages = [
        site.read(f"awards/{a}/index.html") for a in unusual["ids"] if "Zoë" in site.read(f"awards/{a}/index.html")
    ]
    assert zoe_pages == []


def test_unusual_site_baked_png_validates_from_the_file(unusual):
    site = unusual["site"]
    pngs = {a: v for a, v in unusual["baked"].items() if v[0].suffix == ".png"}
    assert len(pngs) == 3
    for award_id, (path, result) in pngs.items():
        assert_valid(result, f"baked {path.name} of {award_id}")
        assert result["report"]["validationSubject"] == site.hosted_url(award_id)


def test_unusual_site_baked_svg_carries_a_valid_assertion(unusual):
    """The baked SVG's assertion (verify URL and CDATA JSON) validates.

    VALIDATOR QUIRK: openbadges 1.1.2 cannot read a baked SVG that has a ``verify`` attribute
    (openbadges-bakery 1.2.4 ``svg_bakery.unbake`` returns it as ``bytes`` on Python 3, and input
    detection then raises ``NotImplementedError``). The official bakery writes that attribute
    itself, so this is asserted as the validator's behaviour, not badgekiln's fault; the
    embedded JSON is validated instead."""
    site = unusual["site"]
    svgs = {a: v for a, v in unusual["baked"].items() if v[0].suffix == ".svg"}
    assert len(svgs) == 1
    for award_id, (path, result) in svgs.items():
        verify, text = svg_assertion(path)
        assert verify == site.hosted_url(award_id)
        assert json.loads(text) == site.hosted(award_id)
        assert_fails_with(result, "only URL, JSON, or JWS input implemented so far", f"baked {path.name}")
        embedded = unusual["svg_json"][award_id]
        assert_valid(embedded, f"JSON baked into {path.name}")
        assert embedded["report"]["validationSubject"] == site.hosted_url(award_id)


# ============================================================================ 3 + 4. key rotation and retirement
@dataclass
class KeyChain:
    site: Site
    key_a: str
    old_award: str
    jws_a: str  # the old award's JWS as built with key A
    key_b: str = ""
    new_award: str = "bob-first-1"
    rotated: dict = field(default_factory=dict)
    retired: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
def keyed(server, tmp_path_factory, key_env) -> KeyChain:
    """A site with its own keys (key A), built once."""
    site = make_site(server, tmp_path_factory, key_env, "keyed")
    write_site(site.source, MINIMAL)
    site.ok("keys", "generate")
    (key_a,) = site.rsa_kids()
    build = site.build()
    assert "DEVELOPMENT KEYS" not in build.err, build.err
    return KeyChain(site=site, key_a=key_a, old_award="ann-first-1", jws_a=site.jws("ann-first-1"))


@pytest.fixture(scope="module")
def rotated(keyed) -> KeyChain:
    """Rotate to key B, add an award, rebuild."""
    site = keyed.site
    site.ok("keys", "rotate")
    kids = site.rsa_kids()
    assert kids[keyed.key_a] == "superseded"
    (keyed.key_b,) = [k for k, status in kids.items() if status == "active"]
    write_site(
        site.source,
        {
            "recipients/bob.yaml": f"""
        name: Bob Example
        email: bob@example.com
        awards:
          - id: {keyed.new_award}
            badge: first-badge
            issued_on: 2026-11-01
    """
        },
    )
    build = site.build()
    old, new = validate_batch([site.jws(keyed.old_award), site.jws(keyed.new_award)])
    keyed.rotated = {
        "build": build,
        "old": old,
        "new": new,
        "old_jws": site.jws(keyed.old_award),
        "new_jws": site.jws(keyed.new_award),
        "issuer": site.json("issuer.json"),
    }
    return keyed


def test_rotation_signs_every_assertion_with_the_new_key(rotated):
    """The 1EdTech validator accepts one ``publicKey`` per issuer, so badgekiln names only the
    active key there and signs every OB 2.0 assertion with it: after a rotation the old award's
    JWS is re-signed by key B (same assertion), and key A's document stays published."""
    chain, run = rotated, rotated.rotated
    site = chain.site
    key_url = {k: site.url(f"keys/{k}.json") for k in (chain.key_a, chain.key_b)}
    assert run["old_jws"] != chain.jws_a
    assert jws_parts(run["old_jws"])[1]["id"] == jws_parts(chain.jws_a)[1]["id"]
    for token in (run["old_jws"], run["new_jws"]):
        assert jws_parts(token)[1]["verification"]["creator"] == key_url[chain.key_b]
    assert run["issuer"]["publicKey"] == [key_url[chain.key_b]]
    assert site.json(f"keys/{chain.key_a}.json")["owner"] == site.url("issuer.json")


def test_rotation_signed_assertions_validate(rotated):
    run = rotated.rotated
    assert_valid(run["old"], "earlier award, re-signed by the new key")
    assert_valid(run["new"], "award signed by the new key")


@pytest.fixture(scope="module")
def retired(rotated) -> KeyChain:
    """Retire key A (superseded by now) and rebuild."""
    site = rotated.site
    site.ok("keys", "retire", rotated.key_a, "--reason", "compromised")
    assert site.rsa_kids()[rotated.key_a] == "retired"
    build = site.build()
    resigned, new, kept_a, hosted = validate_batch(
        [site.jws(rotated.old_award), site.jws(rotated.new_award), rotated.jws_a, site.hosted_url(rotated.old_award)]
    )
    rotated.retired = {
        "build": build,
        "resigned": resigned,
        "new": new,
        "kept_a": kept_a,
        "hosted": hosted,
        "resigned_jws": site.jws(rotated.old_award),
        "issuer": site.json("issuer.json"),
    }
    return rotated


def test_retired_key_awards_are_resigned_and_old_tokens_fail(retired):
    chain, run = retired, retired.retired
    site = chain.site
    url_a, url_b = site.url(f"keys/{chain.key_a}.json"), site.url(f"keys/{chain.key_b}.json")
    # the build says which awards it re-signed
    assert re.search(
        rf"warning\[re-signed\]: award {chain.old_award} was signed with a retired key", run["build"].err
    ), run["build"].err
    assert chain.new_award not in run["build"].err
    # the re-signed JWS names the active key and validates
    assert run["resigned_jws"] != chain.jws_a
    _, payload = jws_parts(run["resigned_jws"])
    assert payload["verification"]["creator"] == url_b
    assert payload["id"] == jws_parts(chain.jws_a)[1]["id"]  # same assertion, new signature
    assert_valid(run["resigned"], "re-signed award")
    assert_valid(run["new"], "award of the active key")
    assert_valid(run["hosted"], "hosted assertion")
    # key A is no longer authorized by the issuer, so a token kept from before fails
    assert run["issuer"]["publicKey"] == [url_b]
    assert_fails_with(
        run["kept_a"],
        f"Assertion signed by a key {url_a} other than those authorized by issuer profile",
        "JWS signed by the retired key",
    )


@pytest.fixture(scope="module")
def emergency(server, tmp_path_factory, key_env) -> dict:
    """Retire the ACTIVE key directly (compromised, no rotation first), then rebuild."""
    site = make_site(server, tmp_path_factory, key_env, "emergency")
    write_site(site.source, MINIMAL)
    site.ok("keys", "generate")
    (key_a,) = site.rsa_kids()
    site.build()
    jws_a = site.jws("ann-first-1")
    retire = site.ok("keys", "retire", key_a, "--reason", "compromised")
    kids = site.rsa_kids()
    (key_c,) = [k for k, status in kids.items() if status == "active"]
    build = site.build()
    resigned, kept = validate_batch([site.jws("ann-first-1"), jws_a])
    return {
        "site": site,
        "key_a": key_a,
        "key_c": key_c,
        "kids": kids,
        "retire": retire,
        "build": build,
        "jws_a": jws_a,
        "resigned": resigned,
        "kept": kept,
    }


def test_retiring_the_active_key_makes_a_new_one_and_resigns(emergency):
    site, run = emergency["site"], emergency
    url_a, url_c = site.url(f"keys/{run['key_a']}.json"), site.url(f"keys/{run['key_c']}.json")
    assert run["kids"][run["key_a"]] == "retired"
    assert f"new RS256 key {run['key_c']}" in run["retire"].out
    assert "warning[re-signed]: award ann-first-1 was signed with a retired key" in run["build"].err
    assert site.json("issuer.json")["publicKey"] == [url_c]
    assert jws_parts(site.jws("ann-first-1"))[1]["verification"]["creator"] == url_c
    assert_valid(run["resigned"], "re-signed with the replacement key")
    assert_fails_with(
        run["kept"],
        f"Assertion signed by a key {url_a} other than those authorized by issuer profile",
        "JWS signed by the retired key",
    )


# ============================================================================ 5 + 6. tampering, recipient check
FUTURE_DAY = (now_utc() + timedelta(days=400)).date()  # after --today AND after the validator's clock

SMALL = dict(MINIMAL)
SMALL.update(
    {
        "badges/second-badge.yaml": """
        name: Second Badge
        description: Another badge, to point a forged assertion at.
        image: assets/badge.svg
        criteria: Did another thing.
    """,
        "recipients/chloe.yaml": """
        name: Chloé Dubois
        email: "  Chloe.Dubois@Example.FR "
        awards:
          - id: chloe-first-1
            badge: first-badge
            issued_on: 2026-02-03
          - id: chloe-first-2
            badge: first-badge
            issued_on: 2026-03-04
    """,
    }
)
FUTURE = {
    "recipients/dan.yaml": f"""
    name: Dan Future
    email: dan@example.com
    awards:
      - id: dan-future-1
        badge: first-badge
        issued_on: {FUTURE_DAY.isoformat()}
"""
}
OTHER_EMAIL = "someone.else@example.fr"
CHLOE = "chloe.dubois@example.fr"  # her address as badgekiln normalises it
CHLOE_AS_TYPED = "Chloe.Dubois@Example.FR"


def _flip_one_character(payload: bytes) -> bytes:
    """The payload with one character of issuedOn changed (still valid JSON)."""
    match = re.search(rb'"issuedOn":"\d{4}-\d{2}-\d(\d)', payload)
    assert match, payload
    replacement = b"1" if match.group(1) != b"1" else b"2"
    return payload[: match.start(1)] + replacement + payload[match.end(1) :]


@pytest.fixture(scope="module")
def small(server, tmp_path_factory, key_env):
    """A small site (development keys) for tampering and recipient checks: one build, one batch.

    Before validating, the hosted assertion of chloe-first-2 is edited on disk (badge swapped);
    ann-first-1's JWS is tampered in memory; chloe-first-1 is used for recipient profiles."""
    site = make_site(server, tmp_path_factory, key_env, "small")
    write_site(site.source, SMALL)
    site.build()
    run: dict = {"site": site}

    # 5a. one character of a JWS payload changed
    token = site.jws("ann-first-1")
    header_b64, payload_b64, signature_b64 = token.split(".")
    payload = b64url_decode(payload_b64)
    forged_payload = _flip_one_character(payload)
    run.update(
        token=token,
        payload=payload,
        forged_payload=forged_payload,
        tampered=".".join([header_b64, b64url_encode(forged_payload), signature_b64]),
    )

    # 5b. a hosted assertion edited on the server, its JWS untouched
    edited = site.output / "awards" / "chloe-first-2" / "assertion.json"
    run["hosted_original"] = json.loads(edited.read_text(encoding="utf-8"))
    run["hosted_forged"] = dict(run["hosted_original"], badge=site.url("badges/second-badge/badge.json"))
    edited.unlink()  # the build may hard-link unchanged files: never write through a link
    edited.write_text(json.dumps(run["hosted_forged"], indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    # 6. recipient profiles, the match and one mismatch also through validate_ob2 itself
    url = site.hosted_url("chloe-first-1")
    run["recipient_url"] = url
    run["direct_match"] = record(url, validate_ob2(url, recipient_profile={"email": CHLOE}))
    run["direct_other"] = record(url, validate_ob2(url, recipient_profile={"email": OTHER_EMAIL}))
    names = ["untouched", "tampered", "hosted_edited", "jws_of_edited", "match", "other", "as_typed", "jws_match"]
    results = validate_batch(
        [
            token,
            run["tampered"],
            site.hosted_url("chloe-first-2"),
            site.jws("chloe-first-2"),
            (url, {"email": CHLOE}),
            (url, {"email": OTHER_EMAIL}),
            (url, {"email": CHLOE_AS_TYPED}),
            (site.jws("chloe-first-1"), {"email": CHLOE}),
        ]
    )
    run.update(zip(names, results))
    return run


def test_tampered_jws_payload_fails_signature_check(small):
    payload, forged = small["payload"], small["forged_payload"]
    assert len(forged) == len(payload) and sum(a != b for a, b in zip(forged, payload)) == 1
    assert_valid(small["untouched"], "original JWS")
    urn = json.loads(payload)["id"]
    assert_fails_with(small["tampered"], f"Signature for node {urn} {SIGNATURE_FAILED}", "tampered JWS")


def test_hosted_copy_edited_on_disk_while_jws_stays_authoritative(small):
    """A hosted assertion is only as trustworthy as its host: edited, the validator still
    accepts it (nothing signs it); the JWS, untouched, still verifies and keeps the original."""
    site, original, forged = small["site"], small["hosted_original"], small["hosted_forged"]
    assert forged["badge"] != original["badge"]
    hosted, signed = small["hosted_edited"], small["jws_of_edited"]
    assert_valid(hosted, "edited hosted assertion (hosted verification cannot notice)")
    assert [n["id"] for n in hosted["graph"] if n.get("type") == "BadgeClass"] == [forged["badge"]]
    assert_valid(signed, "untouched JWS")
    _, payload = jws_parts(site.jws("chloe-first-2"))
    assert payload["badge"] == original["badge"] != forged["badge"]
    assert [n["id"] for n in signed["graph"] if n.get("type") == "BadgeClass"] == [original["badge"]]


def test_recipient_profile_matches_the_normalised_email(small):
    for what in ("direct_match", "match", "jws_match"):
        result = small[what]
        assert_valid(result, f"{what}: recipient profile with the normalised email")
        assert not messages_matching(result, "did not match")
        assert result["report"]["recipientProfile"] == {"email": CHLOE}


def test_recipient_profile_with_another_email_is_a_mismatch(small):
    url = small["recipient_url"]
    identity = small["site"].hosted("chloe-first-1")["recipient"]["identity"]
    for email, result in (
        (OTHER_EMAIL, small["direct_other"]),
        (OTHER_EMAIL, small["other"]),
        # the validator hashes the address as given: a verifier who types the
        # earner's capitals gets a mismatch (badgekiln hashes it lower-cased)
        (CHLOE_AS_TYPED, small["as_typed"]),
    ):
        assert_offline(result)
        assert not is_valid(result), email
        (message,) = errors(result)
        # the validator abbreviates the assertion id ("...chloe-first-...")
        match = re.fullmatch(
            rf"Profile _:b0 identifier\(s\) {re.escape(email)} of type email did not match "
            rf"assertion (\S+?)(?:\.\.\.)? recipient hash {re.escape(identity)}\.",
            message,
        )
        assert match and url.startswith(match.group(1)), message


def test_batch_runner_agrees_with_validate_ob2(small):
    """The batch runner is a faster transport, not another validator: the same result as the
    one-input ``validate_ob2``, also for a job that is not the first of its process (the
    validator keeps a module-global blank-node counter that the batch runner resets)."""
    for direct, batched in ((small["direct_match"], small["match"]), (small["direct_other"], small["other"])):
        assert batched["report"] == direct["report"]
        assert batched["graph"] == direct["graph"]
        assert batched["input"] == direct["input"]


def test_award_issued_after_today_is_refused_because_verifiers_would_reject_it(small, tmp_path):
    """The validator rejects an ``issuedOn`` after its clock; badgekiln refuses to publish one.
    (On a copy of the module's site: tests never edit a site other tests read.)"""
    site = small["site"]
    source = tmp_path / "source"
    shutil.copytree(site.source, source, ignore=shutil.ignore_patterns(".badgekiln"))
    write_site(source, FUTURE)
    result = site.cli("check", "--source", str(source), "--today", TODAY)
    assert result.code == 1
    assert f"'issued_on' ({FUTURE_DAY.isoformat()}) is in the future" in result.err


# ============================================================================ network
def test_no_validator_run_left_loopback(example, example_two_revoked, unusual, retired, emergency, small):
    """The oracle refuses every request outside 127.0.0.0/8 and reports it as an ERROR; no run
    of this module did (the fixtures are requested so that, even alone or under xdist, this
    test sees every result of its process)."""
    assert len(_ALL_RESULTS) >= 55
    leaks = [(i[:120], m) for i, r in _ALL_RESULTS for m in messages_matching(r, OFFSITE)]
    assert leaks == []
    for badge_input, result in _ALL_RESULTS:
        for message in summarize(result, levels=("ERROR", "WARNING", "INFO")):
            assert "Connection" not in message[1] and "refused" not in message[1], (badge_input[:120], message)
