"""Fixtures of the Mistral import tests: the real Mistral 23 database and a fresh wfaas one.

``tests/fixtures/mistral/mistral23.db`` was made by ``make_mistral_db.py`` (a real
Mistral 23 server filled through its API with the real ``mistral`` client). The
MariaDB copy uses Mistral's own MySQL schema (``mistral23-mysql-schema.sql``, dumped
from a database Mistral's models created) filled with the same rows.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.functional.api.conftest import make_conf, make_runtime, template_db

__all__ = ["template_db"]  # the session-wide migrated, populated database

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mistral"
MISTRAL_DB = FIXTURES / "mistral23.db"
MYSQL_SCHEMA = FIXTURES / "mistral23-mysql-schema.sql"
PG_SCHEMA = FIXTURES / "mistral23-postgres-schema.sql"
MYSQL_SERVER = os.environ.get("WFAAS_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306")


@pytest.fixture
def mistral_db(tmp_path: Path) -> Path:
    """A private copy of the Mistral 23 SQLite database."""
    target = tmp_path / "mistral.db"
    shutil.copyfile(MISTRAL_DB, target)
    return target


@pytest.fixture
def mistral_url(mistral_db: Path) -> str:
    return f"sqlite:///{mistral_db}"


@pytest.fixture
def runtime(tmp_path: Path, template_db: Path) -> Iterator[Any]:
    """A started wfaas Runtime on a fresh SQLite database (std actions populated)."""
    (tmp_path / "wfaas").mkdir()
    for suffix in ("", "-wal", "-shm"):
        source = Path(str(template_db) + suffix)
        if source.exists():
            shutil.copy(source, tmp_path / "wfaas" / ("wfaas.db" + suffix))
    rt = make_runtime(make_conf(tmp_path / "wfaas"), populate=False)
    try:
        yield rt
    finally:
        rt.close()


def recorded_roots(db: Path) -> list[dict[str, Any]]:
    """Mistral's finished root executions, read straight from its database."""
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = con.execute("SELECT * FROM workflow_executions_v2 WHERE task_execution_id IS NULL "
                       "ORDER BY created_at").fetchall()
    con.close()
    return [dict(r) for r in rows]


def _mysql_reachable() -> sa.Engine | None:
    try:
        engine = sa.create_engine(MYSQL_SERVER + "/?charset=utf8mb4")
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return engine
    except Exception:  # noqa: BLE001 - no driver or no server: skip
        return None


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """A fresh MariaDB database with Mistral's MySQL schema and the fixture's rows."""
    server = _mysql_reachable()
    if server is None:
        pytest.skip(f"MySQL/MariaDB not reachable at {MYSQL_SERVER} (or PyMySQL missing)")
    name = f"mistral_import_t{os.getpid()}"
    with server.begin() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(sa.text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
    url = f"{MYSQL_SERVER}/{name}?charset=utf8mb4"
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in MYSQL_SCHEMA.read_text().split(";\n"):
                if statement.strip():
                    conn.exec_driver_sql(statement)
        copy_rows(f"sqlite:///{MISTRAL_DB}", engine)
        yield url
    finally:
        engine.dispose()
        with server.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        server.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A private PostgreSQL schema with Mistral's PostgreSQL schema and the fixture's rows."""
    from tests.unit.db.dbutil import PG_URL, drop_pg_schema, pg_engine_in_schema

    engine, schema = pg_engine_in_schema()
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(PG_SCHEMA.read_text())
        copy_rows(f"sqlite:///{MISTRAL_DB}", engine)
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        drop_pg_schema(engine, schema)


def copy_rows(source_url: str, target: sa.Engine) -> None:
    """Every row of the source's ``*_v2`` tables into the same tables of ``target``."""
    src = sa.create_engine(source_url)
    smeta, tmeta = sa.MetaData(), sa.MetaData()
    smeta.reflect(src)
    tmeta.reflect(target)
    mysql = target.dialect.name == "mysql"
    with src.connect() as s, target.begin() as t:
        # executions and tasks reference each other: no FK checks while copying
        t.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0" if mysql
                          else "SET session_replication_role = replica")
        for table in smeta.tables.values():  # no order needed: FK checks are off
            if table.name not in tmeta.tables:
                continue
            rows = [dict(r._mapping) for r in s.execute(table.select())]
            if rows:
                t.execute(tmeta.tables[table.name].insert(), rows)
        t.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1" if mysql
                          else "SET session_replication_role = DEFAULT")
    src.dispose()
