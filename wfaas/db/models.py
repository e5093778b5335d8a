"""SQLAlchemy 2 models of every persisted object.

JSON values live in TEXT columns (:class:`wfaas.db.types.JsonText`) so that the
schema is identical on SQLite and PostgreSQL. Timestamps are naive UTC.
Ids are UUID strings. ``to_dict()`` returns a plain dict shaped like the row
(JSON columns decoded, datetimes kept as ``datetime``).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, KeysView
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    join,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column

from wfaas.db.types import JsonText, new_id, utcnow_precise

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every wfaas model (shared metadata, naming convention)."""

    metadata = MetaData(naming_convention=NAMING)

    def to_dict(self) -> dict[str, Any]:
        """The row as a plain dict (column name -> Python value); ``security``
        (credentials) is left out."""
        return {key: getattr(self, key) for key in columns_of(type(self)).keys()
                if key != "security"}


def _id() -> Mapped[str]:
    return mapped_column(String(36), primary_key=True, default=new_id)


def _created() -> Mapped[_dt.datetime]:
    return mapped_column(DateTime, nullable=False, default=utcnow_precise)


def _updated() -> Mapped[_dt.datetime | None]:
    return mapped_column(DateTime, nullable=True, onupdate=utcnow_precise)


def _name() -> Mapped[str]:
    return mapped_column(String(255), nullable=False)


def _namespace() -> Mapped[str]:
    return mapped_column(String(255), nullable=False, default="", server_default="")


def _scope() -> Mapped[str]:
    return mapped_column(String(16), nullable=False, default="private", server_default="private")


def _project() -> Mapped[str]:
    return mapped_column(String(80), nullable=False, default="<default-project>",
                         server_default="<default-project>")


class Workbook(Base):
    """A workbook document: its member workflows/actions are stored separately."""

    __tablename__ = "workbooks"
    __table_args__ = (UniqueConstraint("name", "namespace", "project_id"),)

    id: Mapped[str] = _id()
    name: Mapped[str] = _name()
    namespace: Mapped[str] = _namespace()
    definition: Mapped[str] = mapped_column(Text, nullable=False)
    checksum: Mapped[str | None] = mapped_column(String(64))
    tags: Mapped[list[str] | None] = mapped_column(JsonText, nullable=True)
    scope: Mapped[str] = _scope()
    project_id: Mapped[str] = _project()
    created_at: Mapped[_dt.datetime] = _created()
    updated_at: Mapped[_dt.datetime | None] = _updated()


class WorkflowDefinition(Base):
    """A stored workflow definition (standalone or member of a workbook)."""

    __tablename__ = "workflow_definitions"
    __table_args__ = (
        UniqueConstraint("name", "namespace", "project_id"),
        Index(None, "name", "namespace"),
    )

    id: Mapped[str] = _id()
    name: Mapped[str] = _name()
    namespace: Mapped[str] = _namespace()
    definition: Mapped[str] = mapped_column(Text, nullable=False)
    checksum: Mapped[str | None] = mapped_column(String(64))
    input: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    tags: Mapped[list[str] | None] = mapped_column(JsonText, nullable=True)
    workbook_name: Mapped[str | None] = mapped_column(String(255))
    is_system: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    scope: Mapped[str] = _scope()
    project_id: Mapped[str] = _project()
    created_at: Mapped[_dt.datetime] = _created()
    updated_at: Mapped[_dt.datetime | None] = _updated()


class ActionDefinition(Base):
    """An action known to the service (std, pack, ad-hoc or OpenStack)."""

    __tablename__ = "action_definitions"
    __table_args__ = (
        UniqueConstraint("name", "namespace", "project_id"),
        Index(None, "name", "namespace"),
    )

    id: Mapped[str] = _id()
    name: Mapped[str] = _name()
    namespace: Mapped[str] = _namespace()
    description: Mapped[str | None] = mapped_column(Text)
    input: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    params_schema: Mapped[Any] = mapped_column(JsonText, nullable=True)
    is_system: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    tags: Mapped[list[str] | None] = mapped_column(JsonText, nullable=True)
    definition: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(255), nullable=False, default="std")
    scope: Mapped[str] = mapped_column(String(16), nullable=False, default="public",
                                       server_default="public")
    project_id: Mapped[str] = _project()
    created_at: Mapped[_dt.datetime] = _created()
    updated_at: Mapped[_dt.datetime | None] = _updated()


#: the execution header: what the engine rewrites with every step (state, version,
#: ``engine_state``) and what lists filter and sort by
EXECUTIONS = Table(
    "workflow_executions", Base.metadata,
    Column("id", String(36), primary_key=True, default=new_id),
    Column("workflow_name", String(255), nullable=False),
    Column("workflow_namespace", String(255), nullable=False, default="", server_default=""),
    Column("workflow_id", String(36)),
    Column("description", Text, nullable=False, default="", server_default=""),
    Column("output", JsonText, nullable=True),
    Column("state", String(20), nullable=False, default="IDLE"),
    Column("state_info", Text),
    Column("tags", JsonText, nullable=True),
    Column("root_execution_id", String(36)),
    Column("parent_execution_id", String(36)),
    Column("task_execution_id", String(36)),
    Column("source_execution_id", String(36)),
    Column("engine_state", JsonText, nullable=True),
    Column("security", JsonText, nullable=True),
    Column("version", Integer, nullable=False, default=0, server_default="0"),
    Column("project_id", String(80), nullable=False, default="<default-project>",
           server_default="<default-project>"),
    Column("created_at", DateTime, nullable=False, default=utcnow_precise),
    Column("updated_at", DateTime, nullable=True, onupdate=utcnow_precise),
    Column("finished_at", DateTime),
    Index(None, "state"),
    Index(None, "root_execution_id"),
    Index(None, "task_execution_id"),
    Index(None, "workflow_name", "workflow_namespace"),
    Index(None, "created_at"),
)

#: the large columns of an execution that only its start writes, apart from the header:
#: SQLite rewrites a whole record, overflow pages included, on any UPDATE, so in the
#: header they would be written again by every engine step. ``params`` (with ``env``)
#: is here too: the start stores them as the engine normalises them, so only a resume
#: or rerun that merges an env into them rewrites this row (input and spec included:
#: once per such request, not per step; a row of its own would cost one more INSERT
#: per execution and one more join per load).
EXECUTION_BODIES = Table(
    "execution_bodies", Base.metadata,
    Column("id", String(36), ForeignKey("workflow_executions.id", ondelete="CASCADE"),
           primary_key=True),
    Column("spec", Text, nullable=False),
    Column("input", JsonText, nullable=True),
    Column("params", JsonText, nullable=True),
)

#: the columns of the body table (besides ``id``)
BODY_COLUMNS = ("spec", "params", "input")


class WorkflowExecution(Base):
    """One run of a workflow, with the definition it started with.

    Mapped over the join of two rows with the same id: the header
    (:data:`EXECUTIONS`) and the body (:data:`EXECUTION_BODIES`: ``spec``,
    ``input`` and ``params``), so that the ORM writes only the row whose columns changed.
    ``spec`` is the definition text in force at start, so later definition
    changes do not affect a running execution. ``engine_state`` holds the
    workflow-level part of the engine state (per-task state lives in
    task_executions). ``version`` is bumped by every write (compare-and-set).
    """

    __table__ = join(EXECUTIONS, EXECUTION_BODIES, EXECUTIONS.c.id == EXECUTION_BODIES.c.id)
    #: the attributes in the order of the single table they had before (to_dict, lists)
    __column_order__ = ("id", "workflow_name", "workflow_namespace", "workflow_id",
                        "description", "spec", "params", "input", "output")

    id: Mapped[str] = column_property(EXECUTIONS.c.id, EXECUTION_BODIES.c.id)
    workflow_name: Mapped[str]
    workflow_namespace: Mapped[str]
    workflow_id: Mapped[str | None]
    description: Mapped[str]
    spec: Mapped[str]
    params: Mapped[Any]
    input: Mapped[Any]
    output: Mapped[Any]
    state: Mapped[str]
    state_info: Mapped[str | None]
    tags: Mapped[list[str] | None]
    root_execution_id: Mapped[str | None]
    parent_execution_id: Mapped[str | None]
    task_execution_id: Mapped[str | None]
    source_execution_id: Mapped[str | None]
    engine_state: Mapped[Any]
    #: the caller's security context (trust, token, project) the actions run with;
    #: never shown on the wire
    security: Mapped[Any]
    version: Mapped[int]
    project_id: Mapped[str]
    created_at: Mapped[_dt.datetime]
    updated_at: Mapped[_dt.datetime | None]
    finished_at: Mapped[_dt.datetime | None]


class TaskExecution(Base):
    """One task of a workflow execution (one row per task run, retries included)."""

    __tablename__ = "task_executions"
    __table_args__ = (
        Index(None, "workflow_execution_id"),
        Index(None, "workflow_execution_id", "name"),
        Index(None, "workflow_execution_id", "created_at", "id"),  # task pages
        Index(None, "state"),
    )

    id: Mapped[str] = _id()
    name: Mapped[str] = _name()
    workflow_execution_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("workflow_executions.id", ondelete="CASCADE"), nullable=False)
    workflow_name: Mapped[str] = _name()
    workflow_namespace: Mapped[str] = _namespace()
    workflow_id: Mapped[str | None] = mapped_column(String(36))
    type: Mapped[str] = mapped_column(String(10), nullable=False, default="ACTION")
    state: Mapped[str] = mapped_column(String(20), nullable=False, default="IDLE")
    state_info: Mapped[str | None] = mapped_column(Text)
    published: Mapped[Any] = mapped_column(JsonText, nullable=True)
    published_global: Mapped[Any] = mapped_column(JsonText, nullable=True)
    result: Mapped[Any] = mapped_column(JsonText, nullable=True)
    runtime_context: Mapped[Any] = mapped_column(JsonText, nullable=True)
    engine_state: Mapped[Any] = mapped_column(JsonText, nullable=True)
    processed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    has_next_tasks: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    error_handled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    tags: Mapped[list[str] | None] = mapped_column(JsonText, nullable=True)
    project_id: Mapped[str] = _project()
    started_at: Mapped[_dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[_dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[_dt.datetime] = _created()
    updated_at: Mapped[_dt.datetime | None] = _updated()


class ExecutionContext(Base):
    """The global context of a workflow execution (evaluated ``vars``, global publishes,
    ``__execution``), apart from the execution row.

    The execution row is rewritten by every engine step (state, version,
    ``engine_state``); the context changes only when a task publishes globally, so it
    is written then and only then: a large context is not copied per step. (SQLite
    rewrites a whole row on any UPDATE: a column of the execution row would not do.)
    No row: the execution keeps its context in ``engine_state`` (rows written before
    this table existed).
    """

    __tablename__ = "execution_contexts"

    id: Mapped[str] = mapped_column(
        String(36), ForeignKey("workflow_executions.id", ondelete="CASCADE"),
        primary_key=True)
    context: Mapped[Any] = mapped_column(JsonText, nullable=True)


class ActionExecution(Base):
    """One action run: of a task (task_execution_id set) or ad hoc (None)."""

    __tablename__ = "action_executions"
    __table_args__ = (
        Index(None, "task_execution_id"),
        Index(None, "workflow_execution_id"),
        Index(None, "state"),
    )

    id: Mapped[str] = _id()
    name: Mapped[str] = _name()
    namespace: Mapped[str] = _namespace()
    description: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    task_execution_id: Mapped[str | None] = mapped_column(String(36))
    task_name: Mapped[str | None] = mapped_column(String(255))
    workflow_execution_id: Mapped[str | None] = mapped_column(String(36))
    workflow_name: Mapped[str | None] = mapped_column(String(255))
    workflow_namespace: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(20), nullable=False, default="IDLE")
    state_info: Mapped[str | None] = mapped_column(Text)
    accepted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    input: Mapped[Any] = mapped_column(JsonText, nullable=True)
    output: Mapped[Any] = mapped_column(JsonText, nullable=True)
    params: Mapped[Any] = mapped_column(JsonText, nullable=True)
    runtime_context: Mapped[Any] = mapped_column(JsonText, nullable=True)
    is_sync: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    security: Mapped[Any] = mapped_column(JsonText, nullable=True)
    tags: Mapped[list[str] | None] = mapped_column(JsonText, nullable=True)
    project_id: Mapped[str] = _project()
    created_at: Mapped[_dt.datetime] = _created()
    updated_at: Mapped[_dt.datetime | None] = _updated()


class DelayedCall(Base):
    """A persistent timer: fires ``kind`` with ``payload`` at ``due_at`` (epoch s).

    ``key`` de-duplicates (adding a call whose key exists is a no-op);
    ``claimed_by``/``claimed_at`` are set by the conditional UPDATE that
    claims it so two schedulers never fire one call twice.
    """

    __tablename__ = "delayed_calls"
    __table_args__ = (
        Index(None, "due_at"),
        Index(None, "execution_id"),
        Index(None, "claimed_by", "due_at"),
    )

    id: Mapped[str] = _id()
    key: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    due_at: Mapped[float] = mapped_column(Float, nullable=False)
    payload: Mapped[Any] = mapped_column(JsonText, nullable=True)
    execution_id: Mapped[str | None] = mapped_column(String(36))
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_at: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[_dt.datetime] = _created()


class Environment(Base):
    """A named set of variables that executions can reference as ``env()``."""

    __tablename__ = "environments"
    __table_args__ = (UniqueConstraint("name", "project_id"),)

    id: Mapped[str] = _id()
    name: Mapped[str] = _name()
    description: Mapped[str | None] = mapped_column(Text)
    variables: Mapped[Any] = mapped_column(JsonText, nullable=True)
    scope: Mapped[str] = _scope()
    project_id: Mapped[str] = _project()
    created_at: Mapped[_dt.datetime] = _created()
    updated_at: Mapped[_dt.datetime | None] = _updated()


class CronTrigger(Base):
    """Starts a workflow on a cron pattern and/or at a first execution time."""

    __tablename__ = "cron_triggers"
    __table_args__ = (
        UniqueConstraint("name", "project_id"),
        Index(None, "next_execution_time"),
    )

    id: Mapped[str] = _id()
    name: Mapped[str] = _name()
    pattern: Mapped[str | None] = mapped_column(String(100))
    first_execution_time: Mapped[_dt.datetime | None] = mapped_column(DateTime)
    next_execution_time: Mapped[_dt.datetime | None] = mapped_column(DateTime)
    remaining_executions: Mapped[int | None] = mapped_column(Integer)
    workflow_name: Mapped[str] = _name()
    workflow_namespace: Mapped[str] = _namespace()
    workflow_id: Mapped[str | None] = mapped_column(String(36))
    workflow_input: Mapped[Any] = mapped_column(JsonText, nullable=True)
    workflow_params: Mapped[Any] = mapped_column(JsonText, nullable=True)
    scope: Mapped[str] = _scope()
    project_id: Mapped[str] = _project()
    created_at: Mapped[_dt.datetime] = _created()
    updated_at: Mapped[_dt.datetime | None] = _updated()
    # Keystone trust the trigger runs under (auth enabled), IANA time zone of the
    # pattern (None: UTC), and whether one missed run fires after downtime.
    trust_id: Mapped[str | None] = mapped_column(String(80))
    timezone: Mapped[str | None] = mapped_column(String(64))
    catch_up: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                           server_default="0")


class EventTrigger(Base):
    """Starts a workflow when a notification arrives on exchange/topic/event."""

    __tablename__ = "event_triggers"
    __table_args__ = (
        UniqueConstraint("exchange", "topic", "event", "workflow_id", "project_id"),
    )

    id: Mapped[str] = _id()
    name: Mapped[str] = _name()
    workflow_id: Mapped[str] = mapped_column(String(36), nullable=False)
    workflow_input: Mapped[Any] = mapped_column(JsonText, nullable=True)
    workflow_params: Mapped[Any] = mapped_column(JsonText, nullable=True)
    exchange: Mapped[str] = mapped_column(String(255), nullable=False)
    topic: Mapped[str] = mapped_column(String(255), nullable=False)
    event: Mapped[str] = mapped_column(String(255), nullable=False)
    scope: Mapped[str] = _scope()
    project_id: Mapped[str] = _project()
    created_at: Mapped[_dt.datetime] = _created()
    updated_at: Mapped[_dt.datetime | None] = _updated()
    trust_id: Mapped[str | None] = mapped_column(String(80))


class EngineMember(Base):
    """A live engine process of a distributed deployment (its heartbeat row).

    Written by :mod:`wfaas.services.ownership`: ``last_seen`` is refreshed every
    few seconds; a row older than the lease belongs to a dead engine, whose
    executions the live engines take over.
    """

    __tablename__ = "engines"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    pid: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    started_at: Mapped[_dt.datetime] = mapped_column(DateTime, nullable=False)
    last_seen: Mapped[_dt.datetime] = mapped_column(DateTime, nullable=False)


class ResourceMember(Base):
    """A private resource (a workflow) shared by its project with another project.

    ``project_id`` owns the resource, ``member_id`` is the project it is shared
    with; ``status`` is ``pending`` until the member accepts or rejects it. Only
    accepted shares make the resource visible to the member.
    """

    __tablename__ = "resource_members"
    __table_args__ = (
        UniqueConstraint("resource_id", "resource_type", "member_id"),
        Index(None, "member_id", "resource_type", "status"),
    )

    id: Mapped[str] = _id()
    resource_id: Mapped[str] = mapped_column(String(80), nullable=False)
    resource_type: Mapped[str] = mapped_column(String(50), nullable=False, default="workflow")
    project_id: Mapped[str] = _project()
    member_id: Mapped[str] = mapped_column(String(80), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    created_at: Mapped[_dt.datetime] = _created()
    updated_at: Mapped[_dt.datetime | None] = _updated()


class AttributeColumns:
    """The columns of a model by attribute name, one per attribute: iterating yields the
    columns, ``in`` and ``[]`` take attribute names (as a table's ``columns``)."""

    def __init__(self, model: type) -> None:
        props = model.__mapper__.column_attrs  # type: ignore[attr-defined]
        by_key = {p.key: p.columns[0] for p in props}
        order = getattr(model, "__column_order__", ())  # else the mapper's order
        self._by_key: dict[str, Any] = {k: by_key[k] for k in (*order, *by_key)}

    def __iter__(self) -> Iterator[Any]:
        return iter(self._by_key.values())

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __getitem__(self, key: str) -> Any:
        return self._by_key[key]

    def keys(self) -> KeysView[str]:
        """The attribute names."""
        return self._by_key.keys()


_COLUMNS: dict[type, AttributeColumns] = {}


def columns_of(model: type) -> AttributeColumns:
    """The columns of ``model`` by attribute name (an execution's ``id`` is the header's;
    its body's ``id`` is left out)."""
    done = _COLUMNS.get(model)
    if done is None:
        done = _COLUMNS[model] = AttributeColumns(model)
    return done
