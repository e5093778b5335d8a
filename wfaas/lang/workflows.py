"""Parsing of one workflow and the checks on its task graph."""

from __future__ import annotations

import re
from typing import Any

from wfaas.lang import schema
from wfaas.lang.checker import Checker, type_name
from wfaas.lang.specs import InputParam, TaskDefaultsSpec, TaskSpec, WorkflowSpec, WorkflowType
from wfaas.lang.tasks import TaskContext, apply_defaults, parse_defaults, parse_task
from wfaas.lang.yamlload import Path
from wfaas.utils.inputcheck import name_problem, shown

_UUID_RE = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$",
                      re.I)
_SUPPORTED_VERSIONS = ("2.0",)


def check_name(chk: Checker, name: Any, path: Path, what: str) -> bool:
    """A definition name: a non-empty string, not UUID-like, following the name grammar
    (:func:`wfaas.utils.inputcheck.name_problem`: no spaces, ``/``, ``..``, control
    characters or lone surrogates, at most 255 characters)."""
    if not isinstance(name, str) or not name.strip():
        chk.add(path, f"a {what} name must be a non-empty string, not {type_name(name)}",
                key=True)
        return False
    ok = True
    if _UUID_RE.match(name.replace("{", "").replace("}", "")):
        chk.add(path, f"a {what} name cannot look like a UUID ('{name}'): "
                "UUIDs address definitions by id", key=True)
        ok = False
    if any(c.isspace() for c in name):
        chk.add(path, f"a {what} name cannot contain spaces ({shown(name)})", key=True)
        ok = False
    elif name_problem(name):  # the name grammar of wfaas.utils.inputcheck
        chk.add(path, f"the {what} name {shown(name)} {name_problem(name)}", key=True)
        ok = False
    return ok


def check_version(chk: Checker, value: Any, path: Path) -> None:
    """A number (string, int or float); Mistral 23 runs any such version as 2.0."""
    try:
        ok = not isinstance(value, bool) and float(value) >= 2.0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        chk.add(path, f"unsupported DSL version {value!r}: use version: '2.0'")


def parse_input_list(chk: Checker, value: list[Any], path: Path) -> tuple[InputParam, ...]:
    """``[a, {b: default}]`` -> input parameters; names must be unique."""
    out: list[InputParam] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        if isinstance(item, dict) and len(item) == 1:
            name, default = next(iter(item.items()))
            param = InputParam(str(name), True, default)
        elif isinstance(item, str) and item.strip():
            param = InputParam(item)
        else:
            chk.add(path + (i,), "an input must be a name or a one-key mapping "
                    f"{{name: default}}, not {type_name(item)}")
            continue
        if param.name in seen:
            chk.add(path + (i,), f"input '{param.name}' is declared twice")
            continue
        seen.add(param.name)
        out.append(param)
    return tuple(out)


def parse_workflow(chk: Checker, name: str, raw: Any, path: Path,
                   validate: Any = None) -> WorkflowSpec | None:
    """Build one workflow spec, recording every problem of it on ``chk``."""
    check_name(chk, name, path, "workflow")
    if isinstance(raw, dict):
        # Mistral's workflow schema does not forbid unknown top-level keys: ignore them.
        raw = {k: v for k, v in raw.items() if k in schema.WORKFLOW_FIELDS}
    good = chk.mapping(raw, path, schema.WORKFLOW_FIELDS, f"workflow '{name}'")
    if not isinstance(raw, dict):
        return None
    if "version" in good:
        check_version(chk, good["version"], path + ("version",))
    wf_type: WorkflowType = good.get("type", "direct")
    tasks_raw = good.get("tasks")
    if "tasks" in raw and not raw["tasks"]:
        chk.add(path + ("tasks",), f"workflow '{name}' has no tasks")
    tasks_raw = tasks_raw or {}
    names = frozenset(str(k) for k in tasks_raw)
    ctx = TaskContext(wf_type, names, validate)
    for key in ("vars", "output", "output-on-error"):
        if key in good and validate is not None:
            chk.expressions(good[key], path + (key,), validate)
    defaults: dict[str, Any] = {}
    if "task-defaults" in good:
        defaults = parse_defaults(chk, good["task-defaults"], path + ("task-defaults",), ctx)
    tasks: dict[str, TaskSpec] = {}
    for tname, traw in tasks_raw.items():
        tpath = path + ("tasks", tname)
        if not isinstance(tname, str):
            chk.add(tpath, f"a task name must be a string, not {type_name(tname)}", key=True)
            continue
        task = parse_task(chk, tname, traw, tpath, ctx)
        if task is not None:
            tasks[tname] = apply_defaults(task, traw or {}, defaults)
    spec = WorkflowSpec(
        name=name, type=wf_type, description=good.get("description"),
        tags=tuple(good.get("tags", ())),
        input=parse_input_list(chk, good["input"], path + ("input",)) if "input" in good
        else (),
        output=good.get("output"), output_on_error=good.get("output-on-error"),
        vars=good.get("vars", {}),
        task_defaults=TaskDefaultsSpec(dict(raw["task-defaults"]))
        if isinstance(raw.get("task-defaults"), dict) else None,
        tasks=tasks, line=(chk.doc.pos(path, key=True) or (None,))[0])
    if wf_type == "direct" and tasks and len(tasks) == len(tasks_raw):
        _check_direct_graph(chk, spec, path)
    if wf_type == "reverse":
        for cycle in requires_cycles(spec):
            where = path + ("tasks", cycle[0])
            if "requires" in (tasks_raw.get(cycle[0]) or {}):
                where += ("requires",)
            chk.add(where, f"the tasks' 'requires' form a cycle: {' -> '.join(cycle)}; "
                           "none of these tasks could ever run")
    return spec


def requires_cycles(spec: WorkflowSpec) -> list[list[str]]:
    """Every cycle of ``requires`` (reverse workflows), each as ``[a, b, ..., a]``.

    A cycle is reported once, starting from its task that comes first in the file;
    a task requiring itself is left to the task check ("cannot require itself").
    """
    order = {name: i for i, name in enumerate(spec.tasks)}
    graph = {name: [r for r in task.requires if r in spec.tasks and r != name]
             for name, task in spec.tasks.items()}
    cycles: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    for root in spec.tasks:
        if state.get(root):
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = [root]
        state[root] = 1
        while stack:
            node, index = stack[-1]
            if index < len(graph[node]):
                stack[-1] = (node, index + 1)
                nxt = graph[node][index]
                if state.get(nxt) == 1:
                    loop = path[path.index(nxt):]
                    if frozenset(loop) not in seen:
                        seen.add(frozenset(loop))
                        start = min(range(len(loop)), key=lambda i: order[loop[i]])
                        loop = loop[start:] + loop[:start]
                        cycles.append(loop + [loop[0]])
                elif not state.get(nxt):
                    state[nxt] = 1
                    stack.append((nxt, 0))
                    path.append(nxt)
            else:
                state[node] = 2
                stack.pop()
                path.pop()
    return cycles


def inbound_counts(spec: WorkflowSpec) -> dict[str, int]:
    """Number of distinct tasks with a transition to each task (direct workflows)."""
    inbound: dict[str, set[str]] = {name: set() for name in spec.tasks}
    for task in spec.tasks.values():
        for clause in (task.on_success, task.on_error, task.on_complete, task.on_skip):
            if clause is None:
                continue
            for t in clause.next:
                if not t.is_command and t.target in inbound:
                    inbound[t.target].add(task.name)
    return {name: len(src) for name, src in inbound.items()}


def _check_direct_graph(chk: Checker, spec: WorkflowSpec, path: Path) -> None:
    counts = inbound_counts(spec)
    if not any(n == 0 for n in counts.values()):
        chk.add(path + ("tasks",), f"workflow '{spec.name}' has no start task: every task is "
                "the target of a transition, so nothing can run first")
    for task in spec.tasks.values():
        if task.join is None:
            continue
        need = 1 if task.join in ("all", "one") else int(task.join)
        have = counts[task.name]
        if have < need:
            chk.add(path + ("tasks", task.name, "join"),
                    f"task '{task.name}' has 'join: {task.join}' but only {have} task(s) "
                    f"lead to it (needs at least {need})")
