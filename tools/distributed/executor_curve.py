"""Throughput of the distributed mode as executors (and engines) are added.

    /work/venv/bin/python tools/distributed/executor_curve.py \\
        [--executors 1,2,4] [--engines 2 | --engines 1,2] [--executor-workers 1] \\
        [--workload items|fanout] [--executions 20] [--width 50] [--sleep 0.01] \\
        [--count-conflicts] [--step-wait S] [--tree DIR] [--set SECTION.KEY=V] \\
        [--engines-curve] [--json FILE]

``--engines 1,2`` measures every engine count with every executor count.
``--count-conflicts`` runs the processes through ``serve_counting.py`` and adds
the engines' compare-and-set conflicts (and replayed batches) of the timed run;
``--step-wait S`` also makes every execution step wait S seconds (engines that
wait rather than compute, see serve_counting.py); ``--tree DIR`` runs the
processes on another checkout's wfaas (the tree before a change). Each point
also records the CPU seconds each role used during the timed run.

For each executor count a fresh cluster (see cluster.py: PostgreSQL + RabbitMQ,
``--engines`` engines, 1 API, 1 scheduler) is started with ``--executor-workers``
threads per executor. Each execution runs ``--width`` ``std.sleep seconds=0.01``
actions, ``--executions`` executions in all:

- ``items`` (default): one task ``with-items`` over ``width`` items, all of them
  concurrently (the cheapest way for the engines to drive many actions);
- ``fanout``: ``width`` parallel tasks joined by one ``std.noop`` task (which the
  engine runs itself); a task execution per action costs the engines more.

One warm-up execution runs first; the clock runs from the first POST to the last
execution in a final state. Afterwards every execution must be SUCCESS and every
task and every action must have run exactly once (``items``: ``width`` actions of
the one task), otherwise the point is marked failed.

The executors can run at most ``executors x workers / 0.01 s`` sleep actions per
second (the *capacity* column). With one thread per executor (the default) that
is 100, 200 and 400 actions/s for 1, 2 and 4 executors, against about 270-300
actions/s that the whole cluster can drive on a 2-core machine (measured with 16
threads per executor): up to 2 executors the executors are the bottleneck, at 4
the CPU takes over. The table puts both side by side. ``--engines-curve`` adds 1 vs 2
engines at the largest executor count. The cluster is torn down (processes
stopped, database dropped, queues deleted) after each point, whatever happens; its
work directory (process logs) is kept only when the point failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import Engine, create_engine, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tools.distributed.cluster import Cluster  # noqa: E402
from wfaas.db import models as m  # noqa: E402

SLEEP_S = 0.01
TERMINAL = ("SUCCESS", "ERROR", "CANCELLED")
WORKFLOW = "sleep_fanout"


@dataclass
class Point:
    """One measured configuration."""

    engines: int
    executors: int
    workers_each: int
    executions: int
    actions: int
    wall_s: float
    actions_per_s: float
    capacity_per_s: float
    executions_per_s: float
    ok: bool
    problems: list[str]
    #: engine steps redone after losing the compare-and-set (``--count-conflicts``)
    conflicts: int | None = None
    #: batches of steps replayed one by one after a failure (``--count-conflicts``)
    batch_replays: int | None = None
    #: the tree the processes ran (``--tree``; empty: this one)
    tree: str = ""
    #: CPU seconds (user + system) spent during the timed run, by role
    cpu_s: dict[str, float] | None = None


def fanout_workflow(width: int, sleep: float = SLEEP_S) -> str:
    """``width`` parallel ``std.sleep seconds=<sleep>`` tasks, then a ``join: all`` noop."""
    branches = "".join(f"    s{i}: {{action: std.sleep seconds={sleep}, on-success: j}}\n"
                       for i in range(width))
    return (f"version: '2.0'\n{WORKFLOW}:\n  tasks:\n{branches}"
            "    j: {join: all, action: std.noop}\n")


def items_workflow(width: int, sleep: float = SLEEP_S) -> str:
    """One task running ``std.sleep seconds=<sleep>`` for each of ``width`` items at once."""
    return (f"version: '2.0'\n{WORKFLOW}:\n  tasks:\n    fan:\n"
            f"      with-items: i in <% range({width}) %>\n      concurrency: {width}\n"
            f"      action: std.sleep seconds={sleep}\n")


WORKFLOWS = {"items": items_workflow, "fanout": fanout_workflow}


def upload(cluster: Cluster, text: str) -> None:
    """Create (or replace) a workflow definition."""
    for method in (requests.post, requests.put):
        r = method(cluster.api_url + "/v2/workflows", data=text,
                   headers={"Content-Type": "text/plain"}, timeout=60)
        if r.status_code < 300:
            return
    r.raise_for_status()


def start_all(cluster: Cluster, n: int) -> list[str]:
    """POST ``n`` executions of the workflow from 8 client threads; their ids."""
    body = {"workflow_name": WORKFLOW, "input": json.dumps({})}

    def one(_: int) -> str:
        r = requests.post(cluster.api_url + "/v2/executions", json=body, timeout=60)
        r.raise_for_status()
        return str(r.json()["id"])

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(n)))


def wait_all(db: Engine, ids: list[str], timeout: float) -> dict[str, str]:
    """Poll the database until every execution is terminal (or ``timeout``); id -> state."""
    deadline = time.monotonic() + timeout
    while True:
        with db.connect() as conn:
            states = {r[0]: r[1] for r in conn.execute(
                select(m.WorkflowExecution.id, m.WorkflowExecution.state)
                .where(m.WorkflowExecution.id.in_(ids)))}
        if all(states.get(i) in TERMINAL for i in ids) or time.monotonic() > deadline:
            return states
        time.sleep(0.05)


def _counts(db: Engine, ids: list[str], column: Any, id_column: Any) -> dict[str, list[int]]:
    """execution id -> sorted counts of rows per task name."""
    with db.connect() as conn:
        rows = conn.execute(select(id_column, column, func.count())
                            .where(id_column.in_(ids)).group_by(id_column, column))
        out: dict[str, list[int]] = {}
        for ex, _name, n in rows:
            out.setdefault(ex, []).append(n)
    return out


def verify(db: Engine, ids: list[str], states: dict[str, str], workload: str,
           width: int) -> list[str]:
    """Problems found: executions not SUCCESS, tasks or actions that did not run once."""
    want_tasks, want_actions = (([1], [width]) if workload == "items"
                                else ([1] * (width + 1), [1] * (width + 1)))
    problems = [f"{i}: {states.get(i)}" for i in ids if states.get(i) != "SUCCESS"]
    tasks = _counts(db, ids, m.TaskExecution.name, m.TaskExecution.workflow_execution_id)
    actions = _counts(db, ids, m.ActionExecution.task_name,
                      m.ActionExecution.workflow_execution_id)
    for ex in ids:
        if tasks.get(ex) != want_tasks:
            problems.append(f"{ex}: task executions per task {tasks.get(ex)}")
        if actions.get(ex) != want_actions:
            problems.append(f"{ex}: action executions per task {actions.get(ex)}")
    return problems


def measure(cluster: Cluster, args: argparse.Namespace) -> Point:
    """Warm up, then time ``args.executions`` executions on a running cluster."""
    db = create_engine(cluster.db_url)
    try:
        upload(cluster, WORKFLOWS[args.workload](args.width, args.sleep))
        warm = start_all(cluster, 1)
        wait_all(db, warm, args.timeout)
        before = conflict_counts(cluster)
        cpu0 = cpu_by_role(cluster)
        t0 = time.perf_counter()
        ids = start_all(cluster, args.executions)
        states = wait_all(db, ids, args.timeout)
        wall = time.perf_counter() - t0
        cpu1 = cpu_by_role(cluster)
        problems = verify(db, ids, states, args.workload, args.width)
        time.sleep(1.0 if args.count_conflicts else 0)  # the counters are written every 0.5 s
        after = conflict_counts(cluster)
    finally:
        db.dispose()
    actions = args.executions * args.width
    point = Point(cluster.engines, cluster.executors, cluster.executor_workers,
                  args.executions, actions, round(wall, 3), round(actions / wall, 1),
                  round(cluster.executors * cluster.executor_workers / args.sleep, 1),
                  round(args.executions / wall, 2), not problems, problems[:10],
                  tree=args.tree or "",
                  cpu_s={k: round(cpu1[k] - cpu0.get(k, 0.0), 2) for k in cpu1})
    if args.count_conflicts:
        point.conflicts = after["conflicts"] - before["conflicts"]
        point.batch_replays = after["batch_replays"] - before["batch_replays"]
    return point


def cpu_by_role(cluster: Cluster) -> dict[str, float]:
    """CPU seconds (utime + stime from /proc) used so far by the processes of each role."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for proc in cluster.procs.values():
        try:
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        used = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        out[proc.role] = out.get(proc.role, 0.0) + used
    return out


def conflict_counts(cluster: Cluster) -> dict[str, int]:
    """The engines' compare-and-set conflicts so far (serve_counting.py's files)."""
    total = {"conflicts": 0, "batch_replays": 0}
    folder = cluster.workdir / "cas"
    for path in folder.glob("*.json") if folder.exists() else ():
        for key, value in json.loads(path.read_text() or "{}").items():
            total[key] = total.get(key, 0) + int(value)
    return total


def run_point(engines: int, executors: int, args: argparse.Namespace) -> Point:
    """Bring a cluster up, measure it, always tear it down."""
    workdir = Path(tempfile.mkdtemp(prefix="wfaas-curve-"))
    extra: dict[str, dict[str, Any]] = {}
    for item in args.set:
        key, _, value = item.partition("=")
        section, _, option = key.rpartition(".")
        extra.setdefault(section or "DEFAULT", {})[option] = value
    cluster = Cluster(workdir, engines=engines, executors=executors,
                      executor_workers=args.executor_workers, extra_conf=extra)
    if args.step_wait > 0:
        args.count_conflicts = True
        os.environ["WFAAS_SIM_STEP_WAIT"] = str(args.step_wait)
    if args.count_conflicts:
        cluster.server_command = (str(Path(__file__).resolve().parent / "serve_counting.py"),)
        os.environ["WFAAS_CAS_COUNTS"] = str(workdir / "cas")
    if args.tree:  # the processes (not this one) import wfaas from that tree
        os.environ["PYTHONPATH"] = args.tree
    try:
        cluster.up(timeout=180)
        point = measure(cluster, args)
    except BaseException:
        print(cluster.logs(tail=20), file=sys.stderr)
        raise
    finally:
        cluster.down()
    if point.ok:  # keep the logs of a failed point only
        shutil.rmtree(cluster.workdir, ignore_errors=True)
    print(row(point), flush=True)
    return point


HEADER = ("| engines | executors | workers each | wall s | actions/s | capacity actions/s "
          "| executions/s | correct |\n|---:|---:|---:|---:|---:|---:|---:|:---|")


def row(p: Point) -> str:
    """One Markdown table row."""
    return (f"| {p.engines} | {p.executors} | {p.workers_each} | {p.wall_s:.2f} | "
            f"{p.actions_per_s:.0f} | {p.capacity_per_s:.0f} | {p.executions_per_s:.2f} | "
            f"{'yes' if p.ok else 'NO: ' + '; '.join(p.problems[:2])} |"
            + (f" {p.conflicts} / {p.batch_replays} |" if p.conflicts is not None else ""))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description="wfaas executor throughput curve")
    parser.add_argument("--executors", default="1,2,4",
                        help="comma-separated executor counts (one cluster each)")
    parser.add_argument("--engines", default="2",
                        help="comma-separated engine counts (a grid with --executors)")
    parser.add_argument("--executor-workers", type=int, default=1,
                        help="threads running actions in each executor")
    parser.add_argument("--workload", choices=sorted(WORKFLOWS), default="items",
                        help="with-items over --width items, or --width parallel tasks")
    parser.add_argument("--executions", type=int, default=20)
    parser.add_argument("--width", type=int, default=50,
                        help="std.sleep actions (all concurrent) per execution")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds to wait for the executions of one point")
    parser.add_argument("--engines-curve", action="store_true",
                        help="also 1 vs 2 engines at the largest executor count")
    parser.add_argument("--sleep", type=float, default=SLEEP_S,
                        help="seconds each std.sleep action waits")
    parser.add_argument("--step-wait", type=float, default=0.0,
                        help="simulate engines that wait: each execution a step writes "
                             "waits this long (serve_counting.py; implies --count-conflicts)")
    parser.add_argument("--count-conflicts", action="store_true",
                        help="count the engines' compare-and-set conflicts (serve_counting.py)")
    parser.add_argument("--tree", default="",
                        help="run the processes on the wfaas of this tree (PYTHONPATH), e.g. "
                             "the tree before a change")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="an extra config option for every process (repeatable)")
    parser.add_argument("--json", type=Path, help="write the results here")
    return parser.parse_args(argv)


def plan(args: argparse.Namespace) -> list[tuple[str, int, int]]:
    """(curve, engines, executors) to measure, in order."""
    counts = [int(x) for x in args.executors.split(",") if x.strip()]
    engines = [int(x) for x in str(args.engines).split(",") if x.strip()]
    points = [("executors" if len(engines) == 1 else f"executors-{e}-engines", e, n)
              for e in engines for n in counts]
    if args.engines_curve:
        points += [("engines", e, max(counts)) for e in (1, 2)]
    return points


def main(argv: list[str] | None = None) -> list[Point]:
    """Measure every planned point; print the table; optionally write JSON."""
    args = parse_args(argv)
    print(f"workload {args.workload}: {args.executions} executions x {args.width} "
          f"std.sleep seconds={args.sleep}; capacity = executors x workers / {args.sleep} s")
    print(HEADER, flush=True)
    done: dict[tuple[int, int], Point] = {}
    curves: dict[str, list[Point]] = {}
    for curve, engines, executors in plan(args):
        key = (engines, executors)
        if key not in done:
            done[key] = run_point(engines, executors, args)
        curves.setdefault(curve, []).append(done[key])
    if args.json:
        info = {"argv": sys.argv[1:] if argv is None else argv, "workload": args.workload,
                "sleep_s": args.sleep, "width": args.width, "tree": args.tree,
                "step_wait_s": args.step_wait, "set": args.set,
                "executions": args.executions, "executor_workers": args.executor_workers,
                "python": platform.python_version(), "nproc": os.cpu_count(),
                "finished": time.strftime("%Y-%m-%d %H:%M:%S")}
        results = {k: [asdict(p) for p in v] for k, v in curves.items()}
        args.json.write_text(json.dumps({"info": info, "results": results}, indent=2) + "\n")
    return list(done.values())


if __name__ == "__main__":
    sys.exit(0 if all(p.ok for p in main()) else 1)
