"""``/v2/workbooks``: a workbook stores its document; its workflows and ad-hoc actions
are created (or updated) as ``<workbook>.<name>`` rows. Deleting a workbook
leaves them in place, as Mistral does."""

from __future__ import annotations

from typing import Any

from wfaas.api import dsl
from wfaas.api.context import ApiRequest
from wfaas.api.controllers.common import (
    checksum,
    fields_arg,
    list_answer,
    list_args,
    max_document_bytes,
    namespace_arg,
    scope_arg,
)
from wfaas.api.resources import WORKBOOK
from wfaas.api.routing import Param, route
from wfaas.services.api.definitions import Definition, Workbook

WRITE_QUERY = (Param("namespace"), Param("scope"), Param("skip_validation", "boolean"))
FILTERS = ("name", "namespace", "definition", "scope", "tags", "project_id", "created_at",
           "updated_at")


def _member_name(workbook: str, name: str) -> str:
    return name if name.startswith(workbook + ".") else f"{workbook}.{name}"


def _parse(req: ApiRequest, text: str) -> Workbook:
    """The workbook document as rows to store: the workbook and its members."""
    spec = dsl.parse_workbook(text, max_document_bytes(req))
    workflows = tuple(Definition(_member_name(spec.name, wf.name), {
        "definition": wf.definition, "checksum": None, "input": dsl.render_input(wf.input),
        "tags": list(wf.tags)}) for wf in spec.workflows.values())
    actions = tuple(Definition(_member_name(spec.name, action.name), {
        "definition": action.definition, "source": "adhoc", "is_system": False,
        "input": dsl.render_input(action.input), "description": action.description,
        "params_schema": dsl.input_schema(action.input),
        "tags": list(action.tags)}) for action in spec.actions.values())
    return Workbook(spec.name, {"definition": text, "checksum": checksum(text),
                                "tags": list(spec.tags)}, workflows, actions)


@route("POST", "/v2/workbooks", summary="Create a workbook from YAML", status=201,
       body="text", response="Workbook", query=WRITE_QUERY)
def create_workbook(req: ApiRequest) -> dict[str, Any]:
    """Store the workbook and its workflows and actions; a taken name -> 409."""
    text = req.text_body()
    namespace, scope = namespace_arg(req), scope_arg(req)
    row = req.services.workbooks.create(req.ctx, namespace, scope, _parse(req, text))
    return WORKBOOK.to_wire(row, "create")


@route("PUT", "/v2/workbooks", summary="Update a workbook (by the name in the YAML)",
       body="text", response="Workbook", query=WRITE_QUERY)
def update_workbook(req: ApiRequest) -> dict[str, Any]:
    """Replace the document; members are created or updated, none is deleted."""
    text = req.text_body()
    namespace = namespace_arg(req)
    workbook = _parse(req, text)
    scope = scope_arg(req) if req.arg("scope") else None
    return WORKBOOK.to_wire(req.services.workbooks.update(req.ctx, namespace, scope, workbook))


@route("GET", "/v2/workbooks", summary="List workbooks", response="Workbooks",
       query=("marker", Param("limit", "integer"), "sort_keys", "sort_dirs", "fields",
              *FILTERS))
def list_workbooks(req: ApiRequest) -> dict[str, Any]:
    """Paginated, filtered list of workbooks."""
    fields = fields_arg(req, WORKBOOK)
    return list_answer(req, WORKBOOK, req.services.workbooks.list_page(req.ctx, list_args(req),
                                                                  FILTERS), fields=fields)


@route("GET", "/v2/workbooks/{name}", summary="Get a workbook", response="Workbook",
       query=("namespace", "fields"))
def get_workbook(req: ApiRequest, name: str) -> dict[str, Any]:
    """One workbook."""
    namespace = namespace_arg(req)
    fields = fields_arg(req, WORKBOOK)
    return WORKBOOK.to_wire(req.services.workbooks.get(req.ctx, name, namespace), "get", fields)


@route("DELETE", "/v2/workbooks/{name}", summary="Delete a workbook (its members stay)",
       status=204, query=("namespace",))
def delete_workbook(req: ApiRequest, name: str) -> None:
    """Delete the workbook row only."""
    req.services.workbooks.delete(req.ctx, name, namespace_arg(req))


@route("POST", "/v2/workbooks/validate", summary="Validate a workbook document", body="text",
       response="Validation")
def validate_workbook(req: ApiRequest) -> dict[str, Any]:
    """``{"valid": bool, "error": ...}`` (always 200)."""
    return dsl.validation_answer(req.text_body(), "workbook")
