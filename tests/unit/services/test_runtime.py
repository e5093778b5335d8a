"""The Runtime end to end (engine shell + executor + scheduler) on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from tests.unit.services import testactions
from tests.unit.services.conftest import define
from wfaas.db import api
from wfaas.db import models as m
from wfaas.exceptions import InputError, NotAllowed, NotFound
from wfaas.services.runtime import Runtime

T = 30.0

SEQUENCE = """
version: '2.0'
seq:
  input: [x]
  output:
    out: <% $.b %>
  tasks:
    a:
      action: std.echo output=<% $.x %>
      publish: {a: <% task().result %>}
      on-success: [b]
    b:
      action: std.echo output="<% $.a %>!"
      publish: {b: <% task().result %>}
"""

GATED = """
version: '2.0'
gated:
  tasks:
    first:
      action: test.gate name=<% execution().id %>
      on-success: [second]
    second:
      action: std.echo output=second
"""


def task_rows(rt: Runtime, ex_id: str) -> list[m.TaskExecution]:
    with rt.session() as s:
        return api.task_executions_of(s, ex_id)


def wait_task_state(rt: Runtime, ex_id: str, name: str, state: str) -> None:
    def check(s):  # type: ignore[no-untyped-def]
        return any(t.name == name and t.state == state
                   for t in api.task_executions_of(s, ex_id))

    assert rt.wait_for(check, T), f"task {name} never reached {state}"


def test_sequence_runs_and_persists_rows(runtime: Runtime) -> None:
    define(runtime, SEQUENCE)
    ex = runtime.start_workflow("seq", input={"x": "hi"}, description="d")
    assert ex["state"] == "RUNNING" and ex["description"] == "d"
    done = runtime.wait_execution(ex["id"], T)
    assert done["state"] == "SUCCESS", done["state_info"]
    assert done["output"] == {"out": "hi!"}
    assert done["finished_at"] is not None
    tasks = task_rows(runtime, ex["id"])
    assert [(t.name, t.state) for t in tasks] == [("a", "SUCCESS"), ("b", "SUCCESS")]
    assert tasks[0].published == {"a": "hi"}
    assert tasks[0].started_at and tasks[0].finished_at
    with runtime.session() as s:
        actions = api.action_executions_of(s, tasks[1].id)
    assert len(actions) == 1
    assert actions[0].output == {"result": "hi!"} and actions[0].state == "SUCCESS"
    assert actions[0].name == "std.echo" and actions[0].workflow_execution_id == ex["id"]


def test_definition_change_does_not_affect_started_execution(runtime: Runtime) -> None:
    define(runtime, GATED)
    ex = runtime.start_workflow("gated")
    wait_task_state(runtime, ex["id"], "first", "RUNNING")
    define(runtime, GATED.replace("output=second", "output=changed"))
    testactions.gate(ex["id"]).set()
    assert runtime.wait_execution(ex["id"], T)["state"] == "SUCCESS"
    with runtime.session() as s:
        second = api.task_executions_of(s, ex["id"], "second")[0]
        assert second.result == "second"


def test_bad_input_is_rejected_before_storing(runtime: Runtime) -> None:
    define(runtime, SEQUENCE)
    with pytest.raises(InputError, match="missing=\\['x'\\]"):
        runtime.start_workflow("seq")
    with pytest.raises(InputError, match="unexpected=\\['y'\\]"):
        runtime.start_workflow("seq", input={"x": 1, "y": 2})
    with pytest.raises(NotFound, match="nope"):
        runtime.start_workflow("nope")
    with runtime.session() as s:
        assert api.count(s, m.WorkflowExecution) == 0


def test_env_by_name_and_context_sent_to_action(runtime: Runtime) -> None:
    define(runtime, """
version: '2.0'
ctx:
  tasks:
    t:
      action: test.context
      publish: {ctx: <% task().result %>, greeting: <% env().greeting %>}
""")
    with runtime.session() as s:
        api.create(s, m.Environment, name="myenv", variables={"greeting": "hello"})
    ex = runtime.start_workflow("ctx", params={"env": "myenv"})
    done = runtime.wait_execution(ex["id"], T)
    assert done["state"] == "SUCCESS", done["state_info"]
    assert done["params"]["env"] == {"greeting": "hello"}
    task = task_rows(runtime, ex["id"])[0]
    assert task.published["greeting"] == "hello"
    ctx = task.published["ctx"]
    assert ctx["workflow_execution_id"] == ex["id"] and ctx["task_execution_id"] == task.id
    assert ctx["task_name"] == "t" and ctx["workflow_name"] == "ctx"


def test_pause_and_resume(runtime: Runtime) -> None:
    define(runtime, GATED)
    ex = runtime.start_workflow("gated")
    wait_task_state(runtime, ex["id"], "first", "RUNNING")
    assert runtime.pause_execution(ex["id"])["state"] == "PAUSED"
    testactions.gate(ex["id"]).set()
    wait_task_state(runtime, ex["id"], "first", "SUCCESS")
    assert [t.name for t in task_rows(runtime, ex["id"])] == ["first"]
    with runtime.session() as s:
        assert api.get(s, m.WorkflowExecution, ex["id"]).state == "PAUSED"
    # the workflow may already have finished by the time the answer is read
    assert runtime.resume_execution(ex["id"])["state"] in ("RUNNING", "SUCCESS")
    assert runtime.wait_execution(ex["id"], T)["state"] == "SUCCESS"
    with pytest.raises(NotAllowed):
        runtime.pause_execution(ex["id"])


def test_stop_execution(runtime: Runtime) -> None:
    define(runtime, GATED)
    ex = runtime.start_workflow("gated")
    wait_task_state(runtime, ex["id"], "first", "RUNNING")
    stopped = runtime.stop_execution(ex["id"], "CANCELLED", "enough")
    assert stopped["state"] == "CANCELLED"
    assert "enough" in (stopped["state_info"] or "")


def test_rerun_failed_task(runtime: Runtime) -> None:
    define(runtime, """
version: '2.0'
rerun:
  tasks:
    t:
      action: test.flaky key=k
""")
    testactions.FLAKY["k"] = 1
    ex = runtime.start_workflow("rerun")
    done = runtime.wait_execution(ex["id"], T)
    assert done["state"] == "ERROR" and "flaky k failed" in done["state_info"]
    task = task_rows(runtime, ex["id"])[0]
    runtime.rerun_task(task.id)
    assert runtime.wait_execution(ex["id"], T)["state"] == "SUCCESS"


def test_skip_failed_task(runtime: Runtime) -> None:
    define(runtime, """
version: '2.0'
skip:
  tasks:
    t:
      action: std.fail
      on-success: [after]
    after:
      action: std.noop
""")
    ex = runtime.start_workflow("skip")
    assert runtime.wait_execution(ex["id"], T)["state"] == "ERROR"
    task = task_rows(runtime, ex["id"])[0]
    assert runtime.skip_task(task.id)["state"] == "SKIPPED"
    assert runtime.wait_execution(ex["id"], T)["state"] == "SUCCESS"
    assert [t.name for t in task_rows(runtime, ex["id"])] == ["t", "after"]
    with pytest.raises(NotAllowed):
        runtime.skip_task(task.id)


def test_run_action_ad_hoc(runtime: Runtime) -> None:
    res = runtime.run_action("std.echo", {"output": "x"}, description="adhoc")
    assert res["state"] == "SUCCESS" and res["output"] == {"result": "x"}
    assert res["task_execution_id"] is None
    res = runtime.run_action("std.fail", {"error_data": "bad"})
    assert res["state"] == "ERROR" and res["output"] == {"result": "bad"}
    with pytest.raises(NotFound, match="no.such"):
        runtime.run_action("no.such", {})
    with pytest.raises(InputError):
        runtime.run_action("std.echo", {"nope": 1})
    queued = runtime.run_action("test.gate", {"name": "adhoc"}, params={"run_sync": False})
    assert queued["state"] == "RUNNING"
    testactions.gate("adhoc").set()
    done = runtime.wait_for(lambda s: api.get(s, m.ActionExecution, queued["id"]).state
                            == "SUCCESS", T)
    assert done


def test_complete_async_action(runtime: Runtime) -> None:
    define(runtime, """
version: '2.0'
asy:
  tasks:
    t:
      action: std.async_noop
      publish: {r: <% task().result %>}
""")
    ex = runtime.start_workflow("asy")
    wait_task_state(runtime, ex["id"], "t", "RUNNING")

    def action(s):  # type: ignore[no-untyped-def]
        rows = s.query(m.ActionExecution).filter_by(workflow_execution_id=ex["id"]).all()
        return rows[0].id if rows else None

    action_id = runtime.wait_for(action, T)
    done = runtime.complete_action(action_id, "SUCCESS", {"answer": 42})
    assert done["state"] == "SUCCESS"
    final = runtime.wait_execution(ex["id"], T)
    assert final["state"] == "SUCCESS"
    assert task_rows(runtime, ex["id"])[0].published == {"r": {"answer": 42}}
    with pytest.raises(NotAllowed):
        runtime.complete_action(action_id, "SUCCESS", 1)


def test_failure_inside_a_step_fails_the_execution(runtime: Runtime) -> None:
    define(runtime, SEQUENCE)

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("kaputt")

    runtime.engine.decide = broken
    ex = runtime.start_workflow("seq", input={"x": 1})
    done = runtime.wait_execution(ex["id"], T)
    assert done["state"] == "ERROR"
    assert done["state_info"] == "Engine failure: RuntimeError: kaputt"


def test_subworkflow_and_parent_output(runtime: Runtime) -> None:
    define(runtime, """
version: '2.0'
parent:
  output: {child: <% $.child %>}
  tasks:
    call:
      workflow: child
      input: {v: 2}
      publish: {child: <% task().result %>}
child:
  input: [v]
  output: {double: <% $.v * 2 %>}
  tasks:
    noop:
      action: std.noop
""")
    ex = runtime.start_workflow("parent")
    done = runtime.wait_execution(ex["id"], T)
    assert done["state"] == "SUCCESS", done["state_info"]
    assert done["output"] == {"child": {"double": 4}}
    with runtime.session() as s:
        children = api.list_rows(s, m.WorkflowExecution, filters={"workflow_name": "child"})
    assert len(children) == 1
    child = children[0]
    assert child.parent_execution_id == ex["id"] and child.root_execution_id == ex["id"]
    assert child.task_execution_id == task_rows(runtime, ex["id"])[0].id
    assert child.state == "SUCCESS"


def test_events_for_one_execution_are_batched(runtime: Runtime) -> None:
    define(runtime, """
version: '2.0'
many:
  tasks:
    items:
      with-items: i in <% range(20) %>
      action: std.echo output=<% $.i %>
""")
    steps: list[str] = []
    hold = threading.Event()
    first = threading.Event()
    second = threading.Event()

    def listener(kind: str, data: dict) -> None:  # type: ignore[type-arg]
        if kind == "step":
            steps.append(data["execution_id"])
            if len(steps) == 2:
                second.set()
            if not first.is_set():
                first.set()
                hold.wait(T)  # blocks the only engine worker after the first step

    runtime.engine.stop()
    runtime.engine._workers_n = 1
    runtime.engine.folder = None  # results come back from the executor as events
    runtime.engine.start()
    runtime.add_listener(listener)
    ex = runtime.start_workflow("many")
    assert first.wait(T)
    assert runtime.engine.wait_queued(ex["id"], 20, T)
    hold.set()
    done = runtime.wait_execution(ex["id"], T)
    assert done["state"] == "SUCCESS", done["state_info"]
    assert second.wait(T)
    assert len(steps) == 2  # the start, then all 20 completions in one step
    assert task_rows(runtime, ex["id"])[0].result == list(range(20))


def test_cached_state_is_reloaded_when_the_row_changed(runtime: Runtime) -> None:
    define(runtime, GATED)
    ex = runtime.start_workflow("gated")
    wait_task_state(runtime, ex["id"], "first", "RUNNING")
    with runtime.session() as s:
        version = api.get_execution_version(s, ex["id"])
        assert api.update_execution_cas(s, ex["id"], version, description="other writer")
    testactions.gate(ex["id"]).set()
    assert runtime.wait_execution(ex["id"], T)["state"] == "SUCCESS"


def test_field_size_limits(runtime: Runtime) -> None:
    from wfaas.exceptions import SizeLimitExceeded

    runtime.field_size_limit_kb = runtime.executor.size_limit_kb = 1
    define(runtime, SEQUENCE)
    with pytest.raises(SizeLimitExceeded, match="class=WorkflowExecution, field=input"):
        runtime.start_workflow("seq", input={"x": "y" * 2000})
    ex = runtime.start_workflow("seq", input={"x": "y" * 800})  # fits; "!"-result fits too
    assert runtime.wait_execution(ex["id"], T)["state"] == "SUCCESS"
    res = runtime.run_action("std.echo", {"output": "z" * 1100})  # input is not limited
    assert res["state"] == "ERROR"
    assert res["output"]["result"] == ("Field size limit exceeded [class=ActionExecution, "
                                       "field=output, size=1KB, limit=1KB]")


def test_security_context_reaches_actions_and_subworkflows(runtime: Runtime) -> None:
    define(runtime, """
version: '2.0'
outer:
  output: {sec: <% $.sec %>}
  tasks:
    call:
      workflow: inner
      publish: {sec: <% task().result.sec %>}
inner:
  output: {sec: <% $.sec %>}
  tasks:
    t:
      action: test.security
      publish: {sec: <% task().result %>}
""")
    security = {"auth_token": "tok", "trust_id": "trust-1", "project_id": "p1"}
    ex = runtime.start_workflow("outer", security=security)
    assert "security" not in ex  # credentials never leave through row dicts
    done = runtime.wait_execution(ex["id"], T)
    assert done["state"] == "SUCCESS", done["state_info"]
    sec = done["output"]["sec"]
    assert (sec["auth_token"], sec["trust_id"], sec["project_id"]) == ("tok", "trust-1", "p1")
    res = runtime.run_action("test.security", {}, security={"auth_token": "adhoc"})
    assert res["output"]["result"]["auth_token"] == "adhoc"


def test_a_new_execution_is_not_read_back_by_the_engine(runtime: Runtime) -> None:
    from sqlalchemy import event

    define(runtime, SEQUENCE)
    reads: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if (threading.current_thread().name.startswith("wfaas-engine")
                and statement.lstrip().startswith("SELECT")
                and "FROM workflow_executions" in statement):
            reads.append(statement)

    event.listen(runtime.db, "before_cursor_execute", record)
    try:
        ex = runtime.start_workflow("seq", input={"x": "hi"})
        done = runtime.wait_execution(ex["id"], T)
    finally:
        event.remove(runtime.db, "before_cursor_execute", record)
    assert done["state"] == "SUCCESS" and done["output"] == {"out": "hi!"}
    assert reads == []  # the API primed the engine's cache with the stored execution
