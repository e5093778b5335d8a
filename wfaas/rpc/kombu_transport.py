"""RabbitMQ transport (kombu over py-amqp) behind :class:`wfaas.rpc.base.Transport`.

Selected with ``[DEFAULT] transport_url = rabbit://user:pass@host:5672/vhost``.
Several hosts fail over (``rabbit://u:p@h1:5672,u:p@h2:5672/``). Query
parameters of the URL that belong to wfaas (removed before kombu sees it):

- ``queue_prefix``: prepended to every exchange and queue name, so that test
  runs (or several deployments on one vhost) never share queues;
- ``queue_expires``: seconds after which an unused queue is deleted by the
  broker (``x-expires``; meant for tests, off by default);
- ``prefetch``: messages a consumer handles concurrently (default 16);
- ``engine_prefetch``: the same for an engine's partition queues (default 128):
  an engine acknowledges an event once the step that applied it committed, and
  the events that arrive while a step runs are applied together by the next one,
  so a larger window means fewer, larger steps when results pour in (the
  with-items of 1,000 on the executor path: ~60 steps of <= 16 results before);
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
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from kombu.connection import Connection
from kombu.entity import Exchange, Queue
from kombu.exceptions import OperationalError
from kombu.messaging import Producer

from wfaas.rpc.base import Handler, Message, Transport
from wfaas.rpc.kombu_consumer import ACK, REDELIVERED, QueueConsumer, release
from wfaas.rpc.partitions import PARTITIONS, partition_of

LOG = logging.getLogger(__name__)

OWN_PARAMS = ("queue_prefix", "queue_expires", "prefetch", "engine_prefetch", "confirm")
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


class _Producer:
    """A publishing connection, its producer and the queues declared on it.

    With confirms, the channel is in confirm mode and :meth:`publish` does not wait:
    :meth:`wait_confirms` waits for the broker's acknowledgements of everything
    published so far (one wait for a batch of messages, see
    :meth:`KombuTransport.send_many_to_executor`).
    """

    def __init__(self, connection: Connection, producer: Producer, confirm: bool) -> None:
        self.connection = connection
        self.producer = producer
        self.declared: set[str] = set()
        self.confirm = confirm
        #: delivery tags published and not yet confirmed by the broker
        self.unconfirmed: set[int] = set()
        #: delivery tags the broker refused (nack): not delivered, to publish again
        self.nacked: set[int] = set()
        self._tag = 0
        if confirm:
            channel = producer.channel
            channel.events["basic_ack"].add(self._on_ack)
            channel.events["basic_nack"].add(self._on_nack)
            channel.confirm_select()

    def publish(self, body: Message, **kwargs: Any) -> int:
        """Publish ``body``; its delivery tag (0 without confirms)."""
        self.producer.publish(body, **kwargs)
        if not self.confirm:
            return 0
        self._tag += 1
        self.unconfirmed.add(self._tag)
        return self._tag

    def wait_confirms(self, timeout: float) -> None:
        """Wait until the broker confirmed every message published; raise when it
        refused one (nack) or did not answer within ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while self.unconfirmed:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{len(self.unconfirmed)} message(s) not confirmed")
            self.connection.drain_events(timeout=left)
        if self.nacked:
            raise OperationalError(f"the broker refused {len(self.nacked)} message(s) (nack)")

    def _settle(self, tag: int, multiple: bool) -> None:
        if multiple:
            self.unconfirmed = {t for t in self.unconfirmed if t > tag}
        else:
            self.unconfirmed.discard(tag)

    def _on_ack(self, tag: int, multiple: bool) -> None:
        self._settle(tag, multiple)

    def _on_nack(self, tag: int, multiple: bool) -> None:
        if multiple:
            self.nacked.update(t for t in self.unconfirmed if t <= tag)
        else:
            self.nacked.add(tag)
        self._settle(tag, multiple)


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
        self.engine_prefetch = max(1, int(options.get("engine_prefetch", "128")))
        self.confirm = options.get("confirm", "1") not in ("0", "false", "no")
        self.publish_timeout = publish_timeout
        self.retry_interval = retry_interval
        self.retry_max = retry_max
        self.heartbeat = heartbeat
        self.exchange = Exchange(f"{self.prefix}wfaas", type="direct", durable=True)
        self.stopping = threading.Event()
        self._consumers: dict[str, QueueConsumer] = {}
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
        """A new (unconnected) connection to the broker, failing over across hosts
        (publishers put their channel in confirm mode themselves, see _Producer)."""
        return Connection(";".join(self.urls), heartbeat=heartbeat, connect_timeout=5,
                          failover_strategy="round-robin")

    # ---------------------------------------------------------------- sending
    def send_to_engine(self, message: Message) -> None:
        self._publish([(message, self.queue_for(message))])

    def send_to_executor(self, request: Message, target: str | None = None) -> None:
        self._publish([(request, self.executor_queue(target))])

    def send_many_to_executor(self, requests: list[tuple[Message, str | None]]) -> None:
        """Publish every request, then wait once for the broker's confirms (the
        actions of one engine step: a with-items of 1,000 costs one round trip)."""
        self._publish([(request, self.executor_queue(target)) for request, target in requests])

    def send_to_engine_within(self, message: Message, timeout: float) -> None:
        self._publish([(message, self.queue_for(message))], timeout)

    def _publish(self, items: list[tuple[Message, Queue]], timeout: float | None = None) -> None:
        """Publish ``items`` (message, queue) on one connection and wait for their
        confirms; after broker trouble, the unconfirmed ones again on a new one."""
        deadline = time.monotonic() + (self.publish_timeout if timeout is None else timeout)
        delay = self.retry_interval
        while items:
            producer: _Producer | None = None
            sent: list[tuple[int, tuple[Message, Queue]]] = []
            try:
                producer = self._take_producer()
                for message, queue_ in items:
                    self._declare_for(producer, queue_)
                    body = {k: v for k, v in message.items() if k not in (REDELIVERED, ACK)}
                    tag = producer.publish(body, exchange=self.exchange,
                                           routing_key=str(queue_.routing_key),
                                           serializer="json", delivery_mode=2, timeout=30,
                                           headers={"wfaas_sender": self.instance_id})
                    sent.append((tag, (message, queue_)))
                producer.wait_confirms(30)
            except Exception as exc:  # noqa: BLE001 - broker trouble: reconnect and retry
                if producer is not None:
                    self._discard(producer)
                    # the ones the broker confirmed are delivered: only the rest again
                    # (a nack is a refusal, e.g. by a queue that crashed: not delivered)
                    items = [item for tag, item in sent if not tag or tag in
                             producer.unconfirmed or tag in producer.nacked] + items[len(sent):]
                # the idle connections went through the same trouble (a broker restart):
                # retrying on each of them in turn would wait out every back-off step
                self._drop_producers()
                name = items[0][1].name if items else "?"
                if time.monotonic() + delay > deadline or self.stopping.is_set():
                    raise OperationalError(f"Could not publish to {name}: {exc}") from exc
                LOG.warning("Publishing to %s failed (%s: %s); retrying in %.1f s",
                            name, exc.__class__.__name__, exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, self.retry_max)
            else:
                self._idle_producers.put(producer)
                self._unsettled_add(len(items))
                return

    def nudge(self, queues: list[Queue]) -> None:
        """Make each single-active-consumer queue of ``queues`` that this process just
        stopped consuming deliver what waits in it to its next consumer.

        RabbitMQ up to 3.13 hands such a queue to its next consumer on ``basic.cancel``
        without delivering the messages already waiting: they stay *ready* until
        something makes the queue look at its consumers again. Worse, the next message
        published to it then crashes the queue (a classic queue's delivery assumes an
        empty queue when its active consumer is free), which costs the new consumer's
        channel a prefetch slot for good. A consumer added to a queue makes it deliver
        (to its active consumer, not to the newcomer): the nudge subscribes a throwaway
        consumer and cancels it at once. When nobody else consumes the queue there is
        nothing to deliver to, and it is left alone. Best effort: after broker trouble
        the consumers reconnect, which delivers anyway.
        """
        names = [q.name for q in queues
                 if (getattr(q, "queue_arguments", None) or {}).get("x-single-active-consumer")]
        if not names:
            return
        try:
            with self.connection() as conn:
                conn.ensure_connection(max_retries=1)
                channel = conn.channel()
                channel.basic_qos(0, 1, False)  # it may become the active one: 1 at most
                for name in names:
                    _, ready, consumers = channel.queue_declare(name, passive=True)
                    if ready and consumers:
                        # whatever reaches it is requeued when the connection closes
                        tag = channel.basic_consume(name, callback=lambda _msg: None)
                        channel.basic_cancel(tag)
        except Exception as exc:  # noqa: BLE001 - see the docstring
            LOG.warning("Could not nudge %d queue(s) after a hand-over (%s: %s)",
                        len(names), exc.__class__.__name__, exc)

    def _take_producer(self) -> _Producer:
        """An idle producer connection, or a new one (one per concurrent publisher)."""
        try:
            return self._idle_producers.get_nowait()
        except queue.Empty:
            pass
        conn = self.connection()
        try:
            conn.ensure_connection(max_retries=1)
            return _Producer(conn, Producer(conn.channel(), exchange=self.exchange),
                             self.confirm)
        except Exception:
            release(conn)
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
        release(producer.connection)

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
                    handler, self.engine_prefetch,
                    name=f"{self.prefix}wfaas.engine.partitions")

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
        consumer = self._consumers[key] = QueueConsumer(self, queues, handler, capacity,
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

