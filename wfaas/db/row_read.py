"""Reading one row by primary key with prebuilt SQL on the DBAPI connection.

A client waiting for an execution polls ``GET /v2/executions/<id>``. Through a Core
connection that SELECT cost about four times the database's own work: the connection
and transaction objects, ``BEGIN`` and the rollback on SQLite, the statement cache
lookup, the execution context and the result set-up. :class:`RowReader` builds the
statement once per engine and table (SQL text plus the columns' result processors, so
the values are exactly those Core returns) and runs it on a pooled DBAPI connection:

- on SQLite the connections are in autocommit mode (``isolation_level = None``, see
  :mod:`wfaas.db.session`): the single SELECT reads one WAL snapshot of its own, takes
  no lock and needs no ``BEGIN``;
- on PostgreSQL it runs in the transaction the driver opens, rolled back when the
  connection goes back to the pool (as a Core read is).

Listeners of the engine's ``before_cursor_execute`` / ``after_cursor_execute`` events
are called (``conn`` and ``context`` None), as :mod:`wfaas.db.start_insert` does, so
statement counters keep seeing these statements. :meth:`RowReader.of` answers None for
other dialects; their callers keep the Core path.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.exc import DBAPIError

#: a column of a table (``Table.c.x``; typed loosely: ``Table.c`` yields KeyedColumnElement)
TableColumn = Any

_READERS: weakref.WeakKeyDictionary[Engine, dict[tuple[Any, ...], RowReader]] = \
    weakref.WeakKeyDictionary()


class RowReader:
    """A prebuilt ``SELECT <columns> FROM <table or join> WHERE <key columns> = ...`` of
    one engine, answering the row as a dict keyed by column name (or None)."""

    def __init__(self, engine: Engine, columns: Sequence[TableColumn],
                 keys: Sequence[TableColumn], source: Any = None) -> None:
        self.engine = engine
        dialect = engine.dialect
        # the statement compiled once by SQLAlchemy (FROM a join when the columns span
        # two tables, e.g. an execution's header and body rows)
        stmt = select(*columns).where(*(k == bindparam(f"k{i}") for i, k in enumerate(keys)))
        if source is not None:
            stmt = stmt.select_from(source)
        compiled = stmt.compile(dialect=dialect)
        self.sql = compiled.string
        self.positional = bool(dialect.positional)
        #: the key parameters in the order the SQL wants them (positional styles)
        self.order = tuple(int(n[1:]) for n in (compiled.positiontup or ())) \
            if self.positional else ()
        self.names = tuple(c.name for c in columns)
        self.processors: tuple[Callable[[Any], Any] | None, ...] = tuple(
            c.type._cached_result_processor(dialect, None) for c in columns)
        self.binders: tuple[Callable[[Any], Any] | None, ...] = tuple(
            k.type._cached_bind_processor(dialect) for k in keys)
        self.error = dialect.loaded_dbapi.Error

    @classmethod
    def of(cls, engine: Engine, columns: Sequence[TableColumn],
           keys: Sequence[TableColumn], source: Any = None) -> RowReader | None:
        """The reader of ``columns`` by ``keys`` on ``engine`` (built once), or None when
        the engine's dialect is not SQLite or PostgreSQL."""
        if engine.dialect.name not in ("sqlite", "postgresql"):
            return None
        cache = _READERS.get(engine)
        if cache is None:
            cache = _READERS[engine] = {}
        ident = (tuple(columns), tuple(keys), source)
        reader = cache.get(ident)
        if reader is None:
            reader = cache[ident] = cls(engine, columns, keys, source)
        return reader

    def one(self, *values: Any) -> dict[str, Any] | None:
        """The row whose key columns equal ``values`` (in the order of ``keys``), or None."""
        bound = [v if bind is None else bind(v)
                 for v, bind in zip(values, self.binders, strict=True)]
        params: Any = (tuple(bound[i] for i in self.order) if self.positional
                       else {f"k{i}": v for i, v in enumerate(bound)})
        sql = self.sql
        dispatch = self.engine.dispatch
        conn = self.engine.raw_connection()
        try:
            cursor = conn.cursor()
            for fn in dispatch.before_cursor_execute or ():
                fn(None, cursor, sql, params, None, False)
            try:
                cursor.execute(sql, params)
                found = cursor.fetchone()
            except self.error as exc:
                raise DBAPIError.instance(sql, params, exc, self.error,
                                          dialect=self.engine.dialect) from exc
            for fn in dispatch.after_cursor_execute or ():
                fn(None, cursor, sql, params, None, False)
            cursor.close()
        finally:
            conn.close()
        if found is None:
            return None
        return {name: value if process is None else process(value)
                for name, value, process in zip(self.names, found, self.processors,
                                                strict=True)}
