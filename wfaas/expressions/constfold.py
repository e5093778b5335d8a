"""Constant sub-expressions of YAQL, computed once per parsed expression.

A subtree that reads no data (no ``$``, no variable, no receiver) and calls only
pure standard functions (:data:`PURE_FUNCTIONS`: ``range``, ``toList``, ``len``,
string functions, arithmetic ...) has the same value at every evaluation, e.g. the
``range(100).toList()`` of ``$.acc + range(100).toList()``. Its parse-tree node is
replaced by a :class:`FoldedNode` that evaluates it with yaql the first time, under
the running evaluation budget, and records what that cost: the fuel spent, the bytes
counted as built and the thread's CPU time. Later evaluations return the recorded
value and **charge that same cost again**, so the budget stops a folded expression
at every evaluation exactly as it stops the unfolded one (a failing first evaluation
records nothing: the next one evaluates, and fails, again).

The value is kept only when it is deeply immutable (scalars, tuples, frozensets,
yaql's ``FrozenDict``; never an iterator or a view over mutable data) and small
(:data:`MAX_FOLDED_ITEMS`), so nothing can mutate what later evaluations share and
the parse cache cannot be made to hold large values. The record is tied to the yaql
engine (its options: ``limitIterators``, ``memoryQuota``) and the budget's limits it
was made under; a reconfiguration makes the node evaluate afresh.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from yaql.language import expressions as yexpr
from yaql.language import utils as yaql_utils

from wfaas.expressions import budget
from wfaas.expressions.convert import ScalarTuple

#: yaql operators and functions whose result depends only on their arguments
#: (deterministic, no context, no clock, no randomness, no execution data).
PURE_FUNCTIONS = frozenset({
    "#indexer", "#list", "#map", "#operator_*", "#operator_+", "#operator_-",
    "#operator_.", "#operator_?.", "#operator_/", "#operator_<", "#operator_<=",
    "#operator_>", "#operator_>=", "#operator_and", "#operator_in", "#operator_mod",
    "#operator_or", "#unary_operator_+", "#unary_operator_-", "#unary_operator_not",
    "*equal", "*not_equal",
    "abs", "all", "any", "bool", "concat", "contains", "containsKey", "containsValue",
    "count", "dict", "difference", "distinct", "endsWith", "enumerate", "first",
    "flatten", "float", "format", "indexOf", "int", "intersect", "isBoolean", "isDict",
    "isEmpty", "isInteger", "isIterable", "isList", "isNumber", "isSet", "isString",
    "items", "join", "keys", "last", "len", "list", "max", "min", "pow", "range",
    "replace", "reverse", "round", "sequence", "set", "shiftBitsLeft", "shiftBitsRight",
    "sign", "skip", "slice", "split", "startsWith", "str", "substring", "sum", "take",
    "toDict", "toList", "toLower", "toSet", "toUpper", "trim", "trimLeft", "trimRight",
    "union", "values", "zip",
})

#: Expression functions of wfaas that are pure too (kept only while the registered
#: function is wfaas's own, see :func:`pure_names`).
PURE_PLUGIN_FUNCTIONS = frozenset({"json_dump"})

#: A folded value with more items (collection items and string characters / 8
#: counted together, nested collections included) is not kept.
MAX_FOLDED_ITEMS = 4096

_UNKEPT = object()  # the record's value when it may not be kept

#: A folded constant that took longer looks at the clock on every replay.
_SLOW_SECONDS = 0.001

_SCALARS = frozenset({str, int, float, bool, type(None), bytes})


def pure_names(plugins: dict[str, Any]) -> frozenset[str]:
    """:data:`PURE_FUNCTIONS` minus the names a plugin function shadows, plus the pure
    wfaas functions still registered as wfaas's own (``plugins``: name -> loaded function)."""
    from wfaas.expressions import functions as own  # the plugin module, imported late

    names = PURE_FUNCTIONS.difference(plugins)
    for name in PURE_PLUGIN_FUNCTIONS:
        loaded = plugins.get(name)
        if loaded is not None and loaded.func is getattr(own, name + "_", None):
            names = names | {name}
    return names


def is_constant(node: Any, pure: frozenset[str]) -> bool:
    """Whether ``node`` has the same value at every evaluation (see the module doc)."""
    kind = type(node)
    if kind is yexpr.Constant or kind is yexpr.KeywordConstant:
        return True
    if kind is yexpr.Wrap:
        return is_constant(node.expr, pure)
    if kind is yexpr.MappingRuleExpression:
        return is_constant(node.source, pure) and is_constant(node.destination, pure)
    if not isinstance(node, yexpr.Function) or kind is yexpr.GetContextValue:
        return False
    if node.name not in pure:
        return False
    if node.name in ("#operator_.", "#operator_?."):
        receiver, method = node.args
        # the method is called on the receiver: its own arguments must be constant
        if type(method) is yexpr.Function:
            return (method.name in pure and is_constant(receiver, pure)
                    and all(is_constant(arg, pure) for arg in method.args))
        return type(method) is yexpr.KeywordConstant and is_constant(receiver, pure)
    return all(is_constant(arg, pure) for arg in node.args)


def _small_immutable(value: Any, room: list[int]) -> bool:
    """Whether ``value`` is deeply immutable and fits in ``room[0]`` items (spent)."""
    kind = type(value)
    if kind in _SCALARS:
        room[0] -= 1 + (len(value) // 8 if kind is str or kind is bytes else 0)
        return room[0] >= 0
    if kind is tuple or kind is frozenset or kind is ScalarTuple:
        room[0] -= 1 + len(value)
        return room[0] >= 0 and all(_small_immutable(item, room) for item in value)
    if kind is yaql_utils.FrozenDict:  # exactly: a FrozenView wraps mutable data
        room[0] -= 1 + len(value)
        return room[0] >= 0 and all(
            _small_immutable(k, room) and _small_immutable(v, room)
            for k, v in value.items())
    return False


def keepable(value: Any) -> bool:
    """Whether a folded value may be kept and shared by later evaluations."""
    try:
        return _small_immutable(value, [MAX_FOLDED_ITEMS])
    except RecursionError:  # nested deeper than worth keeping
        return False


def _kept(value: Any) -> Any:
    """What a record keeps of a folded ``value``: the value (an all-scalar tuple marked
    as such), or :data:`_UNKEPT`."""
    if not keepable(value):
        return _UNKEPT
    if type(value) is tuple and all(type(item) in _SCALARS for item in value):
        return ScalarTuple(value)
    return value


class _Record:
    """What the first evaluation of a folded node produced and cost."""

    __slots__ = ("engine", "limits", "value", "fuel", "built", "seconds")

    def __init__(self, engine: Any, limits: budget.Limits, value: Any, fuel: int,
                 built: int, seconds: float) -> None:
        self.engine = engine
        self.limits = limits
        self.value = value
        self.fuel = fuel
        self.built = built
        self.seconds = seconds





class FoldedNode(yexpr.Expression):  # type: ignore[misc]
    """A constant subtree: evaluated once, then replayed with its recorded cost."""

    def __init__(self, original: Any, evaluate: Callable[[Any, Any, Any], Any]) -> None:
        self.original = original
        self.evaluate = evaluate
        self.uses_receiver = False
        self.record: _Record | None = None

    def __call__(self, receiver: Any, context: Any, engine: Any) -> Any:
        found = budget.current()
        if found is None:  # nothing to charge a replay to: evaluate
            return self.evaluate(yaql_utils.NO_VALUE, context, engine)
        record = self.record
        if record is not None and record.engine is engine and record.limits is found.limits:
            if record.value is _UNKEPT:
                return self.evaluate(yaql_utils.NO_VALUE, context, engine)
            _replay(found, record)
            return record.value
        return self._first(found, context, engine)

    def _first(self, found: budget.Budget, context: Any, engine: Any) -> Any:
        fuel, built, started = found.fuel, found.built, time.thread_time()
        value = self.evaluate(yaql_utils.NO_VALUE, context, engine)
        spent = 0 if fuel == math.inf else int(fuel - found.fuel)
        kept = _kept(value)
        self.record = _Record(engine, found.limits, kept, spent, found.built - built,
                              time.thread_time() - started)
        return value

    def __str__(self) -> str:
        return str(self.original)


def _replay(found: budget.Budget, record: _Record) -> None:
    """Charge ``found`` what the recorded evaluation cost (raises as it would have):
    its fuel, its bytes built, and its time: the CPU time of this thread (waiting for
    the GIL is not the expression's) brings the wall-clock deadline that much closer."""
    found.deadline -= record.seconds
    if record.fuel:
        found.charge(record.fuel)
    if record.built:
        found.add_built(record.built)
    if record.seconds > _SLOW_SECONDS:
        found.check_time()
