"""The Verify panel checks the Data Integrity proofs in the browser (issue 11, point 5).

credential.json, the file a wallet keeps, carries an ``eddsa-rdfc-2022`` proof; so does each
Bitstring Status List. verify.js checks them in Chromium with WebCrypto's Ed25519 and the JSON-LD
library the site serves (``assets/vendor/jsonld.min.js``, loaded only when Verify is pressed, its
contexts from ``assets/contexts/``). Each corrupted file is served in place of the real one by the
loopback server's ``routes``; files "re-signed" here are signed with the site's real keys, so they
pass every check but the one under test. Every request the page makes is recorded: none may leave
the site's origin.

The example site has keys of its own (``badgekiln keys generate``), as a published site has. The
same example built with development keys (a preview) is "Not verified", although every signature
in it holds: no verifier trusts those keys.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from conftest import copy_example
from cryptography.hazmat.primitives import serialization

from badgekiln.crypto import dataintegrity, jws
from badgekiln.crypto.canon import CONTEXT_FILES, canonize
from badgekiln.formats import statuslist

from .conftest import new_page
from .test_pages import DESKTOP, LAYOUT_PROBLEMS, REVOKED, VALID, own_kids, site_private_key, step_texts, verify

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CREDENTIAL = f"/awards/{VALID}/credential.json"
JWT = f"/awards/{VALID}/credential.jwt"
REVOCATION = "/status/revocation.json"
SUSPENSION = "/status/suspension.json"
LIBRARY = "/assets/vendor/jsonld.min.js"
OTHER_KEY = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"

# Makes WebCrypto refuse Ed25519 as a browser without it does (NotSupportedError), before any
# page script runs.
NO_ED25519 = """
(() => {
  const subtle = crypto.subtle;
  const importKey = subtle.importKey.bind(subtle);
  const named = a => (typeof a === "string" ? a : (a && a.name) || "").toLowerCase() === "ed25519";
  subtle.importKey = function (format, key, algorithm, ...rest) {
    if (named(algorithm)) {
      return Promise.reject(new DOMException("Algorithm: Unrecognized name", "NotSupportedError"));
    }
    return importKey(format, key, algorithm, ...rest);
  };
})();
"""


@pytest.fixture(scope="module")
def example(site_factory):
    """The example site with keys of its own (``badgekiln keys generate``)."""
    return site_factory(copy_example, own_keys=True)


@pytest.fixture(scope="module")
def preview(site_factory):
    """The example site as it builds out of the box: no keys of its own, so signed with the
    session's development keys (a preview build)."""
    return site_factory(copy_example)


@pytest.fixture(scope="module")
def shared(browser):
    page, problems = new_page(browser, viewport=DESKTOP)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    yield page, problems, requests
    page.context.close()


@pytest.fixture
def page(shared):
    page, problems, requests = shared
    page.goto("about:blank")
    problems.clear()
    requests.clear()
    return page


@pytest.fixture
def requests(shared):
    return shared[2]


@pytest.fixture
def keys(example):
    """The example site's own private keys: what they re-sign passes every check but the one under test."""
    return {kind: site_private_key(example, kind) for kind in ("rsa", "ed25519")}


def load(site, path: str) -> dict:
    return json.loads((site.output / path.lstrip("/")).read_text(encoding="utf-8"))


def resign(document: dict, key) -> dict:
    """``document`` with its proof replaced by a valid one of the issuer's Ed25519 key."""
    proof = document["proof"][0]
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    signed = dataintegrity.add_proof(
        unsigned, key, verification_method=proof["verificationMethod"], created=proof["created"]
    )
    signed["proof"] = [signed["proof"]]
    return signed


def resigned_jwt(site, credential: dict, key) -> bytes:
    """The VC-JWT of ``credential``: the site's token with its credential claims replaced."""
    header, payload, _, _ = jws.parse_compact((site.output / JWT.lstrip("/")).read_text())
    claims = {k: v for k, v in json.loads(payload).items() if k in ("iss", "jti", "nbf", "exp", "sub")}
    return jws.sign_compact(header, json.dumps({**credential, **claims}).encode(), key).encode()


def serve(site, files: dict[str, object]):
    for path, body in files.items():
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        site.server.routes[path] = (200, {"Content-Type": "application/json"}, data)


def unserve(site, files) -> None:
    for path in files:
        site.server.routes.pop(path, None)


def verify_with(page, site, files: dict[str, object], award: str = VALID) -> dict:
    serve(site, files)
    try:
        return verify(page, site.url(f"awards/{award}/"))
    finally:
        unserve(site, files)


def screenshot_panel(page, name: str) -> None:
    """The Verify panel as shown, for review (never committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#verify").screenshot(path=str(SCREENSHOTS / f"verify-{name}.png"))


def foreign(requests: list[str], site) -> list[str]:
    return [url for url in requests if not url.startswith(site.base_url)]


def flip(text: str) -> str:
    """``text`` with one base58 character in its middle changed."""
    i = len(text) // 2
    return text[:i] + ("2" if text[i] != "2" else "3") + text[i + 1 :]


# --- A good credential -------------------------------------------------------------------------


def test_good_credential_is_verified_with_both_proofs_and_nothing_leaves_the_site(page, requests, example):
    result = verify(page, example.url(f"awards/{VALID}/"))

    assert result["kind"] == "valid", result
    assert result["text"].startswith(
        "Verified: issued by Northwind Training to Jane Doe on 1 March 2026. This page is at "
    )
    assert result["text"].endswith(", the site that signed it: make sure that is Northwind Training's own address.")
    ok = "\n".join(step_texts(result, "ok"))
    assert f"The Data Integrity proof (eddsa-rdfc-2022) of awards/{VALID}/credential.json is valid" in ok
    assert (
        "Not revoked: the issuer's revocation list status/revocation.json does not mark this credential (entry 0). "
        "Its Data Integrity proof is valid." in ok
    )
    assert all(s["state"] == "ok" for s in result["steps"]), result["steps"]
    # The library and the contexts came from the site; nothing else was asked for anywhere.
    assert example.url(LIBRARY.lstrip("/")) in requests
    assert any(url.startswith(example.url("assets/contexts/")) for url in requests)
    assert foreign(requests, example) == []
    screenshot_panel(page, "valid")
    # The technical steps are folded under the verdict when all is well.
    assert page.locator("#verify-details").is_visible()
    assert not page.locator("#verify-steps").is_visible()
    assert page.evaluate(
        "document.querySelector('#verify-verdict').compareDocumentPosition("
        "document.querySelector('#verify-details')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )


def test_the_json_ld_library_loads_only_when_verify_is_pressed(page, requests, example):
    page.goto(example.url(f"awards/{VALID}/"))
    page.wait_for_load_state("networkidle")
    assert page.locator("#verify-button").is_visible()
    assert [u for u in requests if "/assets/vendor/" in u or "/assets/contexts/" in u] == []
    assert page.evaluate("typeof window.jsonld") == "undefined"

    page.click("#verify-button")
    page.wait_for_selector("#verify-verdict[data-verdict]")
    assert page.get_attribute("#verify-verdict", "data-verdict") == "valid"
    assert requests.count(example.url(LIBRARY.lstrip("/"))) == 1
    assert page.evaluate("typeof window.jsonld.canonize") == "function"

    page.click("#verify-button")  # again: the library is not fetched twice
    page.wait_for_selector("#verify:not([aria-busy]) #verify-verdict[data-verdict]")
    assert page.get_attribute("#verify-verdict", "data-verdict") == "valid"
    assert requests.count(example.url(LIBRARY.lstrip("/"))) == 1
    assert foreign(requests, example) == []


# --- Development keys: a preview build -----------------------------------------------------------


def _did(site) -> str:
    return "did:web:" + site.base_url.split("//")[1].rstrip("/").replace(":", "%3A")


def test_a_build_with_the_sites_own_keys_is_verified(page, example):
    result = verify(page, example.url(f"awards/{VALID}/"))

    kids = own_kids(example)
    assert result["kind"] == "valid", result
    assert result["text"].startswith(
        "Verified: issued by Northwind Training to Jane Doe on 1 March 2026. This page is at "
    )
    assert result["text"].endswith(", the site that signed it: make sure that is Northwind Training's own address.")
    ok = "\n".join(step_texts(result, "ok"))
    assert f"Signature is valid: signed by Northwind Training's key {_did(example)}#{kids['rsa']} " in ok
    assert f"is valid: signed by Northwind Training's key {_did(example)}#{kids['ed25519']} " in ok
    assert "development key" not in ok
    assert page.locator(".banner-dev").count() == 0


@pytest.mark.parametrize("award", [VALID, REVOKED])
def test_a_preview_built_with_development_keys_is_not_verified(page, requests, preview, award):
    # Every signature holds (the development keys are published by the preview itself), but no
    # verifier trusts them: the verdict must not be "Verified", nor "revoked" as if it were real.
    result = verify(page, preview.url(f"awards/{award}/"))

    did = _did(preview)
    assert result["kind"] == "invalid", result
    assert result["text"] == (
        "Not verified: it is signed with a development key (a preview build), not the issuer's own key"
        + ("; the issuer's revocation list marks it as revoked." if award == REVOKED else ".")
    )
    failed = step_texts(result, "fail")
    assert failed[0] == (
        f"Signed with development keys ({did}#dev-rsa, {did}#dev-ed25519 and keys/dev-rsa.json): this is a preview "
        "build, not signed with Northwind Training's own key, so no verifier will trust it."
    ), result["steps"]
    # The other checks still run and are shown.
    ok = step_texts(result, "ok")
    assert ok[0].startswith(f"Signature is valid: signed by Northwind Training's key {did}#dev-rsa "), ok
    assert any(t.startswith("Issued by Northwind Training") for t in ok), ok
    if award == VALID:
        assert len(failed) == 1, result["steps"]
        assert any(t.startswith("Not revoked") for t in ok), ok
        assert page.locator("#verify-steps").is_visible(), "the steps of a failed check are shown unfolded"
        assert page.get_attribute("#verify", "data-verdict") == "invalid"
        assert page.locator(".banner-dev").is_visible()
        screenshot_panel(page, "development-keys")
    else:
        assert failed[1:] == [
            "Revoked: the issuer's revocation list status/revocation.json marks this credential (entry 2) as revoked. "
            "Its Data Integrity proof is valid."
        ], result["steps"]
    assert foreign(requests, preview) == []


def test_a_development_key_named_by_its_https_url_is_not_trusted_either(page, preview, tmp_path_factory):
    # Badges signed before the kid became a DID URL name https://site/keys/<id>.jwk.json.
    pem = tmp_path_factory.getbasetemp() / "xdg-cache/badgekiln/dev-keys/rsa.pem"
    rsa = serialization.load_pem_private_key(pem.read_bytes(), password=None)
    _, payload, _, _ = jws.parse_compact((preview.output / JWT.lstrip("/")).read_text())
    kid = preview.url("keys/dev-rsa.jwk.json")
    token = jws.sign_compact({"alg": "RS256", "kid": kid, "typ": "JWT"}, payload, rsa).encode()
    result = verify_with(page, preview, {JWT: token})

    assert result["kind"] == "invalid", result
    assert result["text"] == (
        "Not verified: it is signed with a development key (a preview build), not the issuer's own key."
    )
    assert step_texts(result, "ok")[0].startswith(f"Signature is valid: signed by Northwind Training's key {kid} ")
    assert step_texts(result, "fail")[0].startswith(f"Signed with development keys ({kid}, {_did(preview)}#dev-")


# --- Corrupted wallet files ----------------------------------------------------------------------


def _changed_claim(c, site):
    c["credentialSubject"]["narrative"] = "Assessed on site at Teesside, with distinction."


def _added_term(c, site):
    c["grade"] = "A+"  # a term no context defines: safe-mode canonicalization refuses it


def _changed_proof_value(c, site):
    c["proof"][0]["proofValue"] = flip(c["proof"][0]["proofValue"])


def _other_key(c, site):
    c["proof"][0]["verificationMethod"] = OTHER_KEY


def _site_rsa_key(c, site):
    # The JsonWebKey of the issuer's own did.json: the issuer's, but not an Ed25519 Multikey.
    c["proof"][0]["verificationMethod"] = jws.parse_compact((site.output / JWT.lstrip("/")).read_text())[0]["kid"]


def _removed_proof(c, site):
    del c["proof"]


def _foreign_context(c, site):
    c["@context"] = [*c["@context"], "https://contexts.example/evil.jsonld"]


@pytest.mark.parametrize(
    ("corrupt", "expected", "verdict"),
    [
        (
            _changed_claim,
            "is invalid: the signature does not match: the file was changed after it was signed",
            "was changed after it was signed, or was not signed by its issuer",
        ),
        (
            _added_term,
            "is invalid: it could not be canonicalized (Dropping property that did not expand into an absolute IRI",
            "holds data its proof cannot cover (Dropping property that did not expand into an absolute IRI or "
            "keyword: grade)",
        ),
        (
            _changed_proof_value,
            "is invalid: the signature does not match",
            "was changed after it was signed, or was not signed by its issuer",
        ),
        (
            _other_key,
            f"names a key that is not this issuer's: the key {OTHER_KEY} is not a key of the issuer",
            "is not signed with a key of its issuer",
        ),
        (_site_rsa_key, "is not a Multikey listed under assertionMethod in", "is not signed with a key of its issuer"),
        (_removed_proof, "is invalid: it has no proof.", "carries no usable proof of who issued it"),
        (
            _foreign_context,
            "could not be canonicalized (the JSON-LD context https://contexts.example/evil.jsonld is not one this site "
            "publishes, and this check fetches nothing from other sites).",
            "holds data its proof cannot cover (the JSON-LD context https://contexts.example/evil.jsonld is not one "
            "this site publishes, and this check fetches nothing from other sites)",
        ),
    ],
    ids=[
        "changed claim",
        "added undefined term",
        "changed proofValue",
        "another key",
        "the site's RSA key",
        "removed proof",
        "context from another site",
    ],
)
def test_a_corrupted_credential_file_is_not_verified(page, requests, example, corrupt, expected, verdict):
    credential = load(example, CREDENTIAL)
    corrupt(credential, example)
    result = verify_with(page, example, {CREDENTIAL: credential})

    assert result["kind"] == "invalid", result
    assert result["text"] == f"Not verified: the credential file awards/{VALID}/credential.json {verdict}.", result

    failed = step_texts(result, "fail")
    assert len(failed) == 1 and expected in failed[0], result["steps"]
    assert result["steps"][-1]["state"] == "fail", "nothing after a bad proof may look checked"
    assert "Verified" not in result["text"].replace("Not verified", "")
    assert foreign(requests, example) == []
    assert page.locator("#verify-steps").is_visible(), "the steps of a failed check are shown unfolded"
    if corrupt is _other_key:
        screenshot_panel(page, "another-key")


# --- The Open Badges 2.0 assertions ---------------------------------------------------------------

JWS = f"/awards/{VALID}/assertion.jws"
ASSERTION = f"/awards/{VALID}/assertion.json"


def signed_assertion(site) -> dict:
    _, payload, _, _ = jws.parse_compact((site.output / JWS.lstrip("/")).read_text().strip())
    return json.loads(payload)


def resigned_assertion(assertion: dict, key) -> bytes:
    return jws.sign_compact({"alg": "RS256"}, json.dumps(assertion).encode(), key).encode()


def hosted_of(assertion: dict, site) -> dict:
    """The hosted assertion that says what ``assertion`` (a signed one) signs."""
    return {**assertion, "id": site.url(ASSERTION.lstrip("/")), "verification": {"type": "HostedBadge"}}


def test_the_open_badges_2_assertions_are_checked_with_the_credential(page, example):
    result = verify(page, example.url(f"awards/{VALID}/"))

    assert result["kind"] == "valid", result
    kid = own_kids(example)["rsa"]
    assert (
        f"The Open Badges 2.0 signed assertion awards/{VALID}/assertion.jws is valid: signed with the issuer's key "
        f"keys/{kid}.json (listed in issuer.json); the hosted assertion awards/{VALID}/assertion.json says what it "
        "signs, and both name the earner, badge and dates of the credential."
    ) in step_texts(result, "ok")


def _flipped_signature(site, keys):
    header, payload, signature = (site.output / JWS.lstrip("/")).read_text().strip().split(".")
    i = len(signature) // 2
    return {
        JWS: ".".join(
            [header, payload, signature[:i] + ("A" if signature[i] != "A" else "B") + signature[i + 1 :]]
        ).encode()
    }


def _other_earner_hosted(site, keys):
    hosted = load(site, ASSERTION)
    hosted["recipient"]["identity"] = "sha256$" + "0" * 64
    return {ASSERTION: hosted}


def _other_date_resigned(site, keys):
    signed = signed_assertion(site)
    signed["issuedOn"] = "2026-02-01T00:00:00Z"
    return {JWS: resigned_assertion(signed, keys["rsa"]), ASSERTION: hosted_of(signed, site)}


def _foreign_key(site, keys):
    signed = signed_assertion(site)
    signed["verification"]["creator"] = "https://badges.example.net/keys/k.json"
    return {JWS: resigned_assertion(signed, keys["rsa"])}


def _unlisted_key(site, keys):
    issuer = load(site, "/issuer.json")
    issuer["publicKey"] = []
    return {"/issuer.json": issuer}


@pytest.mark.parametrize(
    ("corrupt", "expected", "verdict"),
    [
        (
            _flipped_signature,
            f"The signature of awards/{VALID}/assertion.jws is invalid: the assertion was changed after it was signed",
            f"the signature of the Open Badges 2.0 signed assertion awards/{VALID}/assertion.jws is invalid",
        ),
        (
            _other_earner_hosted,
            f"The hosted assertion awards/{VALID}/assertion.json differs from the signed assertion "
            f"awards/{VALID}/assertion.jws at recipient.identity.",
            f"the hosted assertion awards/{VALID}/assertion.json differs from the signed one",
        ),
        (
            _other_date_resigned,
            "The Open Badges 2.0 assertion and the Open Badges 3.0 credential name a different issue date.",
            "its Open Badges 2.0 assertion and its credential name a different issue date",
        ),
        (
            _foreign_key,
            "the signing key https://badges.example.net/keys/k.json is not published on this site",
            f"the key of the Open Badges 2.0 signed assertion awards/{VALID}/assertion.jws is not one this issuer "
            "publishes",
        ),
        (
            _unlisted_key,
            "the issuer profile issuer.json does not list the key",
            f"the key of the Open Badges 2.0 signed assertion awards/{VALID}/assertion.jws is not one this issuer "
            "publishes",
        ),
    ],
    ids=[
        "changed signature",
        "hosted names another earner",
        "re-signed with another date",
        "key of another site",
        "key not in the profile",
    ],
)
def test_a_corrupted_open_badges_2_assertion_is_not_verified(page, requests, example, keys, corrupt, expected, verdict):
    # (a verifier's review: a changed assertion.jws, offered beside the credential and baked into the
    # badge image, left the verdict "Verified")
    result = verify_with(page, example, corrupt(example, keys))

    assert result["kind"] == "invalid", result
    assert result["text"] == f"Not verified: {verdict}.", result
    failed = step_texts(result, "fail")
    assert len(failed) == 1 and expected in failed[0], result["steps"]
    assert foreign(requests, example) == []


def _random_rsa():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _forged_with_a_missing_key(site, keys):
    signed = signed_assertion(site)
    signed["verification"]["creator"] = site.url("keys/does-not-exist.json")
    return {JWS: resigned_assertion(signed, _random_rsa()), ASSERTION: hosted_of(signed, site)}


def _forged_for_another_earner_with_a_missing_key(site, keys):
    files = _forged_with_a_missing_key(site, keys)
    signed = json.loads(jws.parse_compact(files[JWS].decode())[1])
    signed["recipient"]["identity"] = "sha256$" + "1" * 64
    return {JWS: resigned_assertion(signed, _random_rsa()), ASSERTION: hosted_of(signed, site)}


def _forged_without_its_hosted_copy(site, keys):
    signed = signed_assertion(site)
    return {JWS: resigned_assertion(signed, _random_rsa()), ASSERTION: (404, {"Content-Type": "text/plain"}, b"gone")}


def _hosted_with_a_proto_member(site, keys):
    text = json.dumps(load(site, ASSERTION))
    return {ASSERTION: ('{"__proto__": {"a": 1}, ' + text[1:]).encode()}


def _revocation_list_not_a_list(site, keys):
    return {"/revocations.json": b"null"}


def _hosted_not_json(site, keys):
    return {ASSERTION: b"{not json"}


def _hosted_alone_not_an_object(site, keys):
    return {ASSERTION: b"null", JWS: (404, {"Content-Type": "text/plain"}, b"gone")}


def _gone():
    return (404, {"Content-Type": "text/plain"}, b"gone")


def _hosted_alone_with_another_id(site, keys):
    hosted = load(site, ASSERTION)
    hosted["id"] = "https://evil.example/a.json"
    return {ASSERTION: hosted, JWS: _gone()}


def _hosted_alone_with_forged_evidence(site, keys):
    hosted = load(site, ASSERTION)
    hosted["evidence"][0]["narrative"] = "Passed with distinction."
    return {ASSERTION: hosted, JWS: _gone()}


def _hosted_alone_for_another_badge_file(site, keys):
    hosted = load(site, ASSERTION)
    hosted["badge"] = hosted["badge"].replace("badge.json", "other.json")
    return {ASSERTION: hosted, JWS: _gone()}


def _hosted_alone_for_another_earner(site, keys):
    hosted = load(site, ASSERTION)
    hosted["recipient"]["identity"] = "sha256$" + "2" * 64
    return {ASSERTION: hosted, JWS: (404, {"Content-Type": "text/plain"}, b"gone")}


@pytest.mark.parametrize(
    ("corrupt", "expected"),
    [
        (_forged_with_a_missing_key, "the key keys/does-not-exist.json it names is not on this site"),
        (_forged_for_another_earner_with_a_missing_key, "name a different earner"),
        (_forged_without_its_hosted_copy, f"The signature of awards/{VALID}/assertion.jws is invalid"),
        (_hosted_with_a_proto_member, "differs from the signed assertion"),
        (_revocation_list_not_a_list, "revocations.json is not a RevocationList"),
        (_hosted_not_json, "The Open Badges 2.0 assertions cannot be read"),
        (_hosted_alone_for_another_earner, "name a different earner"),
        (_hosted_alone_not_an_object, f"The hosted assertion awards/{VALID}/assertion.json is not a JSON object."),
        (_hosted_alone_with_another_id, "is not as its site publishes it, at id"),
        (_hosted_alone_with_forged_evidence, "name a different evidence"),
        (_hosted_alone_for_another_badge_file, "name a different badge"),
    ],
    ids=[
        "key file not there",
        "another earner, key not there",
        "hosted copy not there",
        "__proto__",
        "null list",
        "hosted not JSON",
        "hosted alone, another earner",
        "hosted alone, null",
        "hosted alone, another id",
        "hosted alone, forged evidence",
        "hosted alone, another badge file",
    ],
)
def test_what_a_forger_controls_never_softens_the_verdict(page, example, keys, corrupt, expected):
    # (a hostile review: a missing key file the assertion names, or a hosted copy not sent, made a
    # forged 2.0 assertion "Could not fully check"; a __proto__ member escaped the comparison)
    files = corrupt(example, keys)
    for path, body in files.items():
        if isinstance(body, tuple):
            example.server.routes[path] = body
    result = verify_with(page, example, {k: v for k, v in files.items() if not isinstance(v, tuple)})
    for path in files:
        example.server.routes.pop(path, None)
    assert result["kind"] == "invalid", result
    assert any(expected in t for t in step_texts(result, "fail")), result["steps"]


def test_a_revoked_award_with_its_status_list_and_signed_assertion_missing_still_says_revoked(page, example):
    missing = [REVOCATION, f"/awards/{REVOKED}/assertion.jws"]
    for path in missing:
        example.server.routes[path] = (404, {"Content-Type": "text/plain"}, b"not found")
    try:
        result = verify(page, example.url(f"awards/{REVOKED}/"))
    finally:
        for path in missing:
            example.server.routes.pop(path, None)
    assert result["kind"] == "revoked", result


def test_open_badges_2_assertions_the_host_does_not_send_are_not_checked(page, example):
    example.server.routes[JWS] = (404, {"Content-Type": "text/plain"}, b"not found")
    try:
        result = verify(page, example.url(f"awards/{VALID}/"))
    finally:
        example.server.routes.pop(JWS, None)
    assert result["kind"] == "incomplete", result
    assert result["text"].startswith(
        f"Could not fully check. Not checked: the Open Badges 2.0 signed assertion awards/{VALID}/assertion.jws (it "
        "could not be downloaded). Everything else checked out"
    ), result
    assert step_texts(result, "fail") == [], result["steps"]


@pytest.mark.parametrize("reason", ["Issued in error", "Suspended: membership lapsed"])
def test_a_hosted_assertion_that_says_revoked_is_not_verified(page, example, reason):
    # The credential's status lists do not say so (or could not be read): the issuer's own site
    # says the badge is withdrawn, and an OB 2.0 verifier would say so too.
    hosted = {**load(example, ASSERTION), "revoked": True, "revocationReason": reason}
    result = verify_with(page, example, {ASSERTION: hosted})

    kind = "suspended" if reason.startswith("Suspended") else "revoked"
    assert result["kind"] == kind, result
    assert (
        f"{kind.capitalize()}: the issuer's hosted assertion awards/{VALID}/assertion.json marks this badge as {kind}."
        in step_texts(result, "fail")
    ), result["steps"]


def test_a_revoked_award_whose_status_list_is_missing_still_says_revoked(page, example):
    # (a verifier's review: "Could not fully check: the revocation list was not checked. Everything
    # else checked out" over a badge that the page, the assertion and the 2.0 list say is revoked)
    example.server.routes[REVOCATION] = (404, {"Content-Type": "text/plain"}, b"not found")
    try:
        result = verify(page, example.url(f"awards/{REVOKED}/"))
    finally:
        example.server.routes.pop(REVOCATION, None)
    assert result["kind"] == "revoked", result
    assert result["text"].startswith("Not verified: revoked by Northwind Training (Issued in error"), result


# --- Status lists ---------------------------------------------------------------------------------


def _set_bit(status_list: dict, index: int) -> dict:
    bits = statuslist.decode_status_list(status_list["credentialSubject"]["encodedList"])
    indexes = [i for i in range(len(bits) * 8) if statuslist.bit_is_set(bits, i)] + [index]
    status_list["credentialSubject"]["encodedList"] = statuslist.encode_status_list(indexes)
    return status_list


def test_a_status_list_with_a_broken_proof_is_not_trusted(page, requests, example):
    revocation = load(example, REVOCATION)
    revocation["proof"][0]["proofValue"] = flip(revocation["proof"][0]["proofValue"])
    result = verify_with(page, example, {REVOCATION: revocation})

    assert result["kind"] == "invalid", result
    assert result["text"] == (
        "Not verified: the proof of the revocation list status/revocation.json does not hold, so whether it is "
        "revoked is unknown."
    )
    failed = step_texts(result, "fail")
    assert failed == [
        "The Data Integrity proof of the revocation list status/revocation.json is invalid: the signature does not "
        "match: the file was changed after it was signed, or not signed with the key "
        f"{revocation['proof'][0]['verificationMethod']}. Whether this credential is revoked is unknown."
    ], result["steps"]
    assert foreign(requests, example) == []


def test_a_revoked_bit_set_without_the_issuers_signature_is_not_trusted(page, example):
    # Someone sets the bit of a valid badge in the hosted list: the list's proof no longer holds.
    result = verify_with(page, example, {REVOCATION: _set_bit(load(example, REVOCATION), 0)})

    assert result["kind"] == "invalid", result
    assert any("revocation list status/revocation.json is invalid" in t for t in step_texts(result, "fail"))


def test_a_revoked_bit_in_a_signed_list_says_revoked(page, example, keys):
    revocation = resign(_set_bit(load(example, REVOCATION), 0), keys["ed25519"])
    result = verify_with(page, example, {REVOCATION: revocation})

    assert result["kind"] == "revoked", result
    assert result["text"] == (
        "Not verified: revoked by Northwind Training. This badge, issued by Northwind Training "
        "to Jane Doe on 1 March 2026, is no longer valid."
    )
    assert step_texts(result, "fail") == [
        "Revoked: the issuer's revocation list status/revocation.json marks this credential (entry 0) as revoked. "
        "Its Data Integrity proof is valid."
    ]


def test_revoked_award_of_the_example_says_revoked(page, example):
    result = verify(page, example.url(f"awards/{REVOKED}/"))

    assert result["kind"] == "revoked", result
    assert result["text"].startswith("Not verified: revoked by Northwind Training (Issued in error")


@pytest.mark.parametrize("suspended", [True, False])
def test_each_status_entry_is_checked_revocation_and_suspension(page, requests, example, keys, suspended):
    # A credential with two entries (as in OB 3.0 / Bitstring Status List): both lists are fetched
    # from the site, both proofs checked, both bits read.
    credential = load(example, CREDENTIAL)
    # (badgekiln's own credentials carry both entries at the award's index; here the suspension
    # entry points elsewhere in the list, at 5)
    revocation = next(e for e in credential["credentialStatus"] if e["statusPurpose"] == "revocation")
    base = revocation["statusListCredential"].rsplit("/", 1)[0]
    credential["credentialStatus"] = [
        revocation,
        {
            "id": f"{base}/suspension.json#5",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "suspension",
            "statusListIndex": "5",
            "statusListCredential": f"{base}/suspension.json",
        },
    ]
    credential = resign(credential, keys["ed25519"])
    suspension = load(example, REVOCATION)
    suspension["id"] = f"{base}/suspension.json"
    suspension["credentialSubject"] = {
        **suspension["credentialSubject"],
        "id": f"{base}/suspension.json#list",
        "statusPurpose": "suspension",
        "encodedList": statuslist.encode_status_list([5] if suspended else [6]),
    }
    suspension = resign(suspension, keys["ed25519"])
    result = verify_with(
        page,
        example,
        {CREDENTIAL: credential, JWT: resigned_jwt(example, credential, keys["rsa"]), SUSPENSION: suspension},
    )

    assert example.url("status/suspension.json") in requests
    assert foreign(requests, example) == []
    ok = "\n".join(step_texts(result, "ok"))
    assert (
        "Not revoked: the issuer's revocation list status/revocation.json does not mark this credential (entry 0)" in ok
    )
    if suspended:
        screenshot_panel(page, "suspended")
        assert result["kind"] == "suspended", result
        assert result["text"].startswith("Not verified: suspended by Northwind Training.")
        assert step_texts(result, "fail") == [
            "Suspended: the issuer's suspension list status/suspension.json marks this credential (entry 5) as "
            "suspended. Its Data Integrity proof is valid."
        ]
    else:
        assert result["kind"] == "valid", result
        assert (
            "Not suspended: the issuer's suspension list status/suspension.json does not mark this credential (entry 5)"
            in ok
        )


# --- A browser without Ed25519 -------------------------------------------------------------------


def test_without_ed25519_the_panel_says_what_it_could_not_check(browser, example):
    page, problems = new_page(browser, viewport=DESKTOP)
    try:
        page.add_init_script(NO_ED25519)
        result = verify(page, example.url(f"awards/{VALID}/"))
        screenshot_panel(page, "no-ed25519")
        layout = page.evaluate(LAYOUT_PROBLEMS)  # the unfolded steps, "not checked" ones too, lay out cleanly
        assert (
            page.evaluate(
                "crypto.subtle.importKey('raw', new Uint8Array(32), 'Ed25519', false, ['verify'])"
                ".then(() => 'imported', e => e.name)"
            )
            == "NotSupportedError"
        )
    finally:
        page.context.close()

    assert layout["problems"] == [], layout
    assert result["kind"] == "incomplete", result
    assert result["text"] == (
        "Could not fully check (this browser cannot check Ed25519 signatures). Not checked: the Data Integrity "
        f"proof (eddsa-rdfc-2022) of awards/{VALID}/credential.json; the Data Integrity proof of the revocation list "
        "status/revocation.json; the Data Integrity proof of the suspension list status/suspension.json. "
        "Everything else checked out: issued by Northwind Training to Jane Doe on 1 March 2026."
    )
    assert "Verified" not in result["text"]
    skipped = [s["text"] for s in result["steps"] if s["state"] == "unchecked"]
    assert len(skipped) == 3, result["steps"]  # credential.json's proof, the two status lists' proofs
    assert skipped[0].startswith("Not checked: this browser cannot check Ed25519 signatures.")
    assert all("Its Data Integrity proof was not checked" in text for text in skipped[1:])
    assert any(t.startswith("Signature is valid") for t in step_texts(result, "ok")), (
        "the RS256 VC-JWT is still checked"
    )
    assert problems.all() == []


def test_without_ed25519_a_corrupted_credential_is_still_not_verified(browser, example):
    # The VC-JWT (RS256) check still catches a changed credential.json: never "Could not fully check".
    page, _ = new_page(browser, viewport=DESKTOP)
    credential = load(example, CREDENTIAL)
    _changed_claim(credential, example)
    try:
        page.add_init_script(NO_ED25519)
        result = verify_with(page, example, {CREDENTIAL: credential})
    finally:
        page.context.close()

    assert result["kind"] == "invalid", result
    assert any(
        "differs from the signed credential at credentialSubject.narrative" in t for t in step_texts(result, "fail")
    )


# --- The vendored library is the one on npm --------------------------------------------------------


def test_the_published_library_is_the_vendored_one(example):
    vendored = Path(__file__).resolve().parents[2] / "src/badgekiln/pages/static/vendor/jsonld.min.js"
    assert (example.output / LIBRARY.lstrip("/")).read_bytes() == vendored.read_bytes()
    assert (example.output / "assets/vendor/jsonld.LICENSE").is_file()


# --- The browser's RDFC-1.0 is badgekiln's --------------------------------------------------------

# Canonicalizes documents with the page's jsonld.js (loaded by Verify) and the site's context copies,
# and hashes them as verify.js does: what the page signs over must be what badgekiln signed.
CANONIZE_IN_PAGE = """async ([documents, contexts]) => {
  const loader = async url => {
    if (!(url in contexts)) throw new Error("not bundled: " + url);
    const response = await fetch("/assets/contexts/" + contexts[url]);
    return {contextUrl: null, documentUrl: url, document: await response.json()};
  };
  const out = [];
  for (const doc of documents) {
    const nquads = await jsonld.canonize(doc, {algorithm: "RDFC-1.0", format: "application/n-quads", safe: true,
      documentLoader: loader});
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(nquads));
    out.push([nquads, [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, "0")).join("")]);
  }
  return out;
}"""


def test_the_page_canonicalizes_the_golden_credential_as_badgekiln_does(page, example):
    golden = Path(__file__).resolve().parents[1] / "golden/example"
    documents = []
    for path in (f"awards/{VALID}/credential.json", "status/revocation.json"):
        document = json.loads((golden / path).read_text(encoding="utf-8"))
        proof = document.pop("proof")[0]
        options = {k: v for k, v in proof.items() if k != "proofValue"} | {"@context": document["@context"]}
        documents += [document, options]
    verify(page, example.url(f"awards/{VALID}/"))  # loads the library
    results = page.evaluate(CANONIZE_IN_PAGE, [documents, dict(CONTEXT_FILES)])

    for document, (nquads, digest) in zip(documents, results, strict=True):
        expected = canonize(document)
        assert nquads == expected
        assert digest == hashlib.sha256(expected.encode()).hexdigest()
        assert nquads.count("\n") > 3


def _aliased_status_list(status_list: dict, encoded: str) -> dict:
    """A hostile review's forgery: the signed bits moved to another term by an inline context, and
    unsigned bits under the name the check reads (encodedList as @index: no triple), the proof kept."""
    subject = status_list["credentialSubject"]
    status_list["credentialSubject"] = {
        "@context": {
            "encodedList": "@index",
            "signedList": {
                "@id": "https://www.w3.org/ns/credentials/status#encodedList",
                "@type": "https://w3id.org/security#multibase",
            },
            "statusPurpose": "https://www.w3.org/ns/credentials/status#statusPurpose",
        },
        "id": subject["id"],
        "type": "https://www.w3.org/ns/credentials/status#BitstringStatusList",
        "statusPurpose": subject["statusPurpose"],
        "signedList": subject["encodedList"],
        "encodedList": encoded,
    }
    return status_list


def test_a_status_list_whose_bits_are_moved_by_an_inline_context_is_not_trusted(page, example):
    # (a review: the revoked award read "Verified", the list's proof "valid", the bits read unsigned)
    forged = _aliased_status_list(load(example, REVOCATION), statuslist.encode_status_list([]))
    result = verify_with(page, example, {REVOCATION: forged}, award=REVOKED)

    assert result["kind"] == "invalid", result
    assert result["text"] == (
        "Not verified: the proof of the revocation list status/revocation.json does not hold, so whether it is "
        f"revoked is unknown; the issuer's hosted assertion awards/{REVOKED}/assertion.json marks it as revoked."
    )
    assert any("an inline @context of credentialSubject" in t for t in step_texts(result, "fail")), result["text"]


def test_a_proto_member_in_the_credential_is_not_verified(page, example):
    # (a review: "__proto__" set the copies' prototype, so it was neither hashed nor compared)
    text = (example.output / CREDENTIAL.lstrip("/")).read_text(encoding="utf-8")
    forged = text.replace("{", '{"__proto__": {"injected": true}, ', 1).encode()
    result = verify_with(page, example, {CREDENTIAL: forged})

    assert result["kind"] == "invalid", result
    assert any("__proto__" in t for t in step_texts(result, "fail")), result["steps"]


@pytest.mark.parametrize("missing", ["did", "jwks"])
def test_a_hosts_page_for_a_missing_key_file_is_a_missing_file(page, example, missing):
    # (a review: a soft 404, an HTML page with status 200, read as "not a key this issuer publishes")
    path = {"did": "/.well-known/did.json", "jwks": "/keys/jwks.json"}[missing]
    soft = b"<!doctype html><title>Not found</title><p>This page does not exist."
    both = verify_with(page, example, {"/.well-known/did.json": soft, "/keys/jwks.json": soft})
    assert both["kind"] == "incomplete", both
    one = verify_with(page, example, {path: soft})
    assert one["kind"] in ("valid", "incomplete"), one
    assert "not one this issuer publishes" not in one["text"]


def test_a_file_the_host_does_not_send_is_not_checked_rather_than_forged(page, example):
    # (a review: a credential or a context that could not be downloaded read as "Not verified")
    for path in (JWT, "/assets/contexts/credentials-v2.jsonld"):
        example.server.routes[path] = (404, {"Content-Type": "text/plain"}, b"not found")
        try:
            result = verify(page, example.url(f"awards/{VALID}/"))
        finally:
            example.server.routes.pop(path, None)
        assert result["kind"] == "incomplete", (path, result)
        assert result["text"].startswith("Could not fully check"), (path, result)
        assert step_texts(result, "fail") == [], (path, result["steps"])


def test_a_context_copy_changed_on_the_host_is_refused(page, example):
    # (a review: the site's copy of a context, edited with the status list, gave "Verified")
    path = "/assets/contexts/credentials-v2.jsonld"  # (the credential's and the status lists')
    original = (example.output / path.lstrip("/")).read_bytes()
    changed = original.replace(b'"encodedList"', b'"encodedListX"', 1)
    assert changed != original
    result = verify_with(page, example, {path: changed})
    assert result["kind"] in ("invalid", "incomplete"), result
    assert result["kind"] != "valid" and any(
        "not the one badgekiln publishes" in t for t in step_texts(result, "fail")
    ), [s["text"] for s in result["steps"]]
