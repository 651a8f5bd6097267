"""badgekiln.crypto.fastcanon gives exactly canon.canonize's N-Quads (or its error), on generated documents."""

from __future__ import annotations

import collections
import copy
import json
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from badgekiln.crypto import canon, dataintegrity, fastcanon
from badgekiln.errors import SigningError, VerifyError
from badgekiln.formats import ob3
from badgekiln.formats.statuslist import status_list_credential
from badgekiln.sources.fields import url_problem

TERMS = sorted(t for t in fastcanon._context_terms() if not t.startswith("@"))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that is hard on N-Quads escaping and on JSON-LD: quotes, backslashes (also before t, n, r),
# line breaks, blank node labels, keywords, IRIs and things that look like them.
TRICKY = [
    "",
    " ",
    '"',
    "\\",
    "\\t",
    "\\n",
    "a\\tb",
    "\t",
    "\n",
    "\r\n",
    "_:b0",
    "_:c14n0",
    "@id",
    "@type",
    "@vocab",
    "urn:x",
    "https://a.example/x y",
    "https://a.example/<x>",
    "did:web:example.org",
    "mailto:a@b.c",
    "Achievement",
    "OpenBadgeCredential",
    "xsd:string",
    "schema:name",
    "id:x",
    "//host/x",
    "x/y",
    "?q",
    "#f",
    "é",
    "田中",
    "\u2028",
    "\x00",
    "\x7f",
    "\ufeff",
    "𝔘",
    "1.5",
    "true",
    "null",
]

texts = st.one_of(st.text(max_size=12), st.sampled_from(TRICKY))
absolute = st.from_regex(r"(https|http|urn|did|mailto|tag|x-y\+z\.q):[!-~]{0,24}", fullmatch=True)
term_prefixed = st.builds(lambda t, rest: f"{t}:{rest}", st.sampled_from(TERMS), st.sampled_from(["", "x", "//x/y"]))
iris = ANY_IRI = st.one_of(absolute, absolute, absolute, term_prefixed, st.sampled_from(TRICKY), st.sampled_from(TERMS))
datetimes = st.one_of(st.sampled_from(["2026-03-01T00:00:00Z", "2024-02-29T12:30:00+01:00"]), texts)


def optional(strategy):
    return st.one_of(st.none(), strategy)


@st.composite
def profiles(draw, iris=iris):
    profile = {"id": draw(iris), "type": ["Profile"], "name": draw(texts)}
    for key, strategy in (("url", iris), ("email", texts), ("description", texts), ("phone", texts)):
        if (value := draw(optional(strategy))) is not None:
            profile[key] = value
    if draw(st.booleans()):
        profile["image"] = {"id": draw(iris), "type": "Image"}
    return profile


@st.composite
def alignments(draw, iris=iris):
    data = {"type": ["Alignment"], "targetName": draw(texts), "targetUrl": draw(iris)}
    for key in ("targetCode", "targetDescription", "targetFramework"):
        if (value := draw(optional(texts))) is not None:
            data[key] = value
    return data


@st.composite
def evidence(draw, iris=iris):
    data = {"type": ["Evidence"]}
    for key, strategy in (("id", iris), ("narrative", texts), ("name", texts), ("description", texts)):
        if (value := draw(optional(strategy))) is not None:
            data[key] = value
    return data


@st.composite
def achievements(draw, iris=iris):
    data = {
        "id": draw(iris),
        "type": ["Achievement"],
        "name": draw(texts),
        "description": draw(texts),
        "criteria": {"id": draw(iris), "narrative": draw(texts)} if draw(st.booleans()) else {"narrative": draw(texts)},
        "image": {"id": draw(iris), "type": "Image"},
        "creator": draw(profiles(iris)),
    }
    if draw(st.booleans()):
        data["achievementType"] = draw(st.one_of(st.sampled_from(ob3.ACHIEVEMENT_TYPES), texts))
    if draw(st.booleans()):
        data["tag"] = draw(st.lists(st.one_of(texts, st.sampled_from(["a", "a"])), max_size=4))
    if draw(st.booleans()):
        data["alignment"] = draw(st.lists(alignments(iris), max_size=3))
    return data


@st.composite
def credentials(draw):
    """Documents of the OpenBadgeCredential shape, with optional parts present or absent.

    Most have absolute IRIs wherever IRIs go, so that most canonicalize; the rest draw IRIs from
    anything (relative references, compact IRIs, terms, blank node labels), so that most fail.
    """
    iris = draw(st.sampled_from([absolute, absolute, absolute, ANY_IRI]))
    subject = {
        "type": ["AchievementSubject"],
        "achievement": draw(achievements(iris)),
        "identifier": [
            {
                "type": "IdentityObject",
                "identityHash": draw(texts),
                "identityType": "emailAddress",
                "hashed": draw(st.booleans()),
                "salt": draw(texts),
            }
        ],
    }
    if draw(st.booleans()):
        subject["narrative"] = draw(texts)
    if draw(st.booleans()):  # badgekiln's own credentials name the subject (urn:uuid:, ob3.subject_id)
        subject["id"] = draw(iris)
    document = {
        "@context": list(ob3.CREDENTIAL_CONTEXTS),
        "id": draw(iris),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": draw(texts),
        "description": draw(texts),
        "image": {"id": draw(iris), "type": "Image"},
        "issuer": draw(profiles(iris)),
        "validFrom": draw(datetimes),
        "awardedDate": draw(datetimes),
        "credentialSubject": subject,
        "credentialSchema": [{"id": draw(iris), "type": ob3.SCHEMA_VALIDATOR_TYPE}],
    }
    if draw(st.booleans()):
        document["validUntil"] = draw(datetimes)
    if draw(st.booleans()):
        document["evidence"] = draw(st.lists(evidence(iris), max_size=3))
    if draw(st.booleans()):
        index = draw(st.one_of(st.integers(0, 10**6).map(str), texts))
        entries = [
            {
                "id": draw(iris),
                "type": "BitstringStatusListEntry",
                "statusPurpose": draw(st.sampled_from(["revocation", "suspension"])),
                "statusListIndex": index,
                "statusListCredential": draw(iris),
            }
            for _ in range(draw(st.integers(1, 2)))
        ]
        # One entry, or (as badgekiln writes) a set: revocation and suspension at the same index.
        document["credentialStatus"] = entries[0] if len(entries) == 1 and draw(st.booleans()) else entries
    return document


def outcome(canonize, document):
    """The N-Quads, or the error's type and message."""
    try:
        return canonize(copy.deepcopy(document))
    except VerifyError as e:
        return (type(e), str(e))


@pytest.fixture(scope="module")
def fast():
    return fastcanon.FastCanonicalizer()


@SETTINGS
@given(credentials())
def test_credentials_canonicalize_as_the_general_processor_does(fast, document):
    expected = outcome(canon.canonize, document)
    assert outcome(fast.canonize, document) == expected
    # Again: now from the remembered shape.
    assert outcome(fast.canonize, document) == expected


@SETTINGS
@given(credentials(), st.data())
def test_one_shape_with_other_values(fast, document, data):
    """The second document reuses the first one's shape: only its strings differ."""
    leaves: list[str] = []
    fastcanon._shape(document, leaves, set(), bake=False)
    others = iter([data.draw(st.one_of(texts, iris)) for _ in leaves])
    other = fastcanon._skeleton(document, lambda: next(others))
    assert outcome(fast.canonize, document) == outcome(canon.canonize, document)
    assert outcome(fast.canonize, other) == outcome(canon.canonize, other)


@SETTINGS
@given(st.sampled_from(["2026-01-01T00:00:00Z", "not a date"]), iris, st.sets(st.integers(0, 300_000), max_size=5))
def test_proof_options_and_status_lists(fast, created, method, revoked):
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": created,
        "verificationMethod": method,
        "proofPurpose": "assertionMethod",
        "@context": list(ob3.CREDENTIAL_CONTEXTS),
    }
    assert outcome(fast.canonize, options) == outcome(canon.canonize, options)
    config = type("Config", (), {"url": lambda self, p="": "https://b.example/" + p, "did": "did:web:b.example"})()
    status = status_list_credential(config, revoked, valid_from=created)
    assert outcome(fast.canonize, status) == outcome(canon.canonize, status)


@SETTINGS
@given(credentials())
def test_proofs_are_those_of_dataintegrity(document):
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    args = {"verification_method": "did:web:b.example#key-1", "created": "2026-03-01T00:00:00Z"}
    try:
        expected = dataintegrity.add_proof(document, key, **args)
    except SigningError as e:
        with pytest.raises(SigningError) as error:
            fastcanon.add_proof(document, key, **args)
        assert str(error.value) == str(e)
    else:
        assert fastcanon.add_proof(document, key, **args) == expected


def test_credentials_of_the_example_site_take_the_fast_path(example_credentials):
    fast = fastcanon.FastCanonicalizer()
    for document in example_credentials:
        assert fast.canonize(document) == canon.canonize(document)
    assert fast.fallbacks == 0
    assert fast.misses < len(example_credentials)  # shapes are shared


def test_templates_written_out_and_learnt_again_canonicalize_as_pyld_does(example_credentials):
    """What a build keeps of the shapes it made (engine/canoncache.py): the records of
    FastCanonicalizer.made, as JSON, taken by another canonicalizer, which then makes no shape."""
    maker = fastcanon.FastCanonicalizer()
    for document in example_credentials:
        maker.canonize(document)
    records = json.loads(json.dumps(maker.made()))
    assert records and maker.take_new() and maker.take_new() == []  # (said once)
    learner = fastcanon.FastCanonicalizer()
    assert learner.learn(records)
    for document in example_credentials:
        assert learner.canonize(document) == canon.canonize(document)
    assert learner.misses == 0 and learner.fallbacks == 0
    assert learner.take_new() == [] and json.loads(json.dumps(learner.made())) == records


@pytest.mark.parametrize(
    "damage",
    [
        lambda r: {**r, "shape": {"d": 1}},
        lambda r: {**r, "baked": [["x", "y"]]},
        lambda r: {**r, "quads": [["<a>", "<b>"]]},
        lambda r: {**r, "quads": [["<a>", "<b>", [0, 1]]]},
        lambda r: {**r, "quads": [["<a>", "<b>", [True, True]]]},
        lambda r: {**r, "iri_leaves": ["0"]},
        lambda r: {k: v for k, v in r.items() if k != "quads"},
        lambda r: [r],
    ],
)
def test_records_of_another_form_are_not_learnt(example_credentials, damage):
    maker = fastcanon.FastCanonicalizer()
    maker.canonize(example_credentials[0])
    records = json.loads(json.dumps(maker.made()))
    template = next(r for r in records if "quads" in r)
    learner = fastcanon.FastCanonicalizer()
    assert not learner.learn([*records, damage(template)])
    assert learner.made() == []  # (nothing taken: not even the records of the right form)
    assert not learner.learn("not a list") and not learner.learn(None)


def test_a_canonicalizer_that_writes_literals_by_another_pyld_learns_nothing(example_credentials):
    maker = fastcanon.FastCanonicalizer()
    maker.canonize(example_credentials[0])
    unseeded = fastcanon.FastCanonicalizer(seeded=False)  # (escapes by the installed pyld's own function)
    assert not unseeded.learn(json.loads(json.dumps(maker.made())))


def test_blank_nodes_alike_go_to_the_general_algorithm(example_credentials):
    document = copy.deepcopy(example_credentials[0])
    document["evidence"] = [{"type": ["Evidence"], "narrative": "same"}, {"type": ["Evidence"], "narrative": "same"}]
    fast = fastcanon.FastCanonicalizer()
    assert fast.canonize(document) == canon.canonize(document)
    assert fast.fallbacks == 1


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(id=("tuple", "is not JSON")),
        lambda d: d.update(extra="undefined term"),
        lambda d: d.update(id="relative/id"),
        lambda d: d["credentialSubject"]["achievement"].update(id="_:b0"),
        lambda d: d.update(name=1.5),
        lambda d: d.update({"@context": ["https://unknown.example/context"]}),
        # a term of an inline context used as an IRI's scheme: pyld expands it (the IRI is not kept)
        lambda d: d.update({"@context": [*d["@context"], {"ex": "https://ex.example/"}], "id": "ex:x"}),
        lambda d: d.update({"@context": [*d["@context"], {"ex": "https://ex.example/"}]}),
        lambda d: d.update(issuer=collections.OrderedDict(d["issuer"])),
    ],
    ids=[
        "tuple",
        "undefined-term",
        "relative-id",
        "blank-node-id",
        "number",
        "unknown-context",
        "inline-term-iri",
        "inline-context",
        "dict-subclass",
    ],
)
def test_other_documents_are_left_to_the_general_processor(example_credentials, change):
    document = copy.deepcopy(example_credentials[0])
    change(document)
    fast = fastcanon.FastCanonicalizer()
    try:
        expected = canon.canonize(document)
    except (VerifyError, TypeError) as e:
        with pytest.raises(type(e)) as error:
            fast.canonize(document)
        assert str(error.value) == str(e)
    else:
        assert fast.canonize(document) == expected


@pytest.fixture(scope="module")
def example_credentials(tmp_path_factory):
    """The unsigned credentials (and proof options) of the example site, built once."""
    from badgekiln.cli import main

    repo = Path(__file__).resolve().parents[2]
    work = tmp_path_factory.mktemp("fastcanon")
    root = work / "site"
    for name in ("site_src", "badges", "recipients"):
        shutil.copytree(repo / name, root / name)
    with pytest.MonkeyPatch.context() as env:  # keys stay out of the developer's folders
        env.setenv("XDG_CACHE_HOME", str(work / "xdg-cache"))
        env.setenv("BADGEKILN_KEYS_DIR", str(work / "keys"))
        env.delenv("BADGEKILN_PRIVATE_KEYS", raising=False)
        try:
            main(["build", "--source", str(root), "--today", "2026-11-22"])
        except SystemExit as exit_:
            assert not exit_.code
    documents = []
    for path in sorted((root / "output/awards").glob("*/credential.json")):
        credential = json.loads(path.read_text(encoding="utf-8"))
        proof = credential.pop("proof")[0]
        documents.append(credential)
        documents.append({**{k: v for k, v in proof.items() if k != "proofValue"}, "@context": credential["@context"]})
    return documents


def test_the_build_signer_signs_as_the_signer_does(example_credentials):
    from badgekiln.engine.workers import FastSigner
    from badgekiln.signing.keys import Keyring
    from badgekiln.signing.signer import Signer

    signer = Signer(Keyring(records=(), private={"k": Ed25519PrivateKey.from_private_bytes(bytes(range(32)))}))
    fast = FastSigner.of(signer)
    args = {"verification_method": "did:web:b.example#k", "created": "2026-03-01T00:00:00Z"}
    for document in example_credentials[::2]:
        assert fast.add_proof(document, "k", **args) == signer.add_proof(document, "k", **args)


# -- the shipped templates (data/canon-templates.json): a status change signs without pyld --------


def test_the_shipped_templates_are_what_pyld_makes_now():
    from support.canonseeds import SEEDS, seed_text

    assert SEEDS.read_text(encoding="utf-8") == seed_text(), "run python3 scripts/canon-templates.py and review"


def test_the_shipped_templates_cover_the_status_lists_and_their_proofs():
    from support.canonseeds import seeded_documents

    seeded = fastcanon.FastCanonicalizer()
    for document, options in seeded_documents():
        dataintegrity.hash_data(document, options, canonizer=seeded.canonize)
    assert seeded.hits >= 4 and seeded.misses == 0 and seeded.fallbacks == 0  # (not one shape made by pyld)


sites = st.one_of(
    st.sampled_from(["https://b.example/", "https://org.github.io/badges/", "http://localhost:8000/x%20y/"]),
    st.builds(
        lambda host, path: f"https://{host}/{path}",
        st.from_regex(r"[a-z0-9.-]{1,20}(:[0-9]{1,5})?", fullmatch=True),
        st.from_regex(r"([a-z0-9~%-]{1,8}/){0,3}", fullmatch=True),
    ),
)


# Sites whose URL holds what the build accepts beyond ASCII (fields.url_problem decides): letters
# and marks of any script, digits, and the sub-delimiters RFC 3986 allows in a path (a review
# asked for them: the strategy above is ASCII only).
unicode_sites = st.builds(
    lambda host, path: f"https://{host}/{path}/",
    st.sampled_from(["b.example", "xn--caf-dma.example", "b.example:8443"]),
    st.text(
        st.one_of(
            st.characters(categories=("L", "M", "N"), exclude_characters="\u061c"),
            st.sampled_from(list("~!$&'()*+,;=:@-._%")),
        ),
        min_size=1,
        max_size=12,
    ),
).filter(lambda url: url_problem(url) is None)


def _site_config(url, did):
    return type("Config", (), {"url": lambda self, p="": url + p, "did": did})()


@SETTINGS
@given(
    st.sampled_from(["2026-01-01T00:00:00Z", "2026-11-20T00:00:00+01:00", "not a date"]),
    iris,
    st.sampled_from(["revocation", "suspension"]),
    st.sets(st.integers(0, 300_000), max_size=5),
    st.one_of(sites, unicode_sites),
    st.one_of(absolute, st.sampled_from(["did:web:b.example", "did:web:b.example:sub%20path"])),
)
def test_a_status_list_through_the_shipped_templates_is_what_the_general_processor_gives(
    created, method, purpose, revoked, url, did
):
    """Any site's values in the shapes the templates were made for: the same N-Quads (or, for
    values pyld would not keep as they are, the same as the general processor by pyld)."""
    status = status_list_credential(_site_config(url, did), revoked, valid_from=created, purpose=purpose)
    options = {  # (as dataintegrity.proof_options makes them, without its check of 'created')
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": created,
        "verificationMethod": method,
        "proofPurpose": "assertionMethod",
        "@context": status["@context"],
    }
    for document in (status, options):
        assert outcome(fastcanon.FastCanonicalizer().canonize, document) == outcome(canon.canonize, document)


@SETTINGS
@given(st.sampled_from(["revocation", "suspension"]), st.sets(st.integers(0, 300_000), max_size=5), sites)
def test_a_sites_status_lists_are_signed_through_the_shipped_templates_alone(purpose, revoked, url):
    """Well-formed values (an https site, its did:web, a key id): no shape is made by pyld."""
    host = url.split("/")[2].replace(":", "%3A")
    did = "did:web:" + host + "".join(":" + part for part in url.split("/")[3:] if part)
    status = status_list_credential(_site_config(url, did), revoked, valid_from="2026-11-20T00:00:00Z", purpose=purpose)
    options = dataintegrity.proof_options(
        verification_method=did + "#2026-11-22-ed25519-abcdef", created="2026-11-20T00:00:00Z"
    )
    seeded = fastcanon.FastCanonicalizer()
    dataintegrity.hash_data(status, options, canonizer=seeded.canonize)
    assert (seeded.misses, seeded.fallbacks) == (0, 0)


def test_with_another_pyld_the_shipped_templates_are_not_used(monkeypatch):
    """They are pyld 3.3.0's (the file says which): another pyld may write N-Quads otherwise, so
    with it every shape is made by that pyld and literals are escaped by its own function."""
    monkeypatch.setattr(fastcanon, "_pyld_version", lambda: "9.9.9")
    fastcanon._seeds.cache_clear()
    try:
        other = fastcanon.FastCanonicalizer()
        assert fastcanon._seeds() == {} and other._escape is not fastcanon.nquads.escape
        monkeypatch.undo()
        fastcanon._seeds.cache_clear()
        assert fastcanon._seeds() and fastcanon.FastCanonicalizer()._escape is fastcanon.nquads.escape
    finally:
        fastcanon._seeds.cache_clear()


@pytest.mark.parametrize("claimed", ["9.9.9", "0.0.1"])
def test_the_pyld_version_is_the_loaded_modules_not_metadata_found_first(tmp_path, monkeypatch, claimed):
    """A PyLD-<version>.dist-info folder without code, first on sys.path (where a site's build.py
    runs from), names no pyld that is loaded: the version is the one of the distribution whose
    files are the module ``import pyld`` finds (a review found the first metadata decided)."""
    from importlib import metadata

    installed = metadata.version("PyLD")
    fake = tmp_path / f"PyLD-{claimed}.dist-info"
    fake.mkdir()
    (fake / "METADATA").write_text(f"Metadata-Version: 2.1\nName: PyLD\nVersion: {claimed}\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert metadata.version("PyLD") == claimed  # (what the gate read before)
    assert fastcanon._pyld_version() == installed


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.sampled_from(TRICKY)))
def test_literals_are_escaped_as_pyld_escapes_them(text):
    from pyld.nquads import escape

    from badgekiln.crypto import nquads

    assert nquads.escape(text) == escape(text)


@pytest.mark.parametrize("forked", [False, True], ids=["here", "in workers"])
def test_a_rebuild_that_changes_a_status_does_not_load_pyld(tmp_path, forked):
    """Revoking an award signs the status lists again, and nothing else: through the shipped
    templates, without loading pyld (about 0.1-0.2 s of every such rebuild); also when the
    groups to make are many and made by forked workers (a members.csv lapsing hundreds of awards),
    which then inherit only what the units to make preload (Unit.preload)."""
    import os
    import subprocess
    import sys

    from conftest import copy_example

    site = copy_example(tmp_path / "site")
    probe = (
        "import sys\nfrom badgekiln.cli import main\nfrom badgekiln.engine import workers\n"
        + ("workers.MIN_PARALLEL = 1\n" if forked else "")
        + "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n"
        "    assert not e.code, e.code\nprint('pyld' in sys.modules)\n"
    )
    command = [sys.executable, "-c", probe, "build", "--source", str(site), "--today", "2026-11-22"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "BADGEKILN_JOBS": "2"}
    first = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    assert first.stdout.strip().endswith("True")  # (a first build signs every credential: pyld makes their shapes)
    path = site / "recipients/jane-doe.yaml"
    text = path.read_text(encoding="utf-8")
    anchor = "    badge: confined-space-entry\n    issued_on: 2026-04-14\n"
    assert anchor in text
    path.write_text(
        text.replace(anchor, anchor + "    revoked:\n      on: 2026-06-01\n      reason: Issued in error\n")
    )
    revoked = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    assert "1 revoked" in revoked.stdout
    assert revoked.stdout.strip().endswith("False"), revoked.stdout + revoked.stderr
    status = json.loads((site / "output/status/revocation.json").read_text(encoding="utf-8"))
    assert status["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"  # (signed: checked by the verifiers' tests)
