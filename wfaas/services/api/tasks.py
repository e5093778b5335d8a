"""Task executions and action executions as the API reads and changes them (own project:
tasks and action executions belong to a project through their workflow execution)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from wfaas.db import api as db
from wfaas.db import models as m
from wfaas.db.listing import ListArgs
from wfaas.exceptions import ClientError, InputError, NotAllowed, NotFound
from wfaas.services.api.base import Page, ServiceBase, row_dict
from wfaas.services.api.context import RequestContext, may_change, project_filter
from wfaas.utils.states import WORKFLOW_TERMINAL as TERMINAL


def task_not_found(identifier: str) -> str:
    """Mistral's message for a missing task."""
    return f"TaskExecution not found [id={identifier}]"


def action_execution_not_found(identifier: str) -> str:
    """Mistral's message for a missing action execution."""
    return f"ActionExecution not found [id={identifier}]"


class TaskService(ServiceBase):
    """Task executions of the caller's workflow executions."""

    def load(self, session: Any, ctx: RequestContext, identifier: str) -> Any:
        """A visible task row or 404."""
        return self.lookup(session, ctx, "tasks", identifier, by_name=False,
                           not_found=task_not_found(identifier))

    def list_page(self, ctx: RequestContext, args: ListArgs, filterable: Sequence[str]) -> Page:
        """The caller's task executions, one page."""
        return self.page(ctx, "tasks", args, filterable=filterable)

    def get(self, ctx: RequestContext, identifier: str) -> dict[str, Any]:
        """One visible task execution."""
        with self.session() as session:
            return row_dict(self.load(session, ctx, identifier))

    def rerun_or_skip(self, ctx: RequestContext, identifier: str, state: str,
                      checks: dict[str, str | None], reset: bool,
                      env: dict[str, Any] | None) -> dict[str, Any]:
        """Rerun (state RUNNING) or skip (SKIPPED) a task in ERROR; ``checks`` are
        column values the client expects (``name``, ``workflow_name``)."""
        with self.session() as session:
            row = self.lookup_owned(
                session, ctx, "tasks", identifier, not_found=task_not_found(identifier),
                by_name=False,
                refused=lambda r: f"Can not modify a task of another project [id={identifier}]")
            for key, given in checks.items():
                if given and given != getattr(row, key):
                    raise ClientError(f"Task {key} does not match [given={given}, "
                                      f"actual={getattr(row, key)}]")
            current = row.state
        if current != "ERROR":
            raise ClientError(f"Only tasks in ERROR can be rerun or skipped [id={identifier}, "
                              f"state={current}]")
        if state == "RUNNING":
            return self.runtime.rerun_task(identifier, reset=reset, env=env)
        if state == "SKIPPED":
            return self.runtime.skip_task(identifier)
        raise ClientError(f"Invalid task state '{state}'; use RUNNING (rerun) or SKIPPED")

    def action_executions(self, ctx: RequestContext, identifier: str, args: ListArgs,
                          filterable: Sequence[str]) -> Page:
        """The action executions of a visible task, one page."""
        with self.session() as session:
            self.load(session, ctx, identifier)
        return self.page(ctx, "action_executions", args, filterable=filterable,
                         equal={"task_execution_id": identifier})

    def action_execution(self, ctx: RequestContext, identifier: str,
                         action_execution_id: str) -> dict[str, Any]:
        """One action execution of a visible task."""
        message = (f"ActionExecution not found [id={action_execution_id}, "
                   f"task_execution_id={identifier}]")
        with self.session() as session:
            self.load(session, ctx, identifier)
            row = self.lookup(session, ctx, "action_executions", action_execution_id,
                              by_name=False, not_found=message)
            if row.task_execution_id != identifier:
                raise NotFound(message)
            return row_dict(row)

    def workflow_executions(self, ctx: RequestContext, identifier: str
                            ) -> list[dict[str, Any]]:
        """The executions a visible workflow task started."""
        with self.session() as session:
            self.load(session, ctx, identifier)
            rows = session.scalars(select(m.WorkflowExecution).where(
                m.WorkflowExecution.task_execution_id == identifier).order_by(
                m.WorkflowExecution.created_at)).all()
            return [row_dict(r) for r in rows]


class ActionExecutionService(ServiceBase):
    """Action executions: ad-hoc runs of the caller and those of its workflows."""

    def run(self, ctx: RequestContext, name: str, action_input: dict[str, Any], *,
            namespace: str, params: dict[str, Any], description: str) -> dict[str, Any]:
        """Run an action outside any workflow, as the caller."""
        extra: dict[str, Any] = {}
        if ctx.auth_enabled:
            extra = {"security": dict(ctx.security or {}), "project_id": ctx.project_id}
        return self.runtime.run_action(name, action_input, namespace=namespace, params=params,
                                       description=description, **extra)

    def is_sync(self, ctx: RequestContext, name: str, namespace: str,
                action_input: dict[str, Any]) -> bool:
        """Whether the action answers at once (async ones are completed later by PUT);
        unknown action, or an ad-hoc action of another project -> 404, bad input -> 400."""
        descriptor = self.runtime.provider.find(name, namespace)
        if descriptor is None or not self._visible_action(ctx, name, namespace):
            # Mistral answers 400, naming the action (not the namespace)
            raise InputError(f"Failed to find action [action_name={name}]")
        descriptor.check_parameters(action_input)
        try:
            return bool(descriptor.instantiate(dict(action_input)).is_sync())
        except Exception:  # noqa: BLE001 - the runtime reports instantiation errors
            return True

    def _visible_action(self, ctx: RequestContext, name: str, namespace: str) -> bool:
        """False when the only stored definitions of ``name`` belong to projects the caller
        does not see (actions the providers know but nobody stored stay runnable)."""
        project = project_filter(ctx)
        if project is None:
            return True
        with self.session() as session:
            stored = db.find_visible(session, m.ActionDefinition, name, project_id=None,
                                     namespace=namespace)
            return stored is None or db.find_visible(
                session, m.ActionDefinition, name, project_id=project,
                namespace=namespace) is not None

    def forget(self, action_execution_id: str) -> None:
        """Drop the row of a sync run nobody asked to save (Mistral keeps none)."""
        with self.session() as session:
            row = session.get(m.ActionExecution, action_execution_id)
            if row is not None:
                db.delete_row(session, row)

    def complete(self, ctx: RequestContext, identifier: str, state: str, output: Any
                 ) -> dict[str, Any]:
        """Deliver the result (or pause/resume) of one of the caller's action executions."""
        with self.session() as session:
            self.lookup_owned(
                session, ctx, "action_executions", identifier, by_name=False,
                not_found=action_execution_not_found(identifier),
                refused=lambda r: f"Can not modify an action execution of another project "
                                  f"[id={identifier}]")
        return self.runtime.complete_action(identifier, state, output)

    def list_page(self, ctx: RequestContext, args: ListArgs, filterable: Sequence[str]) -> Page:
        """The caller's action executions, one page."""
        return self.page(ctx, "action_executions", args, filterable=filterable)

    def get(self, ctx: RequestContext, identifier: str) -> dict[str, Any]:
        """One visible action execution."""
        with self.session() as session:
            return row_dict(self.lookup(session, ctx, "action_executions", identifier,
                                        by_name=False,
                                        not_found=action_execution_not_found(identifier)))

    def delete(self, ctx: RequestContext, identifier: str) -> None:
        """Delete a completed ad-hoc action run ([api] allow_action_execution_deletion)."""
        if not self.conf.api.allow_action_execution_deletion:
            raise NotAllowed("Action execution deletion is not allowed "
                             "([api] allow_action_execution_deletion)")
        with self.session() as session:
            row = self.lookup(session, ctx, "action_executions", identifier, by_name=False,
                              not_found=action_execution_not_found(identifier))
            if row.task_execution_id:
                raise NotAllowed(f"Only ad-hoc action executions can be deleted; this one "
                                 f"belongs to task {row.task_execution_id}")
            if row.state not in TERMINAL:
                raise NotAllowed(f"Only completed action executions can be deleted "
                                 f"[id={identifier}, state={row.state}]")
            if not may_change(ctx, row):
                raise NotAllowed(f"Can not delete an action execution of another project "
                                 f"[id={identifier}]")
            db.delete_row(session, row)
