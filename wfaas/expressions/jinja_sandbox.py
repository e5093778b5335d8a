"""The Jinja2 sandbox wfaas evaluates templates in.

Jinja's ``ImmutableSandboxedEnvironment`` already refuses access to Python
internals (``__class__``, ``__globals__`` ...) and mutation of lists / dicts.
It does not stop a template from asking for gigabytes (``'a' * 10**10``,
``'%1000000000d' % 1``, ``'x' | center(10**10)``) or from spinning on a huge
power (``9 ** 9 ** 9``). :class:`SafeEnvironment` refuses those: any size a
template asks for above the memory quota is a ``SecurityError``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from wfaas.expressions import deadline

#: Largest integer ``**`` may produce, in bits.
MAX_POWER_BITS = 100_000

#: str methods whose integer arguments are result sizes.
_SIZED_STR_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})

#: Built-in filters whose integer arguments are result sizes.
_SIZED_FILTERS = ("center", "indent", "wordwrap", "truncate")

_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0 +\-]*(\*|\d*)(?:\.(\*|\d*))?")
_BRACE_SPEC = re.compile(r"{[^{}]*?:([^{}]*)}")
_DIGITS = re.compile(r"\d+")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class SafeEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox with StrictUndefined and size limits (``memory_quota``)."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, memory_quota: int) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, trim_blocks=True,
                         lstrip_blocks=True, autoescape=False)
        self.memory_quota = memory_quota
        self.globals.pop("lipsum", None)
        for name in _SIZED_FILTERS:
            self.filters[name] = self._guard_filter(name, self.filters[name])
        self.filters["format"] = self._guard_format_filter(self.filters["format"])

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
        deadline.check()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        deadline.check()
        return super().getitem(obj, argument)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        deadline.check()
        if operator == "**" and _is_int(left) and _is_int(right):
            if right > 0 and abs(left) > 1 and right * abs(left).bit_length() > MAX_POWER_BITS:
                raise SecurityError("the result of ** would be too large")
        elif operator == "*" and self.memory_quota > 0:
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, bytes, list, tuple)) and _is_int(count):
                    if len(seq) * count > self.memory_quota:
                        raise SecurityError("the result of * would exceed the memory quota")
        elif operator == "%" and isinstance(left, str):
            values = right if isinstance(right, tuple) else (right,)
            self.check_format(left, braces=False, args=values)
        return super().call_binop(context, operator, left, right)

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
        deadline.check()
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
