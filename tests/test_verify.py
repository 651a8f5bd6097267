"""``badgekiln verify``: our published badges in every form, and other issuers' badges.

One build of the example site per module (real keys from ``badgekiln keys generate``), verified
through ``--offline-root``. Other issuers: Open Badges 3.0 credentials signed by the Digital
Bazaar libraries (tests/oracles/js, ``generate_fixtures``), and hand-made Open Badges 2.0
hosted and signed assertions served by the loopback static server (the approach of
tests/oracles/test_ob2_oracle_selfcheck.py), which also exercises the real ``fetch()``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import struct
import sys
import time
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import TODAY, cli_code, copy_example
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from badgekiln.crypto import dataintegrity, jws
from badgekiln.crypto.multikey import did_key, did_key_verification_method, rsa_public_jwk
from badgekiln.formats import baking
from badgekiln.verifying import FetchError, fetch
from badgekiln.verifying.methods import did_web_url, web_base

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.oracles import vc_verifier as oracle  # noqa: E402
from tests.support.static_server import StaticServer  # noqa: E402

BASE = "https://badges.northwind.example/"
NOW = f"{TODAY}T12:00:00Z"  # the build's date: results do not change as the real clock moves on
REVOKED, EXPIRED = "d3f4g5h6jk", "r9t4y1u6ep"
FORMS = ("assertion.json", "assertion.jws", "badge", "credential.json", "credential.jwt", "credential")


# ------------------------------------------------------------------------------ our example site
@dataclass(frozen=True)
class Built:
    source: Path
    output: Path
    keys_dir: Path

    @property
    def root(self) -> str:
        return f"{BASE}={self.output}"

    def awards(self) -> list[str]:
        return sorted(p.name for p in (self.output / "awards").iterdir())

    def form(self, award: str, form: str) -> Path:
        folder = self.output / "awards" / award
        if form in ("badge", "credential"):  # the baked image, PNG or SVG like the badge's artwork
            return next(folder.glob(f"{form}.[ps][nv]g"))
        return folder / form


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Built:
    """The example site, with real keys, built once for the module."""
    source = copy_example(tmp_path_factory.mktemp("verify-example"))
    keys_dir = tmp_path_factory.mktemp("verify-private-keys")
    with pytest.MonkeyPatch.context() as mp:  # conftest's key isolation is function-scoped
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))
        mp.setenv("BADGEKILN_KEYS_DIR", str(keys_dir))
        mp.delenv("BADGEKILN_PRIVATE_KEYS", raising=False)
        assert cli_code("keys", "generate", "--source", str(source), "--today", TODAY) == 0
        assert cli_code("build", "--source", str(source), "--today", TODAY) == 0
    return Built(source, source / "output", keys_dir)


@pytest.fixture
def verify(run, site):
    """``badgekiln verify TARGET --json --now NOW --offline-root <site>``; returns (exit code, report)."""

    def _verify(target, *extra: str, root: str | None = None, now: str | None = NOW):
        args = ["verify", str(target), "--json", "--offline-root", root or site.root, *extra]
        if now:
            args += ["--now", now]
        result = run(*args)
        assert result.out, result.err
        return result.code, json.loads(result.out)

    return _verify


def failed(report: dict) -> list[str]:
    return [c["name"] for c in report["checks"] if not c["ok"]]


def check(report: dict, name: str) -> dict:
    return next(c for c in report["checks"] if c["name"] == name)


KINDS = {
    "assertion.json": "ob2-hosted",
    "assertion.jws": "ob2-signed",
    "badge": "ob2-hosted",
    "credential.json": "ob3-credential",
    "credential.jwt": "ob3-jwt",
    "credential": "ob3-credential",
}


@pytest.mark.parametrize("form", FORMS)
def test_every_form_of_every_valid_award_verifies(site, verify, form):
    awards = [a for a in site.awards() if a not in (REVOKED, EXPIRED)]
    assert len(awards) >= 8
    for award in awards:
        code, report = verify(site.form(award, form))
        assert (code, report["status"], failed(report)) == (0, "valid", []), (award, report)
        assert report["kind"] == KINDS[form]
        assert report["subject"]["issuer_name"] == "Northwind Training"


def test_text_report_has_a_line_per_check_and_a_verdict(site, run):
    result = run("verify", str(site.form("7q4kz2m9xw", "credential.json")), "--offline-root", site.root, "--now", NOW)
    lines = result.out.splitlines()
    assert result.code == 0 and lines[0].startswith("Open Badges 3.0 credential")
    assert "  ✔ proof: the eddsa-rdfc-2022 proof verifies" in lines
    assert (
        "  ✔ not revoked: bit 0 of https://badges.northwind.example/status/revocation.json is clear: not revoked"
        in lines
    )
    assert lines[-1] == "✔ VALID"
    assert "  network:" in lines and any(
        line.startswith("    offline https://badges.northwind.example/status/revocation.json (") for line in lines
    )


@pytest.mark.parametrize("form", FORMS)
def test_the_revoked_award_is_revoked_in_every_form(site, verify, run, form):
    code, report = verify(site.form(REVOKED, form))
    assert (code, report["status"], failed(report)) == (1, "revoked", ["not revoked"]), report
    if form in ("assertion.json", "assertion.jws", "badge"):
        assert "Issued in error" in check(report, "not revoked")["detail"]
    text = run("verify", str(site.form(REVOKED, form)), "--offline-root", site.root, "--now", NOW)
    assert text.code == 1 and text.out.splitlines()[-1] == "✘ NOT VALID (revoked): failed not revoked"


@pytest.mark.parametrize("form", FORMS)
def test_the_expired_award_is_expired_and_was_valid_before_it_expired(site, verify, form):
    code, report = verify(site.form(EXPIRED, form))
    assert (code, report["status"], failed(report)) == (1, "expired", ["not expired"]), report
    assert "expired on 2025-09-02T00:00:00Z" in check(report, "not expired")["detail"]
    code, report = verify(site.form(EXPIRED, form), now="2025-06-01")
    assert (code, failed(report)) == (0, []), report
    code, report = verify(site.form(EXPIRED, form), now="2024-09-01")  # the day before it was issued
    assert code == 1 and report["status"] == "not yet valid", report


# ------------------------------------------------------------------------------------- tampering
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _swap_payload(token: str, change) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(claims)
    return ".".join([header, _b64(json.dumps(claims).encode()), signature])


def _rename(credential: dict) -> None:
    credential["credentialSubject"]["achievement"]["name"] = "Pipefitting - MASTER"


def _tampered(site: Built, tmp_path: Path, form: str) -> Path:
    award = "7q4kz2m9xw"
    source = site.form(award, form)
    target = tmp_path / source.name
    if form == "credential.json":
        credential = json.loads(source.read_text())
        _rename(credential)
        target.write_text(json.dumps(credential))
    elif form == "assertion.json":
        assertion = json.loads(source.read_text())
        assertion["issuedOn"] = "2020-01-01T00:00:00Z"
        target.write_text(json.dumps(assertion))
    elif form == "assertion.jws":
        target.write_text(_swap_payload(source.read_text(), lambda a: a.update(expires="2099-01-01T00:00:00Z")))
    elif form == "credential.jwt":
        target.write_text(_swap_payload(source.read_text(), _rename))
    elif form == "credential-png":  # the PNG award's baked credential, rebaked with a changed one
        png = site.form("g5m2n8b3va", "credential").read_bytes()
        credential = json.loads(baking.unbake_png(png, keyword=baking.OB3_PNG_KEYWORD))
        _rename(credential)
        target = tmp_path / "credential.png"
        target.write_bytes(baking.bake_png(png, json.dumps(credential), keyword=baking.OB3_PNG_KEYWORD))
    elif form == "badge-png":
        png = site.form("g5m2n8b3va", "badge").read_bytes()
        assertion = json.loads(baking.unbake_png(png))
        assertion["narrative"] = "Outstanding."
        target = tmp_path / "badge.png"
        target.write_bytes(baking.bake_png(png, json.dumps(assertion)))
    elif form == "credential-svg":
        baked = baking.unbake_svg(source.with_name("credential.svg").read_bytes())
        credential = json.loads(baked["body"])
        _rename(credential)
        svg = site.output.joinpath("badges/pipefitting-mji10/image.svg").read_bytes()
        target = tmp_path / "credential.svg"
        target.write_bytes(baking.bake_svg(svg, assertion_json=json.dumps(credential), version=3))
    elif form == "no-achievement":
        credential = json.loads(site.form(award, "credential.json").read_text())
        del credential["credentialSubject"]["achievement"]
        target = tmp_path / "credential.json"
        target.write_text(json.dumps(credential))
    return target


@pytest.mark.parametrize(
    ("form", "failing"),
    [
        ("credential.json", ["proof"]),
        ("assertion.json", ["matches hosted copy"]),
        ("assertion.jws", ["signature"]),
        ("credential.jwt", ["signature"]),
        ("credential-png", ["proof"]),
        ("credential-svg", ["proof"]),
        ("badge-png", ["matches hosted copy"]),
        ("no-achievement", ["JSON Schema", "proof"]),
    ],
)
def test_a_tampered_badge_fails_and_names_the_check(site, verify, tmp_path, form, failing):
    code, report = verify(_tampered(site, tmp_path, form))
    assert (code, report["status"], failed(report)) == (1, "invalid", failing), report


def test_every_status_entry_is_checked_against_the_schema_in_linear_time(site, verify, tmp_path):
    """(session 43's review: the whole credential was checked once per credentialStatus entry:
    1,000 entries and 1,000 alignments took 77 s before any signature was looked at)"""
    credential = json.loads(site.form("7q4kz2m9xw", "credential.json").read_text())
    entries = credential["credentialStatus"]
    alignment = credential["credentialSubject"]["achievement"].get("alignment") or [
        {"type": ["Alignment"], "targetName": "x", "targetUrl": "https://example.org/x"}
    ]
    credential["credentialSubject"]["achievement"]["alignment"] = alignment[:1] * 1000
    credential["credentialStatus"] = [{**entries[0], "id": f"{entries[0]['id']}-{i}"} for i in range(999)]
    credential["credentialStatus"].append({**entries[0], "type": 7})  # (the last entry's type is wrong)
    target = tmp_path / "credential.json"
    target.write_text(json.dumps(credential))
    started = time.monotonic()
    code, report = verify(target)
    assert time.monotonic() - started < 20
    assert code == 1 and "JSON Schema" in failed(report), report
    assert "credentialStatus/999/type" in check(report, "JSON Schema")["detail"], report


@pytest.fixture
def site_copy(site, tmp_path) -> Path:
    """A copy of the built output, to break the published site itself."""
    return Path(shutil.copytree(site.output, tmp_path / "copy"))


def _edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("edit", "form", "failing", "needle"),
    [
        (
            lambda o: _edit_json(o / ".well-known/did.json", lambda d: d.update(assertionMethod=[])),
            "credential.json",
            "verification method",
            "does not list",
        ),
        (
            lambda o: _edit_json(o / "issuer.json", lambda d: d.pop("publicKey")),
            "assertion.jws",
            "signing key",
            "does not list",
        ),
        (
            lambda o: _edit_json(
                o / "status/revocation.json",
                lambda d: d["credentialSubject"].update(
                    encodedList=d["credentialSubject"]["encodedList"].replace("AAAAA", "AAAAB", 1)
                ),
            ),
            "credential.jwt",
            "status list",
            "does not verify",
        ),
        (lambda o: (o / "awards/7q4kz2m9xw/assertion.json").unlink(), "badge", "fetch assertion", "404"),
    ],
)
def test_a_broken_published_site_fails_the_right_check(site, site_copy, verify, edit, form, failing, needle):
    edit(site_copy)
    code, report = verify(site.form("7q4kz2m9xw", form), root=f"{BASE}={site_copy}")
    missing = failing == "fetch assertion"  # (a 404: could not be checked, not proven wrong)
    assert (code, report["status"]) == ((3, "unchecked") if missing else (1, "invalid")), report
    assert failing in failed(report) and check(report, failing)["unchecked"] is missing
    assert needle in check(report, failing)["detail"]


def test_a_status_list_that_cannot_be_fetched_is_not_checked_rather_than_invalid(site, site_copy, verify, run):
    # (verifier review: a missing status list made a genuine badge "NOT VALID (invalid)", exit 1,
    # as a forged one; the page's own check said "Could not fully check")
    (site_copy / "status/suspension.json").unlink()
    code, report = verify(site.form("7q4kz2m9xw", "credential.json"), root=f"{BASE}={site_copy}")
    assert (code, report["status"], failed(report)) == (3, "unchecked", ["status list"]), report
    assert [c["unchecked"] for c in report["checks"] if c["name"] == "status list"] == [False, True]
    text = run(
        "verify", str(site.form("7q4kz2m9xw", "credential.json")), "--offline-root", f"{BASE}={site_copy}", "--now", NOW
    )
    assert text.code == 3 and "  ? status list: " in text.out
    assert text.out.rstrip().endswith(
        "? NOT CHECKED: could not fetch what it needs (status list), so it is not known to be valid"
    )


# -------------------------------------------------------------------------------- VC-JWT keys
def _private_rsa(site: Built):
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    pem = next(p for p in site.keys_dir.glob("*.pem") if "rsa" in p.name)
    return load_pem_private_key(pem.read_bytes(), password=None)


def _jwt_payload(site: Built) -> bytes:
    _, payload, _ = site.form("7q4kz2m9xw", "credential.jwt").read_text().split(".")
    return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))


@pytest.mark.parametrize(
    ("header", "needle"),
    [
        ("private jwk", "private key members"),
        ("public jwk", "anyone could have signed this"),
        ("foreign kid", "is not on the issuer's site"),
        ("foreign did kid", "is not a key of the issuer"),
        ("unlisted did kid", "has no verification method"),
        ("extra member", "only alg, kid, jwk and typ"),
    ],
)
def test_vc_jwt_keys_must_be_public_and_the_issuers_own(site, verify, tmp_path, header, needle):
    key = _private_rsa(site)
    jwk = rsa_public_jwk(key.public_key(), "k1")
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if header == "public jwk":  # a key the issuer never published
        key, jwk = stranger, rsa_public_jwk(stranger.public_key(), "k1")
    headers = {
        "private jwk": {"jwk": {**jwk, "d": _b64(b"\x01" * 32)}},
        "public jwk": {"jwk": jwk},
        "foreign kid": {"kid": "https://attacker.example/key.json"},
        "foreign did kid": {"kid": "did:web:attacker.example#k1"},
        "unlisted did kid": {"kid": "did:web:badges.northwind.example#k1"},
        "extra member": {"kid": BASE + "keys/jwks.json", "x5u": "https://attacker.example/x"},
    }
    token = jws.sign_compact({"alg": "RS256", **headers[header]}, _jwt_payload(site), key)
    (tmp_path / "c.jwt").write_text(token)
    code, report = verify(tmp_path / "c.jwt")
    assert code == 1 and failed(report)[:1] in (["JWT key"], ["JWT header"]), report
    assert needle in report["checks"][-1]["detail"]


def test_our_vc_jwt_kid_resolves_through_the_issuers_did_and_an_older_jwk_url_kid_still_does(site, verify, tmp_path):
    token = site.form("7q4kz2m9xw", "credential.jwt")
    header = jws.parse_compact(token.read_text())[0]
    assert header["kid"].startswith("did:web:badges.northwind.example#")
    code, report = verify(token)
    assert (code, failed(report)) == (0, []), report
    assert check(report, "JWT key")["detail"].startswith("listed under assertionMethod of did:web:")
    # badges signed before the kid became a DID URL name the https URL of the key's JWK
    older = {**header, "kid": f"{BASE}keys/{header['kid'].partition('#')[2]}.jwk.json"}
    (tmp_path / "c.jwt").write_text(jws.sign_compact(older, _jwt_payload(site), _private_rsa(site)))
    code, report = verify(tmp_path / "c.jwt")
    assert (code, failed(report)) == (0, []), report
    assert check(report, "JWT key")["detail"] == f"{older['kid']}, on the issuer's site {BASE}"


def test_an_embedded_jwk_published_in_the_issuers_well_known_jwks_is_accepted(site, verify, tmp_path):
    key = _private_rsa(site)
    token = jws.sign_compact({"alg": "RS256", "jwk": rsa_public_jwk(key.public_key(), "k1")}, _jwt_payload(site), key)
    (tmp_path / "c.jwt").write_text(token)
    code, report = verify(tmp_path / "c.jwt")
    assert (code, failed(report)) == (0, []), report


def test_a_kid_into_a_jwks_with_a_fragment_is_resolved(site, verify, tmp_path):
    """Other issuers name keys by a JWKS URL and a bare kid fragment; that resolves too."""
    key = _private_rsa(site)
    (site.output / "keys/bare-kids.json").write_text(json.dumps({"keys": [rsa_public_jwk(key.public_key(), "k7")]}))
    token = jws.sign_compact(
        {"alg": "RS256", "kid": f"{BASE}keys/bare-kids.json#k7", "typ": "JWT"}, _jwt_payload(site), key
    )
    (tmp_path / "c.jwt").write_text(token)
    code, report = verify(tmp_path / "c.jwt")
    assert (code, failed(report)) == (0, []), report


# ------------------------------------------------------------------- VC 1.1-era OB 3.0 credentials
def _vc1(site: Built) -> dict:
    """Our credential rewritten the VC 1.1 way: v1 context, issuanceDate/expirationDate."""
    credential = json.loads(site.form("7q4kz2m9xw", "credential.json").read_text())
    del credential["proof"]
    credential["@context"] = [
        "https://www.w3.org/2018/credentials/v1",
        credential["@context"][1],
        "https://w3id.org/security/data-integrity/v2",
        "https://www.w3.org/ns/credentials/status/v1",
        credential["@context"][2],
    ]
    credential["issuanceDate"] = credential.pop("validFrom")
    credential["expirationDate"] = credential.pop("validUntil")
    return credential


def test_a_vc_1_1_credential_with_an_embedded_proof_from_a_did_key_issuer(site, verify, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from badgekiln.crypto import dataintegrity, multikey

    key = Ed25519PrivateKey.generate()
    credential = _vc1(site)
    del credential["credentialStatus"]  # a did:key issuer has no site to publish a status list on
    credential["issuer"]["id"] = multikey.did_key(key.public_key())
    signed = dataintegrity.add_proof(
        credential,
        key,
        created="2026-03-01T00:00:00Z",
        verification_method=multikey.did_key_verification_method(key.public_key()),
    )
    (tmp_path / "vc1.json").write_text(json.dumps(signed))
    code, report = verify(tmp_path / "vc1.json")
    assert (code, failed(report)) == (0, []), report
    assert check(report, "not expired")["detail"] == "expirationDate 2029-03-01T00:00:00Z"
    code, report = verify(tmp_path / "vc1.json", now="2029-03-01")
    assert (code, report["status"]) == (1, "expired"), report


def test_a_vc_1_1_jwt_with_the_credential_in_the_vc_claim(site, verify, tmp_path):
    credential = _vc1(site)
    claims = {
        "vc": {k: v for k, v in credential.items() if k not in ("id", "issuanceDate", "expirationDate")},
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "nbf": 1772323200,
        "exp": 1867017600,
        "sub": credential["credentialSubject"]["id"],
    }
    kid = next(p.name for p in (site.output / "keys").glob("*.jwk.json"))
    token = jws.sign_compact(
        {"alg": "RS256", "typ": "JWT", "kid": f"{BASE}keys/{kid}"}, json.dumps(claims).encode(), _private_rsa(site)
    )
    (tmp_path / "vc1.jwt").write_text(token)
    code, report = verify(tmp_path / "vc1.jwt")
    assert (code, report["kind"], failed(report)) == (0, "ob3-jwt", []), report
    assert check(report, "valid from")["detail"] == "issuanceDate 2026-03-01T00:00:00Z"  # from nbf
    claims["vc"]["issuanceDate"] = "2026-02-01T00:00:00Z"  # disagrees with nbf
    token = jws.sign_compact(
        {"alg": "RS256", "kid": f"{BASE}keys/{kid}"}, json.dumps(claims).encode(), _private_rsa(site)
    )
    (tmp_path / "vc1.jwt").write_text(token)
    code, report = verify(tmp_path / "vc1.jwt")
    assert (code, failed(report)) == (1, ["JWT claims"]), report


# ----------------------------------------------------------------------------------- recipients
@pytest.mark.parametrize("form", ["assertion.jws", "badge", "credential.json", "credential.jwt"])
def test_recipient_email_is_normalised_before_matching(site, verify, form):
    # badgekiln hashes the normalised address (README, "Verifying a badge"); verify tries the
    # address as typed, then normalised, and says which matched.
    code, report = verify(site.form("7q4kz2m9xw", form), "--recipient", "  Jane.Doe@Example.COM ")
    assert (code, failed(report)) == (0, []), report
    assert (
        check(report, "recipient")["detail"]
        == "awarded to jane.doe@example.com (matched the address normalised, trimmed and lower-cased)"
    )
    code, report = verify(site.form("7q4kz2m9xw", form), "--recipient", "jane.doe@example.com")
    assert check(report, "recipient")["detail"] == "awarded to jane.doe@example.com (matched the address as typed)"
    code, report = verify(site.form("7q4kz2m9xw", form), "--recipient", "john.doe@example.com")
    assert (code, failed(report)) == (1, ["recipient"]), report


# ----------------------------------------------------------------------------- input detection
def test_inline_jws_text_and_input_errors(site, verify, run, tmp_path):
    token = site.form("7q4kz2m9xw", "assertion.jws").read_text().strip()
    code, report = verify(token)
    assert (code, report["kind"]) == (0, "ob2-signed"), report
    (tmp_path / "notes.txt").write_text("hello")
    code, report = verify(tmp_path / "notes.txt")
    assert (code, failed(report)) == (1, ["input"])
    (tmp_path / "plain.png").write_bytes(_small_png())
    code, report = verify(tmp_path / "plain.png")
    assert (code, failed(report)) == (2, ["unbake"]) and "not a baked badge" in report["checks"][0]["detail"]
    assert report["status"] == "not a badge"  # (an image with no badge in it: nothing was verified)
    payload = json.loads(_jws_payload(token))
    (tmp_path / "signed.json").write_text(json.dumps(payload))
    code, report = verify(tmp_path / "signed.json")
    assert code == 1 and "verify its JWS" in check(report, "input")["detail"]
    missing = run("verify", str(tmp_path / "missing.json"))
    assert missing.code == 2 and "is not an http(s) URL, a file or a JWS" in missing.err
    bad_now = run("verify", token, "--now", "yesterday")
    assert bad_now.code == 2 and "--now 'yesterday' is not an ISO 8601 date" in bad_now.err


def _jws_payload(token: str) -> bytes:
    payload = token.split(".")[1]
    return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))


def test_did_web_urls_follow_the_did_web_method():
    assert did_web_url("did:web:example.org") == "https://example.org/.well-known/did.json"
    assert did_web_url("did:web:example.org:issuers:abc") == "https://example.org/issuers/abc/did.json"
    assert did_web_url("did:web:localhost%3A8443:org:badges") == "https://localhost:8443/org/badges/did.json"
    assert web_base("did:web:org.github.io:badges") == "https://org.github.io/badges/"
    for bad in ("did:web:", "did:web:a/b", "did:web:user@host", "did:key:z6Mk", "did:web:host::x"):
        with pytest.raises(Exception, match="did:web"):
            did_web_url(bad)


# ------------------------------------------------------------ other issuers: Open Badges 3.0 (DB)
@pytest.fixture(scope="module")
def digital_bazaar(tmp_path_factory) -> dict:
    """Credentials signed by the Digital Bazaar libraries, issued by a path-based did:web with a port."""
    out = tmp_path_factory.mktemp("db-fixtures") / "site"
    return oracle.generate_fixtures(
        out, base_url="https://guild.example:8443/", did="did:web:guild.example%3A8443:issuers:ceramics"
    )


@pytest.mark.parametrize(
    ("name", "code", "failing"),
    [
        ("valid", 0, []),
        ("nostatus", 0, []),
        ("didkey", 0, []),
        ("revoked", 1, ["not revoked"]),
        ("tampered", 1, ["proof"]),
        ("wrong-key", 1, ["proof"]),
        ("expired", 1, ["not expired"]),
    ],
)
def test_digital_bazaar_credentials(digital_bazaar, verify, name, code, failing):
    m = digital_bazaar
    got, report = verify(m["credentials"][name], root=f"{m['baseUrl']}={m['siteDir']}", now=None)
    assert (got, failed(report)) == (code, failing), report
    if name == "didkey":
        assert check(report, "verification method")["detail"].startswith(m["didKey"])
    elif name == "valid":
        assert "https://guild.example:8443/issuers/ceramics/did.json" in check(report, "verification method")["detail"]


def test_an_expired_digital_bazaar_credential_was_valid_in_2020(digital_bazaar, verify):
    m = digital_bazaar
    code, report = verify(m["credentials"]["expired"], root=f"{m['baseUrl']}={m['siteDir']}", now="2020-06-01")
    assert (code, failed(report)) == (0, []), report


# ------------------------------------------------- other issuers: Open Badges 2.0 on a loopback host
CTX = "https://w3id.org/openbadges/v2"
EMAIL = "Learner@Example.org"  # hashed exactly as given, without normalising
SALT = "deadbeefsalt"


def _small_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x1f\x6f\xbf\xff" * 4 for _ in range(4))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@dataclass
class Foreign:
    """A hand-made OB 2.0 issuer in one folder of the loopback server."""

    root: Path
    base: str

    def put(self, rel: str, content) -> str:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else json.dumps(content, indent=2).encode())
        return self.base + rel

    def issuer(self, **extra) -> dict:
        return {
            "@context": CTX,
            "type": "Issuer",
            "id": self.base + "issuer.json",
            "name": "Foreign Issuer",
            "url": self.base,
            "email": "issuer@example.org",
            **extra,
        }

    def badge(self) -> str:
        self.put("badge.png", _small_png())
        return self.put(
            "badge.json",
            {
                "@context": CTX,
                "type": "BadgeClass",
                "id": self.base + "badge.json",
                "name": "Foreign Badge",
                "description": "Made by hand.",
                "image": self.base + "badge.png",
                "criteria": {"narrative": "Do it."},
                "issuer": self.base + "issuer.json",
            },
        )

    def assertion(self, **extra) -> dict:
        digest = hashlib.sha256((EMAIL + SALT).encode()).hexdigest()
        return {
            "@context": CTX,
            "type": "Assertion",
            "id": self.base + "assertion.json",
            "recipient": {"type": "email", "hashed": True, "salt": SALT, "identity": "sha256$" + digest},
            "badge": self.badge(),
            "verification": {"type": "HostedBadge"},
            "issuedOn": "2024-01-02T03:04:05Z",
            **extra,
        }

    def hosted(self, *, issuer: dict | None = None, **extra) -> str:
        self.put("issuer.json", issuer or self.issuer())
        return self.put("assertion.json", self.assertion(**extra))

    def signed(self, key, *, revoked: list | None = None, listed: bool = True, signer=None) -> str:
        from cryptography.hazmat.primitives import serialization

        key_url = self.base + "key.json"
        urn = f"urn:uuid:{uuid.uuid4()}"
        self.put(
            "issuer.json",
            self.issuer(publicKey=[key_url] if listed else [], revocationList=self.base + "revocations.json"),
        )
        pem = (
            key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        self.put(
            "key.json",
            {
                "@context": CTX,
                "type": "CryptographicKey",
                "id": key_url,
                "owner": self.base + "issuer.json",
                "publicKeyPem": pem,
            },
        )
        entries = [
            urn if e == "self" else {**e, "id": urn} if isinstance(e, dict) and e.get("id") == "self" else e
            for e in (revoked or [])
        ]
        self.put(
            "revocations.json",
            {
                "@context": CTX,
                "type": "RevocationList",
                "id": self.base + "revocations.json",
                "issuer": self.base + "issuer.json",
                "revokedAssertions": entries,
            },
        )
        payload = self.assertion(id=urn, verification={"type": "SignedBadge", "creator": key_url})
        return _sign_rs256(signer or key, payload)


def _sign_rs256(key, payload: dict) -> str:
    """RS256 compact JWS made with ``cryptography`` alone, as another issuer's software would."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signing_input = _b64(json.dumps({"alg": "RS256"}).encode()) + "." + _b64(json.dumps(payload).encode())
    return signing_input + "." + _b64(key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with StaticServer(tmp_path_factory.mktemp("foreign-ob2"), routes={}) as srv:
        yield srv


@pytest.fixture
def foreign(server, request) -> Foreign:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[:60].strip("-") + "-" + uuid.uuid4().hex[:6]
    return Foreign(server.root / slug, server.url(slug + "/"))


@pytest.fixture(scope="module")
def rsa_key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def verify_net(run):
    """``badgekiln verify --json --allow-local`` with the real fetcher (the loopback server), no offline roots."""

    def _verify(target, *extra: str):
        result = run("verify", str(target), "--json", "--allow-local", *extra)
        assert result.out, result.err
        return result.code, json.loads(result.out)

    return _verify


def test_foreign_hosted_assertion_by_url_file_and_baked_png(foreign, verify_net, tmp_path):
    url = foreign.hosted()
    code, report = verify_net(url, "--recipient", EMAIL)
    assert (code, report["kind"], failed(report)) == (0, "ob2-hosted", []), report
    # (given by its URL, there is no copy to compare with the hosted one: a check that compared
    # the fetched copy with itself said "the copy given is the one the issuer hosts", a review)
    assert "matches hosted copy" not in [c["name"] for c in report["checks"]]
    assert check(report, "recipient")["detail"] == f"awarded to {EMAIL} (matched the address as typed)"
    assertion = (foreign.root / "assertion.json").read_text()
    (tmp_path / "a.json").write_text(assertion)
    (tmp_path / "baked.png").write_bytes(baking.bake_png(_small_png(), assertion))
    for target in (tmp_path / "a.json", tmp_path / "baked.png"):
        code, report = verify_net(target)
        assert (code, failed(report)) == (0, []), report
    code, report = verify_net(url, "--recipient", "someone@example.org")
    assert (code, failed(report)) == (1, ["recipient"])


@pytest.mark.parametrize(
    ("change", "failing", "needle"),
    [
        ({"revoked": True, "revocationReason": "Cheated"}, "not revoked", "Cheated"),
        ({"expires": "2024-06-01T00:00:00Z"}, "not expired", "expired on 2024-06-01"),
        ({"issuedOn": "2999-01-01T00:00:00Z"}, "issued", "not valid yet"),
        ({"issuedOn": "2024-01-02"}, "issued", "time zone"),
        ({"recipient": {"type": "email", "hashed": True}}, "assertion fields", "identity"),
    ],
)
def test_foreign_hosted_assertion_problems(foreign, verify_net, change, failing, needle):
    code, report = verify_net(foreign.hosted(**change))
    assert code == 1 and failed(report)[-1:] == [failing], report
    assert needle in check(report, failing)["detail"]


def test_foreign_hosted_410_gone_means_revoked(server, foreign, verify_net, tmp_path):
    url = foreign.hosted()
    (tmp_path / "a.json").write_bytes((foreign.root / "assertion.json").read_bytes())
    path = "/" + url.removeprefix(server.base_url)
    server.routes[path] = (410, {"Content-Type": "text/plain"}, b"gone")
    try:
        for target in (url, tmp_path / "a.json"):
            code, report = verify_net(target)
            assert (code, report["status"]) == (1, "revoked"), report
            assert "410 Gone" in check(report, "not revoked")["detail"]
    finally:
        del server.routes[path]


def test_an_open_redirect_on_the_issuers_site_vouches_for_no_strangers_assertion(server, foreign, verify_net):
    """(session 43's review: an assertion on another site, whose id is a redirect on the issuer's
    site to it, passed as hosted on the issuer's site, for whoever it names: VALID)"""
    foreign.hosted()  # (the issuer, its badge class and one genuine award)
    stranger = foreign.base.replace("127.0.0.1", "localhost")  # (another site: another host name)
    slug = foreign.base.removeprefix(server.base_url)
    redirect = foreign.base + "redirect"
    mallory = "mallory@example.org"
    identity = "sha256$" + hashlib.sha256((mallory + SALT).encode()).hexdigest()
    forged = foreign.assertion(
        id=redirect, recipient={"type": "email", "hashed": True, "salt": SALT, "identity": identity}
    )
    foreign.put("evil.json", forged)
    server.routes[f"/{slug}redirect"] = (302, {"Location": stranger + "evil.json"}, b"")
    try:
        code, report = verify_net(redirect, "--recipient", mallory)
    finally:
        del server.routes[f"/{slug}redirect"]
    assert code != 0 and report["status"] != "valid", report
    refused = [f for f in report["fetches"] if f["outcome"] == "refused"]
    assert refused and "redirects to another site" in refused[0]["detail"], report["fetches"]


def test_foreign_verification_policy(server, foreign, verify_net):
    elsewhere = foreign.base.replace("127.0.0.1", "localhost")  # same server, another host name
    issuer = foreign.issuer(id=elsewhere + "issuer.json")
    foreign.put("issuer.json", issuer)
    url = foreign.put("assertion.json", foreign.assertion())
    badge = json.loads((foreign.root / "badge.json").read_text())
    badge["issuer"] = issuer
    foreign.put("badge.json", badge)
    code, report = verify_net(url)
    assert code == 1 and failed(report) == ["verification policy"], report
    issuer["verification"] = {"type": "VerificationObject", "startsWith": foreign.base}
    badge["issuer"] = issuer
    foreign.put("badge.json", badge)
    code, report = verify_net(url)  # a policy only the embedded copy states is the badge's say-so
    assert code == 1 and failed(report) == ["verification policy"], report
    foreign.put("issuer.json", issuer)  # the issuer's own profile states it
    code, report = verify_net(url)
    assert (code, failed(report)) == (0, []), report


def test_foreign_signed_assertion(foreign, verify_net, rsa_key, tmp_path):
    token = foreign.signed(rsa_key)
    code, report = verify_net(token)
    assert (code, report["kind"], failed(report)) == (0, "ob2-signed", []), report
    (tmp_path / "baked.png").write_bytes(baking.bake_png(_small_png(), token))
    code, report = verify_net(tmp_path / "baked.png")
    assert (code, failed(report)) == (0, []), report


@pytest.mark.parametrize(
    ("setup", "failing", "needle"),
    [
        ("revoked, one entry", "not revoked", "listed in the revocation list"),
        ("revoked among others", "not revoked", "Fraud"),
        ("key not listed", "signing key", "does not list"),
        ("other signer", "signature", "does not verify"),
    ],
)
def test_foreign_signed_assertion_problems(foreign, verify_net, rsa_key, setup, failing, needle):
    from cryptography.hazmat.primitives.asymmetric import rsa

    if setup == "revoked, one entry":  # the case openbadges-validator-core 1.1.2 misses
        token = foreign.signed(rsa_key, revoked=["self"])
    elif setup == "revoked among others":
        token = foreign.signed(rsa_key, revoked=["urn:uuid:0000", {"id": "self", "revocationReason": "Fraud"}])
    elif setup == "key not listed":
        token = foreign.signed(rsa_key, listed=False)
    else:
        token = foreign.signed(rsa_key, signer=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    code, report = verify_net(token)
    assert code == 1 and failed(report) == [failing], report
    assert needle in check(report, failing)["detail"]


# ----------------------------------------------------------------------------------- fetch edge
def test_fetch_refuses_unsafe_redirects_oversize_bodies_and_other_schemes(server):
    server.routes["/to-file"] = (302, {"Location": "file:///etc/passwd"}, b"")
    server.routes["/to-ftp"] = (301, {"Location": "ftp://127.0.0.1/x"}, b"")
    server.routes["/huge"] = (200, {"Content-Type": "application/json"}, b" " * (5 * 1024 * 1024 + 1))
    server.routes["/missing"] = (404, {}, b"no")
    try:
        for bad in ("to-file", "to-ftp"):
            with pytest.raises(FetchError, match="not an http"):
                fetch(server.url(bad), allow_local=True)
        with pytest.raises(FetchError, match="limit"):
            fetch(server.url("huge"), allow_local=True)
        with pytest.raises(FetchError, match="HTTP 404") as info:
            fetch(server.url("missing"), allow_local=True)
        assert info.value.status == 404
    finally:
        for route in ("/to-file", "/to-ftp", "/huge", "/missing"):
            del server.routes[route]
    for url in ("file:///etc/passwd", "ftp://example.org/x", "data:,x", "/relative"):
        with pytest.raises(FetchError, match="not an http"):
            fetch(url)


def test_no_network_is_needed_for_contexts(site, verify, monkeypatch):
    """JSON-LD contexts come from the bundled copies: a fetch of any context URL would fail here."""
    monkeypatch.setattr("socket.socket.connect", lambda *a, **k: pytest.fail("network used"))
    code, report = verify(site.form("g5m2n8b3va", "credential"))
    assert (code, failed(report)) == (0, []), report
    assert os.environ.get("BADGEKILN_KEYS_DIR")  # conftest's isolation is in place


def test_a_badge_signed_with_a_development_key_is_not_valid(tmp_path, run):
    # (review: the page's Verify said "a preview build", `badgekiln verify` said VALID)
    source = copy_example(tmp_path / "preview")
    built = run("build", "--source", str(source), "--today", TODAY)  # (no keys: development keys)
    assert built.code == 0 and "development key" in built.err, built.err
    folder = source / "output/awards/7q4kz2m9xw"
    for form in ("assertion.jws", "credential.json", "credential.jwt"):
        result = run(
            "verify", str(folder / form), "--json", "--offline-root", f"{BASE}={source / 'output'}", "--now", NOW
        )
        report = json.loads(result.out)
        assert (result.code, failed(report)) == (1, ["issuer's own key"]), (form, report)
        assert "signed with a development key" in check(report, "issuer's own key")["detail"]
    text = run("verify", str(folder / "credential.json"), "--offline-root", f"{BASE}={source / 'output'}", "--now", NOW)
    assert "✘ issuer's own key: signed with a development key ('did:web:badges.northwind.example#dev-" in text.out
    assert text.out.rstrip().endswith("✘ NOT VALID (invalid): failed issuer's own key")


@pytest.fixture(scope="module")
def preview(tmp_path_factory) -> Built:
    """The example site as it builds out of the box: no keys of its own, so signed with the
    session's development keys (a preview build); ``keys_dir`` holds their private keys."""
    source = copy_example(tmp_path_factory.mktemp("verify-preview"))
    cache = tmp_path_factory.getbasetemp() / "xdg-cache"  # (conftest's, shared by the session)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(cache))
        mp.setenv("BADGEKILN_KEYS_DIR", str(tmp_path_factory.mktemp("verify-preview-no-keys")))
        mp.delenv("BADGEKILN_PRIVATE_KEYS", raising=False)
        assert cli_code("build", "--source", str(source), "--today", TODAY) == 0
    return Built(source, source / "output", cache / "badgekiln/dev-keys")


@pytest.mark.parametrize("form", ["assertion.json", "badge"])
def test_a_preview_builds_hosted_assertion_is_not_valid(preview, verify, form):
    # (review: a hosted assertion has no signature, so a preview's assertion.json and its baked
    # badge, which verifies as hosted, said VALID; its issuer profile lists only development keys)
    code, report = verify(preview.form("7q4kz2m9xw", form), root=preview.root)
    assert report["kind"] == "ob2-hosted"
    assert (code, failed(report)) == (1, ["issuer's own key"]), report
    assert check(report, "issuer's own key")["detail"] == (
        f"the issuer profile lists only development keys ('{BASE}keys/dev-rsa.json'): this is a preview "
        "build's badge, not one the issuer published with its own keys"
    )


@pytest.mark.parametrize("header", ["embedded jwk", "JWKS kid", "JWKS kid with fragment", "JWK file kid"])
def test_a_vc_jwt_signed_with_a_development_key_is_not_valid_however_its_header_names_the_key(
    preview, verify, tmp_path, header
):
    # (review: the check read the header's kid, so the development key named by a JWKS URL or
    # embedded as a jwk passed; the key that verified is what is judged)
    key = _private_rsa(preview)
    did = "did:web:badges.northwind.example"
    headers = {
        "embedded jwk": {"jwk": rsa_public_jwk(key.public_key(), "k1")},
        "JWKS kid": {"kid": f"{BASE}keys/jwks.json"},
        "JWKS kid with fragment": {"kid": f"{BASE}keys/jwks.json#{did}#dev-rsa"},
        "JWK file kid": {"kid": f"{BASE}keys/dev-rsa.jwk.json"},
    }
    # without the embedded proof, whose (development) key would fail the check on its own
    claims = {k: v for k, v in json.loads(_jwt_payload(preview)).items() if k != "proof"}
    token = jws.sign_compact({"alg": "RS256", **headers[header]}, json.dumps(claims).encode(), key)
    (tmp_path / "c.jwt").write_text(token)
    code, report = verify(tmp_path / "c.jwt", root=preview.root)
    assert (code, failed(report)) == (1, ["issuer's own key"]), report
    detail = check(report, "issuer's own key")["detail"]
    assert detail.startswith("signed with a development key (") and f"'{did}#dev-rsa'" in detail, detail


def test_a_command_given_wrongly_exits_2_not_as_an_invalid_badge(run, tmp_path):
    # (verifier review: "no such file" and a bad --now exited 1, as a revoked badge does)
    for args in (["nonexist.json"], [str(tmp_path), "--now", "yesterday"], ["x.json", "--offline-root", "nope"]):
        result = run("verify", *args)
        assert result.code == 2 and "Error:" in result.err and "Traceback" not in result.err, (args, result.err)


def test_an_http_offline_root_answers_its_https_twin_and_a_failed_badge_facts_are_not_facts(site, run, tmp_path):
    # (verifier review: a site built for http://127.0.0.1:PORT/ needed both --offline-root forms,
    # its did:web being read over https; a forged badge's name and dates were printed as facts)
    plain = "http://badges.northwind.example/"  # (the site is https: its twin answers every URL)
    text = run(
        "verify",
        str(site.form("7q4kz2m9xw", "credential.json")),
        "--offline-root",
        f"{plain}={site.output}",
        "--now",
        NOW,
    )
    assert text.code == 0 and "    offline https://badges.northwind.example/.well-known/did.json" in text.out, text.out
    forged = tmp_path / "forged.json"
    data = json.loads(site.form("7q4kz2m9xw", "credential.json").read_text())
    data["credentialSubject"]["achievement"]["name"] = "Pipefitting - MJI12 Advanced Competence"
    forged.write_text(json.dumps(data))
    result = run("verify", str(forged), "--offline-root", site.root, "--now", NOW)
    assert result.code == 1 and "  as the badge says (not verified): badge: Pipefitting - MJI12 Advanced" in result.out


def test_an_https_offline_root_does_not_serve_plain_http_urls(site, run):
    """The network refuses plain http (but on this machine, with --allow-local): an https root
    answered the http form of its URLs from disk as well, so a badge naming http:// URLs passed
    offline where it fails online. Only an http root has a twin (its did:web is read over https)."""
    assertion = "http://badges.northwind.example/awards/7q4kz2m9xw/assertion.json"
    result = run("verify", assertion, "--offline-root", f"{BASE}={site.output}", "--now", NOW)
    assert result.code != 0 and f"offline {assertion}" not in result.out, result.out
    assert "http" in (result.out + result.err) and "Traceback" not in result.err
    same = run("verify", "https" + assertion[4:], "--offline-root", f"{BASE}={site.output}", "--now", NOW)
    assert same.code == 0 and f"offline https{assertion[4:]}" in same.out, same.out


def test_a_forged_badge_cannot_turn_not_valid_into_not_checked(site, verify, tmp_path):
    # (hostile review: a forged credential whose verification method 404s on the issuer's own site,
    # or names a host that does not exist, was "NOT CHECKED … nothing checked is wrong", exit 3)
    for method in ("did:web:badges.northwind.example:nokey#k", "https://nonexistent-host.invalid/key"):
        data = json.loads(site.form("7q4kz2m9xw", "credential.json").read_text())
        data["credentialSubject"]["achievement"]["name"] = "Chief Surgeon Licence"
        (data["proof"][0] if isinstance(data["proof"], list) else data["proof"])["verificationMethod"] = method
        forged = tmp_path / "forged.json"
        forged.write_text(json.dumps(data))
        code, report = verify(forged)
        assert (code, report["status"]) == (1, "invalid"), (method, report)


def test_an_unreachable_revocation_list_does_not_hide_a_wrong_recipient(site, site_copy, verify):
    # (hostile review: OB 2.0's revocation list 404 stopped the check before the recipient)
    (site_copy / "revocations.json").unlink()
    code, report = verify(
        site.form("7q4kz2m9xw", "assertion.jws"), "--recipient", "mallory@evil.test", root=f"{BASE}={site_copy}"
    )
    assert (code, report["status"]) == (1, "invalid") and "recipient" in failed(report), report
    assert next(c for c in report["checks"] if c["name"] == "not revoked")["unchecked"] is True


@pytest.mark.parametrize("path", ["a'b", "ü", "a@b", "a%27b", "%C3%BC"])
def test_an_offline_root_serves_its_urls_however_their_path_is_escaped(tmp_path, path):
    """The prefix given and the URL a did:web resolves to may escape the same path differently
    (``a'b`` against ``a%27b``): compared as RFC 3986 section 6.2.2 says, not as texts (an interop
    review found ``verify --offline-root`` failing on a site whose base_url had ' or ü)."""
    from urllib.parse import quote, unquote

    from badgekiln.verifying.fetching import offline_fetcher

    (tmp_path / "did.json").write_bytes(b"{}")
    prefix = f"https://badges.example.org/{path}/"
    other = quote(unquote(path), safe="") if "%" not in path else unquote(path)
    fetch = offline_fetcher({prefix: tmp_path}, fallback=None)
    assert fetch(f"https://badges.example.org/{other}/did.json") == b"{}"
    assert fetch(f"https://BADGES.example.org/{path}/did.json") == b"{}"


def test_an_offline_root_may_have_an_equals_sign_in_its_url(tmp_path):
    from badgekiln.verifying.fetching import parse_offline_root

    folder = tmp_path / "out"
    folder.mkdir()
    assert parse_offline_root(f"https://badges.example.org/a=b/={folder}") == (
        "https://badges.example.org/a=b/",
        folder,
    )
    assert parse_offline_root(f"https://badges.example.org/x/={folder}") == ("https://badges.example.org/x/", folder)


@pytest.mark.parametrize(
    "url",
    [
        "https://h.example/base/ok.json%00.png",  # (a NUL: ValueError from the file system call)
        "https://h.example/base/" + "a" * 300 + ".json",  # (a name too long: OSError)
        "https://h.example/base/ok.json/x",  # (a file where a folder should be)
        "https://h.exa\tmple/base/ok.json",  # (urlsplit drops the tab; the network fetcher refuses it)
        "https://h.example/ba\nse/ok.json",
        "https://\u212a.h.example/base/ok.json",  # (the Kelvin sign lower-cases to k)
        "https://h.example/other/\ud800",
    ],
)
def test_an_offline_root_answers_a_strangers_odd_url_with_a_refusal_not_a_crash(tmp_path, url):
    """A badge's URLs come from a stranger: an offline root answers what it cannot serve with a
    FetchError, as the network does (a review found ValueError and OSError escaping, and URLs
    served that the network fetcher refuses)."""
    from badgekiln.verifying.fetching import FetchError, offline_fetcher

    (tmp_path / "ok.json").write_bytes(b"{}")
    fetch = offline_fetcher({"https://h.example/base/": tmp_path, "https://k.h.example/base/": tmp_path}, fallback=None)
    assert fetch("https://h.example/base/ok.json") == b"{}"
    with pytest.raises(FetchError):
        fetch(url)


# ------------------------------------------------------- a review: what the checks read is what is signed
def _aliased(site: Built, tmp_path: Path, how: str) -> Path:
    """The revoked award's credential, its proof untouched, with credentialStatus and validUntil
    written under other keys of the same meaning: the RDF, so the proof, is unchanged."""
    credential = json.loads(site.form(REVOKED, "credential.json").read_text())
    status, until = credential.pop("credentialStatus"), credential.pop("validUntil", "2029-03-01T00:00:00Z")
    if how == "inline context":
        credential["@context"] = [
            *credential["@context"],
            {
                "cs": {"@id": "https://www.w3.org/2018/credentials#credentialStatus", "@type": "@id"},
                "vu": {
                    "@id": "https://www.w3.org/2018/credentials#validUntil",
                    "@type": "http://www.w3.org/2001/XMLSchema#dateTime",
                },
            },
        ]
        credential["cs"], credential["vu"] = status, until
    else:  # full IRIs as keys: no context needed
        credential["https://www.w3.org/2018/credentials#credentialStatus"] = status
        credential["https://www.w3.org/2018/credentials#validUntil"] = {
            "@value": until,
            "@type": "http://www.w3.org/2001/XMLSchema#dateTime",
        }
    target = tmp_path / "credential.json"
    target.write_text(json.dumps(credential))
    return target


@pytest.mark.parametrize("how", ["inline context", "full IRI keys"])
def test_a_status_or_expiry_hidden_under_another_json_ld_name_is_not_valid(site, verify, tmp_path, how):
    code, report = verify(_aliased(site, tmp_path, how), now="2099-01-01T00:00:00Z")
    assert (code, report["status"], failed(report)) == (1, "invalid", ["JSON-LD terms"]), report


def _attacker_issuer(site: Built, tmp_path: Path, **changes) -> dict:
    issuer = json.loads((site.output / "issuer.json").read_text())  # the victim's id and name
    issuer.update(changes)
    return issuer


def test_an_embedded_issuer_profile_claiming_another_issuers_id_is_not_believed(site, verify, tmp_path):
    """A hosted assertion on another site, whose embedded badge class embeds the victim's issuer
    profile with a verification policy allowing that site, and a signed one whose embedded
    profile lists the attacker's key (owned by the victim's id, on the attacker's site)."""
    attacker = tmp_path / "attacker"
    (attacker / "keys").mkdir(parents=True)
    badge = json.loads((site.output / "badges/pipefitting-mji10/badge.json").read_text())
    salt = "x"
    identity = "sha256$" + hashlib.sha256(("mallory@attacker.example" + salt).encode()).hexdigest()
    hosted = {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Assertion",
        "id": "https://attacker.example/forged.json",
        "badge": {
            **badge,
            "issuer": _attacker_issuer(site, tmp_path, verification={"allowedOrigins": ["attacker.example"]}),
        },
        "recipient": {"type": "email", "hashed": True, "salt": salt, "identity": identity},
        "issuedOn": "2026-03-01T00:00:00Z",
        "verification": {"type": "HostedBadge"},
    }
    (attacker / "forged.json").write_text(json.dumps(hosted))
    roots = ["--offline-root", f"https://attacker.example/={attacker}"]
    code, report = verify("https://attacker.example/forged.json", *roots)
    assert code == 1 and "verification policy" in failed(report), report

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    from cryptography.hazmat.primitives import serialization

    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    victim = json.loads((site.output / "issuer.json").read_text())["id"]
    key_url = "https://attacker.example/keys/k.json"
    (attacker / "keys/k.json").write_text(
        json.dumps({"id": key_url, "type": "CryptographicKey", "owner": victim, "publicKeyPem": pem.decode()})
    )
    signed = {
        **hosted,
        "id": "urn:uuid:" + str(uuid.uuid4()),
        "badge": {**badge, "issuer": _attacker_issuer(site, tmp_path, publicKey=[key_url])},
        "verification": {"type": "SignedBadge", "creator": key_url},
    }
    token = tmp_path / "forged.jws"
    token.write_text(jws.sign_compact({"alg": "RS256"}, json.dumps(signed).encode(), key))
    code, report = verify(token, *roots)
    assert code == 1 and failed(report) == ["signing key"], report
    assert not any(f["url"].startswith("https://attacker.example/keys") for f in report["fetches"]), report


def test_json_ld_aliasing_takes_a_text_in_a_language_and_refuses_what_carries_properties():
    from badgekiln.verifying.ob3 import json_ld_aliasing

    base = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]}
    assert json_ld_aliasing({**base, "name": {"@value": "Soudage", "@language": "fr", "@direction": "ltr"}}) is None
    for hiding in (
        {"@nest": {"credentialStatus": {}}},  # (its members are the credential's own)
        {"@included": [{"id": "x"}]},
        {"name": {"@language": "fr", "credentialStatus": {}}},  # (no @value: not a value object)
        {"name": {"@value": "x", "@type": "http://www.w3.org/2001/XMLSchema#string"}},
        {"cred:validUntil": "2020-01-01T00:00:00Z"},
        {"credentialSubject": {"@context": {"x": "y"}}},
    ):
        assert json_ld_aliasing({**base, **hiding}) is not None, hiding
    assert json_ld_aliasing({**base, "@context": [*base["@context"], {"cs": "x"}]}) is not None


def _vc1_expired(tmp_path):
    key = Ed25519PrivateKey.generate()
    did = did_key(key.public_key())
    credential = {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            "https://w3id.org/security/data-integrity/v2",
        ],
        "id": "urn:uuid:11111111-2222-3333-4444-555555555555",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": did, "type": ["Profile"], "name": "Issuer"},
        "name": "Test",
        "issuanceDate": "2020-01-01T00:00:00Z",
        "expirationDate": "2021-01-01T00:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "id": "did:example:alice",
            "achievement": {
                "id": "https://x.example/a",
                "type": ["Achievement"],
                "name": "A",
                "description": "d",
                "criteria": {"narrative": "n"},
            },
        },
    }
    return dataintegrity.add_proof(
        credential,
        key,
        verification_method=did_key_verification_method(key.public_key()),
        created="2020-01-01T00:00:00Z",
    )


@pytest.mark.parametrize("extra", [{}, {"validUntil": None}])
def test_an_expired_vc1_credential_with_a_null_validuntil_is_not_valid(run, tmp_path, extra):
    """JSON-LD drops a null member, so the proof holds, while the check of the dates read
    validUntil (null) before the signed expirationDate: it was VALID (a review)."""
    target = tmp_path / "credential.json"
    target.write_text(json.dumps({**_vc1_expired(tmp_path), **extra}))
    result = run("verify", str(target), "--json", "--now", "2025-01-01T00:00:00Z")
    report = json.loads(result.out)
    assert result.code == 1 and report["status"] != "valid", report


def test_a_credential_whose_blank_nodes_are_a_poison_graph_is_refused_at_once(run, tmp_path):
    """(session 43's review: eight blank nodes, each linked to the others, in a 4 KB credential
    with a made-up proof kept verify canonicalizing for two minutes; more, for hours)"""
    credential = _vc1_expired(tmp_path)
    credential["evidence"] = [
        {"id": f"_:b{i}", "type": ["Profile"], "parentOrg": [{"id": f"_:b{j}"} for j in range(8) if j != i]}
        for i in range(8)
    ]
    target = tmp_path / "credential.json"
    target.write_text(json.dumps(credential))
    started = time.monotonic()
    result = run("verify", str(target), "--json", "--now", "2020-06-01T00:00:00Z")
    report = json.loads(result.out)
    assert time.monotonic() - started < 10
    assert result.code == 1 and report["status"] != "valid", report
    assert "poison" in check(report, "proof")["detail"], report


def _did_key_credential(name: str) -> dict:
    """A VC 1.1 badge signed by a did:key of its own, naming its issuer ``name``, valid in 2020."""
    key = Ed25519PrivateKey.generate()
    credential = _vc1_expired(None)
    credential.pop("proof")
    credential["issuer"] = {"id": did_key(key.public_key()), "type": ["Profile"], "name": name}
    credential["expirationDate"] = "2031-01-01T00:00:00Z"
    return dataintegrity.add_proof(
        credential,
        key,
        verification_method=did_key_verification_method(key.public_key()),
        created="2020-01-01T00:00:00Z",
    )


def test_a_did_key_issuer_is_said_to_be_a_key_alone_not_the_name_it_gives(run, tmp_path):
    """(session 43's review: a credential signed by anyone's did:key, naming itself "Northwind
    Training", read "issuer: Northwind Training" under VALID)"""
    target = tmp_path / "credential.json"
    target.write_text(json.dumps(_did_key_credential("Northwind Training")))
    result = run("verify", str(target), "--now", "2020-06-01T00:00:00Z")
    assert result.code == 0 and "✔ VALID" in result.out, result.out
    assert "issuer: Northwind Training (did:key:" in result.out
    assert "a key alone: tied to no web site, its name is its own word" in result.out


def test_the_json_report_escapes_what_the_badge_says(run, tmp_path):
    # (a review: C1 controls, bidi overrides and line separators went through --json raw)
    target = tmp_path / "credential.json"
    target.write_text(json.dumps(_did_key_credential("Evil\u009b2J\u202eCorp\u2028x")))
    result = run("verify", str(target), "--json", "--now", "2020-06-01T00:00:00Z")
    assert result.out.isascii() and "\\u202e" in result.out, result.out
    assert json.loads(result.out)["subject"]["issuer_name"] == "Evil\u009b2J\u202eCorp\u2028x"


@pytest.mark.parametrize("index", ["\u00b2", "\u0663", "1" * 20])
def test_a_status_index_that_is_not_ascii_digits_is_a_clear_failure(run, tmp_path, index):
    # (a review: "²" passed str.isdigit and int() refused it: "verifier error: unexpected ValueError")
    entry = {
        "id": "https://x.example/status#1",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": index,
        "statusListCredential": "https://x.example/status",
    }
    key = Ed25519PrivateKey.generate()
    credential = json.loads((REPO / "tests/golden/example/awards/7q4kz2m9xw/credential.json").read_text())
    del credential["proof"]
    credential["issuer"] = {"id": did_key(key.public_key()), "type": ["Profile"], "name": "Issuer"}
    credential["credentialSubject"]["achievement"]["creator"] = credential["issuer"]
    credential["credentialStatus"] = entry
    credential = dataintegrity.add_proof(
        credential,
        key,
        verification_method=did_key_verification_method(key.public_key()),
        created="2026-03-01T00:00:00Z",
    )
    target = tmp_path / "credential.json"
    target.write_text(json.dumps(credential))
    result = run("verify", str(target), "--json", "--now", "2026-06-01T00:00:00Z")
    report = json.loads(result.out)
    assert result.code == 1 and "verifier error" not in failed(report), report
    assert "statusListIndex number" in check(report, "status list")["detail"]


@pytest.mark.parametrize("now", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00"])
def test_a_now_outside_the_calendar_is_a_usage_error_not_a_verdict(run, tmp_path, now):
    target = tmp_path / "credential.json"
    target.write_text(json.dumps(_did_key_credential("Issuer")))
    result = run("verify", str(target), "--now", now)
    assert result.code == 2 and "is outside the years 1 to 9999 in UTC" in result.err, (result.out, result.err)


# ------------------------------------------------------------------ a second hostile review (helper D)
def test_a_key_file_left_on_the_issuers_site_after_retirement_does_not_verify_a_vc_jwt(
    site, site_copy, verify, tmp_path
):
    """`keys retire` keeps `keys/<kid>.jwk.json` at its URL but drops the key from did.json and the
    JWKS; a VC-JWT naming that file as its kid (signed with the compromised key) was ✔ VALID."""
    retired = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = "did:web:badges.northwind.example#2020-01-01-rsa-retired"
    (site_copy / "keys/2020-01-01-rsa-retired.jwk.json").write_text(
        json.dumps(rsa_public_jwk(retired.public_key(), kid))
    )
    header = {"alg": "RS256", "kid": f"{BASE}keys/2020-01-01-rsa-retired.jwk.json", "typ": "JWT"}
    (tmp_path / "c.jwt").write_text(jws.sign_compact(header, _jwt_payload(site), retired))
    code, report = verify(tmp_path / "c.jwt", root=f"{BASE}={site_copy}")
    assert (code, failed(report)) == (1, ["JWT key"]), report
    assert "not published by the issuer" in check(report, "JWT key")["detail"]


def _endorsement(site: Built) -> dict:
    """An EndorsementCredential of the example site, signed with its own Ed25519 key."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    credential = json.loads(site.form("7q4kz2m9xw", "credential.json").read_text())
    pem = next(p for p in site.keys_dir.glob("*.pem") if "ed25519" in p.name)
    endorsement = {
        "@context": credential["@context"][:2],
        "id": f"{BASE}endorsements/given/welding/credential.json",
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "issuer": credential["issuer"],
        "name": "Endorsement by Northwind Training",
        "validFrom": credential["validFrom"],
        "credentialSubject": {
            "id": "https://badges.other.example/badges/welding/badge.json",
            "type": ["EndorsementSubject"],
            "endorsementComment": "Meets the welding standard.",
        },
    }
    return dataintegrity.add_proof(
        endorsement,
        load_pem_private_key(pem.read_bytes(), password=None),
        verification_method=credential["proof"][0]["verificationMethod"],
        created=credential["proof"][0]["created"],
    )


def test_an_endorsement_is_awarded_to_no_one_so_recipient_fails(site, verify, tmp_path):
    """An endorsement names no earner: `--recipient` was never checked and it was ✔ VALID, exit 0."""
    (tmp_path / "e.json").write_text(json.dumps(_endorsement(site)))
    code, report = verify(tmp_path / "e.json")
    assert (code, report["kind"], failed(report)) == (0, "ob3-endorsement", []), report
    code, report = verify(tmp_path / "e.json", "--recipient", "mallory@evil.example")
    assert (code, report["status"], failed(report)) == (1, "invalid", ["recipient"]), report


def test_a_revocation_whose_reason_reads_like_a_suspension_is_still_a_revocation():
    """OB 2.0 has no suspension: badgekiln writes one as a revocation reason 'Suspended: …', and a
    revocation for 'Suspended: licence withdrawn' was read back as a (reversible) suspension."""
    from badgekiln.formats.ob2 import withdrawn_because
    from badgekiln.verifying.ob2 import _is_suspension

    reason = withdrawn_because("Suspended: licence withdrawn by the regulator", None)
    assert not _is_suspension(reason) and "licence withdrawn by the regulator" in reason
    assert _is_suspension(withdrawn_because(None, "Under investigation"))
    assert withdrawn_because("Issued in error", "Under investigation") == "Issued in error"
