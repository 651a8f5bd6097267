"""The stylesheet (with the site's accent colour), the script, and what site_src/assets/ publishes."""

from __future__ import annotations

from importlib import resources
from pathlib import PurePosixPath

from badgekiln.crypto.contexts import CONTEXT_FILES
from badgekiln.errors import OutputError
from badgekiln.formats import urls
from badgekiln.outputs import BuildInputs, FileSpec, Plan, Unit
from badgekiln.sources import safefiles
from badgekiln.sources.config import SourceTree
from badgekiln.sources.validate import MAX_ASSET_BYTES, PUBLISHED_ASSET_SUFFIXES

# The pages' icon when the issuer has no logo (browsers ask for /favicon.ico of a page that names
# none, and log the 404): a disc in the site's accent colour (checked: a #rrggbb colour) with a star.
ICON = "assets/badgekiln-icon.svg"
ICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
    '<circle cx="32" cy="32" r="31" fill="ACCENT"/>'
    '<path d="M32 12 L37.9 26 L53 27 L41.5 36.8 L45.2 52 L32 43.8 L18.8 52 L22.5 36.8 L11 27 L26.1 26 Z" fill="#ffffff"/>'
    "</svg>\n"
)

# Published with their licences (pages/static/vendor/README.md says where each comes from).
VENDORED = ("jsonld.min.js", "jsonld.LICENSE", "rdf-canonize.LICENSE")


def produce(plan: Plan, inputs: BuildInputs, renderer: object, item: None) -> None:
    """badgekiln.css and .js, verify.js with its library and contexts, and site_src/assets/ (with
    the site's own ``site.css``, which every page links after badgekiln's)."""
    ours: set[str] = set()

    def add(path: str, content: bytes) -> None:
        ours.add(path)
        plan.add(path, content)

    static = resources.files("badgekiln.pages") / "static"
    css = f":root {{ --accent: {inputs.config.accent_color}; }}\n".encode() + (static / "badgekiln.css").read_bytes()
    add("assets/badgekiln.css", css)
    add("assets/badgekiln.js", (static / "badgekiln.js").read_bytes())
    if not inputs.config.issuer.image:  # (the pages' icon is the issuer's logo, or else this one)
        add(ICON, ICON_SVG.replace("ACCENT", inputs.config.accent_color).encode())
    # The Verify panel of award pages, the JSON-LD library it loads when Verify is pressed, and the
    # JSON-LD contexts it resolves from this site instead of from their publishers.
    add("assets/verify.js", (static / "verify.js").read_bytes())
    add("assets/check.js", (static / "check.js").read_bytes())  # ("Check a badge file": check/)
    for name in VENDORED:
        add(f"assets/vendor/{name}", (static / "vendor" / name).read_bytes())
    contexts = resources.files("badgekiln") / "data/contexts"
    for name in sorted(set(CONTEXT_FILES.values())):
        add(f"assets/contexts/{name}", (contexts / name).read_bytes())
    # Links and special files are never read (validate warned about them); sizes were checked there.
    our_folders = {str(folder) for path in ours for folder in PurePosixPath(path).parents}
    for name, entry in safefiles.walk(inputs.source, SourceTree.ASSETS):
        if entry.kind == "file" and PurePosixPath(name).suffix.lower() in PUBLISHED_ASSET_SUFFIXES:
            path = urls.asset(name)
            _refuse_a_folder_a_file_needs(name, path, ours, our_folders)
            plan.add(path, safefiles.read_bytes(inputs.source, SourceTree.asset(name), limit=MAX_ASSET_BYTES))


def _refuse_a_folder_a_file_needs(name: str, path: str, ours: set[str], our_folders: set[str]) -> None:
    """An asset whose folder has the name of a file badgekiln publishes (site_src/assets/vendor/
    jsonld.min.js/logo.png), or that has the name of one of its folders (site_src/assets/contexts):
    both cannot be written, and the write failed naming a staging folder (a review, 2026-12-07).

    Raises:
        OutputError: naming the asset to rename.
    """
    clash = next((str(folder) for folder in PurePosixPath(path).parents if str(folder) in ours), None)
    if clash is not None:
        raise OutputError(
            f"site_src/{clash} is a folder (it holds site_src/assets/{name}) with the name of a file badgekiln "
            "publishes itself: rename the folder"
        )
    if path in our_folders:
        raise OutputError(
            f"site_src/assets/{name} has the name of a folder badgekiln publishes ({path}/): rename the file"
        )


UNIT = Unit(
    "static-files",
    "site",
    (
        FileSpec("assets/badgekiln.css", "text/css"),
        FileSpec("assets/badgekiln.js", "text/javascript"),
        FileSpec("assets/verify.js", "text/javascript"),
        FileSpec("assets/check.js", "text/javascript"),
        FileSpec(ICON, "image/svg+xml"),
        FileSpec("assets/vendor/jsonld.min.js", "text/javascript"),
        FileSpec("assets/contexts/{any}", "application/ld+json"),
        FileSpec("assets/{any}", "application/octet-stream"),  # images, site.css, fonts: by their suffix
    ),
    reads=("config", "assets"),
    produce=produce,
    # (kept under its key: the secret scan of these 300 KB, jsonld.min.js most of it, and of the
    # site's own assets, was 0.02-0.03 s of every rebuild; the code's fingerprint in every key
    # covers the files of the package)
)
