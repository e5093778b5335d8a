"""In-process harness of the ``context`` and ``nesting`` scaling scripts.

Runs a :class:`wfaas.services.runtime.Runtime` (engine, local executor, scheduler,
SQLite file or PostgreSQL) in this process, so that a run can be measured without
HTTP: wall time, CPU time of the whole process (every thread) and the **bytes sent
to the database** by INSERT and UPDATE statements (the length of every parameter:
text and bytes as UTF-8, numbers as 8), per table. That is what the rows changed,
on any database; SQLite's file growth is reported as well.

Run it against another tree with ``PYTHONPATH=/path/to/tree`` (the "before" of a
comparison): only the wfaas package is imported from there.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

_TABLE = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)


def _size(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bytes | bytearray | memoryview):
        return len(value)
    return 8


class WriteCounter:
    """Bytes of the parameters of every INSERT / UPDATE sent to the database, by table."""

    def __init__(self, engine: Any) -> None:
        self.lock = threading.Lock()
        self.by_table: dict[str, int] = defaultdict(int)
        self.rows: dict[str, int] = defaultdict(int)
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, parameters: Any,
              context: Any, executemany: bool) -> None:
        match = _TABLE.match(statement)
        if not match:
            return
        table = match.group(1).lower()
        groups = parameters if executemany else [parameters]
        total = 0
        for group in groups:
            values = group.values() if isinstance(group, dict) else group
            total += sum(_size(v) for v in values)
        with self.lock:
            self.by_table[table] += total
            self.rows[table] += len(groups)

    def snapshot(self) -> dict[str, int]:
        """Bytes written so far, by table."""
        with self.lock:
            return dict(self.by_table)

    def total(self) -> int:
        """Bytes written so far."""
        with self.lock:
            return sum(self.by_table.values())


@dataclass
class Sample:
    """What one run cost: wall and process CPU seconds, bytes written (by table)."""

    wall: float
    cpu: float
    bytes_written: int
    by_table: dict[str, int] = field(default_factory=dict)
    file_bytes: int = 0
    #: bytes this process wrote with write() (SQLite's WAL and checkpoints included)
    io_bytes: int = 0


def io_written() -> int:
    """``wchar`` of this process (/proc/self/io): every byte passed to write()."""
    try:
        with open("/proc/self/io") as fh:
            for line in fh:
                if line.startswith("wchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Harness:
    """A started Runtime on a fresh database, with a write counter and a waiter."""

    def __init__(self, *, db_url: str = "", pure_actions_per_step: int = 1000,
                 engine_workers: int = 1, limits: Any = None) -> None:
        from wfaas.actions.registry import default_providers
        from wfaas.db import migration
        from wfaas.db.session import make_engine, sqlite_url
        from wfaas.services.runtime import Runtime

        self.path = ""
        if not db_url:
            self.path = os.path.join(tempfile.mkdtemp(prefix="p-data-fam-"), "wfaas.db")
            db_url = sqlite_url(self.path)
        self.engine = make_engine(db_url)
        migration.ensure_schema(self.engine)
        self.writes = WriteCounter(self.engine)
        kwargs: dict[str, Any] = {}
        if limits is not None:
            kwargs["limits"] = limits
        self.rt = Runtime(self.engine, provider=default_providers(openstack=False),
                          pure_actions_per_step=pure_actions_per_step,
                          engine_workers=engine_workers, **kwargs)
        self._done: dict[str, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self.rt.engine.listeners.append(self._on_change)
        # a large value built by an expression takes longer than the default budget
        from wfaas import expressions

        expressions.configure(timeout=300, max_fuel=0)
        self.rt.start()
        # as wfaas-server once built: the objects of the start leave the full collections
        from wfaas.utils import gcfreeze

        gcfreeze.freeze_startup()

    def _on_change(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "execution" and data.get("state") in ("SUCCESS", "ERROR", "CANCELLED"):
            with self._cond:
                self._done[data["id"]] = data
                self._cond.notify_all()

    def store(self, text: str) -> None:
        """Store a workflow document."""
        from wfaas.cmd.run_cmd import store_file

        with self.rt.session() as s:
            store_file(s, text)

    def run(self, name: str, inp: dict[str, Any], timeout: float = 600.0) -> dict[str, Any]:
        """Start ``name`` and wait for its end (engine event, no polling); its row."""
        ex_id = self.rt.start_workflow(name, input=inp)["id"]
        with self._cond:
            if not self._cond.wait_for(lambda: ex_id in self._done, timeout):
                raise TimeoutError(f"{name} did not finish in {timeout}s")
            done = self._done.pop(ex_id)
        if done["state"] != "SUCCESS":
            raise RuntimeError(f"{name}: {done['state']} {done.get('state_info')}")
        return done

    def file_bytes(self) -> int:
        """Size of the SQLite file and its WAL (0 on other databases)."""
        if not self.path:
            return 0
        return sum(os.path.getsize(p) for p in (self.path, self.path + "-wal")
                   if os.path.exists(p))

    def checkpoint(self) -> None:
        """Copy SQLite's WAL into the file and empty it, so that a run pays for its own
        checkpoint (no-op on other databases)."""
        if self.path:
            from sqlalchemy import text
            from sqlalchemy.exc import OperationalError

            try:
                with self.engine.connect() as conn:
                    conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            except OperationalError:  # a reader holds the WAL: measured with the next run
                pass

    def measure(self, fn: Callable[[], Any]) -> Sample:
        """Run ``fn`` (and a WAL checkpoint) and return what it cost."""
        self.checkpoint()
        b0, f0, w0 = self.writes.snapshot(), self.file_bytes(), io_written()
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        f1 = self.file_bytes()
        self.checkpoint()
        b1, w1 = self.writes.snapshot(), io_written()
        by_table = {k: v - b0.get(k, 0) for k, v in b1.items() if v - b0.get(k, 0)}
        return Sample(wall, cpu, sum(by_table.values()), by_table, f1 - f0,
                      w1 - w0)

    def close(self) -> None:
        """Stop the runtime and dispose of the database engine."""
        self.rt.close()
        self.engine.dispose()


def common_arguments(p: argparse.ArgumentParser, smoke: str) -> None:
    """The options every in-process family takes."""
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--modes", default="executor,folded")
    p.add_argument("--db", default="", help="database URL (default: a new SQLite file)")
    p.add_argument("--url", default="", help="ignored: this family runs in-process")
    p.add_argument("--smoke", action="store_true", help=smoke)
    p.add_argument("--json", default="", help="also write the JSON to this file")


def median(values: list[float]) -> float:
    """The median (0.0 of nothing)."""
    return statistics.median(values) if values else 0.0


def emit(result: dict[str, Any], json_file: str) -> None:
    """Print the result as JSON on stdout and, with ``json_file``, write it there."""
    text = json.dumps(result, indent=1, sort_keys=True)
    print(text)
    if json_file:
        with open(json_file, "w") as fh:
            fh.write(text + "\n")


def environment() -> dict[str, Any]:
    """Where the numbers come from: the wfaas tree, the load and the time."""
    import wfaas

    return {"wfaas": os.path.dirname(os.path.dirname(os.path.abspath(wfaas.__file__))),
            "load_average": round(os.getloadavg()[0], 2),
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


@contextmanager
def quiet_logs() -> Iterator[None]:
    """Keep the engine's INFO lines out of the JSON on stdout."""
    import logging

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.setLevel(level)
