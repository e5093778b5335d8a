"""Action requests and the local executor pool.

An action request is plain data (never a pickled object)::

    {"action_id": str, "execution_id": str | None, "task_id": str | None,
     "task_name": str | None, "action": str, "namespace": str, "input": dict,
     "context": ActionContext.to_dict(), "timeout": float | None}

The executor runs it with :func:`wfaas.actions.runner.run_action` and reports
the outcome to the engine as ``{"execution_id": ..., "event":
ActionCompleted.to_dict()}``. An asynchronous action reports nothing: its
result arrives later through the API (``complete_action``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from wfaas.rpc.base import Message, Transport

LOG = logging.getLogger(__name__)


def completion_message(request: Message, state: str, result: Any,
                       state_info: str | None = None) -> Message:
    """The engine message telling that the action of ``request`` finished."""
    return {
        "execution_id": request.get("execution_id"),
        "event": {"kind": "action_completed", "action_id": request["action_id"],
                  "state": state, "result": result, "state_info": state_info},
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
        return completion_message(request, "ERROR", problem)
    if result.is_error():
        return completion_message(request, "ERROR", result.error)
    return completion_message(request, "SUCCESS", result.data)


#: std actions that return at once without side effects: with an in-process transport
#: they run in the sender's thread (no pool hand-off, two thread wake-ups less per task)
INLINE_ACTIONS = frozenset({"std.noop", "std.echo"})


class LocalExecutor:
    """A pool of ``workers`` threads running action requests of one executor group."""

    def __init__(self, transport: Transport, provider: Any, *, workers: int = 16,
                 group: str = "", size_limit_kb: int = -1,
                 heartbeat_interval: float = 0.0,
                 runner: Callable[..., Any] | None = None) -> None:
        self.transport = transport
        self.provider = provider
        self.group = group
        self.size_limit_kb = size_limit_kb
        self._workers = max(1, workers)
        self._pool: ThreadPoolExecutor | None = None
        self._runner = runner
        self._lock = threading.Lock()
        self._in_flight = 0
        #: heartbeats (distributed mode): see heartbeat_message
        self.executor_id = uuid.uuid4().hex
        self.heartbeat_interval = heartbeat_interval
        self._running: set[str] = set()
        self._async_done: list[str] = []
        self._new_started = False
        self._stop_beats = threading.Event()
        self._beat_thread: threading.Thread | None = None
        #: notified when a request is done (see Transport.monitor)
        self.monitor: threading.Condition | None = None

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
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers,
                                                thread_name_prefix="wfaas-executor")
                # one thread up front: the first action does not wait for a thread start
                self._pool.submit(int)
        self.transport.serve_executor(self._on_request, self.group)
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
        return {"execution_id": None, "event": {
            "kind": "executor_heartbeat", "executor": self.executor_id, "group": self.group,
            "action_ids": running, "async_action_ids": async_done, "announce": announce}}

    def _beat_loop(self) -> None:
        self._send_beat(self.heartbeat_message(announce=True))
        interval, last = self.heartbeat_interval, time.monotonic()
        while not self._stop_beats.wait(min(interval, 0.25)):
            with self._lock:
                fresh = self._new_started or bool(self._async_done)
            if not fresh and time.monotonic() - last < interval:
                continue
            last = time.monotonic()
            self._send_beat(self.heartbeat_message())

    def _send_beat(self, message: Message | None) -> None:
        if message is None:
            return
        try:
            self.transport.send_to_engine(message)
        except Exception:  # noqa: BLE001 - the next beat retries
            LOG.warning("Could not send an executor heartbeat", exc_info=True)

    def _on_request(self, request: Message) -> None:
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
        try:
            pool.submit(self._run_and_count, request, started)
        except RuntimeError:
            self._done()
            LOG.warning("Executor shutting down; dropping action %s", request.get("action_id"))
            return
        if started is not None:
            started.wait()

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
            self._done()

    def run_request(self, request: Message) -> None:
        """Run one request in this thread and report the outcome to the engine.

        A request the transport redelivers (its first executor died) runs again
        only when the task allows it (``safe-rerun``); otherwise it fails.
        """
        if request.get("_redelivered") and not request.get("safe_rerun", True):
            self.transport.send_to_engine(completion_message(
                request, "ERROR", f"Action {request.get('action')} was interrupted (its "
                "executor stopped) and is not safe to re-run [safe-rerun: false]"))
            return
        try:
            result = self._run(request)
            message = result_to_completion(request, result, self.size_limit_kb)
            if message is None:  # asynchronous: its result comes later through the API
                with self._lock:
                    self._async_done.append(str(request.get("action_id")))
        except Exception as exc:  # noqa: BLE001 - report, never lose the action
            LOG.exception("Executor failed on action %s", request.get("action"))
            message = completion_message(request, "ERROR",
                                         f"Executor failure: {exc.__class__.__name__}: {exc}")
        if message is not None:
            self.transport.send_to_engine(message)

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
        return runner(self.provider, request["action"], dict(request.get("input") or {}),
                      context, namespace=request.get("namespace") or "",
                      timeout=request.get("timeout"), **kw)
