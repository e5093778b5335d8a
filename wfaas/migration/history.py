"""Import Mistral's finished execution history (``--with-history``).

Only whole trees whose root is finished (SUCCESS, ERROR, CANCELLED) are copied: the
root, its sub-workflow executions, their task executions and the tasks' action
executions, with their ids. A tree whose root id exists in wfaas is ``unchanged``.
Imported executions are history: they can be listed, shown and deleted (and
purged by retention), not resumed or re-run (wfaas has no engine state for them).
"""

from __future__ import annotations

from typing import Any

import yaml

from wfaas.db import models as m

DEFAULT_PROJECT = "<default-project>"


def _spec_text(importer: Any, row: dict[str, Any]) -> str:
    wf = importer.session.get(m.WorkflowDefinition, row.get("workflow_id") or "")
    if wf is not None:
        return str(wf.definition)
    spec = row.get("spec") or {}
    return yaml.safe_dump({"version": "2.0", row.get("workflow_name") or "workflow": spec},
                          sort_keys=False)


def _execution(importer: Any, row: dict[str, Any], parents: dict[str, str]) -> m.WorkflowExecution:
    task_id = row.get("task_execution_id")
    return m.WorkflowExecution(
        id=row["id"], workflow_name=row.get("workflow_name") or row.get("name") or "",
        workflow_namespace=row.get("workflow_namespace") or "",
        workflow_id=row.get("workflow_id"), description=row.get("description") or "",
        spec=_spec_text(importer, row), params=row.get("params") or {},
        input=row.get("input") or {}, output=row.get("output") or {}, state=row["state"],
        state_info=row.get("state_info"), tags=row.get("tags") or [],
        root_execution_id=row.get("root_execution_id") or row["id"],
        parent_execution_id=parents.get(task_id) if task_id else None,
        task_execution_id=task_id, project_id=row.get("project_id") or DEFAULT_PROJECT,
        created_at=row["created_at"], updated_at=row.get("updated_at"),
        finished_at=row.get("updated_at"))


def _task_result(task: dict[str, Any], actions: list[dict[str, Any]],
                 subs: list[dict[str, Any]]) -> Any:
    """What ``task().result`` was: the action's result, a list for with-items, or the
    sub-workflow's output."""
    if task.get("type") == "WORKFLOW":
        outputs = [s.get("output") for s in subs]
        return outputs[0] if len(outputs) == 1 else outputs
    results = [(a.get("runtime_context") or {}).get("index", 0) for a in actions]
    ordered = [a for _, a in sorted(zip(results, actions, strict=True), key=lambda p: p[0])]
    values = [(a.get("output") or {}).get("result") for a in ordered
              if a.get("state") == "SUCCESS" or a is ordered[-1]]
    with_items = bool((task.get("runtime_context") or {}).get("with_items"))
    if with_items:
        return values
    return values[-1] if values else None


def _task(row: dict[str, Any], actions: list[dict[str, Any]],
          subs: list[dict[str, Any]]) -> m.TaskExecution:
    return m.TaskExecution(
        id=row["id"], name=row["name"], workflow_execution_id=row["workflow_execution_id"],
        workflow_name=row.get("workflow_name") or "",
        workflow_namespace=row.get("workflow_namespace") or "",
        workflow_id=row.get("workflow_id"), type=row.get("type") or "ACTION",
        state=row["state"], state_info=row.get("state_info"),
        published=row.get("published") or {}, result=_task_result(row, actions, subs),
        runtime_context=row.get("runtime_context") or {},
        processed=bool(row.get("processed")), has_next_tasks=bool(row.get("has_next_tasks")),
        error_handled=bool(row.get("error_handled")), tags=row.get("tags") or [],
        project_id=row.get("project_id") or DEFAULT_PROJECT,
        started_at=row.get("started_at"), finished_at=row.get("finished_at"),
        created_at=row["created_at"], updated_at=row.get("updated_at"))


def _action(row: dict[str, Any], task: dict[str, Any]) -> m.ActionExecution:
    return m.ActionExecution(
        id=row["id"], name=row.get("name") or "", namespace=row.get("workflow_namespace") or "",
        description=row.get("description") or "", task_execution_id=row["task_execution_id"],
        task_name=task["name"], workflow_execution_id=task["workflow_execution_id"],
        workflow_name=row.get("workflow_name"), workflow_namespace=row.get("workflow_namespace"),
        state=row["state"], state_info=row.get("state_info"),
        accepted=bool(row.get("accepted")), input=row.get("input") or {},
        output=row.get("output") or {}, runtime_context=row.get("runtime_context") or {},
        is_sync=row.get("is_sync") is not False, tags=row.get("tags") or [],
        project_id=row.get("project_id") or DEFAULT_PROJECT, created_at=row["created_at"],
        updated_at=row.get("updated_at"))


def import_tree(importer: Any, root: dict[str, Any]) -> None:
    """Copy one finished tree, or record it as unchanged."""
    key = f"{root.get('workflow_name')} {root['id']} ({root['state']})"
    session = importer.session
    if session.get(m.WorkflowExecution, root["id"]) is not None:
        importer._outcome("executions", key, "unchanged")
        return
    tree = importer.source.tree(root["id"])
    tasks = {t["id"]: t for t in tree["tasks"]}
    unfinished = [e["id"] for e in tree["executions"] if e["state"] not in
                  ("SUCCESS", "ERROR", "CANCELLED")]
    if unfinished:
        importer._outcome("executions", key, "skip",
                          f"sub-executions still running: {', '.join(unfinished)}")
        return
    parents = {tid: t["workflow_execution_id"] for tid, t in tasks.items()}
    for ex in tree["executions"]:
        session.add(_execution(importer, ex, parents))
    by_task: dict[str, list[dict[str, Any]]] = {}
    for a in tree["action_executions"]:
        by_task.setdefault(a["task_execution_id"], []).append(a)
    subs: dict[str, list[dict[str, Any]]] = {}
    for ex in tree["executions"]:
        if ex.get("task_execution_id"):
            subs.setdefault(ex["task_execution_id"], []).append(ex)
    session.flush()
    for tid, t in tasks.items():
        session.add(_task(t, by_task.get(tid, []), subs.get(tid, [])))
    session.flush()
    for a in tree["action_executions"]:
        session.add(_action(a, tasks[a["task_execution_id"]]))
    session.flush()
    importer._outcome("executions", key, "create")


def import_history(importer: Any) -> None:
    """Every finished tree of the source, oldest first."""
    roots = importer.source.finished_trees()
    for root in roots:
        with importer.session.begin_nested():
            import_tree(importer, root)
    importer.progress(f"executions: {len(roots)} finished trees read")
