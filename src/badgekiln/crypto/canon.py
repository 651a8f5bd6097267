"""RDFC-1.0 (URDNA2015) canonicalization of JSON-LD documents to N-Quads, offline and strict.

Contexts come only from the copies bundled in ``badgekiln/data/contexts`` (plus documents a
caller adds explicitly): badgekiln never fetches a context from the network.

Canonicalization is *strict*. Plain JSON-LD silently drops what the ``@context`` does not
define, so anything undefined could be added to or removed from a signed document without
touching its signature. pyld has no ``safe`` mode (jsonld.js does), so this module rebuilds the
relevant part of it, and refuses:

* properties that expand to no absolute IRI (reported by pyld's ``on_property_dropped`` hook);
* relative IRI references (``@id``, ``@type``, IRI values): pyld 3.x resolves them against
  ``http://example.org/base/`` where other processors drop them, so signatures over them
  would not interoperate. They are resolved against a sentinel base, then rejected;
* properties whose IRI is a blank node (RDF drops those triples).

Canonicalization is *bounded*. RDFC-1.0 tells blank nodes that look alike apart by trying every
order of them (Hash N-Degree Quads, section 4.8): a "poison" graph of a few blank nodes, each
linked to all the others, takes factorial time (eight such nodes in a 4 KB credential took pyld
nearly two minutes; a review, session 43). The specification lets an implementation stop such
input (section 4.4, "Security Considerations" 6.1); jsonld.js does so by its ``maxWorkFactor``.
Here every run of Hash N-Degree Quads costs one unit of :data:`MAX_WORK`, and every order it
tries as many as the identifiers it copies with it; past it, the document is refused. A credential's blank nodes (its subject,
results, alignments) differ by their content, or are few: none comes near it.
"""

from __future__ import annotations

import copy
import functools
import inspect
import math
import re
from collections.abc import Mapping
from typing import Any

from cachetools import LRUCache
from pyld import jsonld
from pyld.canon import URDNA2015
from pyld.context_resolver import ContextResolver

from badgekiln.errors import VerifyError

if "on_property_dropped" not in inspect.signature(jsonld.JsonLdProcessor.__init__).parameters:
    # Strict canonicalization needs the hook; PyLD 2.x would silently drop undefined terms.
    raise ImportError("badgekiln needs PyLD >= 3.0 (JsonLdProcessor(on_property_dropped=...))")

from badgekiln.crypto.contexts import CONTEXT_FILES, bundled_documents  # noqa: E402, F401 - (CONTEXT_FILES re-exported)
from badgekiln.crypto.nquads import RELATIVE_BASE  # noqa: E402 - (re-exported)

_ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S*")
_NON_NODE_KEYS = frozenset({"@id", "@type", "@index", "@language", "@direction", "@context"})


_bundled_contexts = bundled_documents  # (the name this module's callers know)


class StaticDocumentLoader:
    """A pyld document loader serving a fixed set of documents, and never the network.

    Each loader keeps its own cache of processed contexts. pyld's global cache is keyed by URL
    only, so two loaders serving different bytes under one URL could otherwise see each
    other's contexts. The cache is not thread-safe; use one loader per thread.
    """

    def __init__(self, documents: Mapping[str, Any]) -> None:
        """Create a loader.

        Args:
            documents: URL -> parsed JSON document. Copied, so later changes have no effect.
        """
        self._documents = {url: copy.deepcopy(doc) for url, doc in documents.items()}
        self.context_cache: LRUCache[str, Any] = LRUCache(maxsize=100)

    def __call__(self, url: str, options: Any = None) -> dict[str, Any]:
        """Return the pyld ``RemoteDocument`` for ``url``.

        Raises:
            VerifyError: ``url`` is not one of the loader's documents.
        """
        if url not in self._documents:
            raise VerifyError(
                f"JSON-LD context {url!r} is not bundled with badgekiln, and badgekiln never "
                "fetches contexts from the network"
            )
        # A fresh copy each time: pyld rewrites context URLs inside what it is given.
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": copy.deepcopy(self._documents[url]),
            "tag": "static",  # lets pyld keep the processed context in our cache
        }


def static_document_loader(extra: Mapping[str, Any] | None = None) -> StaticDocumentLoader:
    """Build a loader serving the bundled contexts plus ``extra`` documents.

    Args:
        extra: More URL -> document entries (e.g. a verifier's extension contexts). They may
            not replace a bundled URL.

    Returns:
        A new :class:`StaticDocumentLoader`.

    Raises:
        ValueError: ``extra`` tries to redefine a bundled context URL.
    """
    bundled = _bundled_contexts()
    if clash := sorted(set(extra or {}) & set(bundled)):
        raise ValueError(f"cannot replace bundled JSON-LD contexts {clash}")
    return StaticDocumentLoader({**bundled, **(extra or {})})


@functools.cache
def _default_loader() -> StaticDocumentLoader:
    return static_document_loader()


def _relative(iri: Any) -> bool:
    if not isinstance(iri, str):
        return True
    return iri.startswith(RELATIVE_BASE) or not _ABSOLUTE_IRI.fullmatch(iri)


def _shown(iri: Any) -> str:
    if isinstance(iri, str) and iri.startswith(RELATIVE_BASE):
        iri = iri[len(RELATIVE_BASE) :]
    return repr(iri)


def _check_expanded(node: Any, problems: list[str]) -> None:
    """Collect what RDF conversion would silently drop from an expanded document."""
    if isinstance(node, list):
        for item in node:
            _check_expanded(item, problems)
        return
    if not isinstance(node, dict):
        return
    if "@value" in node:  # a literal: only its datatype IRI can go wrong
        datatype = node.get("@type")
        if datatype not in (None, "@json") and _relative(datatype):
            problems.append(f"relative datatype IRI {_shown(datatype)}")
        return
    node_id = node.get("@id")
    if node_id is not None and not str(node_id).startswith("_:") and _relative(node_id):
        problems.append(f"relative IRI reference {_shown(node_id)} used as an id")
    types = node.get("@type", [])
    for type_iri in [types] if isinstance(types, str) else types:
        if not str(type_iri).startswith("_:") and _relative(type_iri):
            problems.append(f"type {_shown(type_iri)} is not defined by the @context")
    for key, value in node.items():
        if key in _NON_NODE_KEYS:
            continue
        if not key.startswith("@") and (key.startswith("_:") or _relative(key)):
            problems.append(f"property IRI {_shown(key)} is not usable in RDF")
        _check_expanded(value, problems)


# Runs of Hash N-Degree Quads, and orders of blank nodes tried times the size of the issuer each
# copies, in one canonicalization
MAX_WORK = 200_000


class _BoundedURDNA2015(URDNA2015):  # type: ignore[misc]  # (pyld has no types)
    """pyld's RDFC-1.0, refusing a dataset that needs more than :data:`MAX_WORK` units of work to
    tell its blank nodes apart (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.work_left = MAX_WORK

    def _spend(self, units: int) -> None:
        self.work_left -= units
        if self.work_left < 0:
            raise jsonld.JsonLdError(
                f"telling its blank nodes apart needs more than {MAX_WORK:,} steps (blank nodes that look "
                "alike, each linked to the others: a 'poison' graph no credential needs); refused",
                "jsonld.NormalizeError",
            )

    def create_hash_to_related(self, id_: str, issuer: Any) -> Any:
        # (called once by each run of Hash N-Degree Quads, first: counted here rather than in an
        # override of that recursive method, which added a frame to each level of its recursion,
        # and a chain of 550 blank nodes reached Python's recursion limit; a review)
        related = super().create_hash_to_related(id_, issuer)
        # Each list's every order is tried next, each with a copy of the issuer: paid for first, as
        # orders times the issuer's size (two alike "stars" of 3,000 leaves stayed under a count of
        # orders and took 11 s copying a growing issuer; a review)
        size = 1 + len(getattr(issuer, "existing", ()))
        self._spend(1)
        for nodes in related.values():
            self._spend(math.factorial(len(nodes)) * size if len(nodes) <= 12 else MAX_WORK + 1)
        return related


class _StrictProcessor(jsonld.JsonLdProcessor):  # type: ignore[misc]  # (pyld has no types)
    """pyld's processor, with expansion checked for anything RDF conversion would drop, and its
    canonicalization bounded (:class:`_BoundedURDNA2015`)."""

    def __init__(self) -> None:
        self.dropped: list[str | None] = []
        super().__init__(on_property_dropped=self.dropped.append)

    def normalize(self, input_: Any, options: Any) -> Any:
        """``JsonLdProcessor.normalize`` as :func:`canonize` calls it (a JSON-LD document, URDNA2015,
        N-Quads out), with :class:`_BoundedURDNA2015` in place of pyld's own."""
        opts = {**options, "extractAllScripts": True, "processingMode": "json-ld-1.1", "produceGeneralizedRdf": False}
        opts.pop("format", None)
        try:
            dataset = self.to_rdf(input_, opts)
        except jsonld.JsonLdError as cause:
            raise jsonld.JsonLdError(
                "Could not convert input to RDF dataset before normalization.", "jsonld.NormalizeError"
            ) from cause
        return _BoundedURDNA2015().main(dataset, options)

    def expand(self, input_: Any, options: Any) -> Any:
        expanded = super().expand(input_, options)
        problems = [
            f"term {term!r} is not defined by the @context"
            if term
            else "a key the @context maps to null (or an unknown '@' keyword)"
            for term in self.dropped
        ]
        _check_expanded(expanded, problems)
        if problems:
            unique = sorted(set(problems))
            raise VerifyError(
                "document has data that canonicalization would silently drop, so a signature would "
                f"not cover it: {'; '.join(unique)}"
            )
        return expanded


def _innermost_message(error: BaseException) -> str:
    while error.__cause__ is not None:
        error = error.__cause__
    if isinstance(error, jsonld.JsonLdError):
        return f"{error.args[0]} ({error.code or error.type})"
    return str(error)


def canonize(document: dict[str, Any], *, loader: StaticDocumentLoader | None = None) -> str:
    """Canonicalize a JSON-LD document with RDFC-1.0 (URDNA2015) to N-Quads.

    This is the reference implementation: any faster path must produce identical output.

    Args:
        document: The JSON-LD document (with its ``@context``). It is not modified.
        loader: Where contexts come from; by default the bundled contexts only.

    Returns:
        The canonical N-Quads, one quad per line, each line ending in ``\\n``.

    Raises:
        VerifyError: A context is not available offline, the document is not valid JSON-LD,
            or it has data that canonicalization would drop (see the module docstring).
    """
    if not isinstance(document, dict):
        raise TypeError(f"canonize() takes a JSON object (dict), got {type(document).__name__}")
    loader = loader or _default_loader()
    options = {
        "algorithm": "URDNA2015",  # pyld's name for RDFC-1.0; it rejects "RDFC-1.0"
        "format": "application/n-quads",
        "base": RELATIVE_BASE,
        "documentLoader": loader,
        "contextResolver": ContextResolver(loader.context_cache, loader),
    }
    try:
        canonical: str = _StrictProcessor().normalize(document, options)
        return canonical
    except RecursionError:  # (blank nodes chained deeper than Python's stack: pyld's own recursion)
        raise VerifyError(
            "cannot canonicalize JSON-LD document: its blank nodes are chained too deep to tell apart"
        ) from None
    except jsonld.JsonLdError as e:
        raise VerifyError(f"cannot canonicalize JSON-LD document: {_innermost_message(e)}") from e
