"""Definitions: workflows, workbooks and ad-hoc actions as the API stores and reads them.

Visible: the caller's project, public rows, and workflows shared with it and
accepted. Changeable: the caller's own (or any, as admin). The API parses the
YAML; these services get the parsed values to store (``values`` dicts of columns).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from wfaas.db import api as db
from wfaas.db import models as m
from wfaas.db.listing import ListArgs
from wfaas.db.types import utcnow
from wfaas.exceptions import ClientError, Conflict, NotAllowed, NotFound
from wfaas.services.api.base import Page, ServiceBase, row_dict
from wfaas.services.api.context import RequestContext, may_change, project_filter

DEFAULT_PROJECT = "<default-project>"


def workflow_not_found(identifier: str, namespace: str = "") -> str:
    """Mistral's message for a missing workflow."""
    return f"Workflow not found [workflow_identifier={identifier}, namespace={namespace}]"


def action_not_found(name: str, namespace: str) -> str:
    """Mistral's message for a missing action."""
    return f"Action not found [name={name}, namespace={namespace}]"


def workbook_not_found(name: str, namespace: str) -> str:
    """Mistral's message for a missing workbook."""
    return f"Workbook not found [name={name}, namespace={namespace}]"


#: the page size of an action list without ``limit`` (Mistral 23 does not cap it)
UNCAPPED = 1_000_000


@dataclass(frozen=True)
class Definition:
    """One parsed definition to store: its name and its column values."""

    name: str
    values: dict[str, Any]


@dataclass(frozen=True)
class Workbook:
    """A parsed workbook: its row values and its member workflows and actions."""

    name: str
    values: dict[str, Any]
    workflows: tuple[Definition, ...]
    actions: tuple[Definition, ...]


class WorkflowService(ServiceBase):
    """Workflow definitions."""

    def create(self, ctx: RequestContext, namespace: str, scope: str,
               items: Sequence[Definition]) -> list[dict[str, Any]]:
        """Store new workflows; a name taken in the project's namespace -> 409."""
        rows = []
        with self.session() as session:
            for item in items:
                existing = session.scalars(select(m.WorkflowDefinition.id).where(
                    m.WorkflowDefinition.name == item.name,
                    m.WorkflowDefinition.namespace == namespace,
                    m.WorkflowDefinition.project_id == ctx.project_id)).first()
                if existing is not None:
                    raise Conflict(f"Duplicate entry for WorkflowDefinition ['name', "
                                   f"'namespace', 'project_id']: {item.name}, {namespace}, "
                                   f"{ctx.project_id}")
                row = db.create(session, m.WorkflowDefinition, name=item.name,
                                namespace=namespace, scope=scope, project_id=ctx.project_id,
                                **item.values)
                rows.append(row_dict(row))
        return rows

    def update(self, ctx: RequestContext, identifier: str | None, namespace: str,
               scope: str | None, items: Sequence[Definition]) -> list[dict[str, Any]]:
        """Replace definitions: the one with id ``identifier``, or each by name."""
        if identifier is not None and len(items) != 1:
            raise NotAllowed("Only one workflow can be updated by id at a time")
        rows = []
        with self.session() as session:
            for item in items:
                name = identifier or item.name
                row = self.lookup_owned(
                    session, ctx, "workflows", name, by_name=identifier is None,
                    namespace=namespace, not_found=workflow_not_found(name, namespace),
                    refused=lambda r: f"Can not modify a workflow of another project "
                                      f"[id={r.id}]")
                values = dict(item.values)
                if identifier is not None:
                    values["name"] = item.name
                if scope is not None:
                    values["scope"] = scope
                db.update_row(session, row, updated_at=utcnow(), **values)
                session.flush()
                rows.append(row_dict(row))
        return rows

    def list_page(self, ctx: RequestContext, args: ListArgs, filterable: Sequence[str]) -> Page:
        """The workflows the caller can see, one page."""
        return self.page(ctx, "workflows", args, filterable=filterable)

    def get(self, ctx: RequestContext, identifier: str, namespace: str) -> dict[str, Any]:
        """One visible workflow by id or name."""
        with self.session() as session:
            return row_dict(self.lookup(session, ctx, "workflows", identifier,
                                        namespace=namespace,
                                        not_found=workflow_not_found(identifier, namespace)))

    def resolve(self, session: Session, ctx: RequestContext, identifier: str,
                namespace: str) -> Any:
        """The workflow a caller starts (by id, or by name falling back to the default
        namespace, as Mistral): only one it can see; 404 otherwise."""
        try:
            return db.get_workflow_definition(session, identifier, namespace=namespace,
                                              project_id=project_filter(ctx))
        except NotFound:
            raise NotFound(workflow_not_found(identifier, namespace)) from None

    def delete(self, ctx: RequestContext, identifier: str, namespace: str) -> None:
        """Delete a workflow that no cron trigger uses (409 otherwise)."""
        with self.session() as session:
            row = self.lookup_owned(
                session, ctx, "workflows", identifier, namespace=namespace,
                not_found=workflow_not_found(identifier, namespace),
                refused=lambda r: f"Can not delete a workflow of another project [id={r.id}]")
            trigger = session.scalars(select(m.CronTrigger.name).where(
                m.CronTrigger.workflow_id == row.id)).first()
            if trigger is not None:
                raise Conflict(f"Can not delete workflow '{row.name}': cron trigger "
                               f"'{trigger}' uses it")
            session.execute(delete(m.ResourceMember).where(
                m.ResourceMember.resource_id == row.id))
            db.delete_row(session, row)


class ActionService(ServiceBase):
    """Action definitions (system ones from the providers, ad-hoc ones from users)."""

    def create(self, ctx: RequestContext, namespace: str, scope: str,
               items: Sequence[Definition]) -> list[dict[str, Any]]:
        """Store ad-hoc actions; a name taken (or a system action's) -> 409."""
        rows = []
        with self.session() as session:
            for item in items:
                taken = session.scalars(select(m.ActionDefinition.id).where(
                    m.ActionDefinition.name == item.name,
                    m.ActionDefinition.namespace == namespace,
                    m.ActionDefinition.project_id.in_([ctx.project_id, DEFAULT_PROJECT]))
                ).first()
                if taken:
                    raise Conflict(f"Duplicate entry for Action ['name', 'namespace', "
                                   f"'project_id']: {item.name}, {namespace}, {ctx.project_id}")
                row = db.create(session, m.ActionDefinition, name=item.name,
                                namespace=namespace, scope=scope, project_id=ctx.project_id,
                                **item.values)
                rows.append(row_dict(row))
        self._invalidate()
        return rows

    def update(self, ctx: RequestContext, identifier: str | None, namespace: str,
               scope: str | None, items: Sequence[Definition]) -> list[dict[str, Any]]:
        """Replace ad-hoc actions (by id, or each by name); system ones -> 400."""
        if identifier is not None and len(items) != 1:
            raise ClientError("Only one action can be updated by id at a time")
        rows = []
        with self.session() as session:
            for item in items:
                name = identifier or item.name
                row = self._adhoc(session, ctx, name, namespace, identifier is None, "modify")
                values = dict(item.values)
                if scope is not None:
                    values["scope"] = scope
                db.update_row(session, row, name=item.name, updated_at=utcnow(), **values)
                session.flush()
                rows.append(row_dict(row))
        self._invalidate()
        return rows

    def _adhoc(self, session: Session, ctx: RequestContext, name: str, namespace: str,
               by_name: bool, verb: str) -> Any:
        row = self.lookup(session, ctx, "actions", name, namespace=namespace, by_name=by_name,
                          not_found=action_not_found(name, namespace))
        if row.is_system or row.source != "adhoc":
            raise ClientError(f"Attempt to {verb} a system action: {row.name}")
        if not may_change(ctx, row):
            raise NotAllowed(f"Can not {verb} an action of another project [id={row.id}]")
        return row

    def list_page(self, ctx: RequestContext, args: ListArgs, filterable: Sequence[str],
                  *, uncapped: bool = False) -> Page:
        """The actions the caller can see, one page (sorted by name by default);
        ``uncapped``: without ``limit`` every action (Mistral 23 slices only on request)."""
        return self.page(ctx, "actions", args, filterable=filterable, default_sort="name",
                         max_limit=UNCAPPED if uncapped and args.limit is None else None)

    def get(self, ctx: RequestContext, identifier: str, namespace: str) -> dict[str, Any]:
        """One visible action by id or name."""
        with self.session() as session:
            return row_dict(self.lookup(session, ctx, "actions", identifier,
                                        namespace=namespace,
                                        not_found=action_not_found(identifier, namespace)))

    def delete(self, ctx: RequestContext, identifier: str, namespace: str) -> None:
        """Delete an ad-hoc action; system actions -> 400."""
        with self.session() as session:
            row = self._adhoc(session, ctx, identifier, namespace, True, "delete")
            db.delete_row(session, row)
        self._invalidate()

    def find_descriptor(self, name: str, namespace: str) -> Any:
        """The action provider's descriptor of ``name`` (None when unknown)."""
        return self.runtime.provider.find(name, namespace)

    def _invalidate(self) -> None:
        """Tell the runtime's action provider that ad-hoc definitions changed."""
        hook = getattr(self.runtime, "invalidate_actions", None)
        if callable(hook):
            hook()


class WorkbookService(ServiceBase):
    """Workbooks and the workflows/actions they define (``<workbook>.<name>`` rows)."""

    def create(self, ctx: RequestContext, namespace: str, scope: str,
               workbook: Workbook) -> dict[str, Any]:
        """Store the workbook and its members; a taken name -> 409."""
        project = ctx.project_id
        with self.session() as session:
            if session.scalars(select(m.Workbook.id).where(
                    m.Workbook.name == workbook.name, m.Workbook.namespace == namespace,
                    m.Workbook.project_id == project)).first():
                raise Conflict(f"Duplicate entry for Workbook ['name', 'namespace', "
                               f"'project_id']: {workbook.name}, {namespace}, {project}")
            row = db.create(session, m.Workbook, name=workbook.name, namespace=namespace,
                            scope=scope, project_id=project, **workbook.values)
            _store_members(session, workbook, namespace, scope, project)
            return row_dict(row)

    def update(self, ctx: RequestContext, namespace: str, scope: str | None,
               workbook: Workbook) -> dict[str, Any]:
        """Replace the document; members are created or updated, none is deleted."""
        with self.session() as session:
            row = self.lookup_owned(
                session, ctx, "workbooks", workbook.name, namespace=namespace,
                not_found=workbook_not_found(workbook.name, namespace),
                refused=lambda r: f"Can not modify a workbook of another project "
                                  f"[name={r.name}]")
            scope = scope or row.scope
            db.update_row(session, row, scope=scope, updated_at=utcnow(), **workbook.values)
            _store_members(session, workbook, namespace, scope, row.project_id)
            session.flush()
            return row_dict(row)

    def list_page(self, ctx: RequestContext, args: ListArgs, filterable: Sequence[str]) -> Page:
        """The workbooks the caller can see, one page."""
        return self.page(ctx, "workbooks", args, filterable=filterable)

    def get(self, ctx: RequestContext, name: str, namespace: str) -> dict[str, Any]:
        """One visible workbook."""
        with self.session() as session:
            return row_dict(self.lookup(session, ctx, "workbooks", name, namespace=namespace,
                                        not_found=workbook_not_found(name, namespace)))

    def delete(self, ctx: RequestContext, name: str, namespace: str) -> None:
        """Delete the workbook row only (its members stay, as in Mistral)."""
        with self.session() as session:
            row = self.lookup_owned(
                session, ctx, "workbooks", name, namespace=namespace,
                not_found=workbook_not_found(name, namespace),
                refused=lambda r: f"Can not delete a workbook of another project "
                                  f"[name={r.name}]")
            db.delete_row(session, row)


def _upsert(session: Session, model: Any, name: str, namespace: str, project_id: str,
            values: dict[str, Any]) -> None:
    row = session.scalars(select(model).where(
        model.name == name, model.namespace == namespace,
        model.project_id == project_id)).first()
    if row is None:
        db.create(session, model, name=name, namespace=namespace, project_id=project_id,
                  **values)
    else:
        db.update_row(session, row, updated_at=utcnow(), **values)


def _store_members(session: Session, workbook: Workbook, namespace: str, scope: str,
                   project_id: str) -> None:
    for wf in workbook.workflows:
        _upsert(session, m.WorkflowDefinition, wf.name, namespace, project_id,
                {**wf.values, "workbook_name": workbook.name, "scope": scope})
    for action in workbook.actions:
        _upsert(session, m.ActionDefinition, action.name, namespace, project_id,
                {**action.values, "scope": scope})
