"""Tenant isolation against a real Keystone, for every route of the OpenAPI document.

Project ``admin`` (user admin, role admin) owns one object of every kind: private,
public, shared-and-accepted and shared-but-pending workflows, a workbook, an ad-hoc
action, an environment, an execution with its task and action execution, a cron and
an event trigger. Project ``demo`` (user demo, role member) then calls every method
and path listed by ``/v2/openapi.json`` on them: no read, no write crosses the
project line, except the public and shared-accepted definitions (read and run, not
changed), as in Mistral. A route the table below does not know fails the suite, so
a new route is covered the day it is added.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.functional.isolation.conftest import Caller

pytestmark = pytest.mark.keystone

WF = """---
version: '2.0'
{name}:
  input:
    - who: x
  tasks:
    hello:
      action: std.echo output="hi <% $.who %>"
"""
WORKBOOK = """---
version: '2.0'
name: iso_wb
workflows:
  inner:
    tasks:
      t:
        action: std.noop
"""
ACTION = """---
version: '2.0'
iso_action:
  base: std.echo
  base-input:
    output: secret
"""
#: words that must never show in an answer to project demo
PRIVATE_NAMES = ("iso_private", "iso_pending", "iso_wb", "iso_action", "iso_env", "iso_cron",
                 "iso_event")


def _ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, (resp.request.method, resp.url, resp.text)
    return resp.json() if resp.text else None


def _wait(caller: Caller, execution_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        ex = _ok(caller.call("GET", f"/v2/executions/{execution_id}?wait=10"))
        if ex["state"] in ("SUCCESS", "ERROR") or time.monotonic() > deadline:
            return dict(ex)


@pytest.fixture(scope="module")
def world(admin: Caller, demo: Caller) -> dict[str, Any]:
    """What project admin owns (ids and names), created once."""
    w: dict[str, Any] = {}
    for name, scope in (("iso_private", "private"), ("iso_public", "public"),
                        ("iso_shared", "private"), ("iso_pending", "private")):
        created = _ok(admin.call("POST", f"/v2/workflows?scope={scope}",
                                 text=WF.format(name=name)), 201)
        w[name] = created["workflows"][0]["id"]
    for name in ("iso_shared", "iso_pending"):
        _ok(admin.call("POST", f"/v2/workflows/{w[name]}/members",
                       json={"member_id": demo.project_id}), 201)
    _ok(demo.call("PUT", f"/v2/workflows/{w['iso_shared']}/members/{demo.project_id}",
                  json={"status": "accepted"}))
    _ok(admin.call("POST", "/v2/workbooks", text=WORKBOOK), 201)
    _ok(admin.call("POST", "/v2/actions", text=ACTION), 201)
    _ok(admin.call("POST", "/v2/environments", json={"name": "iso_env",
                                                     "variables": {"k": "v"}}), 201)
    ex = _ok(admin.call("POST", "/v2/executions", json={"workflow_id": w["iso_private"]}), 201)
    assert _wait(admin, ex["id"])["state"] == "SUCCESS"
    w["execution"] = ex["id"]
    [task] = _ok(admin.call("GET", f"/v2/executions/{ex['id']}/tasks"))["tasks"]
    w["task"] = task["id"]
    [action] = _ok(admin.call("GET", f"/v2/tasks/{task['id']}/action_executions")
                   )["action_executions"]
    w["action_execution"] = action["id"]
    _ok(admin.call("POST", "/v2/cron_triggers", json={
        "name": "iso_cron", "workflow_id": w["iso_private"], "pattern": "0 0 1 1 *"}), 201)
    event = _ok(admin.call("POST", "/v2/event_triggers", json={
        "name": "iso_event", "workflow_id": w["iso_private"], "exchange": "iso",
        "topic": "iso", "event": "iso.event"}), 201)
    w["event_trigger"] = event["id"]
    return w


def _path_values(w: dict[str, Any], demo: Caller) -> dict[tuple[str, str], str]:
    """(first path segment, parameter) -> the value naming admin's private object."""
    return {
        ("workflows", "identifier"): w["iso_private"],
        ("workflows", "member_id"): demo.project_id,
        ("workbooks", "name"): "iso_wb",
        ("actions", "identifier"): "iso_action",
        ("executions", "id"): w["execution"],
        ("tasks", "id"): w["task"],
        ("tasks", "action_execution_id"): w["action_execution"],
        ("action_executions", "id"): w["action_execution"],
        ("environments", "name"): "iso_env",
        ("cron_triggers", "identifier"): "iso_cron",
        ("event_triggers", "identifier"): w["event_trigger"],
    }


def _body(method: str, path: str, kind: str | None, w: dict[str, Any]) -> dict[str, Any]:
    """A valid request body for the route, aimed at admin's objects."""
    if kind == "text":
        resource = path.split("/")[2]
        text = {"workflows": WF.format(name="iso_private"), "workbooks": WORKBOOK,
                "actions": ACTION}[resource]
        return {"text": text}
    if kind != "json":
        return {}
    bodies: dict[Any, dict[str, Any]] = {
        "/v2/executions": {"workflow_id": w["iso_private"]},
        "/v2/executions/{id}": {"state": "PAUSED"},
        "/v2/tasks/{id}": {"state": "RUNNING"},
        "/v2/action_executions": {"name": "iso_action"},
        "/v2/action_executions/{id}": {"state": "SUCCESS", "output": 1},
        ("POST", "/v2/environments"): {"name": "demo_env"},
        "/v2/environments": {"name": "iso_env", "variables": {"stolen": True}},
        "/v2/cron_triggers": {"name": "steal", "workflow_id": w["iso_private"],
                              "pattern": "0 0 1 1 *"},
        "/v2/event_triggers": {"name": "steal", "workflow_id": w["iso_private"],
                               "exchange": "x", "topic": "x", "event": "x"},
        "/v2/event_triggers/{identifier}": {"name": "stolen"},
        "/v2/event_triggers/events": {"exchange": "iso", "topic": "iso",
                                      "event": "iso.event", "payload": {}},
        "/v2/workflows/{identifier}/members": {"member_id": "someone"},
        "/v2/workflows/{identifier}/members/{member_id}": {"status": "accepted"},
    }
    return {"json": bodies.get((method, path), bodies.get(path))}


def _routes(caller: Caller) -> list[tuple[str, str, dict[str, Any]]]:
    document = _ok(caller.call("GET", "/v2/openapi.json"))
    routes = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "delete"):
                routes.append((method.upper(), path, operation))
    assert len(routes) > 50
    return routes


def _kind(operation: dict[str, Any]) -> str | None:
    content = (operation.get("requestBody") or {}).get("content") or {}
    if "application/json" in content:
        return "json"
    return "text" if content else None


def _fill(path: str, values: dict[tuple[str, str], str]) -> str:
    resource = path.split("/")[2] if path.count("/") > 1 else ""

    def value(match: re.Match[str]) -> str:
        key = (resource, match.group(1))
        assert key in values, f"the isolation matrix does not know {path}: add it"
        return values[key]

    return re.sub(r"\{(\w+)\}", value, path)


#: routes that create in the caller's own project or only read the caller's own rows
OWN_PROJECT_POSTS = {"/v2/workflows", "/v2/workbooks", "/v2/actions", "/v2/environments",
                     "/v2/workflows/validate", "/v2/workbooks/validate",
                     "/v2/actions/validate",
                     # pure layout of the definition the caller sends: reads nothing stored
                     "/v2/graphs"}


def test_every_route_needs_a_token(demo: Caller, world: dict[str, Any]) -> None:
    values = _path_values(world, demo)
    open_routes = []
    for method, path, operation in _routes(demo):
        resp = demo.call(method, _fill(path, values), token=False,
                         **_body(method, path, _kind(operation), world))
        if resp.status_code != 401:
            open_routes.append(f"{method} {path}: {resp.status_code}")
    assert open_routes == []
    bad = demo.call("GET", "/v2/workflows", token=False)
    assert demo.call("GET", "/v2/workflows", token=False).status_code == bad.status_code == 401


def test_no_route_reads_or_writes_another_projects_objects(demo: Caller, admin: Caller,
                                                           world: dict[str, Any]) -> None:
    values = _path_values(world, demo)
    leaks = []
    for method, path, operation in _routes(demo):
        if "{" not in path and method == "GET":
            continue  # lists: test_lists_show_only_what_the_project_may_see
        if (method == "POST" and path in OWN_PROJECT_POSTS) or path == "/v2/openapi.json":
            continue
        resp = demo.call(method, _fill(path, values),
                         **_body(method, path, _kind(operation), world))
        expected = {404} if method == "GET" else {403, 404}
        if (method, path) == ("POST", "/v2/action_executions"):
            expected = {400}   # Mistral: "Failed to find action" is a 400, as for a missing one
        if path == "/v2/workflows/{identifier}/members" and method == "GET":
            if resp.status_code != 200 or resp.json()["members"] != []:
                leaks.append(f"{method} {path}: {resp.status_code} {resp.text[:200]}")
            continue
        if path == "/v2/event_triggers/events":
            if resp.status_code != 200 or resp.json()["executions"] != []:
                leaks.append(f"{method} {path}: {resp.status_code} {resp.text[:200]}")
            continue
        if resp.status_code not in expected:
            leaks.append(f"{method} {path}: {resp.status_code} {resp.text[:200]}")
    assert leaks == [], "\n".join(leaks)
    # and nothing of admin's changed
    env = _ok(admin.call("GET", "/v2/environments/iso_env"))
    assert "stolen" not in env["variables"]
    assert _ok(admin.call("GET", f"/v2/event_triggers/{world['event_trigger']}")
               )["name"] == "iso_event"
    assert _ok(admin.call("GET", f"/v2/executions/{world['execution']}"))["state"] == "SUCCESS"


def test_lists_show_only_what_the_project_may_see(demo: Caller, world: dict[str, Any]) -> None:
    secrets = [*PRIVATE_NAMES, world["iso_private"], world["iso_pending"], world["execution"],
               world["task"], world["action_execution"], world["event_trigger"]]
    for method, path, _ in _routes(demo):
        if method != "GET" or "{" in path or path in ("/v2/openapi.json", "/", "/v2",
                                                      "/healthcheck"):
            continue
        for query in ("", "?all_projects=true"):
            resp = demo.call("GET", path + query)
            if query and resp.status_code == 400:  # the list takes no all_projects
                continue
            text = _ok(resp) and resp.text
            assert not [s for s in secrets if s in text], (path + query, text[:300])
    names = [w["name"] for w in _ok(demo.call("GET", "/v2/workflows"))["workflows"]]
    assert {"iso_public", "iso_shared"} <= set(names)


def test_public_and_shared_definitions_are_visible_runnable_read_only(
        demo: Caller, world: dict[str, Any]) -> None:
    for name in ("iso_public", "iso_shared"):
        wf_id = world[name]
        assert _ok(demo.call("GET", f"/v2/workflows/{wf_id}"))["name"] == name
        assert _ok(demo.call("GET", f"/v2/workflows/{name}"))["id"] == wf_id
        assert demo.call("DELETE", f"/v2/workflows/{wf_id}").status_code == 403
        assert demo.call("PUT", f"/v2/workflows/{wf_id}",
                         text=WF.format(name=name)).status_code == 403
        ex = _ok(demo.call("POST", "/v2/executions", json={"workflow_name": name}), 201)
        assert ex["project_id"] == demo.project_id
        assert _wait(demo, ex["id"])["state"] == "SUCCESS"
    for identifier in (world["iso_pending"], "iso_pending", world["iso_private"],
                       "iso_private"):
        assert demo.call("GET", f"/v2/workflows/{identifier}").status_code == 404
        assert demo.call("POST", "/v2/executions", json={
            "workflow_id" if "-" in identifier else "workflow_name": identifier}
        ).status_code == 404


def test_admin_sees_other_projects_only_with_all_projects(admin: Caller, demo: Caller,
                                                          world: dict[str, Any]) -> None:
    own = _ok(demo.call("POST", "/v2/workflows", text=WF.format(name="iso_demo")), 201)
    demo_wf = own["workflows"][0]["id"]
    ex = _ok(demo.call("POST", "/v2/executions", json={"workflow_id": demo_wf}), 201)
    assert ex["project_id"] == demo.project_id
    for path, key, wanted in (("/v2/workflows", "workflows", demo_wf),
                              ("/v2/executions", "executions", ex["id"])):
        assert wanted not in [r["id"] for r in _ok(admin.call("GET", path))[key]]
        everything = _ok(admin.call("GET", path + "?all_projects=true"))[key]
        assert wanted in [r["id"] for r in everything]
    assert admin.call("GET", f"/v2/workflows/{demo_wf}").status_code == 404
    assert admin.call("DELETE", f"/v2/executions/{ex['id']}?force=true").status_code == 404
    # by id, an admin reaches another project's event trigger no more than its workflow
    # (Mistral's admin does: docs/compatibility.md)
    trigger = _ok(demo.call("POST", "/v2/event_triggers", json={
        "name": "iso_demo_event", "workflow_id": demo_wf, "exchange": "iso_demo",
        "topic": "iso_demo", "event": "iso.demo"}), 201)
    by_id = f"/v2/event_triggers/{trigger['id']}"
    assert admin.call("GET", by_id).status_code == 404
    assert admin.call("PUT", by_id, json={"name": "taken"}).status_code == 404
    assert admin.call("DELETE", by_id).status_code == 404
    listed = _ok(admin.call("GET", "/v2/event_triggers"))["event_triggers"]
    assert trigger["id"] not in [t["id"] for t in listed]
    everything = _ok(admin.call("GET", "/v2/event_triggers?all_projects=true"))["event_triggers"]
    assert trigger["id"] in [t["id"] for t in everything]
    assert _ok(demo.call("GET", by_id))["name"] == "iso_demo_event"
    _ok(demo.call("DELETE", by_id), 204)
