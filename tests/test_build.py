"""Building a site: atomic, deterministic, permanent URLs, no email addresses published."""

import json
import os
import re
from pathlib import Path

import pytest
from conftest import TODAY, build, tree_bytes, write_site

from badgekiln.formats.ids import identity_hash
from badgekiln.pages import templateerrors

BUILT_IN_TEMPLATES = Path(templateerrors.__file__).resolve().parent / "templates"


def test_minimal_site_builds_every_artifact(minimal_site, run):
    result = build(run, minimal_site)
    out = minimal_site / "output"
    assert "built" in result.out
    for rel in (
        "index.html",
        "404.html",
        "check/index.html",
        "assets/check.js",
        "issuer.json",
        "revocations.json",
        "sitemap.xml",
        "robots.txt",
        "_headers",
        ".nojekyll",
        "badges/first-badge/badge.json",
        "badges/first-badge/index.html",
        "awards/ann-first-1/assertion.json",
        "awards/ann-first-1/index.html",
        "awards/ann-first-1/badge.svg",
    ):
        assert (out / rel).is_file(), rel


def test_assertion_hashes_the_normalised_email_with_a_per_award_salt(minimal_site, run):
    write_site(
        minimal_site,
        {
            "recipients/ann.yaml": """
        name: Ann Example
        email: "  Ann@Example.COM "
        awards:
          - id: ann-first-1
            badge: first-badge
            issued_on: 2026-01-15
          - id: ann-first-2
            badge: first-badge
            issued_on: 2026-02-15
    """
        },
    )
    build(run, minimal_site)
    first = json.loads((minimal_site / "output/awards/ann-first-1/assertion.json").read_text())
    second = json.loads((minimal_site / "output/awards/ann-first-2/assertion.json").read_text())
    recipient = first["recipient"]
    assert recipient["type"] == "email" and recipient["hashed"] is True
    assert len(recipient["salt"]) == 32 and int(recipient["salt"], 16) >= 0  # 128 bits of hex
    assert recipient["identity"] == identity_hash("ann@example.com", recipient["salt"])
    assert first["recipient"]["salt"] != second["recipient"]["salt"]


def test_no_email_address_of_an_earner_anywhere_in_the_output(example_site, run):
    build(run, example_site)
    emails = re.findall(
        r"^email: (\S+)",
        "".join(p.read_text() for p in (example_site / "recipients").glob("*.yaml")),
        flags=re.MULTILINE,
    )
    assert len(emails) >= 6
    for rel, content in tree_bytes(example_site / "output").items():
        lowered = content.lower()
        for email in emails:
            assert email.lower().encode() not in lowered, (email, rel)
            assert email.split("@")[0].lower().encode() not in rel.encode()


def test_two_builds_are_byte_identical(example_site, run, tmp_path):
    build(run, example_site, "--output", str(tmp_path / "a"))
    build(run, example_site, "--output", str(tmp_path / "b"))
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")


def test_failed_build_leaves_previous_output_intact(example_site, run):
    build(run, example_site)
    before = tree_bytes(example_site / "output")
    write_site(example_site, {"recipients/broken.yaml": "name: [unclosed\n"})
    result = run("build", "--source", str(example_site), "--today", TODAY)
    assert result.code == 1
    assert "recipients/broken.yaml:2:1: error[source]: YAML syntax error" in result.err
    assert tree_bytes(example_site / "output") == before


def test_template_error_leaves_previous_output_intact(minimal_site, run):
    build(run, minimal_site)
    before = tree_bytes(minimal_site / "output")
    write_site(
        minimal_site,
        {"templates/award.html": "{% extends '!builtin/award.html' %}{% block main %}{{ no_such_name }}{% endblock %}"},
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1
    assert "template error" in result.err and "no_such_name" in result.err
    assert "templates/award.html:1: template error" in result.err
    assert tree_bytes(minimal_site / "output") == before


def test_template_override_can_extend_the_builtin(minimal_site, run):
    write_site(
        minimal_site,
        {
            "templates/award.html": """
        {% extends "!builtin/award.html" %}
        {% block main %}<p class="custom">Custom award page</p>{{ super() }}{% endblock %}
    """
        },
    )
    build(run, minimal_site)
    html = (minimal_site / "output/awards/ann-first-1/index.html").read_text()
    assert '<p class="custom">Custom award page</p>' in html
    assert "First Badge" in html


def test_sub_path_base_url_gives_absolute_ids_and_relative_links(minimal_site, run):
    build(run, minimal_site, "--base-url", "https://org.github.io/badges")
    out = minimal_site / "output"
    assertion = json.loads((out / "awards/ann-first-1/assertion.json").read_text())
    assert assertion["id"] == "https://org.github.io/badges/awards/ann-first-1/assertion.json"
    assert assertion["badge"] == "https://org.github.io/badges/badges/first-badge/badge.json"
    html = (out / "awards/ann-first-1/index.html").read_text()
    assert 'href="../../assets/badgekiln.css"' in html
    assert '<link rel="canonical" href="https://org.github.io/badges/awards/ann-first-1/">' in html
    assert "/badges/*.json" in (out / "_headers").read_text()
    assert 'href="/badges/assets/badgekiln.css"' in (out / "404.html").read_text()


def test_awards_without_id_get_one_pinned_in_the_recipient_file(minimal_site, run):
    write_site(
        minimal_site,
        {
            "recipients/cy.yaml": """
        name: Cy
        email: cy@example.com
        awards:
          # a comment that must survive
          - badge: first-badge
            issued_on: 2026-05-01
          - {badge: first-badge, issued_on: 2026-06-01}
    """
        },
    )
    result = build(run, minimal_site)
    assert "pinned 2 new award id(s) in recipients/cy.yaml" in result.err
    text = (minimal_site / "recipients/cy.yaml").read_text()
    assert "# a comment that must survive" in text
    ids = re.findall(r"id: ([a-z0-9]{10})", text)
    assert len(ids) == 2
    for award_id in ids:
        assert (minimal_site / f"output/awards/{award_id}/index.html").is_file()
    ledger = (minimal_site / "site_src/awards.lock").read_text()
    assert all(award_id in ledger for award_id in ids)
    # Renaming the file and correcting a field keeps the URL.
    (minimal_site / "recipients/cy.yaml").rename(minimal_site / "recipients/cy-jones.yaml")
    write_site(minimal_site, {"recipients/cy-jones.yaml": text.replace("2026-05-01", "2026-05-02")})
    build(run, minimal_site)
    assert (minimal_site / f"output/awards/{ids[0]}/index.html").is_file()


def test_removing_a_published_award_is_an_error_that_says_to_revoke(minimal_site, run):
    build(run, minimal_site)
    write_site(
        minimal_site,
        {
            "recipients/ann.yaml": """
        name: Ann Example
        email: ann@example.com
        awards: []
    """
        },
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1
    assert (
        "error[award-removed]: award ann-first-1 (first-badge) is recorded as published in site_src/awards.lock "
        "but is no longer in the sources" in result.err
    )
    assert "badgekiln revoke ann-first-1" in result.err
    assert (minimal_site / "output/awards/ann-first-1/index.html").is_file()


def test_a_published_award_whose_id_was_edited_is_said_at_the_award(minimal_site, run):
    # (a provider's review: editing a published id was "site_src/awards.lock: error[award-removed]",
    # naming neither the file nor the id written, with a hint to delete the ledger's line)
    build(run, minimal_site)
    src = ["--source", str(minimal_site), "--today", TODAY]
    assert (
        run("award", "--email", "ann@example.com", "--badge", "first-badge", "--issued-on", "2026-02-01", *src).code
        == 0
    )
    build(run, minimal_site)
    ann = minimal_site / "recipients/ann.yaml"
    text = ann.read_text()
    derived = re.findall(r"id: (\S+)", text)[1]
    # an id the build derived, edited: the award is certainly the published one
    ann.write_text(text.replace(f"id: {derived}", "id: ann-first-2"))
    result = run("check", *src)
    assert result.code == 1
    assert (
        f"recipients/ann.yaml:7:5: error[award-id-changed]: this award was published as {derived} (first-badge, "
        "recorded in site_src/awards.lock), but its id is now 'ann-first-2': a published badge keeps its id"
    ) in result.err, result.err
    assert f"hint: put back 'id: {derived}'\n" in result.err
    assert "award-removed" not in result.err and "delete the line" not in result.err
    # an id written by hand, edited: the one new award of the badge the one removed had is probably it
    ann.write_text(text.replace("id: ann-first-1", "id: ann-first-one"))
    result = run("check", *src)
    assert result.code == 1
    assert (
        "recipients/ann.yaml:4:5: error[award-id-changed]: this award looks like award ann-first-1 (first-badge, "
        "recorded in site_src/awards.lock), but its id is now 'ann-first-one'"
    ) in result.err, result.err
    assert "put back 'id: ann-first-1' if it is that award; if not, award ann-first-1 was removed" in result.err
    assert "award-removed" not in result.err


def test_an_award_added_by_mistake_and_taken_out_before_it_was_pushed_says_how_to_undo_it(minimal_site, run):
    # (UX walkthrough: 'badgekiln award' records the award in awards.lock; deleting it from the
    # earner's file was an error that said only "revoke it", which leaves a public revoked record)
    build(run, minimal_site)
    ann = minimal_site / "recipients/ann.yaml"
    before = ann.read_text()
    src = ["--source", str(minimal_site), "--today", TODAY]
    added = run("award", "--email", "ann@example.com", "--badge", "first-badge", *src)
    assert added.code == 0, added.err
    new_id = sorted(set(re.findall(r"id: (\S+)", ann.read_text())) - set(re.findall(r"id: (\S+)", before)))[0]
    ann.write_text(before)  # (the mistake undone in the earner's file only)
    checked = run("check", *src)
    assert checked.code == 1 and f"error[award-removed]: award {new_id}" in checked.err
    assert "if it was never published (added by mistake, not yet pushed: 'git diff origin/HEAD" in checked.err
    assert f"delete the line that starts with {new_id} from site_src/awards.lock too" in checked.err
    ledger = minimal_site / "site_src/awards.lock"
    ledger.write_text("".join(line for line in ledger.read_text().splitlines(True) if not line.startswith(new_id)))
    assert run("check", *src).code == 0  # (as the hint says: nothing else to undo)
    assert run("build", *src).code == 0


def test_a_published_award_that_becomes_another_badge_is_said_loudly_once(minimal_site, run):
    # (UX review: the build said nothing, and the award's files for the old badge went away; a
    # refusal blocked renamed badge files and sites upgraded from earlier versions: review)
    build(run, minimal_site)
    badge = (minimal_site / "badges/first-badge.yaml").read_text()
    (minimal_site / "badges/second-badge.yaml").write_text(badge.replace("First Badge", "Second Badge"))
    ann = minimal_site / "recipients/ann.yaml"
    ann.write_text(ann.read_text().replace("badge: first-badge", "badge: second-badge"))
    frozen = run("build", "--source", str(minimal_site), "--today", TODAY, "--frozen")
    assert frozen.code == 1 and "error[ledger-stale]" in frozen.err  # (CI stops until the ledger is committed)
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err
    assert (
        "recipients/ann.yaml:" in result.err
        and "warning[badge-changed]: award ann-first-1 was published as a 'first-badge'" in result.err
    )
    assert "put back 'badge: first-badge'" in result.err and "badgekiln revoke ann-first-1" in result.err
    assert "\tsecond-badge" in (minimal_site / "site_src/awards.lock").read_text()
    again = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert again.code == 0 and "badge-changed" not in again.err


def test_frozen_build_refuses_unpinned_awards(minimal_site, run):
    write_site(
        minimal_site,
        {
            "recipients/dee.yaml": """
        name: Dee
        email: dee@example.com
        awards:
          - badge: first-badge
            issued_on: 2026-05-01
    """
        },
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY, "--frozen")
    assert result.code == 1
    assert "recipients/dee.yaml:4:5: error[unpinned-id]" in result.err
    assert not (minimal_site / "output").exists()


def test_output_folder_that_is_not_ours_is_not_replaced(minimal_site, run, tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work")
    result = run("build", "--source", str(minimal_site), "--output", str(precious), "--today", TODAY)
    assert result.code == 1
    assert "was not made by badgekiln" in result.err
    assert (precious / "thesis.txt").read_text() == "years of work"


def test_headers_rules_never_set_one_header_twice_for_a_path(minimal_site, run):
    """Cloudflare Pages joins the values of every matching rule: '*, *' breaks CORS."""
    import fnmatch

    build(run, minimal_site, "--base-url", "https://org.github.io/badges/")
    rules, current = [], None
    for line in (minimal_site / "output/_headers").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if not line.startswith(" "):
            current = (line, [])
            rules.append(current)
        else:
            current[1].append(line.split(":", 1)[0].strip().lower())
    paths = [
        "/badges/awards/x/credential.json",
        "/badges/keys/jwks.json",
        "/badges/did.json",
        "/badges/awards/x/assertion.jws",
        "/badges/awards/x/credential.jwt",
        "/badges/awards/x/badge.svg",
        "/badges/awards/x/badge.png",
        "/badges/awards/x/",
        "/badges/404.html",
        "/badges/issuer.json",
    ]
    for path in paths:
        names = [name for pattern, headers in rules if fnmatch.fnmatchcase(path, pattern) for name in headers]
        assert len(names) == len(set(names)), (path, names)
        if not path.endswith(("/", ".html")):
            assert "access-control-allow-origin" in names and "content-type" in names, path
        else:
            assert "content-security-policy" in names, path


def test_site_css_in_assets_is_published_and_linked_after_badgekilns_own(minimal_site, run):
    write_site(
        minimal_site,
        {
            "site_src/assets/site.css": "h1 { color: rebeccapurple; }\n",
            "site_src/assets/fonts/brand.woff2": b"wOF2-not-really",
            "site_src/assets/notes.txt": "not for the web",
        },
    )
    result = build(run, minimal_site)
    out = minimal_site / "output"
    assert (out / "assets/site.css").read_text() == "h1 { color: rebeccapurple; }\n"
    assert (out / "assets/fonts/brand.woff2").read_bytes() == b"wOF2-not-really"
    assert not (out / "assets/notes.txt").exists()
    assert "site_src/assets/notes.txt: warning[asset-not-published]" in result.err
    pages = [p for p in out.rglob("*.html")]
    assert len(pages) >= 4
    for page in pages:
        html = page.read_text(encoding="utf-8")
        own, site = html.find('assets/badgekiln.css"'), html.find('assets/site.css"')
        assert 0 < own < site, page  # later in the page: its rules win over ours

    (minimal_site / "site_src/assets/site.css").unlink()  # and gone again: no page links it
    build(run, minimal_site)
    assert not (out / "assets/site.css").exists()
    assert not any("site.css" in p.read_text(encoding="utf-8") for p in out.rglob("*.html"))


def test_check_compiles_the_sites_templates(minimal_site, run):
    write_site(minimal_site, {"templates/award.html": "{% extends '!builtin/award.html' %}\n{% block main %}{% if %}"})
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1
    assert "templates/award.html:2: template error" in result.err
    assert not (minimal_site / "output").exists()

    write_site(minimal_site, {"templates/award.html": "{% extends '!builtin/award.html' %}"})
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err
    assert result.out.startswith("ok:")


def test_check_loads_what_the_build_renders_and_only_that(minimal_site, run):
    check = ("check", "--source", str(minimal_site), "--today", TODAY)
    # A missing parent fails the build, so check must fail too.
    write_site(minimal_site, {"templates/award.html": "{% extends 'no-such-parent.html' %}"})
    result = run(*check)
    assert result.code == 1 and "templates/award.html:1: template error" in result.err
    assert "there is no template 'no-such-parent.html'" in result.err
    # A missing include, or a hidden name the loader refuses: said where it is named, as the build says it.
    for named in ("nosuch.html", ".partials/foot.html", "\\ud800"):  # (a lone surrogate ended in a traceback)
        award = "{% extends '!builtin/award.html' %}\n{% block main %}\n{% include '" + named + "' %}{% endblock %}"
        write_site(minimal_site, {"templates/award.html": award})
        result = run(*check)
        assert result.code == 1 and "templates/award.html:3: template error" in result.err, result.err
        built = run("build", "--source", str(minimal_site), "--today", TODAY)
        assert built.code == 1 and "templates/award.html:3: template error" in built.err, built.err
    # What Jinja renders without the missing one passes check as it passes the build (a review):
    # an include marked "ignore missing", and a list of which one is there.
    for include in ("'nosuch.html' ignore missing", "['nosuch.html', '!builtin/_alignment.html']"):
        award = "{% extends '!builtin/award.html' %}\n{% block main %}{% include " + include + " %}{% endblock %}"
        write_site(minimal_site, {"templates/award.html": award})
        assert run(*check).code == 0, include
        assert run("build", "--source", str(minimal_site), "--today", TODAY).code == 0, include
    # A literal that names no template fails the build when rendering, and check at its line (an attack review).
    for include in ("[]", "none", "5", "['nope.html', 5]", "{'a': 1}"):
        award = "{% extends '!builtin/award.html' %}\n{% block main %}{% include " + include + " %}{% endblock %}"
        write_site(minimal_site, {"templates/award.html": award})
        result = run(*check)
        assert result.code == 1 and "award.html:2: template error: this names no template" in result.err, result.err
        assert run("build", "--source", str(minimal_site), "--today", TODAY).code == 1, include
    write_site(minimal_site, {"templates/award.html": "{% extends [] %}"})
    assert "templates/award.html:1: template error: this names no template" in run(*check).err
    # A template whose file name holds a no-break space (macOS names screenshots so) is read as any other.
    write_site(
        minimal_site,
        {"templates/foot\u00a0note.html": "<p>note</p>", "templates/award.html": "{% extends '!builtin/award.html' %}"},
    )
    assert run(*check).code == 0 and run("build", "--source", str(minimal_site), "--today", TODAY).code == 0
    award = (
        "{% extends '!builtin/award.html' %}\n{% block main %}{% include ['no-a.html', 'no-b.html'] %}{% endblock %}"
    )
    write_site(minimal_site, {"templates/award.html": award})
    result = run(*check)
    assert result.code == 1 and "there is no template 'no-a.html' nor 'no-b.html'" in result.err, result.err
    # A file the build never renders (notes, an unused draft) does not fail check; a hidden binary
    # file (.DS_Store) neither fails check nor the build.
    write_site(
        minimal_site,
        {
            "templates/award.html": "{% extends '!builtin/award.html' %}",
            "templates/notes.md": "{{ unclosed",
            "templates/.DS_Store": b"\x00\x87\xff\xfe",
        },
    )
    assert run(*check).code == 0
    build(run, minimal_site)
    # A template that is not UTF-8 is named.
    write_site(
        minimal_site, {"templates/award.html": "{% extends '!builtin/award.html' %}\n{# caf\xe9 #}".encode("latin-1")}
    )
    for command in ("build", "check"):
        result = run(command, "--source", str(minimal_site), "--today", TODAY)
        assert result.code == 1 and "templates/award.html: not UTF-8" in result.err, (command, result.err)


def test_a_symlinked_site_css_is_neither_published_nor_linked(minimal_site, run, tmp_path):
    elsewhere = tmp_path / "outside.css"
    elsewhere.write_text("h1 { color: red; }")
    (minimal_site / "site_src/assets").mkdir(parents=True, exist_ok=True)
    (minimal_site / "site_src/assets/site.css").symlink_to(elsewhere)
    build(run, minimal_site)
    assert not (minimal_site / "output/assets/site.css").exists()
    assert not any("site.css" in p.read_text(encoding="utf-8") for p in (minimal_site / "output").rglob("*.html"))


def test_a_site_asset_named_like_badgekilns_own_file_is_a_clear_error(minimal_site, run):
    build(run, minimal_site)
    before = tree_bytes(minimal_site / "output")
    write_site(
        minimal_site, {"site_src/assets/verify.css": "x{}", "site_src/assets/badgekiln.css": "body{display:none}"}
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1
    assert "site_src/assets/badgekiln.css has the name of a file badgekiln publishes itself" in result.err
    assert tree_bytes(minimal_site / "output") == before


def test_the_sources_are_kept_out_of_the_garbage_collector_while_the_build_runs(minimal_site, run, monkeypatch):
    """(commands/build.py, engine/forking.frozen) frozen while the site is planned, given back after,
    and a freeze made by someone else is left alone."""
    import gc

    from badgekiln.commands import build as build_mod

    seen, begun = [], []
    real, real_run = build_mod.build, build_mod.run_build

    def planning(*args, **kwargs):
        seen.append(gc.get_freeze_count())
        return real(*args, **kwargs)

    def running(*args, **kwargs):  # (the command's own freeze: the stamp's listing, before the imports)
        begun.append(gc.get_freeze_count())
        return real_run(*args, **kwargs)

    monkeypatch.setattr(build_mod, "build", planning)
    monkeypatch.setattr(build_mod, "run_build", running)
    build(run, minimal_site)
    assert begun[-1] > 0 and seen[-1] > 0 and gc.get_freeze_count() == 0
    gc.freeze()
    try:
        build(run, minimal_site, "--output", str(minimal_site / "output-2"))
        assert gc.get_freeze_count() > 0  # (not unfrozen by the build)
    finally:
        gc.unfreeze()


def test_a_badge_whose_values_javascript_verifiers_order_otherwise_is_refused_naming_the_award(minimal_site, run):
    """A badge tagged "😀" and "Ａ": pyld and the standard sort the two tags one way, rdf-canonize
    (Digital Bazaar, the DCC verifier, the Learner Credential Wallet) the other, so the credential's
    proof would fail there (an interop review). The build stops, naming the award and the values."""
    badge = minimal_site / "badges/first-badge.yaml"
    badge.write_text(badge.read_text() + 'tags: ["😀", "Ａ"]\n', encoding="utf-8")
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1
    assert "recipients/ann.yaml: award " in result.err and "(first-badge)" in result.err
    assert "verifiers built on JavaScript" in result.err and "'\"Ａ\"' and '\"😀\"'" in result.err
    assert not (minimal_site / "output").exists()
    badge.write_text(badge.read_text().replace('tags: ["😀", "Ａ"]', 'tags: ["😀", "한"]'), encoding="utf-8")
    assert run("build", "--source", str(minimal_site), "--today", TODAY).code == 0


@pytest.mark.parametrize("command", ["build", "check"])
def test_a_command_run_outside_a_site_says_so_and_leaves_nothing_there(tmp_path, run, command):
    # (UX walkthrough: 'cd badges && python3 ../build.py' said "nothing was written" and left
    # badges/.badgekiln/cache/lock, which the site's .gitignore, /.badgekiln/, does not cover)
    folder = tmp_path / "badges"
    folder.mkdir()
    result = run(command, "--source", str(folder), "--today", TODAY)
    assert result.code == 1 and "site_src/site.yaml is missing" in result.err, result.err
    assert "run the command in the site's folder" in result.err
    assert list(folder.iterdir()) == []


def test_a_site_yaml_that_is_a_link_leaves_no_cache_either(tmp_path, run, minimal_site):
    # (review: with site_src/site.yaml a link, the build failed with error[symlink] and still made .badgekiln/)
    real = tmp_path / "elsewhere.yaml"
    real.write_text((minimal_site / "site_src/site.yaml").read_text())
    (minimal_site / "site_src/site.yaml").unlink()
    (minimal_site / "site_src/site.yaml").symlink_to(real)
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "site_src/site.yaml" in result.err, result.err
    assert not (minimal_site / ".badgekiln").exists()


@pytest.mark.parametrize(
    ("named", "said"),
    [
        ('{% include "nothere.html" %}', "there is no template 'nothere.html' (in templates/ or built in)"),
        ('{% include ["a.html", "b.html"] %}', "there is no template 'a.html' nor 'b.html'"),
        ("{% include [] %}", "this names no template (Tried to select from an empty list of templates.)"),
        ("{% include none if award.id else 'x' %}", "this names no template ("),  # (check cannot know)
    ],
)
def test_a_build_says_which_template_is_missing_as_check_does(minimal_site, run, named, said):
    """(Jinja's message is the bare name: "template error: nothere.html".)"""
    write_site(
        minimal_site,
        {"templates/award.html": "{% extends '!builtin/award.html' %}\n{% block main %}\n" + named + "{% endblock %}"},
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and f"templates/award.html:3: template error: {said}" in result.err, result.err


@pytest.mark.parametrize("own_base", [False, True])
def test_an_error_in_a_built_in_template_the_sites_own_reached_names_the_sites_line_too(minimal_site, run, own_base):
    """(session 41's note: a templates/check.html including award.html failed at "(built-in)
    award.html:4" alone, which does not say which of the site's files to look at; a review: with
    the site's own base.html it was said to be reached from base.html's block line.)"""
    files = {
        "templates/check.html": "{% extends 'base.html' %}\n{% block main %}\n{% include 'award.html' %}{% endblock %}"
    }
    if own_base:
        files["templates/base.html"] = (BUILT_IN_TEMPLATES / "base.html").read_text(encoding="utf-8")
    write_site(minimal_site, files)
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1, result.err
    said = r"\(built-in\) award\.html:\d+ \(reached from templates/check\.html:3\): template error"
    assert re.search(said, result.err), result.err


def test_an_error_in_a_built_in_templates_own_block_is_not_said_to_be_reached_from_the_sites_base(tmp_path):
    # (a built-in template extends the site's own base.html, whose blocks hand back to it: an
    # error in the built-in template's own block is its own, not "reached from" base.html)
    import jinja2

    from badgekiln.errors import ConfigError

    (tmp_path / "templates").mkdir()
    (tmp_path / "templates/base.html").write_text("<main>\n{% block main %}{% endblock %}\n</main>\n")
    loader = jinja2.FileSystemLoader([str(tmp_path / "templates"), str(BUILT_IN_TEMPLATES)])
    environment = jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined)
    with pytest.raises(ConfigError) as raised, templateerrors.located_template_errors(tmp_path):
        environment.get_template("404.html").render(site={}, root="", meta={})  # (its blocks need more)
    said = str(raised.value)
    assert said.startswith("(built-in) 404.html:") and "reached from" not in said, said


def test_an_error_in_an_included_file_of_any_name_is_located_in_it(minimal_site, run):
    # (a review: only frames of .html, .xml and .txt files were looked at, so an error in an
    # included part.j2 was put on the line of the page that included it)
    write_site(
        minimal_site,
        {
            "templates/award.html": "{% extends '!builtin/award.html' %}\n{% block main %}\n{% include 'part.j2' %}{% endblock %}",
            "templates/part.j2": "one\ntwo\n{{ no_such_name.x }}\n",
        },
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "templates/part.j2:3: template error" in result.err, result.err


def test_templates_outside_the_sites_templates_folder_are_not_said_to_be_the_sites(tmp_path, monkeypatch):
    # (a review: with a virtual environment inside the site's folder, badgekiln's own templates
    # were named by their path there, as if they were the site's)
    import jinja2

    from badgekiln.errors import ConfigError

    elsewhere = tmp_path / ".venv/lib/badgekiln/pages/templates"
    elsewhere.mkdir(parents=True)
    for name in ("404.html", "base.html"):
        (elsewhere / name).write_text((BUILT_IN_TEMPLATES / name).read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(templateerrors, "_BUILTIN", (elsewhere,))  # (badgekiln installed there)
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(elsewhere)), undefined=jinja2.StrictUndefined)
    with pytest.raises(ConfigError) as raised, templateerrors.located_template_errors(tmp_path):
        environment.get_template("404.html").render(site={}, root="", meta={})
    assert str(raised.value).startswith("(built-in) "), str(raised.value)


def test_a_template_file_whose_name_is_not_utf8_is_named_by_build_and_check(minimal_site, run):
    """(It was "there is no template 'bad\\udcffname.html'", with no place, for a file that is there.)"""
    (minimal_site / "templates").mkdir(exist_ok=True)
    with open(os.path.join(os.fsencode(minimal_site / "templates"), b"bad\xffname\n::error::x.html"), "w") as handle:
        handle.write("x")
    for command in ("build", "check"):
        result = run(command, "--source", str(minimal_site), "--today", TODAY)
        assert result.code == 1, result.err
        said = "templates/bad\\xffname\\n::error::x.html: the file's name is not UTF-8 text: rename it"
        assert said in result.err, result.err  # (no line of its own: "::error::" there is a GitHub Actions command)


def test_template_review_fixes(minimal_site, run):
    # (a review of a provider's overrides) A lone surrogate, as JavaScript writes an emoji, is a
    # located template error, not an internal error; None prints as nothing; check loads the
    # pathway and portfolio overrides that a build renders.
    write_site(
        minimal_site,
        {
            "templates/award.html": "{% extends '!builtin/award.html' %}{% block main %}<p>{{ '\\ud83c\\udf93' }}</p>{% endblock %}"
        },
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "internal error" not in result.err and "Traceback" not in result.err
    assert "templates/award.html" in result.err and "U+D83C, half of a character" in result.err
    write_site(
        minimal_site,
        {
            "templates/award.html": "{% extends '!builtin/award.html' %}{% block main %}<p class=x>[{{ award.expires }}]"
            "[{{ none }}][{{ None if true }}][{{ [none][0] }}]</p>{{ super() }}{% endblock %}"
        },
    )
    built = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert built.code == 0, built.err
    # (a None known when compiling too: Jinja escaped it to "None" before finalize saw it)
    assert "<p class=x>[][][][]</p>" in (minimal_site / "output/awards/ann-first-1/index.html").read_text()
    for name in ("pathway.html", "portfolio.html"):
        write_site(minimal_site, {f"templates/{name}": "{% if %}"})
        checked = run("check", "--source", str(minimal_site), "--today", TODAY)
        assert checked.code == 1 and f"templates/{name}:1: template error" in checked.err, checked.err
        (minimal_site / "templates" / name).unlink()


@pytest.mark.parametrize(
    ("made", "said"),
    [
        ("site_src/assets/vendor/jsonld.min.js/logo.svg", "site_src/assets/vendor/jsonld.min.js is a folder"),
        ("site_src/assets/contexts.svg", None),  # (no clash: a file beside the folder)
        ("site_src/assets/vendor.svg", None),
    ],
)
def test_an_asset_folder_with_the_name_of_a_published_file_is_named(minimal_site, run, made, said):
    # (a review, 2026-12-07: the write failed with "File exists" naming the staging folder)
    target = minimal_site / made
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text((minimal_site / "site_src/assets/badge.svg").read_text())
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    if said is None:
        assert result.code == 0, result.err
        return
    assert result.code == 1 and said in result.err and "rename the folder" in result.err, result.err
    assert "staging" not in result.err


def _png(width: int = 4, height: int = 4) -> bytes:
    import io
    import struct
    import zlib

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(out, "PNG")
    data = bytearray(out.getvalue())
    struct.pack_into(">II", data, 16, width, height)  # (IHDR's width and height, its CRC made again)
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    return bytes(data)


@pytest.mark.parametrize("kind", ["huge", "baked", "plain"])
def test_a_png_asset_no_badge_uses_is_checked_as_artwork_is(minimal_site, run, kind):
    # (a review, 2026-12-07: a 100000x100000 PNG, and one carrying another issuer's baked
    # credential, were published from site_src/assets/ because nothing named them)
    from badgekiln.formats import baking

    data = {"huge": _png(100_000, 100_000), "baked": baking.bake_png(_png(), '{"id": "x"}'), "plain": _png()}[kind]
    (minimal_site / "site_src/assets/extra.png").write_bytes(data)
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    if kind == "plain":
        assert result.code == 0 and (minimal_site / "output/assets/extra.png").read_bytes() == data
        return
    said = {"huge": "error[bad-image]: this PNG cannot be published", "baked": "error[baked-image]"}[kind]
    assert result.code == 1 and "site_src/assets/extra.png" in result.err and said in result.err, result.err
