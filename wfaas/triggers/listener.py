"""Listening to oslo.messaging notifications on RabbitMQ with kombu.

OpenStack services publish a notification to the *topic exchange* named by
their ``control_exchange`` (``nova``, ``openstack``...) with the routing key
``<topic>.<priority>`` (``notifications.info``); the body is JSON, wrapped in
the v2 envelope ``{"oslo.version": "2.0", "oslo.message": "<json>"}`` by the
``messagingv2`` driver. For every (exchange, topic) pair of the event triggers
the listener binds one queue, ``<pool>.<exchange>.<topic>``, to
``<topic>.<priority>`` for each configured priority. Every wfaas process uses
the same queue names, so processes share the work and each notification starts
its workflows once (Mistral uses one pool per host instead).

The consumer thread reconnects on broker errors and re-binds when
:meth:`NotificationListener.set_bindings` changes the pairs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from kombu import connection as _connection
from kombu import entity as _entity
from kombu import messaging as _messaging

# kombu has no type hints: its classes are used as untyped callables.
Connection: Any = _connection.Connection
Exchange: Any = _entity.Exchange
Queue: Any = _entity.Queue
binding: Any = _entity.binding
Consumer: Any = _messaging.Consumer

LOG = logging.getLogger(__name__)

DEFAULT_PRIORITIES = ("audit", "critical", "debug", "error", "info", "warn")
Handler = Callable[[str, str, Any, str], None]


def queue_for(pool: str, exchange: str, topic: str,
              priorities: Iterable[str] = DEFAULT_PRIORITIES) -> Any:
    """The queue listening to ``topic`` notifications on ``exchange``.

    The exchange is not (re)declared by the queue: :func:`ensure_exchange` does
    that first, so an exchange a publisher declared durable is used as it is.
    """
    ex = Exchange(exchange, type="topic", durable=False, auto_delete=False, no_declare=True)
    binds = [binding(ex, routing_key=f"{topic}.{p}") for p in priorities]
    return Queue(f"{pool}.{exchange}.{topic}", bindings=binds, durable=False,
                 auto_delete=False)


def ensure_exchange(conn: Any, exchange: str) -> None:
    """Make sure the topic exchange exists: keep it if a publisher made it (whatever
    its durability), else declare it non-durable as oslo.messaging does by default."""
    channel = conn.channel()
    try:
        Exchange(exchange, type="topic")(channel).declare(passive=True)
    except conn.channel_errors:
        channel = conn.channel()
        Exchange(exchange, type="topic", durable=False, auto_delete=False)(channel).declare()
    finally:
        try:
            channel.close()
        except Exception:  # noqa: BLE001 - closed by the broker after a failed passive
            LOG.debug("Closing a declaration channel failed", exc_info=True)


class NotificationListener:
    """Consumes notifications of a set of (exchange, topic) pairs in one thread.

    ``handler(exchange, topic, body, routing_key)`` is called for each message
    (then acknowledged, even when the handler fails, so a bad message is not
    redelivered forever).
    """

    def __init__(self, url: str, handler: Handler, *, pool: str = "wfaas-event-engine",
                 priorities: Iterable[str] = DEFAULT_PRIORITIES,
                 poll_timeout: float = 0.5) -> None:
        self.url = url
        self.handler = handler
        self.pool = pool
        self.priorities = tuple(priorities)
        self.poll_timeout = poll_timeout
        self._pairs: frozenset[tuple[str, str]] = frozenset()
        self._changed = threading.Event()
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def pairs(self) -> frozenset[tuple[str, str]]:
        """The (exchange, topic) pairs listened to."""
        return self._pairs

    def set_bindings(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Listen to exactly these pairs (re-binds in the consumer thread)."""
        new = frozenset(pairs)
        if new != self._pairs:
            self._pairs = new
            self._ready.clear()
            self._changed.set()

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the queues of the current pairs are declared and consumed."""
        return self._ready.wait(timeout)

    def start(self) -> None:
        """Start the consumer thread."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="wfaas-event-listener",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop consuming (the queues stay, so notifications wait for the next start)."""
        self._stopping.set()
        self._changed.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        self._thread = None

    # ------------------------------------------------------------------ thread
    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                with Connection(broker_url(self.url), connect_timeout=5) as conn:
                    conn.ensure_connection(max_retries=3)
                    self._consume(conn)
            except Exception:  # noqa: BLE001 - broker down: retry after a pause
                LOG.exception("Event listener lost its broker connection; retrying")
                self._stopping.wait(2.0)

    def _consume(self, conn: Any) -> None:
        pairs: frozenset[tuple[str, str]] = frozenset()
        while not self._stopping.is_set():
            self._changed.clear()
            previous, pairs = pairs, self._pairs
            self._drop_queues(conn, previous - pairs)
            consumers = [self._consumer(conn, ex, topic) for ex, topic in sorted(pairs)]
            for c in consumers:
                c.consume()
            if self._pairs is pairs:  # not changed again meanwhile
                self._ready.set()
            try:
                while not self._changed.is_set() and not self._stopping.is_set():
                    if not consumers:
                        self._changed.wait(self.poll_timeout)
                        continue
                    try:
                        conn.drain_events(timeout=self.poll_timeout)
                    except TimeoutError:
                        conn.heartbeat_check()
            finally:
                for c in consumers:
                    try:
                        c.cancel()
                        c.channel.close()
                    except Exception:  # noqa: BLE001 - channel may be gone already
                        LOG.debug("Cancelling a consumer failed", exc_info=True)

    def _drop_queues(self, conn: Any, pairs: Iterable[tuple[str, str]]) -> None:
        """Delete the queues of pairs no trigger listens to any more (else they would
        keep collecting notifications nobody reads)."""
        for exchange, topic in pairs:
            channel = conn.channel()
            try:
                queue_for(self.pool, exchange, topic, self.priorities)(channel).delete()
            except conn.channel_errors:
                LOG.debug("Queue of %s/%s already gone", exchange, topic)
            finally:
                try:
                    channel.close()
                except Exception:  # noqa: BLE001 - closed by the broker already
                    LOG.debug("Closing a channel failed", exc_info=True)

    def _consumer(self, conn: Any, exchange: str, topic: str) -> Any:
        ensure_exchange(conn, exchange)
        queue = queue_for(self.pool, exchange, topic, self.priorities)

        def on_message(body: Any, message: Any) -> None:
            key = message.delivery_info.get("routing_key", "")
            try:
                self.handler(exchange, topic, body, key)
            except Exception:  # noqa: BLE001 - never let one message stop the listener
                LOG.exception("Handling a notification on %s/%s failed", exchange, topic)
            finally:
                message.ack()

        return Consumer(conn.channel(), queues=[queue], callbacks=[on_message],
                        accept=["json", "text/plain", "application/data"])


def broker_url(url: str) -> str:
    """The URL kombu understands: wfaas's own transport options (``queue_prefix`` ...)
    removed and several hosts joined for fail-over (``rabbit://`` is kept as given
    when it has none of them)."""
    if not url.startswith(("rabbit:", "amqp:", "pyamqp:", "kombu+")):
        return url
    from wfaas.rpc.kombu_transport import parse_url

    urls, _options = parse_url(url)
    return ";".join(urls)
