"""A chain of sub-workflows in one transaction (wfaas.services.chain, issue 17).

A sub-workflow started inline that ends in its first step has its completion applied
by its parent in the same transaction. These tests count the transactions of a
sequence of such sub-workflows, and compare a chained run with an unchained one
(the same workflows, chaining switched off): states, state_info, output, the
listeners' events in order, and the timestamps of parent tasks against their
sub-workflows.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.unit.db.dbutil import migrated_engine
from tests.unit.services import testactions
from tests.unit.services.conftest import define
from tests.unit.services.test_data_written import LEAF
from tests.unit.services.test_spawn_bounds import TransactionCounter
from wfaas.db import api
from wfaas.db import models as m
from wfaas.engine import ActionCompleted
from wfaas.services import chain, dispatch
from wfaas.services.runtime import Runtime

N = 16


def sequence(n: int) -> str:
    """``n`` tasks one after the other, each running the noop sub-workflow ``leaf``."""
    lines = ["version: '2.0'", "leaf:", "  tasks:", "    t:", "      action: std.noop",
             "seq:", "  tasks:"]
    for i in range(n):
        lines += [f"    t{i}:", "      workflow: leaf"]
        if i < n - 1:
            lines.append(f"      on-success: t{i + 1}")
    return "\n".join(lines) + "\n"


MIXED = LEAF + """
bad:
  tasks:
    t:
      action: std.fail
mixed:
  output:
    z: <% $.z %>
  tasks:
    a:
      workflow: leaf
      input: {i: 1}
      publish: {x: <% task().result.twice %>}
      on-success: b
    b:
      workflow: leaf
      input: {i: <% $.x %>}
      publish: {y: <% task().result.twice %>}
      on-success: c
    c:
      workflow: bad
      on-error: d
    d:
      workflow: leaf
      input: {i: <% $.y %>}
      publish: {z: <% task().result.twice %>}
      on-success: e
    e:
      workflow: bad
fine:
  output:
    x: <% $.x %>
  tasks:
    a:
      workflow: leaf
      input: {i: 21}
      publish: {x: <% task().result.twice %>}
heavy:
  output:
    x: <% $.x %>
  tasks:
    a:
      workflow: leaf
      input: {i: 21}
      publish: {x: <% task().result.twice + range(1000).sum() %>}
"""


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[tuple[Runtime, TransactionCounter]]:
    """A started SQLite runtime with one engine worker (as the server), its counter,
    and no CPU bound on the inline starts (the chain is then as long as
    INLINE_CHILDREN allows, whatever the machine's speed)."""
    with migrated_engine("sqlite", tmp_path) as eng:
        counter = TransactionCounter(eng)
        with Runtime(eng, provider=testactions.provider(), embedded=True,
                     engine_workers=1) as runtime:
            yield runtime, counter


def finish(rt: Runtime, name: str) -> dict[str, Any]:
    """Run ``name`` to its end and wait until the engine is idle (every listener ran)."""
    ex = rt.start_workflow(name)
    done = rt.wait_execution(ex["id"], 60)
    deadline = time.monotonic() + 30
    while not rt.engine.idle() and time.monotonic() < deadline:
        time.sleep(0.005)
    return done


def test_a_sequence_of_noop_sub_workflows_takes_a_transaction_per_chain(
        rt: tuple[Runtime, TransactionCounter], monkeypatch: pytest.MonkeyPatch) -> None:
    """16 sequential sub-workflows: unchained, each needs a transaction of its parent
    (16 that insert a child); chained, one transaction applies up to INLINE_CHILDREN of
    them, and no transaction inserts or updates more rows than the bounds allow."""
    runtime, counter = rt
    monkeypatch.setattr(dispatch, "INLINE_CPU_S", 60.0)
    define(runtime, sequence(N))
    counts = {}
    for chained in (False, True):
        monkeypatch.setattr(runtime.engine, "may_chain", lambda p, c, on=chained: on)
        before = len(counter.per_commit)
        assert finish(runtime, "seq")["state"] == "SUCCESS"
        spawning = [c for c in counter.per_commit[before:] if c[0]]
        counts[chained] = len(spawning)
        if chained:
            inline = dispatch.INLINE_CHILDREN
            assert max(rows for rows, _ in spawning) <= inline + 1
            assert max(updates for _, updates in spawning) <= 2 * inline + 1
    assert counts[False] == N + 1  # the start, then one per sub-workflow
    assert counts[True] <= 1 + 2 * -(-N // dispatch.INLINE_CHILDREN), counts


_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_SEEN = ("id", "name", "state", "state_info", "old_state", "event", "task_id",
         "execution_id", "workflow_execution_id", "published", "result", "processed")


def _normalised(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The events as text, each id replaced by its rank of first appearance."""
    labels: dict[str, str] = {}

    def label(match: re.Match[str]) -> str:
        return labels.setdefault(match.group(0), f"<id{len(labels)}>")

    out = []
    for kind, data in events:
        seen = {k: data[k] for k in _SEEN if k in data}
        out.append(_ID.sub(label, f"{kind} {sorted(seen.items())}"))
    return out


def _run_recorded(runtime: Runtime, name: str) -> tuple[dict[str, Any], list[str]]:
    events: list[tuple[str, dict[str, Any]]] = []
    runtime.add_listener(lambda kind, data: events.append((kind, dict(data))))
    done = finish(runtime, name)
    runtime.engine.listeners.pop()
    return done, _normalised(events)


@pytest.mark.parametrize("name", ["mixed", "fine"])
def test_a_chained_run_is_the_unchained_run(
        rt: tuple[Runtime, TransactionCounter], monkeypatch: pytest.MonkeyPatch,
        name: str) -> None:
    """Sub-workflows that succeed, one that fails (handled by on-error) and a last one
    that fails the parent: the same states, state_info, output and events, in the
    same order, with chaining as without; and the chained run sent no completion."""
    runtime, _ = rt
    monkeypatch.setattr(dispatch, "INLINE_CPU_S", 60.0)
    define(runtime, MIXED)
    sent: list[Any] = []
    send = runtime.engine.send
    monkeypatch.setattr(runtime.engine, "send", lambda ex_id, event: (
        sent.append(event), send(ex_id, event)))
    runs = {}
    for chained in (False, True):
        monkeypatch.setattr(runtime.engine, "may_chain", lambda p, c, on=chained: on)
        sent.clear()
        done, events = _run_recorded(runtime, name)
        completions = [e for e in sent if isinstance(e, ActionCompleted)]
        assert bool(completions) is not chained
        runs[chained] = (done["state"], _ID.sub("-", done["state_info"] or ""),
                         _ID.sub("-", json.dumps(done["output"])), events)
    assert runs[True] == runs[False]
    state, info, output, _ = runs[True]
    if name == "mixed":
        assert state == "ERROR"
        assert info.startswith("Failure caused by error in tasks: e")
        assert json.loads(output)["z"] == 8
    else:
        assert (state, json.loads(output)) == ("SUCCESS", {"x": 42})


def test_a_parent_task_spans_its_chained_sub_workflow(
        rt: tuple[Runtime, TransactionCounter], monkeypatch: pytest.MonkeyPatch) -> None:
    """Timestamps as without chaining: each task is created before its sub-workflow,
    finishes after it, and the next task is created after the sub-workflow ended."""
    runtime, _ = rt
    monkeypatch.setattr(dispatch, "INLINE_CPU_S", 60.0)
    define(runtime, sequence(4))
    root = finish(runtime, "seq")["id"]
    with runtime.session() as s:
        tasks = sorted((t for t in api.list_rows(s, m.TaskExecution)
                        if t.workflow_execution_id == root), key=lambda t: t.name)
        children = {r.task_execution_id: r for r in api.list_rows(s, m.WorkflowExecution)
                    if r.parent_execution_id == root}
        previous_end = None
        for task in tasks:
            child = children[task.id]
            assert task.state == child.state == "SUCCESS"
            assert task.created_at <= child.created_at <= child.updated_at
            assert child.updated_at <= task.updated_at
            assert task.finished_at is not None and child.finished_at <= task.updated_at
            if previous_end is not None:
                assert previous_end <= task.created_at
            previous_end = child.updated_at


def test_a_heavy_chained_round_is_written_again_unchained(
        rt: tuple[Runtime, TransactionCounter], monkeypatch: pytest.MonkeyPatch) -> None:
    """A chained round whose expressions run long (here: at once) is abandoned and
    the step written without chaining: the completion is sent, the outcome the same."""
    runtime, _ = rt
    monkeypatch.setattr(dispatch, "INLINE_CPU_S", 60.0)
    monkeypatch.setattr(chain, "HEAVY_ROUND_S", 0.0)
    define(runtime, MIXED)
    sent: list[Any] = []
    send = runtime.engine.send
    monkeypatch.setattr(runtime.engine, "send", lambda ex_id, event: (
        sent.append(event), send(ex_id, event)))
    done = finish(runtime, "heavy")
    assert (done["state"], done["output"]) == ("SUCCESS", {"x": 42 + 499500})
    assert any(isinstance(e, ActionCompleted) for e in sent)
    assert not runtime.engine.unchained


WAITING = """
version: '2.0'
waiting:
  output:
    me: <% $.me %>
  tasks:
    wait:
      action: std.async_noop
      publish: {me: <% $.get('__execution').id %>}
"""


def test_a_bare_context_is_not_written_and_is_read_back(
        rt: tuple[Runtime, TransactionCounter]) -> None:
    """An execution without vars has the context ``{"__execution": {"id": ...}}``: its
    first step writes no context row, and a step that loads the execution from the
    database (not cached) sees that same context."""
    runtime, _ = rt
    define(runtime, WAITING)
    ex_id = runtime.start_workflow("waiting")["id"]

    def action(s: Any) -> str | None:
        rows = s.query(m.ActionExecution).filter_by(workflow_execution_id=ex_id).all()
        return rows[0].id if rows else None

    action_id = runtime.wait_for(action, 30)
    with runtime.session() as s:
        assert s.get(m.ExecutionContext, ex_id) is None
    runtime.engine.forget(ex_id)
    runtime.complete_action(action_id, "SUCCESS", None)
    done = runtime.wait_execution(ex_id, 30)
    assert (done["state"], done["output"]) == ("SUCCESS", {"me": ex_id})


def test_only_an_engine_that_owns_both_executions_chains(
        rt: tuple[Runtime, TransactionCounter]) -> None:
    """In process (one engine) always; with an ownership rule (distributed), only when
    this engine owns the parent and the child; another transport without one: never."""
    engine = rt[0].engine
    assert engine.may_chain("parent", "child")
    engine.owns = lambda ex_id: ex_id != "theirs"
    assert engine.may_chain("parent", "child")
    assert not engine.may_chain("parent", "theirs")
    assert not engine.may_chain("theirs", "child")
    engine.owns = None
    engine.transport = object()  # type: ignore[assignment]  # a broker of several engines
    try:
        assert not engine.may_chain("parent", "child")
    finally:
        engine.transport = rt[0].transport


def test_sequences_stepped_in_batches_chain_too(
        rt: tuple[Runtime, TransactionCounter], monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight sequences at once (their steps batched, one header compare-and-set per
    execution and transaction): every task and sub-workflow ends SUCCESS, once."""
    runtime, counter = rt
    monkeypatch.setattr(dispatch, "INLINE_CPU_S", 60.0)
    define(runtime, sequence(12))
    before = len(counter.per_commit)
    roots = [runtime.start_workflow("seq")["id"] for _ in range(8)]
    assert {runtime.wait_execution(r, 60)["state"] for r in roots} == {"SUCCESS"}
    with runtime.session() as s:
        tasks = [t for t in api.list_rows(s, m.TaskExecution)
                 if t.workflow_execution_id in roots]
        children = [r for r in api.list_rows(s, m.WorkflowExecution)
                    if r.parent_execution_id in roots]
    assert len(tasks) == len(children) == 8 * 12
    assert {t.state for t in tasks} == {c.state for c in children} == {"SUCCESS"}
    assert len({c.task_execution_id for c in children}) == 8 * 12
    assert sum(1 for rows, _ in counter.per_commit[before:] if rows) < 8 * 12


def test_a_chain_inserts_its_sub_workflows_with_one_statement(
        rt: tuple[Runtime, TransactionCounter], monkeypatch: pytest.MonkeyPatch) -> None:
    """The sub-workflows a chained transaction starts inline are inserted with their
    first step's values (one INSERT for all of them, another for those it starts
    without a step: no INSERT per sub-workflow, no compare-and-set of their rows),
    and the parent's header is compared-and-set by its first round and written once
    for the later rounds: at most two header updates per transaction."""
    runtime, counter = rt
    monkeypatch.setattr(dispatch, "INLINE_CPU_S", 60.0)
    define(runtime, sequence(N))
    before = len(counter.per_commit)
    root = finish(runtime, "seq")["id"]
    spawning = [i for i in range(before, len(counter.per_commit)) if counter.per_commit[i][0]]
    assert len(spawning) <= 1 + -(-N // dispatch.INLINE_CHILDREN)
    for i in spawning:
        # the rows started inline with one statement, those that start later with one
        assert counter.insert_statements[i] <= 2, [
            (counter.per_commit[j], counter.insert_statements[j]) for j in spawning]
        assert counter.per_commit[i][1] <= 2, counter.per_commit
    with runtime.session() as s:
        children = [r for r in api.list_rows(s, m.WorkflowExecution)
                    if r.parent_execution_id == root]
        assert len(children) == N
        for child in children:
            assert (child.state, child.version) == ("SUCCESS", 1)
            assert child.created_at <= child.updated_at <= child.finished_at
            assert child.description == dispatch.SUB_WORKFLOW_DESCRIPTION


def test_a_chain_counts_its_unwritten_sub_workflows_against_the_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """max_descendants_per_root holds within one chained transaction: the rows of the
    sub-workflows it started wait to be inserted, and the count includes them."""
    from wfaas.services.limits import ExecutionLimits

    monkeypatch.setattr(dispatch, "INLINE_CPU_S", 60.0)
    with migrated_engine("sqlite", tmp_path) as eng, \
            Runtime(eng, provider=testactions.provider(), embedded=True, engine_workers=1,
                    limits=ExecutionLimits(max_descendants=5)) as runtime:
        define(runtime, sequence(8))
        done = finish(runtime, "seq")
        assert done["state"] == "ERROR"
        assert "max_descendants_per_root" in done["state_info"], done["state_info"]
        with runtime.session() as s:
            children = [r for r in api.list_rows(s, m.WorkflowExecution)
                        if r.parent_execution_id == done["id"]]
            tasks = {t.name: t.state for t in api.list_rows(s, m.TaskExecution)
                     if t.workflow_execution_id == done["id"]}
    assert len(children) == 5
    assert tasks == {**{f"t{i}": "SUCCESS" for i in range(5)}, "t5": "ERROR"}


def test_sub_workflows_started_inline_on_each_database(
        runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite and PostgreSQL: the rows of the sub-workflows started inline are written
    at the end of the transaction (after their parent's header, before their task rows:
    the foreign keys hold) with the values of their first step."""
    monkeypatch.setattr(dispatch, "INLINE_CPU_S", 60.0)
    define(runtime, sequence(N))
    done = finish(runtime, "seq")
    assert done["state"] == "SUCCESS", done
    with runtime.session() as s:
        children = [r for r in api.list_rows(s, m.WorkflowExecution)
                    if r.parent_execution_id == done["id"]]
        tasks = [t for t in api.list_rows(s, m.TaskExecution)
                 if t.workflow_execution_id in {c.id for c in children}]
    assert len(children) == N and len(tasks) == N
    assert all(c.state == "SUCCESS" and c.finished_at is not None for c in children)
    inline = N - 2 * -(-N // dispatch.INLINE_CHILDREN)  # a chain ends with a child started later
    assert sum(1 for c in children if c.version == 1) >= inline, \
        [c.version for c in children]
