"""Cost of one persisted engine step, single-threaded and deterministic.

    /work/venv/bin/python tools/bench/profiles/engine_step.py [--tasks 1000] [--items 1000]
        [--profile] [--top 30]

Drives ``EngineService.process`` (load version -> decide -> persist -> commit -> dispatch)
directly in this thread on a temporary SQLite file, with a transport that only
collects the action requests, and answers every action at once. No executor, API or
thread switches are involved, so the numbers are the shell's own CPU cost per step.

Workloads: a sequence of ``--tasks`` noop tasks (2 steps per task: the action result
and nothing else), a with-items over ``--items`` items answered one event per step, the
same answered in batches of 50 events per step, and publish50.
``--profile`` prints the cProfile top functions (by internal time) of each workload.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tools/bench for wfbench

from wfbench import definitions as d  # noqa: E402

from wfaas.cmd.run_cmd import store_file  # noqa: E402
from wfaas.db import migration  # noqa: E402
from wfaas.db.session import make_engine, sqlite_url  # noqa: E402
from wfaas.rpc.base import Handler, Message, Transport  # noqa: E402
from wfaas.services.runtime import Runtime  # noqa: E402


class Collect(Transport):
    """Keeps what the engine sends; nothing is delivered by threads."""

    def __init__(self) -> None:
        self.requests: list[Message] = []
        self.engine_msgs: list[Message] = []

    def send_to_engine(self, message: Message) -> None:
        self.engine_msgs.append(message)

    def send_to_executor(self, request: Message, target: str | None = None) -> None:
        self.requests.append(request)

    def serve_engine(self, handler: Handler) -> None:
        pass

    def serve_executor(self, handler: Handler, group: str = "") -> None:
        pass


def _completion(req: Message) -> dict[str, Any]:
    inp = req.get("input") or {}
    return {"kind": "action_completed", "action_id": req["action_id"], "state": "SUCCESS",
            "result": inp.get("output"), "state_info": None}


def drive(rt: Runtime, tr: Collect, name: str, batch: int = 1) -> tuple[int, int, str]:
    """Run one execution to the end; returns (steps, events, final state)."""
    ex = rt.start_workflow(name)
    ex_id = ex["id"]
    steps = events = 0
    while tr.engine_msgs or tr.requests:
        if tr.engine_msgs:
            msgs, tr.engine_msgs = tr.engine_msgs, []
            for msg in msgs:
                rt.engine.process(msg["execution_id"], [msg["event"]])
                steps += 1
                events += 1
            continue
        reqs, tr.requests = tr.requests[:batch], tr.requests[batch:]
        rt.engine.process(ex_id, [_completion(r) for r in reqs])
        steps += 1
        events += len(reqs)
    with rt.session() as s:
        from wfaas.db import models as m

        state = s.get(m.WorkflowExecution, ex_id).state
    return steps, events, state


def main() -> None:
    """Print steps/s and events/s of each workload."""
    p = argparse.ArgumentParser()
    p.add_argument("--tasks", type=int, default=1000)
    p.add_argument("--items", type=int, default=1000)
    p.add_argument("--profile", action="store_true")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--only", default="", help="comma list of workload labels to run")
    a = p.parse_args()
    path = os.path.join(tempfile.mkdtemp(prefix="wfaas-step-"), "wfaas.db")
    eng = make_engine(sqlite_url(path))
    migration.ensure_schema(eng)
    tr = Collect()
    rt = Runtime(eng, transport=tr, provider=object())
    names = {"seq": f"bench_seq{a.tasks}", "wi": f"bench_wi{a.items}",
             "pub": "bench_publish50"}
    with rt.session() as s:
        store_file(s, d.sequence(names["seq"], a.tasks))
        store_file(s, d.with_items(names["wi"], a.items))
        store_file(s, d.publish_chain(names["pub"], 50, 100))
    plan = [(f"sequence {a.tasks} tasks", names["seq"], 1),
            (f"with-items {a.items}, 1 event/step", names["wi"], 1),
            (f"with-items {a.items}, 50 events/step", names["wi"], 50),
            ("publish50", names["pub"], 1)]
    only = [o for o in a.only.split(",") if o]
    print(f"load average {os.getloadavg()[0]:.2f}; db {path}")
    drive(rt, tr, names["seq"])  # warm up (imports, statement caches)
    for label, name, batch in plan:
        if only and not any(o in label for o in only):
            continue
        prof = cProfile.Profile() if a.profile else None
        c0, t0 = time.process_time(), time.perf_counter()
        if prof:
            prof.enable()
        steps, events, state = drive(rt, tr, name, batch)
        if prof:
            prof.disable()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"{label:34s} {state}: {steps} steps, {events} events, wall {wall:.3f}s, "
              f"cpu {cpu:.3f}s = {cpu / steps * 1e3:.3f} ms cpu/step, "
              f"{events / cpu:,.0f} events/s cpu", flush=True)
        if prof:
            pstats.Stats(prof).sort_stats("tottime").print_stats(a.top)
    eng.dispose()


if __name__ == "__main__":
    main()
