"""What the engine shell does with commands: inside the step's transaction
(:func:`create_child`) and after its commit (:func:`dispatch`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from wfaas import metrics
from wfaas.db import api
from wfaas.db import models as m
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
)
from wfaas.exceptions import WfaasError
from wfaas.services.state_store import ExecutionMeta, Loaded

if TYPE_CHECKING:
    from wfaas.services.engine_service import EngineService

LOG = logging.getLogger(__name__)


def create_child(service: EngineService, session: Session, loaded: Loaded,
                 cmd: StartSubWorkflow) -> None:
    """Insert the row of a sub-workflow execution (started after the commit)."""
    meta = loaded.meta
    namespace = str(cmd.params.get("namespace") or meta.workflow_namespace or "")
    try:
        wf = service.specs.subworkflow(session, cmd.workflow_name, namespace=namespace,
                                       parent_workflow=meta.workflow_name,
                                       project_id=meta.project_id)  # what its project sees
        text = service.specs.execution_text(session, wf)
    except WfaasError as exc:
        loaded.post.append((meta.id, ActionCompleted(
            action_id=cmd.execution_id, state="ERROR",
            result=f"Failed to start sub-workflow {cmd.workflow_name}: {exc}",
            state_info=str(exc))))
        return
    api.create(session, m.WorkflowExecution, id=cmd.execution_id, workflow_name=wf.name,
               workflow_namespace=wf.namespace, workflow_id=wf.id, spec=text,
               input=cmd.input, params=cmd.params, state="RUNNING",
               root_execution_id=meta.root_execution_id or meta.id,
               parent_execution_id=meta.id, task_execution_id=cmd.task_id,
               project_id=meta.project_id, security=meta.security)
    loaded.post.append((cmd.execution_id, StartWorkflow(input=cmd.input, params=cmd.params)))
    metrics.execution_started()


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


def dispatch(service: EngineService, loaded: Loaded, commands: list[Command]) -> None:
    """Carry out the commands of a committed step, in order."""
    meta = loaded.meta
    post, loaded.post = loaded.post, []
    for ex_id, event in post:
        service.send(ex_id, event)
    for cmd in commands:
        if isinstance(cmd, RunAction):
            service.transport.send_to_executor(
                action_request(meta, cmd, loaded.state.env), cmd.target)
        elif isinstance(cmd, ScheduleTimer):
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


def _to_parent(service: EngineService, loaded: Loaded, cmd: Command) -> None:
    parent = loaded.meta.parent_execution_id
    if not parent or not loaded.meta.task_execution_id:
        return
    child = loaded.meta.id
    if isinstance(cmd, WorkflowFinished):
        service.send(parent, ActionCompleted(action_id=child, state=cmd.state,
                                             result=cmd.output, state_info=cmd.state_info))
    elif isinstance(cmd, WorkflowPaused):
        service.send(parent, ActionPaused(action_id=child))
    else:
        service.send(parent, ActionResumed(action_id=child))
