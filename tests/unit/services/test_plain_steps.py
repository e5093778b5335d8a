"""A plain engine step (rows only: no timer, no sub-workflow) is written without an ORM
session, in one transaction of prebuilt statements; the other steps keep the session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select

from tests.unit.services.conftest import define
from wfaas.db import models as m
from wfaas.services import engine_service
from wfaas.services.runtime import Runtime

SEQUENCE = """
version: '2.0'
seq:
  output:
    out: <% $.v %>
  tasks:
    a:
      action: std.echo output=1
      publish: {v: <% task().result %>}
      on-success: [b]
    b:
      action: std.echo output=<% $.v + 1 %>
      publish: {v: <% task().result %>}
"""

WAITING = """
version: '2.0'
waits:
  tasks:
    a:
      action: std.noop
      wait-after: 1
"""


@pytest.fixture
def write_sessions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The write sessions the engine opens (by thread name)."""
    opened: list[str] = []
    real = engine_service.session_scope

    @contextmanager
    def counting(sessions: Any, *, readonly: bool = False) -> Iterator[Any]:
        if not readonly:
            opened.append("write")
        with real(sessions, readonly=readonly) as s:
            yield s

    monkeypatch.setattr(engine_service, "session_scope", counting)
    return opened


def test_plain_steps_need_no_session(runtime: Runtime, write_sessions: list[str]) -> None:
    runtime.engine.folder = None  # every action goes through the executor
    define(runtime, SEQUENCE)
    done = runtime.wait_execution(runtime.start_workflow("seq", input={})["id"], 60)
    assert done["state"] == "SUCCESS" and done["output"] == {"out": 2}
    assert write_sessions == []
    with runtime.session() as s:
        tasks = s.scalars(select(m.TaskExecution).where(
            m.TaskExecution.workflow_execution_id == done["id"])
            .order_by(m.TaskExecution.created_at)).all()
        actions = s.scalars(select(m.ActionExecution).where(
            m.ActionExecution.workflow_execution_id == done["id"])).all()
    assert [(t.name, t.state, t.published) for t in tasks] == [
        ("a", "SUCCESS", {"v": 1}), ("b", "SUCCESS", {"v": 2})]
    assert sorted(a.output["result"] for a in actions) == [1, 2]


def test_a_step_with_a_timer_keeps_the_session(runtime: Runtime,
                                              write_sessions: list[str]) -> None:
    define(runtime, WAITING)
    done = runtime.wait_execution(runtime.start_workflow("waits", input={})["id"], 60)
    assert done["state"] == "SUCCESS"
    assert write_sessions  # the timer's row is written in a session
