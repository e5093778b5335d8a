"""How a failed or cancelled sub-workflow reaches its parent task and execution, as Mistral
23 words it (the differential cases ``subfail.*`` hold the texts recorded on Mistral)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.unit.services import testactions
from tests.unit.services.conftest import define
from tests.unit.services.test_runtime import T, task_rows, wait_task_state
from wfaas.db import api
from wfaas.db import models as m
from wfaas.services.runtime import Runtime

PARENT = """
version: '2.0'
parent:
  tasks:
    p:
      workflow: child
"""


def parent_yaml(output: str, *lines: str) -> str:
    """A workflow ``parent`` with ``output`` whose task p runs ``child`` (plus ``lines``)."""
    body = "".join(f"      {line}\n" for line in lines)
    return (f"version: '2.0'\nparent:\n  output: {output}\n  tasks:\n    p:\n"
            f"      workflow: child\n{body}")


def child_yaml(command: str, head: str = "") -> str:
    """A sub-workflow ``child`` whose task runs std.noop and then the engine command."""
    return ("child:\n" + head + "  tasks:\n    c:\n      action: std.noop\n"
            f"      on-success:\n        - {command}\n")


def _run(rt: Runtime, text: str, name: str = "parent") -> dict[str, Any]:
    define(rt, text)
    ex = rt.start_workflow(name)
    return rt.wait_execution(ex["id"], T)


def _children(rt: Runtime, task_id: str) -> list[m.WorkflowExecution]:
    with rt.session() as s:
        rows = api.list_rows(s, m.WorkflowExecution, filters={"task_execution_id": task_id})
    return sorted(rows, key=lambda r: (r.created_at, r.id))


def test_failed_child_quoted_by_its_output_result(runtime: Runtime) -> None:
    done = _run(runtime, PARENT + child_yaml("fail msg='child gave up'"))
    (task,) = task_rows(runtime, done["id"])
    (child,) = _children(runtime, task.id)
    assert task.state == "ERROR" and task.state_info == "child gave up"
    assert child.description == "sub-workflow execution"
    assert task.result == {"result": "child gave up"}
    assert done["state_info"] == (
        "Failure caused by error in tasks: p\n\n"
        f"  p [task_ex_id={task.id}] -> child gave up\n"
        f"    [wf_ex_id={child.id}, idx=0]: child gave up\n")


def test_fail_without_message_leaves_task_state_info_empty(runtime: Runtime) -> None:
    done = _run(runtime, PARENT + child_yaml("fail"))
    (task,) = task_rows(runtime, done["id"])
    (child,) = _children(runtime, task.id)
    assert task.state == "ERROR" and task.state_info is None
    assert done["state_info"] == (
        "Failure caused by error in tasks: p\n\n"
        f"  p [task_ex_id={task.id}] -> None\n"
        f"    [wf_ex_id={child.id}, idx=0]: None\n")


def test_every_retried_child_is_listed(runtime: Runtime) -> None:
    done = _run(runtime, """
version: '2.0'
parent:
  tasks:
    p:
      workflow: child
      retry: {count: 2, delay: 0}
""" + child_yaml("fail msg='try again'"))
    (task,) = task_rows(runtime, done["id"])
    kids = _children(runtime, task.id)
    assert len(kids) == 3
    lines = done["state_info"].splitlines()[3:]
    assert sorted(lines) == sorted(f"    [wf_ex_id={k.id}, idx={i}]: try again"
                                   for i, k in enumerate(kids))
    assert [line.split("idx=")[1][0] for line in lines] == ["0", "1", "2"]


def test_output_on_error_result_replaces_the_message(runtime: Runtime) -> None:
    head = "  output-on-error: {result: replaced, extra: 1}\n"
    done = _run(runtime, PARENT + child_yaml("fail msg='boom'", head))
    (task,) = task_rows(runtime, done["id"])
    (child,) = _children(runtime, task.id)
    assert child.output == {"result": "replaced", "extra": 1}
    assert child.state_info == "boom"
    assert task.state_info == "replaced"


def test_keep_result_false_keeps_a_sub_workflow_output(runtime: Runtime) -> None:
    done = _run(runtime, parent_yaml("{r: <% $.r %>}", "keep-result: false",
                                     "publish: {r: <% task().result %>}")
                + child_yaml("succeed", "  output: {v: 1}\n"))
    assert done["state"] == "SUCCESS", done["state_info"]
    assert done["output"] == {"r": {"v": 1}}
    (task,) = task_rows(runtime, done["id"])
    assert task.result == {"v": 1}


def test_publish_on_error_sees_the_task_state_info(runtime: Runtime) -> None:
    done = _run(runtime, parent_yaml("{i: <% $.i %>}",
                                     "publish-on-error: {i: <% task(p).state_info %>}",
                                     "on-error: [done]")
                + "    done:\n      action: std.noop\n" + child_yaml("fail msg='nope'"))
    assert done["state"] == "SUCCESS", done["state_info"]
    assert done["output"] == {"i": "nope"}


def test_cancelled_child_without_message(runtime: Runtime) -> None:
    gate = f"subfail-{uuid.uuid4().hex}"
    define(runtime, """
version: '2.0'
parent:
  tasks:
    p:
      workflow: child
child:
  tasks:
    c:
      action: test.gate name=<% $.g %>
""".replace("<% $.g %>", gate))
    ex = runtime.start_workflow("parent")
    wait_task_state(runtime, ex["id"], "p", "RUNNING")
    (task,) = task_rows(runtime, ex["id"])
    assert runtime.wait_for(lambda s: bool(_children(runtime, task.id)), T)
    child = _children(runtime, task.id)[0]
    wait_task_state(runtime, child.id, "c", "RUNNING")
    try:
        runtime.stop_execution(child.id, "CANCELLED")
        done = runtime.wait_execution(ex["id"], T)
    finally:
        testactions.gate(gate).set()
    assert done["state"] == "CANCELLED" and done["state_info"] == "Cancelled tasks: p"
    (task,) = task_rows(runtime, ex["id"])
    assert task.state == "CANCELLED" and task.state_info is None


def test_runtime_context_of_a_plain_task_is_empty_as_in_mistral(runtime: Runtime) -> None:
    """Mistral 23 shows ``runtime_context: {}`` for a task without a policy; a task
    with a timeout keeps it (the engine reads it when the timer fires)."""
    define(runtime, "version: '2.0'\nrc:\n  tasks:\n    a:\n      action: std.noop\n"
                    "      on-success: b\n    b:\n      action: std.noop\n      timeout: 30\n")
    done = runtime.wait_execution(runtime.start_workflow("rc")["id"], T)
    rows = {t.name: t for t in task_rows(runtime, done["id"])}
    assert rows["a"].runtime_context == {}
    assert rows["b"].runtime_context == {"timeout": 30}
