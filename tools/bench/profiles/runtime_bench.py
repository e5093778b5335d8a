"""The bench workloads run in-process on a Runtime (no HTTP): engine + executor + SQLite.

    /work/venv/bin/python tools/bench/profiles/runtime_bench.py [--workloads seq10,publish50]
        [--reps 3] [--seq-n 1000] [--sql-stats] [--gc freeze] [--db /tmp/x.db]

Reports wall time and process CPU time per workload (median of ``--reps``), so the cost
of the shell (one persisted engine step = load/decide/persist/commit/dispatch) is seen
without the API and the HTTP polling of ``tools/bench/bench.py``. The workflow
definitions are the ones of the HTTP harness (``tools/bench/wfbench/definitions.py``).

To see where the time goes, run it under py-spy (every thread, GIL holder only):
``py-spy record --gil -f raw -o out.txt -- python runtime_bench.py ...`` and summarise
``out.txt`` with ``collapse_top.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tools/bench for wfbench

from wfbench import definitions as d  # noqa: E402

from wfaas.actions.registry import default_providers  # noqa: E402
from wfaas.cmd.run_cmd import store_file  # noqa: E402
from wfaas.db import migration  # noqa: E402
from wfaas.db.session import make_engine, sqlite_url  # noqa: E402
from wfaas.services.runtime import Runtime  # noqa: E402

Workload = Callable[[Runtime], int]


def _run_all(rt: Runtime, name: str, count: int, inp: dict[str, Any] | None = None,
             timeout: float = 300.0) -> list[dict[str, Any]]:
    ids = [rt.start_workflow(name, input=inp or {})["id"] for _ in range(count)]
    done = [rt.wait_execution(i, timeout) for i in ids]
    bad = [x for x in done if x["state"] != "SUCCESS"]
    if bad:
        raise RuntimeError(f"{name}: {bad[0]['state']} {bad[0].get('state_info')}")
    return done


def seq10(rt: Runtime) -> int:
    """20 10-task sequences back to back (the time reported is per workflow)."""
    for _ in range(20):
        _run_all(rt, "bench_seq10", 1)
    return 20


def parallel100(rt: Runtime) -> int:
    """100 executions of a 5-task sequence started at once."""
    _run_all(rt, "bench_seq5", 100)
    return 1


def seq_n(rt: Runtime) -> int:
    """One long sequence (``--seq-n`` tasks)."""
    _run_all(rt, f"bench_seq{ARGS.seq_n}", 1, timeout=3600)
    return 1


def withitems1000(rt: Runtime) -> int:
    """with-items over 1000 items."""
    out = _run_all(rt, "bench_wi1000", 1)[0]["output"]
    assert out == {"n": 1000}, out
    return 1


def withitems1000_c20(rt: Runtime) -> int:
    """with-items over 1000 items, concurrency 20."""
    out = _run_all(rt, "bench_wi1000_c20", 1)[0]["output"]
    assert out == {"n": 1000}, out
    return 1


def fanout100_join(rt: Runtime) -> int:
    """start -> 100 parallel -> join."""
    _run_all(rt, "bench_fanout100", 1)
    return 1


def publish50(rt: Runtime) -> int:
    """50 tasks each appending 100 ints to a published list."""
    out = _run_all(rt, "bench_publish50", 1)[0]["output"]
    assert out == {"count": 5000}, out
    return 1


WORKLOADS: dict[str, Workload] = {
    "seq10": seq10, "parallel100": parallel100, "withitems1000": withitems1000,
    "withitems1000_c20": withitems1000_c20, "fanout100_join": fanout100_join,
    "publish50": publish50, "seq_n": seq_n,
}
ARGS: argparse.Namespace


def definitions(seq_n_size: int) -> list[str]:
    """The workflow documents every workload needs."""
    return [d.sequence("bench_seq10", 10), d.sequence("bench_seq5", 5),
            d.sequence(f"bench_seq{seq_n_size}", seq_n_size),
            d.with_items("bench_wi1000", 1000), d.with_items("bench_wi1000_c20", 1000, 20),
            d.fanout_join("bench_fanout100", 100), d.publish_chain("bench_publish50", 50, 100)]


class SqlStats:
    """Wall time of SQL statements per (thread kind, statement kind), with counts."""

    def __init__(self, eng: Any) -> None:
        import collections
        import threading

        from sqlalchemy import event

        self.lock = threading.Lock()
        self.data: dict[tuple[str, str], list[float]] = collections.defaultdict(
            lambda: [0, 0.0, 0.0])
        local = threading.local()

        @event.listens_for(eng, "before_cursor_execute")
        def _before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            local.t0 = time.perf_counter()

        @event.listens_for(eng, "after_cursor_execute")
        def _after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            self.add(statement, time.perf_counter() - local.t0)

        @event.listens_for(eng, "commit")
        def _commit(conn: Any) -> None:
            local.c0 = time.perf_counter()

    def add(self, statement: str, dt: float) -> None:
        """Record one statement."""
        import threading

        words = statement.split()
        kind = " ".join(words[:2]) if words[0] in ("BEGIN", "SELECT") else " ".join(words[:3])
        thread = threading.current_thread().name.rstrip("0123456789_-")
        with self.lock:
            row = self.data[(thread, kind[:40])]
            row[0] += 1
            row[1] += dt
            row[2] = max(row[2], dt)

    def report(self) -> None:
        """Print and reset."""
        with self.lock:
            items = sorted(self.data.items(), key=lambda kv: -kv[1][1])
            self.data.clear()
        for (thread, kind), (n, total, worst) in items[:14]:
            print(f"    {thread:22s} {kind:40s} n={n:6d} total={total:7.3f}s "
                  f"avg={total / n * 1e3:7.3f}ms max={worst * 1e3:7.1f}ms")


def main() -> None:
    """Run the selected workloads and print wall/CPU medians."""
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--workloads", default=",".join(k for k in WORKLOADS if k != "seq_n"))
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--seq-n", type=int, default=1000)
    p.add_argument("--db", default="")
    p.add_argument("--gc", default="", help="'freeze' and/or a threshold 'a/b/c' after start, "
                   "e.g. freeze,50000/20/100")
    p.add_argument("--sql-stats", action="store_true",
                   help="time every SQL statement by kind and thread (BEGIN waits included)")
    ARGS = p.parse_args()
    path = ARGS.db or os.path.join(tempfile.mkdtemp(prefix="wfaas-rtbench-"), "wfaas.db")
    eng = make_engine(sqlite_url(path))
    migration.ensure_schema(eng)
    stats = SqlStats(eng) if ARGS.sql_stats else None
    rt = Runtime(eng, provider=default_providers(openstack=False))
    with rt.session() as s:
        for text in definitions(ARGS.seq_n):
            store_file(s, text)
    rt.start()
    for opt in [o for o in ARGS.gc.split(",") if o]:
        import gc

        if opt == "freeze":
            gc.collect()
            gc.freeze()
        else:
            gc.set_threshold(*(int(x) for x in opt.split("/")))
    try:
        print(f"db {path}; load average {os.getloadavg()[0]:.2f}")
        for name in ARGS.workloads.split(","):
            walls, cpus = [], []
            for _ in range(ARGS.reps):
                c0, t0 = time.process_time(), time.perf_counter()
                per = WORKLOADS[name](rt)
                walls.append((time.perf_counter() - t0) / per)
                cpus.append((time.process_time() - c0) / per)
            if stats is not None:
                stats.report()
            print(f"{name:18s} wall median {statistics.median(walls):8.4f}s "
                  f"[{min(walls):.4f}..{max(walls):.4f}]  cpu median "
                  f"{statistics.median(cpus):8.4f}s  (load {os.getloadavg()[0]:.2f})",
                  flush=True)
    finally:
        rt.close()


if __name__ == "__main__":
    main()
