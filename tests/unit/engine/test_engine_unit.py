"""Unit tests of the engine's data model, transition table and scaling properties."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.unit.engine.bench_engine import drive, items_yaml, sequence_yaml
from wfaas.engine import (
    ActionCompleted,
    RunAction,
    ScheduleTimer,
    StartWorkflow,
    TimerFired,
    WorkflowState,
    commands,
    events,
    new_workflow_state,
    states,
)
from wfaas.engine.core import decide, validate_workflow_input
from wfaas.engine.dataflow import EngineFunctions
from wfaas.exceptions import EngineError, IllegalTransition, InputError, NotFound
from wfaas.expressions import FunctionContext
from wfaas.lang import parse_workflows

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$")


def _spec(text: str) -> Any:
    return parse_workflows(text)[0]


# ---- states ------------------------------------------------------------------------
def test_transition_table_matches_mistral_core() -> None:
    assert states.is_valid_task_transition(states.IDLE, states.RUNNING)
    assert states.is_valid_task_transition(states.ERROR, states.SKIPPED)
    assert states.is_valid_task_transition(states.WAITING, states.ERROR)
    assert not states.is_valid_task_transition(states.SUCCESS, states.ERROR)
    assert not states.is_valid_task_transition(states.SKIPPED, states.RUNNING)
    assert not states.is_valid_workflow_transition(states.SUCCESS, states.RUNNING)
    assert states.is_valid_workflow_transition(states.ERROR, states.RUNNING)


def test_illegal_transition_raises() -> None:
    with pytest.raises(IllegalTransition, match="SUCCESS -> ERROR"):
        states.check_task("t", states.SUCCESS, states.ERROR)
    with pytest.raises(IllegalTransition):
        states.check_workflow("wf", states.SUCCESS, states.PAUSED)
    states.check_task("t", states.RUNNING, states.RUNNING)  # same state: no-op
    states.check_action("a", states.PAUSED, states.SUCCESS)
    with pytest.raises(IllegalTransition, match="action"):
        states.check_action("a", states.SUCCESS, states.RUNNING)


# ---- events, commands, state serialization -------------------------------------------
@pytest.mark.parametrize("cls", list(events.EVENT_TYPES.values()))
def test_event_round_trip(cls: type[events.Event]) -> None:
    ev = cls()
    data = json.loads(json.dumps(ev.to_dict()))
    assert data["kind"] == cls.kind
    assert events.event_from_dict(data) == ev


@pytest.mark.parametrize("cls", list(commands.COMMAND_TYPES.values()))
def test_command_round_trip(cls: type[commands.Command]) -> None:
    cmd = cls()
    assert commands.command_from_dict(json.loads(json.dumps(cmd.to_dict()))) == cmd


WF = """
version: '2.0'
wf:
  input: [x]
  tasks:
    a:
      action: std.echo output=<% $.x %>
      publish: {y: <% task().result %>}
      retry: {count: 1, delay: 3}
      on-success: b
    b:
      with-items: i in [1, 2]
      action: std.echo output=<% $.i %>
"""


def _started() -> tuple[Any, WorkflowState, list[commands.Command]]:
    spec = _spec(WF)
    st, cmds = decide(spec, new_workflow_state("ex-1", "wf", 10.0), StartWorkflow(input={"x": 1}),
                      10.0)
    return spec, st, cmds


def test_state_round_trip_is_exact() -> None:
    spec, st, cmds = _started()
    run = next(c for c in cmds if isinstance(c, RunAction))
    st, cmds = decide(spec, st, ActionCompleted(action_id=run.action_id, state="ERROR",
                                                result="x"), 11.0)
    data = st.to_dict()
    again = WorkflowState.from_dict(json.loads(json.dumps(data)))
    assert again.to_dict() == json.loads(json.dumps(data))
    parts = WorkflowState.from_parts(st.header_dict(), [t.to_dict() for t in st.tasks.values()],
                                     [a.to_dict() for a in st.actions.values()])
    assert parts.to_dict() == data
    assert "timers" in data and len(data["timers"]) == 1  # the retry delay


def test_ids_are_deterministic_and_uuid_shaped() -> None:
    _, st1, cmds1 = _started()
    _, st2, cmds2 = _started()
    assert [c.to_dict() for c in cmds1] == [c.to_dict() for c in cmds2]
    assert list(st1.tasks) == list(st2.tasks)
    for tid in list(st1.tasks) + list(st1.actions):
        assert UUID_RE.match(tid), tid


def test_timer_and_duplicate_events_are_harmless() -> None:
    spec, st, cmds = _started()
    run = next(c for c in cmds if isinstance(c, RunAction))
    st, cmds = decide(spec, st, ActionCompleted(action_id=run.action_id, state="ERROR"), 11.0)
    timer = next(c for c in cmds if isinstance(c, ScheduleTimer))
    assert timer.due == 14.0 and timer.timer_kind == "retry"
    # A duplicate completion of the first attempt changes nothing.
    before = st.to_dict()
    st, cmds = decide(spec, st, ActionCompleted(action_id=run.action_id, state="SUCCESS"), 12.0)
    assert cmds == [] and st.to_dict()["tasks"] == before["tasks"]
    st, cmds = decide(spec, st, TimerFired(timer_id=timer.timer_id), 14.0)
    assert [c.kind for c in cmds if isinstance(c, RunAction)] == ["run_action"]
    # The same timer again (redelivered) is ignored.
    st, cmds = decide(spec, st, TimerFired(timer_id=timer.timer_id), 15.0)
    assert cmds == []


def test_operations_on_unknown_task_raise_not_found() -> None:
    spec, st, _ = _started()
    with pytest.raises(NotFound):
        decide(spec, st, events.RerunTask(task_id="nope"), 11.0)


def test_validate_workflow_input() -> None:
    spec = _spec(WF)
    assert validate_workflow_input(spec, {"x": 2}) == {"x": 2}
    with pytest.raises(InputError, match=r"missing=\['x'\], unexpected=\['y'\]"):
        validate_workflow_input(spec, {"y": 1})


def test_engine_functions_satisfy_the_protocol() -> None:
    _, st, _ = _started()
    fc = EngineFunctions(st, next(iter(st.tasks.values())))
    assert isinstance(fc, FunctionContext)
    assert fc.task()["name"] == "a"  # type: ignore[index]
    assert fc.execution()["id"] == "ex-1"
    assert fc.tasks(state="RUNNING")[0]["type"] == "ACTION"  # wire spelling


# ---- "store what changed" and scaling -----------------------------------------------
def test_only_changed_rows_are_reported() -> None:
    spec = _spec(sequence_yaml(200))
    st, cmds = decide(spec, new_workflow_state("e", "seq"), StartWorkflow(), 0.0)
    for _ in range(150):
        run = next(c for c in cmds if isinstance(c, RunAction))
        st, cmds = decide(spec, st, ActionCompleted(action_id=run.action_id), 1.0)
        # the finished task, the next task, the finished action, the next action
        assert len(st.changed_task_ids) == 2
        assert len(st.changed_action_ids) == 2
        assert len(json.dumps(st.header_dict())) < 1000


def test_contexts_are_shared_not_copied() -> None:
    n = 50
    lines = ["version: '2.0'", "p:", "  tasks:"]
    for i in range(n):
        lines += [f"    t{i}:", "      publish:", f"        d{i}: <% range({i * 100}) %>"]
        if i + 1 < n:
            lines.append(f"      on-success: t{i + 1}")
    events_count, st = drive(_spec("\n".join(lines) + "\n"), {})
    assert st.state == "SUCCESS" and events_count == n + 1
    for t in st.tasks.values():
        assert list(t.published) == [f"d{t.name[1:]}"]  # only its own publish
    assert len(st.output) == n and len(st.output[f"d{n - 1}"]) == (n - 1) * 100


def test_unpublished_chain_shares_one_context_object() -> None:
    from wfaas.engine.dataflow import inbound

    _, st = drive(_spec(sequence_yaml(300)), {})
    ctxs = {id(inbound(st, t)) for t in st.tasks.values()}
    assert len(ctxs) == 1


def test_ten_thousand_task_sequence() -> None:
    events_count, st = drive(_spec(sequence_yaml(10_000)), {})
    assert st.state == "SUCCESS" and events_count == 10_001


def test_with_items_work_per_event_is_constant() -> None:
    spec = _spec(items_yaml(10))
    st, cmds = decide(spec, new_workflow_state("e", "wi"),
                      StartWorkflow(input={"items": list(range(20_000))}), 0.0)
    queue = [c for c in cmds if isinstance(c, RunAction)]
    assert len(queue) == 10
    worst = 0
    while queue:
        run = queue.pop(0)
        st, cmds = decide(spec, st, ActionCompleted(action_id=run.action_id,
                                                    result=run.input["output"]), 1.0)
        worst = max(worst, len(st.changed_task_ids) + len(st.changed_action_ids))
        queue += [c for c in cmds if isinstance(c, RunAction)]
    assert st.state == "SUCCESS"
    assert st.tasks[next(iter(st.tasks))].published == {"n": 20_000}
    assert worst <= 3
    assert len(json.dumps(st.tasks[next(iter(st.tasks))].runtime_dict())) < 300


def test_unexpected_failure_is_an_engine_error() -> None:
    spec, st, cmds = _started()
    other = _spec("version: '2.0'\nwf:\n  tasks:\n    zzz: {}\n")  # not the spec st ran with
    run = next(c for c in cmds if isinstance(c, RunAction))
    with pytest.raises(EngineError, match="action_completed"):
        decide(other, st, ActionCompleted(action_id=run.action_id), 11.0)
