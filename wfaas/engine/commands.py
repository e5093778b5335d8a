"""Commands: what the shell must do after persisting the new state.

Every command is a frozen dataclass with a ``kind`` string; ``to_dict()`` /
:func:`command_from_dict` round-trip them as plain JSON-able data.  Commands are
returned in the order they must be dispatched; the shell runs them after the
transaction that stored the new state commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from wfaas.engine.plain import Tagged, from_tagged_dict

# Timer kinds (ScheduleTimer.timer_kind / TimerFired.timer_kind).
WAIT_BEFORE = "wait_before"
WAIT_AFTER = "wait_after"
RETRY = "retry"
TIMEOUT = "timeout"


@dataclass(frozen=True)
class Command(Tagged):
    """Base class of all commands."""


@dataclass(frozen=True)
class RunAction(Command):
    """Run one action execution (already recorded in ``state.actions[action_id]``).

    ``index`` is the with-items index (0 otherwise); ``timeout`` (seconds or
    None) is also enforced by a ScheduleTimer(timeout); ``safe_rerun`` tells
    the executor the action may run again if redelivered.  ``rerun_no`` counts
    reruns of the task (Mistral's task_rerun_no).
    """

    kind: ClassVar[str] = "run_action"
    action_id: str = ""
    task_id: str = ""
    task_name: str = ""
    action: str = ""
    input: dict[str, Any] = field(default_factory=dict)
    target: str | None = None
    timeout: float | None = None
    safe_rerun: bool = False
    index: int = 0
    rerun_no: int = 0


@dataclass(frozen=True)
class StartSubWorkflow(Command):
    """Start a child workflow execution with id ``execution_id``.

    ``params`` carry ``env`` (the root env), ``namespace``, ``notify`` and any
    non-input keys of the task input (Mistral moves them to params), plus
    ``task_execution_id`` / ``root_execution_id`` / ``index``.  Its completion
    comes back as ActionCompleted(action_id=execution_id).
    """

    kind: ClassVar[str] = "start_sub_workflow"
    execution_id: str = ""
    task_id: str = ""
    task_name: str = ""
    workflow_name: str = ""
    input: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    index: int = 0


@dataclass(frozen=True)
class ScheduleTimer(Command):
    """Deliver TimerFired(timer_id, timer_kind, task_id) at ``due`` (epoch seconds)."""

    kind: ClassVar[str] = "schedule_timer"
    timer_id: str = ""
    due: float = 0.0
    timer_kind: str = ""
    task_id: str = ""


@dataclass(frozen=True)
class CancelTimer(Command):
    """Drop a pending timer (a late TimerFired for it is ignored anyway)."""

    kind: ClassVar[str] = "cancel_timer"
    timer_id: str = ""


@dataclass(frozen=True)
class CancelChild(Command):
    """Cancel a running action execution or sub-workflow (``is_workflow``)."""

    kind: ClassVar[str] = "cancel_child"
    child_id: str = ""
    is_workflow: bool = False
    message: str | None = None


@dataclass(frozen=True)
class PauseChild(Command):
    """Pause a running sub-workflow (actions cannot be paused)."""

    kind: ClassVar[str] = "pause_child"
    child_id: str = ""
    is_workflow: bool = True


@dataclass(frozen=True)
class ResumeChild(Command):
    """Resume a paused sub-workflow, merging ``env`` into its env."""

    kind: ClassVar[str] = "resume_child"
    child_id: str = ""
    is_workflow: bool = True
    env: dict[str, Any] | None = None


@dataclass(frozen=True)
class WorkflowPaused(Command):
    """This execution went to PAUSED: a parent must pause its task (ActionPaused)."""

    kind: ClassVar[str] = "workflow_paused"
    state_info: str | None = None
    parent_task_id: str | None = None


@dataclass(frozen=True)
class WorkflowResumed(Command):
    """This execution went back to RUNNING: a parent gets ActionResumed."""

    kind: ClassVar[str] = "workflow_resumed"
    parent_task_id: str | None = None


@dataclass(frozen=True)
class WorkflowFinished(Command):
    """This execution reached SUCCESS, ERROR or CANCELLED.

    A parent gets ActionCompleted(action_id=<this id>, state, result=output,
    state_info).  Also the cue to notify waiters.
    """

    kind: ClassVar[str] = "workflow_finished"
    state: str = ""
    output: Any = None
    state_info: str | None = None
    parent_task_id: str | None = None


@dataclass(frozen=True)
class Notify(Command):
    """A notification event (WORKFLOW_SUCCEEDED, TASK_FAILED, ...) for notifiers."""

    kind: ClassVar[str] = "notify"
    event: str = ""
    task_id: str | None = None


COMMAND_TYPES: dict[str, type[Command]] = {
    cls.kind: cls
    for cls in (RunAction, StartSubWorkflow, ScheduleTimer, CancelTimer, CancelChild,
                PauseChild, ResumeChild, WorkflowPaused, WorkflowResumed, WorkflowFinished,
                Notify)
}


def command_from_dict(data: dict[str, Any]) -> Command:
    """Rebuild a command from ``Command.to_dict()`` output."""
    return from_tagged_dict(COMMAND_TYPES, data)
