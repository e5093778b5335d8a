"""Graph logic: direct transitions, engine commands, joins, reverse dependencies."""

from __future__ import annotations

from typing import Any

from wfaas.engine import dataflow, states, tasks, workflow
from wfaas.engine.dataflow import EngineFunctions, EvalFailure
from wfaas.engine.model import TaskState
from wfaas.engine.step import Step
from wfaas.lang.specs import OnClause, TaskSpec, WorkflowSpec


class Graph:
    """Static facts derived from a spec once: inbound names, reverse dependents."""

    def __init__(self, spec: WorkflowSpec) -> None:
        self.spec = spec
        self.inbound: dict[str, list[str]] = {n: [] for n in spec.tasks}
        self.dependents: dict[str, list[str]] = {n: [] for n in spec.tasks}
        for name, t in spec.tasks.items():
            for clause in (t.on_success, t.on_error, t.on_complete, t.on_skip):
                for tr in (clause.next if clause else ()):
                    if not tr.is_command and tr.target in self.inbound and \
                            name not in self.inbound[tr.target]:
                        self.inbound[tr.target].append(name)
            for req in t.requires:
                if req in self.dependents:
                    self.dependents[req].append(name)

    def closure(self, target: str) -> set[str]:
        """Reverse workflows: the target and everything it (transitively) requires."""
        seen: set[str] = set()
        stack = [target]
        while stack:
            n = stack.pop()
            if n in seen or n not in self.spec.tasks:
                continue
            seen.add(n)
            stack.extend(self.spec.tasks[n].requires)
        return seen


_GRAPHS: dict[int, Graph] = {}


def graph_of(spec: WorkflowSpec) -> Graph:
    """The (cached) Graph of a spec; specs are frozen so sharing is safe."""
    g = _GRAPHS.get(id(spec))
    if g is None or g.spec is not spec:
        if len(_GRAPHS) > 256:
            _GRAPHS.clear()
        g = _GRAPHS[id(spec)] = Graph(spec)
    return g


# ---- start ---------------------------------------------------------------------------
def start(step: Step) -> None:
    """Create and start the start tasks (direct) or the leaves of the target (reverse)."""
    spec = step.spec
    if spec.type == "reverse":
        target = step.st.params.get("task_name")
        if not target or target not in spec.tasks:
            workflow.fail(step, f"Reverse workflow '{spec.name}' needs an existing target "
                                f"task in params.task_name, got {target!r}")
            return
        names = [n for n in spec.tasks if n in graph_of(spec).closure(target)
                 and not spec.tasks[n].requires]
    else:
        names = [t.name for t in spec.start_tasks()]
    for name in names:
        if not step.running():
            break
        tasks.start_task(step, step.new_task(name, states.IDLE, []))


# ---- after a task finished -----------------------------------------------------------
def after_task(step: Step, task: TaskState) -> None:
    """Follow the transitions of a finished task, then re-check waiting joins."""
    if task.state == states.CANCELLED:
        task.processed = True
        step.st.touch_task(task)
    elif step.spec.type == "reverse":
        _reverse_next(step, task)
    else:
        try:
            items = _fired_transitions(step, task)
        except EvalFailure as e:
            tasks.force_fail(step, task, e.message, tasks.action_name(step, task))
            return
        task.error_handled = any(i[3] == "on-error" for i in items)
        task.next_tasks = [[i[0], i[3]] for i in items if not i[1]]
        task.processed = True
        step.st.touch_task(task)
        run_items(step, task.id, items)
    check_joins(step)


def _clauses(spec: TaskSpec, state: str) -> list[tuple[OnClause | None, str]]:
    out: list[tuple[OnClause | None, str]] = []
    if state == states.ERROR:
        out.append((spec.on_error, "on-error"))
    elif state == states.SKIPPED:
        out.append((spec.on_skip, "on-skip"))
    elif state == states.SUCCESS:
        out.append((spec.on_success, "on-success"))
    if state in (states.SUCCESS, states.ERROR):
        out.append((spec.on_complete, "on-complete"))
    return out


def _fired_transitions(step: Step, task: TaskState) -> list[list[Any]]:
    """[target, is_command, params, event] of every transition whose guard holds.

    Like Mistral, a skipped task whose on-skip fires nothing follows on-success.
    """
    spec = step.task_spec(task)
    fc = EngineFunctions(step.st, task)
    cache: dict[str, Any] = {}
    items: list[list[Any]] = []
    for clause, event in _clauses(spec, task.state):
        items += _fire(step, task, clause, event, fc, cache)
    if task.state == states.SKIPPED and not items:
        items = _fire(step, task, spec.on_success, "on-success", fc, cache)
    return items


def _fire(step: Step, task: TaskState, clause: OnClause | None, event: str,
          fc: EngineFunctions, cache: dict[str, Any]) -> list[list[Any]]:
    items: list[list[Any]] = []
    for tr in (clause.next if clause else ()):
        params: Any = {}
        if tr.condition is not None or tr.params:
            if "data" not in cache:
                cache["data"] = dataflow.task_data(step.st, task, out=True)
            data = cache["data"]
            what = f"'{event}' transition '{tr.target}' of task '{task.name}'"
            if tr.condition is not None and \
                    not dataflow.evaluate(tr.condition, data, fc, f"guard of {what}"):
                continue
            params = dataflow.evaluate(tr.params, data, fc, f"parameters of {what}")
        is_cmd = tr.is_command and tr.target not in step.spec.tasks
        items.append([tr.target, is_cmd, params, event])
    return items


def run_items(step: Step, task_id: str, items: list[list[Any]]) -> None:
    """Run fired transitions in order; engine commands may end or pause the workflow."""
    st = step.st
    src = st.tasks[task_id]
    for i, (target, is_cmd, params, _event) in enumerate(items):
        if states.is_terminal(st.state):
            return
        if not step.running():
            step.defer({"op": "items", "task_id": task_id, "items": items[i:]})
            return
        msg = params.get("msg") if isinstance(params, dict) else None
        msg = None if msg is None else str(msg)
        if not is_cmd:
            route_to(step, src, target)
        elif target == "fail":
            workflow.fail(step, msg)
        elif target == "succeed":
            workflow.succeed(step, msg)
        elif target == "pause":
            workflow.pause(step, msg)


def route_to(step: Step, src: TaskState, target: str) -> None:
    """Create the next task (or arrive at a join) after ``src``."""
    if step.spec.tasks[target].join is None:
        tasks.start_task(step, step.new_task(target, states.IDLE, [src.id]))
        return
    st = step.st
    jt = st.last_task(target)  # one instance per join and execution, like Mistral
    if jt is None:
        jt = step.new_task(target, states.WAITING, [])
    if src.id not in jt.join_arrivals:
        jt.join_arrivals.append(src.id)
    st.touch_task(jt)
    evaluate_join(step, jt)


# ---- joins ---------------------------------------------------------------------------
def _possible_route(step: Step, name: str, seen: set[str]) -> bool:
    st = step.st
    if name in seen:
        return False
    seen.add(name)
    ins = graph_of(step.spec).inbound.get(name, [])
    if not ins:
        return True
    for n in ins:
        t = st.last_task(n)
        if t is None:
            if _possible_route(step, n, seen):
                return True
        elif not t.processed or any(nt[0] == name for nt in t.next_tasks):
            return True
    return False


def _induced(step: Step, inbound_name: str, join_name: str) -> str:
    t = step.st.last_task(inbound_name)
    if t is None:
        return states.WAITING if _possible_route(step, inbound_name, set()) else states.ERROR
    if not t.processed:
        return states.WAITING
    if any(nt[0] == join_name for nt in t.next_tasks):
        return states.RUNNING
    return states.ERROR


def evaluate_join(step: Step, jt: TaskState, *, force: bool = False) -> None:
    """Start a WAITING join when satisfied; fail it when it no longer can be."""
    if jt.state != states.WAITING:
        return
    spec = step.spec.tasks[jt.name]
    ins = graph_of(step.spec).inbound.get(jt.name, [])
    induced = [(n, _induced(step, n, jt.name)) for n in ins]
    running = sum(1 for _, s in induced if s == states.RUNNING)
    errors = sum(1 for _, s in induced if s == states.ERROR)
    total = len(induced)
    join = spec.join
    need = 1 if join == "one" else (join if isinstance(join, int) and join > 0 else total)
    if running >= need:
        jt.upstream = list(jt.join_arrivals)
        jt.state_info = None
        tasks.start_task(step, jt)
    elif errors > total - need or force:
        failed = [n for n, s in induced if s == states.ERROR] or \
            [n for n, s in induced if s != states.RUNNING]
        jt.upstream = list(jt.join_arrivals)  # Mistral: a failed join keeps its context
        tasks.finish_task(step, jt, states.ERROR, f"Failed by tasks: {failed}", None)
    else:
        blocked = [n for n, s in induced if s == states.WAITING]
        jt.state_info = f"Blocked by tasks: {blocked}"
        step.st.touch_task(jt)


def check_joins(step: Step) -> None:
    """Re-evaluate waiting joins; when only joins remain active, fail the stuck ones."""
    st = step.st
    waiting = [st.tasks[t] for t in st.active if st.tasks[t].state == states.WAITING]
    if not waiting:
        return
    for jt in sorted(waiting, key=lambda t: st.order[t.id]):
        evaluate_join(step, jt)
    while st.state == states.RUNNING and not st.pending and st.active and \
            all(st.tasks[t].state == states.WAITING for t in st.active):
        first = min((st.tasks[t] for t in st.active), key=lambda t: st.order[t.id])
        evaluate_join(step, first, force=True)


# ---- reverse -------------------------------------------------------------------------
def _reverse_next(step: Step, task: TaskState) -> None:
    task.processed = True
    step.st.touch_task(task)
    if task.state not in (states.SUCCESS, states.SKIPPED):
        return
    st = step.st
    g = graph_of(step.spec)
    closure = g.closure(str(st.params.get("task_name")))
    for dep in g.dependents.get(task.name, []):
        if dep not in closure or st.last_task(dep) is not None:
            continue
        reqs = [st.last_task(r) for r in step.spec.tasks[dep].requires]
        if all(r is not None and r.state in (states.SUCCESS, states.SKIPPED) for r in reqs):
            ups = [r.id for r in reqs if r is not None]
            tasks.start_task(step, step.new_task(dep, states.IDLE, ups))
