"""Repository functions: every function takes an explicit ``Session``.

The caller owns the transaction (``with session_scope(engine) as s: ...``).
Lookups raise :class:`wfaas.exceptions.NotFound`; unique violations on create
raise :class:`wfaas.exceptions.Conflict`. Generic helpers work on any model;
the named helpers cover the lookups the engine shell and the API make.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Table, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wfaas.db import models as m
from wfaas.db import scoping
from wfaas.exceptions import Conflict, NotFound

T = TypeVar("T", bound=m.Base)

DEFAULT_PROJECT = "<default-project>"


def _label(model: type[m.Base]) -> str:
    return model.__name__.replace("Definition", " definition").replace(
        "Execution", " execution").replace("Trigger", " trigger").lower().strip()


# ---------------------------------------------------------------- generic


def create(session: Session, model: type[T], **values: Any) -> T:
    """Insert one row; a unique violation raises Conflict naming the object."""
    obj = model(**values)
    try:
        with session.begin_nested():
            session.add(obj)
            session.flush()
    except IntegrityError as exc:
        name = values.get("name") or values.get("key") or values.get("id") or ""
        raise Conflict(f"Duplicate entry for {_label(model)}: {name}",
                       cause=str(exc.orig)) from exc
    return obj


def insert_executions(conn: Any, rows: list[dict[str, Any]]) -> None:
    """Core INSERT of workflow executions given as ``WorkflowExecution`` column values
    (all with the same keys): their header rows, then their body rows."""
    headers, bodies = execution_rows(rows)
    conn.execute(m.EXECUTIONS.insert(), headers)
    conn.execute(m.EXECUTION_BODIES.insert(), bodies)


def execution_rows(rows: list[dict[str, Any]]
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``WorkflowExecution`` column values as (header rows, body rows: ``id`` and the
    :data:`~wfaas.db.models.BODY_COLUMNS`), for the two tables of an execution."""
    return ([{k: v for k, v in row.items() if k not in m.BODY_COLUMNS} for row in rows],
            [{k: row.get(k) for k in ("id", *m.BODY_COLUMNS)} for row in rows])


def insert_row(session: Session, model: type[m.Base], **values: Any) -> dict[str, Any]:
    """Insert one row with a single Core INSERT (no unit of work, no SAVEPOINT); returns
    it as a dict shaped like ``Model.to_dict()`` (Python-side defaults filled in). A
    unique violation raises Conflict (the transaction is then unusable: let it end)."""
    row: dict[str, Any] = {}
    for col in m.columns_of(model):
        default = col.default
        if col.key in values:
            row[col.key] = values[col.key]
        elif default is not None and getattr(default, "is_scalar", False):
            row[col.key] = default.arg
        elif default is not None and getattr(default, "is_callable", False):
            row[col.key] = default.arg(None)
        else:
            row[col.key] = None
    try:
        conn = session.connection()
        if model is m.WorkflowExecution:  # a header row and a body row
            insert_executions(conn, [row])
        else:
            conn.execute(cast(Table, model.__table__).insert(), [row])
    except IntegrityError as exc:
        name = values.get("name") or values.get("key") or values.get("id") or ""
        raise Conflict(f"Duplicate entry for {_label(model)}: {name}",
                       cause=str(exc.orig)) from exc
    row.pop("security", None)  # credentials never leave the database (as in to_dict)
    return row


def _looks_like_id(identifier: str) -> bool:
    """Whether ``identifier`` can be a generated row id (a UUID string)."""
    return len(identifier) == 36 and identifier.count("-") == 4


looks_like_id = _looks_like_id


def get(session: Session, model: type[T], id: str, *, for_update: bool = False) -> T:
    """The row with primary key ``id``; NotFound when absent."""
    obj = session.get(model, id, with_for_update=for_update)
    if obj is None:
        raise NotFound(f"{_label(model).capitalize()} not found [id={id}]")
    return obj


def find(session: Session, model: type[T], id: str) -> T | None:
    """The row with primary key ``id`` or None."""
    return session.get(model, id)


def update_row(session: Session, obj: T, **values: Any) -> T:
    """Set attributes of a loaded row (flushed with the transaction)."""
    for key, value in values.items():
        setattr(obj, key, value)
    return obj


def delete_row(session: Session, obj: m.Base) -> None:
    """Delete a loaded row."""
    session.delete(obj)
    session.flush()


def _visible(model: type[m.Base], project_id: str | None) -> Any:
    conditions = scoping.visible(model, project_id)
    return and_(*conditions) if conditions else None


def find_visible(session: Session, model: type[T], identifier: str, *,
                 project_id: str | None, by_name: bool = True,
                 namespace: str | None = None) -> T | None:
    """A row ``project_id`` may see (:func:`wfaas.db.scoping.visible`; None: any row) by
    id, or else by name (+ namespace when given), the project's own row first."""
    conditions = scoping.visible(model, project_id)
    row = session.scalars(select(model).where(
        model.id == identifier, *conditions)).first()  # type: ignore[attr-defined]
    if row is not None or not by_name:
        return row
    stmt: Any = select(model).where(model.name == identifier, *conditions)  # type: ignore
    if namespace is not None and hasattr(model, "namespace"):
        stmt = stmt.where(model.namespace == namespace)  # type: ignore[attr-defined]
    if project_id is not None:
        stmt = stmt.order_by((model.project_id == project_id).desc())  # type: ignore
    return session.scalars(stmt.limit(1)).first()


def list_rows(
    session: Session,
    model: type[T],
    *,
    filters: dict[str, Any] | None = None,
    project_id: str | None = None,
    sort_keys: Sequence[str] = ("created_at", "id"),
    sort_dirs: Sequence[str] = ("asc",),
    limit: int | None = None,
    marker: str | None = None,
    columns: Sequence[str] | None = None,
) -> list[T]:
    """Rows matching ``filters`` (column -> value, or ``(op, value)`` with op one of
    eq, neq, gt, gte, lt, lte, in, nin, has), sorted, paginated after ``marker``
    (an id), visible to ``project_id`` (None: everything).
    ``columns`` is accepted for interface symmetry; whole rows are returned.
    """
    stmt = select(model)
    for cond in _conditions(model, filters or {}):
        stmt = stmt.where(cond)
    vis = _visible(model, project_id)
    if vis is not None:
        stmt = stmt.where(vis)
    keys = list(sort_keys) or ["created_at"]
    if "id" not in keys:
        keys.append("id")
    dirs = list(sort_dirs) + [sort_dirs[-1] if sort_dirs else "asc"] * len(keys)
    if marker:
        marker_obj = get(session, model, marker)
        stmt = stmt.where(_after_marker(model, marker_obj, keys, dirs))
    for key, direction in zip(keys, dirs, strict=False):
        col = getattr(model, key)
        stmt = stmt.order_by(col.desc() if direction == "desc" else col.asc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


_COMPARE = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


def _conditions(model: type[m.Base], filters: dict[str, Any]) -> list[Any]:
    conds = []
    for key, spec in filters.items():
        col = getattr(model, key, None)
        if col is None:
            raise NotFound(f"Unknown field for {_label(model)}: {key}")
        op, value = spec if isinstance(spec, tuple) else ("eq", spec)
        if op == "eq":
            conds.append(col.is_(None) if value is None else col == value)
        elif op == "neq":
            conds.append(col.is_not(None) if value is None else col != value)
        elif op in _COMPARE:
            conds.append(_COMPARE[op](col, value))
        elif op == "in":
            conds.append(col.in_(list(value)))
        elif op == "nin":
            conds.append(col.not_in(list(value)))
        elif op == "has":
            conds.append(col.contains(value))
        else:
            raise ValueError(f"unknown filter operator {op!r}")
    return conds


def _after_marker(model: type[m.Base], marker: m.Base, keys: list[str],
                  dirs: list[str]) -> Any:
    """Keyset condition: rows strictly after ``marker`` in the sort order."""
    ors = []
    for i, key in enumerate(keys):
        ands = [getattr(model, k) == getattr(marker, k) for k in keys[:i]]
        col, val = getattr(model, key), getattr(marker, key)
        if val is None:
            continue
        ands.append(col < val if dirs[i] == "desc" else col > val)
        ors.append(and_(*ands))
    return or_(*ors)


def count(session: Session, model: type[m.Base], filters: dict[str, Any] | None = None) -> int:
    """How many rows match ``filters``."""
    stmt = select(func.count()).select_from(model)
    for cond in _conditions(model, filters or {}):
        stmt = stmt.where(cond)
    return int(session.scalar(stmt) or 0)


# ---------------------------------------------------------------- by name


def get_by_name(session: Session, model: type[T], name: str, *, namespace: str = "",
                project_id: str | None = None) -> T:
    """The row named ``name`` in ``namespace`` (falling back to the default
    namespace '' like Mistral), private rows of the project preferred."""
    obj = find_by_name(session, model, name, namespace=namespace, project_id=project_id)
    if obj is None:
        where = f", namespace={namespace}" if namespace else ""
        raise NotFound(f"{_label(model).capitalize()} not found [name={name}{where}]")
    return obj


def find_by_name(session: Session, model: type[T], name: str, *, namespace: str = "",
                 project_id: str | None = None) -> T | None:
    """Like :func:`get_by_name` but None when absent."""
    namespaces = [namespace, ""] if namespace else [""]
    for ns in namespaces:
        stmt = select(model).where(model.name == name)  # type: ignore[attr-defined]
        if hasattr(model, "namespace"):
            stmt = stmt.where(model.namespace == ns)  # type: ignore[attr-defined]
        vis = _visible(model, project_id)
        if vis is not None:
            stmt = stmt.where(vis)
            stmt = stmt.order_by((model.project_id == project_id).desc())  # type: ignore
        obj = session.scalars(stmt.limit(1)).first()
        if obj is not None:
            return obj
    return None


def get_workflow_definition(session: Session, identifier: str, *, namespace: str = "",
                            project_id: str | None = None) -> m.WorkflowDefinition:
    """A workflow definition by id or by name (+ namespace)."""
    obj = session.get(m.WorkflowDefinition, identifier) if _looks_like_id(identifier) else None
    if obj is not None and (project_id is None or find_visible(
            session, m.WorkflowDefinition, identifier, project_id=project_id, by_name=False)):
        return obj
    return get_by_name(session, m.WorkflowDefinition, identifier, namespace=namespace,
                       project_id=project_id)


_WF_BRIEF_COLUMNS = ("id", "name", "namespace", "definition", "workbook_name", "project_id")
_WF_BRIEF: dict[bool, Any] = {}


def _wf_brief_statement(by_id: bool) -> Any:
    stmt = _WF_BRIEF.get(by_id)
    if stmt is None:
        table = cast(Table, m.WorkflowDefinition.__table__)
        cols = [table.c[name] for name in _WF_BRIEF_COLUMNS]
        if by_id:
            stmt = select(*cols).where(table.c.id == bindparam("ident"))
        else:
            stmt = (select(*cols).where(table.c.name == bindparam("ident"))
                    .where(table.c.namespace == bindparam("ns")).limit(1))
        _WF_BRIEF[by_id] = stmt
    return stmt


_WF_VISIBLE: list[Any] = []


def _wf_visible_statement() -> Any:
    """By name and namespace, among the definitions project ``:pid`` may see
    (:func:`wfaas.db.scoping.visible`), the project's own first; built once."""
    if not _WF_VISIBLE:
        table = cast(Table, m.WorkflowDefinition.__table__)
        members = cast(Table, m.ResourceMember.__table__)
        pid: Any = bindparam("pid")
        shared = select(members.c.resource_id).where(
            members.c.member_id == pid, members.c.resource_type == scoping.WORKFLOW,
            members.c.status == scoping.ACCEPTED)
        _WF_VISIBLE.append(
            select(*(table.c[name] for name in _WF_BRIEF_COLUMNS))
            .where(table.c.name == bindparam("ident"), table.c.namespace == bindparam("ns"),
                   or_(table.c.project_id == pid, table.c.scope == "public",
                       table.c.id.in_(shared)))
            .order_by((table.c.project_id == pid).desc()).limit(1))
    return _WF_VISIBLE[0]


def find_workflow_brief(session: Session, name: str, *, namespace: str = "",
                        project_id: str | None = None) -> Any:
    """:func:`find_by_name` of a workflow definition as its brief columns (see
    :func:`workflow_definition_brief`), with prebuilt statements: the sub-workflow
    lookup of every spawning step. None when ``project_id`` sees no such workflow."""
    conn = session.connection()
    for ns in ([namespace, ""] if namespace else [""]):
        if project_id is None:
            row = conn.execute(_wf_brief_statement(False), {"ident": name, "ns": ns}).first()
        else:
            row = conn.execute(_wf_visible_statement(),
                               {"ident": name, "ns": ns, "pid": project_id}).first()
        if row is not None:
            return row
    return None


def workflow_definition_brief(session: Session, identifier: str, *,
                              namespace: str = "") -> Any:
    """The columns of a workflow definition that starting an execution needs (``id``,
    ``name``, ``namespace``, ``definition``, ``workbook_name``, ``project_id``), read
    with one prebuilt Core SELECT (no ORM object): by id or by name, the namespace
    falling back to '' like :func:`get_workflow_definition` without a project.
    Returns a row with those attributes; NotFound when absent."""
    conn = session.connection()
    if _looks_like_id(identifier):
        row = conn.execute(_wf_brief_statement(True), {"ident": identifier}).first()
        if row is not None:
            return row
    for ns in ([namespace, ""] if namespace else [""]):
        row = conn.execute(_wf_brief_statement(False), {"ident": identifier, "ns": ns}).first()
        if row is not None:
            return row
    where = f", namespace={namespace}" if namespace else ""
    raise NotFound(f"Workflow definition not found [name={identifier}{where}]")


def execution_text(session: Session, wf: Any) -> str:
    """The document an execution of workflow ``wf`` keeps: the workbook of its project for a
    workbook member, else its own definition."""
    if wf.workbook_name:
        wb = find_by_name(session, m.Workbook, wf.workbook_name, namespace=wf.namespace,
                          project_id=wf.project_id)
        if wb is not None:
            return str(wb.definition)
    return str(wf.definition)


def get_action_definition(session: Session, identifier: str, *, namespace: str = "",
                          project_id: str | None = None) -> m.ActionDefinition:
    """An action definition by id or by name (+ namespace)."""
    obj = session.get(m.ActionDefinition, identifier)
    if obj is not None and (project_id is None or find_visible(
            session, m.ActionDefinition, identifier, project_id=project_id, by_name=False)):
        return obj
    return get_by_name(session, m.ActionDefinition, identifier, namespace=namespace,
                       project_id=project_id)


# ---------------------------------------------------------------- executions


_CAS_STATEMENTS: dict[tuple[str, ...], Any] = {}


def _cas_statement(keys: tuple[str, ...]) -> Any:
    stmt = _CAS_STATEMENTS.get(keys)
    if stmt is None:
        table = m.EXECUTIONS
        stmt = (update(table)
                .where(table.c.id == bindparam("w_id"), table.c.version == bindparam("w_version"))
                .values(version=bindparam("w_new_version"),
                        **{k: bindparam(f"v_{k}") for k in keys}))
        _CAS_STATEMENTS[keys] = stmt
    return stmt


def update_execution_cas(session: Session, execution_id: str, expected_version: int,
                         **values: Any) -> bool:
    """Update a workflow execution only if its version is still ``expected_version``;
    bumps the version. False when someone else changed it first.
    (One prebuilt statement per set of columns: no statement building per step.)"""
    header, body = split_body(values)
    params = {f"v_{k}": v for k, v in header.items()}
    params.update(w_id=execution_id, w_version=expected_version,
                  w_new_version=expected_version + 1)
    conn = session.connection()
    if not conn.execute(_cas_statement(tuple(sorted(header))), params).rowcount:
        return False
    if body:
        conn.execute(_UPDATE_BODY, [dict(body, w_id=execution_id)])
    return True


_UPDATE_BODY = m.EXECUTION_BODIES.update().where(m.EXECUTION_BODIES.c.id == bindparam("w_id"))


def split_body(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``values`` of an execution as (header columns, body columns: ``spec``,
    ``input``, ``params``); the body is empty (and ``values`` returned as is) when none
    is set."""
    if not any(k in values for k in m.BODY_COLUMNS):
        return values, {}
    return ({k: v for k, v in values.items() if k not in m.BODY_COLUMNS},
            {k: v for k, v in values.items() if k in m.BODY_COLUMNS})


def update_executions_cas(session: Session,
                          items: Sequence[tuple[str, int, dict[str, Any]]]) -> bool:
    """:func:`update_execution_cas` for several executions: ``(id, expected_version,
    values)`` items, one executemany per set of columns. True when every row matched
    (when the driver cannot count the rows of an executemany, one UPDATE per row)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    bodies: list[dict[str, Any]] = []
    for execution_id, expected_version, values in items:
        values, body = split_body(values)
        if body:
            bodies.append(dict(body, w_id=execution_id))
        params = {f"v_{k}": v for k, v in values.items()}
        params.update(w_id=execution_id, w_version=expected_version,
                      w_new_version=expected_version + 1)
        groups.setdefault(tuple(sorted(values)), []).append(params)
    conn = session.connection()
    for keys, rows in groups.items():
        stmt = _cas_statement(keys)
        if conn.dialect.supports_sane_multi_rowcount:
            if conn.execute(stmt, rows).rowcount != len(rows):
                return False
        else:
            for row in rows:
                if not conn.execute(stmt, row).rowcount:
                    return False
    for body in bodies:
        conn.execute(_UPDATE_BODY, [body])
    return True


_VERSION = select(m.EXECUTIONS.c.version).where(m.EXECUTIONS.c.id == bindparam("w_id"))


def get_execution_version(session: Session, execution_id: str) -> int | None:
    """The current version of an execution (None when it does not exist)."""
    return session.connection().execute(_VERSION, {"w_id": execution_id}).scalar()


def task_executions_of(session: Session, execution_id: str,
                       name: str | None = None) -> list[m.TaskExecution]:
    """The task executions of a workflow execution, oldest first."""
    stmt = select(m.TaskExecution).where(m.TaskExecution.workflow_execution_id == execution_id)
    if name is not None:
        stmt = stmt.where(m.TaskExecution.name == name)
    return list(session.scalars(stmt.order_by(m.TaskExecution.created_at, m.TaskExecution.id)))


def action_executions_of(session: Session, task_execution_id: str) -> list[m.ActionExecution]:
    """The action executions of a task execution, oldest first."""
    stmt = (select(m.ActionExecution)
            .where(m.ActionExecution.task_execution_id == task_execution_id)
            .order_by(m.ActionExecution.created_at, m.ActionExecution.id))
    return list(session.scalars(stmt))


def sub_executions_of(session: Session, task_execution_id: str) -> list[m.WorkflowExecution]:
    """Sub-workflow executions started by a task execution."""
    stmt = (select(m.WorkflowExecution)
            .where(m.WorkflowExecution.task_execution_id == task_execution_id)
            .order_by(m.WorkflowExecution.created_at))
    return list(session.scalars(stmt))


def executions_in_states(session: Session, states: Iterable[str]) -> list[m.WorkflowExecution]:
    """Workflow executions whose state is one of ``states`` (e.g. to resume on start)."""
    stmt = select(m.WorkflowExecution).where(m.WorkflowExecution.state.in_(list(states)))
    return list(session.scalars(stmt))


def delete_execution_tree(session: Session, execution_id: str) -> None:
    """Delete an execution with its tasks, actions, sub-executions and timers."""
    subs = list(session.scalars(select(m.WorkflowExecution.id).where(
        m.WorkflowExecution.root_execution_id == execution_id)))
    ids = [execution_id, *subs]
    task_ids = select(m.TaskExecution.id).where(m.TaskExecution.workflow_execution_id.in_(ids))
    session.execute(delete(m.ActionExecution).where(
        m.ActionExecution.task_execution_id.in_(task_ids)))
    session.execute(delete(m.TaskExecution).where(m.TaskExecution.workflow_execution_id.in_(ids)))
    session.execute(delete(m.DelayedCall).where(m.DelayedCall.execution_id.in_(ids)))
    session.execute(delete(m.EXECUTION_BODIES).where(m.EXECUTION_BODIES.c.id.in_(ids)))
    session.execute(delete(m.EXECUTIONS).where(m.EXECUTIONS.c.id.in_(ids)))


# ---------------------------------------------------------------- delayed calls


def add_delayed_call(session: Session, *, key: str, kind: str, due_at: float,
                     payload: Any = None, execution_id: str | None = None) -> bool:
    """Add a timer unless one with ``key`` exists (then a no-op, False)."""
    exists = session.scalar(select(m.DelayedCall.id).where(m.DelayedCall.key == key))
    if exists:
        return False
    session.add(m.DelayedCall(key=key, kind=kind, due_at=due_at, payload=payload,
                              execution_id=execution_id))
    session.flush()
    return True


def cancel_delayed_calls(session: Session, *, execution_id: str | None = None,
                         key: str | None = None) -> int:
    """Remove timers of an execution and/or with a key; returns how many."""
    stmt = delete(m.DelayedCall)
    if execution_id is not None:
        stmt = stmt.where(m.DelayedCall.execution_id == execution_id)
    if key is not None:
        stmt = stmt.where(m.DelayedCall.key == key)
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def next_due_time(session: Session) -> float | None:
    """The earliest due time of an unclaimed timer (None: no timers)."""
    return session.scalar(select(func.min(m.DelayedCall.due_at))
                          .where(m.DelayedCall.claimed_by.is_(None)))


def claim_due_calls(session: Session, *, owner: str, now: float, limit: int = 100,
                    stale_after: float = 300.0) -> list[m.DelayedCall]:
    """Claim up to ``limit`` due timers for ``owner`` with a conditional UPDATE.

    A call is claimable when unclaimed, or claimed more than ``stale_after``
    seconds ago (its scheduler died). Each UPDATE re-checks the claim columns,
    so two schedulers never both get one call.
    """
    candidates = session.execute(
        select(m.DelayedCall.id, m.DelayedCall.claimed_at)
        .where(m.DelayedCall.due_at <= now,
               or_(m.DelayedCall.claimed_by.is_(None),
                   m.DelayedCall.claimed_at < now - stale_after))
        .order_by(m.DelayedCall.due_at).limit(limit)).all()
    claimed_ids = []
    for call_id, claimed_at in candidates:
        cond = (m.DelayedCall.claimed_at.is_(None) if claimed_at is None
                else m.DelayedCall.claimed_at == claimed_at)
        res = session.execute(update(m.DelayedCall)
                              .where(m.DelayedCall.id == call_id, cond)
                              .values(claimed_by=owner, claimed_at=now)
                              .execution_options(synchronize_session=False))
        if res.rowcount:  # type: ignore[attr-defined]
            claimed_ids.append(call_id)
    if not claimed_ids:
        return []
    return list(session.scalars(select(m.DelayedCall).where(m.DelayedCall.id.in_(claimed_ids))
                                .order_by(m.DelayedCall.due_at)))


def delete_delayed_call(session: Session, call_id: str) -> None:
    """Remove a fired timer."""
    session.execute(delete(m.DelayedCall).where(m.DelayedCall.id == call_id))
