"""Engines and transactions: ``make_engine(url)`` and ``session_scope(engine)``.

A transaction is a ``with session_scope(engine) as session:`` block: it
commits when the block ends normally and rolls back on an exception. There
are no thread-local sessions.

SQLite engines are tuned for the embedded default: WAL journal,
``synchronous=NORMAL``, a busy timeout, foreign keys on, and ``BEGIN
IMMEDIATE`` for write transactions so that concurrent writers queue on the
busy timeout instead of failing with "database is locked" on upgrade.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30000
#: SQLite connections the pool keeps open. SQLAlchemy's default (5, and 10 more that are
#: closed when returned) made a server under load open and close a connection for most
#: requests (PRAGMAs of _tune_sqlite, a cold page cache: ~7% of parallel100's CPU); the
#: API's 16 worker threads plus the engine, executor and scheduler fit in this. Handed
#: out last-in first-out, so connections beyond what the load needs stay cold.
SQLITE_POOL_SIZE = 24
READONLY = "wfaas_readonly"
#: one write lock per SQLite engine: the writers of this process queue on it (an immediate
#: hand-over) instead of polling SQLite's busy handler, which sleeps 1..100 ms per try
_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()


def sqlite_url(path: str) -> str:
    """The SQLAlchemy URL of the SQLite file ``path`` (``~`` expanded)."""
    return "sqlite:///" + os.path.abspath(os.path.expanduser(path))


def default_url(state_dir: str) -> str:
    """The embedded default: ``wfaas.db`` under ``state_dir``."""
    return sqlite_url(os.path.join(os.path.expanduser(state_dir), "wfaas.db"))


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A read-only session reads a WAL snapshot: it never takes or waits for the lock.
        readonly = conn.get_execution_options().get(READONLY)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    _WRITE_LOCKS[engine] = threading.RLock()


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    """Create an engine for ``url`` (SQLite file/memory or PostgreSQL).

    For a SQLite file the parent directory is created when missing.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        pooled: dict[str, Any] = {}  # a file: QueuePool; memory: one connection per thread
        if database and database != ":memory:" and not database.startswith("file:"):
            os.makedirs(os.path.dirname(os.path.abspath(database)) or ".", exist_ok=True)
            pooled = {"pool_size": max(pool_size, SQLITE_POOL_SIZE), "max_overflow": 16,
                      "pool_use_lifo": True}
        engine = create_engine(url, echo=echo,
                               connect_args={"check_same_thread": False, "timeout": 30},
                               **pooled)
        _tune_sqlite(engine)
        return engine
    return create_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size,
                         pool_pre_ping=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine`` (objects stay usable after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False, future=True)


def write_lock(engine: Engine | sessionmaker[Session]) -> threading.RLock | None:
    """The in-process write lock of a SQLite engine (None for other databases): every
    write transaction of this process holds it (see :func:`session_scope`)."""
    bind = engine.kw.get("bind") if isinstance(engine, sessionmaker) else engine
    return _WRITE_LOCKS.get(bind) if isinstance(bind, Engine) else None


@contextmanager
def read_connection(engine: Engine) -> Iterator[Any]:
    """A Core connection for a few reads, without an ORM session: on SQLite it reads a
    WAL snapshot (``BEGIN``, never the write lock); the transaction is rolled back when
    the block ends. For hot read paths (an execution poll) where a ``Session`` costs more
    than the SELECT."""
    with engine.connect() as conn:
        yield conn.execution_options(**{READONLY: True})


@contextmanager
def session_scope(engine: Engine | sessionmaker[Session], *,
                  readonly: bool = False) -> Iterator[Session]:
    """One transaction: commit at the end of the block, roll back on error.

    ``readonly=True`` is for blocks that only read: on SQLite it reads a snapshot
    without taking the write lock. Write blocks on a SQLite engine are serialised
    by an in-process lock held for the whole block (no busy-handler sleeps).
    """
    factory = engine if isinstance(engine, sessionmaker) else session_factory(engine)
    lock = None if readonly else write_lock(engine)
    if lock is not None:
        lock.acquire()
    try:
        session = factory(execution_options={READONLY: True}) if readonly else factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
    finally:
        if lock is not None:
            lock.release()
