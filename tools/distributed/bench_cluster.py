"""Throughput of a local multi-process deployment (see cluster.py) through its REST API.

    /work/venv/bin/python tools/distributed/bench_cluster.py [--executions 200] [--engines 2]

Starts the cluster, uploads a 3-task sequence and a 50-branch join, starts N
executions of each from 8 client threads and reports executions/s and
tasks/s from the first POST to the last execution finished; then tears the
cluster down (database dropped, queues deleted).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from sqlalchemy import create_engine, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tools.distributed.cluster import Cluster  # noqa: E402
from wfaas.db import models as m  # noqa: E402

SEQUENCE = """version: '2.0'
seq3:
  tasks:
    a: {action: std.noop, on-success: b}
    b: {action: std.echo output=1, on-success: c}
    c: {action: std.noop}
"""
JOIN = "version: '2.0'\njoin50:\n  tasks:\n" + "".join(
    f"    b{i}: {{action: std.noop, on-success: j}}\n" for i in range(50)) + \
    "    j: {join: all, action: std.noop}\n"


def run(cluster: Cluster, name: str, n: int, tasks_each: int) -> str:
    """Start ``n`` executions of ``name``; wait for all; return a result line."""
    db = create_engine(cluster.db_url)
    body = {"workflow_name": name, "input": json.dumps({})}
    t0 = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda _: requests.post(cluster.api_url + "/v2/executions",
                                                    json=body, timeout=60).json()["id"],
                            range(n)))
    while True:
        with db.connect() as conn:
            left = conn.scalar(select(func.count()).select_from(m.WorkflowExecution).where(
                m.WorkflowExecution.id.in_(ids), m.WorkflowExecution.state == "RUNNING"))
        if not left:
            break
        time.sleep(0.1)
    elapsed = time.perf_counter() - t0
    db.dispose()
    return (f"| {name} x{n} | {elapsed:.1f} s | {n / elapsed:.1f} | "
            f"{n * tasks_each / elapsed:.0f} |")


def main() -> None:
    """Start a cluster, measure, tear it down."""
    parser = argparse.ArgumentParser(description="wfaas multi-process throughput")
    parser.add_argument("--executions", type=int, default=200)
    parser.add_argument("--engines", type=int, default=2)
    parser.add_argument("--executors", type=int, default=2)
    parser.add_argument("--executor-path", action="store_true",
                        help="every action through RabbitMQ and an executor "
                             "([engine] pure_actions_per_step = 0)")
    args = parser.parse_args()
    extra = {"engine": {"pure_actions_per_step": 0}} if args.executor_path else {}
    cluster = Cluster(Path(tempfile.mkdtemp(prefix="wfaas-bench-")), engines=args.engines,
                      executors=args.executors, extra_conf=extra)
    try:
        cluster.up(timeout=180)
        for text in (SEQUENCE, JOIN):
            requests.post(cluster.api_url + "/v2/workflows", data=text,
                          headers={"Content-Type": "text/plain"}, timeout=60).raise_for_status()
        print(f"{args.engines} engines, {args.executors} executors, 1 API, 1 scheduler")
        print("| workload | wall | executions/s | tasks/s |\n|---|---:|---:|---:|")
        print(run(cluster, "seq3", args.executions, 3))
        print(run(cluster, "join50", max(1, args.executions // 10), 51))
    finally:
        cluster.down()


if __name__ == "__main__":
    main()
