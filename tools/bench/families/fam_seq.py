"""Family ``seq_n``: one execution of a sequence of ``n`` ``std.noop`` tasks (10, 100, 1000).

The value is the time per task (wall / n); the wall time is reported too. Linear growth
shows as a flat time per task.
"""

from __future__ import annotations

from typing import Any

from fam_common import CheckFailed, Ctx, Point, output_of


def sequence(name: str, n: int, action: str = "std.noop", action_input: str = "") -> str:
    """``n`` sequential tasks running ``action`` (with an optional ``input:`` block)."""
    lines = ["version: '2.0'", f"{name}:"]
    if "$.url" in action_input:
        lines.append("  input: [url]")
    lines.append("  tasks:")
    for i in range(n):
        lines += [f"    t{i}:", f"      action: {action}"]
        if action_input:
            lines.append(f"      input: {action_input}")
        if i + 1 < n:
            lines.append(f"      on-success: [t{i + 1}]")
    return "\n".join(lines) + "\n"


def check_tasks(ctx: Ctx, ex_id: str, n: int) -> None:
    """After timing: the execution ran ``n`` tasks, all SUCCESS (skipped by --no-verify)."""
    if not ctx.verify:
        return
    tasks = ctx.client.tasks_of(ex_id)
    good = [t for t in tasks if t.get("state") == "SUCCESS"]
    if len(tasks) != n or len(good) != n:
        raise CheckFailed(f"execution {ex_id}: expected {n} SUCCESS tasks, got "
                          f"{len(good)} of {len(tasks)}")


def _point(n: int) -> Point:
    name = f"fam_seq{n}"

    def setup(ctx: Ctx) -> None:
        ctx.register(name, sequence(name, n))

    def rep(ctx: Ctx) -> dict[str, Any]:
        dt, ex = ctx.run_wf(name)
        output_of(ex)
        check_tasks(ctx, ex["id"], n)
        return {"value": dt / n, "wall_workflow_s": dt}

    return Point("seq_n", f"n={n}", {"n": n}, "s per task", rep, setup)


def points(smoke: bool) -> list[Point]:
    """One point per sequence length."""
    return [_point(n) for n in ((3, 10) if smoke else (10, 100, 1000))]
