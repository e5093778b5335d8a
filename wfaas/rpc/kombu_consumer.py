"""The consumer thread of the RabbitMQ transport (:mod:`wfaas.rpc.kombu_transport`).

One :class:`QueueConsumer` thread consumes one or more queues over its own connection:
it reconnects with a growing delay, runs the handlers in a pool of ``capacity``
threads, acknowledges a message only after its handler returned (requeued once
when the handler raises), and may change the queues it consumes while it runs
(the engine's partitions, :meth:`QueueConsumer.want`).
"""

from __future__ import annotations

import logging
import queue
import select
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from amqp.exceptions import ConsumerCancelled
from kombu.connection import Connection
from kombu.entity import Queue
from kombu.messaging import Consumer

from wfaas.rpc.base import Handler, Message

if TYPE_CHECKING:
    from wfaas.rpc.kombu_transport import KombuTransport

LOG = logging.getLogger(__name__)

REDELIVERED = "_redelivered"
#: a key a message may carry in-process only (never published)
ACK = "_ack"


def release(conn: Connection) -> None:
    try:
        conn.release()
    except Exception:  # noqa: BLE001 - broken anyway
        LOG.debug("Ignoring an error while closing a broken connection", exc_info=True)


class QueueConsumer:
    """One consumer thread over one or more queues: reconnects, runs handlers in a pool,
    acks after them. The queues it consumes may change while it runs (:meth:`want`)."""

    def __init__(self, owner: KombuTransport, queues: list[Queue], handler: Handler,
                 capacity: int | None = None, *, name: str | None = None) -> None:
        self.owner = owner
        self.name = name or queues[0].name
        self.handler = handler
        #: handlers that may run at once (None: ``owner.prefetch``, acks after them)
        self.capacity = capacity
        #: the queues to consume, by name (changed by :meth:`want`, applied by the thread)
        self._wanted: dict[str, Queue] = {q.name: q for q in queues}
        self._dirty = False
        #: the queues consumed on the current connection, by name
        self._subscribed: dict[str, Queue] = {}
        #: a channel-wide prefetch (several queues share the handler pool)
        self._global_qos = len(queues) != 1
        self._consuming = False
        #: queues added to the consumer and not consumed yet (see _throttle)
        self._added = False
        self._window = 0
        #: handlers running on messages of the current connection
        self._current = 0
        self.thread: threading.Thread | None = None
        self.pool: ThreadPoolExecutor | None = None
        #: (generation, message, outcome): "ack" or "requeue"
        self._done: queue.SimpleQueue[tuple[int, Any, str]] = queue.SimpleQueue()
        self._generation = 0
        self._in_flight = 0
        self._foreign = 0
        self._lock = threading.Lock()
        self.connected = threading.Event()
        #: a handler that finished writes a byte here: the consumer thread, waiting in
        #: select() on the broker socket and this, acknowledges at once (no polling)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)

    def want(self, queues: list[Queue]) -> None:
        """Consume exactly ``queues`` from now on (applied by the consumer thread)."""
        with self._lock:
            self._wanted = {q.name: q for q in queues}
            self._dirty = True

    def settled(self) -> bool:
        """True when the consumed queues are the wanted ones (and it is connected)."""
        with self._lock:
            return self.connected.is_set() and not self._dirty

    def wanted(self) -> list[str]:
        """Names of the queues this consumer is meant to consume."""
        with self._lock:
            return sorted(self._wanted)

    def start(self) -> None:
        if self.thread is not None:
            return
        self.pool = ThreadPoolExecutor(self.limit,
                                       thread_name_prefix=f"wfaas-amqp-{self.name}")
        self.thread = threading.Thread(target=self._run, name=f"wfaas-amqp-{self.name}",
                                       daemon=True)
        self.thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the handler pool down; wait ``timeout`` s for the consumer thread."""
        pool, self.pool = self.pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        self.join(timeout)

    def join(self, timeout: float) -> None:
        """Wait for the consumer thread to leave (after ``stopping`` was set)."""
        thread = self.thread
        if thread is None or thread is threading.current_thread():
            return
        if timeout > 0:
            thread.join(timeout)
        if not thread.is_alive():
            self.thread = None
            for sock in (self._wake_r, self._wake_w):
                sock.close()  # a late _wake() on a closed socket is ignored

    @property
    def limit(self) -> int:
        """Messages handled at once (and the prefetch of a plain consumer)."""
        return self.capacity or self.owner.prefetch

    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def in_flight_foreign(self) -> int:
        with self._lock:
            return self._foreign

    # ---------------------------------------------------------------- the loop
    def _run(self) -> None:
        delay = self.owner.retry_interval
        while not self.owner.stopping.is_set():
            try:
                self._session()
                delay = self.owner.retry_interval
            except Exception as exc:  # noqa: BLE001 - any broker trouble: reconnect
                self.connected.clear()
                if self.owner.stopping.is_set():
                    return
                LOG.warning("RabbitMQ consumer of %s lost its connection (%s: %s); "
                            "reconnecting in %.1f s", self.name,
                            exc.__class__.__name__, exc, delay)
                self.owner.stopping.wait(delay)
                delay = min(delay * 2, self.owner.retry_max)

    def _session(self) -> None:
        """Consume on one connection until stopped or the connection fails."""
        self._generation += 1
        generation = self._generation
        with self.owner.connection(heartbeat=self.owner.heartbeat) as conn:
            conn.ensure_connection(max_retries=1)
            channel = conn.channel()
            consumer = Consumer(channel, queues=[], accept=["json"],
                                on_message=lambda msg: self._received(msg, generation))
            self._consuming, self._window = False, 0
            self._subscribed = {}
            with self._lock:
                self._current = 0
                self._dirty = True
            self._subscribe(consumer)
            self._throttle(channel, consumer)
            self.connected.set()
            last_beat = time.monotonic()
            try:
                while not self.owner.stopping.is_set():
                    self._flush_acks(generation)
                    try:
                        self._subscribe(consumer)
                        self._throttle(channel, consumer)
                    except ConsumerCancelled as exc:
                        # it came while waiting for a consume-ok or cancel-ok: py-amqp
                        # then never registers the new consumer's callback, and the
                        # broker's deliveries to it would be rejected (and redelivered)
                        # forever. Start over on a new connection.
                        raise ConnectionError(f"a consumer was cancelled by the broker "
                                              f"while subscribing ({exc})") from exc
                    try:
                        self._wait(conn, 0.2)
                    except ConsumerCancelled as exc:
                        self._cancelled_by_broker(consumer, exc)
                    if self.owner.heartbeat and time.monotonic() - last_beat > 1.0:
                        conn.heartbeat_check()
                        last_beat = time.monotonic()
                self._flush_acks(generation)
                try:
                    consumer.cancel()
                except Exception:  # noqa: BLE001 - closing anyway
                    pass
            finally:
                self.connected.clear()

    def _cancelled_by_broker(self, consumer: Consumer, exc: ConsumerCancelled) -> None:
        """The broker cancelled one of our consumers (``basic.cancel``: its queue was
        deleted, or its node went away): subscribe to that queue again on this
        connection (declaring it anew) instead of reconnecting. Its delivered and
        unacknowledged messages stay ours and are acknowledged as usual."""
        tag = str(exc.reply_text or "")
        tags: dict[str, str] = getattr(consumer, "_active_tags", {})
        name = next((q for q, t in tags.items() if t == tag), None)
        if name is None:
            raise exc  # not one of ours: start over on a new connection
        LOG.warning("RabbitMQ cancelled the consumer of %s (%s): subscribing again",
                    name, tag)
        # a basic.cancel of a consumer the broker already cancelled is answered with
        # cancel-ok (not an error): kombu forgets the queue, _subscribe re-adds it
        consumer.cancel_by_queue(name)
        self._subscribed.pop(name, None)
        with self._lock:
            self._dirty = True

    def _wait(self, conn: Connection, timeout: float) -> None:
        """Wait up to ``timeout`` s for a frame from the broker or a finished handler
        (:meth:`_wake`), and read what the broker sent.

        py-amqp reads a plain TCP socket exactly frame by frame (a frame cut by a
        timeout is kept in its buffer until the rest arrives), so a readable socket
        is the only sign of pending input.
        """
        sock = getattr(conn.connection, "sock", None)
        if sock is None:  # not a socket transport: poll as before
            try:
                conn.drain_events(timeout=0.02 if self.in_flight() else timeout)
            except TimeoutError:
                pass
            return
        readable, _, _ = select.select([sock, self._wake_r], [], [], timeout)
        if self._wake_r in readable:
            try:
                while self._wake_r.recv(4096):
                    pass
            except (BlockingIOError, InterruptedError):
                pass
        if sock in readable:
            try:
                conn.drain_events(timeout=0.05)
            except TimeoutError:  # only part of a message came: the rest comes later
                pass

    def _wake(self) -> None:
        """Make the consumer thread leave :meth:`_wait` (a handler finished)."""
        try:
            self._wake_w.send(b"x")
        except (BlockingIOError, OSError):  # full: it wakes anyway; closed: stopped
            pass

    def _received(self, msg: Any, generation: int) -> None:
        try:
            body = msg.decode()
        except Exception:  # noqa: BLE001 - a malformed message is dropped, not retried
            LOG.error("Dropping undecodable message on %s", self.name)
            msg.ack()
            return
        redelivered = bool(msg.delivery_info.get("redelivered"))
        own = (msg.headers or {}).get("wfaas_sender") == self.owner.instance_id
        if not isinstance(body, dict):
            LOG.error("Dropping non-object message on %s", self.name)
            msg.ack()
            return
        if redelivered:
            body[REDELIVERED] = True
        pool = self.pool
        if pool is None:  # stopping: the broker redelivers it to someone else
            return
        with self._lock:
            full = bool(self.capacity) and self._in_flight >= (self.capacity or 0)
            if not full:
                self._in_flight += 1
                self._current += 1
                if not own:
                    self._foreign += 1
        if full:  # every worker busy (cannot happen with the window): back to the broker
            LOG.debug("No free worker for a message on %s: handing it back", self.name)
            msg.requeue()
            return
        pool.submit(self._handle, msg, body, generation, redelivered, own)

    def _handle(self, msg: Any, body: Message, generation: int, redelivered: bool,
                own: bool) -> None:
        ok = True
        try:
            self.handler(body)
        except Exception:  # noqa: BLE001 - requeue once, then drop
            ok = False
            LOG.exception("Handler of %s failed on a message%s", self.name,
                          " (already redelivered: dropping it)" if redelivered else "")
        if not own:
            with self._lock:
                self._foreign -= 1
        elif ok or redelivered:
            self.owner._unsettled_add(-1)
        self._done.put((generation, msg, "ack" if ok or redelivered else "requeue"))
        self._wake()
        self.owner.notify_monitor()

    def _subscribe(self, consumer: Consumer) -> None:
        """Declare and add the wanted queues, cancel the unwanted ones (consumer thread).

        Messages of a cancelled queue already delivered here are still handled and
        acknowledged; the next ones go to the queue's next consumer."""
        with self._lock:
            if not self._dirty:
                return
            self._dirty = False
            wanted = dict(self._wanted)
        gone = [q for name, q in sorted(self._subscribed.items()) if name not in wanted]
        for queue_ in gone:
            consumer.cancel_by_queue(queue_.name)
        self.owner.nudge(gone)  # after the cancel-ok: the next consumer is active now
        added = [q for name, q in sorted(wanted.items()) if name not in self._subscribed]
        for queue_ in added:
            consumer.add_queue(queue_)  # declares (and binds) it
        self._added = self._added or bool(added)
        self._subscribed = wanted
        if added or gone:
            LOG.info("Consuming %s (%d queue(s): +%d -%d)", self.name, len(wanted),
                     len(added), len(gone))

    def _throttle(self, channel: Any, consumer: Consumer) -> None:
        """Keep the channel's prefetch at the free capacity (see the module docstring)."""
        if not self.capacity:
            if not self._consuming:
                channel.basic_qos(0, self.owner.prefetch, self._global_qos)
                self._consuming = True
            if self._added:  # the queues added since the last call
                consumer.consume()
                self._added = False
            return
        with self._lock:
            older = self._in_flight - self._current  # handlers of a previous connection
        want = self.capacity - older
        if want <= 0:  # a prefetch of 0 would mean "unlimited": stop consuming instead
            if self._consuming:
                consumer.cancel()
                self._consuming = False
                self.owner.nudge(list(self._subscribed.values()))
            return
        if want != self._window:
            channel.basic_qos(0, want, True)
            self._window = want
        if not self._consuming:
            consumer.consume()
            self._consuming = True
        elif self._added:  # a queue subscribed again (see _cancelled_by_broker)
            consumer.consume()
        self._added = False

    def _flush_acks(self, generation: int) -> None:
        while True:
            try:
                gen, msg, outcome = self._done.get_nowait()
            except queue.Empty:
                return
            with self._lock:
                self._in_flight -= 1
                if gen == generation:
                    self._current -= 1
            if gen != generation:
                continue  # its channel is gone: the broker redelivers it
            if outcome == "requeue":
                msg.requeue()
            else:
                msg.ack()
