"""A background thread that works, then sleeps until the next due time (standard library only).

Used by the delayed-call scheduler and the cron-trigger service: both are event
driven (no fixed tick): they sleep until the earliest due time their last
iteration reported, and are woken early when something nearer is added.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

LOG = logging.getLogger(__name__)
#: the longest single sleep: a due time further ahead (a wait of centuries, or beyond
#: ``threading.TIMEOUT_MAX``, where ``Condition.wait`` raises OverflowError and would end
#: the thread) is slept towards in steps of this length
MAX_WAIT = 86400.0


class DueLoop:
    """Base class: run :meth:`_iterate` in a thread, sleeping until the due time it returns.

    Subclasses set ``clock`` and ``max_sleep`` (None: sleep exactly until the due
    time; a number caps every sleep) and call :meth:`_init_loop` in ``__init__``.
    ``_iterate()`` returns the clock time of the next due work, or None when
    nothing is planned. An exception in an iteration is logged and retried after
    ``max_sleep`` (1 s when unset); :meth:`_pause_floor` can impose a minimum pause.
    """

    clock: Callable[[], float]
    max_sleep: float | None
    loop_name = "wfaas-loop"

    def _init_loop(self) -> None:
        self._cond = threading.Condition()
        self._wake_at: float | None = None
        self._woken = False
        self._stopping = False
        self._thread: threading.Thread | None = None

    def _iterate(self) -> float | None:
        raise NotImplementedError

    def _pause_floor(self) -> float:
        """The shortest sleep after this iteration (e.g. a pause after a failure)."""
        return 0.0

    def _start_loop(self) -> None:
        if self._thread is not None:
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name=self.loop_name, daemon=True)
        self._thread.start()

    def _stop_loop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        self._thread = None

    def _wake_loop(self, due: float | None = None) -> None:
        """Cut the current sleep short when ``due`` is earlier than planned (None: always)."""
        with self._cond:
            if due is None or self._wake_at is None or due < self._wake_at:
                self._woken = True
                self._cond.notify_all()

    def _sleep_for(self, next_due: float | None) -> float | None:
        timeout = None if next_due is None else max(0.0, next_due - self.clock())
        if timeout is not None:
            timeout = max(timeout, self._pause_floor())
        if self.max_sleep is not None:
            timeout = self.max_sleep if timeout is None else min(timeout, self.max_sleep)
        return None if timeout is None else min(timeout, MAX_WAIT)

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                self._woken = False
            try:
                next_due = self._iterate()
            except Exception:  # noqa: BLE001 - e.g. the database is briefly unavailable
                LOG.exception("%s: iteration failed", self.loop_name)
                next_due = self.clock() + (self.max_sleep or 1.0)
            with self._cond:
                if self._stopping:
                    return
                if self._woken:
                    continue
                timeout = self._sleep_for(next_due)
                self._wake_at = None if timeout is None else self.clock() + timeout
                if timeout is None or timeout > 0:
                    self._cond.wait(timeout)
                self._wake_at = None
