"""``badgekiln init``: a starter badge site that builds at once. Never overwrites a file."""

from __future__ import annotations

from pathlib import Path

from ..errors import BadgekilnError

BADGE_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400" viewBox="0 0 400 400">
  <circle cx="200" cy="200" r="190" fill="#1f5f8b"/>
  <circle cx="200" cy="200" r="160" fill="none" stroke="#ffffff" stroke-width="6"/>
  <path d="M200 95 L228 165 L303 168 L244 214 L265 287 L200 245 L135 287 L156 214 L97 168 L172 165 Z" fill="#f2b134"/>
  <text x="200" y="340" font-family="sans-serif" font-size="30" font-weight="700" fill="#ffffff"
        text-anchor="middle">FIRST BADGE</text>
</svg>
"""


def starter_files(name: str, base_url: str, email: str) -> dict[str, str]:
    """Relative path → text of a starter site."""
    from ..records import yaml_scalar

    return {
        "site_src/site.yaml": (
            "# Site and issuer settings: see the badgekiln README, 'The source format'.\n"
            f"base_url: {yaml_scalar(base_url)}\n"
            "issuer:\n"
            f"  name: {yaml_scalar(name)}\n"
            "  url: https://example.org\n"
            f"  email: {yaml_scalar(email)}\n"
            "  description: What we assess and why our badges matter.\n"),
        "site_src/assets/first-badge.svg": BADGE_SVG,
        "site_src/keys/README.md": "Public key records (`<kid>.yaml`) live here. Private keys never do.\n",
        "site_src/pages/how-to-verify.md": (
            "---\ntitle: How to verify a badge\norder: 1\n---\n"
            "Every badge page links to its signed Open Badges 2.0 assertion and Open Badges 3.0 credential.\n"),
        "badges/first-badge.yaml": (
            "name: First Badge\n"
            "description: Holder completed our first assessment.\n"
            "image: assets/first-badge.svg\n"
            "criteria: |\n"
            "  Passed the practical assessment under observation.\n"
            "valid_for: P3Y\n"),
        "recipients/.gitkeep": "",
        "build.py": ('"""Build this badge site: ``python build.py`` == ``badgekiln build``."""\n'
                     "import sys\n\nfrom badgekiln.cli import main\n\nmain([\"build\", *sys.argv[1:]])\n"),
        ".gitignore": "/output/\n/.badgekiln/\n*.pem\n",
    }


def init(target: Path, *, name: str, base_url: str, email: str) -> list[str]:
    """Write the starter site into ``target``; refuses if any of its files already exists."""
    files = starter_files(name, base_url, email)
    clashes = [rel for rel in files if (target / rel).exists()]
    if clashes:
        raise BadgekilnError(f"refusing to overwrite existing files in {target}: {', '.join(sorted(clashes))}")
    for rel, text in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return sorted(files)
