"""``POST /v2/graphs``: a workflow's task graph, laid out, optionally with a run overlaid.

A wfaas extension used by the dashboard (``/ui``). It is pure computation on what
the caller sends (a definition and, for a run, the task executions it already read
through the API with its own token), so it needs no storage and no scoping: what
the caller may not read, it cannot send. The layout is the CLI's
(:mod:`wfaas.client.graph`), so ``wfaas execution graph`` and the page agree.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from wfaas.api import dsl
from wfaas.api.context import ApiRequest, json_field, str_field
from wfaas.api.controllers.common import max_document_bytes
from wfaas.api.errors import BadRequest
from wfaas.api.routing import route
from wfaas.client.graph import Graph, build_graph, span

MAX_TASKS = 500


def _pick_spec(specs: list[Any], name: str | None) -> Any:
    if not specs:
        raise BadRequest("definition holds no workflow")
    if not name:
        return specs[0]
    for spec in specs:
        if spec.name == name or spec.name.endswith("." + name):
            return spec
    raise BadRequest(f"workflow {name!r} is not in the definition "
                     f"(it has: {', '.join(s.name for s in specs)})")


def graph_wire(graph: Graph) -> dict[str, Any]:
    """The laid-out graph as JSON: nodes with layer/x, edges with their dummy path."""
    return {
        "workflow": graph.workflow,
        "width": span(graph),
        "layers": 1 + max((n.layer for n in graph.nodes.values()), default=0),
        "nodes": [asdict(n) for n in graph.nodes.values()],
        "edges": [asdict(e) for e in graph.edges],
    }


@route("POST", "/v2/graphs", summary="Lay out a workflow's task graph (wfaas extension)",
       body="json")
def layout_graph(req: ApiRequest) -> dict[str, Any]:
    """``{"definition": yaml, "workflow": name?, "tasks": [task executions]?}`` -> graph."""
    body = req.json_body()
    definition = str_field(body, "definition", required=True) or ""
    specs = dsl.parse_workflows(definition, max_document_bytes(req))
    spec = _pick_spec(specs, str_field(body, "workflow"))
    if len(spec.tasks) > MAX_TASKS:
        raise BadRequest(f"the graph view draws at most {MAX_TASKS} tasks "
                         f"(this workflow has {len(spec.tasks)})")
    tasks = json_field(body, "tasks", expect=list)
    if tasks is not None and not all(isinstance(t, dict) for t in tasks):
        raise BadRequest("'tasks' must be a list of task executions (objects)")
    return graph_wire(build_graph(spec, tasks))
