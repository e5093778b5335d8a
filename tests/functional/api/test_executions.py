"""/v2/executions and the execution trees, over the real Runtime."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.functional.api.conftest import (
    ASYNC_WF,
    FAIL_WF,
    HELLO_WF,
    PARENT_WF,
    TIME_RE,
    WORKBOOK,
    Client,
    assert_fault,
    wait_until,
)

EX_FIELDS = ["id", "workflow_id", "workflow_name", "workflow_namespace", "description", "tags",
             "params", "task_execution_id", "root_execution_id", "state", "state_info", "input",
             "output", "created_at", "updated_at", "project_id"]


def start(client: Client, body: dict[str, Any], status: int = 201) -> Any:
    return client.post_json("/v2/executions", body, status).json


def finished(client: Client, runtime: Any, ex_id: str) -> dict[str, Any]:
    runtime.wait_execution(ex_id, 15)
    return client.get(f"/v2/executions/{ex_id}", 200).json


def test_create_and_get_match_the_samples(client: Client, runtime: Any) -> None:
    wf = client.post_yaml("/v2/workflows", HELLO_WF, 201).json["workflows"][0]
    ex = start(client, {"workflow_name": "rs_hello", "input": '{"name": "anchor"}',
                        "description": "rest sample"})
    assert list(ex) == EX_FIELDS
    assert ex["state"] == "RUNNING" and ex["workflow_id"] == wf["id"]
    assert ex["root_execution_id"] is None and ex["task_execution_id"] is None
    assert json.loads(ex["input"])["name"] == "anchor" and ex["description"] == "rest sample"
    assert json.loads(ex["params"])["namespace"] == ""
    assert re.match(TIME_RE, ex["created_at"]) and re.match(TIME_RE, ex["updated_at"])
    done = finished(client, runtime, ex["id"])
    assert list(done) == [*EX_FIELDS, "published_global"]
    assert done["state"] == "SUCCESS" and done["published_global"] == "{}"
    assert json.loads(done["input"]) == {"name": "anchor", "greeting": "Hello"}
    assert json.loads(done["output"]) == {"msg": "Hello, anchor", "items_result": [10, 20, 30]}
    assert set(client.get(f"/v2/executions/{ex['id']}?fields=state", 200).json) == \
        {"id", "state"}


def test_failed_execution(client: Client, runtime: Any) -> None:
    client.post_yaml("/v2/workflows", FAIL_WF, 201)
    ex = start(client, {"workflow_name": "rs_fail"})
    done = finished(client, runtime, ex["id"])
    assert done["state"] == "ERROR" and "boom" in done["state_info"]
    assert "kaboom" in json.loads(done["output"])["result"]
    (task,) = client.get(f"/v2/executions/{ex['id']}/tasks", 200).json["tasks"]
    assert task["state"] == "ERROR" and task["state_info"] == "kaboom"


def test_create_errors(client: Client) -> None:
    client.post_yaml("/v2/workflows", HELLO_WF, 201)
    assert_fault(client.post_json("/v2/executions", {"workflow_name": "no_such_wf"}, 404), 404,
                 "no_such_wf")
    assert_fault(client.post_json("/v2/executions", {"workflow_name": "rs_hello"}, 400), 400,
                 "name")
    assert_fault(client.post_json("/v2/executions", {"workflow_name": "rs_hello",
                                                     "input": "[1]"}, 400), 400, "input")
    assert_fault(client.post_json("/v2/executions", {"workflow_name": "rs_hello",
                                                     "input": "{bad"}, 400), 400, "input")
    assert_fault(client.post_json("/v2/executions", {"input": {}}, 400), 400, "workflow")


def test_client_id_is_idempotent(client: Client, runtime: Any) -> None:
    client.post_yaml("/v2/workflows", HELLO_WF, 201)
    body = {"id": "11111111-2222-3333-4444-555555555555", "workflow_name": "rs_hello",
            "input": {"name": "x"}}
    first = start(client, body)
    second = start(client, body)
    assert first["id"] == second["id"] == body["id"]
    listed = client.get("/v2/executions", 200).json["executions"]
    assert [e["id"] for e in listed] == [body["id"]]


def test_source_execution_clones_input_and_params(client: Client, runtime: Any) -> None:
    client.post_yaml("/v2/workflows", HELLO_WF, 201)
    src = start(client, {"workflow_name": "rs_hello", "input": {"name": "orig"}})
    finished(client, runtime, src["id"])
    clone = start(client, {"source_execution_id": src["id"]})
    assert clone["workflow_name"] == "rs_hello"
    assert json.loads(clone["input"])["name"] == "orig"
    assert f"Based on the execution '{src['id']}'" in clone["description"]
    assert finished(client, runtime, clone["id"])["state"] == "SUCCESS"


def test_env_by_name_and_object(client: Client, runtime: Any) -> None:
    client.post_yaml("/v2/workflows", "version: '2.0'\nenv_wf:\n  output:\n"
                     "    r: <% env().k %>\n  tasks:\n    t:\n      action: std.noop\n", 201)
    client.post_json("/v2/environments", {"name": "e1", "variables": {"k": "named"}}, 201)
    by_name = start(client, {"workflow_name": "env_wf", "params": '{"env": "e1"}'})
    by_obj = start(client, {"workflow_name": "env_wf", "params": {"env": {"k": "inline"}}})
    assert json.loads(finished(client, runtime, by_name["id"])["output"]) == {"r": "named"}
    assert json.loads(finished(client, runtime, by_obj["id"])["output"]) == {"r": "inline"}
    assert_fault(client.post_json("/v2/executions", {"workflow_name": "env_wf",
                                                     "params": {"env": "nope"}}, 400), 400,
                 "Environment is not found: nope")
    # params (in the execution's body row) in the create answer, a GET and a list
    assert json.loads(by_obj["params"]) == {"env": {"k": "inline"}, "namespace": ""}
    got = client.get(f"/v2/executions/{by_name['id']}?fields=params", 200).json
    assert json.loads(got["params"]) == {"env": {"k": "named"}, "namespace": ""}
    listed = client.get("/v2/executions?fields=params&sort_keys=created_at", 200).json
    assert [json.loads(e["params"])["env"] for e in listed["executions"]] == [
        {"k": "named"}, {"k": "inline"}]


def test_list_filters_output_and_pagination(client: Client, runtime: Any) -> None:
    client.post_yaml("/v2/workflows", HELLO_WF, 201)
    client.post_yaml("/v2/workflows", FAIL_WF, 201)
    ok = start(client, {"workflow_name": "rs_hello", "input": {"name": "a"}})
    bad = start(client, {"workflow_name": "rs_fail"})
    finished(client, runtime, ok["id"])
    finished(client, runtime, bad["id"])
    items = client.get("/v2/executions", 200).json["executions"]
    assert [e["id"] for e in items] == [ok["id"], bad["id"]]
    assert all("output" not in e and "published_global" not in e for e in items)
    with_out = client.get("/v2/executions?include_output=true", 200).json["executions"]
    assert json.loads(with_out[0]["output"])["msg"] == "Hello, a"
    errors = client.get("/v2/executions?state=ERROR", 200).json["executions"]
    assert [e["id"] for e in errors] == [bad["id"]]
    page = client.get("/v2/executions?limit=1", 200).json
    assert page["next"].endswith(f"limit=1&marker={ok['id']}")
    nxt = client.get(page["next"].replace("http://localhost", ""), 200).json
    assert [e["id"] for e in nxt["executions"]] == [bad["id"]]
    assert len(client.get("/v2/executions?nulls=task_execution_id", 200).json["executions"]) == 2
    assert client.get("/v2/executions?nulls=workflow_id", 200).json["executions"] == []
    assert_fault(client.get("/v2/executions?nulls=bogus", 400), 400, "nulls")
    nested = client.get("/v2/executions?workflow_name=rs_fail&include_output=true&limit=1",
                        200).json
    assert "include_output=true" in nested["next"]


def test_enumerated_filters_refuse_unknown_values_and_operators(client: Client,
                                                                 runtime: Any) -> None:
    client.post_yaml("/v2/workflows", FAIL_WF, 201)
    bad = start(client, {"workflow_name": "rs_fail"})
    finished(client, runtime, bad["id"])
    ids = lambda q: [e["id"] for e in client.get(q, 200).json["executions"]]  # noqa: E731
    assert ids("/v2/executions?state=eq:ERROR") == [bad["id"]]
    assert ids("/v2/executions?state=in:ERROR,PAUSED") == [bad["id"]]
    assert ids("/v2/executions?state=neq:ERROR") == []
    assert ids("/v2/executions?state=has:ERR") == [bad["id"]]
    # an unknown prefix on a state is a mistake, not a state named "bogus:ERROR"
    body = assert_fault(client.get("/v2/executions?state=bogus:ERROR", 400), 400,
                        "unknown operator 'bogus'")
    assert "eq, neq" in body["faultstring"] and "CANCELLED" in body["faultstring"]
    # a state that does not exist is a 400 listing the states (Mistral 23: an empty list)
    body = assert_fault(client.get("/v2/executions?state=BOGUS", 400), 400, "'BOGUS'")
    assert "RUNNING" in body["faultstring"] and "filter 'state'" in body["faultstring"]
    assert_fault(client.get("/v2/executions?state=in:ERROR,NOPE", 400), 400, "'NOPE'")
    tasks = client.get(f"/v2/executions/{bad['id']}/tasks?state=SKIPPED", 200).json["tasks"]
    assert tasks == []
    assert_fault(client.get("/v2/tasks?state=bogus:ERROR", 400), 400, "'bogus'")
    assert_fault(client.get("/v2/tasks?type=FUNCTION", 400), 400, "ACTION, WORKFLOW")
    assert_fault(client.get("/v2/action_executions?state=DONE", 400), 400, "'DONE'")
    assert_fault(client.get("/v2/workflows?scope=secret", 400), 400, "private, public")
    # on free-text fields a prefix that is no operator stays part of the value (Mistral)
    assert ids("/v2/executions?workflow_name=rs:fail") == []
    assert ids("/v2/executions?description=bogus:ERROR") == []


def test_mistral_list_filters_when_not_strict(client: Client, runtime: Any,
                                               conf: Any) -> None:
    """``[api] strict_list_filters = false`` restores Mistral 23's answer: an unknown
    state or operator prefix is taken as a value and matches nothing (200, empty)."""
    conf.set_override("strict_list_filters", False, group="api")
    client.post_yaml("/v2/workflows", FAIL_WF, 201)
    bad = start(client, {"workflow_name": "rs_fail"})
    finished(client, runtime, bad["id"])
    for query in ("/v2/executions?state=BOGUS", "/v2/executions?state=bogus:ERROR"):
        assert client.get(query, 200).json["executions"] == []
    assert client.get("/v2/tasks?state=BOGUS", 200).json["tasks"] == []
    assert client.get("/v2/action_executions?state=DONE", 200).json["action_executions"] == []
    states = [e["state"] for e in client.get("/v2/executions?state=ERROR", 200).json["executions"]]
    assert states == ["ERROR"]


def _async_execution(client: Client, runtime: Any) -> tuple[str, str]:
    client.post_yaml("/v2/workflows", ASYNC_WF, 201)
    ex = start(client, {"workflow_name": "rs_async"})

    def action_id() -> str | None:
        items = client.get("/v2/action_executions?name=std.async_noop", 200).json
        running = [a for a in items["action_executions"] if a["state"] == "RUNNING"]
        return running[0]["id"] if running else None

    return ex["id"], wait_until(action_id)


def test_pause_resume_and_complete_async_action(client: Client, runtime: Any) -> None:
    ex_id, action_id = _async_execution(client, runtime)
    paused = client.put_json(f"/v2/executions/{ex_id}", {"state": "PAUSED"}, 200).json
    assert paused["state"] == "PAUSED"
    assert_fault(client.put_json(f"/v2/executions/{ex_id}", {"state": "PAUSED",
                                                             "description": "x"}, 400), 400)
    env = client.put_json(f"/v2/executions/{ex_id}", {"params": {"env": {"a": 1}}}, 200).json
    assert json.loads(env["params"])["env"] == {"a": 1}
    resumed = client.put_json(f"/v2/executions/{ex_id}", {"state": "RUNNING"}, 200).json
    assert resumed["state"] == "RUNNING"
    assert_fault(client.put_json(f"/v2/executions/{ex_id}", {"params": {"env": {"a": 2}}},
                                 403), 403, "RUNNING")
    done = client.put_json(f"/v2/action_executions/{action_id}",
                           {"state": "SUCCESS", "output": '{"v": 1}'}, 200).json
    assert done["state"] == "SUCCESS"
    assert finished(client, runtime, ex_id)["state"] == "SUCCESS"
    assert_fault(client.put_json(f"/v2/executions/{ex_id}", {"state": "BOGUS"}, 400), 400)


def test_cancel_and_delete(client: Client, runtime: Any) -> None:
    ex_id, _ = _async_execution(client, runtime)
    assert_fault(client.delete(f"/v2/executions/{ex_id}", 403), 403, "force")
    desc = client.put_json(f"/v2/executions/{ex_id}", {"description": "renamed"}, 200).json
    assert desc["description"] == "renamed"
    stopped = client.put_json(f"/v2/executions/{ex_id}",
                              {"state": "CANCELLED", "state_info": "enough"}, 200).json
    assert stopped["state"] == "CANCELLED"
    client.delete(f"/v2/executions/{ex_id}", 204)
    assert_fault(client.get(f"/v2/executions/{ex_id}", 404), 404,
                 f"WorkflowExecution not found [id={ex_id}]")
    assert client.get(f"/v2/tasks?workflow_execution_id={ex_id}", 200).json["tasks"] == []


def test_force_delete_of_running_execution(client: Client, runtime: Any) -> None:
    ex_id, _ = _async_execution(client, runtime)
    client.delete(f"/v2/executions/{ex_id}?force=true", 204)
    assert_fault(client.get(f"/v2/executions/{ex_id}", 404), 404)


def test_sub_executions_and_report(client: Client, runtime: Any) -> None:
    client.post_yaml("/v2/workflows", PARENT_WF, 201)
    ex = start(client, {"workflow_name": "rs_parent"})
    assert finished(client, runtime, ex["id"])["state"] == "SUCCESS"
    subs = client.get(f"/v2/executions/{ex['id']}/executions", 200).json["executions"]
    assert [s["workflow_name"] for s in subs] == ["rs_child"]
    (task,) = client.get(f"/v2/executions/{ex['id']}/tasks", 200).json["tasks"]
    assert task["type"] == "WORKFLOW"
    assert [s["id"] for s in client.get(f"/v2/tasks/{task['id']}/workflow_executions",
                                        200).json["executions"]] == [subs[0]["id"]]
    assert [s["id"] for s in client.get(f"/v2/tasks/{task['id']}/executions",
                                        200).json["executions"]] == [subs[0]["id"]]
    assert client.get(f"/v2/executions/{ex['id']}/executions?max_depth=0",
                      200).json["executions"] == []
    report = client.get(f"/v2/executions/{ex['id']}/report", 200).json
    stats = report["statistics"]
    assert stats["total_tasks_count"] == 2 and stats["success_tasks_count"] == 2
    root = report["root_workflow_execution"]
    (call,) = root["task_executions"]
    assert call["name"] == "call"
    assert call["workflow_executions"][0]["task_executions"][0]["name"] == "c1"
    only = client.get(f"/v2/executions/{ex['id']}/report?statistics_only=true", 200).json
    assert set(only) == {"statistics"}


def test_unknown_execution_paths_are_404(client: Client) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    for url in (f"/v2/executions/{missing}", f"/v2/executions/{missing}/tasks",
                f"/v2/executions/{missing}/report", f"/v2/executions/{missing}/executions"):
        assert_fault(client.get(url, 404), 404, missing)
    assert_fault(client.put_json(f"/v2/executions/{missing}", {"state": "PAUSED"}, 404), 404)
    assert_fault(client.delete(f"/v2/executions/{missing}", 404), 404)


def test_workbook_workflow_uses_its_workbook_action(client: Client, runtime: Any) -> None:
    client.post_yaml("/v2/workbooks", WORKBOOK, 201)
    ex = start(client, {"workflow_name": "demo_wb.wf1", "input": {"text": "yo"}})
    done = finished(client, runtime, ex["id"])
    assert json.loads(done["output"]) == {"shouted": "yo!!!"}
    (action,) = client.get("/v2/action_executions", 200).json["action_executions"]
    assert action["name"] == "demo_wb.shout"


SHADOW_WB = """---
version: '2.0'
name: shadow_wb
workflows:
  main:
    tasks:
      own:
        action: shout text=x
        publish:
          own: <% task().result %>
      plain:
        action: whisper text=x
        publish:
          plain: <% task().result %>
      child:
        workflow: sub
        publish:
          child: <% task().result %>
  sub:
    output:
      who: workbook sub
    tasks:
      t:
        action: std.noop
actions:
  shout:
    base: std.echo
    base-input:
      output: workbook shout
    input: [text]
"""

PLAIN_DEFS = """---
version: '2.0'
shout:
  base: std.echo
  base-input:
    output: plain shout
  input: [text]
whisper:
  base: std.echo
  base-input:
    output: plain whisper
  input: [text]
"""

PLAIN_SUB = """---
version: '2.0'
sub:
  output:
    who: plain sub
  tasks:
    t:
      action: std.noop
"""


def test_workbook_members_win_over_plain_names(client: Client, runtime: Any) -> None:
    client.post_yaml("/v2/actions", PLAIN_DEFS, 201)
    client.post_yaml("/v2/workflows", PLAIN_SUB, 201)
    client.post_yaml("/v2/workbooks", SHADOW_WB, 201)
    ex = start(client, {"workflow_name": "shadow_wb.main"})
    done = finished(client, runtime, ex["id"])
    assert done["state"] == "SUCCESS", done["state_info"]
    out = json.loads(done["output"])
    assert out["own"] == "workbook shout"  # <wb>.shout first
    assert out["plain"] == "plain whisper"  # then the plain name
    assert out["child"] == {"who": "workbook sub"}



REVERSE_WF = """---
version: '2.0'
rev:
  type: reverse
  tasks:
    a:
      action: std.echo output=a
    b:
      action: std.echo output=b
      requires: [a]
    c:
      action: std.echo output=c
"""


def test_reverse_workflow_needs_task_name(client: Client, runtime: Any) -> None:
    client.post_yaml("/v2/workflows", REVERSE_WF, 201)
    assert_fault(client.post_json("/v2/executions", {"workflow_name": "rev"}, 400), 400,
                 "task_name")
    ex = start(client, {"workflow_name": "rev", "params": '{"task_name": "b"}'})
    assert finished(client, runtime, ex["id"])["state"] == "SUCCESS"
    names = sorted(t["name"] for t in client.get(f"/v2/executions/{ex['id']}/tasks",
                                                 200).json["tasks"])
    assert names == ["a", "b"]


ENV_PAUSE_WF = """---
version: '2.0'
envp:
  output:
    r: <% $.r %>
  tasks:
    w:
      action: std.async_noop
      on-success: [e]
    e:
      action: std.echo output=<% env().a %>
      publish:
        r: <% task().result %>
"""


def test_env_changed_while_paused_applies_on_resume(client: Client, runtime: Any) -> None:
    client.post_yaml("/v2/workflows", ENV_PAUSE_WF, 201)
    ex = start(client, {"workflow_name": "envp", "params": {"env": {"a": 0}}})
    action = wait_until(lambda: [a["id"] for a in client.get(
        "/v2/action_executions", 200).json["action_executions"] if a["state"] == "RUNNING"])[0]
    client.put_json(f"/v2/executions/{ex['id']}", {"state": "PAUSED"}, 200)
    client.put_json(f"/v2/executions/{ex['id']}", {"params": {"env": {"a": 1}}}, 200)
    client.put_json(f"/v2/executions/{ex['id']}", {"state": "RUNNING"}, 200)
    client.put_json(f"/v2/action_executions/{action}", {"state": "SUCCESS", "output": "x"}, 200)
    assert json.loads(finished(client, runtime, ex["id"])["output"]) == {"r": 1}


def test_env_update_reaches_the_engine_state(client: Client, runtime: Any) -> None:
    """A resume that does not repeat the env (here the runtime's own) still sees it."""
    client.post_yaml("/v2/workflows", ENV_PAUSE_WF, 201)
    ex = start(client, {"workflow_name": "envp", "params": {"env": {"a": 0, "keep": {"x": 1}}}})
    action = wait_until(lambda: [a["id"] for a in client.get(
        "/v2/action_executions", 200).json["action_executions"] if a["state"] == "RUNNING"])[0]
    client.put_json(f"/v2/executions/{ex['id']}", {"state": "PAUSED"}, 200)
    got = client.put_json(f"/v2/executions/{ex['id']}", {"params": {"env": {"a": 1}}}, 200)
    assert json.loads(got.json["params"])["env"] == {"a": 1, "keep": {"x": 1}}
    assert runtime.resume_execution(ex["id"])["state"] == "RUNNING"
    client.put_json(f"/v2/action_executions/{action}", {"state": "SUCCESS", "output": "x"}, 200)
    assert json.loads(finished(client, runtime, ex["id"])["output"]) == {"r": 1}


ENV_FAIL_WF = """---
version: '2.0'
envf:
  output:
    r: <% $.r %>
  tasks:
    check:
      action: std.echo output=<% env().ok %>
      fail-on: <% not env().ok %>
      publish:
        r: <% task().result %>
"""


def test_env_updated_after_an_error_applies_to_the_rerun(client: Client, runtime: Any) -> None:
    client.post_yaml("/v2/workflows", ENV_FAIL_WF, 201)
    ex = start(client, {"workflow_name": "envf", "params": {"env": {"ok": False}}})
    assert finished(client, runtime, ex["id"])["state"] == "ERROR"
    client.put_json(f"/v2/executions/{ex['id']}", {"params": {"env": {"ok": True}}}, 200)
    (task,) = client.get(f"/v2/executions/{ex['id']}/tasks", 200).json["tasks"]
    runtime.rerun_task(task["id"])
    done = finished(client, runtime, ex["id"])
    assert done["state"] == "SUCCESS", done["state_info"]
    assert json.loads(done["output"]) == {"r": True}


def test_execution_of_a_namespaced_workflow(client: Client, runtime: Any) -> None:
    client.post_yaml("/v2/workflows?namespace=team", FAIL_WF.replace(
        'std.fail error_data="kaboom"', "std.noop"), 201)
    client.post_yaml("/v2/workflows", FAIL_WF, 201)
    ex = start(client, {"workflow_name": "rs_fail", "workflow_namespace": "team"})
    assert ex["workflow_namespace"] == "team"
    assert finished(client, runtime, ex["id"])["state"] == "SUCCESS"
    other = start(client, {"workflow_name": "rs_fail"})
    assert finished(client, runtime, other["id"])["state"] == "ERROR"
    names = client.get("/v2/executions?workflow_namespace=team", 200).json["executions"]
    assert [e["id"] for e in names] == [ex["id"]]


def test_get_with_wait_returns_when_the_execution_finishes(client: Client,
                                                           runtime: Any) -> None:
    import threading
    import time

    client.post_yaml("/v2/workflows", ASYNC_WF, 201)
    ex = start(client, {"workflow_name": "rs_async"})
    action = wait_until(lambda: [a["id"] for a in client.get(
        "/v2/action_executions", 200).json["action_executions"] if a["state"] == "RUNNING"])[0]
    # not finished: answers after the wait with the current state
    t0 = time.monotonic()
    assert client.get(f"/v2/executions/{ex['id']}?wait=0.3", 200).json["state"] == "RUNNING"
    assert time.monotonic() - t0 >= 0.3
    # finished during the wait: answers at once with the final state
    timer = threading.Timer(0.3, lambda: runtime.complete_action(action, "SUCCESS", "x"))
    timer.start()
    t0 = time.monotonic()
    try:
        got = client.get(f"/v2/executions/{ex['id']}?wait=20", 200).json
    finally:
        timer.join()
    assert got["state"] == "SUCCESS" and time.monotonic() - t0 < 10
    t0 = time.monotonic()
    assert client.get(f"/v2/executions/{ex['id']}?wait=20&fields=state",
                      200).json["state"] == "SUCCESS"
    assert time.monotonic() - t0 < 2  # terminal already: no wait
    for bad in ("abc", "-1"):
        assert_fault(client.get(f"/v2/executions/{ex['id']}?wait={bad}", 400), 400, "wait")
