"""Shared helpers of the trigger tests: a migrated database, workflows, a recording starter."""

from __future__ import annotations

import datetime as _dt
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from wfaas.db import api as db
from wfaas.db import models as m
from wfaas.db.session import session_factory, session_scope

WF_TEXT = """---
version: '2.0'
greet:
  input:
    - name
    - greeting: Hello
  tasks:
    say:
      action: std.echo output="<% $.greeting %> <% $.name %>"
"""

NOINPUT_TEXT = """---
version: '2.0'
plain:
  tasks:
    t:
      action: std.noop
"""


def sessions_of(engine: Engine) -> Callable[[], AbstractContextManager[Session]]:
    """A ``session()`` context-manager factory over ``engine`` (like Runtime.session)."""
    factory = session_factory(engine)

    @contextmanager
    def session() -> Iterator[Session]:
        with session_scope(factory) as s:
            yield s

    return session


def add_workflow(session: Session, text: str = WF_TEXT, name: str = "greet",
                 namespace: str = "") -> m.WorkflowDefinition:
    """Store a workflow definition row."""
    return db.create(session, m.WorkflowDefinition, name=name, namespace=namespace,
                     definition=text, input="")


class RecordingStarter:
    """Stands for Runtime.start_workflow: stores an execution row (so a duplicate id
    raises Conflict, as the real one does) and records every call."""

    def __init__(self, session: Callable[[], AbstractContextManager[Session]]) -> None:
        self.session = session
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Condition()

    def __call__(self, identifier: str, *, namespace: str = "",
                 input: dict[str, Any] | None = None, params: dict[str, Any] | None = None,
                 description: str = "", execution_id: str | None = None) -> dict[str, Any]:
        with self.session() as s:
            wf = db.get_workflow_definition(s, identifier, namespace=namespace)
            row = db.create(s, m.WorkflowExecution, **({"id": execution_id} if execution_id
                                                       else {}),
                            workflow_name=wf.name, workflow_namespace=wf.namespace,
                            workflow_id=wf.id, spec=wf.definition, description=description,
                            input=input or {}, params=params or {}, state="RUNNING")
            result = row.to_dict()
        with self.lock:
            self.calls.append({"identifier": identifier, "namespace": namespace,
                               "input": input, "params": params, "description": description,
                               "execution_id": result["id"], "at": time.time()})
            self.lock.notify_all()
        return result

    def wait_calls(self, count: int, timeout: float) -> list[dict[str, Any]]:
        """Wait until ``count`` starts happened (or the timeout); the calls so far."""
        with self.lock:
            self.lock.wait_for(lambda: len(self.calls) >= count, timeout)
            return list(self.calls)


def count_executions(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(m.WorkflowExecution)) or 0)


def utc(text: str) -> _dt.datetime:
    """A naive UTC datetime from 'YYYY-MM-DD HH:MM[:SS]'."""
    fmt = "%Y-%m-%d %H:%M:%S" if text.count(":") == 2 else "%Y-%m-%d %H:%M"
    return _dt.datetime.strptime(text, fmt)


def epoch(text: str) -> float:
    return utc(text).replace(tzinfo=_dt.UTC).timestamp()
