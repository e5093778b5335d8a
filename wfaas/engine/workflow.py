"""Workflow-level transitions: pause, resume, finish (success / error / cancel)."""

from __future__ import annotations

from typing import Any

from wfaas.engine import dataflow, states
from wfaas.engine.commands import (
    CancelChild,
    PauseChild,
    ResumeChild,
    WorkflowFinished,
    WorkflowPaused,
    WorkflowResumed,
)
from wfaas.engine.dataflow import EngineFunctions, EvalFailure
from wfaas.engine.model import ActionState, TaskState
from wfaas.engine.step import Step
from wfaas.utils.states import STATE_INFO_CHARS, cut_state_info


def live_actions(step: Step, task: TaskState) -> list[ActionState]:
    """The not yet finished actions of the task's current attempt."""
    st = step.st
    return [st.actions[a] for a in st.by_task.get(task.id, ())
            if st.actions[a].attempt == task.attempt
            and st.actions[a].state in (states.RUNNING, states.PAUSED)]


def active_tasks(step: Step) -> list[TaskState]:
    """Tasks that are not finished, in creation order."""
    st = step.st
    return sorted((st.tasks[t] for t in st.active), key=lambda t: st.order[t.id])


def pause(step: Step, info: str | None = None) -> None:
    """RUNNING -> PAUSED: children sub-workflows are paused, nothing new starts."""
    if step.st.state != states.RUNNING:
        return
    step.set_wf(states.PAUSED, info)
    for task in active_tasks(step):
        for a in live_actions(step, task):
            if a.is_workflow and a.state == states.RUNNING:
                step.emit(PauseChild(child_id=a.id))
    step.emit(WorkflowPaused(state_info=info, parent_task_id=step.st.parent_task_id))


def resume_children(step: Step, env: dict[str, Any] | None) -> None:
    """Resume paused sub-workflows (and tasks paused because of them)."""
    for task in active_tasks(step):
        for a in live_actions(step, task):
            if a.is_workflow:
                step.emit(ResumeChild(child_id=a.id, env=env))


def set_running(step: Step) -> None:
    """PAUSED -> RUNNING (the caller then replays ``pending``)."""
    step.set_wf(states.RUNNING, None)
    step.emit(WorkflowResumed(parent_task_id=step.st.parent_task_id))


def final_context(step: Step) -> dict[str, Any]:
    """Merge of the outbound contexts of the end tasks (those that routed nowhere)."""
    st = step.st
    if step.spec.type == "reverse":
        target = st.params.get("task_name")
        t = st.last_task(str(target)) if target else None
        return dataflow.outbound(st, t) if t is not None else {}
    ends = [t for t in st.tasks.values()
            if t.state in (states.SUCCESS, states.ERROR, states.SKIPPED)
            and t.processed and not t.next_tasks]
    return dataflow.merge_outbound(st, ends)


def _public(ctx: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in ctx.items() if not k.startswith("__")}


def _finish(step: Step, state: str, output: Any, info: str | None) -> None:
    st = step.st
    step.set_wf(state, info)
    st.output = output
    for tid in list(st.timers):
        del st.timers[tid]
    step.emit(WorkflowFinished(state=state, output=output, state_info=info,
                               parent_task_id=st.parent_task_id))


def succeed(step: Step, msg: str | None = None) -> None:
    """Finish with SUCCESS and the evaluated ``output`` (or the final context)."""
    if states.is_terminal(step.st.state):
        return
    ctx = final_context(step)
    output: Any = None
    if step.spec.output is not None:
        try:
            output = dataflow.evaluate(step.spec.output, dataflow.base_data(step.st, ctx),
                                       EngineFunctions(step.st), "workflow output")
        except EvalFailure as e:
            fail(step, f"Failed to check and complete [wf_ex_id={step.st.id}, "
                       f"wf_name={step.spec.name}]: {e.message}")
            return
    _finish(step, states.SUCCESS, output or _public(ctx), msg)


def fail(step: Step, msg: str | None) -> None:
    """Finish with ERROR; output is ``{"result": msg}`` updated with ``output-on-error``
    (without one, with the final context, as Mistral does)."""
    if states.is_terminal(step.st.state):
        return
    ctx = final_context(step)
    extra: Any = {}
    if step.spec.output_on_error is not None:
        try:
            extra = dataflow.evaluate(step.spec.output_on_error,
                                      dataflow.base_data(step.st, ctx),
                                      EngineFunctions(step.st), "workflow output-on-error")
        except EvalFailure as e:
            msg = (f"Failed to evaluate expression in output-on-error! (output-on-error: "
                   f"'{step.spec.output_on_error}', exception: '{e.message}' Cause: '{msg}'")
            extra = {}
    if not extra:
        extra = _public(ctx)
    output: dict[str, Any] = {"result": msg}
    if isinstance(extra, dict):
        output.update(extra)  # as Mistral's merge: a ``result`` of its own replaces msg
    _finish(step, states.ERROR, output, msg)


def cancel(step: Step, msg: str | None) -> None:
    """Finish with CANCELLED: running tasks are cancelled with their children."""
    if states.is_terminal(step.st.state):
        return
    for task in active_tasks(step):
        cancel_task(step, task, msg)
    _finish(step, states.CANCELLED, {"result": msg}, msg)


def cancel_children(step: Step, task: TaskState, msg: str | None) -> None:
    """Cancel the live actions / sub-workflows of a task's current attempt."""
    for a in live_actions(step, task):
        step.set_action(a, states.CANCELLED)
        step.emit(CancelChild(child_id=a.id, is_workflow=a.is_workflow, message=msg))


def cancel_task(step: Step, task: TaskState, msg: str | None) -> None:
    """Cancel one unfinished task (no transitions follow)."""
    cancel_children(step, task, msg)
    step.cancel_timers(task)
    if task.state == states.WAITING or task.state not in states.TERMINAL:
        step.set_task(task, states.CANCELLED, msg)
    task.processed = True


#: a failure message lists no more failed actions / sub-workflows once it is this long
#: (Mistral lists them all; it keeps 65500 characters of a state_info)
FAIL_MESSAGE_CHARS = 2 * STATE_INFO_CHARS


def build_fail_message(step: Step) -> str | None:
    """Mistral's 'Failure caused by error in tasks: ...' for unhandled errors."""
    st = step.st
    failed = sorted((t for t in st.tasks.values()
                     if t.state == states.ERROR and not t.error_handled),
                    key=lambda t: t.name)
    if not failed:
        return None
    msg = "Failure caused by error in tasks: " + ", ".join(t.name for t in failed) + "\n"
    for t in failed:
        msg += f"\n  {t.name} [task_ex_id={t.id}] -> {cut_state_info(t.state_info)}\n"
        for line in _failed_lines(step, t):
            if len(msg) > FAIL_MESSAGE_CHARS:
                break
            msg += line
    return msg


def _failed_lines(step: Step, task: TaskState) -> list[str]:
    """Mistral's lines of a failed task: every action (then sub-workflow) execution in
    ERROR, of every attempt, numbered by its position among the task's executions of
    that kind in creation order; a sub-workflow shows its output's ``result``."""
    st = step.st
    mine = sorted((st.actions[a] for a in st.by_task.get(task.id, ())),
                  key=lambda a: (a.attempt, a.created_at, a.index))
    lines = []
    for is_wf, key in ((False, "action_ex_id"), (True, "wf_ex_id")):
        for i, a in enumerate(x for x in mine if x.is_workflow == is_wf):
            if a.state != states.ERROR:
                continue
            text = a.result
            if is_wf and isinstance(text, dict):
                text = text.get("result", "Unknown")
            lines.append(f"    [{key}={a.id}, idx={i}]: {cut_state_info(str(text))}\n")
    return lines


def complete_if_done(step: Step) -> None:
    """Finish the workflow when no task is active and nothing is pending."""
    st = step.st
    if st.state != states.RUNNING or st.active or st.pending:
        return
    cancelled = [t.name for t in st.tasks.values() if t.state == states.CANCELLED]
    if cancelled:
        cancel(step, "Cancelled tasks: " + ", ".join(sorted(set(cancelled))))
        return
    msg = build_fail_message(step)
    if msg is not None:
        fail(step, msg)
    else:
        succeed(step)
