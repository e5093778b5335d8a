"""The writes of a persisted engine step as prebuilt SQL on the DBAPI connection.

An engine step writes a handful of rows (the execution header by compare-and-set,
task and action rows, sometimes the global context). Through SQLAlchemy's Core each
statement costs far more than the database's own work (statement cache lookup,
execution context, parameter processing, result set-up), and an ORM ``Session``
around the step adds its own transaction bookkeeping. Here every statement is
built once per table, set of columns and dialect (SQL text plus the columns'
bind processors, so the stored values are exactly those Core would store), and
executed on the DBAPI cursor.

:class:`StepTx` runs these statements either inside a session's transaction
(:meth:`StepTx.of_session`) or in a transaction of its own on a pooled DBAPI
connection (:func:`step_transaction`, no ``Session`` at all). DBAPI errors are raised
as SQLAlchemy's exceptions (``IntegrityError``, ``OperationalError`` ...), as
Core would raise them. Listeners of the engine's ``before_cursor_execute`` /
``after_cursor_execute`` and ``commit`` events are called (with ``conn`` and
``context`` None), so statement and commit counters keep seeing these writes.

Supported dialects: SQLite and PostgreSQL (:func:`supported`); callers keep their
Core path for the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from wfaas.db.session import write_lock

Processor = Callable[[Any], Any] | None
#: (SQL text, (parameter key, bind processor) in placeholder order)
Prepared = tuple[str, tuple[tuple[str, Processor], ...]]

_PREPARED: dict[tuple[str, str, str, tuple[str, ...]], Prepared] = {}
_DEFAULTS: dict[tuple[str, str], tuple[tuple[str, Callable[[], Any]], ...]] = {}


def supported(dialect: Dialect) -> bool:
    """True when :class:`StepTx` can write on this dialect."""
    return dialect.name in ("sqlite", "postgresql") and dialect.paramstyle in (
        "qmark", "format", "pyformat")


def _marker(dialect: Dialect) -> str:
    return "?" if dialect.paramstyle == "qmark" else "%s"


def _processors(table: Table, dialect: Dialect, keys: Sequence[str],
                ) -> tuple[tuple[str, Processor], ...]:
    return tuple((key, table.c[key].type._cached_bind_processor(dialect)) for key in keys)


def _prepare(kind: str, table: Table, dialect: Dialect, keys: tuple[str, ...]) -> Prepared:
    """The SQL of ``kind`` for ``table`` writing the columns ``keys``:

    - ``insert``: ``INSERT INTO t (keys) VALUES (...)``;
    - ``update``: ``UPDATE t SET keys... WHERE id = ?`` (parameter ``id`` last);
    - ``cas``: ``UPDATE t SET version = ?, keys... WHERE id = ? AND version = ?``
      (parameters ``_new_version`` first, ``id`` and ``_version`` last);
    - ``upsert``: an insert replacing ``keys[1:]`` when the row ``keys[0]`` exists.
    """
    cache_key = (kind, table.name, dialect.name, keys)
    done = _PREPARED.get(cache_key)
    if done is not None:
        return done
    q = dialect.identifier_preparer.quote
    name = dialect.identifier_preparer.format_table(table)
    mark = _marker(dialect)
    cols = [q(k) for k in keys]
    procs = _processors(table, dialect, keys)
    if kind in ("insert", "upsert"):
        sql = (f"INSERT INTO {name} ({', '.join(cols)}) "
               f"VALUES ({', '.join([mark] * len(keys))})")
        if kind == "upsert":
            replaced = ", ".join(f"{c} = excluded.{c}" for c in cols[1:])
            sql += f" ON CONFLICT ({cols[0]}) DO UPDATE SET {replaced}"
    else:
        sets = [f"{c} = {mark}" for c in cols]
        where = f"{q('id')} = {mark}"
        if kind == "cas":
            sets.insert(0, f"{q('version')} = {mark}")
            where += f" AND {q('version')} = {mark}"
            procs = ((("_new_version", None),) + procs
                     + (("id", None), ("_version", None)))
        else:
            procs = procs + (("id", None),)
        sql = f"UPDATE {name} SET {', '.join(sets)} WHERE {where}"
    done = (sql, procs)
    _PREPARED[cache_key] = done
    return done


def _insert_defaults(table: Table) -> tuple[tuple[str, Callable[[], Any]], ...]:
    """The columns with a Python-side default and how to compute it (what Core's insert
    adds for the columns a row leaves out)."""
    done = _DEFAULTS.get(("insert", table.name))
    if done is None:
        out = []
        for col in table.columns:
            default = col.default
            if default is None or not default.is_scalar and not default.is_callable:
                continue
            arg = default.arg  # type: ignore[attr-defined]
            out.append((col.name, (lambda fn=arg: fn(None)) if default.is_callable
                        else (lambda value=arg: value)))
        done = _DEFAULTS[("insert", table.name)] = tuple(out)
    return done


def _values(procs: tuple[tuple[str, Processor], ...], row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[k] if p is None or row[k] is None else p(row[k]) for k, p in procs)


class StepTx:
    """Prebuilt writes on the DBAPI connection of one open transaction."""

    def __init__(self, engine: Engine, dbapi_conn: Any) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.cursor = dbapi_conn.cursor()
        #: per-transaction scratch space (as ``Session.info``)
        self.info: dict[str, Any] = {}
        self._before = engine.dispatch.before_cursor_execute
        self._after = engine.dispatch.after_cursor_execute

    @classmethod
    def of_session(cls, session: Session) -> StepTx | None:
        """The writer for ``session``'s transaction (started when needed), or None when
        its dialect is not supported. One per session (kept in ``session.info``)."""
        tx = session.info.get("wfaas_steptx")
        if tx is None:
            conn = session.connection()
            if not supported(conn.dialect):
                return None
            tx = session.info["wfaas_steptx"] = cls(conn.engine, conn.connection.dbapi_connection)
        return tx

    def _run(self, sql: str, params: Any, many: bool) -> int:
        cur = self.cursor
        if self._before:
            for fn in self._before:
                fn(None, cur, sql, params, None, many)
        try:
            if many:
                cur.executemany(sql, params)
            else:
                cur.execute(sql, params)
        except self.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(sql, params, exc, self.dialect.loaded_dbapi.Error,
                                      dialect=self.dialect) from exc
        if self._after:
            for fn in self._after:
                fn(None, cur, sql, params, None, many)
        return int(cur.rowcount)

    def insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """INSERT ``rows`` (all with the same keys); columns they leave out get their
        Python-side default, as with Core's ``insert()``."""
        missing = [(k, f) for k, f in _insert_defaults(table) if k not in rows[0]]
        if missing:
            rows = [dict(r) for r in rows]
            for row in rows:
                for key, make in missing:
                    row[key] = make()
        sql, procs = _prepare("insert", table, self.dialect, tuple(rows[0]))
        self._run(sql, [_values(procs, r) for r in rows], True)

    def update(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """UPDATE rows by primary key ``id`` (every row with the same keys)."""
        keys = tuple(k for k in rows[0] if k != "id")
        sql, procs = _prepare("update", table, self.dialect, keys)
        self._run(sql, [_values(procs, r) for r in rows], True)

    def upsert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows`` or replace their other columns when the ``id`` exists."""
        sql, procs = _prepare("upsert", table, self.dialect, tuple(rows[0]))
        self._run(sql, [_values(procs, r) for r in rows], True)

    def compare_and_set(self, table: Table,
                        items: Sequence[tuple[str, int, dict[str, Any]]]) -> bool:
        """UPDATE each ``(id, expected version, values)`` only while its version is the
        expected one, bumping it; False when any row did not match."""
        groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for row_id, version, values in items:
            keys = tuple(sorted(values))
            sql, procs = _prepare("cas", table, self.dialect, keys)
            params = dict(values, _new_version=version + 1, id=row_id, _version=version)
            groups.setdefault(keys, []).append(_values(procs, params))
        for keys, rows in groups.items():
            sql = _prepare("cas", table, self.dialect, keys)[0]
            if len(rows) == 1:
                if self._run(sql, rows[0], False) != 1:
                    return False
            elif self.dialect.supports_sane_multi_rowcount:
                if self._run(sql, rows, True) != len(rows):
                    return False
            elif any(self._run(sql, row, False) != 1 for row in rows):
                return False
        return True


def _engine_of(sessions: Engine | sessionmaker[Session]) -> Engine | None:
    bind = sessions.kw.get("bind") if isinstance(sessions, sessionmaker) else sessions
    return bind if isinstance(bind, Engine) else None


def engine_for(sessions: Engine | sessionmaker[Session]) -> Engine | None:
    """The engine of ``sessions`` when :func:`step_transaction` can write on it."""
    engine = _engine_of(sessions)
    return engine if engine is not None and supported(engine.dialect) else None


@contextmanager
def step_transaction(engine: Engine) -> Iterator[StepTx]:
    """One write transaction on a pooled DBAPI connection, without a ``Session``:
    committed when the block ends, rolled back on an exception. On SQLite it holds the
    engine's in-process write lock and begins with ``BEGIN IMMEDIATE``, as
    :func:`wfaas.db.session.session_scope` does."""
    lock = write_lock(engine)
    if lock is not None:
        lock.acquire()
    try:
        raw = engine.raw_connection()
        try:
            dbapi = engine.dialect.loaded_dbapi
            tx = StepTx(engine, raw.driver_connection)
            try:
                if engine.dialect.name == "sqlite":
                    tx._run("BEGIN IMMEDIATE", (), False)
                yield tx
                if engine.dispatch.commit:
                    for fn in engine.dispatch.commit:
                        fn(None)
                try:
                    raw.commit()
                except dbapi.Error as exc:
                    raise DBAPIError.instance("COMMIT", None, exc, dbapi.Error,
                                              dialect=engine.dialect) from exc
            except BaseException as exc:
                _roll_back(engine, raw, exc)
                raise
        finally:
            raw.close()
    finally:
        if lock is not None:
            lock.release()


def _roll_back(engine: Engine, raw: Any, exc: BaseException) -> None:
    """Roll back; a connection the error shows as broken is dropped from the pool."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    dbapi = engine.dialect.loaded_dbapi
    broken = isinstance(orig, dbapi.Error) and engine.dialect.is_disconnect(
        orig, raw.driver_connection, None)
    if broken:
        raw.invalidate(orig)
        return
    try:
        raw.rollback()
    except dbapi.Error:
        raw.invalidate()
