"""``/v2/tasks``: inspect task executions, rerun or skip failed ones."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from wfaas.api.context import ApiRequest, json_field, str_field, to_bool
from wfaas.api.controllers.action_executions import FILTERS as ACTION_FILTERS
from wfaas.api.controllers.common import fields_arg, find_one, list_answer, owned, row_dict
from wfaas.api.controllers.executions import TASK_FILTERS, execution_wire
from wfaas.api.errors import BadRequest
from wfaas.api.resources import ACTION_EXECUTION, EXECUTION, TASK
from wfaas.api.routing import Param, route
from wfaas.db import models as m
from wfaas.exceptions import ClientError, NotAllowed, NotFound

LIST_QUERY = ("marker", Param("limit", "integer"), "sort_keys", "sort_dirs", "fields",
              *TASK_FILTERS)


def not_found(identifier: str) -> str:
    """Mistral's message for a missing task."""
    return f"TaskExecution not found [id={identifier}]"


def load_task(req: ApiRequest, session: Any, identifier: str) -> Any:
    """A visible task row or 404."""
    return find_one(session, req, m.TaskExecution, identifier, by_name=False, shared=False,
                    not_found=lambda: not_found(identifier))


@route("GET", "/v2/tasks", summary="List task executions", response="Tasks", query=LIST_QUERY)
def list_tasks(req: ApiRequest) -> dict[str, Any]:
    """Paginated, filtered task executions."""
    return list_answer(req, TASK, m.TaskExecution, filterable=TASK_FILTERS, shared=False)


@route("GET", "/v2/tasks/{id}", summary="Get a task execution", response="Task",
       query=("fields",))
def get_task(req: ApiRequest, id: str) -> dict[str, Any]:
    """One task execution, with its ``result``."""
    fields = fields_arg(req, TASK)
    with req.runtime.session() as session:
        row = row_dict(load_task(req, session, id))
    return TASK.to_wire(row, "get", fields)


@route("PUT", "/v2/tasks/{id}", summary="Rerun (state RUNNING) or skip (state SKIPPED) a "
       "failed task", body="json", body_schema="TaskUpdate", response="Task")
def update_task(req: ApiRequest, id: str) -> dict[str, Any]:
    """``{"state": "RUNNING", "reset": bool, "env": {...}}`` reruns a task in ERROR;
    ``{"state": "SKIPPED"}`` skips it. ``name``/``workflow_name`` are cross-checked."""
    body = req.json_body()
    state = str_field(body, "state", required=True)
    with req.runtime.session() as session:
        row = load_task(req, session, id)
        if not owned(req, row):
            raise NotAllowed(f"Can not modify a task of another project [id={id}]")
        for key in ("name", "workflow_name"):
            given = str_field(body, key)
            if given and given != getattr(row, key):
                raise BadRequest(f"Task {key} does not match [given={given}, "
                                 f"actual={getattr(row, key)}]")
        current = row.state
    if current != "ERROR":
        raise ClientError(f"Only tasks in ERROR can be rerun or skipped [id={id}, "
                          f"state={current}]")
    if state == "RUNNING":
        reset = to_bool(body.get("reset", True), "reset")
        env = json_field(body, "env", default=None)
        result = req.runtime.rerun_task(id, reset=reset, env=env)
    elif state == "SKIPPED":
        result = req.runtime.skip_task(id)
    else:
        raise BadRequest(f"Invalid task state '{state}'; use RUNNING (rerun) or SKIPPED")
    return TASK.to_wire(result)


@route("GET", "/v2/tasks/{id}/action_executions", summary="Action executions of a task",
       response="ActionExecutions",
       query=("marker", Param("limit", "integer"), "sort_keys", "sort_dirs", "fields",
              Param("include_output", "boolean"), *ACTION_FILTERS))
def task_action_executions(req: ApiRequest, id: str) -> dict[str, Any]:
    """The action executions of the task (one per with-items item and retry), with the
    paging and filters of ``/v2/action_executions``."""
    view = "get" if req.bool_arg("include_output") else "list"
    with req.runtime.session() as session:
        load_task(req, session, id)
    body = list_answer(req, ACTION_EXECUTION, m.ActionExecution, filterable=ACTION_FILTERS,
                       shared=False, extra_args=("include_output",), view=view,
                       conditions=(m.ActionExecution.task_execution_id == id,),
                       collection_path=f"tasks/{id}/action_executions")
    for item in body["action_executions"]:
        if "workflow_namespace" in item and item["workflow_namespace"] is None:
            item["workflow_namespace"] = ""
    return body


@route("GET", "/v2/tasks/{id}/action_executions/{action_execution_id}",
       summary="One action execution of a task", response="ActionExecution")
def task_action_execution(req: ApiRequest, id: str, action_execution_id: str) -> dict[str, Any]:
    """One action execution, which must belong to the task."""
    with req.runtime.session() as session:
        load_task(req, session, id)
        row = find_one(session, req, m.ActionExecution, action_execution_id, by_name=False,
                       shared=False, not_found=lambda: f"ActionExecution not found "
                       f"[id={action_execution_id}, task_execution_id={id}]")
        if row.task_execution_id != id:
            raise NotFound(f"ActionExecution not found [id={action_execution_id}, "
                           f"task_execution_id={id}]")
        data = row_dict(row)
    return ACTION_EXECUTION.to_wire(data)


@route("GET", "/v2/tasks/{id}/workflow_executions", summary="Sub-workflow executions of a task",
       response="Executions")
def task_workflow_executions(req: ApiRequest, id: str) -> dict[str, Any]:
    """The executions a workflow task started."""
    with req.runtime.session() as session:
        load_task(req, session, id)
        rows = session.scalars(select(m.WorkflowExecution).where(
            m.WorkflowExecution.task_execution_id == id).order_by(
            m.WorkflowExecution.created_at)).all()
        dicts = [row_dict(r) for r in rows]
    return {EXECUTION.collection: [execution_wire(d, "list") for d in dicts]}
