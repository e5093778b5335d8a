"""The pure workflow engine: ``decide(spec, state, event, now) -> (state, commands)``.

This package imports only wfaas.lang, wfaas.expressions, wfaas.utils,
wfaas.exceptions and pure stdlib modules (enforced by
tests/unit/engine/test_purity.py): no database, clock, threads, config or I/O.

API (stable; the runtime shell is built on it)
==============================================

``decide(spec: WorkflowSpec, state: WorkflowState, event: Event, now: float)
-> tuple[WorkflowState, list[Command]]``  (wfaas.engine.core)
    ``now`` = UTC epoch seconds.  ``decide`` takes ownership of ``state`` and
    returns it updated (do not reuse the object you passed).  It never raises
    for mistakes inside a workflow (bad input, expression errors): those fail
    the task or the workflow with a state_info naming the task, the expression
    and the cause.  An operation that does not apply raises NotFound /
    NotAllowed / ClientError before changing anything (answer 4xx).
    ``IllegalTransition`` / ``EngineError`` mean an engine bug (discard the
    state object, reload it).
    ``spec`` must be the spec the execution started with (the shell stores it).

``new_workflow_state(execution_id, workflow_name, now=0.0) -> WorkflowState``
    A fresh IDLE execution; then ``decide(spec, st, StartWorkflow(...), now)``.

``validate_workflow_input(spec, input) -> dict``
    Raises ``InputError`` (Mistral's "Invalid input [...]" message) or returns
    the input with defaults; the API can call it before storing an execution
    (decide also checks and fails the workflow instead of raising).

State (wfaas.engine.model), plain mutable dataclasses with ``to_dict()``:
    ``WorkflowState``: id, workflow_name, state, state_info, input, params, env,
    context (vars + global publishes + __execution), output, counter,
    parent_task_id, root_execution_id, pending, created_at, updated_at, timers,
    tasks {id: TaskState}, actions {id: ActionState}.
    ``state.to_dict()`` / ``WorkflowState.from_dict(d)``: the whole state.
    ``state.header_dict()`` + ``TaskState.to_dict()`` + ``ActionState.to_dict()``
    / ``WorkflowState.from_parts(header, task_dicts, action_dicts)``: per row.
    After decide, persist the header plus ``state.changed_task_ids`` and
    ``state.changed_action_ids`` (only those changed).
    ``TaskState``: id, name, state, type, state_info, upstream, published,
    result, error_handled, processed, next_tasks, join_arrivals, retry_no,
    rerun_no, attempt, runtime, created_at, updated_at.
    ``ActionState``: id, task_id, name, state, is_workflow, index, attempt,
    input, result, state_info, accepted, created_at, updated_at.
    A sub-workflow execution is an ActionState with ``is_workflow=True`` whose
    id is the child execution id.

Events (wfaas.engine.events; frozen, ``to_dict()`` / ``event_from_dict()``):
    StartWorkflow(input, params)            params: env, task_name, namespace,
                                            notify, task_execution_id,
                                            root_execution_id, index ...
    ActionCompleted(action_id, state, result, state_info)
                                            state SUCCESS|ERROR|CANCELLED; also
                                            for sub-workflows (result = output)
    ActionPaused(action_id) / ActionResumed(action_id)
    TimerFired(timer_id, timer_kind, task_id)
    PauseWorkflow() / ResumeWorkflow(env) / StopWorkflow(state, message)
    RerunTask(task_id, reset=True, env=None) / SkipTask(task_id)
    ExecutorHeartbeat(executor, group, action_ids, async_action_ids, announce)
                                            shell-only (never given to decide)

Commands (wfaas.engine.commands; frozen, ``to_dict()`` / ``command_from_dict()``):
    RunAction(action_id, task_id, task_name, action, input, target, timeout,
              safe_rerun, index, rerun_no)
    StartSubWorkflow(execution_id, task_id, task_name, workflow_name, input,
                     params, index)
    ScheduleTimer(timer_id, due, timer_kind, task_id) / CancelTimer(timer_id)
              timer kinds: wait_before, wait_after, retry, timeout
    CancelChild(child_id, is_workflow, message) / PauseChild(child_id,
              is_workflow) / ResumeChild(child_id, is_workflow, env)
    WorkflowPaused(state_info, parent_task_id) / WorkflowResumed(parent_task_id)
    WorkflowFinished(state, output, state_info, parent_task_id)
              the shell sends ActionCompleted(<this execution id>, state,
              output, state_info) to the parent execution when parent_task_id
    Notify(event, task_id)  WORKFLOW_* / TASK_* notification events

Shell contract (what the runtime does with the commands)
    - RunAction: record nothing more (the ActionState is already in
      ``state.actions``); run it; answer ActionCompleted(action_id, ...).
      An action the engine cancelled (CancelChild) may still complete: the
      late result is recorded and ignored.
    - StartSubWorkflow: create execution ``execution_id`` with
      ``new_workflow_state`` and decide(child_spec, ..., StartWorkflow(input,
      params)); the child moves input keys it does not declare into its
      params (Mistral's behaviour).  Its WorkflowFinished / WorkflowPaused /
      WorkflowResumed (parent_task_id set) become ActionCompleted(<child id>,
      state, result=output, state_info) / ActionPaused / ActionResumed events
      of the parent execution.
    - PauseChild / ResumeChild / CancelChild(is_workflow=True): send
      PauseWorkflow / ResumeWorkflow(env) / StopWorkflow("CANCELLED", message)
      to the child execution.
    - ScheduleTimer / CancelTimer: deliver TimerFired at ``due``; a timer that
      is unknown or already cancelled when it fires is ignored.
    - Keep the WorkflowState object in memory between events when possible:
      derived caches (contexts, with-items values) are rebuilt lazily after
      ``from_parts``, which costs one walk of the execution.
    - Operations on the wrong state (rerun of a task not in ERROR, pause of a
      finished execution, unknown task id) raise NotAllowed / NotFound /
      ClientError from decide before anything changes: answer 4xx.

States (wfaas.engine.states): IDLE, WAITING, RUNNING, RUNNING_DELAYED, PAUSED,
SUCCESS, ERROR, CANCELLED, SKIPPED; ``TASK_TRANSITIONS`` /
``WORKFLOW_TRANSITIONS`` / ``ACTION_TRANSITIONS``; ``check_task`` /
``check_workflow`` / ``check_action`` raise ``IllegalTransition``.

Task ``type`` is "action" or "workflow" in TaskState (the wire spelling
"ACTION" / "WORKFLOW" is what ``task()`` returns in expressions).
"""

from wfaas.engine.commands import (
    CancelChild,
    CancelTimer,
    Command,
    Notify,
    PauseChild,
    ResumeChild,
    RunAction,
    ScheduleTimer,
    StartSubWorkflow,
    WorkflowFinished,
    WorkflowPaused,
    WorkflowResumed,
    command_from_dict,
)
from wfaas.engine.core import check_vars, decide, validate_workflow_input
from wfaas.engine.events import (
    ActionCompleted,
    ActionPaused,
    ActionResumed,
    Event,
    ExecutorHeartbeat,
    PauseWorkflow,
    RerunTask,
    ResumeWorkflow,
    SkipTask,
    StartWorkflow,
    StopWorkflow,
    TimerFired,
    event_from_dict,
)
from wfaas.engine.model import (
    ActionState,
    TaskState,
    TimerState,
    WorkflowState,
    new_workflow_state,
)

__all__ = [
    "check_vars",
    "ActionCompleted", "ActionPaused", "ActionResumed", "ActionState", "CancelChild",
    "CancelTimer", "Command", "Event", "ExecutorHeartbeat", "Notify", "PauseChild",
    "PauseWorkflow", "RerunTask",
    "ResumeChild", "ResumeWorkflow", "RunAction", "ScheduleTimer", "SkipTask",
    "StartSubWorkflow", "StartWorkflow", "StopWorkflow", "TaskState", "TimerFired",
    "TimerState", "WorkflowFinished", "WorkflowPaused", "WorkflowResumed", "WorkflowState",
    "command_from_dict", "decide", "event_from_dict", "new_workflow_state",
    "validate_workflow_input",
]

