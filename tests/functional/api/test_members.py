"""Workflow sharing (``/v2/workflows/{id}/members``) with Mistral's semantics: the owner
shares a private workflow, the member project accepts it, then sees and runs it."""

from __future__ import annotations

from typing import Any

import webtest

from tests.functional.api.conftest import HELLO_WF, assert_fault
from tests.functional.api.test_auth import Project, secured  # noqa: F401 - fixture


def _members(project: Project, wf_id: str) -> list[dict[str, Any]]:
    return project.get(f"/v2/workflows/{wf_id}/members").json["members"]


def test_share_accept_run_reject_delete(secured: webtest.TestApp, runtime: Any) -> None:  # noqa: F811
    a, b, c = (Project(secured, p) for p in ("proj-a", "proj-b", "proj-c"))
    wf = a.yaml("POST", "/v2/workflows", HELLO_WF, 201).json["workflows"][0]
    url = f"/v2/workflows/{wf['id']}/members"
    # only the owner shares; a stranger's attempt is a 404, bad requests are 400s
    assert_fault(b.json("POST", url, {"member_id": "proj-b"}, 404), 404)
    assert_fault(a.json("POST", url, {}, 400), 400, "Member id must be provided")
    assert_fault(a.json("POST", "/v2/workflows/rs_hello/members", {"member_id": "x"}, 400),
                 400, "UUID")
    share = a.json("POST", url, {"member_id": "proj-b"}, 201).json
    assert (share["resource_id"], share["resource_type"], share["project_id"],
            share["member_id"], share["status"]) == (wf["id"], "workflow", "proj-a", "proj-b",
                                                     "pending")
    assert "updated_at" not in share
    a.json("POST", url, {"member_id": "proj-b"}, 409)
    # pending: not visible, not runnable
    assert b.get("/v2/workflows").json["workflows"] == []
    assert_fault(b.get(f"/v2/workflows/{wf['id']}", 404), 404)
    assert_fault(b.json("POST", "/v2/executions", {"workflow_id": wf["id"],
                                                  "input": {"name": "b"}}, 404), 404)
    # who sees the share: the owner and the member, not a third project
    assert [s["member_id"] for s in _members(a, wf["id"])] == ["proj-b"]
    assert [s["member_id"] for s in _members(b, wf["id"])] == ["proj-b"]
    assert _members(c, wf["id"]) == []
    assert_fault(c.get(f"{url}/proj-b", 404), 404, "Resource member not found")
    # only the member changes the status
    assert_fault(a.json("PUT", f"{url}/proj-b", {"status": "accepted"}, 404), 404)
    assert_fault(b.json("PUT", f"{url}/proj-b", {}, 400), 400, "Status must be provided")
    assert_fault(b.json("PUT", f"{url}/proj-b", {"status": "maybe"}, 400), 400, "status")
    accepted = b.json("PUT", f"{url}/proj-b", {"status": "accepted"}, 200).json
    assert accepted["status"] == "accepted" and accepted["updated_at"]
    # accepted: visible (list, by id, by name) and runnable, but read-only
    assert [w["id"] for w in b.get("/v2/workflows").json["workflows"]] == [wf["id"]]
    assert b.get("/v2/workflows/rs_hello").json["id"] == wf["id"]
    ex = b.json("POST", "/v2/executions", {"workflow_id": wf["id"],
                                           "input": {"name": "b"}}, 201).json
    assert ex["project_id"] == "proj-b"
    assert runtime.wait_execution(ex["id"], 15)["state"] == "SUCCESS"
    assert_fault(a.get(f"/v2/executions/{ex['id']}", 404), 404)
    assert_fault(b.delete(f"/v2/workflows/{wf['id']}", 403), 403)
    assert_fault(b.yaml("PUT", f"/v2/workflows/{wf['id']}", HELLO_WF, 403), 403)
    assert_fault(c.get(f"/v2/workflows/{wf['id']}", 404), 404)
    # rejected: gone again
    b.json("PUT", f"{url}/proj-b", {"status": "rejected"}, 200)
    assert b.get("/v2/workflows").json["workflows"] == []
    # only the owner deletes the share
    assert_fault(b.delete(f"{url}/proj-b", 404), 404)
    a.delete(f"{url}/proj-b", 204)
    assert _members(a, wf["id"]) == []
    # public workflows are not shared
    public = a.yaml("POST", "/v2/workflows?scope=public&namespace=ns", HELLO_WF,
                    201).json["workflows"][0]
    assert_fault(a.json("POST", f"/v2/workflows/{public['id']}/members",
                        {"member_id": "proj-b"}, 400), 400, "Only private")


def test_sharing_needs_authentication(client: Any) -> None:
    wf = client.post_yaml("/v2/workflows", HELLO_WF, 201).json["workflows"][0]
    assert_fault(client.post_json(f"/v2/workflows/{wf['id']}/members", {"member_id": "x"},
                                  400), 400, "authentication enabled")
    assert_fault(client.get(f"/v2/workflows/{wf['id']}/members", 400), 400)
