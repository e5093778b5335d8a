"""Workflow sharing, as Mistral's resource members.

The project owning a private workflow shares it with another project
(``member_id``); the share is ``pending`` until the member project sets it to
``accepted`` or ``rejected``. An accepted share makes the workflow visible and
runnable for the member (lists, lookups by id and by name: ``wfaas.db.scoping``),
read-only. The owner lists, reads and deletes the shares of its workflow; a member
sees and updates only its own share. Sharing needs authentication.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from wfaas.db import api as db
from wfaas.db import models as m
from wfaas.db.types import utcnow
from wfaas.exceptions import ClientError, Conflict, NotFound
from wfaas.services.api.base import ServiceBase, row_dict
from wfaas.services.api.context import RequestContext
from wfaas.services.api.definitions import workflow_not_found

STATUSES = ("pending", "accepted", "rejected")
WORKFLOW = "workflow"


def member_not_found(resource_id: str, member_id: str) -> str:
    """Mistral's message for a missing share."""
    return f"Resource member not found [resource_id={resource_id}, member_id={member_id}]"


def _looks_like_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class MemberService(ServiceBase):
    """Projects a private workflow is shared with."""

    def _check(self, ctx: RequestContext, resource_id: str) -> None:
        if not ctx.auth_enabled:
            raise ClientError("Resource sharing feature can only be supported with "
                              "authentication enabled.")
        if not _looks_like_uuid(resource_id):
            raise ClientError("Only support UUID as resource identifier in resource sharing "
                              "feature.")

    def _query(self, resource_id: str) -> Any:
        members = m.ResourceMember
        return select(members).where(members.resource_id == resource_id,
                                     members.resource_type == WORKFLOW)

    def create(self, ctx: RequestContext, resource_id: str, member_id: str | None
               ) -> dict[str, Any]:
        """Share one of the caller's private workflows with project ``member_id``."""
        self._check(ctx, resource_id)
        if not member_id:
            raise ClientError("Member id must be provided.")
        with self.session() as session:
            wf = session.get(m.WorkflowDefinition, resource_id)
            if wf is None or wf.project_id != ctx.project_id:
                raise NotFound(workflow_not_found(resource_id))
            if wf.scope != "private":
                raise ClientError("Only private resource could be shared.")
            try:
                row = db.create(session, m.ResourceMember, resource_id=resource_id,
                                resource_type=WORKFLOW, project_id=ctx.project_id,
                                member_id=member_id, status="pending")
            except (Conflict, IntegrityError):
                raise Conflict(f"Duplicate entry for ResourceMember ['resource_id', "
                               f"'resource_type', 'member_id']: {resource_id}, {WORKFLOW}, "
                               f"{member_id}") from None
            return row_dict(row)

    def list_all(self, ctx: RequestContext, resource_id: str) -> list[dict[str, Any]]:
        """The shares of a workflow: all of them for its owner, its own for a member."""
        self._check(ctx, resource_id)
        members = m.ResourceMember
        with self.session() as session:
            rows = session.scalars(self._query(resource_id).where(
                or_(members.project_id == ctx.project_id, members.member_id == ctx.project_id)
            ).order_by(members.created_at, members.id))
            return [row_dict(r) for r in rows]

    def get(self, ctx: RequestContext, resource_id: str, member_id: str) -> dict[str, Any]:
        """One share, seen by the workflow's owner or by the member itself."""
        self._check(ctx, resource_id)
        members = m.ResourceMember
        with self.session() as session:
            row = session.scalars(self._query(resource_id).where(
                members.member_id == member_id,
                or_(members.project_id == ctx.project_id, members.member_id == ctx.project_id)
            )).first()
            if row is None:
                raise NotFound(member_not_found(resource_id, member_id))
            return row_dict(row)

    def update(self, ctx: RequestContext, resource_id: str, member_id: str,
               status: str | None) -> dict[str, Any]:
        """The member project accepts or rejects (or resets to pending) a share."""
        self._check(ctx, resource_id)
        if not status:
            raise ClientError("Status must be provided.")
        if status not in STATUSES:
            raise ClientError(f"Invalid value for 'status': {status!r}; use one of "
                              f"{', '.join(STATUSES)}")
        with self.session() as session:
            row = None
            if member_id == ctx.project_id:  # only the member changes its status
                row = session.scalars(self._query(resource_id).where(
                    m.ResourceMember.member_id == member_id)).first()
            if row is None:
                raise NotFound(member_not_found(resource_id, member_id))
            db.update_row(session, row, status=status, updated_at=utcnow())
            session.flush()
            return row_dict(row)

    def delete(self, ctx: RequestContext, resource_id: str, member_id: str) -> None:
        """The workflow's owner stops sharing it with ``member_id``."""
        self._check(ctx, resource_id)
        with self.session() as session:
            row = session.scalars(self._query(resource_id).where(
                m.ResourceMember.member_id == member_id,
                m.ResourceMember.project_id == ctx.project_id)).first()
            if row is None:
                raise NotFound(member_not_found(resource_id, member_id))
            db.delete_row(session, row)
