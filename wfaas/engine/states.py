"""Execution states and the explicit transition tables (Mistral's ``states.py``).

Creating a task directly in a state (RUNNING, WAITING, RUNNING_DELAYED, IDLE)
is not a transition; every later change goes through :func:`check_task` or
:func:`check_workflow`, which raise :class:`IllegalTransition` on a change the
table forbids (that is an engine bug, never a user mistake).
"""

from __future__ import annotations

from wfaas.exceptions import IllegalTransition
from wfaas.utils.states import CANCELLED as CANCELLED
from wfaas.utils.states import ERROR as ERROR
from wfaas.utils.states import IDLE as IDLE
from wfaas.utils.states import PAUSED as PAUSED
from wfaas.utils.states import RUNNING as RUNNING
from wfaas.utils.states import RUNNING_DELAYED as RUNNING_DELAYED
from wfaas.utils.states import SKIPPED as SKIPPED
from wfaas.utils.states import SUCCESS as SUCCESS
from wfaas.utils.states import TERMINAL as TERMINAL
from wfaas.utils.states import WAITING as WAITING
from wfaas.utils.states import WORKFLOW_TERMINAL as WORKFLOW_TERMINAL

ALL: tuple[str, ...] = (IDLE, WAITING, RUNNING, RUNNING_DELAYED, PAUSED, SUCCESS, ERROR,
                        CANCELLED, SKIPPED)
# Task states that keep a workflow from completing.
ACTIVE: frozenset[str] = frozenset({IDLE, WAITING, RUNNING, RUNNING_DELAYED, PAUSED})

# Mistral's _VALID_TRANSITIONS, plus what the engine needs explicitly:
# WAITING -> ERROR (a join that can no longer be satisfied), WAITING ->
# CANCELLED / RUNNING_DELAYED / IDLE (cancel, wait-before, pause-before of a
# join), IDLE -> RUNNING_DELAYED, RUNNING -> WAITING (a retried join re-armed),
# ERROR/SUCCESS -> RUNNING_DELAYED / RUNNING (retry of a failed or
# continue-on task; rerun), CANCELLED -> RUNNING (rerun).
TASK_TRANSITIONS: dict[str, frozenset[str]] = {
    IDLE: frozenset({RUNNING, RUNNING_DELAYED, ERROR, CANCELLED}),
    WAITING: frozenset({RUNNING, RUNNING_DELAYED, IDLE, ERROR, CANCELLED}),
    RUNNING: frozenset({PAUSED, RUNNING_DELAYED, SUCCESS, ERROR, CANCELLED, WAITING}),
    RUNNING_DELAYED: frozenset({RUNNING, IDLE, SUCCESS, ERROR, CANCELLED}),
    PAUSED: frozenset({RUNNING, ERROR, CANCELLED}),
    SUCCESS: frozenset({RUNNING_DELAYED, RUNNING}),
    ERROR: frozenset({RUNNING, RUNNING_DELAYED, SKIPPED}),
    CANCELLED: frozenset({RUNNING}),
    SKIPPED: frozenset(),
}

WORKFLOW_TRANSITIONS: dict[str, frozenset[str]] = {
    IDLE: frozenset({RUNNING, ERROR, CANCELLED}),
    RUNNING: frozenset({PAUSED, SUCCESS, ERROR, CANCELLED}),
    PAUSED: frozenset({RUNNING, SUCCESS, ERROR, CANCELLED}),
    ERROR: frozenset({RUNNING}),
    CANCELLED: frozenset({RUNNING}),
    SUCCESS: frozenset(),
}

# Action executions (and sub-workflows seen from the parent task): a paused
# async action may be completed directly.
ACTION_TRANSITIONS: dict[str, frozenset[str]] = {
    RUNNING: frozenset({PAUSED, SUCCESS, ERROR, CANCELLED}),
    PAUSED: frozenset({RUNNING, SUCCESS, ERROR, CANCELLED}),
    SUCCESS: frozenset(),
    ERROR: frozenset(),
    CANCELLED: frozenset(),
}


def is_terminal(state: str) -> bool:
    """True for SUCCESS, ERROR, CANCELLED and SKIPPED."""
    return state in TERMINAL


def is_valid_task_transition(old: str, new: str) -> bool:
    """Whether a task may go from ``old`` to ``new`` (same state: no-op, allowed)."""
    return old == new or new in TASK_TRANSITIONS.get(old, frozenset())


def is_valid_workflow_transition(old: str, new: str) -> bool:
    """Whether a workflow execution may go from ``old`` to ``new``."""
    return old == new or new in WORKFLOW_TRANSITIONS.get(old, frozenset())


def check_task(name: str, old: str, new: str) -> None:
    """Raise IllegalTransition when the task table forbids ``old -> new``."""
    if not is_valid_task_transition(old, new):
        raise IllegalTransition(
            f"Illegal task state transition {old} -> {new} [task={name}]")


def check_workflow(name: str, old: str, new: str) -> None:
    """Raise IllegalTransition when the workflow table forbids ``old -> new``."""
    if not is_valid_workflow_transition(old, new):
        raise IllegalTransition(
            f"Illegal workflow state transition {old} -> {new} [workflow={name}]")


def check_action(action_id: str, old: str, new: str) -> None:
    """Raise IllegalTransition when the action table forbids ``old -> new``."""
    if old != new and new not in ACTION_TRANSITIONS.get(old, frozenset()):
        raise IllegalTransition(
            f"Illegal action state transition {old} -> {new} [action_execution={action_id}]")
