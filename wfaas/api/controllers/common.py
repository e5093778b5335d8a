"""Helpers shared by the controllers: scoping, lookups, definition parsing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from oslo_config import cfg
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from wfaas.api.context import ApiRequest
from wfaas.api.errors import BadRequest
from wfaas.api.listing import ListQuery, next_link, parse_list_query, run_list_query
from wfaas.api.resources import Resource, wire_list
from wfaas.db import models as m
from wfaas.exceptions import NotFound

SCOPES = ("private", "public")
NAMESPACE_Q = "namespace"


def scope_arg(req: ApiRequest, default: str = "private") -> str:
    """``?scope=`` validated (private/public)."""
    scope = req.arg("scope") or default
    if scope not in SCOPES:
        raise BadRequest(f"Invalid scope '{scope}'; use 'private' or 'public'")
    return scope


def namespace_arg(req: ApiRequest) -> str:
    """``?namespace=`` ('' = the default namespace)."""
    return req.arg("namespace") or ""


def visible_project(req: ApiRequest) -> str | None:
    """The project whose rows the caller may see; None when it may see every row
    (auth off, or an admin asking ``all_projects=true``)."""
    caller = req.caller
    if not caller.auth_enabled or (caller.is_admin and req.bool_arg("all_projects")):
        return None
    return str(caller.project_id)


def visible(req: ApiRequest, model: Any, *, shared: bool = True) -> list[Any]:
    """Conditions limiting ``model`` rows to what the caller may see.

    Without auth, everything. With auth: the caller's project, plus public rows
    when ``shared``; admins asking ``all_projects=true`` see everything.
    """
    project = visible_project(req)
    if project is None:
        return []
    caller = req.caller
    own = model.project_id == caller.project_id
    if model in (m.TaskExecution, m.ActionExecution):
        # Rows the engine writes belong to the caller through their workflow execution.
        theirs = model.workflow_execution_id.in_(
            select(m.WorkflowExecution.id).where(
                m.WorkflowExecution.project_id == caller.project_id))
        if model is m.TaskExecution:
            return [theirs]
        return [or_(and_(m.ActionExecution.workflow_execution_id.is_(None), own), theirs)]
    if shared and hasattr(model, "scope"):
        return [or_(own, model.scope == "public")]
    return [own]


def caller_security(req: ApiRequest) -> dict[str, Any] | None:
    """The security context the caller's workflows and actions run with (auth on):
    token, catalog, project and user from keystonemiddleware's headers; None without auth."""
    if not req.caller.auth_enabled:
        return None
    from wfaas.actions.openstack.auth import security_from_headers

    conf = req.conf
    auth_uri = None
    try:
        auth_uri = conf.keystone_authtoken.www_authenticate_uri or None
    except (AttributeError, cfg.NoSuchOptError):  # keystonemiddleware options not registered
        pass
    try:
        region = conf.openstack_actions.region_name or None
    except (AttributeError, cfg.NoSuchOptError):
        region = None
    security = security_from_headers(req.request.headers, auth_uri=auth_uri,
                                     region_name=region).to_dict()
    security["project_id"] = req.caller.project_id
    return {k: v for k, v in security.items() if v is not None}


def owned(req: ApiRequest, row: Any) -> bool:
    """True when the caller may change ``row`` (its project, or admin, or no auth)."""
    caller = req.caller
    return not caller.auth_enabled or caller.is_admin or row.project_id == caller.project_id


def find_one(session: Session, req: ApiRequest, model: Any, identifier: str, *,
             by_name: bool = True, namespace: str | None = None, shared: bool = True,
             not_found: Callable[[], str]) -> Any:
    """A visible row by id, or by name (+ namespace, own project first); else 404."""
    conds = visible(req, model, shared=shared)
    row = session.scalars(select(model).where(model.id == identifier, *conds)).first()
    if row is None and by_name:
        stmt: Any = select(model).where(model.name == identifier, *conds)
        if namespace is not None and hasattr(model, "namespace"):
            stmt = stmt.where(model.namespace == namespace)
        if req.caller.auth_enabled:
            stmt = stmt.order_by((model.project_id == req.caller.project_id).desc())
        row = session.scalars(stmt.limit(1)).first()
    if row is None:
        raise NotFound(not_found())
    return row


def list_answer(req: ApiRequest, resource: Resource, model: type, *, filterable: tuple[str, ...],
                default_sort: str = "created_at", extra_args: tuple[str, ...] = (),
                conditions: tuple[Any, ...] = (), shared: bool = True, view: str = "list",
                overrides: Callable[[Any], dict[str, Any]] | None = None,
                query: ListQuery | None = None, collection_path: str | None = None,
                ) -> dict[str, Any]:
    """A full list answer: parse, query one page, serialize, build ``next``."""
    q = query or parse_list_query(req, resource, model, filterable=filterable,
                                  default_sort=default_sort, extra_args=extra_args)
    with req.runtime.session() as session:
        rows = run_list_query(session, model, q, [*visible(req, model, shared=shared),
                                                  *conditions])
        dicts = [row_dict(r) for r in rows]
    link = next_link(req, collection_path or resource.collection, q, rows,
                     extra=[(a, req.arg(a) or "") for a in extra_args if req.arg(a) is not None])
    return wire_list(resource, dicts, fields=q.fields, view=view, next_link=link,
                     overrides=overrides)


def row_dict(row: Any) -> dict[str, Any]:
    """A model row (or a dict) as a plain dict."""
    if isinstance(row, dict):
        return row
    return dict(row.to_dict())


def fields_arg(req: ApiRequest, resource: Resource) -> list[str] | None:
    """``?fields=`` of a single GET, validated."""
    raw = req.arg("fields")
    if not raw:
        return None
    return resource.check_fields([f.strip() for f in raw.split(",") if f.strip()])


def checksum(text: str) -> str:
    """The md5 checksum Mistral shows for definitions."""
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def max_document_bytes(req: ApiRequest) -> int:
    """``[DEFAULT] max_document_size_kb`` in bytes."""
    return int(req.conf.max_document_size_kb) * 1024
