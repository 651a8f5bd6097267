"""N-Quads terms as pyld writes them, without loading pyld (a rebuild that only signs the status
lists never imports the JSON-LD processor: see :mod:`badgekiln.crypto.fastcanon`).

``tests/crypto/test_fastcanon.py`` checks :func:`escape` against pyld's own on generated text.
"""

from __future__ import annotations

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

# Relative references are resolved against this base, then refused (crypto/canon.py). A private
# scheme (not an https host) so that even network-path references ("//host/x") stay recognisable.
RELATIVE_BASE = "badgekiln-relative-reference:/"


def escape(value: str) -> str:
    """The text of a literal in N-Quads, escaped as pyld's ``nquads.escape`` escapes it."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r").replace('"', '\\"')
    )
