"""The REST client library: wire format, error mapping, pagination."""

from __future__ import annotations

import pytest

from wfaas.client import Client
from wfaas.client.errors import APIError, ConflictError, ConnectionFailed, NotFoundError
from wfaas.client.managers import decode_json_fields

URL = "http://wf.test/v2"


def test_not_found_carries_status_and_faultstring(fake) -> None:
    fake.on("GET", "/v2/workflows/x", (404, {"faultcode": "Client", "debuginfo": None,
                                              "faultstring": "Workflow not found [name=x]"}))
    with pytest.raises(NotFoundError) as info:
        Client(URL).workflows.get("x")
    assert info.value.status == 404
    assert info.value.faultstring == "Workflow not found [name=x]"
    assert str(info.value) == "404 Workflow not found [name=x]"


def test_conflict_and_html_error_bodies(fake) -> None:
    fake.on("POST", "/v2/workflows", (409, {"faultstring": "Duplicate entry"}))
    with pytest.raises(ConflictError, match="409 Duplicate entry"):
        Client(URL).workflows.create("---\nversion: '2.0'\n")
    fake.on("GET", "/v2/executions", (502, "<html><body><h1>Bad Gateway</h1></body></html>"))
    with pytest.raises(APIError) as info:
        Client(URL).executions.list()
    assert info.value.status == 502 and info.value.faultstring == "Bad Gateway"


def test_connection_refused_names_the_url(fake) -> None:
    fake.refuse = True
    with pytest.raises(ConnectionFailed) as info:
        Client(URL).workflows.list()
    assert str(info.value) == f"cannot connect to {URL}: connection refused"


def test_definition_upload_is_plain_text_accepting_anything(fake) -> None:
    fake.on("POST", "/v2/workflows", (201, {"workflows": [
        {"name": "wf", "interface": '{"input": ["a"], "output": []}'}]}))
    rows = Client(URL).workflows.create("text", namespace="ns", scope="public")
    request = fake.last("POST")
    assert request.headers["Content-Type"] == "text/plain"
    assert request.headers["Accept"] == "*/*"
    assert request.body == b"text"
    assert fake.query(request) == {"namespace": "ns", "scope": "public"}
    assert rows == [{"name": "wf", "interface": {"input": ["a"], "output": []}}]


def test_execution_create_sends_json_strings_and_decodes_the_answer(fake) -> None:
    fake.on("POST", "/v2/executions", (201, {"id": "e1", "state": "RUNNING",
                                              "input": '{"x": 1}', "output": "{}",
                                              "params": '{"env": {}}'}))
    ex = Client(URL).executions.create("my_wf", input={"x": 1}, params={"env": {"k": 1}},
                                       description="d")
    body = fake.body(fake.last("POST"))
    assert body == {"workflow_name": "my_wf", "input": '{"x": 1}',
                    "params": '{"env": {"k": 1}}', "description": "d"}
    assert ex["input"] == {"x": 1} and ex["output"] == {} and ex["params"] == {"env": {}}


def test_execution_create_by_uuid_uses_workflow_id(fake) -> None:
    fake.on("POST", "/v2/executions", (201, {"id": "e1"}))
    wf_id = "cea99a2f-30ff-42aa-bc8c-01a0d249c290"
    Client(URL).executions.create(wf_id, namespace="n")
    assert fake.body(fake.last())["workflow_id"] == wf_id
    assert fake.body(fake.last())["workflow_namespace"] == "n"


def test_list_follows_next_links_until_the_end(fake) -> None:
    page2 = f"{URL}/executions?marker=b&limit=&sort_keys=created_at"
    fake.on("GET", "/v2/executions", [
        (200, {"executions": [{"id": "a"}, {"id": "b"}], "next": page2}),
        (200, {"executions": [{"id": "c"}]})])
    rows = Client(URL).executions.list(state="ERROR")
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    assert fake.query(fake.requests[0]) == {"state": "ERROR"}
    assert fake.query(fake.requests[1])["marker"] == "b"


def test_list_with_limit_returns_one_page_and_passes_filters(fake) -> None:
    fake.on("GET", "/v2/tasks", (200, {"tasks": [{"id": "t"}], "next": f"{URL}/tasks?x=1"}))
    rows = Client(URL).tasks.list(limit=1, fields=["id", "name"], state="in:ERROR,SUCCESS")
    assert rows == [{"id": "t"}]
    assert fake.query(fake.last()) == {"limit": "1", "fields": "id,name",
                                       "state": "in:ERROR,SUCCESS"}
    assert len(fake.requests) == 1


def test_task_rerun_skip_and_state_changes(fake) -> None:
    fake.on("PUT", "/v2/tasks/t1", (200, {"id": "t1", "state": "RUNNING"}))
    client = Client(URL)
    client.tasks.rerun("t1", reset=False, env={"a": 1})
    assert fake.body(fake.last()) == {"state": "RUNNING", "reset": False, "env": '{"a": 1}'}
    client.tasks.skip("t1")
    assert fake.body(fake.last()) == {"state": "SKIPPED"}
    fake.on("PUT", "/v2/executions/e1", (200, {"id": "e1"}))
    client.executions.cancel("e1", "stop it")
    assert fake.body(fake.last()) == {"state": "CANCELLED", "state_info": "stop it"}
    client.executions.resume("e1", env={"k": "v"})
    assert fake.body(fake.last()) == {"state": "RUNNING", "params": '{"env": {"k": "v"}}'}


def test_action_run_and_delete_quotes_identifiers(fake) -> None:
    fake.on("POST", "/v2/action_executions", (201, {"state": "SUCCESS",
                                                     "output": '{"result": "hi"}'}))
    ae = Client(URL).action_executions.run("std.echo", {"output": "hi"}, save_result=True)
    assert ae["output"] == {"result": "hi"}
    assert fake.body(fake.last()) == {"name": "std.echo", "input": {"output": "hi"},
                                      "params": {"save_result": True}}
    fake.on("DELETE", "/v2/environments/a%2Fb", (204, None))
    Client(URL).environments.delete("a/b")
    assert fake.last().url.endswith("/v2/environments/a%2Fb")


def test_token_header_is_sent(fake) -> None:
    fake.on("GET", "/v2/environments", (200, {"environments": []}))
    Client(URL, token="tok").environments.list()
    assert fake.last().headers["X-Auth-Token"] == "tok"


def test_decode_leaves_non_json_strings_alone() -> None:
    row = decode_json_fields({"result": "plain text", "published": '{"a": 1}', "x": "1"},
                             ("result", "published"))
    assert row == {"result": "plain text", "published": {"a": 1}, "x": "1"}


def test_timeout_is_reported_with_the_limit(fake, monkeypatch) -> None:
    import requests

    def slow(request):
        raise requests.exceptions.ConnectTimeout("connect timeout=2")

    monkeypatch.setattr(fake, "send", lambda request, **kw: slow(request))
    with pytest.raises(ConnectionFailed) as info:
        Client(URL, timeout=2).workflows.list()
    assert str(info.value) == f"cannot connect to {URL}: no answer within 2 s"
