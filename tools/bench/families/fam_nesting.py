"""Family ``nesting``: a with-items of sub-workflows, each a chain of sub-workflows
ending in a with-items.

The root runs ``width`` sub-workflows (with-items over ``range(width)``); each starts a
chain of ``depth`` sub-workflow levels whose last level is a leaf with-items over
``items`` ``std.noop`` items. So a point starts ``1 + width * depth`` workflow executions
and ``width * items`` leaf items; the outputs are summed back up and checked
(``total = width * items``). Value: wall / (width * depth), the time per sub-workflow;
growth linear in depth and width shows as a flat value.
"""

from __future__ import annotations

from typing import Any

from fam_common import Ctx, Point, expect

MAX_DEPTH = 3


def definitions() -> str:
    """The leaf, the chain levels and one root per depth, in one document."""
    doc = ["version: '2.0'",
           "fam_nest_leaf:", "  input: [items]", "  output:", "    n: <% $.n %>",
           "  tasks:", "    loop:", "      with-items: i in <% range($.items) %>",
           "      action: std.noop", "      publish:", "        n: <% len(task(loop).result) %>"]
    child = "fam_nest_leaf"
    for level in range(1, MAX_DEPTH + 1):
        doc += [f"fam_nest_root_d{level}:", "  input: [width, items]", "  output:",
                "    total: <% $.total %>", "  tasks:", "    fan:",
                "      with-items: i in <% range($.width) %>", f"      workflow: {child}",
                "      input:", "        items: <% $.items %>", "      publish:",
                "        total: <% task(fan).result.select($.n).sum() %>"]
        if level < MAX_DEPTH:
            doc += [f"fam_nest_mid{level}:", "  input: [items]", "  output:",
                    "    n: <% $.n %>", "  tasks:", "    sub:", f"      workflow: {child}",
                    "      input:", "        items: <% $.items %>", "      publish:",
                    "        n: <% task(sub).result.n %>"]
            child = f"fam_nest_mid{level}"
    return "\n".join(doc) + "\n"


def _point(depth: int, width: int, items: int) -> Point:
    def setup(ctx: Ctx) -> None:
        ctx.register("fam_nest", definitions())

    def rep(ctx: Ctx) -> dict[str, Any]:
        dt, ex = ctx.run_wf(f"fam_nest_root_d{depth}", {"width": width, "items": items})
        expect(ex, "total", width * items)
        return {"value": dt / (width * depth), "wall_workflow_s": dt,
                "executions": 1 + width * depth}

    return Point("nesting", f"d={depth} w={width}",
                 {"depth": depth, "width": width, "items": items,
                  "executions": 1 + width * depth}, "s per sub-workflow", rep, setup)


def points(smoke: bool) -> list[Point]:
    """Depth 1-3 x width 1, 10, 50 (smoke: depth 1-2 x width 2)."""
    if smoke:
        return [_point(d, 2, 2) for d in (1, 2)]
    return [_point(d, w, 10) for d in (1, 2, 3) for w in (1, 10, 50)]
