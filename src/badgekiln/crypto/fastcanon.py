"""RDFC-1.0 canonicalization of many documents of one shape: expand the shape once, fill in values.

:func:`badgekiln.crypto.canon.canonize` runs pyld's JSON-LD expansion on every document, which
costs far more than the canonicalization itself. A build canonicalizes thousands of credentials
that differ only in their values, so this module expands each *shape* once:

1. The shape of a document is its structure (keys, list lengths, value types) with every string
   value left out, except where a string steers JSON-LD processing itself: anything under
   ``@context``, under a key that starts with ``@`` and under ``type``, which stay in the shape.
2. For a new shape, a *skeleton* (the document with a unique sentinel IRI for each left-out
   string) goes through the strict processor of :mod:`badgekiln.crypto.canon`, giving an RDF
   dataset in which each sentinel must appear exactly once as a whole term: an IRI, or the text
   of a literal whose datatype pyld keeps as it is (not ``xsd:double``, not ``rdf:JSON``). A
   sentinel that appears any other way, or not at all, is a value that matters to processing: it
   is put back into the shape, and that shape gets its own skeleton.
3. For a document, its strings are put in place of the sentinels (as N-Quads terms, serialized
   as pyld serializes them) and duplicate quads are merged, as pyld's node map merges them.
4. RDFC-1.0 then labels the blank nodes. When every blank node has its own first-degree hash
   (the case of credentials), the canonical labels follow the sorted hashes and this module
   issues them itself (RDFC-1.0 section 4.4, steps 1 to 5 and 7); otherwise the document goes
   to :func:`~badgekiln.crypto.canon.canonize`, whose URDNA2015 tells them apart.

A string goes in an IRI's place only if pyld would keep it as it is there: an absolute IRI that
strict canonicalization accepts, that names no term and whose scheme is no term of any context
in play (else it is put back into the shape too). Documents this module cannot reason about
(other JSON types, unknown contexts, errors) go to :func:`~badgekiln.crypto.canon.canonize`,
which is also what raises every error. ``tests/crypto/test_fastcanon.py`` checks the two agree on
generated documents.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import json
import re
import secrets
from collections.abc import Callable
from operator import itemgetter
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from badgekiln.crypto import dataintegrity, nquads
from badgekiln.crypto.contexts import bundled_documents
from badgekiln.crypto.nquads import RDF_LANGSTRING, RELATIVE_BASE, XSD_STRING

_XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"
_RDF_JSON = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON"
_ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S*")  # what canon's strict check accepts
_MAX_TEMPLATES = 2048

# Position of a string in a term: an IRI, or a literal (with its datatype and language).
_IRI, _LITERAL = "iri", "literal"


class _Unsupported(Exception):
    """The document is not one this module handles; the general processor does."""


class _Template:
    """The quads of one shape as N-Quads terms, with each string of the document at its place."""

    def __init__(self, quads: list[tuple[str | tuple[int, bool | str], ...]], iri_leaves: frozenset[int]):
        # A term is a serialized constant, or (leaf index, True for an IRI / the literal's suffix)
        # (:func:`_compile` makes them from pyld's dataset).
        self.quads = quads
        self.iri_leaves = iri_leaves  # leaves whose strings must be IRIs pyld keeps as they are
        # For fill(): every distinct term gets a place in one list, the constants first and then
        # one place per (leaf, how it is written); a quad is then three places of that list.
        constants: dict[str, int] = {}
        slots: dict[tuple[int, bool | str], int] = {}
        places = []
        for quad in self.quads:
            for term in quad:
                if isinstance(term, str):
                    constants.setdefault(term, len(constants))
                else:
                    slots.setdefault(term, len(slots))
        for quad in self.quads:
            places.append(tuple(constants[t] if isinstance(t, str) else len(constants) + slots[t] for t in quad))
        self._constants = list(constants)
        self._iri_slots = [(i, place) for (i, kind), place in slots.items() if kind is True]
        self._literal_slots = [(i, kind, place) for (i, kind), place in slots.items() if isinstance(kind, str)]
        self._slot_count = len(slots)
        self._getters = [itemgetter(*quad) for quad in places]

    def fill(self, leaves: list[str], escape: Callable[[str], str]) -> list[tuple[str, ...]]:
        """The document's quads: (subject, predicate, object) N-Quads terms, without duplicates
        (``escape``: how a literal's text is written, as the pyld that made the template writes it)."""
        slots: list[str] = [""] * self._slot_count
        for i, place in self._iri_slots:
            slots[place] = "<" + leaves[i] + ">"
        for i, suffix, place in self._literal_slots:
            slots[place] = '"' + escape(leaves[i]) + '"' + suffix
        terms = self._constants + slots
        # pyld's node map merges equal values (and nodes named alike): equal quads are one
        return list(dict.fromkeys([get(terms) for get in self._getters]))


def _compile(term: dict[str, Any] | tuple[int, dict[str, Any]]) -> str | tuple[int, bool | str]:
    """A term of pyld's dataset as its N-Quads text (pyld's serialize_nquad), or a leaf's place."""
    if isinstance(term, tuple):
        index, parts = term
        return index, True if parts["type"] == "IRI" else _literal_suffix(parts)
    if term["type"] == "IRI":
        return "<" + str(term["value"]) + ">"
    if term["type"] == "blank node":
        return str(term["value"])
    return '"' + str(_pyld_escape()(term["value"])) + '"' + _literal_suffix(term)  # (pyld made the dataset)


def _literal_suffix(term: dict[str, Any]) -> str:
    if term["datatype"] == RDF_LANGSTRING:
        return "@" + term["language"] if term.get("language") else ""
    return "" if term["datatype"] == XSD_STRING else "^^<" + term["datatype"] + ">"


def label(quads: list[tuple[str, ...]]) -> str | None:
    """RDFC-1.0 canonical N-Quads of ``quads`` when every blank node has a unique first-degree hash.

    Returns:
        The canonical N-Quads, or None when some blank nodes share a hash (the general algorithm
        then has to tell them apart).
    """
    mentions: dict[str, list[tuple[str, ...]]] = {}
    for quad in quads:
        for term in (quad[0], quad[2]):  # a quad counts once per place a blank node holds in it
            if term.startswith("_:"):
                mentions.setdefault(term, []).append(quad)
    hashes = {}
    for node, related in mentions.items():
        lines = sorted(f"{_first_degree(s, node)} {p} {_first_degree(o, node)} .\n" for s, p, o in related)
        hashes[hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()] = node
    if len(hashes) != len(mentions):
        return None
    canonical = {node: f"_:c14n{number}" for number, (_, node) in enumerate(sorted(hashes.items()))}
    return "".join(sorted(f"{canonical.get(s, s)} {p} {canonical.get(o, o)} .\n" for s, p, o in quads))


def _first_degree(term: str, node: str) -> str:
    if not term.startswith("_:"):
        return term
    return "_:a" if term == node else "_:z"


class FastCanonicalizer:
    """Canonicalizes documents through per-shape templates (one instance per process is enough)."""

    def __init__(self, *, seeded: bool = True) -> None:
        seeds = _seeds() if seeded else {}
        self._templates: dict[Any, _Template | set[int] | None] = dict(seeds)
        self._made: set[Any] = set()  # the keys of the templates made here or learnt (see made())
        self._new: set[Any] = set()  # of those, the ones made here since take_new()
        # Literals are written as the pyld that made the templates writes them: the shipped ones
        # by crypto.nquads' copy of its escape, for the pyld they were made with (_seeds).
        self._escape = nquads.escape if seeds else _pyld_escape()
        self._terms = _context_terms()
        self.hits = self.misses = self.fallbacks = 0

    def made(self) -> list[dict[str, Any]]:
        """What this canonicalizer learnt of shapes (with pyld: the seeds it started with are not
        in it), as the JSON records of :data:`SEEDS`, in a fixed order: a template, or the
        leaves a shape must keep in it ("bake")."""
        return self._records(self._made)

    @property
    def can_learn(self) -> bool:
        """Whether :meth:`learn` takes templates: literals are written as the pyld of the
        shipped templates writes them (with another pyld, never)."""
        return self._escape is nquads.escape

    def take_new(self) -> list[dict[str, Any]]:
        """The records (as :meth:`made`) of the templates made here since the last call: what a
        forked worker learnt, for the build to keep."""
        keys, self._new = self._new, set()
        return self._records(keys & self._made)

    def learn(self, records: Any) -> bool:
        """Take the templates of ``records`` (as :meth:`made` gives them: a worker's, or those the
        build's cache kept) as if made here; those of shapes known already are left as they are.

        Nothing is taken (False) from records of any other form, or by a canonicalizer that does
        not write literals as the pyld of the shipped templates does (templates carry its way of
        writing them). A record of the right form and wrong quads is taken: the cache's file is
        read only when its HMAC under the site's keys says this build's code wrote it (see
        engine/canoncache.py)."""
        if not self.can_learn:
            return False
        try:
            learnt = _parse_records(records)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError, RecursionError):
            return False
        if len(self._templates) + len(learnt) > _MAX_TEMPLATES:
            return False
        for key, template in learnt.items():
            if key not in self._templates:
                self._templates[key] = template
                self._made.add(key)
        return True

    def _records(self, keys: set[Any]) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for key in keys:
            template = self._templates.get(key)
            if isinstance(template, _Template):
                records.append(
                    {
                        "shape": key[0],
                        "baked": key[1],
                        "quads": template.quads,
                        "iri_leaves": sorted(template.iri_leaves),
                    }
                )
            elif isinstance(template, set):
                records.append({"shape": key[0], "baked": key[1], "bake": sorted(template)})
        return sorted(records, key=lambda record: json.dumps(record, sort_keys=True))

    def canonize(self, document: dict[str, Any]) -> str:
        """Exactly :func:`badgekiln.crypto.canon.canonize` ``(document)``, with the bundled contexts."""
        try:
            quads = self._dataset(document)
            canonical = label(quads) if quads is not None else None
        except Exception:  # noqa: BLE001 - _Unsupported, or text canon.canonize reports in its own way
            canonical = None
        if canonical is None:  # not a known shape, or blank nodes only the general algorithm tells apart
            from badgekiln.crypto import canon

            self.fallbacks += 1
            return canon.canonize(document)
        return canonical

    def _dataset(self, document: Any) -> list[tuple[str, ...]] | None:
        if not isinstance(document, dict):
            raise _Unsupported
        leaves: list[str] = []
        inline: set[str] = set()  # terms the document's own (inline) contexts define
        shape = _shape(document, leaves, inline, bake=False)
        terms = self._terms | inline if inline else self._terms
        baked: dict[int, str] = {}
        for _ in range(4):  # the first passes may find strings to put back into the shape
            key = (shape, tuple(sorted(baked.items())))
            if key not in self._templates:
                self.misses += 1
                if len(self._templates) >= _MAX_TEMPLATES:  # (start again from the shipped ones)
                    self._templates = dict(_seeds()) if self._escape is nquads.escape else {}
                    self._made.clear()
                    self._new.clear()
                self._templates[key] = _build(document, leaves, baked)
                self._made.add(key)
                self._new.add(key)
            else:
                self.hits += 1
            template = self._templates[key]
            if template is None:
                return None
            if isinstance(template, set):  # leaves that must be part of the shape
                baked.update((i, leaves[i]) for i in template)
                continue
            bad = {i for i in template.iri_leaves if not _keeps_iri(leaves[i], terms)}
            if not bad:
                return template.fill(leaves, self._escape)
            baked.update((i, leaves[i]) for i in bad)
        return None


def _shape(value: Any, leaves: list[str], terms: set[str], *, bake: bool) -> Any:
    """The shape of ``value``; appends the strings left out of it to ``leaves`` (and the terms
    that inline contexts define to ``terms``)."""
    kind = type(value)
    if kind is dict:  # (the common cases first, by exact type; the rest as before)
        items: list[tuple[str, Any]] = []
        for key in sorted(value) if set(map(type, value)) <= _TEXT else _keys(value):
            item = value[key]
            if key == "@context":
                _collect_terms(item, terms)
            baked = bake or _bakes(key)
            if type(item) is str:
                if baked:
                    items.append((key, ("s", item)))
                else:
                    leaves.append(item)
                    items.append((key, "*"))
            else:
                items.append((key, _shape(item, leaves, terms, bake=baked)))
        return ("d", tuple(items))
    if kind is list and bake and set(map(type, value)) <= _TEXT:  # a list of types
        return ("l", tuple([("s", item) for item in value]))
    if kind is str or isinstance(value, str):
        if bake:
            return ("s", value)
        leaves.append(value)
        return "*"
    if isinstance(value, bool) or value is None:
        return ("c", value)
    if isinstance(value, (int, float)):
        return ("n", type(value).__name__, repr(value))
    if isinstance(value, list):
        return ("l", tuple(_shape(v, leaves, terms, bake=bake) for v in value))
    if isinstance(value, dict):
        return _shape(dict(value), leaves, terms, bake=bake)
    raise _Unsupported


_TEXT = frozenset({str})


def _keys(value: dict[Any, Any]) -> list[str]:
    """The keys of a dict whose keys are not all exactly ``str``, sorted; refused unless all are text."""
    if not all(isinstance(k, str) for k in value):
        raise _Unsupported
    return sorted(value)


_BAKED_KEYS: dict[str, bool] = {}


def _bakes(key: str) -> bool:
    """Whether the strings under ``key`` steer JSON-LD processing (and so belong to the shape)."""
    found = _BAKED_KEYS.get(key)
    if found is None:
        found = key.startswith("@") or key == "type"
        if len(_BAKED_KEYS) < 4096:
            _BAKED_KEYS[key] = found
    return found


def _skeleton(value: Any, replace: Callable[[], str], *, bake: bool = False) -> Any:
    """``value`` with its left-out strings replaced by ``replace()``, in :func:`_shape`'s order."""
    if isinstance(value, str):
        return value if bake else replace()
    if isinstance(value, list):
        return [_skeleton(v, replace, bake=bake) for v in value]
    if isinstance(value, dict):
        return {
            key: _skeleton(value[key], replace, bake=bake or key.startswith("@") or key == "type")
            for key in sorted(value)
        }
    return value


def _build(document: dict[str, Any], leaves: list[str], baked: dict[int, str]) -> _Template | set[int] | None:
    """The template of ``document``'s shape with the ``baked`` strings in it, or the leaves to bake."""
    nonce = secrets.token_hex(8)
    sentinels = [f"urn:x-badgekiln-fastcanon:{nonce}:{i}" for i in range(len(leaves))]
    counter = iter(range(len(leaves)))

    def replace() -> str:
        i = next(counter)
        return baked[i] if i in baked else sentinels[i]

    try:
        dataset = _to_rdf(_skeleton(document, replace))
    except Exception:  # noqa: BLE001 - canon.canonize meets the same document and reports it
        return None
    if set(dataset) != {"@default"}:
        return None
    marker = re.compile(rf"urn:x-badgekiln-fastcanon:{nonce}:(\d+)")
    index = {s: i for i, s in enumerate(sentinels)}
    seen: set[int] = set()
    unsafe: set[int] = set()
    iri_leaves: set[int] = set()
    quads = []
    for quad in dataset["@default"]:
        terms: list[Any] = []
        for position in ("subject", "predicate", "object"):
            term = quad[position]
            i = index.get(term["value"])
            texts = [term["value"], term.get("datatype") or "", term.get("language") or ""]
            found = {int(m) for text in texts for m in marker.findall(text)}
            if (
                i is not None
                and found == {i}
                and position != "predicate"
                and (term["type"] == "IRI" or term.get("datatype") not in (_XSD_DOUBLE, _RDF_JSON))
            ):
                seen.add(i)
                if term["type"] == "IRI":
                    iri_leaves.add(i)
                terms.append((i, {k: v for k, v in term.items() if k != "value"}))
            else:
                unsafe |= found
                terms.append(dict(term))
        quads.append(tuple(terms))
    unsafe |= set(range(len(leaves))) - set(baked) - seen
    if unsafe:
        return unsafe
    return _Template([tuple(_compile(term) for term in quad) for quad in quads], frozenset(iri_leaves))


def _to_rdf(document: dict[str, Any]) -> dict[str, Any]:
    """The RDF dataset of ``document`` by canon's strict processor (as :func:`canon.canonize` makes it)."""
    from pyld.context_resolver import ContextResolver

    from badgekiln.crypto import canon  # (pyld: loaded by the first shape that is not known)

    loader = canon._default_loader()
    options = {
        "base": RELATIVE_BASE,
        "documentLoader": loader,
        "contextResolver": ContextResolver(loader.context_cache, loader),
        "produceGeneralizedRdf": False,
    }
    dataset: dict[str, Any] = canon._StrictProcessor().to_rdf(document, options)
    return dataset


def _keeps_iri(value: str, terms: frozenset[str]) -> bool:
    """Whether pyld expands ``value`` to itself wherever an IRI is expected, and strictness accepts it."""
    if not _ABSOLUTE_IRI.fullmatch(value) or value.startswith(RELATIVE_BASE) or value in terms:
        return False
    prefix, suffix = value.split(":", 1)
    return suffix.startswith("//") or prefix not in terms


def _collect_terms(context: Any, terms: set[str]) -> None:
    """Add every term an inline context (or a nested scoped context) defines."""
    if isinstance(context, list):
        for item in context:
            _collect_terms(item, terms)
    elif isinstance(context, dict):
        for key, value in context.items():
            terms.add(key)
            if isinstance(value, dict) and "@context" in value:
                _collect_terms(value["@context"], terms)


def _context_terms() -> frozenset[str]:
    terms: set[str] = set()
    for document in bundled_documents().values():
        _collect_terms(document.get("@context"), terms)
    return frozenset(terms)


# The templates of the shapes every site signs on a rebuild that changes a status (the status lists
# and their proof options), made by pyld and shipped with badgekiln, so that such a rebuild does
# not load pyld (about 0.1-0.2 s). ``scripts/canon-templates.py`` writes the file;
# ``tests/crypto/test_fastcanon.py`` checks that it is what pyld makes now, and that documents of
# these shapes canonicalize through it exactly as :func:`canon.canonize` does. It names the pyld
# it was made with: with any other pyld installed (the package asks for PyLD>=3.0; the tests pin
# one), the shipped templates are not used, and literals are escaped by that pyld's own function.
# (Package data, as trusted as the code: never kept with the build's cache, which a pull request
# could poison.)
SEEDS = "data/canon-templates.json"


@functools.cache
def _seeds() -> dict[Any, _Template | set[int]]:
    """The shipped templates (and leaves to bake), by key (shape, baked strings); none unless the
    pyld they were made with is the one installed."""
    shipped = json.loads((importlib.resources.files("badgekiln") / SEEDS).read_text(encoding="utf-8"))
    if _pyld_version() != shipped["pyld"]:
        return {}
    return _parse_records(shipped["templates"])


def _parse_records(records: Any) -> dict[Any, _Template | set[int]]:
    """The templates (and leaves to bake) of JSON ``records`` as :meth:`FastCanonicalizer.made`
    writes them, by key (shape, baked strings).

    Raises:
        TypeError, ValueError, KeyError: a record of any other form.
    """
    if type(records) is not list:
        raise TypeError("not a list of records")
    parsed: dict[Any, _Template | set[int]] = {}
    for record in records:
        key = (_tuples(record["shape"]), _tuples(record["baked"]))
        hash(key)  # (a JSON object in a shape: not one this module wrote)
        if not all(
            type(pair) is tuple and len(pair) == 2 and _leaf(pair[0]) and type(pair[1]) is str for pair in key[1]
        ):
            raise ValueError("not a record's baked strings")
        if "bake" in record:
            if not all(_leaf(i) for i in record["bake"]):
                raise ValueError("not a record's leaves")
            parsed[key] = set(record["bake"])
            continue
        quads = [tuple(_tuples(term) for term in quad) for quad in record["quads"]]
        if not all(len(quad) == 3 and all(_term_ok(term) for term in quad) for quad in quads):
            raise ValueError("not a record's quads")
        if not all(_leaf(i) for i in record["iri_leaves"]):
            raise ValueError("not a record's leaves")
        parsed[key] = _Template(quads, frozenset(record["iri_leaves"]))
    return parsed


def _leaf(value: Any) -> bool:
    return type(value) is int and value >= 0


def _term_ok(term: Any) -> bool:
    """A term as :func:`_compile` makes it: N-Quads text, or (leaf, True for an IRI or a literal's suffix)."""
    if type(term) is str:
        return True
    return type(term) is tuple and len(term) == 2 and _leaf(term[0]) and (term[1] is True or type(term[1]) is str)


def _pyld_version() -> str | None:
    """The version of the pyld that ``import pyld`` loads (without importing it), or None.

    Not ``importlib.metadata.version("PyLD")``: that is the first PyLD metadata on ``sys.path``,
    and the first entry is the folder of the script that runs (a site's ``build.py``), where a
    ``PyLD-3.3.0.dist-info`` folder with no code would name a version that is not the one loaded.
    Here it is the version of the installed distribution whose files are the module found.
    """
    from importlib import metadata, util

    spec = util.find_spec("pyld")
    if spec is None or spec.origin is None:
        return None
    origin = Path(spec.origin).resolve()
    for distribution in metadata.distributions(name="PyLD"):
        if Path(str(distribution.locate_file("pyld/__init__.py"))).resolve() == origin:
            return distribution.version
    return None


def _pyld_escape() -> Callable[[str], str]:
    from pyld.nquads import escape

    return escape  # type: ignore[no-any-return]


def _tuples(value: Any) -> Any:
    """``value`` read from JSON with every list a tuple again (shapes and terms are tuples)."""
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value


_DEFAULT: FastCanonicalizer | None = None


def default() -> FastCanonicalizer:
    """This process's canonicalizer (made on first use), which :func:`canonize` uses."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = FastCanonicalizer()
    return _DEFAULT


def take_new() -> list[dict[str, Any]]:
    """:meth:`FastCanonicalizer.take_new` of this process's canonicalizer (none made: nothing)."""
    return _DEFAULT.take_new() if _DEFAULT is not None else []


def canonize(document: dict[str, Any]) -> str:
    """:func:`badgekiln.crypto.canon.canonize` ``(document)`` (bundled contexts), shapes remembered."""
    return (_DEFAULT or default()).canonize(document)


def add_proof(
    document: dict[str, Any], private_key: Ed25519PrivateKey, *, verification_method: str, created: str
) -> dict[str, Any]:
    """:func:`badgekiln.crypto.dataintegrity.add_proof`, canonicalizing through :func:`canonize`.

    The signed document is a new dict that shares ``document``'s values instead of copying them
    (the build makes each credential for one signature; a deep copy cost more than signing it).

    Raises:
        SigningError: as ``dataintegrity.add_proof`` does, with the same messages.
    """
    proof = dataintegrity.make_proof(
        document, private_key, verification_method=verification_method, created=created, canonizer=canonize
    )
    return {**document, "proof": proof}
