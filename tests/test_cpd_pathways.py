"""CPD points, pathways (stacked badges) and portfolios, through the commands and real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SVG, build, write_site

from badgekiln.sources.validate import load_project

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


def test_smoke(site, run):
    result = run("report", "eligible", "--source", str(site), "--today", "2026-11-22")
    print(result.out, result.err)
    assert result.code == 0


def test_smoke_build(site, run):
    log = []
    (site / "recipients/ann.yaml").write_text(
        (site / "recipients/ann.yaml").read_text().replace("cpd:", "portfolio: true\nhandle: ann-e\ncpd:", 1)
    )
    result = run("award", "--source", str(site), "--today", "2026-11-22", "--name", "Ann Example", "--email", "ann@example.com", "--badge", "permit-to-work", "--issued-on", "2026-11-20")
    log.append(result.out + result.err)
    result = run("report", "eligible", "--source", str(site), "--today", "2026-11-22")
    log.append(result.out + result.err)
    result = run("award", "--eligible", "--source", str(site), "--today", "2026-11-22")
    log.append(result.out + result.err)
    log.append((site / "recipients/ann.yaml").read_text())
    build(run, site)
    out = site / "output"
    log.append(str(sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if "earners" in str(p) or "pathway" in str(p))))
    Path("/tmp/lp-smoke.txt").write_text("\n".join(log))
    import shutil
    shutil.rmtree("/tmp/lp-out", ignore_errors=True)
    shutil.copytree(out, "/tmp/lp-out")
