"""Data flow: inbound / outbound task contexts, expression data, functions.

Contexts are never copied into tasks.  A task's inbound context is the merge
of its upstream tasks' outbound contexts; its outbound context is the inbound
one plus what it published.  Merges are shallow dict merges of references
(structural sharing), and a task that publishes nothing shares its inbound
dict.  Computed contexts are cached in ``state.out_cache`` (never serialized).

Expression data for a task follows Mistral's ContextView priority:
current task / with-items vars > inbound branch context > ``__env`` >
workflow context (vars, global publishes, ``__execution``) > input.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from wfaas import expressions
from wfaas.engine import states
from wfaas.engine.model import TaskState, WorkflowState
from wfaas.engine.specdict import task_spec_dict, workflow_spec_dict
from wfaas.exceptions import WfaasError

EMPTY: dict[str, Any] = {}


class EvalFailure(Exception):
    """An expression or a value could not be evaluated; ``message`` is for state_info."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def merge_contexts(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Shallow merge in order (later wins); shares the dict when there is one part."""
    parts = [p for p in parts if p]
    if not parts:
        return EMPTY
    if len(parts) == 1:
        return parts[0]
    merged: dict[str, Any] = {}
    for p in parts:
        merged.update(p)
    return merged


def outbound(st: WorkflowState, task: TaskState) -> dict[str, Any]:
    """The outbound context of ``task`` (inbound + published), cached."""
    cached = st.out_cache.get(task.id)
    if cached is not None:
        return cached
    # Iterative post-order walk so a 10,000-task chain does not recurse.
    stack: list[tuple[TaskState, bool]] = [(task, False)]
    while stack:
        t, ready = stack.pop()
        if t.id in st.out_cache:
            continue
        ups = [st.tasks[u] for u in t.upstream if u in st.tasks]
        if not ready:
            stack.append((t, True))
            stack.extend((u, False) for u in ups if u.id not in st.out_cache)
            continue
        inbound_ctx, versions = _merge_upstream(st, ups)
        if t.published:
            versions = dict(versions)
            for path in _leaf_paths(t.published):
                versions[path] = versions.get(path, 0) + 1
            inbound_ctx = merge_contexts([inbound_ctx, t.published])
        st.out_cache[t.id] = inbound_ctx
        st.ver_cache[t.id] = versions
    return st.out_cache[task.id]


def _leaf_paths(published: Mapping[str, Any], prefix: str = "") -> list[str]:
    out: list[str] = []
    for key, value in published.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            out.extend(_leaf_paths(value, path))
        else:
            out.append(path)
    return out


def _merge_upstream(st: WorkflowState, ups: list[TaskState]
                    ) -> tuple[dict[str, Any], dict[str, int]]:
    """Mistral's context versioning: merge the outbound contexts of ``ups`` starting
    from the last one; another branch's value replaces it only when that branch
    published the variable more times (a higher version)."""
    if not ups:
        return EMPTY, {}
    last = ups[-1]
    ctx, vers = outbound(st, last), st.ver_cache.get(last.id, {})
    for u in ups[:-1]:
        right, rvers = outbound(st, u), st.ver_cache.get(u.id, {})
        if right is ctx or not right:
            continue
        ctx = _merge_versioned(ctx, vers, right, rvers, "")
        vers = {**vers, **{k: max(v, vers.get(k, 0)) for k, v in rvers.items()}}
    return ctx, vers


def _merge_versioned(left: dict[str, Any], lv: dict[str, int], right: dict[str, Any],
                     rv: dict[str, int], prefix: str) -> dict[str, Any]:
    merged = dict(left)
    for key, value in right.items():
        if key not in merged:
            merged[key] = value
            continue
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(merged[key], dict) and isinstance(value, dict):
            merged[key] = _merge_versioned(merged[key], lv, value, rv, path)
        elif rv.get(path, 0) > lv.get(path, 0):
            merged[key] = value
    return merged


def inbound(st: WorkflowState, task: TaskState) -> dict[str, Any]:
    """The inbound context of ``task``: its upstream outbound contexts merged."""
    return _merge_upstream(st, [st.tasks[u] for u in task.upstream if u in st.tasks])[0]


def merge_outbound(st: WorkflowState, tasks: list[TaskState]) -> dict[str, Any]:
    """The outbound contexts of ``tasks`` merged with context versioning."""
    return _merge_upstream(st, tasks)[0]


def invalidate(st: WorkflowState, task: TaskState) -> None:
    """Forget the cached outbound context of ``task`` (after it published)."""
    st.out_cache.pop(task.id, None)
    st.ver_cache.pop(task.id, None)


def base_data(st: WorkflowState, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Expression data over a branch context ``ctx`` (lowest priority first)."""
    data: dict[str, Any] = dict(st.input)
    data.update(st.context)
    data["__env"] = st.env
    data.update(ctx)
    return data


def task_data(st: WorkflowState, task: TaskState, *, out: bool = False,
              extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Expression data for ``task`` (inbound or, with ``out``, outbound context)."""
    ctx = outbound(st, task) if out else inbound(st, task)
    data = base_data(st, ctx)
    data["__task_execution"] = {"id": task.id, "name": task.name}
    if extra:
        data.update(extra)
    return data


def task_result(st: WorkflowState, task: TaskState) -> Any:
    """The task result: stored once complete, else built from its actions."""
    if states.is_terminal(task.state) or task.result is not None:
        return task.result
    acts = [st.actions[a] for a in st.by_task.get(task.id, ())]
    if task.with_items is None:
        done = [a for a in acts if a.attempt == task.attempt and a.state == states.SUCCESS]
        return done[-1].result if done else None
    return collect_items(st, task)


def collect_items(st: WorkflowState, task: TaskState) -> list[Any]:
    """With-items results by index: the latest SUCCESS of each index since ``base``."""
    wi = task.with_items
    assert wi is not None, "with-items results of a task without with-items"
    results: list[Any] = [None] * wi.count
    base = wi.base
    for aid in st.by_task.get(task.id, ()):
        a = st.actions[aid]
        # Mistral's with-items result holds the error of a failed iteration too
        if a.attempt >= base and a.state in (states.SUCCESS, states.ERROR) and \
                a.index < len(results):
            results[a.index] = a.result
    return results


def timestamp(value: float) -> str:
    """Epoch seconds as Mistral's ``YYYY-MM-DD hh:mm:ss`` (UTC)."""
    moment = datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def task_dict(st: WorkflowState, task: TaskState) -> dict[str, Any]:
    """What ``task()`` / ``tasks()`` return for a task execution."""
    return {
        "id": task.id, "name": task.name, "spec": task_spec_dict(st.spec_ref, task.name),
        "state": task.state,
        "state_info": task.state_info, "result": task_result(st, task),
        "published": task.published, "type": task.type.upper(),
        "workflow_execution_id": st.id, "created_at": timestamp(task.created_at),
        "updated_at": timestamp(task.updated_at),
    }


class EngineFunctions:
    """``wfaas.expressions.FunctionContext`` over the engine state (no database)."""

    def __init__(self, st: WorkflowState, current: TaskState | None = None) -> None:
        self.st = st
        self.current = current

    def env(self) -> dict[str, Any]:
        """The execution environment."""
        return self.st.env

    def execution(self) -> dict[str, Any]:
        """The current workflow execution as a dict."""
        st = self.st
        return {"id": st.id, "name": st.workflow_name, "spec": workflow_spec_dict(st.spec_ref),
                "input": st.input, "params": st.params,
                "created_at": timestamp(st.created_at), "updated_at": timestamp(st.updated_at),
                "root_execution_id": st.root_execution_id}

    def task(self, name: str | None = None) -> dict[str, Any] | None:
        """The current task (no name) or the last execution of the named task."""
        if name is None or (self.current is not None and name == self.current.name):
            return task_dict(self.st, self.current) if self.current is not None else None
        t = self.st.last_task(name)
        return task_dict(self.st, t) if t is not None else None

    def tasks(self, workflow_execution_id: str | None = None, recursive: bool = False,
              state: str | None = None, flat: bool = False) -> list[dict[str, Any]]:
        """Task executions of this workflow, optionally filtered by state."""
        if workflow_execution_id not in (None, self.st.id):
            return []
        return [task_dict(self.st, t) for t in self.st.tasks.values()
                if state is None or t.state == state]

    def global_var(self, name: str) -> Any:
        """A variable of the workflow (global) context, None if absent."""
        return self.st.context.get(name)

    def executions(self, id: str | None = None, root_execution_id: str | None = None,
                   state: str | None = None, from_time: str | None = None,
                   to_time: str | None = None) -> list[dict[str, Any]]:
        """Only this execution is known to the pure engine."""
        ex = self.execution()
        if id not in (None, self.st.id) or (state is not None and state != self.st.state):
            return []
        return [ex]


def evaluate(value: Any, data: Mapping[str, Any], fc: EngineFunctions, what: str) -> Any:
    """Evaluate ``value`` recursively; any failure becomes EvalFailure naming ``what``."""
    if value is None or isinstance(value, bool | int | float):
        return value
    try:
        return expressions.evaluate_recursively(value, data, fc)
    except WfaasError as e:
        raise EvalFailure(f"Failed to evaluate {what}: {e}") from None
    except Exception as e:  # noqa: BLE001 - evaluator bugs must not escape decide
        raise EvalFailure(f"Failed to evaluate {what}: {type(e).__name__}: {e}") from None


def has_expr(value: Any) -> bool:
    """Whether a value contains expressions (deep)."""
    return bool(expressions.has_expressions(value))
