"""Events per second of the pure engine core (a script, not a test).

Usage: /work/venv/bin/python -m tests.unit.engine.bench_engine [--tasks N] [--items N]

Drives decide() directly (no persistence, no JSON round trip): every RunAction
is answered at once with ActionCompleted.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from wfaas.engine import ActionCompleted, RunAction, StartWorkflow, new_workflow_state
from wfaas.engine.core import decide
from wfaas.lang import parse_workflows
from wfaas.lang.specs import WorkflowSpec


def sequence_yaml(n: int, publish: bool = False) -> str:
    """A direct workflow of ``n`` tasks in a row."""
    lines = ["version: '2.0'", "seq:", "  tasks:"]
    for i in range(n):
        lines.append(f"    t{i}:")
        if publish:
            lines.append(f"      publish: {{v{i}: {i}}}")
        if i + 1 < n:
            lines.append(f"      on-success: t{i + 1}")
    return "\n".join(lines) + "\n"


def publish50_yaml(n: int = 50, step: int = 100) -> str:
    """``n`` tasks in a row, task i publishing a list of ``step * (i + 1)`` ints."""
    lines = ["version: '2.0'", "pub:", "  tasks:"]
    for i in range(n):
        lines += [f"    t{i}:", "      publish:", f"        l{i}: <% range({step * (i + 1)}) %>"]
        if i + 1 < n:
            lines.append(f"      on-success: t{i + 1}")
    return "\n".join(lines) + "\n"


def items_yaml(concurrency: int = 0) -> str:
    """A with-items task over ``$.items``."""
    conc = f"\n      concurrency: {concurrency}" if concurrency else ""
    return f"""version: '2.0'
wi:
  input: [items]
  tasks:
    t:
      with-items: i in <% $.items %>{conc}
      action: std.echo output=<% $.i %>
      publish:
        n: <% len(task().result) %>
"""


def drive(spec: WorkflowSpec, inp: dict[str, Any], result: Any = None) -> tuple[int, Any]:
    """Run to completion answering every action at once; return (events, final state)."""
    st = new_workflow_state("bench", spec.name)
    now = 0.0
    st, cmds = decide(spec, st, StartWorkflow(input=inp), now)
    events = 1
    queue = [c for c in cmds if isinstance(c, RunAction)]
    while queue:
        cmd = queue.pop()
        now += 0.001
        value = cmd.input.get("output") if result is None else result
        st, cmds = decide(spec, st, ActionCompleted(action_id=cmd.action_id, result=value), now)
        events += 1
        queue.extend(c for c in cmds if isinstance(c, RunAction))
    return events, st


def measure(label: str, spec: WorkflowSpec, inp: dict[str, Any]) -> float:
    """Print and return events per second for one workload."""
    t0 = time.perf_counter()
    events, st = drive(spec, inp)
    dt = time.perf_counter() - t0
    rate = events / dt
    print(f"{label}: {events} events in {dt:.3f}s = {rate:,.0f} events/s -> {st.state}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--items", type=int, default=1000)
    args = parser.parse_args()
    measure(f"sequence of {args.tasks} tasks",
            parse_workflows(sequence_yaml(args.tasks))[0], {})
    measure("publish50 (50 tasks, the last publishing 5,000 ints)",
            parse_workflows(publish50_yaml())[0], {})
    measure(f"with-items over {args.items} items",
            parse_workflows(items_yaml())[0], {"items": list(range(args.items))})
    measure(f"with-items over {args.items} items, concurrency 10",
            parse_workflows(items_yaml(10))[0], {"items": list(range(args.items))})


if __name__ == "__main__":
    main()
