"""``/v2/executions``: start, inspect, pause/resume/stop, update and delete executions."""

from __future__ import annotations

from typing import Any

from wfaas.api.context import ApiRequest, json_field, str_field
from wfaas.api.controllers.common import fields_arg, hidden_columns, list_answer, list_args
from wfaas.api.errors import BadRequest
from wfaas.api.resources import EXECUTION, TASK, encode
from wfaas.api.routing import Param, route
from wfaas.services.api.executions import StartRequest
from wfaas.utils import inputcheck

#: the longest ``GET /v2/executions/<id>?wait=`` holds a request (seconds)
MAX_WAIT = 300.0
FILTERS = ("workflow_name", "workflow_id", "workflow_namespace", "description", "tags",
           "params", "task_execution_id", "root_execution_id", "source_execution_id", "state",
           "state_info", "input", "output", "project_id", "created_at", "updated_at")
#: JSON columns a list answer only serializes (see wfaas.api.resources.wire_from_stored)
RAW_JSON = ("params", "input", "output")
LIST_QUERY = ("marker", Param("limit", "integer"), "sort_keys", "sort_dirs", "fields",
              Param("include_output", "boolean"), Param("all_projects", "boolean"),
              Param("nulls", description="Comma list of columns that must be null"), *FILTERS)
TASK_FILTERS = ("name", "workflow_name", "workflow_id", "workflow_execution_id", "tags",
                "state", "state_info", "result", "published", "processed", "type",
                "project_id", "created_at", "updated_at")


def _prepared(row: dict[str, Any], view: str) -> dict[str, Any]:
    data = dict(row)
    if data.get("root_execution_id") == data.get("id"):
        data["root_execution_id"] = None  # Mistral: null for a top-level execution
    if data.get("updated_at") is None:
        data["updated_at"] = data.get("created_at")
    if data.get("published_global") is None:
        data["published_global"] = {}
    if data.get("output") is None and view != "list":
        data["output"] = {}
    return data


def execution_wire(row: dict[str, Any], view: str = "get",
                   fields: list[str] | None = None) -> dict[str, Any]:
    """An execution on the wire (``published_global`` defaults to ``{}``)."""
    return EXECUTION.to_wire(_prepared(row, view), view, fields)


def _list_overrides(row: dict[str, Any]) -> dict[str, Any]:
    # what _prepared changes in the list view, without copying the row
    updated = row.get("updated_at")
    return {"root_execution_id": None if row.get("root_execution_id") == row.get("id")
            else row.get("root_execution_id"),
            "updated_at": encode("time", row.get("created_at") if updated is None
                                 else updated)}


@route("POST", "/v2/executions", summary="Start a workflow execution", status=201,
       body="json", body_schema="ExecutionIn", response="Execution")
def create_execution(req: ApiRequest) -> dict[str, Any]:
    """Start a workflow; a client ``id`` that exists returns that execution (idempotent)."""
    body = req.json_body()
    client_id = str_field(body, "id")
    if client_id:
        inputcheck.check_uuid(client_id, "id")
    params = json_field(body, "params", default=None)
    start = StartRequest(
        workflow_id=str_field(body, "workflow_id"),
        workflow_name=str_field(body, "workflow_name"),
        namespace=str_field(body, "workflow_namespace"),
        input=json_field(body, "input", default=None), params=params,
        description=str_field(body, "description", default="") or "",
        execution_id=str_field(body, "id") or None,
        source_execution_id=str_field(body, "source_execution_id") or None)
    return execution_wire(req.services.executions.start(req.ctx, start), "create")


@route("GET", "/v2/executions", summary="List executions", response="Executions",
       query=LIST_QUERY)
def list_executions(req: ApiRequest) -> dict[str, Any]:
    """Paginated, filtered executions; ``include_output=true`` adds ``output``."""
    include_output = req.bool_arg("include_output")
    nulls = [n.strip() for n in (req.arg("nulls") or "").split(",") if n.strip()]
    fields = fields_arg(req, EXECUTION)
    extra = ("include_output", "all_projects", "nulls")
    unread = hidden_columns(EXECUTION, "list", fields, ("output",) if include_output else ())
    args = list_args(req, extra, unread=unread)
    args.raw_json = RAW_JSON  # only serialized: read as stored, re-spaced for the wire
    page = req.services.executions.list_page(req.ctx, args, FILTERS, nulls)
    body = list_answer(req, EXECUTION, page, extra_args=extra, view="list",
                       overrides=_list_overrides, fields=fields)
    if include_output:
        outputs = {row["id"]: row.get("output") for row in page.rows}
        for item in body["executions"]:
            item["output"] = encode("json", outputs.get(item["id"]) or {})
    return body


@route("GET", "/v2/executions/{id}", summary="Get an execution", response="Execution",
       query=("fields", Param("wait", "number", "Long polling (wfaas): answer as soon as the "
                              f"execution is finished, or after this many seconds (at most "
                              f"{MAX_WAIT:g})")))
def get_execution(req: ApiRequest, id: str) -> dict[str, Any]:
    """One execution, with ``output`` and ``published_global``; ``?wait=S`` holds the
    request until the execution is finished or S seconds have passed."""
    fields = fields_arg(req, EXECUTION)
    row = req.services.executions.get(req.ctx, id, wait_arg(req))
    return execution_wire(row, "get", fields)


def wait_arg(req: ApiRequest) -> float:
    """``?wait=`` seconds (0 when absent); not a number or negative -> 400."""
    value = req.arg("wait")
    if value is None or value == "":
        return 0.0
    try:
        wait = float(value)
    except ValueError:
        raise BadRequest(f"Invalid value for 'wait': {value!r} is not a number") from None
    if not wait >= 0:  # also rejects nan
        raise BadRequest(f"Invalid value for 'wait': {value!r} must be 0 or more seconds")
    return min(wait, MAX_WAIT)


@route("PUT", "/v2/executions/{id}", summary="Pause, resume, stop or update an execution",
       body="json", body_schema="ExecutionUpdate", response="Execution")
def update_execution(req: ApiRequest, id: str) -> dict[str, Any]:
    """One of: ``state`` (PAUSED, RUNNING, SUCCESS, ERROR, CANCELLED), ``description``,
    ``params.env`` (only while IDLE, PAUSED or ERROR)."""
    body = req.json_body()
    state = str_field(body, "state")
    description = str_field(body, "description")
    params = json_field(body, "params", default=None)
    env = (params or {}).get("env")
    if env is not None and not isinstance(env, dict):
        raise BadRequest("Field 'params.env' must be a JSON object")
    if state is None and description is None and env is None:
        raise BadRequest("Nothing to update: give 'state', 'description' or 'params.env'")
    if state is not None and description is not None:
        raise BadRequest("Only one of 'state' and 'description' can be updated at a time")
    service = req.services.executions
    if state is not None:
        return execution_wire(service.change_state(req.ctx, id, state,
                                                   str_field(body, "state_info"), env))
    return execution_wire(service.update(req.ctx, id, description, env))


@route("DELETE", "/v2/executions/{id}", summary="Delete an execution and its children",
       status=204, query=(Param("force", "boolean"),))
def delete_execution(req: ApiRequest, id: str) -> None:
    """Delete a finished execution (any state with ``force=true``)."""
    req.services.executions.delete(req.ctx, id, req.bool_arg("force"))


@route("GET", "/v2/executions/{id}/tasks", summary="List the tasks of an execution",
       response="Tasks", query=("marker", Param("limit", "integer"), "sort_keys", "sort_dirs",
                                "fields", *TASK_FILTERS))
def execution_tasks(req: ApiRequest, id: str) -> dict[str, Any]:
    """The task executions of one execution (same filters as ``/v2/tasks``)."""
    fields = fields_arg(req, TASK)
    page = req.services.executions.tasks(
        req.ctx, id, list_args(req, unread=hidden_columns(TASK, "list", fields)), TASK_FILTERS)
    return list_answer(req, TASK, page, collection_path=f"executions/{id}/tasks", fields=fields)
