"""An endorsement made by one badgekiln site, checked by verifiers we did not write: Digital
Bazaar's ``@digitalbazaar/vc`` with the eddsa-rdfc-2022 cryptosuite and DCC ``verifier-core``
(which also checks the 1EdTech EndorsementCredential schema), resolving the endorser's did:web
offline from the endorser's built site (tests/oracles/js). The copy the endorsed site
publishes verifies the same way; a tampered copy does not."""

from __future__ import annotations

import json

from conftest import TODAY, build
from oracles.vc_verifier import verify_vc
from test_endorsements import B_URL, _endorsed_site, endorser  # noqa: F401 - (endorser is a fixture)


def test_digital_bazaar_accepts_the_endorsement_and_its_published_copy_and_refuses_a_tampered_one(
    tmp_path, run, endorser
):
    b_output = endorser["site"] / "output"
    given = b_output / "endorsements/given/welding/credential.json"
    result = verify_vc(given, b_output, B_URL, now=TODAY + "T12:00:00Z")
    assert result["verified"] and result["proofVerified"], result["errors"]
    core = verify_vc(given, b_output, B_URL, mode="verifier-core")
    assert core["verified"] and not core["errors"] and not core["warnings"], core
    assert any(url.endswith("endorsementcredential_schema.json") for url in core["loaded"])
    assert any("did:web:skills-council.example" in url or url.endswith("did.json") for url in result["loaded"]), result[
        "loaded"
    ]

    site = _endorsed_site(tmp_path, endorser, "welding")
    build(run, site)
    copy = site / "output/endorsements/received/welding.json"
    result = verify_vc(copy, b_output, B_URL, now=TODAY + "T12:00:00Z")
    assert result["verified"], result["errors"]

    tampered = json.loads(copy.read_text())
    tampered["credentialSubject"]["endorsementComment"] = "Not recommended."
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(tampered))
    result = verify_vc(bad, b_output, B_URL, now=TODAY + "T12:00:00Z")
    assert not result["verified"] and not result["proofVerified"]
