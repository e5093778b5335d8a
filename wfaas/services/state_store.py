"""Mapping between the engine's ``WorkflowState`` and the database rows.

- ``workflow_executions``: the header; columns for what the API shows (state,
  state_info, output) and ``engine_state`` for the rest
  (counter, timers, pending ...), rewritten by every step; ``execution_bodies``:
  ``spec``, ``input`` and ``params`` (with ``env``), written by the start only (a step
  that changes the input or the params, e.g. a resume with an env, updates that row
  too); ``execution_contexts``: the global context.
- ``task_executions``: one row per ``TaskState``; engine-only fields in
  ``engine_state``. Sub-workflow "actions" (``ActionState.is_workflow``) are
  kept in their task row's ``engine_state["subworkflows"]`` because the child
  execution is a ``workflow_executions`` row of its own.
- ``action_executions``: one row per real ``ActionState``; ``output`` is
  ``{"result": ...}`` as on Mistral's wire.

Only rows the engine reports as changed are written (bulk INSERT for new
ones, bulk UPDATE by primary key for known ones).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from wfaas.db import api
from wfaas.db import models as m
from wfaas.db.stepwrite import StepTx, engine_for, step_transaction
from wfaas.db.types import utcnow_precise
from wfaas.engine import (
    ActionState,
    Command,
    Event,
    ScheduleTimer,
    StartSubWorkflow,
    StartWorkflow,
    TaskState,
    TimerFired,
    WorkflowState,
)
from wfaas.engine.states import TERMINAL
from wfaas.engine.states import WORKFLOW_TERMINAL as TERMINAL_WF
from wfaas.lang.specs import WorkflowSpec
from wfaas.services.rowbuffer import RowBuffer, StaleBatch
from wfaas.utils.states import cut_state_info

_HEADER_COLUMNS = ("id", "workflow_name", "state", "state_info", "input", "params", "output",
                   "root_execution_id", "context")
_TASK_ENGINE_FIELDS = ("upstream", "next_tasks", "join_arrivals", "retry_no", "rerun_no",
                       "attempt", "created_at", "updated_at", "type")


def to_datetime(ts: float | None) -> _dt.datetime | None:
    """Epoch seconds to a naive UTC datetime (None for 0/None)."""
    if not ts:
        return None
    return _dt.datetime.fromtimestamp(ts, _dt.UTC).replace(tzinfo=None)


@dataclass
class ExecutionMeta:
    """Row facts of an execution the engine state does not carry."""

    id: str
    workflow_name: str
    workflow_namespace: str
    workflow_id: str | None
    parent_execution_id: str | None
    task_execution_id: str | None
    root_execution_id: str | None
    project_id: str
    security: dict[str, Any] | None = None


@dataclass
class Loaded:
    """A live execution: its spec, state, row version and what is persisted."""

    meta: ExecutionMeta
    spec: WorkflowSpec
    state: WorkflowState
    version: int
    started: bool
    task_ids: set[str] = field(default_factory=set)
    action_ids: set[str] = field(default_factory=set)
    #: engine messages to send after the commit (execution id, event)
    post: list[tuple[str, Event]] = field(default_factory=list)
    #: bytes of each task's published values ("": the input), measured lazily
    #: (wfaas.services.limits); ancestors of this execution (None: not counted yet)
    data_sizes: dict[str, int] | None = None
    data_total: int = 0
    #: (the global context object, its JSON size): measured once per context
    context_size: tuple[Any, int] | None = None
    #: a finished task's published values as the JSON text measured by the limits
    #: check (task id -> (the published object, its text)): written as is
    encoded: dict[str, tuple[Any, str]] = field(default_factory=dict)
    depth: int | None = None
    #: sub-workflows started within this step (wfaas.services.dispatch), to dispatch
    #: after the commit
    children: list[Decided] = field(default_factory=list)
    #: this sub-workflow ended in the step that started it and its parent applied the
    #: completion in the same transaction (wfaas.services.chain): nothing to send
    parent_told: bool = False


def _in_creation_order(st: WorkflowState, task_ids: set[str]) -> list[dict[str, Any]]:
    """The changed tasks as dicts, oldest first. Tasks created in one step share a
    timestamp (a fork, or a folded chain): ties keep the engine's creation order,
    which is only looked up then (a long sequence is not scanned per step)."""
    tasks = sorted((st.tasks[t] for t in task_ids if t in st.tasks),
                   key=lambda t: t.created_at)
    if any(a.created_at == b.created_at for a, b in zip(tasks, tasks[1:], strict=False)):
        position = {tid: i for i, tid in enumerate(st.tasks)}
        tasks.sort(key=lambda t: (t.created_at, position[t.id]))
    return [t.to_dict() for t in tasks]


@dataclass
class Round:
    """What one round of a chained step dispatches after the commit, taken before the
    next round changed the state (see :attr:`Decided.chained`)."""

    children: list[Decided]
    post: list[tuple[str, Event]]
    changed: list[dict[str, Any]]
    state: str
    state_info: str | None


@dataclass
class Decided:
    """One execution's step, decided and not yet written."""

    loaded: Loaded
    old_state: str
    commands: list[Command] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    task_ids: set[str] = field(default_factory=set)
    action_ids: set[str] = field(default_factory=set)
    started_now: bool = False
    #: the next round of this step: the completions of sub-workflows that ended in
    #: their first step, applied in the same transaction (:mod:`wfaas.services.chain`)
    chained: Decided | None = None
    #: this round's dispatch, taken when :attr:`chained` was decided
    frozen: Round | None = None

    def result(self) -> tuple[Loaded, list[Command], list[dict[str, Any]], str]:
        """(loaded, commands, changed task dicts oldest first, old state)."""
        changed = (self.frozen.changed if self.frozen is not None
                   else _in_creation_order(self.loaded.state, self.task_ids))
        return self.loaded, self.commands, changed, self.old_state

    def freeze(self) -> None:
        """Take what this round dispatches (its sub-workflows, messages, changed tasks
        and the execution's state) before another round changes the state."""
        loaded = self.loaded
        st = loaded.state
        self.frozen = Round(loaded.children, loaded.post,
                            _in_creation_order(st, self.task_ids), st.state, st.state_info)
        loaded.children, loaded.post = [], []

    def rounds(self) -> list[Decided]:
        """This round and the rounds chained to it, in order."""
        out: list[Decided] = []
        decided: Decided | None = self
        while decided is not None:
            out.append(decided)
            decided = decided.chained
        return out


def meta_of(row: m.WorkflowExecution) -> ExecutionMeta:
    """The ExecutionMeta of a workflow execution row."""
    return ExecutionMeta(row.id, row.workflow_name, row.workflow_namespace, row.workflow_id,
                         row.parent_execution_id, row.task_execution_id,
                         row.root_execution_id, row.project_id, row.security)


# ---------------------------------------------------------------- loading

_LOAD_COLUMNS = ("id", "workflow_name", "workflow_namespace", "workflow_id",
                 "parent_execution_id", "task_execution_id", "root_execution_id",
                 "project_id", "security", "spec", "version", "engine_state", "state",
                 "state_info", "input", "params", "output")
_EXECUTIONS = m.EXECUTIONS
_BODIES = m.EXECUTION_BODIES
_LOAD_ROW = select(*(m.columns_of(m.WorkflowExecution)[name] for name in _LOAD_COLUMNS)
                   ).select_from(m.WorkflowExecution.__table__).where(
    _EXECUTIONS.c.id == bindparam("pk"))


def load_row(session: Session, ex_id: str) -> Any:
    """The columns of execution ``ex_id`` the engine loads (meta, spec, version and
    state), read with one prebuilt Core SELECT (no ORM object); None when absent.
    The row has the attributes :func:`meta_of` and :func:`load_state` read."""
    return session.connection().execute(_LOAD_ROW, {"pk": ex_id}).first()


_LOCK_ROW = select(_EXECUTIONS.c.id).where(_EXECUTIONS.c.id == bindparam("pk")).with_for_update()


def lock_execution_row(session: Session, ex_id: str) -> None:
    """Lock the row of execution ``ex_id`` until the transaction ends (``SELECT ... FOR
    UPDATE`` on PostgreSQL; SQLite's writers are serialised already). Another engine's
    compare-and-set on the row then waits for this transaction and sees the new version."""
    session.connection().execute(_LOCK_ROW, {"pk": ex_id})


def load_state(session: Session, row: m.WorkflowExecution) -> tuple[WorkflowState, set[str],
                                                                     set[str]]:
    """Rebuild the engine state of ``row`` (which must have been started)."""
    header = dict(row.engine_state or {})
    header.update(id=row.id, workflow_name=row.workflow_name, state=row.state,
                  state_info=row.state_info, input=row.input or {}, params=row.params or {},
                  output=row.output, root_execution_id=row.root_execution_id)
    if "env" not in header:  # the env is params.env, stored once with the params
        header["env"] = header["params"].get("env") or {}
    stored = session.connection().execute(_LOAD_CONTEXT, {"pk": row.id}).first()
    if stored is not None:  # else a row of an older version: its context in engine_state
        header["context"] = stored.context
    elif "context" not in header:  # none stored: the start's (see persist_children)
        header["context"] = bare_context(row.id)
    tasks, actions = [], []
    task_rows = api.task_executions_of(session, row.id)
    for t in task_rows:
        tasks.append(_task_dict(t))
        actions.extend((t.engine_state or {}).get("subworkflows", []))
    task_ids = {t.id for t in task_rows}
    action_rows = list(session.scalars(
        select(m.ActionExecution).where(m.ActionExecution.workflow_execution_id == row.id)
        .order_by(m.ActionExecution.created_at, m.ActionExecution.id)))
    for a in action_rows:
        actions.append(_action_dict(a))
    actions.sort(key=lambda a: (a.get("created_at") or 0.0))
    state = WorkflowState.from_parts(header, tasks, actions)
    if stored is not None or "context" not in (row.engine_state or {}):
        state.stored_context = state.context
    state.stored_params = state.params
    return state, task_ids, {a.id for a in action_rows}


def _task_dict(row: m.TaskExecution) -> dict[str, Any]:
    extra = dict(row.engine_state or {})
    extra.pop("subworkflows", None)
    data: dict[str, Any] = {
        "id": row.id, "name": row.name, "state": row.state, "state_info": row.state_info,
        "published": row.published or {}, "result": row.result,
        "error_handled": row.error_handled, "processed": row.processed,
        "runtime": row.runtime_context or {},
    }
    data.update(extra)
    return data


def _action_dict(row: m.ActionExecution) -> dict[str, Any]:
    rc = dict(row.runtime_context or {})
    output = row.output if isinstance(row.output, dict) else {}
    return {
        "id": row.id, "task_id": row.task_execution_id, "name": row.name, "state": row.state,
        "is_workflow": False, "index": rc.get("index", 0), "attempt": rc.get("attempt", 0),
        "input": row.input or {}, "result": output.get("result"),
        "state_info": row.state_info, "accepted": row.accepted,
        "created_at": rc.get("created_at", 0.0), "updated_at": rc.get("updated_at", 0.0),
    }


# ---------------------------------------------------------------- persisting


def _as_stored(value: Any, stored: Any) -> bool:
    """True when ``value`` (a dict the engine made from ``stored``, the one the start
    stored) would be stored as the same JSON text: the same keys in the same order, each
    value the very object stored (cheap whatever the size; False when unsure)."""
    if value is stored:
        return True
    if not isinstance(value, dict) or not isinstance(stored, dict) or len(value) != len(stored):
        return False
    return all(k1 == k2 and v1 is v2
               for (k1, v1), (k2, v2) in zip(value.items(), stored.items(), strict=True))


def started_values(decided: Decided) -> tuple[Any, Any] | None:
    """The input and params the start stored (those of the step's ``StartWorkflow``),
    or None when the step did not start the execution."""
    if not decided.started_now:
        return None
    for event in decided.events:
        if isinstance(event, StartWorkflow):
            return event.input, event.params
    return None, None


def header_values(state: WorkflowState, *, with_input: bool,
                  stored: tuple[Any, Any] | None = None) -> dict[str, Any]:
    """Column values of the execution row for ``state`` (the global context is stored
    apart, by :func:`persist_children`; the ``state`` column only when it differs from
    the one stored last, ``WorkflowState.stored_state``). ``with_input``: the step
    started the execution and stores its normalised input and params, unless they are
    those the start stored (``stored``: its input and params), which are not written
    again."""
    header = state.header_dict()
    engine_state = {k: v for k, v in header.items() if k not in _HEADER_COLUMNS}
    if state.env is state.params.get("env"):
        # the env is the one in params (not evaluated, not merged apart): not encoded
        # and sent again with every step's engine_state (1 MB env: 1 MB a step). SQLite
        # still rewrites the row's pages, params included, on every UPDATE of the row
        # (see test_tasks_after_a_large_input_do_not_rewrite_it_on_sqlite)
        del engine_state["env"]
    values: dict[str, Any] = {
        "state_info": cut_state_info(state.state_info),
        "output": state.output, "engine_state": engine_state, "updated_at": utcnow_precise(),
    }
    if with_input or state.state != state.stored_state:
        values["state"] = state.stored_state = state.state
    if with_input and not (stored and _as_stored(state.input, stored[0])):
        values["input"] = state.input
    if with_input and stored and _as_stored(state.params, stored[1]):
        state.stored_params = state.params
    elif with_input or state.params is not state.stored_params:
        values["params"] = state.params
        state.stored_params = state.params
    if state.state in TERMINAL_WF:
        values["finished_at"] = utcnow_precise()
    return values


def _published(loaded: Loaded, task: TaskState) -> Any:
    """The task's published values, or their JSON text when the limits check of this
    step serialised exactly this object already."""
    done = loaded.encoded.pop(task.id, None)
    return done[1] if done is not None and done[0] is task.published else task.published


def _task_row(loaded: Loaded, task: TaskState, subs: list[dict[str, Any]]) -> dict[str, Any]:
    """Every column of a new task row."""
    meta = loaded.meta
    return {
        "id": task.id, "name": task.name, "workflow_execution_id": meta.id,
        "workflow_name": meta.workflow_name, "workflow_namespace": meta.workflow_namespace,
        "workflow_id": meta.workflow_id, "project_id": meta.project_id,
        "type": "WORKFLOW" if task.type == "workflow" else "ACTION",
        "started_at": to_datetime(task.created_at), **_task_changes(loaded, task, subs),
    }


def _task_changes(loaded: Loaded, task: TaskState, subs: list[dict[str, Any]]
                  ) -> dict[str, Any]:
    """The columns of a task row a step may change (``id`` included): an update of a
    stored row writes only these, not the ones fixed at its insert (its name, type,
    start time and the execution's identity)."""
    extra = {k: getattr(task, k) for k in _TASK_ENGINE_FIELDS}
    if subs:
        extra["subworkflows"] = subs
    terminal = task.state in TERMINAL
    return {
        "id": task.id, "state": task.state, "state_info": cut_state_info(task.state_info),
        "published": _published(loaded, task),
        "result": task.result, "runtime_context": task.runtime_dict(), "engine_state": extra,
        "processed": task.processed, "has_next_tasks": bool(task.next_tasks),
        "error_handled": task.error_handled,
        "finished_at": to_datetime(task.updated_at) if terminal else None,
        "updated_at": utcnow_precise(),
    }


def _action_row(loaded: Loaded, action: ActionState) -> dict[str, Any]:
    """Every column of a new action row."""
    meta, st = loaded.meta, loaded.state
    task = st.tasks.get(action.task_id)
    return {
        "id": action.id, "name": action.name, "namespace": meta.workflow_namespace,
        "task_execution_id": action.task_id, "task_name": task.name if task else None,
        "workflow_execution_id": meta.id, "workflow_name": meta.workflow_name,
        "workflow_namespace": meta.workflow_namespace, "project_id": meta.project_id,
        "input": action.input, **_action_changes(action),
    }


def _action_changes(action: ActionState) -> dict[str, Any]:
    """The columns of an action row a step may change (``id`` included): not its input
    (an action's input is fixed when it is created; a large input is not encoded and
    written again when its result arrives), name or owners."""
    return {
        "id": action.id, "state": action.state, "state_info": cut_state_info(action.state_info),
        "accepted": action.accepted, "output": {"result": action.result},
        "runtime_context": {"index": action.index, "attempt": action.attempt,
                            "created_at": action.created_at, "updated_at": action.updated_at},
        "updated_at": utcnow_precise(),
    }


def bare_context(ex_id: str) -> dict[str, Any]:
    """The global context the start gives an execution without ``vars``."""
    return {"__execution": {"id": ex_id}}


def persist_children(session: Session | StepTx, loaded: Loaded, task_ids: set[str],
                     action_ids: set[str], *, started_now: bool = False) -> None:
    """Write the changed task and action rows of ``loaded`` (bulk insert / update), and
    its global context when the engine replaced it since it was last stored (a large
    context is written once, not with every step). The first step (``started_now``)
    writes no context row for a context that is only ``__execution`` (no vars): the
    load gives that context to an execution without a row (:func:`load_state`)."""
    st = loaded.state
    buffer = RowBuffer.of(session)
    if st.context is not st.stored_context:
        if not (started_now and st.context == bare_context(st.id)):
            buffer.contexts.append({"id": loaded.meta.id, "context": st.context})
        st.stored_context = st.context
    task_ids = set(task_ids)
    real_actions = []
    for aid in action_ids:
        action = st.actions.get(aid)
        if action is None:
            continue
        if action.is_workflow:
            task_ids.add(action.task_id)
        else:
            real_actions.append(action)
    new_tasks: list[dict[str, Any]] = []
    old_tasks: list[dict[str, Any]] = []
    for tid in task_ids:
        task = st.tasks.get(tid)
        if task is None:
            continue
        subs = [] if task.type != "workflow" else [
            st.actions[a].to_dict() for a in st.by_task.get(tid, ())
            if st.actions[a].is_workflow]
        if tid in loaded.task_ids:
            old_tasks.append(_task_changes(loaded, task, subs))
        else:
            new_tasks.append(_task_row(loaded, task, subs))
    if new_tasks:
        _stamp_in_order(new_tasks, st.tasks)
        buffer.new_tasks.extend(new_tasks)
        loaded.task_ids.update(r["id"] for r in new_tasks)
    buffer.old_tasks.extend(old_tasks)
    new_actions: list[dict[str, Any]] = []
    old_actions: list[dict[str, Any]] = []
    for action in real_actions:
        if action.id in loaded.action_ids:
            old_actions.append(_action_changes(action))
        else:
            new_actions.append(_action_row(loaded, action))
    if new_actions:
        _stamp_in_order(new_actions, st.actions)
        buffer.new_actions.extend(new_actions)
        loaded.action_ids.update(r["id"] for r in new_actions)
    buffer.old_actions.extend(old_actions)
    if not buffer.deferred:
        buffer.flush(session)


class StaleVersion(Exception):
    """The execution row changed under us (another engine wrote it)."""


_CONTEXTS = cast(Table, m.ExecutionContext.__table__)
_LOAD_CONTEXT = select(_CONTEXTS.c.context).where(_CONTEXTS.c.id == bindparam("pk"))


def _stamp_in_order(rows: list[dict[str, Any]], order: dict[str, Any]) -> None:
    """Give new rows distinct created_at values in the engine's creation order."""
    if len(rows) > 1:
        position = {key: i for i, key in enumerate(order)}
        rows.sort(key=lambda r: position.get(r["id"], 0))
    now = utcnow_precise()
    for i, row in enumerate(rows):
        row["created_at"] = now + _dt.timedelta(microseconds=i)
        # a row created already finished (an action run inside the step) was updated then
        row["updated_at"] = row["created_at"] if row.get("state") in TERMINAL else None


# ---------------------------------------------------------------- plain steps


def is_plain(decided: Decided) -> bool:
    """A step that writes only the header, task, action and context rows: no timer
    set, cancelled or fired, no sub-workflow started (those need the session path)."""
    if any(isinstance(e, TimerFired) for e in decided.events):
        return False
    return not any(isinstance(c, ScheduleTimer | StartSubWorkflow) or c.kind == "cancel_timer"
                   for c in decided.commands)


def write_plain_steps(sessions: Any, steps: list[Decided]) -> bool:
    """Write plain steps (:func:`is_plain`) in one transaction of prebuilt statements,
    without a ``Session``: each header by compare-and-set (first), then the changed
    rows. False (nothing written) when a step is not plain or the database is not one
    :mod:`wfaas.db.stepwrite` writes. Raises :class:`StaleVersion` when the execution
    of a single step changed meanwhile, :class:`StaleBatch` for several."""
    if not steps:
        return True
    engine = engine_for(sessions)
    if engine is None or not all(is_plain(d) for d in steps):
        return False
    with step_transaction(engine) as tx:
        rows = RowBuffer.defer(tx)
        for decided in steps:
            loaded = decided.loaded
            values = header_values(loaded.state, with_input=decided.started_now,
                                   stored=started_values(decided))
            rows.headers.append((loaded.meta.id, loaded.version, values))
            loaded.version += 1
            persist_children(tx, loaded, decided.task_ids, decided.action_ids,
                             started_now=decided.started_now)
        try:
            rows.flush(tx)
        except StaleBatch:
            if len(steps) == 1:
                raise StaleVersion(steps[0].loaded.meta.id) from None
            raise
    return True
