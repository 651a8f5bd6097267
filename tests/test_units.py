"""Output units: every file is declared by the unit that makes it, a unit's key covers every input
that changes its bytes, an edit remakes exactly the units that read it, and a new output is one
new module."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
from conftest import TODAY, build, cli_code, copy_example, write_site
from test_incremental import (
    _add_award,
    _edit_badge,
    _edit_page,
    _edit_template,
    _hide_name,
    _rename_earner,
    _revoke,
    _suspend,
    append,
    edit,
)

import badgekiln.outputs as outputs
from badgekiln.commands.build import prepare
from badgekiln.engine import workers as parallel
from badgekiln.engine.cache import recorded_groups
from badgekiln.engine.keys import UnitKeys
from badgekiln.engine.site import SitePlan
from badgekiln.formats import hosting
from badgekiln.outputs import BuildInputs, FileSpec, Unit
from badgekiln.pages.render import Renderer
from badgekiln.sources.config import source_paths


def groups(site_dir: Path, today: date) -> dict[str, tuple[str, dict[str, bytes]]]:
    """Every group of the site's build: name -> (key, {path: bytes}), made without a cache."""
    prepared = prepare(site_dir, base_url=None, today=today, frozen=False)
    renderer = Renderer(source_paths(site_dir)["templates"])
    inputs = BuildInputs(
        config=prepared.loaded.config,
        project=prepared.loaded.project,
        ledger=prepared.ledger,
        signer=prepared.signer,
        source=site_dir.resolve(),
        today=today,
    )
    keys = UnitKeys(inputs, renderer)
    found: dict[str, tuple[str, dict[str, bytes]]] = {}

    def make(unit: Unit, name: str, key: str, item) -> None:
        plan = SitePlan()
        parallel._produce(plan, unit, inputs, renderer, item)
        found[name] = key, dict(plan.files)

    for unit in outputs.units():
        if unit.scope == "site":
            make(unit, unit.name, keys.site(unit), None)
        elif unit.scope == "badge":
            for badge in inputs.project.badges.values():
                make(unit, f"{unit.name}/{badge.slug}", keys.badge(unit, badge), badge)
        else:
            for recipient in inputs.project.recipients:
                for index, award in enumerate(recipient.awards):
                    make(
                        unit,
                        f"award/{award.id}/{unit.name}",
                        keys.award(unit, keys.award_parts(recipient, index)),
                        (recipient, award),
                    )
    # Each recipient file's bundle (the groups of its awards, kept whole by a rebuild when its key
    # is unchanged): its "files" are all of theirs, so the checks below hold it to the same rule.
    # (Its record stands for the file's bytes alone: a real record also changes with the day it
    # was validated on, which makes its key change more often, never less.)
    for recipient in inputs.project.recipients:
        record = hashlib.sha256((site_dir / recipient.location.path).read_bytes()).hexdigest()
        files = {
            f"{name}:{rel}": data
            for name, (_, made) in found.items()
            if name.startswith("award/") and name.split("/")[1] in {a.id for a in recipient.awards}
            for rel, data in made.items()
        }
        found[f"bundle/{recipient.location.path}"] = keys.bundle(recipient, record), files
    return found


def test_every_published_file_is_declared_by_exactly_one_unit(example_site, run):
    build(run, example_site)
    every = outputs.units()
    for path in (example_site / "output").rglob("*"):
        rel = path.relative_to(example_site / "output").as_posix()
        if path.is_file() and rel != ".badgekiln-site":
            assert [u.name for u in every if u.declares(rel)], rel
    for unit in every:
        assert unit.files and set(unit.reads) <= outputs.READS.keys()


def test_declared_media_types_agree_with_what_the_host_is_told():
    for unit in outputs.units():
        for spec in unit.files:
            suffix = "." + spec.path.rsplit(".", 1)[-1]
            if suffix in hosting.CONTENT_TYPES and "{ext}" not in spec.path:
                served = hosting.CONTENT_TYPES[suffix].split(";")[0]
                assert spec.media_type == served or suffix == ".json", (unit.name, spec)


def _edit_narrative(site_dir: Path) -> None:
    edit(
        site_dir / "recipients/jane-doe.yaml", "issued_on: 2026-04-14\n", "issued_on: 2026-04-14\n    narrative: New.\n"
    )


def _accent(site_dir: Path) -> None:
    edit(site_dir / "site_src/site.yaml", 'accent_color: "#1f5f8b"', 'accent_color: "#b03a2e"')


def _title(site_dir: Path) -> None:
    edit(site_dir / "site_src/site.yaml", "title: Northwind Training badges", "title: Another title")


def _artwork(site_dir: Path) -> None:
    art = next(p for p in (site_dir / "site_src/assets/badges").glob("*.svg"))
    art.write_bytes(art.read_bytes().replace(b"</svg>", b'<circle cx="1" cy="1" r="1"/></svg>'))


def _site_css(site_dir: Path) -> None:
    (site_dir / "site_src/assets/site.css").write_text("body { margin: 0; }\n")


def _footer(site_dir: Path) -> None:
    edit(site_dir / "site_src/site.yaml", "footer: Northwind Training Ltd, Teesside.", "footer: Another footer.")


def _signatory(site_dir: Path) -> None:
    edit(site_dir / "site_src/site.yaml", "title: Head of Assessment", "title: Director of Assessment")


def _production_keys(site_dir: Path) -> None:  # (the preview banner leaves every page)
    assert cli_code("keys", "generate", "--source", str(site_dir), "--today", TODAY) == 0


def _home_template(site_dir: Path) -> None:
    write_site(
        site_dir,
        {
            "templates/index.html": "{% extends '!builtin/index.html' %}{% block main %}<p>Hi.</p>{{ super() }}{% endblock %}"
        },
    )


def _base_template(site_dir: Path) -> None:  # (every page extends it)
    write_site(
        site_dir,
        {
            "templates/base.html": "{% extends '!builtin/base.html' %}{% block head %}{{ super() }}<meta name=x>{% endblock %}"
        },
    )


def _check_template(site_dir: Path) -> None:  # (its own unit since session 41: the site pages' key did not read it)
    write_site(
        site_dir,
        {
            "templates/check.html": "{% extends '!builtin/check.html' %}{% block main %}<p>Hi.</p>{{ super() }}{% endblock %}"
        },
    )


def _included_template(site_dir: Path) -> None:  # (award.html and badge.html include it)
    write_site(site_dir, {"templates/_endorsements.html": "<p>Endorsed by all.</p>"})


def _renew(site_dir: Path) -> None:
    append(
        site_dir / "recipients/jane-doe.yaml",
        "  - id: jane-renewal-1\n    badge: confined-space-entry\n    issued_on: 2026-10-01\n    renews: k3v8n0d2rt\n",
    )


EDITS = {
    "narrative": _edit_narrative,
    "revoke": _revoke,
    "suspend": _suspend,
    "add an award": _add_award,
    "badge class": _edit_badge,
    "template": _edit_template,
    "earner's name": _rename_earner,
    "hidden name": _hide_name,
    "extra page": _edit_page,
    "accent colour": _accent,
    "site title": _title,
    "artwork": _artwork,
    "a published asset": _site_css,
    "renewal": _renew,
    "footer": _footer,
    "signatory": _signatory,
    "home page's template": _home_template,
    "check page's template": _check_template,
    "base template": _base_template,
    "included template": _included_template,
    "production keys": _production_keys,
}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    # A module fixture runs before the autouse key isolation of conftest: isolate it the same way
    # (the session's development keys), or every signed unit's key would differ from the tests'.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))
        patch.setenv("BADGEKILN_KEYS_DIR", str(tmp_path_factory.mktemp("baseline-keys")))
        patch.delenv("BADGEKILN_PRIVATE_KEYS", raising=False)
        site_dir = copy_example(tmp_path_factory.mktemp("units") / "site")
        return site_dir, groups(site_dir, date.fromisoformat(TODAY))


def _changes(before, after) -> tuple[set[str], set[str]]:
    """The groups whose key changed, and those whose bytes changed (new groups count as both)."""
    keys = {name for name in after if name not in before or before[name][0] != after[name][0]}
    made = {name for name in after if name not in before or before[name][1] != after[name][1]}
    return keys, made


@pytest.mark.parametrize("name", sorted(EDITS))
def test_an_input_that_changes_a_units_bytes_changes_its_key(baseline, tmp_path, name):
    site_dir, before = baseline
    edited = copy_example(tmp_path / "site")
    EDITS[name](edited)
    keys, made = _changes(before, groups(edited, date.fromisoformat(TODAY)))
    assert made, "the edit changed no file: the test would prove nothing"
    assert made <= keys, f"bytes changed under an unchanged key: {sorted(made - keys)}"
    if name in ("narrative", "revoke", "suspend", "earner's name", "hidden name"):  # one award's business
        assert len({group.split("/")[1] for group in keys if group.startswith("award/")}) == 1, sorted(keys)


def test_the_day_changes_the_keys_of_exactly_the_pages_whose_status_changes(tmp_path, run):
    site_dir = copy_example(tmp_path / "site")
    assert run("keys", "generate", "--source", str(site_dir), "--today", "2026-01-01").code == 0  # (not dated keys)
    before = groups(site_dir, date.fromisoformat(TODAY))
    later = groups(site_dir, date(2031, 1, 1))  # awards of the example have expired by then
    keys, made = _changes(before, later)
    assert made and made <= keys
    assert keys == made, sorted(keys ^ made)
    # the page and the share card (its status band) of each award that expired meanwhile, and the
    # portfolio that lists its earner's valid awards
    assert {name.rsplit("/", 1)[-1] for name in keys if not name.startswith("bundle/")} == {
        "award-page",
        "award-share-card",
        "portfolio",
    }


@pytest.mark.parametrize(
    "name, expected",
    [
        ("narrative", {"ob2-assertion", "ob3-credential", "award-page", "award-share-card"}),
        # (the OB 3.0 credential states no revocation or suspension, the status lists do: it keeps
        # its bytes and is not signed again)
        # (and the home page: its catalogue counts the awards held, a revoked one not)
        (
            "revoke",
            {"ob2-assertion", "award-page", "award-share-card", "status-list", "revocation-list", "site-pages"},
        ),
        ("suspend", {"ob2-assertion", "award-page", "award-share-card", "status-list", "revocation-list"}),
        (
            "add an award",
            {
                "ob2-assertion",
                "ob3-credential",
                "award-page",
                "award-share-card",
                "status-list",
                "revocation-list",
                "site-pages",
            },
        ),
    ],
)
def test_an_edit_remakes_exactly_the_units_that_read_it(baseline, tmp_path, run, name, expected):
    site_dir = copy_example(tmp_path / "site")
    build(run, site_dir)
    EDITS[name](site_dir)
    build(run, site_dir)
    state = recorded_groups(site_dir / ".badgekiln/cache")
    first = copy_example(tmp_path / "first")
    build(run, first)
    old = recorded_groups(first / ".badgekiln/cache")
    remade = {group for group, (key, _) in state.items() if group not in old or old[group][0] != key}
    assert {group.rsplit("/", 1)[-1] for group in remade} == expected
    awards = {group.split("/")[1] for group in remade if group.startswith("award/")}
    assert len(awards) == 1  # one award's units, not its neighbours'


# The units that show nothing of the keys but the preview banner (they read "development-keys")
BANNER_ONLY = {"badge-class", "check-page", "pathway-page", "portfolio", "site-pages"}


def _kind(group: str) -> str:
    """The unit a group's name is of: award/<id>/<unit>, <unit>/<slug> or <unit>."""
    return group.rsplit("/", 1)[-1] if group.startswith("award/") else group.split("/")[0]


def test_a_retired_key_remakes_no_page_but_the_awards(tmp_path, run):
    """(these pages read the whole "signing" part for the banner, session 42: retiring a key,
    which changes no page's bytes but an award's, made them all again. A new key, generated or
    rotated, changes every unit's key anyway: the output scan looks for one more secret.)"""
    site_dir = copy_example(tmp_path / "site")
    assert run("keys", "generate", "--source", str(site_dir), "--today", TODAY).code == 0
    first = {path.stem for path in (site_dir / "site_src/keys").glob("*.yaml")}
    assert run("keys", "rotate", "--source", str(site_dir), "--today", TODAY).code == 0
    before = groups(site_dir, date.fromisoformat(TODAY))
    (old,) = [kid for kid in first if "rsa" in kid]
    assert run("keys", "retire", old, "--reason", "compromised", "--source", str(site_dir), "--today", TODAY).code == 0
    keys, made = _changes(before, groups(site_dir, date.fromisoformat(TODAY)))
    assert made and made <= keys
    changed = {_kind(group) for group in keys if not group.startswith("bundle/")}
    assert {"ob2-assertion", "public-keys"} <= changed, sorted(changed)  # (the retirement did something)
    assert not changed & BANNER_ONLY, sorted(changed & BANNER_ONLY)
    # ... and a preview that becomes the site's own build remakes every one of them (the banner goes)
    preview = copy_example(tmp_path / "preview")
    before = groups(preview, date.fromisoformat(TODAY))
    _production_keys(preview)
    keys, made = _changes(before, groups(preview, date.fromisoformat(TODAY)))
    assert made <= keys
    assert {_kind(group) for group in made} >= BANNER_ONLY


NEW_OUTPUT = '''
"""A plain-text summary of every award (a new per-award output: this module and its template)."""

from badgekiln.formats import urls
from badgekiln.outputs import FileSpec, Unit


def produce(plan, inputs, renderer, item):
    recipient, award = item
    badge = inputs.project.badges[award.badge]
    plan.add(urls.award_dir(award.id) + "summary.txt",
             renderer.render("summary.txt", badge=badge.name, issued_on=award.issued_on.isoformat()))


UNIT = Unit("summary", "award", (FileSpec("awards/{id}/summary.txt", "text/plain"),),
            reads=("templates", "badge", "award"), produce=produce)
'''


def test_a_new_per_award_output_is_one_new_module_and_its_template(tmp_path, run, monkeypatch):
    extra = tmp_path / "more_outputs"
    extra.mkdir()
    (extra / "summary.py").write_text(NEW_OUTPUT, encoding="utf-8")
    site_dir = copy_example(tmp_path / "site")
    write_site(site_dir, {"templates/summary.txt": "{{ badge }}, issued {{ issued_on }}\n"})
    monkeypatch.setattr(outputs, "__path__", [*outputs.__path__, str(extra)])
    outputs.rediscover()
    try:
        build(run, site_dir)
        summaries = sorted((site_dir / "output/awards").glob("*/summary.txt"))
        assert len(summaries) == len(list((site_dir / "output/awards").glob("*/index.html"))) > 0
        assert "issued 20" in summaries[0].read_text()
        assert "(0 written" in build(run, site_dir).out  # a rebuild reuses it: nothing is made again
        state = recorded_groups(site_dir / ".badgekiln/cache")
        assert sum(name.endswith("/summary") for name in state) == len(summaries)
    finally:
        monkeypatch.undo()
        outputs.rediscover()
        import sys

        sys.modules.pop("badgekiln.outputs.summary", None)


def test_a_unit_that_makes_an_undeclared_file_fails_the_build(minimal_site, run):
    def produce(plan, inputs, renderer, item):
        plan.add("stray.txt", b"x")

    unit = outputs.register(Unit("stray", "site", (FileSpec("other.txt", "text/plain"),), reads=(), produce=produce))
    try:
        result = run("build", "--source", str(minimal_site), "--today", TODAY)
        assert result.code != 0 and "stray.txt" in result.err
    finally:
        outputs.unregister(unit)


def test_a_unit_that_renders_a_template_its_key_does_not_read_fails_the_build(minimal_site, run):
    """A page made from a template outside the unit's template parts would not be made again when
    that template is edited (session 41: the site pages made check/ from check.html, which their key
    did not read, and a site's own check.html changed nothing until a clean build)."""

    def produce(plan, inputs, renderer, item):
        plan.add("other.html", renderer.render("sitemap.xml", urls=[]))

    unit = outputs.register(
        Unit("stray", "site", (FileSpec("other.html", "text/html"),), reads=("badge-templates",), produce=produce)
    )
    try:
        result = run("build", "--source", str(minimal_site), "--today", TODAY)
        assert result.code != 0 and "stray output renders templates its key does not read: sitemap.xml" in result.err
    finally:
        outputs.unregister(unit)
    fine = outputs.register(
        Unit("stray", "site", (FileSpec("other.html", "text/html"),), reads=("site-templates",), produce=produce)
    )
    try:
        assert run("build", "--source", str(minimal_site), "--today", TODAY).code == 0
        assert (minimal_site / "output/other.html").is_file()
    finally:
        outputs.unregister(fine)
    uncached = outputs.register(  # (made on every build, from whatever it renders: it has no key)
        Unit("stray", "site", (FileSpec("other.html", "text/html"),), reads=(), produce=produce, cached=False)
    )
    try:
        assert run("build", "--source", str(minimal_site), "--today", TODAY).code == 0
    finally:
        outputs.unregister(uncached)


def test_a_unit_name_is_a_slug():
    with pytest.raises(ValueError, match="lower-case letters"):
        Unit("page\tx", "award", (FileSpec("x.txt", "text/plain"),), reads=(), produce=lambda *a: None)


def test_a_unit_must_name_inputs_the_engine_knows():
    with pytest.raises(ValueError, match="unknown inputs"):
        Unit("x", "site", (FileSpec("x.txt", "text/plain"),), reads=("clock",), produce=lambda *a: None)


def test_a_renewal_remakes_the_renewed_awards_page_too(tmp_path, run):
    """The earlier award's page links its renewal (it reads 'renewals'), and nothing else of it changes."""
    site_dir = copy_example(tmp_path / "site")
    build(run, site_dir)
    old = recorded_groups(site_dir / ".badgekiln/cache")
    _renew(site_dir)
    build(run, site_dir)
    state = recorded_groups(site_dir / ".badgekiln/cache")
    remade = {group for group, (key, _) in state.items() if group not in old or old[group][0] != key}
    assert {g for g in remade if g.startswith("award/k3v8n0d2rt/")} == {"award/k3v8n0d2rt/award-page"}
    assert {g.rsplit("/", 1)[-1] for g in remade if g.startswith("award/jane-renewal-1/")} == {
        "ob2-assertion",
        "ob3-credential",
        "award-page",
        "award-share-card",
    }
    assert {g.split("/")[1] for g in remade if g.startswith("award/")} == {"k3v8n0d2rt", "jane-renewal-1"}
    assert "Renewed on" in (site_dir / "output/awards/k3v8n0d2rt/index.html").read_text()


def test_the_ledger_text_in_keys_holds_every_field_of_an_entry():
    """engine/keys._ledger_text writes an entry's fields by name: a field added to the ledger's
    entries must be added there too, or a change to it would not change any key."""
    from badgekiln.engine.keys import _ledger_text
    from badgekiln.sources.ledger import Entry

    assert list(Entry._fields) == ["id", "index", "badge", "rsa_kid", "ed_kid"]
    texts = {_ledger_text(Entry("abcd", 1, "b", k, e)) for k in (None, "none", "k-1") for e in (None, "none", "k-1")}
    assert len(texts) == 9  # (None and a key id never read alike)
    # (the texts of a whole ledger, made in one pass, are the same texts)
    from badgekiln.engine.keys import _ledger_texts

    entries = {
        f"a{n}-{k}-{e}": Entry(f"a{n}-{k}-{e}", n, "b", k, e)
        for n, k in enumerate((None, "none", "k-1"))
        for e in (None, "k")
    }
    assert _ledger_texts(entries) == {award: _ledger_text(entry) for award, entry in entries.items()}


def test_the_template_parts_of_every_page_unit_parse_each_template_once(monkeypatch):
    """Every page template extends base.html: the keys' template parts (one per page unit, on
    every rebuild that makes a page) read what each names once, not once per part."""
    from badgekiln.outputs import PAGE_TEMPLATES

    renderer = Renderer(None)
    parsed: list[str] = []
    real = renderer.env.parse
    monkeypatch.setattr(
        renderer.env, "parse", lambda source, name=None, filename=None: parsed.append(name) or real(source, name)
    )
    parts = {part: renderer.template_sources_of(roots) for part, roots in PAGE_TEMPLATES.items()}
    assert "base.html" in parts["award-templates"] and "base.html" in parts["check-templates"]
    assert parsed.count("base.html") == 1 and len(parsed) == len(set(parsed))
    assert parts == {part: Renderer(None).template_sources_of(roots) for part, roots in PAGE_TEMPLATES.items()}
