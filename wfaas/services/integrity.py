"""The integrity check of a distributed deployment (runs in every engine process).

Every ``interval`` seconds it looks for

- **lost actions**: synchronous actions still RUNNING whose executor stopped
  sending heartbeats (``heartbeat_timeout`` after the last one) or that no
  executor ever accepted (``first_heartbeat_timeout`` after the dispatch). A
  task with ``safe-rerun: true`` gets its action sent to an executor again;
  any other fails with a message saying that the executor was lost;
- **stuck executions**: RUNNING executions untouched for ``stuck_timeout``
  seconds with nothing that could move them on (no running action, timer or
  sub-workflow). One never started gets its start event again; any other is
  failed with the reason.

Several engines may check at once: each lost action is claimed with a
conditional UPDATE first, so only one of them acts on it.
"""

from __future__ import annotations

import datetime as _dt
import logging
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from wfaas.db import models as m
from wfaas.db.types import utcnow_precise
from wfaas.engine import ActionCompleted, RunAction, StartWorkflow
from wfaas.services.dispatch import action_request
from wfaas.services.state_store import meta_of
from wfaas.utils.periodic import PeriodicThread

if TYPE_CHECKING:
    from wfaas.services.runtime import Runtime

LOG = logging.getLogger(__name__)
LOST_MESSAGE = ("Action {action} of task '{task}' was lost: its executor stopped sending "
                "heartbeats (the task is not safe-rerun, so it is not run again)")


def rebuild_request(rt: Runtime, s: Session, action: m.ActionExecution) -> dict[str, Any] | None:
    """The executor request of a stored workflow action (None when its execution or
    task is gone)."""
    ex_row = s.get(m.WorkflowExecution, action.workflow_execution_id)
    task = s.get(m.TaskExecution, action.task_execution_id)
    if ex_row is None or task is None:
        return None
    tspec = rt.specs.spec_of_execution(ex_row).tasks.get(task.name)
    rc = action.runtime_context or {}
    target = tspec.target if tspec and isinstance(tspec.target, str) else None
    cmd = RunAction(action_id=action.id, task_id=task.id, task_name=task.name,
                    action=action.name, input=action.input or {}, target=target,
                    safe_rerun=bool(tspec is not None and tspec.safe_rerun is True),
                    index=int(rc.get("index", 0)),
                    rerun_no=int((task.engine_state or {}).get("rerun_no", 0)))
    return action_request(meta_of(ex_row), cmd, (ex_row.params or {}).get("env") or None)


class IntegrityChecker:
    """Re-runs or fails lost actions and resumes or fails stuck executions."""

    def __init__(self, rt: Runtime, *, interval: float, heartbeat_timeout: float,
                 first_heartbeat_timeout: float, stuck_timeout: float,
                 batch_size: int = 500, engine_lease: float = 0.0) -> None:
        from wfaas.services.ownership import Ownership

        self.rt = rt
        #: engine membership and execution ownership (engine_lease <= 0: every engine
        #: checks every execution, and nothing is handed over)
        self.ownership = Ownership(rt, lease=engine_lease) if engine_lease > 0 else None
        self.interval = interval
        self.heartbeat_timeout = heartbeat_timeout
        self.first_heartbeat_timeout = first_heartbeat_timeout
        self.stuck_timeout = stuck_timeout
        self.batch_size = batch_size
        self._checks = PeriodicThread("wfaas-integrity", self.run_once, interval, log=LOG,
                                      failure="Integrity check failed")

    @staticmethod
    def settings(conf: Any) -> dict[str, float]:
        """The ``[action_heartbeat]`` values (stuck check off when ``[engine]
        execution_integrity_check_delay`` < 0)."""
        hb = conf.action_heartbeat
        stuck = hb.stuck_execution_timeout
        if conf.engine.execution_integrity_check_delay < 0:
            stuck = 0.0
        return {"check_interval": hb.check_interval,
                "engine_lease": hb.engine_lease,
                "max_missed_heartbeats": float(hb.max_missed_heartbeats),
                "first_heartbeat_timeout": hb.first_heartbeat_timeout,
                "stuck_execution_timeout": stuck}

    @classmethod
    def from_settings(cls, rt: Runtime, values: dict[str, float]) -> IntegrityChecker:
        """A checker from :meth:`settings` values (empty: never checks)."""
        interval = values.get("check_interval", 0.0)
        return cls(rt, interval=interval,
                   heartbeat_timeout=interval * values.get("max_missed_heartbeats", 6.0),
                   first_heartbeat_timeout=values.get("first_heartbeat_timeout", 3600.0),
                   stuck_timeout=values.get("stuck_execution_timeout", 0.0),
                   engine_lease=values.get("engine_lease", 0.0) if interval > 0 else 0.0)

    def start(self) -> None:
        """Check every ``interval`` seconds in a daemon thread (interval <= 0: never)."""
        if self.interval <= 0 or self._checks.running:
            return
        if self.ownership is not None:
            self.ownership.start()
        self._checks.start()

    def stop(self) -> None:
        """Stop checking."""
        self._checks.stop(10)
        if self.ownership is not None:
            self.ownership.stop()

    # ---------------------------------------------------------------- one round
    def run_once(self) -> dict[str, int]:
        """One check; returns counts (rerun, failed, restarted, stuck)."""
        counts = {"rerun": 0, "failed": 0, "restarted": 0, "stuck": 0}
        now = utcnow_precise()
        for action_id, old_updated in self.lost_actions(now):
            self.handle_lost(action_id, old_updated, counts, now)
        if self.stuck_timeout > 0:
            self._handle_stuck(now, counts)
        if any(counts.values()):
            LOG.warning("Integrity check: %s", counts)
        return counts

    def lost_actions(self, now: _dt.datetime | None = None) -> list[tuple[str, Any]]:
        """(action id, its updated_at) of the lost actions, as seen now."""
        with self.rt.session() as s:
            return self._lost_actions(s, now or utcnow_precise())

    def _lost_actions(self, s: Session, now: _dt.datetime) -> list[tuple[str, Any]]:
        a, ex = m.ActionExecution, m.WorkflowExecution
        beat_limit = now - _dt.timedelta(seconds=self.heartbeat_timeout)
        first_limit = now - _dt.timedelta(seconds=self.first_heartbeat_timeout)
        touched = func.coalesce(a.updated_at, a.created_at)  # new rows have no updated_at
        stale = or_(and_(a.accepted.is_(True), touched < beat_limit),
                    and_(a.accepted.is_(False), touched < first_limit))
        rows = s.execute(select(a.id, a.updated_at, ex.id)
                         .join(ex, ex.id == a.workflow_execution_id)
                         .where(a.state == "RUNNING", a.is_sync.is_(True), ex.state == "RUNNING",
                                stale).limit(self.batch_size))
        owns = self.ownership.owns if self.ownership is not None else None
        return [(r[0], r[1]) for r in rows if owns is None or owns(r[2])]

    def handle_lost(self, action_id: str, old_updated: Any, counts: dict[str, int],
                    now: _dt.datetime | None = None) -> None:
        """Claim a lost action (unless someone else did or it got a heartbeat since
        ``old_updated``), then re-run it (safe-rerun) or fail it; updates ``counts``."""
        a = m.ActionExecution
        now = now or utcnow_precise()
        with self.rt.session() as s:
            result = s.execute(update(a).where(a.id == action_id, a.state == "RUNNING",
                                               a.updated_at.is_not_distinct_from(old_updated))
                               .values(updated_at=now))
            if not cast(CursorResult[Any], result).rowcount:
                return  # another engine took it, or a heartbeat arrived meanwhile
            action = s.get(a, action_id)
            if action is None:
                return
            ex_row = s.get(m.WorkflowExecution, action.workflow_execution_id)
            task = s.get(m.TaskExecution, action.task_execution_id)
            if ex_row is None or task is None:
                return
            spec = self.rt.specs.spec_of_execution(ex_row)
            tspec = spec.tasks.get(task.name)
            safe = tspec is not None and tspec.safe_rerun is True
            request = rebuild_request(self.rt, s, action) if safe else None
            if request is not None:
                action.accepted = False  # the next executor to see the request accepts it
            ex_id, name, task_name = ex_row.id, action.name, task.name
        if request is not None:
            LOG.warning("Re-running lost action %s (%s) of task %s of execution %s "
                        "(safe-rerun): its executor stopped sending heartbeats",
                        action_id, name, task_name, ex_id)
            self.rt.transport.send_to_executor(request, request.get("target"))
            counts["rerun"] += 1
            return
        message = LOST_MESSAGE.format(action=name, task=task_name)
        LOG.warning("%s (action %s, execution %s)", message, action_id, ex_id)
        self.rt.engine.send(ex_id, ActionCompleted(action_id=action_id, state="ERROR",
                                                   result=message, state_info=message))
        counts["failed"] += 1

    def _handle_stuck(self, now: _dt.datetime, counts: dict[str, int]) -> None:
        ex, a, d = m.WorkflowExecution, m.ActionExecution, m.DelayedCall
        child = m.EXECUTIONS.alias("child")
        limit = now - _dt.timedelta(seconds=self.stuck_timeout)
        with self.rt.session() as s:
            rows = s.execute(select(ex.id, ex.engine_state.is_(None), ex.input, ex.params).where(
                ex.state == "RUNNING", ex.updated_at < limit,
                ~exists().where(a.workflow_execution_id == ex.id, a.state == "RUNNING"),
                ~exists().where(d.execution_id == ex.id),
                ~exists().where(child.c.parent_execution_id == ex.id,
                                child.c.state.in_(("RUNNING", "PAUSED"))),
            ).limit(self.batch_size)).all()
        for ex_id, never_started, inp, params in rows:
            if never_started:
                self.rt.engine.send(ex_id, StartWorkflow(input=inp or {}, params=params or {}))
                counts["restarted"] += 1
                continue
            if self._has_running_subworkflow_task(ex_id):
                continue
            self.rt.engine.fail_execution(
                ex_id, f"Execution stuck in RUNNING: nothing ran, waited or changed for "
                       f"{self.stuck_timeout:.0f} s (integrity check)")
            counts["stuck"] += 1

    def _has_running_subworkflow_task(self, ex_id: str) -> bool:
        t = m.TaskExecution
        with self.rt.session() as s:
            return bool(s.scalar(select(t.id).where(
                t.workflow_execution_id == ex_id, t.state == "RUNNING",
                t.type == "WORKFLOW").limit(1)))
