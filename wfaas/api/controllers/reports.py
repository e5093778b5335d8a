"""Execution trees: ``/executions/<id>/executions``, ``/tasks/<id>/executions`` and
``/executions/<id>/report`` (tasks, their action and sub-workflow executions, statistics)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wfaas.api.context import ApiRequest
from wfaas.api.controllers.common import row_dict
from wfaas.api.controllers.executions import execution_wire, load_execution
from wfaas.api.controllers.tasks import load_task
from wfaas.api.resources import format_time
from wfaas.api.routing import Param, route
from wfaas.db import models as m

TREE_QUERY = (Param("errors_only", "boolean"), Param("max_depth", "integer"),
              Param("include_output", "boolean"))


def _tasks(session: Session, execution_id: str) -> list[Any]:
    return list(session.scalars(select(m.TaskExecution).where(
        m.TaskExecution.workflow_execution_id == execution_id).order_by(
        m.TaskExecution.created_at, m.TaskExecution.id)))


def _children(session: Session, task_ids: list[str]) -> list[Any]:
    if not task_ids:
        return []
    return list(session.scalars(select(m.WorkflowExecution).where(
        m.WorkflowExecution.task_execution_id.in_(task_ids)).order_by(
        m.WorkflowExecution.created_at)))


def _descendants(session: Session, task_ids: list[str], max_depth: int,
                 errors_only: bool) -> list[Any]:
    found: list[Any] = []
    level, depth = _children(session, task_ids), 1
    while level and (max_depth < 0 or depth <= max_depth):
        found.extend(e for e in level if not errors_only or e.state == "ERROR")
        ids = [t.id for e in level for t in _tasks(session, e.id)]
        level, depth = _children(session, ids), depth + 1
    return found


def _tree_answer(req: ApiRequest, rows: list[Any]) -> dict[str, Any]:
    view = "get" if req.bool_arg("include_output") else "list"
    return {"executions": [execution_wire(row_dict(r), view) for r in rows]}


@route("GET", "/v2/executions/{id}/executions", summary="Nested sub-workflow executions",
       response="Executions", query=TREE_QUERY)
def execution_sub_executions(req: ApiRequest, id: str) -> dict[str, Any]:
    """Every sub-workflow execution below this one (depth-limited by ``max_depth``)."""
    max_depth = req.int_arg("max_depth", -1)
    with req.runtime.session() as session:
        load_execution(req, session, id)
        ids = [t.id for t in _tasks(session, id)]
        rows = _descendants(session, ids, max_depth if max_depth is not None else -1,
                            req.bool_arg("errors_only"))
        return _tree_answer(req, rows)


@route("GET", "/v2/tasks/{id}/executions", summary="Nested sub-workflow executions of a task",
       response="Executions", query=TREE_QUERY)
def task_sub_executions(req: ApiRequest, id: str) -> dict[str, Any]:
    """Every sub-workflow execution below this task."""
    max_depth = req.int_arg("max_depth", -1)
    with req.runtime.session() as session:
        load_task(req, session, id)
        rows = _descendants(session, [id], max_depth if max_depth is not None else -1,
                            req.bool_arg("errors_only"))
        return _tree_answer(req, rows)


def _entry(row: Any, name: str) -> dict[str, Any]:
    return {"id": row.id, "name": name, "state": row.state, "state_info": row.state_info,
            "created_at": format_time(row.created_at),
            "updated_at": format_time(row.updated_at or row.created_at)}


def _retry_count(task: Any) -> int:
    context = task.runtime_context if isinstance(task.runtime_context, dict) else {}
    retry = context.get("retry_task_policy") or context.get("retry") or {}
    count = retry.get("retry_no", retry.get("count", 0)) if isinstance(retry, dict) else 0
    return int(count or 0)


def _task_node(session: Session, task: Any, depth: int, max_depth: int,
               errors_only: bool, stats: dict[str, int]) -> dict[str, Any]:
    node = {**_entry(task, task.name), "type": task.type, "retry_count": _retry_count(task)}
    actions = session.scalars(select(m.ActionExecution).where(
        m.ActionExecution.task_execution_id == task.id).order_by(m.ActionExecution.created_at))
    node["action_executions"] = [
        {**_entry(a, a.name), "accepted": a.accepted, "last_heartbeat": None}
        for a in actions if not errors_only or a.state == "ERROR"]
    node["workflow_executions"] = [
        _execution_node(session, sub, depth + 1, max_depth, errors_only, stats)
        for sub in _children(session, [task.id])
        if max_depth < 0 or depth + 1 <= max_depth]
    return node


def _execution_node(session: Session, execution: Any, depth: int, max_depth: int,
                    errors_only: bool, stats: dict[str, int]) -> dict[str, Any]:
    node: dict[str, Any] = _entry(execution, execution.workflow_name)
    tasks = _tasks(session, execution.id)
    for t in tasks:
        stats["total_tasks_count"] += 1
        key = f"{t.state.lower()}_tasks_count"
        if key in stats:
            stats[key] += 1
    node["task_executions"] = [
        _task_node(session, t, depth, max_depth, errors_only, stats)
        for t in tasks if not errors_only or t.state == "ERROR"]
    return node


def _estimated_time(session: Session, execution: Any) -> float | None:
    """Mean duration in seconds of earlier successful runs of the same workflow."""
    rows = session.execute(select(m.WorkflowExecution.created_at,
                                  m.WorkflowExecution.finished_at).where(
        m.WorkflowExecution.workflow_name == execution.workflow_name,
        m.WorkflowExecution.state == "SUCCESS",
        m.WorkflowExecution.finished_at.is_not(None),
        m.WorkflowExecution.id != execution.id).limit(100)).all()
    if not rows:
        return None
    total = sum(float((f - c).total_seconds()) for c, f in rows if f is not None)
    return total / len(rows)


@route("GET", "/v2/executions/{id}/report", summary="Execution report: task tree and statistics",
       response="ExecutionReport", query=(Param("errors_only", "boolean"),
                                          Param("max_depth", "integer"),
                                          Param("statistics_only", "boolean")))
def execution_report(req: ApiRequest, id: str) -> dict[str, Any]:
    """The root execution with its tasks, their action executions and sub-workflows."""
    max_depth = req.int_arg("max_depth", -1)
    stats = {k: 0 for k in ("total_tasks_count", "running_tasks_count", "success_tasks_count",
                            "error_tasks_count", "idle_tasks_count", "paused_tasks_count")}
    with req.runtime.session() as session:
        execution = load_execution(req, session, id)
        root = _execution_node(session, execution, 0,
                               max_depth if max_depth is not None else -1,
                               req.bool_arg("errors_only"), stats)
        statistics: dict[str, Any] = {**stats,
                                      "estimated_time": _estimated_time(session, execution)}
    if req.bool_arg("statistics_only"):
        return {"statistics": statistics}
    return {"statistics": statistics, "root_workflow_execution": root}
