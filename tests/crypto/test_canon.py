"""Tests for badgekiln.crypto.canon (strict, offline RDFC-1.0 canonicalization)."""

from __future__ import annotations

import copy
import hashlib

import pytest

from badgekiln.crypto import canon
from badgekiln.errors import VerifyError

EXTRA_URL = "https://example.org/contexts/extra.jsonld"


def test_document_matches_vector(vector, vector_nquads):
    nquads = canon.canonize(vector["unsignedCredential"])
    assert nquads == vector_nquads["document"]
    assert hashlib.sha256(nquads.encode()).hexdigest() == vector["documentHashHex"]


def test_proof_options_match_vector(vector, vector_nquads):
    options = {**vector["proofOptions"], "@context": vector["unsignedCredential"]["@context"]}
    nquads = canon.canonize(options)
    assert nquads == vector_nquads["proof"]
    assert hashlib.sha256(nquads.encode()).hexdigest() == vector["proofHashHex"]


def test_canonize_does_not_modify_input(vector):
    document = copy.deepcopy(vector["unsignedCredential"])
    canon.canonize(document)
    assert document == vector["unsignedCredential"]


def test_key_order_does_not_matter(vector, vector_nquads):
    document = dict(reversed(list(vector["unsignedCredential"].items())))
    assert canon.canonize(document) == vector_nquads["document"]


def _changed(document, change):
    document = copy.deepcopy(document)
    change(document)
    return document


STRICT_CASES = {
    "undefined top-level term": (lambda d: d.update(favouriteColour="blue"), "'favouriteColour' is not defined"),
    "undefined nested term": (
        lambda d: d["credentialSubject"]["achievement"].update(level="gold"),
        "'level' is not defined",
    ),
    "undefined type": (lambda d: d["type"].append("GoldBadge"), "type 'GoldBadge' is not defined"),
    "relative credential id": (lambda d: d.update(id="credentials/3527"), "relative IRI reference"),
    "relative issuer reference": (lambda d: d.update(issuer="issuers/565049"), "relative IRI reference"),
    "network-path id": (lambda d: d.update(id="//evil.example/x"), "relative IRI reference"),
    "keyword-like key": (lambda d: d.update({"@signature": "x"}), "maps to null"),
    "blank-node property": (lambda d: d.update({"_:p": "x"}), "not usable in RDF"),
}


@pytest.mark.parametrize("change, message", STRICT_CASES.values(), ids=STRICT_CASES.keys())
def test_data_that_would_be_dropped_is_an_error(vector, change, message):
    with pytest.raises(VerifyError, match="silently drop") as info:
        canon.canonize(_changed(vector["unsignedCredential"], change))
    assert message in str(info.value)


def test_full_iri_properties_are_allowed(vector, vector_nquads):
    document = _changed(vector["unsignedCredential"], lambda d: d.update({"https://example.org/p": "x"}))
    assert canon.canonize(document).count('<https://example.org/p> "x"') == 1


def test_protected_term_cannot_be_redefined(vector):
    document = _changed(
        vector["unsignedCredential"], lambda d: d["@context"].append({"name": "https://evil.example/n"})
    )
    with pytest.raises(VerifyError, match="protected term"):
        canon.canonize(document)


@pytest.mark.parametrize("url", ["https://example.org/unknown-context.json", "relative-context.json"])
def test_unknown_context_is_never_fetched(vector, url):
    document = _changed(vector["unsignedCredential"], lambda d: d["@context"].append(url))
    with pytest.raises(VerifyError, match="never fetches contexts from the network"):
        canon.canonize(document)


@pytest.mark.parametrize("url", sorted(canon.CONTEXT_FILES))
def test_every_bundled_url_is_served(url):
    remote = canon.static_document_loader()(url)
    assert remote["documentUrl"] == url
    assert isinstance(remote["document"]["@context"], (dict, list))


def test_extra_documents(vector):
    loader = canon.static_document_loader({EXTRA_URL: {"@context": {"level": "https://example.org/vocab#level"}}})
    document = _changed(
        vector["unsignedCredential"], lambda d: (d["@context"].append(EXTRA_URL), d.update(level="gold"))
    )
    assert '<https://example.org/vocab#level> "gold"' in canon.canonize(document, loader=loader)
    with pytest.raises(VerifyError, match="never fetches"):
        canon.canonize(document)  # the default loader does not know EXTRA_URL


def test_extra_documents_cannot_replace_bundled():
    with pytest.raises(ValueError, match="cannot replace"):
        canon.static_document_loader({"https://www.w3.org/ns/credentials/v2": {"@context": {}}})


def test_loaders_do_not_share_processed_contexts(vector):
    # pyld's global context cache is keyed by URL alone; each loader must use its own.
    document = _changed(
        vector["unsignedCredential"], lambda d: (d["@context"].append(EXTRA_URL), d.update(level="gold"))
    )
    first = canon.static_document_loader({EXTRA_URL: {"@context": {"level": "https://example.org/one#level"}}})
    second = canon.static_document_loader({EXTRA_URL: {"@context": {"level": "https://example.org/two#level"}}})
    assert "example.org/one#level" in canon.canonize(document, loader=first)
    assert "example.org/two#level" in canon.canonize(document, loader=second)


def test_loader_copies_its_documents(vector):
    extra = {EXTRA_URL: {"@context": {"level": "https://example.org/one#level"}}}
    loader = canon.static_document_loader(extra)
    extra[EXTRA_URL]["@context"]["level"] = "https://evil.example/level"
    assert loader(EXTRA_URL)["document"] == {"@context": {"level": "https://example.org/one#level"}}


def test_canonize_takes_a_dict_only():
    with pytest.raises(TypeError):
        canon.canonize("https://example.org/credential.json")  # pyld would try to load this URL


def _linked_blank_nodes(vector: dict, count: int) -> dict:
    """The vector's credential with ``count`` blank nodes of one look, each linked to all the others."""
    document = copy.deepcopy(vector["unsignedCredential"])
    document["evidence"] = [
        {"id": f"_:b{i}", "type": ["Profile"], "parentOrg": [{"id": f"_:b{j}"} for j in range(count) if j != i]}
        for i in range(count)
    ]
    return document


def test_a_poison_graph_is_refused_at_once(vector):
    # (session 43's review: eight such nodes in a 4 KB credential kept pyld busy for nearly two
    # minutes, before any signature was checked; ten would take hours)
    import time

    for count in (6, 8, 12, 40):
        started = time.monotonic()
        with pytest.raises(VerifyError, match="poison"):
            canon.canonize(_linked_blank_nodes(vector, count))
        assert time.monotonic() - started < 3, count


def test_blank_nodes_that_look_alike_but_are_few_are_still_canonicalized(vector):
    # (RDFC-1.0 tells them apart: the same output whatever their order and names)
    document = _linked_blank_nodes(vector, 4)
    again = _linked_blank_nodes(vector, 4)
    again["evidence"].reverse()
    for node in again["evidence"]:  # (other names for the same nodes)
        node["id"] = node["id"].replace("_:b", "_:other")
        for link in node["parentOrg"]:
            link["id"] = link["id"].replace("_:b", "_:other")
    canonical = canon.canonize(document)
    assert canonical == canon.canonize(again)
    assert "_:c14n3 " in canonical and "_:b" not in canonical and "_:other" not in canonical


def test_two_alike_stars_and_twin_chains_are_refused_not_slow_or_a_recursion_error(vector):
    # (the second review: two alike hubs of 3,000 leaves each stayed under a count of orders and
    # took 11 s copying a growing issuer; twin chains of 550 blank nodes hit Python's recursion
    # limit through the override's extra frame)
    import time

    def star(hub: str, leaves: int) -> list:
        return [
            {
                "id": f"_:{hub}",
                "type": ["Profile"],
                "parentOrg": [{"id": f"_:{hub}l{i}", "name": f"n{i}"} for i in range(leaves)],
            }
        ]

    def chain(name: str, length: int) -> list:
        return [
            {"id": f"_:{name}{i}", "type": ["Profile"], "parentOrg": {"id": f"_:{name}{i + 1}"}} for i in range(length)
        ]

    for evidence in (star("a", 3000) + star("b", 3000), chain("a", 550) + chain("b", 550)):
        document = copy.deepcopy(vector["unsignedCredential"])
        document["evidence"] = evidence
        started = time.monotonic()
        with pytest.raises(VerifyError, match="poison"):
            canon.canonize(document)
        assert time.monotonic() - started < 15


def test_blank_nodes_chained_deeper_than_the_stack_are_a_clear_error(vector):
    # (a RecursionError from pyld's recursion was "verifier error: unexpected RecursionError")
    import sys

    document = copy.deepcopy(vector["unsignedCredential"])
    document["evidence"] = [
        {"id": f"_:{name}{i}", "type": ["Profile"], "parentOrg": {"id": f"_:{name}{i + 1}"}}
        for name in "ab"
        for i in range(300)
    ]
    limit = sys.getrecursionlimit()
    depth = len(__import__("inspect").stack(0))
    sys.setrecursionlimit(depth + 250)  # (less than the chains need: as chains of thousands under the usual limit)
    try:
        with pytest.raises(VerifyError, match="chained too deep"):
            canon.canonize(document)
    finally:
        sys.setrecursionlimit(limit)
