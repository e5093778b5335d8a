"""The engine's step watchdog: no execution can starve the others.

One thread looks at the engine steps in progress every ``interval`` seconds:

- **Extra workers.** When every engine worker has been inside one step for longer
  than ``slow_after`` seconds (a tenant's heavy expression) and other executions
  are ready, it starts one more worker, up to ``max_extra_workers``; extra workers
  leave after a few idle seconds. Other executions keep running.
- **Urgent operations.** A cancel (or any stop) or pause queued for an execution
  whose own step has been running for longer than ``slow_after`` is applied at once
  on the state last written, in another thread: the running step then loses its
  compare-and-set on the row version and is redone on the stopped state (cheap:
  late results of a finished workflow publish nothing).
- **Heavy decides** are noticed sooner, from inside the evaluation (the budget's
  :func:`~wfaas.expressions.budget.on_slow` hook, ``HEAVY_AFTER`` s into one
  execution's decide): in a batch, that execution leaves it (:class:`HeavyStep`) and
  is stepped alone after the others are committed, so cheap executions batched with
  it do not wait for it; a step running alone starts a spare worker at once (up to
  ``max_extra_workers``) so that events arriving meanwhile do not wait ``slow_after``.
- **Slow steps are recorded** (``guard_after`` seconds): a ``step_guard`` row in
  ``delayed_calls`` counts the attempts of that step persistently and is removed
  when the step ends. A process killed during a step leaves it behind; at the next
  start an execution whose step was interrupted ``max_step_attempts`` times is
  failed with "quarantined: ..." instead of being run again (and freezing again).
  A step running longer than ``max_step_seconds`` fails its execution the same way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from wfaas import metrics
from wfaas.db import models as m
from wfaas.db.session import session_scope
from wfaas.expressions.budget import on_slow
from wfaas.utils.periodic import PeriodicThread

if TYPE_CHECKING:
    from wfaas.services.engine_service import EngineService

LOG = logging.getLogger(__name__)
GUARD_KIND = "step_guard"
#: a guard row is not a timer: due in a year (the scheduler's handler keeps it when it
#: fires; a farther due time would overflow the scheduler's sleep)
GUARD_DUE_IN = 365 * 86400.0
URGENT_KINDS = frozenset({"stop_workflow", "pause_workflow"})
#: an execution whose decide has evaluated expressions for this long is heavy
HEAVY_AFTER = 0.02


class HeavyStep(BaseException):
    """Raised inside a heavy evaluation to take its execution out of a batch.

    A BaseException: the evaluators and ``decide`` turn every ``Exception`` into a
    task or engine failure; this one must reach the batch loop untouched."""


def _leave_batch() -> None:
    raise HeavyStep


def guard_key(ex_id: str) -> str:
    """The ``delayed_calls.key`` of an execution's step guard."""
    return f"step-guard:{ex_id}"


@dataclass
class RunningStep:
    """A batch of executions one worker is stepping right now."""

    ex_ids: list[str]
    started: float
    guarded: set[str] = field(default_factory=set)
    quarantined: bool = False
    #: the execution being decided right now (a batch decides one after the other)
    current: str | None = None

    def suspects(self) -> list[str]:
        """The executions a slow step is blamed on: the one being decided."""
        return [self.current] if self.current else list(self.ex_ids)


@dataclass
class WatchdogSettings:
    """Thresholds of the watchdog (``[limits]`` options)."""

    slow_after: float = 0.5
    max_extra_workers: int = 4
    guard_after: float = 2.0
    max_step_attempts: int = 3
    max_step_seconds: float = 120.0
    interval: float = 0.1


class StepWatchdog:
    """Watches the steps of one :class:`EngineService` (see the module docstring)."""

    def __init__(self, engine: EngineService, settings: WatchdogSettings | None = None
                 ) -> None:
        self.engine = engine
        self.settings = settings or WatchdogSettings()
        self._watch = PeriodicThread("wfaas-step-watchdog", lambda: self.check(time.monotonic()),
                                     self.settings.interval, log=LOG,
                                     failure="Step watchdog check failed")
        self._extra_lock = threading.Lock()
        self.extra_workers = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Quarantine what crashed too often, then watch in a daemon thread."""
        self.quarantine_interrupted()
        self._watch.start()

    def stop(self) -> None:
        """Stop watching."""
        self._watch.stop(1)

    # ------------------------------------------------------------------ one look
    def check(self, now: float) -> None:
        """One look at the running steps (called every ``interval`` seconds)."""
        s = self.settings
        running = self.engine.running_steps()
        slow = [r for r in running if now - r.started >= s.slow_after]
        if running and len(slow) == len(running) and self.engine.has_ready_work() \
                and self._add_extra():
            LOG.warning("Every engine worker is in a step running for over %.1f s: "
                        "started an extra worker (%d)", s.slow_after, self.extra_workers)
        for step in slow:
            for ex_id in step.suspects():
                urgent = self.engine.take_urgent(ex_id, URGENT_KINDS)
                if urgent:
                    LOG.info("Execution %s is in a step running for %.1f s: applying %s "
                             "at once", ex_id, now - step.started,
                             ", ".join(e["kind"] for e in urgent))
                    threading.Thread(target=self.engine.preempt, args=(ex_id, urgent),
                                     name="wfaas-engine-urgent", daemon=True).start()
            if now - step.started >= s.guard_after:
                self._guard(step, now)
            if s.max_step_seconds > 0 and now - step.started >= s.max_step_seconds \
                    and not step.quarantined:
                step.quarantined = True
                for ex_id in step.suspects():
                    self.engine.fail_execution(
                        ex_id, f"quarantined: a step ran longer than {s.max_step_seconds:g} s "
                               "([limits] max_step_seconds)")
                    metrics.limit_breached("limits.max_step_seconds")

    def _add_extra(self) -> bool:
        """Start an extra worker unless ``max_extra_workers`` run already."""
        with self._extra_lock:
            if self.extra_workers >= self.settings.max_extra_workers:
                return False
            self.extra_workers += 1
        self.engine.start_worker(extra=True, on_exit=self._extra_left)
        return True

    def _extra_left(self) -> None:
        with self._extra_lock:
            self.extra_workers -= 1

    # ------------------------------------------------------------------ heavy decides
    def spare(self) -> None:
        """A step running alone turned heavy: unless a worker is idle, start an extra
        one now, so that events arriving meanwhile do not wait for the watchdog."""
        if self.engine.idle_workers() <= 0 and self._add_extra():
            LOG.info("An engine step is heavy: started a spare worker (%d)",
                     self.extra_workers)

    def batched(self) -> AbstractContextManager[None]:
        """Around one execution's decide in a batch: raise :class:`HeavyStep` from its
        evaluation once it has run ``HEAVY_AFTER`` s."""
        return on_slow(HEAVY_AFTER, _leave_batch)

    @contextmanager
    def alone(self) -> Iterator[None]:
        """Around a step of one execution: :meth:`spare` once it has run
        ``HEAVY_AFTER`` s (in an evaluation)."""
        with on_slow(HEAVY_AFTER, self.spare):
            yield

    # ------------------------------------------------------------------ guards
    def _guard(self, step: RunningStep, now: float) -> None:
        todo = [x for x in step.suspects() if x not in step.guarded]
        if not todo:
            return
        step.guarded.update(todo)
        with session_scope(self.engine.sessions) as session:
            for ex_id in todo:
                row = session.scalar(select(m.DelayedCall)
                                     .where(m.DelayedCall.key == guard_key(ex_id)))
                if row is None:
                    session.add(m.DelayedCall(key=guard_key(ex_id), kind=GUARD_KIND,
                                              due_at=time.time() + GUARD_DUE_IN,
                                              execution_id=ex_id,
                                              payload={"attempts": 1}))
                else:
                    attempts = int((row.payload or {}).get("attempts", 0)) + 1
                    row.payload = {"attempts": attempts}

    def step_done(self, step: RunningStep) -> None:
        """A step ended (committed or failed for good): forget its guards."""
        if not step.guarded:
            return
        keys = [guard_key(x) for x in step.guarded]
        try:
            with session_scope(self.engine.sessions) as session:
                session.execute(delete(m.DelayedCall).where(m.DelayedCall.key.in_(keys)))
        except Exception:  # noqa: BLE001 - a stale guard only counts one attempt too many
            LOG.exception("Could not remove step guards %s", keys)

    def quarantine_interrupted(self) -> list[str]:
        """Fail the executions whose step was interrupted ``max_step_attempts`` times
        (the process died during it); returns their ids."""
        limit = self.settings.max_step_attempts
        if limit <= 0:
            return []
        with session_scope(self.engine.sessions, readonly=True) as session:
            rows = list(session.scalars(select(m.DelayedCall)
                                        .where(m.DelayedCall.kind == GUARD_KIND)))
            found: list[tuple[str, int]] = [
                (str(r.execution_id), int((r.payload or {}).get("attempts", 0)))
                for r in rows if r.execution_id]
        out = []
        for ex_id, attempts in found:
            if attempts >= limit:
                LOG.warning("Execution %s: its step was interrupted %d times; failing it",
                            ex_id, attempts)
                self.engine.fail_execution(ex_id, quarantine_message(attempts, limit))
                metrics.limit_breached("limits.max_step_attempts")
                out.append(ex_id)
        return out


def quarantine_message(attempts: int, limit: int) -> str:
    """The state_info of an execution failed because its step kept being interrupted."""
    return (f"quarantined: step failed {attempts} times: the process stopped while the "
            f"step was running ([limits] max_step_attempts = {limit})")


def watchdog_settings(conf: Any) -> WatchdogSettings:
    """The watchdog thresholds configured in ``conf`` (``[limits]``)."""
    lim = conf.limits
    return WatchdogSettings(slow_after=lim.slow_step_seconds,
                            max_extra_workers=lim.max_extra_engine_workers,
                            max_step_attempts=lim.max_step_attempts,
                            max_step_seconds=lim.max_step_seconds)
