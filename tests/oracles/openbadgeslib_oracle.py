"""pytest-side access to openbadgeslib 4.6.3 (PyPI), an independent Open Badges 2.0/3.0 verifier.

The library lives in its own virtual environment, created by
``bash tests/oracles/install_openbadgeslib.sh``; ``verify_batch`` runs
``tests/oracles/openbadgeslib_verify.py`` with that venv's interpreter in one subprocess per
batch (the library is imported once per batch)::

    from tests.oracles.openbadgeslib_oracle import verify_batch

    results = verify_batch(
        [{"kind": "ob3", "input": "/site/awards/x/credential.json"}],
        {"https://badges.example/": "http://127.0.0.1:PORT/site/"})

``mapping`` rewrites the published addresses onto a loopback static server; anything else the
library asks for is refused and listed in the result's ``refused``. Job kinds and the result
shape are described in openbadgeslib_verify.py. When the oracle is not installed (or was built
by another version of the install script) ``OracleMissingError`` is raised: tests FAIL, never
skip.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
INSTALL_SCRIPT = HERE / "install_openbadgeslib.sh"
RUNNER = HERE / "openbadgeslib_verify.py"


class OracleError(RuntimeError):
    """openbadgeslib could not be run or printed no results."""


class OracleMissingError(OracleError):
    """The oracle venv is absent or stale: run the install script."""


def oracle_python() -> Path:
    venv = Path(os.environ.get("BADGEKILN_ORACLES") or (REPO_ROOT / ".oracles")) / "openbadgeslib-venv"
    python, stamp = venv / "bin" / "python", venv / ".badgekiln-openbadgeslib-stamp"
    hint = f"run:  bash {os.path.relpath(INSTALL_SCRIPT, Path.cwd())}"
    if not python.exists() or not stamp.exists():
        raise OracleMissingError(f"openbadgeslib oracle is not installed (no venv at {venv}); {hint}")
    if stamp.read_text().split()[:1] != [hashlib.sha256(INSTALL_SCRIPT.read_bytes()).hexdigest()]:
        raise OracleMissingError(f"openbadgeslib oracle at {venv} was built by another {INSTALL_SCRIPT.name}; {hint}")
    return python


def verify_batch(jobs: list[dict[str, Any]], mapping: Mapping[str, str], *, timeout: float = 300.0) -> list[dict]:
    """Run openbadgeslib on every job (``{"kind", "input", "recipient"?}``); results in order."""
    cmd = [str(oracle_python()), str(RUNNER)]
    for prefix, target in mapping.items():
        cmd += ["--map", f"{prefix}={target}"]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP") and not k.lower().endswith("_proxy")
    }
    env.update(PYTHONNOUSERSITE="1", PYTHONDONTWRITEBYTECODE="1", PYTHONIOENCODING="utf-8")
    jobs = [{**job, "input": os.fspath(job["input"])} for job in jobs]
    try:
        proc = subprocess.run(
            cmd,
            input=json.dumps(jobs),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise OracleError(f"openbadgeslib timed out after {timeout}s on {len(jobs)} jobs") from exc
    if proc.returncode != 0:
        raise OracleError(f"openbadgeslib runner failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    try:
        results = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise OracleError(
            f"openbadgeslib runner printed no JSON:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        ) from exc
    if len(results) != len(jobs):
        raise OracleError(f"openbadgeslib runner returned {len(results)} results for {len(jobs)} jobs")
    return results
