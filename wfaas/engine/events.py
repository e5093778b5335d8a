"""Events: what happened to a workflow execution, fed to ``decide``.

Every event is a frozen dataclass with a ``kind`` string; ``to_dict()`` gives
plain JSON-able data (``{"kind": ..., <fields>}``) and :func:`event_from_dict`
rebuilds it, so the shell can queue events in a database or on a bus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from wfaas.engine.plain import Tagged, from_tagged_dict


@dataclass(frozen=True)
class Event(Tagged):
    """Base class of all events."""


@dataclass(frozen=True)
class StartWorkflow(Event):
    """Start the execution (state must be the IDLE one from ``new_workflow_state``).

    ``input`` is the user input (validated and completed with defaults here);
    ``params`` are the execution params: ``env`` (dict, already resolved from a
    stored environment by the shell), ``task_name`` (reverse workflows),
    ``namespace``, ``notify``, ``evaluate_env`` ... kept as given.
    """

    kind: ClassVar[str] = "start_workflow"
    input: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionCompleted(Event):
    """An action execution or a sub-workflow execution finished.

    ``action_id`` is the id from RunAction or StartSubWorkflow.execution_id;
    ``state`` is SUCCESS, ERROR or CANCELLED; ``result`` is the action's data on
    SUCCESS, its error (any JSON value, usually a string) on ERROR, and for a
    sub-workflow its output; ``state_info`` the sub-workflow's state_info.
    """

    kind: ClassVar[str] = "action_completed"
    action_id: str = ""
    state: str = "SUCCESS"
    result: Any = None
    state_info: str | None = None


@dataclass(frozen=True)
class ActionPaused(Event):
    """An async action or a sub-workflow was paused (pause bubbles up)."""

    kind: ClassVar[str] = "action_paused"
    action_id: str = ""


@dataclass(frozen=True)
class ActionResumed(Event):
    """A paused async action or sub-workflow was resumed."""

    kind: ClassVar[str] = "action_resumed"
    action_id: str = ""


@dataclass(frozen=True)
class TimerFired(Event):
    """A timer from ScheduleTimer is due; stale (cancelled) timers are ignored.

    ``timer_kind`` is one of ``wait_before``, ``wait_after``, ``retry``, ``timeout``.
    """

    kind: ClassVar[str] = "timer_fired"
    timer_id: str = ""
    timer_kind: str = ""
    task_id: str = ""


@dataclass(frozen=True)
class PauseWorkflow(Event):
    """Pause: no new task starts; running actions finish; sub-workflows are paused."""

    kind: ClassVar[str] = "pause_workflow"


@dataclass(frozen=True)
class ResumeWorkflow(Event):
    """Resume a PAUSED execution, optionally deep-merging ``env`` into its env."""

    kind: ClassVar[str] = "resume_workflow"
    env: dict[str, Any] | None = None


@dataclass(frozen=True)
class StopWorkflow(Event):
    """Force the execution to CANCELLED, ERROR or SUCCESS with ``message``."""

    kind: ClassVar[str] = "stop_workflow"
    state: str = "CANCELLED"
    message: str | None = None


@dataclass(frozen=True)
class RerunTask(Event):
    """Re-run a task in ERROR (the execution goes back to RUNNING).

    ``reset`` false keeps the successful with-items iterations; ``env`` is
    deep-merged into the execution env first.
    """

    kind: ClassVar[str] = "rerun_task"
    task_id: str = ""
    reset: bool = True
    env: dict[str, Any] | None = None


@dataclass(frozen=True)
class SkipTask(Event):
    """Skip a task in ERROR: it becomes SKIPPED and follows on-skip, else on-success."""

    kind: ClassVar[str] = "skip_task"
    task_id: str = ""


@dataclass(frozen=True)
class ExecutorHeartbeat(Tagged):
    """An executor tells the engines which actions it runs (sent with no execution id).

    Not a workflow event (``decide`` never sees it): the shell marks the listed action
    rows accepted and fresh; ``async_action_ids`` are asynchronous actions whose result
    comes later; ``announce`` marks the first beat of a starting executor.
    """

    kind: ClassVar[str] = "executor_heartbeat"
    executor: str = ""
    group: str = ""
    action_ids: list[str] = field(default_factory=list)
    async_action_ids: list[str] = field(default_factory=list)
    announce: bool = False


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (StartWorkflow, ActionCompleted, ActionPaused, ActionResumed, TimerFired,
                PauseWorkflow, ResumeWorkflow, StopWorkflow, RerunTask, SkipTask)
}


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from ``Event.to_dict()`` output."""
    return from_tagged_dict(EVENT_TYPES, data)
