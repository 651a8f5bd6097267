"""The Jinja2 sandbox that templates run in, with limits on the work a template can make.

A site's ``templates/`` folder comes from pull requests like every other source, so a template
is hostile input. :class:`jinja2.sandbox.ImmutableSandboxedEnvironment` keeps it away from Python
internals (no ``__globals__``, no ``os``, no changing data in place); :class:`LimitedSandbox`
also keeps it from exhausting the machine. Every limit ends in a :class:`TemplateLimitError`,
a Jinja ``TemplateRuntimeError`` that the build reports at the template's file and line:

* a string, list or output chunk longer than :data:`MAX_TEXT` (``'x' * 10**10``, ``'%*d'``,
  ``|center(10**9)``, ``|join`` or ``|replace`` into gigabytes, ``~`` doubling a string);
* an integer of more than :data:`MAX_INT_BITS` bits (``2 ** 10**9``);
* ``range()`` of more than :data:`MAX_RANGE` items;
* more than :data:`MAX_STEPS` calls and loop iterations in one rendering (nested loops,
  macros that call themselves twice);
* more than :data:`MAX_OUTPUT` characters output in one rendering, macros and blocks included;
* more than :data:`MAX_METERED` characters given to ``|markdown`` (and the other filters slow
  per character: ``|wordwrap``, ``|urlize``, ``|striptags``) in one rendering;
* a value a template turns into text (prints, joins with ``~``, formats, gives a filter that
  makes text) whose text would be longer than :data:`MAX_TEXT`, and a list, tuple or dict it
  makes that holds more than :data:`MAX_TEXT` items, each list in it counted as often as it is
  there: lists that hold one list twice, nested, stand for gigabytes in a few hundred bytes;
* more than :data:`MAX_MADE` characters and items made in one rendering, in all;
* more than :data:`MAX_WORK` items gone through in one rendering by filters, tests, comparisons
  and these checks themselves (a loop of 200,000 steps, each going through a list of a million
  items, took hours); a text a filter reads counts an item per :data:`TEXT_PER_ITEM` characters.

Recursion (a macro calling itself, a template including or extending itself) ends in Python's
``RecursionError``, which :class:`~badgekiln.pages.render.Renderer` reports the same way.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import ItemsView, Iterator, KeysView, ValuesView
from functools import wraps
from typing import Any

from jinja2 import nodes, pass_context
from jinja2.compiler import CodeGenerator, operators
from jinja2.filters import make_attrgetter
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import Namespace, generate_lorem_ipsum
from markupsafe import Markup, escape

# The filter every value that Jinja could otherwise work out while compiling goes through (see
# LimitedSandbox._parse): a name with a space, which no template can write.
SIZED_INPUT = "sized input"
MAX_TEXT = 1_000_000  # characters of one string, or total characters of one list, a template makes
MAX_OUTPUT = 20_000_000  # characters output in one rendering (blocks and macros counted as they are made)
MAX_STEPS = 200_000  # calls and loop iterations in one rendering (a macro call costs ~15 µs)
MAX_RANGE = 100_000  # items of one range()
MAX_INT_BITS = 10_000  # bits of a whole number a template makes (about 3,000 digits)
MAX_METERED = 300_000  # characters given to a slow filter (|markdown) in one rendering: seconds, not hours
MAX_WORK = 20_000_000  # items gone through by filters, tests, comparisons and these checks in one rendering
MAX_MADE = 100_000_000  # characters and items of every value made in one rendering, together
TEXT_PER_ITEM = 8  # characters of text a filter goes through (at C's speed) that count as one item of work
# Filters that take a list as it is: neither make its text nor go through more than its items.
_LIST_FILTERS = frozenset(
    "list length count first last batch slice sort unique reverse map select reject selectattr rejectattr "
    "groupby dictsort items sum min max random attr default d join".split()
)
_COMPARING_FILTERS = frozenset("sort unique dictsort groupby min max".split())  # (each compares whole items)
_FREE_FILTERS = frozenset("length count first last default d attr".split())  # no work that grows with the input
_SLOW_FILTERS = ("wordwrap", "urlize", "striptags")  # seconds per million characters: metered like |markdown

_DICT_ATTRIBUTES = frozenset(dir(dict))  # what getattr() finds on a plain dict (items, keys, __class__, ...)
_NESTED_KEY = re.compile(r"%\([^)]*\(")
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")


class TemplateLimitError(SecurityError):
    """A template went past one of the sandbox's limits."""


def _refuse(what: str) -> TemplateLimitError:
    return TemplateLimitError(
        f"{what}; templates are limited to {MAX_TEXT:,} characters per string and {MAX_OUTPUT:,} per page"
    )


def _size(value: Any, budget: int = MAX_TEXT + 1) -> int:
    """About how many characters ``value`` stands for (its text, or its items' texts), up to
    ``budget``: the walk stops there, so it costs at most about ``budget`` steps."""
    if isinstance(value, (str, bytes)):
        return len(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() // 3
    if isinstance(value, Namespace):  # (its text is its dict's)
        value = value._Namespace__attrs  # type: ignore[attr-defined]
    if isinstance(value, (dict, ItemsView)):
        items = value.items() if isinstance(value, dict) else value
        total = len(items)
        for key, item in items:
            if total > budget:
                break
            total += 1 + _size(key, budget - total)
            total += _size(item, budget - total)
        return total
    if isinstance(value, (list, tuple, set, frozenset, KeysView, ValuesView)):
        total = len(value)
        for item in value:
            if total > budget:
                break
            total += _size(item, budget - total)
        return total
    return 1


_CONTAINERS = (list, tuple, dict, set, frozenset, Namespace, KeysView, ValuesView, ItemsView)


def _slots(value: Any, budget: int = MAX_TEXT + 1) -> int:
    """How many items ``value`` holds, through every list, tuple or dict in it, each counted as
    often as it is held (``[b, b]`` holds b's items twice), up to ``budget``: what comparing,
    hashing or walking it goes through. A text counts one (its characters are not items)."""
    if isinstance(value, Namespace):
        value = value._Namespace__attrs  # type: ignore[attr-defined]
    if isinstance(value, dict):
        value = value.items()
    if not isinstance(value, _CONTAINERS) or isinstance(value, Namespace):
        return 1
    total = len(value)
    for item in value:
        if total > budget:
            break
        if isinstance(item, _CONTAINERS):
            total += _slots(item, budget - total)
    return total


def _check_int(value: Any, what: str) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_TEXT:
        raise _refuse(f"{what} {value:,} is too large")


def check_percent_format(template: str, values: Any = ()) -> int:
    """``'%99999999d'``, ``'%*d'``: a width or precision that would make a huge string, or
    widths that do together (``'%1000000d' * 300``: 300 million characters), or the values
    ``values`` fill in (``('%(a)s' * 1200) % {'a': s}``: s 1,200 times); returns the work it
    took to tell (about the template's length)."""
    if _NESTED_KEY.search(template):  # (Python balances them; the widths after one were never read: a review)
        raise _refuse("a % format's key in parentheses may not hold parentheses")
    total, matches = len(template), 0
    keyed = isinstance(values, dict)
    for match in _PERCENT_SPEC.finditer(template):
        matches += 1
        for number in match.groups():
            if number == "*":
                raise _refuse("a '*' width in a % format is not allowed")
            if number and int(number) > MAX_TEXT:
                raise _refuse(f"the format width {int(number):,} is too large")
            total += int(number) if number else 0
        key = match.group(0)[2 : match.group(0).find(")")] if match.group(0).startswith("%(") else None
        if keyed and key is not None and key in values:
            total += _size(values[key], MAX_TEXT + 1)
        if total > MAX_TEXT:
            break
    if not keyed:  # (each value is used once)
        total += _size(values if isinstance(values, tuple) else (values,), MAX_TEXT + 1)
    if total > MAX_TEXT:
        raise _refuse(f"the format makes more than {MAX_TEXT:,} characters")
    return len(template) // TEXT_PER_ITEM + matches  # (each match is a step of this loop: a review)


def check_brace_format(template: str, args: tuple = (), kwargs: dict | None = None) -> None:
    """``'{:>99999999}'``: a width or precision in a str.format field that would make a huge
    string; or the values ``args`` and ``kwargs`` fill in, as often as fields name them
    (``('{0}' * 1200).format(s)``)."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateLimitError(f"bad format string: {exc}") from None
    if any(spec and "{" in spec for _, _, spec, _ in fields):  # ("{0:{1}}": a width given as it formats)
        raise _refuse("a str.format width or precision given by another field is not allowed")
    total, automatic = len(template), 0
    for _, field, spec, _ in fields:
        for number in re.findall(r"\d+", spec or ""):
            if int(number) > MAX_TEXT:
                raise _refuse(f"the format width {int(number):,} is too large")
            total += int(number)
        if field is not None:  # (the value it names: args[0], args[1], ... or a keyword's)
            first = re.split(r"[.\[]", field, maxsplit=1)[0]
            if first == "":
                first, automatic = str(automatic), automatic + 1
            if first.isdecimal():  # ("{²}" is a digit, not a number: a review)
                try:
                    number = int(first)
                except ValueError:  # (a field number past Python's 4,300 digits)
                    raise TemplateLimitError("bad format string: a field number is too long") from None
                value = args[number] if number < len(args) else None
            else:
                value = (kwargs or {}).get(first)
            total += _size(value, MAX_TEXT + 1)
        if total > MAX_TEXT:
            raise _refuse(f"the format makes more than {MAX_TEXT:,} characters")


def _sized_input(node: nodes.Expr) -> nodes.Expr:
    return nodes.Filter(node, SIZED_INPUT, [], [], None, None, lineno=node.lineno)


def _runs_late(node: nodes.Node) -> bool:
    """Whether Jinja can never work ``node`` out while compiling: a variable, an attribute or
    item of one, or a filter's or test's result (whose own input goes through SIZED_INPUT or is
    one of these)."""
    while isinstance(node, (nodes.Getattr, nodes.Getitem)):
        node = node.node
    return isinstance(node, (nodes.Name, nodes.Filter, nodes.Test))


def check_binop(operator: str, left: Any, right: Any) -> int:
    """Refuse an operation whose result would be too large, before it is computed; the
    characters and items gone through to tell (the work it cost)."""
    if operator == "*":
        if isinstance(left, int) and isinstance(right, (str, bytes, list, tuple)):
            left, right = right, left
        if isinstance(left, (str, bytes, list, tuple)) and isinstance(right, int):
            size = _size(left)
            if right > 0 and size * right > MAX_TEXT:
                raise _refuse(f"repeating a value {right:,} times makes more than {MAX_TEXT:,} characters")
            return size
        if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise _refuse("the product is too large a number")
    elif operator == "**":
        if (
            isinstance(left, int)
            and isinstance(right, int)
            and right > 0
            and abs(left) > 1
            and left.bit_length() * right > MAX_INT_BITS
        ):
            raise _refuse(f"{left} ** {right} is too large a number")
    elif operator == "%":
        if isinstance(left, (str, bytes)):  # (bytes too: b'%999999999d' % 1, a review)
            return check_percent_format(left.decode("latin-1") if isinstance(left, bytes) else left, right)
    elif operator == "+":
        if isinstance(left, (str, bytes, list, tuple)) and isinstance(right, (str, bytes, list, tuple)):
            size = _size(left)
            size += _size(right, MAX_TEXT + 1 - size) if size <= MAX_TEXT else 0
            if size > MAX_TEXT:
                raise _refuse(f"joining these values makes more than {MAX_TEXT:,} characters")
            return size
    return 1


def _replace_size(text: Any, old: Any, new: Any, count: Any) -> int:
    occurrences = text.count(old) if old else len(text) + 1
    if count is not None and count >= 0:
        occurrences = min(occurrences, count)
    return len(text) + occurrences * (len(new) - len(old))


def _join_size(separator: str, items: list) -> int:
    total = len(separator) * len(items)
    for item in items:
        # (every kind by its text: a dict counted as 20 characters joined gigabytes, a review)
        total += 25 if isinstance(item, float) else _size(item, MAX_TEXT + 1 - total)
        if total > MAX_TEXT:
            break
    return total


class _LimitedCodeGenerator(CodeGenerator):
    """Jinja's compiler, with every piece of output counted and every ``~`` and filter result sized."""

    def _output_child_pre(self, node, frame, finalize) -> None:
        self.write("environment.counted(")
        super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node, frame, finalize) -> None:
        super()._output_child_post(node, frame, finalize)
        self.write(")")

    def _output_const_repr(self, group) -> str:
        return f"environment.counted({super()._output_const_repr(group)})"

    def _output_child_to_const(self, node, frame, finalize) -> str:
        # Jinja's own, but for None: a value known when compiling (``{{ none }}``, ``{{ none if
        # true }}``) was escaped before the environment's finalize saw it, so None printed "None"
        # there while a variable that is None prints nothing (render.py). The value is made once
        # (calling Jinja's after a look made it twice: a review).
        const = node.as_const(frame.eval_ctx)
        if isinstance(node, nodes.TemplateData):
            return str(escape(const) if frame.eval_ctx.autoescape else const)
        if const is None:
            return ""
        if frame.eval_ctx.autoescape:
            const = escape(const)
        return finalize.const(const)  # type: ignore[no-any-return]

    def visit_Const(self, node, frame) -> None:
        # Jinja writes a float's repr, and ``inf`` or ``nan`` (1e999, folded) is no Python name:
        # a value worked out while compiling that is not folded further (the input of a filter,
        # a {% set %}) was a NameError when it rendered.
        value = node.as_const(frame.eval_ctx)
        if isinstance(value, float) and not math.isfinite(value):
            self.write(f"float({str(value)!r})")
            return
        super().visit_Const(node, frame)

    def visit_Concat(self, node, frame) -> None:
        # Jinja's, with each part's text sized before it is made: "[b, b] ~ ''", b holding a list
        # twice, and so on, stood for gigabytes.
        join = "markup_join" if frame.eval_ctx.autoescape else "str_join"
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        self.write(f"environment.sized({join}(environment.joinable((")
        for part in node.nodes:
            self.visit(part, frame)
            self.write(", ")
        self.write("))))")

    def visit_Getitem(self, node, frame) -> None:
        # Jinja writes a slice as Python's: what it makes is charged like any value made
        # (L[1:] of a million items, 150 times: 1.2 GB; in a loop, minutes: a review).
        if isinstance(node.arg, nodes.Slice):
            self.write("environment.charged(")
            super().visit_Getitem(node, frame)
            self.write(")")
            return
        super().visit_Getitem(node, frame)

    def visit_List(self, node, frame) -> None:
        self.write("environment.made(")
        super().visit_List(node, frame)
        self.write(")")

    def visit_Dict(self, node, frame) -> None:
        self.write("environment.made(")
        super().visit_Dict(node, frame)
        self.write(")")

    def visit_Tuple(self, node, frame) -> None:
        if node.ctx != "load":  # (the names a {% set a, b = ... %} or a loop assigns)
            super().visit_Tuple(node, frame)
            return
        self.write("environment.made(")
        super().visit_Tuple(node, frame)
        self.write(")")

    def visit_Compare(self, node, frame) -> None:
        # Every value compared is charged for what the comparison may go through.
        self.write("(environment.compared(")
        self.visit(node.expr, frame)
        self.write(")")
        for operand in node.ops:
            self.write(f" {operators[operand.op]} environment.compared(")
            self.visit(operand.expr, frame)
            self.write(")")
        self.write(")")

    def visit_Filter(self, node, frame) -> None:
        self.write("environment.sized(")
        super().visit_Filter(node, frame)
        self.write(")")


_TEXT_OF_ITS_SIZE = (str, int, float, type(None))  # values whose text is no larger than they are


class _Filters(dict):
    """The environment's filters: each one set is wrapped by :meth:`LimitedSandbox.limited_filter`
    (those badgekiln adds after the environment is made, such as ``|markdown``, too)."""

    def __init__(self, environment: LimitedSandbox) -> None:
        super().__init__()
        self._environment = environment

    def __setitem__(self, name: str, function: Any) -> None:
        super().__setitem__(name, self._environment.limited_filter(name, function))

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        for name, function in dict(*args, **kwargs).items():
            self[name] = function


class LimitedSandbox(ImmutableSandboxedEnvironment):
    """:class:`ImmutableSandboxedEnvironment` with limits on size, numbers, steps and output.

    Counters are per rendering: call :meth:`start_rendering` before each one (one rendering at a
    time per environment; builds run in processes, not threads).
    """

    code_generator_class = _LimitedCodeGenerator
    intercepted_binops = frozenset(["*", "**", "%", "+", "-", "//"])  # (the last two: numbers' bits, see charged)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._steps = self._output = self._metered = self._work = self._made = 0
        self._slots_known: dict[int, tuple[Any, int]] = {}
        self.globals["range"] = self.limited_range
        self.globals["lipsum"] = _limited_lipsum
        filters = dict(self.filters)
        for name in _SLOW_FILTERS:
            filters[name] = self.metered(filters[name], f"|{name}")
        for name, check in _FILTER_CHECKS.items():
            filters[name] = _checked_filter(filters[name], check)
        filters["join"] = _limited_join(filters["join"])
        self.filters = _Filters(self)
        self.filters.update(filters)  # (each through _Filters.__setitem__: see limited_filter)
        self.filters[SIZED_INPUT] = pass_context(lambda context, value: self.sized(value))
        self.tests = {name: self.limited_test(test) for name, test in self.tests.items()}
        given = self.finalize

        def finalize(value: Any) -> Any:  # (once per value printed; text, the most of them, as it is)
            if isinstance(value, str):
                return value
            value = self.textual(value)
            return value if given is None else given(value)

        self.finalize = finalize

    def start_rendering(self) -> None:
        self._steps = self._output = self._metered = self._work = self._made = 0
        self._slots_known.clear()

    def limited_test(self, function: Any) -> Any:
        """``function``, a test (``is in``, ``is equalto``), charging the items it may go through."""
        skip = 1 if hasattr(function, "jinja_pass_arg") else 0

        @wraps(function)
        def limited(*args: Any, **kwargs: Any) -> Any:
            for value in (*args[skip:], *kwargs.values()):
                self.compared(value)
            return function(*args, **kwargs)

        return limited

    def limited_filter(self, name: str, function: Any) -> Any:
        """``function``, the filter ``name``, charging the work it does to the rendering and
        sizing the text of what it is given, unless it takes lists as they are."""
        if name == SIZED_INPUT:
            return function
        skip = 1 if hasattr(function, "jinja_pass_arg") else 0  # the context Jinja passes first
        free, makes_text, compares = name in _FREE_FILTERS, name not in _LIST_FILTERS, name in _COMPARING_FILTERS

        @wraps(function)
        def limited(*args: Any, **kwargs: Any) -> Any:
            if makes_text:  # (first: "too long a text" says more than "too much work")
                for value in (*args[skip:], *kwargs.values()):
                    self.textual(value)
            if not free and len(args) > skip:
                value = args[skip]
                if compares or isinstance(value, (str, bytes)) or not isinstance(value, _CONTAINERS):
                    self.work(self.gone_through(value))
                else:  # (|map, |selectattr: each item once, not its texts)
                    self.work(len(value))
            made = self.charged(function(*args, **kwargs))
            if isinstance(made, Iterator):  # (|map, |select, |batch: as they are read)
                return self.items_made(made)
            if isinstance(made, _CONTAINERS):
                self.made(made)
            return made

        return limited

    def items_made(self, items: Iterator[Any]) -> Iterator[Any]:
        """``items``, what a filter makes as it is read, each item charged and held to the limits
        of a value made (``|map('default', b, true)`` holds b once an item)."""
        for item in items:
            if isinstance(item, _CONTAINERS):
                self.made(item)
            else:
                self.work(1)
            yield item

    def metered(self, function: Any, what: str) -> Any:
        """``function(text, ...)`` (a filter whose time grows with its input, such as Markdown),
        refused once it has been given :data:`MAX_METERED` characters in one rendering."""

        skip = 1 if hasattr(function, "jinja_pass_arg") else 0  # (Jinja's |wordwrap takes the environment first)

        @wraps(function)
        def filter_(*args: Any, **kwargs: Any) -> Any:
            text = args[skip] if len(args) > skip else ""
            self._metered += len(text) if isinstance(text, str) else _size(text)
            if self._metered > MAX_METERED:
                raise TemplateLimitError(f"more than {MAX_METERED:,} characters given to {what} in one page")
            return function(*args, **kwargs)

        return filter_

    # -- counters (called from compiled templates) -------------------------------------------------

    def step(self) -> None:
        self._steps += 1
        if self._steps > MAX_STEPS:
            raise TemplateLimitError(
                f"more than {MAX_STEPS:,} calls and loop iterations in one page "
                "(a loop nested too deep, or a macro that calls itself)"
            )

    def counted(self, text: str) -> str:
        self._output += len(text)
        if self._output > MAX_OUTPUT:
            raise TemplateLimitError(f"the page is longer than {MAX_OUTPUT:,} characters")
        return text

    def sized(self, value: Any) -> Any:
        if isinstance(value, (str, bytes, list, tuple)) and len(value) > MAX_TEXT:
            raise _refuse(f"a value of {len(value):,} items or characters was made")
        return value

    def work(self, amount: int) -> None:
        self._work += amount
        if self._work > MAX_WORK:
            raise TemplateLimitError(
                f"more than {MAX_WORK:,} items gone through in one page "
                "(by filters, tests, comparisons and the checks of what the template makes)"
            )

    def charged(self, made: Any) -> Any:
        """``made`` (a new value), its length charged to what the page makes: a page makes at most
        :data:`MAX_MADE` characters and items in all, not only each value within the limits (a
        list of 10,000 ``'x' * 900000`` is 9 GB before it is a list); a whole number of more than
        :data:`MAX_INT_BITS` bits is refused (``|int(base=16)`` of a long text)."""
        if isinstance(made, (str, bytes, list, tuple, dict)):
            self._made += len(made)
            if self._made > MAX_MADE:
                raise TemplateLimitError(f"the values made in one page come to more than {MAX_MADE:,} characters")
        elif isinstance(made, int) and not isinstance(made, bool) and made.bit_length() > MAX_INT_BITS:
            raise _refuse("too large a number was made")
        return made

    def textual(self, value: Any) -> Any:
        """``value``, about to be made text (printed, joined with ``~``, formatted, given to a
        filter that makes text): refused when that text would be longer than :data:`MAX_TEXT`."""
        if isinstance(value, _TEXT_OF_ITS_SIZE):  # (a string prints as itself: the output is counted)
            return value
        size = _size(value)
        self.work(size)
        if size > MAX_TEXT:
            raise _refuse(f"the text of this {type(value).__name__} would be more than {MAX_TEXT:,} characters")
        return value

    def joinable(self, parts: tuple) -> tuple:
        """The parts of a ``~``, refused before they are joined when their texts come to more than
        :data:`MAX_TEXT` (1,200 parts of 900,000 characters each: a gigabyte, a review)."""
        total = 0
        for part in parts:
            self.textual(part)
            total += len(part) if isinstance(part, str) else _size(part)
            if total > MAX_TEXT:
                raise _refuse(f"joining these with ~ makes more than {MAX_TEXT:,} characters")
        return parts

    def made(self, value: Any) -> Any:
        """A list, tuple or dict the template made (a literal, a filter's or a method's result):
        refused when it holds more than :data:`MAX_TEXT` items, counting each list it holds as
        often as it holds it (``[b, b]``, nested, doubles each time, and comparing, hashing or
        printing it goes through every one)."""
        if isinstance(value, _CONTAINERS):
            slots = self.slots_of(value)
            self._remember_slots(value, slots)
            if slots > MAX_TEXT:
                raise _refuse(
                    f"this {type(value).__name__} holds more than {MAX_TEXT:,} items, "
                    "counting each list in it as often as it is there"
                )
        return value

    def gone_through(self, value: Any) -> int:
        """What going through ``value`` costs, in items: a list's items (walked once for the
        eight last compared or made), and its texts' characters, one per :data:`TEXT_PER_ITEM`
        (a list of 500,000 references to one text of a million characters: each comparison or
        sort reads every one, a review)."""
        if isinstance(value, (str, bytes)):
            return len(value) // TEXT_PER_ITEM
        if not isinstance(value, _CONTAINERS):
            return 1
        slots = self._slots_cached(value)
        self._remember_slots(value, slots)
        return slots + _size(value, MAX_WORK * TEXT_PER_ITEM) // TEXT_PER_ITEM

    def compared(self, value: Any) -> Any:
        """A value compared (``==``, ``<``, ``in``): charged for the items the comparison may go through."""
        self.work(self.gone_through(value))  # ('a' * 49 in 'a' * 999999; "id in ids")
        return value

    def counted_items(self, iterable: Any) -> Any:
        for item in iterable:
            self.step()
            yield item

    def limited_range(self, *args: int) -> range:
        for value in args:
            if not isinstance(value, int):
                raise TemplateLimitError(f"range() takes whole numbers, not {type(value).__name__}")
        try:
            result = range(*args)
            too_long = len(result) > MAX_RANGE
        except (TypeError, ValueError, OverflowError) as exc:
            raise TemplateLimitError(f"range(): {exc}") from None
        if too_long:
            raise TemplateLimitError(f"range() of more than {MAX_RANGE:,} items")
        return result

    # -- sandbox hooks -------------------------------------------------------------------------------

    def getattr(self, obj, attribute):  # noqa: D102 - Jinja hook
        # ``award.status`` on a context dict: Jinja first tries the attribute, which a plain dict
        # does not have unless ``dir(dict)`` names it, and the exception costs more than the item.
        if type(obj) is dict and type(attribute) is str and attribute not in _DICT_ATTRIBUTES and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def _parse(self, source, name, filename):  # noqa: D102 - Jinja hook
        tree = super()._parse(source, name, filename)
        for loop in list(tree.find_all(nodes.For)):  # every loop counts its iterations
            loop.iter = nodes.Call(
                nodes.EnvironmentAttribute("counted_items"), [loop.iter], [], None, None, lineno=loop.iter.lineno
            )
        # What a filter or test is given, and each part of a ``~``, goes first through
        # SIZED_INPUT, a filter that takes the context, which Jinja never works out while
        # compiling: so no filter runs then, where nothing is sized ("'x'|center(999999)|list|
        # batch(1)|list|string" made 7 million characters there, and a stage more 800 MB: a
        # review), and no ``~`` turns a list into its text there (``('' ~ [...])`` nested doubles
        # its backslashes each time: 67 million characters from 244 bytes of template). Not what
        # no folding can reach (a variable, a filter's result: see _runs_late); otherwise every
        # one: Jinja folds "('x' or y)" to 'x' first (a second review). Not a call: a call costs
        # a step (and Jinja allows no node type of our own).
        for used in list(tree.find_all((nodes.Filter, nodes.Test))):
            if used.node is not None and not _runs_late(used.node):  # (a {% filter %} block's has none)
                used.node = _sized_input(used.node)
        for joined in list(tree.find_all(nodes.Concat)):
            joined.nodes = [part if _runs_late(part) else _sized_input(part) for part in joined.nodes]
        return tree

    def call_binop(self, context, operator, left, right):  # noqa: D102 - Jinja hook
        if operator == "+" and isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
            # (by the items they hold, known for what the template made last: "ns.tags + b.tags"
            # in a loop read the growing list's text at each step, a review)
            slots = self.slots_of(left) + self.slots_of(right)
            if slots > MAX_TEXT:
                raise _refuse(f"joining these lists makes one of more than {MAX_TEXT:,} items")
            made = self.charged(self.sized(super().call_binop(context, operator, left, right)))
            self._remember_slots(made, slots)
            return made
        self.work(check_binop(operator, left, right))
        if operator == "%" and isinstance(left, (str, bytes)):  # ('%s' % (b,): b's text)
            self.textual(right)
        return self.charged(self.sized(super().call_binop(context, operator, left, right)))

    def slots_of(self, value: Any) -> int:
        """``_slots(value)``, charged as work each time (what a comparison, a hash or a copy of
        ``value`` goes through), walked once for the eight values made or compared last."""
        slots = self._slots_cached(value)
        self.work(slots)
        return slots

    def _slots_cached(self, value: Any) -> int:
        known = self._slots_known.get(id(value))
        return known[1] if known is not None and known[0] is value else _slots(value)

    def _remember_slots(self, value: Any, slots: int) -> None:
        self._slots_known[id(value)] = (value, slots)
        if len(self._slots_known) > 8:
            del self._slots_known[next(iter(self._slots_known))]

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805, D102 - Jinja hook
        __self.step()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, (str, bytes, list, tuple, dict)):  # a method of a value: 'x'.center(10**9)
            for value in (*args, *kwargs.values()):
                _check_int(value, "the number")
            if isinstance(owner, (str, bytes)):
                args = __self._text_method(owner, getattr(__obj, "__name__", ""), args, kwargs)
            elif isinstance(owner, (list, tuple)):  # (L.count(1), L.index(x): through every item)
                __self.work(len(owner))
        made = __self.charged(__self.sized(super().call(__context, __obj, *args, **kwargs)))
        if isinstance(made, (list, tuple, dict, Namespace)):  # (dict.fromkeys(range(999), b), dict(a=b, c=b))
            __self.made(made)
        return made

    def _text_method(self, owner: str | bytes, name: str, args: tuple, kwargs: dict) -> tuple:
        """Check a call of ``owner``'s method ``name`` (text or bytes) before it is made: one that
        would make too long a text is refused, a slow one metered; returns the arguments to call
        it with. (Each of these made a gigabyte from a kilobyte of template: a review.)"""
        for value in (*args, *kwargs.values()):  # (what a method may make text of)
            self.textual(value)
        self.work(len(owner) // TEXT_PER_ITEM)
        size = len(owner)
        kind = str if isinstance(owner, str) else bytes
        if name == "replace" and len(args) >= 2 and isinstance(args[0], kind) and isinstance(args[1], kind):
            size = _replace_size(owner, args[0], args[1], args[2] if len(args) > 2 else kwargs.get("count"))
        elif name == "join" and args:
            args = (list(self.counted_items(args[0])), *args[1:])
            size = _join_size(str(owner), args[0])
        elif name == "expandtabs":
            tabsize = args[0] if args else kwargs.get("tabsize", 8)
            if isinstance(tabsize, int):
                tabs = owner.count("\t") if isinstance(owner, str) else owner.count(b"\t")
                size += tabs * max(tabsize, 0)
        elif name == "translate" and isinstance(owner, str) and args:
            table = args[0].values() if isinstance(args[0], dict) else args[0]  # (a list is a table too)
            if isinstance(table, (list, tuple, ValuesView)):
                size *= max((len(v) for v in table if isinstance(v, str)), default=1) or 1
        elif name in ("striptags", "unescape") and isinstance(owner, Markup):  # (markupsafe's striptags is quadratic)
            self._metered += len(owner)
            if self._metered > MAX_METERED:
                raise TemplateLimitError(f"more than {MAX_METERED:,} characters given to {name}() in one page")
        if size > MAX_TEXT:
            raise _refuse(f"this {name}() makes too long a text")
        return args

    def wrap_str_format(self, value):  # noqa: D102 - Jinja hook
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        template = value.__self__

        @wraps(wrapped)
        def limited(*args: Any, **kwargs: Any) -> str:
            if getattr(value, "__name__", "") == "format_map" and len(args) == 1 and isinstance(args[0], dict):
                check_brace_format(template, (), args[0])  # (its fields are the mapping's: a review)
            else:
                check_brace_format(template, args, kwargs)
            for item in (*args, *kwargs.values()):
                _check_int(item, "the number")
                self.textual(item)
            return self.charged(self.sized(wrapped(*args, **kwargs)))

        return limited


def _limited_lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # noqa: A002
    for value in (n, min, max):
        if not isinstance(value, int) or value > 1000:
            raise TemplateLimitError("lipsum() takes whole numbers up to 1,000")
    return generate_lorem_ipsum(n, html, min, max)


# Filters that make something larger than what they are given: what each is given is checked first.
def _check_center(value, width=80, *_, **__):
    _check_int(width, "the width")


def _check_indent(value, width=4, *_, **__):
    size = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    if len(str(value)) + (str(value).count("\n") + 1) * size > MAX_TEXT:
        raise _refuse("this indent makes too long a string")


def _check_wordwrap(value, width=79, break_long_words=True, wrapstring=None, *_, **__):
    if isinstance(width, int) and width > 0 and len(str(value)) // width * len(wrapstring or "\n") > MAX_TEXT:
        raise _refuse("this wordwrap makes too long a string")


def _check_count(value, count=1, fill_with=None, *_, **__):
    _check_int(count, "the count")
    if fill_with is not None and isinstance(count, int) and count > 1 and _size(fill_with) * (count - 1) > MAX_TEXT:
        raise _refuse("this batch's filling makes more than 1,000,000 characters")  # ([1]|batch(999, b): b 998 times)


def _check_format(value, *args, **kwargs):
    if isinstance(value, str):  # (Jinja's |format is "value % (kwargs or args)")
        check_percent_format(value, kwargs or args)
    for item in (*args, *kwargs.values()):
        _check_int(item, "the number")


def _check_replace(value, old="", new="", count=None, *_, **__):
    if _replace_size(str(value), str(old), str(new), count) > MAX_TEXT:
        raise _refuse("this replace makes too long a string")


def _check_sum(value, attribute=None, start=0, *_, **__):
    if not isinstance(start, (int, float)):  # sum(start=[]) concatenates lists: quadratic
        raise TemplateLimitError("sum() adds numbers only")


_FILTER_CHECKS = {
    "center": _check_center,
    "indent": _check_indent,
    "wordwrap": _check_wordwrap,
    "batch": _check_count,
    "slice": _check_count,
    "format": _check_format,
    "replace": _check_replace,
    "sum": _check_sum,
}


def _checked_filter(function, check):
    """``function`` (a Jinja filter), checking its arguments first; ``join`` has its own wrapper."""
    skip = 1 if hasattr(function, "jinja_pass_arg") else 0  # the context Jinja passes first

    @wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        check(*args[skip:], **kwargs)
        return function(*args, **kwargs)

    return checked


def _limited_join(function):
    skip = 1 if hasattr(function, "jinja_pass_arg") else 0

    @wraps(function)
    def join(*args: Any, **kwargs: Any) -> Any:
        items = list(args[skip])
        separator = args[skip + 1] if len(args) > skip + 1 else kwargs.get("d", "")
        attribute = args[skip + 2] if len(args) > skip + 2 else kwargs.pop("attribute", None)
        if attribute is not None:  # (the items joined are those attributes: sized as such, a review)
            items = list(map(make_attrgetter(args[0].environment, attribute), items))
        args[0].environment.textual(separator)
        if _join_size(str(separator), items) > MAX_TEXT:
            raise _refuse("this join makes too long a string")
        return function(*args[:skip], items, separator)

    return join


# -- what `badgekiln check` can tell without rendering --------------------------------------------

_OPERATORS = {nodes.Mul: "*", nodes.Pow: "**", nodes.Mod: "%", nodes.Add: "+"}
_UNKNOWN = object()
_WORK = -1  # the key of ``known`` (in _constant) that counts the work done (no id() is negative)


def _constant(node: nodes.Node, known: dict[int, Any] | None = None) -> Any:
    """The value of a constant expression, checked against the limits as it is computed; or
    _UNKNOWN. ``known``: the values of nodes already worked out (by ``id``), so that the nodes of a
    nested expression, each looked at in turn, are worked out once (it was quadratic: 30 ``+ []``
    after a list of 500,000 items took 40 s)."""
    if known is None:
        known = {}
    if id(node) not in known:
        try:
            known[id(node)] = _worked_out(node, known)
        except (TemplateLimitError, ValueError, OverflowError) as exc:
            known[id(node)] = exc  # (refused once: every expression around it is, without working it out again)
    value = known[id(node)]
    if isinstance(value, (TemplateLimitError, ValueError, OverflowError)):
        raise value
    return value


def _worked_out(node: nodes.Node, known: dict[int, Any]) -> Any:
    if isinstance(node, nodes.Const):
        return node.value
    if isinstance(node, (nodes.List, nodes.Tuple)):
        items = [_constant(item, known) for item in node.items]
        if _UNKNOWN in items:
            return _UNKNOWN
        size = _size(items)
        known[_WORK] = known.get(_WORK, 0) + size  # (a review: 40 lists around a long one, each sized)
        if size > MAX_TEXT:  # (a thousand 'x' * 900000 in one list: 900 MB)
            raise _refuse(f"this list's items make more than {MAX_TEXT:,} characters")
        if known[_WORK] > MAX_WORK:
            raise TemplateLimitError(f"working this template's constants out goes through more than {MAX_WORK:,} items")
        return list(items) if isinstance(node, nodes.List) else tuple(items)
    if isinstance(node, nodes.Neg):
        value = _constant(node.node, known)
        return -value if isinstance(value, (int, float)) else _UNKNOWN
    operator = _OPERATORS.get(type(node)) if isinstance(node, nodes.BinExpr) else None
    if operator is None or not isinstance(node, nodes.BinExpr):
        return _UNKNOWN
    left, right = _constant(node.left, known), _constant(node.right, known)
    if left is _UNKNOWN or right is _UNKNOWN:
        return _UNKNOWN
    known[_WORK] = known.get(_WORK, 0) + check_binop(operator, left, right)
    if known[_WORK] > MAX_WORK:  # (as a rendering would be refused: 2,000 "+ []" after a long list)
        raise TemplateLimitError(f"working this template's constants out goes through more than {MAX_WORK:,} items")
    try:
        made = {
            "*": lambda: left * right,
            "**": lambda: left**right,
            "%": lambda: left % right,
            "+": lambda: left + right,
        }[operator]()
    except Exception:  # noqa: BLE001 - a type error: the rendering will say so
        return _UNKNOWN
    # (a "%r" nested in itself doubles its backslashes each time: refused as it grows, not after)
    if isinstance(made, (str, bytes)) and len(made) > MAX_TEXT:
        raise _refuse(f"this {operator} makes more than {MAX_TEXT:,} characters")
    return made


def static_problems(tree: nodes.Template) -> list[tuple[int, str]]:
    """(line, message) of what would break a limit whatever the data: constant expressions that are
    too large, too large numbers given to a call or filter, and macros that always call themselves."""
    problems: list[tuple[int, str]] = []
    known: dict[int, Any] = {}
    for node in tree.find_all((nodes.BinExpr, nodes.Call, nodes.Filter)):
        try:
            if isinstance(node, nodes.BinExpr):
                _constant(node, known)
            elif isinstance(node, (nodes.Call, nodes.Filter)):
                arguments = [*node.args, *(kw.value for kw in node.kwargs)]
                for argument in arguments:
                    value = _constant(argument, known)
                    if value is not _UNKNOWN:
                        _check_int(value, "the number")
                if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name == "range":
                    values = [_constant(a, known) for a in node.args]
                    if _UNKNOWN not in values and all(isinstance(v, int) for v in values) and values:
                        if len(range(*values)) > MAX_RANGE:
                            raise TemplateLimitError(f"range() of more than {MAX_RANGE:,} items")
        except (TemplateLimitError, ValueError, OverflowError) as exc:
            problems.append((node.lineno, str(exc)))
    for macro in tree.find_all(nodes.Macro):
        for call in _unconditional(macro.body, nodes.Call):
            if isinstance(call.node, nodes.Name) and call.node.name == macro.name:
                problems.append((call.lineno, f"the macro {macro.name}() always calls itself: it never ends"))
    return sorted(set(problems))


_CONDITIONAL = (nodes.If, nodes.CondExpr, nodes.For, nodes.Macro, nodes.CallBlock, nodes.And, nodes.Or)


def _unconditional(body: list[nodes.Node], kind: type | tuple[type, ...]) -> list[Any]:
    """Nodes of ``kind`` in ``body`` that run whenever the body runs (not under an if, a loop, a macro
    definition or the short-circuit side of ``and``/``or``)."""
    found, todo = [], list(body)
    while todo:
        node = todo.pop()
        if isinstance(node, kind):
            found.append(node)
        if isinstance(node, _CONDITIONAL):
            continue
        todo.extend(node.iter_child_nodes())
    return found


def unconditional_references(tree: nodes.Template) -> list[tuple[str, int]]:
    """(template name, line) of every constant ``include`` or ``extends`` that always runs."""
    found = []
    for node in _unconditional(tree.body, (nodes.Include, nodes.Extends)):
        name = _constant(node.template)
        if isinstance(name, str):
            found.append((name, node.lineno))
    return found
