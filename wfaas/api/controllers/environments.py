"""``/v2/environments``: named variable sets that executions use as ``env``."""

from __future__ import annotations

from typing import Any

from wfaas.api.context import ApiRequest, json_field, str_field
from wfaas.api.controllers.common import SCOPES, fields_arg, list_answer, list_args
from wfaas.api.errors import BadRequest
from wfaas.api.resources import ENVIRONMENT
from wfaas.api.routing import Param, route
from wfaas.utils import inputcheck

FILTERS = ("name", "description", "variables", "scope", "project_id", "created_at",
           "updated_at")


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
    name = inputcheck.check_name(str_field(body, "name", required=True) or "",
                                what="environment")
    values = {"description": str_field(body, "description"),
              "variables": json_field(body, "variables", default={}),
              "scope": _scope(body, "private")}
    return ENVIRONMENT.to_wire(req.services.environments.create(req.ctx, name, values),
                               "create")


@route("PUT", "/v2/environments", summary="Update an environment (named in the body)",
       body="json", body_schema="EnvironmentIn", response="Environment")
def update_environment(req: ApiRequest) -> dict[str, Any]:
    """Change description, variables or scope of the environment named in the body."""
    body = req.json_body()
    name = str_field(body, "name", required=True) or ""
    values: dict[str, Any] = {}
    if "description" in body:
        values["description"] = str_field(body, "description")
    if "variables" in body:
        values["variables"] = json_field(body, "variables", default={})
    scope = _scope(body, None)
    if scope is not None:
        values["scope"] = scope
    return ENVIRONMENT.to_wire(req.services.environments.update(req.ctx, name, values))


@route("GET", "/v2/environments", summary="List environments", response="Environments",
       query=("marker", Param("limit", "integer"), "sort_keys", "sort_dirs", "fields",
              *FILTERS))
def list_environments(req: ApiRequest) -> dict[str, Any]:
    """Paginated, filtered list of environments."""
    fields = fields_arg(req, ENVIRONMENT)
    return list_answer(req, ENVIRONMENT,
                       req.services.environments.list_page(req.ctx, list_args(req), FILTERS),
                       fields=fields)


@route("GET", "/v2/environments/{name}", summary="Get an environment", response="Environment",
       query=("fields",))
def get_environment(req: ApiRequest, name: str) -> dict[str, Any]:
    """One environment, by name or id."""
    fields = fields_arg(req, ENVIRONMENT)
    return ENVIRONMENT.to_wire(req.services.environments.get(req.ctx, name), "get", fields)


@route("DELETE", "/v2/environments/{name}", summary="Delete an environment", status=204)
def delete_environment(req: ApiRequest, name: str) -> None:
    """Delete an environment."""
    req.services.environments.delete(req.ctx, name)
