"""Run the official Open Badges 2.0 validator (openbadges 1.1.2) on one input.

Executed by the ORACLE VENV's interpreter (see install_ob2_validator.sh), never by
the project's Python:

    .oracles/ob2-venv/bin/python tests/oracles/ob2_validate.py INPUT [options]

INPUT is one of
  * a hosted Assertion URL (http://127.0.0.1:PORT/...);
  * a compact JWS string (signed assertion);
  * a path to a file holding a JWS or Assertion JSON (text), or a baked PNG/SVG (binary);
  * "-" to read the text input from stdin.

Prints ``openbadges.verify(...)``'s result as JSON on stdout
(``{"graph": [...], "input": {...}, "report": {...}}``); diagnostics go to stderr.
Exit status: 0 when the validator ran (whatever it found), 2 on usage errors,
1 if the validator itself crashed.

Sandboxing:
  * every HTTP request made through ``requests`` (the only HTTP client the validator
    uses) goes through a guard: loopback hosts (127.0.0.0/8, localhost, ::1) pass;
    the Open Badges v2 JSON-LD context URL is answered from a local copy (the live
    document is not reachable from tests and must not be fetched); anything else
    fails with ``ConnectionError("ob2 oracle: network access outside loopback
    refused: <url>")``, which the validator reports as an ERROR message;
  * the requests-cache layer is switched off (``use_cache=False, cache_backend=None``:
    plain ``requests.Session`` everywhere), and cwd/TMPDIR/HOME point at a private
    temporary directory that is removed on exit, so nothing is written elsewhere;
  * proxy environment variables are dropped so loopback requests stay on loopback.
"""

from __future__ import annotations

import argparse
import io
import ipaddress
import json
import os
import shutil
import sys
import tempfile
import urllib.parse

OB2_CONTEXT_URLS = (
    "https://w3id.org/openbadges/v2",
    "http://w3id.org/openbadges/v2",
    "https://openbadgespec.org/v2/context.json",
    "http://openbadgespec.org/v2/context.json",
)
DEFAULT_HTTP_TIMEOUT = 30.0


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _install_network_guard(context_bytes: bytes) -> None:
    import requests
    from requests.adapters import HTTPAdapter
    from requests.structures import CaseInsensitiveDict

    original_send = HTTPAdapter.send
    context_urls = {u.rstrip("/") for u in OB2_CONTEXT_URLS}

    def guarded_send(self, request, **kwargs):
        url = request.url
        if url.split("#", 1)[0].rstrip("/") in context_urls:
            resp = requests.Response()
            resp.status_code = 200
            resp.reason = "OK"
            resp.headers = CaseInsensitiveDict({"Content-Type": "application/ld+json"})
            resp._content = context_bytes
            resp.encoding = "utf-8"
            resp.url = url
            resp.request = request
            resp.connection = self
            return resp
        if not _is_loopback(urllib.parse.urlsplit(url).hostname):
            raise requests.ConnectionError(
                f"ob2 oracle: network access outside loopback refused: {url}",
                request=request,
            )
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = DEFAULT_HTTP_TIMEOUT
        return original_send(self, request, **kwargs)

    HTTPAdapter.send = guarded_send


def _load_context(path: str | None) -> bytes:
    if path:
        with open(path, "rb") as f:
            data = f.read()
        json.loads(data)  # fail early on a broken file
        return data
    from openbadges.verifier.openbadges_context import OPENBADGES_CONTEXT_V2_DICT

    return json.dumps(OPENBADGES_CONTEXT_V2_DICT).encode("utf-8")


def _read_input(arg: str):
    """Return what openbadges.verify() takes: a str, or a binary file object."""
    if arg == "-":
        return sys.stdin.read().strip()
    if arg.startswith(("http://", "https://")):
        return arg
    if os.path.isfile(arg):
        with open(arg, "rb") as f:
            data = f.read()
        if data.startswith(b"\x89PNG\r\n\x1a\n") or (arg.lower().endswith(".svg") and b"<svg" in data[:4096]):
            buf = io.BytesIO(data)
            buf.name = os.path.basename(arg)
            return buf  # baked image: verify() unbakes it
        return data.decode("utf-8").strip()
    return arg.strip()  # a JWS (or JSON) given inline


def _json_default(obj):
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    return repr(obj)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="assertion URL, JWS string, file path, or '-'")
    parser.add_argument(
        "--context-file",
        help="local copy of https://w3id.org/openbadges/v2 to serve for the context URL "
        "(default: the copy bundled in openbadges.verifier.openbadges_context)",
    )
    parser.add_argument(
        "--recipient-profile",
        help='JSON of a trusted recipient Profile, e.g. \'{"email": "a@example.org"}\'; '
        "the validator then checks the (hashed) recipient identity against it",
    )
    parser.add_argument(
        "--include-original-json",
        action="store_true",
        help="keep report['input']['original_json'] (the fetched documents)",
    )
    args = parser.parse_args(argv)

    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        os.environ.pop(var, None)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"

    # Resolve paths before moving into the private working directory.
    context_file = os.path.abspath(args.context_file) if args.context_file else None
    input_arg = args.input
    if input_arg not in ("-",) and os.path.isfile(input_arg):
        input_arg = os.path.abspath(input_arg)

    recipient_profile = json.loads(args.recipient_profile) if args.recipient_profile else None

    workdir = tempfile.mkdtemp(prefix="ob2-oracle-")
    old_cwd = os.getcwd()
    try:
        os.environ["TMPDIR"] = workdir
        os.environ["HOME"] = workdir
        tempfile.tempdir = workdir
        os.chdir(workdir)

        context_bytes = _load_context(context_file)
        _install_network_guard(context_bytes)

        import logging

        from openbadges import verify

        # The validator logs (to stderr) a traceback for every task that raised;
        # keep those, drop its DEBUG chatter.
        logging.getLogger("openbadges.verifier").setLevel(logging.WARNING)

        badge_input = _read_input(input_arg)
        try:
            result = verify(
                badge_input,
                recipient_profile=recipient_profile,
                use_cache=False,
                cache_backend=None,
                include_original_json=args.include_original_json,
            )
        except Exception:  # the validator itself crashed: say so, non-zero
            import traceback

            traceback.print_exc()
            return 1
    finally:
        os.chdir(old_cwd)
        shutil.rmtree(workdir, ignore_errors=True)

    json.dump(result, sys.stdout, indent=2, sort_keys=True, default=_json_default)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
