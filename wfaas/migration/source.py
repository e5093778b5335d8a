"""Read a Mistral 23 database (MySQL/MariaDB, PostgreSQL or SQLite) with SQLAlchemy Core.

The ``*_v2`` tables are reflected, not declared: the importer reads the columns it
knows and ignores the rest, so the reader does not depend on Mistral's code or on
the exact column types of one backend. Mistral's JSON columns are text on every
backend; :func:`decode` turns them into Python values.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

#: tables this importer reads, by kind
TABLES = {
    "workbooks": "workbooks_v2",
    "workflows": "workflow_definitions_v2",
    "actions": "action_definitions_v2",
    "environments": "environments_v2",
    "cron_triggers": "cron_triggers_v2",
    "event_triggers": "event_triggers_v2",
    "members": "resource_members_v2",
    "executions": "workflow_executions_v2",
    "tasks": "task_executions_v2",
    "action_executions": "action_executions_v2",
}
REQUIRED = ("workbooks_v2", "workflow_definitions_v2", "action_definitions_v2")
JSON_COLUMNS = frozenset({
    "tags", "spec", "variables", "workflow_input", "workflow_params", "input", "output",
    "params", "runtime_context", "context", "published", "in_context", "attributes",
    "action_spec", "next_tasks",
})
FINISHED = ("SUCCESS", "ERROR", "CANCELLED")


class SourceError(Exception):
    """The source is not a Mistral v2 database (or cannot be read)."""


def decode(column: str, value: Any) -> Any:
    """A column value as Python: JSON text decoded, bytes as text, datetimes naive UTC."""
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).decode("utf-8")
    if column in JSON_COLUMNS and isinstance(value, str):
        try:
            return json.loads(value) if value else None
        except ValueError:
            return value
    if isinstance(value, _dt.datetime) and value.tzinfo is not None:
        return value.astimezone(_dt.UTC).replace(tzinfo=None)
    return value


class MistralSource:
    """A read-only view of a Mistral database: rows of each ``*_v2`` table as dicts."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = sa.create_engine(url)
            self.metadata = sa.MetaData()
            names = set(sa.inspect(self.engine).get_table_names())
        except Exception as exc:  # noqa: BLE001 - one clear message for any driver
            raise SourceError(f"Cannot read the Mistral database: {type(exc).__name__}: "
                              f"{exc}") from exc
        missing = [t for t in REQUIRED if t not in names]
        if missing:
            raise SourceError(f"Not a Mistral v2 database: missing tables {', '.join(missing)}")
        wanted = [t for t in TABLES.values() if t in names]
        self.metadata.reflect(self.engine, only=wanted + (
            ["alembic_version"] if "alembic_version" in names else []))

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    def has(self, kind: str) -> bool:
        """Whether the table of ``kind`` exists in the source."""
        return TABLES[kind] in self.metadata.tables

    def revision(self) -> str | None:
        """Mistral's alembic revision (None when the table is missing)."""
        table = self.metadata.tables.get("alembic_version")
        if table is None:
            return None
        with self.engine.connect() as conn:
            return conn.execute(sa.select(table.c.version_num)).scalar()

    def rows(self, kind: str, where: Any = None) -> Iterator[dict[str, Any]]:
        """Every row of ``kind``'s table (decoded), ordered by creation time."""
        table = self.metadata.tables.get(TABLES[kind])
        if table is None:
            return
        stmt = sa.select(table)
        if where is not None:
            stmt = stmt.where(where(table))
        if "created_at" in table.c:
            stmt = stmt.order_by(table.c.created_at, table.c.id)
        with self.engine.connect() as conn:
            for row in conn.execute(stmt):
                yield {k: decode(k, v) for k, v in row._mapping.items()}

    def finished_trees(self) -> list[dict[str, Any]]:
        """Finished root executions (SUCCESS/ERROR/CANCELLED), oldest first."""
        def roots(t: sa.Table) -> Any:
            root = t.c.root_execution_id
            return sa.and_(t.c.state.in_(FINISHED), sa.or_(root.is_(None), root == t.c.id))
        return list(self.rows("executions", roots))

    def tree(self, root_id: str) -> dict[str, list[dict[str, Any]]]:
        """Every execution, task and action execution of the tree rooted at ``root_id``."""
        execs = [r for r in self.rows("executions", lambda t: sa.or_(
            t.c.id == root_id, t.c.root_execution_id == root_id))]
        ids = [e["id"] for e in execs]
        tasks = list(self.rows("tasks", lambda t: t.c.workflow_execution_id.in_(ids)))
        task_ids = [t["id"] for t in tasks]
        actions = list(self.rows("action_executions",
                                 lambda t: t.c.task_execution_id.in_(task_ids))) if task_ids else []
        return {"executions": execs, "tasks": tasks, "action_executions": actions}
