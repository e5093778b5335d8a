"""Fixtures of the trigger functional tests: a real Runtime (SQLite file) and the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import webtest
from oslo_config import cfg

import wfaas.api.controllers.event_triggers  # noqa: F401 - registers the routes
from tests.functional.api.conftest import Client, make_conf, make_runtime
from wfaas.api.app import setup_app
from wfaas.db import api as db
from wfaas.db import models as m

ECHO_WF = """---
version: '2.0'
echo_wf:
  input:
    - who
    - extra: none
  output:
    who: <% $.who %>
  tasks:
    say:
      action: std.echo output=<% $.who %>
"""


@pytest.fixture
def conf(tmp_path: Path) -> cfg.ConfigOpts:
    return make_conf(tmp_path)


@pytest.fixture
def runtime(conf: cfg.ConfigOpts) -> Iterator[Any]:
    rt = make_runtime(conf)
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture
def workflow_id(runtime: Any) -> str:
    with runtime.session() as s:
        return str(db.create(s, m.WorkflowDefinition, name="echo_wf", definition=ECHO_WF,
                             input="who, extra=\"none\"").id)


@pytest.fixture
def client(runtime: Any, conf: cfg.ConfigOpts) -> Client:
    return Client(webtest.TestApp(setup_app(runtime, conf)))


def executions(runtime: Any) -> list[dict[str, Any]]:
    """Every workflow execution row as a dict."""
    from sqlalchemy import select

    with runtime.session() as s:
        return [r.to_dict() for r in s.scalars(select(m.WorkflowExecution))]


def wait_executions(runtime: Any, count: int, timeout: float = 20.0,
                    state: str | None = None) -> list[dict[str, Any]]:
    """Wait (event-driven) until ``count`` executions exist (in ``state``)."""
    from sqlalchemy import select

    def check(s: Any) -> list[dict[str, Any]] | None:
        stmt = select(m.WorkflowExecution)
        if state:
            stmt = stmt.where(m.WorkflowExecution.state == state)
        rows = [r.to_dict() for r in s.scalars(stmt)]
        return rows if len(rows) >= count else None

    found = runtime.wait_for(check, timeout)
    assert found, f"expected {count} executions{' in ' + state if state else ''}: " \
                  f"{executions(runtime)}"
    return list(found)
