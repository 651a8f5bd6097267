"""Which key ids name a development key: one rule, in ``badgekiln verify`` and in the page's Verify.

A preview build signs with development keys whose ids are exactly ``dev-rsa`` and ``dev-ed25519``
(formats/urls.py DEVELOPMENT_KEY_IDS), published as a DID URL fragment and as key files. Both
verifiers must recognise those shapes and nothing else: a foreign issuer whose key file or DID
fragment merely starts ``dev-`` is not "a preview build". The same table runs through
verifying/common.py ``is_development_key`` and through verify.js ``isDevelopmentKey`` in node.
"""

from __future__ import annotations

import importlib.resources
import json
import re
import shutil
import subprocess

import pytest

from badgekiln.formats import urls
from badgekiln.verifying.common import is_development_key

DID = "did:web:badges.northwind.example"
SITE = "https://badges.northwind.example/"

# (key id, names a development key); the review's cases first.
TABLE = [
    (f"{DID}#dev-rsa", True),
    (f"{DID}#dev-ed25519", True),
    ("did:web:127.0.0.1%3A8000:sub#dev-rsa", True),
    (f"{SITE}keys/dev-rsa.json", True),  # OB 2.0 verification.creator
    (f"{SITE}keys/dev-ed25519.json", True),
    (f"{SITE}keys/dev-rsa.jwk.json", True),  # an older VC-JWT kid
    (f"{SITE}keys/dev-rsa.jwk.json#k1", True),  # the key file is the development key's, whatever the fragment
    (f"{SITE}keys/dev-rsa.json?v=2", True),
    ("http://127.0.0.1:8000/sub/keys/dev-rsa.jwk.json", True),  # a preview served on loopback
    ("https://issuer.example/profile.json#dev-signing", False),  # a fragment of an https URL is not a DID's
    ("https://issuer.example/profile.json#dev-rsa", False),
    ("https://issuer.example/keys/dev-relations.json", False),  # a foreign key file that starts "dev-"
    ("https://issuer.example/keys/dev-rsa-2024.json", False),
    ("https://issuer.example/keys/dev-rsa.pem", False),
    ("https://issuer.example/keys/dev-rsa", False),
    ("https://issuer.example/keys/dev-rsa.json/", False),
    ("https://dev-rsa.json", False),  # a host, not a path
    ("https://dev-rsa.json?x/dev-rsa.json", False),
    ("did:web:issuer.example#dev-team-2024", False),
    ("did:web:issuer.example#dev-", False),
    ("did:web:issuer.example#dev-rsa#x", False),
    ("did:web:issuer.example#DEV-RSA", False),
    ("did:web:issuer.example:keys:dev-rsa.json", False),  # no fragment
    ("did:web:issuer.example#2026-11-22-rsa-b44f2e", False),  # a site's own key
    (f"{SITE}keys/2026-11-22-rsa-b44f2e.jwk.json", False),
    (f"{SITE}keys/jwks.json", False),
    ("HTTPS://issuer.example/keys/dev-rsa.json", False),  # badgekiln writes its URLs in lower case
    ("ftp://issuer.example/keys/dev-rsa.json", False),
    ("urn:example:dev-rsa", False),
    ("dev-rsa", False),  # a bare id names no published key
    ("#dev-rsa", False),
    ("", False),
    (None, False),
    (42, False),
    (["did:web:x#dev-rsa"], False),
]


def test_the_table_covers_every_development_key_id():
    assert set(urls.DEVELOPMENT_KEY_IDS.values()) == {"dev-rsa", "dev-ed25519"}
    assert all(kid.startswith(urls.DEVELOPMENT_PREFIX) for kid in urls.DEVELOPMENT_KEY_IDS.values())


@pytest.mark.parametrize(("key_id", "expected"), TABLE, ids=[repr(k) for k, _ in TABLE])
def test_badgekiln_verify_recognises_exactly_the_development_key_ids(key_id, expected):
    assert is_development_key(key_id) is expected


def _js_function() -> str:
    """verify.js's isDevelopmentKey, cut out of the page script (it uses nothing outside itself)."""
    source = (importlib.resources.files("badgekiln") / "pages/static/verify.js").read_text(encoding="utf-8")
    found = re.search(r"^  function isDevelopmentKey\(kid\) \{\n.*?^  \}\n", source, re.DOTALL | re.MULTILINE)
    assert found, "verify.js has no isDevelopmentKey function"
    return found.group(0)


def test_the_pages_verify_applies_the_same_rule(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = tmp_path / "check.js"
    script.write_text(
        _js_function()
        + "const ids = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        + "process.stdout.write(JSON.stringify(ids.map(isDevelopmentKey)));\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [node, str(script)],
        input=json.dumps([key_id for key_id, _ in TABLE]),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answers = dict(zip(map(repr, (k for k, _ in TABLE)), json.loads(done.stdout), strict=True))
    assert answers == {repr(key_id): expected for key_id, expected in TABLE}
