"""``wfaas workflow graph NAME`` and ``wfaas execution graph ID``: draw the task
graph in the terminal, or into an SVG / PNG / DOT file with ``-o``."""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any

from wfaas.client import APIError, Client
from wfaas.client.graph import Graph, build_graph
from wfaas.client.graph_image import GraphOutputError, render_dot, render_png, render_svg
from wfaas.client.graph_render import render_text
from wfaas.client.watch import precise_times
from wfaas.cmd.client_common import UsageError, command, use_colour, verb
from wfaas.exceptions import DSLError


def spec_from_definition(definition: str, name: str) -> Any:
    """The WorkflowSpec called ``name`` (or ``<workbook>.name``) in a stored definition."""
    from wfaas.lang import parse_workflows

    text = definition or ""
    if not re.search(r"^version\s*:", text, re.M):
        text = "version: '2.0'\n" + text
    try:
        specs = parse_workflows(text)
    except DSLError as exc:
        raise UsageError(f"cannot draw {name}: its definition does not parse: {exc}") from None
    short = name.rsplit(".", 1)[-1]
    for spec in specs:
        if spec.name in (name, short):
            return spec
    if not specs:
        raise UsageError(f"no workflow found in the definition of {name}")
    return specs[0]


def workflow_graph(client: Client, name: str, namespace: str = "") -> Graph:
    """The graph of a stored workflow."""
    wf = client.workflows.get(name, namespace=namespace)
    return build_graph(spec_from_definition(wf.get("definition") or "", wf.get("name") or name))


def execution_graph(client: Client, execution_id: str) -> Graph:
    """The graph of an execution's workflow with the run overlaid."""
    with precise_times(client):
        ex = client.executions.get(execution_id)
        tasks = client.executions.tasks(execution_id)
    ident = ex.get("workflow_id") or ex.get("workflow_name")
    wf = client.workflows.get(str(ident), namespace=ex.get("workflow_namespace") or "")
    spec = spec_from_definition(wf.get("definition") or "",
                                str(ex.get("workflow_name") or wf.get("name")))
    return build_graph(spec, tasks, ex)


def task_rank(client: Client, execution_id: str) -> dict[str, int]:
    """Task name -> layer in its workflow graph (to order tasks started in the same second)."""
    try:
        ex = client.executions.get(execution_id)
        wf = client.workflows.get(str(ex.get("workflow_id") or ex.get("workflow_name")),
                                  namespace=ex.get("workflow_namespace") or "")
        spec = spec_from_definition(wf.get("definition") or "", str(ex.get("workflow_name")))
    except (APIError, UsageError):
        return {}
    graph = build_graph(spec)
    return {n.name: n.layer for n in graph.task_nodes()}


def write_graph(graph: Graph, args: argparse.Namespace) -> int:
    """Print the graph, or write it to ``args.output`` (format from -T or the extension)."""
    if not args.output:
        sys.stdout.write(render_text(graph, colour=use_colour(args)))
        return 0
    fmt = args.type or os.path.splitext(args.output)[1].lstrip(".").lower()
    try:
        if fmt == "svg":
            data: bytes = render_svg(graph).encode("utf-8")
        elif fmt == "png":
            data = render_png(graph)
        elif fmt in ("dot", "gv"):
            data = render_dot(graph).encode("utf-8")
        elif fmt in ("txt", "text"):
            data = render_text(graph).encode("utf-8")
        else:
            raise UsageError(f"unknown graph format {fmt!r}: use .svg, .png, .dot or .txt")
    except GraphOutputError as exc:
        raise UsageError(str(exc)) from None
    try:
        with open(args.output, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc}") from None
    print(f"graph written to {args.output}", file=sys.stderr)
    return 0


def add_graph_verb(verbs: Any, kind: str) -> None:
    """Register ``graph`` under ``workflow`` or ``execution``."""

    @command
    def do_graph(client: Client, args: argparse.Namespace) -> int:
        if kind == "workflow":
            graph = workflow_graph(client, args.target, args.namespace)
        else:
            graph = execution_graph(client, args.target)
        return write_graph(graph, args)

    what = "the task graph of a workflow" if kind == "workflow" else \
        "the task graph of an execution, with the paths that ran and their states"
    p = verb(verbs, "graph", do_graph, f"draw {what}", output=False)
    p.add_argument("target", metavar="NAME" if kind == "workflow" else "ID",
                   help="workflow name or id" if kind == "workflow" else "execution id")
    if kind == "workflow":
        p.add_argument("--namespace", default="", help="workflow namespace")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write an image instead of printing text (.svg, .png, .dot, .txt)")
    p.add_argument("-T", "--type", choices=("svg", "png", "dot", "txt"),
                   help="output format (default: from the file extension)")
