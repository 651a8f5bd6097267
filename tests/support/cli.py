"""The badgekiln command line run in the test's own process, for module-scoped fixtures (the
function-scoped ``run`` fixture of tests/conftest.py cannot serve them)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from badgekiln.cli import main as badgekiln_main


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


def run_cli(*args: str, env: Mapping[str, str] | None = None) -> CliResult:
    """``badgekiln ARGS`` with ``env`` set for the call (and no private keys from the environment
    unless ``env`` is given); its exit code and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        if env is not None:
            for name, value in env.items():
                patch.setenv(name, value)
            patch.delenv("BADGEKILN_PRIVATE_KEYS", raising=False)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                badgekiln_main(list(args))
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
    return CliResult(code, out.getvalue(), err.getvalue())
