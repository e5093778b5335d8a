"""An expression over its budget fails its task (and the execution) with a clear state_info.

Real workflows through the Runtime on SQLite (engine shell + executor + scheduler).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from oslo_config import cfg

from tests.unit.db.dbutil import migrated_engine
from tests.unit.services import testactions
from tests.unit.services.conftest import define
from wfaas import config, expressions
from wfaas.db import api
from wfaas.services import expression_settings
from wfaas.services.runtime import Runtime

TASKS = {
    "publish_bomb": """
      action: std.noop
      publish:
        v: <% range(30000).select(range(30000).sum()).len() %>""",
    "input_bomb": """
      action: std.echo
      input:
        output: '{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}\
{% endfor %}'""",
    "redos": """
      action: std.noop
      publish:
        v: <% regex('(a+)+$').matches('a' * 30 + '!') %>""",
}


def _single(task: str) -> str:
    """A workflow ``bomb_<task>`` running only ``task``."""
    return f"version: '2.0'\nbomb_{task}:\n  tasks:\n    {task}:{TASKS[task]}\n"


@pytest.fixture
def sqlite_runtime(tmp_path: Path) -> Iterator[Runtime]:
    """A started Runtime on a SQLite file, with a 1 s expression budget from the config."""
    conf = cfg.ConfigOpts()
    config.register_opts(conf)
    conf([], project="wfaas-test")
    conf.set_override("evaluation_timeout", 1.0, group="expressions")
    expression_settings.apply(conf)
    with migrated_engine("sqlite", tmp_path) as eng:
        rt = Runtime(eng, provider=testactions.provider(), executor_workers=4, embedded=True)
        rt.start()
        try:
            yield rt
        finally:
            rt.stop()
            expressions.configure()


#: Whichever comes first on a busy machine: the deadline or the fuel.
LIMIT = (r"(time budget of 1 s \(\[expressions\] evaluation_timeout\)"
         r"|step budget of 1000000 steps \(\[expressions\] max_fuel\))")


@pytest.mark.parametrize("task", ["publish_bomb", "input_bomb"])
def test_expression_over_budget_fails_the_task(sqlite_runtime: Runtime, task: str) -> None:
    limit = LIMIT
    rt = sqlite_runtime
    define(rt, _single(task))
    started = time.monotonic()
    ex = rt.start_workflow(f"bomb_{task}")
    done = rt.wait_execution(ex["id"], 60)
    assert done["state"] == "ERROR", done
    assert time.monotonic() - started < 30
    with rt.session() as s:
        tasks = api.task_executions_of(s, ex["id"])
    assert [t.state for t in tasks] == ["ERROR"]
    import re
    assert re.search(limit, tasks[0].state_info or ""), tasks[0].state_info
    assert re.search(limit, done["state_info"] or ""), done["state_info"]


def test_redos_pattern_runs_in_linear_time(sqlite_runtime: Runtime) -> None:
    rt = sqlite_runtime
    define(rt, _single("redos"))
    started = time.monotonic()
    ex = rt.start_workflow("bomb_redos")
    done = rt.wait_execution(ex["id"], 60)
    assert done["state"] == "SUCCESS", done["state_info"]
    assert time.monotonic() - started < 10
    with rt.session() as s:
        tasks = api.task_executions_of(s, ex["id"])
    assert tasks[0].published == {"v": False}
