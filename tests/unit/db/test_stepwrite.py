"""Prebuilt step writes (wfaas.db.stepwrite) store what Core stores, compare-and-set on
the version, and behave like a Core transaction (errors, rollback, event listeners)."""

from __future__ import annotations

import datetime as _dt
from typing import Any, cast

import pytest
from sqlalchemy import Engine, Table, event, insert, select, text
from sqlalchemy.exc import IntegrityError

from wfaas.db import models as m
from wfaas.db.session import session_scope
from wfaas.db.stepwrite import StepTx, step_transaction

EXECUTIONS = m.EXECUTIONS
TASKS = cast(Table, m.TaskExecution.__table__)
WHEN = _dt.datetime(2026, 12, 4, 5, 6, 7, 890123)


def _execution(eng: Engine, ex_id: str) -> None:
    with eng.begin() as conn:
        conn.execute(insert(EXECUTIONS), [{"id": ex_id, "workflow_name": "wf",
                                           "state": "RUNNING", "version": 3}])


def _task(ex_id: str, task_id: str) -> dict[str, Any]:
    return {"id": task_id, "name": "t", "workflow_execution_id": ex_id, "workflow_name": "wf",
            "state": "SUCCESS", "published": {"é": [1, None, {"a": True}]}, "result": None,
            "processed": True, "has_next_tasks": False, "started_at": WHEN,
            "finished_at": None, "updated_at": WHEN}


def _stored(eng: Engine, task_id: str) -> dict[str, Any]:
    """The row as the database holds it (no type processing on the way back)."""
    with eng.connect() as conn:
        row = conn.execute(text("SELECT * FROM task_executions WHERE id = :i"),
                           {"i": task_id}).mappings().one()
    return {k: v for k, v in row.items() if k not in ("id", "created_at")}


def test_rows_are_stored_as_core_stores_them(db_engine: Engine) -> None:
    _execution(db_engine, "ex1")
    with db_engine.begin() as conn:
        conn.execute(insert(TASKS), [_task("ex1", "core")])
    with step_transaction(db_engine) as tx:
        tx.insert(TASKS, [_task("ex1", "raw")])
    assert _stored(db_engine, "raw") == _stored(db_engine, "core")
    with session_scope(db_engine) as s:  # and it reads back through the ORM
        task = s.get(m.TaskExecution, "raw")
        assert task is not None
        assert task.published == {"é": [1, None, {"a": True}]}
        assert task.processed is True and task.started_at == WHEN
        assert task.type == "ACTION" and task.created_at is not None  # Python defaults
    with step_transaction(db_engine) as tx:
        tx.update(TASKS, [{"id": "raw", "state": "ERROR", "published": {"b": 2}}])
    with session_scope(db_engine) as s:
        task = s.get(m.TaskExecution, "raw")
        assert task is not None and (task.state, task.published) == ("ERROR", {"b": 2})


def test_compare_and_set_on_the_version(db_engine: Engine) -> None:
    _execution(db_engine, "ex1")
    _execution(db_engine, "ex2")
    with step_transaction(db_engine) as tx:
        assert not tx.compare_and_set(EXECUTIONS, [("ex1", 2, {"state": "ERROR"})])
        assert tx.compare_and_set(EXECUTIONS, [("ex1", 3, {"state": "PAUSED",
                                                           "output": {"x": 1}})])
        # a batch: False when one of the rows moved on
        assert not tx.compare_and_set(EXECUTIONS, [("ex1", 4, {"state": "RUNNING"}),
                                                   ("ex2", 9, {"state": "RUNNING"})])
        # ... and True when every row matched (one executemany)
        assert tx.compare_and_set(EXECUTIONS, [("ex1", 5, {"state": "RUNNING"}),
                                               ("ex2", 3, {"state": "RUNNING"})])
    with db_engine.connect() as conn:
        rows = dict(conn.execute(select(EXECUTIONS.c.id, EXECUTIONS.c.version)).all())
        output = conn.execute(select(EXECUTIONS.c.output, EXECUTIONS.c.state).where(
            EXECUTIONS.c.id == "ex1")).one()
    assert rows == {"ex1": 6, "ex2": 4}
    assert tuple(output) == ({"x": 1}, "RUNNING")


def test_an_error_is_sqlalchemys_and_rolls_back(db_engine: Engine) -> None:
    _execution(db_engine, "ex1")
    with pytest.raises(IntegrityError), step_transaction(db_engine) as tx:
        tx.compare_and_set(EXECUTIONS, [("ex1", 3, {"state": "ERROR"})])
        tx.insert(TASKS, [_task("ex1", "t1"), _task("ex1", "t1")])
    with db_engine.connect() as conn:
        assert conn.execute(select(EXECUTIONS.c.version)).scalar() == 3
        assert conn.execute(select(TASKS.c.id)).all() == []
    with step_transaction(db_engine) as tx:  # the connection is usable again
        tx.insert(TASKS, [_task("ex1", "t1")])
    with db_engine.connect() as conn:
        assert conn.execute(select(TASKS.c.id)).scalars().all() == ["t1"]


def test_listeners_see_the_statements_and_the_commit(db_engine: Engine) -> None:
    _execution(db_engine, "ex1")
    seen: list[tuple[str, bool]] = []
    commits: list[Any] = []

    def before(conn: Any, cursor: Any, statement: str, params: Any, context: Any,
               many: bool) -> None:
        seen.append((statement.split()[0], many))

    def commit(conn: Any) -> None:
        commits.append(conn)

    event.listen(db_engine, "before_cursor_execute", before)
    event.listen(db_engine, "commit", commit)
    try:
        with step_transaction(db_engine) as tx:
            tx.insert(TASKS, [_task("ex1", "t1"), _task("ex1", "t2")])
    finally:
        event.remove(db_engine, "before_cursor_execute", before)
        event.remove(db_engine, "commit", commit)
    assert ("INSERT", True) in seen and len(commits) == 1


def test_inside_a_session_it_shares_the_transaction(db_engine: Engine) -> None:
    _execution(db_engine, "ex1")
    with pytest.raises(RuntimeError), session_scope(db_engine) as s:
        tx = StepTx.of_session(s)
        assert tx is not None and StepTx.of_session(s) is tx
        tx.insert(TASKS, [_task("ex1", "t1")])
        assert s.get(m.TaskExecution, "t1") is not None  # same transaction
        raise RuntimeError("roll back")
    with db_engine.connect() as conn:
        assert conn.execute(select(TASKS.c.id)).all() == []
