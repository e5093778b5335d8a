"""Jinja2 evaluation in an immutable sandbox, compiled templates cached by text.

``{{ expr }}`` alone yields the expression's typed value; anything else is
rendered as a template to a string. The environment is an
``ImmutableSandboxedEnvironment`` with ``StrictUndefined`` (an undefined
variable is an error), ``trim_blocks``, ``lstrip_blocks`` and size limits (see
:mod:`wfaas.expressions.jinja_sandbox`). The data is ``_``; the expression
functions are globals and filters.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jinja2

from wfaas.expressions import registry
from wfaas.expressions.context import EMPTY_FUNCTION_CONTEXT, CallContext
from wfaas.expressions.convert import to_plain
from wfaas.expressions.jinja_sandbox import SafeEnvironment

#: Keys of the data that Mistral also publishes as variables.
MISTRAL_VARIABLES = ("__env", "__execution", "__task_execution")

#: Key of the call context in a Jinja context: not spellable in a template.
CALL_CONTEXT_KEY = "wfaas:call-context"

#: Templates longer than this are compiled each time instead of cached.
MAX_CACHED_TEXT = 16384

def _call_context(jinja_context: Any) -> CallContext:
    found = jinja_context.get(CALL_CONTEXT_KEY)
    if isinstance(found, CallContext):
        return found
    return CallContext(EMPTY_FUNCTION_CONTEXT, jinja_context.get("_"))


def _as_global(func: Callable[..., Any]) -> Callable[..., Any]:
    @jinja2.pass_context
    def call(jinja_context: Any, *args: Any, **kwargs: Any) -> Any:
        return func(_call_context(jinja_context), *args, **kwargs)
    return call


def _as_filter(func: Callable[..., Any], takes_value: bool) -> Callable[..., Any]:
    @jinja2.pass_context
    def call(jinja_context: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        if takes_value:
            return func(_call_context(jinja_context), value, *args, **kwargs)
        return func(_call_context(jinja_context), *args, **kwargs)
    return call


@dataclass(frozen=True)
class CompiledJinja:
    """A compiled string: ``expression`` for a lone ``{{ }}``, else ``template``."""

    text: str
    expression: Any = None
    template: Any = None


class _State:
    """The environment and the compile cache (rebuilt by ``configure`` / new functions)."""

    def __init__(self, memory_quota: int) -> None:
        self.memory_quota = memory_quota
        self.env = self._build_env()
        self._cached_compile = functools.lru_cache(maxsize=4096)(self._compile)

    def compile(self, text: str) -> CompiledJinja:
        """The compiled ``text`` (cached unless it is very long)."""
        if len(text) > MAX_CACHED_TEXT:
            return self._compile(text)
        return self._cached_compile(text)

    def _build_env(self) -> SafeEnvironment:
        env = SafeEnvironment(self.memory_quota)
        for fn in registry.get_functions().values():
            env.globals[fn.name] = _as_global(fn.func)
            env.filters[fn.name] = env.budget_filter(fn.name, _as_filter(fn.func, fn.takes_value))
        return env

    def _compile(self, text: str) -> CompiledJinja:
        return _compile_with(self.env, text)


def _compile_with(env: SafeEnvironment, text: str) -> CompiledJinja:
    if text.startswith("{{") and text.endswith("}}"):
        inner = text[2:-2]
        if "{{" not in inner and "{%" not in inner:
            try:
                return CompiledJinja(text, expression=env.compile_expression(
                    inner, undefined_to_none=False))
            except jinja2.TemplateSyntaxError:
                pass
    return CompiledJinja(text, template=env.from_string(text))


@functools.lru_cache(maxsize=1)
def _syntax_env() -> SafeEnvironment:
    """An environment without the functions: checking syntax must not load plugins."""
    return SafeEnvironment(-1)


_lock = threading.Lock()
_state: _State | None = None
_memory_quota = 10000000


def _current() -> _State:
    global _state
    state = _state
    if state is None:
        with _lock:
            if _state is None:
                _state = _State(_memory_quota)
            state = _state
    return state


def configure(memory_quota: int) -> None:
    """Rebuild the environment with a new memory quota (for ``*``)."""
    global _state, _memory_quota
    with _lock:
        if memory_quota != _memory_quota:
            _memory_quota = memory_quota
            _state = None


def _functions_changed() -> None:
    global _state
    with _lock:
        _state = None


registry.on_functions_changed(_functions_changed)


def syntax_error(text: str) -> str | None:
    """Why ``text`` is not a valid Jinja template/expression, or None if it is."""
    try:
        _compile_with(_syntax_env(), text)
    except jinja2.TemplateAssertionError as exc:
        # Mistral does not check filter and test names at upload: run-time errors there.
        if str(exc.message).startswith(("No filter named", "No test named")):
            return None
        return str(exc.message)
    except jinja2.TemplateSyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno and exc.lineno > 1 else ""
        return f"{exc.message}{where}"
    except RecursionError:
        return "too deeply nested"
    except Exception as exc:  # other TemplateErrors, and e.g. errors in constant folding
        return str(exc) or type(exc).__name__
    return None


def evaluate(text: str, data: Any, call_context: CallContext, limit: int = -1) -> Any:
    """The value of ``{{ expr }}`` (typed) or the rendered template ``text``."""
    compiled = _current().compile(text)
    variables = {"_": data, CALL_CONTEXT_KEY: call_context}
    if isinstance(data, Mapping):
        for name in MISTRAL_VARIABLES:  # Mistral also exposes these as {{ __env }} etc.
            variables[name] = data.get(name)
    if compiled.expression is not None:
        return to_plain(compiled.expression(variables), limit)
    return compiled.template.render(variables)
