"""The lean WSGI path (wfaas.api.fastpath) answers exactly as the Pecan path does.

The same requests go to the Pecan app alone and to the Pecan app behind FastPath, over
one runtime that is not started (no engine: the stored rows do not change between the
two calls); status, headers and body must be byte-identical, successes and errors.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import webtest
from oslo_config import cfg

from tests.functional.api.conftest import HELLO_WF, make_conf
from wfaas.api.app import make_pecan_app
from wfaas.api.fastpath import FastPath
from wfaas.services.runtime import Runtime

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def stopped_runtime(tmp_path: Any) -> Iterator[tuple[Runtime, cfg.ConfigOpts]]:
    conf = make_conf(tmp_path)
    runtime = Runtime.from_config(conf)
    try:
        yield runtime, conf
    finally:
        runtime.close()


def _apps(runtime: Runtime, conf: cfg.ConfigOpts) -> tuple[webtest.TestApp, webtest.TestApp]:
    fast = make_pecan_app(runtime, conf, fast_path=True)
    assert isinstance(fast, FastPath)
    return (webtest.TestApp(make_pecan_app(runtime, conf)), webtest.TestApp(fast))


def _same(pecan: webtest.TestApp, fast: webtest.TestApp, method: str, url: str,
          body: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    answers = []
    for app in (pecan, fast):
        answers.append(app.request(url, method=method, body=body, headers=headers or {},
                                   expect_errors=True))
    slow, quick = answers
    assert quick.status == slow.status, (method, url, quick.text, slow.text)
    assert sorted(quick.headerlist) == sorted(slow.headerlist), (method, url)
    assert quick.body == slow.body, (method, url)
    return quick


def _store_workflow(pecan: webtest.TestApp) -> None:
    pecan.post("/v2/workflows", HELLO_WF.encode(), headers={"Content-Type": "text/plain"})


def test_post_and_get_answers_are_identical(stopped_runtime: Any) -> None:
    pecan, fast = _apps(*stopped_runtime)
    _store_workflow(pecan)
    ex_id = str(uuid.uuid4())
    start = json.dumps({"id": ex_id, "workflow_name": "rs_hello", "input": {"name": "x"}})
    created = fast.post("/v2/executions", start, headers=JSON, status=201).json
    assert created["id"] == ex_id and created["state"] == "RUNNING"
    # a client id that exists returns that execution: the same on both paths
    _same(pecan, fast, "POST", "/v2/executions", start.encode(), JSON)
    got = _same(pecan, fast, "GET", f"/v2/executions/{ex_id}")
    assert got.json["id"] == ex_id
    assert got.json["input"] == '{"name": "x", "greeting": "Hello"}'
    _same(pecan, fast, "GET", f"/v2/executions/{ex_id}/")
    _same(pecan, fast, "GET", f"/v2/executions/{ex_id}?fields=state,input")
    _same(pecan, fast, "GET", f"/v2/executions/{ex_id}", headers={
        "X-Wfaas-Precise-Times": "1"})
    _same(pecan, fast, "GET", "/v2/executions?limit=1")
    _same(pecan, fast, "GET", f"/v2/executions?include_output=true&marker={ex_id}")


@pytest.mark.parametrize(("method", "url", "body", "content_type", "status"), [
    ("POST", "/v2/executions", b"{not json", "application/json", 400),
    ("POST", "/v2/executions", b"[1, 2]", "application/json", 400),
    ("POST", "/v2/executions", b'{"workflow_name": "nope"}', "application/json", 404),
    ("POST", "/v2/executions", b"{}", "application/json", 400),
    ("POST", "/v2/executions", b'{"workflow_name": "rs_hello", "input": "[1"}',
     "application/json", 400),
    ("POST", "/v2/executions", b'{"workflow_name": "rs_hello", "id": "not-a-uuid"}',
     "application/json", 400),
    ("POST", "/v2/executions", b'{"workflow_name": "rs_hello", "input": {"a": NaN}}',
     "application/json", 400),
    ("POST", "/v2/executions", b"<xml/>", "application/xml", 415),
    ("POST", "/v2/executions", b'{"workflow_name": "rs_hello", "description": 5}',
     "application/json", 400),
    ("GET", "/v2/executions/missing", None, "", 404),
    ("GET", "/v2/executions/missing?fields=bogus", None, "", 400),
    ("GET", "/v2/executions/missing?bogus=1", None, "", 400),
    ("GET", "/v2/executions/missing?wait=soon", None, "", 400),
    ("GET", "/v2/executions?marker=missing", None, "", 400),
    ("GET", "/v2/executions?sort_keys=bogus", None, "", 400),
    ("GET", "/v2/executions?limit=0", None, "", 400),
    ("GET", "/v2/executions?state=lt:RUNNING&limit=x", None, "", 400),
    ("PUT", "/v2/executions", b"{}", "application/json", 405),
    # a query that is not UTF-8: Pecan's Request answers 400, the fast path's plain
    # webob Request raises UnicodeDecodeError, which FastPath turns into the same 400
    ("GET", "/v2/executions/missing?all_projects=%ff", None, "", 400),
    ("GET", "/v2/executions?limit=%ff%fe", None, "", 400),
    ("POST", "/v2/executions?x=%c3", b'{"workflow_name": "rs_hello"}', "application/json",
     400),
])
def test_errors_are_identical(stopped_runtime: Any, method: str, url: str,
                              body: bytes | None, content_type: str, status: int) -> None:
    pecan, fast = _apps(*stopped_runtime)
    _store_workflow(pecan)
    headers = {"Content-Type": content_type} if content_type else {}
    answer = _same(pecan, fast, method, url, body, headers)
    assert answer.status_int == status, answer.text
    assert answer.json["faultcode"] == "Client"


def test_auth_and_scoping_are_the_same(tmp_path: Any) -> None:
    conf = make_conf(tmp_path, **{"pecan.auth_enable": True})
    runtime = Runtime.from_config(conf)
    try:
        pecan, fast = _apps(runtime, conf)
        mine = {"X-Identity-Status": "Confirmed", "X-Project-Id": "p1", "X-User-Id": "u1",
                "X-Roles": "member"}
        other = {**mine, "X-Project-Id": "p2"}
        pecan.post("/v2/workflows", HELLO_WF.encode(),
                   headers={"Content-Type": "text/plain", **mine})
        ex_id = fast.post("/v2/executions", json.dumps({"workflow_name": "rs_hello",
                                                        "input": {"name": "x"}}),
                          headers={**JSON, **mine}, status=201).json["id"]
        assert _same(pecan, fast, "GET", f"/v2/executions/{ex_id}", headers=mine
                     ).status_int == 200
        assert _same(pecan, fast, "GET", f"/v2/executions/{ex_id}", headers=other
                     ).status_int == 404
        assert _same(pecan, fast, "GET", f"/v2/executions/{ex_id}").status_int == 401
        assert _same(pecan, fast, "POST", "/v2/executions",
                     json.dumps({"workflow_name": "rs_hello", "input": {"name": "y"}}).encode(),
                     {**JSON, **other}).status_int == 404
        listed = _same(pecan, fast, "GET", "/v2/executions", headers=other)
        assert listed.json["executions"] == []
    finally:
        runtime.close()
