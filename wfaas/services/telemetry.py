"""Feeds :mod:`wfaas.metrics` from a running :class:`~wfaas.services.runtime.Runtime`.

Everything here observes from the outside: an engine listener (executions and
tasks reaching final states), SQLAlchemy session events (commit time) and
callbacks read at scrape time (queue depths). The engine, executors and scheduler
record the few timings only they can see (step time, action time, scheduler lag)
with one call each into :mod:`wfaas.metrics`.
"""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from wfaas import metrics

FINAL = frozenset({"SUCCESS", "ERROR", "CANCELLED"})
_TASK_FINAL = FINAL | {"SKIPPED"}
#: an expression budget breach (wfaas.expressions.budget) in a failed task's state_info:
#: the pure engine turns it into the task's failure, the shell counts it here
_BUDGET = re.compile(r"expression (?:exceeded its|would build|built more than) [^()]*"
                     r"\(\[expressions\] (evaluation_timeout|max_fuel|max_value_size_kb|"
                     r"max_total_size_kb|max_int_bits)\)")
_T0 = "wfaas_commit_t0"


class EngineMetrics:
    """An engine listener counting executions and timing tasks.

    Called for every task a step changed and once more per step: what is not a
    final state returns after two comparisons (no call, no metric touched)."""

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "task":
            state = data.get("state")
            if state in _TASK_FINAL:
                self._task(state, data)
        elif kind == "execution":
            state = data.get("state")
            if state in FINAL and data.get("old_state") not in FINAL:
                metrics.execution_finished(str(state))

    @staticmethod
    def _task(state: str, data: dict[str, Any]) -> None:
        if state == "ERROR":
            budget = _BUDGET.search(str(data.get("state_info") or ""))
            if budget:
                metrics.limit_breached(f"expressions.{budget[1]}")
        created, updated = data.get("created_at"), data.get("updated_at")
        seconds = None
        if isinstance(created, int | float) and isinstance(updated, int | float):
            seconds = max(0.0, float(updated) - float(created))
        metrics.task_finished(state, seconds)


def _before_commit(session: Session) -> None:
    session.info[_T0] = time.perf_counter()


def _after_commit(session: Session) -> None:
    started = session.info.pop(_T0, None)
    if started is not None:
        metrics.COMMIT_SECONDS.observe(time.perf_counter() - started)


def watch_sessions(sessions: Any) -> None:
    """Time every commit of sessions made by ``sessions`` (a sessionmaker), once."""
    if getattr(sessions, "_wfaas_metrics", False):
        return
    event.listen(sessions, "before_commit", _before_commit)
    event.listen(sessions, "after_commit", _after_commit)
    sessions._wfaas_metrics = True


def attach(runtime: Any) -> None:
    """Start feeding the metrics from ``runtime`` (its engine, sessions and queues)."""
    runtime.engine.listeners.append(EngineMetrics())
    watch_sessions(runtime.sessions)
    engine, executor = runtime.engine, runtime.executor
    metrics.watch_queue("engine_pending_executions", lambda: float(len(engine._pending)))
    metrics.watch_queue("executor_in_flight", lambda: float(executor.in_flight()))
