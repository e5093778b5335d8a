"""Storing a new workflow execution with prebuilt SQL on the DBAPI connection.

``POST /v2/executions`` reads the workflow definition and inserts one execution row.
Through an ORM ``Session`` and Core, those two statements cost about ten times the
database's own work (session and transaction bookkeeping, statement cache lookups,
execution contexts, result set-up). :class:`StartWriter` builds both statements once per
engine (SQL text plus the columns' bind processors, so the stored values are exactly
those Core stores) and runs them on a pooled DBAPI connection in one transaction: on
SQLite under the process's write lock with ``BEGIN IMMEDIATE``, as
:func:`wfaas.db.session.session_scope` does.

Listeners of the engine's ``before_cursor_execute`` / ``after_cursor_execute`` events
are called (``conn`` and ``context`` None) so statement counters keep seeing these
statements. DBAPI errors are raised as SQLAlchemy's (``IntegrityError`` ...).
Supported dialects: SQLite and PostgreSQL (:meth:`StartWriter.of` answers None for
the others, whose callers keep the Session path).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, NamedTuple, cast

from sqlalchemy import Engine, Table
from sqlalchemy.exc import DBAPIError, IntegrityError

from wfaas.db import models as m
from wfaas.db.api import _looks_like_id as looks_like_id
from wfaas.db.session import write_lock
from wfaas.exceptions import Conflict

_WRITERS: weakref.WeakKeyDictionary[Engine, StartWriter] = weakref.WeakKeyDictionary()


class WorkflowBrief(NamedTuple):
    """The columns of a workflow definition that starting an execution needs."""

    id: str
    name: str
    namespace: str
    definition: str
    workbook_name: str | None
    project_id: str


class StartWriter:
    """The prebuilt statements of a start for one engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = engine.dialect
        self.sqlite = dialect.name == "sqlite"
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        q = dialect.identifier_preparer.quote
        wf = cast(Table, m.WorkflowDefinition.__table__)
        brief = (f"SELECT {', '.join(q(k) for k in WorkflowBrief._fields)} "
                 f"FROM {dialect.identifier_preparer.format_table(wf)} WHERE ")
        self.by_id = brief + f"{q('id')} = {mark}"
        self.by_name = brief + f"{q('name')} = {mark} AND {q('namespace')} = {mark} LIMIT 1"
        self.columns = tuple(
            (c.key, c.type._cached_bind_processor(dialect), _default_of(c))
            for c in m.columns_of(m.WorkflowExecution))
        # an execution is a header row and a body row (spec, input, params)
        self.inserts = tuple(
            (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
             f"({', '.join(q(c.key) for c in table.columns)}) "
             f"VALUES ({', '.join([mark] * len(table.columns))})",
             tuple(c.key for c in table.columns))
            for table in (m.EXECUTIONS, m.EXECUTION_BODIES))
        self.error = dialect.loaded_dbapi.Error

    @classmethod
    def of(cls, engine: Engine) -> StartWriter | None:
        """The writer of ``engine``, or None when its dialect is not supported."""
        if engine.dialect.name not in ("sqlite", "postgresql"):
            return None
        writer = _WRITERS.get(engine)
        if writer is None:
            writer = _WRITERS[engine] = cls(engine)
        return writer

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[StartTx]:
        """One transaction: committed when the block ends, rolled back on error. A read
        (``write=False``) takes no write lock: what a start evaluates (its input, its
        ``vars``) runs between the read and the write, never under the lock."""
        with (write_lock(self.engine) if write else None) or nullcontext():
            conn = self.engine.raw_connection()
            try:
                cursor = conn.cursor()
                if self.sqlite and write:
                    cursor.execute("BEGIN IMMEDIATE")
                yield StartTx(self, cursor)
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
            finally:
                conn.close()


def _default_of(column: Any) -> Callable[[], Any] | None:
    """How Core fills ``column`` when an insert leaves it out (None: NULL)."""
    default = column.default
    if default is not None and getattr(default, "is_scalar", False):
        value = default.arg
        return lambda: value
    if default is not None and getattr(default, "is_callable", False):
        make = default.arg
        return lambda: make(None)
    return None


class StartTx:
    """The statements of a start inside one open transaction."""

    def __init__(self, writer: StartWriter, cursor: Any) -> None:
        self.writer = writer
        self.cursor = cursor
        dispatch = writer.engine.dispatch
        self._before = dispatch.before_cursor_execute
        self._after = dispatch.after_cursor_execute

    def _run(self, sql: str, params: tuple[Any, ...]) -> Any:
        cursor = self.cursor
        for fn in self._before or ():
            fn(None, cursor, sql, params, None, False)
        try:
            cursor.execute(sql, params)
        except self.writer.error as exc:
            raise DBAPIError.instance(sql, params, exc, self.writer.error,
                                      dialect=self.writer.engine.dialect) from exc
        for fn in self._after or ():
            fn(None, cursor, sql, params, None, False)
        return cursor

    def find_workflow(self, identifier: str, namespace: str = "") -> WorkflowBrief | None:
        """A workflow definition by id, or by name in ``namespace`` and then in the
        default one (as :func:`wfaas.db.api.workflow_definition_brief`); None if absent."""
        found = None
        if looks_like_id(identifier):
            found = self._run(self.writer.by_id, (identifier,)).fetchone()
        for ns in ([namespace, ""] if namespace else [""]):
            if found is not None:
                break
            found = self._run(self.writer.by_name, (identifier, ns)).fetchone()
        return None if found is None else WorkflowBrief(*found)

    def insert_execution(self, values: dict[str, Any]) -> dict[str, Any]:
        """Insert one execution row (columns left out get Core's defaults); returns the
        row as ``insert_row`` does (without ``security``)."""
        row: dict[str, Any] = {}
        params = {}
        for key, process, default in self.writer.columns:
            value = values[key] if key in values else default() if default else None
            row[key] = value
            params[key] = value if process is None or value is None else process(value)
        try:
            for sql, keys in self.writer.inserts:
                self._run(sql, tuple(params[k] for k in keys))
        except IntegrityError as exc:  # as insert_row: the id is taken
            raise Conflict(f"Duplicate entry for workflow execution: {row['id']}",
                           cause=str(exc.orig)) from exc
        row.pop("security", None)
        return row
