"""A folded constant list published, then appended to by later tasks, on the real Runtime."""

from __future__ import annotations

from tests.unit.services.conftest import define
from wfaas import expressions
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


DOUBLING = """
version: '2.0'
doubling:
  tasks:
    seed:
      action: std.noop
      publish:
        x: <% range(100).toList() %>
      on-success: [double]
    double:
      action: std.noop
      publish:
        x: <% $.x + $.x %>
      on-success: [double]
"""


def test_a_list_doubling_loop_is_stopped_by_the_value_size_limit(runtime: Runtime) -> None:
    """``$.x + $.x`` runs in the fast path now: the result's size is still bounded."""
    expressions.configure(max_value_size_kb=16)  # 2,048 items of 8 bytes
    try:
        define(runtime, DOUBLING)
        ex = runtime.start_workflow("doubling")
        done = runtime.wait_execution(ex["id"], T)
    finally:
        expressions.configure()
    assert done["state"] == "ERROR"
    assert "max_value_size_kb" in done["state_info"], done["state_info"]
    with runtime.session() as s:
        sizes = [len(t.published.get("x", ())) for t in api.task_executions_of(s, ex["id"])
                 if t.state == "SUCCESS"]
    assert max(sizes) == 1600  # 100 doubled four times; 3,200 items is over the limit
