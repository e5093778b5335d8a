"""Durable acceptance of action requests (distributed mode).

An executor that receives a request first *accepts* it in the shared
database, with a compare-and-set on the action's row::

    UPDATE action_executions SET accepted = true, updated_at = now
     WHERE id = :action_id AND state = 'RUNNING' AND accepted = false

Only the executor whose UPDATE changed the row runs the action (the request
message is acknowledged when it finished). Every other copy of the request (a
redelivery after a broker restart or a reconnect, a request re-sent after an
engine died) finds the row accepted or finished and is dropped. So an action
runs at most once per dispatch, whatever the broker redelivers:

- accepted by an executor that is alive: its heartbeats keep the row fresh,
  the duplicate is dropped, the result comes from the first executor;
- accepted by an executor that died: the integrity check of the engines sees
  the heartbeats stop and re-runs the action (``safe-rerun``) or fails it;
- never accepted (the request waited in the queue or in a dead executor's
  prefetch): the first executor to see it runs it, once.

On PostgreSQL the claim is one autocommit statement that also sets
``synchronous_commit = off`` for its own transaction (one round trip, no disk
sync to wait for; ``[executor] durable_acceptance = true`` waits for it). Other
sessions see the claim at once, so duplicates among live executors are dropped
all the same; it reaches the disk with the next synchronous commit of any
session (at the latest the engine step applying the action's result) or the WAL
writer's next flush. Only a crash of PostgreSQL itself within that window can
forget a claim, and the action then ran once anyway unless a copy of its request
is delivered again before its result is applied.

Requests that arrive together are claimed together: while ``CLAIMS_AT_ONCE``
claims run, the next requests wait and are then claimed in one statement
(``WHERE id IN (...) RETURNING id``; :class:`wfaas.utils.batching.Batcher`). A
lone request is claimed at once. Sixteen handler threads therefore need one or
two database connections, not sixteen (a pool of 5 kept opening and closing
overflow connections: over 100 new PostgreSQL sessions per with-items of 1,000).

While an action runs, and until an engine applied its result, the executor
refreshes ``updated_at`` of its rows directly in the database (the heartbeat): a
result waiting in the broker (an outage, an engine's consumer reconnecting, a
backlog) does not make its action look lost. A finished action's row gets beats
until it is no longer RUNNING, for at most ``RESULT_GRACE`` seconds
(:mod:`wfaas.executors.base`).
"""

from __future__ import annotations

import enum
import logging
from typing import Any, cast

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, sessionmaker

from wfaas.db import models as m
from wfaas.db.session import session_scope
from wfaas.db.types import utcnow_precise
from wfaas.utils.batching import Batcher

LOG = logging.getLogger(__name__)
#: action ids claimed in one statement at most
MAX_CLAIMS = 200
#: claim statements running at once (per executor): a request arriving while they
#: run waits for the next one, with every other request that arrived meanwhile
CLAIMS_AT_ONCE = 2


class Verdict(enum.Enum):
    """What an executor does with a request after trying to accept it."""

    RUN = "run"            # accepted here now: run it
    FINISHED = "finished"  # the action is no longer RUNNING: drop the request
    TAKEN = "taken"        # another executor accepted it already: drop the request
    UNKNOWN = "unknown"    # no such row (e.g. deleted): drop the request


class Acceptance:
    """Accepts requests and records heartbeats on the action rows (see the module)."""

    def __init__(self, sessions: sessionmaker[Session], *, durable: bool = False) -> None:
        self.sessions = sessions
        bind = sessions.kw.get("bind")
        dialect = getattr(getattr(bind, "dialect", None), "name", "")
        #: claim in an autocommit statement (not on SQLite, see accept)
        self._autocommit = dialect != "sqlite"
        #: PostgreSQL: wait for the WAL flush of each claim ([executor] durable_acceptance)
        self.durable = durable or dialect != "postgresql"
        self._batcher: Batcher[str, Verdict] = Batcher(self.claim_many, max_batch=MAX_CLAIMS,
                                                       concurrency=CLAIMS_AT_ONCE)

    def accept(self, action_id: str, adhoc: bool = False) -> Verdict:
        """Claim ``action_id`` (see :meth:`claim`): requests of workflow actions that
        arrive while a claim runs are claimed together in one statement
        (:class:`wfaas.utils.batching.Batcher`), an ad-hoc action on its own."""
        if adhoc or not self._autocommit:
            return self.claim(action_id, adhoc)
        return self._batcher.submit(action_id)

    def claim_many(self, action_ids: list[str]) -> list[Verdict]:
        """Claim the workflow actions ``action_ids`` in one autocommit statement (one
        round trip: ``UPDATE ... WHERE id IN (...) RETURNING id``); their verdicts."""
        if len(action_ids) == 1:
            return [self.claim(action_ids[0])]
        a = m.ActionExecution
        claim = (update(a).where(a.id.in_(action_ids), a.state == "RUNNING",
                                 a.accepted.is_(False))
                 .values(accepted=True, updated_at=utcnow_precise()).returning(a.id))
        if not self.durable:
            claim = claim.where(select(func.set_config("synchronous_commit", "off", True))
                                .scalar_subquery().is_not(None))
        with self.sessions() as s:
            conn = s.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            won = set(conn.execute(claim).scalars())
            lost = [i for i in action_ids if i not in won]
            rows = (dict(conn.execute(select(a.id, a.state).where(a.id.in_(lost))).all())
                    if lost else {})
        verdicts = []
        for action_id in action_ids:
            if action_id in won:
                verdicts.append(Verdict.RUN)
            elif action_id not in rows:
                verdicts.append(Verdict.UNKNOWN)
            else:
                verdicts.append(Verdict.TAKEN if rows[action_id] == "RUNNING"
                                else Verdict.FINISHED)
        return verdicts

    def claim(self, action_id: str, adhoc: bool = False) -> Verdict:
        """Compare-and-set the row of ``action_id`` to accepted; the verdict says
        whether this executor runs it.

        An ad-hoc action run (``adhoc``: outside a workflow) is stored already
        accepted by the API; there, an executor claims the row while it has no
        ``updated_at`` yet (only executors set it).
        """
        a = m.ActionExecution
        fresh = a.updated_at.is_(None) if adhoc else a.accepted.is_(False)
        claim = (update(a).where(a.id == action_id, a.state == "RUNNING", fresh)
                 .values(accepted=True, updated_at=utcnow_precise()))
        if not self.durable:
            # SET LOCAL synchronous_commit = off for this statement's own transaction,
            # in the same round trip: no disk sync to wait for (see [executor]
            # durable_acceptance); other sessions see the claim at once all the same
            claim = claim.where(select(func.set_config("synchronous_commit", "off", True))
                                .scalar_subquery().is_not(None))
        if self._autocommit:
            # one statement, committed by itself: one round trip to the database
            # instead of three (BEGIN, UPDATE, COMMIT); it is atomic either way
            with self.sessions() as s:
                conn = s.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
                if cast(CursorResult[Any], conn.execute(claim)).rowcount:
                    return Verdict.RUN
                row = conn.execute(select(a.state, a.accepted)
                                   .where(a.id == action_id)).first()
        else:  # SQLite: writes go through session_scope's in-process write lock
            with session_scope(self.sessions) as s:
                if cast(CursorResult[Any], s.execute(claim)).rowcount:
                    return Verdict.RUN
                row = s.execute(select(a.state, a.accepted).where(a.id == action_id)).first()
        if row is None:
            return Verdict.UNKNOWN
        return Verdict.TAKEN if row[0] == "RUNNING" else Verdict.FINISHED

    def beat(self, running: list[str], async_ids: list[str]) -> set[str]:
        """Refresh the rows of the actions running here (and mark asynchronous ones);
        return the ids of ``running`` whose rows are no longer RUNNING (their results
        were applied: no more beats needed).

        Rows an engine step is writing right now are skipped (``SKIP LOCKED``):
        the step refreshes them anyway, and a heartbeat never waits for a step.
        """
        if not running and not async_ids:
            return set()
        a = m.ActionExecution
        now = utcnow_precise()
        with session_scope(self.sessions) as s:
            for ids, values in ((running, {"updated_at": now}),
                                (async_ids, {"is_sync": False, "updated_at": now})):
                if ids:
                    unlocked = (select(a.id).where(a.id.in_(ids), a.state == "RUNNING")
                                .with_for_update(skip_locked=True).scalar_subquery())
                    s.execute(update(a).where(a.id.in_(unlocked)).values(**values))
            if not running:
                return set()
            still = set(s.execute(select(a.id).where(a.id.in_(running),
                                                     a.state == "RUNNING")).scalars())
        return set(running) - still
