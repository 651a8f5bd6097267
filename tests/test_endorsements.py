"""Endorsements between two badgekiln sites: site B endorses site A's badge class (and A's issuer)
with ``badgekiln endorse``; A's build verifies the signed file against B's pinned DID document,
publishes it and links it from the OB 2.0 BadgeClass, the OB 3.0 Achievement and the pages."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from conftest import MINIMAL, TODAY, build, copy_example, tree_bytes, write_site

from badgekiln import outputs
from badgekiln.cli import main
from badgekiln.verifying.common import VerifyError
from badgekiln.verifying.endorsement import schema_errors, verify_endorsement

A_URL = "https://badges.northwind.example/"
B_URL = "https://skills-council.example/"
SPEC_SCHEMA = Path("/work/shared/spec/schemas/ob3/endorsementcredential.json")
BUNDLED_SCHEMA = Path(__file__).resolve().parent.parent / "src/badgekiln/data/schemas/endorsementcredential.json"
COMMENT = "The Skills Council recognises this badge as meeting the MJI-10 joint integrity standard."


def _cli(*args: str) -> tuple[int, str]:
    try:
        main(list(args))
    except SystemExit as exc:
        return (exc.code if isinstance(exc.code, int) else 1), ""
    return 0, ""


@pytest.fixture(scope="module")
def endorser(tmp_path_factory):
    """Site B, with its own keys: three signed endorsements (A's badge class, A's issuer, someone
    else's badge), B's built output and B's DID document."""
    root = tmp_path_factory.mktemp("endorser")
    site = write_site(
        root / "site",
        {
            **MINIMAL,
            "site_src/site.yaml": f"""
        base_url: {B_URL}
        issuer:
          name: Skills Council
          url: https://skills-council.example
          email: standards@skills-council.example
    """,
        },
    )
    previous = os.environ.get("BADGEKILN_KEYS_DIR")
    os.environ["BADGEKILN_KEYS_DIR"] = str(root / "private-keys")
    try:
        assert _cli("keys", "generate", "--source", str(site), "--today", TODAY)[0] == 0
        files = {}
        for name, target in [
            ("welding", A_URL + "badges/pipefitting-mji10/badge.json"),
            ("northwind", A_URL + "issuer.json"),
            ("elsewhere", "https://badges.other.example/badges/welding/badge.json"),
        ]:
            out = root / f"{name}.json"
            code, _ = _cli(
                "endorse",
                "--source",
                str(site),
                "--today",
                TODAY,
                "--target",
                target,
                "--comment",
                COMMENT,
                "--name",
                name,
                "--out",
                str(out),
            )
            assert code == 0
            files[name] = out.read_bytes()
        assert _cli("build", "--source", str(site), "--today", TODAY)[0] == 0
    finally:
        if previous is None:
            del os.environ["BADGEKILN_KEYS_DIR"]
        else:
            os.environ["BADGEKILN_KEYS_DIR"] = previous
    return {"site": site, "files": files, "did": (site / "output/.well-known/did.json").read_bytes()}


def _endorsed_site(tmp_path: Path, endorser, *names: str, pin: bool = True) -> Path:
    site = copy_example(tmp_path / "a")
    for name in names:
        write_site(site, {f"site_src/endorsements/{name}.json": endorser["files"][name]})
    if pin:
        write_site(site, {"site_src/endorsers/skills-council.json": endorser["did"]})
    return site


def test_the_endorser_publishes_its_signed_endorsement_and_the_ob2_twin(endorser):
    out = endorser["site"] / "output/endorsements/given/welding"
    assert (out / "credential.json").read_bytes() == endorser["files"]["welding"]  # --out is what the site publishes
    ob2 = json.loads((out / "endorsement.json").read_text())
    assert ob2 == {
        "@context": "https://w3id.org/openbadges/v2",
        "id": B_URL + "endorsements/given/welding/endorsement.json",
        "type": "Endorsement",
        "claim": {"id": A_URL + "badges/pipefitting-mji10/badge.json", "endorsementComment": COMMENT},
        "issuer": B_URL + "issuer.json",
        "issuedOn": TODAY + "T00:00:00Z",
        "verification": {"type": "HostedBadge"},
    }
    record = (endorser["site"] / "site_src/endorsing/welding.yaml").read_text()
    assert "target: https://badges.northwind.example/badges/pipefitting-mji10/badge.json" in record


def test_the_endorsement_is_valid_against_the_1edtech_schema_and_verifies(endorser):
    credential = json.loads(endorser["files"]["welding"])
    assert credential["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert credential["issuer"]["id"] == "did:web:skills-council.example"
    assert credential["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    assert credential["proof"][0]["verificationMethod"].startswith("did:web:skills-council.example#")
    assert all(isinstance(c, str) for c in credential["@context"])  # published context URLs only
    assert schema_errors(credential) == []
    if SPEC_SCHEMA.exists():  # the shared spec copy, besides the bundled one
        assert SPEC_SCHEMA.read_bytes() == BUNDLED_SCHEMA.read_bytes()
    schema = json.loads(BUNDLED_SCHEMA.read_text())
    jsonschema.Draft201909Validator(schema).validate(credential)
    did = json.loads(endorser["did"])
    assert verify_endorsement(credential, {did["id"]: did}, today=date.fromisoformat(TODAY)) == credential


def test_an_endorsement_whose_expiry_is_written_under_another_json_ld_name_is_refused(endorser):
    """The proof signs the RDF: a signed validUntil moved under its full IRI keeps the proof and
    hid the expiry from the build's check of the dates (a review of badgekiln verify found it in
    credentials). Such a key is refused before the proof is checked, whatever it holds (here one
    the proof does not cover: without the refusal the error is the proof's)."""
    credential = json.loads(endorser["files"]["welding"])
    did = json.loads(endorser["did"])
    credential["https://www.w3.org/2018/credentials#validUntil"] = {
        "@value": "2026-01-01T00:00:00Z",
        "@type": "http://www.w3.org/2001/XMLSchema#dateTime",
    }
    with pytest.raises(VerifyError, match="is an IRI or a keyword, not a term"):
        verify_endorsement(credential, {did["id"]: did}, today=date.fromisoformat(TODAY))


def test_the_endorsed_site_verifies_publishes_and_links_it(tmp_path, run, endorser):
    site = _endorsed_site(tmp_path, endorser, "welding", "northwind")
    build(run, site)
    out = site / "output"
    assert (out / "endorsements/received/welding.json").read_bytes() == endorser["files"]["welding"]
    ob2_url = B_URL + "endorsements/given/welding/endorsement.json"
    badge = json.loads((out / "badges/pipefitting-mji10/badge.json").read_text())
    assert badge["endorsement"] == [ob2_url]
    achievement = json.loads((out / "badges/pipefitting-mji10/achievement.json").read_text())
    assert achievement["endorsement"] == [json.loads(endorser["files"]["welding"])]
    issuer = json.loads((out / "issuer.json").read_text())
    assert issuer["endorsement"] == [B_URL + "endorsements/given/northwind/endorsement.json"]
    other = json.loads((out / "badges/first-aid-at-work/badge.json").read_text())
    assert "endorsement" not in other
    page = (out / "badges/pipefitting-mji10/index.html").read_text()
    assert "Endorsed by" in page and "Skills Council" in page and COMMENT in page
    assert 'href="../../endorsements/received/welding.json"' in page
    award = next(p for p in (out / "awards").glob("*/index.html") if "Pipefitting" in p.read_text())
    assert "Endorsed by" in award.read_text() and "verified endorsement" in award.read_text()
    other_page = (out / "badges/first-aid-at-work/index.html").read_text()
    assert "endorses the issuer" in other_page and COMMENT in other_page  # the issuer's endorsement, shown everywhere
    for root in (out, endorser["site"] / "output"):  # every endorsement file is declared by exactly one unit
        for path in root.rglob("endorsements/**/*.json"):
            rel = path.relative_to(root).as_posix()
            assert len([u for u in outputs.units() if u.declares(rel)]) == 1, rel


def test_an_incremental_build_with_a_new_endorsement_equals_a_clean_one(tmp_path, run, endorser):
    site = copy_example(tmp_path / "inc")
    build(run, site)
    write_site(
        site,
        {
            "site_src/endorsements/welding.json": endorser["files"]["welding"],
            "site_src/endorsers/skills-council.json": endorser["did"],
        },
    )
    build(run, site)
    clean = _endorsed_site(tmp_path, endorser, "welding")
    build(run, clean)  # a fresh copy: no cache
    assert tree_bytes(site / "output") == tree_bytes(clean / "output")


def test_endorse_refuses_a_bad_target_and_an_existing_name(tmp_path, run, endorser):
    site = endorser["site"]
    result = run("endorse", "--source", str(site), "--target", "ftp://x", "--comment", "x")
    assert result.code == 1 and "--target 'ftp://x' is not an https URL or a did:web" in result.err
    # the options are named where the messages are made: a value is shown as given (a review: "the
    # target x" read "--target '--target x'")
    result = run("endorse", "--source", str(site), "--target", "the target x", "--comment", "x")
    assert result.code == 1 and "--target 'the target x' is not an https URL" in result.err, result.err
    result = run("endorse", "--source", str(site), "--target", A_URL + "issuer.json", "--comment", " ")
    assert result.code == 1 and "--comment must not be empty" in result.err, result.err
    result = run(
        "endorse", "--source", str(site), "--target", A_URL + "issuer.json", "--comment", "x", "--name", "welding"
    )
    assert result.code == 1 and "exists already" in result.err
    shutil.rmtree(tmp_path / "nothing", ignore_errors=True)
    result = run("endorse", "--source", str(tmp_path), "--target", A_URL + "issuer.json", "--comment", "x")
    assert result.code == 1 and "not a badge site" in result.err


def test_endorse_refuses_what_would_be_lost_or_written_elsewhere(tmp_path, run, endorser):
    """(a hostile review) --out through a link planted in the repository overwrote the link's target;
    --name readme recorded an endorsement no build publishes; a date after today was signed."""
    site = endorser["site"]
    precious = tmp_path / "precious.txt"
    precious.write_text("precious")
    link = tmp_path / "welding-endorsement.json"
    link.symlink_to(precious)
    common = ["endorse", "--source", str(site), "--today", TODAY, "--target", A_URL + "issuer.json", "--comment", "x"]
    before = tree_bytes(site / "site_src")
    result = run(*common, "--name", "outlink", "--out", str(link))
    assert result.code == 1 and "is a symbolic link" in result.err
    assert precious.read_text() == "precious"
    result = run(*common, "--name", "readme")
    assert result.code == 1 and "--name readme" in result.err
    result = run(*common, "--name", "later", "--on", "2099-01-01")
    assert result.code == 1 and "--on 2099-01-01 is after today" in result.err
    assert tree_bytes(site / "site_src") == before


def test_endorse_needs_the_sites_own_keys(minimal_site, run):
    """Development keys never sign an endorsement: the endorsed site checks it against the published did.json."""
    result = run(
        "endorse",
        "--source",
        str(minimal_site),
        "--target",
        A_URL + "issuer.json",
        "--comment",
        "Good.",
        "--today",
        TODAY,
    )
    assert result.code == 1 and "no-production-key" in result.err
    assert not (minimal_site / "site_src/endorsing").exists()


def test_a_given_endorsement_with_a_bad_record_fails_the_build_at_its_line(minimal_site, run):
    write_site(
        minimal_site,
        {
            "site_src/endorsing/x.yaml": """
        target: ftp://example.org/badge.json
        comment: Fine.
        issued_on: 2026-01-01
        colour: red
    """
        },
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1
    assert "site_src/endorsing/x.yaml:1:9: error[bad-target]" in result.err
    assert "site_src/endorsing/x.yaml:4:1: error[unknown-key]" in result.err


def test_badgekiln_verify_accepts_the_endorsement_through_the_endorsers_did_web(tmp_path, run, endorser):
    """``verify`` resolves the endorser's did:web like any issuer's (here from B's built output)."""
    given = endorser["site"] / "output/endorsements/given/welding/credential.json"
    root = f"{B_URL}={endorser['site'] / 'output'}"
    result = run("verify", str(given), "--offline-root", root, "--now", TODAY + "T12:00:00Z")
    assert result.code == 0, result.out
    assert "EndorsementCredential" in result.out and "Skills Council" in result.out
    assert "valid against the 1EdTech EndorsementCredential schema" in result.out
    tampered = json.loads(given.read_text())
    tampered["credentialSubject"]["endorsementComment"] = "Not recommended."
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    result = run("verify", str(tmp_path / "tampered.json"), "--offline-root", root, "--now", TODAY + "T12:00:00Z")
    assert result.code == 1 and "signature does not verify" in result.out


def test_a_preview_build_at_another_base_url_keeps_its_received_endorsements(tmp_path, run, endorser):
    """``serve`` and ``build --base-url`` preview the site elsewhere; endorsements name the published site."""
    site = _endorsed_site(tmp_path, endorser, "welding", "northwind")
    build(run, site, "--base-url", "http://127.0.0.1:8000/")
    out = site / "output"
    assert (out / "endorsements/received/welding.json").read_bytes() == endorser["files"]["welding"]
    assert (out / "endorsements/received/northwind.json").read_bytes() == endorser["files"]["northwind"]
    assert "Endorsed by" in (out / "badges/pipefitting-mji10/index.html").read_text()


def test_a_preview_build_still_refuses_an_endorsement_of_the_preview_url(tmp_path, run, endorser):
    """Only the published identity is a target: an endorsement of the preview URL is someone else's."""
    site = _endorsed_site(tmp_path, endorser, "elsewhere")
    result = run("build", "--source", str(site), "--today", TODAY, "--base-url", "https://badges.other.example/")
    assert result.code == 1 and "endorsement-wrong-target" in result.err


@pytest.mark.parametrize(
    ("target", "comment", "words"),
    [
        (A_URL + "issuer.json", "Good.\x1b[2J", "control character"),
        (A_URL + "issuer.json", "Good \u202eevil", "control character"),
        (A_URL + "issuer.json", "   ", "must not be empty"),
        (A_URL + "issuer.json", "x" * 5001, "the limit is 5000"),
        (A_URL + "x" * 3000, "Good.", "the limit is 2000"),
        ("https://", "Good.", "no host name"),
        ("did:web:", "Good.", "not a well-formed did:web"),
        ("did:web:a b", "Good.", "not a well-formed did:web"),
        ("https://user:pw@example.org/badge.json", "Good.", "user name or password"),
        (A_URL + "issuer.json\u2028x", "Good.", "--target"),
    ],
    ids=[
        "escape",
        "rtl-override",
        "blank",
        "long-comment",
        "long-target",
        "no-host",
        "no-did",
        "bad-did",
        "userinfo",
        "ls",
    ],
)
def test_endorse_refuses_what_the_build_would_refuse_and_writes_nothing(
    tmp_path, run, endorser, target, comment, words
):
    site = endorser["site"]
    before = tree_bytes(site / "site_src")
    out = tmp_path / "sent.json"
    result = run(
        "endorse",
        "--source",
        str(site),
        "--today",
        TODAY,
        "--target",
        target,
        "--comment",
        comment,
        "--name",
        "bad",
        "--out",
        str(out),
    )
    # (Control characters are refused by the command line itself, a usage error, before endorse runs.)
    refused_as_usage = result.code == 2 and "is not text" in result.err
    assert refused_as_usage or (result.code == 1 and words in result.err), result.err
    assert "Traceback" not in result.err
    assert tree_bytes(site / "site_src") == before and not out.exists()


# -- endorsers pin / check: a pin tied to what the endorser's host publishes -----------------------


def _offline(endorser) -> list[str]:
    return ["--offline-root", f"{B_URL}={endorser['site'] / 'output'}"]


def test_endorsers_pin_fetches_the_document_its_did_names_and_the_endorsement_verifies(tmp_path, run, endorser):
    site = _endorsed_site(tmp_path, endorser, "welding", pin=False)
    pinned = run(
        "endorsers",
        "pin",
        "did:web:skills-council.example",
        "--source",
        str(site),
        *_offline(endorser),
    )
    assert pinned.code == 0, pinned.err
    assert "pinned did:web:skills-council.example as site_src/endorsers/skills-council-example.json" in pinned.out
    assert (site / "site_src/endorsers/skills-council-example.json").read_bytes() == endorser["did"]
    build(run, site)
    assert (site / "output/endorsements/received/welding.json").is_file()
    again = run("endorsers", "pin", B_URL + ".well-known/did.json", "--source", str(site), *_offline(endorser))
    assert again.code == 0 and "nothing changed" in again.out
    checked = run("endorsers", "check", "--source", str(site), *_offline(endorser))
    assert checked.code == 0 and "the same as published" in checked.out and "1 of 1" in checked.out


def test_endorsers_check_flags_a_made_up_pin_and_one_whose_keys_changed(tmp_path, run, endorser):
    """A pull request that pins a document of its own making for a famous name, and an endorser
    that rotated its keys: neither is what the host publishes."""
    site = _endorsed_site(tmp_path, endorser, "welding")
    forged = json.loads(endorser["did"])
    for key in ("id",):
        forged[key] = "did:web:royalsociety.org"
    forged = json.loads(json.dumps(forged).replace("did:web:skills-council.example", "did:web:royalsociety.org"))
    changed = json.loads(endorser["did"])
    changed["verificationMethod"][0]["publicKeyMultibase"] = "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    empty = tmp_path / "royalsociety"
    empty.mkdir()
    write_site(
        site,
        {
            "site_src/endorsers/royal.json": json.dumps(forged, indent=2).encode(),
            "site_src/endorsers/skills-council.json": json.dumps(changed, indent=2).encode(),
        },
    )
    result = run(
        "endorsers",
        "check",
        "--source",
        str(site),
        *_offline(endorser),
        "--offline-root",
        f"https://royalsociety.org/={empty}",
    )
    assert result.code == 1
    lines = {line.split(":")[0]: line for line in result.out.splitlines() if line.startswith("site_src/")}
    assert "NOT CONFIRMED: the published document could not be read" in lines["site_src/endorsers/royal.json"]
    assert (
        "DIFFERS from what is published (keys whose value differs: " in lines["site_src/endorsers/skills-council.json"]
    )
    assert "0 of 2 pinned document(s) confirmed" in result.out


def test_endorsers_pin_refuses_what_is_not_the_dids_own_document_or_this_sites(tmp_path, run, endorser):
    site = _endorsed_site(tmp_path, endorser, pin=False)
    # A document served at one address for another DID is not that address's DID's.
    elsewhere = tmp_path / "elsewhere/.well-known"
    elsewhere.mkdir(parents=True)
    (elsewhere / "did.json").write_bytes(endorser["did"])
    result = run(
        "endorsers", "pin", "did:web:elsewhere.example", "--source", str(site),
        "--offline-root", f"https://elsewhere.example/={tmp_path / 'elsewhere'}",
    )  # fmt: skip
    assert result.code == 1 and "is of did:web:skills-council.example" in result.err
    own = tmp_path / "own/.well-known"
    own.mkdir(parents=True)
    (own / "did.json").write_text(
        endorser["did"].decode().replace("skills-council.example", "badges.northwind.example")
    )
    result = run(
        "endorsers", "pin", "did:web:badges.northwind.example", "--source", str(site),
        "--offline-root", f"{A_URL}={tmp_path / 'own'}",
    )  # fmt: skip
    assert result.code == 1 and "this site's own DID" in result.err
    result = run("endorsers", "pin", "https://x.example/keys.json", "--source", str(site))
    assert result.code == 1 and "neither a did:web nor the https address of a did.json" in result.err
    assert not (site / "site_src/endorsers").exists()


def test_endorsers_pin_never_writes_through_a_link_nor_takes_another_endorsers_name(tmp_path, run, endorser):
    """(a review) A checked-out pull request made site_src/endorsers a link: pin wrote where it led.
    Two DIDs could get one default name, and --replace dropped the other endorser's pin; a DID
    pinned by hand under another name got a second pin, and the build then failed."""
    site = _endorsed_site(tmp_path, endorser, pin=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (site / "site_src/endorsers").symlink_to(elsewhere)
    pinned = run("endorsers", "pin", "did:web:skills-council.example", "--source", str(site), *_offline(endorser))
    assert pinned.code == 1 and "symbolic link" in pinned.err and not any(elsewhere.iterdir())
    (site / "site_src/endorsers").unlink()
    write_site(site, {"site_src/endorsers/by-hand.json": endorser["did"]})
    again = run("endorsers", "pin", "did:web:skills-council.example", "--source", str(site), *_offline(endorser))
    assert again.code == 1 and "is pinned already, as site_src/endorsers/by-hand.json" in again.err
    assert "--name by-hand --replace" in again.err
    other = json.loads(endorser["did"].decode().replace("skills-council.example", "other.example"))
    write_site(site, {"site_src/endorsers/skills-council-example.json": json.dumps(other).encode()})
    (site / "site_src/endorsers/by-hand.json").unlink()
    taken = run(
        "endorsers", "pin", "did:web:skills-council.example", "--replace", "--source", str(site), *_offline(endorser)
    )
    assert taken.code == 1 and "holds another pin (did:web:other.example)" in taken.err
    (site / "site_src/endorsers/skills-council-example.json").unlink()
    (site / "site_src/endorsers/skills-council-example.json").mkdir()
    folder = run("endorsers", "pin", "did:web:skills-council.example", "--source", str(site), *_offline(endorser))
    assert folder.code == 1 and "is not a regular file" in folder.err and "Traceback" not in folder.err


def test_endorsers_check_fetches_each_pin_on_its_own_and_tells_values_of_other_types_apart(tmp_path, endorser):
    """One fetch budget for every pin left the pins after a slow host "not confirmed"; and
    Python's == took a pin's 1.0 for the published true (a review)."""
    from badgekiln.commands import endorsers
    from badgekiln.commands.verify import network_fetch

    site = _endorsed_site(tmp_path, endorser)
    made = []

    def fetcher():
        made.append(1)
        return network_fetch(_offline(endorser)[1:])

    write_site(site, {"site_src/endorsers/copy.json": endorser["did"]})
    found = endorsers.check(site, fetcher=fetcher)
    assert [c.outcome for c in found] == ["same", "same"] and len(made) == 2
    typed = json.loads(endorser["did"])
    typed["deactivated"] = 1.0
    live = dict(json.loads(endorser["did"]), deactivated=True)
    served = tmp_path / "served/.well-known"
    served.mkdir(parents=True)
    (served / "did.json").write_text(json.dumps(live))
    write_site(site, {"site_src/endorsers/copy.json": json.dumps(typed).encode()})
    (site / "site_src/endorsers/skills-council.json").unlink()
    found = endorsers.check(site, fetcher=lambda: network_fetch([f"{B_URL}={tmp_path / 'served'}"]))
    assert [c.outcome for c in found] == ["differs"]


def test_endorsers_check_escapes_what_a_server_or_file_says(tmp_path, run, endorser, monkeypatch):
    from badgekiln.commands import verify
    from badgekiln.verifying.fetching import FetchError

    def hostile(*_args, **_kwargs):
        def fetch(url):
            raise FetchError(f"{url} answered 404 \x1b[2J\x1b[1;1Hall pins confirmed")

        return fetch

    monkeypatch.setattr(verify, "network_fetch", hostile)
    site = _endorsed_site(tmp_path, endorser)
    result = run("endorsers", "check", "--source", str(site))
    assert result.code == 1 and "\x1b" not in result.out + result.err and "\\x1b[2J" in result.out


def test_endorse_with_out_in_a_folder_that_is_not_there_writes_nothing(tmp_path, run, endorser):
    site = endorser["site"]
    before = tree_bytes(site / "site_src")
    result = run(
        "endorse", "--source", str(site), "--today", TODAY, "--target", A_URL + "issuer.json", "--comment", "x",
        "--name", "nowhere", "--out", str(tmp_path / "missing/e.json"),
    )  # fmt: skip
    assert result.code == 1 and "there is no folder" in result.err and "Traceback" not in result.err
    assert tree_bytes(site / "site_src") == before
    from badgekiln.commands.endorse import endorse
    from badgekiln.errors import ConfigError

    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "mine.txt").write_text("mine")
    with pytest.raises(ConfigError, match="is a folder"):  # (written in one rename, a folder would be removed)
        endorse(
            site,
            target=A_URL + "issuer.json",
            comment="x",
            on=date(2026, 11, 22),
            today=date(2026, 11, 22),
            slug="dir",
            out=kept,
        )
    assert (kept / "mine.txt").read_text() == "mine" and tree_bytes(site / "site_src") == before


def test_endorsers_check_does_not_confirm_a_pin_whose_did_its_host_does_not_publish(tmp_path, endorser):
    """(a review) A pin of did:web:Skills-Council.example: its host publishes the document of
    did:web:skills-council.example; that is not a confirmation of the pin, nor a change of keys."""
    from badgekiln.commands import endorsers
    from badgekiln.commands.verify import network_fetch

    site = _endorsed_site(tmp_path, endorser, pin=False)
    upper = endorser["did"].decode().replace("did:web:skills-council.example", "did:web:Skills-Council.example")
    write_site(site, {"site_src/endorsers/upper.json": upper.encode()})
    found = endorsers.check(site, fetcher=lambda: network_fetch(_offline(endorser)[1:]))
    assert [c.outcome for c in found] == ["unreachable"]
    assert (
        "publishes the document of did:web:skills-council.example, not did:web:Skills-Council.example"
        in found[0].detail
    )


def test_the_pin_command_a_check_suggests_is_quoted_for_a_shell():
    # (a review: a did:web may hold ; $ ' ( ), and the printed command, pasted, ran one of its own)
    import shlex

    from badgekiln.commands.endorsers import pin_command

    did = "did:web:b.example:x;touch$IFS'PWNED';"
    assert shlex.split(pin_command(did, "b"))[:4] == ["badgekiln", "endorsers", "pin", did]


@pytest.mark.parametrize(
    "address", ["https://[zz]/did.json", "https://[::1/did.json", "https://h.example:99999/did.json"]
)
def test_endorsers_pin_of_a_malformed_address_is_an_error_not_a_crash(tmp_path, run, endorser, address):
    site = _endorsed_site(tmp_path, endorser, pin=False)
    result = run("endorsers", "pin", address, "--source", str(site))
    assert result.code == 1 and "neither a did:web nor the https address" in result.err


def test_endorse_keeps_no_record_when_out_cannot_be_written_nor_writes_over_the_record(
    tmp_path, run, endorser, monkeypatch
):
    # (a review: a record was left when --out failed, /proc/version was an internal error, and
    # --out naming the record replaced the YAML with the credential)
    site = endorser["site"]
    monkeypatch.setenv("BADGEKILN_KEYS_DIR", str(site.parent / "private-keys"))  # (the endorser's own keys)
    before = tree_bytes(site / "site_src")
    common = ["endorse", "--source", str(site), "--today", TODAY, "--target", A_URL + "issuer.json", "--comment", "x"]
    result = run(*common, "--name", "proc", "--out", "/proc/version")
    assert result.code == 1 and "nothing was recorded" in result.err and "internal error" not in result.err
    record = site / "site_src/endorsing/own.yaml"
    result = run(*common, "--name", "own", "--out", str(record))
    assert result.code == 1 and "the endorsement's own record" in result.err
    assert tree_bytes(site / "site_src") == before
