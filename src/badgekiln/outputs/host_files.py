"""Files that make output/ deployable as-is to any static host (``_headers``, ``.nojekyll``,
``robots.txt``; see :mod:`badgekiln.formats.hosting`)."""

from __future__ import annotations

from badgekiln.formats import hosting
from badgekiln.outputs import BuildInputs, FileSpec, Plan, Unit


def produce(plan: Plan, inputs: BuildInputs, renderer: object, item: None) -> None:
    """_headers, .nojekyll and robots.txt."""
    plan.add("_headers", hosting.headers_file(inputs.config).encode())
    plan.add(".nojekyll", b"")
    plan.add("robots.txt", hosting.robots_txt(inputs.config).encode())


UNIT = Unit(
    "host-files",
    "site",
    (
        FileSpec("_headers", "text/plain"),
        FileSpec(".nojekyll", "text/plain"),
        FileSpec("robots.txt", "text/plain"),
    ),
    reads=("config",),
    produce=produce,
    cached=False,
)
