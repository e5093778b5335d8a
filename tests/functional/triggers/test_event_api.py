"""``/v2/event_triggers`` over the real app and Runtime, and events posted to the API."""

from __future__ import annotations

import json
from typing import Any

from tests.functional.api.conftest import TIME_RE, Client, assert_fault
from tests.functional.triggers.conftest import wait_executions

FIELDS = {"id", "name", "workflow_id", "workflow_input", "workflow_params", "exchange",
          "topic", "event", "scope", "project_id", "created_at"}


def _body(workflow_id: str, **kw: Any) -> dict[str, Any]:
    body = {"name": "on-create", "workflow_id": workflow_id, "exchange": "nova",
            "topic": "notifications", "event": "compute.instance.create.end",
            "workflow_input": json.dumps({"who": "<% $.payload.name %>"}),
            "workflow_params": json.dumps({"env": {"a": 1}})}
    body.update(kw)
    return body


def test_crud(client: Client, workflow_id: str) -> None:
    created = client.post_json("/v2/event_triggers", _body(workflow_id), 201).json
    assert set(created) >= FIELDS
    assert json.loads(created["workflow_input"]) == {"who": "<% $.payload.name %>"}
    assert created["scope"] == "private" and created["project_id"] == "<default-project>"
    import re
    assert re.match(TIME_RE, created["created_at"])
    tid = created["id"]
    got = client.get(f"/v2/event_triggers/{tid}", 200).json
    assert got["name"] == "on-create" and got["exchange"] == "nova"
    listed = client.get("/v2/event_triggers?exchange=nova", 200).json["event_triggers"]
    assert [t["id"] for t in listed] == [tid]
    assert client.get("/v2/event_triggers?exchange=glance", 200).json["event_triggers"] == []
    updated = client.put_json(f"/v2/event_triggers/{tid}",
                              {"name": "renamed", "workflow_params": {"env": {"b": 2}}},
                              200).json
    assert updated["name"] == "renamed"
    assert json.loads(updated["workflow_params"]) == {"env": {"b": 2}}
    assert updated["updated_at"] is not None
    client.delete(f"/v2/event_triggers/{tid}", 204)
    assert_fault(client.get(f"/v2/event_triggers/{tid}", 404), 404, tid)


def test_validation_errors(client: Client, workflow_id: str) -> None:
    assert_fault(client.post_json("/v2/event_triggers", _body(workflow_id, topic=""), 400),
                 400, "topic")
    assert_fault(client.post_json("/v2/event_triggers", _body("no-such-wf"), 404), 404,
                 "no-such-wf")
    bad_input = _body(workflow_id, workflow_input={"nobody": 1})
    assert_fault(client.post_json("/v2/event_triggers", bad_input, 400), 400, "nobody")
    tid = client.post_json("/v2/event_triggers", _body(workflow_id), 201).json["id"]
    assert_fault(client.post_json("/v2/event_triggers", _body(workflow_id, name="x"), 409),
                 409, "Duplicate")
    assert_fault(client.put_json(f"/v2/event_triggers/{tid}", {"topic": "other"}, 400), 400,
                 "Can not update")


def test_posted_event_starts_workflow(client: Client, runtime: Any, workflow_id: str) -> None:
    tid = client.post_json("/v2/event_triggers", _body(workflow_id), 201).json["id"]
    answer = client.post_json("/v2/event_triggers/events", {
        "exchange": "nova", "topic": "notifications", "event": "compute.instance.create.end",
        "payload": {"name": "vm-1"}, "publisher": "compute.host1", "message_id": "msg-1"},
        200).json
    assert [e["trigger_id"] for e in answer["executions"]] == [tid]
    done = runtime.wait_execution(answer["executions"][0]["id"], timeout=20)
    assert done["state"] == "SUCCESS", done
    assert done["input"]["who"] == "vm-1"
    assert done["output"]["who"] == "vm-1"
    params = done["params"]
    assert params["env"] == {"a": 1}
    assert params["event_params"]["payload"] == {"name": "vm-1"}
    assert params["event_params"]["service"] == "compute.host1"
    desc = json.loads(done["description"])
    assert desc["triggered_by"] == {"type": "event_trigger", "id": tid, "name": "on-create"}
    # The same message again starts nothing new; another event type starts nothing.
    again = client.post_json("/v2/event_triggers/events", {
        "exchange": "nova", "topic": "notifications", "event": "compute.instance.create.end",
        "payload": {"name": "vm-1"}, "message_id": "msg-1"}, 200).json
    assert again["executions"] == []
    other = client.post_json("/v2/event_triggers/events", {
        "exchange": "nova", "topic": "notifications", "event": "other"}, 200).json
    assert other["executions"] == []
    assert len(wait_executions(runtime, 1)) == 1


def test_posted_event_needs_exchange_topic_event(client: Client) -> None:
    assert_fault(client.post_json("/v2/event_triggers/events", {"exchange": "x", "topic": "t"},
                                  400), 400, "event")
