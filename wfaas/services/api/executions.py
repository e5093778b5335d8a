"""Workflow executions as the API starts, reads, changes and deletes them (own project only).

Starting resolves the workflow with the caller's visibility (own, public, shared
and accepted), so a private workflow of another project cannot be started by id
or by name; an environment named in ``params.env`` must be one the caller sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select

from wfaas.db import api as db
from wfaas.db import models as m
from wfaas.db.listing import ListArgs
from wfaas.db.row_read import RowReader
from wfaas.db.session import read_connection
from wfaas.db.types import utcnow
from wfaas.exceptions import ClientError, InputError, NotAllowed, NotFound
from wfaas.services.api.base import Page, ServiceBase, row_dict
from wfaas.services.api.context import RequestContext, project_filter
from wfaas.services.api.definitions import WorkflowService
from wfaas.utils.states import WORKFLOW_TERMINAL as TERMINAL

#: what a GET reads: every column but the definition text and the engine's own state,
#: which grow with the workflow and are never on the wire (polling a 10k-task execution
#: must not cost more than polling a small one), and the credentials
WIRE_COLUMNS = tuple(c for c in m.columns_of(m.WorkflowExecution)
                     if c.key not in ("spec", "engine_state", "security"))
_EXECUTIONS = m.EXECUTIONS
#: the polled GET, prebuilt: any project (auth off, admin) or the caller's own
_GET_ANY = select(*WIRE_COLUMNS).select_from(m.WorkflowExecution.__table__).where(
    _EXECUTIONS.c.id == bindparam("pk"))
_GET_OWN = _GET_ANY.where(_EXECUTIONS.c.project_id == bindparam("project"))
#: the same two as prebuilt SQL (wfaas.db.row_read): the key columns, in the order of the
#: values of ``params`` in ``get``
_KEYS_ANY = (_EXECUTIONS.c.id,)
_KEYS_OWN = (_EXECUTIONS.c.id, _EXECUTIONS.c.project_id)


def not_found(identifier: str) -> str:
    """Mistral's message for a missing execution."""
    return f"WorkflowExecution not found [id={identifier}]"


@dataclass(frozen=True)
class StartRequest:
    """What ``POST /v2/executions`` asks for (fields already checked for type)."""

    workflow_id: str | None = None
    workflow_name: str | None = None
    namespace: str | None = None
    #: None: not given (a clone then takes the source's)
    input: dict[str, Any] | None = None
    params: dict[str, Any] | None = None
    description: str = ""
    execution_id: str | None = None
    source_execution_id: str | None = None


class ExecutionService(ServiceBase):
    """Workflow executions of the caller's project."""

    def load(self, session: Any, ctx: RequestContext, identifier: str) -> Any:
        """A visible execution row or 404."""
        return self.lookup(session, ctx, "executions", identifier, by_name=False,
                           not_found=not_found(identifier))

    def start(self, ctx: RequestContext, request: StartRequest) -> dict[str, Any]:
        """Start a workflow the caller can see; a client id the caller already used returns
        that execution (idempotent)."""
        if request.execution_id:
            with self.session() as session:
                existing = session.get(m.WorkflowExecution, request.execution_id)
                if existing is not None and (project_filter(ctx) is None
                                             or existing.project_id == ctx.project_id):
                    return row_dict(existing)
        req = request
        if req.source_execution_id:
            req = self._clone_source(ctx, req)
        identifier = req.workflow_id or req.workflow_name
        if not identifier:
            raise ClientError("Field 'workflow_id' or 'workflow_name' is required")
        params = dict(req.params or {})
        namespace = req.namespace or params.get("namespace") or ""
        wf_id = identifier
        if project_filter(ctx) is not None or isinstance(params.get("env"), str):
            # scoped: resolve here, what the caller cannot see is a 404 (unscoped, the
            # runtime resolves the identifier itself: no extra transaction per start)
            with self.session() as session:
                wf_id = WorkflowService(self.runtime, self.conf).resolve(
                    session, ctx, identifier, namespace).id
                params = self._resolve_env(session, ctx, params)
        extra: dict[str, Any] = {}
        if ctx.auth_enabled:  # run as the caller: its security context, owned by its project
            extra = {"security": dict(ctx.security or {}), "project_id": ctx.project_id}
        return self.runtime.start_workflow(
            wf_id, namespace=namespace, input=dict(req.input or {}), params=params,
            description=req.description, execution_id=req.execution_id or None,
            source_execution_id=req.source_execution_id or None, **extra)

    def _resolve_env(self, session: Any, ctx: RequestContext, params: dict[str, Any]
                     ) -> dict[str, Any]:
        env = params.get("env")
        if isinstance(env, str):
            try:
                row = self.lookup(session, ctx, "environments", env, by_name=True,
                                  not_found=env)
            except NotFound:
                # Mistral: 400 "Environment is not found: <name>" (an input problem)
                raise InputError(f"Environment is not found: {env}") from None
            params = {**params, "env": dict(row.variables or {})}
        return params

    def _clone_source(self, ctx: RequestContext, req: StartRequest) -> StartRequest:
        with self.session() as session:
            source = row_dict(self.load(session, ctx, req.source_execution_id or ""))
        workflow_id = req.workflow_id if req.workflow_id is not None else source["workflow_id"]
        name, namespace = req.workflow_name, req.namespace
        if workflow_id is None:
            name = source["workflow_name"]
            namespace = namespace if namespace is not None else (
                source.get("workflow_namespace") or "")
        description = (req.description or "").strip()
        description = (f"{description} " if description else "") + \
            f"Based on the execution '{req.source_execution_id}'"
        return StartRequest(workflow_id, name, namespace,
                            req.input if req.input is not None else source.get("input") or {},
                            req.params if req.params is not None else
                            source.get("params") or {}, description,
                            req.execution_id, req.source_execution_id)

    def list_page(self, ctx: RequestContext, args: ListArgs, filterable: Sequence[str],
             nulls: Sequence[str] = ()) -> Page:
        """The caller's executions, one page."""
        return self.page(ctx, "executions", args, filterable=filterable, nulls=nulls)

    def get(self, ctx: RequestContext, identifier: str, wait: float = 0.0) -> dict[str, Any]:
        """One execution (its wire columns); ``wait`` holds until it is finished."""
        project = project_filter(ctx)
        params = {"pk": identifier} if project is None else {"pk": identifier,
                                                             "project": project}
        statement = _GET_ANY if project is None else _GET_OWN
        reader = RowReader.of(self.runtime.db, WIRE_COLUMNS, _KEYS_ANY if project is None
                              else _KEYS_OWN, m.WorkflowExecution.__table__)

        def read() -> dict[str, Any]:
            # prebuilt SQL on a pooled DBAPI connection (wfaas.db.row_read); other databases:
            # a prebuilt Core SELECT on a snapshot connection. No session, no write lock.
            if reader is not None:
                found: dict[str, Any] | None = reader.one(*params.values())
            else:
                with read_connection(self.runtime.db) as conn:
                    row = conn.execute(statement, params).first()
                found = None if row is None else dict(row._mapping)
            if found is None:
                raise NotFound(not_found(identifier))
            return found

        row = read()
        if wait and row["state"] not in TERMINAL:
            self.runtime.wait_execution(identifier, wait)  # event-driven
            row = read()
        return row

    def _owned(self, ctx: RequestContext, identifier: str, verb: str) -> dict[str, Any]:
        with self.session() as session:
            return row_dict(self.lookup_owned(
                session, ctx, "executions", identifier, by_name=False,
                not_found=not_found(identifier),
                refused=lambda r: f"Can not {verb} an execution of another project "
                                  f"[id={identifier}]"))

    def change_state(self, ctx: RequestContext, identifier: str, state: str,
                     info: str | None, env: dict[str, Any] | None) -> dict[str, Any]:
        """Pause (PAUSED), resume (RUNNING) or stop (SUCCESS, ERROR, CANCELLED)."""
        self._owned(ctx, identifier, "modify")
        runtime = self.runtime
        if state == "PAUSED":
            return runtime.pause_execution(identifier)
        if state == "RUNNING":
            return runtime.resume_execution(identifier, env=env)
        if state in TERMINAL:
            return runtime.stop_execution(identifier, state, message=info)
        raise ClientError(f"Invalid state '{state}'; use PAUSED, RUNNING, SUCCESS, ERROR or "
                          "CANCELLED")

    def update(self, ctx: RequestContext, identifier: str, description: str | None,
               env: dict[str, Any] | None) -> dict[str, Any]:
        """Change the description and/or merge ``env`` into the execution's environment."""
        self._owned(ctx, identifier, "modify")
        if env is not None:  # params.env and the engine state (a later resume/rerun sees it)
            self.runtime.update_execution_env(identifier, env)
        with self.session() as session:
            row = self.load(session, ctx, identifier)
            if description is not None:
                db.update_row(session, row, description=description, updated_at=utcnow())
                session.flush()
            return row_dict(row)

    def delete(self, ctx: RequestContext, identifier: str, force: bool) -> None:
        """Delete a finished execution and its children (any state with ``force``)."""
        row = self._owned(ctx, identifier, "delete")
        if row["state"] not in TERMINAL:
            if not force:
                raise NotAllowed(f"Only completed executions can be deleted; use force=true "
                                 f"to delete it anyway [id={identifier}, state={row['state']}]")
            try:
                self.runtime.stop_execution(identifier, "CANCELLED", message="Deleted with force")
            except Exception:  # noqa: BLE001 - deleting anyway, as asked
                pass
        with self.session() as session:
            db.delete_execution_tree(session, identifier)

    def tasks(self, ctx: RequestContext, identifier: str, args: ListArgs,
              filterable: Sequence[str]) -> Page:
        """The task executions of one visible execution, one page."""
        with self.session() as session:
            self.load(session, ctx, identifier)
        return self.page(ctx, "tasks", args, filterable=filterable,
                         equal={"workflow_execution_id": identifier})
