"""A spawning tree must not hold up other requests (issue 14, runaway recursion):
how much one write transaction of a spawning step does, the size of the failure
messages a failing chain of sub-workflows passes up, and the priority lane that
applies a cancel while another execution's step is still running."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from tests.unit.db.dbutil import migrated_engine
from tests.unit.services import testactions
from tests.unit.services.conftest import define
from tests.unit.services.test_limits_shell import RECURSE
from wfaas.db import api
from wfaas.db import models as m
from wfaas.services.dispatch import INLINE_CHILDREN, STATE_INFO_CHARS, cut_state_info
from wfaas.services.limits import ExecutionLimits
from wfaas.services.runtime import Runtime
from wfaas.services.watchdog import WatchdogSettings

FAN_OUT = """
version: '2.0'
leaf:
  tasks:
    t:
      action: std.noop
fan_out:
  tasks:
    each:
      with-items: i in <% range(150) %>
      workflow: leaf
"""

WAITER = """
version: '2.0'
waiter:
  tasks:
    wait:
      action: std.async_noop
blocker:
  tasks:
    t:
      action: std.noop
"""


class TransactionCounter:
    """Rows inserted into ``workflow_executions`` and header updates, per committed
    transaction of ``eng`` (the work a transaction does while it holds the write lock)."""

    def __init__(self, eng: Any) -> None:
        self.per_commit: list[tuple[int, int]] = []
        #: INSERT statements into ``workflow_executions`` of each commit of per_commit
        self.insert_statements: list[int] = []
        self._open: dict[int, list[int]] = {}

        @event.listens_for(eng, "before_cursor_execute")
        def _count(conn: Any, cursor: Any, stmt: str, params: Any, ctx: Any,
                   many: bool) -> None:
            text = stmt.lstrip().upper()
            # by thread: prebuilt statements (wfaas.db.stepwrite) pass conn None
            counts = self._open.setdefault(threading.get_ident(), [0, 0, 0])
            if text.startswith("INSERT INTO WORKFLOW_EXECUTIONS"):
                counts[0] += len(params) if many else 1
                counts[2] += 1
            elif text.startswith("UPDATE WORKFLOW_EXECUTIONS"):
                counts[1] += len(params) if many else 1

        @event.listens_for(eng, "commit")
        def _commit(conn: Any) -> None:
            counts = self._open.pop(threading.get_ident(), None)
            if counts:
                self.per_commit.append((counts[0], counts[1]))
                self.insert_statements.append(counts[2])


@pytest.fixture
def sqlite_runtime(tmp_path: Path) -> Iterator[tuple[Runtime, TransactionCounter]]:
    """A started SQLite runtime (one engine worker, as the server) and its counter;
    the watchdog starts no extra worker (the lane alone must apply a cancel)."""
    with migrated_engine("sqlite", tmp_path) as eng:
        counter = TransactionCounter(eng)
        with Runtime(eng, provider=testactions.provider(), embedded=True,
                     engine_workers=1, limits=ExecutionLimits(max_nesting_depth=10),
                     watchdog=WatchdogSettings(max_extra_workers=0)) as rt:
            yield rt, counter


def test_cut_state_info_as_mistral_stores_it() -> None:
    assert cut_state_info(None) is None
    assert cut_state_info("short") == "short"
    exact = "x" * STATE_INFO_CHARS
    assert cut_state_info(exact) == exact
    assert cut_state_info(exact + "y") == exact + "..."


def test_runaway_recursion_inserts_at_most_two_executions_per_transaction(
        sqlite_runtime: tuple[Runtime, TransactionCounter]) -> None:
    """Each spawning step starts one level inline (its child's first step) and inserts
    the next level's row: the tree grows two levels per transaction, never more."""
    rt, counter = sqlite_runtime
    define(rt, RECURSE)
    root = rt.start_workflow("recurse")["id"]
    done = rt.wait_execution(root, 60)
    assert done["state"] == "ERROR"
    assert "([limits] max_nesting_depth)" in done["state_info"]
    inserted = [rows for rows, _ in counter.per_commit]
    assert sum(inserted) == 11  # the root and 10 levels
    assert max(inserted) <= 2


def test_a_failing_chain_passes_its_state_info_up_cut(
        sqlite_runtime: tuple[Runtime, TransactionCounter]) -> None:
    """A parent's failure message quotes its failed child's state_info; passed up cut
    (as Mistral stores it), a chain of 10 levels grows the messages by at most that
    much per level instead of doubling them (megabytes at the root, written by every
    step on the way up)."""
    rt, _ = sqlite_runtime
    define(rt, RECURSE)
    root = rt.start_workflow("recurse")["id"]
    rt.wait_execution(root, 60)
    with rt.session() as s:
        tree = {r.id for r in api.list_rows(s, m.WorkflowExecution)
                if r.root_execution_id == root}
        tasks = [t for t in api.list_rows(s, m.TaskExecution)
                 if t.workflow_execution_id in tree]
    assert len(tasks) == 11
    assert max(len(t.state_info or "") for t in tasks) <= STATE_INFO_CHARS + 3
    assert any(len(t.state_info or "") == STATE_INFO_CHARS + 3 for t in tasks)


def test_a_fan_out_starts_at_most_the_inline_cap_per_transaction(
        sqlite_runtime: tuple[Runtime, TransactionCounter]) -> None:
    """150 sub-workflows of one step: at most INLINE_CHILDREN (8: each one's first step
    runs while the transaction holds the write lock) of them get their first step in
    the parent's transaction (header updates), the others one of their own."""
    assert INLINE_CHILDREN <= 8
    rt, counter = sqlite_runtime
    define(rt, FAN_OUT)
    root = rt.start_workflow("fan_out")["id"]
    assert rt.wait_execution(root, 120)["state"] == "SUCCESS"
    spawning = [(rows, updates) for rows, updates in counter.per_commit if rows > 1]
    assert spawning, counter.per_commit
    for _rows, updates in spawning:
        assert updates <= INLINE_CHILDREN + 1  # + the parent's own header


def test_a_fan_out_inserts_its_children_in_one_statement(
        sqlite_runtime: tuple[Runtime, TransactionCounter]) -> None:
    """The 150 rows of a with-items of sub-workflows go in one executemany, besides the
    children started inline (each row inserted before its first step is written)."""
    rt, counter = sqlite_runtime
    define(rt, FAN_OUT)
    root = rt.start_workflow("fan_out")["id"]
    assert rt.wait_execution(root, 120)["state"] == "SUCCESS"
    spawning = [(rows, statements) for (rows, _), statements
                in zip(counter.per_commit, counter.insert_statements, strict=True)
                if rows > 1]
    assert sum(rows for rows, _ in spawning) == 150, counter.per_commit
    for _rows, statements in spawning:
        assert statements <= INLINE_CHILDREN + 1


def test_a_cancel_is_applied_while_another_step_still_runs(
        sqlite_runtime: tuple[Runtime, TransactionCounter]) -> None:
    """The single engine worker is held in a step of another execution: the cancel
    goes to the priority lane and is applied before that step ends."""
    rt, _ = sqlite_runtime
    define(rt, WAITER)
    waiting = rt.start_workflow("waiter")["id"]
    assert rt.wait_for(lambda s: api.get(s, m.WorkflowExecution, waiting).engine_state,
                       30)
    entered, gate = threading.Event(), threading.Event()
    decide = rt.engine.decide

    def gated(spec: Any, state: Any, ev: Any, now: float) -> Any:
        if spec.name == "blocker" and not gate.is_set():
            entered.set()
            gate.wait(60)
        return decide(spec, state, ev, now)

    rt.engine.decide = gated
    try:
        rt.start_workflow("blocker")
        assert entered.wait(30)
        result: dict[str, Any] = {}
        canceller = threading.Thread(target=lambda: result.update(
            rt.stop_execution(waiting, "CANCELLED")))
        canceller.start()
        canceller.join(10)
        assert not gate.is_set()  # the other step is still running
        assert result.get("state") == "CANCELLED", result
    finally:
        gate.set()


VARS_WF = """
version: '2.0'
with_vars:
  vars:
    v: <% 1 + 1 %>
  tasks:
    t:
      action: std.noop
"""


@pytest.mark.parametrize("with_limit", [False, True])
def test_a_start_evaluates_its_vars_outside_the_write_lock(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, with_limit: bool) -> None:
    """A start's ``vars`` (an expression of the tenant's, up to the evaluation budget)
    are checked before the write transaction: while they run, another thread can take
    the process's SQLite write lock (both start paths: the prebuilt insert and, with a
    per-project limit, the Session one)."""
    from wfaas.db.session import write_lock
    from wfaas.services import operations

    free: list[bool] = []
    engines: list[Any] = []
    real = operations.check_vars

    def probe(*args: Any) -> None:
        lock = write_lock(engines[0])
        assert lock is not None

        def try_lock() -> None:
            # another thread of the runtime (a periodic sweep) may hold the lock for a
            # moment: wait for it, a little. Held by this start itself, it is never
            # released while check_vars runs (this thread is joined first), so the
            # wait runs out
            got = lock.acquire(timeout=5)
            free.append(got)
            if got:
                lock.release()

        t = threading.Thread(target=try_lock)
        t.start()
        t.join()
        real(*args)

    monkeypatch.setattr(operations, "check_vars", probe)
    limits = ExecutionLimits(max_running_per_project=100) if with_limit else None
    with migrated_engine("sqlite", tmp_path) as eng:
        engines.append(eng)
        kwargs: dict[str, Any] = {"limits": limits} if limits else {}
        with Runtime(eng, provider=testactions.provider(),  # type: ignore[arg-type]
                     embedded=True, **kwargs) as rt:
            define(rt, VARS_WF)
            ex = rt.start_workflow("with_vars")
            assert rt.wait_execution(ex["id"], 60)["state"] == "SUCCESS"
    assert free == [True]


LONG_FAILURE = """
version: '2.0'
long_failure:
  tasks:
    fail:
      action: std.fail error_data=<% 'x' * 100000 %>
"""


def test_every_state_info_is_stored_cut_as_mistral_stores_it(
        sqlite_runtime: tuple[Runtime, TransactionCounter]) -> None:
    """A 100,000-character error: the task's and the execution's own state_info are
    stored cut at 65,500 characters and "..." (Mistral cuts every execution's state_info
    when it is set; the action's stays empty, its error is its output, as in Mistral)."""
    rt, _ = sqlite_runtime
    define(rt, LONG_FAILURE)
    ex_id = rt.start_workflow("long_failure")["id"]
    done = rt.wait_execution(ex_id, 60)
    assert done["state"] == "ERROR"
    with rt.session() as s:
        rows = [s.get(m.WorkflowExecution, ex_id),
                *[t for t in api.list_rows(s, m.TaskExecution)
                  if t.workflow_execution_id == ex_id],
                *[a for a in api.list_rows(s, m.ActionExecution)
                  if a.workflow_execution_id == ex_id]]
    assert len(rows) == 3
    for row in rows[:2]:
        assert len(row.state_info) == STATE_INFO_CHARS + 3, type(row).__name__
        assert row.state_info.endswith("xxx...")
    assert rows[2].state_info is None
