"""/v2/tasks and /v2/action_executions, over the real Runtime."""

from __future__ import annotations

import json
from typing import Any

from tests.functional.api.conftest import (
    HELLO_WF,
    Client,
    assert_fault,
    make_conf,
    wait_until,
)

TASK_FIELDS = ["id", "name", "type", "workflow_name", "workflow_namespace", "workflow_id",
               "workflow_execution_id", "tags", "state", "state_info", "project_id",
               "runtime_context", "published", "processed", "created_at", "updated_at",
               "started_at", "finished_at"]

ENV_WF = """---
version: '2.0'
needs_env:
  output:
    got: <% $.got %>
  tasks:
    t1:
      action: std.echo output=<% env().x %>
      publish:
        got: <% task().result %>
"""

SKIP_WF = """---
version: '2.0'
skippy:
  tasks:
    bad:
      action: std.fail
      on-success: [after]
    after:
      action: std.echo output=after
"""


def run(client: Client, runtime: Any, name: str, body: dict[str, Any] | None = None
        ) -> dict[str, Any]:
    ex = client.post_json("/v2/executions", {"workflow_name": name, **(body or {})}, 201).json
    runtime.wait_execution(ex["id"], 15)
    return client.get(f"/v2/executions/{ex['id']}", 200).json


def tasks_of(client: Client, ex_id: str) -> dict[str, dict[str, Any]]:
    items = client.get(f"/v2/executions/{ex_id}/tasks", 200).json["tasks"]
    return {t["name"]: t for t in items}


def test_task_wire_format(client: Client, runtime: Any) -> None:
    client.post_yaml("/v2/workflows", HELLO_WF, 201)
    ex = run(client, runtime, "rs_hello", {"input": {"name": "anchor"}})
    tasks = tasks_of(client, ex["id"])
    assert list(tasks["echo"]) == TASK_FIELDS
    loop = client.get(f"/v2/tasks/{tasks['loop']['id']}", 200).json
    assert json.loads(loop["result"]) == [10, 20, 30]
    assert json.loads(loop["published"]) == {"items_result": [10, 20, 30]}
    assert loop["processed"] is True and loop["type"] == "ACTION"
    actions = client.get(f"/v2/tasks/{loop['id']}/action_executions", 200).json
    assert sorted(json.loads(a["input"])["output"] for a in actions["action_executions"]) == \
        [10, 20, 30]
    assert all("output" not in a for a in actions["action_executions"])
    one = actions["action_executions"][0]
    got = client.get(f"/v2/tasks/{loop['id']}/action_executions/{one['id']}", 200).json
    assert got["id"] == one["id"] and "output" in got
    assert_fault(client.get(f"/v2/tasks/{tasks['echo']['id']}/action_executions/{one['id']}",
                            404), 404)
    listed = client.get(f"/v2/tasks?workflow_execution_id={ex['id']}&name=echo", 200).json
    assert [t["name"] for t in listed["tasks"]] == ["echo"]
    assert client.get(f"/v2/tasks/{loop['id']}?fields=name", 200).json == \
        {"id": loop["id"], "name": "loop"}
    assert_fault(client.get("/v2/tasks/nope", 404), 404, "TaskExecution not found [id=nope]")


def test_rerun_with_env_fixes_a_failed_task(client: Client, runtime: Any) -> None:
    client.post_yaml("/v2/workflows", ENV_WF, 201)
    ex = run(client, runtime, "needs_env")
    assert ex["state"] == "ERROR"
    t1 = tasks_of(client, ex["id"])["t1"]
    assert t1["state"] == "ERROR"
    client.put_json(f"/v2/tasks/{t1['id']}", {"state": "RUNNING", "reset": True,
                                              "env": {"x": "fixed"}}, 200)
    runtime.wait_execution(ex["id"], 15)
    done = wait_until(lambda: (lambda e: e if e["state"] == "SUCCESS" else None)(
        client.get(f"/v2/executions/{ex['id']}", 200).json))
    assert json.loads(done["output"]) == {"got": "fixed"}


def test_skip_a_failed_task(client: Client, runtime: Any) -> None:
    client.post_yaml("/v2/workflows", SKIP_WF, 201)
    ex = run(client, runtime, "skippy")
    bad = tasks_of(client, ex["id"])["bad"]
    skipped = client.put_json(f"/v2/tasks/{bad['id']}", {"state": "SKIPPED"}, 200).json
    assert skipped["state"] == "SKIPPED"
    done = wait_until(lambda: (lambda e: e if e["state"] == "SUCCESS" else None)(
        client.get(f"/v2/executions/{ex['id']}", 200).json))
    assert done["state"] == "SUCCESS"
    assert tasks_of(client, ex["id"])["after"]["state"] == "SUCCESS"


def test_task_update_errors(client: Client, runtime: Any) -> None:
    client.post_yaml("/v2/workflows", HELLO_WF, 201)
    ex = run(client, runtime, "rs_hello", {"input": {"name": "x"}})
    echo = tasks_of(client, ex["id"])["echo"]
    assert_fault(client.put_json(f"/v2/tasks/{echo['id']}", {"state": "RUNNING"}, 400), 400,
                 "ERROR")
    assert_fault(client.put_json(f"/v2/tasks/{echo['id']}", {}, 400), 400, "state")
    assert_fault(client.put_json(f"/v2/tasks/{echo['id']}", {"state": "RUNNING",
                                                             "name": "other"}, 400), 400,
                 "name")


def test_run_action_sync_not_saved(client: Client) -> None:
    resp = client.post_json("/v2/action_executions",
                            {"name": "std.echo", "input": {"output": "hi"}}, 201).json
    assert resp == {"id": None, "workflow_name": None, "workflow_namespace": "",
                    "task_execution_id": None, "state": "SUCCESS", "state_info": None,
                    "tags": None, "name": "std.echo", "description": None, "project_id": None,
                    "accepted": None, "input": '{"output": "hi"}',
                    "output": '{"result": "hi"}', "created_at": None, "updated_at": None}
    assert client.get("/v2/action_executions", 200).json["action_executions"] == []


def test_run_failing_action_is_still_201(client: Client) -> None:
    resp = client.post_json("/v2/action_executions", {"name": "std.fail", "input": {}},
                            201).json
    assert resp["state"] == "ERROR" and json.loads(resp["output"])["result"]


def test_run_action_save_result(client: Client) -> None:
    resp = client.post_json("/v2/action_executions", {
        "name": "std.echo", "input": '{"output": "hi"}', "params": {"save_result": True}},
        201).json
    assert resp["id"] and resp["state"] in ("RUNNING", "SUCCESS")
    done = wait_until(lambda: (lambda a: a if a["state"] == "SUCCESS" else None)(
        client.get(f"/v2/action_executions/{resp['id']}", 200).json))
    assert json.loads(done["output"]) == {"result": "hi"}
    listed = client.get("/v2/action_executions", 200).json["action_executions"]
    assert [a["id"] for a in listed] == [resp["id"]] and "output" not in listed[0]
    with_out = client.get("/v2/action_executions?include_output=true", 200).json
    assert with_out["action_executions"][0]["output"] == '{"result": "hi"}'


def test_async_action_is_completed_by_put(client: Client) -> None:
    resp = client.post_json("/v2/action_executions", {"name": "std.async_noop"}, 201).json
    assert resp["state"] == "RUNNING" and resp["id"]
    assert_fault(client.post_json("/v2/action_executions", {
        "name": "std.async_noop", "params": {"run_sync": True}}, 400), 400, "asynchronous")
    done = client.put_json(f"/v2/action_executions/{resp['id']}",
                           {"state": "ERROR", "output": "it broke"}, 200).json
    assert done["state"] == "ERROR"
    assert_fault(client.put_json(f"/v2/action_executions/{resp['id']}", {"state": "NOPE"}, 400),
                 400, "state")


def test_run_action_errors(client: Client) -> None:
    assert_fault(client.post_json("/v2/action_executions", {"name": "std.nope"}, 400), 400,
                 "Failed to find action [action_name=std.nope]")
    assert_fault(client.post_json("/v2/action_executions", {"name": "std.echo", "input": {}},
                                  400), 400, "output")
    assert_fault(client.post_json("/v2/action_executions", {"input": {}}, 400), 400, "name")
    assert_fault(client.post_json("/v2/action_executions", {
        "name": "std.echo", "input": {"output": 1}, "params": {"save_result": "maybe"}}, 400),
        400, "save_result")


def test_action_execution_deletion(client: Client, runtime: Any, tmp_path: Any) -> None:
    import webtest

    from tests.functional.api.conftest import Client as C
    from wfaas.api.app import setup_app

    saved = client.post_json("/v2/action_executions", {
        "name": "std.echo", "input": {"output": 1}, "params": {"save_result": True,
                                                               "run_sync": True}}, 201).json
    assert saved["state"] == "SUCCESS"
    assert_fault(client.delete(f"/v2/action_executions/{saved['id']}", 403), 403,
                 "allow_action_execution_deletion")
    conf = make_conf(tmp_path, **{"api.allow_action_execution_deletion": True})
    allowed = C(webtest.TestApp(setup_app(runtime, conf)))
    allowed.delete(f"/v2/action_executions/{saved['id']}", 204)
    assert_fault(allowed.get(f"/v2/action_executions/{saved['id']}", 404), 404)
