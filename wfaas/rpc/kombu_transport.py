"""RabbitMQ transport (kombu over py-amqp) behind :class:`wfaas.rpc.base.Transport`.

Selected with ``[DEFAULT] transport_url = rabbit://user:pass@host:5672/vhost``.
Several hosts fail over (``rabbit://u:p@h1:5672,u:p@h2:5672/``). Query
parameters of the URL that belong to wfaas (removed before kombu sees it):

- ``queue_prefix``: prepended to every exchange and queue name, so that test
  runs (or several deployments on one vhost) never share queues;
- ``queue_expires``: seconds after which an unused queue is deleted by the
  broker (``x-expires``; meant for tests, off by default);
- ``prefetch``: messages a consumer handles concurrently (default 16);
- ``confirm``: ``0`` turns publisher confirms off (default on).

Topology: one durable direct exchange ``<prefix>wfaas``. The events of
execution X go to the durable queue ``<prefix>wfaas.engine.pNN`` of its
partition (``NN = partition_of(X)``, :mod:`wfaas.rpc.partitions`); those queues
have a *single active consumer* (``x-single-active-consumer``): of the engines
subscribed, one at a time receives its messages. An engine consumes the
partitions it owns (:meth:`KombuTransport.engine_partitions`, driven by
:mod:`wfaas.services.ownership`; every partition until told otherwise); the
messages of a partition nobody consumes wait in its queue. Messages of no
execution (executor heartbeats, ad-hoc actions) go to ``<prefix>wfaas.engine``,
shared by every engine (competing consumers). Each executor group ``g`` has the
durable queue ``<prefix>wfaas.executor.<g>`` (``default`` for the unnamed group)
shared by every executor of the group. Messages are JSON and persistent;
publishing waits for the broker's confirm.

A message is acknowledged only after its handler returned, so a process that
dies while handling it gets it redelivered to another consumer. The handler
then sees ``message["_redelivered"] = True``. A handler that raises gets its
message requeued once, and dropped (logged) when it fails again.

Executor queues are consumed with a *capacity* (the executor's workers): the
handler runs the whole action in a pool of ``capacity`` threads and the
message is acknowledged when it returns. The channel's prefetch
(``basic_qos`` with ``global=True``) is the capacity, so the broker never holds
more requests for this process than it has free workers: a request is pushed
the moment a worker acknowledges its previous one, and waits in the queue (for
any executor) otherwise. After a reconnect, handlers still running from the
previous connection count against the window until they finish. The executor
deduplicates by itself (:mod:`wfaas.executors.acceptance`), so a redelivery of
a request that is still running (a reconnect, or RabbitMQ's
``consumer_timeout`` for very long actions) is harmless.

Broker outages are survived: consumers reconnect with a growing delay, and
publishing retries until ``publish_timeout`` (default 300 s) has passed, so a
RabbitMQ restart delays work instead of losing it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from kombu.connection import Connection
from kombu.entity import Exchange, Queue
from kombu.exceptions import OperationalError
from kombu.messaging import Consumer, Producer

from wfaas.rpc.base import Handler, Message, Transport
from wfaas.rpc.partitions import PARTITIONS, partition_of

LOG = logging.getLogger(__name__)

OWN_PARAMS = ("queue_prefix", "queue_expires", "prefetch", "confirm")
REDELIVERED = "_redelivered"
#: a key a message may carry in-process only (never published)
ACK = "_ack"
#: the key of the consumer of the partition queues
PARTITIONS_KEY = "engine.partitions"


def parse_url(url: str) -> tuple[list[str], dict[str, str]]:
    """Split a transport URL into kombu ``amqp://`` URLs (one per host) and wfaas options.

    ``rabbit://a:b@h1:5672,a:b@h2/vh?queue_prefix=t1`` ->
    (["amqp://a:b@h1:5672/vh", "amqp://a:b@h2/vh"], {"queue_prefix": "t1"}).
    """
    if url.startswith("kombu+"):
        url = url[len("kombu+"):]
    parts = urlsplit(url)
    if parts.scheme not in ("rabbit", "amqp", "pyamqp"):
        raise ValueError(f"transport_url {url!r}: scheme must be rabbit:// or amqp://")
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = {k: v for k, v in query if k in OWN_PARAMS}
    rest = urlencode([(k, v) for k, v in query if k not in OWN_PARAMS])
    hosts = [h for h in parts.netloc.split(",") if h] or ["guest:guest@localhost:5672"]
    path = parts.path or "/"
    return [urlunsplit(("amqp", host, path, rest, "")) for host in hosts], options


def _release(conn: Connection) -> None:
    try:
        conn.release()
    except Exception:  # noqa: BLE001 - broken anyway
        LOG.debug("Ignoring an error while closing a broken connection", exc_info=True)


class _Producer:
    """A publishing connection, its producer and the queues declared on it."""

    def __init__(self, connection: Connection, producer: Producer) -> None:
        self.connection = connection
        self.producer = producer
        self.declared: set[str] = set()

    def publish(self, body: Message, **kwargs: Any) -> None:
        self.producer.publish(body, **kwargs)


class _Consumer:
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
        #: the queues consumed on the current connection
        self._subscribed: set[str] = set()
        #: a channel-wide prefetch (several queues share the handler pool)
        self._global_qos = len(queues) != 1
        self._consuming = False
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
            self._subscribed = set()
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
                    self._subscribe(consumer)
                    self._throttle(channel, consumer)
                    busy = self.in_flight() > 0
                    try:
                        conn.drain_events(timeout=0.02 if busy else 0.2)
                    except TimeoutError:
                        pass
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
        gone = self._subscribed - set(wanted)
        for name in sorted(gone):
            consumer.cancel_by_queue(name)
        added = [q for name, q in sorted(wanted.items()) if name not in self._subscribed]
        for queue_ in added:
            consumer.add_queue(queue_)  # declares (and binds) it
        self._subscribed = set(wanted)
        if added or gone:
            LOG.info("Consuming %s (%d queue(s): +%d -%d)", self.name, len(wanted),
                     len(added), len(gone))

    def _throttle(self, channel: Any, consumer: Consumer) -> None:
        """Keep the channel's prefetch at the free capacity (see the module docstring)."""
        if not self.capacity:
            if not self._consuming:
                channel.basic_qos(0, self.owner.prefetch, self._global_qos)
                self._consuming = True
            consumer.consume()  # the queues added since the last call (none: no-op)
            return
        with self._lock:
            older = self._in_flight - self._current  # handlers of a previous connection
        want = self.capacity - older
        if want <= 0:  # a prefetch of 0 would mean "unlimited": stop consuming instead
            if self._consuming:
                consumer.cancel()
                self._consuming = False
            return
        if want != self._window:
            channel.basic_qos(0, want, True)
            self._window = want
        if not self._consuming:
            consumer.consume()
            self._consuming = True

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


class KombuTransport(Transport):
    """Durable RabbitMQ queues for the engine and executor groups (see the module docstring)."""

    #: a message is acknowledged when its handler returns: handlers that hand work
    #: to another thread should return only once it is safe to lose the message
    acks_after_handler = True

    def __init__(self, url: str, *, publish_timeout: float = 300.0,
                 retry_interval: float = 0.5, retry_max: float = 5.0,
                 heartbeat: int = 20) -> None:
        self.urls, options = parse_url(url)
        self.prefix = options.get("queue_prefix", "")
        expires = options.get("queue_expires")
        self.queue_arguments: dict[str, Any] = (
            {"x-expires": int(float(expires) * 1000)} if expires else {})
        self.prefetch = max(1, int(options.get("prefetch", "16")))
        self.confirm = options.get("confirm", "1") not in ("0", "false", "no")
        self.publish_timeout = publish_timeout
        self.retry_interval = retry_interval
        self.retry_max = retry_max
        self.heartbeat = heartbeat
        self.exchange = Exchange(f"{self.prefix}wfaas", type="direct", durable=True)
        self.stopping = threading.Event()
        self._consumers: dict[str, _Consumer] = {}
        self._declared: set[str] = set()
        self._lock = threading.Lock()
        self.instance_id = uuid.uuid4().hex
        self._unsettled = 0
        self._idle_producers: queue.LifoQueue[_Producer] = queue.LifoQueue()
        self._started = False

    # ---------------------------------------------------------------- naming
    def engine_queue(self) -> Queue:
        """The queue every engine consumes: messages of no execution (executor
        heartbeats, ad-hoc actions) and those published before partitioning."""
        return self._queue("engine")

    def partition_queue(self, partition: int) -> Queue:
        """The queue of the events of the executions of ``partition`` (single active
        consumer: whoever subscribes, one engine at a time receives its messages)."""
        return self._queue(f"engine.p{partition:02d}", single_active=True)

    def engine_queues(self) -> list[Queue]:
        """Every engine queue: the shared one and one per partition."""
        return [self.engine_queue()] + [self.partition_queue(p) for p in range(PARTITIONS)]

    def queue_for(self, message: Message) -> Queue:
        """The engine queue of ``message``: its execution's partition (none: shared)."""
        ex_id = message.get("execution_id")
        if not ex_id:
            return self.engine_queue()
        return self.partition_queue(partition_of(str(ex_id)))

    def executor_queue(self, group: str | None) -> Queue:
        """The queue of executor group ``group`` ('' / None = ``default``)."""
        return self._queue(f"executor.{group or 'default'}")

    def queue_names(self) -> list[str]:
        """Names of the queues this transport declared or consumes."""
        return sorted({f"{self.prefix}wfaas.{key}" for key in self._declared}
                      | {n for c in self._consumers.values() for n in c.wanted()})

    def _queue(self, key: str, *, single_active: bool = False) -> Queue:
        arguments = dict(self.queue_arguments)
        if single_active:
            arguments["x-single-active-consumer"] = True
        return Queue(f"{self.prefix}wfaas.{key}", exchange=self.exchange, routing_key=key,
                     durable=True, auto_delete=False, queue_arguments=arguments or None)

    def connection(self, heartbeat: int = 0) -> Connection:
        """A new (unconnected) connection to the broker, failing over across hosts."""
        return Connection(";".join(self.urls), heartbeat=heartbeat, connect_timeout=5,
                                failover_strategy="round-robin",
                                transport_options={"confirm_publish": self.confirm})

    # ---------------------------------------------------------------- sending
    def send_to_engine(self, message: Message) -> None:
        self._publish(message, self.queue_for(message))

    def send_to_executor(self, request: Message, target: str | None = None) -> None:
        self._publish(request, self.executor_queue(target))

    def send_to_engine_within(self, message: Message, timeout: float) -> None:
        self._publish(message, self.queue_for(message), timeout)

    def _publish(self, message: Message, queue_: Queue, timeout: float | None = None) -> None:
        body = {k: v for k, v in message.items() if k not in (REDELIVERED, ACK)}
        deadline = time.monotonic() + (self.publish_timeout if timeout is None else timeout)
        delay = self.retry_interval
        while True:
            producer: _Producer | None = None
            try:
                producer = self._take_producer()
                self._declare_for(producer, queue_)
                producer.publish(body, exchange=self.exchange,
                                 routing_key=str(queue_.routing_key),
                                 serializer="json", delivery_mode=2, timeout=30,
                                 headers={"wfaas_sender": self.instance_id})
            except Exception as exc:  # noqa: BLE001 - broker trouble: reconnect and retry
                if producer is not None:
                    self._discard(producer)
                # the idle connections went through the same trouble (a broker restart):
                # retrying on each of them in turn would wait out every back-off step
                self._drop_producers()
                if time.monotonic() + delay > deadline or self.stopping.is_set():
                    raise OperationalError(f"Could not publish to {queue_.name}: {exc}") from exc
                LOG.warning("Publishing to %s failed (%s: %s); retrying in %.1f s",
                            queue_.name, exc.__class__.__name__, exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, self.retry_max)
            else:
                self._idle_producers.put(producer)
                self._unsettled_add(1)
                return

    def _take_producer(self) -> _Producer:
        """An idle producer connection, or a new one (one per concurrent publisher)."""
        try:
            return self._idle_producers.get_nowait()
        except queue.Empty:
            pass
        conn = self.connection()
        try:
            conn.ensure_connection(max_retries=1)
            return _Producer(conn, Producer(conn.channel(), exchange=self.exchange))
        except Exception:
            _release(conn)
            raise

    def _declare_for(self, producer: _Producer, queue_: Queue) -> None:
        key = str(queue_.routing_key)
        if key not in producer.declared:
            queue_(producer.producer.channel).declare()
            producer.declared.add(key)
            with self._lock:
                self._declared.add(key)

    @staticmethod
    def _discard(producer: _Producer) -> None:
        _release(producer.connection)

    def _drop_producers(self) -> None:
        while True:
            try:
                self._discard(self._idle_producers.get_nowait())
            except queue.Empty:
                return

    # ---------------------------------------------------------------- serving
    def serve_engine(self, handler: Handler) -> None:
        """Consume the shared engine queue and, until :meth:`engine_partitions` says
        otherwise, every partition queue."""
        self._serve("engine", [self.engine_queue()], handler)
        self._serve(PARTITIONS_KEY, [self.partition_queue(p) for p in range(PARTITIONS)],
                    handler, name=f"{self.prefix}wfaas.engine.partitions")

    def engine_partitions(self, partitions: list[int]) -> None:
        """Consume the queues of ``partitions`` only (the ones this engine owns now)."""
        consumer = self._consumers.get(PARTITIONS_KEY)
        if consumer is not None:
            consumer.want([self.partition_queue(p) for p in partitions])

    def consumed_partitions(self) -> list[int]:
        """The partitions this transport is meant to consume now."""
        consumer = self._consumers.get(PARTITIONS_KEY)
        names = consumer.wanted() if consumer is not None else []
        return sorted(int(n.rsplit(".p", 1)[1]) for n in names)

    def serve_executor(self, handler: Handler, group: str = "",
                       capacity: int | None = None) -> None:
        self._serve(f"executor.{group or 'default'}", [self.executor_queue(group)], handler,
                    capacity)

    def _serve(self, key: str, queues: list[Queue], handler: Handler,
               capacity: int | None = None, *, name: str | None = None) -> None:
        consumer = self._consumers.get(key)
        if consumer is not None:
            consumer.handler = handler
            return
        consumer = self._consumers[key] = _Consumer(self, queues, handler, capacity,
                                                    name=name)
        if self._started:
            consumer.start()

    def start(self) -> None:
        self.stopping.clear()
        self._started = True
        for consumer in list(self._consumers.values()):
            consumer.start()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """Wait until every consumer is subscribed to the queues it wants (a test and
        start-up seam)."""
        deadline = time.monotonic() + timeout
        for consumer in list(self._consumers.values()):
            if not consumer.connected.wait(max(0.0, deadline - time.monotonic())):
                return False
            while not consumer.settled():  # e.g. engine_partitions() not applied yet
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.02)
        return True

    def stop(self) -> None:
        self._started = False
        self.stopping.set()
        consumers = list(self._consumers.values())
        for consumer in consumers:  # all threads see `stopping` at once: join in parallel
            consumer.stop(timeout=0)
        for consumer in consumers:
            consumer.join(10.0)
        self._consumers.clear()
        self._drop_producers()

    # ---------------------------------------------------------------- helpers
    def _unsettled_add(self, delta: int) -> None:
        with self._lock:
            self._unsettled += delta

    def in_flight(self) -> int:
        """Messages this instance published and no handler of it has finished yet,
        plus handlers running here on messages of other senders.

        Exact when this process both sends and consumes everything (the test
        harness); a lower bound otherwise (other processes' queues are unknown).
        """
        with self._lock:
            unsettled = self._unsettled
        return unsettled + sum(c.in_flight_foreign() for c in self._consumers.values())

    def notify_monitor(self) -> None:
        """Wake whoever waits on ``monitor`` (a message was handled)."""
        if self.monitor is not None:
            with self.monitor:
                self.monitor.notify_all()

    def purge_and_delete(self, names: list[str] | None = None, *,
                         exchange: bool = True) -> None:
        """Delete this transport's queues (or ``names``) and, with ``exchange``, its
        exchange (test clean-up)."""
        names = names if names is not None else self.queue_names()
        with self.connection() as conn:
            channel = conn.channel()
            for name in names:
                try:
                    channel.queue_delete(name)
                except Exception:  # noqa: BLE001 - already gone
                    channel = conn.channel()
            if not exchange:
                return
            try:
                channel.exchange_delete(self.exchange.name)
            except Exception:  # noqa: BLE001 - already gone
                pass


def unique_prefix(tag: str = "t") -> str:
    """A queue prefix unique to this run (``<tag>-<8 hex>.``)."""
    return f"{tag}-{uuid.uuid4().hex[:8]}."

