"""The GitHub glue: workflows and forms written by init (linted with actionlint), and
``badgekiln github-issue`` on real ``issues`` event payloads (tests/github_events/)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import TODAY, build, publishable, write_site

EVENTS = Path(__file__).parent / "github_events"
WORKFLOWS = (
    ".github/workflows/publish.yml",
    ".github/workflows/issue-to-pr.yml",
    ".github/workflows/daily.yml",
    ".github/workflows/check.yml",
)


def _actionlint() -> str:
    found = shutil.which("actionlint")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("actionlint is missing: scripts/install-test-deps.sh installs it")
        pytest.skip("actionlint is not installed (bash scripts/install-test-deps.sh)")
    return found


def _event(tmp_path: Path, name: str, **replace: str) -> Path:
    text = (EVENTS / name).read_text(encoding="utf-8")
    for key, value in replace.items():
        text = text.replace(f"@{key}@", value)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _issue(run, site: Path, event: Path, *extra: str):
    return run("github-issue", str(event), "--source", str(site), "--today", TODAY, *extra)


def test_init_writes_workflows_that_actionlint_and_shellcheck_accept(tmp_path, run):
    linter = _actionlint()
    target = tmp_path / "new"
    assert run("init", str(target), "--name", "Acme Training").code == 0
    files = [target / rel for rel in WORKFLOWS]
    subprocess.run(["git", "init", "-q", str(target)], check=True)  # (in a repository actionlint reads the
    # workflow that daily.yml runs, and checks that it may be run so)
    lint = subprocess.run(
        [linter, "-no-color", "-shellcheck", shutil.which("shellcheck") or "", *map(str, files)],
        capture_output=True,
        text=True,
        cwd=target,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    publish = yaml.safe_load(files[0].read_text())
    steps = publish["jobs"]["build"]["steps"]
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    assert uses[-2:] == ["actions/configure-pages", "actions/upload-pages-artifact"] and "actions/cache" in uses
    built = next(s for s in steps if s.get("run", "").startswith("python build.py"))
    assert built["run"] == "python build.py --production"
    assert built["env"]["BADGEKILN_PRIVATE_KEYS"] == "${{ secrets.BADGEKILN_PRIVATE_KEYS }}"
    assert publish["jobs"]["notify"]["needs"] == "deploy"
    # Every setting the mail code reads is passed from the secret of its name (SECURITY was not).
    settings = ("HOST", "PORT", "SECURITY", "USER", "PASSWORD", "FROM")
    # (the login only in the step that sends: checkout, setup-python and pip saw the password, a review)
    notify = publish["jobs"]["notify"]
    assert notify["env"] == {"BADGEKILN_SMTP_HOST": "${{ secrets.BADGEKILN_SMTP_HOST }}"}
    (sending,) = [step for step in notify["steps"] if "badgekiln notify" in step.get("run", "")]
    assert {**notify["env"], **sending["env"]} == {
        f"BADGEKILN_SMTP_{name}": f"${{{{ secrets.BADGEKILN_SMTP_{name} }}}}" for name in settings
    }
    assert not any(
        "secrets.BADGEKILN_SMTP_PASSWORD" in json.dumps(step) for step in notify["steps"] if step is not sending
    )
    assert "deploy-pages" in publish["jobs"]["deploy"]["steps"][0]["uses"]
    # The hostile issue text never reaches a shell line through an expression.
    for path in files:
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in job.get("steps", []):  # (daily.yml's one job runs publish.yml)
                assert "github.event.issue" not in step.get("run", "")
                assert "github.event.issue.body" not in json.dumps(step)
    readme = (target / "README.md").read_text()
    for section in (
        "## Issue from the browser",
        "## Issue many from a spreadsheet",
        "## Tell earners",
        "**Netlify**",
        "**Cloudflare Pages**",
        "**Amazon S3**",
    ):
        assert section in readme


def test_actionlint_would_catch_an_interpolated_issue_body(tmp_path):
    """The lint is a real guard: the unsafe form of our own step fails it."""
    linter = _actionlint()
    target = tmp_path / "wf.yml"
    text = (Path(__file__).parent.parent / "src/badgekiln/data/github/issue-to-pr.yml").read_text()
    unsafe = text.replace(
        'badgekiln github-issue "$GITHUB_EVENT_PATH"',
        'echo "${{ github.event.issue.body }}" | badgekiln github-issue -',
    )
    assert unsafe != text
    target.write_text(unsafe.replace("@VERSION@", "0.1.0"))
    lint = subprocess.run([linter, "-no-color", str(target)], capture_output=True, text=True)
    assert lint.returncode != 0 and "potentially untrusted" in lint.stdout


def test_award_from_a_labelled_issue_form(minimal_site, run, tmp_path, monkeypatch):
    outputs = tmp_path / "github-output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    result = _issue(run, minimal_site, _event(tmp_path, "award-labeled.json"))
    assert result.code == 0, result.err
    created = minimal_site / "recipients/zoe-angstrom.yaml"
    data = yaml.safe_load(created.read_text())
    assert data["name"] == "Zoë Ångström 🎉" and data["email"] == "zoe@example.com"
    (award,) = data["awards"]
    assert award["badge"] == "first-badge" and str(award["issued_on"]) == "2026-11-20"
    # CRLF answers come out with plain newlines; a Markdown heading inside the narrative stays in it.
    assert (
        award["narrative"] == "Passed the practical 💪 on the first try.\n\n### Notes from the assessor\n\n"
        "Calm under pressure."
    )
    assert "evidence" not in award  # "_No response_" is no answer
    text = outputs.read_text()
    blocks = dict(re.findall(r"^(\w+)<<(badgekiln_[0-9a-f]{32})\n", text, flags=re.M))
    assert set(blocks) == {"branch", "title", "body"}
    assert "branch<<" in text and "\nbadgekiln/issue-12\n" in text
    assert "Closes #12." in text and award["id"] in text
    assert "Award First Badge to Zoë Ångström 🎉" in result.out  # (the badge's name, as the form shows it)
    build(run, minimal_site)


def test_an_empty_date_means_today_and_a_maintainers_label_is_enough(minimal_site, run, tmp_path, monkeypatch):
    event = _event(tmp_path, "award-minimal.json")  # opened by a stranger, labelled by a maintainer
    assert _issue(run, minimal_site, event).code == 1  # without the labeller's permission: refused
    assert not (minimal_site / "recipients/sam-lee.yaml").exists()
    result = _issue(run, minimal_site, event, "--sender-permission", "write")
    assert result.code == 0, result.err
    award = yaml.safe_load((minimal_site / "recipients/sam-lee.yaml").read_text())["awards"][0]
    assert str(award["issued_on"]) == TODAY and set(award) == {"id", "badge", "issued_on"}
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))  # as in the workflow: the event file from the environment
    again = run("github-issue", "--source", str(minimal_site), "--today", TODAY, "--sender-permission", "write")
    assert again.code == 1 and "already has first-badge" in again.err


def test_an_untrusted_issue_changes_nothing(minimal_site, run, tmp_path):
    before = sorted(p.name for p in (minimal_site / "recipients").iterdir())
    for permission in ("read", "triage", "none", ""):
        result = _issue(run, minimal_site, _event(tmp_path, "award-untrusted.json"), "--sender-permission", permission)
        assert result.code == 1 and "write access" in result.err and "Traceback" not in result.err
    assert sorted(p.name for p in (minimal_site / "recipients").iterdir()) == before


def test_an_injection_attempt_stays_text(minimal_site, run, tmp_path):
    result = _issue(run, minimal_site, _event(tmp_path, "award-injection.json"))
    assert result.code == 0, result.err
    (path,) = [p for p in (minimal_site / "recipients").iterdir() if p.name != "ann.yaml"]
    data = yaml.safe_load(path.read_text())
    assert data["name"] == 'Eve"; rm -rf / #'
    assert len(data["awards"]) == 1  # the YAML in the narrative did not add an award
    assert data["awards"][0]["narrative"].startswith("${{ secrets.BADGEKILN_PRIVATE_KEYS }} `id` $(id)\nawards:")
    assert str(data["awards"][0]["issued_on"]) == TODAY
    build(run, minimal_site)


def test_a_second_answer_smuggled_into_the_narrative_is_refused(minimal_site, run, tmp_path):
    result = _issue(run, minimal_site, _event(tmp_path, "award-smuggled-badge.json"))
    assert result.code == 1 and "'Badge' appears twice" in result.err


def _event_with_body(tmp_path: Path, body: str) -> Path:
    event = json.loads((EVENTS / "award-labeled.json").read_text(encoding="utf-8"))
    event["issue"]["body"] = body
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    return path


_SHOWN = (
    "   ### Earner's name\n\nJane Q\n\n   ### Earner's email\n\njane.q@company.example\n\n"
    "   ### Badge\n\nFirst Badge (first-badge)\n\n   ### Date issued\n\n_No response_\n\n"
    "   ### Evidence URL\n\n_No response_\n\n   ### Narrative\n\n_No response_\n"
)
_UNSHOWN = (
    "### Earner's name\n\nJane Q\n\n### Earner's email\n\nattacker@evil.example\n\n"
    "### Badge\n\nFirst Badge (first-badge)\n\n### Date issued\n\n2026-11-01\n\n"
    "### Evidence URL\n\n_No response_\n\n### Narrative\n\nDone.\n"
)


@pytest.mark.parametrize(
    "body",
    [
        _SHOWN + "<!--\n" + _UNSHOWN + "-->\n",  # (the answers acted on, in a comment GitHub hides)
        _SHOWN + "<div hidden>\n\n" + _UNSHOWN + "\n</div>\n",
        _SHOWN.replace("jane.q@company.example", "jane.q@company.example <!-- x -->"),
        _SHOWN + "\n" + _UNSHOWN,  # (no HTML: the indented headings are the form's too, so each label twice)
        _SHOWN.replace("_No response_\n", "Done <details><summary>.</summary>\n", 1) + _UNSHOWN,  # (mid-line)
    ],
)
def test_answers_github_does_not_show_are_refused(minimal_site, run, tmp_path, body):
    """A review (2026-12-07): the form's labels indented (GitHub shows them as headings; the
    parser passed over them) with decoy answers, and the real labels in an HTML comment (GitHub
    shows nothing of it): the maintainer labelled one award and badgekiln made another."""
    before = sorted(p.name for p in (minimal_site / "recipients").iterdir())
    reply = tmp_path / "reply.md"
    result = _issue(run, minimal_site, _event_with_body(tmp_path, body), "--reply", str(reply))
    assert result.code == 1 and "Traceback" not in result.err
    assert "the issue holds HTML" in reply.read_text() or "appears twice" in reply.read_text()
    assert sorted(p.name for p in (minimal_site / "recipients").iterdir()) == before


def test_an_evidence_url_in_angle_brackets_is_no_html(minimal_site, run, tmp_path):
    body = _SHOWN.replace("### Evidence URL\n\n_No response_", "### Evidence URL\n\n<https://example.org/evidence/1>")
    body = body.replace("### Narrative\n\n_No response_", "### Narrative\n\n<3 years on site, and 2<3 too.")
    result = _issue(run, minimal_site, _event_with_body(tmp_path, body))
    assert "the issue holds HTML" not in result.err and "Traceback" not in result.err


def test_indented_labels_are_read_and_every_answer_is_quoted_in_the_pull_request(minimal_site, run, tmp_path):
    result = _issue(run, minimal_site, _event_with_body(tmp_path, _SHOWN))
    assert result.code == 0, result.err
    data = yaml.safe_load((minimal_site / "recipients/jane-q.yaml").read_text())
    assert data["email"] == "jane.q@company.example"
    assert "The issue's answers, as badgekiln read them (compare them with the issue):" in result.out
    assert "Earner's email: jane.q@company.example" in result.out and "Narrative: (none)" in result.out


def test_bad_answers_are_reported_together(minimal_site, run, tmp_path):
    reply = tmp_path / "reply.md"
    result = _issue(run, minimal_site, _event(tmp_path, "award-bad-answers.json"), "--reply", str(reply))
    assert result.code == 1 and "Traceback" not in result.err
    assert "issue #17" in result.err and "email" in result.err
    # (first-time provider review: the issue said only "the reason is in <the run's log>", where
    # the answers were named 'issued_on' and 'email', not as the form labels them)
    comment = reply.read_text()
    assert comment.startswith("badgekiln could not make a pull request from this issue:\n\n```text\n")
    assert '"Earner\'s email" is not a valid email address' in comment
    assert '"Date issued" must be a date written YYYY-MM-DD' in comment
    assert "there is no badge 'no-such'" in comment and "remove the label and add it again" in comment


def test_a_reply_quotes_the_answers_without_letting_them_out_of_its_code_block(minimal_site, run, tmp_path):
    # (the answers are anyone's text: no link, image or @mention of theirs may render on the issue)
    event = json.loads((EVENTS / "award-bad-answers.json").read_text())
    event["issue"]["body"] = event["issue"]["body"].replace(
        "not-an-email", "x ```` @everyone ![i](https://e.vil/x.png)"
    )
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    reply = tmp_path / "reply.md"
    assert _issue(run, minimal_site, path, "--reply", str(reply)).code == 1
    comment = reply.read_text()
    fence = comment.split("\n")[2].removesuffix("text")
    assert set(fence) == {"`"} and len(fence) >= 5 and "@everyone" in comment
    body = comment.split(fence + "text\n", 1)[1]
    assert "@everyone" in body.split("\n" + fence + "\n", 1)[0]  # (inside the block)
    assert "@everyone" not in body.split("\n" + fence + "\n", 1)[1]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"[]",
        b'{"issue": {"number": "1"}}',
        b'{"issue": {"number": 3, "body": 5}}',
        b"[" * 100_000,
        b"\xff\xfe",
        b'{"issue": {"number": 3, "body": ""}, "label": {"name": "award"}, "sender": {}}',
    ],
    ids=["empty", "list", "string-number", "body-not-text", "deep", "binary", "not-a-form"],
)
def test_malformed_events_get_one_clear_line(minimal_site, run, tmp_path, content):
    event = tmp_path / "event.json"
    event.write_bytes(content)
    result = _issue(run, minimal_site, event, "--sender-permission", "admin")
    assert result.code == 1 and "Traceback" not in result.err and result.err.strip()


def test_revoke_from_a_labelled_issue_form(minimal_site, run, tmp_path):
    result = _issue(run, minimal_site, _event(tmp_path, "revoke-labeled.json", AWARD_ID="ann-first-1"))
    assert result.code == 0, result.err
    text = (minimal_site / "recipients/ann.yaml").read_text()
    assert "revoked:" in text and "on: 2026-11-22" in text and "Issued in error" in text
    # (the badge and the earner named: a wrong id is seen before the merge)
    assert "title: Revoke First Badge award ann-first-1 of Ann Example" in result.out
    bad = _issue(run, minimal_site, _event(tmp_path, "revoke-labeled.json", AWARD_ID="../../etc/passwd"))
    assert bad.code == 1 and "is not an award id" in bad.err


@pytest.mark.parametrize(
    "given",
    [
        "https://badges.example.org/awards/ann-first-1/",
        "awards/ann-first-1",
        "ann-first-1.",
        " ANN-FIRST-1 ",
        "ann-first -1",
    ],
)
def test_the_award_id_answer_is_read_as_revoke_reads_one(minimal_site, run, tmp_path, given):
    # (a review: the form's own description points to the page's address, which it refused)
    result = _issue(run, minimal_site, _event(tmp_path, "revoke-labeled.json", AWARD_ID=given))
    assert result.code == 0, result.err
    assert "on: 2026-11-22" in (minimal_site / "recipients/ann.yaml").read_text()


def test_every_problem_of_a_revoke_form_is_said_at_once_by_the_forms_labels(minimal_site, run, tmp_path):
    event = _event(tmp_path, "revoke-labeled.json", AWARD_ID="bad#id")
    event.write_text(
        event.read_text()
        .replace("Issued in error", "_No response_")
        .replace("### Date revoked\\n\\n_No response_", "### Date revoked\\n\\n2027-01-01")
    )
    reply = tmp_path / "reply.md"
    result = _issue(run, minimal_site, event, "--reply", str(reply))
    assert result.code == 1
    text = reply.read_text()
    assert "'bad#id' is not an award id" in text
    assert '"Reason" must be filled in' in text
    assert '"Date revoked" (2027-01-01) is in the future' in text
    assert text.endswith("Edit the issue to correct its answers, then remove the label and add it again.\n")


def test_a_reply_says_to_edit_the_issue_only_when_that_puts_it_right(minimal_site, run, tmp_path):
    event = _event(tmp_path, "award-labeled.json")
    event.write_text(
        event.read_text().replace("### Date issued", "### Badge\\r\\n\\r\\nfirst-badge\\r\\n\\r\\n### Date issued")
    )
    reply = tmp_path / "reply.md"
    twice = _issue(run, minimal_site, event, "--reply", str(reply))
    assert twice.code == 1 and "appears twice; make a new issue with the form" in reply.read_text()
    assert "Edit the issue" not in reply.read_text()


def test_what_award_would_warn_of_is_in_the_pull_request_and_its_title_names_the_earner_on_file(
    minimal_site, run, tmp_path
):
    # (a review: "Award First Badge to Janet Smythe" added the badge to Ann Example's file, and the
    # name-differs warning that 'badgekiln award' gives went nowhere)
    event = _event(tmp_path, "award-labeled.json")
    event.write_text(
        event.read_text().replace("Zoë Ångström 🎉", "Janet Smythe").replace("zoe@example.com", "ANN@example.com")
    )
    result = _issue(run, minimal_site, event)
    assert result.code == 0, result.err
    assert "title: Award First Badge to Ann Example" in result.out
    assert "badgekiln says, before you merge:" in result.out
    assert "warning[name-differs]" in result.out and "'Janet Smythe'" in result.out
    assert "```text\n" in result.out  # (the form's text in a fenced block: nothing of it renders)


@pytest.mark.parametrize(("character", "described"), [("\u202e", "U+202E"), ("\u001b", "U+001B"), ("\ufdd0", "U+FDD0")])
def test_a_revocation_reason_that_is_not_text_is_refused_on_the_issue(
    minimal_site, run, tmp_path, character, described
):
    # (the command line refused it, the issue form wrote it: the pull request then failed to build)
    event = _event(tmp_path, "revoke-labeled.json", AWARD_ID="ann-first-1")
    event.write_text(event.read_text().replace("Issued in error", f"Issued {json.dumps(character)[1:-1]}in error"))
    before = (minimal_site / "recipients/ann.yaml").read_text()
    result = _issue(run, minimal_site, event)
    assert result.code == 1 and f"holds a character that is not text ({described}" in result.err
    assert (minimal_site / "recipients/ann.yaml").read_text() == before


def test_a_reason_over_the_limit_is_refused_before_any_file_is_changed(minimal_site, run, tmp_path):
    # (a review, 2026-12-07: a 600-character reason was written, then the build refused it; the
    # issue's reply blamed "the site's own files", and revoke and suspend said "commit it")
    event = _event(tmp_path, "revoke-labeled.json", AWARD_ID="ann-first-1")
    event.write_text(event.read_text().replace("Issued in error", "x" * 501))
    before = (minimal_site / "recipients/ann.yaml").read_text()
    reply = tmp_path / "reply.md"
    result = _issue(run, minimal_site, event, "--reply", str(reply))
    assert result.code == 1 and "the reason is published with the badge, and is 501 characters; the limit is 500" in (
        reply.read_text()
    )
    assert "the site's own files" not in reply.read_text()
    for command in ("revoke", "suspend"):
        refused = run(command, "ann-first-1", "--reason", "y " * 300, "--source", str(minimal_site), "--today", TODAY)
        assert refused.code == 1 and "is 599 characters; the limit is 500" in refused.err, refused.err
    assert (minimal_site / "recipients/ann.yaml").read_text() == before
    at_the_limit = run("revoke", "ann-first-1", "--reason", "z" * 500, "--source", str(minimal_site), "--today", TODAY)
    assert at_the_limit.code == 0, at_the_limit.err
    build(run, minimal_site)


def test_two_notify_runs_keep_both_sets_of_lock_lines(tmp_path, run):
    # (a run queued behind another checked out its own, older commit, sent the other's emails again,
    # and lost its own lock lines to a rebase conflict: a review)
    site = tmp_path / "site"
    assert (
        run(
            "init",
            str(site),
            "--name",
            "Acme Training",
            "--base-url",
            "https://badges.acme.example/",
            "--email",
            "badges@acme.example",
        ).code
        == 0
    )
    publish = yaml.safe_load((site / ".github/workflows/publish.yml").read_text())
    notify = publish["jobs"]["notify"]
    checkout = next(step for step in notify["steps"] if str(step.get("uses", "")).startswith("actions/checkout"))
    assert checkout["with"]["ref"] == "${{ github.ref_name }}"  # (the branch now, not the run's commit)
    assert notify["concurrency"] == {"group": "badgekiln-notify", "cancel-in-progress": False}
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    lock = "site_src/notified.lock"
    (site / lock).write_text("# badgekiln\n")
    subprocess.run([*git, "init", "-q", "-b", "main", str(site)], check=True)
    subprocess.run([*git, "-C", str(site), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(site), "commit", "-qm", "site"], check=True)
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(site), str(origin)], check=True)
    runs = []
    for name in ("one", "two"):
        clone = tmp_path / name
        subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)
        runs.append(clone)
    for clone, line in zip(runs, ("award-a\t2026-12-06\n", "award-b\t2026-12-06\n"), strict=True):
        with (clone / lock).open("a") as handle:  # (what notify appends)
            handle.write(line)
        subprocess.run([*git, "-C", str(clone), "commit", "-qam", "notify"], check=True)
        # (the workflow's own lines: pull --rebase, then push)
        subprocess.run([*git, "-C", str(clone), "pull", "--rebase", "--quiet"], check=True)
        subprocess.run([*git, "-C", str(clone), "push", "-q"], check=True)
    merged = subprocess.run(
        ["git", "-C", str(origin), "show", f"main:{lock}"], capture_output=True, text=True, check=True
    )
    assert merged.stdout.count("award-a\t") == 1 and merged.stdout.count("award-b\t") == 1


def test_init_github_renews_the_badge_list_and_the_build_warns_when_stale(minimal_site, run):
    result = run("init", "--github", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err
    form = minimal_site / ".github/ISSUE_TEMPLATE/award.yml"
    assert "created .github/ISSUE_TEMPLATE/award.yml" in result.out
    assert "stale-issue-form" not in build(run, minimal_site).err
    write_site(
        minimal_site,
        {
            "badges/second-badge.yaml": """
        name: "Second: Advanced"
        description: The second badge.
        image: assets/badge.svg
        criteria: Did more.
    """
        },
    )
    assert "stale-issue-form" in build(run, minimal_site).err
    checked = run("check", "--source", str(minimal_site), "--today", TODAY)  # (a pre-commit hook says it too)
    assert checked.code == 0 and "warning[stale-issue-form]" in checked.err
    result = run("init", "--github", str(minimal_site), "--today", TODAY)
    assert result.out.splitlines()[0] == "renewed .github/ISSUE_TEMPLATE/award.yml"
    dropdown = next(e for e in yaml.safe_load(form.read_text())["body"] if e.get("id") == "badge")
    options = dropdown["attributes"]["options"]
    assert options == ["First Badge (first-badge)", "Second: Advanced (second-badge)"]
    assert "stale-issue-form" not in build(run, minimal_site).err
    assert run("init", "--github", str(minimal_site), "--today", TODAY).out.strip() == "the GitHub files are up to date"


BOMB = (  # (an attack review: a few hundred bytes that str() spells out in gigabytes)
    "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))
    + "body: [{id: badge, attributes: {options: [*i]}}]\n"
)


@pytest.mark.parametrize("text", ["body: [{id: badge, attributes: oops}]\n", "[" * 3000, "body: [{id: badge}]\n", BOMB])
def test_a_hand_edited_award_form_is_warned_about_not_a_crash(minimal_site, run, text):
    # (a review: attributes that are not a mapping, or nesting past Python's recursion limit, made
    # check and build end in "internal error")
    form = minimal_site / ".github/ISSUE_TEMPLATE/award.yml"
    form.parent.mkdir(parents=True)
    form.write_text(text)
    for command in ("check", "build"):
        result = run(command, "--source", str(minimal_site), "--today", TODAY)
        assert result.code == 0 and "warning[stale-issue-form]" in result.err, (command, result.err)


@pytest.mark.parametrize(("form", "fields"), [("award.yml", "AWARD_FIELDS"), ("revoke.yml", "REVOKE_FIELDS")])
def test_issue_forms_are_valid_and_their_labels_are_what_is_parsed(tmp_path, run, form, fields):
    from badgekiln.commands import github

    assert run("init", str(tmp_path / "new")).code == 0
    data = yaml.safe_load((tmp_path / "new/.github/ISSUE_TEMPLATE" / form).read_text())
    assert {"name", "description", "body"} <= set(data) and data["labels"] in (["award-request"], ["revoke-request"])
    assert not set(data["labels"]) & {github.AWARD_LABEL, github.REVOKE_LABEL}  # never the label that acts
    inputs = [e for e in data["body"] if e["type"] != "markdown"]
    assert all(e["type"] in ("input", "textarea", "dropdown") for e in inputs)
    ids = [e["id"] for e in inputs]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[a-z_]+", i) for i in ids)
    # GitHub renders each answer under "### <label>": these are the labels github-issue reads.
    assert [e["attributes"]["label"] for e in inputs] == list(getattr(github, fields))
    for element in inputs:
        if element["type"] == "dropdown":
            options = element["attributes"]["options"]
            assert options and len(options) == len(set(options))


def test_a_merged_issue_form_award_publishes_without_a_build_on_a_computer(minimal_site, run, tmp_path):
    # (first-time provider review: the pull request of an issue form's award failed the publish
    # workflow, 'ledger-stale', until someone built the site locally and committed awards.lock)
    publishable(minimal_site)
    assert run("keys", "generate", "--source", str(minimal_site), "--today", TODAY).code == 0
    build(run, minimal_site)  # (the site as committed: ids and ledger pinned)
    result = _issue(run, minimal_site, _event(tmp_path, "award-labeled.json"))
    assert result.code == 0, result.err
    ledger = (minimal_site / "site_src/awards.lock").read_text()
    award = yaml.safe_load((minimal_site / "recipients/zoe-angstrom.yaml").read_text())["awards"][0]
    assert re.search(
        rf"^{award['id']}\t1\tfirst-badge\t\d{{4}}-\d\d-\d\d-rsa-\w+\t\d{{4}}-\d\d-\d\d-ed25519-\w+$", ledger, re.M
    )
    produced = run("build", "--source", str(minimal_site), "--today", TODAY, "--production")  # (what publish.yml runs)
    assert produced.code == 0, produced.err
    assert (minimal_site / f"output/awards/{award['id']}/credential.json").is_file()
    build(run, minimal_site)  # (a local build finds nothing more to record: the same ledger)
    assert (minimal_site / "site_src/awards.lock").read_text() == ledger


def test_award_from_a_sheet_records_its_awards_in_the_ledger(minimal_site, run, tmp_path):
    # (the site README says: import, commit recipients/, push; the publish workflow then refused it)
    build(run, minimal_site)
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "name,email,badge,issued_on\nZoe,zoe@example.org,first-badge,2026-03-01\nBo,bo@example.org,first-badge,2026-03-01\n"
    )
    result = run("award", "--csv", str(sheet), "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0 and "site_src/awards.lock records 2 new award(s): commit it with recipients/" in result.out
    ledger = (minimal_site / "site_src/awards.lock").read_text()
    assert run("check", "--source", str(minimal_site), "--today", TODAY).code == 0
    build(run, minimal_site)
    assert (minimal_site / "site_src/awards.lock").read_text() == ledger and ledger.count("\tfirst-badge\t") == 3


def test_the_daily_run_is_a_workflow_of_its_own_that_runs_publish(tmp_path, run):
    # (hostile review: a schedule in publish.yml would have GitHub turn the whole Publish workflow
    # off after 60 quiet days, publishing on push included)
    site = tmp_path / "site"
    assert run("init", str(site), "--name", "Harbour Safety Training").code == 0
    daily = yaml.safe_load((site / ".github/workflows/daily.yml").read_text())
    publish = yaml.safe_load((site / ".github/workflows/publish.yml").read_text())
    assert daily[True]["schedule"] == [{"cron": "17 4 * * *"}]  # (YAML 1.1 reads the key 'on' as True)
    assert daily["jobs"]["publish"] == {"uses": "./.github/workflows/publish.yml", "secrets": "inherit"}
    assert "schedule" not in publish[True] and "workflow_call" in publish[True] and "push" in publish[True]
    assert run("build", "--source", str(site)).code == 0
    old = (site / ".github/workflows/publish.yml").read_text().replace("  workflow_call:\n", "")
    (site / ".github/workflows/publish.yml").write_text(old)  # (as an earlier init wrote it)
    for command in ("build", "check"):  # (check, which CI and pre-commit hooks run, says it too: an audit)
        result = run(command, "--source", str(site))
        assert result.code == 0 and "warning[stale-workflow]" in result.err and "workflow_call:" in result.err


def test_award_records_only_new_pinned_awards_and_leaves_the_rest_to_the_build(minimal_site, run, tmp_path):
    # (hostile review: an unpinned hand-written award went into the ledger without its id, and a
    # published award's badge change was absorbed silently, so no build ever said badge-changed)
    build(run, minimal_site)
    ledger = (minimal_site / "site_src/awards.lock").read_text()
    ann = minimal_site / "recipients/ann.yaml"
    ann.write_text(ann.read_text() + "  - badge: first-badge\n    issued_on: 2026-03-01\n")  # (no id yet)
    sheet = tmp_path / "awards.csv"
    sheet.write_text("name,email,badge,issued_on\nZoe,zoe@example.org,first-badge,2026-03-01\n")
    result = run("award", "--csv", str(sheet), "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0 and "awards.lock records" not in result.out
    assert (
        "site_src/awards.lock: warning[not-recorded]: the new award(s) are not recorded in site_src/awards.lock"
        in result.err
    )
    assert "the award at recipients/ann.yaml:" in result.err and "has no 'id' line yet" in result.err
    assert "fix that, then run `python build.py`, which records them" in result.err
    assert (minimal_site / "site_src/awards.lock").read_text() == ledger
    built = build(run, minimal_site)  # (the build pins the id and records both)
    assert "award-removed" not in built.err


def test_award_leaves_a_published_awards_badge_change_to_the_build(minimal_site, run, tmp_path):
    build(run, minimal_site)
    ledger = (minimal_site / "site_src/awards.lock").read_text()
    first = (minimal_site / "badges/first-badge.yaml").read_text()
    (minimal_site / "badges/second-badge.yaml").write_text(first.replace("First Badge", "Second Badge"))
    ann = minimal_site / "recipients/ann.yaml"
    ann.write_text(ann.read_text().replace("badge: first-badge", "badge: second-badge"))
    sheet = tmp_path / "awards.csv"
    sheet.write_text("name,email,badge,issued_on\nZoe,zoe@example.org,first-badge,2026-03-01\n")
    result = run("award", "--csv", str(sheet), "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0 and "warning[not-recorded]" in result.err
    assert "the entry of award 'ann-first-1' in site_src/awards.lock would change" in result.err
    assert (minimal_site / "site_src/awards.lock").read_text() == ledger
    assert "warning[badge-changed]" in build(run, minimal_site).err


def test_award_says_why_a_ledger_with_conflict_markers_does_not_record_it(minimal_site, run, tmp_path):
    """Two branches that both added awards leave git's markers in awards.lock; an award added
    then was written but not recorded, without a word (a review, 2026-12-07), and the publish
    workflow refused it later."""
    build(run, minimal_site)
    lock = minimal_site / "site_src/awards.lock"
    lines = lock.read_text().splitlines(keepends=True)
    lock.write_text("".join([*lines, "<<<<<<< HEAD\n", "=======\n", ">>>>>>> other\n"]))
    sheet = tmp_path / "awards.csv"
    sheet.write_text("name,email,badge,issued_on\nZoe,zoe@example.org,first-badge,2026-03-01\n")
    result = run("award", "--csv", str(sheet), "--source", str(minimal_site), "--today", TODAY)
    assert "Traceback" not in result.err
    assert "warning[not-recorded]" in result.err and "git merge conflict markers" in result.err, result.err
    assert f"site_src/awards.lock:{len(lines) + 1}:1: warning[not-recorded]: the new award(s) are not" in result.err
    assert result.code == 0 and "so commit awards.lock with them" in result.err
    assert "awards.lock records" not in result.out and "<<<<<<< HEAD" in lock.read_text()


def test_a_reply_never_quotes_the_sites_own_files(minimal_site, run, tmp_path):
    # (hostile review: an error in another earner's file, quoting their address, was posted on the
    # issue, which anyone may read)
    (minimal_site / "recipients/kim.yaml").write_text(
        "name: Kim\nemail: kim.private@@example.com\nawards:\n  - badge: first-badge\n    issued_on: 2026-01-01\n"
    )
    reply = tmp_path / "reply.md"
    result = _issue(run, minimal_site, _event(tmp_path, "award-labeled.json"), "--reply", str(reply))
    assert result.code == 1 and "kim.private" in result.err  # (the log, for the maintainer, has it)
    comment = reply.read_text()
    assert "kim.private" not in comment and "the site's own files have 1 error(s)" in comment, comment


def test_the_pull_request_check_runs_without_secrets_and_checks_pins_only_when_they_change(tmp_path, run):
    """check.yml: `badgekiln check` on every pull request (read-only token, no secret), and
    `badgekiln endorsers check` when the pull request changes site_src/endorsers/ (a pin is what
    makes a page name who signed an endorsement: one made up in a pull request is caught there)."""
    target = tmp_path / "new"
    assert run("init", str(target), "--name", "Acme Training").code == 0
    text = (target / ".github/workflows/check.yml").read_text()
    workflow = yaml.safe_load(text)
    assert list(workflow[True]) == ["pull_request"]  # (YAML 1.1 reads the key `on` as True)
    assert workflow["permissions"] == {"contents": "read"} and "secrets." not in text
    steps = workflow["jobs"]["check"]["steps"]
    assert [s.get("run") for s in steps if s.get("run", "").startswith("badgekiln")] == ["badgekiln check"]
    # (pip not from the checkout, where a pull request could put a package named pip: a review)
    installs = [s["run"] for s in steps if "pip install" in s.get("run", "")]
    assert len(installs) == 1 and installs[0].startswith('python -I -m pip install "badgekiln==')
    assert workflow["jobs"]["check"]["timeout-minutes"] == 20
    script = next(s for s in steps if "endorsers check" in s.get("run", ""))["run"]

    # The step's own shell, in a repository whose pull request changes one file or the other, with
    # a stand-in `badgekiln` that records how it was called.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    stand_in = bin_dir / "badgekiln"
    stand_in.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    stand_in.chmod(0o755)
    repo = tmp_path / "repo"
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-C", str(repo)]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "site_src/endorsers").mkdir(parents=True)
    (repo / "site_src/endorsers/a.json").write_text("{}\n")
    (repo / "recipients").mkdir()
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    subprocess.run([*git, "update-ref", "refs/remotes/origin/main", "HEAD"], check=True)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "BASE_REF": "main"}
    for changed, checked in (("recipients/ann.yaml", False), ("site_src/endorsers/royal.json", True)):
        (repo / changed).write_text("{}\n")
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run([*git, "commit", "-qm", changed], check=True)
        calls.unlink(missing_ok=True)
        done = subprocess.run(["bash", "-e", "-c", script], cwd=repo, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert (calls.read_text() if calls.exists() else "") == ("endorsers check\n" if checked else ""), changed


def test_an_award_held_already_is_said_once_without_advice_to_edit(minimal_site, run, tmp_path):
    event = _event(tmp_path, "award-labeled.json")
    assert _issue(run, minimal_site, event).code == 0
    reply = tmp_path / "reply.md"
    again = _issue(run, minimal_site, event, "--reply", str(reply))
    assert again.code == 1 and "nothing to add" in again.err
    assert again.err.count("(award ") == 1  # (it was said twice: "(award x) (award x)")
    assert "Edit the issue" not in reply.read_text()


def test_names_in_titles_close_no_issue_and_mention_nobody_and_ids_come_from_any_site_address(
    minimal_site, run, tmp_path
):
    # (a review: a title is the commit's message, and "Closes #1 @octocat" in a name would close #1)
    event = _event(tmp_path, "award-labeled.json")
    event.write_text(
        event.read_text().replace(
            "Zoë Ångström 🎉", "Zoe Closes #1 @octocat fixes https://github.com/o/r/issues/2 resolves gh-3 _GH-4 éGh-5"
        )
    )
    made = _issue(run, minimal_site, event)
    assert made.code == 0, made.err
    assert "title: Award First Badge to Zoe Closes \uff031 \uff20octocat fixes https:\uff0f\uff0fgithub.com" in made.out
    title = made.out.split("\n")[1]
    assert "#1" not in title and "/issues/2" not in title and "gh\u20113" in title and "gh-3" not in title
    assert "_GH\u20114" in title and "éGh\u20115" in title
    # (an address of a site whose folder's name ends in "awards": the id is after the last /awards/)
    given = "https://acme.github.io/staff-awards/awards/ann-first-1/?ref=/awards/bo-first-1#/awards/bo-first-1"
    revoked = _issue(run, minimal_site, _event(tmp_path, "revoke-labeled.json", AWARD_ID=given))
    assert revoked.code == 0, revoked.err
    reply = tmp_path / "reply.md"
    again = _issue(
        run, minimal_site, _event(tmp_path, "revoke-labeled.json", AWARD_ID="ann-first-1"), "--reply", str(reply)
    )
    assert again.code == 1 and "already revoked" in reply.read_text() and "Edit the issue" not in reply.read_text()
    assert "\n\n\n" not in reply.read_text()


def test_replies_speak_of_the_issue_not_of_a_spreadsheets_rows_and_cells(minimal_site, run, tmp_path):
    # (a review, 2026-12-07: 'row needs "Badge" (fill in its "Badge" cell)', 'correct the row')
    reply = tmp_path / "reply.md"
    body = _SHOWN.replace("First Badge (first-badge)", "_No response_")
    result = _issue(run, minimal_site, _event_with_body(tmp_path, body), "--reply", str(reply))
    said = reply.read_text()
    assert result.code == 1 and "the issue needs" in said and 'answer "Badge" in the issue' in said, said
    assert "row" not in said and "cell" not in said
    renamed = _SHOWN.replace("Jane Q", "Janet Example").replace("jane.q@company.example", "ann@example.com")
    made = _issue(run, minimal_site, _event_with_body(tmp_path, renamed))
    assert made.code == 0 and "this issue names ann@example.com 'Janet Example'" in made.out
    assert "hint: correct the issue, or, if the earner's name has changed" in made.out


def test_decoy_labels_that_look_like_the_forms_are_read_as_them(minimal_site, run, tmp_path):
    # (a third review: 'Earner's  email' and 'Badge&nbsp;' show as the form's labels; with the real
    # answers in a <details> opened by a tag and a form feed, the hidden ones were acted on)
    decoy = (
        _SHOWN.replace("### Earner's name", "### Earner's  name")
        .replace("### Earner's email", "### Earner's  email")
        .replace("### Badge", "### Badge\u00a0")
        .replace("### Date issued", "### Date  issued")
        .replace("### Evidence URL", "### Evidence&#32;URL")
        .replace("### Narrative", "### Narrative&nbsp;")
    )
    before = sorted(p.name for p in (minimal_site / "recipients").iterdir())
    for body in (decoy + "\n" + _UNSHOWN, decoy + "\n<details\f>\n\n" + _UNSHOWN):
        reply = tmp_path / "reply.md"
        result = _issue(run, minimal_site, _event_with_body(tmp_path, body), "--reply", str(reply))
        said = reply.read_text()
        expected = "the issue holds HTML" if "<details" in body else "appears twice"
        assert result.code == 1 and expected in said, said
    assert sorted(p.name for p in (minimal_site / "recipients").iterdir()) == before


def test_the_pull_request_never_quotes_another_earners_address(minimal_site, run, tmp_path):
    # (a third review: a stranger who filed an issue under an earner's name read that earner's
    # address in the same-name warning the pull request quoted; the log keeps it)
    body = _SHOWN.replace("Jane Q", "Ann Example").replace("jane.q@company.example", "stranger@evil.example")
    result = _issue(run, minimal_site, _event_with_body(tmp_path, body))
    assert result.code == 0, result.err
    assert "ann@example.com" not in result.out and "warning[same-name]" not in result.out
    assert "(1 more, about other earners or the site's files: see the workflow's log)" in result.out
    assert "warning[same-name]" in result.err and "ann@example.com" in result.err
