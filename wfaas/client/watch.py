"""Follow an execution live: report each task as it starts and ends (with its
duration), with-items progress, and the final state.

:class:`Follower` is pure: it compares successive snapshots (the execution,
its tasks, per-task item counts) and returns :class:`Event` objects.
:func:`follow` polls a :class:`~wfaas.client.Client` and prints the events.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from wfaas.client.graph import duration, format_duration, precise
from wfaas.utils.states import WORKFLOW_TERMINAL as TERMINAL

PRECISE_HEADER = "X-Wfaas-Precise-Times"
TASK_DONE = ("SUCCESS", "ERROR", "CANCELLED", "SKIPPED")
SYMBOLS = {"SUCCESS": "✔", "ERROR": "✘", "CANCELLED": "⊘", "SKIPPED": "↷"}
COLOURS = {"SUCCESS": "32", "ERROR": "31", "CANCELLED": "35", "SKIPPED": "90",
           "RUNNING": "33", "PAUSED": "34"}


@dataclass(frozen=True)
class Event:
    """One thing worth telling: ``kind`` is start, end, progress or state."""

    kind: str
    name: str
    state: str = ""
    seconds: float | None = None
    done: int = 0
    total: int = 0
    info: str = ""
    approx: bool = False


def _with_items(task: dict[str, Any]) -> dict[str, Any]:
    ctx = task.get("runtime_context")
    if not isinstance(ctx, dict):
        return {}
    items = ctx.get("with_items") or ctx.get("wi")
    return items if isinstance(items, dict) else {}


def items_total(task: dict[str, Any]) -> int:
    """The with-items iteration count of a task (0 when it has none)."""
    try:
        return int(_with_items(task).get("count") or 0)
    except (TypeError, ValueError):
        return 0


def items_done(task: dict[str, Any]) -> int | None:
    """Finished iterations when the runtime context tells them (wfaas), else None."""
    items = _with_items(task)
    if "ok" not in items:
        return None
    return sum(int(items.get(k) or 0) for k in ("ok", "err", "cancel"))


class Follower:
    """Turns snapshots into events; remembers what it has already reported."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 rank: dict[str, int] | None = None) -> None:
        self.clock = clock
        self.rank = rank or {}
        self.states: dict[str, str] = {}
        self.first_seen: dict[str, float] = {}
        self.progress: dict[str, tuple[int, int]] = {}
        self.execution_state = ""

    def seed(self, tasks: list[dict[str, Any]]) -> None:
        """Remember ``tasks`` as already reported (their current states print nothing)."""
        for task in tasks:
            self.states[str(task.get("id"))] = str(task.get("state") or "")

    def update(self, execution: dict[str, Any], tasks: list[dict[str, Any]],
               items: dict[str, tuple[int, int]] | None = None) -> list[Event]:
        """Events since the previous snapshot (tasks in creation order)."""
        events: list[Event] = []
        now = self.clock()
        for task in sorted(tasks, key=lambda t: (str(t.get("created_at") or ""),
                                                 self.rank.get(str(t.get("name")), 0),
                                                 str(t.get("name")))):
            tid, name = str(task.get("id")), str(task.get("name"))
            state = str(task.get("state") or "")
            old = self.states.get(tid)
            if old is None:
                self.first_seen[tid] = now
                events.append(Event("start", name, state))
            counts = (items or {}).get(tid)
            if counts and counts != self.progress.get(tid) and state not in TASK_DONE:
                self.progress[tid] = counts
                events.append(Event("progress", name, state, done=counts[0], total=counts[1]))
            if state in TASK_DONE and old not in TASK_DONE:
                seconds, approx = duration(task), False
                if not precise(task):
                    if old is not None:     # seen running: the local clock is better
                        seconds = now - self.first_seen.get(tid, now)
                    else:
                        approx = True
                total = items_total(task)
                info = str(task.get("state_info") or "") if state != "SUCCESS" else ""
                events.append(Event("end", name, state, seconds, total, total, info, approx))
            self.states[tid] = state
        state = str(execution.get("state") or "")
        if state != self.execution_state:
            self.execution_state = state
            events.append(Event("state", str(execution.get("workflow_name") or ""), state,
                                info=str(execution.get("state_info") or "")))
        return events


def bar(done: int, total: int, width: int = 24) -> str:
    """``[#######-----------]  7/20``."""
    filled = int(width * done / total) if total else 0
    return f"[{'#' * filled}{'-' * (width - filled)}] {done}/{total}"


def took(event: Event) -> str:
    """The duration of an end event; ``<1s`` / ``~2s`` when only whole seconds are known."""
    if event.approx and event.seconds is not None:
        return "<1s" if event.seconds < 1 else f"~{event.seconds:.0f}s"
    return format_duration(event.seconds) or "?"


class Printer:
    """Writes events as lines; progress bars redraw in place on a terminal."""

    def __init__(self, out: TextIO, colour: bool = False, tty: bool = False) -> None:
        self.out, self.colour, self.tty = out, colour, tty
        self.pending_bar = False

    def _paint(self, text: str, state: str) -> str:
        code = COLOURS.get(state)
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour and code else text

    def _write(self, text: str, newline: bool = True) -> None:
        if self.pending_bar:
            self.out.write("\r\x1b[K" if self.tty else "\n")
            self.pending_bar = False
        self.out.write(text + ("\n" if newline else ""))
        self.out.flush()

    def show(self, event: Event) -> None:
        """Print one event."""
        if event.kind == "start":
            self._write(f"▶ {event.name} started")
        elif event.kind == "progress":
            if self.tty:
                self._write(f"  {event.name} {bar(event.done, event.total)}", newline=False)
                self.pending_bar = True
        elif event.kind == "end":
            items = f" ({event.total} items)" if event.total else ""
            mark = self._paint(f"{SYMBOLS.get(event.state, '•')} {event.name} {event.state}",
                               event.state)
            tail = f": {event.info.splitlines()[0]}" if event.info else ""
            self._write(f"{mark} in {took(event)}{items}{tail}")
        elif event.kind == "state" and event.state not in ("RUNNING", ""):
            self._write(self._paint(f"workflow {event.name} {event.state}", event.state))


def _item_counts(client: Any, tasks: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    counts: dict[str, tuple[int, int]] = {}
    for task in tasks:
        total = items_total(task)
        if not total or task.get("state") in TASK_DONE:
            continue
        tid = str(task["id"])
        known = items_done(task)
        if known is not None:
            counts[tid] = (known, total)
            continue
        if task.get("type") == "WORKFLOW":
            children = client.tasks.workflow_executions(tid)
        else:
            children = client.tasks.action_executions(tid)
        done = sum(1 for c in children if c.get("state") in TASK_DONE)
        counts[tid] = (done, total)
    return counts


@contextmanager
def precise_times(client: Any) -> Iterator[None]:
    """Ask the server for timestamps with microseconds while the block runs.

    A wfaas server honours ``X-Wfaas-Precise-Times`` (Mistral ignores it): events of
    tasks started in the same second are then ordered and timed exactly, and the
    graph's durations agree with ``--wait``'s."""
    session = getattr(getattr(client, "http", None), "session", None)
    if session is None:
        yield
        return
    had = PRECISE_HEADER in session.headers
    session.headers[PRECISE_HEADER] = "1"
    try:
        yield
    finally:
        if not had:
            session.headers.pop(PRECISE_HEADER, None)


def follow(client: Any, execution_id: str, out: TextIO | None = None, *,
           colour: bool = False, rank: dict[str, int] | None = None,
           known: list[dict[str, Any]] | None = None, timeout: float | None = None,
           interval: float = 0.1,
           max_interval: float = 1.0, sleep: Callable[[float], None] = time.sleep,
           clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """Poll until the execution is terminal (or ``timeout`` s); return its last state.

    ``known`` tasks (a snapshot taken before a rerun or resume) are not reported again.
    """
    out = out or sys.stderr
    printer = Printer(out, colour, bool(getattr(out, "isatty", lambda: False)()))
    follower = Follower(clock, rank)
    follower.seed(known or [])
    deadline = clock() + timeout if timeout else None
    while True:
        with precise_times(client):
            execution = client.executions.get(execution_id)
            tasks = client.executions.tasks(execution_id)
        for event in follower.update(execution, tasks, _item_counts(client, tasks)):
            printer.show(event)
        if execution.get("state") in TERMINAL:
            return dict(execution)
        if deadline is not None and clock() >= deadline:
            return dict(execution)
        sleep(interval)
        interval = min(max_interval, interval * 1.5)


def failed_tasks(client: Any, execution_id: str) -> list[dict[str, Any]]:
    """The tasks of an execution that ended in ERROR (with their result when the list lacks it)."""
    rows = [t for t in client.executions.tasks(execution_id) if t.get("state") == "ERROR"]
    return rows
