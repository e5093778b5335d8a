"""CPU and SQL per retry attempt against CPU and SQL per sequential task, in-process.

    python tools/bench/profiles/retry_attempts.py [--n 50] [--runs 5] [--rounds 3]
        [--pure 1000|0] [--action std.fail]

Runs, alternately, a workflow whose one task fails ``--n`` times under
``retry: {count: n - 1, delay: 0}`` (``retried``) and a sequence of ``--n`` std.noop
tasks (``sequence``), on a ``Runtime`` on a fresh SQLite file with
``pure_actions_per_step = --pure`` (0: the executor path). Prints per attempt / per
task: process CPU ms, statements, transactions (commits) and engine steps. The two
figures are what issue 17 compares ("a retry with delay 0 costs one task").
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from typing import Any

from sqlalchemy import event

from wfaas.actions.registry import default_providers
from wfaas.cmd.run_cmd import store_file
from wfaas.db import migration
from wfaas.db.session import make_engine, sqlite_url
from wfaas.services.runtime import Runtime


def definitions(n: int, action: str) -> str:
    """``retried``: one task, n attempts; ``sequence``: n std.noop tasks."""
    seq = "".join(f"    t{i}:\n      action: std.noop\n"
                  + (f"      on-success: [t{i + 1}]\n" if i < n - 1 else "")
                  for i in range(n))
    return (f"---\nversion: '2.0'\nretried:\n  tasks:\n    t:\n      action: {action}\n"
            f"      retry: {{count: {n - 1}, delay: 0}}\n"
            f"sequence:\n  tasks:\n{seq}")


class Counts:
    """Statements, commits (every thread) and engine steps."""

    def __init__(self, rt: Runtime) -> None:
        self.values = {"stmts": 0, "commits": 0, "steps": 0}
        lock = threading.Lock()

        def bump(key: str) -> None:
            with lock:
                self.values[key] += 1

        event.listen(rt.db, "before_cursor_execute", lambda *a: bump("stmts"))
        event.listen(rt.db, "commit", lambda *a: bump("commits"))
        rt.add_listener(lambda kind, data: bump("steps") if kind == "step" else None)


def measure(rt: Runtime, counts: Counts, name: str, runs: int, n: int) -> dict[str, float]:
    """Run ``name`` ``runs`` times; per attempt/task figures."""
    before = dict(counts.values)
    c0 = time.process_time()
    for _ in range(runs):
        done = rt.wait_execution(rt.start_workflow(name, input={})["id"], 120)
        assert done["state"] in ("SUCCESS", "ERROR"), done
    out: dict[str, Any] = {"cpu_ms": (time.process_time() - c0) / (runs * n) * 1e3}
    for k, v in counts.values.items():
        out[k] = (v - before[k]) / (runs * n)
    return out


def main() -> None:
    """Alternate the two workflows and print medians."""
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=50)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--pure", type=int, default=1000)
    p.add_argument("--action", default="std.fail")
    args = p.parse_args()
    eng = make_engine(sqlite_url(os.path.join(tempfile.mkdtemp(prefix="wfaas-retry-"),
                                              "wfaas.db")))
    migration.ensure_schema(eng)
    rt = Runtime(eng, provider=default_providers(openstack=False),
                 pure_actions_per_step=args.pure, engine_workers=1)
    with rt.session() as s:
        store_file(s, definitions(args.n, args.action))
    counts = Counts(rt)
    rt.start()
    try:
        for name in ("retried", "sequence"):  # warm-up
            measure(rt, counts, name, 1, args.n)
        rows: dict[str, list[dict[str, float]]] = {"retried": [], "sequence": []}
        for _ in range(args.rounds):
            for name in rows:
                rows[name].append(measure(rt, counts, name, args.runs, args.n))
        for name, label in (("retried", "per attempt"), ("sequence", "per task")):
            med = {k: statistics.median(r[k] for r in rows[name]) for k in rows[name][0]}
            print(f"{name:9s} {label:11s} cpu {med['cpu_ms']:.3f} ms  statements "
                  f"{med['stmts']:.2f}  commits {med['commits']:.2f}  steps "
                  f"{med['steps']:.2f}")
        print(f"(pure_actions_per_step={args.pure}, n={args.n}, load "
              f"{os.getloadavg()[0]:.1f})")
    finally:
        rt.stop()


if __name__ == "__main__":
    main()
