"""Database helpers for tests: a migrated SQLite file or PostgreSQL in a private schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event, text

from wfaas.db import migration
from wfaas.db.session import make_engine, sqlite_url

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pg_reachable() -> str | None:
    try:
        eng = create_engine(PG_URL)
        with eng.connect():
            pass
        eng.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "unreachable"
        return f"PostgreSQL at {PG_URL} unreachable: {exc.__class__.__name__}"


def pg_engine_in_schema() -> tuple[Engine, str]:
    """A PostgreSQL engine whose connections use a fresh private schema."""
    reason = _pg_reachable()
    if reason:
        pytest.skip(reason)
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    eng = make_engine(PG_URL, pool_size=2)

    @event.listens_for(eng, "connect")
    def _set_path(dbapi_conn, _rec):  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        cur.execute(f'SET search_path TO "{schema}"')
        cur.close()
        dbapi_conn.commit()

    return eng, schema


def drop_pg_schema(eng: Engine, schema: str) -> None:
    """Drop the private schema of a test."""
    eng.dispose()
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@contextmanager
def migrated_engine(kind: str, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database: ``sqlite`` (file in tmp_path) or ``postgres`` (private schema)."""
    if kind == "sqlite":
        eng = make_engine(sqlite_url(str(tmp_path / "t.db")))
        migration.upgrade(eng)
        try:
            yield eng
        finally:
            eng.dispose()
    else:
        eng, schema = pg_engine_in_schema()
        try:
            migration.upgrade(eng)
            yield eng
        finally:
            drop_pg_schema(eng, schema)


DB_PARAMS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
