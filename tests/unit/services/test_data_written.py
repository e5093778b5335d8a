"""What the engine shell writes per step after a large value, and what a sub-workflow
start costs in statements (SQLite and PostgreSQL; issue 17).

The bytes are the values of the INSERT/UPDATE statements the engine sends (counted with
a SQLAlchemy event on the real database): a task that follows a large publish must
write about as much as one that follows a small one.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from tests.unit.db.dbutil import DB_PARAMS, migrated_engine
from tests.unit.services import testactions
from tests.unit.services.conftest import define
from wfaas.db import models as m
from wfaas.services.runtime import Runtime

FOLLOW = 8


def chain(name: str, publish: list[str], follow: int) -> str:
    """Task ``big`` (``publish``: its on-success clause lines) then ``follow`` noop tasks."""
    lines = ["version: '2.0'", f"{name}:", "  input: [n]", "  output:",
             "    size: <% len($.big) %>", "  tasks:", "    big:", "      action: std.noop",
             *publish]
    for i in range(follow):
        lines += [f"    t{i}:", "      action: std.noop"]
        if i + 1 < follow:
            lines.append(f"      on-success: [t{i + 1}]")
    return "\n".join(lines) + "\n"


BRANCH = chain("branch_wf", ["      publish:", "        big: <% 'x' * $.n %>",
                             "      on-success: [t0]"], FOLLOW)
GLOBAL = chain("global_wf", ["      on-success:", "        publish:", "          global:",
                             "            big: <% 'x' * $.n %>", "        next: [t0]"],
               FOLLOW).replace("len($.big)", "len(global(big))")


class Written:
    """Bytes of the INSERT/UPDATE values sent to the database, per table."""

    def __init__(self, eng: Engine) -> None:
        self.lock = threading.Lock()
        self.by_table: dict[str, int] = {}
        event.listen(eng, "before_cursor_execute", self.seen)

    def seen(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
             executemany: bool) -> None:
        words = statement.split()
        if not words or words[0] not in ("INSERT", "UPDATE"):
            return
        table = (words[2] if words[0] == "INSERT" else words[1]).strip('"')
        groups = parameters if executemany else [parameters]
        size = sum(len(v.encode()) if isinstance(v, str) else 8
                   for group in groups
                   for v in (group.values() if isinstance(group, dict) else group)
                   if v is not None)
        with self.lock:
            self.by_table[table] = self.by_table.get(table, 0) + size

    def total(self) -> int:
        with self.lock:
            return sum(self.by_table.values())


@contextmanager
def runtime(db_kind: str, tmp_path: Path) -> Iterator[tuple[Runtime, Written]]:
    """A runtime whose every action goes through the executor (one step per task)."""
    with migrated_engine(db_kind, tmp_path) as eng:
        written = Written(eng)
        with Runtime(eng, provider=testactions.provider(),  # type: ignore[arg-type]
                     embedded=db_kind == "sqlite", pure_actions_per_step=0) as rt:
            yield rt, written


def bytes_of_run(rt: Runtime, written: Written, name: str, n: int) -> int:
    before = written.total()
    ex = rt.start_workflow(name, input={"n": n})
    done = rt.wait_execution(ex["id"], 60)
    assert done["state"] == "SUCCESS", done["state_info"]
    assert done["output"] == {"size": n}
    return written.total() - before


@pytest.mark.parametrize("db_kind", DB_PARAMS)
@pytest.mark.parametrize("wf", ["branch_wf", "global_wf"])
def test_tasks_after_a_large_publish_write_what_they_change(db_kind: str, wf: str,
                                                            tmp_path: Path) -> None:
    """A 300 KB value is written once: the run with it writes 300 KB more than the
    run with a 10-byte value, not 300 KB more per following task (before issue 17 a
    global one was rewritten with every step, FOLLOW + 1 times)."""
    with runtime(db_kind, tmp_path) as (rt, written):
        define(rt, BRANCH)
        define(rt, GLOBAL)
        small = bytes_of_run(rt, written, wf, 10)
        large = bytes_of_run(rt, written, wf, 300_000)
    extra = large - small
    # written once: by the publishing task's row (branch) or the context row (global)
    assert 290_000 <= extra <= 320_000, extra
    assert small < 60_000, small  # ~2 KB per step of FOLLOW + 1 steps, value included


@pytest.mark.parametrize("db_kind", DB_PARAMS)
def test_the_global_context_lives_in_its_own_row(db_kind: str, tmp_path: Path) -> None:
    """engine_state no longer carries the global context; the context row has it and
    the expressions of later tasks (and the output) still see it."""
    with runtime(db_kind, tmp_path) as (rt, written):
        define(rt, GLOBAL)
        ex = rt.start_workflow("global_wf", input={"n": 5})
        assert rt.wait_execution(ex["id"], 60)["output"] == {"size": 5}
        with rt.session() as s:
            row = s.get(m.WorkflowExecution, ex["id"])
            assert "context" not in (row.engine_state or {})
            stored = s.get(m.ExecutionContext, ex["id"])
            assert stored is not None
            assert stored.context["big"] == "xxxxx"
            assert stored.context["__execution"] == {"id": ex["id"]}
            assert "context" not in row.to_dict()


PAUSING = """
version: '2.0'
pausing:
  vars:
    v: from-vars
  output:
    v: <% $.v %>
    g: <% global(g) %>
  tasks:
    first:
      action: std.noop
      on-success:
        publish:
          global:
            g: published
        next: [second]
    second:
      action: std.noop
"""


@pytest.mark.parametrize("db_kind", DB_PARAMS)
def test_a_context_left_in_engine_state_by_an_older_version_is_read(
        db_kind: str, tmp_path: Path) -> None:
    """A row written before the context table existed (context in engine_state, no
    context row) runs on: the engine reads it there and stores it in its row."""
    with runtime(db_kind, tmp_path) as (rt, _):
        define(rt, PAUSING)
        ex_id = rt.start_workflow("pausing")["id"]
        rt.wait_execution(ex_id, 60)
        with rt.session() as s:  # make the finished row look like an old one, then rerun
            context = s.get(m.ExecutionContext, ex_id).context
            row = s.get(m.WorkflowExecution, ex_id)
            row.engine_state = {**row.engine_state, "context": context}
            s.delete(s.get(m.ExecutionContext, ex_id))
            second = s.scalars(select(m.TaskExecution).where(
                m.TaskExecution.workflow_execution_id == ex_id,
                m.TaskExecution.name == "second")).one()
            second.state = "ERROR"
            row.state = "ERROR"
            row.version += 1
        rt.engine.forget(ex_id)
        rt.rerun_task(second.id)
        done = rt.wait_execution(ex_id, 60)
        assert done["state"] == "SUCCESS", done["state_info"]
        assert done["output"] == {"v": "from-vars", "g": "published"}
        with rt.session() as s:
            assert s.get(m.ExecutionContext, ex_id).context["g"] == "published"


LEAF = """
version: '2.0'
leaf:
  input: [i]
  output:
    twice: <% $.i * 2 %>
  tasks:
    t:
      action: std.noop
"""


def fan(width: int) -> str:
    return (f"version: '2.0'\nfan{width}:\n  output:\n    r: <% $.r %>\n  tasks:\n"
            f"    each:\n      with-items: i in <% range({width}) %>\n"
            f"      workflow: leaf i=<% $.i %>\n      publish:\n"
            f"        r: <% task().result.select($.twice) %>\n")


@pytest.mark.parametrize("db_kind", DB_PARAMS)
def test_a_with_items_of_sub_workflows_looks_their_definition_up_once(
        db_kind: str, tmp_path: Path) -> None:
    """Starting W sub-workflows in one step reads the definition once (not W times), and
    the children still run with their own input and report their output in order."""
    reads: list[str] = []
    with runtime(db_kind, tmp_path) as (rt, _):
        define(rt, LEAF)
        for width in (5, 25):
            define(rt, fan(width))

        def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if statement.lstrip().startswith("SELECT") and "workflow_definitions" in statement:
                reads.append(statement)

        event.listen(rt.db, "before_cursor_execute", seen)
        counts = {}
        for width in (5, 25):
            reads.clear()
            ex = rt.start_workflow(f"fan{width}")
            done = rt.wait_execution(ex["id"], 120)
            assert done["state"] == "SUCCESS", done["state_info"]
            assert done["output"] == {"r": [2 * i for i in range(width)]}
            counts[width] = len(reads)
            with rt.session() as s:
                children = s.scalars(select(m.WorkflowExecution).where(
                    m.WorkflowExecution.parent_execution_id == ex["id"])).all()
            assert len(children) == width
            assert sorted(json.dumps(c.input) for c in children) == sorted(
                json.dumps({"i": i}) for i in range(width))
        event.remove(rt.db, "before_cursor_execute", seen)
    # the start reads it once; a few more per step that creates children at most
    assert counts[25] == counts[5], counts


ENV_WF = chain("env_wf", ["      publish:", "        big: <% env().big %>",
                          "      on-success: [t0]"], FOLLOW)
ENV_PAUSE = """
version: '2.0'
env_pause:
  output:
    a: <% env().a %>
    b: <% env().b %>
  tasks:
    first:
      action: std.noop
      on-success: [wait]
    wait:
      action: std.noop
      on-success: [last]
    last:
      action: std.noop
"""


@pytest.mark.parametrize("db_kind", DB_PARAMS)
def test_a_large_env_is_written_once_not_with_every_step(db_kind: str,
                                                         tmp_path: Path) -> None:
    """``env`` lives in ``params`` (written when the execution starts); before, every
    step's ``engine_state`` carried a copy of it too: a 300 KB env cost 300 KB per step."""
    with runtime(db_kind, tmp_path) as (rt, written):
        define(rt, ENV_WF)
        runs = {}
        for n in (10, 300_000):
            before = written.total()
            ex = rt.start_workflow("env_wf", input={"n": n},
                                   params={"env": {"big": "x" * n}})
            done = rt.wait_execution(ex["id"], 60)
            assert done["state"] == "SUCCESS", done["state_info"]
            assert done["output"] == {"size": n}
            runs[n] = written.total() - before
            with rt.session() as s:
                assert "env" not in (s.get(m.WorkflowExecution, ex["id"]).engine_state or {})
    # twice, whatever the number of steps: by the start's insert and by the task that
    # publishes it (the first step does not store params again when normalising left
    # them as the start stored them); a copy per step would be FOLLOW + 3 times
    assert 580_000 <= runs[300_000] - runs[10] <= 660_000, runs


@pytest.mark.parametrize("db_kind", DB_PARAMS)
def test_a_resume_with_env_merges_it_and_stores_it(db_kind: str, tmp_path: Path) -> None:
    """A resume's ``env`` is merged into the engine's env and into ``params.env``; the
    state reloaded from the database (the engine's cache dropped) still sees it."""
    with runtime(db_kind, tmp_path) as (rt, _):
        define(rt, ENV_PAUSE.replace("    wait:\n", "    wait:\n      pause-before: true\n"))
        ex_id = rt.start_workflow("env_pause", params={"env": {"a": 1, "b": 1}})["id"]
        assert rt.wait_for(lambda s: s.get(m.WorkflowExecution, ex_id).state == "PAUSED", 60)
        rt.engine.forget(ex_id)
        rt.resume_execution(ex_id, env={"b": 2})
        done = rt.wait_execution(ex_id, 60)
        assert done["state"] == "SUCCESS", done["state_info"]
        assert done["output"] == {"a": 1, "b": 2}
        assert done["params"]["env"] == {"a": 1, "b": 2}


INPUT_WF = chain("input_wf", ["      publish:", "        size: <% len($.blob) %>",
                              "      on-success: [t0]"], FOLLOW).replace(
    "input: [n]", "input: [blob]").replace("len($.big)", "$.size")


def wal_bytes_of_run(rt: Runtime, eng: Engine, blob: str, env_blob: str | None = None) -> int:
    """Bytes SQLite appended to its WAL for one run of ``input_wf`` (``blob``: its
    input) or, with ``env_blob``, of ``env_wf`` (``params.env.big``); the WAL is
    truncated first; it stays under the 1,000-page autocheckpoint here."""
    wal = Path(str(eng.url.database) + "-wal")
    conn = sqlite3.connect(str(eng.url.database), isolation_level=None)
    try:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    finally:
        conn.close()
    assert busy == 0
    if env_blob is None:
        ex = rt.start_workflow("input_wf", input={"blob": blob})
    else:
        ex = rt.start_workflow("env_out_wf", input={"n": 0}, params={"env": {"big": env_blob}})
    done = rt.wait_execution(ex["id"], 60)
    assert done["state"] == "SUCCESS", done["state_info"]
    assert done["output"] == {"size": len(blob if env_blob is None else env_blob)}
    return wal.stat().st_size


def test_tasks_after_a_large_input_do_not_rewrite_it_on_sqlite(tmp_path: Path) -> None:
    """A 300 KB workflow input is written to the database file once (the insert of the
    execution's body row), not once per following task: the steps update the header row
    only (before issue 17, FOLLOW + 1 steps wrote ~11 copies to the WAL)."""
    with migrated_engine("sqlite", tmp_path) as eng:
        with Runtime(eng, provider=testactions.provider(),  # type: ignore[arg-type]
                     embedded=True, pure_actions_per_step=0) as rt:
            define(rt, INPUT_WF)
            small = wal_bytes_of_run(rt, eng, "x")
            large = wal_bytes_of_run(rt, eng, "x" * 300_000)
    assert large - small < 2 * 300_000, (small, large)


#: ``env_wf`` without the publish: the env is read by the output only
ENV_OUT_WF = chain("env_out_wf", ["      on-success: [t0]"], FOLLOW).replace(
    "len($.big)", "len(env().big)")


def test_tasks_of_an_execution_with_a_large_env_do_not_rewrite_it_on_sqlite(
        tmp_path: Path) -> None:
    """A 300 KB ``params.env`` is written to the database file once (the insert of the
    body row, where ``params`` lives), not once per task: before, ``params`` was in the
    header row that every step updates (FOLLOW + 1 steps, ~2 copies each in the WAL),
    and the first step stored the params again (the start had not added ``env``)."""
    with migrated_engine("sqlite", tmp_path) as eng:
        with Runtime(eng, provider=testactions.provider(),  # type: ignore[arg-type]
                     embedded=True, pure_actions_per_step=0) as rt:
            define(rt, ENV_OUT_WF)
            small = wal_bytes_of_run(rt, eng, "", "x")
            large = wal_bytes_of_run(rt, eng, "", "x" * 300_000)
            with rt.session() as s:  # the reloaded state still has it
                ex = s.scalars(select(m.WorkflowExecution).order_by(
                    m.WorkflowExecution.created_at.desc())).first()
                assert ex is not None and ex.params["env"]["big"] == "x" * 300_000
    assert large - small < 2 * 300_000, (small, large)
