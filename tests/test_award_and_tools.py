"""award (one or a CSV), init, serve and export: the provider's everyday commands."""

import csv
import io
import json
import os
import re
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import TODAY, build, write_site

from badgekiln.commands.serve import start, stop


def test_award_adds_to_an_existing_recipient_with_a_pinned_id(minimal_site, run):
    before = (minimal_site / "recipients/ann.yaml").read_text()
    result = run(
        "award",
        "--email",
        "ANN@example.com",
        "--name",
        "Ann Example",
        "--badge",
        "first-badge",
        "--issued-on",
        "2026-06-01",
        "--narrative",
        'Said "hi"',
        "--source",
        str(minimal_site),
        "--today",
        TODAY,
    )
    assert result.code == 0, result.err
    after = (minimal_site / "recipients/ann.yaml").read_text()
    assert after.startswith(before)
    added = after[len(before) :]
    assert added.startswith("  - id: ") and "    badge: first-badge\n    issued_on: 2026-06-01\n" in added
    assert '    narrative: "Said \\"hi\\""\n' in added
    result = build(run, minimal_site)
    assert "pinned" not in result.err  # the id was written when the award was added


def test_an_earner_on_file_needs_no_name(minimal_site, run):
    # (a day-2 review: --name was asked for again for an earner whose file names them)
    before = (minimal_site / "recipients/ann.yaml").read_text()
    result = run(
        "award", "--email", " Ann@Example.com", "--badge", "first-badge", "--issued-on", "2026-06-01",
        "--source", str(minimal_site), "--today", TODAY,
    )  # fmt: skip
    assert result.code == 0, result.err
    after = (minimal_site / "recipients/ann.yaml").read_text()
    assert after.startswith(before) and "    issued_on: 2026-06-01\n" in after[len(before) :]
    assert "name-differs" not in result.err
    assert sorted(p.name for p in (minimal_site / "recipients").iterdir()) == ["ann.yaml"]


def test_a_new_address_for_a_name_on_file_is_warned_of(minimal_site, run):
    # (a provider's review: `award --email <another address> --name "Ann Example"` made ann-example.yaml
    # without a word)
    result = run(
        "award", "--email", "ann.example@example.com", "--name", "Ann Example", "--badge", "first-badge",
        "--issued-on", "2026-06-01", "--source", str(minimal_site), "--today", TODAY,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert (
        "<command line>: warning[same-name]: ann.example@example.com is a new earner, recipients/ann-example.yaml, "
        "but recipients/ann.yaml has an earner of the same name, 'Ann Example', at ann@example.com"
    ) in result.err


def test_the_command_line_names_its_options_not_columns(minimal_site, run):
    # (a provider's review: "'evidence_url' must be …" for --evidence-url, "this row names …" for
    # an award typed on the command line)
    src = ["--source", str(minimal_site), "--today", TODAY]
    result = run("award", "--email", "ann@example.com", "--badge", "first-badge", "--evidence-url", "www.x.org/a", *src)
    assert result.code == 1
    assert "<command line>: error[bad-url]: --evidence-url must be an absolute https or http URL" in result.err
    result = run("award", "--email", "ann@example.com", "--name", "Ann Q Example", "--badge", "first-badge", *src)
    assert result.code == 0
    assert "warning[name-differs]: this award names ann@example.com 'Ann Q Example'" in result.err
    # a value that is also a key's name is the user's, not a column: left as written (a review)
    result = run("award", "--email", "ann@example.com", "--badge", "email", *src)
    assert result.code == 1 and "there is no badge 'email'" in result.err, result.err


def test_a_local_date_on_the_command_line_is_put_right_as_an_option(minimal_site, run):
    # (a UX review: the hint was the YAML line 'issued_on: ...', for an option typed on the command line)
    result = run(
        "award", "--email", "bo@example.com", "--name", "Bo", "--badge", "first-badge",
        "--issued-on", "6/12/2026", "--source", str(minimal_site), "--today", TODAY,
    )  # fmt: skip
    assert result.code == 1
    assert "hint: write it year-month-day: --issued-on 2026-12-06 (day first) or 2026-06-12 (month first)" in result.err


def test_csv_import_creates_recipients_and_is_idempotent(minimal_site, run, tmp_path):
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "\ufeffname,email,badge,issued_on,expires,evidence_url\n"
        "Zoë O'Neil,zoe@example.org,first-badge,2026-03-01,,https://example.org/e/1\n"
        "Zoë O'Neil,zoe@example.org,first-badge,2026-04-01,2027-04-01,\n"
        "Ann Example,ann@example.com,first-badge,2026-05-01,,\n",
        encoding="utf-8",
    )
    result = run("award", "--csv", str(sheet), "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err
    assert "3 award(s) added, 0 skipped" in result.out
    zoe = (minimal_site / "recipients/zoe-oneil.yaml").read_text()
    assert zoe.startswith('name: "Zoë O\'Neil"\nemail: "zoe@example.org"\nawards:\n')
    assert 'evidence: [{url: "https://example.org/e/1"}]' in zoe
    assert run("check", "--source", str(minimal_site), "--today", TODAY).code == 0
    again = run("award", "--csv", str(sheet), "--source", str(minimal_site), "--today", TODAY)
    assert "0 award(s) added, 3 skipped; nothing changed" in again.out
    # each skipped row says which row it is and which award it repeats (provider UX review)
    # (named by the path given, as an editor or a terminal opens it: a provider review)
    assert f"skipped: {sheet}:2: zoe@example.org already has first-badge issued on 2026-03-01 (award " in again.out


def test_csv_with_a_bad_row_writes_nothing_and_names_the_line(minimal_site, run, tmp_path):
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "name,email,badge,issued_on\n"
        "Good Person,good@example.org,first-badge,2026-03-01\n"
        "Bad Date,bad@example.org,first-badge,2026-02-30\n"
        "Bad Badge,worse@example.org,frist-badge,2026-03-01\n"
        "No Email,,first-badge,2026-03-01\n"
    )
    before = sorted(p.name for p in (minimal_site / "recipients").iterdir())
    result = run("award", "--csv", str(sheet), "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1
    assert "awards.csv:3:4 (cell D3): error[bad-date]: 'issued_on' is not a real date: 2026-02-30" in result.err
    assert "awards.csv:4:3 (cell C4): error[unknown-badge]: there is no badge 'frist-badge'" in result.err
    assert "did you mean 'first-badge'?" in result.err
    assert "awards.csv:5:2 (cell B5): error[missing-key]: row needs 'email'" in result.err
    assert "hint: fill in its 'email' cell" in result.err  # (a sheet, not a YAML file: no "add a line")
    assert sorted(p.name for p in (minimal_site / "recipients").iterdir()) == before
    by_hand = run("award", "--email", "new@example.com", "--badge", "first-badge", "--source", str(minimal_site))
    assert by_hand.code == 1 and "the award needs --name" in by_hand.err and "add --name" in by_hand.err
    # (UX walkthrough: it did not say why a name was asked for, when an earner on file needs none)
    assert 'hint: new@example.com is not on file yet (no recipient file has it): add --name "Their Name"' in by_hand.err


def test_init_makes_a_site_that_builds_and_never_overwrites(tmp_path, run):
    target = tmp_path / "new-site"
    result = run("init", str(target), "--name", "Acme Training")
    assert result.code == 0, result.err
    assert "created site_src/site.yaml" in result.out
    assert run("init", str(target)).code == 1
    build(run, target)
    assert (target / "output/badges/first-badge/index.html").is_file()
    # (provider UX review: an invalid --email made a site that then failed 'check')
    refused = run("init", str(tmp_path / "other"), "--email", "not an email")
    assert refused.code == 2 and "'not an email' is not an email address" in refused.err
    assert not (tmp_path / "other").exists()


def test_the_new_sites_publishing_steps_give_a_first_production_build(tmp_path, run, monkeypatch):
    # (UX walkthrough: the site README said 'keys generate', commit site_src/keys/, set the
    # secret; the first published build then stopped at error[ledger-stale], awards.lock not built)
    monkeypatch.setenv("BADGEKILN_KEYS_DIR", str(tmp_path / "private-keys"))
    site = tmp_path / "site"
    made = run("init", str(site), "--name", "Acme Training", "--base-url", "https://badges.acme-training.co.uk/")
    assert made.code == 0, made.err
    steps = (site / "README.md").read_text()
    assert "`python build.py` once" in steps and "`site_src/awards.lock`" in steps.split("## Set up publishing")[1]
    src = ["--source", str(site), "--today", TODAY]
    assert run("award", "--name", "Jane Doe", "--email", "jane@acme.test", "--badge", "first-badge", *src).code == 0
    build(run, site)  # (the provider looked at it first, with development keys)
    assert run("keys", "generate", "--source", str(site)).code == 0
    skipped = run("build", "--production", *src)
    assert skipped.code == 1 and "error[ledger-stale]" in skipped.err  # (the step the README now gives)
    build(run, site)
    assert run("build", "--production", *src).code == 0


def test_serve_previews_the_site_without_touching_the_sources(minimal_site):
    write_site(
        minimal_site,
        {
            "recipients/cy.yaml": """
        name: Cy
        email: cy@example.com
        awards:
          - badge: first-badge
            issued_on: 2026-05-01
    """
        },
    )
    before = (minimal_site / "recipients/cy.yaml").read_text()
    server, result, _ = start(minimal_site, port=0, today=__import__("datetime").date(2026, 11, 22))
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        with urllib.request.urlopen(base + "awards/ann-first-1/assertion.json", timeout=10) as response:
            assertion = json.load(response)
            assert response.headers["Access-Control-Allow-Origin"] is None  # (no other site reads the preview)
        assert assertion["id"] == base + "awards/ann-first-1/assertion.json"
        with urllib.request.urlopen(base, timeout=10) as response:
            assert b"First Badge" in response.read()
    finally:
        stop(server, _)
    assert not _.exists()
    assert (minimal_site / "recipients/cy.yaml").read_text() == before
    assert not (minimal_site / "site_src/awards.lock").exists()
    assert not (minimal_site / ".badgekiln").exists()  # no build cache in the sources either


def test_export_lists_every_award_with_status_and_urls(example_site, run):
    result = run("export", "--source", str(example_site), "--today", TODAY)
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert len(rows) == 14
    by_id = {r["award_id"]: r for r in rows}
    assert by_id["d3f4g5h6jk"]["status"] == "revoked" and by_id["d3f4g5h6jk"]["revoked_reason"]
    assert by_id["r9t4y1u6ep"]["status"] == "renewed"  # (expired, then renewed by z3k7q2w9hd)
    assert by_id["7q4kz2m9xw"]["page_url"] == "https://badges.northwind.example/awards/7q4kz2m9xw/"
    as_json = json.loads(run("export", "--format", "json", "--source", str(example_site), "--today", TODAY).out)
    assert [{**r, "skills": "; ".join(r["skills"])} for r in as_json] == rows  # skills: a list in JSON


def test_serve_on_a_busy_port_is_a_clear_error(minimal_site, run):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run("serve", "--port", str(taken.getsockname()[1]), "--source", str(minimal_site))
    assert result.code == 1 and "cannot serve on 127.0.0.1" in result.err and "Traceback" not in result.err


def test_edits_keep_windows_line_endings_and_file_modes(minimal_site, run):
    path = minimal_site / "recipients/ann.yaml"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    path.chmod(0o640)
    assert (
        run(
            "award",
            "--email",
            "ann@example.com",
            "--name",
            "Ann",
            "--badge",
            "first-badge",
            "--issued-on",
            "2026-06-01",
            "--source",
            str(minimal_site),
            "--today",
            TODAY,
        ).code
        == 0
    )
    assert run("revoke", "ann-first-1", "--reason", "x", "--source", str(minimal_site), "--today", TODAY).code == 0
    data = path.read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n") and b"revoked:" in data
    assert oct(path.stat().st_mode)[-3:] == "640"
    build(run, minimal_site)
    assert oct((minimal_site / "output").stat().st_mode)[-3:] == oct(0o777 & ~_umask())[-3:]


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_keys_generate_outside_a_site_refuses(tmp_path, run):
    result = run("keys", "generate", "--source", str(tmp_path))
    assert result.code == 1 and "is not a badge site" in result.err
    assert not (tmp_path / "site_src").exists()


def test_check_frozen_catches_unpinned_ids(minimal_site, run):
    write_site(
        minimal_site,
        {
            "recipients/dee.yaml": """
        name: Dee
        email: dee@example.com
        awards:
          - {badge: first-badge, issued_on: 2026-05-01}
    """
        },
    )
    assert run("check", "--source", str(minimal_site), "--today", TODAY).code == 0
    result = run("check", "--frozen", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "error[unpinned-id]" in result.err


def test_python_dash_m_badgekiln_is_the_command_line():
    # (UX review: "python3 -m badgekiln" said it cannot be executed)
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "badgekiln", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "Usage: badgekiln" in done.stdout, done.stderr


def test_the_program_exits_with_its_status_after_saying_everything(minimal_site, tmp_path):
    """The entry point (cli.run) ends the process without freeing every object first: what was
    printed arrives whole, through a pipe, with the command's exit status, and a build's forked
    processes and temporary files are gone."""
    import shutil
    import subprocess
    import sys

    command = [sys.executable, "-m", "badgekiln"]
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    built = subprocess.run(
        [*command, "build", "--source", str(minimal_site), "--today", TODAY],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert built.returncode == 0 and "awards: 1 (first build" in built.stdout, built.stderr
    assert (minimal_site / "output/index.html").is_file() and not list((tmp_path / "tmp").iterdir())
    failed = subprocess.run([*command, "build", "--source", str(tmp_path / "nowhere")], capture_output=True, text=True)
    assert failed.returncode == 1 and failed.stderr.strip()
    assert subprocess.run([*command, "no-such-command"], capture_output=True, text=True).returncode == 2
    exported = subprocess.run(
        [*command, "export", "--source", str(minimal_site), "--today", TODAY], capture_output=True, text=True
    )
    assert exported.returncode == 0 and exported.stdout.count("\n") >= 2, exported.stderr
    script = minimal_site / "build.py"
    shutil.copy(Path(__file__).parents[1] / "build.py", script)
    again = subprocess.run(
        [sys.executable, str(script), "--source", str(minimal_site), "--today", TODAY], capture_output=True, text=True
    )
    assert again.returncode == 0 and "0 written" in again.stdout, again.stderr


def test_an_email_address_in_a_narrative_is_refused_before_anything_is_written(minimal_site, run):
    # (hostile review: "added … to recipients/bob.yaml", then error[email-published] and "nothing
    # was written", while the file had been created)
    result = run(
        "award", "--name", "Bob", "--email", "bob@example.com", "--badge", "first-badge",
        "--narrative", "Ask bob@example.org", "--source", str(minimal_site), "--today", TODAY,
    )  # fmt: skip
    assert result.code == 1 and "the narrative holds an email address (bob@example.org)" in result.err
    assert "added" not in result.out and not (minimal_site / "recipients/bob.yaml").exists()


@pytest.mark.parametrize(
    ("name", "says"), [("", "is empty"), ("  ", "is empty"), ("Acme\nTraining", "U+000A"), ("x" * 201, "200")]
)
def test_init_refuses_an_issuer_name_its_site_could_not_build_with(tmp_path, run, name, says):
    # (a fuzz test: init said done, and the new site's first build failed on its own site.yaml)
    result = run("init", str(tmp_path / "site"), "--name", name)
    assert result.code == 1 and "the issuer's name (--name)" in result.err and says in result.err, result.err
    assert not (tmp_path / "site" / "site_src").exists()


def test_an_address_the_rendered_narrative_shows_is_refused_before_writing(minimal_site, run):
    before = (minimal_site / "recipients/ann.yaml").read_text()
    result = run(
        "award", "--email", "ann@example.com", "--badge", "first-badge", "--issued-on", "2026-06-01",
        "--narrative", "Ask `jane`@assessors.example", "--source", str(minimal_site), "--today", TODAY,
    )  # fmt: skip
    assert result.code == 1 and "holds an email address (jane@assessors.example)" in result.err
    assert (minimal_site / "recipients/ann.yaml").read_text() == before
    # (a review: a narrative the build cannot render was written, then the ledger refused it)
    result = run(
        "award", "--email", "ann@example.com", "--badge", "first-badge", "--issued-on", "2026-06-01",
        "--narrative", "|\n" * 2001, "--source", str(minimal_site), "--today", TODAY,
    )  # fmt: skip
    assert result.code == 1 and "error[markdown-too-large]: the narrative cannot be shown" in result.err
    assert (minimal_site / "recipients/ann.yaml").read_text() == before


def test_a_name_no_card_font_draws_is_warned_of_where_it_is_written(minimal_site, run, tmp_path):
    # (an earner review: a name in a script no bundled font covers became boxes on its share card, unsaid)
    tibetan = "\u0f56\u0f40\u0fb2\u0f0b\u0f64\u0f72\u0f66"
    (minimal_site / "recipients/tashi.yaml").write_text(
        f'name: "{tibetan}"\nemail: tashi@example.org\nawards:\n  - badge: first-badge\n    issued_on: 2026-02-01\n'
    )
    (minimal_site / "recipients/wei.yaml").write_text(
        'name: "王伟"\nemail: wei@example.org\nawards:\n  - badge: first-badge\n    issued_on: 2026-02-01\n'
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err
    assert (
        "recipients/tashi.yaml:1:7: warning[font-coverage]: the name has characters that no font of the share "
        "cards draws: \u0f56 (U+0F56 TIBETAN LETTER BA), \u0f40 (U+0F40 TIBETAN LETTER KA), "
    ) in result.err, result.err
    assert "wei.yaml:1:7: warning" not in result.err  # (CJK is bundled)
    hidden = minimal_site / "recipients/tashi.yaml"
    hidden.write_text(hidden.read_text().replace("email:", "show_name: false\nemail:"))
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0 and "font-coverage" not in result.err  # (its card says "A verified earner")
    sheet = tmp_path / "awards.csv"
    sheet.write_text(f"name,email,badge,issued_on\n{tibetan},dorje@example.org,first-badge,2026-03-01\n")
    result = run("award", "--csv", str(sheet), "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0 and "awards.csv:2: warning[font-coverage]" in result.err, result.err
    # (a review: said of a row whose earner is on file, whose file's name and show_name are what count)
    sheet.write_text(f"name,email,badge,issued_on\n{tibetan},tashi@example.org,first-badge,2026-03-01\n")
    result = run("award", "--csv", str(sheet), "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0 and "font-coverage" not in result.err, result.err


def test_awarding_a_badge_the_earner_already_holds_is_said(minimal_site, run):
    # (UX walkthrough: a second award of a badge that does not expire went through without a word)
    src = ["--source", str(minimal_site), "--today", TODAY]
    again = run("award", "--email", "ann@example.com", "--badge", "first-badge", "--issued-on", "2026-05-12", *src)
    assert again.code == 0, again.err
    assert (
        "warning[already-held]: ann@example.com already holds first-badge: award ann-first-1, issued on 2026-01-15; "
        "this adds a second award of it, issued on 2026-05-12" in again.err
    ), again.err
    assert "delete the new award from recipients/ann.yaml and its line from site_src/awards.lock" in again.err
    # A backdated one, before the award held: said too; after a revocation, nothing is said
    earlier = run("award", "--email", "ann@example.com", "--badge", "first-badge", "--issued-on", "2026-01-02", *src)
    assert "warning[already-held]" in earlier.err and "issued on 2026-05-12" in earlier.err
    ann = minimal_site / "recipients/ann.yaml"
    for award_id in re.findall(r"id: (\S+)", ann.read_text()):
        assert run("revoke", award_id, "--reason", "Issued in error", *src).code == 0
    fresh = run("award", "--email", "ann@example.com", "--badge", "first-badge", "--issued-on", "2026-06-01", *src)
    assert fresh.code == 0 and "already-held" not in fresh.err, fresh.err


def test_a_production_build_says_which_starter_texts_are_still_there(tmp_path, run, monkeypatch):
    # (UX walkthrough: the starter's "What we assess and why our badges matter." was published on
    # the home page, and how-to-verify.md was its one sentence, without a word from the build)
    monkeypatch.setenv("BADGEKILN_KEYS_DIR", str(tmp_path / "private-keys"))
    site = tmp_path / "site"
    assert (
        run("init", str(site), "--name", "Acme Training", "--base-url", "https://badges.acme-training.co.uk/").code == 0
    )
    assert run("keys", "generate", "--source", str(site)).code == 0
    src = ["--source", str(site), "--today", TODAY]
    built = run("build", "--production", *src)
    assert built.code == 0, built.err
    for where, what in (
        ("site_src/site.yaml", "the issuer's 'description' is the starter's"),
        ("site_src/pages/how-to-verify.md", "the page 'How to verify a badge' is the starter's one sentence"),
        ("badges/first-badge.yaml", "the badge 'First Badge' has the starter badge's 'description'"),
    ):
        assert f"{where}: warning[starter-text]: {what}: it is published as it is" in built.err, built.err
    assert "starter-text" not in run("build", *src).err  # (a preview is not told)
    site_yaml = site / "site_src/site.yaml"
    site_yaml.write_text(site_yaml.read_text().replace("What we assess", "Scaffolding inspections we assess"))
    (site / "site_src/pages/how-to-verify.md").write_text("---\ntitle: How to verify a badge\n---\nCall us.\n")
    badge = site / "badges/first-badge.yaml"
    badge.write_text(badge.read_text().replace("Holder completed our first assessment.", "Can inspect scaffolds."))
    assert "starter-text" not in run("build", "--production", *src).err


def test_verify_checks_a_serve_previews_open_badges_3_credential(minimal_site, run, monkeypatch, tmp_path):
    # (UX walkthrough: its did:web, always https, names the preview's http server, and verify said
    # "[SSL: WRONG_VERSION_NUMBER] ... NOT VALID"; only the OB 2.0 assertion could be checked)
    from datetime import date

    monkeypatch.setenv("BADGEKILN_KEYS_DIR", str(tmp_path / "private-keys"))
    assert run("keys", "generate", "--source", str(minimal_site)).code == 0  # (a preview signed with them)
    server, _, folder = start(minimal_site, port=0, today=date(2026, 11, 22))
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        for name in ("credential.json", "credential.jwt", "assertion.json"):
            result = run("verify", "--allow-local", "--now", "2026-11-22", base + f"awards/ann-first-1/{name}")
            assert result.code == 0 and "✔ VALID" in result.out, (name, result.out[-600:])
        credential = run("verify", "--allow-local", "--now", "2026-11-22", base + "awards/ann-first-1/credential.json")
        assert "over plain http: this machine's server does not speak https" in credential.out, credential.out
        refused = run("verify", "--now", "2026-11-22", base + "awards/ann-first-1/credential.json")
        assert refused.code != 0 and "VALID\n" not in refused.out.replace("NOT VALID", "")  # (no --allow-local)
    finally:
        stop(server, folder)


def test_two_rows_of_one_sheet_giving_an_earner_the_same_badge_are_said(minimal_site, run, tmp_path):
    # (review: only awards already on file were looked at, so two rows for a new earner, or two new
    # rows for an earner on file, went through without a word)
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "name,email,badge,issued_on\n"
        "Cy Dee,cy@example.com,first-badge,2026-01-10\n"
        "Cy Dee,cy@example.com,first-badge,2026-01-20\n"
    )
    result = run("award", "--csv", str(sheet), "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err
    assert (
        "awards.csv:3: warning[already-held]: cy@example.com is given first-badge twice: in row 2 of this sheet, "
        "issued on 2026-01-10, and here, issued on 2026-01-20" in result.err
    ), result.err
    badge = minimal_site / "badges/second-badge.yaml"
    badge.write_text((minimal_site / "badges/first-badge.yaml").read_text().replace("First Badge", "Second Badge"))
    sheet.write_text(
        "name,email,badge,issued_on\n"
        "Ann Example,ann@example.com,second-badge,2026-02-10\n"
        "Ann Example,ann@example.com,second-badge,2026-02-20\n"
    )
    again = run("award", "--csv", str(sheet), "--source", str(minimal_site), "--today", TODAY)
    assert again.code == 0 and again.err.count("warning[already-held]") == 1, again.err
    assert "ann@example.com is given second-badge twice: in row 2 of this sheet" in again.err


def test_two_rows_renewing_one_badge_make_a_chain_the_build_accepts(minimal_site, run, tmp_path):
    # (re-review: both rows renewed the award on file, and check then failed with error[bad-renewal])
    badge = minimal_site / "badges/first-badge.yaml"
    badge.write_text(badge.read_text() + "valid_for: P30D\n")
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "name,email,badge,issued_on\n"
        "Ann Example,ann@example.com,first-badge,2026-05-10\n"
        "Ann Example,ann@example.com,first-badge,2026-05-11\n"
    )
    src = ["--source", str(minimal_site), "--today", TODAY]
    result = run("award", "--csv", str(sheet), *src)
    assert result.code == 0, result.err
    assert "renews award ann-first-1" in result.err and "renews the one of row 2 of this sheet" in result.err, (
        result.err
    )
    assert run("check", *src).code == 0
    text = (minimal_site / "recipients/ann.yaml").read_text()
    assert text.count("renews: ann-first-1") == 1 and text.count("renews:") == 2


def test_awards_added_at_once_by_several_processes_are_all_kept(minimal_site, run):
    """A review (2026-12-07): five `award` runs at once for one earner each wrote the file as they
    had read it, and one award (with its ledger line) was lost while every run said "added". Real
    processes, started together; the sources' edit lock makes them take turns."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import badgekiln

    assert run("build", "--source", str(minimal_site), "--today", TODAY).code == 0
    env = {**os.environ, "PYTHONPATH": str(Path(badgekiln.__file__).resolve().parents[1])}
    days = [f"2026-{month:02}-01" for month in range(2, 11)]
    go = minimal_site.parent / "go"
    # (each process imports everything, then waits for the same moment to run: they overlap)
    start_together = (
        "import sys, time, pathlib; from badgekiln.cli import main; import badgekiln.commands.award\n"
        "while not pathlib.Path(sys.argv[1]).exists(): time.sleep(0.005)\n"
        "main(sys.argv[2:])"
    )
    runs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                start_together,
                str(go),
                "award",
                "--source",
                str(minimal_site),
                "--today",
                TODAY,
                "--email",
                "ann@example.com",
                "--name",
                "Ann Example",
                "--badge",
                "first-badge",
                "--issued-on",
                day,
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for day in days
    ]
    time.sleep(3)
    go.write_text("")
    outcomes = [(process.wait(timeout=120), process.stderr.read()) for process in runs]
    assert [code for code, _ in outcomes] == [0] * len(days), [said for code, said in outcomes if code]
    from badgekiln.sources.loading import parse_yaml

    awards = parse_yaml((minimal_site / "recipients/ann.yaml").read_text(encoding="utf-8"), "ann.yaml")["awards"]
    assert sorted(str(a["issued_on"]) for a in awards) == sorted(["2026-01-15", *days])  # (ann-first-1's day too)
    ledger = (minimal_site / "site_src/awards.lock").read_text()
    assert all(f"\n{a['id']}\t" in ledger for a in awards)
    assert "warning[ledger-changed]" not in run("build", "--source", str(minimal_site), "--today", TODAY).err


def test_a_build_does_not_write_the_ledger_over_awards_recorded_while_it_ran(minimal_site, run):
    """The build writes site_src/awards.lock at its end, from the ledger it read at its start: an
    award recorded between the two lost its line. The test holds the sources' edit lock, so a
    real build (a process) waits for it at its end; an award is added meanwhile."""
    import os
    import subprocess
    import sys
    from datetime import date
    from pathlib import Path

    import badgekiln
    from badgekiln.commands.award import add_awards, check_single
    from badgekiln.sources.editlock import editing

    assert run("build", "--source", str(minimal_site), "--today", TODAY).code == 0
    ann = minimal_site / "recipients/ann.yaml"  # (an award written by hand, which the build records)
    ann.write_text(ann.read_text() + "  - id: ann-first-2\n    badge: first-badge\n    issued_on: 2026-02-01\n")
    env = {**os.environ, "PYTHONPATH": str(Path(badgekiln.__file__).resolve().parents[1])}
    command = [sys.executable, "-m", "badgekiln", "build", "--source", str(minimal_site), "--today", TODAY]
    with editing(minimal_site):
        building = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert "waiting for another badgekiln command" in building.stderr.readline()  # (its output is written)
        row = {"name": "Bo", "email": "bo@example.org", "badge": "first-badge", "issued_on": "2026-03-01"}
        added = add_awards(
            minimal_site, [check_single(minimal_site, row, date.fromisoformat(TODAY))], date.fromisoformat(TODAY)
        )
        assert added.recorded == 2  # (Bo's, and ann-first-2, which the build has not recorded yet)
        ledger = (minimal_site / "site_src/awards.lock").read_text()
    assert building.wait(timeout=120) == 0
    assert "warning[ledger-changed]" in building.stderr.read()
    assert (minimal_site / "site_src/awards.lock").read_text() == ledger
    assert not (minimal_site / ".badgekiln/built-awards.lock").exists()  # (it held the ledger not written)
    again = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert again.code == 0 and "ledger-changed" not in again.err and "ledger-index-moved" not in again.err
    assert (minimal_site / "site_src/awards.lock").read_text().count("\tfirst-badge\t") == 3


def test_a_folder_that_cannot_be_locked_is_said_and_the_command_goes_on(minimal_site, run, monkeypatch, capsys):
    # (a review, 2026-12-07: NFS without lockd answers ENOLCK, and every command that edits the
    # sources ended in an internal error; the file system is stood in for by fcntl's answer)
    import errno
    import fcntl

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    result = run(
        "revoke", "ann-first-1", "--reason", "Issued in error", "--source", str(minimal_site), "--today", TODAY
    )
    assert result.code == 0 and "internal error" not in result.err
    assert "this site's folder cannot be locked (No locks available)" in result.err + capsys.readouterr().err
    assert "revoked:" in (minimal_site / "recipients/ann.yaml").read_text()


def test_an_award_to_pin_that_moved_while_the_build_ran_is_pinned_by_the_next_build(minimal_site, run):
    """A review (2026-12-07): a revocation written above a hand-written award (no id yet) while a
    build ran moved its lines; the build then wrote the id where the award had been, and failed
    with a duplicate key at a line the file did not have. A real build (a process) waits at its
    end for the sources' lock, which the test holds while it revokes."""
    import os
    import subprocess
    import sys
    from datetime import date
    from pathlib import Path

    import badgekiln
    from badgekiln.commands.revoke import revoke
    from badgekiln.sources.editlock import editing

    assert run("build", "--source", str(minimal_site), "--today", TODAY).code == 0
    ann = minimal_site / "recipients/ann.yaml"
    ann.write_text(
        ann.read_text() + "  - badge: first-badge\n    issued_on: 2026-02-01\n"
    )  # (no id: the build pins it)
    env = {**os.environ, "PYTHONPATH": str(Path(badgekiln.__file__).resolve().parents[1])}
    command = [sys.executable, "-m", "badgekiln", "build", "--source", str(minimal_site), "--today", TODAY]
    with editing(minimal_site):
        building = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert "waiting for another badgekiln command" in building.stderr.readline()
        revoke(minimal_site, "ann-first-1", "Issued in error", date(2026, 2, 1), date.fromisoformat(TODAY))
    assert building.wait(timeout=120) == 0
    said = building.stderr.read()
    assert "warning[pin-deferred]" in said and "changed while the build ran" in said, said
    from badgekiln.sources.loading import parse_yaml

    awards = parse_yaml(ann.read_text(), "ann.yaml")["awards"]
    assert awards[0]["id"] == "ann-first-1" and "revoked" in awards[0] and "id" not in awards[1]
    again = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert again.code == 0 and "pin-deferred" not in again.err
    awards = parse_yaml(ann.read_text(), "ann.yaml")["awards"]
    assert "id" in awards[1] and f"\n{awards[1]['id']}\t" in (minimal_site / "site_src/awards.lock").read_text()
