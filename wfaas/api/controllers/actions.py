"""``/v2/actions``: system actions (populated from the providers) and ad-hoc actions."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import select

from wfaas.api import dsl
from wfaas.api.context import ApiRequest
from wfaas.api.controllers.common import (
    fields_arg,
    find_one,
    list_answer,
    max_document_bytes,
    namespace_arg,
    owned,
    row_dict,
    scope_arg,
)
from wfaas.api.listing import parse_list_query
from wfaas.api.resources import ACTION
from wfaas.api.routing import Param, route
from wfaas.db import api as db
from wfaas.db import models as m
from wfaas.db.types import utcnow
from wfaas.exceptions import ClientError, Conflict, NotAllowed

WRITE_QUERY = (Param("namespace"), Param("scope"))
FILTERS = ("name", "scope", "tags", "description", "definition", "is_system", "input",
           "namespace", "project_id", "created_at", "updated_at")


def _not_found(name: str, namespace: str) -> str:
    return f"Action not found [name={name}, namespace={namespace}]"


def _adhoc_values(spec: Any) -> dict[str, Any]:
    return {"definition": spec.definition, "input": dsl.render_input(spec.input),
            "description": spec.description, "tags": list(spec.tags), "source": "adhoc",
            "is_system": False}


def _invalidate(req: ApiRequest) -> None:
    """Tell the runtime's action provider that ad-hoc definitions changed (if it caches)."""
    hook = getattr(req.runtime, "invalidate_actions", None)
    if callable(hook):
        hook()


@route("POST", "/v2/actions", summary="Create ad-hoc actions from YAML", status=201,
       body="text", response="Actions", query=WRITE_QUERY)
def create_actions(req: ApiRequest) -> dict[str, Any]:
    """Store every ad-hoc action of the document; a name already taken -> 409."""
    text = req.text_body()
    namespace, scope = namespace_arg(req), scope_arg(req)
    specs = dsl.parse_actions(text, max_document_bytes(req))
    rows = []
    with req.runtime.session() as session:
        for spec in specs:
            taken = session.scalars(select(m.ActionDefinition.id).where(
                m.ActionDefinition.name == spec.name, m.ActionDefinition.namespace == namespace,
                m.ActionDefinition.project_id.in_([req.caller.project_id,
                                                   "<default-project>"]))).first()
            if taken:
                raise Conflict(f"Duplicate entry for Action ['name', 'namespace', 'project_id']: "
                               f"{spec.name}, {namespace}, {req.caller.project_id}")
            row = db.create(session, m.ActionDefinition, name=spec.name, namespace=namespace,
                            scope=scope, project_id=req.caller.project_id, **_adhoc_values(spec))
            rows.append(row_dict(row))
    _invalidate(req)
    return {"actions": [ACTION.to_wire(r, "create") for r in rows]}


def _update(req: ApiRequest, identifier: str | None) -> dict[str, Any]:
    text = req.text_body()
    namespace = namespace_arg(req)
    specs = dsl.parse_actions(text, max_document_bytes(req))
    if identifier is not None and len(specs) != 1:
        raise ClientError("Only one action can be updated by id at a time")
    rows = []
    with req.runtime.session() as session:
        for spec in specs:
            name = identifier or spec.name
            row = find_one(session, req, m.ActionDefinition, name, namespace=namespace,
                           by_name=identifier is None,
                           not_found=functools.partial(_not_found, name, namespace))
            if row.is_system or row.source != "adhoc":
                raise ClientError(f"Attempt to modify a system action: {row.name}")
            if not owned(req, row):
                raise NotAllowed(f"Can not modify an action of another project [id={row.id}]")
            values = _adhoc_values(spec)
            if req.arg("scope"):
                values["scope"] = scope_arg(req)
            db.update_row(session, row, name=spec.name, updated_at=utcnow(), **values)
            session.flush()
            rows.append(row_dict(row))
    _invalidate(req)
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
    q = parse_list_query(req, ACTION, m.ActionDefinition, filterable=FILTERS,
                         default_sort="name")
    if not q.limit_given:
        q.limit = UNCAPPED
    return list_answer(req, ACTION, m.ActionDefinition, filterable=FILTERS, query=q,
                       overrides=mistral_view)


UNCAPPED = 1_000_000


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
    with req.runtime.session() as session:
        row = row_dict(find_one(session, req, m.ActionDefinition, identifier,
                                namespace=namespace,
                                not_found=lambda: _not_found(identifier, namespace)))
    return ACTION.to_wire(row, "get", fields, mistral_view(row))


@route("DELETE", "/v2/actions/{identifier}", summary="Delete an ad-hoc action", status=204,
       query=("namespace",))
def delete_action(req: ApiRequest, identifier: str) -> None:
    """Delete an ad-hoc action; system actions cannot be deleted (400)."""
    namespace = namespace_arg(req)
    with req.runtime.session() as session:
        row = find_one(session, req, m.ActionDefinition, identifier, namespace=namespace,
                       not_found=lambda: _not_found(identifier, namespace))
        if row.is_system or row.source != "adhoc":
            raise ClientError(f"Attempt to delete a system action: {row.name}")
        if not owned(req, row):
            raise NotAllowed(f"Can not delete an action of another project [id={row.id}]")
        db.delete_row(session, row)
    _invalidate(req)


@route("POST", "/v2/actions/validate", summary="Validate an ad-hoc action document",
       body="text", response="Validation")
def validate_actions(req: ApiRequest) -> dict[str, Any]:
    """``{"valid": bool, "error": ...}`` (always 200)."""
    return dsl.validation_answer(req.text_body(), "actions")
