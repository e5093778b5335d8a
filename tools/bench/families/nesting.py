#!/usr/bin/env python3
"""Scaling family ``nesting``: what a sub-workflow costs, over the width and depth of a tree.

    python tools/bench/families/nesting.py [--widths 10,50,200] [--tree 5x1,5x2,5x3,10x2]
        [--reps 3] [--modes executor,folded] [--db URL] [--json FILE]

Workloads (in-process, see ``inproc.py``; ``--url`` is accepted and ignored):

- ``subworkflows`` (parameter W): a with-items over W items whose task runs the
  sub-workflow ``nest_leaf`` (one ``std.noop`` task): W workflow executions;
- ``actions`` (parameter W): the same with-items running ``std.noop`` itself: W
  action executions, the yardstick "what a task costs";
- ``tree`` (parameter WxD): a with-items of W sub-workflows, each a with-items of W
  sub-workflows ... D levels deep, the last level a with-items of W ``std.noop``
  actions: 1 + W + ... + W^D workflow executions and W^(D+1) actions.

Each point reports wall, process CPU and bytes written (``bytes_written``: what the
process passed to write(), SQLite's WAL included; ``row_bytes``: INSERT/UPDATE values)
for the whole run and per unit (``per_unit``: per sub-workflow, per action, or per
execution + action of the tree). Linear scaling means flat per-unit columns;
``start_vs_task`` (per ``subworkflows`` point) is the CPU of one sub-workflow divided by
the CPU of one action of the same width.
"""

from __future__ import annotations

import argparse
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

LEAF = """---
version: '2.0'
nest_leaf:
  tasks:
    t:
      action: std.noop
"""


def fan(name: str, width: int, target: str) -> str:
    """A with-items over ``width`` items running ``target`` (``std.noop`` or a workflow)."""
    run = "action: std.noop" if target == "std.noop" else f"workflow: {target}"
    return (f"---\nversion: '2.0'\n{name}:\n  tasks:\n    fan:\n"
            f"      with-items: i in <% range({width}) %>\n      {run}\n")


def tree_definitions(width: int, depth: int) -> list[str]:
    """``nest_t{W}x{D}_0`` (W actions) up to ``nest_t{W}x{D}_{D}`` (the root)."""
    names = [f"nest_t{width}x{depth}_{k}" for k in range(depth + 1)]
    docs = [fan(names[0], width, "std.noop")]
    docs += [fan(names[k], width, names[k - 1]) for k in range(1, depth + 1)]
    return docs


def measure(h: Harness, name: str, reps: int, units: int) -> dict[str, Any]:
    """Medians of ``reps`` runs of ``name``, totals and per unit."""
    samples = [h.measure(lambda: h.run(name, {})) for _ in range(reps)]
    wall = median([s.wall for s in samples])
    cpu = median([s.cpu for s in samples])
    io = median([float(s.io_bytes) for s in samples])
    rows = median([float(s.bytes_written) for s in samples])
    return {"reps": reps, "units": units, "wall": wall, "cpu": cpu, "bytes_written": io,
            "row_bytes": rows, "cpus": [s.cpu for s in samples],
            "per_unit": {"wall": wall / units, "cpu": cpu / units,
                         "bytes_written": io / units, "row_bytes": rows / units}}


def run_mode(mode: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every point of one mode on a fresh database."""
    h = Harness(db_url=args.db, pure_actions_per_step=0 if mode == "executor" else 1000)
    out: list[dict[str, Any]] = []
    try:
        h.store(LEAF)
        for w in args.widths:
            h.store(fan(f"nest_subs{w}", w, "nest_leaf"))
            h.store(fan(f"nest_acts{w}", w, "std.noop"))
        for w, d in args.tree:
            for doc in tree_definitions(w, d):
                h.store(doc)
        h.run(f"nest_subs{args.widths[0]}", {})  # warm-up
        for w in args.widths:
            subs = measure(h, f"nest_subs{w}", args.reps, w)
            acts = measure(h, f"nest_acts{w}", args.reps, w)
            subs["start_vs_task"] = subs["per_unit"]["cpu"] / max(1e-9, acts["per_unit"]["cpu"])
            out.append({"workload": "subworkflows", "parameter": w, "mode": mode, **subs})
            out.append({"workload": "actions", "parameter": w, "mode": mode, **acts})
            _log(mode, "subworkflows", w, subs)
            _log(mode, "actions", w, acts)
        for w, d in args.tree:
            executions = sum(w ** k for k in range(d + 1))
            point = measure(h, f"nest_t{w}x{d}_{d}", args.reps, executions + w ** (d + 1))
            point.update(workload="tree", parameter=f"{w}x{d}", width=w, depth=d, mode=mode,
                         executions=executions, actions=w ** (d + 1))
            out.append(point)
            _log(mode, "tree", f"{w}x{d}", point)
    finally:
        h.close()
    return out


def _log(mode: str, workload: str, param: Any, point: dict[str, Any]) -> None:
    unit = point["per_unit"]
    print(f"# {mode} {workload} {param}: {point['cpu']:.3f} s cpu, {point['wall']:.3f} s wall; "
          f"per unit {unit['cpu'] * 1e3:.2f} ms cpu, {unit['bytes_written']:.0f} B written",
          file=sys.stderr, flush=True)


def main() -> None:
    """Run the family and print (and store) its JSON."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--widths", default="10,50,200")
    p.add_argument("--tree", default="5x1,5x2,5x3,10x2")
    common_arguments(p, "small sizes, 1 rep")
    args = p.parse_args()
    if args.smoke:
        args.widths, args.tree, args.reps = "5", "3x2", 1
    args.widths = [int(x) for x in args.widths.split(",") if x]
    args.tree = [tuple(int(v) for v in x.split("x")) for x in args.tree.split(",") if x]
    with quiet_logs():
        points = [pt for mode in args.modes.split(",") if mode for pt in run_mode(mode, args)]
    emit({"family": "nesting", "unit": "whole run and per_unit (s, bytes)",
          "environment": environment(), "points": points}, args.json)


if __name__ == "__main__":
    main()
