"""Picking up interrupted work when the engine starts.

- executions stored but never started (crash right after ``start_workflow``)
  get their StartWorkflow event again;
- finished sub-workflows whose parent never heard of it get the parent's
  ActionCompleted again;
- ad-hoc action runs (outside workflows) still RUNNING end in ERROR (embedded);
- with ``redispatch_actions`` (embedded mode: the executor died with the
  process) actions still RUNNING are redelivered to the executor, which runs
  them again when their task has ``safe-rerun: true`` and fails them with a
  clear message otherwise (as Mistral does).

Timers need nothing: they are delayed_calls rows the scheduler fires.
The same check (without redelivering actions) runs periodically from the
scheduler: ``[engine] execution_integrity_check_delay``.
"""

from __future__ import annotations

import datetime as _dt
import logging
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wfaas.db import api
from wfaas.db import models as m
from wfaas.db.types import utcnow_precise
from wfaas.engine import ActionCompleted, RunAction, StartWorkflow
from wfaas.engine.states import WORKFLOW_TERMINAL as TERMINAL
from wfaas.services.dispatch import action_request
from wfaas.services.state_store import Loaded, load_state, meta_of

if TYPE_CHECKING:
    from wfaas.services.runtime import Runtime

LOG = logging.getLogger(__name__)


def recover(rt: Runtime, *, redispatch_actions: bool,
            older_than: _dt.datetime | None = None) -> None:
    """Re-send what a crash may have lost (see the module docstring).

    ``older_than`` limits the check to executions not changed since then (the
    periodic integrity check, which must not race with live work).
    """
    with rt.session() as s:
        rows = api.executions_in_states(s, ["RUNNING"])
        if older_than is not None:
            rows = [r for r in rows if (r.updated_at or r.created_at) < older_than]
        for row in rows:
            try:
                _recover_one(rt, s, row, redispatch_actions)
            except Exception:  # noqa: BLE001 - one broken execution must not stop start-up
                LOG.exception("Could not recover execution %s", row.id)
        if redispatch_actions and older_than is None:
            _fail_interrupted_adhoc_actions(s)


def _fail_interrupted_adhoc_actions(s: Session) -> None:
    """Ad-hoc action runs that were running when the process died end in ERROR."""
    message = "Interrupted: the executor stopped while the action was running"
    s.execute(update(m.ActionExecution)
              .where(m.ActionExecution.task_execution_id.is_(None),
                     m.ActionExecution.state == "RUNNING")
              .values(state="ERROR", state_info=message, output={"result": message},
                      updated_at=utcnow_precise())
              .execution_options(synchronize_session=False))


def _recover_one(rt: Runtime, s: object, row: m.WorkflowExecution, redispatch: bool) -> None:
    if row.engine_state is None:
        rt.engine.send(row.id, StartWorkflow(input=row.input or {}, params=row.params or {}))
        return
    st, _, _ = load_state(s, row)  # type: ignore[arg-type]
    for action in st.actions.values():
        if action.state != "RUNNING":
            continue
        if action.is_workflow:
            child = s.scalar(select(m.WorkflowExecution)  # type: ignore[attr-defined]
                             .where(m.WorkflowExecution.id == action.id))
            if child is not None and child.state in TERMINAL:
                rt.engine.send(row.id, ActionCompleted(action_id=action.id, state=child.state,
                                                       result=child.output,
                                                       state_info=child.state_info))
            continue
        if not redispatch:
            continue
        task = st.tasks.get(action.task_id)
        if task is None or task.state != "RUNNING":
            continue
        spec = rt.specs.spec_of_execution(row)
        tspec = spec.tasks.get(task.name)
        loaded = Loaded(meta_of(row), spec, st, row.version, True)
        safe = bool(tspec is not None and tspec.safe_rerun is True)
        cmd = RunAction(action_id=action.id, task_id=task.id, task_name=task.name,
                        action=action.name, input=action.input,
                        target=tspec.target if tspec and isinstance(tspec.target, str)
                        else None, index=action.index, rerun_no=task.rerun_no,
                        safe_rerun=safe)
        LOG.info("Redelivering interrupted action %s of task %s (safe-rerun: %s)",
                 action.name, task.name, safe)
        request = action_request(loaded.meta, cmd, loaded.state.env)
        request["_redelivered"] = True  # the executor fails it unless safe-rerun
        rt.transport.send_to_executor(request, cmd.target)
