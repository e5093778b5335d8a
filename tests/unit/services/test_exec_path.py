"""The executor path: where an action's result is applied, and retries without delay."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from tests.unit.db.dbutil import migrated_engine
from tests.unit.services import testactions
from tests.unit.services.conftest import define
from wfaas.db import models as m
from wfaas.executors.base import completion_message
from wfaas.rpc.base import idle_sender, sender_is_idle
from wfaas.services.runtime import Runtime

T = 30.0

ASYNC = """
version: '2.0'
asy:
  tasks:
    t:
      action: std.async_noop
      publish: {r: <% task().result %>}
"""


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    """A started embedded runtime whose std.noop/std.echo go to the executor."""
    with migrated_engine("sqlite", tmp_path) as eng:
        runtime = Runtime(eng, provider=testactions.provider(), executor_workers=4,
                          pure_actions_per_step=0)
        runtime.start()
        try:
            yield runtime
        finally:
            runtime.stop()


def _waiting_action(rt: Runtime) -> tuple[str, str]:
    """Start ``asy`` and return (execution id, id of its running async action)."""
    define(rt, ASYNC)
    ex = rt.start_workflow("asy")

    def action(s: Any) -> str | None:
        row = s.query(m.ActionExecution).filter_by(workflow_execution_id=ex["id"]).first()
        return row.id if row is not None and row.state == "RUNNING" else None

    action_id = rt.wait_for(action, T)
    assert action_id
    rt.wait_for(lambda s: rt.quiet(), T)
    return ex["id"], action_id


def _send_result(rt: Runtime, ex_id: str, action_id: str, idle: bool) -> list[str]:
    """Send the action's result from a thread named ``sender`` (inside ``idle_sender``
    when ``idle``); return the names of the threads that ran the engine's steps."""
    steps: list[str] = []
    rt.add_listener(lambda kind, data: steps.append(threading.current_thread().name)
                    if kind == "step" else None)
    message = completion_message({"execution_id": ex_id, "action_id": action_id},
                                 "SUCCESS", {"answer": 42})

    def send() -> None:
        if idle:
            with idle_sender():
                assert sender_is_idle()
                rt.transport.send_to_engine(message)
        else:
            rt.transport.send_to_engine(message)

    sender = threading.Thread(target=send, name="sender")
    sender.start()
    sender.join(T)
    done = rt.wait_execution(ex_id, T)
    assert done["state"] == "SUCCESS"
    assert done["output"] == {"r": {"answer": 42}}
    return steps


def test_an_idle_executor_thread_applies_its_result_itself(rt: Runtime) -> None:
    """In-process, a result sent by a thread done with its action (the executor, inside
    ``idle_sender``) is applied in that thread while no step runs: no engine worker is
    woken for it."""
    ex_id, action_id = _waiting_action(rt)
    assert _send_result(rt, ex_id, action_id, idle=True) == ["sender"]
    assert not sender_is_idle()  # the mark does not leak out of the block


def test_any_other_sender_wakes_an_engine_worker(rt: Runtime) -> None:
    """A sender that is not marked idle (an API thread, the scheduler) only queues the
    event: an engine worker applies it."""
    ex_id, action_id = _waiting_action(rt)
    steps = _send_result(rt, ex_id, action_id, idle=False)
    assert steps and all(name.startswith("wfaas-engine") for name in steps), steps


def test_results_from_the_executor_pool_are_applied_in_its_threads(rt: Runtime) -> None:
    """A sequence of actions that run on the pool (std.sleep): every step after the
    first is applied by an executor thread or by the engine worker still busy with the
    previous step; the sequence completes with every task in order."""
    define(rt, """
version: '2.0'
seq:
  tasks:
""" + "".join(f"""    t{i}:
      action: std.sleep seconds=0
      on-success: [t{i + 1}]
""" for i in range(9)) + """    t9:
      action: std.sleep seconds=0
""")
    names: list[str] = []
    rt.add_listener(lambda kind, data: names.append(threading.current_thread().name)
                    if kind == "step" else None)
    done = rt.wait_execution(rt.start_workflow("seq")["id"], T)
    assert done["state"] == "SUCCESS"
    assert {n.rstrip("0123456789_") for n in names} <= {"wfaas-engine-", "wfaas-executor"}


def test_retry_without_delay_needs_no_timer(rt: Runtime) -> None:
    """``retry: {count: 3, delay: 0}``: four attempts in one task, each started in the
    step that saw the previous one fail; no delayed call is ever written."""
    inserts: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "delayed_calls" in statement and statement.lstrip().upper().startswith("INSERT"):
            inserts.append(statement)

    event.listen(rt.db, "before_cursor_execute", count)
    try:
        define(rt, """
version: '2.0'
retried:
  tasks:
    t:
      action: std.fail
      retry: {count: 3, delay: 0}
""")
        done = rt.wait_execution(rt.start_workflow("retried")["id"], T)
    finally:
        event.remove(rt.db, "before_cursor_execute", count)
    assert done["state"] == "ERROR"
    with rt.session() as s:
        tasks = s.query(m.TaskExecution).filter_by(workflow_execution_id=done["id"]).all()
        assert len(tasks) == 1
        actions = s.query(m.ActionExecution).filter_by(task_execution_id=tasks[0].id).all()
        assert len(actions) == 4
        assert {a.state for a in actions} == {"ERROR"}
        assert s.query(m.DelayedCall).count() == 0
    assert inserts == []


def test_retry_with_a_delay_fires_from_a_timer(rt: Runtime) -> None:
    """The counterpart: with ``delay: 1`` each retry waits on a delayed call (the
    scheduler wakes for it; no polling interval), and the task ends after the retries."""
    define(rt, """
version: '2.0'
delayed:
  tasks:
    t:
      action: std.fail
      retry: {count: 1, delay: 1}
""")
    seen: list[str] = []
    rt.add_listener(lambda kind, data: seen.append(data.get("state", ""))
                    if kind == "task" else None)
    done = rt.wait_execution(rt.start_workflow("delayed")["id"], T)
    assert done["state"] == "ERROR"
    assert "RUNNING_DELAYED" in seen
    with rt.session() as s:
        actions = s.query(m.ActionExecution).filter_by(workflow_execution_id=done["id"]).all()
        assert len(actions) == 2
        assert s.query(m.DelayedCall).count() == 0  # fired and deleted with its step
