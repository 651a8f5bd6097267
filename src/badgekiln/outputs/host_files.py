"""Files that make output/ deployable as-is to any static host (``_headers``, ``.nojekyll``,
``robots.txt``; see :mod:`badgekiln.hosting`)."""

from __future__ import annotations

from .. import hosting
from ..site import SitePlan
from . import BuildInputs, FileSpec, Unit


def produce(plan: SitePlan, inputs: BuildInputs, renderer: object, item: None) -> None:
    """_headers, .nojekyll and robots.txt."""
    hosting.add_hosting_files(plan, inputs.config)


UNIT = Unit("host-files", "site", (
    FileSpec("_headers", "text/plain"), FileSpec(".nojekyll", "text/plain"), FileSpec("robots.txt", "text/plain"),
), reads=("config",), produce=produce, cached=False)
