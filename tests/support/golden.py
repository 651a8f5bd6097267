"""The golden output tree: the example site built with fixed keys and a fixed date.

``tests/golden/example/`` holds the complete ``output/`` of the repository's example site
(``site_src/``, ``badges/``, ``recipients/``), built as a publishing site would be:

1. a copy of the sources gets the fixed public key records (:mod:`tests.support.fixed_keys`) in
   ``site_src/keys/``, as ``badgekiln keys generate`` would write them;
2. a local ``badgekiln build`` with the private keys in ``BADGEKILN_PRIVATE_KEYS`` pins the keys
   in the copy's ``site_src/awards.lock`` (what a maintainer commits after making keys);
3. ``badgekiln build --production`` (as CI runs it: frozen sources, no development keys) writes
   the tree.

Both builds use ``--today`` = :data:`TODAY`. ``tests/test_golden.py`` rebuilds and compares byte
for byte; ``scripts/regenerate-golden.py`` rewrites the tree so that every change to the output
is a diff in review.
"""

from __future__ import annotations

import difflib
import hashlib
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from .fixed_keys import FixedKeys

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden" / "example"
TODAY = "2026-11-22"  # the date tests/conftest.py builds with
SOURCES = ("site_src", "badges", "recipients", "templates")
DEVELOPMENT_WARNING = "DEVELOPMENT KEYS"
REGENERATE = "python3 scripts/regenerate-golden.py"

# Runs the badgekiln command line with these arguments: (exit status, stdout, stderr).
Invoke = Callable[..., tuple[int, str, str]]


def environment(keys: FixedKeys, work: Path) -> dict[str, str]:
    """The variables a golden build runs with: the private keys as CI passes them, and key and
    cache folders inside ``work`` (so that no developer's own keys can take part)."""
    return {
        "BADGEKILN_PRIVATE_KEYS": keys.private_pem,
        "BADGEKILN_KEYS_DIR": str(work / "private-keys"),
        "XDG_CACHE_HOME": str(work / "xdg-cache"),
        "XDG_CONFIG_HOME": str(work / "xdg-config"),
    }


def build_example(work: Path, keys: FixedKeys, invoke: Invoke) -> Path:
    """Build the example site into ``work/output`` the golden way (see the module docstring);
    the caller has set :func:`environment`. Returns the output folder.

    Raises:
        AssertionError: a build failed or fell back to development keys.
    """
    site = work / "site"
    for name in SOURCES:
        if (REPO / name).exists():
            shutil.copytree(REPO / name, site / name)
    keys.install(site)
    common = ("--source", str(site), "--today", TODAY)
    _check("local build", invoke("build", *common, "--output", str(work / "local-output")))
    _check("production build", invoke("build", "--production", *common, "--output", str(work / "output")))
    return work / "output"


def _check(what: str, result: tuple[int, str, str]) -> None:
    code, _, err = result
    assert code == 0, f"the golden {what} failed (exit {code}):\n{err}"
    assert DEVELOPMENT_WARNING not in err, f"the golden {what} used development keys:\n{err}"


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` (hidden ones too) → its bytes, by POSIX relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def changes(expected: Mapping[str, bytes], actual: Mapping[str, bytes]) -> dict[str, list[str]]:
    """The paths ``added`` (only in ``actual``), ``changed`` and ``removed`` (only in ``expected``)."""
    return {
        "added": sorted(actual.keys() - expected.keys()),
        "changed": sorted(p for p in expected.keys() & actual.keys() if expected[p] != actual[p]),
        "removed": sorted(expected.keys() - actual.keys()),
    }


def describe(
    expected: Mapping[str, bytes], actual: Mapping[str, bytes], *, max_files: int = 8, max_lines: int = 24
) -> str:
    """A report of how ``actual`` differs from ``expected`` ("" when they are equal): every
    added, changed and removed path, and for the first ``max_files`` changed files a unified diff
    excerpt (text) or their sizes and SHA-256 (binary)."""
    found = changes(expected, actual)
    lines = [f"{kind} ({len(paths)}): {path}" for kind, paths in found.items() for path in paths]
    if not lines:
        return ""
    lines.insert(0, "(added: made by the build, not in the golden tree; removed: in the golden tree, no longer made)")
    for path in found["changed"][:max_files]:
        lines.append("")
        lines.extend(_file_diff(path, expected[path], actual[path], max_lines))
    if len(found["changed"]) > max_files:
        lines.append(f"\n... and {len(found['changed']) - max_files} more changed file(s)")
    return "\n".join(lines)


def _file_diff(path: str, old: bytes, new: bytes, max_lines: int) -> list[str]:
    try:
        old_text, new_text = old.decode("utf-8"), new.decode("utf-8")
    except UnicodeDecodeError:
        return [f"{path}: binary, {_size_and_hash(old)} -> {_size_and_hash(new)}"]
    diff = list(
        difflib.unified_diff(
            old_text.splitlines(), new_text.splitlines(), f"golden/{path}", f"built/{path}", n=1, lineterm=""
        )
    )
    if len(diff) > max_lines:
        diff = diff[:max_lines] + [f"... ({len(diff) - max_lines} more diff lines)"]
    return [line if len(line) <= 300 else line[:300] + " ..." for line in diff]


def _size_and_hash(content: bytes) -> str:
    return f"{len(content)} bytes (sha256 {hashlib.sha256(content).hexdigest()[:16]})"


def replace_tree(target: Path, files: Mapping[str, bytes]) -> None:
    """Make ``target`` hold exactly ``files``: write new and changed ones, delete the others and
    the folders they leave empty."""
    current = tree_bytes(target) if target.exists() else {}
    for rel in current.keys() - files.keys():
        (target / rel).unlink()
    for rel, content in files.items():
        if current.get(rel) != content:
            path = target / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    for folder in sorted((p for p in target.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
