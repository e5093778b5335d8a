"""The alembic migrations build exactly the schema the models declare."""

from __future__ import annotations

import json
import subprocess
import sys
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


def _execution(conn: Any, ex_id: str, engine_state: str, input: str = "{}",
               params: str | None = None) -> None:
    """An execution row as the schema in force stores it (spec, input and params in the
    header before 0008, spec and input in a body row since, params too since 0009)."""
    tables = inspect(conn).get_table_names()
    body = ({c["name"] for c in inspect(conn).get_columns("execution_bodies")}
            if "execution_bodies" in tables else set())
    header = {"id": ex_id, "workflow_name": "w", "workflow_namespace": "", "description": "",
              "state": "RUNNING", "engine_state": engine_state, "version": 1,
              "project_id": "p"}
    moved = {"spec": "text", "input": input, "params": params}
    bodies = {k: v for k, v in moved.items() if k in body}
    header.update((k, v) for k, v in moved.items() if k not in body)
    _insert(conn, "workflow_executions", header, created_at="CURRENT_TIMESTAMP")
    if bodies:
        _insert(conn, "execution_bodies", {"id": ex_id, **bodies})


def _insert(conn: Any, table: str, values: dict[str, Any], **sql: str) -> None:
    names = [*values, *sql]
    marks = [f":{k}" for k in values] + list(sql.values())
    conn.execute(text(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(marks)})"),
                 values)


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
    migration.upgrade(db_engine, "0008_bodies")
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
    migration.upgrade(db_engine, "0008_bodies")
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
def test_execution_params_move_to_the_body_row_and_back(db_engine: Engine) -> None:
    """0009: params (with a large env) move from the header row to the body row and
    back, values unchanged (NULL included)."""
    env = json.dumps({"env": {"big": "y" * 5000}, "namespace": ""})
    migration.downgrade(db_engine, "0008_bodies")
    columns = {c["name"] for c in inspect(db_engine).get_columns("workflow_executions")}
    assert "params" in columns
    with db_engine.begin() as conn:
        _execution(conn, "00000000-0000-0000-0000-0000000000e1", "{}", '{"i": 1}', env)
        _execution(conn, "00000000-0000-0000-0000-0000000000e2", "{}")
    migration.upgrade(db_engine)
    columns = {c["name"] for c in inspect(db_engine).get_columns("workflow_executions")}
    assert "params" not in columns
    query = ("SELECT e.id, b.spec, b.input, b.params FROM workflow_executions e"
             " JOIN execution_bodies b ON b.id = e.id ORDER BY e.id")
    expected = [("00000000-0000-0000-0000-0000000000e1", "text", '{"i": 1}', env),
                ("00000000-0000-0000-0000-0000000000e2", "text", "{}", None)]
    with db_engine.begin() as conn:
        assert [tuple(r) for r in conn.execute(text(query)).all()] == expected
        _execution(conn, "00000000-0000-0000-0000-0000000000e3", "{}", "{}", '{"env": {}}')
    migration.downgrade(db_engine, "0008_bodies")
    columns = {c["name"] for c in inspect(db_engine).get_columns("execution_bodies")}
    assert "params" not in columns
    with db_engine.begin() as conn:
        rows = conn.execute(text(
            "SELECT id, params FROM workflow_executions ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(expected[0][0], env), (expected[1][0], None),
                                        ("00000000-0000-0000-0000-0000000000e3", '{"env": {}}')]
    migration.upgrade(db_engine)
    with db_engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM task_executions")).scalar() == 0
        conn.execute(text("DELETE FROM workflow_executions"))
        assert conn.execute(text("SELECT count(*) FROM execution_bodies")).scalar() == 0


def test_the_scripts_head_is_read_without_alembic(db_engine: Engine) -> None:
    """ensure_schema recognises a database at head from the script files and the
    alembic_version row; a restarted server then never imports alembic (~5 MB)."""
    assert migration.script_heads() == {migration.head_revision()}
    assert migration.stored_revisions(db_engine) == [migration.head_revision()]
    code = ("import sys\n"
            "from sqlalchemy import create_engine\n"
            "from wfaas.db import migration\n"
            f"migration.ensure_schema(create_engine({str(db_engine.url)!r}))\n"
            "assert 'alembic' not in sys.modules\n")
    if db_engine.dialect.name == "sqlite":
        subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    migration.downgrade(db_engine, "0008_bodies")
    assert migration.stored_revisions(db_engine) == ["0008_bodies"]
    migration.ensure_schema(db_engine)
    assert migration.current_revision(db_engine) == migration.head_revision()
