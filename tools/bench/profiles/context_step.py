"""CPU of one persisted engine step after a large value, single-threaded (issue 17).

    python tools/bench/profiles/context_step.py WORKLOAD N [--follow 20] [--reps 3]
        [--profile]

Runs a workflow of ``tools/bench/families/context.py`` (``context_keys``,
``context_bytes``, ``global_bytes``, ``input_bytes``) by driving
``EngineService.process`` in this thread (as ``engine_step.py`` does), every action
through the executor path, and prints the thread CPU time per step of the steps that
follow task ``big``. Deterministic enough on a loaded machine to compare two trees
(``PYTHONPATH=/other/tree``) in alternating runs.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "families"))

import context as family  # noqa: E402
from engine_step import Collect, _completion  # noqa: E402

from wfaas import expressions  # noqa: E402
from wfaas.cmd.run_cmd import store_file  # noqa: E402
from wfaas.db import migration  # noqa: E402
from wfaas.db.session import make_engine, sqlite_url  # noqa: E402
from wfaas.services.runtime import Runtime  # noqa: E402


def run(rt: Runtime, tr: Collect, inp: dict, prof: cProfile.Profile | None) -> tuple[float, int]:
    """One execution; (CPU seconds of the steps after ``big``, their number)."""
    ex = rt.start_workflow("w", input=inp)
    cpu, steps = 0.0, 0
    while tr.engine_msgs or tr.requests:
        if tr.engine_msgs:
            msgs, tr.engine_msgs = tr.engine_msgs, []
            for msg in msgs:
                rt.engine.process(msg["execution_id"], [msg["event"]])
            continue
        req, tr.requests = tr.requests[0], tr.requests[1:]
        after_big = req["task_name"] != "big"
        t0 = time.thread_time()
        if prof is not None and after_big:
            prof.enable()
        rt.engine.process(ex["id"], [_completion(req)])
        if prof is not None and after_big:
            prof.disable()
        if after_big:
            cpu += time.thread_time() - t0
            steps += 1
    return cpu, steps


def main() -> None:
    """Print the CPU per step after the large value, per rep."""
    p = argparse.ArgumentParser()
    p.add_argument("workload", choices=["context_keys", "context_bytes", "global_bytes",
                                        "input_bytes"])
    p.add_argument("n", type=int)
    p.add_argument("--follow", type=int, default=20)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--profile", action="store_true")
    a = p.parse_args()
    expressions.configure(timeout=300, max_fuel=0)
    path = os.path.join(tempfile.mkdtemp(prefix="wfaas-ctxstep-"), "wfaas.db")
    eng = make_engine(sqlite_url(path))
    migration.ensure_schema(eng)
    tr = Collect()
    rt = Runtime(eng, transport=tr, provider=object(), pure_actions_per_step=0)
    with rt.session() as s:
        store_file(s, family.definition("w", a.workload, a.follow))
    run(rt, tr, family.inputs(a.workload, 10), None)  # warm-up
    prof = cProfile.Profile() if a.profile else None
    for _ in range(a.reps):
        cpu, steps = run(rt, tr, family.inputs(a.workload, a.n), prof)
        print(f"{a.workload} n={a.n}: {steps} steps after big, "
              f"{cpu / steps * 1e3:.3f} ms cpu/step", flush=True)
    if prof is not None:
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    eng.dispose()


if __name__ == "__main__":
    main()
