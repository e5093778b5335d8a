"""Drive scenario fixtures (tests/fixtures/scenarios/*.yaml) through the pure engine.

A small discrete-event simulator: it plays the shell's part (runs mocked
actions, starts sub-workflows, fires timers, applies operations) using only
``decide``, and round-trips every state through to_dict / JSON / from_dict
after every event.  Time is simulated: nothing sleeps.
"""

from __future__ import annotations

import heapq
import json
import pathlib
from dataclasses import dataclass, field
from typing import Any

import yaml

from wfaas import exceptions
from wfaas.engine import commands as c
from wfaas.engine import events as e
from wfaas.engine.core import decide
from wfaas.engine.model import WorkflowState, new_workflow_state
from wfaas.lang import parse_workflows
from wfaas.lang.specs import WorkflowSpec

SCENARIO_DIR = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"
START = 1_700_000_000.0


def load_scenarios() -> list[dict[str, Any]]:
    """Every scenario document, with ``name`` defaulting to the file stem."""
    out = []
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        for i, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if doc:
                doc.setdefault("name", path.stem if i == 0 else f"{path.stem}-{i}")
                out.append(doc)
    return out


@dataclass
class Execution:
    """One simulated execution (root or child)."""

    spec: WorkflowSpec
    state: WorkflowState
    parent: str | None = None


@dataclass
class Sim:
    """The simulated shell."""

    scenario: dict[str, Any]
    specs: dict[str, WorkflowSpec] = field(default_factory=dict)
    execs: dict[str, Execution] = field(default_factory=dict)
    queue: list[tuple[float, int, str, Any]] = field(default_factory=list)
    seq: int = 0
    now: float = START
    calls: dict[str, int] = field(default_factory=dict)
    run_actions: list[c.RunAction] = field(default_factory=list)
    cancelled: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    events: int = 0

    def push(self, when: float, target: str, event: Any) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (when, self.seq, target, event))

    # ---- feeding the engine ----------------------------------------------------------
    def feed(self, target: str, event: e.Event) -> None:
        ex = self.execs[target]
        data = json.loads(json.dumps(ex.state.to_dict()))
        state = WorkflowState.from_dict(data)
        event = e.event_from_dict(json.loads(json.dumps(event.to_dict())))
        self.events += 1
        state, cmds = decide(ex.spec, state, event, self.now)
        ex.state = state
        for cmd in cmds:
            cmd = c.command_from_dict(json.loads(json.dumps(cmd.to_dict())))
            self.handle(target, cmd)

    def handle(self, source: str, cmd: c.Command) -> None:
        if isinstance(cmd, c.RunAction):
            self.run_actions.append(cmd)
            self.mock(source, cmd)
        elif isinstance(cmd, c.StartSubWorkflow):
            spec = self.specs[cmd.workflow_name]
            self.execs[cmd.execution_id] = Execution(
                spec, new_workflow_state(cmd.execution_id, spec.name, self.now), parent=source)
            self.push(self.now, cmd.execution_id,
                      e.StartWorkflow(input=cmd.input, params=cmd.params))
        elif isinstance(cmd, c.ScheduleTimer):
            self.push(cmd.due, source, e.TimerFired(timer_id=cmd.timer_id,
                                                    timer_kind=cmd.timer_kind,
                                                    task_id=cmd.task_id))
        elif isinstance(cmd, c.CancelTimer):
            self.cancelled.add(cmd.timer_id)
        elif isinstance(cmd, c.CancelChild):
            if cmd.is_workflow:
                self.push(self.now, cmd.child_id,
                          e.StopWorkflow(state="CANCELLED", message=cmd.message))
            else:
                self.cancelled.add(cmd.child_id)
        elif isinstance(cmd, c.PauseChild):
            self.push(self.now, cmd.child_id, e.PauseWorkflow())
        elif isinstance(cmd, c.ResumeChild):
            self.push(self.now, cmd.child_id, e.ResumeWorkflow(env=cmd.env))
        else:
            self.notify_parent(source, cmd)

    def notify_parent(self, source: str, cmd: c.Command) -> None:
        parent = self.execs[source].parent
        if parent is None:
            return
        if isinstance(cmd, c.WorkflowFinished):
            self.push(self.now, parent, e.ActionCompleted(
                action_id=source, state=cmd.state, result=cmd.output,
                state_info=cmd.state_info))
        elif isinstance(cmd, c.WorkflowPaused):
            self.push(self.now, parent, e.ActionPaused(action_id=source))
        elif isinstance(cmd, c.WorkflowResumed):
            self.push(self.now, parent, e.ActionResumed(action_id=source))

    # ---- mocked actions --------------------------------------------------------------
    def outcome(self, source: str, cmd: c.RunAction) -> dict[str, Any]:
        mocks = self.scenario.get("actions") or {}
        wf = self.execs[source].spec.name
        mock = mocks.get(f"{wf}.{cmd.task_name}", mocks.get(cmd.task_name))
        key = f"{source}/{cmd.task_name}"
        n = self.calls.get(key, 0)
        self.calls[key] = n + 1
        if isinstance(mock, dict) and "items" in mock:
            items = mock["items"]
            mock = items[cmd.index] if cmd.index < len(items) else mock.get("default")
            key = f"{key}/{cmd.index}"
            n = self.calls.get(key, 0)
            self.calls[key] = n + 1
        if isinstance(mock, list):
            mock = mock[min(n, len(mock) - 1)]
        if mock is None:
            return default_outcome(cmd)
        if not isinstance(mock, dict):
            return {"result": mock}
        return mock

    def mock(self, source: str, cmd: c.RunAction) -> None:
        out = self.outcome(source, cmd)
        if out.get("async"):
            return
        if "echo" in out:
            out = {"result": cmd.input.get(out["echo"]), **{k: v for k, v in out.items()
                                                             if k != "echo"}}
        if "error" in out:
            state, result = "ERROR", out["error"]
        elif out.get("cancel"):
            state, result = "CANCELLED", None
        else:
            state, result = "SUCCESS", out.get("result", default_outcome(cmd).get("result"))
        self.push(self.now + float(out.get("delay", 0)), source,
                  e.ActionCompleted(action_id=cmd.action_id, state=state, result=result))

    # ---- main loop -------------------------------------------------------------------
    def run(self) -> None:
        sc = self.scenario
        self.specs = {s.name: s for s in parse_workflows(sc["workflow"])}
        root_spec = self.specs[sc.get("workflow_name") or next(iter(self.specs))]
        self.execs["root"] = Execution(root_spec, new_workflow_state("root", root_spec.name,
                                                                      self.now))
        self.push(self.now, "root", e.StartWorkflow(input=sc.get("input") or {},
                                                    params=sc.get("params") or {}))
        ops = list(sc.get("operations") or [])
        for op in ops:
            if op.get("at") not in (None, "end"):
                self.push(START + float(op["at"]), "root", op)
        end_ops = [op for op in ops if op.get("at") in (None, "end")]
        guard = 0
        while True:
            guard += 1
            assert guard < 200_000, "scenario does not terminate"
            if not self.queue:
                if not end_ops:
                    break
                self.apply(end_ops.pop(0))
                continue
            when, _, target, event = heapq.heappop(self.queue)
            self.now = max(self.now, when)
            if isinstance(event, dict):
                self.apply(event)
            elif isinstance(event, e.TimerFired) and event.timer_id in self.cancelled:
                continue
            elif isinstance(event, e.ActionCompleted) and event.action_id in self.cancelled:
                continue
            elif isinstance(event, (e.StopWorkflow, e.PauseWorkflow)) \
                    and self.execs[target].state.state in ("SUCCESS", "ERROR", "CANCELLED"):
                continue  # a parent's cancel or pause reached a child that had finished: the
                # shell drops it (EngineService._fail_step drops every NotAllowed)
            else:
                self.feed(target, event)

    def apply(self, op: dict[str, Any]) -> None:
        root = self.execs["root"].state
        kind = op["op"]
        task_id = ""
        if "task" in op:
            task_id = root.by_name[op["task"]][-1]
        event: e.Event
        if kind == "pause":
            event = e.PauseWorkflow()
        elif kind == "resume":
            event = e.ResumeWorkflow(env=op.get("env"))
        elif kind == "stop":
            event = e.StopWorkflow(state=op.get("state", "CANCELLED"), message=op.get("message"))
        elif kind == "rerun":
            event = e.RerunTask(task_id=task_id, reset=op.get("reset", True), env=op.get("env"))
        elif kind == "skip":
            event = e.SkipTask(task_id=task_id)
        elif kind in ("complete", "pause_action", "resume_action"):
            aid = next(a.id for a in root.actions.values()
                       if a.task_id == task_id and a.state in ("RUNNING", "PAUSED"))
            if kind == "pause_action":
                event = e.ActionPaused(action_id=aid)
            elif kind == "resume_action":
                event = e.ActionResumed(action_id=aid)
            else:
                event = e.ActionCompleted(action_id=aid, state=op.get("state", "SUCCESS"),
                                          result=op.get("result"))
        else:
            raise AssertionError(f"unknown operation {kind}")
        try:
            self.feed("root", event)
        except exceptions.WfaasError as err:
            if not op.get("expect_error"):
                raise
            self.errors.append(type(err).__name__)


def default_outcome(cmd: c.RunAction) -> dict[str, Any]:
    """What an unmocked std action does."""
    if cmd.action == "std.fail":
        return {"error": cmd.input.get("error_data") or "Fail action expected exception."}
    if cmd.action == "std.echo":
        return {"result": cmd.input.get("output")}
    return {"result": None}


def run_scenario(scenario: dict[str, Any]) -> Sim:
    """Run one scenario to the end and return the simulator."""
    sim = Sim(scenario)
    sim.run()
    return sim
