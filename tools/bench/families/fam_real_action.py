"""Family ``real_action``: sequential tasks running actions a user really runs.

``std.sleep seconds=0``; ``std.http`` GET to a loopback HTTP server the runner starts
(``HitServer``; the server under test must be allowed to reach 127.0.0.1: wfaas and
Mistral 23 both refuse loopback by default, ``[action_std_http] denied_cidrs =`` lifts it
on both); ``std.echo`` (inside the engine step in wfaas's default configuration, on the
executor path with ``[engine] pure_actions_per_step = 0``, always on the executor in
Mistral); and ``std.noop`` for reference. The value is wall / tasks of one execution.
"""

from __future__ import annotations

from typing import Any

from fam_common import CheckFailed, Ctx, Point, output_of
from fam_seq import check_tasks, sequence

ACTIONS: dict[str, tuple[str, str]] = {  # label: (action, task input)
    "noop": ("std.noop", ""),
    "echo": ("std.echo", "{output: 1}"),
    "sleep0": ("std.sleep", "{seconds: 0}"),
    "http": ("std.http", "{url: <% $.url %>}"),
}


def _point(label: str, n: int) -> Point:
    action, action_input = ACTIONS[label]
    name = f"fam_real_{label}{n}"

    def setup(ctx: Ctx) -> None:
        if label == "http" and ctx.hits is None:
            raise CheckFailed("no loopback HTTP server (run.py starts one)")
        ctx.register(name, sequence(name, n, action, action_input))

    def rep(ctx: Ctx) -> dict[str, Any]:
        wf_input = {"url": ctx.hits.url} if label == "http" and ctx.hits else None
        hits0 = len(ctx.hits.hits) if ctx.hits else 0
        dt, ex = ctx.run_wf(name, wf_input)
        output_of(ex)
        if label == "http" and ctx.hits and len(ctx.hits.hits) - hits0 != n:
            raise CheckFailed(f"expected {n} requests to {ctx.hits.url}, "
                              f"got {len(ctx.hits.hits) - hits0}")
        check_tasks(ctx, ex["id"], n)
        return {"value": dt / n, "wall_workflow_s": dt}

    return Point("real_action", f"{label} x{n}", {"action": action, "tasks": n},
                 "s per task", rep, setup)


def points(smoke: bool) -> list[Point]:
    """One point per action, ``tasks`` sequential tasks each."""
    n = 3 if smoke else 20
    return [_point(label, n) for label in ACTIONS]
