"""The Jinja2 sandbox wfaas evaluates templates in.

Jinja's ``ImmutableSandboxedEnvironment`` already refuses access to Python
internals (``__class__``, ``__globals__`` ...) and mutation of lists / dicts.
It does not stop a template from asking for gigabytes (``'a' * 10**10``,
``'%1000000000d' % 1``, ``'x' | center(10**10)``) or from spinning on a huge
power (``9 ** 9 ** 9``). :class:`SafeEnvironment` refuses those: any size a
template asks for above the memory quota is a ``SecurityError``.

It also runs every template under the evaluation budget
(:mod:`wfaas.expressions.budget`): each ``{% for %}`` iteration, call,
attribute access, operator and filter spends fuel and looks at the deadline;
``*``, ``+``, ``~``, ``join``, ``replace`` and the other building filters have
their results measured (before building them where the size is known), and so
has the rendered text.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from wfaas.expressions import budget

#: Largest integer ``**`` may produce, in bits, when no evaluation budget runs.
MAX_POWER_BITS = 100_000

#: Filters whose results are new values (counted towards the evaluation's total).
_BUILDING_FILTERS = frozenset({
    "join", "replace", "string", "format", "center", "indent", "wordwrap", "truncate",
    "list", "map", "select", "reject", "selectattr", "rejectattr", "upper", "lower", "title",
    "capitalize", "trim", "striptags", "urlencode", "tojson", "reverse", "sort", "unique",
    "batch", "slice", "dictsort", "groupby", "items", "filesizeformat", "xmlattr", "sum",
    "urlize", "escape", "e", "forceescape",
})

#: str methods whose integer arguments are result sizes.
_SIZED_STR_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})

#: Built-in filters whose integer arguments are result sizes.
_SIZED_FILTERS = ("center", "indent", "wordwrap", "truncate")

_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0 +\-]*(\*|\d*)(?:\.(\*|\d*))?")
_BRACE_SPEC = re.compile(r"{[^{}]*?:([^{}]*)}")
_DIGITS = re.compile(r"\d+")
_NUMBERS = frozenset({int, float})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _BudgetCodeGenerator(CodeGenerator):
    """Jinja's code generator, with loops and ``~`` going through the budget."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        node = copy.copy(node)
        node.iter = nodes.Call(nodes.EnvironmentAttribute("budget_iterate"), [node.iter],
                               [], None, None, lineno=node.lineno)
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.budget_value(")
        super().visit_Concat(node, frame)
        self.write(")")


def _render_concat(pieces: Iterable[str]) -> str:
    """Join rendered pieces, measuring the text as it grows."""
    found = budget.current()
    if found is None:
        return "".join(pieces)
    limit = found.limits.max_value_bytes
    collected: list[str] = []
    append = collected.append
    total = 0
    for piece in pieces:
        total += len(piece)
        append(piece)
        if 0 < limit < total:
            found.check_size(total, "the rendered text")
    found.add_built(total)
    return "".join(collected)


def _join_size(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[int, list[Any]] | None:
    """(size, materialised items) of ``join(value, d='')``, or None if not a sequence."""
    value = args[0] if args else None
    if not isinstance(value, (list, tuple, str, range)) and not hasattr(value, "__next__"):
        return None
    items = list(budget.iterate(value))  # type: ignore[arg-type]
    separator = args[1] if len(args) > 1 else kwargs.get("d", "")
    size = sum(len(item) if isinstance(item, str) else 8 for item in items)
    if isinstance(separator, str):
        size += len(separator) * len(items)
    return size, items


def _replace_size(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int | None:
    if len(args) < 3 or not all(isinstance(a, str) for a in args[:3]):
        return None
    text, old, new = args[:3]
    if len(new) <= len(old):
        return len(text)
    count = text.count(old) if old else len(text) + 1
    limit = args[3] if len(args) > 3 else kwargs.get("count")
    if isinstance(limit, int) and limit >= 0:
        count = min(count, limit)
    return len(text) + count * (len(new) - len(old))


class SafeEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox with StrictUndefined, size limits and the evaluation budget."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})
    code_generator_class = _BudgetCodeGenerator

    def __init__(self, memory_quota: int) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, trim_blocks=True,
                         lstrip_blocks=True, autoescape=False)
        self.memory_quota = memory_quota
        self.globals.pop("lipsum", None)
        self.concat = _render_concat  # type: ignore[method-assign]
        for name in _SIZED_FILTERS:
            self.filters[name] = self._guard_filter(name, self.filters[name])
        self.filters["format"] = self._guard_format_filter(self.filters["format"])
        for name in list(self.filters):
            self.filters[name] = self.budget_filter(name, self.filters[name])

    @staticmethod
    def budget_iterate(items: Any) -> Any:
        """A ``{% for %}`` loop's iterable, spending fuel per item."""
        if isinstance(items, jinja2.Undefined):
            return items
        return budget.iterate(items)

    @staticmethod
    def budget_value(value: Any) -> Any:
        """A value a template built (``~``): measured and counted."""
        return budget.charge_value(value)

    def budget_filter(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func`` (the filter ``name``) spending fuel and measuring its result."""
        skip = 1 if hasattr(func, "jinja_pass_arg") else 0  # the context / environment
        measure = budget.charge_value if name in _BUILDING_FILTERS else budget.check_value

        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            budget.tick()
            if name == "join":
                found = _join_size(args[skip:], kwargs)
                if found is not None:
                    budget.precheck(found[0], "a joined string")
                    args = (*args[:skip], found[1], *args[skip + 1:])
            elif name == "replace":
                size = _replace_size(args[skip:], kwargs)
                if size is not None:
                    budget.precheck(size, "a replaced string")
            return measure(func(*args, **kwargs))
        return guarded

    def check_size(self, values: Iterable[Any], what: str) -> None:
        """Refuse any integer in ``values`` above the memory quota."""
        quota = self.memory_quota
        if quota > 0:
            for value in values:
                if _is_int(value) and value > quota:
                    raise SecurityError(f"{what} would exceed the memory quota")

    def check_format(self, fmt: str, braces: bool, args: Iterable[Any] = ()) -> None:
        """Refuse a format string whose widths / precisions exceed the memory quota."""
        quota = self.memory_quota
        if quota <= 0:
            return
        if braces:
            numbers = [n for spec in _BRACE_SPEC.findall(fmt) for n in _DIGITS.findall(spec)]
            if ":{" in fmt:  # a width taken from the arguments
                self.check_size(args, "a format width")
        else:
            groups = [g for m in _PERCENT_SPEC.finditer(fmt) for g in m.groups() if g]
            numbers = [g for g in groups if g != "*"]
            if "*" in groups:
                self.check_size(args, "a format width")
        for number in numbers:
            if len(number) > len(str(quota)) or int(number) > quota:
                raise SecurityError("a format width would exceed the memory quota")

    def getattr(self, obj: Any, attribute: str) -> Any:
        budget.tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        budget.tick()
        return super().getitem(obj, argument)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget.tick()
        if operator == "+" and type(left) in _NUMBERS and type(right) in _NUMBERS:
            return left + right  # the common case, cheap: a sum grows by one bit at most
        if operator == "**" and _is_int(left) and _is_int(right):
            found = budget.current()
            bits = found.limits.max_int_bits if found is not None else MAX_POWER_BITS
            if right > 0 and abs(left) > 1 and right * abs(left).bit_length() > bits > 0:
                raise SecurityError(f"the result of ** would be too large (over {bits} bits, "
                                    "[expressions] max_int_bits)")
        elif operator == "*":
            self._check_repeat(left, right)
        elif operator == "+" and isinstance(left, (str, list, tuple)) \
                and isinstance(right, (str, list, tuple)):
            budget.precheck(budget.size_of(left) + budget.size_of(right), "a concatenation")
        elif operator == "%" and isinstance(left, str):
            values = right if isinstance(right, tuple) else (right,)
            self.check_format(left, braces=False, args=values)
        return budget.charge_value(super().call_binop(context, operator, left, right))

    def _check_repeat(self, left: Any, right: Any) -> None:
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, (str, bytes, list, tuple)) and _is_int(count):
                if self.memory_quota > 0 and len(seq) * count > self.memory_quota:
                    raise SecurityError("the result of * would exceed the memory quota")
                budget.precheck(budget.size_of(seq) * count, "a repeated value")
        if _is_int(left) and _is_int(right):
            budget.precheck((left.bit_length() + right.bit_length()) // 8, "a product")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapper = super().wrap_str_format(value)
        if wrapper is None:
            return None
        fmt: str = value.__self__
        inner = wrapper

        def checked(*args: Any, **kwargs: Any) -> str:
            self.check_format(fmt, braces=True, args=(*args, *kwargs.values()))
            return inner(*args, **kwargs)
        return checked

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget.tick()
        if (getattr(__obj, "__name__", None) in _SIZED_STR_METHODS
                and isinstance(getattr(__obj, "__self__", None), str)):
            __self.check_size((*args, *kwargs.values()), f"str.{__obj.__name__}()")
        return super().call(__context, __obj, *args, **kwargs)

    def _guard_filter(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        skip = 2 if hasattr(func, "jinja_pass_arg") else 1  # (context,) value

        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            self.check_size((*args[skip:], *kwargs.values()), f"the {name} filter")
            return func(*args, **kwargs)
        return guarded

    def _guard_format_filter(self, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def guarded(value: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(value, str):
                self.check_format(value, braces=False, args=(*args, *kwargs.values()))
            return func(value, *args, **kwargs)
        return guarded
