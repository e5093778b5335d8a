"""A fake wfaas server for the CLI unit tests: a requests transport adapter that
answers from a route table in memory (no sockets)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter

Reply = tuple[int, Any]
Handler = Callable[[requests.PreparedRequest], Reply]


class FakeAdapter(BaseAdapter):
    """Answers ``(METHOD, path)`` from ``routes``; records every request."""

    def __init__(self) -> None:
        super().__init__()
        self.routes: dict[tuple[str, str], Handler | Reply | list[Reply]] = {}
        self.requests: list[requests.PreparedRequest] = []
        self.refuse = False

    def on(self, method: str, path: str, reply: Handler | Reply | list[Reply]) -> None:
        """Register a reply (a list is served in order, the last one repeats)."""
        self.routes[(method, path)] = reply

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.requests.append(request)
        if self.refuse:
            raise requests.exceptions.ConnectionError(
                "HTTPConnectionPool: Max retries exceeded ([Errno 111] Connection refused)")
        path = urlsplit(request.url or "").path
        reply = self.routes.get((request.method or "", path))
        if reply is None:
            status, body = 404, {"faultstring": f"Resource not found [url={path}]"}
        elif callable(reply):
            status, body = reply(request)
        elif isinstance(reply, list):
            status, body = reply.pop(0) if len(reply) > 1 else reply[0]
        else:
            status, body = reply
        response = requests.Response()
        response.status_code = status
        response.url = request.url or ""
        response.request = request
        if isinstance(body, str):
            response._content = body.encode()
            response.headers["Content-Type"] = "text/html"
        else:
            response._content = b"" if body is None else json.dumps(body).encode()
            response.headers["Content-Type"] = "application/json"
        return response

    def close(self) -> None:
        pass

    def last(self, method: str | None = None) -> requests.PreparedRequest:
        """The latest request (of ``method``)."""
        return [r for r in self.requests if method is None or r.method == method][-1]

    def query(self, request: requests.PreparedRequest) -> dict[str, str]:
        """The query parameters of a recorded request."""
        return dict(parse_qsl(urlsplit(request.url or "").query, keep_blank_values=True))

    @staticmethod
    def body(request: requests.PreparedRequest) -> Any:
        """The decoded JSON body of a recorded request."""
        raw = request.body
        return json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAdapter]:
    """Every requests.Session created by the client talks to one FakeAdapter."""
    adapter = FakeAdapter()
    real = requests.Session

    def session() -> requests.Session:
        s = real()
        s.mount("http://", adapter)
        s.mount("https://", adapter)
        return s

    monkeypatch.setattr("wfaas.client.http.requests.Session", session)
    for var in ("WFAAS_URL", "OS_AUTH_URL", "OS_TOKEN", "OS_AUTH_TOKEN", "OS_USERNAME",
                "OS_PASSWORD", "OS_PROJECT_NAME", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    yield adapter
