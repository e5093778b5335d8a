"""``decide``: apply one event to a workflow execution state, return the commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wfaas.engine import dataflow, graph, states, tasks, workflow
from wfaas.engine.commands import Command, Notify
from wfaas.engine.dataflow import EngineFunctions, EvalFailure
from wfaas.engine.events import (
    ActionCompleted,
    ActionPaused,
    ActionResumed,
    Event,
    PauseWorkflow,
    RerunTask,
    ResumeWorkflow,
    SkipTask,
    StartWorkflow,
    StopWorkflow,
    TimerFired,
)
from wfaas.engine.model import TaskState, WorkflowState
from wfaas.engine.step import Step
from wfaas.exceptions import (
    ClientError,
    EngineError,
    InputError,
    NotAllowed,
    NotFound,
    WfaasError,
)
from wfaas.lang.specs import WorkflowSpec
from wfaas.utils.dicts import deep_merge
from wfaas.utils.states import cut_state_info

_NOT_DEFINED = object()


def decide(spec: WorkflowSpec, state: WorkflowState, event: Event,
           now: float) -> tuple[WorkflowState, list[Command]]:
    """Apply ``event`` to ``state`` (taken over and updated in place); return commands.

    Raises NotFound / NotAllowed / ClientError for an operation that does not
    apply (unknown task, wrong state) before changing anything, and
    EngineError / IllegalTransition on an engine bug (any unexpected exception
    is wrapped in EngineError; the state passed in must then be discarded).
    User mistakes inside the workflow (expressions, input) fail the task or the
    workflow instead.
    """
    handler = _HANDLERS.get(type(event))
    if handler is None:
        raise EngineError(f"Unknown event {event!r}")
    step = Step(spec, state, now)
    state.spec_ref = spec  # type: ignore[misc]  # read by task() / execution() spec
    state.changed_task_ids = set()
    state.changed_action_ids = set()
    try:
        handler(step, event)
        workflow.complete_if_done(step)
    except WfaasError:
        raise
    except Exception as e:  # an engine bug: the shell reloads and may force-fail
        raise EngineError(f"Engine failure handling {event.kind} for workflow execution "
                          f"{state.id}: {type(e).__name__}: {e}") from e
    state.updated_at = now
    return state, step.cmds


# ---- input ---------------------------------------------------------------------------
def validate_workflow_input(spec: WorkflowSpec, given: dict[str, Any] | None) -> dict[str, Any]:
    """Check the input against the declared one and fill the defaults.

    Raises InputError with Mistral's message
    ``Invalid input [name=..., class=..., missing=[...], unexpected=[...]]``.
    """
    given = dict(given or {})
    declared = {p.name: p for p in spec.input}
    missing = [n for n, p in declared.items() if not p.has_default and n not in given]
    unexpected = [k for k in given if k not in declared]
    if missing or unexpected:
        cls = "ReverseWorkflowSpec" if spec.type == "reverse" else "DirectWorkflowSpec"
        msg = f"Invalid input [name={spec.name}, class={cls}"
        if missing:
            msg += f", missing={missing}"
        if unexpected:
            msg += f", unexpected={unexpected}"
        raise InputError(msg + "]")
    for n, p in declared.items():
        if n not in given:
            given[n] = p.default
    return given


def check_vars(spec: WorkflowSpec, input: dict[str, Any], params: dict[str, Any]) -> None:
    """Raise InputError when the workflow's ``vars`` cannot be evaluated: Mistral refuses
    to start such an execution (HTTP 400) instead of creating it in ERROR."""
    if not spec.vars:
        return
    st = WorkflowState(id="00000000-0000-0000-0000-000000000000", workflow_name=spec.name)
    st.input = dict(input)
    st.params = dict(params)
    st.env = _initial_env(dict(params))
    st.spec_ref = spec  # type: ignore[misc]
    try:
        dataflow.evaluate(dict(spec.vars), dataflow.base_data(st, {}), EngineFunctions(st),
                          "workflow vars")
    except EvalFailure as e:
        raise InputError(e.message.removeprefix("Failed to evaluate workflow vars: ")) from None


def _start(step: Step, ev: StartWorkflow) -> None:
    st, spec = step.st, step.spec
    if st.state != states.IDLE:
        raise NotAllowed(f"Workflow execution {st.id} is already started [state={st.state}]")
    params = dict(ev.params or {})
    params.setdefault("env", {})  # Mistral always shows params.env
    given = dict(ev.input or {})
    if params.get("task_execution_id"):
        # A sub-workflow: task input keys it does not declare are params (env, ...).
        declared = {p.name for p in spec.input}
        for key in [k for k in given if k not in declared]:
            params[key] = given.pop(key)
    st.params = params
    st.parent_task_id = params.get("task_execution_id")
    st.root_execution_id = params.get("root_execution_id")
    st.context = {"__execution": {"id": st.id}}
    st.input = given
    try:
        st.input = validate_workflow_input(spec, given)
        st.env = _initial_env(params)
        data = dataflow.base_data(st, {})
        if spec.vars:
            values = dataflow.evaluate(dict(spec.vars), data, EngineFunctions(st),
                                       "workflow vars")
            st.context = {**st.context, **values}
    except (InputError, EvalFailure) as e:
        workflow.fail(step, str(e))
        return
    step.set_wf(states.RUNNING)
    graph.start(step)


def _initial_env(params: dict[str, Any]) -> dict[str, Any]:
    env = params.get("env") or {}
    if not isinstance(env, dict):
        raise InputError(f"Unexpected value type for environment [env={env!r}, "
                         f"type={type(env).__name__}]")
    if params.get("evaluate_env", True) and dataflow.has_expr(env):
        holder = WorkflowState(id="", workflow_name="", env=env)
        return dict(dataflow.evaluate(env, {"__env": env}, EngineFunctions(holder), "env"))
    return env


# ---- actions -------------------------------------------------------------------------
def _action_completed(step: Step, ev: ActionCompleted) -> None:
    st = step.st
    if ev.state not in (states.SUCCESS, states.ERROR, states.CANCELLED):
        raise ClientError(f"Invalid action completion state {ev.state!r}")
    a = st.actions.get(ev.action_id)
    if a is None or a.state not in (states.RUNNING, states.PAUSED):
        return  # unknown, duplicate or already cancelled: nothing to do
    step.set_action(a, ev.state)
    a.result, a.state_info = ev.result, ev.state_info
    if a.is_workflow and ev.state != states.SUCCESS:
        a.state_info = _subworkflow_info(a.id, ev)
    task = st.tasks.get(a.task_id)
    a.accepted = task is not None and task.attempt == a.attempt
    if states.is_terminal(st.state):
        _late_completion(step, a.task_id, ev.state)
        return
    tasks.on_action_done(step, a)


def _subworkflow_info(child_id: str, ev: ActionCompleted) -> str | None:
    """The state_info a failed or cancelled sub-workflow gives its task: like Mistral, the
    ``result`` of the child's output as text (None when empty); a child that never ran
    (its output is not a mapping) keeps the message it was stopped with."""
    if isinstance(ev.result, dict) and "result" in ev.result:
        text = ev.result["result"]
        return cut_state_info(str(text)) if text else None
    if ev.state_info:
        return ev.state_info
    kind = "Failed" if ev.state == states.ERROR else "Cancelled"
    return f"{kind} subworkflow [execution_id={child_id}]"


def _late_completion(step: Step, task_id: str, state: str) -> None:
    # The workflow already ended (fail / succeed command): record the task's
    # outcome, follow no transition.
    task = step.st.tasks.get(task_id)
    if task is None or task.state not in (states.RUNNING, states.PAUSED):
        return
    if task.with_items is not None and any(
            step.st.actions[x].state in (states.RUNNING, states.PAUSED)
            for x in step.st.by_task.get(task.id, ())):
        return
    step.set_task(task, state, task.state_info, keep_info=True)
    task.processed = True


def _action_paused(step: Step, ev: ActionPaused) -> None:
    st = step.st
    a = st.actions.get(ev.action_id)
    if a is None or a.state != states.RUNNING:
        return
    step.set_action(a, states.PAUSED)
    task = st.tasks[a.task_id]
    if task.state == states.RUNNING and a.attempt == task.attempt:
        step.set_task(task, states.PAUSED, task.state_info, keep_info=True)
    workflow.pause(step)


def _action_resumed(step: Step, ev: ActionResumed) -> None:
    st = step.st
    a = st.actions.get(ev.action_id)
    if a is None or a.state != states.PAUSED:
        return
    step.set_action(a, states.RUNNING)
    task = st.tasks[a.task_id]
    if task.state == states.PAUSED and not any(
            st.actions[x].state == states.PAUSED for x in st.by_task.get(task.id, ())):
        step.set_task(task, states.RUNNING, task.state_info, keep_info=True)
    if st.state == states.PAUSED and not any(
            st.tasks[t].state == states.PAUSED for t in st.active):
        workflow.set_running(step)
        _replay(step)


def _timer(step: Step, ev: TimerFired) -> None:
    st = step.st
    timer = st.timers.pop(ev.timer_id, None)
    if timer is None or states.is_terminal(st.state):
        return
    if st.state == states.PAUSED:
        step.defer({"op": "timer", "kind": timer.kind, "task_id": timer.task_id})
        return
    task = st.tasks.get(timer.task_id)
    if task is not None:
        tasks.on_timer(step, timer.kind, task)


# ---- operations ----------------------------------------------------------------------
def _pause(step: Step, ev: PauseWorkflow) -> None:
    st = step.st
    if st.state == states.PAUSED:
        return
    if st.state != states.RUNNING:
        raise NotAllowed(f"Can't pause workflow execution {st.id} in state {st.state}")
    workflow.pause(step)


def _merge_env(step: Step, env: dict[str, Any] | None) -> None:
    if env:
        step.st.env = deep_merge(step.st.env, env)
        step.st.params = {**step.st.params, "env": step.st.env}


def _resume(step: Step, ev: ResumeWorkflow) -> None:
    st = step.st
    if st.state == states.RUNNING and not ev.env:
        return
    if st.state != states.PAUSED:
        raise NotAllowed(f"Can't resume workflow execution {st.id} in state {st.state}")
    _merge_env(step, ev.env)
    workflow.set_running(step)
    workflow.resume_children(step, ev.env)
    _replay(step)


def _replay(step: Step) -> None:
    """Run the work deferred while the workflow was paused, in order."""
    st = step.st
    pending, st.pending = st.pending, []
    for item in pending:
        task = st.tasks.get(item.get("task_id", ""))
        if task is None or states.is_terminal(st.state):
            continue
        op = item["op"]
        if op == "start" and task.state in (states.IDLE, states.WAITING):
            tasks.start_task(step, task, skip_pause=bool(item.get("skip_pause")))
        elif op == "refill" and task.state == states.RUNNING and task.with_items is not None:
            tasks.refill(step, task)
        elif op == "items":
            graph.run_items(step, task.id, item["items"])
        elif op == "timer":
            tasks.on_timer(step, item["kind"], task)
    graph.check_joins(step)


def _stop(step: Step, ev: StopWorkflow) -> None:
    st = step.st
    if ev.state not in (states.CANCELLED, states.ERROR, states.SUCCESS):
        raise ClientError(f"Invalid state to stop a workflow: {ev.state!r}")
    if states.is_terminal(st.state):
        raise NotAllowed(f"Workflow execution {st.id} is already {st.state}")
    st.pending = []
    if ev.state == states.CANCELLED:
        workflow.cancel(step, ev.message)
        return
    for task in workflow.active_tasks(step):
        workflow.cancel_task(step, task, ev.message)
    if ev.state == states.ERROR:
        workflow.fail(step, ev.message)
    else:
        workflow.succeed(step, ev.message)


def _error_task(step: Step, task_id: str, what: str) -> TaskState:
    st = step.st
    task = st.tasks.get(task_id)
    if task is None:
        raise NotFound(f"Task execution not found [id={task_id}]")
    if task.state != states.ERROR:
        raise NotAllowed(f"Can't {what} task {task.name} [id={task_id}] in state {task.state}; "
                         "only a task in ERROR can be")
    if st.state not in (states.ERROR, states.RUNNING, states.PAUSED):
        raise NotAllowed(f"Can't {what} a task of workflow execution {st.id} in state "
                         f"{st.state}")
    return task


def _reopen(step: Step, task: TaskState, env: dict[str, Any] | None) -> None:
    st = step.st
    _merge_env(step, env)
    if st.state == states.ERROR:
        step.set_wf(states.RUNNING)
        st.output = None
    task.error_handled = False
    task.processed = False
    task.next_tasks = []
    task.published = {}
    dataflow.invalidate(st, task)


def _rerun(step: Step, ev: RerunTask) -> None:
    task = _error_task(step, ev.task_id, "rerun")
    _reopen(step, task, ev.env)
    st = step.st
    wi = task.with_items
    todo: list[int] | None = None
    if wi is not None and not ev.reset:
        base = wi.base
        ok = {st.actions[a].index for a in st.by_task.get(task.id, ())
              if st.actions[a].state == states.SUCCESS and st.actions[a].attempt >= base}
        todo = [i for i in range(wi.count) if i not in ok]
    task.rerun_no += 1
    task.retry_no = 0
    task.attempt += 1
    task.result = None
    if todo is None:
        task.with_items = None
        st.items_cache.pop(task.id, None)
    step.emit(Notify(event="TASK_RERUN", task_id=task.id))
    try:
        tasks.launch(step, task, todo)
    except EvalFailure as e:
        tasks.fail_task(step, task, e.message)


def _skip(step: Step, ev: SkipTask) -> None:
    task = _error_task(step, ev.task_id, "skip")
    _reopen(step, task, None)
    tasks.finish_task(step, task, states.SKIPPED, "Task was skipped.", task.result)


_HANDLERS: dict[type[Event], Callable[[Step, Any], None]] = {
    StartWorkflow: _start, ActionCompleted: _action_completed, ActionPaused: _action_paused,
    ActionResumed: _action_resumed, TimerFired: _timer, PauseWorkflow: _pause,
    ResumeWorkflow: _resume, StopWorkflow: _stop, RerunTask: _rerun, SkipTask: _skip,
}
