"""Cron triggers fired by the TriggerService thread over a real Runtime (SQLite)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from oslo_config import cfg

from tests.functional.triggers.conftest import wait_executions
from wfaas.db import models as m
from wfaas.exceptions import Conflict
from wfaas.triggers import cron
from wfaas.triggers.service import TriggerService


def _create(runtime: Any, *, due_in: float, **kw: Any) -> tuple[str, float]:
    due = cron.from_epoch(int(time.time() + due_in) + 1.0)  # whole second, like Mistral
    with runtime.session() as s:
        row = cron.create_cron_trigger(s, name=kw.pop("name", "soon"), pattern=None,
                                       first_execution_time=due, workflow_identifier="echo_wf",
                                       workflow_input={"who": "cron"},
                                       now=cron.from_epoch(time.time()), **kw)
        return row.id, cron.to_epoch(due)


def test_fires_on_time_after_wake(runtime: Any, conf: cfg.ConfigOpts,
                                  workflow_id: str) -> None:
    service = TriggerService.from_runtime(runtime, conf)
    service.max_sleep = 300.0  # only the wake-up can make it fire on time
    service.start()
    try:
        tid, due = _create(runtime, due_in=1.0)
        service.wake()
        [ex] = wait_executions(runtime, 1, timeout=10)
    finally:
        service.stop()
    created = cron.to_epoch(ex["created_at"])
    assert due <= created + 0.001, (due, created)
    assert created - due < 1.0, f"latency {created - due:.3f}s"
    assert json.loads(ex["description"])["triggered_by"] == {
        "type": "cron_trigger", "id": tid, "name": "soon"}
    done = runtime.wait_execution(ex["id"], timeout=20)
    assert done["state"] == "SUCCESS" and done["output"] == {"who": "cron"}
    with runtime.session() as s:  # one-shot: gone after its run
        assert s.get(m.CronTrigger, tid) is None


def test_restarted_service_fires_pending_trigger(runtime: Any, conf: cfg.ConfigOpts,
                                                 workflow_id: str) -> None:
    first = TriggerService.from_runtime(runtime, conf)
    first.start()
    first.stop()  # "down" before the trigger is due
    _create(runtime, due_in=0.5)
    second = TriggerService.from_runtime(runtime, conf)
    second.start()  # a fresh start reads the stored next_execution_time
    try:
        wait_executions(runtime, 1, timeout=10)
    finally:
        second.stop()
    assert len(wait_executions(runtime, 1)) == 1


def test_trigger_created_through_the_api_fires(runtime: Any, conf: cfg.ConfigOpts,
                                               workflow_id: str, client: Any) -> None:
    service = TriggerService.from_runtime(runtime, conf)
    service.max_sleep = 300.0
    runtime.cron_triggers_changed = service.wake  # the wiring the lead adds
    service.start()
    try:
        due = int(time.time()) + 2
        resp = client.post_json("/v2/cron_triggers", {
            "name": "api-made", "workflow_name": "echo_wf",
            "workflow_input": json.dumps({"who": "api"}),
            "first_execution_time": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(due))},
            201)
        tid = resp.json["id"]
        [ex] = wait_executions(runtime, 1, timeout=10)
    finally:
        service.stop()
    created = cron.to_epoch(ex["created_at"])
    assert due <= created < due + 1.0
    assert json.loads(ex["description"])["triggered_by"]["id"] == tid
    assert runtime.wait_execution(ex["id"], timeout=20)["output"] == {"who": "api"}
    assert client.get(f"/v2/cron_triggers/{tid}", 404).status_int == 404


def test_crash_between_start_and_advance_with_real_runtime(
        runtime: Any, workflow_id: str, monkeypatch: Any) -> None:
    now = time.time()
    with runtime.session() as s:
        tid = cron.create_cron_trigger(s, name="every-minute", pattern="* * * * *",
                                       workflow_identifier="echo_wf",
                                       workflow_input={"who": "x"},
                                       now=cron.from_epoch(now)).id
        due = cron.to_epoch(s.get(m.CronTrigger, tid).next_execution_time)

    def crash(*_a: object, **_k: object) -> bool:
        raise RuntimeError("killed")

    first = TriggerService(runtime.session, runtime.start_workflow, clock=lambda: due + 0.2)
    monkeypatch.setattr(cron, "apply_plan", crash)
    first.fire_due()
    monkeypatch.undo()
    # The real start_workflow refuses the same run id (Conflict), so even without the
    # existence check a second start could not duplicate it.
    run_id = cron.run_execution_id(tid, cron.from_epoch(due))
    with pytest.raises(Conflict):
        runtime.start_workflow("echo_wf", input={"who": "x"}, execution_id=run_id)
    second = TriggerService(runtime.session, runtime.start_workflow, clock=lambda: due + 5)
    assert second.fire_due() == due + 60
    done = wait_executions(runtime, 1, state="SUCCESS")
    assert [d["id"] for d in done] == [run_id]
