"""The workloads: what each one registers, runs, checks and reports.

A workload's ``run`` returns one measurement (a dict) or raises; any exception,
including an execution that did not end SUCCESS with the expected output, makes
that rep *failed* and it is left out of the timing statistics.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from . import definitions
from .client import Client, Waiter


class CheckFailed(RuntimeError):
    """An execution ended in a state other than SUCCESS or with a wrong output."""


@dataclass
class Context:
    """What a workload gets: the client, the waiting strategy and the options."""

    client: Client
    waiter: Waiter
    verify: bool = True
    registered: set[str] = field(default_factory=set)

    def register(self, name: str, definition: str) -> None:
        """Register a workflow once per harness run (create, or update if it exists)."""
        if name not in self.registered:
            self.client.register_workflows(definition)
            self.registered.add(name)


@dataclass(frozen=True)
class Workload:
    """A named benchmark; ``params`` are its sizes, ``smoke`` the tiny sizes for CI."""

    name: str
    kind: str
    params: dict[str, int]
    smoke: dict[str, int]
    description: str
    family: str | None = None
    size_key: str | None = None

    def sizes(self, smoke: bool) -> dict[str, int]:
        """The parameters to run with."""
        return dict(self.smoke if smoke else self.params)

    def size(self, smoke: bool) -> int | None:
        """The scaling size (items, tasks or executions), for growth factors."""
        return self.sizes(smoke)[self.size_key] if self.size_key else None

    def run(self, ctx: Context, smoke: bool,
            overrides: dict[str, int] | None = None) -> dict[str, Any]:
        """Run one rep and return its measurement (``overrides`` replace known sizes)."""
        sizes = self.sizes(smoke)
        sizes.update({k: v for k, v in (overrides or {}).items() if k in sizes})
        return KINDS[self.kind](ctx, **sizes)


def _output(ex: dict[str, Any]) -> dict[str, Any]:
    if ex.get("state") != "SUCCESS":
        info = str(ex.get("state_info") or "")[:300]
        raise CheckFailed(f"execution {ex.get('id')} ended {ex.get('state')}: {info}")
    out = ex.get("output")
    if isinstance(out, str):
        out = json.loads(out) if out else {}
    return out or {}


def _expect(ex: dict[str, Any], key: str, value: Any) -> None:
    out = _output(ex)
    if out.get(key) != value:
        raise CheckFailed(f"execution {ex.get('id')}: expected output {key}={value!r}, "
                          f"got {str(out)[:200]}")


def _verify_tasks(ctx: Context, ex_id: str, names: list[str]) -> None:
    """After timing: the execution ran exactly the tasks ``names``, each SUCCESS."""
    if not ctx.verify:
        return
    tasks = ctx.client.tasks_of(ex_id)
    got = sorted(str(t.get("name")) for t in tasks)
    if got != sorted(names):
        missing = sorted(set(names) - set(got))[:5]
        raise CheckFailed(f"execution {ex_id}: expected {len(names)} tasks, got {len(got)} "
                          f"(missing e.g. {missing})")
    bad = [f"{t.get('name')}={t.get('state')}" for t in tasks if t.get("state") != "SUCCESS"]
    if bad:
        raise CheckFailed(f"execution {ex_id}: tasks not SUCCESS: {', '.join(bad[:5])}")


def _seq_names(n: int) -> list[str]:
    return [f"t{i}" for i in range(n)]


def _one(ctx: Context, workflow: str) -> tuple[float, dict[str, Any]]:
    """POST one execution and wait for it; return (seconds, final execution)."""
    t0 = time.perf_counter()
    ex_id = ctx.client.start_execution(workflow)
    ex = ctx.waiter.wait(ex_id)
    return time.perf_counter() - t0, ex


# ------------------------------------------------------------------- kinds


def run_seq_latency(ctx: Context, tasks: int, runs: int) -> dict[str, Any]:
    """``runs`` executions of a ``tasks``-long sequence, one after another."""
    name = f"bench_seq{tasks}"
    ctx.register(name, definitions.sequence(name, tasks))
    lat = []
    ex: dict[str, Any] = {}
    for _ in range(runs):
        dt, ex = _one(ctx, name)
        _output(ex)
        lat.append(dt)
    _verify_tasks(ctx, ex["id"], _seq_names(tasks))
    med = statistics.median(lat)
    return {"value": med, "unit": f"s/workflow (median of {runs})",
            "derived": {"tasks_per_s": tasks / med, "wf_per_s": 1 / med,
                        "lat_min_s": min(lat), "lat_max_s": max(lat)}}


def run_sequence(ctx: Context, tasks: int) -> dict[str, Any]:
    """One execution of a ``tasks``-long sequence."""
    name = f"bench_seq{tasks}"
    ctx.register(name, definitions.sequence(name, tasks))
    dt, ex = _one(ctx, name)
    _output(ex)
    _verify_tasks(ctx, ex["id"], _seq_names(tasks))
    return {"value": dt, "unit": "s", "derived": {"tasks_per_s": tasks / dt}}


def run_concurrent(ctx: Context, count: int, tasks: int, posters: int) -> dict[str, Any]:
    """``count`` executions of a ``tasks``-long sequence POSTed at once by ``posters``
    threads; timed from the first POST until all are SUCCESS."""
    name = f"bench_seq{tasks}"
    ctx.register(name, definitions.sequence(name, tasks))
    ids: list[str | None] = [None] * count
    t0 = time.perf_counter()

    def post(i: int) -> None:
        ids[i] = ctx.client.start_execution(name)

    with ThreadPoolExecutor(max(1, min(posters, count))) as pool:
        list(pool.map(post, range(count)))
    t_posted = time.perf_counter() - t0
    done = ctx.waiter.wait_all([i for i in ids if i is not None])
    dt = time.perf_counter() - t0
    for ex in done:
        _output(ex)
    for ex in {done[0]["id"]: done[0], done[-1]["id"]: done[-1]}.values():
        _verify_tasks(ctx, ex["id"], _seq_names(tasks))
    return {"value": dt, "unit": f"s for {count} wfs",
            "derived": {"wf_per_s": count / dt, "tasks_per_s": tasks * count / dt,
                        "post_all_s": t_posted}}


def run_with_items(ctx: Context, items: int, concurrency: int = 0) -> dict[str, Any]:
    """One with-items execution over ``items`` items (optionally with concurrency)."""
    name = f"bench_wi{items}" + (f"_c{concurrency}" if concurrency else "")
    ctx.register(name, definitions.with_items(name, items, concurrency or None))
    dt, ex = _one(ctx, name)
    _expect(ex, "n", items)
    _verify_tasks(ctx, ex["id"], ["loop", "count"])
    return {"value": dt, "unit": "s",
            "derived": {"items_per_s": items / dt, "tasks_per_s": (items + 1) / dt}}


def run_fanout(ctx: Context, width: int) -> dict[str, Any]:
    """start -> ``width`` parallel tasks -> join: all."""
    name = f"bench_fanout{width}"
    ctx.register(name, definitions.fanout_join(name, width))
    dt, ex = _one(ctx, name)
    _expect(ex, "joined", True)
    _verify_tasks(ctx, ex["id"], ["start", "final"] + [f"b{i}" for i in range(width)])
    return {"value": dt, "unit": "s", "derived": {"tasks_per_s": (width + 2) / dt}}


def run_publish(ctx: Context, tasks: int, chunk: int) -> dict[str, Any]:
    """``tasks`` sequential tasks each publishing a list grown by ``chunk`` ints."""
    name = f"bench_publish{tasks}" + (f"_x{chunk}" if chunk != 100 else "")
    ctx.register(name, definitions.publish_chain(name, tasks, chunk))
    dt, ex = _one(ctx, name)
    _expect(ex, "count", tasks * chunk)
    _verify_tasks(ctx, ex["id"], _seq_names(tasks))
    return {"value": dt, "unit": "s", "derived": {"tasks_per_s": tasks / dt}}


KINDS: dict[str, Callable[..., dict[str, Any]]] = {
    "seq_latency": run_seq_latency,
    "sequence": run_sequence,
    "concurrent": run_concurrent,
    "with_items": run_with_items,
    "fanout": run_fanout,
    "publish": run_publish,
}

# --------------------------------------------------------------- the table

_W = Workload
ALL: list[Workload] = [
    _W("seq10", "seq_latency", {"tasks": 10, "runs": 20}, {"tasks": 3, "runs": 2},
       "10 sequential std.noop tasks; 20 executions back to back, median latency"),
    _W("parallel100", "concurrent", {"count": 100, "tasks": 5, "posters": 10},
       {"count": 4, "tasks": 2, "posters": 2},
       "100 executions of a 5-task sequence POSTed at once by 10 threads",
       family="concurrent", size_key="count"),
    _W("withitems1000", "with_items", {"items": 1000}, {"items": 10},
       "with-items over range(1000) running std.echo, then publish len(result)",
       family="withitems", size_key="items"),
    _W("withitems1000_c20", "with_items", {"items": 1000, "concurrency": 20},
       {"items": 10, "concurrency": 3}, "the same with concurrency: 20"),
    _W("fanout100_join", "fanout", {"width": 100}, {"width": 5},
       "1 task -> 100 parallel std.noop -> join: all"),
    _W("publish50", "publish", {"tasks": 50, "chunk": 100}, {"tasks": 5, "chunk": 10},
       "50 sequential tasks each appending 100 ints to a published list"),
    # scaling workloads (not in the default set)
    _W("withitems_10k", "with_items", {"items": 10_000}, {"items": 20},
       "with-items over 10,000 items", family="withitems", size_key="items"),
    _W("withitems_100k", "with_items", {"items": 100_000}, {"items": 40},
       "with-items over 100,000 items", family="withitems", size_key="items"),
    _W("seq_1k", "sequence", {"tasks": 1000}, {"tasks": 10},
       "one execution of a 1,000-task sequence", family="sequence", size_key="tasks"),
    _W("seq_10k", "sequence", {"tasks": 10_000}, {"tasks": 20},
       "one execution of a 10,000-task sequence", family="sequence", size_key="tasks"),
    _W("concurrent_1k", "concurrent", {"count": 1000, "tasks": 5, "posters": 10},
       {"count": 8, "tasks": 2, "posters": 2},
       "1,000 executions of a 5-task sequence POSTed at once",
       family="concurrent", size_key="count"),
]
BY_NAME: dict[str, Workload] = {w.name: w for w in ALL}
DEFAULT = ["seq10", "parallel100", "withitems1000", "withitems1000_c20",
           "fanout100_join", "publish50"]
SCALING = ["withitems1000", "withitems_10k", "withitems_100k", "seq_1k", "seq_10k",
           "parallel100", "concurrent_1k"]
GROUPS: dict[str, list[str]] = {
    "default": DEFAULT,
    "scaling": SCALING,
    "all": [w.name for w in ALL],
}


def select(spec: str | None, smoke: bool) -> list[Workload]:
    """Resolve ``--workloads`` (names and group names, comma-separated) in order.

    Without a spec: the default set, or every workload with ``--smoke``.
    """
    names: list[str] = []
    for item in (spec or ("all" if smoke else "default")).split(","):
        item = item.strip()
        if not item:
            continue
        if item in GROUPS:
            names += GROUPS[item]
        elif item in BY_NAME:
            names.append(item)
        else:
            known = ", ".join(list(GROUPS) + list(BY_NAME))
            raise ValueError(f"unknown workload {item!r}; known: {known}")
    return [BY_NAME[n] for n in dict.fromkeys(names)]
