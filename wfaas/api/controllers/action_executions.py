"""``/v2/action_executions``: run an action on its own, deliver async results, inspect."""

from __future__ import annotations

from typing import Any

from wfaas.api.context import ApiRequest, json_field, str_field, to_bool
from wfaas.api.controllers.common import (
    caller_security,
    fields_arg,
    find_one,
    list_answer,
    owned,
    row_dict,
)
from wfaas.api.errors import BadRequest
from wfaas.api.resources import ACTION_EXECUTION
from wfaas.api.routing import Param, route
from wfaas.db import api as db
from wfaas.db import models as m
from wfaas.exceptions import NotAllowed

FILTERS = ("name", "tags", "workflow_name", "task_name", "task_execution_id", "state",
           "state_info", "accepted", "input", "output", "params", "description", "project_id",
           "created_at", "updated_at")
STATES = ("SUCCESS", "ERROR", "CANCELLED", "PAUSED", "RUNNING")
TERMINAL = ("SUCCESS", "ERROR", "CANCELLED")


def not_found(identifier: str) -> str:
    """Mistral's message for a missing action execution."""
    return f"ActionExecution not found [id={identifier}]"


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
    is_sync = _is_sync(req, name, namespace, action_input)
    if params.get("run_sync") is True and not is_sync:
        raise BadRequest(f"Action '{name}' is asynchronous: it can not run with run_sync=true")
    if not is_sync or (save and params.get("run_sync") is not True):
        params["run_sync"] = False
    result = req.runtime.run_action(
        name, action_input, namespace=namespace, params=params,
        description=str_field(body, "description", default="") or "",
        **({"security": caller_security(req), "project_id": req.caller.project_id}
           if req.caller.auth_enabled else {}))
    if is_sync and not save and result.get("state") in TERMINAL:
        _forget(req, result["id"])
        return ACTION_EXECUTION.to_wire({**EPHEMERAL, "name": name, "state": result["state"],
                                         "input": result.get("input"),
                                         "output": result.get("output")}, "create")
    return _wire(result, "create")


EPHEMERAL: dict[str, Any] = {
    "id": None, "workflow_name": None, "workflow_namespace": "", "task_execution_id": None,
    "state_info": None, "tags": None, "description": None, "project_id": None,
    "accepted": None, "created_at": None, "updated_at": None}


def _is_sync(req: ApiRequest, name: str, namespace: str, action_input: dict[str, Any]) -> bool:
    """Whether the action answers at once (async ones are completed later by PUT)."""
    descriptor = req.runtime.provider.find(name, namespace)
    if descriptor is None:
        # Mistral answers 400 here, without the namespace.
        raise BadRequest(f"Failed to find action [action_name={name}]")
    descriptor.check_parameters(action_input)
    try:
        return bool(descriptor.instantiate(dict(action_input)).is_sync())
    except Exception:  # noqa: BLE001 - the runtime reports instantiation errors
        return True


def _forget(req: ApiRequest, action_execution_id: str) -> None:
    """Drop the row of a sync run nobody asked to save (Mistral keeps none)."""
    with req.runtime.session() as session:
        row = session.get(m.ActionExecution, action_execution_id)
        if row is not None:
            db.delete_row(session, row)


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
    with req.runtime.session() as session:
        row = find_one(session, req, m.ActionExecution, id, by_name=False, shared=False,
                       not_found=lambda: not_found(id))
        if not owned(req, row):
            raise NotAllowed(f"Can not modify an action execution of another project [id={id}]")
    result = req.runtime.complete_action(id, state, output)
    return _wire(result)


@route("GET", "/v2/action_executions", summary="List action executions",
       response="ActionExecutions",
       query=("marker", Param("limit", "integer"), "sort_keys", "sort_dirs", "fields",
              Param("include_output", "boolean"), *FILTERS))
def list_action_executions(req: ApiRequest) -> dict[str, Any]:
    """Paginated, filtered action executions; ``include_output=true`` adds ``output``."""
    view = "get" if req.bool_arg("include_output") else "list"
    body = list_answer(req, ACTION_EXECUTION, m.ActionExecution, filterable=FILTERS,
                       shared=False, extra_args=("include_output",), view=view)
    for item in body["action_executions"]:
        if "workflow_namespace" in item and item["workflow_namespace"] is None:
            item["workflow_namespace"] = ""
    return body


@route("GET", "/v2/action_executions/{id}", summary="Get an action execution",
       response="ActionExecution", query=("fields",))
def get_action_execution(req: ApiRequest, id: str) -> dict[str, Any]:
    """One action execution with its output."""
    fields = fields_arg(req, ACTION_EXECUTION)
    with req.runtime.session() as session:
        row = row_dict(find_one(session, req, m.ActionExecution, id, by_name=False,
                                shared=False, not_found=lambda: not_found(id)))
    return _wire(row, "get", fields)


@route("DELETE", "/v2/action_executions/{id}", summary="Delete a completed ad-hoc action run",
       status=204)
def delete_action_execution(req: ApiRequest, id: str) -> None:
    """Allowed with ``[api] allow_action_execution_deletion``, for completed runs outside
    tasks only (403 otherwise)."""
    if not req.conf.api.allow_action_execution_deletion:
        raise NotAllowed("Action execution deletion is not allowed "
                         "([api] allow_action_execution_deletion)")
    with req.runtime.session() as session:
        row = find_one(session, req, m.ActionExecution, id, by_name=False, shared=False,
                       not_found=lambda: not_found(id))
        if row.task_execution_id:
            raise NotAllowed(f"Only ad-hoc action executions can be deleted; this one belongs "
                             f"to task {row.task_execution_id}")
        if row.state not in TERMINAL:
            raise NotAllowed(f"Only completed action executions can be deleted [id={id}, "
                             f"state={row.state}]")
        if not owned(req, row):
            raise NotAllowed(f"Can not delete an action execution of another project [id={id}]")
        db.delete_row(session, row)
