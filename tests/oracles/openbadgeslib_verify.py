"""Run openbadgeslib (PyPI, 4.6.3) on a batch of badges; executed by ITS venv's interpreter.

    .oracles/openbadgeslib-venv/bin/python tests/oracles/openbadgeslib_verify.py \
        --map https://badges.example/=http://127.0.0.1:PORT/site/ < jobs.json

stdin: a JSON list of jobs ``{"kind": KIND, "input": STR, "recipient": email|null}``:

* ``ob2``: ``input`` is a file (compact JWS, hosted Assertion JSON, baked PNG/SVG) or an
  https URL of a hosted Assertion. A JWS goes to ``OB2Verifier.verify`` (SignedBadge: the key
  is resolved from ``verification.creator`` and bound to the issuer Profile; HostedBadge: the
  assertion is fetched from its id); a JSON document to ``OB2Verifier.verify_hosted``. Both
  with ``check_revocation=True`` (the issuer's RevocationList is fetched). A baked image whose
  carrier holds an https URL (a hosted badge's SVG ``verify`` attribute, per the OB 2.0 baking
  spec) is fetched first: the library itself would take the URL for a JWS.
* ``ob3``: ``input`` is a file (Data Integrity credential JSON, compact VC-JWT, baked PNG/SVG).
  The library reads the issuer DID from the credential, resolves it through did:web
  (``for_issuer_did``) and verifies with ``check_status=True``. ``verify_status_list`` is
  False: openbadgeslib only verifies the proof of a status list served as a JWT-VC, ours is a
  Data Integrity credential (the ``ob3-status-list`` job verifies that proof instead).
* ``ob3-status-list``: ``input`` is a status list credential file; its eddsa-rdfc-2022 proof is
  checked with ``verify_data_integrity_proof`` and the key its ``verificationMethod`` names,
  resolved through did:web (the method must belong to the list's issuer).

Offline: JSON-LD contexts come from the library's bundled, pinned copies (it never fetches
one). Every fetch goes through one ``download`` callable handed to the library: a URL under
a ``--map`` prefix is rewritten onto the loopback static server and fetched from there; any
other URL is refused (``offline: not allowed``) and listed under ``refused``. As a second
fence, ``socket.connect`` refuses every non-loopback address.

stdout: a JSON list of results ``{"valid": bool, "reason": str|null, "format": str|null,
"issuer_did": str|null, "fetched": [url], "refused": [url]}`` in job order. A crash of the
library on one input is reported as ``{"valid": false, "crash": traceback}``.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import socket
import sys
import traceback
import urllib.request

OFFLINE_ERROR = "offline: not allowed"
MAX_BYTES = 4 * 1024 * 1024
_PNG = b"\x89PNG\r\n\x1a\n"


def _guard_sockets() -> None:
    original = socket.socket.connect

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise OSError(f"{OFFLINE_ERROR}: connect to {host}")
        return original(self, address)

    socket.socket.connect = connect


class Downloader:
    """The library's ``download(url) -> bytes``, answered by the loopback server only."""

    def __init__(self, mapping: list[tuple[str, str]]):
        self.mapping = sorted(mapping, key=lambda m: -len(m[0]))
        self.fetched: list[str] = []
        self.refused: list[str] = []
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __call__(self, url: str, *args, **kwargs) -> bytes:
        for prefix, target in self.mapping:
            if url.startswith(prefix):
                local = target + url[len(prefix) :].split("#", 1)[0]
                self.fetched.append(url)
                with self._opener.open(local, timeout=30) as response:
                    data = response.read(MAX_BYTES + 1)
                if len(data) > MAX_BYTES:
                    raise ValueError(f"{url}: larger than {MAX_BYTES} bytes")
                return data
        self.refused.append(url)
        raise ValueError(f"{OFFLINE_ERROR}: {url}")


def _read(path: str) -> tuple[bytes, str | None]:
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] == _PNG:
        return data, "png"
    if path.lower().endswith(".svg"):
        return data, "svg"
    return data, None


def _ob2(job: dict, download: Downloader) -> dict:
    from openbadgeslib.ob2 import OB2VerificationError, OB2Verifier

    verifier = OB2Verifier(download=download)
    value = job["input"]
    try:
        if value.startswith("https://"):
            token, fmt = download(value).decode("utf-8"), "hosted-url"
        else:
            data, image = _read(value)
            if image == "png":
                token, fmt = OB2Verifier.extract_token_from_png(data), "png"
            elif image == "svg":
                token, fmt = OB2Verifier.extract_token_from_svg(data), "svg"
            else:
                token, fmt = data.decode("utf-8"), "text"
        token = token.strip()
        if token.startswith("https://") and fmt in ("png", "svg"):
            # OB 2.0 Baking: a hosted badge's `verify` attribute / iTXt text is its assertion
            # URL; openbadgeslib takes every baked value for a JWS, so fetch the URL here.
            token, fmt = download(token).decode("utf-8").strip(), fmt + "+url"
        if token.startswith("{"):
            fmt += "+hosted-json"
            verifier.verify_hosted(token, expected_recipient=job.get("recipient"), check_revocation=True)
        else:
            fmt += "+jws"
            verifier.verify(token, expected_recipient=job.get("recipient"), check_revocation=True)
    except OB2VerificationError as exc:
        return {"valid": False, "reason": str(exc), "format": locals().get("fmt")}
    return {"valid": True, "reason": None, "format": fmt}


def _ob3(job: dict, download: Downloader) -> dict:
    from openbadgeslib.ob3 import OB3LdpVerifier, OB3VerificationError, OB3Verifier
    from openbadgeslib.verify import issuer_did_from_document, issuer_did_from_token

    data, image = _read(job["input"])
    fmt, did = None, None
    try:
        if image == "png":
            token = OB3Verifier.extract_token_from_png(data)
        elif image == "svg":
            token = OB3Verifier.extract_token_from_svg(data)
        else:
            token = data.decode("utf-8")
        token = token.strip()
        is_ldp = token.startswith("{")
        fmt = ("ldp" if is_ldp else "vc-jwt") + (f"+{image}" if image else "")
        did = issuer_did_from_document(token) if is_ldp else issuer_did_from_token(token)
        cls = OB3LdpVerifier if is_ldp else OB3Verifier
        verifier = cls.for_issuer_did(did, download=download)
        verifier.verify(
            token,
            expected_recipient=job.get("recipient"),
            check_status=True,
            verify_status_list=False,
            download=download,
        )
    except OB3VerificationError as exc:
        return {"valid": False, "reason": str(exc), "format": fmt, "issuer_did": did}
    return {"valid": True, "reason": None, "format": fmt, "issuer_did": did}


def _ob3_status_list(job: dict, download: Downloader) -> dict:
    from openbadgeslib.ob3 import OB3VerificationError
    from openbadgeslib.ob3.did import resolve_verification_method
    from openbadgeslib.ob3.ldp import verify_data_integrity_proof

    data, _ = _read(job["input"])
    try:
        doc = json.loads(data)
        issuer = doc.get("issuer")
        issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
        proofs = doc.get("proof")
        proof = proofs[0] if isinstance(proofs, list) and len(proofs) == 1 else proofs
        vm = proof.get("verificationMethod") if isinstance(proof, dict) else None
        if not isinstance(vm, str) or vm.partition("#")[0] != issuer:
            raise OB3VerificationError(f"verificationMethod {vm!r} is not a method of the issuer {issuer!r}")
        verify_data_integrity_proof(doc, resolve_verification_method(vm, download=download))
    except (OB3VerificationError, ValueError, AttributeError) as exc:
        return {"valid": False, "reason": str(exc), "format": "ldp", "issuer_did": None}
    return {"valid": True, "reason": None, "format": "ldp", "issuer_did": issuer}


KINDS = {"ob2": _ob2, "ob3": _ob3, "ob3-status-list": _ob3_status_list}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--map", action="append", default=[], metavar="PREFIX=LOOPBACK_PREFIX")
    args = parser.parse_args(argv)
    mapping = []
    for item in args.map:
        prefix, sep, target = item.partition("=")
        if not sep or not target.startswith(("http://127.0.0.1:", "http://localhost:")):
            parser.error(f"--map wants PREFIX=http://127.0.0.1:PORT/...: {item!r}")
        mapping.append((prefix, target))
    _guard_sockets()
    jobs = json.load(sys.stdin)
    results = []
    for job in jobs:
        download = Downloader(mapping)
        try:
            result = KINDS[job["kind"]](job, download)
        except Exception:  # noqa: BLE001 - a library crash is a verdict to report, not a driver error
            result = {"valid": False, "reason": None, "crash": traceback.format_exc(limit=8)}
        result.update(fetched=download.fetched, refused=download.refused)
        results.append(result)
    json.dump(results, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
