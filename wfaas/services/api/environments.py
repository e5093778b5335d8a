"""Environments: named variable sets executions use as ``env`` (own project, plus public
ones read-only, as Mistral's scope)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from wfaas.db import api as db
from wfaas.db import models as m
from wfaas.db.listing import ListArgs
from wfaas.db.types import utcnow
from wfaas.exceptions import Conflict
from wfaas.services.api.base import Page, ServiceBase, row_dict
from wfaas.services.api.context import RequestContext


def environment_not_found(name: str) -> str:
    """Mistral's message for a missing environment."""
    return f"Environment not found [name={name}]"


class EnvironmentService(ServiceBase):
    """Environments of the caller's project (and public ones)."""

    def create(self, ctx: RequestContext, name: str, values: dict[str, Any]) -> dict[str, Any]:
        """Store a new environment; a name taken in the project -> 409."""
        with self.session() as session:
            if session.scalars(select(m.Environment.id).where(
                    m.Environment.name == name,
                    m.Environment.project_id == ctx.project_id)).first():
                raise Conflict(f"Duplicate entry for Environment ['name', 'project_id']: "
                               f"{name}, {ctx.project_id}")
            row = db.create(session, m.Environment, name=name, project_id=ctx.project_id,
                            **values)
            return row_dict(row)

    def update(self, ctx: RequestContext, name: str, values: dict[str, Any]) -> dict[str, Any]:
        """Change description, variables or scope of one of the caller's environments."""
        with self.session() as session:
            row = self.lookup_owned(
                session, ctx, "environments", name, not_found=environment_not_found(name),
                refused=lambda r: f"Can not modify an environment of another project "
                                  f"[name={name}]")
            db.update_row(session, row, updated_at=utcnow(), **values)
            session.flush()
            return row_dict(row)

    def list_page(self, ctx: RequestContext, args: ListArgs, filterable: Sequence[str]) -> Page:
        """The environments the caller can see, one page."""
        return self.page(ctx, "environments", args, filterable=filterable)

    def get(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        """One visible environment, by name or id."""
        with self.session() as session:
            return row_dict(self.lookup(session, ctx, "environments", name,
                                        not_found=environment_not_found(name)))

    def delete(self, ctx: RequestContext, name: str) -> None:
        """Delete one of the caller's environments."""
        with self.session() as session:
            row = self.lookup_owned(
                session, ctx, "environments", name, not_found=environment_not_found(name),
                refused=lambda r: f"Can not delete an environment of another project "
                                  f"[name={name}]")
            db.delete_row(session, row)
