"""The engine scenario fixtures through separate processes (see conftest ``cluster``).

Every scenario that needs no mocked action, no operation and no timer (those
need the harness's virtual clock, see test_scenarios_rabbit.py) is uploaded
through the REST API in a namespace of its own, all are started at once, and
each is checked against its ``expect`` block from what the processes stored.
"""

from __future__ import annotations

import json
import re
import time
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.unit.engine.scenario_runner import load_scenarios
from tests.unit.engine.test_scenarios import _as_list, _check
from tools.distributed.cluster import Cluster
from wfaas.db import models as m
from wfaas.services.state_store import load_state

pytestmark = [pytest.mark.rabbit, pytest.mark.postgres, pytest.mark.slow]
TERMINAL_OR_PAUSED = ("SUCCESS", "ERROR", "CANCELLED", "PAUSED")
TIMED = re.compile(r"wait-before|wait-after|timeout|retry|delay")
# std.http & co. would really go out (the harness answers them with a default result)
NETWORK = re.compile(r"std\.(http|mistral_http|ssh|email)")


def _real_actions_only(sc: dict[str, Any]) -> bool:
    exp = sc["expect"]
    return not (sc.get("actions") or sc.get("operations") or TIMED.search(sc["workflow"])
                or NETWORK.search(sc["workflow"])
                or "'root'" in repr(exp)  # the harness's fixed execution id
                or any(k in exp for k in ("elapsed", "action_fields", "errors")))


SCENARIOS = [s for s in load_scenarios() if _real_actions_only(s)]


def _start(cluster: Cluster, sc: dict[str, Any]) -> tuple[str | None, str | None]:
    """Upload and start one scenario; (execution id, None) or (None, refusal message)."""
    ns = sc["name"]
    r = requests.post(f"{cluster.api_url}/v2/workflows?namespace={ns}", data=sc["workflow"],
                      headers={"Content-Type": "text/plain"}, timeout=60)
    assert r.status_code == 201, r.text
    name = sc.get("workflow_name") or r.json()["workflows"][0]["name"]
    body = {"workflow_name": name, "workflow_namespace": ns,
            "input": json.dumps(sc.get("input") or {}),
            "params": json.dumps({**(sc.get("params") or {}), "namespace": ns})}
    r = requests.post(f"{cluster.api_url}/v2/executions", json=body, timeout=60)
    if r.status_code == 400:
        return None, str(r.json().get("faultstring", r.text))
    assert r.status_code == 201, r.text
    return str(r.json()["id"]), None


@pytest.fixture(scope="module")
def finished(cluster: Cluster, db: Engine) -> dict[str, Any]:
    """Scenario name -> a Sim-like view of its finished execution, or the refusal."""
    started = {sc["name"]: _start(cluster, sc) for sc in SCENARIOS}
    ids = [ex for ex, _ in started.values() if ex]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with db.connect() as conn:
            busy = conn.execute(select(m.WorkflowExecution.id).where(
                m.WorkflowExecution.root_execution_id.is_(None),
                m.WorkflowExecution.id.in_(ids),
                m.WorkflowExecution.state.not_in(TERMINAL_OR_PAUSED))).all()
        if not busy:
            break
        time.sleep(0.3)
    time.sleep(1.0)  # a PAUSED execution's children settle
    views: dict[str, Any] = {}
    with Session(db) as s:
        for name, (ex_id, refusal) in started.items():
            views[name] = refusal if ex_id is None else _view(s, ex_id)
    return views


def _view(s: Session, ex_id: str) -> SimpleNamespace:
    row = s.get(m.WorkflowExecution, ex_id)
    assert row is not None
    if row.engine_state is None:
        state = SimpleNamespace(state=row.state, state_info=row.state_info, output=row.output,
                                tasks={}, by_name={}, context={})
    else:
        state, _, _ = load_state(s, row)
    children = s.scalars(select(m.WorkflowExecution).where(
        m.WorkflowExecution.root_execution_id == ex_id, m.WorkflowExecution.id != ex_id)
        .order_by(m.WorkflowExecution.created_at)).all()
    actions = s.scalars(select(m.ActionExecution).where(
        m.ActionExecution.workflow_execution_id == ex_id)
        .order_by(m.ActionExecution.created_at)).all()
    execs: dict[str, Any] = {"root": SimpleNamespace(state=state)}
    for child in children:
        execs[child.id] = SimpleNamespace(state=SimpleNamespace(state=child.state))
    runs = [SimpleNamespace(task_name=a.task_name, input=a.input) for a in actions]
    return SimpleNamespace(execs=execs, run_actions=runs, errors=[], calls={})


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_scenario_through_separate_processes(scenario: dict[str, Any],
                                             finished: dict[str, Any]) -> None:
    view = finished[scenario["name"]]
    exp = scenario["expect"]
    if isinstance(view, str):  # refused by the API up front (HTTP 400)
        assert exp["state"] == "ERROR", view
        for part in _as_list(exp.get("state_info_contains")):
            assert part in view
        return
    _check(view, exp)


def test_many_scenarios_run_through_processes() -> None:
    assert len(SCENARIOS) >= 50
