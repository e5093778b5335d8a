"""``/v2/environments``: named variable sets that executions use as ``env``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from wfaas.api.context import ApiRequest, json_field, str_field
from wfaas.api.controllers.common import (
    SCOPES,
    fields_arg,
    find_one,
    list_answer,
    owned,
    row_dict,
)
from wfaas.api.errors import BadRequest
from wfaas.api.resources import ENVIRONMENT
from wfaas.api.routing import Param, route
from wfaas.db import api as db
from wfaas.db import models as m
from wfaas.db.types import utcnow
from wfaas.exceptions import Conflict, NotAllowed
from wfaas.utils import inputcheck

FILTERS = ("name", "description", "variables", "scope", "project_id", "created_at",
           "updated_at")


def _not_found(name: str) -> str:
    return f"Environment not found [name={name}]"


def _scope(body: dict[str, Any], default: str | None) -> str | None:
    scope = str_field(body, "scope", default=default)
    if scope is not None and scope not in SCOPES:
        raise BadRequest(f"Invalid scope '{scope}'; use 'private' or 'public'")
    return scope


@route("POST", "/v2/environments", summary="Create an environment", status=201, body="json",
       body_schema="EnvironmentIn", response="Environment")
def create_environment(req: ApiRequest) -> dict[str, Any]:
    """Store a new environment; a name already taken -> 409."""
    body = req.json_body()
    name = inputcheck.check_name(str_field(body, "name", required=True), what="environment")
    variables = json_field(body, "variables", default={})
    with req.runtime.session() as session:
        if session.scalars(select(m.Environment.id).where(
                m.Environment.name == name,
                m.Environment.project_id == req.caller.project_id)).first():
            raise Conflict(f"Duplicate entry for Environment ['name', 'project_id']: "
                           f"{name}, {req.caller.project_id}")
        row = db.create(session, m.Environment, name=name,
                        description=str_field(body, "description"), variables=variables,
                        scope=_scope(body, "private"), project_id=req.caller.project_id)
        data = row_dict(row)
    return ENVIRONMENT.to_wire(data, "create")


@route("PUT", "/v2/environments", summary="Update an environment (named in the body)",
       body="json", body_schema="EnvironmentIn", response="Environment")
def update_environment(req: ApiRequest) -> dict[str, Any]:
    """Change description, variables or scope of the environment named in the body."""
    body = req.json_body()
    name = str_field(body, "name", required=True) or ""
    with req.runtime.session() as session:
        row = find_one(session, req, m.Environment, name, not_found=lambda: _not_found(name))
        if not owned(req, row):
            raise NotAllowed(f"Can not modify an environment of another project [name={name}]")
        values: dict[str, Any] = {"updated_at": utcnow()}
        if "description" in body:
            values["description"] = str_field(body, "description")
        if "variables" in body:
            values["variables"] = json_field(body, "variables", default={})
        if "scope" in body:
            values["scope"] = _scope(body, row.scope)
        db.update_row(session, row, **values)
        session.flush()
        data = row_dict(row)
    return ENVIRONMENT.to_wire(data)


@route("GET", "/v2/environments", summary="List environments", response="Environments",
       query=("marker", Param("limit", "integer"), "sort_keys", "sort_dirs", "fields",
              *FILTERS))
def list_environments(req: ApiRequest) -> dict[str, Any]:
    """Paginated, filtered list of environments."""
    return list_answer(req, ENVIRONMENT, m.Environment, filterable=FILTERS)


@route("GET", "/v2/environments/{name}", summary="Get an environment", response="Environment",
       query=("fields",))
def get_environment(req: ApiRequest, name: str) -> dict[str, Any]:
    """One environment, by name or id."""
    fields = fields_arg(req, ENVIRONMENT)
    with req.runtime.session() as session:
        row = row_dict(find_one(session, req, m.Environment, name,
                                not_found=lambda: _not_found(name)))
    return ENVIRONMENT.to_wire(row, "get", fields)


@route("DELETE", "/v2/environments/{name}", summary="Delete an environment", status=204)
def delete_environment(req: ApiRequest, name: str) -> None:
    """Delete an environment."""
    with req.runtime.session() as session:
        row = find_one(session, req, m.Environment, name, not_found=lambda: _not_found(name))
        if not owned(req, row):
            raise NotAllowed(f"Can not delete an environment of another project [name={name}]")
        db.delete_row(session, row)
