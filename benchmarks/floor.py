"""The floor of a build: the work no build of N awards can avoid, spread over every core.

Per award that is two RSA signatures (the OB 2.0 JWS and the VC-JWT, with the site's real
RSA-3072 key), one Ed25519 signature (the Data Integrity proof), RDFC-1.0 canonicalization of the
credential and of its proof options *from already-expanded quads* (pyld's URDNA2015 on an RDF
dataset; JSON-LD expansion is not part of the floor) and writing every file of the award's folder
(one new folder; the names and average sizes of a real build's files: the hosted and signed
assertions, the credential and its VC-JWT, the baked images, the page and its share card). Nothing else: no YAML, no templates, no JSON, no
QR codes, no baking.

``measure_floor(site, awards)`` runs that over ``awards`` awards in one worker process per core
and returns the wall and CPU time, plus single-core costs of each part.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding
from pyld import jsonld
from pyld.canon import URDNA2015
from pyld.context_resolver import ContextResolver

from badgekiln.crypto import canon

_STATE: dict = {}  # what the forked workers inherit


def _dataset(document: dict) -> dict:
    loader = canon._default_loader()
    options = {
        "base": canon.RELATIVE_BASE,
        "documentLoader": loader,
        "contextResolver": ContextResolver(loader.context_cache, loader),
    }
    return jsonld.to_rdf(document, options)


def _copy(dataset: dict) -> dict:
    # URDNA2015.main relabels the quads it is given, so each run needs fresh ones.
    return {g: [{k: dict(v) for k, v in quad.items()} for quad in quads] for g, quads in dataset.items()}


def _samples(output: Path, count: int = 32) -> tuple[list[tuple[dict, dict]], list[int]]:
    """Expanded (credential, proof options) datasets and the file sizes of real awards."""
    datasets, sizes = [], {}
    folders = sorted(p for p in (output / "awards").iterdir() if p.is_dir())[:count]
    for folder in folders:
        credential = json.loads((folder / "credential.json").read_text(encoding="utf-8"))
        proof = credential.pop("proof")[0]
        options = {k: v for k, v in proof.items() if k != "proofValue"}
        options["@context"] = credential["@context"]
        datasets.append((_dataset(credential), _dataset(options)))
        for path in folder.iterdir():  # every file an award publishes (PNG or SVG artwork: by extension)
            if path.is_file():
                sizes[path.name] = sizes.get(path.name, 0) + path.stat().st_size
    return datasets, {name: size // max(1, len(folders)) for name, size in sorted(sizes.items())}


def _keys(keys_dir: Path):
    rsa_key = ed_key = None
    for pem in sorted(keys_dir.glob("*.pem")):
        key = serialization.load_pem_private_key(pem.read_bytes(), password=None)
        if isinstance(key, ed25519.Ed25519PrivateKey):
            ed_key = key
        else:
            rsa_key = key
    return rsa_key, ed_key


def _award(number: int, out: Path) -> None:
    rsa_key, ed_key, datasets, blobs = _STATE["rsa"], _STATE["ed"], _STATE["datasets"], _STATE["blobs"]
    for payload in (blobs["assertion.jws"][:1500], blobs["credential.jwt"][:3000]):
        rsa_key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
    document, options = datasets[number % len(datasets)]
    fmt = {"format": "application/n-quads"}
    URDNA2015().main(_copy(options), fmt)
    URDNA2015().main(_copy(document), fmt)
    ed_key.sign(bytes(64))
    folder = out / f"{number:08d}"
    folder.mkdir()
    for name, blob in blobs.items():
        with open(folder / name, "wb") as handle:
            handle.write(blob)


def _chunk(bounds: tuple[int, int]) -> float:
    out = Path(_STATE["out"])
    start = time.process_time()
    for number in range(*bounds):
        _award(number, out)
    return time.process_time() - start


def _single_core_costs(repeat: int = 200) -> dict[str, float]:
    """Milliseconds per award of each part, in this process."""
    rsa_key, ed_key, datasets, blobs = _STATE["rsa"], _STATE["ed"], _STATE["datasets"], _STATE["blobs"]
    fmt = {"format": "application/n-quads"}
    parts = {
        "rsa_sign_x2": lambda i: [
            rsa_key.sign(b, padding.PKCS1v15(), hashes.SHA256())
            for b in (blobs["assertion.jws"][:1500], blobs["credential.jwt"][:3000])
        ],
        "ed25519_sign": lambda i: ed_key.sign(bytes(64)),
        "canonicalize_x2_from_quads": lambda i: [URDNA2015().main(_copy(d), fmt) for d in datasets[i % len(datasets)]],
    }
    costs = {}
    for name, fn in parts.items():
        start = time.perf_counter()
        for i in range(repeat):
            fn(i)
        costs[name] = (time.perf_counter() - start) / repeat * 1000
    out = Path(_STATE["out"]) / "single"
    out.mkdir()
    start = time.perf_counter()
    for i in range(repeat):
        folder = out / str(i)
        folder.mkdir()
        for name, blob in blobs.items():
            with open(folder / name, "wb") as handle:
                handle.write(blob)
    costs["write_award_files"] = (time.perf_counter() - start) / repeat * 1000
    return costs


def measure_floor(site: Path, keys_dir: Path, awards: int, *, workers: int | None = None, keep: bool = False) -> dict:
    """Run the floor for ``awards`` awards of the built ``site`` (its output/ gives the samples).

    The files it writes are in a folder of ``site``'s parent, removed at the end unless ``keep``
    (the result names it: ``scratch``): on an ext4 file system without a journal, a file created
    in the minutes after many were removed costs ten times the kernel CPU (see bench.settle), so
    a benchmark removes them when it has measured everything else.
    """
    workers = workers or len(os.sched_getaffinity(0))
    datasets, sizes = _samples(site / "output")
    rsa_key, ed_key = _keys(keys_dir)
    scratch = Path(tempfile.mkdtemp(prefix="floor-", dir=site.parent))
    _STATE.update(
        rsa=rsa_key,
        ed=ed_key,
        datasets=datasets,
        out=str(scratch),
        blobs={name: os.urandom(max(size, 1)) for name, size in sizes.items()},
    )
    try:
        single = _single_core_costs()  # (its files are kept until the end: see above)
        step = -(-awards // (workers * 8))
        chunks = [(i, min(i + step, awards)) for i in range(0, awards, step)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
            busy = sum(pool.map(_chunk, chunks))
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)
        _STATE.clear()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "awards": awards,
        "workers": workers,
        "wall_s": wall,
        "cpu_s": cpu,
        "busy_cpu_s": busy,
        "per_award_ms_single_core": single,
        "file_sizes": sizes,
        "scratch": str(scratch) if keep else None,
    }
