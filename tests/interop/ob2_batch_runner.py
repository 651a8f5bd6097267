"""Run the official Open Badges 2.0 validator (openbadges 1.1.2) on MANY inputs in one process.

Executed by the ORACLE VENV's interpreter (like ``tests/oracles/ob2_validate.py``), never by the
project's Python. Importing ``openbadges`` takes ~0.6 s of the ~0.7 s a single
``validate_ob2()`` call costs, so the interop tests batch their inputs through this script:

    .oracles/ob2-venv/bin/python tests/interop/ob2_batch_runner.py < jobs.json > results.json

stdin: a JSON list of jobs ``{"input": <URL | JWS | absolute file path>, "recipient_profile":
<dict or null>}``. stdout: a JSON list, one entry per job, in order: the validator's whole result
(``{"graph", "input", "report"}``, exactly what ``validate_ob2`` returns), or ``{"crash":
<traceback>}`` when ``verify()`` itself raised.

The sandbox is the single-input runner's own code, imported from tests/oracles/ob2_validate.py:
its network guard (loopback only; the OB 2.0 context answered from the local copy), its input
reader (URL / JWS / text file / baked PNG or SVG), the private cwd/TMPDIR/HOME, no proxies and no
requests-cache. Each ``verify()`` call builds its own store and requests session; the one piece of
module-global state, the blank-node counter of ``openbadges.verifier.reducers.graph``, is reset
before every job, so each job sees what a fresh ``ob2_validate.py`` process would.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import shutil
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SINGLE_RUNNER = os.path.join(os.path.dirname(HERE), "oracles", "ob2_validate.py")


def _load_single_runner():
    spec = importlib.util.spec_from_file_location("ob2_validate", SINGLE_RUNNER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--context-file", help="local copy of https://w3id.org/openbadges/v2")
    args = parser.parse_args(argv)
    jobs = json.load(sys.stdin)
    single = _load_single_runner()

    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        os.environ.pop(var, None)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"
    context_file = os.path.abspath(args.context_file) if args.context_file else None

    workdir = tempfile.mkdtemp(prefix="ob2-batch-")
    old_cwd = os.getcwd()
    results = []
    try:
        os.environ["TMPDIR"] = workdir
        os.environ["HOME"] = workdir
        tempfile.tempdir = workdir
        os.chdir(workdir)
        single._install_network_guard(single._load_context(context_file))

        from openbadges import verify
        from openbadges.verifier.reducers import graph as graph_reducer

        logging.getLogger("openbadges.verifier").setLevel(logging.WARNING)
        for job in jobs:
            # The validator numbers blank nodes (_:b0, _:b1, ...) with a module-global counter;
            # a fresh process starts it at -1, so every job must too (messages quote these ids).
            graph_reducer.current_node_number = -1
            try:
                badge_input = single._read_input(job["input"])
                results.append(
                    verify(
                        badge_input,
                        recipient_profile=job.get("recipient_profile"),
                        use_cache=False,
                        cache_backend=None,
                        include_original_json=False,
                    )
                )
            except Exception:  # the validator itself crashed on this input
                results.append({"crash": traceback.format_exc()})
    finally:
        os.chdir(old_cwd)
        shutil.rmtree(workdir, ignore_errors=True)

    json.dump(results, sys.stdout, sort_keys=True, default=single._json_default)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
