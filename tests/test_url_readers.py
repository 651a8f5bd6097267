"""A URL the build accepts names one host to every reader: Python's urlsplit (what the build and
did:web read) and the WHATWG URL parser of JavaScript (what browsers, jsonld.js and the Digital
Bazaar and DCC verifiers read). Node is run once on a batch of generated URLs."""

from __future__ import annotations

import json
import random
import subprocess
from urllib.parse import urlsplit

from oracles.vc_verifier import _node

from badgekiln.sources.fields import url_problem

# For each URL: the host JavaScript's URL parser reads, or null when it throws.
READ = """
const urls = JSON.parse(require("fs").readFileSync(0, "utf8"));
const hosts = urls.map((u) => { try { return new URL(u).hostname; } catch (e) { return null; } });
process.stdout.write(JSON.stringify(hosts));
"""


def _hosts(count: int, seed: int) -> list[str]:
    """Hosts made of numbers (decimal, octal-looking, hex), names and dots: WHATWG reads a host
    whose last label is a number as an IPv4 address, in any spelling."""
    pick = random.Random(seed)
    labels = ["0", "00", "07", "010", "0177", "127", "255", "256", "4294967295", "0x", "0x7f", "0X1f", "0xg"]
    labels += ["1a", "a1", "example", "org", "xn--caf-dma", "x"]
    hosts = []
    for _ in range(count):
        host = ".".join(pick.choice(labels) for _ in range(pick.randint(1, 5)))
        hosts.append(host + ("." if pick.random() < 0.15 else ""))
    return hosts


def test_every_host_the_build_accepts_is_the_host_javascript_reads():
    urls = [f"https://{host}/a" for host in _hosts(600, 20261204)]
    urls += ["https://127.1/", "https://0x7f.1/", "https://2130706433/", "https://203.0.113.7/"]
    read = json.loads(
        subprocess.run([_node(), "-e", READ], input=json.dumps(urls), capture_output=True, text=True, check=True).stdout
    )
    accepted = 0
    for url, js_host in zip(urls, read, strict=True):
        if url_problem(url) is not None:
            continue
        accepted += 1
        assert js_host == urlsplit(url).hostname, url
    assert 50 < accepted < len(urls) - 50  # (both kinds were met)
