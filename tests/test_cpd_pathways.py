"""CPD points, pathways (stacked badges) and portfolios, through the commands and real files."""

from __future__ import annotations

import csv
import importlib.resources
import io
import json
import shutil
import textwrap
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from conftest import SVG, build, tree_bytes, write_site

from badgekiln.crypto.canon import canonize
from badgekiln.errors import ValidationFailed
from badgekiln.sources.validate import load_project

TODAY = "2026-11-22"

BADGE = """
    name: {name}
    description: {name}, the badge.
    image: assets/badge.svg
    criteria: Did the thing.
"""

SITE = {
    "site_src/site.yaml": """
        base_url: https://badges.example.org/
        issuer:
          name: Example Issuer
          url: https://example.org
          email: badges@example.org
    """,
    "site_src/assets/badge.svg": SVG,
    "badges/first-aid.yaml": BADGE.format(name="First Aid"),
    "badges/rigging.yaml": BADGE.format(name="Rigging"),
    "badges/permit-to-work.yaml": BADGE.format(name="Permit to Work"),
    "badges/site-lead.yaml": BADGE.format(name="Site Lead")
    + """
    requires: {all: [first-aid, rigging, permit-to-work]}
    """,
    "badges/cpd-member.yaml": BADGE.format(name="CPD Member")
    + """
    cpd: {points: 20, within: P1Y}
    """,
    "recipients/ann.yaml": """
        name: Ann Example
        email: ann@example.com
        # Ann's record
        cpd:
          - {date: 2026-02-01, points: 8, activity: Pressure systems webinar}
          - date: 2026-06-10
            points: 7.5
            activity: Toolbox talk on lifting
            evidence: https://evidence.example.org/toolbox
        awards:
          - id: ann-first-aid
            badge: first-aid
            issued_on: 2026-01-15
          - id: ann-rigging
            badge: rigging
            issued_on: 2026-03-15
    """,
    "recipients/bob.yaml": """
        name: Bob Example
        email: bob@example.com
        awards: []
    """,
}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return write_site(tmp_path / "site", SITE)


def badge_yaml(name: str) -> str:
    return textwrap.dedent(BADGE.format(name=name)).lstrip("\n")


def run_ok(run, *args: str):
    result = run(*args)
    assert result.code == 0, result.out + result.err
    return result


def eligible(run, site: Path, *extra: str, today: str = TODAY) -> list[dict]:
    result = run_ok(run, "report", "eligible", "--source", str(site), "--today", today, "--format", "json", *extra)
    return json.loads(result.out)


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def errors_of(site: Path, today: str = TODAY) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        load_project(site, today=date.fromisoformat(today))
    return [d.render() for d in caught.value.items if d.is_error]


# -- story: a member awarded a CPD badge at 20 points -------------------------------------------


def test_a_member_is_awarded_the_cpd_badge_at_20_points(site, run):
    ann = site / "recipients/ann.yaml"
    assert [r for r in eligible(run, site) if r["badge"] == "cpd-member"] == []  # 15.5 points: not yet
    # 4 more points from the site's CPD sheet: 19.5, still not; 0.5 more: exactly 20.
    write_site(
        site,
        {
            "site_src/cpd.csv": "email,date,points,activity,evidence\n"
            "ANN@example.com,2026-09-01,4,Valve maintenance course,https://evidence.example.org/valves\n"
        },
    )
    assert [r for r in eligible(run, site) if r["badge"] == "cpd-member"] == []
    append(site / "site_src/cpd.csv", "ann@example.com,2026-11-01,0.5,Safety bulletin quiz,\n")
    rows = [r for r in eligible(run, site) if r["badge"] == "cpd-member"]
    assert [(r["file"], r["cpd_points"]) for r in rows] == [("recipients/ann.yaml", "20")]
    assert "20 of 20 CPD points since 2025-11-22 (4 activities)" in rows[0]["why"]
    before = ann.read_text(encoding="utf-8")
    done = run_ok(run, "award", "--eligible", "--badge", "cpd-member", "--source", str(site), "--today", TODAY)
    assert "1 award(s) added" in done.out
    after = ann.read_text(encoding="utf-8")
    assert after.startswith(before)  # a minimal diff: lines added at the end of the awards, nothing else touched
    added = after[len(before) :]
    assert "ann@example.com" not in added.lower()  # the evidence is published: never the email
    assert max(map(len, added.splitlines())) < 120  # (a list a person reads and edits: one line an item field)
    assert '    evidence:\n      - name: "Pressure systems webinar"\n        narrative: "CPD activity on' in added, (
        added
    )
    award = load_project(site, today=date.fromisoformat(TODAY)).project.recipient("ann").awards[-1]
    assert award.badge == "cpd-member" and award.id_pinned and f"id: {award.id}" in added
    assert award.issued_on == date(2026, 11, 22)
    assert [(e.name, e.url) for e in award.evidence] == [
        ("Pressure systems webinar", None),
        ("Toolbox talk on lifting", "https://evidence.example.org/toolbox"),
        ("Valve maintenance course", "https://evidence.example.org/valves"),
        ("Safety bulletin quiz", None),
    ]
    assert award.evidence[1].narrative == "CPD activity on 2026-06-10: 7.5 points"
    assert "20 CPD points logged between 2025-11-22 and 2026-11-22" in award.narrative
    # Holding it (valid), Ann is not eligible again: a second run adds nothing.
    assert eligible(run, site, "--badge", "cpd-member") == []
    again = run_ok(run, "award", "--eligible", "--source", str(site), "--today", TODAY)
    assert "0 award(s) added; nobody is newly eligible, nothing changed" in again.out
    assert ann.read_text(encoding="utf-8") == after
    build(run, site)
    page = (site / f"output/awards/{award.id}/index.html").read_text(encoding="utf-8")
    assert "Valve maintenance course" in page and "https://evidence.example.org/valves" in page
    assert "ann@example.com" not in page


def test_the_cpd_window_ends_on_today_and_includes_both_ends(site, run):
    write_site(site, {"site_src/cpd.csv": "email,date,points,activity\nann@example.com,2026-11-22,4.5,Course\n"})
    # 8 (2026-02-01) + 7.5 + 4.5 = 20 while 2026-02-01 is in the year ending on today.
    assert [r["cpd_points"] for r in eligible(run, site, "--badge", "cpd-member", today="2027-02-01")] == ["20"]
    later = eligible(run, site, "--badge", "cpd-member", today="2027-02-02")
    assert later == []  # 2026-02-01 left the window: 12 points
    # An activity dated after --today does not count (and is an error in the sources).
    assert errors_of(site, "2026-11-21") and "in the future" in " ".join(errors_of(site, "2026-11-21"))


def test_an_expired_award_of_the_badge_makes_the_earner_eligible_again(site, run):
    write_site(site, {"site_src/cpd.csv": "email,date,points,activity\nann@example.com,2026-10-20,10,Conference\n"})
    append(site / "badges/cpd-member.yaml", "valid_for: P30D\n")  # (awards of it expire after 30 days)
    append(site / "recipients/ann.yaml", "  - {id: ann-cpd-old, badge: cpd-member, issued_on: 2026-10-01}\n")
    assert [r["file"] for r in eligible(run, site)] == ["recipients/ann.yaml"]
    # Still valid on 2026-10-30: not eligible.
    assert eligible(run, site, today="2026-10-30") == []


# -- story: a pathway badge when the last component arrives -------------------------------------


def test_an_earner_is_awarded_the_pathway_badge_when_the_last_component_arrives(site, run):
    assert [r for r in eligible(run, site) if r["badge"] == "site-lead"] == []  # 2 of 3
    report = run_ok(run, "report", "eligible", "--source", str(site), "--today", TODAY)
    assert "site-lead" not in report.out
    last = run_ok(
        run, "award", "--source", str(site), "--today", TODAY, "--name", "Ann Example",
        "--email", "ann@example.com", "--badge", "permit-to-work", "--issued-on", "2026-11-20",
    )  # fmt: skip
    assert "now eligible: Ann Example for site-lead" in last.out and "badgekiln award --eligible" in last.out
    assert "(2 of 3 needed" in last.out or "(all needed" in last.out  # (it read "(2 of needed")
    again = run_ok(
        run, "award", "--source", str(site), "--today", TODAY, "--name", "Ann Example",
        "--email", "ann@example.com", "--badge", "cpd-member", "--issued-on", "2026-11-21",
    )  # fmt: skip
    assert "now eligible" not in again.out  # (she was already: only what this award changes is said)
    rows = eligible(run, site)
    assert [(r["badge"], r["file"]) for r in rows] == [("site-lead", "recipients/ann.yaml")]
    ann_awards = load_project(site, today=date.fromisoformat(TODAY)).project.recipient("ann").awards
    permit = [a for a in ann_awards if a.badge == "permit-to-work"][-1]
    assert rows[0]["components"] == ["ann-first-aid", "ann-rigging", permit.id]
    run_ok(run, "award", "--eligible", "--source", str(site), "--today", TODAY)
    project = load_project(site, today=date.fromisoformat(TODAY)).project
    lead = project.recipient("ann").awards[-1]
    assert lead.badge == "site-lead" and lead.id_pinned
    assert [e.url for e in lead.evidence] == [
        "https://badges.example.org/awards/ann-first-aid/",
        "https://badges.example.org/awards/ann-rigging/",
        f"https://badges.example.org/awards/{permit.id}/",
    ]
    assert lead.narrative == "Completes the pathway: First Aid, Rigging, Permit to Work."
    build(run, site)
    out = site / "output"
    # The award page links the component awards, in the pathway's order.
    page = (out / f"awards/{lead.id}/index.html").read_text(encoding="utf-8")
    block = page[page.index('class="component-awards"') :]
    first, rigging, last = (
        block.index(f'href="../../awards/{i}/"') for i in ("ann-first-aid", "ann-rigging", permit.id)
    )
    assert first < rigging < last
    # The badge class page shows the pathway, and the pathway page its steps, in order.
    badge_page = (out / "badges/site-lead/index.html").read_text(encoding="utf-8")
    steps = badge_page[badge_page.index('class="pathway"') :]
    assert steps.index("First Aid") < steps.index("Rigging") < steps.index("Permit to Work")
    assert 'href="pathway/"' in badge_page or "badges/site-lead/pathway/" in badge_page
    pathway = (out / "badges/site-lead/pathway/index.html").read_text(encoding="utf-8")
    assert "The pathway to Site Lead" in pathway and "All 3 of these badges" in pathway
    # "All, in this order" is numbered; "any N of" is not (a visual audit: "Steps 1-4" read as an order)
    assert '<ol class="pathway-components">' in badge_page and '<ol class="pathway-steps">' in pathway
    assert pathway.index("First Aid") < pathway.index("Rigging") < pathway.index("Permit to Work")
    assert not (out / "badges/first-aid/pathway").exists()  # only stacked badges have one
    assert "<loc>https://badges.example.org/badges/site-lead/pathway/</loc>" in (out / "sitemap.xml").read_text()
    # OB 3.0: the Achievement names its components as "related" achievements, valid JSON-LD and schema.
    achievement = json.loads((out / "badges/site-lead/achievement.json").read_text())
    assert achievement["related"] == [
        {"id": f"https://badges.example.org/badges/{slug}/achievement.json", "type": ["Related"]}
        for slug in ("first-aid", "rigging", "permit-to-work")
    ]
    assert "purl.imsglobal.org/spec/vc/ob/vocab.html#related" in canonize(achievement)
    credential = json.loads((out / f"awards/{lead.id}/credential.json").read_text())
    assert credential["credentialSubject"]["achievement"]["related"] == achievement["related"]
    schema = json.loads(
        (importlib.resources.files("badgekiln") / "data/schemas/achievementcredential.json").read_text()
    )
    # (the only schema error is the status set: OB 3.0.3's schema allows one entry, see test_ob3)
    errors = list(jsonschema.Draft201909Validator(schema).iter_errors(credential))
    assert [(list(e.path), e.validator) for e in errors] == [(["credentialStatus"], "type")]
    assert not list(
        jsonschema.Draft201909Validator(schema).iter_errors(
            {**credential, "credentialStatus": credential["credentialStatus"][0]}
        )
    )
    verified = run("verify", str(out / f"awards/{lead.id}/credential.json"), "--offline")
    assert "related" not in verified.err  # (verify knows nothing of pathways; the document still verifies)


def test_any_n_of_and_current_components(site, run):
    (site / "badges/site-lead.yaml").write_text(
        (site / "badges/site-lead.yaml")
        .read_text()
        .replace("{all: [first-aid, rigging, permit-to-work]}", "{any: 2, of: [first-aid, rigging, permit-to-work]}"),
    )
    assert [r["components"] for r in eligible(run, site)] == [["ann-first-aid", "ann-rigging"]]
    assert run("build", "--source", str(site), "--today", TODAY).code == 0
    badge_page = (site / "output/badges/site-lead/index.html").read_text(encoding="utf-8")
    pathway = (site / "output/badges/site-lead/pathway/index.html").read_text(encoding="utf-8")
    assert '<ul class="pathway-components unordered">' in badge_page and "Any 2 of these 3 badges" in badge_page
    assert (
        '<ul class="pathway-steps unordered">' in pathway
        and "<h2>The badges that count, then <bdi>Site Lead</bdi></h2>" in pathway
    )
    append(site / "badges/first-aid.yaml", "valid_for: P6M\n")  # Ann's first aid expired on 2026-07-15
    assert len(eligible(run, site)) == 1  # an expired component counts, unless 'current'
    (site / "badges/site-lead.yaml").write_text(
        (site / "badges/site-lead.yaml").read_text().replace("{any: 2,", "{current: true, any: 2,")
    )
    assert eligible(run, site) == []
    assert len(eligible(run, site, today="2026-06-12")) == 1  # both valid then
    # A revoked component never counts.
    (site / "badges/site-lead.yaml").write_text(
        (site / "badges/site-lead.yaml").read_text().replace("{current: true, any: 2,", "{any: 2,")
    )
    text = (site / "recipients/ann.yaml").read_text()
    (site / "recipients/ann.yaml").write_text(
        text.replace("issued_on: 2026-03-15\n", "issued_on: 2026-03-15\n    revoked: {on: 2026-04-01, reason: Error}\n")
    )
    assert eligible(run, site) == []


# -- located errors -----------------------------------------------------------------------------


def test_pathway_errors_are_located_and_a_cycle_is_reported_with_its_path(site):
    write_site(
        site,
        {
            "badges/rigging.yaml": badge_yaml("Rigging") + "\nrequires: {all: [site-lead]}\n",
            "badges/bad-shape.yaml": badge_yaml("Bad") + "\nrequires: {any: 4, of: [rigging, first-aid]}\n",
            "badges/bad-name.yaml": badge_yaml("Bad name") + "\nrequires:\n  all:\n    - first-aid\n    - rigginq\n",
        },
    )
    errors = "\n".join(errors_of(site))
    assert "badges/rigging.yaml:6:11: error[pathway-cycle]" in errors
    assert "rigging → site-lead → rigging" in errors
    assert "badges/bad-shape.yaml:6:" in errors and "more badges than the 2" in errors
    assert "badges/bad-name.yaml:9:7: error[unknown-badge]" in errors and "did you mean 'rigging'?" in errors


def test_a_badge_that_requires_itself_is_said_so(site):
    # (a day-2 review: the cycle read "senior-lead → senior-lead")
    write_site(site, {"badges/senior-lead.yaml": badge_yaml("Senior lead") + "\nrequires: {all: [senior-lead]}\n"})
    errors = "\n".join(errors_of(site))
    assert (
        "badges/senior-lead.yaml:6:11: error[pathway-cycle]: the badge 'senior-lead' names itself in its 'requires'"
        in errors
    )
    assert "→" not in errors and "remove 'senior-lead' from its own 'requires'" in errors


@pytest.mark.parametrize(
    "entry, message",
    [
        ("{date: 2026-02-01, points: 0, activity: Nothing}", "'points' must be a number above 0"),
        ("{date: 2026-02-01, points: -3, activity: Less}", "'points' must be a number above 0"),
        ("{date: 2026-02-01, points: 1.005, activity: Precise}", "two decimals at most"),
        ("{date: 2026-02-01, points: '5', activity: Quoted}", "'points' must be a number"),
        ("{date: 2027-02-01, points: 5, activity: Future}", "is in the future"),
        ("{date: 2026-02-30, points: 5, activity: No such day}", "'date'"),
        ("{date: 2026-02-01, points: 5}", "needs 'activity'"),
        ("{date: 2026-02-01, points: 5, activity: X, evidence: http://example.org/e}", "'evidence' must be"),
        ("{date: 2026-02-01, points: 5, activity: X, hours: 2}", "unknown key 'hours'"),
    ],
)
def test_bad_cpd_entries_are_located_errors(site, entry, message):
    write_site(site, {"recipients/carl.yaml": f"name: Carl\nemail: carl@example.com\ncpd:\n  - {entry}\nawards: []\n"})
    errors = errors_of(site)
    assert len(errors) == 1 and errors[0].startswith("recipients/carl.yaml:4:") and message in errors[0], errors


@pytest.mark.parametrize(
    "badge, message",
    [
        ("cpd: {points: 0}", "'points' must be a number above 0"),
        ("cpd: {points: 20, within: 1 year}", "ISO 8601 duration"),
        ("cpd: {within: P1Y}", "needs 'points'"),
        ("requires: [first-aid]", "must be a mapping"),
        ("requires: {all: [first-aid], any: 1, of: [rigging]}", "either 'all"),
        ("requires: {all: [first-aid, first-aid]}", "named twice"),
        ("requires: {any: 0, of: [first-aid]}", "at least 1"),
        ("requires: {all: [First Aid]}", "must be a badge slug"),
        ("requires: {all: [first-aid], current: yes please}", "true or false"),
    ],
)
def test_bad_badge_rules_are_located_errors(site, badge, message):
    write_site(site, {"badges/extra.yaml": badge_yaml("Extra") + "\n" + badge + "\n"})
    errors = errors_of(site)
    assert errors and all(e.startswith("badges/extra.yaml:6:") for e in errors) and message in errors[0], errors


def test_cpd_csv_rows_are_located_errors(site):
    write_site(
        site,
        {
            "site_src/cpd.csv": "email,date,points,activity,evidence\n"
            "ann@example.com,2026-02-01,2,Fine,\n"
            "nobody@example.com,2026-02-01,2,Unknown earner\n"
            "ann@example.com,01/02/2026,2,Local date\n"
            "ann@example.com,2026-02-01,lots,Not a number\n"
            "ann@example.com,2026-02-01,2,Mail ann@example.com\n"
            "ann@example.com,2026-02-01,2,Plain web,http://example.org/e\n"
            "ann@example.com,2026-02-01,2,Two, cells,https://e.example.org/x\n"
            "ann@example.com,2026-02-01,2,Evidence,https://e.example.org/Ann@Example.com\n"
        },
    )
    errors = errors_of(site)
    assert [e.split(": error")[0] for e in errors] == [f"site_src/cpd.csv:{n}:1" for n in range(3, 10)]
    assert "'evidence' contains the earner's email address" in errors[6]
    assert "'evidence' must be an https URL" in errors[4] and "6 cells but the header names 5" in errors[5]
    assert "no recipient file has this email" in errors[0] and "email address, which would be published" in errors[3]
    write_site(site, {"site_src/cpd.csv": "mail,date,points,activity\n"})
    assert "missing: email" in errors_of(site)[0] and "unknown: mail" in errors_of(site)[0]
    (site / "site_src/cpd.csv").unlink()
    (site / "site_src/cpd.csv").symlink_to(site / "recipients/ann.yaml")
    assert "link" in errors_of(site)[0]


def test_portfolio_handles_are_checked(site):
    write_site(
        site,
        {
            "recipients/ann.yaml": "name: Ann\nemail: ann@example.com\nportfolio: true\nhandle: ann-e\nawards: []\n",
            "recipients/bob.yaml": "name: Bob\nemail: bob@example.com\nportfolio: true\nhandle: ann-e\nawards: []\n",
            "recipients/cat.yaml": "name: Cat\nemail: cat@example.com\nportfolio: true\nawards: []\n",
            "recipients/dan.yaml": "name: Dan\nemail: dan@example.com\nportfolio: true\nhandle: ../x\nawards: []\n",
            "recipients/eve.yaml": "name: Eve\nemail: eve@example.com\nportfolio: true\nhandle: index\nawards: []\n",
        },
    )
    errors = "\n".join(errors_of(site))
    assert "recipients/bob.yaml:1:1: error[duplicate-handle]" in errors and "recipients/ann.yaml" in errors
    assert "recipients/cat.yaml:3:12: error[missing-key]" in errors
    assert "recipients/dan.yaml:4:9: error[bad-handle]" in errors
    assert "recipients/eve.yaml:4:9: error[bad-handle]" in errors and "reserved" in errors


# -- portfolio ------------------------------------------------------------------------------------


def test_portfolio_lists_only_the_earners_current_awards(site, run):
    write_site(
        site,
        {
            "recipients/ann.yaml": """
                name: Ann Example
                email: ann@example.com
                portfolio: true
                handle: ann-e
                awards:
                  - {id: ann-first-aid, badge: first-aid, issued_on: 2026-01-15}
                  - {id: ann-rigging, badge: rigging, issued_on: 2026-03-15, revoked: {on: 2026-04-01, reason: Error}}
                  - {id: ann-permit, badge: permit-to-work, issued_on: 2026-02-01, expires: 2026-06-01}
            """,
            "recipients/bob.yaml": """
                name: Bob Example
                email: bob@example.com
                show_name: false
                portfolio: true
                handle: bob-the-fitter
                awards:
                  - {id: bob-rigging, badge: rigging, issued_on: 2026-05-01}
            """,
            "recipients/cat.yaml": """
                name: Cat Example
                email: cat@example.com
                awards:
                  - {id: cat-rigging, badge: rigging, issued_on: 2026-05-01}
            """,
            "recipients/dan.yaml": """
                name: Dan Example
                email: dan@example.com
                portfolio: true
                handle: dan-e
                awards:
                  - {id: dan-rigging, badge: rigging, issued_on: 2026-03-15, revoked: {on: 2026-04-01, reason: Error}}
            """,
        },
    )
    build(run, site)
    out = site / "output"
    # previews: the first current award's card; with none current, the site's card (never a revoked award's)
    ann_meta = (out / "earners/ann-e/index.html").read_text(encoding="utf-8")
    assert 'og:image" content="https://badges.example.org/awards/ann-first-aid/share.png"' in ann_meta
    dan_meta = (out / "earners/dan-e/index.html").read_text(encoding="utf-8")
    assert 'og:image" content="https://badges.example.org/share.png"' in dan_meta and "dan-rigging" not in dan_meta
    ann = json.loads((out / "earners/ann-e/portfolio.json").read_text())
    assert [a["id"] for a in ann["awards"]] == ["ann-first-aid"]  # not revoked, not expired
    assert ann["name"] == "Ann Example" and ann["url"] == "https://badges.example.org/earners/ann-e/"
    assert ann["awards"][0]["shareCard"] == "https://badges.example.org/awards/ann-first-aid/share.png"
    page = (out / "earners/ann-e/index.html").read_text(encoding="utf-8")
    assert "../../awards/ann-first-aid/share.png" in page and "../../awards/ann-first-aid/" in page
    assert "ann-rigging" not in page and "ann-permit" not in page and "bob-rigging" not in page
    # Progress towards the pathway: 1 of 3 (the revoked and the expired award... the expired one counts).
    assert "Site Lead" in page and "2 of 3 needed" in page
    bob = json.loads((out / "earners/bob-the-fitter/portfolio.json").read_text())
    assert "name" not in bob and [a["id"] for a in bob["awards"]] == ["bob-rigging"]
    assert "Bob Example" not in (out / "earners/bob-the-fitter/index.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in (out / "earners").iterdir()) == ["ann-e", "bob-the-fitter", "dan-e"]  # not Cat
    for path in (out / "earners").rglob("*"):
        if path.is_file():
            assert "@example.com" not in path.read_text(encoding="utf-8")


def test_a_portfolio_lists_a_renewed_award_once_as_its_renewal(site, run):
    write_site(
        site,
        {
            "recipients/ann.yaml": """
                name: Ann Example
                email: ann@example.com
                portfolio: true
                handle: ann-e
                awards:
                  - {id: ann-first-aid, badge: first-aid, issued_on: 2026-01-15}
                  - {id: ann-first-aid-2, badge: first-aid, issued_on: 2026-10-01, renews: ann-first-aid}
            """,
        },
    )
    build(run, site)
    ann = json.loads((site / "output/earners/ann-e/portfolio.json").read_text())
    assert [a["id"] for a in ann["awards"]] == ["ann-first-aid-2"]


def test_a_pathway_thousands_of_badges_deep_is_checked_without_a_traceback(site, run):
    depth = 1500
    files = {
        f"badges/chain-{i:04d}.yaml": BADGE.format(name=f"Chain {i}") + f"    requires: {{all: [chain-{i + 1:04d}]}}\n"
        for i in range(depth)
    }
    files[f"badges/chain-{depth:04d}.yaml"] = BADGE.format(name="Chain end")
    write_site(site, files)
    result = run("report", "eligible", "--source", str(site), "--today", TODAY)
    assert result.code == 0 and "internal error" not in result.err, result.err
    write_site(
        site, {f"badges/chain-{depth:04d}.yaml": BADGE.format(name="Loop") + "    requires: {all: [chain-0000]}\n"}
    )
    result = run("report", "eligible", "--source", str(site), "--today", TODAY)
    assert result.code == 1 and "pathway-cycle" in result.err and "internal error" not in result.err


def test_award_eligible_completes_a_deep_pathway_in_one_run(site, run):
    depth = 25
    files = {
        f"badges/chain-{i:02d}.yaml": BADGE.format(name=f"Chain {i}")
        + f"    requires: {{all: [{f'chain-{i + 1:02d}' if i + 1 < depth else 'first-aid'}]}}\n"
        for i in range(depth)
    }
    write_site(site, files)
    result = run("award", "--eligible", "--source", str(site), "--today", TODAY)
    assert result.code == 0, result.err
    assert "25 award(s) added" in result.out
    again = run("award", "--eligible", "--source", str(site), "--today", TODAY)
    assert again.code == 0 and "0 award(s) added" in again.out


def test_a_later_round_that_fails_names_the_files_already_changed(site, run):
    # The first round awards a badge whose YAML a later round refuses (a hostile duplicate key added
    # by hand would do; here: the second round's badge names an unknown component once the first
    # has been written, which cannot happen by itself, so the files are broken between rounds).
    write_site(site, {"badges/cpd-member.yaml": BADGE.format(name="CPD Member") + "    cpd: {points: 10}\n"})
    from badgekiln.commands import eligible

    original = eligible._award_round
    calls = []

    def then_break(source, today, badge, result):
        calls.append(1)
        if len(calls) == 2:
            (source / "badges/first-aid.yaml").write_text("name: [unclosed\n")
        return original(source, today, badge, result)

    eligible._award_round = then_break
    try:
        with pytest.raises(ValidationFailed) as failed:
            eligible.award_eligible(site, date.fromisoformat(TODAY))
    finally:
        eligible._award_round = original
    assert failed.value.written == ("recipients/ann.yaml",)
    assert "already changed before the errors were found" in failed.value.diagnostics()
    assert "nothing was written" not in failed.value.diagnostics()


# -- incremental builds ---------------------------------------------------------------------------


def test_incremental_builds_of_pathways_and_portfolios_equal_clean_builds(site, run, tmp_path):
    ann = site / "recipients/ann.yaml"
    ann.write_text(ann.read_text().replace("cpd:", "portfolio: true\nhandle: ann-e\ncpd:", 1))
    append(ann, "  - {id: ann-permit, badge: permit-to-work, issued_on: 2026-04-01}\n")
    append(ann, "  - {id: ann-lead, badge: site-lead, issued_on: 2026-04-02}\n")
    build(run, site)
    edits = [
        ("badges/rigging.yaml", "name: Rigging\n", "name: Rigging and Slinging\n"),  # a component's name
        (
            "recipients/ann.yaml",
            "issued_on: 2026-03-15\n",
            "issued_on: 2026-03-15\n    revoked: {on: 2026-05-01, reason: x}\n",
        ),
    ]
    for number, (rel, old, new) in enumerate(edits):
        path = site / rel
        path.write_text(path.read_text().replace(old, new))
        build(run, site)  # incremental: reuses what the edit did not change
        clean = tmp_path / f"clean-{number}"
        for name in ("site_src", "badges", "recipients"):
            shutil.copytree(site / name, clean / name)
        build(run, clean)
        assert tree_bytes(site / "output") == tree_bytes(clean / "output"), rel
    out = site / "output"
    assert "Rigging and Slinging" in (out / "badges/site-lead/pathway/index.html").read_text(encoding="utf-8")
    assert "Rigging and Slinging" in (out / "badges/site-lead/index.html").read_text(encoding="utf-8")
    assert "(Revoked)" in (out / "awards/ann-lead/index.html").read_text(encoding="utf-8")
    assert "ann-rigging" not in (out / "earners/ann-e/portfolio.json").read_text()


# -- export and report ----------------------------------------------------------------------------


def test_export_and_report_stats_include_cpd_totals(site, run):
    exported = run_ok(run, "export", "--source", str(site), "--today", TODAY)
    rows = list(csv.DictReader(io.StringIO(exported.out)))
    ann = [r for r in rows if r["email"] == "ann@example.com"]
    assert ann and all(r["cpd_points"] == "15.5" and r["cpd_points_last_year"] == "15.5" for r in ann)
    later = list(csv.DictReader(io.StringIO(run_ok(run, "export", "--source", str(site), "--today", "2027-03-01").out)))
    assert {r["cpd_points_last_year"] for r in later if r["email"] == "ann@example.com"} == {"7.5"}
    stats = json.loads(run_ok(run, "report", "stats", "--source", str(site), "--today", TODAY, "--format", "json").out)
    assert stats["cpd"] == {"earners": 1, "points": "15.5", "points_last_year": "15.5"}
    table = run_ok(run, "report", "stats", "--source", str(site), "--today", TODAY).out
    assert "CPD: 15.5 point(s) logged by 1 earner(s)" in table


def test_award_eligible_refuses_other_options_and_unknown_badges(site, run):
    assert run("award", "--eligible", "--email", "a@b.org", "--source", str(site)).code == 2
    result = run("report", "eligible", "--badge", "site-leed", "--source", str(site), "--today", TODAY)
    assert result.code != 0 and "did you mean 'site-lead'?" in result.err
    result = run("award", "--eligible", "--badge", "rigging", "--source", str(site), "--today", TODAY)
    assert result.code != 0 and "has no 'cpd:' or 'requires:' rule" in result.err


# -- the edit matrix (as tests/test_units.py): bytes that change always come with a changed key ---

STACKED_EDITS = {
    "component badge name": ("badges/rigging.yaml", "name: Rigging\n", "name: Rigging and Slinging\n"),
    "component artwork": ("site_src/assets/badge.svg", 'r="40"', 'r="41"'),
    "pathway rule": (
        "badges/site-lead.yaml",
        "{all: [first-aid, rigging, permit-to-work]}",
        "{all: [rigging, first-aid]}",
    ),
    "cpd rule": ("badges/cpd-member.yaml", "{points: 20, within: P1Y}", "{points: 25, within: P2Y}"),
    "revoke a component": (
        "recipients/ann.yaml",
        "    issued_on: 2026-03-15\n",
        "    issued_on: 2026-03-15\n    revoked: {on: 2026-05-01, reason: x}\n",
    ),
    "handle": ("recipients/ann.yaml", "handle: ann-e", "handle: ann-example"),
    "earner's name": ("recipients/ann.yaml", "name: Ann Example", "name: Ann Other"),
    "hidden name": ("recipients/ann.yaml", "name: Ann Example\n", "name: Ann Example\nshow_name: false\n"),
}


def _stacked(root: Path) -> Path:
    site = write_site(root, SITE)
    ann = site / "recipients/ann.yaml"
    ann.write_text(ann.read_text().replace("cpd:", "portfolio: true\nhandle: ann-e\ncpd:", 1))
    append(ann, "  - {id: ann-permit, badge: permit-to-work, issued_on: 2026-04-01}\n")
    append(ann, "  - {id: ann-lead, badge: site-lead, issued_on: 2026-04-02}\n")
    append(ann, "  - {id: ann-cpd, badge: cpd-member, issued_on: 2026-06-11}\n")
    return site


def _built_with_groups(run, root: Path) -> tuple[Path, dict]:
    """The stacked site, built (its awards.lock pins ids and status-list indexes), and its groups."""
    from test_units import groups

    site = _stacked(root)
    build(run, site)
    return site, groups(site, date.fromisoformat(TODAY))


@pytest.mark.parametrize("name", sorted(STACKED_EDITS))
def test_an_edit_of_a_pathway_or_portfolio_input_changes_the_keys_of_what_it_changes(run, tmp_path, name):
    from test_units import _changes, groups

    site, before = _built_with_groups(run, tmp_path / "site")
    rel, old, new = STACKED_EDITS[name]
    path = site / rel
    data = path.read_bytes()
    assert old.encode() in data
    path.write_bytes(data.replace(old.encode(), new.encode()))
    keys, made = _changes(before, groups(site, date.fromisoformat(TODAY)))
    assert made, "the edit changed no file: the test would prove nothing"
    assert made <= keys, f"bytes changed under an unchanged key: {sorted(made - keys)}"
    if name in ("component badge name", "revoke a component", "handle"):
        assert "portfolio" in made


def test_only_the_pathway_awards_page_follows_its_earners_other_awards(run, tmp_path):
    from test_units import _changes, groups

    site, before = _built_with_groups(run, tmp_path / "site")
    text = (site / "recipients/ann.yaml").read_text()
    (site / "recipients/ann.yaml").write_text(
        text.replace("    issued_on: 2026-03-15\n", "    issued_on: 2026-03-15\n    narrative: Rigged well.\n")
    )
    keys, made = _changes(before, groups(site, date.fromisoformat(TODAY)))
    # The pathway award's page shows its components (it reads the earner's awards): remade, and
    # its bytes are the same; the other awards' pages do not read them: their keys stay.
    assert "award/ann-lead/award-page" in keys and "award/ann-lead/award-page" not in made
    assert {k for k in keys if k.startswith("award/")} == {
        "award/ann-lead/award-page",
        "award/ann-rigging/award-page",
        "award/ann-rigging/ob2-assertion",
        "award/ann-rigging/ob3-credential",
        "award/ann-rigging/award-share-card",  # (it reads the whole award, narrative included)
    }


# -- a review: award --eligible and memberships, suspensions, loops -------------------------------


def _enough_points(site: Path) -> None:
    write_site(site, {"site_src/cpd.csv": "email,date,points,activity\nann@example.com,2026-10-20,10,Conference\n"})


def test_a_lapsed_member_is_not_eligible_for_a_badge_that_requires_membership(site, run):
    # (award --eligible awarded it, the build suspended it at once, the next round awarded it
    # again: 152 awards in 20 s before it was killed)
    _enough_points(site)
    append(site / "badges/cpd-member.yaml", "requires_membership: true\n")
    ann = site / "recipients/ann.yaml"
    ann.write_text(
        ann.read_text().replace("email: ann@example.com\n", "email: ann@example.com\nmembership: {until: 2026-10-31}\n")
    )
    assert eligible(run, site, "--badge", "cpd-member") == []
    before = ann.read_text()
    done = run_ok(run, "award", "--eligible", "--source", str(site), "--today", TODAY)
    assert "0 award(s) added" in done.out and ann.read_text() == before
    # A member again (members.csv has the later date): eligible, awarded once.
    write_site(site, {"site_src/members.csv": "email,until\nann@example.com,2027-10-31\n"})
    assert [r["file"] for r in eligible(run, site, "--badge", "cpd-member")] == ["recipients/ann.yaml"]
    assert "1 award(s) added" in run_ok(run, "award", "--eligible", "--source", str(site), "--today", TODAY).out


def test_a_suspended_award_of_the_badge_is_held_not_awarded_again(site, run):
    # (a suspension "under investigation" was undone by a fresh copy made from the same activities)
    _enough_points(site)
    append(
        site / "recipients/ann.yaml",
        "  - id: ann-cpd\n    badge: cpd-member\n    issued_on: 2026-11-01\n"
        "    suspended: {on: 2026-11-10, reason: Under investigation}\n",
    )
    assert eligible(run, site, "--badge", "cpd-member") == []
    before = (site / "recipients/ann.yaml").read_text()
    assert "0 award(s) added" in run_ok(run, "award", "--eligible", "--source", str(site), "--today", TODAY).out
    assert (site / "recipients/ann.yaml").read_text() == before


def test_award_eligible_stops_before_awarding_an_earner_the_same_badge_twice(site, run, monkeypatch):
    # (whatever makes an award not count as held: the run must end, not fill the file)
    from badgekiln.sources import eligibility

    _enough_points(site)
    monkeypatch.setattr(eligibility.Check, "eligible", property(lambda self: self.met))
    result = run("award", "--eligible", "--source", str(site), "--today", TODAY)
    assert result.code == 1
    assert "award --eligible stopped: recipients/ann.yaml" in result.err and "cpd-member a second time" in result.err
    assert (site / "recipients/ann.yaml").read_text().count("badge: cpd-member") == 1


def test_a_cpd_badge_earned_again_after_it_expired_renews_it(site, run):
    # (a review: award --eligible, "how a CPD badge is renewed", wrote no 'renews', so the expired
    # award was still reported as one to renew and its page did not say "Renewed")
    write_site(site, {"site_src/cpd.csv": "email,date,points,activity\nann@example.com,2026-10-20,10,Conference\n"})
    append(site / "badges/cpd-member.yaml", "valid_for: P30D\n")
    append(site / "recipients/ann.yaml", "  - {id: ann-cpd-old, badge: cpd-member, issued_on: 2026-10-01}\n")
    assert "1 award(s) added" in run_ok(run, "award", "--eligible", "--source", str(site), "--today", TODAY).out
    award = load_project(site, today=date.fromisoformat(TODAY)).project.recipient("ann").awards[-1]
    assert award.badge == "cpd-member" and award.renews == "ann-cpd-old"
    build(run, site)
    page = (site / "output/awards/ann-cpd-old/index.html").read_text(encoding="utf-8")
    assert "Renewed on" in page


def test_cpd_csv_points_are_ascii_numbers_and_a_bad_byte_has_its_line(site):
    # (a fuzz test: an Arabic-Indic "٥" counted as 5 points; a byte that is not UTF-8 had no line)
    write_site(
        site,
        {
            "site_src/cpd.csv": "email,date,points,activity\nann@example.com,2026-02-01,٥,Arabic-Indic\n"
            "ann@example.com,2026-02-01,１０,Full-width\nann@example.com,2026-02-01,2.5,Fine\n"
        },
    )
    errors = errors_of(site)
    assert [e.split(": error")[0] for e in errors] == ["site_src/cpd.csv:2:1", "site_src/cpd.csv:3:1"], errors
    assert "'points' must be a number" in errors[0]
    (site / "site_src/cpd.csv").write_bytes(b"email,date,points,activity\nann@example.com,2026-02-01,2,Fine\nx\xff\n")
    assert errors_of(site)[0].startswith("site_src/cpd.csv:3: error[bad-encoding]")


def test_more_activities_than_a_credential_may_hold_give_the_latest_as_evidence(site, run):
    """The build refuses more than 1,000 evidence entries (a verifier refuses a credential of more
    than 1,600 objects): award --eligible lists the latest ones rather than writing an award the
    build refuses."""
    rows = "".join(f"ann@example.com,2026-0{1 + i % 9}-{1 + i % 28:02d},0.1,Quiz {i}\n" for i in range(1200))
    write_site(site, {"site_src/cpd.csv": "email,date,points,activity\n" + rows})
    run_ok(run, "award", "--eligible", "--source", str(site), "--today", TODAY)
    ann = load_project(site, today=date.fromisoformat(TODAY)).project.recipient("ann")
    award = next(a for a in ann.awards if a.badge == "cpd-member")
    assert len(award.evidence) == 1000
    assert "The latest 1,000 of its 1,202 activities are its evidence." in (award.narrative or "")
    build(run, site)
