"""Action requests and the local executor pool.

An action request is plain data (never a pickled object)::

    {"action_id": str, "execution_id": str | None, "task_id": str | None,
     "task_name": str | None, "action": str, "namespace": str, "input": dict,
     "context": ActionContext.to_dict(), "timeout": float | None}

The executor runs it with :func:`wfaas.actions.runner.run_action` and reports
the outcome to the engine as ``{"execution_id": ..., "event":
ActionCompleted.to_dict()}``. An asynchronous action reports nothing: its
result arrives later through the API (``complete_action``).

Distributed mode (``sessions`` given, a broker transport): each request is
first accepted in the database (:mod:`wfaas.executors.acceptance`), then run
in the transport's handler thread and acknowledged when it finished (the
transport hands this process no more requests than it has workers). A result the
broker does not take at once waits in a local outbox and is re-sent with a
growing delay until the broker is back; the action keeps its heartbeat
until then.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from wfaas import metrics
from wfaas.engine import ActionCompleted, ExecutorHeartbeat
from wfaas.executors.outbox import Outbox
from wfaas.rpc.base import Message, Transport, idle_sender, sender_is_idle
from wfaas.utils.logcontext import log_context
from wfaas.utils.scope import acting_for

LOG = logging.getLogger(__name__)
#: the early-acknowledgement callable a broker transport may put into a request
ACK_KEY = "_ack"
#: heartbeat intervals a finished action's row keeps getting beats (see LocalExecutor)
RECENT_BEATS = 10
#: seconds a finished action's row keeps getting beats while it is still RUNNING (its
#: result not applied yet: waiting in the broker for an engine's consumer), at least
#: (the publisher's own retry window, ``publish_timeout``)
RESULT_GRACE = 300.0
#: per pool thread: the requests deferred to it (see LocalExecutor._defer_here)
_POOLED = threading.local()


def completion_message(request: Message, state: str, result: Any,
                       state_info: str | None = None) -> Message:
    """The engine message telling that the action of ``request`` finished."""
    return {
        "execution_id": request.get("execution_id"),
        "event": ActionCompleted(action_id=request["action_id"], state=state, result=result,
                                 state_info=state_info).to_dict(),
    }


def size_problem(cls: str, field: str, value: Any, limit_kb: int) -> str | None:
    """Mistral's message when ``value`` (as JSON) is over ``limit_kb`` (-1/0: no limit)."""
    if limit_kb is None or limit_kb <= 0:
        return None
    size = len(json.dumps(value, default=str).encode())
    if size <= limit_kb * 1024:
        return None
    return (f"Field size limit exceeded [class={cls}, field={field}, "
            f"size={size // 1024}KB, limit={limit_kb}KB]")


def result_to_completion(request: Message, result: Any,
                         size_limit_kb: int = -1) -> Message | None:
    """Translate a ``Result`` to an engine message (None for an async action).

    A result over ``size_limit_kb`` becomes an error naming the limit.
    """
    if not getattr(result, "sync", True) and not result.is_error():
        return None
    if result.is_cancel():
        return completion_message(request, "CANCELLED", result.data)
    value = result.error if result.is_error() else result.data
    problem = size_problem("ActionExecution", "output", value, size_limit_kb)
    if problem:
        metrics.limit_breached("engine.execution_field_size_limit_kb")
        return completion_message(request, "ERROR", problem)
    if result.is_error():
        return completion_message(request, "ERROR", result.error)
    return completion_message(request, "SUCCESS", result.data)


#: std actions that return at once without side effects: with an in-process transport
#: they run in the sender's thread (no pool hand-off, two thread wake-ups less per task)
INLINE_ACTIONS = frozenset({"std.noop", "std.echo", "std.fail"})


class LocalExecutor:
    """A pool of ``workers`` threads running action requests of one executor group."""

    def __init__(self, transport: Transport, provider: Any, *, workers: int = 16,
                 group: str = "", size_limit_kb: int = -1,
                 heartbeat_interval: float = 0.0,
                 runner: Callable[..., Any] | None = None,
                 sessions: Any = None) -> None:
        self.transport = transport
        self.provider = provider
        self.group = group
        self.size_limit_kb = size_limit_kb
        self._workers = max(1, workers)
        self._pool: ThreadPoolExecutor | None = None
        self._runner = runner
        #: the process's configuration, handed to each action's ``configure(conf)``
        #: (None: actions read ``wfaas.config.CONF``, the same object in a command)
        self.conf: Any = None
        self._lock = threading.Lock()
        self._in_flight = 0
        #: heartbeats (distributed mode): see heartbeat_message
        self.executor_id = uuid.uuid4().hex
        self.heartbeat_interval = heartbeat_interval
        self._running: set[str] = set()
        #: finished actions (distributed mode) -> when: their rows keep getting heartbeats
        #: until the engines, maybe behind a backlog of events or a consumer that
        #: reconnects, applied the result (the beat sees the row no longer RUNNING), for
        #: at most max(RECENT_BEATS intervals, RESULT_GRACE)
        self._recent: dict[str, float] = {}
        self._async_done: list[str] = []
        self._new_started = False
        self._stop_beats = threading.Event()
        self._beat_thread: threading.Thread | None = None
        #: notified when a request is done (see Transport.monitor)
        self.monitor: threading.Condition | None = None
        #: distributed mode: durable acceptance + direct heartbeats (see the module)
        self.acceptance = None
        if sessions is not None:
            from wfaas.executors.acceptance import Acceptance

            self.acceptance = Acceptance(sessions)
        self._direct = (self.acceptance is not None
                        and bool(getattr(transport, "acks_after_handler", False)))
        #: results waiting for the broker (their actions keep their heartbeats)
        self.outbox = Outbox(transport, on_sent=self._reported)

    def in_flight(self) -> int:
        """Requests accepted and not yet reported."""
        with self._lock:
            return self._in_flight

    def _done(self) -> None:
        with self._lock:
            self._in_flight -= 1
        if self.monitor is not None:
            with self.monitor:
                self.monitor.notify_all()

    def start(self) -> None:
        """Create the pool and subscribe to the group's requests."""
        executor_conf = getattr(self.conf, "executor", None)
        if self.acceptance is not None and executor_conf is not None:
            self.acceptance.durable = (self.acceptance.durable
                                       or bool(getattr(executor_conf, "durable_acceptance",
                                                       False)))
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers,
                                                thread_name_prefix="wfaas-executor")
                # one thread up front: the first action does not wait for a thread start
                self._pool.submit(int)
        self.transport.serve_executor(self._on_request, self.group,
                                      capacity=self._workers if self._direct else None)
        if self.heartbeat_interval > 0 and self._beat_thread is None:
            self._stop_beats.clear()
            self._beat_thread = threading.Thread(target=self._beat_loop, daemon=True,
                                                 name="wfaas-executor-heartbeat")
            self._beat_thread.start()

    def stop(self) -> None:
        """Stop accepting work; running actions are not waited for."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        self._stop_beats.set()
        self.outbox.stop()
        beat, self._beat_thread = self._beat_thread, None
        if beat is not None and beat is not threading.current_thread():
            beat.join(5)

    # ------------------------------------------------------------------ heartbeats
    def heartbeat_message(self, announce: bool = False) -> Message | None:
        """The heartbeat for the actions running here now (None when idle).

        Sent to the engines (``execution_id`` None, event ``executor_heartbeat``)
        soon after an action started (it is then accepted) and every
        ``heartbeat_interval`` seconds while it runs; ``announce`` marks the
        first one, sent when the executor starts.
        """
        with self._lock:
            running, async_done = sorted(self._running), self._async_done
            self._async_done, self._new_started = [], False
        if not running and not async_done and not announce:
            return None
        return {"execution_id": None, "event": ExecutorHeartbeat(
            executor=self.executor_id, group=self.group, action_ids=running,
            async_action_ids=async_done, announce=announce).to_dict()}

    def _beat_loop(self) -> None:
        self._send_beat(self.heartbeat_message(announce=True))
        if self.acceptance is not None:
            self._beat_directly()
            return
        interval, last = self.heartbeat_interval, time.monotonic()
        while not self._stop_beats.wait(min(interval, 0.25)):
            with self._lock:
                fresh = self._new_started or bool(self._async_done)
            if not fresh and time.monotonic() - last < interval:
                continue
            last = time.monotonic()
            self._send_beat(self.heartbeat_message())

    def _beat_directly(self) -> None:
        """Refresh the rows of the running actions in the database every interval, and
        of the finished ones until their results are applied (see ``_recent``)."""
        grace = max(RECENT_BEATS * self.heartbeat_interval, RESULT_GRACE)
        while not self._stop_beats.wait(self.heartbeat_interval):
            with self._lock:
                horizon = time.monotonic() - grace
                self._recent = {k: v for k, v in self._recent.items() if v > horizon}
                running = sorted(self._running | self.outbox.pending_ids() | set(self._recent))
                async_done, self._async_done = self._async_done, []
            try:
                assert self.acceptance is not None
                applied = self.acceptance.beat(running, async_done)
            except Exception:  # noqa: BLE001 - the next beat retries
                LOG.warning("Could not record an executor heartbeat", exc_info=True)
                with self._lock:
                    self._async_done.extend(async_done)
                continue
            if applied:
                with self._lock:
                    for action_id in applied:
                        self._recent.pop(action_id, None)

    def _send_beat(self, message: Message | None) -> None:
        if message is None:
            return
        try:
            self.transport.send_to_engine(message)
        except Exception:  # noqa: BLE001 - the next beat retries
            LOG.warning("Could not send an executor heartbeat", exc_info=True)

    def _on_request(self, request: Message) -> None:
        ack = request.pop(ACK_KEY, None)
        if self._direct:
            self._accept_and_run(request, ack)
            return
        pool = self._pool
        if pool is None:
            LOG.warning("Executor stopped; dropping action %s", request.get("action_id"))
            return
        # A transport that acknowledges after the handler returned (RabbitMQ) gets the
        # acknowledgement once the action has started: a request still waiting for a
        # thread when this process dies goes to another executor.
        started = (threading.Event() if getattr(self.transport, "acks_after_handler", False)
                   else None)
        with self._lock:
            self._in_flight += 1
        if started is None and self._runs_inline(request):
            self._run_and_count(request)  # in the sender's thread: no pool hand-off
            return
        if started is None and self._defer_here(request):
            return  # this pool thread runs it once its current work is done
        try:
            pool.submit(self._run_pooled, request, started)
        except RuntimeError:
            self._done()
            LOG.warning("Executor shutting down; dropping action %s", request.get("action_id"))
            return
        if started is not None:
            started.wait()

    def _accept_and_run(self, request: Message, ack: Callable[[], None] | None) -> None:
        """Distributed mode: accept durably, acknowledge, run here (the handler thread).

        A request whose action is already accepted or finished is a duplicate (a
        redelivery, or a copy re-sent after an engine died): it is dropped.
        """
        from wfaas.executors.acceptance import Verdict

        assert self.acceptance is not None
        action_id = str(request.get("action_id"))
        adhoc = request.get("task_id") is None and request.get("execution_id") is None
        delay = 0.5
        while True:  # the database away for a moment: the request waits here, unacked
            try:
                verdict = self.acceptance.accept(action_id, adhoc=adhoc)
                break
            except Exception as exc:  # noqa: BLE001 - after ~30 s the transport requeues it
                if delay > 8:
                    raise
                LOG.warning("Could not accept action %s (%s: %s); retrying in %.1f s",
                            action_id, exc.__class__.__name__, exc, delay)
                time.sleep(delay)
                delay *= 2
        if verdict is not Verdict.RUN:
            log = LOG.warning if request.get("_redelivered") else LOG.info
            log("Dropping a duplicate request of action %s (%s) of execution %s: %s",
                action_id, request.get("action"), request.get("execution_id"),
                "already accepted by an executor" if verdict is Verdict.TAKEN
                else f"the action is {verdict.value}")
            if ack is not None:
                ack()
            return
        if ack is not None:
            ack()  # a transport that offers it: accepted durably, a redelivery is dropped
        with self._lock:
            self._in_flight += 1
        self._run_and_count(request)

    def _runs_inline(self, request: Message) -> bool:
        """True for a request run in the sender's thread instead of the pool: the
        transport hands requests over in-process (``inline_cheap_actions``), the
        default runner is used, no timeout is set, and the action returns at once and
        touches nothing (:data:`INLINE_ACTIONS`; ``std.echo`` only without a delay)."""
        if self._runner is not None or request.get("timeout") or request.get("_redelivered"):
            return False
        action = request.get("action")
        if action not in INLINE_ACTIONS or not getattr(self.transport, "inline_cheap_actions",
                                                       False):
            return False
        return action != "std.echo" or not (request.get("input") or {}).get("delay")

    def _defer_here(self, request: Message) -> bool:
        """Keep ``request`` for the sending thread when it is one of this pool's threads
        that is reporting its own action's result (the engine step applying it
        dispatched the next action, :func:`wfaas.rpc.base.idle_sender`): a sequence then
        runs on one thread, without waking another. One request at a time: the rest of
        a fan-out goes to the pool."""
        mine = getattr(_POOLED, "deferred", None)
        if mine is None or mine or not sender_is_idle():
            return False
        mine.append(request)
        return True

    def _run_pooled(self, request: Message, started: threading.Event | None = None) -> None:
        """A pool thread's work item: ``request``, then what was deferred to it."""
        _POOLED.deferred = mine = deque([request])
        try:
            self._run_and_count(mine.popleft(), started)
            while mine:
                request = mine.popleft()
                if self._pool is None:  # stopped meanwhile: like a queued request
                    self._done()
                    LOG.warning("Executor stopped; dropping action %s",
                                request.get("action_id"))
                    continue
                self._run_and_count(request)
        finally:
            _POOLED.deferred = None

    def _run_and_count(self, request: Message, started: threading.Event | None = None) -> None:
        action_id = str(request.get("action_id"))
        with self._lock:
            self._running.add(action_id)
            self._new_started = True
        if started is not None:
            started.set()
        try:
            self.run_request(request)
        finally:
            with self._lock:
                self._running.discard(action_id)
                if self.acceptance is not None:
                    self._recent[action_id] = time.monotonic()
            self._done()

    def run_request(self, request: Message) -> None:
        """Run one request in this thread and report the outcome to the engine.

        A request the transport redelivers (its first executor died) runs again
        only when the task allows it (``safe-rerun``); otherwise it fails.
        """
        if (request.get("_redelivered") and not request.get("safe_rerun", True)
                and self.acceptance is None):
            self.transport.send_to_engine(completion_message(
                request, "ERROR", f"Action {request.get('action')} was interrupted (its "
                "executor stopped) and is not safe to re-run [safe-rerun: false]"))
            return
        started = time.monotonic()
        try:
            result = self._run(request)
            if getattr(result, "limit", None):
                metrics.limit_breached(str(result.limit))
            message = result_to_completion(request, result, self.size_limit_kb)
            if message is None:  # asynchronous: its result comes later through the API
                with self._lock:
                    self._async_done.append(str(request.get("action_id")))
        except Exception as exc:  # noqa: BLE001 - report, never lose the action
            LOG.exception("Executor failed on action %s", request.get("action"))
            message = completion_message(request, "ERROR",
                                         f"Executor failure: {exc.__class__.__name__}: {exc}")
        if message is not None:
            outcome = str((message.get("event") or {}).get("state") or "done").lower()
            metrics.action_ran(outcome, time.monotonic() - started)
            self._report(request, message)

    def _report(self, request: Message, message: Message) -> None:
        """Send a result; with acceptance, one the broker does not take within a few
        seconds goes to the outbox (re-sent until delivered)."""
        if self.acceptance is None:
            # this thread is done with the action: an in-process engine may apply the
            # result here, without waking one of its workers (see rpc.base.idle_sender)
            with idle_sender():
                self.transport.send_to_engine(message)
            return
        try:
            self.transport.send_to_engine_within(message, self.outbox.first_try)
        except Exception as exc:  # noqa: BLE001 - the outbox retries until delivered
            LOG.warning("Result of action %s kept for later: the broker did not take it "
                        "(%s: %s)", request.get("action_id"), exc.__class__.__name__, exc)
            self.outbox.put(str(request.get("action_id")), message)

    def _reported(self, action_id: str) -> None:
        LOG.info("Result of action %s delivered from the outbox", action_id)

    def _run(self, request: Message) -> Any:
        from wfaas.actions.base import ActionContext

        runner = self._runner
        if runner is None:
            from wfaas.actions.runner import run_action

            runner = run_action
        context = ActionContext.from_dict(request.get("context"))
        kw: dict[str, Any] = {}
        if request.get("env"):
            # env() in an ad-hoc action's base-input sees the execution's environment
            from wfaas.expressions.context import StaticFunctionContext

            kw["wf_ctx"] = {"functions": StaticFunctionContext(environment=request["env"])}
        with log_context(execution_id=context.execution.workflow_execution_id,
                         task_id=context.execution.task_execution_id,
                         project_id=context.security.project_id), \
                acting_for(context.security.project_id):
            return runner(self.provider, request["action"], dict(request.get("input") or {}),
                          context, namespace=request.get("namespace") or "",
                          timeout=request.get("timeout"), conf=self.conf, **kw)
