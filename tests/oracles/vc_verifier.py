"""Python front-end for the Node.js VC verifier oracle (tests/oracles/js).

The oracle verifies W3C VC 2.0 / Open Badges 3.0 credentials with embedded
``DataIntegrityProof`` / ``eddsa-rdfc-2022`` proofs and Bitstring Status List
revocation, using the Digital Bazaar JavaScript libraries, fully offline:

* JSON-LD contexts come from ``src/badgekiln/data/contexts`` (canonical URLs);
* every URL under ``base_url`` is read from the matching file in ``site_dir``
  (``https://host/base/status/1.json`` -> ``site_dir/status/1.json``);
* ``did:web`` is resolved per the did:web spec to a ``did.json`` URL, which
  must itself fall under ``base_url``; ``did:key`` is computed locally;
* anything else fails with an error containing ``"offline: not allowed"``.

Setup (once, needs the npm registry): ``npm ci --prefix tests/oracles/js``.

Result dict (one per credential)::

    {"credential": path, "id": str|None, "mode": "digitalbazaar"|"verifier-core",
     "verified": bool,        # proof+purpose+dates+status OK and not revoked
     "proofVerified": bool,   # raw @digitalbazaar/vc verdict
     "revoked": bool|None,    # None: no revocation entry / status not checked
     "suspended": bool|None,
     "statusChecked": bool,
     "errors": [str], "warnings": [str],
     "statusResult": {"verified": bool, "results": [{"verified", "status",
                      "statusPurpose", "statusListCredential",
                      "statusListIndex", "error"?}], "error"?} | None,
     "loaded": [url], "elapsedMs": int}
    # verifier-core mode adds "raw": verifier-core's own result (log,
    # additionalInformation incl. its OB3 JSON-schema check -> "warnings")
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

JS_DIR = Path(__file__).resolve().parent / "js"
VERIFY_SCRIPT = JS_DIR / "verify.mjs"
SELFTEST_SCRIPT = JS_DIR / "selftest.mjs"
DEFAULT_TIMEOUT = 60.0
OFFLINE_ERROR = "offline: not allowed"
#: "digitalbazaar": @digitalbazaar/vc + data-integrity + eddsa-rdfc-2022 +
#: vc-bitstring-status-list with our offline documentLoader (default).
#: "verifier-core": @digitalcredentials/verifier-core (DCC / VerifierPlus),
#: its own bundled contexts and did resolvers, network replaced by an
#: offline undici MockAgent serving the site dir. No ``now`` support.
MODES = ("digitalbazaar", "verifier-core")
DEFAULT_MODE = "digitalbazaar"

__all__ = [
    "MODES",
    "OFFLINE_ERROR",
    "OracleError",
    "OracleNotInstalled",
    "oracle_available",
    "verify_vc",
    "verify_many",
    "resolve_url",
    "resolve_urls",
    "generate_fixtures",
]


class OracleError(RuntimeError):
    """The oracle could not produce a result (crash, usage error, timeout)."""


class OracleNotInstalled(OracleError):
    """node or tests/oracles/js/node_modules is missing."""


def _node() -> str:
    node = shutil.which("node")
    if not node:
        raise OracleNotInstalled(
            "node (Node.js >= 18) is not on PATH; the VC verifier oracle needs "
            "it. Install Node.js, then run: npm ci --prefix tests/oracles/js"
        )
    return node


def _check_installed() -> str:
    node = _node()
    marker = JS_DIR / "node_modules" / "@digitalbazaar" / "vc" / "package.json"
    if not marker.is_file():
        raise OracleNotInstalled(
            f"JS oracle dependencies are missing ({JS_DIR / 'node_modules'} "
            "not installed). Run: npm ci --prefix tests/oracles/js"
        )
    return node


def oracle_available() -> bool:
    """True if node and the oracle's node_modules are present."""
    try:
        _check_installed()
    except OracleNotInstalled:
        return False
    return True


def _abs(p) -> str:
    # node runs with cwd=JS_DIR: hand it absolute paths only
    return os.path.abspath(os.fspath(p))


def _common_args(
    site_dir,
    base_url,
    *,
    check_status=True,
    now=None,
    contexts_dir=None,
    url_map: Mapping[str, os.PathLike | str] | None = None,
    mode: str = DEFAULT_MODE,
):
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    args = ["--site-dir", _abs(site_dir), "--base-url", str(base_url), "--mode", mode]
    if not check_status:
        args.append("--no-status")
    if now is not None:
        if hasattr(now, "isoformat"):
            now = now.isoformat()
            if now.endswith("+00:00"):
                now = now[:-6] + "Z"
        args += ["--now", str(now)]
    if contexts_dir is not None:
        args += ["--contexts", _abs(contexts_dir)]
    for prefix, directory in (url_map or {}).items():
        args += ["--map", f"{prefix}={_abs(directory)}"]
    return args


def _run(script: Path, args: Sequence[str], timeout: float):
    node = _check_installed()
    cmd = [node, os.fspath(script), *args]
    try:
        proc = subprocess.run(
            cmd, cwd=JS_DIR, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        raise OracleError(f"oracle timed out after {timeout}s: {cmd}") from exc
    if proc.returncode != 0:
        raise OracleError(
            f"oracle exited {proc.returncode}: {cmd}\nstderr:\n{proc.stderr.strip()}\nstdout:\n{proc.stdout[:2000]}"
        )
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise OracleError(
            f"oracle printed invalid JSON: {exc}\nstdout:\n{proc.stdout[:2000]}\nstderr:\n{proc.stderr.strip()}"
        ) from exc


def verify_vc(
    credential_path,
    site_dir,
    base_url,
    *,
    check_status: bool = True,
    now=None,
    contexts_dir=None,
    url_map=None,
    mode: str = DEFAULT_MODE,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict:
    """Verify one credential JSON file; returns the oracle's result dict.

    ``now``: ISO 8601 string or ``datetime`` used for validFrom/validUntil
    checks of the credential (the status list credential is always checked
    at the real current time, as @digitalbazaar/vc-bitstring-status-list does).
    ``url_map``: extra ``{url_prefix: directory}`` mounts besides base_url.
    ``mode``: one of :data:`MODES`.
    """
    args = ["--credential", _abs(credential_path)] + _common_args(
        site_dir, base_url, check_status=check_status, now=now, contexts_dir=contexts_dir, url_map=url_map, mode=mode
    )
    return _run(VERIFY_SCRIPT, args, timeout)


def verify_many(
    paths: Iterable[os.PathLike | str],
    site_dir,
    base_url,
    *,
    check_status: bool = True,
    now=None,
    contexts_dir=None,
    url_map=None,
    mode: str = DEFAULT_MODE,
    timeout: float | None = None,
) -> list[dict]:
    """Verify many credentials in ONE node process; results in input order.

    Default timeout: 60 s + 1 s per credential. Costs ~0.4 s of node start-up
    plus ~5-30 ms per credential (digitalbazaar mode).
    """
    paths = [_abs(p) for p in paths]
    if not paths:
        return []
    if timeout is None:
        timeout = DEFAULT_TIMEOUT + len(paths)
    with tempfile.NamedTemporaryFile(
        "w", suffix=".json", prefix="vc-oracle-list-", delete=False, encoding="utf-8"
    ) as fh:
        json.dump(paths, fh)
        list_file = fh.name
    try:
        args = ["--credentials-list", list_file] + _common_args(
            site_dir,
            base_url,
            check_status=check_status,
            now=now,
            contexts_dir=contexts_dir,
            url_map=url_map,
            mode=mode,
        )
        results = _run(VERIFY_SCRIPT, args, timeout)
    finally:
        os.unlink(list_file)
    if not isinstance(results, list) or len(results) != len(paths):
        raise OracleError(f"oracle returned {type(results).__name__} for {len(paths)} credentials")
    return results


def resolve_urls(
    urls: Iterable[str], site_dir, base_url, *, contexts_dir=None, url_map=None, timeout: float = DEFAULT_TIMEOUT
) -> list[dict]:
    """What the oracle's offline document loader (digitalbazaar mode) returns
    for each URL, in one node process: ``{"url", "ok": True, "document"}`` or
    ``{"url", "ok": False, "error"}`` (refusals contain OFFLINE_ERROR)."""
    urls = list(urls)
    if not urls:
        return []
    args: list[str] = []
    for url in urls:
        args += ["--resolve", url]
    args += _common_args(site_dir, base_url, contexts_dir=contexts_dir, url_map=url_map)
    out = _run(VERIFY_SCRIPT, args, timeout)
    return out if isinstance(out, list) else [out]


def resolve_url(url: str, site_dir, base_url, **kwargs) -> dict:
    """Single-URL form of :func:`resolve_urls`."""
    return resolve_urls([url], site_dir, base_url, **kwargs)[0]


def generate_fixtures(
    out_dir, *, base_url: str = "https://badges.example.org/", did: str | None = None, timeout: float = DEFAULT_TIMEOUT
) -> dict:
    """Build an independent fixture site with the Digital Bazaar libraries
    (tests/oracles/js/selftest.mjs); returns its manifest."""
    args = ["--out", _abs(out_dir), "--base-url", base_url]
    if did:
        args += ["--did", did]
    return _run(SELFTEST_SCRIPT, args, timeout)
