"""pytest-side access to the official Open Badges 2.0 validator (openbadges 1.1.2).

The validator lives in its own virtual environment (it cannot share ours), created by
``bash tests/oracles/install_ob2_validator.sh``; this module runs
``tests/oracles/ob2_validate.py`` with that venv's interpreter in a subprocess.

    from tests.oracles.ob2 import validate_ob2, summarize, is_valid

    result = validate_ob2(base_url + "assertions/1.json")   # or a JWS / a file path
    assert is_valid(result), summarize(result)

``validate_ob2`` returns the validator's whole result::

    {"graph": [<compacted nodes>],
     "input": {"input_type": "url"|"jws"|"json"|"file", "value": <input>},
     "report": {"valid": bool, "errorCount": int, "warningCount": int,
                "messages": [{"messageLevel": "ERROR"|"WARNING"|"INFO", "result": str,
                              "name": <task name>, "success": bool,
                              "node_id"?: str, "prop_name"?: str}, ...],
                "validationSubject": <assertion id>, "openBadgesVersion": "2.0",
                "recipientProfile"?: {<type>: <identity>}}}

When the oracle is not installed (or was installed by an older version of the install
script) it raises ``OracleMissingError``: tests that use it FAIL, they never skip.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

__all__ = [
    "OracleError",
    "OracleMissingError",
    "REPO_ROOT",
    "INSTALL_SCRIPT",
    "RUNNER",
    "oracle_python",
    "validate_ob2",
    "summarize",
    "is_valid",
    "report_of",
    "messages_matching",
    "oracle_env",
    "run_batch",
]

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
INSTALL_SCRIPT = HERE / "install_ob2_validator.sh"
RUNNER = HERE / "ob2_validate.py"
# The published https://w3id.org/openbadges/v2 document, served to the validator in
# place of the live one (the validator resolves that context URL on every run).
OB2_CONTEXT_FILE = REPO_ROOT / "src" / "badgekiln" / "data" / "contexts" / "openbadges-v2.jsonld"

DEFAULT_TIMEOUT = 120.0


class OracleError(RuntimeError):
    """The validator could not be run or produced no report."""


class OracleMissingError(OracleError):
    """The oracle venv is absent or stale: run the install script."""


def _oracles_dir() -> Path:
    return Path(os.environ.get("BADGEKILN_ORACLES") or (REPO_ROOT / ".oracles"))


def oracle_python() -> Path:
    """Path of the oracle venv's interpreter; raises OracleMissingError if not usable."""
    venv = _oracles_dir() / "ob2-venv"
    python = venv / "bin" / "python"
    stamp = venv / ".badgekiln-ob2-stamp"
    hint = f"run:  bash {os.path.relpath(INSTALL_SCRIPT, Path.cwd())}"
    if not python.exists() or not stamp.exists():
        raise OracleMissingError(
            f"Open Badges 2.0 validator oracle is not installed (expected a working venv at {venv}); {hint}"
        )
    want = hashlib.sha256(INSTALL_SCRIPT.read_bytes()).hexdigest()
    have = stamp.read_text().split()[:1]
    if have != [want]:
        raise OracleMissingError(
            f"Open Badges 2.0 validator oracle at {venv} was built by another version of {INSTALL_SCRIPT.name}; {hint}"
        )
    return python


def validate_ob2(
    badge_input: str | os.PathLike[str],
    *,
    recipient_profile: dict[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    include_original_json: bool = False,
) -> dict[str, Any]:
    """Run openbadges 1.1.2 ``verify()`` on a hosted assertion URL, a JWS string, or a
    file (JWS/JSON text or baked PNG/SVG) and return its parsed result (see module doc).

    ``recipient_profile`` (e.g. ``{"email": "a@example.org"}``) makes the validator check
    the assertion's (hashed) recipient against it.
    """
    python = oracle_python()
    cmd = [str(python), str(RUNNER), os.fspath(badge_input)]
    if OB2_CONTEXT_FILE.is_file():
        cmd += ["--context-file", str(OB2_CONTEXT_FILE)]
    if recipient_profile is not None:
        cmd += ["--recipient-profile", json.dumps(recipient_profile)]
    if include_original_json:
        cmd.append("--include-original-json")

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env.update(PYTHONNOUSERSITE="1", PYTHONDONTWRITEBYTECODE="1", PYTHONIOENCODING="utf-8")
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise OracleError(f"OB2 validator timed out after {timeout}s on {badge_input!r}") from exc
    if proc.returncode != 0:
        raise OracleError(
            f"OB2 validator runner failed (exit {proc.returncode}) on {badge_input!r}:\n{proc.stderr[-4000:]}"
        )
    try:
        result = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise OracleError(
            f"OB2 validator printed no JSON for {badge_input!r}:\nstdout: {proc.stdout[-2000:]}\n"
            f"stderr: {proc.stderr[-2000:]}"
        ) from exc
    if not isinstance(result, dict) or "report" not in result:
        raise OracleError(f"unexpected OB2 validator output: {proc.stdout[:2000]}")
    return result


def report_of(result: dict[str, Any]) -> dict[str, Any]:
    """The ``report`` part of a ``validate_ob2`` result (a bare report passes through)."""
    return result["report"] if "report" in result and "messages" not in result else result


def summarize(result: dict[str, Any], levels: tuple[str, ...] = ("ERROR", "WARNING")) -> list[tuple[str, str]]:
    """``[(messageLevel, message), ...]`` for the report's errors and warnings, in order.

    Accepts the whole ``validate_ob2`` result or just its ``report``."""
    return [
        (m.get("messageLevel", "ERROR"), m.get("result", ""))
        for m in report_of(result).get("messages", [])
        if m.get("messageLevel", "ERROR") in levels
    ]


def is_valid(result: dict[str, Any]) -> bool:
    """The validator's own verdict: ``report.valid`` (no ERROR messages and a non-empty graph)."""
    return bool(report_of(result).get("valid"))


def messages_matching(result: dict[str, Any], needle: str, level: str | None = None) -> list[str]:
    """Messages containing ``needle`` (case-sensitive), optionally only of ``level``."""
    return [
        msg
        for lvl, msg in summarize(result, levels=("ERROR", "WARNING", "INFO"))
        if needle in msg and (level is None or lvl == level)
    ]


def oracle_env() -> dict[str, str]:
    """The environment the validator's own Python runs in: none of ours leaks into it."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env.update(PYTHONNOUSERSITE="1", PYTHONDONTWRITEBYTECODE="1", PYTHONIOENCODING="utf-8")
    return env


def run_batch(jobs: list[dict], runner: Path) -> list[dict]:
    """``jobs`` (``{"input", "recipient_profile"}`` each) through the batch ``runner`` script in
    the validator's Python, one process: its results, in order."""
    cmd = [str(oracle_python()), str(runner)]
    if OB2_CONTEXT_FILE.is_file():
        cmd += ["--context-file", str(OB2_CONTEXT_FILE)]
    proc = subprocess.run(
        cmd,
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60 + 15 * len(jobs),
        env=oracle_env(),
    )
    assert proc.returncode == 0, f"OB2 batch runner failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}"
    results = json.loads(proc.stdout)
    assert len(results) == len(jobs), proc.stdout[:2000]
    return results
