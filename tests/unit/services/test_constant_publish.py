"""A folded constant list published, then appended to by later tasks, on the real Runtime."""

from __future__ import annotations

from tests.unit.services.conftest import define
from wfaas.db import api
from wfaas.services.runtime import Runtime

T = 30.0

CHAIN = """
version: '2.0'
grow:
  output:
    acc: <% $.acc %>
    first: <% $.first %>
  tasks:
    t0:
      action: std.noop
      publish:
        acc: <% range(3).toList() %>
        first: <% range(3).toList() %>
      on-success: [t1]
    t1:
      action: std.noop
      publish:
        acc: <% $.acc + range(3).toList() %>
      on-success: [t2]
    t2:
      action: std.noop
      publish:
        acc: <% $.acc + [9] + range(1).toList() %>
"""


def test_a_published_folded_list_grows_by_value_in_every_execution(runtime: Runtime) -> None:
    define(runtime, CHAIN)
    for _ in range(3):  # the first execution records the folded values, the others replay
        ex = runtime.start_workflow("grow")
        done = runtime.wait_execution(ex["id"], T)
        assert done["state"] == "SUCCESS", done["state_info"]
        assert done["output"] == {"acc": [0, 1, 2, 0, 1, 2, 9, 0], "first": [0, 1, 2]}
        with runtime.session() as s:
            published = {t.name: t.published for t in api.task_executions_of(s, ex["id"])}
        assert published == {"t0": {"acc": [0, 1, 2], "first": [0, 1, 2]},
                             "t1": {"acc": [0, 1, 2, 0, 1, 2]},
                             "t2": {"acc": [0, 1, 2, 0, 1, 2, 9, 0]}}
