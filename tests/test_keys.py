"""Key management: generation, rotation, retirement, development keys, and where keys may live."""

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import TODAY, build, publishable, write_site

from badgekiln.crypto import jws
from badgekiln.crypto.jws import parse_compact


def _jws_creator(site, award_id):
    header, payload, _, _ = parse_compact((site / f"output/awards/{award_id}/assertion.jws").read_text())
    return header, json.loads(payload)["verification"]["creator"]


def test_without_keys_the_build_uses_development_keys_and_says_so(minimal_site, run):
    result = build(run, minimal_site)
    assert "DEVELOPMENT KEYS" in result.err
    _, creator = _jws_creator(minimal_site, "ann-first-1")
    assert creator.endswith("/keys/dev-rsa.json")
    assert not any((minimal_site / "site_src").rglob("*.pem"))
    ledger = (minimal_site / "site_src/awards.lock").read_text()
    assert "ann-first-1\t0\tfirst-badge\t-\t-" in ledger  # development keys are never pinned


def test_production_refuses_development_keys(minimal_site, run):
    build(run, minimal_site)  # pins ids and the ledger
    result = run("build", "--source", str(minimal_site), "--today", TODAY, "--production")
    assert result.code == 1
    assert "error[no-production-key]" in result.err


def test_generate_writes_public_records_and_keeps_private_keys_outside(minimal_site, run, tmp_path):
    publishable(minimal_site)
    result = run("keys", "generate", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err
    records = sorted((minimal_site / "site_src/keys").glob("*.yaml"))
    assert len(records) == 2
    for record in records:
        text = record.read_text()
        assert "PUBLIC KEY" in text and "PRIVATE KEY" not in text
    private = sorted((tmp_path / "private-keys").glob("*.pem"))
    assert len(private) == 2
    assert all(oct(p.stat().st_mode)[-3:] == "600" for p in private)
    build(run, minimal_site)  # pins ids and keys in the ledger, as a provider does before committing
    result = build(run, minimal_site, "--production")
    assert "DEVELOPMENT" not in result.err
    _, creator = _jws_creator(minimal_site, "ann-first-1")
    kid = creator.rsplit("/", 1)[1].removesuffix(".json")
    assert (minimal_site / f"site_src/keys/{kid}.yaml").is_file()
    issuer = json.loads((minimal_site / "output/issuer.json").read_text())
    assert issuer["publicKey"] == [creator]


def test_private_keys_from_the_environment(minimal_site, run, tmp_path, monkeypatch):
    publishable(minimal_site)
    run("keys", "generate", "--source", str(minimal_site), "--today", TODAY)
    pems = "".join(p.read_text() for p in sorted((tmp_path / "private-keys").glob("*.pem")))
    monkeypatch.setenv("BADGEKILN_KEYS_DIR", str(tmp_path / "empty"))
    result = run("build", "--source", str(minimal_site), "--today", TODAY, "--production")
    assert result.code == 1 and "error[missing-private-key]" in result.err
    monkeypatch.setenv("BADGEKILN_PRIVATE_KEYS", pems)
    build(run, minimal_site)
    build(run, minimal_site, "--production")


def test_rotation_keeps_earlier_ob3_signatures_and_re_signs_ob2_with_the_new_key(minimal_site, run):
    run("keys", "generate", "--source", str(minimal_site), "--today", TODAY)
    build(run, minimal_site)
    award = minimal_site / "output/awards/ann-first-1"
    before = {name: (award / name).read_bytes() for name in ("credential.json", "credential.jwt")}
    _, first_creator = _jws_creator(minimal_site, "ann-first-1")
    result = run("keys", "rotate", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0 and "superseded" in result.out
    write_site(
        minimal_site,
        {
            "recipients/bo.yaml": """
        name: Bo
        email: bo@example.com
        awards:
          - id: bo-first-1
            badge: first-badge
            issued_on: 2026-11-01
    """
        },
    )
    build(run, minimal_site)
    # OB 3.0: the Ed25519 proof and the VC-JWT of the earlier award are unchanged, byte for byte.
    assert {name: (award / name).read_bytes() for name in before} == before
    did = json.loads((minimal_site / "output/.well-known/did.json").read_text())
    # Both Ed25519 keys (Multikey) and both RSA keys (JsonWebKey, for VC-JWTs) stay authorized.
    types = {m["id"]: m["type"] for m in did["verificationMethod"]}
    assert sorted(types[i] for i in did["assertionMethod"]) == ["JsonWebKey", "JsonWebKey", "Multikey", "Multikey"]
    # The earlier VC-JWT's key is found through the issuer's DID as through the JWKS.
    kid = json.loads(jws.b64url_decode(before["credential.jwt"].decode().split(".")[0]))["kid"]
    assert kid in _did_jwk_kids(did)
    assert kid in [k["kid"] for k in json.loads((minimal_site / "output/keys/jwks.json").read_text())["keys"]]
    # OB 2.0: the issuer profile may name one key only (the 1EdTech validator rejects more), so
    # every signed assertion is signed by the active key; the old key's document stays published.
    _, old_creator = _jws_creator(minimal_site, "ann-first-1")
    _, new_creator = _jws_creator(minimal_site, "bo-first-1")
    assert old_creator == new_creator != first_creator
    issuer = json.loads((minimal_site / "output/issuer.json").read_text())
    assert issuer["publicKey"] == [new_creator]
    assert (minimal_site / "output" / first_creator.split("/", 3)[3]).is_file()


@pytest.mark.parametrize(
    ("reason", "said"),
    [("compromised\nstatus: active", "U+000A"), ("x" * 20_001, "20001 characters"), ("  ", "the reason is empty")],
)
def test_a_retirement_reason_the_record_cannot_hold_is_refused_before_anything_is_written(
    minimal_site, run, tmp_path, reason, said
):
    # (a new key and a record every later build refused were written, with exit 0: a hostile review)
    run("keys", "generate", "--source", str(minimal_site), "--today", TODAY)
    kid = next((minimal_site / "site_src/keys").glob("*rsa*.yaml")).stem
    before = {
        p: p.read_bytes() for root in (minimal_site, tmp_path / "private-keys") for p in root.rglob("*") if p.is_file()
    }
    result = run("keys", "retire", kid, "--reason", reason, "--source", str(minimal_site), "--today", TODAY)
    assert result.code != 0 and said in result.err, result.err
    after = {
        p: p.read_bytes() for root in (minimal_site, tmp_path / "private-keys") for p in root.rglob("*") if p.is_file()
    }
    assert after == before
    assert build(run, minimal_site).code == 0


def test_retiring_a_key_unpublishes_it_and_re_signs_its_awards(minimal_site, run):
    run("keys", "generate", "--source", str(minimal_site), "--today", TODAY)
    build(run, minimal_site)
    _, old_creator = _jws_creator(minimal_site, "ann-first-1")
    old_kid = old_creator.rsplit("/", 1)[1].removesuffix(".json")
    result = run("keys", "retire", old_kid, "--reason", "compromised", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err
    result = build(run, minimal_site)
    assert "award ann-first-1 was signed with a retired key and is re-signed" in result.err
    _, creator = _jws_creator(minimal_site, "ann-first-1")
    assert creator != old_creator
    issuer = json.loads((minimal_site / "output/issuer.json").read_text())
    assert old_creator not in issuer["publicKey"]
    assert (minimal_site / f"output/keys/{old_kid}.json").is_file()  # the URL stays, unauthorized
    did = json.loads((minimal_site / "output/.well-known/did.json").read_text())
    assert not any(old_kid in method for method in did["assertionMethod"])
    assert not any(old_kid in kid for kid in _did_jwk_kids(did))
    # The re-signed VC-JWT names the new RSA key, which did.json authorizes.
    token = (minimal_site / "output/awards/ann-first-1/credential.jwt").read_text()
    assert json.loads(jws.b64url_decode(token.split(".")[0]))["kid"] in _did_jwk_kids(did)


def _did_jwk_kids(did: dict) -> list[str]:
    """The ``kid`` of every JsonWebKey the DID document authorizes for assertionMethod (each the
    method's own id: the DID URL a VC-JWT header names)."""
    methods = [m for m in did["verificationMethod"] if m["type"] == "JsonWebKey" and m["id"] in did["assertionMethod"]]
    assert all(m["publicKeyJwk"]["kid"] == m["id"] for m in methods)
    return [m["id"] for m in methods]


@pytest.mark.parametrize("rel", ["site_src/keys/oops.pem", "site_src/keys/backup/old/oops.pem"])
@pytest.mark.parametrize("production", [False, True])
def test_private_key_in_the_repository_is_an_error(minimal_site, run, tmp_path, rel, production):
    # (one in a folder below site_src/keys/ passed, --production too: a hostile review)
    run("keys", "generate", "--source", str(minimal_site), "--today", TODAY)
    pem = next((tmp_path / "private-keys").glob("*.pem"))
    (minimal_site / rel).parent.mkdir(parents=True, exist_ok=True)
    (minimal_site / rel).write_bytes(pem.read_bytes())
    result = run("build", "--source", str(minimal_site), "--today", TODAY, *(["--production"] if production else []))
    assert result.code == 1
    assert f"{rel}: error[private-key-in-repo]: this file holds a PRIVATE key" in result.err


def test_keys_folder_inside_the_repository_is_refused(minimal_site, run, monkeypatch):
    monkeypatch.setenv("BADGEKILN_KEYS_DIR", str(minimal_site / "secret-keys"))
    result = run("keys", "generate", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1
    assert "refusing to use private keys at" in result.err
    assert "set BADGEKILN_KEYS_DIR to a folder elsewhere" in result.err
    assert not (minimal_site / "secret-keys").exists() or not any((minimal_site / "secret-keys").iterdir())


def test_a_home_inside_the_site_gets_advice_that_works(minimal_site, run, monkeypatch):
    # (provider UX review: refused ~/.config/badgekiln/keys, then suggested that same folder)
    monkeypatch.delenv("BADGEKILN_KEYS_DIR", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(minimal_site / "home"))
    result = run("keys", "generate", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "set BADGEKILN_KEYS_DIR to a folder elsewhere" in result.err
    assert "the default" not in result.err


def test_keys_list_shows_status_and_private_availability(minimal_site, run):
    run("keys", "generate", "--source", str(minimal_site), "--today", TODAY)
    run("keys", "rotate", "--source", str(minimal_site), "--today", TODAY)
    result = run("keys", "list", "--source", str(minimal_site))
    statuses = sorted(line.split()[2] for line in result.out.splitlines())
    assert statuses == ["active", "active", "superseded", "superseded"]
    assert result.out.count("private key here") == 4


def test_a_damaged_rsa_key_fails_the_build_and_publishes_nothing(minimal_site, run, tmp_path):
    """RSA keys are loaded without OpenSSL's consistency check; the first signature of each key is
    checked instead (crypto/jws.py), so a key whose CRT values were damaged never signs a badge."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    run("keys", "generate", "--source", str(minimal_site), "--today", TODAY)
    build(run, minimal_site)
    before = {p.relative_to(minimal_site): p.read_bytes() for p in (minimal_site / "output").rglob("*") if p.is_file()}
    pem_path = next(p for p in (tmp_path / "private-keys").glob("*.pem") if b"RSA" in p.read_bytes() or "rsa" in p.name)
    key = serialization.load_pem_private_key(pem_path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    numbers = key.private_numbers()
    damaged = rsa.RSAPrivateNumbers(
        p=numbers.p,
        q=numbers.q,
        d=numbers.d + 2,  # (OpenSSL checks a CRT result and falls back to d: damage both)
        dmp1=numbers.dmp1 + 2,
        dmq1=numbers.dmq1,
        iqmp=numbers.iqmp,
        public_numbers=numbers.public_numbers,
    ).private_key(unsafe_skip_rsa_key_validation=True)
    pem_path.write_bytes(
        damaged.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (minimal_site / "recipients/ann.yaml").write_text(
        (minimal_site / "recipients/ann.yaml").read_text().replace("name: Ann Example", "name: Ann B Example", 1)
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code != 0
    assert "the RSA private key is damaged" in result.err
    after = {p.relative_to(minimal_site): p.read_bytes() for p in (minimal_site / "output").rglob("*") if p.is_file()}
    assert after == before


def test_a_site_key_may_not_take_a_development_key_id(minimal_site, run):
    # (review: a key file named dev-….yaml made a real site's pages say "development key")
    assert run("keys", "generate", "--source", str(minimal_site), "--today", TODAY).code == 0
    record = next((minimal_site / "site_src/keys").glob("*rsa*.yaml"))
    record.rename(record.with_name("dev-mine.yaml"))
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1
    assert "site_src/keys/dev-mine.yaml: error[reserved-key-id]: key ids starting with 'dev-'" in result.err


@pytest.mark.parametrize("name", ["2026-11-22-rsa-`x", "Key-A", "k{1}", "-lead"])
def test_a_key_id_must_be_a_slug(minimal_site, run, name):
    """A key id is the record's file name, and goes into every proof's key URL: pyld and
    rdf-canonize write characters such as ` { } | ^ differently there, so Digital Bazaar's verifier
    rejected the proofs (a review found it); the ledger refused such an id on the next build."""
    assert run("keys", "generate", "--source", str(minimal_site), "--today", TODAY).code == 0
    record = next((minimal_site / "site_src/keys").glob("*rsa*.yaml"))
    record.rename(record.with_name(f"{name}.yaml"))
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1
    assert f"site_src/keys/{name}.yaml: error[bad-key-id]: key id {name!r} (the file's name)" in result.err
    assert not (minimal_site / "output").exists()


def test_production_refuses_an_example_base_url(minimal_site, run):
    # (first-time provider review: a starter site published as it was, badges.example.org in every
    # badge, QR code and signature, without a word)
    run("keys", "generate", "--source", str(minimal_site), "--today", TODAY)
    build(run, minimal_site)  # (a local build: no complaint, it is a preview)
    result = run("build", "--source", str(minimal_site), "--today", TODAY, "--production")
    assert result.code == 1
    assert (
        "site_src/site.yaml: error[placeholder-address]: 'base_url' 'https://badges.example.org/' is an example"
        in result.err
    )
    assert "warning[placeholder-address]: 'issuer.email' 'badges@example.org' is an example address" in result.err
    publishable(minimal_site)
    build(run, minimal_site)
    fixed = build(run, minimal_site, "--production")
    assert (
        "error[placeholder-address]" not in fixed.err
        and "'issuer.url' 'https://example.org' is an example" in fixed.err
    )


def test_a_full_width_example_address_is_an_example_address(minimal_site, run):
    # (hostile review: badges.ｅｘａｍｐｌｅ.org, which browsers read as badges.example.org, passed)
    publishable(minimal_site, "https://badges.\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.org/")
    run("keys", "generate", "--source", str(minimal_site), "--today", TODAY)
    result = run("build", "--source", str(minimal_site), "--today", TODAY, "--production")
    # (since 2026-12-04 a host not in its ASCII form is refused in any build, with that form named)
    assert result.code == 1 and "error[bad-url]" in result.err, result.err
    assert "write it as 'badges.example.org'" in result.err


def test_a_production_build_refuses_a_ledger_whose_indices_moved(minimal_site, run):
    # (hostile review: a pull request swapping two status-list indices in awards.lock was accepted
    # by the production build; earners' copies of the revoked badge then read the other's bit)
    publishable(minimal_site)
    write_site(
        minimal_site,
        {
            "recipients/bo.yaml": "name: Bo\nemail: bo@example.com\nawards:\n  - badge: first-badge\n    issued_on: 2026-02-01\n"
        },
    )
    run("keys", "generate", "--source", str(minimal_site), "--today", TODAY)
    build(run, minimal_site)
    build(run, minimal_site, "--production")  # (as published: its ledger is kept with the cache)
    lock = minimal_site / "site_src/awards.lock"
    published = lock.read_text()
    lines = published.splitlines(keepends=True)
    first, second = (i for i, line in enumerate(lines) if not line.startswith("#"))
    a, b = lines[first].split("\t"), lines[second].split("\t")
    a[1], b[1] = b[1], a[1]
    lines[first], lines[second] = "\t".join(b), "\t".join(a)
    lock.write_text("".join(lines))
    result = run("build", "--source", str(minimal_site), "--today", TODAY, "--production")
    assert result.code == 1 and "error[ledger-index-changed]: award " in result.err, result.err
    assert "had status-list index 0 in the last build, and site_src/awards.lock now gives it 1" in result.err
    # As published, and with a new award appended (what award and the build do): not a move.
    lock.write_text(published)
    assert "ledger-index-changed" not in build(run, minimal_site, "--production").err
    sheet = minimal_site.parent / "new.csv"
    sheet.write_text("name,email,badge,issued_on\nZoe,zoe@example.org,first-badge,2026-03-01\n")
    assert run("award", "--csv", str(sheet), "--source", str(minimal_site), "--today", TODAY).code == 0
    assert "ledger-index-changed" not in build(run, minimal_site, "--production").err


@pytest.mark.parametrize("damage", ["line lost", "file removed", "indices swapped"])
def test_a_local_build_warns_when_the_index_of_an_award_it_built_moves(minimal_site, run, damage):
    """A review (2026-12-07): a line of awards.lock lost in a merge (or the file removed) and a
    new award added: an ordinary build gave the new award the lost line's index and the award of
    that line a new one, re-signed both, and said "0 changed". The last build here is not the
    published site (after a rebase this branch's own awards move, as they must: a second review),
    so a build on a computer warns; the frozen build, with the published ledger, refuses."""
    write_site(
        minimal_site,
        {
            "recipients/bo.yaml": "name: Bo\nemail: bo@example.com\nawards:\n  - id: bo-first-1\n    badge: first-badge\n    issued_on: 2026-02-01\n"
        },
    )
    build(run, minimal_site)
    lock = minimal_site / "site_src/awards.lock"
    kept = lock.read_text()
    lines = kept.splitlines(keepends=True)
    assert [line.split("\t")[:2] for line in lines if not line.startswith("#")] == [
        ["ann-first-1", "0"],
        ["bo-first-1", "1"],
    ]
    if damage == "line lost":
        lock.write_text("".join(line for line in lines if not line.startswith("bo-first-1")))
    elif damage == "file removed":
        lock.unlink()
    else:
        lock.write_text(
            kept.replace("ann-first-1\t0", "ann-first-1\tX")
            .replace("bo-first-1\t1", "bo-first-1\t0")
            .replace("ann-first-1\tX", "ann-first-1\t1")
        )
    (minimal_site / "recipients/cy.yaml").write_text(
        "name: Cy\nemail: cy@example.com\nawards:\n  - id: aa-first-1\n    badge: first-badge\n    issued_on: 2026-03-01\n"
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0 and "warning[ledger-index-moved]: award " in result.err, result.err
    assert "if it was published (its line is in the published branch's awards.lock), put the published" in result.err
    assert "built-awards.lock" not in result.err  # (never the last build's copy: it is not the published one)
    again = run("build", "--source", str(minimal_site), "--today", TODAY)  # (said once: the copy kept is this one's)
    assert again.code == 0 and "ledger-index-moved" not in again.err


def test_a_published_award_removed_with_its_ledger_line_is_refused(minimal_site, run):
    # (stranger-PR review: removing the last published award and its ledger line gave its index
    # to the next new award, unnoticed)
    publishable(minimal_site)
    run("keys", "generate", "--source", str(minimal_site), "--today", TODAY)
    build(run, minimal_site)
    build(run, minimal_site, "--production")
    (minimal_site / "recipients/ann.yaml").write_text(
        "name: Ann Example\nemail: ann@example.com\nawards:\n  - badge: first-badge\n    issued_on: 2026-02-01\n"
    )
    lock = minimal_site / "site_src/awards.lock"
    lock.write_text("".join(line for line in lock.read_text().splitlines(keepends=True) if "ann-first-1" not in line))
    published = (minimal_site / ".badgekiln/built-awards.lock").read_text()
    build(run, minimal_site)  # (the pull request's author builds: the new award gets the freed index 0)
    assert "\t0\tfirst-badge" in lock.read_text() and "ann-first-1" not in lock.read_text()
    (minimal_site / ".badgekiln/built-awards.lock").write_text(published)  # (CI: the publishing run's cache)
    result = run("build", "--source", str(minimal_site), "--today", TODAY, "--production")
    assert result.code == 1
    assert "error[ledger-index-changed]: award ann-first-1 had status-list index 0 in the last build" in result.err


def test_a_committed_cache_folder_is_refused_by_a_frozen_build(minimal_site, run):
    # (stranger-PR review: committing any file under .badgekiln/ made the build ignore the cache,
    # and with it the check of the ledger's indices, silently)
    import subprocess

    build(run, minimal_site)
    (minimal_site / ".badgekiln/README").write_text("hi\n")
    subprocess.run(["git", "init", "-q", str(minimal_site)], check=True)
    subprocess.run(["git", "-C", str(minimal_site), "add", "-f", ".badgekiln/README"], check=True)
    result = run("build", "--source", str(minimal_site), "--today", TODAY, "--frozen")
    assert result.code == 1 and "error[cache-committed]: git tracks files in .badgekiln/" in result.err, result.err
    assert build(run, minimal_site).code == 0  # (a local build still works, without the cache)


def test_the_saved_ledger_is_written_only_when_it_changes(minimal_site, run):
    """A rebuild whose ledger is the saved one leaves .badgekiln/built-awards.lock as it is (not
    made and written again); one that adds an award, or finds the saved copy different, writes it."""
    saved = minimal_site / ".badgekiln/built-awards.lock"
    lock = minimal_site / "site_src/awards.lock"
    build(run, minimal_site)
    assert saved.read_text() == lock.read_text()
    first = saved.stat()
    (minimal_site / ".badgekiln/cache/stamp.json").unlink(missing_ok=True)  # (a full rebuild, not a replay)
    os.utime(minimal_site / "recipients/ann.yaml")
    build(run, minimal_site)
    assert (saved.stat().st_ino, saved.stat().st_mtime_ns) == (first.st_ino, first.st_mtime_ns)
    saved.write_text(saved.read_text() + "zz-gone\t7\tfirst-badge\t-\t-\n")  # (another build's copy)
    (minimal_site / ".badgekiln/cache/stamp.json").unlink(missing_ok=True)
    build(run, minimal_site)
    assert saved.read_text() == lock.read_text()
    # (one that gives an award of the sources another index is warned of: see
    # test_a_local_build_warns_when_the_index_of_an_award_it_built_moves)
    saved.write_text(saved.read_text().replace("ann-first-1\t0", "ann-first-1\t7"))
    (minimal_site / ".badgekiln/cache/stamp.json").unlink(missing_ok=True)
    moved = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert moved.code == 0 and "award ann-first-1 had status-list index 7 in the last build here" in moved.err
    saved.write_text(lock.read_text())
    lines = lock.read_text().count("\n")
    sheet = minimal_site.parent / "new.csv"
    sheet.write_text("name,email,badge,issued_on\nZoe,zoe@example.org,first-badge,2026-03-01\n")
    assert run("award", "--csv", str(sheet), "--source", str(minimal_site), "--today", TODAY).code == 0
    build(run, minimal_site)
    assert saved.read_text() == lock.read_text() and lock.read_text().count("\n") == lines + 1


def test_a_fifo_where_the_saved_ledger_is_does_not_hang_the_build(minimal_site, run):
    """The saved copy is compared by a safe read (a regular file reached without a link, of a
    bounded size): a FIFO there is not opened (it would block for ever), and is replaced."""
    import subprocess
    import sys

    build(run, minimal_site)
    saved = minimal_site / ".badgekiln/built-awards.lock"
    saved.unlink()
    os.mkfifo(saved)
    os.utime(minimal_site / "recipients/ann.yaml")  # (a build, not the no-op replay)
    result = subprocess.run(
        [sys.executable, "-m", "badgekiln", "build", "--source", str(minimal_site), "--today", TODAY],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert saved.is_file() and saved.read_text() == (minimal_site / "site_src/awards.lock").read_text()


def test_a_site_with_keys_whose_private_keys_are_elsewhere_is_told_where_to_put_them(
    minimal_site, run, tmp_path, monkeypatch
):
    """A new laptop, or a colleague's clone: site_src/keys/ has the records but not the private
    keys. 'keys generate' (the hint of a site without keys) refuses there, so the warning names the
    files and where they go, as --production's error does."""
    publishable(minimal_site)
    run("keys", "generate", "--source", str(minimal_site), "--today", TODAY)
    monkeypatch.setenv("BADGEKILN_KEYS_DIR", str(tmp_path / "another-machine"))
    result = build(run, minimal_site)
    assert "warning[development-keys]" in result.err
    assert "are not available here" in result.err
    assert "keys generate" not in result.err
    kids = sorted(p.stem for p in (minimal_site / "site_src/keys").glob("*.yaml"))
    hint = result.err.split("hint: ", 1)[1]
    assert "BADGEKILN_PRIVATE_KEYS" in hint and str(tmp_path / "another-machine") in hint
    assert all(f"{kid}.pem" in hint for kid in kids)


def test_the_ci_hint_after_a_rotation_or_retirement_sets_every_key_a_production_build_needs(
    minimal_site, run, tmp_path, monkeypatch
):
    # (a review: the hint named only the new keys; 'gh secret set' replaces the secret, and the
    # next --production build stopped on the superseded keys' missing private keys)
    import shlex

    def secret_from_hint(out: str) -> str:
        line = next(line for line in out.splitlines() if "gh secret set" in line)
        paths = shlex.split(line.split("<(cat ", 1)[1].rsplit(")", 1)[0])
        return "".join(Path(p).read_text() for p in paths)

    publishable(minimal_site)
    assert run("keys", "generate", "--source", str(minimal_site), "--today", TODAY).code == 0
    build(run, minimal_site)
    rotated = run("keys", "rotate", "--source", str(minimal_site), "--today", TODAY)
    assert rotated.code == 0
    secret = secret_from_hint(rotated.out)
    assert secret.count("-----BEGIN PRIVATE KEY-----") == 4  # (two superseded, two active)
    build(run, minimal_site)
    keys_here = os.environ["BADGEKILN_KEYS_DIR"]  # (conftest's own folder for this test)
    monkeypatch.setenv("BADGEKILN_KEYS_DIR", str(tmp_path / "ci-has-no-keys-folder"))
    monkeypatch.setenv("BADGEKILN_PRIVATE_KEYS", secret)
    production = run("build", "--source", str(minimal_site), "--today", TODAY, "--production")
    assert production.code == 0, production.err
    monkeypatch.setenv("BADGEKILN_KEYS_DIR", keys_here)
    monkeypatch.delenv("BADGEKILN_PRIVATE_KEYS")
    rsa = next(
        p.stem
        for p in (minimal_site / "site_src/keys").glob("*.yaml")
        if "-rsa-" in p.stem and "status: active" in p.read_text()
    )
    retired = run("keys", "retire", rsa, "--reason", "compromised", "--source", str(minimal_site), "--today", TODAY)
    assert retired.code == 0
    line = next(line for line in retired.out.splitlines() if "gh secret set" in line)
    assert f"{rsa}.pem" not in line and line.count(".pem") == 4  # (the retired key is not needed any more)


def test_a_private_key_others_may_read_or_replace_is_warned_of(minimal_site, run, tmp_path):
    # (a hostile review: key files 666 in a folder 777 were used without a word)
    run("keys", "generate", "--source", str(minimal_site), "--today", TODAY)
    folder = tmp_path / "private-keys"
    clean = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert clean.code == 0 and "key-permissions" not in clean.err  # (as keys generate makes them: 600 in 700)
    rsa = next(folder.glob("*rsa*.pem"))
    rsa.chmod(0o644)
    folder.chmod(0o777)
    try:
        result = run("build", "--source", str(minimal_site), "--today", TODAY)
    finally:
        folder.chmod(0o700)
    assert result.code == 0, result.err
    assert f"warning[key-permissions]: {rsa} is a private key file with mode 644" in result.err
    assert f"warning[key-permissions]: {folder} is a private key folder with mode 777" in result.err
    assert f"chmod 600 {rsa}" in result.err


def test_folders_below_site_src_keys_too_deep_to_check_fail_rather_than_pass(minimal_site, run, monkeypatch):
    # (a review: a key nine folders down, or after 10,000 files, passed without a word)
    from badgekiln.signing import keys as keys_mod

    run("keys", "generate", "--source", str(minimal_site), "--today", TODAY)
    deep = minimal_site / "site_src/keys" / "/".join(f"d{i}" for i in range(9))
    deep.mkdir(parents=True)
    (deep / "x.txt").write_text("nothing")
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "error[keys-folder-too-large]" in result.err
    shutil.rmtree(minimal_site / "site_src/keys/d0")
    monkeypatch.setattr(keys_mod, "MAX_KEYS_FILES", 3)
    for i in range(4):
        (minimal_site / f"site_src/keys/more/{i}.txt").parent.mkdir(exist_ok=True)
        (minimal_site / f"site_src/keys/more/{i}.txt").write_text("nothing")
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "error[keys-folder-too-large]" in result.err


def test_a_link_in_a_folder_below_site_src_keys_is_an_error(minimal_site, run, tmp_path):
    # (a review: one directly in site_src/keys/ was refused, one a folder down passed)
    run("keys", "generate", "--source", str(minimal_site), "--today", TODAY)
    (minimal_site / "site_src/keys/old").mkdir()
    (minimal_site / "site_src/keys/old/k.pem").symlink_to(next((tmp_path / "private-keys").glob("*.pem")))
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "site_src/keys/old/k.pem: error[symlink]" in result.err


@pytest.mark.parametrize("rel", ["site_src/keys/key.der", "site_src/keys/backup/key.der"])
def test_a_private_key_in_another_encoding_in_site_src_keys_is_an_error(minimal_site, run, tmp_path, rel):
    # (a review: a DER key has no "PRIVATE KEY" text and passed, --production too)
    from cryptography.hazmat.primitives import serialization

    run("keys", "generate", "--source", str(minimal_site), "--today", TODAY)
    pem = next((tmp_path / "private-keys").glob("*ed25519*.pem")).read_bytes()
    der = serialization.load_pem_private_key(pem, None).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (minimal_site / rel).parent.mkdir(parents=True, exist_ok=True)
    (minimal_site / rel).write_bytes(der)
    (minimal_site / "site_src/keys/.gitkeep").write_text("")
    (minimal_site / "site_src/keys/README.md").write_text("Public keys of this site.\n")
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and f"{rel}: error[not-a-key-record]" in result.err
    assert ".gitkeep" not in result.err and "README.md" not in result.err
