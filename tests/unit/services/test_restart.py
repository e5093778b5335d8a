"""State and timers survive a restart of the Runtime on the same database."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.unit.db.dbutil import DB_PARAMS, migrated_engine
from tests.unit.services import testactions
from tests.unit.services.conftest import define
from wfaas.db import api
from wfaas.db import models as m
from wfaas.services.runtime import Runtime

WAITING = """
version: '2.0'
waiting:
  output: {r: <% $.r %>}
  tasks:
    first:
      action: std.echo output=one
      on-success: [later]
    later:
      action: std.echo output=two
      wait-before: 3600
      publish: {r: <% task().result %>}
"""


@pytest.mark.parametrize("db_kind", DB_PARAMS)
def test_timer_survives_restart(db_kind: str, tmp_path: Path) -> None:
    with migrated_engine(db_kind, tmp_path) as eng:
        delayed = threading.Event()
        rt1 = Runtime(eng, provider=testactions.provider(), embedded=db_kind == "sqlite")
        rt1.add_listener(lambda kind, d: delayed.set()
                         if kind == "task" and d["state"] == "RUNNING_DELAYED" else None)
        rt1.start()
        define(rt1, WAITING)
        ex_id = rt1.start_workflow("waiting")["id"]
        assert delayed.wait(30)
        rt1.stop()
        with rt1.session() as s:
            calls = api.list_rows(s, m.DelayedCall)
            assert [c.execution_id for c in calls] == [ex_id]
            assert calls[0].due_at > time.time() + 3000
        # A new runtime whose clock is two hours ahead: the timer is overdue.
        rt2 = Runtime(eng, provider=testactions.provider(), embedded=db_kind == "sqlite",
                      clock=lambda: time.time() + 7200)
        rt2.start()
        try:
            done = rt2.wait_execution(ex_id, 30)
            assert done["state"] == "SUCCESS", done["state_info"]
            assert done["output"] == {"r": "two"}
            with rt2.session() as s:
                assert api.count(s, m.DelayedCall) == 0
        finally:
            rt2.stop()


def test_unstarted_execution_and_running_action_are_recovered(tmp_path: Path) -> None:
    with migrated_engine("sqlite", tmp_path) as eng:
        rt1 = Runtime(eng, provider=testactions.provider())
        define(rt1, """
version: '2.0'
gated:
  tasks:
    first:
      action: test.gate name=g1
      on-success: [second]
    second:
      action: std.echo output=done
""")
        # Stored but never started (as if the process died right after the API call).
        rt1.engine.send = lambda *a, **k: None  # type: ignore[method-assign]
        ex_id = rt1.start_workflow("gated")["id"]
        with rt1.session() as s:
            assert api.get(s, m.WorkflowExecution, ex_id).engine_state is None
        rt2 = Runtime(eng, provider=testactions.provider())
        testactions.gate("g1").set()
        rt2.start()
        try:
            assert rt2.wait_execution(ex_id, 30)["state"] == "SUCCESS"
        finally:
            rt2.stop()


@pytest.mark.parametrize("safe", [True, False])
def test_interrupted_action_is_redelivered_after_restart(tmp_path: Path, safe: bool) -> None:
    gate_name = f"g-{safe}"
    with migrated_engine("sqlite", tmp_path) as eng:
        running = threading.Event()
        rt1 = Runtime(eng, provider=testactions.provider())
        rt1.add_listener(lambda kind, d: running.set()
                         if kind == "task" and d["state"] == "RUNNING" else None)
        rt1.start()
        define(rt1, f"""
version: '2.0'
gated:
  tasks:
    first:
      action: test.gate name={gate_name}
      safe-rerun: {str(safe).lower()}
""")
        ex_id = rt1.start_workflow("gated")["id"]
        assert running.wait(30)
        rt1.stop()  # the executor dies with the action still running
        rt2 = Runtime(eng, provider=testactions.provider())
        rt2.start()
        try:
            testactions.gate(gate_name).set()
            done = rt2.wait_execution(ex_id, 30)
            if safe:
                assert done["state"] == "SUCCESS", done["state_info"]
            else:
                assert done["state"] == "ERROR"
                assert "not safe to re-run" in done["state_info"]
        finally:
            rt2.stop()


def test_periodic_integrity_check_restarts_a_lost_start(tmp_path: Path) -> None:
    now = [time.time()]
    with migrated_engine("sqlite", tmp_path) as eng:
        rt = Runtime(eng, provider=testactions.provider(), roles=("engine", "executor"),
                     integrity_check_delay=20, clock=lambda: now[0])
        rt.start()
        try:
            define(rt, "version: '2.0'\nwf:\n  tasks:\n    t: {action: std.noop}\n")
            send = rt.engine.send
            rt.engine.send = lambda *a, **k: None  # type: ignore[method-assign]
            ex_id = rt.start_workflow("wf")["id"]  # its start message is lost
            rt.engine.send = send  # type: ignore[method-assign]
            assert rt.scheduler.run_once() == now[0] + 20  # too early: next check planned
            with rt.session() as s:
                assert api.get(s, m.WorkflowExecution, ex_id).engine_state is None
            now[0] += 60
            rt.scheduler.run_once()
            assert rt.wait_execution(ex_id, 30)["state"] == "SUCCESS"
        finally:
            rt.stop()


def test_interrupted_adhoc_action_fails_after_restart(tmp_path: Path) -> None:
    with migrated_engine("sqlite", tmp_path) as eng:
        rt1 = Runtime(eng, provider=testactions.provider())
        rt1.start()
        queued = rt1.run_action("test.gate", {"name": "never-opened"},
                                params={"run_sync": False})
        rt1.stop()
        rt2 = Runtime(eng, provider=testactions.provider())
        rt2.start()
        try:
            with rt2.session() as s:
                row = api.get(s, m.ActionExecution, queued["id"])
                assert row.state == "ERROR" and "Interrupted" in (row.state_info or "")
        finally:
            testactions.gate("never-opened").set()
            rt2.stop()
