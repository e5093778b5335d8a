"""``/v2/workflows``: create, update, list, get, delete, validate workflow definitions."""

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
from wfaas.api.resources import WORKFLOW, dump_json
from wfaas.api.routing import Param, route
from wfaas.services.api.definitions import Definition

WRITE_QUERY = (Param("namespace", description="Namespace of the workflows ('' default)"),
               Param("scope", description="private (default) or public"),
               Param("skip_validation", "boolean", "Accepted for compatibility"))
FILTERS = ("name", "namespace", "input", "definition", "tags", "scope", "project_id",
           "created_at", "updated_at")
LIST_QUERY = ("marker", Param("limit", "integer"), "sort_keys", "sort_dirs", "fields",
              "all_projects", *FILTERS)


def to_wire(row: dict[str, Any], view: str = "get", fields: list[str] | None = None
            ) -> dict[str, Any]:
    """A workflow row on the wire; ``interface`` is computed from its definition."""
    wanted = fields is None or "interface" in fields
    interface: Any = dsl.interface_of_definition(row["definition"]) if wanted else None
    if view != "create" and interface is not None:
        interface = dump_json(interface)
    return WORKFLOW.to_wire(row, view, fields,
                            {"interface": interface} if wanted else None)


def _definitions(spec: Any, text: str, single: bool) -> Definition:
    definition = text if single else (spec.definition or text)
    return Definition(spec.name, {
        "definition": definition, "checksum": checksum(definition) if single else None,
        "input": dsl.render_input(spec.input), "tags": list(spec.tags)})


def _parse(req: ApiRequest, text: str) -> list[Definition]:
    specs = dsl.parse_workflows(text, max_document_bytes(req))
    return [_definitions(spec, text, len(specs) == 1) for spec in specs]


@route("POST", "/v2/workflows", summary="Create workflows from a YAML document", status=201,
       body="text", response="Workflows", query=WRITE_QUERY)
def create_workflows(req: ApiRequest) -> dict[str, Any]:
    """Store every workflow of the document; a name already taken -> 409."""
    text = req.text_body()
    namespace, scope = namespace_arg(req), scope_arg(req)
    rows = req.services.workflows.create(req.ctx, namespace, scope, _parse(req, text))
    return {"workflows": [to_wire(r, "create") for r in rows]}


def _update(req: ApiRequest, identifier: str | None) -> dict[str, Any]:
    text = req.text_body()
    namespace = namespace_arg(req)
    scope = scope_arg(req) if req.arg("scope") is not None else None
    rows = req.services.workflows.update(req.ctx, identifier, namespace, scope,
                                         _parse(req, text))
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
    fields = fields_arg(req, WORKFLOW)
    page = req.services.workflows.list_page(req.ctx, list_args(req, ("all_projects",)), FILTERS)
    return list_answer(req, WORKFLOW, page, extra_args=("all_projects",), overrides=_interface,
                       fields=fields)


def _interface(row: dict[str, Any]) -> dict[str, Any]:
    return {"interface": dump_json(dsl.interface_of_definition(row["definition"]))}


@route("GET", "/v2/workflows/{identifier}", summary="Get a workflow by name or id",
       response="Workflow", query=("namespace", "fields"))
def get_workflow(req: ApiRequest, identifier: str) -> dict[str, Any]:
    """One workflow."""
    namespace = namespace_arg(req)
    fields = fields_arg(req, WORKFLOW)
    return to_wire(req.services.workflows.get(req.ctx, identifier, namespace), "get", fields)


@route("DELETE", "/v2/workflows/{identifier}", summary="Delete a workflow", status=204,
       query=("namespace",))
def delete_workflow(req: ApiRequest, identifier: str) -> None:
    """Delete a workflow that no cron trigger uses (409 otherwise)."""
    req.services.workflows.delete(req.ctx, identifier, namespace_arg(req))


@route("POST", "/v2/workflows/validate", summary="Validate a workflow document",
       body="text", response="Validation")
def validate_workflows(req: ApiRequest) -> dict[str, Any]:
    """``{"valid": bool, "error": ...}`` listing every problem (always 200)."""
    return dsl.validation_answer(req.text_body(), "workflows")

