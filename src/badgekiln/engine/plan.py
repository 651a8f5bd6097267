"""Validated project → :class:`~badgekiln.engine.site.SitePlan`.

``build()`` gathers every artifact of the site (two-phase, as Pelican does: plan everything,
then the writer alone touches disk). Each family of artifacts is an output unit, one module of
:mod:`badgekiln.outputs`.
"""

from __future__ import annotations

from badgekiln.engine.cache import BuildCache
from badgekiln.engine.site import SitePlan
from badgekiln.engine.workers import run_units
from badgekiln.outputs import BuildInputs
from badgekiln.pages.render import Renderer

__all__ = ["BuildInputs", "build"]


def build(inputs: BuildInputs, renderer: Renderer, cache: BuildCache | None = None) -> SitePlan:
    """Plan every file of the site: the files of every output unit (:mod:`badgekiln.outputs`).

    With a ``cache``, each group of files whose inputs did not change is reused instead of signed
    and rendered again, and the rest are made on every core (see :mod:`badgekiln.engine.workers`).
    """
    plan = SitePlan(secrets=inputs.signer.secret_material())
    run_units(plan, inputs, renderer, cache)
    return plan
