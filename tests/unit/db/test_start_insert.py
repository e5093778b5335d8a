"""The prebuilt start statements (wfaas/db/start_insert.py) on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from wfaas.db import api
from wfaas.db import models as m
from wfaas.db.session import session_scope, write_lock
from wfaas.db.start_insert import StartWriter
from wfaas.exceptions import Conflict

EX = m.EXECUTIONS


def _stored(engine: Engine, ex_id: str) -> dict[str, Any]:
    with engine.connect() as conn:  # the header row joined with the body row
        row = conn.execute(select(*m.columns_of(m.WorkflowExecution)).select_from(
            m.WorkflowExecution.__table__).where(EX.c.id == ex_id)).one()
    return dict(row._mapping)


def _values(ex_id: str) -> dict[str, Any]:
    return {"id": ex_id, "root_execution_id": ex_id, "workflow_name": "wf",
            "workflow_namespace": "ns", "workflow_id": "w-1", "spec": "wf: {}",
            "description": "", "input": {"a": [1, "é", None], "b": {"c": 1.5}},
            "params": {"namespace": "ns", "env": {"k": "v"}}, "state": "RUNNING",
            "source_execution_id": None, "project_id": "p1",
            "security": {"auth_token": "t"}}


def test_a_row_is_stored_as_the_session_path_stores_it(db_engine: Engine) -> None:
    writer = StartWriter.of(db_engine)
    assert writer is not None
    direct, core = str(uuid.uuid4()), str(uuid.uuid4())
    with writer.transaction() as tx:
        answered = tx.insert_execution(_values(direct))
    with session_scope(db_engine) as s:
        expected = api.insert_row(s, m.WorkflowExecution, **_values(core))
    assert "security" not in answered
    assert answered.keys() == expected.keys()
    assert {k: v for k, v in answered.items() if k not in ("id", "root_execution_id",
                                                           "created_at")} == \
        {k: v for k, v in expected.items() if k not in ("id", "root_execution_id",
                                                        "created_at")}
    a, b = _stored(db_engine, direct), _stored(db_engine, core)
    assert a["created_at"] == answered["created_at"]  # the answer is what was stored
    for row in (a, b):
        row.pop("id"), row.pop("root_execution_id"), row.pop("created_at")
    assert a == b and a["security"] == {"auth_token": "t"} and a["version"] == 0


def test_find_workflow_by_id_by_name_and_default_namespace(db_engine: Engine) -> None:
    with session_scope(db_engine) as s:
        wf = api.create(s, m.WorkflowDefinition, name="wf", namespace="", definition="d0",
                        project_id="p1")
        api.create(s, m.WorkflowDefinition, name="wf", namespace="ns", definition="d1")
        wf_id = wf.id
    writer = StartWriter.of(db_engine)
    assert writer is not None
    with writer.transaction() as tx:
        by_id = tx.find_workflow(wf_id)
        assert by_id is not None and (by_id.id, by_id.definition) == (wf_id, "d0")
        assert by_id.project_id == "p1" and by_id.workbook_name is None
        assert tx.find_workflow("wf", "ns").definition == "d1"  # type: ignore[union-attr]
        assert tx.find_workflow("wf", "other").definition == "d0"  # type: ignore[union-attr]
        assert tx.find_workflow("wf").namespace == ""  # type: ignore[union-attr]
        assert tx.find_workflow("nope", "ns") is None
        assert tx.find_workflow(str(uuid.uuid4())) is None


def test_a_taken_id_is_a_conflict_and_nothing_is_kept(db_engine: Engine) -> None:
    writer = StartWriter.of(db_engine)
    assert writer is not None
    taken, other = str(uuid.uuid4()), str(uuid.uuid4())
    with writer.transaction() as tx:
        tx.insert_execution(_values(taken))
    with pytest.raises(Conflict, match=f"Duplicate entry for workflow execution: {taken}"):
        with writer.transaction() as tx:
            tx.insert_execution(_values(other))
            tx.insert_execution(_values(taken))
    with db_engine.connect() as conn:  # rolled back: the first row of that transaction too
        assert conn.execute(select(EX.c.id).where(EX.c.id == other)).first() is None
        assert conn.execute(select(m.EXECUTION_BODIES.c.id).where(
            m.EXECUTION_BODIES.c.id == other)).first() is None
    lock = write_lock(db_engine)
    if lock is not None:  # released after the failure
        assert lock.acquire(blocking=False)
        lock.release()


def test_statement_listeners_see_the_statements(db_engine: Engine) -> None:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.split()[0])

    writer = StartWriter.of(db_engine)
    assert writer is not None
    event.listen(db_engine, "before_cursor_execute", record)
    try:
        with writer.transaction() as tx:
            tx.find_workflow("wf")
            tx.insert_execution(_values(str(uuid.uuid4())))
    finally:
        event.remove(db_engine, "before_cursor_execute", record)
    assert seen[-3:] == ["SELECT", "INSERT", "INSERT"]  # the header row, the body row
