"""Drive the engine scenario fixtures end to end through a real Runtime.

The scenarios (tests/fixtures/scenarios, format in tests/unit/engine) use
simulated time: mocked action durations, wait-before, retry delays, timeouts
and operations "at" a second. Here they run on a real database, transport,
engine service and executor, with a :class:`VirtualClock` as the Runtime's
clock: whenever the system is quiet (no message, engine step or running
action other than those waiting for virtual time), the harness advances the
clock to the next due time, applies the operations due then and lets the
scheduler fire the due timers. Nothing sleeps; every wait is on a condition.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Engine, select

from tests.unit.engine.scenario_runner import START, Sim, default_outcome
from wfaas.actions.base import Action, ActionContext, ActionDescriptor, Result
from wfaas.cmd.run_cmd import store_file
from wfaas.db import api
from wfaas.db import models as m
from wfaas.exceptions import InputError, WfaasError
from wfaas.rpc.base import Transport
from wfaas.services.runtime import Runtime
from wfaas.services.state_store import load_state

WAIT = 60.0


class VirtualClock:
    """Simulated UTC epoch seconds; mocked actions wait on it, the harness moves it."""

    def __init__(self, start: float, monitor: threading.Condition) -> None:
        self.now = start
        self.monitor = monitor
        self.cond = threading.Condition()
        self.blocked: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep_until(self, due: float) -> None:
        """Block the calling action until the clock reaches ``due``."""
        with self.cond:
            if due <= self.now:
                return
            self.blocked.append(due)
        with self.monitor:
            self.monitor.notify_all()
        with self.cond:
            if not self.cond.wait_for(lambda: self.now >= due, WAIT):
                raise TimeoutError("virtual time never reached the due time")

    def advance(self, to: float) -> None:
        """Move the clock to ``to`` and release the actions due by then."""
        with self.cond:
            self.now = max(self.now, to)
            self.blocked = [d for d in self.blocked if d > self.now]
            self.cond.notify_all()

    def waiting(self) -> tuple[int, float | None]:
        """How many actions wait for virtual time, and the earliest due time."""
        with self.cond:
            return len(self.blocked), min(self.blocked, default=None)


class MockAction(Action):
    """Plays one mocked outcome: optionally waits ``delay`` virtual seconds."""

    def __init__(self, outcome: dict[str, Any], clock: VirtualClock) -> None:
        self.outcome = outcome
        self.clock = clock

    def is_sync(self) -> bool:
        return not self.outcome.get("async")

    def run(self, context: ActionContext) -> Any:
        out = self.outcome
        if out.get("async"):
            return None
        delay = float(out.get("delay", 0))
        if delay:
            self.clock.sleep_until(self.clock.now + delay)
        if "error" in out:
            return Result(error=out["error"])
        if out.get("cancel"):
            return Result(cancel=True)
        return Result(data=out.get("result"))


class MockDescriptor(ActionDescriptor):
    """Any action name: the outcome comes from the scenario's ``actions`` mocks."""

    def __init__(self, name: str, harness: ScenarioRun) -> None:
        super().__init__(name)
        self.harness = harness

    def check_parameters(self, input: Any) -> None:
        return None

    def instantiate(self, input: dict[str, Any], wf_ctx: dict[str, Any] | None = None) -> Action:
        raise AssertionError("the harness instantiates with the context (see run)")


class ScenarioProvider:
    """Knows every action name; each run asks the scenario for its outcome."""

    def __init__(self, harness: ScenarioRun) -> None:
        self.harness = harness

    def find(self, name: str, namespace: str = "") -> ActionDescriptor | None:
        return MockDescriptor(name, self.harness)

    def find_all(self, namespace: str = "") -> list[ActionDescriptor]:
        return []


class ScenarioRun:
    """One scenario on one database: run it, then expose what ``_check`` reads."""

    def __init__(self, scenario: dict[str, Any], engine: Engine) -> None:
        self.scenario = scenario
        # every action (std.noop / std.echo too) plays its mocked outcome through the
        # executor, so the engine must not run pure actions itself (folding)
        self.rt = Runtime(engine, provider=ScenarioProvider(self), executor_workers=64,
                          roles=("engine", "executor"), clock=lambda: self.clock(),
                          pure_actions_per_step=0)
        self.clock = VirtualClock(START, self.rt.monitor)
        self.calls: dict[str, int] = {}
        self.calls_lock = threading.Lock()
        self.specs: dict[str, Any] = {}
        self.run_actions: list[SimpleNamespace] = []
        self.errors: list[str] = []
        self.root_id = ""
        self.execs: dict[str, Any] = {}
        self.start_error: str | None = None
        self._install_runner()

    # ---------------------------------------------------------------- actions
    def _install_runner(self) -> None:
        send = self.rt.transport.send_to_executor
        send_many = self.rt.transport.send_many_to_executor

        def record(request: dict[str, Any]) -> None:
            self.run_actions.append(SimpleNamespace(
                task_name=request["task_name"], input=request["input"],
                action=request["action"], target=request.get("target"),
                timeout=request.get("timeout"), safe_rerun=request.get("safe_rerun"),
                index=request.get("index"), rerun_no=request.get("rerun_no")))

        def recording_send(request: dict[str, Any], target: str | None = None) -> None:
            record(request)
            send(request, target)

        def recording_send_many(requests: list[tuple[dict[str, Any], str | None]]) -> None:
            for request, _ in requests:
                record(request)
            send_many(requests)  # a broker transport batches (the local one calls send)

        self.rt.transport.send_to_executor = recording_send  # type: ignore[method-assign]
        if type(self.rt.transport).send_many_to_executor is not Transport.send_many_to_executor:
            self.rt.transport.send_many_to_executor = (  # type: ignore[method-assign]
                recording_send_many)
        self.rt.executor._runner = self._run_action

    def _run_action(self, provider: Any, name: str, input: dict[str, Any],
                    context: ActionContext, **kw: Any) -> Result:
        ex = context.execution
        cmd = SimpleNamespace(task_name=ex.task_name, index=ex.with_items_index or 0,
                              action=name, input=input)
        source = ex.workflow_execution_id or ""
        fake = SimpleNamespace(scenario=self.scenario, calls=self.calls,
                               execs={source: SimpleNamespace(
                                   spec=SimpleNamespace(name=ex.workflow_name))})
        with self.calls_lock:
            out = Sim.outcome(fake, source, cmd)  # type: ignore[arg-type]
        if "echo" in out:
            out = {"result": input.get(out["echo"]),
                   **{k: v for k, v in out.items() if k != "echo"}}
        if "result" not in out and "error" not in out and not out.get("cancel"):
            out = {**out, **default_outcome(cmd)}  # type: ignore[arg-type]
        action = MockAction(out, self.clock)
        result = Result.from_value(action.run(context))
        result.sync = action.is_sync()
        return result

    # ---------------------------------------------------------------- driving
    def quiet(self) -> bool:
        blocked, _ = self.clock.waiting()
        rt = self.rt
        return (rt.transport.in_flight() == 0 and rt.engine.idle()  # type: ignore[attr-defined]
                and rt.executor.in_flight() == blocked)

    def wait_quiet(self) -> None:
        with self.rt.monitor:
            assert self.rt.monitor.wait_for(self.quiet, WAIT), "the runtime never got quiet"

    def run(self) -> None:
        sc = self.scenario
        self.rt.start()
        try:
            with self.rt.session() as s:
                names = store_file(s, sc["workflow"])
            name = sc.get("workflow_name") or names[0]
            try:
                self.root_id = self.rt.start_workflow(name, input=sc.get("input") or {},
                                                      params=sc.get("params") or {},
                                                      execution_id="root")["id"]
            except InputError as err:
                # The API refuses bad input up front (HTTP 400) with the message the
                # engine would have failed the execution with.
                self.start_error = str(err)
                return
            self._loop()
            self.wait_quiet()
            self._collect()
        finally:
            self.rt.stop()

    def _loop(self) -> None:
        ops = list(self.scenario.get("operations") or [])
        timed = sorted((op for op in ops if op.get("at") not in (None, "end")),
                       key=lambda op: float(op["at"]))
        end_ops = [op for op in ops if op.get("at") in (None, "end")]
        for _ in range(100_000):
            self.wait_quiet()
            with self.rt.session() as s:
                next_timer = api.next_due_time(s)
            _, next_action = self.clock.waiting()
            next_op = START + float(timed[0]["at"]) if timed else None
            candidates = [t for t in (next_timer, next_action, next_op) if t is not None]
            if not candidates:
                if not end_ops:
                    return
                self.apply(end_ops.pop(0))
                continue
            self.clock.advance(min(candidates))
            while timed and START + float(timed[0]["at"]) <= self.clock.now:
                self.apply(timed.pop(0))
            self.rt.scheduler.run_once()
        raise AssertionError("scenario does not terminate")

    def apply(self, op: dict[str, Any]) -> None:
        rt, kind, ex_id = self.rt, op["op"], self.root_id
        self.wait_quiet()
        try:
            if kind == "pause":
                rt.pause_execution(ex_id)
            elif kind == "resume":
                rt.resume_execution(ex_id, env=op.get("env"))
            elif kind == "stop":
                rt.stop_execution(ex_id, op.get("state", "CANCELLED"), op.get("message"))
            elif kind in ("rerun", "skip", "complete", "pause_action", "resume_action"):
                with rt.session() as s:
                    task = api.task_executions_of(s, ex_id, op["task"])[-1]
                if kind == "rerun":
                    rt.rerun_task(task.id, reset=op.get("reset", True), env=op.get("env"))
                elif kind == "skip":
                    rt.skip_task(task.id)
                else:
                    with rt.session() as s:
                        action = next(a for a in api.action_executions_of(s, task.id)
                                      if a.state in ("RUNNING", "PAUSED"))
                    state = {"pause_action": "PAUSED", "resume_action": "RUNNING"}.get(
                        kind, op.get("state", "SUCCESS"))
                    rt.complete_action(action.id, state, op.get("result"))
            else:
                raise AssertionError(f"unknown operation {kind}")
        except WfaasError as err:
            if not op.get("expect_error"):
                raise
            self.errors.append(type(err).__name__)

    # ---------------------------------------------------------------- results
    def _collect(self) -> None:
        with self.rt.session() as s:
            root = api.get(s, m.WorkflowExecution, self.root_id)
            state, _, _ = load_state(s, root)
            self.execs = {"root": SimpleNamespace(state=state)}
            children = s.scalars(select(m.WorkflowExecution).where(
                m.WorkflowExecution.root_execution_id == self.root_id,
                m.WorkflowExecution.id != self.root_id)
                .order_by(m.WorkflowExecution.created_at)).all()
            for child in children:
                self.execs[child.id] = SimpleNamespace(state=SimpleNamespace(state=child.state))
