"""The task graph of a workflow, optionally overlaid with one execution's tasks.

:func:`build_graph` turns a :class:`~wfaas.lang.specs.WorkflowSpec` (and the
task executions of a run) into a :class:`Graph`; :func:`layout` places it on a
grid of layers (longest-path layering, dummy nodes for long edges, barycentre
ordering, loops set aside as back edges). The renderers in
:mod:`wfaas.client.graph_render` draw a laid-out graph as text, SVG, PNG or DOT.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wfaas.lang.specs import OnClause, WorkflowSpec
from wfaas.utils.states import TERMINAL

EVENTS = ("on-success", "on-error", "on-complete", "on-skip")


@dataclass
class Node:
    """A task (or a dummy point of a long edge when ``dummy``)."""

    name: str
    label: str = ""              # action or sub-workflow name
    state: str | None = None     # state of the latest run; None: not run (or no execution)
    detail: str = ""             # duration, items, error
    runs: int = 0
    commands: list[str] = field(default_factory=list)   # engine commands (fail, succeed...)
    error: str = ""              # first line of the latest run's error
    dummy: bool = False
    layer: int = 0
    slot: int = 0
    x: float = 0.0               # horizontal position in slot widths (0 = leftmost)


@dataclass
class Edge:
    """A transition ``source -> target`` on ``event``; ``taken`` when the run followed it."""

    source: str
    target: str
    event: str = "on-success"
    conditional: bool = False
    taken: bool = False
    back: bool = False
    path: list[str] = field(default_factory=list)   # source, dummy nodes..., target


@dataclass
class Graph:
    """Nodes and edges of one workflow; ``execution`` is set for a run overlay."""

    workflow: str
    nodes: dict[str, Node]
    edges: list[Edge]
    execution: dict[str, Any] | None = None
    layers: list[list[str]] = field(default_factory=list)

    @property
    def has_run(self) -> bool:
        """True when the graph shows an execution."""
        return self.execution is not None

    def task_nodes(self) -> list[Node]:
        """The real task nodes, in definition order."""
        return [n for n in self.nodes.values() if not n.dummy]


def parse_time(text: Any) -> datetime | None:
    """A server timestamp (``YYYY-MM-DD HH:MM:SS[.ffffff]``, ISO too) or None."""
    if not text or not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def duration(task: dict[str, Any]) -> float | None:
    """Seconds between ``started_at`` (or ``created_at``) and ``finished_at``/``updated_at``."""
    start = parse_time(task.get("started_at")) or parse_time(task.get("created_at"))
    end = parse_time(task.get("finished_at"))
    if end is None and task.get("state") in TERMINAL:
        end = parse_time(task.get("updated_at"))
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def format_duration(seconds: float | None) -> str:
    """``0.12s``, ``3.4s``, ``2m05s``, ``1h02m``; empty for None."""
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
    return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"


def precise(task: dict[str, Any]) -> bool:
    """True when the task's timestamps carry fractions of a second."""
    return "." in str(task.get("finished_at") or task.get("updated_at") or "")


def task_duration_text(task: dict[str, Any]) -> str:
    """The task's run time; ``<1s`` / ``~3s`` when the server gives whole seconds only."""
    seconds = duration(task)
    if seconds is None:
        return ""
    if precise(task):
        return format_duration(seconds)
    return "<1s" if seconds < 1 else f"~{seconds:.0f}s"


def items_text(task: dict[str, Any]) -> str:
    """With-items progress of a task execution, ``3/5 items`` (empty for other tasks).

    Reads wfaas's ``runtime_context.wi`` (done = succeeded + failed + cancelled) and
    Mistral's ``runtime_context.with_items`` (count only)."""
    ctx = task.get("runtime_context")
    if isinstance(ctx, str):
        try:
            ctx = json.loads(ctx)
        except ValueError:
            return ""
    if not isinstance(ctx, dict):
        return ""
    wi = ctx.get("wi")
    if isinstance(wi, dict) and isinstance(wi.get("count"), int):
        done = sum(int(wi.get(k) or 0) for k in ("ok", "err", "cancel"))
        return f"{done}/{wi['count']} items"
    legacy = ctx.get("with_items")
    if isinstance(legacy, dict) and isinstance(legacy.get("count"), int):
        return f"{legacy['count']} items"
    return ""


def _clauses(task: Any) -> Iterable[tuple[str, OnClause | None]]:
    return (("on-success", task.on_success), ("on-error", task.on_error),
            ("on-complete", task.on_complete), ("on-skip", task.on_skip))


def _spec_edges(spec: WorkflowSpec, nodes: dict[str, Node]) -> list[Edge]:
    edges: list[Edge] = []
    for name, task in spec.tasks.items():
        if spec.type == "reverse":
            edges.extend(Edge(req, name, "requires") for req in task.requires if req in nodes)
            continue
        for event, clause in _clauses(task):
            for tr in clause.next if clause else ():
                if tr.is_command:
                    nodes[name].commands.append(f"{event} -> {tr.target}")
                elif tr.target in nodes:
                    edges.append(Edge(name, tr.target, event, tr.condition is not None))
    return edges


def _latest(tasks: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for task in sorted(tasks, key=lambda t: str(t.get("created_at") or "")):
        latest[str(task.get("name"))] = task
    return latest


def _event_matches(event: str, state: str | None) -> bool:
    return {"on-success": state == "SUCCESS", "on-error": state == "ERROR",
            "on-skip": state == "SKIPPED", "requires": state == "SUCCESS"}.get(
        event, state in TERMINAL)


def _overlay(graph: Graph, tasks: Sequence[dict[str, Any]]) -> None:
    by_id = {str(t.get("id")): str(t.get("name")) for t in tasks}
    triggered: set[tuple[str, str, str]] = set()
    has_trigger_info = False
    for task in tasks:
        ctx = task.get("runtime_context")
        if isinstance(ctx, str):
            try:
                ctx = json.loads(ctx)
            except ValueError:
                ctx = None
        for trig in (ctx.get("triggered_by") or []) if isinstance(ctx, dict) else []:
            has_trigger_info = True
            source = by_id.get(str(trig.get("task_id")))
            if source:
                triggered.add((source, str(task.get("name")), str(trig.get("event"))))
    for name, task in _latest(tasks).items():
        node = graph.nodes.get(name)
        if node is None:
            continue
        node.state = str(task.get("state") or "")
        node.runs = sum(1 for t in tasks if t.get("name") == name)
        node.detail = " ".join(x for x in (task_duration_text(task), items_text(task)) if x)
        if node.state == "ERROR" and task.get("state_info"):
            node.error = str(task["state_info"]).strip().splitlines()[0]
            node.detail = f"{node.detail} {node.error}".strip()
    for edge in graph.edges:
        src, dst = graph.nodes[edge.source], graph.nodes[edge.target]
        if (edge.source, edge.target, edge.event) in triggered:
            edge.taken = True
        elif not has_trigger_info or edge.event == "requires":
            edge.taken = dst.state is not None and _event_matches(edge.event, src.state)


def build_graph(spec: WorkflowSpec, tasks: Sequence[dict[str, Any]] | None = None,
                execution: dict[str, Any] | None = None) -> Graph:
    """The graph of ``spec``; with ``tasks`` (task executions) the run is overlaid."""
    nodes: dict[str, Node] = {}
    for name, task in spec.tasks.items():
        label = task.workflow or task.action or "std.noop"
        if task.with_items is not None:
            label += " [with-items]"
        nodes[name] = Node(name, label)
    graph = Graph(spec.name, nodes, _spec_edges(spec, nodes), execution)
    if tasks is not None:
        graph.execution = execution or {}
        _overlay(graph, tasks)
    layout(graph)
    return graph


# -- layout --------------------------------------------------------------------------------

def _mark_back_edges(graph: Graph) -> None:
    out: dict[str, list[Edge]] = {n: [] for n in graph.nodes}
    incoming = {e.target for e in graph.edges}
    for e in graph.edges:
        out[e.source].append(e)
    colour: dict[str, int] = {}   # 1 on stack, 2 done
    roots = [n for n in graph.nodes if n not in incoming] + list(graph.nodes)
    for root in roots:
        if root in colour:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        colour[root] = 1
        while stack:
            name, index = stack.pop()
            if index < len(out[name]):
                stack.append((name, index + 1))
                edge = out[name][index]
                state = colour.get(edge.target)
                if state == 1:
                    edge.back = True
                elif state is None:
                    colour[edge.target] = 1
                    stack.append((edge.target, 0))
            else:
                colour[name] = 2


def _assign_layers(graph: Graph) -> None:
    forward = [e for e in graph.edges if not e.back]
    preds: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for e in forward:
        preds[e.target].append(e.source)
    memo: dict[str, int] = {}
    for name in graph.nodes:
        stack = [name]
        while stack:
            top = stack[-1]
            todo = [p for p in preds[top] if p not in memo]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            memo[top] = max((memo[p] + 1 for p in preds[top]), default=0)
    for name, node in graph.nodes.items():
        node.layer = memo[name]


def _insert_dummies(graph: Graph) -> None:
    count = 0
    for edge in graph.edges:
        edge.path = [edge.source]
        if edge.back:
            edge.path.append(edge.target)
            continue
        low, high = graph.nodes[edge.source].layer, graph.nodes[edge.target].layer
        for layer in range(low + 1, high):
            count += 1
            name = f"\0dummy{count}"
            graph.nodes[name] = Node(name, dummy=True, layer=layer)
            edge.path.append(name)
        edge.path.append(edge.target)


def _order(graph: Graph, sweeps: int = 4) -> None:
    depth = max((n.layer for n in graph.nodes.values()), default=0) + 1
    layers: list[list[str]] = [[] for _ in range(depth)]
    for name, node in graph.nodes.items():
        layers[node.layer].append(name)
    up: dict[str, list[str]] = {n: [] for n in graph.nodes}
    down: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for edge in graph.edges:
        if not edge.back:
            for a, b in zip(edge.path, edge.path[1:], strict=False):
                down[a].append(b)
                up[b].append(a)

    def sweep(rows: list[list[str]], links: dict[str, list[str]], rng: Iterable[int]) -> None:
        for i in rng:
            pos = {n: k for k, n in enumerate(rows[i - 1 if links is up else i + 1])}
            keyed = []
            for k, name in enumerate(rows[i]):
                near = [pos[n] for n in links[name] if n in pos]
                keyed.append(((sum(near) / len(near) if near else float(k), k), name))
            rows[i] = [name for _, name in sorted(keyed)]

    for _ in range(sweeps):
        sweep(layers, up, range(1, depth))
        sweep(layers, down, range(depth - 2, -1, -1))
    for row in layers:
        for slot, name in enumerate(row):
            graph.nodes[name].slot = slot
    graph.layers = layers


def _place_row(desired: list[float], gaps: list[float]) -> list[float]:
    """Positions as near ``desired`` as the minimum ``gaps`` allow, order kept.

    ``gaps[i]`` separates items i and i+1. The average of the leftmost and the
    rightmost feasible packings keeps every gap and spreads the compromise;
    positions are then snapped to half slots so that aligned ports are exactly
    aligned in the text drawing.
    """
    left: list[float] = []
    for i, d in enumerate(desired):
        left.append(max(d, left[-1] + gaps[i - 1]) if left else d)
    right: list[float] = [desired[-1]] if desired else []
    for i in range(len(desired) - 2, -1, -1):
        right.append(min(desired[i], right[-1] - gaps[i]))
    right.reverse()
    placed: list[float] = []
    for i, (a, b) in enumerate(zip(left, right, strict=True)):
        x = round(a + b) / 2
        placed.append(max(x, placed[-1] + gaps[i - 1]) if placed else x)
    return placed


def _coordinates(graph: Graph, passes: int = 3) -> None:
    """Horizontal positions: start centred, then pull each node over its neighbours."""
    width = max((len(row) for row in graph.layers), default=1)
    for row in graph.layers:
        for slot, name in enumerate(row):
            graph.nodes[name].x = (width - len(row)) / 2 + slot
    links: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for edge in graph.edges:
        if not edge.back:
            for a, b in zip(edge.path, edge.path[1:], strict=False):
                links[a].append(b)
                links[b].append(a)
    order = list(range(len(graph.layers)))
    for k in range(passes):
        rows = order[1:] if k % 2 == 0 else list(reversed(order[:-1]))
        for i in rows:
            ref = i - 1 if k % 2 == 0 else i + 1
            desired = []
            for name in graph.layers[i]:
                near = [graph.nodes[n].x for n in links[name] if graph.nodes[n].layer == ref]
                desired.append(sum(near) / len(near) if near else graph.nodes[name].x)
            row = graph.layers[i]
            gaps = [1.0 if not (graph.nodes[a].dummy or graph.nodes[b].dummy) else 0.5
                    for a, b in zip(row, row[1:], strict=False)]
            for name, x in zip(row, _place_row(desired, gaps), strict=True):
                graph.nodes[name].x = x
    low = min((n.x for n in graph.nodes.values()), default=0.0)
    for node in graph.nodes.values():
        node.x -= low


def layout(graph: Graph) -> Graph:
    """Assign ``layer``, ``slot`` and ``x`` to every node (adding dummies); returns ``graph``."""
    _mark_back_edges(graph)
    _assign_layers(graph)
    _insert_dummies(graph)
    _order(graph)
    _coordinates(graph)
    return graph


def span(graph: Graph) -> float:
    """The width of the laid-out graph in slot widths."""
    return max((n.x for n in graph.nodes.values()), default=0.0) + 1
