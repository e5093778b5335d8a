"""An executor's results, published in batches by one thread (distributed mode).

With durable acceptance (:mod:`wfaas.executors.acceptance`) the thread that ran
an action hands its result to a :class:`ResultSender` and is free for the next
request at once, instead of waiting for the broker's confirm (a disk sync on
the broker, several milliseconds). The sender's thread publishes every result
queued so far in one go and waits for their confirms once: results of actions
that finish close together share one round trip, and a lone result goes at
once (nothing waits for company).

Nothing is weaker than reporting from the action's thread: the request was
acknowledged by the acceptance already (a redelivered copy finds the action
accepted and is dropped), the result stays in memory until the broker confirmed
it, and its action keeps its heartbeat until an engine applied it. A result the
broker does not take within ``first_try`` seconds goes to the
:class:`~wfaas.executors.outbox.Outbox`, which retries until it does. Only the
death of the process loses a result, exactly as before: the engines then see the
heartbeats stop and re-run (``safe-rerun``) or fail the action.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from wfaas.executors.outbox import Outbox
from wfaas.rpc.base import Message, Transport

LOG = logging.getLogger(__name__)
#: results published in one batch at most
MAX_BATCH = 200


class ResultSender:
    """Publishes queued results in batches from its own thread (see the module)."""

    def __init__(self, transport: Transport, outbox: Outbox, *,
                 on_sent: Callable[[int], None] | None = None) -> None:
        self.transport = transport
        self.outbox = outbox
        #: called with the number of results of each batch the broker took (tests)
        self.on_sent = on_sent
        self._queue: list[tuple[str, Message]] = []
        self._sending: list[tuple[str, Message]] = []
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        #: batches published so far and the results they held (statistics)
        self.batches = 0
        self.sent = 0

    def put(self, action_id: str, message: Message) -> None:
        """Queue the result ``message`` of ``action_id`` for publishing."""
        with self._cond:
            self._queue.append((action_id, message))
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(target=self._loop, daemon=True,
                                                name="wfaas-executor-results")
                self._thread.start()
            self._cond.notify_all()

    def pending_ids(self) -> set[str]:
        """Actions whose results are queued or being published."""
        with self._cond:
            return {a for a, _ in self._queue} | {a for a, _ in self._sending}

    def __len__(self) -> int:
        with self._cond:
            return len(self._queue) + len(self._sending)

    def flush(self, timeout: float) -> bool:
        """Wait until every queued result was published (or went to the outbox)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._sending,
                                       timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Publish what is queued (waiting ``timeout`` s at most), then stop."""
        self.flush(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        for action_id, message in self._queue:  # the outbox logs them as undelivered
            self.outbox.put(action_id, message)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                self._sending = self._queue[:MAX_BATCH]
                del self._queue[:MAX_BATCH]
                batch = self._sending
            try:
                self._send(batch)
            except Exception:  # noqa: BLE001 - never lose them: the outbox retries
                LOG.exception("Could not publish %d result(s)", len(batch))
                for action_id, message in batch:
                    self.outbox.put(action_id, message)
            with self._cond:
                self._sending = []
                self._cond.notify_all()

    def _send(self, batch: list[tuple[str, Message]]) -> None:
        """Publish ``batch``; the results the broker did not take go to the outbox."""
        first_try = self.outbox.first_try
        many = getattr(self.transport, "send_many_to_engine_within", None)
        failed: list[tuple[str, Message]] = []
        if many is not None:
            undelivered = {id(m) for m in many([m for _, m in batch], first_try)}
            failed = [item for item in batch if id(item[1]) in undelivered]
        else:
            for item in batch:
                try:
                    self.transport.send_to_engine_within(item[1], first_try)
                except Exception as exc:  # noqa: BLE001 - the outbox retries
                    LOG.debug("Result of %s not taken: %s", item[0], exc)
                    failed.append(item)
        for action_id, message in failed:
            LOG.warning("Result of action %s kept for later: the broker did not take it",
                        action_id)
            self.outbox.put(action_id, message)
        self.batches += 1
        self.sent += len(batch) - len(failed)
        if self.on_sent is not None:
            self.on_sent(len(batch) - len(failed))
