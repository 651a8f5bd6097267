"""Synthetic badge sites for the benchmarks: realistic sources, real keys, a pinned ledger.

``generate_site(root, awards=10_000)`` writes a complete source tree below ``root``: ``site.yaml``
with an issuer logo, two Markdown pages, badge classes with the example site's real artwork (a
28 KB PNG and 2-3 KB SVGs, cycled), recipients with several awards each (Unicode names, hidden
names, narratives, evidence, expiry, revocations), real RSA-3072 and Ed25519 keys made by
``badgekiln keys generate`` (private keys in ``$BADGEKILN_KEYS_DIR``, which the caller points at a
temporary folder) and ``site_src/awards.lock`` with every award pinned, as a committed site has.

Everything is drawn from a seeded ``random.Random``: the same arguments give the same sources
(keys apart, which are random by nature).
"""

from __future__ import annotations

import math
import random
import shutil
from datetime import date, timedelta
from pathlib import Path

import yaml

from badgekiln.commands import keys as keys_commands
from badgekiln.formats import ids
from badgekiln.signing.keys import ED25519, RSA
from badgekiln.sources.ledger import Entry, Ledger

REPO = Path(__file__).resolve().parent.parent
ARTWORK = REPO / "site_src" / "assets"
TODAY = date(2026, 11, 22)

FIRST = (
    "Jane",
    "Akira",
    "Elena",
    "Marcus",
    "Priya",
    "Seán",
    "Zofia",
    "Nguyễn",
    "Oluwaseun",
    "Björk",
    "François",
    "Mateus",
    "Aisha",
    "Dmitri",
    "Ingrid",
    "Kwame",
    "Lucía",
    "Mei",
    "Ravi",
    "Søren",
    "明",
    "Тимур",
    "Chloé",
    "Giorgos",
    "Hana",
    "Ilse",
    "José",
    "Leilani",
    "Nadia",
    "Òscar",
)
LAST = (
    "Doe",
    "Tanaka",
    "García",
    "Johnson",
    "Patel",
    "O'Brien",
    "Wiśniewska",
    "Văn An",
    "Adeyemi",
    "Guðmundsdóttir",
    "Lefèvre",
    "Silva",
    "Khan",
    "Volkov",
    "Berg",
    "Mensah",
    "Fernández",
    "Chen",
    "Iyer",
    "Østergaard",
    "田中",
    "Алиев",
    "Dubois",
    "Papadopoulos",
    "Novák",
    "Müller",
    "Hernández",
    "Kahananui",
    "Haddad",
    "Puig",
)
TOPICS = (
    "Pipefitting",
    "Confined Space Entry",
    "First Aid at Work",
    "Instrumentation",
    "Network Cabling",
    "Scaffold Inspection",
    "Working at Height",
    "Electrical Isolation",
    "Forklift Operation",
    "Welding - MIG",
    "Hydraulics",
    "Fire Warden",
    "Manual Handling",
    "Asbestos Awareness",
    "Gas Detection",
    "Rigging and Lifting",
    "PLC Programming",
    "Lockout Tagout",
    "Abrasive Wheels",
    "Fibre Splicing",
)
LEVELS = ("Foundation", "Intermediate", "Advanced", "Supervisor", "Assessor")
TYPES = ("Certification", "Badge", "Course", "Competency", "ext:Workshop", None, None)
DURATIONS = ("P1Y", "P2Y", "P3Y", "P18M", None, None)


def badge_count(awards: int) -> int:
    """About 13 badge classes at 1,000 awards, 40 at 10,000, 100 at 100,000."""
    return min(100, max(8, round(math.sqrt(awards) / 2.5)))


def generate_site(
    root: Path, awards: int, *, seed: int = 5, badges: int | None = None, artwork: str = "example"
) -> dict:
    """Write a synthetic site with ``awards`` awards below ``root`` (which must not exist).

    ``artwork="small"`` gives every badge class one plain SVG disc instead of the example site's
    artwork: an award's images then take a few KB rather than 80-110 KB, which is what lets a
    1,000,000-award site fit on a disk of this machine's size.

    Returns:
        A summary: counts, the badge slugs, and one award per scenario to edit later.
    """
    rng = random.Random(seed)
    root.mkdir(parents=True)
    _write_config(root)
    artworks = sorted((ARTWORK / "badges").iterdir()) if artwork == "example" else [_small_artwork(root)]
    slugs = [_write_badge(root, rng, i, artworks) for i in range(badges or badge_count(awards))]
    made = _write_recipients(root, rng, slugs, awards)
    kids = {r.record.algorithm: r.record.kid for r in keys_commands.generate(root, TODAY)}
    entries = {
        award_id: Entry(award_id, index, badge, kids[RSA], kids[ED25519])
        for index, (award_id, badge) in enumerate(sorted(made))
    }
    (root / "site_src" / "awards.lock").write_text(Ledger(entries).to_text(), encoding="utf-8")
    return {"awards": len(made), "badges": len(slugs), "recipients": len(list((root / "recipients").iterdir()))}


def _write_config(root: Path) -> None:
    site_src = root / "site_src"
    (site_src / "assets" / "badges").mkdir(parents=True)
    (site_src / "pages").mkdir()
    shutil.copy(ARTWORK / "logo.svg", site_src / "assets" / "logo.svg")
    (site_src / "site.yaml").write_text(
        "base_url: https://badges.bench.example/\n"
        "title: Bench Training badges\n"
        'accent_color: "#1f5f8b"\n'
        "footer: Bench Training Ltd, Teesside.\n"
        "issuer:\n"
        "  name: Bench Training\n"
        "  url: https://bench.example\n"
        "  email: badges@bench.example\n"
        "  description: Competence assessment for process industries.\n"
        "  image: assets/logo.svg\n"
        '  telephone: "+44 1642 000000"\n',
        encoding="utf-8",
    )
    for slug, title in (("about", "About these badges"), ("how-to-verify", "How to verify a badge")):
        (site_src / "pages" / f"{slug}.md").write_text(
            f"---\ntitle: {title}\n---\n\n## {title}\n\nEvery badge on this site is **signed**. "
            "See [the issuer](https://bench.example) for details.\n",
            encoding="utf-8",
        )


def _small_artwork(root: Path) -> Path:
    """A 64-pixel PNG of two flat colours (under 200 bytes), in ``root``'s parent (outside the sources)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (64, 64), (240, 180, 40))
    ImageDraw.Draw(image).rectangle((6, 6, 57, 57), fill=(31, 95, 139))
    path = root.parent / f"{root.name}-artwork.png"
    image.save(path, optimize=True)
    return path


def _write_badge(root: Path, rng: random.Random, number: int, artworks: list[Path]) -> str:
    topic, level = TOPICS[number % len(TOPICS)], LEVELS[(number // len(TOPICS)) % len(LEVELS)]
    slug = f"{topic.lower().replace(' - ', '-').replace(' ', '-')}-{level.lower()}-{number}"
    artwork = artworks[number % min(5, len(artworks))]
    image = f"assets/badges/{slug}{artwork.suffix}"
    shutil.copy(artwork, root / "site_src" / image)
    lines = [
        f"name: {topic} - {level}",
        f"description: Holder can carry out {topic.lower()} tasks at {level.lower()} level safely and to standard.",
        f"image: {image}",
        "criteria: |",
        f"  Passed the **{topic}** practical assessment under observation:",
        "",
        "  - prepared the work area and the permit;",
        "  - completed the task to the written procedure;",
        "  - recorded the result and handed over.",
        f"tags: [{topic.split()[0].lower()}, {level.lower()}, safety]",
    ]
    if duration := rng.choice(DURATIONS):
        lines.append(f"valid_for: {duration}")
    if achievement_type := rng.choice(TYPES):
        lines.append(f"achievement_type: {achievement_type}")
    if rng.random() < 0.5:
        lines += [
            "alignment:",
            f"  - name: {topic} Technician",
            f"    url: https://example.org/roles/{slug}",
            "    framework: Standard Industry Role Profiles",
            f"    code: R-{number:03d}",
        ]
    (root / "badges" / f"{slug}.yaml").parent.mkdir(exist_ok=True)
    (root / "badges" / f"{slug}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return slug


def _yaml_id(award_id: str) -> str:
    """The id as YAML text: quoted when YAML would read it as something else (a number)."""
    return award_id if isinstance(yaml.safe_load(award_id), str) else f'"{award_id}"'


def _write_recipients(root: Path, rng: random.Random, slugs: list[str], total: int) -> list[tuple[str, str]]:
    folder = root / "recipients"
    folder.mkdir()
    made: list[tuple[str, str]] = []
    person = 0
    while len(made) < total:
        count = min(total - len(made), rng.choice((1, 1, 2, 3, 3, 4, 5, 6, 8)))
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"earner{person}@bench{person % 7}.example"
        lines = [f'name: "{first} {last}"', f"email: {email}"]
        if rng.random() < 0.1:
            lines.append("show_name: false")
        lines.append("awards:")
        for rank in range(count):
            badge = rng.choice(slugs)
            issued = date(2019, 1, 1) + timedelta(days=rng.randrange(0, (TODAY - date(2019, 1, 1)).days - 20))
            award_id = ids.derive_award_id(email, badge, issued.isoformat(), rank)
            lines += [f"  - id: {_yaml_id(award_id)}", f"    badge: {badge}", f"    issued_on: {issued.isoformat()}"]
            if rng.random() < 0.2:
                lines.append(f"    narrative: Assessed on site by assessor {rng.randrange(1, 40)}.")
            if rng.random() < 0.15:
                lines += [
                    "    evidence:",
                    f"      - url: https://example.org/evidence/{award_id}",
                    "        name: Observation record",
                    "        narrative: The assessor's observation record.",
                ]
            if rng.random() < 0.01:
                lines += [
                    "    revoked:",
                    f"      on: {(issued + timedelta(days=10)).isoformat()}",
                    "      reason: Issued in error",
                ]
            made.append((award_id, badge))
        (folder / f"earner-{person:06d}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        person += 1
    return made
