#!/usr/bin/env python3
"""Scaling family ``context``: what a small task costs after a task published a large value.

    python tools/bench/families/context.py [--keys 0,200,2000,10000]
        [--bytes 0,10000,100000,1000000] [--follow 20] [--reps 3]
        [--modes executor,folded] [--db URL] [--json FILE]

Task ``big`` publishes ``big``, built by an expression from the input ``n``: a dict of
N keys (workload ``context_keys``) or a string of N bytes (``context_bytes``; to the
global context with Mistral's ``publish: {global: ...}``: ``global_bytes``); with
``input_bytes`` the workflow input itself is a string of N bytes. Then ``--follow``
sequential ``std.noop`` tasks run. Each rep runs the workflow with the following tasks
and without them; what is reported is the difference divided by ``--follow``: wall
time, process CPU time, bytes written (``bytes_written``: what the process passed to
write(), SQLite's WAL included; ``row_bytes``: the values of the INSERT/UPDATE
statements, by table) **per following task**, and the bytes of one executor request.
Cost independent of the context means flat columns.

Mode ``executor`` sets ``[engine] pure_actions_per_step = 0`` (every action goes to the
executor, one engine step per result); ``folded`` is the default (std.noop runs inside
the engine step). In-process (engine, executor and SQLite in this process, see
``inproc.py``); ``--url`` is accepted and ignored (the REST variant is ``fam_context``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from inproc import (  # noqa: E402
    Harness,
    common_arguments,
    emit,
    environment,
    median,
    quiet_logs,
)

BIG = {  # how task ``big`` builds its value from the input ``n``
    "context_keys": "dict(range($.n).select([concat('k', str($)), concat('value ', str($))]))",
    "context_bytes": "'x' * $.n",
    "global_bytes": "'x' * $.n",
}


def inputs(workload: str, n: int) -> dict[str, Any]:
    """The workflow input of one size: ``n``, or for ``input_bytes`` a string of n bytes."""
    return {"blob": "x" * n} if workload == "input_bytes" else {"n": n}


def definition(name: str, workload: str, follow: int) -> str:
    """``big`` publishes the large value (or, for ``input_bytes``, its length), then
    ``follow`` sequential noop tasks."""
    if workload == "input_bytes":
        head = ["  input: [blob]", "  output:", "    size: <% $.size %>"]
        publish = ["      publish:", "        size: <% len($.blob) %>"]
    else:
        head = ["  input: [n]", "  output:", "    size: <% len($.big) %>"]
        publish = ["      publish:", f"        big: <% {BIG[workload]} %>"]
    nxt = ["      on-success: [t0]"] if follow else []
    if workload == "global_bytes":  # Mistral's advanced publish, to the global context
        publish = []
        nxt = ["      on-success:", "        publish:", "          global:",
               f"            big: <% {BIG[workload]} %>"] + (["        next: [t0]"]
                                                             if follow else [])
    lines = ["---", "version: '2.0'", f"{name}:", *head, "  tasks:", "    big:",
             "      action: std.noop", *publish, *nxt]
    for i in range(follow):
        lines += [f"    t{i}:", "      action: std.noop"]
        if i + 1 < follow:
            lines.append(f"      on-success: [t{i + 1}]")
    return "\n".join(lines) + "\n"


class MessageBytes:
    """Counts the JSON bytes the engine sends to executors (requests, per action)."""

    def __init__(self, transport: Any) -> None:
        self.bytes = 0
        self.count = 0
        inner = transport.send_to_executor

        def send(request: Any, target: str | None = None) -> None:
            self.bytes += len(json.dumps(request, default=str))
            self.count += 1
            inner(request, target)

        transport.send_to_executor = send


def measure_point(h: Harness, sent: MessageBytes, workload: str, n: int, follow: int,
                  reps: int) -> dict[str, Any]:
    """Per-following-task cost of one size (medians of ``reps`` paired runs)."""
    names = {k: f"fam_{workload}_f{k}" for k in (0, follow)}
    walls, cpus, writes, params, files, requests = [], [], [], [], [], []
    inp = inputs(workload, n)
    tables: dict[str, list[float]] = {}
    for _ in range(reps):
        samples = {}
        for k, name in names.items():
            b0, c0 = sent.bytes, sent.count
            s = h.measure(lambda name=name: h.run(name, inp))
            samples[k] = (s, sent.bytes - b0, sent.count - c0)
        (alone, ab, ac), (full, fb, fc) = samples[0], samples[follow]
        walls.append((full.wall - alone.wall) / follow)
        cpus.append((full.cpu - alone.cpu) / follow)
        writes.append((full.io_bytes - alone.io_bytes) / follow)
        params.append((full.bytes_written - alone.bytes_written) / follow)
        files.append((full.file_bytes - alone.file_bytes) / follow)
        requests.append((fb - ab) / max(1, fc - ac))
        for table in set(full.by_table) | set(alone.by_table):
            delta = full.by_table.get(table, 0) - alone.by_table.get(table, 0)
            tables.setdefault(table, []).append(delta / follow)
    return {"workload": workload, "parameter": n, "follow": follow, "reps": reps,
            "wall": median(walls), "cpu": median(cpus), "bytes_written": median(writes),
            "row_bytes": median(params),
            "bytes_written_by_table": {t: median(v) for t, v in sorted(tables.items())},
            "sqlite_file_growth": median(files),
            "executor_request_bytes": median(requests),
            "walls": walls, "cpus": cpus, "writes": writes}


def run_mode(mode: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every point of one mode on a fresh database."""
    h = Harness(db_url=args.db, pure_actions_per_step=0 if mode == "executor" else 1000)
    sent = MessageBytes(h.rt.engine.transport)
    out = []
    try:
        sizes = {"context_keys": args.keys, "context_bytes": args.bytes,
                 "global_bytes": args.bytes, "input_bytes": args.bytes}
        for workload, values in sizes.items():
            for k in (0, args.follow):
                h.store(definition(f"fam_{workload}_f{k}", workload, k))
            h.run(f"fam_{workload}_f{args.follow}", inputs(workload, 10))  # warm-up
            for n in values:
                point = measure_point(h, sent, workload, n, args.follow, args.reps)
                point["mode"] = mode
                out.append(point)
                print(f"# {mode} {workload} {n}: wall {point['wall'] * 1e3:.2f} ms, cpu "
                      f"{point['cpu'] * 1e3:.2f} ms, {point['bytes_written']:.0f} B written "
                      f"({point['row_bytes']:.0f} B of row values) per task",
                      file=sys.stderr, flush=True)
    finally:
        h.close()
    return out


def main() -> None:
    """Run the family and print (and store) its JSON."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--keys", default="0,200,2000,10000")
    p.add_argument("--bytes", default="0,10000,100000,1000000")
    p.add_argument("--follow", type=int, default=20)
    common_arguments(p, "small sizes, 3 tasks, 1 rep")
    args = p.parse_args()
    if args.smoke:
        args.keys, args.bytes, args.follow, args.reps = "0,2000", "0,100000", 3, 1
    args.keys = [int(x) for x in args.keys.split(",") if x]
    args.bytes = [int(x) for x in args.bytes.split(",") if x]
    with quiet_logs():
        points = [pt for mode in args.modes.split(",") if mode for pt in run_mode(mode, args)]
    emit({"family": "context", "unit": "per following task (s, bytes)",
          "environment": environment(), "points": points}, args.json)


if __name__ == "__main__":
    main()
