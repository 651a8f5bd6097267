"""Hostile endorsements: a received endorsement is published only if it verifies against the
endorser's pinned DID document and names this site. Anything else fails the build at the file,
and the previous output/ stays as it was."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import TODAY, build, tree_bytes, write_site
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from test_endorsements import COMMENT, _endorsed_site, endorser  # noqa: F401 - (endorser is a fixture)

from badgekiln.crypto import dataintegrity
from badgekiln.crypto.multikey import ed25519_to_multibase

REL = "site_src/endorsements/welding.json"


def _resign(credential: dict, key, method: str) -> bytes:
    """``credential`` with its proof replaced by one made with ``key`` for ``method``."""
    unsigned = {k: v for k, v in credential.items() if k != "proof"}
    signed = dataintegrity.add_proof(unsigned, key, verification_method=method, created=TODAY + "T00:00:00Z")
    signed["proof"] = [signed["proof"]]
    return json.dumps(signed, indent=2).encode()


def _endorser_key(endorser):
    pem = next((endorser["site"].parent / "private-keys").glob("*ed25519*.pem")).read_bytes()
    return serialization.load_pem_private_key(pem, password=None)


def _fails(run, site: Path, code: str, *words: str) -> str:
    """Build ``site`` after a good build, expect an error of ``code`` located in REL, and output/ unchanged."""
    before = tree_bytes(site / "output")
    result = run("build", "--source", str(site), "--today", TODAY)
    assert result.code == 1, result.err
    lines = [line for line in result.err.splitlines() if line.startswith(REL) and f"error[{code}]" in line]
    assert lines, result.err
    for word in words:
        assert word in result.err, result.err
    assert tree_bytes(site / "output") == before
    return result.err


@pytest.fixture
def site(tmp_path, run, endorser):
    """Site A, built once without endorsements (so a failed build has an output/ to keep)."""
    site = _endorsed_site(tmp_path, endorser)
    build(run, site)
    return site


def _credential(endorser) -> dict:
    return json.loads(endorser["files"]["welding"])


@pytest.mark.parametrize("change", ["comment", "target", "endorser name", "validFrom", "proof value"])
def test_a_tampered_endorsement_fails_the_build(site, run, endorser, change):
    credential = _credential(endorser)
    if change == "comment":
        credential["credentialSubject"]["endorsementComment"] = "Rubbish training, avoid."
    elif change == "target":
        credential["credentialSubject"]["id"] = "https://badges.northwind.example/badges/first-aid-at-work/badge.json"
    elif change == "endorser name":
        credential["issuer"]["name"] = "Health and Safety Executive"
    elif change == "validFrom":
        credential["validFrom"] = "2020-01-01T00:00:00Z"
    else:
        value = credential["proof"][0]["proofValue"]
        credential["proof"][0]["proofValue"] = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
    write_site(site, {REL: json.dumps(credential, indent=2).encode()})
    _fails(run, site, "endorsement-not-verified")


def test_the_untampered_file_is_published(site, run, endorser):
    write_site(site, {REL: endorser["files"]["welding"]})
    build(run, site)
    assert (site / "output/endorsements/received/welding.json").read_bytes() == endorser["files"]["welding"]


def test_an_endorsement_of_someone_else_fails_the_build(site, run, endorser):
    write_site(site, {REL: endorser["files"]["elsewhere"]})
    _fails(run, site, "endorsement-wrong-target", "badges.other.example")


def test_an_endorser_whose_did_document_is_not_pinned_fails_the_build(site, run, endorser):
    (site / "site_src/endorsers/skills-council.json").unlink()
    write_site(site, {REL: endorser["files"]["welding"]})
    _fails(
        run,
        site,
        "endorsement-not-verified",
        "no DID document of the endorser did:web:skills-council.example",
        "site_src/endorsers/",
    )


def test_a_forgery_signed_by_another_key_in_the_endorsers_name_fails(site, run, endorser):
    """The forger claims the endorser's did:web and names the endorser's key, or their own."""
    attacker = ed25519.Ed25519PrivateKey.generate()
    credential = _credential(endorser)
    write_site(site, {REL: _resign(credential, attacker, credential["proof"][0]["verificationMethod"])})
    _fails(run, site, "endorsement-not-verified", "signature does not verify")
    own = "did:web:skills-council.example#" + ed25519_to_multibase(attacker.public_key())
    write_site(site, {REL: _resign(credential, attacker, own)})
    _fails(run, site, "endorsement-not-verified", "has no key")


def test_an_endorsement_that_is_not_a_did_web_is_refused(site, run, endorser):
    attacker = ed25519.Ed25519PrivateKey.generate()
    from badgekiln.crypto.multikey import did_key, did_key_verification_method

    credential = _credential(endorser)
    credential["issuer"] = {"id": did_key(attacker.public_key()), "type": ["Profile"], "name": "Skills Council"}
    write_site(site, {REL: _resign(credential, attacker, did_key_verification_method(attacker.public_key()))})
    _fails(run, site, "endorsement-not-verified", "not a did:web")


@pytest.mark.parametrize(
    ("dates", "said"),
    [
        ({"validUntil": "2026-01-01T00:00:00Z"}, "it expired on 2026-01-01T00:00:00Z"),
        ({"validFrom": "2099-01-01T00:00:00Z"}, "it is valid from 2099-01-01T00:00:00Z"),
    ],
)
def test_an_endorsement_not_valid_on_the_day_is_left_out_with_a_warning_and_blocks_nothing(
    site, run, endorser, dates, said
):
    """A date the endorser chose failed every build from that day, `revoke` included: the site
    could not publish a revocation until the file was found and removed (a hostile review)."""
    credential = {**_credential(endorser), **dates}
    write_site(site, {REL: _resign(credential, _endorser_key(endorser), credential["proof"][0]["verificationMethod"])})
    result = run("build", "--source", str(site), "--today", TODAY)
    assert result.code == 0, result.err
    assert f"{REL}:" in result.err and "warning[endorsement-not-current]" in result.err and said in result.err
    assert not (site / "output/endorsements/received/welding.json").exists()
    page = (site / "output/badges/pipefitting-mji10/index.html").read_text()
    assert "Endorsed by" not in page
    revoked = run("revoke", "7q4kz2m9xw", "--reason", "Issued in error", "--source", str(site), "--today", TODAY)
    assert revoked.code == 0, revoked.err


def test_an_endorsement_with_an_expiry_date_shows_it(site, run, endorser):
    credential = {**_credential(endorser), "validUntil": "2030-06-30T00:00:00Z"}
    write_site(site, {REL: _resign(credential, _endorser_key(endorser), credential["proof"][0]["verificationMethod"])})
    build(run, site)
    page = (site / "output/badges/pipefitting-mji10/index.html").read_text()
    assert 'valid until <time datetime="2030-06-30">2030-06-30</time>' in page


def test_an_endorsement_that_breaks_the_schema_fails_the_build(site, run, endorser):
    credential = _credential(endorser)
    del credential["name"]  # required by the schema; the signature would still verify
    write_site(site, {REL: _resign(credential, _endorser_key(endorser), credential["proof"][0]["verificationMethod"])})
    _fails(run, site, "endorsement-not-verified", "JSON Schema")


@pytest.mark.parametrize("content", [b"{", b"[]", b"\xff\xfe", b"[" * 100000 + b"]" * 100000, b'{"a": 1}'])
def test_hostile_files_give_a_located_error(site, run, content):
    write_site(site, {REL: content})
    result = run("build", "--source", str(site), "--today", TODAY)
    assert result.code == 1 and REL in result.err and "Traceback" not in result.err


def _with_member(text: bytes, member: str) -> bytes:
    """A JSON object's text with ``member`` (``"name": value``) written first."""
    assert text.startswith(b"{")
    return b"{" + member.encode() + b", " + text[1:]


@pytest.mark.parametrize(
    ("member", "said"),
    [
        ('"id": "did:web:evil.example"', "duplicate name 'id'"),
        ('"x": NaN', "NaN is not JSON"),
        ('"x": "\\ud800"', "lone surrogate"),
        ('"x": ' + "[" * 900 + "]" * 900, "nested more than 64 levels deep"),
        ('"x": 1' + "0" * 5000, "a number of 5001 digits"),
    ],
    ids=["duplicate-name", "nan", "lone-surrogate", "nested-900", "long-number"],
)
@pytest.mark.parametrize("where", ["endorsement", "pinned DID document"])
def test_json_that_verify_refuses_fails_the_build_at_the_file(site, run, endorser, member, said, where):
    """The build read these files with json.loads: a duplicate name put unsigned text into a
    published file whose proof still verified (the last one counts), a NaN went into the site's
    own achievement.json, and the others ended in a traceback (a hostile review)."""
    rel = REL if where == "endorsement" else "site_src/endorsers/skills-council.json"
    text = endorser["files"]["welding"] if where == "endorsement" else endorser["did"]
    write_site(site, {REL: endorser["files"]["welding"], rel: _with_member(text, member)})
    before = tree_bytes(site / "output")
    result = run("build", "--source", str(site), "--today", TODAY)
    assert result.code == 1 and "Traceback" not in result.err and "internal error" not in result.err, result.err
    assert any(line.startswith(rel + ":") and said in line for line in result.err.splitlines()), result.err
    assert tree_bytes(site / "output") == before


def test_an_endorsement_signed_with_the_endorsers_development_key_fails(site, run, endorser):
    """`verify` refuses it, and so does the build now: a preview build of the endorser's site
    publishes its given endorsements signed with #dev-ed25519 and lists that key in its did.json."""
    did = "did:web:skills-council.example"
    dev = ed25519.Ed25519PrivateKey.generate()
    method = did + "#dev-ed25519"
    document = json.loads(endorser["did"])
    document["verificationMethod"] = [
        {
            "id": method,
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": ed25519_to_multibase(dev.public_key()),
        }
    ]
    document["assertionMethod"] = [method]
    write_site(
        site,
        {
            REL: _resign(_credential(endorser), dev, method),
            "site_src/endorsers/skills-council.json": json.dumps(document, indent=2).encode(),
        },
    )
    _fails(run, site, "endorsement-not-verified", "a development key of the endorser's")


def test_markup_in_a_signed_comment_is_shown_as_text(site, run, endorser):
    credential = _credential(endorser)
    credential["credentialSubject"]["endorsementComment"] = '<script>alert("x")</script>'
    credential["issuer"]["name"] = "<img src=x onerror=alert(1)>"
    write_site(site, {REL: _resign(credential, _endorser_key(endorser), credential["proof"][0]["verificationMethod"])})
    build(run, site)
    page = (site / "output/badges/pipefitting-mji10/index.html").read_text()
    assert "&lt;script&gt;alert(" in page and "<script>alert(" not in page
    assert "&lt;img src=x" in page and "<img src=x" not in page
    assert COMMENT not in page


def test_a_linked_endorsement_or_folder_is_not_read(site, run, endorser, tmp_path):
    """An endorsement (or the folder of pinned DID documents) that is a link out of the repository is refused."""
    outside = tmp_path / "outside.json"
    outside.write_bytes(endorser["files"]["welding"])
    (site / "site_src/endorsements").mkdir(exist_ok=True)
    (site / REL).symlink_to(outside)
    _fails(run, site, "symlink")
    (site / REL).unlink()
    write_site(site, {REL: endorser["files"]["welding"]})
    pinned = site / "site_src/endorsers"
    pinned.rename(tmp_path / "pins")
    pinned.symlink_to(tmp_path / "pins")
    result = run("build", "--source", str(site), "--today", TODAY)
    assert result.code == 1 and "site_src/endorsers" in result.err and "link" in result.err


def _signed_as_endorser(endorser, change) -> bytes:
    """The welding endorsement with ``change`` applied to it, signed again with the endorser's own key."""
    credential = _credential(endorser)
    change(credential)
    return _resign(credential, _endorser_key(endorser), credential["proof"][0]["verificationMethod"])


def test_the_endorser_is_shown_as_its_did_web_host_not_the_name_it_signs(site, run, endorser):
    """A pinned endorser signing as "Health and Safety Executive" with a link to hse.gov.uk is
    shown as its own did:web host; the name is only its claim, and the foreign link is dropped."""

    def impersonate(credential):
        credential["issuer"]["name"] = "Health and Safety Executive"
        credential["issuer"]["url"] = "https://www.hse.gov.uk/"

    write_site(site, {REL: _signed_as_endorser(endorser, impersonate)})
    build(run, site)
    page = (site / "output/badges/pipefitting-mji10/index.html").read_text()
    assert "<strong><bdi>skills-council.example</bdi></strong>" in page
    assert "(names itself “<bdi>Health and Safety Executive</bdi>”)" in page
    assert "hse.gov.uk" not in page
    assert "<strong><bdi>Health and Safety Executive" not in page


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("https://skills-council.example/about/", True),
        ("https://www.skills-council.example/", False),  # a subdomain is another host
        ("https://skills-council.example.evil.example/", False),
        ("http://skills-council.example/", False),
        ("javascript:alert(1)//skills-council.example", False),
    ],
)
def test_the_endorsers_link_is_kept_only_on_its_did_web_host(site, run, endorser, url, linked):
    write_site(site, {REL: _signed_as_endorser(endorser, lambda c: c["issuer"].update(url=url))})
    build(run, site)
    page = (site / "output/badges/pipefitting-mji10/index.html").read_text()
    assert (f'<a href="{url}" rel="noopener"><bdi>skills-council.example</bdi></a>' in page) is linked
    said = 'skills-council.example</bdi></strong> <span class="small">(names itself “<bdi>Skills Council</bdi>”)'
    assert (said in page) is not linked


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("name", "Skills Council\u202e"),
        ("name", "Skills\nCouncil"),
        ("endorsementComment", "Approved.\u2066 Not\u2069 really"),
        ("endorsementComment", "Approved.\x1b[2J"),
    ],
)
def test_control_characters_in_the_signed_name_or_comment_fail_the_build(site, run, endorser, key, value):
    def change(credential):
        (credential["issuer"] if key == "name" else credential["credentialSubject"])[key] = value

    write_site(site, {REL: _signed_as_endorser(endorser, change)})
    _fails(run, site, "control-character")


@pytest.mark.parametrize("value", ["Skills\u200bCouncil", "Skills Council\ufeff", "Skills\u00adCouncil"])
def test_invisible_characters_in_the_signed_name_fail_the_build(site, run, endorser, value):
    def change(credential):
        credential["issuer"]["name"] = value

    write_site(site, {REL: _signed_as_endorser(endorser, change)})
    _fails(run, site, "control-character")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("endorsementComment", "We recommend this badge. " + "." * 4990 + " Just kidding: we do NOT endorse it."),
        ("name", "Skills Council " + "x" * 200),
    ],
)
def test_a_signed_text_longer_than_a_page_shows_fails_rather_than_being_cut(site, run, endorser, key, value):
    """A comment was cut at 5,000 characters without a mark: its end can say the opposite."""

    def change(credential):
        (credential["issuer"] if key == "name" else credential["credentialSubject"])[key] = value

    write_site(site, {REL: _signed_as_endorser(endorser, change)})
    _fails(run, site, "too-long", "pages show at most")


@pytest.mark.parametrize(
    "own",
    [
        "did:web:badges.northwind.example",
        "did:web:Badges.Northwind.example",  # (the exact string was compared: a review)
        "did:web:badges.northwind.example%3A443",
        "did:web:badges.northwind.example:team",  # (shown as badges.northwind.example/team)
    ],
)
def test_a_pinned_did_document_that_claims_this_sites_own_did_fails_the_build(site, run, endorser, own):
    """Else an endorsement signed with the pin's (someone else's) key is shown as signed by this site."""
    attacker = ed25519.Ed25519PrivateKey.generate()
    method = own + "#" + ed25519_to_multibase(attacker.public_key())
    document = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": own,
        "verificationMethod": [
            {
                "id": method,
                "type": "Multikey",
                "controller": own,
                "publicKeyMultibase": ed25519_to_multibase(attacker.public_key()),
            }
        ],
        "assertionMethod": [method],
    }
    credential = _credential(endorser)
    credential["issuer"] = {**credential["issuer"], "id": own, "name": "Northwind Training"}
    write_site(
        site,
        {
            REL: _resign(credential, attacker, method),
            "site_src/endorsers/northwind.json": json.dumps(document, indent=2).encode(),
        },
    )
    before = tree_bytes(site / "output")
    result = run("build", "--source", str(site), "--today", TODAY)
    assert result.code == 1
    lines = [line for line in result.err.splitlines() if "error[own-did-pinned]" in line]
    assert lines and lines[0].startswith("site_src/endorsers/northwind.json:6:"), result.err
    assert tree_bytes(site / "output") == before


def test_the_build_of_the_day_an_endorsement_expires_takes_it_out_as_a_clean_build_does(site, run, endorser, tmp_path):
    credential = {**_credential(endorser), "validUntil": "2026-11-25T00:00:00Z"}
    write_site(site, {REL: _resign(credential, _endorser_key(endorser), credential["proof"][0]["verificationMethod"])})
    build(run, site)
    assert (site / "output/endorsements/received/welding.json").exists()
    later = run("build", "--source", str(site), "--today", "2026-11-25")
    assert later.code == 0 and "warning[endorsement-not-current]" in later.err
    clean = tmp_path / "clean"
    shutil.copytree(site, clean, ignore=shutil.ignore_patterns("output", ".badgekiln"))
    assert run("build", "--source", str(clean), "--today", "2026-11-25").code == 0
    assert tree_bytes(site / "output") == tree_bytes(clean / "output")
    assert not (site / "output/endorsements/received/welding.json").exists()


def test_a_future_endorsement_that_would_fail_another_check_fails_now(site, run, endorser):
    """Only an endorsement that passes every other check waits for its day with a warning: one of
    another site's badge, dated next year, passed `check` and would have failed every build from
    its validFrom day on, revocations included (a review)."""

    def change(credential):
        credential["validFrom"] = "2027-06-01T00:00:00Z"
        credential["credentialSubject"]["id"] = "https://badges.other.example/badges/welding/badge.json"

    write_site(site, {REL: _signed_as_endorser(endorser, change)})
    _fails(run, site, "endorsement-wrong-target")


def test_a_date_past_the_last_day_python_has_is_a_located_error(site, run, endorser):
    def change(credential):
        credential["validUntil"] = "9999-12-31T23:59:59-23:59"

    write_site(site, {REL: _signed_as_endorser(endorser, change)})
    _fails(run, site, "endorsement-not-verified", "past the year 9999")


def test_this_sites_own_location_is_compared_as_it_is_reached():
    from badgekiln.sources.endorsements import same_site

    own = "did:web:badges.northwind.example"
    for did in (own + ".", own + "%3A0443", own + "%3A8443", "did:web:Badges.Northwind.Example", own + ":team"):
        assert same_site(did, own), did
    for did in ("did:web:badges.northwind.examplex", "did:web:skills.example", "did:web:northwind.example"):
        assert not same_site(did, own), did
    # A university's host endorsing a department's site under a path of it: another signer.
    department = "did:web:pages.univ.example:northwind"
    assert not same_site("did:web:pages.univ.example", department)
    assert same_site("did:web:pages.univ.example:northwind:x", department)
    assert not same_site("did:web:pages.univ.example:northwindx", department)
    # The path as it is reached: dot segments and escapes (a review: these passed, and a site
    # under a path showed an endorsement signed by itself)
    for did in (
        "did:web:pages.univ.example:x:..:northwind",
        "did:web:pages.univ.example:.:northwind",
        "did:web:pages.univ.example:%6Eorthwind",
        "did:web:pages.univ.example:NORTHWIND",  # (shown as uni.example/NORTHWIND: a review)
        "did:web:pages.univ.example:northwind.",
        "did:web:pages.univ.example:northwind%00",
    ):
        assert same_site(did, department), did


def test_a_signed_name_that_shows_nothing_fails_the_build(site, run, endorser):
    def change(credential):
        credential["issuer"]["name"] = "\u3164\u3164"

    write_site(site, {REL: _signed_as_endorser(endorser, change)})
    _fails(run, site, "control-character")


def test_an_endorsements_dates_are_shown_as_the_utc_days_the_build_checks(site, run, endorser):
    # (a review: the first ten characters were shown; 2027-01-01T00:30+05:00 is 2026-12-31 in UTC)
    credential = {**_credential(endorser), "validUntil": "2027-01-01T00:30:00+05:00"}
    write_site(site, {REL: _resign(credential, _endorser_key(endorser), credential["proof"][0]["verificationMethod"])})
    build(run, site)
    page = (site / "output/badges/pipefitting-mji10/index.html").read_text()
    assert 'valid until <time datetime="2026-12-31">2026-12-31</time>' in page
