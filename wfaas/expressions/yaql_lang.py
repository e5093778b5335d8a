"""YAQL evaluation: one engine, one root context, parsed expressions cached by text.

The root context (yaql's standard library plus the expression functions) is
built once; each evaluation creates only a child context holding ``$`` (a lazy
frozen view of the data) and the call context for the functions. Simple
expressions bypass yaql altogether (see :mod:`wfaas.expressions.fastpath`).
"""

from __future__ import annotations

import collections.abc  # noqa: F401  (yaql needs collections.abc imported first)
import copy
import functools
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaql
from yaql.language import conventions, factory, specs, yaqltypes
from yaql.language import exceptions as yaql_exc
from yaql.language import expressions as yexpr
from yaql.language import utils as yaql_utils

from wfaas.expressions import budget, constfold, registry, yaql_budget, yaql_regex
from wfaas.expressions.context import CallContext
from wfaas.expressions.convert import to_plain, to_yaql
from wfaas.expressions.fastpath import (
    FAST_FUNCTIONS,
    Compiled,
    Fallback,
    Frame,
    compile_fast,
    yaql_value,
)

#: Keys of the data that Mistral also publishes as variables (``$__env`` / ``{{ __env }}``).
MISTRAL_VARIABLES = ("__env", "__execution", "__task_execution")

#: Key of the call context in a yaql context: not spellable in YAQL.
CALL_CONTEXT_KEY = "wfaas:call-context"

#: Expressions longer than this are parsed each time instead of cached.
MAX_CACHED_TEXT = 16384

#: Largest integer ``pow`` / ``shiftBitsLeft`` may produce, in bits, when no
#: evaluation budget runs (else its ``max_int_bits``).
MAX_INT_BITS = 100_000


def _int_bits() -> int:
    found = budget.current()
    bits = found.limits.max_int_bits if found is not None else MAX_INT_BITS
    return bits if bits > 0 else 1 << 62

DEFAULT_LIMIT_ITERATORS = 100000
DEFAULT_MEMORY_QUOTA = 10000000


@dataclass(frozen=True)
class YaqlOptions:
    """The yaql engine options wfaas sets (Mistral's, with limits on)."""

    limit_iterators: int = DEFAULT_LIMIT_ITERATORS
    memory_quota: int = DEFAULT_MEMORY_QUOTA
    use_fast_path: bool = True

    def engine_options(self) -> dict[str, Any]:
        return {
            "yaql.limitIterators": self.limit_iterators,
            "yaql.memoryQuota": self.memory_quota,
            "yaql.convertInputData": True,
            "yaql.convertOutputData": True,
            "yaql.convertTuplesToLists": True,
            "yaql.convertSetsToLists": True,
            "yaql.iterableDicts": False,
        }


@dataclass(frozen=True)
class ParsedYaql:
    """A parsed expression: yaql's statement and, if simple enough, a fast closure."""

    text: str
    statement: Any
    fast: Compiled | None
    #: The parse tree with its simple subtrees replaced by :class:`_FastNode`.
    accelerated: Any


_FAST_NODE_TYPES = (yexpr.BinaryOperator, yexpr.UnaryOperator, yexpr.IndexExpression,
                    yexpr.ListExpression, yexpr.MapExpression, yexpr.Function)


_METHOD_CALLS = frozenset({"#operator_.", "#operator_?."})


class _FastNode(yexpr.Expression):  # type: ignore[misc]
    """A subtree of a yaql parse tree whose operations run as fast-path closures.

    It reads ``$`` from the context it is called with (so it also works inside
    lambdas such as ``select($ * 2)``); operands the fast path cannot compile
    (function calls ...) are evaluated by yaql, and so are operations on
    operand types the fast path does not handle.
    """

    def __init__(self, original: Any, fast: Compiled, fallback: Any) -> None:
        self.original = original
        self.fast = fast
        self.fallback = fallback
        self.uses_receiver = original.uses_receiver

    def __call__(self, receiver: Any, context: Any, engine: Any) -> Any:
        budget.tick()
        try:
            # Measured before conversion: plain dicts / tuples are measured fastest.
            result = yaql_value(budget.charge_value(
                self.fast(Frame(context["$"], context, engine))))
        except Fallback:  # not expected inside yaql; stay correct anyway
            return self.fallback(receiver, context, engine)
        yaql_utils.limit_memory_usage(engine, (1, result))
        return result

    def __str__(self) -> str:
        return str(self.original)


def _accelerate(node: Any, functions: frozenset[str], pure: frozenset[str],
                fold: bool = True) -> Any:
    """``node`` with its simple subtrees replaced by :class:`_FastNode` and its constant
    subtrees that need yaql by :class:`~wfaas.expressions.constfold.FoldedNode`.

    ``functions`` are the yaql functions the fast path may implement, ``pure`` those
    a constant subtree may call (see :func:`wfaas.expressions.constfold.pure_names`);
    ``fold=False`` for the method of ``x.method()``, which reads its receiver.
    """
    def opaque(child: Any) -> Compiled:
        accelerated = _accelerate(child, functions, pure)

        def run(frame: Frame) -> Any:
            return accelerated(yaql_utils.NO_VALUE, frame.context, frame.engine)
        return run

    if (fold and isinstance(node, yexpr.Function) and constfold.is_constant(node, pure)
            and compile_fast(node, functions=functions) is None):
        return constfold.FoldedNode(node, _accelerate_children(node, functions, pure))
    if isinstance(node, _FAST_NODE_TYPES):
        fast = compile_fast(node, opaque, functions)
        if fast is not None:
            return _FastNode(node, fast, _accelerate_children(node, functions, pure))
    return _accelerate_children(node, functions, pure)


def _accelerate_children(node: Any, functions: frozenset[str], pure: frozenset[str]) -> Any:
    """``node`` itself, with its operands accelerated."""
    if isinstance(node, yexpr.Function):
        method = node.name in _METHOD_CALLS  # the right operand reads the left one
        args = tuple(_accelerate(arg, functions, pure, not (method and i == 1))
                     for i, arg in enumerate(node.args))
        if any(new is not old for new, old in zip(args, node.args, strict=True)):
            node = copy.copy(node)
            node.args = args
    elif isinstance(node, yexpr.MappingRuleExpression):
        destination = _accelerate(node.destination, functions, pure)
        if destination is not node.destination:
            node = copy.copy(node)
            node.destination = destination
    elif isinstance(node, yexpr.Wrap):
        inner = _accelerate(node.expr, functions, pure)
        if inner is not node.expr:
            node = copy.copy(node)
            node.expr = inner
    return node


class _GuardedOptions(yaql_utils.FrozenDict):  # type: ignore[misc]
    """Engine options; yaql reads them before every function call: spend fuel."""

    def get(self, key: Any, default: Any = None) -> Any:
        budget.tick()
        return self._d.get(key, default)


def _engine(parser: Any, options: YaqlOptions) -> Any:
    engine = parser.copy(options.engine_options())
    engine._options = _GuardedOptions(engine.options)
    return engine


class _Engines:
    """The parser (built once: ply tables are slow to build) and the evaluating engine.

    Engine options only matter at evaluation, so ``configure`` swaps in a copy
    of the engine with new options and keeps the parse cache and root context.
    """

    def __init__(self) -> None:
        self.parser = factory.YaqlFactory(keyword_operator="=>", allow_delegates=False).create()
        self.parse_lock = threading.Lock()
        self.options = YaqlOptions()
        self.engine = _engine(self.parser, self.options)
        self.root: Any = None
        self.root_lock = threading.Lock()
        self._cached_parse = functools.lru_cache(maxsize=8192)(self._parse)

    def parse(self, text: str) -> ParsedYaql:
        """The parsed ``text`` (cached unless it is very long)."""
        if len(text) > MAX_CACHED_TEXT:
            return self._parse(text)
        return self._cached_parse(text)

    def check_syntax(self, text: str) -> None:
        """Parse ``text`` only (no functions needed); raises yaql's errors."""
        with self.parse_lock:
            self.parser(text)

    def clear_parse_cache(self) -> None:
        """Forget parsed expressions (they depend on which functions exist)."""
        self._cached_parse.cache_clear()

    def _parse(self, text: str) -> ParsedYaql:
        with self.parse_lock:  # ply's parser keeps state while parsing
            statement = self.parser(text)
        # Functions the fast path implements, unless a plugin function shadows them.
        plugins = registry.get_functions()
        functions = FAST_FUNCTIONS.difference(plugins)
        fast = compile_fast(statement.expression, functions=functions)
        accelerated = _accelerate(statement.expression, functions,
                                  constfold.pure_names(plugins))
        return ParsedYaql(text, statement, fast, accelerated)

    def root_context(self) -> Any:
        root = self.root
        if root is None:
            with self.root_lock:
                if self.root is None:
                    self.root = _build_root_context()
                root = self.root
        return root


_CAMEL = conventions.CamelCaseConvention()


def _wrap_function(func: Callable[..., Any], name: str) -> Any:
    """A yaql function definition calling ``func(call_context, *args)``."""
    definition = specs.get_function_definition(func, name=name)
    # Parameters named "context" are filled by yaql with its context; make sure
    # the first parameter is, whatever its name.
    first = next((p for p in definition.parameters.values() if p.position == 0), None)
    if first is None:
        raise TypeError(f"expression function {name!r} must take the call context first")
    first.value_type = yaqltypes.Context()
    # Keyword arguments work by their Python name (tasks(workflow_execution_id => x))
    # and, as in Mistral, by their camelCase name (tasks(workflowExecutionId => x)).
    # yaql passes every positional parameter (defaults included) positionally,
    # so a camelCase keyword replaces the value at its position.
    camel = {_CAMEL.convert_parameter_name(p.name): p
             for p in definition.parameters.values()
             if p is not first and p.name not in ("*", "**")}
    camel = {key: p for key, p in camel.items() if key != p.name}
    if camel and "**" not in definition.parameters:
        definition.parameters["**"] = specs.ParameterDefinition(
            "kwargs", yaqltypes.PythonType(object, True), None, None, specs.NO_DEFAULT)

    def payload(context: Any, *args: Any, **kwargs: Any) -> Any:
        call_context = context[CALL_CONTEXT_KEY]
        limit = _state.options.limit_iterators  # an argument may be an endless iterator
        values = [to_plain(a, limit) for a in args]
        named = {}
        for key, value in kwargs.items():
            param = camel.get(key)
            if param is not None and param.position is not None and param.position <= len(values):
                values[param.position - 1] = to_plain(value, limit)
            else:
                named[param.name if param is not None else key] = to_plain(value, limit)
        return to_yaql(func(call_context, *values, **named))

    definition.payload = payload
    return definition


def _pow(a: Any, b: Any, c: Any = None) -> Any:
    """yaql's ``pow`` refusing results of more than :data:`MAX_INT_BITS` bits."""
    if (c is None and isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1
            and b * abs(a).bit_length() > _int_bits()):
        raise ValueError(f"the result of pow() would be too large (over {_int_bits()} bits, "
                         "[expressions] max_int_bits)")
    return pow(a, b, c)


def _shift_bits_left(value: int, bits_number: int) -> int:
    """yaql's ``shiftBitsLeft`` refusing results of more than :data:`MAX_INT_BITS` bits."""
    if value and bits_number + value.bit_length() > _int_bits():
        raise ValueError(f"the result of shiftBitsLeft() would be too large (over {_int_bits()} "
                         "bits, [expressions] max_int_bits)")
    return value << bits_number


# yaql's parameter declarations (as calls: the decorators are untyped).
specs.parameter("a", yaqltypes.Number())(_pow)
specs.parameter("b", yaqltypes.Number())(_pow)
specs.parameter("c", yaqltypes.Number(nullable=True))(_pow)
specs.parameter("value", int)(_shift_bits_left)
specs.parameter("bits_number", int)(_shift_bits_left)


def _build_root_context() -> Any:
    base = yaql.create_context(regex=False)
    yaql_regex.register(base)
    yaql_budget.guard_builders(base)
    root = base.create_child_context()
    root.register_function(_pow, name="pow", exclusive=True)
    root.register_function(_shift_bits_left, name="shiftBitsLeft", exclusive=True)
    for fn in registry.get_functions().values():
        root.register_function(_wrap_function(fn.func, fn.name))
    return root


_state = _Engines()
yaql_budget.install()


def configure(options: YaqlOptions) -> None:
    """Evaluate with ``options`` from now on."""
    _state.engine = _engine(_state.parser, options)
    _state.options = options


def _functions_changed() -> None:
    _state.root = None
    _state.clear_parse_cache()


registry.on_functions_changed(_functions_changed)


def parse(text: str) -> ParsedYaql:
    """The parsed expression (cached by text); raises yaql's errors on bad syntax."""
    return _state.parse(text)


_UNDERSCORE_HINT = (" (YAQL names cannot start with '_': write $.get('__name') "
                    "or the variable $__name)")


def explain(exc: BaseException) -> str:
    """The message of a yaql error, with a hint for the common mistakes."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, yaql_exc.YaqlLexicalException) and "illegal character '_'" in message:
        message += _UNDERSCORE_HINT
    return message


def syntax_error(text: str) -> str | None:
    """Why ``text`` is not a valid YAQL expression, or None if it is."""
    try:
        _state.check_syntax(text.strip())
    except RecursionError:
        return "too deeply nested"
    except Exception as exc:  # yaql raises YaqlException, KeyError, ValueError ...
        return explain(exc)
    return None


def evaluate(text: str, data: Any, call_context: CallContext,
             limits: budget.Limits | None = None) -> Any:
    """The plain (JSON-able) value of the YAQL expression ``text`` over ``data``.

    With ``limits``, an evaluation that leaves the fast path runs under a new
    budget (unless one is running already).
    """
    state = _state
    parsed = state.parse(text.strip())
    options = state.options
    limit = options.limit_iterators
    if parsed.fast is not None and options.use_fast_path:
        try:
            result = parsed.fast(Frame(data))
        except Fallback:
            pass
        else:
            quota = options.memory_quota
            if quota > 0 and sys.getsizeof(result, 0) > quota:
                raise yaql_exc.MemoryQuotaExceededException()
            return to_plain(result, limit, limit)
    context = state.root_context().create_child_context()
    context["$"] = to_yaql(data)
    context[CALL_CONTEXT_KEY] = call_context
    if isinstance(data, Mapping):
        for name in MISTRAL_VARIABLES:  # Mistral also exposes these as $__env etc.
            context[name] = to_yaql(data.get(name))
    if limits is None or budget.current() is not None:
        return _slow(parsed, context, state, options)
    with budget.running(limits):
        return _slow(parsed, context, state, options)


def _slow(parsed: ParsedYaql, context: Any, state: _Engines, options: YaqlOptions) -> Any:
    limit = options.limit_iterators
    try:
        tree = parsed.accelerated if options.use_fast_path else parsed.statement.expression
        result = tree(yaql_utils.NO_VALUE, context, state.engine)
    except yaql_exc.WrappedException as exc:
        raise exc.wrapped from None
    return to_plain(result, limit, limit)
