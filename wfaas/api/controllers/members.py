"""``/v2/workflows/{id}/members``: share a private workflow with other projects (Mistral's
resource members; needs ``[pecan] auth_enable``)."""

from __future__ import annotations

from typing import Any

from wfaas.api.context import ApiRequest, str_field
from wfaas.api.openapi import REQUEST_BODIES
from wfaas.api.resources import RESOURCES, Resource, _f
from wfaas.api.routing import route

MEMBER = Resource("Member", "members", (
    _f("id"), _f("resource_id"), _f("resource_type"), _f("project_id"), _f("member_id"),
    _f("status"), _f("created_at", "time"), _f("updated_at", "time", omit_none=("*",)),
), "A project a workflow is shared with, and whether it accepted the share.")
RESOURCES.setdefault(MEMBER.name, MEMBER)
REQUEST_BODIES.setdefault("MemberIn", {
    "type": "object", "required": ["member_id"],
    "properties": {"member_id": {"type": "string", "description": "The project to share with"}}})
REQUEST_BODIES.setdefault("MemberUpdate", {
    "type": "object", "required": ["status"],
    "properties": {"status": {"type": "string", "enum": ["pending", "accepted", "rejected"]}}})


@route("POST", "/v2/workflows/{identifier}/members", summary="Share a private workflow",
       status=201, body="json", body_schema="MemberIn", response="Member")
def create_member(req: ApiRequest, identifier: str) -> dict[str, Any]:
    """Share the workflow (by id) with the project ``member_id``: a pending share."""
    member_id = str_field(req.json_body(), "member_id")
    return MEMBER.to_wire(req.services.members.create(req.ctx, identifier, member_id), "create")


@route("GET", "/v2/workflows/{identifier}/members", summary="List the shares of a workflow",
       response="Members")
def list_members(req: ApiRequest, identifier: str) -> dict[str, Any]:
    """Every share for the owner; its own share for a member project."""
    rows = req.services.members.list_all(req.ctx, identifier)
    return {"members": [MEMBER.to_wire(r, "list") for r in rows]}


@route("GET", "/v2/workflows/{identifier}/members/{member_id}",
       summary="Get one share of a workflow", response="Member")
def get_member(req: ApiRequest, identifier: str, member_id: str) -> dict[str, Any]:
    """One share (seen by the owner or by the member)."""
    return MEMBER.to_wire(req.services.members.get(req.ctx, identifier, member_id))


@route("PUT", "/v2/workflows/{identifier}/members/{member_id}",
       summary="Accept or reject a share (by the member project)", body="json",
       body_schema="MemberUpdate", response="Member")
def update_member(req: ApiRequest, identifier: str, member_id: str) -> dict[str, Any]:
    """``{"status": "accepted" | "rejected" | "pending"}``, by the member project only."""
    status = str_field(req.json_body(), "status")
    return MEMBER.to_wire(req.services.members.update(req.ctx, identifier, member_id, status))


@route("DELETE", "/v2/workflows/{identifier}/members/{member_id}",
       summary="Stop sharing a workflow with a project", status=204)
def delete_member(req: ApiRequest, identifier: str, member_id: str) -> None:
    """Delete the share (by the workflow's owner)."""
    req.services.members.delete(req.ctx, identifier, member_id)
