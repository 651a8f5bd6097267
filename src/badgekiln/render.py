"""HTML pages from Jinja2 templates.

Autoescape is on for every template and undefined names are errors. A file in the site's
``templates/`` folder overrides the built-in template of the same name, and an override can
still extend the original as ``"!builtin/<name>"`` (the Pelican way).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import jinja2
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment
import segno
from markupsafe import Markup

from . import safefiles
from .errors import ConfigError
from .jsonout import dumps_script
from .markdown import render_markdown

# The templates the build and ``notify`` render (each may extend or include others).
USED_TEMPLATES = ("index.html", "badge.html", "award.html", "page.html", "404.html", "sitemap.xml", "email.txt",
                  "email.html")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def long_date(day: date | None) -> str:
    """``1 March 2026``: unambiguous in every locale, and independent of the machine's locale."""
    if day is None:
        return ""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def qr_svg(url: str) -> Markup:
    """An inline SVG QR code of ``url`` (made here from the URL alone, so it is safe markup)."""
    # A fixed mask: every mask gives a valid code, and choosing the best of eight in pure Python
    # was the largest cost of a clean build (about 9 ms of the ~12 ms per award).
    code = segno.make(url, error="m", micro=False, mask=0)
    # A viewBox (omitsize=True), so that the stylesheet can size it without cropping it, and the
    # standard quiet zone of four modules, which scanners look for.
    svg = code.svg_inline(scale=4, border=4, dark="#000", light="#fff", omitsize=True)
    size = code.symbol_size(scale=4, border=4)[0]
    return Markup(svg.replace("<svg ", f'<svg width="{size}" height="{size}" role="img" '
                                       'aria-label="QR code of this page" ', 1))


MAX_TEMPLATE_BYTES = 2 * 1024 * 1024  # bytes: one file of templates/


class SiteTemplateLoader(jinja2.BaseLoader):
    """The site's ``templates/`` folder, read as every source is (:mod:`badgekiln.safefiles`).

    ``jinja2.FileSystemLoader`` follows links, so a pull request adding ``templates/award.html``
    as a link to ``/etc/passwd`` or to a private key, or ``{% include "x" %}`` of such a link,
    would publish that file. Here a template (and ``templates/`` itself) must be a regular file
    reached without a link, of at most ``MAX_TEMPLATE_BYTES``; anything else is a located error.
    A name that is not there falls through to the built-in templates.
    """

    def __init__(self, templates_dir: Path):
        self.root, self.folder = templates_dir.parent, templates_dir.name

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        rel = "/".join([self.folder, *split_template_path(template)])  # (refuses '..')
        if safefiles.kind(self.root, rel) is None:
            raise jinja2.TemplateNotFound(template)
        raw = safefiles.read_bytes(self.root, rel, limit=MAX_TEMPLATE_BYTES)  # a link or FIFO: SourceError
        # Not UTF-8: UnicodeDecodeError, as jinja2's own loaders do (Renderer._source names the file).
        return raw.decode("utf-8"), str(self.root / rel), lambda: True

    def list_templates(self) -> list[str]:
        # Links and special files are listed too, so that using one is refused rather than skipped.
        return [name for name, entry in safefiles.walk(self.root, self.folder) if entry.kind != "dir"]


def make_environment(templates_dir: Path | None) -> ImmutableSandboxedEnvironment:
    """The Jinja2 environment: the site's ``templates/`` first, then the built-in templates."""
    builtin = jinja2.PackageLoader("badgekiln", "templates")
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        loaders.append(SiteTemplateLoader(templates_dir))
    loaders.append(builtin)
    loaders.append(jinja2.PrefixLoader({"!builtin": builtin}))
    # Sandboxed: a template override from a pull request cannot reach Python internals.
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        # HTML and XML are always escaped; plain-text templates (email.txt) are not HTML.
        autoescape=jinja2.select_autoescape(["html", "htm", "xml", "svg"], default_for_string=True, default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["markdown"] = render_markdown
    env.filters["long_date"] = long_date
    env.filters["tojson_script"] = lambda data: Markup(dumps_script(data))
    env.globals["qr_svg"] = qr_svg
    return env


class Renderer:
    """Renders named templates with a context; one per build."""

    def __init__(self, templates_dir: Path | None):
        self.env = make_environment(templates_dir)
        self._cache: dict[str, jinja2.Template] = {}

    def render(self, name: str, **context) -> bytes:
        """Render template ``name`` to UTF-8 bytes."""
        template = self._cache.get(name)
        if template is None:
            template = self._cache[name] = self.env.get_template(name)
        return template.render(**context).encode("utf-8")

    def compile_used(self) -> None:
        """Load and compile every template the build and ``notify`` render, with the templates
        they extend, include or import, as rendering them would (``badgekiln check``).

        Raises:
            jinja2.TemplateError: a syntax error (with the template and line) or a missing template.
        """
        from jinja2 import meta

        todo, seen = list(USED_TEMPLATES), set()
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            source = self._source(name)
            self._cache.setdefault(name, self.env.get_template(name))
            todo.extend(n for n in meta.find_referenced_templates(self.env.parse(source, name)) if n)

    def template_sources(self) -> dict[str, str]:
        """Name → source text of every template in use (for cache keys)."""
        result = {}
        for name in sorted(self.env.list_templates()):
            if name.startswith("!builtin/") or any(part.startswith(".") for part in name.split("/")):
                continue  # hidden files (.DS_Store, editors' swap files) are not templates
            result[name] = self._source(name)
        return result

    def _source(self, name: str) -> str:
        try:
            return self.env.loader.get_source(self.env, name)[0]
        except UnicodeDecodeError:
            raise ConfigError(f"templates/{name}: not UTF-8 text; templates/ holds Jinja2 templates "
                              "(move other files elsewhere)") from None
