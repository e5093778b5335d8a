"""``/v2/workflows``: create, update, list, get, delete, validate workflow definitions."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import select

from wfaas.api import dsl
from wfaas.api.context import ApiRequest
from wfaas.api.controllers.common import (
    checksum,
    fields_arg,
    find_one,
    list_answer,
    max_document_bytes,
    namespace_arg,
    owned,
    row_dict,
    scope_arg,
)
from wfaas.api.resources import WORKFLOW, dump_json
from wfaas.api.routing import Param, route
from wfaas.db import api as db
from wfaas.db import models as m
from wfaas.db.types import utcnow
from wfaas.exceptions import Conflict, NotAllowed

WRITE_QUERY = (Param("namespace", description="Namespace of the workflows ('' default)"),
               Param("scope", description="private (default) or public"),
               Param("skip_validation", "boolean", "Accepted for compatibility"))
FILTERS = ("name", "namespace", "input", "definition", "tags", "scope", "project_id",
           "created_at", "updated_at")
LIST_QUERY = ("marker", Param("limit", "integer"), "sort_keys", "sort_dirs", "fields",
              "all_projects", *FILTERS)


def _not_found(identifier: str, namespace: str = "") -> str:
    return f"Workflow not found [workflow_identifier={identifier}, namespace={namespace}]"


def to_wire(row: dict[str, Any], view: str = "get", fields: list[str] | None = None
            ) -> dict[str, Any]:
    """A workflow row on the wire; ``interface`` is computed from its definition."""
    wanted = fields is None or "interface" in fields
    interface: Any = dsl.interface_of_definition(row["definition"]) if wanted else None
    if view != "create" and interface is not None:
        interface = dump_json(interface)
    return WORKFLOW.to_wire(row, view, fields,
                            {"interface": interface} if wanted else None)


def _values(spec: Any, text: str, single: bool) -> dict[str, Any]:
    definition = text if single else (spec.definition or text)
    return {"definition": definition, "checksum": checksum(definition) if single else None,
            "input": dsl.render_input(spec.input), "tags": list(spec.tags)}


@route("POST", "/v2/workflows", summary="Create workflows from a YAML document", status=201,
       body="text", response="Workflows", query=WRITE_QUERY)
def create_workflows(req: ApiRequest) -> dict[str, Any]:
    """Store every workflow of the document; a name already taken -> 409."""
    text = req.text_body()
    namespace, scope = namespace_arg(req), scope_arg(req)
    specs = dsl.parse_workflows(text, max_document_bytes(req))
    rows = []
    with req.runtime.session() as session:
        for spec in specs:
            existing = session.scalars(select(m.WorkflowDefinition).where(
                m.WorkflowDefinition.name == spec.name,
                m.WorkflowDefinition.namespace == namespace,
                m.WorkflowDefinition.project_id == req.caller.project_id)).first()
            if existing is not None:
                raise Conflict(f"Duplicate entry for WorkflowDefinition ['name', 'namespace', "
                               f"'project_id']: {spec.name}, {namespace}, "
                               f"{req.caller.project_id}")
            row = db.create(session, m.WorkflowDefinition, name=spec.name, namespace=namespace,
                            scope=scope, project_id=req.caller.project_id,
                            **_values(spec, text, len(specs) == 1))
            rows.append(row_dict(row))
    return {"workflows": [to_wire(r, "create") for r in rows]}


def _update(req: ApiRequest, identifier: str | None) -> dict[str, Any]:
    text = req.text_body()
    namespace = namespace_arg(req)
    scope = req.arg("scope")
    if scope is not None:
        scope = scope_arg(req)
    specs = dsl.parse_workflows(text, max_document_bytes(req))
    if identifier is not None and len(specs) != 1:
        raise NotAllowed("Only one workflow can be updated by id at a time")
    rows = []
    with req.runtime.session() as session:
        for spec in specs:
            row = find_one(session, req, m.WorkflowDefinition, identifier or spec.name,
                           by_name=identifier is None, namespace=namespace,
                           not_found=functools.partial(_not_found, identifier or spec.name,
                                                       namespace))
            if not owned(req, row):
                raise NotAllowed(f"Can not modify a workflow of another project [id={row.id}]")
            values = _values(spec, text, len(specs) == 1)
            if identifier is not None:
                values["name"] = spec.name
            if scope is not None:
                values["scope"] = scope
            db.update_row(session, row, updated_at=utcnow(), **values)
            session.flush()
            rows.append(row_dict(row))
    return {"workflows": [to_wire(r) for r in rows]}


@route("PUT", "/v2/workflows", summary="Update workflows (by name) from a YAML document",
       body="text", response="Workflows", query=WRITE_QUERY)
def update_workflows(req: ApiRequest) -> dict[str, Any]:
    """Replace the definitions of the named workflows (namespace cannot change)."""
    return _update(req, None)


@route("PUT", "/v2/workflows/{identifier}", summary="Update one workflow (by id)",
       body="text", response="Workflows", query=WRITE_QUERY)
def update_workflow(req: ApiRequest, identifier: str) -> dict[str, Any]:
    """Replace the definition of the workflow with this id."""
    return _update(req, identifier)


@route("GET", "/v2/workflows", summary="List workflows", response="Workflows",
       query=LIST_QUERY)
def list_workflows(req: ApiRequest) -> dict[str, Any]:
    """Paginated, filtered list of the workflows the caller can see."""
    return list_answer(req, WORKFLOW, m.WorkflowDefinition, filterable=FILTERS,
                       extra_args=("all_projects",), overrides=_interface)


def _interface(row: dict[str, Any]) -> dict[str, Any]:
    return {"interface": dump_json(dsl.interface_of_definition(row["definition"]))}


@route("GET", "/v2/workflows/{identifier}", summary="Get a workflow by name or id",
       response="Workflow", query=("namespace", "fields"))
def get_workflow(req: ApiRequest, identifier: str) -> dict[str, Any]:
    """One workflow."""
    namespace = namespace_arg(req)
    fields = fields_arg(req, WORKFLOW)
    with req.runtime.session() as session:
        row = row_dict(find_one(session, req, m.WorkflowDefinition, identifier,
                                namespace=namespace,
                                not_found=lambda: _not_found(identifier, namespace)))
    return to_wire(row, "get", fields)


@route("DELETE", "/v2/workflows/{identifier}", summary="Delete a workflow", status=204,
       query=("namespace",))
def delete_workflow(req: ApiRequest, identifier: str) -> None:
    """Delete a workflow that no cron trigger uses (409 otherwise)."""
    namespace = namespace_arg(req)
    with req.runtime.session() as session:
        row = find_one(session, req, m.WorkflowDefinition, identifier, namespace=namespace,
                       not_found=lambda: _not_found(identifier, namespace))
        if not owned(req, row):
            raise NotAllowed(f"Can not delete a workflow of another project [id={row.id}]")
        trigger = session.scalars(select(m.CronTrigger.name).where(
            m.CronTrigger.workflow_id == row.id)).first()
        if trigger is not None:
            raise Conflict(f"Can not delete workflow '{row.name}': cron trigger '{trigger}' "
                           "uses it")
        db.delete_row(session, row)


@route("POST", "/v2/workflows/validate", summary="Validate a workflow document",
       body="text", response="Validation")
def validate_workflows(req: ApiRequest) -> dict[str, Any]:
    """``{"valid": bool, "error": ...}`` listing every problem (always 200)."""
    return dsl.validation_answer(req.text_body(), "workflows")

