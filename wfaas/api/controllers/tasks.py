"""``/v2/tasks``: inspect task executions, rerun or skip failed ones."""

from __future__ import annotations

from typing import Any

from wfaas.api.context import ApiRequest, json_field, str_field, to_bool
from wfaas.api.controllers.action_executions import FILTERS as ACTION_FILTERS
from wfaas.api.controllers.action_executions import empty_namespaces
from wfaas.api.controllers.common import fields_arg, hidden_columns, list_answer, list_args
from wfaas.api.controllers.executions import TASK_FILTERS, execution_wire
from wfaas.api.resources import ACTION_EXECUTION, EXECUTION, TASK
from wfaas.api.routing import Param, route

LIST_QUERY = ("marker", Param("limit", "integer"), "sort_keys", "sort_dirs", "fields",
              *TASK_FILTERS)


@route("GET", "/v2/tasks", summary="List task executions", response="Tasks", query=LIST_QUERY)
def list_tasks(req: ApiRequest) -> dict[str, Any]:
    """Paginated, filtered task executions."""
    fields = fields_arg(req, TASK)
    args = list_args(req, unread=hidden_columns(TASK, "list", fields))
    return list_answer(req, TASK, req.services.tasks.list_page(req.ctx, args, TASK_FILTERS),
                       fields=fields)


@route("GET", "/v2/tasks/{id}", summary="Get a task execution", response="Task",
       query=("fields",))
def get_task(req: ApiRequest, id: str) -> dict[str, Any]:
    """One task execution, with its ``result``."""
    fields = fields_arg(req, TASK)
    return TASK.to_wire(req.services.tasks.get(req.ctx, id), "get", fields)


@route("PUT", "/v2/tasks/{id}", summary="Rerun (state RUNNING) or skip (state SKIPPED) a "
       "failed task", body="json", body_schema="TaskUpdate", response="Task")
def update_task(req: ApiRequest, id: str) -> dict[str, Any]:
    """``{"state": "RUNNING", "reset": bool, "env": {...}}`` reruns a task in ERROR;
    ``{"state": "SKIPPED"}`` skips it. ``name``/``workflow_name`` are cross-checked."""
    body = req.json_body()
    state = str_field(body, "state", required=True) or ""
    checks = {key: str_field(body, key) for key in ("name", "workflow_name")}
    reset = to_bool(body.get("reset", True), "reset") if state == "RUNNING" else True
    env = json_field(body, "env", default=None) if state == "RUNNING" else None
    result = req.services.tasks.rerun_or_skip(req.ctx, id, state, checks, reset, env)
    return TASK.to_wire(result)


@route("GET", "/v2/tasks/{id}/action_executions", summary="Action executions of a task",
       response="ActionExecutions",
       query=("marker", Param("limit", "integer"), "sort_keys", "sort_dirs", "fields",
              Param("include_output", "boolean"), *ACTION_FILTERS))
def task_action_executions(req: ApiRequest, id: str) -> dict[str, Any]:
    """The action executions of the task (one per with-items item and retry), with the
    paging and filters of ``/v2/action_executions``."""
    view = "get" if req.bool_arg("include_output") else "list"
    fields = fields_arg(req, ACTION_EXECUTION)
    args = list_args(req, ("include_output",),
                     unread=hidden_columns(ACTION_EXECUTION, view, fields))
    page = req.services.tasks.action_executions(req.ctx, id, args, ACTION_FILTERS)
    body = list_answer(req, ACTION_EXECUTION, page, extra_args=("include_output",), view=view,
                       collection_path=f"tasks/{id}/action_executions", fields=fields)
    return empty_namespaces(body)


@route("GET", "/v2/tasks/{id}/action_executions/{action_execution_id}",
       summary="One action execution of a task", response="ActionExecution")
def task_action_execution(req: ApiRequest, id: str, action_execution_id: str) -> dict[str, Any]:
    """One action execution, which must belong to the task."""
    return ACTION_EXECUTION.to_wire(req.services.tasks.action_execution(req.ctx, id,
                                                                        action_execution_id))


@route("GET", "/v2/tasks/{id}/workflow_executions", summary="Sub-workflow executions of a task",
       response="Executions")
def task_workflow_executions(req: ApiRequest, id: str) -> dict[str, Any]:
    """The executions a workflow task started."""
    rows = req.services.tasks.workflow_executions(req.ctx, id)
    return {EXECUTION.collection: [execution_wire(d, "list") for d in rows]}
