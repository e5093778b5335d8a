"""Which columns a step writes: a stored task or action row is updated without the
columns fixed at its insert (an action's input, names, owners), and the execution
header's ``state`` only when it changed (SQLite rewrites the state index entry of
every UPDATE naming the column). What the API shows stays the same."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from tests.unit.db.dbutil import DB_PARAMS
from tests.unit.services import testactions
from tests.unit.services.conftest import define
from tests.unit.services.test_data_written import runtime as written_runtime
from wfaas.db import models as m
from wfaas.services.runtime import Runtime

T = 30.0

ECHOES = """
version: '2.0'
echoes:
  tasks:
    t0: {action: "std.echo output=<% 'x' * 2000 %>", on-success: [t1]}
    t1: {action: std.echo output=small, on-success: [t2]}
    t2: {action: std.noop}
"""

GATED = """
version: '2.0'
gated:
  input: [gate]
  tasks:
    wait:
      action: test.gate name=<% $.gate %>
      on-success: [after]
    after: {action: std.noop}
"""


class Updates:
    """The SET columns of every UPDATE of one row by its id, per table."""

    def __init__(self, eng: Engine) -> None:
        self.lock = threading.Lock()
        self.sets: list[tuple[str, frozenset[str]]] = []
        event.listen(eng, "before_cursor_execute", self.seen)

    def seen(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
             executemany: bool) -> None:
        match = re.match(r'\s*UPDATE\s+"?(\w+)"?\s+SET\s+(.*?)\s+WHERE\s+"?id"?\s*=',
                         statement, re.S)
        if match is None:  # e.g. the start-up recovery's update of ad-hoc actions
            return
        columns = frozenset(part.split("=")[0].strip().strip('"')
                            for part in match.group(2).split(","))
        with self.lock:
            self.sets.append((match.group(1), columns))

    def of(self, table: str) -> list[frozenset[str]]:
        with self.lock:
            return [cols for name, cols in self.sets if name == table]


@contextmanager
def runtime(db_kind: str, tmp_path: Path) -> Iterator[tuple[Runtime, Updates]]:
    """test_data_written's runtime (every action through the executor), watched."""
    with written_runtime(db_kind, tmp_path) as (rt, _written):
        yield rt, Updates(rt.db)


@pytest.mark.parametrize("db_kind", DB_PARAMS)
def test_finished_rows_are_updated_without_their_fixed_columns(db_kind: str,
                                                               tmp_path: Path) -> None:
    with runtime(db_kind, tmp_path) as (rt, updates):
        define(rt, ECHOES)
        ex = rt.start_workflow("echoes")
        done = rt.wait_execution(ex["id"], T)
        assert done["state"] == "SUCCESS", done["state_info"]
        with rt.session(readonly=True) as s:
            actions = {a.task_name: a for a in s.query(m.ActionExecution)
                       .filter_by(workflow_execution_id=ex["id"])}
            tasks = {t.name: t for t in s.query(m.TaskExecution)
                     .filter_by(workflow_execution_id=ex["id"])}
            # every column is as the insert and the last update left it
            assert actions["t0"].input == {"output": "x" * 2000}
            assert actions["t0"].output == {"result": "x" * 2000}
            assert actions["t1"].input == {"output": "small"}
            for name in ("t0", "t1", "t2"):
                a, t = actions[name], tasks[name]
                assert (a.state, a.name, a.task_execution_id) == ("SUCCESS", a.name, t.id)
                assert (a.workflow_execution_id, a.workflow_name) == (ex["id"], "echoes")
                assert (t.state, t.type, t.workflow_name) == ("SUCCESS", "ACTION", "echoes")
                assert t.started_at is not None and t.finished_at is not None
                assert t.project_id == a.project_id == done["project_id"]
    action_sets = [c for c in updates.of("action_executions") if "state" in c]
    task_sets = [c for c in updates.of("task_executions") if "state" in c]
    assert len(action_sets) >= 3 and len(task_sets) >= 3
    fixed_action = {"input", "name", "namespace", "task_execution_id", "task_name",
                    "workflow_execution_id", "workflow_name", "workflow_namespace",
                    "project_id", "created_at"}
    fixed_task = {"name", "type", "workflow_execution_id", "workflow_name",
                  "workflow_namespace", "workflow_id", "project_id", "started_at",
                  "created_at"}
    for cols in action_sets:
        assert not cols & fixed_action, cols
        assert {"state", "output", "accepted", "updated_at"} <= cols
    for cols in task_sets:
        assert not cols & fixed_task, cols
        assert {"state", "published", "result", "finished_at", "updated_at"} <= cols


def _header_sets(updates: Updates) -> list[frozenset[str]]:
    return [c for c in updates.of("workflow_executions") if "engine_state" in c]


@pytest.mark.parametrize("db_kind", DB_PARAMS)
def test_the_header_state_is_written_when_it_changes(db_kind: str, tmp_path: Path) -> None:
    name = f"g-{uuid.uuid4().hex}"
    with runtime(db_kind, tmp_path) as (rt, updates):
        define(rt, GATED)
        ex = rt.start_workflow("gated", input={"gate": name})
        assert rt.wait_for(lambda s: s.get(m.WorkflowExecution, ex["id"]).version > 0, T)
        started = len(_header_sets(updates))
        assert all("state" in c for c in _header_sets(updates))  # the start writes it
        rt.pause_execution(ex["id"])
        assert rt.wait_for(lambda s: s.get(m.WorkflowExecution, ex["id"]).state == "PAUSED", T)
        rt.engine.forget(ex["id"])  # the next step loads the row again
        rt.resume_execution(ex["id"])
        assert rt.wait_for(lambda s: s.get(m.WorkflowExecution, ex["id"]).state == "RUNNING",
                           T)
        testactions.gate(name).set()
        done = rt.wait_execution(ex["id"], T)
        assert done["state"] == "SUCCESS", done["state_info"]
    sets = _header_sets(updates)[started:]
    with_state = [c for c in sets if "state" in c]
    # PAUSED, RUNNING (after a reload: written once more), SUCCESS; not the steps between
    assert 3 <= len(with_state) < len(sets), sets
