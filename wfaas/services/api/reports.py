"""Execution trees: sub-workflow executions below an execution or a task, and the report
(tasks, their action and sub-workflow executions, statistics) of one execution."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wfaas.db import models as m
from wfaas.services.api.base import ServiceBase, row_dict
from wfaas.services.api.context import RequestContext
from wfaas.services.api.executions import not_found as execution_not_found
from wfaas.services.api.tasks import task_not_found

STATS = ("total_tasks_count", "running_tasks_count", "success_tasks_count",
         "error_tasks_count", "idle_tasks_count", "paused_tasks_count")


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
                 errors_only: bool) -> list[dict[str, Any]]:
    found: list[Any] = []
    level, depth = _children(session, task_ids), 1
    while level and (max_depth < 0 or depth <= max_depth):
        found.extend(e for e in level if not errors_only or e.state == "ERROR")
        ids = [t.id for e in level for t in _tasks(session, e.id)]
        level, depth = _children(session, ids), depth + 1
    return [row_dict(r) for r in found]


def _entry(row: Any, name: str) -> dict[str, Any]:
    return {"id": row.id, "name": name, "state": row.state, "state_info": row.state_info,
            "created_at": row.created_at, "updated_at": row.updated_at or row.created_at}


def _retry_count(task: Any) -> int:
    context = task.runtime_context if isinstance(task.runtime_context, dict) else {}
    retry = context.get("retry_task_policy") or context.get("retry") or {}
    count = retry.get("retry_no", retry.get("count", 0)) if isinstance(retry, dict) else 0
    return int(count or 0)


class ReportService(ServiceBase):
    """Trees and reports of the caller's executions."""

    def sub_executions(self, ctx: RequestContext, execution_id: str, max_depth: int,
                       errors_only: bool) -> list[dict[str, Any]]:
        """Every sub-workflow execution below a visible execution."""
        with self.session() as session:
            self.lookup(session, ctx, "executions", execution_id, by_name=False,
                        not_found=execution_not_found(execution_id))
            ids = [t.id for t in _tasks(session, execution_id)]
            return _descendants(session, ids, max_depth, errors_only)

    def task_sub_executions(self, ctx: RequestContext, task_id: str, max_depth: int,
                            errors_only: bool) -> list[dict[str, Any]]:
        """Every sub-workflow execution below a visible task."""
        with self.session() as session:
            self.lookup(session, ctx, "tasks", task_id, by_name=False,
                        not_found=task_not_found(task_id))
            return _descendants(session, [task_id], max_depth, errors_only)

    def report(self, ctx: RequestContext, execution_id: str, max_depth: int,
               errors_only: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        """(statistics, root node) of a visible execution; times are datetimes."""
        stats = dict.fromkeys(STATS, 0)
        with self.session() as session:
            execution = self.lookup(session, ctx, "executions", execution_id, by_name=False,
                                    not_found=execution_not_found(execution_id))
            root = self._execution_node(session, execution, 0, max_depth, errors_only, stats)
            statistics: dict[str, Any] = {**stats,
                                          "estimated_time": _estimated_time(session, execution)}
        return statistics, root

    def _task_node(self, session: Session, task: Any, depth: int, max_depth: int,
                   errors_only: bool, stats: dict[str, int]) -> dict[str, Any]:
        node = {**_entry(task, task.name), "type": task.type,
                "retry_count": _retry_count(task)}
        actions = session.scalars(select(m.ActionExecution).where(
            m.ActionExecution.task_execution_id == task.id).order_by(
            m.ActionExecution.created_at))
        node["action_executions"] = [
            {**_entry(a, a.name), "accepted": a.accepted, "last_heartbeat": None}
            for a in actions if not errors_only or a.state == "ERROR"]
        node["workflow_executions"] = [
            self._execution_node(session, sub, depth + 1, max_depth, errors_only, stats)
            for sub in _children(session, [task.id])
            if max_depth < 0 or depth + 1 <= max_depth]
        return node

    def _execution_node(self, session: Session, execution: Any, depth: int, max_depth: int,
                        errors_only: bool, stats: dict[str, int]) -> dict[str, Any]:
        node: dict[str, Any] = _entry(execution, execution.workflow_name)
        tasks = _tasks(session, execution.id)
        for t in tasks:
            stats["total_tasks_count"] += 1
            key = f"{t.state.lower()}_tasks_count"
            if key in stats:
                stats[key] += 1
        node["task_executions"] = [
            self._task_node(session, t, depth, max_depth, errors_only, stats)
            for t in tasks if not errors_only or t.state == "ERROR"]
        return node


def _estimated_time(session: Session, execution: Any) -> float | None:
    """Mean duration in seconds of earlier successful runs of the same workflow
    (of the same project)."""
    rows = session.execute(select(m.WorkflowExecution.created_at,
                                  m.WorkflowExecution.finished_at).where(
        m.WorkflowExecution.workflow_name == execution.workflow_name,
        m.WorkflowExecution.project_id == execution.project_id,
        m.WorkflowExecution.state == "SUCCESS",
        m.WorkflowExecution.finished_at.is_not(None),
        m.WorkflowExecution.id != execution.id).limit(100)).all()
    if not rows:
        return None
    total = sum(float((f - c).total_seconds()) for c, f in rows if f is not None)
    return total / len(rows)
