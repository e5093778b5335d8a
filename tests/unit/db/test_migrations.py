"""The alembic migrations build exactly the schema the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

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
