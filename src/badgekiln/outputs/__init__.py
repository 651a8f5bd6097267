"""The site's outputs as units: each family of published files, declared in one place.

A :class:`Unit` says which files it makes (path pattern, media type, link relation), what
they are made from (:data:`READS`, the names its cache key is derived from) and how it makes
them. Every module of this package that defines ``UNIT`` (or ``UNITS``) is a unit: adding an
output to the site is adding one module here (and its template). :mod:`badgekiln.engine`
runs the units, reuses those whose key did not change, and spreads the rest over the cores.

A unit's ``produce(plan, inputs, renderer, item)`` may read only what its ``reads`` name
(tests/test_units.py checks, for every unit, that an input which changes its bytes changes its
key). ``item`` is ``None`` for a site-wide unit, a :class:`~badgekiln.models.BadgeClass` for a
per-badge unit and a ``(Recipient, Award)`` pair for a per-award unit.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal, Protocol

from badgekiln.errors import SigningError, SourceLocation
from badgekiln.models import Award, Project
from badgekiln.signing.keys import ED25519, RSA
from badgekiln.signing.signer import Signer
from badgekiln.sources import safefiles
from badgekiln.sources.config import SiteConfig, SourceTree
from badgekiln.sources.ledger import Ledger

Scope = Literal["site", "badge", "award"]


class Plan(Protocol):
    """What a unit writes its files into (the engine's :class:`~badgekiln.engine.site.SitePlan`)."""

    def add(self, path: str, content: bytes) -> None:
        """Add one file to the site; a path may be added once."""


#: The templates a page unit renders, by the name of what it reads of them (see READS): the
#: key of an award page holds award.html and the templates that one names, not index.html's text.
PAGE_TEMPLATES = {
    "award-templates": ("award.html",),
    "badge-templates": ("badge.html",),
    "check-templates": ("check.html",),
    "pathway-templates": ("pathway.html",),
    "portfolio-templates": ("portfolio.html",),
    "site-templates": ("index.html", "page.html", "404.html", "sitemap.xml"),
}

#: The inputs a unit can be made from; each is one part of its key (see badgekiln.engine.keys).
READS = {
    "config": "site.yaml but what only notify reads (remind_before, notify_revocations)",
    "documents-config": "site.yaml without what only pages show or notify reads (title, language, stylesheet, accent colour, footer, "
    "the certificates' signatory, the LinkedIn organisation, reminders and revocation notices)",
    "signing": "the key records, which private keys are at hand, and the development keys",
    "development-keys": "whether development keys stand in for the site's own (the preview banner of every page)",
    "templates": "the text of every template in use (the site's own and the built-in ones)",
    **{
        name: f"the text of {roots[0]} and every template it extends, includes or imports (of every template in "
        "use when one is named only as it renders)"
        for name, roots in PAGE_TEMPLATES.items()
    },
    "card-config": "what share cards show of site.yaml: the issuer's name, the site's address, the accent colour and "
    "the language (the local forms of its characters)",
    "site": "what every page shows of the site (its context: title, logo, pages menu)",
    "badge": "the badge class (but its remind_before and renewal_url, which notify alone reads) and the bytes of "
    "its artwork",
    "award": "the award, its earner (name, email, show_name) and its ledger entry",
    "award-as-issued": "the award without its revocation and suspension (Award.as_issued), its earner and its "
    "ledger entry: what its credentials state",
    "status": "the award's status on the build's day (valid, expired, revoked, suspended)",
    "awards": "every award's ledger entry, issue date, revocation and suspension",
    "catalogue": "the extra pages, every badge class with its artwork, and the number of awards of each held (not revoked)",
    "assets": "the bytes of every file of site_src/assets/",
    "endorsements": "the endorsements the site received (verified) and the ones it gives",
    "renewals": "the award an award renews and the award that renews it (ids and issue dates)",
    "pathway": "the component badge classes (with their artwork) of a stacked badge",
    "earner": "for an award of a stacked badge: every award of its earner with its status, their CPD log, "
    "and the component badge classes",
    "portfolios": "every earner with a portfolio: name, handle, awards with their status; every badge class",
}


@dataclass(frozen=True)
class FileSpec:
    """One file (or family of files) a unit makes.

    ``path`` is a pattern relative to the site root: ``{id}`` an award id, ``{slug}`` a badge or
    page slug, ``{ext}`` the badge artwork's extension (``png``/``svg``), ``{kid}`` a key id and
    ``{any}`` any path.
    """

    path: str
    media_type: str
    rel: str | None = None  # the link relation pages use for it ("alternate"), if any
    title: str | None = None  # the link's title

    @property
    def pattern(self) -> re.Pattern[str]:
        """A regular expression matching the paths of this file."""
        return _pattern(self.path)


@cache
def _pattern(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[a-z]+\})", path)
    pieces = {
        "{id}": "[A-Za-z0-9_-]+",
        "{slug}": "[a-z0-9-]+",
        "{ext}": "(?:png|svg)",
        "{kid}": "[A-Za-z0-9_.-]+",
        "{any}": ".+",
    }
    return re.compile("".join(pieces.get(p, re.escape(p)) for p in parts) + r"\Z")


@dataclass(frozen=True)
class Shared:
    """Something many groups of files are made from, made once per build instead of once in each
    worker process: a badge class's share-card base, which its card and every award's card are
    drawn on.

    Before the engine forks the workers that make groups, it asks ``need(inputs, item)`` for the
    item of each group it is about to make (a cheap key, such as the badge's slug), calls
    ``make(inputs, key)`` once for each distinct key (on every core: what it returns must pickle;
    one that raises is left to the group, which then makes it itself and raises there), and
    gives the result to ``keep(inputs, key, made)`` in the build's own process: the workers inherit
    it (with few groups to make, it makes them in its own process). ``produce`` must not depend
    on it having been made (a build without a cache never makes it ahead): it is a cache, and what
    ``produce`` reads is still only what its unit ``reads``.
    ``warm()``, if given, is called there too (once, before ``make``) when workers will make the
    groups: it loads what every group reads whatever its item (the share cards' fonts), so that
    the workers inherit it as well (a build that makes its few groups itself loads only what they
    read: all the fonts took longer than the one award card a rebuild draws).

    With ``identity``, ``dump`` and ``load``, what is made is also kept in the build cache for the
    next build (:mod:`badgekiln.engine.sharedkeep`): ``identity(inputs, key)`` is a text naming
    everything the value is made from but badgekiln's code (the cache adds that), ``dump(value)``
    its bytes, and ``load(bytes)`` the value again, raising ValueError for bytes ``dump`` would not
    write (the bytes come from the cache's folder).

    ``by_badge=True`` says that ``need`` of an award's item follows from the award's badge class
    alone: the engine asks it once per class. Without it, every award whose group is to be made
    has its model made in the build's process to ask (a rebuild's recipients the build cache
    handed back are otherwise decoded only in the workers that make their groups).
    """

    name: str  # how the build's timings name the work
    need: Callable[[BuildInputs, Any], Hashable]
    make: Callable[[BuildInputs, Hashable], Any]
    keep: Callable[[BuildInputs, Hashable, Any], None]
    limit: int = 128  # distinct keys made ahead, at most (each is kept in memory)
    warm: Callable[[], None] | None = None
    identity: Callable[[BuildInputs, Hashable], str | None] | None = None  # (None for a value: not kept)
    dump: Callable[[Any], bytes] | None = None
    load: Callable[[bytes], Any] | None = None
    by_badge: bool = False  # ``need`` of an award's item follows from its class alone (see above)


@dataclass(frozen=True)
class Unit:
    """A family of outputs: its files, what they are made from and how."""

    name: str
    scope: Scope
    files: tuple[FileSpec, ...]
    reads: tuple[str, ...]
    produce: Callable[..., None]
    cached: bool = True  # False: small files made on every build (not worth a key)
    shared: Shared | None = None  # made once per build before the workers fork (see Shared)
    # Modules imported in the build's process before the workers fork when a group of this unit
    # is to be made, so that each worker inherits them instead of importing its own (pyld, for
    # a unit that signs documents of shapes no template ships for: crypto/fastcanon.py).
    preload: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", self.name):  # (a group's name holds it: see engine/cache.py)
            raise ValueError(f"unit {self.name!r}: a name is lower-case letters, digits and hyphens")
        unknown = set(self.reads) - READS.keys()
        if unknown:
            raise ValueError(f"unit {self.name}: unknown inputs {sorted(unknown)}; known: {sorted(READS)}")

    def declares(self, path: str) -> bool:
        """Whether ``path`` is one of the files this unit says it makes."""
        return any(spec.pattern.match(path) for spec in self.files)

    def links(self, config: SiteConfig, **values: str) -> list[dict[str, str | None]]:
        """``<link>`` entries for this unit's files that have a ``rel`` (absolute URLs)."""
        return [
            {
                "rel": spec.rel,
                "type": spec.media_type,
                "href": config.url(spec.path.format(**values)),
                "title": spec.title,
            }
            for spec in self.files
            if spec.rel
        ]


@dataclass(frozen=True)
class BuildInputs:
    """Everything a build's units read besides the renderer."""

    config: SiteConfig
    project: Project
    ledger: Ledger
    signer: Signer
    source: Path
    today: date
    # The badge artwork read so far (see badge_image): every award of a class bakes the same bytes.
    images: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    def rsa_kid(self, award: Award) -> str:
        """The RSA key that signs this award's VC-JWT (pinned in the ledger)."""
        return self.signer.effective_kid(self.ledger.entries[award.id].rsa_kid, RSA)

    @property
    def development_keys(self) -> bool:
        """Whether development keys stand in for the site's own in this build: every page but an
        award page signed with the site's keys then says so (base.html's banner; a unit that
        shows it reads the ``development-keys`` part, or ``signing``, which holds it)."""
        return self.signer.development is not None

    @property
    def ob2_kid(self) -> str:
        """The RSA key of every OB 2.0 signed assertion: the active one (see outputs/issuer.py)."""
        return self.signer.effective_kid(self.signer.keyring.active_kid(RSA), RSA)

    @property
    def status_list_kid(self) -> str:
        """The Ed25519 key that signs the status list: the active one."""
        return self.signer.effective_kid(self.signer.keyring.active_kid(ED25519), ED25519)

    def ed_kid(self, award: Award) -> str:
        """The Ed25519 key that signs this award's Data Integrity proof."""
        return self.signer.effective_kid(self.ledger.entries[award.id].ed_kid, ED25519)


_EXTRA: list[Unit] = []
_FOUND: list[tuple[Unit, ...]] = []  # the package's own units, found once


def register(unit: Unit) -> Unit:
    """Add a unit from outside this package (a plugin, a test)."""
    _EXTRA.append(unit)
    return unit


def unregister(unit: Unit) -> None:
    """Remove a unit added with :func:`register`."""
    _EXTRA.remove(unit)


def units() -> tuple[Unit, ...]:
    """Every unit: the modules of this package in name order, then registered ones."""
    if not _FOUND:
        _FOUND.append(tuple(_discover()))
    found = [*_FOUND[0], *_EXTRA]
    names = [unit.name for unit in found]
    if len(names) != len(set(names)):
        raise ValueError(f"two units share a name: {sorted(n for n in names if names.count(n) > 1)}")
    return tuple(found)


def _discover() -> list[Unit]:
    found: list[Unit] = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        found.extend(getattr(module, "UNITS", ()))
        if hasattr(module, "UNIT"):
            found.append(module.UNIT)
    return found


def rediscover() -> None:
    """Look for unit modules again (after a module was added to the package's path)."""
    _FOUND.clear()


def unit(name: str) -> Unit:
    """The unit called ``name``."""
    for candidate in units():
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def badge_image(inputs: BuildInputs, image: str) -> bytes:
    """The bytes of a badge's artwork (``image`` relative to site_src/), read once per build."""
    from badgekiln.sources.validate import (
        MAX_IMAGE_BYTES,  # (validate imports the models these units read)
    )

    found = inputs.images.get(image)
    if found is None:
        found = inputs.images[image] = safefiles.read_bytes(
            inputs.source, SourceTree.image(image), limit=MAX_IMAGE_BYTES
        )
    return found


#: The width of PNGs made from SVG artwork (pixels; the height follows the artwork's shape).
RASTER_WIDTH = 512


def badge_png(inputs: BuildInputs, image: str) -> bytes:
    """A badge's artwork as PNG: the file itself, or SVG artwork rasterised (:mod:`badgekiln.formats.raster`)."""
    artwork = badge_image(inputs, image)
    if not _is_svg(image):
        return artwork
    found = _RASTERS.get((artwork, image))
    if found is None:
        found = _RASTERS[artwork, image] = _rasterised(artwork, image)
    return found


_RASTERS: dict[tuple[bytes, str], bytes] = {}  # (SVG artwork, its name) -> its PNG, made once per process


def _is_svg(image: str) -> bool:
    return image.lower().endswith(".svg")


def _rasterised(artwork: bytes, image: str) -> bytes:
    from badgekiln.errors import BakeError
    from badgekiln.formats import raster

    try:
        return raster.rasterise(artwork, width=RASTER_WIDTH)
    except BakeError as e:
        raise BakeError(f"{image}: {e}") from e


def _raster_identity(inputs: BuildInputs, image: Hashable) -> str | None:
    """What a badge's PNG is made from (the SVG's name and SHA-256, the width); None for
    artwork that is a PNG already (nothing to keep)."""
    import hashlib
    import json

    if not _is_svg(str(image)):
        return None
    return json.dumps([str(image), hashlib.sha256(badge_image(inputs, str(image))).hexdigest(), RASTER_WIDTH])


def _raster_keep(inputs: BuildInputs, image: Hashable, png: bytes) -> None:
    if _is_svg(str(image)):
        _RASTERS[badge_image(inputs, str(image)), str(image)] = png


def _raster_load(data: bytes) -> bytes:
    """A badge's PNG kept between builds, as :func:`_rasterised` makes it: ValueError for
    anything else. resvg writes an 8-bit RGBA PNG, not interlaced, of the chunks IHDR, IDAT and
    IEND alone: anything more (an animated PNG's frames, text such as a baked ``openbadges``
    chunk, 16 bits a channel), another width, or a height past
    :data:`badgekiln.formats.raster.MAX_RASTER_SIDE` is refused by its chunks and header
    (:mod:`badgekiln.formats.pngcheck`), before its pixels are decoded (a review)."""
    import io

    from PIL import Image

    from badgekiln.errors import BakeError
    from badgekiln.formats import pngcheck, raster

    try:
        header, chunks = pngcheck.check_png_artwork(data)
    except BakeError as e:
        raise ValueError(f"not a badge's PNG: {e}") from None
    kinds = [chunk.type for chunk in chunks]
    if (
        (header.width, header.bit_depth, header.color_type, header.interlaced) != (RASTER_WIDTH, 8, 6, False)
        or header.height > raster.MAX_RASTER_SIDE
        or set(kinds[1:-1]) != {b"IDAT"}
    ):
        raise ValueError("not a badge's PNG: not what drawing its artwork writes")
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as found:
            found.load()
    except (OSError, SyntaxError, Image.DecompressionBombError) as e:  # (what Pillow raises for a damaged PNG)
        raise ValueError(f"not a badge's PNG: {e}") from None
    return data


#: A badge class's SVG artwork as PNG (the baked images of the OB 2.0 assertion and the OB 3.0
#: credential are made from it): made once per build before the workers fork, and kept in the
#: cache for the next (engine/sharedkeep.py): a rebuild that adds, revokes or suspends one award
#: drew it again, 0.03 s.
RASTERS = Shared(
    "badge PNGs",
    lambda inputs, item: inputs.project.badges[item[1].badge].image,
    lambda inputs, image: badge_png(inputs, str(image)),
    _raster_keep,
    by_badge=True,
    identity=_raster_identity,
    dump=bytes,
    load=_raster_load,
)


Item = Any  # None, a BadgeClass, or a (Recipient, Award) pair


@contextmanager
def signing_named(location: SourceLocation | None, what: str) -> Iterator[None]:
    """A signing error in the block says the file and the thing (``award …``, ``endorsement …``) it
    is about: what to change is in the sources, and the signer does not know where."""
    try:
        yield
    except SigningError as e:
        where = f"{location.path}: " if location is not None else ""
        raise SigningError(f"{where}{what}: {e}") from e
