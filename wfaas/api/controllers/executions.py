"""``/v2/executions``: start, inspect, pause/resume/stop, update and delete executions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from wfaas.api.context import ApiRequest, json_field, str_field
from wfaas.api.controllers.common import (
    caller_security,
    fields_arg,
    find_one,
    list_answer,
    owned,
    row_dict,
    visible_project,
)
from wfaas.api.errors import BadRequest
from wfaas.api.resources import EXECUTION, TASK, encode
from wfaas.api.routing import Param, route
from wfaas.db import api as db
from wfaas.db import models as m
from wfaas.db.session import read_connection
from wfaas.db.types import utcnow
from wfaas.engine.states import WORKFLOW_TERMINAL as TERMINAL
from wfaas.exceptions import NotAllowed, NotFound
from wfaas.utils import inputcheck

#: the longest ``GET /v2/executions/<id>?wait=`` holds a request (seconds)
MAX_WAIT = 300.0
#: what a GET reads: every column but the definition text and the engine's own state,
#: which grow with the workflow and are never on the wire (polling a 10k-task execution
#: must not cost more than polling a small one), and the credentials
WIRE_COLUMNS = tuple(c for c in m.WorkflowExecution.__table__.columns
                     if c.key not in ("spec", "engine_state", "security"))
_EXECUTIONS = m.WorkflowExecution.__table__
#: the polled GET, prebuilt: any project (auth off, admin) or the caller's own
_GET_ANY = select(*WIRE_COLUMNS).where(_EXECUTIONS.c.id == bindparam("pk"))
_GET_OWN = _GET_ANY.where(_EXECUTIONS.c.project_id == bindparam("project"))
FILTERS = ("workflow_name", "workflow_id", "workflow_namespace", "description", "tags",
           "params", "task_execution_id", "root_execution_id", "source_execution_id", "state",
           "state_info", "input", "output", "project_id", "created_at", "updated_at")
LIST_QUERY = ("marker", Param("limit", "integer"), "sort_keys", "sort_dirs", "fields",
              Param("include_output", "boolean"), Param("all_projects", "boolean"),
              Param("nulls", description="Comma list of columns that must be null"), *FILTERS)
TASK_FILTERS = ("name", "workflow_name", "workflow_id", "workflow_execution_id", "tags",
                "state", "state_info", "result", "published", "processed", "type",
                "project_id", "created_at", "updated_at")


def not_found(identifier: str) -> str:
    """Mistral's message for a missing execution."""
    return f"WorkflowExecution not found [id={identifier}]"


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
    data = _prepared(row, "list")
    return {"root_execution_id": data["root_execution_id"],
            "updated_at": encode("time", data["updated_at"])}


def load_execution(req: ApiRequest, session: Any, identifier: str) -> Any:
    """A visible execution row or 404."""
    return find_one(session, req, m.WorkflowExecution, identifier, by_name=False,
                    shared=False, not_found=lambda: not_found(identifier))


def _clone_source(req: ApiRequest, body: dict[str, Any], source_id: str) -> dict[str, Any]:
    with req.runtime.session() as session:
        source = row_dict(load_execution(req, session, source_id))
    merged = dict(body)
    merged.setdefault("workflow_id", source["workflow_id"])
    if merged.get("workflow_id") is None:
        merged["workflow_name"] = source["workflow_name"]
        merged.setdefault("workflow_namespace", source.get("workflow_namespace") or "")
    if merged.get("input") is None:
        merged["input"] = source.get("input") or {}
    if merged.get("params") is None:
        merged["params"] = source.get("params") or {}
    description = (merged.get("description") or "").strip()
    merged["description"] = (f"{description} " if description else "") + \
        f"Based on the execution '{source_id}'"
    return merged


@route("POST", "/v2/executions", summary="Start a workflow execution", status=201,
       body="json", body_schema="ExecutionIn", response="Execution")
def create_execution(req: ApiRequest) -> dict[str, Any]:
    """Start a workflow; a client ``id`` that exists returns that execution (idempotent)."""
    body = req.json_body()
    client_id = str_field(body, "id")
    if client_id:
        inputcheck.check_uuid(client_id, "id")
        with req.runtime.session() as session:
            existing = session.get(m.WorkflowExecution, client_id)
            if existing is not None and owned(req, existing):
                return execution_wire(row_dict(existing), "create")
    source_id = str_field(body, "source_execution_id")
    if source_id:
        body = _clone_source(req, body, source_id)
    identifier = str_field(body, "workflow_id") or str_field(body, "workflow_name")
    if not identifier:
        raise BadRequest("Field 'workflow_id' or 'workflow_name' is required")
    params = json_field(body, "params", default={})
    namespace = str_field(body, "workflow_namespace") or params.get("namespace") or ""
    result = req.runtime.start_workflow(
        identifier, namespace=namespace, input=json_field(body, "input", default={}),
        params=params, description=str_field(body, "description", default="") or "",
        execution_id=client_id or None, source_execution_id=source_id or None,
        **_caller_args(req))
    return execution_wire(result, "create")


def _caller_args(req: ApiRequest) -> dict[str, Any]:
    """With auth: run as the caller (its security context, owned by its project)."""
    if not req.caller.auth_enabled:
        return {}
    return {"security": caller_security(req), "project_id": req.caller.project_id}


@route("GET", "/v2/executions", summary="List executions", response="Executions",
       query=LIST_QUERY)
def list_executions(req: ApiRequest) -> dict[str, Any]:
    """Paginated, filtered executions; ``include_output=true`` adds ``output``."""
    view = "get" if req.bool_arg("include_output") else "list"
    nulls = []
    for name in (n.strip() for n in (req.arg("nulls") or "").split(",")):
        if not name:
            continue
        if name not in FILTERS or name not in m.WorkflowExecution.__table__.columns:
            raise BadRequest(f"Invalid column in 'nulls': {name}")
        nulls.append(getattr(m.WorkflowExecution, name).is_(None))
    body = list_answer(req, EXECUTION, m.WorkflowExecution, filterable=FILTERS, shared=False,
                       extra_args=("include_output", "all_projects", "nulls"), view="list",
                       conditions=tuple(nulls), overrides=_list_overrides)
    if view == "get":
        _add_outputs(req, body["executions"])
    return body


def _add_outputs(req: ApiRequest, items: list[dict[str, Any]]) -> None:
    ids = [i["id"] for i in items]
    if not ids:
        return
    with req.runtime.session() as session:
        outputs = dict(session.execute(select(m.WorkflowExecution.id, m.WorkflowExecution.output)
                                       .where(m.WorkflowExecution.id.in_(ids))).all())
    for item in items:
        item["output"] = encode("json", outputs.get(item["id"]) or {})


@route("GET", "/v2/executions/{id}", summary="Get an execution", response="Execution",
       query=("fields", Param("wait", "number", "Long polling (wfaas): answer as soon as the "
                              f"execution is finished, or after this many seconds (at most "
                              f"{MAX_WAIT:g})")))
def get_execution(req: ApiRequest, id: str) -> dict[str, Any]:
    """One execution, with ``output`` and ``published_global``; ``?wait=S`` holds the
    request until the execution is finished or S seconds have passed."""
    fields = fields_arg(req, EXECUTION)
    wait = wait_arg(req)
    project = visible_project(req)
    params = {"pk": id} if project is None else {"pk": id, "project": project}
    statement = _GET_ANY if project is None else _GET_OWN

    def read() -> dict[str, Any]:
        # a prebuilt Core SELECT on a snapshot connection: no ORM session, no write lock
        with read_connection(req.runtime.db) as conn:
            found = conn.execute(statement, params).first()
        if found is None:
            raise NotFound(not_found(id))
        return dict(found._mapping)

    row = read()
    if wait and row["state"] not in TERMINAL:
        req.runtime.wait_execution(id, wait)  # event-driven: returns when it finishes
        row = read()
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
    with req.runtime.session() as session:
        row = load_execution(req, session, id)
        if not owned(req, row):
            raise NotAllowed(f"Can not modify an execution of another project [id={id}]")
    if state is not None:
        result = _change_state(req, id, state, str_field(body, "state_info"), env)
        return execution_wire(result)
    if env is not None:  # params.env and the engine state (a later resume/rerun sees it)
        req.runtime.update_execution_env(id, env)
    with req.runtime.session() as session:
        row = load_execution(req, session, id)
        if description is not None:
            db.update_row(session, row, description=description, updated_at=utcnow())
            session.flush()
        data = row_dict(row)
    return execution_wire(data)


def _change_state(req: ApiRequest, id: str, state: str, info: str | None,
                  env: dict[str, Any] | None) -> dict[str, Any]:
    runtime = req.runtime
    if state == "PAUSED":
        result: dict[str, Any] = runtime.pause_execution(id)
    elif state == "RUNNING":
        result = runtime.resume_execution(id, env=env)
    elif state in TERMINAL:
        result = runtime.stop_execution(id, state, message=info)
    else:
        raise BadRequest(f"Invalid state '{state}'; use PAUSED, RUNNING, SUCCESS, ERROR or "
                         "CANCELLED")
    return result


@route("DELETE", "/v2/executions/{id}", summary="Delete an execution and its children",
       status=204, query=(Param("force", "boolean"),))
def delete_execution(req: ApiRequest, id: str) -> None:
    """Delete a finished execution (any state with ``force=true``)."""
    force = req.bool_arg("force")
    with req.runtime.session() as session:
        row = load_execution(req, session, id)
        if not owned(req, row):
            raise NotAllowed(f"Can not delete an execution of another project [id={id}]")
        if row.state not in TERMINAL and not force:
            raise NotAllowed(f"Only completed executions can be deleted; use force=true to "
                             f"delete it anyway [id={id}, state={row.state}]")
        running = row.state not in TERMINAL
    if running:
        try:
            req.runtime.stop_execution(id, "CANCELLED", message="Deleted with force")
        except Exception:  # noqa: BLE001 - deleting anyway, as asked
            pass
    with req.runtime.session() as session:
        db.delete_execution_tree(session, id)


@route("GET", "/v2/executions/{id}/tasks", summary="List the tasks of an execution",
       response="Tasks", query=("marker", Param("limit", "integer"), "sort_keys", "sort_dirs",
                                "fields", *TASK_FILTERS))
def execution_tasks(req: ApiRequest, id: str) -> dict[str, Any]:
    """The task executions of one execution (same filters as ``/v2/tasks``)."""
    with req.runtime.session() as session:
        load_execution(req, session, id)
    return list_answer(req, TASK, m.TaskExecution, filterable=TASK_FILTERS, shared=False,
                       conditions=(m.TaskExecution.workflow_execution_id == id,),
                       collection_path=f"executions/{id}/tasks")
