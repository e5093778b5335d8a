"""Family ``retries``: a task failing with a retry policy, ``delay`` 0 and 1 s.

Task ``flaky`` runs ``std.fail`` with ``retry: {count: N, delay: D}`` (N + 1 attempts,
all failing); ``on-error`` leads to a noop task so the workflow ends SUCCESS. After
timing, the attempts are counted through ``GET /v2/tasks/<id>/action_executions``.
Value: wall / attempts. For ``delay`` 1 s each rep also runs the same N with delay 0,
and ``lateness_s`` = (wall with delay - wall without) / N - delay: how late a delayed
attempt starts on average.
"""

from __future__ import annotations

from typing import Any

from fam_common import CheckFailed, Ctx, Point, output_of


def definition(name: str, count: int, delay: int) -> str:
    """``flaky`` fails ``count + 1`` times, then ``handled`` runs."""
    return (f"version: '2.0'\n{name}:\n  tasks:\n    flaky:\n      action: std.fail\n"
            f"      retry:\n        count: {count}\n        delay: {delay}\n"
            "      on-error: [handled]\n    handled:\n      action: std.noop\n")


def count_attempts(ctx: Ctx, ex_id: str, expected: int) -> None:
    """After timing: task ``flaky`` has ``expected`` action executions, all ERROR."""
    if not ctx.verify:
        return
    flaky = [t for t in ctx.client.tasks_of(ex_id) if t.get("name") == "flaky"]
    if len(flaky) != 1:
        raise CheckFailed(f"execution {ex_id}: expected one task 'flaky', got {len(flaky)}")
    actions = ctx.client.list_all(f"/tasks/{flaky[0]['id']}/action_executions",
                                  "action_executions")
    errors = [a for a in actions if a.get("state") == "ERROR"]
    if len(actions) != expected or len(errors) != expected:
        raise CheckFailed(f"task flaky of {ex_id}: expected {expected} failed attempts, got "
                          f"{len(errors)} of {len(actions)}")


def _run(ctx: Ctx, name: str, attempts: int) -> float:
    dt, ex = ctx.run_wf(name)
    output_of(ex)
    count_attempts(ctx, ex["id"], attempts)
    return dt


def _point(count: int, delay: int) -> Point:
    name, base = f"fam_retry_n{count}_d{delay}", f"fam_retry_n{count}_d0"

    def setup(ctx: Ctx) -> None:
        ctx.register(name, definition(name, count, delay))
        ctx.register(base, definition(base, count, 0))

    def rep(ctx: Ctx) -> dict[str, Any]:
        dt = _run(ctx, name, count + 1)
        out: dict[str, Any] = {"value": dt / (count + 1), "wall_workflow_s": dt}
        if delay:
            dt0 = _run(ctx, base, count + 1)
            out["wall_delay0_s"] = dt0
            out["lateness_s"] = (dt - dt0) / count - delay
        return out

    return Point("retries", f"N={count} delay={delay}", {"retries": count, "delay": delay},
                 "s per attempt", rep, setup)


def points(smoke: bool) -> list[Point]:
    """Retry counts with delay 0, and a few with delay 1 s."""
    if smoke:
        return [_point(2, 0), _point(1, 1)]
    return [_point(1, 0), _point(10, 0), _point(50, 0), _point(1, 1), _point(3, 1)]
