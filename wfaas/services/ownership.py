"""Engine membership and execution ownership in a distributed deployment.

Every engine process keeps a row in the ``engines`` table fresh (``last_seen``,
every ``lease / 4`` seconds). Executions are partitioned by execution id
(``crc32(id) % PARTITIONS``) and each partition belongs to one *live* engine
(rendezvous hashing over the engines seen within ``lease`` seconds), so every
execution has exactly one owner while the membership is stable, and a new
one as soon as its owner's lease expires.

Events are routed by partition: after every beat the engine tells the
transport which partitions it owns (``engine_partitions``, a broker transport
only), and consumes only their queues, so two engines never step the same
execution (no compare-and-set conflicts, the engine's state cache stays
valid). The queues of a dead engine's partitions keep their messages (its
unacknowledged ones included) until the new owners, at their next beat after
its lease expired, subscribe to them.

The owner is also responsible for what only a step's aftermath can lose:
what a step *sends after its commit* is lost with the process that committed it:
the action requests, the start of a sub-workflow, the completion a finished
sub-workflow sends to its parent. When an engine leaves (its row is older
than the lease) every live engine *sweeps* the RUNNING executions it owns
now and sends again:

- the start event of an execution never started (no ``engine_state``);
- the request of every synchronous action that no executor accepted yet
  (executors accept durably, :mod:`wfaas.executors.acceptance`, so a copy of a
  request that is already queued or running is dropped, never run twice);
- the completion of every finished sub-workflow whose parent task still runs
  (a completion that was applied already changes nothing).

Every decision is logged at WARNING with the execution and action ids. The
integrity check (:mod:`wfaas.services.integrity`) looks only at the
executions this engine owns, so engines no longer race for the same lost
action.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import socket
import threading
import uuid
import zlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import delete, select, update
from sqlalchemy.engine import CursorResult

from wfaas.db import models as m
from wfaas.db.types import utcnow_precise
from wfaas.engine import ActionCompleted, StartWorkflow
from wfaas.rpc.partitions import PARTITIONS, partition_of
from wfaas.utils.periodic import PeriodicThread
from wfaas.utils.states import WORKFLOW_TERMINAL as TERMINAL

if TYPE_CHECKING:
    from wfaas.services.runtime import Runtime

LOG = logging.getLogger(__name__)
CHUNK = 500


__all__ = ["PARTITIONS", "Ownership", "owner_of", "partition_of"]


def owner_of(partition: int, engines: list[str]) -> str | None:
    """The engine owning ``partition`` among ``engines`` (rendezvous hashing: when an
    engine leaves, only its partitions move)."""
    if not engines:
        return None
    return max(engines, key=lambda e: zlib.crc32(f"{e}:{partition}".encode()))


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


class Ownership:
    """This engine's membership row, the partition ring and the hand-over sweep."""

    def __init__(self, rt: Runtime, *, lease: float = 10.0, grace: float = 3.0) -> None:
        self.rt = rt
        self.lease = lease
        #: actions and executions younger than this are left to the live dispatch
        self.grace = grace
        self.engine_id = uuid.uuid4().hex
        self._live: list[str] | None = None
        self._beats = PeriodicThread("wfaas-ownership", self.beat, max(0.2, lease / 4),
                                     at_start=True, log=LOG, failure="Engine heartbeat failed",
                                     level=logging.WARNING)
        self._lock = threading.Lock()
        #: the partitions last handed to the transport (None: not yet)
        self._routed: list[int] | None = None

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Register and beat every ``lease / 4`` seconds (lease <= 0: never)."""
        if self.lease > 0:
            self._beats.start()

    def stop(self) -> None:
        """Stop beating and leave (the others take the partitions over at once)."""
        self._beats.stop(10)
        try:
            with self.rt.session() as s:
                s.execute(delete(m.EngineMember).where(m.EngineMember.id == self.engine_id))
        except Exception:  # noqa: BLE001 - the lease expires anyway
            LOG.debug("Could not remove the engine row", exc_info=True)

    # ---------------------------------------------------------------- membership
    def live_engines(self) -> list[str]:
        """The engines seen alive at the last beat (this one included)."""
        with self._lock:
            return list(self._live or [self.engine_id])

    def owns(self, execution_id: str) -> bool:
        """True when this engine owns ``execution_id`` now."""
        return owner_of(partition_of(execution_id), self.live_engines()) == self.engine_id

    def beat(self) -> list[str]:
        """Refresh this engine's row, drop expired ones, sweep after a departure;
        returns the engines that left."""
        e = m.EngineMember
        now = utcnow_precise()
        limit = now - _dt.timedelta(seconds=self.lease)
        with self.rt.session() as s:
            result = s.execute(update(e).where(e.id == self.engine_id).values(last_seen=now))
            if not cast(CursorResult[Any], result).rowcount:
                if self._live is not None:
                    LOG.warning("Engine %s was taken for dead by the others (no heartbeat "
                                "for %.0f s); joining again", self.engine_id, self.lease)
                s.add(e(id=self.engine_id, host=socket.gethostname()[:255], pid=os.getpid(),
                        started_at=now, last_seen=now))
            rows = s.execute(select(e.id, e.last_seen)).all()
            expired = [r[0] for r in rows if r[1] < limit and r[0] != self.engine_id]
            if expired:
                s.execute(delete(e).where(e.id.in_(expired), e.last_seen < limit))
        live = sorted({r[0] for r in rows if r[0] not in expired} | {self.engine_id})
        with self._lock:
            previous, self._live = self._live, live
        self._route(live)
        left = sorted(set(expired) | (set(previous or ()) - set(live)))
        if left:
            LOG.warning("Engine(s) %s stopped (no heartbeat for %.0f s): %d live engine(s) "
                        "take their executions over", ", ".join(left), self.lease, len(live))
            self.sweep()
        elif previous is not None and previous != live:
            LOG.info("Engines now: %s", ", ".join(live))
        return left

    def partitions(self, live: list[str] | None = None) -> list[int]:
        """The partitions this engine owns among ``live`` (default: the last beat's)."""
        engines = live if live is not None else self.live_engines()
        return [p for p in range(PARTITIONS) if owner_of(p, engines) == self.engine_id]

    def _route(self, live: list[str]) -> None:
        """Consume the queues of the partitions owned now (broker transports only)."""
        route: Callable[[list[int]], None] | None = getattr(
            self.rt.transport, "engine_partitions", None)
        mine = self.partitions(live)
        if route is None or mine == self._routed:
            return
        route(mine)
        self._routed = mine
        LOG.info("Engine %s consumes %d of %d partitions (%d live engine(s))",
                 self.engine_id, len(mine), PARTITIONS, len(live))

    # ---------------------------------------------------------------- hand-over
    def sweep(self) -> dict[str, int]:
        """Send again what the executions owned here may have lost (module docstring)."""
        counts = {"started": 0, "actions": 0, "children": 0}
        cutoff = utcnow_precise() - _dt.timedelta(seconds=self.grace)
        ex = m.WorkflowExecution
        with self.rt.session() as s:
            rows = s.execute(select(ex.id, ex.engine_state.is_(None), ex.input, ex.params,
                                    ex.created_at).where(ex.state == "RUNNING")).all()
        owned = [r for r in rows if self.owns(r[0])]
        for ex_id, never_started, inp, params, created in owned:
            if never_started and created < cutoff:
                LOG.warning("Hand-over: starting execution %s again (it never started)", ex_id)
                self.rt.engine.send(ex_id, StartWorkflow(input=inp or {}, params=params or {}))
                counts["started"] += 1
        ids = [r[0] for r in owned if not r[1]]
        for chunk in _chunks(ids):
            counts["actions"] += self._resend_unaccepted(chunk, cutoff)
            counts["children"] += self._resend_child_results(chunk)
        LOG.warning("Hand-over sweep of %d owned execution(s) done: %s", len(owned), counts)
        return counts

    def _resend_unaccepted(self, ex_ids: list[str], cutoff: _dt.datetime) -> int:
        from wfaas.services.integrity import rebuild_request

        a = m.ActionExecution
        sent = 0
        with self.rt.session() as s:
            actions = s.scalars(select(a).where(
                a.workflow_execution_id.in_(ex_ids), a.state == "RUNNING",
                a.accepted.is_(False), a.is_sync.is_(True), a.created_at < cutoff)).all()
            requests = [(act.id, act.workflow_execution_id, rebuild_request(self.rt, s, act))
                        for act in actions]
        for action_id, ex_id, request in requests:
            if request is None:
                continue
            LOG.warning("Hand-over: sending action %s (%s) of execution %s again: no executor "
                        "accepted it (a copy already queued is dropped by the executors)",
                        action_id, request.get("action"), ex_id)
            self.rt.transport.send_to_executor(request, request.get("target"))
            sent += 1
        return sent

    def _resend_child_results(self, ex_ids: list[str]) -> int:
        child, t = m.WorkflowExecution, m.TaskExecution
        with self.rt.session() as s:
            rows = s.execute(select(child.id, child.parent_execution_id, child.state,
                                    child.output, child.state_info)
                             .join(t, t.id == child.task_execution_id)
                             .where(child.parent_execution_id.in_(ex_ids),
                                    child.state.in_(TERMINAL), t.state == "RUNNING")).all()
        for child_id, parent_id, state, output, info in rows:
            LOG.warning("Hand-over: telling execution %s again that its sub-workflow %s "
                        "finished (%s)", parent_id, child_id, state)
            self.rt.engine.send(parent_id, ActionCompleted(action_id=child_id, state=state,
                                                           result=output, state_info=info))
        return len(rows)
