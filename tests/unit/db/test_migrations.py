"""The alembic migrations build exactly the schema the models declare."""

from __future__ import annotations

import json
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from wfaas.db import migration
from wfaas.db.models import Base


def test_migrated_schema_matches_models(db_engine: Engine) -> None:
    with db_engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_every_table_created_and_revision_is_head(db_engine: Engine) -> None:
    tables = set(inspect(db_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert migration.current_revision(db_engine) == migration.head_revision()


def test_ensure_schema_is_idempotent(db_engine: Engine) -> None:
    migration.ensure_schema(db_engine)
    migration.ensure_schema(db_engine)
    assert migration.current_revision(db_engine) == migration.head_revision()


def test_downgrade_to_base_removes_tables(db_engine: Engine) -> None:
    migration.downgrade(db_engine, "base")
    assert "workflow_executions" not in inspect(db_engine).get_table_names()
    assert migration.current_revision(db_engine) is None
    migration.upgrade(db_engine)
    assert "workflow_executions" in inspect(db_engine).get_table_names()


def test_history_lists_initial_revision() -> None:
    lines = migration.history()
    assert any(line.startswith("0001 ") for line in lines)


def _execution(conn: Any, ex_id: str, engine_state: str, input: str = "{}") -> None:
    """An execution row as the schema in force stores it (spec and input in the header
    before 0008, in a body row since)."""
    if "execution_bodies" in inspect(conn).get_table_names():
        conn.execute(text(
            "INSERT INTO workflow_executions (id, workflow_name, workflow_namespace,"
            " description, state, engine_state, version, project_id, created_at) VALUES"
            " (:id, 'w', '', '', 'RUNNING', :es, 1, 'p', CURRENT_TIMESTAMP)"),
            {"id": ex_id, "es": engine_state})
        conn.execute(text("INSERT INTO execution_bodies (id, spec, input) VALUES"
                          " (:id, 'text', :input)"), {"id": ex_id, "input": input})
        return
    conn.execute(text(
        "INSERT INTO workflow_executions (id, workflow_name, workflow_namespace, description,"
        " spec, input, state, engine_state, version, project_id, created_at) VALUES (:id, 'w',"
        " '', '', 'text', :input, 'RUNNING', :es, 1, 'p', CURRENT_TIMESTAMP)"),
        {"id": ex_id, "es": engine_state, "input": input})


def test_execution_contexts_migrate_both_ways(db_engine: Engine) -> None:
    """0006: existing rows keep their context in engine_state (read from there by the
    engine); a downgrade puts the stored contexts back into engine_state."""
    migration.downgrade(db_engine, "0004_members")
    assert "execution_contexts" not in inspect(db_engine).get_table_names()
    old = json.dumps({"counter": 3, "context": {"__execution": {"id": "old"}, "g": 1}})
    with db_engine.begin() as conn:
        _execution(conn, "00000000-0000-0000-0000-00000000000a", old)
    migration.upgrade(db_engine)
    with db_engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM execution_contexts")).scalar() == 0
        state = conn.execute(text("SELECT engine_state FROM workflow_executions")).scalar()
        assert json.loads(state)["context"]["g"] == 1
        _execution(conn, "00000000-0000-0000-0000-00000000000b", json.dumps({"counter": 1}))
        conn.execute(text("INSERT INTO execution_contexts (id, context) VALUES (:id, :c)"),
                     {"id": "00000000-0000-0000-0000-00000000000b",
                      "c": json.dumps({"big": "x" * 1000})})
    migration.downgrade(db_engine, "0004_members")
    with db_engine.begin() as conn:
        rows = dict(conn.execute(text(
            "SELECT id, engine_state FROM workflow_executions ORDER BY id")).all())
    assert json.loads(rows["00000000-0000-0000-0000-00000000000a"])["context"]["g"] == 1
    moved = json.loads(rows["00000000-0000-0000-0000-00000000000b"])
    assert moved == {"counter": 1, "context": {"big": "x" * 1000}}
    migration.upgrade(db_engine)


def test_deleting_an_execution_deletes_its_context(db_engine: Engine) -> None:
    with db_engine.begin() as conn:
        _execution(conn, "00000000-0000-0000-0000-00000000000c", "{}")
        conn.execute(text("INSERT INTO execution_contexts (id, context) VALUES (:id, '{}')"),
                     {"id": "00000000-0000-0000-0000-00000000000c"})
    with db_engine.begin() as conn:
        conn.execute(text("DELETE FROM workflow_executions"))
        assert conn.execute(text("SELECT count(*) FROM execution_contexts")).scalar() == 0


def test_execution_bodies_migrate_both_ways(db_engine: Engine) -> None:
    """0008: spec and input move from the header row to a body row (same id) and back;
    deleting an execution deletes its body."""
    big = json.dumps({"blob": "x" * 5000})
    migration.downgrade(db_engine, "0007_task_pages")
    assert "execution_bodies" not in inspect(db_engine).get_table_names()
    with db_engine.begin() as conn:
        _execution(conn, "00000000-0000-0000-0000-0000000000d1", "{}", big)
    migration.upgrade(db_engine)
    columns = {c["name"] for c in inspect(db_engine).get_columns("workflow_executions")}
    assert not {"spec", "input"} & columns and "params" in columns
    with db_engine.begin() as conn:
        assert conn.execute(text("SELECT spec, input FROM execution_bodies")).one() == (
            "text", big)
        assert conn.execute(text("SELECT count(*) FROM task_executions")).scalar() == 0
        _execution(conn, "00000000-0000-0000-0000-0000000000d2", "{}", '{"a": 1}')
    migration.downgrade(db_engine, "0007_task_pages")
    with db_engine.begin() as conn:
        rows = conn.execute(text(
            "SELECT id, spec, input FROM workflow_executions ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [
        ("00000000-0000-0000-0000-0000000000d1", "text", big),
        ("00000000-0000-0000-0000-0000000000d2", "text", '{"a": 1}')]
    migration.upgrade(db_engine)
    with db_engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM execution_bodies")).scalar() == 2
        conn.execute(text("DELETE FROM workflow_executions"))
        assert conn.execute(text("SELECT count(*) FROM execution_bodies")).scalar() == 0


def test_a_table_rebuilt_by_a_migration_keeps_the_rows_that_refer_to_it(
        db_engine: Engine) -> None:
    """Going down past 0003 rebuilds workflow_executions on SQLite (batch drop_column):
    the tasks that refer to it must survive the rebuild, down and up again."""
    ex_id, task_id = "00000000-0000-0000-0000-0000000000e1", "00000000-0000-0000-0000-0000000000e2"
    with db_engine.begin() as conn:
        _execution(conn, ex_id, "{}")
        conn.execute(text(
            "INSERT INTO task_executions (id, name, workflow_execution_id, workflow_name,"
            " type, state, processed, has_next_tasks, error_handled, created_at) VALUES"
            " (:id, 't', :ex, 'w', 'ACTION', 'SUCCESS', true, false, false,"
            " CURRENT_TIMESTAMP)"), {"id": task_id, "ex": ex_id})
    for revision in ("0002_triggers", "head"):
        if revision == "head":
            migration.upgrade(db_engine)
        else:
            migration.downgrade(db_engine, revision)
        with db_engine.begin() as conn:
            assert conn.execute(text(
                "SELECT workflow_execution_id FROM task_executions")).scalars().all() == [ex_id]
    with db_engine.begin() as conn:  # the references are enforced again afterwards
        conn.execute(text("DELETE FROM workflow_executions"))
        assert conn.execute(text("SELECT count(*) FROM task_executions")).scalar() == 0
