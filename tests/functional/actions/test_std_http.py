"""std.http and std.mistral_http against a real HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from wfaas.actions.base import ActionContext, ExecutionContext
from wfaas.actions.registry import StdProvider
from wfaas.actions.runner import run_action
from wfaas.config import CONF

GROUP = "action_std_http"


class Handler(BaseHTTPRequestHandler):
    """Routes used by the tests; records every request on the server."""

    server: Server

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json",
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        self.server.requests.append({"method": self.command, "path": self.path,
                                     "headers": dict(self.headers.items()), "body": body})
        path = self.path.split("?")[0]
        if path == "/json":
            self._send(200, json.dumps({"hello": "world", "query": self.path}).encode(),
                       extra={"Set-Cookie": "sid=abc"})
        elif path == "/text":
            self._send(200, b"plain text", "text/plain; charset=utf-8")
        elif path == "/missing":
            self._send(404, b'{"error": "not here"}')
        elif path == "/redirect":
            self._send(302, b"", extra={"Location": "/json"})
        elif path == "/redirect-abs":
            port = self.server.server_address[1]
            self._send(302, b"", extra={"Location": f"http://127.0.0.1:{port}/json"})
        elif path == "/big":
            self._send(200, b"x" * 5000, "text/plain")
        elif path == "/slow":
            self.server.release.wait(5)
            self._send(200, b"{}")
        else:
            self._send(200, json.dumps({"method": self.command, "body": body}).encode())

    do_GET = do_POST = do_PUT = do_DELETE = _handle


class Server(ThreadingHTTPServer):
    """A loopback server remembering the requests it got."""

    daemon_threads = True
    requests: list[dict[str, Any]]
    release: threading.Event

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up early (size cap, timeout tests) are expected."""


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = Server(("127.0.0.1", 0), Handler)
    srv.requests = []
    srv.release = threading.Event()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def base(server: Server) -> Iterator[str]:
    CONF.set_override("allowed_hosts", ["127.0.0.1"], group=GROUP)
    server.requests.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    CONF.clear_override("allowed_hosts", group=GROUP)
    CONF.clear_override("max_response_size_bytes", group=GROUP)


@pytest.fixture(scope="module")
def provider() -> StdProvider:
    return StdProvider(include_resources=False)


def test_json_content_and_result_shape(provider: StdProvider, base: str) -> None:
    res = run_action(provider, "std.http", {"url": f"{base}/json", "params": {"q": "1"}})
    assert res.is_success(), res.error
    out = res.data
    assert out["content"] == {"hello": "world", "query": "/json?q=1"}
    assert out["status"] == 200 and out["reason"] == "OK"
    assert out["headers"]["Content-Type"] == "application/json"
    assert out["cookies"] == {"sid": "abc"}
    assert out["url"] == f"{base}/json?q=1" and out["history"] == []
    assert isinstance(out["elapsed"], float)
    assert set(out) == {"content", "status", "headers", "url", "history", "encoding",
                        "reason", "cookies", "elapsed"}
    json.dumps(out)  # the whole result is JSON-serialisable


def test_text_post_body_auth_and_redirect(provider: StdProvider, base: str,
                                          server: Server) -> None:
    res = run_action(provider, "std.http", {"url": f"{base}/text"})
    assert res.data["content"] == "plain text"
    res = run_action(provider, "std.http", {"url": f"{base}/echo", "method": "POST",
                                            "body": {"k": [1]}, "auth": "user:pw",
                                            "headers": {"X-Num": 3}})
    assert res.data["content"] == {"method": "POST", "body": '{"k": [1]}'}
    sent = server.requests[-1]["headers"]
    assert sent["Authorization"].startswith("Basic ") and sent["X-Num"] == "3"
    res = run_action(provider, "std.http", {"url": f"{base}/redirect"})
    assert res.data["status"] == 200 and res.data["history"][0]["status"] == 302


def test_error_status_is_an_error_result(provider: StdProvider, base: str) -> None:
    res = run_action(provider, "std.http", {"url": f"{base}/missing"})
    assert res.is_error()
    assert res.error["status"] == 404 and res.error["content"] == {"error": "not here"}


def test_egress_refused_when_loopback_not_allowed(provider: StdProvider, base: str,
                                                  server: Server) -> None:
    CONF.clear_override("allowed_hosts", group=GROUP)
    res = run_action(provider, "std.http", {"url": f"{base}/json"})
    assert res.is_error()
    assert "refusing to connect to 127.0.0.1" in res.error and "denied_cidrs" in res.error
    assert server.requests == []  # nothing was sent


def test_redirect_to_denied_host_is_refused(provider: StdProvider, base: str,
                                            server: Server) -> None:
    CONF.set_override("allowed_hosts", ["localhost"], group=GROUP)
    port = server.server_address[1]
    res = run_action(provider, "std.http", {"url": f"http://localhost:{port}/redirect"})
    assert res.is_success(), res.error  # relative redirect stays on the allowed host
    res = run_action(provider, "std.http", {"url": f"http://localhost:{port}/redirect-abs"})
    assert res.is_error() and "refusing to connect to 127.0.0.1" in res.error
    assert [r["path"] for r in server.requests] == ["/redirect", "/json", "/redirect-abs"]


def test_timeout(provider: StdProvider, base: str, server: Server) -> None:
    server.release.clear()
    try:
        res = run_action(provider, "std.http", {"url": f"{base}/slow", "timeout": 0.3})
    finally:
        server.release.set()
    assert res.is_error() and "ReadTimeout" in res.error


def test_response_size_cap(provider: StdProvider, base: str) -> None:
    CONF.set_override("max_response_size_bytes", 1000, group=GROUP)
    res = run_action(provider, "std.http", {"url": f"{base}/big"})
    assert res.is_error() and "over the limit of 1000 bytes" in res.error


def test_connection_refused_is_clear(provider: StdProvider, base: str) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = run_action(provider, "std.http", {"url": f"http://127.0.0.1:{port}/"})
    assert res.is_error() and "ConnectionError" in res.error


def test_mistral_http_sends_callback_headers(provider: StdProvider, base: str,
                                             server: Server) -> None:
    CONF.set_override("callback_base_url", "http://api.example:8989/", group=GROUP)
    try:
        ctx = ActionContext(execution=ExecutionContext(
            workflow_name="wf", workflow_execution_id="we-1", task_execution_id="t-1",
            action_execution_id="ae-1"))
        res = run_action(provider, "std.mistral_http", {"url": f"{base}/hook"}, ctx)
    finally:
        CONF.clear_override("callback_base_url", group=GROUP)
    assert res.sync is False and res.is_success() and res.data is None
    sent = server.requests[-1]["headers"]
    assert sent["Mistral-Workflow-Name"] == "wf"
    assert sent["Mistral-Workflow-Execution-Id"] == "we-1"
    assert sent["Mistral-Task-Id"] == "t-1"
    assert sent["Mistral-Action-Execution-Id"] == "ae-1"
    assert sent["Mistral-Callback-URL"] == "http://api.example:8989/v2/action_executions/ae-1"
