"""``badgekiln init``: a starter badge site that builds at once. Never overwrites a file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from badgekiln.errors import BadgekilnError
from badgekiln.sources.records import atomic_write_text

BADGE_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400" viewBox="0 0 400 400">
  <circle cx="200" cy="200" r="190" fill="#1f5f8b"/>
  <circle cx="200" cy="200" r="160" fill="none" stroke="#ffffff" stroke-width="6"/>
  <path d="M200 95 L228 165 L303 168 L244 214 L265 287 L200 245 L135 287 L156 214 L97 168 L172 165 Z" fill="#f2b134"/>
  <text x="200" y="326" font-family="sans-serif" font-size="24" font-weight="700" fill="#ffffff"
        text-anchor="middle">FIRST BADGE</text>
</svg>
"""


# The starter's texts that a provider replaces: a production build warns while they are still there.
STARTER_DESCRIPTION = "What we assess and why our badges matter."
STARTER_HOW_TO_VERIFY = "Every badge page links to its signed Open Badges 2.0 assertion and Open Badges 3.0 credential."
STARTER_BADGE_DESCRIPTION = "Holder completed our first assessment."


def starter_files(name: str, base_url: str, email: str) -> dict[str, str]:
    """Relative path → text of a starter site."""
    from badgekiln.sources.records import yaml_scalar

    return {
        "site_src/site.yaml": (
            "# Site and issuer settings: see README.md here, and 'The source format' in badgekiln's own\n"
            "# README (https://pypi.org/project/badgekiln/).\n"
            f"base_url: {yaml_scalar(base_url)}\n"
            "issuer:\n"
            f"  name: {yaml_scalar(name)}\n"
            "  url: https://example.org\n"
            f"  email: {yaml_scalar(email)}\n"
            f"  description: {STARTER_DESCRIPTION}\n"
        ),
        "site_src/assets/first-badge.svg": BADGE_SVG,
        "site_src/keys/README.md": "Public key records (`<kid>.yaml`) live here. Private keys never do.\n",
        "site_src/pages/how-to-verify.md": (
            f"---\ntitle: How to verify a badge\norder: 1\n---\n{STARTER_HOW_TO_VERIFY}\n"
        ),
        "badges/first-badge.yaml": (
            "name: First Badge\n"
            f"description: {STARTER_BADGE_DESCRIPTION}\n"
            "image: assets/first-badge.svg\n"
            "criteria: |\n"
            "  Passed the practical assessment under observation.\n"
            "valid_for: P3Y\n"
        ),
        "recipients/.gitkeep": "",
        "build.py": (
            '"""Build this badge site: ``python build.py`` == ``badgekiln build``."""\n'
            'import sys\n\nfrom badgekiln.cli import run\n\nrun(["build", *sys.argv[1:]])\n'
        ),
        ".gitignore": "/output/\n/.badgekiln/\n*.pem\n",
    }


def site_readme(name: str) -> str:
    """The new site's README: how to publish, issue from the browser, import a sheet, tell earners."""
    from importlib import resources

    text = resources.files("badgekiln").joinpath("data/github/site-README.md").read_text(encoding="utf-8")
    return text.replace("@NAME@", " ".join(name.split()))


def init(target: Path, *, name: str, base_url: str, email: str) -> list[str]:
    """Write the starter site into ``target``; refuses if any of its files already exists.

    Besides the site: its README and the GitHub workflows and issue forms (see :mod:`badgekiln.commands.github`).
    """
    from badgekiln.commands.github import github_files
    from badgekiln.sources.fields import bad_character

    # (a name the new site's own build refuses: init said it was done, the first build failed; a fuzz test)
    if not name.strip() or len(name) > 200 or (bad := bad_character(name, allow_newlines=False)):
        problem = (
            "is empty" if not name.strip() else "is longer than 200 characters" if len(name) > 200 else f"holds {bad}"
        )
        raise BadgekilnError(f"the issuer's name (--name) {problem}: give the name earners know you by")
    files = starter_files(name, base_url, email)
    files["README.md"] = site_readme(name)
    files.update(github_files([("first-badge", "First Badge")]))
    _refuse_links(target, files)
    clashes = [rel for rel in files if (target / rel).exists()]
    if clashes:
        raise BadgekilnError(f"refusing to overwrite existing files in {target}: {', '.join(sorted(clashes))}")
    for rel, text in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return sorted(files)


def _refuse_links(target: Path, files) -> None:
    """Refuse when a file to write, or a folder between ``target`` and it, is a symbolic link.

    A linked ``.github`` (or ``site_src``) folder, even a dangling one, would make ``init`` write
    outside the site; ``target`` itself is the user's choice and may be a link.
    """
    for rel in sorted(files):
        parts = Path(rel).parts
        for depth in range(1, len(parts) + 1):
            part = Path(*parts[:depth])
            if (target / part).is_symlink():
                what = "file" if depth == len(parts) else "folder"
                raise BadgekilnError(
                    f"{part.as_posix()} is a symbolic link; badgekiln writes {rel} only into a real "
                    f"{what} inside the site (replace the link with a {what})"
                )


def init_github(target: Path, *, today: date) -> list[str]:
    """In an existing site: write the GitHub files it lacks and renew the award form's badge list.

    Returns ``created PATH`` / ``renewed PATH`` lines. Other existing files are left alone.
    """
    from badgekiln.commands.github import AWARD_FORM, github_files, stale_form
    from badgekiln.sources.validate import load_project

    if not (target / "site_src" / "site.yaml").is_file():
        raise BadgekilnError(f"{target} is not a badge site (no site_src/site.yaml); run 'badgekiln init' first")
    project = load_project(target, today=today).project
    badges = [(slug, badge.name) for slug, badge in project.badges.items()]
    done = []
    files = github_files(badges)
    _refuse_links(target, files)
    for rel, text in files.items():
        path = target / rel
        if not path.exists():
            action = "created"
        elif rel == AWARD_FORM and stale_form(target, badges):
            action = "renewed"
        else:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
        done.append(f"{action} {rel}")
    return done
