"""Two engines applying events of one execution at the same time (multi-engine setup)."""

from __future__ import annotations

import threading

from tests.unit.services.conftest import define
from wfaas.db import api
from wfaas.db import models as m
from wfaas.rpc.local import LocalTransport
from wfaas.services.engine_service import EngineService
from wfaas.services.runtime import Runtime

T = 30.0


def test_two_engines_complete_different_actions_concurrently(runtime: Runtime) -> None:
    define(runtime, """
version: '2.0'
pair:
  tasks:
    t:
      with-items: i in [1, 2]
      action: std.async_noop
""")
    ex_id = runtime.start_workflow("pair")["id"]

    def two_running(s):  # type: ignore[no-untyped-def]
        rows = s.query(m.ActionExecution).filter_by(workflow_execution_id=ex_id).all()
        return [r.id for r in rows] if len(rows) == 2 else None

    a1, a2 = runtime.wait_for(two_running, T)
    other = EngineService(runtime.sessions, LocalTransport(), runtime.specs)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def complete(engine: EngineService, action_id: str) -> None:
        try:
            barrier.wait(T)
            engine.process(ex_id, [{"kind": "action_completed", "action_id": action_id,
                                    "state": "SUCCESS", "result": action_id}])
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=complete, args=(runtime.engine, a1)),
               threading.Thread(target=complete, args=(other, a2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(T)
    assert not errors
    with runtime.session() as s:
        row = api.get(s, m.WorkflowExecution, ex_id)
        task = api.task_executions_of(s, ex_id)[0]
    assert row.state == "SUCCESS", row.state_info
    assert task.result == [a1, a2]
