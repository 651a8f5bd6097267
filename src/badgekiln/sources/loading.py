"""Reading source files safely, keeping the line and column of every value.

The loader is a :class:`yaml.SafeLoader` subclass that refuses what a badge record never needs
and what an attacker could abuse: tags, anchors and aliases (billion laughs), duplicate keys,
deep nesting, files that are not UTF-8 and files larger than a cap. Dates are kept as strings so
that ``validate`` can reject impossible ones (``2026-02-30``) with a located message instead of
a crash, and only ``true``/``false`` are booleans (no YAML 1.1 ``no`` meaning False).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from badgekiln.errors import SourceError, SourceLocation
from badgekiln.sources import safefiles

MAX_FILE_BYTES = safefiles.MAX_FILE_BYTES  # bytes; one recipient file with hundreds of awards fits easily
MAX_DEPTH = 12  # nesting levels of mappings and sequences


class LocatedDict(dict):
    """A mapping that remembers where it and each of its values start."""

    location: SourceLocation
    key_locations: dict[str, SourceLocation]
    value_locations: dict[str, SourceLocation]
    # The text as written of each value that YAML read as something other than text (a number,
    # a boolean, null): ``id: 0012345670`` reads as the number 2739128, and a hint must quote
    # what the file says, not what the parser made of it.
    scalar_texts: dict[str, str]


class LocatedList(list):
    """A sequence that remembers where it and each of its items start."""

    location: SourceLocation
    item_locations: list[SourceLocation]


@dataclass(frozen=True)
class SourceDoc:
    """One parsed source file: its path relative to the site root and its data."""

    path: Path
    rel: str
    data: Any
    text: str

    @property
    def location(self) -> SourceLocation:
        return SourceLocation(self.rel, 1, 1)


def _resolvers() -> dict:
    """SafeLoader's implicit resolvers without timestamps and with strict booleans."""
    table: dict = {}
    for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items():
        kept = [
            (tag, regexp)
            for tag, regexp in entries
            if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
        ]
        if kept:
            table[first] = kept
    strict_bool = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
    for first in "tTfF":
        table.setdefault(first, []).append(("tag:yaml.org,2002:bool", strict_bool))
    return table


class _Loader(yaml.SafeLoader):
    """SafeLoader that records locations and refuses tags, aliases and duplicate keys."""

    yaml_implicit_resolvers = _resolvers()
    rel_path = "<source>"

    def _loc(self, mark: yaml.Mark) -> SourceLocation:
        return SourceLocation(self.rel_path, mark.line + 1, mark.column + 1)

    def compose_node(self, parent, index):  # noqa: D102 - PyYAML hook
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise SourceError(
                "YAML aliases (*name) are not allowed",
                self._loc(event.start_mark),
                "write the value out in full",
            )
        if getattr(event, "anchor", None) is not None:
            raise SourceError(
                "YAML anchors (&name) are not allowed",
                self._loc(event.start_mark),
                "write the value out in full where it is needed",
            )
        tag = getattr(event, "tag", None)
        if tag is not None and not (tag == "!" and isinstance(event, yaml.ScalarEvent)):
            raise SourceError(
                f"YAML tags such as {tag!r} are not allowed",
                self._loc(event.start_mark),
                "remove the tag; quote the value if it must stay text",
            )
        if self._depth >= MAX_DEPTH:
            raise SourceError(
                f"the YAML is nested more than {MAX_DEPTH} levels deep",
                self._loc(event.start_mark),
                "badge records are shallow; check the indentation",
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    _depth = 0

    def construct_mapping(self, node, deep=False):  # noqa: D102 - PyYAML hook
        if not isinstance(node, yaml.MappingNode):
            return super().construct_mapping(node, deep)
        result = LocatedDict()
        result.location = self._loc(node.start_mark)
        result.key_locations = {}
        result.value_locations = {}
        result.scalar_texts = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise SourceError(
                    f"keys must be text, not {type(key).__name__} {key!r}",
                    self._loc(key_node.start_mark),
                )
            if key in result:
                first = result.key_locations[key]
                raise SourceError(
                    f"duplicate key {key!r} (first given at line {first.line})",
                    self._loc(key_node.start_mark),
                    "keep one of them",
                )
            result[key] = self.construct_object(value_node, deep=True)
            result.key_locations[key] = self._loc(key_node.start_mark)
            result.value_locations[key] = self._loc(value_node.start_mark)
            if isinstance(value_node, yaml.ScalarNode) and not isinstance(result[key], str):
                result.scalar_texts[key] = value_node.value
        return result

    def construct_sequence(self, node, deep=False):  # noqa: D102 - PyYAML hook
        result = LocatedList(self.construct_object(child, deep=True) for child in node.value)
        result.location = self._loc(node.start_mark)
        result.item_locations = [self._loc(child.start_mark) for child in node.value]
        return result

    def construct_yaml_int(self, node):  # noqa: D102 - PyYAML hook
        # int() refuses more than 4300 decimal digits (CPython's guard against quadratic
        # conversion); report it at the number instead of crashing.
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            raise SourceError(
                "this number is too long to read",
                self._loc(node.start_mark),
                "quote it if it is text; no badge field needs a number this long",
            ) from None


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_sequence)

try:
    from yaml.cyaml import CParser as _CParser  # libyaml's parser, when PyYAML was built with it
except ImportError:  # pragma: no cover - PyYAML without libyaml: its own parser reads everything
    _CParser = None
# Texts libyaml does not read as PyYAML does: what PyYAML's reader refuses (it says where), tabs
# (libyaml takes one inside a plain value, PyYAML refuses it), byte order marks past the start,
# and flow collections ("[a ?b]" is one value to libyaml and an error to PyYAML; an empty value in
# "[a: , b]" starts a column apart). These go to PyYAML directly: badge classes with "tags: [...]"
# are few, recipient files seldom have any (tests/test_loading.py compares the two on mutations).
_PYTHON_ONLY = re.compile(f"{yaml.reader.Reader.NON_PRINTABLE.pattern}|[\t\ufeff[{{]")


if _CParser is not None:

    class _CLoader(_CParser, _Loader):  # type: ignore[valid-type,misc]
        """:class:`_Loader` reading its events from libyaml (about 9 times faster than PyYAML's
        own scanner and parser); composing and constructing, with every check and location, stay
        :class:`_Loader`'s. A file it cannot read is read again by :class:`_Loader`, whose
        messages are the ones users see (:func:`parse_yaml`)."""

        # Compose in Python, through _Loader.compose_node (libyaml's own composer would skip the
        # checks of anchors, aliases, tags and depth).
        get_single_node = yaml.composer.Composer.get_single_node
        get_node = yaml.composer.Composer.get_node
        check_node = yaml.composer.Composer.check_node

        def __init__(self, stream: str):
            _CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)


def decode_utf8(raw: bytes, rel: str) -> str:
    """Decode ``raw`` as UTF-8 (a leading BOM is dropped) or raise a located SourceError."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceError(
            f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
            SourceLocation(rel, line, col),
            "save the file as UTF-8 (most editors: 'Save with encoding')",
        ) from None


def read_source_bytes(path: Path, rel: str, *, limit: int = MAX_FILE_BYTES, root: Path | None = None) -> bytes:
    """Read a source file safely (see :mod:`badgekiln.sources.safefiles`): ``rel`` below ``root``, no link
    on the way, a regular file (a FIFO or device is not even opened), at most ``limit`` bytes.

    Without ``root``, ``path`` is a file the user named on the command line (``award --csv``): a
    link there is followed, but what it leads to must still be a regular file within ``limit``.
    """
    if root is None:
        resolved = path.resolve()
        return safefiles.read_bytes(resolved.parent, resolved.name, limit=limit)
    return safefiles.read_bytes(root, rel, limit=limit)


def parse_yaml(text: str, rel: str) -> Any:
    """Parse YAML ``text`` from the file ``rel`` with the safe, located loader.

    libyaml reads the events when it is there; a file it cannot read (or that fails a check) is
    read again by PyYAML's own parser, so that every error, and its location, is PyYAML's.
    """
    if _CParser is not None and not _PYTHON_ONLY.search(text):
        loader = _CLoader(text)
        loader.rel_path = rel
        try:
            return loader.get_single_data()
        except (yaml.YAMLError, SourceError):
            pass  # read again below, for PyYAML's message
        finally:
            loader.dispose()
    return _parse_python(text, rel)


def _parse_python(text: str, rel: str) -> Any:
    try:
        loader = _Loader(text)  # PyYAML's reader refuses control characters here, before parsing
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise SourceError(
            f"the file contains the invisible control character U+{exc.character:04X}",
            SourceLocation(rel, line, col),
            "delete it (it often comes with text pasted from a word processor or spreadsheet)",
        ) from None
    loader.rel_path = rel
    try:
        return loader.get_single_data()
    except SourceError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = SourceLocation(rel, mark.line + 1, mark.column + 1) if mark else SourceLocation(rel)
        problem = exc.problem or exc.context or "malformed YAML"
        said = _plain_syntax_error(problem, exc.problem_mark, exc.context_mark)
        if said is not None and "tab" not in _syntax_hint(text, mark):
            raise SourceError(said[0], location, said[1]) from None
        raise SourceError(f"YAML syntax error: {problem}", location, _syntax_hint(text, mark)) from None
    except yaml.YAMLError as exc:
        raise SourceError(f"YAML error: {exc}", SourceLocation(rel)) from None
    finally:
        loader.dispose()


def _plain_syntax_error(problem: str, at: Any, block: Any) -> tuple[str, str] | None:
    """PyYAML's commonest complaints in words a person who never wrote YAML can act on (its own
    mention tokens such as '<block mapping start>' and '?'), with a hint; None for the others."""
    if at is None:
        return None
    line = at.line + 1
    if problem.startswith("expected <block end>"):
        where = f" (it belongs to the list or mapping that starts at line {block.line + 1}, column {block.column + 1})"
        return (
            f"YAML syntax error: line {line} does not line up with the lines above it" + (where if block else ""),
            "the lines of one list or mapping start in the same column, with spaces; the lines of a text "
            "after '|' or '>' are indented further than its key",
        )
    if problem.startswith("mapping values are not allowed"):
        return (
            f"YAML syntax error: line {line} has a ': ' where a value was expected",
            "put a value holding ': ' in quotes (name: \"Liam: the best\"); a key of its own starts in the "
            "same column as the keys above it",
        )
    if problem.startswith("could not find expected ':'"):
        return (
            f"YAML syntax error: line {line} has no ': ' after its key",
            "write 'key: value'; a text that runs onto the next line goes in quotes, or after 'key: |'",
        )
    return None


def _syntax_hint(text: str, mark: Any) -> str:
    """What to do about a YAML syntax error at ``mark``: a tab in the indentation of its line is
    the usual cause (editors insert them; YAML indents with spaces only)."""
    if mark is not None:
        lines = text.split("\n")
        if 0 <= mark.line < len(lines):
            line = lines[mark.line]
            if "\t" in line[: len(line) - len(line.lstrip(" \t"))] or line[mark.column : mark.column + 1] == "\t":
                return "YAML indents with spaces, not tabs: replace the tab on this line with spaces"
    return "check the indentation and quote values that contain ': ' or start with a symbol"


def load_yaml(path: Path, root: Path) -> SourceDoc:
    """Load one YAML source file below ``root``."""
    rel = path.relative_to(root).as_posix()
    text = decode_utf8(read_source_bytes(path, rel, root=root), rel)
    return SourceDoc(path=path, rel=rel, data=parse_yaml(text, rel), text=text)


def load_markdown_page(path: Path, root: Path) -> tuple[SourceDoc, str]:
    """Load a Markdown page with an optional YAML front matter between ``---`` lines.

    Returns the front matter as a SourceDoc (data ``{}`` when absent) and the Markdown body.
    """
    rel = path.relative_to(root).as_posix()
    text = decode_utf8(read_source_bytes(path, rel, root=root), rel)
    front: Any = LocatedDict()
    front.location = SourceLocation(rel, 1, 1)
    front.key_locations, front.value_locations = {}, {}
    body = text
    if text.startswith("---\n") or text.startswith("---\r\n"):
        text = text.replace("\r\n", "\n")
        end = re.search(r"^---\s*$", text[4:], flags=re.MULTILINE)
        if end is None:
            raise SourceError(
                "the front matter starts with '---' but has no closing '---' line",
                SourceLocation(rel, 1, 1),
            )
        front_text = text[4 : 4 + end.start()]
        front = parse_yaml(front_text, rel) or front
        # Keep line numbers true: front matter lines start at line 2 of the file.
        _shift_lines(front, 1)
        body = text[4 + end.end() :].lstrip("\r\n")
    return SourceDoc(path=path, rel=rel, data=front, text=text), body


def _shift_lines(node: Any, by: int) -> None:
    """Move every recorded location of ``node`` down ``by`` lines (for front matter)."""
    if isinstance(node, LocatedDict):
        node.location = _moved(node.location, by)
        node.key_locations = {k: _moved(v, by) for k, v in node.key_locations.items()}
        node.value_locations = {k: _moved(v, by) for k, v in node.value_locations.items()}
        for value in node.values():
            _shift_lines(value, by)
    elif isinstance(node, LocatedList):
        node.location = _moved(node.location, by)
        node.item_locations = [_moved(v, by) for v in node.item_locations]
        for value in node:
            _shift_lines(value, by)


def _moved(location: SourceLocation, by: int) -> SourceLocation:
    return SourceLocation(location.path, location.line + by, location.col)
