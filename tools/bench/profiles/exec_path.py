"""The executor path in-process: sequences whose actions go through the executor.

    python tools/bench/profiles/exec_path.py [--tasks 10] [--runs 20] [--rounds 3]
        [--action std.noop|std.sleep] [--retries 0] [--threads] [--sql]

Builds a ``Runtime`` on a fresh SQLite file with ``pure_actions_per_step = 0`` (no
folding of std.noop/std.echo into the engine step) and runs ``--runs`` sequential
workflows of ``--tasks`` tasks back to back. ``--action std.sleep`` uses
``std.sleep seconds=0``, which always runs on an executor pool thread (std.noop may run
in the sender's thread, see ``wfaas.executors.base.INLINE_ACTIONS``). ``--retries N``
makes each task ``std.fail`` with ``retry: {count: N, delay: 0}`` (N + 1 attempts, one
task). Prints per task: wall ms, process CPU ms, transactions (commits), statements,
and, with ``--threads``, CPU ms per thread name (``/proc/self/task/*/stat``).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import os
import pstats
import statistics
import sys
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

TICK = os.sysconf("SC_CLK_TCK")
HERE = os.path.dirname(os.path.abspath(__file__))


def definition(name: str, n: int, action: str, retries: int) -> str:
    """A sequence of ``n`` tasks running ``action`` (or failing with retries)."""
    lines = ["---", "version: '2.0'", f"{name}:", "  tasks:"]
    for i in range(n):
        lines.append(f"    t{i}:")
        if retries:
            lines += ["      action: std.fail", "      retry:",
                      f"        count: {retries}", "        delay: 0"]
            nxt = "on-complete"
        else:
            lines.append("      action: std.sleep seconds=0" if action == "std.sleep"
                         else f"      action: {action}")
            nxt = "on-success"
        if i < n - 1:
            lines.append(f"      {nxt}: [t{i + 1}]")
    return "\n".join(lines) + "\n"


def thread_cpu() -> dict[str, float]:
    """CPU seconds (user + system) per thread name of this process."""
    out: dict[str, float] = collections.defaultdict(float)
    names = {t.native_id: t.name for t in threading.enumerate()}
    base = "/proc/self/task"
    for tid in os.listdir(base):
        name = names.get(int(tid), "?").rstrip("0123456789_-x")
        try:
            with open(f"{base}/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[name] += (int(fields[11]) + int(fields[12])) / TICK
    return out


def context_switches() -> int:
    """Voluntary context switches of every thread of this process (each is a thread
    going to sleep: a wait for another thread, a lock, the GIL or I/O)."""
    total = 0
    base = "/proc/self/task"
    for tid in os.listdir(base):
        try:
            with open(f"{base}/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


class Counter:
    """Commits and statements on the engine (every thread)."""

    def __init__(self, eng: Any) -> None:
        self.commits = 0
        self.statements = 0
        self.lock = threading.Lock()

        @event.listens_for(eng, "commit")
        def _commit(conn: Any) -> None:
            with self.lock:
                self.commits += 1

        @event.listens_for(eng, "before_cursor_execute")
        def _stmt(*args: Any) -> None:
            with self.lock:
                self.statements += 1


def profile_parts(rt: Runtime) -> cProfile.Profile:
    """Profile every engine batch and executor run (one profiler, calls serialised)."""
    prof = cProfile.Profile()
    lock = threading.Lock()
    inside = threading.local()

    def wrap(obj: Any, name: str) -> None:
        inner = getattr(obj, name)

        def run(*a: Any, **kw: Any) -> Any:
            if getattr(inside, "on", False):  # an inline action's run inside a step
                return inner(*a, **kw)
            with lock:
                inside.on = True
                try:
                    return prof.runcall(inner, *a, **kw)
                finally:
                    inside.on = False
        setattr(obj, name, run)

    wrap(rt.engine, "process_batch")
    wrap(rt.executor, "run_request")
    return prof


def step_only(eng: Any, args: argparse.Namespace) -> None:
    """CPU per persisted step (``EngineService.process``), no threads involved."""
    sys.path.insert(0, HERE)
    import engine_step

    tr = engine_step.Collect()
    rt = Runtime(eng, transport=tr, provider=object(), pure_actions_per_step=0)
    with rt.session() as s:
        store_file(s, definition("xp", args.tasks, "std.noop", 0))
    engine_step.drive(rt, tr, "xp")
    cpus = []
    for _ in range(args.rounds):
        c0 = time.thread_time()
        steps = sum(engine_step.drive(rt, tr, "xp")[0] for _ in range(args.runs))
        cpus.append((time.thread_time() - c0) / steps * 1e3)
        print(f"round: {steps} steps, cpu {cpus[-1]:.3f} ms/step", flush=True)
    print(f"median: cpu {statistics.median(cpus):.3f} ms/step (load {os.getloadavg()[0]:.1f})")


def main() -> None:
    """Run the rounds and print per-task figures."""
    p = argparse.ArgumentParser()
    p.add_argument("--tasks", type=int, default=10)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--action", default="std.noop")
    p.add_argument("--retries", type=int, default=0)
    p.add_argument("--threads", action="store_true")
    p.add_argument("--step", action="store_true",
                   help="only the persisted step, single-threaded: engine_step.py's driver "
                   "on this sequence, nothing delivered by threads; CPU ms per step")
    p.add_argument("--profile", type=int, default=0,
                   help="print the cProfile top N of the engine's steps and the "
                   "executor's runs (all threads' calls of those two functions)")
    args = p.parse_args()
    path = os.path.join(tempfile.mkdtemp(prefix="wfaas-execpath-"), "wfaas.db")
    eng = make_engine(sqlite_url(path))
    migration.ensure_schema(eng)
    if args.step:
        step_only(eng, args)
        return
    counter = Counter(eng)
    rt = Runtime(eng, provider=default_providers(openstack=False), pure_actions_per_step=0,
                 engine_workers=1)
    with rt.session() as s:
        store_file(s, definition("xp", args.tasks, args.action, args.retries))
    prof = profile_parts(rt) if args.profile else None
    rt.start()
    try:
        ex = rt.start_workflow("xp", input={})  # warm-up
        rt.wait_execution(ex["id"], 60)
        walls, cpus, sleeps = [], [], []
        per_thread: dict[str, list[float]] = collections.defaultdict(list)
        tasks = args.tasks * args.runs
        for _ in range(args.rounds):
            c0, t0, th0 = time.process_time(), time.perf_counter(), thread_cpu()
            n0, s0, x0 = counter.commits, counter.statements, context_switches()
            for _ in range(args.runs):
                ex = rt.start_workflow("xp", input={})
                done = rt.wait_execution(ex["id"], 120)
                assert done["state"] == ("ERROR" if args.retries else "SUCCESS"), done
            walls.append((time.perf_counter() - t0) / tasks * 1e3)
            cpus.append((time.process_time() - c0) / tasks * 1e3)
            commits = (counter.commits - n0) / tasks
            stmts = (counter.statements - s0) / tasks
            switches = (context_switches() - x0) / tasks
            sleeps.append(switches)
            th1 = thread_cpu()
            for name in th1:
                per_thread[name].append((th1[name] - th0.get(name, 0.0)) / tasks * 1e3)
            served = sum(th1[k] - th0.get(k, 0.0) for k in th1 if k != "MainThread")
            per_thread["(all but MainThread)"].append(served / tasks * 1e3)
            print(f"round: wall {walls[-1]:.3f} ms/task  cpu {cpus[-1]:.3f} ms/task  "
                  f"commits {commits:.2f}/task  statements {stmts:.1f}/task  "
                  f"sleeps {switches:.1f}/task", flush=True)
        print(f"median: wall {statistics.median(walls):.3f} ms/task, "
              f"cpu {statistics.median(cpus):.3f} ms/task, without the waiting main thread "
              f"{statistics.median(per_thread['(all but MainThread)']):.3f} ms/task, "
              f"sleeps {statistics.median(sleeps):.1f}/task "
              f"(load {os.getloadavg()[0]:.1f})")
        if args.threads:
            for name, vals in sorted(per_thread.items(), key=lambda kv: -max(kv[1])):
                if max(vals) > 0:
                    print(f"  thread {name:28s} {statistics.median(vals):.3f} ms/task")
        if prof is not None:
            pstats.Stats(prof).sort_stats("tottime").print_stats(args.profile)
    finally:
        rt.close()


if __name__ == "__main__":
    main()
