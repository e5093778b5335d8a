"""Runtime.from_config builds the embedded default and migrates it on first start."""

from __future__ import annotations

from pathlib import Path

from oslo_config import cfg
from sqlalchemy import inspect

from tests.unit.services import testactions
from tests.unit.services.conftest import define
from wfaas import config
from wfaas.db import migration
from wfaas.services.runtime import Runtime


def _conf(tmp_path: Path, text: str) -> cfg.ConfigOpts:
    path = tmp_path / "wfaas.conf"
    path.write_text(text)
    conf = cfg.ConfigOpts()
    config.register_opts(conf)
    conf(args=[], project="wfaas", default_config_files=[str(path)])
    return conf


def test_from_config_creates_sqlite_under_state_dir(tmp_path: Path) -> None:
    state = tmp_path / "state"
    conf = _conf(tmp_path, f"[DEFAULT]\nstate_dir = {state}\n[executor]\nworkers = 3\n")
    rt = Runtime.from_config(conf)
    try:
        assert (state / "wfaas.db").exists()
        assert migration.current_revision(rt.db) == migration.head_revision()
        assert "workflow_executions" in inspect(rt.db).get_table_names()
        assert rt.embedded and rt.executor._workers == 3
        assert rt.engine._workers_n == 1  # SQLite: one engine thread unless configured
        assert rt.engine.folder is not None and rt.engine.folder.limit == 1000
        assert rt.scheduler.max_sleep is None  # local transport: purely event-driven
        rt._provider = testactions.provider()
        rt.start()
        define(rt, "version: '2.0'\nwf:\n  tasks:\n    t: {action: std.noop}\n")
        ex = rt.start_workflow("wf")
        assert rt.wait_execution(ex["id"], 30)["state"] == "SUCCESS"
    finally:
        rt.close()
    # second start: schema already at head, data kept
    rt2 = Runtime.from_config(conf)
    try:
        with rt2.session() as s:
            from wfaas.db import api
            from wfaas.db import models as m

            assert api.count(s, m.WorkflowExecution) == 1
    finally:
        rt2.close()


def test_database_connection_option_wins(tmp_path: Path) -> None:
    db = tmp_path / "elsewhere.db"
    conf = _conf(tmp_path, f"[DEFAULT]\nstate_dir = {tmp_path / 'unused'}\n"
                           f"[database]\nconnection = sqlite:///{db}\n")
    rt = Runtime.from_config(conf)
    rt.close()
    assert db.exists() and not (tmp_path / "unused").exists()


def test_trigger_service_runs_with_the_scheduler_role(tmp_path: Path) -> None:
    from wfaas.triggers.service import TriggerService

    conf = _conf(tmp_path, f"[DEFAULT]\nstate_dir = {tmp_path}\n")
    rt = Runtime.from_config(conf)
    try:
        assert isinstance(rt.triggers, TriggerService)
        rt.start()
        assert rt.triggers._thread is not None and rt.triggers._thread.is_alive()
        thread = rt.triggers._thread
        rt.stop()
        assert not thread.is_alive() and rt.triggers._thread is None
    finally:
        rt.close()
    other = Runtime.from_config(conf, roles=("engine", "executor"))
    try:
        assert other.triggers is None
    finally:
        other.close()


def test_engine_options_are_applied(tmp_path: Path) -> None:
    conf = _conf(tmp_path, f"[DEFAULT]\nstate_dir = {tmp_path}\n[engine]\nworkers = 3\n"
                           "pure_actions_per_step = 0\n")
    rt = Runtime.from_config(conf)
    try:
        assert rt.engine._workers_n == 3 and rt.engine.folder is None
    finally:
        rt.close()
