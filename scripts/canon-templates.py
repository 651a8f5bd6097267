#!/usr/bin/env python3
"""Rewrite src/badgekiln/data/canon-templates.json, the canonicalization templates badgekiln ships
for the status lists (see tests/support/canonseeds.py), from pyld as installed.

    python3 scripts/canon-templates.py           # rewrite the file, then review `git diff`
    python3 scripts/canon-templates.py --check   # change nothing; exit 1 if the file is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.canonseeds import SEEDS, seed_text  # noqa: E402 - (after the path above)


def main(argv: list[str]) -> int:
    text = seed_text()
    if SEEDS.read_text(encoding="utf-8") == text:
        print(f"{SEEDS.name} is up to date")
        return 0
    if "--check" in argv:
        print(f"{SEEDS.name} is out of date: run python3 scripts/canon-templates.py", file=sys.stderr)
        return 1
    SEEDS.write_text(text, encoding="utf-8")
    print(f"wrote {SEEDS}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
