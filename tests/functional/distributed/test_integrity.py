"""Heartbeats and the integrity check, in one process (SQLite, in-process transport).

The runtime here has an engine but no executor, so dispatched actions stay
RUNNING exactly as if their executor had died; the checker runs with zero
timeouts so that one ``run_once`` sees them as lost.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.unit.db.dbutil import migrated_engine
from wfaas.cmd.run_cmd import store_file
from wfaas.db import models as m
from wfaas.executors.base import LocalExecutor
from wfaas.rpc.local import LocalTransport
from wfaas.services.integrity import IntegrityChecker
from wfaas.services.runtime import Runtime

WORKFLOWS = """version: '2.0'
safe_wf:
  tasks:
    t:
      action: std.noop
      safe-rerun: true
unsafe_wf:
  tasks:
    t:
      action: std.noop
"""


class Recorder(LocalTransport):
    """The in-process transport, remembering executor requests instead of running them."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[dict[str, Any]] = []
        self.sent = threading.Event()

    def send_to_executor(self, request: dict[str, Any], target: str | None = None) -> None:
        self.requests.append(request)
        self.sent.set()


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    with migrated_engine("sqlite", tmp_path) as eng:
        runtime = Runtime(eng, transport=Recorder(), roles=("engine",), embedded=False,
                          pure_actions_per_step=0)  # std.noop goes to the "executor"
        with runtime.session() as s:
            store_file(s, WORKFLOWS)
        runtime.start()
        try:
            yield runtime
        finally:
            runtime.stop()


def checker(rt: Runtime, **kw: float) -> IntegrityChecker:
    values = {"heartbeat_timeout": 0.0, "first_heartbeat_timeout": 0.0, "stuck_timeout": 0.0}
    values.update(kw)
    return IntegrityChecker(rt, interval=0, **values)


def started(rt: Runtime, name: str) -> tuple[str, str]:
    """Start ``name``; wait until its action was dispatched; (execution id, action id)."""
    transport = rt.transport
    assert isinstance(transport, Recorder)
    transport.sent.clear()
    ex = rt.start_workflow(name)["id"]
    assert transport.sent.wait(10)
    return ex, transport.requests[-1]["action_id"]


def test_lost_safe_rerun_action_is_dispatched_again(rt: Runtime) -> None:
    ex, action_id = started(rt, "safe_wf")
    counts = checker(rt).run_once()
    assert counts["rerun"] == 1
    again = rt.transport.requests[-1]  # type: ignore[attr-defined]
    assert again["action_id"] == action_id and again["safe_rerun"] is True
    assert again["execution_id"] == ex and again["task_name"] == "t"
    with rt.session() as s:
        assert s.get(m.ActionExecution, action_id).state == "RUNNING"  # type: ignore[union-attr]


def test_lost_unsafe_action_fails_its_task_naming_the_lost_executor(rt: Runtime) -> None:
    ex, action_id = started(rt, "unsafe_wf")
    counts = checker(rt).run_once()
    assert counts == {"rerun": 0, "failed": 1, "restarted": 0, "stuck": 0}
    done = rt.wait_execution(ex, timeout=10)
    assert done["state"] == "ERROR"
    with rt.session() as s:
        task = s.scalars(select(m.TaskExecution).where(
            m.TaskExecution.workflow_execution_id == ex)).one()
        assert task.state == "ERROR"
        assert "was lost: its executor stopped sending heartbeats" in (task.state_info or "")


def test_an_action_with_fresh_heartbeats_is_not_lost(rt: Runtime) -> None:
    ex, action_id = started(rt, "unsafe_wf")
    rt.engine.handle_message({"execution_id": None, "event": {
        "kind": "executor_heartbeat", "executor": "x", "group": "", "action_ids": [action_id]}})
    with rt.session() as s:
        assert s.get(m.ActionExecution, action_id).accepted is True  # type: ignore[union-attr]
    # accepted: only the (long) heartbeat timeout applies now, not the first-beat one
    assert checker(rt, heartbeat_timeout=60).run_once()["failed"] == 0
    assert checker(rt, heartbeat_timeout=0).run_once()["failed"] == 1


def test_asynchronous_actions_are_never_lost(rt: Runtime) -> None:
    ex, action_id = started(rt, "unsafe_wf")
    rt.engine.handle_message({"execution_id": None, "event": {
        "kind": "executor_heartbeat", "action_ids": [], "async_action_ids": [action_id]}})
    assert checker(rt).run_once()["failed"] == 0


def test_only_one_checker_claims_a_lost_action(rt: Runtime) -> None:
    started(rt, "safe_wf")
    first, second = checker(rt), checker(rt)
    lost = first.lost_actions()
    assert len(lost) == 1
    counts_a = {"rerun": 0, "failed": 0, "restarted": 0, "stuck": 0}
    counts_b = dict(counts_a)
    first.handle_lost(*lost[0], counts_a)
    second.handle_lost(*lost[0], counts_b)  # both saw the same stale row
    assert counts_a["rerun"] + counts_b["rerun"] == 1


def test_stuck_execution_is_failed_with_a_reason(rt: Runtime) -> None:
    ex, action_id = started(rt, "unsafe_wf")
    with rt.session() as s:  # the action vanished: nothing can move the execution on
        s.delete(s.get(m.ActionExecution, action_id))
    counts = checker(rt, first_heartbeat_timeout=3600, stuck_timeout=1e-6).run_once()
    assert counts["stuck"] == 1
    row = rt.wait_execution(ex, timeout=5)
    assert row["state"] == "ERROR" and "stuck in RUNNING" in row["state_info"]


def test_executor_heartbeat_lists_running_actions() -> None:
    transport = LocalTransport()
    executor = LocalExecutor(transport, provider=None, heartbeat_interval=5)
    assert executor.heartbeat_message() is None
    assert executor.heartbeat_message(announce=True)["event"]["announce"] is True  # type: ignore[index]
    executor._running.add("a1")
    beat = executor.heartbeat_message()
    assert beat is not None and beat["execution_id"] is None
    assert beat["event"]["kind"] == "executor_heartbeat"
    assert beat["event"]["action_ids"] == ["a1"]
