"""The canonicalization templates badgekiln ships (``src/badgekiln/data/canon-templates.json``).

They are the templates :mod:`badgekiln.crypto.fastcanon` makes, with pyld, for the documents every
site signs again when an award's status changes: the two status lists and their Data Integrity
proof options. :func:`seed_text` makes them anew from the example site's settings (the shapes do
not depend on a site's values: every string a site sets is a leaf of the template, not part of
the shape). ``tests/crypto/test_fastcanon.py`` compares the shipped file with it;
``scripts/canon-templates.py`` rewrites the file.
"""

from __future__ import annotations

import json
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

from badgekiln.crypto import dataintegrity
from badgekiln.crypto.fastcanon import FastCanonicalizer
from badgekiln.formats import ob3, statuslist
from badgekiln.sources.validate import load_project

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "src" / "badgekiln" / "data" / "canon-templates.json"


def seeded_documents() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(document, proof options) of each status list of the example site, as the build signs them."""
    config = load_project(REPO, today=date(2026, 11, 22)).config
    signed = []
    for purpose in (statuslist.STATUS_PURPOSE, statuslist.SUSPENSION_PURPOSE):
        document = statuslist.status_list_credential(
            config, {3, 17}, valid_from="2026-11-20T00:00:00Z", purpose=purpose
        )
        options = dataintegrity.proof_options(
            verification_method=ob3.verification_method(config, "2026-11-22-ed25519-abcdef"),
            created="2026-11-20T00:00:00Z",
        )
        signed.append((document, options))
    return signed


def seed_text() -> str:
    """The file's text: the templates pyld gives for :func:`seeded_documents` now."""
    canonicalizer = FastCanonicalizer(seeded=False)
    for document, options in seeded_documents():
        dataintegrity.hash_data(document, options, canonizer=canonicalizer.canonize)
    shipped = {"pyld": metadata.version("PyLD"), "templates": canonicalizer.made()}
    return json.dumps(shipped, indent=1, sort_keys=True) + "\n"
