"""Retention ([execution_expiration_policy], wfaas-db-manage purge) on SQLite and PostgreSQL.

The execution trees are real: Mistral's recorded history imported from the Mistral 23
fixture (a parent with a sub-workflow, with-items, a failure), and trees wfaas itself
ran (with their timers and action executions).
"""

from __future__ import annotations

import datetime as _dt
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.unit.db.dbutil import DB_PARAMS, migrated_engine
from wfaas.db import models as m
from wfaas.db.session import session_scope
from wfaas.migration.importer import import_mistral
from wfaas.services.retention import RetentionPolicy, RetentionService, purge

TABLES = (m.EXECUTIONS, m.TaskExecution.__table__, m.ActionExecution.__table__)


def _counts(engine: Any) -> dict[str, int]:
    with session_scope(engine, readonly=True) as s:
        counts = {t.name: int(s.scalar(sa.select(sa.func.count()).select_from(t)) or 0)
                  for t in TABLES}
        # one body row per execution, deleted with it
        assert s.scalar(sa.select(sa.func.count()).select_from(m.EXECUTION_BODIES)) == counts[
            "workflow_executions"]
        return counts


def _roots(engine: Any) -> dict[str, str]:
    ex = m.WorkflowExecution
    with session_scope(engine, readonly=True) as s:
        rows = s.execute(sa.select(ex.id, ex.workflow_name).where(
            ex.task_execution_id.is_(None))).all()
    return {r.id: r.workflow_name for r in rows}


def _finished(engine: Any) -> dict[str, _dt.datetime]:
    ex = m.WorkflowExecution
    with session_scope(engine, readonly=True) as s:
        rows = s.execute(sa.select(ex.id, ex.finished_at).where(ex.task_execution_id.is_(None)))
        return {r[0]: r[1] for r in rows}


@contextmanager
def _imported(kind: str, tmp_path: Path, mistral_url: str) -> Iterator[Any]:
    """A migrated wfaas database holding Mistral's imported history."""
    with migrated_engine(kind, tmp_path) as engine:
        with session_scope(engine) as s:
            import_mistral(mistral_url, s, with_history=True)
        yield engine


@pytest.mark.parametrize("kind", DB_PARAMS)
def test_purge_deletes_whole_expired_trees(kind: str, tmp_path: Path, mistral_url: str) -> None:
    with _imported(kind, tmp_path, mistral_url) as engine:
        before = _counts(engine)
        assert before == {"workflow_executions": 8, "task_executions": 9,
                          "action_executions": 10}
        finished = _finished(engine)
        newest = max(finished.values())
        now = newest + _dt.timedelta(minutes=30)
        # nothing is 60 minutes old yet: nothing goes, a dry run neither
        assert purge(engine, RetentionPolicy(older_than=60), now=now).roots == 0
        dry = purge(engine, RetentionPolicy(older_than=10), now=now, dry_run=True)
        assert dry.roots == 7 and dry.rows["workflow_executions"] == 8
        assert _counts(engine) == before
        # ERROR is ignored: everything else goes, batch by batch, sub-executions included
        done = purge(engine, RetentionPolicy(older_than=10, batch_size=2,
                                             ignored_states=("ERROR",)), now=now)
        assert done.roots == 6 and done.rows["workflow_executions"] == 7
        assert done.rows["task_executions"] == 8 and done.rows["action_executions"] == 9
        assert list(_roots(engine).values()) == ["fail_wf"]
        assert _counts(engine) == {"workflow_executions": 1, "task_executions": 1,
                                   "action_executions": 1}


@pytest.mark.parametrize("kind", DB_PARAMS)
def test_max_finished_keeps_the_newest(kind: str, tmp_path: Path, mistral_url: str) -> None:
    with _imported(kind, tmp_path, mistral_url) as engine:
        finished = _finished(engine)
        newest_three = sorted(finished, key=lambda i: (finished[i], i))[-3:]
        result = purge(engine, RetentionPolicy(max_finished=3))
        assert result.roots == 4
        assert sorted(_roots(engine)) == sorted(newest_three)
        assert purge(engine, RetentionPolicy(max_finished=3)).roots == 0


def test_service_purges_wfaas_trees_in_the_scheduler_role(runtime: Any) -> None:
    with runtime.session() as s:
        s.add(m.WorkflowDefinition(name="kid", definition=KID, input="x"))
        s.add(m.WorkflowDefinition(name="mom", definition=MOM, input=""))
    done = runtime.wait_execution(runtime.start_workflow("mom")["id"], timeout=30)
    assert done["state"] == "SUCCESS" and done["output"] == {"r": [2, 4]}
    running = runtime.start_workflow("kid", input={"x": 0})  # sleeps: not finished yet
    assert _counts(runtime.sessions)["workflow_executions"] == 4
    service = RetentionService(runtime.sessions, RetentionPolicy(
        evaluation_interval=0.01, max_finished=0, older_than=0.0001))
    service.start()
    try:
        deadline = time.time() + 10
        while time.time() < deadline and done["id"] in _roots(runtime.sessions):
            time.sleep(0.05)
    finally:
        service.stop()
    assert list(_roots(runtime.sessions)) == [running["id"]]  # the running one stays
    assert _counts(runtime.sessions)["workflow_executions"] == 1
    with runtime.session(readonly=True) as s:
        orphans = s.scalars(sa.select(m.TaskExecution.workflow_execution_id)).all()
    assert set(orphans) <= {running["id"]}


KID = """---
version: '2.0'
kid:
  input: [x]
  tasks:
    t:
      action: std.sleep seconds=<% switch($.x > 0 => 0, true => 5) %>
      publish:
        y: <% $.x * 2 %>
  output:
    y: <% $.y %>
"""
MOM = """---
version: '2.0'
mom:
  tasks:
    each:
      with-items: i in <% [1, 2] %>
      workflow: kid x=<% $.i %>
      publish:
        r: <% task().result.y %>
  output:
    r: <% $.r %>
"""


def test_cli_purge(tmp_path: Path, mistral_url: str) -> None:
    target = f"sqlite:///{tmp_path}/cli.db"
    base = [sys.executable, "-m", "wfaas.cmd.db_manage", "--database", target]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args], capture_output=True, text=True, timeout=120)

    assert run("import-mistral", "--from", mistral_url, "--with-history",
               "--quiet").returncode == 0
    nothing = run("purge")
    assert nothing.returncode == 2 and "--older-than" in nothing.stderr
    dry = run("purge", "--max-finished", "2", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    # the five oldest of the seven trees: hello x2, calc (4 actions), with_env, fail_wf
    assert json.loads(dry.stdout) == {"dry_run": True, "expired_executions": 5, "deleted": {
        "action_executions": 8, "delayed_calls": 0, "task_executions": 6,
        "workflow_executions": 5}}
    real = run("purge", "--max-finished", "2")
    assert real.returncode == 0 and real.stdout.startswith("5 expired execution tree(s); deleted")
    again = run("purge", "--max-finished", "2", "--json")
    assert json.loads(again.stdout)["expired_executions"] == 0
