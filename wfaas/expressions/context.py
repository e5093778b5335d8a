"""What expression functions may read: the :class:`FunctionContext` contract.

Expression functions (``env()``, ``task()``, ``tasks()`` ...) never touch a
database or global state: they read a :class:`FunctionContext` that the caller
(the engine, from its workflow state) passes to ``evaluate``.
:class:`StaticFunctionContext` is a plain-data implementation for offline use
and tests. :class:`CallContext` is what a function receives as its first
argument: the function context plus the data the expression is evaluated on.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

#: Keys of a task as returned by ``task()`` / ``tasks()`` (Mistral's user model).
TASK_FIELDS: tuple[str, ...] = (
    "id", "name", "spec", "state", "state_info", "result", "published", "type",
    "workflow_execution_id", "created_at", "updated_at",
)

#: Keys of the workflow execution returned by ``execution()``.
EXECUTION_FIELDS: tuple[str, ...] = (
    "id", "name", "spec", "input", "params", "created_at", "updated_at",
    "root_execution_id",
)

ACTION_TASK_TYPE = "ACTION"
WORKFLOW_TASK_TYPE = "WORKFLOW"


@runtime_checkable
class FunctionContext(Protocol):
    """The read-only view of an execution that expression functions query."""

    def env(self) -> dict[str, Any]:
        """The execution environment (``params.env``; the root's for sub-workflows)."""
        ...

    def execution(self) -> dict[str, Any]:
        """The current workflow execution, shaped as :data:`EXECUTION_FIELDS`."""
        ...

    def task(self, name: str | None = None) -> dict[str, Any] | None:
        """The current task (no name / own name) or the last task with that name."""
        ...

    def tasks(self, workflow_execution_id: str | None = None, recursive: bool = False,
              state: str | None = None, flat: bool = False) -> list[dict[str, Any]]:
        """Task executions, optionally filtered (see Mistral's ``tasks()``)."""
        ...

    def global_var(self, name: str) -> Any:
        """A variable of the workflow's global context, or None."""
        ...

    def executions(self, id: str | None = None, root_execution_id: str | None = None,
                   state: str | None = None, from_time: str | None = None,
                   to_time: str | None = None) -> list[dict[str, Any]]:
        """Workflow executions filtered by id, root, state and creation time."""
        ...


def shape_task(task: Mapping[str, Any]) -> dict[str, Any]:
    """A task dict with exactly :data:`TASK_FIELDS` (missing ones are None)."""
    return {key: task.get(key) for key in TASK_FIELDS}


def shape_execution(execution: Mapping[str, Any]) -> dict[str, Any]:
    """An execution dict with exactly :data:`EXECUTION_FIELDS` (missing ones are None)."""
    return {key: execution.get(key) for key in EXECUTION_FIELDS}


def _timestamp(value: Any) -> str | None:
    """Normalise a datetime or an ISO-ish string to ``YYYY-MM-DD hh:mm:ss[.ffffff]``."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None).isoformat(" ")
    text = str(value).strip().replace("T", " ")
    return text[:-1] if text.endswith("Z") else text


@dataclass
class StaticFunctionContext:
    """A :class:`FunctionContext` over plain data, for offline evaluation and tests.

    ``task_executions`` are in creation order (``task(name)`` returns the last
    one with that name); ``workflow_executions`` may carry ``task_execution_id``
    to link sub-workflows to their parent task (used by ``tasks(recursive=True)``).
    """

    environment: dict[str, Any] = field(default_factory=dict)
    execution_info: dict[str, Any] = field(default_factory=dict)
    task_executions: list[dict[str, Any]] = field(default_factory=list)
    current_task: dict[str, Any] | None = None
    global_context: dict[str, Any] = field(default_factory=dict)
    workflow_executions: list[dict[str, Any]] = field(default_factory=list)

    def env(self) -> dict[str, Any]:
        return self.environment

    def execution(self) -> dict[str, Any]:
        return shape_execution(self.execution_info) if self.execution_info else {}

    def task(self, name: str | None = None) -> dict[str, Any] | None:
        current = self.current_task
        if current is not None and (not name or current.get("name") == name):
            return shape_task(current)
        if not name:
            return None
        wf_id = self.execution_info.get("id")
        found = [t for t in self.task_executions if t.get("name") == name
                 and (wf_id is None or t.get("workflow_execution_id") in (None, wf_id))]
        return shape_task(found[-1]) if found else None

    def tasks(self, workflow_execution_id: str | None = None, recursive: bool = False,
              state: str | None = None, flat: bool = False) -> list[dict[str, Any]]:
        return [shape_task(t) for t in
                self._collect(workflow_execution_id, recursive, state, flat)]

    def _children(self, task: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [ex for ex in self.workflow_executions
                if task.get("id") is not None and ex.get("task_execution_id") == task.get("id")]

    def _passes(self, task: Mapping[str, Any], state: str | None, flat: bool) -> bool:
        if state and task.get("state") != state:
            return False
        if flat and task.get("type") != ACTION_TASK_TYPE:
            return all(ex.get("state") != task.get("state") for ex in self._children(task))
        return True

    def _collect(self, wf_id: str | None, recursive: bool, state: str | None,
                 flat: bool) -> list[dict[str, Any]]:
        selected = [t for t in self.task_executions
                    if wf_id is None or t.get("workflow_execution_id") == wf_id]
        nested: list[dict[str, Any]] = []
        if recursive and wf_id:
            for task in selected:
                if task.get("type") == WORKFLOW_TASK_TYPE:
                    for sub in self._children(task):
                        nested.extend(self._collect(sub.get("id"), recursive, state, flat))
        return [t for t in selected if self._passes(t, state, flat)] + nested

    def global_var(self, name: str) -> Any:
        return self.global_context.get(name)

    def executions(self, id: str | None = None, root_execution_id: str | None = None,
                   state: str | None = None, from_time: str | None = None,
                   to_time: str | None = None) -> list[dict[str, Any]]:
        start, end = _timestamp(from_time), _timestamp(to_time)
        result = []
        for ex in self.workflow_executions:
            created = _timestamp(ex.get("created_at"))
            if ((id is not None and ex.get("id") != id)
                    or (root_execution_id is not None
                        and ex.get("root_execution_id") != root_execution_id)
                    or (state is not None and ex.get("state") != state)
                    or (start is not None and (created is None or created < start))
                    or (end is not None and (created is None or created >= end))):
                continue
            result.append(dict(ex))
        return result


#: The function context used when ``evaluate`` gets none: everything is empty.
EMPTY_FUNCTION_CONTEXT = StaticFunctionContext()

_MISTRAL_KEYS = ("__env", "__execution", "__task_execution")


class CallContext:
    """The first argument of every expression function.

    It is a :class:`FunctionContext` (delegating to the one given to
    ``evaluate``) that also carries ``data``, the value the expression is
    evaluated on (``$`` / ``_``). For functions written in Mistral's style,
    ``context['__env']``, ``context['__execution']`` and
    ``context['__task_execution']`` work too.
    """

    __slots__ = ("functions", "data")

    def __init__(self, functions: FunctionContext, data: Any) -> None:
        self.functions = functions
        self.data = data

    def env(self) -> dict[str, Any]:
        return self.functions.env()

    def execution(self) -> dict[str, Any]:
        return self.functions.execution()

    def task(self, name: str | None = None) -> dict[str, Any] | None:
        return self.functions.task(name)

    def tasks(self, workflow_execution_id: str | None = None, recursive: bool = False,
              state: str | None = None, flat: bool = False) -> list[dict[str, Any]]:
        return self.functions.tasks(workflow_execution_id, recursive, state, flat)

    def global_var(self, name: str) -> Any:
        return self.functions.global_var(name)

    def executions(self, id: str | None = None, root_execution_id: str | None = None,
                   state: str | None = None, from_time: str | None = None,
                   to_time: str | None = None) -> list[dict[str, Any]]:
        return self.functions.executions(id, root_execution_id, state, from_time, to_time)

    def __getitem__(self, key: str) -> Any:
        if key == "__env":
            return self.env()
        if key == "__execution":
            return self.execution()
        if key == "__task_execution":
            task = self.task()
            return None if task is None else {"id": task.get("id"), "name": task.get("name")}
        if isinstance(self.data, Mapping):
            return self.data[key]
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        """Mapping-style access with a default (see ``__getitem__``)."""
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        return key in _MISTRAL_KEYS or (isinstance(self.data, Mapping) and key in self.data)
