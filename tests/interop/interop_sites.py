"""The two sites every independent verifier of tests/interop/ is run on (built with the real CLI).

* the example site (``BASE``): 14 awards, one revoked, one expired (README's premise);
* an unusual site published under a sub-path (``SUB_BASE``, did:web:org.github.io:badges) that we
  did not design for: unicode names, a Markdown table, an upper-case email, a rotated key (both
  keys stay in did.json), one revoked, one expired and one valid award.

Expiry is judged by the verifiers' real clock: the expired awards expired in 2025 and 2024, the
valid ones expire in 2099 (or in the example's own future), so verdicts do not drift with time.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import TODAY, copy_example, write_site

BASE = "https://badges.northwind.example/"
SUB_BASE = "https://org.github.io/badges/"


def _cli(site: Path, root: Path, *commands: list[str]) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(root / "cache"))
        patch.setenv("BADGEKILN_KEYS_DIR", str(root / "keys"))
        patch.delenv("BADGEKILN_PRIVATE_KEYS", raising=False)
        from badgekiln.cli import main

        for args in commands:
            with pytest.raises(SystemExit) as done:
                main([*args, "--source", str(site), "--today", TODAY])
            assert done.value.code == 0, args


UNUSUAL = {
    "site_src/site.yaml": f"""
        base_url: {SUB_BASE}
        issuer:
          name: Ünïcødé Akademie — 技能
          url: https://example.org
          email: badges@example.org
    """,
    "badges/weld.yaml": """
        name: Schweißen ✓ «MAG»
        description: "Kann MAG-schweißen: <sicher>."
        image: assets/b.svg
        criteria: |
          | Teil | Note |
          |---|---|
          | A | 1 |
        valid_for: P18M
        achievement_type: micro-credential
    """,
    "recipients/zoe.yaml": """
        name: Zoë 🙂 O'Neil
        email: ZOE@Example.org
        show_name: false
        awards:
          - badge: weld
            issued_on: 2024-02-29
            expires: 2099-01-01
          - badge: weld
            issued_on: 2026-06-01
            expires: 2099-12-31
            evidence:
              - {url: "https://example.org/e?a=1&b=%3C2%3E&c=é", narrative: "Prüfstück \\"A\\""}
          - badge: weld
            issued_on: 2023-01-10
            expires: 2024-01-10
    """,
}


class Site:
    """A built site: ``output`` (published at ``base``), ``source``, and its awards by status."""

    def __init__(self, output: Path, base: str, source: Path):
        self.output, self.base, self.source = output, base, source
        self.awards = sorted(p.name for p in (output / "awards").iterdir() if p.is_dir())
        now = datetime.now(UTC)
        hosted = {a: self.json(f"awards/{a}/assertion.json") for a in self.awards}
        self.revoked = {a for a, doc in hosted.items() if doc.get("revoked") is True}
        self.expired = {
            a for a, doc in hosted.items() if "expires" in doc and datetime.fromisoformat(doc["expires"]) < now
        }
        self.valid = set(self.awards) - self.revoked - self.expired

    def json(self, rel: str) -> dict:
        return json.loads((self.output / rel).read_text(encoding="utf-8"))

    def baked_ob2(self, award: str) -> list[Path]:
        """The award's baked OB 2.0 images: the artwork's own format, and a PNG of SVG artwork."""
        return sorted((self.output / "awards" / award).glob("badge.[ps][nv]g"))

    def baked_ob3(self, award: str) -> list[Path]:
        return sorted((self.output / "awards" / award).glob("credential.[ps][nv]g"))

    def email(self, award: str) -> str:
        """The earner's address as badgekiln hashes it (trimmed, lower-cased)."""
        import yaml

        for path in sorted((self.source / "recipients").glob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            if any(str(a.get("id")) == award for a in data.get("awards", [])):
                return data["email"].strip().lower()
        raise AssertionError(f"no recipient holds {award}")


def unbake_ob3(path: Path) -> str:
    """The credential baked into an OB 3.0 PNG (iTXt ``openbadgecredential``) or SVG
    (``<openbadges:credential>`` text), read with the standard library only (not badgekiln)."""
    import struct
    import xml.etree.ElementTree as ET
    import zlib

    data = path.read_bytes()
    if path.suffix == ".svg":
        [node] = ET.fromstring(data).iter("{https://purl.imsglobal.org/ob/v3p0}credential")
        return (node.text or "").strip()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"iTXt" and body.startswith(b"openbadgecredential\x00"):
            rest = body[len(b"openbadgecredential\x00") :]
            compressed, rest = rest[0], rest[2:]
            _, _, rest = rest.partition(b"\x00")  # language tag
            _, _, text = rest.partition(b"\x00")  # translated keyword
            return (zlib.decompress(text) if compressed else text).decode("utf-8")
    raise AssertionError(f"no openbadgecredential iTXt chunk in {path}")


def build_sites(served: Path) -> tuple[Site, Site]:
    """Build both sites into ``served/example`` and ``served/unusual``."""
    root = served.parent / (served.name + "-sources")
    example = copy_example(root / "example")
    _cli(example, root, ["keys", "generate"], ["build", "--output", str(served / "example")])
    unusual = write_site(
        root / "unusual",
        {
            **UNUSUAL,
            "site_src/assets/b.svg": (example / "site_src/assets/badges/network-cabling.svg").read_bytes(),
        },
    )
    _cli(unusual, root / "u", ["keys", "generate"], ["build", "--output", str(served / "unusual")], ["keys", "rotate"])
    first = (unusual / "recipients/zoe.yaml").read_text().split("id: ")[1].split()[0]
    _cli(
        unusual,
        root / "u",
        ["revoke", first, "--reason", "Test revocation"],
        ["build", "--output", str(served / "unusual")],
    )
    return Site(served / "example", BASE, example), Site(served / "unusual", SUB_BASE, unusual)
