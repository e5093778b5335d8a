"""The rows an engine step writes, collected and written with one statement per table.

:class:`RowBuffer` holds the task, action and context rows (and, in a batch of several
executions, the execution headers to compare-and-set) of the steps written in one
transaction, and writes them with prebuilt statements (:mod:`wfaas.db.stepwrite`) on
SQLite and PostgreSQL, Core statements elsewhere. Split out of
:mod:`wfaas.services.state_store`, which builds the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wfaas.db import api
from wfaas.db import models as m
from wfaas.db.stepwrite import StepTx
from wfaas.exceptions import Conflict

_EXECUTIONS = m.EXECUTIONS
_BODIES = m.EXECUTION_BODIES


def compare_and_set_header(session: Session, ex_id: str, version: int,
                           values: dict[str, Any]) -> bool:
    """Compare-and-set one execution header in ``session``'s transaction: the prebuilt
    statement of :mod:`wfaas.db.stepwrite` (Core on other databases). False when the
    row's version is no longer ``version``."""
    tx = StepTx.of_session(session)
    if tx is None:
        return api.update_execution_cas(session, ex_id, version, **values)
    headers, bodies = _split_bodies([(ex_id, version, values)])  # spec / input / params: body row
    if not tx.compare_and_set(_EXECUTIONS, headers):
        return False
    if bodies:
        tx.update(_BODIES, bodies)
    return True


class StaleBatch(Exception):
    """A deferred compare-and-set found an execution changed by someone else."""


@dataclass
class RowBuffer:
    """Task and action rows waiting to be written: one executemany per kind.

    :meth:`deferred` collects the rows of every execution stepped in one transaction
    (a cross-execution batch) and writes them with four statements at the end,
    instead of four per execution.
    """

    new_tasks: list[dict[str, Any]] = field(default_factory=list)
    old_tasks: list[dict[str, Any]] = field(default_factory=list)
    new_actions: list[dict[str, Any]] = field(default_factory=list)
    old_actions: list[dict[str, Any]] = field(default_factory=list)
    #: global contexts to store: {"id": execution id, "context": ...}
    contexts: list[dict[str, Any]] = field(default_factory=list)
    #: execution headers to compare-and-set first: (id, expected version, values)
    headers: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    #: rows of sub-workflows started inline, with their first step's values: inserted
    #: after the headers, before their task rows (:func:`unwritten_children`)
    new_executions: list[dict[str, Any]] = field(default_factory=list)
    deferred: bool = False
    #: the headers are compared-and-set at once, not queued (one execution's step:
    #: its row is locked before any other row is written); the other rows are deferred
    headers_now: bool = False

    def queue_header(self, ex_id: str, version: int, values: dict[str, Any], *,
                     again: bool = False) -> int:
        """Queue the compare-and-set of a header; returns the version the row then
        has. ``again``: a later round of a step whose header is queued already (a
        chained step, :mod:`wfaas.services.chain`): the queued values are updated,
        the row is compared and set once."""
        if again:
            for i in range(len(self.headers) - 1, -1, -1):
                queued_id, queued_version, queued = self.headers[i]
                if queued_id == ex_id and queued_version + 1 == version:
                    self.headers[i] = (ex_id, queued_version, {**queued, **values})
                    return version
        self.headers.append((ex_id, version, values))
        return version + 1

    @classmethod
    def of(cls, session: Session | StepTx) -> RowBuffer:
        """The transaction's deferred buffer, or a fresh one written at once."""
        buffer = session.info.get("wfaas_rows")
        return buffer if isinstance(buffer, RowBuffer) else cls()

    @classmethod
    def defer(cls, session: Session | StepTx, *, headers_now: bool = False) -> RowBuffer:
        """Collect the rows written in ``session`` until :meth:`flush` (the execution
        headers too, unless ``headers_now``)."""
        buffer = cls(deferred=True, headers_now=headers_now)
        session.info["wfaas_rows"] = buffer
        return buffer

    def flush(self, target: Session | StepTx) -> None:
        """Write what was collected: the execution headers first (compare-and-set;
        :class:`StaleBatch` when one changed meanwhile), then the tasks, then the
        actions that point to them. Prebuilt statements on the DBAPI connection
        (:mod:`wfaas.db.stepwrite`); Core statements on other databases."""
        tx = target if isinstance(target, StepTx) else StepTx.of_session(target)
        if tx is None:
            self._flush_core(cast(Session, target))
            return
        if self.headers:
            headers, bodies = _split_bodies(self.headers)
            if not tx.compare_and_set(_EXECUTIONS, headers):
                raise StaleBatch("an execution of the batch changed concurrently")
            self.headers = []
            for body in bodies:
                tx.update(_BODIES, [body])
        if self.new_executions:
            insert_executions(tx, self.new_executions)
        if self.contexts:
            tx.upsert(_CONTEXTS, self.contexts)
        if self.new_tasks:
            tx.insert(_TASKS, self.new_tasks)
        if self.old_tasks:
            tx.update(_TASKS, self.old_tasks)
        if self.new_actions:
            tx.insert(_ACTIONS, self.new_actions)
        if self.old_actions:
            tx.update(_ACTIONS, self.old_actions)
        self._clear()

    def _clear(self) -> None:
        self.new_executions = []
        self.contexts, self.new_tasks, self.old_tasks = [], [], []
        self.new_actions, self.old_actions = [], []

    def _flush_core(self, session: Session) -> None:
        """:meth:`flush` through Core (databases :mod:`wfaas.db.stepwrite` does not
        know)."""
        if self.headers:
            if not api.update_executions_cas(session, self.headers):
                raise StaleBatch("an execution of the batch changed concurrently")
            self.headers = []
        if self.new_executions:
            insert_executions(session, self.new_executions)
        conn = session.connection()
        if self.contexts:
            _store_contexts(conn, self.contexts)
        if self.new_tasks:
            conn.execute(insert(_TASKS), self.new_tasks)
        if self.old_tasks:
            conn.execute(_UPDATE_TASK, _by_pk(self.old_tasks))
        if self.new_actions:
            conn.execute(insert(_ACTIONS), self.new_actions)
        if self.old_actions:
            conn.execute(_UPDATE_ACTION, _by_pk(self.old_actions))
        self._clear()


def unwritten_children(session: Session, root: str) -> int:
    """How many sub-workflows of the tree of ``root`` were started inline in
    ``session``'s transaction and wait in its buffer to be inserted (a count of the
    tree's rows in this transaction does not see them yet)."""
    buffer = session.info.get("wfaas_rows")
    if not isinstance(buffer, RowBuffer):
        return 0
    return sum(1 for row in buffer.new_executions if row["root_execution_id"] == root)


def insert_executions(target: Session | StepTx, rows: list[dict[str, Any]]) -> None:
    """INSERT workflow execution rows (their header rows, then their body rows: spec,
    input, params), one statement per table and set of columns; prebuilt SQL on SQLite
    and PostgreSQL. A duplicate id raises Conflict, as a single insert does."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    tx = target if isinstance(target, StepTx) else StepTx.of_session(target)
    try:
        for same in groups.values():
            if tx is None:
                api.insert_executions(cast(Session, target).connection(), same)
            else:
                headers, bodies = api.execution_rows(same)
                tx.insert(_EXECUTIONS, headers)
                tx.insert(_BODIES, bodies)
    except IntegrityError as exc:
        raise Conflict(f"Duplicate entry for workflow execution: {rows[0]['id']}",
                       cause=str(exc.orig)) from exc


def _split_bodies(headers: list[tuple[str, int, dict[str, Any]]],
                  ) -> tuple[list[tuple[str, int, dict[str, Any]]], list[dict[str, Any]]]:
    """The header updates without their body columns (``spec``, ``input``, ``params``), and the
    body rows to update (``{"id": ..., column: value}``): the body row is written only by
    the steps that change it, the header by every step."""
    out, bodies = [], []
    for ex_id, version, values in headers:
        header, body = api.split_body(values)
        out.append((ex_id, version, header))
        if body:
            bodies.append({"id": ex_id, **body})
    return out, bodies


_CONTEXTS = cast(Table, m.ExecutionContext.__table__)


def _store_contexts(conn: Any, rows: list[dict[str, Any]]) -> None:
    """Insert or replace the context rows (one upsert on SQLite and PostgreSQL)."""
    if conn.dialect.name in ("sqlite", "postgresql"):
        from sqlalchemy.dialects import postgresql, sqlite

        dialect: Any = sqlite if conn.dialect.name == "sqlite" else postgresql
        stmt = dialect.insert(_CONTEXTS)
        conn.execute(stmt.on_conflict_do_update(index_elements=[_CONTEXTS.c.id],
                                                set_={"context": stmt.excluded.context}),
                     rows)
        return
    for row in rows:  # other databases: update, insert when there was nothing to update
        if not conn.execute(_UPDATE_CONTEXT, {"pk": row["id"],
                                              "context": row["context"]}).rowcount:
            conn.execute(insert(_CONTEXTS), [row])


_UPDATE_CONTEXT = update(_CONTEXTS).where(_CONTEXTS.c.id == bindparam("pk"))
_TASKS = cast(Table, m.TaskExecution.__table__)
_ACTIONS = cast(Table, m.ActionExecution.__table__)
# Core statements (no ORM bulk machinery): SET columns come from the parameters.
_UPDATE_TASK = update(_TASKS).where(_TASKS.c.id == bindparam("pk"))
_UPDATE_ACTION = update(_ACTIONS).where(_ACTIONS.c.id == bindparam("pk"))


def _by_pk(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        values = dict(row)
        values["pk"] = values.pop("id")
        out.append(values)
    return out
