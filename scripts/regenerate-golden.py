#!/usr/bin/env python3
"""Rebuild tests/golden/example/ (the example site's output with fixed keys and date) from the
code in this checkout, and print what changed.

    python3 scripts/regenerate-golden.py           # rewrite the tree, then review `git diff tests/golden/`
    python3 scripts/regenerate-golden.py --check   # change nothing; exit 1 if the tree is out of date

Files the build no longer produces are deleted. How the tree is built: tests/support/golden.py.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def invoke(*args: str) -> tuple[int, str, str]:
    """Run the badgekiln command line in this process: (exit status, stdout, stderr)."""
    from badgekiln.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def main_(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if the golden tree is out of date")
    args = parser.parse_args(argv)
    sys.path[:0] = [str(REPO / "src"), str(REPO)]  # this checkout's code, whatever is installed
    from tests.support import golden
    from tests.support.fixed_keys import fixed_keys

    keys = fixed_keys()
    with tempfile.TemporaryDirectory(prefix="badgekiln-golden-") as tmp:
        work = Path(tmp)
        os.environ.update(golden.environment(keys, work))
        try:
            built = golden.tree_bytes(golden.build_example(work, keys, invoke))
        except AssertionError as exc:
            print(exc, file=sys.stderr)
            return 2
    before = golden.tree_bytes(golden.GOLDEN) if golden.GOLDEN.exists() else {}
    found = golden.changes(before, built)
    shown = golden.GOLDEN.relative_to(REPO)
    for kind, mark in (("added", "A"), ("changed", "M"), ("removed", "D")):
        for path in found[kind]:
            print(f"{mark} {shown}/{path}")
    counts = ", ".join(f"{len(paths)} {kind}" for kind, paths in found.items())
    unchanged = len(built.keys() & before.keys()) - len(found["changed"])
    if args.check:
        print(
            f"{shown}: {counts}, {unchanged} unchanged"
            + ("; run scripts/regenerate-golden.py" if any(found.values()) else "")
        )
        return 1 if any(found.values()) else 0
    golden.replace_tree(golden.GOLDEN, built)
    print(f"{shown}: {counts}, {unchanged} unchanged ({len(built)} files)")
    if any(found.values()):
        print(f"review the changes with: git status {shown} && git diff {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main_())
