"""``/v2/action_executions``: run an action on its own, deliver async results, inspect."""

from __future__ import annotations

from typing import Any

from wfaas.api.context import ApiRequest, json_field, str_field, to_bool
from wfaas.api.controllers.common import fields_arg, hidden_columns, list_answer, list_args
from wfaas.api.errors import BadRequest
from wfaas.api.resources import ACTION_EXECUTION
from wfaas.api.routing import Param, route
from wfaas.utils.states import WORKFLOW_TERMINAL as TERMINAL

FILTERS = ("name", "tags", "workflow_name", "task_name", "task_execution_id", "state",
           "state_info", "accepted", "input", "output", "params", "description", "project_id",
           "created_at", "updated_at")
STATES = ("SUCCESS", "ERROR", "CANCELLED", "PAUSED", "RUNNING")


def _wire(row: dict[str, Any], view: str = "get", fields: list[str] | None = None
          ) -> dict[str, Any]:
    data = dict(row)
    data.setdefault("workflow_namespace", "")
    if data.get("workflow_namespace") is None:
        data["workflow_namespace"] = ""
    if "state" in data and "accepted" in data:
        # Mistral's meaning: the engine has accepted the action's result.
        data["accepted"] = data["state"] in TERMINAL
    return ACTION_EXECUTION.to_wire(data, view, fields)


@route("POST", "/v2/action_executions", summary="Run an action outside any workflow",
       status=201, body="json", body_schema="ActionExecutionIn", response="ActionExecution")
def run_action(req: ApiRequest) -> dict[str, Any]:
    """Sync and not saved: the answer carries the output and no id. Async or
    ``params.save_result``: a stored RUNNING action execution (async ones are
    completed by ``PUT``). A failing action is still 201, its error in ``output``."""
    body = req.json_body()
    name = str_field(body, "name", required=True) or ""
    namespace = str_field(body, "workflow_namespace", default="") or ""
    action_input = json_field(body, "input", default={})
    params = json_field(body, "params", default={})
    for flag in ("save_result", "run_sync"):
        if flag in params:
            params[flag] = to_bool(params[flag], f"params.{flag}")
    save = bool(params.get("save_result"))
    service = req.services.action_executions
    is_sync = service.is_sync(req.ctx, name, namespace, action_input)
    if params.get("run_sync") is True and not is_sync:
        raise BadRequest(f"Action '{name}' is asynchronous: it can not run with run_sync=true")
    if not is_sync or (save and params.get("run_sync") is not True):
        params["run_sync"] = False
    result = service.run(req.ctx, name, action_input, namespace=namespace, params=params,
                         description=str_field(body, "description", default="") or "")
    if is_sync and not save and result.get("state") in TERMINAL:
        service.forget(result["id"])
        return ACTION_EXECUTION.to_wire({**EPHEMERAL, "name": name, "state": result["state"],
                                         "input": result.get("input"),
                                         "output": result.get("output")}, "create")
    return _wire(result, "create")


EPHEMERAL: dict[str, Any] = {
    "id": None, "workflow_name": None, "workflow_namespace": "", "task_execution_id": None,
    "state_info": None, "tags": None, "description": None, "project_id": None,
    "accepted": None, "created_at": None, "updated_at": None}


@route("PUT", "/v2/action_executions/{id}", summary="Deliver the result of an async action",
       body="json", body_schema="ActionExecutionUpdate", response="ActionExecution")
def complete_action(req: ApiRequest, id: str) -> dict[str, Any]:
    """``state`` SUCCESS (``output`` = data), ERROR (``output`` = error), CANCELLED,
    PAUSED or RUNNING."""
    body = req.json_body()
    state = str_field(body, "state", required=True) or ""
    if state not in STATES:
        raise BadRequest(f"Invalid state '{state}'; use one of {', '.join(STATES)}")
    output: Any = body.get("output")
    if isinstance(output, str):
        try:
            output = json_field(body, "output", expect=object)
        except BadRequest:
            pass
    if state == "ERROR" and output is None:
        output = "Unknown error"
    return _wire(req.services.action_executions.complete(req.ctx, id, state, output))


@route("GET", "/v2/action_executions", summary="List action executions",
       response="ActionExecutions",
       query=("marker", Param("limit", "integer"), "sort_keys", "sort_dirs", "fields",
              Param("include_output", "boolean"), *FILTERS))
def list_action_executions(req: ApiRequest) -> dict[str, Any]:
    """Paginated, filtered action executions; ``include_output=true`` adds ``output``."""
    view = "get" if req.bool_arg("include_output") else "list"
    fields = fields_arg(req, ACTION_EXECUTION)
    args = list_args(req, ("include_output",),
                     unread=hidden_columns(ACTION_EXECUTION, view, fields))
    page = req.services.action_executions.list_page(req.ctx, args, FILTERS)
    return empty_namespaces(list_answer(req, ACTION_EXECUTION, page, fields=fields,
                                        extra_args=("include_output",), view=view))


def empty_namespaces(body: dict[str, Any]) -> dict[str, Any]:
    """Mistral shows '' (not null) as the workflow namespace of listed action executions."""
    for item in body["action_executions"]:
        if "workflow_namespace" in item and item["workflow_namespace"] is None:
            item["workflow_namespace"] = ""
    return body


@route("GET", "/v2/action_executions/{id}", summary="Get an action execution",
       response="ActionExecution", query=("fields",))
def get_action_execution(req: ApiRequest, id: str) -> dict[str, Any]:
    """One action execution with its output."""
    fields = fields_arg(req, ACTION_EXECUTION)
    return _wire(req.services.action_executions.get(req.ctx, id), "get", fields)


@route("DELETE", "/v2/action_executions/{id}", summary="Delete a completed ad-hoc action run",
       status=204)
def delete_action_execution(req: ApiRequest, id: str) -> None:
    """Allowed with ``[api] allow_action_execution_deletion``, for completed runs outside
    tasks only (403 otherwise)."""
    req.services.action_executions.delete(req.ctx, id)
