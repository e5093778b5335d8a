"""/v2/actions, /v2/environments and /v2/cron_triggers."""

from __future__ import annotations

import datetime as dt
import json
import re

from tests.functional.api.conftest import HELLO_WF, TIME_RE, Client, assert_fault

ADHOC = """---
version: '2.0'
greet:
  description: Says hello
  base: std.echo
  base-input:
    output: Hello, <% $.who %>
  input:
    - who
"""


def test_system_actions_are_listed_sorted_by_name(client: Client) -> None:
    body = client.get("/v2/actions?limit=3", 200).json
    names = [a["name"] for a in body["actions"]]
    assert names == sorted(names) and len(names) == 3
    assert body["next"].startswith("http://localhost/v2/actions?sort_keys=name,id&")
    echo = client.get("/v2/actions/std.echo", 200).json
    assert list(echo) == ["id", "name", "is_system", "input", "description", "tags",
                          "definition", "scope", "project_id", "created_at", "updated_at",
                          "namespace"]
    assert echo["input"] == "output, delay=0"
    # as Mistral 23 shows a system action: its name as id, is_system false
    assert echo["description"] and echo["is_system"] is False and echo["id"] == "std.echo"
    assert len(client.get("/v2/actions", 200).json["actions"]) > 1000  # not capped


def test_action_input_json_schema_only_when_asked(client: Client) -> None:
    one = client.get("/v2/actions/std.echo?fields=name,params_schema", 200).json
    assert set(one) == {"id", "name", "params_schema"}
    assert json.loads(one["params_schema"]) == {
        "type": "object", "required": ["output"], "additionalProperties": False,
        "properties": {"output": {}, "delay": {"default": 0, "type": ["integer", "null"]}}}
    listed = client.get("/v2/actions?fields=name,params_schema&name=in:std.http,std.noop",
                        200).json["actions"]
    assert [a["name"] for a in listed] == ["std.http", "std.noop"]
    assert json.loads(listed[0]["params_schema"])["required"] == ["url"]
    assert "params_schema" not in client.get("/v2/actions?limit=2", 200).json["actions"][0]
    # the generated OpenStack create actions: what the caller must give, no read-only fields
    server = json.loads(client.get("/v2/actions/compute.create_server?fields=params_schema",
                                   200).json["params_schema"])
    assert "name" in server["required"] and "launched_at" not in server["properties"]
    client.post_yaml("/v2/actions", ADHOC.replace("    - who", "    - who\n    - times: 2"),
                     201)
    adhoc = client.get("/v2/actions/greet?fields=params_schema", 200).json
    assert json.loads(adhoc["params_schema"])["properties"] == {
        "who": {}, "times": {"default": 2, "type": ["integer", "null"]}}
    assert_fault(client.get("/v2/actions/std.echo?fields=bogus", 400), 400, "params_schema")


def test_missing_action_is_404_like_mistral(client: Client) -> None:
    body = assert_fault(client.get("/v2/actions/std.nope", 404), 404)
    assert body["faultstring"] == "Action not found [name=std.nope, namespace=]"


def test_adhoc_action_lifecycle(client: Client) -> None:
    created = client.post_yaml("/v2/actions", ADHOC, 201).json["actions"][0]
    assert created["name"] == "greet" and created["input"] == "who"
    assert created["is_system"] is False and created["description"] == "Says hello"
    assert client.get("/v2/actions?name=greet", 200).json["actions"][0]["id"] == created["id"]
    assert_fault(client.post_yaml("/v2/actions", ADHOC, 409), 409)
    updated = client.put_yaml("/v2/actions", ADHOC.replace("Says hello", "Greets"), 200)
    assert updated.json["actions"][0]["description"] == "Greets"
    assert client.post_yaml("/v2/actions/validate", ADHOC, 200).json["valid"] is True
    client.delete("/v2/actions/greet", 204)
    assert_fault(client.get("/v2/actions/greet", 404), 404)


def test_system_actions_cannot_change(client: Client) -> None:
    assert_fault(client.delete("/v2/actions/std.echo", 400), 400, "system action")
    echo = ADHOC.replace("greet:", "std.echo:").replace("base: std.echo", "base: std.noop")
    assert_fault(client.put_yaml("/v2/actions", echo, 400), 400, "system action")


def test_invalid_adhoc_action_is_400(client: Client) -> None:
    body = assert_fault(client.post_yaml("/v2/actions", "version: '2.0'\nx:\n  input: [a]\n",
                                         400), 400)
    assert body["problems"]


def test_environment_lifecycle_matches_sample(client: Client) -> None:
    env = client.post_json("/v2/environments", {"name": "rs_env", "description": "sample",
                                                "variables": '{"k": "v"}'}, 201).json
    assert list(env) == ["id", "name", "description", "variables", "scope", "project_id",
                         "created_at"]
    assert env["variables"] == '{"k": "v"}' and env["scope"] == "private"
    same = client.post_json("/v2/environments", {"name": "obj", "variables": {"k": "v"}},
                            201).json
    assert same["variables"] == '{"k": "v"}'
    assert_fault(client.post_json("/v2/environments", {"name": "rs_env"}, 409), 409)
    got = client.get("/v2/environments/rs_env", 200).json
    assert got["updated_at"] is None and got["description"] == "sample"
    upd = client.put_json("/v2/environments", {"name": "rs_env", "variables": {"k": 2}},
                          200).json
    assert upd["variables"] == '{"k": 2}' and re.match(TIME_RE, upd["updated_at"])
    assert upd["description"] == "sample"
    names = [e["name"] for e in client.get("/v2/environments", 200).json["environments"]]
    assert names == ["rs_env", "obj"]
    assert client.delete("/v2/environments/rs_env", 204).body == b""
    assert_fault(client.get("/v2/environments/rs_env", 404), 404,
                 "Environment not found [name=rs_env]")


def test_environment_bad_bodies(client: Client) -> None:
    assert_fault(client.post_json("/v2/environments", {}, 400), 400, "'name'")
    assert_fault(client.post_json("/v2/environments", {"name": "e", "variables": "{x"}, 400),
                 400, "variables")
    assert_fault(client.post_json("/v2/environments", {"name": "e", "variables": [1]}, 400),
                 400, "variables")
    assert_fault(client.post_json("/v2/environments", {"name": 5}, 400), 400, "name")
    assert_fault(client.put_json("/v2/environments", {"name": "none"}, 404), 404)


def test_cron_trigger_matches_sample(client: Client) -> None:
    client.post_yaml("/v2/workflows", HELLO_WF, 201)
    ct = client.post_json("/v2/cron_triggers", {
        "name": "rs_cron", "workflow_name": "rs_hello", "workflow_input": '{"name": "cron"}',
        "pattern": "0 0 1 1 *"}, 201).json
    assert list(ct) == ["id", "name", "workflow_name", "workflow_id", "workflow_input",
                        "workflow_params", "project_id", "scope", "pattern",
                        "remaining_executions", "first_execution_time", "next_execution_time",
                        "created_at"]
    assert ct["workflow_input"] == '{"name": "cron"}' and ct["workflow_params"] == "{}"
    assert ct["next_execution_time"] == f"{dt.datetime.now(dt.UTC).year + 1}-01-01 00:00:00"
    assert ct["remaining_executions"] is None and ct["first_execution_time"] is None
    listed = client.get("/v2/cron_triggers", 200).json["cron_triggers"]
    assert [c["name"] for c in listed] == ["rs_cron"] and listed[0]["updated_at"] is None
    assert client.get(f"/v2/cron_triggers/{ct['id']}", 200).json["name"] == "rs_cron"
    assert_fault(client.post_json("/v2/cron_triggers", {
        "name": "rs_cron", "workflow_name": "rs_hello", "workflow_input": {"name": "x"},
        "pattern": "* * * * *"}, 409), 409)
    assert_fault(client.delete("/v2/workflows/rs_hello", 409), 409, "rs_cron")
    client.delete("/v2/cron_triggers/rs_cron", 204)
    assert_fault(client.get("/v2/cron_triggers/rs_cron", 404), 404)


def test_cron_trigger_first_time_and_count(client: Client) -> None:
    client.post_yaml("/v2/workflows", HELLO_WF, 201)
    ct = client.post_json("/v2/cron_triggers", {
        "name": "once", "workflow_name": "rs_hello", "workflow_input": {"name": "once"},
        "first_execution_time": "2099-01-01 00:00", "remaining_executions": 1}, 201).json
    assert ct["pattern"] == "0 0 30 2 0"
    assert ct["first_execution_time"] == ct["next_execution_time"] == "2099-01-01 00:00:00"
    assert ct["remaining_executions"] == 1


def test_cron_trigger_errors(client: Client) -> None:
    client.post_yaml("/v2/workflows", HELLO_WF, 201)
    base = {"name": "c", "workflow_name": "rs_hello", "workflow_input": {"name": "x"}}
    assert_fault(client.post_json("/v2/cron_triggers", {**base, "pattern": "61 * * * *"}, 400),
                 400, "Invalid cron pattern")
    assert_fault(client.post_json("/v2/cron_triggers", base, 400), 400, "pattern")
    assert_fault(client.post_json("/v2/cron_triggers", {
        **base, "first_execution_time": "2001-01-01 00:00"}, 400), 400, "future")
    assert_fault(client.post_json("/v2/cron_triggers", {
        **base, "pattern": "* * * * *", "workflow_name": "nope"}, 404), 404, "nope")
    assert_fault(client.post_json("/v2/cron_triggers", {
        **base, "pattern": "* * * * *", "workflow_input": {}}, 400), 400, "missing=['name']")
    assert_fault(client.post_json("/v2/cron_triggers", {
        **base, "pattern": "* * * * *", "remaining_executions": 0}, 400), 400,
        "remaining_executions")
