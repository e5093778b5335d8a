"""Pure std actions run inside the engine step (wfaas.services.folding).

Every workflow here runs twice, with folding and without it (every action through
the executor); the outcome must be the same, and folding must save engine steps.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.unit.db.dbutil import migrated_engine
from tests.unit.services import testactions
from tests.unit.services.conftest import define
from wfaas.db import api
from wfaas.engine import RunAction
from wfaas.services.folding import ActionFolder
from wfaas.services.runtime import Runtime

T = 30.0

CHAIN = """
version: '2.0'
chain:
  output:
    out: <% $.c %>
  tasks:
    a:
      action: std.noop
      on-success: [b]
    b:
      action: std.echo output=41
      publish: {b: <% task().result %>}
      on-success: [c]
    c:
      action: std.echo output=<% $.b + 1 %>
      publish: {c: <% task().result %>}
"""

BAD_ECHO = """
version: '2.0'
bad:
  tasks:
    a:
      action: std.echo output=1 nonsense=2
      on-error: [handled]
    handled:
      action: std.noop
"""

ITEMS = """
version: '2.0'
items:
  output:
    n: <% $.n %>
  tasks:
    loop:
      with-items: i in <% range(30) %>
      concurrency: 4
      action: std.echo output=<% $.i * 2 %>
      publish:
        n: <% task().result.sum() %>
"""

RETRY = """
version: '2.0'
retrying:
  tasks:
    a:
      action: std.echo output=1 bogus=1
      retry: {count: 3, delay: 0}
"""


@pytest.fixture(params=[1000, 0], ids=["folded", "executor"])
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    """A started runtime on SQLite, with folding on (1000) or off (0)."""
    with started(tmp_path, pure_actions_per_step=request.param) as runtime:
        yield runtime


@contextmanager
def started(tmp_path: Path, **options: Any) -> Iterator[Runtime]:
    """A started runtime on a migrated SQLite file, with the test actions and ``options``."""
    with migrated_engine("sqlite", tmp_path) as eng:
        runtime = Runtime(eng, provider=testactions.provider(), executor_workers=4, **options)
        runtime.start()
        try:
            yield runtime
        finally:
            runtime.stop()


def run(rt: Runtime, text: str, name: str) -> tuple[dict[str, Any], int]:
    """Run workflow ``name``; return the finished execution and its engine steps."""
    steps: list[str] = []
    rt.add_listener(lambda kind, data: steps.append(data["execution_id"])
                    if kind == "step" else None)
    define(rt, text)
    ex = rt.start_workflow(name)
    done = rt.wait_execution(ex["id"], T)
    # the committed state can be seen before the step's listeners ran (they run after
    # the commit, in the stepping thread): count once no step is in progress
    deadline = time.monotonic() + T
    while not rt.engine.idle() and time.monotonic() < deadline:
        time.sleep(0.005)
    return done, steps.count(ex["id"])


def test_chain_finishes_in_one_step_when_folded(rt: Runtime) -> None:
    done, steps = run(rt, CHAIN, "chain")
    assert done["state"] == "SUCCESS", done["state_info"]
    assert done["output"] == {"out": 42}
    if rt.engine.folder is not None:
        assert steps == 1
    else:
        assert steps == 4  # start + one completion per task
    with rt.session() as s:
        tasks = api.task_executions_of(s, done["id"])
        assert [(t.name, t.state, t.result) for t in tasks] == [
            ("a", "SUCCESS", None), ("b", "SUCCESS", 41), ("c", "SUCCESS", 42)]
        actions = [a for t in tasks for a in api.action_executions_of(s, t.id)]
        assert [(a.name, a.state, a.output) for a in actions] == [
            ("std.noop", "SUCCESS", {"result": None}),
            ("std.echo", "SUCCESS", {"result": 41}),
            ("std.echo", "SUCCESS", {"result": 42})]
        # finished rows carry their update time (Mistral's clients show it)
        assert all(a.updated_at is not None for a in actions)
        assert all(t.updated_at is not None and t.finished_at is not None for t in tasks)


def test_bad_input_fails_the_same_way(rt: Runtime) -> None:
    done, _ = run(rt, BAD_ECHO, "bad")
    assert done["state"] == "SUCCESS"  # the error was handled
    with rt.session() as s:
        a, handled = api.task_executions_of(s, done["id"])
        assert (a.name, a.state, handled.name) == ("a", "ERROR", "handled")
        assert "nonsense" in (a.state_info or "")


def test_with_items_concurrency_and_retry_keep_their_semantics(rt: Runtime) -> None:
    done, _ = run(rt, ITEMS, "items")
    assert done["state"] == "SUCCESS" and done["output"] == {"n": 870}
    done, _ = run(rt, RETRY, "retrying")
    assert done["state"] == "ERROR"
    with rt.session() as s:
        (task,) = api.task_executions_of(s, done["id"])
        assert len(api.action_executions_of(s, task.id)) == 4  # 1 + 3 retries


def test_limit_sends_the_rest_to_executors(tmp_path: Path) -> None:
    with started(tmp_path, pure_actions_per_step=7) as runtime:
        done, steps = run(runtime, ITEMS, "items")
    assert done["state"] == "SUCCESS" and done["output"] == {"n": 870}
    assert steps > 1  # 30 actions, at most 7 folded per step


@pytest.mark.parametrize(("cmd", "folded"), [
    (RunAction(action="std.noop"), True),
    (RunAction(action="std.echo", input={"output": 1}), True),
    (RunAction(action="std.echo", input={"output": 1, "delay": 1}), False),
    (RunAction(action="std.noop", timeout=5.0), False),
    (RunAction(action="std.noop", target="group-a"), False),
    (RunAction(action="std.fail"), True),
    (RunAction(action="std.fail", timeout=5.0), False),
    (RunAction(action="std.sleep", input={"seconds": 0}), False),
    (RunAction(action="test.echo"), False),
])
def test_what_is_folded(cmd: RunAction, folded: bool) -> None:
    assert ActionFolder.accepts(cmd) is folded


def test_result_size_limit_applies_as_in_an_executor(tmp_path: Path) -> None:
    big = """
version: '2.0'
big:
  tasks:
    a:
      action: std.echo
      input:
        output: <% range(3000).select(str($)).join(',') %>
"""
    with started(tmp_path, field_size_limit_kb=4) as runtime:
        done, _ = run(runtime, big, "big")
    assert done["state"] == "ERROR"
    assert "Field size limit exceeded [class=ActionExecution, field=output" in (
        done["state_info"] or "")


FAILING = """
version: '2.0'
failing:
  tasks:
    a:
      action: std.fail
      retry: {count: 3, delay: 0}
      publish-on-error: {attempts: <% task().result %>}
      on-error: [handled]
    handled:
      action: std.noop
"""


def test_a_std_fail_retry_runs_its_attempts_in_one_step(rt: Runtime) -> None:
    """std.fail is pure: ``retry: {count: 3, delay: 0}`` runs its four attempts in the
    start's step when folded (one step each through the executor), with the same
    attempts, counters, state info and ``publish-on-error`` either way."""
    done, steps = run(rt, FAILING, "failing")
    assert done["state"] == "SUCCESS", done["state_info"]
    # through the executor: the start, one per attempt and handled's completion
    assert steps == (1 if rt.engine.folder is not None else 6)
    with rt.session() as s:
        a, handled = api.task_executions_of(s, done["id"])
        assert (a.name, a.state, handled.name, handled.state) == (
            "a", "ERROR", "handled", "SUCCESS")
        actions = api.action_executions_of(s, a.id)
        assert [(x.name, x.state) for x in actions] == [("std.fail", "ERROR")] * 4
        message = ("The action raised an exception [action=Fail action, "
                   f"action_ex_id={actions[-1].id}, msg='Fail action expected exception.']")
        assert a.state_info == message
        assert a.published == {"attempts": message}
        assert (a.engine_state or {}).get("retry_no") == 3
        assert all(x.output["result"] == message.replace(actions[-1].id, x.id)
                   for x in actions)
