"""Findings of a hostile review of the incremental build engine (cache, codec, unit keys), each
reproduced: every test here fails without its fix."""

from __future__ import annotations

import hashlib
import importlib
import json
import shutil
import sys
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import pytest
from conftest import TODAY, build, copy_example, edit_record_texts, tree_bytes, write_site

from badgekiln import outputs
from badgekiln.engine import cache as cache_mod
from badgekiln.engine import codec as cachecodec
from badgekiln.engine.cache import BuildCache
from badgekiln.errors import Diagnostic, SourceLocation
from badgekiln.outputs import FileSpec, Unit
from badgekiln.signing.secretscan import Secret
from badgekiln.sources import validate


def _clean_twin(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True, ignore=shutil.ignore_patterns(".badgekiln", "output"))
    return dst


def _state(site: Path) -> dict:
    return json.loads((site / ".badgekiln/cache/state.json").read_text())


def _load(site: Path, today: str = TODAY) -> BuildCache:
    cache = BuildCache.open(site, site / "output")
    cache.load_project(site, base_url=None, today=date.fromisoformat(today))
    cache.save()
    cache.close()
    return cache


# -- 1. a file saved while the build validates it ------------------------------------------------


def test_artwork_saved_during_validation_is_not_trusted_later(example_site, run, monkeypatch):
    build(run, example_site)
    art = example_site / "site_src/assets/badges/pipefitting-mji10.svg"
    evil = art.read_bytes().replace(b"</svg>", b"<script>alert(1)</script></svg>")
    real = validate._check_image

    def check_then_save(source, rel, where, diagnostics):
        checked = real(source, rel, where, diagnostics)
        if rel.endswith("pipefitting-mji10.svg"):
            art.write_bytes(evil)  # the editor saves while the build validates
        return checked

    monkeypatch.setattr(validate, "_check_image", check_then_save)
    badge = example_site / "badges/pipefitting-mji10.yaml"
    badge.write_text(badge.read_text() + "\n")
    _load(example_site)
    monkeypatch.setattr(validate, "_check_image", real)
    result = run("build", "--source", str(example_site), "--today", TODAY)
    assert result.code != 0 and "unsafe-svg" in result.err  # the memo holds the sha of the bytes checked


def test_a_badge_file_saved_between_hashing_and_validation_is_not_kept(example_site, run, monkeypatch):
    build(run, example_site)
    badge = example_site / "badges/pipefitting-mji10.yaml"
    original = badge.read_text()
    name = next(line for line in original.splitlines() if line.startswith("name:"))
    edited = original.replace(name, "name: Renamed While Validating")
    real = validate._badge_file

    def save_then_validate(source, path):
        if path == badge:
            badge.write_text(edited)  # saved after files() hashed the old bytes
        return real(source, path)

    monkeypatch.setattr(validate, "_badge_file", save_then_validate)
    badge.write_text(original + "\n")  # (changed, so that it is validated)
    _load(example_site)
    monkeypatch.setattr(validate, "_badge_file", real)
    assert "badges/pipefitting-mji10.yaml" not in _state(example_site)["sources"]
    badge.write_text(original + "\n")  # back to the bytes that were hashed: the edited result must not come back
    build(run, example_site)
    pages = b"".join(tree_bytes(example_site / "output").values())
    assert b"Renamed While Validating" not in pages


# -- 2. the codec checks the items of tuples; every read of a record is guarded ------------------

REC = "recipients/zofia-wisniewska.yaml"


def _damage(state: dict, texts: dict, damage: str) -> None:
    """Damage the state (or the record texts of its shard files, ``texts``) as ``damage`` says; a
    damaged text is read whole (its summary gone: engine/views.py would read it only when needed)."""
    if damage == "sources-is-list":
        state["sources"] = []
        return
    if damage == "cut-envelope":
        state["sources"][REC] = state["sources"][REC][:1]
        return
    state["sources"][REC][7] = None
    result = json.loads(texts[REC])  # ["§FileResult", values, diagnostics, reads, latest_day], as a text of its own
    recipient = result[1][1]  # ["§Recipient", slug, name, email, show_name, awards, location]
    if damage == "award-is-evidence":
        recipient[5][1] = ["§Evidence", None, "n", None, None]
    elif damage == "award-is-text":
        recipient[5][1] = "not an award"
    elif damage == "tag-is-number":
        recipient[5][1][7] = ["§t", ["§Evidence", None, "n", None, None], 5]  # evidence items
    elif damage == "value-is-evidence":
        result[1][1] = ["§Evidence", None, "n", None, None]
    elif damage == "value-is-badge-class":  # a badge class where a recipient belongs
        result[1][1] = json.loads(state["sources"]["badges/pipefitting-mji10.yaml"][1])[1][1]  # (in the state)
    elif damage == "diagnostic-is-text":
        result[2] = ["§t", "a diagnostic"]
    elif damage == "reads-cut-short":
        result[3] = ["§t", ["§t", "site_src/x"]]
    elif damage == "deep-item":  # loads as JSON, too deep to decode
        recipient[5] = "DEEP"
    elif damage == "result-not-json":
        texts[REC] = "[" * 100000 + "]" * 100000
        return
    texts[REC] = json.dumps(result).replace('"DEEP"', '["\\u00a7t",' * 900 + '"x"' + "]" * 900)


@pytest.mark.parametrize(
    "damage",
    [
        "award-is-evidence",
        "award-is-text",
        "tag-is-number",
        "value-is-evidence",
        "value-is-badge-class",
        "diagnostic-is-text",
        "reads-cut-short",
        "deep-item",
        "result-not-json",
        "sources-is-list",
        "cut-envelope",
        "deep-nesting",
    ],
)
def test_a_damaged_state_is_validated_again(example_site, run, damage):
    build(run, example_site)
    clean = tree_bytes(example_site / "output")
    path = example_site / ".badgekiln/cache/state.json"
    if damage == "deep-nesting":
        path.write_text("[" * 100000 + "]" * 100000)
    else:
        texts: list[dict] = []  # (the dict that is written back, damaged in place)
        edit_record_texts(path.parent, texts.append, lambda state: _damage(state, texts[0], damage))
    result = run("build", "--source", str(example_site), "--today", TODAY)
    assert result.code == 0, result.err  # no AttributeError or TypeError traceback
    assert tree_bytes(example_site / "output") == clean


def test_decode_checks_the_items_of_tuples():
    where = SourceLocation("recipients/x.yaml", 1, 1)
    good = validate.FileResult((), (Diagnostic("warning", "w", "m", where, None),), (("site_src/a.svg", "ab"),))
    assert cachecodec.decode(cachecodec.encode(good)) == good
    for bad in (
        validate.FileResult((), ("text",)),
        validate.FileResult(("text",), ()),
        validate.FileResult((), (), (("site_src/a.svg",),)),
        validate.FileResult((), (), (("a", 5),)),
        validate.FileResult((), (), ("site_src/a.svg",)),
    ):
        with pytest.raises(TypeError):
            cachecodec.decode(cachecodec.encode(bad))


@pytest.mark.parametrize(
    "record",
    [
        ["k"],
        ["k", [], "2026-01-01"],
        ["k", [], "2026-01-01", None, 5],
        ["k", [], "2026-01-01", None, [["site_src/a"]]],
        "k",
        None,
        7,
        ["k", "§", "2026-01-01", None, []],
    ],
)
def test_every_read_of_a_kept_record_is_guarded(tmp_path, record):
    assert cache_mod._reuse(record, "k", "2026-01-01", tmp_path, cache_mod.models.Recipient) is None


# -- 3. hidden templates are ignored; linked folders refused ---------------------------------------


def _base_with_include(name: str) -> str:
    base = (resources.files("badgekiln.pages") / "templates/base.html").read_text()
    return base.replace("</body>", '{% include "' + name + '" %}</body>')


def test_a_template_in_a_hidden_folder_is_not_served(example_site, run):
    write_site(
        example_site,
        {
            "templates/base.html": _base_with_include(".partials/foot.html"),
            "templates/.partials/foot.html": "<p>v1</p>\n",
        },
    )
    result = run("build", "--source", str(example_site), "--today", TODAY)
    assert result.code != 0 and ".partials/foot.html" in result.err  # ignored, as README says: not found
    assert not (example_site / "output").exists()


def test_a_hidden_template_file_is_not_served_and_not_part_of_the_keys(example_site, run):
    write_site(example_site, {"templates/.foot.html": "<p>v1</p>\n"})
    build(run, example_site)
    (example_site / "templates/.foot.html").write_text("<p>v2</p>\n")
    assert "(0 written" in build(run, example_site).out  # ignored: editing it changes nothing
    write_site(example_site, {"templates/base.html": _base_with_include(".foot.html")})
    result = run("build", "--source", str(example_site), "--today", TODAY)
    assert result.code != 0 and ".foot.html" in result.err


def test_a_linked_templates_folder_is_refused(tmp_path, run):
    site = copy_example(tmp_path / "site")
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "foot.html").write_text("<p>v1</p>\n")
    (site / "templates").mkdir(exist_ok=True)
    (site / "templates/shared").symlink_to(shared)
    write_site(site, {"templates/base.html": _base_with_include("shared/foot.html")})
    result = run("build", "--source", str(site), "--today", TODAY)
    assert result.code != 0 and "templates/shared" in result.err and "symbolic link" in result.err


# -- 4. units from outside the package ------------------------------------------------------------

UNIT_MODULE = """
from badgekiln.formats import urls
from badgekiln.outputs import FileSpec, Unit


def produce(plan, inputs, renderer, item):
    recipient, award = item
    plan.add(urls.award_dir(award.id) + "note.txt", b"VERSION\\n")


UNIT = Unit("note", "award", (FileSpec("awards/{id}/note.txt", "text/plain", rel="alternate", title="LINKTITLE"),),
            reads=("award",), produce=produce)
"""


def _with_unit_module(folder: Path, version: str, title: str, run, site: Path) -> None:
    (folder / "note.py").write_text(UNIT_MODULE.replace("VERSION", version).replace("LINKTITLE", title))
    shutil.rmtree(folder / "__pycache__", ignore_errors=True)  # (a .pyc of the same second and size would be used)
    sys.modules.pop("badgekiln.outputs.note", None)
    importlib.invalidate_caches()
    with pytest.MonkeyPatch.context() as patch:  # (its own: undoing the test's would change its key folders)
        patch.setattr(outputs, "__path__", [*outputs.__path__, str(folder)])
        outputs.rediscover()
        try:
            build(run, site)
        finally:
            patch.undo()
            outputs.rediscover()
            sys.modules.pop("badgekiln.outputs.note", None)


@pytest.mark.parametrize("change", ["its-code", "its-links"])
def test_a_unit_from_outside_the_package_that_changes_remakes_its_files(tmp_path, run, change):
    folder = tmp_path / "more_outputs"
    folder.mkdir()
    site = copy_example(tmp_path / "site")
    _with_unit_module(folder, "one", "Note", run, site)
    second = ("second", "Note") if change == "its-code" else ("one", "Note, renamed")
    _with_unit_module(folder, *second, run, site)
    twin = _clean_twin(site, tmp_path / "twin")
    _with_unit_module(folder, *second, run, twin)
    made = tree_bytes(site / "output")
    assert made == tree_bytes(twin / "output")
    notes = {content for rel, content in made.items() if rel.endswith("note.txt")}
    assert notes == {second[0].encode() + b"\n"}
    assert any(second[1].encode() in content for rel, content in made.items() if rel.endswith("index.html"))


def test_a_registered_unit_with_links_changes_the_award_pages(tmp_path, run):
    site = copy_example(tmp_path / "site")
    build(run, site)

    def produce(plan, inputs, renderer, item):
        plan.add(f"awards/{item[1].id}/extra.txt", b"extra\n")

    unit = outputs.register(
        Unit(
            "extra",
            "award",
            (FileSpec("awards/{id}/extra.txt", "text/plain", rel="alternate", title="Extra"),),
            reads=("award",),
            produce=produce,
        )
    )
    try:
        build(run, site)
        twin = _clean_twin(site, tmp_path / "twin")
        build(run, twin)
    finally:
        outputs.unregister(unit)
    assert tree_bytes(site / "output") == tree_bytes(twin / "output")


# -- 5. tinycss2's version; dates not compared with today ----------------------------------------


def test_tinycss2_version_is_part_of_the_code_fingerprint():
    before = cache_mod.code_fingerprint()
    real = cache_mod.metadata.version
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(cache_mod.metadata, "version", lambda name: "0.0.1" if name == "tinycss2" else real(name))
            cache_mod.code_fingerprint.cache_clear()
            assert cache_mod.code_fingerprint() != before
    finally:
        cache_mod.code_fingerprint.cache_clear()
    assert cache_mod.code_fingerprint() == before


def test_an_expiry_date_does_not_stop_reuse_the_next_day(minimal_site):
    recipient = next((minimal_site / "recipients").glob("*.yaml"))
    text = recipient.read_text()
    assert "expires" not in text
    later = (date.fromisoformat(TODAY) + timedelta(days=300)).isoformat()
    recipient.write_text(text.replace("issued_on: 2026-01-15", f"issued_on: 2026-01-15\n    expires: {later}"))
    _load(minimal_site)
    next_day = (date.fromisoformat(TODAY) + timedelta(days=1)).isoformat()
    assert _load(minimal_site, next_day).stats.get("recipients_reused") == 1


# -- 6. the secrets are part of every key ---------------------------------------------------------


def test_a_new_secret_rescans_every_file(minimal_site, run, monkeypatch):
    build(run, minimal_site)
    monkeypatch.setenv("BADGEKILN_SMTP_PASSWORD", "First Badge")  # a weak password the pages happen to hold
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code != 0 and "BADGEKILN_SMTP_PASSWORD" in result.err  # reused files were scanned again


def test_the_secrets_digest_is_scrypt_of_every_secret():
    from badgekiln.engine.keys import secrets_digest

    one = [Secret("$BADGEKILN_SMTP_PASSWORD", b"hunter22")]
    assert secrets_digest(one) != secrets_digest([Secret("$BADGEKILN_SMTP_PASSWORD", b"hunter23")])
    assert secrets_digest(one) != secrets_digest([*one, Secret("a private key", b"\1" * 32, binary=True)])
    assert secrets_digest(one) not in (hashlib.sha256(b"hunter22").hexdigest(),)


def test_only_texts_pay_for_scrypt(monkeypatch):
    """Key numbers are too long to guess: SHA-256 does for them, and a build with no password
    pays no scrypt; a password (which may be weak) always goes through scrypt."""
    from badgekiln.engine import keys

    key = Secret("a private key", b"\1" * 32, binary=True)
    other = Secret("a private key", b"\2" * 32, binary=True)
    password = Secret("$BADGEKILN_SMTP_PASSWORD", b"hunter22")
    with_password = keys.secrets_digest([key, password])
    calls = []
    real = hashlib.scrypt
    monkeypatch.setattr(keys.hashlib, "scrypt", lambda *a, **k: calls.append(a) or real(*a, **k))
    assert keys.secrets_digest([key]) != keys.secrets_digest([other])
    assert calls == []
    assert keys.secrets_digest([key, password]) == with_password
    assert len(calls) == 1 and b"hunter22" in calls[0][0] and b"\1" * 32 not in calls[0][0]
