"""The browser libraries badgekiln publishes are exactly the pinned npm releases.

``pages/static/vendor/jsonld.min.js`` is served to every visitor who presses Verify; it must be
the jsonld.js project's own build, byte for byte, of the version pinned in
``tests/oracles/js/package.json`` (npm installs it there: ``scripts/install-test-deps.sh``).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from badgekiln.crypto.canon import CONTEXT_FILES

REPO = Path(__file__).resolve().parents[1]
STATIC = REPO / "src/badgekiln/pages/static"
VENDOR = STATIC / "vendor"
ORACLE = REPO / "tests/oracles/js"

JSONLD_VERSION = "9.0.0"
JSONLD_SHA256 = "380e91a398c55b86e88ba7aef93f7512e0a9540c7065e6e84190e0aa43bbf8ea"
# The npm registry's integrity of jsonld-9.0.0.tgz (package-lock.json).
JSONLD_INTEGRITY = "sha512-pjMIdkXfC1T2wrX9B9i2uXhGdyCmgec3qgMht+TDj+S0qX3bjWMQUfL7NeqEhuRTi8G5ESzmL9uGlST7nzSEWg=="


def test_vendored_jsonld_has_the_pinned_hash_licence_and_provenance():
    assert hashlib.sha256((VENDOR / "jsonld.min.js").read_bytes()).hexdigest() == JSONLD_SHA256
    assert "BSD License" in (VENDOR / "jsonld.LICENSE").read_text()
    assert "BSD" in (VENDOR / "rdf-canonize.LICENSE").read_text()
    readme = (VENDOR / "README.md").read_text()
    assert JSONLD_SHA256 in readme and f"jsonld](https://www.npmjs.com/package/jsonld) {JSONLD_VERSION}" in readme
    assert JSONLD_INTEGRITY in readme


def test_the_pin_is_in_the_npm_manifest_and_lock():
    assert json.loads((ORACLE / "package.json").read_text())["dependencies"]["jsonld"] == JSONLD_VERSION
    lock = json.loads((ORACLE / "package-lock.json").read_text())["packages"]
    assert lock[""]["dependencies"]["jsonld"] == JSONLD_VERSION
    assert lock["node_modules/jsonld"]["version"] == JSONLD_VERSION
    assert lock["node_modules/jsonld"]["integrity"] == JSONLD_INTEGRITY


def test_vendored_jsonld_is_the_file_of_the_npm_package():
    installed = ORACLE / "node_modules/jsonld"
    if not installed.is_dir():
        pytest.skip("npm ci --prefix tests/oracles/js (scripts/install-test-deps.sh) installs the npm package")
    assert json.loads((installed / "package.json").read_text())["version"] == JSONLD_VERSION
    assert (installed / "dist/jsonld.min.js").read_bytes() == (VENDOR / "jsonld.min.js").read_bytes()
    assert (installed / "LICENSE").read_bytes() == (VENDOR / "jsonld.LICENSE").read_bytes()


def test_verify_js_resolves_exactly_the_bundled_contexts():
    # verify.js maps each context URL to its copy under assets/contexts/; the build publishes
    # crypto/canon.py's files there. The two lists must agree.
    source = (STATIC / "verify.js").read_text()
    block = re.search(r"var CONTEXTS = \{(.*?)\};", source, re.S)
    assert block
    mapping = dict(re.findall(r'"(https://[^"]+)": "([^"]+)"', block.group(1)))
    assert mapping == dict(CONTEXT_FILES)


def test_verify_js_pins_each_context_file_by_its_sha256():
    # (a review: a context copy changed on the host was used as it was; now its bytes must be these)
    import hashlib

    source = (STATIC / "verify.js").read_text()
    block = re.search(r"var CONTEXT_SHA256 = \{(.*?)\};", source, re.S)
    assert block
    pinned = dict(re.findall(r'"([^"]+)": "([0-9a-f]{64})"', block.group(1)))
    contexts = Path(__file__).resolve().parent.parent / "src" / "badgekiln" / "data" / "contexts"
    assert pinned == {
        name: hashlib.sha256((contexts / name).read_bytes()).hexdigest() for name in set(dict(CONTEXT_FILES).values())
    }
