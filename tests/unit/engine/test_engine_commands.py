"""The commands decide() emits for the shell: children, timers, notifications."""

from __future__ import annotations

from typing import Any

from wfaas.engine import (
    ActionCompleted,
    CancelChild,
    Notify,
    PauseChild,
    PauseWorkflow,
    ResumeChild,
    ResumeWorkflow,
    RunAction,
    ScheduleTimer,
    StartSubWorkflow,
    StartWorkflow,
    StopWorkflow,
    TimerFired,
    WorkflowFinished,
    WorkflowPaused,
    WorkflowResumed,
    new_workflow_state,
)
from wfaas.engine.core import decide
from wfaas.lang import parse_workflows

PARENT = """
version: '2.0'
parent:
  tasks:
    call:
      workflow: child
      input: {x: 1, extra: 2}
      on-success: after
    after: {}
child:
  input: [x]
  tasks:
    t: {}
"""


def _of(cmds: list[Any], cls: type) -> list[Any]:
    return [c for c in cmds if isinstance(c, cls)]


def test_notifications_in_order() -> None:
    spec = parse_workflows("version: '2.0'\nwf:\n  tasks:\n    a: {on-success: b}\n    b: {}\n")[0]
    st, cmds = decide(spec, new_workflow_state("e", "wf"), StartWorkflow(), 0.0)
    seen = [(c.event, c.task_id is not None) for c in _of(cmds, Notify)]
    assert seen == [("WORKFLOW_LAUNCHED", False), ("TASK_LAUNCHED", True)]
    run = _of(cmds, RunAction)[0]
    st, cmds = decide(spec, st, ActionCompleted(action_id=run.action_id), 1.0)
    assert [c.event for c in _of(cmds, Notify)] == ["TASK_SUCCEEDED", "TASK_LAUNCHED"]
    run = _of(cmds, RunAction)[0]
    st, cmds = decide(spec, st, ActionCompleted(action_id=run.action_id), 2.0)
    assert [c.event for c in _of(cmds, Notify)] == ["TASK_SUCCEEDED", "WORKFLOW_SUCCEEDED"]
    fin = _of(cmds, WorkflowFinished)[0]
    assert fin.state == "SUCCESS" and fin.parent_task_id is None


def test_sub_workflow_start_pause_resume_cancel() -> None:
    specs = {s.name: s for s in parse_workflows(PARENT)}
    spec = specs["parent"]
    st, cmds = decide(spec, new_workflow_state("p", "parent"),
                      StartWorkflow(params={"env": {"k": 1}, "namespace": "ns"}), 0.0)
    sub = _of(cmds, StartSubWorkflow)[0]
    assert sub.workflow_name == "child" and sub.input == {"x": 1, "extra": 2}
    assert sub.params["env"] == {"k": 1} and sub.params["namespace"] == "ns"
    assert sub.params["task_execution_id"] == sub.task_id
    assert sub.params["root_execution_id"] == "p"
    assert st.actions[sub.execution_id].is_workflow

    # The child moves undeclared input keys into its params and reports its parent.
    child, ccmds = decide(specs["child"], new_workflow_state(sub.execution_id, "child"),
                          StartWorkflow(input=sub.input, params=sub.params), 0.0)
    assert child.input == {"x": 1} and child.params["extra"] == 2
    assert child.parent_task_id == sub.task_id

    st, cmds = decide(spec, st, PauseWorkflow(), 1.0)
    assert _of(cmds, PauseChild)[0].child_id == sub.execution_id
    assert _of(cmds, WorkflowPaused)[0].parent_task_id is None
    st, cmds = decide(spec, st, ResumeWorkflow(env={"k": 2}), 2.0)
    assert _of(cmds, ResumeChild)[0].env == {"k": 2}
    assert _of(cmds, WorkflowResumed)
    assert st.env == {"k": 2}

    st, cmds = decide(spec, st, StopWorkflow(state="CANCELLED", message="m"), 3.0)
    cancel = _of(cmds, CancelChild)[0]
    assert cancel.child_id == sub.execution_id and cancel.is_workflow
    assert _of(cmds, WorkflowFinished)[0].state == "CANCELLED"


def test_timeout_schedules_and_cancels() -> None:
    spec = parse_workflows("version: '2.0'\nwf:\n  tasks:\n    a:\n      action: std.sleep\n"
                           "      timeout: 30\n")[0]
    st, cmds = decide(spec, new_workflow_state("e", "wf"), StartWorkflow(), 100.0)
    timer = _of(cmds, ScheduleTimer)[0]
    run = _of(cmds, RunAction)[0]
    assert (timer.due, timer.timer_kind, run.timeout) == (130.0, "timeout", 30.0)
    st, cmds = decide(spec, st, TimerFired(timer_id=timer.timer_id), 130.0)
    assert _of(cmds, CancelChild)[0].child_id == run.action_id
    assert st.state == "ERROR"
    assert "Task timed out [timeout(s)=30]." in (st.state_info or "")
    # The action's late result is ignored.
    st, cmds = decide(spec, st, ActionCompleted(action_id=run.action_id, result=1), 131.0)
    assert cmds == []


def test_finished_action_cancels_timeout_timer() -> None:
    spec = parse_workflows("version: '2.0'\nwf:\n  tasks:\n    a:\n      timeout: 30\n")[0]
    st, cmds = decide(spec, new_workflow_state("e", "wf"), StartWorkflow(), 0.0)
    timer = _of(cmds, ScheduleTimer)[0]
    st, cmds = decide(spec, st, ActionCompleted(action_id=_of(cmds, RunAction)[0].action_id),
                      1.0)
    assert [c.timer_id for c in cmds if c.kind == "cancel_timer"] == [timer.timer_id]
    assert st.timers == {}
