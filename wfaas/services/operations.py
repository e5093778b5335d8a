"""The operations the API (and ``wfaas run``) call on the Runtime.

Each stores what must be stored, sends the event to the engine and, where the
caller expects the new state (pause, resume, stop, rerun, skip, complete),
waits event-driven for the engine to apply it. Results are row dicts.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from wfaas import metrics
from wfaas.db import api
from wfaas.db import models as m
from wfaas.db.start_insert import StartWriter
from wfaas.db.types import utcnow
from wfaas.engine import (
    ActionCompleted,
    ActionPaused,
    ActionResumed,
    Event,
    PauseWorkflow,
    RerunTask,
    ResumeWorkflow,
    SkipTask,
    StartWorkflow,
    StopWorkflow,
    check_vars,
    validate_workflow_input,
)
from wfaas.engine.states import WORKFLOW_TERMINAL as TERMINAL
from wfaas.exceptions import (
    ClientError,
    Conflict,
    InputError,
    NotAllowed,
    NotFound,
    SizeLimitExceeded,
)
from wfaas.executors.base import size_problem
from wfaas.services.limits import count_breach, project_problem
from wfaas.services.specs import spec_from_text
from wfaas.services.state_store import ExecutionMeta
from wfaas.utils.dicts import deep_merge
from wfaas.utils.logcontext import log_context

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from sqlalchemy import Engine

    from wfaas.rpc.base import Transport
    from wfaas.services.engine_service import EngineService
    from wfaas.services.specs import SpecResolver

LOG = logging.getLogger(__name__)

OP_TIMEOUT = 30.0


def resolve_env(session: Session | None, params: dict[str, Any]) -> dict[str, Any]:
    """Replace an environment name in ``params['env']`` by its variables (``session``
    None: the caller has already replaced it)."""
    env = params.get("env")
    if isinstance(env, str) and session is not None:
        row = api.find_by_name(session, m.Environment, env)
        if row is None:
            # Mistral: 400 "Environment is not found: <name>" (an input problem).
            raise InputError(f"Environment is not found: {env}")
        params = {**params, "env": dict(row.variables or {})}
    elif env is not None and not isinstance(env, dict):
        raise InputError("params.env must be an object or an environment name")
    return params


ENV_UPDATABLE = ("IDLE", "PAUSED", "ERROR")


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


class Operations:
    """Mixin of :class:`wfaas.services.runtime.Runtime` with the public operations."""

    if TYPE_CHECKING:
        db: Engine
        specs: SpecResolver
        engine: EngineService
        transport: Transport
        provider: Any
        field_size_limit_kb: int

        def session(self, *, readonly: bool = False) -> AbstractContextManager[Session]: ...

        def wait_for(self, predicate: Callable[[Session], Any], timeout: float) -> Any: ...

    # ------------------------------------------------------------------ executions
    def start_workflow(self, identifier: str, *, namespace: str = "",
                       input: dict[str, Any] | None = None,
                       params: dict[str, Any] | None = None, description: str = "",
                       execution_id: str | None = None,
                       source_execution_id: str | None = None,
                       security: dict[str, Any] | None = None,
                       project_id: str | None = None) -> dict[str, Any]:
        """Store a new execution of a workflow (by id or name) and start it.

        Returns as soon as the execution is stored (state RUNNING); bad input
        raises InputError before anything is stored. ``security`` is the caller's
        security context (``wfaas.actions.base.SecurityContext`` fields: auth_token,
        trust_id, project_id ...) that its actions (and sub-workflows) run with;
        ``project_id`` the project owning the execution (default: the workflow's).
        """
        input = dict(input or {})
        params = dict(params or {})
        for field, value in (("input", input), ("params", params)):
            problem = size_problem("WorkflowExecution", field, value,
                                   self.field_size_limit_kb)
            if problem:
                metrics.limit_breached("engine.execution_field_size_limit_kb")
                raise SizeLimitExceeded(problem)
        ex_id = execution_id or str(uuid.uuid4())
        row = {"id": ex_id, "root_execution_id": ex_id, "description": description or "",
               "state": "RUNNING", "source_execution_id": source_execution_id,
               "security": security, "project_id": project_id}
        wf, spec, result = self._store_start(identifier, namespace, input, params, row)
        input, params = result["input"], result["params"]
        self.engine.prime(ExecutionMeta(
            ex_id, wf.name, wf.namespace, wf.id, None, None, ex_id,
            result["project_id"], security), spec)
        with log_context(execution_id=ex_id, project_id=result["project_id"]):
            LOG.info("Execution %s of workflow %s started", ex_id, wf.name)
        self.engine.send(ex_id, StartWorkflow(input=input, params=params))
        metrics.execution_started()
        return result

    def _store_start(self, identifier: str, namespace: str, input: dict[str, Any],
                     params: dict[str, Any], row: dict[str, Any]
                     ) -> tuple[Any, Any, dict[str, Any]]:
        """Check and insert a new execution: ``(workflow, spec, stored row)``. The common
        start (a plain workflow, no environment name, no per-project limit) runs two
        prebuilt statements on the DBAPI connection (:mod:`wfaas.db.start_insert`); the
        rest, and any workflow not found that way, goes through a Session."""
        writer = StartWriter.of(self.db)
        if (writer is not None and not isinstance(params.get("env"), str)
                and self.engine.limits.max_running_per_project <= 0):
            with writer.transaction(write=False) as tx:
                wf = tx.find_workflow(identifier, namespace)
            if wf is not None and not wf.workbook_name:
                spec = spec_from_text(wf.definition, wf.name)
                values = self._start_values(None, wf, spec, input, params, row)
                with writer.transaction() as tx:
                    return wf, spec, tx.insert_execution(values)
        # the definition, its checks and the environment from a snapshot: the write
        # transaction (the project limit and the insert) holds the lock for less
        with self.session(readonly=True) as s:
            wf = api.workflow_definition_brief(s, identifier, namespace=namespace)
            text = self.specs.execution_text(s, wf)
            spec = spec_from_text(text, wf.name)
            values = self._start_values(s, wf, spec, input, params, row)
            values["spec"] = text
        with self.session() as s:
            problem = project_problem(s, self.engine.limits, values["project_id"])
            if problem:
                count_breach(problem)
                raise Conflict(problem)
            return wf, spec, api.insert_row(s, m.WorkflowExecution, **values)

    @staticmethod
    def _start_values(session: Session | None, wf: Any, spec: Any, input: dict[str, Any],
                      params: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
        """The checked columns of a new execution of ``wf`` (input defaults filled in,
        an environment name resolved with ``session``); bad input raises InputError."""
        input = validate_workflow_input(spec, input)
        params = resolve_env(session, params)
        check_vars(spec, input, params)  # Mistral: a failing 'vars' is a 400 at start
        params.setdefault("namespace", wf.namespace)
        # as the engine's start normalises them (Mistral shows params.env from the start):
        # the first step then does not store them again (with them the body row, input
        # and spec included)
        params.setdefault("env", {})
        if spec.type == "reverse" and params.get("task_name") not in spec.tasks:
            # Mistral: 400 "Invalid task name [...]" for a missing or unknown target
            raise InputError(f"Invalid task name [wf={wf.name}, "
                             f"task_name={params.get('task_name')}]: reverse workflow "
                             f"{wf.name} needs params.task_name naming one of its tasks")
        return {**row, "workflow_name": wf.name, "workflow_namespace": wf.namespace,
                "workflow_id": wf.id, "spec": wf.definition, "input": input,
                "params": params, "project_id": row["project_id"] or wf.project_id}

    def _execution(self, s: Session, ex_id: str) -> m.WorkflowExecution:
        return api.get(s, m.WorkflowExecution, ex_id)

    def _send_and_wait(self, ex_id: str, event: Event,
                       done: Any) -> dict[str, Any]:
        # reads take a snapshot: a cancel does not wait for the write lock to read
        with self.session(readonly=True) as s:
            version = self._execution(s, ex_id).version
        self.engine.send(ex_id, event)

        def check(s: Session) -> dict[str, Any] | None:
            row = api.find(s, m.WorkflowExecution, ex_id)
            if row is None:
                raise NotFound(f"Workflow execution not found [id={ex_id}]")
            return row.to_dict() if row.version > version and done(row) else None

        result = self.wait_for(check, OP_TIMEOUT)
        if not result:
            with self.session(readonly=True) as s:
                return self._execution(s, ex_id).to_dict()
        return result  # type: ignore[no-any-return]

    def pause_execution(self, id: str) -> dict[str, Any]:
        """Pause a RUNNING execution (running actions finish, no new task starts)."""
        with self.session(readonly=True) as s:
            row = self._execution(s, id)
            if row.state == "PAUSED":
                return row.to_dict()
            if row.state != "RUNNING":
                raise NotAllowed(f"Can not pause execution {id} in state {row.state}")
        return self._send_and_wait(id, PauseWorkflow(),
                                   lambda r: r.state != "RUNNING")

    def resume_execution(self, id: str, env: dict[str, Any] | None = None
                         ) -> dict[str, Any]:
        """Resume a PAUSED execution, merging ``env`` into its environment."""
        with self.session(readonly=True) as s:
            row = self._execution(s, id)
            if row.state == "RUNNING":
                return row.to_dict()
            if row.state != "PAUSED":
                raise NotAllowed(f"Can not resume execution {id} in state {row.state}")
        return self._send_and_wait(id, ResumeWorkflow(env=env),
                                   lambda r: r.state != "PAUSED")

    def stop_execution(self, id: str, state: str, message: str | None = None
                       ) -> dict[str, Any]:
        """Force an execution to CANCELLED, ERROR or SUCCESS."""
        if state not in TERMINAL:
            raise ClientError(f"Invalid state {state!r}: use SUCCESS, ERROR or CANCELLED")
        with self.session(readonly=True) as s:
            row = self._execution(s, id)
            if row.state in TERMINAL:
                if row.state == state:
                    return row.to_dict()
                raise NotAllowed(f"Execution {id} is already {row.state}")
        return self._send_and_wait(id, StopWorkflow(state=state, message=message),
                                   lambda r: r.state in TERMINAL)

    def update_execution_env(self, id: str, env: dict[str, Any]) -> dict[str, Any]:
        """Deep-merge ``env`` into the environment of an IDLE, PAUSED or ERROR execution:
        its ``params.env`` and the engine state, so a later resume, rerun or ``env()``
        sees it. Compare-and-set on the row version (retried if the engine moved on)."""
        for _ in range(20):
            with self.session() as s:
                row = self._execution(s, id)
                if row.state not in ENV_UPDATABLE:
                    raise NotAllowed(f"The env of an execution can only change while it is "
                                     f"IDLE, PAUSED or ERROR [id={id}, state={row.state}]")
                params = dict(row.params or {})
                params["env"] = deep_merge(_dict(params.get("env")), env)
                values: dict[str, Any] = {"params": params, "updated_at": utcnow()}
                if row.engine_state is not None and "env" in row.engine_state:
                    # started, with an env of its own (evaluated): merge there too
                    engine_state = dict(row.engine_state)
                    engine_state["env"] = deep_merge(_dict(engine_state.get("env")), env)
                    values["engine_state"] = engine_state
                if api.update_execution_cas(s, id, row.version, **values):
                    break
        else:
            raise NotAllowed(f"Execution {id} kept changing: its env was not updated")
        # an engine holding this execution in its cache fails its next compare-and-set
        # on the version and reloads the state with the new env
        with self.session() as s:
            return self._execution(s, id).to_dict()

    def wait_execution(self, id: str, timeout: float) -> dict[str, Any]:
        """Block until the execution is finished (or ``timeout`` s); return its row."""
        def check(s: Session) -> dict[str, Any] | None:
            row = self._execution(s, id)
            return row.to_dict() if row.state in TERMINAL else None

        result = self.wait_for(check, timeout)
        if result:
            return result  # type: ignore[no-any-return]
        with self.session() as s:
            return self._execution(s, id).to_dict()

    # ------------------------------------------------------------------ tasks
    def _task_op(self, task_id: str, event: Event,
                 allowed: tuple[str, ...], what: str) -> dict[str, Any]:
        with self.session() as s:
            task = api.get(s, m.TaskExecution, task_id)
            if task.state not in allowed:
                raise NotAllowed(f"Can not {what} task {task.name} [id={task_id}] in state "
                                 f"{task.state}")
            ex_id = task.workflow_execution_id
        self._send_and_wait(ex_id, event, lambda r: True)
        with self.session() as s:
            return api.get(s, m.TaskExecution, task_id).to_dict()

    def rerun_task(self, task_id: str, reset: bool = True,
                   env: dict[str, Any] | None = None) -> dict[str, Any]:
        """Re-run a task in ERROR (its execution goes back to RUNNING)."""
        return self._task_op(task_id, RerunTask(task_id=task_id, reset=reset, env=env),
                             ("ERROR", "CANCELLED"), "rerun")

    def skip_task(self, task_id: str) -> dict[str, Any]:
        """Skip a task in ERROR: it becomes SKIPPED and the workflow continues."""
        return self._task_op(task_id, SkipTask(task_id=task_id),
                             ("ERROR",), "skip")

    # ------------------------------------------------------------------ actions
    def run_action(self, name: str, input: dict[str, Any], *, namespace: str = "",
                   params: dict[str, Any] | None = None, description: str = "",
                   security: dict[str, Any] | None = None,
                   project_id: str | None = None) -> dict[str, Any]:
        """Run one action outside a workflow; waits for it unless
        ``params.run_sync`` is false or the action is asynchronous. ``project_id``
        owns the action execution (default: the model's default project)."""
        params = dict(params or {})
        descriptor = self.provider.find(name, namespace)
        if descriptor is None:
            raise NotFound(f"Failed to find action [action_name={name}, "
                           f"namespace={namespace}]")
        descriptor.check_parameters(input or {})
        with self.session() as s:
            row = api.create(s, m.ActionExecution, name=name, namespace=namespace,
                             description=description or "", state="RUNNING", accepted=True,
                             input=input or {}, params=params, runtime_context={},
                             security=security,
                             **({"project_id": project_id} if project_id else {}))
            action_id = row.id
            created = row.to_dict()
        request = {"action_id": action_id, "execution_id": None, "action": name,
                   "namespace": namespace, "input": input or {},
                   "timeout": params.get("timeout"),
                   "context": {"execution": {"action_execution_id": action_id},
                               "security": security or {}}}
        self.transport.send_to_executor(request, params.get("target"))
        if params.get("run_sync") is False:
            # as Mistral answers: the execution as created (RUNNING), not a read after
            # the dispatch, which a fast action may already have finished
            return created

        def check(s: Session) -> dict[str, Any] | None:
            row = api.get(s, m.ActionExecution, action_id)
            return row.to_dict() if row.state in TERMINAL else None

        timeout = float(params.get("timeout") or OP_TIMEOUT * 10)
        result = self.wait_for(check, timeout)
        if result:
            return result  # type: ignore[no-any-return]
        with self.session() as s:
            return api.get(s, m.ActionExecution, action_id).to_dict()

    def complete_action(self, action_execution_id: str, state: str, output: Any
                        ) -> dict[str, Any]:
        """Report the result of an (asynchronous) action execution.

        ``state`` SUCCESS / ERROR / CANCELLED delivers the result; PAUSED pauses
        the action (and its task and workflow), RUNNING resumes it.
        """
        if state not in (*TERMINAL, "PAUSED", "RUNNING"):
            raise ClientError(f"Invalid state {state!r}: use SUCCESS, ERROR, CANCELLED, "
                              "PAUSED or RUNNING")
        with self.session() as s:
            row = api.get(s, m.ActionExecution, action_execution_id)
            if row.state in TERMINAL:
                raise NotAllowed(f"Action execution {action_execution_id} is already "
                                 f"{row.state}")
            ex_id = row.workflow_execution_id
        if state == "PAUSED":
            event: Event = ActionPaused(action_id=action_execution_id)
        elif state == "RUNNING":
            event = ActionResumed(action_id=action_execution_id)
        else:
            event = ActionCompleted(action_id=action_execution_id, state=state, result=output,
                                    state_info=str(output) if state == "ERROR" else None)
        if ex_id is not None and state in ("PAUSED", "RUNNING"):
            self._send_and_wait(ex_id, event, lambda r: True)
        else:
            self.transport.send_to_engine({"execution_id": ex_id, "event": event.to_dict()})

            def check(s: Session) -> dict[str, Any] | None:
                row = api.get(s, m.ActionExecution, action_execution_id)
                return row.to_dict() if row.state in TERMINAL else None

            self.wait_for(check, OP_TIMEOUT)
        with self.session() as s:
            return api.get(s, m.ActionExecution, action_execution_id).to_dict()
