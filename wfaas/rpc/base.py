"""The transport interface between the engine, the executors and the API.

Messages are plain JSON-able dicts (never pickled objects):

- to the engine: ``{"execution_id": str, "event": <Event.to_dict()>}``;
- to executors: an action request (see :mod:`wfaas.executors.base`), routed
  to the executor group ``target`` (``None``/'' = the default group).

A backend implements :class:`Transport`; :func:`get_transport` picks one from
``[DEFAULT] transport_url`` ('local:/' in-process, 'rabbit://...' later).
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Message = dict[str, Any]
Handler = Callable[[Message], None]
_SENDER = threading.local()


@contextmanager
def idle_sender() -> Iterator[None]:
    """Mark the current thread as done with its own work while it sends.

    An in-process transport calls a handler in the sender's thread; a handler that
    sees :func:`sender_is_idle` may do the receiver's work right there (the engine
    applies an executor's result in the executor thread that produced it) instead of
    waking one of its own threads. A broker transport ignores the mark.
    """
    before = getattr(_SENDER, "idle", False)
    _SENDER.idle = True
    try:
        yield
    finally:
        _SENDER.idle = before


def sender_is_idle() -> bool:
    """True inside :func:`idle_sender` (see there)."""
    return bool(getattr(_SENDER, "idle", False))


class Transport(abc.ABC):
    """Delivers messages to the engine and to executor groups.

    ``monitor`` (optional) is notified whenever a message has been handled,
    so that a test harness can wait for the system to become quiet.
    """

    monitor: threading.Condition | None = None
    #: every engine message goes to the engine of this process (an in-process
    #: transport): no other engine owns an execution
    single_engine: bool = False

    @abc.abstractmethod
    def send_to_engine(self, message: Message) -> None:
        """Queue an event message for the engine."""

    @abc.abstractmethod
    def send_to_executor(self, request: Message, target: str | None = None) -> None:
        """Queue an action request for the executor group ``target``."""

    @abc.abstractmethod
    def serve_engine(self, handler: Handler) -> None:
        """Deliver engine messages to ``handler`` (from a transport thread)."""

    @abc.abstractmethod
    def serve_executor(self, handler: Handler, group: str = "",
                       capacity: int | None = None) -> None:
        """Deliver action requests of executor ``group`` to ``handler``; with
        ``capacity``, at most that many at once (a broker transport then never
        holds more requests for this process than it has free workers)."""

    def send_many_to_executor(self, requests: list[tuple[Message, str | None]]) -> None:
        """Queue several action requests ((request, target) pairs), in order; a broker
        transport waits for the broker's confirms once for all of them."""
        for request, target in requests:
            self.send_to_executor(request, target)

    def send_to_engine_within(self, message: Message, timeout: float) -> None:
        """Like :meth:`send_to_engine`, giving up (raising) after ``timeout`` s of
        broker trouble instead of the transport's own publish timeout."""
        self.send_to_engine(message)

    def start(self) -> None:  # noqa: B027 - optional hook
        """Start delivering (after the handlers are registered)."""

    def stop(self) -> None:  # noqa: B027 - optional hook
        """Stop delivering; queued messages may be dropped."""


def get_transport(url: str) -> Transport:
    """The transport for ``url``: ``local:/`` (or empty) is in-process."""
    if not url or url.startswith("local:"):
        from wfaas.rpc.local import LocalTransport

        return LocalTransport()
    if url.startswith(("rabbit:", "amqp:", "kombu+")):
        try:
            from wfaas.rpc.kombu_transport import KombuTransport
        except ImportError as exc:
            raise ValueError(f"transport_url {url!r}: the RabbitMQ transport is not "
                             "available in this build") from exc
        return KombuTransport(url)
    raise ValueError(f"Unsupported transport_url {url!r}: use 'local:/' or 'rabbit://...'")
