"""Schema migrations (alembic) driven from Python: upgrade, current, history, stamp.

The alembic scripts live in ``wfaas/db/migrations``; these helpers point alembic
at them and run on an existing :class:`sqlalchemy.Engine`, so the same code
serves ``wfaas-db-manage``, ``Runtime.from_config`` and the tests.
"""

from __future__ import annotations

import io
import os

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")


def alembic_config(engine: Engine | None = None, stdout: io.TextIOBase | None = None) -> Config:
    """An alembic Config for the wfaas scripts (bound to ``engine`` when given)."""
    cfg = Config(os.path.join(MIGRATIONS_DIR, "alembic.ini"), stdout=stdout)  # type: ignore[arg-type]
    cfg.set_main_option("script_location", MIGRATIONS_DIR)
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url",
                            engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def _run(engine: Engine, fn: str, *args: object, stdout: io.TextIOBase | None = None,
         **kwargs: object) -> None:
    cfg = alembic_config(engine, stdout)
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            getattr(command, fn)(cfg, *args, **kwargs)
        return
    # A batch migration on SQLite recreates a table: it creates a copy, drops the old
    # one and renames the copy. With foreign keys on, the DROP would cascade to the rows
    # that refer to it (the tasks of an execution). SQLite ignores the pragma inside a
    # transaction, so it goes on the raw connection before the migration's transaction,
    # and the references are checked before that transaction commits.
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                getattr(command, fn)(cfg, *args, **kwargs)
                _check_references(conn)
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


def _check_references(conn: Connection) -> None:
    """Refuse (roll back) a SQLite migration that left a row referring to nothing."""
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise RuntimeError(f"the migration left {len(broken)} rows whose references are "
                           f"broken (tables {', '.join(tables)}); rolled back")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the schema up to ``revision`` (``head``: the newest)."""
    _run(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the schema down to ``revision`` (``base``: empty)."""
    _run(engine, "downgrade", revision)


def stamp(engine: Engine, revision: str = "head") -> None:
    """Record ``revision`` as current without running migrations."""
    _run(engine, "stamp", revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest revision of the scripts."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def history() -> list[str]:
    """One line per revision, newest first: ``<rev> <- <down_rev>: <message>``."""
    script = ScriptDirectory.from_config(alembic_config())
    return [f"{rev.revision} <- {rev.down_revision or '<base>'}: {rev.doc}"
            for rev in script.walk_revisions()]


def ensure_schema(engine: Engine) -> None:
    """Bring the schema to head when it is behind (no-op when up to date)."""
    if current_revision(engine) != head_revision():
        upgrade(engine, "head")
