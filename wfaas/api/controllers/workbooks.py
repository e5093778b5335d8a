"""``/v2/workbooks``: a workbook stores its document; its workflows and ad-hoc actions
are created (or updated) as ``<workbook>.<name>`` rows. Deleting a workbook
leaves them in place, as Mistral does."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

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
from wfaas.api.resources import WORKBOOK
from wfaas.api.routing import Param, route
from wfaas.db import api as db
from wfaas.db import models as m
from wfaas.db.types import utcnow
from wfaas.exceptions import Conflict, NotAllowed

WRITE_QUERY = (Param("namespace"), Param("scope"), Param("skip_validation", "boolean"))
FILTERS = ("name", "namespace", "definition", "scope", "tags", "project_id", "created_at",
           "updated_at")


def _not_found(name: str, namespace: str) -> str:
    return f"Workbook not found [name={name}, namespace={namespace}]"


def _member_name(workbook: str, name: str) -> str:
    return name if name.startswith(workbook + ".") else f"{workbook}.{name}"


def _upsert(session: Session, model: type, name: str, namespace: str, project_id: str,
            values: dict[str, Any]) -> None:
    row = session.scalars(select(model).where(
        model.name == name, model.namespace == namespace,  # type: ignore[attr-defined]
        model.project_id == project_id)).first()  # type: ignore[attr-defined]
    if row is None:
        db.create(session, model, name=name, namespace=namespace, project_id=project_id,
                  **values)
    else:
        db.update_row(session, row, updated_at=utcnow(), **values)


def store_members(session: Session, spec: Any, namespace: str, scope: str,
                  project_id: str) -> None:
    """Create or update the workbook's workflows and ad-hoc actions."""
    for wf in spec.workflows.values():
        _upsert(session, m.WorkflowDefinition, _member_name(spec.name, wf.name), namespace,
                project_id, {"definition": wf.definition, "checksum": None,
                             "input": dsl.render_input(wf.input), "tags": list(wf.tags),
                             "workbook_name": spec.name, "scope": scope})
    for action in spec.actions.values():
        _upsert(session, m.ActionDefinition, _member_name(spec.name, action.name), namespace,
                project_id, {"definition": action.definition, "source": "adhoc",
                             "is_system": False, "input": dsl.render_input(action.input),
                             "description": action.description, "tags": list(action.tags),
                             "scope": scope})


@route("POST", "/v2/workbooks", summary="Create a workbook from YAML", status=201,
       body="text", response="Workbook", query=WRITE_QUERY)
def create_workbook(req: ApiRequest) -> dict[str, Any]:
    """Store the workbook and its workflows and actions; a taken name -> 409."""
    text = req.text_body()
    namespace, scope = namespace_arg(req), scope_arg(req)
    spec = dsl.parse_workbook(text, max_document_bytes(req))
    project = req.caller.project_id
    with req.runtime.session() as session:
        if session.scalars(select(m.Workbook.id).where(
                m.Workbook.name == spec.name, m.Workbook.namespace == namespace,
                m.Workbook.project_id == project)).first():
            raise Conflict(f"Duplicate entry for Workbook ['name', 'namespace', 'project_id']: "
                           f"{spec.name}, {namespace}, {project}")
        row = db.create(session, m.Workbook, name=spec.name, namespace=namespace,
                        definition=text, checksum=checksum(text), tags=list(spec.tags),
                        scope=scope, project_id=project)
        store_members(session, spec, namespace, scope, project)
        data = row_dict(row)
    return WORKBOOK.to_wire(data, "create")


@route("PUT", "/v2/workbooks", summary="Update a workbook (by the name in the YAML)",
       body="text", response="Workbook", query=WRITE_QUERY)
def update_workbook(req: ApiRequest) -> dict[str, Any]:
    """Replace the document; members are created or updated, none is deleted."""
    text = req.text_body()
    namespace = namespace_arg(req)
    spec = dsl.parse_workbook(text, max_document_bytes(req))
    with req.runtime.session() as session:
        row = find_one(session, req, m.Workbook, spec.name, namespace=namespace,
                       not_found=lambda: _not_found(spec.name, namespace))
        if not owned(req, row):
            raise NotAllowed(f"Can not modify a workbook of another project [name={row.name}]")
        scope = scope_arg(req, row.scope)
        db.update_row(session, row, definition=text, checksum=checksum(text),
                      tags=list(spec.tags), scope=scope, updated_at=utcnow())
        store_members(session, spec, namespace, scope, row.project_id)
        session.flush()
        data = row_dict(row)
    return WORKBOOK.to_wire(data)


@route("GET", "/v2/workbooks", summary="List workbooks", response="Workbooks",
       query=("marker", Param("limit", "integer"), "sort_keys", "sort_dirs", "fields",
              *FILTERS))
def list_workbooks(req: ApiRequest) -> dict[str, Any]:
    """Paginated, filtered list of workbooks."""
    return list_answer(req, WORKBOOK, m.Workbook, filterable=FILTERS)


@route("GET", "/v2/workbooks/{name}", summary="Get a workbook", response="Workbook",
       query=("namespace", "fields"))
def get_workbook(req: ApiRequest, name: str) -> dict[str, Any]:
    """One workbook."""
    namespace = namespace_arg(req)
    fields = fields_arg(req, WORKBOOK)
    with req.runtime.session() as session:
        row = row_dict(find_one(session, req, m.Workbook, name, namespace=namespace,
                                not_found=lambda: _not_found(name, namespace)))
    return WORKBOOK.to_wire(row, "get", fields)


@route("DELETE", "/v2/workbooks/{name}", summary="Delete a workbook (its members stay)",
       status=204, query=("namespace",))
def delete_workbook(req: ApiRequest, name: str) -> None:
    """Delete the workbook row only."""
    namespace = namespace_arg(req)
    with req.runtime.session() as session:
        row = find_one(session, req, m.Workbook, name, namespace=namespace,
                       not_found=lambda: _not_found(name, namespace))
        if not owned(req, row):
            raise NotAllowed(f"Can not delete a workbook of another project [name={row.name}]")
        db.delete_row(session, row)


@route("POST", "/v2/workbooks/validate", summary="Validate a workbook document", body="text",
       response="Validation")
def validate_workbook(req: ApiRequest) -> dict[str, Any]:
    """``{"valid": bool, "error": ...}`` (always 200)."""
    return dsl.validation_answer(req.text_body(), "workbook")
