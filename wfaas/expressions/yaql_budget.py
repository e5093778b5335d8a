"""The evaluation budget inside yaql (see :mod:`wfaas.expressions.budget`).

yaql's own options cover part of the problem: ``yaql.limitIterators`` caps the
items of *one* iterator and ``yaql.memoryQuota`` the shallow ``sys.getsizeof``
of each function result, so ``range(3000).select(range(3000).toList())``
(9 million items in lists of 3,000), repeated ``x * x`` from ``10**20000``,
``'x'.replace('x', <10 MB>)`` on a long string or thousands of 9 MB strings
all pass. Here:

- every item an iterator argument yields spends fuel (yaql's
  ``limit_iterable`` is wrapped; it only acts while a budget runs), and yaql
  reads the engine options before every function call, which spends fuel too
  (see ``yaql_lang._GuardedOptions``);
- the functions and operators that build strings, collections and integers
  (``*``, ``+``, ``join``, ``replace``, ``format``, ``concat``, ``toList``,
  ``dict``, ``sum`` ...) are wrapped in the root context: sizes that can be
  known first are checked before building (``replace``, ``join``, ``*``),
  and every result is measured and counted towards the evaluation's total.
"""

from __future__ import annotations

import collections.abc  # noqa: F401  (yaql needs collections.abc imported first)
import functools
import inspect
from collections.abc import Callable, Mapping, Sequence, Set
from typing import Any

from yaql.language import utils as yaql_utils

from wfaas.expressions import budget

#: yaql functions whose results are new values to measure.
BUILDERS = frozenset({
    "#operator_*", "#operator_+", "join", "replace", "format", "concat", "toList", "list",
    "dict", "toDict", "str", "toUpper", "toLower", "sum", "flatten", "selectMany",
    "aggregate", "set", "toSet", "mergeWith", "repeat", "replaceBy", "insert",
    "appendAll", "insertMany", "append",
})

_original_limit_iterable = yaql_utils.limit_iterable


def _limit_iterable(iterable: Any, limit_or_engine: Any) -> Any:
    """yaql's ``limit_iterable``, spending fuel per item while a budget runs."""
    limited = _original_limit_iterable(iterable, limit_or_engine)
    if budget.current() is None or isinstance(limited, (Sequence, Mapping, Set)):
        return limited
    return budget.iterate(limited)


def install() -> None:
    """Make yaql's iterator limiting spend fuel (idempotent)."""
    yaql_utils.limit_iterable = _limit_iterable


def _replace_size(arguments: Mapping[str, Any]) -> int | None:
    string, old, new = (arguments.get(k) for k in ("string", "old", "new"))
    if not (isinstance(string, str) and isinstance(old, str) and isinstance(new, str)):
        return None
    if len(new) <= len(old):
        return len(string)
    count = string.count(old) if old else len(string) + 1
    limit = arguments.get("count", -1)
    if isinstance(limit, int) and limit >= 0:
        count = min(count, limit)
    return len(string) + count * (len(new) - len(old))


def _repeat_size(arguments: Mapping[str, Any]) -> int | None:
    left, right = arguments.get("left"), arguments.get("right")
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
            return budget.size_of(seq) * max(times, 0)
    if isinstance(left, int) and isinstance(right, int):  # a product has about this many bits
        return (left.bit_length() + right.bit_length()) // 8
    return None


def _guard_join(func: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(func)

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        items = list(budget.iterate(bound.arguments["sequence"]))
        separator = bound.arguments.get("separator") or ""
        size = sum(len(item) if isinstance(item, str) else 8 for item in items)
        budget.precheck(size + len(separator) * len(items), "a joined string")
        bound.arguments["sequence"] = items
        return budget.charge_value(func(*bound.args, **bound.kwargs))
    return guarded


def _guard(func: Callable[..., Any], size: Callable[[Mapping[str, Any]], int | None] | None,
           what: str) -> Callable[..., Any]:
    """``func`` checking the size of its result (and, with ``size``, before building it)."""
    signature = inspect.signature(func) if size is not None else None

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if signature is not None and size is not None:
            try:
                arguments = signature.bind(*args, **kwargs).arguments
            except TypeError:
                arguments = {}
            expected = size(arguments)
            if expected is not None:
                budget.precheck(expected, what)
        return budget.charge_value(func(*args, **kwargs))
    return guarded


def _guarded_payload(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    if name == "join":
        params = inspect.signature(func).parameters
        if "sequence" in params and "separator" in params:
            return _guard_join(func)
    if name == "replace":
        return _guard(func, _replace_size, "a replaced string")
    if name == "#operator_*":
        return _guard(func, _repeat_size, "a repeated value")
    return _guard(func, None, "a value")


def guard_builders(context: Any) -> None:
    """Wrap the value-building functions defined in ``context`` and its parents."""
    while context is not None:
        functions: dict[str, set[Any]] = getattr(context, "_functions", {})
        for name in BUILDERS:
            for definition in functions.get(name, ()):
                if not getattr(definition.payload, "__wfaas_guarded__", False):
                    payload = _guarded_payload(name, definition.payload)
                    payload.__wfaas_guarded__ = True  # type: ignore[attr-defined]
                    definition.payload = payload
        context = context.parent
