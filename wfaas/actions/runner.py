"""Run one action by name: find, check input, instantiate, run (with a timeout), post-process.

:func:`run_action` never raises: every failure becomes ``Result(error=...)``
with a message a user can act on. An asynchronous action (``is_sync()`` False)
yields ``Result(data=<whatever run returned>, sync=False)``; its real result
arrives later through the API, and the caller should pass it through the
descriptor's ``post_process_result`` (see :func:`complete_result`).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from wfaas.actions.base import (
    ActionContext,
    ActionDescriptor,
    ActionException,
    ActionProvider,
    Result,
)
from wfaas.exceptions import WfaasError

LOG = logging.getLogger(__name__)


def not_found_message(name: str, namespace: str = "") -> str:
    """Mistral's message for an unknown action."""
    return f"Failed to find action [action_name={name}, namespace={namespace}]"


def _call(action: Any, context: ActionContext, timeout: float | None) -> Any:
    """Run ``action.run(context)``, in a worker thread when a timeout is set."""
    if timeout is None or timeout <= 0:
        return action.run(context)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = action.run(context)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=target, name="wfaas-action", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(f"timed out after {timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, (ActionException, WfaasError)):
        return str(exc) or type(exc).__name__
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def raised_message(action: Any, name: str, context: ActionContext, exc: BaseException) -> str:
    """Mistral's state_info for an action whose ``run`` raised."""
    custom = getattr(type(action), "__repr__", None) is not object.__repr__
    shown = repr(action) if custom else name
    return (f"The action raised an exception [action={shown}, "
            f"action_ex_id={context.execution.action_execution_id}, msg='{exc}']")


def refused_by(exc: BaseException) -> str | None:
    """``egress`` when the egress policy's refusal is ``exc`` or what caused it (std.ssh
    and std.email wrap it in their own message), else None."""
    from wfaas.actions.egress import EgressDenied

    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, EgressDenied):
            return "egress"
        seen = seen.__cause__ or seen.__context__
    return None


def run_descriptor(descriptor: ActionDescriptor, input: dict[str, Any], context: ActionContext,
                   *, timeout: float | None = None,
                   wf_ctx: dict[str, Any] | None = None, conf: Any = None) -> Result:
    """Check, instantiate, configure (with ``conf`` when given), run and post-process
    an already found action."""
    name = descriptor.name
    try:
        descriptor.check_parameters(input or {})
        action = descriptor.instantiate(dict(input or {}), wf_ctx)
        if conf is not None:
            configure = getattr(action, "configure", None)
            if callable(configure):
                configure(conf)
    except WfaasError as exc:
        return Result(error=str(exc))
    except Exception as exc:  # noqa: BLE001 - a plugin's constructor may raise anything
        return Result(error=f"Failed to create action {name}: {_error_text(exc)}")
    try:
        sync = bool(action.is_sync())
        value = _call(action, context, timeout)
    except TimeoutError as exc:
        return Result(error=f"Action {name} {exc}")
    except Exception as exc:  # noqa: BLE001 - every failure becomes an error result
        LOG.debug("Action %s failed", name, exc_info=True)
        return Result(error=raised_message(action, name, context, exc), limit=refused_by(exc))
    result = Result.from_value(value)
    if not sync:
        return Result(data=result.data, error=result.error, cancel=result.cancel, sync=False)
    return complete_result(descriptor, result)


def complete_result(descriptor: ActionDescriptor, result: Result) -> Result:
    """Post-process a result (ad-hoc ``output``); errors in doing so become error results."""
    try:
        return descriptor.post_process_result(result)
    except Exception as exc:  # noqa: BLE001
        return Result(error=f"Failed to process the result of action {descriptor.name}: "
                            f"{_error_text(exc)}")


def run_action(provider: ActionProvider, name: str, input: dict[str, Any],
               context: ActionContext | None = None, *, namespace: str = "",
               timeout: float | None = None, wf_ctx: dict[str, Any] | None = None,
               conf: Any = None) -> Result:
    """Find ``name`` in ``namespace`` and run it; never raises.

    ``timeout`` (seconds) runs the action in a worker thread and gives up
    waiting after that long (the thread cannot be killed; actions with their
    own timeout, such as std.http, stop by themselves). ``wf_ctx`` is passed to
    ``instantiate`` (``{"functions": FunctionContext, "data": {...}}``). ``conf``
    (the executor's configuration) is handed to the action's ``configure(conf)``.
    """
    context = context or ActionContext()
    try:
        descriptor = provider.find(name, namespace)
    except Exception as exc:  # noqa: BLE001 - a broken provider must not crash the executor
        return Result(error=f"Failed to find action [action_name={name}, "
                            f"namespace={namespace}]: {_error_text(exc)}")
    if descriptor is None:
        return Result(error=not_found_message(name, namespace))
    return run_descriptor(descriptor, input, context, timeout=timeout, wf_ctx=wf_ctx, conf=conf)
