"""Results an executor could not hand to the broker yet (a broker outage).

A result that the transport does not take within ``first_try`` seconds is
kept here, in memory, and re-sent by one thread with a growing delay
(``retry_interval`` doubling up to ``retry_max``) until the broker takes it.
The action's heartbeat continues meanwhile (:meth:`Outbox.pending_ids`), so
the engines do not consider it lost. A result is lost only with the process
itself; the engines then see the heartbeats stop (the action was accepted)
and re-run or fail it.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable

from wfaas.rpc.base import Message, Transport

LOG = logging.getLogger(__name__)


class Outbox:
    """Undelivered results of one executor, re-sent in order until delivered."""

    def __init__(self, transport: Transport, *, first_try: float = 3.0,
                 retry_interval: float = 0.5, retry_max: float = 5.0,
                 on_sent: Callable[[str], None] | None = None) -> None:
        self.transport = transport
        self.first_try = first_try
        self.retry_interval = retry_interval
        self.retry_max = retry_max
        self.on_sent = on_sent
        self._items: OrderedDict[str, Message] = OrderedDict()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def put(self, action_id: str, message: Message) -> None:
        """Keep ``message`` (the result of ``action_id``) until the broker takes it."""
        with self._cond:
            self._items[action_id] = message
            self._stopping = False
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, daemon=True,
                                                name="wfaas-executor-outbox")
                self._thread.start()
            self._cond.notify_all()

    def pending_ids(self) -> set[str]:
        """Actions whose results wait here."""
        with self._cond:
            return set(self._items)

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)

    def stop(self) -> None:
        """Stop re-sending (what is left is lost with the process)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)
        if self._items:
            LOG.warning("Executor stopping with %d undelivered result(s): %s",
                        len(self._items), ", ".join(self._items))

    def _loop(self) -> None:
        delay = self.retry_interval
        while True:
            with self._cond:
                while not self._items and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                action_id, message = next(iter(self._items.items()))
            try:
                self.transport.send_to_engine_within(message, 0.0)
            except Exception as exc:  # noqa: BLE001 - broker still away: wait and retry
                LOG.info("Outbox: %d result(s) still undelivered (%s); retrying in %.1f s",
                         len(self), exc.__class__.__name__, delay)
                with self._cond:
                    self._cond.wait(delay)
                delay = min(delay * 2, self.retry_max)
                continue
            delay = self.retry_interval
            with self._cond:
                self._items.pop(action_id, None)
            if self.on_sent is not None:
                self.on_sent(action_id)
