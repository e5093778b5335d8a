"""Separate wfaas-server processes (2 engines, 2 executors, 1 API, 1 scheduler, plus an
executor group ``blue``) on PostgreSQL and RabbitMQ, driven through the REST API.

One cluster serves the whole module (starting it costs most of the time); each
test uses its own workflows. The database is dropped and the queues deleted at
the end, whatever happens.
"""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, func, select

from tests.functional.distributed.conftest import ensure_rabbit_app_running
from tools.distributed.cluster import Cluster
from wfaas.db import models as m

pytestmark = [pytest.mark.rabbit, pytest.mark.postgres, pytest.mark.slow]
TERMINAL = ("SUCCESS", "ERROR", "CANCELLED")


def upload(cluster: Cluster, text: str) -> None:
    r = requests.post(cluster.api_url + "/v2/workflows", data=text,
                      headers={"Content-Type": "text/plain"}, timeout=30)
    assert r.status_code == 201, r.text


def start(cluster: Cluster, name: str, inp: dict[str, Any] | None = None) -> str:
    import json

    body = {"workflow_name": name, "input": json.dumps(inp or {})}
    r = requests.post(cluster.api_url + "/v2/executions", json=body, timeout=30)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def wait_all(db: Engine, ids: list[str], timeout: float) -> dict[str, m.WorkflowExecution]:
    """Poll the database until every execution is terminal; return the rows."""
    deadline = time.monotonic() + timeout
    while True:
        with db.connect() as conn:
            rows = {r.id: r for r in conn.execute(
                select(m.WorkflowExecution.id, m.WorkflowExecution.state,
                       m.WorkflowExecution.state_info, m.WorkflowExecution.output)
                .where(m.WorkflowExecution.id.in_(ids)))}
        pending = [i for i in ids if i not in rows or rows[i].state not in TERMINAL]
        if not pending or time.monotonic() > deadline:
            assert not pending, (f"{len(pending)} executions not finished, "
                                 f"e.g. {rows.get(pending[0])}: {_progress(db, pending[0])}")
            return rows  # type: ignore[return-value]
        time.sleep(0.5)


def _progress(db: Engine, ex_id: str) -> dict[str, Any]:
    """What an unfinished execution got to: its tasks and actions by state (for the
    message of a failed wait)."""
    with db.connect() as conn:
        tasks = conn.execute(select(m.TaskExecution.state, func.count()).where(
            m.TaskExecution.workflow_execution_id == ex_id)
            .group_by(m.TaskExecution.state)).all()
        actions = conn.execute(select(m.ActionExecution.state, func.count()).where(
            m.ActionExecution.workflow_execution_id == ex_id)
            .group_by(m.ActionExecution.state)).all()
        unfinished = conn.execute(select(m.TaskExecution.name, m.TaskExecution.state).where(
            m.TaskExecution.workflow_execution_id == ex_id,
            m.TaskExecution.state.not_in(TERMINAL)).limit(5)).all()
    return {"tasks": dict(tasks), "actions": dict(actions),  # type: ignore[arg-type]
            "unfinished": [tuple(r) for r in unfinished]}


def task_counts(db: Engine, ex_ids: list[str]) -> dict[tuple[str, str], int]:
    """(execution id, task name) -> number of task executions."""
    with db.connect() as conn:
        rows = conn.execute(select(m.TaskExecution.workflow_execution_id, m.TaskExecution.name,
                                   func.count()).where(
            m.TaskExecution.workflow_execution_id.in_(ex_ids))
            .group_by(m.TaskExecution.workflow_execution_id, m.TaskExecution.name))
        return {(r[0], r[1]): r[2] for r in rows}


def action_counts(db: Engine, ex_ids: list[str]) -> dict[tuple[str, str], int]:
    """(execution id, task name) -> number of action executions."""
    with db.connect() as conn:
        rows = conn.execute(select(m.ActionExecution.workflow_execution_id,
                                   m.ActionExecution.task_name, func.count()).where(
            m.ActionExecution.workflow_execution_id.in_(ex_ids))
            .group_by(m.ActionExecution.workflow_execution_id, m.ActionExecution.task_name))
        return {(r[0], r[1]): r[2] for r in rows}


def test_join_of_100_branches_runs_once(cluster: Cluster, db: Engine) -> None:
    branches = "\n".join(f"    b{i}:\n      action: std.noop\n      on-success: join_all"
                         for i in range(100))
    upload(cluster, f"""version: '2.0'
join100:
  tasks:
{branches}
    join_all:
      join: all
      action: std.echo output=done
      publish: {{out: <% task().result %>}}
  output: {{out: <% $.out %>}}
""")
    ids = [start(cluster, "join100") for _ in range(3)]
    rows = wait_all(db, ids, 90)
    assert {r.state for r in rows.values()} == {"SUCCESS"}, [r.state_info for r in rows.values()]
    counts = task_counts(db, ids)
    for ex in ids:
        assert counts[(ex, "join_all")] == 1
        assert sum(n for (e, _), n in counts.items() if e == ex) == 101
    actions = action_counts(db, ids)
    assert all(actions[(ex, "join_all")] == 1 for ex in ids)


def test_with_items_1000_counts_every_item_once(cluster: Cluster, db: Engine) -> None:
    upload(cluster, """version: '2.0'
items1000:
  input: [n]
  tasks:
    fan:
      with-items: i in <% range($.n) %>
      concurrency: 200
      action: std.echo output=<% $.i %>
      publish: {total: <% task().result.sum() %>, count: <% task().result.len() %>}
  output: {total: <% $.total %>, count: <% $.count %>}
""")
    ex = start(cluster, "items1000", {"n": 1000})
    rows = wait_all(db, [ex], 120)
    assert rows[ex].state == "SUCCESS", rows[ex].state_info
    assert rows[ex].output == {"total": sum(range(1000)), "count": 1000}
    assert action_counts(db, [ex])[(ex, "fan")] == 1000


def test_target_routes_the_action_to_its_executor_group(cluster: Cluster, db: Engine) -> None:
    upload(cluster, """version: '2.0'
targeted:
  tasks:
    here:
      action: std.echo output=anywhere
    there:
      action: std.echo output=blue
      target: blue
""")
    cluster.kill("executor-blue1")
    ex = start(cluster, "targeted")
    with pytest.raises(AssertionError, match="not finished"):
        wait_all(db, [ex], 4)  # nobody serves group blue: its action waits in its queue
    cluster.start("executor-blue1")
    rows = wait_all(db, [ex], 60)
    assert rows[ex].state == "SUCCESS", rows[ex].state_info


KILL_WF = """version: '2.0'
crashy:
  tasks:
    a:
      action: std.sleep seconds=0.5
      safe-rerun: true
      on-success: b
    b:
      action: std.echo output=<% execution().id %>
      publish: {me: <% task().result %>}
      on-success: c
    c:
      action: std.sleep seconds=0.5
      safe-rerun: true
  output: {me: <% $.me %>}
"""


def _check_crash_results(db: Engine, ids: list[str], rows: dict[str, Any]) -> None:
    for ex_id, row in rows.items():
        if row.state == "ERROR":  # only a non-safe-rerun action on the killed executor
            assert "executor" in (row.state_info or "").lower(), row.state_info
        else:
            assert row.state == "SUCCESS" and row.output == {"me": ex_id}, row
    counts = task_counts(db, ids)
    actions = action_counts(db, ids)
    for ex_id in ids:
        assert counts.get((ex_id, "a"), 0) == 1 and counts.get((ex_id, "b"), 0) <= 1
        assert actions.get((ex_id, "b"), 0) <= 1  # not safe-rerun: never run twice


def test_200_executions_survive_kill_9_of_an_engine_and_an_executor(
        cluster: Cluster, db: Engine) -> None:
    upload(cluster, KILL_WF)
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda _: start(cluster, "crashy"), range(200)))
    time.sleep(1.0)
    cluster.kill("engine1")
    cluster.kill("executor1")
    time.sleep(2.0)
    cluster.start("engine1")
    cluster.start("executor1")
    rows = wait_all(db, ids, 150)
    _check_crash_results(db, ids, rows)


#: seconds each action of the lost-executor test sleeps: the executors must be killed
#: while both still run, whichever executor took which and however loaded the machine
LOST_SLEEP = 10


def _wait_accepted(db: Engine, ex_ids: list[str], timeout: float = 30) -> None:
    """Wait until the action of every execution has been seen RUNNING and accepted by an
    executor (a heartbeat reached an engine). Each execution is recorded once seen: on
    a loaded machine one action may be accepted, or even finish, before the other."""
    accepted: set[str] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.connect() as conn:
            accepted.update(conn.scalars(select(m.ActionExecution.workflow_execution_id).where(
                m.ActionExecution.workflow_execution_id.in_(ex_ids),
                m.ActionExecution.state == "RUNNING", m.ActionExecution.accepted.is_(True))))
        if accepted >= set(ex_ids):
            return
        time.sleep(0.1)
    with db.connect() as conn:
        actions = [tuple(r) for r in conn.execute(select(
            m.ActionExecution.workflow_execution_id, m.ActionExecution.state,
            m.ActionExecution.accepted, m.ActionExecution.created_at,
            m.ActionExecution.updated_at).where(
            m.ActionExecution.workflow_execution_id.in_(ex_ids)))]
        executions = [tuple(r) for r in conn.execute(select(
            m.WorkflowExecution.id, m.WorkflowExecution.state,
            m.WorkflowExecution.state_info).where(m.WorkflowExecution.id.in_(ex_ids)))]
    raise AssertionError(f"actions of {sorted(set(ex_ids) - accepted)} never accepted by an "
                         f"executor within {timeout} s; actions {actions}, "
                         f"executions {executions}")


def test_action_of_a_killed_executor_is_rerun_only_when_safe(cluster: Cluster,
                                                             db: Engine) -> None:
    upload(cluster, f"""version: '2.0'
lost_safe:
  tasks:
    t:
      action: std.sleep seconds={LOST_SLEEP}
      safe-rerun: true
lost_unsafe:
  tasks:
    t:
      action: std.sleep seconds={LOST_SLEEP}
""")
    posted = time.monotonic()  # neither action can have started before this
    safe, unsafe = start(cluster, "lost_safe"), start(cluster, "lost_unsafe")
    _wait_accepted(db, [safe, unsafe])
    cluster.kill("executor1")
    cluster.kill("executor2")
    # Both actions started (accepted) and neither can have ended yet: both executors died
    # under running actions, so whatever finishes now was run again (or failed as lost).
    assert time.monotonic() - posted < LOST_SLEEP, (
        f"the executors were killed more than {LOST_SLEEP} s after the start: the actions "
        "may have finished already, so this run proves nothing")
    cluster.start("executor1")
    cluster.start("executor2")
    rows = wait_all(db, [safe, unsafe], 60 + LOST_SLEEP)
    assert rows[safe].state == "SUCCESS", rows[safe].state_info
    assert rows[unsafe].state == "ERROR", rows[unsafe].state
    with db.connect() as conn:
        info = conn.scalar(select(m.TaskExecution.state_info).where(
            m.TaskExecution.workflow_execution_id == unsafe))
    assert "was lost: its executor stopped sending heartbeats" in (info or ""), info


def test_rabbitmq_restart_during_a_run(cluster: Cluster, db: Engine) -> None:
    upload(cluster, KILL_WF.replace("crashy:", "bumpy:"))
    ids = [start(cluster, "bumpy") for _ in range(40)]
    try:
        time.sleep(0.5)
        subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True,
                       timeout=120)
        time.sleep(2.0)
        subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True,
                       timeout=120)
    finally:
        ensure_rabbit_app_running()
    rows = wait_all(db, ids, 120)
    _check_crash_results(db, ids, rows)


@pytest.mark.parametrize("durable", [False, True], ids=["async-commit", "durable"])
def test_acceptance_on_postgresql_claims_each_action_once(cluster: Cluster, db: Engine,
                                                          durable: bool) -> None:
    from sqlalchemy import text, update
    from sqlalchemy.orm import sessionmaker

    from wfaas.executors.acceptance import Acceptance, Verdict

    name = f"accept_once_{'durable' if durable else 'async'}"
    upload(cluster, f"version: '2.0'\n{name}:\n  tasks:\n    t: {{action: std.noop}}\n")
    ex = start(cluster, name)
    wait_all(db, [ex], 60)
    a = m.ActionExecution
    with db.begin() as conn:  # as if the request were still waiting for an executor
        action_id = conn.execute(select(a.id).where(a.workflow_execution_id == ex)).scalar_one()
        conn.execute(update(a).where(a.id == action_id).values(state="RUNNING",
                                                                accepted=False))
    try:
        acceptance = Acceptance(sessionmaker(bind=db), durable=durable)
        assert acceptance.accept(action_id) is Verdict.RUN
        assert acceptance.accept(action_id) is Verdict.TAKEN  # a redelivered copy: dropped
        with db.connect() as conn:  # committed, visible to others; no setting leaked
            assert conn.execute(select(a.accepted).where(a.id == action_id)).scalar_one()
            assert conn.execute(text("SHOW synchronous_commit")).scalar_one() == "on"
    finally:
        with db.begin() as conn:
            conn.execute(update(a).where(a.id == action_id).values(state="SUCCESS"))


def test_acceptance_claims_a_batch_once_each_across_executors(cluster: Cluster,
                                                              db: Engine) -> None:
    """Requests arriving together are claimed in one statement (claim_many); two
    executors claiming the same rows concurrently run each action exactly once."""
    from sqlalchemy import update
    from sqlalchemy.orm import sessionmaker

    from wfaas.executors.acceptance import Acceptance, Verdict

    upload(cluster, "version: '2.0'\naccept_batch:\n  tasks:\n    t:\n"
           "      with-items: i in <% range(12) %>\n      action: std.noop\n")
    ex = start(cluster, "accept_batch")
    wait_all(db, [ex], 60)
    a = m.ActionExecution
    with db.begin() as conn:  # as if the requests were still waiting for executors
        ids = list(conn.execute(select(a.id).where(a.workflow_execution_id == ex)).scalars())
        conn.execute(update(a).where(a.id.in_(ids)).values(state="RUNNING", accepted=False))
    assert len(ids) == 12
    try:
        one, two = (Acceptance(sessionmaker(bind=db)) for _ in range(2))
        with db.begin() as conn:
            conn.execute(update(a).where(a.id == ids[0]).values(state="SUCCESS"))
        verdicts = one.claim_many(ids[:4] + ["no-such-action"])
        assert verdicts == [Verdict.FINISHED, Verdict.RUN, Verdict.RUN, Verdict.RUN,
                            Verdict.UNKNOWN]
        assert two.claim_many(ids[1:3]) == [Verdict.TAKEN, Verdict.TAKEN]
        rest = ids[4:] * 2
        with ThreadPoolExecutor(8) as pool:  # both executors, every request twice
            got = list(pool.map(lambda i: (one if i % 2 else two).accept(rest[i]),
                                range(len(rest))))
        runs = [rest[i] for i, v in enumerate(got) if v is Verdict.RUN]
        assert sorted(runs) == sorted(ids[4:])  # each once, whoever won
        assert one._batcher.items + two._batcher.items == len(rest)
    finally:
        with db.begin() as conn:
            conn.execute(update(a).where(a.id.in_(ids)).values(state="SUCCESS"))
