"""Family ``retries``: a task failing with a retry policy, ``delay`` 0 and 1 s.

Task ``flaky`` fails N + 1 times under ``retry: {count: N, delay: D}``; ``on-error``
leads to a noop task so the workflow ends SUCCESS. After timing, the attempts are
counted through ``GET /v2/tasks/<id>/action_executions``. Two ways to fail:

* ``fail``: ``std.fail``. Value: wall / attempts. With a delay, each rep also runs the
  same N with delay 0, and ``lateness_s`` = (wall with delay - wall without) / N - delay.
* ``http``: ``std.http`` to the runner's loopback server, which answers 500 and notes
  when each attempt arrived. Value: the median gap between attempts; ``lateness_s`` and
  ``max_lateness_s`` are gap - delay (how late a delayed attempt starts).
"""

from __future__ import annotations

import statistics
from typing import Any

from fam_common import CheckFailed, Ctx, Point, output_of

ACTIONS = {"fail": ("std.fail", ""), "http": ("std.http", "{url: <% $.url %>}")}


def definition(name: str, count: int, delay: int, how: str = "fail") -> str:
    """``flaky`` fails ``count + 1`` times, then ``handled`` runs."""
    action, action_input = ACTIONS[how]
    head = f"version: '2.0'\n{name}:\n" + ("  input: [url]\n" if action_input else "")
    task = f"    flaky:\n      action: {action}\n" + (
        f"      input: {action_input}\n" if action_input else "")
    return (f"{head}  tasks:\n{task}      retry:\n        count: {count}\n"
            f"        delay: {delay}\n      on-error: [handled]\n"
            "    handled:\n      action: std.noop\n")


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


def _run(ctx: Ctx, name: str, attempts: int, wf_input: dict[str, Any] | None = None) -> float:
    dt, ex = ctx.run_wf(name, wf_input)
    output_of(ex)
    count_attempts(ctx, ex["id"], attempts)
    return dt


def _fail_point(count: int, delay: int) -> Point:
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

    return Point("retries", f"fail N={count} delay={delay}",
                 {"action": "std.fail", "retries": count, "delay": delay},
                 "s per attempt", rep, setup)


def _http_point(count: int, delay: int) -> Point:
    name = f"fam_retry_http_n{count}_d{delay}"

    def setup(ctx: Ctx) -> None:
        if ctx.hits is None:
            raise CheckFailed("no loopback HTTP server (run.py starts one)")
        ctx.register(name, definition(name, count, delay, "http"))

    def rep(ctx: Ctx) -> dict[str, Any]:
        assert ctx.hits is not None
        url = ctx.hits.url + f"/{name}/fail"
        first = len(ctx.hits.hits)
        dt = _run(ctx, name, count + 1, {"url": url})
        times = [t for t, path in ctx.hits.hits[first:] if path.endswith(f"/{name}/fail")]
        if len(times) != count + 1:
            raise CheckFailed(f"expected {count + 1} attempts at {url}, got {len(times)}")
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        return {"value": statistics.median(gaps), "wall_workflow_s": dt,
                "lateness_s": statistics.median(gaps) - delay,
                "max_lateness_s": max(gaps) - delay}

    return Point("retries", f"http N={count} delay={delay}",
                 {"action": "std.http (500)", "retries": count, "delay": delay},
                 "s between attempts", rep, setup)


def points(smoke: bool) -> list[Point]:
    """std.fail with delay 0 and 1 s; std.http answered 500, gaps measured, delay 0 and 1 s."""
    if smoke:
        return [_fail_point(2, 0), _fail_point(1, 1), _http_point(1, 1)]
    return [_fail_point(1, 0), _fail_point(10, 0), _fail_point(50, 0), _fail_point(1, 1),
            _fail_point(3, 1), _http_point(10, 0), _http_point(3, 1)]
