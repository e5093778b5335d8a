"""Roots, error bodies and the HTTP protocol edge cases of the API."""

from __future__ import annotations

import json
from typing import Any

import webtest

from tests.functional.api.conftest import HELLO_WF, Client, assert_fault, make_conf
from wfaas.api.app import setup_app


def test_versions_and_v2_root(client: Client) -> None:
    body = client.get("/", 200).json
    assert body == {"versions": [{"id": "v2.0", "status": "CURRENT", "links": [
        {"href": "http://localhost/v2", "target": "v2", "rel": "self"}]}]}
    assert client.get("/v2", 200).json == {"uri": "http://localhost/v2"}
    assert client.get("/v2/", 200).json == {"uri": "http://localhost/v2"}


def test_json_is_compact_with_spaces_like_mistral(client: Client) -> None:
    resp = client.get("/v2", 200)
    assert resp.text == '{"uri": "http://localhost/v2"}'
    assert resp.content_type == "application/json"


def test_unknown_url_is_a_json_404(client: Client) -> None:
    assert_fault(client.get("/v2/nonsense", 404), 404, "/v2/nonsense")
    assert_fault(client.get("/v3/workflows", 404), 404)


def test_wrong_method_is_405_with_allow(client: Client) -> None:
    resp = client.app.put("/v2", status=405)
    assert_fault(resp, 405)
    assert resp.headers["Allow"] == "GET"
    resp = client.app.delete("/v2/workflows", status=405)
    assert set(resp.headers["Allow"].split(", ")) == {"GET", "POST", "PUT"}


def test_accept_json_on_yaml_upload_is_not_406(client: Client) -> None:
    resp = client.app.post("/v2/workflows", HELLO_WF.encode(), status=201,
                           headers={"Content-Type": "text/plain", "Accept": "application/json"})
    assert resp.json["workflows"][0]["name"] == "rs_hello"


def test_xml_body_is_415(client: Client) -> None:
    resp = client.app.post("/v2/environments", b"<env/>", status=415,
                           headers={"Content-Type": "application/xml"})
    assert_fault(resp, 415, "Unsupported media type")


def test_bad_json_body_is_400(client: Client) -> None:
    resp = client.app.post("/v2/environments", b"{nope", status=400,
                           headers={"Content-Type": "application/json"})
    assert_fault(resp, 400, "Invalid JSON")
    resp = client.app.post("/v2/environments", b"[1, 2]", status=400,
                           headers={"Content-Type": "application/json"})
    assert_fault(resp, 400, "JSON object")


def test_oversized_body_is_413(tmp_path: Any, runtime: Any) -> None:
    conf = make_conf(tmp_path, **{"api.max_body_size_kb": 1})
    app = webtest.TestApp(setup_app(runtime, conf))
    big = json.dumps({"name": "x", "variables": {"v": "x" * 2000}})
    resp = app.post("/v2/environments", big, status=413,
                    headers={"Content-Type": "application/json"})
    assert_fault(resp, 413, "too large")


def test_chunked_oversized_body_is_413(tmp_path: Any, runtime: Any) -> None:
    conf = make_conf(tmp_path, **{"api.max_body_size_kb": 1})
    app = webtest.TestApp(setup_app(runtime, conf))
    req = webtest.TestRequest.blank("/v2/environments", method="POST")
    req.body_file = __import__("io").BytesIO(b"x" * 5000)
    req.environ.pop("CONTENT_LENGTH", None)
    req.environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    resp = app.do_request(req, status=413)
    assert_fault(resp, 413)


def test_unexpected_error_is_generic_500(client: Client, runtime: Any,
                                         monkeypatch: Any) -> None:
    from wfaas.api.controllers import environments

    def explode(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(environments, "list_answer", explode)
    resp = client.get("/v2/environments", 500)
    body = assert_fault(resp, 500)
    assert "secret" not in resp.text
    assert "server log" in body["faultstring"]


def test_bad_query_parameters_are_400(client: Client) -> None:
    assert_fault(client.get("/v2/workflows?limit=abc", 400), 400, "limit")
    assert_fault(client.get("/v2/workflows?limit=0", 400), 400, "positive")
    assert_fault(client.get("/v2/workflows?sort_keys=nope", 400), 400, "sort key")
    assert_fault(client.get("/v2/workflows?sort_dirs=up", 400), 400, "direction")
    assert_fault(client.get("/v2/workflows?fields=nope", 400), 400, "nope")
    assert_fault(client.get("/v2/workflows?bogus=1", 400), 400, "bogus")
    assert_fault(client.get("/v2/workflows?created_at=gt:yesterday", 400), 400, "created_at")
    assert_fault(client.get("/v2/workflows?marker=missing", 400), 400, "Marker")
    assert_fault(client.get("/v2/executions?include_output=maybe", 400), 400, "boolean")


def test_healthcheck(client: Client) -> None:
    assert client.get("/healthcheck", 200).json == {"status": "OK"}


def test_requests_are_access_logged(client: Client, caplog: Any) -> None:
    import logging

    with caplog.at_level(logging.INFO, logger="wfaas.api.access"):
        client.get("/v2/workflows/missing", 404)
    assert any(r.getMessage().startswith("GET /v2/workflows/missing 404 ")
               for r in caplog.records)


def test_unknown_query_parameters_are_rejected_like_mistral(client: Client) -> None:
    """Mistral (WSME) answers an argument the endpoint does not take with 400."""
    client.post_yaml("/v2/workflows", HELLO_WF, 201)
    wf = client.get("/v2/workflows/rs_hello", 200).json
    missing = "00000000-0000-0000-0000-000000000000"
    for url in ("/v2/workflows?bogus=1", f"/v2/workflows/{wf['id']}?bogus=1",
                "/v2/executions?limit=1&bogus=1", f"/v2/executions/{missing}?bogus=1",
                f"/v2/tasks/{missing}?bogus=", "/v2/actions/std.echo?bogus=1",
                f"/v2/executions/{missing}/report?bogus=1", "/v2/environments?bogus=1",
                f"/v2/tasks/{missing}/action_executions?bogus=1", "/v2?bogus=1"):
        body = assert_fault(client.get(url, 400), 400)
        assert body["faultstring"] == 'Unknown argument: "bogus"', (url, body)
    # what python-mistralclient sends keeps working
    for url in ("/v2/workflows?limit=100&sort_keys=created_at&sort_dirs=asc&fields=name",
                "/v2/workflows/rs_hello?namespace=", "/v2/executions?all_projects=true",
                "/v2/executions?limit=10&include_output=true&nulls=task_execution_id",
                "/v2/tasks?limit=100&sort_keys=created_at", "/v2/action_executions?limit=100",
                "/v2/workbooks?limit=100", "/v2/environments?limit=100",
                "/v2/cron_triggers?limit=100", "/v2/event_triggers?limit=100"):
        client.get(url, 200)
