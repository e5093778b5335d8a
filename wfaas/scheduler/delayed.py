"""The persistent delayed-call scheduler (the engine's timers, plus periodic hooks).

Delayed calls are rows of ``delayed_calls``. The scheduler thread sleeps until
the earliest due time and is woken early by :meth:`DelayedCallScheduler.wake`
when a nearer call is added; due calls are claimed with a conditional UPDATE
(:func:`wfaas.db.api.claim_due_calls`) so two schedulers never fire one call
twice. A fired call stays in the table (claimed) until its handler deletes it,
normally in the same transaction that applies its effect, so a crash between
claim and effect only delays it (see :meth:`release_claims`).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from wfaas import metrics
from wfaas.db import api
from wfaas.db import models as m
from wfaas.db.session import session_scope
from wfaas.utils.dueloop import DueLoop

LOG = logging.getLogger(__name__)

FireHandler = Callable[[dict[str, Any]], None]
#: ``hook(now) -> next due time or None``, run with every scheduler pass (integrity check)
Hook = Callable[[float], "float | None"]


def owner_id() -> str:
    """A unique name for this scheduler instance: host:pid:random."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class DelayedCallScheduler(DueLoop):
    """Fires due delayed calls by handing their rows (as dicts) to ``on_fire``.

    ``max_sleep`` caps a sleep (None: sleep exactly until the next due time;
    needed only when other processes add calls, since they cannot wake us).
    """

    loop_name = "wfaas-scheduler"

    def __init__(self, sessions: sessionmaker[Session], on_fire: FireHandler, *,
                 max_sleep: float | None = None, batch_size: int = 100,
                 clock: Callable[[], float] = time.time, stale_after: float = 300.0,
                 hooks: list[Hook] | None = None) -> None:
        self.sessions = sessions
        self.hooks: list[Hook] = list(hooks or [])
        self.on_fire = on_fire
        self.max_sleep = max_sleep
        self.batch_size = batch_size
        self.clock = clock
        self.stale_after = stale_after
        self.owner = owner_id()
        self._init_loop()

    # ------------------------------------------------------------------ control
    def start(self) -> None:
        """Start the scheduler thread."""
        self._start_loop()

    def stop(self) -> None:
        """Stop the thread (waits for the current batch to be handed over)."""
        self._stop_loop()

    def wake(self, due: float | None = None) -> None:
        """A call due at ``due`` was added: wake up if that is earlier than planned."""
        self._wake_loop(due)

    def release_claims(self, *, everyone: bool = False) -> int:
        """Unclaim calls claimed but never completed (``everyone``: by any owner,
        for a single-process embedded database after a crash)."""
        stmt = update(m.DelayedCall).where(m.DelayedCall.claimed_by.is_not(None))
        if not everyone:
            stmt = stmt.where(m.DelayedCall.claimed_by == self.owner)
        with session_scope(self.sessions) as session:
            result = session.execute(stmt.values(claimed_by=None, claimed_at=None))
            return int(result.rowcount)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ loop
    def run_once(self) -> float | None:
        """Fire what is due now; return the next due time (None: nothing pending)."""
        now = self.clock()
        with session_scope(self.sessions) as session:
            calls = api.claim_due_calls(session, owner=self.owner, now=now,
                                        limit=self.batch_size, stale_after=self.stale_after)
            fired = [c.to_dict() for c in calls]
        for call in fired:
            metrics.scheduler_lag("delayed_call", now - float(call.get("due_at") or now))
            try:
                self.on_fire(call)
            except Exception:  # noqa: BLE001 - a bad call must not stop the scheduler
                LOG.exception("Delayed call %s (%s) failed", call["key"], call["kind"])
        nexts: list[float | None] = []
        for hook in self.hooks:
            try:
                nexts.append(hook(now))
            except Exception:  # noqa: BLE001
                LOG.exception("Scheduler hook failed")
        if len(fired) >= self.batch_size:
            return now
        with session_scope(self.sessions) as session:
            nexts.append(api.next_due_time(session))
        return min((n for n in nexts if n is not None), default=None)

    def _iterate(self) -> float | None:
        return self.run_once()
