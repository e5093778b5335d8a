"""Loading expression functions from the ``wfaas.expression.functions`` entry points.

Functions are loaded once with stevedore; a plugin that fails to import raises
:class:`~wfaas.exceptions.PluginLoadError` naming it (stevedore's default of
silently dropping it is overridden). Tests swap the source with
:func:`set_function_manager` and an ``ExtensionManager.make_test_instance``.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stevedore import ExtensionManager

from wfaas.exceptions import PluginLoadError

NAMESPACE = "wfaas.expression.functions"


@dataclass(frozen=True)
class ExpressionFunction:
    """One loaded function: its expression name, the callable and filter arity."""

    name: str
    func: Callable[..., Any]
    #: Whether the function takes a positional argument after the context; if
    #: not, the Jinja filter form (``value | f``) drops the piped value.
    takes_value: bool


_lock = threading.Lock()
_manager: ExtensionManager[Any] | None = None
_functions: dict[str, ExpressionFunction] | None = None
_listeners: list[Callable[[], None]] = []


def _raise_load_failure(manager: Any, entrypoint: Any, exc: BaseException) -> None:
    name = getattr(entrypoint, "name", entrypoint)
    value = getattr(entrypoint, "value", "")
    raise PluginLoadError(
        f"Expression function plugin {name!r} ({value}) in {NAMESPACE} failed to load: {exc}"
    ) from exc


def _takes_value(func: Callable[..., Any]) -> bool:
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return True
    positional = [p for p in params[1:] if p.kind in (
        p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)]
    return bool(positional)


def _load() -> dict[str, ExpressionFunction]:
    manager = _manager
    if manager is None:
        manager = ExtensionManager(namespace=NAMESPACE, invoke_on_load=False,
                                   on_load_failure_callback=_raise_load_failure)
    result: dict[str, ExpressionFunction] = {}
    for ext in manager.extensions:
        func = ext.plugin
        if not callable(func):
            raise PluginLoadError(
                f"Expression function plugin {ext.name!r} in {NAMESPACE} is not callable")
        result[ext.name] = ExpressionFunction(ext.name, func, _takes_value(func))
    return result


def get_functions() -> dict[str, ExpressionFunction]:
    """All expression functions by name, loaded on first use and then cached."""
    global _functions
    functions = _functions
    if functions is None:
        with _lock:
            if _functions is None:
                _functions = _load()
            functions = _functions
    return functions


def set_function_manager(manager: ExtensionManager[Any] | None) -> None:
    """Use ``manager``'s extensions as the functions (None: the entry points again).

    The evaluators drop whatever they built from the previous functions.
    """
    global _manager, _functions
    with _lock:
        _manager = manager
        _functions = None
    for listener in list(_listeners):
        listener()


def on_functions_changed(listener: Callable[[], None]) -> None:
    """Call ``listener`` whenever :func:`set_function_manager` changes the functions."""
    _listeners.append(listener)
