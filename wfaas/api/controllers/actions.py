"""``/v2/actions``: system actions (populated from the providers) and ad-hoc actions."""

from __future__ import annotations

from typing import Any

from wfaas.api import dsl
from wfaas.api.context import ApiRequest
from wfaas.api.controllers.common import (
    fields_arg,
    list_answer,
    list_args,
    max_document_bytes,
    namespace_arg,
    scope_arg,
)
from wfaas.api.resources import ACTION
from wfaas.api.routing import Param, route
from wfaas.services.api.definitions import Definition

WRITE_QUERY = (Param("namespace"), Param("scope"))
FILTERS = ("name", "scope", "tags", "description", "definition", "is_system", "input",
           "namespace", "project_id", "created_at", "updated_at")


def _adhoc_values(spec: Any) -> dict[str, Any]:
    return {"definition": spec.definition, "input": dsl.render_input(spec.input),
            "params_schema": dsl.input_schema(spec.input),
            "description": spec.description, "tags": list(spec.tags), "source": "adhoc",
            "is_system": False}


def _parse(req: ApiRequest, text: str) -> list[Definition]:
    specs = dsl.parse_actions(text, max_document_bytes(req))
    return [Definition(spec.name, _adhoc_values(spec)) for spec in specs]


@route("POST", "/v2/actions", summary="Create ad-hoc actions from YAML", status=201,
       body="text", response="Actions", query=WRITE_QUERY)
def create_actions(req: ApiRequest) -> dict[str, Any]:
    """Store every ad-hoc action of the document; a name already taken -> 409."""
    text = req.text_body()
    namespace, scope = namespace_arg(req), scope_arg(req)
    rows = req.services.actions.create(req.ctx, namespace, scope, _parse(req, text))
    return {"actions": [ACTION.to_wire(r, "create") for r in rows]}


def _update(req: ApiRequest, identifier: str | None) -> dict[str, Any]:
    text = req.text_body()
    namespace = namespace_arg(req)
    items = _parse(req, text)
    scope = scope_arg(req) if req.arg("scope") else None
    rows = req.services.actions.update(req.ctx, identifier, namespace, scope, items)
    return {"actions": [ACTION.to_wire(r) for r in rows]}


@route("PUT", "/v2/actions", summary="Update ad-hoc actions (by name) from YAML", body="text",
       response="Actions", query=WRITE_QUERY)
def update_actions(req: ApiRequest) -> dict[str, Any]:
    """Replace the named ad-hoc actions; system actions cannot change (400)."""
    return _update(req, None)


@route("PUT", "/v2/actions/{identifier}", summary="Update one ad-hoc action (by id)",
       body="text", response="Actions", query=WRITE_QUERY)
def update_action(req: ApiRequest, identifier: str) -> dict[str, Any]:
    """Replace the ad-hoc action with this id."""
    return _update(req, identifier)


@route("GET", "/v2/actions", summary="List actions", response="Actions",
       query=("marker", Param("limit", "integer"), "sort_keys", "sort_dirs", "fields",
              *FILTERS))
def list_actions(req: ApiRequest) -> dict[str, Any]:
    """Filtered list of actions, sorted by name by default. Like Mistral 23, the list is
    not capped at ``[api] max_limit`` unless ``limit`` is given (the client does not
    follow ``next``, and ``mistral action-list`` shows every action)."""
    fields = fields_arg(req, ACTION)
    page = req.services.actions.list_page(req.ctx, list_args(req), FILTERS, uncapped=True)
    return list_answer(req, ACTION, page, fields=fields, overrides=mistral_view)


def mistral_view(row: Any) -> dict[str, Any]:
    """Mistral 23 shows a system action with its name as id, and ``is_system`` false."""
    if row.get("source") != "adhoc":
        return {"id": row["name"], "is_system": False}
    return {}


@route("GET", "/v2/actions/{identifier}", summary="Get an action by name or id",
       response="Action", query=("namespace", "fields"))
def get_action(req: ApiRequest, identifier: str) -> dict[str, Any]:
    """One action."""
    namespace = namespace_arg(req)
    fields = fields_arg(req, ACTION)
    row = req.services.actions.get(req.ctx, identifier, namespace)
    return ACTION.to_wire(row, "get", fields, mistral_view(row))


@route("DELETE", "/v2/actions/{identifier}", summary="Delete an ad-hoc action", status=204,
       query=("namespace",))
def delete_action(req: ApiRequest, identifier: str) -> None:
    """Delete an ad-hoc action; system actions cannot be deleted (400)."""
    req.services.actions.delete(req.ctx, identifier, namespace_arg(req))


@route("POST", "/v2/actions/validate", summary="Validate an ad-hoc action document",
       body="text", response="Validation")
def validate_actions(req: ApiRequest) -> dict[str, Any]:
    """``{"valid": bool, "error": ...}`` (always 200)."""
    return dsl.validation_answer(req.text_body(), "actions")
