"""A fast evaluator for the simplest, most common YAQL operations.

YAQL resolves every operator by trying each overload against its arguments,
which costs tens of microseconds per operator. Most expressions in workflows
are data lookups and simple arithmetic or comparisons (``$.x``,
``$.a.b[0]``, ``$.n + 1``, ``$.state = 'OK' and not $.done``). This module
compiles such operations (from yaql's own parse tree) into Python closures.
Each closure applies yaql's semantics only to the operand types where they are
unambiguous (numbers, strings, scalars, dicts, lists); for other operand values
it hands the values it already computed to yaql (:class:`ValueNode`), so the
result - or the error - is exactly yaql's and nothing is evaluated twice.
Outside a yaql context (a whole expression evaluated without yaql) it raises
:class:`Fallback` instead and the caller evaluates the expression with yaql.
Of the functions only ``len()`` and ``.get()`` are implemented here; inside
yaql, other calls are "opaque" operands that yaql evaluates.
"""

from __future__ import annotations

import collections.abc  # noqa: F401  (yaql needs collections.abc imported first)
import copy
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from yaql.language import expressions as yexpr
from yaql.language import utils as yaql_utils

from wfaas.expressions import budget
from wfaas.expressions.convert import ScalarTuple, known_scalars, to_yaql

Compiled = Callable[["Frame"], Any]
#: ``slow(frame, *operand_values)``: the operation done by yaql on those values.
Slow = Callable[..., Any]
#: Turns a subtree the fast path cannot compile into a closure (or None: give up).
Opaque = Callable[[Any], "Compiled | None"]

#: yaql functions the fast path implements (unless a plugin function shadows them).
FAST_FUNCTIONS = frozenset({"len", "get"})

_SCALAR_TYPES = (str, int, float, bool, type(None))
_SIZED = (str, list, tuple, Mapping, set, frozenset)
_NO = object()  # an operator's "not for these operand types"
_MISSING = object()


class Fallback(Exception):
    """The fast path cannot decide this case; evaluate with yaql instead."""


class Frame:
    """What a compiled closure evaluates against: ``$`` and, inside yaql, its context."""

    __slots__ = ("data", "context", "engine")

    def __init__(self, data: Any, context: Any = None, engine: Any = None) -> None:
        self.data = data
        self.context = context
        self.engine = engine


class ValueNode(yexpr.Expression):  # type: ignore[misc]
    """A parse-tree leaf standing for an operand value the fast path computed."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self.uses_receiver = False

    def __call__(self, receiver: Any, context: Any, engine: Any) -> Any:
        return self.value

    def __str__(self) -> str:
        return repr(self.value)


def yaql_value(value: Any) -> Any:
    """A fast-path value as yaql expects it (what it was built from already is one)."""
    if type(value) is dict:
        return yaql_utils.FrozenDict(value)
    if isinstance(value, (dict, list, set)):
        return to_yaql(value)
    return value


def _with_args(node: Any, args: Sequence[Any]) -> Any:
    new = copy.copy(node)
    new.args = tuple(args)
    return new


def _slow(build: Callable[[list[ValueNode]], Any]) -> Slow:
    """``slow`` for the node ``build`` makes from value leaves."""
    def apply(frame: Frame, *values: Any) -> Any:
        if frame.context is None:
            raise Fallback
        node = build([ValueNode(yaql_value(v)) for v in values])
        return node(yaql_utils.NO_VALUE, frame.context, frame.engine)
    return apply


# -- operators (return _NO when the operand types are not theirs) ----------

def _is_number(value: Any) -> bool:
    return (type(value) is int or type(value) is float
            or (isinstance(value, (int, float)) and not isinstance(value, bool)))


def _numbers(left: Any, right: Any) -> bool:
    return _is_number(left) and _is_number(right)


def _strings(left: Any, right: Any) -> bool:
    return isinstance(left, str) and isinstance(right, str)


def _plus(left: Any, right: Any) -> Any:
    if _numbers(left, right) or _strings(left, right):
        return left + right
    if isinstance(left, tuple) and isinstance(right, tuple):
        return _concatenate(left, right)
    return _NO


def _concatenate(left: tuple[Any, ...], right: tuple[Any, ...]) -> Any:
    """yaql's ``+`` of two lists (``combine_lists``: tuples inside yaql), done only while
    an evaluation budget runs: the result's size is checked before it is built (the
    caller, :class:`~wfaas.expressions.yaql_lang._FastNode`, counts it as built)."""
    found = budget.current()
    if found is None:  # not inside yaql: yaql evaluates it (under a budget)
        return _NO
    found.check_size(8 * (len(left) + len(right)), "a concatenated list")
    if known_scalars(left) and known_scalars(right):  # `$.acc + [$.x]` stays marked
        return ScalarTuple(left + right)
    return left + right


def _arith(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def apply(left: Any, right: Any) -> Any:
        if _numbers(left, right):
            try:
                return op(left, right)
            except ArithmeticError:  # let yaql raise its own error
                return _NO
        return _NO
    return apply


def _divide(left: Any, right: Any) -> Any:
    if _numbers(left, right) and right != 0:
        if isinstance(left, int) and isinstance(right, int):
            return left // right
        return left / right
    return _NO


def _compare(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Any]:
    def apply(left: Any, right: Any) -> Any:
        if _numbers(left, right) or _strings(left, right):
            return op(left, right)
        return _NO
    return apply


def _equality(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Any]:
    def apply(left: Any, right: Any) -> Any:
        if isinstance(left, _SCALAR_TYPES) and isinstance(right, _SCALAR_TYPES):
            return op(left, right)
        return _NO
    return apply


def _contains(left: Any, right: Any) -> Any:
    if _strings(left, right):
        return left in right
    if isinstance(left, _SCALAR_TYPES) and isinstance(right, (list, tuple)) and all(
            isinstance(item, _SCALAR_TYPES) for item in right):
        return left in right
    return _NO


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "#operator_+": _plus,
    "#operator_-": _arith(operator.sub),
    "#operator_*": _arith(operator.mul),
    "#operator_/": _divide,
    "#operator_mod": _arith(operator.mod),
    "#operator_<": _compare(operator.lt),
    "#operator_<=": _compare(operator.le),
    "#operator_>": _compare(operator.gt),
    "#operator_>=": _compare(operator.ge),
    "*equal": _equality(operator.eq),
    "*not_equal": _equality(operator.ne),
    "#operator_in": _contains,
}


def _negate(value: Any) -> Any:
    return -value if _is_number(value) else _NO


def _positive(value: Any) -> Any:
    return value if _is_number(value) else _NO


def _length(value: Any) -> Any:
    return len(value) if isinstance(value, _SIZED) else _NO


_UNARY: dict[str, Callable[[Any], Any]] = {
    "#unary_operator_-": _negate,
    "#unary_operator_+": _positive,
}


# -- closures ----------------------------------------------------------------

def _constant(value: Any) -> Compiled | None:
    if isinstance(value, _SCALAR_TYPES):
        return lambda frame: value
    return None


def _data(frame: Frame) -> Any:
    return frame.data


def _apply1(op: Callable[[Any], Any], arg: Compiled, slow: Slow) -> Compiled:
    def run(frame: Frame) -> Any:
        value = arg(frame)
        result = op(value)
        return slow(frame, value) if result is _NO else result
    return run


def _apply2(op: Callable[[Any, Any], Any], left: Compiled, right: Compiled,
            slow: Slow) -> Compiled:
    def run(frame: Frame) -> Any:
        a, b = left(frame), right(frame)
        result = op(a, b)
        return slow(frame, a, b) if result is _NO else result
    return run


def _attribute(left: Compiled, key: str, slow: Slow) -> Compiled:
    def get(frame: Frame) -> Any:
        obj = left(frame)
        if isinstance(obj, Mapping):
            try:
                return obj[key]
            except KeyError:
                pass
        return slow(frame, obj)
    return get


def _index(obj: Any, key: Any) -> Any:
    try:
        if isinstance(obj, Mapping) and isinstance(key, _SCALAR_TYPES):
            return obj[key]
        if isinstance(obj, (list, tuple)) and type(key) is int:
            return obj[key]
    except (KeyError, IndexError):
        pass
    return _NO


def _get(receiver: Compiled, key: Compiled, default: Compiled | None, slow: Slow) -> Compiled:
    def get(frame: Frame) -> Any:
        # yaql evaluates every argument (the default too) before the call.
        obj, name = receiver(frame), key(frame)
        rest = () if default is None else (default(frame),)
        if isinstance(obj, Mapping):
            try:
                found = obj.get(name, _MISSING)
            except TypeError:  # an unhashable key
                found = _NO
            if found is _MISSING:
                return rest[0] if rest else None
            if found is not _NO:
                return found
        return slow(frame, obj, name, *rest)
    return get


def _list(items: list[Compiled]) -> Compiled:
    return lambda frame: tuple([item(frame) for item in items])


def _map(pairs: list[tuple[Compiled, Compiled]], slow: Slow) -> Compiled:
    def build(frame: Frame) -> Any:
        values = [(key(frame), value(frame)) for key, value in pairs]
        try:
            return dict(values)
        except TypeError:  # an unhashable key: let yaql report it
            return slow(frame, *(v for pair in values for v in pair))
    return build


# -- the compiler ------------------------------------------------------------

class _Compiler:
    """Compiles yaql parse trees; ``opaque`` handles what it cannot compile."""

    def __init__(self, opaque: Opaque, functions: frozenset[str]) -> None:
        self.opaque = opaque
        self.functions = functions

    def compile(self, node: Any) -> Compiled | None:
        kind = type(node)
        if kind is yexpr.Constant:
            return _constant(node.value)
        if kind is yexpr.Wrap:
            return self.compile(node.expr)
        if kind is yexpr.GetContextValue:
            return _data if node.path.value == "$" else None
        if kind is yexpr.ListExpression:
            return self.list_literal(node)
        if kind is yexpr.MapExpression:
            return self.map_literal(node)
        if kind is yexpr.BinaryOperator:
            return self.binary(node)
        if kind is yexpr.UnaryOperator:
            return self.unary(node)
        if kind is yexpr.IndexExpression and len(node.args) == 2:
            left, index = self.operand(node.args[0]), self.operand(node.args[1])
            if left is None or index is None:
                return None
            return _apply2(_index, left, index, _slow(lambda v: _with_args(node, v)))
        if (kind is yexpr.Function and node.name == "len" and "len" in self.functions
                and len(node.args) == 1):
            arg = self.operand(node.args[0])
            if arg is None:
                return None
            return _apply1(_length, arg, _slow(lambda v: _with_args(node, v)))
        return None

    def operand(self, node: Any) -> Compiled | None:
        compiled = self.compile(node)
        if compiled is None and type(node) is not yexpr.KeywordConstant:
            compiled = self.opaque(node)
        return compiled

    def argument(self, node: Any) -> Compiled | None:
        """A function argument: a bare keyword is its name (``get(key)``)."""
        if type(node) is yexpr.KeywordConstant:
            return _constant(node.value)
        if type(node) is yexpr.MappingRuleExpression:
            return None
        return self.operand(node)

    def unary(self, node: Any) -> Compiled | None:
        arg = self.operand(node.args[0])
        if arg is None:
            return None
        if node.name == "#unary_operator_not":
            return lambda frame: not arg(frame)
        op = _UNARY.get(node.name)
        if op is None:
            return None
        return _apply1(op, arg, _slow(lambda v: _with_args(node, v)))

    def binary(self, node: Any) -> Compiled | None:
        left_node, right_node = node.args
        if node.name == "#operator_.":
            return self.dot(node, left_node, right_node)
        if node.name not in _BINARY and node.name not in ("#operator_and", "#operator_or"):
            return None
        left, right = self.operand(left_node), self.operand(right_node)
        if left is None or right is None:
            return None
        if node.name == "#operator_and":
            return lambda frame: left(frame) and right(frame)
        if node.name == "#operator_or":
            return lambda frame: left(frame) or right(frame)
        return _apply2(_BINARY[node.name], left, right, _slow(lambda v: _with_args(node, v)))

    def dot(self, node: Any, left_node: Any, right_node: Any) -> Compiled | None:
        """``x.key``, ``x.len()`` and ``x.get(key[, default])``."""
        kind = type(right_node)
        if kind is yexpr.KeywordConstant:
            left = self.operand(left_node)
            if left is None:
                return None
            slow = _slow(lambda v: _with_args(node, (v[0], right_node)))
            return _attribute(left, right_node.value, slow)
        if kind is not yexpr.Function or right_node.name not in self.functions:
            return None
        args = right_node.args

        def method_slow(values: list[ValueNode]) -> Any:
            return _with_args(node, (values[0], _with_args(right_node, values[1:])))

        if right_node.name == "len" and not args:
            left = self.operand(left_node)
            return None if left is None else _apply1(_length, left, _slow(method_slow))
        if right_node.name == "get" and len(args) in (1, 2):
            left, key = self.operand(left_node), self.argument(args[0])
            default = self.argument(args[1]) if len(args) == 2 else None
            if left is None or key is None or (len(args) == 2 and default is None):
                return None
            return _get(left, key, default, _slow(method_slow))
        return None

    def list_literal(self, node: Any) -> Compiled | None:
        """``[a, b]``."""
        items = [self.operand(arg) for arg in node.args]
        if any(item is None for item in items):
            return None
        return _list(items)  # type: ignore[arg-type]

    def map_literal(self, node: Any) -> Compiled | None:
        """``{k => v}``."""
        pairs = []
        for rule in node.args:
            if type(rule) is not yexpr.MappingRuleExpression:
                return None
            source = rule.source
            key = (_constant(source.value) if type(source) is yexpr.KeywordConstant
                   else self.operand(source))
            value = self.operand(rule.destination)
            if key is None or value is None:
                return None
            pairs.append((key, value))

        def build(values: list[ValueNode]) -> Any:
            rules = [yexpr.MappingRuleExpression(values[i], values[i + 1])
                     for i in range(0, len(values), 2)]
            return _with_args(node, rules)
        return _map(pairs, _slow(build))


def compile_fast(node: Any, opaque: Opaque | None = None,
                 functions: frozenset[str] = FAST_FUNCTIONS) -> Compiled | None:
    """A closure evaluating the yaql parse tree ``node``, or None if unsupported.

    Operands the fast path cannot compile are handed to ``opaque`` (by default
    nothing is: the whole expression must be simple). ``functions`` are the
    yaql functions it may implement itself (see :data:`FAST_FUNCTIONS`).
    """
    return _Compiler(opaque or (lambda n: None), functions).compile(node)
