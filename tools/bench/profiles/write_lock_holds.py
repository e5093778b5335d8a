#!/usr/bin/env python3
"""How long the engine holds the SQLite write lock while a workflow runs (issue 14).

    python tools/bench/profiles/write_lock_holds.py [recurse|none|fanout] [--roots 20] [--json FILE]

Runs ``--roots`` executions one after the other in process (SQLite, one engine worker,
default limits: a runaway recursion stops at nesting depth 10; ``fanout``: a
with-items of 500 sub-workflows of one ``std.noop`` task) and times every hold of
the write lock (``wfaas.db.session``'s per-engine lock around a write transaction) in
CPU time of the holding thread (``time.thread_time``: robust on a loaded machine).
Everything else waiting to write (an API start, a cancel's step) waits for these holds.
Prints holds per root and the p50 / p99 / max / sum per root of their CPU, in ms.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.unit.db.dbutil import migrated_engine  # noqa: E402
from tests.unit.services import testactions  # noqa: E402
from tests.unit.services.conftest import define  # noqa: E402
from wfaas.db import session as db_session  # noqa: E402
from wfaas.services.runtime import Runtime  # noqa: E402

WORKFLOWS = {
    "recurse": "version: '2.0'\nrecurse:\n  tasks:\n    again:\n      workflow: recurse\n",
    "none": "version: '2.0'\nnone:\n  tasks:\n    t:\n      action: std.noop\n"
            "      publish: {v: '<% 1 + 1 %>'}\n",
    "fanout": "version: '2.0'\nleaf:\n  tasks:\n    t:\n      action: std.noop\n"
              "fanout:\n  tasks:\n    each:\n      with-items: i in <% range(500) %>\n"
              "      workflow: leaf\n",
}


class TimedLock:
    """Wraps the write lock (re-entrant) and records the thread CPU of each outer hold."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.holds: list[float] = []
        self.local = threading.local()

    def acquire(self) -> None:
        """Take the lock; start timing on the outer acquire."""
        self.inner.acquire()
        depth = getattr(self.local, "depth", 0)
        self.local.depth = depth + 1
        if depth == 0:
            self.local.t0 = time.thread_time()

    def release(self) -> None:
        """Release it; record the hold on the outer release."""
        self.local.depth -= 1
        if self.local.depth == 0:
            self.holds.append(time.thread_time() - self.local.t0)
        self.inner.release()

    def __enter__(self) -> TimedLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def measure(name: str, roots: int) -> dict[str, Any]:
    """Run ``roots`` executions of workflow ``name``; the figures of its write-lock holds."""
    with tempfile.TemporaryDirectory() as tmp, migrated_engine("sqlite", Path(tmp)) as eng:
        lock = TimedLock(db_session._WRITE_LOCKS[eng])
        db_session._WRITE_LOCKS[eng] = lock  # type: ignore[assignment]
        with Runtime(eng, provider=testactions.provider(), embedded=True) as rt:
            define(rt, WORKFLOWS[name])
            lock.holds.clear()
            t0 = time.process_time()
            for _ in range(roots):
                done = rt.wait_execution(rt.start_workflow(name)["id"], 120)
            cpu = time.process_time() - t0
    ms = sorted(h * 1e3 for h in lock.holds)
    return {"workflow": name, "roots": roots, "last_state": done["state"],
            "process_cpu_ms_per_root": round(cpu / roots * 1e3, 1),
            "holds_per_root": round(len(ms) / roots, 2),
            "hold_cpu_ms": {"p50": round(ms[len(ms) // 2], 2),
                            "p99": round(ms[int(len(ms) * 0.99)], 2),
                            "max": round(ms[-1], 2),
                            "sum_per_root": round(sum(ms) / roots, 1)}}


def main() -> None:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workflow", nargs="?", default="recurse", choices=sorted(WORKFLOWS))
    parser.add_argument("--roots", type=int, default=20)
    parser.add_argument("--json", help="append the result (one JSON line) to this file")
    args = parser.parse_args()
    result = measure(args.workflow, args.roots)
    print(json.dumps(result))
    if args.json:
        with open(args.json, "a", encoding="utf-8") as out:
            out.write(json.dumps(result) + os.linesep)


if __name__ == "__main__":
    main()
