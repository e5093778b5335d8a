#!/usr/bin/env python3
"""A timed loop of list requests over HTTP: ``GET /v2/executions?limit=L``, G times.

    python3 tools/bench/families/list_loop.py --url http://127.0.0.1:8989 [--pid PID]
        [--rows 1000] [--limit 1000,100] [--gets 20] [--json FILE]

Fills the server up to ``--rows`` executions of a one-task workflow (as the ``listing``
family does; rows already there count), then for each limit sends ``--gets`` requests,
one after the other on a fresh connection each, and reports the median and minimum of
the wall time until the last byte and, with ``--pid``, the server's mean CPU time per
request over the loop (utime + stime from /proc, in 10 ms clock ticks: what an answer
costs the server, much less sensitive than the wall time to other load on the machine).
Also usable as a family script: ``run.py --family tools/bench/families/list_loop.py``.
Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from fam_common import Ctx, cpu_seconds  # noqa: E402
from fam_listing import fill  # noqa: E402
from wfbench import sampler  # noqa: E402
from wfbench.client import Client, make_waiter  # noqa: E402


def loop(ctx: Ctx, limit: int, gets: int) -> dict[str, Any]:
    """``gets`` timed requests of ``limit`` rows: median/min wall and server CPU, in s."""
    walls: list[float] = []
    rows = 0
    c0 = cpu_seconds(ctx.pids)
    for _ in range(gets):
        dt, body = ctx.timed_get(f"/executions?limit={limit}")
        walls.append(dt)
        rows = len(body.get("executions", []))
    c1 = cpu_seconds(ctx.pids)
    res: dict[str, Any] = {"name": f"limit={limit} x{gets}", "unit": "s per request",
                           "status": "ok", "rows": rows, "median": statistics.median(walls),
                           "min": min(walls), "max": max(walls)}
    if c0 is not None and c1 is not None:  # clock ticks (10 ms): the mean over the loop
        res["extra"] = {"server_cpu_mean_s": (c1 - c0) / gets}
    return res


def main(argv: list[str] | None = None) -> int:
    """Fill, loop, print (or write) the JSON."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8989")
    p.add_argument("--pid", type=int)
    p.add_argument("--rows", type=int, default=1000)
    p.add_argument("--limit", default="1000,100")
    p.add_argument("--gets", type=int, default=20)
    p.add_argument("--json", default="-")
    a = p.parse_args(argv)
    client = Client(a.url)
    ctx = Ctx(client, make_waiter("poll", client, 0.005, 1800.0),
              pids=sampler.process_tree(a.pid) if a.pid else [])
    have = len(client.list_all("/executions?fields=id", "executions"))
    ctx.state["listing_created"] = have
    fill(ctx, a.rows)
    points = [loop(ctx, int(limit), a.gets) for limit in a.limit.split(",")]
    doc = {"url": a.url, "rows_before": have, "rows": max(have, a.rows), "gets": a.gets,
           "loadavg": os.getloadavg()[0], "points": points}
    text = json.dumps(doc, indent=1)
    if a.json == "-":
        print(text)
    else:
        with open(a.json, "w") as fh:
            fh.write(text + "\n")
    for pt in points:
        cpu = pt.get("extra", {}).get("server_cpu_mean_s")
        print(f"{pt['name']}: {pt['rows']} rows, wall median {pt['median'] * 1e3:.1f} ms, "
              f"min {pt['min'] * 1e3:.1f} ms" + (f", server CPU mean {cpu * 1e3:.1f} ms"
                                                 if cpu is not None else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
