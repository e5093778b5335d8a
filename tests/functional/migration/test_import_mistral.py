"""``wfaas-db-manage import-mistral`` on a real Mistral 23 database (SQLite and MariaDB).

The database was filled through Mistral's own API (make_mistral_db.py); after the
import, its workflows run on wfaas with the results Mistral recorded, its cron
triggers fire once, and a second run or a dry run writes nothing.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.functional.migration.conftest import recorded_roots
from wfaas.db import models as m
from wfaas.migration.importer import import_mistral
from wfaas.triggers import cron
from wfaas.triggers.service import TriggerService

WFAAS_TABLES = ("workbooks", "workflow_definitions", "action_definitions", "environments",
                "cron_triggers", "event_triggers", "workflow_executions", "task_executions",
                "action_executions")


def _import(runtime: Any, url: str, **kw: Any) -> Any:
    with runtime.session() as s:
        return import_mistral(url, s, **kw)


def _snapshot(runtime: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every imported table, sorted: to prove nothing changed."""
    out = {}
    with runtime.db.connect() as conn:
        for name in WFAAS_TABLES:
            rows = conn.execute(sa.text(f"SELECT * FROM {name}")).fetchall()
            out[name] = sorted(tuple(str(v) for v in r) for r in rows)
    return out


def _run_like_mistral(runtime: Any, recorded: dict[str, Any]) -> dict[str, Any]:
    params = json.loads(recorded["params"] or "{}")
    ex = runtime.start_workflow(recorded["workflow_id"],
                                input=json.loads(recorded["input"] or "{}"),
                                params={k: v for k, v in params.items()
                                        if k in ("env", "task_name")})
    return dict(runtime.wait_execution(ex["id"], timeout=30))


def _check_imported_objects(runtime: Any) -> None:
    with runtime.session(readonly=True) as s:
        wfs = {(w.namespace, w.name): w for w in s.scalars(sa.select(m.WorkflowDefinition))}
        assert {("", "hello"), ("team_a", "hello"), ("", "calc"), ("", "with_env"),
                ("", "fail_wf"), ("", "parent"), ("ops", "ops_wb.loud")} <= set(wfs)
        assert wfs[("", "hello")].scope == "public"
        assert wfs[("team_a", "hello")].scope == "private"
        assert wfs[("", "hello")].input == 'name="world"'
        assert wfs[("ops", "ops_wb.loud")].workbook_name == "ops_wb"
        actions = {a.name: a for a in s.scalars(sa.select(m.ActionDefinition).where(
            m.ActionDefinition.source == "adhoc"))}
        assert set(actions) == {"my_concat", "ops_wb.shout"}
        assert actions["my_concat"].input == 'a, b="z"' and actions["my_concat"].scope == "public"
        [env] = s.scalars(sa.select(m.Environment)).all()
        assert env.name == "prod_env" and env.variables == {"region": "RegionOne", "size": 3}
        trig = {t.name: t for t in s.scalars(sa.select(m.CronTrigger))}
        assert trig["hourly"].trust_id == "trust-0123"
        assert trig["hourly"].pattern == "0 * * * *"
        assert trig["hourly"].workflow_input == {"name": "cron"}
        assert trig["counted"].remaining_executions == 3
        assert trig["counted"].next_execution_time == _dt.datetime(2099, 1, 1)
        assert trig["once_only"].remaining_executions == 1
        [ev] = s.scalars(sa.select(m.EventTrigger)).all()
        assert (ev.exchange, ev.topic, ev.event) == ("nova", "notifications",
                                                     "compute.instance.create.end")
        assert ev.workflow_id == wfs[("", "hello")].id


def test_import_then_workflows_run_like_in_mistral(runtime: Any, mistral_url: str,
                                                   mistral_db: Path) -> None:
    report = _import(runtime, mistral_url, with_history=True)
    counts = report.counts()
    assert counts["workflows"]["create"] == 7 and counts["workbooks"]["create"] == 1
    assert counts["actions"] == {"create": 2, "unchanged": 0, "conflict": 0, "skip": 1}
    assert counts["cron_triggers"]["create"] == 3 and counts["event_triggers"]["create"] == 1
    assert counts["executions"]["create"] == 7
    _check_imported_objects(runtime)
    recorded = recorded_roots(mistral_db)
    assert len(recorded) == 7
    for rec in recorded:
        ours = _run_like_mistral(runtime, rec)
        assert ours["state"] == rec["state"], (rec["workflow_name"], ours["state_info"])
        if rec["state"] == "SUCCESS":
            assert ours["output"] == json.loads(rec["output"]), rec["workflow_name"]


def test_history_is_listed_with_tasks_and_results(runtime: Any, mistral_url: str,
                                                  mistral_db: Path) -> None:
    _import(runtime, mistral_url, with_history=True)
    with runtime.session(readonly=True) as s:
        parent = s.scalars(sa.select(m.WorkflowExecution).where(
            m.WorkflowExecution.workflow_name == "parent",
            m.WorkflowExecution.task_execution_id.is_(None))).one()
        assert parent.output == {"sub": "Hello, Cy!"} and parent.state == "SUCCESS"
        child = s.scalars(sa.select(m.WorkflowExecution).where(
            m.WorkflowExecution.root_execution_id == parent.id,
            m.WorkflowExecution.id != parent.id)).one()
        assert child.parent_execution_id == parent.id and child.workflow_name == "hello"
        count = s.scalars(sa.select(m.TaskExecution).where(m.TaskExecution.name == "count"))
        [task] = count.all()
        assert task.result == [10, 20, 30]
        assert len(s.scalars(sa.select(m.ActionExecution).where(
            m.ActionExecution.task_execution_id == task.id)).all()) == 3
        fail = s.scalars(sa.select(m.WorkflowExecution).where(
            m.WorkflowExecution.workflow_name == "fail_wf")).one()
        assert fail.state == "ERROR"


def test_second_run_changes_nothing(runtime: Any, mistral_url: str) -> None:
    first = _import(runtime, mistral_url, with_history=True)
    before = _snapshot(runtime)
    second = _import(runtime, mistral_url, with_history=True)
    assert _snapshot(runtime) == before
    assert second.changed == 0
    assert all(c["create"] == 0 and c["conflict"] == 0 for c in second.counts().values())
    assert sum(c["unchanged"] for c in second.counts().values()) == first.changed


def test_dry_run_changes_nothing_and_reports_what_a_run_does(runtime: Any,
                                                             mistral_url: str) -> None:
    before = _snapshot(runtime)
    dry = _import(runtime, mistral_url, with_history=True, dry_run=True)
    assert _snapshot(runtime) == before
    real = _import(runtime, mistral_url, with_history=True)
    assert dry.dry_run and dry.counts() == real.counts() and dry.changed == real.changed > 0


def test_conflicting_object_is_reported_and_left_alone(runtime: Any, mistral_url: str) -> None:
    with runtime.session() as s:
        s.add(m.Environment(name="prod_env", variables={"region": "mine"}))
    report = _import(runtime, mistral_url)
    [conflict] = [o for o in report.problems() if o.action == "conflict"]
    assert conflict.kind == "environments" and "variables" in conflict.reason
    with runtime.session(readonly=True) as s:
        assert s.scalars(sa.select(m.Environment)).one().variables == {"region": "mine"}


def _make_due(mistral_db: Path, name: str, when: _dt.datetime) -> None:
    con = sqlite3.connect(mistral_db)
    con.execute("UPDATE cron_triggers_v2 SET next_execution_time = ? WHERE name = ?",
                (when.strftime("%Y-%m-%d %H:%M:%S.%f"), name))
    con.commit()
    con.close()


def test_imported_cron_trigger_fires_once(runtime: Any, mistral_url: str,
                                          mistral_db: Path) -> None:
    due = cron.from_epoch(int(time.time()) + 4.0)
    _make_due(mistral_db, "counted", due)  # Mistral would run it at `due`
    _import(runtime, mistral_url)
    service = TriggerService(runtime.session, runtime.start_workflow, max_sleep=0.2)
    service.start()
    try:
        time.sleep(0.5)
        if time.time() < cron.to_epoch(due) - 0.2:  # (a slow import may have used it up)
            with runtime.session(readonly=True) as s:  # not before its time
                assert s.scalars(sa.select(m.WorkflowExecution)).all() == []
        deadline = time.time() + 15
        while time.time() < deadline and not _runs(runtime):
            time.sleep(0.1)
        time.sleep(1.5)  # a second firing would show up here
    finally:
        service.stop()
    runs = _runs(runtime)
    assert len(runs) == 1, runs
    assert cron.to_epoch(runs[0].created_at) >= cron.to_epoch(due)
    assert runtime.wait_execution(runs[0].id, timeout=20)["output"] == {
        "joined": "c-d", "tens": [10, 20, 30]}
    with runtime.session(readonly=True) as s:
        trig = s.scalars(sa.select(m.CronTrigger).where(m.CronTrigger.name == "counted")).one()
        assert trig.remaining_executions == 2
        assert trig.next_execution_time > due and trig.next_execution_time.minute % 5 == 0


def test_trigger_missed_during_the_switch_over(runtime: Any, mistral_url: str,
                                              mistral_db: Path) -> None:
    """Mistral stopped 10 minutes before its run; imported later: skipped by default (the
    next run is planned), fired exactly once with --catch-up."""
    late = cron.from_epoch(int(time.time()) - 600.0)
    _make_due(mistral_db, "counted", late)
    _make_due(mistral_db, "hourly", late)
    _import(runtime, mistral_url)
    with runtime.session() as s:  # as if imported with --catch-up: only "counted"
        s.execute(sa.update(m.CronTrigger).where(m.CronTrigger.name == "counted")
                  .values(catch_up=True))
    service = TriggerService(runtime.session, runtime.start_workflow, max_sleep=0.2)
    for _ in range(3):  # three passes: a second firing would show
        service.fire_due()
    runs = _runs(runtime)
    assert [r.workflow_name for r in runs] == ["calc"]
    with runtime.session(readonly=True) as s:
        trig = {t.name: t for t in s.scalars(sa.select(m.CronTrigger))}
    assert trig["counted"].remaining_executions == 2
    assert trig["hourly"].next_execution_time > cron.from_epoch(time.time())
    assert trig["hourly"].next_execution_time.minute == 0


def test_catch_up_option_sets_it(runtime: Any, mistral_url: str) -> None:
    _import(runtime, mistral_url, catch_up=True)
    with runtime.session(readonly=True) as s:
        assert all(t.catch_up for t in s.scalars(sa.select(m.CronTrigger)))


def _runs(runtime: Any) -> list[m.WorkflowExecution]:
    with runtime.session(readonly=True) as s:
        rows = list(s.scalars(sa.select(m.WorkflowExecution)))
        s.expunge_all()
    return rows


@pytest.mark.parametrize("backend", ["mariadb_url",
                                     pytest.param("postgres_url", marks=pytest.mark.postgres)])
def test_import_from_mariadb_and_postgres(runtime: Any, backend: str, mistral_url: str,
                                          request: pytest.FixtureRequest) -> None:
    source_url = request.getfixturevalue(backend)
    report = _import(runtime, source_url, with_history=True)
    assert report.revision == "045"
    assert report.counts()["workflows"]["create"] == 7
    assert report.counts()["executions"]["create"] == 7
    _check_imported_objects(runtime)
    with runtime.session(readonly=True) as s:
        calc = s.scalars(sa.select(m.WorkflowDefinition).where(
            m.WorkflowDefinition.name == "calc")).one()
        calc_id = calc.id
    ex = runtime.start_workflow(calc_id, input={"a": "p", "b": "q"})
    done = runtime.wait_execution(ex["id"], timeout=30)
    assert done["output"] == {"joined": "p-q", "tens": [10, 20, 30]}
    again = _import(runtime, source_url, with_history=True)
    assert again.changed == 0
    # the same objects as from the SQLite copy: that import finds all of them present
    from_sqlite = _import(runtime, mistral_url, with_history=True)
    assert from_sqlite.changed == 0 and not [o for o in from_sqlite.problems()
                                             if o.action == "conflict"]


def test_cli_dry_run_json_then_import(tmp_path: Path, mistral_url: str) -> None:
    target = f"sqlite:///{tmp_path}/cli.db"
    cmd = [sys.executable, "-m", "wfaas.cmd.db_manage", "--database", target,
           "import-mistral", "--from", mistral_url]
    dry = subprocess.run([*cmd, "--dry-run", "--json"], capture_output=True, text=True,
                         timeout=120)
    assert dry.returncode == 0, dry.stderr
    body = json.loads(dry.stdout)
    assert body["dry_run"] is True and body["counts"]["workflows"]["create"] == 7
    real = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert real.returncode == 0, real.stderr
    assert "created 17 object(s)" in real.stdout and "workflows" in real.stdout  # 2 members
    assert "workflows: 7 read" in real.stderr  # progress
    bad = subprocess.run([*cmd[:5], "import-mistral", "--from", target],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Not a Mistral v2 database" in bad.stderr


def test_members_go_to_the_members_table(runtime: Any, mistral_url: str) -> None:
    assert _import(runtime, mistral_url, dry_run=True).counts()["members"]["create"] == 2
    assert _import(runtime, mistral_url).counts()["members"]["create"] == 2
    with runtime.db.connect() as conn:
        rows = conn.execute(sa.text("SELECT member_id, status, resource_type FROM "
                                    "resource_members ORDER BY member_id")).fetchall()
    assert [tuple(r) for r in rows] == [("proj-b", "accepted", "workflow"),
                                        ("proj-c", "pending", "workflow")]
    assert _import(runtime, mistral_url).counts()["members"]["unchanged"] == 2
