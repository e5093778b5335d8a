"""Instruction counts of a persisted engine step and of expression evaluations.

    valgrind --tool=callgrind --dump-before=getpgrp --callgrind-out-file=OUT.%p \\
        python tools/bench/profiles/instr_count.py steps --tasks 50 --items 50
    valgrind --tool=callgrind --dump-before=getpgrp --callgrind-out-file=OUT.%p \\
        python tools/bench/profiles/instr_count.py expr --number 200
    python tools/bench/profiles/instr_count.py report OUT.<pid> [OUT.<pid> ...]

Wall and CPU time move by +-25% on a shared machine; instruction counts under callgrind
repeat within a fraction of a percent, so they compare two trees (run one of them with
``PYTHONPATH=<other tree>``) under any load. Each measured section is fenced by
``os.getpgrp()`` calls: with ``--dump-before=getpgrp`` callgrind writes one profile
part per section (``OUT.<pid>.1``, ``.2`` ...), whose ``totals:`` line is the count.
The script prints, in order, the label of every section and what it divides by
(steps, evaluations), and ``report`` pairs them with the parts.

``steps``: the workloads of ``engine_step.py`` (in-process, one thread, a transport
that answers every action at once, ``pure_actions_per_step = 0`` so each event is a
step), one section per workload after a warm-up. ``expr``: each case of
``expr_microbench.py`` evaluated ``--number`` times after a warm-up, one section each.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tools/bench for wfbench and expr_microbench

LABELS_FILE = "instr_count.labels"


def _no_deadline() -> None:
    """Callgrind runs Python ~50x slower: keep the evaluation deadline (where the tree
    has one) out of reach, with its checks still made."""
    import inspect

    from wfaas.expressions import configure

    if "max_fuel" in inspect.signature(configure).parameters:
        configure(timeout=1e6)


_cpu = [time.process_time()]


def _fence(label: str, divisor: int, out: list[str]) -> None:
    """End the running section (callgrind dumps before getpgrp) and name it, with the
    CPU time per unit it took (ms; the second view, without callgrind)."""
    os.getpgrp()
    now = time.process_time()
    out.append(f"{label}\t{divisor}\t{(now - _cpu[0]) / divisor * 1e3:.3f}")
    _cpu[0] = now


def _detach_telemetry(rt: Any) -> None:
    """Take the metrics feed (another issue's) out of the measured steps, where the
    tree has one: what is left is the engine shell and the limits."""
    try:
        from wfaas.services import telemetry
    except ImportError:
        return
    from sqlalchemy import event

    event.remove(rt.sessions, "before_commit", telemetry._before_commit)
    event.remove(rt.sessions, "after_commit", telemetry._after_commit)
    rt.engine.listeners[:] = [x for x in rt.engine.listeners
                              if not isinstance(x, telemetry.EngineMetrics)]


def run_steps(tasks: int, items: int, telemetry: bool = True) -> list[str]:
    """The engine_step workloads, one fenced section each."""
    from engine_step import Collect, drive
    from wfbench import definitions as d

    from wfaas.cmd.run_cmd import store_file
    from wfaas.db import migration
    from wfaas.db.session import make_engine, sqlite_url
    from wfaas.services.runtime import Runtime

    path = os.path.join(tempfile.mkdtemp(prefix="wfaas-instr-"), "wfaas.db")
    eng = make_engine(sqlite_url(path))
    migration.ensure_schema(eng)
    tr = Collect()
    rt = Runtime(eng, transport=tr, provider=object(), pure_actions_per_step=0)
    _no_deadline()
    if not telemetry:
        _detach_telemetry(rt)
    seq, wi = f"bench_seq{tasks}", f"bench_wi{items}"
    with rt.session() as s:
        store_file(s, d.sequence(seq, tasks))
        store_file(s, d.with_items(wi, items))
        store_file(s, d.publish_chain("bench_publish50", 50, 100))
    drive(rt, tr, seq)  # warm-up: imports, statement caches, spec cache
    drive(rt, tr, wi, 50)
    drive(rt, tr, "bench_publish50")
    labels: list[str] = []
    _fence("setup", 1, labels)
    for label, name, batch in [(f"sequence {tasks} noop tasks", seq, 1),
                               (f"with-items {items}, 1 event/step", wi, 1),
                               (f"with-items {items}, 50 events/step", wi, 50),
                               ("publish50", "bench_publish50", 1)]:
        steps, _events, state = drive(rt, tr, name, batch)
        assert state == "SUCCESS", (label, state)
        _fence(label, steps, labels)
    eng.dispose()
    return labels


def run_expr(number: int) -> list[str]:
    """The expr_microbench cases, ``number`` evaluations per fenced section."""
    from expr_microbench import CASES, _data

    from wfaas.expressions import StaticFunctionContext, evaluate

    _no_deadline()
    data = _data()
    functions = StaticFunctionContext(task_executions=[
        {"name": "a", "state": "SUCCESS", "result": {"id": 1}}])
    for text, _n in CASES:
        for _ in range(3):
            evaluate(text, data, functions)
    labels: list[str] = []
    _fence("setup", 1, labels)
    for text, _n in CASES:
        count = max(1, number // 20) if _n <= 300 else number
        for _ in range(count):
            evaluate(text, data, functions)
        _fence(text, count, labels)
    return labels


def _totals(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"(?:totals|summary): (\d+)", line)
            if m:
                return int(m.group(1))
    raise SystemExit(f"no totals in {path}")


def report(prefixes: list[str]) -> None:
    """Instructions per divisor of every section of each run (``prefix.N`` parts)."""
    for prefix in prefixes:
        with open(prefix + "." + LABELS_FILE, encoding="utf-8") as f:
            labels = [line.rstrip("\n").split("\t")[:2] for line in f if line.strip()]
        parts = sorted(glob.glob(prefix + ".[0-9]*"), key=lambda p: int(p.rsplit(".", 1)[1]))
        print(prefix)
        for (label, divisor), part in zip(labels, parts, strict=False):
            if label == "setup":
                continue
            print(f"  {_totals(part) / int(divisor):14,.0f} instr/{'unit':4s}  {label}")


def main() -> None:
    """Run a workload (under callgrind) or report on finished runs."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["steps", "expr", "report"])
    p.add_argument("outs", nargs="*", help="report: callgrind --callgrind-out-file values")
    p.add_argument("--tasks", type=int, default=50)
    p.add_argument("--items", type=int, default=50)
    p.add_argument("--number", type=int, default=200)
    p.add_argument("--labels", default="", help="where to write the section labels")
    p.add_argument("--no-telemetry", action="store_true",
                   help="steps: detach the metrics feed (wfaas/services/telemetry.py)")
    a = p.parse_args()
    if a.mode == "report":
        report(a.outs)
        return
    labels = (run_steps(a.tasks, a.items, not a.no_telemetry) if a.mode == "steps"
              else run_expr(a.number))
    text = "\n".join(labels) + "\n"
    if a.labels:
        with open(a.labels, "w", encoding="utf-8") as f:
            f.write(text)
    print(text, end="")


if __name__ == "__main__":
    main()
