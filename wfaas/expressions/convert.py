"""Data conversion at the boundary of the evaluators.

YAQL wants immutable, hashable input (``FrozenDict`` / tuples). Converting a
whole workflow context for every evaluation would cost time proportional to
its size, so :func:`to_yaql` wraps mappings in a lazy :class:`FrozenView` that
converts a value only when the expression reads it. :func:`to_plain` turns any
result (YAQL's frozen types, tuples, sets, generators) into fresh JSON-able
dicts and lists, so a result never aliases the caller's data.
"""

from __future__ import annotations

import collections.abc  # noqa: F401  (yaql needs collections.abc imported first)
from collections.abc import Iterable, Iterator, Mapping, Set
from typing import Any

from jinja2 import Undefined
from yaql.language import utils as yaql_utils

from wfaas.expressions import budget

_SCALARS = (str, int, float, bool, type(None))
_SCALAR_TYPES = frozenset(_SCALARS)


def _all_scalars(items: Any) -> bool:
    """True when every item of a list/tuple is a plain scalar (checked in C, not per item
    in Python: a published list of 100k ints is copied at memcpy speed)."""
    return set(map(type, items)) <= _SCALAR_TYPES


class ScalarTuple(tuple):  # type: ignore[type-arg]
    """A tuple built from items all known to be plain scalars (no check needed again).

    :func:`to_yaql` makes one of an all-scalar list, the fast path's ``+`` of two of
    them is one, and :func:`to_plain` copies one to a list without looking at every
    item: a published list growing by a few items per task is not scanned twice per
    task. It is an ordinary tuple to yaql.
    """

    __slots__ = ()


#: Up to this many items, :func:`known_scalars` looks at an unmarked tuple's items.
SHORT_TUPLE = 64


def known_scalars(value: tuple[Any, ...]) -> bool:
    """Whether ``value`` is a :class:`ScalarTuple` or a short tuple of scalars."""
    return type(value) is ScalarTuple or (len(value) <= SHORT_TUPLE and _all_scalars(value))


class CollectionTooLarge(Exception):
    """A result collection has more items than the iteration limit allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"Collection length exceeds {limit} elements")
        self.limit = limit


class FrozenView(yaql_utils.FrozenDict):  # type: ignore[misc]
    """A read-only, hashable mapping over a plain mapping, converting values lazily."""

    def __init__(self, raw: Mapping[Any, Any]) -> None:  # no super(): nothing to copy
        self._raw = raw
        self._cache: dict[Any, Any] = {}
        self._hash = None

    @property
    def _d(self) -> dict[Any, Any]:
        """The fully converted dict (what yaql's ``FrozenDict`` keeps)."""
        return {key: self[key] for key in self._raw}

    @property
    def raw(self) -> Mapping[Any, Any]:
        """The wrapped mapping."""
        return self._raw

    def __iter__(self) -> Iterator[Any]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, key: object) -> bool:
        try:
            return key in self._raw
        except TypeError:
            return False

    def __getitem__(self, key: Any) -> Any:
        cache = self._cache
        try:
            return cache[key]
        except KeyError:
            pass
        value = to_yaql(self._raw[key])
        cache[key] = value
        return value

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if key in self else default

    def __repr__(self) -> str:
        return repr(self._raw)


def to_yaql(value: Any) -> Any:
    """``value`` as YAQL expects its input (like ``convert_input_data``, but lazy)."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, yaql_utils.FrozenDict):
        return value
    if isinstance(value, Mapping):
        return FrozenView(value)
    if isinstance(value, (list, tuple)):
        if type(value) is ScalarTuple:
            return value
        if _all_scalars(value):
            return ScalarTuple(value)
        return tuple([to_yaql(item) for item in value])
    if isinstance(value, Set):
        return frozenset(to_yaql(item) for item in value)
    return value


def _check_size(size: int, limit: int) -> None:
    if 0 <= limit < size:
        raise CollectionTooLarge(limit)


def _plain_iter(items: Iterable[Any], limit: int, sized_limit: int) -> list[Any]:
    if isinstance(items, range):
        _check_size(len(items), limit)
        return list(items)
    result = []
    for index, item in enumerate(budget.iterate(items)):
        if 0 <= limit <= index:
            raise CollectionTooLarge(limit)
        result.append(to_plain(item, limit, sized_limit))
    return result


def to_plain(value: Any, limit: int = -1, sized_limit: int = -1) -> Any:
    """A fresh JSON-able copy of ``value``: dicts and lists, sets/tuples as lists.

    ``limit`` caps how many items an iterator may yield; ``sized_limit`` caps
    the length of concrete collections (-1: no cap). A Jinja ``Undefined``
    anywhere raises its undefined error.
    """
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, FrozenView):
        value = value.raw
    if isinstance(value, Mapping):
        _check_size(len(value), sized_limit)
        return {k: to_plain(v, limit, sized_limit) for k, v in value.items()}
    if isinstance(value, (list, tuple, Set)):
        _check_size(len(value), sized_limit)
        if type(value) is ScalarTuple or _all_scalars(value):
            return list(value)
        return [to_plain(item, limit, sized_limit) for item in value]
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if isinstance(value, (bytes, bytearray)):
        return value
    if isinstance(value, Iterable) and not hasattr(value, "__yaql_object__"):
        return _plain_iter(value, limit, sized_limit)
    return value
