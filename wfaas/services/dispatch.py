"""What the engine shell does with commands: inside the step's transaction
(:func:`create_child`) and after its commit (:func:`dispatch`)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy.orm import Session

from wfaas import metrics
from wfaas.engine import (
    ActionCompleted,
    ActionPaused,
    ActionResumed,
    CancelChild,
    Command,
    Notify,
    PauseChild,
    PauseWorkflow,
    ResumeChild,
    ResumeWorkflow,
    RunAction,
    ScheduleTimer,
    StartSubWorkflow,
    StartWorkflow,
    StopWorkflow,
    WorkflowFinished,
    WorkflowPaused,
    WorkflowResumed,
    new_workflow_state,
)
from wfaas.exceptions import WfaasError
from wfaas.lang.specs import WorkflowSpec
from wfaas.services import limits
from wfaas.services.rowbuffer import RowBuffer, insert_executions
from wfaas.services.specs import spec_from_text
from wfaas.services.state_store import Decided, ExecutionMeta, Loaded
from wfaas.utils.states import STATE_INFO_CHARS, cut_state_info  # noqa: F401  (re-exported)

if TYPE_CHECKING:
    from wfaas.services.engine_service import EngineService

LOG = logging.getLogger(__name__)
#: the description Mistral gives every sub-workflow execution
SUB_WORKFLOW_DESCRIPTION = "sub-workflow execution"


@dataclass(frozen=True)
class _ChildDefinition:
    """What starting a sub-workflow needs of its definition (looked up once per step)."""

    id: str
    name: str
    namespace: str
    text: str
    spec: WorkflowSpec


def _child_definition(service: EngineService, session: Session, loaded: Loaded,
                      cmd: StartSubWorkflow, namespace: str) -> _ChildDefinition:
    """The definition ``cmd`` starts, memoised for the transaction: a with-items of 500
    sub-workflows looks its definition up (and parses it) once, not 500 times."""
    meta = loaded.meta
    memo = session.info.setdefault("wfaas_child_definitions", {})
    key = (cmd.workflow_name, namespace, meta.workflow_name, meta.project_id)
    found = memo.get(key)
    if found is None:
        try:
            wf = service.specs.subworkflow(session, cmd.workflow_name, namespace=namespace,
                                           parent_workflow=meta.workflow_name,
                                           project_id=meta.project_id)  # what it sees
            text = service.specs.execution_text(session, wf)
            found = _ChildDefinition(wf.id, wf.name, wf.namespace, text,
                                     spec_from_text(text, wf.name))
        except WfaasError as exc:
            found = exc
        memo[key] = found
    if isinstance(found, WfaasError):
        raise found
    return cast(_ChildDefinition, found)


def create_child(service: EngineService, session: Session, loaded: Loaded,
                 cmd: StartSubWorkflow) -> None:
    """Queue the row of a sub-workflow execution (started inline or after the commit) for
    :func:`insert_child_rows`, and cache its state so that its first step reads nothing
    back."""
    meta = loaded.meta
    namespace = str(cmd.params.get("namespace") or meta.workflow_namespace or "")
    try:
        wf = _child_definition(service, session, loaded, cmd, namespace)
    except WfaasError as exc:
        loaded.post.append((meta.id, ActionCompleted(
            action_id=cmd.execution_id, state="ERROR",
            result=f"Failed to start sub-workflow {cmd.workflow_name}: {exc}",
            state_info=str(exc))))
        return
    root = meta.root_execution_id or meta.id
    session.info.setdefault("wfaas_child_rows", []).append(dict(
        id=cmd.execution_id, workflow_name=wf.name, workflow_namespace=wf.namespace,
        workflow_id=wf.id, spec=wf.text, input=cmd.input, params=cmd.params,
        state="RUNNING", root_execution_id=root, parent_execution_id=meta.id,
        task_execution_id=cmd.task_id, project_id=meta.project_id, security=meta.security,
        description=SUB_WORKFLOW_DESCRIPTION))
    if loaded.depth is not None:
        limits.remember_depth(cmd.execution_id, loaded.depth + 1)
    metrics.execution_started()
    child_meta = ExecutionMeta(cmd.execution_id, wf.name, wf.namespace, wf.id, meta.id,
                               cmd.task_id, root, meta.project_id, meta.security)
    if _start_inline(service, session, loaded, child_meta, wf.spec, cmd):
        return
    service.prime(child_meta, wf.spec)
    loaded.post.append((cmd.execution_id, StartWorkflow(input=cmd.input, params=cmd.params)))


#: most sub-workflows started inside their parent's step (one transaction); the others
#: start with a step of their own (batched with other executions' steps). Each inline
#: start runs the child's first step while the transaction holds the write lock: 64 of
#: them held it for ~330 ms of CPU (a with-items of 500 sub-workflows), and were no
#: cheaper in all than starting them with steps of their own
INLINE_CHILDREN = 8
#: thread CPU seconds of inline starts after which a transaction inlines no more
#: (a child with a heavy first step: the others do not wait for the lock behind it)
INLINE_CPU_S = 0.005


def _start_inline(service: EngineService, session: Session, parent: Loaded,
                  meta: ExecutionMeta, spec: WorkflowSpec, cmd: StartSubWorkflow) -> bool:
    """Start a just-inserted sub-workflow within its parent's step: its first step
    (input, vars, first tasks) is decided and written in the parent's transaction and its
    commands are dispatched after the parent's commit. That saves the child a step of its
    own (a load, a transaction and a hand-over). Only children of the execution the step
    is about (not grandchildren: the step stays bounded), at most
    :data:`INLINE_CHILDREN` per transaction and until they took :data:`INLINE_CPU_S`
    of CPU in all. False: start it with an event instead."""
    inline: set[str] = session.info.setdefault("wfaas_inline_started", set())
    if parent.meta.id in inline or len(inline) >= INLINE_CHILDREN:
        return False
    began = session.info.setdefault("wfaas_inline_began", time.thread_time())
    if time.thread_time() - began > INLINE_CPU_S:
        return False
    st = new_workflow_state(meta.id, meta.workflow_name, service.clock())
    st.parent_task_id, st.root_execution_id = meta.task_execution_id, meta.root_execution_id
    child = Loaded(meta, spec, st, 0, started=False)
    child.depth = None if parent.depth is None else parent.depth + 1
    decided = service._decide(child, [StartWorkflow(input=cmd.input, params=cmd.params)],
                              service.clock())
    if decided is None:
        return False
    inline.add(meta.id)
    service._persist(session, decided, fresh=True)  # inserts its row with the step's values
    parent.children.append(decided)
    return True


#: the columns of a sub-workflow row started inline that its first step sets (its
#: header values; ``finished_at`` when it ended there)
_FIRST_STEP_DEFAULTS = {"finished_at": None}


def insert_child_rows(session: Session, first_step: tuple[str, dict[str, Any]] | None = None
                      ) -> None:
    """Insert the sub-workflow rows :func:`create_child` queued in ``session``, one
    statement per set of columns (a with-items of 200 sub-workflows: one executemany, not
    200 INSERTs; prebuilt SQL on SQLite and PostgreSQL). A duplicate id raises Conflict,
    as a single insert does.

    ``first_step``: (id, header values) of a sub-workflow started inline, whose row is
    written with the values of its first step and the version that step gives it (1):
    one INSERT, not an INSERT and the step's compare-and-set of the row. In a step
    whose rows are written at its end (:class:`RowBuffer`), it waits there: the rows
    of the sub-workflows a transaction starts inline are inserted with one statement."""
    rows = session.info.pop("wfaas_child_rows", None)
    if not rows:
        return
    if first_step is not None:
        buffer = RowBuffer.of(session)
        for i, row in enumerate(rows):
            if row["id"] == first_step[0]:
                rows[i] = _with_first_step(row, first_step[1])
                if buffer.deferred:
                    buffer.new_executions.append(rows.pop(i))
                break
    if rows:
        insert_executions(session, rows)


def _with_first_step(row: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A queued sub-workflow row with its first step's header ``values`` in it (the
    row that step's compare-and-set would have left: version 1). Its creation time is
    the step's time (not later than its ``updated_at``, as when the step updated it)."""
    return {**row, **_FIRST_STEP_DEFAULTS, **values, "version": 1,
            "created_at": values["updated_at"]}


def action_request(meta: ExecutionMeta, cmd: RunAction,
                   env: dict[str, Any] | None = None) -> dict[str, Any]:
    """The executor request of a RunAction command (plain data); ``env``: the
    execution's environment (for ``env()`` in an ad-hoc action's base-input)."""
    return {
        "action_id": cmd.action_id, "execution_id": meta.id, "task_id": cmd.task_id,
        "task_name": cmd.task_name, "action": cmd.action, "namespace": meta.workflow_namespace,
        "input": cmd.input, "timeout": cmd.timeout, "safe_rerun": cmd.safe_rerun,
        "target": cmd.target, "index": cmd.index, "rerun_no": cmd.rerun_no,
        "context": {
            "security": {"project_id": meta.project_id, **(meta.security or {})},
            "execution": {
                "workflow_execution_id": meta.id, "task_execution_id": cmd.task_id,
                "action_execution_id": cmd.action_id, "workflow_name": meta.workflow_name,
                "with_items_index": cmd.index, "task_rerun_no": cmd.rerun_no,
                "root_execution_id": meta.root_execution_id or meta.id,
                "task_name": cmd.task_name,
            },
        },
        # env() inside an ad-hoc action's base-input (std actions do not need it)
        **({"env": env} if env and not cmd.action.startswith("std.") else {}),
    }


def dispatch(service: EngineService, decided: Decided, commands: list[Command]) -> None:
    """Carry out the commands of a committed step (or of one round of a chained step,
    :mod:`wfaas.services.chain`), in order: those of the sub-workflows started within
    it first."""
    loaded = decided.loaded
    meta = loaded.meta
    if decided.frozen is not None:
        children, post = decided.frozen.children, decided.frozen.post
    else:
        children, loaded.children = loaded.children, []
        post, loaded.post = loaded.post, []
    for child in children:
        service._after_commit(child)
    for ex_id, event in post:
        service.send(ex_id, event)
    # consecutive action requests go out together (one broker confirm for a with-items)
    runs: list[tuple[dict[str, Any], str | None]] = []
    for cmd in commands:
        if isinstance(cmd, RunAction):
            runs.append((action_request(meta, cmd, loaded.state.env), cmd.target))
            continue
        if runs:
            service.transport.send_many_to_executor(runs)
            runs = []
        if isinstance(cmd, ScheduleTimer):
            service.wake_scheduler(cmd.due)
        elif isinstance(cmd, CancelChild):
            if cmd.is_workflow:
                service.send(cmd.child_id, StopWorkflow(state="CANCELLED", message=cmd.message))
        elif isinstance(cmd, PauseChild):
            service.send(cmd.child_id, PauseWorkflow())
        elif isinstance(cmd, ResumeChild):
            service.send(cmd.child_id, ResumeWorkflow(env=cmd.env))
        elif isinstance(cmd, (WorkflowFinished, WorkflowPaused, WorkflowResumed)):
            _to_parent(service, loaded, cmd)
        elif isinstance(cmd, Notify):
            service._emit("notify", {"execution_id": meta.id, "event": cmd.event,
                                     "task_id": cmd.task_id})
    if runs:
        service.transport.send_many_to_executor(runs)


def completion_event(child_id: str, cmd: WorkflowFinished) -> ActionCompleted:
    """What a sub-workflow that ended tells its parent. Its state_info is cut as
    Mistral stores every state_info (65,500 characters plus "..."): a parent's failure
    message quotes its failed child's, so a chain of failing sub-workflows grows it by
    this much per level at most instead of doubling it (a runaway recursion 10 levels
    deep: megabytes)."""
    return ActionCompleted(action_id=child_id, state=cmd.state, result=cmd.output,
                           state_info=cut_state_info(cmd.state_info))


def _to_parent(service: EngineService, loaded: Loaded, cmd: Command) -> None:
    parent = loaded.meta.parent_execution_id
    if not parent or not loaded.meta.task_execution_id:
        return
    child = loaded.meta.id
    if isinstance(cmd, WorkflowFinished):
        if not loaded.parent_told:  # else applied in the step that started it already
            service.send(parent, completion_event(child, cmd))
    elif isinstance(cmd, WorkflowPaused):
        service.send(parent, ActionPaused(action_id=child))
    else:
        service.send(parent, ActionResumed(action_id=child))
