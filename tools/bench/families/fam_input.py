#!/usr/bin/env python3
"""Scaling family ``input``: what a small task costs when the execution's input or env is large.

    python tools/bench/families/fam_input.py [--bytes 0,100000,1000000] [--follow 20]
        [--reps 3] [--modes executor,folded] [--db URL] [--json FILE]

Workload ``input_bytes``: the workflow input is a string of N bytes (the workflow of
``context.py``); ``env_bytes``: the execution is started with ``params: {env: {blob:
<N bytes>}}`` and task ``big`` publishes ``len(env().blob)``. Then ``--follow``
sequential ``std.noop`` tasks run; the columns are those of ``context.py`` (per
following task: wall, process CPU, bytes passed to write(), row values written by
table, SQLite file growth, bytes of one executor request). Flat columns: a large
input or env costs nothing per step.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from context import MessageBytes, definition, measure_point  # noqa: E402
from inproc import Harness, common_arguments, emit, environment, quiet_logs  # noqa: E402

ENV_KEY = "__env_blob__"  # an input key this harness turns into the execution's env


def env_definition(name: str, follow: int) -> str:
    """``big`` publishes the size of ``env().blob``, then ``follow`` sequential noops."""
    lines = ["---", "version: '2.0'", f"{name}:", "  output:", "    size: <% $.size %>",
             "  tasks:", "    big:", "      action: std.noop", "      publish:",
             "        size: <% len(env().get(blob, '')) %>"]
    if follow:
        lines.append("      on-success: [t0]")
    for i in range(follow):
        lines += [f"    t{i}:", "      action: std.noop"]
        if i + 1 < follow:
            lines.append(f"      on-success: [t{i + 1}]")
    return "\n".join(lines) + "\n"


class EnvHarness(Harness):
    """A harness whose ``run`` starts with ``params.env`` when the input asks for it."""

    def run(self, name: str, inp: dict[str, Any], timeout: float = 600.0) -> dict[str, Any]:
        """Like :meth:`Harness.run`; an input ``{ENV_KEY: s}`` becomes ``env: {blob: s}``."""
        if ENV_KEY not in inp:
            return super().run(name, inp, timeout)
        start = self.rt.start_workflow
        blob = inp[ENV_KEY]

        def with_env(identifier: str, **kwargs: Any) -> dict[str, Any]:
            kwargs["input"] = {}
            kwargs["params"] = {"env": {"blob": blob}}
            return start(identifier, **kwargs)

        self.rt.start_workflow = with_env  # type: ignore[method-assign]
        try:
            return super().run(name, inp, timeout)
        finally:
            del self.rt.start_workflow


def run_mode(mode: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every point of one mode on a fresh database."""
    h = EnvHarness(db_url=args.db, pure_actions_per_step=0 if mode == "executor" else 1000)
    sent = MessageBytes(h.rt.engine.transport)
    out = []
    try:
        for k in (0, args.follow):
            h.store(definition(f"fam_input_bytes_f{k}", "input_bytes", k))
            h.store(env_definition(f"fam_env_bytes_f{k}", k))
        for workload in ("input_bytes", "env_bytes"):
            h.run(f"fam_{workload}_f{args.follow}", {"blob": "x"} if workload == "input_bytes"
                  else {ENV_KEY: "x"})  # warm-up
            for n in args.bytes:
                point = _point(h, sent, workload, n, args)
                point["mode"] = mode
                out.append(point)
                print(f"# {mode} {workload} {n}: cpu {point['cpu'] * 1e3:.2f} ms, "
                      f"{point['bytes_written']:.0f} B written ({point['row_bytes']:.0f} B "
                      f"of row values) per task", file=sys.stderr, flush=True)
    finally:
        h.close()
    return out


def _point(h: Harness, sent: MessageBytes, workload: str, n: int,
           args: argparse.Namespace) -> dict[str, Any]:
    if workload == "input_bytes":
        return measure_point(h, sent, workload, n, args.follow, args.reps)
    import context

    inputs = context.inputs
    context.inputs = lambda _w, size: {ENV_KEY: "x" * size}  # type: ignore[assignment]
    try:
        return measure_point(h, sent, workload, n, args.follow, args.reps)
    finally:
        context.inputs = inputs


def main() -> None:
    """Run the family and print (and store) its JSON."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bytes", default="0,100000,1000000")
    p.add_argument("--follow", type=int, default=20)
    common_arguments(p, "small sizes, 3 tasks, 1 rep")
    args = p.parse_args()
    if args.smoke:
        args.bytes, args.follow, args.reps = "0,100000", 3, 1
    args.bytes = [int(x) for x in args.bytes.split(",") if x]
    with quiet_logs():
        points = [pt for mode in args.modes.split(",") if mode for pt in run_mode(mode, args)]
    emit({"family": "input", "unit": "per following task (s, bytes)",
          "environment": environment(), "points": points}, args.json)


if __name__ == "__main__":
    main()
