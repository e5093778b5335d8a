"""Telling every scheduler process that triggers changed (PostgreSQL LISTEN/NOTIFY).

In one process :meth:`TriggerService.wake` is enough. When the API runs in
another process than the scheduler, the transaction that creates or changes a
trigger also sends ``NOTIFY wfaas_triggers`` (delivered at commit), and each
scheduler keeps one connection listening on that channel and wakes its loop:
a trigger created anywhere fires on time without polling. On SQLite (the
embedded single-process default) nothing is sent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

LOG = logging.getLogger(__name__)
CHANNEL = "wfaas_triggers"


def notify_changed(session: Session) -> None:
    """Queue a change notification in ``session``'s transaction (PostgreSQL only)."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


class ChangeListener:
    """A thread holding a LISTEN connection; calls ``on_change()`` per notification."""

    def __init__(self, conninfo: str, on_change: Callable[[], None], *,
                 poll_timeout: float = 1.0) -> None:
        self.conninfo = conninfo
        self.on_change = on_change
        self.poll_timeout = poll_timeout
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_engine(cls, engine: Engine, on_change: Callable[[], None]) -> ChangeListener | None:
        """A listener on ``engine``'s database, or None when it is not PostgreSQL."""
        if engine.dialect.name != "postgresql":
            return None
        url = engine.url.set(drivername="postgresql")
        return cls(url.render_as_string(hide_password=False), on_change)

    def start(self) -> None:
        """Start listening (returns at once; see :meth:`wait_ready`)."""
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="wfaas-trigger-changes",
                                            daemon=True)
            self._thread.start()

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the LISTEN is in place."""
        return self._ready.wait(timeout)

    def stop(self) -> None:
        """Stop listening (within ``poll_timeout``)."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        self._thread = None

    def _run(self) -> None:
        import psycopg

        while not self._stopping.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._ready.set()
                    self.on_change()  # changes made while we were not listening
                    while not self._stopping.is_set():
                        for _ in self._notifies(conn):
                            self.on_change()
            except Exception:  # noqa: BLE001 - database restarts: listen again
                LOG.exception("Trigger change listener failed; reconnecting")
                self._ready.clear()
                self._stopping.wait(2.0)

    def _notifies(self, conn: Any) -> Any:
        return conn.notifies(timeout=self.poll_timeout)
