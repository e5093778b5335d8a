"""The public evaluation API: evaluate, evaluate_recursively, validate, configure.

A string is scanned once (the result is cached by text) to find its
expressions: YAQL ``<% %>`` or Jinja ``{{ }}`` / ``{% %}``. A string that is
exactly one expression yields its typed value; YAQL expressions embedded in
text are replaced by ``str()`` of their value; a Jinja string with text around
is rendered as a template. Mixing both languages in one string is an error.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wfaas.exceptions import ExpressionError, WfaasError
from wfaas.expressions import budget, jinja_lang, regex, yaql_lang
from wfaas.expressions.context import EMPTY_FUNCTION_CONTEXT, CallContext, FunctionContext

LANGUAGES = ("yaql", "jinja")
_NAMES = {"yaql": "YAQL", "jinja": "Jinja"}

YAQL_PATTERN = re.compile(r"<%.*?%>", re.DOTALL)
JINJA_PATTERN = re.compile(r"{{.*?}}|{%.*?%}", re.DOTALL)

_MAX_CAUSE = 300
_MAX_EXPRESSION = 500

_PLAIN, _YAQL_WHOLE, _YAQL_TEXT, _JINJA, _MIXED = range(5)


@dataclass(frozen=True)
class _Plan:
    """How to evaluate one string (cached by text)."""

    kind: int
    pieces: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Settings:
    allowed: frozenset[str] = frozenset(LANGUAGES)
    limit_iterators: int = yaql_lang.DEFAULT_LIMIT_ITERATORS
    limits: budget.Limits = budget.Limits()


_settings = _Settings()
_DEFAULT_LIMITS = budget.Limits()


def configure(*, allowed_languages: Sequence[str] = LANGUAGES,
              limit_iterators: int = yaql_lang.DEFAULT_LIMIT_ITERATORS,
              memory_quota: int = yaql_lang.DEFAULT_MEMORY_QUOTA,
              timeout: float = _DEFAULT_LIMITS.timeout,
              max_fuel: int = _DEFAULT_LIMITS.max_fuel,
              max_value_size_kb: int = _DEFAULT_LIMITS.max_value_bytes // 1024,
              max_total_size_kb: int = _DEFAULT_LIMITS.max_total_bytes // 1024,
              max_int_bits: int = _DEFAULT_LIMITS.max_int_bits,
              regex_fallback: str = "guarded",
              fast_path: bool = True) -> None:
    """Set the allowed languages, YAQL's limits (-1: no limit) and the evaluation budget.

    Called by the shell from ``[expressions]`` (``allowed_languages``,
    ``evaluation_timeout``, ``max_fuel``, ``max_value_size_kb``,
    ``max_total_size_kb``, ``max_int_bits``, ``regex_fallback``) and
    ``[yaql] limit_iterators / memory_quota``; calling it with no arguments
    restores the defaults. ``timeout`` is in seconds per evaluated string; 0
    turns a budget limit off. ``fast_path=False`` makes every YAQL expression
    go through yaql (for comparison tests).
    """
    global _settings
    unknown = [lang for lang in allowed_languages if lang not in LANGUAGES]
    if unknown:
        raise ValueError(f"Unknown expression language(s) {unknown}; known: {list(LANGUAGES)}")
    regex.set_fallback(regex_fallback)
    yaql_lang.configure(yaql_lang.YaqlOptions(limit_iterators, memory_quota, fast_path))
    jinja_lang.configure(memory_quota)
    limits = budget.Limits(timeout, max_fuel, max_value_size_kb * 1024,
                           max_total_size_kb * 1024, max_int_bits)
    _settings = _Settings(frozenset(allowed_languages), limit_iterators, limits)


def _scan(text: str) -> _Plan:
    yaql = YAQL_PATTERN.findall(text)
    jinja = JINJA_PATTERN.search(text) is not None
    if yaql and jinja:
        return _Plan(_MIXED)
    if jinja:
        return _Plan(_JINJA)
    if not yaql:
        return _Plan(_PLAIN)
    if len(yaql) == 1 and len(yaql[0]) == len(text):
        return _Plan(_YAQL_WHOLE, (text,))
    return _Plan(_YAQL_TEXT, tuple(yaql))


#: Strings longer than this are scanned / compiled each time instead of cached,
#: so the caches cannot grow to hold megabytes of text.
MAX_CACHED_TEXT = 16384

_plan = functools.lru_cache(maxsize=16384)(_scan)


def _plan_of(text: str) -> _Plan:
    if "<%" not in text and "{{" not in text and "{%" not in text:
        return _Plan(_PLAIN)
    return _plan(text) if len(text) <= MAX_CACHED_TEXT else _scan(text)


def _cause(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and exc.args:
        text = f"no such key: {exc.args[0]!r}"
    elif isinstance(exc, MemoryError):
        text = "out of memory"
    elif isinstance(exc, RecursionError):
        text = "too deeply nested"
    elif isinstance(exc, budget.BudgetExceeded):
        return str(exc)
    else:
        text = yaql_lang.explain(exc)
    return _shorten(text, _MAX_CAUSE)


def _shorten(text: str, limit: int = _MAX_EXPRESSION) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _error(lang: str, expression: str, exc: BaseException) -> ExpressionError:
    cause = _cause(exc)
    return ExpressionError(
        f"Can not evaluate {_NAMES[lang]} expression "
        f"[expression={_shorten(expression)}, error={cause}]",
        expression=expression, cause=cause)


def _check_allowed(lang: str, text: str) -> None:
    if lang not in _settings.allowed:
        cause = (f"{_NAMES[lang]} expressions are not allowed "
                 f"(allowed languages: {', '.join(sorted(_settings.allowed)) or 'none'})")
        raise ExpressionError(
            f"Can not evaluate {_NAMES[lang]} expression "
            f"[expression={_shorten(text)}, error={cause}]",
            expression=text, cause=cause)


def _wrap(lang: str, expression: str, exc: Exception) -> Exception:
    """The error to raise for ``exc``: server-side wfaas errors pass through."""
    if isinstance(exc, ExpressionError):
        return exc
    if isinstance(exc, WfaasError) and exc.http_code >= 500:
        return exc
    return _error(lang, expression, exc)


def _yaql(piece: str, data: Any, call_context: CallContext) -> Any:
    try:
        return yaql_lang.evaluate(piece[2:-2], data, call_context, _settings.limits)
    except Exception as exc:
        wrapped = _wrap("yaql", piece, exc)
        if wrapped is exc:
            raise
        raise wrapped from exc


def _jinja(text: str, data: Any, call_context: CallContext) -> Any:
    try:
        return jinja_lang.evaluate(text, data, call_context, _settings.limit_iterators)
    except Exception as exc:
        wrapped = _wrap("jinja", text, exc)
        if wrapped is exc:
            raise
        raise wrapped from exc


def evaluate(text: str, data: Any, functions: FunctionContext | None = None) -> Any:
    """Evaluate the expressions in ``text`` over ``data`` (``$`` in YAQL, ``_`` in Jinja).

    A string that is exactly one expression yields its typed value; embedded
    expressions interpolate into a string; a string without expressions (or a
    non-string) is returned as is. Raises :class:`ExpressionError`.
    """
    if not isinstance(text, str):
        return text
    plan = _plan_of(text)
    if plan.kind == _PLAIN:
        return text
    call_context = CallContext(
        EMPTY_FUNCTION_CONTEXT if functions is None else functions, data)
    local = budget._local
    if plan.kind == _YAQL_WHOLE or getattr(local, "budget", None) is not None:
        # One YAQL expression starts its budget only when it leaves the fast path;
        # a nested evaluation spends the outer budget.
        return _run(plan, text, data, call_context)
    local.budget = budget.Budget(_settings.limits)
    try:
        return _run(plan, text, data, call_context)
    finally:
        local.budget = None


def _run(plan: _Plan, text: str, data: Any, call_context: CallContext) -> Any:
    kind = plan.kind
    if kind == _YAQL_WHOLE:
        _check_allowed("yaql", text)
        return _yaql(text, data, call_context)
    if kind == _YAQL_TEXT:
        _check_allowed("yaql", text)
        values = {piece: str(_yaql(piece, data, call_context)) for piece in plan.pieces}
        return YAQL_PATTERN.sub(lambda m: values[m.group(0)], text)
    if kind == _JINJA:
        _check_allowed("jinja", text)
        return _jinja(text, data, call_context)
    cause = "Mixing YAQL and Jinja expressions in one string is not allowed"
    raise ExpressionError(f"Can not evaluate expression [expression={_shorten(text)}, "
                          f"error={cause}]", expression=text, cause=cause)


def evaluate_recursively(value: Any, data: Any, functions: FunctionContext | None = None) -> Any:
    """Evaluate every string inside dicts / lists / tuples (keys are not evaluated).

    Returns a new structure (containers are rebuilt, other values shared);
    ``value`` is left untouched.
    """
    if isinstance(value, str):
        return evaluate(value, data, functions)
    if isinstance(value, Mapping):
        return {key: evaluate_recursively(item, data, functions) for key, item in value.items()}
    if isinstance(value, list):
        return [evaluate_recursively(item, data, functions) for item in value]
    if isinstance(value, tuple):
        return tuple(evaluate_recursively(item, data, functions) for item in value)
    return value


def validate(text: str) -> list[str]:
    """The syntax problems of the expressions in ``text`` (empty if fine), without evaluating.

    Mixing YAQL and Jinja in one string, and using a language that is not
    allowed, are problems too.
    """
    if not isinstance(text, str):
        return []
    plan = _plan_of(text)
    if plan.kind == _PLAIN:
        return []
    if plan.kind == _MIXED:
        return ["Mixing YAQL and Jinja expressions in one string is not allowed: "
                + _shorten(text)]
    lang = "jinja" if plan.kind == _JINJA else "yaql"
    if lang not in _settings.allowed:
        return [f"{_NAMES[lang]} expressions are not allowed (allowed languages: "
                f"{', '.join(sorted(_settings.allowed)) or 'none'}): {_shorten(text)}"]
    if lang == "jinja":
        error = jinja_lang.syntax_error(text)
        return [] if error is None else [f"Invalid Jinja expression {_shorten(text)}: {error}"]
    problems = []
    for piece in plan.pieces:
        error = yaql_lang.syntax_error(piece[2:-2])
        if error is not None:
            problems.append(f"Invalid YAQL expression {_shorten(piece)}: {error}")
    return problems


def has_expressions(value: Any) -> bool:
    """Whether ``value`` (a string, or any nesting of dicts / lists) holds an expression."""
    if isinstance(value, str):
        return _plan_of(value).kind != _PLAIN
    if isinstance(value, Mapping):
        return any(has_expressions(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(has_expressions(item) for item in value)
    return False
