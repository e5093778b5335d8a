"""A daemon thread that calls a function at a fixed interval (standard library only).

Used by the shell's background checks (engine membership beats, the integrity
checker, the step watchdog). Unlike :class:`wfaas.utils.dueloop.DueLoop` there is
no due time: the work runs every ``interval`` seconds until :meth:`stop`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

LOG = logging.getLogger(__name__)


class PeriodicThread:
    """Calls ``work()`` every ``interval`` seconds in a daemon thread until stopped.

    ``at_start`` also calls it once as soon as the thread starts. An exception of
    ``work`` is logged on ``log`` at ``level`` as ``failure`` (with its traceback) and
    the next round runs as planned. :meth:`stop` wakes the thread at once, so it
    leaves within one call of ``work``.
    """

    def __init__(self, name: str, work: Callable[[], object], interval: float, *,  # noqa: PLR0913
                 at_start: bool = False, log: logging.Logger = LOG,
                 failure: str = "Periodic work failed", level: int = logging.ERROR) -> None:
        self.name = name
        self.work = work
        self.interval = interval
        self.at_start = at_start
        self.log = log
        self.failure = failure
        self.level = level
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._thread is not None

    def start(self) -> None:
        """Start the thread (a no-op when it runs already)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop the thread, waiting at most ``timeout`` seconds for a running call."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        if self.at_start:
            self._once()
        while not self._stop.wait(self.interval):
            self._once()

    def _once(self) -> None:
        try:
            self.work()
        except Exception:  # noqa: BLE001 - the next round tries again
            self.log.log(self.level, self.failure, exc_info=True)
