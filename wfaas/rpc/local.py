"""In-process transport: one queue and one delivery thread per destination."""

from __future__ import annotations

import logging
import queue
import threading

from wfaas.rpc.base import Handler, Message, Transport

LOG = logging.getLogger(__name__)
_STOP = object()


class _Channel:
    """A queue whose messages a daemon thread hands to one handler, in order."""

    def __init__(self, name: str, owner: LocalTransport) -> None:
        self.name = name
        self.owner = owner
        self.queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.handler: Handler | None = None
        self.thread: threading.Thread | None = None

    def put(self, msg: Message) -> None:
        self.owner._count(+1)
        self.queue.put(msg)

    def call(self, msg: Message) -> bool:
        """Hand ``msg`` to the handler in the caller's thread (no thread hop); False
        when the channel is not running (then it must be queued)."""
        handler = self.handler
        if handler is None or self.thread is None:
            return False
        self.owner._count(+1)
        try:
            handler(msg)
        except Exception:  # noqa: BLE001 - one bad message must not break the sender
            LOG.exception("Handler of %s failed on a message", self.name)
        finally:
            self.owner._count(-1)
        return True

    def start(self) -> None:
        if self.handler is None or self.thread is not None:
            return
        self.thread = threading.Thread(target=self._loop, name=f"wfaas-rpc-{self.name}",
                                       daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            msg = self.queue.get()
            if msg is _STOP:
                return
            try:
                assert self.handler is not None
                self.handler(msg)  # type: ignore[arg-type]
            except Exception:  # noqa: BLE001 - one bad message must not stop delivery
                LOG.exception("Handler of %s failed on a message", self.name)
            finally:
                self.owner._count(-1)

    def stop(self) -> None:
        if self.thread is not None:
            self.queue.put(_STOP)
            if self.thread is not threading.current_thread():
                self.thread.join(timeout=10)
            self.thread = None


class LocalTransport(Transport):
    """Queues + worker threads inside one process (the embedded default).

    A request for an executor group nobody serves goes to the default group
    ('') so that a task's ``target`` never blocks a single-process setup.
    """

    #: requests are handed over in-process: an executor may run trivial actions
    #: (``wfaas.executors.base.INLINE_ACTIONS``) in the sender's thread
    inline_cheap_actions = True
    single_engine = True

    def __init__(self) -> None:
        self._engine = _Channel("engine", self)
        self._groups: dict[str, _Channel] = {}
        self._lock = threading.Lock()
        self._started = False
        self._in_flight = 0

    def _count(self, delta: int) -> None:
        with self._lock:
            self._in_flight += delta
        if delta < 0 and self.monitor is not None:
            with self.monitor:
                self.monitor.notify_all()

    def in_flight(self) -> int:
        """Messages queued or being handled."""
        with self._lock:
            return self._in_flight

    def send_to_engine(self, message: Message) -> None:
        # The engine's handler only queues the event (non-blocking), so it runs in the
        # sender's thread: one thread hand-over less per event. Messages without an
        # execution (ad-hoc action results) write to the database: they keep the queue.
        if message.get("execution_id") and self._engine.call(message):
            return
        self._engine.put(message)

    def send_to_executor(self, request: Message, target: str | None = None) -> None:
        with self._lock:
            channel = self._groups.get(target or "") or self._groups.get("")
            if channel is None:
                channel = self._groups.setdefault("", _Channel("executor", self))
        # The executor's handler only submits to its pool: call it directly.
        if not channel.call(request):
            channel.put(request)

    def serve_engine(self, handler: Handler) -> None:
        self._engine.handler = handler
        if self._started:
            self._engine.start()

    def serve_executor(self, handler: Handler, group: str = "",
                       capacity: int | None = None) -> None:
        with self._lock:
            channel = self._groups.setdefault(
                group, _Channel(f"executor-{group or 'default'}", self))
        channel.handler = handler
        if self._started:
            channel.start()

    def start(self) -> None:
        self._started = True
        self._engine.start()
        with self._lock:
            channels = list(self._groups.values())
        for channel in channels:
            channel.start()

    def stop(self) -> None:
        self._started = False
        self._engine.stop()
        with self._lock:
            channels = list(self._groups.values())
        for channel in channels:
            channel.stop()
