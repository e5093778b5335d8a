"""The engine's worker loop: queued events -> ready executions -> batches for the workers.

Split out of :mod:`wfaas.services.engine_service` (which applies a batch: load,
decide, persist, dispatch). Here: the queue of events per execution, the ready
list, the worker threads that take up to ``batch_size`` ready executions at a
time, the acknowledgement of transports that wait for the step
(``acks_after_handler``), :meth:`EngineWorkers.preempt` (the watchdog's
urgent path for an execution in a slow step) and the priority lane: a stop or pause
of an execution no step is applying, arriving while steps run, goes to a worker of its
own (never busy with other executions' steps, never batched with them), so a cancel
waits for no spawning or heavy step of others, only for the write lock.
:class:`EngineWorkers` is a base class of
:class:`~wfaas.services.engine_service.EngineService`; it holds no state of its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from wfaas import metrics
from wfaas.db.session import session_scope
from wfaas.rpc.base import Message, Transport, sender_is_idle
from wfaas.services.state_store import Loaded, load_row
from wfaas.services.watchdog import URGENT_KINDS, RunningStep, StepWatchdog

LOG = logging.getLogger(__name__)
#: most batches an idle in-process sender applies itself (see ``_may_step_here``)
SENDER_BATCHES = 4


class EngineWorkers:
    """The queueing and worker threads of the engine (see the module)."""

    sessions: sessionmaker[Session]
    transport: Transport
    watchdog: StepWatchdog
    monitor: threading.Condition | None
    batch_size: int
    _cache: OrderedDict[str, Loaded]
    _lock: threading.Condition
    #: the priority lane: executions whose queued events start with a stop or pause,
    #: waiting for the lane's worker (woken through ``_urgent_cv``, same lock)
    _urgent: deque[str]
    _urgent_cv: threading.Condition
    _urgent_thread: threading.Thread | None
    _pending: dict[str, list[dict[str, Any]]]
    _ready: deque[str]
    _busy: set[str]
    _watchers: int
    _waiters: dict[str, list[threading.Event]]
    _wait_for_step: bool
    _stopping: bool
    _threads: list[threading.Thread]
    _workers_n: int
    _running: dict[int, RunningStep]
    _preempting: set[str]

    if TYPE_CHECKING:  # provided by EngineService
        def process(self, ex_id: str, event_dicts: list[dict[str, Any]]) -> None: ...
        def process_batch(self, batch: list[tuple[str, list[dict[str, Any]]]]) -> None: ...
        def fail_execution(self, ex_id: str, message: str, state: str = "ERROR") -> None: ...
        def record_heartbeat(self, event: dict[str, Any]) -> None: ...
        def _complete_adhoc_action(self, event: dict[str, Any]) -> None: ...

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Subscribe to the transport and start the worker threads and the watchdog."""
        self._stopping = False
        self.transport.serve_engine(self.handle_message)
        for _ in range(self._workers_n):
            self.start_worker()
        self._urgent_thread = threading.Thread(target=self._work_urgent, daemon=True,
                                               name="wfaas-engine-priority")
        self._urgent_thread.start()
        self.watchdog.start()

    def start_worker(self, *, extra: bool = False,
                     on_exit: Callable[[], None] | None = None) -> None:
        """Start one more worker thread; an ``extra`` one leaves after idling a while."""
        self._threads = [t for t in self._threads if t.is_alive()]  # extras that left
        t = threading.Thread(target=self._work, args=(extra, on_exit), daemon=True,
                             name=f"wfaas-engine-{len(self._threads)}{'x' if extra else ''}")
        self._threads.append(t)
        t.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the workers after their current step (waits at most ``timeout`` s in
        all: a worker stuck in a step is a daemon thread and does not hold the exit)."""
        self.watchdog.stop()
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
            self._urgent_cv.notify_all()
        deadline = time.monotonic() + timeout
        lane, self._urgent_thread = self._urgent_thread, None
        for t in [*self._threads, *([lane] if lane else [])]:
            if t is not threading.current_thread():
                t.join(timeout=max(0.0, deadline - time.monotonic()))
        self._threads = []

    def running_steps(self) -> list[RunningStep]:
        """The steps in progress now (a snapshot)."""
        with self._lock:
            return list(self._running.values())

    def idle_workers(self) -> int:
        """How many worker threads wait for work now."""
        with self._lock:
            return sum(t.is_alive() for t in self._threads) - len(self._running)

    def has_ready_work(self) -> bool:
        """True when executions wait for a free worker."""
        with self._lock:
            return bool(self._ready)

    def take_urgent(self, ex_id: str, kinds: frozenset[str]) -> list[dict[str, Any]]:
        """Remove and return the queued events of ``ex_id`` whose kind is in ``kinds``."""
        with self._lock:
            queue = self._pending.get(ex_id)
            if not queue:
                return []
            urgent = [e for e in queue if e.get("kind") in kinds]
            if urgent:
                queue[:] = [e for e in queue if e.get("kind") not in kinds]
                self._preempting.add(ex_id)
            return urgent

    def has_queued(self, ex_id: str) -> bool:
        """Whether events of ``ex_id`` wait to be applied (or are being preempted)."""
        with self._lock:
            return bool(self._pending.get(ex_id)) or ex_id in self._preempting

    def _ack_applied(self, ex_id: str) -> None:
        """(Lock held.) Nothing is queued for ``ex_id`` any more: the messages still
        waiting were applied (by :meth:`preempt`), let their handlers return."""
        for waiter in self._waiters.pop(ex_id, ()):
            waiter.set()

    def preempt(self, ex_id: str, events: list[dict[str, Any]]) -> None:
        """Apply ``events`` to ``ex_id`` while another worker is still in a step of it:
        on the state last written (the running step then loses its compare-and-set
        and is redone on the new state)."""
        self._cache.pop(ex_id, None)
        try:
            with session_scope(self.sessions, readonly=True) as session:
                row = load_row(session, ex_id)
            if row is not None and row.engine_state is None:  # busy starting
                for event in events:
                    if event.get("kind") == "stop_workflow":  # stopped without a step
                        self.fail_execution(ex_id, event.get("message") or "",
                                            state=str(event.get("state") or "CANCELLED"))
                        return
                with self._lock:  # a pause applies once started: queue it again
                    self._pending.setdefault(ex_id, [])[:0] = events
                return
            self.process(ex_id, events)
        finally:
            with self._lock:
                self._preempting.discard(ex_id)
                if ex_id not in self._busy and not self._pending.get(ex_id):
                    self._ack_applied(ex_id)
            if self.monitor is not None:
                with self.monitor:
                    self.monitor.notify_all()

    def idle(self) -> bool:
        """True when no event is queued or being applied."""
        with self._lock:
            return not self._pending and not self._busy

    # ------------------------------------------------------------------ queueing
    def handle_message(self, message: Message) -> None:
        """Queue an engine message ``{"execution_id", "event"}`` (transport thread)."""
        ex_id = message.get("execution_id")
        event = message["event"]
        if ex_id is None:
            if event.get("kind") == "executor_heartbeat":
                self.record_heartbeat(event)
            else:
                self._complete_adhoc_action(event)
            return
        done = threading.Event() if self._wait_for_step else None
        step_here = False
        with self._lock:
            queue = self._pending.setdefault(ex_id, [])
            queue.append(event)
            if done is not None:
                self._waiters.setdefault(ex_id, []).append(done)
            # Wake one idle worker for a newly ready execution only: an event for an
            # execution being stepped is taken by its worker when the step ends.
            if self._to_priority_lane(ex_id, event):
                pass
            elif len(queue) == 1 and ex_id not in self._busy:
                self._ready.append(ex_id)
                step_here = self._may_step_here()
                if not step_here:
                    self._lock.notify()
            if self._watchers:
                self._lock.notify_all()
        if step_here:
            # an event arriving during that step for the same execution (the next
            # action's quick result) is taken here too, up to a few batches
            for left in range(SENDER_BATCHES - 1, -1, -1):
                if not self._work_once(False, wait=False, last=not left):
                    break
        if done is not None and not done.wait(600):
            raise TimeoutError(f"engine step of execution {ex_id} did not finish")

    def _to_priority_lane(self, ex_id: str, event: dict[str, Any]) -> bool:
        """(Lock held.) Hand a stop or pause of ``ex_id`` to the priority lane when
        steps run now (an idle worker would take it at once anyway) and no step is
        applying ``ex_id`` (that step takes it when it ends; a slow one: the watchdog's
        :meth:`preempt`). Its other queued events go with it."""
        if event.get("kind") not in URGENT_KINDS or self._urgent_thread is None \
                or not self._running or ex_id in self._busy or ex_id in self._urgent:
            return ex_id in self._urgent
        if len(self._pending[ex_id]) > 1:  # already waiting for a worker: jump the queue
            try:
                self._ready.remove(ex_id)
            except ValueError:
                return False  # being preempted (taken off the ready list)
        self._urgent.append(ex_id)
        self._urgent_cv.notify()
        return True

    def _may_step_here(self) -> bool:
        """(Lock held.) Whether the sender's thread applies the event itself instead of
        waking a worker: an in-process sender done with its own work (an executor
        thread reporting a result, :func:`wfaas.rpc.base.idle_sender`), while no step
        runs anywhere (a step in progress takes the event when it ends; one writer at
        a time) and the workers are up."""
        return (sender_is_idle() and not self._running and not self._stopping
                and not self._wait_for_step and bool(self._threads))

    def wait_queued(self, ex_id: str, count: int, timeout: float) -> bool:
        """Wait until ``count`` events of ``ex_id`` are queued (a test seam)."""
        with self._lock:
            self._watchers += 1
            try:
                return self._lock.wait_for(
                    lambda: len(self._pending.get(ex_id, ())) >= count, timeout)
            finally:
                self._watchers -= 1

    def _work(self, extra: bool = False, on_exit: Callable[[], None] | None = None) -> None:
        try:
            while self._work_once(extra):
                pass
        finally:
            if on_exit is not None:
                on_exit()

    def _work_urgent(self) -> None:
        """The priority lane's worker: steps only what :meth:`_to_priority_lane` gave it."""
        while self._work_once(False, urgent=True):
            pass

    def _work_once(self, extra: bool, wait: bool = True, last: bool = False,
                   urgent: bool = False) -> bool:
        """Take one batch of ready executions and step it; False: leave the loop.
        ``wait=False``: a batch in a thread that is not a worker (nothing ready:
        return at once); ``last``: its last one (more ready after it: wake a worker);
        ``urgent``: the priority lane's batch (of ``_urgent``, not ``_ready``)."""
        ready, cv = (self._urgent, self._urgent_cv) if urgent else (self._ready, self._lock)
        with self._lock:
            if not wait and (not ready or self._stopping):
                return False
            while not ready and not self._stopping:
                if not cv.wait(5.0 if extra else None) and extra:
                    return False  # an extra worker idle for 5 s leaves
            if self._stopping:
                return False
            batch: list[tuple[str, list[dict[str, Any]]]] = []
            waiters: list[threading.Event] = []
            while ready and len(batch) < self.batch_size:
                ex_id = ready.popleft()
                batch.append((ex_id, self._pending.pop(ex_id, [])))
                waiters.extend(self._waiters.pop(ex_id, ()))
                self._busy.add(ex_id)
            step = RunningStep([ex_id for ex_id, _ in batch], time.monotonic())
            self._running[threading.get_ident()] = step
        try:
            with metrics.timed(metrics.STEP_SECONDS):
                self.process_batch([(ex_id, events) for ex_id, events in batch if events])
        except Exception:  # noqa: BLE001 - never kill a worker
            LOG.exception("Engine step of %s failed", [ex_id for ex_id, _ in batch])
        finally:
            self.watchdog.step_done(step)
            for waiter in waiters:  # committed (or failed for good): ack the messages
                waiter.set()
            with self._lock:
                self._running.pop(threading.get_ident(), None)
                requeued = 0
                for ex_id, _ in batch:
                    self._busy.discard(ex_id)
                    if self._pending.get(ex_id):
                        self._ready.append(ex_id)
                        requeued += 1
                    elif ex_id not in self._preempting:
                        self._ack_applied(ex_id)
                # this worker takes the next batch itself: wake another one only
                # when there is more than one batch of work (the lane takes none)
                if len(self._ready) > (0 if last or urgent else self.batch_size) or (
                        requeued and self._watchers):
                    self._lock.notify()
            if self.monitor is not None:
                with self.monitor:
                    self.monitor.notify_all()
        return True
