"""Revocation writes a reviewable YAML diff and reaches pages and lists; expiry reports."""

import base64
import csv
import io
import json

import pytest
from conftest import TODAY, build, write_site

from badgekiln.sources.fields import email_in_text


def test_revoke_writes_a_small_diff_and_the_build_publishes_it(minimal_site, run):
    build(run, minimal_site)
    before = (minimal_site / "recipients/ann.yaml").read_text()
    result = run(
        "revoke",
        "ann-first-1",
        "--reason",
        'Issued in error: "MJI12"',
        "--on",
        "2026-05-01",
        "--source",
        str(minimal_site),
        "--today",
        TODAY,
    )
    assert result.code == 0, result.err
    after = (minimal_site / "recipients/ann.yaml").read_text()
    assert after.startswith(before)
    assert after[len(before) :] == '    revoked:\n      on: 2026-05-01\n      reason: "Issued in error: \\"MJI12\\""\n'
    build(run, minimal_site)
    out = minimal_site / "output"
    hosted = json.loads((out / "awards/ann-first-1/assertion.json").read_text())
    assert hosted["revoked"] is True and hosted["revocationReason"] == 'Issued in error: "MJI12"'
    revocations = json.loads((out / "revocations.json").read_text())
    signed_id = json.loads(
        base64.urlsafe_b64decode((out / "awards/ann-first-1/assertion.jws").read_text().split(".")[1] + "==").decode()
    )["id"]
    assert signed_id.startswith("urn:uuid:")
    reason = 'Issued in error: "MJI12"'
    assert sorted(revocations["revokedAssertions"], key=lambda e: e["id"]) == sorted(
        [  # both ids of the award
            {"id": signed_id, "revocationReason": reason},
            {"id": "https://badges.example.org/awards/ann-first-1/assertion.json", "revocationReason": reason},
        ],
        key=lambda e: e["id"],
    )
    page = (out / "awards/ann-first-1/index.html").read_text()
    assert "<strong>Revoked</strong> on 1 May 2026" in page
    assert "Add to LinkedIn" not in page


def test_revoke_an_award_in_the_middle_keeps_the_others(minimal_site, run):
    write_site(
        minimal_site,
        {
            "recipients/ann.yaml": """
        name: Ann Example
        email: ann@example.com
        awards:
          - id: ann-first-1
            badge: first-badge
            issued_on: 2026-01-15
            narrative: |
              Two lines
              of narrative.

          # the next award
          - id: ann-first-2
            badge: first-badge
            issued_on: 2026-02-15
    """
        },
    )
    result = run("revoke", "ann-first-1", "--reason", "Duplicate", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err
    text = (minimal_site / "recipients/ann.yaml").read_text()
    assert (
        '      of narrative.\n    revoked:\n      on: 2026-11-22\n      reason: "Duplicate"\n\n  # the next award'
        in text
    )
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err


def test_revoke_refuses_unknown_and_already_revoked(minimal_site, run):
    result = run("revoke", "nope-0000", "--reason", "x", "--source", str(minimal_site))
    assert result.code == 1 and "there is no award 'nope-0000'" in result.err
    run("revoke", "ann-first-1", "--reason", "x", "--source", str(minimal_site), "--today", TODAY)
    result = run("revoke", "ann-first-1", "--reason", "y", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "already revoked" in result.err


def test_report_expiring_counts_days_in_words(minimal_site, run):
    # ("1 days left", "expired 0 days ago" on the expiry day: a review)
    write_site(
        minimal_site,
        {
            "recipients/ann.yaml": """
        name: Ann Example
        email: ann@example.com
        awards:
          - {id: today-0001, badge: first-badge, issued_on: 2025-01-01, expires: 2026-11-22}
          - {id: tomorrow-01, badge: first-badge, issued_on: 2025-01-01, expires: 2026-11-23}
          - {id: yesterday1, badge: first-badge, issued_on: 2025-01-01, expires: 2026-11-21}
    """
        },
    )
    result = run(
        "report", "expiring", "--within", "5d", "--include-expired", "--source", str(minimal_site), "--today", TODAY
    )
    assert result.code == 0, result.err
    assert "2026-11-22  expired today" in result.out
    assert "2026-11-23  1 day left" in result.out
    assert "2026-11-21  expired 1 day ago" in result.out


def test_report_expiring_in_three_formats(minimal_site, run):
    write_site(
        minimal_site,
        {
            "recipients/ann.yaml": """
        name: Ann Example
        email: ann@example.com
        awards:
          - {id: soon-0001, badge: first-badge, issued_on: 2025-01-01, expires: 2026-12-31}
          - {id: later-0001, badge: first-badge, issued_on: 2025-01-01, expires: 2027-12-31}
          - {id: gone-0001, badge: first-badge, issued_on: 2024-01-01, expires: 2025-01-01}
          - {id: never-0001, badge: first-badge, issued_on: 2025-01-01}
    """
        },
    )
    result = run("report", "expiring", "--within", "90d", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err
    assert "2026-12-31  39 days left" in result.out and "soon-0001" in result.out
    assert result.out.splitlines()[0].split() == ["expires", "award", "earner", "<email>", "badge"]  # (a header row)
    assert "later-0001" not in result.out and "gone-0001" not in result.out
    result = run(
        "report",
        "expiring",
        "--within",
        "2y",
        "--include-expired",
        "--format",
        "csv",
        "--source",
        str(minimal_site),
        "--today",
        TODAY,
    )
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert [r["award_id"] for r in rows] == ["gone-0001", "soon-0001", "later-0001"]
    assert rows[0]["email"] == "ann@example.com" and rows[0]["days_left"] == "-690"
    result = run("report", "expiring", "--format", "json", "--source", str(minimal_site), "--today", TODAY)
    assert [r["award_id"] for r in json.loads(result.out)] == ["soon-0001"]
    result = run("report", "expiring", "--within", "soon", "--source", str(minimal_site))
    assert result.code == 2 and "--within takes a number and a unit" in result.err  # (a usage error)


def test_a_revocation_cannot_be_dated_in_the_future(minimal_site, run):
    result = run(
        "revoke", "ann-first-1", "--reason", "x", "--on", "2026-12-25", "--source", str(minimal_site), "--today", TODAY
    )
    assert result.code == 1 and "the revocation date 2026-12-25 is in the future" in result.err
    write_site(
        minimal_site,
        {
            "recipients/ann.yaml": """
        name: Ann Example
        email: ann@example.com
        awards:
          - id: ann-first-1
            badge: first-badge
            issued_on: 2026-01-15
            revoked: {on: 2026-12-25, reason: Later}
    """
        },
    )
    result = run("check", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "error[future-date]: the revocation date (2026-12-25) is in the future" in result.err


def test_an_award_may_be_named_by_its_page_url_in_any_case(minimal_site, run):
    # (provider UX review: the id pasted from the badge page's address, or with a space, was "no award")
    result = run(
        "revoke",
        " https://badges.example.org/awards/ANN-FIRST-1/ ",
        "--reason",
        "Issued in error",
        "--source",
        str(minimal_site),
        "--today",
        TODAY,
    )
    assert result.code == 0, result.err
    assert result.out.startswith("revoked ann-first-1 in recipients/ann.yaml")


def test_an_email_address_in_a_published_text_is_refused(minimal_site, run):
    # (provider UX review: a reason naming a complainant's address was published on the page)
    reason = "Complaint by supervisor bob.smith@acme-corp.com"
    for command in ("revoke", "suspend"):
        result = run(command, "ann-first-1", "--reason", reason, "--source", str(minimal_site), "--today", TODAY)
        assert result.code == 1 and "holds an email address (bob.smith@acme-corp.com)" in result.err
    assert "acme-corp" not in (minimal_site / "recipients/ann.yaml").read_text()
    ann = minimal_site / "recipients/ann.yaml"
    ann.write_text(ann.read_text() + "    narrative: Assessed by j.bloggs@assessors.example, on site.\n")
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1
    assert "error[email-published]: this text contains an email address (j.bloggs@assessors.example)" in result.err


def test_the_earners_own_address_is_found_when_hidden_by_invisible_characters(minimal_site, run):
    # (review: a word joiner inside the earner's own address beat the check; it shows as the address)
    ann = minimal_site / "recipients/ann.yaml"
    ann.write_text(ann.read_text() + "    narrative: Reach me at ANN\u2060@example\u3002com\n")
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1
    assert "error[email-published]: this text contains the earner's email address" in result.err


@pytest.mark.parametrize(
    "text",
    [
        "ansible@2.9.6",
        "react@18.2.0 and lodash@4.17.21",
        "Follow on Mastodon @akira@mastodon.social",
        "git@github.com:org/repo.git",
        "https://medium.com/@user/post",
        "https://www.mail-archive.com/list@lists.org/msg1.html",
        "Poster@ICML2024.pdf",
        "doi:10.1000/182",
        "sales@2x.PNG",
        "https://user:token@github.com/org/repo",
        "ssh deploy@build.example.com:22",
        "scp notes.txt backup@nas.example.org:~",
        "rsync -a site/ user@host.example.org:.",
        "git@github.com:org/repo",
        "C@rl and R&D@Home",
    ],
)
def test_texts_that_only_look_like_email_addresses_are_published(text):
    # (review: versions, handles, git remotes and file names were refused as addresses)
    assert email_in_text(text) is None


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Complaint by bob.smith@acme-corp.com", "bob.smith@acme-corp.com"),
        ("JANE.DOE+x@Example.COM", "JANE.DOE+x@Example.COM"),
        ("jörg@bücher.de", "jörg@bücher.de"),
        ("https://example.org/e?contact=other.person%40example.com", "other.person@example.com"),
        ("[write](mailto:jane%40example.com)", "jane@example.com"),
        ("jane&#64;example.com", "jane@example.com"),
        ("jane＠example.com", "jane@example.com"),
        ("write to x@y.com: soon", "x@y.com"),
        ("jane\u2060@example.com", "jane@example.com"),
        ("jane@exam\u200bple.com", "jane@example.com"),
        ("jane@example\u3002com", "jane@example.com"),
        ("Email:jane@x.com", "jane@x.com"),
        ("jane@x.com:she", "jane@x.com"),
        ("carol@example.org:she/her", "carol@example.org"),
        ("HR/hr@example.com", "hr@example.com"),
        ("Ask bob@example\ua4f8org", "bob@example.org"),
        ("jane\u034f@example.com", "jane@example.com"),
        ("jane\ufe0f@exam\U000e0041ple.com", "jane@example.com"),
        ("x@y\u0660com", "x@y.com"),
        ("jane\ufe6bexample.com", "jane@example.com"),
    ],
)
def test_email_addresses_are_found_in_their_usual_disguises(text, found):
    # (review: IDN, percent-encoded, HTML entity and full-width forms were published)
    assert email_in_text(text) == found


def test_within_takes_the_yaml_files_durations_too():
    # (provider UX review: P90D, as valid_for is written, was refused, and echoed lowercased)
    from datetime import timedelta

    from badgekiln.commands.report import parse_within
    from badgekiln.errors import BadgekilnError

    assert parse_within("P90D") == parse_within("90d") == timedelta(days=90)
    assert parse_within("p6m") == timedelta(days=180)
    with pytest.raises(BadgekilnError, match="not 'P90X'"):
        parse_within("P90X")


def test_a_mistyped_award_id_gets_a_suggestion(minimal_site, run):
    # (UX review: a mistyped badge slug got "did you mean", a mistyped award id did not)
    result = run("suspend", "ann-frist-1", "--reason", "Audit", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1 and "there is no award 'ann-frist-1'; did you mean 'ann-first-1'?" in result.err


def test_report_tables_line_up_under_their_headers(example_site, run):
    # (UX review: the "badge" header stood over the middle of the earners' emails)
    lines = run(
        "report", "expiring", "--within", "2000d", "--source", str(example_site), "--today", TODAY
    ).out.splitlines()
    header, rows = lines[0], lines[1:]
    column = header.index("badge")
    assert len(rows) >= 3 and all(row[column - 2 : column] == "  " and row[column] != " " for row in rows), lines
    assert all(row.index("<") >= header.index("earner") for row in rows)


def test_report_tables_line_up_with_wide_characters(minimal_site, run):
    # (hostile review: a name in Chinese characters shifted the badge column by their extra width)
    import unicodedata

    ann = minimal_site / "recipients/ann.yaml"
    ann.write_text(
        ann.read_text()
        .replace("name: Ann Example", "name: 李小龍")
        .replace("issued_on: 2026-01-15", "issued_on: 2026-01-15\n    expires: 2027-01-15")
    )
    lines = run(
        "report", "expiring", "--within", "2000d", "--source", str(minimal_site), "--today", TODAY
    ).out.splitlines()

    def columns(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)

    header, row = lines[0], lines[1]
    assert "李小龍" in row and columns(row[: row.index("First Badge")]) == columns(header[: header.index("badge")])


@pytest.mark.parametrize(
    ("narrative", "found"),
    [
        ("'Ask jane\\@assessors.example'", "jane@assessors.example"),  # (a Markdown escape)
        ("'Ask `jane`@assessors.example'", "jane@assessors.example"),  # (a code span)
        ("'[Ask][a]\n\n      [a]: mailto:jane\\@assessors.example'", "jane@assessors.example"),  # (a link's address)
        ("'Reach me at `ann`@example.com'", None),  # (the earner's own)
        # (a review: forms that read as '@' only once decoded, with an escape breaking the raw text)
        ("'[Write](mailto:jane%40assessors\\.example)'", "jane@assessors.example"),
        ("'jane\uff20assessors\\.example'", "jane@assessors.example"),
        ("'[jane](mailto:)\ufe6bassessors.example'", "jane@assessors.example"),
        ("'[x](https://example.org/?contact=jane%40assessors\\.example)'", "jane@assessors.example"),
        ("'Reach me at ann%40example\\.com'", None),
    ],
    ids=[
        "escape",
        "code-span",
        "reference-link",
        "own-address",
        "percent-mailto",
        "full-width-at",
        "small-at-after-link",
        "url-query",
        "own-percent",
    ],  # fmt: skip
)
def test_an_address_that_only_the_rendered_narrative_shows_is_refused(minimal_site, run, narrative, found):
    # (narratives are Markdown, shown rendered: the check reads them as their page shows them)
    ann = minimal_site / "recipients/ann.yaml"
    ann.write_text(
        ann.read_text() + f"    narrative: {narrative}\n" + "    evidence:\n      - narrative: Observed on site.\n"
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1, result.out
    assert "recipients/ann.yaml:7:16: error[email-published]" in result.err, result.err
    said = f"an email address ({found})" if found else "the earner's email address"
    assert said in result.err
    assert not (minimal_site / "output").exists()


def test_narratives_are_markdown_on_the_page_and_bounded(minimal_site, run):
    ann = minimal_site / "recipients/ann.yaml"
    plain = ann.read_text()
    ann.write_text(
        plain
        + '    narrative: "# Riverside\\n\\nLed the *Riverside* rebuild:\\n\\n- 120 joints\\n- ~~zero~~ one defect\\n\\n<script>x</script>"\n'
        + "    evidence:\n      - narrative: '[Report](https://example.org/r) and [bad](javascript:alert(1))'\n"
    )
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err
    page = (minimal_site / "output/awards/ann-first-1/index.html").read_text()
    assert '<p dir="auto">Led the <em>Riverside</em> rebuild:</p>\n<ul>\n<li dir="auto">120 joints</li>' in page
    assert '<li dir="auto"><s>zero</s> one defect</li>' in page  # (a strikethrough is kept: a review)
    assert '<h3 dir="auto">Riverside</h3>' in page  # (under the section's own h2, "About this award")
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x" not in page
    assert '<a href="https://example.org/r" rel="nofollow noopener noreferrer">Report</a>' in page
    assert 'href="javascript' not in page and "[bad](javascript:alert(1))" in page  # (text, not a link)
    credential = (minimal_site / "output/awards/ann-first-1/credential.json").read_text()
    assert "Led the *Riverside* rebuild" in credential  # (the credentials keep the Markdown, as OB 3.0 says)
    ann.write_text(plain + "    evidence:\n      - narrative: |\n" + "          |\n" * 2001)
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1
    assert "error[markdown-too-large]: the narrative cannot be shown: the Markdown has more than 2,000 table rows" in (
        result.err
    )


def test_an_awards_narratives_fit_on_its_page(minimal_site, run):
    # (a review of Markdown narratives: 70 long evidence narratives passed validation, then went
    # past the page's Markdown budget at render, an error in the built-in template)
    ann = minimal_site / "recipients/ann.yaml"
    plain = ann.read_text()
    long = "word " * 900  # (4,500 characters)
    ann.write_text(plain + "    evidence:\n" + f"      - narrative: '{long}'\n" * 19)
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 0, result.err
    assert (minimal_site / "output/awards/ann-first-1/index.html").read_text().count('<p dir="auto">word word') == 19
    ann.write_text(plain + "    evidence:\n" + f"      - narrative: '{long}'\n" * 70)
    result = run("build", "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1
    assert (
        "recipients/ann.yaml:8:7: error[markdown-too-large]: the narratives of this award (its own and its "
        "evidence's) are 314,930 characters; its page shows at most 100,000"
    ) in result.err, result.err
