"""Where a sub-workflow in a sequence spends its CPU, in-process (one engine worker).

    python tools/bench/profiles/subworkflow_profile.py [--width 200] [--kind seqsub|seq]
        [--inline-cpu 5]

Builds a ``Runtime`` on a fresh SQLite file, stores ``nest_leaf`` and a ``--width``-task
sequence whose tasks run it (``seqsub``) or run ``std.noop`` (``seq``), runs it once to warm
up, then twice under cProfile (engine steps only). Prints the process CPU per task, the
commits and SQL statements per task, and the wfaas functions by cumulative time per task.
``--inline-cpu`` replaces ``dispatch.INLINE_CPU_S`` (the chain's CPU bound) so that the
profile shows the chain's links rather than where the bound cuts them.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import os
import pstats
import sys
import tempfile
import threading
import time
from typing import Any

from sqlalchemy import event

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from subworkflow_ab import LEAF, sequence  # noqa: E402  (the script's neighbour)

from wfaas.actions.registry import default_providers  # noqa: E402
from wfaas.cmd.run_cmd import store_file  # noqa: E402
from wfaas.db import migration  # noqa: E402
from wfaas.db.session import make_engine, sqlite_url  # noqa: E402
from wfaas.services import dispatch  # noqa: E402
from wfaas.services.runtime import Runtime  # noqa: E402


class Profiled:
    """Runs the outermost engine call of any thread under one cProfile (re-entrant)."""

    def __init__(self) -> None:
        self.prof = cProfile.Profile()
        self.lock = threading.RLock()
        self.depth = 0

    def wrap(self, fn: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            with self.lock:
                self.depth += 1
                try:
                    if self.depth > 1:
                        return fn(*args, **kwargs)
                    return self.prof.runcall(fn, *args, **kwargs)
                finally:
                    self.depth -= 1
        return call


def main() -> None:
    """Run the workflow, print the per-task profile."""
    p = argparse.ArgumentParser()
    p.add_argument("--width", type=int, default=200)
    p.add_argument("--kind", choices=["seqsub", "seq"], default="seqsub")
    p.add_argument("--inline-cpu", type=float, default=5.0)
    a = p.parse_args()
    dispatch.INLINE_CPU_S = a.inline_cpu
    eng = make_engine(sqlite_url(os.path.join(tempfile.mkdtemp(prefix="subprof-"), "w.db")))
    migration.ensure_schema(eng)
    statements: collections.Counter[str] = collections.Counter()
    commits = [0]

    @event.listens_for(eng, "before_cursor_execute")
    def _statement(conn: Any, cur: Any, sql: str, params: Any, ctx: Any, many: bool) -> None:
        words = sql.split()
        statements[" ".join(words[:3] if words[0] == "INSERT" else words[:2])] += 1

    @event.listens_for(eng, "commit")
    def _commit(conn: Any) -> None:
        commits[0] += 1

    rt = Runtime(eng, provider=default_providers(openstack=False), engine_workers=1)
    with rt.session() as s:
        store_file(s, LEAF)
        store_file(s, sequence("seqsub", a.width, "workflow: nest_leaf"))
        store_file(s, sequence("seq", a.width, "action: std.noop"))
    profiled = Profiled()
    rt.engine.process = profiled.wrap(rt.engine.process)  # type: ignore[method-assign]
    rt.start()
    runs, n = 2, 2 * a.width

    def run_once() -> None:
        ex = rt.start_workflow(a.kind, input={})
        assert rt.wait_execution(ex["id"], 300)["state"] == "SUCCESS"

    run_once()
    profiled.prof = cProfile.Profile()
    statements.clear()
    commits[0] = 0
    cpu = time.process_time()
    for _ in range(runs):
        run_once()
    print(f"{a.kind}: {(time.process_time() - cpu) / n * 1e3:.3f} ms of process CPU per task, "
          f"{commits[0] / n:.2f} commits per task")
    for sql, count in statements.most_common(12):
        print(f"  {count / n:6.2f} {sql}")
    stats = pstats.Stats(profiled.prof)
    rows = sorted(((ct, nc, f"{fn.split('wfaas/')[-1]}:{name}")
                   for (fn, _, name), (_, nc, _, ct, _) in stats.stats.items()  # type: ignore[attr-defined]
                   if "/wfaas/" in fn), reverse=True)
    print("  ms/task  calls/task  function (cumulative, under cProfile)")
    for ct, nc, name in rows[:25]:
        print(f"  {ct * 1e3 / n:7.3f}  {nc / n:10.2f}  {name}")
    rt.stop()


if __name__ == "__main__":
    main()
