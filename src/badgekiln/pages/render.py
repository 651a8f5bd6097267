"""HTML pages from Jinja2 templates.

Autoescape is on for every template and undefined names are errors. A file in the site's
``templates/`` folder overrides the built-in template of the same name, and an override can
still extend the original as ``"!builtin/<name>"`` (the Pelican way).

Templates are hostile input (they come from pull requests): they run in a limited sandbox
(:mod:`badgekiln.pages.sandbox`), get plain values only (:func:`check_plain`), and every failure,
recursion and Python error included, is a ``jinja2.TemplateError`` located in the template.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.loaders import split_template_path
from markupsafe import Markup

from badgekiln.errors import BadgekilnError, ConfigError
from badgekiln.formats.jsonout import dumps_script
from badgekiln.pages import qrcode
from badgekiln.pages.markdown import render_markdown
from badgekiln.pages.sandbox import (
    LimitedSandbox,
    static_problems,
    unconditional_references,
)
from badgekiln.sources import safefiles

# The templates the build and ``notify`` render (each may extend or include others).
USED_TEMPLATES = (
    "index.html",
    "badge.html",
    "award.html",
    "page.html",
    "pathway.html",  # (a stacked badge's page, and an earner's portfolio: a review found check passing
    "portfolio.html",  # an override of these that the build then refused)
    "check.html",
    "404.html",
    "sitemap.xml",
    "email.txt",
    "email.html",
    "email-reminder.txt",
    "email-reminder.html",
    "email-suspended.txt",
    "email-suspended.html",
    "email-reinstated.txt",
    "email-reinstated.html",
    "email-revoked.txt",
    "email-revoked.html",
)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


# What a template names: (the names, of which Jinja takes the first that exists; the line; whether
# it may be missing), one per extends, include or import (see _named_templates)
Named = list[tuple[tuple[str, ...] | None, int, bool]]


def _named_templates(tree: nodes.Template) -> Named:
    """Each template a template names: (the names, of which Jinja takes the first that exists;
    the line; whether it may be missing: ``include … ignore missing``). A literal that names no
    template (``include 5``, ``include []``, ``extends [...]``: Jinja fails on it when rendering)
    has no names; a name made when rendering (a variable, a condition, a list that holds one) is
    not known here: None."""
    found = []
    for node in tree.find_all((nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport)):
        named = getattr(node, "template", None)  # (each of the four has one)
        lists_allowed = isinstance(node, nodes.Include)  # (extends and import take one name)
        optional = bool(getattr(node, "ignore_missing", False))
        choices: tuple[str, ...] | None
        if isinstance(named, nodes.Const):
            choices = (named.value,) if isinstance(named.value, str) else ()
        elif isinstance(named, (nodes.List, nodes.Tuple)) and all(isinstance(i, nodes.Const) for i in named.items):
            values = [item.value for item in named.items]  # type: ignore[attr-defined]
            texts = lists_allowed and all(isinstance(value, str) for value in values)
            choices = tuple(values) if texts else ()
            optional = optional and texts  # (an empty list with "ignore missing": nothing is included)
        elif isinstance(named, nodes.Dict) or (isinstance(named, (nodes.List, nodes.Tuple)) and not lists_allowed):
            choices, optional = (), False  # (a literal of the wrong kind, whatever it holds)
        else:
            choices = None
        found.append((choices, node.lineno, optional))
    return found


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _compiled(name: str, make):
    """``make()`` (a template's parse or compile), its nesting limits a TemplateSyntaxError of ``name``."""
    try:
        return make()
    except jinja2.TemplateError:
        raise
    except (RecursionError, SyntaxError) as exc:  # (IndentationError is a SyntaxError)
        raise jinja2.TemplateSyntaxError(
            f"the template nests blocks or expressions too deep to compile ({type(exc).__name__}): "
            "split it into smaller templates (include, macro)",
            1,
            name,
        ) from None
    except MemoryError:
        raise jinja2.TemplateSyntaxError("the template needs too much memory to compile", 1, name) from None
    except Exception as exc:  # noqa: BLE001 - a number of 5,000 digits, {[1]: 2}: Python's error, while compiling
        raise jinja2.TemplateSyntaxError(
            f"the template cannot be compiled: {type(exc).__name__}: {exc}", 1, name
        ) from None


def long_date(day: date | None) -> str:
    """``1 March 2026``: unambiguous in every locale, and independent of the machine's locale."""
    if day is None:
        return ""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def clipped(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: cut after a word, with an ellipsis, when longer
    (a preview that ends "...Instr" or inside a link reads as broken: a review)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-([") + "…"


def qr_svg(url: str) -> Markup:
    """An inline SVG QR code of ``url`` (made here from the URL alone, so it is safe markup)."""
    # A viewBox, so that the stylesheet can size it without cropping it, and the standard quiet
    # zone of four modules, which scanners look for (see pages/qrcode.py).
    return Markup(qrcode.svg(qrcode.modules(url), label="QR code of this page"))


MAX_TEMPLATE_BYTES = 2 * 1024 * 1024  # bytes: one file of templates/


class SiteTemplateLoader(jinja2.BaseLoader):
    """The site's ``templates/`` folder, read as every source is (:mod:`badgekiln.sources.safefiles`).

    ``jinja2.FileSystemLoader`` follows links, so a pull request adding ``templates/award.html``
    as a link to ``/etc/passwd`` or to a private key, or ``{% include "x" %}`` of such a link,
    would publish that file. Here a template (and ``templates/`` itself) must be a regular file
    reached without a link, of at most ``MAX_TEMPLATE_BYTES``; anything else is a located error.
    A name that is not there falls through to the built-in templates, and so does a name with a
    hidden part (``.partials/foot.html``, ``.award.html.swp``): hidden files and folders of
    ``templates/`` are ignored, so what the pages are made of is exactly what the cache keys list
    (:meth:`Renderer.template_sources`).
    """

    def __init__(self, templates_dir: Path):
        self.root, self.folder = templates_dir.parent, templates_dir.name

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        parts = split_template_path(template)  # (refuses '..')
        rel = "/".join([self.folder, *parts])
        if "\0" in rel or _has_lone_surrogate(rel):
            raise jinja2.TemplateNotFound(template)  # (a name no file has)
        if any(part.startswith(".") for part in parts) or safefiles.kind(self.root, rel) is None:
            raise jinja2.TemplateNotFound(template)
        raw = safefiles.read_bytes(self.root, rel, limit=MAX_TEMPLATE_BYTES)  # a link or FIFO: SourceError
        # Not UTF-8: UnicodeDecodeError, as jinja2's own loaders do (Renderer._source names the file).
        return raw.decode("utf-8"), str(self.root / rel), lambda: True

    def list_templates(self) -> list[str]:
        # Links and special files are listed too, so that using one is refused rather than skipped.
        return [
            name
            for name, entry in safefiles.walk(self.root, self.folder)
            if entry.kind != "dir" and not any(part.startswith(".") for part in name.split("/"))
        ]


def make_environment(templates_dir: Path | None) -> LimitedSandbox:
    """The Jinja2 environment: the site's ``templates/`` first, then the built-in templates."""
    builtin = jinja2.PackageLoader("badgekiln.pages", "templates")
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        loaders.append(SiteTemplateLoader(templates_dir))
    loaders.append(builtin)
    loaders.append(jinja2.PrefixLoader({"!builtin": builtin}))
    # Sandboxed: a template override from a pull request cannot reach Python internals, and its
    # size, steps and output are limited (see sandbox.py).
    env = LimitedSandbox(
        loader=jinja2.ChoiceLoader(loaders),
        # HTML and XML are always escaped; plain-text templates (email.txt) are not HTML.
        autoescape=jinja2.select_autoescape(["html", "htm", "xml", "svg"], default_for_string=True, default=False),
        undefined=jinja2.StrictUndefined,
        # A value that is not there prints as nothing, never as "None" (a review: "Awarded to None,
        # valid until None" from an override showing a hidden name and a badge that does not expire)
        finalize=_nothing_for_none,
        # One environment per build (Renderer): templates do not change while it lives, so the
        # files of the templates an extends or include loads need not be looked at on every page.
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # No folding of constant expressions by Jinja's optimizer while compiling: it works each
        # level of a nested expression out again (200 nested minus signs took a second; twenty
        # such lines, 4 KB, 20 s: a review), and nothing it would fold is sized there (see
        # sandbox.LimitedSandbox._parse). What it would fold is worked out as the page renders.
        optimized=False,
    )
    env.filters["markdown"] = env.metered(render_markdown, "|markdown")
    env.filters["long_date"] = long_date
    env.filters["tojson_script"] = lambda data: Markup(dumps_script(data))
    env.globals["qr_svg"] = qr_svg
    return env


def _nothing_for_none(value: Any) -> Any:
    return "" if value is None else value


class Rendered(bytes):
    """A rendered page: its UTF-8 bytes, and ``template``, the name of the template that made it."""

    template: str


# What may reach a template: plain values only, never an object with methods or secrets (a config
# object, the signer, a key, a path, os.environ, a callable that reads files).
PLAIN_TYPES = (str, int, float, bool, type(None), date)


_EXACTLY_PLAIN = frozenset(PLAIN_TYPES)  # (the same types, looked up before isinstance() is asked)


def check_plain(value, where: str) -> None:
    """Refuse a template context value that is not plain data (strings, numbers, dates, lists, dicts).

    Raises:
        TypeError: naming where the value is; a mistake in badgekiln, never in the sources.
    """
    if type(value) in _EXACTLY_PLAIN or isinstance(value, PLAIN_TYPES):
        return
    if isinstance(value, (list, tuple)):
        for number, item in enumerate(value):
            if type(item) not in _EXACTLY_PLAIN:
                check_plain(item, f"{where}[{number}]")
        return
    if type(value) is dict:
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"template context {where} has a key that is not text: {key!r}")
            if type(item) not in _EXACTLY_PLAIN:
                check_plain(item, f"{where}.{key}")
        return
    raise TypeError(f"template context {where} is a {type(value).__name__}: only plain values may reach templates")


class Renderer:
    """Renders named templates with a context; one per build."""

    def __init__(self, templates_dir: Path | None):
        self.templates_dir = templates_dir.absolute() if templates_dir is not None else None
        self.env = make_environment(templates_dir)
        self._cache: dict[str, jinja2.Template] = {}
        self._shown: dict[str, str] = {}  # template name -> _shown_name()
        self._sources: dict[str, str] | None = None  # (templates do not change while a build renders them)
        # The templates render() was asked for since it was last emptied: the engine checks that a
        # unit renders only templates its key reads (engine/workers._produce)
        self.rendered: set[str] = set()
        self._named: dict[tuple[str, str], Named | None] = {}  # (see _named_in)

    def render(self, name: str, **context) -> Rendered:
        """Render template ``name`` to UTF-8 bytes (which remember the template, for error messages).

        Raises:
            jinja2.TemplateError: any failure of the template, with the template's frames in its
                traceback (``pages.templateerrors.template_frame`` reads the file and line there),
                including a sandbox limit, a recursion that does not end, or a Python error such
                as a division by zero.
        """
        for key, value in context.items():
            check_plain(value, key)
        template = self._template(name)
        self.rendered.add(name)
        self.env.start_rendering()
        try:
            text = template.render(**context)  # (generate() too, with one more generator to pass through)
        except (jinja2.TemplateError, BadgekilnError):
            raise
        except RecursionError as exc:
            raise jinja2.TemplateRuntimeError(
                "a template calls, includes or extends itself without end"
            ).with_traceback(exc.__traceback__) from None
        except MemoryError as exc:
            raise jinja2.TemplateRuntimeError("a template needs too much memory").with_traceback(
                exc.__traceback__
            ) from None
        except Exception as exc:  # noqa: BLE001 - a division by zero, a bad format string: the template's fault
            raise jinja2.TemplateRuntimeError(f"{type(exc).__name__}: {exc}").with_traceback(
                exc.__traceback__
            ) from None
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as exc:  # (a review: '\ud83c\udf93' written as in JavaScript was a traceback)
            lone = text[exc.start]
            raise ConfigError(  # (after rendering: no template line to name, the template that made the page)
                f"{self._shown_name(template)}: template error: the page it makes holds U+{ord(lone):04X}, half of "
                f"a character (a surrogate, '\\u{ord(lone):04x}', as JavaScript writes characters past U+FFFF): "
                "write the character itself, or an HTML reference such as &#127891;"
            ) from None
        page = Rendered(data)
        page.template = self._shown.get(name) or self._shown.setdefault(name, self._shown_name(template))
        return page

    def _template(self, name: str) -> jinja2.Template:
        """Template ``name``, compiled once. One nested too deep for Python's compiler (a hundred
        ``{% if %}`` or parentheses: a RecursionError, or "too many statically nested blocks") is a
        syntax error of that template (a fuzz test: it was a traceback)."""
        template = self._cache.get(name)
        if template is None:
            template = self._cache[name] = _compiled(name, partial(self.env.get_template, name))
        return template

    def _shown_name(self, template: jinja2.Template) -> str:
        """``templates/award.html`` for the site's own template, ``the built-in award.html`` otherwise."""
        if self.templates_dir is not None and template.filename:
            path = Path(template.filename)
            if path.is_relative_to(self.templates_dir):
                return "templates/" + path.relative_to(self.templates_dir).as_posix()
        return f"the built-in {template.name}"

    def compile_used(self) -> None:
        """Load and compile every template the build and ``notify`` render, with the templates
        they extend, include or import, as rendering them would (``badgekiln check``).

        Raises:
            jinja2.TemplateError: a syntax error (with the template and line) or a missing template.
        """
        todo, seen = list(USED_TEMPLATES), set()
        references: dict[str, list[tuple[str, int]]] = {}
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            source = self._source(name)  # (one not there is reported by the template naming it, below)
            self._template(name)
            tree = _compiled(name, partial(self.env.parse, source, name))
            for line, message in static_problems(tree):  # what would break a limit whatever the data
                raise jinja2.TemplateSyntaxError(message, line, name)
            references[name] = unconditional_references(tree)
            for choices, line, optional in _named_templates(tree):
                if choices is None:
                    continue  # (a name made as it renders: the build says if it is not there)
                there = [choice for choice in choices if self._exists(choice)]
                if not there and not optional:  # (said where it is named, as a build says it when rendering)
                    shown = " nor ".join(repr(choice) for choice in choices)
                    message = (
                        f"there is no template {shown} (in templates/ or built in)"
                        if choices
                        else "this names no template: give a name in quotes (or, for include, a list of them)"
                    )
                    raise jinja2.TemplateSyntaxError(message, line, name)
                todo.extend(there[:1])  # (Jinja renders the first of a list that is there)
        _check_no_cycle(references)

    def template_sources(self) -> dict[str, str]:
        """Name → source text of every template in use (for cache keys), read once.

        Raises:
            SourceError: a link, FIFO or over-long file in ``templates/``.
            ConfigError: a file there that is not UTF-8 text."""
        if self._sources is None:
            result = {}
            for name in sorted(self.env.list_templates()):
                if any(part.startswith(".") for part in name.split("/")):
                    continue  # hidden files (.DS_Store, editors' swap files) are not templates
                # ("!builtin/" names are read too: a file templates/!builtin/x.html is served under
                # that name before the built-in one, and a page may name it as it renders: a review)
                if _has_lone_surrogate(name):  # (a file name that is not UTF-8: no template can name it)
                    # (its bytes as Python writes them: no control character or line reaches the log,
                    # where "::error::" at a line's start is a GitHub Actions command: a review)
                    shown = repr(name.encode("utf-8", "surrogateescape"))[2:-1]
                    raise ConfigError(f"templates/{shown}: the file's name is not UTF-8 text: rename it")
                result[name] = self._source(name)
            self._sources = result
        return self._sources

    def template_sources_of(self, roots: Iterable[str]) -> dict[str, str | None]:
        """Name → source text of the templates that rendering ``roots`` can read (for the cache
        keys of the pages made from them): each root and every template that it, and those in
        turn, extend, include or import by a name written in quotes, there or not (``None``: not
        there, so that adding it changes the key). Every template in use
        (:meth:`template_sources`) when one of them names a template only as it renders (a
        variable, a condition) or cannot be parsed: the pages made from it may then read any.

        So editing ``index.html`` or an email's template leaves the award pages' keys as they were
        (every page read every template's text: one edit re-rendered them all). Every file of
        ``templates/`` is still read first (:meth:`template_sources`), as ``check`` reads them: a
        link or a file that is not UTF-8 there fails the build even if no page names it (a review)."""
        every = self.template_sources()
        found: dict[str, str | None] = {}
        todo = list(roots)
        while todo:
            name = todo.pop()
            if name in found:
                continue
            if not self._exists(name):
                found[name] = None
                continue
            source = found[name] = self._source(name)
            named = self._named_in(name, source)
            if named is None or any(choices is None for choices, _line, _optional in named):
                return dict(every)
            todo.extend(name for choices, _line, _optional in named for name in choices or ())
        return found

    def _named_in(self, name: str, source: str) -> Named | None:
        """The templates template ``name`` (of text ``source``) names (:func:`_named_templates`),
        parsed once per build (every page template extends base.html); None if it does not parse."""
        key = (name, source)
        if key not in self._named:
            try:
                self._named[key] = _named_templates(self.env.parse(source, name))
            except Exception:  # noqa: BLE001 - (a template that does not parse: the build says why when it renders it)
                self._named[key] = None
        return self._named[key]

    def _exists(self, name: str) -> bool:
        try:
            self._source(name)
        except jinja2.TemplateNotFound:
            return False
        return True

    def _source(self, name: str) -> str:
        try:
            assert self.env.loader is not None  # (made with one)
            return self.env.loader.get_source(self.env, name)[0]
        except UnicodeDecodeError:
            raise ConfigError(
                f"templates/{name}: not UTF-8 text; templates/ holds Jinja2 templates (move other files elsewhere)"
            ) from None


def _check_no_cycle(references: dict[str, list[tuple[str, int]]]) -> None:
    """Refuse templates that always include or extend each other in a circle (the rendering would never end).

    ``references``: template name -> (name, line) of each include or extends that always runs.

    Raises:
        jinja2.TemplateSyntaxError: at the first include or extends of the circle.
    """
    for start in sorted(references):
        seen: set[str] = {start}
        todo: list[tuple[str, list[tuple[str, int]]]] = [(start, [])]
        while todo:
            name, trail = todo.pop()  # trail: the (template, line) steps from start to name
            for target, line in references.get(name, []):
                steps = [*trail, (target, line)]
                if target == start:
                    circle = " -> ".join([start, *(t for t, _ in steps)])
                    raise jinja2.TemplateSyntaxError(
                        f"{start} includes or extends itself ({circle}): its rendering would never end",
                        steps[0][1],
                        start,
                    )
                if target not in seen:
                    seen.add(target)
                    todo.append((target, steps))
