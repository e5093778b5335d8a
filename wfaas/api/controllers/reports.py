"""Execution trees: ``/executions/<id>/executions``, ``/tasks/<id>/executions`` and
``/executions/<id>/report`` (tasks, their action and sub-workflow executions, statistics)."""

from __future__ import annotations

from typing import Any

from wfaas.api.context import ApiRequest
from wfaas.api.controllers.executions import execution_wire
from wfaas.api.resources import format_time
from wfaas.api.routing import Param, route

TREE_QUERY = (Param("errors_only", "boolean"), Param("max_depth", "integer"),
              Param("include_output", "boolean"))


def _tree_answer(req: ApiRequest, rows: list[dict[str, Any]]) -> dict[str, Any]:
    view = "get" if req.bool_arg("include_output") else "list"
    return {"executions": [execution_wire(r, view) for r in rows]}


def _max_depth(req: ApiRequest) -> int:
    value = req.int_arg("max_depth", -1)
    return value if value is not None else -1


@route("GET", "/v2/executions/{id}/executions", summary="Nested sub-workflow executions",
       response="Executions", query=TREE_QUERY)
def execution_sub_executions(req: ApiRequest, id: str) -> dict[str, Any]:
    """Every sub-workflow execution below this one (depth-limited by ``max_depth``)."""
    rows = req.services.reports.sub_executions(req.ctx, id, _max_depth(req),
                                               req.bool_arg("errors_only"))
    return _tree_answer(req, rows)


@route("GET", "/v2/tasks/{id}/executions", summary="Nested sub-workflow executions of a task",
       response="Executions", query=TREE_QUERY)
def task_sub_executions(req: ApiRequest, id: str) -> dict[str, Any]:
    """Every sub-workflow execution below this task."""
    rows = req.services.reports.task_sub_executions(req.ctx, id, _max_depth(req),
                                                    req.bool_arg("errors_only"))
    return _tree_answer(req, rows)


def _times(node: Any) -> Any:
    """The report tree with its ``created_at``/``updated_at`` in Mistral's time format."""
    if isinstance(node, list):
        return [_times(n) for n in node]
    if not isinstance(node, dict):
        return node
    return {k: format_time(v) if k in ("created_at", "updated_at") else _times(v)
            for k, v in node.items()}


@route("GET", "/v2/executions/{id}/report", summary="Execution report: task tree and statistics",
       response="ExecutionReport", query=(Param("errors_only", "boolean"),
                                          Param("max_depth", "integer"),
                                          Param("statistics_only", "boolean")))
def execution_report(req: ApiRequest, id: str) -> dict[str, Any]:
    """The root execution with its tasks, their action executions and sub-workflows."""
    statistics, root = req.services.reports.report(req.ctx, id, _max_depth(req),
                                                   req.bool_arg("errors_only"))
    if req.bool_arg("statistics_only"):
        return {"statistics": statistics}
    return {"statistics": statistics, "root_workflow_execution": _times(root)}
