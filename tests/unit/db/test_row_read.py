"""The prebuilt one-row SELECT (wfaas/db/row_read.py) on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from sqlalchemy import Engine, event, select

from wfaas.db import api
from wfaas.db import models as m
from wfaas.db.row_read import RowReader
from wfaas.db.session import session_scope, write_lock
from wfaas.services.api.executions import WIRE_COLUMNS

EX = m.EXECUTIONS
#: the header and body rows of an execution
SOURCE = m.WorkflowExecution.__table__


def _store(engine: Engine, project: str = "p1") -> str:
    ex_id = str(uuid.uuid4())
    with session_scope(engine) as s:
        api.insert_row(s, m.WorkflowExecution, id=ex_id, root_execution_id=ex_id,
                       workflow_name="wf", workflow_namespace="ns", workflow_id="w-1",
                       spec="wf: {}", description="d", state="RUNNING",
                       input={"a": [1, "é", None], "b": {"c": 1.5}},
                       params={"namespace": "ns", "env": {"k": "v"}}, output={"o": True},
                       project_id=project, tags=["x"], security={"auth_token": "t"})
    return ex_id


def _core(engine: Engine, *where: Any) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(select(*WIRE_COLUMNS).select_from(SOURCE).where(*where)).first()
    return None if row is None else dict(row._mapping)


def test_the_row_is_the_one_core_reads(db_engine: Engine) -> None:
    ex_id = _store(db_engine)
    reader = RowReader.of(db_engine, WIRE_COLUMNS, (EX.c.id,), SOURCE)
    assert reader is not None
    found = reader.one(ex_id)
    expected = _core(db_engine, EX.c.id == ex_id)
    assert found is not None and expected is not None
    assert list(found) == list(expected)  # same keys, same order
    assert found == expected
    assert {k: type(v) for k, v in found.items()} == {k: type(v) for k, v in expected.items()}
    assert found["input"] == {"a": [1, "é", None], "b": {"c": 1.5}}
    assert "security" not in found and "spec" not in found


def test_several_keys_and_a_missing_row(db_engine: Engine) -> None:
    ex_id = _store(db_engine, project="p1")
    reader = RowReader.of(db_engine, WIRE_COLUMNS, (EX.c.id, EX.c.project_id), SOURCE)
    assert reader is not None
    assert reader is RowReader.of(db_engine, WIRE_COLUMNS, (EX.c.id, EX.c.project_id), SOURCE)
    assert reader.one(ex_id, "p1") is not None
    assert reader.one(ex_id, "p2") is None
    assert reader.one(str(uuid.uuid4()), "p1") is None


def test_statement_listeners_see_it_and_no_write_lock_is_taken(db_engine: Engine) -> None:
    ex_id = _store(db_engine)
    reader = RowReader.of(db_engine, WIRE_COLUMNS, (EX.c.id,), SOURCE)
    assert reader is not None
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_rest: Any) -> None:
        seen.append(sql)

    event.listen(db_engine, "before_cursor_execute", record)
    lock = write_lock(db_engine)
    try:
        if lock is not None:  # SQLite: another thread's writer holds the lock meanwhile
            held, release = threading.Event(), threading.Event()

            def writer() -> None:
                with lock:
                    held.set()
                    release.wait(30)

            t = threading.Thread(target=writer)
            t.start()
            held.wait(30)
            try:
                assert reader.one(ex_id) is not None
            finally:
                release.set()
                t.join()
        else:
            assert reader.one(ex_id) is not None
    finally:
        event.remove(db_engine, "before_cursor_execute", record)
    assert len(seen) == 1 and seen[0].startswith("SELECT ")
    assert "BEGIN" not in seen[0]
