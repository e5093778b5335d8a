"""Mistral's action plugins, unmodified: ``mistral.actions`` entry points run in wfaas.

A Mistral plugin package registers ``mistral_lib.actions.Action`` subclasses in the
``mistral.actions`` entry-point group. wfaas finds them there (with the optional
``mistral-plugins`` extra, i.e. mistral-lib, installed) and wraps each instance in
:class:`MistralActionAdapter`, which

- gives ``run()`` a real ``mistral_lib.actions.context.ActionContext`` (``security``
  and ``execution`` filled from wfaas's context, as Mistral's executor does);
- turns a returned ``mistral_lib.actions.Result`` into wfaas's result (data, error,
  cancel), and ``mistral_lib.exceptions.ActionException`` into an error result;
- keeps ``is_sync()``: an asynchronous action's result arrives later through the
  API (``PUT /v2/action_executions/<id>``), as in Mistral.

Entry points of the ``mistral`` distribution itself (Mistral's std actions) are
skipped: wfaas has its own ``std.*``. The plugin's actions are listed with
``source = mistral-plugin:<distribution>``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import fields
from importlib import metadata
from typing import Any

from wfaas.actions.base import (
    Action,
    ActionContext,
    ActionException,
    PythonActionDescriptor,
    Result,
)
from wfaas.exceptions import PluginLoadError

LOG = logging.getLogger(__name__)
NAMESPACE = "mistral.actions"
#: distributions whose mistral.actions entry points wfaas replaces with its own
SKIPPED_DISTRIBUTIONS = frozenset({"mistral"})


def available() -> bool:
    """Whether mistral-lib is importable (the ``mistral-plugins`` extra)."""
    try:
        import mistral_lib.actions  # noqa: F401
    except ImportError:
        return False
    return True


def to_mistral_context(context: ActionContext) -> Any:
    """mistral-lib's ActionContext with the same security and execution fields."""
    from mistral_lib.actions import context as mctx

    sec = context.security
    security = mctx.SecurityContext(**{
        f.name: getattr(sec, f.name) for f in fields(sec)
        if f.name not in ("user_id",)})
    ex = context.execution
    execution = mctx.ExecutionContext(
        workflow_execution_id=ex.workflow_execution_id,
        task_execution_id=ex.task_execution_id,
        action_execution_id=ex.action_execution_id, workflow_name=ex.workflow_name,
        callback_url=ex.callback_url, with_items_index=ex.with_items_index or 0,
        task_rerun_no=ex.task_rerun_no or 0, task_rerun_id=ex.task_rerun_id,
        workflow_propagated_headers=dict(ex.workflow_propagated_headers or {}))
    return mctx.ActionContext(security_ctx=security, execution_ctx=execution)


def from_mistral_result(value: Any) -> Any:
    """A mistral-lib Result as wfaas's :class:`Result`; any other value unchanged."""
    from mistral_lib.actions import types

    if isinstance(value, types.Result):
        return Result(data=value.data, error=value.error, cancel=bool(value.cancel))
    return value


class MistralActionAdapter(Action):
    """Runs one mistral-lib action instance as a wfaas action."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def run(self, context: ActionContext) -> Any:
        """``inner.run(mistral context)``; Mistral's ActionException -> an error result."""
        from mistral_lib import exceptions as mexc

        try:
            value = self.inner.run(to_mistral_context(context))
        except mexc.ActionException as exc:
            raise ActionException(str(exc) or type(exc).__name__) from exc
        return from_mistral_result(value)

    def is_sync(self) -> bool:
        """The plugin's own answer (False: the result comes later through the API)."""
        return bool(self.inner.is_sync())


class MistralActionDescriptor(PythonActionDescriptor):
    """A mistral-lib Action class: parameters from its ``__init__``, run via the adapter."""

    def __init__(self, name: str, action_class: type, *, source: str) -> None:
        super().__init__(name, action_class, source=source)

    def instantiate(self, input: dict[str, Any], wf_ctx: dict[str, Any] | None = None) -> Action:
        """The plugin class instantiated with the task's input, wrapped."""
        return MistralActionAdapter(self.action_class(**(input or {})))


def _entry_points() -> list[tuple[metadata.EntryPoint, str]]:
    out = []
    for ep in metadata.entry_points(group=NAMESPACE):
        dist = getattr(ep, "dist", None)
        name = dist.name if dist is not None else "unknown"
        if name.lower() not in SKIPPED_DISTRIBUTIONS:
            out.append((ep, name))
    return out


def load_descriptors(on_error: Callable[[PluginLoadError], None] | None = None
                     ) -> list[MistralActionDescriptor]:
    """Descriptors of every installed Mistral plugin action.

    A plugin that fails to import, or whose entry point is not a mistral-lib Action
    subclass, raises :class:`PluginLoadError` (or is passed to ``on_error``).
    """
    if not available():
        return []
    from mistral_lib.actions import base as mbase

    out = []
    for ep, dist in _entry_points():
        try:
            cls = ep.load()
            if not (isinstance(cls, type) and issubclass(cls, mbase.Action)):
                raise TypeError(f"not a mistral_lib.actions.Action subclass: {cls!r}")
        except Exception as exc:  # noqa: BLE001 - any import error of a plugin
            err = PluginLoadError(
                f"Failed to load Mistral actions [distribution={dist}, "
                f"entry_point={ep.name} = {ep.value}]: {type(exc).__name__}: {exc}",
                pack=dist, entry_point=ep.name)
            if on_error is None:
                raise err from exc
            on_error(err)
            continue
        out.append(MistralActionDescriptor(ep.name, cls, source=f"mistral-plugin:{dist}"))
    return out
