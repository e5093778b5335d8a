"""The engine shell: queued events -> ``decide`` -> one transaction -> dispatch.

Events for one execution are applied in order by one worker at a time; all
events queued for it when a worker picks it up are applied in ONE step (one
transaction). Live states are cached in memory and validated against the
row's ``version`` (compare-and-set on write), so a busy execution is not
reloaded per event. Commands are dispatched only after the commit. An
exception inside a step fails the execution with a clear ``state_info``.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from wfaas.db import api
from wfaas.db import models as m
from wfaas.db.session import session_scope
from wfaas.db.types import utcnow_precise
from wfaas.engine import (
    ActionCompleted,
    Command,
    Event,
    ScheduleTimer,
    StartSubWorkflow,
    StartWorkflow,
    StopWorkflow,
    TimerFired,
    event_from_dict,
    new_workflow_state,
)
from wfaas.engine import decide as engine_decide
from wfaas.engine.states import WORKFLOW_TERMINAL as TERMINAL_WF
from wfaas.exceptions import NotAllowed
from wfaas.lang.specs import WorkflowSpec
from wfaas.rpc.base import Transport
from wfaas.services import chain, dispatch
from wfaas.services.engine_worker import EngineWorkers
from wfaas.services.folding import ActionFolder
from wfaas.services.limits import (
    ExecutionLimits,
    cancel_descendants,
    child_problem,
    count_breach,
    enforce,
    step_breach,
)
from wfaas.services.rowbuffer import RowBuffer, StaleBatch, compare_and_set_header
from wfaas.services.specs import SpecResolver
from wfaas.services.state_store import (
    Decided,
    ExecutionMeta,
    Loaded,
    StaleVersion,
    header_values,
    load_row,
    load_state,
    lock_execution_row,
    meta_of,
    persist_children,
    started_values,
    write_plain_steps,
)
from wfaas.services.watchdog import HeavyStep, RunningStep, StepWatchdog, WatchdogSettings
from wfaas.utils.logcontext import log_context

#: ``decide(spec, state, event, now) -> (state, commands)``: the pure engine
Decider = Callable[[WorkflowSpec, Any, Event, float], tuple[Any, list[Command]]]
LOG = logging.getLogger(__name__)

Listener = Callable[[str, dict[str, Any]], None]


def _retryable(exc: OperationalError) -> bool:
    """A deadlock or serialization failure (PostgreSQL): the step can simply be redone."""
    return getattr(exc.orig, "sqlstate", None) in ("40P01", "40001")


class EngineService(EngineWorkers):
    """Applies events to executions: the only writer of execution state."""

    def __init__(self, sessions: sessionmaker[Session], transport: Transport,
                 specs: SpecResolver, *, workers: int = 2, cache_size: int = 1000,
                 batch_size: int = 32, pure_actions_per_step: int = 0,
                 size_limit_kb: int = -1,
                 limits: ExecutionLimits | None = None,
                 watchdog: WatchdogSettings | None = None,
                 clock: Callable[[], float] = time.time,
                 wake_scheduler: Callable[[float], None] | None = None,
                 decide: Decider = engine_decide) -> None:
        self.sessions = sessions
        #: the pure core (injected like the clock: a test seam)
        self.decide = decide
        self.transport = transport
        self.specs = specs
        self.clock = clock
        self.wake_scheduler = wake_scheduler or (lambda due: None)
        self.listeners: list[Listener] = []
        #: runs std.noop / std.echo / std.fail inside the step (None: always via an executor)
        self.folder = (ActionFolder(pure_actions_per_step, size_limit_kb=size_limit_kb)
                       if pure_actions_per_step > 0 else None)
        self._workers_n = max(1, workers)
        self._cache: OrderedDict[str, Loaded] = OrderedDict()
        self._cache_size = cache_size
        lock = threading.RLock()
        self._lock = threading.Condition(lock)
        self._urgent_cv = threading.Condition(lock)
        self._urgent: deque[str] = deque()
        self._urgent_thread: threading.Thread | None = None
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._ready: deque[str] = deque()
        #: most executions whose steps share one transaction
        self.batch_size = max(1, batch_size)
        self._busy: set[str] = set()
        #: threads in wait_queued (they need every queued event signalled)
        self._watchers = 0
        #: handlers waiting until their event's step is done (transports that ack after
        #: the handler returned: a crash before the commit gets the event redelivered)
        self._waiters: dict[str, list[threading.Event]] = {}
        self._wait_for_step = bool(getattr(transport, "acks_after_handler", False))
        #: steps redone after a concurrent write by another engine before giving up
        self.max_attempts = 30
        self._stopping = False
        self._threads: list[threading.Thread] = []
        #: steps in progress, by worker thread id (see :mod:`wfaas.services.watchdog`)
        self._running: dict[int, RunningStep] = {}
        #: executions whose urgent events preempt() is applying
        self._preempting: set[str] = set()
        self.watchdog = StepWatchdog(self, watchdog)
        #: per-execution and per-tree limits ([limits] options)
        self.limits = limits or ExecutionLimits()
        #: notified after every step (see Transport.monitor)
        self.monitor: threading.Condition | None = None
        #: executions whose step is being written again without chaining (its chained
        #: round was heavy, :class:`chain.HeavyChain`)
        self.unchained: set[str] = set()
        #: whether this engine owns an execution now (a distributed deployment with
        #: engine ownership, :mod:`wfaas.services.ownership`; None: no such rule)
        self.owns: Callable[[str], bool] | None = None

    def may_chain(self, parent_id: str, child_id: str) -> bool:
        """Whether a step of ``parent_id`` may apply the completion of its sub-workflow
        ``child_id`` itself (:mod:`wfaas.services.chain`): this engine owns both, or
        it is the only engine (an in-process transport)."""
        if self.owns is not None:
            return self.owns(parent_id) and self.owns(child_id)
        return bool(getattr(self.transport, "single_engine", False))

    def prime(self, meta: ExecutionMeta, spec: WorkflowSpec) -> None:
        """Cache a just-stored, not yet started execution (row version 0) so that its
        first step does not read the row back. Only when this process runs engine
        workers; a wrong guess costs nothing (the compare-and-set on the version)."""
        if not self._threads or meta.id in self._cache:
            return
        st = new_workflow_state(meta.id, meta.workflow_name, self.clock())
        st.root_execution_id = meta.root_execution_id
        self._cache_put(Loaded(meta, spec, st, 0, started=False))

    # ------------------------------------------------------------------ heartbeats
    def record_heartbeat(self, event: dict[str, Any]) -> None:
        """An executor runs these actions: mark them accepted and fresh (see
        :mod:`wfaas.services.integrity`); asynchronous ones are marked not sync."""
        running = [str(i) for i in event.get("action_ids") or ()]
        async_ids = [str(i) for i in event.get("async_action_ids") or ()]
        if event.get("announce"):
            LOG.info("Executor %s of group %r is up", event.get("executor"),
                     event.get("group") or "")
        if not running and not async_ids:
            return
        a = m.ActionExecution

        def free(ids: list[str]) -> Any:
            # Rows an engine step is writing right now are skipped (that step refreshes
            # them anyway), so a heartbeat never waits for nor deadlocks with a step.
            return (select(a.id).where(a.id.in_(ids), a.state == "RUNNING")
                    .with_for_update(skip_locked=True).scalar_subquery())

        with session_scope(self.sessions) as session:
            now = utcnow_precise()
            if running:
                session.execute(update(a).where(a.id.in_(free(running)))
                                .values(accepted=True, updated_at=now))
            if async_ids:
                session.execute(update(a).where(a.id.in_(free(async_ids)))
                                .values(accepted=True, is_sync=False, updated_at=now))


    def process_batch(self, batch: list[tuple[str, list[dict[str, Any]]]]) -> None:
        """Apply the queued events of several executions, then write them in ONE
        transaction and dispatch. ``decide`` (expressions) runs before the transaction,
        never while holding the database write lock. A failure replays the batch
        execution by execution (:meth:`process`), so a stale or failing step never
        affects the others."""
        if len(batch) <= 1:
            for ex_id, events in batch:
                with self.watchdog.alone():
                    self.process(ex_id, events)
            return
        results: list[Decided] = []
        heavy: list[tuple[str, list[dict[str, Any]]]] = []
        try:
            now = self.clock()
            for ex_id, event_dicts in batch:
                try:  # a heavy decide leaves the batch: the others do not wait for it
                    with self.watchdog.batched():
                        decided = self._decide(self._load_outside(ex_id),
                                               [event_from_dict(e) for e in event_dicts], now)
                except HeavyStep:
                    self._cache.pop(ex_id, None)
                    heavy.append((ex_id, event_dicts))
                    continue
                if decided is not None:
                    results.append(decided)
            if not write_plain_steps(self.sessions, results):
                with session_scope(self.sessions) as session:
                    rows = RowBuffer.defer(session)  # one executemany per table for all
                    for decided in results:
                        self._persist(session, decided)
                    rows.flush(session)
        except Exception:  # noqa: BLE001 - replayed one by one below
            LOG.debug("Batched step failed; replaying %d executions one by one", len(batch))
            for ex_id, _ in batch:
                self._cache.pop(ex_id, None)
            for ex_id, events in batch:
                self.process(ex_id, events)
            return
        for decided in results:
            self._after_commit(decided)
        for ex_id, events in heavy:
            with self.watchdog.alone():
                self.process(ex_id, events)

    # ------------------------------------------------------------------ one step
    def process(self, ex_id: str, event_dicts: list[dict[str, Any]]) -> None:
        """Apply queued events of one execution in one transaction, then dispatch."""
        events = [event_from_dict(e) for e in event_dicts]
        try:
            result = self._attempts(ex_id, events)
        finally:
            self.unchained.discard(ex_id)
        if result is not None:
            self._dispatch_rounds(result)

    def _attempts(self, ex_id: str, events: list[Event]) -> Decided | None:
        """Step ``ex_id`` with ``events``, again while it changed concurrently; None:
        nothing to dispatch (the execution failed or was gone)."""
        for attempt in range(self.max_attempts):
            try:
                # After two lost races, lock the row first: the step then cannot lose
                # again (another engine's compare-and-set waits for our commit).
                return self._step(ex_id, events, lock=attempt >= 2)
            except chain.HeavyChain:
                self._cache.pop(ex_id, None)  # its state was changed by the round
                self.unchained.add(ex_id)
            except (StaleVersion, IntegrityError, OperationalError) as exc:
                if isinstance(exc, OperationalError) and not _retryable(exc):
                    self._fail_step(ex_id, exc)
                    return None
                # Another engine wrote this execution first (its version moved on, or it
                # inserted the same deterministic child rows): reload and redo the step.
                self._cache.pop(ex_id, None)
                LOG.log(logging.INFO if attempt >= 2 else logging.DEBUG,
                        "Execution %s changed concurrently (attempt %d: %s)", ex_id,
                        attempt, exc.__class__.__name__)
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
            except Exception as exc:  # noqa: BLE001 - fail the execution, not the engine
                self._fail_step(ex_id, exc)
                return None
        LOG.warning("Execution %s changed concurrently %d times: failing it", ex_id,
                    self.max_attempts)
        self.fail_execution(ex_id, "Engine failure: execution changed concurrently")
        return None

    def _fail_step(self, ex_id: str, exc: Exception) -> None:
        self._cache.pop(ex_id, None)
        if isinstance(exc, NotAllowed):
            # e.g. a parent's cancel reaching a child that has just finished: nothing to do
            LOG.info("Event for execution %s dropped: %s", ex_id, exc)
            return
        LOG.exception("Engine step of execution %s failed", ex_id)
        self.fail_execution(ex_id, f"Engine failure: {exc.__class__.__name__}: {exc}")

    def _step(self, ex_id: str, events: list[Event], lock: bool = False) -> Decided | None:
        with log_context(execution_id=ex_id):
            return self._step_logged(ex_id, events, lock)

    def _step_logged(self, ex_id: str, events: list[Event], lock: bool) -> Decided | None:
        now = self.clock()
        if lock:  # after lost races: lock the row, then load and decide under the lock
            with session_scope(self.sessions) as session:
                self._cache.pop(ex_id, None)
                lock_execution_row(session, ex_id)
                decided = self._decide(self._load(session, ex_id), events, now)
                if decided is not None:
                    self._persist_one(session, decided)
        else:
            # decide (expression evaluation) runs OUTSIDE the transaction: a heavy step
            # never holds the database write lock other requests wait for
            decided = self._decide(self._load_outside(ex_id), events, now)
            if decided is not None and not write_plain_steps(self.sessions, [decided]):
                with session_scope(self.sessions) as session:
                    self._persist_one(session, decided)
        if decided is None:
            return None
        self._cache_put(decided.loaded)
        return decided

    def _after_commit(self, decided: Decided) -> None:
        self._cache_put(decided.loaded)
        self._dispatch_rounds(decided)

    def _dispatch_rounds(self, decided: Decided) -> None:
        """Dispatch a committed step and notify its listeners, round by round (a chained
        step: as if each round had been a step of its own)."""
        for rnd in decided.rounds():
            loaded, commands, changed, old_state = rnd.result()
            dispatch.dispatch(self, rnd, commands)
            frozen = rnd.frozen
            if frozen is None:
                self._notify(loaded, changed, old_state)
            else:
                self._notify(loaded, changed, old_state, frozen.state, frozen.state_info)

    def _decide(self, loaded: Loaded | None, events: list[Event], now: float
                ) -> Decided | None:
        """Apply one execution's events to its state (no database access)."""
        decide = self.decide
        if loaded is None:
            return None
        running = self._running.get(threading.get_ident())
        if running is not None:  # the watchdog blames a slow batch on this execution
            running.current = loaded.meta.id
        out = Decided(loaded, old_state=loaded.state.state)

        def apply(event: Event) -> list[Command]:
            st, cmds = decide(loaded.spec, loaded.state, event, now)
            loaded.state = st
            out.task_ids.update(st.changed_task_ids)
            out.action_ids.update(st.changed_action_ids)
            st.changed_task_ids = set()
            st.changed_action_ids = set()
            return cmds

        for event in events:
            if isinstance(event, StartWorkflow):
                if loaded.started:
                    continue
                loaded.started = out.started_now = True
            elif not loaded.started:
                continue
            elif isinstance(event, StopWorkflow) and loaded.state.state in TERMINAL_WF:
                continue  # e.g. a tree cancel reaching a child that already ended
            out.commands.extend(apply(event))
        if not loaded.started:
            return None
        if self.folder is not None:
            out.commands = self.folder.fold(out.commands, apply)
        breach = step_breach(self.limits, loaded, out.task_ids)
        if breach:
            out.commands = enforce(loaded, out.commands, breach, apply)
        out.events = events
        return out

    def _load_outside(self, ex_id: str) -> Loaded | None:
        """The cached state, or the state read in a read-only (snapshot) transaction."""
        cached = self._cache.get(ex_id)
        if cached is not None:
            with suppress(KeyError):  # evicted meanwhile by another thread: still valid
                self._cache.move_to_end(ex_id)
            return cached
        with session_scope(self.sessions, readonly=True) as session:
            return self._load(session, ex_id)

    def _load(self, session: Session, ex_id: str) -> Loaded | None:
        cached = self._cache.get(ex_id)
        if cached is not None:
            # No read: the compare-and-set of the header (written first) detects a
            # concurrent change, and the step is retried on a fresh load.
            with suppress(KeyError):  # evicted meanwhile by another thread: still valid
                self._cache.move_to_end(ex_id)
            return cached
        row = load_row(session, ex_id)  # one Core read: the columns, version included
        if row is None:
            return None
        spec = self.specs.spec_of_execution(row)
        meta = meta_of(row)
        if row.engine_state is None:
            if row.state in TERMINAL_WF:  # stopped before it ever started
                return None
            st = new_workflow_state(row.id, row.workflow_name, self.clock())
            st.parent_task_id = row.task_execution_id
            st.root_execution_id = row.root_execution_id
            return Loaded(meta, spec, st, row.version, started=False)
        st, task_ids, action_ids = load_state(session, row)
        return Loaded(meta, spec, st, row.version, True, task_ids, action_ids)

    def _persist_one(self, session: Session, decided: Decided) -> None:
        """Write one execution's step in ``session``: its header compared-and-set
        first, the task, action and context rows of the step (of every round of a
        chained step, and of the sub-workflows started inline) with one statement per
        table and kind at the end."""
        rows = RowBuffer.defer(session, headers_now=True)
        self._persist(session, decided)
        try:
            rows.flush(session)
        except StaleBatch as exc:  # cannot happen: its first round holds the row
            raise StaleVersion(decided.loaded.meta.id) from exc

    def _persist(self, session: Session, decided: Decided, *, again: bool = False,
                 fresh: bool = False) -> None:
        """Write one decided step in ``session`` (no commit): compare-and-set of the
        header, changed children, timers, sub-workflow rows; then the next round when
        sub-workflows it started ended at once (:func:`chain.chain_completions`).
        ``again``: a later round of a step written in this transaction already.
        ``fresh``: the first step of a sub-workflow started inline, whose queued row
        is inserted with the step's header values (nothing to compare and set)."""
        loaded, commands = decided.loaded, decided.commands
        # Compare-and-set the header first: on PostgreSQL this row lock serialises
        # two engines working on one execution before either writes its children.
        values = header_values(loaded.state, with_input=decided.started_now,
                               stored=started_values(decided))
        rows = RowBuffer.of(session)
        if fresh:  # its row, inserted by this transaction: written with the values
            dispatch.insert_child_rows(session, first_step=(loaded.meta.id, values))
            loaded.version = 1
        elif rows.deferred and (again or not rows.headers_now):
            # a batch: written with the others; a later round of a chained step (its
            # row compared-and-set by the first round, in this transaction): the
            # rounds' values are written with one statement at the end
            loaded.version = rows.queue_header(loaded.meta.id, loaded.version, values,
                                               again=again)
        elif not compare_and_set_header(session, loaded.meta.id, loaded.version, values):
            raise StaleVersion(loaded.meta.id)
        else:
            loaded.version += 1
        persist_children(session, loaded, decided.task_ids, decided.action_ids,
                         started_now=decided.started_now)
        for event in decided.events:
            if isinstance(event, TimerFired):
                api.cancel_delayed_calls(session, key=event.timer_id)
        refused: tuple[str, str] | None = None
        checked = False  # the children's limits, checked at the first child
        for cmd in commands:
            if isinstance(cmd, ScheduleTimer):
                api.add_delayed_call(session, key=cmd.timer_id, kind="engine_timer",
                                     due_at=cmd.due, execution_id=loaded.meta.id,
                                     payload=cmd.to_dict())
            elif cmd.kind == "cancel_timer":
                api.cancel_delayed_calls(session, key=cmd.timer_id)  # type: ignore[attr-defined]
            elif isinstance(cmd, StartSubWorkflow):
                if not checked:
                    checked = True
                    refused = self._refused_children(session, loaded, commands)
                if refused:
                    state, message = refused
                    loaded.post.append((loaded.meta.id, ActionCompleted(
                        action_id=cmd.execution_id, state=state, result=message,
                        state_info=message)))
                else:
                    dispatch.create_child(self, session, loaded, cmd)
        dispatch.insert_child_rows(session)  # those not started inline, in one statement
        chained = chain.chain_completions(self, session, decided)
        if chained is not None:
            self._persist(session, chained, again=True)

    def _refused_children(self, session: Session, loaded: Loaded, commands: list[Command]
                          ) -> tuple[str, str] | None:
        """Why the sub-workflows among ``commands`` must not start (None: they may)."""
        children = sum(1 for c in commands if isinstance(c, StartSubWorkflow))
        refused = child_problem(session, self.limits, loaded, children)
        if refused:
            count_breach(refused[1])
        return refused

    def _cache_put(self, loaded: Loaded) -> None:
        if loaded.state.state in TERMINAL_WF:
            self._cache.pop(loaded.meta.id, None)
            return
        self._cache[loaded.meta.id] = loaded
        with suppress(KeyError):  # another thread may evict at the same time
            self._cache.move_to_end(loaded.meta.id)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def forget(self, ex_id: str) -> None:
        """Drop an execution from the cache (e.g. after it was deleted)."""
        self._cache.pop(ex_id, None)

    # ------------------------------------------------------------------ failures
    def fail_execution(self, ex_id: str, message: str, state: str = "ERROR") -> None:
        """Force an execution to ERROR (or ``state``) with ``message`` (after a failed
        step), without a step."""
        self._cache.pop(ex_id, None)
        try:
            with session_scope(self.sessions) as session:
                row = api.find(session, m.WorkflowExecution, ex_id)
                if row is None or row.state in TERMINAL_WF:
                    return
                row.state, row.state_info = state, message[:65000]
                row.version += 1
                row.finished_at = row.updated_at = utcnow_precise()
                session.execute(delete(m.DelayedCall).where(m.DelayedCall.execution_id == ex_id))
                parent_id, parent_task = row.parent_execution_id, row.task_execution_id
        except Exception:  # noqa: BLE001
            LOG.exception("Could not mark execution %s as failed", ex_id)
            return
        if parent_id and parent_task:
            self.send(parent_id, ActionCompleted(action_id=ex_id, state=state, result=message,
                                                 state_info=message))
        self._emit("execution", {"id": ex_id, "state": state, "state_info": message,
                                 "old_state": "RUNNING"})

    # ------------------------------------------------------------------ ad-hoc actions
    def _complete_adhoc_action(self, event: dict[str, Any]) -> None:
        action_id = event["action_id"]
        with session_scope(self.sessions) as session:
            row = api.find(session, m.ActionExecution, action_id)
            if row is None or row.state in TERMINAL_WF:
                return
            row.state = event["state"]
            row.output = {"result": event.get("result")}
            row.state_info = (str(event.get("result")) if event["state"] == "ERROR"
                              else event.get("state_info"))
            row.updated_at = utcnow_precise()
            data = row.to_dict()
        self._emit("action", data)

    # ------------------------------------------------------------------ helpers
    def send(self, ex_id: str, event: Event) -> None:
        """Queue ``event`` for execution ``ex_id`` through the transport (as plain data)."""
        self.transport.send_to_engine({"execution_id": ex_id, "event": event.to_dict()})

    def _notify(self, loaded: Loaded, tasks: list[dict[str, Any]], old_state: str,
                state: str | None = None, state_info: str | None = None) -> None:
        """Tell the listeners about a step: ``state`` and ``state_info``: the
        execution's after the step (default: its state now)."""
        for task in tasks:
            self._emit("task", {**task, "workflow_execution_id": loaded.meta.id})
        st = loaded.state
        if state is None:
            state, state_info = st.state, st.state_info
        if state == "CANCELLED" and old_state != "CANCELLED":
            cancel_descendants(self, loaded)
        self._emit("step", {"execution_id": st.id, "state": state})
        if state != old_state:
            self._emit("execution", {"id": st.id, "state": state,
                                     "state_info": state_info, "old_state": old_state})

    def _emit(self, kind: str, data: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            try:
                listener(kind, data)
            except Exception:  # noqa: BLE001 - a listener must not break the engine
                LOG.exception("Engine listener failed")
