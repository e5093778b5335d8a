"""Schema migrations (alembic) driven from Python: upgrade, current, history, stamp.

The alembic scripts live in ``wfaas/db/migrations``; these helpers point alembic
at them and run on an existing :class:`sqlalchemy.Engine`, so the same code
serves ``wfaas-db-manage``, ``Runtime.from_config`` and the tests.
"""

from __future__ import annotations

import ast
import io
import os
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

# alembic is imported by the functions that use it: with mako and pygments it is ~12 MB
# of modules that a server whose schema is at head never needs (see ensure_schema)

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")
VERSIONS_DIR = os.path.join(MIGRATIONS_DIR, "versions")


def alembic_config(engine: Engine | None = None, stdout: io.TextIOBase | None = None) -> Config:
    """An alembic Config for the wfaas scripts (bound to ``engine`` when given)."""
    from alembic.config import Config

    cfg = Config(os.path.join(MIGRATIONS_DIR, "alembic.ini"), stdout=stdout)  # type: ignore[arg-type]
    cfg.set_main_option("script_location", MIGRATIONS_DIR)
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url",
                            engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def _run(engine: Engine, fn: str, *args: object, stdout: io.TextIOBase | None = None,
         **kwargs: object) -> None:
    from alembic import command

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
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest revision of the scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def history() -> list[str]:
    """One line per revision, newest first: ``<rev> <- <down_rev>: <message>``."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return [f"{rev.revision} <- {rev.down_revision or '<base>'}: {rev.doc}"
            for rev in script.walk_revisions()]


def script_heads() -> set[str]:
    """The revisions of the scripts that no other revises, read from the files' literal
    ``revision`` / ``down_revision`` assignments (without importing alembic)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for name in sorted(os.listdir(VERSIONS_DIR)):
        if not name.endswith(".py") or name.startswith("__"):
            continue
        with open(os.path.join(VERSIONS_DIR, name), encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
        for node in tree.body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)):
                key = node.targets[0].id
                if key == "revision":
                    revisions.add(ast.literal_eval(node.value))
                elif key == "down_revision":
                    down = ast.literal_eval(node.value)
                    revised.update(down if isinstance(down, tuple | list) else
                                   [down] if down else [])
    return revisions - revised


def stored_revisions(engine: Engine) -> list[str]:
    """The rows of the database's ``alembic_version`` table (none: never migrated)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return []
        return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def ensure_schema(engine: Engine) -> None:
    """Bring the schema to head when it is behind (no-op when up to date; a database
    already at the single head is recognised without importing alembic)."""
    heads = script_heads()
    if len(heads) == 1 and stored_revisions(engine) == list(heads):
        return
    if current_revision(engine) != head_revision():
        upgrade(engine, "head")
