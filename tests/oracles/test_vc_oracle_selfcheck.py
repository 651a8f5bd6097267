"""Self-check of the Node.js VC verifier oracle (tests/oracles/js).

Fixtures are produced by tests/oracles/js/selftest.mjs with the Digital
Bazaar libraries only, so this test does not depend on badgekiln's own
issuing code. Needs ``npm ci --prefix tests/oracles/js`` (a missing install
is an error, not a skip).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

try:  # works whether or not tests/oracles is a package
    from . import vc_verifier as oracle  # type: ignore[no-redef]
except ImportError:
    import vc_verifier as oracle  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parents[2]
CONTEXTS = REPO / "src" / "badgekiln" / "data" / "contexts"

ROOT_BASE = "https://badges.example.org/"
ROOT_DID = "did:web:badges.example.org"
# path-based did:web with a percent-encoded port
PATH_BASE = "https://localhost:8443/org/badges/"
PATH_DID = "did:web:localhost%3A8443:org:badges"

NAMES = ["valid", "revoked", "tampered", "nostatus", "foreign-status", "expired", "wrong-key", "didkey"]


def _site(tmp_path_factory, name, base, did):
    """Returns (manifest, {mode: {fixture name: result}})."""
    out = tmp_path_factory.mktemp(name) / "site"
    manifest = oracle.generate_fixtures(out, base_url=base, did=did)
    by_mode = {}
    for mode in oracle.MODES:
        results = oracle.verify_many([manifest["credentials"][n] for n in NAMES], out, base, mode=mode)
        assert [r["mode"] for r in results] == [mode] * len(NAMES)
        by_mode[mode] = dict(zip(NAMES, results))
    return manifest, by_mode


@pytest.fixture(scope="module")
def root_site(tmp_path_factory):
    return _site(tmp_path_factory, "root", ROOT_BASE, ROOT_DID)


@pytest.fixture(scope="module")
def path_site(tmp_path_factory):
    return _site(tmp_path_factory, "pathdid", PATH_BASE, PATH_DID)


def _errors(result):
    return " | ".join(result["errors"])


# --- installation ------------------------------------------------------------


def test_missing_node_modules_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(oracle, "JS_DIR", tmp_path)
    with pytest.raises(oracle.OracleNotInstalled, match=r"npm ci --prefix tests/oracles/js"):
        oracle.verify_vc(tmp_path / "x.json", tmp_path, ROOT_BASE)


def test_usage_error_exits_2():
    proc = subprocess.run(
        [oracle._node(), str(oracle.VERIFY_SCRIPT), "--credential", "x.json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "usage" in proc.stderr


# --- fixture layout (literal did:web locations) --------------------------------


def test_fixture_layout(root_site, path_site):
    root, _ = root_site
    site = Path(root["siteDir"])
    assert (site / ".well-known" / "did.json").is_file()
    assert json.loads((site / ".well-known" / "did.json").read_text())["id"] == ROOT_DID
    assert (site / "status" / "1.json").is_file()
    pth, _ = path_site
    # did:web:localhost%3A8443:org:badges -> https://localhost:8443/org/badges/did.json
    assert (Path(pth["siteDir"]) / "did.json").is_file()
    assert Path(pth["didDocumentPath"]) == Path(pth["siteDir"]) / "did.json"


# --- verification results --------------------------------------------------

SITES_MODES = [(site, mode) for site in ("root_site", "path_site") for mode in oracle.MODES]


@pytest.mark.parametrize("site, mode", SITES_MODES)
def test_valid_credential_verifies(site, mode, request):
    _, by_mode = request.getfixturevalue(site)
    v = by_mode[mode]["valid"]
    assert v["verified"] is True, _errors(v)
    assert v["proofVerified"] is True
    assert v["revoked"] is False
    assert v["statusChecked"] is True
    assert v["errors"] == []
    assert v["statusResult"]["verified"] is True
    assert v["statusResult"]["results"][0]["status"] is False
    if mode == "digitalbazaar":
        assert v["warnings"] == []


@pytest.mark.parametrize("site, mode", SITES_MODES)
def test_tampered_credential_fails(site, mode, request):
    _, by_mode = request.getfixturevalue(site)
    t = by_mode[mode]["tampered"]
    assert t["verified"] is False
    assert t["proofVerified"] is False
    assert "signature" in _errors(t).lower()


@pytest.mark.parametrize("site, mode", SITES_MODES)
def test_revoked_credential_reported_revoked(site, mode, request):
    _, by_mode = request.getfixturevalue(site)
    rv = by_mode[mode]["revoked"]
    assert rv["revoked"] is True
    assert rv["verified"] is False
    # signature and status list are fine: only the bit is set
    assert rv["proofVerified"] is True
    assert rv["statusResult"]["results"][0]["status"] is True


@pytest.mark.parametrize("mode", oracle.MODES)
def test_unknown_status_url_refused_offline(root_site, mode):
    _, by_mode = root_site
    f = by_mode[mode]["foreign-status"]
    assert f["verified"] is False
    assert oracle.OFFLINE_ERROR in _errors(f)
    assert f["revoked"] is None


@pytest.mark.parametrize("mode", oracle.MODES)
def test_other_cases(root_site, mode):
    _, by_mode = root_site
    r = by_mode[mode]
    assert r["nostatus"]["verified"] is True, _errors(r["nostatus"])
    assert r["nostatus"]["revoked"] is None
    assert r["nostatus"]["statusResult"] is None
    assert r["didkey"]["verified"] is True, _errors(r["didkey"])
    assert r["wrong-key"]["verified"] is False
    assert r["expired"]["verified"] is False
    assert "expire" in _errors(r["expired"]) or "validUntil" in _errors(r["expired"])


def test_verifier_core_schema_check_runs_offline(root_site):
    """verifier-core validates OB3 credentials against the 1EdTech JSON schema
    (served offline from src/badgekiln/data/schemas). The Digital Bazaar
    issuer emits a single proof object, which that schema rejects (it wants
    an array): proof that the schema check really ran."""
    _, by_mode = root_site
    v = by_mode["verifier-core"]["valid"]
    assert any("schema_check" in w and "/proof" in w for w in v["warnings"]), v["warnings"]
    assert any("ob_v3p0_achievementcredential_schema.json" in u for u in v["loaded"])


def test_single_mode_and_now(root_site):
    m, by_mode = root_site
    r = by_mode["digitalbazaar"]
    single = oracle.verify_vc(m["credentials"]["valid"], m["siteDir"], ROOT_BASE)
    assert {k: single[k] for k in ("verified", "revoked", "errors")} == {
        k: r["valid"][k] for k in ("verified", "revoked", "errors")
    }
    exp = oracle.verify_vc(m["credentials"]["expired"], m["siteDir"], ROOT_BASE, now="2020-06-01T00:00:00Z")
    assert exp["verified"] is True, _errors(exp)


def test_no_status_flag(root_site):
    m, _ = root_site
    res = oracle.verify_vc(m["credentials"]["revoked"], m["siteDir"], ROOT_BASE, check_status=False)
    assert res["verified"] is True
    assert res["revoked"] is None
    assert res["statusChecked"] is False
    assert any("--no-status" in w for w in res["warnings"])


def test_unsigned_status_list_change_is_detected(root_site, tmp_path):
    """Flipping the list to the revoked one without re-signing must fail:
    the status list credential itself is verified."""
    m, _ = root_site
    site = tmp_path / "site"
    shutil.copytree(m["siteDir"], site)
    sl1 = json.loads((site / "status" / "1.json").read_text())
    sl2 = json.loads((site / "status" / "2.json").read_text())
    sl1["credentialSubject"]["encodedList"] = sl2["credentialSubject"]["encodedList"]
    (site / "status" / "1.json").write_text(json.dumps(sl1))
    res = oracle.verify_vc(site / "badges" / "valid.json", site, ROOT_BASE)
    assert res["verified"] is False
    assert res["proofVerified"] is False
    assert "BitstringStatusListCredential" in _errors(res)


@pytest.mark.parametrize("mode", oracle.MODES)
def test_wrong_base_url_cannot_resolve_did(root_site, mode):
    m, _ = root_site
    res = oracle.verify_vc(m["credentials"]["nostatus"], m["siteDir"], "https://other.example.org/", mode=mode)
    assert res["verified"] is False
    assert oracle.OFFLINE_ERROR in _errors(res)


# --- document loader ----------------------------------------------------------

REFUSED_URLS = [
    "https://example.com/whatever.json",
    "https://badges.example.org.evil.net/status/1.json",
    "http://badges.example.org/status/1.json",
    "https://badges.example.org/status/1.json?x=1",
    "https://badges.example.org/status%2F..%2F..%2Fpasswd",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
    "did:web:elsewhere.example.net",
    "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427",
    "file:///etc/passwd",
]


def test_loader_refuses_unknown_urls(root_site):
    m, _ = root_site
    results = oracle.resolve_urls(REFUSED_URLS, m["siteDir"], ROOT_BASE)
    assert [r["url"] for r in results] == REFUSED_URLS
    for res in results:
        assert res["ok"] is False, res["url"]
        assert oracle.OFFLINE_ERROR in res["error"], (res["url"], res["error"])


def test_loader_serves_contexts_site_and_dids(root_site, path_site):
    m, _ = root_site
    site = m["siteDir"]
    ctx_urls = [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "https://w3id.org/security/multikey/v1",
    ]
    urls = ctx_urls + [
        ROOT_BASE + "status/1.json",
        ROOT_DID,
        ROOT_DID + "#key-1",
        PATH_BASE + "../secret.json",
        ROOT_BASE + "status/9.json",
        m["didKey"],
    ]
    got = dict(zip(urls, oracle.resolve_urls(urls, site, ROOT_BASE)))
    for url in ctx_urls:
        assert got[url]["ok"] is True, url
    sl = got[ROOT_BASE + "status/1.json"]
    assert sl["document"]["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert got[ROOT_DID]["document"]["id"] == ROOT_DID
    vm = got[ROOT_DID + "#key-1"]["document"]
    assert vm["type"] == "Multikey"
    assert vm["id"] == ROOT_DID + "#key-1"
    assert vm["publicKeyMultibase"] == m["publicKeyMultibase"]
    assert "https://w3id.org/security/multikey/v1" in vm["@context"]
    # ".." is normalised away by URL parsing and the result is not under base
    up = got[PATH_BASE + "../secret.json"]
    assert up["ok"] is False and oracle.OFFLINE_ERROR in up["error"]
    missing = got[ROOT_BASE + "status/9.json"]
    assert missing["ok"] is False and "not found" in missing["error"]
    assert got[m["didKey"]]["document"]["id"] == m["didKey"]

    p, _ = path_site
    doc = oracle.resolve_url(PATH_DID, p["siteDir"], PATH_BASE)["document"]
    assert doc["id"] == PATH_DID


# --- the contexts the oracle uses are the published ones -----------------------


@pytest.mark.parametrize(
    "ours, published",
    [
        ("credentials-v1.jsonld", "@digitalbazaar/credentials-context/contexts/v1.jsonld"),
        ("credentials-v2.jsonld", "@digitalbazaar/credentials-context/contexts/v2.jsonld"),
        (
            "vc-bitstring-status-list-v1.jsonld",
            "@digitalbazaar/vc-bitstring-status-list-context/contexts/vc-bitstring-status-list-v1.jsonld",
        ),
    ],
)
def test_shipped_contexts_match_npm_copies(ours, published):
    pub = oracle.JS_DIR / "node_modules" / published
    assert json.loads((CONTEXTS / ours).read_text()) == json.loads(pub.read_text())
