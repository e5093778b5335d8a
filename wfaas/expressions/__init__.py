"""wfaas.expressions: YAQL ``<% %>`` and Jinja2 ``{{ }}`` evaluation and the functions.

Public API (the contract other layers code against):

- :func:`evaluate(text, data, functions=None) <evaluate>`: a string that is
  exactly one expression yields its typed value; embedded expressions
  interpolate into a string; other strings are returned as is. ``data`` is
  ``$`` in YAQL and ``_`` in Jinja.
- :func:`evaluate_recursively(value, data, functions=None) <evaluate_recursively>`:
  the same over dicts / lists (keys are not evaluated); returns a new object.
- :func:`validate(text) <validate>` -> list of syntax problems (no evaluation);
  :func:`has_expressions(value) <has_expressions>` (deep).
- :func:`configure(allowed_languages=..., limit_iterators=..., memory_quota=...,
  timeout=...) <configure>`: called once by the shell from the configuration.
- :class:`FunctionContext` (what ``env()``, ``task()``, ``tasks()``,
  ``execution()``, ``executions()``, ``global()`` read; the engine implements
  it) and :class:`StaticFunctionContext` (plain data, for offline use/tests).

Errors are :class:`wfaas.exceptions.ExpressionError` naming the expression and
the cause, never the data. Functions come from the ``wfaas.expression.functions``
entry points (see :mod:`wfaas.expressions.functions`); tests swap them with
:func:`set_function_manager`.
"""

from wfaas.expressions.context import (
    EXECUTION_FIELDS,
    TASK_FIELDS,
    CallContext,
    FunctionContext,
    StaticFunctionContext,
    shape_execution,
    shape_task,
)
from wfaas.expressions.core import (
    LANGUAGES,
    configure,
    evaluate,
    evaluate_recursively,
    has_expressions,
    validate,
)
from wfaas.expressions.registry import set_function_manager

__all__ = [
    "EXECUTION_FIELDS",
    "LANGUAGES",
    "TASK_FIELDS",
    "CallContext",
    "FunctionContext",
    "StaticFunctionContext",
    "configure",
    "evaluate",
    "evaluate_recursively",
    "has_expressions",
    "set_function_manager",
    "shape_execution",
    "shape_task",
    "validate",
]
