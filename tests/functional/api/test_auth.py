"""Project scoping with ``[pecan] auth_enable``: identity headers as keystonemiddleware
sets them after validating a token (the middleware itself is exercised against a real
Keystone elsewhere)."""

from __future__ import annotations

from typing import Any

import pytest
import webtest

from tests.functional.api.conftest import (
    ASYNC_WF,
    FAIL_WF,
    HELLO_WF,
    WORKBOOK,
    assert_fault,
    wait_until,
)
from wfaas.api.app import make_pecan_app


class Project:
    """A caller of one project (optionally admin)."""

    def __init__(self, app: webtest.TestApp, project: str, admin: bool = False) -> None:
        self.app = app
        self.headers = {"X-Identity-Status": "Confirmed", "X-Project-Id": project,
                        "X-User-Id": f"user-{project}",
                        "X-Roles": "admin,member" if admin else "member"}

    def yaml(self, method: str, url: str, text: str, status: int) -> Any:
        return self.app.request(url, method=method, body=text.encode(), status=status,
                                headers={**self.headers, "Content-Type": "text/plain"})

    def json(self, method: str, url: str, body: Any, status: int) -> Any:
        return getattr(self.app, method.lower() + "_json")(url, body, status=status,
                                                           headers=self.headers)

    def get(self, url: str, status: int = 200) -> Any:
        return self.app.get(url, status=status, headers=self.headers)

    def delete(self, url: str, status: int) -> Any:
        return self.app.delete(url, status=status, headers=self.headers)


@pytest.fixture
def secured(runtime: Any, conf: Any) -> webtest.TestApp:
    conf.set_override("auth_enable", True, group="pecan")
    return webtest.TestApp(make_pecan_app(runtime, conf))


def test_requests_without_identity_are_401(secured: webtest.TestApp) -> None:
    assert_fault(secured.get("/v2/workflows", status=401), 401, "Authentication")
    assert_fault(secured.get("/v2/workflows", status=401,
                             headers={"X-Identity-Status": "Invalid", "X-Project-Id": "a"}), 401)
    assert_fault(secured.get("/v2/workflows", status=401,
                             headers={"X-Identity-Status": "Confirmed"}), 401)


def test_definitions_are_scoped_to_their_project(secured: webtest.TestApp) -> None:
    a, b = Project(secured, "proj-a"), Project(secured, "proj-b")
    wf = a.yaml("POST", "/v2/workflows", HELLO_WF, 201).json["workflows"][0]
    assert wf["project_id"] == "proj-a"
    assert_fault(b.get("/v2/workflows/rs_hello", 404), 404)
    assert b.get("/v2/workflows").json["workflows"] == []
    # Same name in another project is not a duplicate.
    assert b.yaml("POST", "/v2/workflows", HELLO_WF, 201).json["workflows"][0]["id"] != wf["id"]
    public = a.yaml("POST", "/v2/workflows?scope=public", FAIL_WF, 201).json["workflows"][0]
    assert b.get(f"/v2/workflows/{public['id']}").json["name"] == "rs_fail"
    assert_fault(b.delete(f"/v2/workflows/{public['id']}", 403), 403)
    a.json("POST", "/v2/environments", {"name": "env"}, 201)
    assert_fault(b.get("/v2/environments/env", 404), 404)
    assert b.get("/v2/actions/std.echo").json["name"] == "std.echo"


def test_executions_tasks_and_actions_are_scoped(secured: webtest.TestApp,
                                                  runtime: Any) -> None:
    a, b = Project(secured, "proj-a"), Project(secured, "proj-b")
    admin = Project(secured, "proj-admin", admin=True)
    a.yaml("POST", "/v2/workflows?scope=public", HELLO_WF, 201)
    ex = b.json("POST", "/v2/executions", {"workflow_name": "rs_hello",
                                           "input": {"name": "b"}}, 201).json
    assert ex["project_id"] == "proj-b"
    runtime.wait_execution(ex["id"], 15)
    assert [e["id"] for e in b.get("/v2/executions").json["executions"]] == [ex["id"]]
    assert a.get("/v2/executions").json["executions"] == []
    assert_fault(a.get(f"/v2/executions/{ex['id']}", 404), 404)
    tasks = b.get(f"/v2/executions/{ex['id']}/tasks").json["tasks"]
    assert len(tasks) == 2
    assert a.get("/v2/tasks").json["tasks"] == []
    assert_fault(a.get(f"/v2/tasks/{tasks[0]['id']}", 404), 404)
    assert len(b.get("/v2/action_executions").json["action_executions"]) == 4
    assert a.get("/v2/action_executions").json["action_executions"] == []
    assert admin.get("/v2/executions").json["executions"] == []
    everything = admin.get("/v2/executions?all_projects=true").json["executions"]
    assert [e["id"] for e in everything] == [ex["id"]]
    assert_fault(a.delete(f"/v2/executions/{ex['id']}", 404), 404)


def test_saved_action_runs_belong_to_the_caller(secured: webtest.TestApp) -> None:
    a, b = Project(secured, "proj-a"), Project(secured, "proj-b")
    run = a.json("POST", "/v2/action_executions", {
        "name": "std.echo", "input": {"output": 1}, "params": {"save_result": True}}, 201).json
    assert run["project_id"] == "proj-a"
    wait_until(lambda: a.get(f"/v2/action_executions/{run['id']}").json["state"] == "SUCCESS")
    assert_fault(b.get(f"/v2/action_executions/{run['id']}", 404), 404)
    assert b.get("/v2/action_executions").json["action_executions"] == []


def test_async_workflow_of_another_project_cannot_be_changed(secured: webtest.TestApp) -> None:
    a, b = Project(secured, "proj-a"), Project(secured, "proj-b")
    a.yaml("POST", "/v2/workflows", ASYNC_WF, 201)
    ex = a.json("POST", "/v2/executions", {"workflow_name": "rs_async"}, 201).json
    assert_fault(b.json("PUT", f"/v2/executions/{ex['id']}", {"state": "PAUSED"}, 404), 404)
    a.json("PUT", f"/v2/executions/{ex['id']}", {"state": "CANCELLED"}, 200)


def test_keystonemiddleware_rejects_requests_without_token(runtime: Any, conf: Any) -> None:
    auth_token = pytest.importorskip("keystonemiddleware.auth_token")
    from wfaas.api.app import setup_app

    for group, opts in auth_token.list_opts():
        conf.register_opts(opts, group=group)
    # A Keystone nobody listens on: requests without a token never reach it.
    conf.set_override("www_authenticate_uri", "http://127.0.0.1:9/v3",
                      group="keystone_authtoken")
    conf.set_override("auth_enable", True, group="pecan")
    app = webtest.TestApp(setup_app(runtime, conf))
    resp = app.get("/v2/workflows", status=401)
    assert resp.headers["WWW-Authenticate"] == 'Keystone uri="http://127.0.0.1:9/v3"'
    # Spoofed identity headers are stripped by the middleware, not trusted.
    app.get("/v2/workflows", status=401, headers={"X-Identity-Status": "Confirmed",
                                                  "X-Project-Id": "proj-a"})


PARENT_WF = """---
version: '2.0'
sec_parent:
  tasks:
    call:
      workflow: sec_child
sec_child:
  tasks:
    echo:
      action: std.echo output=child
      timeout: 30  # sent to an executor (not run inside the engine step)
"""


def _spy_security(runtime: Any) -> list[Any]:
    """Record the security context of every action the executor runs."""
    from wfaas.actions.runner import run_action

    seen: list[Any] = []
    original = runtime.executor._runner or run_action

    def spy(provider: Any, name: str, input: dict[str, Any], context: Any, **kw: Any) -> Any:
        seen.append((name, context.security))
        return original(provider, name, input, context, **kw)

    runtime.executor._runner = spy
    return seen


def test_workflows_and_actions_run_with_the_callers_security(secured: webtest.TestApp,
                                                             runtime: Any) -> None:
    seen = _spy_security(runtime)
    a, b = Project(secured, "proj-a"), Project(secured, "proj-b")
    b.headers.update({"X-Auth-Token": "tok-b", "X-Project-Name": "b-name",
                      "X-User-Name": "bob", "X-Service-Catalog": '[{"type": "compute"}]'})
    a.yaml("POST", "/v2/workflows?scope=public", PARENT_WF, 201)
    ex = b.json("POST", "/v2/executions", {"workflow_name": "sec_parent"}, 201).json
    assert ex["project_id"] == "proj-b"
    assert runtime.wait_execution(ex["id"], 15)["state"] == "SUCCESS"
    # the sub-workflow was created by the engine: it belongs to the caller from the start
    children = b.get(f"/v2/executions?root_execution_id={ex['id']}").json["executions"]
    assert [c["project_id"] for c in children if c["id"] != ex["id"]] == ["proj-b"]
    [(name, security)] = seen
    assert name == "std.echo"
    assert (security.auth_token, security.project_id, security.project_name,
            security.user_id, security.user_name) == ("tok-b", "proj-b", "b-name",
                                                      "user-proj-b", "bob")
    assert security.service_catalog == [{"type": "compute"}]
    seen.clear()
    run = b.json("POST", "/v2/action_executions", {
        "name": "std.echo", "input": {"output": 1}, "params": {"save_result": True}}, 201).json
    assert run["project_id"] == "proj-b"
    wait_until(lambda: seen)
    assert seen[0][1].auth_token == "tok-b" and seen[0][1].project_id == "proj-b"


def test_private_workflow_of_another_project_cannot_be_started(secured: webtest.TestApp,
                                                                runtime: Any) -> None:
    """Issue 15: by id, by name, through a cron or event trigger, with an environment name."""
    a, b = Project(secured, "proj-a"), Project(secured, "proj-b")
    private = a.yaml("POST", "/v2/workflows", HELLO_WF, 201).json["workflows"][0]
    a.json("POST", "/v2/environments", {"name": "a-env", "variables": {"k": 1}}, 201)
    for body in ({"workflow_id": private["id"]}, {"workflow_name": "rs_hello"}):
        assert_fault(b.json("POST", "/v2/executions", {**body, "input": {"name": "x"}}, 404),
                     404)
    assert_fault(b.json("POST", "/v2/cron_triggers", {
        "name": "t", "workflow_id": private["id"], "pattern": "* * * * *",
        "workflow_input": {"name": "x"}}, 404), 404)
    assert_fault(b.json("POST", "/v2/event_triggers", {
        "name": "e", "workflow_id": private["id"], "exchange": "x", "topic": "t",
        "event": "ev", "workflow_input": {"name": "x"}}, 404), 404)
    assert b.get("/v2/executions").json["executions"] == []
    # b's own copy wins by name; a's environment is not b's to use (Mistral's answer for
    # an environment it cannot find: 400 "Environment is not found").
    b.yaml("POST", "/v2/workflows", HELLO_WF, 201)
    assert_fault(b.json("POST", "/v2/executions", {
        "workflow_name": "rs_hello", "input": {"name": "x"}, "params": {"env": "a-env"}},
        400), 400, "Environment is not found")
    ex = b.json("POST", "/v2/executions", {"workflow_name": "rs_hello",
                                           "input": {"name": "x"}}, 201).json
    assert ex["workflow_id"] != private["id"] and ex["project_id"] == "proj-b"
    # an unknown namespace falls back to the default one, as in Mistral
    other = b.json("POST", "/v2/executions", {"workflow_name": "rs_hello",
                                              "workflow_namespace": "nope",
                                              "input": {"name": "x"}}, 201).json
    assert other["workflow_id"] == ex["workflow_id"]
    # a cannot clone b's execution, nor reuse its id
    assert_fault(a.json("POST", "/v2/executions", {"source_execution_id": ex["id"]}, 404), 404)
    a.json("POST", "/v2/executions", {"id": ex["id"], "workflow_id": private["id"],
                                      "input": {"name": "x"}}, 409)
    # a (the owner) and an admin asking for it explicitly still can
    own = a.json("POST", "/v2/executions", {"workflow_id": private["id"],
                                            "input": {"name": "x"}}, 201).json
    assert own["project_id"] == "proj-a"


def test_workbook_workflow_runs_its_own_projects_workbook(secured: webtest.TestApp,
                                                          runtime: Any) -> None:
    """Two projects with a workbook of the same name: each execution keeps its own text."""
    a, b = Project(secured, "proj-a"), Project(secured, "proj-b")
    a.yaml("POST", "/v2/workbooks", WORKBOOK.replace("text: hey", "text: from a"), 201)
    b.yaml("POST", "/v2/workbooks", WORKBOOK.replace("text: hey", "text: from b"), 201)
    ex = b.json("POST", "/v2/executions", {"workflow_name": "demo_wb.wf1"}, 201).json
    assert runtime.wait_execution(ex["id"], 15)["state"] == "SUCCESS"
    [task] = b.get(f"/v2/executions/{ex['id']}/tasks").json["tasks"]
    assert "from b" in task["published"]


def test_subworkflow_of_another_project_is_not_found(secured: webtest.TestApp,
                                                     runtime: Any) -> None:
    """A workflow task naming another project's private workflow fails, it does not run it."""
    a, b = Project(secured, "proj-a"), Project(secured, "proj-b")
    a.yaml("POST", "/v2/workflows", PARENT_WF.split("sec_child:")[0].replace(
        "sec_parent", "other_parent") + "sec_child:" + PARENT_WF.split("sec_child:")[1], 201)
    b.yaml("POST", "/v2/workflows", PARENT_WF.split("sec_child:")[0], 201)
    ex = b.json("POST", "/v2/executions", {"workflow_name": "sec_parent"}, 201).json
    done = runtime.wait_execution(ex["id"], 15)
    assert done["state"] == "ERROR" and "sec_child" in (done["state_info"] or ""), done
    # shared with b and accepted, it runs
    child = a.get("/v2/workflows/sec_child").json["id"]
    a.json("POST", f"/v2/workflows/{child}/members", {"member_id": "proj-b"}, 201)
    b.json("PUT", f"/v2/workflows/{child}/members/proj-b", {"status": "accepted"}, 200)
    ex = b.json("POST", "/v2/executions", {"workflow_name": "sec_parent"}, 201).json
    assert runtime.wait_execution(ex["id"], 15)["state"] == "SUCCESS"
