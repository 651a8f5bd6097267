"""Seeded differential interop test: random valid sites, every award through every verifier.

For each seed of ``random_sites.SEEDS`` a small site with unusual but valid values is generated
and built with real keys (tests/interop/random_sites.py says what it holds and why its dates do
not drift with the real clock). Every award is planned ``valid``, ``expired``, ``revoked`` or
``suspended``, and every verifier must agree with the plan, where it can tell:

* the 1EdTech validator (``openbadges`` 1.1.2), on the loopback build: the hosted assertion URL,
  the signed assertion (JWS, with the earner's address as recipient profile) and the baked
  ``badge.png``. It never reads a hosted ``revoked: true`` (its quirk, asserted in
  test_ob2_validator.py), so revoked and suspended hosted assertions and baked images are valid
  to it; the signed ones are found in ``revocations.json``;
* Digital Bazaar's ``@digitalbazaar/vc`` (eddsa-rdfc-2022, Bitstring status lists) and DCC's
  ``verifier-core``, offline: every ``credential.json`` and the credential baked in every
  ``credential.png``/``.svg``;
* openbadgeslib 4.6.3, through the loopback server: OB 2.0 hosted (by its https URL), signed
  and every baked image (with the recipient's address), OB 3.0 Data Integrity, VC-JWT and every
  baked image;
* ``badgekiln verify --json`` with ``--offline-root`` and ``--recipient`` (the address as
  written), on all of them: assertion.json, assertion.jws, credential.json, credential.jwt and
  every baked ``badge.*`` and ``credential.*``.

Each verifier runs once for all seeds (process start-up is the slow part). A failure message
names the seed and the values the award carries: ``generate(seed)`` gives the same site again.
"""

from __future__ import annotations

import concurrent.futures
import json
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from interop_sites import unbake_ob3
from oracles.ob2 import is_valid, messages_matching, run_batch, summarize
from oracles.openbadgeslib_oracle import verify_batch
from oracles.vc_verifier import OFFLINE_ERROR, verify_many
from random_sites import SEEDS, AwardPlan, BuiltSite, build_site, cli, generate
from support.static_server import StaticServer

OB2_BATCH_RUNNER = Path(__file__).resolve().parent / "ob2_batch_runner.py"
SCHEMA_WARNING = (
    "schema_check https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json:"
    " /credentialStatus must be object"
)


class Sites:
    """The built sites of every seed, served from one loopback static server."""

    def __init__(self, sites: list[BuiltSite], server: StaticServer):
        self.sites, self.server = sites, server

    def awards(self) -> list[tuple[BuiltSite, str, AwardPlan]]:
        """(site, award id, plan) for every award of every seed."""
        return [(site, award, plan) for site in self.sites for award, plan in site.awards.items()]

    def loopback_map(self) -> dict[str, str]:
        """Each site's https address (as written, and as did:web resolution spells it) -> the server."""
        mapping = {}
        for site in self.sites:
            target = self.server.url(quote(site.output.relative_to(self.server.root).as_posix()) + "/")
            host, *segments = json.loads((site.output / "did.json").read_text())["id"].split(":")[2:]
            host = unquote(host)
            for path in ("/".join(segments), "/".join(unquote(s) for s in segments)):
                mapping[f"https://{host}/{path}/"] = target
            mapping[site.base] = target  # (how every URL of the site is written)
        return mapping


# What the site's own ``_headers`` asks a host to send. The server's default for JSON,
# ``application/ld+json`` with no charset, is not enough for the 1EdTech validator: requests
# decodes only ``application/json`` as UTF-8 by default and guesses the rest, and
# charset_normalizer takes a short document of CJK and Greek for ``ptcp154`` (seed 1: the
# assertion's id then differs from the URL it was fetched from, and the validator fetches that
# mojibake address).
CONTENT_TYPES = {".json": "application/ld+json; charset=utf-8", ".jws": "text/plain; charset=utf-8"}


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    served = tmp_path_factory.mktemp("random-served")
    with StaticServer(served, extra_types=CONTENT_TYPES) as server:
        built = [
            build_site(generate(seed), tmp_path_factory.mktemp(f"random-{seed}"), served, server.base_url)
            for seed in SEEDS
        ]
        yield Sites(built, server)


def _what(site: BuiltSite, award: str, tool: str, detail) -> str:
    return f"{tool}: {site.spec.describe(site.awards[award])}\n  -> {detail}"


# ------------------------------------------------------------------------------ the plan
def test_every_site_publishes_what_was_planned(sites):
    """The hosted assertions say what the plan says (so the verdicts below test the verifiers),
    no expiry lies near the real clock, and every status occurs."""
    now = datetime.now(UTC)
    seen = set()
    for site, award, plan in sites.awards():
        hosted = site.json(award, "assertion.json")
        expires = datetime.fromisoformat(hosted["expires"]) if "expires" in hosted else None
        assert expires is None or not date(2026, 1, 1) <= expires.date() < date(2060, 1, 1), award
        status = (
            ("suspended" if hosted["revocationReason"].startswith("Suspended: ") else "revoked")
            if hosted.get("revoked")
            else "expired"
            if expires is not None and expires < now
            else "valid"
        )
        assert status == plan.status, _what(site, award, "hosted assertion.json", hosted)
        seen.add(status)
    assert seen == {"valid", "expired", "revoked", "suspended"}
    print(f"\n{len(sites.awards())} awards in seeds {SEEDS}; dropped after a refusal: ", end="")
    print([d for site in sites.sites for d in site.spec.dropped])


# ------------------------------------------------------------------------------ 1EdTech validator
def _ob2_chunk(jobs: list[dict]) -> list[dict]:
    return run_batch(jobs, OB2_BATCH_RUNNER)


def _validate_ob2(jobs: list[dict]) -> list[dict]:
    """The 1EdTech validator on every job, in two processes side by side (as test_ob2_validator.py)."""
    half = (len(jobs) + 1) // 2
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return [r for chunk in pool.map(_ob2_chunk, [jobs[:half], jobs[half:]]) for r in chunk]


def test_the_1edtech_validator_agrees(sites):
    """Hosted assertion URL, JWS (recipient profile: the address lower-cased, as badgekiln hashes
    it; the validator hashes it as given) and baked badge.png of every award of the loopback build."""
    forms = []
    for site, award, plan in sites.awards():
        hosted = site.local_base + f"awards/{award}/assertion.json"
        jws = site.file(award, "assertion.jws", local=True).read_text(encoding="utf-8").strip()
        profile = {"email": plan.email.strip().lower()}  # (it hashes the address as given; we hash it lower-cased)
        forms += [
            (site, award, "hosted", {"input": hosted}),
            (site, award, "signed", {"input": jws, "recipient_profile": profile}),
        ]
        png = site.file(award, "badge.png", local=True)
        forms.append((site, award, "badge.png", {"input": str(png)}))
    results = _validate_ob2([job for *_, job in forms])
    for (site, award, form, _), result in zip(forms, results):
        plan = site.awards[award]
        what = _what(site, award, f"1EdTech validator, {form}", result.get("crash") or summarize(result))
        assert "crash" not in result and not messages_matching(result, "network access outside loopback"), what
        errors = [m for level, m in summarize(result, levels=("ERROR",))]
        if plan.status == "expired":
            assert not is_valid(result) and errors and all(" expired on " in m for m in errors), what
        elif plan.status in ("revoked", "suspended") and form == "signed":
            assert not is_valid(result) and errors, what
            assert all(" has been revoked in RevocationList " in m for m in errors), what
        else:  # valid; or revoked/suspended but hosted (the validator never reads ``revoked: true``)
            assert is_valid(result) and summarize(result) == [], what


# ------------------------------------------------------------------------------ OB 3.0: node verifiers
EXPIRED = {"verifier-core": "expiration: credential is expired", "digitalbazaar": 'after "validUntil"'}


def _credential_inputs(sites, folder: Path) -> list[tuple[BuiltSite, str, str, Path]]:
    """Every credential.json, and the credential baked in every credential.png/.svg (read back with
    the standard library, interop_sites.unbake_ob3)."""
    inputs = []
    for site, award, _ in sites.awards():
        inputs.append((site, award, "credential.json", site.file(award, "credential.json")))
        for image in sorted(site.folder(award).glob("credential.[ps][nv]g")):
            text = unbake_ob3(image)
            assert json.loads(text) == site.json(award, "credential.json"), image
            extracted = folder / f"{site.spec.seed}-{award}{image.suffix}.json"
            extracted.write_text(text, encoding="utf-8")
            inputs.append((site, award, image.name, extracted))
    return inputs


@pytest.mark.parametrize("mode", ["digitalbazaar", "verifier-core"])
def test_the_javascript_verifiers_agree(sites, mode, tmp_path):
    """Every credential.json and baked credential, real clock; verifier-core's schema check warns
    only about the status set (README, "Suspension and memberships")."""
    inputs = _credential_inputs(sites, tmp_path)
    assert {form for *_, form, _ in inputs} >= {"credential.json", "credential.png", "credential.svg"}
    [first, *others] = sites.sites
    results = verify_many(
        [path for *_, path in inputs],
        first.output,
        first.base,
        mode=mode,
        url_map={site.base: site.output for site in others},
    )
    for (site, award, form, _), result in zip(inputs, results):
        plan = site.awards[award]
        what = _what(
            site, award, f"{mode}, {form}", {k: result[k] for k in ("errors", "warnings", "revoked", "suspended")}
        )
        assert not any(OFFLINE_ERROR in e for e in result["errors"]), what
        assert result["warnings"] == ([SCHEMA_WARNING] if mode == "verifier-core" else []), what
        if plan.status == "valid":
            assert result["verified"] and result["statusChecked"], what
            assert result["revoked"] is False and result["suspended"] is False, what
        elif plan.status == "expired":
            assert not result["verified"] and any(EXPIRED[mode] in e for e in result["errors"]), what
            if mode == "verifier-core":  # (the Digital Bazaar verifier stops at validUntil)
                assert result["proofVerified"] and result["statusChecked"] and result["revoked"] is False, what
        else:
            assert result["proofVerified"] and result["statusChecked"] and not result["verified"], what
            assert result["revoked"] is (plan.status == "revoked"), what
            assert result["suspended"] is (plan.status == "suspended"), what


# ------------------------------------------------------------------------------ openbadgeslib
OPENBADGESLIB = {
    "ob2": {"revoked": "has been revoked", "suspended": "has been revoked", "expired": "Assertion has expired"},
    "ob3": {
        "revoked": "Credential status 'revocation' is set",
        "suspended": "Credential status 'suspension' is set",
        "expired": "expired",
    },
}


def test_openbadgeslib_agrees(sites):
    """OB 2.0 hosted (its https URL), signed and baked; OB 3.0 Data Integrity, VC-JWT and baked."""
    jobs = []
    for site, award, plan in sites.awards():
        folder = site.folder(award)
        ob2 = [f"{site.base}awards/{award}/assertion.json", folder / "assertion.jws", *folder.glob("badge.[ps][nv]g")]
        ob3 = [folder / "credential.json", folder / "credential.jwt", *folder.glob("credential.[ps][nv]g")]
        # OB 2.0: the recipient's hash is checked (badgekiln hashes the address trimmed and lower-cased).
        # OB 3.0: openbadgeslib compares an address only with credentialSubject.id, never with the
        # hashed ``identifier`` badgekiln publishes (it publishes no address), so none is given.
        recipient = plan.email.strip().lower()
        jobs += [(site, award, "ob2", str(x), recipient) for x in ob2] + [
            (site, award, "ob3", str(x), None) for x in ob3
        ]
    results = verify_batch(
        [{"kind": kind, "input": value, "recipient": recipient} for *_, kind, value, recipient in jobs],
        sites.loopback_map(),
    )
    for (site, award, kind, value, _), result in zip(jobs, results):
        plan = site.awards[award]
        what = _what(site, award, f"openbadgeslib, {kind} {Path(value).name}", result)
        assert "crash" not in result and not result["refused"] and result["fetched"], what
        if plan.status == "valid":
            assert result["valid"], what
        else:
            assert not result["valid"] and OPENBADGESLIB[kind][plan.status] in (result["reason"] or ""), what


# ------------------------------------------------------------------------------ badgekiln verify
VERIFY_CHECK = {"expired": "not expired", "revoked": "not revoked", "suspended": "not suspended"}


def test_badgekiln_verify_agrees(sites, tmp_path):
    """Every form of every award, with ``--recipient`` as the earner's file writes the address."""
    for site, award, plan in sites.awards():
        folder = site.folder(award)
        forms = ["assertion.json", "assertion.jws", "credential.json", "credential.jwt"]
        forms += sorted(p.name for p in folder.glob("*.[ps][nv]g") if p.stem in ("badge", "credential"))
        for form in forms:
            result = cli(
                tmp_path,
                "verify",
                str(folder / form),
                "--json",
                "--offline-root",
                f"{site.base}={site.output}",
                "--recipient",
                plan.email,
            )
            what = _what(site, award, f"badgekiln verify {form}", result.out[-3000:] or result.err[-3000:])
            assert result.out and "Traceback" not in result.err, what
            report = json.loads(result.out)
            failed = [c["name"] for c in report["checks"] if not c["ok"]]
            expected = (0, "valid", []) if plan.status == "valid" else (1, plan.status, [VERIFY_CHECK[plan.status]])
            assert (result.code, report["status"], failed) == expected, what
