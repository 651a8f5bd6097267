"""The code keeps its shape: layers import only downward, types check, lint and format are clean.

Each tool runs over the working tree (``pyproject.toml`` has their settings) and must report
nothing; the message shows what it found.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))  # the tree under test, not another install
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.parametrize(
    "command",
    [
        ("lint-imports",),
        (sys.executable, "-m", "mypy"),
        (sys.executable, "-m", "ruff", "check", "src", "tests", "benchmarks", "scripts", "build.py"),
        (sys.executable, "-m", "ruff", "format", "--check", "src", "tests", "benchmarks", "scripts", "build.py"),
    ],
    ids=["import-contracts", "mypy", "ruff-check", "ruff-format"],
)
def test_tool_reports_nothing(command):
    result = _run(*command)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
