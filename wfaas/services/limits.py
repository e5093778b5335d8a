"""Limits per execution and per execution tree (``[limits]`` options).

Checked by the engine shell, never by the pure engine:

- after each step (:func:`step_breach`): tasks per execution, with-items length,
  size of published values and of the output (``[engine]
  execution_field_size_limit_kb``, as Mistral), and the data an execution holds
  (input + every published value + its global context, summed);
- before a sub-workflow row is inserted (:func:`child_problem`): nesting depth,
  descendants per root execution, and whether the root was stopped meanwhile
  (a cancelled tree stops spawning at once).

A breach fails the execution with a ``state_info`` naming the limit and its
option; other executions are not affected. ``-1`` (or 0) turns a limit off.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from oslo_config import cfg
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wfaas import metrics
from wfaas.db import models as m
from wfaas.db.session import session_scope
from wfaas.db.types import encode_json
from wfaas.engine import (
    Command,
    Event,
    RunAction,
    ScheduleTimer,
    StartSubWorkflow,
    StopWorkflow,
    WorkflowFinished,
)
from wfaas.engine.states import WORKFLOW_TERMINAL as TERMINAL_WF
from wfaas.services.rowbuffer import unwritten_children
from wfaas.services.state_store import Loaded

if TYPE_CHECKING:
    from wfaas.services.engine_service import EngineService

LOG = logging.getLogger(__name__)
_TASK_DONE = frozenset({"SUCCESS", "ERROR", "CANCELLED", "SKIPPED"})
#: the option a limit message of this module names (``([limits] x)``); the last one
#: counts, as a task name earlier in the message is the tenant's text
_OPTION = re.compile(r"\[(limits|engine)\] (\w+)")


def count_breach(message: str | None) -> None:
    """Count a breach in the ``wfaas_limit_breaches_total`` metric, labelled by the
    option its message names (``limits.max_nesting_depth``); a message naming none (a
    refusal that is no limit, such as a stopped root) is not counted."""
    found = _OPTION.findall(message or "")
    if found:
        metrics.limit_breached(".".join(found[-1]))


@dataclass(frozen=True)
class ExecutionLimits:
    """The limit values (plain data); ``<= 0`` means no limit."""

    max_nesting_depth: int = 10
    max_descendants: int = 5000
    max_tasks: int = 50000
    max_with_items: int = 100000
    field_size_kb: int = 1024
    max_data_kb: int = 10240
    max_running_per_project: int = -1

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> ExecutionLimits:
        """The limits configured in ``conf`` (``[limits]`` and ``[engine]``)."""
        lim = conf.limits
        return cls(max_nesting_depth=lim.max_nesting_depth,
                   max_descendants=lim.max_descendants_per_root,
                   max_tasks=lim.max_tasks_per_execution,
                   max_with_items=lim.max_with_items,
                   field_size_kb=conf.engine.execution_field_size_limit_kb,
                   max_data_kb=lim.max_execution_data_kb,
                   max_running_per_project=lim.max_running_executions_per_project)


def json_size(value: Any) -> int:
    """Bytes of ``value`` as JSON (as stored)."""
    return len(json.dumps(value, default=str).encode())


def _too_big(cls: str, field: str, size: int, limit_kb: int) -> str | None:
    if limit_kb <= 0 or size <= limit_kb * 1024:
        return None
    return (f"Field size limit exceeded [class={cls}, field={field}, size={size // 1024}KB, "
            f"limit={limit_kb}KB] ([engine] execution_field_size_limit_kb)")


def step_breach(limits: ExecutionLimits, loaded: Loaded, task_ids: set[str]) -> str | None:
    """The first limit the step that changed ``task_ids`` broke (None: none)."""
    st = loaded.state
    if 0 < limits.max_tasks < len(st.tasks):
        return (f"Limit exceeded: execution {st.id} created more than {limits.max_tasks} "
                f"tasks ([limits] max_tasks_per_execution)")
    published = False
    for tid in task_ids:
        task = st.tasks.get(tid)
        if task is None:
            continue
        wi = task.with_items
        if wi is not None and 0 < limits.max_with_items < wi.count:
            return (f"Limit exceeded: with-items of task '{task.name}' has {wi.count} "
                    f"items, more than {limits.max_with_items} ([limits] max_with_items)")
        if task.published and task.state in _TASK_DONE:
            text = encode_json(task.published)  # written as is by the persist
            loaded.encoded[tid] = (task.published, text)
            size = len(text.encode())
            problem = _too_big("TaskExecution", "published", size, limits.field_size_kb)
            if problem:
                return f"Task '{task.name}': {problem}"
            if loaded.data_sizes is not None:  # a running total: no sum per step
                loaded.data_total += size - loaded.data_sizes.get(tid, 0)
                loaded.data_sizes[tid] = size
            published = True
    if published and limits.max_data_kb > 0:
        total = _data_size(loaded)
        if total > limits.max_data_kb * 1024:
            return (f"Limit exceeded: execution {st.id} holds {total // 1024} KB of data "
                    f"(input, vars and published values), more than {limits.max_data_kb} KB "
                    f"([limits] max_execution_data_kb)")
    if st.state == "SUCCESS" and st.output:  # (a failure's output is the engine's report)
        return _too_big("WorkflowExecution", "output", json_size(st.output),
                        limits.field_size_kb)
    return None


def enforce(loaded: Loaded, commands: list[Command], message: str,
            apply: Callable[[Event], list[Command]]) -> list[Command]:
    """Fail the execution of a step that broke a limit: the work the step planned
    (actions, sub-workflows, timers) is dropped and ``StopWorkflow(ERROR)`` applied
    through ``apply``; an execution that already finished (too big an output) ends
    in ERROR instead. Returns the commands to dispatch."""
    st = loaded.state
    count_breach(message)
    if st.state in TERMINAL_WF:
        st.state, st.state_info, st.output = "ERROR", message, None
        return [replace(c, state="ERROR", output=None, state_info=message)
                if isinstance(c, WorkflowFinished) else c for c in commands]
    kept = [c for c in commands
            if not isinstance(c, (RunAction, StartSubWorkflow, ScheduleTimer))]
    return kept + apply(StopWorkflow(state="ERROR", message=message))


def _published_size(loaded: Loaded, task: Any) -> int:
    """Bytes of a task's published values, from the text this step encoded if any."""
    done = loaded.encoded.get(task.id)
    if done is not None and done[0] is task.published:
        return len(done[1].encode())
    return json_size(task.published)


def _data_size(loaded: Loaded) -> int:
    st = loaded.state
    if loaded.data_sizes is None:  # first measure since loaded: every published value
        loaded.data_sizes = {t.id: _published_size(loaded, t) for t in st.tasks.values()
                             if t.published}
        loaded.data_sizes[""] = json_size(st.input)
        loaded.data_total = sum(loaded.data_sizes.values())
    if loaded.context_size is None or loaded.context_size[0] is not st.context:
        # measured when the engine replaced the context, not per publishing step
        loaded.context_size = (st.context, json_size(st.context))
    return loaded.data_total + loaded.context_size[1]


# ---------------------------------------------------------------- sub-workflows


class _Memo:
    """Facts about executions that never change once known, bounded (oldest dropped):
    the nesting depth of an execution, and per root execution the number of descendants
    last counted (plus the children this process created since) with the time of the
    count. A lock keeps the engine workers of one process consistent."""

    def __init__(self, size: int = 20000) -> None:
        self.size = size
        self.lock = threading.Lock()
        self.depths: OrderedDict[str, int] = OrderedDict()
        self.counts: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def put(self, table: OrderedDict[str, Any], key: str, value: Any) -> None:
        """(Lock held.) Store ``value`` and drop the oldest entries over the size."""
        table[key] = value
        table.move_to_end(key)
        while len(table) > self.size:
            table.popitem(last=False)


_MEMO = _Memo()
#: seconds a descendant count of another process's making may be trusted
COUNT_TTL = 2.0


def remember_depth(ex_id: str, depth: int) -> None:
    """Record the nesting depth of a sub-workflow just created (its parent's + 1), so
    that its own children do not walk its ancestors again."""
    with _MEMO.lock:
        _MEMO.put(_MEMO.depths, ex_id, depth)


def nesting_depth(session: Session, loaded: Loaded, stop_at: int) -> int:
    """How many ancestors ``loaded`` has (counted up to ``stop_at``; cached)."""
    if loaded.depth is None:
        with _MEMO.lock:
            known = _MEMO.depths.get(loaded.meta.id)
        if known is not None:
            loaded.depth = known
            return known
        depth, parent = 0, loaded.meta.parent_execution_id
        ex = m.WorkflowExecution
        while parent and depth <= stop_at:
            depth += 1
            parent = session.scalar(select(ex.parent_execution_id).where(ex.id == parent))
        loaded.depth = depth
    return loaded.depth


def _descendants_within(session: Session, root: str, new_children: int, limit: int) -> int:
    """The descendants ``root`` will have with ``new_children`` more, or a lower figure
    that is still within the limit. Counting them is a scan of the root's tree, so it is
    done when no recent count exists or when the estimate (the last count plus the
    children created here since) passes half the limit; below that, the children other
    engines may have created during :data:`COUNT_TTL` cannot take the tree over it."""
    now = time.monotonic()
    with _MEMO.lock:
        known = _MEMO.counts.get(root)
        if known is not None and now - known[1] < COUNT_TTL \
                and known[0] + new_children <= limit // 2:
            _MEMO.put(_MEMO.counts, root, (known[0] + new_children, known[1]))
            return known[0] + new_children
    ex = m.WorkflowExecution
    count = session.scalar(select(func.count()).select_from(ex)
                           .where(ex.root_execution_id == root, ex.id != root)) or 0
    count += unwritten_children(session, root)  # started in this transaction
    with _MEMO.lock:
        _MEMO.put(_MEMO.counts, root, (count + new_children, now))
    return int(count) + new_children


def child_problem(session: Session, limits: ExecutionLimits, loaded: Loaded,
                  new_children: int) -> tuple[str, str] | None:
    """Why ``new_children`` sub-workflows of ``loaded`` must not start, as
    (completion state, message); None when they may."""
    ex = m.WorkflowExecution
    root = loaded.meta.root_execution_id or loaded.meta.id
    if root != loaded.meta.id:
        root_state = session.scalar(select(ex.state).where(ex.id == root))
        if root_state in TERMINAL_WF:
            return "CANCELLED", f"Root execution {root} is {root_state}: no new sub-workflow"
    if limits.max_nesting_depth > 0:
        depth = nesting_depth(session, loaded, limits.max_nesting_depth) + 1
        if depth > limits.max_nesting_depth:
            return "ERROR", (f"Limit exceeded: sub-workflow nesting depth {depth} is more "
                             f"than {limits.max_nesting_depth} ([limits] max_nesting_depth)")
    if limits.max_descendants > 0:
        total = _descendants_within(session, root, new_children, limits.max_descendants)
        if total > limits.max_descendants:
            return "ERROR", (f"Limit exceeded: root execution {root} would have "
                             f"{total} descendant executions, more than "
                             f"{limits.max_descendants} ([limits] max_descendants_per_root)")
    return None


def descendants(session: Session, ex_id: str, root_id: str | None) -> list[str]:
    """Ids of the unfinished executions below ``ex_id`` (the whole tree for a root)."""
    ex = m.WorkflowExecution
    live = ex.state.notin_(list(TERMINAL_WF))
    if not root_id or root_id == ex_id:
        return list(session.scalars(select(ex.id).where(ex.root_execution_id == ex_id,
                                                        ex.id != ex_id, live)))
    out: list[str] = []
    level = [ex_id]
    while level:
        level = list(session.scalars(select(ex.id).where(ex.parent_execution_id.in_(level))))
        out.extend(level)
    if not out:
        return out
    alive = set(session.scalars(select(ex.id).where(ex.id.in_(out), live)))
    return [x for x in out if x in alive]


def cancel_descendants(service: EngineService, loaded: Loaded) -> None:
    """A cancelled execution cancels every unfinished execution below it at once (not
    one level per step); sub-workflows being created meanwhile are refused because
    their root is stopped (:func:`child_problem`)."""
    try:
        with session_scope(service.sessions, readonly=True) as session:
            ids = descendants(session, loaded.meta.id, loaded.meta.root_execution_id)
    except Exception:  # noqa: BLE001 - the level-by-level cancel still happens
        LOG.exception("Could not list the sub-workflows of %s", loaded.meta.id)
        return
    message = f"Cancelled with its parent execution {loaded.meta.id}"
    for child in ids:
        service.send(child, StopWorkflow(state="CANCELLED", message=message))


def project_problem(session: Session, limits: ExecutionLimits, project_id: str) -> str | None:
    """Why project ``project_id`` may not start one more root execution (None: it may)."""
    limit = limits.max_running_per_project
    if limit <= 0:
        return None
    ex = m.WorkflowExecution
    running = session.scalar(select(func.count()).select_from(ex).where(
        ex.project_id == project_id, ex.state == "RUNNING",
        ex.parent_execution_id.is_(None))) or 0
    if running < limit:
        return None
    return (f"Limit exceeded: project {project_id} has {running} running executions, "
            f"the most [limits] max_running_executions_per_project allows")
