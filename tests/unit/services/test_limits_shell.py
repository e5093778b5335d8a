"""Execution limits and quarantine in the engine shell (SQLite and PostgreSQL);
the attacks against a real server are in tests/hostile/test_limits.py."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.unit.db.dbutil import DB_PARAMS, migrated_engine
from tests.unit.services import testactions
from tests.unit.services.conftest import define
from wfaas import metrics
from wfaas.db import api
from wfaas.db import models as m
from wfaas.exceptions import Conflict
from wfaas.services.limits import ExecutionLimits
from wfaas.services.runtime import Runtime
from wfaas.services.watchdog import GUARD_DUE_IN, GUARD_KIND, guard_key

RECURSE = """
version: '2.0'
recurse:
  tasks:
    again:
      workflow: recurse
"""

ITEMS = """
version: '2.0'
items:
  tasks:
    each:
      with-items: i in <% range(30) %>
      action: std.echo output=<% $.i %>
"""


def breaches(limit: str) -> float:
    """``wfaas_limit_breaches_total{limit=...}`` of this process so far."""
    return metrics.REGISTRY.get_sample_value("wfaas_limit_breaches_total",
                                             {"limit": limit}) or 0.0


def _runtime(eng: object, db_kind: str, limits: ExecutionLimits) -> Runtime:
    return Runtime(eng, provider=testactions.provider(),  # type: ignore[arg-type]
                   embedded=db_kind == "sqlite", limits=limits)


@pytest.mark.parametrize("db_kind", DB_PARAMS)
def test_nesting_depth_stops_a_workflow_running_itself(db_kind: str, tmp_path: Path) -> None:
    with migrated_engine(db_kind, tmp_path) as eng:
        with _runtime(eng, db_kind, ExecutionLimits(max_nesting_depth=3)) as rt:
            before = breaches("limits.max_nesting_depth")
            define(rt, RECURSE)
            root = rt.start_workflow("recurse")["id"]
            done = rt.wait_execution(root, 30)
            assert done["state"] == "ERROR"
            assert "nesting depth 4 is more than 3 ([limits] max_nesting_depth)" in \
                done["state_info"]
            with rt.session() as s:
                tree = [r for r in api.list_rows(s, m.WorkflowExecution)
                        if r.root_execution_id == root]
            assert len(tree) == 4  # the root and 3 levels
            assert {r.state for r in tree} == {"ERROR"}
            assert breaches("limits.max_nesting_depth") == before + 1


@pytest.mark.parametrize(("limit", "state"), [(29, "ERROR"), (30, "SUCCESS"), (-1, "SUCCESS")])
def test_with_items_limit_and_minus_one(tmp_path: Path, limit: int, state: str) -> None:
    with migrated_engine("sqlite", tmp_path) as eng:
        with _runtime(eng, "sqlite", ExecutionLimits(max_with_items=limit)) as rt:
            define(rt, ITEMS)
            done = rt.wait_execution(rt.start_workflow("items")["id"], 30)
            assert done["state"] == state, done["state_info"]
            if state == "ERROR":
                assert "30 items, more than 29 ([limits] max_with_items)" in \
                    done["state_info"]


@pytest.mark.parametrize("db_kind", DB_PARAMS)
def test_an_execution_interrupted_too_often_is_quarantined_at_start(
        db_kind: str, tmp_path: Path) -> None:
    with migrated_engine(db_kind, tmp_path) as eng:
        rt = _runtime(eng, db_kind, ExecutionLimits())
        define(rt, ITEMS)
        with rt.session() as s:  # stored, never stepped: as after a crash
            for name, attempts in (("hit", 3), ("spared", 2)):
                api.insert_row(s, m.WorkflowExecution, id=f"ex-{name}", workflow_name="items",
                               spec=ITEMS, state="RUNNING", input={}, params={},
                               root_execution_id=f"ex-{name}")
                s.add(m.DelayedCall(key=guard_key(f"ex-{name}"), kind=GUARD_KIND,
                                    due_at=time.time() + GUARD_DUE_IN, execution_id=f"ex-{name}",
                                    payload={"attempts": attempts}))
        before = breaches("limits.max_step_attempts")
        with rt:
            hit = rt.wait_execution("ex-hit", 30)
            spared = rt.wait_execution("ex-spared", 30)
        assert hit["state"] == "ERROR"
        assert hit["state_info"].startswith("quarantined: step failed 3 times: ")
        assert spared["state"] == "SUCCESS"  # run again (2 < max_step_attempts)
        assert breaches("limits.max_step_attempts") == before + 1


WAITING = """
version: '2.0'
waiting:
  tasks:
    later:
      action: std.noop
      wait-before: 600
"""


def test_running_executions_per_project(tmp_path: Path) -> None:
    with migrated_engine("sqlite", tmp_path) as eng:
        with _runtime(eng, "sqlite", ExecutionLimits(max_running_per_project=2)) as rt:
            define(rt, WAITING)
            first = rt.start_workflow("waiting", project_id="p1")["id"]
            rt.start_workflow("waiting", project_id="p1")
            rt.start_workflow("waiting", project_id="p2")  # another project: not counted
            before = breaches("limits.max_running_executions_per_project")
            with pytest.raises(Conflict, match=r"project p1 has 2 running executions.*"
                                               r"max_running_executions_per_project"):
                rt.start_workflow("waiting", project_id="p1")
            assert breaches("limits.max_running_executions_per_project") == before + 1
            rt.stop_execution(first, "CANCELLED")
            assert rt.start_workflow("waiting", project_id="p1")["state"] == "RUNNING"


def test_breach_label_is_the_option_not_the_tenants_text() -> None:
    from wfaas.services.limits import count_breach

    before = breaches("limits.max_with_items")
    count_breach("Limit exceeded: with-items of task '[limits] evil1' has 9 items, more "
                 "than 3 ([limits] max_with_items)")
    count_breach("Root execution r is CANCELLED: no new sub-workflow")  # not a limit
    assert breaches("limits.max_with_items") == before + 1
    assert breaches("limits.evil1") == 0
