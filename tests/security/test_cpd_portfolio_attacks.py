"""Hostile CPD logs, pathway rules and portfolios (threat T19 in docs/security.md)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from conftest import TODAY, build, write_site

from badgekiln.errors import ValidationFailed
from badgekiln.sources import learning
from badgekiln.sources.validate import load_project

SCRIPT = "<script>window.__xss=1</script>"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    from tests.test_cpd_pathways import SITE

    return write_site(tmp_path / "site", SITE)


def errors_of(site: Path) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        load_project(site, today=date.fromisoformat(TODAY))
    return [d.render() for d in caught.value.items if d.is_error]


def test_activity_names_and_earner_names_are_escaped_on_every_page(site, run):
    ann = site / "recipients/ann.yaml"
    text = ann.read_text().replace("Pressure systems webinar", f'"Webinar {SCRIPT}"')
    text = text.replace("name: Ann Example", f'name: "Ann {SCRIPT}"').replace(
        "cpd:", "portfolio: true\nhandle: ann-e\ncpd:"
    )
    ann.write_text(text + "  - {id: ann-permit, badge: permit-to-work, issued_on: 2026-04-01}\n")
    write_site(
        site, {"site_src/cpd.csv": f'email,date,points,activity\nann@example.com,2026-11-01,5,"Quiz {SCRIPT}"\n'}
    )
    assert run("award", "--eligible", "--source", str(site), "--today", TODAY).code == 0
    build(run, site)
    pages = [p for p in (site / "output").rglob("*.html")]
    assert len(pages) > 5
    for page in pages:
        assert "<script>window.__xss" not in page.read_text(encoding="utf-8"), page
    lead = next(a for a in load_project(site).project.recipient("ann").awards if a.badge == "site-lead")
    page = (site / f"output/awards/{lead.id}/index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;" in (site / "output/earners/ann-e/index.html").read_text(encoding="utf-8")
    assert "Component awards" in page


def test_an_activity_holding_the_earners_email_is_refused_in_yaml_and_csv(site):
    ann = site / "recipients/ann.yaml"
    ann.write_text(ann.read_text().replace("Pressure systems webinar", "Webinar certificate to ANN@example.com"))
    assert any("email-published" in e for e in errors_of(site))
    ann.write_text(ann.read_text().replace("Webinar certificate to ANN@example.com", "Webinar"))
    write_site(
        site, {"site_src/cpd.csv": "email,date,points,activity\nann@example.com,2026-11-01,5,Sent to Ann@Example.com\n"}
    )
    assert any("which would be published" in e for e in errors_of(site))


def test_report_eligible_csv_never_starts_a_formula(site, run):
    ann = site / "recipients/ann.yaml"
    ann.write_text(ann.read_text().replace("name: Ann Example", 'name: "=HYPERLINK(\\"http://x\\")"'))
    append = "  - {id: ann-permit, badge: permit-to-work, issued_on: 2026-04-01}\n"
    ann.write_text(ann.read_text() + append)
    result = run("report", "eligible", "--source", str(site), "--today", TODAY, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert rows and rows[0]["recipient"].startswith("'=")


def test_cpd_csv_is_read_only_inside_the_site_and_within_its_size_cap(site, tmp_path, monkeypatch):
    outside = tmp_path / "outside.csv"
    outside.write_text("email,date,points,activity\nann@example.com,2026-11-01,500,Made up\n")
    (site / "site_src/cpd.csv").symlink_to(outside)
    assert any("link" in e for e in errors_of(site))
    (site / "site_src/cpd.csv").unlink()
    monkeypatch.setattr(learning, "MAX_CPD_CSV_BYTES", 100)
    write_site(site, {"site_src/cpd.csv": "email,date,points,activity\n" + "ann@example.com,2026-11-01,1,A\n" * 10})
    assert any("limit" in e or "bytes" in e for e in errors_of(site))


@pytest.mark.parametrize("handle", ["../../awards", "ANN", "a", "x" * 41, "ann_e", "ann/e", "-ann", "index", "12"])
def test_a_handle_is_a_safe_url_segment(site, handle):
    ann = site / "recipients/ann.yaml"
    ann.write_text(ann.read_text().replace("cpd:", f"portfolio: true\nhandle: {json.dumps(handle)}\ncpd:"))
    assert any("bad-handle" in e for e in errors_of(site))


def test_a_portfolio_lists_nothing_of_other_earners_or_of_lapsed_awards(site, run):
    bob = site / "recipients/bob.yaml"
    bob.write_text(
        "name: Bob Example\nemail: bob@example.com\nportfolio: true\nhandle: bob-b\nawards:\n"
        "  - {id: bob-rigging, badge: rigging, issued_on: 2026-05-01, revoked: {on: 2026-06-01, reason: x}}\n"
        "  - {id: bob-first, badge: first-aid, issued_on: 2020-05-01, expires: 2021-05-01}\n"
    )
    build(run, site)
    listed = json.loads((site / "output/earners/bob-b/portfolio.json").read_text())
    assert listed["awards"] == []
    html = (site / "output/earners/bob-b/index.html").read_text(encoding="utf-8")
    assert "bob-rigging" not in html and "bob-first" not in html and "ann-" not in html
    assert not (site / "output/earners/ann-e").exists()
