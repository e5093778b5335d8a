"""The workflow execution state: plain, JSON-able data with to_dict/from_dict.

``WorkflowState`` is the execution header plus its task executions, action
executions (sub-workflow executions count as actions with ``is_workflow``) and
pending timers.  ``decide`` takes ownership of the state it is given and
returns it updated (the shell must not reuse the old object); it records in
``changed_task_ids`` / ``changed_action_ids`` what the event changed, so the
shell persists only those rows plus the header (``header_dict()``).

Ids are deterministic: derived from the execution id and ``counter``
(UUID-shaped, never random), so replaying the same events gives the same ids.
Derived indexes (tasks by name, actions by task, active counts, cached
contexts) are rebuilt on load and never serialized.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

from wfaas.engine import states
from wfaas.engine.withitems import RUNTIME_KEY, WithItems


def derive_id(base: str, counter: int) -> str:
    """A UUID-shaped id derived from ``base`` and ``counter`` (deterministic)."""
    h = hashlib.sha1(f"{base}:{counter}".encode()).hexdigest()
    return f"{h[0:8]}-{h[8:12]}-5{h[13:16]}-a{h[17:20]}-{h[20:32]}"


@dataclass
class TaskState:
    """One task execution.

    ``upstream`` lists the task ids whose outbound contexts make this task's
    inbound context (merged in order; nothing is copied into the task);
    ``published`` is what the task itself published on its branch;
    ``result`` is the task result (a list by item index for with-items, kept
    only when keep-result is true); ``runtime`` holds policy counters (small, O(1)
    size) and ``with_items`` the progress of a with-items task (both stored in the
    row's ``runtime_context``, the progress under ``"wi"``); ``next_tasks`` the
    [task name, event] pairs its transitions fired (``processed`` once done).
    """

    id: str
    name: str
    state: str
    type: str = "action"
    state_info: str | None = None
    upstream: list[str] = field(default_factory=list)
    published: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    error_handled: bool = False
    processed: bool = False
    next_tasks: list[list[str]] = field(default_factory=list)
    join_arrivals: list[str] = field(default_factory=list)
    retry_no: int = 0
    rerun_no: int = 0
    attempt: int = 0
    runtime: dict[str, Any] = field(default_factory=dict)
    created_at: float = 0.0
    updated_at: float = 0.0
    with_items: WithItems | None = None

    def runtime_dict(self) -> dict[str, Any]:
        """The stored ``runtime_context``: ``runtime`` plus the with-items progress."""
        if self.with_items is None:
            return self.runtime
        return {**self.runtime, RUNTIME_KEY: self.with_items.to_dict()}

    def to_dict(self) -> dict[str, Any]:
        """Plain data (shallow: nested values are shared, not copied)."""
        data = dict(self.__dict__)
        del data["with_items"]
        data["runtime"] = self.runtime_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskState:
        """Rebuild from ``to_dict()`` output (or its JSON round trip)."""
        runtime = data.get("runtime") or {}
        if RUNTIME_KEY not in runtime:
            return cls(**data)
        runtime = dict(runtime)
        raw = runtime.pop(RUNTIME_KEY)
        progress = WithItems.from_dict(raw) if isinstance(raw, dict) else None
        return cls(**{**data, "runtime": runtime}, with_items=progress)


@dataclass
class ActionState:
    """One action execution, or one sub-workflow execution when ``is_workflow``.

    ``attempt`` is the task attempt it belongs to (older attempts are ignored
    when they complete late); ``index`` the with-items index.
    """

    id: str
    task_id: str
    name: str
    state: str
    is_workflow: bool = False
    index: int = 0
    attempt: int = 0
    input: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    state_info: str | None = None
    accepted: bool = False
    created_at: float = 0.0
    updated_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain data (shallow)."""
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActionState:
        """Rebuild from ``to_dict()`` output."""
        return cls(**data)


@dataclass
class TimerState:
    """A pending timer (wait_before, wait_after, retry, timeout) of a task."""

    id: str
    kind: str
    task_id: str
    due: float

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return dict(self.__dict__)


HEADER_FIELDS = (
    "id", "workflow_name", "state", "state_info", "input", "params", "env", "context",
    "output", "counter", "parent_task_id", "root_execution_id", "pending", "created_at",
    "updated_at", "timers",
)


@dataclass
class WorkflowState:
    """A workflow execution: header fields, tasks, actions and timers.

    ``context`` is the workflow (global) context: evaluated ``vars``, global
    publishes and ``__execution``; ``env`` is ``params.env``; ``pending`` holds
    engine-command lists interrupted by ``pause`` (continued on resume).
    """

    # The spec being run (set by ``decide``; not part of the stored state).
    spec_ref: ClassVar[Any] = None

    id: str
    workflow_name: str
    state: str = states.IDLE
    state_info: str | None = None
    input: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    env: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    output: Any = None
    counter: int = 0
    parent_task_id: str | None = None
    root_execution_id: str | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)
    created_at: float = 0.0
    updated_at: float = 0.0
    timers: dict[str, TimerState] = field(default_factory=dict)
    tasks: dict[str, TaskState] = field(default_factory=dict)
    actions: dict[str, ActionState] = field(default_factory=dict)
    # ---- derived, never serialized -------------------------------------------------
    changed_task_ids: set[str] = field(default_factory=set, repr=False)
    changed_action_ids: set[str] = field(default_factory=set, repr=False)
    by_name: dict[str, list[str]] = field(default_factory=dict, repr=False)
    by_task: dict[str, list[str]] = field(default_factory=dict, repr=False)
    active: set[str] = field(default_factory=set, repr=False)
    order: dict[str, int] = field(default_factory=dict, repr=False)
    out_cache: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    ver_cache: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)
    items_cache: dict[str, dict[str, list[Any]]] = field(default_factory=dict, repr=False)
    #: the ``context`` object the shell stored last (None: not stored since loaded); the
    #: engine replaces ``context`` when it changes, never mutates it, so the shell writes
    #: it only when ``context is not stored_context``
    stored_context: Any = field(default=None, repr=False, compare=False)
    #: the ``params`` object the shell stored last (None: not stored since loaded); the
    #: engine replaces ``params`` when it changes (a resume or rerun with an ``env``)
    stored_params: Any = field(default=None, repr=False, compare=False)
    #: the ``state`` the shell stored last (None: not stored since loaded): a step that
    #: leaves it as it is does not write it (on SQLite, every UPDATE naming the column
    #: rewrites the row's entry of the state index, one more page in the WAL)
    stored_state: str | None = field(default=None, repr=False, compare=False)

    # ---- ids and indexes -----------------------------------------------------------
    def new_id(self) -> str:
        """The next deterministic id of this execution."""
        self.counter += 1
        return derive_id(self.id, self.counter)

    def add_task(self, task: TaskState) -> None:
        """Insert a task execution and index it."""
        self.tasks[task.id] = task
        self.order[task.id] = len(self.order)
        self.by_name.setdefault(task.name, []).append(task.id)
        if task.state in states.ACTIVE:
            self.active.add(task.id)
        self.changed_task_ids.add(task.id)

    def add_action(self, action: ActionState) -> None:
        """Insert an action execution and index it by task."""
        self.actions[action.id] = action
        self.by_task.setdefault(action.task_id, []).append(action.id)
        self.changed_action_ids.add(action.id)

    def touch_task(self, task: TaskState) -> None:
        """Mark a task as changed (persist it) and keep the active index right."""
        self.changed_task_ids.add(task.id)
        if task.state in states.ACTIVE:
            self.active.add(task.id)
        else:
            self.active.discard(task.id)

    def last_task(self, name: str) -> TaskState | None:
        """The most recent execution of the task called ``name``."""
        ids = self.by_name.get(name)
        return self.tasks[ids[-1]] if ids else None

    def reindex(self) -> None:
        """Rebuild the derived indexes (after loading)."""
        self.by_name = {}
        self.by_task = {}
        self.active = set()
        self.order = {}
        self.out_cache = {}
        self.ver_cache = {}
        self.items_cache = {}
        for t in self.tasks.values():
            self.order[t.id] = len(self.order)
            self.by_name.setdefault(t.name, []).append(t.id)
            if t.state in states.ACTIVE:
                self.active.add(t.id)
        for a in self.actions.values():
            self.by_task.setdefault(a.task_id, []).append(a.id)

    # ---- serialization -------------------------------------------------------------
    def header_dict(self) -> dict[str, Any]:
        """The execution header alone (what changes on every event)."""
        data = {name: getattr(self, name) for name in HEADER_FIELDS}
        data["timers"] = {k: t.to_dict() for k, t in self.timers.items()}
        return data

    def to_dict(self) -> dict[str, Any]:
        """The whole state as plain data: header + ``tasks`` + ``actions`` lists."""
        data = self.header_dict()
        data["tasks"] = [t.to_dict() for t in self.tasks.values()]
        data["actions"] = [a.to_dict() for a in self.actions.values()]
        return data

    @classmethod
    def from_parts(cls, header: dict[str, Any], tasks: list[dict[str, Any]],
                   actions: list[dict[str, Any]]) -> WorkflowState:
        """Rebuild from a header dict and task / action dicts (in creation order)."""
        values = {name: header[name] for name in HEADER_FIELDS if name in header}
        values["timers"] = {k: TimerState(**t) for k, t in (header.get("timers") or {}).items()}
        st = cls(**values)
        for td in tasks:
            t = TaskState.from_dict(td)
            st.tasks[t.id] = t
        for ad in actions:
            a = ActionState.from_dict(ad)
            st.actions[a.id] = a
        st.reindex()
        return st

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkflowState:
        """Rebuild from ``to_dict()`` output (or its JSON round trip)."""
        return cls.from_parts(data, data.get("tasks", []), data.get("actions", []))


def new_workflow_state(execution_id: str, workflow_name: str, now: float = 0.0) -> WorkflowState:
    """A fresh IDLE execution, to be started with a StartWorkflow event."""
    return WorkflowState(id=execution_id, workflow_name=workflow_name, created_at=now,
                         updated_at=now)
