"""T19: site_src/members.csv is read as every source is (no link, no FIFO, size cap, UTF-8 only,
located errors) and nothing of it is published."""

from __future__ import annotations

import os

from conftest import write_site

from tests.test_suspension import MEMBER_SITE


def test_members_csv_not_utf8_and_through_a_link_are_refused(tmp_path, run):
    site = write_site(tmp_path / "site", MEMBER_SITE)
    (site / "site_src/members.csv").write_bytes(b"email,until\nm\xe9@example.com,2027-01-01\n")
    result = run("check", "--source", str(site), "--today", "2026-11-01")
    assert result.code == 1 and "site_src/members.csv:2: error[bad-encoding]" in result.err, result.err
    secret = tmp_path / "elsewhere.csv"
    secret.write_text("email,until\nmo@example.com,2099-01-01\n")
    (site / "site_src/members.csv").unlink()
    os.symlink(secret, site / "site_src/members.csv")
    result = run("build", "--source", str(site), "--today", "2026-11-01")
    assert result.code == 1 and "error[symlink]" in result.err and "members.csv" in result.err, result.err
    assert not (site / "output").exists()


def test_members_csv_is_never_published(tmp_path, run):
    site = write_site(tmp_path / "site", MEMBER_SITE)
    (site / "site_src/members.csv").write_text(
        "email,until,notes\nmo@example.com,2027-01-01,\nnot-an-earner@example.com,2027-01-01,secret note\n"
    )
    result = run("build", "--source", str(site), "--today", "2026-11-01")
    assert result.code == 0, result.err
    published = b"".join(p.read_bytes() for p in (site / "output").rglob("*") if p.is_file()).lower()
    for text in (b"not-an-earner", b"mo@example.com", b"secret note", b"members.csv", b"2027-01-01"):
        assert text not in published, text


def test_members_csv_may_not_be_a_fifo(tmp_path, run):
    site = write_site(tmp_path / "site", MEMBER_SITE)
    os.mkfifo(site / "site_src/members.csv")
    result = run("check", "--source", str(site), "--today", "2026-11-01")  # returns: the FIFO is never opened
    assert result.code == 1 and "members.csv" in result.err and "Traceback" not in result.err, result.err
