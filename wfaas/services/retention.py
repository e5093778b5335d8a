"""Retention: delete finished executions, as Mistral's ``[execution_expiration_policy]``.

A root execution (one not started by a task) that is finished (SUCCESS, ERROR,
CANCELLED) and not in ``ignored_states`` expires when it finished more than
``older_than`` minutes ago, or when more than ``max_finished_executions`` finished
roots exist (the oldest go first). An expired execution is deleted with its whole
tree: sub-workflow executions, task executions, action executions and timers.
Each batch of ``batch_size`` roots is one transaction.

:class:`RetentionService` runs :func:`purge` every ``evaluation_interval`` minutes
in the scheduler role; ``wfaas-db-manage purge`` runs it once.
"""

from __future__ import annotations

import datetime as _dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from wfaas.db import models as m
from wfaas.db.session import session_scope
from wfaas.utils.dueloop import DueLoop

LOG = logging.getLogger(__name__)
FINISHED = ("SUCCESS", "ERROR", "CANCELLED")
DEFAULT_BATCH = 100


@dataclass(frozen=True)
class RetentionPolicy:
    """What expires: Mistral's options (minutes; 0 disables a criterion)."""

    evaluation_interval: float = 0.0
    older_than: float = 0.0
    max_finished: int = 0
    batch_size: int = 0
    ignored_states: tuple[str, ...] = ()

    @classmethod
    def from_conf(cls, conf: Any) -> RetentionPolicy:
        """The policy of ``[execution_expiration_policy]``."""
        group = conf.execution_expiration_policy
        return cls(evaluation_interval=float(group.evaluation_interval),
                   older_than=float(group.older_than),
                   max_finished=int(group.max_finished_executions),
                   batch_size=int(group.batch_size),
                   ignored_states=tuple(s.upper() for s in group.ignored_states))

    def override(self, **values: Any) -> RetentionPolicy:
        """A copy with the given (not None) values replaced."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})

    def active(self) -> bool:
        """Whether anything can expire."""
        return self.older_than > 0 or self.max_finished > 0

    @property
    def states(self) -> tuple[str, ...]:
        """The finished states that may expire."""
        return tuple(s for s in FINISHED if s not in self.ignored_states)


@dataclass
class PurgeResult:
    """How many roots expired and how many rows were (or would be) deleted."""

    dry_run: bool
    roots: int = 0
    rows: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A plain dict (``--json``)."""
        return {"dry_run": self.dry_run, "expired_executions": self.roots, "deleted": self.rows}

    def summary(self) -> str:
        """One line for people."""
        verb = "would delete" if self.dry_run else "deleted"
        detail = ", ".join(f"{k}={v}" for k, v in self.rows.items())
        return f"{self.roots} expired execution tree(s); {verb}: {detail or 'nothing'}"


def _expired_roots(session: Any, policy: RetentionPolicy, now: _dt.datetime) -> list[str]:
    ex = m.WorkflowExecution
    finished_at = sa.func.coalesce(ex.finished_at, ex.updated_at, ex.created_at)
    base = sa.select(ex.id).where(ex.task_execution_id.is_(None), ex.state.in_(policy.states))
    ids: list[str] = []
    if policy.older_than > 0:
        cutoff = now - _dt.timedelta(minutes=policy.older_than)
        ids += session.scalars(base.where(finished_at < cutoff).order_by(finished_at, ex.id))
    if policy.max_finished > 0:
        newest_first = base.order_by(finished_at.desc(), ex.id.desc()).offset(policy.max_finished)
        ids += [i for i in session.scalars(newest_first) if i not in set(ids)]
    return ids


def _tree_ids(session: Any, roots: list[str]) -> list[str]:
    ex = m.WorkflowExecution
    found = set(roots)
    found.update(session.scalars(sa.select(ex.id).where(ex.root_execution_id.in_(roots))))
    frontier = set(found)
    while frontier:  # children of executions without root_execution_id (defensive)
        tasks = sa.select(m.TaskExecution.id).where(
            m.TaskExecution.workflow_execution_id.in_(frontier))
        kids = set(session.scalars(sa.select(ex.id).where(ex.task_execution_id.in_(tasks))))
        frontier = kids - found
        found |= kids
    return sorted(found)


def delete_trees(session: Any, roots: list[str], *, count_only: bool = False) -> dict[str, int]:
    """Delete (or count) every row of the execution trees rooted at ``roots``."""
    ids = _tree_ids(session, roots)
    tasks = sa.select(m.TaskExecution.id).where(m.TaskExecution.workflow_execution_id.in_(ids))
    targets: list[tuple[str, Any, Any]] = [
        ("action_executions", m.ActionExecution, sa.or_(
            m.ActionExecution.workflow_execution_id.in_(ids),
            m.ActionExecution.task_execution_id.in_(tasks))),
        ("delayed_calls", m.DelayedCall, m.DelayedCall.execution_id.in_(ids)),
        ("task_executions", m.TaskExecution, m.TaskExecution.workflow_execution_id.in_(ids)),
        ("workflow_executions", m.EXECUTIONS, m.EXECUTIONS.c.id.in_(ids)),
    ]
    out: dict[str, int] = {}
    if not count_only:  # the bodies of the executions (one per execution, not counted)
        session.execute(sa.delete(m.EXECUTION_BODIES).where(m.EXECUTION_BODIES.c.id.in_(ids)))
    for name, model, cond in targets:
        if count_only:
            out[name] = int(session.scalar(sa.select(sa.func.count()).select_from(model)
                                           .where(cond)) or 0)
        else:
            out[name] = int(session.execute(sa.delete(model).where(cond),
                                            execution_options={"synchronize_session": False})
                            .rowcount or 0)
    return out


def purge(engine: Engine | Any, policy: RetentionPolicy, *, dry_run: bool = False,
          now: _dt.datetime | None = None) -> PurgeResult:
    """Delete every expired tree, ``batch_size`` roots per transaction."""
    now = now or _dt.datetime.now(_dt.UTC).replace(tzinfo=None)
    result = PurgeResult(dry_run=dry_run)
    if not policy.active():
        return result
    with session_scope(engine, readonly=True) as s:
        roots = _expired_roots(s, policy, now)
    batch = policy.batch_size or DEFAULT_BATCH
    for start in range(0, len(roots), batch):
        chunk = roots[start:start + batch]
        with session_scope(engine, readonly=dry_run) as s:
            counts = delete_trees(s, chunk, count_only=dry_run)
        for k, v in counts.items():
            result.rows[k] = result.rows.get(k, 0) + v
        result.roots += len(chunk)
    if result.roots and not dry_run:
        LOG.info("Retention: %s", result.summary())
    return result


class RetentionService(DueLoop):
    """Runs :func:`purge` every ``evaluation_interval`` minutes (a thread)."""

    loop_name = "wfaas-retention"

    def __init__(self, engine: Engine | Any, policy: RetentionPolicy, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.policy = policy
        self.clock = clock
        self.max_sleep = None
        self.last: PurgeResult | None = None
        self._init_loop()

    @classmethod
    def from_runtime(cls, runtime: Any, conf: Any) -> RetentionService | None:
        """The service of ``conf``'s policy over the runtime's sessions; None when the
        policy is disabled (no interval, or neither older_than nor a maximum)."""
        policy = RetentionPolicy.from_conf(conf)
        if policy.evaluation_interval <= 0 or not policy.active():
            return None
        return cls(runtime.sessions, policy, clock=getattr(runtime, "clock", time.time))

    def start(self) -> None:
        """Start the thread (the first evaluation runs at once)."""
        self._start_loop()

    def stop(self) -> None:
        """Stop the thread."""
        self._stop_loop()

    def _iterate(self) -> float | None:
        self.last = purge(self.engine, self.policy)
        return self.clock() + self.policy.evaluation_interval * 60.0
