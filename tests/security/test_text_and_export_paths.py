"""Text that is not text, and files written or read where they must not be (final review, points 1-4).

Lone surrogates, C1 controls, noncharacters and bidi controls in sources, spreadsheets and
command-line options are located errors, never an internal error; ``export`` reads
``notified.lock`` without following a link and skips values that are not dates; ``init`` never
writes through a linked folder; ``export --output`` never writes into a folder badgekiln built.
All through the real command line on real files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MINIMAL, TODAY, build, write_site

import badgekiln
from badgekiln.sources import notified
from badgekiln.sources.fields import bad_character

ANN = MINIMAL["recipients/ann.yaml"]


def _no_internal_error(result) -> None:
    assert "internal error" not in result.err and "Traceback" not in result.err, result.err


@pytest.mark.parametrize(
    ("char", "kind"),
    [
        ("\ud800", "lone surrogate"),
        ("\udcff", "lone surrogate"),
        ("\x85", "control character"),
        ("\x9f", "control character"),
        ("\ufdd0", "noncharacter"),
        ("\ufffe", "noncharacter"),
        ("\U0010ffff", "noncharacter"),
        ("\u202e", "bidirectional"),
        ("\u2066", "bidirectional"),
    ],
)
def test_characters_that_are_not_text_are_named(char: str, kind: str) -> None:
    found = bad_character(f"Jane {char} Doe", allow_newlines=True)
    assert found is not None and kind in found and f"U+{ord(char):04X}" in found
    assert bad_character("Jane Ðoe 日本 \u200d\n\t", allow_newlines=True) is None


@pytest.mark.parametrize("name", ["Jane \\ud800 Doe", "Jane \\uFFFE\\uFDD0 Doe", "Jane \\x85 Doe"])
def test_recipient_name_that_is_not_text_is_a_located_error(run, tmp_path: Path, name: str) -> None:
    site = write_site(tmp_path / "site", {**MINIMAL, "recipients/ann.yaml": ANN.replace("Ann Example", f'"{name}"')})
    for args in (
        ("build", "--source", str(site), "--today", TODAY),
        ("export", "--source", str(site), "--today", TODAY),
        ("export", "--source", str(site), "--today", TODAY, "--format", "xlsx", "--output", str(tmp_path / "a.xlsx")),
    ):
        result = run(*args)
        _no_internal_error(result)
        assert result.code == 1
        assert "recipients/ann.yaml:1:" in result.err and "error[control-character]" in result.err, result.err
    assert not (tmp_path / "a.xlsx").exists()


def _run_bytes(*args: bytes) -> tuple[int, str]:
    """Run the real command line with ``args`` as raw bytes (Python decodes them with surrogateescape)."""
    env = dict(os.environ, PYTHONPATH=str(Path(badgekiln.__file__).resolve().parent.parent), LC_ALL="C.UTF-8")
    argv = [sys.executable.encode(), b"-m", b"badgekiln.cli", *args]
    result = subprocess.run(argv, env=env, capture_output=True, timeout=120, check=False)
    return result.returncode, result.stderr.decode("utf-8", "replace")


def test_command_line_option_with_bytes_that_are_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", MINIMAL)
    source = str(site).encode()
    for option in (b"--name", b"--narrative", b"--email"):
        values = {b"--name": b"Jane Doe", b"--email": b"jane@example.com", option: b"X\xffY@example.com"}
        options = [part for key, value in values.items() for part in (key, value)]
        code, err = _run_bytes(b"award", b"--source", source, b"--badge", b"first-badge", *options)
        assert code == 2, err
        assert "internal error" not in err and f"Invalid value for '{option.decode()}'" in err and "U+DCFF" in err
    assert sorted(p.name for p in (site / "recipients").iterdir()) == ["ann.yaml"]
    code, err = _run_bytes(b"init", str(tmp_path / "new").encode(), b"--name", b"North\xe9wind")
    assert code == 2 and "Invalid value for '--name'" in err and "internal error" not in err, err
    assert not (tmp_path / "new").exists()


def test_a_path_with_bytes_that_are_not_utf8_is_still_a_path(tmp_path: Path) -> None:
    site = write_site(Path(os.fsdecode(bytes(tmp_path) + b"/site-\xff")), MINIMAL)
    code, err = _run_bytes(b"check", b"--source", os.fsencode(site))
    assert code == 0, err


def test_command_line_name_with_a_newline_is_a_located_error(run, tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", MINIMAL)
    result = run(
        "award",
        "--source",
        str(site),
        "--today",
        TODAY,
        "--badge",
        "first-badge",
        "--name",
        "Jo\nBad",
        "--email",
        "jo@example.com",
    )
    _no_internal_error(result)
    assert result.code == 1 and "<command line>" in result.err and "U+000A" in result.err, result.err


def test_spreadsheet_cell_with_a_c1_control_is_a_located_error(run, tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", MINIMAL)
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "name,email,badge,issued_on\nBo Ok,bo@example.com,first-badge,2026-01-02\n"
        "Cy\u0090Bad,cy@example.com,first-badge,2026-01-02\n",
        encoding="utf-8",
    )
    result = run("award", "--source", str(site), "--today", TODAY, "--csv", str(sheet))
    _no_internal_error(result)
    assert result.code == 1 and "awards.csv:3" in result.err and "U+0090" in result.err, result.err
    assert sorted(p.name for p in (site / "recipients").iterdir()) == ["ann.yaml"]


def test_export_does_not_read_a_linked_notified_lock(run, tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", MINIMAL)
    outside = tmp_path / "outside.txt"
    outside.write_text("ann-first-1\tSECRET-FROM-OUTSIDE\n", encoding="utf-8")
    (site / "site_src" / "notified.lock").symlink_to(outside)
    result = run("export", "--source", str(site), "--today", TODAY)
    _no_internal_error(result)
    assert result.code == 1 and "notified.lock" in result.err and "link" in result.err
    assert "SECRET-FROM-OUTSIDE" not in result.out


def test_export_refuses_a_notified_lock_over_the_size_cap(run, tmp_path: Path, monkeypatch) -> None:
    site = write_site(tmp_path / "site", MINIMAL)
    (site / "site_src" / "notified.lock").write_text("ann-first-1\t2026-02-01\n" * 10, encoding="utf-8")
    monkeypatch.setattr(notified, "MAX_LOCK_BYTES", 100)
    result = run("export", "--source", str(site), "--today", TODAY)
    _no_internal_error(result)
    assert result.code == 1 and "at most 100 bytes" in result.err


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_export_skips_notified_values_that_are_not_dates(run, tmp_path: Path, fmt: str) -> None:
    site = write_site(tmp_path / "site", MINIMAL)
    (site / "site_src" / "notified.lock").write_text("ann-first-1\tnot a date =HYPERLINK(1)\n", encoding="utf-8")
    target = tmp_path / f"export.{fmt}"
    result = run("export", "--source", str(site), "--today", TODAY, "--format", fmt, "--output", str(target))
    _no_internal_error(result)
    assert result.code == 0, result.err
    assert b"HYPERLINK" not in target.read_bytes() and b"not a date" not in target.read_bytes()
    (site / "site_src" / "notified.lock").write_text("ann-first-1\t2026-02-01\n", encoding="utf-8")
    as_json = tmp_path / "export.json"  # (a --format must match the file's extension)
    run("export", "--source", str(site), "--today", TODAY, "--format", "json", "--output", str(as_json))
    assert b'"notified_on": "2026-02-01"' in as_json.read_bytes()


def test_export_output_inside_any_built_folder_is_refused(run, tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", MINIMAL)
    published = tmp_path / "published"
    build(run, site, "--output", str(published))
    assert (published / ".badgekiln-site").is_file()
    target = published / "awards" / "export.csv"
    result = run("export", "--source", str(site), "--today", TODAY, "--output", str(target))
    _no_internal_error(result)
    assert result.code == 1 and "folder badgekiln built" in result.err, result.err
    assert not target.exists() and not any(p.name.startswith(".export.csv") for p in target.parent.iterdir())
    elsewhere = tmp_path / "private" / "export.csv"
    elsewhere.parent.mkdir()
    assert run("export", "--source", str(site), "--today", TODAY, "--output", str(elsewhere)).code == 0


def _listing(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def test_init_github_does_not_write_through_a_linked_folder(run, tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", MINIMAL)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (site / ".github").symlink_to(elsewhere)
    result = run("init", str(site), "--github", "--today", TODAY)
    _no_internal_error(result)
    assert result.code == 1 and ".github is a symbolic link" in result.err, result.err
    assert _listing(elsewhere) == []
    (site / ".github").unlink()
    (site / ".github").mkdir()
    (site / ".github" / "workflows").symlink_to(elsewhere / "missing")  # a dangling link is refused too
    assert run("init", str(site), "--github", "--today", TODAY).code == 1
    assert _listing(elsewhere) == []


def test_init_does_not_write_through_a_linked_folder(run, tmp_path: Path) -> None:
    target, elsewhere = tmp_path / "new-site", tmp_path / "elsewhere"
    target.mkdir()
    elsewhere.mkdir()
    (target / "site_src").symlink_to(elsewhere)
    result = run("init", str(target))
    _no_internal_error(result)
    assert result.code == 1 and "site_src is a symbolic link" in result.err, result.err
    assert _listing(elsewhere) == []
    (target / "site_src").unlink()
    assert run("init", str(target)).code == 0
